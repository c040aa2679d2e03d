//! JSON Web Tokens through the `jsonwebtoken` crate (RustCrypto backend): keys, key sets
//! with JWKS output, signing and verification with node-jsonwebtoken semantics, and the
//! Auth Server `TokenManager` with refresh-token rotation and reuse detection.
//!
//! # Keys
//!
//! A [`JwtKey`] is parsed **once** (PEM or JWK → DER/components) and kept in a [`KeySet`]
//! indexed by `kid`; verification never re-parses a PEM or converts a JWK again (node-auth
//! re-converted the JWK to PEM on every request). Each key has one signing algorithm and a
//! set of accepted verification algorithms of the same family (HMAC secrets built with
//! [`JwtKey::hmac_node_compat`] accept HS256/384/512 like node's `jwt.verify(token, secret)`).
//! Supported: HS256, HS384, HS512, RS256 (>= 2048-bit moduli), ES256, EdDSA (Ed25519).
//!
//! # Verification ([`verify`])
//!
//! 1. Three base64url parts, at most [`MAX_TOKEN_LEN`] bytes, else `JWT_MALFORMED`.
//! 2. Header `alg`: `none` (any case) is `JWT_ALG_NONE`; anything outside the list above
//!    is `JWT_UNSUPPORTED_ALGORITHM`; a `crit` header is refused.
//! 3. Key by `kid`; a token without `kid`, or whose `kid` names no key, uses the key
//!    registered without one (node ignores `kid` when given a secret); else
//!    `JWT_UNKNOWN_KID`.
//! 4. The header `alg` must be one the key accepts, else `JWT_ALGORITHM_MISMATCH`. This is
//!    what stops algorithm confusion: an HS256 token "signed" with an RSA public key's PEM
//!    bytes meets an RSA key that accepts only RS256.
//! 5. Signature (`jsonwebtoken::crypto::verify`, constant-time for HMAC), else
//!    `JWT_INVALID_SIGNATURE`.
//! 6. Claims: first the `token_use` claim when an expected use is set
//!    (`JWT_WRONG_TOKEN_USE`), then, with node-jsonwebtoken semantics and an explicit
//!    clock `now` (unix seconds): `nbf > now + leeway` → `JWT_NOT_YET_VALID`;
//!    `now >= exp + leeway` → `JWT_EXPIRED` (default leeway 0, like node-auth);
//!    non-numeric `exp`/`nbf` → `JWT_INVALID_CLAIM`;
//!    audience (string or array, any match) and issuer when configured; subject; required
//!    claims (`JWT_MISSING_CLAIM`).
//!
//! # Token use
//!
//! Tokens minted by [`TokenManager`] carry a `token_use` claim: `access`, `refresh` or
//! `mfa_pending`. Each verifier demands its own value, so a refresh token is never accepted
//! as an access token (or the reverse) even when both are signed with the same key, and a
//! 2FA-pending token is never an access token (node-auth §6 items 1 and 22).
//!
//! # Refresh rotation
//!
//! Every refresh token has a `jti` and a family id `fam`. The store keeps one record per
//! `jti` holding only the SHA-256 hex of the token, compared in constant time. Refreshing
//! marks the presented token rotated and issues a successor in the same family. Presenting
//! a rotated token again is reuse: the whole family is revoked and `REFRESH_TOKEN_REUSED`
//! returned; the legitimate holder's newer token then fails with `REFRESH_TOKEN_REVOKED`.
//!
//! # Modules
//!
//! [`keys`] (keys, key sets, JWKS), [`signing`], [`verification`], the two claim flavours
//! ([`node_claims`]: node-jsonwebtoken, [`pyjwt_claims`]: PyJWT), [`token_manager`]
//! (`TokenManager` and refresh-token stores), [`rsa_tools`] (RSA key material) and
//! [`dangerous`] (unverified decoding). Everything is re-exported here, so `jwt::X` paths
//! name every public item.

pub mod dangerous;
pub mod keys;
pub mod node_claims;
pub mod pyjwt_claims;
pub mod rsa_tools;
pub mod signing;
pub mod token_manager;
pub mod verification;

pub use dangerous::*;
pub use keys::*;
pub use node_claims::*;
pub use pyjwt_claims::*;
pub use rsa_tools::*;
pub use signing::*;
pub use token_manager::*;
pub use verification::*;

use base64::Engine as _;

use crate::store::StoreError;

/// Longest token accepted for verification, in bytes.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Claim carrying the token use.
pub const TOKEN_USE_CLAIM: &str = "token_use";

/// Longest token lifetime a [`TokenManager`] accepts, in seconds (365 days).
pub const MAX_TOKEN_TTL_SECONDS: u64 = 31_536_000;

/// Largest clock tolerance accepted, in seconds (1 day): a larger one keeps expired tokens
/// alive.
pub const MAX_LEEWAY_SECONDS: u64 = 86_400;

/// Smallest RSA modulus accepted, in bytes (2048 bits, as node-jsonwebtoken 9 requires).
pub const MIN_RSA_MODULUS_BYTES: usize = 256;

/// Errors of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not three base64url parts of JSON, too long, or a header/payload that is not a
    /// JSON object.
    #[error("jwt malformed")]
    Malformed,
    /// `alg: none`.
    #[error("unsecured JWT (alg none) rejected")]
    AlgNone,
    /// Header `alg` outside the supported list.
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// Header `alg` not accepted by the selected key (algorithm confusion).
    #[error("algorithm {0} not allowed for this key")]
    AlgorithmMismatch(String),
    /// A `crit` header parameter we do not understand.
    #[error("unsupported critical header")]
    UnsupportedCritical,
    /// No key for the token's `kid`.
    #[error("no key for kid {0:?}")]
    UnknownKid(Option<String>),
    /// Signature check failed.
    #[error("invalid signature")]
    InvalidSignature,
    /// `exp` passed.
    #[error("jwt expired")]
    Expired,
    /// `nbf` in the future.
    #[error("jwt not active")]
    NotYetValid,
    /// `iss` does not match.
    #[error("jwt issuer invalid")]
    InvalidIssuer,
    /// `aud` does not match.
    #[error("jwt audience invalid")]
    InvalidAudience,
    /// `sub` does not match.
    #[error("jwt subject invalid")]
    InvalidSubject,
    /// A required claim is absent.
    #[error("missing required claim {0}")]
    MissingClaim(String),
    /// A claim has the wrong type, or the claims do not fit the expected shape.
    #[error("invalid claim {0}")]
    InvalidClaim(String),
    /// `token_use` differs from the expected use.
    #[error("wrong token use: expected {expected}, found {found:?}")]
    WrongTokenUse {
        /// Expected use.
        expected: &'static str,
        /// Use found in the token.
        found: Option<String>,
    },
    /// A key could not be parsed or is unsuitable (e.g. RSA < 2048 bits).
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// Key-set configuration problem (duplicate kid, no signing key, ...).
    #[error("key configuration: {0}")]
    KeyConfig(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// A refresh token was presented again after rotation; its family is now revoked.
    #[error("refresh token reused; token family revoked")]
    RefreshTokenReused,
    /// The refresh token's family was revoked (logout or reuse).
    #[error("refresh token revoked")]
    RefreshTokenRevoked,
    /// Valid signature but no record in the refresh-token store (or a hash mismatch).
    #[error("unknown refresh token")]
    RefreshTokenUnknown,
    /// The OS random number generator failed.
    #[error("random number generator failure")]
    Random,
    /// The refresh-token store failed (e.g. Redis unreachable).
    #[error("refresh-token store unavailable: {0}")]
    Store(StoreError),
    /// A numeric setting out of range (a token lifetime, a leeway, a clock that is not a
    /// finite number): settings fail closed instead of accepting tokens forever.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}

impl From<StoreError> for JwtError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl JwtError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "JWT_MALFORMED",
            Self::AlgNone => "JWT_ALG_NONE",
            Self::UnsupportedAlgorithm(_) => "JWT_UNSUPPORTED_ALGORITHM",
            Self::AlgorithmMismatch(_) => "JWT_ALGORITHM_MISMATCH",
            Self::UnsupportedCritical => "JWT_UNSUPPORTED_CRITICAL_HEADER",
            Self::UnknownKid(_) => "JWT_UNKNOWN_KID",
            Self::InvalidSignature => "JWT_INVALID_SIGNATURE",
            Self::Expired => "JWT_EXPIRED",
            Self::NotYetValid => "JWT_NOT_YET_VALID",
            Self::InvalidIssuer => "JWT_INVALID_ISSUER",
            Self::InvalidAudience => "JWT_INVALID_AUDIENCE",
            Self::InvalidSubject => "JWT_INVALID_SUBJECT",
            Self::MissingClaim(_) => "JWT_MISSING_CLAIM",
            Self::InvalidClaim(_) => "JWT_INVALID_CLAIM",
            Self::WrongTokenUse { .. } => "JWT_WRONG_TOKEN_USE",
            Self::InvalidKey(_) => "JWT_INVALID_KEY",
            Self::KeyConfig(_) => "JWT_KEY_CONFIG",
            Self::Signing(_) => "JWT_SIGNING_FAILED",
            Self::RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            Self::RefreshTokenRevoked => "REFRESH_TOKEN_REVOKED",
            Self::RefreshTokenUnknown => "REFRESH_TOKEN_UNKNOWN",
            Self::Random => "JWT_RANDOM_FAILURE",
            Self::Store(_) => "JWT_STORE_UNAVAILABLE",
            Self::InvalidConfig(_) => "JWT_INVALID_CONFIG",
        }
    }

    /// HTTP status: 401 for every rejected token, 500 for key/config/signing faults.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidKey(_)
            | Self::KeyConfig(_)
            | Self::Signing(_)
            | Self::Random
            | Self::InvalidConfig(_) => 500,
            Self::Store(_) => 503,
            _ => 401,
        }
    }

    /// True when the error is about the presented token (not about our configuration).
    pub fn is_token_rejection(&self) -> bool {
        self.status() == 401
    }

    /// node-auth's single code for a failed verification of a token of `expected` use:
    /// `INVALID_ACCESS_TOKEN`, `INVALID_REFRESH_TOKEN` or (IdP/JWKS, 2FA) `INVALID_TOKEN`.
    pub fn node_auth_code(&self, expected: TokenUse) -> &'static str {
        match expected {
            TokenUse::Access => "INVALID_ACCESS_TOKEN",
            TokenUse::Refresh => "INVALID_REFRESH_TOKEN",
            TokenUse::MfaPending => "INVALID_TOKEN",
        }
    }
}

/// A number of seconds given by a binding (a JS number, a Python float): an integer in
/// `min..=max`, else `JWT_INVALID_CONFIG` (NaN, ±Infinity, negative or fractional values
/// included, which a cast would have turned into 0 or a huge lifetime).
pub fn seconds_setting(name: &str, value: f64, min: u64, max: u64) -> Result<u64, JwtError> {
    crate::limits::integer_between(name, value, min as f64, max as f64)
        .map(|v| v as u64)
        .map_err(|e| JwtError::InvalidConfig(e.0))
}

fn check_leeway(leeway: u64) -> Result<(), JwtError> {
    if leeway > MAX_LEEWAY_SECONDS {
        return Err(JwtError::InvalidConfig(format!(
            "leeway must be an integer between 0 and {MAX_LEEWAY_SECONDS}"
        )));
    }
    Ok(())
}

/// Supported JWS algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub enum Algorithm {
    /// HMAC-SHA256.
    HS256,
    /// HMAC-SHA384.
    HS384,
    /// HMAC-SHA512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    /// JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Parse a JOSE name (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "HS256" => Self::HS256,
            "HS384" => Self::HS384,
            "HS512" => Self::HS512,
            "RS256" => Self::RS256,
            "ES256" => Self::ES256,
            "EdDSA" => Self::EdDSA,
            _ => return None,
        })
    }

    /// HMAC family?
    pub fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    fn family(self) -> u8 {
        match self {
            Self::HS256 | Self::HS384 | Self::HS512 => 0,
            Self::RS256 => 1,
            Self::ES256 => 2,
            Self::EdDSA => 3,
        }
    }

    fn to_jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::HS256 => jsonwebtoken::Algorithm::HS256,
            Self::HS384 => jsonwebtoken::Algorithm::HS384,
            Self::HS512 => jsonwebtoken::Algorithm::HS512,
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

/// What a token is for (the `token_use` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenUse {
    /// API access.
    Access,
    /// Obtaining new tokens.
    Refresh,
    /// First factor passed, second factor pending (node-auth's `tempToken`).
    MfaPending,
}

impl TokenUse {
    /// Claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
            Self::MfaPending => "mfa_pending",
        }
    }
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn b64url_decode(s: &str) -> Result<Vec<u8>, JwtError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| JwtError::Malformed)
}

/// Current unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
