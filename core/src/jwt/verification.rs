//! Verification: structure, algorithm, key and signature (steps 1-5 of the `jwt` docs),
//! then the claims through [`validate_claims`]; [`verify_json`] keeps the payload's exact
//! text, [`verify_signature_allowlist`] takes PyJWT's explicit algorithm allow-list.

use super::{
    Algorithm, JwtError, JwtKey, KeySet, MAX_TOKEN_LEN, TOKEN_USE_CLAIM, TokenUse, Validation,
    b64url_decode, validate_claims,
};
use serde::de::DeserializeOwned;
use serde_json::Map;
use serde_json::Value;

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

pub(super) fn parse_json_object(part: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = b64url_decode(part)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwtError::Malformed),
    }
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

/// Steps 1-5 of the `jwt` module docs; returns the header and the (still encoded) payload part.
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
///
/// # Example
///
/// ```
/// use authcore::jwt::{Algorithm, JwtKey, KeySet, Validation, sign, verify};
/// use serde_json::{Value, json};
///
/// let keys = KeySet::single(JwtKey::hmac(Algorithm::HS256, b"a-secret-of-at-least-32-bytes!!!")?);
/// let now = 1_700_000_000;
/// let token = sign(&keys, &json!({"sub": "u1", "exp": now + 60}))?;
///
/// let validation = Validation { subject: Some("u1".into()), ..Validation::default() };
/// let verified = verify::<Value>(&keys, &token, &validation, now)?;
/// assert_eq!(verified.claims["sub"], "u1");
/// assert!(verify::<Value>(&keys, &token, &validation, now + 61).is_err()); // expired
/// # Ok::<(), authcore::jwt::JwtError>(())
/// ```
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
