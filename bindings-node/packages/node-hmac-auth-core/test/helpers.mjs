// Test helpers: the backends every drop-in test runs against, a FakeRedis like the
// original's test-utils (camelCase, node-redis v4 call shapes), a lowercase
// ioredis-style fake, and request builders.
import { createClient } from 'redis'
import * as core from '../lib/index.js'

export const REDIS_URL = 'redis://127.0.0.1:6379'

/** The original's FakeRedis (test/helpers/test-utils.ts), with TTLs in ms. */
export class FakeRedis {
  constructor() {
    this.hashes = new Map()
    this.strings = new Map()
    this.calls = []
  }
  #expire() {
    const now = Date.now()
    for (const [k, v] of this.strings) if (v.expiresAt !== null && v.expiresAt <= now) this.strings.delete(k)
  }
  async hGet(k, f) {
    this.calls.push(['hGet', k, f])
    return this.hashes.get(k)?.get(f) ?? null
  }
  async hSet(k, f, v) {
    this.calls.push(['hSet', k, f, v])
    if (!this.hashes.has(k)) this.hashes.set(k, new Map())
    this.hashes.get(k).set(f, String(v))
    return 1
  }
  async hDel(k, f) {
    this.calls.push(['hDel', k, f])
    return this.hashes.get(k)?.delete(f) ? 1 : 0
  }
  async hKeys(k) {
    this.calls.push(['hKeys', k])
    return [...(this.hashes.get(k)?.keys() ?? [])]
  }
  async get(k) {
    this.calls.push(['get', k])
    this.#expire()
    return this.strings.get(k)?.value ?? null
  }
  async set(k, v, ...args) {
    this.calls.push(['set', k, v, ...args])
    this.#expire()
    let nx = false
    let ex = null
    if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null) {
      nx = !!args[0].NX
      ex = args[0].EX ?? null
    } else {
      for (let i = 0; i < args.length; i++) {
        if (args[i] === 'NX') nx = true
        if (args[i] === 'EX') ex = Number(args[++i])
      }
    }
    if (nx && this.strings.has(k)) return null
    this.strings.set(k, { value: String(v), expiresAt: ex === null ? null : Date.now() + ex * 1000 })
    return 'OK'
  }
  async del(k) {
    this.calls.push(['del', k])
    const keys = Array.isArray(k) ? k : [k]
    let n = 0
    for (const key of keys) {
      if (this.strings.delete(key)) n++
      if (this.hashes.delete(key)) n++
    }
    return n
  }
  hasHashKey(k) {
    return this.hashes.has(k)
  }
  ttlMs(k) {
    const e = this.strings.get(k)
    return e ? e.expiresAt - Date.now() : null
  }
}

/** An ioredis-style client: lowercase hash commands, `set(k, v, "EX", n, "NX")` only. */
export class LowercaseFakeRedis {
  constructor() {
    this.inner = new FakeRedis()
  }
  hget(k, f) {
    return this.inner.hGet(k, f)
  }
  hset(k, f, v) {
    return this.inner.hSet(k, f, v)
  }
  hdel(k, f) {
    return this.inner.hDel(k, f)
  }
  hkeys(k) {
    return this.inner.hKeys(k)
  }
  get(k) {
    return this.inner.get(k)
  }
  async set(k, v, ...args) {
    if (args.some((a) => typeof a === 'object')) throw new Error('ERR syntax error (ioredis takes tokens)')
    return this.inner.set(k, v, ...args)
  }
  del(k) {
    return this.inner.del(k)
  }
}

let counter = 0
export function uniqueNamespace(prefix = 'nodetest') {
  counter += 1
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter}`
}

let sharedClient
/** One node-redis v4 client for the whole test file (real Redis; fails if it is down). */
export async function redisClient() {
  if (!sharedClient) {
    sharedClient = createClient({ url: REDIS_URL, socket: { reconnectStrategy: false, connectTimeout: 2000 } })
    sharedClient.on('error', () => {})
    await sharedClient.connect()
  }
  return sharedClient
}

export async function closeRedis() {
  if (sharedClient) {
    await sharedClient.quit()
    sharedClient = undefined
  }
}

/** Delete every key of a namespace on the real Redis. */
export async function cleanupNamespace(ns) {
  const c = await redisClient()
  const keys = []
  for await (const k of c.scanIterator({ MATCH: `${ns}:*`, COUNT: 500 })) keys.push(k)
  if (keys.length) await c.del(keys)
}

/**
 * The backends of the drop-in: a real node-redis v4 client, a Redis URL (the core talks
 * to Redis), the embedded memory store, the original's FakeRedis and an ioredis-style
 * lowercase fake. `redis` is what the test passes as the `redis` option; `raw` gives
 * HGET/HSET/GET/TTL access to the same data for assertions.
 */
export const BACKENDS = ['node-redis', 'redis-url', 'memory', 'fake', 'lowercase-fake']

export async function makeBackend(kind) {
  switch (kind) {
    case 'node-redis': {
      const c = await redisClient()
      return {
        kind,
        redis: c,
        raw: {
          hget: (k, f) => c.hGet(k, f),
          hset: (k, f, v) => c.hSet(k, f, v),
          hexists: async (k) => (await c.exists(k)) === 1,
          get: (k) => c.get(k),
          ttlSeconds: (k) => c.ttl(k),
        },
      }
    }
    case 'redis-url': {
      const c = await redisClient()
      return {
        kind,
        redis: REDIS_URL,
        raw: {
          hget: (k, f) => c.hGet(k, f),
          hset: (k, f, v) => c.hSet(k, f, v),
          hexists: async (k) => (await c.exists(k)) === 1,
          get: (k) => c.get(k),
          ttlSeconds: (k) => c.ttl(k),
        },
      }
    }
    case 'memory': {
      const { createRequire } = await import('node:module')
      const native = createRequire(import.meta.url)('@authcore/native')
      const store = new native.HmacAuth('memory://', {})
      return {
        kind,
        redis: 'memory://',
        raw: {
          hget: async (k, f) => (await store.rawHget(k, f)) ?? null,
          hset: (k, f, v) => store.rawHset(k, f, v),
          hexists: async () => true,
          get: async (k) => (await store.rawGet(k)) ?? null,
          ttlSeconds: async () => null,
        },
      }
    }
    case 'fake':
    case 'lowercase-fake': {
      const client = kind === 'fake' ? new FakeRedis() : new LowercaseFakeRedis()
      const inner = kind === 'fake' ? client : client.inner
      return {
        kind,
        redis: client,
        fake: inner,
        raw: {
          hget: (k, f) => inner.hGet(k, f),
          hset: (k, f, v) => inner.hSet(k, f, v),
          hexists: async (k) => inner.hasHashKey(k),
          get: (k) => inner.get(k),
          ttlSeconds: async (k) => {
            const ms = inner.ttlMs(k)
            return ms === null ? -2 : Math.ceil(ms / 1000)
          },
        },
      }
    }
    default:
      throw new Error(`unknown backend ${kind}`)
  }
}

export function isRealRedis(kind) {
  return kind === 'node-redis' || kind === 'redis-url'
}

/** Headers (lowercase record) for a signed request, like the original's tests build them. */
export function signedHeaders({ method, url, body = '', clientId, secret, secretIsHashed, hashToken, nonce, timestamp }) {
  const h = core.buildHttpSignedHeaders({ method, url, body, clientId, secret, secretIsHashed, hashToken, nonce, timestamp })
  return Object.fromEntries(h.entries())
}

/** A mock Express response with chainable status/json. */
export function mockRes() {
  const res = {
    statusCode: undefined,
    body: undefined,
    status(code) {
      res.statusCode = code
      return res
    },
    json(b) {
      res.body = b
      return res
    },
  }
  return res
}
