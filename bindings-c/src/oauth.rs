//! PKCE (RFC 7636) as C functions: the S256 challenge of a verifier, and the check an
//! authorization server makes at the token endpoint.

use std::ffi::c_char;

use authcore::oauth::{self, CodeChallengeMethod, OAuthError};

use crate::error::authcore_result;
use crate::ffi::{boundary, text, write_text};

/// Buffer size for an S256 challenge (43 base64url characters) and its NUL.
pub const AUTHCORE_PKCE_CHALLENGE_BUFFER_SIZE: usize = 44;

/// `BASE64URL-NOPAD(SHA256(verifier))`, the S256 `code_challenge` (43 characters). The
/// verifier must be 43..=128 characters of `[A-Za-z0-9-._~]`, else
/// `AUTHCORE_PKCE_INVALID_VERIFIER` (a server would reject it anyway).
///
/// # Safety
/// `verifier` valid for `verifier_len` bytes; `out` valid for `out_len` bytes of writes;
/// `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_pkce_s256_challenge(
    verifier: *const c_char,
    verifier_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let v = text(verifier, verifier_len, "verifier")?;
            oauth::validate_code_verifier(v)?;
            write_text(
                oauth::s256_challenge(v).as_bytes(),
                out,
                out_len,
                out_written,
            )
        }
    })
}

/// Check a `code_verifier` against the stored `code_challenge` and
/// `code_challenge_method` (`"S256"` or `"plain"`, exact case). Returns `AUTHCORE_OK` when
/// they match (constant-time comparison), otherwise:
/// `AUTHCORE_PKCE_INVALID_VERIFIER` (not 43..=128 characters of `[A-Za-z0-9-._~]`),
/// `AUTHCORE_PKCE_UNSUPPORTED_METHOD`, `AUTHCORE_PKCE_PLAIN_NOT_ALLOWED` (`plain` while
/// `allow_plain` is false; OAuth 2.1 requires S256), `AUTHCORE_PKCE_VERIFICATION_FAILED`.
/// All are HTTP 400 (`invalid_request` / `invalid_grant`).
///
/// # Safety
/// `verifier`, `challenge`, `method` valid for their lengths.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_pkce_verify(
    verifier: *const c_char,
    verifier_len: usize,
    challenge: *const c_char,
    challenge_len: usize,
    method: *const c_char,
    method_len: usize,
    allow_plain: bool,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let v = text(verifier, verifier_len, "verifier")?;
            let c = text(challenge, challenge_len, "challenge")?;
            let m = CodeChallengeMethod::parse(text(method, method_len, "method")?)?;
            if m == CodeChallengeMethod::Plain && !allow_plain {
                return Err(OAuthError::PlainNotAllowed.into());
            }
            Ok(oauth::verify_pkce(v, c, m)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::authcore_result::*;
    use crate::ffi::test_util::text_out;
    use std::ptr::null;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn check(v: &str, c: &str, m: &str, plain: bool) -> authcore_result {
        // SAFETY: valid buffers.
        unsafe {
            authcore_pkce_verify(
                v.as_ptr().cast(),
                v.len(),
                c.as_ptr().cast(),
                c.len(),
                m.as_ptr().cast(),
                m.len(),
                plain,
            )
        }
    }

    #[test]
    fn rfc7636_appendix_b() {
        // SAFETY: valid buffers.
        let c = text_out(|o, l, w| unsafe {
            authcore_pkce_s256_challenge(VERIFIER.as_ptr().cast(), VERIFIER.len(), o, l, w)
        });
        assert_eq!(c.unwrap(), CHALLENGE);
        assert_eq!(CHALLENGE.len() + 1, AUTHCORE_PKCE_CHALLENGE_BUFFER_SIZE);
        assert_eq!(check(VERIFIER, CHALLENGE, "S256", false), AUTHCORE_OK);
    }

    #[test]
    fn rejections_are_typed() {
        assert_eq!(
            check(
                "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                CHALLENGE,
                "S256",
                false
            ),
            AUTHCORE_PKCE_VERIFICATION_FAILED
        );
        assert_eq!(
            check(CHALLENGE, CHALLENGE, "S256", false),
            AUTHCORE_PKCE_VERIFICATION_FAILED
        );
        assert_eq!(
            check(&"a".repeat(42), CHALLENGE, "S256", false),
            AUTHCORE_PKCE_INVALID_VERIFIER
        );
        assert_eq!(
            check(VERIFIER, CHALLENGE, "s256", false),
            AUTHCORE_PKCE_UNSUPPORTED_METHOD
        );
        let a43 = "a".repeat(43);
        assert_eq!(
            check(&a43, &a43, "plain", false),
            AUTHCORE_PKCE_PLAIN_NOT_ALLOWED
        );
        assert_eq!(check(&a43, &a43, "plain", true), AUTHCORE_OK);
        assert_eq!(
            check(&a43, &"b".repeat(43), "plain", true),
            AUTHCORE_PKCE_VERIFICATION_FAILED
        );
        // SAFETY: valid buffers; NULLs checked by the callee.
        unsafe {
            let bad = b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX\xff";
            assert_eq!(
                authcore_pkce_verify(
                    bad.as_ptr().cast(),
                    bad.len(),
                    CHALLENGE.as_ptr().cast(),
                    43,
                    c"S256".as_ptr(),
                    4,
                    false
                ),
                AUTHCORE_INVALID_UTF8
            );
            assert_eq!(
                authcore_pkce_verify(
                    VERIFIER.as_ptr().cast(),
                    43,
                    CHALLENGE.as_ptr().cast(),
                    43,
                    null(),
                    0,
                    false
                ),
                AUTHCORE_NULL_PARAMETER
            );
            let mut n = 0;
            let mut small = [0 as c_char; 43];
            assert_eq!(
                authcore_pkce_s256_challenge(
                    VERIFIER.as_ptr().cast(),
                    43,
                    small.as_mut_ptr(),
                    43,
                    &mut n
                ),
                AUTHCORE_BUFFER_TOO_SMALL
            );
            assert_eq!((n, small[0]), (44, 0));
        }
    }
}
