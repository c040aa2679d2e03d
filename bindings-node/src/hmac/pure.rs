//! The pure wire functions (spec §2.2, §2.3, §2.6, §2.12): synchronous, no I/O.

use authcore::hmac::{self, HmacError, canonical, crypto, ip, message, record};
use authcore_node_boundary::napi;
use napi::bindgen_prelude::Either;

use crate::error::{Result, invalid_input, map_err};
use napi::Env;

/// A body as JS gives it: a string (hashed as UTF-8, lone surrogates as U+FFFD) or
/// bytes (hashed as lossy UTF-8, like the original's `Buffer#toString("utf8")`).
pub type Body<'a> = Either<String, &'a [u8]>;

pub fn body_bytes<'a>(b: &'a Option<Body<'_>>) -> &'a [u8] {
    match b {
        None => b"",
        Some(Either::A(s)) => s.as_bytes(),
        Some(Either::B(bytes)) => bytes,
    }
}

fn finite_ts(ts: f64) -> f64 {
    ts
}

/// Bodies above `MAX_BODY_BYTES` (V8's string limit, where the original throws) are a
/// typed `INVALID_INPUT` error, checked before any hashing.
pub fn check_body(env: &Env, b: &Option<Body<'_>>) -> Result<()> {
    crypto::check_body_size(body_bytes(b).len()).map_err(|e| map_err(env, e))
}

/// `hashClientSecret(secret, secretToken?)`: SHA-256 hex, or HMAC-SHA256 keyed by the
/// token when it is neither missing nor `""`.
#[napi(catch_unwind)]
pub fn hash_client_secret(secret: String, secret_token: Option<String>) -> String {
    crypto::hash_client_secret(&secret, secret_token.as_deref())
}

/// `hashBody(body)`: SHA-256 hex of the body's UTF-8 text.
#[napi(catch_unwind)]
pub fn hash_body(env: &Env, body: Body<'_>) -> Result<String> {
    let body = Some(body);
    check_body(env, &body)?;
    Ok(crypto::hash_body(body_bytes(&body)))
}

/// `SignInput` without the secret.
#[napi(object, object_to_js = false)]
pub struct SigningPayloadInput<'a> {
    pub method: String,
    pub path: String,
    pub timestamp: f64,
    pub nonce: String,
    pub body: Option<Body<'a>>,
}

/// `SignInput`.
#[napi(object, object_to_js = false)]
pub struct SignRequestInput<'a> {
    pub method: String,
    pub path: String,
    pub timestamp: f64,
    pub nonce: String,
    pub body: Option<Body<'a>>,
    pub secret: String,
}

/// `buildSigningPayload(input)`: `METHOD\nPATH\nTIMESTAMP\nNONCE\nsha256(body)`.
#[napi(catch_unwind)]
pub fn build_signing_payload(env: &Env, input: SigningPayloadInput<'_>) -> Result<String> {
    check_body(env, &input.body)?;
    crypto::build_signing_payload(&crypto::SignInput {
        method: &input.method,
        path: &input.path,
        timestamp: finite_ts(input.timestamp),
        nonce: &input.nonce,
        body: body_bytes(&input.body),
        secret: "",
    })
    .map_err(|e| map_err(env, e))
}

/// `signRequest(input)`: hex HMAC-SHA256 keyed by the UTF-8 bytes of `secret`.
#[napi(catch_unwind)]
pub fn sign_request(env: &Env, input: SignRequestInput<'_>) -> Result<String> {
    check_body(env, &input.body)?;
    crypto::sign_request(&crypto::SignInput {
        method: &input.method,
        path: &input.path,
        timestamp: finite_ts(input.timestamp),
        nonce: &input.nonce,
        body: body_bytes(&input.body),
        secret: &input.secret,
    })
    .map_err(|e| map_err(env, e))
}

/// `safeEqualHex(a, b)` with Node's hex-decoding quirks, constant time.
#[napi(catch_unwind)]
pub fn safe_equal_hex(a: String, b: String) -> bool {
    crypto::safe_equal_hex(&a, &b)
}

/// `normalizePath(pathOrUrl)` (WHATWG URL against `http://localhost`).
#[napi(catch_unwind)]
pub fn normalize_path(env: &Env, path: String) -> Result<String> {
    hmac::normalize_path(&path)
        .map(|p| p.into_owned())
        .map_err(|e| map_err(env, e))
}

/// `buildHttpSignedHeaders` input (the signing side only; `Headers` stays in JS).
#[napi(object, object_to_js = false)]
pub struct SignedHeadersInput<'a> {
    pub method: String,
    pub url: String,
    pub body: Option<Body<'a>>,
    pub client_id: String,
    pub secret: String,
    pub secret_is_hashed: Option<bool>,
    pub hash_token: Option<String>,
    pub nonce: Option<String>,
    pub timestamp: Option<f64>,
}

/// The four signed header values.
#[napi(object)]
pub struct SignedHeaderValues {
    pub client_id: String,
    /// `String(timestamp)`.
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
}

/// The signing half of `buildHttpSignedHeaders`: default timestamp (now) and nonce
/// (16 random bytes as hex), key = secret or `hashClientSecret(secret, hashToken)`.
#[napi(catch_unwind)]
pub fn build_signed_headers(
    env: &Env,
    input: SignedHeadersInput<'_>,
) -> Result<SignedHeaderValues> {
    check_body(env, &input.body)?;
    let h = hmac::build_signed_headers(&hmac::SignRequestHeadersInput {
        method: &input.method,
        url: &input.url,
        body: body_bytes(&input.body),
        client_id: &input.client_id,
        secret: &input.secret,
        secret_is_hashed: input.secret_is_hashed.unwrap_or(false),
        hash_token: input.hash_token.as_deref(),
        nonce: input.nonce.as_deref(),
        timestamp: input.timestamp,
    })
    .map_err(|e| map_err(env, e))?;
    Ok(SignedHeaderValues {
        client_id: h.client_id,
        timestamp: h.timestamp,
        nonce: h.nonce,
        signature: h.signature,
    })
}

/// `generateNonce()`: 16 random bytes as 32 lowercase hex chars.
#[napi(catch_unwind)]
pub fn generate_nonce(env: &Env) -> Result<String> {
    hmac::clients::generate_nonce().map_err(|e| map_err(env, e))
}

/// `randomBytes(n).toString("hex")` with `n` validated (16..=128).
#[napi(catch_unwind)]
pub fn generate_secret(env: &Env, length_bytes: f64) -> Result<String> {
    hmac::clients::generate_secret(length_bytes).map_err(|e| map_err(env, e))
}

// ---------------------------------------------------------------- message track

/// A message already reduced by the JS layer: `raw` is the final canonical string
/// (top-level strings, buffers, numbers…); `json` is `JSON.stringify` text in which
/// non-plain objects are wrapped as `{ <marker>: value }` (see `canonical::parse_json`).
#[napi(object)]
pub struct MessageText {
    pub raw: Option<String>,
    pub json: Option<String>,
    pub marker: Option<String>,
}

pub fn canonical_of(m: &MessageText) -> std::result::Result<String, HmacError> {
    match (&m.raw, &m.json) {
        (Some(raw), None) => Ok(raw.clone()),
        (None, Some(json)) => {
            let v = canonical::parse_json(json, m.marker.as_deref())?;
            canonical::to_message_string(&v)
        }
        (None, None) => Ok(String::new()),
        (Some(_), Some(_)) => Err(invalid_input("MessageText: give either raw or json")),
    }
}

/// `toMessageString(message)` from the JS layer's reduced form: sorted-key canonical
/// JSON (en-US collation, integer-like keys first, `__proto__` dropped, non-plain
/// objects kept in insertion order).
#[napi(catch_unwind)]
pub fn message_canonical(env: &Env, message: MessageText) -> Result<String> {
    canonical_of(&message).map_err(|e| map_err(env, e))
}

/// The key of a message signature.
#[napi(object, object_to_js = false)]
pub struct MessageKeyInput {
    pub secret: String,
    pub secret_is_hashed: Option<bool>,
    pub hash_token: Option<String>,
}

#[napi(object)]
pub struct SignedMessageJs {
    pub client_id: String,
    pub message_hash: String,
    pub signature: String,
}

impl From<message::SignedMessage> for SignedMessageJs {
    fn from(s: message::SignedMessage) -> Self {
        Self {
            client_id: s.client_id,
            message_hash: s.message_hash,
            signature: s.signature,
        }
    }
}

fn check_message_args_inner(env: &Env, client_id: &str, key: &MessageKeyInput) -> Result<()> {
    // The original checks clientId and secret before canonicalising the message.
    message::build_message_signing_payload(client_id, "").map_err(|e| map_err(env, e))?;
    message::sign_message_canonical(
        client_id,
        "",
        message::MessageKey {
            secret: &key.secret,
            secret_is_hashed: true,
            hash_token: None,
        },
    )
    .map_err(|e| map_err(env, e))?;
    Ok(())
}

/// The pure `signMessage({clientId, message, secret, secretIsHashed?, hashToken?})`.
#[napi(catch_unwind)]
pub fn sign_message(
    env: &Env,
    client_id: String,
    message: MessageText,
    key: MessageKeyInput,
) -> Result<SignedMessageJs> {
    check_message_args_inner(env, &client_id, &key)?;
    let canonical = canonical_of(&message).map_err(|e| map_err(env, e))?;
    message::sign_message_canonical(
        &client_id,
        &canonical,
        message::MessageKey {
            secret: &key.secret,
            secret_is_hashed: key.secret_is_hashed.unwrap_or(false),
            hash_token: key.hash_token.as_deref(),
        },
    )
    .map(Into::into)
    .map_err(|e| map_err(env, e))
}

/// The pure `verifyMessage(...)`: recompute and compare like `safeEqualHex`.
#[napi(catch_unwind)]
pub fn verify_message(
    env: &Env,
    client_id: String,
    message: MessageText,
    key: MessageKeyInput,
    signature: String,
) -> Result<bool> {
    let signed = sign_message(env, client_id, message, key)?;
    Ok(crypto::safe_equal_hex(&signed.signature, &signature))
}

/// `buildMessageSigningPayload({clientId, messageHash})`.
#[napi(catch_unwind)]
pub fn build_message_signing_payload(
    env: &Env,
    client_id: String,
    message_hash: String,
) -> Result<String> {
    message::build_message_signing_payload(&client_id, &message_hash).map_err(|e| map_err(env, e))
}

// ---------------------------------------------------------------- IP allow-list, records

/// `isClientIpAllowed(ip, rules)`.
#[napi(catch_unwind)]
pub fn is_client_ip_allowed(ip: String, rules: Vec<String>) -> bool {
    ip::is_client_ip_allowed(&ip, &rules)
}

/// `extractClientIp(...candidates)` over already flattened string candidates.
#[napi(catch_unwind)]
pub fn extract_client_ip(candidates: Vec<String>) -> Option<String> {
    ip::extract_client_ip(candidates.iter().map(String::as_str))
}

/// `normalizeAllowedIpRules(list)`: entries that are not strings are given as `null`.
#[napi(catch_unwind)]
pub fn normalize_allowed_ip_rules(env: &Env, entries: Vec<Option<String>>) -> Result<Vec<String>> {
    let list = crate::hmac::clients::ip_entries(entries);
    ip::normalize_allowed_ip_rules(Some(&list)).map_err(|e| map_err(env, e))
}

/// A stored credential record (`StoredClientCredentialRecord`).
#[napi(object)]
pub struct ClientRecordJs {
    pub secret_hash: String,
    pub created_at: f64,
    pub updated_at: f64,
    pub expires_at: Option<f64>,
    pub allowed_ips: Vec<String>,
}

impl From<record::ClientRecord> for ClientRecordJs {
    fn from(r: record::ClientRecord) -> Self {
        Self {
            secret_hash: r.secret_hash,
            created_at: r.created_at,
            updated_at: r.updated_at,
            expires_at: r.expires_at,
            allowed_ips: r.allowed_ips,
        }
    }
}

impl From<&ClientRecordJs> for record::ClientRecord {
    fn from(r: &ClientRecordJs) -> Self {
        Self {
            secret_hash: r.secret_hash.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            expires_at: r.expires_at,
            allowed_ips: r.allowed_ips.clone(),
        }
    }
}

/// `parseStoredClientRecord(raw)` (legacy plain-hash values included).
#[napi(catch_unwind)]
pub fn parse_stored_client_record(raw: String) -> ClientRecordJs {
    record::parse_stored_client_record(&raw).into()
}

/// The record's exact stored JSON (`JSON.stringify(record)` with the original's order).
#[napi(catch_unwind)]
pub fn client_record_to_json(record: ClientRecordJs) -> String {
    record::ClientRecord::from(&record).to_json()
}

/// `buildRedisNamespaceKeys(ns?)`.
#[napi(object)]
pub struct NamespaceKeysJs {
    pub namespace: String,
    pub clients_hash_key: String,
    pub nonce_key_prefix: String,
    pub credential_backup_key_prefix: String,
}

#[napi(catch_unwind)]
pub fn build_namespace_keys(env: &Env, namespace: Option<String>) -> Result<NamespaceKeysJs> {
    let k = record::NamespaceKeys::new(namespace.as_deref()).map_err(|e| map_err(env, e))?;
    Ok(NamespaceKeysJs {
        namespace: k.namespace,
        clients_hash_key: k.clients_hash_key,
        nonce_key_prefix: k.nonce_key_prefix,
        credential_backup_key_prefix: k.credential_backup_key_prefix,
    })
}

/// JavaScript `Number(str)` as the verifier parses `x-timestamp`.
#[napi(catch_unwind)]
pub fn js_string_to_number(s: String) -> f64 {
    authcore::js::string_to_number(&s)
}

/// JavaScript `String(n)` as the payload renders the timestamp.
#[napi(catch_unwind)]
pub fn js_number_to_string(n: f64) -> String {
    authcore::js::number_to_string(n)
}

/// The argument checks of the pure `signMessage` (blank clientId, blank secret), for a
/// JS layer that must report them before an error of its own canonicalisation.
#[napi(catch_unwind)]
pub fn check_message_args(env: &Env, client_id: String, key: MessageKeyInput) -> Result<()> {
    check_message_args_inner(env, &client_id, &key)
}

/// The store-backed `signMessage` once the record was read (`recordRaw` = the stored
/// value, `null` when missing): for a JS-side store.
#[napi(catch_unwind)]
pub fn sign_message_with_record(
    env: &Env,
    client_id: String,
    record_raw: Option<String>,
    message: MessageText,
    now: f64,
) -> Result<SignedMessageJs> {
    let record = record::parse_optional_record(record_raw.as_deref());
    let canonical = canonical_of(&message).map_err(|e| map_err(env, e))?;
    message::sign_message_with_record(&client_id, record.as_ref(), &canonical, now)
        .map(Into::into)
        .map_err(|e| map_err(env, e))
}

/// The checks of the store-backed `verifyMessage` before the record read.
#[napi(catch_unwind)]
pub fn verify_message_precheck(
    env: &Env,
    client_id: String,
    signature: Option<String>,
) -> Result<()> {
    message::verify_message_precheck(&client_id, signature.as_deref()).map_err(|e| map_err(env, e))
}

/// The store-backed `verifyMessage` once the record was read.
#[napi(catch_unwind)]
pub fn verify_message_with_record(
    env: &Env,
    client_id: String,
    record_raw: Option<String>,
    message: MessageText,
    signature: Option<String>,
    now: f64,
) -> Result<SignedMessageJs> {
    let record = record::parse_optional_record(record_raw.as_deref());
    let canonical = canonical_of(&message).map_err(|e| map_err(env, e))?;
    message::verify_message_with_record(
        &client_id,
        record.as_ref(),
        &canonical,
        signature.as_deref(),
        now,
    )
    .map(Into::into)
    .map_err(|e| map_err(env, e))
}
