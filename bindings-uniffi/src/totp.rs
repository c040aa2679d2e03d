//! TOTP (RFC 6238, otplib's defaults): secrets, codes, verification with a drift window
//! and a replay guard, `otpauth://` URLs. Calls `authcore::totp`.

use authcore::totp::{self, TotpAlgorithm as CoreAlgorithm, TotpConfig as CoreConfig};

use crate::AuthcoreError;

/// The HMAC hash of a TOTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TotpAlgorithm {
    /// HMAC-SHA1 (the default; what every authenticator app supports).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// TOTP parameters; the defaults are the core's (otplib's SHA1, 6 digits, 30 s, with a
/// window of one step each side). The core validates them (`TOTP_INVALID_CONFIG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct TotpConfig {
    /// HMAC hash; `None` is the core's default (SHA1).
    #[uniffi(default = None)]
    pub algorithm: Option<TotpAlgorithm>,
    /// Code length, 6..=8.
    #[uniffi(default = 6)]
    pub digits: u32,
    /// Step length in seconds, 1..=3600.
    #[uniffi(default = 30)]
    pub period: u64,
    /// Unix time of step 0.
    #[uniffi(default = 0)]
    pub t0: u64,
    /// Steps accepted before and after the current one, 0..=10.
    #[uniffi(default = 1)]
    pub window: u64,
}

impl From<TotpConfig> for CoreConfig {
    fn from(c: TotpConfig) -> Self {
        Self {
            algorithm: match c.algorithm {
                None => CoreAlgorithm::default(),
                Some(TotpAlgorithm::Sha1) => CoreAlgorithm::Sha1,
                Some(TotpAlgorithm::Sha256) => CoreAlgorithm::Sha256,
                Some(TotpAlgorithm::Sha512) => CoreAlgorithm::Sha512,
            },
            digits: c.digits,
            period: c.period,
            t0: c.t0,
            window: c.window,
        }
    }
}

impl From<CoreConfig> for TotpConfig {
    fn from(c: CoreConfig) -> Self {
        Self {
            algorithm: Some(match c.algorithm {
                CoreAlgorithm::Sha1 => TotpAlgorithm::Sha1,
                CoreAlgorithm::Sha256 => TotpAlgorithm::Sha256,
                CoreAlgorithm::Sha512 => TotpAlgorithm::Sha512,
            }),
            digits: c.digits,
            period: c.period,
            t0: c.t0,
            window: c.window,
        }
    }
}

/// The core's default configuration (what `config = None` uses; `TotpConfig()`'s
/// defaults are the same values, which the vector test checks).
#[uniffi::export]
pub fn totp_default_config() -> TotpConfig {
    CoreConfig::default().into()
}

fn config(c: Option<TotpConfig>) -> CoreConfig {
    c.map_or_else(CoreConfig::default, CoreConfig::from)
}

/// A new secret: 20 CSPRNG bytes, base32 without padding (32 characters).
#[uniffi::export]
pub fn totp_generate_secret() -> Result<String, AuthcoreError> {
    Ok(totp::generate_secret()?)
}

/// The code for a base32 secret at unix time `now` (seconds). The secret must decode to
/// 16..=64 bytes.
#[uniffi::export(default(config = None))]
pub fn totp_generate(
    secret: String,
    now: u64,
    config: Option<TotpConfig>,
) -> Result<String, AuthcoreError> {
    Ok(totp::generate_code(&secret, now, &self::config(config))?)
}

/// The code for raw secret bytes at unix time `now` (no size limits: RFC 6238's test
/// keys).
#[uniffi::export(default(config = None))]
pub fn totp_generate_raw(
    secret: Vec<u8>,
    now: u64,
    config: Option<TotpConfig>,
) -> Result<String, AuthcoreError> {
    Ok(totp::generate_code_raw(
        &secret,
        now,
        &self::config(config),
    )?)
}

/// Verify `code` for a base32 secret at unix time `now`: every step in
/// `current ± window` is compared in constant time. Returns the matching step, which the
/// caller stores as the next `last_used_step`; a match at or before `last_used_step` is
/// `TOTP_REPLAYED`, no match `TOTP_INVALID_CODE`, a code that is not `digits` ASCII digits
/// `TOTP_MALFORMED_CODE`.
#[uniffi::export(default(config = None, last_used_step = None))]
pub fn totp_verify(
    code: String,
    secret: String,
    now: u64,
    config: Option<TotpConfig>,
    last_used_step: Option<u64>,
) -> Result<u64, AuthcoreError> {
    Ok(totp::verify(
        &code,
        &secret,
        now,
        &self::config(config),
        last_used_step,
    )?)
}

/// The `otpauth://totp/…` URL an authenticator app scans (node-auth's form).
#[uniffi::export(default(config = None))]
pub fn totp_otpauth_url(
    issuer: String,
    account: String,
    secret: String,
    config: Option<TotpConfig>,
) -> String {
    totp::otpauth_url(&issuer, &account, &secret, &self::config(config))
}
