// @authcore/fuz-app-realtime/realtime/sse_auth_guard.js: the exports of fuz_app's realtime/sse_auth_guard.ts that this package implements.
export { AUDIT_LOG_CHANNEL, disconnect_event_types, DISCONNECT_EVENT_TYPES, create_sse_auth_guard, audit_log_event_specs, AUDIT_LOG_EVENT_SPECS, AUDIT_LOG_SSE_MAX_PER_SCOPE, create_audit_log_sse, guard_decision } from '../index.js'
export type { AuditLogSse, CreateAuditLogSseOptions, GuardOptions, GuardDecision } from '../index.js'
