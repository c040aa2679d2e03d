// The alias app: an app written only against @naskot/node-hmac-auth-core, installed in a
// temporary directory from the tarballs `npm pack` makes (scripts/pack-node.sh; exactly
// what would be published: the drop-in, @authcore/native and the per-platform binary
// package) with "@naskot/node-hmac-auth-core" aliased to ours (express and redis from the
// npm cache), runs unchanged against the real Redis. The same install loads
// @authcore/node-auth-core from its tarball and hashes, verifies and signs with it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, copyFileSync, rmSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const here = dirname(fileURLToPath(import.meta.url))
const pkgDir = resolve(here, '..')
const require = createRequire(import.meta.url)
const version = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version
const packs = resolve(here, '..', '..', '..', '..', 'target', 'npm-packs')
function tarball(name, ver) {
  const f = join(packs, `${name.replace('@', '').replace('/', '-')}-${ver}.tgz`)
  assert.ok(existsSync(f), `${f} is made by scripts/pack-node.sh (scripts/node.sh runs it)`)
  return `file:${f}`
}
const own = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
const nativeDir = resolve(pkgDir, '..', '..')

const AUTH_APP = `
const { PasswordService, TokenService, native } = require('@authcore/node-auth-core')
;(async () => {
  const ps = new PasswordService()
  const h = await ps.hash('pw')
  const t = new TokenService()
  const cfg = { accessTokenSecret: 'a'.repeat(32), refreshTokenSecret: 'b'.repeat(32) }
  const pair = t.generateTokenPair({ sub: 'u1', email: 'u1@example.com' }, cfg)
  console.log(JSON.stringify({
    bcrypt: h.startsWith('$2'),
    ok: await ps.compare('pw', h),
    bad: await ps.compare('nope', h),
    sub: t.verifyAccessToken(pair.accessToken, cfg).sub,
    argon2: await native.passwordVerifyArgon2('pw', await native.passwordHashArgon2id('pw')),
  }))
})()
`
test('an app written for @naskot/node-hmac-auth-core runs unchanged on our package', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'naskot-alias-'))
  try {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'naskot-alias-app',
        private: true,
        type: 'module',
        dependencies: {
          '@naskot/node-hmac-auth-core': tarball('@authcore/node-hmac-auth-core', own(pkgDir)),
          '@authcore/node-auth-core': tarball('@authcore/node-auth-core', own(resolve(pkgDir, '..', 'node-auth-core'))),
          '@authcore/native': tarball('@authcore/native', own(nativeDir)),
          '@authcore/native-linux-x64-gnu': tarball('@authcore/native-linux-x64-gnu', own(nativeDir)),
          express: version('express'),
          redis: version('redis'),
          qrcode: version('qrcode'),
        },
      }),
    )
    copyFileSync(join(here, 'alias-app', 'app.mjs.fixture'), join(dir, 'app.mjs'))
    writeFileSync(join(dir, 'auth-app.cjs'), AUTH_APP)
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe' })
    const ns = `alias_${process.pid}_${Date.now()}`
    const out = execFileSync(process.execPath, ['app.mjs'], {
      cwd: dir,
      env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:6379', HMAC_NAMESPACE: ns },
      encoding: 'utf8',
    })
    const r = JSON.parse(out.trim().split('\n').pop())
    assert.deepEqual(r.post, [200, { caller: 'billing', order: { id: 7, items: [1, 2] } }])
    assert.deepEqual(r.get, [200, { ok: true, caller: 'billing' }])
    assert.deepEqual(r.wrongSecret, [401, { error: 'BAD_SIGNATURE', message: 'Invalid HMAC signature' }])
    assert.deepEqual(r.unsigned, [401, { error: 'MISSING_CLIENT_ID', message: 'Missing header x-client-id' }])
    assert.equal(r.errorClass, true)
    assert.deepEqual(Object.keys(r.stored), ['secretHash', 'createdAt', 'updatedAt', 'expiresAt', 'allowedIps'])
    assert.match(r.stored.secretHash, /^[0-9a-f]{64}$/)
    // The binary came from the per-platform package, not from a file next to the loader.
    assert.ok(existsSync(join(dir, 'node_modules', '@authcore', 'native-linux-x64-gnu', 'authcore.linux-x64-gnu.node')))
    assert.ok(!existsSync(join(dir, 'node_modules', '@authcore', 'native', 'authcore.linux-x64-gnu.node')))
    const a = JSON.parse(execFileSync(process.execPath, ['auth-app.cjs'], { cwd: dir, encoding: 'utf8' }).trim())
    assert.deepEqual(a, { bcrypt: true, ok: true, bad: false, sub: 'u1', argon2: true })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
