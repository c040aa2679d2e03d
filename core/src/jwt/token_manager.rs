//! The Auth Server `TokenManager`: access, refresh and 2FA-pending tokens, refresh-token
//! rotation and reuse detection over a [`RefreshTokenStore`].

use super::{
    Jwks, JwtError, KeySet, MAX_TOKEN_TTL_SECONDS, TokenUse, Validation, b64url, check_leeway,
    sign, validate_claims, verify, verify_signature,
};
use crate::store::StoreError;
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

fn random_id() -> Result<String, JwtError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| JwtError::Random)?;
    Ok(b64url(&b))
}

/// SHA-256 hex of a token (what refresh-token records store).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Auth Server `TokenClaims` (claims of access tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenClaims {
    /// User id.
    pub user_id: String,
    /// Domain (tenant) id.
    pub domain_id: String,
    /// Space-separated scopes.
    pub scope: String,
}

/// Auth Server `RefreshTokenClaims`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshTokenClaims {
    /// User id.
    pub user_id: String,
    /// Domain id.
    pub domain_id: String,
}

/// Auth Server `RefreshTokenVerificationResult`. `error` carries a [`JwtError::code`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshTokenVerificationResult {
    /// Whether the token is currently usable.
    pub valid: bool,
    /// User id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Domain id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    /// Scope carried for re-issuing access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Error code when invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Wire claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenPayload {
    /// User id.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// Domain id.
    #[serde(rename = "domainId")]
    pub domain_id: String,
    /// Scope.
    pub scope: String,
    /// Subject (= user id).
    pub sub: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Issued at.
    pub iat: u64,
    /// Expiry.
    pub exp: u64,
    /// Token id.
    pub jti: String,
    /// Always `access`.
    pub token_use: String,
}

impl AccessTokenPayload {
    /// The Auth Server `TokenClaims` part.
    pub fn token_claims(&self) -> TokenClaims {
        TokenClaims {
            user_id: self.user_id.clone(),
            domain_id: self.domain_id.clone(),
            scope: self.scope.clone(),
        }
    }
}

/// Wire claims of a refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTokenPayload {
    /// User id.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// Domain id.
    #[serde(rename = "domainId")]
    pub domain_id: String,
    /// Scope to re-issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Subject.
    pub sub: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Issued at.
    pub iat: u64,
    /// Expiry.
    pub exp: u64,
    /// Token id (store key).
    pub jti: String,
    /// Family id.
    pub fam: String,
    /// Always `refresh`.
    pub token_use: String,
}

/// Wire claims of a 2FA-pending token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaPendingPayload {
    /// User id.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// Domain id.
    #[serde(rename = "domainId")]
    pub domain_id: String,
    /// Subject.
    pub sub: String,
    /// Issuer.
    pub iss: String,
    /// Issued at.
    pub iat: u64,
    /// Expiry.
    pub exp: u64,
    /// Token id.
    pub jti: String,
    /// Always `mfa_pending`.
    pub token_use: String,
}

/// State of a stored refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshTokenState {
    /// Usable once.
    Active,
    /// Already exchanged for a successor.
    Rotated,
    /// Revoked (logout or reuse).
    Revoked,
}

/// Stored refresh token: the token itself is never stored, only its SHA-256 hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// Token id.
    pub jti: String,
    /// Family id (all rotations of one login).
    pub family_id: String,
    /// User id.
    pub user_id: String,
    /// SHA-256 hex of the token.
    pub token_hash: String,
    /// Expiry (unix seconds).
    pub expires_at: u64,
    /// State.
    pub state: RefreshTokenState,
}

/// Storage of refresh-token records. `mark_rotated` must be atomic (compare-and-set
/// Active → Rotated): it returns the state the record had before the call. Every call can
/// fail with a [`StoreError`] (a networked store); the in-memory store never fails.
pub trait RefreshTokenStore: Send + Sync {
    /// Save a new record.
    fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError>;
    /// Record by jti.
    fn get(&self, jti: &str) -> Result<Option<RefreshTokenRecord>, StoreError>;
    /// Atomically set Active → Rotated; returns the previous state (`None` if unknown).
    fn mark_rotated(&self, jti: &str) -> Result<Option<RefreshTokenState>, StoreError>;
    /// Revoke every record of a family; returns how many changed.
    fn revoke_family(&self, family_id: &str) -> Result<usize, StoreError>;
    /// Revoke every record of a user; returns how many changed.
    fn revoke_user(&self, user_id: &str) -> Result<usize, StoreError>;
}

impl<T: RefreshTokenStore + ?Sized> RefreshTokenStore for Box<T> {
    fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        (**self).insert(record)
    }
    fn get(&self, jti: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
        (**self).get(jti)
    }
    fn mark_rotated(&self, jti: &str) -> Result<Option<RefreshTokenState>, StoreError> {
        (**self).mark_rotated(jti)
    }
    fn revoke_family(&self, family_id: &str) -> Result<usize, StoreError> {
        (**self).revoke_family(family_id)
    }
    fn revoke_user(&self, user_id: &str) -> Result<usize, StoreError> {
        (**self).revoke_user(user_id)
    }
}

/// In-memory [`RefreshTokenStore`].
#[derive(Debug, Default)]
pub struct InMemoryRefreshTokenStore {
    records: Mutex<HashMap<String, RefreshTokenRecord>>,
}

impl InMemoryRefreshTokenStore {
    /// Empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Snapshot of every record.
    pub fn records(&self) -> Vec<RefreshTokenRecord> {
        self.lock().values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RefreshTokenRecord>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RefreshTokenStore for InMemoryRefreshTokenStore {
    fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        self.lock().insert(record.jti.clone(), record);
        Ok(())
    }

    fn get(&self, jti: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
        Ok(self.lock().get(jti).cloned())
    }

    fn mark_rotated(&self, jti: &str) -> Result<Option<RefreshTokenState>, StoreError> {
        let mut map = self.lock();
        let Some(rec) = map.get_mut(jti) else {
            return Ok(None);
        };
        let prev = rec.state;
        if prev == RefreshTokenState::Active {
            rec.state = RefreshTokenState::Rotated;
        }
        Ok(Some(prev))
    }

    fn revoke_family(&self, family_id: &str) -> Result<usize, StoreError> {
        Ok(self.revoke_where(|r| r.family_id == family_id))
    }

    fn revoke_user(&self, user_id: &str) -> Result<usize, StoreError> {
        Ok(self.revoke_where(|r| r.user_id == user_id))
    }
}

impl InMemoryRefreshTokenStore {
    fn revoke_where(&self, pick: impl Fn(&RefreshTokenRecord) -> bool) -> usize {
        let mut n = 0;
        for r in self
            .lock()
            .values_mut()
            .filter(|r| pick(r) && r.state != RefreshTokenState::Revoked)
        {
            r.state = RefreshTokenState::Revoked;
            n += 1;
        }
        n
    }
}

/// TokenManager settings (Auth Server defaults: access 900 s, refresh 30 days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenManagerConfig {
    /// `iss` of every token, checked on verification.
    pub issuer: String,
    /// `aud` of access and refresh tokens, checked when set.
    pub audience: Option<String>,
    /// Access-token lifetime in seconds.
    pub access_ttl: u64,
    /// Refresh-token lifetime in seconds.
    pub refresh_ttl: u64,
    /// 2FA-pending token lifetime in seconds.
    pub mfa_pending_ttl: u64,
    /// Clock tolerance in seconds.
    pub leeway: u64,
}

impl TokenManagerConfig {
    /// Lifetimes from 1 s to [`MAX_TOKEN_TTL_SECONDS`], leeway at most
    /// [`MAX_LEEWAY_SECONDS`].
    pub fn check(&self) -> Result<(), JwtError> {
        for (name, ttl) in [
            ("access_ttl", self.access_ttl),
            ("refresh_ttl", self.refresh_ttl),
            ("mfa_pending_ttl", self.mfa_pending_ttl),
        ] {
            if !(1..=MAX_TOKEN_TTL_SECONDS).contains(&ttl) {
                return Err(JwtError::InvalidConfig(format!(
                    "{name} must be an integer between 1 and {MAX_TOKEN_TTL_SECONDS}"
                )));
            }
        }
        check_leeway(self.leeway)
    }

    /// Defaults for `issuer`.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: None,
            access_ttl: 900,
            refresh_ttl: 2_592_000,
            mfa_pending_ttl: 300,
            leeway: 0,
        }
    }
}

/// An access/refresh pair.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    /// Access token.
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
    /// Refresh-token family (stable across rotations).
    pub family_id: String,
}

crate::redacted_debug!(TokenPair { expires_in, family_id } secret { access_token, refresh_token });

/// Issues and verifies the Auth Server's access, refresh and 2FA-pending tokens.
#[derive(Debug)]
pub struct TokenManager<S: RefreshTokenStore = InMemoryRefreshTokenStore> {
    keys: KeySet,
    refresh_keys: Option<KeySet>,
    config: TokenManagerConfig,
    store: S,
}

impl<S: RefreshTokenStore> TokenManager<S> {
    /// New manager; `keys` must have a signing key.
    pub fn new(keys: KeySet, config: TokenManagerConfig, store: S) -> Result<Self, JwtError> {
        config.check()?;
        if keys.signing_key().is_none() {
            return Err(JwtError::KeyConfig(
                "TokenManager needs a signing key".into(),
            ));
        }
        Ok(Self {
            keys,
            refresh_keys: None,
            config,
            store,
        })
    }

    /// Sign refresh tokens with a separate key set (node-auth style separate secrets).
    pub fn with_refresh_keys(mut self, keys: KeySet) -> Result<Self, JwtError> {
        if keys.signing_key().is_none() {
            return Err(JwtError::KeyConfig(
                "refresh key set needs a signing key".into(),
            ));
        }
        self.refresh_keys = Some(keys);
        Ok(self)
    }

    /// The refresh-token store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Configuration.
    pub fn config(&self) -> &TokenManagerConfig {
        &self.config
    }

    /// Public keys of access and refresh key sets.
    pub fn jwks(&self) -> Jwks {
        let mut j = self.keys.jwks();
        if let Some(r) = &self.refresh_keys {
            for k in r.jwks().keys {
                if !j.keys.contains(&k) {
                    j.keys.push(k);
                }
            }
        }
        j
    }

    fn refresh_keyset(&self) -> &KeySet {
        self.refresh_keys.as_ref().unwrap_or(&self.keys)
    }

    fn validation(&self, token_use: TokenUse, with_aud: bool) -> Validation {
        Validation {
            leeway: self.config.leeway,
            issuer: Some(vec![self.config.issuer.clone()]),
            audience: if with_aud {
                self.config.audience.clone().map(|a| vec![a])
            } else {
                None
            },
            subject: None,
            token_use: Some(token_use),
            required_claims: vec!["exp".into(), "iat".into(), "sub".into(), "jti".into()],
        }
    }

    /// Issue an access token for `claims` at `now`.
    pub fn create_access_token(&self, claims: &TokenClaims, now: u64) -> Result<String, JwtError> {
        let payload = AccessTokenPayload {
            user_id: claims.user_id.clone(),
            domain_id: claims.domain_id.clone(),
            scope: claims.scope.clone(),
            sub: claims.user_id.clone(),
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            iat: now,
            exp: now + self.config.access_ttl,
            jti: random_id()?,
            token_use: TokenUse::Access.as_str().into(),
        };
        sign(&self.keys, &payload)
    }

    /// Verify an access token (refresh and 2FA-pending tokens are rejected with
    /// `JWT_WRONG_TOKEN_USE`).
    pub fn verify_access_token(
        &self,
        token: &str,
        now: u64,
    ) -> Result<AccessTokenPayload, JwtError> {
        Ok(verify::<AccessTokenPayload>(
            &self.keys,
            token,
            &self.validation(TokenUse::Access, true),
            now,
        )?
        .claims)
    }

    fn issue_refresh(
        &self,
        claims: &RefreshTokenClaims,
        scope: Option<&str>,
        family: &str,
        now: u64,
    ) -> Result<String, JwtError> {
        let payload = RefreshTokenPayload {
            user_id: claims.user_id.clone(),
            domain_id: claims.domain_id.clone(),
            scope: scope.map(str::to_string),
            sub: claims.user_id.clone(),
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            iat: now,
            exp: now + self.config.refresh_ttl,
            jti: random_id()?,
            fam: family.to_string(),
            token_use: TokenUse::Refresh.as_str().into(),
        };
        let token = sign(self.refresh_keyset(), &payload)?;
        self.store.insert(RefreshTokenRecord {
            jti: payload.jti,
            family_id: family.to_string(),
            user_id: claims.user_id.clone(),
            token_hash: token_hash(&token),
            expires_at: payload.exp,
            state: RefreshTokenState::Active,
        })?;
        Ok(token)
    }

    /// Issue a refresh token that starts a new family (a new login).
    pub fn create_refresh_token(
        &self,
        claims: &RefreshTokenClaims,
        scope: Option<&str>,
        now: u64,
    ) -> Result<String, JwtError> {
        self.issue_refresh(claims, scope, &random_id()?, now)
    }

    /// Issue an access token and a refresh token starting a new family.
    pub fn create_token_pair(&self, claims: &TokenClaims, now: u64) -> Result<TokenPair, JwtError> {
        let family_id = random_id()?;
        let refresh_claims = RefreshTokenClaims {
            user_id: claims.user_id.clone(),
            domain_id: claims.domain_id.clone(),
        };
        Ok(TokenPair {
            access_token: self.create_access_token(claims, now)?,
            refresh_token: self.issue_refresh(
                &refresh_claims,
                Some(&claims.scope),
                &family_id,
                now,
            )?,
            expires_in: self.config.access_ttl,
            family_id,
        })
    }

    /// Verify a refresh token's signature, use and claims, and that its stored record
    /// matches (constant-time hash comparison). Does not consume it.
    fn check_refresh(
        &self,
        token: &str,
        now: u64,
    ) -> Result<(RefreshTokenPayload, RefreshTokenRecord), JwtError> {
        let payload = verify::<RefreshTokenPayload>(
            self.refresh_keyset(),
            token,
            &self.validation(TokenUse::Refresh, true),
            now,
        )?
        .claims;
        let record = self
            .store
            .get(&payload.jti)?
            .ok_or(JwtError::RefreshTokenUnknown)?;
        let same: bool = record
            .token_hash
            .as_bytes()
            .ct_eq(token_hash(token).as_bytes())
            .into();
        if !same || record.family_id != payload.fam {
            return Err(JwtError::RefreshTokenUnknown);
        }
        Ok((payload, record))
    }

    /// Auth Server-style read-only check of a refresh token.
    pub fn verify_refresh_token(&self, token: &str, now: u64) -> RefreshTokenVerificationResult {
        let invalid = |e: JwtError| RefreshTokenVerificationResult {
            valid: false,
            user_id: None,
            domain_id: None,
            scope: None,
            error: Some(e.code().to_string()),
        };
        match self.check_refresh(token, now) {
            Err(e) => invalid(e),
            Ok((_, rec)) if rec.state == RefreshTokenState::Revoked => {
                invalid(JwtError::RefreshTokenRevoked)
            }
            Ok((_, rec)) if rec.state == RefreshTokenState::Rotated => {
                invalid(JwtError::RefreshTokenReused)
            }
            Ok((p, _)) => RefreshTokenVerificationResult {
                valid: true,
                user_id: Some(p.user_id),
                domain_id: Some(p.domain_id),
                scope: p.scope,
                error: None,
            },
        }
    }

    /// Rotate: consume `refresh_token` and issue a new pair in the same family. A token
    /// presented after it was rotated revokes its whole family (`REFRESH_TOKEN_REUSED`).
    pub fn refresh(&self, refresh_token: &str, now: u64) -> Result<TokenPair, JwtError> {
        let (payload, _) = self.check_refresh(refresh_token, now)?;
        match self.store.mark_rotated(&payload.jti)? {
            None => return Err(JwtError::RefreshTokenUnknown),
            Some(RefreshTokenState::Revoked) => return Err(JwtError::RefreshTokenRevoked),
            Some(RefreshTokenState::Rotated) => {
                crate::metrics::token_reuse_detected(&payload.user_id);
                self.store.revoke_family(&payload.fam)?;
                return Err(JwtError::RefreshTokenReused);
            }
            Some(RefreshTokenState::Active) => {}
        }
        let claims = TokenClaims {
            user_id: payload.user_id.clone(),
            domain_id: payload.domain_id.clone(),
            scope: payload.scope.clone().unwrap_or_default(),
        };
        crate::metrics::token_refreshed(&payload.user_id);
        let refresh_claims = RefreshTokenClaims {
            user_id: payload.user_id,
            domain_id: payload.domain_id,
        };
        Ok(TokenPair {
            access_token: self.create_access_token(&claims, now)?,
            refresh_token: self.issue_refresh(
                &refresh_claims,
                payload.scope.as_deref(),
                &payload.fam,
                now,
            )?,
            expires_in: self.config.access_ttl,
            family_id: payload.fam,
        })
    }

    /// Logout: revoke the family of a (signature-valid) refresh token. Expired tokens are
    /// accepted here so a stale client can still log out.
    pub fn revoke_refresh_token(&self, token: &str) -> Result<usize, JwtError> {
        let (_, claims) = verify_signature(self.refresh_keyset(), token)?;
        let mut v = self.validation(TokenUse::Refresh, true);
        v.required_claims = vec!["fam".into()];
        validate_claims(&claims, &v, 0)?;
        let fam = claims
            .get("fam")
            .and_then(Value::as_str)
            .ok_or_else(|| JwtError::MissingClaim("fam".into()))?;
        Ok(self.store.revoke_family(fam)?)
    }

    /// Revoke every refresh token of a family (e.g. the one issued for a replayed
    /// authorization code); returns how many records changed.
    pub fn revoke_family(&self, family_id: &str) -> Result<usize, JwtError> {
        Ok(self.store.revoke_family(family_id)?)
    }

    /// Revoke every refresh token of a user (password change, "log out everywhere").
    pub fn revoke_user(&self, user_id: &str) -> Result<usize, JwtError> {
        Ok(self.store.revoke_user(user_id)?)
    }

    /// Issue a 2FA-pending token (node-auth's `tempToken`), valid only for
    /// [`Self::verify_mfa_pending_token`].
    pub fn create_mfa_pending_token(
        &self,
        user_id: &str,
        domain_id: &str,
        now: u64,
    ) -> Result<String, JwtError> {
        let payload = MfaPendingPayload {
            user_id: user_id.into(),
            domain_id: domain_id.into(),
            sub: user_id.into(),
            iss: self.config.issuer.clone(),
            iat: now,
            exp: now + self.config.mfa_pending_ttl,
            jti: random_id()?,
            token_use: TokenUse::MfaPending.as_str().into(),
        };
        sign(&self.keys, &payload)
    }

    /// Verify a 2FA-pending token.
    pub fn verify_mfa_pending_token(
        &self,
        token: &str,
        now: u64,
    ) -> Result<MfaPendingPayload, JwtError> {
        Ok(verify::<MfaPendingPayload>(
            &self.keys,
            token,
            &self.validation(TokenUse::MfaPending, false),
            now,
        )?
        .claims)
    }
}

/// Constant-time check of a presented refresh token against what the user record holds:
/// the SHA-256 hex of the token ([`token_hash`], what should be stored) or, for records
/// written by node-auth, the token itself. Both sides are hashed before comparing, so
/// neither the content nor the length of a plaintext record leaks through timing
/// (node-auth compared the plaintext with `!==`).
pub fn refresh_token_matches(presented: &str, stored: &str) -> bool {
    if presented.is_empty() || stored.is_empty() {
        return false;
    }
    let presented_hash = token_hash(presented);
    let is_hash = stored.len() == 64
        && stored
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let stored_hash = if is_hash {
        stored.to_string()
    } else {
        token_hash(stored)
    };
    presented_hash
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}
