// The public surface: fuz_app's subpaths with exactly their names (ESM and CommonJS share
// one instance), the constants, AuditLogEventJson, the session hash (spec §4) and type errors.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import * as root from '@authcore/fuz-app-realtime'
import * as sse from '@authcore/fuz-app-realtime/realtime/sse.js'
import * as sseConstants from '@authcore/fuz-app-realtime/realtime/sse_constants.js'
import * as registryMod from '@authcore/fuz-app-realtime/realtime/subscriber_registry.js'
import * as guardMod from '@authcore/fuz-app-realtime/realtime/sse_auth_guard.js'
import * as schema from '@authcore/fuz-app-realtime/auth/audit_log_schema.js'
import * as routeSchema from '@authcore/fuz-app-realtime/auth/audit_log_route_schema.js'
import * as sessionQueries from '@authcore/fuz-app-realtime/auth/session_queries.js'
import { auditEvent, silent } from './helpers.mjs'

const require = createRequire(import.meta.url)

const SUBPATHS = {
  'realtime/sse.js': [sse, ['SSE_CONNECTED_COMMENT', 'SSE_HEADERS', 'create_sse_node_stream', 'create_sse_response', 'create_validated_broadcaster']],
  'realtime/sse_constants.js': [sseConstants, ['SSE_CONNECTED_COMMENT']],
  'realtime/subscriber_registry.js': [registryMod, ['SubscriberRegistry']],
  'realtime/sse_auth_guard.js': [
    guardMod,
    ['AUDIT_LOG_CHANNEL', 'AUDIT_LOG_SSE_MAX_PER_SCOPE', 'AUDIT_LOG_EVENT_SPECS', 'DISCONNECT_EVENT_TYPES', 'audit_log_event_specs', 'create_audit_log_sse', 'create_sse_auth_guard', 'disconnect_event_types', 'guard_decision'],
  ],
  'auth/audit_log_schema.js': [schema, ['AUDIT_EVENT_TYPES', 'AuditLogEventJson']],
  'auth/audit_log_route_schema.js': [routeSchema, ['DEFAULT_AUDIT_STREAM_ROLE']],
  'auth/session_queries.js': [sessionQueries, ['hash_session_token']],
}

test('each subpath exports exactly its names, from ESM and CommonJS, one instance', () => {
  const all = new Set()
  for (const [path, [esm, names]] of Object.entries(SUBPATHS)) {
    assert.deepEqual(Object.keys(esm).sort(), [...names].sort(), path)
    const cjs = require(`@authcore/fuz-app-realtime/${path}`)
    assert.deepEqual(Object.keys(cjs).sort(), [...names].sort(), path)
    for (const n of names) {
      assert.equal(cjs[n], esm[n], `${path} ${n}`)
      assert.equal(root[n], esm[n], `${path} ${n} (root)`)
      all.add(n)
    }
  }
  all.add('hash_blake3')
  assert.deepEqual(Object.keys(root).sort(), [...all].sort())
  assert.deepEqual(Object.keys(require('@authcore/fuz-app-realtime')).sort(), [...all].sort())
})

test('constants', () => {
  assert.equal(root.AUDIT_LOG_CHANNEL, 'audit_log')
  assert.equal(root.AUDIT_LOG_SSE_MAX_PER_SCOPE, 10)
  assert.equal(root.SSE_CONNECTED_COMMENT, ': connected\n\n')
  assert.equal(root.DEFAULT_AUDIT_STREAM_ROLE, 'admin')
  assert.ok(root.disconnect_event_types instanceof Set)
  assert.deepEqual([...root.disconnect_event_types], ['role_grant_revoke', 'session_revoke', 'session_revoke_all', 'token_revoke_all', 'password_change', 'logout'])
  assert.equal(root.AUDIT_EVENT_TYPES.length, 27)
  assert.deepEqual(root.AUDIT_EVENT_TYPES.slice(0, 4), ['login', 'logout', 'bootstrap', 'signup'])
  assert.equal(root.AUDIT_EVENT_TYPES.at(-1), 'app_settings_update')
  assert.ok(Object.isFrozen(root.AUDIT_EVENT_TYPES))
  assert.deepEqual(root.SSE_HEADERS, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    'Transfer-Encoding': 'chunked',
  })
})

test("fuz_app's names in both spellings: the code's lowercase and the docs' upper case, one object each", () => {
  // fuz_app 79281eb's code exports disconnect_event_types / audit_log_event_specs; its docs
  // name them DISCONNECT_EVENT_TYPES / AUDIT_LOG_EVENT_SPECS.
  const cjs = require('@authcore/fuz-app-realtime/realtime/sse_auth_guard.js')
  for (const m of [root, guardMod, cjs]) {
    assert.equal(m.DISCONNECT_EVENT_TYPES, m.disconnect_event_types)
    assert.equal(m.AUDIT_LOG_EVENT_SPECS, m.audit_log_event_specs)
    assert.equal(m.DISCONNECT_EVENT_TYPES, root.disconnect_event_types)
  }
  assert.ok(root.DISCONNECT_EVENT_TYPES.has('role_grant_revoke'))
  assert.ok(!root.DISCONNECT_EVENT_TYPES.has('login'))
  assert.equal(root.AUDIT_LOG_EVENT_SPECS.length, 27)
  assert.equal(root.AUDIT_LOG_EVENT_SPECS[1].method, 'logout')
})

test('audit_log_event_specs: one per type, in order, with description and channel', () => {
  const specs = root.audit_log_event_specs
  assert.deepEqual(specs.map((s) => s.method), [...root.AUDIT_EVENT_TYPES])
  const revoke = specs.find((s) => s.method === 'role_grant_offer_supersede')
  assert.equal(revoke.description, 'Audit log: role grant offer supersede')
  assert.equal(revoke.channel, 'audit_log')
  assert.equal(revoke.params, root.AuditLogEventJson)
  assert.deepEqual(Object.keys(specs[0]), ['method', 'params', 'description', 'channel'])
})

test('AuditLogEventJson: a strict object of the 11 columns', () => {
  const ok = root.AuditLogEventJson.safeParse(auditEvent())
  assert.equal(ok.success, true)
  for (const bad of [
    { ...auditEvent(), extra: 1 },
    { ...auditEvent(), outcome: 'maybe' },
    { ...auditEvent(), seq: 1.5 },
    { ...auditEvent(), event_type: '1bad' },
    { ...auditEvent(), metadata: 'x' },
    { ...auditEvent(), ip: 5 },
    null,
    undefined,
    { ...auditEvent(), seq: 1n },
  ]) {
    const r = root.AuditLogEventJson.safeParse(bad)
    assert.equal(r.success, false, JSON.stringify(bad, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)))
    assert.ok(r.error.issues.length > 0)
  }
  assert.throws(() => root.AuditLogEventJson.parse({}), TypeError)
  assert.deepEqual(root.AuditLogEventJson.parse(auditEvent()), auditEvent())
})

test('hash_session_token / hash_blake3: the spec §4 vectors', () => {
  const vectors = {
    '': 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
    abc: '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85',
    test_token: '445e56aeadca0a7326ce16ac79cfefc49dd933d212e81893e03bf779abf14065',
    AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8: '0807456e11ea80a0cabf51014bdab6bb6ae59402cacb3b323853203b178e28d3',
  }
  for (const [input, hex] of Object.entries(vectors)) {
    assert.equal(root.hash_session_token(input), hex)
    assert.equal(root.hash_blake3(input), hex)
    const bytes = new TextEncoder().encode(input)
    assert.equal(root.hash_blake3(bytes), hex)
    assert.equal(root.hash_blake3(bytes.buffer), hex)
    assert.equal(root.hash_blake3(Buffer.from(input)), hex)
  }
  const view = new Uint8Array([0, 97, 98, 99, 0]).subarray(1, 4)
  assert.equal(root.hash_blake3(view), vectors.abc)
  // fuz_util's to_bytes: a value without a `buffer` is the empty view; null throws.
  assert.equal(root.hash_session_token(5), vectors[''])
  assert.equal(root.hash_blake3({}), vectors[''])
  assert.throws(() => root.hash_session_token(null), TypeError)
  assert.throws(() => root.hash_blake3(undefined), TypeError)
})

test('guard / audit-log factories: wrong types are TypeErrors', () => {
  const registry = new root.SubscriberRegistry({ log: silent })
  const guard = root.create_sse_auth_guard(registry, 'admin', silent)
  const cases = [
    () => root.create_sse_auth_guard({ close_by_identity: () => 0 }, 'admin', silent),
    () => root.create_sse_auth_guard(null, 'admin', silent),
    () => root.create_sse_auth_guard(registry, 5, silent),
    () => root.create_sse_auth_guard(registry, undefined, silent),
    () => root.create_sse_auth_guard(registry, 'admin', 'log'),
    () => root.create_sse_auth_guard(registry, 'admin', silent, { namespaced_identities: 'yes' }),
    () => guard(null),
    () => guard('session_revoke'),
    () => root.create_audit_log_sse(),
    () => root.create_audit_log_sse({ log: silent, role: 5 }),
    () => root.create_audit_log_sse({ log: silent, max_per_scope: '10' }),
    () => root.create_audit_log_sse({ log: silent }).on_audit_event(undefined),
    () => root.guard_decision(null, 'admin'),
  ]
  cases.forEach((fn, i) => assert.throws(fn, TypeError, `case ${i}`))
})

test('guard_decision: the pure decision', () => {
  assert.deepEqual(root.guard_decision(auditEvent({ event_type: 'session_revoke', metadata: { session_id: 'h' } }), null), {
    kind: 'session',
    identity: 'h',
    event_type: 'session_revoke',
  })
  assert.deepEqual(root.guard_decision(auditEvent({ event_type: 'logout', account_id: 'a' }), 'admin'), {
    kind: 'account',
    identity: 'a',
    event_type: 'logout',
  })
  assert.equal(root.guard_decision(auditEvent({ event_type: 'login' }), 'admin'), null)
  assert.deepEqual(root.guard_decision(auditEvent({ event_type: 'account_purge', account_id: 'a' }), 'admin', { close_on_account_removal: true })?.identity, 'a')
})
