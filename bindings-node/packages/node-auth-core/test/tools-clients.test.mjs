// AuthTools' stream route with a real SSE client: the `eventsource` npm package (the WHATWG
// EventSource for Node), including its automatic reconnect with Last-Event-ID and the replay.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import express from 'express'
import { EventSource } from 'eventsource'
import { AuthEventBus, AuthTools, createToolsRouter } from '@authcore/node-auth-core'

function waitFor(pred, ms = 10000) {
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

test('eventsource client: named events, ids, reconnect with Last-Event-ID replays what it missed', async () => {
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const app = express()
  const auth = (req, res, next) => {
    if (req.headers.authorization !== 'Bearer good') return res.status(401).json({ error: 'unauthorized' })
    req.user = { id: 'u1', tenantId: 't1' }
    next()
  }
  app.use('/tools', createToolsRouter(tools, { authMiddleware: auth }))
  const server = http.createServer(app)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${server.address().port}/tools/stream?token=good`
  const es = new EventSource(url)
  const got = []
  let opened = 0
  const onEvent = (e) => got.push({ type: e.type, id: e.lastEventId, data: JSON.parse(e.data) })
  for (const t of ['connected', 'identity.user.created', 'missed.while.away', 'after.reconnect']) es.addEventListener(t, onEvent)
  es.addEventListener('open', () => opened++)
  try {
    await waitFor(() => got.some((g) => g.type === 'connected'))
    await tools.track('identity.user.created', { name: 'x' }, { userId: 'u1', tenantId: 't1' })
    await waitFor(() => got.some((g) => g.type === 'identity.user.created'))
    const created = got.find((g) => g.type === 'identity.user.created')
    assert.equal(created.id, created.data.id)
    assert.equal(created.data.rawData.event, 'identity.user.created')
    assert.deepEqual(created.data.rawData.data, { name: 'x' })
    // The server drops the connection; an event is tracked while the client is away.
    const connId = got.find((g) => g.type === 'connected').data.rawData.connectionId
    tools.sseManager.disconnect(connId)
    await tools.track('missed.while.away', { n: 1 }, { userId: 'u1' })
    // EventSource reconnects (its default delay) sending Last-Event-ID: the replay delivers it.
    await waitFor(() => got.some((g) => g.type === 'missed.while.away'), 15000)
    assert.equal(opened, 2)
    await tools.track('after.reconnect', {}, { userId: 'u1' })
    await waitFor(() => got.some((g) => g.type === 'after.reconnect'))
    assert.equal(got.filter((g) => g.type === 'missed.while.away').length, 1)
    assert.equal(got.filter((g) => g.type === 'identity.user.created').length, 1)
  } finally {
    es.close()
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
})
