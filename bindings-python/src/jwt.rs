//! `authcore.jwt`: PyJWT-style `encode`/`decode` over `authcore::jwt`, key sets with
//! node-jsonwebtoken semantics and JWKS, and the Auth Server `TokenManager`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use authcore::error::InvalidArgument;
use authcore::jwt::{
    self as core, Algorithm, ClaimChecks, JwtError, JwtKey, KeySet, PublicJwk, RefreshTokenClaims,
    RefreshTokenStore, TokenClaims, TokenManager, TokenManagerConfig, TokenUse, Validation,
};
use authcore::token_stores;
use pyo3::exceptions::{PyNotImplementedError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use serde_json::Value;

use crate::convert::{bytes_arg, now_f64, now_secs};
use crate::errors::{guard, raise};
use crate::json;

const MODULE: &str = "authcore.jwt";

/// PyJWT's message for the common rejections (tests compare classes and codes).
fn message(e: &JwtError) -> String {
    match e {
        JwtError::Expired => "Signature has expired".into(),
        JwtError::NotYetValid => "The token is not yet valid (nbf)".into(),
        JwtError::InvalidAudience => "Audience doesn't match".into(),
        JwtError::InvalidIssuer => "Invalid issuer".into(),
        JwtError::InvalidSubject => "Invalid subject".into(),
        JwtError::InvalidSignature => "Signature verification failed".into(),
        JwtError::AlgNone | JwtError::AlgorithmMismatch(_) => {
            "The specified alg value is not allowed".into()
        }
        JwtError::UnsupportedAlgorithm(_) => "Algorithm not supported".into(),
        JwtError::InvalidClaim(c) if c == "iat" => {
            "Issued At claim (iat) must be an integer.".into()
        }
        JwtError::InvalidClaim(c) if c == "exp" => {
            "Expiration Time claim (exp) must be an integer.".into()
        }
        JwtError::InvalidClaim(c) if c == "nbf" => {
            "Not Before claim (nbf) must be an integer.".into()
        }
        JwtError::InvalidClaim(c) if c == "jti" => "JWT ID must be a string".into(),
        other => other.to_string(),
    }
}

/// The one mapping of `JwtError` to the PyJWT-named classes of `authcore.jwt`.
pub fn to_py(py: Python<'_>, e: &JwtError) -> PyErr {
    let extra = match e {
        JwtError::MissingClaim(c) | JwtError::InvalidClaim(c) => Some(c.as_str()),
        _ => None,
    };
    raise(py, MODULE, e.code(), message(e), e.status(), "", extra)
}

fn parse_alg(name: &str) -> PyResult<Algorithm> {
    Algorithm::parse(name).ok_or_else(|| PyNotImplementedError::new_err("Algorithm not supported"))
}

/// Parsed asymmetric keys, by (algorithm, PEM bytes): a PEM is parsed once per process.
/// HMAC keys are built per call (cheap) and never retained.
type KeyCache = HashMap<(Algorithm, Vec<u8>), Arc<JwtKey>>;
static KEY_CACHE: Mutex<Option<KeyCache>> = Mutex::new(None);
const KEY_CACHE_MAX: usize = 64;

fn key_for(alg: Algorithm, material: &[u8]) -> Result<Arc<JwtKey>, JwtError> {
    if alg.is_hmac() {
        return JwtKey::from_material(alg, material).map(Arc::new);
    }
    let id = (alg, material.to_vec());
    {
        let guard = KEY_CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = guard.as_ref().and_then(|m| m.get(&id)) {
            return Ok(k.clone());
        }
    }
    let key = Arc::new(JwtKey::from_material(alg, material)?);
    let mut guard = KEY_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    if map.len() >= KEY_CACHE_MAX {
        map.clear();
    }
    map.insert(id, key.clone());
    Ok(key)
}

/// `jwt.encode`: `payload` is a dict (serialised exactly like PyJWT) unless `payload_json`
/// gives the text; `header_json` is PyJWT's full header text when extra headers are used.
#[pyfunction]
#[pyo3(signature = (payload, key, algorithm, header_json=None, payload_json=None))]
fn jwt_encode(
    py: Python<'_>,
    payload: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    algorithm: &str,
    header_json: Option<String>,
    payload_json: Option<String>,
) -> PyResult<String> {
    guard(|| {
        let alg = parse_alg(algorithm)?;
        let material = bytes_arg(key, "key")?;
        let payload_json = match payload_json {
            Some(p) => p,
            None => json::dumps_or_python(payload)?,
        };
        let sign = move || -> Result<String, JwtError> {
            let key = key_for(alg, &material)?;
            match header_json {
                None => core::sign_json_with_key(&key, &payload_json),
                Some(h) => core::sign_with_header_json(&key, &h, &payload_json),
            }
        };
        let r = if alg.is_hmac() {
            sign()
        } else {
            py.detach(sign)
        };
        r.map_err(|e| to_py(py, &e))
    })
}

fn token_text(token: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = token.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(b) = token.cast::<PyBytes>() {
        return Ok(String::from_utf8_lossy(b.as_bytes()).into_owned());
    }
    Err(raise(
        token.py(),
        MODULE,
        "JWT_MALFORMED",
        format!(
            "Invalid token type. Token must be a <class 'bytes'>; got {}",
            token.get_type().name()?
        ),
        401,
        "DecodeError",
        None,
    ))
}

/// `jwt.decode` with every option at PyJWT's default (the hot path).
#[pyfunction]
fn jwt_decode_default<'py>(
    py: Python<'py>,
    token: &Bound<'py, PyAny>,
    key: &Bound<'py, PyAny>,
    algorithms: Vec<String>,
) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let token = token_text(token)?;
        let material = bytes_arg(key, "key")?;
        let algs: Vec<&str> = algorithms.iter().map(String::as_str).collect();
        let run = || -> Result<serde_json::Map<String, Value>, JwtError> {
            let (_, claims) =
                core::verify_signature_allowlist(&token, &algs, |alg, _| key_for(alg, &material))?;
            core::validate_claim_checks(&claims, &ClaimChecks::default(), now_f64())?;
            Ok(claims)
        };
        let asymmetric = algs.iter().any(|a| !a.starts_with("HS"));
        let claims = if asymmetric { py.detach(run) } else { run() };
        let claims = claims.map_err(|e| to_py(py, &e))?;
        json::map_to_py(py, &claims)
    })
}

/// `jwt.decode` / `decode_complete` with explicit options. Returns the payload dict, or
/// `(header, payload)` when `complete`.
#[pyfunction]
#[pyo3(signature = (token, key, algorithms, verify_signature, complete, verify_exp, verify_nbf, verify_iat, verify_iss, verify_aud, verify_sub, verify_jti, strict_aud, require, audience, issuer, subject, leeway))]
#[allow(clippy::too_many_arguments)]
fn jwt_decode<'py>(
    py: Python<'py>,
    token: &Bound<'py, PyAny>,
    key: &Bound<'py, PyAny>,
    algorithms: Vec<String>,
    verify_signature: bool,
    complete: bool,
    verify_exp: bool,
    verify_nbf: bool,
    verify_iat: bool,
    verify_iss: bool,
    verify_aud: bool,
    verify_sub: bool,
    verify_jti: bool,
    strict_aud: bool,
    require: Vec<String>,
    audience: Option<Vec<String>>,
    issuer: Option<Vec<String>>,
    subject: Option<String>,
    leeway: f64,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let token = token_text(token)?;
        let material = if verify_signature {
            bytes_arg(key, "key")?
        } else {
            Vec::new()
        };
        let checks = ClaimChecks {
            verify_exp,
            verify_nbf,
            verify_iat,
            verify_iss,
            verify_aud,
            verify_sub,
            verify_jti,
            strict_aud,
            require,
            audience,
            issuer,
            subject,
            leeway,
        };
        let algs: Vec<&str> = algorithms.iter().map(String::as_str).collect();
        type Decoded = (
            serde_json::Map<String, Value>,
            serde_json::Map<String, Value>,
        );
        let run = || -> Result<Decoded, JwtError> {
            let (header, claims) = if verify_signature {
                let (_, claims) = core::verify_signature_allowlist(&token, &algs, |alg, _| {
                    key_for(alg, &material)
                })?;
                // The header was validated by the call above; decode it for `complete`.
                let header = if complete {
                    core::insecure_decode(&token)?.0
                } else {
                    serde_json::Map::new()
                };
                (header, claims)
            } else {
                core::insecure_decode(&token)?
            };
            core::validate_claim_checks(&claims, &checks, now_f64())?;
            Ok((header, claims))
        };
        let asymmetric = verify_signature && algs.iter().any(|a| !a.starts_with("HS"));
        let r = if asymmetric { py.detach(run) } else { run() };
        let (header, claims) = r.map_err(|e| to_py(py, &e))?;
        let payload = json::map_to_py(py, &claims)?;
        if complete {
            let header = json::map_to_py(py, &header)?;
            Ok((header, payload).into_pyobject(py)?.into_any())
        } else {
            Ok(payload.into_any())
        }
    })
}

/// Header of a token, unverified (`jwt.get_unverified_header`).
#[pyfunction]
fn jwt_unverified_header<'py>(
    py: Python<'py>,
    token: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let token = token_text(token)?;
        let (header, _) = core::insecure_decode(&token).map_err(|e| to_py(py, &e))?;
        json::map_to_py(py, &header)
    })
}

fn jwt_err<T>(py: Python<'_>, r: Result<T, JwtError>) -> PyResult<T> {
    r.map_err(|e| to_py(py, &e))
}

fn token_use(name: Option<&str>) -> PyResult<Option<TokenUse>> {
    Ok(match name {
        None => None,
        Some("access") => Some(TokenUse::Access),
        Some("refresh") => Some(TokenUse::Refresh),
        Some("mfa_pending") => Some(TokenUse::MfaPending),
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "token_use must be 'access', 'refresh' or 'mfa_pending', not {other:?}"
            )));
        }
    })
}

fn build_key(
    alg: &str,
    material: &[u8],
    kid: Option<&str>,
    accept: Option<Vec<String>>,
    node_compat: bool,
) -> Result<JwtKey, JwtError> {
    let alg = Algorithm::parse(alg).ok_or_else(|| JwtError::UnsupportedAlgorithm(alg.into()))?;
    let mut key = if node_compat && alg == Algorithm::HS256 {
        JwtKey::hmac_node_compat(material)?
    } else {
        JwtKey::from_material(alg, material)?
    };
    if let Some(list) = accept {
        let algs = list
            .iter()
            .map(|a| Algorithm::parse(a).ok_or_else(|| JwtError::UnsupportedAlgorithm(a.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        key = key.accept_algorithms(&algs)?;
    }
    if let Some(k) = kid {
        key = key.with_kid(k);
    }
    Ok(key)
}

/// A set of keys indexed by `kid` (core `KeySet`): node-jsonwebtoken semantics, JWKS.
#[pyclass(module = "authcore._native", name = "KeySet", frozen)]
pub struct PyKeySet {
    inner: RwLock<KeySet>,
}

impl PyKeySet {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, KeySet> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl PyKeySet {
    #[new]
    fn new() -> Self {
        Self {
            inner: RwLock::new(KeySet::new()),
        }
    }

    /// Parse a JWKS document (public keys only; symmetric keys are never accepted).
    #[staticmethod]
    fn from_jwks_json(py: Python<'_>, json: &str) -> PyResult<Self> {
        guard(|| {
            Ok(Self {
                inner: RwLock::new(jwt_err(py, KeySet::from_jwks_json(json))?),
            })
        })
    }

    /// Add a key: `algorithm` + HMAC secret or PEM. `accept` overrides the verification
    /// algorithms (same family); `node_compat` makes an HS256 secret accept HS256/384/512.
    #[pyo3(signature = (algorithm, key, kid=None, accept=None, node_compat=false))]
    fn add(
        &self,
        py: Python<'_>,
        algorithm: &str,
        key: &Bound<'_, PyAny>,
        kid: Option<&str>,
        accept: Option<Vec<String>>,
        node_compat: bool,
    ) -> PyResult<()> {
        guard(|| {
            let material = bytes_arg(key, "key")?;
            let k = py.detach(|| build_key(algorithm, &material, kid, accept, node_compat));
            let k = jwt_err(py, k)?;
            let mut set = self.inner.write().unwrap_or_else(|e| e.into_inner());
            jwt_err(py, set.add(k))
        })
    }

    /// Add a public JWK (JSON text).
    fn add_jwk(&self, py: Python<'_>, jwk_json: &str) -> PyResult<()> {
        guard(|| {
            let jwk: PublicJwk = serde_json::from_str(jwk_json)
                .map_err(|e| to_py(py, &JwtError::InvalidKey(e.to_string())))?;
            let k = jwt_err(py, JwtKey::from_jwk(&jwk))?;
            let mut set = self.inner.write().unwrap_or_else(|e| e.into_inner());
            jwt_err(py, set.add(k))
        })
    }

    /// Choose the signing key by kid (`None`: the key without kid).
    #[pyo3(signature = (kid=None))]
    fn set_signing_kid(&self, py: Python<'_>, kid: Option<&str>) -> PyResult<()> {
        let mut set = self.inner.write().unwrap_or_else(|e| e.into_inner());
        jwt_err(py, set.set_signing_kid(kid))
    }

    fn __len__(&self) -> usize {
        self.read().len()
    }

    /// The public keys as a JWKS JSON text (HMAC secrets never appear).
    fn jwks_json(&self) -> String {
        self.read().jwks().to_json()
    }

    /// Sign the exact payload JSON text with the signing key (header
    /// `{"alg","typ","kid"}` in node-jsonwebtoken's order).
    fn sign_json(&self, py: Python<'_>, payload_json: &str) -> PyResult<String> {
        guard(|| {
            let set = self.read();
            let r = py.detach(|| core::sign_payload_json(&set, payload_json));
            jwt_err(py, r)
        })
    }

    /// Verify with node-jsonwebtoken semantics (`exp` when present, `nbf`, leeway,
    /// issuer/audience/subject when given, `token_use` when given); returns the claims.
    #[pyo3(signature = (token, now=None, leeway=0, issuer=None, audience=None, subject=None, token_use=None, required_claims=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        token: &str,
        now: Option<f64>,
        leeway: u64,
        issuer: Option<Vec<String>>,
        audience: Option<Vec<String>>,
        subject: Option<String>,
        token_use: Option<&str>,
        required_claims: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let v = Validation {
                leeway,
                issuer,
                audience,
                subject,
                token_use: self::token_use(token_use)?,
                required_claims: required_claims.unwrap_or_default(),
            };
            let now = now_secs(now)?;
            let set = self.read();
            let r =
                py.detach(|| core::verify::<serde_json::Map<String, Value>>(&set, token, &v, now));
            let verified = jwt_err(py, r)?;
            json::map_to_py(py, &verified.claims)
        })
    }
}

/// JWKS (JSON text) of one public key PEM.
#[pyfunction]
fn jwt_jwks_from_pem(
    py: Python<'_>,
    algorithm: &str,
    pem: &Bound<'_, PyAny>,
    kid: &str,
) -> PyResult<String> {
    guard(|| {
        let material = bytes_arg(pem, "pem")?;
        let key = jwt_err(py, build_key(algorithm, &material, Some(kid), None, false))?;
        Ok(KeySet::single(key).jwks().to_json())
    })
}

pub(crate) fn value_dict<'py, T: serde::Serialize>(
    py: Python<'py>,
    v: &T,
) -> PyResult<Bound<'py, PyDict>> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => json::map_to_py(py, &m),
        _ => Err(PyValueError::new_err(
            "claims did not serialise to an object",
        )),
    }
}

/// The Auth Server `TokenManager` over an in-memory or Redis refresh-token store.
#[pyclass(module = "authcore._native", name = "TokenManager", frozen)]
pub struct PyTokenManager {
    inner: TokenManager<Box<dyn RefreshTokenStore>>,
}

impl PyTokenManager {
    /// The core manager (for the authorization server's code grant).
    pub(crate) fn core(&self) -> &TokenManager<Box<dyn RefreshTokenStore>> {
        &self.inner
    }
}

#[pymethods]
impl PyTokenManager {
    #[new]
    #[pyo3(signature = (issuer, key, algorithm="HS256", kid=None, audience=None, access_ttl=900, refresh_ttl=2_592_000, mfa_pending_ttl=300, leeway=0, refresh_key=None, refresh_algorithm=None, refresh_kid=None, store=None, key_prefix=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        issuer: String,
        key: &Bound<'_, PyAny>,
        algorithm: &str,
        kid: Option<&str>,
        audience: Option<String>,
        access_ttl: u64,
        refresh_ttl: u64,
        mfa_pending_ttl: u64,
        leeway: u64,
        refresh_key: Option<&Bound<'_, PyAny>>,
        refresh_algorithm: Option<&str>,
        refresh_kid: Option<&str>,
        store: Option<&str>,
        key_prefix: Option<&str>,
    ) -> PyResult<Self> {
        guard(|| {
            let store = token_stores::refresh_token_store(store.unwrap_or(""), key_prefix)
                .map_err(|e| crate::errors::invalid_argument(py, &InvalidArgument::store(&e)))?;
            let material = bytes_arg(key, "key")?;
            let keys = KeySet::single(jwt_err(
                py,
                build_key(algorithm, &material, kid, None, false),
            )?);
            let config = TokenManagerConfig {
                issuer,
                audience,
                access_ttl,
                refresh_ttl,
                mfa_pending_ttl,
                leeway,
            };
            let mut tm = jwt_err(py, TokenManager::new(keys, config, store))?;
            if let Some(rk) = refresh_key {
                let material = bytes_arg(rk, "refresh_key")?;
                let alg = refresh_algorithm.unwrap_or(algorithm);
                let rkeys = KeySet::single(jwt_err(
                    py,
                    build_key(alg, &material, refresh_kid, None, false),
                )?);
                tm = jwt_err(py, tm.with_refresh_keys(rkeys))?;
            }
            Ok(Self { inner: tm })
        })
    }

    #[pyo3(signature = (user_id, domain_id, scope, now=None))]
    fn create_access_token(
        &self,
        py: Python<'_>,
        user_id: String,
        domain_id: String,
        scope: String,
        now: Option<f64>,
    ) -> PyResult<String> {
        guard(|| {
            let now = now_secs(now)?;
            let claims = TokenClaims {
                user_id,
                domain_id,
                scope,
            };
            jwt_err(
                py,
                py.detach(|| self.inner.create_access_token(&claims, now)),
            )
        })
    }

    #[pyo3(signature = (token, now=None))]
    fn verify_access_token<'py>(
        &self,
        py: Python<'py>,
        token: &str,
        now: Option<f64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let now = now_secs(now)?;
            let p = jwt_err(py, py.detach(|| self.inner.verify_access_token(token, now)))?;
            value_dict(py, &p)
        })
    }

    #[pyo3(signature = (user_id, domain_id, scope=None, now=None))]
    fn create_refresh_token(
        &self,
        py: Python<'_>,
        user_id: String,
        domain_id: String,
        scope: Option<String>,
        now: Option<f64>,
    ) -> PyResult<String> {
        guard(|| {
            let now = now_secs(now)?;
            let claims = RefreshTokenClaims { user_id, domain_id };
            jwt_err(
                py,
                py.detach(|| {
                    self.inner
                        .create_refresh_token(&claims, scope.as_deref(), now)
                }),
            )
        })
    }

    #[pyo3(signature = (user_id, domain_id, scope, now=None))]
    fn create_token_pair<'py>(
        &self,
        py: Python<'py>,
        user_id: String,
        domain_id: String,
        scope: String,
        now: Option<f64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let now = now_secs(now)?;
            let claims = TokenClaims {
                user_id,
                domain_id,
                scope,
            };
            let pair = jwt_err(py, py.detach(|| self.inner.create_token_pair(&claims, now)))?;
            value_dict(py, &pair)
        })
    }

    #[pyo3(signature = (token, now=None))]
    fn verify_refresh_token<'py>(
        &self,
        py: Python<'py>,
        token: &str,
        now: Option<f64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let now = now_secs(now)?;
            let r = py.detach(|| self.inner.verify_refresh_token(token, now));
            value_dict(py, &r)
        })
    }

    #[pyo3(signature = (refresh_token, now=None))]
    fn refresh<'py>(
        &self,
        py: Python<'py>,
        refresh_token: &str,
        now: Option<f64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let now = now_secs(now)?;
            let pair = jwt_err(py, py.detach(|| self.inner.refresh(refresh_token, now)))?;
            value_dict(py, &pair)
        })
    }

    fn revoke_refresh_token(&self, py: Python<'_>, token: &str) -> PyResult<usize> {
        guard(|| jwt_err(py, py.detach(|| self.inner.revoke_refresh_token(token))))
    }

    fn revoke_user(&self, py: Python<'_>, user_id: &str) -> PyResult<usize> {
        guard(|| jwt_err(py, py.detach(|| self.inner.revoke_user(user_id))))
    }

    #[pyo3(signature = (user_id, domain_id, now=None))]
    fn create_mfa_pending_token(
        &self,
        py: Python<'_>,
        user_id: &str,
        domain_id: &str,
        now: Option<f64>,
    ) -> PyResult<String> {
        guard(|| {
            let now = now_secs(now)?;
            jwt_err(
                py,
                py.detach(|| self.inner.create_mfa_pending_token(user_id, domain_id, now)),
            )
        })
    }

    #[pyo3(signature = (token, now=None))]
    fn verify_mfa_pending_token<'py>(
        &self,
        py: Python<'py>,
        token: &str,
        now: Option<f64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let now = now_secs(now)?;
            let p = jwt_err(
                py,
                py.detach(|| self.inner.verify_mfa_pending_token(token, now)),
            )?;
            value_dict(py, &p)
        })
    }

    fn jwks_json(&self) -> String {
        self.inner.jwks().to_json()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(jwt_encode, m)?)?;
    m.add_function(wrap_pyfunction!(jwt_decode_default, m)?)?;
    m.add_function(wrap_pyfunction!(jwt_decode, m)?)?;
    m.add_function(wrap_pyfunction!(jwt_unverified_header, m)?)?;
    m.add_function(wrap_pyfunction!(jwt_jwks_from_pem, m)?)?;
    m.add_class::<PyKeySet>()?;
    m.add_class::<PyTokenManager>()?;
    Ok(())
}
