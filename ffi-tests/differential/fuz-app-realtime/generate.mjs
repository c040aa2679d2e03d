// Randomised scenarios for the fuz-app-realtime suite: small programs over registries,
// streams (mock host streams and the ready-made SSE stream), the guard and the audit-log
// factory. Each step names its objects by index; the executor runs the same program on
// either implementation.
import { enc, rng } from './codec.mjs'

// `portable` scenarios (the last 50 of a seed) use only what every binding can state: no
// lone surrogates, no JS-only values, object options; the Python replay runs them.
let portable = false
const P_IDS = ['sess-a', 'sess-b', 'acct-1', 'acct-2', 'admin-acct', '', 'x\uFFFD', '\uFDD0d800', 'é', '😀']
const P_CHANNELS = ['audit_log', 'runs', 'hosts', '']
const P_ROLES = ['admin', 'steward', 'Admin']
const ALL_IDS = ['sess-a', 'sess-b', 'acct-1', 'acct-2', 'admin-acct', '', 'x\uD800', '\uDC00y', 'x\uFFFD', '\uFDD0d800', 'é', '😀']
const ALL_CHANNELS = ['audit_log', 'runs', 'hosts', '\uDC00', '']
const ALL_ROLES = ['admin', 'steward', 'Admin', 'ad\uD83Dmin']
let IDS = ALL_IDS
let CHANNELS = ALL_CHANNELS
let ROLES = ALL_ROLES
const TYPES = [
  'role_grant_revoke', 'session_revoke', 'session_revoke_all', 'token_revoke_all', 'password_change', 'logout',
  'login', 'role_grant_create', 'account_delete', 'token_revoke',
]

function list(r, pool, max) {
  const out = []
  for (let i = r.int(0, max); i > 0; i--) out.push(r.pick(pool))
  return out
}

function subscribeOptions(r) {
  switch (r.int(0, 9)) {
    case 0:
      return undefined
    case 1:
      return {}
    case 2:
      return portable ? {} : r.pick(['audit_log', 7, true])
    default: {
      const o = {}
      if (r.chance(0.6)) o.channels = list(r, CHANNELS, 3)
      if (r.chance(0.6)) o.scope = r.pick(IDS)
      if (r.chance(0.6)) o.groups = list(r, IDS, 3)
      return o
    }
  }
}

function registryOptions(r) {
  if (portable) return r.pick([undefined, {}, { max_per_scope: null }, { max_per_scope: r.int(-1, 4) }, { max_per_scope: 10 }])
  return r.pick([undefined, {}, { max_per_scope: null }, { max_per_scope: r.int(-1, 4) }, { max_per_scope: 10 }, { max_per_scope: Infinity }, { max_per_scope: 2.5 }, 5, 'x'])
}

function jsonValue(r, depth = 0) {
  if (portable) return portableValue(r, depth)
  switch (r.int(0, depth > 2 ? 5 : 8)) {
    case 0:
      return r.pick([null, true, false])
    case 1:
      return r.pick([0, -0, 1, -7, 42, 2 ** 53, 1.5, 0.1 + 0.2, 1e21, 1e-7, 123456789.123, -1e-300])
    case 2:
      return r.str('abc xyz', 0, 6)
    case 3:
      return r.pick(['é ü 密码', '😀', 'a\uD800b', '\uDFFF', 'tab\tnl\nq"\\', '\u2028\u2029', '\u0000\u001f\u007f'])
    case 4:
      return r.pick(IDS)
    case 5:
      return new Date(Date.UTC(2024, r.int(0, 11), r.int(1, 28), r.int(0, 23)))
    case 6:
    case 7: {
      const o = {}
      for (let i = r.int(0, 4); i > 0; i--) o[r.pick(['a', 'b', 'method', 'params', '1', 'é', 'x\uD800', 'u'])] = r.chance(0.1) ? undefined : jsonValue(r, depth + 1)
      return o
    }
    default:
      return Array.from({ length: r.int(0, 4) }, () => (r.chance(0.1) ? undefined : jsonValue(r, depth + 1)))
  }
}

function portableValue(r, depth) {
  switch (r.int(0, depth > 2 ? 3 : 5)) {
    case 0:
      return r.pick([null, true, false])
    case 1:
      return r.pick([0, 1, -7, 42, 2 ** 53, 1.5, 0.1 + 0.2, 1e21, 1e-7, 123456789.123, -1e-300])
    case 2:
      return r.pick(['', 'abc', 'é ü 密码', '😀', 'tab\tnl\nq"\\', '\u2028\u2029', '\u0000\u001f\u007f', 'x\uFFFD'])
    case 3:
      return r.pick(IDS)
    case 4: {
      const o = {}
      for (let i = r.int(0, 4); i > 0; i--) o[r.pick(['a', 'b', 'method', 'params', '1', 'é', 'u'])] = portableValue(r, depth + 1)
      return o
    }
    default:
      return Array.from({ length: r.int(0, 4) }, () => portableValue(r, depth + 1))
  }
}

export function auditEvent(r, seq) {
  const type = r.pick(TYPES)
  const maybe = (pool) => r.pick([...pool, null, null, undefined, ''])
  let metadata = null
  switch (r.int(0, 5)) {
    case 0:
      metadata = null
      break
    case 1:
      metadata = undefined
      break
    case 2:
      metadata = { session_id: r.pick([...IDS, 5, null]) }
      break
    case 3:
      metadata = { role: r.pick([...ROLES, null]), role_grant_id: 'rg-1' }
      break
    case 4:
      metadata = { role_grant_id: 'rg-2' }
      break
    default:
      metadata = { count: r.int(0, 3), session_id: r.pick(IDS), role: r.pick(ROLES) }
  }
  // role_grant_revoke without a target is a kept difference: keep it rare.
  const target = type === 'role_grant_revoke' && r.chance(0.85) ? r.pick(IDS.filter(Boolean)) : maybe(IDS)
  return {
    id: `evt-${seq}`,
    seq,
    event_type: type,
    outcome: r.pick(['success', 'success', 'success', 'failure', undefined, 'Failure']),
    actor_id: 'actor-1',
    account_id: maybe(IDS),
    target_account_id: target,
    target_actor_id: null,
    ip: r.pick(['127.0.0.1', null]),
    created_at: '2024-01-01T00:00:00Z',
    metadata,
  }
}

function scenario(r, seq) {
  const steps = []
  const n = { reg: 0, stream: 0, guard: 0, sse: 0, handle: 0 }
  const addReg = () => {
    if (r.chance(0.3)) {
      const options = { log: true }
      if (r.chance(0.5)) options.role = r.pick(ROLES)
      if (r.chance(0.5)) options.max_per_scope = r.pick([null, 1, 2, 3, 10])
      steps.push({ op: 'audit_sse', options })
      n.sse++
    } else {
      steps.push({ op: 'registry', options: registryOptions(r) })
    }
    n.reg++
  }
  addReg()
  for (let i = r.int(2, 4); i > 0; i--) {
    const kind = r.pick(['mock', 'mock', 'listening', 'listening', 'joiner', 'sse'])
    steps.push(kind === 'joiner' ? { op: 'stream', kind, reg: r.int(0, n.reg - 1), options: subscribeOptions(r) } : { op: 'stream', kind })
    n.stream++
  }
  let evt = 1
  for (let i = r.int(4, 14); i > 0; i--) {
    const reg = r.int(0, n.reg - 1)
    switch (r.int(0, 12)) {
      case 0:
        if (n.reg < 3) addReg()
        break
      case 1:
      case 2:
      case 3:
        steps.push({ op: 'subscribe', reg, stream: r.int(0, n.stream - 1), options: subscribeOptions(r), route: r.chance(0.5) })
        n.handle++
        break
      case 4:
        if (n.handle) steps.push({ op: 'unsubscribe', handle: r.int(0, n.handle - 1) })
        break
      case 5:
      case 6:
        steps.push({ op: 'broadcast', reg, channel: r.pick(CHANNELS), data: jsonValue(r) })
        break
      case 7:
        steps.push({ op: 'close_by_identity', reg, identity: r.pick(IDS) })
        break
      case 8:
        if (n.guard === 0 || r.chance(0.3)) {
          steps.push({ op: 'make_guard', reg, role: r.pick([...ROLES, null]) })
          n.guard++
        }
        steps.push({ op: 'guard_event', guard: r.int(0, n.guard - 1), event: auditEvent(r, evt++) })
        break
      case 9:
        if (n.sse) steps.push({ op: 'audit_event', sse: r.int(0, n.sse - 1), event: auditEvent(r, evt++) })
        break
      case 10: {
        const stream = r.int(0, n.stream - 1)
        const what = r.pick(['send', 'send', 'comment', 'close', 'on_close', 'on_close_adder', portable ? 'on_close' : 'on_close_nonfunction'])
        const step = { op: 'stream_' + what, stream }
        if (what === 'send') step.data = jsonValue(r)
        if (what === 'comment') step.text = r.chance(portable ? 0 : 0.1) ? 'two\nlines' : r.pick(portable ? ['keep-alive', 'ping', '', 'é😀'] : ['keep-alive', 'ping', '', 'é😀', 'x\uD800'])
        steps.push(step)
        break
      }
      case 11:
        steps.push({ op: 'count', reg })
        break
      default:
        steps.push({ op: 'hash', value: r.pick(portable ? ['', 'abc', 'test_token', r.str('ABCxyz-_0189', 0, 43)] : ['', 'abc', 'test_token', r.str('ABCxyz-_0189', 0, 43), 'a\uD800', 42, {}, [1, 2], null, true]) })
    }
  }
  return steps
}

export function generate(seed, { only } = {}) {
  const r = rng(seed)
  const cases = []
  for (let i = 0; i < 200; i++) {
    portable = i >= 150
    IDS = portable ? P_IDS : ALL_IDS
    CHANNELS = portable ? P_CHANNELS : ALL_CHANNELS
    ROLES = portable ? P_ROLES : ALL_ROLES
    const steps = scenario(r, i)
    const capability = portable
      ? 'portable'
      : steps.some((s) => s.op === 'audit_sse') ? 'audit_sse' : steps.some((s) => s.op === 'make_guard') ? 'guard' : 'registry'
    if (only && !only.includes(capability)) continue
    cases.push({ id: `s${seed}-${i}`, capability, op: 'scenario', input: enc({ steps }) })
  }
  return cases
}
