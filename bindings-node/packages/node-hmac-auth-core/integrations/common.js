// Shared by the framework integrations (Fastify, Koa, NestJS): one verification call per
// request through an `initializeHmacHttpAuth` instance, and the original's error answer.
// The rules (headers, skew, nonce, signature) are the core's; this only moves values.
import { HmacAuthError } from '@authcore/node-hmac-auth-core'

/** Default body cap of the integrations: 1 MiB (Fastify's default `bodyLimit`). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

/** The original's middleware answer for anything that is not an HmacAuthError. */
export function toAuthError(error) {
  return error instanceof HmacAuthError ? error : new HmacAuthError('INTERNAL_ERROR', 'Internal auth error', 500)
}

/** The original's error JSON. */
export function errorBody(err) {
  return { error: err.code, message: err.message }
}

/** A body above the cap: answered like every non-auth failure (500 INTERNAL_ERROR). */
export class BodyTooLargeError extends Error {
  constructor(limit) {
    super(`request body exceeds ${limit} bytes`)
    this.limit = limit
  }
}

export function checkAuth(auth, where) {
  if (!auth || typeof auth.verifyHttpSignature !== 'function') {
    throw new TypeError(`${where}: \`auth\` must be an initializeHmacHttpAuth() instance`)
  }
}

export function checkLimit(v, where) {
  const n = v ?? DEFAULT_MAX_BODY_BYTES
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`${where}: maxBodyBytes must be a non-negative integer`)
  return n
}

/**
 * Reads a Node readable stream to one Buffer, failing with BodyTooLargeError past
 * `limit` bytes (a `content-length` above it fails before any byte is read).
 */
export async function readBody(stream, limit, contentLength) {
  if (contentLength !== undefined && Number(contentLength) > limit) throw new BodyTooLargeError(limit)
  const chunks = []
  let size = 0
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += buf.length
    if (size > limit) throw new BodyTooLargeError(limit)
    chunks.push(buf)
  }
  return Buffer.concat(chunks, size)
}

/**
 * Verifies one request. `req`: `{ method, url, headers, rawBody, ip, ips, remoteAddress }`.
 * Resolves to `{ verified }` or `{ error }` (an HmacAuthError, INTERNAL_ERROR for any other
 * failure): never rejects.
 */
export async function verify(auth, req, options) {
  try {
    if (req.rawBody !== undefined && req.rawBody !== null && req.rawBody.length > options.maxBodyBytes) {
      throw new BodyTooLargeError(options.maxBodyBytes)
    }
    const verified = await auth.verifyHttpSignature({
      method: req.method,
      path: req.url,
      headers: req.headers,
      rawBody: req.rawBody ?? '',
      maxSkewMs: options.maxSkewMs,
      onBadSignature: options.onBadSignature,
      metadata: {
        ip: req.ip,
        ips: req.ips,
        remoteAddress: req.remoteAddress,
        forwardedFor: req.headers['x-forwarded-for'],
      },
    })
    return { verified }
  } catch (error) {
    return { error: toAuthError(error) }
  }
}
