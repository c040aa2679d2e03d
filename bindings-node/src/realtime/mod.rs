//! fuz_app's realtime SSE auth guard (`@authcore/fuz-app-realtime`) over
//! `authcore::realtime`: the subscriber registry, the guard, the audit-log SSE and the
//! ready-made stream with the §3.5 wire bytes. Conversion and error mapping only; every
//! decision (channel matching, the scope cap, close-then-remove, the guard's order, the
//! log lines, the frames) is the core's.
//!
//! # Host streams
//!
//! A JS stream (`{send, comment, close, on_close}`, fuz_app's `SseStream<T>`) enters the
//! core as a [`JsStream`]: a napi reference to the object, implementing the core's
//! `SseStreamControl` and `SseStream<JsArg>`. `broadcast(channel, data)` hands the core a
//! [`JsArg`] (the `napi_value` of `data`, valid for the duration of that call), so each
//! stream's `send` receives the very object the caller broadcast. Methods are looked up
//! at call time, like `subscriber.stream.send(data)`.
//!
//! Soundness: every call from the core into JS happens synchronously inside a napi call
//! of this module (every registry, guard and stream operation is a JS call). Each entry
//! point records its `napi_env` in a thread-local ([`EnvScope`], nesting-safe), and a
//! [`JsRef`] only touches napi when it runs on the thread that created it **and** that
//! thread is inside a call of the same env. Anywhere else (another thread, outside a
//! call) a stream call returns `RealtimeError::Stream`/`Listener` and a logger call is
//! dropped; nothing panics and no napi function runs off its thread. That is what makes
//! the `unsafe impl Send + Sync` of [`JsRef`] sound: the handles are only moved, never
//! used, elsewhere. A reference dropped outside a call on its own thread (a GC finalizer)
//! is queued and deleted at the thread's next call; one dropped on another thread is
//! leaked, never touched (this binding never moves them to other threads).
//!
//! JS exceptions thrown by host methods are caught and become `RealtimeError`s, so the
//! core's isolation applies: a throwing `send` is logged (`SubscriberRegistry: send
//! failed: …`) and the broadcast goes on; a throwing `close` is logged and the record is
//! still removed. Every exported function catches panics (`crate::error::guard`), and so do the
//! JS functions this module creates.

use std::cell::RefCell;
use std::ffi::CStr;
use std::sync::Arc;

use authcore::realtime::{
    self as core, AUDIT_EVENT_TYPES, AUDIT_LOG_CHANNEL, AUDIT_LOG_SSE_MAX_PER_SCOPE,
    AuditLogSseOptions, CloseListener, DEFAULT_AUDIT_STREAM_ROLE, DISCONNECT_EVENT_TYPES,
    GuardOptions, HostAuditEvent, IdentityKind, JsString, JsValue as Value, Logger, NoopLogger,
    RealtimeError, SSE_CONNECTED_COMMENT, SSE_HEADERS, SseJson, SseStream, SseStreamControl,
    SubscribeOptions, audit_log_event_issues, audit_log_event_specs, create_audit_log_sse,
    max_per_scope_from_js_number, parse_json,
};
use authcore_node_boundary::napi;
use napi::bindgen_prelude::{Function, Unknown};
use napi::{Env, JsValue, sys};

mod raw;

use raw::{
    EnvScope, JsRef, OFF_THREAD, call_fn, call_method, get_prop, global, js_string,
    js_string_utf16, make_function, object_of, read_utf8, read_utf16, to_napi_err, type_of,
    undefined,
};

type Result<T> = napi::Result<T>;

/// An argument the original would refuse: the binding's `INVALID_ARGUMENT` error.
fn invalid_argument(env: &Env, message: &str) -> napi::Error {
    crate::error::to_js(env, crate::error::AuthErr::invalid_argument(message))
}

// ---------------------------------------------------------------------------------------
// Host objects: streams, loggers, close listeners
// ---------------------------------------------------------------------------------------

/// The `data` of one `broadcast` call, valid for that call only.
pub struct JsArg(sys::napi_value);

/// A host stream object (`SseStream<T>` of fuz_app) in the core's registry.
pub struct JsStream {
    obj: JsRef,
}

impl JsStream {
    fn call(
        &self,
        name: &CStr,
        arg: impl FnOnce(sys::napi_env) -> std::result::Result<Option<sys::napi_value>, String>,
    ) -> std::result::Result<(), RealtimeError> {
        let env = self
            .obj
            .env()
            .ok_or_else(|| RealtimeError::Stream(OFF_THREAD.into()))?;
        let run = || -> std::result::Result<(), String> {
            let obj = self.obj.value(env)?;
            let args: Vec<sys::napi_value> = arg(env)?.into_iter().collect();
            call_method(env, obj, "stream", name, &args).map(|_| ())
        };
        run().map_err(RealtimeError::Stream)
    }
}

impl SseStreamControl for JsStream {
    fn comment(&self, text: &str) -> std::result::Result<(), RealtimeError> {
        self.call(c"comment", |env| js_string(env, text).map(Some))
    }

    fn close(&self) -> std::result::Result<(), RealtimeError> {
        self.call(c"close", |_| Ok(None))
    }

    fn on_close(&self, listener: CloseListener) {
        // The core never registers listeners itself; kept for the trait's contract. When
        // the stream cannot be reached the listener is dropped unrun.
        let Some(raw_env) = self.obj.env() else {
            return;
        };
        let env = Env::from_raw(raw_env);
        let slot = RefCell::new(Some(listener));
        let f = make_function(&env, "on_close_listener", move |_env| {
            let Some(listener) = slot.borrow_mut().take() else {
                return Ok(());
            };
            listener().map_err(|e| to_napi_err(e.to_string()))
        });
        if let (Ok(f), Ok(obj)) = (f, self.obj.value(raw_env)) {
            let _ = call_method(raw_env, obj, "stream", c"on_close", &[f.raw()]);
        }
    }
}

impl SseStream<JsArg> for JsStream {
    fn send(&self, data: &JsArg) -> std::result::Result<(), RealtimeError> {
        self.call(c"send", |_| Ok(Some(data.0)))
    }
}

// ---------------------------------------------------------------------------------------
// Identities with lone surrogates
// ---------------------------------------------------------------------------------------
//
// A JS string may hold lone surrogates; a Rust `String` cannot. Identities, channels and
// roles (everything the registry and the guard compare) cross in an injective escape so
// that two JS strings are equal exactly when their crossings are: U+FDD0 (a noncharacter)
// is written twice, a lone surrogate as U+FDD0 and its four lowercase hex digits, anything
// else as is. Well-formed strings without U+FDD0 (all real identities) cross unchanged.
// The JS layer (`lib/index.cjs` `crossing`) applies the same escape to the arguments;
// the guard's info lines, which quote identities, are unescaped before the logger sees
// them.

const ESCAPE: char = '\u{FDD0}';

/// The crossing of a JS string given as UTF-16 code units.
fn identity_from_utf16(units: &[u16]) -> String {
    let mut out = String::with_capacity(units.len());
    for r in char::decode_utf16(units.iter().copied()) {
        match r {
            Ok(ESCAPE) => {
                out.push(ESCAPE);
                out.push(ESCAPE);
            }
            Ok(c) => out.push(c),
            Err(e) => {
                out.push(ESCAPE);
                out.push_str(&format!("{:04x}", e.unpaired_surrogate()));
            }
        }
    }
    out
}

/// The UTF-16 of a text holding crossings (an escape that is not one is kept as is).
fn identity_to_utf16(s: &str) -> Vec<u16> {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c == ESCAPE {
            if let Some(r) = rest.strip_prefix(ESCAPE) {
                out.push(0xFDD0);
                rest = r;
                continue;
            }
            if let Some(unit) = rest
                .get(..4)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u16::from_str_radix(h, 16).ok())
                .filter(|u| (0xD800..=0xDFFF).contains(u))
            {
                out.push(unit);
                rest = &rest[4..];
                continue;
            }
        }
        let mut buf = [0u16; 2];
        out.extend_from_slice(c.encode_utf16(&mut buf));
    }
    out
}

/// fuz_app's `Logger` (any object with `info`/`warn`/`error`), called synchronously with
/// one formatted line. A missing method, a throw or a call outside a JS call is ignored.
struct JsLogger {
    obj: JsRef,
}

impl JsLogger {
    fn line(&self, level: &CStr, msg: &str) {
        let Some(env) = self.obj.env() else { return };
        let Ok(obj) = self.obj.value(env) else { return };
        let Ok(f) = get_prop(env, obj, level) else {
            return;
        };
        if type_of(env, f) != sys::ValueType::napi_function {
            return;
        }
        // Info lines are the guard's, which quote identities as they crossed.
        let text = if level == c"info" && msg.contains(ESCAPE) {
            js_string_utf16(env, &identity_to_utf16(msg))
        } else {
            js_string(env, msg)
        };
        if let Ok(text) = text {
            let _ = call_fn(env, obj, f, &[text]);
        }
    }
}

impl Logger for JsLogger {
    fn info(&self, msg: &str) {
        self.line(c"info", msg);
    }
    fn warn(&self, msg: &str) {
        self.line(c"warn", msg);
    }
    fn error(&self, msg: &str) {
        self.line(c"error", msg);
    }
}

/// The logger argument: an object (or function) with the level methods, or none.
fn logger_of(env: &Env, log: Option<Unknown<'_>>) -> Result<Arc<dyn Logger>> {
    let Some(log) = log else {
        return Ok(Arc::new(NoopLogger));
    };
    match type_of(env.raw(), log.raw()) {
        sys::ValueType::napi_undefined | sys::ValueType::napi_null => Ok(Arc::new(NoopLogger)),
        sys::ValueType::napi_object | sys::ValueType::napi_function => Ok(Arc::new(JsLogger {
            obj: JsRef::new(env, log.raw())?,
        })),
        _ => Err(invalid_argument(
            env,
            "log must be a logger object (info, warn, error)",
        )),
    }
}

/// A JS `on_close` listener as the core's [`CloseListener`]: called with no arguments,
/// a throw becomes `RealtimeError::Listener` (logged by the stream, siblings still run).
fn close_listener(env: &Env, f: sys::napi_value) -> Result<CloseListener> {
    let f = JsRef::new(env, f)?;
    Ok(Box::new(move || {
        let env = f
            .env()
            .ok_or_else(|| RealtimeError::Listener(OFF_THREAD.into()))?;
        let func = f.value(env).map_err(RealtimeError::Listener)?;
        call_fn(env, undefined(env), func, &[])
            .map(|_| ())
            .map_err(RealtimeError::Listener)
    }))
}

/// `JSON.stringify(value)` of the JS value itself (the engine's own, as the original's
/// host stream does), for the ready-made stream.
struct JsJson {
    env: sys::napi_env,
    value: sys::napi_value,
}

impl SseJson for JsJson {
    fn to_json(&self) -> std::result::Result<Option<String>, RealtimeError> {
        let env = self.env;
        let run = || -> std::result::Result<Option<String>, String> {
            let json = get_prop(env, global(env)?, c"JSON")?;
            let out = call_method(env, json, "JSON", c"stringify", &[self.value])?;
            match type_of(env, out) {
                sys::ValueType::napi_undefined => Ok(None),
                sys::ValueType::napi_string => read_utf8(env, out)
                    .map(Some)
                    .ok_or_else(|| "JSON.stringify returned an unreadable string".into()),
                _ => Err("JSON.stringify did not return a string".into()),
            }
        };
        run().map_err(RealtimeError::Serialize)
    }
}

/// The realtime errors through the binding's one mapping (`err.code` = the core's code,
/// `err.status`; the message keeps its `CODE: ` prefix).
fn realtime_err(env: &Env) -> impl Fn(RealtimeError) -> napi::Error + '_ {
    move |e| {
        crate::error::to_js(
            env,
            crate::error::AuthErr::coded(e.code(), e.status(), format!("{}: {e}", e.code())),
        )
    }
}

// ---------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------

#[napi(object)]
pub struct EventSpec {
    pub method: String,
    pub description: String,
    pub channel: Option<String>,
}

#[napi(object)]
pub struct RealtimeConstants {
    pub audit_log_channel: String,
    pub audit_log_sse_max_per_scope: f64,
    pub sse_connected_comment: String,
    pub default_audit_stream_role: String,
    pub disconnect_event_types: Vec<String>,
    pub audit_event_types: Vec<String>,
    /// `[name, value]` pairs of the SSE response headers.
    pub sse_headers: Vec<Vec<String>>,
    pub audit_log_event_specs: Vec<EventSpec>,
}

/// The realtime constants of fuz_app (`AUDIT_LOG_CHANNEL`, `disconnect_event_types`, ...).
#[napi(catch_unwind)]
pub fn realtime_constants() -> RealtimeConstants {
    RealtimeConstants {
        audit_log_channel: AUDIT_LOG_CHANNEL.into(),
        audit_log_sse_max_per_scope: AUDIT_LOG_SSE_MAX_PER_SCOPE as f64,
        sse_connected_comment: SSE_CONNECTED_COMMENT.into(),
        default_audit_stream_role: DEFAULT_AUDIT_STREAM_ROLE.into(),
        disconnect_event_types: DISCONNECT_EVENT_TYPES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        audit_event_types: AUDIT_EVENT_TYPES.iter().map(|s| s.to_string()).collect(),
        sse_headers: SSE_HEADERS
            .iter()
            .map(|(k, v)| vec![k.to_string(), v.to_string()])
            .collect(),
        audit_log_event_specs: audit_log_event_specs()
            .into_iter()
            .map(|s| EventSpec {
                method: s.method,
                description: s.description,
                channel: s.channel,
            })
            .collect(),
    }
}

/// The ways a value (as JSON text) is not an `AuditLogEventJson` row; empty when it is.
#[napi(catch_unwind)]
pub fn realtime_audit_log_event_issues(json: String) -> Vec<String> {
    match parse_json(&json) {
        Ok(v) => audit_log_event_issues(&v),
        Err(e) => vec![e.to_string()],
    }
}

// ---------------------------------------------------------------------------------------
// SubscriberRegistry
// ---------------------------------------------------------------------------------------

type Registry = core::SubscriberRegistry<JsStream>;

/// `max_per_scope` as the core reads a JS number (`NaN` refused: it would disable the cap).
fn max_per_scope(env: &Env, max: Option<f64>) -> Result<Option<i64>> {
    match max {
        None => Ok(None),
        Some(m) => max_per_scope_from_js_number(m).map_err(realtime_err(env)),
    }
}

#[napi(object)]
pub struct BroadcastReport {
    pub delivered: u32,
    pub failed: u32,
}

#[napi(object)]
pub struct SubscriberInfo {
    pub channels: Option<Vec<String>>,
    pub scope: Option<String>,
    pub groups: Option<Vec<String>>,
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `core::SubscriberRegistry` (§3.1) over host stream objects.
#[napi]
pub struct SubscriberRegistry {
    inner: Registry,
}

#[napi]
impl SubscriberRegistry {
    /// `max_per_scope`: `null`/`undefined` = no cap; a number as the original's loop uses
    /// it. `log` receives isolated `send`/`close` failures.
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "maxPerScope?: number | null, log?: object | null"
    )]
    pub fn new(env: Env, max_per_scope_arg: Option<f64>, log: Option<Unknown<'_>>) -> Result<Self> {
        let _scope = EnvScope::enter(&env);
        Ok(Self {
            inner: Registry::new_with_logger(
                max_per_scope(&env, max_per_scope_arg)?,
                logger_of(&env, log)?,
            ),
        })
    }

    /// `subscribe(stream, {channels, scope, groups})`: returns `unsubscribe()`.
    #[napi(
        catch_unwind,
        ts_args_type = "stream: object, channels?: string[] | null, scope?: string | null, groups?: string[] | null",
        ts_return_type = "() => void"
    )]
    pub fn subscribe<'env>(
        &self,
        env: &'env Env,
        stream: Unknown<'_>,
        channels: Option<Vec<String>>,
        scope: Option<String>,
        groups: Option<Vec<String>>,
    ) -> Result<Function<'env, (), ()>> {
        let _scope = EnvScope::enter(env);
        match type_of(env.raw(), stream.raw()) {
            sys::ValueType::napi_object | sys::ValueType::napi_function => {}
            _ => {
                return Err(invalid_argument(
                    env,
                    "stream must be an object with send(data) and close()",
                ));
            }
        }
        let stream = Arc::new(JsStream {
            obj: JsRef::new(env, stream.raw())?,
        });
        let options = SubscribeOptions {
            channels,
            scope,
            groups,
        };
        let sub = self.inner.subscribe(stream, options);
        make_function(env, "unsubscribe", move |_env| {
            sub.unsubscribe();
            Ok(())
        })
    }

    /// `broadcast(channel, data)`: `send(data)` (the same object) to every matching
    /// subscriber; failures are logged and counted, the loop goes on.
    #[napi(catch_unwind, ts_args_type = "channel: string, data: unknown")]
    pub fn broadcast(
        &self,
        env: Env,
        channel: String,
        data: Unknown<'_>,
    ) -> Result<BroadcastReport> {
        let _scope = EnvScope::enter(&env);
        let r = self.inner.broadcast(&channel, &JsArg(data.raw()));
        Ok(BroadcastReport {
            delivered: count_u32(r.delivered),
            failed: count_u32(r.failed),
        })
    }

    /// `close_by_identity(id)`: close then remove every record whose scope is `id` or
    /// whose groups contain it; the number collected.
    #[napi(catch_unwind)]
    pub fn close_by_identity(&self, env: Env, identity: String) -> u32 {
        let _scope = EnvScope::enter(&env);
        count_u32(self.inner.close_by_identity(&identity))
    }

    /// Close then remove the records whose scope is `id` (groups ignored).
    #[napi(catch_unwind)]
    pub fn close_by_scope(&self, env: Env, scope: String) -> u32 {
        let _scope = EnvScope::enter(&env);
        count_u32(self.inner.close_by_scope(&scope))
    }

    /// Close then remove the records whose groups contain `id` (scope ignored).
    #[napi(catch_unwind)]
    pub fn close_by_group(&self, env: Env, group: String) -> u32 {
        let _scope = EnvScope::enter(&env);
        count_u32(self.inner.close_by_group(&group))
    }

    /// `count`: the number of records.
    #[napi(getter, catch_unwind)]
    pub fn count(&self) -> u32 {
        count_u32(self.inner.count())
    }

    /// The cap given at construction (`null` = none).
    #[napi(getter, catch_unwind)]
    pub fn max_per_scope(&self) -> Option<f64> {
        self.inner.max_per_scope().map(|m| m as f64)
    }

    /// The stored subscribers (normalised options), in insertion order.
    #[napi(catch_unwind)]
    pub fn subscribers(&self) -> Vec<SubscriberInfo> {
        self.inner
            .subscribers()
            .into_iter()
            .map(|s| SubscriberInfo {
                channels: s.channels,
                scope: s.scope,
                groups: s.groups,
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// The guard
// ---------------------------------------------------------------------------------------

/// A property of an event as a leaf of the core's value model: what the guard needs to
/// know of it (a string's exact UTF-16, nullish, or "something else").
fn leaf(env: sys::napi_env, v: sys::napi_value) -> Value {
    match type_of(env, v) {
        sys::ValueType::napi_undefined => Value::Undefined,
        sys::ValueType::napi_null => Value::Null,
        // As it crossed (see `identity_from_utf16`): equal to a registry identity, a
        // channel or the required role exactly when the JS strings are equal.
        sys::ValueType::napi_string => match read_utf16(env, v) {
            Some(units) => Value::String(JsString::from(identity_from_utf16(&units))),
            None => Value::Array(Vec::new()),
        },
        // Numbers, booleans, objects, symbols, bigints: never a stream identity nor
        // `'failure'`; what they are does not change a decision.
        _ => Value::Array(Vec::new()),
    }
}

/// The fields of an audit event the guard reads (`event_type`, `outcome`, `account_id`,
/// `target_account_id`, `metadata?.session_id`, `metadata?.role`), read as JS reads them
/// (getters and prototypes included), as the core's value model.
fn event_view(env: &Env, event: sys::napi_value) -> Result<Value> {
    let raw = env.raw();
    match type_of(raw, event) {
        sys::ValueType::napi_object | sys::ValueType::napi_function => {}
        _ => {
            return Err(invalid_argument(
                env,
                "event must be an audit log event object",
            ));
        }
    }
    let prop = |obj, name: &CStr| get_prop(raw, obj, name).map_err(to_napi_err);
    let mut entries = Vec::with_capacity(5);
    for name in [
        c"event_type",
        c"outcome",
        c"account_id",
        c"target_account_id",
    ] {
        let v = prop(event, name)?;
        entries.push((
            JsString::from(name.to_str().unwrap_or_default()),
            leaf(raw, v),
        ));
    }
    let metadata = prop(event, c"metadata")?;
    let metadata_value = match type_of(raw, metadata) {
        sys::ValueType::napi_object | sys::ValueType::napi_function => {
            let sid = prop(metadata, c"session_id")?;
            let role = prop(metadata, c"role")?;
            Value::Object(vec![
                (JsString::from("session_id"), leaf(raw, sid)),
                (JsString::from("role"), leaf(raw, role)),
            ])
        }
        _ => leaf(raw, metadata),
    };
    entries.push((JsString::from("metadata"), metadata_value));
    Ok(Value::Object(entries))
}

/// An audit event object of the current call, for the core's one dispatch: the guard's
/// view is read with [`event_view`], the notification is `{method, params: e}` with `e`
/// itself as `params`.
struct JsAuditEvent<'a> {
    env: &'a Env,
    event: sys::napi_value,
}

impl HostAuditEvent for JsAuditEvent<'_> {
    type Notification = JsArg;
    fn view(&self) -> std::result::Result<Value, RealtimeError> {
        event_view(self.env, self.event).map_err(|e| RealtimeError::Host(e.reason.clone()))
    }
    fn notification(&self, method: &str) -> std::result::Result<JsArg, RealtimeError> {
        let raw = self.env.raw();
        (|| -> std::result::Result<JsArg, String> {
            let method = js_string(raw, method)?;
            let obj = object_of(raw, &[(c"method", method), (c"params", self.event)])?;
            Ok(JsArg(obj))
        })()
        .map_err(RealtimeError::Host)
    }
}

#[napi(object)]
pub struct GuardTarget {
    /// `session` or `account`.
    pub kind: String,
    pub identity: String,
    pub event_type: String,
}

fn guard_options(
    required_role: Option<String>,
    close_on_account_removal: Option<bool>,
    namespaced_identities: Option<bool>,
) -> GuardOptions {
    GuardOptions {
        required_role,
        close_on_account_removal: close_on_account_removal.unwrap_or(false),
        namespaced_identities: namespaced_identities.unwrap_or(false),
    }
}

/// The guard's decision for an event without closing anything (spec §7 `guard_decision`).
#[napi(
    catch_unwind,
    ts_args_type = "event: object, requiredRole: string | null, closeOnAccountRemoval?: boolean | null, namespacedIdentities?: boolean | null"
)]
pub fn realtime_guard_decision(
    env: Env,
    event: Unknown<'_>,
    required_role: Option<String>,
    close_on_account_removal: Option<bool>,
    namespaced_identities: Option<bool>,
) -> Result<Option<GuardTarget>> {
    let _scope = EnvScope::enter(&env);
    let view = event_view(&env, event.raw())?;
    let options = guard_options(
        required_role,
        close_on_account_removal,
        namespaced_identities,
    );
    Ok(options.decide_js(&view).map(|t| GuardTarget {
        kind: match t.kind {
            IdentityKind::Session => "session".into(),
            IdentityKind::Account => "account".into(),
        },
        identity: t.identity.into_owned(),
        event_type: t.event_type.into(),
    }))
}

/// `create_sse_auth_guard(registry, required_role, log)` (§3.2).
#[napi]
pub struct SseAuthGuard {
    inner: core::SseAuthGuard<JsStream>,
}

#[napi]
impl SseAuthGuard {
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "registry: SubscriberRegistry, requiredRole: string | null, log?: object | null, closeOnAccountRemoval?: boolean | null, namespacedIdentities?: boolean | null"
    )]
    pub fn new(
        env: Env,
        registry: &SubscriberRegistry,
        required_role: Option<String>,
        log: Option<Unknown<'_>>,
        close_on_account_removal: Option<bool>,
        namespaced_identities: Option<bool>,
    ) -> Result<Self> {
        let _scope = EnvScope::enter(&env);
        let options = guard_options(
            required_role,
            close_on_account_removal,
            namespaced_identities,
        );
        Ok(Self {
            inner: core::SseAuthGuard::new(registry.inner.clone(), options, logger_of(&env, log)?),
        })
    }

    /// `guard(event)`: the number of streams closed.
    #[napi(catch_unwind, ts_args_type = "event: object")]
    pub fn handle(&self, env: Env, event: Unknown<'_>) -> Result<u32> {
        let _scope = EnvScope::enter(&env);
        let view = event_view(&env, event.raw())?;
        Ok(count_u32(self.inner.handle_js(&view)))
    }
}

// ---------------------------------------------------------------------------------------
// create_audit_log_sse
// ---------------------------------------------------------------------------------------

#[napi(object)]
pub struct AuditDispatch {
    pub delivered: u32,
    pub failed: u32,
    pub closed: u32,
}

/// `create_audit_log_sse({role, log, max_per_scope})` (§3.3): registry + guard.
#[napi]
pub struct AuditLogSse {
    inner: core::AuditLogSse<JsStream>,
}

#[napi]
impl AuditLogSse {
    /// `role`/`maxPerScope` already resolved by the caller (`null` = none).
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "role: string | null, maxPerScope: number | null, log?: object | null, closeOnAccountRemoval?: boolean | null, namespacedIdentities?: boolean | null"
    )]
    pub fn new(
        env: Env,
        role: Option<String>,
        max_per_scope_arg: Option<f64>,
        log: Option<Unknown<'_>>,
        close_on_account_removal: Option<bool>,
        namespaced_identities: Option<bool>,
    ) -> Result<Self> {
        let _scope = EnvScope::enter(&env);
        let options = AuditLogSseOptions {
            role,
            max_per_scope: max_per_scope(&env, max_per_scope_arg)?,
            close_on_account_removal: close_on_account_removal.unwrap_or(false),
            namespaced_identities: namespaced_identities.unwrap_or(false),
        };
        Ok(Self {
            inner: create_audit_log_sse(options, logger_of(&env, log)?),
        })
    }

    /// The registry (the same records, another handle).
    #[napi(catch_unwind)]
    pub fn registry(&self) -> SubscriberRegistry {
        SubscriberRegistry {
            inner: self.inner.registry().clone(),
        }
    }

    /// `on_audit_event(e)`: broadcast `{method: e.event_type, params: e}` (a new object
    /// holding `e` itself) on `audit_log`, then run the guard (always, §6.6).
    #[napi(catch_unwind, ts_args_type = "event: object")]
    pub fn on_audit_event(&self, env: Env, event: Unknown<'_>) -> Result<AuditDispatch> {
        let _scope = EnvScope::enter(&env);
        let raw = env.raw();
        let e = event.raw();
        match type_of(raw, e) {
            sys::ValueType::napi_object | sys::ValueType::napi_function => {}
            _ => {
                return Err(invalid_argument(
                    &env,
                    "event must be an audit log event object",
                ));
            }
        }
        let dispatch = self
            .inner
            .dispatch(&JsAuditEvent {
                env: &env,
                event: e,
            })
            .map_err(realtime_err(&env))?;
        Ok(AuditDispatch {
            delivered: count_u32(dispatch.broadcast.delivered),
            failed: count_u32(dispatch.broadcast.failed),
            closed: count_u32(dispatch.closed),
        })
    }
}

// ---------------------------------------------------------------------------------------
// The ready-made stream (the core's MemorySseStream: the §3.5 wire bytes)
// ---------------------------------------------------------------------------------------

/// An SSE stream writing the exact bytes of §3.5 into a buffer the JS layer drains into
/// the HTTP body (`takeBody`): `: connected\n\n` first, `data: <JSON.stringify>\n\n`,
/// `: <text>\n`, idempotent close, `on_close` listeners once each in order, isolated.
#[napi]
pub struct MemorySseStream {
    inner: Arc<core::MemorySseStream>,
}

#[napi]
impl MemorySseStream {
    /// `log` receives `send failed to serialize data: …` and `on_close listener threw: …`;
    /// `bufferLimit` (bytes; `null`/`undefined` = the core's default, 1 MiB; `0` = no limit)
    /// closes a stream whose unread body would grow past it (slow-client policy).
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "log?: object | null, bufferLimit?: number | null"
    )]
    pub fn new(env: Env, log: Option<Unknown<'_>>, buffer_limit: Option<f64>) -> Result<Self> {
        let _scope = EnvScope::enter(&env);
        let mut stream = core::MemorySseStream::with_logger(logger_of(&env, log)?);
        if let Some(limit) = buffer_limit {
            stream = stream
                .with_buffer_limit_setting(limit)
                .map_err(realtime_err(&env))?;
        }
        Ok(Self {
            inner: Arc::new(stream),
        })
    }

    /// `send(data)`: `data: ${JSON.stringify(data)}\n\n`; a no-op after the close; a
    /// throwing `JSON.stringify` is logged, not thrown.
    #[napi(catch_unwind, ts_args_type = "data: unknown")]
    pub fn send(&self, env: Env, data: Unknown<'_>) -> Result<()> {
        let _scope = EnvScope::enter(&env);
        let json = JsJson {
            env: env.raw(),
            value: data.raw(),
        };
        self.inner.send(&json).map_err(realtime_err(&env))
    }

    /// `comment(text)`: `: ${text}\n` (one comment line per line of `text`).
    #[napi(catch_unwind)]
    pub fn comment(&self, env: Env, text: String) -> Result<()> {
        let _scope = EnvScope::enter(&env);
        self.inner.comment(&text).map_err(realtime_err(&env))
    }

    /// `close()`: idempotent; the first call runs the listeners.
    #[napi(catch_unwind)]
    pub fn close(&self, env: Env) -> Result<()> {
        let _scope = EnvScope::enter(&env);
        SseStreamControl::close(&*self.inner).map_err(realtime_err(&env))
    }

    /// The client went away: the same path as `close()`.
    #[napi(catch_unwind)]
    pub fn cancel(&self, env: Env) {
        let _scope = EnvScope::enter(&env);
        self.inner.cancel();
    }

    /// `on_close(fn)`: runs once on the close; never when registered after it.
    #[napi(catch_unwind, ts_args_type = "listener: () => unknown")]
    pub fn on_close(&self, env: Env, listener: Unknown<'_>) -> Result<()> {
        let _scope = EnvScope::enter(&env);
        if type_of(env.raw(), listener.raw()) != sys::ValueType::napi_function {
            return Err(invalid_argument(&env, "on_close expects a function"));
        }
        self.inner.on_close(close_listener(&env, listener.raw())?);
        Ok(())
    }

    /// Take the bytes written so far (empty string when none).
    #[napi(catch_unwind)]
    pub fn take_body(&self) -> String {
        self.inner.take_body()
    }

    /// Whether the stream is closed.
    #[napi(getter, catch_unwind)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }
}
