//! HMAC wire v1 of `@naskot/node-hmac-auth-core` 1.0.0: signing requests and messages
//! (the client side) and the sans-IO verification of a request against its stored
//! credential (the server side; replay protection stays the caller's, see
//! [`verify_with_record`]). Each function converts, calls `authcore::hmac`, converts back.

use authcore::hmac::canonical::{parse_json, to_message_string};
use authcore::hmac::crypto::{self, SignInput};
use authcore::hmac::message::{self, MessageKey};
use authcore::hmac::record::{DEFAULT_MAX_SKEW_MS, NamespaceKeys, parse_optional_record};
use authcore::hmac::sources::{HeaderSlot, IpField, IpSources, VerifyHeaders};
use authcore::hmac::verify::{self, HttpRequestParts};
use authcore::hmac::{SignRequestHeadersInput as CoreHeadersInput, build_signed_headers};

use crate::AuthcoreError;

type Result<T> = std::result::Result<T, AuthcoreError>;

/// `hashClientSecret(secret, secretToken?)`: SHA-256 hex of `secret`, or HMAC-SHA256 hex
/// keyed by `secret_token` when it is present and non-empty. The result is the
/// `secretHash` a server stores and the key requests are signed with.
#[uniffi::export(default(secret_token = None))]
pub fn hash_client_secret(secret: String, secret_token: Option<String>) -> String {
    crypto::hash_client_secret(&secret, secret_token.as_deref())
}

/// `hashBody(body)`: SHA-256 hex of the body (invalid UTF-8 replaced by U+FFFD first, as
/// the original does). Bodies over the core's size cap are `INVALID_INPUT`.
#[uniffi::export]
pub fn hash_body(body: Vec<u8>) -> Result<String> {
    crypto::check_body_size(body.len())?;
    Ok(crypto::hash_body(&body))
}

/// `buildSigningPayload`: `METHOD\nPATH\nTIMESTAMP\nNONCE\nSHA256(body)`, the text a
/// request signature covers (the method upper-cased, the path normalised, the timestamp
/// rendered as JavaScript renders a Number).
#[uniffi::export]
pub fn build_signing_payload(
    method: String,
    path: String,
    timestamp: f64,
    nonce: String,
    body: Vec<u8>,
) -> Result<String> {
    Ok(crypto::build_signing_payload(&SignInput {
        method: &method,
        path: &path,
        timestamp,
        nonce: &nonce,
        body: &body,
        secret: "",
    })?)
}

/// `signRequest`: HMAC-SHA256 hex over the signing payload, keyed by the UTF-8 bytes of
/// `secret` (normally the 64-character `secretHash`).
#[uniffi::export]
pub fn sign_request(
    method: String,
    path: String,
    timestamp: f64,
    nonce: String,
    body: Vec<u8>,
    secret: String,
) -> Result<String> {
    Ok(crypto::sign_request(&SignInput {
        method: &method,
        path: &path,
        timestamp,
        nonce: &nonce,
        body: &body,
        secret: &secret,
    })?)
}

/// What [`sign_request_headers`] signs.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SignHeadersInput {
    /// HTTP method.
    pub method: String,
    /// Path, path with query, or absolute URL (normalised like the verifier does).
    pub url: String,
    /// The exact body bytes that will be sent.
    pub body: Vec<u8>,
    /// The client id (`x-client-id`).
    pub client_id: String,
    /// The plain client secret, or its `secretHash` when `secret_is_hashed`.
    pub secret: String,
    /// `secret` is already the `secretHash`.
    #[uniffi(default = false)]
    pub secret_is_hashed: bool,
    /// The server's `secretToken` (pepper) used to hash a plain secret.
    #[uniffi(default = None)]
    pub hash_token: Option<String>,
    /// The nonce; a fresh random one (32 hex characters) when absent.
    #[uniffi(default = None)]
    pub nonce: Option<String>,
    /// Milliseconds since the epoch; now when absent.
    #[uniffi(default = None)]
    pub timestamp: Option<f64>,
}

/// The four headers of a signed request.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignedHeaders {
    /// `x-client-id`.
    pub client_id: String,
    /// `x-timestamp` (the timestamp as JavaScript's `String(n)` renders it).
    pub timestamp: String,
    /// `x-nonce`.
    pub nonce: String,
    /// `x-signature`.
    pub signature: String,
}

/// `buildHttpSignedHeaders`: everything a client sends with a request (`x-client-id`,
/// `x-timestamp`, `x-nonce`, `x-signature`).
#[uniffi::export]
pub fn sign_request_headers(input: SignHeadersInput) -> Result<SignedHeaders> {
    let h = build_signed_headers(&CoreHeadersInput {
        method: &input.method,
        url: &input.url,
        body: &input.body,
        client_id: &input.client_id,
        secret: &input.secret,
        secret_is_hashed: input.secret_is_hashed,
        hash_token: input.hash_token.as_deref(),
        nonce: input.nonce.as_deref(),
        timestamp: input.timestamp,
    })?;
    Ok(SignedHeaders {
        client_id: h.client_id,
        timestamp: h.timestamp,
        nonce: h.nonce,
        signature: h.signature,
    })
}

/// `normalizePath(path)`: WHATWG URL parsing against `http://localhost`, pathname +
/// search. An invalid URL (`//[`) is `INVALID_INPUT`.
#[uniffi::export]
pub fn normalize_path(path: String) -> Result<String> {
    Ok(authcore::hmac::normalize_path(&path)?.into_owned())
}

/// `safeEqualHex(a, b)` with the original's semantics, in constant time.
#[uniffi::export]
pub fn safe_equal_hex(a: String, b: String) -> bool {
    authcore::hmac::safe_equal_hex(&a, &b)
}

/// `toMessageString(message)`: the exact text the message track hashes. `message_json` is
/// any JSON value (objects get the original's key order, a top-level string is used raw,
/// `null` is `""`). JSON that does not parse is `INVALID_INPUT`.
#[uniffi::export]
pub fn message_canonical(message_json: String) -> Result<String> {
    Ok(to_message_string(&parse_json(&message_json, None)?)?)
}

/// A message to sign or verify (`signMessage` / `verifyMessage` input).
#[derive(Debug, Clone, uniffi::Record)]
pub struct MessageInput {
    /// The client id (surrounding JavaScript white space trimmed).
    pub client_id: String,
    /// The message as JSON text (any JSON value).
    pub message_json: String,
    /// The plain secret, or the `secretHash` when `secret_is_hashed`.
    pub secret: String,
    /// `secretIsHashed`.
    #[uniffi(default = false)]
    pub secret_is_hashed: bool,
    /// `hashToken`: the pepper used to hash a plain secret.
    #[uniffi(default = None)]
    pub hash_token: Option<String>,
}

/// A signed message (`SignedMessage`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignedMessage {
    /// The trimmed client id.
    pub client_id: String,
    /// SHA-256 hex of the canonical message.
    pub message_hash: String,
    /// HMAC-SHA256 hex signature.
    pub signature: String,
}

fn with_message<T>(
    input: &MessageInput,
    f: impl FnOnce(
        &str,
        &authcore::hmac::JsValue,
        MessageKey<'_>,
    ) -> std::result::Result<T, authcore::hmac::HmacError>,
) -> Result<T> {
    let message = parse_json(&input.message_json, None)?;
    let key = MessageKey {
        secret: &input.secret,
        secret_is_hashed: input.secret_is_hashed,
        hash_token: input.hash_token.as_deref(),
    };
    Ok(f(&input.client_id, &message, key)?)
}

/// `signMessage`: `messageHash` = SHA-256 of the canonical message, `signature` =
/// HMAC-SHA256(key, trimmedClientId + "\n" + messageHash). A blank client id or secret is
/// `INVALID_ARGUMENT`.
#[uniffi::export]
pub fn sign_message(input: MessageInput) -> Result<SignedMessage> {
    let signed = with_message(&input, message::sign_message)?;
    Ok(SignedMessage {
        client_id: signed.client_id,
        message_hash: signed.message_hash,
        signature: signed.signature,
    })
}

/// `verifyMessage`: recomputes the signature and compares it in constant time. A
/// mismatch is `false`, not an error.
#[uniffi::export]
pub fn verify_message(input: MessageInput, signature: String) -> Result<bool> {
    with_message(&input, |c, m, k| {
        message::verify_message(c, m, k, &signature)
    })
}

/// One request header as the server received it, in the server's order.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpHeader {
    /// The header name (matched case-insensitively).
    pub name: String,
    /// The value; for a header the server holds as a list, its first element (`None`
    /// for an empty list).
    pub value: Option<String>,
}

/// Where the client IP may come from (the original's `input.metadata`). The core tries
/// them in the original's order: `ip`, each of `ips`, `forwarded_for`, the
/// `x-forwarded-for` header, `remote_address`; the first that parses is the client IP.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct IpMetadata {
    /// `metadata.ip`.
    #[uniffi(default = None)]
    pub ip: Option<String>,
    /// `metadata.ips`.
    #[uniffi(default)]
    pub ips: Vec<String>,
    /// `metadata.forwardedFor`.
    #[uniffi(default = None)]
    pub forwarded_for: Option<String>,
    /// `metadata.remoteAddress` (the socket's peer address).
    #[uniffi(default = None)]
    pub remote_address: Option<String>,
}

/// An inbound request and its stored credential, for [`verify_with_record`].
#[derive(Debug, Clone, uniffi::Record)]
pub struct VerifyRequest {
    /// The request method as received.
    pub method: String,
    /// The request target (path and query, or absolute URL).
    pub path: String,
    /// The request headers in the server's order (only `x-client-id`, `x-signature`,
    /// `x-timestamp`, `x-nonce` and `x-forwarded-for` are read; the first of each name
    /// counts).
    pub headers: Vec<HttpHeader>,
    /// The raw body bytes.
    pub body: Vec<u8>,
    /// The current time in milliseconds since the epoch.
    pub now_ms: f64,
    /// The skew window in milliseconds (the original's 300000 by default; NaN, ±Infinity
    /// or more than 24 hours is `INVALID_ARGUMENT`).
    #[uniffi(default = None)]
    pub max_skew_ms: Option<f64>,
    /// The stored credential value (`HGET <ns>:clients <clientId>`) in any form the
    /// original accepts; `None` or empty: no credential (`UNKNOWN_CLIENT`).
    #[uniffi(default = None)]
    pub record: Option<String>,
    /// The IP sources, for credentials with an IP allow-list.
    #[uniffi(default)]
    pub metadata: IpMetadata,
}

/// A verified request.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VerifiedRequest {
    /// The trimmed client id.
    pub client_id: String,
    /// `Number(x-timestamp)`.
    pub timestamp: f64,
    /// The raw `x-nonce`.
    pub nonce: String,
    /// The raw `x-signature`.
    pub signature: String,
    /// Seconds to claim the nonce for (`SET <nonce_key> 1 NX EX <ttl>`): the rest of the
    /// request's window.
    pub nonce_ttl_seconds: i64,
}

fn ip_field(v: Option<String>) -> IpField {
    v.map_or(IpField::Absent, IpField::One)
}

/// The original's `verifyHttpSignature` without its store: the four headers, the
/// timestamp and skew window, the credential (`request.record`), expiry, the IP
/// allow-list, then the signature in constant time, in the original's order. Returns the
/// verified request or the code of the first failing check.
///
/// Replay protection is the caller's: after success, claim
/// [`nonce_key`]`(namespace, client_id, nonce, timestamp)` with
/// `SET … 1 NX EX nonce_ttl_seconds` and answer `REPLAYED_NONCE` (401) when it exists.
#[uniffi::export]
pub fn verify_with_record(request: VerifyRequest) -> Result<VerifiedRequest> {
    crypto::check_body_size(request.body.len())?;
    let mut headers = VerifyHeaders::<String>::default();
    for h in request.headers {
        let value = h.value;
        let done = headers.offer::<()>(&h.name, |_| Ok(value)).unwrap_or(false);
        if done {
            break;
        }
    }
    let parts = HttpRequestParts {
        method: &request.method,
        path: &request.path,
        client_id: headers.get(HeaderSlot::ClientId).map(String::as_str),
        signature: headers.get(HeaderSlot::Signature).map(String::as_str),
        timestamp: headers.get(HeaderSlot::Timestamp).map(String::as_str),
        nonce: headers.get(HeaderSlot::Nonce).map(String::as_str),
        body: &request.body,
    };
    let max_skew_ms = request.max_skew_ms.unwrap_or(DEFAULT_MAX_SKEW_MS);
    let prepared = verify::prepare(&parts, request.now_ms, max_skew_ms)?;
    let record =
        parse_optional_record(request.record.as_deref()).ok_or_else(verify::unknown_client)?;
    let md = request.metadata;
    let candidates = IpSources {
        ip: ip_field(md.ip),
        ips: IpField::Many(md.ips),
        forwarded_for: ip_field(md.forwarded_for),
        forwarded_header: headers.get(HeaderSlot::ForwardedFor).cloned(),
        remote_address: ip_field(md.remote_address),
    }
    .candidates();
    let ips: Vec<&str> = candidates.iter().map(String::as_str).collect();
    verify::check_record(&prepared, &parts, &record, request.now_ms, &ips).map_err(|e| e.error)?;
    Ok(VerifiedRequest {
        client_id: prepared.client_id.to_owned(),
        timestamp: prepared.timestamp,
        nonce: prepared.nonce.to_owned(),
        signature: prepared.signature.to_owned(),
        nonce_ttl_seconds: prepared.nonce_ttl_seconds,
    })
}

/// The key that claims a nonce: `<ns>:nonce:<clientId>:<nonce>:<timestamp>` (namespace
/// trimmed, `hmacauth` when absent; the timestamp rendered as JavaScript renders it). A
/// blank namespace is `INVALID_ARGUMENT`.
#[uniffi::export(default(namespace = None))]
pub fn nonce_key(
    client_id: String,
    nonce: String,
    timestamp: f64,
    namespace: Option<String>,
) -> Result<String> {
    let keys = NamespaceKeys::new(namespace.as_deref())?;
    Ok(keys.nonce_key(&client_id, &nonce, timestamp))
}
