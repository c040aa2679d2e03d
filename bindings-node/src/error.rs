//! The one error mapping of the binding, and its one panic boundary.
//!
//! Every failure becomes a JS `Error` built by [`to_js`] from an [`AuthErr`]: `code` is
//! the core's stable code (always set: an `HmacAuthError` code such as `BAD_SIGNATURE`,
//! `INVALID_ARGUMENT` for the original's plain `Error`s and for any argument or setting the
//! core refuses, `INVALID_INPUT` for what it rejects with a `TypeError`, `STORE_ERROR`,
//! `PASSWORD_INVALID_HASH`, `JWT_EXPIRED`, `POLICY_INVALID_DOCUMENT`, ...), `status` the
//! core's HTTP status (`status()` of the core error), `message` the original's exact
//! message (the core's text elsewhere). An HMAC error also carries `isHmacAuthError`
//! (whether the JS layer must rebuild an `HmacAuthError`). Async methods settle their
//! promise on the JS thread, so they reject with the same error objects. Verification
//! calls do not throw: they return a [`crate::hmac::verify::VerifyOutcome`] with the same
//! fields. A wrong password, TOTP code or API key hash is not an error where the core says
//! so (`false`).
//!
//! A Rust panic is caught by [`guard`] (every exported function: the crate's `#[napi]`
//! attribute, `authcore-node-boundary`, wraps each body in it), [`spawn_mapped`] (every
//! future: [`spawn`] and the propagator's and Redis distributor's helpers go through it) or
//! the libuv tasks ([`crate::task`]), and surfaces one way: a JS `Error` with `code`
//! `INTERNAL_PANIC`, `status` 500 and the message `internal error (panic caught at the
//! authcore Node boundary): <what>`.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};

use authcore::hmac::{HmacError, HmacErrorCode};
use authcore_node_boundary::napi;
use napi::bindgen_prelude::{Object, PromiseRaw, ToNapiValue, Unknown};
use napi::{Env, JsValue, Status};

pub type Result<T> = napi::Result<T>;

/// The exact message of an error (without the `store error:` prefix for auth errors).
pub fn message_of(e: &HmacError) -> String {
    match e {
        HmacError::Auth(a) => a.message.clone(),
        HmacError::InvalidArgument(m) | HmacError::InvalidInput(m) => m.clone(),
        other => other.to_string(),
    }
}

/// The single `HmacError` → JS error mapping (see [`to_js`]).
pub fn map_err(env: &Env, e: HmacError) -> napi::Error {
    to_js(env, e)
}

/// Input the original rejects with a `TypeError` (wrong type, invalid URL…).
pub fn invalid_input(msg: impl Into<String>) -> HmacError {
    HmacError::InvalidInput(msg.into())
}

/// Run `fut` (an HMAC operation) on the napi tokio runtime and settle the returned
/// promise on the JS thread: resolve with the value, or reject with the mapped error; a
/// panic of the future rejects with the one panic error ([`spawn_mapped`]).
pub fn spawn<'env, T, F>(env: &'env Env, fut: F) -> Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = std::result::Result<T, HmacError>> + Send + 'static,
{
    spawn_mapped(env, fut, map_err)
}

/// The one async path of the binding: run `fut` on the napi tokio runtime inside
/// [`CatchUnwind`] and settle the returned promise on the JS thread, with the value, with
/// `map`'s JS error for the future's error (each module's one mapping: [`to_js`], or the
/// propagator's, which adds `jsErrorId`), or with the one panic error if a poll panicked.
pub fn spawn_mapped<'env, T, E, F, M>(env: &'env Env, fut: F, map: M) -> Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    E: Send + 'static,
    F: Future<Output = std::result::Result<T, E>> + Send + 'static,
    M: FnOnce(&Env, E) -> napi::Error + 'static,
{
    env.spawn_future_with_callback(
        async move { Ok(CatchUnwind::new(fut).await) },
        |env, r| match r {
            Ok(r) => r.map_err(|e| map(env, e)),
            Err(message) => Err(to_js(env, AuthErr::panic(message))),
        },
    )
}

/// The one catch-unwind helper of the binding: run `f`, and turn a panic into the
/// `INTERNAL_PANIC` error instead of letting it unwind into Node.
pub fn guard<T>(env: &Env, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch(f) {
        Ok(r) => r,
        Err(message) => Err(to_js(env, AuthErr::panic(message))),
    }
}

/// `f`'s value, or the message of its panic (the core's text).
pub fn catch<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|p| authcore::error::panic_message("Node", p.as_ref()))
}

/// [`catch`] for a future: polls it, and ends with the panic's message if a poll panicked.
pub struct CatchUnwind<F>(std::pin::Pin<Box<F>>);

impl<F: Future> CatchUnwind<F> {
    pub fn new(f: F) -> Self {
        Self(Box::pin(f))
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::result::Result<F::Output, String>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch(|| fut.poll(cx)) {
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Err(message) => std::task::Poll::Ready(Err(message)),
        }
    }
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
    /// For an HMAC error: whether it is an `HmacAuthError` (`isHmacAuthError`).
    pub hmac_auth_error: Option<bool>,
}

/// Result of the closures that run inside tasks.
pub type AuthResult<T> = std::result::Result<T, AuthErr>;

impl AuthErr {
    /// Invalid argument from JS (wrong type or value the core cannot take).
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        authcore::error::InvalidArgument::new(message).into()
    }

    /// A panic caught at the boundary (a bug; never a crash): `message` from [`catch`].
    pub fn panic(message: String) -> Self {
        Self {
            code: authcore::error::INTERNAL_PANIC,
            status: authcore::error::INTERNAL_PANIC_STATUS,
            message,
            hmac_auth_error: None,
        }
    }

    /// A code and status the core gives (a realtime or propagation error), with `message`.
    pub fn coded(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
            hmac_auth_error: None,
        }
    }
}

impl From<HmacError> for AuthErr {
    fn from(e: HmacError) -> Self {
        Self {
            code: e.code(),
            status: e.status(),
            message: message_of(&e),
            hmac_auth_error: Some(e.as_auth().is_some()),
        }
    }
}

macro_rules! from_core {
    ($($t:ty),*) => {$(
        impl From<$t> for AuthErr {
            fn from(e: $t) -> Self {
                Self { code: e.code(), status: e.status(), message: e.to_string(), hmac_auth_error: None }
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
    authcore::events::EventsError,
    authcore::error::InvalidArgument
);

/// The JS `Error` object of `e` (for a caller that adds a property before throwing it).
pub fn js_error<'env>(env: &'env Env, e: &AuthErr) -> Result<Object<'env>> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, e.message.clone()))?;
    obj.set("code", e.code)?;
    obj.set("status", u32::from(e.status))?;
    if let Some(auth) = e.hmac_auth_error {
        obj.set("isHmacAuthError", auth)?;
    }
    Ok(obj)
}

/// The single error → JS error mapping.
pub fn to_js(env: &Env, e: impl Into<AuthErr>) -> napi::Error {
    let e = e.into();
    js_error(env, &e)
        .map(|obj| napi::Error::from(obj.to_unknown()))
        .unwrap_or_else(|err| err)
}

/// Map a core result for a synchronous function.
pub fn js<T, E: Into<AuthErr>>(env: &Env, r: std::result::Result<T, E>) -> napi::Result<T> {
    r.map_err(|e| to_js(env, e))
}

/// Test-only hook (hidden): panics inside the boundary, so the tests see the one shape a
/// panic takes. `place`: `"sync"` (the body of an exported function), `"async"` (a future
/// on the tokio runtime; the promise rejects), `"propagation"` (the same, through the
/// propagator's error mapping), `"task"` (a closure on the libuv pool; the promise rejects).
#[doc(hidden)]
#[napi(js_name = "__panicForTests", catch_unwind, ts_return_type = "unknown")]
pub fn panic_for_tests(env: &Env, place: String) -> Result<Unknown<'_>> {
    match place.as_str() {
        "async" => spawn(env, async {
            if true {
                panic!("a test panic (async)")
            }
            Ok(())
        })
        .map(|p| p.to_unknown()),
        "propagation" => crate::propagation::spawn(env, async {
            if true {
                panic!("a test panic (propagation)")
            }
            Ok(())
        })
        .map(|p| p.to_unknown()),
        "task" => crate::task::spawn_kdf::<bool>(env, || panic!("a test panic (task)"))
            .map(|p| p.to_unknown()),
        _ => panic!("a test panic (sync)"),
    }
}
