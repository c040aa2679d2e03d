// @authcore/fuz-app-realtime/auth/audit_log_schema.js: the exports of fuz_app's auth/audit_log_schema.ts that this package implements.
import cjs from '../index.cjs'

export const { AUDIT_EVENT_TYPES, AuditLogEventJson } = cjs
