// Port of fuz_app's src/test/realtime/sse_auth_guard.test.ts (spec fuz-app.md §5), the
// spec's coverage gaps, and one test per §6 decision the core fixed or kept.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import {
  AUDIT_LOG_CHANNEL,
  create_audit_log_sse,
  create_sse_auth_guard,
  guard_decision,
} from '@authcore/fuz-app-realtime/realtime/sse_auth_guard.js'
import { SubscriberRegistry } from '@authcore/fuz-app-realtime/realtime/subscriber_registry.js'
import { SubscriberRegistry as RootRegistry } from '@authcore/fuz-app-realtime'
import { auditEvent, captureLogger, mockStream, silent } from './helpers.mjs'

const CH = { channels: ['audit_log'] }

function setup(role = 'admin') {
  const registry = new SubscriberRegistry({ log: silent })
  const log = captureLogger()
  const guard = create_sse_auth_guard(registry, role, log)
  return { registry, guard, log }
}

function subscribe(registry, opts) {
  const s = mockStream()
  registry.subscribe(s, { ...CH, ...opts })
  return s
}

describe('create_sse_auth_guard (role admin unless stated)', () => {
  test('1. role_grant_revoke of the role closes the target group', () => {
    const { registry, guard, log } = setup()
    const s = subscribe(registry, { groups: ['target-account-1'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'target-account-1', metadata: { role: 'admin', role_grant_id: 'g1' } }))
    assert.equal(s.closed, true)
    assert.equal(registry.count, 0)
    assert.deepEqual(log.lines, [['info', 'SSE auth guard: closed 1 stream(s) for account target-account-1 (role_grant_revoke)']])
  })
  test('2. revoking another role (steward) does not close', () => {
    const { registry, guard, log } = setup()
    const s = subscribe(registry, { groups: ['target-account-1'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'target-account-1', metadata: { role: 'steward' } }))
    assert.equal(s.closed, false)
    assert.equal(registry.count, 1)
    assert.deepEqual(log.lines, [])
  })
  test('3. another account is not closed', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-b', metadata: { role: 'admin' } }))
    assert.equal(s.closed, false)
  })
  test('4. role_grant_create is not a disconnect event', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'role_grant_create', target_account_id: 'account-a', metadata: { role: 'admin' } }))
    assert.equal(s.closed, false)
  })
  test('5. role_grant_revoke with a null target closes nothing', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: null, metadata: { role: 'admin' } }))
    assert.equal(s.closed, false)
  })
  test('6. role_grant_revoke with null metadata closes nothing', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: null }))
    assert.equal(s.closed, false)
  })
  test('7. role_grant_revoke without a role in metadata closes nothing', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: { role_grant_id: 'g1' } }))
    assert.equal(s.closed, false)
  })
  test('8. required_role null: role revocations close nothing, session_revoke_all still closes', () => {
    const { registry, guard } = setup(null)
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: { role: 'admin' } }))
    assert.equal(s.closed, false)
    guard(auditEvent({ event_type: 'session_revoke_all', target_account_id: 'account-a' }))
    assert.equal(s.closed, true)
  })
  test('9. every stream of the account is closed', () => {
    const { registry, guard, log } = setup()
    const a = subscribe(registry, { groups: ['account-a'] })
    const b = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: { role: 'admin' } }))
    assert.equal(a.closed && b.closed, true)
    assert.equal(registry.count, 0)
    assert.deepEqual(log.lines, [['info', 'SSE auth guard: closed 2 stream(s) for account account-a (role_grant_revoke)']])
  })
  test('10. only the target account is closed', () => {
    const { registry, guard } = setup()
    const a = subscribe(registry, { groups: ['account-a'] })
    const b = subscribe(registry, { groups: ['account-b'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: { role: 'admin' } }))
    assert.deepEqual([a.closed, b.closed, registry.count], [true, false, 1])
  })
  test('11. a login event closes nothing and does not throw', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'login', account_id: 'account-a' }))
    assert.equal(s.closed, false)
  })
  test('12. admin session_revoke_all closes the target, not the admin', () => {
    const { registry, guard } = setup()
    const victim = subscribe(registry, { groups: ['account-a'] })
    const admin = subscribe(registry, { groups: ['admin-account'] })
    guard(auditEvent({ event_type: 'session_revoke_all', account_id: 'admin-account', target_account_id: 'account-a' }))
    assert.deepEqual([victim.closed, admin.closed, registry.count], [true, false, 1])
  })
  test('13. self-service session_revoke_all (target null) closes account_id', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'session_revoke_all', account_id: 'account-a', target_account_id: null }))
    assert.equal(s.closed, true)
  })
  test('14. session_revoke_all of a leaves b open', () => {
    const { registry, guard } = setup()
    const a = subscribe(registry, { groups: ['account-a'] })
    const b = subscribe(registry, { groups: ['account-b'] })
    guard(auditEvent({ event_type: 'session_revoke_all', target_account_id: 'account-a' }))
    assert.deepEqual([a.closed, b.closed], [true, false])
  })
  test('15. a failed session_revoke closes nothing', () => {
    const { registry, guard, log } = setup()
    const s = subscribe(registry, { scope: 'session-hash-x', groups: ['account-a'] })
    guard(auditEvent({ event_type: 'session_revoke', outcome: 'failure', metadata: { session_id: 'session-hash-x' } }))
    assert.equal(s.closed, false)
    assert.equal(registry.count, 1)
    assert.deepEqual(log.lines, [])
  })
  test('16. a failed password_change closes nothing', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'password_change', outcome: 'failure', account_id: 'account-a' }))
    assert.equal(s.closed, false)
  })
  test('17. session_revoke closes only the stream of that session', () => {
    const { registry, guard, log } = setup()
    const x = subscribe(registry, { scope: 'session-hash-x', groups: ['account-a'] })
    const y = subscribe(registry, { scope: 'session-hash-y', groups: ['account-a'] })
    guard(auditEvent({ event_type: 'session_revoke', account_id: 'account-a', metadata: { session_id: 'session-hash-x' } }))
    assert.deepEqual([x.closed, y.closed, registry.count], [true, false, 1])
    assert.deepEqual(log.lines, [['info', 'SSE auth guard: closed 1 stream(s) for session session-hash-x (session_revoke)']])
  })
  test('18. session_revoke with null metadata closes nothing', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { scope: 'session-hash-x', groups: ['account-a'] })
    guard(auditEvent({ event_type: 'session_revoke', account_id: 'account-a', metadata: null }))
    assert.equal(s.closed, false)
    assert.equal(registry.count, 1)
  })
  test('19. session_revoke never closes by account: a group-only stream stays open', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'session_revoke', account_id: 'account-a', metadata: { session_id: 'session-hash-x' } }))
    assert.equal(s.closed, false)
  })
  test('20. self-service password_change closes account_id', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'password_change', account_id: 'account-a', target_account_id: null }))
    assert.equal(s.closed, true)
    assert.equal(registry.count, 0)
  })
})

describe('create_sse_auth_guard: coverage gaps and details', () => {
  test('token_revoke_all and logout close the account (no upstream unit test)', () => {
    for (const event_type of ['token_revoke_all', 'logout']) {
      const { registry, guard, log } = setup()
      const s = subscribe(registry, { groups: ['account-a'] })
      guard(auditEvent({ event_type, account_id: 'account-a' }))
      assert.equal(s.closed, true, event_type)
      assert.deepEqual(log.lines, [['info', `SSE auth guard: closed 1 stream(s) for account account-a (${event_type})`]])
    }
  })
  test('token_revoke (single token) is not a disconnect event for SSE', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'token_revoke', account_id: 'account-a' }))
    assert.equal(s.closed, false)
  })
  test('target_account_id ?? account_id: an empty-string target does not fall back', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['acct-test'] })
    guard(auditEvent({ event_type: 'session_revoke_all', target_account_id: '' }))
    assert.equal(s.closed, false)
  })
  test('the role check is strict and case-sensitive', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: { role: 'Admin' } }))
    assert.equal(s.closed, false)
  })
  test('only the literal outcome "failure" is skipped', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'logout', outcome: 'FAILURE', account_id: 'account-a' }))
    assert.equal(s.closed, true)
  })
  test('session_revoke with an empty or non-string session_id closes nothing', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { scope: '', groups: ['account-a'] })
    for (const session_id of ['', 42, null, { x: 1 }]) {
      guard(auditEvent({ event_type: 'session_revoke', metadata: { session_id } }))
    }
    assert.equal(s.closed, false)
  })
  test('the guard returns undefined and logs nothing when nothing closed', () => {
    const { registry, guard, log } = setup()
    subscribe(registry, { groups: ['account-b'] })
    assert.equal(guard(auditEvent({ event_type: 'logout', account_id: 'account-a' })), undefined)
    assert.deepEqual(log.lines, [])
  })
  test('events are read as JS reads them: getters and class instances', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    class Row {
      get event_type() {
        return 'logout'
      }
    }
    const row = Object.assign(new Row(), { outcome: 'success', account_id: 'account-a', target_account_id: undefined, metadata: null })
    guard(row)
    assert.equal(s.closed, true)
  })
})

describe('§6 decisions', () => {
  test('6.4 fixed: role_grant_revoke without a target never closes the revoker (account_id)', () => {
    const { registry, guard } = setup()
    const revoker = subscribe(registry, { groups: ['acct-test'] })
    guard(auditEvent({ event_type: 'role_grant_revoke', account_id: 'acct-test', target_account_id: null, metadata: { role: 'admin' } }))
    assert.equal(revoker.closed, false)
    assert.equal(guard_decision(auditEvent({ event_type: 'role_grant_revoke', target_account_id: null, metadata: { role: 'admin' } }), 'admin'), null)
  })
  test('6.1 kept: account_delete / account_purge close nothing by default; opt-in closes', () => {
    for (const event_type of ['account_delete', 'account_purge']) {
      const { registry, guard } = setup()
      const s = subscribe(registry, { groups: ['account-a'] })
      guard(auditEvent({ event_type, target_account_id: 'account-a' }))
      assert.equal(s.closed, false, event_type)
      const strict = create_sse_auth_guard(registry, 'admin', silent, { close_on_account_removal: true })
      strict(auditEvent({ event_type, target_account_id: 'account-a' }))
      assert.equal(s.closed, true, event_type)
    }
  })
  test('6.5 kept: scope and groups share one namespace; opt-in namespaced_identities separates them', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { scope: 'h1', groups: ['account-a'] })
    guard(auditEvent({ event_type: 'session_revoke', metadata: { session_id: 'account-a' } }))
    assert.equal(s.closed, true)
    const r2 = new SubscriberRegistry({ log: silent })
    const t = mockStream()
    r2.subscribe(t, { scope: 'h1', groups: ['account-a'] })
    const ns = create_sse_auth_guard(r2, 'admin', silent, { namespaced_identities: true })
    ns(auditEvent({ event_type: 'session_revoke', metadata: { session_id: 'account-a' } }))
    assert.equal(t.closed, false)
    ns(auditEvent({ event_type: 'session_revoke', metadata: { session_id: 'h1' } }))
    assert.equal(t.closed, true)
  })
  test('6.3 kept: a stream without scope (API token) is closed by account-wide events only', () => {
    const { registry, guard } = setup()
    const s = subscribe(registry, { groups: ['account-a'] })
    guard(auditEvent({ event_type: 'session_revoke', account_id: 'account-a', metadata: { session_id: 'h' } }))
    assert.equal(s.closed, false)
    guard(auditEvent({ event_type: 'token_revoke_all', account_id: 'account-a' }))
    assert.equal(s.closed, true)
  })
  test('6.10 kept: the log line carries the full session hash', () => {
    const { registry, guard, log } = setup()
    const sid = 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'
    subscribe(registry, { scope: sid })
    guard(auditEvent({ event_type: 'session_revoke', metadata: { session_id: sid } }))
    assert.deepEqual(log.lines, [['info', `SSE auth guard: closed 1 stream(s) for session ${sid} (session_revoke)`]])
  })
  test('6.6 fixed: a throwing send neither stops the broadcast nor skips the guard', () => {
    const log = captureLogger()
    const sse = create_audit_log_sse({ log })
    const bad = mockStream()
    bad.send = () => {
      throw new Error('boom')
    }
    const good = mockStream()
    sse.subscribe(bad, { ...CH, groups: ['account-a'] })
    sse.subscribe(good, { ...CH, groups: ['account-a'] })
    sse.on_audit_event(auditEvent({ event_type: 'logout', account_id: 'account-a' }))
    assert.equal(good.sent.length, 1)
    assert.deepEqual([bad.closed, good.closed, sse.registry.count], [true, true, 0])
    assert.deepEqual(log.lines, [
      ['error', 'SubscriberRegistry: send failed: Error: boom'],
      ['info', 'SSE auth guard: closed 2 stream(s) for account account-a (logout)'],
    ])
  })
})

describe('create_audit_log_sse', () => {
  const make = (opts = {}) => {
    const log = captureLogger()
    return { sse: create_audit_log_sse({ log, ...opts }), log }
  }
  test('1. every event is broadcast as {method, params}', () => {
    const { sse } = make()
    const s = mockStream()
    sse.subscribe(s, CH)
    const e = auditEvent({ event_type: 'login' })
    sse.on_audit_event(e)
    assert.equal(s.sent.length, 1)
    assert.equal(s.sent[0].method, 'login')
    assert.equal(s.sent[0].params.id, e.id)
  })
  test('1b. an event_type that is not a string is refused: nothing broadcast, nothing closed', () => {
    const { sse } = make()
    const s = mockStream()
    sse.subscribe(s, { ...CH, groups: ['account-a'] })
    for (const event_type of [42, null, undefined, ['login'], { toString: () => 'login' }]) {
      assert.throws(
        () => sse.on_audit_event(auditEvent({ event_type, target_account_id: 'account-a' })),
        (e) => e.code === 'REALTIME_INVALID_EVENT' && /event_type: expected a string/.test(e.message),
      )
    }
    assert.equal(s.sent.length, 0)
    assert.equal(s.closed, false)
    assert.equal(sse.registry.count, 1)
  })
  test('2. role_grant_revoke (admin) closes the group', () => {
    const { sse } = make()
    const s = mockStream()
    sse.subscribe(s, { ...CH, groups: ['account-a'] })
    sse.on_audit_event(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: { role: 'admin' } }))
    assert.equal(s.closed, true)
    assert.equal(sse.registry.count, 0)
  })
  test('3. session_revoke_all closes the group', () => {
    const { sse } = make()
    const s = mockStream()
    sse.subscribe(s, { ...CH, groups: ['account-a'] })
    sse.on_audit_event(auditEvent({ event_type: 'session_revoke_all', target_account_id: 'account-a' }))
    assert.equal(s.closed, true)
  })
  test('4. subscribe delegates to the registry', () => {
    const { sse } = make()
    const unsubscribe = sse.subscribe(mockStream(), CH)
    assert.equal(sse.registry.count, 1)
    unsubscribe()
    assert.equal(sse.registry.count, 0)
    assert.ok(sse.registry instanceof SubscriberRegistry)
    assert.ok(sse.registry instanceof RootRegistry)
  })
  test('5. role steward: admin revoke does not close, steward revoke does', () => {
    const { sse } = make({ role: 'steward' })
    const s = mockStream()
    sse.subscribe(s, { ...CH, groups: ['account-a'] })
    sse.on_audit_event(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: { role: 'admin' } }))
    assert.equal(s.closed, false)
    sse.on_audit_event(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: { role: 'steward' } }))
    assert.equal(s.closed, true)
  })
  test('6. broadcast comes before the guard: the revoked stream gets the revoking event', () => {
    const { sse } = make()
    const s = mockStream()
    sse.subscribe(s, { ...CH, groups: ['account-a'] })
    sse.on_audit_event(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: { role: 'admin' } }))
    assert.deepEqual(s.sent.map((d) => d.method), ['role_grant_revoke'])
    assert.equal(s.closed, true)
  })
  test('7. default cap 10 per scope: the 11th evicts the 1st', () => {
    const { sse } = make()
    const streams = Array.from({ length: 11 }, () => mockStream())
    for (const s of streams) sse.subscribe(s, { ...CH, scope: 'session-hash-a', groups: ['account-a'] })
    assert.equal(sse.registry.count, 10)
    assert.deepEqual(streams.map((s) => s.closed), [true, ...Array(10).fill(false)])
  })
  test('8. groups are never capped: 15 scopes in one group stay open', () => {
    const { sse } = make()
    const streams = Array.from({ length: 15 }, () => mockStream())
    streams.forEach((s, i) => sse.subscribe(s, { ...CH, scope: `session-${i}`, groups: ['account-a'] }))
    assert.equal(sse.registry.count, 15)
    assert.equal(streams.some((s) => s.closed), false)
  })
  test('9. max_per_scope null disables the cap', () => {
    const { sse } = make({ max_per_scope: null })
    for (let i = 0; i < 13; i++) sse.subscribe(mockStream(), { ...CH, scope: 'one' })
    assert.equal(sse.registry.count, 13)
  })
  test('10. max_per_scope 2: 4 subscribes leave #2 and #3', () => {
    const { sse } = make({ max_per_scope: 2 })
    const streams = Array.from({ length: 4 }, () => mockStream())
    for (const s of streams) sse.subscribe(s, { ...CH, scope: 'one' })
    assert.equal(sse.registry.count, 2)
    assert.deepEqual(streams.map((s) => s.closed), [true, true, false, false])
  })
  test('params is the event object itself, in a new notification each time', () => {
    const { sse } = make()
    const s = mockStream()
    sse.subscribe(s, CH)
    const e = auditEvent({ event_type: 'signup', metadata: { nested: { a: 1 } } })
    sse.on_audit_event(e)
    sse.on_audit_event(e)
    assert.equal(s.sent[0].params, e)
    assert.equal(s.sent[1].params, e)
    assert.notEqual(s.sent[0], s.sent[1])
    assert.deepEqual(Object.keys(s.sent[0]), ['method', 'params'])
  })
  test('failure rows and non-builtin types are broadcast too; channel is audit_log', () => {
    const { sse } = make()
    const s = mockStream()
    const other = mockStream()
    sse.subscribe(s, CH)
    sse.subscribe(other, { channels: ['runs'] })
    sse.on_audit_event(auditEvent({ event_type: 'custom.extra', outcome: 'failure' }))
    assert.deepEqual(s.sent.map((d) => d.method), ['custom.extra'])
    assert.equal(other.sent.length, 0)
    assert.equal(AUDIT_LOG_CHANNEL, 'audit_log')
  })
  test('role null falls back to admin (fuz_app: options.role ?? "admin"); log is passed through', () => {
    const log = captureLogger()
    const sse = create_audit_log_sse({ log, role: null })
    assert.equal(sse.log, log)
    const s = mockStream()
    sse.subscribe(s, { ...CH, groups: ['account-a'] })
    sse.on_audit_event(auditEvent({ event_type: 'role_grant_revoke', target_account_id: 'account-a', metadata: { role: 'admin' } }))
    assert.equal(s.closed, true)
  })
})
