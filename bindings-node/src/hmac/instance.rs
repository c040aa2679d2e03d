//! Store-backed instances: `HmacAuth` over the embedded `MemoryStore` (`memory://`,
//! `memory://<name>`) or a `RedisStore` (`redis://…`, `rediss://…`; `RedisClusterStore` for `redis+cluster://…`). Every I/O method is
//! a napi async function on tokio, so the event loop never waits on the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use authcore::hmac::clients::{ClientCredential, ClientCredentialWithSecret, HmacClients};
use authcore::hmac::verify::{HttpRequestParts, VerifyOptions};
use authcore::hmac::{self as core, HmacAuthOptions, HmacError, record};
use authcore::store::KvStore;
use authcore_node_boundary::napi;
use napi::bindgen_prelude::{Buffer, Either, Function, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use tokio::sync::OnceCell;

use crate::error::{AuthErr, CatchUnwind, Result, invalid_input, map_err, spawn};
use crate::hmac::clients::{
    AuthOptionsJs, PatchesJs, SecretChoiceJs, auth_options, clients_config, create_options,
    patches, regenerate_options,
};
use crate::hmac::pure::{MessageText, SignedMessageJs, canonical_of};
use crate::hmac::verify::VerifyOutcome;
use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, JsValue};

type StoreCell = Arc<OnceCell<Arc<dyn KvStore>>>;

fn registry() -> &'static Mutex<HashMap<String, StoreCell>> {
    static R: OnceLock<Mutex<HashMap<String, StoreCell>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// One store per URL for the whole process: `memory://x` is the same map for every
/// instance (so an HTTP and a message instance share credentials like two instances on
/// one Redis client do), `redis://…` one multiplexed connection.
async fn store_for(url: &str) -> std::result::Result<Arc<dyn KvStore>, HmacError> {
    let cell = {
        let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
        map.entry(url.to_owned()).or_default().clone()
    };
    cell.get_or_try_init(|| async { authcore::store::open(url).await.map_err(HmacError::from) })
        .await
        .cloned()
}

struct Inner {
    url: String,
    opts: HmacAuthOptions,
    auth: OnceCell<core::HmacAuth>,
    completions: OnceLock<Arc<Completions>>,
}

type ReadyFn = ThreadsafeFunction<(), Unknown<'static>, (), napi::Status, false, true, 0>;

/// The completion queue of `verifySubmit`: finished outcomes wait here and one
/// threadsafe call tells JS to `drainCompletions()`. One long-lived (weak) threadsafe
/// function for the instance instead of a promise (and its threadsafe function) per call.
struct Completions {
    queue: Mutex<Vec<VerifyOutcome>>,
    scheduled: AtomicBool,
    ready: ReadyFn,
}

impl Completions {
    fn push(&self, outcome: VerifyOutcome) {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(outcome);
        if !self.scheduled.swap(true, Ordering::SeqCst) {
            let _ = self.ready.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    fn drain(&self) -> Vec<VerifyOutcome> {
        self.scheduled.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Inner {
    async fn auth(&self) -> std::result::Result<&core::HmacAuth, HmacError> {
        self.auth
            .get_or_try_init(|| async {
                let store = store_for(&self.url).await?;
                core::HmacAuth::new(store, &self.opts)
            })
            .await
    }

    async fn clients(&self) -> std::result::Result<&HmacClients, HmacError> {
        Ok(&self.auth().await?.clients)
    }
}

/// A request for [`HmacAuth::verify`] (owned: it crosses to tokio).
#[napi(object, object_to_js = false)]
pub struct VerifyRequest {
    pub method: String,
    pub path: String,
    pub client_id: Option<String>,
    pub signature: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub body: Option<Either<String, Buffer>>,
    pub now: Option<f64>,
    pub max_skew_ms: Option<f64>,
    pub ip_candidates: Option<Vec<String>>,
}

/// `HmacClientCredential` / `HmacClientCredentialWithSecret`.
#[napi(object)]
pub struct CredentialJs {
    pub client_id: String,
    pub secret_hash: String,
    pub created_at: f64,
    pub updated_at: f64,
    pub expires_at: Option<f64>,
    pub allowed_ips: Vec<String>,
    pub secret: Option<String>,
}

impl From<ClientCredential> for CredentialJs {
    fn from(c: ClientCredential) -> Self {
        Self {
            client_id: c.client_id,
            secret_hash: c.record.secret_hash,
            created_at: c.record.created_at,
            updated_at: c.record.updated_at,
            expires_at: c.record.expires_at,
            allowed_ips: c.record.allowed_ips,
            secret: None,
        }
    }
}

impl From<ClientCredentialWithSecret> for CredentialJs {
    fn from(c: ClientCredentialWithSecret) -> Self {
        Self {
            client_id: c.client_id,
            secret_hash: c.record.secret_hash,
            created_at: c.record.created_at,
            updated_at: c.record.updated_at,
            expires_at: c.record.expires_at,
            allowed_ips: c.record.allowed_ips,
            secret: Some(c.secret),
        }
    }
}

/// `HmacCredentialRevertResult`.
#[napi(object)]
pub struct RevertResultJs {
    pub reverted: bool,
    pub restored_secret_hash: Option<String>,
}

/// An initialised HTTP + message instance over a native store.
#[napi]
pub struct HmacAuth {
    inner: Arc<Inner>,
    namespace: String,
}

#[napi]
impl HmacAuth {
    /// Validates the options synchronously like the original's initialisers
    /// (namespace, `defaultSecretLengthBytes`); the store connects on first use.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, url: String, options: Option<AuthOptionsJs>) -> Result<Self> {
        authcore::hmac::check_store_url(&url).map_err(|e| map_err(env, e))?;
        let opts = auth_options(options.as_ref());
        let cfg = clients_config(&opts).map_err(|e| map_err(env, e))?;
        Ok(Self {
            namespace: cfg.keys.namespace,
            inner: Arc::new(Inner {
                url,
                opts,
                auth: OnceCell::new(),
                completions: OnceLock::new(),
            }),
        })
    }

    #[napi(getter, catch_unwind)]
    pub fn namespace(&self) -> String {
        self.namespace.clone()
    }

    /// The store URL with its password replaced by `***` (printing an instance must not
    /// show it).
    #[napi(getter, catch_unwind)]
    pub fn url(&self) -> String {
        authcore::secret::redact_url(&self.inner.url)
    }

    /// Connect now (otherwise the first call connects). Rejects when the store does not
    /// answer.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn connect<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        spawn(env, async move { inner.auth().await.map(drop) })
    }

    /// `verifyHttpSignature` over the store: one round trip (credential read + nonce
    /// claim in one atomic operation). Never rejects for a verification failure: the
    /// outcome carries code, status, message and the `onBadSignature` details.
    #[napi(ts_return_type = "Promise<VerifyOutcome>", catch_unwind)]
    pub fn verify<'env>(
        &self,
        env: &'env Env,
        request: VerifyRequest,
    ) -> Result<PromiseRaw<'env, VerifyOutcome>> {
        let inner = self.inner.clone();
        let body_len = match &request.body {
            None => 0,
            Some(Either::A(s)) => s.len(),
            Some(Either::B(b)) => b.len(),
        };
        let too_large = authcore::hmac::crypto::check_body_size(body_len).err();
        spawn(env, async move {
            if let Some(e) = too_large {
                return Ok(VerifyOutcome::failure_of(&e));
            }
            Ok(verify_request(inner, request).await)
        })
    }

    /// Register the completion callback of [`Self::verify_submit`]: `onReady()` is called
    /// (on the JS thread) when outcomes are waiting; it should call
    /// [`Self::drain_completions`]. The callback does not keep the event loop alive.
    #[napi(catch_unwind)]
    pub fn start_completions(&self, on_ready: Function<(), Unknown<'static>>) -> Result<()> {
        if self.inner.completions.get().is_some() {
            return Ok(());
        }
        let ready: ReadyFn = on_ready
            .build_threadsafe_function::<()>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        let _ = self.inner.completions.set(Arc::new(Completions {
            queue: Mutex::new(Vec::new()),
            scheduled: AtomicBool::new(false),
            ready,
        }));
        Ok(())
    }

    /// The outcomes finished since the last drain, each with its request `id`.
    #[napi(catch_unwind)]
    pub fn drain_completions(&self) -> Vec<VerifyOutcome> {
        self.inner
            .completions
            .get()
            .map(|c| c.drain())
            .unwrap_or_default()
    }

    /// [`Self::verify_fast`] without a promise per call: the outcome (with `id`) is
    /// delivered through the completion queue (`startCompletions` first). Returns at
    /// once; hashing and store I/O run on tokio. `ipSources` is the fixed-shape source
    /// list of [`crate::hmac::verify::ip_candidates_of`] (the core orders the candidates).
    #[allow(clippy::too_many_arguments)]
    #[napi(catch_unwind)]
    pub fn verify_submit(
        &self,
        env: &Env,
        id: u32,
        method: String,
        path: String,
        client_id: Option<String>,
        signature: Option<String>,
        timestamp: Option<String>,
        nonce: Option<String>,
        body: Option<Either<String, Buffer>>,
        now: f64,
        max_skew_ms: f64,
        ip_sources: Option<Vec<Unknown<'_>>>,
    ) -> Result<()> {
        let ip_candidates = crate::hmac::verify::ip_candidates_of(env, ip_sources)?;
        let request = VerifyRequest {
            method,
            path,
            client_id,
            signature,
            timestamp,
            nonce,
            body,
            now: Some(now),
            max_skew_ms: Some(max_skew_ms),
            ip_candidates,
        };
        self.submit(env, id, request, false)
    }

    /// [`Self::verify_submit`] over the request's own `headers` and `metadata` objects:
    /// the core's `getHeader` rule and IP candidate order read them here
    /// ([`crate::hmac::sources`]), so the drop-in passes them as it got them. A verified
    /// outcome carries `nonce` and `signature`.
    #[allow(clippy::too_many_arguments)]
    #[napi(
        catch_unwind,
        ts_args_type = "id: number, method: string, path: string, headers: unknown, body: string | Buffer | undefined | null, now: number, maxSkewMs: number, metadata?: unknown"
    )]
    pub fn verify_submit_request(
        &self,
        env: &Env,
        id: u32,
        method: String,
        path: String,
        headers: Unknown<'_>,
        body: Option<Either<String, Buffer>>,
        now: f64,
        max_skew_ms: f64,
        metadata: Option<Unknown<'_>>,
    ) -> Result<()> {
        let h = crate::hmac::sources::read_headers(env, headers.raw())?;
        let ip_candidates =
            crate::hmac::sources::ip_candidates(env, metadata.map(|m| m.raw()), h.forwarded_for)?;
        let request = VerifyRequest {
            method,
            path,
            client_id: h.client_id,
            signature: h.signature,
            timestamp: h.timestamp,
            nonce: h.nonce,
            body,
            now: Some(now),
            max_skew_ms: Some(max_skew_ms),
            ip_candidates: Some(ip_candidates),
        };
        self.submit(env, id, request, true)
    }

    fn submit(&self, env: &Env, id: u32, request: VerifyRequest, echo: bool) -> Result<()> {
        let Some(completions) = self.inner.completions.get().cloned() else {
            return Err(map_err(
                env,
                invalid_input("verifySubmit: call startCompletions first"),
            ));
        };
        let inner = self.inner.clone();
        napi::bindgen_prelude::spawn(async move {
            // A panic becomes an outcome instead of a request that never completes.
            let mut outcome = match CatchUnwind::new(verify_request(inner, request)).await {
                Ok(o) => o,
                Err(message) => VerifyOutcome::error(AuthErr::panic(message)),
            };
            outcome.id = Some(id);
            if !echo {
                // The caller holds the raw nonce and signature: do not send them back.
                outcome.nonce = None;
                outcome.signature = None;
            }
            completions.push(outcome);
        });
        Ok(())
    }

    /// [`Self::verify`] with positional arguments (no option-object lookups): the hot
    /// path of the drop-in's URL/memory store verification.
    #[allow(clippy::too_many_arguments)]
    #[napi(ts_return_type = "Promise<VerifyOutcome>", catch_unwind)]
    pub fn verify_fast<'env>(
        &self,
        env: &'env Env,
        method: String,
        path: String,
        client_id: Option<String>,
        signature: Option<String>,
        timestamp: Option<String>,
        nonce: Option<String>,
        body: Option<Either<String, Buffer>>,
        now: f64,
        max_skew_ms: f64,
        ip_candidates: Option<Vec<String>>,
    ) -> Result<PromiseRaw<'env, VerifyOutcome>> {
        self.verify(
            env,
            VerifyRequest {
                method,
                path,
                client_id,
                signature,
                timestamp,
                nonce,
                body,
                now: Some(now),
                max_skew_ms: Some(max_skew_ms),
                ip_candidates,
            },
        )
    }

    #[napi(ts_return_type = "Promise<CredentialJs>", catch_unwind)]
    pub fn clients_create<'env>(
        &self,
        env: &'env Env,
        client_id: String,
        choice: Option<SecretChoiceJs>,
        patch: Option<PatchesJs>,
    ) -> Result<PromiseRaw<'env, CredentialJs>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let clients = inner.clients().await?;
            let p = patches(patch.as_ref());
            let opts = create_options(&client_id, choice.as_ref(), &p);
            clients.create(&opts).await.map(Into::into)
        })
    }

    #[napi(ts_return_type = "Promise<Array<string>>", catch_unwind)]
    pub fn clients_list<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<String>>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let clients = inner.clients().await?;
            clients.list_client_ids().await
        })
    }

    #[napi(ts_return_type = "Promise<CredentialJs | null>", catch_unwind)]
    pub fn clients_get<'env>(
        &self,
        env: &'env Env,
        client_id: String,
    ) -> Result<PromiseRaw<'env, Option<CredentialJs>>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let clients = inner.clients().await?;
            Ok(clients.get(&client_id).await?.map(Into::into))
        })
    }

    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn clients_delete<'env>(
        &self,
        env: &'env Env,
        client_id: String,
    ) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let clients = inner.clients().await?;
            clients.delete(&client_id).await
        })
    }

    #[napi(ts_return_type = "Promise<CredentialJs>", catch_unwind)]
    pub fn clients_regenerate_secret<'env>(
        &self,
        env: &'env Env,
        client_id: String,
        choice: Option<SecretChoiceJs>,
        patch: Option<PatchesJs>,
    ) -> Result<PromiseRaw<'env, CredentialJs>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let clients = inner.clients().await?;
            let p = patches(patch.as_ref());
            let opts = regenerate_options(choice.as_ref(), &p);
            clients
                .regenerate_secret(&client_id, &opts)
                .await
                .map(Into::into)
        })
    }

    /// `setSecret` (`isHash` false) or `setSecretHash` (`isHash` true).
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn clients_set_secret<'env>(
        &self,
        env: &'env Env,
        client_id: String,
        secret: String,
        is_hash: bool,
        patch: Option<PatchesJs>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let clients = inner.clients().await?;
            let p = patches(patch.as_ref());
            if is_hash {
                clients
                    .set_secret_hash(&client_id, &secret, &p.expires_at, &p.allowed_ips)
                    .await
            } else {
                clients
                    .set_secret(&client_id, &secret, &p.expires_at, &p.allowed_ips)
                    .await
            }
        })
    }

    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn clients_set_allowed_ips<'env>(
        &self,
        env: &'env Env,
        client_id: String,
        patch: Option<PatchesJs>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let clients = inner.clients().await?;
            let p = patches(patch.as_ref());
            clients.set_allowed_ips(&client_id, &p.allowed_ips).await
        })
    }

    #[napi(ts_return_type = "Promise<string | null>", catch_unwind)]
    pub fn clients_get_secret_hash<'env>(
        &self,
        env: &'env Env,
        client_id: String,
    ) -> Result<PromiseRaw<'env, Option<String>>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let clients = inner.clients().await?;
            clients.get_secret_hash(&client_id).await
        })
    }

    #[napi(ts_return_type = "Promise<RevertResultJs>", catch_unwind)]
    pub fn clients_revert<'env>(
        &self,
        env: &'env Env,
        client_id: String,
    ) -> Result<PromiseRaw<'env, RevertResultJs>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let clients = inner.clients().await?;
            let r = clients.revert(&client_id).await?;
            Ok(RevertResultJs {
                reverted: r.reverted,
                restored_secret_hash: r.restored_secret_hash,
            })
        })
    }

    /// The message instance's `signMessage({clientId, message})`.
    #[napi(ts_return_type = "Promise<SignedMessageJs>", catch_unwind)]
    pub fn sign_message<'env>(
        &self,
        env: &'env Env,
        client_id: String,
        message: MessageText,
    ) -> Result<PromiseRaw<'env, SignedMessageJs>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let auth = inner.auth().await?;
            authcore::hmac::clients::assert_client_id(&client_id)?;
            let canonical = canonical_of(&message)?;
            auth.sign_message_canonical(&client_id, &canonical)
                .await
                .map(Into::into)
        })
    }

    /// The message instance's `verifyMessage({clientId, message, signature})`.
    #[napi(ts_return_type = "Promise<SignedMessageJs>", catch_unwind)]
    pub fn verify_message<'env>(
        &self,
        env: &'env Env,
        client_id: String,
        message: MessageText,
        signature: Option<String>,
    ) -> Result<PromiseRaw<'env, SignedMessageJs>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let auth = inner.auth().await?;
            authcore::hmac::clients::assert_client_id(&client_id)?;
            let canonical = canonical_of(&message)?;
            auth.verify_message_canonical(&client_id, &canonical, signature.as_deref())
                .await
                .map(Into::into)
        })
    }

    /// Raw `HGET` on the instance's store (tests, cross-compatibility checks).
    #[napi(ts_return_type = "Promise<string | null>", catch_unwind)]
    pub fn raw_hget<'env>(
        &self,
        env: &'env Env,
        key: String,
        field: String,
    ) -> Result<PromiseRaw<'env, Option<String>>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let store = store_for(&inner.url).await?;
            store.hget(&key, &field).await.map_err(HmacError::from)
        })
    }

    /// Raw `HSET`.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn raw_hset<'env>(
        &self,
        env: &'env Env,
        key: String,
        field: String,
        value: String,
    ) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let store = store_for(&inner.url).await?;
            store
                .hset(&key, &field, &value)
                .await
                .map_err(HmacError::from)
        })
    }

    /// Raw `GET`.
    #[napi(ts_return_type = "Promise<string | null>", catch_unwind)]
    pub fn raw_get<'env>(
        &self,
        env: &'env Env,
        key: String,
    ) -> Result<PromiseRaw<'env, Option<String>>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let store = store_for(&inner.url).await?;
            store.get(&key).await.map_err(HmacError::from)
        })
    }

    /// Raw `SET key value EX ttl`.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn raw_set_ex<'env>(
        &self,
        env: &'env Env,
        key: String,
        value: String,
        ttl_seconds: i64,
    ) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let store = store_for(&inner.url).await?;
            store
                .set_ex(&key, &value, ttl_seconds)
                .await
                .map_err(HmacError::from)
        })
    }

    /// Raw `DEL`.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn raw_del<'env>(&self, env: &'env Env, key: String) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            let store = store_for(&inner.url).await?;
            store.del(&key).await.map_err(HmacError::from)
        })
    }
}

/// The whole store-backed verification of one request (never fails: errors are outcomes).
async fn verify_request(inner: Arc<Inner>, request: VerifyRequest) -> VerifyOutcome {
    let body_len = match &request.body {
        None => 0,
        Some(Either::A(s)) => s.len(),
        Some(Either::B(b)) => b.len(),
    };
    if let Err(e) = authcore::hmac::crypto::check_body_size(body_len) {
        return VerifyOutcome::failure_of(&e);
    }
    let auth = match inner.auth().await {
        Ok(a) => a,
        Err(e) => return VerifyOutcome::failure_of(&e),
    };
    let body: &[u8] = match &request.body {
        None => b"",
        Some(Either::A(s)) => s.as_bytes(),
        Some(Either::B(b)) => b,
    };
    let parts = HttpRequestParts {
        method: &request.method,
        path: &request.path,
        client_id: request.client_id.as_deref(),
        signature: request.signature.as_deref(),
        timestamp: request.timestamp.as_deref(),
        nonce: request.nonce.as_deref(),
        body,
    };
    let candidates: Vec<&str> = request
        .ip_candidates
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    let opts = VerifyOptions {
        now_ms: request.now,
        max_skew_ms: request.max_skew_ms,
        ip_candidates: &candidates,
    };
    match auth.verifier.verify(&parts, opts).await {
        Ok(v) => VerifyOutcome::verified(v),
        Err(e) => VerifyOutcome::failure(e),
    }
}

/// Whether `value` is a store URL the addon opens itself (the core's one store-URL
/// parser, `authcore::store::StoreUrl`: `memory://`, `redis://`, `rediss://`,
/// `redis+unix://`, `unix://`, `redis+cluster://`, `rediss+cluster://`); anything else,
/// a non-string included, is not (the drop-in then expects a client object).
#[napi(catch_unwind, ts_args_type = "value: unknown")]
pub fn is_store_url(value: Unknown<'_>) -> Result<bool> {
    if value.get_type()? != napi::ValueType::String {
        return Ok(false);
    }
    // SAFETY: a JS string of the current call.
    let url: String = unsafe { value.cast()? };
    Ok(authcore::store::StoreUrl::parse(&url).is_some())
}

/// The instance defaults the original documents (for the JS layer and tests).
#[napi(object)]
pub struct HmacDefaults {
    pub namespace: String,
    pub max_skew_ms: f64,
    pub secret_length_bytes: u32,
    pub backup_ttl_seconds: i64,
    pub attach_auth_to: String,
}

#[napi(catch_unwind)]
pub fn hmac_defaults() -> HmacDefaults {
    HmacDefaults {
        namespace: record::DEFAULT_NAMESPACE.to_owned(),
        max_skew_ms: record::DEFAULT_MAX_SKEW_MS,
        secret_length_bytes: record::DEFAULT_SECRET_LENGTH_BYTES,
        backup_ttl_seconds: record::DEFAULT_BACKUP_TTL_SECONDS,
        attach_auth_to: record::DEFAULT_ATTACH_AUTH_TO.to_owned(),
    }
}

/// The tokio runtime the async methods run on: `AUTHCORE_TOKIO_WORKERS` worker threads
/// (default 1). Store I/O is multiplexed on one connection per URL, and every extra worker
/// adds cross-thread wake-ups between the task, the I/O driver and the JS thread: measured
/// on the 2-core CI machine (bench/node/verify-redis.mjs), one worker verifies at
/// concurrency 1 in 154 µs p50 against 220 µs with two, and matches two at concurrency 64.
#[napi_derive::module_init]
fn init_runtime() {
    let workers = std::env::var("AUTHCORE_TOKIO_WORKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    if let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("authcore-tokio")
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}
