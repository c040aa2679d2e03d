//! The original's pure functions (spec §2.2, §2.3, §2.12), snake_case.

use authcore::hmac::{self, HmacError, crypto, ip, message, record};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::convert::{self, Body, req_str};
use crate::errors::{guard, input, to_py};

/// Bodies above this size are hashed with the GIL released.
pub const DETACH_BODY_BYTES: usize = 64 * 1024;

pub fn hmac_err<T>(py: Python<'_>, r: Result<T, HmacError>) -> PyResult<T> {
    r.map_err(|e| to_py(py, &e))
}

/// SHA-256 of a body, releasing the GIL for large bodies.
fn hash_body_detached(py: Python<'_>, body: &Body<'_>) -> String {
    let bytes = body.as_slice();
    if bytes.len() > DETACH_BODY_BYTES {
        py.detach(|| crypto::hash_body(bytes))
    } else {
        crypto::hash_body(bytes)
    }
}

#[pyfunction]
#[pyo3(signature = (secret, secret_token=None))]
pub fn hash_client_secret(
    py: Python<'_>,
    secret: &Bound<'_, PyAny>,
    secret_token: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    guard(py, || {
        hmac_err(
            py,
            (|| {
                let secret = req_str(secret, "secret")?;
                let token = convert::opt_str(secret_token, "secret_token")?;
                Ok(crypto::hash_client_secret(&secret, token.as_deref()))
            })(),
        )
    })
}

#[pyfunction]
pub fn hash_body(py: Python<'_>, body: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    guard(py, || {
        let body = hmac_err(py, convert::body(body))?;
        Ok(hash_body_detached(py, &body))
    })
}

struct SignArgs<'a> {
    method: std::borrow::Cow<'a, str>,
    path: std::borrow::Cow<'a, str>,
    timestamp: f64,
    nonce: std::borrow::Cow<'a, str>,
    body: Body<'a>,
}

fn sign_args<'a>(
    method: &'a Bound<'_, PyAny>,
    path: &'a Bound<'_, PyAny>,
    timestamp: &'a Bound<'_, PyAny>,
    nonce: &'a Bound<'_, PyAny>,
    body: Option<&'a Bound<'_, PyAny>>,
) -> Result<SignArgs<'a>, HmacError> {
    Ok(SignArgs {
        method: req_str(method, "method")?,
        path: req_str(path, "path")?,
        timestamp: convert::finite_number(timestamp, "timestamp")?,
        nonce: req_str(nonce, "nonce")?,
        body: convert::body(body)?,
    })
}

#[pyfunction]
#[pyo3(signature = (method, path, timestamp, nonce, body=None))]
pub fn build_signing_payload(
    py: Python<'_>,
    method: &Bound<'_, PyAny>,
    path: &Bound<'_, PyAny>,
    timestamp: &Bound<'_, PyAny>,
    nonce: &Bound<'_, PyAny>,
    body: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    guard(py, || {
        let a = hmac_err(py, sign_args(method, path, timestamp, nonce, body))?;
        hmac_err(
            py,
            crypto::build_signing_payload(&crypto::SignInput {
                method: &a.method,
                path: &a.path,
                timestamp: a.timestamp,
                nonce: &a.nonce,
                body: a.body.as_slice(),
                secret: "",
            }),
        )
    })
}

#[pyfunction]
#[pyo3(signature = (method, path, timestamp, nonce, body, secret))]
pub fn sign_request(
    py: Python<'_>,
    method: &Bound<'_, PyAny>,
    path: &Bound<'_, PyAny>,
    timestamp: &Bound<'_, PyAny>,
    nonce: &Bound<'_, PyAny>,
    body: Option<&Bound<'_, PyAny>>,
    secret: &Bound<'_, PyAny>,
) -> PyResult<String> {
    guard(py, || {
        let a = hmac_err(py, sign_args(method, path, timestamp, nonce, body))?;
        let secret = hmac_err(py, req_str(secret, "secret"))?;
        let input = crypto::SignInput {
            method: &a.method,
            path: &a.path,
            timestamp: a.timestamp,
            nonce: &a.nonce,
            body: a.body.as_slice(),
            secret: &secret,
        };
        let r = if input.body.len() > DETACH_BODY_BYTES {
            py.detach(|| crypto::sign_request(&input))
        } else {
            crypto::sign_request(&input)
        };
        hmac_err(py, r)
    })
}

/// `safeEqualHex(signRequest(input), signature)` in one call, compared in constant time.
#[pyfunction]
#[pyo3(signature = (method, path, timestamp, nonce, body, secret, signature))]
#[allow(clippy::too_many_arguments)]
pub fn verify_request_signature(
    py: Python<'_>,
    method: &Bound<'_, PyAny>,
    path: &Bound<'_, PyAny>,
    timestamp: &Bound<'_, PyAny>,
    nonce: &Bound<'_, PyAny>,
    body: Option<&Bound<'_, PyAny>>,
    secret: &Bound<'_, PyAny>,
    signature: &Bound<'_, PyAny>,
) -> PyResult<bool> {
    guard(py, || {
        let a = hmac_err(py, sign_args(method, path, timestamp, nonce, body))?;
        let secret = hmac_err(py, req_str(secret, "secret"))?;
        let signature = hmac_err(py, req_str(signature, "signature"))?;
        let input = crypto::SignInput {
            method: &a.method,
            path: &a.path,
            timestamp: a.timestamp,
            nonce: &a.nonce,
            body: a.body.as_slice(),
            secret: &secret,
        };
        let r = if input.body.len() > DETACH_BODY_BYTES {
            py.detach(|| crypto::verify_request_signature(&input, &signature))
        } else {
            crypto::verify_request_signature(&input, &signature)
        };
        hmac_err(py, r)
    })
}

#[pyfunction]
pub fn safe_equal_hex(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<bool> {
    guard(py, || {
        let a = hmac_err(py, req_str(a, "a"))?;
        let b = hmac_err(py, req_str(b, "b"))?;
        Ok(crypto::safe_equal_hex(&a, &b))
    })
}

#[pyfunction]
pub fn normalize_path(py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<String> {
    guard(py, || {
        let path = hmac_err(py, req_str(path, "path"))?;
        hmac_err(py, hmac::normalize_path(&path).map(|p| p.into_owned()))
    })
}

#[pyfunction]
pub fn build_message_signing_payload(
    py: Python<'_>,
    client_id: &Bound<'_, PyAny>,
    message_hash: &Bound<'_, PyAny>,
) -> PyResult<String> {
    guard(py, || {
        let c = hmac_err(py, req_str(client_id, "client_id"))?;
        let h = hmac_err(py, req_str(message_hash, "message_hash"))?;
        hmac_err(py, message::build_message_signing_payload(&c, &h))
    })
}

/// `SignedMessage`.
#[pyclass(module = "authcore._native", frozen, get_all, eq)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMessage {
    pub client_id: String,
    pub message_hash: String,
    pub signature: String,
}

#[pymethods]
impl SignedMessage {
    fn __repr__(&self) -> String {
        format!(
            "SignedMessage(client_id={:?}, message_hash={:?}, signature={:?})",
            self.client_id, self.message_hash, self.signature
        )
    }

    /// The original's JSON shape: `{"clientId", "messageHash", "signature"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("clientId", &self.client_id)?;
        d.set_item("messageHash", &self.message_hash)?;
        d.set_item("signature", &self.signature)?;
        Ok(d)
    }
}

impl From<message::SignedMessage> for SignedMessage {
    fn from(m: message::SignedMessage) -> Self {
        Self {
            client_id: m.client_id,
            message_hash: m.message_hash,
            signature: m.signature,
        }
    }
}

fn message_key_args<'a>(
    secret: &'a Bound<'_, PyAny>,
    hash_token: Option<&'a Bound<'_, PyAny>>,
) -> Result<(std::borrow::Cow<'a, str>, Option<std::borrow::Cow<'a, str>>), HmacError> {
    Ok((
        req_str(secret, "secret")?,
        convert::opt_str(hash_token, "hash_token")?,
    ))
}

#[pyfunction]
#[pyo3(signature = (client_id, message, secret, secret_is_hashed=false, hash_token=None))]
pub fn sign_message(
    py: Python<'_>,
    client_id: &Bound<'_, PyAny>,
    message: &Bound<'_, PyAny>,
    secret: &Bound<'_, PyAny>,
    secret_is_hashed: bool,
    hash_token: Option<&Bound<'_, PyAny>>,
) -> PyResult<SignedMessage> {
    guard(py, || {
        hmac_err(
            py,
            (|| {
                let client_id = req_str(client_id, "client_id")?;
                let (secret, token) = message_key_args(secret, hash_token)?;
                let value = convert::js_value(message)?;
                message::sign_message(
                    &client_id,
                    &value,
                    message::MessageKey {
                        secret: &secret,
                        secret_is_hashed,
                        hash_token: token.as_deref(),
                    },
                )
                .map(SignedMessage::from)
            })(),
        )
    })
}

#[pyfunction]
#[pyo3(signature = (client_id, message, secret, signature, secret_is_hashed=false, hash_token=None))]
pub fn verify_message(
    py: Python<'_>,
    client_id: &Bound<'_, PyAny>,
    message: &Bound<'_, PyAny>,
    secret: &Bound<'_, PyAny>,
    signature: &Bound<'_, PyAny>,
    secret_is_hashed: bool,
    hash_token: Option<&Bound<'_, PyAny>>,
) -> PyResult<bool> {
    guard(py, || {
        hmac_err(
            py,
            (|| {
                let client_id = req_str(client_id, "client_id")?;
                let (secret, token) = message_key_args(secret, hash_token)?;
                let value = convert::js_value(message)?;
                // The original throws a TypeError for an undefined signature, but only
                // after signing (so a blank clientId/secret wins).
                let signed = message::sign_message(
                    &client_id,
                    &value,
                    message::MessageKey {
                        secret: &secret,
                        secret_is_hashed,
                        hash_token: token.as_deref(),
                    },
                )?;
                let signature = req_str(signature, "signature")?;
                Ok(message::signature_matches(&signed, &signature))
            })(),
        )
    })
}

#[pyfunction]
pub fn message_canonical(py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<String> {
    guard(py, || {
        hmac_err(
            py,
            (|| {
                let value = convert::js_value(message)?;
                hmac::canonical::to_message_string(&value)
            })(),
        )
    })
}

/// Rules from a Python list/tuple; `None` when `obj` is not a sequence.
pub fn ip_entries(obj: &Bound<'_, PyAny>) -> Option<Vec<ip::AllowedIpEntry>> {
    let items: Vec<Bound<'_, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = obj.cast::<pyo3::types::PyTuple>() {
        t.iter().collect()
    } else {
        return None;
    };
    Some(
        items
            .iter()
            .map(|i| match i.cast::<PyString>() {
                Ok(s) => match convert::str_lossy(s) {
                    Ok(v) => ip::AllowedIpEntry::Str(v.into_owned()),
                    Err(_) => ip::AllowedIpEntry::NotAString,
                },
                Err(_) => ip::AllowedIpEntry::NotAString,
            })
            .collect(),
    )
}

/// `normalizeAllowedIpRules(list)`: the rules as they are stored (write path).
#[pyfunction]
pub fn normalize_allowed_ip_rules(
    py: Python<'_>,
    rules: &Bound<'_, PyAny>,
) -> PyResult<Vec<String>> {
    guard(py, || {
        if rules.is_none() {
            return Ok(Vec::new());
        }
        let entries =
            ip_entries(rules).ok_or_else(|| to_py(py, &authcore::hmac::clients::not_an_array()))?;
        hmac_err(py, ip::normalize_allowed_ip_rules(Some(&entries)))
    })
}

/// `isClientIpAllowed(ip, rules)` (invalid rules are skipped, an empty list allows all).
#[pyfunction]
pub fn is_client_ip_allowed(
    py: Python<'_>,
    ip_address: &Bound<'_, PyAny>,
    rules: &Bound<'_, PyAny>,
) -> PyResult<bool> {
    guard(py, || {
        let ip_address = hmac_err(py, req_str(ip_address, "ip"))?;
        let entries = ip_entries(rules)
            .ok_or_else(|| to_py(py, &input("rules must be a list of strings")))?;
        let rules: Vec<String> = entries
            .into_iter()
            .filter_map(|e| match e {
                ip::AllowedIpEntry::Str(s) => Some(s),
                ip::AllowedIpEntry::NotAString => None,
            })
            .collect();
        Ok(ip::is_client_ip_allowed(&ip_address, &rules))
    })
}

/// A stored record as a dict with the original's camelCase keys.
pub fn record_dict<'py>(py: Python<'py>, r: &record::ClientRecord) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("secretHash", &r.secret_hash)?;
    d.set_item("createdAt", convert::js_number_to_py(py, r.created_at)?)?;
    d.set_item("updatedAt", convert::js_number_to_py(py, r.updated_at)?)?;
    match r.expires_at {
        Some(v) => d.set_item("expiresAt", convert::js_number_to_py(py, v)?)?,
        None => d.set_item("expiresAt", py.None())?,
    }
    d.set_item("allowedIps", &r.allowed_ips)?;
    Ok(d)
}

/// `parseStoredClientRecord(raw)`: `{secretHash, createdAt, updatedAt, expiresAt,
/// allowedIps}` (legacy plain-hash values included).
#[pyfunction]
pub fn parse_stored_client_record<'py>(
    py: Python<'py>,
    raw: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    guard(py, || {
        let raw = hmac_err(py, req_str(raw, "raw"))?;
        record_dict(py, &record::parse_stored_client_record(&raw))
    })
}

/// `buildHttpSignedHeaders`: the four `x-*` headers of a signed request.
#[pyfunction]
#[pyo3(signature = (method, url, body, client_id, secret, secret_is_hashed=false, hash_token=None, nonce=None, timestamp=None))]
#[allow(clippy::too_many_arguments)]
pub fn build_signed_headers<'py>(
    py: Python<'py>,
    method: &Bound<'py, PyAny>,
    url: &Bound<'py, PyAny>,
    body: Option<&Bound<'py, PyAny>>,
    client_id: &Bound<'py, PyAny>,
    secret: &Bound<'py, PyAny>,
    secret_is_hashed: bool,
    hash_token: Option<&Bound<'py, PyAny>>,
    nonce: Option<&Bound<'py, PyAny>>,
    timestamp: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    guard(py, || {
        let h = hmac_err(
            py,
            (|| {
                let method = req_str(method, "method")?;
                let url = req_str(url, "url")?;
                let body = convert::body(body)?;
                let client_id = req_str(client_id, "client_id")?;
                let secret = req_str(secret, "secret")?;
                let hash_token = convert::opt_str(hash_token, "hash_token")?;
                let nonce = convert::opt_str(nonce, "nonce")?;
                let timestamp = convert::opt_finite_number(timestamp, "timestamp")?;
                let input = hmac::SignRequestHeadersInput {
                    method: &method,
                    url: &url,
                    body: body.as_slice(),
                    client_id: &client_id,
                    secret: &secret,
                    secret_is_hashed,
                    hash_token: hash_token.as_deref(),
                    nonce: nonce.as_deref(),
                    timestamp,
                };
                if input.body.len() > DETACH_BODY_BYTES {
                    py.detach(|| hmac::build_signed_headers(&input))
                } else {
                    hmac::build_signed_headers(&input)
                }
            })(),
        )?;
        let d = PyDict::new(py);
        d.set_item("x-client-id", h.client_id)?;
        d.set_item("x-timestamp", h.timestamp)?;
        d.set_item("x-nonce", h.nonce)?;
        d.set_item("x-signature", h.signature)?;
        Ok(d)
    })
}

/// `generateNonce()`: 16 random bytes as 32 hex chars.
#[pyfunction]
pub fn generate_nonce(py: Python<'_>) -> PyResult<String> {
    hmac_err(py, hmac::clients::generate_nonce())
}
