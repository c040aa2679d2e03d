//! Result codes of the C ABI and the functions that describe them.
//!
//! Every fallible `authcore_*` function returns an [`authcore_result`]. The numbers are
//! part of the ABI and never change meaning:
//! - `0` is success;
//! - `1..=99` are the `HmacAuthError` codes of the original (`1..=14` today, the
//!   discriminants of [`authcore::hmac::HmacErrorCode`]; the rest is reserved);
//! - `100..=199` are the other failures of the core (the original's plain `Error`s,
//!   `TypeError`-like bad input, store failures);
//! - `200..=299` are failures of the ABI itself (NULL pointers, buffers, UTF-8, panics).
//! - `1000..=1499` are the password, JWT, TOTP, PKCE and policy errors (`error/codes.rs`);
//! - `300..=399` are the credential propagation errors (`propagation.rs`).

#![allow(non_camel_case_types)]

use std::ffi::c_char;

use authcore::hmac::{HmacError, HmacErrorCode};

use crate::ffi::{self, FfiResult};

pub(crate) mod codes;

/// Result code of every fallible `authcore_*` function. `AUTHCORE_OK` (0) is success;
/// any other value is an error whose stable name `authcore_result_name` returns and
/// whose detailed message `authcore_error_message` returns.
///
/// Numbering (stable, with room for growth): 1..99 the `HmacAuthError` codes of
/// `@naskot/node-hmac-auth-core` (1..14) and `HEADER_TOO_LARGE` (15), 100..199 other core failures, 200..299
/// failures of the C ABI itself, 300..399 credential propagation.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum authcore_result {
    /// Success.
    AUTHCORE_OK = 0,
    /// `MISSING_CLIENT_ID`: the `x-client-id` header is missing or blank (401).
    AUTHCORE_MISSING_CLIENT_ID = 1,
    /// `MISSING_SIGNATURE`: the `x-signature` header is missing or empty (401).
    AUTHCORE_MISSING_SIGNATURE = 2,
    /// `MISSING_TIMESTAMP`: the `x-timestamp` header is missing or empty (401).
    AUTHCORE_MISSING_TIMESTAMP = 3,
    /// `MISSING_NONCE`: the `x-nonce` header is missing or empty (401).
    AUTHCORE_MISSING_NONCE = 4,
    /// `INVALID_TIMESTAMP`: `Number(x-timestamp)` is not finite (401).
    AUTHCORE_INVALID_TIMESTAMP = 5,
    /// `TIMESTAMP_SKEW`: `|now - timestamp| > maxSkewMs` (401).
    AUTHCORE_TIMESTAMP_SKEW = 6,
    /// `UNKNOWN_CLIENT`: no credential for the client id (401).
    AUTHCORE_UNKNOWN_CLIENT = 7,
    /// `CLIENT_EXPIRED`: `now > expiresAt` (401).
    AUTHCORE_CLIENT_EXPIRED = 8,
    /// `MISSING_CLIENT_IP`: the credential has an IP allow-list and no candidate IP
    /// parses (403).
    AUTHCORE_MISSING_CLIENT_IP = 9,
    /// `CLIENT_IP_NOT_ALLOWED`: the client IP matches no allow-list rule (403).
    AUTHCORE_CLIENT_IP_NOT_ALLOWED = 10,
    /// `CLIENT_NOT_FOUND`: credential management on a missing client (404).
    AUTHCORE_CLIENT_NOT_FOUND = 11,
    /// `BAD_SIGNATURE`: the signature does not match (401).
    AUTHCORE_BAD_SIGNATURE = 12,
    /// `REPLAYED_NONCE`: the nonce was already used (401).
    AUTHCORE_REPLAYED_NONCE = 13,
    /// `INTERNAL_ERROR`: what a middleware answers for any non-auth failure (500).
    AUTHCORE_INTERNAL_ERROR = 14,
    /// `HEADER_TOO_LARGE`: a header value above its cap (`AUTHCORE_MAX_NONCE_BYTES`,
    /// `AUTHCORE_MAX_CLIENT_ID_BYTES`, `AUTHCORE_MAX_HEADER_VALUE_BYTES`), refused before
    /// it is parsed (431). Not in the original.
    AUTHCORE_HEADER_TOO_LARGE = 15,
    /// `INVALID_ARGUMENT`: an argument the original rejects with a plain `Error`, with
    /// the original's message (e.g. `clientId cannot be empty`).
    AUTHCORE_INVALID_ARGUMENT = 100,
    /// `INVALID_INPUT`: input the original rejects with a `TypeError` (e.g. a path that is
    /// not a valid URL, JSON text that does not parse, a length above `PTRDIFF_MAX`).
    AUTHCORE_INVALID_INPUT = 101,
    /// `STORE_ERROR`: the credential or nonce store failed.
    AUTHCORE_STORE_ERROR = 102,
    /// `NULL_PARAMETER`: a required pointer was NULL.
    AUTHCORE_NULL_PARAMETER = 200,
    /// `BUFFER_TOO_SMALL`: an output buffer is too small; `*out_written` holds the size
    /// needed (terminating NUL included). Nothing else was written.
    AUTHCORE_BUFFER_TOO_SMALL = 201,
    /// `INVALID_UTF8`: text input that is not valid UTF-8.
    AUTHCORE_INVALID_UTF8 = 202,
    /// `PANIC`: a bug inside authcore was caught at the boundary; the call had no effect.
    AUTHCORE_PANIC = 203,
    // Passwords, JWT, TOTP, PKCE and policies (1000..=1499): names, statuses and the
    // mapping from the core errors live in `codes.rs`.
    /// `PASSWORD_INVALID_HASH`: the stored hash is not a well-formed argon2id PHC or bcrypt string (500).
    AUTHCORE_PASSWORD_INVALID_HASH = 1000,
    /// `PASSWORD_UNSUPPORTED_ALGORITHM`: a hash this library does not verify: `$argon2i$`, `$argon2d$`, `$2x$`... (500).
    AUTHCORE_PASSWORD_UNSUPPORTED_ALGORITHM = 1001,
    /// `PASSWORD_INVALID_PARAMS`: argon2 parameters out of range, a stored hash asking for more than 256 MiB, 10 passes or 8 lanes, or a malformed bcrypt salt (500).
    AUTHCORE_PASSWORD_INVALID_PARAMS = 1002,
    /// `PASSWORD_TOO_LONG`: the password is longer than `AUTHCORE_PASSWORD_MAX_BYTES` (400).
    AUTHCORE_PASSWORD_TOO_LONG = 1003,
    /// `PASSWORD_RANDOM_FAILURE`: the OS random number generator failed (500).
    AUTHCORE_PASSWORD_RANDOM_FAILURE = 1004,
    /// `PASSWORD_HASHING_FAILED`: the KDF failed for another reason (500).
    AUTHCORE_PASSWORD_HASHING_FAILED = 1005,
    /// `JWT_MALFORMED`: not three base64url parts of JSON objects, too long, or not UTF-8 (401).
    AUTHCORE_JWT_MALFORMED = 1100,
    /// `JWT_ALG_NONE`: an unsecured token, `alg` `none` in any case (401).
    AUTHCORE_JWT_ALG_NONE = 1101,
    /// `JWT_UNSUPPORTED_ALGORITHM`: a header `alg` outside HS256/384/512, RS256, ES256, EdDSA (401).
    AUTHCORE_JWT_UNSUPPORTED_ALGORITHM = 1102,
    /// `JWT_ALGORITHM_MISMATCH`: the header `alg` is not accepted by the key (algorithm confusion) (401).
    AUTHCORE_JWT_ALGORITHM_MISMATCH = 1103,
    /// `JWT_UNSUPPORTED_CRITICAL_HEADER`: a `crit` header (401).
    AUTHCORE_JWT_UNSUPPORTED_CRITICAL_HEADER = 1104,
    /// `JWT_UNKNOWN_KID`: no key for the token's `kid` and no key without kid (401).
    AUTHCORE_JWT_UNKNOWN_KID = 1105,
    /// `JWT_INVALID_SIGNATURE`: the signature does not verify (401).
    AUTHCORE_JWT_INVALID_SIGNATURE = 1106,
    /// `JWT_EXPIRED`: `now >= exp + leeway` (401).
    AUTHCORE_JWT_EXPIRED = 1107,
    /// `JWT_NOT_YET_VALID`: `nbf > now + leeway` (401).
    AUTHCORE_JWT_NOT_YET_VALID = 1108,
    /// `JWT_INVALID_ISSUER`: `iss` is not an accepted issuer (401).
    AUTHCORE_JWT_INVALID_ISSUER = 1109,
    /// `JWT_INVALID_AUDIENCE`: no `aud` value is an accepted audience (401).
    AUTHCORE_JWT_INVALID_AUDIENCE = 1110,
    /// `JWT_INVALID_SUBJECT`: `sub` differs from the required subject (401).
    AUTHCORE_JWT_INVALID_SUBJECT = 1111,
    /// `JWT_MISSING_CLAIM`: a required claim is absent (401).
    AUTHCORE_JWT_MISSING_CLAIM = 1112,
    /// `JWT_INVALID_CLAIM`: a claim has the wrong type (`exp` not a number), or a payload to sign is not a JSON object (401).
    AUTHCORE_JWT_INVALID_CLAIM = 1113,
    /// `JWT_WRONG_TOKEN_USE`: the `token_use` claim differs from the required use, or is absent (401).
    AUTHCORE_JWT_WRONG_TOKEN_USE = 1114,
    /// `JWT_INVALID_KEY`: a key that does not parse or does not fit (RSA under 2048 bits, empty secret) (500).
    AUTHCORE_JWT_INVALID_KEY = 1115,
    /// `JWT_KEY_CONFIG`: key-set configuration: duplicate kid, no signing key, bad accepted algorithms (500).
    AUTHCORE_JWT_KEY_CONFIG = 1116,
    /// `JWT_SIGNING_FAILED`: signing failed (500).
    AUTHCORE_JWT_SIGNING_FAILED = 1117,
    /// `JWT_RANDOM_FAILURE`: the OS random number generator failed (500).
    AUTHCORE_JWT_RANDOM_FAILURE = 1118,
    /// `JWT_INVALID_CONFIG`: a numeric setting out of range, e.g. a leeway above 86400 s (500).
    AUTHCORE_JWT_INVALID_CONFIG = 1119,
    /// `TOTP_MALFORMED_CODE`: the code is not exactly `digits` ASCII digits (400).
    AUTHCORE_TOTP_MALFORMED_CODE = 1200,
    /// `TOTP_INVALID_CODE`: a well-formed code that matches no step of the window (401).
    AUTHCORE_TOTP_INVALID_CODE = 1201,
    /// `TOTP_REPLAYED`: the code's step is at or before the last used step (401).
    AUTHCORE_TOTP_REPLAYED = 1202,
    /// `TOTP_INVALID_SECRET`: the secret is not unpadded RFC 4648 base32 (500).
    AUTHCORE_TOTP_INVALID_SECRET = 1203,
    /// `TOTP_SECRET_TOO_SHORT`: the decoded secret is shorter than 16 bytes (500).
    AUTHCORE_TOTP_SECRET_TOO_SHORT = 1204,
    /// `TOTP_SECRET_TOO_LONG`: the decoded secret is longer than 64 bytes (500).
    AUTHCORE_TOTP_SECRET_TOO_LONG = 1205,
    /// `TOTP_INVALID_CONFIG`: algorithm, digits, period or window out of range (500).
    AUTHCORE_TOTP_INVALID_CONFIG = 1206,
    /// `TOTP_RANDOM_FAILURE`: the OS random number generator failed (500).
    AUTHCORE_TOTP_RANDOM_FAILURE = 1207,
    /// `PKCE_INVALID_VERIFIER`: the verifier is not 43..=128 characters of `[A-Za-z0-9-._~]` (400).
    AUTHCORE_PKCE_INVALID_VERIFIER = 1300,
    /// `PKCE_INVALID_CHALLENGE`: the challenge has the wrong shape for its method (400).
    AUTHCORE_PKCE_INVALID_CHALLENGE = 1301,
    /// `PKCE_VERIFICATION_FAILED`: the verifier does not match the challenge (400).
    AUTHCORE_PKCE_VERIFICATION_FAILED = 1302,
    /// `PKCE_UNSUPPORTED_METHOD`: `code_challenge_method` is neither `S256` nor `plain` (400).
    AUTHCORE_PKCE_UNSUPPORTED_METHOD = 1303,
    /// `PKCE_PLAIN_NOT_ALLOWED`: `plain` while only `S256` is allowed (400).
    AUTHCORE_PKCE_PLAIN_NOT_ALLOWED = 1304,
    /// `POLICY_INVALID_DOCUMENT`: a permission document that does not parse or is structurally invalid (400).
    AUTHCORE_POLICY_INVALID_DOCUMENT = 1400,
    /// `POLICY_INVALID_PRINCIPAL`: a principal that is not `*`, `user:<id>`, `role:<uid>`, `group:<uid>` (400).
    AUTHCORE_POLICY_INVALID_PRINCIPAL = 1401,
    /// `POLICY_INVALID_PATTERN`: a malformed action or resource pattern (400).
    AUTHCORE_POLICY_INVALID_PATTERN = 1402,
    /// `POLICY_INVALID_RESOURCE`: a malformed requested resource (400).
    AUTHCORE_POLICY_INVALID_RESOURCE = 1403,
    /// `POLICY_ROLE_CYCLE`: a role hierarchy cycle (409).
    AUTHCORE_POLICY_ROLE_CYCLE = 1404,
    /// `POLICY_INVALID_REQUEST`: a policy request that does not parse or has unknown fields (400).
    AUTHCORE_POLICY_INVALID_REQUEST = 1405,
    // Credential propagation (300..=399): `PROPAGATION_` + the core's
    // `PropagationError::code()`; table in `propagation.rs`.
    /// `PROPAGATION_MANAGEMENT_NOT_CONFIGURED`: `ensure`/`rotate`/`revoke`/`sync` on a
    /// receive-only propagator (no management callbacks).
    AUTHCORE_PROPAGATION_MANAGEMENT_NOT_CONFIGURED = 300,
    /// `PROPAGATION_UNKNOWN_CLIENT`: `rotate` on a client missing from the local store.
    AUTHCORE_PROPAGATION_UNKNOWN_CLIENT = 301,
    /// `PROPAGATION_INVALID_OPTIONS`: a missing or invalid option of
    /// `authcore_propagator_create`, or a track without a credential sink.
    AUTHCORE_PROPAGATION_INVALID_OPTIONS = 302,
    /// `PROPAGATION_INVALID_QUEUE_NAME`: an `amqp_queue` outside `[A-Za-z0-9-]+`.
    AUTHCORE_PROPAGATION_INVALID_QUEUE_NAME = 303,
    /// `PROPAGATION_SYNC_ERROR`: `sync` found no sink for a track, or a null plain secret
    /// on a non-delete op.
    AUTHCORE_PROPAGATION_SYNC_ERROR = 304,
    /// `PROPAGATION_CALLBACK_ERROR`: a management or sink callback failed (its message).
    AUTHCORE_PROPAGATION_CALLBACK_ERROR = 305,
    /// `PROPAGATION_TRANSPORT_ERROR`: the broker failed.
    AUTHCORE_PROPAGATION_TRANSPORT_ERROR = 306,
    /// `PROPAGATION_RANDOM_UNAVAILABLE`: the OS random number generator failed.
    AUTHCORE_PROPAGATION_RANDOM_UNAVAILABLE = 307,
}

use authcore_result::*;

impl authcore_result {
    /// Every code, in numeric order.
    pub(crate) const ALL: [authcore_result; 23] = [
        AUTHCORE_OK,
        AUTHCORE_MISSING_CLIENT_ID,
        AUTHCORE_MISSING_SIGNATURE,
        AUTHCORE_MISSING_TIMESTAMP,
        AUTHCORE_MISSING_NONCE,
        AUTHCORE_INVALID_TIMESTAMP,
        AUTHCORE_TIMESTAMP_SKEW,
        AUTHCORE_UNKNOWN_CLIENT,
        AUTHCORE_CLIENT_EXPIRED,
        AUTHCORE_MISSING_CLIENT_IP,
        AUTHCORE_CLIENT_IP_NOT_ALLOWED,
        AUTHCORE_CLIENT_NOT_FOUND,
        AUTHCORE_BAD_SIGNATURE,
        AUTHCORE_REPLAYED_NONCE,
        AUTHCORE_INTERNAL_ERROR,
        AUTHCORE_HEADER_TOO_LARGE,
        AUTHCORE_INVALID_ARGUMENT,
        AUTHCORE_INVALID_INPUT,
        AUTHCORE_STORE_ERROR,
        AUTHCORE_NULL_PARAMETER,
        AUTHCORE_BUFFER_TOO_SMALL,
        AUTHCORE_INVALID_UTF8,
        AUTHCORE_PANIC,
    ];

    /// The code for a number, if it is one.
    pub fn from_u32(code: u32) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| *c as u32 == code)
            .or_else(|| codes::from_u32(code))
            .or_else(|| crate::propagation::code_from_u32(code))
    }

    /// The code of an `HmacAuthError` (same discriminant).
    pub fn from_hmac_code(code: HmacErrorCode) -> Self {
        match code {
            HmacErrorCode::MissingClientId => AUTHCORE_MISSING_CLIENT_ID,
            HmacErrorCode::MissingSignature => AUTHCORE_MISSING_SIGNATURE,
            HmacErrorCode::MissingTimestamp => AUTHCORE_MISSING_TIMESTAMP,
            HmacErrorCode::MissingNonce => AUTHCORE_MISSING_NONCE,
            HmacErrorCode::InvalidTimestamp => AUTHCORE_INVALID_TIMESTAMP,
            HmacErrorCode::TimestampSkew => AUTHCORE_TIMESTAMP_SKEW,
            HmacErrorCode::UnknownClient => AUTHCORE_UNKNOWN_CLIENT,
            HmacErrorCode::ClientExpired => AUTHCORE_CLIENT_EXPIRED,
            HmacErrorCode::MissingClientIp => AUTHCORE_MISSING_CLIENT_IP,
            HmacErrorCode::ClientIpNotAllowed => AUTHCORE_CLIENT_IP_NOT_ALLOWED,
            HmacErrorCode::ClientNotFound => AUTHCORE_CLIENT_NOT_FOUND,
            HmacErrorCode::BadSignature => AUTHCORE_BAD_SIGNATURE,
            HmacErrorCode::ReplayedNonce => AUTHCORE_REPLAYED_NONCE,
            HmacErrorCode::InternalError => AUTHCORE_INTERNAL_ERROR,
            HmacErrorCode::HeaderTooLarge => AUTHCORE_HEADER_TOO_LARGE,
            // A code added to the core before this table learns it: still an auth
            // failure, reported as the middleware would report an unknown error.
            _ => AUTHCORE_INTERNAL_ERROR,
        }
    }

    /// The code of a core error.
    pub fn from_hmac_error(e: &HmacError) -> Self {
        match e {
            HmacError::Auth(a) => Self::from_hmac_code(a.code),
            HmacError::InvalidArgument(_) => AUTHCORE_INVALID_ARGUMENT,
            HmacError::InvalidInput(_) => AUTHCORE_INVALID_INPUT,
            HmacError::Store(_) => AUTHCORE_STORE_ERROR,
            _ => AUTHCORE_INTERNAL_ERROR,
        }
    }

    /// The stable name, NUL-terminated: `"OK"`, `"BAD_SIGNATURE"`, `"NULL_PARAMETER"`…
    /// (the `error` string of the vectors and of the original's JSON error body).
    pub const fn name(self) -> &'static std::ffi::CStr {
        match self {
            AUTHCORE_OK => c"OK",
            AUTHCORE_MISSING_CLIENT_ID => c"MISSING_CLIENT_ID",
            AUTHCORE_MISSING_SIGNATURE => c"MISSING_SIGNATURE",
            AUTHCORE_MISSING_TIMESTAMP => c"MISSING_TIMESTAMP",
            AUTHCORE_MISSING_NONCE => c"MISSING_NONCE",
            AUTHCORE_INVALID_TIMESTAMP => c"INVALID_TIMESTAMP",
            AUTHCORE_TIMESTAMP_SKEW => c"TIMESTAMP_SKEW",
            AUTHCORE_UNKNOWN_CLIENT => c"UNKNOWN_CLIENT",
            AUTHCORE_CLIENT_EXPIRED => c"CLIENT_EXPIRED",
            AUTHCORE_MISSING_CLIENT_IP => c"MISSING_CLIENT_IP",
            AUTHCORE_CLIENT_IP_NOT_ALLOWED => c"CLIENT_IP_NOT_ALLOWED",
            AUTHCORE_CLIENT_NOT_FOUND => c"CLIENT_NOT_FOUND",
            AUTHCORE_BAD_SIGNATURE => c"BAD_SIGNATURE",
            AUTHCORE_REPLAYED_NONCE => c"REPLAYED_NONCE",
            AUTHCORE_INTERNAL_ERROR => c"INTERNAL_ERROR",
            AUTHCORE_HEADER_TOO_LARGE => c"HEADER_TOO_LARGE",
            AUTHCORE_INVALID_ARGUMENT => c"INVALID_ARGUMENT",
            AUTHCORE_INVALID_INPUT => c"INVALID_INPUT",
            AUTHCORE_STORE_ERROR => c"STORE_ERROR",
            AUTHCORE_NULL_PARAMETER => c"NULL_PARAMETER",
            AUTHCORE_BUFFER_TOO_SMALL => c"BUFFER_TOO_SMALL",
            AUTHCORE_INVALID_UTF8 => c"INVALID_UTF8",
            AUTHCORE_PANIC => c"PANIC",
            other => match codes::name(other) {
                Some(n) => n,
                None => match crate::propagation::code_name(other) {
                    Some(n) => n,
                    None => c"UNKNOWN",
                },
            },
        }
    }

    /// The HTTP status a server answers with: 200 for `OK`, the original's status for
    /// an auth code (`MISSING_CLIENT_ID` → 401, as the verifier uses it), 500 otherwise.
    pub fn http_status(self) -> u16 {
        if self == AUTHCORE_OK {
            return 200;
        }
        if let Some(status) = codes::http_status(self) {
            return status;
        }
        if let Some(status) = crate::propagation::code_status(self) {
            return status;
        }
        let n = self as u32;
        HmacErrorCode::ALL
            .into_iter()
            .chain([HmacErrorCode::HeaderTooLarge])
            .find(|c| *c as u32 == n)
            .map_or(500, HmacErrorCode::default_status)
    }
}

// The HMAC codes are the core's discriminants: checked at compile time.
const _: () = {
    assert!(HmacErrorCode::MissingClientId as u32 == AUTHCORE_MISSING_CLIENT_ID as u32);
    assert!(HmacErrorCode::MissingSignature as u32 == AUTHCORE_MISSING_SIGNATURE as u32);
    assert!(HmacErrorCode::MissingTimestamp as u32 == AUTHCORE_MISSING_TIMESTAMP as u32);
    assert!(HmacErrorCode::MissingNonce as u32 == AUTHCORE_MISSING_NONCE as u32);
    assert!(HmacErrorCode::InvalidTimestamp as u32 == AUTHCORE_INVALID_TIMESTAMP as u32);
    assert!(HmacErrorCode::TimestampSkew as u32 == AUTHCORE_TIMESTAMP_SKEW as u32);
    assert!(HmacErrorCode::UnknownClient as u32 == AUTHCORE_UNKNOWN_CLIENT as u32);
    assert!(HmacErrorCode::ClientExpired as u32 == AUTHCORE_CLIENT_EXPIRED as u32);
    assert!(HmacErrorCode::MissingClientIp as u32 == AUTHCORE_MISSING_CLIENT_IP as u32);
    assert!(HmacErrorCode::ClientIpNotAllowed as u32 == AUTHCORE_CLIENT_IP_NOT_ALLOWED as u32);
    assert!(HmacErrorCode::ClientNotFound as u32 == AUTHCORE_CLIENT_NOT_FOUND as u32);
    assert!(HmacErrorCode::BadSignature as u32 == AUTHCORE_BAD_SIGNATURE as u32);
    assert!(HmacErrorCode::ReplayedNonce as u32 == AUTHCORE_REPLAYED_NONCE as u32);
    assert!(HmacErrorCode::InternalError as u32 == AUTHCORE_INTERNAL_ERROR as u32);
    assert!(HmacErrorCode::HeaderTooLarge as u32 == AUTHCORE_HEADER_TOO_LARGE as u32);
};

/// The stable name of a result code as a static NUL-terminated string: `"OK"`,
/// `"BAD_SIGNATURE"`, `"INVALID_UTF8"`… and `"UNKNOWN"` for a number that is not an
/// `authcore_result`. Never NULL; the string must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn authcore_result_name(code: u32) -> *const c_char {
    ffi::boundary_or(c"UNKNOWN".as_ptr(), || {
        authcore_result::from_u32(code).map_or(c"UNKNOWN".as_ptr(), |c| c.name().as_ptr())
    })
}

/// The HTTP status for a result code: 200 for `AUTHCORE_OK`; for the 14 auth codes the
/// status the original's verifier uses (401, 403 for the IP codes, 404 for
/// `CLIENT_NOT_FOUND`, 500 for `INTERNAL_ERROR`); 500 for every other code (the
/// original's middleware answers any non-auth failure with `500 INTERNAL_ERROR`).
/// `authcore_verify_with_record` reports the exact status of each failure itself.
#[unsafe(no_mangle)]
pub extern "C" fn authcore_http_status(code: u32) -> u16 {
    ffi::boundary_or(500, || {
        authcore_result::from_u32(code).map_or(500, authcore_result::http_status)
    })
}

/// Copy the detailed message of the last failing `authcore_*` call **on this thread**
/// (e.g. `Request timestamp skew is too large (> 300000ms)`, or the original's exact
/// `Error` message) into `out` as NUL-terminated UTF-8. Every function that returns an
/// `authcore_result` sets it on failure and clears it on success; the helpers that
/// return a value (`authcore_result_name`, `authcore_http_status`, `authcore_version`,
/// `authcore_nonce_ttl_seconds`) and this function itself leave it alone.
///
/// `*out_written` receives the message length (without the NUL). If `out_len` is too
/// small, returns `AUTHCORE_BUFFER_TOO_SMALL` and sets `*out_written` to the size needed
/// (NUL included); `out` may be NULL when `out_len` is 0 to query that size.
///
/// # Safety
/// `out` must be valid for `out_len` bytes of writes (or NULL with `out_len == 0`) and
/// `out_written` must point to a writable `size_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_error_message(
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    ffi::boundary_keep_error(|| -> FfiResult {
        let msg = ffi::last_error();
        // SAFETY: the caller guarantees the output pointers (checked for NULL inside).
        unsafe { ffi::write_text(msg.as_bytes(), out, out_len, out_written) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_codes_share_discriminants_and_names() {
        for code in HmacErrorCode::ALL {
            let r = authcore_result::from_hmac_code(code);
            assert_eq!(r as u32, code as u32);
            assert_eq!(r.name().to_str().unwrap(), code.as_str());
            assert_eq!(r.http_status(), code.default_status());
        }
    }

    #[test]
    fn numbers_are_stable() {
        let expected: &[(authcore_result, u32, &str, u16)] = &[
            (AUTHCORE_OK, 0, "OK", 200),
            (AUTHCORE_MISSING_CLIENT_ID, 1, "MISSING_CLIENT_ID", 401),
            (
                AUTHCORE_CLIENT_IP_NOT_ALLOWED,
                10,
                "CLIENT_IP_NOT_ALLOWED",
                403,
            ),
            (AUTHCORE_CLIENT_NOT_FOUND, 11, "CLIENT_NOT_FOUND", 404),
            (AUTHCORE_INTERNAL_ERROR, 14, "INTERNAL_ERROR", 500),
            (AUTHCORE_HEADER_TOO_LARGE, 15, "HEADER_TOO_LARGE", 431),
            (AUTHCORE_INVALID_ARGUMENT, 100, "INVALID_ARGUMENT", 500),
            (AUTHCORE_INVALID_INPUT, 101, "INVALID_INPUT", 500),
            (AUTHCORE_STORE_ERROR, 102, "STORE_ERROR", 500),
            (AUTHCORE_NULL_PARAMETER, 200, "NULL_PARAMETER", 500),
            (AUTHCORE_BUFFER_TOO_SMALL, 201, "BUFFER_TOO_SMALL", 500),
            (AUTHCORE_INVALID_UTF8, 202, "INVALID_UTF8", 500),
            (AUTHCORE_PANIC, 203, "PANIC", 500),
        ];
        for (code, n, name, status) in expected {
            assert_eq!(*code as u32, *n);
            assert_eq!(authcore_result::from_u32(*n), Some(*code));
            let p = authcore_result_name(*n);
            // SAFETY: the function returns a static NUL-terminated string.
            let s = unsafe { std::ffi::CStr::from_ptr(p) };
            assert_eq!(s.to_str().unwrap(), *name);
            assert_eq!(authcore_http_status(*n), *status);
        }
        // Every code has a distinct number and name.
        let mut nums: Vec<u32> = authcore_result::ALL.iter().map(|c| *c as u32).collect();
        nums.dedup();
        assert_eq!(nums.len(), authcore_result::ALL.len());
        assert!(nums.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn unknown_numbers() {
        for n in [16, 99, 103, 199, 204, 7000, u32::MAX] {
            assert_eq!(authcore_result::from_u32(n), None);
            // SAFETY: static string.
            let s = unsafe { std::ffi::CStr::from_ptr(authcore_result_name(n)) };
            assert_eq!(s.to_str().unwrap(), "UNKNOWN");
            assert_eq!(authcore_http_status(n), 500);
        }
    }
}
