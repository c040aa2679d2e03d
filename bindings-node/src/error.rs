//! The one error mapping of the binding.
//!
//! Every failure becomes a JS `Error` whose `code` is the core's stable code (an
//! `HmacAuthError` code such as `BAD_SIGNATURE`, or `INVALID_ARGUMENT` for the original's
//! plain `Error`s, `INVALID_INPUT` for what it rejects with a `TypeError`,
//! `STORE_ERROR`), whose `status` is the HTTP status the original uses, whose `message`
//! is the original's exact message, and whose `isHmacAuthError` says whether the JS layer
//! must rebuild an `HmacAuthError`. Async methods settle their promise on the JS thread,
//! so they reject with the same error objects. Verification calls do not throw: they
//! return a [`crate::hmac::verify::VerifyOutcome`] with the same fields.
//!
//! The password, JWT, token, TOTP, OAuth and policy functions map their errors through
//! [`AuthErr`] ([`to_js`], [`js`]): `code` is the core's stable code (`PASSWORD_INVALID_HASH`,
//! `JWT_EXPIRED`, `API_KEY_REVOKED`, `TOTP_MALFORMED_CODE`, ...), `status` the core's HTTP
//! status and `message` the core's text. A wrong password, TOTP code or API key hash is not
//! an error where the core says so (`false`).

use std::future::Future;

use authcore::hmac::{HmacError, HmacErrorCode};
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{Env, JsValue, Status};
use napi_derive::napi;

pub type Result<T> = napi::Result<T>;

/// The exact message of an error (without the `store error:` prefix for auth errors).
pub fn message_of(e: &HmacError) -> String {
    match e {
        HmacError::Auth(a) => a.message.clone(),
        HmacError::InvalidArgument(m) | HmacError::InvalidInput(m) => m.clone(),
        other => other.to_string(),
    }
}

fn build(
    env: &Env,
    code: &str,
    status: u16,
    message: &str,
    is_hmac_auth_error: bool,
) -> Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, message))?;
    obj.set("code", code)?;
    obj.set("status", u32::from(status))?;
    obj.set("isHmacAuthError", is_hmac_auth_error)?;
    Ok(napi::Error::from(obj.to_unknown()))
}

/// A JS `Error` with `code`, `status` and `message`: what every core error becomes.
pub fn coded(env: &Env, code: &str, status: u16, message: &str) -> napi::Error {
    build(env, code, status, message, false).unwrap_or_else(|err| err)
}

/// The single `HmacError` → JS error mapping.
pub fn map_err(env: &Env, e: HmacError) -> napi::Error {
    build(
        env,
        e.code(),
        e.status(),
        &message_of(&e),
        e.as_auth().is_some(),
    )
    .unwrap_or_else(|err| err)
}

/// Input the original rejects with a `TypeError` (wrong type, invalid URL…).
pub fn invalid_input(msg: impl Into<String>) -> HmacError {
    HmacError::InvalidInput(msg.into())
}

/// Run `fut` on the napi tokio runtime and settle the returned promise on the JS thread:
/// resolve with the value, or reject with the mapped error. napi-rs rejects the promise
/// if the future panics, so no panic reaches Node.
pub fn spawn<'env, T, F>(env: &'env Env, fut: F) -> Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = std::result::Result<T, HmacError>> + Send + 'static,
{
    env.spawn_future_with_callback(async move { Ok(fut.await) }, |env, r| {
        r.map_err(|e| map_err(env, e))
    })
}

/// The default HTTP status of a code (`HmacErrorCode::default_status`); 500 for a code
/// that is not an `HmacAuthErrorCode`. An error the core raised carries its own `status`
/// (`MISSING_CLIENT_ID` is 401 from the verifier, 400 from `clients.*`).
#[napi(catch_unwind)]
pub fn hmac_error_status(code: String) -> u32 {
    HmacErrorCode::from_str_code(&code).map_or(500, |c| u32::from(c.default_status()))
}

/// The 14 `HmacAuthErrorCode` strings, in the stable C order.
#[napi(catch_unwind)]
pub fn hmac_error_codes() -> Vec<String> {
    HmacErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect()
}

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

fn build_primitive(env: &Env, e: &AuthErr) -> napi::Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, e.message.clone()))?;
    obj.set("code", e.code)?;
    obj.set("status", u32::from(e.status))?;
    Ok(napi::Error::from(obj.to_unknown()))
}

/// The single `AuthErr` → JS error mapping.
pub fn to_js(env: &Env, e: impl Into<AuthErr>) -> napi::Error {
    let e = e.into();
    build_primitive(env, &e).unwrap_or_else(|err| err)
}

/// Map a core result for a synchronous function.
pub fn js<T, E: Into<AuthErr>>(env: &Env, r: std::result::Result<T, E>) -> napi::Result<T> {
    r.map_err(|e| to_js(env, e))
}
