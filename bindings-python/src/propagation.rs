//! Credential propagation for Python (`authcore.propagation`): a thin binding of
//! `authcore::propagation` (wire v1 of `@naskot/node-hmac-auth-core-propagation` 1.0.0).
//!
//! - `propagation_create(...)` converts the options and makes one call,
//!   `authcore::propagation::create::create` (the original's checks, order and messages;
//!   the propagation state, `redis://` / `memory://`; the broker link). It returns an asyncio awaitable of a
//!   [`PyPropagator`] (`_native.Propagator`); `ensure` / `rotate` / `revoke` / `sync` / `close` are awaitables too.
//!   The core works on the shared tokio runtime without the GIL; the GIL is taken only to
//!   build results and exceptions.
//! - `hmac_http_auth` / `hmac_message_auth` are `authcore.hmac` instances (or their
//!   `.clients`): the core `HmacClients` behind them is the [`CredentialSink`].
//! - `management` is any Python object with the 8 snake_case methods ([`PyManagement`]).
//!   Each call runs on tokio's blocking pool with the GIL (a plain function runs there to its
//!   end, so a slow synchronous adapter never stalls a tokio worker). When the result is
//!   awaitable (an `async def`), it is scheduled on the asyncio loop captured when
//!   `create_propagator` was awaited (`call_soon_threadsafe` + `ensure_future`, completion
//!   through `add_done_callback` into a oneshot channel: `lifecycle::into_future`) and
//!   awaited from Rust without the GIL and without blocking a worker.
//! - A Python exception raised by a callback travels through the core as
//!   `CallbackError.payload` (the `PyErr` itself) and is re-raised unchanged: the very same
//!   exception object escapes `ensure` / `rotate` / `revoke` / `sync`.
//! - `logger` is any object with `info` / `warning` (or `warn`) / `error`; it is called with
//!   the GIL from the thread that logs, and whatever it raises is swallowed.
//! - `propagation_mesh_declare` / `_inject` / `_take` / `_depth` / `_in_flight`: the
//!   in-process mesh (`amqp_protocol="memory"`) seen by a harness playing a counterpart
//!   peer, one `InProcessBroker::named(mesh)` call each (the Node addon's
//!   `propagationMesh*`).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use authcore::propagation::create::{CreateOptions, Given, RedisOption, Shape, create};
use authcore::propagation::propagator::{
    CallbackError, CredentialSink, EnsureInput, FullyPropagatedInput, Management,
    PendingPropagation, PendingTarget, PropagationError, Propagator, RevokeInput, RotateInput,
    RotateUsage, TargetErrorInput, TargetSentInput, TargetSuccessInput, UpsertInput,
};
use authcore::propagation::transport::InProcessBroker;
use authcore::propagation::{Logger, wire};
use pyo3::exceptions::{PyAttributeError, PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyMapping, PyString, PyType};
use pyo3_async_runtimes::TaskLocals;

use crate::convert::{self, type_name};
use crate::errors::{CatchUnwind, guard};
use crate::hmac::runtime::Clients;

/// The Python facade: it defines the exception classes (raised through `authcore.errors`) and the input
/// dataclasses handed to the management adapter.
const MODULE: &str = "authcore.propagation";

/// The 8 methods a management adapter must have.
const MANAGEMENT_METHODS: [&str; 8] = [
    "upsert_credential_with_targets",
    "rotate_credential_secret",
    "fetch_pending_propagations",
    "fetch_source_propagation_secret",
    "mark_target_sent",
    "mark_target_success",
    "mark_target_error",
    "mark_credential_fully_propagated",
];

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DEFAULT_AMQP_VHOST", wire::DEFAULT_AMQP_VHOST)?;
    m.add_function(wrap_pyfunction!(propagation_build_queue_name, m)?)?;
    m.add_function(wrap_pyfunction!(propagation_create, m)?)?;
    m.add_function(wrap_pyfunction!(propagation_mesh_declare, m)?)?;
    m.add_function(wrap_pyfunction!(propagation_mesh_inject, m)?)?;
    m.add_function(wrap_pyfunction!(propagation_mesh_take, m)?)?;
    m.add_function(wrap_pyfunction!(propagation_mesh_depth, m)?)?;
    m.add_function(wrap_pyfunction!(propagation_mesh_in_flight, m)?)?;
    m.add_class::<PyPropagator>()?;
    Ok(())
}

// ---------------------------------------------------------------------------------
// Errors

/// `PropagationError` (or its `ValueError` subclass for `INVALID_QUEUE_NAME`), through the
/// one table of `authcore.errors`.
fn native_error(py: Python<'_>, code: &str, message: &str) -> PyErr {
    crate::errors::raise(py, MODULE, code, message.to_owned(), 500, "", None)
}

/// The one mapping of core propagation errors:
/// - a management callback's exception: re-raised unchanged (same object);
/// - an HMAC core error (`MISSING_CLIENT_ID`, an invalid IP rule, a store failure of the
///   credential store): the `authcore.errors` class, as `authcore.hmac` raises it;
/// - everything else: `PropagationError` with the core's `code()` and message.
fn to_py(py: Python<'_>, e: &PropagationError) -> PyErr {
    match e {
        PropagationError::Callback(cb) => match payload_err(cb) {
            Some(err) => err.clone_ref(py),
            None => native_error(py, "CALLBACK_ERROR", &cb.message),
        },
        PropagationError::Hmac(h) => crate::errors::to_py(py, h),
        other => native_error(py, other.code(), &other.to_string()),
    }
}

fn payload_err(cb: &CallbackError) -> Option<&PyErr> {
    cb.payload.as_ref().and_then(|p| p.downcast_ref::<PyErr>())
}

/// Turn a core future into an asyncio awaitable (the future runs on the tokio runtime
/// without the GIL; a panic becomes the binding's one panic exception).
fn run_async<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, PropagationError>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    crate::lifecycle::future_into_py(py, CatchUnwind::new(fut), |py, out| match out {
        Ok(Ok(v)) => pyo3::IntoPyObjectExt::into_py_any(v, py),
        Ok(Err(e)) => Err(to_py(py, &e)),
        Err(p) => Err(crate::errors::panic_err(py, &*p)),
    })
}

// ---------------------------------------------------------------------------------
// Argument conversion

fn type_err(msg: String) -> PyErr {
    PyTypeError::new_err(msg)
}

fn req_string(v: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let s = v
        .cast::<PyString>()
        .map_err(|_| type_err(format!("{what} must be a str, got {}", type_name(v))))?;
    Ok(convert::str_lossy(s)?.into_owned())
}

fn opt_string(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => req_string(v, what).map(Some),
    }
}

/// A list of strings (any sequence but `str`/`bytes`).
fn string_list(v: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    if v.is_instance_of::<PyString>() {
        return Err(type_err(format!("{what} must be a list of str, got str")));
    }
    v.extract::<Vec<String>>().map_err(|_| {
        type_err(format!(
            "{what} must be a list of str, got {}",
            type_name(v)
        ))
    })
}

fn opt_string_list(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Vec<String>>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => string_list(v, what).map(Some),
    }
}

/// Epoch milliseconds: an `int`, an integral `float`, or a `datetime` (naive means UTC).
fn opt_epoch_ms(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<i64>> {
    let Some(v) = v else { return Ok(None) };
    if v.is_none() {
        return Ok(None);
    }
    if v.is_instance_of::<PyBool>() {
        return Err(type_err(format!(
            "{what} must be epoch milliseconds (int) or a datetime, got bool"
        )));
    }
    if v.is_instance_of::<PyInt>() {
        return v.extract::<i64>().map(Some);
    }
    if v.is_instance_of::<PyFloat>() {
        let f = v.extract::<f64>()?;
        if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
            return Ok(Some(f as i64));
        }
        return Err(type_err(format!(
            "{what} must be whole epoch milliseconds, got {f}"
        )));
    }
    if convert::is_datetime(v)? {
        let ms = convert::datetime_ms(v).map_err(|e| type_err(e.to_string()))?;
        return Ok(Some(ms as i64));
    }
    Err(type_err(format!(
        "{what} must be epoch milliseconds (int) or a datetime, got {}",
        type_name(v)
    )))
}

/// A field of a dict/mapping (missing key → `None`) or an attribute of an object
/// (missing attribute → `None`).
fn field<'py>(item: &Bound<'py, PyAny>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = item.py();
    if let Ok(d) = item.cast::<PyDict>() {
        return d.get_item(name);
    }
    if let Ok(m) = item.cast::<PyMapping>() {
        return match m.get_item(name) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_instance_of::<PyKeyError>(py) => Ok(None),
            Err(e) => Err(e),
        };
    }
    match item.getattr(name) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_instance_of::<PyAttributeError>(py) => Ok(None),
        Err(e) => Err(e),
    }
}

fn req_field<'py>(item: &Bound<'py, PyAny>, name: &str, at: &str) -> PyResult<Bound<'py, PyAny>> {
    match field(item, name)? {
        Some(v) if !v.is_none() => Ok(v),
        _ => Err(type_err(format!("{at}.{name} is required"))),
    }
}

/// One entry of `fetch_pending_propagations()`.
fn pending_propagation(item: &Bound<'_, PyAny>, at: &str) -> PyResult<PendingPropagation> {
    let s = |name: &str| -> PyResult<String> {
        req_string(&req_field(item, name, at)?, &format!("{at}.{name}"))
    };
    let targets_obj = req_field(item, "pending_targets", at)?;
    if targets_obj.is_instance_of::<PyString>() {
        return Err(type_err(format!("{at}.pending_targets must be a list")));
    }
    let mut pending_targets = Vec::new();
    for (j, t) in targets_obj.try_iter()?.enumerate() {
        let t = t?;
        let tat = format!("{at}.pending_targets[{j}]");
        pending_targets.push(PendingTarget {
            target_amqp_queue: req_string(
                &req_field(&t, "target_amqp_queue", &tat)?,
                &format!("{tat}.target_amqp_queue"),
            )?,
            propagation_secret: req_string(
                &req_field(&t, "propagation_secret", &tat)?,
                &format!("{tat}.propagation_secret"),
            )?,
        });
    }
    Ok(PendingPropagation {
        client_id: s("client_id")?,
        track: s("track")?,
        op: s("op")?,
        secret_plain: opt_string(
            field(item, "secret_plain")?.as_ref(),
            &format!("{at}.secret_plain"),
        )?,
        allowed_ips: opt_string_list(
            field(item, "allowed_ips")?.as_ref(),
            &format!("{at}.allowed_ips"),
        )?,
        expires_at: opt_epoch_ms(
            field(item, "expires_at")?.as_ref(),
            &format!("{at}.expires_at"),
        )?,
        pending_targets,
    })
}

fn pending_list(v: &Bound<'_, PyAny>) -> PyResult<Vec<PendingPropagation>> {
    if v.is_none() || v.is_instance_of::<PyString>() {
        return Err(type_err(format!(
            "fetch_pending_propagations() must return a list, got {}",
            type_name(v)
        )));
    }
    let mut out = Vec::new();
    for (i, item) in v.try_iter()?.enumerate() {
        out.push(pending_propagation(
            &item?,
            &format!("fetch_pending_propagations()[{i}]"),
        )?);
    }
    Ok(out)
}

fn source_secret(v: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if v.is_none() {
        return Ok(None);
    }
    req_string(v, "fetch_source_propagation_secret()").map(Some)
}

fn ignore(_: &Bound<'_, PyAny>) -> PyResult<()> {
    Ok(())
}

// ---------------------------------------------------------------------------------
// Input dataclasses (defined in authcore.propagation)

macro_rules! input_class {
    ($fn:ident, $name:literal) => {
        fn $fn(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
            static T: PyOnceLock<Py<PyType>> = PyOnceLock::new();
            T.import(py, MODULE, $name)
        }
    };
}

input_class!(upsert_class, "UpsertInput");
input_class!(rotate_class, "RotateInput");
input_class!(sent_class, "TargetSentInput");
input_class!(success_class, "TargetSuccessInput");
input_class!(error_class, "TargetErrorInput");
input_class!(fully_class, "FullyPropagatedInput");

fn build(
    cls: &Bound<'_, PyType>,
    fill: impl FnOnce(&Bound<'_, PyDict>) -> PyResult<()>,
) -> PyResult<Py<PyAny>> {
    let kw = PyDict::new(cls.py());
    fill(&kw)?;
    Ok(cls.call((), Some(&kw))?.unbind())
}

fn is_awaitable(v: &Bound<'_, PyAny>) -> PyResult<bool> {
    static F: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    F.import(v.py(), "inspect", "isawaitable")?
        .call1((v,))?
        .is_truthy()
}

// ---------------------------------------------------------------------------------
// Management over a Python object

type PyFuture = Pin<Box<dyn Future<Output = PyResult<Py<PyAny>>> + Send>>;

enum Called {
    Ready(Py<PyAny>),
    Awaiting(PyFuture),
}

/// A callback failure: the message for the core's logs, the exception itself as payload.
fn callback_error(py: Python<'_>, err: PyErr) -> CallbackError {
    let message = crate::errors::exception_text(py, &err);
    CallbackError {
        message,
        payload: Some(Arc::new(err) as Arc<dyn Any + Send + Sync>),
    }
}

fn shutting_down() -> CallbackError {
    CallbackError::new("the Python interpreter is shutting down")
}

/// `PropagatorManagement` over a Python object with the 8 snake_case methods.
struct PyManagement {
    obj: Arc<Py<PyAny>>,
    /// The asyncio loop (and contextvars) of the `create_propagator` call.
    locals: TaskLocals,
}

impl PyManagement {
    /// Calls `obj.<method>(arg?)` on the blocking pool with the GIL; awaits the result
    /// on the captured loop when it is awaitable; converts the value with the GIL.
    async fn call<T: Send + 'static>(
        &self,
        method: &'static str,
        arg: impl FnOnce(Python<'_>) -> PyResult<Option<Py<PyAny>>> + Send + 'static,
        convert: fn(&Bound<'_, PyAny>) -> PyResult<T>,
    ) -> Result<T, CallbackError> {
        let obj = self.obj.clone();
        let locals = self.locals.clone();
        let called = tokio::task::spawn_blocking(move || {
            crate::lifecycle::attach(|py| {
                let step = || -> PyResult<Called> {
                    let target = obj.bind(py);
                    let ret = match arg(py)? {
                        Some(a) => target.call_method1(method, (a,))?,
                        None => target.call_method0(method)?,
                    };
                    if is_awaitable(&ret)? {
                        let fut = crate::lifecycle::into_future(&locals, ret)?;
                        Ok(Called::Awaiting(fut))
                    } else {
                        Ok(Called::Ready(ret.unbind()))
                    }
                };
                step().map_err(|e| callback_error(py, e))
            })
            .unwrap_or_else(|| Err(shutting_down()))
        })
        .await
        .map_err(|e| CallbackError::new(format!("management.{method} panicked: {e}")))??;
        let value = match called {
            Called::Ready(v) => v,
            // No GIL and no blocked worker while the coroutine runs on the loop.
            Called::Awaiting(fut) => match fut.await {
                Ok(v) => v,
                Err(e) => {
                    return Err(crate::lifecycle::attach(|py| callback_error(py, e))
                        .unwrap_or_else(shutting_down));
                }
            },
        };
        crate::lifecycle::attach(|py| convert(value.bind(py)).map_err(|e| callback_error(py, e)))
            .unwrap_or_else(|| Err(shutting_down()))
    }
}

#[async_trait]
impl Management for PyManagement {
    async fn upsert_credential_with_targets(&self, i: UpsertInput) -> Result<(), CallbackError> {
        self.call(
            "upsert_credential_with_targets",
            move |py| {
                build(upsert_class(py)?, |kw| {
                    kw.set_item("client_id", i.client_id)?;
                    kw.set_item("track", i.track)?;
                    kw.set_item("op", i.op)?;
                    kw.set_item("secret_plain", i.secret_plain)?;
                    kw.set_item("allowed_ips", i.allowed_ips)?;
                    kw.set_item("expires_at", i.expires_at)?;
                    kw.set_item("targets", i.targets)
                })
                .map(Some)
            },
            ignore,
        )
        .await
    }

    async fn rotate_credential_secret(&self, i: RotateInput) -> Result<(), CallbackError> {
        self.call(
            "rotate_credential_secret",
            move |py| {
                build(rotate_class(py)?, |kw| {
                    kw.set_item("client_id", i.client_id)?;
                    kw.set_item("track", i.track)?;
                    kw.set_item("secret_plain", i.secret_plain)
                })
                .map(Some)
            },
            ignore,
        )
        .await
    }

    async fn fetch_pending_propagations(&self) -> Result<Vec<PendingPropagation>, CallbackError> {
        self.call("fetch_pending_propagations", |_| Ok(None), pending_list)
            .await
    }

    async fn fetch_source_propagation_secret(
        &self,
        sender_amqp_queue: &str,
    ) -> Result<Option<String>, CallbackError> {
        let q = sender_amqp_queue.to_owned();
        self.call(
            "fetch_source_propagation_secret",
            move |py| Ok(Some(PyString::new(py, &q).into_any().unbind())),
            source_secret,
        )
        .await
    }

    async fn mark_target_sent(&self, i: TargetSentInput) -> Result<(), CallbackError> {
        self.call(
            "mark_target_sent",
            move |py| {
                build(sent_class(py)?, |kw| {
                    kw.set_item("client_id", i.client_id)?;
                    kw.set_item("target_amqp_queue", i.target_amqp_queue)?;
                    kw.set_item("sent_at", i.sent_at)?;
                    kw.set_item("attempt_count", i.attempt_count)
                })
                .map(Some)
            },
            ignore,
        )
        .await
    }

    async fn mark_target_success(&self, i: TargetSuccessInput) -> Result<(), CallbackError> {
        self.call(
            "mark_target_success",
            move |py| {
                build(success_class(py)?, |kw| {
                    kw.set_item("client_id", i.client_id)?;
                    kw.set_item("target_amqp_queue", i.target_amqp_queue)?;
                    kw.set_item("applied_at", i.applied_at)
                })
                .map(Some)
            },
            ignore,
        )
        .await
    }

    async fn mark_target_error(&self, i: TargetErrorInput) -> Result<(), CallbackError> {
        self.call(
            "mark_target_error",
            move |py| {
                build(error_class(py)?, |kw| {
                    kw.set_item("client_id", i.client_id)?;
                    kw.set_item("target_amqp_queue", i.target_amqp_queue)?;
                    kw.set_item("reason", i.reason)?;
                    kw.set_item("failed_at", i.failed_at)
                })
                .map(Some)
            },
            ignore,
        )
        .await
    }

    async fn mark_credential_fully_propagated(
        &self,
        i: FullyPropagatedInput,
    ) -> Result<(), CallbackError> {
        self.call(
            "mark_credential_fully_propagated",
            move |py| {
                build(fully_class(py)?, |kw| {
                    kw.set_item("client_id", i.client_id)?;
                    kw.set_item("final_status", i.final_status)?;
                    kw.set_item("at", i.at)
                })
                .map(Some)
            },
            ignore,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------
// Logger over a Python object

/// `{info, warn, error}` over a Python object: `info(msg)`, `warning(msg)` (or `warn(msg)`
/// when there is no `warning`, the original's name), `error(msg)`. A missing method drops
/// the line; an exception is swallowed.
struct PyLogger(Py<PyAny>);

impl PyLogger {
    fn emit(&self, names: &[&str], msg: &str) {
        let _ = crate::lifecycle::attach(|py| {
            let obj = self.0.bind(py);
            for name in names {
                if let Ok(f) = obj.getattr(*name) {
                    let _ = f.call1((msg,));
                    return;
                }
            }
        });
    }
}

impl Logger for PyLogger {
    fn info(&self, msg: &str) {
        self.emit(&["info"], msg);
    }
    fn warn(&self, msg: &str) {
        self.emit(&["warning", "warn"], msg);
    }
    fn error(&self, msg: &str) {
        self.emit(&["error"], msg);
    }
}

// ---------------------------------------------------------------------------------
// The credential stores

/// An `authcore.hmac` instance, its native `Auth`, or its `.clients`.
fn sink(v: &Bound<'_, PyAny>, what: &str) -> PyResult<Arc<dyn CredentialSink>> {
    let clients = match v.cast::<Clients>() {
        Ok(c) => c.clone(),
        Err(_) => v
            .getattr("clients")
            .ok()
            .and_then(|c| c.cast_into::<Clients>().ok())
            .ok_or_else(|| {
                type_err(format!(
                    "{what} must be an authcore.hmac HmacHttpAuth/HmacMessageAuth instance, got {}",
                    type_name(v)
                ))
            })?,
    };
    Ok(Arc::new(clients.get().core().clone()))
}

// ---------------------------------------------------------------------------------
// Module functions

/// `buildQueueName(amqpQueue)`: `hmac-<name>.queue`; `ValueError` with the original's
/// message for a name outside `[A-Za-z0-9-]+`.
#[pyfunction]
fn propagation_build_queue_name(py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<String> {
    guard(|| {
        let name = req_string(name, "amqp_queue")?;
        wire::build_queue_name(&name).map_err(|m| to_py(py, &PropagationError::InvalidQueueName(m)))
    })
}

/// The in-process mesh named `mesh` (`amqp_protocol="memory"`, `amqp_host=mesh`), for a
/// harness playing a counterpart peer: declares `queue` (e.g. its own `hmac-<name>.queue`).
#[pyfunction]
fn propagation_mesh_declare(mesh: &str, queue: &str) -> PyResult<()> {
    guard(|| {
        InProcessBroker::named(mesh).declare_queue(queue);
        Ok(())
    })
}

/// Publishes raw bytes to `queue` of the in-process mesh `mesh` (dropped when nobody
/// declared the queue), as a counterpart peer would.
#[pyfunction]
fn propagation_mesh_inject(mesh: &str, queue: &str, body: &[u8]) -> PyResult<()> {
    guard(|| {
        InProcessBroker::named(mesh).inject(queue, body);
        Ok(())
    })
}

/// Takes the messages waiting in `queue` of the in-process mesh `mesh` (a queue nobody
/// consumes), oldest first: the bytes peers published to a counterpart.
#[pyfunction]
fn propagation_mesh_take<'py>(
    py: Python<'py>,
    mesh: &str,
    queue: &str,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    guard(|| {
        Ok(InProcessBroker::named(mesh)
            .take(queue)
            .iter()
            .map(|b| PyBytes::new(py, b))
            .collect())
    })
}

/// Messages waiting in `queue` of the in-process mesh `mesh`; `None` when it was never
/// declared.
#[pyfunction]
fn propagation_mesh_depth(mesh: &str, queue: &str) -> PyResult<Option<usize>> {
    guard(|| Ok(InProcessBroker::named(mesh).depth(queue)))
}

/// Messages of the in-process mesh `mesh` its peers still have to handle: waiting in a
/// consumed queue or being handled (0: every peer is idle, how a harness ends a step).
#[pyfunction]
fn propagation_mesh_in_flight(mesh: &str) -> PyResult<usize> {
    guard(|| Ok(InProcessBroker::named(mesh).in_flight()))
}

/// A Python exception raised while converting an option: it travels through the core's
/// checks (which may report an earlier option first) and is re-raised unchanged.
fn conversion(py: Python<'_>, e: PyErr) -> PropagationError {
    PropagationError::Callback(callback_error(py, e))
}

/// The shape the original's `!options.x` sees of a Python value (JavaScript truthiness is
/// the core's: `0`, `nan`, `""`, `False`, `None` are falsy; any other object is truthy).
fn shape_of(v: &Bound<'_, PyAny>) -> Shape {
    if v.is_none() {
        Shape::Absent
    } else if let Ok(b) = v.cast::<PyBool>() {
        Shape::Bool(b.is_true())
    } else if v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>() {
        // An int too large for a double is a truthy number all the same.
        Shape::Number(v.extract::<f64>().unwrap_or(f64::INFINITY))
    } else if let Ok(s) = v.cast::<PyString>() {
        Shape::Str {
            empty: s.to_cow().map(|c| c.is_empty()).unwrap_or(false),
        }
    } else {
        Shape::Object
    }
}

/// One option: its shape and `convert` of it (a raised exception is kept for the core).
fn given<'py, T>(
    v: Option<&Bound<'py, PyAny>>,
    convert: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<T>,
) -> Given<T> {
    match v {
        None => Given::absent(),
        Some(v) => Given::new(shape_of(v), convert(v).map_err(|e| conversion(v.py(), e))),
    }
}

fn string_option(v: Option<&Bound<'_, PyAny>>, what: &str) -> Given<String> {
    given(v, |v| req_string(v, what))
}

fn port_number(v: &Bound<'_, PyAny>) -> PyResult<f64> {
    if v.is_instance_of::<PyBool>()
        || !(v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>())
    {
        return Err(type_err(format!(
            "amqp_port must be an int, got {}",
            type_name(v)
        )));
    }
    // An int too large for f64 precision is out of range anyway (the core rejects it).
    Ok(v.extract::<f64>().unwrap_or(f64::INFINITY))
}

/// The management adapter: an object with the 8 methods.
fn management_of(m: &Bound<'_, PyAny>) -> Result<Arc<dyn Management>, PropagationError> {
    for name in MANAGEMENT_METHODS {
        let ok = m.getattr(name).map(|f| f.is_callable()).unwrap_or(false);
        if !ok {
            return Err(PropagationError::InvalidOptions(format!(
                "management.{name} must be a function"
            )));
        }
    }
    let locals = pyo3_async_runtimes::tokio::get_current_locals(m.py())
        .map_err(|e| conversion(m.py(), e))?;
    Ok(Arc::new(PyManagement {
        obj: Arc::new(m.clone().unbind()),
        locals,
    }))
}

/// `createPropagator(options)`: an awaitable of a running [`PyPropagator`].
#[pyfunction]
#[pyo3(signature = (
    *,
    amqp_host=None,
    amqp_port=None,
    amqp_user=None,
    amqp_password=None,
    amqp_protocol=None,
    amqp_queue=None,
    propagation_secret=None,
    redis=None,
    hmac_http_auth=None,
    hmac_message_auth=None,
    management=None,
    amqp_vhost=None,
    logger=None,
    sign_events=false,
    require_signed_events=false,
    omit_secret_from_signed_events=false,
))]
#[allow(clippy::too_many_arguments)]
fn propagation_create<'py>(
    py: Python<'py>,
    amqp_host: Option<&Bound<'py, PyAny>>,
    amqp_port: Option<&Bound<'py, PyAny>>,
    amqp_user: Option<&Bound<'py, PyAny>>,
    amqp_password: Option<&Bound<'py, PyAny>>,
    amqp_protocol: Option<&Bound<'py, PyAny>>,
    amqp_queue: Option<&Bound<'py, PyAny>>,
    propagation_secret: Option<&Bound<'py, PyAny>>,
    redis: Option<&Bound<'py, PyAny>>,
    hmac_http_auth: Option<&Bound<'py, PyAny>>,
    hmac_message_auth: Option<&Bound<'py, PyAny>>,
    management: Option<&Bound<'py, PyAny>>,
    amqp_vhost: Option<&Bound<'py, PyAny>>,
    logger: Option<&Bound<'py, PyAny>>,
    sign_events: bool,
    require_signed_events: bool,
    omit_secret_from_signed_events: bool,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        // The core checks the options (the original's order, truthiness and messages), the
        // queue name and the broker settings before any I/O, then opens the state and the
        // broker link.
        let options = CreateOptions {
            amqp_host: string_option(amqp_host, "amqp_host"),
            amqp_port: given(amqp_port, port_number),
            amqp_user: string_option(amqp_user, "amqp_user"),
            amqp_password: string_option(amqp_password, "amqp_password"),
            amqp_protocol: string_option(amqp_protocol, "amqp_protocol"),
            amqp_vhost: string_option(amqp_vhost, "amqp_vhost"),
            amqp_queue: string_option(amqp_queue, "amqp_queue"),
            propagation_secret: string_option(propagation_secret, "propagation_secret"),
            redis: given(redis, |v| req_string(v, "redis").map(RedisOption::Url)),
            hmac_http_auth: given(hmac_http_auth, |v| sink(v, "hmac_http_auth")),
            hmac_message_auth: given(hmac_message_auth, |v| sink(v, "hmac_message_auth")),
            management: match management {
                Some(m) if !m.is_none() => Given::new(shape_of(m), management_of(m)),
                _ => Given::absent(),
            },
            logger: given(logger, |l| {
                Ok(Arc::new(PyLogger(l.clone().unbind())) as Arc<dyn Logger>)
            }),
            event_auth: wire::EventAuth {
                sign: sign_events,
                require: require_signed_events,
                omit_secret: omit_secret_from_signed_events,
            },
        };
        run_async(py, async move {
            let inner = Arc::new(create(options).await?.propagator);
            // Closed by the atexit hook if the program never closes it.
            crate::lifecycle::track_propagator(&inner);
            Ok(PyPropagator { inner })
        })
    })
}

// ---------------------------------------------------------------------------------
// The propagator

/// A running propagator (`Propagator` of the original). Every method returns an asyncio
/// awaitable; `authcore.propagation.Propagator` is the typed facade.
#[pyclass(module = "authcore._native", name = "Propagator", frozen)]
pub struct PyPropagator {
    inner: Arc<Propagator>,
}

#[pymethods]
impl PyPropagator {
    /// This peer's logical name (`amqp_queue`).
    #[getter]
    fn amqp_queue(&self) -> &str {
        self.inner.amqp_queue()
    }

    /// `ensure(...)` → awaitable of `(client_id, op)`.
    #[pyo3(signature = (client_id, secret, targets, track=None, allowed_ips=None, expires_at=None))]
    #[allow(clippy::too_many_arguments)]
    fn ensure<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        secret: &Bound<'py, PyAny>,
        targets: &Bound<'py, PyAny>,
        track: Option<&Bound<'py, PyAny>>,
        allowed_ips: Option<&Bound<'py, PyAny>>,
        expires_at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            // The core's first check, before the arguments are read (the original's order).
            self.inner.require_management().map_err(|e| to_py(py, &e))?;
            let input = EnsureInput {
                client_id: req_string(client_id, "client_id")?,
                secret: req_string(secret, "secret")?,
                targets: string_list(targets, "targets")?,
                track: opt_string(track, "track")?,
                allowed_ips: opt_string_list(allowed_ips, "allowed_ips")?,
                expires_at: opt_epoch_ms(expires_at, "expires_at")?,
            };
            let p = self.inner.clone();
            run_async(py, async move {
                let r = p.ensure(input).await?;
                Ok((r.client_id, r.op))
            })
        })
    }

    /// `rotate(...)` → awaitable of the client id.
    #[pyo3(signature = (client_id, secret, track=None))]
    fn rotate<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        secret: &Bound<'py, PyAny>,
        track: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            // The core's first check, before the arguments are read (the original's order).
            self.inner.require_management().map_err(|e| to_py(py, &e))?;
            let input = RotateUsage {
                client_id: req_string(client_id, "client_id")?,
                secret: req_string(secret, "secret")?,
                track: opt_string(track, "track")?,
            };
            let p = self.inner.clone();
            run_async(py, async move { p.rotate(input).await })
        })
    }

    /// `revoke(...)` → awaitable of the client id.
    #[pyo3(signature = (client_id, targets, track=None))]
    fn revoke<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        targets: &Bound<'py, PyAny>,
        track: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            // The core's first check, before the arguments are read (the original's order).
            self.inner.require_management().map_err(|e| to_py(py, &e))?;
            let input = RevokeInput {
                client_id: req_string(client_id, "client_id")?,
                targets: string_list(targets, "targets")?,
                track: opt_string(track, "track")?,
            };
            let p = self.inner.clone();
            run_async(py, async move { p.revoke(input).await })
        })
    }

    /// `sync()` → awaitable of `(propagations_read, targets_published, targets_retrying,
    /// duration_ms)`.
    fn sync<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            self.inner.require_management().map_err(|e| to_py(py, &e))?;
            let p = self.inner.clone();
            run_async(py, async move {
                let s = p.sync().await?;
                Ok((
                    s.propagations_read,
                    s.targets_published,
                    s.targets_retrying,
                    s.duration_ms,
                ))
            })
        })
    }

    /// `close()` → awaitable; waits for the delivery in hand, then closes the broker link.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let p = self.inner.clone();
            run_async(py, async move {
                p.close().await;
                Ok(())
            })
        })
    }

    fn __repr__(&self) -> String {
        format!("Propagator(amqp_queue={:?})", self.inner.amqp_queue())
    }
}
