'use strict'
// @authcore/node-hmac-auth-core: a drop-in for @naskot/node-hmac-auth-core 1.0.0 on the
// authcore Rust core. This file only orchestrates (option handling, the original's call
// order, duck-typed Redis I/O, Express/fetch glue); every rule (hashing, signing, path
// normalisation, header/timestamp/skew checks, records, IP allow-list, canonical JSON,
// the credential lifecycle plans) runs in the native core. See docs/compat.md (Node).

const { inspect } = require('node:util')
const native = require('@authcore/native')

const DEFAULT_MAX_SKEW_MS = 300000
const DEFAULT_ATTACH_AUTH_TO = 'hmacAuth'

// ------------------------------------------------------------------ errors

class HmacAuthError extends Error {
  constructor(code, message, status = 401) {
    super(message)
    this.name = 'HmacAuthError'
    this.code = code
    this.status = status
  }
}

/** Rebuild the original's error from a native error or a failed verification outcome. */
function toJsError(e) {
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') return e
  if (e.isHmacAuthError === true || e.isAuthError === true) {
    return new HmacAuthError(e.code, e.message, e.status)
  }
  switch (e.code) {
    case 'INVALID_ARGUMENT':
      return new Error(e.message)
    case 'INVALID_INPUT': {
      const t = new TypeError(e.message)
      t.code = e.message === 'Invalid URL' ? 'ERR_INVALID_URL' : 'ERR_INVALID_ARG_TYPE'
      return t
    }
    default: {
      if (e instanceof Error) return e
      const err = new Error(e.message)
      err.code = e.code
      return err
    }
  }
}

function call(fn) {
  try {
    return fn()
  } catch (e) {
    throw toJsError(e)
  }
}

async function callAsync(promise) {
  try {
    return await promise
  } catch (e) {
    throw toJsError(e)
  }
}

/** A numeric option as the original would use it (`Number()` coercion); absent stays absent. */
function numberOption(v) {
  return v === undefined || v === null ? undefined : Number(v)
}

/** `maxSkewMs` fails closed (the core's check): NaN, Infinity or above 24 h throw. */
function checkMaxSkewMs(v) {
  if (v !== undefined && v !== null) call(() => native.checkMaxSkewMs(Number(v)))
}

/**
 * `util.inspect`/`console.log` of an object holding secrets: the listed keys print as
 * `[REDACTED]` and a store URL without its password (the core's redaction). The property
 * is non-enumerable, so spreading the object copies the original's keys only.
 */
function redactInspect(obj, secretKeys) {
  Object.defineProperty(obj, inspect.custom, {
    value(depth, options, inspectFn) {
      const shown = { ...this }
      for (const k of secretKeys) if (shown[k] !== undefined && shown[k] !== null) shown[k] = '[REDACTED]'
      if (typeof shown.redis === 'string') shown.redis = native.redactUrl(shown.redis)
      // A client object carries its own connection options (password included).
      else if (shown.redis && typeof shown.redis === 'object') shown.redis = `[${shown.redis.constructor?.name ?? 'Object'}]`
      return (inspectFn ?? inspect)(shown, options)
    },
  })
  return obj
}

function typeError(message) {
  const e = new TypeError(message)
  e.code = 'ERR_INVALID_ARG_TYPE'
  return e
}

function requireString(v, name) {
  if (typeof v !== 'string') {
    throw typeError(`The "${name}" argument must be of type string. Received ${describe(v)}`)
  }
  return v
}

function describe(v) {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (typeof v === 'object') return `an instance of ${v.constructor?.name ?? 'Object'}`
  return `type ${typeof v} (${String(v)})`
}

// ------------------------------------------------------------------ pure crypto (§2.2)

function hashClientSecret(secret, secretToken) {
  requireString(secret, 'secret')
  if (secretToken !== undefined && secretToken !== null) requireString(secretToken, 'secretToken')
  return call(() => native.hashClientSecret(secret, secretToken ?? undefined))
}

function bytesOrString(body, name) {
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return body
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  throw typeError(`The "${name}" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ${describe(body)}`)
}

function hashBody(body) {
  return call(() => native.hashBody(bytesOrString(body, 'data')))
}

function signInput(input, withSecret) {
  if (!input || typeof input !== 'object') throw typeError('input must be an object')
  requireString(input.method, 'method')
  requireString(input.path, 'path')
  if (typeof input.timestamp !== 'number') throw typeError(`The "timestamp" field must be a number. Received ${describe(input.timestamp)}`)
  const out = {
    method: input.method,
    path: input.path,
    timestamp: input.timestamp,
    nonce: String(input.nonce),
    body: bytesOrString(input.body, 'body'),
  }
  if (withSecret) out.secret = requireString(input.secret, 'secret')
  return out
}

// A JS string with lone surrogates cannot cross to Rust unchanged (it is hashed and signed
// as UTF-8 with U+FFFD, exactly as Node's crypto does); where a function returns the
// caller's own text (the signing payloads, the trimmed clientId), that text is put back
// from JS so it is the original's string.
function buildSigningPayload(input) {
  const args = signInput(input, false)
  if (args.method.isWellFormed() && args.nonce.isWellFormed()) {
    return call(() => native.buildSigningPayload(args))
  }
  // Path, timestamp and body digest from the core (none holds a line break), the rest here.
  const parts = call(() => native.buildSigningPayload({ ...args, method: '', nonce: '' })).split('\n')
  return `${args.method.toUpperCase()}\n${parts[1]}\n${parts[2]}\n${args.nonce}\n${parts[4]}`
}

function signRequest(input) {
  return call(() => native.signRequest(signInput(input, true)))
}

function safeEqualHex(a, b) {
  requireString(a, 'a')
  requireString(b, 'b')
  return native.safeEqualHex(a, b)
}

// ------------------------------------------------------------------ helpers (§2.3)

function isJsonObjectBody(v) {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Buffer.isBuffer(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof URLSearchParams) &&
    !(typeof FormData !== 'undefined' && v instanceof FormData) &&
    !(typeof Blob !== 'undefined' && v instanceof Blob) &&
    !(v instanceof ArrayBuffer)
  )
}

/**
 * `toBodyString(raw)` reduced to what the core hashes: a string, or bytes (decoded as
 * lossy UTF-8 by the core, exactly like `Buffer#toString("utf8")`).
 */
function bodyForHashing(raw) {
  if (raw === null || raw === undefined) return ''
  if (typeof raw === 'string') return raw
  if (raw instanceof Uint8Array) return raw
  if (raw instanceof URLSearchParams) return raw.toString()
  switch (typeof raw) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${raw}`
    case 'symbol':
    case 'function':
      return raw.toString()
    default: {
      const json = JSON.stringify(raw)
      if (json === undefined) throw typeError('The body serialises to undefined')
      return json
    }
  }
}

/** `toBodyString(raw)` as text. */
function toBodyString(raw) {
  const b = bodyForHashing(raw)
  return typeof b === 'string' ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')
}

// ------------------------------------------------------------------ Redis layer (§2.5)

const MISSING_COMMANDS =
  'Redis client is missing required commands (hGet/hSet/hDel/hKeys + get/set/del, or hget/hset/hdel/hkeys + get/set/del)'

function isFn(v) {
  return typeof v === 'function'
}

function assertRedisClient(client) {
  const ok =
    !!client &&
    (typeof client === 'object' || typeof client === 'function') &&
    (isFn(client.hGet) || isFn(client.hget)) &&
    (isFn(client.hSet) || isFn(client.hset)) &&
    (isFn(client.hDel) || isFn(client.hdel)) &&
    (isFn(client.hKeys) || isFn(client.hkeys)) &&
    isFn(client.set) &&
    isFn(client.get) &&
    isFn(client.del)
  if (!ok) throw new Error(MISSING_COMMANDS)
}

async function redisHGet(c, k, f) {
  const fn = isFn(c.hGet) ? 'hGet' : isFn(c.hget) ? 'hget' : null
  if (!fn) throw new Error('Redis client does not expose hGet/hget')
  const v = await c[fn](k, f)
  return v === null || v === undefined ? null : String(v)
}

async function redisHSet(c, k, f, v) {
  const fn = isFn(c.hSet) ? 'hSet' : isFn(c.hset) ? 'hset' : null
  if (!fn) throw new Error('Redis client does not expose hSet/hset')
  return c[fn](k, f, v)
}

async function redisHDel(c, k, f) {
  const fn = isFn(c.hDel) ? 'hDel' : isFn(c.hdel) ? 'hdel' : null
  if (!fn) throw new Error('Redis client does not expose hDel/hdel')
  return c[fn](k, f)
}

async function redisHKeys(c, k) {
  const fn = isFn(c.hKeys) ? 'hKeys' : isFn(c.hkeys) ? 'hkeys' : null
  if (!fn) throw new Error('Redis client does not expose hKeys/hkeys')
  const v = await c[fn](k)
  return Array.isArray(v) ? v.map(String) : []
}

async function redisSetNxEx(c, k, v, ttl) {
  if (!isFn(c.set)) throw new Error('Redis client does not expose set')
  try {
    const r = await c.set(k, v, { NX: true, EX: ttl })
    if (r === 'OK' || r === true) return true
    if (r === null || r === undefined) return false
  } catch {
    // fall through to the ioredis call shape
  }
  const r = await c.set(k, v, 'EX', ttl, 'NX')
  return r === 'OK' || r === true
}

async function redisSetEx(c, k, v, ttl) {
  if (!isFn(c.set)) throw new Error('Redis client does not expose set')
  try {
    const r = await c.set(k, v, { EX: ttl })
    if (r === 'OK' || r === true) return
  } catch {
    // fall through to the ioredis call shape
  }
  await c.set(k, v, 'EX', ttl)
}

async function redisGet(c, k) {
  if (!isFn(c.get)) throw new Error('Redis client does not expose get')
  const v = await c.get(k)
  return v === null || v === undefined ? null : String(v)
}

async function redisDel(c, k) {
  if (!isFn(c.del)) throw new Error('Redis client does not expose del')
  return c.del(k)
}

function resolveNamespace(namespace) {
  return call(() => native.buildNamespaceKeys(namespace ?? undefined)).namespace
}

function buildRedisNamespaceKeys(namespace) {
  const k = call(() => native.buildNamespaceKeys(namespace ?? undefined))
  return {
    clientsHashKey: k.clientsHashKey,
    nonceKeyPrefix: k.nonceKeyPrefix,
    credentialBackupKeyPrefix: k.credentialBackupKeyPrefix,
  }
}

function recordOf(r) {
  return {
    secretHash: r.secretHash,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    expiresAt: r.expiresAt ?? null,
    allowedIps: r.allowedIps,
  }
}

class RedisCredentialStore {
  constructor(client, namespace) {
    assertRedisClient(client)
    const keys = buildRedisNamespaceKeys(namespace)
    this.client = client
    this.hashKey = keys.clientsHashKey
    this.backupKeyPrefix = keys.credentialBackupKeyPrefix
  }

  async setBackupSecretHash(clientId, secretHash, ttlSeconds) {
    await redisSetEx(this.client, `${this.backupKeyPrefix}:${clientId}`, secretHash, ttlSeconds)
  }

  async getBackupSecretHash(clientId) {
    return redisGet(this.client, `${this.backupKeyPrefix}:${clientId}`)
  }

  async clearBackupSecretHash(clientId) {
    await redisDel(this.client, `${this.backupKeyPrefix}:${clientId}`)
  }

  async getClientRecord(clientId) {
    const raw = await redisHGet(this.client, this.hashKey, clientId)
    const r = native.parseOptionalClientRecord(raw ?? undefined)
    return r ? recordOf(r) : null
  }

  async setClientRecord(clientId, record) {
    await redisHSet(this.client, this.hashKey, clientId, JSON.stringify(record))
  }

  async getSecretHash(clientId) {
    const r = await this.getClientRecord(clientId)
    return r ? r.secretHash : null
  }

  async setSecretHash(clientId, secretHash) {
    const existing = await this.getClientRecord(clientId)
    const now = Date.now()
    await this.setClientRecord(clientId, {
      secretHash,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      expiresAt: existing?.expiresAt ?? null,
      allowedIps: existing?.allowedIps ?? [],
    })
  }

  async listClientIds() {
    return redisHKeys(this.client, this.hashKey)
  }

  async deleteClient(clientId) {
    await redisHDel(this.client, this.hashKey, clientId)
  }
}

class RedisNonceStore {
  constructor(client, namespace) {
    assertRedisClient(client)
    this.client = client
    this.keyPrefix = buildRedisNamespaceKeys(namespace).nonceKeyPrefix
  }

  async consume(key, ttlSeconds) {
    return redisSetNxEx(this.client, `${this.keyPrefix}:${key}`, '1', ttlSeconds)
  }
}

// ------------------------------------------------------------------ stores: JS client or native URL

// The core's store-URL parser decides (`isStoreUrl` of the addon); the last string asked
// about is remembered, since a verifier asks about the same option on every request.
let lastUrl
let lastIsStoreUrl = false
function isStoreUrl(v) {
  if (typeof v !== 'string') return false
  if (v !== lastUrl) {
    lastIsStoreUrl = native.isStoreUrl(v)
    lastUrl = v
  }
  return lastIsStoreUrl
}

const nativeInstances = new Map()

/** One native instance per (URL, instance options): shares the process-wide store. */
function nativeAuthFor(url, options) {
  const key = JSON.stringify([url, options.namespace ?? null, options.secretToken ?? null,
    options.defaultSecretLengthBytes ?? null, options.dbSeedBackupTtlSeconds ?? null])
  let inst = nativeInstances.get(key)
  if (!inst) {
    inst = call(() => new native.HmacAuth(url, {
      namespace: options.namespace ?? undefined,
      secretToken: options.secretToken ?? undefined,
      defaultSecretLengthBytes: options.defaultSecretLengthBytes ?? undefined,
      dbSeedBackupTtlSeconds: numberOption(options.dbSeedBackupTtlSeconds),
    }))
    nativeInstances.set(key, inst)
  }
  return inst
}

/** Validate `redis` like the original (falsy → mandatory; not a client → missing commands). */
function checkRedisOption(redis) {
  if (isStoreUrl(redis)) return
  assertRedisClient(redis)
}

// ------------------------------------------------------------------ verification (§2.7)

/**
 * The four header values as the verifier reads them, plus `x-forwarded-for`: the core's
 * `getHeader` rule (first case-insensitive match in `Object.keys` order, an array gives its
 * first element), read by the addon. A non-string `x-client-id` is a `TypeError`.
 */
function requestHeaders(headers) {
  const v = call(() => native.requestHeaders(headers))
  return {
    clientId: v[0] ?? undefined,
    signature: v[1] ?? undefined,
    timestamp: v[2] ?? undefined,
    nonce: v[3] ?? undefined,
    forwardedFor: v[4] ?? undefined,
  }
}

/**
 * The request's IP sources in the addon's fixed shape, `[metadata.ip, metadata.ips,
 * metadata.forwardedFor, x-forwarded-for, metadata.remoteAddress]`: which values count
 * and the order the candidates are tried in are the core's (`hmac::sources`).
 */
function ipSources(metadata, forwardedFor) {
  const m = metadata && typeof metadata === 'object' ? metadata : undefined
  const header = typeof forwardedFor === 'string' ? forwardedFor : undefined
  if (m === undefined) return header === undefined ? undefined : [undefined, undefined, undefined, header, undefined]
  return [m.ip, m.ips, m.forwardedFor, header, m.remoteAddress]
}

async function failVerification(outcome, input, method, onBadSignature = input.onBadSignature) {
  if (outcome.code === 'BAD_SIGNATURE' && outcome.badSignature && isFn(onBadSignature)) {
    const d = outcome.badSignature
    try {
      await onBadSignature({
        clientId: d.clientId,
        method,
        path: d.path,
        timestamp: d.timestamp,
        nonce: d.nonce,
        receivedSignature: d.receivedSignature,
        expectedSignature: d.expectedSignature,
        headers: input.headers,
        rawBody: input.rawBody,
        metadata: input.metadata,
      })
    } catch {
      // the original swallows callback failures
    }
  }
  throw toJsError(outcome)
}

function verified(o) {
  return { clientId: o.clientId, timestamp: o.timestamp, nonce: o.nonce, signature: o.signature }
}

/**
 * Counts one verification done through a RedisLikeClient in the core's metrics
 * (`authcore_verify_total{outcome}` and the latency histogram, as the native verifier
 * counts its own) and emits its log event. `outcome` is the failed outcome, or null.
 */
function observeVerify(clientIdHeader, outcome, t0) {
  native.verifyObserved(
    typeof clientIdHeader === 'string' ? clientIdHeader.trim() : undefined,
    outcome ? outcome.code : undefined,
    performance.now() - t0,
  )
  return outcome
}

const STORE_ERROR = { code: 'STORE_ERROR' }

async function verifyWithClient(redis, input, namespace, maxSkew = input.maxSkewMs, onBadSignature = input.onBadSignature) {
  const t0 = performance.now()
  const method = requireString(input.method, 'method')
  const path = requireString(input.path, 'path')
  const now = Number(input.now ?? Date.now())
  const maxSkewMs = Number(maxSkew ?? DEFAULT_MAX_SKEW_MS)
  const h = requestHeaders(input.headers)
  // Steps 2–7 (no I/O): a request failing them touches Redis 0 times, like the original.
  const prepared = call(() =>
    native.verifyRecordFast(method, path, h.clientId, h.signature, h.timestamp, h.nonce, undefined, now, maxSkewMs, namespace, undefined, undefined, true),
  )
  if (!prepared.ok) return failVerification(observeVerify(h.clientId, prepared, t0), input, method, onBadSignature)
  let record
  try {
    record = await redisHGet(redis, `${namespace}:clients`, prepared.clientId)
  } catch (e) {
    observeVerify(h.clientId, STORE_ERROR, t0)
    throw e
  }
  const body = bodyForHashing(input.rawBody)
  const ips = ipSources(input.metadata, h.forwardedFor)
  const checked = call(() =>
    native.verifyRecordFast(method, path, h.clientId, h.signature, h.timestamp, h.nonce, body, now, maxSkewMs, namespace, record ?? undefined, ips, false),
  )
  if (!checked.ok) return failVerification(observeVerify(h.clientId, checked, t0), input, method, onBadSignature)
  let claimed
  try {
    claimed = await redisSetNxEx(redis, checked.nonceKey, '1', checked.nonceTtlSeconds)
  } catch (e) {
    observeVerify(h.clientId, STORE_ERROR, t0)
    throw e
  }
  if (!claimed) return failVerification(observeVerify(h.clientId, native.replayedNonceOutcome(), t0), input, method, onBadSignature)
  observeVerify(checked.clientId, null, t0)
  return { clientId: checked.clientId, timestamp: checked.timestamp, nonce: h.nonce, signature: h.signature }
}

const pumps = new WeakMap()
const noop = () => {}

/**
 * Verification through a native instance's completion queue: one long-lived threadsafe
 * function per instance instead of a promise per call (`verifySubmit` +
 * `drainCompletions`). A timer keeps the event loop alive while requests are in flight.
 */
function pumpOf(auth) {
  let pump = pumps.get(auth)
  if (pump) return pump
  const pending = new Map()
  let nextId = 0
  let keepAlive = null
  auth.startCompletions(() => {
    const done = auth.drainCompletions()
    for (let i = 0; i < done.length; i++) {
      const o = done[i]
      const resolve = pending.get(o.id)
      if (resolve !== undefined) {
        pending.delete(o.id)
        resolve(o)
      }
    }
    if (pending.size === 0 && keepAlive !== null) {
      clearInterval(keepAlive)
      keepAlive = null
    }
  })
  // The headers and metadata objects go to the addon as they are: the core's getHeader
  // rule and IP candidate order read them inside this one call (measured in
  // bench/node/verify-headers.mjs against the rule in JS and against an extra call).
  pump = (method, path, headers, body, now, maxSkewMs, metadata) => {
    nextId = nextId >= 0x7fffffff ? 1 : nextId + 1
    const id = nextId
    auth.verifySubmitRequest(id, method, path, headers, body, now, maxSkewMs, metadata)
    const p = new Promise((resolve) => pending.set(id, resolve))
    if (keepAlive === null) keepAlive = setInterval(noop, 1 << 30)
    return p
  }
  pumps.set(auth, pump)
  return pump
}

function verifyWithNative(auth, input, maxSkew = input.maxSkewMs, onBadSignature = input.onBadSignature) {
  let method, path, now, maxSkewMs, body, submitted
  try {
    method = requireString(input.method, 'method')
    path = requireString(input.path, 'path')
    now = Number(input.now ?? Date.now())
    maxSkewMs = Number(maxSkew ?? DEFAULT_MAX_SKEW_MS)
    try {
      const raw = bodyForHashing(input.rawBody)
      body = typeof raw === 'string' || Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
    } catch (e) {
      // The headers are read before the body: their TypeError comes first.
      requestHeaders(input.headers)
      throw e
    }
    submitted = pumpOf(auth)(method, path, input.headers, body, now, maxSkewMs, input.metadata)
  } catch (e) {
    return Promise.reject(toJsError(e))
  }
  return submitted.then((o) =>
    o.ok
      ? { clientId: o.clientId, timestamp: o.timestamp, nonce: o.nonce, signature: o.signature }
      : failVerification(o, input, method, onBadSignature),
  )
}

/**
 * `verifyHttpSignature(input)`. `input.redis` is a RedisLikeClient (I/O through it, the
 * original's two round trips), or a store URL (`redis://…`: the core verifies in one
 * round trip; `memory://`: the embedded store).
 */
async function verifyHttpSignature(input) {
  const redis = input?.redis
  if (isStoreUrl(redis)) {
    const auth = nativeAuthFor(redis, { namespace: input.namespace })
    return verifyWithNative(auth, input)
  }
  assertRedisClient(redis)
  const namespace = resolveNamespace(input.namespace)
  return verifyWithClient(redis, input, namespace)
}

// ------------------------------------------------------------------ Express adapter (§2.8)

function rawBodyOf(req) {
  if (req.rawBody !== null && req.rawBody !== undefined) return req.rawBody
  if (req.body === null || req.body === undefined) return ''
  if (typeof req.body === 'string') return req.body
  if (Buffer.isBuffer(req.body)) return req.body
  return JSON.stringify(req.body)
}

function requestMetadata(req) {
  return {
    ip: req?.ip,
    ips: req?.ips,
    remoteAddress: req?.socket?.remoteAddress,
    forwardedFor: req?.headers?.['x-forwarded-for'],
  }
}

function toMiddlewareError(error) {
  return error instanceof HmacAuthError ? error : new HmacAuthError('INTERNAL_ERROR', 'Internal auth error', 500)
}

function sendError(err, req, res, next, onError) {
  if (isFn(onError)) {
    onError(err, req, res, next)
    return
  }
  if (res && isFn(res.status) && isFn(res.json)) {
    res.status(err.status).json({ error: err.code, message: err.message })
    return
  }
  next(err)
}

/** The middleware over any verifier `(input) => Promise<VerifiedHttpRequest>`. */
function buildMiddleware(verify, options) {
  const attachAuthTo = options.attachAuthTo ?? DEFAULT_ATTACH_AUTH_TO
  return async function hmacMiddleware(req, res, next) {
    try {
      const result = await verify({
        method: req.method,
        path: req.originalUrl ?? req.url,
        headers: req.headers,
        rawBody: rawBodyOf(req),
        maxSkewMs: options.maxSkewMs,
        onBadSignature: options.onBadSignature,
        metadata: requestMetadata(req),
      })
      req[attachAuthTo] = result
      // Like the original, next() runs inside the try: a synchronous throw from it is
      // answered as an auth error.
      next()
    } catch (error) {
      sendError(toMiddlewareError(error), req, res, next, options.onError)
    }
  }
}

function createExpressHttpHmacMiddleware(options) {
  if (!options?.redis) throw new Error('Redis connection is mandatory')
  checkMaxSkewMs(options.maxSkewMs)
  const verify = (input) =>
    verifyHttpSignature({ ...input, redis: options.redis, namespace: options.namespace })
  return buildMiddleware(verify, options)
}

const createHttpHmacMiddleware = createExpressHttpHmacMiddleware

function captureRawBody(req, _res, buf) {
  req.rawBody = Buffer.from(buf)
}

// ------------------------------------------------------------------ signed fetch (§2.9)

function bodyForSigning(body) {
  return bodyForHashing(body)
}

function buildHttpSignedHeaders(input) {
  const headers = new Headers(input.headers)
  requireString(input.clientId, 'clientId')
  requireString(input.secret, 'secret')
  const v = call(() =>
    native.buildSignedHeaders({
      method: requireString(input.method, 'method'),
      url: requireString(input.url, 'url'),
      body: bodyForSigning(input.body),
      clientId: input.clientId,
      secret: input.secret,
      secretIsHashed: !!input.secretIsHashed,
      hashToken: input.hashToken ?? undefined,
      nonce: input.nonce === undefined || input.nonce === null ? undefined : String(input.nonce),
      timestamp: input.timestamp ?? undefined,
    }),
  )
  headers.set('x-client-id', input.clientId)
  headers.set('x-timestamp', v.timestamp)
  headers.set('x-nonce', v.nonce)
  headers.set('x-signature', v.signature)
  return headers
}

// Options that configure signing; they are not forwarded to fetch (the original spread
// them, secret included, into the RequestInit: see docs/compat.md).
const SIGNING_OPTION_KEYS = ['clientId', 'secret', 'secretIsHashed', 'hashToken', 'nonce', 'timestamp', 'fetchImpl']

async function signedHttpFetch(url, options) {
  const fetchImpl = options?.fetchImpl ?? globalThis.fetch
  if (!isFn(fetchImpl)) throw new Error('No fetch implementation available')
  const method = (options.method ?? (options.body == null ? 'GET' : 'POST')).toUpperCase()
  const headers = new Headers(options.headers)
  const body = options.body
  let bodyForRequest
  let signedOver
  if (body === null || body === undefined) {
    bodyForRequest = undefined
    signedOver = ''
  } else if (typeof body === 'string' || body instanceof Uint8Array) {
    bodyForRequest = toBodyString(body)
    signedOver = bodyForRequest
  } else if (body instanceof URLSearchParams) {
    bodyForRequest = body
    signedOver = body.toString()
    if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8')
  } else if (isJsonObjectBody(body)) {
    bodyForRequest = JSON.stringify(body)
    signedOver = bodyForRequest
    if (!headers.has('content-type')) headers.set('content-type', 'application/json')
  } else {
    bodyForRequest = body
    signedOver = toBodyString(body)
  }
  const signedHeaders = buildHttpSignedHeaders({
    method,
    url: String(url),
    body: signedOver,
    clientId: options.clientId,
    secret: options.secret,
    secretIsHashed: options.secretIsHashed,
    hashToken: options.hashToken,
    nonce: options.nonce,
    timestamp: options.timestamp,
    headers,
  })
  const init = { ...options }
  for (const k of SIGNING_OPTION_KEYS) delete init[k]
  init.method = method
  init.headers = signedHeaders
  init.body = method === 'GET' || method === 'HEAD' ? undefined : bodyForRequest
  return fetchImpl(url, init)
}

function mergeHeaders(base, extra) {
  const headers = new Headers(base)
  if (extra) new Headers(extra).forEach((value, key) => headers.set(key, value))
  return headers
}

function createHttpSignedFetchClient(options) {
  const key = options.secretIsHashed ? options.secret : hashClientSecret(options.secret, options.hashToken)
  return async function signedClientFetch(url, callOptions = {}) {
    return signedHttpFetch(url, {
      ...callOptions,
      headers: mergeHeaders(options.defaultHeaders, callOptions.headers),
      clientId: options.clientId,
      secret: key,
      secretIsHashed: true,
      fetchImpl: options.fetchImpl,
    })
  }
}

// ------------------------------------------------------------------ clients lifecycle (§2.11)

function expiresPatch(v) {
  if (v === undefined) return { expiresAtKind: 0 }
  if (v === null) return { expiresAtKind: 1 }
  return { expiresAtKind: 2, expiresAt: v instanceof Date ? v.getTime() : Number(v) }
}

function ipsPatch(v) {
  if (v === undefined) return { allowedIpsKind: 0 }
  if (v === null) return { allowedIpsKind: 1 }
  if (!Array.isArray(v)) return { allowedIpsKind: 3 }
  return { allowedIpsKind: 2, allowedIps: v.map((x) => (typeof x === 'string' ? x : null)) }
}

function patchesOf(expiresAt, allowedIps) {
  return { ...expiresPatch(expiresAt), ...ipsPatch(allowedIps) }
}

function secretChoice(opts) {
  const o = opts ?? {}
  const c = {}
  if (o.plainSecret !== undefined) {
    if (typeof o.plainSecret === 'string') {
      c.plainSecretKind = 2
      c.plainSecret = o.plainSecret
    } else {
      c.plainSecretKind = 1
    }
  }
  if (o.secretLengthBytes !== undefined && o.secretLengthBytes !== null) {
    c.secretLengthBytes = typeof o.secretLengthBytes === 'number' ? o.secretLengthBytes : Number.NaN
  }
  if (o.preserveExpiresAt === false) c.preserveExpiresAt = false
  return c
}

function credentialOf(clientId, r, secret) {
  const out = {
    clientId,
    secretHash: r.secretHash,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    expiresAt: r.expiresAt ?? null,
    allowedIps: r.allowedIps,
  }
  if (secret !== undefined) out.secret = secret
  return out
}

/** `options.<first>` read the way the original reads it: no options object is the
 * `TypeError` of a property read on `undefined`/`null`. */
function optionsObject(options, first) {
  if (options === undefined || options === null) {
    throw new TypeError(`Cannot read properties of ${options} (reading '${first}')`)
  }
  return options
}

/** The original's `assertClientId` first: a falsy id (`undefined`, `null`, `''`) is
 * `MISSING_CLIENT_ID` (400), not a type error; other non-strings are `TypeError`s. */
function clientIdArg(clientId) {
  if (!clientId) throw new HmacAuthError('MISSING_CLIENT_ID', 'clientId cannot be empty', 400)
  requireString(clientId, 'clientId')
  return clientId
}

function authOptionsOf(o) {
  return {
    namespace: o.namespace ?? undefined,
    secretToken: o.secretToken ?? undefined,
    defaultSecretLengthBytes: o.defaultSecretLengthBytes ?? undefined,
    dbSeedBackupTtlSeconds: numberOption(o.dbSeedBackupTtlSeconds),
  }
}

/** The lifecycle over a RedisLikeClient: native plans, I/O through the JS client. */
function createJsClients(redis, options) {
  const opts = authOptionsOf(options)
  const keys = buildRedisNamespaceKeys(options.namespace)
  const hashKey = keys.clientsHashKey
  const read = (clientId) => redisHGet(redis, hashKey, clientId)
  const write = async (plan) => {
    if (plan.backupSecretHash !== undefined && plan.backupSecretHash !== null) {
      await redisSetEx(redis, plan.backupKey, plan.backupSecretHash, plan.backupTtlSeconds)
    }
    await redisHSet(redis, plan.clientsHashKey, plan.clientIdField, plan.recordJson)
  }
  const assertId = (clientId) => call(() => native.assertClientId(clientIdArg(clientId)))
  return {
    async create(createOptions) {
      const o = optionsObject(createOptions, 'clientId')
      const clientId = clientIdArg(o.clientId)
      const plan = call(() =>
        native.planCreate(opts, clientId, secretChoice(o), patchesOf(o.expiresAt ?? null, o.allowedIps ?? null), Date.now()),
      )
      await redisHSet(redis, plan.clientsHashKey, clientId, plan.recordJson)
      return credentialOf(clientId, plan.record, plan.secret)
    },
    async listClientIds() {
      return redisHKeys(redis, hashKey)
    },
    async get(clientId) {
      assertId(clientId)
      const r = native.parseOptionalClientRecord((await read(clientId)) ?? undefined)
      return r ? credentialOf(clientId, r) : null
    },
    async delete(clientId) {
      assertId(clientId)
      await redisHDel(redis, hashKey, clientId)
    },
    async regenerateSecret(clientId, regenOptions = {}) {
      assertId(clientId)
      const existing = await read(clientId)
      const o = regenOptions ?? {}
      const plan = call(() =>
        native.planRegenerate(opts, clientId, existing ?? undefined, secretChoice(o), patchesOf(o.expiresAt, o.allowedIps), Date.now()),
      )
      await write({ ...plan, clientIdField: clientId })
      return credentialOf(clientId, plan.record, plan.secret)
    },
    async setSecret(clientId, secret, expiresAt, allowedIps) {
      assertId(clientId)
      requireString(secret, 'secret')
      const existing = await read(clientId)
      const plan = call(() =>
        native.planSetSecret(opts, clientId, existing ?? undefined, secret, false, patchesOf(expiresAt, allowedIps), Date.now()),
      )
      await write({ ...plan, clientIdField: clientId })
    },
    async setSecretHash(clientId, secretHash, expiresAt, allowedIps) {
      assertId(clientId)
      requireString(secretHash, 'secretHash')
      const existing = await read(clientId)
      const plan = call(() =>
        native.planSetSecret(opts, clientId, existing ?? undefined, secretHash, true, patchesOf(expiresAt, allowedIps), Date.now()),
      )
      await write({ ...plan, clientIdField: clientId })
    },
    async setAllowedIps(clientId, allowedIps) {
      assertId(clientId)
      const existing = await read(clientId)
      const plan = call(() =>
        native.planSetAllowedIps(opts, clientId, existing ?? undefined, patchesOf(undefined, allowedIps), Date.now()),
      )
      await redisHSet(redis, plan.clientsHashKey, clientId, plan.recordJson)
    },
    async getSecretHash(clientId) {
      assertId(clientId)
      const r = native.parseOptionalClientRecord((await read(clientId)) ?? undefined)
      return r ? r.secretHash : null
    },
    async revert(clientId) {
      assertId(clientId)
      const backupKey = `${keys.credentialBackupKeyPrefix}:${clientId}`
      const backup = await redisGet(redis, backupKey)
      if (!backup) return { reverted: false }
      const existing = await read(clientId)
      const plan = call(() => native.planRevert(opts, clientId, existing ?? undefined, backup, Date.now()))
      if (!plan) {
        await redisDel(redis, backupKey)
        return { reverted: false }
      }
      await redisHSet(redis, plan.clientsHashKey, clientId, plan.recordJson)
      await redisDel(redis, backupKey)
      return { reverted: true, restoredSecretHash: backup }
    },
  }
}

/** The lifecycle over a native store (`memory://`, `redis://…`): the core does the I/O. */
function createNativeClients(auth) {
  return {
    async create(createOptions) {
      const o = optionsObject(createOptions, 'clientId')
      const clientId = clientIdArg(o.clientId)
      const c = await callAsync(auth.clientsCreate(clientId, secretChoice(o), patchesOf(o.expiresAt ?? null, o.allowedIps ?? null)))
      return credentialOf(clientId, c, c.secret)
    },
    async listClientIds() {
      return callAsync(auth.clientsList())
    },
    async get(clientId) {
      const c = await callAsync(auth.clientsGet(clientIdArg(clientId)))
      return c ? credentialOf(clientId, c) : null
    },
    async delete(clientId) {
      await callAsync(auth.clientsDelete(clientIdArg(clientId)))
    },
    async regenerateSecret(clientId, regenOptions = {}) {
      const o = regenOptions ?? {}
      const c = await callAsync(auth.clientsRegenerateSecret(clientIdArg(clientId), secretChoice(o), patchesOf(o.expiresAt, o.allowedIps)))
      return credentialOf(clientId, c, c.secret)
    },
    async setSecret(clientId, secret, expiresAt, allowedIps) {
      clientIdArg(clientId)
      call(() => native.assertClientId(clientId))
      requireString(secret, 'secret')
      await callAsync(auth.clientsSetSecret(clientId, secret, false, patchesOf(expiresAt, allowedIps)))
    },
    async setSecretHash(clientId, secretHash, expiresAt, allowedIps) {
      clientIdArg(clientId)
      call(() => native.assertClientId(clientId))
      requireString(secretHash, 'secretHash')
      await callAsync(auth.clientsSetSecret(clientId, secretHash, true, patchesOf(expiresAt, allowedIps)))
    },
    async setAllowedIps(clientId, allowedIps) {
      await callAsync(auth.clientsSetAllowedIps(clientIdArg(clientId), patchesOf(undefined, allowedIps)))
    },
    async getSecretHash(clientId) {
      return (await callAsync(auth.clientsGetSecretHash(clientIdArg(clientId)))) ?? null
    },
    async revert(clientId) {
      const r = await callAsync(auth.clientsRevert(clientIdArg(clientId)))
      return r.reverted ? { reverted: true, restoredSecretHash: r.restoredSecretHash } : { reverted: false }
    },
  }
}

// ------------------------------------------------------------------ initializers (§2.10, §2.12)

function validateInstanceOptions(options) {
  if (!options?.redis) throw new Error('Redis connection is mandatory')
  checkRedisOption(options.redis)
  const namespace = resolveNamespace(options.namespace)
  call(() => native.validateAuthOptions(authOptionsOf(options)))
  return namespace
}

function backendOf(options) {
  if (isStoreUrl(options.redis)) {
    const auth = nativeAuthFor(options.redis, options)
    return {
      auth,
      clients: createNativeClients(auth),
      verify: (input, maxSkewMs, onBadSignature) => verifyWithNative(auth, input, maxSkewMs, onBadSignature),
      readRecord: null,
    }
  }
  const redis = options.redis
  const namespace = resolveNamespace(options.namespace)
  return {
    auth: null,
    clients: createJsClients(redis, options),
    verify: (input, maxSkewMs, onBadSignature) => verifyWithClient(redis, input, namespace, maxSkewMs, onBadSignature),
    readRecord: (clientId) => redisHGet(redis, `${namespace}:clients`, clientId),
  }
}

function initializeHmacHttpAuth(options) {
  const namespace = validateInstanceOptions(options)
  checkMaxSkewMs(options.maxSkewMs)
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS
  const backend = backendOf(options)
  const verifySignature = (input) =>
    backend.verify(input, input.maxSkewMs ?? maxSkewMs, input.onBadSignature ?? options.onBadSignature)
  const createHttpMiddleware = (opts = {}) => {
    checkMaxSkewMs(opts?.maxSkewMs)
    return buildMiddleware(verifySignature, {
      attachAuthTo: opts?.attachAuthTo,
      maxSkewMs: opts?.maxSkewMs ?? maxSkewMs,
      onError: opts?.onError,
      onBadSignature: opts?.onBadSignature ?? options.onBadSignature,
    })
  }
  return redactInspect({
    redis: options.redis,
    namespace,
    maxSkewMs,
    secretToken: options.secretToken,
    verifyHttpRequest: createHttpMiddleware(),
    verifyHttpSignature: verifySignature,
    createHttpMiddleware,
    createExpressHttpMiddleware: createHttpMiddleware,
    createHttpSignedFetchClient: (clientOptions) =>
      createHttpSignedFetchClient({ ...clientOptions, hashToken: clientOptions.hashToken ?? options.secretToken }),
    clients: backend.clients,
  }, ['secretToken'])
}

// ------------------------------------------------------------------ message track (§2.12)

function messageTextOrError(message) {
  try {
    return { text: native.toMessageText(message) }
  } catch (error) {
    return { error }
  }
}

function messageKey(input) {
  return {
    secret: requireString(input.secret, 'secret'),
    secretIsHashed: !!input.secretIsHashed,
    hashToken: input.hashToken ?? undefined,
  }
}

function signMessage(input) {
  requireString(input?.clientId, 'clientId')
  const key = messageKey(input)
  const m = messageTextOrError(input.message)
  if (m.error) {
    call(() => native.checkMessageArgs(input.clientId, key))
    throw m.error
  }
  const signed = call(() => native.signMessage(input.clientId, m.text, key))
  if (!input.clientId.isWellFormed()) signed.clientId = input.clientId.trim()
  return signed
}

function verifyMessage(input) {
  const signed = signMessage(input)
  requireString(input.signature, 'signature')
  return native.safeEqualHex(signed.signature, input.signature)
}

function buildMessageSigningPayload(input) {
  requireString(input?.clientId, 'clientId')
  const messageHash = String(input.messageHash)
  const payload = call(() => native.buildMessageSigningPayload(input.clientId, messageHash))
  if (input.clientId.isWellFormed() && messageHash.isWellFormed()) return payload
  return `${input.clientId.trim()}\n${messageHash}`
}

function signedMessageOf(s) {
  return { clientId: s.clientId, messageHash: s.messageHash, signature: s.signature }
}

function initializeHmacMessageAuth(options) {
  const namespace = validateInstanceOptions(options)
  const backend = backendOf(options)
  const signWithStore = async ({ clientId, message }) => {
    clientIdArg(clientId)
    const m = messageTextOrError(message)
    const text = m.text ?? { raw: '' }
    let signed
    if (backend.auth) {
      signed = await callAsync(backend.auth.signMessage(clientId, text))
    } else {
      call(() => native.assertClientId(clientId))
      const raw = await backend.readRecord(clientId)
      signed = call(() => native.signMessageWithRecord(clientId, raw ?? undefined, text, Date.now()))
    }
    if (m.error) throw m.error
    return signedMessageOf(signed)
  }
  const verifyWithStore = async ({ clientId, message, signature }) => {
    clientIdArg(clientId)
    const sig = typeof signature === 'string' ? signature : undefined
    const m = messageTextOrError(message)
    const text = m.text ?? { raw: '' }
    let signed
    try {
      if (backend.auth) {
        signed = await callAsync(backend.auth.verifyMessage(clientId, text, sig))
      } else {
        call(() => native.verifyMessagePrecheck(clientId, sig))
        const raw = await backend.readRecord(clientId)
        signed = call(() => native.verifyMessageWithRecord(clientId, raw ?? undefined, text, sig, Date.now()))
      }
    } catch (e) {
      if (m.error && e instanceof HmacAuthError && e.code === 'BAD_SIGNATURE') throw m.error
      throw e
    }
    if (m.error) throw m.error
    return signedMessageOf(signed)
  }
  return redactInspect({
    redis: options.redis,
    namespace,
    secretToken: options.secretToken,
    signMessage: signWithStore,
    verifyMessage: verifyWithStore,
    clients: backend.clients,
  }, ['secretToken'])
}

// ------------------------------------------------------------------ runtime helper (§2.13)

function createHmacRuntime(auth) {
  const createSignedFetchFromClientId = async (clientId) => {
    const record = await auth.clients.get(clientId)
    if (!record) throw new Error(`${clientId} not found in Redis`)
    return auth.createHttpSignedFetchClient({ clientId, secret: record.secretHash, secretIsHashed: true })
  }
  return {
    createSignedFetchFromClientId,
    async signedFetchWithClientId(input, clientId, options) {
      const f = await createSignedFetchFromClientId(clientId)
      return f(input, options)
    },
    hmacHttpMiddleware(...clientIds) {
      const allowed = new Set(clientIds.map((id) => String(id).trim()).filter((id) => id.length > 0))
      return function hmacRuntimeMiddleware(req, res, next) {
        return auth.verifyHttpRequest(req, res, (error) => {
          const callerClientId = String(req.hmacAuth?.clientId ?? '')
          if (error || allowed.size === 0 || allowed.has(callerClientId)) {
            next(error)
            return
          }
          // The original threw here, inside the verifier's try block, which answered
          // 500 INTERNAL_ERROR; we answer 403 (docs/compat.md).
          const denied = new HmacAuthError(
            'CLIENT_NOT_ALLOWED',
            `Client '${callerClientId || 'unknown'}' is not allowed`,
            403,
          )
          sendError(denied, req, res, next, undefined)
        })
      }
    },
  }
}

module.exports = {
  buildSigningPayload,
  hashBody,
  hashClientSecret,
  safeEqualHex,
  signRequest,
  HmacAuthError,
  buildHttpSignedHeaders,
  createHttpSignedFetchClient,
  signedHttpFetch,
  initializeHmacHttpAuth,
  initializeHmacMessageAuth,
  buildMessageSigningPayload,
  signMessage,
  verifyMessage,
  createHmacRuntime,
  captureRawBody,
  createExpressHttpHmacMiddleware,
  createHttpHmacMiddleware,
  verifyHttpSignature,
  buildRedisNamespaceKeys,
  RedisCredentialStore,
  RedisNonceStore,
  resolveNamespace,
}
