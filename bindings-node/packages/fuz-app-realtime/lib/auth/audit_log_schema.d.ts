// @authcore/fuz-app-realtime/auth/audit_log_schema.js: the exports of fuz_app's auth/audit_log_schema.ts that this package implements.
export { AUDIT_EVENT_TYPES, AuditLogEventJson } from '../index.js'
export type { AuditLogEvent, AuditOutcome, AuditEventType } from '../index.js'
