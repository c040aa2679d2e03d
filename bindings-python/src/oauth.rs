//! `authcore.pkce`: PKCE (RFC 7636), single-use authorization codes and RFC 8414 metadata.

use std::sync::Arc;

use authcore::error::InvalidArgument;
use authcore::oauth::{
    self as core, AuthorizationServer, AuthorizationServerConfig, CodeChallengeMethod,
    CreateCodeParams, ExchangeRequest, InMemoryOAuthStorage, OAuthError, OAuthMetadata,
    OAuthStorage,
};
use authcore::token_stores;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::now_f64;
use crate::errors::{guard, raise};

const MODULE: &str = "authcore.pkce";

pub fn to_py(py: Python<'_>, e: &OAuthError) -> PyErr {
    raise(
        py,
        MODULE,
        e.code(),
        e.to_string(),
        e.status(),
        e.oauth_error(),
        None,
    )
}

fn oauth_err<T>(py: Python<'_>, r: Result<T, OAuthError>) -> PyResult<T> {
    r.map_err(|e| to_py(py, &e))
}

fn now_ms(now_ms: Option<u64>) -> u64 {
    now_ms.unwrap_or_else(|| (now_f64() * 1000.0) as u64)
}

#[pyfunction]
fn pkce_s256_challenge(verifier: &str) -> String {
    core::s256_challenge(verifier)
}

#[pyfunction]
fn pkce_generate_verifier(py: Python<'_>) -> PyResult<String> {
    oauth_err(py, core::generate_code_verifier())
}

#[pyfunction]
#[pyo3(signature = (verifier, challenge, method="S256"))]
fn pkce_verify(py: Python<'_>, verifier: &str, challenge: &str, method: &str) -> PyResult<()> {
    guard(|| {
        let m = oauth_err(py, CodeChallengeMethod::parse(method))?;
        oauth_err(py, core::verify_pkce(verifier, challenge, m))
    })
}

#[pyfunction]
fn pkce_validate_verifier(py: Python<'_>, verifier: &str) -> PyResult<()> {
    oauth_err(py, core::validate_code_verifier(verifier))
}

#[pyfunction]
fn pkce_validate_challenge(py: Python<'_>, challenge: &str, method: &str) -> PyResult<()> {
    let m = oauth_err(py, CodeChallengeMethod::parse(method))?;
    oauth_err(py, core::validate_code_challenge(challenge, m))
}

#[pyfunction]
fn oauth_hash_code(code: &str) -> String {
    core::hash_code(code)
}

/// RFC 8414 metadata JSON for `issuer`.
#[pyfunction]
#[pyo3(signature = (issuer, scopes, allow_plain=false, registration_endpoint=None))]
fn oauth_metadata_json(
    py: Python<'_>,
    issuer: &str,
    scopes: Vec<String>,
    allow_plain: bool,
    registration_endpoint: Option<String>,
) -> PyResult<String> {
    guard(|| {
        let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let mut md = oauth_err(py, OAuthMetadata::for_issuer(issuer, &refs, allow_plain))?;
        if registration_endpoint.is_some() {
            md.registration_endpoint = registration_endpoint;
        }
        Ok(md.to_json())
    })
}

/// Authorization codes (core `AuthorizationServer`) over in-memory storage or Redis.
#[pyclass(module = "authcore._native", name = "AuthorizationServer", frozen)]
pub struct PyAuthorizationServer {
    inner: AuthorizationServer<Box<dyn OAuthStorage>>,
    /// The in-memory storage, for `len()` and `stored_code_hashes()`.
    memory: Option<Arc<InMemoryOAuthStorage>>,
}

impl PyAuthorizationServer {
    fn memory(&self) -> PyResult<&InMemoryOAuthStorage> {
        self.memory
            .as_deref()
            .ok_or_else(|| PyTypeError::new_err("only the in-memory store can list its codes"))
    }
}

#[pymethods]
impl PyAuthorizationServer {
    #[new]
    #[pyo3(signature = (code_ttl_ms=core::DEFAULT_CODE_TTL_MS as f64, allow_plain=false, store=None, key_prefix=None))]
    fn new(
        py: Python<'_>,
        code_ttl_ms: f64,
        allow_plain: bool,
        store: Option<&str>,
        key_prefix: Option<&str>,
    ) -> PyResult<Self> {
        let config = AuthorizationServerConfig {
            code_ttl_ms: oauth_err(
                py,
                AuthorizationServerConfig::code_ttl_ms_setting(code_ttl_ms),
            )?,
            allow_plain,
        };
        let url = store.unwrap_or("");
        let (storage, memory): (Box<dyn OAuthStorage>, _) = if token_stores::is_memory_url(url) {
            let m = Arc::new(InMemoryOAuthStorage::new());
            (Box::new(m.clone()), Some(m))
        } else {
            (
                token_stores::oauth_storage(url, key_prefix).map_err(|e| {
                    crate::errors::invalid_argument(py, &InvalidArgument::store(&e))
                })?,
                None,
            )
        };
        Ok(Self {
            inner: oauth_err(py, AuthorizationServer::try_new(storage, config))?,
            memory,
        })
    }

    #[pyo3(signature = (client_id, user_id, domain_id, redirect_uri, code_challenge, code_challenge_method="S256", scope=String::new(), now_ms=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_code(
        &self,
        py: Python<'_>,
        client_id: String,
        user_id: String,
        domain_id: String,
        redirect_uri: String,
        code_challenge: String,
        code_challenge_method: &str,
        scope: String,
        now_ms: Option<u64>,
    ) -> PyResult<String> {
        guard(|| {
            let params = CreateCodeParams {
                client_id,
                user_id,
                domain_id,
                redirect_uri,
                code_challenge,
                code_challenge_method: oauth_err(
                    py,
                    CodeChallengeMethod::parse(code_challenge_method),
                )?,
                scope,
            };
            let now = self::now_ms(now_ms);
            oauth_err(py, py.detach(|| self.inner.create_code(&params, now)))
        })
    }

    /// Redeem a code (consumed whatever the outcome); returns
    /// `{user_id, domain_id, scope, client_id}`.
    #[pyo3(signature = (code, client_id, redirect_uri, code_verifier, now_ms=None))]
    fn exchange_code<'py>(
        &self,
        py: Python<'py>,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        code_verifier: &str,
        now_ms: Option<u64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let req = ExchangeRequest {
                code,
                client_id,
                redirect_uri,
                code_verifier,
            };
            let now = self::now_ms(now_ms);
            let x = oauth_err(py, py.detach(|| self.inner.exchange_code(&req, now)))?;
            let d = PyDict::new(py);
            d.set_item("user_id", x.user_id)?;
            d.set_item("domain_id", x.domain_id)?;
            d.set_item("scope", x.scope)?;
            d.set_item("client_id", x.client_id)?;
            Ok(d)
        })
    }

    /// The `authorization_code` grant end to end: redeem the code and issue a token pair
    /// through `token_manager`; a replayed code raises and revokes the family issued for it.
    #[pyo3(signature = (code, client_id, redirect_uri, code_verifier, token_manager, now_ms=None))]
    #[allow(clippy::too_many_arguments)]
    fn exchange_code_for_tokens<'py>(
        &self,
        py: Python<'py>,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        code_verifier: &str,
        token_manager: PyRef<'py, crate::jwt::PyTokenManager>,
        now_ms: Option<u64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let req = ExchangeRequest {
                code,
                client_id,
                redirect_uri,
                code_verifier,
            };
            let now = self::now_ms(now_ms);
            let tm = token_manager.core();
            let pair = oauth_err(
                py,
                py.detach(|| self.inner.exchange_code_for_tokens(&req, tm, now)),
            )?;
            crate::jwt::value_dict(py, &pair)
        })
    }

    /// Drop codes (and used tombstones) that expired before `now_ms`.
    #[pyo3(signature = (now_ms=None))]
    fn purge_expired(&self, py: Python<'_>, now_ms: Option<u64>) -> PyResult<usize> {
        let now = self::now_ms(now_ms);
        oauth_err(
            py,
            py.detach(|| self.inner.storage().purge_expired(now))
                .map_err(core::OAuthError::from),
        )
    }

    /// Number of stored code records (only hashes are stored).
    fn __len__(&self) -> PyResult<usize> {
        Ok(self.memory()?.records().len())
    }

    /// The stored code hashes (SHA-256 hex), to show the code itself is never kept.
    fn stored_code_hashes(&self) -> PyResult<Vec<String>> {
        Ok(self
            .memory()?
            .records()
            .into_iter()
            .map(|r| r.code)
            .collect())
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(pkce_s256_challenge, m)?)?;
    m.add_function(wrap_pyfunction!(pkce_generate_verifier, m)?)?;
    m.add_function(wrap_pyfunction!(pkce_verify, m)?)?;
    m.add_function(wrap_pyfunction!(pkce_validate_verifier, m)?)?;
    m.add_function(wrap_pyfunction!(pkce_validate_challenge, m)?)?;
    m.add_function(wrap_pyfunction!(oauth_hash_code, m)?)?;
    m.add_function(wrap_pyfunction!(oauth_metadata_json, m)?)?;
    m.add_class::<PyAuthorizationServer>()?;
    Ok(())
}
