//! JWT verification with a JWKS (RS256, ES256, EdDSA): the keys an app trusts, from the
//! identity provider's JWKS document or a pinned public key, and the core's checks
//! (structure, `alg` against the key, signature, then the claims). Calls `authcore::jwt`.

use std::collections::BTreeMap;

use authcore::jwt::{self, JwtError, JwtKey, KeySet, TokenUse, Validation};
use serde_json::{Map, Value};

use crate::AuthcoreError;

/// An asymmetric JWS algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum JwtAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (keys of at least 2048 bits).
    Rs256,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

/// The `token_use` claim a token must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum JwtTokenUse {
    /// `access`.
    Access,
    /// `refresh`.
    Refresh,
    /// `mfa_pending`.
    MfaPending,
}

/// The claim checks of [`JwksVerifier::verify`]. Empty lists check nothing.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct JwtValidation {
    /// Unix time in seconds to check `exp`/`nbf` against; the system clock when absent.
    #[uniffi(default = None)]
    pub now: Option<u64>,
    /// Seconds of tolerance for `exp` and `nbf`.
    #[uniffi(default = 0)]
    pub leeway: u64,
    /// Accepted issuers (`iss` must be one of them).
    #[uniffi(default)]
    pub issuers: Vec<String>,
    /// Accepted audiences (one `aud` value must be one of them).
    #[uniffi(default)]
    pub audiences: Vec<String>,
    /// Required `sub`.
    #[uniffi(default = None)]
    pub subject: Option<String>,
    /// Required `token_use`.
    #[uniffi(default = None)]
    pub token_use: Option<JwtTokenUse>,
    /// Claims that must be present (`exp`, `sub`, …).
    #[uniffi(default)]
    pub required_claims: Vec<String>,
}

/// A verified token.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedJwt {
    /// The claims as a JSON object (keys sorted).
    pub claims_json: String,
    /// The header's `alg`.
    pub algorithm: String,
    /// The header's `kid`.
    pub kid: Option<String>,
}

/// The keys a client trusts for verifying tokens. Immutable; share it across threads.
#[derive(Debug, uniffi::Object)]
pub struct JwksVerifier {
    keys: KeySet,
}

#[uniffi::export]
impl JwksVerifier {
    /// The keys of a JWKS document (`{"keys": [...]}`, as served at an identity
    /// provider's `jwks_uri`). Keys of unsupported types are skipped, symmetric keys are
    /// never accepted; a document without a `keys` array is `JWT_INVALID_KEY`.
    #[uniffi::constructor]
    pub fn from_jwks(jwks_json: String) -> Result<Self, AuthcoreError> {
        Ok(Self {
            keys: KeySet::from_jwks_json(&jwks_json)?,
        })
    }

    /// One pinned public key (SPKI PEM, or PKCS#1 for RSA), optionally under a `kid`.
    /// A key that does not parse or is too weak (RSA under 2048 bits) is
    /// `JWT_INVALID_KEY`.
    #[uniffi::constructor(default(kid = None))]
    pub fn from_public_pem(
        algorithm: JwtAlgorithm,
        pem: String,
        kid: Option<String>,
    ) -> Result<Self, AuthcoreError> {
        let alg = match algorithm {
            JwtAlgorithm::Rs256 => jwt::Algorithm::RS256,
            JwtAlgorithm::Es256 => jwt::Algorithm::ES256,
            JwtAlgorithm::EdDsa => jwt::Algorithm::EdDSA,
        };
        let key = JwtKey::from_pem(pem.as_bytes(), Some(alg), Some(jwt::PemKind::Public))?;
        let key = match kid {
            Some(k) => key.with_kid(k),
            None => key,
        };
        Ok(Self {
            keys: KeySet::single(key),
        })
    }

    /// Verify a token: its structure, its `alg` against the key its `kid` selects (a
    /// `kid` naming no key falls back to the key without `kid`), the signature, then the
    /// claims (`exp`, `nbf`, and what `validation` asks for). Every rejection is a
    /// [`AuthcoreError::Jwt`] with status 401.
    #[uniffi::method(default(validation = None))]
    pub fn verify(
        &self,
        token: String,
        validation: Option<JwtValidation>,
    ) -> Result<VerifiedJwt, AuthcoreError> {
        let v = validation.unwrap_or_default();
        let list = |l: Vec<String>| (!l.is_empty()).then_some(l);
        let rules = Validation {
            leeway: v.leeway,
            issuer: list(v.issuers),
            audience: list(v.audiences),
            subject: v.subject,
            token_use: v.token_use.map(|u| match u {
                JwtTokenUse::Access => TokenUse::Access,
                JwtTokenUse::Refresh => TokenUse::Refresh,
                JwtTokenUse::MfaPending => TokenUse::MfaPending,
            }),
            required_claims: v.required_claims,
        };
        let now = v.now.unwrap_or_else(jwt::unix_now);
        let verified = jwt::verify::<Map<String, Value>>(&self.keys, &token, &rules, now)?;
        let sorted: BTreeMap<&String, &Value> = verified.claims.iter().collect();
        let claims_json =
            serde_json::to_string(&sorted).map_err(|e| JwtError::InvalidClaim(e.to_string()))?;
        Ok(VerifiedJwt {
            claims_json,
            algorithm: verified.header.alg.as_str().to_owned(),
            kid: verified.header.kid,
        })
    }

    /// The public keys as a JWKS document (node-auth's `JwksService` shape).
    pub fn jwks_json(&self) -> String {
        self.keys.jwks().to_json()
    }

    /// Number of keys.
    pub fn key_count(&self) -> u64 {
        self.keys.len() as u64
    }
}
