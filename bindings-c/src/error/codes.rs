//! Result codes of the password, JWT, TOTP, PKCE and policy functions: the `1000..=1999`
//! range of [`authcore_result`], one block of 100 per core module, each code named after
//! the core error's stable `code()` and answered with its `status()`.
//!
//! | range | module | core error |
//! |---|---|---|
//! | 1000..=1099 | passwords | `authcore::password::PasswordError` |
//! | 1100..=1199 | JWT | `authcore::jwt::JwtError` |
//! | 1200..=1299 | TOTP | `authcore::totp::TotpError` |
//! | 1300..=1399 | PKCE | `authcore::oauth::OAuthError` (PKCE variants) |
//! | 1400..=1499 | policies | `authcore::policy::PolicyError` |
//!
//! The names, numbers and statuses live here; the error module only delegates to this table.

use std::ffi::CStr;

use authcore::jwt::JwtError;
use authcore::oauth::OAuthError;
use authcore::password::PasswordError;
use authcore::policy::PolicyError;
use authcore::totp::TotpError;

use crate::error::authcore_result::{self, *};
use crate::ffi::FfiError;

/// Every code of this range: (code, stable name, HTTP status).
pub(crate) const AUTH_CODES: [(authcore_result, &CStr, u16); 45] = [
    (
        AUTHCORE_PASSWORD_INVALID_HASH,
        c"PASSWORD_INVALID_HASH",
        500,
    ),
    (
        AUTHCORE_PASSWORD_UNSUPPORTED_ALGORITHM,
        c"PASSWORD_UNSUPPORTED_ALGORITHM",
        500,
    ),
    (
        AUTHCORE_PASSWORD_INVALID_PARAMS,
        c"PASSWORD_INVALID_PARAMS",
        500,
    ),
    (AUTHCORE_PASSWORD_TOO_LONG, c"PASSWORD_TOO_LONG", 400),
    (
        AUTHCORE_PASSWORD_RANDOM_FAILURE,
        c"PASSWORD_RANDOM_FAILURE",
        500,
    ),
    (
        AUTHCORE_PASSWORD_HASHING_FAILED,
        c"PASSWORD_HASHING_FAILED",
        500,
    ),
    (AUTHCORE_JWT_MALFORMED, c"JWT_MALFORMED", 401),
    (AUTHCORE_JWT_ALG_NONE, c"JWT_ALG_NONE", 401),
    (
        AUTHCORE_JWT_UNSUPPORTED_ALGORITHM,
        c"JWT_UNSUPPORTED_ALGORITHM",
        401,
    ),
    (
        AUTHCORE_JWT_ALGORITHM_MISMATCH,
        c"JWT_ALGORITHM_MISMATCH",
        401,
    ),
    (
        AUTHCORE_JWT_UNSUPPORTED_CRITICAL_HEADER,
        c"JWT_UNSUPPORTED_CRITICAL_HEADER",
        401,
    ),
    (AUTHCORE_JWT_UNKNOWN_KID, c"JWT_UNKNOWN_KID", 401),
    (
        AUTHCORE_JWT_INVALID_SIGNATURE,
        c"JWT_INVALID_SIGNATURE",
        401,
    ),
    (AUTHCORE_JWT_EXPIRED, c"JWT_EXPIRED", 401),
    (AUTHCORE_JWT_NOT_YET_VALID, c"JWT_NOT_YET_VALID", 401),
    (AUTHCORE_JWT_INVALID_ISSUER, c"JWT_INVALID_ISSUER", 401),
    (AUTHCORE_JWT_INVALID_AUDIENCE, c"JWT_INVALID_AUDIENCE", 401),
    (AUTHCORE_JWT_INVALID_SUBJECT, c"JWT_INVALID_SUBJECT", 401),
    (AUTHCORE_JWT_MISSING_CLAIM, c"JWT_MISSING_CLAIM", 401),
    (AUTHCORE_JWT_INVALID_CLAIM, c"JWT_INVALID_CLAIM", 401),
    (AUTHCORE_JWT_WRONG_TOKEN_USE, c"JWT_WRONG_TOKEN_USE", 401),
    (AUTHCORE_JWT_INVALID_KEY, c"JWT_INVALID_KEY", 500),
    (AUTHCORE_JWT_KEY_CONFIG, c"JWT_KEY_CONFIG", 500),
    (AUTHCORE_JWT_SIGNING_FAILED, c"JWT_SIGNING_FAILED", 500),
    (AUTHCORE_JWT_RANDOM_FAILURE, c"JWT_RANDOM_FAILURE", 500),
    (AUTHCORE_JWT_INVALID_CONFIG, c"JWT_INVALID_CONFIG", 500),
    (AUTHCORE_TOTP_MALFORMED_CODE, c"TOTP_MALFORMED_CODE", 400),
    (AUTHCORE_TOTP_INVALID_CODE, c"TOTP_INVALID_CODE", 401),
    (AUTHCORE_TOTP_REPLAYED, c"TOTP_REPLAYED", 401),
    (AUTHCORE_TOTP_INVALID_SECRET, c"TOTP_INVALID_SECRET", 500),
    (
        AUTHCORE_TOTP_SECRET_TOO_SHORT,
        c"TOTP_SECRET_TOO_SHORT",
        500,
    ),
    (AUTHCORE_TOTP_SECRET_TOO_LONG, c"TOTP_SECRET_TOO_LONG", 500),
    (AUTHCORE_TOTP_INVALID_CONFIG, c"TOTP_INVALID_CONFIG", 500),
    (AUTHCORE_TOTP_RANDOM_FAILURE, c"TOTP_RANDOM_FAILURE", 500),
    (
        AUTHCORE_PKCE_INVALID_VERIFIER,
        c"PKCE_INVALID_VERIFIER",
        400,
    ),
    (
        AUTHCORE_PKCE_INVALID_CHALLENGE,
        c"PKCE_INVALID_CHALLENGE",
        400,
    ),
    (
        AUTHCORE_PKCE_VERIFICATION_FAILED,
        c"PKCE_VERIFICATION_FAILED",
        400,
    ),
    (
        AUTHCORE_PKCE_UNSUPPORTED_METHOD,
        c"PKCE_UNSUPPORTED_METHOD",
        400,
    ),
    (
        AUTHCORE_PKCE_PLAIN_NOT_ALLOWED,
        c"PKCE_PLAIN_NOT_ALLOWED",
        400,
    ),
    (
        AUTHCORE_POLICY_INVALID_DOCUMENT,
        c"POLICY_INVALID_DOCUMENT",
        400,
    ),
    (
        AUTHCORE_POLICY_INVALID_PRINCIPAL,
        c"POLICY_INVALID_PRINCIPAL",
        400,
    ),
    (
        AUTHCORE_POLICY_INVALID_PATTERN,
        c"POLICY_INVALID_PATTERN",
        400,
    ),
    (
        AUTHCORE_POLICY_INVALID_RESOURCE,
        c"POLICY_INVALID_RESOURCE",
        400,
    ),
    (AUTHCORE_POLICY_ROLE_CYCLE, c"POLICY_ROLE_CYCLE", 409),
    (
        AUTHCORE_POLICY_INVALID_REQUEST,
        c"POLICY_INVALID_REQUEST",
        400,
    ),
];

/// The code of this range with number `n`.
pub(crate) fn from_u32(n: u32) -> Option<authcore_result> {
    AUTH_CODES
        .iter()
        .find(|(c, _, _)| *c as u32 == n)
        .map(|e| e.0)
}

/// The stable name of a code of this range (`None` for other codes).
pub(crate) const fn name(code: authcore_result) -> Option<&'static CStr> {
    let mut i = 0;
    while i < AUTH_CODES.len() {
        if AUTH_CODES[i].0 as u32 == code as u32 {
            return Some(AUTH_CODES[i].1);
        }
        i += 1;
    }
    None
}

/// The HTTP status of a code of this range (`None` for other codes).
pub(crate) fn http_status(code: authcore_result) -> Option<u16> {
    AUTH_CODES.iter().find(|(c, _, _)| *c == code).map(|e| e.2)
}

fn ffi_error(code: authcore_result, status: u16, message: String) -> FfiError {
    FfiError {
        code,
        status,
        message,
    }
}

impl From<PasswordError> for FfiError {
    fn from(e: PasswordError) -> Self {
        let code = match &e {
            PasswordError::InvalidHash(_) => AUTHCORE_PASSWORD_INVALID_HASH,
            PasswordError::UnsupportedAlgorithm => AUTHCORE_PASSWORD_UNSUPPORTED_ALGORITHM,
            PasswordError::InvalidParams(_) => AUTHCORE_PASSWORD_INVALID_PARAMS,
            PasswordError::PasswordTooLong { .. } => AUTHCORE_PASSWORD_TOO_LONG,
            PasswordError::Random => AUTHCORE_PASSWORD_RANDOM_FAILURE,
            PasswordError::Hashing(_) => AUTHCORE_PASSWORD_HASHING_FAILED,
            // A variant added to the core before this table learns it.
            _ => AUTHCORE_INTERNAL_ERROR,
        };
        ffi_error(code, e.status(), e.to_string())
    }
}

impl From<JwtError> for FfiError {
    fn from(e: JwtError) -> Self {
        let code = match &e {
            JwtError::Malformed => AUTHCORE_JWT_MALFORMED,
            JwtError::AlgNone => AUTHCORE_JWT_ALG_NONE,
            JwtError::UnsupportedAlgorithm(_) => AUTHCORE_JWT_UNSUPPORTED_ALGORITHM,
            JwtError::AlgorithmMismatch(_) => AUTHCORE_JWT_ALGORITHM_MISMATCH,
            JwtError::UnsupportedCritical => AUTHCORE_JWT_UNSUPPORTED_CRITICAL_HEADER,
            JwtError::UnknownKid(_) => AUTHCORE_JWT_UNKNOWN_KID,
            JwtError::InvalidSignature => AUTHCORE_JWT_INVALID_SIGNATURE,
            JwtError::Expired => AUTHCORE_JWT_EXPIRED,
            JwtError::NotYetValid => AUTHCORE_JWT_NOT_YET_VALID,
            JwtError::InvalidIssuer => AUTHCORE_JWT_INVALID_ISSUER,
            JwtError::InvalidAudience => AUTHCORE_JWT_INVALID_AUDIENCE,
            JwtError::InvalidSubject => AUTHCORE_JWT_INVALID_SUBJECT,
            JwtError::MissingClaim(_) => AUTHCORE_JWT_MISSING_CLAIM,
            JwtError::InvalidClaim(_) => AUTHCORE_JWT_INVALID_CLAIM,
            JwtError::WrongTokenUse { .. } => AUTHCORE_JWT_WRONG_TOKEN_USE,
            JwtError::InvalidKey(_) => AUTHCORE_JWT_INVALID_KEY,
            JwtError::KeyConfig(_) => AUTHCORE_JWT_KEY_CONFIG,
            JwtError::Signing(_) => AUTHCORE_JWT_SIGNING_FAILED,
            JwtError::Random => AUTHCORE_JWT_RANDOM_FAILURE,
            JwtError::InvalidConfig(_) => AUTHCORE_JWT_INVALID_CONFIG,
            // Refresh-token errors come only from the TokenManager, which the C ABI
            // does not expose; future variants likewise.
            _ => AUTHCORE_INTERNAL_ERROR,
        };
        ffi_error(code, e.status(), e.to_string())
    }
}

impl From<TotpError> for FfiError {
    fn from(e: TotpError) -> Self {
        let code = match &e {
            TotpError::MalformedCode { .. } => AUTHCORE_TOTP_MALFORMED_CODE,
            TotpError::InvalidCode => AUTHCORE_TOTP_INVALID_CODE,
            TotpError::Replayed { .. } => AUTHCORE_TOTP_REPLAYED,
            TotpError::InvalidSecret => AUTHCORE_TOTP_INVALID_SECRET,
            TotpError::SecretTooShort => AUTHCORE_TOTP_SECRET_TOO_SHORT,
            TotpError::SecretTooLong => AUTHCORE_TOTP_SECRET_TOO_LONG,
            TotpError::InvalidConfig(_) => AUTHCORE_TOTP_INVALID_CONFIG,
            TotpError::Random => AUTHCORE_TOTP_RANDOM_FAILURE,
            _ => AUTHCORE_INTERNAL_ERROR,
        };
        ffi_error(code, e.status(), e.to_string())
    }
}

impl From<OAuthError> for FfiError {
    fn from(e: OAuthError) -> Self {
        let code = match &e {
            OAuthError::InvalidVerifier => AUTHCORE_PKCE_INVALID_VERIFIER,
            OAuthError::InvalidChallenge => AUTHCORE_PKCE_INVALID_CHALLENGE,
            OAuthError::PkceMismatch => AUTHCORE_PKCE_VERIFICATION_FAILED,
            OAuthError::UnsupportedChallengeMethod => AUTHCORE_PKCE_UNSUPPORTED_METHOD,
            OAuthError::PlainNotAllowed => AUTHCORE_PKCE_PLAIN_NOT_ALLOWED,
            // Authorization codes and metadata are not part of the C ABI.
            _ => AUTHCORE_INTERNAL_ERROR,
        };
        ffi_error(code, e.status(), e.to_string())
    }
}

impl From<PolicyError> for FfiError {
    fn from(e: PolicyError) -> Self {
        let code = match &e {
            PolicyError::InvalidDocument(_) => AUTHCORE_POLICY_INVALID_DOCUMENT,
            PolicyError::InvalidPrincipal(_) => AUTHCORE_POLICY_INVALID_PRINCIPAL,
            PolicyError::InvalidPattern(_) => AUTHCORE_POLICY_INVALID_PATTERN,
            PolicyError::InvalidResource(_) => AUTHCORE_POLICY_INVALID_RESOURCE,
            PolicyError::RoleCycle(_) => AUTHCORE_POLICY_ROLE_CYCLE,
            PolicyError::InvalidRequest(_) => AUTHCORE_POLICY_INVALID_REQUEST,
            _ => AUTHCORE_INTERNAL_ERROR,
        };
        ffi_error(code, e.status(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One instance of every core error variant the table maps.
    fn core_errors() -> Vec<FfiError> {
        let mut v: Vec<FfiError> = Vec::new();
        for e in [
            PasswordError::InvalidHash("x"),
            PasswordError::UnsupportedAlgorithm,
            PasswordError::InvalidParams("x".into()),
            PasswordError::PasswordTooLong { max: 1 },
            PasswordError::Random,
            PasswordError::Hashing("x".into()),
        ] {
            v.push(e.into());
        }
        for e in [
            JwtError::Malformed,
            JwtError::AlgNone,
            JwtError::UnsupportedAlgorithm("x".into()),
            JwtError::AlgorithmMismatch("x".into()),
            JwtError::UnsupportedCritical,
            JwtError::UnknownKid(None),
            JwtError::InvalidSignature,
            JwtError::Expired,
            JwtError::NotYetValid,
            JwtError::InvalidIssuer,
            JwtError::InvalidAudience,
            JwtError::InvalidSubject,
            JwtError::MissingClaim("x".into()),
            JwtError::InvalidClaim("x".into()),
            JwtError::WrongTokenUse {
                expected: "access",
                found: None,
            },
            JwtError::InvalidKey("x".into()),
            JwtError::KeyConfig("x".into()),
            JwtError::Signing("x".into()),
            JwtError::Random,
            JwtError::InvalidConfig("x".into()),
        ] {
            v.push(e.into());
        }
        for e in [
            TotpError::MalformedCode { digits: 6 },
            TotpError::InvalidCode,
            TotpError::Replayed { step: 1 },
            TotpError::InvalidSecret,
            TotpError::SecretTooShort,
            TotpError::SecretTooLong,
            TotpError::InvalidConfig("x"),
            TotpError::Random,
        ] {
            v.push(e.into());
        }
        for e in [
            OAuthError::InvalidVerifier,
            OAuthError::InvalidChallenge,
            OAuthError::PkceMismatch,
            OAuthError::UnsupportedChallengeMethod,
            OAuthError::PlainNotAllowed,
        ] {
            v.push(e.into());
        }
        for e in [
            PolicyError::InvalidDocument("x".into()),
            PolicyError::InvalidPrincipal("x".into()),
            PolicyError::InvalidPattern("x".into()),
            PolicyError::InvalidResource("x".into()),
            PolicyError::RoleCycle("x".into()),
            PolicyError::InvalidRequest("x".into()),
        ] {
            v.push(e.into());
        }
        v
    }

    #[test]
    fn every_core_error_maps_to_its_own_code_name_and_status() {
        let errors = core_errors();
        assert_eq!(errors.len(), AUTH_CODES.len());
        for (e, (code, name_, status)) in errors.iter().zip(AUTH_CODES) {
            assert_eq!(e.code, code);
            assert_eq!(e.status, status, "{name_:?}");
            assert_eq!(name(code), Some(name_));
            assert_eq!(http_status(code), Some(status));
            assert_eq!(from_u32(code as u32), Some(code));
            assert_eq!(code.name(), name_);
            assert_eq!(code.http_status(), status);
            assert_eq!(authcore_result::from_u32(code as u32), Some(code));
            assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn names_equal_core_codes_for_every_module() {
        let want: Vec<&'static str> = vec![
            PasswordError::InvalidHash("x").code(),
            PasswordError::UnsupportedAlgorithm.code(),
            PasswordError::InvalidParams("x".into()).code(),
            PasswordError::PasswordTooLong { max: 1 }.code(),
            PasswordError::Random.code(),
            PasswordError::Hashing("x".into()).code(),
            JwtError::Malformed.code(),
            JwtError::AlgNone.code(),
            JwtError::UnsupportedAlgorithm("x".into()).code(),
            JwtError::AlgorithmMismatch("x".into()).code(),
            JwtError::UnsupportedCritical.code(),
            JwtError::UnknownKid(None).code(),
            JwtError::InvalidSignature.code(),
            JwtError::Expired.code(),
            JwtError::NotYetValid.code(),
            JwtError::InvalidIssuer.code(),
            JwtError::InvalidAudience.code(),
            JwtError::InvalidSubject.code(),
            JwtError::MissingClaim("x".into()).code(),
            JwtError::InvalidClaim("x".into()).code(),
            JwtError::WrongTokenUse {
                expected: "access",
                found: None,
            }
            .code(),
            JwtError::InvalidKey("x".into()).code(),
            JwtError::KeyConfig("x".into()).code(),
            JwtError::Signing("x".into()).code(),
            JwtError::Random.code(),
            JwtError::InvalidConfig("x".into()).code(),
            TotpError::MalformedCode { digits: 6 }.code(),
            TotpError::InvalidCode.code(),
            TotpError::Replayed { step: 1 }.code(),
            TotpError::InvalidSecret.code(),
            TotpError::SecretTooShort.code(),
            TotpError::SecretTooLong.code(),
            TotpError::InvalidConfig("x").code(),
            TotpError::Random.code(),
            OAuthError::InvalidVerifier.code(),
            OAuthError::InvalidChallenge.code(),
            OAuthError::PkceMismatch.code(),
            OAuthError::UnsupportedChallengeMethod.code(),
            OAuthError::PlainNotAllowed.code(),
            PolicyError::InvalidDocument("x".into()).code(),
            PolicyError::InvalidPrincipal("x".into()).code(),
            PolicyError::InvalidPattern("x".into()).code(),
            PolicyError::InvalidResource("x".into()).code(),
            PolicyError::RoleCycle("x".into()).code(),
            PolicyError::InvalidRequest("x".into()).code(),
        ];
        let names: Vec<&str> = AUTH_CODES
            .iter()
            .map(|(_, n, _)| n.to_str().unwrap())
            .collect();
        assert_eq!(names, want);
    }

    #[test]
    fn numbers_are_stable_and_in_their_blocks() {
        let nums: Vec<u32> = AUTH_CODES.iter().map(|(c, _, _)| *c as u32).collect();
        assert!(nums.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
        let expect = [
            (AUTHCORE_PASSWORD_INVALID_HASH, 1000),
            (AUTHCORE_PASSWORD_HASHING_FAILED, 1005),
            (AUTHCORE_JWT_MALFORMED, 1100),
            (AUTHCORE_JWT_RANDOM_FAILURE, 1118),
            (AUTHCORE_JWT_INVALID_CONFIG, 1119),
            (AUTHCORE_TOTP_MALFORMED_CODE, 1200),
            (AUTHCORE_TOTP_RANDOM_FAILURE, 1207),
            (AUTHCORE_PKCE_INVALID_VERIFIER, 1300),
            (AUTHCORE_PKCE_PLAIN_NOT_ALLOWED, 1304),
            (AUTHCORE_POLICY_INVALID_DOCUMENT, 1400),
            (AUTHCORE_POLICY_INVALID_REQUEST, 1405),
        ];
        for (c, n) in expect {
            assert_eq!(c as u32, n);
        }
        for n in [999, 1006, 1099, 1120, 1208, 1305, 1406, 1500, 2000] {
            assert_eq!(from_u32(n), None, "{n}");
            assert_eq!(authcore_result::from_u32(n), None, "{n}");
        }
    }
}
