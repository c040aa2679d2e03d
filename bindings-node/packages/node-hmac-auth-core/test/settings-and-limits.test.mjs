// Settings fail closed, the replay window covers the whole skew window, header values
// are capped, and secrets stay out of util.inspect. Every case runs on the backends of the
// drop-in (a real node-redis client, a Redis URL, the memory store and the original's
// FakeRedis) where it can.
import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { createRequire } from 'node:module'
import * as core from '../lib/index.js'
import { uniqueNamespace, cleanupNamespace, closeRedis, redisClient, REDIS_URL, signedHeaders, mockRes, makeBackend, isRealRedis } from './helpers.mjs'

const { initializeHmacHttpAuth, initializeHmacMessageAuth, createExpressHttpHmacMiddleware, verifyHttpSignature, HmacAuthError } = core

after(closeRedis)

const SKEW_MESSAGE = 'maxSkewMs must be a finite number no greater than 86400000'
const BAD_SKEWS = [NaN, Infinity, -Infinity, 'abc', 86_400_001]
const KINDS = ['node-redis', 'redis-url', 'memory', 'fake']

function withNs(kind, name) {
  const ns = uniqueNamespace(name)
  if (isRealRedis(kind)) after(() => cleanupNamespace(ns))
  return ns
}

describe('maxSkewMs fails closed', () => {
  test('initializeHmacHttpAuth, createHttpMiddleware and the Express middleware refuse it at creation', () => {
    for (const bad of BAD_SKEWS) {
      assert.throws(() => initializeHmacHttpAuth({ redis: 'memory://', maxSkewMs: bad }), (e) => {
        assert.ok(!(e instanceof HmacAuthError))
        assert.equal(e.message, SKEW_MESSAGE)
        return true
      }, String(bad))
      const auth = initializeHmacHttpAuth({ redis: 'memory://' })
      assert.throws(() => auth.createHttpMiddleware({ maxSkewMs: bad }), { message: SKEW_MESSAGE })
      assert.throws(() => createExpressHttpHmacMiddleware({ redis: 'memory://', maxSkewMs: bad }), { message: SKEW_MESSAGE })
    }
    // A numeric string is what the original's arithmetic made of it.
    assert.equal(initializeHmacHttpAuth({ redis: 'memory://', maxSkewMs: '5000' }).maxSkewMs, '5000')
    // A negative window is accepted and rejects everything, like the original.
    initializeHmacHttpAuth({ redis: 'memory://', maxSkewMs: -1 })
  })

  for (const kind of KINDS) {
    test(`[${kind}] a per-call NaN/Infinity never accepts a request signed a year ago`, async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'skew')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns })
      await auth.clients.setSecret('app_a', 'secret_a')
      const yearAgo = Date.now() - 365 * 86_400_000
      const headers = signedHeaders({ method: 'GET', url: '/x', clientId: 'app_a', secret: 'secret_a', timestamp: yearAgo })
      for (const bad of [NaN, Infinity, 'abc']) {
        for (let i = 0; i < 2; i++) {
          await assert.rejects(auth.verifyHttpSignature({ method: 'GET', path: '/x', headers, rawBody: '', maxSkewMs: bad }), (e) => {
            assert.ok(!(e instanceof HmacAuthError), String(e))
            assert.equal(e.message, SKEW_MESSAGE)
            return true
          })
        }
      }
      await assert.rejects(
        verifyHttpSignature({ redis: b.redis, namespace: ns, method: 'GET', path: '/x', headers, rawBody: '', maxSkewMs: NaN }),
        { message: SKEW_MESSAGE },
      )
      // The default window refuses it as the original does.
      const mw = auth.createHttpMiddleware()
      const res = mockRes()
      let nextCalled = false
      await mw({ method: 'GET', originalUrl: '/x', headers, rawBody: '', body: undefined, socket: {} }, res, () => (nextCalled = true))
      assert.equal(nextCalled, false)
      assert.equal(res.statusCode, 401)
      assert.equal(res.body.error, 'TIMESTAMP_SKEW')
      await assert.rejects(
        auth.verifyHttpSignature({ method: 'GET', path: '/x', headers, rawBody: '', now: NaN }),
        { message: 'now must be a finite number' },
      )
    })
  }

  test('dbSeedBackupTtlSeconds must be an integer between 1 and 31536000', () => {
    for (const bad of [NaN, 0, -1, 1.5, 'abc', 31_536_001]) {
      assert.throws(
        () => initializeHmacHttpAuth({ redis: new (class { hGet() {} hSet() {} hDel() {} hKeys() {} get() {} set() {} del() {} })(), dbSeedBackupTtlSeconds: bad }),
        { message: 'dbSeedBackupTtlSeconds must be an integer between 1 and 31536000' },
        String(bad),
      )
      assert.throws(() => initializeHmacMessageAuth({ redis: 'memory://', dbSeedBackupTtlSeconds: bad }), { message: /dbSeedBackupTtlSeconds/ })
    }
    initializeHmacHttpAuth({ redis: 'memory://', dbSeedBackupTtlSeconds: '600' })
  })
})

describe('the nonce lives as long as the request is acceptable', () => {
  for (const kind of ['node-redis', 'redis-url']) {
    test(`[${kind}] a timestamp from the future: the TTL covers ts + maxSkewMs - now`, async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'future')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns, maxSkewMs: 5000 })
      await auth.clients.setSecret('app_a', 'secret_a')
      const ts = Date.now() + 4000
      const headers = signedHeaders({ method: 'GET', url: '/x', clientId: 'app_a', secret: 'secret_a', nonce: 'ahead', timestamp: ts })
      await auth.verifyHttpSignature({ method: 'GET', path: '/x', headers, rawBody: '' })
      // ceil((ts + 5000 - now) / 1000) + 1 = 10; the original set 5.
      const ttl = await b.raw.ttlSeconds(`${ns}:nonce:app_a:ahead:${ts}`)
      assert.ok(ttl >= 9 && ttl <= 10, `nonce TTL ${ttl}`)
    })
  }

  for (const kind of ['memory', 'fake', 'node-redis']) {
    test(`[${kind}] a request replayed after the original's TTL, still inside its window, is refused`, async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'late')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns, maxSkewMs: 2000 })
      await auth.clients.setSecret('app_a', 'secret_a')
      const headers = signedHeaders({ method: 'GET', url: '/x', clientId: 'app_a', secret: 'secret_a', timestamp: Date.now() + 1500 })
      await auth.verifyHttpSignature({ method: 'GET', path: '/x', headers, rawBody: '' })
      await new Promise((r) => setTimeout(r, 2200)) // the original's TTL (2 s) is over
      await assert.rejects(auth.verifyHttpSignature({ method: 'GET', path: '/x', headers, rawBody: '' }), (e) => {
        assert.ok(e instanceof HmacAuthError)
        assert.equal(e.code, 'REPLAYED_NONCE')
        return true
      })
    })
  }
})

describe('header values are capped before they are parsed', () => {
  const cases = [
    ['x-nonce', 'n'.repeat(257)],
    ['x-client-id', 'c'.repeat(257)],
    ['x-signature', 'a'.repeat(8193)],
    ['x-timestamp', ' '.repeat(8193) + '1'],
  ]
  for (const kind of KINDS) {
    test(`[${kind}] 431 HEADER_TOO_LARGE`, async () => {
      const b = await makeBackend(kind)
      const ns = withNs(kind, 'caps')
      const auth = initializeHmacHttpAuth({ redis: b.redis, namespace: ns })
      await auth.clients.setSecret('app_a', 'secret_a')
      for (const [name, value] of cases) {
        const headers = { ...signedHeaders({ method: 'GET', url: '/x', clientId: 'app_a', secret: 'secret_a' }), [name]: value }
        await assert.rejects(auth.verifyHttpSignature({ method: 'GET', path: '/x', headers, rawBody: '' }), (e) => {
          assert.ok(e instanceof HmacAuthError, String(e))
          assert.equal(e.code, 'HEADER_TOO_LARGE')
          assert.equal(e.status, 431)
          assert.equal(e.message, `Header ${name} exceeds ${name === 'x-nonce' || name === 'x-client-id' ? 256 : 8192} bytes`)
          return true
        })
        const res = mockRes()
        await auth.createHttpMiddleware()({ method: 'GET', originalUrl: '/x', headers, rawBody: '', socket: {} }, res, () => assert.fail('next'))
        assert.deepEqual([res.statusCode, res.body.error], [431, 'HEADER_TOO_LARGE'])
      }
      await assert.rejects(auth.clients.setSecret('c'.repeat(257), 's'), { message: 'clientId exceeds 256 bytes' })
    })
  }
})

describe('secrets stay out of util.inspect', () => {
  test('instances print neither the pepper nor the store password', async () => {
    const url = 'redis://default:hunter2-url-password@127.0.0.1:6379'
    const pepper = 'pepper-7f3a9c'
    for (const init of [initializeHmacHttpAuth, initializeHmacMessageAuth]) {
      const auth = init({ redis: url, secretToken: pepper })
      for (const text of [inspect(auth), inspect(auth, { depth: 5, showHidden: true }), String(auth)]) {
        assert.ok(!text.includes(pepper), text)
        assert.ok(!text.includes('hunter2-url-password'), text)
      }
      assert.match(inspect(auth), /secretToken: '\[REDACTED\]'/)
      assert.match(inspect(auth), /redis:\/\/default:\*\*\*@127\.0\.0\.1:6379/)
      // The object still is the original's shape.
      assert.equal(auth.secretToken, pepper)
      assert.deepEqual(Object.keys({ ...auth }), Object.keys(auth))
    }
    const client = await redisClient()
    const auth = initializeHmacHttpAuth({ redis: client, secretToken: pepper })
    assert.ok(!inspect(auth, { depth: 10 }).includes(pepper))
    assert.match(inspect(auth), /redis: '\[Commander\]'|redis: '\[\w+\]'/)
  })

  test('an unsupported store URL is echoed without its password', () => {
    const native = createRequire(import.meta.url)('@authcore/native')
    assert.throws(() => new native.HmacAuth('mysql://root:hunter2@db:3306', {}), (e) => {
      assert.ok(!e.message.includes('hunter2'), e.message)
      assert.match(e.message, /mysql:\/\/root:\*\*\*@db:3306/)
      return true
    })
    assert.equal(native.redactUrl('rediss://:hunter2@cache:6380/0'), 'rediss://:***@cache:6380/0')
  })
})

