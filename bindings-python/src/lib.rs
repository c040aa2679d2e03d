//! `authcore._native`: the pyo3 (abi3) binding of the authcore core.
//!
//! A thin layer: Python values are converted to core types ([`convert`]), the core does
//! the work, and core errors become the exception classes of `authcore.errors`
//! ([`errors`]). Nothing here holds the GIL while hashing large bodies or waiting on a
//! store, and every entry point catches Rust panics ([`errors::guard`],
//! [`errors::CatchUnwind`]) so none unwinds into the interpreter: a panic is the one
//! `authcore.errors.InternalPanicError` (`INTERNAL_PANIC`, 500).
//!
//! Modules carry the core's module names: [`hmac`] (the pure wire functions and the
//! store-backed runtime), [`password`], [`jwt`], [`tokens`], [`totp`], [`oauth`],
//! [`policy`], [`propagation`], [`realtime`]. The password, JWT, token, TOTP, OAuth and
//! policy functions are thin wrappers whose Pythonic API (argon2-cffi / PyJWT names) lives
//! in the `authcore.password`, `authcore.jwt`, ... Python modules; their errors are built
//! through one table, `authcore.errors.ERROR_CLASSES` ([`errors::raise`]), and KDFs and
//! asymmetric signatures run with the GIL released (`py.detach`). [`json`] holds the JSON
//! conversions (PyJWT's exact `json.dumps` text).

mod convert;
mod errors;
mod events;
mod hmac;
mod json;
mod jwt;
mod lifecycle;
mod logs;
mod metrics;
mod oauth;
mod password;
mod policy;
mod propagation;
mod realtime;
mod tokens;
mod totp;

use hmac::{pure, runtime};
use pyo3::prelude::*;

/// The shared tokio runtime of the async methods and the blocking calls:
/// `AUTHCORE_TOKIO_WORKERS` worker threads, default 1. Store I/O is multiplexed on one
/// connection per URL; each extra worker adds cross-thread wake-ups per request (the
/// Node binding measured the same effect, see bindings-node/src/hmac/instance.rs).
fn configure_runtime() {
    let workers = std::env::var("AUTHCORE_TOKIO_WORKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(workers)
        .thread_name("authcore-tokio")
        .enable_all();
    pyo3_async_runtimes::tokio::init(builder);
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    configure_runtime();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_BODY_BYTES", authcore::hmac::crypto::MAX_BODY_BYTES)?;
    m.add(
        "DEFAULT_NAMESPACE",
        authcore::hmac::record::DEFAULT_NAMESPACE,
    )?;
    m.add(
        "DEFAULT_MAX_SKEW_MS",
        authcore::hmac::record::DEFAULT_MAX_SKEW_MS as i64,
    )?;
    m.add(
        "DEFAULT_SECRET_LENGTH_BYTES",
        authcore::hmac::record::DEFAULT_SECRET_LENGTH_BYTES,
    )?;
    m.add(
        "DEFAULT_BACKUP_TTL_SECONDS",
        authcore::hmac::record::DEFAULT_BACKUP_TTL_SECONDS,
    )?;
    m.add_function(wrap_pyfunction!(pure::hash_client_secret, m)?)?;
    m.add_function(wrap_pyfunction!(pure::hash_body, m)?)?;
    m.add_function(wrap_pyfunction!(pure::build_signing_payload, m)?)?;
    m.add_function(wrap_pyfunction!(pure::sign_request, m)?)?;
    m.add_function(wrap_pyfunction!(pure::safe_equal_hex, m)?)?;
    m.add_function(wrap_pyfunction!(pure::verify_request_signature, m)?)?;
    m.add_function(wrap_pyfunction!(pure::normalize_path, m)?)?;
    m.add_function(wrap_pyfunction!(pure::build_message_signing_payload, m)?)?;
    m.add_function(wrap_pyfunction!(pure::sign_message, m)?)?;
    m.add_function(wrap_pyfunction!(pure::verify_message, m)?)?;
    m.add_function(wrap_pyfunction!(pure::message_canonical, m)?)?;
    m.add_function(wrap_pyfunction!(pure::normalize_allowed_ip_rules, m)?)?;
    m.add_function(wrap_pyfunction!(pure::is_client_ip_allowed, m)?)?;
    m.add_function(wrap_pyfunction!(pure::parse_stored_client_record, m)?)?;
    m.add_function(wrap_pyfunction!(pure::build_signed_headers, m)?)?;
    m.add_function(wrap_pyfunction!(pure::generate_nonce, m)?)?;
    m.add_class::<pure::SignedMessage>()?;
    m.add_class::<runtime::Store>()?;
    m.add_class::<runtime::Auth>()?;
    m.add_class::<runtime::Clients>()?;
    m.add_class::<runtime::VerifiedRequest>()?;
    m.add_class::<runtime::ClientCredential>()?;
    m.add_class::<runtime::RevertResult>()?;
    password::register(m)?;
    jwt::register(m)?;
    tokens::register(m)?;
    totp::register(m)?;
    oauth::register(m)?;
    policy::register(m)?;
    propagation::register(m)?;
    realtime::register(m)?;
    events::register(m)?;
    metrics::register(m)?;
    logs::register(m)?;
    lifecycle::register(m)?;
    m.add_function(wrap_pyfunction!(errors::panic_for_tests, m)?)?;
    Ok(())
}
