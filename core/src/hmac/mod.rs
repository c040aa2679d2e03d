//! HMAC request and message authentication, wire v1 of `@naskot/node-hmac-auth-core`
//! 1.0.0 (spec `naskot-hmac-core.md`).
//!
//! - [`crypto`]: `hashClientSecret`, `hashBody`, `buildSigningPayload`, `signRequest`,
//!   `safeEqualHex`.
//! - [`path`]: `normalizePath` (WHATWG URL semantics).
//! - [`canonical`]: the message track's canonical JSON.
//! - [`ip`]: the IP/CIDR allow-list.
//! - [`record`]: the stored credential JSON and the Redis key layout.
//! - [`verify`]: `verifyHttpSignature` (sans-IO parts and the one-round-trip verifier).
//! - [`message`]: `signMessage` / `verifyMessage`.
//! - [`clients`]: the credential lifecycle.
//! - [`error`]: `HmacAuthError` codes and statuses.

pub mod canonical;
pub mod clients;
pub mod crypto;
pub mod error;
pub mod ip;
pub mod message;
pub mod path;
pub mod record;
pub mod sources;
pub mod verify;

use std::sync::Arc;

pub use canonical::{JsString, JsValue};
pub use clients::{ClientsConfig, HmacClients};
pub use crypto::{
    SignInput, build_signing_payload, hash_body, hash_client_secret, safe_equal_hex, sign_request,
};
pub use error::{HmacAuthError, HmacError, HmacErrorCode};
pub use message::{MessageKey, SignedMessage};
pub use path::normalize_path;
pub use record::{ClientRecord, NamespaceKeys};
pub use verify::{
    Clock, HttpRequestParts, HttpVerifier, VerifiedRequest, VerifyError, VerifyOptions,
};

use crate::js::number_to_string;
use crate::store::KvStore;
use secrecy::{ExposeSecret, SecretString};

/// Options shared by `initializeHmacHttpAuth` and `initializeHmacMessageAuth`.
#[derive(Debug, Clone, Default)]
pub struct HmacAuthOptions {
    /// Key namespace in the store (default `hmacauth`).
    pub namespace: Option<String>,
    /// HTTP only; default 300000. Validated ([`record::check_max_skew_ms`]): NaN,
    /// ±Infinity and values above 24 h are an error, where the original accepted them.
    pub max_skew_ms: Option<f64>,
    /// Default 32; must be an integer in 16..=128.
    pub default_secret_length_bytes: Option<f64>,
    /// The pepper (`secretToken`); never printed, wiped on drop.
    pub secret_token: Option<SecretString>,
    /// `dbSeedBackupTtlSeconds`, default 600; an integer from 1 to 31536000
    /// ([`record::check_backup_ttl_seconds`]).
    pub backup_ttl_seconds: Option<f64>,
}

/// A store URL a binding accepts for an instance: `memory://…` or a Redis URL. Anything
/// else is `INVALID_INPUT` (the URL redacted in the message).
pub fn check_store_url(url: &str) -> Result<crate::store::StoreUrl, HmacError> {
    crate::store::StoreUrl::require("store", url, "memory://, redis:// or rediss://")
        .map_err(|e| HmacError::InvalidInput(e.to_string()))
}

/// An initialised instance: the credential lifecycle, the HTTP verifier and the
/// store-backed message track over one store and namespace.
///
/// # Example
///
/// A credential in the embedded store, a request signed as a client does, then verified
/// (a replay of the same request is refused):
///
/// ```
/// use std::sync::Arc;
/// use authcore::hmac::clients::{AllowedIps, ExpiresAt};
/// use authcore::hmac::{HmacAuth, HmacAuthOptions, HttpRequestParts, SignRequestHeadersInput};
/// use authcore::hmac::{VerifyOptions, build_signed_headers};
/// use authcore::store::MemoryStore;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let auth = HmacAuth::new(Arc::new(MemoryStore::new()), &HmacAuthOptions::default())?;
/// auth.clients
///     .set_secret("orders", "s3cret", &ExpiresAt::Keep, &AllowedIps::Keep)
///     .await?;
///
/// let body = br#"{"id":1}"#;
/// let headers = build_signed_headers(&SignRequestHeadersInput {
///     method: "POST",
///     url: "/api/orders",
///     body,
///     client_id: "orders",
///     secret: "s3cret",
///     secret_is_hashed: false,
///     hash_token: None,
///     nonce: None,
///     timestamp: None,
/// })?;
/// let request = HttpRequestParts {
///     method: "POST",
///     path: "/api/orders",
///     client_id: Some(&headers.client_id),
///     signature: Some(&headers.signature),
///     timestamp: Some(&headers.timestamp),
///     nonce: Some(&headers.nonce),
///     body,
/// };
/// let verified = auth.verifier.verify(&request, VerifyOptions::default()).await.unwrap();
/// assert_eq!(verified.client_id, "orders");
/// let replay = auth.verifier.verify(&request, VerifyOptions::default()).await.unwrap_err();
/// assert_eq!(replay.error.code(), "REPLAYED_NONCE");
/// # Ok::<(), authcore::hmac::HmacError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct HmacAuth {
    /// The credential lifecycle.
    pub clients: HmacClients,
    /// The HTTP request verifier.
    pub verifier: HttpVerifier,
}

impl HmacAuthOptions {
    /// The synchronous checks of the initialisers, in the original's order (namespace,
    /// `defaultSecretLengthBytes`), then the settings the original does not check but
    /// which must fail closed (`maxSkewMs`, `dbSeedBackupTtlSeconds`). Returns the
    /// lifecycle configuration and the verifier's skew window.
    pub fn resolve(&self) -> Result<(ClientsConfig, f64), HmacError> {
        let keys = NamespaceKeys::new(self.namespace.as_deref())?;
        let default_len = self
            .default_secret_length_bytes
            .unwrap_or(f64::from(record::DEFAULT_SECRET_LENGTH_BYTES));
        clients::validate_secret_length(default_len)?;
        let max_skew_ms =
            record::check_max_skew_ms(self.max_skew_ms.unwrap_or(record::DEFAULT_MAX_SKEW_MS))?;
        let backup_ttl_seconds = match self.backup_ttl_seconds {
            Some(v) => record::check_backup_ttl_seconds(v)?,
            None => record::DEFAULT_BACKUP_TTL_SECONDS,
        };
        Ok((
            ClientsConfig {
                keys,
                secret_token: self.secret_token.clone(),
                default_secret_length_bytes: default_len,
                backup_ttl_seconds,
            },
            max_skew_ms,
        ))
    }
}

impl HmacAuth {
    /// The synchronous checks of the initialisers ([`HmacAuthOptions::resolve`]).
    pub fn new(store: Arc<dyn KvStore>, opts: &HmacAuthOptions) -> Result<Self, HmacError> {
        let (cfg, max_skew_ms) = opts.resolve()?;
        let keys = cfg.keys.clone();
        Ok(Self {
            clients: HmacClients::new(store.clone(), cfg),
            verifier: HttpVerifier::new(store, keys, max_skew_ms)?,
        })
    }

    /// The same instance reading `clock` wherever the original reads `Date.now()`: the
    /// lifecycle's `createdAt`/`updatedAt`, the message track's expiry check and a
    /// verification given no `now_ms`.
    pub fn with_clock(self, clock: Clock) -> Self {
        Self {
            clients: self.clients.with_clock(clock.clone()),
            verifier: self.verifier.with_clock(clock),
        }
    }

    /// The resolved namespace.
    pub fn namespace(&self) -> &str {
        &self.verifier.keys().namespace
    }

    /// The pepper (`secretToken`), if configured.
    pub fn secret_token(&self) -> Option<&str> {
        self.clients
            .config()
            .secret_token
            .as_ref()
            .map(|t| t.expose_secret())
    }

    /// The message instance's `signMessage({clientId, message})` over a canonical string.
    pub async fn sign_message_canonical(
        &self,
        client_id: &str,
        canonical: &str,
    ) -> Result<SignedMessage, HmacError> {
        clients::assert_client_id(client_id)?;
        let record = self.clients.read_record(client_id).await?;
        let now = self.clients.clock().now_ms()?;
        message::sign_message_with_record(client_id, record.as_ref(), canonical, now)
    }

    /// The message instance's `verifyMessage({clientId, message, signature})` over a
    /// canonical string. Returns the recomputed signed message.
    pub async fn verify_message_canonical(
        &self,
        client_id: &str,
        canonical: &str,
        signature: Option<&str>,
    ) -> Result<SignedMessage, HmacError> {
        message::verify_message_precheck(client_id, signature)?;
        let record = self.clients.read_record(client_id).await?;
        let now = self.clients.clock().now_ms()?;
        message::verify_message_with_record(client_id, record.as_ref(), canonical, signature, now)
    }

    /// The message instance's `signMessage({clientId, message})`.
    pub async fn sign_message(
        &self,
        client_id: &str,
        message: &JsValue,
    ) -> Result<SignedMessage, HmacError> {
        clients::assert_client_id(client_id)?;
        self.sign_message_canonical(client_id, &canonical::to_message_string(message)?)
            .await
    }

    /// The message instance's `verifyMessage({clientId, message, signature})`.
    pub async fn verify_message(
        &self,
        client_id: &str,
        message: &JsValue,
        signature: Option<&str>,
    ) -> Result<SignedMessage, HmacError> {
        clients::assert_client_id(client_id)?;
        self.verify_message_canonical(
            client_id,
            &canonical::to_message_string(message)?,
            signature,
        )
        .await
    }
}

/// The four headers of a signed request (`buildHttpSignedHeaders`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `x-client-id`.
    pub client_id: String,
    /// `String(timestamp)`.
    pub timestamp: String,
    /// `x-nonce`.
    pub nonce: String,
    /// `x-signature`.
    pub signature: String,
}

/// Inputs of [`build_signed_headers`].
#[derive(Clone, Copy)]
pub struct SignRequestHeadersInput<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// A path, path with query, or absolute URL.
    pub url: &'a str,
    /// The raw body bytes.
    pub body: &'a [u8],
    /// The client id to sign as.
    pub client_id: &'a str,
    /// The client's secret (plain, or its `secretHash` when `secret_is_hashed`).
    pub secret: &'a str,
    /// `secretIsHashed`: `secret` is already the `secretHash`.
    pub secret_is_hashed: bool,
    /// `hashToken`: the pepper used to hash a plain secret.
    pub hash_token: Option<&'a str>,
    /// The nonce (default: 16 random bytes as hex).
    pub nonce: Option<&'a str>,
    /// The timestamp in epoch milliseconds (default: now).
    pub timestamp: Option<f64>,
}

crate::redacted_debug!(SignRequestHeadersInput<'a> { method, url, client_id, secret_is_hashed, nonce, timestamp } secret { secret, hash_token });

/// The signing side of `buildHttpSignedHeaders`: key = `secret` when hashed, else
/// `hashClientSecret(secret, hashToken)`; timestamp defaults to now, nonce to 16 random
/// bytes as hex.
pub fn build_signed_headers(
    input: &SignRequestHeadersInput<'_>,
) -> Result<SignedHeaders, HmacError> {
    let timestamp = input.timestamp.unwrap_or_else(verify::now_ms);
    let nonce = match input.nonce {
        Some(n) => n.to_owned(),
        None => clients::generate_nonce()?,
    };
    let hashed;
    let key = if input.secret_is_hashed {
        input.secret
    } else {
        hashed = hash_client_secret(input.secret, input.hash_token);
        &hashed
    };
    let signature = sign_request(&SignInput {
        method: input.method,
        path: input.url,
        timestamp,
        nonce: &nonce,
        body: input.body,
        secret: key,
    })?;
    Ok(SignedHeaders {
        client_id: input.client_id.to_owned(),
        timestamp: number_to_string(timestamp),
        nonce,
        signature,
    })
}
