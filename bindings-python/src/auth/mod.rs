//! The auth primitives for Python: passwords, JWT, API/session tokens, TOTP, PKCE/OAuth codes
//! and authrs policies. Thin wrappers over `authcore::{password, jwt, tokens, totp, oauth,
//! policy}`; the Pythonic API (argon2-cffi / PyJWT names) lives in the `authcore.password`,
//! `authcore.jwt`, ... Python modules, which call the functions registered here into
//! `authcore._native`.
//!
//! Errors: every core error becomes an exception built by the Python module's
//! `_native_error(code, message, status, kind, extra)` factory, so each exception class
//! (argon2-cffi / PyJWT names) is defined once, in Python, and carries `.code` and
//! `.status`. Every entry point runs inside [`guard`]: a Rust panic becomes a
//! `RuntimeError`, never an unwind into the interpreter. KDFs and asymmetric signatures run
//! with the GIL released (`py.detach`).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

pub mod jwt;
pub mod oauth;
pub mod password;
pub mod policy;
pub mod pyjson;
pub mod tokens;
pub mod totp;

/// Register every auth-primitive function and class into `authcore._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    password::register(m)?;
    jwt::register(m)?;
    tokens::register(m)?;
    totp::register(m)?;
    oauth::register(m)?;
    policy::register(m)?;
    Ok(())
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

/// Run `f`, turning a Rust panic into `RuntimeError`.
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(PyRuntimeError::new_err(format!(
            "authcore internal error (Rust panic): {}",
            panic_message(&*p)
        ))),
    }
}

/// Build the exception for a core error through `<module>._native_error`.
pub fn raise(
    py: Python<'_>,
    module: &str,
    code: &str,
    message: String,
    status: u16,
    kind: &str,
    extra: Option<&str>,
) -> PyErr {
    let built = (|| -> PyResult<PyErr> {
        let factory = py.import(module)?.getattr("_native_error")?;
        let exc = factory.call1((code, message, status, kind, extra))?;
        Ok(PyErr::from_value(exc))
    })();
    built.unwrap_or_else(|e| e)
}

/// `str` (UTF-8), `bytes` or `bytearray` → owned bytes (secrets, passwords, keys).
pub fn bytes_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be str or bytes, not {}",
        obj.get_type().name()?
    )))
}

/// Current unix time in seconds, fractional.
pub fn now_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `now` argument (unix seconds) or the current time, as whole seconds.
pub fn now_secs(now: Option<f64>) -> PyResult<u64> {
    let n = now.unwrap_or_else(now_f64);
    if !n.is_finite() || n < 0.0 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "now must be a finite, non-negative unix time",
        ));
    }
    Ok(n as u64)
}
