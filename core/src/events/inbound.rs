//! Inbound webhooks: the checks a receiver makes before it acts on a signed delivery
//! (node-auth's `POST /tools/webhook/:provider`, Python's tools router). The original
//! checks nothing (spec `node-auth.md` §6 item 4).
//!
//! For a provider configured with a secret, [`check`]:
//! 1. the signature: `X-Webhook-Signature` (what [`super::webhook::plan`] sends) or
//!    `X-Hub-Signature-256`, `sha256=` HMAC-SHA256 of the raw body, constant time;
//! 2. the timestamp: `X-Webhook-Timestamp` (the sender's ISO 8601 string; whole unix seconds
//!    or milliseconds are accepted too) must be within `window_ms` of now, either way.
//!    When the signed body is a JSON object with a string `timestamp` (every body
//!    `WebhookSender` signs has one, equal to the header), the header must be that same
//!    string, so the signature covers the instant checked: a captured delivery cannot be
//!    replayed later under a fresh header. `window_ms = 0` skips this step (providers that
//!    send no timestamp, such as GitHub);
//! 3. the replay keys to claim for the window: the delivery id (`X-Webhook-Delivery`) when
//!    present, and the signature itself (the delivery id is not signed, so the same signed
//!    body under another id is a replay too). [`ReplayGuard`] is the in-process store;
//!    a shared store (Redis `SET NX PX`) can claim the same keys across processes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use super::webhook::verify;

/// Default window around now within which an inbound timestamp is accepted: 5 minutes.
pub const DEFAULT_INBOUND_WINDOW_MS: u64 = 300_000;
/// Longest window a receiver may configure: one day.
pub const MAX_INBOUND_WINDOW_MS: u64 = 86_400_000;
/// Most delivery keys [`ReplayGuard`] remembers (the oldest are forgotten beyond it).
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// Why an inbound delivery is refused (each a 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundRefusal {
    /// No signature header, or one that does not match the raw body.
    BadSignature,
    /// No `X-Webhook-Timestamp`, or one that is not a timestamp.
    MissingTimestamp,
    /// A timestamp outside the window, or one that differs from the signed body's.
    StaleTimestamp,
    /// A delivery id or signed body already received within the window.
    Replayed,
}

impl InboundRefusal {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::BadSignature => "WEBHOOK_BAD_SIGNATURE",
            Self::MissingTimestamp => "WEBHOOK_MISSING_TIMESTAMP",
            Self::StaleTimestamp => "WEBHOOK_STALE_TIMESTAMP",
            Self::Replayed => "WEBHOOK_REPLAYED",
        }
    }

    /// The HTTP body's `error` text.
    pub fn message(self) -> &'static str {
        match self {
            Self::BadSignature => "Invalid webhook signature",
            Self::MissingTimestamp => "Missing webhook timestamp",
            Self::StaleTimestamp => "Webhook timestamp outside the allowed window",
            Self::Replayed => "Webhook delivery already received",
        }
    }

    /// The HTTP status (always 401).
    pub fn status(self) -> u16 {
        401
    }
}

/// One inbound request as the check reads it.
#[derive(Debug, Clone, Copy)]
pub struct InboundRequest<'a> {
    /// The raw body (UTF-8 text of the bytes received).
    pub body: &'a str,
    /// The provider's secret.
    pub secret: &'a str,
    /// `X-Webhook-Signature`, else `X-Hub-Signature-256`.
    pub signature: Option<&'a str>,
    /// `X-Webhook-Timestamp`.
    pub timestamp: Option<&'a str>,
    /// `X-Webhook-Delivery`.
    pub delivery_id: Option<&'a str>,
    /// Now, in unix milliseconds.
    pub now_ms: i64,
    /// The window (0: no timestamp check).
    pub window_ms: u64,
}

/// Parse a webhook timestamp to unix milliseconds: RFC 3339 / ISO 8601 (`…Z` or an
/// offset, what `Date.prototype.toISOString` writes), or all digits (unix seconds below
/// 10^11, milliseconds otherwise).
pub fn parse_timestamp_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() || t.len() > 64 {
        return None;
    }
    if t.bytes().all(|c| c.is_ascii_digit()) {
        let n: i64 = t.parse().ok()?;
        return Some(if n < 100_000_000_000 {
            n.checked_mul(1000)?
        } else {
            n
        });
    }
    let secs = crate::tokens::parse_rfc3339(t)?;
    // Milliseconds of the fraction, when there is one right after the seconds.
    let b = t.as_bytes();
    let mut ms = 0i64;
    if b.get(19) == Some(&b'.') {
        let mut scale = 100;
        for &c in b[20..].iter().take_while(|c| c.is_ascii_digit()).take(3) {
            ms += i64::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    secs.checked_mul(1000)?.checked_add(ms)
}

fn body_timestamp(body: &str) -> Option<String> {
    // Only a JSON object's own top-level string member counts.
    if !body.trim_start().starts_with('{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("timestamp")?.as_str().map(str::to_owned)
}

/// Check a delivery for a provider with a secret; on success, the replay keys to claim
/// (`d:<delivery id>` when there is one, then `s:<signature>`).
pub fn check(req: &InboundRequest<'_>) -> Result<Vec<String>, InboundRefusal> {
    let signature = req
        .signature
        .filter(|s| !s.is_empty())
        .ok_or(InboundRefusal::BadSignature)?;
    if !verify(req.body, req.secret, signature) {
        return Err(InboundRefusal::BadSignature);
    }
    if req.window_ms > 0 {
        let header = req
            .timestamp
            .filter(|t| !t.trim().is_empty())
            .ok_or(InboundRefusal::MissingTimestamp)?;
        let at = parse_timestamp_ms(header).ok_or(InboundRefusal::MissingTimestamp)?;
        if req.now_ms.abs_diff(at) > req.window_ms.min(MAX_INBOUND_WINDOW_MS) {
            return Err(InboundRefusal::StaleTimestamp);
        }
        if let Some(signed) = body_timestamp(req.body)
            && signed != header
        {
            return Err(InboundRefusal::StaleTimestamp);
        }
    }
    let mut keys = Vec::with_capacity(2);
    if let Some(d) = req.delivery_id.filter(|d| !d.is_empty() && d.len() <= 256) {
        keys.push(format!("d:{d}"));
    }
    keys.push(format!("s:{signature}"));
    Ok(keys)
}

/// The in-process replay store: keys claimed with an expiry, at most `capacity` of them
/// (beyond it the oldest are forgotten first; only requests that passed the signature
/// check reach it, so filling it takes the secret).
#[derive(Debug)]
pub struct ReplayGuard {
    inner: Mutex<GuardState>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct GuardState {
    until: HashMap<String, i64>,
    order: VecDeque<(i64, String)>,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        Self::new(DEFAULT_REPLAY_CAPACITY)
    }
}

impl ReplayGuard {
    /// A guard remembering at most `capacity` keys (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(GuardState::default()),
            capacity: capacity.max(1),
        }
    }

    /// Claim every key until `now_ms + ttl_ms`: true if none was held (then all are held),
    /// false if any was (then none is claimed by this call).
    pub fn claim(&self, keys: &[String], now_ms: i64, ttl_ms: u64) -> bool {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget what expired (the queue is in claim order; a released key's entry is stale).
        while let Some((t, k)) = s.order.front() {
            if *t > now_ms {
                break;
            }
            let (t, k) = (*t, k.clone());
            s.order.pop_front();
            if s.until.get(&k) == Some(&t) {
                s.until.remove(&k);
            }
        }
        if keys
            .iter()
            .any(|k| s.until.get(k).is_some_and(|&t| t > now_ms))
        {
            return false;
        }
        let until = now_ms.saturating_add(i64::try_from(ttl_ms).unwrap_or(i64::MAX));
        for k in keys {
            s.until.insert(k.clone(), until);
            s.order.push_back((until, k.clone()));
        }
        while s.until.len() > self.capacity {
            let Some((t, k)) = s.order.pop_front() else {
                break;
            };
            if s.until.get(&k) == Some(&t) {
                s.until.remove(&k);
            }
        }
        true
    }

    /// Give keys back (the delivery was not processed, so the sender's retry is accepted).
    pub fn release(&self, keys: &[String]) {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for k in keys {
            s.until.remove(k);
        }
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .until
            .len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::super::webhook::sign;
    use super::*;

    const NOW: i64 = 1_790_000_000_000;

    fn iso(ms: i64) -> String {
        // 2026-09-21T…: built by hand from a known instant for the tests.
        let secs = ms / 1000;
        let frac = ms % 1000;
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (y, m, d) = civil(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    fn civil(z: i64) -> (i64, i64, i64) {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }

    fn req<'a>(body: &'a str, sig: &'a str, ts: Option<&'a str>) -> InboundRequest<'a> {
        InboundRequest {
            body,
            secret: "k",
            signature: Some(sig),
            timestamp: ts,
            delivery_id: Some("d1"),
            now_ms: NOW,
            window_ms: DEFAULT_INBOUND_WINDOW_MS,
        }
    }

    #[test]
    fn timestamps_parse() {
        assert_eq!(parse_timestamp_ms(&iso(NOW)), Some(NOW));
        assert_eq!(parse_timestamp_ms("1790000000"), Some(1_790_000_000_000));
        assert_eq!(parse_timestamp_ms("1790000000123"), Some(1_790_000_000_123));
        assert_eq!(
            parse_timestamp_ms("2026-01-01T00:00:00+01:00"),
            parse_timestamp_ms("2025-12-31T23:00:00Z")
        );
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "-5", "1e9"] {
            assert_eq!(parse_timestamp_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn signature_then_window_then_signed_timestamp() {
        let ts = iso(NOW - 1_000);
        let body = format!("{{\"event\":\"e\",\"timestamp\":\"{ts}\"}}");
        let sig = sign(&body, "k");
        assert_eq!(
            check(&req(&body, &sig, Some(&ts))).unwrap(),
            ["d:d1".to_owned(), format!("s:{sig}")]
        );
        assert_eq!(
            check(&req(&body, "sha256=00", Some(&ts))),
            Err(InboundRefusal::BadSignature)
        );
        assert_eq!(
            check(&req(&body, &sig, None)),
            Err(InboundRefusal::MissingTimestamp)
        );
        assert_eq!(
            check(&req(&body, &sig, Some("soon"))),
            Err(InboundRefusal::MissingTimestamp)
        );
        // A fresh header on a body signed with another instant: refused.
        let fresh = iso(NOW);
        assert_eq!(
            check(&req(&body, &sig, Some(&fresh))),
            Err(InboundRefusal::StaleTimestamp)
        );
        // An old delivery: refused even though everything matches.
        let old = iso(NOW - 301_000);
        let old_body = format!("{{\"event\":\"e\",\"timestamp\":\"{old}\"}}");
        let old_sig = sign(&old_body, "k");
        assert_eq!(
            check(&req(&old_body, &old_sig, Some(&old))),
            Err(InboundRefusal::StaleTimestamp)
        );
        // From the future beyond the window too.
        let future = iso(NOW + 301_000);
        let plain = "[1,2]";
        let plain_sig = sign(plain, "k");
        assert_eq!(
            check(&req(plain, &plain_sig, Some(&future))),
            Err(InboundRefusal::StaleTimestamp)
        );
        // A body without its own timestamp: the header alone, in unix seconds.
        let secs = (NOW / 1000).to_string();
        assert!(check(&req(plain, &plain_sig, Some(&secs))).is_ok());
        // window 0: no timestamp needed.
        let mut r = req(plain, &plain_sig, None);
        r.window_ms = 0;
        r.delivery_id = None;
        assert_eq!(check(&r).unwrap(), [format!("s:{plain_sig}")]);
    }

    #[test]
    fn guard_refuses_replays_within_ttl_and_releases() {
        let g = ReplayGuard::new(3);
        let a = vec!["d:1".to_owned(), "s:x".to_owned()];
        assert!(g.claim(&a, 0, 1_000));
        assert!(!g.claim(&a, 500, 1_000));
        // The same signed body under another delivery id is a replay too.
        assert!(!g.claim(&["d:2".to_owned(), "s:x".to_owned()], 500, 1_000));
        assert!(g.claim(&a, 1_000, 1_000), "expired");
        g.release(&a);
        assert!(g.claim(&a, 1_100, 1_000), "released");
        // Capacity: the oldest are forgotten.
        for i in 0..5 {
            assert!(g.claim(&[format!("k{i}")], 1_200, 10_000));
        }
        assert!(g.len() <= 3);
    }
}
