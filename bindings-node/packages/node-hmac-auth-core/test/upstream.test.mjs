// Every upstream test case of spec §4 (clients, http-middleware, allowed-ips, secret
// policies, verify-signature, message-auth, signed-fetch), run against each backend:
// a real node-redis v4 client, a Redis URL (core-side I/O), the embedded memory store,
// the original's FakeRedis and an ioredis-style lowercase fake.
import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import * as core from '../lib/index.js'
import {
  BACKENDS,
  makeBackend,
  uniqueNamespace,
  cleanupNamespace,
  isRealRedis,
  closeRedis,
  signedHeaders,
  mockRes,
} from './helpers.mjs'

const {
  initializeHmacHttpAuth,
  initializeHmacMessageAuth,
  hashClientSecret,
  verifyHttpSignature,
  signMessage,
  verifyMessage,
  HmacAuthError,
} = core

after(closeRedis)

function withNs(kind, name) {
  const ns = uniqueNamespace(name)
  if (isRealRedis(kind)) after(() => cleanupNamespace(ns))
  return ns
}

async function rejectsWith(promise, expected) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof HmacAuthError, `expected HmacAuthError, got ${e?.constructor?.name}: ${e?.message}`)
    for (const [k, v] of Object.entries(expected)) assert.equal(e[k], v, k)
    return true
  })
}

for (const kind of BACKENDS) {
  describe(`[${kind}] clients.test.ts`, () => {
    test('create/list/regenerate/delete', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_admin'), maxSkewMs: 5000 })
      const created = await auth.clients.create({ clientId: 'client_admin', expiresAt: Date.now() + 60000, secretLengthBytes: 16 })
      assert.equal(created.clientId, 'client_admin')
      assert.equal(created.secret.length, 32)
      assert.ok(created.secretHash)
      assert.deepEqual(created.allowedIps, [])
      assert.deepEqual(Object.keys(created), ['clientId', 'secretHash', 'createdAt', 'updatedAt', 'expiresAt', 'allowedIps', 'secret'])
      assert.ok((await auth.clients.listClientIds()).includes('client_admin'))
      const regenerated = await auth.clients.regenerateSecret('client_admin')
      assert.equal(regenerated.clientId, 'client_admin')
      assert.notEqual(regenerated.secret, created.secret)
      assert.deepEqual(regenerated.allowedIps, [])
      await auth.clients.delete('client_admin')
      assert.equal(await auth.clients.get('client_admin'), null)
    })

    test('create with plainSecret gives a deterministic hash', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_plain_secret') })
      const a = await auth.clients.create({ clientId: 'client_a', plainSecret: 'helloworld' })
      const c = await auth.clients.create({ clientId: 'client_b', plainSecret: 'helloworld' })
      assert.equal(a.secret, 'helloworld')
      assert.equal(c.secret, 'helloworld')
      assert.equal(a.secretHash, c.secretHash)
      assert.equal(a.secretHash, hashClientSecret('helloworld'))
      assert.equal(a.secretHash, '936a185caaa266bb9cbe981e9e05cb78cd732b0b3280eb944412bb6f8f8f07af')
      assert.equal((await auth.clients.get('client_a')).secretHash, a.secretHash)
    })

    test('empty plainSecret is rejected', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_empty_secret') })
      await assert.rejects(auth.clients.create({ clientId: 'client_empty', plainSecret: '   ' }), {
        message: 'plainSecret cannot be empty',
      })
    })

    test('regenerateSecret with plainSecret', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_regen_plain_secret') })
      await auth.clients.create({ clientId: 'client_regen', plainSecret: 'first_secret' })
      const r = await auth.clients.regenerateSecret('client_regen', { plainSecret: 'my_custom_secret' })
      assert.equal(r.secret, 'my_custom_secret')
      assert.equal(r.secretHash, hashClientSecret('my_custom_secret'))
      assert.equal((await auth.clients.get('client_regen')).secretHash, hashClientSecret('my_custom_secret'))
    })

    test('allowedIps lifecycle', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_allowed_ips_lifecycle') })
      const id = 'client_ips'
      const created = await auth.clients.create({ clientId: id, plainSecret: 's', allowedIps: ['10.0.0.1', '10.0.0.0/24'] })
      assert.deepEqual(created.allowedIps, ['10.0.0.1', '10.0.0.0/24'])
      await auth.clients.setAllowedIps(id, ['172.16.1.5', '172.16.0.0/16'])
      assert.deepEqual((await auth.clients.get(id)).allowedIps, ['172.16.1.5', '172.16.0.0/16'])
      await auth.clients.setSecret(id, 'secret_rotated', undefined, ['192.168.1.1'])
      assert.deepEqual((await auth.clients.get(id)).allowedIps, ['192.168.1.1'])
      const r = await auth.clients.regenerateSecret(id, { plainSecret: 'secret_rotated_again', allowedIps: ['203.0.113.0/24'] })
      assert.deepEqual(r.allowedIps, ['203.0.113.0/24'])
    })

    test('random regeneration length', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_regen_random') })
      await auth.clients.create({ clientId: 'c', plainSecret: 'seed_secret' })
      const r = await auth.clients.regenerateSecret('c', { secretLengthBytes: 24 })
      assert.equal(r.secret.length, 48)
      assert.match(r.secret, /^[0-9a-f]{48}$/)
    })
  })

  describe(`[${kind}] http-middleware.test.ts`, () => {
    test('verifyHttpRequest, createHttpMiddleware() and createExpressHttpMiddleware() authenticate', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_middleware'), maxSkewMs: 5000 })
      await auth.clients.setSecret('app_a', 'secret_a')
      const body = JSON.stringify({ ok: true })
      const forms = [auth.verifyHttpRequest, auth.createHttpMiddleware(), auth.createExpressHttpMiddleware()]
      assert.equal(auth.createHttpMiddleware, auth.createExpressHttpMiddleware)
      let i = 0
      for (const mw of forms) {
        i += 1
        const headers = signedHeaders({
          method: 'POST',
          url: '/secure/post',
          body,
          clientId: 'app_a',
          secret: 'secret_a',
          nonce: `nonce_mw_${i}`,
          timestamp: Date.now() + i - 1,
        })
        const req = { method: 'POST', originalUrl: '/secure/post', url: '/secure/post', headers, rawBody: body }
        const res = mockRes()
        let nextCalls = 0
        let nextArg = 'unset'
        await mw(req, res, (arg) => {
          nextCalls += 1
          nextArg = arg
        })
        assert.equal(nextCalls, 1, `next called once (status ${res.statusCode} ${JSON.stringify(res.body)})`)
        assert.equal(nextArg, undefined)
        assert.equal(req.hmacAuth.clientId, 'app_a')
      }
    })
  })

  describe(`[${kind}] http-verify-allowed-ips.test.ts`, () => {
    test('IP/CIDR allow-list', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_ip_allowlist') })
      await auth.clients.create({ clientId: 'ip_locked_client', plainSecret: 'secret_ip_lock', allowedIps: ['195.7.8.9', '195.7.8.0/24'] })
      const ts = Date.now()
      const req = (nonce, timestamp, metadata) => ({
        method: 'GET',
        path: '/secure/get',
        headers: signedHeaders({ method: 'GET', url: '/secure/get', clientId: 'ip_locked_client', secret: 'secret_ip_lock', nonce, timestamp }),
        rawBody: '',
        now: timestamp,
        metadata,
      })
      const ok = await auth.verifyHttpSignature(req('nonce_ip_allowed_exact', ts, { ip: '195.7.8.9' }))
      assert.equal(ok.clientId, 'ip_locked_client')
      const cidr = await auth.verifyHttpSignature(req('nonce_ip_allowed_cidr', ts + 1, { ip: '195.7.8.44' }))
      assert.equal(cidr.clientId, 'ip_locked_client')
      await rejectsWith(auth.verifyHttpSignature(req('nonce_ip_denied', ts + 2, { ip: '8.8.8.8' })), {
        code: 'CLIENT_IP_NOT_ALLOWED',
        status: 403,
        message: "Client IP '8.8.8.8' is not allowed for clientId 'ip_locked_client'",
      })
    })

    test('IP missing', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_ip_required') })
      await auth.clients.create({ clientId: 'ip_client', plainSecret: 's', allowedIps: ['195.7.8.9'] })
      const ts = Date.now()
      const headers = signedHeaders({ method: 'GET', url: '/x', clientId: 'ip_client', secret: 's', nonce: 'n', timestamp: ts })
      await rejectsWith(auth.verifyHttpSignature({ method: 'GET', path: '/x', headers, rawBody: '', now: ts }), {
        code: 'MISSING_CLIENT_IP',
        status: 403,
      })
    })
  })

  describe(`[${kind}] http-verify-secret-policies.test.ts`, () => {
    test('expired credential', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_expired') })
      await auth.clients.setSecret('exp_client', 'secret_a', Date.now() - 1000)
      const ts = Date.now()
      const headers = signedHeaders({ method: 'GET', url: '/health', clientId: 'exp_client', secret: 'secret_a', nonce: 'n', timestamp: ts })
      await rejectsWith(auth.verifyHttpSignature({ method: 'GET', path: '/health', headers, rawBody: '' }), {
        code: 'CLIENT_EXPIRED',
        status: 401,
        message: 'Client secret has expired',
      })
    })

    test('secretToken gives deterministic peppered hashes', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_token'), secretToken: 'abc' })
      const a = await auth.clients.create({ clientId: 'client_a', plainSecret: 'helloworld' })
      const c = await auth.clients.create({ clientId: 'client_b', plainSecret: 'helloworld' })
      assert.equal(a.secretHash, c.secretHash)
      assert.equal(a.secretHash, hashClientSecret('helloworld', 'abc'))
      assert.equal(a.secretHash, '0105ed202884013134511a8b6418ff91a7d2f9b61b7831cd107d73a4fe646e7c')
      assert.notEqual(a.secretHash, hashClientSecret('helloworld'))
    })

    test('tokenized verify', async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'tenant_token_verify')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns, secretToken: 'abc' })
      await auth.clients.setSecret('app_a', 'secret_a')
      assert.equal(await auth.clients.getSecretHash('app_a'), 'ba6fab075946aa6dbf432a0062bfb1f1be67ad1730fe9acf4f11043bcb9cf38e')
      const ts = Date.now()
      const good = signedHeaders({ method: 'GET', url: '/t', clientId: 'app_a', secret: 'secret_a', hashToken: 'abc', nonce: 'nonce_token', timestamp: ts })
      const ok = await auth.verifyHttpSignature({ method: 'GET', path: '/t', headers: good, rawBody: '', now: ts })
      assert.equal(ok.clientId, 'app_a')
      const bad = signedHeaders({ method: 'GET', url: '/t', clientId: 'app_a', secret: 'secret_a', nonce: 'nonce_no_token', timestamp: ts })
      await rejectsWith(auth.verifyHttpSignature({ method: 'GET', path: '/t', headers: bad, rawBody: '', now: ts }), { code: 'BAD_SIGNATURE' })
    })
  })

  describe(`[${kind}] http-verify-signature.test.ts`, () => {
    test('happy path', async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'tenant_a')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns })
      await auth.clients.setSecret('app_a', 'secret_a')
      const ts = Date.now()
      const body = '{"hello":"world"}'
      const headers = signedHeaders({ method: 'POST', url: '/v1/messages?x=1', body, clientId: 'app_a', secret: 'secret_a', nonce: 'nonce_1', timestamp: ts })
      const r = await auth.verifyHttpSignature({ method: 'POST', path: '/v1/messages?x=1', headers, rawBody: body, now: ts })
      assert.deepEqual(r, { clientId: 'app_a', timestamp: ts, nonce: 'nonce_1', signature: headers['x-signature'] })
      assert.ok(await b.raw.hexists(`${ns}:clients`))
      assert.ok(await b.raw.hget(`${ns}:clients`, 'app_a'))
    })

    test('replay', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_replay') })
      await auth.clients.setSecret('app_a', 'secret_a')
      const ts = Date.now()
      const headers = signedHeaders({ method: 'GET', url: '/health', clientId: 'app_a', secret: 'secret_a', nonce: 'same_nonce', timestamp: ts })
      const input = { method: 'GET', path: '/health', headers, rawBody: '', now: ts }
      await auth.verifyHttpSignature(input)
      await rejectsWith(auth.verifyHttpSignature(input), { code: 'REPLAYED_NONCE', status: 401, message: 'Nonce already used' })
    })

    test('missing client id (standalone verifyHttpSignature)', async () => {
      const b = await makeBackend(kind)
      const ts = Date.now()
      const h = core.buildHttpSignedHeaders({ method: 'GET', url: '/health', body: '', clientId: 'app_a', secret: 'secret_a', nonce: 'n', timestamp: ts })
      h.delete('x-client-id')
      await rejectsWith(
        verifyHttpSignature({
          method: 'GET',
          path: '/health',
          headers: Object.fromEntries(h.entries()),
          rawBody: '',
          redis: b.redis,
          namespace: withNs(kind, 'tenant_b'),
          maxSkewMs: 5000,
          now: ts,
        }),
        { code: 'MISSING_CLIENT_ID', status: 401, message: 'Missing header x-client-id' },
      )
    })

    test('unknown client / wrong secret', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_c') })
      await auth.clients.setSecret('known_client', 'server_secret')
      const ts = Date.now()
      const unknown = signedHeaders({ method: 'GET', url: '/health', clientId: 'unknown_client', secret: 'x', nonce: 'n1', timestamp: ts })
      await rejectsWith(auth.verifyHttpSignature({ method: 'GET', path: '/health', headers: unknown, rawBody: '', now: ts }), {
        code: 'UNKNOWN_CLIENT',
        status: 401,
      })
      const wrong = signedHeaders({ method: 'GET', url: '/health', clientId: 'known_client', secret: 'wrong_secret', nonce: 'n2', timestamp: ts })
      await rejectsWith(auth.verifyHttpSignature({ method: 'GET', path: '/health', headers: wrong, rawBody: '', now: ts }), {
        code: 'BAD_SIGNATURE',
        status: 401,
        message: 'Invalid HMAC signature',
      })
    })

    test('onBadSignature callback', async () => {
      const b = await makeBackend(kind)
      const events = []
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_cb'), onBadSignature: (e) => events.push(e) })
      await auth.clients.setSecret('known_client', 'server_secret')
      const ts = Date.now()
      const headers = signedHeaders({ method: 'GET', url: '/health', clientId: 'known_client', secret: 'wrong_secret', nonce: 'nonce_callback', timestamp: ts })
      await rejectsWith(
        auth.verifyHttpSignature({ method: 'GET', path: '/health', headers, rawBody: '', now: ts, metadata: { source: 'unit-test' } }),
        { code: 'BAD_SIGNATURE' },
      )
      assert.equal(events.length, 1)
      const e = events[0]
      assert.equal(e.clientId, 'known_client')
      assert.equal(e.method, 'GET')
      assert.equal(e.path, '/health')
      assert.equal(e.timestamp, ts)
      assert.equal(e.nonce, 'nonce_callback')
      assert.equal(e.receivedSignature, headers['x-signature'])
      assert.equal(e.expectedSignature.length, 64)
      assert.deepEqual(e.metadata, { source: 'unit-test' })
      // The expected signature is the one a correct client would have sent.
      const right = signedHeaders({ method: 'GET', url: '/health', clientId: 'known_client', secret: 'server_secret', nonce: 'nonce_callback', timestamp: ts })
      assert.equal(e.expectedSignature, right['x-signature'])
    })

    test('a throwing callback', async () => {
      const b = await makeBackend(kind)
      let calls = 0
      const auth = initializeHmacHttpAuth({
        redis: b.redis,
        namespace: withNs(kind, 'tenant_cb_throw'),
        onBadSignature: async () => {
          calls += 1
          throw new Error('callback failure')
        },
      })
      await auth.clients.setSecret('known_client', 'server_secret')
      const ts = Date.now()
      const headers = signedHeaders({ method: 'GET', url: '/health', clientId: 'known_client', secret: 'wrong', nonce: 'n', timestamp: ts })
      await rejectsWith(auth.verifyHttpSignature({ method: 'GET', path: '/health', headers, rawBody: '', now: ts }), { code: 'BAD_SIGNATURE' })
      assert.equal(calls, 1)
    })
  })

  describe(`[${kind}] message-auth.test.ts`, () => {
    test('Redis-backed sign/verify, no replay protection', async () => {
      const b = await makeBackend(kind)
      const msg = initializeHmacMessageAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_msg') })
      await msg.clients.setSecret('app_msg', 'msg_secret')
      const signed = await msg.signMessage({ clientId: 'app_msg', message: { event: 'order.created', id: 42 } })
      assert.equal(signed.signature, 'ee0acb29893dafac311f1d9da14d106e3acfcd48b94582fbdf78ca134787211f')
      const v1 = await msg.verifyMessage({ clientId: 'app_msg', message: { id: 42, event: 'order.created' }, signature: signed.signature })
      assert.equal(v1.clientId, 'app_msg')
      assert.equal(v1.messageHash, signed.messageHash)
      const v2 = await msg.verifyMessage({ clientId: 'app_msg', message: { id: 42, event: 'order.created' }, signature: signed.signature })
      assert.equal(v2.signature, signed.signature)
      await rejectsWith(msg.verifyMessage({ clientId: 'unknown_msg', message: {}, signature: signed.signature }), { code: 'UNKNOWN_CLIENT', status: 401 })
      await rejectsWith(msg.signMessage({ clientId: 'unknown_msg', message: {} }), {
        code: 'CLIENT_NOT_FOUND',
        status: 404,
        message: 'Cannot sign message: client not found',
      })
      await rejectsWith(msg.verifyMessage({ clientId: 'app_msg', message: { id: 43, event: 'order.created' }, signature: signed.signature }), {
        code: 'BAD_SIGNATURE',
        message: 'Invalid message signature',
      })
    })

    test('message regenerateSecret with plainSecret', async () => {
      const b = await makeBackend(kind)
      const msg = initializeHmacMessageAuth({ redis: b.redis, namespace: withNs(kind, 'tenant_msg_regen_plain') })
      await msg.clients.create({ clientId: 'app_msg_regen', plainSecret: 'initial_msg_secret' })
      const r = await msg.clients.regenerateSecret('app_msg_regen', { plainSecret: 'custom_msg_secret' })
      assert.equal(r.secret, 'custom_msg_secret')
      assert.equal(r.secretHash, hashClientSecret('custom_msg_secret'))
      assert.equal((await msg.clients.get('app_msg_regen')).secretHash, hashClientSecret('custom_msg_secret'))
    })
  })
}

describe('message-auth.test.ts (pure)', () => {
  test('low-level sign/verify', () => {
    const s = signMessage({ clientId: 'app_msg', secret: 'msg_secret', message: { z: 3, a: 1, nested: { y: true, x: 'ok' } } })
    assert.equal(s.clientId, 'app_msg')
    assert.equal(s.messageHash, 'cbcaf201a7d2327c31e87bc5ae5727a3b50aabb2132e71a9fa16827dd071d669')
    assert.equal(s.signature, 'cf40c33faea919d865fa6ca7700a0a39fe8c735725d7ab144ccf99b29fd637ab')
    const base = { clientId: 'app_msg', secret: 'msg_secret', signature: s.signature }
    assert.equal(verifyMessage({ ...base, message: { a: 1, nested: { x: 'ok', y: true }, z: 3 } }), true)
    assert.equal(verifyMessage({ ...base, message: { a: 1, nested: { x: 'ok', y: false }, z: 3 } }), false)
  })
})

describe('signed-fetch.test.ts', () => {
  test('signedHttpFetch', async () => {
    const calls = []
    const fetchImpl = async (url, init) => {
      calls.push([url, init])
      return new Response('ok')
    }
    await core.signedHttpFetch('https://api.example.com/v1/ping', {
      method: 'POST',
      body: { ok: true },
      clientId: 'app_a',
      secret: 'secret_a',
      timestamp: 1000,
      nonce: 'nonce_1',
      fetchImpl,
    })
    assert.equal(calls.length, 1)
    const [url, init] = calls[0]
    assert.equal(url, 'https://api.example.com/v1/ping')
    assert.equal(init.headers.get('x-client-id'), 'app_a')
    assert.equal(init.headers.get('x-signature'), '2d05753ec145808095b935b492de665d9737c858df14b84757b9f62acbd72d49')
    assert.equal(init.headers.get('x-timestamp'), '1000')
    assert.equal(init.headers.get('x-nonce'), 'nonce_1')
    assert.equal(init.headers.get('content-type'), 'application/json')
    assert.equal(init.body, '{"ok":true}')
    assert.equal(init.method, 'POST')
    assert.equal(init.secret, undefined, 'the secret is not forwarded to fetch')
  })

  test('createHttpSignedFetchClient', async () => {
    const calls = []
    const client = core.createHttpSignedFetchClient({
      clientId: 'local_client',
      secret: 'local_secret',
      fetchImpl: async (url, init) => {
        calls.push([url, init])
        return new Response('ok')
      },
    })
    await client('https://api.example.com/v1/ping?b=2&a=1#frag', { method: 'GET', timestamp: 1000, nonce: 'nonce_1' })
    assert.equal(calls.length, 1)
    const h = calls[0][1].headers
    assert.equal(h.get('x-client-id'), 'local_client')
    assert.match(h.get('x-signature'), /^[0-9a-f]{64}$/)
    // Signed with hashClientSecret(secret) over the normalised path + query.
    const expected = core.signRequest({
      method: 'GET',
      path: '/v1/ping?b=2&a=1',
      timestamp: 1000,
      nonce: 'nonce_1',
      body: '',
      secret: hashClientSecret('local_secret'),
    })
    assert.equal(h.get('x-signature'), expected)
    assert.equal(calls[0][1].body, undefined)
  })
})
