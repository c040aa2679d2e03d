//! `authcore.totp`: RFC 6238 / otplib-compatible TOTP with drift window and replay guard.

use authcore::totp::{self as core, TotpAlgorithm, TotpConfig, TotpError};
use pyo3::prelude::*;

use crate::convert::now_secs;
use crate::errors::{guard, raise};

const MODULE: &str = "authcore.totp";

pub fn to_py(py: Python<'_>, e: &TotpError) -> PyErr {
    let step = match e {
        TotpError::Replayed { step } => Some(step.to_string()),
        _ => None,
    };
    raise(
        py,
        MODULE,
        e.code(),
        e.to_string(),
        e.status(),
        "",
        step.as_deref(),
    )
}

fn totp_err<T>(py: Python<'_>, r: Result<T, TotpError>) -> PyResult<T> {
    r.map_err(|e| to_py(py, &e))
}

fn config(
    py: Python<'_>,
    algorithm: &str,
    digits: u32,
    period: u64,
    window: u64,
) -> PyResult<TotpConfig> {
    let algorithm = TotpAlgorithm::from_option(algorithm).map_err(|e| to_py(py, &e))?;
    Ok(TotpConfig {
        algorithm,
        digits,
        period,
        t0: 0,
        window,
    })
}

#[pyfunction]
fn totp_generate_secret(py: Python<'_>) -> PyResult<String> {
    totp_err(py, core::generate_secret())
}

#[pyfunction]
#[pyo3(signature = (secret, now=None, algorithm="SHA1", digits=6, period=30))]
fn totp_generate(
    py: Python<'_>,
    secret: &str,
    now: Option<f64>,
    algorithm: &str,
    digits: u32,
    period: u64,
) -> PyResult<String> {
    guard(|| {
        let cfg = config(py, algorithm, digits, period, 0)?;
        totp_err(py, core::generate_code(secret, now_secs(now)?, &cfg))
    })
}

#[pyfunction]
#[pyo3(signature = (secret, now, algorithm="SHA1", digits=6, period=30))]
fn totp_generate_raw(
    py: Python<'_>,
    secret: &[u8],
    now: f64,
    algorithm: &str,
    digits: u32,
    period: u64,
) -> PyResult<String> {
    guard(|| {
        let cfg = config(py, algorithm, digits, period, 0)?;
        totp_err(
            py,
            core::generate_code_raw(secret, now_secs(Some(now))?, &cfg),
        )
    })
}

/// The accepted time step (persist it as `last_used_step`).
#[pyfunction]
#[pyo3(signature = (code, secret, now=None, window=1, last_used_step=None, algorithm="SHA1", digits=6, period=30))]
#[allow(clippy::too_many_arguments)]
fn totp_verify(
    py: Python<'_>,
    code: &str,
    secret: &str,
    now: Option<f64>,
    window: u64,
    last_used_step: Option<u64>,
    algorithm: &str,
    digits: u32,
    period: u64,
) -> PyResult<u64> {
    guard(|| {
        let cfg = config(py, algorithm, digits, period, window)?;
        totp_err(
            py,
            core::verify(code, secret, now_secs(now)?, &cfg, last_used_step),
        )
    })
}

#[pyfunction]
#[pyo3(signature = (code, secret, now, window=1, last_used_step=None, algorithm="SHA1", digits=6, period=30))]
#[allow(clippy::too_many_arguments)]
fn totp_verify_raw(
    py: Python<'_>,
    code: &str,
    secret: &[u8],
    now: f64,
    window: u64,
    last_used_step: Option<u64>,
    algorithm: &str,
    digits: u32,
    period: u64,
) -> PyResult<u64> {
    guard(|| {
        let cfg = config(py, algorithm, digits, period, window)?;
        totp_err(
            py,
            core::verify_raw(code, secret, now_secs(Some(now))?, &cfg, last_used_step),
        )
    })
}

#[pyfunction]
#[pyo3(signature = (issuer, account, secret, algorithm="SHA1", digits=6, period=30))]
fn totp_otpauth_url(
    py: Python<'_>,
    issuer: &str,
    account: &str,
    secret: &str,
    algorithm: &str,
    digits: u32,
    period: u64,
) -> PyResult<String> {
    let cfg = config(py, algorithm, digits, period, 0)?;
    Ok(core::otpauth_url(issuer, account, secret, &cfg))
}

#[pyfunction]
fn totp_decode_secret(py: Python<'_>, secret: &str) -> PyResult<Vec<u8>> {
    totp_err(py, core::decode_secret(secret))
}

#[pyfunction]
fn totp_base32_encode(data: &[u8]) -> String {
    core::base32_encode(data)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(totp_generate_secret, m)?)?;
    m.add_function(wrap_pyfunction!(totp_generate, m)?)?;
    m.add_function(wrap_pyfunction!(totp_generate_raw, m)?)?;
    m.add_function(wrap_pyfunction!(totp_verify, m)?)?;
    m.add_function(wrap_pyfunction!(totp_verify_raw, m)?)?;
    m.add_function(wrap_pyfunction!(totp_otpauth_url, m)?)?;
    m.add_function(wrap_pyfunction!(totp_decode_secret, m)?)?;
    m.add_function(wrap_pyfunction!(totp_base32_encode, m)?)?;
    Ok(())
}
