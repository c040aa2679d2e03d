// ESM entry: re-exports the CommonJS build so every entry (root, subpaths, import or
// require) shares one module instance (one SubscriberRegistry class).
import cjs from './index.cjs'

export const {
  SSE_CONNECTED_COMMENT,
  create_sse_response,
  create_validated_broadcaster,
  create_sse_node_stream,
  SSE_HEADERS,
  SubscriberRegistry,
  AUDIT_LOG_CHANNEL,
  disconnect_event_types,
  DISCONNECT_EVENT_TYPES,
  create_sse_auth_guard,
  audit_log_event_specs,
  AUDIT_LOG_EVENT_SPECS,
  AUDIT_LOG_SSE_MAX_PER_SCOPE,
  create_audit_log_sse,
  guard_decision,
  AUDIT_EVENT_TYPES,
  AuditLogEventJson,
  DEFAULT_AUDIT_STREAM_ROLE,
  hash_session_token,
  hash_blake3,
} = cjs
