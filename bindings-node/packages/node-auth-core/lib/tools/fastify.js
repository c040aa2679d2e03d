'use strict'
// AuthTools' SSE stream served from Fastify: the route createToolsRouter mounts on Express
// (`GET <prefix>/stream`), as a Fastify plugin. Same rules as the Express route: the
// caller's topics are `global`, its tenant, its user and its session (from `request.user`,
// set by the `authenticate` hook); `?topics=a,b` narrows them (never widens); `?token=` is
// copied into `Authorization: Bearer …` before `authenticate` runs (EventSource cannot set
// headers); `Last-Event-ID` replays what the client missed; 503 when the tools have no
// SSE, 429/400 over the engine's limits, 401/403 as `authenticate` answers.
//
//   const authToolsFastify = require('@authcore/node-auth-core/fastify')
//   await app.register(authToolsFastify, { tools, authenticate, prefix: '/tools' })
//
// The response is taken over (`reply.hijack()`): the events engine writes the frames to
// the socket itself, with its heartbeat, bounded queue and slow-client policy.

function userIdOf(user) {
  return user ? (user.id ?? user.sub) : undefined
}

// Topics a caller may receive: global, its tenant, itself, its session (when it has one).
function authorisedTopics(user) {
  const topics = ['global']
  if (user?.tenantId) topics.push(`tenant:${user.tenantId}`)
  const uid = userIdOf(user)
  if (uid) topics.push(`user:${uid}`)
  if (user?.sid) topics.push(`session:${user.sid}`)
  return topics
}

function copyToken(request) {
  const token = request.query?.token
  if (typeof token === 'string' && token.length > 0) request.headers.authorization = `Bearer ${token}`
}

function authToolsFastify(fastify, options, done) {
  const tools = options?.tools
  if (!tools || typeof tools !== 'object' || !('sseManager' in tools)) {
    done(new TypeError('authToolsFastify: `tools` must be an AuthTools instance'))
    return
  }
  const authenticate = options.authenticate
  if (authenticate !== undefined && typeof authenticate !== 'function') {
    done(new TypeError('authToolsFastify: `authenticate` must be a Fastify hook (request, reply)'))
    return
  }
  if (!fastify.hasRequestDecorator('user')) fastify.decorateRequest('user', null)
  const preHandler = [async (request) => copyToken(request)]
  if (authenticate) preHandler.push(authenticate)

  fastify.get(options.streamPath ?? '/stream', { preHandler }, (request, reply) => {
    const sse = tools.sseManager
    if (!sse) {
      reply.code(503).send({ error: 'SSE not enabled' })
      return
    }
    const user = request.user
    const authorised = authorisedTopics(user)
    const q = request.query?.topics
    const requested = typeof q === 'string' && q.length > 0 ? q.split(',') : null
    const topics = requested ? requested.filter((t) => authorised.includes(t)) : authorised
    const lastEventId = request.headers['last-event-id']
    // The engine writes to the raw response from here on; Fastify sends nothing more.
    reply.hijack()
    const res = reply.raw
    try {
      sse.connect(res, topics, {
        userId: userIdOf(user),
        tenantId: user?.tenantId,
        sessionId: user?.sid,
        lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined,
      })
    } catch (err) {
      const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify({ error: status >= 500 ? 'Internal error' : String(err?.message ?? err) }))
    }
  })
  done()
}

authToolsFastify[Symbol.for('fastify.display-name')] = '@authcore/node-auth-core/fastify'

module.exports = authToolsFastify
module.exports.default = authToolsFastify
module.exports.authToolsFastify = authToolsFastify
