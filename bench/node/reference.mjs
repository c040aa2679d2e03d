// The wire of @naskot/node-hmac-auth-core 1.0.0 written the natural way with node:crypto
// (WHATWG URL normalisation + createHmac/createHash), and its verify path over node-redis
// v4 with two sequential round trips (HGET, then SET NX EX): the baselines.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export function normalizePath(pathOrUrl) {
  const u = new URL(pathOrUrl, 'http://localhost')
  return `${u.pathname}${u.search}` || '/'
}

export function hashBody(body) {
  return createHash('sha256').update(body).digest('hex')
}

export function hashClientSecret(secret, token) {
  return token ? createHmac('sha256', token).update(secret).digest('hex') : createHash('sha256').update(secret).digest('hex')
}

export function signRequest({ method, path, timestamp, nonce, body, secret }) {
  const payload = `${method.toUpperCase()}\n${normalizePath(path)}\n${timestamp}\n${nonce}\n${hashBody(body)}`
  return createHmac('sha256', secret).update(payload).digest('hex')
}

export function safeEqualHex(a, b) {
  if (a.length !== b.length) return false
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  if (x.length !== y.length) return false
  return timingSafeEqual(x, y)
}

function getHeader(headers, name) {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v
  return undefined
}

class AuthError extends Error {
  constructor(code, message, status = 401) {
    super(message)
    this.code = code
    this.status = status
  }
}

/** Steps 2–12 of verifyHttpSignature against an already read record (sans IO). */
export function verifyWithRecord({ method, path, headers, rawBody, now, maxSkewMs = 300000, record }) {
  const clientId = getHeader(headers, 'x-client-id')?.trim()
  if (!clientId) throw new AuthError('MISSING_CLIENT_ID', 'Missing header x-client-id')
  const signature = getHeader(headers, 'x-signature')
  if (!signature) throw new AuthError('MISSING_SIGNATURE', 'Missing header x-signature')
  const timestampRaw = getHeader(headers, 'x-timestamp')
  if (!timestampRaw) throw new AuthError('MISSING_TIMESTAMP', 'Missing header x-timestamp')
  const nonce = getHeader(headers, 'x-nonce')
  if (!nonce) throw new AuthError('MISSING_NONCE', 'Missing header x-nonce')
  const timestamp = Number(timestampRaw)
  if (!Number.isFinite(timestamp)) throw new AuthError('INVALID_TIMESTAMP', 'x-timestamp must be a number')
  if (Math.abs(now - timestamp) > maxSkewMs) throw new AuthError('TIMESTAMP_SKEW', `Request timestamp skew is too large (> ${maxSkewMs}ms)`)
  if (record === null || record === undefined || record === '') throw new AuthError('UNKNOWN_CLIENT', 'Unknown client id')
  let rec
  try {
    const parsed = JSON.parse(record)
    rec = typeof parsed?.secretHash === 'string' ? parsed : { secretHash: record, expiresAt: null, allowedIps: [] }
  } catch {
    rec = { secretHash: record, expiresAt: null, allowedIps: [] }
  }
  if (rec.expiresAt != null && now > rec.expiresAt) throw new AuthError('CLIENT_EXPIRED', 'Client secret has expired')
  const body = typeof rawBody === 'string' ? rawBody : Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody == null ? '' : JSON.stringify(rawBody)
  const expected = signRequest({ method, path, timestamp, nonce, body, secret: rec.secretHash })
  if (!safeEqualHex(expected, signature)) throw new AuthError('BAD_SIGNATURE', 'Invalid HMAC signature')
  return { clientId, timestamp, nonce, signature }
}

/** The original's verify path: HGET, check, SET NX EX (two sequential round trips). */
export async function verifyHttpSignatureOriginal(redis, namespace, input) {
  const clientId = getHeader(input.headers, 'x-client-id')?.trim()
  const record = clientId ? await redis.hGet(`${namespace}:clients`, clientId) : null
  const now = Date.now()
  const v = verifyWithRecord({ ...input, now, record })
  const ok = await redis.set(`${namespace}:nonce:${v.clientId}:${v.nonce}:${v.timestamp}`, '1', { NX: true, EX: 300 })
  if (ok !== 'OK') throw new AuthError('REPLAYED_NONCE', 'Nonce already used')
  return v
}
