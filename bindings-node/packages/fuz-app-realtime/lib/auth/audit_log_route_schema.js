// @authcore/fuz-app-realtime/auth/audit_log_route_schema.js: the exports of fuz_app's auth/audit_log_route_schema.ts that this package implements.
import cjs from '../index.cjs'

export const { DEFAULT_AUDIT_STREAM_ROLE } = cjs
