//! JSON Web Tokens as C functions: a key set handle (keys parsed once, looked up by
//! `kid`), signing of exact JSON payloads (byte-identical to npm `jsonwebtoken` for the
//! same payload text), verification with node-jsonwebtoken semantics and the claim
//! checks of `authcore::jwt::Validation`, and JWKS output.
//!
//! The key set is the one object of the C ABI that is allocated for the caller:
//! `authcore_jwt_keyset_new` creates it and `authcore_jwt_keyset_free` releases it.

#![allow(non_camel_case_types)]

use std::ffi::c_char;
use std::sync::{PoisonError, RwLock};

use authcore::jwt::{self, Algorithm, JwtError, JwtKey, KeySet, PemKind, TokenUse, Validation};
use serde_json::{Map, Value};

use crate::error::authcore_result::{self, *};
use crate::ffi::{
    FfiError, FfiResult, array, boundary, boundary_or, bytes, in_ref, opt_text, out_ptr, text,
    write_text,
};
use crate::hmac::authcore_str;

use crate::json::canonical;

/// HMAC-SHA256. The `AUTHCORE_JWT_*` algorithm values are bit flags, so several can be
/// OR-ed into an `accepted_algs` mask.
pub const AUTHCORE_JWT_HS256: u32 = 1;
/// HMAC-SHA384.
pub const AUTHCORE_JWT_HS384: u32 = 2;
/// HMAC-SHA512.
pub const AUTHCORE_JWT_HS512: u32 = 4;
/// RSASSA-PKCS1-v1_5 with SHA-256 (RSA keys of at least 2048 bits).
pub const AUTHCORE_JWT_RS256: u32 = 8;
/// ECDSA P-256 with SHA-256.
pub const AUTHCORE_JWT_ES256: u32 = 16;
/// Ed25519.
pub const AUTHCORE_JWT_EDDSA: u32 = 32;

/// `authcore_jwt_validation.token_use`: no `token_use` check.
pub const AUTHCORE_JWT_USE_ANY: u32 = 0;
/// Require the claim `"token_use": "access"`.
pub const AUTHCORE_JWT_USE_ACCESS: u32 = 1;
/// Require `"token_use": "refresh"`.
pub const AUTHCORE_JWT_USE_REFRESH: u32 = 2;
/// Require `"token_use": "mfa_pending"` (a 2FA-pending token).
pub const AUTHCORE_JWT_USE_MFA_PENDING: u32 = 3;

/// Longest token `authcore_jwt_verify` accepts (longer ones are `AUTHCORE_JWT_MALFORMED`).
pub const AUTHCORE_JWT_MAX_TOKEN_LEN: usize = 16384;

const _: () = assert!(AUTHCORE_JWT_MAX_TOKEN_LEN == jwt::MAX_TOKEN_LEN);

const ALGS: [(u32, Algorithm); 6] = [
    (AUTHCORE_JWT_HS256, Algorithm::HS256),
    (AUTHCORE_JWT_HS384, Algorithm::HS384),
    (AUTHCORE_JWT_HS512, Algorithm::HS512),
    (AUTHCORE_JWT_RS256, Algorithm::RS256),
    (AUTHCORE_JWT_ES256, Algorithm::ES256),
    (AUTHCORE_JWT_EDDSA, Algorithm::EdDSA),
];

fn alg(v: u32) -> FfiResult<Algorithm> {
    ALGS.iter()
        .find(|(f, _)| *f == v)
        .map(|(_, a)| *a)
        .ok_or_else(|| {
            FfiError::new(
                AUTHCORE_INVALID_ARGUMENT,
                format!("`alg` {v} is not one AUTHCORE_JWT_* algorithm value"),
            )
        })
}

fn alg_mask(mask: u32) -> FfiResult<Vec<Algorithm>> {
    let known = ALGS.iter().fold(0, |m, (f, _)| m | f);
    if mask & !known != 0 {
        return Err(FfiError::new(
            AUTHCORE_INVALID_ARGUMENT,
            format!("`accepted_algs` {mask:#x} has bits that are no AUTHCORE_JWT_* value"),
        ));
    }
    Ok(ALGS
        .iter()
        .filter(|(f, _)| mask & f != 0)
        .map(|(_, a)| *a)
        .collect())
}

/// A set of JWT keys (opaque). Keys are parsed once when added and looked up by the
/// token's `kid`; a token without `kid`, or whose `kid` names no key, uses the key added
/// without a kid. The first key added that can sign (an HMAC secret or a private key)
/// signs. Every function may be called from any thread at the same time, including
/// adding keys while others verify.
pub struct authcore_jwt_keyset {
    keys: RwLock<KeySet>,
}

/// Claim checks of `authcore_jwt_verify`. A zero-initialised struct (or a NULL pointer)
/// means: the current system time, no leeway, `exp` and `nbf` checked when present, no
/// issuer, audience, subject, token-use or required-claim check.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_jwt_validation {
    /// The current time in unix seconds; 0 = the system clock.
    pub now: u64,
    /// Seconds of tolerance for `exp` and `nbf` (node's `clockTolerance`). Expired means
    /// `now >= exp + leeway`; not yet valid means `nbf > now + leeway`. At most 86400
    /// (`AUTHCORE_JWT_INVALID_CONFIG` above).
    pub leeway: u64,
    /// Accepted issuers: the token's `iss` must equal one of them (none = not checked).
    pub issuers: *const authcore_str,
    /// Number of `issuers`.
    pub issuers_len: usize,
    /// Accepted audiences: one of the token's `aud` values (string or array) must equal
    /// one of them (none = not checked).
    pub audiences: *const authcore_str,
    /// Number of `audiences`.
    pub audiences_len: usize,
    /// Required `sub` (NULL `ptr` = not checked).
    pub subject: authcore_str,
    /// Required `token_use` claim: `AUTHCORE_JWT_USE_ANY` (0), `..._ACCESS`,
    /// `..._REFRESH` or `..._MFA_PENDING`. With a use set, a token without the claim is
    /// rejected, so a refresh or 2FA-pending token is never taken for an access token.
    pub token_use: u32,
    /// Claims that must be present (e.g. `exp`, `sub`).
    pub required_claims: *const authcore_str,
    /// Number of `required_claims`.
    pub required_claims_len: usize,
}

/// # Safety
/// A non-NULL `list` must be valid for `len` elements whose strings are valid.
unsafe fn str_list(list: *const authcore_str, len: usize, name: &str) -> FfiResult<Vec<String>> {
    // SAFETY: forwarded caller guarantee.
    let items = unsafe { array(list, len, name)? };
    items
        .iter()
        .map(|s| {
            // SAFETY: forwarded caller guarantee.
            unsafe { text(s.ptr, s.len, name) }.map(str::to_owned)
        })
        .collect()
}

/// # Safety
/// A non-NULL `v` must point to a valid `authcore_jwt_validation` whose arrays are valid.
unsafe fn validation(v: *const authcore_jwt_validation) -> FfiResult<(Validation, u64)> {
    if v.is_null() {
        return Ok((Validation::default(), jwt::unix_now()));
    }
    // SAFETY: forwarded caller guarantee.
    let v = unsafe { in_ref(v, "validation")? };
    let list = |p, n, name| -> FfiResult<Option<Vec<String>>> {
        // SAFETY: forwarded caller guarantee.
        let l = unsafe { str_list(p, n, name)? };
        Ok((!l.is_empty()).then_some(l))
    };
    let token_use = match v.token_use {
        AUTHCORE_JWT_USE_ANY => None,
        AUTHCORE_JWT_USE_ACCESS => Some(TokenUse::Access),
        AUTHCORE_JWT_USE_REFRESH => Some(TokenUse::Refresh),
        AUTHCORE_JWT_USE_MFA_PENDING => Some(TokenUse::MfaPending),
        other => {
            return Err(FfiError::new(
                AUTHCORE_INVALID_ARGUMENT,
                format!("`validation->token_use` {other} is not an AUTHCORE_JWT_USE_* value"),
            ));
        }
    };
    let validation = Validation {
        leeway: v.leeway,
        issuer: list(v.issuers, v.issuers_len, "validation->issuers")?,
        audience: list(v.audiences, v.audiences_len, "validation->audiences")?,
        // SAFETY: forwarded caller guarantee.
        subject: unsafe { opt_text(v.subject.ptr, v.subject.len, "validation->subject")? }
            .map(str::to_owned),
        token_use,
        required_claims: list(
            v.required_claims,
            v.required_claims_len,
            "validation->required_claims",
        )?
        .unwrap_or_default(),
    };
    let now = if v.now == 0 { jwt::unix_now() } else { v.now };
    Ok((validation, now))
}

impl authcore_jwt_keyset {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, KeySet> {
        // The set is never left half-updated (`KeySet::add` checks before it changes
        // anything), so a lock poisoned by a caught panic is still consistent.
        self.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn add(&self, key: JwtKey) -> FfiResult {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        Ok(keys.add(key)?)
    }
}

/// # Safety
/// A non-NULL `ks` must be a live key set from `authcore_jwt_keyset_new`.
unsafe fn keyset_ref<'a>(ks: *const authcore_jwt_keyset) -> FfiResult<&'a authcore_jwt_keyset> {
    // SAFETY: forwarded caller guarantee.
    unsafe { in_ref(ks, "keyset") }
}

/// # Safety
/// `kid` NULL or valid for `kid_len` bytes.
unsafe fn with_kid(key: JwtKey, kid: *const c_char, kid_len: usize) -> FfiResult<JwtKey> {
    // SAFETY: forwarded caller guarantee.
    Ok(match unsafe { opt_text(kid, kid_len, "kid")? } {
        Some(k) => key.with_kid(k),
        None => key,
    })
}

/// Create an empty key set and store it in `*out` (set to NULL on failure). Release it
/// with `authcore_jwt_keyset_free`.
///
/// # Safety
/// `out` must be writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_jwt_keyset_new(
    out: *mut *mut authcore_jwt_keyset,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantee.
        let out = unsafe { out_ptr(out, "out")? };
        out.set(std::ptr::null_mut());
        let ks = Box::new(authcore_jwt_keyset {
            keys: RwLock::new(KeySet::new()),
        });
        out.set(Box::into_raw(ks));
        Ok(())
    })
}

/// Release a key set (secrets and private keys included). NULL is ignored. The set must
/// not be used afterwards, nor freed twice.
///
/// # Safety
/// `keyset` NULL or a live key set from `authcore_jwt_keyset_new`, not in use by another
/// thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_jwt_keyset_free(keyset: *mut authcore_jwt_keyset) {
    boundary_or((), || {
        if !keyset.is_null() {
            // SAFETY: the caller hands back ownership of a pointer from `Box::into_raw`.
            drop(unsafe { Box::from_raw(keyset) });
        }
    });
}

/// Add an HMAC secret. `alg` (`AUTHCORE_JWT_HS256`, `..._HS384` or `..._HS512`) is the
/// signing algorithm; `accepted_algs` is the mask of algorithms accepted on verification
/// (0 = `alg` only; `AUTHCORE_JWT_HS256 | AUTHCORE_JWT_HS384 | AUTHCORE_JWT_HS512` is
/// node's `jwt.verify(token, secret)`, which accepts all three). `kid` is optional (NULL =
/// no kid; a kid is written into the header of tokens this key signs).
///
/// Errors: `AUTHCORE_JWT_INVALID_KEY` (empty secret, `alg` not HMAC),
/// `AUTHCORE_JWT_KEY_CONFIG` (duplicate kid, a second key without kid, a mask outside the
/// HMAC family), `AUTHCORE_INVALID_ARGUMENT` (a value that is no `AUTHCORE_JWT_*`).
///
/// # Safety
/// `keyset` live; `secret` valid for `secret_len` bytes; `kid` NULL or valid for `kid_len`
/// bytes.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_jwt_keyset_add_hmac(
    keyset: *const authcore_jwt_keyset,
    alg: u32,
    secret: *const u8,
    secret_len: usize,
    kid: *const c_char,
    kid_len: usize,
    accepted_algs: u32,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let ks = keyset_ref(keyset)?;
            let a = self::alg(alg)?;
            let secret = bytes(secret, secret_len, "secret")?;
            let mut key = JwtKey::hmac(a, secret)?;
            if accepted_algs != 0 {
                key = key.accept_algorithms(&alg_mask(accepted_algs)?)?;
            }
            ks.add(with_kid(key, kid, kid_len)?)
        }
    })
}

/// # Safety
/// `pem` valid for `pem_len` bytes.
unsafe fn add_pem(
    keyset: *const authcore_jwt_keyset,
    alg: u32,
    pem: *const c_char,
    pem_len: usize,
    kid: *const c_char,
    kid_len: usize,
    private: bool,
) -> FfiResult {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        let ks = keyset_ref(keyset)?;
        let a = self::alg(alg)?;
        let pem = text(pem, pem_len, "pem")?.as_bytes();
        let kind = if private {
            PemKind::Private
        } else {
            PemKind::Public
        };
        let key = JwtKey::from_pem(pem, Some(a), Some(kind))?;
        ks.add(with_kid(key, kid, kid_len)?)
    }
}

/// Add a private key for signing (it also verifies): `AUTHCORE_JWT_RS256` with a PKCS#1
/// (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`) PEM of at least 2048 bits,
/// `AUTHCORE_JWT_ES256` (P-256) or `AUTHCORE_JWT_EDDSA` (Ed25519) with a PKCS#8 PEM.
/// The key accepts only `alg` on verification, so an HS256 token "signed" with the public
/// key's bytes is `AUTHCORE_JWT_ALGORITHM_MISMATCH`. `kid` optional as in
/// `authcore_jwt_keyset_add_hmac`. A PEM that does not parse, or an RSA key under 2048
/// bits, is `AUTHCORE_JWT_INVALID_KEY`.
///
/// # Safety
/// `keyset` live; `pem` valid for `pem_len` bytes; `kid` NULL or valid for `kid_len` bytes.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_jwt_keyset_add_private_pem(
    keyset: *const authcore_jwt_keyset,
    alg: u32,
    pem: *const c_char,
    pem_len: usize,
    kid: *const c_char,
    kid_len: usize,
) -> authcore_result {
    // SAFETY: caller guarantees (see # Safety).
    boundary(|| unsafe { add_pem(keyset, alg, pem, pem_len, kid, kid_len, true) })
}

/// Add a public key for verification only (SPKI `PUBLIC KEY` PEM; RSA also PKCS#1 `RSA
/// PUBLIC KEY`), for `AUTHCORE_JWT_RS256`, `AUTHCORE_JWT_ES256` or `AUTHCORE_JWT_EDDSA`.
/// Otherwise as `authcore_jwt_keyset_add_private_pem`.
///
/// # Safety
/// As `authcore_jwt_keyset_add_private_pem`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_jwt_keyset_add_public_pem(
    keyset: *const authcore_jwt_keyset,
    alg: u32,
    pem: *const c_char,
    pem_len: usize,
    kid: *const c_char,
    kid_len: usize,
) -> authcore_result {
    // SAFETY: caller guarantees (see # Safety).
    boundary(|| unsafe { add_pem(keyset, alg, pem, pem_len, kid, kid_len, false) })
}

/// Sign `payload_json` (a JSON object, used byte for byte as the payload) with the set's
/// signing key and write the compact token into `out`. The header is
/// `{"alg":"<alg>","typ":"JWT"}` (plus `"kid"` when the key has one) in npm
/// jsonwebtoken's key order, so for the payload text `JSON.stringify` produces the token
/// equals `jwt.sign`'s byte for byte. Nothing is added to the payload: put `iat`, `exp`,
/// `token_use` etc. in it yourself.
///
/// Errors: `AUTHCORE_JWT_INVALID_CLAIM` (not a JSON object), `AUTHCORE_JWT_KEY_CONFIG` (no
/// key that can sign), `AUTHCORE_INVALID_UTF8`.
///
/// # Safety
/// `keyset` live; `payload_json` valid for `payload_json_len` bytes; `out` valid for
/// `out_len` bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_jwt_sign(
    keyset: *const authcore_jwt_keyset,
    payload_json: *const c_char,
    payload_json_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let ks = keyset_ref(keyset)?;
            let payload = text(payload_json, payload_json_len, "payload_json")?;
            let token = jwt::sign_payload_json(&ks.read(), payload)?;
            write_text(token.as_bytes(), out, out_len, out_written)
        }
    })
}

/// Verify a compact JWT and write its claims into `claims_out` as JSON (compact, object
/// keys in byte order at every level; a key the payload repeats appears once, with the
/// value that was checked).
///
/// Order of checks: three base64url parts of JSON objects (`AUTHCORE_JWT_MALFORMED`, also
/// for tokens longer than `AUTHCORE_JWT_MAX_TOKEN_LEN` or not UTF-8), `alg` `none` in any
/// case (`AUTHCORE_JWT_ALG_NONE`), an algorithm outside HS256/384/512, RS256, ES256,
/// EdDSA (`AUTHCORE_JWT_UNSUPPORTED_ALGORITHM`), a `crit` header
/// (`AUTHCORE_JWT_UNSUPPORTED_CRITICAL_HEADER`), the key by `kid`
/// (`AUTHCORE_JWT_UNKNOWN_KID`), the header `alg` against the key's accepted algorithms
/// (`AUTHCORE_JWT_ALGORITHM_MISMATCH`), the signature (`AUTHCORE_JWT_INVALID_SIGNATURE`),
/// then the claims of `validation` (NULL = defaults, see `authcore_jwt_validation`):
/// `token_use` (`AUTHCORE_JWT_WRONG_TOKEN_USE`), `nbf` (`AUTHCORE_JWT_NOT_YET_VALID`),
/// `exp` (`AUTHCORE_JWT_EXPIRED`), a non-numeric `exp`/`nbf`
/// (`AUTHCORE_JWT_INVALID_CLAIM`), audience, issuer, subject, required claims.
///
/// On `AUTHCORE_BUFFER_TOO_SMALL` the token was valid and `*claims_written` is the size
/// needed; verify again with a buffer of that size. `token_len + 1` bytes are enough for
/// the claims of nearly every token (the JSON is at most the decoded payload re-written,
/// which only grows for numbers written in exponent form).
///
/// # Safety
/// `keyset` live; `token` valid for `token_len` bytes; `validation` NULL or valid (with
/// valid arrays); `claims_out` valid for `claims_out_len` bytes of writes;
/// `claims_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_jwt_verify(
    keyset: *const authcore_jwt_keyset,
    token: *const c_char,
    token_len: usize,
    validation: *const authcore_jwt_validation,
    claims_out: *mut c_char,
    claims_out_len: usize,
    claims_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(
            claims_out,
            claims_out_len,
            claims_written,
            ("claims_out", "claims_written"),
        )?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let ks = keyset_ref(keyset)?;
            if token.is_null() {
                return Err(FfiError::new(
                    AUTHCORE_NULL_PARAMETER,
                    "`token` must not be NULL",
                ));
            }
            let raw = bytes(token.cast(), token_len, "token")?;
            let (v, now) = self::validation(validation)?;
            // A token that is not UTF-8 is not three base64url parts: a rejected token,
            // not a caller error.
            let token = std::str::from_utf8(raw).map_err(|_| JwtError::Malformed)?;
            let verified = jwt::verify::<Map<String, Value>>(&ks.read(), token, &v, now)?;
            let json = canonical(&Value::Object(verified.claims));
            write_text(json.as_bytes(), claims_out, claims_out_len, claims_written)
        }
    })
}

/// Write the set's public keys as a JWKS document (`{"keys":[...]}`, each key in
/// node-auth's `JwksService` key order: `kty, use, alg, kid, n, e` for RSA,
/// `kty, use, alg, kid, crv, x, y` for EC, `kty, use, alg, kid, crv, x` for OKP). HMAC
/// secrets are never published.
///
/// # Safety
/// `keyset` live; `out` valid for `out_len` bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_jwt_keyset_jwks(
    keyset: *const authcore_jwt_keyset,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let ks = keyset_ref(keyset)?;
            let doc = ks.read().jwks().to_json();
            write_text(doc.as_bytes(), out, out_len, out_written)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::test_util::{last_error, text_out};
    use std::ptr::{null, null_mut};

    const SECRET: &[u8] = b"node-auth-access-secret";
    // npm jsonwebtoken 9.0.3 (ffi-tests/vectors/jwt-hs256.json, sign-node-auth-access).
    const PAYLOAD: &str = r#"{"sub":"u1","email":"alice@example.com","role":"user","loginProvider":"local","isEmailVerified":true,"isTotpEnabled":false,"iat":1700000000,"exp":1700000900}"#;
    const NPM_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1MSIsImVtYWlsIjoiYWxpY2VAZXhhbXBsZS5jb20iLCJyb2xlIjoidXNlciIsImxvZ2luUHJvdmlkZXIiOiJsb2NhbCIsImlzRW1haWxWZXJpZmllZCI6dHJ1ZSwiaXNUb3RwRW5hYmxlZCI6ZmFsc2UsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwOTAwfQ.ssn6zRFoz4oGpBwMHNh0400tg1mDLZCea9_BDyBVPwg";

    struct Ks(*mut authcore_jwt_keyset);
    impl Drop for Ks {
        fn drop(&mut self) {
            // SAFETY: a live set from `new`, freed once.
            unsafe { authcore_jwt_keyset_free(self.0) };
        }
    }

    fn new() -> Ks {
        let mut p = null_mut();
        // SAFETY: valid out pointer.
        assert_eq!(unsafe { authcore_jwt_keyset_new(&mut p) }, AUTHCORE_OK);
        assert!(!p.is_null());
        Ks(p)
    }

    fn add_hmac(ks: &Ks, alg: u32, secret: &[u8], kid: Option<&str>, mask: u32) -> authcore_result {
        let (k, kl) = kid.map_or((null(), 0), |k| (k.as_ptr().cast(), k.len()));
        // SAFETY: valid buffers.
        unsafe {
            authcore_jwt_keyset_add_hmac(ks.0, alg, secret.as_ptr(), secret.len(), k, kl, mask)
        }
    }

    fn sign(ks: &Ks, payload: &str) -> Result<String, authcore_result> {
        // SAFETY: valid buffers.
        text_out(|o, l, w| unsafe {
            authcore_jwt_sign(ks.0, payload.as_ptr().cast(), payload.len(), o, l, w)
        })
    }

    fn verify(
        ks: &Ks,
        token: &[u8],
        v: Option<&authcore_jwt_validation>,
    ) -> Result<String, authcore_result> {
        let vp = v.map_or(null(), |v| v as *const _);
        // SAFETY: valid buffers.
        text_out(|o, l, w| unsafe {
            authcore_jwt_verify(ks.0, token.as_ptr().cast(), token.len(), vp, o, l, w)
        })
    }

    fn at(now: u64) -> authcore_jwt_validation {
        authcore_jwt_validation {
            now,
            leeway: 0,
            issuers: null(),
            issuers_len: 0,
            audiences: null(),
            audiences_len: 0,
            subject: authcore_str {
                ptr: null(),
                len: 0,
            },
            token_use: AUTHCORE_JWT_USE_ANY,
            required_claims: null(),
            required_claims_len: 0,
        }
    }

    fn s(v: &str) -> authcore_str {
        authcore_str {
            ptr: v.as_ptr().cast(),
            len: v.len(),
        }
    }

    #[test]
    fn hs256_is_byte_identical_to_npm_and_round_trips() {
        let ks = new();
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_HS256, SECRET, None, 0),
            AUTHCORE_OK
        );
        assert_eq!(sign(&ks, PAYLOAD).unwrap(), NPM_TOKEN);
        let claims = verify(&ks, NPM_TOKEN.as_bytes(), Some(&at(1_700_000_030))).unwrap();
        // Keys in byte order.
        assert_eq!(
            claims,
            r#"{"email":"alice@example.com","exp":1700000900,"iat":1700000000,"isEmailVerified":true,"isTotpEnabled":false,"loginProvider":"local","role":"user","sub":"u1"}"#
        );
        // The JWKS of an HMAC-only set publishes nothing.
        // SAFETY: valid buffers.
        let jwks = text_out(|o, l, w| unsafe { authcore_jwt_keyset_jwks(ks.0, o, l, w) });
        assert_eq!(jwks.unwrap(), r#"{"keys":[]}"#);
    }

    #[test]
    fn zero_validation_uses_the_system_clock() {
        let ks = new();
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_HS256, SECRET, None, 0),
            AUTHCORE_OK
        );
        // The npm token expired in 2023: with now = 0 (system clock) and with a NULL
        // validation it is expired, never "valid at 1970".
        assert_eq!(
            verify(&ks, NPM_TOKEN.as_bytes(), Some(&at(0))),
            Err(AUTHCORE_JWT_EXPIRED)
        );
        assert_eq!(
            verify(&ks, NPM_TOKEN.as_bytes(), None),
            Err(AUTHCORE_JWT_EXPIRED)
        );
        assert!(last_error().contains("expired"), "{}", last_error());
        let now = jwt::unix_now();
        let fresh = format!(r#"{{"sub":"u1","iat":{now},"exp":{}}}"#, now + 60);
        let t = sign(&ks, &fresh).unwrap();
        assert!(verify(&ks, t.as_bytes(), None).is_ok());
    }

    #[test]
    fn claim_checks_and_token_use() {
        let ks = new();
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_HS512, SECRET, None, 0),
            AUTHCORE_OK
        );
        let refresh = sign(
            &ks,
            r#"{"sub":"u1","iss":"https://issuer.example","aud":["api","web"],"token_use":"refresh","exp":1700000900}"#,
        )
        .unwrap();
        let mut v = at(1_700_000_000);
        assert!(verify(&ks, refresh.as_bytes(), Some(&v)).is_ok());
        v.token_use = AUTHCORE_JWT_USE_ACCESS;
        assert_eq!(
            verify(&ks, refresh.as_bytes(), Some(&v)),
            Err(AUTHCORE_JWT_WRONG_TOKEN_USE)
        );
        v.token_use = AUTHCORE_JWT_USE_REFRESH;
        assert!(verify(&ks, refresh.as_bytes(), Some(&v)).is_ok());
        v.token_use = 9;
        assert_eq!(
            verify(&ks, refresh.as_bytes(), Some(&v)),
            Err(AUTHCORE_INVALID_ARGUMENT)
        );
        v.token_use = AUTHCORE_JWT_USE_ANY;

        let issuers = [s("https://other.example"), s("https://issuer.example")];
        v.issuers = issuers.as_ptr();
        v.issuers_len = 2;
        assert!(verify(&ks, refresh.as_bytes(), Some(&v)).is_ok());
        v.issuers_len = 1;
        assert_eq!(
            verify(&ks, refresh.as_bytes(), Some(&v)),
            Err(AUTHCORE_JWT_INVALID_ISSUER)
        );
        v.issuers_len = 0;

        let auds = [s("admin")];
        v.audiences = auds.as_ptr();
        v.audiences_len = 1;
        assert_eq!(
            verify(&ks, refresh.as_bytes(), Some(&v)),
            Err(AUTHCORE_JWT_INVALID_AUDIENCE)
        );
        v.audiences_len = 0;

        v.subject = s("u2");
        assert_eq!(
            verify(&ks, refresh.as_bytes(), Some(&v)),
            Err(AUTHCORE_JWT_INVALID_SUBJECT)
        );
        v.subject = s("u1");
        let req = [s("jti")];
        v.required_claims = req.as_ptr();
        v.required_claims_len = 1;
        assert_eq!(
            verify(&ks, refresh.as_bytes(), Some(&v)),
            Err(AUTHCORE_JWT_MISSING_CLAIM)
        );
        v.required_claims_len = 0;

        v.now = 1_700_000_900;
        assert_eq!(
            verify(&ks, refresh.as_bytes(), Some(&v)),
            Err(AUTHCORE_JWT_EXPIRED)
        );
        v.leeway = 1;
        assert!(verify(&ks, refresh.as_bytes(), Some(&v)).is_ok());
        // A leeway above a day fails closed (u64::MAX would keep every expired token alive).
        for leeway in [86_401, u64::MAX] {
            v.leeway = leeway;
            assert_eq!(
                verify(&ks, refresh.as_bytes(), Some(&v)),
                Err(AUTHCORE_JWT_INVALID_CONFIG)
            );
        }
        v.leeway = 1;

        // An array with a NULL pointer and a length is refused, not read.
        v.issuers = null();
        v.issuers_len = 1;
        assert_eq!(
            verify(&ks, refresh.as_bytes(), Some(&v)),
            Err(AUTHCORE_NULL_PARAMETER)
        );
    }

    #[test]
    fn hostile_tokens_are_typed_rejections() {
        let ks = new();
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_HS256, SECRET, None, 0),
            AUTHCORE_OK
        );
        let v = at(1_700_000_030);
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1MSJ9.";
        assert_eq!(
            verify(&ks, none.as_bytes(), Some(&v)),
            Err(AUTHCORE_JWT_ALG_NONE)
        );
        assert_eq!(verify(&ks, b"", Some(&v)), Err(AUTHCORE_JWT_MALFORMED));
        assert_eq!(
            verify(&ks, b"a.b.\xff", Some(&v)),
            Err(AUTHCORE_JWT_MALFORMED)
        );
        let long = vec![b'a'; AUTHCORE_JWT_MAX_TOKEN_LEN + 1];
        assert_eq!(verify(&ks, &long, Some(&v)), Err(AUTHCORE_JWT_MALFORMED));
        let mut tampered = NPM_TOKEN.as_bytes().to_vec();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            verify(&ks, &tampered, Some(&v)),
            Err(AUTHCORE_JWT_INVALID_SIGNATURE)
        );
        // HS384 is refused by a key that accepts HS256 only, accepted by a node-compatible one.
        let hs384 = "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1MSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwMDYwfQ.0n-igGfCWGYD8Jr1p1czyH7YtHy8xuNJ2GmHyjQekRSqJLCtItMoQO9RlpbeZSOC";
        assert_eq!(
            verify(&ks, hs384.as_bytes(), Some(&v)),
            Err(AUTHCORE_JWT_ALGORITHM_MISMATCH)
        );
        let node = new();
        let all = AUTHCORE_JWT_HS256 | AUTHCORE_JWT_HS384 | AUTHCORE_JWT_HS512;
        assert_eq!(
            add_hmac(&node, AUTHCORE_JWT_HS256, SECRET, None, all),
            AUTHCORE_OK
        );
        assert_eq!(
            verify(&node, hs384.as_bytes(), Some(&v)).unwrap(),
            r#"{"exp":1700000060,"iat":1700000000,"sub":"u1"}"#
        );
    }

    #[test]
    fn key_errors_and_null_pointers() {
        let ks = new();
        assert_eq!(add_hmac(&ks, 3, SECRET, None, 0), AUTHCORE_INVALID_ARGUMENT);
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_RS256, SECRET, None, 0),
            AUTHCORE_JWT_INVALID_KEY
        );
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_HS256, b"", None, 0),
            AUTHCORE_JWT_INVALID_KEY
        );
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_HS256, SECRET, None, AUTHCORE_JWT_RS256),
            AUTHCORE_JWT_KEY_CONFIG
        );
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_HS256, SECRET, None, 1 << 9),
            AUTHCORE_INVALID_ARGUMENT
        );
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_HS256, SECRET, Some("k1"), 0),
            AUTHCORE_OK
        );
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_HS256, SECRET, Some("k1"), 0),
            AUTHCORE_JWT_KEY_CONFIG
        );
        // No signing key yet in a fresh set; a payload that is not an object.
        let empty = new();
        assert_eq!(sign(&empty, "{}"), Err(AUTHCORE_JWT_KEY_CONFIG));
        assert_eq!(sign(&ks, "[1]"), Err(AUTHCORE_JWT_INVALID_CLAIM));
        let pem = "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n";
        // SAFETY: valid buffers; NULLs checked by the callee.
        unsafe {
            assert_eq!(
                authcore_jwt_keyset_add_public_pem(
                    ks.0,
                    AUTHCORE_JWT_RS256,
                    pem.as_ptr().cast(),
                    pem.len(),
                    null(),
                    0
                ),
                AUTHCORE_JWT_INVALID_KEY
            );
            assert_eq!(
                authcore_jwt_keyset_add_private_pem(
                    ks.0,
                    AUTHCORE_JWT_HS256,
                    pem.as_ptr().cast(),
                    pem.len(),
                    null(),
                    0
                ),
                AUTHCORE_JWT_INVALID_KEY
            );
            assert_eq!(authcore_jwt_keyset_new(null_mut()), AUTHCORE_NULL_PARAMETER);
            assert_eq!(
                authcore_jwt_keyset_add_hmac(
                    null(),
                    AUTHCORE_JWT_HS256,
                    SECRET.as_ptr(),
                    1,
                    null(),
                    0,
                    0
                ),
                AUTHCORE_NULL_PARAMETER
            );
            let mut n = 0;
            assert_eq!(
                authcore_jwt_verify(ks.0, null(), 0, null(), null_mut(), 0, &mut n),
                AUTHCORE_NULL_PARAMETER
            );
            assert_eq!(
                authcore_jwt_sign(null(), c"{}".as_ptr(), 2, null_mut(), 0, &mut n),
                AUTHCORE_NULL_PARAMETER
            );
            authcore_jwt_keyset_free(null_mut());
        }
    }

    fn vectors() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ffi-tests/vectors/jwt-asymmetric.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn case(id: &str) -> serde_json::Value {
        vectors()["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    }

    #[test]
    fn rs256_and_eddsa_pem_keys_sign_like_npm_and_publish_a_jwks() {
        for (id, alg) in [
            ("sign-RS256", AUTHCORE_JWT_RS256),
            ("sign-EdDSA", AUTHCORE_JWT_EDDSA),
        ] {
            let c = case(id);
            let i = &c["input"];
            let (pem, kid) = (
                i["privateKeyPem"].as_str().unwrap(),
                i["kid"].as_str().unwrap(),
            );
            let ks = new();
            // SAFETY: valid buffers.
            let r = unsafe {
                authcore_jwt_keyset_add_private_pem(
                    ks.0,
                    alg,
                    pem.as_ptr().cast(),
                    pem.len(),
                    kid.as_ptr().cast(),
                    kid.len(),
                )
            };
            assert_eq!(r, AUTHCORE_OK, "{}", last_error());
            let token = sign(&ks, i["payloadJson"].as_str().unwrap()).unwrap();
            assert_eq!(token, c["expect"]["ok"].as_str().unwrap(), "{id}");
            let claims = verify(&ks, token.as_bytes(), Some(&at(1_700_000_030))).unwrap();
            assert!(
                claims.starts_with(r#"{"email":"alice@example.com","exp":1702592000"#),
                "{claims}"
            );
            // SAFETY: valid buffers.
            let jwks =
                text_out(|o, l, w| unsafe { authcore_jwt_keyset_jwks(ks.0, o, l, w) }).unwrap();
            assert!(jwks.contains(&format!(r#""kid":"{kid}""#)), "{jwks}");
        }
        // The algorithm-confusion token (HS256 keyed with the RSA public PEM's bytes).
        let c = case("alg-confusion-hs256-with-rsa-public-pem");
        let i = &c["input"];
        let pem = i["publicKeyPem"].as_str().unwrap();
        let ks = new();
        // SAFETY: valid buffers.
        let r = unsafe {
            authcore_jwt_keyset_add_public_pem(
                ks.0,
                AUTHCORE_JWT_RS256,
                pem.as_ptr().cast(),
                pem.len(),
                null(),
                0,
            )
        };
        assert_eq!(r, AUTHCORE_OK);
        let token = i["token"].as_str().unwrap();
        assert_eq!(
            verify(&ks, token.as_bytes(), Some(&at(1_700_000_030))),
            Err(AUTHCORE_JWT_ALGORITHM_MISMATCH)
        );
        // A public key cannot sign.
        assert_eq!(sign(&ks, "{}"), Err(AUTHCORE_JWT_KEY_CONFIG));
    }

    #[test]
    fn a_keyset_is_shared_by_threads_while_keys_are_added() {
        let ks = new();
        assert_eq!(
            add_hmac(&ks, AUTHCORE_JWT_HS256, SECRET, None, 0),
            AUTHCORE_OK
        );
        let addr = ks.0 as usize;
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(move || {
                    let ks = Ks(addr as *mut authcore_jwt_keyset);
                    for _ in 0..200 {
                        assert!(
                            verify(&ks, NPM_TOKEN.as_bytes(), Some(&at(1_700_000_030))).is_ok()
                        );
                    }
                    std::mem::forget(ks);
                });
            }
            for i in 0..50 {
                let kid = format!("k{i}");
                assert_eq!(
                    add_hmac(&ks, AUTHCORE_JWT_HS384, SECRET, Some(&kid), 0),
                    AUTHCORE_OK
                );
            }
        });
    }
}
