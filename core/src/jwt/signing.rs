//! Signing: node-jsonwebtoken's header and byte-exact payloads ([`sign`],
//! [`sign_payload_json`]) and PyJWT's explicit headers ([`sign_with_header_json`]).

use super::{Algorithm, JwtError, JwtKey, KeySet, b64url};
use serde::Serialize;
use serde_json::Map;
use serde_json::Value;

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
