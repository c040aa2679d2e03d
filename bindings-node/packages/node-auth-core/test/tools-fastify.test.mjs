// AuthTools' SSE stream served from a real Fastify server (@authcore/node-auth-core/fastify)
// and read with a real SSE client (the `eventsource` npm package): the caller's topics
// only, named events with ids, reconnect with Last-Event-ID replaying what was missed,
// the original's errors (401 from the authenticate hook, 429 over the per-user limit,
// 503 without SSE), and the core's SSE metrics scraped as Prometheus text (subscribers
// back to where they were once the clients are gone).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { EventSource } from 'eventsource'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { metricsText } from '@authcore/native/metrics.js'
import { AuthEventBus, AuthTools } from '@authcore/node-auth-core'
import authToolsFastify from '@authcore/node-auth-core/fastify'

function waitFor(pred, ms = 15000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now()
    const tick = () => {
      if (pred()) return resolve()
      if (Date.now() - t0 > ms) return reject(new Error('timed out'))
      setTimeout(tick, 10)
    }
    tick()
  })
}

const USERS = { good: { id: 'u1', tenantId: 't1' }, other: { id: 'u2', tenantId: 't2' } }

async function authenticate(request, reply) {
  const m = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')
  const user = m && USERS[m[1]]
  if (!user) return reply.code(401).send({ error: 'unauthorized' })
  request.user = user
}

function sseMetric(name) {
  for (const fam of parsePrometheusTextFormat(metricsText())) {
    if (fam.name === name) return Number(fam.metrics[0].value)
  }
  throw new Error(`no ${name}`)
}

async function serve(tools) {
  const app = Fastify()
  await app.register(authToolsFastify, { tools, authenticate, prefix: '/tools' })
  app.get('/health', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, base: `http://127.0.0.1:${app.server.address().port}` }
}

test('Fastify: named events for the caller only, reconnect with Last-Event-ID, metrics', async () => {
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0, maxConnectionsPerUser: 1 } })
  const { app, base } = await serve(tools)
  const subscribers0 = sseMetric('authcore_sse_subscribers')
  const sent0 = sseMetric('authcore_sse_frames_sent_total')
  const es = new EventSource(`${base}/tools/stream?token=good`)
  const got = []
  let opened = 0
  const onEvent = (e) => got.push({ type: e.type, id: e.lastEventId, data: JSON.parse(e.data) })
  for (const t of ['connected', 'identity.user.created', 'not.for.me', 'missed.while.away', 'after.reconnect']) es.addEventListener(t, onEvent)
  es.addEventListener('open', () => opened++)
  try {
    await waitFor(() => got.some((g) => g.type === 'connected'))
    const connected = got.find((g) => g.type === 'connected')
    assert.deepEqual(connected.data.rawData.topics, ['global', 'tenant:t1', 'user:u1'])
    assert.equal(sseMetric('authcore_sse_subscribers'), subscribers0 + 1)

    // Another user's event never reaches this stream; this user's does, with its id.
    await tools.track('not.for.me', {}, { userId: 'u2', tenantId: 't2' })
    await tools.track('identity.user.created', { name: 'x' }, { userId: 'u1', tenantId: 't1' })
    await waitFor(() => got.some((g) => g.type === 'identity.user.created'))
    const created = got.find((g) => g.type === 'identity.user.created')
    assert.equal(created.id, created.data.id)
    assert.equal(created.data.rawData.event, 'identity.user.created')
    assert.equal(got.filter((g) => g.type === 'not.for.me').length, 0)

    // Over the per-user limit: the original's JSON error, 429.
    const second = await fetch(`${base}/tools/stream`, { headers: { authorization: 'Bearer good' } })
    assert.equal(second.status, 429)
    assert.match(second.headers.get('content-type'), /^application\/json/)
    assert.equal(typeof (await second.json()).error, 'string')
    // No credentials: the authenticate hook's answer.
    const anon = await fetch(`${base}/tools/stream`)
    assert.deepEqual([anon.status, await anon.json()], [401, { error: 'unauthorized' }])

    // The server drops the stream; EventSource reconnects with Last-Event-ID and the
    // replay delivers what it missed, exactly once.
    tools.sseManager.disconnect(connected.data.rawData.connectionId)
    await tools.track('missed.while.away', { n: 1 }, { userId: 'u1' })
    await waitFor(() => got.some((g) => g.type === 'missed.while.away'))
    assert.equal(opened, 2)
    await tools.track('after.reconnect', {}, { userId: 'u1' })
    await waitFor(() => got.some((g) => g.type === 'after.reconnect'))
    assert.equal(got.filter((g) => g.type === 'missed.while.away').length, 1)
    assert.equal(got.filter((g) => g.type === 'identity.user.created').length, 1)
    assert.ok(sseMetric('authcore_sse_frames_sent_total') >= sent0 + 2) // the two events published while it was connected
    // Other routes of the app are untouched by the hijacked stream.
    assert.deepEqual(await (await fetch(`${base}/health`)).json(), { ok: true })
  } finally {
    es.close()
  }
  await waitFor(() => tools.sseManager.connectionCount === 0)
  assert.equal(sseMetric('authcore_sse_subscribers'), subscribers0)
  app.server.closeAllConnections()
  await app.close()
})

test('Fastify: ?topics narrows, never widens; 503 without SSE; bad options refused', async () => {
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const { app, base } = await serve(tools)
  const es = new EventSource(`${base}/tools/stream?token=good&topics=user:u1,user:u2,global`)
  let connected
  es.addEventListener('connected', (e) => {
    connected = JSON.parse(e.data)
  })
  try {
    await waitFor(() => connected !== undefined)
    assert.deepEqual(connected.rawData.topics, ['user:u1', 'global'])
  } finally {
    es.close()
    app.server.closeAllConnections()
    await app.close()
  }

  const off = await serve(new AuthTools(new AuthEventBus(), {}))
  try {
    const r = await fetch(`${off.base}/tools/stream?token=good`)
    assert.deepEqual([r.status, await r.json()], [503, { error: 'SSE not enabled' }])
  } finally {
    await off.app.close()
  }

  await assert.rejects(Fastify().register(authToolsFastify, { tools: {} }).ready(), /AuthTools instance/)
  await assert.rejects(Fastify().register(authToolsFastify, { tools, authenticate: 'x' }).ready(), /Fastify hook/)
})
