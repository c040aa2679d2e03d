//! The IP / CIDR allow-list of the original (`core/ip.ts`, spec §2.6), ported rule for
//! rule: which spellings are accepted, how rules are written back (`source` form, host
//! bits kept), and how client IPs are picked and matched.
//!
//! Differences from the original are deliberate only in representation: rules are
//! parsed into integers once per check instead of BigInt arithmetic.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::HmacError;
use crate::js::is_js_whitespace;

/// Node's `net.isIP`: 4, 6 or 0. IPv4 must be strict dotted decimal without leading
/// zeros; IPv6 may end in an IPv4 tail and carry a non-empty `%zone`.
pub fn is_ip(s: &str) -> u8 {
    if is_ipv4(s) {
        4
    } else if is_ipv6(s) {
        6
    } else {
        0
    }
}

fn is_ipv4(s: &str) -> bool {
    // std rejects leading zeros and anything but four decimal octets, like Node's regex.
    s.parse::<Ipv4Addr>().is_ok()
}

fn is_ipv6(s: &str) -> bool {
    let (addr, zone) = match s.find('%') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if let Some(z) = zone
        && (z.is_empty()
            || !z
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b)))
    {
        return false;
    }
    addr.parse::<Ipv6Addr>().is_ok()
}

fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_whitespace)
}

/// `normalizeIpLiteral(raw)`: the IP a raw value names, or `None`.
pub fn normalize_ip_literal(raw: &str) -> Option<String> {
    let mut value = js_trim(raw);
    if value.is_empty() {
        return None;
    }
    if value.contains(',') {
        value = js_trim(value.split(',').next().unwrap_or(""));
    }
    if value.starts_with('[')
        && let Some(end) = value.find(']')
    {
        value = &value[1..end];
    }
    if let Some(zone) = value.find('%') {
        value = &value[..zone];
    }
    if let Some(mapped) = value.strip_prefix("::ffff:")
        && is_ip(mapped) == 4
    {
        return Some(mapped.to_owned());
    }
    if is_ip(value) == 0 && value.contains(':') {
        let mut parts = value.split(':');
        let host = parts.next().unwrap_or("");
        let port = parts.next().unwrap_or("");
        if !host.is_empty()
            && !port.is_empty()
            && is_ip(host) == 4
            && port.bytes().all(|b| b.is_ascii_digit())
        {
            value = host;
        }
    }
    if is_ip(value) == 0 {
        None
    } else {
        Some(value.to_owned())
    }
}

/// A parsed allow-list rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRule {
    /// `4` or `6`.
    pub family: u8,
    /// The network address, canonical text.
    pub network: String,
    /// The prefix length (32 or 128 for a bare address).
    pub prefix: u32,
    /// How the rule is stored: the bare address, or `address/prefix`.
    pub source: String,
}

/// `parseRule(raw)`.
pub fn parse_rule(raw: &str) -> Option<IpRule> {
    let source = js_trim(raw);
    if source.is_empty() {
        return None;
    }
    let mut parts = source.split('/');
    let network_raw = parts.next().unwrap_or("");
    let prefix_raw = parts.next();
    let network = normalize_ip_literal(network_raw)?;
    let family = is_ip(&network);
    let max_bits = if family == 4 { 32 } else { 128 };
    match prefix_raw {
        None => Some(IpRule {
            family,
            source: network.clone(),
            network,
            prefix: max_bits,
        }),
        Some(p) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Leading zeros are allowed (`/024` is 24); huge values are out of range.
            let trimmed = p.trim_start_matches('0');
            let prefix: u32 = if trimmed.is_empty() {
                0
            } else {
                trimmed.parse().ok()?
            };
            if prefix > max_bits {
                return None;
            }
            Some(IpRule {
                family,
                source: format!("{network}/{prefix}"),
                network,
                prefix,
            })
        }
    }
}

fn to_u128(ip: &str, family: u8) -> Option<u128> {
    if family == 4 {
        ip.parse::<Ipv4Addr>()
            .ok()
            .map(|a| u128::from(u32::from(a)))
    } else {
        let addr = ip.split('%').next().unwrap_or("");
        addr.parse::<Ipv6Addr>().ok().map(u128::from)
    }
}

fn in_cidr(client_ip: &str, rule: &IpRule) -> bool {
    if is_ip(client_ip) != rule.family {
        return false;
    }
    let (Some(client), Some(network)) = (
        to_u128(client_ip, rule.family),
        to_u128(&rule.network, rule.family),
    ) else {
        return false;
    };
    if rule.prefix == 0 {
        return true;
    }
    let bits = if rule.family == 4 { 32 } else { 128 };
    let shift = bits - rule.prefix;
    let mask: u128 = if bits == 128 {
        u128::MAX << shift
    } else {
        (u128::from(u32::MAX) << shift) & u128::from(u32::MAX)
    };
    (client & mask) == (network & mask)
}

/// An allow-list entry as a binding received it: a string, or something else (which the
/// original rejects with `allowedIps entries must be strings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedIpEntry {
    /// A string entry (validated when read).
    Str(String),
    /// An entry that is not a string.
    NotAString,
}

/// `normalizeAllowedIpRules(list)` on write paths: `None` is `[]`; invalid entries are
/// an error with the original's message; the result is the de-duplicated `source`
/// strings in first-seen order.
pub fn normalize_allowed_ip_rules(
    list: Option<&[AllowedIpEntry]>,
) -> Result<Vec<String>, HmacError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    for entry in list {
        let AllowedIpEntry::Str(value) = entry else {
            return Err(HmacError::InvalidArgument(
                "allowedIps entries must be strings".into(),
            ));
        };
        let Some(rule) = parse_rule(value) else {
            return Err(HmacError::InvalidArgument(format!(
                "Invalid allowedIps entry '{value}'. Expected IP or CIDR (example: 195.7.8.9 or 195.7.8.0/24)."
            )));
        };
        if !out.contains(&rule.source) {
            out.push(rule.source);
        }
    }
    Ok(out)
}

/// Convenience for string lists (every entry is a string).
pub fn normalize_allowed_ip_strings<S: AsRef<str>>(list: &[S]) -> Result<Vec<String>, HmacError> {
    let entries: Vec<AllowedIpEntry> = list
        .iter()
        .map(|s| AllowedIpEntry::Str(s.as_ref().to_owned()))
        .collect();
    normalize_allowed_ip_rules(Some(&entries))
}

/// `sanitizeAllowedIpRules(raw)` on read paths: invalid entries silently dropped.
pub fn sanitize_allowed_ip_rules<'a>(raw: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in raw {
        if let Some(rule) = parse_rule(value)
            && !out.contains(&rule.source)
        {
            out.push(rule.source);
        }
    }
    out
}

/// `extractClientIp(...)`: the first candidate (in order) that normalises to an IP.
pub fn extract_client_ip<'a>(candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates.into_iter().find_map(normalize_ip_literal)
}

/// `isClientIpAllowed(ip, rules)`: an empty list allows everyone.
pub fn is_client_ip_allowed<S: AsRef<str>>(client_ip: &str, rules: &[S]) -> bool {
    if rules.is_empty() {
        return true;
    }
    let Some(ip) = normalize_ip_literal(client_ip) else {
        return false;
    };
    rules
        .iter()
        .filter_map(|r| parse_rule(r.as_ref()))
        .any(|rule| in_cidr(&ip, &rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_table() {
        let cases: &[(&str, &[&str], bool)] = &[
            ("::ffff:195.7.8.44", &["195.7.8.0/24"], true),
            ("10.1.2.3", &["::/0"], false),
            ("::ffff:1.2.3.4", &["::ffff:0:0/96"], false),
            ("::FFFF:1.2.3.4", &["::ffff:0:0/96"], true),
            ("::FFFF:1.2.3.4", &["1.2.3.4"], false),
            ("fe80::1%eth0", &["fe80::/10"], true),
            ("10.0.0.9", &["10.0.0.8/31"], true),
            ("10.0.0.10", &["10.0.0.8/31"], false),
            ("195.7.8.44", &["195.7.8.9", "195.7.8.0/24"], true),
            ("8.8.8.8", &["195.7.8.9", "195.7.8.0/24"], false),
            ("1.2.3.4:8080", &["1.2.3.4"], true),
            ("[2001:db8::1]:443", &["2001:db8::/32"], true),
            ("anything", &[], true),
            ("bogus", &["0.0.0.0/0"], false),
        ];
        for (ip, rules, want) in cases {
            assert_eq!(is_client_ip_allowed(ip, rules), *want, "{ip} vs {rules:?}");
        }
    }

    #[test]
    fn rule_sources() {
        assert_eq!(parse_rule("1.2.3.4:80/24").unwrap().source, "1.2.3.4/24");
        assert_eq!(parse_rule("10.0.0.0/8/16").unwrap().source, "10.0.0.0/8");
        assert_eq!(parse_rule("195.7.8.9/024").unwrap().source, "195.7.8.9/24");
        assert_eq!(parse_rule(" 2001:DB8::1 ").unwrap().source, "2001:DB8::1");
        assert!(parse_rule("10.0.0.0/33").is_none());
        assert!(parse_rule("01.2.3.4").is_none());
        assert!(parse_rule("1.2.3.4/").is_none());
        assert!(parse_rule("1.2.3.4/-1").is_none());
        assert_eq!(
            normalize_allowed_ip_strings(&["10.0.0.1", "10.0.0.1/32", "10.0.0.1"]).unwrap(),
            vec!["10.0.0.1", "10.0.0.1/32"]
        );
        let err = normalize_allowed_ip_strings(&["nope"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid allowedIps entry 'nope'. Expected IP or CIDR (example: 195.7.8.9 or 195.7.8.0/24)."
        );
    }

    #[test]
    fn extraction_order_and_comma_lists() {
        assert_eq!(
            extract_client_ip(["unknown", "bogus, 1.2.3.4", " 5.6.7.8, 9.9.9.9"]),
            Some("5.6.7.8".into())
        );
        assert_eq!(
            extract_client_ip(["::ffff:10.0.0.1"]),
            Some("10.0.0.1".into())
        );
        assert_eq!(extract_client_ip(Vec::<&str>::new()), None);
    }
}
