//! Outgoing webhooks: one delivery policy for every binding (node-auth's `WebhookSender`,
//! spec `node-auth.md` §2.8, and `authcore.events`). The host's HTTP client does the
//! transport; every decision is here.
//!
//! - Body signed as the original: `sha256=` + lowercase hex HMAC-SHA256(secret, body);
//!   [`verify`] compares in constant time.
//! - Headers, in the original's order: `Content-Type: application/json`,
//!   `X-Webhook-Event`, `X-Webhook-Delivery`, `X-Webhook-Timestamp`, and
//!   `X-Webhook-Signature` when a secret is set.
//! - **One delivery id for every attempt** (the original makes a new one per attempt, so
//!   receivers cannot dedupe).
//! - Retries: `maxRetries` (default 3, at most [`MAX_WEBHOOK_RETRIES`]) after the first
//!   attempt, delay `retryDelayMs · 2^attempt` (default 1000 ms, at most
//!   [`MAX_WEBHOOK_DELAY_MS`] per wait) with equal jitter (half fixed, half random).
//!   **A 4xx is not retried** (408 and 429 are), nor is a 3xx: redirects are not followed
//!   (they could point inside the network). Network errors and 5xx are retried.
//! - A timeout per attempt (default [`DEFAULT_WEBHOOK_TIMEOUT_MS`]).
//! - **URLs pointing at internal addresses are refused** unless allowed: non-http(s)
//!   schemes, `localhost` / `*.localhost` / `*.internal` / `*.local` names, and IP
//!   literals that are loopback, private, link-local, CGNAT, unspecified, multicast or
//!   broadcast (IPv4-mapped IPv6 included). A host name is checked again on the addresses
//!   it resolves to ([`check_resolved`], [`check_resolved_text`]), which the binding calls
//!   from the transport's connection-time lookup, so the addresses checked are the ones
//!   connected to (no DNS rebinding between a check and the connection).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{EventsError, check_field};

/// Default `maxRetries` (retries after the first attempt), as the original.
pub const DEFAULT_WEBHOOK_RETRIES: u32 = 3;
/// Most retries a configuration may ask for.
pub const MAX_WEBHOOK_RETRIES: u32 = 10;
/// Default `retryDelayMs`, as the original.
pub const DEFAULT_WEBHOOK_RETRY_DELAY_MS: u64 = 1_000;
/// Longest single wait between two attempts.
pub const MAX_WEBHOOK_DELAY_MS: u64 = 300_000;
/// Default timeout of one attempt (the original has none).
pub const DEFAULT_WEBHOOK_TIMEOUT_MS: u64 = 10_000;

/// A webhook configuration as the policy reads it.
#[derive(Debug, Clone, Default)]
pub struct WebhookTarget {
    /// The endpoint URL (`http://` or `https://`).
    pub url: String,
    /// The signing secret: with it, each delivery carries a `sha256=` signature header.
    pub secret: Option<String>,
    /// Retries after the first attempt (JavaScript number, validated).
    pub max_retries: Option<f64>,
    /// Base delay between attempts, in milliseconds (JavaScript number, validated).
    pub retry_delay_ms: Option<f64>,
    /// Per-attempt timeout, in milliseconds (JavaScript number, validated).
    pub timeout_ms: Option<f64>,
    /// Deliver to internal addresses too (tests, private deployments).
    pub allow_internal: bool,
}

/// What the transport does for one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPlan {
    /// The endpoint URL.
    pub url: String,
    /// The host part of the URL (for the resolved-address check).
    pub host: String,
    /// One id for every attempt of this delivery (`X-Webhook-Delivery`).
    pub delivery_id: String,
    /// `(name, value)` in sending order.
    pub headers: Vec<(String, String)>,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Base delay between attempts, in milliseconds.
    pub retry_delay_ms: u64,
    /// Per-attempt timeout, in milliseconds.
    pub timeout_ms: u64,
    /// Whether internal addresses may receive it.
    pub allow_internal: bool,
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn sign(body: &str, secret: &str) -> String {
    format!(
        "sha256={}",
        crate::hmac::crypto::hmac_sha256_hex(secret.as_bytes(), body.as_bytes())
    )
}

/// Constant-time check of a `sha256=` signature (false for another length).
pub fn verify(body: &str, secret: &str, signature: &str) -> bool {
    use subtle::ConstantTimeEq;
    let expected = sign(body, secret);
    expected.len() == signature.len() && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
}

fn whole(name: &str, v: Option<f64>, default: u64, max: u64) -> Result<u64, EventsError> {
    match v {
        None => Ok(default),
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 => Ok((n as u64).min(max)),
        Some(_) => Err(EventsError::WebhookRefused(format!(
            "{name} must be a non-negative integer"
        ))),
    }
}

/// Whether an address is internal (refused unless allowed).
pub fn is_internal_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 of any IPv4
                || (s[0] == 0x2002) // 6to4
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1)
        }
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240
}

fn internal_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost"
        || h.ends_with(".localhost")
        || h.ends_with(".internal")
        || h.ends_with(".local")
        || !h.contains('.')
}

/// Check a URL against the policy; returns it normalised and its host.
pub fn check_url(url: &str, allow_internal: bool) -> Result<(String, String), EventsError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| EventsError::WebhookRefused(format!("webhook URL is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(EventsError::WebhookRefused(format!(
            "webhook URL scheme {} is not http or https",
            parsed.scheme()
        )));
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => {
            if !allow_internal && internal_name(d) {
                return Err(EventsError::WebhookRefused(format!(
                    "webhook URL host {d} is internal (allowInternalUrls to deliver to it)"
                )));
            }
            d.to_owned()
        }
        Some(url::Host::Ipv4(ip)) => {
            if !allow_internal && is_internal_v4(ip) {
                return Err(EventsError::WebhookRefused(format!(
                    "webhook URL address {ip} is internal (allowInternalUrls to deliver to it)"
                )));
            }
            ip.to_string()
        }
        Some(url::Host::Ipv6(ip)) => {
            if !allow_internal && is_internal_ip(IpAddr::V6(ip)) {
                return Err(EventsError::WebhookRefused(format!(
                    "webhook URL address {ip} is internal (allowInternalUrls to deliver to it)"
                )));
            }
            ip.to_string()
        }
        None => {
            return Err(EventsError::WebhookRefused(
                "webhook URL has no host".into(),
            ));
        }
    };
    Ok((parsed.to_string(), host))
}

/// The addresses a host name resolved to: refused when any is internal (unless allowed).
pub fn check_resolved(plan: &DeliveryPlan, addresses: &[IpAddr]) -> Result<(), EventsError> {
    if plan.allow_internal {
        return Ok(());
    }
    match addresses.iter().find(|a| is_internal_ip(**a)) {
        Some(a) => Err(EventsError::WebhookRefused(format!(
            "webhook host {} resolves to internal address {a}",
            plan.host
        ))),
        None => Ok(()),
    }
}

/// [`check_resolved`] on the text of the addresses a resolver returned. It fails closed:
/// an entry that is not a plain IP address (a zone index such as `fe80::1%eth0`, say) is
/// refused too, since the transport would connect to it unchecked.
pub fn check_resolved_text<S: AsRef<str>>(
    plan: &DeliveryPlan,
    addresses: &[S],
) -> Result<(), EventsError> {
    if plan.allow_internal {
        return Ok(());
    }
    let mut ips = Vec::with_capacity(addresses.len());
    for a in addresses {
        let a = a.as_ref();
        match a.parse::<IpAddr>() {
            Ok(ip) => ips.push(ip),
            Err(_) => {
                return Err(EventsError::WebhookRefused(format!(
                    "webhook host {} resolves to {a:?}, which is not an IP address",
                    plan.host
                )));
            }
        }
    }
    check_resolved(plan, &ips)
}

/// Plan one delivery of `body` (the JSON of the outgoing event) for `target`.
pub fn plan(
    target: &WebhookTarget,
    event_name: &str,
    timestamp: &str,
    body: &str,
) -> Result<DeliveryPlan, EventsError> {
    let (url, host) = check_url(&target.url, target.allow_internal)?;
    check_field("event name", event_name)?;
    check_field("timestamp", timestamp)?;
    let delivery_id = crate::propagation::wire::random_uuid()
        .map_err(|e| EventsError::WebhookRefused(format!("no randomness: {e}")))?;
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("X-Webhook-Event".to_owned(), event_name.to_owned()),
        ("X-Webhook-Delivery".to_owned(), delivery_id.clone()),
        ("X-Webhook-Timestamp".to_owned(), timestamp.to_owned()),
    ];
    if let Some(secret) = target.secret.as_deref().filter(|s| !s.is_empty()) {
        headers.push(("X-Webhook-Signature".to_owned(), sign(body, secret)));
    }
    Ok(DeliveryPlan {
        url,
        host,
        delivery_id,
        headers,
        max_retries: whole(
            "maxRetries",
            target.max_retries,
            u64::from(DEFAULT_WEBHOOK_RETRIES),
            u64::from(MAX_WEBHOOK_RETRIES),
        )? as u32,
        retry_delay_ms: whole(
            "retryDelayMs",
            target.retry_delay_ms,
            DEFAULT_WEBHOOK_RETRY_DELAY_MS,
            MAX_WEBHOOK_DELAY_MS,
        )?,
        timeout_ms: whole(
            "timeoutMs",
            target.timeout_ms,
            DEFAULT_WEBHOOK_TIMEOUT_MS,
            MAX_WEBHOOK_DELAY_MS,
        )?
        .max(1),
        allow_internal: target.allow_internal,
    })
}

/// Whether a response status ends the delivery (success or a final refusal).
pub fn is_final(status: u16) -> bool {
    (200..300).contains(&status)
        || (300..400).contains(&status)
        || ((400..500).contains(&status) && status != 408 && status != 429)
}

/// After attempt `attempt` (0-based) ended with `status` (`None`: network error or
/// timeout): the wait before the next attempt, or `None` to stop. `jitter` in `[0, 1)`.
pub fn next_delay(
    plan: &DeliveryPlan,
    attempt: u32,
    status: Option<u16>,
    jitter: f64,
) -> Option<u64> {
    if status.is_some_and(is_final) || attempt >= plan.max_retries {
        return None;
    }
    let base = plan
        .retry_delay_ms
        .saturating_mul(1u64 << attempt.min(30))
        .min(MAX_WEBHOOK_DELAY_MS);
    let half = base / 2;
    let j = jitter.clamp(0.0, 1.0);
    Some(base - half + (half as f64 * j) as u64)
}

/// [`next_delay`] with a random jitter.
pub fn next_delay_random(plan: &DeliveryPlan, attempt: u32, status: Option<u16>) -> Option<u64> {
    let mut b = [0u8; 4];
    let j = match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    };
    next_delay(plan, attempt, status, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> WebhookTarget {
        WebhookTarget {
            url: url.into(),
            ..WebhookTarget::default()
        }
    }

    #[test]
    fn sign_and_verify() {
        let s = sign("{\"a\":1}", "k");
        assert!(s.starts_with("sha256=") && s.len() == 71);
        assert!(verify("{\"a\":1}", "k", &s));
        assert!(!verify("{\"a\":2}", "k", &s));
        assert!(!verify("{\"a\":1}", "x", &s));
        assert!(!verify("{\"a\":1}", "k", "sha256=00"));
    }

    #[test]
    fn internal_urls_are_refused_unless_allowed() {
        for u in [
            "http://127.0.0.1/x",
            "http://localhost:8080/",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://172.16.5.5/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fd00::1]/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "http://metadata.google.internal/",
            "http://intranet/",
            "file:///etc/passwd",
            "ftp://example.com/",
        ] {
            let e = plan(&target(u), "e", "t", "{}").unwrap_err();
            assert_eq!(e.code(), "EVENTS_WEBHOOK_REFUSED", "{u}");
        }
        let mut t = target("http://127.0.0.1:9/x");
        t.allow_internal = true;
        assert!(plan(&t, "e", "t", "{}").is_ok());
        assert!(plan(&target("https://hooks.example.com/x"), "e", "t", "{}").is_ok());
        assert!(plan(&target("http://93.184.216.34/"), "e", "t", "{}").is_ok());
    }

    #[test]
    fn resolved_addresses_are_checked() {
        let p = plan(&target("https://hooks.example.com/"), "e", "t", "{}").unwrap();
        assert!(check_resolved(&p, &["93.184.216.34".parse().unwrap()]).is_ok());
        assert!(check_resolved(&p, &["10.0.0.1".parse().unwrap()]).is_err());
        assert!(check_resolved_text(&p, &["93.184.216.34", "2606:2800:220:1::1"]).is_ok());
        assert!(check_resolved_text(&p, &["93.184.216.34", "127.0.0.1"]).is_err());
        assert!(check_resolved_text(&p, &["fe80::1%eth0"]).is_err());
        assert!(check_resolved_text(&p, &["not an address"]).is_err());
        let mut t = target("https://hooks.example.com/");
        t.allow_internal = true;
        let allowed = plan(&t, "e", "t", "{}").unwrap();
        assert!(check_resolved_text(&allowed, &["127.0.0.1"]).is_ok());
    }

    #[test]
    fn headers_in_order_with_one_delivery_id() {
        let mut t = target("https://h.example.com/");
        t.secret = Some("s".into());
        let p = plan(
            &t,
            "identity.user.created",
            "2026-01-01T00:00:00.000Z",
            "{}",
        )
        .unwrap();
        let names: Vec<&str> = p.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "X-Webhook-Event",
                "X-Webhook-Delivery",
                "X-Webhook-Timestamp",
                "X-Webhook-Signature"
            ]
        );
        assert_eq!(p.headers[2].1, p.delivery_id);
        assert_eq!(p.headers[4].1, sign("{}", "s"));
        assert!(plan(&target("https://h.example.com/"), "a\nb", "t", "{}").is_err());
        let no_secret = plan(&target("https://h.example.com/"), "e", "t", "{}").unwrap();
        assert_eq!(no_secret.headers.len(), 4);
    }

    #[test]
    fn retry_policy() {
        let p = plan(&target("https://h.example.com/"), "e", "t", "{}").unwrap();
        assert_eq!(p.max_retries, 3);
        assert_eq!(next_delay(&p, 0, Some(200), 0.0), None);
        assert_eq!(next_delay(&p, 0, Some(404), 0.0), None);
        assert_eq!(next_delay(&p, 0, Some(302), 0.0), None);
        assert_eq!(next_delay(&p, 0, Some(500), 0.0), Some(500));
        assert_eq!(next_delay(&p, 0, Some(500), 0.999_999), Some(999));
        assert_eq!(next_delay(&p, 1, None, 0.0), Some(1_000));
        assert_eq!(next_delay(&p, 2, Some(429), 0.0), Some(2_000));
        assert_eq!(next_delay(&p, 2, Some(408), 0.0), Some(2_000));
        assert_eq!(next_delay(&p, 3, Some(503), 0.0), None);
        let mut t = target("https://h.example.com/");
        t.max_retries = Some(1e9);
        t.retry_delay_ms = Some(1e12);
        let p = plan(&t, "e", "t", "{}").unwrap();
        assert_eq!(p.max_retries, MAX_WEBHOOK_RETRIES);
        assert_eq!(next_delay(&p, 9, None, 1.0), Some(MAX_WEBHOOK_DELAY_MS));
        t.max_retries = Some(f64::NAN);
        assert!(plan(&t, "e", "t", "{}").is_err());
    }
}
