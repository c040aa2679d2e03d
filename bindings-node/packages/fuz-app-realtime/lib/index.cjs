'use strict'
// @authcore/fuz-app-realtime: fuz_app's realtime SSE auth guard (SubscriberRegistry,
// create_sse_auth_guard, create_audit_log_sse, SSE streams) on the authcore Rust core.
// The registry, the guard, the audit-log dispatch and the stream's wire bytes run in the
// native addon (bindings-node/src/realtime.rs over core/src/realtime); this file checks
// argument types, keeps fuz_app's names and shapes, and moves the stream's bytes into a
// web `Response` or a Node writable.

const native = require('@authcore/native')

const C = native.realtimeConstants()

/** SSE channel the audit-log stream route publishes on. */
const AUDIT_LOG_CHANNEL = C.auditLogChannel
/** Default max concurrent SSE subscribers per session scope for the audit log (10). */
const AUDIT_LOG_SSE_MAX_PER_SCOPE = C.auditLogSseMaxPerScope
/** Written at once when a stream opens, so proxies flush and EventSource fires onopen. */
const SSE_CONNECTED_COMMENT = C.sseConnectedComment
/** The role the audit-log stream requires by default. */
const DEFAULT_AUDIT_STREAM_ROLE = C.defaultAuditStreamRole
/** Audit event types that can close SSE streams (the guard's own copy lives in the core). */
const disconnect_event_types = new Set(C.disconnectEventTypes)
/** The name fuz_app's docs give `disconnect_event_types` (the same Set). */
const DISCONNECT_EVENT_TYPES = disconnect_event_types
/** The 27 builtin audit event types, in fuz_app's order. */
const AUDIT_EVENT_TYPES = Object.freeze([...C.auditEventTypes])
/** The SSE response headers of Hono's streamSSE. */
const SSE_HEADERS = Object.freeze(Object.fromEntries(C.sseHeaders))

// ------------------------------------------------------------------ identities as they cross

// A JS string may hold lone surrogates, a Rust String cannot: identities, channels and
// roles cross to the core in an injective escape (bindings-node/src/realtime.rs
// `identity_from_utf16` applies the same one to the event fields the guard reads), so two
// strings match in the core exactly when they are equal here. U+FDD0 is written twice, a
// lone surrogate as U+FDD0 and four lowercase hex digits; well-formed strings without
// U+FDD0 cross unchanged.
const ESCAPE = '\ufdd0'

function crossing(s) {
  if (s.isWellFormed() && !s.includes(ESCAPE)) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0xfdd0) {
      out += ESCAPE + ESCAPE
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += s[i] + s[i + 1]
      i++
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += ESCAPE + c.toString(16)
    } else {
      out += s[i]
    }
  }
  return out
}

function uncrossing(s) {
  if (!s.includes(ESCAPE)) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ESCAPE && s[i + 1] === ESCAPE) {
      out += ESCAPE
      i++
    } else if (s[i] === ESCAPE && /^d[89a-f][0-9a-f]{2}$/.test(s.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16))
      i += 4
    } else {
      out += s[i]
    }
  }
  return out
}

function crossingList(list) {
  return list === null ? null : list.map(crossing)
}

// ------------------------------------------------------------------ argument checks

function typeError(message) {
  const e = new TypeError(message)
  e.code = 'ERR_INVALID_ARG_TYPE'
  return e
}

function isObjectLike(v) {
  return (typeof v === 'object' && v !== null) || typeof v === 'function'
}

function checkLogger(log, name = 'log') {
  if (log === undefined || log === null) return
  if (!isObjectLike(log)) throw typeError(`${name} must be a logger object (info, warn, error)`)
}

function checkString(v, name) {
  if (typeof v !== 'string') throw typeError(`${name} must be a string`)
}

function checkStringList(v, name) {
  if (v === undefined || v === null) return null
  if (!Array.isArray(v)) throw typeError(`${name} must be an array of strings`)
  for (const item of v) {
    if (typeof item !== 'string') throw typeError(`${name} must be an array of strings`)
  }
  return v
}

function checkMaxPerScope(v, name = 'max_per_scope') {
  if (v === null) return null
  if (typeof v !== 'number') throw typeError(`${name} must be a number or null`)
  return v
}

function checkEvent(event) {
  if (!isObjectLike(event)) throw typeError('event must be an audit log event object')
}

function checkOptBool(v, name) {
  if (v === undefined || v === null) return null
  if (typeof v !== 'boolean') throw typeError(`${name} must be a boolean`)
  return v
}

// ------------------------------------------------------------------ hashes (§4)

/**
 * `hash_blake3(data)`: BLAKE3, 64 lowercase hex, of the bytes fuz_util's `to_bytes` takes
 * from `data`: a string's UTF-8 (lone surrogates as U+FFFD, like `TextEncoder`), a
 * `Uint8Array` as is, an `ArrayBuffer`'s bytes, otherwise the view
 * `new Uint8Array(data.buffer, data.byteOffset, data.byteLength)` (so a value without a
 * `buffer` hashes no bytes, and `null`/`undefined` throw the same TypeError).
 */
function hash_blake3(data) {
  if (typeof data === 'string') return native.hashBlake3(data)
  if (data instanceof Uint8Array) return native.hashBlake3(data)
  if (data instanceof ArrayBuffer) return native.hashBlake3(new Uint8Array(data))
  return native.hashBlake3(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
}

/** `hash_session_token(token)`: `hash_blake3(token)` (unkeyed, the token's UTF-8 bytes). */
function hash_session_token(token) {
  return hash_blake3(token)
}

// ------------------------------------------------------------------ SubscriberRegistry (§3.1)

const nativeOf = new WeakMap()
let adopting = null

/**
 * Channel-filtered pub/sub of SSE streams with a capped `scope` and uncapped `groups`;
 * `close_by_identity` closes then removes every stream whose scope or groups match.
 */
class SubscriberRegistry {
  constructor(options) {
    let n = adopting
    if (n === null) {
      // Read as the original reads it (`options?.max_per_scope ?? null`): a value that is
      // not an object (`new SubscriberRegistry(5)`) has no such property, so no cap.
      const max = checkMaxPerScope(options?.max_per_scope ?? null)
      const log = options?.log === undefined ? console : options.log
      checkLogger(log, 'options.log')
      n = new native.SubscriberRegistry(max, log)
    }
    nativeOf.set(this, n)
  }

  /** Number of active subscribers. */
  get count() {
    return nativeOf.get(this).count
  }

  /** Add a subscriber; returns its idempotent `unsubscribe()` (which does not close the stream). */
  subscribe(stream, options) {
    if (!isObjectLike(stream) || typeof stream.send !== 'function' || typeof stream.close !== 'function') {
      throw typeError('stream must be an SseStream (an object with send(data) and close())')
    }
    // `options?.channels` etc. as the original reads them: options that are not an object
    // (`subscribe(stream, 'audit_log')`) have none of these properties.
    const channels = checkStringList(options?.channels, 'options.channels')
    const groups = checkStringList(options?.groups, 'options.groups')
    const scope = options?.scope ?? null
    if (scope !== null) checkString(scope, 'options.scope')
    return nativeOf
      .get(this)
      .subscribe(stream, crossingList(channels), scope === null ? null : crossing(scope), crossingList(groups))
  }

  /** `send(data)` (the same object) to every subscriber of `channel`, in subscription order. */
  broadcast(channel, data) {
    checkString(channel, 'channel')
    nativeOf.get(this).broadcast(crossing(channel), data)
  }

  /** Close then remove every subscriber whose `scope` is `identity` or whose `groups` contain it. */
  close_by_identity(identity) {
    checkString(identity, 'identity')
    return nativeOf.get(this).closeByIdentity(crossing(identity))
  }

  /** Extension: close then remove the subscribers whose `scope` is `scope` (groups ignored). */
  close_by_scope(scope) {
    checkString(scope, 'scope')
    return nativeOf.get(this).closeByScope(crossing(scope))
  }

  /** Extension: close then remove the subscribers whose `groups` contain `group` (scope ignored). */
  close_by_group(group) {
    checkString(group, 'group')
    return nativeOf.get(this).closeByGroup(crossing(group))
  }
}

function adoptRegistry(n) {
  adopting = n
  try {
    return new SubscriberRegistry()
  } finally {
    adopting = null
  }
}

function nativeRegistry(registry) {
  const n = registry !== null && typeof registry === 'object' ? nativeOf.get(registry) : undefined
  if (n === undefined) throw typeError('registry must be a SubscriberRegistry of @authcore/fuz-app-realtime')
  return n
}

// ------------------------------------------------------------------ the guard (§3.2)

/**
 * `create_sse_auth_guard(registry, required_role, log)`: an audit event handler that closes
 * the streams whose access the event revoked (decision and log lines in the core).
 */
function create_sse_auth_guard(registry, required_role, log, options) {
  const n = nativeRegistry(registry)
  if (required_role !== null) checkString(required_role, 'required_role')
  checkLogger(log)
  const guard = new native.SseAuthGuard(
    n,
    required_role === null ? null : crossing(required_role),
    log ?? null,
    checkOptBool(options?.close_on_account_removal, 'options.close_on_account_removal'),
    checkOptBool(options?.namespaced_identities, 'options.namespaced_identities'),
  )
  return (event) => {
    checkEvent(event)
    guard.handle(event)
  }
}

/**
 * Extension (spec §7): what `event` would close, without closing anything:
 * `{kind: 'session' | 'account', identity, event_type}` or `null`.
 */
function guard_decision(event, required_role, options) {
  checkEvent(event)
  if (required_role !== null) checkString(required_role, 'required_role')
  const d = native.realtimeGuardDecision(
    event,
    required_role === null ? null : crossing(required_role),
    checkOptBool(options?.close_on_account_removal, 'options.close_on_account_removal'),
    checkOptBool(options?.namespaced_identities, 'options.namespaced_identities'),
  )
  return d == null
    ? null
    : { kind: d.kind, identity: uncrossing(d.identity), event_type: uncrossing(d.eventType) }
}

// ------------------------------------------------------------------ audit log schema and specs

function issueList(messages) {
  return messages.map((message) => ({ code: 'custom', path: [], message }))
}

/**
 * The `AuditLogEventJson` check (a strict object of the 11 audit columns), with zod's
 * `safeParse`/`parse` shape so it works where fuz_app passes a zod schema.
 */
const AuditLogEventJson = Object.freeze({
  safeParse(value) {
    let json
    try {
      json = JSON.stringify(value)
    } catch (e) {
      return { success: false, error: { issues: issueList([String(e)]) } }
    }
    const messages = native.realtimeAuditLogEventIssues(json === undefined ? 'undefined' : json)
    if (messages.length === 0) return { success: true, data: value }
    return { success: false, error: { issues: issueList(messages) } }
  },
  parse(value) {
    const r = AuditLogEventJson.safeParse(value)
    if (r.success) return r.data
    const e = new TypeError(`Invalid audit log event: ${r.error.issues.map((i) => i.message).join('; ')}`)
    e.issues = r.error.issues
    throw e
  },
})

/**
 * One EventSpec per builtin audit event type (method, AuditLogEventJson params,
 * description, channel): a plain array of plain objects, as fuz_app's.
 */
const audit_log_event_specs = C.auditLogEventSpecs.map((s) => ({
  method: s.method,
  params: AuditLogEventJson,
  description: s.description,
  channel: s.channel,
}))
/** The name fuz_app's docs give `audit_log_event_specs` (the same array). */
const AUDIT_LOG_EVENT_SPECS = audit_log_event_specs

// ------------------------------------------------------------------ create_audit_log_sse (§3.3)

/**
 * `create_audit_log_sse({role, log, max_per_scope})`: a registry (cap 10 per session scope by
 * default, `null` for none) and the guard, with `on_audit_event` = broadcast then guard.
 */
function create_audit_log_sse(options) {
  if (!isObjectLike(options)) throw typeError('options must be an object')
  const role = options.role ?? DEFAULT_AUDIT_STREAM_ROLE
  checkString(role, 'options.role')
  const max = checkMaxPerScope(
    options.max_per_scope === undefined ? AUDIT_LOG_SSE_MAX_PER_SCOPE : options.max_per_scope,
    'options.max_per_scope',
  )
  checkLogger(options.log, 'options.log')
  const n = new native.AuditLogSse(
    crossing(role),
    max,
    options.log ?? null,
    checkOptBool(options.close_on_account_removal, 'options.close_on_account_removal'),
    checkOptBool(options.namespaced_identities, 'options.namespaced_identities'),
  )
  const registry = adoptRegistry(n.registry())
  return {
    subscribe: registry.subscribe.bind(registry),
    log: options.log,
    on_audit_event: (event) => {
      checkEvent(event)
      n.onAuditEvent(event)
    },
    registry,
  }
}

// ------------------------------------------------------------------ create_validated_broadcaster (§3.7)

/** esm-env's `DEV` outside a bundler: NODE_ENV set and not production. */
function defaultDev() {
  const env = globalThis.process?.env?.NODE_ENV
  return Boolean(env) && !env.toLowerCase().startsWith('prod')
}

/**
 * `create_validated_broadcaster(broadcaster, event_specs, log)`: outside DEV the broadcaster
 * itself; in DEV a wrapper that warns on unknown methods and params mismatches and always
 * forwards. Extension: `options.dev` overrides the DEV detection.
 */
function create_validated_broadcaster(broadcaster, event_specs, log, options) {
  if (!isObjectLike(broadcaster) || typeof broadcaster.broadcast !== 'function') {
    throw typeError('broadcaster must have a broadcast(channel, data) method')
  }
  if (!Array.isArray(event_specs)) throw typeError('event_specs must be an array of EventSpec')
  checkLogger(log)
  const dev = checkOptBool(options?.dev, 'options.dev') ?? defaultDev()
  if (!dev) return broadcaster
  const spec_map = new Map(event_specs.map((s) => [s.method, s]))
  return {
    broadcast: (channel, data) => {
      const spec = spec_map.get(data.method)
      if (!spec) {
        log.warn(`Unknown event method: '${data.method}'`)
      } else {
        const result = spec.params.safeParse(data.params)
        if (!result.success) {
          log.warn(`Params mismatch for '${data.method}':`, result.error.issues)
        }
      }
      broadcaster.broadcast(channel, data)
    },
  }
}

// ------------------------------------------------------------------ streams with the wire bytes (§3.5)

/** The `SseStream` over a native stream; `flush` moves written bytes to the transport. */
function streamOver(n, flush) {
  return {
    send(data) {
      n.send(data)
      flush()
    },
    comment(text) {
      n.comment(`${text}`)
      flush()
    },
    close() {
      n.close()
      flush()
    },
    on_close(fn) {
      // The original stores anything and calls it at the close, where a non-function
      // throws a TypeError that is caught and logged like any throwing listener.
      n.onClose(typeof fn === 'function' ? fn : () => fn())
    },
  }
}

/**
 * `create_sse_response(c, log)`: a web `Response` (status 200, the four SSE headers, a
 * ReadableStream body that starts with `: connected\n\n`) and its `SseStream`. Cancelling
 * the body (the client left) closes the stream. `c` is accepted for fuz_app's signature
 * and not read.
 */
function create_sse_response(c, log) {
  checkLogger(log)
  const n = new native.MemorySseStream(log ?? null)
  const encoder = new TextEncoder()
  let controller = null
  let ended = false
  // Bytes move to the body only while its queue wants more (a reader keeps up); otherwise
  // they wait in the native stream, whose buffer limit (the core's slow-client policy,
  // 1 MiB by default) closes the stream of a client that stopped reading.
  const flush = () => {
    if (ended || controller === null) return
    if (n.closed) {
      const rest = n.takeBody()
      if (rest) controller.enqueue(encoder.encode(rest))
      ended = true
      controller.close()
      return
    }
    if (controller.desiredSize > 0) {
      const chunk = n.takeBody()
      if (chunk) controller.enqueue(encoder.encode(chunk))
    }
  }
  const body = new ReadableStream({
    start(ctrl) {
      controller = ctrl
      flush()
    },
    pull() {
      flush()
    },
    cancel() {
      ended = true
      n.cancel()
    },
  })
  const response = new Response(body, { status: 200, headers: SSE_HEADERS })
  return { response, stream: streamOver(n, flush) }
}

/**
 * Extension: an `SseStream` writing the same bytes to a Node `http.ServerResponse` (status
 * 200 and the SSE headers when they are not sent yet) or any writable. The response's
 * `close` event (the client left) closes the stream; `close()` ends the response.
 */
function create_sse_node_stream(res, log) {
  if (!isObjectLike(res) || typeof res.write !== 'function' || typeof res.end !== 'function') {
    throw typeError('res must be a writable (http.ServerResponse or stream.Writable)')
  }
  checkLogger(log)
  const n = new native.MemorySseStream(log ?? null)
  let ended = false
  // Written while the response drains (`write()` returned true); otherwise the bytes wait
  // in the native stream, whose buffer limit (the core's slow-client policy, 1 MiB by
  // default) closes the stream of a client that stopped reading.
  const flush = () => {
    if (ended) return
    if (n.closed) {
      const rest = n.takeBody()
      if (rest) res.write(rest)
      ended = true
      res.end()
      return
    }
    if (res.writableNeedDrain === true) return
    const chunk = n.takeBody()
    if (chunk) res.write(chunk)
  }
  if (typeof res.on === 'function') res.on('drain', flush)
  const gone = () => {
    if (ended) return
    ended = true
    n.cancel()
  }
  if (typeof res.writeHead === 'function' && !res.headersSent) res.writeHead(200, SSE_HEADERS)
  flush()
  if (res.destroyed === true) gone()
  else if (typeof res.once === 'function') res.once('close', gone)
  return streamOver(n, flush)
}

module.exports = {
  // realtime/sse_constants
  SSE_CONNECTED_COMMENT,
  // realtime/sse
  create_sse_response,
  create_validated_broadcaster,
  create_sse_node_stream,
  SSE_HEADERS,
  // realtime/subscriber_registry
  SubscriberRegistry,
  // realtime/sse_auth_guard
  AUDIT_LOG_CHANNEL,
  disconnect_event_types,
  DISCONNECT_EVENT_TYPES,
  create_sse_auth_guard,
  audit_log_event_specs,
  AUDIT_LOG_EVENT_SPECS,
  AUDIT_LOG_SSE_MAX_PER_SCOPE,
  create_audit_log_sse,
  guard_decision,
  // auth/audit_log_schema
  AUDIT_EVENT_TYPES,
  AuditLogEventJson,
  // auth/audit_log_route_schema
  DEFAULT_AUDIT_STREAM_ROLE,
  // auth/session_queries
  hash_session_token,
  // fuz_util hash_blake3
  hash_blake3,
}
