// Behaviours where an earlier build differed from fuz_app 79281eb (found by the
// differential harness, ffi-tests/differential): each case is what the original does.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import {
  SubscriberRegistry,
  create_sse_auth_guard,
  create_audit_log_sse,
  create_sse_response,
  guard_decision,
  audit_log_event_specs,
  AUDIT_LOG_EVENT_SPECS,
  disconnect_event_types,
  DISCONNECT_EVENT_TYPES,
  hash_session_token,
} from '@authcore/fuz-app-realtime'
import { auditEvent, captureLogger, mockStream } from './helpers.mjs'

const LONE = 'sess-\uD800-x'

test('a scope with a lone surrogate is closed by exactly that string, not by its U+FFFD form', () => {
  const r = new SubscriberRegistry()
  const a = mockStream()
  const b = mockStream()
  r.subscribe(a, { scope: LONE })
  r.subscribe(b, { scope: 'sess-\uFFFD-x' })
  assert.equal(r.close_by_identity('sess-\uDC00-x'), 0)
  assert.equal(r.close_by_identity(LONE), 1)
  assert.equal(a.closed, true)
  assert.equal(b.closed, false)
})

test('escapes do not collide: U+FDD0 followed by hex is not a lone surrogate', () => {
  const r = new SubscriberRegistry()
  const a = mockStream()
  r.subscribe(a, { scope: '\uFDD0d800', groups: ['\uFDD0\uFDD0'] })
  assert.equal(r.close_by_identity('\uD800'), 0)
  assert.equal(r.close_by_identity('\uFDD0'), 0)
  assert.equal(r.close_by_identity('\uFDD0\uFDD0'), 1)
})

test('channels with lone surrogates match exactly', () => {
  const r = new SubscriberRegistry()
  const a = mockStream()
  r.subscribe(a, { channels: ['\uDC00'] })
  r.broadcast('\uFFFD', 1)
  r.broadcast('\uDC00', 2)
  assert.deepEqual(a.sent, [2])
})

test('the guard closes a session and an account whose ids hold lone surrogates, and logs them as they are', () => {
  const log = captureLogger()
  const r = new SubscriberRegistry()
  const a = mockStream()
  const b = mockStream()
  r.subscribe(a, { channels: ['audit_log'], scope: LONE })
  r.subscribe(b, { channels: ['audit_log'], groups: ['acct-\uDBFF'] })
  const guard = create_sse_auth_guard(r, 'ad\uD83Dmin', log)
  guard(auditEvent({ event_type: 'session_revoke', metadata: { session_id: LONE } }))
  assert.equal(a.closed, true)
  guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'acct-\uDBFF', metadata: { role: 'ad\uD83Dmin' } }))
  assert.equal(b.closed, true)
  assert.deepEqual(log.lines, [
    ['info', `SSE auth guard: closed 1 stream(s) for session ${LONE} (session_revoke)`],
    ['info', 'SSE auth guard: closed 1 stream(s) for account acct-\uDBFF (role_grant_revoke)'],
  ])
  const d = guard_decision(auditEvent({ event_type: 'logout', account_id: 'x\uDFFF' }), null)
  assert.deepEqual(d, { kind: 'account', identity: 'x\uDFFF', event_type: 'logout' })
})

test('a subscriber added inside send() receives the event being broadcast (live Set iteration)', () => {
  const r = new SubscriberRegistry()
  const late = mockStream()
  const first = {
    sent: [],
    send(d) {
      this.sent.push(d)
      if (this.sent.length === 1) r.subscribe(late)
    },
    close() {},
  }
  r.subscribe(first)
  r.broadcast('c', 'one')
  assert.deepEqual(late.sent, ['one'])
  r.broadcast('c', 'two')
  assert.deepEqual(first.sent, ['one', 'two'])
  assert.deepEqual(late.sent, ['one', 'two'])
})

test('on_close listeners added while close() runs its listeners run too; after it, never', () => {
  const { stream } = create_sse_response(null, captureLogger())
  const calls = []
  stream.on_close(() => {
    calls.push('a')
    stream.on_close(() => calls.push('late'))
  })
  stream.on_close(() => calls.push('b'))
  stream.close()
  assert.deepEqual(calls, ['a', 'b', 'late'])
  stream.on_close(() => calls.push('after'))
  stream.close()
  assert.deepEqual(calls, ['a', 'b', 'late'])
})

test('audit_log_event_specs is a plain mutable array; the uppercase names are the same objects', () => {
  assert.equal(Object.isFrozen(audit_log_event_specs), false)
  assert.equal(Object.isFrozen(audit_log_event_specs[0]), false)
  assert.equal(AUDIT_LOG_EVENT_SPECS, audit_log_event_specs)
  assert.equal(DISCONNECT_EVENT_TYPES, disconnect_event_types)
  assert.ok(Array.isArray(AUDIT_LOG_EVENT_SPECS))
})

test('inputs outside the types are read as the original reads them', () => {
  // subscribe(stream, 'audit_log'): a string has no `channels`: all channels.
  const r = new SubscriberRegistry()
  const s = mockStream()
  r.subscribe(s, 'audit_log')
  r.broadcast('other', 1)
  assert.deepEqual(s.sent, [1])
  // new SubscriberRegistry(5): no `max_per_scope` property: no cap.
  const uncapped = new SubscriberRegistry(5)
  const streams = Array.from({ length: 7 }, () => mockStream())
  for (const st of streams) uncapped.subscribe(st, { scope: 'x' })
  assert.equal(uncapped.count, 7)
  assert.ok(streams.every((st) => !st.closed))
  // hash_session_token of a non-string: fuz_util's to_bytes gives no bytes.
  assert.equal(hash_session_token(42), hash_session_token(''))
  // create_audit_log_sse subscribe is the registry's.
  const sse = create_audit_log_sse({ log: captureLogger() })
  sse.subscribe(mockStream(), 7)
  assert.equal(sse.registry.count, 1)
})

test('a non-function on_close is kept and fails at the close like any throwing listener', () => {
  const log = captureLogger()
  const { stream } = create_sse_response(null, log)
  const calls = []
  stream.on_close('not a function')
  stream.on_close(() => calls.push('b'))
  stream.close()
  assert.deepEqual(calls, ['b'])
  assert.equal(log.lines.length, 1)
  assert.equal(log.lines[0][0], 'error')
  assert.match(log.lines[0][1], /^on_close listener threw: TypeError: .*is not a function/)
})
