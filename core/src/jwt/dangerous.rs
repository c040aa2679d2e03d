//! Decoding **without verifying anything**: only for routing decisions such as picking a
//! key by `kid` (node's `jwt.decode`, PyJWT's `get_unverified_header`). Never trust the
//! result.

use super::{JwtError, MAX_TOKEN_LEN, b64url_decode, parse_json_object};
use serde_json::Map;
use serde_json::Value;

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
