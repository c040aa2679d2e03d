// Replay under concurrency against the real Redis (exactly one of 1,000 concurrent
// verifications of one signed request is accepted, on the URL path and on the node-redis
// client path) and bad input (each gets the original's code and status; the process
// keeps running).
import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import * as core from '../lib/index.js'
import { uniqueNamespace, cleanupNamespace, closeRedis, redisClient, REDIS_URL, signedHeaders, mockRes, makeBackend, BACKENDS, isRealRedis } from './helpers.mjs'

const { initializeHmacHttpAuth, HmacAuthError } = core

after(closeRedis)

describe('replay under concurrency (real Redis)', () => {
  for (const path of ['redis-url', 'node-redis']) {
    test(`[${path}] 1,000 concurrent verifications of one request accept exactly one`, async () => {
      const ns = uniqueNamespace('replay1000')
      after(() => cleanupNamespace(ns))
      const redis = path === 'redis-url' ? REDIS_URL : await redisClient()
      const auth = initializeHmacHttpAuth({ redis, namespace: ns })
      await auth.clients.setSecret('app_a', 'secret_a')
      const body = JSON.stringify({ order: 42 })
      const headers = signedHeaders({ method: 'POST', url: '/pay', body, clientId: 'app_a', secret: 'secret_a' })
      const results = await Promise.allSettled(
        Array.from({ length: 1000 }, () => auth.verifyHttpSignature({ method: 'POST', path: '/pay', headers, rawBody: body })),
      )
      const accepted = results.filter((r) => r.status === 'fulfilled')
      const rejected = results.filter((r) => r.status === 'rejected')
      assert.equal(accepted.length, 1)
      assert.equal(rejected.length, 999)
      for (const r of rejected) {
        assert.ok(r.reason instanceof HmacAuthError, String(r.reason))
        assert.equal(r.reason.code, 'REPLAYED_NONCE')
        assert.equal(r.reason.status, 401)
      }
      const c = await redisClient()
      const keys = []
      for await (const k of c.scanIterator({ MATCH: `${ns}:nonce:*` })) keys.push(k)
      assert.deepEqual(keys, [`${ns}:nonce:app_a:${headers['x-nonce']}:${headers['x-timestamp']}`])
    })
  }

  test('[redis-url] 1,000 concurrent distinct requests are all accepted', async () => {
    const ns = uniqueNamespace('distinct1000')
    after(() => cleanupNamespace(ns))
    const auth = initializeHmacHttpAuth({ redis: REDIS_URL, namespace: ns })
    await auth.clients.setSecret('app_a', 'secret_a')
    const reqs = Array.from({ length: 1000 }, (_, i) => ({
      method: 'GET',
      path: `/r/${i}`,
      headers: signedHeaders({ method: 'GET', url: `/r/${i}`, clientId: 'app_a', secret: 'secret_a' }),
      rawBody: '',
    }))
    const results = await Promise.allSettled(reqs.map((r) => auth.verifyHttpSignature(r)))
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1000)
  })
})

describe('store failures', () => {
  test('an unreachable Redis URL answers 500 INTERNAL_ERROR in the middleware, rejects elsewhere', async () => {
    const auth = initializeHmacHttpAuth({ redis: 'redis://127.0.0.1:1', namespace: 'down' })
    const res = mockRes()
    const h = signedHeaders({ method: 'GET', url: '/x', clientId: 'a', secret: 's' })
    await auth.verifyHttpRequest({ method: 'GET', url: '/x', headers: h }, res, () => assert.fail('next must not run'))
    assert.deepEqual([res.statusCode, res.body], [500, { error: 'INTERNAL_ERROR', message: 'Internal auth error' }])
    await assert.rejects(auth.clients.get('a'), (e) => !(e instanceof HmacAuthError) && e.code === 'STORE_ERROR')
  })

  test('a RedisLikeClient that throws becomes INTERNAL_ERROR in the middleware', async () => {
    const broken = { hGet: async () => { throw new Error('ECONNRESET') }, hSet() {}, hDel() {}, hKeys() {}, get() {}, set() {}, del() {} }
    const mw = core.createExpressHttpHmacMiddleware({ redis: broken })
    const res = mockRes()
    const h = signedHeaders({ method: 'GET', url: '/x', clientId: 'a', secret: 's' })
    await mw({ method: 'GET', url: '/x', headers: h }, res, () => assert.fail('next must not run'))
    assert.deepEqual([res.statusCode, res.body.error], [500, 'INTERNAL_ERROR'])
  })
})

for (const kind of BACKENDS) {
  describe(`[${kind}] bad input`, () => {
    const ts = Date.now()
    let auth
    const ns = uniqueNamespace('bad')
    if (isRealRedis(kind)) after(() => cleanupNamespace(ns))
    const setup = async () => {
      if (auth) return auth
      const b = await makeBackend(kind)
      auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns })
      await auth.clients.setSecret('app_a', 'secret_a')
      await auth.clients.setSecret('expired', 'secret_a', ts - 10)
      return auth
    }
    const expectAuthError = async (p, code, status) => {
      await assert.rejects(p, (e) => {
        assert.ok(e instanceof HmacAuthError, `${e?.constructor?.name}: ${e?.message}`)
        assert.equal(e.code, code)
        assert.equal(e.status, status)
        return true
      })
    }
    const headersFor = (over = {}) => signedHeaders({ method: 'POST', url: '/b', body: 'x', clientId: 'app_a', secret: 'secret_a', timestamp: ts, ...over })

    test('timestamps out of range', async () => {
      const a = await setup()
      for (const t of ['NaN', '1e400', '-Infinity', 'abc', '0x', '0xZZ', '1.2.3']) {
        await expectAuthError(a.verifyHttpSignature({ method: 'POST', path: '/b', headers: { ...headersFor(), 'x-timestamp': t }, rawBody: 'x', now: ts }), 'INVALID_TIMESTAMP', 401)
      }
      for (const t of ['-1', '0', '9007199254740993', '1e21', '0b101', '0o17']) {
        await expectAuthError(a.verifyHttpSignature({ method: 'POST', path: '/b', headers: { ...headersFor(), 'x-timestamp': t }, rawBody: 'x', now: ts }), 'TIMESTAMP_SKEW', 401)
      }
    })

    test('malformed and non-string header values', async () => {
      const a = await setup()
      const v = (headers) => a.verifyHttpSignature({ method: 'POST', path: '/b', headers, rawBody: 'x', now: ts })
      await expectAuthError(v({ ...headersFor(), 'x-signature': 'zz' }), 'BAD_SIGNATURE', 401)
      await expectAuthError(v({ ...headersFor(), 'x-signature': 'é'.repeat(64) }), 'BAD_SIGNATURE', 401)
      await expectAuthError(v({ ...headersFor(), 'x-signature': 12345 }), 'BAD_SIGNATURE', 401)
      await expectAuthError(v({ ...headersFor(), 'x-nonce': 0 }), 'MISSING_NONCE', 401)
      await expectAuthError(v({ ...headersFor(), 'x-timestamp': ['', ts] }), 'MISSING_TIMESTAMP', 401)
      await expectAuthError(v({ ...headersFor(), 'x-signature': null }), 'MISSING_SIGNATURE', 401)
      await assert.rejects(v({ ...headersFor(), 'x-client-id': 42 }), TypeError)
      await assert.rejects(v({ ...headersFor(), 'x-client-id': { a: 1 } }), TypeError)
      await expectAuthError(v(null), 'MISSING_CLIENT_ID', 401)
      await expectAuthError(v('x-client-id: app_a'), 'MISSING_CLIENT_ID', 401)
      await expectAuthError(v(new Headers(headersFor())), 'MISSING_CLIENT_ID', 401)
    })

    test('oversized headers and bodies', async () => {
      const a = await setup()
      // Header values above their caps are refused before they are parsed (the original
      // accepted a 256 KiB nonce and stored it in the replay key).
      const hugeNonce = 'n'.repeat(256 * 1024)
      await expectAuthError(a.verifyHttpSignature({ method: 'POST', path: '/b', headers: headersFor({ nonce: hugeNonce }), rawBody: 'x', now: ts }), 'HEADER_TOO_LARGE', 431)
      const capNonce = 'n'.repeat(256)
      assert.equal((await a.verifyHttpSignature({ method: 'POST', path: '/b', headers: headersFor({ nonce: capNonce }), rawBody: 'x', now: ts })).nonce, capNonce)
      await expectAuthError(a.verifyHttpSignature({ method: 'POST', path: '/b', headers: { ...headersFor(), 'x-signature': 'a'.repeat(1 << 20) }, rawBody: 'x', now: ts }), 'HEADER_TOO_LARGE', 431)
      await expectAuthError(a.verifyHttpSignature({ method: 'POST', path: '/b', headers: { ...headersFor(), 'x-signature': 'a'.repeat(8192) }, rawBody: 'x', now: ts }), 'BAD_SIGNATURE', 401)
      await expectAuthError(a.verifyHttpSignature({ method: 'POST', path: '/b', headers: { ...headersFor(), 'x-client-id': 'c'.repeat(64 * 1024) }, rawBody: 'x', now: ts }), 'HEADER_TOO_LARGE', 431)
      const big = Buffer.alloc(8 * 1024 * 1024, 0x61)
      const hb = headersFor({ body: big, nonce: 'big' })
      assert.equal((await a.verifyHttpSignature({ method: 'POST', path: '/b', headers: hb, rawBody: big, now: ts })).clientId, 'app_a')
      await expectAuthError(a.verifyHttpSignature({ method: 'POST', path: '/b', headers: headersFor({ body: big, nonce: 'big2' }), rawBody: Buffer.concat([big, Buffer.from('!')]), now: ts }), 'BAD_SIGNATURE', 401)
      const longPath = '/p' + '/seg'.repeat(20000)
      const hp = signedHeaders({ method: 'GET', url: longPath, clientId: 'app_a', secret: 'secret_a', timestamp: ts })
      assert.equal((await a.verifyHttpSignature({ method: 'GET', path: longPath, headers: hp, rawBody: '', now: ts })).clientId, 'app_a')
    })

    test('bodies that are not UTF-8 are hashed as the original decodes them', async () => {
      const a = await setup()
      const raw = Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d])
      const h = headersFor({ body: raw, nonce: 'bin1' })
      assert.equal(h['x-signature'], signedHeaders({ method: 'POST', url: '/b', body: raw.toString('utf8'), clientId: 'app_a', secret: 'secret_a', timestamp: ts, nonce: 'bin1' })['x-signature'])
      assert.equal((await a.verifyHttpSignature({ method: 'POST', path: '/b', headers: h, rawBody: raw, now: ts })).clientId, 'app_a')
      const h2 = headersFor({ body: raw, nonce: 'bin2' })
      assert.equal((await a.verifyHttpSignature({ method: 'POST', path: '/b', headers: h2, rawBody: new Uint8Array(raw), now: ts })).clientId, 'app_a')
      const h3 = headersFor({ body: 'lone \ud800 surrogate', nonce: 'bin3' })
      assert.equal((await a.verifyHttpSignature({ method: 'POST', path: '/b', headers: h3, rawBody: 'lone \ufffd surrogate', now: ts })).clientId, 'app_a')
    })

    test('unknown clients, expired credentials, bad paths, bad types', async () => {
      const a = await setup()
      await expectAuthError(a.verifyHttpSignature({ method: 'POST', path: '/b', headers: headersFor({ clientId: 'nobody' }), rawBody: 'x', now: ts }), 'UNKNOWN_CLIENT', 401)
      await expectAuthError(a.verifyHttpSignature({ method: 'POST', path: '/b', headers: headersFor({ clientId: 'expired' }), rawBody: 'x', now: ts }), 'CLIENT_EXPIRED', 401)
      await assert.rejects(a.verifyHttpSignature({ method: 'POST', path: '//[', headers: headersFor(), rawBody: 'x', now: ts }), (e) => e instanceof TypeError && e.code === 'ERR_INVALID_URL')
      await assert.rejects(a.verifyHttpSignature({ method: 42, path: '/b', headers: headersFor(), rawBody: 'x', now: ts }), TypeError)
      await assert.rejects(a.clients.setSecret('app_a', 42), TypeError)
      await assert.rejects(a.clients.create(null), TypeError)
    })
  })
}

describe('bodies above the V8 string limit', () => {
  test('are a TypeError before hashing, on every path; the middleware answers 500', async () => {
    const huge = Buffer.allocUnsafe(536870888 + 1)
    assert.throws(() => core.hashBody(huge), (e) => e instanceof TypeError && /body too large/.test(e.message))
    assert.throws(() => core.buildHttpSignedHeaders({ method: 'POST', url: '/', body: huge, clientId: 'a', secret: 's' }), TypeError)
    const h = signedHeaders({ method: 'POST', url: '/', body: 'x', clientId: 'app_a', secret: 'secret_a' })
    for (const redis of ['memory://', new (await import('./helpers.mjs')).FakeRedis()]) {
      const auth = initializeHmacHttpAuth({ redis, namespace: uniqueNamespace('huge') })
      await auth.clients.setSecret('app_a', 'secret_a')
      await assert.rejects(auth.verifyHttpSignature({ method: 'POST', path: '/', headers: h, rawBody: huge }), (e) => e instanceof TypeError && /body too large/.test(e.message))
      const res = mockRes()
      await auth.verifyHttpRequest({ method: 'POST', url: '/', headers: h, rawBody: huge }, res, () => assert.fail('next must not run'))
      assert.deepEqual([res.statusCode, res.body.error], [500, 'INTERNAL_ERROR'])
    }
  })
})

describe('pure functions reject bad types with TypeErrors, never crash', () => {
  test('type checks', () => {
    assert.throws(() => core.hashClientSecret(42), TypeError)
    assert.throws(() => core.hashBody({}), TypeError)
    assert.throws(() => core.signRequest({ method: 'GET', path: '/', timestamp: '1', nonce: 'n', body: '', secret: 's' }), TypeError)
    assert.throws(() => core.signRequest(null), TypeError)
    assert.throws(() => core.safeEqualHex(1, 'a'), TypeError)
    assert.throws(() => core.buildSigningPayload({ method: 'GET', path: '//%', timestamp: 1, nonce: 'n', body: '' }), (e) => e instanceof TypeError && e.code === 'ERR_INVALID_URL')
    assert.throws(() => core.verifyMessage({ clientId: 'c', secret: 's', message: 1 }), TypeError)
    assert.throws(() => core.signMessage({ clientId: 'c', secret: 's', message: (() => { const o = {}; o.o = o; return o })() }), TypeError)
    // The original renders NaN and negative timestamps into the payload; so do we.
    assert.equal(core.buildSigningPayload({ method: 'get', path: '/', timestamp: NaN, nonce: 'n', body: '' }).split('\n')[2], 'NaN')
    assert.equal(core.buildSigningPayload({ method: 'get', path: '/', timestamp: -1.5, nonce: 'n', body: '' }).split('\n')[2], '-1.5')
    assert.equal(core.buildSigningPayload({ method: 'get', path: '/', timestamp: 1e21, nonce: 'n', body: '' }).split('\n')[2], '1e+21')
  })
})
