//! The message track (spec §2.12): sign and verify arbitrary payloads outside HTTP.
//!
//! signature = hex(HMAC-SHA256(key, trimmedClientId + "\n" + sha256hex(canonical)))
//! where `canonical` is [`to_message_string`] of the message. No nonce, no timestamp:
//! a signature verifies any number of times, by design.

use super::HmacError;
use super::canonical::{JsValue, to_message_string};
use super::crypto::{hash_client_secret, hex32, hmac_sha256, mac_matches_hex, sha256_hex};
use crate::js::is_js_whitespace;

/// `SignedMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMessage {
    pub client_id: String,
    pub message_hash: String,
    pub signature: String,
}

/// How the signing key is given.
#[derive(Debug, Clone, Copy)]
pub struct MessageKey<'a> {
    pub secret: &'a str,
    /// `secretIsHashed`: use `secret` as the key directly (it is a `secretHash`).
    pub secret_is_hashed: bool,
    /// `hashToken`: the pepper used to hash a plain secret.
    pub hash_token: Option<&'a str>,
}

fn normalize_client_id(client_id: &str) -> Result<&str, HmacError> {
    let c = client_id.trim_matches(is_js_whitespace);
    if c.is_empty() {
        return Err(HmacError::InvalidArgument(
            "clientId cannot be empty".into(),
        ));
    }
    Ok(c)
}

/// `buildMessageSigningPayload({clientId, messageHash})`: `trim(clientId) + "\n" + hash`.
pub fn build_message_signing_payload(
    client_id: &str,
    message_hash: &str,
) -> Result<String, HmacError> {
    Ok(format!(
        "{}\n{message_hash}",
        normalize_client_id(client_id)?
    ))
}

/// `signMessage` over an already canonical message string.
pub fn sign_message_canonical(
    client_id: &str,
    canonical: &str,
    key: MessageKey<'_>,
) -> Result<SignedMessage, HmacError> {
    let client_id = normalize_client_id(client_id)?;
    if key.secret.trim_matches(is_js_whitespace).is_empty() {
        return Err(HmacError::InvalidArgument("secret cannot be empty".into()));
    }
    let message_hash = sha256_hex(canonical.as_bytes());
    let hashed;
    let signing_key = if key.secret_is_hashed {
        key.secret
    } else {
        hashed = hash_client_secret(key.secret, key.hash_token);
        &hashed
    };
    let mac = hmac_sha256(
        signing_key.as_bytes(),
        &[client_id.as_bytes(), b"\n", message_hash.as_bytes()],
    );
    Ok(SignedMessage {
        client_id: client_id.to_owned(),
        message_hash,
        signature: hex32(&mac),
    })
}

/// `signMessage({clientId, message, secret, secretIsHashed?, hashToken?})`.
pub fn sign_message(
    client_id: &str,
    message: &JsValue,
    key: MessageKey<'_>,
) -> Result<SignedMessage, HmacError> {
    // Argument checks come before canonicalisation, like the original.
    normalize_client_id(client_id)?;
    if key.secret.trim_matches(is_js_whitespace).is_empty() {
        return Err(HmacError::InvalidArgument("secret cannot be empty".into()));
    }
    sign_message_canonical(client_id, &to_message_string(message)?, key)
}

/// `verifyMessage(...)`: recompute and compare like `safeEqualHex`.
pub fn verify_message(
    client_id: &str,
    message: &JsValue,
    key: MessageKey<'_>,
    signature: &str,
) -> Result<bool, HmacError> {
    let signed = sign_message(client_id, message, key)?;
    Ok(signature_matches(&signed, signature))
}

/// `safeEqualHex(signed.signature, received)`.
pub fn signature_matches(signed: &SignedMessage, received: &str) -> bool {
    let mut raw = [0u8; 32];
    if hex::decode_to_slice(&signed.signature, &mut raw).is_err() {
        return false;
    }
    mac_matches_hex(&raw, received)
}
