//! The credential record stored in `<ns>:clients` (spec §2.5): its exact JSON form,
//! the lenient parser (legacy plain-hash values included) and the namespace key layout.

use super::HmacError;
use super::canonical::{JsString, write_json_string};
use super::ip::sanitize_allowed_ip_rules;
use crate::js::number_to_string;

/// Default namespace (`"hmacauth"`; the original's docs wrongly say `"hmac"`).
pub const DEFAULT_NAMESPACE: &str = "hmacauth";
/// Default maximum clock skew, in milliseconds.
pub const DEFAULT_MAX_SKEW_MS: f64 = 300_000.0;
/// Default secret length in bytes (a 64-char hex secret).
pub const DEFAULT_SECRET_LENGTH_BYTES: u32 = 32;
/// Default lifetime of the credentials backup used by `revert`, in seconds.
pub const DEFAULT_BACKUP_TTL_SECONDS: i64 = 600;
/// Default property the Express middleware attaches the verified request to.
pub const DEFAULT_ATTACH_AUTH_TO: &str = "hmacAuth";

/// `resolveNamespace(ns?)`: trims, defaults to `hmacauth`, rejects empty.
pub fn resolve_namespace(ns: Option<&str>) -> Result<String, HmacError> {
    let ns = ns
        .unwrap_or(DEFAULT_NAMESPACE)
        .trim_matches(crate::js::is_js_whitespace);
    if ns.is_empty() {
        return Err(HmacError::InvalidArgument(
            "Namespace cannot be empty".into(),
        ));
    }
    Ok(ns.to_owned())
}

/// The Redis key layout of a namespace (`buildRedisNamespaceKeys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceKeys {
    /// The namespace (default `hmacauth`).
    pub namespace: String,
    /// `<ns>:clients` (a hash; field = clientId as given, untrimmed).
    pub clients_hash_key: String,
    /// `<ns>:nonce`; a nonce key is `<ns>:nonce:<clientId>:<nonce>:<timestamp>`.
    pub nonce_key_prefix: String,
    /// `<ns>:credentials-backup`; a backup key is `<ns>:credentials-backup:<clientId>`.
    pub credential_backup_key_prefix: String,
}

impl NamespaceKeys {
    /// The keys of namespace `ns` (validated; `None` for the default).
    pub fn new(ns: Option<&str>) -> Result<Self, HmacError> {
        let namespace = resolve_namespace(ns)?;
        Ok(Self {
            clients_hash_key: format!("{namespace}:clients"),
            nonce_key_prefix: format!("{namespace}:nonce"),
            credential_backup_key_prefix: format!("{namespace}:credentials-backup"),
            namespace,
        })
    }

    /// `<ns>:nonce:<clientId>:<nonce>:<timestamp as JS renders it>`.
    pub fn nonce_key(&self, client_id: &str, nonce: &str, timestamp: f64) -> String {
        format!(
            "{}:{client_id}:{nonce}:{}",
            self.nonce_key_prefix,
            number_to_string(timestamp)
        )
    }

    /// `<ns>:credentials-backup:<clientId>`.
    pub fn backup_key(&self, client_id: &str) -> String {
        format!("{}:{client_id}", self.credential_backup_key_prefix)
    }
}

/// `maxSkewMs` fails closed: it must be a finite number of milliseconds, at most
/// [`crate::limits::MAX_SKEW_MS`]. A negative window is accepted and rejects every request
/// (`TIMESTAMP_SKEW`), as in the original. NaN, ±Infinity or a non-numeric value (which a
/// binding converts to NaN) is an error: the original accepts such requests at any age and
/// only fails when Redis refuses `EX NaN`.
pub fn check_max_skew_ms(max_skew_ms: f64) -> Result<f64, HmacError> {
    if max_skew_ms.is_finite() && max_skew_ms <= crate::limits::MAX_SKEW_MS {
        Ok(max_skew_ms)
    } else {
        Err(HmacError::InvalidArgument(format!(
            "maxSkewMs must be a finite number no greater than {}",
            number_to_string(crate::limits::MAX_SKEW_MS)
        )))
    }
}

/// `dbSeedBackupTtlSeconds` fails closed: an integer from 1 to
/// [`crate::limits::MAX_BACKUP_TTL_SECONDS`] (Redis refuses `EX` values that are not
/// positive integers, so the original failed at the first rotation instead).
pub fn check_backup_ttl_seconds(ttl: f64) -> Result<i64, HmacError> {
    crate::limits::integer_between(
        "dbSeedBackupTtlSeconds",
        ttl,
        1.0,
        crate::limits::MAX_BACKUP_TTL_SECONDS,
    )
    .map_err(|e| HmacError::InvalidArgument(e.0))
}

/// The verification clock (`input.now ?? Date.now()`) must be a finite number: with NaN
/// the original's skew and expiry comparisons are all false, which accepts anything.
pub fn check_now_ms(now_ms: f64) -> Result<f64, HmacError> {
    if now_ms.is_finite() {
        Ok(now_ms)
    } else {
        Err(HmacError::InvalidArgument(
            "now must be a finite number".into(),
        ))
    }
}

/// TTL of the nonce claim of a request stamped `timestamp` and accepted at `now_ms`: the
/// request stays acceptable until `now <= timestamp + maxSkewMs`, so its nonce is kept at
/// least that long, `ceil((timestamp + maxSkewMs - now) / 1000) + 1` seconds (never below
/// 1). The original keeps it `max(1, ceil(maxSkewMs / 1000))` from the claim, which a
/// client whose clock runs ahead outlives: its request could be replayed once the nonce
/// expired. Inputs are the values `prepare` validated (finite).
pub fn nonce_claim_ttl_seconds(timestamp: f64, now_ms: f64, max_skew_ms: f64) -> i64 {
    let remaining_ms = timestamp + max_skew_ms - now_ms;
    let secs = (remaining_ms / 1000.0).ceil() + 1.0;
    if secs.is_nan() || secs < 1.0 {
        1
    } else if secs > i64::MAX as f64 {
        i64::MAX
    } else {
        secs as i64
    }
}

/// A stored credential (`StoredClientCredentialRecord`).
#[derive(Clone, PartialEq)]
pub struct ClientRecord {
    /// SHA-256 hex of the secret (with the pepper): the signing key.
    pub secret_hash: String,
    /// Creation time, epoch milliseconds.
    pub created_at: f64,
    /// Last change, epoch milliseconds.
    pub updated_at: f64,
    /// Expiry, epoch milliseconds (`None`: never).
    pub expires_at: Option<f64>,
    /// IP/CIDR allow-list (empty: every IP).
    pub allowed_ips: Vec<String>,
}

crate::redacted_debug!(ClientRecord { created_at, updated_at, expires_at, allowed_ips } secret { secret_hash });

impl ClientRecord {
    /// `JSON.stringify(record)` with the original's key order and number formatting:
    /// `{"secretHash":…,"createdAt":…,"updatedAt":…,"expiresAt":…|null,"allowedIps":[…]}`.
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(160);
        s.push_str("{\"secretHash\":");
        write_json_string(&JsString::Utf8(self.secret_hash.clone()), &mut s);
        s.push_str(",\"createdAt\":");
        push_json_number(self.created_at, &mut s);
        s.push_str(",\"updatedAt\":");
        push_json_number(self.updated_at, &mut s);
        s.push_str(",\"expiresAt\":");
        match self.expires_at {
            Some(v) => push_json_number(v, &mut s),
            None => s.push_str("null"),
        }
        s.push_str(",\"allowedIps\":[");
        for (i, ip) in self.allowed_ips.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            write_json_string(&JsString::Utf8(ip.clone()), &mut s);
        }
        s.push_str("]}");
        s
    }

    /// Whether the credential is expired at `now` (strict: `now > expiresAt`).
    pub fn is_expired(&self, now_ms: f64) -> bool {
        matches!(self.expires_at, Some(exp) if now_ms > exp)
    }
}

fn push_json_number(v: f64, s: &mut String) {
    if v.is_finite() {
        s.push_str(&number_to_string(v));
    } else {
        s.push_str("null");
    }
}

/// `parseStoredClientRecord(raw)`. JSON with a string `secretHash` gives a record
/// (non-finite timestamps become `0`/`null`, `allowedIps` sanitised, extra fields
/// ignored); anything else is a legacy record whose whole raw value is the hash.
///
/// Parsed on every verification, so it reads the object in one pass with a visitor
/// (no intermediate map, unknown members skipped) and keeps `JSON.parse`'s rule that a
/// repeated member's last value wins.
pub fn parse_stored_client_record(raw: &str) -> ClientRecord {
    match serde_json::from_str::<RecordJson>(raw) {
        Ok(RecordJson(Some(record))) => record,
        _ => ClientRecord {
            secret_hash: raw.to_owned(),
            created_at: 0.0,
            updated_at: 0.0,
            expires_at: None,
            allowed_ips: Vec::new(),
        },
    }
}

/// `Some` when the text is a JSON object whose last `secretHash` member is a string.
struct RecordJson(Option<ClientRecord>);

impl<'de> serde::Deserialize<'de> for RecordJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RecordVisitor)
    }
}

struct RecordVisitor;

/// A member value as far as the record cares: a finite number, a string, an array of
/// values, or anything else.
enum Member {
    Finite(f64),
    Str(String),
    List(Vec<serde_json::Value>),
    Other,
}

impl<'de> serde::Deserialize<'de> for Member {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n
                .as_f64()
                .filter(|v| v.is_finite())
                .map_or(Member::Other, Member::Finite),
            serde_json::Value::String(s) => Member::Str(s),
            serde_json::Value::Array(a) => Member::List(a),
            _ => Member::Other,
        })
    }
}

impl<'de> serde::de::Visitor<'de> for RecordVisitor {
    type Value = RecordJson;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RecordJson, A::Error> {
        let (mut hash, mut created, mut updated, mut expires, mut ips) =
            (None, None, None, None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "secretHash" => &mut hash,
                "createdAt" => &mut created,
                "updatedAt" => &mut updated,
                "expiresAt" => &mut expires,
                "allowedIps" => &mut ips,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value::<Member>()?);
        }
        let Some(Member::Str(secret_hash)) = hash else {
            return Ok(RecordJson(None));
        };
        let finite = |m: Option<Member>| match m {
            Some(Member::Finite(v)) => Some(v),
            _ => None,
        };
        let allowed_ips = match ips {
            Some(Member::List(items)) => {
                sanitize_allowed_ip_rules(items.iter().filter_map(serde_json::Value::as_str))
            }
            _ => Vec::new(),
        };
        Ok(RecordJson(Some(ClientRecord {
            secret_hash,
            created_at: finite(created).unwrap_or(0.0),
            updated_at: finite(updated).unwrap_or(0.0),
            expires_at: finite(expires),
            allowed_ips,
        })))
    }

    // Any other JSON value (number, string, array, literal) is not a record.
    fn visit_bool<E>(self, _: bool) -> Result<RecordJson, E> {
        Ok(RecordJson(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<RecordJson, E> {
        Ok(RecordJson(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<RecordJson, E> {
        Ok(RecordJson(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<RecordJson, E> {
        Ok(RecordJson(None))
    }
    fn visit_str<E>(self, _: &str) -> Result<RecordJson, E> {
        Ok(RecordJson(None))
    }
    fn visit_unit<E>(self) -> Result<RecordJson, E> {
        Ok(RecordJson(None))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<RecordJson, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(RecordJson(None))
    }
}

/// `getClientRecord`: `None` for a missing or empty value.
pub fn parse_optional_record(raw: Option<&str>) -> Option<ClientRecord> {
    match raw {
        None | Some("") => None,
        Some(r) => Some(parse_stored_client_record(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_json_is_byte_exact() {
        let r = ClientRecord {
            secret_hash: "eed3".into(),
            created_at: 1_717_000_000_000.0,
            updated_at: 1_717_000_000_000.0,
            expires_at: None,
            allowed_ips: vec![],
        };
        assert_eq!(
            r.to_json(),
            r#"{"secretHash":"eed3","createdAt":1717000000000,"updatedAt":1717000000000,"expiresAt":null,"allowedIps":[]}"#
        );
        assert_eq!(parse_stored_client_record(&r.to_json()), r);
    }

    #[test]
    fn legacy_and_lenient_parsing() {
        let legacy = "EED3621935ff386c8af9282a64096fa5c4f52a44a162d86b311ee2f1434ced04";
        assert_eq!(parse_stored_client_record(legacy).secret_hash, legacy);
        assert_eq!(parse_stored_client_record("42").secret_hash, "42");
        assert_eq!(parse_stored_client_record("\"x\"").secret_hash, "\"x\"");
        let r = parse_stored_client_record(
            r#"{"secretHash":"h","createdAt":"x","expiresAt":5,"allowedIps":["bad","10.0.0.1",3,"10.0.0.1"],"fromDbSeed":false}"#,
        );
        assert_eq!(r.created_at, 0.0);
        assert_eq!(r.expires_at, Some(5.0));
        assert_eq!(r.allowed_ips, vec!["10.0.0.1"]);
        assert!(parse_optional_record(Some("")).is_none());
        // JSON.parse keeps the last of repeated members.
        assert_eq!(
            parse_stored_client_record(r#"{"secretHash":"a","secretHash":"b"}"#).secret_hash,
            "b"
        );
        let raw = r#"{"secretHash":"a","secretHash":5}"#;
        assert_eq!(parse_stored_client_record(raw).secret_hash, raw);
        assert_eq!(
            parse_stored_client_record(r#"{"secretHash":"h","expiresAt":1,"expiresAt":null}"#)
                .expires_at,
            None
        );
        for legacy in [
            "[]",
            "null",
            "true",
            "{not json",
            r#"{"secretHash":7}"#,
            r#"{"secretHash":"x"} trailing"#,
        ] {
            assert_eq!(
                parse_stored_client_record(legacy).secret_hash,
                legacy,
                "{legacy}"
            );
        }
        assert_eq!(
            parse_stored_client_record(r#"{"secret\u0048ash":"esc"}"#).secret_hash,
            "esc"
        );
    }

    #[test]
    fn keys_and_ttl() {
        let k = NamespaceKeys::new(Some(" tenant_a ")).unwrap();
        assert_eq!(k.clients_hash_key, "tenant_a:clients");
        assert_eq!(
            k.nonce_key("app", "n1", 1e21),
            "tenant_a:nonce:app:n1:1e+21"
        );
        assert_eq!(k.backup_key("app"), "tenant_a:credentials-backup:app");
        assert!(NamespaceKeys::new(Some("  ")).is_err());
        assert_eq!(NamespaceKeys::new(None).unwrap().namespace, "hmacauth");
        // A request stamped now: the whole window, rounded up, plus 1 s.
        assert_eq!(nonce_claim_ttl_seconds(1e12, 1e12, 300_000.0), 301);
        assert_eq!(nonce_claim_ttl_seconds(1e12, 1e12, 5000.0), 6);
        assert_eq!(nonce_claim_ttl_seconds(1e12, 1e12, 1.0), 2);
        // From the future: the nonce outlives the window counted from the timestamp.
        assert_eq!(nonce_claim_ttl_seconds(1e12 + 4000.0, 1e12, 5000.0), 10);
        assert_eq!(nonce_claim_ttl_seconds(1e12 + 4001.0, 1e12, 5000.0), 11);
        // From the past: only what is left of the window.
        assert_eq!(nonce_claim_ttl_seconds(1e12 - 4000.0, 1e12, 5000.0), 2);
        assert_eq!(nonce_claim_ttl_seconds(1e12 - 5000.0, 1e12, 5000.0), 1);
        assert_eq!(nonce_claim_ttl_seconds(1e12, 1e12, 0.0), 1);
    }

    #[test]
    fn settings_fail_closed() {
        for bad in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            86_400_001.0,
            1e300,
        ] {
            let e = check_max_skew_ms(bad).unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            assert_eq!(
                e.to_string(),
                "maxSkewMs must be a finite number no greater than 86400000"
            );
        }
        assert_eq!(check_max_skew_ms(-1.0), Ok(-1.0));
        assert_eq!(check_max_skew_ms(86_400_000.0), Ok(86_400_000.0));
        for bad in [f64::NAN, f64::INFINITY, 0.0, -1.0, 1.5, 31_536_001.0] {
            assert_eq!(
                check_backup_ttl_seconds(bad).unwrap_err().to_string(),
                "dbSeedBackupTtlSeconds must be an integer between 1 and 31536000"
            );
        }
        assert_eq!(check_backup_ttl_seconds(600.0), Ok(600));
        assert!(check_now_ms(f64::NAN).is_err());
        assert!(check_now_ms(f64::INFINITY).is_err());
    }
}
