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

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use jsonwebtoken::{DecodingKey, EncodingKey, jwk::Jwk};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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

    /// Name of the matching PyJWT exception class (for the Python binding).
    pub fn pyjwt_exception(&self) -> &'static str {
        match self {
            Self::Expired => "ExpiredSignatureError",
            Self::NotYetValid => "ImmatureSignatureError",
            Self::InvalidIssuer => "InvalidIssuerError",
            Self::InvalidAudience => "InvalidAudienceError",
            Self::InvalidSubject => "InvalidSubjectError",
            Self::MissingClaim(_) => "MissingRequiredClaimError",
            Self::InvalidSignature => "InvalidSignatureError",
            Self::AlgNone | Self::UnsupportedAlgorithm(_) | Self::AlgorithmMismatch(_) => {
                "InvalidAlgorithmError"
            }
            Self::Malformed | Self::UnsupportedCritical => "DecodeError",
            Self::InvalidKey(_) | Self::KeyConfig(_) => "InvalidKeyError",
            Self::Signing(_) | Self::Random | Self::Store(_) | Self::InvalidConfig(_) => {
                "PyJWTError"
            }
            // PyJWT: non-integer `iat` → InvalidIssuedAtError, `exp`/`nbf` → DecodeError,
            // non-string `jti` → InvalidJTIError.
            Self::InvalidClaim(c) if c == "iat" => "InvalidIssuedAtError",
            Self::InvalidClaim(c) if c == "exp" || c == "nbf" => "DecodeError",
            Self::InvalidClaim(c) if c == "jti" => "InvalidJTIError",
            _ => "InvalidTokenError",
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

/// A public key as a JWK (RFC 7517), serialised in node-auth's key order:
/// `kty, use, alg, kid, n, e` (RSA), `kty, use, alg, kid, crv, x, y` (EC),
/// `kty, use, alg, kid, crv, x` (OKP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// `RSA`, `EC` or `OKP`.
    pub kty: String,
    /// Always `sig`.
    #[serde(rename = "use", default = "sig")]
    pub use_: String,
    /// Algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// RSA modulus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Curve (`P-256`, `Ed25519`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC/OKP x.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

fn sig() -> String {
    "sig".into()
}

/// A JWK Set document `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<PublicJwk>,
}

impl Jwks {
    /// Compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("JWKS serialises")
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

fn key_err(e: jsonwebtoken::errors::Error) -> JwtError {
    JwtError::InvalidKey(e.to_string())
}

/// Pull the public parameters out of a `jsonwebtoken` JWK.
fn public_jwk_from(jwk: &Jwk, alg: Algorithm) -> Result<PublicJwk, JwtError> {
    let v = serde_json::to_value(jwk).map_err(|e| JwtError::InvalidKey(e.to_string()))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(PublicJwk {
        kty: s("kty").ok_or_else(|| JwtError::InvalidKey("no kty".into()))?,
        use_: "sig".into(),
        alg: Some(alg.as_str().into()),
        kid: None,
        n: s("n"),
        e: s("e"),
        crv: s("crv"),
        x: s("x"),
        y: s("y"),
    })
}

fn check_rsa_size(jwk: &PublicJwk) -> Result<(), JwtError> {
    let n = b64url_decode(jwk.n.as_deref().unwrap_or(""))
        .map_err(|_| JwtError::InvalidKey("bad RSA modulus".into()))?;
    let len = n.iter().skip_while(|b| **b == 0).count();
    if len < MIN_RSA_MODULUS_BYTES {
        return Err(JwtError::InvalidKey(
            "RSA keys must be at least 2048 bits".into(),
        ));
    }
    Ok(())
}

/// A parsed signing and/or verification key.
#[derive(Clone)]
pub struct JwtKey {
    kid: Option<String>,
    alg: Algorithm,
    accepted: Vec<Algorithm>,
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    public: Option<PublicJwk>,
    /// HMAC states keyed once at construction (verification then skips the key schedule).
    hmac: Option<std::sync::Arc<HmacKeys>>,
}

/// Pre-keyed HMAC states of one secret, for the three HS algorithms.
#[derive(Clone)]
struct HmacKeys {
    s256: hmac::Hmac<sha2::Sha256>,
    s384: hmac::Hmac<sha2::Sha384>,
    s512: hmac::Hmac<sha2::Sha512>,
}

impl Drop for HmacKeys {
    /// The keyed states are as good as the secret (they forge MACs): overwrite them with
    /// states keyed by an empty key before the memory is freed. The `hmac` crate has no
    /// `zeroize` support, so this is a volatile write of a whole value.
    fn drop(&mut self) {
        use hmac::Mac;
        const ANY: &str = "HMAC takes any key length";
        let a = hmac::Hmac::<sha2::Sha256>::new_from_slice(&[]).expect(ANY);
        let b = hmac::Hmac::<sha2::Sha384>::new_from_slice(&[]).expect(ANY);
        let c = hmac::Hmac::<sha2::Sha512>::new_from_slice(&[]).expect(ANY);
        // SAFETY: the three places are valid, aligned and exclusively borrowed; the old
        // values own no heap memory or other resources (fixed-size digest states), so not
        // running their (trivial) drop glue leaks nothing.
        unsafe {
            std::ptr::write_volatile(&mut self.s256, a);
            std::ptr::write_volatile(&mut self.s384, b);
            std::ptr::write_volatile(&mut self.s512, c);
        }
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

impl HmacKeys {
    fn new(secret: &[u8]) -> Self {
        use hmac::Mac;
        // HMAC accepts keys of any length: `new_from_slice` cannot fail.
        Self {
            s256: hmac::Hmac::new_from_slice(secret).expect("HMAC takes any key length"),
            s384: hmac::Hmac::new_from_slice(secret).expect("HMAC takes any key length"),
            s512: hmac::Hmac::new_from_slice(secret).expect("HMAC takes any key length"),
        }
    }

    /// Constant-time check (`Mac::verify_slice`) of `sig` over `message`.
    fn verify(&self, alg: Algorithm, message: &[u8], sig: &[u8]) -> bool {
        use hmac::Mac;
        match alg {
            Algorithm::HS256 => self
                .s256
                .clone()
                .chain_update(message)
                .verify_slice(sig)
                .is_ok(),
            Algorithm::HS384 => self
                .s384
                .clone()
                .chain_update(message)
                .verify_slice(sig)
                .is_ok(),
            Algorithm::HS512 => self
                .s512
                .clone()
                .chain_update(message)
                .verify_slice(sig)
                .is_ok(),
            _ => false,
        }
    }
}

/// Check the signature part `s` (base64url) over `message` with `key` for `alg`.
fn check_signature_part(
    key: &JwtKey,
    alg: Algorithm,
    message: &[u8],
    s: &str,
) -> Result<(), JwtError> {
    // A missing or undecodable signature is simply not a valid signature (node says
    // "invalid signature" / "jwt signature is required").
    let sig = match b64url_decode(s) {
        Ok(sig) if !s.is_empty() => sig,
        _ => return Err(JwtError::InvalidSignature),
    };
    let ok = match (&key.hmac, alg.is_hmac()) {
        (Some(h), true) => h.verify(alg, message, &sig),
        _ => jsonwebtoken::crypto::verify(s, message, &key.decoding, alg.to_jwt())
            .map_err(|_| JwtError::InvalidSignature)?,
    };
    if ok {
        Ok(())
    } else {
        Err(JwtError::InvalidSignature)
    }
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("accepted", &self.accepted)
            .field("can_sign", &self.encoding.is_some())
            .finish_non_exhaustive()
    }
}

impl JwtKey {
    /// HMAC secret for `alg` (HS256/384/512), accepting only `alg` on verification.
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, JwtError> {
        if !alg.is_hmac() {
            return Err(JwtError::InvalidKey(format!(
                "{} is not an HMAC algorithm",
                alg.as_str()
            )));
        }
        if secret.is_empty() {
            return Err(JwtError::InvalidKey("empty HMAC secret".into()));
        }
        Ok(Self {
            kid: None,
            alg,
            accepted: vec![alg],
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
            public: None,
            hmac: Some(std::sync::Arc::new(HmacKeys::new(secret))),
        })
    }

    /// node-auth's behaviour for a string secret: signs HS256, verifies HS256/384/512.
    pub fn hmac_node_compat(secret: &[u8]) -> Result<Self, JwtError> {
        let mut k = Self::hmac(Algorithm::HS256, secret)?;
        k.accepted = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
        Ok(k)
    }

    fn from_private(alg: Algorithm, encoding: EncodingKey) -> Result<Self, JwtError> {
        let jwk = Jwk::from_encoding_key(&encoding, alg.to_jwt()).map_err(key_err)?;
        let public = public_jwk_from(&jwk, alg)?;
        let decoding = match alg {
            Algorithm::RS256 => {
                check_rsa_size(&public)?;
                DecodingKey::from_rsa_components(
                    public.n.as_deref().unwrap_or(""),
                    public.e.as_deref().unwrap_or(""),
                )
            }
            Algorithm::ES256 => {
                if public.crv.as_deref() != Some("P-256") {
                    return Err(JwtError::InvalidKey("ES256 needs a P-256 key".into()));
                }
                DecodingKey::from_ec_components(
                    public.x.as_deref().unwrap_or(""),
                    public.y.as_deref().unwrap_or(""),
                )
            }
            Algorithm::EdDSA => DecodingKey::from_ed_components(public.x.as_deref().unwrap_or("")),
            _ => return Err(JwtError::InvalidKey("not an asymmetric algorithm".into())),
        }
        .map_err(key_err)?;
        Ok(Self {
            kid: None,
            alg,
            accepted: vec![alg],
            encoding: Some(encoding),
            decoding,
            public: Some(public),
            hmac: None,
        })
    }

    fn from_public(alg: Algorithm, decoding: DecodingKey) -> Result<Self, JwtError> {
        let jwk = Jwk::from_decoding_key(&decoding, Some(alg.to_jwt())).map_err(key_err)?;
        let public = public_jwk_from(&jwk, alg)?;
        match alg {
            Algorithm::RS256 => check_rsa_size(&public)?,
            Algorithm::ES256 if public.crv.as_deref() != Some("P-256") => {
                return Err(JwtError::InvalidKey("ES256 needs a P-256 key".into()));
            }
            _ => {}
        }
        Ok(Self {
            kid: None,
            alg,
            accepted: vec![alg],
            encoding: None,
            decoding,
            public: Some(public),
            hmac: None,
        })
    }

    /// RS256 private key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY` PEM).
    pub fn rsa_private_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_private(
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(pem).map_err(key_err)?,
        )
    }

    /// RS256 public key (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY` PEM); verify only.
    pub fn rsa_public_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_public(
            Algorithm::RS256,
            DecodingKey::from_rsa_pem(pem).map_err(key_err)?,
        )
    }

    /// ES256 private key (PKCS#8 PEM).
    pub fn ec_private_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_private(
            Algorithm::ES256,
            EncodingKey::from_ec_pem(pem).map_err(key_err)?,
        )
    }

    /// ES256 public key (SPKI PEM); verify only.
    pub fn ec_public_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_public(
            Algorithm::ES256,
            DecodingKey::from_ec_pem(pem).map_err(key_err)?,
        )
    }

    /// Ed25519 private key (PKCS#8 PEM).
    pub fn ed_private_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_private(
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(pem).map_err(key_err)?,
        )
    }

    /// Ed25519 public key (SPKI PEM); verify only.
    pub fn ed_public_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_public(
            Algorithm::EdDSA,
            DecodingKey::from_ed_pem(pem).map_err(key_err)?,
        )
    }

    /// A public JWK (RSA, EC P-256 or OKP Ed25519); verify only. Symmetric (`oct`) keys
    /// are refused: a JWKS must never supply an HMAC secret. The JWK's `kid` is kept; its
    /// `alg`, if present, must match the key type.
    pub fn from_jwk(jwk: &PublicJwk) -> Result<Self, JwtError> {
        let s = |o: &Option<String>| {
            o.clone()
                .ok_or_else(|| JwtError::InvalidKey("incomplete JWK".into()))
        };
        let (alg, decoding) = match jwk.kty.as_str() {
            "RSA" => {
                check_rsa_size(jwk)?;
                (
                    Algorithm::RS256,
                    DecodingKey::from_rsa_components(&s(&jwk.n)?, &s(&jwk.e)?).map_err(key_err)?,
                )
            }
            "EC" if jwk.crv.as_deref() == Some("P-256") => (
                Algorithm::ES256,
                DecodingKey::from_ec_components(&s(&jwk.x)?, &s(&jwk.y)?).map_err(key_err)?,
            ),
            "OKP" if jwk.crv.as_deref() == Some("Ed25519") => (
                Algorithm::EdDSA,
                DecodingKey::from_ed_components(&s(&jwk.x)?).map_err(key_err)?,
            ),
            other => {
                return Err(JwtError::InvalidKey(format!(
                    "unsupported JWK kty/crv {other}"
                )));
            }
        };
        if let Some(a) = &jwk.alg
            && a != alg.as_str()
        {
            return Err(JwtError::InvalidKey(format!(
                "JWK alg {a} does not fit kty {}",
                jwk.kty
            )));
        }
        let mut public = jwk.clone();
        public.alg = Some(alg.as_str().into());
        public.use_ = "sig".into();
        Ok(Self {
            kid: jwk.kid.clone(),
            alg,
            accepted: vec![alg],
            encoding: None,
            decoding,
            public: Some(public),
            hmac: None,
        })
    }

    /// Set the key id.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        let kid = kid.into();
        if let Some(p) = &mut self.public {
            p.kid = Some(kid.clone());
        }
        self.kid = Some(kid);
        self
    }

    /// Replace the accepted verification algorithms (all must be of this key's family).
    pub fn accept_algorithms(mut self, algs: &[Algorithm]) -> Result<Self, JwtError> {
        if algs.is_empty() || algs.iter().any(|a| a.family() != self.alg.family()) {
            return Err(JwtError::KeyConfig(
                "accepted algorithms must be non-empty and of the key's family".into(),
            ));
        }
        self.accepted = algs.to_vec();
        Ok(self)
    }

    /// Key id.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Algorithms accepted on verification.
    pub fn accepted_algorithms(&self) -> &[Algorithm] {
        &self.accepted
    }

    /// Has private (or secret) material?
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }

    /// Public JWK (`None` for HMAC secrets, which are never published).
    pub fn public_jwk(&self) -> Option<&PublicJwk> {
        self.public.as_ref()
    }
}

/// Keys indexed by `kid`, with one designated signing key.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<JwtKey>,
    by_kid: HashMap<String, usize>,
    keyless: Option<usize>,
    signing: Option<usize>,
}

impl KeySet {
    /// Empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set with one key, which also signs if it can.
    pub fn single(key: JwtKey) -> Self {
        let mut s = Self::new();
        s.add(key).expect("an empty set accepts any key");
        s
    }

    /// Add a key. The first key able to sign becomes the signing key. Duplicate `kid`s
    /// and more than one key without `kid` are refused.
    pub fn add(&mut self, key: JwtKey) -> Result<(), JwtError> {
        let idx = self.keys.len();
        match key.kid() {
            Some(kid) => {
                if self.by_kid.contains_key(kid) {
                    return Err(JwtError::KeyConfig(format!("duplicate kid {kid}")));
                }
                self.by_kid.insert(kid.to_string(), idx);
            }
            None => {
                if self.keyless.is_some() {
                    return Err(JwtError::KeyConfig("only one key may lack a kid".into()));
                }
                self.keyless = Some(idx);
            }
        }
        if self.signing.is_none() && key.can_sign() {
            self.signing = Some(idx);
        }
        self.keys.push(key);
        Ok(())
    }

    /// Choose the signing key by kid (`None` = the key without kid).
    pub fn set_signing_kid(&mut self, kid: Option<&str>) -> Result<(), JwtError> {
        let idx = match kid {
            Some(k) => self.by_kid.get(k).copied(),
            None => self.keyless,
        }
        .ok_or_else(|| JwtError::KeyConfig("no such key".into()))?;
        if !self.keys[idx].can_sign() {
            return Err(JwtError::KeyConfig("key has no private material".into()));
        }
        self.signing = Some(idx);
        Ok(())
    }

    /// Parse a JWKS document (e.g. fetched from an IdP) into a verification key set.
    /// Keys of unsupported types are skipped; symmetric keys are never accepted.
    pub fn from_jwks_json(json: &str) -> Result<Self, JwtError> {
        let doc: Value =
            serde_json::from_str(json).map_err(|e| JwtError::InvalidKey(e.to_string()))?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| JwtError::InvalidKey("no keys array".into()))?;
        let mut set = Self::new();
        for k in keys {
            let Ok(jwk) = serde_json::from_value::<PublicJwk>(k.clone()) else {
                continue;
            };
            if let Ok(key) = JwtKey::from_jwk(&jwk) {
                set.add(key)?;
            }
        }
        Ok(set)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No keys?
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Key for a token `kid` (`None` = the key without kid).
    pub fn get(&self, kid: Option<&str>) -> Option<&JwtKey> {
        let idx = match kid {
            Some(k) => self.by_kid.get(k).copied(),
            None => self.keyless,
        }?;
        self.keys.get(idx)
    }

    /// The signing key.
    pub fn signing_key(&self) -> Option<&JwtKey> {
        self.signing.and_then(|i| self.keys.get(i))
    }

    /// Public keys as a JWKS (HMAC secrets omitted).
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self
                .keys
                .iter()
                .filter_map(|k| k.public_jwk().cloned())
                .collect(),
        }
    }
}

/// Header fields returned by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHeader {
    /// Algorithm.
    pub alg: Algorithm,
    /// Key id.
    pub kid: Option<String>,
    /// `typ`.
    pub typ: Option<String>,
}

/// A verified token.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified<T> {
    /// Header.
    pub header: VerifiedHeader,
    /// Claims.
    pub claims: T,
}

/// Claim checks applied after the signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validation {
    /// Seconds of tolerance for `exp` and `nbf` (node `clockTolerance`; default 0).
    pub leeway: u64,
    /// Accepted issuers (the token's `iss` must be one of them).
    pub issuer: Option<Vec<String>>,
    /// Accepted audiences (one of the token's `aud` values must be one of them).
    pub audience: Option<Vec<String>>,
    /// Required subject.
    pub subject: Option<String>,
    /// Required `token_use`.
    pub token_use: Option<TokenUse>,
    /// Claims that must be present (`exp`, `sub`, ...).
    pub required_claims: Vec<String>,
}

impl Validation {
    /// node-auth's `jwt.verify(token, secret)`: no issuer/audience, leeway 0, `exp`
    /// checked only when present, no token-use check.
    pub fn node_compat() -> Self {
        Self::default()
    }
}

fn header_json(alg: Algorithm, kid: Option<&str>) -> String {
    // node-jsonwebtoken's order: alg, typ, kid.
    let mut s = format!("{{\"alg\":\"{}\",\"typ\":\"JWT\"", alg.as_str());
    if let Some(k) = kid {
        s.push_str(",\"kid\":");
        s.push_str(&serde_json::to_string(k).expect("string serialises"));
    }
    s.push('}');
    s
}

/// Sign an exact payload (the bytes of `payload_json`, which must be a JSON object) with
/// the set's signing key. The header is `{"alg":..,"typ":"JWT"[,"kid":..]}` in
/// node-jsonwebtoken's key order, so with node's `JSON.stringify` payload the token is
/// byte-identical to `jwt.sign`'s.
pub fn sign_payload_json(keys: &KeySet, payload_json: &str) -> Result<String, JwtError> {
    let v: Value =
        serde_json::from_str(payload_json).map_err(|e| JwtError::InvalidClaim(e.to_string()))?;
    if !v.is_object() {
        return Err(JwtError::InvalidClaim(
            "payload must be a JSON object".into(),
        ));
    }
    let key = keys
        .signing_key()
        .ok_or_else(|| JwtError::KeyConfig("no signing key".into()))?;
    sign_with_key(key, payload_json.as_bytes())
}

fn sign_with_key(key: &JwtKey, payload: &[u8]) -> Result<String, JwtError> {
    let enc = key
        .encoding
        .as_ref()
        .ok_or_else(|| JwtError::KeyConfig("key cannot sign".into()))?;
    let message = format!(
        "{}.{}",
        b64url(header_json(key.alg, key.kid()).as_bytes()),
        b64url(payload)
    );
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), enc, key.alg.to_jwt())
        .map_err(|e| JwtError::Signing(e.to_string()))?;
    Ok(format!("{message}.{sig}"))
}

/// Sign serialisable claims with the set's signing key.
pub fn sign<T: Serialize>(keys: &KeySet, claims: &T) -> Result<String, JwtError> {
    let payload = serde_json::to_vec(claims).map_err(|e| JwtError::InvalidClaim(e.to_string()))?;
    let key = keys
        .signing_key()
        .ok_or_else(|| JwtError::KeyConfig("no signing key".into()))?;
    if !payload.starts_with(b"{") {
        return Err(JwtError::InvalidClaim(
            "claims must serialise to a JSON object".into(),
        ));
    }
    sign_with_key(key, &payload)
}

fn parse_json_object(part: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = b64url_decode(part)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwtError::Malformed),
    }
}

fn numeric(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| JwtError::InvalidClaim(name.into())),
        Some(_) => Err(JwtError::InvalidClaim(name.into())),
    }
}

/// Check the claims of an already signature-verified token (see module docs).
pub fn validate_claims(
    claims: &Map<String, Value>,
    v: &Validation,
    now: u64,
) -> Result<(), JwtError> {
    if let Some(expected) = v.token_use {
        let found = claims.get(TOKEN_USE_CLAIM).and_then(Value::as_str);
        if found != Some(expected.as_str()) {
            return Err(JwtError::WrongTokenUse {
                expected: expected.as_str(),
                found: found.map(str::to_string),
            });
        }
    }
    check_leeway(v.leeway)?;
    let now = now as f64;
    let leeway = v.leeway as f64;
    if let Some(nbf) = numeric(claims, "nbf")?
        && nbf > now + leeway
    {
        return Err(JwtError::NotYetValid);
    }
    if let Some(exp) = numeric(claims, "exp")?
        && now >= exp + leeway
    {
        return Err(JwtError::Expired);
    }
    if let Some(auds) = &v.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(a)) => auds.iter().any(|x| x == a),
            Some(Value::Array(list)) => list
                .iter()
                .any(|a| a.as_str().is_some_and(|a| auds.iter().any(|x| x == a))),
            _ => false,
        };
        if !ok {
            return Err(JwtError::InvalidAudience);
        }
    }
    if let Some(issuers) = &v.issuer {
        let ok = claims
            .get("iss")
            .and_then(Value::as_str)
            .is_some_and(|i| issuers.iter().any(|x| x == i));
        if !ok {
            return Err(JwtError::InvalidIssuer);
        }
    }
    if let Some(sub) = &v.subject
        && claims.get("sub").and_then(Value::as_str) != Some(sub.as_str())
    {
        return Err(JwtError::InvalidSubject);
    }
    for c in &v.required_claims {
        if !claims.contains_key(c) {
            return Err(JwtError::MissingClaim(c.clone()));
        }
    }
    Ok(())
}

/// Verify a token's structure, algorithm, key and signature and return its header and raw
/// claims, without checking any claim. Prefer [`verify`].
pub fn verify_signature(
    keys: &KeySet,
    token: &str,
) -> Result<(VerifiedHeader, Map<String, Value>), JwtError> {
    let (header, p) = check_signature(keys, token)?;
    Ok((header, parse_json_object(p)?))
}

/// Steps 1-5 of the module docs; returns the header and the (still encoded) payload part.
fn check_signature<'t>(
    keys: &KeySet,
    token: &'t str,
) -> Result<(VerifiedHeader, &'t str), JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header = parse_json_object(h)?;
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JwtError::Malformed)?;
    if alg_name.eq_ignore_ascii_case("none") {
        return Err(JwtError::AlgNone);
    }
    let alg = Algorithm::parse(alg_name)
        .ok_or_else(|| JwtError::UnsupportedAlgorithm(alg_name.to_string()))?;
    if header.contains_key("crit") {
        return Err(JwtError::UnsupportedCritical);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(JwtError::Malformed),
    };
    // A kid that names no key falls back to the key registered without kid (node's
    // `jwt.verify(token, secret)` ignores kid); with no such key it is an unknown kid.
    let key = keys
        .get(kid.as_deref())
        .or_else(|| keys.get(None))
        .ok_or_else(|| JwtError::UnknownKid(kid.clone()))?;
    if !key.accepted.contains(&alg) {
        return Err(JwtError::AlgorithmMismatch(alg_name.to_string()));
    }
    let message_len = h.len() + 1 + p.len();
    check_signature_part(key, alg, &token.as_bytes()[..message_len], s)?;
    let typ = header
        .get("typ")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok((VerifiedHeader { alg, kid, typ }, p))
}

/// Verify a token and deserialise its claims into `T` (see module docs for the order of
/// checks). `now` is unix seconds.
pub fn verify<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    validation: &Validation,
    now: u64,
) -> Result<Verified<T>, JwtError> {
    let (header, claims) = verify_signature(keys, token)?;
    validate_claims(&claims, validation, now)?;
    let claims = serde_json::from_value(Value::Object(claims))
        .map_err(|e| JwtError::InvalidClaim(e.to_string()))?;
    Ok(Verified { header, claims })
}

// ---------------------------------------------------------------------------------------
// PyJWT-style decoding and signing (the Python binding's `authcore.jwt.encode`/`decode`)
// ---------------------------------------------------------------------------------------

/// Registered-claim checks with PyJWT 2.x semantics (`jwt.decode(..., options=...)`),
/// applied by [`validate_claim_checks`]. Unlike [`Validation`] (node semantics), an `aud`
/// claim is rejected when no audience is expected, `iat` in the future is refused, and a
/// missing `iss`/`aud` that is expected is [`JwtError::MissingClaim`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimChecks {
    /// Check `exp` when present (expired when `exp <= now - leeway`).
    pub verify_exp: bool,
    /// Check `nbf` when present (not yet valid when `nbf > now + leeway`).
    pub verify_nbf: bool,
    /// Check `iat` when present (numeric, and not `> now + leeway`).
    pub verify_iat: bool,
    /// Check `iss` against [`Self::issuer`] when that is set.
    pub verify_iss: bool,
    /// Check `aud` against [`Self::audience`].
    pub verify_aud: bool,
    /// Check `sub` is a string (and equals [`Self::subject`] when set).
    pub verify_sub: bool,
    /// Check `jti` is a string when present.
    pub verify_jti: bool,
    /// Strict audience: exactly one expected audience, and `aud` must be that string.
    pub strict_aud: bool,
    /// Claims that must be present and not `null`.
    pub require: Vec<String>,
    /// Accepted audiences (`None`: the token must carry no `aud`).
    pub audience: Option<Vec<String>>,
    /// Accepted issuers.
    pub issuer: Option<Vec<String>>,
    /// Required subject.
    pub subject: Option<String>,
    /// Tolerance in seconds for `exp`, `nbf` and `iat`.
    pub leeway: f64,
}

impl Default for ClaimChecks {
    fn default() -> Self {
        Self {
            verify_exp: true,
            verify_nbf: true,
            verify_iat: true,
            verify_iss: true,
            verify_aud: true,
            verify_sub: true,
            verify_jti: true,
            strict_aud: false,
            require: Vec::new(),
            audience: None,
            issuer: None,
            subject: None,
            leeway: 0.0,
        }
    }
}

/// A numeric date claim as PyJWT's `int(...)` reads it: a JSON number, truncated toward
/// zero. `Err` for any other JSON type.
fn int_date(v: &Value, name: &str) -> Result<f64, JwtError> {
    v.as_f64()
        .filter(|f| f.is_finite())
        .map(f64::trunc)
        .ok_or_else(|| JwtError::InvalidClaim(name.into()))
}

/// Python truthiness of a JSON value (`not payload["aud"]`).
fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Check the claims of a signature-verified token with PyJWT 2.x semantics and order:
/// required claims, `iat`, `nbf`, `exp`, `iss`, `aud`, `sub`, `jti`. `now` is unix seconds
/// (fractional). A non-numeric `iat`/`nbf`/`exp` is `InvalidClaim(name)`, a non-string
/// `jti` is `InvalidClaim("jti")` (see [`JwtError::pyjwt_exception`]).
pub fn validate_claim_checks(
    claims: &Map<String, Value>,
    c: &ClaimChecks,
    now: f64,
) -> Result<(), JwtError> {
    // Fail closed: with NaN every date comparison is false, which accepts expired tokens.
    if !now.is_finite() || !c.leeway.is_finite() {
        return Err(JwtError::InvalidConfig(
            "leeway and the clock must be finite numbers".into(),
        ));
    }
    for name in &c.require {
        if claims.get(name).is_none_or(Value::is_null) {
            return Err(JwtError::MissingClaim(name.clone()));
        }
    }
    if c.verify_iat
        && let Some(v) = claims.get("iat")
        && int_date(v, "iat")? > now + c.leeway
    {
        return Err(JwtError::NotYetValid);
    }
    if c.verify_nbf
        && let Some(v) = claims.get("nbf")
        && int_date(v, "nbf")? > now + c.leeway
    {
        return Err(JwtError::NotYetValid);
    }
    if c.verify_exp
        && let Some(v) = claims.get("exp")
        && int_date(v, "exp")? <= now - c.leeway
    {
        return Err(JwtError::Expired);
    }
    if c.verify_iss
        && let Some(issuers) = &c.issuer
    {
        match claims.get("iss") {
            None => return Err(JwtError::MissingClaim("iss".into())),
            Some(Value::String(iss)) if issuers.iter().any(|i| i == iss) => {}
            Some(_) => return Err(JwtError::InvalidIssuer),
        }
    }
    if c.verify_aud {
        let aud = claims.get("aud").filter(|a| !is_falsy(a));
        match (&c.audience, aud) {
            (None, None) => {}
            (None, Some(_)) => return Err(JwtError::InvalidAudience),
            (Some(_), None) => return Err(JwtError::MissingClaim("aud".into())),
            (Some(expected), Some(aud)) => {
                let ok = if c.strict_aud {
                    expected.len() == 1 && aud.as_str() == Some(expected[0].as_str())
                } else {
                    let list: Vec<&str> = match aud {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(a) if a.iter().all(Value::is_string) => {
                            a.iter().filter_map(Value::as_str).collect()
                        }
                        _ => return Err(JwtError::InvalidAudience),
                    };
                    expected.iter().any(|e| list.contains(&e.as_str()))
                };
                if !ok {
                    return Err(JwtError::InvalidAudience);
                }
            }
        }
    }
    if c.verify_sub
        && let Some(sub) = claims.get("sub")
    {
        let ok = match (sub.as_str(), &c.subject) {
            (None, _) => false,
            (Some(s), Some(want)) => s == want,
            (Some(_), None) => true,
        };
        if !ok {
            return Err(JwtError::InvalidSubject);
        }
    }
    if c.verify_jti && claims.get("jti").is_some_and(|j| !j.is_string()) {
        return Err(JwtError::InvalidClaim("jti".into()));
    }
    Ok(())
}

/// `true` for material PyJWT refuses as an HMAC secret: a PEM block or an OpenSSH public
/// key. Keying HS256 with an RSA public key's PEM is the classic algorithm confusion.
pub fn looks_like_asymmetric_key(material: &[u8]) -> bool {
    const SSH: [&[u8]; 6] = [
        b"ssh-ed25519",
        b"ssh-rsa",
        b"ssh-dss",
        b"ecdsa-sha2-nistp256",
        b"ecdsa-sha2-nistp384",
        b"ecdsa-sha2-nistp521",
    ];
    SSH.iter().any(|p| material.starts_with(p)) || material.windows(10).any(|w| w == b"-----BEGIN")
}

impl JwtKey {
    /// A key for `alg` from raw material, the way PyJWT's `prepare_key` reads a `str`/`bytes`
    /// key: for HS* the bytes are the secret, but PEM or OpenSSH key material is refused
    /// (`JWT_INVALID_KEY`, algorithm confusion); for RS256/ES256/EdDSA a PEM, private
    /// (`... PRIVATE KEY`, signs and verifies) or public (verifies only).
    pub fn from_material(alg: Algorithm, material: &[u8]) -> Result<Self, JwtError> {
        if alg.is_hmac() {
            if looks_like_asymmetric_key(material) {
                return Err(JwtError::InvalidKey(
                    "the specified key is an asymmetric key or x509 certificate and should not be used as an HMAC secret".into(),
                ));
            }
            return Self::hmac(alg, material);
        }
        let private = material.windows(11).any(|w| w == b"PRIVATE KEY");
        match (alg, private) {
            (Algorithm::RS256, true) => Self::rsa_private_pem(material),
            (Algorithm::RS256, false) => Self::rsa_public_pem(material),
            (Algorithm::ES256, true) => Self::ec_private_pem(material),
            (Algorithm::ES256, false) => Self::ec_public_pem(material),
            (Algorithm::EdDSA, true) => Self::ed_private_pem(material),
            (_, _) => Self::ed_public_pem(material),
        }
    }
}

fn is_json_object(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// Sign `payload_json` (a JSON object, signed byte for byte) with `key` under the default
/// header `{"alg":..,"typ":"JWT"[,"kid":..]}` (the key's kid). This is also PyJWT's header
/// when no extra header fields are given.
pub fn sign_json_with_key(key: &JwtKey, payload_json: &str) -> Result<String, JwtError> {
    if !is_json_object(payload_json) {
        return Err(JwtError::InvalidClaim(
            "payload must be a JSON object".into(),
        ));
    }
    sign_with_key(key, payload_json.as_bytes())
}

/// Sign under an explicit header text (e.g. PyJWT's sorted header with extra fields). The
/// header must be a JSON object whose `alg` is the key's algorithm; both texts are signed
/// byte for byte.
pub fn sign_with_header_json(
    key: &JwtKey,
    header_json: &str,
    payload_json: &str,
) -> Result<String, JwtError> {
    let header: Map<String, Value> = serde_json::from_str(header_json)
        .map_err(|_| JwtError::InvalidClaim("header must be a JSON object".into()))?;
    if header.get("alg").and_then(Value::as_str) != Some(key.alg.as_str()) {
        return Err(JwtError::AlgorithmMismatch(
            header
                .get("alg")
                .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string))
                .unwrap_or_default(),
        ));
    }
    if header.contains_key("crit") || header.contains_key("b64") {
        return Err(JwtError::UnsupportedCritical);
    }
    if !is_json_object(payload_json) {
        return Err(JwtError::InvalidClaim(
            "payload must be a JSON object".into(),
        ));
    }
    let enc = key
        .encoding
        .as_ref()
        .ok_or_else(|| JwtError::KeyConfig("key cannot sign".into()))?;
    let message = format!(
        "{}.{}",
        b64url(header_json.as_bytes()),
        b64url(payload_json.as_bytes())
    );
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), enc, key.alg.to_jwt())
        .map_err(|e| JwtError::Signing(e.to_string()))?;
    Ok(format!("{message}.{sig}"))
}

/// A decoded JSON object (header or claims).
pub type JsonObject = Map<String, Value>;

/// Split a compact token and decode its header and payload objects **without verifying
/// anything** (PyJWT's `get_unverified_header` / `options={"verify_signature": False}`).
/// Never trust the result.
pub fn insecure_decode(token: &str) -> Result<(JsonObject, JsonObject), JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    Ok((parse_json_object(h)?, parse_json_object(p)?))
}

/// Verify a token with an explicit allow-list of algorithm names and a key chosen for the
/// token's algorithm (PyJWT's `decode(token, key, algorithms=[...])`):
///
/// 1. shape and header as in [`verify_signature`] (`JWT_MALFORMED`);
/// 2. the header `alg` must be in `algorithms` (`JWT_ALGORITHM_MISMATCH`; `alg: none` is
///    `JWT_ALG_NONE` whatever the list says), then supported;
/// 3. `key_for(alg, kid)` supplies the key (e.g. [`JwtKey::from_material`], which refuses
///    PEM material as an HMAC secret), which must accept `alg`;
/// 4. signature, then the payload object. No claim is checked (see
///    [`validate_claim_checks`]).
pub fn verify_signature_allowlist<K, F>(
    token: &str,
    algorithms: &[&str],
    key_for: F,
) -> Result<(VerifiedHeader, Map<String, Value>), JwtError>
where
    K: std::ops::Deref<Target = JwtKey>,
    F: FnOnce(Algorithm, Option<&str>) -> Result<K, JwtError>,
{
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header = parse_json_object(h)?;
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg_name.eq_ignore_ascii_case("none") {
        return Err(JwtError::AlgNone);
    }
    if alg_name.is_empty() || !algorithms.contains(&alg_name) {
        return Err(JwtError::AlgorithmMismatch(alg_name.to_string()));
    }
    let alg = Algorithm::parse(alg_name)
        .ok_or_else(|| JwtError::UnsupportedAlgorithm(alg_name.to_string()))?;
    if header.contains_key("crit") {
        return Err(JwtError::UnsupportedCritical);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(JwtError::Malformed),
    };
    let key = key_for(alg, kid.as_deref())?;
    if !key.accepted.contains(&alg) {
        return Err(JwtError::AlgorithmMismatch(alg_name.to_string()));
    }
    let message_len = h.len() + 1 + p.len();
    check_signature_part(&key, alg, &token.as_bytes()[..message_len], s)?;
    let claims = parse_json_object(p)?;
    let typ = header
        .get("typ")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok((VerifiedHeader { alg, kid, typ }, claims))
}

/// Current unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn random_id() -> Result<String, JwtError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| JwtError::Random)?;
    Ok(b64url(&b))
}

/// SHA-256 hex of a token (what refresh-token records store).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

// ---------------------------------------------------------------------------------------
// Auth Server TokenManager
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Verification returning the payload text (for bindings that must keep the claims' key
// order, e.g. node's `jwt.verify`, which returns `JSON.parse(payload)`)
// ---------------------------------------------------------------------------------------

/// A verified token with its payload as the exact JSON text carried by the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedJson {
    /// Header.
    pub header: VerifiedHeader,
    /// The decoded payload (a JSON object), byte for byte as signed.
    pub payload_json: String,
}

/// `token_use` check for tokens that may predate the claim or come from another issuer: a
/// token carrying one of OUR uses (`access`, `refresh`, `mfa_pending`) other than
/// `expected` is `JWT_WRONG_TOKEN_USE`. A token without the claim (node-auth's own) or
/// with a value that is not ours (Cognito's `"id"`, a number, ...) passes, as it does in
/// jsonwebtoken. Use [`Validation::token_use`] to require the claim.
pub fn reject_other_token_use(
    claims: &Map<String, Value>,
    expected: TokenUse,
) -> Result<(), JwtError> {
    let ours = [TokenUse::Access, TokenUse::Refresh, TokenUse::MfaPending];
    match claims.get(TOKEN_USE_CLAIM).and_then(Value::as_str) {
        Some(u) if u != expected.as_str() && ours.iter().any(|t| t.as_str() == u) => {
            Err(JwtError::WrongTokenUse {
                expected: expected.as_str(),
                found: Some(u.to_string()),
            })
        }
        _ => Ok(()),
    }
}

/// [`verify`] returning the payload's JSON text instead of deserialised claims, so a
/// binding can hand the claims over in their original key order. `lenient_use`, when set,
/// applies [`reject_other_token_use`] before the other claim checks.
pub fn verify_json(
    keys: &KeySet,
    token: &str,
    validation: &Validation,
    now: u64,
    lenient_use: Option<TokenUse>,
) -> Result<VerifiedJson, JwtError> {
    let (header, payload_b64) = check_signature(keys, token)?;
    let payload_json =
        String::from_utf8(b64url_decode(payload_b64)?).map_err(|_| JwtError::Malformed)?;
    let claims = match serde_json::from_str::<Value>(&payload_json) {
        Ok(Value::Object(m)) => m,
        _ => return Err(JwtError::Malformed),
    };
    if let Some(u) = lenient_use {
        reject_other_token_use(&claims, u)?;
    }
    validate_claims(&claims, validation, now)?;
    Ok(VerifiedJson {
        header,
        payload_json,
    })
}

/// Decode a token's header and payload **without verifying anything** (node's
/// `jwt.decode(token, {complete: true})`). Only for routing decisions such as picking a
/// key by `kid`; never trust the result.
pub fn decode_unverified(token: &str) -> Result<(Map<String, Value>, String), JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header = parse_json_object(h)?;
    parse_json_object(p)?;
    let payload = String::from_utf8(b64url_decode(p)?).map_err(|_| JwtError::Malformed)?;
    Ok((header, payload))
}

// ---------------------------------------------------------------------------------------
// RSA key material for node-auth's JwksService (generateKeypair, derivePublicKey,
// publicKeyToJwk, jwkToPublicKey)
// ---------------------------------------------------------------------------------------

/// An RSA key pair as PEM strings, in the formats node's `generateKeyPairSync('rsa', {
/// publicKeyEncoding: {type: 'spki'}, privateKeyEncoding: {type: 'pkcs8'}})` returns:
/// `-----BEGIN PRIVATE KEY-----` / `-----BEGIN PUBLIC KEY-----`, 64-character lines, LF.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaKeyPairPem {
    /// PKCS#8 private key PEM.
    pub private_key: String,
    /// SPKI public key PEM.
    pub public_key: String,
}

impl std::fmt::Debug for RsaKeyPairPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKeyPairPem")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// Smallest modulus [`generate_rsa_keypair`] accepts, in bits.
pub const MIN_RSA_GENERATE_BITS: usize = 2048;
/// Largest modulus [`generate_rsa_keypair`] accepts, in bits.
pub const MAX_RSA_GENERATE_BITS: usize = 8192;

fn rsa_public_spki_pem(key: &rsa::RsaPublicKey) -> Result<String, JwtError> {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| JwtError::InvalidKey(e.to_string()))
}

/// Generate an RSA key pair (`bits` in 2048..=8192, a multiple of 8) with e = 65537 from
/// the OS CSPRNG. CPU-heavy (tens to hundreds of milliseconds): bindings run it off the
/// event loop.
pub fn generate_rsa_keypair(bits: usize) -> Result<RsaKeyPairPem, JwtError> {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    if !(MIN_RSA_GENERATE_BITS..=MAX_RSA_GENERATE_BITS).contains(&bits) || !bits.is_multiple_of(8) {
        return Err(JwtError::KeyConfig(format!(
            "RSA modulus length must be a multiple of 8 in {MIN_RSA_GENERATE_BITS}..={MAX_RSA_GENERATE_BITS}"
        )));
    }
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
        .map_err(|e| JwtError::KeyConfig(e.to_string()))?;
    let private_key = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| JwtError::InvalidKey(e.to_string()))?
        .to_string();
    let public_key = rsa_public_spki_pem(&private.to_public_key())?;
    Ok(RsaKeyPairPem {
        private_key,
        public_key,
    })
}

fn parse_rsa_private_pem(pem: &str) -> Result<rsa::RsaPrivateKey, JwtError> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| JwtError::InvalidKey("not an RSA private key PEM".into()))
}

fn parse_rsa_public_pem(pem: &str) -> Result<rsa::RsaPublicKey, JwtError> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    rsa::RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| JwtError::InvalidKey("not an RSA public key PEM".into()))
}

/// SPKI PEM of the public half of an RSA private key (PKCS#8 or PKCS#1 PEM).
pub fn rsa_public_pem_from_private(private_pem: &str) -> Result<String, JwtError> {
    rsa_public_spki_pem(&parse_rsa_private_pem(private_pem)?.to_public_key())
}

/// node-auth `JwksService.publicKeyToJwk(pem, kid)`: `{kty:"RSA", use:"sig", alg:"RS256",
/// kid, n, e}` from an RSA public key (SPKI or PKCS#1 PEM) or private key PEM.
pub fn rsa_pem_to_jwk(pem: &str, kid: &str) -> Result<PublicJwk, JwtError> {
    use rsa::traits::PublicKeyParts;
    let public = parse_rsa_public_pem(pem)
        .or_else(|_| parse_rsa_private_pem(pem).map(|k| k.to_public_key()))?;
    Ok(PublicJwk {
        kty: "RSA".into(),
        use_: "sig".into(),
        alg: Some(Algorithm::RS256.as_str().into()),
        kid: Some(kid.into()),
        n: Some(b64url(&public.n().to_bytes_be())),
        e: Some(b64url(&public.e().to_bytes_be())),
        crv: None,
        x: None,
        y: None,
    })
}

/// node-auth `JwksService.jwkToPublicKey(jwk)`: the SPKI PEM of an RSA JWK's `n` and `e`.
pub fn rsa_jwk_to_public_pem(jwk: &PublicJwk) -> Result<String, JwtError> {
    if jwk.kty != "RSA" {
        return Err(JwtError::InvalidKey("JWK is not an RSA key".into()));
    }
    let part = |v: &Option<String>, name: &str| -> Result<rsa::BigUint, JwtError> {
        let bytes = b64url_decode(v.as_deref().unwrap_or(""))
            .map_err(|_| JwtError::InvalidKey(format!("bad JWK {name}")))?;
        if bytes.is_empty() {
            return Err(JwtError::InvalidKey(format!("missing JWK {name}")));
        }
        Ok(rsa::BigUint::from_bytes_be(&bytes))
    };
    let key = rsa::RsaPublicKey::new(part(&jwk.n, "n")?, part(&jwk.e, "e")?)
        .map_err(|e| JwtError::InvalidKey(e.to_string()))?;
    rsa_public_spki_pem(&key)
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
