//! OAuth 2.1 authorization-server primitives of the Auth Server: PKCE (RFC 7636),
//! single-use authorization codes and the RFC 8414 metadata document.
//!
//! * **PKCE.** `S256` computes `BASE64URL-NOPAD(SHA256(ASCII(code_verifier)))` and compares
//!   it with the stored challenge in constant time; `plain` compares the verifier itself
//!   and is refused unless [`AuthorizationServerConfig::allow_plain`] is set (OAuth 2.1 and
//!   the MCP authorization spec require S256). A verifier must be 43..=128 characters of
//!   `[A-Za-z0-9-._~]`; an S256 challenge must be 43 base64url characters.
//! * **Authorization codes.** 32 CSPRNG bytes, base64url (43 characters). Only the
//!   SHA-256 hex of a code is stored. A code is bound to `client_id`, `redirect_uri`
//!   (exact string match), the PKCE challenge, the user, domain and scope; it lives
//!   [`DEFAULT_CODE_TTL_MS`] (60 s) and is consumed atomically by the first exchange
//!   attempt, successful or not. A second attempt gets [`OAuthError::CodeReused`] so the
//!   caller can revoke whatever the first exchange issued (RFC 6749 §4.1.2).
//! * **Metadata.** [`OAuthMetadata`] serialises to the RFC 8414 JSON document with the
//!   Auth Server's field set plus the optional `revocation_endpoint` and
//!   `registration_endpoint`.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::jwt::{JwtError, RefreshTokenStore, TokenClaims, TokenManager, TokenPair};
use crate::store::StoreError;

/// Default authorization-code lifetime in milliseconds (RFC 6749 recommends <= 10 min;
/// 60 s is the OAuth security BCP's practical value).
pub const DEFAULT_CODE_TTL_MS: u64 = 60_000;
/// Minimum PKCE verifier length.
pub const VERIFIER_MIN_LEN: usize = 43;
/// Maximum PKCE verifier length.
pub const VERIFIER_MAX_LEN: usize = 128;

/// Errors of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The verifier is missing, too short or long, or has a character outside
    /// `[A-Za-z0-9-._~]`.
    #[error("invalid code_verifier")]
    InvalidVerifier,
    /// The code challenge has the wrong shape for its method.
    #[error("invalid code_challenge")]
    InvalidChallenge,
    /// The verifier does not match the stored challenge.
    #[error("PKCE verification failed")]
    PkceMismatch,
    /// `code_challenge_method` is neither `S256` nor `plain`.
    #[error("unsupported code_challenge_method")]
    UnsupportedChallengeMethod,
    /// `plain` was used while the server only allows `S256`.
    #[error("code_challenge_method plain is not allowed")]
    PlainNotAllowed,
    /// No such authorization code.
    #[error("invalid authorization code")]
    CodeNotFound,
    /// The code was already exchanged (or an exchange was attempted).
    #[error("authorization code already used")]
    CodeReused,
    /// The code is past its lifetime.
    #[error("authorization code expired")]
    CodeExpired,
    /// The code was issued to another client.
    #[error("authorization code was issued to another client")]
    ClientMismatch,
    /// The redirect URI differs from the one used at authorization.
    #[error("redirect_uri does not match")]
    RedirectUriMismatch,
    /// A required request parameter is missing or empty.
    #[error("missing or empty parameter: {0}")]
    InvalidRequest(&'static str),
    /// The issuer is not an `https` URL without query or fragment.
    #[error("invalid issuer identifier")]
    InvalidIssuer,
    /// The OS random number generator failed.
    #[error("random number generator failure")]
    Random,
    /// The authorization-code storage failed (e.g. Redis unreachable).
    #[error("authorization-code storage unavailable: {0}")]
    Store(StoreError),
    /// Issuing the tokens of a granted code failed (key or signing fault).
    #[error("token issuance failed: {0}")]
    TokenIssue(String),
    /// A numeric setting out of range (the code lifetime): settings fail closed.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl OAuthError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidVerifier => "PKCE_INVALID_VERIFIER",
            Self::InvalidChallenge => "PKCE_INVALID_CHALLENGE",
            Self::PkceMismatch => "PKCE_VERIFICATION_FAILED",
            Self::UnsupportedChallengeMethod => "PKCE_UNSUPPORTED_METHOD",
            Self::PlainNotAllowed => "PKCE_PLAIN_NOT_ALLOWED",
            Self::CodeNotFound => "AUTH_CODE_INVALID",
            Self::CodeReused => "AUTH_CODE_REUSED",
            Self::CodeExpired => "AUTH_CODE_EXPIRED",
            Self::ClientMismatch => "AUTH_CODE_CLIENT_MISMATCH",
            Self::RedirectUriMismatch => "AUTH_CODE_REDIRECT_URI_MISMATCH",
            Self::InvalidRequest(_) => "OAUTH_INVALID_REQUEST",
            Self::InvalidIssuer => "OAUTH_INVALID_ISSUER",
            Self::Random => "OAUTH_RANDOM_FAILURE",
            Self::Store(_) => "OAUTH_STORE_UNAVAILABLE",
            Self::TokenIssue(_) => "OAUTH_TOKEN_ISSUE_FAILED",
            Self::InvalidConfig(_) => "OAUTH_INVALID_CONFIG",
        }
    }

    /// RFC 6749 §5.2 `error` value for a token-endpoint response.
    pub fn oauth_error(&self) -> &'static str {
        match self {
            Self::InvalidVerifier
            | Self::InvalidChallenge
            | Self::UnsupportedChallengeMethod
            | Self::PlainNotAllowed
            | Self::InvalidRequest(_) => "invalid_request",
            Self::PkceMismatch
            | Self::CodeNotFound
            | Self::CodeReused
            | Self::CodeExpired
            | Self::ClientMismatch
            | Self::RedirectUriMismatch => "invalid_grant",
            Self::InvalidIssuer
            | Self::Random
            | Self::Store(_)
            | Self::TokenIssue(_)
            | Self::InvalidConfig(_) => "server_error",
        }
    }

    /// HTTP status (RFC 6749 §5.2: 400 for request and grant errors).
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidIssuer | Self::Random | Self::TokenIssue(_) | Self::InvalidConfig(_) => {
                500
            }
            Self::Store(_) => 503,
            _ => 400,
        }
    }
}

/// PKCE code challenge method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeChallengeMethod {
    /// SHA-256, base64url without padding.
    S256,
    /// The challenge is the verifier.
    #[serde(rename = "plain")]
    Plain,
}

impl CodeChallengeMethod {
    /// `"S256"` or `"plain"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }

    /// Parse the exact, case-sensitive RFC 7636 names.
    pub fn parse(s: &str) -> Result<Self, OAuthError> {
        match s {
            "S256" => Ok(Self::S256),
            "plain" => Ok(Self::Plain),
            _ => Err(OAuthError::UnsupportedChallengeMethod),
        }
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 7636 §4.1: 43..=128 characters of `[A-Za-z0-9-._~]`.
pub fn validate_code_verifier(verifier: &str) -> Result<(), OAuthError> {
    let len = verifier.len();
    if !(VERIFIER_MIN_LEN..=VERIFIER_MAX_LEN).contains(&len) || !verifier.bytes().all(is_unreserved)
    {
        return Err(OAuthError::InvalidVerifier);
    }
    Ok(())
}

/// Validate a challenge for its method: S256 = 43 base64url characters; plain = a valid
/// verifier.
pub fn validate_code_challenge(
    challenge: &str,
    method: CodeChallengeMethod,
) -> Result<(), OAuthError> {
    let ok = match method {
        CodeChallengeMethod::S256 => {
            challenge.len() == 43
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        CodeChallengeMethod::Plain => validate_code_verifier(challenge).is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(OAuthError::InvalidChallenge)
    }
}

/// `BASE64URL-NOPAD(SHA256(verifier))`.
pub fn s256_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Verify a PKCE verifier against a stored challenge (constant-time comparison). The
/// verifier's syntax is checked first; `plain` is accepted here, policy is up to the
/// caller (see [`AuthorizationServer`]).
///
/// # Example
///
/// ```
/// use authcore::oauth::{CodeChallengeMethod, s256_challenge, verify_pkce};
///
/// let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; // 43..=128 unreserved chars
/// let challenge = s256_challenge(verifier);
/// assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"); // RFC 7636, appendix B
/// assert!(verify_pkce(verifier, &challenge, CodeChallengeMethod::S256).is_ok());
/// assert!(verify_pkce(verifier, "another-challenge", CodeChallengeMethod::S256).is_err());
/// ```
pub fn verify_pkce(
    verifier: &str,
    challenge: &str,
    method: CodeChallengeMethod,
) -> Result<(), OAuthError> {
    validate_code_verifier(verifier)?;
    let computed = match method {
        CodeChallengeMethod::S256 => s256_challenge(verifier),
        CodeChallengeMethod::Plain => verifier.to_string(),
    };
    if bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
        Ok(())
    } else {
        Err(OAuthError::PkceMismatch)
    }
}

/// Auth Server `OAuthCodeData`. In storage `code` holds the SHA-256 hex of the code, never
/// the code itself; `expiresAt` is unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthCodeData {
    /// SHA-256 hex of the authorization code.
    pub code: String,
    /// Client the code was issued to.
    pub client_id: String,
    /// User who authorised.
    pub user_id: String,
    /// Domain (tenant).
    pub domain_id: String,
    /// Redirect URI used at authorization; must match exactly at exchange.
    pub redirect_uri: String,
    /// PKCE challenge.
    pub code_challenge: String,
    /// PKCE method.
    pub code_challenge_method: CodeChallengeMethod,
    /// Granted scope.
    pub scope: String,
    /// Expiry, unix milliseconds.
    pub expires_at: u64,
    /// Refresh-token family issued for this code (set by
    /// [`AuthorizationServer::exchange_code_for_tokens`]); revoked if the code is replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_id: Option<String>,
}

/// Auth Server `CreateCodeParams`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCodeParams {
    /// OAuth client id.
    pub client_id: String,
    /// User the code is issued for.
    pub user_id: String,
    /// Domain (tenant).
    pub domain_id: String,
    /// Redirect URI for the callback.
    pub redirect_uri: String,
    /// PKCE challenge.
    pub code_challenge: String,
    /// PKCE method.
    pub code_challenge_method: CodeChallengeMethod,
    /// Requested scope.
    pub scope: String,
}

/// Auth Server `ExchangeCodeResult` (what the token endpoint reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeCodeResult {
    /// Whether the exchange succeeded.
    pub success: bool,
    /// User id (on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Domain id (on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    /// Granted scope (on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// RFC 6749 error code (on failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Human-readable description (on failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// Result of taking a code out of storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeTake {
    /// First take: the code is now marked used.
    Fresh(OAuthCodeData),
    /// The code had already been taken.
    AlreadyUsed(OAuthCodeData),
    /// Unknown code.
    NotFound,
}

/// Storage of authorization codes (Auth Server `OAuthStorage`), keyed by code hash.
/// `take` must be atomic: exactly one caller may ever see `Fresh` for a code.
/// Every call can fail with a [`StoreError`] (a networked store); the in-memory storage
/// never fails.
pub trait OAuthStorage: Send + Sync {
    /// Store a new code record.
    fn save(&self, data: OAuthCodeData) -> Result<(), StoreError>;
    /// Atomically mark the code used and return its record.
    fn take(&self, code_hash: &str) -> Result<CodeTake, StoreError>;
    /// Remember the refresh-token family issued for a (taken) code; `false` if the code is
    /// no longer stored.
    fn set_family(&self, code_hash: &str, family_id: &str) -> Result<bool, StoreError>;
    /// Drop records that expired before `now_ms` (used tombstones included). Stores that
    /// expire records themselves (Redis) return 0.
    fn purge_expired(&self, now_ms: u64) -> Result<usize, StoreError>;
}

impl<T: OAuthStorage + ?Sized> OAuthStorage for std::sync::Arc<T> {
    fn save(&self, data: OAuthCodeData) -> Result<(), StoreError> {
        (**self).save(data)
    }
    fn take(&self, code_hash: &str) -> Result<CodeTake, StoreError> {
        (**self).take(code_hash)
    }
    fn set_family(&self, code_hash: &str, family_id: &str) -> Result<bool, StoreError> {
        (**self).set_family(code_hash, family_id)
    }
    fn purge_expired(&self, now_ms: u64) -> Result<usize, StoreError> {
        (**self).purge_expired(now_ms)
    }
}

impl<T: OAuthStorage + ?Sized> OAuthStorage for Box<T> {
    fn save(&self, data: OAuthCodeData) -> Result<(), StoreError> {
        (**self).save(data)
    }
    fn take(&self, code_hash: &str) -> Result<CodeTake, StoreError> {
        (**self).take(code_hash)
    }
    fn set_family(&self, code_hash: &str, family_id: &str) -> Result<bool, StoreError> {
        (**self).set_family(code_hash, family_id)
    }
    fn purge_expired(&self, now_ms: u64) -> Result<usize, StoreError> {
        (**self).purge_expired(now_ms)
    }
}

/// In-memory [`OAuthStorage`]. Used codes stay as tombstones until they expire so a
/// replay is recognised as such.
#[derive(Debug, Default)]
pub struct InMemoryOAuthStorage {
    codes: Mutex<HashMap<String, (OAuthCodeData, bool)>>,
}

impl InMemoryOAuthStorage {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Snapshot of the stored records (for inspection in tests).
    pub fn records(&self) -> Vec<OAuthCodeData> {
        self.codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|(d, _)| d.clone())
            .collect()
    }
}

impl OAuthStorage for InMemoryOAuthStorage {
    fn save(&self, data: OAuthCodeData) -> Result<(), StoreError> {
        self.codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(data.code.clone(), (data, false));
        Ok(())
    }

    fn take(&self, code_hash: &str) -> Result<CodeTake, StoreError> {
        let mut map = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        Ok(match map.get_mut(code_hash) {
            None => CodeTake::NotFound,
            Some((data, used)) if *used => CodeTake::AlreadyUsed(data.clone()),
            Some((data, used)) => {
                *used = true;
                CodeTake::Fresh(data.clone())
            }
        })
    }

    fn set_family(&self, code_hash: &str, family_id: &str) -> Result<bool, StoreError> {
        let mut map = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        Ok(match map.get_mut(code_hash) {
            Some((data, _)) => {
                data.family_id = Some(family_id.to_owned());
                true
            }
            None => false,
        })
    }

    fn purge_expired(&self, now_ms: u64) -> Result<usize, StoreError> {
        let mut map = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        let before = map.len();
        // A replay after expiry finds nothing and is rejected as an unknown code.
        map.retain(|_, (d, _)| d.expires_at > now_ms);
        Ok(before - map.len())
    }
}

/// Longest authorization-code lifetime accepted, in milliseconds (RFC 6749 §4.1.2
/// recommends at most 10 minutes).
pub const MAX_CODE_TTL_MS: u64 = 600_000;

/// Authorization-server policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizationServerConfig {
    /// Code lifetime in milliseconds.
    pub code_ttl_ms: u64,
    /// Accept `code_challenge_method=plain` (off by default).
    pub allow_plain: bool,
}

impl AuthorizationServerConfig {
    /// The code lifetime given as a number by a binding (JS number, Python int): an
    /// integer from 1 to [`MAX_CODE_TTL_MS`].
    pub fn code_ttl_ms_setting(value: f64) -> Result<u64, OAuthError> {
        crate::limits::integer_between("code_ttl_ms", value, 1.0, MAX_CODE_TTL_MS as f64)
            .map(|v| v as u64)
            .map_err(|e| OAuthError::InvalidConfig(e.0))
    }

    /// The lifetime within `1..=MAX_CODE_TTL_MS`.
    pub fn check(&self) -> Result<(), OAuthError> {
        Self::code_ttl_ms_setting(self.code_ttl_ms as f64).map(drop)
    }
}

impl Default for AuthorizationServerConfig {
    fn default() -> Self {
        Self {
            code_ttl_ms: DEFAULT_CODE_TTL_MS,
            allow_plain: false,
        }
    }
}

/// A successful exchange: what the token endpoint needs to mint tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangedCode {
    /// User id.
    pub user_id: String,
    /// Domain id.
    pub domain_id: String,
    /// Granted scope.
    pub scope: String,
    /// Client id.
    pub client_id: String,
}

/// Outcome of taking a code that passed or was already used.
enum Redeemed {
    Granted(ExchangedCode),
    /// Already exchanged; the refresh family issued for it, if recorded.
    Replayed(Option<String>),
}

/// A token-issuing failure inside the grant: store failures keep their 503, anything else
/// (keys, signing) is a server error.
fn token_err(e: JwtError) -> OAuthError {
    match e {
        JwtError::Store(s) => OAuthError::Store(s),
        other => OAuthError::TokenIssue(other.to_string()),
    }
}

/// Token-endpoint parameters of an `authorization_code` grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeRequest<'a> {
    /// `code`.
    pub code: &'a str,
    /// Authenticated (or public) client id.
    pub client_id: &'a str,
    /// `redirect_uri`.
    pub redirect_uri: &'a str,
    /// `code_verifier`.
    pub code_verifier: &'a str,
}

/// Issues and redeems authorization codes over an [`OAuthStorage`].
#[derive(Debug)]
pub struct AuthorizationServer<S: OAuthStorage> {
    storage: S,
    config: AuthorizationServerConfig,
}

/// SHA-256 hex of an authorization code (its storage key).
pub fn hash_code(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

fn ct_str_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl<S: OAuthStorage> AuthorizationServer<S> {
    /// New server over `storage`.
    pub fn new(storage: S, config: AuthorizationServerConfig) -> Self {
        Self { storage, config }
    }

    /// [`Self::new`] with the configuration checked ([`AuthorizationServerConfig::check`]):
    /// what bindings use, since their settings come from users.
    pub fn try_new(storage: S, config: AuthorizationServerConfig) -> Result<Self, OAuthError> {
        config.check()?;
        Ok(Self::new(storage, config))
    }

    /// The underlying storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Create a code bound to the parameters; returns the code to send to the client.
    /// `now_ms` is unix milliseconds.
    pub fn create_code(
        &self,
        params: &CreateCodeParams,
        now_ms: u64,
    ) -> Result<String, OAuthError> {
        for (name, v) in [
            ("client_id", &params.client_id),
            ("user_id", &params.user_id),
            ("redirect_uri", &params.redirect_uri),
            ("code_challenge", &params.code_challenge),
        ] {
            if v.is_empty() {
                return Err(OAuthError::InvalidRequest(name));
            }
        }
        if params.code_challenge_method == CodeChallengeMethod::Plain && !self.config.allow_plain {
            return Err(OAuthError::PlainNotAllowed);
        }
        validate_code_challenge(&params.code_challenge, params.code_challenge_method)?;
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|_| OAuthError::Random)?;
        let code = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        self.storage.save(OAuthCodeData {
            code: hash_code(&code),
            client_id: params.client_id.clone(),
            user_id: params.user_id.clone(),
            domain_id: params.domain_id.clone(),
            redirect_uri: params.redirect_uri.clone(),
            code_challenge: params.code_challenge.clone(),
            code_challenge_method: params.code_challenge_method,
            scope: params.scope.clone(),
            expires_at: now_ms.saturating_add(self.config.code_ttl_ms),
            family_id: None,
        })?;
        Ok(code)
    }

    /// Redeem a code. The code is consumed by this call whatever the outcome, so a
    /// mismatched attempt burns it and a second attempt is [`OAuthError::CodeReused`].
    /// Checks, in order: known, unused, unexpired, client, redirect URI, PKCE.
    pub fn exchange_code(
        &self,
        req: &ExchangeRequest<'_>,
        now_ms: u64,
    ) -> Result<ExchangedCode, OAuthError> {
        match self.redeem(req, &hash_code(req.code), now_ms)? {
            Redeemed::Granted(x) => Ok(x),
            Redeemed::Replayed(_) => Err(OAuthError::CodeReused),
        }
    }

    /// The `authorization_code` grant end to end: redeem the code, issue a token pair for
    /// its user, domain and scope through `tokens`, and remember the pair's refresh family on
    /// the code record. A replayed code is rejected ([`OAuthError::CodeReused`]) **and** the
    /// family issued for it is revoked (RFC 6749 §4.1.2: a replay means the code leaked).
    /// A replay racing the first exchange before its family is recorded is still rejected,
    /// but has nothing to revoke yet.
    pub fn exchange_code_for_tokens<R: RefreshTokenStore>(
        &self,
        req: &ExchangeRequest<'_>,
        tokens: &TokenManager<R>,
        now_ms: u64,
    ) -> Result<TokenPair, OAuthError> {
        let code_hash = hash_code(req.code);
        let granted = match self.redeem(req, &code_hash, now_ms)? {
            Redeemed::Granted(x) => x,
            Redeemed::Replayed(family) => {
                if let Some(f) = family {
                    tokens.revoke_family(&f).map_err(token_err)?;
                }
                return Err(OAuthError::CodeReused);
            }
        };
        let claims = TokenClaims {
            user_id: granted.user_id,
            domain_id: granted.domain_id,
            scope: granted.scope,
        };
        let pair = tokens
            .create_token_pair(&claims, now_ms / 1000)
            .map_err(token_err)?;
        self.storage.set_family(&code_hash, &pair.family_id)?;
        Ok(pair)
    }

    /// Take the code (stored under `code_hash`, the [`hash_code`] of `req.code`) and run
    /// every check, in order: known, unused, unexpired, client, redirect URI, PKCE. A used
    /// code is reported with the family issued for it.
    fn redeem(
        &self,
        req: &ExchangeRequest<'_>,
        code_hash: &str,
        now_ms: u64,
    ) -> Result<Redeemed, OAuthError> {
        if req.code.is_empty() {
            return Err(OAuthError::InvalidRequest("code"));
        }
        let data = match self.storage.take(code_hash)? {
            CodeTake::NotFound => return Err(OAuthError::CodeNotFound),
            CodeTake::AlreadyUsed(d) => return Ok(Redeemed::Replayed(d.family_id)),
            CodeTake::Fresh(d) => d,
        };
        if now_ms >= data.expires_at {
            return Err(OAuthError::CodeExpired);
        }
        if !ct_str_eq(&data.client_id, req.client_id) {
            return Err(OAuthError::ClientMismatch);
        }
        if !ct_str_eq(&data.redirect_uri, req.redirect_uri) {
            return Err(OAuthError::RedirectUriMismatch);
        }
        if data.code_challenge_method == CodeChallengeMethod::Plain && !self.config.allow_plain {
            return Err(OAuthError::PlainNotAllowed);
        }
        verify_pkce(
            req.code_verifier,
            &data.code_challenge,
            data.code_challenge_method,
        )?;
        Ok(Redeemed::Granted(ExchangedCode {
            user_id: data.user_id,
            domain_id: data.domain_id,
            scope: data.scope,
            client_id: data.client_id,
        }))
    }

    /// [`Self::exchange_code`] reported as the Auth Server's `ExchangeCodeResult`.
    pub fn exchange_code_result(
        &self,
        req: &ExchangeRequest<'_>,
        now_ms: u64,
    ) -> ExchangeCodeResult {
        match self.exchange_code(req, now_ms) {
            Ok(x) => ExchangeCodeResult {
                success: true,
                user_id: Some(x.user_id),
                domain_id: Some(x.domain_id),
                scope: Some(x.scope),
                error: None,
                error_description: None,
            },
            Err(e) => ExchangeCodeResult {
                success: false,
                user_id: None,
                domain_id: None,
                scope: None,
                error: Some(e.oauth_error().to_string()),
                error_description: Some(e.to_string()),
            },
        }
    }
}

/// RFC 8414 authorization-server metadata (Auth Server `OAuthMetadata` + optional
/// endpoints). Field order is the serialisation order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthMetadata {
    /// Issuer identifier (https URL, no query or fragment).
    pub issuer: String,
    /// Authorization endpoint URL.
    pub authorization_endpoint: String,
    /// Token endpoint URL.
    pub token_endpoint: String,
    /// `["code"]`.
    pub response_types_supported: Vec<String>,
    /// `["authorization_code", "refresh_token"]`.
    pub grant_types_supported: Vec<String>,
    /// `["S256"]` (plus `plain` only when allowed).
    pub code_challenge_methods_supported: Vec<String>,
    /// e.g. `["none", "client_secret_post"]`.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Supported scopes.
    pub scopes_supported: Vec<String>,
    /// RFC 7009 revocation endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// RFC 7591 dynamic client registration endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
}

/// Validate an RFC 8414 issuer: `https://host[...]` without query or fragment. Plain
/// `http://localhost` / `http://127.0.0.1` is tolerated for development.
pub fn validate_issuer(issuer: &str) -> Result<(), OAuthError> {
    let url = url::Url::parse(issuer).map_err(|_| OAuthError::InvalidIssuer)?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && local);
    if !scheme_ok
        || url.query().is_some()
        || url.fragment().is_some()
        || url.host_str().is_none()
        || issuer.contains('#')
        || issuer.contains('?')
    {
        return Err(OAuthError::InvalidIssuer);
    }
    Ok(())
}

impl OAuthMetadata {
    /// The Auth Server's document for `issuer`: endpoints `/oauth/authorize`,
    /// `/oauth/token`, `/oauth/revoke` under the issuer, `code` responses, the
    /// authorization-code and refresh-token grants, S256 only (plus `plain` if
    /// `allow_plain`), public (`none`) and `client_secret_post` clients.
    pub fn for_issuer(
        issuer: &str,
        scopes: &[&str],
        allow_plain: bool,
    ) -> Result<Self, OAuthError> {
        validate_issuer(issuer)?;
        let base = issuer.trim_end_matches('/');
        let mut methods = vec!["S256".to_string()];
        if allow_plain {
            methods.push("plain".into());
        }
        Ok(Self {
            issuer: issuer.to_string(),
            authorization_endpoint: format!("{base}/oauth/authorize"),
            token_endpoint: format!("{base}/oauth/token"),
            response_types_supported: vec!["code".into()],
            grant_types_supported: vec!["authorization_code".into(), "refresh_token".into()],
            code_challenge_methods_supported: methods,
            token_endpoint_auth_methods_supported: vec!["none".into(), "client_secret_post".into()],
            scopes_supported: scopes.iter().map(|s| s.to_string()).collect(),
            revocation_endpoint: Some(format!("{base}/oauth/revoke")),
            registration_endpoint: None,
        })
    }

    /// Compact JSON (what `/.well-known/oauth-authorization-server` serves).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("metadata serialises")
    }
}

/// A new PKCE code verifier: 32 CSPRNG bytes, base64url without padding (43 characters,
/// RFC 7636 §4.1's recommendation).
pub fn generate_code_verifier() -> Result<String, OAuthError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|_| OAuthError::Random)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}
