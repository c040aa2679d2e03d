//! `authcore.tokens`: Auth Server API tokens, node-auth API keys, fuz_app session tokens.

use authcore::tokens::{
    self as core, ApiToken, ApiTokenError, ApiTokenStore as _, InMemoryApiTokenStore,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::convert::now_secs;
use crate::errors::{guard, raise};
use crate::json;

const MODULE: &str = "authcore.tokens";

pub fn to_py(py: Python<'_>, e: &ApiTokenError) -> PyErr {
    raise(py, MODULE, e.code(), e.to_string(), e.status(), "", None)
}

fn tok_err<T>(py: Python<'_>, r: Result<T, ApiTokenError>) -> PyResult<T> {
    r.map_err(|e| to_py(py, &e))
}

/// `(token, prefix, token_hash)` of a new API token.
#[pyfunction]
#[pyo3(signature = (visible_prefix=core::LIVE_PREFIX))]
fn tokens_generate_api_token(
    py: Python<'_>,
    visible_prefix: &str,
) -> PyResult<(String, String, String)> {
    guard(|| {
        let g = tok_err(py, core::generate_api_token(visible_prefix))?;
        Ok((g.token, g.prefix, g.token_hash))
    })
}

#[pyfunction]
fn tokens_hash_api_token(token: &str) -> String {
    core::hash_api_token(token)
}

#[pyfunction]
fn tokens_api_token_lookup_prefix(token: &str, visible_prefix: &str) -> Option<String> {
    core::api_token_lookup_prefix(token, visible_prefix).map(str::to_string)
}

/// Index of the matching candidate hash (all compared, constant time), or `None`.
#[pyfunction]
fn tokens_match_token_hash(
    py: Python<'_>,
    presented: String,
    candidates: Vec<String>,
) -> PyResult<Option<usize>> {
    guard(|| {
        let r = py.detach(|| {
            let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
            core::match_token_hash(&presented, &refs)
        });
        tok_err(py, r)
    })
}

fn record_from_json(json: &str) -> PyResult<ApiToken> {
    serde_json::from_str(json)
        .map_err(|e| PyValueError::new_err(format!("invalid ApiToken record: {e}")))
}

fn record_to_py<'py>(py: Python<'py>, t: &impl serde::Serialize) -> PyResult<Bound<'py, PyDict>> {
    match serde_json::to_value(t) {
        Ok(Value::Object(m)) => json::map_to_py(py, &m),
        _ => Err(PyValueError::new_err("record did not serialise")),
    }
}

/// Authenticate against prefix-lookup candidates (records as JSON texts); returns the
/// matching record as a dict (camelCase keys).
#[pyfunction]
#[pyo3(signature = (presented, candidates_json, now=None))]
fn tokens_authenticate_api_token<'py>(
    py: Python<'py>,
    presented: String,
    candidates_json: Vec<String>,
    now: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let candidates = candidates_json
            .iter()
            .map(|j| record_from_json(j))
            .collect::<PyResult<Vec<_>>>()?;
        let now = now_secs(now)? as i64;
        let r = py.detach(|| core::authenticate_api_token(&presented, &candidates, now).cloned());
        let rec = tok_err(py, r)?;
        record_to_py(py, &rec)
    })
}

/// `(raw_key, key_prefix)` of a new node-auth API key.
#[pyfunction]
fn tokens_generate_node_api_key(py: Python<'_>) -> PyResult<(String, String)> {
    let k = tok_err(py, core::generate_node_api_key())?;
    Ok((k.raw_key, k.key_prefix))
}

#[pyfunction]
fn tokens_node_api_key_prefix(raw: &str) -> Option<String> {
    core::node_api_key_prefix(raw).map(str::to_string)
}

#[pyfunction]
fn tokens_generate_session_token(py: Python<'_>) -> PyResult<String> {
    tok_err(py, core::generate_session_token())
}

#[pyfunction]
fn tokens_hash_session_token(token: &str) -> String {
    core::hash_session_token(token)
}

#[pyfunction]
fn tokens_hash_blake3(data: &[u8]) -> String {
    core::hash_blake3(data)
}

#[pyfunction]
fn tokens_verify_session_token(token: &str, session_id: &str) -> bool {
    core::verify_session_token(token, session_id)
}

#[pyfunction]
fn tokens_parse_rfc3339(s: &str) -> Option<i64> {
    core::parse_rfc3339(s)
}

/// In-memory API-token store (core `InMemoryApiTokenStore`) with the `requireAuth` flow.
#[pyclass(module = "authcore._native", name = "ApiTokenStore", frozen)]
pub struct PyApiTokenStore {
    inner: InMemoryApiTokenStore,
}

#[pymethods]
impl PyApiTokenStore {
    #[new]
    fn new() -> Self {
        Self {
            inner: InMemoryApiTokenStore::new(),
        }
    }

    /// Insert a record given as JSON (camelCase `ApiToken` fields).
    fn insert_json(&self, record_json: &str) -> PyResult<()> {
        self.inner.insert(record_from_json(record_json)?);
        Ok(())
    }

    fn find_by_prefix<'py>(
        &self,
        py: Python<'py>,
        prefix: &str,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .find_by_prefix(prefix)
            .iter()
            .map(|r| record_to_py(py, r))
            .collect()
    }

    fn all<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .all()
            .iter()
            .map(|r| record_to_py(py, r))
            .collect()
    }

    /// Look up by prefix, authenticate, touch `lastUsedAt`; returns `AuthData` as a dict.
    #[pyo3(signature = (presented, visible_prefix, now=None, now_rfc3339=None))]
    fn authenticate<'py>(
        &self,
        py: Python<'py>,
        presented: String,
        visible_prefix: String,
        now: Option<f64>,
        now_rfc3339: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let now = now_secs(now)? as i64;
            let stamp = now_rfc3339.unwrap_or_default();
            let r = py.detach(|| {
                core::authenticate_with_store(&self.inner, &presented, &visible_prefix, now, &stamp)
            });
            let data = tok_err(py, r)?;
            record_to_py(py, &data)
        })
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tokens_generate_api_token, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_hash_api_token, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_api_token_lookup_prefix, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_match_token_hash, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_authenticate_api_token, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_generate_node_api_key, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_node_api_key_prefix, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_generate_session_token, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_hash_session_token, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_hash_blake3, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_verify_session_token, m)?)?;
    m.add_function(wrap_pyfunction!(tokens_parse_rfc3339, m)?)?;
    m.add_class::<PyApiTokenStore>()?;
    Ok(())
}
