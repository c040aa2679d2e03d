//! PKCE (RFC 7636): the client makes a verifier and its S256 challenge, the authorization
//! server checks the verifier against the stored challenge. Calls `authcore::oauth`.

use authcore::oauth::{self, CodeChallengeMethod, OAuthError};

use crate::AuthcoreError;

/// A new code verifier: 32 CSPRNG bytes, base64url without padding (43 characters).
#[uniffi::export]
pub fn pkce_generate_verifier() -> Result<String, AuthcoreError> {
    Ok(oauth::generate_code_verifier()?)
}

/// The S256 challenge of a verifier: `BASE64URL-NOPAD(SHA256(verifier))`. A verifier
/// outside 43..=128 characters of `[A-Za-z0-9-._~]` is `PKCE_INVALID_VERIFIER`.
#[uniffi::export]
pub fn pkce_s256_challenge(verifier: String) -> Result<String, AuthcoreError> {
    oauth::validate_code_verifier(&verifier)?;
    Ok(oauth::s256_challenge(&verifier))
}

/// Check a verifier against a stored challenge (constant-time). `method` is `S256` or
/// `plain` (exact, case-sensitive; anything else is `PKCE_UNSUPPORTED_METHOD`); `plain`
/// is refused (`PKCE_PLAIN_NOT_ALLOWED`) unless `allow_plain`. A mismatch is
/// `PKCE_VERIFICATION_FAILED`.
#[uniffi::export(default(allow_plain = false))]
pub fn pkce_verify(
    verifier: String,
    challenge: String,
    method: String,
    allow_plain: bool,
) -> Result<(), AuthcoreError> {
    let m = CodeChallengeMethod::parse(&method)?;
    if m == CodeChallengeMethod::Plain && !allow_plain {
        return Err(OAuthError::PlainNotAllowed.into());
    }
    Ok(oauth::verify_pkce(&verifier, &challenge, m)?)
}
