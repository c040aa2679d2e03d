//! uniffi binding of authcore's client-side subset, for Kotlin (Android, JVM), Swift and
//! Python: HMAC request and message signing (wire v1 of `@naskot/node-hmac-auth-core`),
//! the sans-IO HMAC verification a server runs against a stored credential, PKCE, TOTP and
//! JWT verification with a JWKS.
//!
//! Every exported function converts its arguments, makes one `authcore` call and maps the
//! core's error through [`AuthcoreError`] (the one boundary). No rule lives here: the
//! bytes, comparisons and error codes are the core's, the same as in the Node, Python and
//! C bindings (the shared vectors prove it, see `tests/test_uniffi_vectors.py`).
//!
//! `scripts/uniffi.sh` builds the cdylib and generates the Kotlin, Swift and Python
//! sources from it (`uniffi-bindgen generate --library`).

uniffi::setup_scaffolding!();

mod hmac;
mod jwt;
mod oauth;
mod totp;

pub use hmac::*;
pub use jwt::*;
pub use oauth::*;
pub use totp::*;

/// Every failure of this binding. The variant names the capability; `code` is the core's
/// stable machine-readable code (`BAD_SIGNATURE`, `TOTP_REPLAYED`, `PKCE_INVALID_VERIFIER`,
/// `JWT_EXPIRED`, …, the same strings as in the Node, Python and C bindings), `status` the
/// HTTP status the core gives it, `reason` the core's message.
///
/// In Kotlin this is the sealed class `AuthcoreException` (`AuthcoreException.Hmac`, …);
/// in Swift the enum `AuthcoreError`; in Python the exception `AuthcoreError` with one
/// subclass per variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum AuthcoreError {
    /// HMAC signing or verification: one of the original's `HmacAuthError` codes
    /// (`MISSING_CLIENT_ID` … `BAD_SIGNATURE`, `HEADER_TOO_LARGE`; status 401, 403, 404,
    /// 431 or 500), or `INVALID_ARGUMENT` / `INVALID_INPUT` (status 500: what a middleware
    /// answers for them).
    #[error("{code}: {reason}")]
    Hmac {
        /// The core's code.
        code: String,
        /// HTTP status.
        status: u16,
        /// The core's message.
        reason: String,
    },
    /// TOTP: `TOTP_MALFORMED_CODE` (400), `TOTP_INVALID_CODE` / `TOTP_REPLAYED` (401),
    /// secret and configuration faults (500).
    #[error("{code}: {reason}")]
    Totp {
        /// The core's code.
        code: String,
        /// HTTP status.
        status: u16,
        /// The core's message.
        reason: String,
    },
    /// PKCE (RFC 7636): `PKCE_INVALID_VERIFIER`, `PKCE_VERIFICATION_FAILED`,
    /// `PKCE_UNSUPPORTED_METHOD`, `PKCE_PLAIN_NOT_ALLOWED`, … (400).
    #[error("{code}: {reason}")]
    Pkce {
        /// The core's code.
        code: String,
        /// HTTP status.
        status: u16,
        /// The core's message.
        reason: String,
    },
    /// JWT: a rejected token (`JWT_INVALID_SIGNATURE`, `JWT_EXPIRED`, …; 401) or a key
    /// that cannot be used (`JWT_INVALID_KEY`, `JWT_KEY_CONFIG`; 500).
    #[error("{code}: {reason}")]
    Jwt {
        /// The core's code.
        code: String,
        /// HTTP status.
        status: u16,
        /// The core's message.
        reason: String,
    },
}

impl From<authcore::hmac::HmacError> for AuthcoreError {
    fn from(e: authcore::hmac::HmacError) -> Self {
        Self::Hmac {
            code: e.code().to_owned(),
            status: e.status(),
            reason: e.to_string(),
        }
    }
}

impl From<authcore::totp::TotpError> for AuthcoreError {
    fn from(e: authcore::totp::TotpError) -> Self {
        Self::Totp {
            code: e.code().to_owned(),
            status: e.status(),
            reason: e.to_string(),
        }
    }
}

impl From<authcore::oauth::OAuthError> for AuthcoreError {
    fn from(e: authcore::oauth::OAuthError) -> Self {
        Self::Pkce {
            code: e.code().to_owned(),
            status: e.status(),
            reason: e.to_string(),
        }
    }
}

impl From<authcore::jwt::JwtError> for AuthcoreError {
    fn from(e: authcore::jwt::JwtError) -> Self {
        Self::Jwt {
            code: e.code().to_owned(),
            status: e.status(),
            reason: e.to_string(),
        }
    }
}

/// The version of authcore this library was built from (the workspace version).
#[uniffi::export]
pub fn authcore_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
