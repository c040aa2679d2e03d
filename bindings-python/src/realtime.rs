//! fuz_app's realtime (SSE) auth guard for Python (`authcore.realtime`): a thin binding of
//! `authcore::realtime` (spec `fuz-app.md`). The registry, the guard, the audit-log SSE and
//! the wire bytes are the core's; this file only adapts Python objects to its traits.
//!
//! - **Streams.** The registry holds `Arc<dyn SseStream<PyData>>`: either the core's
//!   [`rt::MemorySseStream`] (the `MemorySseStream` class here; no interpreter round trip
//!   per send) or a [`HostStream`] over any Python object with `send(data)` and `close()`
//!   (plus `comment(text)` / `on_close(fn)` when it has them). A host stream's methods are
//!   called with the GIL (`lifecycle::attach`, a re-entry of the GIL the caller holds, which
//!   is always the case: every registry call comes from Python, through [`entry`]).
//! - **Payloads.** [`PyData`] carries the very Python object given to `broadcast`, so a
//!   host stream's `send` receives that object (identity kept); a memory stream serialises
//!   it once per broadcast (`JSON.stringify` semantics: `convert::json_value` into the
//!   core's `JsValue`, then the core's writer), cached for the other memory streams.
//! - **Exceptions from host code** (a stream's `send`/`close`, an `on_close` listener) are
//!   turned into the core's `RealtimeError` (`"<Type>: <message>"`), so the core isolates
//!   and logs them with its own lines (`SubscriberRegistry: send failed: …`,
//!   `SubscriberRegistry: close failed: …`, `on_close listener threw: …`): the broadcast
//!   goes on and a failed close still removes its record. A `BaseException` that is not an
//!   `Exception` (`KeyboardInterrupt`, `SystemExit`) is isolated the same way **and**
//!   re-raised by the Python call that was running once the core returns
//!   ([`DEFERRED`], [`entry`]), so Ctrl-C is never swallowed.
//! - **Locks.** The core never holds its registry or stream mutex while calling a stream,
//!   a listener or the logger, and nothing here takes the GIL while holding one of them,
//!   so the GIL and the core's mutexes cannot deadlock; re-entering the registry from
//!   `send`/`close`/`on_close` (e.g. `on_close(unsubscribe)` during `close_by_identity`) is
//!   safe. Python objects the core drops are released after its locks.
//! - **Logger.** Any object with `info`, `error` and `warning` (or fuz_app's `warn`): a
//!   `logging.Logger` or a fuz_app-style logger; `None` means
//!   `logging.getLogger("authcore.realtime")`, so an isolated failure is never silent.
//!   Whatever the logger raises is reported through `sys.unraisablehook`.
//! - **Panics** never reach the interpreter: every entry point runs in [`entry`]
//!   (`RealtimeError(code="INTERNAL_ERROR")`), the async drain in `CatchUnwind`.
//! - **The async drain** (`MemorySseStream.next_chunk()`, `async for`) awaits the core's
//!   `next_chunk` on the shared tokio runtime without the GIL.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, OnceLock};

use authcore::realtime::{self as rt, JsValue, Logger, RealtimeError, SseJson, SseStreamControl};
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyCFunction, PyDict, PyFrozenSet, PyInt, PyMapping, PyString,
    PyTuple, PyType,
};

use crate::convert::{self, type_name};
use crate::errors::CatchUnwind;

/// The Python facade: exception classes (raised through `authcore.errors`), `AuditLogEvent`, `_drain`.
const MODULE: &str = "authcore.realtime";

/// What a registry holds: a memory stream or a host stream, payloads carried as [`PyData`].
type DynStream = dyn rt::SseStream<PyData>;
type Registry = rt::SubscriberRegistry<DynStream>;
/// `(channels, scope, groups)` of a stored subscriber.
type SubscriberTuple = (Option<Vec<String>>, Option<String>, Option<Vec<String>>);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("AUDIT_LOG_CHANNEL", rt::AUDIT_LOG_CHANNEL)?;
    m.add(
        "AUDIT_LOG_SSE_MAX_PER_SCOPE",
        rt::AUDIT_LOG_SSE_MAX_PER_SCOPE,
    )?;
    m.add("SSE_CONNECTED_COMMENT", rt::SSE_CONNECTED_COMMENT)?;
    m.add("DEFAULT_AUDIT_STREAM_ROLE", rt::DEFAULT_AUDIT_STREAM_ROLE)?;
    m.add(
        "DISCONNECT_EVENT_TYPES",
        PyFrozenSet::new(py, rt::DISCONNECT_EVENT_TYPES.iter().copied())?,
    )?;
    m.add(
        "ACCOUNT_REMOVAL_EVENT_TYPES",
        PyFrozenSet::new(py, rt::ACCOUNT_REMOVAL_EVENT_TYPES.iter().copied())?,
    )?;
    m.add(
        "AUDIT_EVENT_TYPES",
        PyTuple::new(py, rt::AUDIT_EVENT_TYPES.iter().copied())?,
    )?;
    m.add(
        "AUDIT_LOG_EVENT_KEYS",
        PyTuple::new(py, rt::AUDIT_LOG_EVENT_KEYS.iter().copied())?,
    )?;
    m.add(
        "SSE_HEADERS",
        PyTuple::new(py, rt::SSE_HEADERS.iter().copied())?,
    )?;
    m.add_function(wrap_pyfunction!(realtime_guard_decision, m)?)?;
    m.add_function(wrap_pyfunction!(realtime_audit_log_event_issues, m)?)?;
    m.add_function(wrap_pyfunction!(realtime_audit_log_event_specs, m)?)?;
    m.add_function(wrap_pyfunction!(realtime_render_data_frame, m)?)?;
    m.add_function(wrap_pyfunction!(realtime_render_comment, m)?)?;
    m.add_function(wrap_pyfunction!(realtime_create_sse_auth_guard, m)?)?;
    m.add_function(wrap_pyfunction!(realtime_create_audit_log_sse, m)?)?;
    m.add_class::<SubscriberRegistry>()?;
    m.add_class::<Subscription>()?;
    m.add_class::<MemorySseStream>()?;
    m.add_class::<SseAuthGuard>()?;
    m.add_class::<AuditLogSse>()?;
    Ok(())
}

// ---------------------------------------------------------------------------------
// Errors, panics and deferred BaseExceptions

/// `RealtimeError` and its subclasses, through the one table of `authcore.errors`.
fn realtime_error(py: Python<'_>, code: &str, message: String, status: u16) -> PyErr {
    crate::errors::raise(py, MODULE, code, message, status, "", None)
}

fn core_err(py: Python<'_>, e: &RealtimeError) -> PyErr {
    realtime_error(py, e.code(), e.to_string(), e.status())
}

thread_local! {
    /// A `BaseException` that is not an `Exception` (`KeyboardInterrupt`, `SystemExit`)
    /// raised by host code the core isolated: re-raised by the running entry point.
    static DEFERRED: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// `"<Type>: <message>"` of an exception raised by host code, for the core's log lines.
/// A non-`Exception` is also kept in [`DEFERRED`].
fn describe(py: Python<'_>, err: PyErr) -> String {
    let message = crate::errors::exception_text(py, &err);
    let value = err.value(py);
    if !value.is_instance_of::<PyException>() {
        DEFERRED.with(|d| {
            let mut d = d.borrow_mut();
            if d.is_none() {
                *d = Some(err);
            }
        });
    }
    message
}

/// Every entry point: a panic becomes the binding's one panic exception
/// ([`crate::errors::guard`]); a deferred `BaseException` from host code is raised once
/// the core has returned.
fn entry<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    // This thread runs Python: the host stream, listener and logger calls the core makes
    // from here re-enter the GIL it holds (`lifecycle::attach`), even during shutdown.
    let result = crate::lifecycle::python_thread(|| crate::errors::guard(f));
    match DEFERRED.with(|d| d.borrow_mut().take()) {
        Some(fatal) => Err(fatal),
        None => result,
    }
}

fn shutting_down() -> String {
    "the Python interpreter is shutting down".to_owned()
}

// ---------------------------------------------------------------------------------
// Arguments

fn type_err(msg: String) -> PyErr {
    PyTypeError::new_err(msg)
}

/// A `str` without lone surrogates (a lone surrogate could not equal any identity the
/// core compares, and replacing it would make two different strings equal).
fn text_arg(v: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let s = v
        .cast::<PyString>()
        .map_err(|_| type_err(format!("{what} must be a str, got {}", type_name(v))))?;
    s.to_str()
        .map(str::to_owned)
        .map_err(|_| PyValueError::new_err(format!("{what} must not contain lone surrogates")))
}

fn opt_text(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<String>> {
    match v {
        Some(v) if !v.is_none() => text_arg(v, what).map(Some),
        _ => Ok(None),
    }
}

/// A list (any iterable but `str`/`bytes`) of `str`; `None` stays `None`.
fn opt_text_list(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Vec<String>>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let bad = || {
        type_err(format!(
            "{what} must be a list of str, got {}",
            type_name(v)
        ))
    };
    if v.is_instance_of::<PyString>()
        || v.is_instance_of::<PyBytes>()
        || v.is_instance_of::<PyByteArray>()
    {
        return Err(bad());
    }
    let iter = v.try_iter().map_err(|_| bad())?;
    let mut out = Vec::new();
    for (i, item) in iter.enumerate() {
        out.push(text_arg(&item?, &format!("{what}[{i}]"))?);
    }
    Ok(Some(out))
}

/// `max_per_scope`: `None` (no cap) or an `int`, kept as given (`<= 0` acts as 1, like the
/// original); ints beyond 64 bits saturate.
fn max_per_scope_arg(v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<i64>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if v.is_instance_of::<PyBool>() || !v.is_instance_of::<PyInt>() {
        return Err(type_err(format!(
            "max_per_scope must be an int or None, got {}",
            type_name(v)
        )));
    }
    match v.extract::<i64>() {
        Ok(n) => Ok(Some(n)),
        Err(_) => Ok(Some(if v.gt(0)? { i64::MAX } else { i64::MIN })),
    }
}

fn flag(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<bool> {
    match v {
        None => Ok(false),
        Some(b) => b
            .cast::<PyBool>()
            .map(|b| b.is_true())
            .map_err(|_| type_err(format!("{what} must be a bool, got {}", type_name(b)))),
    }
}

fn audit_event_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static T: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    T.import(py, MODULE, "AuditLogEvent")
}

/// An audit event as given (a `dict`, any mapping, or an `authcore.realtime.AuditLogEvent`)
/// → the Python dict that is broadcast as `params`, and its value for the guard.
fn event_arg<'py>(v: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, JsValue)> {
    let py = v.py();
    let dict = if v.is_instance_of::<PyDict>() {
        v.clone()
    } else if v.is_instance(audit_event_class(py)?)? {
        v.call_method0("to_dict")?
    } else if v.cast::<PyMapping>().is_ok() {
        py.get_type::<PyDict>().call1((v,))?
    } else {
        return Err(type_err(format!(
            "event must be a dict or an AuditLogEvent, got {}",
            type_name(v)
        )));
    };
    let value = convert::json_value(&dict).map_err(|e| type_err(format!("event: {e}")))?;
    Ok((dict, value))
}

/// An audit event as Python holds it, for the core's one dispatch: `params` is the dict
/// the streams receive (the same object to each), `value` its reading as the core's
/// value model.
struct PyAuditEvent<'py> {
    params: Bound<'py, PyAny>,
    value: JsValue,
}

impl rt::HostAuditEvent for PyAuditEvent<'_> {
    type Notification = PyData;
    fn view(&self) -> Result<JsValue, RealtimeError> {
        Ok(self.value.clone())
    }
    fn notification(&self, _method: &str) -> Result<PyData, RealtimeError> {
        let py = self.params.py();
        let host = |e: PyErr| RealtimeError::Host(crate::errors::exception_text(py, &e));
        let notification = PyDict::new(py);
        notification
            .set_item("method", self.params.get_item("event_type").map_err(host)?)
            .map_err(host)?;
        notification
            .set_item("params", &self.params)
            .map_err(host)?;
        Ok(PyData::new(notification.into_any().unbind()))
    }
}

// ---------------------------------------------------------------------------------
// Logger over a Python object

/// `{info, warn, error}` over a Python logger (`info`, `warning` or `warn`, `error`).
struct PyLogger {
    obj: Py<PyAny>,
    warn: &'static str,
}

impl PyLogger {
    fn emit(&self, method: &str, msg: &str) {
        let _ = crate::lifecycle::attach(|py| {
            let obj = self.obj.bind(py);
            if let Err(e) = obj.call_method1(method, (msg,)) {
                if e.value(py).is_instance_of::<PyException>() {
                    e.write_unraisable(py, Some(obj));
                } else {
                    describe(py, e);
                }
            }
        });
    }
}

impl Logger for PyLogger {
    fn info(&self, msg: &str) {
        self.emit("info", msg);
    }
    fn warn(&self, msg: &str) {
        self.emit(self.warn, msg);
    }
    fn error(&self, msg: &str) {
        self.emit("error", msg);
    }
}

fn default_logger(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    py.import("logging")?.getattr("getLogger")?.call1((MODULE,))
}

fn callable_attr(obj: &Bound<'_, PyAny>, name: &str) -> bool {
    obj.getattr(name).map(|f| f.is_callable()).unwrap_or(false)
}

/// The logger argument: the core logger and the Python object behind it (the default
/// `logging` logger for `None`).
fn logger_arg<'py>(
    py: Python<'py>,
    log: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Arc<dyn Logger>, Bound<'py, PyAny>)> {
    let obj = match log.filter(|l| !l.is_none()) {
        Some(l) => l.clone(),
        None => default_logger(py)?,
    };
    let warn = if callable_attr(&obj, "warning") {
        "warning"
    } else {
        "warn"
    };
    if !(callable_attr(&obj, "info") && callable_attr(&obj, "error") && callable_attr(&obj, warn)) {
        return Err(type_err(format!(
            "log must have info(msg), warning(msg) (or warn(msg)) and error(msg) methods, got {}",
            type_name(&obj)
        )));
    }
    let core: Arc<dyn Logger> = Arc::new(PyLogger {
        obj: obj.clone().unbind(),
        warn,
    });
    Ok((core, obj))
}

// ---------------------------------------------------------------------------------
// Payloads and host streams

/// What a broadcast carries: the caller's object (handed to host streams as is) and its
/// `JSON.stringify` text, computed at most once (for memory streams).
pub struct PyData {
    obj: Py<PyAny>,
    json: OnceLock<Result<Option<String>, RealtimeError>>,
}

impl PyData {
    fn new(obj: Py<PyAny>) -> Self {
        Self {
            obj,
            json: OnceLock::new(),
        }
    }
}

fn stringify(obj: &Bound<'_, PyAny>) -> Result<Option<String>, RealtimeError> {
    let value = convert::json_value(obj).map_err(|e| RealtimeError::Serialize(e.to_string()))?;
    value.to_json()
}

impl SseJson for PyData {
    fn to_json(&self) -> Result<Option<String>, RealtimeError> {
        self.json
            .get_or_init(|| {
                crate::lifecycle::attach(|py| stringify(self.obj.bind(py)))
                    .unwrap_or_else(|| Err(RealtimeError::Serialize(shutting_down())))
            })
            .clone()
    }
}

/// `SseStream<T>` over a Python object with `send(data)` and `close()`.
struct HostStream {
    obj: Py<PyAny>,
    log: Arc<dyn Logger>,
}

impl HostStream {
    fn call(
        &self,
        f: impl for<'py> FnOnce(&Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>,
    ) -> Result<(), RealtimeError> {
        crate::lifecycle::attach(|py| {
            f(self.obj.bind(py))
                .map(|_| ())
                .map_err(|e| RealtimeError::Stream(describe(py, e)))
        })
        .unwrap_or_else(|| Err(RealtimeError::Stream(shutting_down())))
    }
}

impl rt::SseStream<PyData> for HostStream {
    fn send(&self, data: &PyData) -> Result<(), RealtimeError> {
        self.call(|s| s.call_method1("send", (data.obj.clone_ref(s.py()),)))
    }
}

impl SseStreamControl for HostStream {
    fn comment(&self, text: &str) -> Result<(), RealtimeError> {
        self.call(|s| s.call_method1("comment", (text,)))
    }

    fn close(&self) -> Result<(), RealtimeError> {
        self.call(|s| s.call_method0("close"))
    }

    fn on_close(&self, listener: rt::CloseListener) {
        // The core's listener as a Python callable (run at most once); an `Err` from it is
        // raised as a RealtimeError, so the host stream isolates it like its other listeners.
        let once = Mutex::new(Some(listener));
        let registered = self.call(|s| {
            let py = s.py();
            let f = PyCFunction::new_closure(py, None, None, move |args, _kw| {
                let py = args.py();
                let taken = once.lock().ok().and_then(|mut l| l.take());
                match taken.map(|l| l()) {
                    Some(Err(e)) => Err(core_err(py, &e)),
                    _ => Ok(()),
                }
            })?;
            s.call_method1("on_close", (f,))
        });
        if let Err(e) = registered {
            self.log.error(&format!("SseStream: on_close failed: {e}"));
        }
    }
}

/// A close listener calling a Python callable: an exception becomes the core's
/// `on_close listener threw: <Type>: <message>`.
fn py_listener(f: Py<PyAny>) -> rt::CloseListener {
    Box::new(move || {
        crate::lifecycle::attach(|py| {
            f.bind(py)
                .call0()
                .map(|_| ())
                .map_err(|e| RealtimeError::Listener(describe(py, e)))
        })
        .unwrap_or_else(|| Err(RealtimeError::Listener(shutting_down())))
    })
}

/// A stream argument: the native `MemorySseStream`, or a host object with `send` and `close`.
fn stream_arg(v: &Bound<'_, PyAny>, log: &Arc<dyn Logger>) -> PyResult<Arc<DynStream>> {
    if let Ok(m) = v.cast::<MemorySseStream>() {
        let inner: Arc<DynStream> = m.get().inner.clone();
        return Ok(inner);
    }
    if !(callable_attr(v, "send") && callable_attr(v, "close")) {
        return Err(type_err(format!(
            "stream must have send(data) and close() methods, got {}",
            type_name(v)
        )));
    }
    Ok(Arc::new(HostStream {
        obj: v.clone().unbind(),
        log: Arc::clone(log),
    }))
}

fn subscribe_options(
    channels: Option<&Bound<'_, PyAny>>,
    scope: Option<&Bound<'_, PyAny>>,
    groups: Option<&Bound<'_, PyAny>>,
) -> PyResult<rt::SubscribeOptions> {
    Ok(rt::SubscribeOptions {
        channels: opt_text_list(channels, "channels")?,
        scope: opt_text(scope, "scope")?,
        groups: opt_text_list(groups, "groups")?,
    })
}

// ---------------------------------------------------------------------------------
// SubscriberRegistry, Subscription

/// `SubscriberRegistry(max_per_scope=None, *, log=None)` (§3.1).
#[pyclass(name = "SubscriberRegistry", module = "authcore.realtime", frozen)]
pub struct SubscriberRegistry {
    inner: Registry,
    log_core: Arc<dyn Logger>,
    log: Py<PyAny>,
}

impl SubscriberRegistry {
    fn subscribe_impl(
        &self,
        stream: &Bound<'_, PyAny>,
        channels: Option<&Bound<'_, PyAny>>,
        scope: Option<&Bound<'_, PyAny>>,
        groups: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Subscription> {
        let stream = stream_arg(stream, &self.log_core)?;
        let options = subscribe_options(channels, scope, groups)?;
        Ok(Subscription {
            inner: self.inner.subscribe(stream, options),
        })
    }
}

#[pymethods]
impl SubscriberRegistry {
    #[new]
    #[pyo3(signature = (max_per_scope=None, *, log=None))]
    fn new(
        py: Python<'_>,
        max_per_scope: Option<&Bound<'_, PyAny>>,
        log: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        entry(|| {
            let max = max_per_scope_arg(max_per_scope)?;
            let (log_core, log) = logger_arg(py, log)?;
            Ok(Self {
                inner: Registry::new_with_logger(max, Arc::clone(&log_core)),
                log_core,
                log: log.unbind(),
            })
        })
    }

    /// The number of subscriptions (records).
    #[getter]
    fn count(&self) -> usize {
        self.inner.count()
    }

    #[getter]
    fn max_per_scope(&self) -> Option<i64> {
        self.inner.max_per_scope()
    }

    #[getter]
    fn log(&self, py: Python<'_>) -> Py<PyAny> {
        self.log.clone_ref(py)
    }

    #[pyo3(signature = (stream, channels=None, scope=None, groups=None))]
    fn subscribe(
        &self,
        stream: &Bound<'_, PyAny>,
        channels: Option<&Bound<'_, PyAny>>,
        scope: Option<&Bound<'_, PyAny>>,
        groups: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Subscription> {
        entry(|| self.subscribe_impl(stream, channels, scope, groups))
    }

    fn broadcast(&self, channel: &Bound<'_, PyAny>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        entry(|| {
            let channel = text_arg(channel, "channel")?;
            let data = PyData::new(data.clone().unbind());
            self.inner.broadcast(&channel, &data);
            Ok(())
        })
    }

    fn close_by_identity(&self, id: &Bound<'_, PyAny>) -> PyResult<usize> {
        entry(|| {
            let id = text_arg(id, "id")?;
            Ok(self.inner.close_by_identity(&id))
        })
    }

    fn close_by_scope(&self, scope: &Bound<'_, PyAny>) -> PyResult<usize> {
        entry(|| {
            let scope = text_arg(scope, "scope")?;
            Ok(self.inner.close_by_scope(&scope))
        })
    }

    fn close_by_group(&self, group: &Bound<'_, PyAny>) -> PyResult<usize> {
        entry(|| {
            let group = text_arg(group, "group")?;
            Ok(self.inner.close_by_group(&group))
        })
    }

    /// The stored subscribers in insertion order: `(channels, scope, groups)` after
    /// normalisation (`None` channels = all, `None` groups = none).
    fn subscribers(&self) -> Vec<SubscriberTuple> {
        self.inner
            .subscribers()
            .into_iter()
            .map(|s| (s.channels, s.scope, s.groups))
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "SubscriberRegistry(max_per_scope={}, count={})",
            self.inner
                .max_per_scope()
                .map_or("None".to_owned(), |m| m.to_string()),
            self.inner.count()
        )
    }
}

/// The `unsubscribe` handle: calling it removes this subscription (idempotent) and does
/// not close the stream.
#[pyclass(name = "Subscription", module = "authcore.realtime", frozen)]
pub struct Subscription {
    inner: rt::Subscription,
}

#[pymethods]
impl Subscription {
    fn __call__(&self) -> PyResult<()> {
        entry(|| {
            self.inner.unsubscribe();
            Ok(())
        })
    }

    /// Remove the subscription; `True` when this call removed it.
    fn unsubscribe(&self) -> PyResult<bool> {
        entry(|| Ok(self.inner.unsubscribe()))
    }

    /// Whether the subscription is still in its registry.
    #[getter]
    fn active(&self) -> bool {
        self.inner.is_active()
    }

    fn __repr__(&self) -> String {
        format!("Subscription(active={})", self.inner.is_active())
    }
}

// ---------------------------------------------------------------------------------
// MemorySseStream

fn drain_fn(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static F: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    F.import(py, MODULE, "_drain")
}

/// The ready-made stream: the exact wire bytes of §3.5, drained by the HTTP response.
#[pyclass(name = "MemorySseStream", module = "authcore.realtime", frozen)]
pub struct MemorySseStream {
    inner: Arc<rt::MemorySseStream>,
}

#[pymethods]
impl MemorySseStream {
    #[new]
    #[pyo3(signature = (log=None, *, buffer_limit=None))]
    fn new(
        py: Python<'_>,
        log: Option<&Bound<'_, PyAny>>,
        buffer_limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        entry(|| {
            let (log, _) = logger_arg(py, log)?;
            let mut stream = rt::MemorySseStream::with_logger(log);
            if let Some(limit) = buffer_limit.filter(|b| !b.is_none()) {
                if limit.is_instance_of::<PyBool>() || !limit.is_instance_of::<PyInt>() {
                    return Err(type_err(format!(
                        "buffer_limit must be an int or None, got {}",
                        type_name(limit)
                    )));
                }
                // The core's setting: bytes, 0 = no limit, negative refused. Ints beyond
                // 2**63 are refused as negative ones are.
                let n = limit.extract::<i64>().unwrap_or(-1);
                stream = stream
                    .with_buffer_limit_setting(n as f64)
                    .map_err(|e| PyValueError::new_err(e.to_string()))?;
            }
            Ok(Self {
                inner: Arc::new(stream),
            })
        })
    }

    /// Write `data: <JSON.stringify(data)>\n\n` (a no-op after the close; a value that
    /// cannot be serialised is logged as `send failed to serialize data: …`).
    fn send(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        entry(|| {
            let data = PyData::new(data.clone().unbind());
            rt::SseStream::<PyData>::send(&*self.inner, &data).map_err(|e| core_err(py, &e))
        })
    }

    /// Write `: <text>\n` (one comment line per line of `text`).
    fn comment(&self, py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<()> {
        entry(|| {
            let text = text_arg(text, "text")?;
            self.inner.comment(&text).map_err(|e| core_err(py, &e))
        })
    }

    /// Close (idempotent): the body ends and the `on_close` listeners run once, in order.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        entry(|| self.inner.close().map_err(|e| core_err(py, &e)))
    }

    /// The client went away: the same path as `close()`.
    fn cancel(&self) -> PyResult<()> {
        entry(|| {
            self.inner.cancel();
            Ok(())
        })
    }

    fn on_close(&self, listener: &Bound<'_, PyAny>) -> PyResult<()> {
        entry(|| {
            if !listener.is_callable() {
                return Err(type_err(format!(
                    "on_close listener must be callable, got {}",
                    type_name(listener)
                )));
            }
            self.inner.on_close(py_listener(listener.clone().unbind()));
            Ok(())
        })
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The bytes written and not yet taken, as text.
    #[getter]
    fn body(&self) -> String {
        self.inner.body()
    }

    /// Take the bytes written so far (as text), leaving the buffer empty.
    fn take_body(&self) -> String {
        self.inner.take_body()
    }

    /// An awaitable of the next chunk (`bytes`, everything written since the last one),
    /// or `None` once the stream is closed and drained. Waits without the GIL.
    fn next_chunk<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        entry(|| {
            let stream = Arc::clone(&self.inner);
            crate::lifecycle::future_into_py(
                py,
                CatchUnwind::new(async move { stream.next_chunk().await }),
                |py, out| match out {
                    Ok(Some(c)) => Ok(PyBytes::new(py, c.as_bytes()).into_any().unbind()),
                    Ok(None) => Ok(py.None()),
                    Err(p) => Err(crate::errors::panic_err(py, &*p)),
                },
            )
        })
    }

    /// `async for chunk in stream`: `authcore.realtime._drain(self)`, an async generator
    /// that cancels the stream when the consumer stops (client disconnect).
    fn __aiter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        entry(|| drain_fn(py)?.call1((slf,)))
    }

    fn __repr__(&self) -> String {
        format!("MemorySseStream(closed={})", self.inner.is_closed())
    }
}

// ---------------------------------------------------------------------------------
// Guard and audit-log SSE

/// The guard `create_sse_auth_guard` returns: `guard(event)` closes what the event revokes
/// and returns the number of streams closed.
#[pyclass(name = "SseAuthGuard", module = "authcore.realtime", frozen)]
pub struct SseAuthGuard {
    inner: rt::SseAuthGuard<DynStream>,
}

#[pymethods]
impl SseAuthGuard {
    fn __call__(&self, event: &Bound<'_, PyAny>) -> PyResult<usize> {
        entry(|| {
            let (_, value) = event_arg(event)?;
            Ok(self.inner.handle_js(&value))
        })
    }

    #[getter]
    fn required_role(&self) -> Option<String> {
        self.inner.options().required_role.clone()
    }

    fn __repr__(&self) -> String {
        format!("SseAuthGuard(options={:?})", self.inner.options())
    }
}

/// `AuditLogSse`: `{subscribe, log, on_audit_event, registry}`.
#[pyclass(name = "AuditLogSse", module = "authcore.realtime", frozen)]
pub struct AuditLogSse {
    inner: rt::AuditLogSse<DynStream>,
    registry: Py<SubscriberRegistry>,
    log: Py<PyAny>,
}

#[pymethods]
impl AuditLogSse {
    /// The registry's `subscribe`.
    #[pyo3(signature = (stream, channels=None, scope=None, groups=None))]
    fn subscribe(
        &self,
        stream: &Bound<'_, PyAny>,
        channels: Option<&Bound<'_, PyAny>>,
        scope: Option<&Bound<'_, PyAny>>,
        groups: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Subscription> {
        entry(|| {
            self.registry
                .get()
                .subscribe_impl(stream, channels, scope, groups)
        })
    }

    /// Broadcast `{"method": event["event_type"], "params": event}` on `audit_log` (the
    /// same dict to every host stream), then run the guard. Returns the number closed.
    fn on_audit_event(&self, py: Python<'_>, event: &Bound<'_, PyAny>) -> PyResult<usize> {
        entry(|| {
            let (params, value) = event_arg(event)?;
            let event = PyAuditEvent { params, value };
            let dispatch = self.inner.dispatch(&event).map_err(|e| core_err(py, &e))?;
            Ok(dispatch.closed)
        })
    }

    #[getter]
    fn registry(&self, py: Python<'_>) -> Py<SubscriberRegistry> {
        self.registry.clone_ref(py)
    }

    #[getter]
    fn log(&self, py: Python<'_>) -> Py<PyAny> {
        self.log.clone_ref(py)
    }

    #[getter]
    fn required_role(&self) -> Option<String> {
        self.inner.guard().options().required_role.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "AuditLogSse(required_role={:?}, count={})",
            self.inner.guard().options().required_role,
            self.inner.registry().count()
        )
    }
}

// ---------------------------------------------------------------------------------
// Module functions

fn guard_options(
    required_role: Option<&Bound<'_, PyAny>>,
    what: &str,
    close_on_account_removal: Option<&Bound<'_, PyAny>>,
    namespaced_identities: Option<&Bound<'_, PyAny>>,
) -> PyResult<rt::GuardOptions> {
    Ok(rt::GuardOptions {
        required_role: opt_text(required_role, what)?,
        close_on_account_removal: flag(close_on_account_removal, "close_on_account_removal")?,
        namespaced_identities: flag(namespaced_identities, "namespaced_identities")?,
    })
}

/// What `event` closes under the guard's decision order: `(kind, identity, event_type)`
/// with kind `"session"` or `"account"`, or `None`.
#[pyfunction]
#[pyo3(signature = (event, required_role=None, *, close_on_account_removal=None, namespaced_identities=None))]
fn realtime_guard_decision(
    event: &Bound<'_, PyAny>,
    required_role: Option<&Bound<'_, PyAny>>,
    close_on_account_removal: Option<&Bound<'_, PyAny>>,
    namespaced_identities: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<(&'static str, String, &'static str)>> {
    entry(|| {
        let options = guard_options(
            required_role,
            "required_role",
            close_on_account_removal,
            namespaced_identities,
        )?;
        let (_, value) = event_arg(event)?;
        Ok(options.decide_js(&value).map(|t| {
            let kind = match t.kind {
                rt::IdentityKind::Session => "session",
                rt::IdentityKind::Account => "account",
            };
            (kind, t.identity.into_owned(), t.event_type)
        }))
    })
}

/// The ways `value` is not an `AuditLogEventJson` (empty when it is one). A value that
/// cannot be converted at all gives one issue.
#[pyfunction]
fn realtime_audit_log_event_issues(value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    entry(|| match convert::json_value(value) {
        Ok(v) => Ok(rt::audit_log_event_issues(&v)),
        Err(e) => Ok(vec![e.to_string()]),
    })
}

/// `(method, description, channel)` of each builtin audit event spec, in order.
#[pyfunction]
fn realtime_audit_log_event_specs() -> Vec<(String, String, Option<String>)> {
    rt::audit_log_event_specs()
        .into_iter()
        .map(|s| (s.method, s.description, s.channel))
        .collect()
}

/// The bytes `send(data)` writes: `data: <JSON.stringify(data)>\n\n`.
#[pyfunction]
fn realtime_render_data_frame(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<String> {
    entry(|| {
        let data = PyData::new(data.clone().unbind());
        rt::render_data_frame(&data).map_err(|e| core_err(py, &e))
    })
}

/// The bytes `comment(text)` writes.
#[pyfunction]
fn realtime_render_comment(text: &Bound<'_, PyAny>) -> PyResult<String> {
    entry(|| Ok(rt::render_comment(&text_arg(text, "text")?)))
}

/// `create_sse_auth_guard(registry, required_role, log)`.
#[pyfunction]
#[pyo3(signature = (registry, required_role, log=None, *, close_on_account_removal=None, namespaced_identities=None))]
fn realtime_create_sse_auth_guard(
    py: Python<'_>,
    registry: &Bound<'_, PyAny>,
    required_role: Option<&Bound<'_, PyAny>>,
    log: Option<&Bound<'_, PyAny>>,
    close_on_account_removal: Option<&Bound<'_, PyAny>>,
    namespaced_identities: Option<&Bound<'_, PyAny>>,
) -> PyResult<SseAuthGuard> {
    entry(|| {
        let registry = registry.cast::<SubscriberRegistry>().map_err(|_| {
            type_err(format!(
                "registry must be an authcore.realtime.SubscriberRegistry, got {}",
                type_name(registry)
            ))
        })?;
        let options = guard_options(
            required_role,
            "required_role",
            close_on_account_removal,
            namespaced_identities,
        )?;
        let (log, _) = logger_arg(py, log)?;
        Ok(SseAuthGuard {
            inner: rt::SseAuthGuard::new(registry.get().inner.clone(), options, log),
        })
    })
}

/// `create_audit_log_sse({role, log, max_per_scope})`.
#[pyfunction]
#[pyo3(signature = (*, role=None, log=None, max_per_scope=None, close_on_account_removal=None, namespaced_identities=None))]
fn realtime_create_audit_log_sse(
    py: Python<'_>,
    role: Option<&Bound<'_, PyAny>>,
    log: Option<&Bound<'_, PyAny>>,
    max_per_scope: Option<&Bound<'_, PyAny>>,
    close_on_account_removal: Option<&Bound<'_, PyAny>>,
    namespaced_identities: Option<&Bound<'_, PyAny>>,
) -> PyResult<AuditLogSse> {
    entry(|| {
        let guard = guard_options(
            role,
            "role",
            close_on_account_removal,
            namespaced_identities,
        )?;
        let max = max_per_scope_arg(max_per_scope)?;
        let (log_core, log_obj) = logger_arg(py, log)?;
        let inner = rt::create_audit_log_sse::<DynStream>(
            rt::AuditLogSseOptions {
                role: guard.required_role,
                max_per_scope: max,
                close_on_account_removal: guard.close_on_account_removal,
                namespaced_identities: guard.namespaced_identities,
            },
            Arc::clone(&log_core),
        );
        let registry = Py::new(
            py,
            SubscriberRegistry {
                inner: inner.registry().clone(),
                log_core,
                log: log_obj.clone().unbind(),
            },
        )?;
        Ok(AuditLogSse {
            inner,
            registry,
            log: log_obj.unbind(),
        })
    })
}
