// Deliberate differences of @authcore/fuz-app-realtime (docs/compat.md, "fuz_app realtime
// SSE auth guard"): a scenario whose outcomes differ is kept only when its input holds the
// construct a rule names; each rule names the compat.md row.
import { dec } from './codec.mjs'

const REF = {
  roleNoTarget: 'docs/compat.md: `role_grant_revoke` without `target_account_id`',
  comment: 'docs/compat.md: `comment(text)` with line breaks',
}

export function kept(kase) {
  const { steps } = dec(kase.input)
  const roles = new Map() // guard index -> role; audit sse index -> role
  let guards = 0
  let sses = 0
  for (const s of steps) {
    if (s.op === 'make_guard') roles.set(`g${guards++}`, s.role)
    if (s.op === 'audit_sse') roles.set(`a${sses++}`, s.options.role ?? 'admin')
  }
  for (const s of steps) {
    const role = s.op === 'guard_event' ? roles.get(`g${s.guard}`) : s.op === 'audit_event' ? roles.get(`a${s.sse}`) : undefined
    const e = s.event
    if (
      role != null &&
      e.event_type === 'role_grant_revoke' &&
      e.outcome !== 'failure' &&
      e.target_account_id == null &&
      e.account_id &&
      e.metadata?.role === role
    ) {
      return REF.roleNoTarget
    }
    if (s.op === 'stream_comment' && /[\r\n]/.test(s.text)) return REF.comment
  }
  return null
}
