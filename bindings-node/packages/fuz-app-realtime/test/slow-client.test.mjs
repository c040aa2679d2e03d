// Bounded buffers by default: a client that stops reading has its stream closed once 1 MiB
// is unread (the core's slow-client policy), on the Node ServerResponse adapter and on the
// web Response adapter; a reader that keeps up is never closed. max_per_scope NaN, which
// silently disabled the cap in the original, is refused.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PassThrough, Writable } from 'node:stream'

import { create_sse_node_stream, create_sse_response } from '@authcore/fuz-app-realtime/realtime/sse.js'
import { SubscriberRegistry } from '@authcore/fuz-app-realtime/realtime/subscriber_registry.js'
import { create_audit_log_sse } from '@authcore/fuz-app-realtime/realtime/sse_auth_guard.js'
import { silent } from './helpers.mjs'

const CHUNK = 'x'.repeat(64 * 1024)
const LIMIT = 1024 * 1024

test('a ServerResponse that never drains: the stream closes after 1 MiB unread', () => {
  // A writable whose consumer never reads: write() returns false after the first chunk.
  const res = new Writable({ highWaterMark: 16, write() {} })
  const warnings = []
  const stream = create_sse_node_stream(res, { ...silent, warn: (m) => warnings.push(m) })
  let closed = 0
  stream.on_close(() => closed++)
  let sends = 0
  while (closed === 0 && sends < 100) {
    stream.send({ chunk: CHUNK })
    sends++
  }
  assert.equal(closed, 1, 'the slow client was cut off')
  assert.ok(sends <= LIMIT / CHUNK.length + 2, `${sends} sends`)
  assert.ok(res.writableLength <= 2 * LIMIT + 1024, `writable buffered ${res.writableLength}`)
  assert.ok(warnings.some((w) => w.includes('client too slow')), warnings.join('\n'))
  assert.equal(res.writableEnded, true)
})

test('a ServerResponse that keeps up is never closed', async () => {
  const res = new PassThrough()
  res.resume() // a reader that consumes everything
  const stream = create_sse_node_stream(res, silent)
  let closed = 0
  stream.on_close(() => closed++)
  for (let i = 0; i < 64; i++) {
    stream.send({ chunk: CHUNK })
    await new Promise((r) => setImmediate(r))
  }
  assert.equal(closed, 0)
  stream.close()
  assert.equal(closed, 1)
})

test('a web Response nobody reads: closed after 1 MiB unread', async () => {
  const { response, stream } = create_sse_response(undefined, silent)
  let closed = 0
  stream.on_close(() => closed++)
  let sends = 0
  while (closed === 0 && sends < 100) {
    stream.send({ chunk: CHUNK })
    sends++
  }
  assert.equal(closed, 1)
  assert.ok(sends <= LIMIT / CHUNK.length + 2, `${sends} sends`)
  // What was accepted is still delivered, then the body ends.
  const text = await response.text()
  assert.ok(text.startsWith(': connected\n\n'))
  assert.ok(text.length <= LIMIT + CHUNK.length + 64, `${text.length}`)
})

test('a web Response read as it goes is never closed', async () => {
  const { response, stream } = create_sse_response(undefined, silent)
  const reader = response.body.getReader()
  let closed = 0
  stream.on_close(() => closed++)
  let received = 0
  for (let i = 0; i < 64; i++) {
    stream.send({ chunk: CHUNK })
    const { value } = await reader.read()
    received += value.length
  }
  assert.equal(closed, 0)
  assert.ok(received > 32 * CHUNK.length)
  stream.close()
})

test('max_per_scope NaN is refused (it disabled the cap)', () => {
  assert.throws(() => new SubscriberRegistry({ max_per_scope: NaN, log: null }), /REALTIME_INVALID_SETTING/)
  assert.throws(() => create_audit_log_sse({ max_per_scope: NaN, log: silent }), /REALTIME_INVALID_SETTING/)
  assert.equal(new SubscriberRegistry({ max_per_scope: Infinity, log: null }).count, 0)
})
