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
//! still removed. Every exported function catches panics (`catch_unwind`), and so do the
//! JS functions this module creates.

use std::cell::{Cell, RefCell};
use std::ffi::CStr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::sync::Arc;
use std::thread::{self, ThreadId};

use authcore::realtime::{
    AUDIT_EVENT_TYPES, AUDIT_LOG_CHANNEL, AUDIT_LOG_SSE_MAX_PER_SCOPE, AuditLogSse,
    AuditLogSseOptions, CloseListener, DEFAULT_AUDIT_STREAM_ROLE, DISCONNECT_EVENT_TYPES,
    GuardOptions, HostAuditEvent, IdentityKind, JsString, JsValue as Value, Logger,
    MemorySseStream, NoopLogger, RealtimeError, SSE_CONNECTED_COMMENT, SSE_HEADERS, SseAuthGuard,
    SseJson, SseStream, SseStreamControl, SubscribeOptions, SubscriberRegistry,
    audit_log_event_issues, audit_log_event_specs, create_audit_log_sse,
    max_per_scope_from_js_number, parse_json,
};
use napi::bindgen_prelude::{Function, Unknown};
use napi::{Env, JsValue, Status, sys};
use napi_derive::napi;

type Result<T> = napi::Result<T>;

// ---------------------------------------------------------------------------------------
// The env of the current call, and references usable only inside it
// ---------------------------------------------------------------------------------------

thread_local! {
    /// The env of the innermost napi call of this module running on this thread (null
    /// outside any call).
    static CURRENT_ENV: Cell<sys::napi_env> = const { Cell::new(ptr::null_mut()) };
    /// References dropped on this thread outside a call, deleted at the next call.
    static DEFERRED: RefCell<Vec<(sys::napi_env, sys::napi_ref)>> = const { RefCell::new(Vec::new()) };
}

/// Marks this thread as inside a napi call of `env` until dropped (restores the outer
/// call's env: calls nest when JS re-enters the module from a callback).
struct EnvScope {
    prev: sys::napi_env,
}

impl EnvScope {
    fn enter(env: &Env) -> Self {
        let raw = env.raw();
        let prev = CURRENT_ENV.with(|c| c.replace(raw));
        release_deferred(raw);
        Self { prev }
    }
}

impl Drop for EnvScope {
    fn drop(&mut self) {
        let prev = self.prev;
        let _ = CURRENT_ENV.try_with(|c| c.set(prev));
    }
}

fn current_env() -> sys::napi_env {
    CURRENT_ENV.try_with(|c| c.get()).unwrap_or(ptr::null_mut())
}

fn release_deferred(env: sys::napi_env) {
    let due: Vec<sys::napi_ref> = DEFERRED.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_empty() {
            return Vec::new();
        }
        let (due, keep): (Vec<_>, Vec<_>) = d.drain(..).partition(|(e, _)| *e == env);
        *d = keep;
        due.into_iter().map(|(_, r)| r).collect()
    });
    for r in due {
        // SAFETY: `r` was created in `env` on this thread, and we are inside a call of
        // `env` on this thread.
        unsafe { sys::napi_delete_reference(env, r) };
    }
}

/// A strong napi reference to a JS value, usable only on its own thread inside a call of
/// its own env (module docs).
struct JsRef {
    env: sys::napi_env,
    raw: sys::napi_ref,
    thread: ThreadId,
}

// SAFETY: the raw handles are dereferenced only by `JsRef::env`'s callers, which get an
// env only on `thread` inside a call of `env`; on every other thread a `JsRef` is only
// moved or dropped, and `Drop` does not touch napi there.
unsafe impl Send for JsRef {}
// SAFETY: as for `Send`; `&JsRef` offers nothing more than the owner does.
unsafe impl Sync for JsRef {}

impl JsRef {
    fn new(env: &Env, value: sys::napi_value) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: called inside a napi call of `env` with a value of that call.
        let status = unsafe { sys::napi_create_reference(env.raw(), value, 1, &mut raw) };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(
                Status::from(status),
                "could not keep a reference to the value",
            ));
        }
        Ok(Self {
            env: env.raw(),
            raw,
            thread: thread::current().id(),
        })
    }

    /// The env to use this reference with, when this thread is its own and is inside a
    /// call of its env.
    fn env(&self) -> Option<sys::napi_env> {
        (thread::current().id() == self.thread && current_env() == self.env).then_some(self.env)
    }

    /// The referenced value (`env` from [`JsRef::env`]).
    fn value(&self, env: sys::napi_env) -> std::result::Result<sys::napi_value, String> {
        let mut v = ptr::null_mut();
        // SAFETY: `env` is this reference's env, inside a call, on its thread.
        let status = unsafe { sys::napi_get_reference_value(env, self.raw, &mut v) };
        if status != sys::Status::napi_ok || v.is_null() {
            return Err("the JavaScript value is no longer available".into());
        }
        Ok(v)
    }
}

impl Drop for JsRef {
    fn drop(&mut self) {
        if thread::current().id() != self.thread {
            // Never touch napi off the JS thread: leak the reference.
            return;
        }
        if current_env() == self.env {
            // SAFETY: inside a call of the reference's env, on its thread.
            unsafe { sys::napi_delete_reference(self.env, self.raw) };
        } else {
            let entry = (self.env, self.raw);
            let _ = DEFERRED.try_with(|d| d.borrow_mut().push(entry));
        }
    }
}

const OFF_THREAD: &str =
    "a JavaScript object was used outside a JavaScript call on its own thread (ignored)";

// ---------------------------------------------------------------------------------------
// Raw JS helpers (all called with the env of the current call)
// ---------------------------------------------------------------------------------------

/// Text of any JS value, as `String(value)` would give it (lossy for lone surrogates).
fn value_text(env: sys::napi_env, v: sys::napi_value) -> String {
    let mut s = ptr::null_mut();
    // SAFETY: env and value of the current call.
    let status = unsafe { sys::napi_coerce_to_string(env, v, &mut s) };
    if status != sys::Status::napi_ok {
        clear_exception(env);
        return "<a value that cannot be converted to a string>".into();
    }
    read_utf8(env, s).unwrap_or_default()
}

fn read_utf8(env: sys::napi_env, s: sys::napi_value) -> Option<String> {
    let mut len = 0usize;
    // SAFETY: env and string value of the current call; a null buffer asks for the length.
    let st = unsafe { sys::napi_get_value_string_utf8(env, s, ptr::null_mut(), 0, &mut len) };
    if st != sys::Status::napi_ok {
        return None;
    }
    let mut buf = vec![0u8; len + 1];
    let mut written = 0usize;
    // SAFETY: `buf` holds len + 1 bytes.
    let st = unsafe {
        sys::napi_get_value_string_utf8(env, s, buf.as_mut_ptr().cast(), len + 1, &mut written)
    };
    if st != sys::Status::napi_ok {
        return None;
    }
    buf.truncate(written);
    String::from_utf8(buf).ok()
}

fn read_utf16(env: sys::napi_env, s: sys::napi_value) -> Option<Vec<u16>> {
    let mut len = 0usize;
    // SAFETY: as `read_utf8`, in UTF-16 code units.
    let st = unsafe { sys::napi_get_value_string_utf16(env, s, ptr::null_mut(), 0, &mut len) };
    if st != sys::Status::napi_ok {
        return None;
    }
    let mut buf = vec![0u16; len + 1];
    let mut written = 0usize;
    // SAFETY: `buf` holds len + 1 units.
    let st = unsafe {
        sys::napi_get_value_string_utf16(env, s, buf.as_mut_ptr(), len + 1, &mut written)
    };
    if st != sys::Status::napi_ok {
        return None;
    }
    buf.truncate(written);
    Some(buf)
}

fn clear_exception(env: sys::napi_env) {
    let mut pending = false;
    // SAFETY: env of the current call.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if pending {
        let mut e = ptr::null_mut();
        // SAFETY: as above.
        unsafe { sys::napi_get_and_clear_last_exception(env, &mut e) };
    }
}

/// `Ok` for `napi_ok`; otherwise the text of the pending exception (cleared), or of the
/// napi status.
fn check(env: sys::napi_env, status: sys::napi_status) -> std::result::Result<(), String> {
    if status == sys::Status::napi_ok {
        return Ok(());
    }
    let mut pending = false;
    // SAFETY: env of the current call.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if pending {
        let mut e = ptr::null_mut();
        // SAFETY: as above; the exception is cleared so JS can be called again.
        unsafe { sys::napi_get_and_clear_last_exception(env, &mut e) };
        return Err(value_text(env, e));
    }
    Err(format!("napi call failed ({})", Status::from(status)))
}

fn type_of(env: sys::napi_env, v: sys::napi_value) -> sys::napi_valuetype {
    let mut t = sys::ValueType::napi_undefined;
    // SAFETY: env and value of the current call.
    unsafe { sys::napi_typeof(env, v, &mut t) };
    t
}

fn get_prop(
    env: sys::napi_env,
    obj: sys::napi_value,
    name: &CStr,
) -> std::result::Result<sys::napi_value, String> {
    let mut v = ptr::null_mut();
    // SAFETY: env and value of the current call; `name` is NUL-terminated.
    check(env, unsafe {
        sys::napi_get_named_property(env, obj, name.as_ptr(), &mut v)
    })?;
    Ok(v)
}

fn call_fn(
    env: sys::napi_env,
    this: sys::napi_value,
    f: sys::napi_value,
    args: &[sys::napi_value],
) -> std::result::Result<sys::napi_value, String> {
    let mut out = ptr::null_mut();
    // SAFETY: env and values of the current call; `args` outlives the call.
    check(env, unsafe {
        sys::napi_call_function(env, this, f, args.len(), args.as_ptr(), &mut out)
    })?;
    Ok(out)
}

/// `obj[name](...args)` with `this = obj`; a missing method is the `TypeError` JS gives.
fn call_method(
    env: sys::napi_env,
    obj: sys::napi_value,
    what: &str,
    name: &CStr,
    args: &[sys::napi_value],
) -> std::result::Result<sys::napi_value, String> {
    let f = get_prop(env, obj, name)?;
    if type_of(env, f) != sys::ValueType::napi_function {
        return Err(format!(
            "TypeError: {what}.{} is not a function",
            name.to_string_lossy()
        ));
    }
    call_fn(env, obj, f, args)
}

fn js_string(env: sys::napi_env, s: &str) -> std::result::Result<sys::napi_value, String> {
    let mut v = ptr::null_mut();
    // SAFETY: env of the current call; `s` is valid UTF-8 of the given length.
    check(env, unsafe {
        sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut v)
    })?;
    Ok(v)
}

fn undefined(env: sys::napi_env) -> sys::napi_value {
    let mut v = ptr::null_mut();
    // SAFETY: env of the current call.
    unsafe { sys::napi_get_undefined(env, &mut v) };
    v
}

fn to_napi_err(msg: String) -> napi::Error {
    napi::Error::new(Status::GenericFailure, msg)
}

/// A JS function running `f` inside an [`EnvScope`], panics caught.
fn make_function<'env, F>(env: &'env Env, name: &str, f: F) -> Result<Function<'env, (), ()>>
where
    F: Fn(&Env) -> Result<()> + 'static,
{
    env.create_function_from_closure(name, move |ctx| {
        let _scope = EnvScope::enter(ctx.env);
        match catch_unwind(AssertUnwindSafe(|| f(ctx.env))) {
            Ok(r) => r,
            Err(_) => Err(napi::Error::new(
                Status::GenericFailure,
                "internal error (panic caught at the FFI boundary)",
            )),
        }
    })
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

fn js_string_utf16(
    env: sys::napi_env,
    units: &[u16],
) -> std::result::Result<sys::napi_value, String> {
    let mut v = ptr::null_mut();
    // SAFETY: env of the current call; `units` holds the given number of code units.
    check(env, unsafe {
        sys::napi_create_string_utf16(env, units.as_ptr(), units.len() as isize, &mut v)
    })?;
    Ok(v)
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
        _ => Err(napi::Error::new(
            Status::InvalidArg,
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
            let mut global = ptr::null_mut();
            // SAFETY: env of the current call.
            check(env, unsafe { sys::napi_get_global(env, &mut global) })?;
            let json = get_prop(env, global, c"JSON")?;
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
    move |e| crate::error::coded(env, e.code(), e.status(), &format!("{}: {e}", e.code()))
}

// ---------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------

#[napi(object)]
pub struct RealtimeEventSpec {
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
    pub audit_log_event_specs: Vec<RealtimeEventSpec>,
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
            .map(|s| RealtimeEventSpec {
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

type Registry = SubscriberRegistry<JsStream>;

/// `max_per_scope` as the core reads a JS number (`NaN` refused: it would disable the cap).
fn max_per_scope(env: &Env, max: Option<f64>) -> Result<Option<i64>> {
    match max {
        None => Ok(None),
        Some(m) => max_per_scope_from_js_number(m).map_err(realtime_err(env)),
    }
}

#[napi(object)]
pub struct RealtimeBroadcastReport {
    pub delivered: u32,
    pub failed: u32,
}

#[napi(object)]
pub struct RealtimeSubscriberInfo {
    pub channels: Option<Vec<String>>,
    pub scope: Option<String>,
    pub groups: Option<Vec<String>>,
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `SubscriberRegistry` (§3.1) over host stream objects.
#[napi]
pub struct RealtimeSubscriberRegistry {
    inner: Registry,
}

#[napi]
impl RealtimeSubscriberRegistry {
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
                return Err(napi::Error::new(
                    Status::InvalidArg,
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
    ) -> Result<RealtimeBroadcastReport> {
        let _scope = EnvScope::enter(&env);
        let r = self.inner.broadcast(&channel, &JsArg(data.raw()));
        Ok(RealtimeBroadcastReport {
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
    pub fn subscribers(&self) -> Vec<RealtimeSubscriberInfo> {
        self.inner
            .subscribers()
            .into_iter()
            .map(|s| RealtimeSubscriberInfo {
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
            return Err(napi::Error::new(
                Status::InvalidArg,
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
            let mut obj = ptr::null_mut();
            // SAFETY: env and values of the current call.
            check(raw, unsafe { sys::napi_create_object(raw, &mut obj) })?;
            check(raw, unsafe {
                sys::napi_set_named_property(raw, obj, c"method".as_ptr(), method)
            })?;
            check(raw, unsafe {
                sys::napi_set_named_property(raw, obj, c"params".as_ptr(), self.event)
            })?;
            Ok(JsArg(obj))
        })()
        .map_err(RealtimeError::Host)
    }
}

#[napi(object)]
pub struct RealtimeGuardTarget {
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
) -> Result<Option<RealtimeGuardTarget>> {
    let _scope = EnvScope::enter(&env);
    let view = event_view(&env, event.raw())?;
    let options = guard_options(
        required_role,
        close_on_account_removal,
        namespaced_identities,
    );
    Ok(options.decide_js(&view).map(|t| RealtimeGuardTarget {
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
pub struct RealtimeSseAuthGuard {
    inner: SseAuthGuard<JsStream>,
}

#[napi]
impl RealtimeSseAuthGuard {
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "registry: RealtimeSubscriberRegistry, requiredRole: string | null, log?: object | null, closeOnAccountRemoval?: boolean | null, namespacedIdentities?: boolean | null"
    )]
    pub fn new(
        env: Env,
        registry: &RealtimeSubscriberRegistry,
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
            inner: SseAuthGuard::new(registry.inner.clone(), options, logger_of(&env, log)?),
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
pub struct RealtimeAuditDispatch {
    pub delivered: u32,
    pub failed: u32,
    pub closed: u32,
}

/// `create_audit_log_sse({role, log, max_per_scope})` (§3.3): registry + guard.
#[napi]
pub struct RealtimeAuditLogSse {
    inner: AuditLogSse<JsStream>,
}

#[napi]
impl RealtimeAuditLogSse {
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
    pub fn registry(&self) -> RealtimeSubscriberRegistry {
        RealtimeSubscriberRegistry {
            inner: self.inner.registry().clone(),
        }
    }

    /// `on_audit_event(e)`: broadcast `{method: e.event_type, params: e}` (a new object
    /// holding `e` itself) on `audit_log`, then run the guard (always, §6.6).
    #[napi(catch_unwind, ts_args_type = "event: object")]
    pub fn on_audit_event(&self, env: Env, event: Unknown<'_>) -> Result<RealtimeAuditDispatch> {
        let _scope = EnvScope::enter(&env);
        let raw = env.raw();
        let e = event.raw();
        match type_of(raw, e) {
            sys::ValueType::napi_object | sys::ValueType::napi_function => {}
            _ => {
                return Err(napi::Error::new(
                    Status::InvalidArg,
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
        Ok(RealtimeAuditDispatch {
            delivered: count_u32(dispatch.broadcast.delivered),
            failed: count_u32(dispatch.broadcast.failed),
            closed: count_u32(dispatch.closed),
        })
    }
}

// ---------------------------------------------------------------------------------------
// The ready-made stream (core MemorySseStream: the §3.5 wire bytes)
// ---------------------------------------------------------------------------------------

/// An SSE stream writing the exact bytes of §3.5 into a buffer the JS layer drains into
/// the HTTP body (`takeBody`): `: connected\n\n` first, `data: <JSON.stringify>\n\n`,
/// `: <text>\n`, idempotent close, `on_close` listeners once each in order, isolated.
#[napi]
pub struct RealtimeSseStream {
    inner: Arc<MemorySseStream>,
}

#[napi]
impl RealtimeSseStream {
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
        let mut stream = MemorySseStream::with_logger(logger_of(&env, log)?);
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
            return Err(napi::Error::new(
                Status::InvalidArg,
                "on_close expects a function",
            ));
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
