//! Sans-IO verification (spec §2.7): one call per step that needs no I/O, returning a
//! structured outcome instead of throwing, so a failed verification costs no JS
//! exception and carries code, HTTP status, message and the `onBadSignature` details.

use authcore::hmac::record::{NamespaceKeys, parse_optional_record};
use authcore::hmac::verify::{
    self, BadSignatureDetails, HttpRequestParts, VerifyError, check_record, prepare,
};
use authcore::hmac::{HmacError, record};
use authcore_node_boundary::napi;

use napi::JsValue;
use napi::bindgen_prelude::Unknown;

use crate::error::{Result, map_err};
use crate::hmac::pure::{Body, body_bytes};
use napi::Env;

/// The request as the JS layer extracted it (`getHeader` values, first array element).
#[napi(object, object_to_js = false)]
pub struct VerifyInput<'a> {
    pub method: String,
    /// `req.originalUrl ?? req.url`, a path or a URL.
    pub path: String,
    pub client_id: Option<String>,
    pub signature: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub body: Option<Body<'a>>,
    /// `input.now ?? Date.now()`.
    pub now: Option<f64>,
    /// Default 300000.
    pub max_skew_ms: Option<f64>,
    /// Resolved namespace (default `hmacauth`), for the nonce key.
    pub namespace: Option<String>,
    /// The stored value of `<ns>:clients[clientId]`; `null`/`undefined`/`""` = unknown
    /// client (only read by `verifyWithRecord`).
    pub record: Option<String>,
    /// IP candidates in the original's order (`metadata.ip`, `metadata.ips[]`,
    /// `metadata.forwardedFor`, `x-forwarded-for`, `metadata.remoteAddress`).
    pub ip_candidates: Option<Vec<String>>,
}

/// The request's IP sources as the drop-in hands them over, in a fixed shape:
/// `[metadata.ip, metadata.ips, metadata.forwardedFor, x-forwarded-for, metadata.remoteAddress]`
/// (any slot `undefined`), read like the `metadata` fields of a request
/// ([`crate::hmac::sources::ip_candidates_of_slots`]); the order the candidates are tried
/// in is the core's ([`authcore::hmac::sources::IpSources::candidates`]).
pub fn ip_candidates_of(
    env: &Env,
    sources: Option<Vec<Unknown<'_>>>,
) -> Result<Option<Vec<String>>> {
    sources
        .map(|s| {
            let slots: Vec<_> = s.iter().map(|v| v.raw()).collect();
            crate::hmac::sources::ip_candidates_of_slots(env, &slots)
        })
        .transpose()
}

/// The core's `getHeader` rule over a request's `headers` object:
/// `[clientId, signature, timestamp, nonce, forwardedFor]` as the verifier reads them
/// (absent = `null`; `forwardedFor` only when it is a string). A non-string
/// `x-client-id` throws the original's `TypeError`.
#[napi(
    catch_unwind,
    ts_args_type = "headers: unknown",
    ts_return_type = "Array<string | null>"
)]
pub fn request_headers(env: &Env, headers: Unknown<'_>) -> Result<Vec<Option<String>>> {
    let h = crate::hmac::sources::read_headers(env, headers.raw())?;
    Ok(vec![
        h.client_id,
        h.signature,
        h.timestamp,
        h.nonce,
        h.forwarded_for,
    ])
}

/// What `onBadSignature` receives besides the request itself.
#[napi(object)]
pub struct BadSignatureJs {
    pub client_id: String,
    pub path: String,
    pub timestamp: f64,
    pub nonce: String,
    pub received_signature: String,
    pub expected_signature: String,
}

impl From<BadSignatureDetails> for BadSignatureJs {
    fn from(d: BadSignatureDetails) -> Self {
        Self {
            client_id: d.client_id,
            path: d.path,
            timestamp: d.timestamp,
            nonce: d.nonce,
            received_signature: d.received_signature,
            expected_signature: d.expected_signature,
        }
    }
}

/// The outcome of a verification step. `ok: true` carries the verified request (and,
/// after `verifyPrepare`, the nonce key and TTL to claim); `ok: false` carries the
/// error: `code` (an `HmacAuthError` code or `INVALID_INPUT`/`INVALID_ARGUMENT`/
/// `STORE_ERROR`), the HTTP `status`, the exact `message`, and `badSignature` for
/// `BAD_SIGNATURE`.
#[napi(object)]
pub struct VerifyOutcome {
    /// The request id given to `NativeHmacAuth.verifySubmit` (completion-queue path).
    pub id: Option<u32>,
    pub ok: bool,
    pub client_id: Option<String>,
    pub timestamp: Option<f64>,
    pub nonce: Option<String>,
    pub signature: Option<String>,
    pub nonce_key: Option<String>,
    pub nonce_ttl_seconds: Option<i64>,
    /// `true` when the error is an `HmacAuthError` of the original.
    pub is_auth_error: Option<bool>,
    pub code: Option<String>,
    pub status: Option<u32>,
    pub message: Option<String>,
    pub bad_signature: Option<BadSignatureJs>,
}

impl VerifyOutcome {
    pub fn empty(ok: bool) -> Self {
        Self {
            id: None,
            ok,
            client_id: None,
            timestamp: None,
            nonce: None,
            signature: None,
            nonce_key: None,
            nonce_ttl_seconds: None,
            is_auth_error: None,
            code: None,
            status: None,
            message: None,
            bad_signature: None,
        }
    }

    pub fn failure(e: VerifyError) -> Self {
        let mut o = Self::failure_of(&e.error);
        o.bad_signature = e.bad_signature.map(|b| (*b).into());
        o
    }

    pub fn failure_of(e: &HmacError) -> Self {
        Self::error(crate::error::AuthErr::from(e.clone()))
    }

    /// The outcome of an error (the binding's one mapping, [`crate::error::AuthErr`]).
    pub fn error(e: crate::error::AuthErr) -> Self {
        let mut o = Self::empty(false);
        o.is_auth_error = Some(e.hmac_auth_error == Some(true));
        o.code = Some(e.code.to_owned());
        o.status = Some(u32::from(e.status));
        o.message = Some(e.message);
        o
    }

    pub fn verified(v: verify::VerifiedRequest) -> Self {
        let mut o = Self::empty(true);
        o.client_id = Some(v.client_id);
        o.timestamp = Some(v.timestamp);
        o.nonce = Some(v.nonce);
        o.signature = Some(v.signature);
        o
    }
}

pub fn parts<'a>(input: &'a VerifyInput<'_>) -> HttpRequestParts<'a> {
    HttpRequestParts {
        method: &input.method,
        path: &input.path,
        client_id: input.client_id.as_deref(),
        signature: input.signature.as_deref(),
        timestamp: input.timestamp.as_deref(),
        nonce: input.nonce.as_deref(),
        body: body_bytes(&input.body),
    }
}

fn max_skew(input: &VerifyInput<'_>) -> f64 {
    input.max_skew_ms.unwrap_or(record::DEFAULT_MAX_SKEW_MS)
}

/// Steps 2–7 (headers, timestamp, skew): no I/O. On success returns the trimmed
/// clientId, the parsed timestamp, and the nonce key and TTL to claim after the
/// signature is checked. Throws only for an empty namespace.
#[napi(catch_unwind)]
pub fn verify_prepare(env: &Env, input: VerifyInput<'_>) -> Result<VerifyOutcome> {
    let keys = NamespaceKeys::new(input.namespace.as_deref()).map_err(|e| map_err(env, e))?;
    let now = input.now.unwrap_or_else(verify::now_ms);
    let p = parts(&input);
    Ok(match prepare(&p, now, max_skew(&input)) {
        Err(e) => VerifyOutcome::failure_of(&e),
        Ok(prep) => {
            let mut o = VerifyOutcome::empty(true);
            o.nonce_key = Some(keys.nonce_key(prep.client_id, prep.nonce, prep.timestamp));
            o.nonce_ttl_seconds = Some(prep.nonce_ttl_seconds);
            o.client_id = Some(prep.client_id.to_owned());
            o.timestamp = Some(prep.timestamp);
            o.nonce = Some(prep.nonce.to_owned());
            o.signature = Some(prep.signature.to_owned());
            o
        }
    })
}

/// Steps 2–12 against the stored record (no nonce store): the whole check the original
/// runs before `SET NX`, in one N-API call. On success the caller claims `nonceKey`.
#[napi(catch_unwind)]
pub fn verify_with_record(env: &Env, input: VerifyInput<'_>) -> Result<VerifyOutcome> {
    let keys = NamespaceKeys::new(input.namespace.as_deref()).map_err(|e| map_err(env, e))?;
    let now = input.now.unwrap_or_else(verify::now_ms);
    if let Err(e) = authcore::hmac::crypto::check_body_size(body_bytes(&input.body).len()) {
        return Ok(VerifyOutcome::failure_of(&e));
    }
    let p = parts(&input);
    let prep = match prepare(&p, now, max_skew(&input)) {
        Err(e) => return Ok(VerifyOutcome::failure_of(&e)),
        Ok(prep) => prep,
    };
    let Some(record) = parse_optional_record(input.record.as_deref()) else {
        return Ok(VerifyOutcome::failure_of(&verify::unknown_client()));
    };
    let candidates: Vec<&str> = input
        .ip_candidates
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    if let Err(e) = check_record(&prep, &p, &record, now, &candidates) {
        return Ok(VerifyOutcome::failure(e));
    }
    let mut o = VerifyOutcome::empty(true);
    o.nonce_key = Some(keys.nonce_key(prep.client_id, prep.nonce, prep.timestamp));
    o.nonce_ttl_seconds = Some(prep.nonce_ttl_seconds);
    o.client_id = Some(prep.client_id.to_owned());
    o.timestamp = Some(prep.timestamp);
    o.nonce = Some(prep.nonce.to_owned());
    o.signature = Some(prep.signature.to_owned());
    Ok(o)
}

/// The outcome for a nonce that was already claimed (`REPLAYED_NONCE`).
#[napi(catch_unwind)]
pub fn replayed_nonce_outcome() -> VerifyOutcome {
    VerifyOutcome::failure_of(&verify::replayed_nonce())
}

/// [`verify_with_record`] with positional arguments, the hot path of the drop-in's
/// RedisLikeClient verify and of benchmarks: no option-object property lookups. On
/// success the outcome carries only `ok`, `clientId`, `timestamp`, `nonceKey` and
/// `nonceTtlSeconds` (the caller already holds the raw nonce and signature). With
/// `prepareOnly`, only steps 2–7 run (no record needed): `ok` carries `clientId` and
/// `timestamp`. `ipSources` is the fixed-shape source list of [`ip_candidates_of`].
#[allow(clippy::too_many_arguments)]
#[napi(catch_unwind)]
pub fn verify_record_fast(
    env: &Env,
    method: String,
    path: String,
    client_id: Option<String>,
    signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    body: Option<Body<'_>>,
    now: f64,
    max_skew_ms: f64,
    namespace: Option<String>,
    record: Option<String>,
    ip_sources: Option<Vec<Unknown<'_>>>,
    prepare_only: Option<bool>,
) -> Result<VerifyOutcome> {
    let ip_candidates = ip_candidates_of(env, ip_sources)?;
    let keys = NamespaceKeys::new(namespace.as_deref()).map_err(|e| map_err(env, e))?;
    if let Err(e) = authcore::hmac::crypto::check_body_size(body_bytes(&body).len()) {
        return Ok(VerifyOutcome::failure_of(&e));
    }
    let p = HttpRequestParts {
        method: &method,
        path: &path,
        client_id: client_id.as_deref(),
        signature: signature.as_deref(),
        timestamp: timestamp.as_deref(),
        nonce: nonce.as_deref(),
        body: body_bytes(&body),
    };
    let prep = match prepare(&p, now, max_skew_ms) {
        Err(e) => return Ok(VerifyOutcome::failure_of(&e)),
        Ok(prep) => prep,
    };
    if prepare_only == Some(true) {
        // Steps 2–7 only: the caller reads the record for `clientId`, then calls again.
        let mut o = VerifyOutcome::empty(true);
        o.client_id = Some(prep.client_id.to_owned());
        o.timestamp = Some(prep.timestamp);
        return Ok(o);
    }
    let Some(rec) = parse_optional_record(record.as_deref()) else {
        return Ok(VerifyOutcome::failure_of(&verify::unknown_client()));
    };
    let candidates: Vec<&str> = ip_candidates
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    if let Err(e) = check_record(&prep, &p, &rec, now, &candidates) {
        return Ok(VerifyOutcome::failure(e));
    }
    let mut o = VerifyOutcome::empty(true);
    o.nonce_key = Some(keys.nonce_key(prep.client_id, prep.nonce, prep.timestamp));
    o.nonce_ttl_seconds = Some(prep.nonce_ttl_seconds);
    o.client_id = Some(prep.client_id.to_owned());
    o.timestamp = Some(prep.timestamp);
    Ok(o)
}
