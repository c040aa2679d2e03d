// What would be published is what is tested: the tarballs scripts/pack-node.sh made
// (scripts/node.sh runs it first) are installed into a fresh app, which imports every
// fuz_app subpath from ESM and CommonJS and runs the guard end to end.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const pkgDir = resolve(here, '..')
const nativeDir = resolve(pkgDir, '..', '..')
const packs = resolve(nativeDir, '..', 'target', 'npm-packs')
const own = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
function tarball(name, ver) {
  const f = join(packs, `${name.replace('@', '').replace('/', '-')}-${ver}.tgz`)
  assert.ok(existsSync(f), `${f} is made by scripts/pack-node.sh (scripts/node.sh runs it)`)
  return `file:${f}`
}

const ESM_APP = `
import { SubscriberRegistry } from '@authcore/fuz-app-realtime/realtime/subscriber_registry.js'
import { create_audit_log_sse, disconnect_event_types } from '@authcore/fuz-app-realtime/realtime/sse_auth_guard.js'
import { create_sse_response, SSE_CONNECTED_COMMENT } from '@authcore/fuz-app-realtime/realtime/sse.js'
import { AUDIT_EVENT_TYPES } from '@authcore/fuz-app-realtime/auth/audit_log_schema.js'
import { DEFAULT_AUDIT_STREAM_ROLE } from '@authcore/fuz-app-realtime/auth/audit_log_route_schema.js'
import { hash_session_token } from '@authcore/fuz-app-realtime/auth/session_queries.js'
const lines = []
const log = { info: (m) => lines.push(m), warn() {}, error() {} }
const sse = create_audit_log_sse({ log })
const { response, stream } = create_sse_response(null, log)
const sid = hash_session_token('tok')
stream.on_close(sse.subscribe(stream, { channels: ['audit_log'], scope: sid, groups: ['acct'] }))
const ev = { id: 'e', seq: 1, event_type: 'session_revoke', outcome: 'success', actor_id: null, account_id: 'acct',
  target_account_id: null, target_actor_id: null, ip: null, created_at: 't', metadata: { session_id: sid } }
sse.on_audit_event(ev)
const body = await response.text()
console.log(JSON.stringify({ body, lines, count: sse.registry.count, registry: sse.registry instanceof SubscriberRegistry,
  types: AUDIT_EVENT_TYPES.length, role: DEFAULT_AUDIT_STREAM_ROLE, set: disconnect_event_types.size, c: SSE_CONNECTED_COMMENT }))
`
const CJS_APP = `
const { SubscriberRegistry } = require('@authcore/fuz-app-realtime/realtime/subscriber_registry.js')
const root = require('@authcore/fuz-app-realtime')
console.log(JSON.stringify({ same: root.SubscriberRegistry === SubscriberRegistry, keys: Object.keys(root).length }))
`

test('the packed tarballs install into a fresh app and work from ESM and CommonJS', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuz-app-realtime-'))
  try {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'fuz-app-realtime-app',
        private: true,
        type: 'module',
        dependencies: {
          '@authcore/fuz-app-realtime': tarball('@authcore/fuz-app-realtime', own(pkgDir)),
          '@authcore/native': tarball('@authcore/native', own(nativeDir)),
          '@authcore/native-linux-x64-gnu': tarball('@authcore/native-linux-x64-gnu', own(nativeDir)),
        },
      }),
    )
    writeFileSync(join(dir, 'app.mjs'), ESM_APP)
    writeFileSync(join(dir, 'app.cjs'), CJS_APP)
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe' })
    const r = JSON.parse(execFileSync(process.execPath, ['app.mjs'], { cwd: dir, encoding: 'utf8' }).trim())
    const hash = r.lines[0]?.match(/for session ([0-9a-f]{64}) /)?.[1]
    assert.ok(hash, JSON.stringify(r.lines))
    assert.deepEqual(r, {
      body: `: connected\n\ndata: {"method":"session_revoke","params":{"id":"e","seq":1,"event_type":"session_revoke","outcome":"success","actor_id":null,"account_id":"acct","target_account_id":null,"target_actor_id":null,"ip":null,"created_at":"t","metadata":{"session_id":"${hash}"}}}\n\n`,
      lines: [`SSE auth guard: closed 1 stream(s) for session ${hash} (session_revoke)`],
      count: 0,
      registry: true,
      types: 27,
      role: 'admin',
      set: 6,
      c: ': connected\n\n',
    })
    const c = JSON.parse(execFileSync(process.execPath, ['app.cjs'], { cwd: dir, encoding: 'utf8' }).trim())
    assert.deepEqual(c, { same: true, keys: 20 })
    // The binary came from the per-platform package.
    assert.ok(existsSync(join(dir, 'node_modules', '@authcore', 'native-linux-x64-gnu', 'authcore.linux-x64-gnu.node')))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
