// Port of fuz_app's src/test/realtime/subscriber_registry.test.ts (spec §5), the spec's
// coverage gaps, re-entrancy, throwing streams, identity of broadcast data and argument
// type errors.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'

import { SubscriberRegistry } from '@authcore/fuz-app-realtime/realtime/subscriber_registry.js'
import { create_sse_response } from '@authcore/fuz-app-realtime/realtime/sse.js'
import { captureLogger, mockStream, silent } from './helpers.mjs'

const require = createRequire(import.meta.url)
const reg = (opts = {}) => new SubscriberRegistry({ log: silent, ...opts })

describe('SubscriberRegistry', () => {
  test('1. a new registry has count 0', () => {
    assert.equal(reg().count, 0)
  })
  test('2. subscribe raises the count', () => {
    const r = reg()
    r.subscribe(mockStream())
    assert.equal(r.count, 1)
  })
  test('3. unsubscribe brings it back to 0', () => {
    const r = reg()
    const unsubscribe = r.subscribe(mockStream())
    assert.equal(typeof unsubscribe, 'function')
    assert.equal(unsubscribe(), undefined)
    assert.equal(r.count, 0)
  })
  test('4. without a filter both subscribers receive', () => {
    const r = reg()
    const a = mockStream()
    const b = mockStream()
    r.subscribe(a)
    r.subscribe(b)
    r.broadcast('ch', 'x')
    assert.deepEqual([a.sent, b.sent], [['x'], ['x']])
  })
  test('5. runs / hosts / unfiltered: runs reaches runs and unfiltered', () => {
    const r = reg()
    const runs = mockStream()
    const hosts = mockStream()
    const all = mockStream()
    r.subscribe(runs, { channels: ['runs'] })
    r.subscribe(hosts, { channels: ['hosts'] })
    r.subscribe(all)
    r.broadcast('runs', 1)
    assert.deepEqual([runs.sent, hosts.sent, all.sent], [[1], [], [1]])
  })
  test('6. a [runs, hosts] subscriber receives runs and hosts, not other', () => {
    const r = reg()
    const s = mockStream()
    r.subscribe(s, { channels: ['runs', 'hosts'] })
    r.broadcast('runs', 'r')
    r.broadcast('hosts', 'h')
    r.broadcast('other', 'o')
    assert.deepEqual(s.sent, ['r', 'h'])
  })
  test('7. channels [] receives any channel', () => {
    const r = reg()
    const s = mockStream()
    r.subscribe(s, { channels: [] })
    r.broadcast('anything', 1)
    assert.deepEqual(s.sent, [1])
  })
  test('8. after unsubscribe only the earlier broadcast was received', () => {
    const r = reg()
    const s = mockStream()
    const unsubscribe = r.subscribe(s)
    r.broadcast('ch', 'before')
    unsubscribe()
    r.broadcast('ch', 'after')
    assert.deepEqual(s.sent, ['before'])
  })
  test('9. two subscribers unsubscribe independently', () => {
    const r = reg()
    const a = mockStream()
    const b = mockStream()
    const ua = r.subscribe(a)
    r.subscribe(b)
    assert.equal(r.count, 2)
    ua()
    assert.equal(r.count, 1)
    r.broadcast('ch', 'x')
    assert.deepEqual([a.sent, b.sent], [[], ['x']])
  })
  test('10. a broadcast with no subscribers does not throw', () => {
    assert.equal(reg().broadcast('ch', { a: 1 }), undefined)
  })
  test('11. subscribing with a scope only', () => {
    const r = reg()
    r.subscribe(mockStream(), { scope: 'session_a' })
    assert.equal(r.count, 1)
  })
  test('12. scopes a, b, a: close_by_identity(session_a) closes both a', () => {
    const r = reg()
    const [a1, b, a2] = [mockStream(), mockStream(), mockStream()]
    r.subscribe(a1, { scope: 'session_a' })
    r.subscribe(b, { scope: 'session_b' })
    r.subscribe(a2, { scope: 'session_a' })
    assert.equal(r.close_by_identity('session_a'), 2)
    assert.equal(r.count, 1)
    assert.deepEqual([a1.closed, b.closed, a2.closed], [true, false, true])
  })
  test('13. groups a and b: closing a closes only a', () => {
    const r = reg()
    const a = mockStream()
    const b = mockStream()
    r.subscribe(a, { groups: ['account_a'] })
    r.subscribe(b, { groups: ['account_b'] })
    assert.equal(r.close_by_identity('account_a'), 1)
    assert.deepEqual([a.closed, b.closed], [true, false])
  })
  test('14. scope + group: closed by its scope', () => {
    const r = reg()
    const s = mockStream()
    r.subscribe(s, { scope: 'session_a', groups: ['account_a'] })
    assert.equal(r.close_by_identity('session_a'), 1)
    assert.equal(s.closed, true)
  })
  test('15. an identity with no match returns 0 and closes nothing', () => {
    const r = reg()
    const s = mockStream()
    r.subscribe(s, { scope: 'session_a', groups: ['account_a'] })
    assert.equal(r.close_by_identity('nobody'), 0)
    assert.equal(s.closed, false)
  })
  test('16. a subscriber without identity is untouched', () => {
    const r = reg()
    const plain = mockStream()
    const scoped = mockStream()
    r.subscribe(plain)
    r.subscribe(scoped, { scope: 'session_a' })
    assert.equal(r.close_by_identity('session_a'), 1)
    assert.equal(r.count, 1)
    assert.equal(plain.closed, false)
  })
  test('17. a subscriber closed by identity no longer receives', () => {
    const r = reg()
    const s = mockStream()
    r.subscribe(s, { scope: 'session_a' })
    r.close_by_identity('session_a')
    r.broadcast('ch', 'x')
    assert.deepEqual(s.sent, [])
  })
  test('18. close_by_identity on an empty registry returns 0', () => {
    assert.equal(reg().close_by_identity('x'), 0)
  })
  test('19. scope + group: closed by its group', () => {
    const r = reg()
    const s = mockStream()
    r.subscribe(s, { scope: 'session_a', groups: ['account_a'] })
    assert.equal(r.close_by_identity('account_a'), 1)
    assert.equal(s.closed, true)
  })
  test('20. groups [] is no groups', () => {
    const r = reg()
    r.subscribe(mockStream(), { groups: [] })
    assert.equal(r.close_by_identity('anything'), 0)
  })
})

describe('SubscriberRegistry max_per_scope', () => {
  test('1. cap 5, 6 subscribes: only #0 closed', () => {
    const r = reg({ max_per_scope: 5 })
    const streams = Array.from({ length: 6 }, () => mockStream())
    for (const s of streams) r.subscribe(s, { scope: 's' })
    assert.equal(r.count, 5)
    assert.deepEqual(streams.map((s) => s.closed), [true, false, false, false, false, false])
  })
  test('2. cap 2, a1 a2 b1 a3: a1 closed, b1 untouched', () => {
    const r = reg({ max_per_scope: 2 })
    const [a1, a2, b1, a3] = [mockStream(), mockStream(), mockStream(), mockStream()]
    r.subscribe(a1, { scope: 'a' })
    r.subscribe(a2, { scope: 'a' })
    r.subscribe(b1, { scope: 'b' })
    r.subscribe(a3, { scope: 'a' })
    assert.deepEqual([a1.closed, a2.closed, b1.closed, a3.closed], [true, false, false, false])
    assert.equal(r.count, 3)
  })
  test('3. cap 2, 5 scopes in one group: none closed, the group closes 5', () => {
    const r = reg({ max_per_scope: 2 })
    const streams = Array.from({ length: 5 }, () => mockStream())
    streams.forEach((s, i) => r.subscribe(s, { scope: `s${i}`, groups: ['g'] }))
    assert.equal(streams.some((s) => s.closed), false)
    assert.equal(r.close_by_identity('g'), 5)
  })
  test('4. no cap, 20 subscribes on one scope', () => {
    const r = reg()
    for (let i = 0; i < 20; i++) r.subscribe(mockStream(), { scope: 's' })
    assert.equal(r.count, 20)
  })
  test('5. cap 2, 10 subscribers without scope', () => {
    const r = reg({ max_per_scope: 2 })
    for (let i = 0; i < 10; i++) r.subscribe(mockStream())
    assert.equal(r.count, 10)
  })
  test('gap: max_per_scope <= 0 is kept (acts as 1): every earlier stream of the scope is evicted', () => {
    for (const max of [0, -3]) {
      const r = reg({ max_per_scope: max })
      const streams = Array.from({ length: 3 }, () => mockStream())
      for (const s of streams) r.subscribe(s, { scope: 's' })
      assert.equal(r.count, 1, `max ${max}`)
      assert.deepEqual(streams.map((s) => s.closed), [true, true, false])
    }
  })
  test('gap: an empty-string scope is a scope (capped and closable)', () => {
    const r = reg({ max_per_scope: 1 })
    const a = mockStream()
    const b = mockStream()
    r.subscribe(a, { scope: '' })
    r.subscribe(b, { scope: '' })
    assert.deepEqual([a.closed, b.closed, r.count], [true, false, 1])
    assert.equal(r.close_by_identity(''), 1)
  })
  test('gap: the same stream subscribed twice is two records and gets every broadcast twice', () => {
    const r = reg()
    const s = mockStream()
    const u1 = r.subscribe(s)
    r.subscribe(s)
    assert.equal(r.count, 2)
    r.broadcast('ch', 'x')
    assert.deepEqual(s.sent, ['x', 'x'])
    u1()
    u1()
    assert.equal(r.count, 1)
  })
  test('eviction is silent: no frame, no log', () => {
    const log = captureLogger()
    const r = new SubscriberRegistry({ max_per_scope: 1, log })
    const a = mockStream()
    r.subscribe(a, { scope: 's' })
    r.subscribe(mockStream(), { scope: 's' })
    assert.deepEqual([a.sent, a.comments, log.lines], [[], [], []])
  })
})

describe('SubscriberRegistry: host stream semantics', () => {
  test('send receives the same object that was broadcast (class instances, arrays, functions)', () => {
    const r = reg()
    const s = mockStream()
    r.subscribe(s)
    class Payload {
      constructor() {
        this.x = 1
      }
    }
    const values = [new Payload(), [1, 2], () => 3, { nested: { a: [] } }, Symbol('s'), 10n, undefined, null]
    for (const v of values) r.broadcast('ch', v)
    assert.equal(s.sent.length, values.length)
    values.forEach((v, i) => assert.equal(s.sent[i], v))
  })
  test('send and close are called with this = the stream, looked up at call time', () => {
    const r = reg()
    const s = mockStream()
    r.subscribe(s)
    const later = []
    s.send = function (d) {
      later.push([this === s, d])
    }
    r.broadcast('ch', 7)
    assert.deepEqual(later, [[true, 7]])
  })
  test('re-entrancy: on_close -> unsubscribe during close_by_identity', () => {
    const r = reg()
    const streams = Array.from({ length: 3 }, () => mockStream({ listeners: true }))
    for (const s of streams) s.on_close(r.subscribe(s, { groups: ['g'] }))
    const other = mockStream({ listeners: true })
    other.on_close(r.subscribe(other, { groups: ['h'] }))
    assert.equal(r.close_by_identity('g'), 3)
    assert.equal(r.count, 1)
    assert.equal(streams.every((s) => s.closed && s.closeCalls === 1), true)
  })
  test('re-entrancy: a close that calls back into the registry (count, broadcast, nested close)', () => {
    const r = reg()
    const seen = []
    const a = mockStream({ listeners: true })
    const b = mockStream({ listeners: true })
    a.on_close(r.subscribe(a, { groups: ['g'] }))
    b.on_close(r.subscribe(b, { groups: ['g2'] }))
    a.on_close(() => {
      seen.push(r.count)
      r.broadcast('ch', 'during')
      seen.push(r.close_by_identity('g2'))
    })
    assert.equal(r.close_by_identity('g'), 1)
    assert.deepEqual(seen, [1, 1])
    assert.deepEqual(b.sent, ['during'])
    assert.equal(r.count, 0)
  })
  test('real streams: on_close(unsubscribe) keeps the count right through close_by_identity', async () => {
    const r = reg()
    const made = Array.from({ length: 3 }, () => create_sse_response(null, silent))
    for (const { stream } of made) stream.on_close(r.subscribe(stream, { groups: ['acct'] }))
    assert.equal(r.close_by_identity('acct'), 3)
    assert.equal(r.count, 0)
    for (const { response } of made) assert.equal(await response.text(), ': connected\n\n')
  })
  test('a throwing send is logged and the others still receive (§6.6 fix)', () => {
    const log = captureLogger()
    const r = new SubscriberRegistry({ log })
    const a = mockStream()
    const bad = mockStream()
    bad.send = () => {
      throw new TypeError('nope')
    }
    const c = mockStream()
    r.subscribe(a)
    r.subscribe(bad)
    r.subscribe(c)
    assert.doesNotThrow(() => r.broadcast('ch', 1))
    assert.deepEqual([a.sent, c.sent], [[1], [1]])
    assert.deepEqual(log.lines, [['error', 'SubscriberRegistry: send failed: TypeError: nope']])
  })
  test('a throwing close still removes its record, and the other closes run (§6.6 fix)', () => {
    const log = captureLogger()
    const r = new SubscriberRegistry({ log })
    const bad = mockStream()
    bad.close = () => {
      throw new Error('close boom')
    }
    const good = mockStream()
    r.subscribe(bad, { groups: ['g'] })
    r.subscribe(good, { groups: ['g'] })
    assert.equal(r.close_by_identity('g'), 2)
    assert.equal(good.closed, true)
    assert.equal(r.count, 0)
    assert.deepEqual(log.lines, [['error', 'SubscriberRegistry: close failed: Error: close boom']])
  })
  test('a stream that loses its send method after subscribing is logged, not fatal', () => {
    const log = captureLogger()
    const r = new SubscriberRegistry({ log })
    const s = mockStream()
    r.subscribe(s)
    delete s.send
    r.broadcast('ch', 1)
    assert.deepEqual(log.lines, [['error', 'SubscriberRegistry: send failed: TypeError: stream.send is not a function']])
  })
  test('a thrown non-Error value and a throwing logger do not escape', () => {
    const r = new SubscriberRegistry({
      log: {
        error() {
          throw new Error('logger down')
        },
      },
    })
    const s = mockStream()
    s.send = () => {
      throw Object.create(null)
    }
    r.subscribe(s)
    assert.doesNotThrow(() => r.broadcast('ch', 1))
  })
  test('extensions: close_by_scope and close_by_group', () => {
    const r = reg()
    const a = mockStream()
    r.subscribe(a, { scope: 'x', groups: ['y'] })
    assert.equal(r.close_by_group('x'), 0)
    assert.equal(r.close_by_scope('y'), 0)
    assert.equal(r.close_by_scope('x'), 1)
    assert.equal(a.closed, true)
  })
})

describe('SubscriberRegistry: wrong argument types are TypeErrors', () => {
  const r = reg()
  const cases = [
    ['subscribe(null)', () => r.subscribe(null)],
    ['subscribe({})', () => r.subscribe({})],
    ['subscribe("s")', () => r.subscribe('s')],
    ['channels string', () => r.subscribe(mockStream(), { channels: 'runs' })],
    ['channels with a number', () => r.subscribe(mockStream(), { channels: [1] })],
    ['groups object', () => r.subscribe(mockStream(), { groups: { a: 1 } })],
    ['scope number', () => r.subscribe(mockStream(), { scope: 5 })],
    ['broadcast(5)', () => r.broadcast(5, 'x')],
    ['close_by_identity(undefined)', () => r.close_by_identity(undefined)],
    ['close_by_identity(1)', () => r.close_by_identity(1)],
    ['max_per_scope "5"', () => new SubscriberRegistry({ max_per_scope: '5' })],
    ['log string', () => new SubscriberRegistry({ log: 'console' })],
  ]
  for (const [name, fn] of cases) {
    test(name, () => {
      assert.throws(fn, (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE' && e.message.length > 0)
    })
  }
  test('nothing was subscribed by the failed calls', () => {
    assert.equal(r.count, 0)
  })
  test('the native layer itself rejects bad arguments with an Error, not a crash', () => {
    const native = require('@authcore/native')
    assert.throws(() => new native.SubscriberRegistry(null, 'not a logger'), Error)
    const n = new native.SubscriberRegistry(null, null)
    assert.throws(() => n.subscribe(5), Error)
    assert.throws(() => n.closeByIdentity(5), Error)
    assert.throws(() => native.realtimeGuardDecision('x', null), Error)
    const stream = new native.MemorySseStream(null)
    assert.throws(() => stream.onClose('x'), Error)
    assert.throws(() => new native.MemorySseStream(null, -1), Error)
    assert.equal(n.count, 0)
  })
})
