//! The HMAC wire v1 of `@naskot/node-hmac-auth-core` 1.0.0 as C functions. Each one
//! converts its arguments, calls `authcore::hmac`, and writes the result into memory the
//! caller owns.

#![allow(non_camel_case_types)]

use std::ffi::c_char;

use authcore::hmac::canonical::{parse_json, to_message_string};
use authcore::hmac::crypto::{self, SignInput};
use authcore::hmac::ip::{AllowedIpEntry, is_client_ip_allowed, normalize_allowed_ip_rules};
use authcore::hmac::message::{self, MessageKey};
use authcore::hmac::record::{
    NamespaceKeys, nonce_claim_ttl_seconds, parse_optional_record, parse_stored_client_record,
};
use authcore::hmac::sources::{IpField, IpSources};
use authcore::hmac::verify::{self, HttpRequestParts};
use authcore::hmac::{normalize_path, safe_equal_hex};

use crate::error::authcore_result::{self, *};
use crate::ffi::{
    self, FfiError, FfiResult, array, boundary, hex_array, in_ref, opt_text, out_ptr, text,
    vec_with_capacity, write_text,
};

/// Length of a hex digest (SHA-256 or HMAC-SHA256): 64 characters.
pub const AUTHCORE_HEX_LEN: usize = 64;
/// Buffer size for a hex digest and its terminating NUL.
pub const AUTHCORE_HEX_BUFFER_SIZE: usize = 65;
/// The original's default `maxSkewMs` (5 minutes), for `authcore_verify_request.max_skew_ms`.
pub const AUTHCORE_DEFAULT_MAX_SKEW_MS: f64 = 300000.0;
/// The largest `max_skew_ms` accepted (24 hours); above it, or NaN/±Infinity, is
/// `AUTHCORE_INVALID_ARGUMENT`.
pub const AUTHCORE_MAX_SKEW_MS: f64 = 86400000.0;
/// Longest `x-nonce` value accepted by `authcore_verify_with_record`, in bytes.
pub const AUTHCORE_MAX_NONCE_BYTES: usize = 256;
/// Longest `x-client-id` value, in bytes.
pub const AUTHCORE_MAX_CLIENT_ID_BYTES: usize = 256;
/// Longest `x-signature` / `x-timestamp` value and IP candidate, in bytes.
pub const AUTHCORE_MAX_HEADER_VALUE_BYTES: usize = 8192;
/// Largest body accepted, in bytes (V8's maximum string length: the original turns
/// every body into a JavaScript string). Longer bodies give `AUTHCORE_INVALID_INPUT`.
pub const AUTHCORE_MAX_BODY_BYTES: usize = 536870888;

const _: () = assert!(AUTHCORE_MAX_BODY_BYTES == crypto::MAX_BODY_BYTES);

/// A string argument: `len` bytes at `ptr`, not NUL-terminated (embedded NULs are part
/// of the string). Text must be UTF-8. Where a field is documented as optional, a NULL
/// `ptr` means "absent"; elsewhere NULL gives `AUTHCORE_NULL_PARAMETER`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_str {
    /// First byte (may be NULL only where documented).
    pub ptr: *const c_char,
    /// Number of bytes.
    pub len: usize,
}

/// The inputs of a request signature (the original's `SignInput`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_sign_input {
    /// HTTP method; upper-cased with full Unicode rules (`post` → `POST`).
    pub method: authcore_str,
    /// Path, path with query, or absolute URL; normalised like WHATWG
    /// `new URL(path, "http://localhost")` → pathname + search.
    pub path: authcore_str,
    /// Milliseconds since the epoch, rendered as JavaScript renders a Number
    /// (`1e+21`, `1.5`, `-1`, `NaN`, `Infinity` are all rendered, not rejected).
    pub timestamp: f64,
    /// The nonce, used verbatim.
    pub nonce: authcore_str,
    /// The body bytes (NULL allowed when `body_len` is 0). Hashed as the original does:
    /// invalid UTF-8 sequences are replaced by U+FFFD first.
    pub body: *const u8,
    /// Number of body bytes, at most `AUTHCORE_MAX_BODY_BYTES`.
    pub body_len: usize,
    /// The signing key (normally the 64-char `secretHash`), used as UTF-8 text. Ignored
    /// (may be NULL) by `authcore_build_signing_payload`.
    pub secret: authcore_str,
}

/// Inputs of the message track (`signMessage` / `verifyMessage`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_message_input {
    /// The client id; surrounding JavaScript white space is trimmed.
    pub client_id: authcore_str,
    /// The message as JSON text (any JSON value). A top-level string is signed raw
    /// (unquoted), `null` as the empty string; objects get the original's canonical key
    /// order. `\uD800`-style escapes of lone surrogates are kept as the original keeps
    /// them.
    pub message_json: authcore_str,
    /// The plain secret, or the `secretHash` when `secret_is_hashed` is true.
    pub secret: authcore_str,
    /// `secretIsHashed`: use `secret` directly as the key.
    pub secret_is_hashed: bool,
    /// `hashToken` (the pepper used to hash a plain secret). Optional: NULL `ptr` = none.
    pub hash_token: authcore_str,
}

/// A signed message (`SignedMessage`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_signed_message {
    /// Where the trimmed client id starts inside the input `client_id`.
    pub client_id_offset: usize,
    /// Length in bytes of the trimmed client id.
    pub client_id_len: usize,
    /// SHA-256 hex of the canonical message, NUL-terminated.
    pub message_hash: [c_char; 65],
    /// HMAC-SHA256 hex signature, NUL-terminated.
    pub signature: [c_char; 65],
}

/// An inbound request for `authcore_verify_with_record` (the original's
/// `verifyHttpSignature` input without the store).
///
/// Header values are what the original's `getHeader` returns: the first header whose
/// name matches case-insensitively, the first element when repeated. A NULL `ptr` means
/// the header is missing; an empty value counts as missing too. To match a Node server
/// byte for byte, decode raw header bytes as Latin-1 into UTF-8 (Node does).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_verify_request {
    /// The request method as received (upper-cased for the signature).
    pub method: authcore_str,
    /// The request target (`req.originalUrl ?? req.url`), normalised like the signer.
    pub path: authcore_str,
    /// `x-client-id` (optional; trimmed).
    pub client_id: authcore_str,
    /// `x-signature` (optional; used raw).
    pub signature: authcore_str,
    /// `x-timestamp` (optional; parsed with JavaScript `Number()` rules).
    pub timestamp: authcore_str,
    /// `x-nonce` (optional; used raw).
    pub nonce: authcore_str,
    /// The raw body bytes (NULL allowed when `body_len` is 0).
    pub body: *const u8,
    /// Number of body bytes, at most `AUTHCORE_MAX_BODY_BYTES`.
    pub body_len: usize,
    /// The current time in milliseconds (`input.now ?? Date.now()`); also decides expiry.
    pub now_ms: f64,
    /// The skew window (`AUTHCORE_DEFAULT_MAX_SKEW_MS` by default). Fails closed: NaN,
    /// ±Infinity or more than `AUTHCORE_MAX_SKEW_MS` is `AUTHCORE_INVALID_ARGUMENT`
    /// (`now_ms` must be finite too). A negative window rejects every request, like the
    /// original.
    pub max_skew_ms: f64,
    /// The stored credential value (`HGET <ns>:clients <clientId>`), in any form the
    /// original accepts (JSON record or legacy bare hash). Optional: NULL `ptr` or an
    /// empty value means no credential (`UNKNOWN_CLIENT`).
    pub record: authcore_str,
    /// IP candidates in the original's order: `metadata.ip`, each of `metadata.ips`,
    /// `metadata.forwardedFor`, the `x-forwarded-for` header, `metadata.remoteAddress`.
    /// The first that parses is the client IP. Entries with a NULL `ptr` or bytes that
    /// are not UTF-8 are skipped (they cannot be an IP). NULL allowed when the count is 0.
    pub ip_candidates: *const authcore_str,
    /// Number of IP candidates.
    pub ip_candidates_len: usize,
}

/// The outcome of `authcore_verify_with_record`, written on success and on failure.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_verification {
    /// HTTP status: 200 on success, otherwise the status the original answers with
    /// (401, 403 for the IP checks, 500 for non-auth failures such as an invalid URL).
    pub status: u16,
    /// Where the trimmed client id starts inside `request.client_id` (valid once the
    /// headers passed their checks, i.e. from `AUTHCORE_UNKNOWN_CLIENT` on; else 0).
    pub client_id_offset: usize,
    /// Length of the trimmed client id (0 while unknown).
    pub client_id_len: usize,
    /// `Number(x-timestamp)` once parsed and within the window; NaN before that.
    pub timestamp: f64,
    /// On `AUTHCORE_BAD_SIGNATURE`: the signature that was expected (the original's
    /// `onBadSignature` `expectedSignature`), NUL-terminated hex; otherwise empty.
    pub expected_signature: [c_char; 65],
    /// On `AUTHCORE_OK`: the TTL in seconds to claim the nonce with (`SET … NX EX`): the
    /// rest of the request's window, `ceil((timestamp + max_skew_ms - now_ms) / 1000) + 1`
    /// (see `authcore_nonce_ttl_seconds`); 0 otherwise.
    pub nonce_ttl_seconds: i64,
}

/// # Safety
/// `s.ptr` must be valid for `s.len` bytes when non-NULL.
unsafe fn req_str<'a>(s: &authcore_str, name: &str) -> FfiResult<&'a str> {
    // SAFETY: forwarded caller guarantee.
    unsafe { text(s.ptr, s.len, name) }
}

/// # Safety
/// As [`req_str`].
unsafe fn opt_str<'a>(s: &authcore_str, name: &str) -> FfiResult<Option<&'a str>> {
    // SAFETY: forwarded caller guarantee.
    unsafe { opt_text(s.ptr, s.len, name) }
}

/// A body: NULL allowed with length 0; at most `AUTHCORE_MAX_BODY_BYTES` (checked before
/// any byte is read).
///
/// # Safety
/// A non-NULL `ptr` must be valid for `len` bytes.
unsafe fn body<'a>(ptr: *const u8, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    crypto::check_body_size(len)?;
    // SAFETY: forwarded caller guarantee.
    unsafe { ffi::bytes(ptr, len, name) }
}

/// Text, or `None` when the entry is NULL or not UTF-8 (array entries that cannot be an
/// IP or a rule).
///
/// # Safety
/// As [`req_str`].
unsafe fn lenient_str<'a>(s: &authcore_str) -> FfiResult<Option<&'a str>> {
    if s.ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded caller guarantee.
    let b = unsafe { ffi::bytes(s.ptr.cast(), s.len, "array entry")? };
    Ok(std::str::from_utf8(b).ok())
}

/// # Safety
/// `input` must point to a valid `authcore_sign_input` whose pointers are valid.
unsafe fn sign_input<'a>(
    input: *const authcore_sign_input,
    need_secret: bool,
) -> FfiResult<SignInput<'a>> {
    // SAFETY: forwarded caller guarantee for the struct and every field.
    unsafe {
        let i = in_ref(input, "input")?;
        Ok(SignInput {
            method: req_str(&i.method, "input->method")?,
            path: req_str(&i.path, "input->path")?,
            timestamp: i.timestamp,
            nonce: req_str(&i.nonce, "input->nonce")?,
            body: body(i.body, i.body_len, "input->body")?,
            secret: if need_secret {
                req_str(&i.secret, "input->secret")?
            } else {
                ""
            },
        })
    }
}

/// `hashClientSecret(secret, secretToken?)`: SHA-256 hex of `secret`, or HMAC-SHA256 hex
/// keyed by `secret_token` when it is present and non-empty (`"0"` counts as present).
///
/// Writes 64 hex characters and a NUL into `out` (`AUTHCORE_HEX_BUFFER_SIZE` bytes
/// needed) and 64 into `*out_written`. `secret_token` may be NULL (no token).
///
/// # Safety
/// `secret` valid for `secret_len` bytes; `secret_token` NULL or valid for
/// `secret_token_len` bytes; `out` valid for `out_len` bytes of writes; `out_written`
/// writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_hash_client_secret(
    secret: *const c_char,
    secret_len: usize,
    secret_token: *const c_char,
    secret_token_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let secret = text(secret, secret_len, "secret")?;
            let token = opt_text(secret_token, secret_token_len, "secret_token")?;
            let hex = crypto::hash_client_secret(secret, token);
            write_text(hex.as_bytes(), out, out_len, out_written)
        }
    })
}

/// `hashBody(body)`: SHA-256 hex of the body, hashed like the original (invalid UTF-8
/// sequences replaced by U+FFFD first; valid UTF-8 is hashed as is).
///
/// `body` may be NULL when `body_len` is 0. Bodies longer than `AUTHCORE_MAX_BODY_BYTES`
/// give `AUTHCORE_INVALID_INPUT`. Output as for `authcore_hash_client_secret`.
///
/// # Safety
/// `body` valid for `body_len` bytes (or NULL with 0); `out` valid for `out_len` bytes of
/// writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_hash_body(
    body: *const u8,
    body_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let b = self::body(body, body_len, "body")?;
            write_text(crypto::hash_body(b).as_bytes(), out, out_len, out_written)
        }
    })
}

/// `buildSigningPayload(input)`:
/// `METHOD\nPATH\nTIMESTAMP\nNONCE\nSHA256(body)` with no trailing newline (`secret` is
/// ignored). A path that is not a valid URL (`//[`) gives `AUTHCORE_INVALID_INPUT`.
///
/// Writes the payload plus a NUL into `out` and its length into `*out_written`; the
/// payload may contain NUL bytes if the nonce does, so rely on `*out_written`. On
/// `AUTHCORE_BUFFER_TOO_SMALL`, `*out_written` is the size needed.
///
/// # Safety
/// `input` points to a valid `authcore_sign_input`; `out` valid for `out_len` bytes of
/// writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_build_signing_payload(
    input: *const authcore_sign_input,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let si = sign_input(input, false)?;
            let payload = crypto::build_signing_payload(&si)?;
            write_text(payload.as_bytes(), out, out_len, out_written)
        }
    })
}

/// `signRequest(input)`: HMAC-SHA256 hex, keyed by the UTF-8 bytes of `input->secret`,
/// over the signing payload. Output as for `authcore_hash_client_secret`.
///
/// # Safety
/// As `authcore_build_signing_payload`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_sign_request(
    input: *const authcore_sign_input,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let si = sign_input(input, true)?;
            let sig = crypto::sign_request(&si)?;
            write_text(sig.as_bytes(), out, out_len, out_written)
        }
    })
}

/// Whether `signature` is the request signature of `input`:
/// `safeEqualHex(signRequest(input), signature)`, compared in constant time (hex case
/// does not matter; a wrong length is `false`). Sets `*out_valid` and returns
/// `AUTHCORE_OK`; a mismatch is not an error.
///
/// # Safety
/// `input` points to a valid `authcore_sign_input`; `signature` valid for
/// `signature_len` bytes; `out_valid` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_verify_request_signature(
    input: *const authcore_sign_input,
    signature: *const c_char,
    signature_len: usize,
    out_valid: *mut bool,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let out = out_ptr(out_valid, "out_valid")?;
            let si = sign_input(input, true)?;
            let sig = text(signature, signature_len, "signature")?;
            out.set(crypto::verify_request_signature(&si, sig)?);
            Ok(())
        }
    })
}

/// `safeEqualHex(a, b)` with the original's semantics: different lengths (in UTF-16
/// code units) are unequal; both sides are decoded like Node's `Buffer.from(x, "hex")`
/// (case-insensitive, stops at the first bad pair) and compared in constant time. So
/// `"ab"`/`"AB"` and `"zz"`/`"zz"` are equal. Sets `*out_equal`.
///
/// # Safety
/// `a`, `b` valid for their lengths; `out_equal` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_safe_equal_hex(
    a: *const c_char,
    a_len: usize,
    b: *const c_char,
    b_len: usize,
    out_equal: *mut bool,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let out = out_ptr(out_equal, "out_equal")?;
            let a = text(a, a_len, "a")?;
            let b = text(b, b_len, "b")?;
            out.set(safe_equal_hex(a, b));
            Ok(())
        }
    })
}

/// `normalizePath(path)`: WHATWG URL parsing against `http://localhost`, giving
/// pathname + search (`""` → `/`, `/a b` → `/a%20b`, `//evil/x` → `/x`,
/// `https://h/p?q#f` → `/p?q`). Invalid URLs (`//[`, `//a:99999/x`) give
/// `AUTHCORE_INVALID_INPUT`. Output as for `authcore_build_signing_payload`.
///
/// # Safety
/// `path` valid for `path_len` bytes; `out` valid for `out_len` bytes of writes;
/// `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_normalize_path(
    path: *const c_char,
    path_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let p = text(path, path_len, "path")?;
            let n = normalize_path(p)?;
            write_text(n.as_bytes(), out, out_len, out_written)
        }
    })
}

/// `toMessageString(message)`: the exact text the message track hashes. `message_json`
/// is any JSON value: objects get the original's key order (integer-like keys first,
/// ascending, then en-US collation), strings at the top level are returned raw, `null`
/// gives `""`, numbers are rendered as JavaScript does. JSON that does not parse gives
/// `AUTHCORE_INVALID_INPUT`. Output as for `authcore_build_signing_payload`.
///
/// # Safety
/// `message_json` valid for `message_json_len` bytes; `out` valid for `out_len` bytes of
/// writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_message_canonical(
    message_json: *const c_char,
    message_json_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let json = text(message_json, message_json_len, "message_json")?;
            let canonical = to_message_string(&parse_json(json, None)?)?;
            write_text(canonical.as_bytes(), out, out_len, out_written)
        }
    })
}

/// # Safety
/// `input` points to a valid `authcore_message_input`.
unsafe fn message_args<'a>(
    input: *const authcore_message_input,
) -> FfiResult<(&'a str, authcore::hmac::JsValue, MessageKey<'a>)> {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        let i = in_ref(input, "input")?;
        let client_id = req_str(&i.client_id, "input->client_id")?;
        let json = req_str(&i.message_json, "input->message_json")?;
        let key = MessageKey {
            secret: req_str(&i.secret, "input->secret")?,
            secret_is_hashed: i.secret_is_hashed,
            hash_token: opt_str(&i.hash_token, "input->hash_token")?,
        };
        Ok((client_id, parse_json(json, None)?, key))
    }
}

/// `signMessage({clientId, message, secret, secretIsHashed?, hashToken?})`:
/// `messageHash` = SHA-256 of the canonical message, `signature` =
/// HMAC-SHA256(key, trimmedClientId + "\n" + messageHash), where key = `secret` when
/// `secret_is_hashed`, else `hashClientSecret(secret, hashToken)`. A blank client id or
/// secret gives `AUTHCORE_INVALID_ARGUMENT` (`clientId cannot be empty` /
/// `secret cannot be empty`). Fills `*out`.
///
/// # Safety
/// `input` points to a valid `authcore_message_input`; `out` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_sign_message(
    input: *const authcore_message_input,
    out: *mut authcore_signed_message,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        let (out, (client_id, message, key)) =
            unsafe { (out_ptr(out, "out")?, message_args(input)?) };
        let signed = message::sign_message(client_id, &message, key)?;
        // The trimmed id is a slice of the input: its first occurrence is where the
        // leading white space ends.
        let offset = client_id.find(signed.client_id.as_str()).ok_or_else(|| {
            FfiError::new(AUTHCORE_PANIC, "trimmed client id not found in the input")
        })?;
        out.set(authcore_signed_message {
            client_id_offset: offset,
            client_id_len: signed.client_id.len(),
            message_hash: hex_array(&signed.message_hash),
            signature: hex_array(&signed.signature),
        });
        Ok(())
    })
}

/// `verifyMessage({..., signature})`: recomputes the signature like
/// `authcore_sign_message` and compares it with `safeEqualHex` semantics in constant
/// time. Sets `*out_valid`; a mismatch is not an error. Errors as for
/// `authcore_sign_message`.
///
/// # Safety
/// `input` points to a valid `authcore_message_input`; `signature` valid for
/// `signature_len` bytes; `out_valid` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_verify_message(
    input: *const authcore_message_input,
    signature: *const c_char,
    signature_len: usize,
    out_valid: *mut bool,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        let (out, (client_id, message, key), sig) = unsafe {
            (
                out_ptr(out_valid, "out_valid")?,
                message_args(input)?,
                text(signature, signature_len, "signature")?,
            )
        };
        out.set(message::verify_message(client_id, &message, key, sig)?);
        Ok(())
    })
}

/// `isClientIpAllowed(ip, rules)`: true when `rules` is empty or the IP (after the
/// original's normalisation: first comma segment, brackets, port, zone, lowercase
/// `::ffff:` unmapping) falls in a rule of its family. Rules that do not parse, and
/// entries with a NULL `ptr` or invalid UTF-8, match nothing but still count (a list of
/// only invalid rules allows no one). Sets `*out_allowed`.
///
/// # Safety
/// `ip` valid for `ip_len` bytes; `rules` NULL (with `rules_len` 0) or an array of
/// `rules_len` valid `authcore_str`; `out_allowed` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_is_client_ip_allowed(
    ip: *const c_char,
    ip_len: usize,
    rules: *const authcore_str,
    rules_len: usize,
    out_allowed: *mut bool,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let out = out_ptr(out_allowed, "out_allowed")?;
            let ip = text(ip, ip_len, "ip")?;
            let rules = array(rules, rules_len, "rules")?;
            let mut list: Vec<&str> = vec_with_capacity(rules.len(), "rules")?;
            for r in rules {
                // "" is never a valid rule: it keeps its place without matching.
                list.push(lenient_str(r)?.unwrap_or(""));
            }
            out.set(is_client_ip_allowed(ip, &list));
            Ok(())
        }
    })
}

/// Deprecated alias of `authcore_is_client_ip_allowed`
/// (the name every language shares, after the core's `is_client_ip_allowed`);
/// same arguments, same results.
///
/// # Safety
/// As `authcore_is_client_ip_allowed`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_ip_allowed(
    ip: *const c_char,
    ip_len: usize,
    rules: *const authcore_str,
    rules_len: usize,
    out_allowed: *mut bool,
) -> authcore_result {
    // SAFETY: forwarded caller guarantees.
    unsafe { authcore_is_client_ip_allowed(ip, ip_len, rules, rules_len, out_allowed) }
}

/// `normalizeAllowedIpRules(rules)` (every write path of the original): each rule
/// re-written in its `source` form (`" 195.7.8.9/024 "` → `195.7.8.9/24`, host bits and
/// IPv6 case kept), duplicates dropped, first-seen order kept. An invalid rule gives
/// `AUTHCORE_INVALID_ARGUMENT` with the original's message; an entry with a NULL `ptr`
/// is a non-string entry (`allowedIps entries must be strings`).
///
/// Output: the rules joined by NUL bytes and terminated by a NUL (`"a\0b\0"`), their
/// count in `*out_count`, the total length without the last NUL in `*out_written`
/// (`AUTHCORE_BUFFER_TOO_SMALL` reports the size needed there).
///
/// # Safety
/// `rules` NULL (with 0) or an array of `rules_len` valid `authcore_str`; `out` valid for
/// `out_len` bytes of writes; `out_written` and `out_count` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_normalize_allowed_ip_rules(
    rules: *const authcore_str,
    rules_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
    out_count: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let count = out_ptr(out_count, "out_count")?;
            let rules = array(rules, rules_len, "rules")?;
            let mut entries = vec_with_capacity(rules.len(), "rules")?;
            for r in rules {
                entries.push(match opt_str(r, "rules[i]")? {
                    Some(s) => AllowedIpEntry::Str(s.to_owned()),
                    None => AllowedIpEntry::NotAString,
                });
            }
            let normalized = normalize_allowed_ip_rules(Some(&entries))?;
            write_text(normalized.join("\0").as_bytes(), out, out_len, out_written)?;
            count.set(normalized.len());
            Ok(())
        }
    })
}

/// Deprecated alias of `authcore_normalize_allowed_ip_rules` (the name every language
/// shares); same arguments, same results.
///
/// # Safety
/// As `authcore_normalize_allowed_ip_rules`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_normalize_allowed_ips(
    rules: *const authcore_str,
    rules_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
    out_count: *mut usize,
) -> authcore_result {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        authcore_normalize_allowed_ip_rules(rules, rules_len, out, out_len, out_written, out_count)
    }
}

/// One `metadata` IP field of a request (`metadata.ip`, `.ips`, `.forwardedFor`,
/// `.remoteAddress`): `values` NULL with `len` 0 = absent; one value for a string; the
/// string entries of an array, in order. Entries with a NULL `ptr` or bytes that are not
/// UTF-8 are skipped (the original ignores non-strings).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_ip_field {
    pub values: *const authcore_str,
    pub len: usize,
}

/// The IP sources of a request, as the host holds them (`input.metadata` of the original
/// and its `x-forwarded-for` header).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_ip_sources {
    /// `metadata.ip`.
    pub ip: authcore_ip_field,
    /// `metadata.ips`.
    pub ips: authcore_ip_field,
    /// `metadata.forwardedFor`.
    pub forwarded_for: authcore_ip_field,
    /// The `x-forwarded-for` header (`getHeader`'s value; NULL `ptr` = absent).
    pub forwarded_header: authcore_str,
    /// `metadata.remoteAddress`.
    pub remote_address: authcore_ip_field,
}

/// # Safety
/// `f.values` NULL with 0, or valid for `f.len` entries whose non-NULL strings are valid.
unsafe fn ip_field(f: &authcore_ip_field, name: &str) -> FfiResult<IpField> {
    // SAFETY: forwarded caller guarantee.
    let items = unsafe { array(f.values, f.len, name)? };
    let mut out = vec_with_capacity(items.len(), name)?;
    for s in items {
        // SAFETY: forwarded caller guarantee for the entries.
        if let Some(v) = unsafe { lenient_str(s)? } {
            out.push(v.to_owned());
        }
    }
    Ok(match out.len() {
        0 if items.is_empty() => IpField::Absent,
        1 if items.len() == 1 => IpField::One(out.remove(0)),
        _ => IpField::Many(out),
    })
}

/// The IP candidates of a request in the original's order (the core's rule,
/// `hmac::sources::IpSources`): `metadata.ip`, each of `metadata.ips`,
/// `metadata.forwardedFor`, the `x-forwarded-for` header, `metadata.remoteAddress`: what
/// `authcore_verify_request.ip_candidates` expects. The first that parses is the client IP.
///
/// Output as for `authcore_normalize_allowed_ip_rules`: the candidates joined by NUL bytes
/// and terminated by a NUL, their count in `*out_count`, the total length without the last
/// NUL in `*out_written` (`AUTHCORE_BUFFER_TOO_SMALL` reports the size needed there).
///
/// # Safety
/// `sources` valid, its arrays and strings valid for their lengths; `out` valid for
/// `out_len` bytes of writes; `out_written` and `out_count` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_ip_candidates(
    sources: *const authcore_ip_sources,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
    out_count: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let count = out_ptr(out_count, "out_count")?;
            let s = in_ref(sources, "sources")?;
            let candidates = IpSources {
                ip: ip_field(&s.ip, "sources->ip")?,
                ips: ip_field(&s.ips, "sources->ips")?,
                forwarded_for: ip_field(&s.forwarded_for, "sources->forwarded_for")?,
                forwarded_header: lenient_str(&s.forwarded_header)?.map(str::to_owned),
                remote_address: ip_field(&s.remote_address, "sources->remote_address")?,
            }
            .candidates();
            write_text(candidates.join("\0").as_bytes(), out, out_len, out_written)?;
            count.set(candidates.len());
            Ok(())
        }
    })
}

/// `parseStoredClientRecord(raw)` written back as the record JSON the original stores:
/// `{"secretHash":…,"createdAt":…,"updatedAt":…,"expiresAt":…|null,"allowedIps":[…]}`.
/// Non-finite timestamps become 0 / null, invalid IP rules are dropped, extra fields
/// ignored; a value that is not JSON with a string `secretHash` is a legacy record whose
/// whole text is the hash. Output as for `authcore_build_signing_payload`.
///
/// # Safety
/// `raw` valid for `raw_len` bytes; `out` valid for `out_len` bytes of writes;
/// `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_parse_stored_client_record(
    raw: *const c_char,
    raw_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let raw = text(raw, raw_len, "raw")?;
            let json = parse_stored_client_record(raw).to_json();
            write_text(json.as_bytes(), out, out_len, out_written)
        }
    })
}

/// Deprecated alias of `authcore_parse_stored_client_record`
/// (the name every language shares, after the core's `parse_stored_client_record`);
/// same arguments, same results.
///
/// # Safety
/// As `authcore_parse_stored_client_record`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_parse_record(
    raw: *const c_char,
    raw_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    // SAFETY: forwarded caller guarantees.
    unsafe { authcore_parse_stored_client_record(raw, raw_len, out, out_len, out_written) }
}

fn empty_verification() -> authcore_verification {
    authcore_verification {
        status: 500,
        client_id_offset: 0,
        client_id_len: 0,
        timestamp: f64::NAN,
        expected_signature: [0; 65],
        nonce_ttl_seconds: 0,
    }
}

/// # Safety
/// `r` must be a valid request whose pointers are valid.
unsafe fn verify_inner(r: &authcore_verify_request, v: &mut authcore_verification) -> FfiResult {
    // SAFETY: forwarded caller guarantee for every field.
    let (method, path, client_id, signature, timestamp, nonce, body, record, candidates) = unsafe {
        (
            req_str(&r.method, "request->method")?,
            req_str(&r.path, "request->path")?,
            opt_str(&r.client_id, "request->client_id")?,
            opt_str(&r.signature, "request->signature")?,
            opt_str(&r.timestamp, "request->timestamp")?,
            opt_str(&r.nonce, "request->nonce")?,
            body(r.body, r.body_len, "request->body")?,
            opt_str(&r.record, "request->record")?,
            array(
                r.ip_candidates,
                r.ip_candidates_len,
                "request->ip_candidates",
            )?,
        )
    };
    let parts = HttpRequestParts {
        method,
        path,
        client_id,
        signature,
        timestamp,
        nonce,
        body,
    };
    let prepared = verify::prepare(&parts, r.now_ms, r.max_skew_ms)?;
    if let Some(header) = client_id {
        // `prepared.client_id` is a sub-slice of the header value.
        v.client_id_offset = prepared.client_id.as_ptr() as usize - header.as_ptr() as usize;
        v.client_id_len = prepared.client_id.len();
    }
    v.timestamp = prepared.timestamp;
    let ttl = prepared.nonce_ttl_seconds;
    let Some(record) = parse_optional_record(record) else {
        return Err(verify::unknown_client().into());
    };
    let mut ips: Vec<&str> = vec_with_capacity(candidates.len(), "request->ip_candidates")?;
    for c in candidates {
        // SAFETY: forwarded caller guarantee for the array entries.
        if let Some(s) = unsafe { lenient_str(c)? } {
            ips.push(s);
        }
    }
    verify::check_record(&prepared, &parts, &record, r.now_ms, &ips).map_err(|e| {
        if let Some(details) = &e.bad_signature {
            v.expected_signature = hex_array(&details.expected_signature);
        }
        FfiError::from(e)
    })?;
    v.nonce_ttl_seconds = ttl;
    Ok(())
}

/// The original's `verifyHttpSignature` without its store (spec §2.7 steps 2–12), in
/// the original's order: the four headers (client id, signature, timestamp, nonce),
/// the timestamp (`Number()` rules) and skew window, the credential (`request->record`),
/// expiry, the IP allow-list, then the signature in constant time. Returns `AUTHCORE_OK`
/// or the error code of the first failing check, and always fills `*out` (status,
/// trimmed client id, parsed timestamp, expected signature on `BAD_SIGNATURE`).
///
/// Replay protection is the caller's: after `AUTHCORE_OK`, claim the nonce with
/// `SET <ns>:nonce:<clientId>:<nonce>:<timestamp> 1 NX EX <out->nonce_ttl_seconds>`
/// and answer `REPLAYED_NONCE` (401) when the key exists. The verified nonce and
/// signature are the raw header values from `request`.
///
/// # Safety
/// `request` points to a valid `authcore_verify_request` whose pointers are valid for
/// their lengths; `out` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_verify_with_record(
    request: *const authcore_verify_request,
    out: *mut authcore_verification,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        let (out, r) = unsafe { (out_ptr(out, "out")?, in_ref(request, "request")?) };
        out.set(empty_verification());
        let mut v = empty_verification();
        // SAFETY: caller guarantees (see # Safety).
        let result = unsafe { verify_inner(r, &mut v) };
        v.status = match &result {
            Ok(()) => 200,
            Err(e) => e.status,
        };
        if let Err(e) = &result {
            count_rejection(r, &v, e.code);
        }
        out.set(v);
        result
    })
}

/// Counts a sans-IO rejection in the core's metrics (`authcore_verify_total{outcome}`)
/// and emits its log event with the trimmed client id when there is one. Argument
/// errors the C layer finds itself (`NULL_PARAMETER`, `INVALID_UTF8`) count as
/// `INVALID_ARGUMENT`.
fn count_rejection(r: &authcore_verify_request, v: &authcore_verification, code: authcore_result) {
    let name = code.name().to_str().unwrap_or("INTERNAL_ERROR");
    let name = match name {
        "NULL_PARAMETER" | "INVALID_UTF8" => "INVALID_ARGUMENT",
        other => other,
    };
    // SAFETY: `r` was read by `verify_inner` under the caller's guarantee; a header that
    // is not valid UTF-8 gives no client id.
    let header = unsafe { opt_str(&r.client_id, "request->client_id") }
        .ok()
        .flatten();
    let client_id = header.and_then(|h| {
        h.get(v.client_id_offset..v.client_id_offset + v.client_id_len)
            .filter(|id| !id.is_empty())
    });
    authcore::metrics::verify_observed(client_id, Some(name), None);
}

/// The caller's nonce claim after `authcore_verify_with_record` answered `AUTHCORE_OK`:
/// `claimed != 0` when `SET … NX` stored the key (the request is accepted: returns
/// `AUTHCORE_OK`), 0 when the key already existed (a replay: returns
/// `AUTHCORE_REPLAYED_NONCE`, answered 401). Either way the outcome is counted in the
/// core's metrics (`authcore_verify_total{outcome="OK"}` or `{outcome="REPLAYED_NONCE"}`),
/// so a host that reports its claims here has the same verification counters as one
/// whose verifier does the I/O. `authcore_verify_with_record` counts its rejections
/// itself; its success is counted here, once the claim has decided it. Latency is not
/// recorded for sans-IO verifications (the store round trip is the caller's).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn authcore_verify_nonce_claimed(claimed: i32) -> authcore_result {
    ffi::boundary_or(AUTHCORE_INTERNAL_ERROR, || {
        if claimed != 0 {
            authcore::metrics::verify_observed(None, None, None);
            AUTHCORE_OK
        } else {
            authcore::metrics::verify_observed(None, Some("REPLAYED_NONCE"), None);
            AUTHCORE_REPLAYED_NONCE
        }
    })
}

/// The Redis key that claims a nonce: `<ns>:nonce:<clientId>:<nonce>:<timestamp>`,
/// with the namespace trimmed (NULL = the default `hmacauth`), the trimmed client id
/// and raw nonce as verified, and the timestamp rendered as JavaScript renders it
/// (`0x18BCFE56800` was verified as 1700000000000 and is keyed as `1700000000000`).
/// A blank namespace gives `AUTHCORE_INVALID_ARGUMENT` (`Namespace cannot be empty`).
/// Output as for `authcore_build_signing_payload`.
///
/// # Safety
/// `ns` NULL or valid for `ns_len` bytes; `client_id`, `nonce` valid for their lengths;
/// `out` valid for `out_len` bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_nonce_key(
    ns: *const c_char,
    ns_len: usize,
    client_id: *const c_char,
    client_id_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    timestamp: f64,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let keys = NamespaceKeys::new(opt_text(ns, ns_len, "ns")?)?;
            let client_id = text(client_id, client_id_len, "client_id")?;
            let nonce = text(nonce, nonce_len, "nonce")?;
            let key = keys.nonce_key(client_id, nonce, timestamp);
            write_text(key.as_bytes(), out, out_len, out_written)
        }
    })
}

/// The TTL of a nonce claim in seconds for a request stamped `timestamp` (the parsed
/// `x-timestamp`, `authcore_verification.timestamp`) and accepted at `now_ms`: the rest of
/// its window, `ceil((timestamp + max_skew_ms - now_ms) / 1000) + 1`, at least 1
/// (`authcore_verification.nonce_ttl_seconds` is the same value). The original keeps
/// `max(1, ceil(max_skew_ms / 1000))` from the claim, which a client whose clock runs ahead
/// outlives. Fails closed: 0 (which Redis refuses as an `EX` value) when an argument is not
/// finite or `max_skew_ms` is above `AUTHCORE_MAX_SKEW_MS`.
#[unsafe(no_mangle)]
pub extern "C" fn authcore_nonce_ttl_seconds(timestamp: f64, now_ms: f64, max_skew_ms: f64) -> i64 {
    ffi::boundary_or(0, || {
        let valid = timestamp.is_finite()
            && authcore::hmac::record::check_now_ms(now_ms).is_ok()
            && authcore::hmac::record::check_max_skew_ms(max_skew_ms).is_ok();
        if valid {
            nonce_claim_ttl_seconds(timestamp, now_ms, max_skew_ms)
        } else {
            0
        }
    })
}

/// A fresh nonce as the original's signer makes one: 16 random bytes from the OS CSPRNG
/// as 32 lowercase hex characters (33 bytes with the NUL). Output as for
/// `authcore_hash_client_secret`.
///
/// # Safety
/// `out` valid for `out_len` bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_generate_nonce(
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        let nonce = authcore::hmac::clients::generate_nonce()?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe { write_text(nonce.as_bytes(), out, out_len, out_written) }
    })
}

const VERSION_C: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(v) => v,
    Err(_) => panic!("version string has no interior NUL"),
};

/// The library version (`"0.1.0"`), a static NUL-terminated string equal to the
/// header's `AUTHCORE_VERSION`. Never NULL; must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn authcore_version() -> *const c_char {
    ffi::boundary_or(VERSION_C.as_ptr(), || VERSION_C.as_ptr())
}

// The C constants are the core's limits.
const _: () = {
    assert!(AUTHCORE_MAX_SKEW_MS == authcore::limits::MAX_SKEW_MS);
    assert!(AUTHCORE_MAX_NONCE_BYTES == authcore::limits::MAX_NONCE_BYTES);
    assert!(AUTHCORE_MAX_CLIENT_ID_BYTES == authcore::limits::MAX_CLIENT_ID_BYTES);
    assert!(AUTHCORE_MAX_HEADER_VALUE_BYTES == authcore::limits::MAX_HEADER_VALUE_BYTES);
};
