//! The one error mapping of the auth-primitive functions.
//!
//! Every failure becomes a JS `Error` whose `code` is the core's stable code
//! (`PASSWORD_INVALID_HASH`, `JWT_EXPIRED`, `API_KEY_REVOKED`, `TOTP_MALFORMED_CODE`, ...),
//! whose `status` is the core's HTTP status and whose `message` is the core's text.
//! Tests compare codes, never messages. A wrong password, TOTP code or API key hash is not
//! an error where the core says so (`false`).

use napi::{Env, JsValue, Status};

/// A core error reduced to what crosses the boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthErr {
    /// Stable code.
    pub code: &'static str,
    /// HTTP status.
    pub status: u16,
    /// Human-readable text.
    pub message: String,
}

/// Result of the closures that run inside tasks.
pub type AuthResult<T> = std::result::Result<T, AuthErr>;

impl AuthErr {
    /// Invalid argument from JS (wrong type or value the core cannot take).
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self {
            code: "INVALID_ARGUMENT",
            status: 400,
            message: message.into(),
        }
    }

    /// A panic caught at the boundary (a bug; never a crash).
    pub fn panic() -> Self {
        Self {
            code: "INTERNAL_PANIC",
            status: 500,
            message: "internal error (panic caught at the FFI boundary)".into(),
        }
    }
}

macro_rules! from_core {
    ($($t:ty),*) => {$(
        impl From<$t> for AuthErr {
            fn from(e: $t) -> Self {
                Self { code: e.code(), status: e.status(), message: e.to_string() }
            }
        }
    )*};
}

from_core!(
    authcore::password::PasswordError,
    authcore::password::bcryptjs::BcryptjsError,
    authcore::jwt::JwtError,
    authcore::tokens::ApiTokenError,
    authcore::totp::TotpError,
    authcore::oauth::OAuthError,
    authcore::policy::PolicyError,
    authcore::events::EventsError
);

fn build(env: &Env, e: &AuthErr) -> napi::Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, e.message.clone()))?;
    obj.set("code", e.code)?;
    obj.set("status", u32::from(e.status))?;
    Ok(napi::Error::from(obj.to_unknown()))
}

/// The single `AuthErr` → JS error mapping.
pub fn to_js(env: &Env, e: impl Into<AuthErr>) -> napi::Error {
    let e = e.into();
    build(env, &e).unwrap_or_else(|err| err)
}

/// Map a core result for a synchronous function.
pub fn js<T, E: Into<AuthErr>>(env: &Env, r: std::result::Result<T, E>) -> napi::Result<T> {
    r.map_err(|e| to_js(env, e))
}
