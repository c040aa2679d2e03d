// Compile-only test of the .d.ts: code written against @fuzdev/fuz_app's realtime modules
// (its subpaths, names and types) type-checks against ours, and misuse is rejected (each
// `@ts-expect-error` fails the build if the line stops being an error).
import {
  SSE_CONNECTED_COMMENT,
  create_sse_response,
  create_validated_broadcaster,
  type EventSpec,
  type SseEventSpec,
  type SseNotification,
  type SseStream,
} from "@authcore/fuz-app-realtime/realtime/sse.js";
import { SSE_CONNECTED_COMMENT as C2 } from "@authcore/fuz-app-realtime/realtime/sse_constants.js";
import {
  SubscriberRegistry,
  type SubscribeOptions,
  type Subscriber,
  type SubscriberRegistryOptions,
} from "@authcore/fuz-app-realtime/realtime/subscriber_registry.js";
import {
  AUDIT_LOG_CHANNEL,
  AUDIT_LOG_SSE_MAX_PER_SCOPE,
  AUDIT_LOG_EVENT_SPECS,
  DISCONNECT_EVENT_TYPES,
  audit_log_event_specs,
  create_audit_log_sse,
  create_sse_auth_guard,
  disconnect_event_types,
  type AuditLogSse,
} from "@authcore/fuz-app-realtime/realtime/sse_auth_guard.js";
import {
  AUDIT_LOG_EVENT_SPECS as ROOT_SPECS,
  DISCONNECT_EVENT_TYPES as ROOT_TYPES,
} from "@authcore/fuz-app-realtime";
import {
  AUDIT_EVENT_TYPES,
  AuditLogEventJson,
  type AuditLogEvent,
  type AuditOutcome,
} from "@authcore/fuz-app-realtime/auth/audit_log_schema.js";
import { DEFAULT_AUDIT_STREAM_ROLE } from "@authcore/fuz-app-realtime/auth/audit_log_route_schema.js";
import { hash_session_token } from "@authcore/fuz-app-realtime/auth/session_queries.js";
import { hash_blake3, create_sse_node_stream, guard_decision } from "@authcore/fuz-app-realtime";
// @ts-expect-error the registry is not exported from the guard's subpath
import { SubscriberRegistry as NotHere } from "@authcore/fuz-app-realtime/realtime/sse_auth_guard.js";
import type { ServerResponse } from "node:http";

declare const res: ServerResponse;

// fuz_util's Logger shape (a class with variadic methods) and console both fit.
class FuzLogger {
  constructor(readonly label: string) {}
  error(...args: Array<unknown>): void {}
  warn(...args: Array<unknown>): void {}
  info(...args: Array<unknown>): void {}
  debug(...args: Array<unknown>): void {}
}
const log = new FuzLogger("test");

const opts: SubscriberRegistryOptions = { max_per_scope: null };
const registry = new SubscriberRegistry<SseNotification>(opts);
const n: number = registry.count;
const { response, stream } = create_sse_response<SseNotification>({}, log);
const r: Response = response;
const sub: SubscribeOptions = { channels: [AUDIT_LOG_CHANNEL], scope: hash_session_token("t"), groups: ["acct"] };
const unsubscribe: () => void = registry.subscribe(stream, sub);
stream.on_close(unsubscribe);
registry.broadcast("audit_log", { method: "login", params: {} });
const closed: number = registry.close_by_identity("acct");
// @ts-expect-error data must be an SseNotification for this registry
registry.broadcast("audit_log", 5);
// @ts-expect-error subscribe options are an object, not fuz_app's old positional channels
registry.subscribe(stream, ["runs"]);

const mock: SseStream<SseNotification> = { send: () => {}, comment: () => {}, close: () => {}, on_close: () => {} };
registry.subscribe(mock);

const guard: (event: AuditLogEvent) => void = create_sse_auth_guard(registry, "admin", log);
create_sse_auth_guard(registry, null, console);
// @ts-expect-error required_role is string | null
create_sse_auth_guard(registry, 5, log);

const sse: AuditLogSse = create_audit_log_sse({ log, max_per_scope: AUDIT_LOG_SSE_MAX_PER_SCOPE });
create_audit_log_sse({ log, role: DEFAULT_AUDIT_STREAM_ROLE, max_per_scope: null });
// @ts-expect-error log is required
create_audit_log_sse({ role: "admin" });
const outcome: AuditOutcome = "failure";
const event: AuditLogEvent = {
  id: "e", seq: 1, event_type: AUDIT_EVENT_TYPES[0], outcome, actor_id: null, account_id: "a",
  target_account_id: null, target_actor_id: null, ip: null, created_at: "2024-01-01T00:00:00Z", metadata: null,
};
sse.on_audit_event(event);
guard(event);
sse.subscribe(mock, { channels: ["audit_log"] });
const size: number = sse.registry.count;
const has: boolean = disconnect_event_types.has("logout");
// @ts-expect-error the set is read-only
disconnect_event_types.add("account_delete");

// The names fuz_app's docs give them: the same types as the code's lowercase names.
const upper: ReadonlySet<string> = DISCONNECT_EVENT_TYPES;
const upperHas: boolean = ROOT_TYPES.has("session_revoke") && upper.has("logout");
// @ts-expect-error the upper-case set is read-only too
DISCONNECT_EVENT_TYPES.delete("logout");
const upperSpecs: Array<EventSpec> = AUDIT_LOG_EVENT_SPECS;
const upperMethod: string = ROOT_SPECS[0]!.method + upperSpecs.length;
// @ts-expect-error a spec's method is a string, not a number
const notNumber: number = AUDIT_LOG_EVENT_SPECS[0]!.method;

const specs: ReadonlyArray<EventSpec> = audit_log_event_specs;
const older: SseEventSpec = specs[0]!;
const validated = create_validated_broadcaster(registry, [...specs], log);
validated.broadcast("audit_log", { method: "login", params: event });
const parsed = AuditLogEventJson.safeParse(event);
if (parsed.success) {
  const e: AuditLogEvent = parsed.data;
}
const hex: string = hash_blake3(new Uint8Array([1, 2]));
const node = create_sse_node_stream<string>(res, log);
node.send("x");
const d = guard_decision(event, "admin");
if (d !== null) {
  const k: "session" | "account" = d.kind;
}
const c: ": connected\n\n" = SSE_CONNECTED_COMMENT;
const same: string = C2;
type S = Subscriber<SseNotification>;
void [n, r, closed, size, has, older, hex, c, same, NotHere];
