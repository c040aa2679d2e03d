//! Opaque bearer secrets: Auth Server API tokens, node-auth API keys and fuz_app session
//! tokens.
//!
//! **API tokens (Auth Server `ApiToken`).** Format `<prefix><32 base62 chars>`, e.g.
//! `epic_live_` + 32 characters drawn from the OS CSPRNG (about 190 bits). The visible
//! prefix lets secret scanners spot leaked tokens. The lookup key stored in
//! [`ApiToken::prefix`] is the visible prefix plus the first [`LOOKUP_CHARS`] random
//! characters. The token itself is stored only as **SHA-256, lowercase hex**
//! ([`hash_api_token`]): the secret has full entropy, so a slow KDF adds nothing but a
//! CPU-DoS lever (the Auth Server's bcrypt cost 10 per request). Lookup by prefix returns
//! *every* candidate (prefixes may collide) and each candidate's hash is compared in
//! constant time, without stopping at the first match.
//!
//! **node-auth API keys.** `ak_` + 48 lowercase hex (24 random bytes), lookup prefix = the
//! first 11 characters. Stored hashes may be bcrypt (node-auth's format, cost 10) or our
//! SHA-256 hex; with no candidate at all a precomputed bcrypt dummy is verified so the
//! response costs the same as for a real key.
//!
//! **Session tokens (fuz_app).** 32 CSPRNG bytes, base64url without padding (43 chars);
//! the session id is unkeyed BLAKE3 of the token string's UTF-8 bytes, as 64 lowercase hex
//! characters ([`hash_session_token`]).

use std::sync::{Mutex, OnceLock};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Random characters of an API token after its visible prefix.
pub const API_TOKEN_RANDOM_CHARS: usize = 32;
/// Random characters (after the visible prefix) that form the lookup prefix.
pub const LOOKUP_CHARS: usize = 8;
/// Visible prefix of live Auth Server tokens.
pub const LIVE_PREFIX: &str = "epic_live_";
/// Visible prefix of test Auth Server tokens.
pub const TEST_PREFIX: &str = "epic_test_";
/// Visible prefix of node-auth API keys.
pub const NODE_API_KEY_PREFIX: &str = "ak_";
/// Length of node-auth's lookup prefix (`ak_` + 8 hex).
pub const NODE_API_KEY_PREFIX_LEN: usize = 11;
/// bcrypt cost node-auth uses for API keys.
pub const NODE_API_KEY_BCRYPT_COST: u32 = 10;

/// Errors of this module. Codes reuse node-auth's `ApiKeyStrategy` codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiTokenError {
    /// No token was presented.
    #[error("API key missing")]
    Missing,
    /// Unknown, malformed or wrong token (one answer for all, to leak nothing).
    #[error("invalid API key")]
    Invalid,
    /// The matching token is revoked.
    #[error("API key revoked")]
    Revoked,
    /// The matching token is past its `expiresAt` (or that date is unreadable).
    #[error("API key expired")]
    Expired,
    /// A visible prefix for generation is empty, too long or not `[A-Za-z0-9_]`.
    #[error("invalid token prefix")]
    InvalidPrefix,
    /// A stored hash is neither SHA-256 hex nor a bcrypt string.
    #[error("stored token hash is malformed")]
    StoredHashInvalid,
    /// The OS random number generator failed.
    #[error("random number generator failure")]
    Random,
    /// The client IP is not in the key's allow-list (node-auth `API_KEY_IP_BLOCKED`).
    #[error("IP address not allowed for this API key")]
    IpBlocked,
    /// The key lacks required scopes (node-auth `API_KEY_INSUFFICIENT_SCOPE`); carries the
    /// missing scopes in the order they were required.
    #[error("API key missing required scopes: {}", .0.join(", "))]
    InsufficientScope(Vec<String>),
}

impl ApiTokenError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "API_KEY_MISSING",
            Self::Invalid => "API_KEY_INVALID",
            Self::Revoked => "API_KEY_REVOKED",
            Self::Expired => "API_KEY_EXPIRED",
            Self::InvalidPrefix => "API_TOKEN_INVALID_PREFIX",
            Self::StoredHashInvalid => "API_TOKEN_STORED_HASH_INVALID",
            Self::Random => "API_TOKEN_RANDOM_FAILURE",
            Self::IpBlocked => "API_KEY_IP_BLOCKED",
            Self::InsufficientScope(_) => "API_KEY_INSUFFICIENT_SCOPE",
        }
    }

    /// HTTP status (401 for every authentication failure, 500 for server faults).
    pub fn status(&self) -> u16 {
        match self {
            Self::Missing | Self::Invalid | Self::Revoked | Self::Expired => 401,
            Self::IpBlocked | Self::InsufficientScope(_) => 403,
            _ => 500,
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn random_fill(buf: &mut [u8]) -> Result<(), ApiTokenError> {
    getrandom::fill(buf).map_err(|_| ApiTokenError::Random)
}

/// `n` uniformly distributed base62 characters from the OS CSPRNG (rejection sampling,
/// no modulo bias).
pub fn random_base62(n: usize) -> Result<String, ApiTokenError> {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        random_fill(&mut buf)?;
        for &b in &buf {
            // 248 = 4 * 62: bytes >= 248 would bias the distribution.
            if b < 248 && out.len() < n {
                out.push(BASE62[(b % 62) as usize] as char);
            }
        }
    }
    Ok(out)
}

/// SHA-256 of the token's UTF-8 bytes, lowercase hex: the `tokenHash` to store.
pub fn hash_api_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A freshly generated API token. `token` is shown to the user once and never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedApiToken {
    /// The full secret, e.g. `epic_live_4f...`.
    pub token: String,
    /// Lookup prefix: visible prefix + first [`LOOKUP_CHARS`] random characters.
    pub prefix: String,
    /// SHA-256 hex of `token`.
    pub token_hash: String,
}

crate::redacted_debug!(GeneratedApiToken { prefix, token_hash } secret { token });

fn check_visible_prefix(prefix: &str) -> Result<(), ApiTokenError> {
    if prefix.is_empty()
        || prefix.len() > 32
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(ApiTokenError::InvalidPrefix);
    }
    Ok(())
}

/// Generate `<visible_prefix><32 base62 chars>` (use [`LIVE_PREFIX`] or [`TEST_PREFIX`]).
pub fn generate_api_token(visible_prefix: &str) -> Result<GeneratedApiToken, ApiTokenError> {
    check_visible_prefix(visible_prefix)?;
    let token = format!("{visible_prefix}{}", random_base62(API_TOKEN_RANDOM_CHARS)?);
    let prefix = token[..visible_prefix.len() + LOOKUP_CHARS].to_string();
    let token_hash = hash_api_token(&token);
    Ok(GeneratedApiToken {
        token,
        prefix,
        token_hash,
    })
}

/// Lookup prefix of a presented token, given the visible prefix it must start with.
/// `None` when the token does not have the expected shape.
pub fn api_token_lookup_prefix<'a>(token: &'a str, visible_prefix: &str) -> Option<&'a str> {
    let rest = token.strip_prefix(visible_prefix)?;
    if rest.len() != API_TOKEN_RANDOM_CHARS || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(&token[..visible_prefix.len() + LOOKUP_CHARS])
}

/// Auth Server `ApiToken` record (JSON field names as in its API reference).
/// `scopes` is an extension (the reference's `AuthData.scopes` needs a source); it
/// defaults to empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    /// Record id.
    pub id: String,
    /// Owning service account.
    pub service_account_id: String,
    /// Human-readable name.
    pub name: String,
    /// SHA-256 hex of the token (or a legacy bcrypt string).
    pub token_hash: String,
    /// Lookup prefix.
    pub prefix: String,
    /// RFC 3339 time of last use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// RFC 3339 expiry; absent means no expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// Revoked tokens never authenticate.
    pub revoked: bool,
    /// Domain (tenant) id.
    pub domain_id: String,
    /// Organisation id.
    pub org_id: String,
    /// Granted scopes (extension).
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Auth Server `AuthData` (attached to a request after authentication).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthData {
    /// `"jwt"` or `"api_token"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// User id (JWT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Service account id (API token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_id: Option<String>,
    /// E-mail (JWT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Domain id.
    pub domain_id: String,
    /// Organisation id.
    pub org_id: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Token name (API token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_name: Option<String>,
}

impl ApiToken {
    /// `AuthData` for a request authenticated with this token.
    pub fn auth_data(&self) -> AuthData {
        AuthData {
            kind: "api_token".into(),
            user_id: None,
            service_account_id: Some(self.service_account_id.clone()),
            email: None,
            domain_id: self.domain_id.clone(),
            org_id: self.org_id.clone(),
            scopes: self.scopes.clone(),
            token_name: Some(self.name.clone()),
        }
    }
}

/// Parse an RFC 3339 timestamp (`2026-01-02T03:04:05Z`, optional fraction, `Z` or
/// `±HH:MM`) to unix seconds. `None` if malformed.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = oh * 3600 + om * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// Constant-time equality of two hex hash strings (case-sensitive, length leaks only).
fn ct_eq_str(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Authenticate `presented` against every candidate returned by a prefix lookup.
///
/// The presented token is hashed once and compared with **all** candidates in constant
/// time (no early exit), so a prefix collision never makes a valid token fail (node-auth
/// §6 item 33) and timing does not reveal which candidate matched. Then the matching
/// record must be unrevoked and unexpired at `now` (unix seconds). Candidates whose
/// `tokenHash` is a legacy bcrypt string are verified with bcrypt.
pub fn authenticate_api_token<'a>(
    presented: &str,
    candidates: &'a [ApiToken],
    now: i64,
) -> Result<&'a ApiToken, ApiTokenError> {
    if presented.is_empty() {
        return Err(ApiTokenError::Missing);
    }
    let hashes: Vec<&str> = candidates.iter().map(|c| c.token_hash.as_str()).collect();
    let idx = match_token_hash(presented, &hashes)?.ok_or(ApiTokenError::Invalid)?;
    let record = &candidates[idx];
    if record.revoked {
        return Err(ApiTokenError::Revoked);
    }
    if let Some(exp) = &record.expires_at {
        // An unreadable expiry fails closed.
        match parse_rfc3339(exp) {
            Some(t) if t > now => {}
            _ => return Err(ApiTokenError::Expired),
        }
    }
    Ok(record)
}

fn is_sha256_hex(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Precomputed bcrypt hash (cost 10, random secret) verified when a lookup found nothing.
pub fn bcrypt_dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        let mut salt = [0u8; 16];
        // If the RNG fails the dummy is made from zeros: harmless, since it is only ever
        // verified to burn the same CPU time and its result is ignored.
        let _ = getrandom::fill(&mut secret);
        let _ = getrandom::fill(&mut salt);
        crate::password::bcrypt_hash_with_salt(&secret, NODE_API_KEY_BCRYPT_COST, salt)
            .expect("bcrypt with a valid cost and salt cannot fail")
    })
}

/// Index of the candidate hash that matches `presented`, comparing every candidate.
///
/// * SHA-256 hex candidates: one hash of `presented`, constant-time compares.
/// * bcrypt candidates (node-auth's format): each is verified (bcrypt compares in
///   constant time).
/// * No candidate at all: the precomputed bcrypt dummy ([`bcrypt_dummy_hash`]) is
///   verified, so an unknown prefix costs the same as a known one under node-auth's
///   bcrypt scheme.
pub fn match_token_hash(
    presented: &str,
    candidates: &[&str],
) -> Result<Option<usize>, ApiTokenError> {
    let sha = hash_api_token(presented);
    let mut found: Option<usize> = None;
    for (i, h) in candidates.iter().enumerate() {
        let ok = if is_sha256_hex(h) {
            ct_eq_str(&sha, h)
        } else if crate::password::identify(h) == Some(crate::password::HashKind::Bcrypt) {
            crate::password::bcrypt_verify(presented.as_bytes(), h)
                .map_err(|_| ApiTokenError::StoredHashInvalid)?
        } else {
            return Err(ApiTokenError::StoredHashInvalid);
        };
        if ok && found.is_none() {
            found = Some(i);
        }
    }
    if candidates.is_empty() {
        // Dummy work: without it an unknown prefix would answer faster than a known one
        // under node-auth's bcrypt scheme.
        let _ = crate::password::bcrypt_verify(presented.as_bytes(), bcrypt_dummy_hash());
    }
    Ok(found)
}

/// Storage of API tokens, looked up by prefix (all rows with that prefix).
pub trait ApiTokenStore: Send + Sync {
    /// Save a new record.
    fn insert(&self, token: ApiToken);
    /// Every record whose `prefix` equals `prefix` (possibly several).
    fn find_by_prefix(&self, prefix: &str) -> Vec<ApiToken>;
    /// Record a successful use.
    fn touch(&self, id: &str, at: &str);
}

/// In-memory [`ApiTokenStore`] for tests and small deployments.
#[derive(Debug, Default)]
pub struct InMemoryApiTokenStore {
    rows: Mutex<Vec<ApiToken>>,
}

impl InMemoryApiTokenStore {
    /// Empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Snapshot of every stored record.
    pub fn all(&self) -> Vec<ApiToken> {
        self.rows.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ApiTokenStore for InMemoryApiTokenStore {
    fn insert(&self, token: ApiToken) {
        self.rows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(token);
    }

    fn find_by_prefix(&self, prefix: &str) -> Vec<ApiToken> {
        self.rows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|t| t.prefix == prefix)
            .cloned()
            .collect()
    }

    fn touch(&self, id: &str, at: &str) {
        for t in self
            .rows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
        {
            if t.id == id {
                t.last_used_at = Some(at.to_string());
            }
        }
    }
}

/// Look up, authenticate and touch an Auth Server token: the whole `requireAuth` API-token
/// branch. `visible_prefix` is the prefix tokens must carry (e.g. [`LIVE_PREFIX`]);
/// `now` is unix seconds and `now_rfc3339` the same instant for `lastUsedAt`.
pub fn authenticate_with_store(
    store: &dyn ApiTokenStore,
    presented: &str,
    visible_prefix: &str,
    now: i64,
    now_rfc3339: &str,
) -> Result<AuthData, ApiTokenError> {
    if presented.is_empty() {
        return Err(ApiTokenError::Missing);
    }
    let Some(prefix) = api_token_lookup_prefix(presented, visible_prefix) else {
        return Err(ApiTokenError::Invalid);
    };
    let candidates = store.find_by_prefix(prefix);
    let record = authenticate_api_token(presented, &candidates, now)?;
    store.touch(&record.id, now_rfc3339);
    Ok(record.auth_data())
}

/// A new node-auth API key: `ak_` + 48 lowercase hex characters.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeApiKey {
    /// The raw key, shown once.
    pub raw_key: String,
    /// Lookup prefix (first 11 characters).
    pub key_prefix: String,
}

crate::redacted_debug!(NodeApiKey { key_prefix } secret { raw_key });

/// Generate a node-auth format API key (24 CSPRNG bytes = 192 bits).
pub fn generate_node_api_key() -> Result<NodeApiKey, ApiTokenError> {
    let mut bytes = [0u8; 24];
    random_fill(&mut bytes)?;
    let raw_key = format!("{NODE_API_KEY_PREFIX}{}", hex::encode(bytes));
    let key_prefix = raw_key[..NODE_API_KEY_PREFIX_LEN].to_string();
    Ok(NodeApiKey {
        raw_key,
        key_prefix,
    })
}

/// Lookup prefix of a node-auth key (`raw.substring(0, 11)`), or `None` unless the key
/// is `ak_` followed by exactly 48 lowercase hex characters.
pub fn node_api_key_prefix(raw: &str) -> Option<&str> {
    let rest = raw.strip_prefix(NODE_API_KEY_PREFIX)?;
    if rest.len() != 48 || !rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    Some(&raw[..NODE_API_KEY_PREFIX_LEN])
}

/// A new session token: 32 CSPRNG bytes, base64url without padding (43 characters).
pub fn generate_session_token() -> Result<String, ApiTokenError> {
    let mut bytes = [0u8; 32];
    random_fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// fuz_app `hash_session_token`: unkeyed BLAKE3 (32-byte output) of the token string's
/// UTF-8 bytes, as 64 lowercase hex characters. This is the session id.
pub fn hash_session_token(token: &str) -> String {
    hash_blake3(token.as_bytes())
}

/// Unkeyed BLAKE3 of `data`, lowercase hex (fuz_app `hash_blake3`).
pub fn hash_blake3(data: &[u8]) -> String {
    blake3::hash(data).to_hex().to_string()
}

/// Constant-time check of a presented session token against a stored session id.
pub fn verify_session_token(token: &str, session_id: &str) -> bool {
    ct_eq_str(&hash_session_token(token), session_id)
}

// ---------------------------------------------------------------------------------------
// node-auth ApiKeyStrategy validation (after the store lookup)
// ---------------------------------------------------------------------------------------

/// What the validation needs of a stored node-auth `ApiKey` record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeApiKeyCandidate {
    /// `keyHash`: bcrypt (node-auth's format) or SHA-256 hex.
    pub key_hash: String,
    /// `isActive`.
    pub is_active: bool,
    /// `expiresAt` as unix milliseconds (`None`: never expires).
    pub expires_at_ms: Option<i64>,
    /// `allowedIps` (`None` or empty: any IP).
    pub allowed_ips: Option<Vec<String>>,
    /// `scopes`.
    pub scopes: Vec<String>,
}

/// Request-side inputs of [`authenticate_node_api_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeApiKeyRequest<'a> {
    /// Current time, unix milliseconds.
    pub now_ms: i64,
    /// Client IP (`req.ip`), if known.
    pub remote_ip: Option<&'a str>,
    /// `enforceIpAllowlist` (node-auth default `true`).
    pub enforce_ip_allowlist: bool,
    /// `requiredScopes`: all must be granted.
    pub required_scopes: &'a [String],
}

fn parse_cidr(entry: &str) -> Option<(std::net::IpAddr, u32)> {
    let (addr, bits) = entry.split_once('/')?;
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) || bits.len() > 3 {
        return None;
    }
    let bits: u32 = bits.parse().ok()?;
    let addr: std::net::IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((addr, bits))
}

fn unmap_v4(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn in_cidr(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// node-auth's `isIpAllowed`, fixed: an entry matches when it equals the IP (with or
/// without a `::ffff:` IPv4-mapped prefix) or is a CIDR containing it. CIDRs work for IPv4
/// and IPv6; an entry with a malformed prefix length (`/33` on IPv4, `/x`) matches nothing
/// (node-auth masked with a negative shift there).
pub fn node_ip_allowed(ip: &str, allowed: &[String]) -> bool {
    let stripped = ip.strip_prefix("::ffff:").unwrap_or(ip);
    let parsed = ip.parse::<std::net::IpAddr>().ok().map(unmap_v4);
    allowed.iter().any(|entry| {
        if entry.contains('/') {
            match (parsed, parse_cidr(entry)) {
                (Some(ip), Some((net, bits))) => in_cidr(ip, unmap_v4(net), bits),
                _ => false,
            }
        } else {
            entry == stripped || entry == ip
        }
    })
}

/// node-auth `ApiKeyStrategy.authenticate` after `findByPrefix`, in its order: hash match
/// (every candidate is checked, so prefix collisions never make a valid key fail; no
/// candidate runs the bcrypt dummy), then `isActive` (`API_KEY_REVOKED`), `expiresAt`
/// (`now > expiresAt`: `API_KEY_EXPIRED`), the IP allow-list (`API_KEY_IP_BLOCKED`, 403)
/// and the required scopes (`API_KEY_INSUFFICIENT_SCOPE`, 403). Returns the index of the
/// matching candidate.
pub fn authenticate_node_api_key(
    presented: &str,
    candidates: &[NodeApiKeyCandidate],
    req: &NodeApiKeyRequest<'_>,
) -> Result<usize, ApiTokenError> {
    if presented.is_empty() {
        return Err(ApiTokenError::Missing);
    }
    let hashes: Vec<&str> = candidates.iter().map(|c| c.key_hash.as_str()).collect();
    // A malformed stored hash is a non-match here: node-auth's bcryptjs.compare answers
    // false (or throws) and the request is rejected as an invalid key either way.
    let idx = match match_token_hash(presented, &hashes) {
        Ok(Some(i)) => i,
        Ok(None) | Err(ApiTokenError::StoredHashInvalid) => return Err(ApiTokenError::Invalid),
        Err(e) => return Err(e),
    };
    let rec = &candidates[idx];
    if !rec.is_active {
        return Err(ApiTokenError::Revoked);
    }
    if rec.expires_at_ms.is_some_and(|exp| req.now_ms > exp) {
        return Err(ApiTokenError::Expired);
    }
    if req.enforce_ip_allowlist
        && let Some(ips) = rec.allowed_ips.as_deref()
        && !ips.is_empty()
        && !req.remote_ip.is_some_and(|ip| node_ip_allowed(ip, ips))
    {
        return Err(ApiTokenError::IpBlocked);
    }
    let missing: Vec<String> = req
        .required_scopes
        .iter()
        .filter(|s| !rec.scopes.contains(s))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(ApiTokenError::InsufficientScope(missing));
    }
    Ok(idx)
}
