// Node runner of the shared vectors: every case of ffi-tests/vectors/naskot/*.json and
// ffi-tests/vectors/hmac-*.json, through the drop-in package's public API
// (@authcore/node-hmac-auth-core) or, for ops the original does not export, through the
// native addon (@authcore/native). An unknown op fails.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import * as core from '@authcore/node-hmac-auth-core'

const require = createRequire(import.meta.url)
const native = require('@authcore/native')

const VECTORS = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors')

/** A minimal node-redis-v4-shaped in-memory client (what the original's tests use). */
class FakeRedis {
  constructor() {
    this.hashes = new Map()
    this.strings = new Map()
  }
  async hGet(k, f) {
    return this.hashes.get(k)?.get(f) ?? null
  }
  async hSet(k, f, v) {
    if (!this.hashes.has(k)) this.hashes.set(k, new Map())
    this.hashes.get(k).set(f, String(v))
    return 1
  }
  async hDel(k, f) {
    return this.hashes.get(k)?.delete(f) ? 1 : 0
  }
  async hKeys(k) {
    return [...(this.hashes.get(k)?.keys() ?? [])]
  }
  async get(k) {
    return this.strings.get(k) ?? null
  }
  async set(k, v, opts) {
    if (opts?.NX && this.strings.has(k)) return null
    this.strings.set(k, String(v))
    return 'OK'
  }
  async del(k) {
    return this.strings.delete(k) ? 1 : 0
  }
}

function bodyOf(input) {
  if (input.bodyHex !== undefined) return Buffer.from(input.bodyHex, 'hex')
  return input.body ?? ''
}

/** The vector error code of a thrown error. */
function codeOf(e) {
  if (e instanceof core.HmacAuthError) return e.code
  if (typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code) && !e.code.startsWith('ERR_')) return e.code
  if (e instanceof TypeError) return 'INVALID_INPUT'
  if (e instanceof Error) return 'INVALID_ARGUMENT'
  return `NOT_AN_ERROR(${String(e)})`
}

/** The HTTP status the middleware answers for a thrown error (non-auth errors: 500). */
function statusOf(e) {
  return e instanceof core.HmacAuthError ? e.status : 500
}

let nsCounter = 0
function uniqueNamespace() {
  nsCounter += 1
  return `vectors_${process.pid}_${Date.now()}_${nsCounter}`
}

async function verifyViaClient(input) {
  const redis = new FakeRedis()
  const namespace = uniqueNamespace()
  const clientId = String(Object.entries(input.headers).find(([k]) => k.toLowerCase() === 'x-client-id')?.[1] ?? '').trim()
  if (input.record !== null && input.record !== undefined) await redis.hSet(`${namespace}:clients`, clientId, input.record)
  return core.verifyHttpSignature({
    method: input.method,
    path: input.path,
    headers: input.headers,
    rawBody: bodyOf(input),
    redis,
    namespace,
    now: input.now,
    maxSkewMs: input.maxSkewMs,
    metadata: input.ipCandidates ? { ips: input.ipCandidates } : undefined,
  })
}

async function verifyViaMemoryUrl(input) {
  const namespace = uniqueNamespace()
  const store = new native.HmacAuth('memory://ffi-vectors', { namespace })
  const clientId = String(Object.entries(input.headers).find(([k]) => k.toLowerCase() === 'x-client-id')?.[1] ?? '').trim()
  if (input.record !== null && input.record !== undefined) await store.rawHset(`${namespace}:clients`, clientId, input.record)
  return core.verifyHttpSignature({
    method: input.method,
    path: input.path,
    headers: input.headers,
    rawBody: bodyOf(input),
    redis: 'memory://ffi-vectors',
    namespace,
    now: input.now,
    maxSkewMs: input.maxSkewMs,
    metadata: input.ipCandidates ? { ips: input.ipCandidates } : undefined,
  })
}

function verifySansIo(input) {
  const first = (name) => {
    const hit = Object.entries(input.headers).find(([k]) => k.toLowerCase() === name)
    if (!hit) return undefined
    const v = Array.isArray(hit[1]) ? hit[1][0] : hit[1]
    return v === '' ? undefined : v
  }
  const o = native.verifyWithRecord({
    method: input.method,
    path: input.path,
    clientId: first('x-client-id'),
    signature: first('x-signature'),
    timestamp: first('x-timestamp'),
    nonce: first('x-nonce'),
    body: bodyOf(input),
    now: input.now,
    maxSkewMs: input.maxSkewMs,
    record: input.record ?? undefined,
    ipCandidates: input.ipCandidates,
  })
  if (!o.ok) {
    if (o.isAuthError) throw new core.HmacAuthError(o.code, o.message, o.status)
    throw o.code === 'INVALID_INPUT' ? new TypeError(o.message) : new Error(o.message)
  }
  return { clientId: o.clientId, timestamp: o.timestamp, nonce: o.nonce, signature: o.signature }
}

/** op → call; returns the value to compare with `expect.ok`. */
const OPS = {
  hash_client_secret: (i) => core.hashClientSecret(i.secret, i.secretToken),
  hash_body: (i) => core.hashBody(bodyOf(i)),
  build_signing_payload: (i) =>
    core.buildSigningPayload({ method: i.method, path: i.path, timestamp: i.timestamp, nonce: i.nonce, body: bodyOf(i) }),
  sign_request: (i) =>
    core.signRequest({ method: i.method, path: i.path, timestamp: i.timestamp, nonce: i.nonce, body: bodyOf(i), secret: i.secret }),
  normalize_path: (i) => native.normalizePath(i.path),
  safe_equal_hex: (i) => core.safeEqualHex(i.a, i.b),
  message_canonical: (i) => native.toMessageString(i.message),
  sign_message: (i) =>
    core.signMessage({ clientId: i.clientId, message: i.message, secret: i.secret, secretIsHashed: i.secretIsHashed, hashToken: i.hashToken }),
  verify_message: (i) =>
    core.verifyMessage({
      clientId: i.clientId,
      message: i.message,
      secret: i.secret,
      secretIsHashed: i.secretIsHashed,
      hashToken: i.hashToken,
      signature: i.signature,
    }),
  ip_allowed: (i) => native.isClientIpAllowed(i.ip, i.rules),
  normalize_allowed_ips: (i) => native.normalizeAllowedIpRules(i.rules.map((r) => (typeof r === 'string' ? r : null))),
  parse_record: (i) => {
    const r = native.parseStoredClientRecord(i.raw)
    return { secretHash: r.secretHash, createdAt: r.createdAt, updatedAt: r.updatedAt, expiresAt: r.expiresAt ?? null, allowedIps: r.allowedIps }
  },
  // Three paths must agree: the drop-in over a RedisLikeClient, the drop-in over the
  // native memory store, and the sans-IO native call.
  verify_with_record: async (i) => {
    const results = []
    for (const run of [verifyViaClient, verifyViaMemoryUrl, async (x) => verifySansIo(x)]) {
      try {
        results.push({ ok: await run(i) })
      } catch (e) {
        results.push({ error: codeOf(e), status: statusOf(e), message: e?.message, thrown: e })
      }
    }
    const comparable = ({ thrown, ...r }) => r
    assert.deepEqual(comparable(results[1]), comparable(results[0]), 'memory:// path differs from the RedisLikeClient path')
    assert.deepEqual(comparable(results[2]), comparable(results[0]), 'sans-IO path differs from the RedisLikeClient path')
    if (results[0].error) throw results[0].thrown
    return results[0].ok
  },
}

async function runCase(c) {
  const op = OPS[c.op]
  assert.ok(op, `unknown op '${c.op}' in case ${c.id}`)
  let value
  let error
  try {
    value = await op(c.input)
  } catch (e) {
    error = e
  }
  if ('error' in c.expect) {
    assert.ok(error, `expected error ${c.expect.error}, got ${JSON.stringify(value)}`)
    assert.equal(codeOf(error), c.expect.error, `error code (message: ${error.message})`)
    if (c.expect.status !== undefined) assert.equal(statusOf(error), c.expect.status, 'HTTP status')
  } else {
    if (error) throw error
    assert.deepEqual(value, c.expect.ok)
  }
}

const files = readdirSync(VECTORS).filter((f) => /^hmac-.*\.json$/.test(f)).sort()
assert.ok(files.length > 0, 'no hmac-*.json vectors found')
let total = 0
for (const file of files) {
  const doc = JSON.parse(readFileSync(join(VECTORS, file), 'utf8'))
  test(`vectors/${file}`, async (t) => {
    for (const c of doc.cases) {
      total += 1
      await t.test(c.id, () => runCase(c))
    }
  })
}

test('vectors/naskot/hash-client-secret.json', async (t) => {
  const doc = JSON.parse(readFileSync(join(VECTORS, 'naskot', 'hash-client-secret.json'), 'utf8'))
  assert.equal(doc.cases.length, 20)
  for (const c of doc.cases) {
    await t.test(c.id, () => {
      // The original's test calls hashClientSecret(secret, secretToken || undefined).
      assert.equal(core.hashClientSecret(c.secret, c.secretToken || undefined), c.expectedHex)
      assert.equal(core.hashClientSecret(c.secret, c.secretToken), c.expectedHex)
    })
  }
})

test('vectors/naskot/sign-request.json', async (t) => {
  const doc = JSON.parse(readFileSync(join(VECTORS, 'naskot', 'sign-request.json'), 'utf8'))
  assert.equal(doc.cases.length, 33)
  for (const c of doc.cases) {
    await t.test(c.id, () => {
      const input = { method: c.method, path: c.path, timestamp: c.timestamp, nonce: c.nonce, body: c.body, secret: c.secret }
      assert.equal(core.signRequest(input), c.expectedHex)
      // The signature must also be what verification accepts.
      assert.equal(core.safeEqualHex(core.signRequest(input), c.expectedHex.toUpperCase()), true)
    })
  }
})

test('every vector file was read', () => {
  const other = readdirSync(join(VECTORS, 'naskot')).filter((f) => f.endsWith('.json')).sort()
  assert.deepEqual(other, ['hash-client-secret.json', 'sign-request.json'], 'a new naskot vector file needs a runner')
})
