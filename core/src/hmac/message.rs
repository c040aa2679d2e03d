//! The message track (spec §2.12): sign and verify arbitrary payloads outside HTTP.
//!
//! signature = hex(HMAC-SHA256(key, trimmedClientId + "\n" + sha256hex(canonical)))
//! where `canonical` is [`to_message_string`] of the message. No nonce, no timestamp:
//! a signature verifies any number of times, by design.

use super::canonical::{JsValue, to_message_string};
use super::crypto::{hash_client_secret, hex32, hmac_sha256, mac_matches_hex, sha256_hex};
use super::record::ClientRecord;
use super::{HmacAuthError, HmacError, HmacErrorCode};
use crate::js::is_js_whitespace;

/// `SignedMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMessage {
    /// The signer's client id.
    pub client_id: String,
    /// SHA-256 hex of the canonical message.
    pub message_hash: String,
    /// The HMAC-SHA256 signature, lowercase hex.
    pub signature: String,
}

/// How the signing key is given.
#[derive(Clone, Copy)]
pub struct MessageKey<'a> {
    /// The client's secret (plain, or its `secretHash` when `secret_is_hashed`).
    pub secret: &'a str,
    /// `secretIsHashed`: use `secret` as the key directly (it is a `secretHash`).
    pub secret_is_hashed: bool,
    /// `hashToken`: the pepper used to hash a plain secret.
    pub hash_token: Option<&'a str>,
}

crate::redacted_debug!(MessageKey<'a> { secret_is_hashed } secret { secret, hash_token });

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

/// The checks of the store-backed `verifyMessage` that come before the record read:
/// `assertClientId` (blank → `MISSING_CLIENT_ID` 400), then a missing or blank
/// signature → `MISSING_SIGNATURE`.
pub fn verify_message_precheck(client_id: &str, signature: Option<&str>) -> Result<(), HmacError> {
    super::clients::assert_client_id(client_id)?;
    match signature {
        Some(s) if !s.trim_matches(is_js_whitespace).is_empty() => Ok(()),
        _ => Err(HmacError::auth(
            HmacErrorCode::MissingSignature,
            "Missing message signature",
        )),
    }
}

fn stored_key(record: &ClientRecord) -> MessageKey<'_> {
    MessageKey {
        secret: &record.secret_hash,
        secret_is_hashed: true,
        hash_token: None,
    }
}

/// The store-backed `signMessage({clientId, message})` once the record was read (sans
/// IO): missing → `CLIENT_NOT_FOUND` 404, expired (`now > expiresAt`) →
/// `CLIENT_EXPIRED`, else signed with the stored `secretHash`.
pub fn sign_message_with_record(
    client_id: &str,
    record: Option<&ClientRecord>,
    canonical: &str,
    now_ms: f64,
) -> Result<SignedMessage, HmacError> {
    super::clients::assert_client_id(client_id)?;
    let Some(record) = record else {
        return Err(HmacAuthError::new(
            HmacErrorCode::ClientNotFound,
            "Cannot sign message: client not found",
        )
        .into());
    };
    if record.is_expired(now_ms) {
        return Err(HmacError::auth(
            HmacErrorCode::ClientExpired,
            "Client secret has expired",
        ));
    }
    sign_message_canonical(client_id, canonical, stored_key(record))
}

/// The store-backed `verifyMessage({clientId, message, signature})` once the record was
/// read (sans IO): the pre-checks, missing → `UNKNOWN_CLIENT`, expired →
/// `CLIENT_EXPIRED`, mismatch → `BAD_SIGNATURE "Invalid message signature"`. Returns the
/// recomputed signed message.
pub fn verify_message_with_record(
    client_id: &str,
    record: Option<&ClientRecord>,
    canonical: &str,
    signature: Option<&str>,
    now_ms: f64,
) -> Result<SignedMessage, HmacError> {
    verify_message_precheck(client_id, signature)?;
    let Some(record) = record else {
        return Err(super::verify::unknown_client());
    };
    if record.is_expired(now_ms) {
        return Err(HmacError::auth(
            HmacErrorCode::ClientExpired,
            "Client secret has expired",
        ));
    }
    let signed = sign_message_canonical(client_id, canonical, stored_key(record))?;
    if !signature_matches(&signed, signature.unwrap_or_default()) {
        return Err(HmacError::auth(
            HmacErrorCode::BadSignature,
            "Invalid message signature",
        ));
    }
    Ok(signed)
}

/// `safeEqualHex(signed.signature, received)`.
pub fn signature_matches(signed: &SignedMessage, received: &str) -> bool {
    let mut raw = [0u8; 32];
    if hex::decode_to_slice(&signed.signature, &mut raw).is_err() {
        return false;
    }
    mac_matches_hex(&raw, received)
}

#[cfg(test)]
mod with_record_tests {
    use super::*;

    fn rec(expires_at: Option<f64>) -> ClientRecord {
        ClientRecord {
            secret_hash: super::super::crypto::hash_client_secret("msg_secret", None),
            created_at: 1.0,
            updated_at: 1.0,
            expires_at,
            allowed_ips: Vec::new(),
        }
    }

    #[test]
    fn sign_and_verify_with_record() {
        let canonical = r#"{"event":"order.created","id":42}"#;
        let r = rec(None);
        let signed = sign_message_with_record("app_msg", Some(&r), canonical, 5.0).unwrap();
        assert_eq!(
            signed.signature,
            "ee0acb29893dafac311f1d9da14d106e3acfcd48b94582fbdf78ca134787211f"
        );
        let again = verify_message_with_record(
            "app_msg",
            Some(&r),
            canonical,
            Some(&signed.signature),
            5.0,
        )
        .unwrap();
        assert_eq!(again, signed);
        let code = |e: HmacError| e.code();
        assert_eq!(
            code(sign_message_with_record("app_msg", None, canonical, 5.0).unwrap_err()),
            "CLIENT_NOT_FOUND"
        );
        assert_eq!(
            code(
                verify_message_with_record("app_msg", None, canonical, Some("ab"), 5.0)
                    .unwrap_err()
            ),
            "UNKNOWN_CLIENT"
        );
        assert_eq!(
            code(
                verify_message_with_record("app_msg", Some(&r), canonical, Some(" "), 5.0)
                    .unwrap_err()
            ),
            "MISSING_SIGNATURE"
        );
        let blank = verify_message_with_record(" ", None, canonical, None, 5.0).unwrap_err();
        assert_eq!((blank.code(), blank.status()), ("MISSING_CLIENT_ID", 400));
        assert_eq!(
            code(
                verify_message_with_record("app_msg", Some(&r), "{}", Some(&signed.signature), 5.0)
                    .unwrap_err()
            ),
            "BAD_SIGNATURE"
        );
        let expired = rec(Some(4.0));
        assert_eq!(
            code(sign_message_with_record("app_msg", Some(&expired), canonical, 5.0).unwrap_err()),
            "CLIENT_EXPIRED"
        );
        assert!(sign_message_with_record("app_msg", Some(&expired), canonical, 4.0).is_ok());
    }
}
