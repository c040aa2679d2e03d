// The "gaps" list of spec §4, over every backend where it applies: revert and the backup
// TTL, setSecretHash normalisation, TIMESTAMP_SKEW / INVALID_TIMESTAMP / missing headers,
// x-forwarded-for, IPv6 and IPv4-mapped addresses, legacy records, the ioredis-style
// client's call shapes, createHmacRuntime, the middleware error JSON and onError,
// captureRawBody, canonical JSON corners, and the exact Redis layout on both paths.
import { describe, test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import express from 'express'
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
  FakeRedis,
  LowercaseFakeRedis,
  redisClient,
  REDIS_URL,
} from './helpers.mjs'

const { initializeHmacHttpAuth, initializeHmacMessageAuth, hashClientSecret, HmacAuthError } = core

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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

for (const kind of BACKENDS) {
  describe(`[${kind}] revert and backups`, () => {
    test('rotation writes a backup with the TTL; revert restores it once', async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'revert')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns, dbSeedBackupTtlSeconds: 120 })
      await auth.clients.create({ clientId: 'c', plainSecret: 'A' })
      assert.deepEqual(await auth.clients.revert('c'), { reverted: false })
      await auth.clients.regenerateSecret('c', { plainSecret: 'B' })
      assert.equal(await b.raw.get(`${ns}:credentials-backup:c`), hashClientSecret('A'))
      const ttl = await b.raw.ttlSeconds(`${ns}:credentials-backup:c`)
      if (ttl !== null) assert.ok(ttl > 100 && ttl <= 120, `backup TTL ${ttl}`)
      await auth.clients.setSecret('c', 'C')
      assert.equal(await b.raw.get(`${ns}:credentials-backup:c`), hashClientSecret('B'), 'only one level: A→B→C keeps B')
      const before = await auth.clients.get('c')
      const r = await auth.clients.revert('c')
      assert.deepEqual(r, { reverted: true, restoredSecretHash: hashClientSecret('B') })
      const after1 = await auth.clients.get('c')
      assert.equal(after1.secretHash, hashClientSecret('B'))
      assert.equal(after1.createdAt, before.createdAt)
      assert.equal(await b.raw.get(`${ns}:credentials-backup:c`), null)
      assert.deepEqual(await auth.clients.revert('c'), { reverted: false }, 'no redo')
    })

    test('same hash writes no backup; setSecretHash normalises; delete keeps the backup', async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'backup_rules')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns })
      await auth.clients.setSecret('c', 'same')
      await auth.clients.setSecret('c', 'same')
      assert.equal(await b.raw.get(`${ns}:credentials-backup:c`), null)
      await auth.clients.setSecretHash('c', '  ABCDEF0123  ')
      assert.equal(await auth.clients.getSecretHash('c'), 'abcdef0123')
      assert.equal(await b.raw.get(`${ns}:credentials-backup:c`), hashClientSecret('same'))
      await auth.clients.delete('c')
      assert.equal(await auth.clients.get('c'), null)
      assert.equal(await b.raw.get(`${ns}:credentials-backup:c`), hashClientSecret('same'), 'delete leaves the backup')
      await auth.clients.create({ clientId: 'c', plainSecret: 'new' })
      const r = await auth.clients.revert('c')
      assert.deepEqual(r, { reverted: true, restoredSecretHash: hashClientSecret('same') })
    })

    test('revert of a deleted client drops the orphan backup', async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'orphan')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns })
      await auth.clients.setSecret('c', 'one')
      await auth.clients.setSecret('c', 'two')
      await auth.clients.delete('c')
      assert.deepEqual(await auth.clients.revert('c'), { reverted: false })
      assert.equal(await b.raw.get(`${ns}:credentials-backup:c`), null)
    })

    test('the backup expires after dbSeedBackupTtlSeconds', async () => {
      const b = await makeBackend(kind)
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: withNs(kind, 'backup_ttl'), dbSeedBackupTtlSeconds: 1 })
      await auth.clients.setSecret('c', 'one')
      await auth.clients.setSecret('c', 'two')
      await sleep(2100)
      assert.deepEqual(await auth.clients.revert('c'), { reverted: false })
      assert.equal(await auth.clients.getSecretHash('c'), hashClientSecret('two'))
    })

    test('argument errors: messages, statuses, nothing written', async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'args')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns })
      await rejectsWith(auth.clients.get('  '), { code: 'MISSING_CLIENT_ID', status: 400, message: 'clientId cannot be empty' })
      await rejectsWith(auth.clients.regenerateSecret('nobody'), { code: 'CLIENT_NOT_FOUND', status: 404, message: 'Cannot regenerate secret: client not found' })
      await rejectsWith(auth.clients.setAllowedIps('nobody', []), { code: 'CLIENT_NOT_FOUND', status: 404, message: 'Cannot set allowedIps: client not found' })
      await rejectsWith(auth.clients.setAllowedIps('nobody', '10.0.0.1'), { code: 'CLIENT_NOT_FOUND', status: 404, message: 'Cannot set allowedIps: client not found' })
      await rejectsWith(auth.clients.regenerateSecret('nobody', { allowedIps: '10.0.0.1' }), { code: 'CLIENT_NOT_FOUND', status: 404, message: 'Cannot regenerate secret: client not found' })
      await assert.rejects(auth.clients.create({ clientId: 'c', secretLengthBytes: 15 }), { message: 'secretLengthBytes must be an integer between 16 and 128' })
      await assert.rejects(auth.clients.create({ clientId: 'c', expiresAt: 'soon' }), { message: 'expiresAt must be a valid timestamp or Date' })
      await assert.rejects(auth.clients.create({ clientId: 'c', allowedIps: 'x' }), { message: 'allowedIps must be an array of IP/CIDR strings' })
      await assert.rejects(auth.clients.create({ clientId: 'c', allowedIps: [1] }), { message: 'allowedIps entries must be strings' })
      await assert.rejects(auth.clients.create({ clientId: 'c', allowedIps: ['nope'] }), {
        message: "Invalid allowedIps entry 'nope'. Expected IP or CIDR (example: 195.7.8.9 or 195.7.8.0/24).",
      })
      assert.equal(await auth.clients.get('c'), null)
      await auth.clients.setSecret('c', 'one')
      await assert.rejects(auth.clients.setSecret('c', 'two', undefined, 'x'), { message: 'allowedIps must be an array of IP/CIDR strings' })
      assert.equal(await auth.clients.getSecretHash('c'), hashClientSecret('one'))
      assert.equal(await b.raw.get(`${ns}:credentials-backup:c`), null, 'validated before any write (docs/compat.md)')
      const withDate = await auth.clients.create({ clientId: 'd', plainSecret: 'p', expiresAt: new Date(1893456000000), allowedIps: ['10.0.0.1', '10.0.0.1', '1.2.3.4:80/024'] })
      assert.equal(withDate.expiresAt, 1893456000000)
      assert.deepEqual(withDate.allowedIps, ['10.0.0.1', '1.2.3.4/24'])
      const kept = await auth.clients.regenerateSecret('d', { plainSecret: 'q' })
      assert.equal(kept.expiresAt, 1893456000000)
      const cleared = await auth.clients.regenerateSecret('d', { plainSecret: 'r', preserveExpiresAt: false })
      assert.equal(cleared.expiresAt, null)
    })

    test('initialisers validate like the original', () => {
      assert.throws(() => initializeHmacHttpAuth({}), { message: 'Redis connection is mandatory' })
      assert.throws(() => initializeHmacMessageAuth({ redis: null }), { message: 'Redis connection is mandatory' })
      assert.throws(() => core.createExpressHttpHmacMiddleware({}), { message: 'Redis connection is mandatory' })
      assert.throws(() => initializeHmacHttpAuth({ redis: { get() {} } }), { message: /^Redis client is missing required commands/ })
      assert.throws(() => initializeHmacHttpAuth({ redis: 'not a url' }), { message: /^Redis client is missing required commands/ })
      return makeBackend(kind).then((b) => {
        assert.throws(() => initializeHmacHttpAuth({ redis: b.redis, namespace: '   ' }), { message: 'Namespace cannot be empty' })
        assert.throws(() => initializeHmacHttpAuth({ redis: b.redis, defaultSecretLengthBytes: 200 }), {
          message: 'secretLengthBytes must be an integer between 16 and 128',
        })
        const a = initializeHmacHttpAuth({ redis: b.redis })
        assert.deepEqual(Object.keys(a), [
          'redis', 'namespace', 'maxSkewMs', 'secretToken', 'verifyHttpRequest', 'verifyHttpSignature',
          'createHttpMiddleware', 'createExpressHttpMiddleware', 'createHttpSignedFetchClient', 'clients',
        ])
        assert.equal(a.namespace, 'hmacauth')
        assert.equal(a.maxSkewMs, 300000)
        assert.equal(a.redis, b.redis)
        const m = initializeHmacMessageAuth({ redis: b.redis, namespace: ' ns ' })
        assert.deepEqual(Object.keys(m), ['redis', 'namespace', 'secretToken', 'signMessage', 'verifyMessage', 'clients'])
        assert.equal(m.namespace, 'ns')
      })
    })
  })

  describe(`[${kind}] verification order and headers`, () => {
    let auth
    let b
    const ns = withNs(kind, 'order')
    const ts = 1_700_000_000_000
    before(async () => {
      b = await makeBackend(kind)
      auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns, maxSkewMs: 5000 })
      await auth.clients.setSecret('app_a', 'secret_a')
      await auth.clients.setSecret('expired', 'secret_a', ts - 1)
      await auth.clients.create({ clientId: 'locked', plainSecret: 'secret_a', allowedIps: ['195.7.8.0/24', '2001:db8::/32'] })
    })
    const good = (over = {}) => signedHeaders({ method: 'POST', url: '/p', body: 'b', clientId: 'app_a', secret: 'secret_a', nonce: `n${Math.random()}`, timestamp: ts, ...over })
    const verify = (headers, extra = {}) => auth.verifyHttpSignature({ method: 'POST', path: '/p', headers, rawBody: 'b', now: ts, ...extra })

    test('missing headers, in the original order', async () => {
      await rejectsWith(verify({}), { code: 'MISSING_CLIENT_ID', status: 401, message: 'Missing header x-client-id' })
      await rejectsWith(verify({ 'x-client-id': 'app_a' }), { code: 'MISSING_SIGNATURE', message: 'Missing header x-signature' })
      await rejectsWith(verify({ 'x-client-id': 'app_a', 'x-signature': 's' }), { code: 'MISSING_TIMESTAMP', message: 'Missing header x-timestamp' })
      await rejectsWith(verify({ 'x-client-id': 'app_a', 'x-signature': 's', 'x-timestamp': '1' }), { code: 'MISSING_NONCE', message: 'Missing header x-nonce' })
      await rejectsWith(verify({ 'x-client-id': ' ', 'x-signature': 's' }), { code: 'MISSING_CLIENT_ID' })
      await rejectsWith(verify({ ...good(), 'x-nonce': ['', 'x'] }), { code: 'MISSING_NONCE' })
    })

    test('INVALID_TIMESTAMP and TIMESTAMP_SKEW', async () => {
      for (const bad of ['abc', '1_000', '12abc', 'Infinity', '1e400', 'NaN', '0x']) {
        await rejectsWith(verify({ ...good(), 'x-timestamp': bad }), { code: 'INVALID_TIMESTAMP', status: 401, message: 'x-timestamp must be a number' })
      }
      await rejectsWith(verify(good(), { now: ts + 5001 }), { code: 'TIMESTAMP_SKEW', message: 'Request timestamp skew is too large (> 5000ms)' })
      await rejectsWith(verify({ ...good(), 'x-timestamp': '   ' }), { code: 'TIMESTAMP_SKEW' })
      await rejectsWith(verify({ ...good(), 'x-timestamp': '-1700000000000' }), { code: 'TIMESTAMP_SKEW' })
      assert.equal((await verify(good(), { now: ts + 5000 })).clientId, 'app_a')
      const hex = good({ nonce: 'hex' })
      hex['x-timestamp'] = '0x18BCFE56800'
      assert.equal((await verify(hex)).timestamp, ts)
    })

    test('unknown, expired, IP before signature', async () => {
      await rejectsWith(verify(good({ clientId: 'ghost' })), { code: 'UNKNOWN_CLIENT' })
      await rejectsWith(verify(good({ clientId: 'expired', secret: 'wrong' })), { code: 'CLIENT_EXPIRED' })
      await rejectsWith(verify(good({ clientId: 'locked', secret: 'wrong' })), { code: 'MISSING_CLIENT_IP', status: 403 })
      await rejectsWith(verify(good({ clientId: 'locked', secret: 'wrong' }), { metadata: { ip: '8.8.8.8' } }), { code: 'CLIENT_IP_NOT_ALLOWED' })
      await rejectsWith(verify(good({ clientId: 'locked', secret: 'wrong' }), { metadata: { ip: '195.7.8.1' } }), { code: 'BAD_SIGNATURE' })
    })

    test('x-forwarded-for, IPv6 and IPv4-mapped addresses', async () => {
      const locked = (ipHeaders, metadata) => verify({ ...good({ clientId: 'locked' }), ...ipHeaders }, { metadata })
      assert.equal((await locked({ 'x-forwarded-for': '195.7.8.9, 10.0.0.1' })).clientId, 'locked')
      await rejectsWith(locked({ 'x-forwarded-for': '10.0.0.1, 195.7.8.9' }), { code: 'CLIENT_IP_NOT_ALLOWED', message: "Client IP '10.0.0.1' is not allowed for clientId 'locked'" })
      await rejectsWith(locked({ 'x-forwarded-for': 'unknown, 195.7.8.9' }), { code: 'MISSING_CLIENT_IP' })
      assert.equal((await locked({}, { ip: 'bogus', remoteAddress: '195.7.8.200' })).clientId, 'locked')
      assert.equal((await locked({}, { ip: '::ffff:195.7.8.44' })).clientId, 'locked')
      await rejectsWith(locked({}, { ip: '::FFFF:195.7.8.44' }), { code: 'CLIENT_IP_NOT_ALLOWED', message: "Client IP '::FFFF:195.7.8.44' is not allowed for clientId 'locked'" })
      assert.equal((await locked({}, { ip: '[2001:db8::5]:443' })).clientId, 'locked')
      assert.equal((await locked({}, { ips: ['nope', '2001:DB8:0:0::1'] })).clientId, 'locked')
      assert.equal((await locked({}, { forwardedFor: ['195.7.8.3'] })).clientId, 'locked')
      await rejectsWith(locked({}, { ip: 'fe80::1%eth0' }), { code: 'CLIENT_IP_NOT_ALLOWED' })
    })

    test('header names are case-insensitive, first match wins, arrays use [0]', async () => {
      const h = good()
      const mixed = { 'X-Client-Id': ' app_a ', 'X-SIGNATURE': h['x-signature'], 'x-Timestamp': [h['x-timestamp'], '1'], 'X-Nonce': h['x-nonce'] }
      assert.equal((await verify(mixed)).clientId, 'app_a')
      const dup = good()
      await rejectsWith(verify({ 'X-Signature': '0'.repeat(64), ...dup }), { code: 'BAD_SIGNATURE' })
      assert.equal((await verify({ ...dup, 'X-Signature': '0'.repeat(64) })).clientId, 'app_a')
      const upper = good()
      upper['x-signature'] = upper['x-signature'].toUpperCase()
      assert.equal((await verify(upper)).clientId, 'app_a')
    })

    test('a bad signature does not burn the nonce; success does', async () => {
      const h = good({ nonce: 'keep' })
      await rejectsWith(verify({ ...h, 'x-signature': 'f'.repeat(64) }), { code: 'BAD_SIGNATURE' })
      assert.equal((await verify(h)).nonce, 'keep')
      await rejectsWith(verify(h), { code: 'REPLAYED_NONCE' })
    })

    test('legacy and upstream-1.4 records are read', async () => {
      await b.raw.hset(`${ns}:clients`, 'legacy', hashClientSecret('secret_a'))
      await b.raw.hset(
        `${ns}:clients`,
        'v14',
        JSON.stringify({ secretHash: hashClientSecret('secret_a'), createdAt: 5, updatedAt: 6, expiresAt: null, allowedIps: ['bogus', '10.0.0.0/8'], fromDbSeed: false, purpose: 'x' }),
      )
      await b.raw.hset(`${ns}:clients`, 'number', '42')
      assert.deepEqual(await auth.clients.get('legacy'), { clientId: 'legacy', secretHash: hashClientSecret('secret_a'), createdAt: 0, updatedAt: 0, expiresAt: null, allowedIps: [] })
      assert.deepEqual(await auth.clients.get('v14'), { clientId: 'v14', secretHash: hashClientSecret('secret_a'), createdAt: 5, updatedAt: 6, expiresAt: null, allowedIps: ['10.0.0.0/8'] })
      assert.equal((await auth.clients.get('number')).secretHash, '42')
      assert.equal((await verify(good({ clientId: 'legacy' }))).clientId, 'legacy')
      assert.equal((await verify(good({ clientId: 'v14' }), { metadata: { ip: '10.1.2.3' } })).clientId, 'v14')
      await auth.clients.setAllowedIps('legacy', ['1.2.3.4'])
      assert.equal(
        await b.raw.hget(`${ns}:clients`, 'legacy'),
        JSON.stringify({ secretHash: hashClientSecret('secret_a'), createdAt: JSON.parse(await b.raw.hget(`${ns}:clients`, 'legacy')).createdAt, updatedAt: JSON.parse(await b.raw.hget(`${ns}:clients`, 'legacy')).updatedAt, expiresAt: null, allowedIps: ['1.2.3.4'] }),
      )
    })
  })

  describe(`[${kind}] middleware`, () => {
    test('error JSON, onError, next(err), INTERNAL_ERROR', async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'mw_errors')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns })
      await auth.clients.setSecret('app_a', 'secret_a')
      const req = (headers, url = '/x') => ({ method: 'GET', originalUrl: url, url, headers, body: undefined })

      const res = mockRes()
      let nextCalled = false
      await auth.verifyHttpRequest(req({}), res, () => (nextCalled = true))
      assert.equal(nextCalled, false)
      assert.equal(res.statusCode, 401)
      assert.deepEqual(res.body, { error: 'MISSING_CLIENT_ID', message: 'Missing header x-client-id' })

      const seen = []
      const mw = auth.createHttpMiddleware({ onError: (err, rq, rs, nx) => seen.push([err, rq, rs, nx]) })
      const res2 = mockRes()
      await mw(req({}), res2, () => {})
      assert.equal(seen.length, 1)
      assert.ok(seen[0][0] instanceof HmacAuthError)
      assert.equal(seen[0][0].code, 'MISSING_CLIENT_ID')
      assert.equal(res2.statusCode, undefined)

      let passed
      await auth.verifyHttpRequest(req({}), {}, (err) => (passed = err))
      assert.ok(passed instanceof HmacAuthError)
      assert.equal(passed.status, 401)

      const h = signedHeaders({ method: 'GET', url: '/x', clientId: 'app_a', secret: 'secret_a', timestamp: Date.now() })
      const res3 = mockRes()
      await auth.verifyHttpRequest(req(h, '//['), res3, () => {})
      assert.equal(res3.statusCode, 500)
      assert.deepEqual(res3.body, { error: 'INTERNAL_ERROR', message: 'Internal auth error' })

      const res4 = mockRes()
      await auth.verifyHttpRequest(req({ ...h, 'x-client-id': 42 }), res4, () => {})
      assert.deepEqual([res4.statusCode, res4.body.error], [500, 'INTERNAL_ERROR'])

      const res5 = mockRes()
      const h5 = signedHeaders({ method: 'GET', url: '/x', clientId: 'app_a', secret: 'secret_a', timestamp: Date.now() })
      const r5 = req(h5)
      await auth.createHttpMiddleware({ attachAuthTo: 'auth' })(r5, res5, () => {})
      assert.equal(r5.auth.clientId, 'app_a')
      assert.equal(r5.hmacAuth, undefined)
    })
  })
}

describe('ioredis-style client: call shapes', () => {
  test('node-redis shape first, ioredis tokens as fallback; 1 HGET + 1 SET per verify', async () => {
    const fake = new FakeRedis()
    const ns = uniqueNamespace('shapes')
    const auth = initializeHmacHttpAuth({ redis: fake, namespace: ns, maxSkewMs: 5000 })
    await auth.clients.setSecret('app_a', 'secret_a')
    fake.calls.length = 0
    const ts = Date.now()
    const h = signedHeaders({ method: 'GET', url: '/x', clientId: 'app_a', secret: 'secret_a', nonce: 'n1', timestamp: ts })
    await auth.verifyHttpSignature({ method: 'GET', path: '/x', headers: h, rawBody: '', now: ts })
    assert.deepEqual(fake.calls, [
      ['hGet', `${ns}:clients`, 'app_a'],
      // The original sets EX ceil(maxSkewMs / 1000) = 5; the core covers the request's
      // whole window: ceil((ts + maxSkewMs - now) / 1000) + 1 = 6.
      ['set', `${ns}:nonce:app_a:n1:${ts}`, '1', { NX: true, EX: 6 }],
    ])
    fake.calls.length = 0
    await assert.rejects(auth.verifyHttpSignature({ method: 'GET', path: '/x', headers: {}, rawBody: '' }))
    assert.deepEqual(fake.calls, [], 'header failures touch Redis 0 times')

    const lower = new LowercaseFakeRedis()
    const a2 = initializeHmacHttpAuth({ redis: lower, namespace: ns, maxSkewMs: 5000 })
    await a2.clients.setSecret('app_a', 'secret_a')
    await a2.clients.setSecret('app_a', 'secret_b')
    lower.inner.calls.length = 0
    const h2 = signedHeaders({ method: 'GET', url: '/x', clientId: 'app_a', secret: 'secret_b', nonce: 'n2', timestamp: ts })
    await a2.verifyHttpSignature({ method: 'GET', path: '/x', headers: h2, rawBody: '', now: ts })
    await rejectsWith(a2.verifyHttpSignature({ method: 'GET', path: '/x', headers: h2, rawBody: '', now: ts }), { code: 'REPLAYED_NONCE' })
    assert.deepEqual(lower.inner.calls.slice(0, 2), [
      ['hGet', `${ns}:clients`, 'app_a'],
      ['set', `${ns}:nonce:app_a:n2:${ts}`, '1', 'EX', 6, 'NX'],
    ])
    assert.equal(await lower.get(`${ns}:credentials-backup:app_a`), hashClientSecret('secret_a'))
  })
})

describe('Redis layout is the original\'s on both Redis paths', () => {
  for (const path of ['node-redis', 'redis-url']) {
    test(`[${path}] record JSON, nonce key and TTL, backup key`, async () => {
      const c = await redisClient()
      const ns = uniqueNamespace('layout')
      after(() => cleanupNamespace(ns))
      const redis = path === 'node-redis' ? c : REDIS_URL
      const auth = initializeHmacHttpAuth({ redis, namespace: ns, maxSkewMs: 7500 })
      await auth.clients.create({ clientId: 'app_a', plainSecret: 'secret_a', allowedIps: ['10.0.0.0/8'] })
      const raw = await c.hGet(`${ns}:clients`, 'app_a')
      const rec = JSON.parse(raw)
      assert.equal(raw, JSON.stringify({ secretHash: hashClientSecret('secret_a'), createdAt: rec.createdAt, updatedAt: rec.createdAt, expiresAt: null, allowedIps: ['10.0.0.0/8'] }))
      const ts = Date.now()
      const h = signedHeaders({ method: 'GET', url: '/x', clientId: 'app_a', secret: 'secret_a', nonce: 'n:1', timestamp: ts })
      await auth.verifyHttpSignature({ method: 'GET', path: '/x', headers: h, rawBody: '', metadata: { ip: '10.2.3.4' } })
      const nonceKey = `${ns}:nonce:app_a:n:1:${ts}`
      assert.equal(await c.get(nonceKey), '1')
      const ttl = await c.ttl(nonceKey)
      assert.ok(ttl > 0 && ttl <= 9, `nonce TTL ${ttl}`)
      await auth.clients.regenerateSecret('app_a', { plainSecret: 'secret_b' })
      assert.equal(await c.get(`${ns}:credentials-backup:app_a`), hashClientSecret('secret_a'))
      // A record written by the original (its JSON.stringify, its key order) is read back.
      await c.hSet(`${ns}:clients`, 'orig', JSON.stringify({ secretHash: hashClientSecret('o'), createdAt: 1717000000000, updatedAt: 1717000000000, expiresAt: 4102444800000, allowedIps: [] }))
      assert.deepEqual(await auth.clients.get('orig'), { clientId: 'orig', secretHash: hashClientSecret('o'), createdAt: 1717000000000, updatedAt: 1717000000000, expiresAt: 4102444800000, allowedIps: [] })
      const h2 = signedHeaders({ method: 'GET', url: '/x', clientId: 'orig', secret: 'o', timestamp: ts })
      assert.equal((await auth.verifyHttpSignature({ method: 'GET', path: '/x', headers: h2, rawBody: '' })).clientId, 'orig')
    })
  }
})

function listen(app) {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server))
  })
}

describe('Express: captureRawBody, createHmacRuntime', () => {
  test('captureRawBody keeps the exact bytes; without it the body is re-serialised', async () => {
    const auth = initializeHmacHttpAuth({ redis: 'memory://', namespace: uniqueNamespace('raw') })
    await auth.clients.setSecret('app_a', 'secret_a')
    const app = express()
    app.post('/with', express.json({ verify: core.captureRawBody }), auth.verifyHttpRequest, (req, res) => res.json({ ok: req.hmacAuth.clientId, raw: Buffer.isBuffer(req.rawBody) }))
    app.post('/without', express.json(), auth.verifyHttpRequest, (req, res) => res.json({ ok: true }))
    const server = await listen(app)
    after(() => server.close())
    const base = `http://127.0.0.1:${server.address().port}`
    const body = '{ "b": 1,\n  "a": [1, 2] }'
    const send = async (path, nonce) => {
      const headers = core.buildHttpSignedHeaders({ method: 'POST', url: `${base}${path}`, body, clientId: 'app_a', secret: 'secret_a', nonce })
      headers.set('content-type', 'application/json')
      const r = await fetch(`${base}${path}`, { method: 'POST', headers, body })
      return [r.status, await r.json()]
    }
    assert.deepEqual(await send('/with', 'n1'), [200, { ok: 'app_a', raw: true }])
    assert.deepEqual(await send('/without', 'n2'), [401, { error: 'BAD_SIGNATURE', message: 'Invalid HMAC signature' }])
    const req = {}
    const buf = Buffer.from('xyz')
    core.captureRawBody(req, {}, buf)
    assert.deepEqual(req.rawBody, buf)
    assert.notEqual(req.rawBody, buf, 'a copy')
  })

  test('createHmacRuntime: signed fetch from a stored client, allow-listed middleware', async () => {
    const auth = initializeHmacHttpAuth({ redis: 'memory://', namespace: uniqueNamespace('runtime') })
    await auth.clients.setSecret('app_a', 'secret_a')
    await auth.clients.setSecret('app_b', 'secret_b')
    const runtime = core.createHmacRuntime(auth)
    const app = express()
    app.use(express.json({ verify: core.captureRawBody }))
    app.post('/only-a', runtime.hmacHttpMiddleware(' app_a ', ''), (req, res) => res.json({ caller: req.hmacAuth.clientId }))
    app.post('/anyone', runtime.hmacHttpMiddleware(), (req, res) => res.json({ caller: req.hmacAuth.clientId }))
    const server = await listen(app)
    after(() => server.close())
    const base = `http://127.0.0.1:${server.address().port}`
    const r1 = await runtime.signedFetchWithClientId(`${base}/only-a`, 'app_a', { method: 'POST', body: { x: 1 } })
    assert.deepEqual([r1.status, await r1.json()], [200, { caller: 'app_a' }])
    const r2 = await runtime.signedFetchWithClientId(`${base}/only-a`, 'app_b', { method: 'POST', body: { x: 1 } })
    assert.deepEqual([r2.status, await r2.json()], [403, { error: 'CLIENT_NOT_ALLOWED', message: "Client 'app_b' is not allowed" }])
    const f = await runtime.createSignedFetchFromClientId('app_b')
    const r3 = await f(`${base}/anyone`, { method: 'POST', body: { y: 2 } })
    assert.deepEqual([r3.status, await r3.json()], [200, { caller: 'app_b' }])
    await assert.rejects(runtime.createSignedFetchFromClientId('ghost'), { message: 'ghost not found in Redis' })
    const r4 = await fetch(`${base}/anyone`, { method: 'POST' })
    assert.deepEqual([r4.status, await r4.json()], [401, { error: 'MISSING_CLIENT_ID', message: 'Missing header x-client-id' }])
  })
})

describe('canonical JSON corners (message track)', () => {
  const sha = (s) => createHash('sha256').update(s).digest('hex')
  const hashOf = (message) => core.signMessage({ clientId: 'c', secret: 's', message }).messageHash
  class Point {
    constructor() {
      this.y = { b: 1, a: 2 }
      this.x = 1
    }
  }
  const cases = [
    [{ d: new Date('2024-01-02T03:04:05.006Z'), u: undefined, n: 1.5e21, s: 'é🔐\u2028' }, '{"d":"2024-01-02T03:04:05.006Z","n":1.5e+21,"s":"é🔐\u2028"}'],
    [{ b: { toJSON: () => ({ z: 1, a: 2 }) }, a: 1 }, '{"a":1,"b":{"z":1,"a":2}}'],
    [{ m: new Map([['k', 1]]), s: new Set([1]), p: new Point() }, '{"m":{},"p":{"y":{"b":1,"a":2},"x":1},"s":{}}'],
    [JSON.parse('{"__proto__":{"x":1},"b":1}'), '{"b":1}'],
    [{ s: 'a\ud800b', '\udfff': 1 }, '{"s":"a\\ud800b","\\udfff":1}'],
    [[undefined, () => 1, Symbol('x'), NaN, -0, Infinity], '[null,null,null,null,0,null]'],
    [{ B: 1, a: 2, _c: 3, 10: 4, 2: 5 }, '{"2":5,"10":4,"_c":3,"a":2,"B":1}'],
    [Object.assign(Object.create(null), { b: 1, a: 2 }), '{"a":2,"b":1}'],
    [{ n: new Number(3), t: new String('x') }, '{"n":3,"t":"x"}'],
    [new Date('2024-01-02T03:04:05.006Z'), '"2024-01-02T03:04:05.006Z"'],
    [10n, '10'],
    ['top "string"', 'top "string"'],
    [null, ''],
    [undefined, ''],
    [Buffer.from('bytes\xff', 'latin1'), Buffer.from('bytes\xff', 'latin1').toString('utf8')],
    [new URLSearchParams({ a: '1 2' }), 'a=1+2'],
    [new Map([['k', 1]]), '{}'],
  ]
  for (const [i, [value, canonical]] of cases.entries()) {
    test(`corner ${i}: ${canonical.slice(0, 40)}`, () => {
      assert.equal(hashOf(value), sha(canonical))
    })
  }
  test('a nested BigInt is a TypeError (after the argument checks)', () => {
    assert.throws(() => core.signMessage({ clientId: 'c', secret: 's', message: { a: 1n } }), TypeError)
    assert.throws(() => core.signMessage({ clientId: ' ', secret: 's', message: { a: 1n } }), { message: 'clientId cannot be empty' })
    assert.throws(() => core.signMessage({ clientId: 'c', secret: ' ', message: { a: 1n } }), { message: 'secret cannot be empty' })
    assert.throws(() => core.signMessage({ clientId: 'c', secret: 's', message: { d: new Date(NaN) } }), RangeError)
  })
  test('store-backed message errors keep the original order', async () => {
    const msg = initializeHmacMessageAuth({ redis: 'memory://', namespace: uniqueNamespace('msg_order') })
    await assert.rejects(msg.signMessage({ clientId: 'ghost', message: { a: 1n } }), { code: 'CLIENT_NOT_FOUND' })
    await msg.clients.setSecret('c', 's')
    await assert.rejects(msg.signMessage({ clientId: 'c', message: { a: 1n } }), TypeError)
    await assert.rejects(msg.verifyMessage({ clientId: 'c', message: {}, signature: '  ' }), { code: 'MISSING_SIGNATURE', message: 'Missing message signature' })
    await assert.rejects(msg.verifyMessage({ clientId: ' ', message: {}, signature: 'x' }), { code: 'MISSING_CLIENT_ID', status: 400 })
    await msg.clients.setSecret('old', 's', Date.now() - 1)
    await assert.rejects(msg.signMessage({ clientId: 'old', message: {} }), { code: 'CLIENT_EXPIRED' })
  })
})
