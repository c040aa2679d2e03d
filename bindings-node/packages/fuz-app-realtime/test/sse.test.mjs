// Port of fuz_app's src/test/realtime/sse.test.ts (spec §5: create_sse_response and
// create_validated_broadcaster), the exact frames of §3.5, and the Node writable stream
// over a real HTTP server.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import http from 'node:http'
import { describe, test } from 'node:test'

import {
  SSE_CONNECTED_COMMENT,
  create_sse_node_stream,
  create_sse_response,
  create_validated_broadcaster,
} from '@authcore/fuz-app-realtime/realtime/sse.js'
import { SSE_CONNECTED_COMMENT as FROM_CONSTANTS } from '@authcore/fuz-app-realtime/realtime/sse_constants.js'
import { SubscriberRegistry } from '@authcore/fuz-app-realtime/realtime/subscriber_registry.js'
import { audit_log_event_specs } from '@authcore/fuz-app-realtime/realtime/sse_auth_guard.js'
import { auditEvent, captureLogger, silent } from './helpers.mjs'

const C = SSE_CONNECTED_COMMENT

/** Promise.withResolvers (Node 22+) for Node 20. */
function deferred() {
  let resolve
  const promise = new Promise((r) => {
    resolve = r
  })
  return { promise, resolve }
}

describe('create_sse_response', () => {
  test('1. SSE headers', () => {
    const { response } = create_sse_response(null, silent)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('Content-Type'), 'text/event-stream')
    assert.equal(response.headers.get('Cache-Control'), 'no-cache')
    assert.equal(response.headers.get('Connection'), 'keep-alive')
    assert.equal(response.headers.get('Transfer-Encoding'), 'chunked')
  })
  test('2. send serialises as a data frame', async () => {
    const { response, stream } = create_sse_response(null, silent)
    stream.send({ msg: 'hello' })
    stream.close()
    assert.equal(await response.text(), `${C}data: {"msg":"hello"}\n\n`)
  })
  test('3. comment', async () => {
    const { response, stream } = create_sse_response(null, silent)
    stream.comment('keep-alive')
    stream.close()
    assert.equal(await response.text(), `${C}: keep-alive\n`)
  })
  test('4. send after close is dropped', async () => {
    const { response, stream } = create_sse_response(null, silent)
    stream.send('before')
    stream.close()
    stream.send('after')
    assert.equal(await response.text(), `${C}data: "before"\n\n`)
  })
  test('5. several sends', async () => {
    const { response, stream } = create_sse_response(null, silent)
    stream.send(1)
    stream.send(2)
    stream.send(3)
    stream.close()
    assert.equal(await response.text(), `${C}data: 1\n\ndata: 2\n\ndata: 3\n\n`)
  })
  test('6. close is idempotent', async () => {
    const { response, stream } = create_sse_response(null, silent)
    stream.close()
    assert.doesNotThrow(() => stream.close())
    assert.equal(await response.text(), C)
  })
  test('7. on_close listeners fire in order', () => {
    const calls = []
    const { stream } = create_sse_response(null, silent)
    stream.on_close(() => calls.push('a'))
    stream.on_close(() => calls.push('b'))
    stream.close()
    assert.deepEqual(calls, ['a', 'b'])
  })
  test('8. a listener fires once despite two closes', () => {
    let n = 0
    const { stream } = create_sse_response(null, silent)
    stream.on_close(() => n++)
    stream.close()
    stream.close()
    assert.equal(n, 1)
  })
  test('9. comment after close is dropped', async () => {
    const { response, stream } = create_sse_response(null, silent)
    stream.comment('before')
    stream.close()
    stream.comment('after')
    assert.equal(await response.text(), `${C}: before\n`)
  })
  test('10. on_close registered after close never fires', () => {
    let called = false
    const { stream } = create_sse_response(null, silent)
    stream.close()
    stream.on_close(() => {
      called = true
    })
    stream.close()
    assert.equal(called, false)
  })
  test('11. on_close(unsubscribe) removes the subscriber on close', async () => {
    const registry = new SubscriberRegistry({ log: silent })
    const { response, stream } = create_sse_response(null, silent)
    const unsubscribe = registry.subscribe(stream, { channels: ['ch'] })
    stream.on_close(unsubscribe)
    stream.send('before')
    assert.equal(registry.count, 1)
    stream.close()
    assert.equal(registry.count, 0)
    assert.equal(await response.text(), `${C}data: "before"\n\n`)
  })
  test('12. body.cancel() fires on_close', async () => {
    let closed = false
    const { response, stream } = create_sse_response(null, silent)
    stream.on_close(() => {
      closed = true
    })
    assert.equal(closed, false)
    await response.body.cancel()
    assert.equal(closed, true)
    assert.doesNotThrow(() => stream.send('after cancel'))
  })
  test('13. a throwing listener does not stop its siblings (and is logged)', () => {
    const log = captureLogger()
    const calls = []
    const { stream } = create_sse_response(null, log)
    stream.on_close(() => calls.push('a'))
    stream.on_close(() => {
      throw new Error('boom')
    })
    stream.on_close(() => calls.push('c'))
    stream.close()
    assert.deepEqual(calls, ['a', 'c'])
    assert.deepEqual(log.lines, [['error', 'on_close listener threw: Error: boom']])
  })
  test('14. broadcast after close and unsubscribe does not throw', async () => {
    const registry = new SubscriberRegistry({ log: silent })
    const { response, stream } = create_sse_response(null, silent)
    stream.on_close(registry.subscribe(stream, { channels: ['ch'] }))
    stream.close()
    registry.broadcast('ch', 'orphaned')
    assert.equal(await response.text(), C)
  })
})

describe('frames (§3.5)', () => {
  const body = async (fn, log = silent) => {
    const { response, stream } = create_sse_response(null, log)
    fn(stream)
    stream.close()
    return (await response.text()).slice(C.length)
  }
  test('the connected comment is the same constant in sse.js and sse_constants.js', () => {
    assert.equal(C, ': connected\n\n')
    assert.equal(FROM_CONSTANTS, C)
  })
  test('JSON.stringify bytes: key order, non-ASCII raw, escapes, toJSON, undefined dropped', async () => {
    const data = { b: 1, a: 'é€😀', c: 'x\n"\\\u0001', d: undefined, e: new Date(0), f: [undefined, NaN, -0], 2: 'two', g: '\ud800' }
    assert.equal(await body((s) => s.send(data)), `data: ${JSON.stringify(data)}\n\n`)
    assert.equal(await body((s) => s.send(data)), 'data: {"2":"two","b":1,"a":"é€😀","c":"x\\n\\"\\\\\\u0001","e":"1970-01-01T00:00:00.000Z","f":[null,null,0],"g":"\\ud800"}\n\n')
  })
  test('a top-level undefined renders as the template literal does', async () => {
    assert.equal(await body((s) => s.send(undefined)), 'data: undefined\n\n')
  })
  test('a serialisation throw is logged and writes nothing', async () => {
    const log = captureLogger()
    const cyclic = {}
    cyclic.self = cyclic
    assert.equal(await body((s) => { s.send({ n: 1n }); s.send(cyclic); s.send('ok') }, log), 'data: "ok"\n\n')
    assert.equal(log.lines.length, 2)
    assert.deepEqual(log.lines[0], ['error', 'send failed to serialize data: TypeError: Do not know how to serialize a BigInt'])
    assert.match(log.lines[1][1], /^send failed to serialize data: TypeError: Converting circular structure to JSON/)
  })
  test('comment injection is neutralised (§6.8 fix): one comment line per line', async () => {
    assert.equal(await body((s) => s.comment('a\nb\r\ndata: x\rz')), ': a\n: b\n: data: x\n: z\n')
  })
  test('comment coerces its argument like a template literal', async () => {
    assert.equal(await body((s) => s.comment(5)), ': 5\n')
  })
  test('on_close keeps a non-function (the original fails on it only at the close)', () => {
    const { stream } = create_sse_response(null, silent)
    stream.on_close('x')
    stream.close()
  })
  test('a listener may use the stream while it closes', async () => {
    const { response, stream } = create_sse_response(null, silent)
    stream.on_close(() => {
      stream.send('late')
      stream.close()
    })
    stream.send('first')
    stream.close()
    assert.equal(await response.text(), `${C}data: "first"\n\n`)
  })
  test('log must be a logger object', () => {
    assert.throws(() => create_sse_response(null, 'log'), TypeError)
  })
})

describe('create_validated_broadcaster', () => {
  const params = {
    safeParse: (p) =>
      p !== null && typeof p === 'object' && typeof p.run_id === 'string' && typeof p.status === 'string' && Object.keys(p).length === 2
        ? { success: true, data: p }
        : { success: false, error: { issues: [{ message: 'bad params' }] } },
  }
  const specs = [
    { method: 'run_created', params, description: 'A run was created', channel: 'runs' },
    { method: 'run_updated', params, description: 'A run was updated' },
  ]
  const dev = { dev: true }
  test('1. valid data is forwarded with its channel and method', () => {
    const calls = []
    const log = captureLogger()
    const v = create_validated_broadcaster({ broadcast: (channel, data) => calls.push({ channel, data }) }, specs, log, dev)
    const data = { method: 'run_created', params: { run_id: '1', status: 'running' } }
    v.broadcast('runs', data)
    assert.equal(calls.length, 1)
    assert.equal(calls[0].channel, 'runs')
    assert.equal(calls[0].data, data)
    assert.deepEqual(log.lines, [])
  })
  test('2. an unknown method warns once and is forwarded', () => {
    const calls = []
    const log = captureLogger()
    const v = create_validated_broadcaster({ broadcast: (...a) => calls.push(a) }, specs, log, dev)
    v.broadcast('runs', { method: 'unknown_method', params: {} })
    assert.deepEqual(log.lines, [['warn', "Unknown event method: 'unknown_method'"]])
    assert.equal(calls.length, 1)
  })
  test('3. invalid params warn once (with the issues) and are forwarded', () => {
    const calls = []
    const log = captureLogger()
    const v = create_validated_broadcaster({ broadcast: (...a) => calls.push(a) }, specs, log, dev)
    v.broadcast('runs', { method: 'run_created', params: { bad: true } })
    assert.deepEqual(log.lines, [['warn', "Params mismatch for 'run_created':", [{ message: 'bad params' }]]])
    assert.equal(calls.length, 1)
  })
  test('4. always forwarded even when validation fails', () => {
    const calls = []
    const v = create_validated_broadcaster({ broadcast: (_c, d) => calls.push(d) }, specs, silent, dev)
    v.broadcast('runs', { method: 'unknown', params: {} })
    assert.equal(calls.length, 1)
  })
  test('5. empty specs warn and forward', () => {
    const calls = []
    const log = captureLogger()
    const v = create_validated_broadcaster({ broadcast: (...a) => calls.push(a) }, [], log, dev)
    v.broadcast('ch', { method: 'anything', params: {} })
    assert.equal(log.lines.length, 1)
    assert.equal(calls.length, 1)
  })
  test('6. over a SubscriberRegistry: filtering and unsubscribe keep working', () => {
    const registry = new SubscriberRegistry({ log: silent })
    const v = create_validated_broadcaster(registry, specs, silent, dev)
    const runs = []
    const all = []
    const mk = (bucket) => ({ send: (d) => bucket.push(d), comment() {}, close() {}, on_close() {} })
    const unsub = registry.subscribe(mk(runs), { channels: ['runs'] })
    registry.subscribe(mk(all))
    const n = { method: 'run_created', params: { run_id: '1', status: 'running' } }
    v.broadcast('runs', n)
    assert.equal(runs[0], n)
    assert.equal(all[0], n)
    unsub()
    v.broadcast('runs', { method: 'run_updated', params: { run_id: '1', status: 'done' } })
    assert.deepEqual([runs.length, all.length], [1, 2])
  })
  test('outside DEV the broadcaster itself is returned', () => {
    const b = { broadcast() {} }
    assert.equal(create_validated_broadcaster(b, specs, silent, { dev: false }), b)
  })
  test('DEV defaults to esm-env: NODE_ENV set and not prod*', () => {
    const saved = process.env.NODE_ENV
    try {
      const b = { broadcast() {} }
      process.env.NODE_ENV = 'production'
      assert.equal(create_validated_broadcaster(b, specs, silent), b)
      process.env.NODE_ENV = 'development'
      assert.notEqual(create_validated_broadcaster(b, specs, silent), b)
      delete process.env.NODE_ENV
      assert.equal(create_validated_broadcaster(b, specs, silent), b)
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = saved
    }
  })
  test('audit_log_event_specs validate audit rows through AuditLogEventJson', () => {
    const log = captureLogger()
    const calls = []
    const v = create_validated_broadcaster({ broadcast: (...a) => calls.push(a) }, [...audit_log_event_specs], log, dev)
    v.broadcast('audit_log', { method: 'login', params: auditEvent() })
    assert.deepEqual(log.lines, [])
    v.broadcast('audit_log', { method: 'login', params: { ...auditEvent(), extra: 1 } })
    assert.equal(log.lines.length, 1)
    assert.equal(log.lines[0][1], "Params mismatch for 'login':")
    assert.match(log.lines[0][2][0].message, /unrecognized key/)
    assert.equal(calls.length, 2)
  })
  test('a broadcaster without broadcast is a TypeError', () => {
    assert.throws(() => create_validated_broadcaster({}, specs, silent, dev), TypeError)
    assert.throws(() => create_validated_broadcaster({ broadcast() {} }, 'x', silent, dev), TypeError)
  })
})

describe('create_sse_node_stream over a real HTTP server', () => {
  async function serve(handler) {
    const server = http.createServer(handler)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return server
  }
  function get(server) {
    const req = http.get({ host: '127.0.0.1', port: server.address().port, path: '/sse' })
    return once(req, 'response').then(([res]) => ({ req, res }))
  }
  async function nextChunk(res) {
    const [chunk] = await once(res, 'data')
    return chunk.toString('utf8')
  }

  test('headers, connected comment, a broadcast frame, then close_by_identity ends the body', async () => {
    const registry = new SubscriberRegistry({ log: silent })
    const subscribed = deferred()
    const server = await serve((req, res) => {
      const stream = create_sse_node_stream(res, silent)
      stream.on_close(registry.subscribe(stream, { channels: ['audit_log'], scope: 'h1', groups: ['acct'] }))
      subscribed.resolve()
    })
    try {
      const { res } = await get(server)
      assert.equal(res.statusCode, 200)
      assert.equal(res.headers['content-type'], 'text/event-stream')
      assert.equal(res.headers['cache-control'], 'no-cache')
      assert.equal(res.headers['transfer-encoding'], 'chunked')
      assert.equal(await nextChunk(res), C)
      await subscribed.promise
      registry.broadcast('audit_log', { method: 'login', params: { id: 'x' } })
      assert.equal(await nextChunk(res), 'data: {"method":"login","params":{"id":"x"}}\n\n')
      const ended = once(res, 'end')
      res.resume()
      assert.equal(registry.close_by_identity('acct'), 1)
      await ended
      assert.equal(registry.count, 0)
    } finally {
      server.close()
    }
  })

  test('a client that disconnects closes the stream (on_close fires, subscriber removed)', async () => {
    const registry = new SubscriberRegistry({ log: silent })
    const closed = deferred()
    const server = await serve((req, res) => {
      const stream = create_sse_node_stream(res, silent)
      stream.on_close(registry.subscribe(stream, { groups: ['acct'] }))
      stream.on_close(() => closed.resolve())
    })
    try {
      const { req, res } = await get(server)
      assert.equal(await nextChunk(res), C)
      assert.equal(registry.count, 1)
      req.destroy()
      await closed.promise
      assert.equal(registry.count, 0)
    } finally {
      server.close()
    }
  })

  test('over a plain writable: exact bytes, end on close', () => {
    const chunks = []
    let ends = 0
    const w = { write: (c) => chunks.push(c), end: () => ends++ }
    const s = create_sse_node_stream(w)
    s.send({ a: 1 })
    s.comment('hi')
    s.close()
    s.close()
    s.send('dropped')
    assert.equal(chunks.join(''), `${C}data: {"a":1}\n\n: hi\n`)
    assert.equal(ends, 1)
    assert.throws(() => create_sse_node_stream({}), TypeError)
  })
})
