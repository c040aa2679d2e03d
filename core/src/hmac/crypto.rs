//! Pure wire-v1 primitives (spec §2.2): secret hashing, the signing payload, the request
//! signature and the original's hex comparison, in constant time.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::HmacError;
use super::path::normalize_path;
use crate::js::number_to_string;

type HmacSha256 = Hmac<Sha256>;

/// SHA-256 of the empty string, the body hash of a request without a body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Lowercase hex of a 32-byte digest, without going through `format!`.
pub fn hex32(bytes: &[u8; 32]) -> String {
    let mut out = [0u8; 64];
    // `encode_to_slice` only fails when the output length is wrong, which it is not.
    hex::encode_to_slice(bytes, &mut out).expect("64-byte buffer for 32 bytes");
    // Hex digits are ASCII.
    String::from_utf8(out.to_vec()).expect("hex is ASCII")
}

/// HMAC-SHA256 over `message` keyed by `key`, as lowercase hex.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    hex32(&hmac_sha256(key, &[message]))
}

/// HMAC-SHA256 over the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// SHA-256 of `data`, as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex32(&Sha256::digest(data).into())
}

/// `hashClientSecret(secret, secretToken?)`: SHA-256 of the secret, or HMAC-SHA256 keyed
/// by the token when the token is present and non-empty (`"0"` counts as non-empty).
pub fn hash_client_secret(secret: &str, secret_token: Option<&str>) -> String {
    match secret_token {
        Some(token) if !token.is_empty() => hmac_sha256_hex(token.as_bytes(), secret.as_bytes()),
        _ => sha256_hex(secret.as_bytes()),
    }
}

/// `hashBody(body)`: SHA-256 of the UTF-8 text of the body. Bytes that are not valid
/// UTF-8 are hashed as the original hashes them: decoded with U+FFFD replacement (what
/// `Buffer#toString("utf8")` does) and re-encoded.
pub fn hash_body(body: &[u8]) -> String {
    hex32(&body_digest(body))
}

fn body_digest(body: &[u8]) -> [u8; 32] {
    // SIMD validation (AVX2/SSE4.2, detected at run time) keeps the UTF-8 check at a
    // few percent of the SHA-256 cost for large bodies.
    match simdutf8::basic::from_utf8(body) {
        Ok(_) => Sha256::digest(body).into(),
        Err(_) => Sha256::digest(String::from_utf8_lossy(body).as_bytes()).into(),
    }
}

/// The largest body accepted, in bytes: V8's maximum string length (`(1 << 29) - 24`
/// code units). The original turns every body into a JavaScript string before hashing,
/// so it cannot sign or verify a larger one (`Buffer#toString` throws). Bindings check
/// this before copying or hashing a body, so a huge body is a typed error everywhere.
pub const MAX_BODY_BYTES: usize = (1 << 29) - 24;

/// [`MAX_BODY_BYTES`] as an [`HmacError::InvalidInput`].
pub fn check_body_size(len: usize) -> Result<(), HmacError> {
    if len > MAX_BODY_BYTES {
        return Err(HmacError::InvalidInput(format!(
            "body too large: {len} bytes (at most {MAX_BODY_BYTES})"
        )));
    }
    Ok(())
}

/// Inputs of a request signature (`SignInput` of the original, with the body as bytes).
#[derive(Clone, Copy)]
pub struct SignInput<'a> {
    /// The HTTP method (upper-cased when signing).
    pub method: &'a str,
    /// A path, a path with query, or an absolute URL; normalised like the original.
    pub path: &'a str,
    /// Milliseconds since the Unix epoch, rendered as JavaScript does.
    pub timestamp: f64,
    /// The request's nonce.
    pub nonce: &'a str,
    /// The raw body bytes.
    pub body: &'a [u8],
    /// The signing key: normally the 64-char `secretHash`, used as UTF-8 text.
    pub secret: &'a str,
}

crate::redacted_debug!(SignInput<'a> { method, path, timestamp, nonce } secret { secret });

/// `buildSigningPayload`: `METHOD\nPATH\nTIMESTAMP\nNONCE\nSHA256(body)`, no trailing
/// newline. Fails only when the path is not a valid URL (the original throws
/// `ERR_INVALID_URL`).
pub fn build_signing_payload(input: &SignInput<'_>) -> Result<String, HmacError> {
    let path = normalize_path(input.path)?;
    Ok(payload_from_parts(
        &upper_method(input.method),
        &path,
        input.timestamp,
        input.nonce,
        &hash_body(input.body),
    ))
}

fn payload_from_parts(method: &str, path: &str, ts: f64, nonce: &str, body_hash: &str) -> String {
    let ts = number_to_string(ts);
    let mut s = String::with_capacity(method.len() + path.len() + ts.len() + nonce.len() + 68);
    for (i, part) in [method, path, &ts, nonce, body_hash]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            s.push('\n');
        }
        s.push_str(part);
    }
    s
}

/// JavaScript `toUpperCase()` (full Unicode mapping), without allocating for the
/// common ASCII case.
fn upper_method(method: &str) -> std::borrow::Cow<'_, str> {
    if method
        .bytes()
        .all(|b| !b.is_ascii_lowercase() && b.is_ascii())
    {
        std::borrow::Cow::Borrowed(method)
    } else {
        std::borrow::Cow::Owned(method.to_uppercase())
    }
}

/// The raw 32-byte request signature over an already normalised path and a precomputed
/// body digest. This is the hot path: no payload string is built.
pub fn sign_request_raw(
    method: &str,
    normalized_path: &str,
    timestamp: f64,
    nonce: &str,
    body_hash_hex: &str,
    secret: &str,
) -> [u8; 32] {
    let method = upper_method(method);
    let ts = number_to_string(timestamp);
    hmac_sha256(
        secret.as_bytes(),
        &[
            method.as_bytes(),
            b"\n",
            normalized_path.as_bytes(),
            b"\n",
            ts.as_bytes(),
            b"\n",
            nonce.as_bytes(),
            b"\n",
            body_hash_hex.as_bytes(),
        ],
    )
}

/// `signRequest(input)`: HMAC-SHA256 keyed by the UTF-8 bytes of `secret` over the
/// signing payload, as lowercase hex.
///
/// # Example
///
/// ```
/// use authcore::hmac::crypto::{SignInput, hash_client_secret, sign_request, verify_request_signature};
///
/// let key = hash_client_secret("s3cret", None); // the stored `secretHash` is the key
/// let input = SignInput {
///     method: "post",
///     path: "/api/orders?page=2",
///     timestamp: 1_700_000_000_000.0,
///     nonce: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
///     body: br#"{"id":1}"#,
///     secret: &key,
/// };
/// let signature = sign_request(&input)?;
/// assert_eq!(signature.len(), 64);
/// assert!(verify_request_signature(&input, &signature)?);
/// assert!(!verify_request_signature(&SignInput { body: b"{}", ..input }, &signature)?);
/// # Ok::<(), authcore::hmac::HmacError>(())
/// ```
pub fn sign_request(input: &SignInput<'_>) -> Result<String, HmacError> {
    let path = normalize_path(input.path)?;
    let body_hash = hex32(&body_digest(input.body));
    Ok(hex32(&sign_request_raw(
        input.method,
        &path,
        input.timestamp,
        input.nonce,
        &body_hash,
        input.secret,
    )))
}

/// `safeEqualHex(signRequest(input), received)` without building the expected hex:
/// whether `received` is the request signature of `input`, compared in constant time
/// with the original's hex semantics. Fails only when the path is not a valid URL.
pub fn verify_request_signature(input: &SignInput<'_>, received: &str) -> Result<bool, HmacError> {
    let path = normalize_path(input.path)?;
    let body_hash = hex32(&body_digest(input.body));
    let expected = sign_request_raw(
        input.method,
        &path,
        input.timestamp,
        input.nonce,
        &body_hash,
        input.secret,
    );
    Ok(mac_matches_hex(&expected, received))
}

/// Node's `Buffer.from(s, "hex")`: case-insensitive, stops at the first pair that is
/// not two hex digits, drops an odd trailing nibble.
fn node_hex_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks_exact(2) {
        match (hex_val(pair[0]), hex_val(pair[1])) {
            (Some(h), Some(l)) => out.push((h << 4) | l),
            _ => break,
        }
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Length of a string in UTF-16 code units (JavaScript's `String#length`).
fn js_length(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// `safeEqualHex(a, b)` with the original's semantics (spec §2.2): unequal lengths are
/// `false`; both sides are decoded like `Buffer.from(x, "hex")`; unequal decoded lengths
/// are `false`; otherwise the bytes are compared in constant time. So hex case does not
/// matter, and two identical non-hex strings (including `""`) compare equal.
pub fn safe_equal_hex(a: &str, b: &str) -> bool {
    if js_length(a) != js_length(b) {
        return false;
    }
    let da = node_hex_decode(a);
    let db = node_hex_decode(b);
    if da.len() != db.len() {
        return false;
    }
    da.ct_eq(&db).into()
}

/// Constant-time comparison of a computed 32-byte MAC against received hex, with
/// exactly the semantics of `safe_equal_hex(hex(expected), received)` but without
/// allocating the expected hex.
pub fn mac_matches_hex(expected: &[u8; 32], received: &str) -> bool {
    if js_length(received) != 64 {
        return false;
    }
    let decoded = node_hex_decode(received);
    if decoded.len() != 32 {
        return false;
    }
    decoded.ct_eq(expected).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_equal_hex_quirks() {
        let h = "eed3621935ff386c8af9282a64096fa5c4f52a44a162d86b311ee2f1434ced04";
        assert!(safe_equal_hex(h, &h.to_uppercase()));
        assert!(safe_equal_hex("zz", "zz"));
        assert!(safe_equal_hex("", ""));
        assert!(!safe_equal_hex("ab", "abc"));
        let mut bad = h.to_string();
        bad.replace_range(10..11, "g");
        assert!(!safe_equal_hex(h, &bad));
        // Decoding stops at the first bad pair: both stop at the same place and agree.
        assert!(safe_equal_hex("abzz", "abyy"));
    }

    #[test]
    fn mac_matches_hex_agrees_with_safe_equal_hex() {
        let mac = hmac_sha256(b"k", &[b"m"]);
        let hex = hex32(&mac);
        assert!(mac_matches_hex(&mac, &hex));
        assert!(mac_matches_hex(&mac, &hex.to_uppercase()));
        assert!(!mac_matches_hex(&mac, &hex[..63]));
        let mut other = hex.clone();
        other.replace_range(0..1, if &hex[0..1] == "0" { "1" } else { "0" });
        assert!(!mac_matches_hex(&mac, &other));
    }

    #[test]
    fn body_size_limit() {
        assert!(check_body_size(0).is_ok());
        assert!(check_body_size(MAX_BODY_BYTES).is_ok());
        let e = check_body_size(MAX_BODY_BYTES + 1).unwrap_err();
        assert_eq!(e.code(), "INVALID_INPUT");
    }

    #[test]
    fn verify_request_signature_agrees_with_sign_request() {
        let input = SignInput {
            method: "post",
            path: "/v1/messages?x=1",
            timestamp: 1_700_000_000_000.0,
            nonce: "nonce_1",
            body: br#"{"hello":"world"}"#,
            secret: "eed3621935ff386c8af9282a64096fa5c4f52a44a162d86b311ee2f1434ced04",
        };
        let sig = sign_request(&input).unwrap();
        assert_eq!(
            sig,
            "9fdc401b7eb309409286a40e661c1f672d4c6de470713241ac8b9d1993957f63"
        );
        assert!(verify_request_signature(&input, &sig).unwrap());
        assert!(verify_request_signature(&input, &sig.to_uppercase()).unwrap());
        assert!(!verify_request_signature(&input, &sig[..62]).unwrap());
        let other = SignInput {
            nonce: "nonce_2",
            ..input
        };
        assert!(!verify_request_signature(&other, &sig).unwrap());
        let bad_url = SignInput {
            path: "//[",
            ..input
        };
        assert!(verify_request_signature(&bad_url, &sig).is_err());
    }

    #[test]
    fn method_uppercasing_is_full_unicode() {
        assert_eq!(upper_method("post"), "POST");
        assert_eq!(upper_method("straße"), "STRASSE");
    }
}
