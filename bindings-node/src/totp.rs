//! TOTP (RFC 6238, otplib defaults) with drift window and replay protection. Cheap (a few
//! HMACs), so synchronous.

use authcore::totp::{self as core, TotpAlgorithm, TotpConfig};
use authcore_node_boundary::napi;
use napi::Env;
use napi::bindgen_prelude::Either;

use crate::error::{AuthErr, js};
use crate::task::bytes;

/// TOTP parameters (defaults: SHA1, 6 digits, 30 s, t0 0, window ±1).
#[napi(object)]
#[derive(Default)]
pub struct TotpOptions {
    /// Unix seconds (default: now).
    pub now: Option<f64>,
    /// `SHA1`, `SHA256`, `SHA512`.
    pub algorithm: Option<String>,
    /// 6, 7 or 8.
    pub digits: Option<u32>,
    /// Step length in seconds.
    pub period: Option<u32>,
    /// Unix time of step 0.
    pub t0: Option<f64>,
    /// Steps accepted each side of the current one (node-auth: 0).
    pub window: Option<u32>,
    /// Last accepted step (replay guard): a code for it or an earlier step is refused.
    pub last_used_step: Option<f64>,
}

fn cfg(o: &TotpOptions) -> Result<TotpConfig, AuthErr> {
    let d = TotpConfig::default();
    Ok(TotpConfig {
        algorithm: match &o.algorithm {
            None => d.algorithm,
            Some(a) => TotpAlgorithm::from_option(a)?,
        },
        digits: o.digits.unwrap_or(d.digits),
        period: o.period.map_or(d.period, u64::from),
        t0: o
            .t0
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map_or(d.t0, |v| v as u64),
        window: o.window.map_or(d.window, u64::from),
    })
}

fn now(o: &TotpOptions) -> u64 {
    match o.now {
        Some(n) if n.is_finite() && n >= 0.0 => n.floor() as u64,
        _ => authcore::jwt::unix_now(),
    }
}

/// A new 20-byte secret, base32 without padding (32 characters).
#[napi(catch_unwind)]
pub fn totp_generate_secret(env: &Env) -> napi::Result<String> {
    js(env, core::generate_secret())
}

/// A generated secret and its otpauth URL.
#[napi(object)]
pub struct TotpSecret {
    pub secret: String,
    pub otpauth_url: String,
}

/// node-auth `generateSecret(email, appName)` minus the QR code.
#[napi(catch_unwind)]
pub fn totp_generate_secret_for(
    env: &Env,
    account: String,
    issuer: Option<String>,
) -> napi::Result<TotpSecret> {
    let issuer = issuer.unwrap_or_else(|| core::DEFAULT_APP_NAME.to_owned());
    let g = js(env, core::generate_secret_for(&account, &issuer))?;
    Ok(TotpSecret {
        secret: g.secret,
        otpauth_url: g.otpauth_url,
    })
}

/// `otpauth://totp/<issuer>:<account>?secret=..&issuer=..` exactly as otplib 13 builds it.
#[napi(catch_unwind)]
pub fn totp_otpauth_url(
    env: &Env,
    issuer: String,
    account: String,
    secret: String,
    options: Option<TotpOptions>,
) -> napi::Result<String> {
    let c = js(env, cfg(&options.unwrap_or_default()))?;
    Ok(core::otpauth_url(&issuer, &account, &secret, &c))
}

/// Code for a base32 secret at `options.now`.
#[napi(catch_unwind)]
pub fn totp_generate(
    env: &Env,
    secret: String,
    options: Option<TotpOptions>,
) -> napi::Result<String> {
    let o = options.unwrap_or_default();
    let c = js(env, cfg(&o))?;
    js(env, core::generate_code(&secret, now(&o), &c))
}

/// Code for raw secret bytes (a Buffer, or a string's UTF-8 bytes) at `options.now`.
#[napi(catch_unwind)]
pub fn totp_generate_raw(
    env: &Env,
    secret: Either<String, &[u8]>,
    options: Option<TotpOptions>,
) -> napi::Result<String> {
    let o = options.unwrap_or_default();
    let c = js(env, cfg(&o))?;
    js(env, core::generate_code_raw(&bytes(secret), now(&o), &c))
}

/// Verify a code; returns the accepted time step (persist it as `lastUsedStep`). Typed
/// errors: `TOTP_MALFORMED_CODE` (400), `TOTP_INVALID_CODE`, `TOTP_REPLAYED` (401),
/// `TOTP_INVALID_SECRET`, `TOTP_SECRET_TOO_SHORT`... (500).
#[napi(catch_unwind)]
pub fn totp_verify(
    env: &Env,
    code: String,
    secret: String,
    options: Option<TotpOptions>,
) -> napi::Result<f64> {
    let o = options.unwrap_or_default();
    let c = js(env, cfg(&o))?;
    let last = o
        .last_used_step
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v as u64);
    js(env, core::verify(&code, &secret, now(&o), &c, last)).map(|s| s as f64)
}

/// `true` only for an accepted, non-replayed code; every rejection (malformed code, bad
/// secret included) is `false`.
#[napi(catch_unwind)]
pub fn totp_check(code: String, secret: String, options: Option<TotpOptions>) -> bool {
    let o = options.unwrap_or_default();
    let Ok(c) = cfg(&o) else { return false };
    let last = o
        .last_used_step
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v as u64);
    core::check(&code, &secret, now(&o), &c, last)
}
