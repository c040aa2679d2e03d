//! The store-backed runtime: stores, the HTTP verifier, the message track and
//! the `clients` lifecycle, each operation in a sync flavour (GIL released while the
//! core runs on the shared tokio runtime) and an `_async` flavour (an asyncio awaitable
//! through `lifecycle::future_into_py`; the GIL is not held while Redis answers).

use std::future::Future;
use std::sync::Arc;

use authcore::hmac::clients::{
    AllowedIps, ClientCredential as CoreCredential, ClientCredentialWithSecret, CreateOptions,
    ExpiresAt, Patch, RegenerateOptions, RevertResult as CoreRevert, assert_client_id,
};
use authcore::hmac::{
    Clock, HmacAuth, HmacAuthOptions, HmacClients, HmacError, HttpRequestParts, JsValue,
    VerifyError, VerifyOptions, record::ClientRecord,
};
use authcore::store::{KvStore, MemoryStore};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::convert::{self, Body, js_number_to_py, req_str, type_name};
use crate::errors::{CatchUnwind, guard, input, panic_err, to_py, verify_to_py};
use crate::hmac::pure::{SignedMessage, hmac_err, ip_entries};
use authcore::hmac::sources::{HeaderSlot, IpField, IpSources, VERIFY_HEADERS, VerifyHeaders};

fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Run a core future to completion with the GIL released.
fn run_sync<T, E, F>(py: Python<'_>, fut: F, map: fn(Python<'_>, &E) -> PyErr) -> PyResult<T>
where
    F: Future<Output = Result<T, E>> + Send,
    T: Send,
    E: Send,
{
    match py.detach(|| runtime().block_on(CatchUnwind::new(fut))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(map(py, &e)),
        Err(p) => Err(panic_err(py, &*p)),
    }
}

/// Turn a core future into an asyncio awaitable. The future runs on the tokio runtime
/// without the GIL; the GIL is taken only to build the result or the exception.
fn run_async<'py, T, E, F>(
    py: Python<'py>,
    fut: F,
    map: fn(Python<'_>, &E) -> PyErr,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    E: Send + 'static,
{
    crate::lifecycle::future_into_py(py, CatchUnwind::new(fut), move |py, out| match out {
        Ok(Ok(v)) => pyo3::IntoPyObjectExt::into_py_any(v, py),
        Ok(Err(e)) => Err(map(py, &e)),
        Err(p) => Err(panic_err(py, &*p)),
    })
}

fn map_hmac(py: Python<'_>, e: &HmacError) -> PyErr {
    to_py(py, e)
}

fn map_verify(py: Python<'_>, e: &VerifyError) -> PyErr {
    verify_to_py(py, e)
}

// ---------------------------------------------------------------------------------
// Store

/// A credential/nonce store: the embedded in-memory store or Redis (the core's
/// `RedisStore`: one multiplexed auto-reconnecting connection).
#[pyclass(module = "authcore._native", frozen)]
pub struct Store {
    inner: Arc<dyn KvStore>,
    kind: &'static str,
}

fn store_err(e: authcore::store::StoreError) -> HmacError {
    HmacError::from(e)
}

#[pymethods]
impl Store {
    /// A new, empty in-memory store (process-local, nonce keys expire).
    #[staticmethod]
    fn memory() -> Self {
        Self {
            inner: Arc::new(MemoryStore::new()),
            kind: "memory",
        }
    }

    /// Connect to Redis (`redis://host:port/db`). Fails with `HmacStoreError` when the
    /// server does not answer.
    #[staticmethod]
    fn redis(py: Python<'_>, url: &Bound<'_, PyAny>) -> PyResult<Self> {
        let url = hmac_err(py, req_str(url, "redis_url"))?.into_owned();
        let store = run_sync(
            py,
            async move {
                authcore::store::connect_redis(&url)
                    .await
                    .map_err(store_err)
            },
            map_hmac,
        )?;
        Ok(Self {
            inner: store,
            kind: "redis",
        })
    }

    /// `"memory"` or `"redis"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn __repr__(&self) -> String {
        format!("Store(kind={:?})", self.kind)
    }

    /// `HGET key field` (raw access, for migrations and tests).
    fn hget(&self, py: Python<'_>, key: String, field: String) -> PyResult<Option<String>> {
        let s = self.inner.clone();
        run_sync(
            py,
            async move { s.hget(&key, &field).await.map_err(store_err) },
            map_hmac,
        )
    }

    /// `HSET key field value`.
    fn hset(&self, py: Python<'_>, key: String, field: String, value: String) -> PyResult<()> {
        let s = self.inner.clone();
        run_sync(
            py,
            async move { s.hset(&key, &field, &value).await.map_err(store_err) },
            map_hmac,
        )
    }

    /// `HKEYS key`.
    fn hkeys(&self, py: Python<'_>, key: String) -> PyResult<Vec<String>> {
        let s = self.inner.clone();
        run_sync(
            py,
            async move { s.hkeys(&key).await.map_err(store_err) },
            map_hmac,
        )
    }

    /// `GET key`.
    fn get(&self, py: Python<'_>, key: String) -> PyResult<Option<String>> {
        let s = self.inner.clone();
        run_sync(
            py,
            async move { s.get(&key).await.map_err(store_err) },
            map_hmac,
        )
    }

    /// `SET key value EX ttl`.
    fn set_ex(&self, py: Python<'_>, key: String, value: String, ttl_seconds: i64) -> PyResult<()> {
        let s = self.inner.clone();
        run_sync(
            py,
            async move { s.set_ex(&key, &value, ttl_seconds).await.map_err(store_err) },
            map_hmac,
        )
    }

    /// `DEL key`.
    fn delete(&self, py: Python<'_>, key: String) -> PyResult<()> {
        let s = self.inner.clone();
        run_sync(
            py,
            async move { s.del(&key).await.map_err(store_err) },
            map_hmac,
        )
    }
}

// ---------------------------------------------------------------------------------
// Result classes

/// `VerifiedHttpRequest`: `{clientId, timestamp, nonce, signature}`.
#[pyclass(module = "authcore._native", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedRequest {
    #[pyo3(get)]
    client_id: String,
    timestamp: f64,
    #[pyo3(get)]
    nonce: String,
    #[pyo3(get)]
    signature: String,
}

#[pymethods]
impl VerifiedRequest {
    /// The parsed `x-timestamp` (an `int` when integral).
    #[getter]
    fn timestamp(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        js_number_to_py(py, self.timestamp)
    }

    fn __repr__(&self) -> String {
        format!(
            "VerifiedRequest(client_id={:?}, timestamp={}, nonce={:?})",
            self.client_id,
            authcore::js::number_to_string(self.timestamp),
            self.nonce
        )
    }

    /// The original's shape: `{"clientId", "timestamp", "nonce", "signature"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("clientId", &self.client_id)?;
        d.set_item("timestamp", js_number_to_py(py, self.timestamp)?)?;
        d.set_item("nonce", &self.nonce)?;
        d.set_item("signature", &self.signature)?;
        Ok(d)
    }
}

impl From<authcore::hmac::VerifiedRequest> for VerifiedRequest {
    fn from(v: authcore::hmac::VerifiedRequest) -> Self {
        Self {
            client_id: v.client_id,
            timestamp: v.timestamp,
            nonce: v.nonce,
            signature: v.signature,
        }
    }
}

/// `HmacClientCredential` (and `…WithSecret` when `secret` is set).
#[pyclass(module = "authcore._native", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct ClientCredential {
    #[pyo3(get)]
    client_id: String,
    record: ClientRecord,
    /// The plain secret: only returned by `create` and `regenerate_secret`.
    #[pyo3(get)]
    secret: Option<String>,
}

authcore::redacted_debug!(ClientCredential { client_id, record } secret { secret });

#[pymethods]
impl ClientCredential {
    #[getter]
    fn secret_hash(&self) -> &str {
        &self.record.secret_hash
    }
    #[getter]
    fn created_at(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        js_number_to_py(py, self.record.created_at)
    }
    #[getter]
    fn updated_at(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        js_number_to_py(py, self.record.updated_at)
    }
    #[getter]
    fn expires_at(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.record
            .expires_at
            .map(|v| js_number_to_py(py, v))
            .transpose()
    }
    #[getter]
    fn allowed_ips(&self) -> Vec<String> {
        self.record.allowed_ips.clone()
    }

    fn __repr__(&self) -> String {
        // Never print the secret or the secret hash (the signing key).
        format!(
            "ClientCredential(client_id={:?}, secret_hash={}, allowed_ips={:?}{})",
            self.client_id,
            authcore::secret::REDACTED,
            self.record.allowed_ips,
            if self.secret.is_some() {
                format!(", secret={}", authcore::secret::REDACTED)
            } else {
                String::new()
            }
        )
    }

    /// The original's shape (`clientId, secretHash, createdAt, updatedAt, expiresAt,
    /// allowedIps[, secret]`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("clientId", &self.client_id)?;
        for (k, v) in crate::hmac::pure::record_dict(py, &self.record)?.iter() {
            d.set_item(k, v)?;
        }
        if let Some(s) = &self.secret {
            d.set_item("secret", s)?;
        }
        Ok(d)
    }
}

impl From<CoreCredential> for ClientCredential {
    fn from(c: CoreCredential) -> Self {
        Self {
            client_id: c.client_id,
            record: c.record,
            secret: None,
        }
    }
}

impl From<ClientCredentialWithSecret> for ClientCredential {
    fn from(c: ClientCredentialWithSecret) -> Self {
        Self {
            client_id: c.client_id,
            record: c.record,
            secret: Some(c.secret),
        }
    }
}

/// `HmacCredentialRevertResult`.
#[pyclass(module = "authcore._native", frozen, get_all, eq)]
#[derive(Clone, PartialEq, Eq)]
pub struct RevertResult {
    reverted: bool,
    restored_secret_hash: Option<String>,
}

authcore::redacted_debug!(RevertResult { reverted } secret { restored_secret_hash });

#[pymethods]
impl RevertResult {
    fn __repr__(&self) -> String {
        format!(
            "RevertResult(reverted={}, restored_secret_hash={})",
            if self.reverted { "True" } else { "False" },
            if self.restored_secret_hash.is_some() {
                authcore::secret::REDACTED
            } else {
                "None"
            }
        )
    }
}

impl From<CoreRevert> for RevertResult {
    fn from(r: CoreRevert) -> Self {
        Self {
            reverted: r.reverted,
            restored_secret_hash: r.restored_secret_hash,
        }
    }
}

// ---------------------------------------------------------------------------------
// Argument conversion

/// Keyword arguments of a lifecycle call, checked against the names it accepts.
struct Kwargs<'py>(Vec<(String, Bound<'py, PyAny>)>);

impl<'py> Kwargs<'py> {
    fn new(kwargs: Option<&Bound<'py, PyDict>>, allowed: &[&str]) -> Result<Self, HmacError> {
        let mut out = Vec::new();
        if let Some(d) = kwargs {
            for (k, v) in d.iter() {
                let name: String = k.extract().map_err(|e: PyErr| input(e.to_string()))?;
                if !allowed.contains(&name.as_str()) {
                    return Err(input(format!("unexpected keyword argument '{name}'")));
                }
                out.push((name, v));
            }
        }
        Ok(Self(out))
    }

    fn get(&self, name: &str) -> Option<&Bound<'py, PyAny>> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// `expiresAt`: `None` clears; a `datetime` is `getTime()`; anything else is `Number(v)`
/// (a non-finite result is the original's "expiresAt must be a valid timestamp or Date").
fn expires_at(v: Option<&Bound<'_, PyAny>>) -> Result<ExpiresAt, HmacError> {
    let Some(v) = v else {
        return Ok(Patch::Keep);
    };
    if v.is_none() {
        return Ok(Patch::Clear);
    }
    if convert::is_datetime(v).map_err(|e| input(e.to_string()))? {
        return convert::datetime_ms(v).map(Patch::Set);
    }
    if let Ok(s) = v.cast::<PyString>() {
        let s = convert::str_lossy(s).map_err(|e| input(e.to_string()))?;
        return Ok(Patch::Set(authcore::js::string_to_number(&s)));
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Patch::Set(if b.is_true() { 1.0 } else { 0.0 }));
    }
    Ok(Patch::Set(v.extract::<f64>().unwrap_or(f64::NAN)))
}

/// `allowed_ips` as given; the core checks it where the original does (after
/// `CLIENT_NOT_FOUND` and the other arguments).
fn allowed_ips(v: Option<&Bound<'_, PyAny>>) -> AllowedIps {
    match v {
        None => AllowedIps::Keep,
        Some(v) if v.is_none() => AllowedIps::Clear,
        Some(v) => ip_entries(v).map_or(AllowedIps::NotAnArray, AllowedIps::Set),
    }
}

/// `plainSecret`: absent → random; `None` or blank → "plainSecret cannot be empty".
fn plain_secret(v: Option<&Bound<'_, PyAny>>) -> Result<Option<Option<String>>, HmacError> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(Some(None)),
        Some(v) => Ok(Some(Some(req_str(v, "plain_secret")?.into_owned()))),
    }
}

/// `secretLengthBytes`: `None` means the default; a non-number fails validation.
fn secret_length(v: Option<&Bound<'_, PyAny>>) -> Option<f64> {
    match v {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) if v.is_instance_of::<PyBool>() => Some(f64::NAN),
        Some(v) => Some(v.extract::<f64>().unwrap_or(f64::NAN)),
    }
}

fn client_id_arg(v: &Bound<'_, PyAny>) -> Result<String, HmacError> {
    let id = req_str(v, "client_id")?.into_owned();
    assert_client_id(&id)?;
    Ok(id)
}

// ---------------------------------------------------------------------------------
// Clients

/// The `clients` lifecycle shared by the HTTP and message instances.
#[pyclass(module = "authcore._native", frozen)]
pub struct Clients {
    inner: HmacClients,
}

impl Clients {
    /// The core `clients` (the credential sink of `authcore.propagation`).
    pub(crate) fn core(&self) -> &HmacClients {
        &self.inner
    }

    fn create_fut(
        &self,
        client_id: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> Result<impl Future<Output = Result<ClientCredential, HmacError>> + Send + 'static, HmacError>
    {
        let kw = Kwargs::new(
            kwargs,
            &[
                "expires_at",
                "secret_length_bytes",
                "plain_secret",
                "allowed_ips",
            ],
        )?;
        let client_id = client_id_arg(client_id)?;
        let opts = CreateOptions {
            client_id,
            plain_secret: plain_secret(kw.get("plain_secret"))?,
            secret_length_bytes: secret_length(kw.get("secret_length_bytes")),
            expires_at: expires_at(kw.get("expires_at"))?,
            allowed_ips: allowed_ips(kw.get("allowed_ips")),
        };
        let c = self.inner.clone();
        Ok(async move { c.create(&opts).await.map(ClientCredential::from) })
    }

    fn regenerate_fut(
        &self,
        client_id: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> Result<impl Future<Output = Result<ClientCredential, HmacError>> + Send + 'static, HmacError>
    {
        let kw = Kwargs::new(
            kwargs,
            &[
                "expires_at",
                "secret_length_bytes",
                "plain_secret",
                "preserve_expires_at",
                "allowed_ips",
            ],
        )?;
        let client_id = client_id_arg(client_id)?;
        let opts = RegenerateOptions {
            plain_secret: plain_secret(kw.get("plain_secret"))?,
            secret_length_bytes: secret_length(kw.get("secret_length_bytes")),
            expires_at: expires_at(kw.get("expires_at"))?,
            preserve_expires_at: kw
                .get("preserve_expires_at")
                .map(|v| !matches!(v.cast::<PyBool>(), Ok(b) if !b.is_true())),
            allowed_ips: allowed_ips(kw.get("allowed_ips")),
        };
        let c = self.inner.clone();
        Ok(async move {
            c.regenerate_secret(&client_id, &opts)
                .await
                .map(ClientCredential::from)
        })
    }

    fn set_fut(
        &self,
        client_id: &Bound<'_, PyAny>,
        secret: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
        is_hash: bool,
    ) -> Result<impl Future<Output = Result<(), HmacError>> + Send + 'static, HmacError> {
        let kw = Kwargs::new(kwargs, &["expires_at", "allowed_ips"])?;
        let client_id = client_id_arg(client_id)?;
        let secret = req_str(secret, if is_hash { "secret_hash" } else { "secret" })?.into_owned();
        let exp = expires_at(kw.get("expires_at"))?;
        let ips = allowed_ips(kw.get("allowed_ips"));
        let c = self.inner.clone();
        Ok(async move {
            if is_hash {
                c.set_secret_hash(&client_id, &secret, &exp, &ips).await
            } else {
                c.set_secret(&client_id, &secret, &exp, &ips).await
            }
        })
    }

    fn set_ips_fut(
        &self,
        client_id: &Bound<'_, PyAny>,
        ips: &Bound<'_, PyAny>,
    ) -> Result<impl Future<Output = Result<(), HmacError>> + Send + 'static, HmacError> {
        let client_id = client_id_arg(client_id)?;
        let ips = allowed_ips(Some(ips));
        let c = self.inner.clone();
        Ok(async move { c.set_allowed_ips(&client_id, &ips).await })
    }

    fn list_fut(
        &self,
    ) -> Result<impl Future<Output = Result<Vec<String>, HmacError>> + Send + 'static, HmacError>
    {
        let c = self.inner.clone();
        Ok(async move { c.list_client_ids().await })
    }

    fn get_fut(
        &self,
        client_id: &Bound<'_, PyAny>,
    ) -> Result<
        impl Future<Output = Result<Option<ClientCredential>, HmacError>> + Send + 'static,
        HmacError,
    > {
        let id = req_str(client_id, "client_id")?.into_owned();
        let c = self.inner.clone();
        Ok(async move { Ok(c.get(&id).await?.map(ClientCredential::from)) })
    }

    fn delete_fut(
        &self,
        client_id: &Bound<'_, PyAny>,
    ) -> Result<impl Future<Output = Result<(), HmacError>> + Send + 'static, HmacError> {
        let id = req_str(client_id, "client_id")?.into_owned();
        let c = self.inner.clone();
        Ok(async move { c.delete(&id).await })
    }

    fn get_secret_hash_fut(
        &self,
        client_id: &Bound<'_, PyAny>,
    ) -> Result<impl Future<Output = Result<Option<String>, HmacError>> + Send + 'static, HmacError>
    {
        let id = req_str(client_id, "client_id")?.into_owned();
        let c = self.inner.clone();
        Ok(async move { c.get_secret_hash(&id).await })
    }

    fn revert_fut(
        &self,
        client_id: &Bound<'_, PyAny>,
    ) -> Result<impl Future<Output = Result<RevertResult, HmacError>> + Send + 'static, HmacError>
    {
        let id = req_str(client_id, "client_id")?.into_owned();
        let c = self.inner.clone();
        Ok(async move { c.revert(&id).await.map(RevertResult::from) })
    }
}

// Sync and async twins: every operation is ONE `*_fut` function (argument conversion, then
// the core future); the sync method blocks on that future with the GIL released
// (`sync_async!`), the `_async` method hands the same future to asyncio (`as_async!`).
// `$map` is the error mapping (`map_hmac` unless given).
macro_rules! sync_async {
    ($py:ident, $fut:expr) => {
        sync_async!($py, $fut, map_hmac)
    };
    ($py:ident, $fut:expr, $map:expr) => {{
        let fut = hmac_err($py, $fut)?;
        run_sync($py, fut, $map)
    }};
}

macro_rules! as_async {
    ($py:ident, $fut:expr) => {
        as_async!($py, $fut, map_hmac)
    };
    ($py:ident, $fut:expr, $map:expr) => {{
        let fut = hmac_err($py, $fut)?;
        run_async($py, fut, $map)
    }};
}

#[pymethods]
impl Clients {
    #[getter]
    fn namespace(&self) -> &str {
        &self.inner.config().keys.namespace
    }

    /// `create({clientId, expiresAt?, secretLengthBytes?, plainSecret?, allowedIps?})`.
    #[pyo3(signature = (client_id, **kwargs))]
    fn create(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<ClientCredential> {
        guard(|| sync_async!(py, self.create_fut(client_id, kwargs)))
    }

    #[pyo3(signature = (client_id, **kwargs))]
    fn create_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.create_fut(client_id, kwargs)))
    }

    /// `listClientIds()` (HKEYS order).
    fn list_client_ids(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        guard(|| sync_async!(py, self.list_fut()))
    }

    fn list_client_ids_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.list_fut()))
    }

    /// `get(clientId)`: the credential or `None`.
    fn get(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
    ) -> PyResult<Option<ClientCredential>> {
        guard(|| sync_async!(py, self.get_fut(client_id)))
    }

    fn get_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.get_fut(client_id)))
    }

    /// `delete(clientId)` (the backup key is left to expire, like the original).
    fn delete(&self, py: Python<'_>, client_id: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(|| sync_async!(py, self.delete_fut(client_id)))
    }

    fn delete_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.delete_fut(client_id)))
    }

    /// `regenerateSecret(clientId, {expiresAt?, secretLengthBytes?, plainSecret?,
    /// preserveExpiresAt?, allowedIps?})`.
    #[pyo3(signature = (client_id, **kwargs))]
    fn regenerate_secret(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<ClientCredential> {
        guard(|| sync_async!(py, self.regenerate_fut(client_id, kwargs)))
    }

    #[pyo3(signature = (client_id, **kwargs))]
    fn regenerate_secret_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.regenerate_fut(client_id, kwargs)))
    }

    /// `setSecret(clientId, secret, expiresAt?, allowedIps?)` (an upsert).
    #[pyo3(signature = (client_id, secret, **kwargs))]
    fn set_secret(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        secret: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        guard(|| sync_async!(py, self.set_fut(client_id, secret, kwargs, false)))
    }

    #[pyo3(signature = (client_id, secret, **kwargs))]
    fn set_secret_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        secret: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.set_fut(client_id, secret, kwargs, false)))
    }

    /// `setSecretHash(clientId, secretHash, expiresAt?, allowedIps?)`: the hash is
    /// trimmed and lower-cased, not validated.
    #[pyo3(signature = (client_id, secret_hash, **kwargs))]
    fn set_secret_hash(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        secret_hash: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        guard(|| sync_async!(py, self.set_fut(client_id, secret_hash, kwargs, true)))
    }

    #[pyo3(signature = (client_id, secret_hash, **kwargs))]
    fn set_secret_hash_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        secret_hash: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.set_fut(client_id, secret_hash, kwargs, true)))
    }

    /// `setAllowedIps(clientId, allowedIps)` (`None` clears the list).
    fn set_allowed_ips(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        allowed_ips: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        guard(|| sync_async!(py, self.set_ips_fut(client_id, allowed_ips)))
    }

    fn set_allowed_ips_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        allowed_ips: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.set_ips_fut(client_id, allowed_ips)))
    }

    /// `getSecretHash(clientId)`.
    fn get_secret_hash(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
    ) -> PyResult<Option<String>> {
        guard(|| sync_async!(py, self.get_secret_hash_fut(client_id)))
    }

    fn get_secret_hash_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.get_secret_hash_fut(client_id)))
    }

    /// `revert(clientId)`: restore the previous secret hash from the backup.
    fn revert(&self, py: Python<'_>, client_id: &Bound<'_, PyAny>) -> PyResult<RevertResult> {
        guard(|| sync_async!(py, self.revert_fut(client_id)))
    }

    fn revert_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.revert_fut(client_id)))
    }
}

// ---------------------------------------------------------------------------------
// Request parts

/// The header values `verifyHttpSignature` reads: the core's `getHeader` rule
/// ([`VerifyHeaders`]) over the host's headers; a list/tuple value gives its first
/// element and `bytes` (ASGI) are decoded as Latin-1 like Node does.
type HeaderValues = VerifyHeaders<String>;

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

fn header_text(v: &Bound<'_, PyAny>, name: &str) -> Result<Option<String>, HmacError> {
    if v.is_none() {
        return Ok(None);
    }
    if let Ok(s) = v.cast::<PyString>() {
        return convert::str_lossy(s)
            .map(|c| Some(c.into_owned()))
            .map_err(|e| input(e.to_string()));
    }
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(Some(latin1(b.as_bytes())));
    }
    if let Ok(l) = v.cast::<PyList>() {
        return match l.iter().next() {
            None => Ok(None),
            Some(first) => header_scalar(&first, name),
        };
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return match t.iter().next() {
            None => Ok(None),
            Some(first) => header_scalar(&first, name),
        };
    }
    Err(input(format!(
        "header {name} must be a string, got {}",
        type_name(v)
    )))
}

fn header_scalar(v: &Bound<'_, PyAny>, name: &str) -> Result<Option<String>, HmacError> {
    if v.is_none() {
        return Ok(None);
    }
    if let Ok(s) = v.cast::<PyString>() {
        return convert::str_lossy(s)
            .map(|c| Some(c.into_owned()))
            .map_err(|e| input(e.to_string()));
    }
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(Some(latin1(b.as_bytes())));
    }
    Err(input(format!(
        "header {name} must be a string, got {}",
        type_name(v)
    )))
}

/// A header name as text (`bytes` as UTF-8; a name that is neither is refused).
fn header_name(k: &Bound<'_, PyAny>) -> Result<Option<String>, HmacError> {
    if let Ok(s) = k.cast::<PyString>() {
        return Ok(convert::str_lossy(s).ok().map(|n| n.into_owned()));
    }
    if let Ok(b) = k.cast::<PyBytes>() {
        return Ok(std::str::from_utf8(b.as_bytes()).ok().map(str::to_owned));
    }
    Err(input(format!(
        "header names must be strings, got {}",
        type_name(k)
    )))
}

fn header_values(headers: &Bound<'_, PyAny>) -> Result<HeaderValues, HmacError> {
    let mut out = HeaderValues::default();
    let mut visit = |k: &Bound<'_, PyAny>, v: &Bound<'_, PyAny>| -> Result<(), HmacError> {
        if let Some(name) = header_name(k)? {
            out.offer(&name, |slot| header_text(v, VERIFY_HEADERS[slot as usize]))?;
        }
        Ok(())
    };
    if headers.is_none() {
        return Ok(out);
    }
    if let Ok(d) = headers.cast::<PyDict>() {
        for (k, v) in d.iter() {
            visit(&k, &v)?;
        }
        return Ok(out);
    }
    let pairs = if headers.is_instance_of::<PyList>() || headers.is_instance_of::<PyTuple>() {
        headers.clone()
    } else if headers.hasattr("items").unwrap_or(false) {
        headers
            .call_method0("items")
            .map_err(|e| input(format!("headers.items(): {e}")))?
    } else {
        return Err(input(format!(
            "headers must be a mapping or a list of (name, value) pairs, got {}",
            type_name(headers)
        )));
    };
    let iter = pairs
        .try_iter()
        .map_err(|e| input(format!("headers: {e}")))?;
    for item in iter {
        let item = item.map_err(|e| input(format!("headers: {e}")))?;
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item
            .extract()
            .map_err(|_| input("headers must be (name, value) pairs"))?;
        visit(&k, &v)?;
    }
    Ok(out)
}

/// The IP candidates: the metadata fields as the core's [`IpSources`] (strings, the
/// strings of a list/tuple), in the order the core decides.
fn ip_candidates(
    metadata: Option<&Bound<'_, PyAny>>,
    forwarded_header: Option<String>,
) -> Vec<String> {
    let field = |v: Option<Bound<'_, PyAny>>| -> IpField {
        let text = |v: &Bound<'_, PyAny>| {
            v.cast::<PyString>()
                .ok()
                .and_then(|s| convert::str_lossy(s).ok().map(|s| s.into_owned()))
        };
        match v {
            Some(v) if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() => {
                IpField::Many(v.try_iter().map_or_else(
                    |_| Vec::new(),
                    |it| it.flatten().filter_map(|e| text(&e)).collect(),
                ))
            }
            Some(v) => text(&v).map_or(IpField::Absent, IpField::One),
            None => IpField::Absent,
        }
    };
    let md = metadata.and_then(|m| m.cast::<PyDict>().ok());
    let get = |names: &[&str]| -> Option<Bound<'_, PyAny>> {
        let d = md?;
        names.iter().find_map(|n| d.get_item(n).ok().flatten())
    };
    IpSources {
        ip: field(get(&["ip"])),
        ips: field(get(&["ips"])),
        forwarded_for: field(get(&["forwardedFor", "forwarded_for"])),
        forwarded_header,
        remote_address: field(get(&["remoteAddress", "remote_address"])),
    }
    .candidates()
}

/// Everything a verification needs, converted (the future runs without the GIL). The body
/// stays borrowed from the immutable Python `bytes` for the sync form, which blocks until
/// the future is done; the async form owns a copy (`into_static`).
struct OwnedRequest<'a> {
    method: String,
    path: String,
    headers: HeaderValues,
    body: Body<'a>,
    now: Option<f64>,
    max_skew_ms: Option<f64>,
    ips: Vec<String>,
}

impl OwnedRequest<'_> {
    fn into_static(self) -> OwnedRequest<'static> {
        OwnedRequest {
            method: self.method,
            path: self.path,
            headers: self.headers,
            body: Body::Owned(self.body.into_owned()),
            now: self.now,
            max_skew_ms: self.max_skew_ms,
            ips: self.ips,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn owned_request<'a>(
    method: &Bound<'_, PyAny>,
    path: &Bound<'_, PyAny>,
    headers: &Bound<'_, PyAny>,
    body: Body<'a>,
    now: Option<&Bound<'_, PyAny>>,
    max_skew_ms: Option<&Bound<'_, PyAny>>,
    metadata: Option<&Bound<'_, PyAny>>,
    explicit_ips: Option<&Bound<'_, PyAny>>,
) -> Result<OwnedRequest<'a>, HmacError> {
    let method = req_str(method, "method")?.into_owned();
    let path = req_str(path, "path")?.into_owned();
    let headers = header_values(headers)?;
    let now = convert::opt_finite_number(now, "now")?;
    let max_skew_ms = convert::opt_number_option(max_skew_ms, "max_skew_ms")?;
    let ips = match explicit_ips {
        Some(v) if !v.is_none() => {
            let entries =
                ip_entries(v).ok_or_else(|| input("ip_candidates must be a list of strings"))?;
            entries
                .into_iter()
                .filter_map(|e| match e {
                    authcore::hmac::ip::AllowedIpEntry::Str(s) => Some(s),
                    authcore::hmac::ip::AllowedIpEntry::NotAString => None,
                })
                .collect()
        }
        _ => ip_candidates(metadata, headers.get(HeaderSlot::ForwardedFor).cloned()),
    };
    Ok(OwnedRequest {
        method,
        path,
        headers,
        body,
        now,
        max_skew_ms,
        ips,
    })
}

async fn verify_owned(
    auth: Arc<HmacAuth>,
    r: OwnedRequest<'_>,
) -> Result<VerifiedRequest, VerifyError> {
    let parts = HttpRequestParts {
        method: &r.method,
        path: &r.path,
        client_id: r.headers.get(HeaderSlot::ClientId).map(String::as_str),
        signature: r.headers.get(HeaderSlot::Signature).map(String::as_str),
        timestamp: r.headers.get(HeaderSlot::Timestamp).map(String::as_str),
        nonce: r.headers.get(HeaderSlot::Nonce).map(String::as_str),
        body: r.body.as_slice(),
    };
    let ips: Vec<&str> = r.ips.iter().map(String::as_str).collect();
    auth.verifier
        .verify(
            &parts,
            VerifyOptions {
                now_ms: r.now,
                max_skew_ms: r.max_skew_ms,
                ip_candidates: &ips,
            },
        )
        .await
        .map(VerifiedRequest::from)
}

// ---------------------------------------------------------------------------------
// Auth

/// One initialised instance (`initializeHmacHttpAuth` / `initializeHmacMessageAuth`):
/// the verifier, the message track and the `clients` lifecycle over one store.
#[pyclass(module = "authcore._native", frozen)]
pub struct Auth {
    inner: Arc<HmacAuth>,
    store: Py<Store>,
}

/// `clock`: `None` reads the system clock; a callable returning epoch milliseconds is
/// read (with the GIL) wherever the core needs the time. A reading that raises or is not
/// a number is NaN, which the core refuses (`now must be a finite number`).
fn host_clock(clock: Option<&Bound<'_, PyAny>>) -> Result<Clock, HmacError> {
    let Some(clock) = clock.filter(|c| !c.is_none()) else {
        return Ok(Clock::system());
    };
    if !clock.is_callable() {
        return Err(input(format!(
            "clock must be callable, got {}",
            type_name(clock)
        )));
    }
    let clock = clock.clone().unbind();
    Ok(Clock::from_fn(move || {
        Python::attach(|py| {
            clock
                .bind(py)
                .call0()
                .and_then(|v| v.extract::<f64>())
                .unwrap_or(f64::NAN)
        })
    }))
}

#[pymethods]
impl Auth {
    #[new]
    #[pyo3(signature = (store, namespace=None, max_skew_ms=None, default_secret_length_bytes=None, secret_token=None, backup_ttl_seconds=None, clock=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        store: Py<Store>,
        namespace: Option<&Bound<'_, PyAny>>,
        max_skew_ms: Option<&Bound<'_, PyAny>>,
        default_secret_length_bytes: Option<&Bound<'_, PyAny>>,
        secret_token: Option<&Bound<'_, PyAny>>,
        backup_ttl_seconds: Option<&Bound<'_, PyAny>>,
        clock: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        guard(|| {
            let opts = hmac_err(
                py,
                (|| {
                    Ok(HmacAuthOptions {
                        namespace: convert::opt_str(namespace, "namespace")?
                            .map(|s| s.into_owned()),
                        max_skew_ms: convert::opt_number_option(max_skew_ms, "max_skew_ms")?,
                        default_secret_length_bytes: secret_length(default_secret_length_bytes),
                        secret_token: convert::opt_str(secret_token, "secret_token")?
                            .map(|s| s.into_owned().into()),
                        backup_ttl_seconds: match backup_ttl_seconds {
                            Some(v) if !v.is_none() => Some(
                                v.extract::<f64>()
                                    .map_err(|_| input("backup_ttl_seconds must be a number"))?,
                            ),
                            _ => None,
                        },
                    })
                })(),
            )?;
            let clock = hmac_err(py, host_clock(clock))?;
            let kv = store.get().inner.clone();
            let inner = hmac_err(py, HmacAuth::new(kv, &opts))?.with_clock(clock);
            Ok(Self {
                inner: Arc::new(inner),
                store,
            })
        })
    }

    #[getter]
    fn namespace(&self) -> &str {
        self.inner.namespace()
    }

    #[getter]
    fn max_skew_ms(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        js_number_to_py(py, self.inner.verifier.max_skew_ms())
    }

    #[getter]
    fn secret_token(&self) -> Option<&str> {
        self.inner.secret_token()
    }

    #[getter]
    fn store(&self, py: Python<'_>) -> Py<Store> {
        self.store.clone_ref(py)
    }

    #[getter]
    fn clients(&self) -> Clients {
        Clients {
            inner: self.inner.clients.clone(),
        }
    }

    /// `verifyHttpSignature` (sync; the GIL is released while the core checks the
    /// request and talks to the store).
    #[pyo3(signature = (method, path, headers, body=None, now=None, max_skew_ms=None, metadata=None, ip_candidates=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify(
        &self,
        py: Python<'_>,
        method: &Bound<'_, PyAny>,
        path: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        body: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        max_skew_ms: Option<&Bound<'_, PyAny>>,
        metadata: Option<&Bound<'_, PyAny>>,
        ip_candidates: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<VerifiedRequest> {
        guard(|| {
            let req = self.verify_request(
                method,
                path,
                headers,
                body,
                now,
                max_skew_ms,
                metadata,
                ip_candidates,
            );
            let auth = self.inner.clone();
            sync_async!(py, req.map(|r| verify_owned(auth, r)), map_verify)
        })
    }

    /// `verifyHttpSignature` as an awaitable (nothing holds the GIL while Redis answers).
    #[pyo3(signature = (method, path, headers, body=None, now=None, max_skew_ms=None, metadata=None, ip_candidates=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify_async<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'py, PyAny>,
        path: &Bound<'py, PyAny>,
        headers: &Bound<'py, PyAny>,
        body: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
        max_skew_ms: Option<&Bound<'py, PyAny>>,
        metadata: Option<&Bound<'py, PyAny>>,
        ip_candidates: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let req = self.verify_request(
                method,
                path,
                headers,
                body,
                now,
                max_skew_ms,
                metadata,
                ip_candidates,
            );
            let auth = self.inner.clone();
            as_async!(
                py,
                req.map(|r| verify_owned(auth, r.into_static())),
                map_verify
            )
        })
    }

    /// The message instance's `signMessage({clientId, message})`.
    fn sign_message(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        message: &Bound<'_, PyAny>,
    ) -> PyResult<SignedMessage> {
        guard(|| sync_async!(py, self.sign_message_fut(client_id, message)))
    }

    fn sign_message_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.sign_message_fut(client_id, message)))
    }

    /// The message instance's `verifyMessage({clientId, message, signature})`: the
    /// recomputed `SignedMessage`, or `HmacAuthError` (`MISSING_SIGNATURE`,
    /// `UNKNOWN_CLIENT`, `CLIENT_EXPIRED`, `BAD_SIGNATURE`).
    #[pyo3(signature = (client_id, message, signature))]
    fn verify_message(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        message: &Bound<'_, PyAny>,
        signature: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<SignedMessage> {
        guard(|| sync_async!(py, self.verify_message_fut(client_id, message, signature)))
    }

    #[pyo3(signature = (client_id, message, signature))]
    fn verify_message_async<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        message: &Bound<'py, PyAny>,
        signature: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| as_async!(py, self.verify_message_fut(client_id, message, signature)))
    }
}

// The one implementation of each `Auth` operation (see `sync_async!`).
impl Auth {
    /// The arguments of `verify` / `verify_async`, converted (the body borrowed; see
    /// [`OwnedRequest`]); [`verify_owned`] is the operation both forms run.
    #[allow(clippy::too_many_arguments)]
    fn verify_request<'a>(
        &self,
        method: &Bound<'_, PyAny>,
        path: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        body: Option<&'a Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        max_skew_ms: Option<&Bound<'_, PyAny>>,
        metadata: Option<&Bound<'_, PyAny>>,
        ip_candidates: Option<&Bound<'_, PyAny>>,
    ) -> Result<OwnedRequest<'a>, HmacError> {
        let body = convert::body(body)?;
        owned_request(
            method,
            path,
            headers,
            body,
            now,
            max_skew_ms,
            metadata,
            ip_candidates,
        )
    }

    fn sign_message_fut(
        &self,
        client_id: &Bound<'_, PyAny>,
        message: &Bound<'_, PyAny>,
    ) -> Result<impl Future<Output = Result<SignedMessage, HmacError>> + Send + 'static, HmacError>
    {
        let (id, value) = message_args(client_id, message)?;
        let auth = self.inner.clone();
        Ok(async move {
            auth.sign_message(&id, &value)
                .await
                .map(SignedMessage::from)
        })
    }

    fn verify_message_fut(
        &self,
        client_id: &Bound<'_, PyAny>,
        message: &Bound<'_, PyAny>,
        signature: Option<&Bound<'_, PyAny>>,
    ) -> Result<impl Future<Output = Result<SignedMessage, HmacError>> + Send + 'static, HmacError>
    {
        let (id, value) = message_args(client_id, message)?;
        let sig = convert::opt_str(signature, "signature")?.map(|s| s.into_owned());
        let auth = self.inner.clone();
        Ok(async move {
            auth.verify_message(&id, &value, sig.as_deref())
                .await
                .map(SignedMessage::from)
        })
    }
}

fn message_args(
    client_id: &Bound<'_, PyAny>,
    message: &Bound<'_, PyAny>,
) -> Result<(String, JsValue), HmacError> {
    let id = req_str(client_id, "client_id")?.into_owned();
    assert_client_id(&id)?;
    Ok((id, convert::js_value(message)?))
}
