// @authcore/fuz-app-realtime/auth/audit_log_route_schema.js: the exports of fuz_app's auth/audit_log_route_schema.ts that this package implements.
export { DEFAULT_AUDIT_STREAM_ROLE } from '../index.js'
