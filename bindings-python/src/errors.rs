//! The one error mapping of the binding: core `HmacError` → the Python exception
//! classes of `authcore.errors` (defined in Python so that they carry `code`, `status`
//! and the original's constructor `HmacAuthError(code, message, status=401)`).
//!
//! | core                          | Python class        | bases                          |
//! |-------------------------------|---------------------|--------------------------------|
//! | `HmacError::Auth`             | `HmacAuthError`     | `HmacError`                    |
//! | `HmacError::InvalidArgument`  | `HmacArgumentError` | `HmacError`, `ValueError`      |
//! | `HmacError::InvalidInput`     | `HmacInputError`    | `HmacError`, `TypeError`, `ValueError` |
//! | `HmacError::Store`            | `HmacStoreError`    | `HmacError`                    |
//!
//! Outside HMAC, each module's exceptions (argon2-cffi / PyJWT names, `RealtimeError`…) are
//! defined in that Python module and chosen by one table, `authcore.errors.ERROR_CLASSES`
//! (core code → class, per module), through `authcore.errors._native_error` ([`raise`]);
//! what every module shares is mapped here:
//!
//! | core                                   | Python class           | bases |
//! |----------------------------------------|------------------------|-------|
//! | `authcore::error::InvalidArgument`     | `InvalidArgumentError` | `ValueError` |
//! | a Rust panic (any module, [`guard`], [`CatchUnwind`]) | `InternalPanicError` | `HmacInternalError`, `RuntimeError` |
//!
//! Every exception carries `code` and `status`; a panic is `INTERNAL_PANIC` 500 with the
//! core's message (`internal error (panic caught at the authcore Python boundary): …`).

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use authcore::hmac::{HmacError, VerifyError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

const ERRORS_MODULE: &str = "authcore.errors";

macro_rules! error_class {
    ($fn:ident, $name:literal) => {
        fn $fn(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
            static T: PyOnceLock<Py<PyType>> = PyOnceLock::new();
            T.import(py, ERRORS_MODULE, $name)
        }
    };
}

error_class!(auth_error, "HmacAuthError");
error_class!(argument_error, "HmacArgumentError");
error_class!(input_error, "HmacInputError");
error_class!(store_error, "HmacStoreError");
error_class!(internal_error, "HmacInternalError");
error_class!(invalid_argument_error, "InvalidArgumentError");
error_class!(internal_panic_error, "InternalPanicError");

fn build(py: Python<'_>, e: &HmacError) -> PyResult<PyErr> {
    let value = match e {
        HmacError::Auth(a) => {
            auth_error(py)?.call1((a.code.as_str(), a.message.as_str(), a.status))?
        }
        HmacError::InvalidArgument(m) => argument_error(py)?.call1((m.as_str(),))?,
        HmacError::InvalidInput(m) => input_error(py)?.call1((m.as_str(),))?,
        HmacError::Store(m) => store_error(py)?.call1((m.as_str(),))?,
        other => internal_error(py)?.call1((other.to_string(),))?,
    };
    Ok(PyErr::from_value(value))
}

/// Convert a core error into the matching Python exception.
pub fn to_py(py: Python<'_>, e: &HmacError) -> PyErr {
    build(py, e).unwrap_or_else(|import_failure| import_failure)
}

/// Like [`to_py`], and for `BAD_SIGNATURE` attaches the `onBadSignature` details as the
/// exception's `_bad_signature` dict (read by the Python layer, which calls the hook).
pub fn verify_to_py(py: Python<'_>, e: &VerifyError) -> PyErr {
    let err = to_py(py, &e.error);
    if let Some(d) = &e.bad_signature {
        let details = PyDict::new(py);
        let filled = (|| -> PyResult<()> {
            details.set_item("client_id", &d.client_id)?;
            details.set_item("path", &d.path)?;
            details.set_item(
                "timestamp",
                crate::convert::js_number_to_py(py, d.timestamp)?,
            )?;
            details.set_item("nonce", &d.nonce)?;
            details.set_item("received_signature", &d.received_signature)?;
            details.set_item("expected_signature", &d.expected_signature)?;
            err.value(py).setattr("_bad_signature", &details)
        })();
        if let Err(e) = filled {
            return e;
        }
    }
    err
}

/// An error raised by the binding itself for a Python value of the wrong type.
pub fn input(msg: impl Into<String>) -> HmacError {
    HmacError::InvalidInput(msg.into())
}

/// `"<Type>: <message>"` (or just `"<Type>"`) of an exception raised by host code, for the
/// core's log lines and callback errors.
pub fn exception_text(py: Python<'_>, err: &PyErr) -> String {
    let value = err.value(py);
    let kind = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let text = value.str().map(|s| s.to_string()).unwrap_or_default();
    if text.is_empty() {
        kind
    } else {
        format!("{kind}: {text}")
    }
}

/// The exception of a Rust panic caught at the boundary: `InternalPanicError`
/// (`INTERNAL_PANIC`, 500, the core's message), whatever the module.
pub fn panic_err(py: Python<'_>, p: &(dyn Any + Send)) -> PyErr {
    let msg = authcore::error::panic_message("Python", p);
    match internal_panic_error(py).and_then(|t| t.call1((msg,))) {
        Ok(v) => PyErr::from_value(v),
        Err(e) => e,
    }
}

/// The one catch-unwind helper of the binding (the async form is [`CatchUnwind`]): run
/// `f`, and turn a panic into [`panic_err`] instead of letting it unwind into the
/// interpreter.
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(Python::attach(|py| panic_err(py, &*p))),
    }
}

/// An argument or setting the core refuses: `InvalidArgumentError` (a `ValueError`).
pub fn invalid_argument(py: Python<'_>, e: &authcore::error::InvalidArgument) -> PyErr {
    match invalid_argument_error(py).and_then(|t| t.call1((e.message(),))) {
        Ok(v) => PyErr::from_value(v),
        Err(err) => err,
    }
}

/// A future that catches a panic raised while polling the inner future.
pub struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> CatchUnwind<F> {
    pub fn new(f: F) -> Self {
        Self(Box::pin(f))
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(p) => Poll::Ready(Err(p)),
        }
    }
}

/// Build the exception of a password, JWT, token, TOTP, OAuth, policy, events, realtime or
/// propagation error through `authcore.errors._native_error(module, code, message, status,
/// kind, extra)`: the one table of `authcore.errors` picks the class (defined in `module`,
/// argon2-cffi / PyJWT names…), which carries `.code` and `.status`. `kind`: the failed call
/// (password) or the RFC 6749 `error` (pkce); `extra`: the claim (jwt), the replayed step (totp).
pub fn raise(
    py: Python<'_>,
    module: &str,
    code: &str,
    message: String,
    status: u16,
    kind: &str,
    extra: Option<&str>,
) -> PyErr {
    static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let built = (|| -> PyResult<PyErr> {
        let factory = FACTORY.import(py, ERRORS_MODULE, "_native_error")?;
        let exc = factory.call1((module, code, message, status, kind, extra))?;
        Ok(PyErr::from_value(exc))
    })();
    built.unwrap_or_else(|e| e)
}

/// Test-only hook (hidden, `_native._panic_for_tests`): panics inside the boundary, so the
/// tests see the one shape a panic takes. `where_`: `"sync"` (the body of a function,
/// [`guard`]) or `"async"` (a future on the tokio runtime, [`CatchUnwind`]; the awaitable
/// raises).
#[pyfunction]
#[pyo3(name = "_panic_for_tests")]
pub fn panic_for_tests<'py>(py: Python<'py>, where_: &str) -> PyResult<Bound<'py, PyAny>> {
    if where_ == "async" {
        return crate::lifecycle::future_into_py(
            py,
            CatchUnwind::new(async {
                if true {
                    panic!("a test panic (async)")
                }
            }),
            |py, out: Result<(), Box<dyn Any + Send>>| match out {
                Ok(()) => Ok(py.None()),
                Err(p) => Err(panic_err(py, &*p)),
            },
        );
    }
    guard(|| panic!("a test panic (sync)"))
}
