// The app of scripts/npm-alias-app.sh (run by scripts/node.sh on the debug tarballs and by
// scripts/dist-test.sh on those of `make dist`): installed from the npm tarballs under the
// original package names (aliases), with no Rust toolchain on PATH, it exercises each package
// and the binary of the per-platform package. helpers.mjs (the in-memory management adapter
// of the propagation tests) is copied next to it.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import * as hmac from '@naskot/node-hmac-auth-core'
import { createPropagator, HmacPropagationError } from '@naskot/node-hmac-auth-core-propagation'
import { PasswordService, TokenService, native } from '@nik2208/node-auth'
import { create_audit_log_sse } from '@fuzdev/fuz_app/realtime/sse_auth_guard.js'
import { create_sse_response } from '@fuzdev/fuz_app/realtime/sse.js'
import { hash_session_token } from '@fuzdev/fuz_app/auth/session_queries.js'
import { MemoryManagement, waitFor } from './helpers.mjs'

const require = createRequire(import.meta.url)
const done = []

// The binary is the per-platform package's, not one next to the loader.
const binary = join('node_modules', '@authcore', 'native-linux-x64-gnu', 'authcore.linux-x64-gnu.node')
assert.ok(existsSync(binary), binary)
assert.ok(!existsSync(join('node_modules', '@authcore', 'native', 'authcore.linux-x64-gnu.node')))
assert.equal(require.resolve('@authcore/native-linux-x64-gnu'), join(process.cwd(), binary))

// @naskot/node-hmac-auth-core: the upstream appendix vector, then a signed HTTP round trip
// through the middleware on an embedded store.
const HASH = 'eed3621935ff386c8af9282a64096fa5c4f52a44a162d86b311ee2f1434ced04'
assert.equal(hmac.hashClientSecret('secret_a'), HASH)
assert.equal(
  hmac.signRequest({ method: 'post', path: '/v1/messages?x=1', timestamp: 1700000000000, nonce: 'nonce_1', body: '{"hello":"world"}', secret: HASH }),
  '9fdc401b7eb309409286a40e661c1f672d4c6de470713241ac8b9d1993957f63',
)
const auth = hmac.initializeHmacHttpAuth({ redis: 'memory://' })
await auth.clients.setSecret('orders', 's3cret')
const mw = auth.createHttpMiddleware()
const server = http.createServer((req, res) => {
  mw(req, res, (err) => {
    res.setHeader('content-type', 'application/json')
    if (err) {
      // Express-style: the middleware hands its HmacAuthError to next().
      assert.ok(err instanceof hmac.HmacAuthError, String(err))
      res.statusCode = err.status
      res.end(JSON.stringify({ error: err.code, message: err.message }))
      return
    }
    res.end(JSON.stringify({ caller: req.hmacAuth.clientId }))
  })
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const url = `http://127.0.0.1:${server.address().port}/api/orders`
try {
  const ok = await auth.createHttpSignedFetchClient({ clientId: 'orders', secret: 's3cret' })(url)
  assert.deepEqual([ok.status, await ok.json()], [200, { caller: 'orders' }])
  const bad = await hmac.createHttpSignedFetchClient({ clientId: 'orders', secret: 'wrong' })(url)
  assert.deepEqual([bad.status, await bad.json()], [401, { error: 'BAD_SIGNATURE', message: 'Invalid HMAC signature' }])
  const unsigned = await fetch(url)
  assert.deepEqual([unsigned.status, await unsigned.json()], [401, { error: 'MISSING_CLIENT_ID', message: 'Missing header x-client-id' }])
} finally {
  server.close()
}
done.push('node-hmac-auth-core')

// @naskot/node-hmac-auth-core-propagation: two peers on the in-process mesh.
const sfx = `${process.pid}-${Date.now()}`
const mesh = { amqpProtocol: 'memory', amqpHost: `dist-${sfx}`, amqpPort: 5672, amqpUser: 'guest', amqpPassword: 'guest', redis: 'memory://' }
const authA = hmac.initializeHmacHttpAuth({ redis: `memory://a-${sfx}` })
const authB = hmac.initializeHmacHttpAuth({ redis: `memory://b-${sfx}` })
const management = new MemoryManagement({ [`b-${sfx}`]: 'secret-b' })
const a = await createPropagator({ ...mesh, amqpQueue: `a-${sfx}`, propagationSecret: 'secret-a', hmacHttpAuth: authA, management })
const b = await createPropagator({ ...mesh, amqpQueue: `b-${sfx}`, propagationSecret: 'secret-b', hmacHttpAuth: authB })
try {
  await a.ensure({ clientId: 'partner', secret: 'plain', targets: [`b-${sfx}`] })
  assert.equal((await a.sync()).targetsPublished, 1)
  await waitFor('the hash on b', async () => (await authB.clients.getSecretHash('partner')) !== null)
  assert.equal(await authB.clients.getSecretHash('partner'), await authA.clients.getSecretHash('partner'))
} finally {
  await a.close()
  await b.close()
}
await assert.rejects(createPropagator({}), (e) => e instanceof HmacPropagationError && e.code === 'INVALID_OPTIONS')
done.push('node-hmac-auth-core-propagation')

// @nik2208/node-auth: passwords (bcrypt, argon2id on the libuv pool) and tokens.
const ps = new PasswordService()
const h = await ps.hash('pw')
assert.ok(h.startsWith('$2'))
assert.equal(await ps.compare('pw', h), true)
assert.equal(await ps.compare('nope', h), false)
assert.equal(await native.argon2Verify('pw', await native.argon2Hash('pw')), true)
const cfg = { accessTokenSecret: 'a'.repeat(32), refreshTokenSecret: 'b'.repeat(32) }
const tokens = new TokenService()
const pair = tokens.generateTokenPair({ sub: 'u1', email: 'u1@example.com' }, cfg)
assert.equal(tokens.verifyAccessToken(pair.accessToken, cfg).sub, 'u1')
done.push('node-auth-core')

// @fuzdev/fuz_app: a session_revoke audit event closes the session's SSE stream.
const lines = []
const log = { info: (m) => lines.push(m), warn() {}, error() {} }
const sse = create_audit_log_sse({ log })
const { response, stream } = create_sse_response(null, log)
const sid = hash_session_token('tok')
stream.on_close(sse.subscribe(stream, { channels: ['audit_log'], scope: sid, groups: ['acct'] }))
sse.on_audit_event({
  id: 'e', seq: 1, event_type: 'session_revoke', outcome: 'success', actor_id: null, account_id: 'acct',
  target_account_id: null, target_actor_id: null, ip: null, created_at: 't', metadata: { session_id: sid },
})
const body = await response.text()
assert.ok(body.startsWith(': connected\n\ndata: {"method":"session_revoke"'), body)
assert.equal(sse.registry.count, 0)
assert.deepEqual(lines, [`SSE auth guard: closed 1 stream(s) for session ${sid} (session_revoke)`])
done.push('fuz-app-realtime')

console.log(`npm alias app: ${done.join(', ')}: ok (${done.length} passed, 0 failed)`)
