//! Opaque bearer secrets: node-auth API keys (with the whole `ApiKeyStrategy` check after
//! the store lookup), Auth Server API tokens, fuz_app session tokens. Hash matching may run
//! bcrypt (node-auth's stored format), so it is an `AsyncTask` with a `*Sync` twin.

use authcore::tokens::{self as core, NodeApiKeyCandidate, NodeApiKeyRequest};
use authcore_node_boundary::napi;
use napi::Env;
use napi::bindgen_prelude::{AsyncTask, Either};

use crate::error::{AuthErr, js};
use crate::task::{AuthTask, block, bytes, spawn};

/// A new node-auth API key.
#[napi(object)]
pub struct NodeApiKey {
    /// `ak_` + 48 lowercase hex (shown once).
    pub raw_key: String,
    /// First 11 characters (the lookup index).
    pub key_prefix: String,
}

/// `ak_` + 24 CSPRNG bytes as hex.
#[napi(catch_unwind)]
pub fn generate_node_api_key(env: &Env) -> napi::Result<NodeApiKey> {
    let k = js(env, core::generate_node_api_key())?;
    Ok(NodeApiKey {
        raw_key: k.raw_key,
        key_prefix: k.key_prefix,
    })
}

/// Lookup prefix of a well-formed node-auth key, else `null`.
#[napi(catch_unwind)]
pub fn node_api_key_prefix(raw: String) -> Option<String> {
    core::node_api_key_prefix(&raw).map(str::to_owned)
}

/// node-auth's IP allow-list check (exact or CIDR, IPv4 and IPv6, `::ffff:` unwrapped).
#[napi(catch_unwind)]
pub fn node_ip_allowed(ip: String, allowed: Vec<String>) -> bool {
    core::node_ip_allowed(&ip, &allowed)
}

/// A stored API key as the check needs it.
#[napi(object)]
pub struct ApiKeyCandidate {
    /// bcrypt or SHA-256 hex.
    pub key_hash: String,
    /// `isActive`.
    pub is_active: bool,
    /// `expiresAt` in unix milliseconds.
    pub expires_at_ms: Option<f64>,
    /// `allowedIps`.
    pub allowed_ips: Option<Vec<String>>,
    /// `scopes`.
    pub scopes: Option<Vec<String>>,
}

/// Request-side inputs of the check.
#[napi(object)]
pub struct ApiKeyCheckOptions {
    /// Clock in unix milliseconds (default: now).
    pub now_ms: Option<f64>,
    /// `req.ip`.
    pub remote_ip: Option<String>,
    /// Default `true`.
    pub enforce_ip_allowlist: Option<bool>,
    /// All must be granted.
    pub required_scopes: Option<Vec<String>>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

type Prepared = (
    String,
    Vec<NodeApiKeyCandidate>,
    i64,
    Option<String>,
    bool,
    Vec<String>,
);

fn prepare(
    presented: String,
    candidates: Vec<ApiKeyCandidate>,
    o: Option<ApiKeyCheckOptions>,
) -> Prepared {
    let o = o.unwrap_or(ApiKeyCheckOptions {
        now_ms: None,
        remote_ip: None,
        enforce_ip_allowlist: None,
        required_scopes: None,
    });
    let cands = candidates
        .into_iter()
        .map(|c| NodeApiKeyCandidate {
            key_hash: c.key_hash,
            is_active: c.is_active,
            expires_at_ms: c
                .expires_at_ms
                .filter(|v| v.is_finite())
                .map(|v| v.floor() as i64),
            allowed_ips: c.allowed_ips,
            scopes: c.scopes.unwrap_or_default(),
        })
        .collect();
    let now = o
        .now_ms
        .filter(|v| v.is_finite())
        .map_or_else(now_ms, |v| v.floor() as i64);
    (
        presented,
        cands,
        now,
        o.remote_ip,
        o.enforce_ip_allowlist.unwrap_or(true),
        o.required_scopes.unwrap_or_default(),
    )
}

fn check(p: Prepared) -> Result<u32, AuthErr> {
    let (presented, cands, now, ip, enforce, scopes) = p;
    let req = NodeApiKeyRequest {
        now_ms: now,
        remote_ip: ip.as_deref(),
        enforce_ip_allowlist: enforce,
        required_scopes: &scopes,
    };
    Ok(core::authenticate_node_api_key(&presented, &cands, &req)? as u32)
}

/// node-auth `ApiKeyStrategy` after `findByPrefix`: every candidate's hash is checked (a
/// prefix collision never fails a valid key; no candidate runs a bcrypt dummy), then
/// revoked, expired, IP allow-list, scopes. Resolves with the matching index; rejects with
/// `API_KEY_INVALID` / `_REVOKED` / `_EXPIRED` (401), `API_KEY_IP_BLOCKED` /
/// `API_KEY_INSUFFICIENT_SCOPE` (403).
#[napi(ts_return_type = "Promise<number>", catch_unwind)]
pub fn authenticate_node_api_key(
    presented: String,
    candidates: Vec<ApiKeyCandidate>,
    options: Option<ApiKeyCheckOptions>,
) -> AsyncTask<AuthTask<u32>> {
    let p = prepare(presented, candidates, options);
    spawn(move || check(p))
}

/// `authenticateNodeApiKey` inline.
#[napi(catch_unwind)]
pub fn authenticate_node_api_key_sync(
    env: &Env,
    presented: String,
    candidates: Vec<ApiKeyCandidate>,
    options: Option<ApiKeyCheckOptions>,
) -> napi::Result<u32> {
    let p = prepare(presented, candidates, options);
    block(env, move || check(p))
}

/// Index of the candidate hash (SHA-256 hex or bcrypt) matching `presented`, comparing all
/// of them; `null` if none (no candidate: a bcrypt dummy runs for equal cost).
#[napi(ts_return_type = "Promise<number | null>", catch_unwind)]
pub fn match_token_hash(
    presented: String,
    candidates: Vec<String>,
) -> AsyncTask<AuthTask<Option<u32>>> {
    spawn(move || {
        let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
        Ok(core::match_token_hash(&presented, &refs)?.map(|i| i as u32))
    })
}

/// `matchTokenHash` inline.
#[napi(catch_unwind)]
pub fn match_token_hash_sync(
    env: &Env,
    presented: String,
    candidates: Vec<String>,
) -> napi::Result<Option<u32>> {
    block(env, move || {
        let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
        Ok(core::match_token_hash(&presented, &refs)?.map(|i| i as u32))
    })
}

/// A new Auth Server API token.
#[napi(object)]
pub struct GeneratedApiToken {
    /// The secret (shown once).
    pub token: String,
    /// Lookup prefix (visible prefix + 8 characters).
    pub prefix: String,
    /// SHA-256 hex to store.
    pub token_hash: String,
}

/// `<visiblePrefix><32 base62>` from the OS CSPRNG (e.g. `epic_live_`).
#[napi(catch_unwind)]
pub fn generate_api_token(env: &Env, visible_prefix: String) -> napi::Result<GeneratedApiToken> {
    let t = js(env, core::generate_api_token(&visible_prefix))?;
    Ok(GeneratedApiToken {
        token: t.token,
        prefix: t.prefix,
        token_hash: t.token_hash,
    })
}

/// SHA-256 hex of an API token.
#[napi(catch_unwind)]
pub fn hash_api_token(token: String) -> String {
    core::hash_api_token(&token)
}

/// Lookup prefix of a presented Auth Server token, or `null` if it has the wrong shape.
#[napi(catch_unwind)]
pub fn api_token_lookup_prefix(token: String, visible_prefix: String) -> Option<String> {
    core::api_token_lookup_prefix(&token, &visible_prefix).map(str::to_owned)
}

/// A new fuz_app session token (32 CSPRNG bytes, base64url, 43 characters).
#[napi(catch_unwind)]
pub fn generate_session_token(env: &Env) -> napi::Result<String> {
    js(env, core::generate_session_token())
}

/// fuz_app session id: BLAKE3 hex of the token.
#[napi(catch_unwind)]
pub fn hash_session_token(token: String) -> String {
    core::hash_session_token(&token)
}

/// Constant-time check of a session token against a stored session id.
#[napi(catch_unwind)]
pub fn verify_session_token(token: String, session_id: String) -> bool {
    core::verify_session_token(&token, &session_id)
}

/// Unkeyed BLAKE3 hex of bytes or a string.
#[napi(catch_unwind)]
pub fn hash_blake3(data: Either<String, &[u8]>) -> String {
    core::hash_blake3(&bytes(data))
}
