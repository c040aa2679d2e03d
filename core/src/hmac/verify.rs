//! `verifyHttpSignature` (spec §2.7), split so that every binding shares it:
//! - [`prepare`]: header checks, timestamp parsing and the skew window (steps 2–7, no
//!   I/O);
//! - [`check_record`]: expiry, IP allow-list and the signature against a stored record
//!   (steps 9–12, no I/O);
//! - [`HttpVerifier::verify`]: the whole check over a [`KvStore`] in **one** round trip
//!   (credential read + nonce claim in one atomic operation; the claim is released when
//!   a later check fails, so only a valid request consumes its nonce).
//!
//! The order of the checks decides which error wins and is the original's.

use std::sync::Arc;

use super::crypto::{hex32, mac_matches_hex, sign_request_raw};
use super::ip::{extract_client_ip, is_client_ip_allowed};
use super::path::normalize_path;
use super::record::{
    ClientRecord, NamespaceKeys, check_max_skew_ms, check_now_ms, nonce_claim_ttl_seconds,
    parse_stored_client_record,
};
use super::{HmacAuthError, HmacError, HmacErrorCode};
use crate::js::{is_js_whitespace, number_to_string, string_to_number};
use crate::limits::{MAX_CLIENT_ID_BYTES, MAX_HEADER_VALUE_BYTES, MAX_NONCE_BYTES};
use crate::store::KvStore;

/// The parts of an inbound request the verifier reads. Header values are the raw
/// values as `getHeader` returns them (first matching header, first array element).
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpRequestParts<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// `req.originalUrl ?? req.url`, or any path/URL; normalised like the original.
    pub path: &'a str,
    /// `x-client-id`.
    pub client_id: Option<&'a str>,
    /// `x-signature`.
    pub signature: Option<&'a str>,
    /// `x-timestamp`.
    pub timestamp: Option<&'a str>,
    /// `x-nonce`.
    pub nonce: Option<&'a str>,
    /// The raw body bytes (hashed as lossy UTF-8, like the original).
    pub body: &'a [u8],
}

/// A request that passed steps 2–7.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRequest<'a> {
    /// The trimmed `x-client-id`.
    pub client_id: &'a str,
    /// The raw `x-signature`.
    pub signature: &'a str,
    /// The raw `x-nonce`.
    pub nonce: &'a str,
    /// `Number(x-timestamp)`.
    pub timestamp: f64,
    /// How long the nonce claim must live: until the request's window closes
    /// ([`nonce_claim_ttl_seconds`]).
    pub nonce_ttl_seconds: i64,
}

/// The verified request (`VerifiedHttpRequest`).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedRequest {
    /// The authenticated client.
    pub client_id: String,
    /// The request's timestamp, epoch milliseconds.
    pub timestamp: f64,
    /// The request's nonce (now claimed).
    pub nonce: String,
    /// The request's signature.
    pub signature: String,
}

/// What the original passes to `onBadSignature` besides the request itself.
#[derive(Debug, Clone, PartialEq)]
pub struct BadSignatureDetails {
    /// The client id of the request.
    pub client_id: String,
    /// The normalised path the signature was computed over.
    pub path: String,
    /// The request's timestamp, epoch milliseconds.
    pub timestamp: f64,
    /// The request's nonce.
    pub nonce: String,
    /// The signature the request carried.
    pub received_signature: String,
    /// The signature the stored credential gives.
    pub expected_signature: String,
}

/// A failed verification: the error, plus the details for `onBadSignature` when the
/// failure is `BAD_SIGNATURE`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct VerifyError {
    /// Why the request was refused.
    pub error: HmacError,
    /// For `BAD_SIGNATURE`: what `onBadSignature` receives.
    pub bad_signature: Option<Box<BadSignatureDetails>>,
}

impl VerifyError {
    /// The code of [`Self::error`].
    pub fn code(&self) -> &'static str {
        self.error.code()
    }

    /// The HTTP status of [`Self::error`].
    pub fn status(&self) -> u16 {
        self.error.status()
    }
}

impl From<HmacError> for VerifyError {
    fn from(error: HmacError) -> Self {
        Self {
            error,
            bad_signature: None,
        }
    }
}

impl From<HmacAuthError> for VerifyError {
    fn from(e: HmacAuthError) -> Self {
        Self {
            error: HmacError::Auth(e),
            bad_signature: None,
        }
    }
}

fn auth(code: HmacErrorCode, msg: &str) -> HmacError {
    HmacError::auth(code, msg)
}

/// `HEADER_TOO_LARGE` (431) when a header value is above its cap: checked on the length
/// before the value is trimmed, parsed or copied.
fn check_header_size(name: &str, value: Option<&str>, max: usize) -> Result<(), HmacError> {
    match value {
        Some(v) if v.len() > max => Err(auth(
            HmacErrorCode::HeaderTooLarge,
            &format!("Header {name} exceeds {max} bytes"),
        )),
        _ => Ok(()),
    }
}

/// Steps 2–7: required headers (in the original's order), timestamp parsing with JS
/// `Number()` rules, and the skew window `|now − ts| > maxSkewMs`.
///
/// Fails closed on settings: `now_ms` must be finite and `max_skew_ms` pass
/// [`check_max_skew_ms`] (`INVALID_ARGUMENT`, which middlewares answer with 500 like the
/// original's failing `SET … EX NaN`). Each header is checked against its size cap
/// ([`crate::limits`]) before it is read.
pub fn prepare<'a>(
    parts: &HttpRequestParts<'a>,
    now_ms: f64,
    max_skew_ms: f64,
) -> Result<PreparedRequest<'a>, HmacError> {
    check_now_ms(now_ms)?;
    check_max_skew_ms(max_skew_ms)?;
    check_header_size("x-client-id", parts.client_id, MAX_CLIENT_ID_BYTES)?;
    let client_id = parts
        .client_id
        .map(|c| c.trim_matches(is_js_whitespace))
        .unwrap_or("");
    if client_id.is_empty() {
        return Err(auth(
            HmacErrorCode::MissingClientId,
            "Missing header x-client-id",
        ));
    }
    check_header_size("x-signature", parts.signature, MAX_HEADER_VALUE_BYTES)?;
    let signature = match parts.signature {
        Some(s) if !s.is_empty() => s,
        _ => {
            return Err(auth(
                HmacErrorCode::MissingSignature,
                "Missing header x-signature",
            ));
        }
    };
    check_header_size("x-timestamp", parts.timestamp, MAX_HEADER_VALUE_BYTES)?;
    let timestamp_raw = match parts.timestamp {
        Some(s) if !s.is_empty() => s,
        _ => {
            return Err(auth(
                HmacErrorCode::MissingTimestamp,
                "Missing header x-timestamp",
            ));
        }
    };
    check_header_size("x-nonce", parts.nonce, MAX_NONCE_BYTES)?;
    let nonce = match parts.nonce {
        Some(s) if !s.is_empty() => s,
        _ => return Err(auth(HmacErrorCode::MissingNonce, "Missing header x-nonce")),
    };
    let timestamp = string_to_number(timestamp_raw);
    if !timestamp.is_finite() {
        return Err(auth(
            HmacErrorCode::InvalidTimestamp,
            "x-timestamp must be a number",
        ));
    }
    if (now_ms - timestamp).abs() > max_skew_ms {
        return Err(auth(
            HmacErrorCode::TimestampSkew,
            &format!(
                "Request timestamp skew is too large (> {}ms)",
                number_to_string(max_skew_ms)
            ),
        ));
    }
    Ok(PreparedRequest {
        client_id,
        signature,
        nonce,
        timestamp,
        nonce_ttl_seconds: nonce_claim_ttl_seconds(timestamp, now_ms, max_skew_ms),
    })
}

/// Where the client IP may come from, in the original's order: `metadata.ip`,
/// `metadata.ips[]`, `metadata.forwardedFor`, the `x-forwarded-for` header,
/// `metadata.remoteAddress`. Bindings flatten their request into this list.
pub type IpCandidates<'a> = &'a [&'a str];

/// Steps 9–12 against a stored record: expiry (strict `now > expiresAt`), the IP
/// allow-list (before the signature), then the signature in constant time.
pub fn check_record(
    prepared: &PreparedRequest<'_>,
    parts: &HttpRequestParts<'_>,
    record: &ClientRecord,
    now_ms: f64,
    ip_candidates: IpCandidates<'_>,
) -> Result<(), VerifyError> {
    if record.is_expired(now_ms) {
        return Err(auth(HmacErrorCode::ClientExpired, "Client secret has expired").into());
    }
    if !record.allowed_ips.is_empty() {
        for candidate in ip_candidates {
            check_header_size("IP candidate", Some(*candidate), MAX_HEADER_VALUE_BYTES)?;
        }
        let Some(client_ip) = extract_client_ip(ip_candidates.iter().copied()) else {
            return Err(HmacAuthError::new(
                HmacErrorCode::MissingClientIp,
                "Client IP is required for this clientId allowlist",
            )
            .into());
        };
        if !is_client_ip_allowed(&client_ip, &record.allowed_ips) {
            return Err(HmacAuthError::new(
                HmacErrorCode::ClientIpNotAllowed,
                format!(
                    "Client IP '{client_ip}' is not allowed for clientId '{}'",
                    prepared.client_id
                ),
            )
            .into());
        }
    }
    let path = normalize_path(parts.path)?;
    let body_hash = super::crypto::hash_body(parts.body);
    let expected = sign_request_raw(
        parts.method,
        &path,
        prepared.timestamp,
        prepared.nonce,
        &body_hash,
        &record.secret_hash,
    );
    if !mac_matches_hex(&expected, prepared.signature) {
        return Err(VerifyError {
            error: auth(HmacErrorCode::BadSignature, "Invalid HMAC signature"),
            bad_signature: Some(Box::new(BadSignatureDetails {
                client_id: prepared.client_id.to_owned(),
                path: path.into_owned(),
                timestamp: prepared.timestamp,
                nonce: prepared.nonce.to_owned(),
                received_signature: prepared.signature.to_owned(),
                expected_signature: hex32(&expected),
            })),
        });
    }
    Ok(())
}

/// The error for a missing credential.
pub fn unknown_client() -> HmacError {
    auth(HmacErrorCode::UnknownClient, "Unknown client id")
}

/// The error for a nonce that was already used.
pub fn replayed_nonce() -> HmacError {
    auth(HmacErrorCode::ReplayedNonce, "Nonce already used")
}

/// Verifies requests against a store: the original's `verifyHttpSignature`.
#[derive(Clone)]
pub struct HttpVerifier {
    store: Arc<dyn KvStore>,
    keys: NamespaceKeys,
    max_skew_ms: f64,
    clock: Clock,
}

impl std::fmt::Debug for HttpVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpVerifier")
            .field("namespace", &self.keys.namespace)
            .field("max_skew_ms", &self.max_skew_ms)
            .finish_non_exhaustive()
    }
}

/// Per-call options of [`HttpVerifier::verify`].
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// `input.now ?? Date.now()`.
    pub now_ms: Option<f64>,
    /// Overrides the verifier's skew window.
    pub max_skew_ms: Option<f64>,
    /// Where the request's IP may come from, in the original's order.
    pub ip_candidates: IpCandidates<'a>,
}

/// Milliseconds since the Unix epoch, like `Date.now()`.
pub fn now_ms() -> f64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    d.as_millis() as f64
}

/// Where an instance reads the time when a call gives none (the original's `Date.now()`):
/// the system clock, or a clock the host supplies (a test's frozen or stepped clock, a
/// simulation). Milliseconds since the Unix epoch; a reading that is not finite fails
/// the call that needed it (`now must be a finite number`).
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<dyn Fn() -> f64 + Send + Sync>>);

impl Clock {
    /// The system clock ([`now_ms`]).
    pub fn system() -> Self {
        Self(None)
    }

    /// A host clock: `read` returns milliseconds since the Unix epoch.
    pub fn from_fn(read: impl Fn() -> f64 + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(read)))
    }

    /// The current reading, unchecked.
    pub fn read(&self) -> f64 {
        self.0.as_ref().map_or_else(now_ms, |read| read())
    }

    /// The current reading, which must be finite ([`check_now_ms`]).
    pub fn now_ms(&self) -> Result<f64, HmacError> {
        check_now_ms(self.read())
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Clock(host)"
        } else {
            "Clock(system)"
        })
    }
}

impl HttpVerifier {
    /// A verifier with its default skew window (validated: [`check_max_skew_ms`]).
    pub fn new(
        store: Arc<dyn KvStore>,
        keys: NamespaceKeys,
        max_skew_ms: f64,
    ) -> Result<Self, HmacError> {
        Ok(Self {
            store,
            keys,
            max_skew_ms: check_max_skew_ms(max_skew_ms)?,
            clock: Clock::system(),
        })
    }

    /// The same verifier reading `clock` when a call gives no `now_ms`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The namespace's keys.
    pub fn keys(&self) -> &NamespaceKeys {
        &self.keys
    }

    /// The default skew window, in milliseconds.
    pub fn max_skew_ms(&self) -> f64 {
        self.max_skew_ms
    }

    /// The whole verification in one store round trip for a valid request (two for a
    /// rejected request whose nonce claim must be released). Counted and timed in
    /// [`crate::metrics`].
    pub async fn verify(
        &self,
        parts: &HttpRequestParts<'_>,
        opts: VerifyOptions<'_>,
    ) -> Result<VerifiedRequest, VerifyError> {
        let timer = crate::metrics::verify_timer();
        let result = self.verify_uncounted(parts, opts).await;
        timer.finish(
            parts.client_id,
            result.as_ref().err().map(|e| e.error.code()),
        );
        result
    }

    async fn verify_uncounted(
        &self,
        parts: &HttpRequestParts<'_>,
        opts: VerifyOptions<'_>,
    ) -> Result<VerifiedRequest, VerifyError> {
        let now = opts.now_ms.unwrap_or_else(|| self.clock.read());
        let max_skew = opts.max_skew_ms.unwrap_or(self.max_skew_ms);
        let prepared = prepare(parts, now, max_skew)?;
        let nonce_key = self
            .keys
            .nonce_key(prepared.client_id, prepared.nonce, prepared.timestamp);
        let outcome = self
            .store
            .hget_and_claim(
                &self.keys.clients_hash_key,
                prepared.client_id,
                &nonce_key,
                prepared.nonce_ttl_seconds,
            )
            .await
            .map_err(HmacError::from)?;
        let Some(raw) = outcome.record else {
            return Err(unknown_client().into());
        };
        let record = parse_stored_client_record(&raw);
        if let Err(e) = check_record(&prepared, parts, &record, now, opts.ip_candidates) {
            if outcome.claimed {
                // Only a valid request may consume a nonce: give the claim back. If this
                // fails the nonce stays used until its TTL, which rejects nothing valid
                // that was not already a replay of this exact (client, nonce, ts).
                let _ = self.store.del(&nonce_key).await;
            }
            return Err(e);
        }
        if !outcome.claimed {
            return Err(replayed_nonce().into());
        }
        Ok(VerifiedRequest {
            client_id: prepared.client_id.to_owned(),
            timestamp: prepared.timestamp,
            nonce: prepared.nonce.to_owned(),
            signature: prepared.signature.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verify_error_has_the_code_and_status_of_its_error() {
        let e = VerifyError::from(replayed_nonce());
        assert_eq!((e.code(), e.status()), ("REPLAYED_NONCE", 401));
        let e = VerifyError::from(HmacError::InvalidInput("x".into()));
        assert_eq!((e.code(), e.status()), (e.error.code(), e.error.status()));
    }
}
