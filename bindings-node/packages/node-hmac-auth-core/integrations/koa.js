// Koa middleware: reads the raw body (the exact signed bytes; keep it before any body
// parser, which then sees `ctx.request.rawBody`), verifies, and answers failures with the
// original's error JSON and status. `ctx.state.hmacAuth` (or `attachAuthTo`) holds the
// verified request.
//
//   import { createKoaHmacMiddleware } from '@authcore/node-hmac-auth-core/koa'
//   app.use(createKoaHmacMiddleware({ auth }))
//
// Body size: bodies above `maxBodyBytes` (default 1 MiB) are refused before they are
// hashed, with 500 INTERNAL_ERROR like every non-auth failure.
import { checkAuth, checkLimit, errorBody, readBody, toAuthError, verify } from './common.js'

export function createKoaHmacMiddleware(options) {
  checkAuth(options?.auth, 'createKoaHmacMiddleware')
  const maxBodyBytes = checkLimit(options.maxBodyBytes, 'createKoaHmacMiddleware')
  const attachAuthTo = options.attachAuthTo ?? 'hmacAuth'
  const verifyOptions = { maxBodyBytes, maxSkewMs: options.maxSkewMs, onBadSignature: options.onBadSignature }
  return async function koaHmacAuth(ctx, next) {
    let outcome
    try {
      const rawBody =
        ctx.request.rawBody !== undefined
          ? ctx.request.rawBody
          : await readBody(ctx.req, maxBodyBytes, ctx.get('content-length') || undefined)
      ctx.request.rawBody = rawBody
      outcome = await verify(
        options.auth,
        {
          method: ctx.method,
          url: ctx.originalUrl,
          headers: ctx.headers,
          rawBody,
          ip: ctx.ip,
          ips: ctx.ips,
          remoteAddress: ctx.req.socket?.remoteAddress,
        },
        verifyOptions,
      )
    } catch (error) {
      outcome = { error: toAuthError(error) }
    }
    if (outcome.error) {
      ctx.status = outcome.error.status
      ctx.body = errorBody(outcome.error)
      return
    }
    ctx.state[attachAuthTo] = outcome.verified
    // The app runs outside the auth try: its own errors are never reported as auth errors.
    await next()
  }
}

export default createKoaHmacMiddleware
