// Types of @authcore/fuz-app-realtime: fuz_app's realtime SSE auth guard (the names and
// shapes of @fuzdev/fuz_app's realtime/*.ts and the audit-log pieces it uses).

// ------------------------------------------------------------------ shared

/** fuz_util's `Logger` as used here: any object with these methods (a `Logger`, `console`). */
export interface Logger {
  info: (...args: Array<any>) => void
  warn: (...args: Array<any>) => void
  error: (...args: Array<any>) => void
}

// ------------------------------------------------------------------ realtime/sse_constants

/** `": connected\n\n"`: written at once on open. */
export declare const SSE_CONNECTED_COMMENT: ': connected\n\n'

// ------------------------------------------------------------------ realtime/sse

/** Generic SSE stream controller interface (fuz_app's `SseStream<T>`). */
export interface SseStream<T = unknown> {
  /** Send data to the client as a JSON SSE event. */
  send: (data: T) => void
  /** Send a comment (for keep-alive pings). */
  comment: (text: string) => void
  /** Close the stream. */
  close: () => void
  /** Register a listener called when the stream closes (client disconnect or explicit close). */
  on_close: (fn: () => void) => void
}

/** Notification shape aligned with JSON-RPC 2.0 (`{method, params}`). */
export interface SseNotification {
  method: string
  params: unknown
}

/** What `EventSpec.params` must offer: zod's `safeParse` (a zod schema fits). */
export interface ParamsSchema {
  safeParse: (data: unknown) =>
    | { success: true; data?: unknown }
    | { success: false; error: { issues: ReadonlyArray<unknown> } }
}

/** Spec for a push event: params schema, description, channel. */
export interface EventSpec {
  method: string
  params: ParamsSchema
  description: string
  channel?: string
}
/** The older name of `EventSpec`. */
export type SseEventSpec = EventSpec

/** Anything with `broadcast(channel, data)` (e.g. a `SubscriberRegistry`). */
export interface Broadcaster<T> {
  broadcast: (channel: string, data: T) => void
}

/** Extension: `dev` overrides the DEV detection (NODE_ENV set and not `prod*`). */
export interface ValidatedBroadcasterOptions {
  dev?: boolean
}

/**
 * An SSE response: status 200, the four SSE headers, a body starting with
 * `SSE_CONNECTED_COMMENT`; cancelling the body closes the stream. `c` (a Hono context) is
 * accepted and not read.
 */
export declare function create_sse_response<T = unknown>(
  c: unknown,
  log: Logger,
): { response: Response; stream: SseStream<T> }

/** Extension: the same stream over a Node `http.ServerResponse` or any writable. */
export declare function create_sse_node_stream<T = unknown>(
  res: {
    write: (chunk: string) => unknown
    end: () => unknown
    writeHead?: (status: number, headers: Record<string, string>) => unknown
    headersSent?: boolean
    destroyed?: boolean
    once?: (event: 'close', listener: () => void) => unknown
  },
  log?: Logger | null,
): SseStream<T>

/** Extension: the SSE response headers (`Content-Type`, `Cache-Control`, `Connection`, `Transfer-Encoding`). */
export declare const SSE_HEADERS: Readonly<Record<string, string>>

/** In DEV warns on unknown methods and params mismatches and always forwards; otherwise the broadcaster itself. */
export declare function create_validated_broadcaster<T extends SseNotification>(
  broadcaster: Broadcaster<T>,
  event_specs: Array<EventSpec>,
  log: Logger,
  options?: ValidatedBroadcasterOptions,
): Broadcaster<T>

// ------------------------------------------------------------------ realtime/subscriber_registry

export interface Subscriber<T> {
  stream: SseStream<T>
  /** Channels this subscriber listens to. `null` means all channels. */
  channels: Set<string> | null
  /** Primary (capped) identity. `null` when none. */
  scope: string | null
  /** Grouping identities for `close_by_identity`. `null` when none. */
  groups: Set<string> | null
}

/** Options for `SubscriberRegistry`. */
export interface SubscriberRegistryOptions {
  /** Max subscribers sharing one `scope` (oldest closed first); `null`/absent = no cap. */
  max_per_scope?: number | null
  /** Extension: where failing `send`/`close` calls are logged (default `console`; `null` = nowhere). */
  log?: Logger | null
}

/** Options for `SubscriberRegistry.subscribe`. */
export interface SubscribeOptions {
  /** Channels to subscribe to. Empty/absent = all channels. */
  channels?: ReadonlyArray<string>
  /** Primary (capped) identity, e.g. the session hash. */
  scope?: string
  /** Grouping identities, e.g. the account id (uncapped, matched by `close_by_identity`). */
  groups?: ReadonlyArray<string>
}

export declare class SubscriberRegistry<T> {
  constructor(options?: SubscriberRegistryOptions)
  /** Number of active subscribers. */
  get count(): number
  /** Add a subscriber; returns `unsubscribe` (idempotent, does not close the stream). */
  subscribe(stream: SseStream<T>, options?: SubscribeOptions): () => void
  /** Send `data` to every subscriber of `channel`; a throwing `send` is logged and the loop goes on. */
  broadcast(channel: string, data: T): void
  /** Close then remove every subscriber whose `scope` or `groups` match; returns how many. */
  close_by_identity(identity: string): number
  /** Extension: close then remove the subscribers whose `scope` is `scope`. */
  close_by_scope(scope: string): number
  /** Extension: close then remove the subscribers whose `groups` contain `group`. */
  close_by_group(group: string): number
}

// ------------------------------------------------------------------ auth/audit_log_schema

export type AuditOutcome = 'success' | 'failure'

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number]

/** One audit log row (`RETURNING *`), keys in column order on the wire. */
export interface AuditLogEvent {
  id: string
  seq: number
  event_type: string
  outcome: AuditOutcome
  actor_id: string | null
  account_id: string | null
  target_account_id: string | null
  target_actor_id: string | null
  ip: string | null
  created_at: string
  metadata: Record<string, unknown> | null
}

export declare const AUDIT_EVENT_TYPES: readonly [
  'login',
  'logout',
  'bootstrap',
  'signup',
  'password_change',
  'session_revoke',
  'session_revoke_all',
  'token_create',
  'token_revoke',
  'token_revoke_all',
  'role_grant_create',
  'role_grant_revoke',
  'role_grant_offer_create',
  'role_grant_offer_accept',
  'role_grant_offer_decline',
  'role_grant_offer_retract',
  'role_grant_offer_expire',
  'role_grant_offer_supersede',
  'invite_create',
  'invite_delete',
  'account_delete',
  'account_purge',
  'account_undelete',
  'actor_delete',
  'actor_purge',
  'actor_undelete',
  'app_settings_update',
]

/** The `AuditLogEventJson` check with zod's `safeParse`/`parse` shape. */
export declare const AuditLogEventJson: {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: AuditLogEvent }
    | { success: false; error: { issues: Array<{ code: 'custom'; path: Array<never>; message: string }> } }
  parse(value: unknown): AuditLogEvent
}

// ------------------------------------------------------------------ auth/audit_log_route_schema

export declare const DEFAULT_AUDIT_STREAM_ROLE: 'admin'

// ------------------------------------------------------------------ realtime/sse_auth_guard

export declare const AUDIT_LOG_CHANNEL: 'audit_log'
/** The six audit event types that close SSE streams. */
export declare const disconnect_event_types: ReadonlySet<string>
/** The name fuz_app's docs give `disconnect_event_types` (the same Set). */
export declare const DISCONNECT_EVENT_TYPES: ReadonlySet<string>
export declare const AUDIT_LOG_SSE_MAX_PER_SCOPE: 10
/** One spec per `AUDIT_EVENT_TYPES` entry (params `AuditLogEventJson`, channel `audit_log`). */
export declare const audit_log_event_specs: Array<EventSpec>
/** The name fuz_app's docs give `audit_log_event_specs` (the same array). */
export declare const AUDIT_LOG_EVENT_SPECS: Array<EventSpec>

/** Extension: the core's opt-in fixes (both off by default = fuz_app's behaviour). */
export interface GuardOptions {
  /** `account_delete` / `account_purge` close the account's streams. */
  close_on_account_removal?: boolean
  /** Session ids close scopes only, account ids groups only. */
  namespaced_identities?: boolean
}

/** Closes the streams an audit event revokes; logs `SSE auth guard: closed …` at info. */
export declare function create_sse_auth_guard<T>(
  registry: SubscriberRegistry<T>,
  required_role: string | null,
  log: Logger,
  options?: GuardOptions,
): (event: AuditLogEvent) => void

/** Extension: what the guard would close for `event`. */
export interface GuardDecision {
  kind: 'session' | 'account'
  identity: string
  event_type: string
}
export declare function guard_decision(
  event: AuditLogEvent,
  required_role: string | null,
  options?: GuardOptions,
): GuardDecision | null

export interface AuditLogSse {
  subscribe: (stream: SseStream<SseNotification>, options?: SubscribeOptions) => () => void
  log: Logger
  on_audit_event: (event: AuditLogEvent) => void
  registry: SubscriberRegistry<SseNotification>
}

export interface CreateAuditLogSseOptions extends GuardOptions {
  /** Role required to access the SSE endpoint. Default `'admin'`. */
  role?: string
  log: Logger
  /** Max concurrent subscribers per session scope. Default 10; `null` disables the cap. */
  max_per_scope?: number | null
}

export declare function create_audit_log_sse(options: CreateAuditLogSseOptions): AuditLogSse

// ------------------------------------------------------------------ auth/session_queries, fuz_util

/** blake3 of the token's UTF-8 bytes, 64 lowercase hex (the session id). */
export declare function hash_session_token(token: string): string
/** blake3, 64 lowercase hex. */
export declare function hash_blake3(data: string | ArrayBuffer | ArrayBufferView): string
