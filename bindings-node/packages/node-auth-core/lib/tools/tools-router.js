'use strict'
const native = require('../native')
// createToolsRouter, buildOpenApiSpec and buildSwaggerUiHtml of awesome-node-auth 1.9.0
// (src/router/tools.router.ts): an Express router. Express is the application's (as with the
// original, which imports it).

function loadExpress() {
  try {
    return require('express')
  } catch {
    throw new Error('createToolsRouter needs the "express" package (install it in your application)')
  }
}

function swaggerEnabled(swagger) {
  const s = swagger ?? 'auto'
  if (s === true) return true
  if (s === 'auto') return process.env.NODE_ENV !== 'production'
  return false
}

const bearer = [{ BearerAuth: [] }]
const ok = { description: 'Accepted', content: { 'application/json': { schema: { $ref: '#/components/schemas/OkResponse' } } } }

function buildOpenApiSpec(options = {}, basePath = '/tools') {
  const paths = {}
  if (options.telemetry !== false) {
    paths[`${basePath}/track/{eventName}`] = {
      post: {
        summary: 'Track an event',
        security: bearer,
        parameters: [{ name: 'eventName', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/TrackPayload' } } } },
        responses: { 202: ok },
      },
    }
    if (options.telemetryStore && typeof options.telemetryStore.query === 'function') {
      paths[`${basePath}/telemetry`] = {
        get: {
          summary: 'Query telemetry',
          security: bearer,
          parameters: ['event', 'userId', 'tenantId', 'from', 'to', 'limit', 'offset'].map((name) => ({
            name,
            in: 'query',
            required: false,
            schema: { type: name === 'limit' || name === 'offset' ? 'integer' : 'string' },
          })),
          responses: {
            200: {
              description: 'Telemetry events',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { data: { type: 'array', items: { $ref: '#/components/schemas/TelemetryEvent' } } } },
                },
              },
            },
          },
        },
      }
    }
  }
  if (options.notify !== false) {
    paths[`${basePath}/notify/{target}`] = {
      post: {
        summary: 'Send an SSE notification to a topic',
        security: bearer,
        parameters: [{ name: 'target', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NotifyPayload' } } } },
        responses: { 202: ok },
      },
    }
  }
  if (options.stream !== false) {
    paths[`${basePath}/stream`] = {
      get: {
        summary: 'Server-sent event stream',
        security: bearer,
        parameters: [
          { name: 'topics', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'token', in: 'query', required: false, schema: { type: 'string' } },
        ],
        responses: { 200: { description: 'text/event-stream' }, 503: { description: 'SSE not enabled' } },
      },
    }
  }
  if (options.webhook !== false) {
    paths[`${basePath}/webhook/{provider}`] = {
      post: {
        summary: 'Inbound webhook',
        parameters: [
          { name: 'provider', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'X-Hub-Signature-256', in: 'header', required: false, schema: { type: 'string' } },
          // Checked when the provider's config has a secret (see the 401 answers).
          { name: 'X-Webhook-Signature', in: 'header', required: false, schema: { type: 'string' } },
          { name: 'X-Webhook-Timestamp', in: 'header', required: false, schema: { type: 'string' } },
          { name: 'X-Webhook-Delivery', in: 'header', required: false, schema: { type: 'string' } },
        ],
        requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
        responses: {
          200: { description: 'Processed' },
          400: { description: 'Webhook processing failed' },
          401: {
            description:
              'The provider has a secret and the delivery is refused: Invalid webhook signature, Missing webhook timestamp, Webhook timestamp outside the allowed window, or Webhook delivery already received',
            content: { 'application/json': { schema: { type: 'object', properties: { error: { type: 'string' } } } } },
          },
        },
      },
    }
  }
  return {
    openapi: '3.0.3',
    info: { title: 'awesome-node-auth Tools API', version: '1.0.0' },
    paths,
    components: {
      securitySchemes: { BearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        OkResponse: { type: 'object', properties: { ok: { type: 'boolean' } } },
        TrackPayload: {
          type: 'object',
          properties: {
            data: {},
            userId: { type: 'string' },
            tenantId: { type: 'string' },
            sessionId: { type: 'string' },
            correlationId: { type: 'string' },
          },
        },
        NotifyPayload: {
          type: 'object',
          required: ['data'],
          properties: {
            data: {},
            type: { type: 'string' },
            tenantId: { type: 'string' },
            userId: { type: 'string' },
            metadata: { type: 'object' },
          },
        },
        TelemetryEvent: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            event: { type: 'string' },
            timestamp: { type: 'string', format: 'date-time' },
            data: {},
            userId: { type: 'string' },
            tenantId: { type: 'string' },
            sessionId: { type: 'string' },
            correlationId: { type: 'string' },
            ip: { type: 'string' },
            userAgent: { type: 'string' },
          },
        },
      },
    },
  }
}

function buildSwaggerUiHtml(specUrl = './openapi.json') {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Tools API</title>
  <link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
  <script>
    window.onload = function () {
      window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl).replace(/</g, '\\u003c')}, dom_id: '#swagger-ui' })
    }
  </script>
</body>
</html>`
}

function userIdOf(user) {
  return user ? (user.id ?? user.sub) : undefined
}

// Topics a caller may receive: global, its tenant, itself, its session (when its token has one).
function authorisedTopics(user) {
  const topics = ['global']
  if (user?.tenantId) topics.push(`tenant:${user.tenantId}`)
  const uid = userIdOf(user)
  if (uid) topics.push(`user:${uid}`)
  if (user?.sid) topics.push(`session:${user.sid}`)
  return topics
}

function clientIp(req) {
  const xff = req.headers['x-forwarded-for']
  if (typeof xff === 'string' && xff.length > 0) return xff.split(',')[0].trim()
  return req.socket?.remoteAddress
}

function sendError(res, err, fallbackStatus) {
  const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : fallbackStatus
  res.status(status).json({ error: status >= 500 ? 'Internal error' : String(err?.message ?? err) })
}

const RAW_BODY = Symbol('authcore.rawBody')

// An inbound provider whose config has a `secret` must sign the body as WebhookSender does:
// `X-Webhook-Signature` (or GitHub's `X-Hub-Signature-256`, which the OpenAPI advertises)
// = `sha256=` HMAC-SHA256 of the raw body, and send `X-Webhook-Timestamp` within the window
// (equal to the signed body's `timestamp` when it has one); a delivery id or signed body
// already received within the window is a replay. The rules are the core's; the raw body is
// the bytes received (when an earlier body parser consumed them, the body's JSON.stringify,
// which equals the bytes of compact-JSON senders such as WebhookSender).
const DEFAULT_WEBHOOK_WINDOW_MS = 300000

function header(req, name) {
  const v = req.headers[name]
  return typeof v === 'string' && v.length > 0 ? v : undefined
}

function inboundVerdict(req, secret, windowMs) {
  const raw = req[RAW_BODY]
  const body = Buffer.isBuffer(raw) ? raw.toString('utf8') : JSON.stringify(req.body ?? null)
  return native.webhookCheckInbound(
    body,
    String(secret),
    header(req, 'x-webhook-signature') ?? header(req, 'x-hub-signature-256'),
    header(req, 'x-webhook-timestamp'),
    header(req, 'x-webhook-delivery'),
    windowMs,
  )
}

// The replay store: `webhookReplayStore` ({claim(key, ttlMs) -> boolean | Promise<boolean>,
// release?(key)}, e.g. Redis SET NX PX shared by every process), else the core's in-process one.
function replayClaimer(store) {
  if (!store) {
    const guard = new native.WebhookReplayGuard()
    return { claim: async (keys, ttl) => guard.claim(keys, ttl), release: async (keys) => guard.release(keys) }
  }
  return {
    async claim(keys, ttl) {
      const held = []
      for (const k of keys) {
        if ((await store.claim(k, ttl)) !== true) {
          for (const h of held) await store.release?.(h)
          return false
        }
        held.push(k)
      }
      return true
    },
    async release(keys) {
      for (const k of keys) await store.release?.(k)
    },
  }
}

function createToolsRouter(tools, options = {}) {
  const express = loadExpress()
  const router = express.Router()
  // The raw bytes are kept (under a symbol) for inbound webhook signatures.
  const json = express.json({
    verify: (req, _res, buf) => {
      req[RAW_BODY] = buf
    },
  })
  const protect = options.authMiddleware ? [options.authMiddleware] : []
  const trustBody = options.trustClientIdentity === true

  if (options.telemetry !== false) {
    router.post('/track/:eventName', ...protect, json, async (req, res) => {
      const body = req.body ?? {}
      const user = req.user
      // The authenticated identity wins over the body (the original let the body spoof it).
      let userId = body.userId ?? userIdOf(user)
      let tenantId = body.tenantId
      if (user && !trustBody) {
        userId = userIdOf(user)
        tenantId = user.tenantId
      }
      try {
        await tools.track(req.params.eventName, body.data, {
          userId,
          tenantId,
          sessionId: body.sessionId,
          correlationId: body.correlationId,
          ip: clientIp(req),
          userAgent: req.headers['user-agent'],
        })
        res.status(202).json({ ok: true })
      } catch (err) {
        sendError(res, err, 500)
      }
    })

    const store = options.telemetryStore
    if (store && typeof store.query === 'function') {
      router.get('/telemetry', ...protect, async (req, res) => {
        const q = req.query
        const filter = {
          event: q.event,
          userId: q.userId,
          tenantId: q.tenantId,
          from: q.from ? new Date(String(q.from)) : undefined,
          to: q.to ? new Date(String(q.to)) : undefined,
          limit: q.limit ? parseInt(String(q.limit), 10) : undefined,
          offset: q.offset ? parseInt(String(q.offset), 10) : undefined,
        }
        try {
          res.json({ data: await store.query(filter) })
        } catch (err) {
          sendError(res, err, 500)
        }
      })
    }
  }

  if (options.notify !== false) {
    router.post('/notify/:target', ...protect, json, async (req, res) => {
      const body = req.body ?? {}
      const target = req.params.target
      const user = req.user
      // Who may notify which topic: authorizeNotify(req, target) when given; otherwise an
      // authenticated caller may notify only its own user topic (the original: any topic).
      let allowed
      try {
        allowed = options.authorizeNotify
          ? (await options.authorizeNotify(req, target)) === true
          : Boolean(user) && target === `user:${userIdOf(user)}`
      } catch {
        allowed = false
      }
      if (!allowed) {
        res.status(403).json({ error: 'Not allowed to notify this topic' })
        return
      }
      const tenantId = user?.tenantId && !trustBody ? user.tenantId : body.tenantId
      try {
        tools.notify(target, body.data, { type: body.type, tenantId, userId: body.userId, metadata: body.metadata }).catch(() => {})
      } catch (err) {
        sendError(res, err, 500)
        return
      }
      res.status(202).json({ ok: true })
    })
  }

  if (options.stream !== false) {
    const copyToken = (req, _res, next) => {
      const token = req.query?.token
      if (typeof token === 'string' && token.length > 0) req.headers.authorization = `Bearer ${token}`
      next()
    }
    router.get('/stream', copyToken, ...protect, (req, res) => {
      const sse = tools.sseManager
      if (!sse) {
        res.status(503).json({ error: 'SSE not enabled' })
        return
      }
      const user = req.user
      const authorised = authorisedTopics(user)
      const requested = typeof req.query.topics === 'string' && req.query.topics.length > 0 ? req.query.topics.split(',') : null
      const topics = requested ? requested.filter((t) => authorised.includes(t)) : authorised
      const lastEventId = req.headers['last-event-id']
      try {
        sse.connect(res, topics, {
          userId: userIdOf(user),
          tenantId: user?.tenantId,
          sessionId: user?.sid,
          lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined,
        })
      } catch (err) {
        sendError(res, err, 500)
      }
    })
  }

  const webhookStore = options.webhookStore
  if (options.webhook !== false && (options.onWebhook || (webhookStore && typeof webhookStore.findByProvider === 'function'))) {
    const windowMs = options.webhookTimestampWindowMs ?? DEFAULT_WEBHOOK_WINDOW_MS
    if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs < 0) {
      throw new TypeError('webhookTimestampWindowMs must be a non-negative number of milliseconds (0: no timestamp check)')
    }
    // Keys live for twice the window (a timestamp may be up to one window early or late).
    const replayTtl = 2 * (windowMs > 0 ? windowMs : DEFAULT_WEBHOOK_WINDOW_MS)
    const replay = replayClaimer(options.webhookReplayStore)
    router.post('/webhook/:provider', json, async (req, res) => {
      const provider = req.params.provider
      let claimed = null
      const unclaim = () => (claimed ? replay.release(claimed).catch(() => {}) : undefined)
      try {
        let result = null
        if (webhookStore && typeof webhookStore.findByProvider === 'function') {
          const config = await webhookStore.findByProvider(provider)
          if (config?.secret) {
            const verdict = inboundVerdict(req, config.secret, windowMs)
            if (!verdict.ok) {
              res.status(verdict.status).json({ error: verdict.error })
              return
            }
            const keys = verdict.replayKeys.map((k) => `${provider}:${k}`)
            if (!(await replay.claim(keys, replayTtl))) {
              res.status(401).json({ error: 'Webhook delivery already received' })
              return
            }
            claimed = keys
          }
          if (config?.jsScript) {
            // Inbound scripts are refused: node:vm is not a sandbox (a script reaches the
            // host `process`), and a throwing script crashed the process.
            await unclaim()
            res.status(501).json({ error: 'Inbound webhook scripts are not supported; handle this provider with onWebhook' })
            return
          }
        }
        if (!result && options.onWebhook) result = await options.onWebhook(provider, req.body, req)
        if (result) await tools.track(result.event, result.data, { userId: result.userId, tenantId: result.tenantId })
        res.status(200).json({ ok: true })
      } catch {
        // Not processed: the sender's retry of this delivery is accepted.
        await unclaim()
        res.status(400).json({ error: 'Webhook processing failed' })
      }
    })
  }

  if (swaggerEnabled(options.swagger)) {
    const basePath = options.swaggerBasePath ?? '/tools'
    router.get('/openapi.json', (_req, res) => {
      res.json(buildOpenApiSpec(options, basePath))
    })
    router.get('/docs', (_req, res) => {
      res.type('html').send(buildSwaggerUiHtml('./openapi.json'))
    })
  }

  return router
}

module.exports = { createToolsRouter, buildOpenApiSpec, buildSwaggerUiHtml }
