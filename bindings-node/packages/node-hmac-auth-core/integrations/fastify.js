// Fastify plugin: captures the raw body bytes before any content-type parser runs (the
// signature is over the exact bytes the client sent), verifies every request of the
// scope it is registered in, and answers failures with the original's error JSON and
// status. `request.hmacAuth` (or `attachAuthTo`) holds the verified request.
//
//   import hmacAuth from '@authcore/node-hmac-auth-core/fastify'
//   await app.register(hmacAuth, { auth })           // auth = initializeHmacHttpAuth({...})
//
// Body size: bodies above `maxBodyBytes` (default: the instance's `bodyLimit`, 1 MiB) are
// refused before they are hashed, with 500 INTERNAL_ERROR like every non-auth failure.
import { Readable } from 'node:stream'
import { checkAuth, checkLimit, errorBody, readBody, toAuthError, verify } from './common.js'

const DEFAULT_ATTACH_AUTH_TO = 'hmacAuth'

function hmacAuthPlugin(fastify, options, done) {
  try {
    checkAuth(options?.auth, 'fastify hmacAuth')
  } catch (e) {
    done(e)
    return
  }
  const maxBodyBytes = checkLimit(options.maxBodyBytes ?? fastify.initialConfig?.bodyLimit, 'fastify hmacAuth')
  const attachAuthTo = options.attachAuthTo ?? DEFAULT_ATTACH_AUTH_TO
  const verifyOptions = { maxBodyBytes, maxSkewMs: options.maxSkewMs, onBadSignature: options.onBadSignature }
  for (const name of ['rawBody', attachAuthTo]) {
    if (!fastify.hasRequestDecorator(name)) fastify.decorateRequest(name, null)
  }

  // Before parsing: keep the bytes, hand the parser a fresh stream over them.
  // A body above the cap is answered here, before Fastify's parser sees it.
  fastify.addHook('preParsing', async (request, reply, payload) => {
    try {
      request.rawBody = await readBody(payload, maxBodyBytes, request.headers['content-length'])
    } catch (error) {
      const err = toAuthError(error)
      reply.code(err.status).type('application/json; charset=utf-8').send(errorBody(err))
      return reply
    }
    const replay = Readable.from([request.rawBody])
    replay.receivedEncodedLength = request.rawBody.length
    return replay
  })

  // After parsing (every method, with or without a body): verify.
  fastify.addHook('preValidation', async (request, reply) => {
    const outcome = await verify(
      options.auth,
      {
        method: request.method,
        url: request.url,
        headers: request.headers,
        rawBody: request.rawBody ?? '',
        ip: request.ip,
        ips: request.ips,
        remoteAddress: request.socket?.remoteAddress,
      },
      verifyOptions,
    )
    if (outcome.error) {
      return reply.code(outcome.error.status).type('application/json; charset=utf-8').send(errorBody(outcome.error))
    }
    request[attachAuthTo] = outcome.verified
  })
  done()
}

// Like fastify-plugin: the hooks apply to the scope that registers the plugin (not only
// to a child context), so `app.register(hmacAuth, …)` protects the routes declared next
// to it. Use `app.register(async (scope) => { scope.register(hmacAuth, …); … })` for a
// protected prefix only.
hmacAuthPlugin[Symbol.for('skip-override')] = true
hmacAuthPlugin[Symbol.for('fastify.display-name')] = '@authcore/node-hmac-auth-core/fastify'

export { hmacAuthPlugin }
export default hmacAuthPlugin
