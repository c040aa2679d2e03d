// AuthTools (event bus, SSE, webhooks, tools router): every case of node-auth's
// tests/tools.test.ts, then the wire bytes, the engine's limits and the security fixes, each
// against real Express servers and real sockets.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import http from 'node:http'
import express from 'express'
import {
  AuthEventBus,
  AuthEventNames,
  SseManager,
  WebhookSender,
  AuthTools,
  ActionRegistry,
  webhookAction,
  SseNotifyRegistry,
  sseNotify,
  createToolsRouter,
  buildOpenApiSpec,
  buildSwaggerUiHtml,
} from '@authcore/node-auth-core'

/** The original tests' mock res: records writes, emits 'close'. */
function mockSseRes() {
  const res = new EventEmitter()
  res.chunks = []
  res.headers = {}
  res.ended = false
  res.setHeader = (k, v) => {
    res.headers[k] = v
  }
  res.flushHeaders = () => {}
  res.write = (c) => {
    res.chunks.push(String(c))
    return true
  }
  res.end = () => {
    res.ended = true
  }
  return res
}
const text = (res) => res.chunks.join('')
const frames = (res) =>
  text(res)
    .split('\n\n')
    .filter((f) => f.startsWith('id: '))
    .map((f) => {
      const [id, ev, data] = f.split('\n')
      return { id: id.slice(4), event: ev.slice(7), json: data.slice(6), data: JSON.parse(data.slice(6)) }
    })

async function serve(app) {
  const server = http.createServer(app)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${server.address().port}`
  return {
    base,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.()
        server.close(r)
      }),
  }
}

/** Read an SSE response: `read(until)` waits until `until(text so far)` holds (bounded). */
function sseReader(res) {
  const reader = res.body.getReader()
  const dec = new TextDecoder()
  const st = { buf: '', reader }
  st.read = async (until, ms = 5000) => {
    const deadline = Date.now() + ms
    while (!until(st.buf)) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(st.buf)}`)
      let timer
      const r = await Promise.race([
        reader.read(),
        new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out; got ${JSON.stringify(st.buf)}`)), left))),
      ]).finally(() => clearTimeout(timer))
      if (r.done) {
        st.done = true
        break
      }
      st.buf += dec.decode(r.value, { stream: true })
    }
    return st.buf
  }
  return st
}

// ---- AuthEventBus ---------------------------------------------------------------------
test('publish delivers to onEvent listeners with event set and userId kept', () => {
  const bus = new AuthEventBus()
  let got
  bus.onEvent('identity.user.created', (p) => (got = p))
  bus.publish('identity.user.created', { userId: 'u1' })
  assert.equal(got.event, 'identity.user.created')
  assert.equal(got.userId, 'u1')
  assert.deepEqual(Object.keys(got), ['userId', 'event', 'timestamp'])
})

test("publish fires '*' listeners exactly once", () => {
  const bus = new AuthEventBus()
  let n = 0
  bus.onEvent('*', () => n++)
  bus.publish('x', {})
  assert.equal(n, 1)
})

test('timestamp is auto-filled as a string', () => {
  const bus = new AuthEventBus()
  let got
  bus.onEvent('x', (p) => (got = p))
  bus.publish('x', {})
  assert.equal(typeof got.timestamp, 'string')
  assert.ok(!Number.isNaN(Date.parse(got.timestamp)))
  assert.ok(bus instanceof EventEmitter)
})

test('offEvent removes the handler', () => {
  const bus = new AuthEventBus()
  let n = 0
  const h = () => n++
  bus.onEvent('x', h)
  bus.publish('x', {})
  bus.offEvent('x', h)
  bus.publish('x', {})
  assert.equal(n, 1)
})

// ---- AuthEventNames -------------------------------------------------------------------
test('AuthEventNames: 25 values, all identity.*', () => {
  const values = Object.values(AuthEventNames)
  assert.equal(values.length, 25)
  for (const v of values) assert.match(v, /^identity\./)
  assert.equal(AuthEventNames.USER_CREATED, 'identity.user.created')
  assert.equal(AuthEventNames.USER_DELETED, 'identity.user.deleted')
  assert.equal(AuthEventNames.USER_EMAIL_VERIFIED, 'identity.user.email.verified')
  assert.equal(AuthEventNames.AUTH_LOGIN_SUCCESS, 'identity.auth.login.success')
  assert.equal(AuthEventNames.AUTH_LOGIN_FAILED, 'identity.auth.login.failed')
  assert.equal(AuthEventNames.AUTH_LOGOUT, 'identity.auth.logout')
  assert.equal(AuthEventNames.TENANT_CREATED, 'identity.tenant.created')
  assert.equal(AuthEventNames.TENANT_USER_ADDED, 'identity.tenant.user.added')
})

// ---- WebhookSender --------------------------------------------------------------------
test('sign is sha256=<64 hex>; verify accepts right, rejects wrong secret / tampered body / other length', () => {
  const s = new WebhookSender()
  const body = JSON.stringify({ a: 1 })
  const sig = s.sign(body, 'secret')
  assert.match(sig, /^sha256=[a-f0-9]{64}$/)
  assert.equal(s.verify(body, 'secret', sig), true)
  assert.equal(s.verify(body, 'wrong', sig), false)
  assert.equal(s.verify(body + ' ', 'secret', sig), false)
  assert.equal(s.verify(body, 'secret', 'sha256=abc'), false)
})

// ---- SseManager (mock res, heartbeat 0) -----------------------------------------------
test('connect returns a string id and the count becomes 1', () => {
  const m = new SseManager({ heartbeatIntervalMs: 0 })
  const id = m.connect(mockSseRes(), ['global'])
  assert.equal(typeof id, 'string')
  assert.equal(m.connectionCount, 1)
})

test('broadcast to a subscribed topic writes a chunk with the event type; unsubscribed writes nothing', () => {
  const m = new SseManager({ heartbeatIntervalMs: 0 })
  const a = mockSseRes()
  const b = mockSseRes()
  m.connect(a, ['global'])
  m.connect(b, ['user:u2'])
  const before = b.chunks.length
  m.broadcast('global', { type: 'my.event', data: { x: 1 } })
  assert.ok(a.chunks.some((c) => c.includes('my.event')))
  assert.equal(b.chunks.length, before)
})

test('tenant isolation: tenant acme connection gets nothing for tenant other', () => {
  const m = new SseManager({ heartbeatIntervalMs: 0 })
  const res = mockSseRes()
  m.connect(res, ['tenant:acme'], { tenantId: 'acme' })
  const before = res.chunks.length
  m.broadcast('tenant:acme', { type: 't', data: {}, tenantId: 'other' })
  assert.equal(res.chunks.length, before)
})

test("'close' on res removes the connection; disconnect(id) removes it and ends res", () => {
  const m = new SseManager({ heartbeatIntervalMs: 0 })
  const r1 = mockSseRes()
  m.connect(r1, ['global'])
  r1.emit('close')
  assert.equal(m.connectionCount, 0)
  const r2 = mockSseRes()
  const id = m.connect(r2, ['global'])
  m.disconnect(id)
  assert.equal(m.connectionCount, 0)
  assert.equal(r2.ended, true)
  m.disconnect(id)
})

// ---- AuthTools ------------------------------------------------------------------------
test('track saves to the telemetry store and emits on the bus', async () => {
  const saved = []
  const bus = new AuthEventBus()
  let emitted
  bus.onEvent('identity.auth.login.success', (p) => (emitted = p))
  const tools = new AuthTools(bus, { telemetryStore: { save: async (e) => saved.push(e) } })
  await tools.track('identity.auth.login.success', { m: 'local' }, { userId: 'u1' })
  assert.equal(saved.length, 1)
  assert.equal(saved[0].event, 'identity.auth.login.success')
  assert.equal(saved[0].userId, 'u1')
  assert.deepEqual(Object.keys(saved[0]).slice(0, 4), ['id', 'event', 'timestamp', 'data'])
  assert.equal(emitted.userId, 'u1')
})

test('track with sse writes to a global subscriber; notify with SSE off does not throw; on writes to user:u1', async () => {
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const res = mockSseRes()
  tools.sseManager.connect(res, ['global'])
  await tools.track('x.y', { a: 1 })
  assert.ok(text(res).includes('event: x.y'))
  const off = new AuthTools(new AuthEventBus())
  await off.notify('user:u1', { hi: 1 })
  const u = mockSseRes()
  tools.sseManager.connect(u, ['user:u1'])
  await tools.notify('user:u1', { hi: 1 }, { type: 'alert' })
  assert.ok(text(u).includes('event: alert'))
})

test('notify over email and SMS: the original rules, through the application hooks; the HTML is escaped', async () => {
  const mails = []
  const texts = []
  const userStore = {
    findById: async (id) => {
      if (id === 'boom') throw new Error('db down')
      return id === 'u1' ? { id, email: 'u1@example.com', phoneNumber: '+15550001' } : id === 'nomail' ? { id } : null
    },
  }
  const tools = new AuthTools(new AuthEventBus(), {
    userStore,
    emailConfig: { from: 'noreply@example.com', fromName: 'App' },
    sendEmail: async (m) => mails.push(m),
    sendSms: (m) => {
      texts.push(m)
      throw new Error('gateway down') // swallowed
    },
  })
  await tools.notify('ignored', { k: '<b>x</b>' }, { userId: 'u1', type: 'alert', channels: ['email', 'sms'] })
  await tools.notify('ignored', 'line1\nline2', { userId: 'u1', channels: ['email'], emailSubject: 'Hi' })
  await tools.notify('ignored', 'x', { userId: 'u1', channels: ['sms'], smsMessage: 'custom' })
  await tools.notify('ignored', 'x', { userId: 'u1', channels: ['email'] })
  for (const userId of ['nobody', 'boom', 'nomail', undefined]) await tools.notify('t', 'x', { userId, channels: ['email', 'sms'] })
  await tools.notify('ignored', 'x', { userId: 'u1' }) // SSE only by default
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(mails[0], {
    to: 'u1@example.com',
    subject: 'alert',
    text: '{\n  "k": "<b>x</b>"\n}',
    html: '<p>{<br>  &quot;k&quot;: &quot;&lt;b&gt;x&lt;/b&gt;&quot;<br>}</p>',
    from: 'noreply@example.com',
    fromName: 'App',
  })
  assert.equal(mails[1].subject, 'Hi')
  assert.equal(mails[1].html, '<p>line1<br>line2</p>')
  assert.equal(mails[2].subject, 'Notification')
  assert.equal(mails.length, 3)
  assert.deepEqual(texts, [
    { to: '+15550001', message: '{"k":"<b>x</b>"}' },
    { to: '+15550001', message: 'custom' },
  ])
  // A config without its hook is refused at construction (no silent loss).
  assert.throws(() => new AuthTools(new AuthEventBus(), { emailConfig: { endpoint: 'https://mail.example.com' } }), /sendEmail/)
  assert.throws(() => new AuthTools(new AuthEventBus(), { smsConfig: { endpoint: 'https://sms.example.com' } }), /sendSms/)
})

// The original stubs the global fetch; deliveries go through node:http(s) with a checked
// connection-time lookup here, and an application's fetch is passed as webhookOptions.fetch.
test('track calls the given fetch once with the webhook URL for one config from findByEvent', async () => {
  const calls = []
  const stub = async (url, init) => {
    calls.push({ url, init })
    return new Response('ok', { status: 200 })
  }
  {
    const tools = new AuthTools(new AuthEventBus(), {
      webhookStore: { findByEvent: async () => [{ id: 'w1', url: 'https://hooks.example.com/x', events: ['*'] }] },
      webhookOptions: { fetch: stub, lookup: (_h, _o, cb) => cb(null, [{ address: '93.184.216.34', family: 4 }]) },
    })
    await tools.track('identity.user.created', { a: 1 })
    for (let i = 0; i < 100 && calls.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(calls.length, 1)
    assert.equal(calls[0].url, 'https://hooks.example.com/x')
  }
})

test('a telemetry store whose save throws does not reject track (sync throw too)', async () => {
  const a = new AuthTools(new AuthEventBus(), { telemetryStore: { save: async () => { throw new Error('db down') } } })
  await a.track('x')
  const b = new AuthTools(new AuthEventBus(), { telemetryStore: { save: () => { throw new Error('sync') } } })
  await b.track('x')
})

// ---- buildOpenApiSpec / buildSwaggerUiHtml --------------------------------------------
test('buildOpenApiSpec: version, title, paths per flag, basePath, BearerAuth', () => {
  const s = buildOpenApiSpec({})
  assert.equal(s.openapi, '3.0.3')
  assert.match(s.info.title, /awesome-node-auth/)
  const keys = (o) => Object.keys(o.paths)
  assert.ok(keys(s).some((k) => k.includes('/track/')))
  assert.ok(!keys(buildOpenApiSpec({ telemetry: false })).some((k) => k.includes('/track/')))
  assert.ok(!keys(s).some((k) => k.endsWith('/telemetry')))
  assert.ok(keys(buildOpenApiSpec({ telemetryStore: { save: async () => {}, query: async () => [] } })).some((k) => k.endsWith('/telemetry')))
  assert.ok(keys(s).some((k) => k.includes('/notify/')))
  assert.ok(!keys(buildOpenApiSpec({ notify: false })).some((k) => k.includes('/notify/')))
  assert.ok(keys(s).some((k) => k.endsWith('/stream')))
  assert.ok(!keys(buildOpenApiSpec({ stream: false })).some((k) => k.endsWith('/stream')))
  assert.ok(keys(s).some((k) => k.includes('/webhook/')))
  assert.ok(!keys(buildOpenApiSpec({ webhook: false })).some((k) => k.includes('/webhook/')))
  // The webhook route lists its 401 answers and the headers a signed delivery carries.
  const hook = s.paths['/tools/webhook/{provider}'].post
  assert.deepEqual(Object.keys(hook.responses), ['200', '400', '401'])
  assert.match(hook.responses[401].description, /Invalid webhook signature/)
  assert.match(hook.responses[401].description, /outside the allowed window/)
  assert.match(hook.responses[401].description, /already received/)
  assert.deepEqual(
    hook.parameters.filter((p) => p.in === 'header').map((p) => p.name),
    ['X-Hub-Signature-256', 'X-Webhook-Signature', 'X-Webhook-Timestamp', 'X-Webhook-Delivery'],
  )
  for (const k of keys(buildOpenApiSpec({}, '/api/x'))) assert.ok(k.startsWith('/api/x/'), k)
  assert.deepEqual(s.components.securitySchemes.BearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
})

test('buildSwaggerUiHtml: DOCTYPE, swagger-ui, the spec URL', () => {
  const h = buildSwaggerUiHtml()
  assert.ok(h.includes('<!DOCTYPE html>'))
  assert.ok(h.includes('swagger-ui'))
  assert.ok(h.includes('"./openapi.json"'))
  assert.ok(buildSwaggerUiHtml('/custom/spec.json').includes('"/custom/spec.json"'))
})

test('createToolsRouter swagger: true / false / auto in development and production', async () => {
  const tools = new AuthTools(new AuthEventBus())
  const env = process.env.NODE_ENV
  const status = async (opts, nodeEnv) => {
    process.env.NODE_ENV = nodeEnv
    const app = express()
    app.use('/tools', createToolsRouter(tools, opts))
    const s = await serve(app)
    try {
      return [(await fetch(`${s.base}/tools/openapi.json`)).status, (await fetch(`${s.base}/tools/docs`)).status]
    } finally {
      await s.close()
    }
  }
  try {
    assert.deepEqual(await status({ swagger: true }, 'production'), [200, 200])
    assert.deepEqual(await status({ swagger: false }, 'development'), [404, 404])
    assert.deepEqual(await status({ swagger: 'auto' }, 'development'), [200, 200])
    assert.deepEqual(await status({ swagger: 'auto' }, 'production'), [404, 404])
  } finally {
    if (env === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = env
  }
})

// ---- ActionRegistry -------------------------------------------------------------------
test('ActionRegistry: register/get, getAllMeta omits fn, buildContext, dependsOn, decorator', () => {
  ActionRegistry.clear()
  const meta = (id, dependsOn) => ({ id, label: id, category: 'c', description: 'd', dependsOn })
  ActionRegistry.register({ ...meta('x.a'), fn: () => 'a' })
  assert.equal(ActionRegistry.get('x.a').id, 'x.a')
  assert.ok(ActionRegistry.getAllMeta().every((m) => !('fn' in m)))
  ActionRegistry.register({ ...meta('x.b'), fn: () => 'b' })
  assert.deepEqual(Object.keys(ActionRegistry.buildContext(['x.a'], ['x.a', 'x.b'])), ['x.a'])
  ActionRegistry.register({ ...meta('x.c', ['x.d']), fn: () => 'c' })
  assert.deepEqual(Object.keys(ActionRegistry.buildContext(['x.c'], ['x.c'])), [])
  ActionRegistry.register({ ...meta('x.d'), fn: () => 'd' })
  assert.deepEqual(Object.keys(ActionRegistry.buildContext(['x.c', 'x.d'], ['x.c', 'x.d'])).sort(), ['x.c', 'x.d'])
  const decorated = webhookAction(meta('x.e'))(function () { return 42 }, { kind: 'method', name: 'e' })
  assert.equal(decorated(), 42)
  assert.equal(ActionRegistry.get('x.e').fn(), 42)
  ActionRegistry.clear()
})

// ---- inbound webhooks: a provider with a secret must sign the raw body ------------------
test('inbound: a provider whose config has a secret needs a valid sha256= signature of the raw body (401 otherwise)', async () => {
  const bus = new AuthEventBus()
  const seen = []
  bus.onEvent('*', (p) => seen.push(p))
  const app = express()
  app.use(
    '/tools',
    createToolsRouter(new AuthTools(bus), {
      webhookStore: {
        findByEvent: async () => [],
        findByProvider: async (p) => (p === 'signed' ? { id: 'w', url: '', events: [], provider: p, secret: 'k' } : null),
      },
      onWebhook: async (provider, body) => ({ event: `hook.${provider}`, data: body }),
    }),
  )
  const s = await serve(app)
  const signer = new WebhookSender()
  const now = () => new Date().toISOString()
  const post = (p, body, headers = {}) => fetch(`${s.base}/tools/webhook/${p}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  try {
    // The raw bytes are signed, whitespace included (JSON.stringify of the parsed body differs).
    const raw = '{ "id": "1" }'
    const ok = await post('signed', raw, { 'x-webhook-signature': signer.sign(raw, 'k'), 'x-webhook-timestamp': now() })
    assert.equal(ok.status, 200)
    assert.equal(seen.at(-1).event, 'hook.signed')
    const raw2 = '{ "id": "2" }'
    const hub = await post('signed', raw2, { 'x-hub-signature-256': signer.sign(raw2, 'k'), 'x-webhook-timestamp': now() })
    assert.equal(hub.status, 200)
    const n = seen.length
    const raw3 = '{ "id": "3" }'
    for (const headers of [{}, { 'x-webhook-signature': signer.sign(raw3, 'wrong') }, { 'x-webhook-signature': signer.sign('{"id":"3"}', 'k') }, { 'x-webhook-signature': 'sha256=00' }]) {
      const r = await post('signed', raw3, { ...headers, 'x-webhook-timestamp': now() })
      assert.equal(r.status, 401, JSON.stringify(headers))
      assert.deepEqual(await r.json(), { error: 'Invalid webhook signature' })
    }
    assert.equal(seen.length, n)
    // A provider without a secret is unchanged (no signature, no timestamp needed).
    assert.equal((await post('plain', '{"id":"2"}')).status, 200)
    assert.equal(seen.at(-1).event, 'hook.plain')
  } finally {
    await s.close()
  }
})

// ---- inbound webhooks: timestamp window and replays -----------------------------------
test('inbound: a signed delivery needs X-Webhook-Timestamp within the window, equal to the signed body, and is accepted once (WebhookSender -> router over HTTP)', async () => {
  const bus = new AuthEventBus()
  const seen = []
  bus.onEvent('*', (p) => seen.push(p))
  let failNext = false
  const config = { id: 'w', url: '', events: [], provider: 'peer', secret: 'k' }
  const webhookStore = { findByEvent: async () => [], findByProvider: async (p) => (p === 'peer' ? config : null) }
  const onWebhook = async (_provider, body) => {
    if (failNext) {
      failNext = false
      throw new Error('app failed')
    }
    return { event: `hook.${body.event}`, data: body.data }
  }
  // The receiver records every request the sender makes, then hands it to the router.
  const captured = []
  const app = express()
  app.use('/tools', (req, _res, next) => {
    captured.push({ headers: { ...req.headers } })
    next()
  })
  app.use('/tools', createToolsRouter(new AuthTools(bus), { webhookStore, onWebhook }))
  const s = await serve(app)
  const sender = new WebhookSender({ allowInternalUrls: true })
  const url = `${s.base}/tools/webhook/peer`
  const post = (body, headers) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  try {
    // The real sender: signature, timestamp and delivery id as it sends them.
    const event = { event: 'identity.user.created', version: '1', timestamp: new Date().toISOString(), data: { a: 1 }, metadata: {} }
    const out = await sender.deliver({ url, secret: 'k', maxRetries: 0 }, event)
    assert.equal(out.status, 200)
    assert.equal(seen.at(-1).event, 'hook.identity.user.created')
    const h = captured.at(-1).headers
    assert.equal(h['x-webhook-timestamp'], event.timestamp)
    assert.equal(h['x-webhook-delivery'], out.deliveryId)
    const body = JSON.stringify(event)
    const n = seen.length
    const expect401 = async (headers, error, b = body) => {
      const r = await post(b, headers)
      assert.equal(r.status, 401, JSON.stringify(headers))
      assert.deepEqual(await r.json(), { error })
    }
    const signed = { 'x-webhook-signature': h['x-webhook-signature'], 'x-webhook-timestamp': h['x-webhook-timestamp'] }
    // Replayed as captured: refused.
    await expect401({ ...signed, 'x-webhook-delivery': h['x-webhook-delivery'] }, 'Webhook delivery already received')
    // Replayed under a new delivery id: the signed body was already received.
    await expect401({ ...signed, 'x-webhook-delivery': 'another-id' }, 'Webhook delivery already received')
    // Replayed with a fresh timestamp header: the signature covers the body's timestamp.
    await expect401({ ...signed, 'x-webhook-timestamp': new Date(Date.now() + 1000).toISOString() }, 'Webhook timestamp outside the allowed window')
    // No timestamp: refused.
    await expect401({ 'x-webhook-signature': h['x-webhook-signature'] }, 'Missing webhook timestamp')
    // A well-signed delivery from 10 minutes ago: refused.
    const oldEvent = { ...event, timestamp: new Date(Date.now() - 600_000).toISOString() }
    const oldBody = JSON.stringify(oldEvent)
    await expect401({ 'x-webhook-signature': sender.sign(oldBody, 'k'), 'x-webhook-timestamp': oldEvent.timestamp }, 'Webhook timestamp outside the allowed window', oldBody)
    // A bad signature is still reported first.
    await expect401({ 'x-webhook-signature': sender.sign(oldBody, 'x'), 'x-webhook-timestamp': oldEvent.timestamp }, 'Invalid webhook signature', oldBody)
    assert.equal(seen.length, n, 'nothing refused was tracked')
    // A delivery the application failed to process is not remembered: the sender's retry
    // (same delivery id, same body) is accepted.
    failNext = true
    const e2 = { ...event, timestamp: new Date().toISOString(), data: { a: 2 } }
    const b2 = JSON.stringify(e2)
    const retryHeaders = { 'x-webhook-signature': sender.sign(b2, 'k'), 'x-webhook-timestamp': e2.timestamp, 'x-webhook-delivery': 'd-retry' }
    assert.equal((await post(b2, retryHeaders)).status, 400)
    assert.equal((await post(b2, retryHeaders)).status, 200)
    assert.equal((await post(b2, retryHeaders)).status, 401)
  } finally {
    await s.close()
  }

  // A shared replay store (as Redis SET NX PX would be) refuses across routers; the window
  // is configurable, and 0 drops the timestamp requirement (providers that send none).
  const held = new Map()
  const shared = {
    claim: async (key, ttl) => {
      assert.equal(ttl, 2 * 60_000)
      if (held.has(key)) return false
      held.set(key, ttl)
      return true
    },
    release: async (key) => held.delete(key),
  }
  const a = express()
  a.use('/a', createToolsRouter(new AuthTools(bus), { webhookStore, onWebhook, webhookReplayStore: shared, webhookTimestampWindowMs: 60_000 }))
  a.use('/b', createToolsRouter(new AuthTools(bus), { webhookStore, onWebhook, webhookReplayStore: shared, webhookTimestampWindowMs: 60_000 }))
  a.use('/z', createToolsRouter(new AuthTools(bus), { webhookStore, onWebhook, webhookTimestampWindowMs: 0 }))
  const s2 = await serve(a)
  try {
    const ev = { event: 'x', version: '1', timestamp: new Date(Date.now() - 90_000).toISOString(), data: null, metadata: {} }
    const b = JSON.stringify(ev)
    const hs = { 'content-type': 'application/json', 'x-webhook-signature': sender.sign(b, 'k'), 'x-webhook-timestamp': ev.timestamp, 'x-webhook-delivery': 'd1' }
    // 90 s old: outside a 60 s window.
    assert.equal((await fetch(`${s2.base}/a/webhook/peer`, { method: 'POST', headers: hs, body: b })).status, 401)
    const fresh = { ...ev, timestamp: new Date().toISOString() }
    const fb = JSON.stringify(fresh)
    const fh = { ...hs, 'x-webhook-signature': sender.sign(fb, 'k'), 'x-webhook-timestamp': fresh.timestamp }
    assert.equal((await fetch(`${s2.base}/a/webhook/peer`, { method: 'POST', headers: fh, body: fb })).status, 200)
    assert.deepEqual([...held.keys()].sort(), ['peer:d:d1', `peer:s:${fh['x-webhook-signature']}`])
    assert.equal((await fetch(`${s2.base}/b/webhook/peer`, { method: 'POST', headers: fh, body: fb })).status, 401, 'the other router shares the store')
    // Window 0: signature only (no timestamp header), replays still refused.
    const zh = { 'content-type': 'application/json', 'x-webhook-signature': sender.sign(b, 'k') }
    assert.equal((await fetch(`${s2.base}/z/webhook/peer`, { method: 'POST', headers: zh, body: b })).status, 200)
    assert.equal((await fetch(`${s2.base}/z/webhook/peer`, { method: 'POST', headers: zh, body: b })).status, 401)
  } finally {
    await s2.close()
  }
  assert.throws(() => createToolsRouter(new AuthTools(bus), { webhookStore, webhookTimestampWindowMs: -1 }), TypeError)
})

// ---- inbound webhooks: scripts are refused; onWebhook works ---------------------------
test('inbound: a provider with a jsScript is refused with a clear error (no vm, no crash); onWebhook fallback reaches the bus', async () => {
  const bus = new AuthEventBus()
  const seen = []
  bus.onEvent('*', (p) => seen.push(p))
  const tools = new AuthTools(bus)
  let called = false
  ActionRegistry.register({ id: 'a.x', label: 'x', category: 'c', description: 'd', fn: () => (called = true) })
  const app = express()
  app.use(
    '/tools',
    createToolsRouter(tools, {
      webhookStore: {
        findByEvent: async () => [],
        findByProvider: async (p) =>
          p === 'scripted'
            ? { id: 'w', url: '', events: [], provider: p, allowedActions: ['a.x'], jsScript: 'body.constructor.constructor("return process")().exit(1); actions["a.x"](body.id); result = {event: "e"}' }
            : null,
      },
      settingsStore: { getSettings: async () => ({ enabledWebhookActions: ['a.x'] }) },
      onWebhook: async (provider, body) => ({ event: `hook.${provider}`, data: body }),
    }),
  )
  const s = await serve(app)
  try {
    const r = await fetch(`${s.base}/tools/webhook/scripted`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"1"}' })
    assert.equal(r.status, 501)
    assert.match((await r.json()).error, /scripts are not supported/)
    assert.equal(called, false)
    const r2 = await fetch(`${s.base}/tools/webhook/github`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"2"}' })
    assert.equal(r2.status, 200)
    assert.deepEqual(await r2.json(), { ok: true })
    assert.equal(seen.at(-1).event, 'hook.github')
    assert.deepEqual(seen.at(-1).data, { id: '2' })
  } finally {
    await s.close()
    ActionRegistry.clear()
  }
})

// ---- Wire bytes (not covered upstream) ------------------------------------------------
test('frames: connected frame, rawData, key order, headers, no retry:', async () => {
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const res = mockSseRes()
  const connId = tools.sseManager.connect(res, ['global', 'user:u1'], { userId: 'u1', tenantId: 't1' })
  assert.deepEqual(res.headers, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' })
  const [c] = frames(res)
  assert.equal(c.event, 'connected')
  assert.deepEqual(Object.keys(c.data), ['id', 'type', 'timestamp', 'topic', 'rawData'])
  assert.equal(c.id, c.data.id)
  assert.notEqual(c.id, connId)
  assert.deepEqual(c.data.rawData, { connectionId: connId, topics: ['global', 'user:u1'] })
  assert.equal(c.data.topic, 'meta')
  await tools.track('identity.auth.login.success', { m: 1 }, { userId: 'u1', tenantId: 't1', ip: '203.0.113.9', userAgent: 'UA/1' })
  const f = frames(res)
  assert.equal(f.length, 2, 'dedupe: global + user:u1 deliver once')
  const t = f[1]
  assert.deepEqual(Object.keys(t.data), ['id', 'timestamp', 'topic', 'type', 'userId', 'tenantId', 'rawData'])
  assert.equal(t.data.topic, 'global')
  assert.equal(t.id, t.data.id)
  assert.equal(t.data.rawData.event, 'identity.auth.login.success')
  assert.deepEqual(Object.keys(t.data.rawData), ['id', 'event', 'timestamp', 'data', 'userId', 'tenantId'])
  assert.ok(!text(res).includes('retry:'))
  await tools.notify('user:u1', 'hello', { type: 'n', userId: 'u1', metadata: { k: 1 } })
  const n = frames(res).at(-1)
  assert.deepEqual(Object.keys(n.data), ['id', 'timestamp', 'topic', 'type', 'userId', 'metadata', 'rawData'])
  assert.equal(n.data.rawData, 'hello')
  assert.equal(n.json, JSON.stringify(n.data))
})

test('heartbeat comment from the one timer', async () => {
  const m = new SseManager({ heartbeatIntervalMs: 40 })
  const res = mockSseRes()
  const id = m.connect(res, ['global'])
  await new Promise((r) => setTimeout(r, 200))
  m.disconnect(id)
  assert.ok(text(res).includes(': heartbeat\n\n'))
})

test('@sseNotify broadcasts the result after the method; SseNotifyRegistry without a manager is a no-op', async () => {
  SseNotifyRegistry.setManager(null)
  SseNotifyRegistry.notify('global', { type: 't', data: 1 })
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const res = mockSseRes()
  tools.sseManager.connect(res, ['user:u9'])
  const method = sseNotify({ topic: (args) => `user:${args[0]}`, event: 'profile.updated', userId: (_r, args) => args[0] })(
    function (uid) { return { uid, ok: true } },
    { kind: 'method', name: 'update' },
  )
  const r = method('u9')
  assert.ok(r instanceof Promise)
  assert.deepEqual(await r, { uid: 'u9', ok: true })
  const f = frames(res).at(-1)
  assert.equal(f.event, 'profile.updated')
  assert.deepEqual(f.data.rawData, { uid: 'u9', ok: true })
  assert.deepEqual(Object.keys(f.data), ['id', 'timestamp', 'topic', 'type', 'userId', 'rawData'])
})

// ---- Security fixes (each fails on the original) --------------------------------------
test('fix: a CR or LF in an event type or id cannot inject SSE fields', async () => {
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const res = mockSseRes()
  tools.sseManager.connect(res, ['global'])
  const before = text(res)
  for (const bad of ['x\ndata: {"injected":true}', 'x\rdata: 1', 'x\r\nid: 9']) {
    assert.throws(() => tools.sseManager.broadcast('global', { type: bad, data: 1 }), (e) => e.code === 'EVENTS_INVALID_FIELD' && e.status === 400)
    assert.throws(() => tools.sseManager.broadcast('global', { id: bad, type: 't', data: 1 }), (e) => e.code === 'EVENTS_INVALID_FIELD')
    await assert.rejects(tools.track(bad), (e) => e.code === 'EVENTS_INVALID_FIELD')
  }
  assert.equal(text(res), before)
  // Over HTTP: %0A in /track/:eventName is a 400 and nothing reaches the stream.
  const app = express()
  app.use('/tools', createToolsRouter(tools, {}))
  const s = await serve(app)
  try {
    const r = await fetch(`${s.base}/tools/track/evil%0Adata:%20pwned`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    assert.equal(r.status, 400)
    assert.equal(text(res), before)
  } finally {
    await s.close()
  }
})

test('fix: telemetry ip and userAgent are not broadcast to stream subscribers (opt-in restores)', async () => {
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const res = mockSseRes()
  tools.sseManager.connect(res, ['global'])
  await tools.track('identity.auth.login.success', {}, { userId: 'victim', ip: '198.51.100.7', userAgent: 'Secret-UA' })
  assert.ok(!text(res).includes('198.51.100.7'))
  assert.ok(!text(res).includes('Secret-UA'))
  const opt = new AuthTools(new AuthEventBus(), { sse: true, sseIncludeClientInfo: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const r2 = mockSseRes()
  opt.sseManager.connect(r2, ['global'])
  await opt.track('e', {}, { ip: '198.51.100.7' })
  assert.ok(text(r2).includes('198.51.100.7'))
})

function authAs(user) {
  return (req, res, next) => {
    if (!req.headers.authorization) return res.status(401).json({ error: 'unauthorized' })
    req.user = user
    next()
  }
}

test('fix: an authenticated caller notifies only its own user topic unless authorizeNotify allows', async () => {
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const victim = mockSseRes()
  tools.sseManager.connect(victim, ['global', 'user:victim'])
  const before = text(victim)
  const app = express()
  app.use('/tools', createToolsRouter(tools, { authMiddleware: authAs({ id: 'mallory', tenantId: 't1' }) }))
  app.use('/admin', createToolsRouter(tools, { authMiddleware: authAs({ id: 'root' }), authorizeNotify: (req, target) => req.user.id === 'root' && target === 'global' }))
  const s = await serve(app)
  const post = (p) => fetch(`${s.base}${p}`, { method: 'POST', headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: '{"data":{"phish":1},"type":"alert"}' })
  try {
    assert.equal((await post('/tools/notify/global')).status, 403)
    assert.equal((await post('/tools/notify/user:victim')).status, 403)
    assert.equal(text(victim), before)
    assert.equal((await post('/tools/notify/user:mallory')).status, 202)
    assert.equal((await post('/admin/notify/global')).status, 202)
    await new Promise((r) => setTimeout(r, 20))
    assert.ok(text(victim).includes('"phish"'))
  } finally {
    await s.close()
  }
})

test("fix: /track ignores a spoofed userId / tenantId in the body for an authenticated caller", async () => {
  const saved = []
  const tools = new AuthTools(new AuthEventBus(), { telemetryStore: { save: async (e) => saved.push(e) } })
  const app = express()
  app.use('/tools', createToolsRouter(tools, { authMiddleware: authAs({ sub: 'u1', tenantId: 'acme' }) }))
  const s = await serve(app)
  try {
    const r = await fetch(`${s.base}/tools/track/identity.auth.logout`, {
      method: 'POST',
      headers: { authorization: 'Bearer x', 'content-type': 'application/json', 'user-agent': 'T/1', 'x-forwarded-for': '203.0.113.1, 10.0.0.1' },
      body: JSON.stringify({ userId: 'victim', tenantId: 'other', data: { a: 1 }, sessionId: 's1' }),
    })
    assert.equal(r.status, 202)
    assert.deepEqual(await r.json(), { ok: true })
    assert.equal(saved[0].userId, 'u1')
    assert.equal(saved[0].tenantId, 'acme')
    assert.equal(saved[0].ip, '203.0.113.1')
    assert.equal(saved[0].userAgent, 'T/1')
    assert.equal(saved[0].sessionId, 's1')
  } finally {
    await s.close()
  }
})

test('fix: a throwing inbound handler answers 400 and the process keeps running', async () => {
  const tools = new AuthTools(new AuthEventBus())
  const app = express()
  app.use('/tools', createToolsRouter(tools, { onWebhook: async (_p, body) => body.missing.deref }))
  const s = await serve(app)
  try {
    const r = await fetch(`${s.base}/tools/webhook/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    assert.equal(r.status, 400)
    assert.deepEqual(await r.json(), { error: 'Webhook processing failed' })
    assert.equal((await fetch(`${s.base}/tools/webhook/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 400)
  } finally {
    await s.close()
  }
})

test('fix: connections are bounded (per user and in all) and a slow client is disconnected', async () => {
  const m = new SseManager({ heartbeatIntervalMs: 0, maxConnectionsPerUser: 2, maxConnections: 3 })
  m.connect(mockSseRes(), ['global'], { userId: 'u' })
  m.connect(mockSseRes(), ['global'], { userId: 'u' })
  assert.throws(() => m.connect(mockSseRes(), ['global'], { userId: 'u' }), (e) => e.code === 'EVENTS_TOO_MANY_FOR_USER' && e.status === 429)
  m.connect(mockSseRes(), ['global'])
  assert.throws(() => m.connect(mockSseRes(), ['global']), (e) => e.code === 'EVENTS_TOO_MANY_SUBSCRIBERS')
  // A client that stops reading: writes report backpressure, the engine queues up to
  // maxQueueBytes, then the connection is ended.
  const q = new SseManager({ heartbeatIntervalMs: 0, maxQueueBytes: 4096 })
  const slow = mockSseRes()
  slow.write = (c) => {
    slow.chunks.push(String(c))
    return false
  }
  const fast = mockSseRes()
  q.connect(slow, ['global'])
  q.connect(fast, ['global'])
  let sent = 0
  while (sent < 100 && !slow.ended) {
    q.broadcast('global', { type: 't', data: 'x'.repeat(200) })
    sent++
  }
  assert.equal(slow.ended, true)
  assert.ok(sent > 10 && sent < 30, `ended after ${sent} events of ~300 bytes with a 4096-byte queue`)
  assert.equal(q.connectionCount, 1)
  q.broadcast('global', { type: 't', data: 'after' })
  assert.equal(frames(fast).length, sent + 2)
})

test('replay after Last-Event-ID over HTTP, and a revoked session ends its stream with the revoking event', async () => {
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const app = express()
  app.use('/tools', createToolsRouter(tools, { authMiddleware: authAs({ id: 'u1', tenantId: 't1', sid: 's1' }) }))
  const s = await serve(app)
  try {
    await tools.track('e.one', {}, { userId: 'u1' })
    const r1 = await fetch(`${s.base}/tools/stream?token=abc`)
    assert.equal(r1.status, 200)
    assert.equal(r1.headers.get('content-type'), 'text/event-stream')
    const s1 = sseReader(r1)
    await s1.read((b) => b.includes('event: connected'))
    await tools.track('e.two', {}, { userId: 'u1' })
    const buf = await s1.read((b) => b.includes('event: e.two'))
    const twoId = buf.split('\n\n').find((f) => f.includes('\nevent: e.two\n')).split('\n')[0].slice(4)
    await tools.track('e.three', {}, { userId: 'u1' })
    await tools.track('e.four', {}, { tenantId: 't2' })
    const r2 = await fetch(`${s.base}/tools/stream`, { headers: { authorization: 'Bearer x', 'last-event-id': twoId } })
    const s2 = sseReader(r2)
    const got = await s2.read((b) => b.includes('event: e.three'))
    assert.ok(!got.includes('event: e.two'))
    assert.ok(!got.includes('event: e.four'))
    // Revoking the session: its streams get the revoking event, then end.
    await tools.track(AuthEventNames.SESSION_REVOKED, {}, { userId: 'u1', sessionId: 's1' })
    for (const st of [s1, s2]) {
      await st.read(() => false)
      assert.equal(st.done, true)
      assert.ok(st.buf.includes('event: identity.session.revoked'))
    }
    assert.equal(tools.sseManager.connectionCount, 0)
  } finally {
    await s.close()
  }
})

test('GET /stream: 503 without SSE, topics intersected with the authorised ones', async () => {
  const off = new AuthTools(new AuthEventBus())
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const app = express()
  app.use('/off', createToolsRouter(off, {}))
  app.use('/tools', createToolsRouter(tools, { authMiddleware: authAs({ id: 'u1', tenantId: 't1' }) }))
  const s = await serve(app)
  try {
    const r = await fetch(`${s.base}/off/stream`)
    assert.equal(r.status, 503)
    assert.deepEqual(await r.json(), { error: 'SSE not enabled' })
    const r2 = await fetch(`${s.base}/tools/stream?topics=global,user:u2,tenant:t1`, { headers: { authorization: 'Bearer x' } })
    const buf = await sseReader(r2).read((b) => b.includes('event: connected'))
    const data = JSON.parse(buf.split('\n').find((l) => l.startsWith('data: ')).slice(6))
    assert.deepEqual(data.rawData.topics, ['global', 'tenant:t1'])
  } finally {
    await s.close()
  }
})

// ---- Outgoing webhook delivery policy, against a real local HTTP server ---------------
async function hookServer(handler) {
  const hits = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      hits.push({ headers: req.headers, body, url: req.url })
      handler(hits.length, req, res)
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    hits,
    url: `http://127.0.0.1:${server.address().port}/hook`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.()
        server.close(r)
      }),
  }
}

const event = { event: 'identity.user.created', version: '1', timestamp: '2026-01-01T00:00:00.000Z', data: { a: 1 }, metadata: { userId: 'u1' } }

test('webhook: 5xx retried with one delivery id, signed body and X-Webhook-* headers', async () => {
  const srv = await hookServer((n, _req, res) => res.writeHead(n < 3 ? 503 : 204).end())
  try {
    const sender = new WebhookSender({ allowInternalUrls: true })
    const out = await sender.deliver({ id: 'w', url: srv.url, events: ['*'], secret: 'k', retryDelayMs: 10 }, event)
    assert.equal(out.ok, true)
    assert.equal(out.attempts, 3)
    assert.equal(srv.hits.length, 3)
    const ids = new Set(srv.hits.map((h) => h.headers['x-webhook-delivery']))
    assert.equal(ids.size, 1)
    assert.equal([...ids][0], out.deliveryId)
    const h = srv.hits[0]
    assert.equal(h.body, JSON.stringify(event))
    assert.equal(h.headers['content-type'], 'application/json')
    assert.equal(h.headers['x-webhook-event'], 'identity.user.created')
    assert.equal(h.headers['x-webhook-timestamp'], '2026-01-01T00:00:00.000Z')
    assert.equal(h.headers['x-webhook-signature'], sender.sign(h.body, 'k'))
    assert.equal(sender.verify(h.body, 'k', h.headers['x-webhook-signature']), true)
  } finally {
    await srv.close()
  }
})

test('webhook: a 4xx is not retried, a redirect is not followed, retries are bounded', async () => {
  const srv = await hookServer((n, req, res) => {
    if (req.url === '/hook') return res.writeHead(404).end()
    res.writeHead(500).end()
  })
  try {
    const sender = new WebhookSender({ allowInternalUrls: true })
    const a = await sender.deliver({ id: 'w', url: srv.url, events: ['*'], retryDelayMs: 1 }, event)
    assert.deepEqual([a.ok, a.attempts, a.status], [false, 1, 404])
    const b = await sender.deliver({ id: 'w', url: srv.url.replace('/hook', '/err'), events: ['*'], retryDelayMs: 1, maxRetries: 2 }, event)
    assert.deepEqual([b.ok, b.attempts, b.status], [false, 3, 500])
    assert.equal(srv.hits.length, 4)
  } finally {
    await srv.close()
  }
  const redirect = await hookServer((_n, _req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end())
  try {
    const c = await new WebhookSender({ allowInternalUrls: true }).deliver({ id: 'w', url: redirect.url, events: ['*'], retryDelayMs: 1 }, event)
    assert.deepEqual([c.ok, c.attempts, c.status], [false, 1, 302])
  } finally {
    await redirect.close()
  }
})

test('webhook: an attempt times out; internal URLs are refused unless allowed', async () => {
  const srv = await hookServer(() => {}) // never answers
  try {
    const t0 = Date.now()
    const out = await new WebhookSender({ allowInternalUrls: true, timeoutMs: 150 }).deliver({ id: 'w', url: srv.url, events: ['*'], maxRetries: 1, retryDelayMs: 10 }, event)
    assert.equal(out.ok, false)
    assert.equal(out.attempts, 2)
    assert.ok(Date.now() - t0 < 3000)
    const before = srv.hits.length
    await assert.rejects(new WebhookSender().deliver({ id: 'w', url: srv.url, events: ['*'] }, event), (e) => e.code === 'EVENTS_WEBHOOK_REFUSED')
    for (const url of ['http://localhost:1/x', 'http://169.254.169.254/latest', 'http://[::1]/', 'file:///etc/passwd']) {
      await assert.rejects(new WebhookSender().deliver({ id: 'w', url, events: ['*'] }, event), (e) => e.code === 'EVENTS_WEBHOOK_REFUSED', url)
    }
    // send() never rejects
    await new WebhookSender().send({ id: 'w', url: srv.url, events: ['*'] }, event)
    assert.equal(srv.hits.length, before)
  } finally {
    await srv.close()
  }
})

// DNS rebinding: the addresses the core checks are the ones the socket connects to. The
// resolver is injected (webhookOptions.lookup / WebhookSender({lookup}), dns.lookup's
// signature) so a public name can answer 127.0.0.1 without touching /etc/hosts.
test('webhook: a host name resolving to an internal address is refused at connection time, even after a public answer', async () => {
  const srv = await hookServer((_n, _req, res) => res.writeHead(204).end())
  const port = new URL(srv.url).port
  const url = `http://hooks.example.com:${port}/hook`
  try {
    const local = []
    const toLocal = (host, _opts, cb) => {
      local.push(host)
      cb(null, [{ address: '127.0.0.1', family: 4 }])
    }
    await assert.rejects(new WebhookSender({ lookup: toLocal }).deliver({ id: 'w', url, events: ['*'] }, event), (e) => e.code === 'EVENTS_WEBHOOK_REFUSED' && /127\.0\.0\.1/.test(e.message))
    assert.deepEqual(local, ['hooks.example.com'])
    // Rebinding: the first answer is public (TEST-NET-1, unreachable), every later one is
    // loopback. The first attempt connects to the public answer it checked and fails; the
    // retry's lookup answers 127.0.0.1 and the core refuses it before any connection.
    const answers = []
    const rebinding = (_host, _opts, cb) => {
      const address = answers.length === 0 ? '192.0.2.1' : '127.0.0.1'
      answers.push(address)
      cb(null, [{ address, family: 4 }])
    }
    await assert.rejects(
      new WebhookSender({ lookup: rebinding, timeoutMs: 300 }).deliver({ id: 'w', url, events: ['*'], maxRetries: 3, retryDelayMs: 1 }, event),
      (e) => e.code === 'EVENTS_WEBHOOK_REFUSED',
    )
    assert.deepEqual(answers, ['192.0.2.1', '127.0.0.1'])
    // A resolver answer that is not a plain IP address is refused too (fails closed).
    const zoned = (_h, _o, cb) => cb(null, [{ address: 'fe80::1%lo', family: 6 }])
    await assert.rejects(new WebhookSender({ lookup: zoned }).deliver({ id: 'w', url, events: ['*'] }, event), (e) => e.code === 'EVENTS_WEBHOOK_REFUSED')
    assert.equal(srv.hits.length, 0)
    // allowInternalUrls: the same name is delivered to the local server through the
    // injected answer, with the name as the Host header.
    const out = await new WebhookSender({ lookup: toLocal, allowInternalUrls: true }).deliver({ id: 'w', url, events: ['*'], secret: 'k' }, event)
    assert.deepEqual([out.ok, out.attempts, out.status], [true, 1, 204])
    assert.equal(srv.hits.length, 1)
    assert.equal(srv.hits[0].headers.host, `hooks.example.com:${port}`)
    assert.equal(srv.hits[0].headers['x-webhook-delivery'], out.deliveryId)
    assert.equal(srv.hits[0].body, JSON.stringify(event))
  } finally {
    await srv.close()
  }
})

test('webhook: through AuthTools, a tracked event is not delivered to a name that resolves inside', async () => {
  const srv = await hookServer((_n, _req, res) => res.writeHead(204).end())
  const port = new URL(srv.url).port
  const lookups = []
  const toLocal = (host, _opts, cb) => {
    lookups.push(host)
    cb(null, [{ address: '127.0.0.1', family: 4 }])
  }
  const store = { findByEvent: async () => [{ id: 'w1', url: `http://hooks.example.com:${port}/hook`, events: ['*'] }] }
  try {
    await new AuthTools(new AuthEventBus(), { webhookStore: store, webhookOptions: { lookup: toLocal } }).track('identity.user.created', { a: 1 })
    await new AuthTools(new AuthEventBus(), { webhookStore: store, webhookOptions: { lookup: toLocal, allowInternalUrls: true } }).track('identity.user.created', { a: 2 })
    for (let i = 0; i < 250 && (srv.hits.length < 1 || lookups.length < 2); i++) await new Promise((r) => setTimeout(r, 20))
    assert.equal(lookups.length, 2)
    assert.equal(srv.hits.length, 1)
    assert.deepEqual(JSON.parse(srv.hits[0].body).data, { a: 2 })
  } finally {
    await srv.close()
  }
})

// ---- the fan-out's write path: frames from the core straight to the socket -------------
test('native writes: a plain HTTP/1.1 subscriber gets the same chunk bytes without res.write; nativeWrites:false keeps res.write; a client that stops reading falls back and hits the queue bound', async () => {
  const net = await import('node:net')
  const rawStream = (port) =>
    new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET /s HTTP/1.1\r\nHost: x\r\n\r\n'))
      s.buf = ''
      s.on('data', (d) => (s.buf += d))
      s.on('error', reject)
      const wait = () => (s.buf.includes('event: connected') ? resolve(s) : setTimeout(wait, 5))
      wait()
    })
  const until = async (cond, what) => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10))
    assert.ok(cond(), what)
  }
  const event = { id: 'e1', timestamp: '2026-01-01T00:00:00.000Z', type: 'bench.x', data: { a: 'ü' } }
  const frame = `id: e1\nevent: bench.x\ndata: {"id":"e1","timestamp":"2026-01-01T00:00:00.000Z","topic":"global","type":"bench.x","rawData":{"a":"ü"}}\n\n`
  const chunk = `${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`
  for (const nativeWrites of [true, false]) {
    const sse = new SseManager({ heartbeatIntervalMs: 0, nativeWrites, maxQueueBytes: 256 * 1024 })
    let socketWrites = 0
    const server = http.createServer((req, res) => {
      sse.connect(res, ['global'])
      // Counts the writes JS makes to this socket (res.write ends there; the core does not).
      setTimeout(() => {
        const w = res.socket.write
        res.socket.write = function (...a) {
          socketWrites++
          return w.apply(this, a)
        }
      }, 20)
    })
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    const port = server.address().port
    try {
      const s = await rawStream(port)
      await new Promise((r) => setTimeout(r, 50))
      const before = socketWrites
      sse.broadcast('global', event)
      await until(() => s.buf.includes(chunk), `${nativeWrites}: the chunk arrives byte for byte`)
      // (res.write sends the chunk size, the frame and the CRLF as separate socket writes)
      if (nativeWrites) assert.equal(socketWrites - before, 0, 'no JS write for the frame')
      else assert.ok(socketWrites - before > 0, 'res.write wrote it')
      assert.ok(s.buf.includes('Transfer-Encoding: chunked'))
      // A client that stops reading: the socket fills, the frames go back to res.write, its
      // queue passes maxQueueBytes and the response ends (the slow-client policy holds).
      s.pause()
      const big = 'x'.repeat(64 * 1024)
      let sent = 0
      while (sse.connectionCount > 0 && sent < 2000) {
        sse.broadcast('global', { type: 'big', data: big })
        sent++
        if (sent % 16 === 0) await new Promise((r) => setImmediate(r))
      }
      assert.equal(sse.connectionCount, 0, `nativeWrites ${nativeWrites}: the slow client was dropped after ${sent} frames`)
      s.destroy()
      // Closing the client's socket removes the subscriber (and the core's copy of the socket).
      const s2 = await rawStream(port)
      await new Promise((r) => setTimeout(r, 50))
      assert.equal(sse.connectionCount, 1)
      s2.destroy()
      await until(() => sse.connectionCount === 0, 'close removes the subscriber')
    } finally {
      server.closeAllConnections?.()
      await new Promise((r) => server.close(r))
    }
  }
})

test('released responses: the core owns an idle subscriber (one descriptor, no HTTP objects), sees its close, ends it on disconnect and on closeAllConnections; a listened response is kept', async () => {
  const net = await import('node:net')
  const rawStream = (port, path = '/s') =>
    new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`))
      s.buf = ''
      s.ended = false
      s.on('data', (d) => (s.buf += d))
      s.on('end', () => (s.ended = true))
      s.on('error', reject)
      const wait = () => (s.buf.includes('event: connected') ? resolve(s) : setTimeout(wait, 5))
      wait()
    })
  const until = async (cond, what) => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10))
    assert.ok(cond(), what)
  }
  const connections = (server) => new Promise((r, j) => server.getConnections((e, n) => (e ? j(e) : r(n))))
  const sse = new SseManager({ heartbeatIntervalMs: 0 })
  const ids = []
  const server = http.createServer((req, res) => {
    // An app that listens on the request keeps its response (nothing is released under it).
    if (req.url === '/listened') req.on('close', () => {})
    ids.push(sse.connect(res, ['global']))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const port = server.address().port
  try {
    const [a, b, c] = [await rawStream(port), await rawStream(port), await rawStream(port)]
    await until(() => sse.connectionCount === 3, 'three subscribers')
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(await connections(server), 0, 'released: the http.Server no longer holds their sockets')
    sse.broadcast('global', { id: 'e1', timestamp: 't', type: 'x', data: { n: 1 } })
    const chunk = (f) => `${Buffer.byteLength(f).toString(16)}\r\n${f}\r\n`
    const frame = 'id: e1\nevent: x\ndata: {"id":"e1","timestamp":"t","topic":"global","type":"x","rawData":{"n":1}}\n\n'
    await until(() => [a, b, c].every((s) => s.buf.endsWith(chunk(frame))), 'the core writes the same chunk to each')
    // The client closes: the core's watcher reports it and the subscriber is removed.
    a.destroy()
    await until(() => sse.connectionCount === 2, 'a closed client is removed')
    // disconnect: the last chunk, then the connection closes.
    sse.disconnect(ids[1])
    await until(() => b.ended, 'disconnect closes the connection')
    assert.ok(b.buf.endsWith(`${chunk(frame)}0\r\n\r\n`), 'the body ends with the last chunk')
    assert.equal(sse.connectionCount, 1)
    // A response with a listener on its request is not released.
    const d = await rawStream(port, '/listened')
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(sse.connectionCount, 2)
    assert.equal(await connections(server), 1, 'the listened response keeps its socket')
    // closeAllConnections closes the released streams too.
    server.closeAllConnections()
    await until(() => c.ended || c.destroyed, 'closeAllConnections ends a released stream')
    await until(() => d.ended || d.destroyed, 'and the kept one')
    await until(() => sse.connectionCount === 0, 'both removed')
  } finally {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
})
