//! TOTP (RFC 6238) compatible with otplib 13 as node-auth's `TotpStrategy` uses it.
//!
//! Defaults match otplib: HMAC-SHA1, 6 digits, 30-second period, `t0 = 0`, secrets of 20
//! CSPRNG bytes encoded as RFC 4648 base32, upper case, without padding (32 characters).
//! Differences from node-auth, on purpose (see node-auth spec §6 item 32):
//!
//! * a drift window (default ±1 step; node-auth accepts only the current step),
//! * replay protection: [`verify`] takes the last accepted time step (persisted by the
//!   caller) and rejects any code for that step or an earlier one,
//! * a malformed code (wrong length, non-digits) is the typed rejection
//!   [`TotpError::MalformedCode`] (HTTP 400), never a panic or an internal error.
//!
//! Secrets are decoded like otplib's scure base32 plugin: upper or lower case letters
//! `A-Z2-7`, no padding, no spaces; the decoded secret must be 16..=64 bytes.

use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

/// Bytes of a generated secret (160 bits, RFC 4226 recommendation, otplib default).
pub const DEFAULT_SECRET_BYTES: usize = 20;
/// Smallest secret otplib accepts, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;
/// Largest secret otplib accepts, in bytes.
pub const MAX_SECRET_BYTES: usize = 64;
/// Default issuer of node-auth's `generateSecret(email, appName)`.
pub const DEFAULT_APP_NAME: &str = "awesome-node-auth";

/// Errors and rejections of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TotpError {
    /// The code is not exactly `digits` ASCII digits.
    #[error("TOTP code must be exactly {digits} digits")]
    MalformedCode {
        /// Expected number of digits.
        digits: u32,
    },
    /// Well-formed code that matches no step in the window.
    #[error("invalid TOTP code")]
    InvalidCode,
    /// The code matches a step at or before the last accepted one.
    #[error("TOTP code already used")]
    Replayed {
        /// Step the code belongs to.
        step: u64,
    },
    /// The secret is not valid base32 (otplib's `Base32DecodeError`).
    #[error("TOTP secret is not valid base32")]
    InvalidSecret,
    /// The decoded secret is shorter than 16 bytes.
    #[error("TOTP secret must be at least {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
    /// The decoded secret is longer than 64 bytes.
    #[error("TOTP secret must be at most {MAX_SECRET_BYTES} bytes")]
    SecretTooLong,
    /// Digits, period or window out of range.
    #[error("invalid TOTP configuration: {0}")]
    InvalidConfig(&'static str),
    /// The OS random number generator failed.
    #[error("random number generator failure")]
    Random,
}

impl TotpError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedCode { .. } => "TOTP_MALFORMED_CODE",
            Self::InvalidCode => "TOTP_INVALID_CODE",
            Self::Replayed { .. } => "TOTP_REPLAYED",
            Self::InvalidSecret => "TOTP_INVALID_SECRET",
            Self::SecretTooShort => "TOTP_SECRET_TOO_SHORT",
            Self::SecretTooLong => "TOTP_SECRET_TOO_LONG",
            Self::InvalidConfig(_) => "TOTP_INVALID_CONFIG",
            Self::Random => "TOTP_RANDOM_FAILURE",
        }
    }

    /// HTTP status: 400 for a malformed code, 401 for a wrong or replayed one, 500 for
    /// server-side problems (bad stored secret or configuration).
    pub fn status(&self) -> u16 {
        match self {
            Self::MalformedCode { .. } => 400,
            Self::InvalidCode | Self::Replayed { .. } => 401,
            _ => 500,
        }
    }
}

/// HMAC hash of the TOTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TotpAlgorithm {
    /// HMAC-SHA1 (default, what every authenticator app supports).
    #[default]
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl TotpAlgorithm {
    /// Name as used in `otpauth://` URLs (`SHA1`, `SHA256`, `SHA512`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// Parse `sha1`/`SHA-256`/... (case-insensitive, dash optional).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// [`TotpAlgorithm::parse`] for a host's option: any other name is
    /// `TOTP_INVALID_CONFIG` (`algorithm must be SHA1, SHA256 or SHA512`), in every binding.
    pub fn from_option(s: &str) -> Result<Self, TotpError> {
        Self::parse(s).ok_or(TotpError::InvalidConfig(
            "algorithm must be SHA1, SHA256 or SHA512",
        ))
    }
}

/// TOTP parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpConfig {
    /// HMAC hash.
    pub algorithm: TotpAlgorithm,
    /// Code length, 6..=8 (otplib accepts 6, 7, 8 in URIs; RFC 4226 requires >= 6).
    pub digits: u32,
    /// Step length in seconds (1..=3600).
    pub period: u64,
    /// Unix time of step 0.
    pub t0: u64,
    /// Steps accepted before and after the current one (0..=10).
    pub window: u64,
}

impl Default for TotpConfig {
    fn default() -> Self {
        Self {
            algorithm: TotpAlgorithm::Sha1,
            digits: 6,
            period: 30,
            t0: 0,
            window: 1,
        }
    }
}

impl TotpConfig {
    /// Exactly node-auth's (otplib) verification: current step only, no drift window.
    pub const NODE_AUTH: Self = Self {
        algorithm: TotpAlgorithm::Sha1,
        digits: 6,
        period: 30,
        t0: 0,
        window: 0,
    };

    fn validate(&self) -> Result<(), TotpError> {
        if !(6..=8).contains(&self.digits) {
            return Err(TotpError::InvalidConfig("digits must be 6, 7 or 8"));
        }
        if !(1..=3600).contains(&self.period) {
            return Err(TotpError::InvalidConfig("period must be 1..=3600 seconds"));
        }
        if self.window > 10 {
            return Err(TotpError::InvalidConfig("window must be at most 10 steps"));
        }
        Ok(())
    }

    /// Time step containing unix time `now` (0 before `t0`).
    pub fn step_at(&self, now: u64) -> u64 {
        now.saturating_sub(self.t0) / self.period.max(1)
    }
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, upper case, no padding.
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    for &b in data {
        buffer = (buffer << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decode RFC 4648 base32 without padding; letters may be lower case. Padding, spaces and
/// any other character are rejected, as are impossible lengths (1, 3, 6 mod 8) and
/// non-zero trailing bits.
pub fn base32_decode(s: &str) -> Result<Vec<u8>, TotpError> {
    if matches!(s.len() % 8, 1 | 3 | 6) {
        return Err(TotpError::InvalidSecret);
    }
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return Err(TotpError::InvalidSecret),
        };
        buffer = (buffer << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    // Leftover bits must be zero (scure-base rejects "Non-zero padding").
    if bits > 0 && buffer & ((1 << bits) - 1) != 0 {
        return Err(TotpError::InvalidSecret);
    }
    Ok(out)
}

/// Decode and size-check a base32 secret (16..=64 bytes, like otplib).
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, TotpError> {
    let bytes = base32_decode(secret)?;
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(TotpError::SecretTooShort);
    }
    if bytes.len() > MAX_SECRET_BYTES {
        return Err(TotpError::SecretTooLong);
    }
    Ok(bytes)
}

/// A new 20-byte secret from the OS CSPRNG, base32 without padding (32 characters).
pub fn generate_secret() -> Result<String, TotpError> {
    let mut buf = [0u8; DEFAULT_SECRET_BYTES];
    getrandom::fill(&mut buf).map_err(|_| TotpError::Random)?;
    Ok(base32_encode(&buf))
}

fn hmac_digest(alg: TotpAlgorithm, key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    macro_rules! mac {
        ($h:ty) => {{
            let mut m = <Hmac<$h> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }};
    }
    match alg {
        TotpAlgorithm::Sha1 => mac!(sha1::Sha1),
        TotpAlgorithm::Sha256 => mac!(sha2::Sha256),
        TotpAlgorithm::Sha512 => mac!(sha2::Sha512),
    }
}

/// HOTP (RFC 4226) value of `counter` for raw secret bytes, zero-padded to `digits`.
pub fn hotp(secret: &[u8], counter: u64, algorithm: TotpAlgorithm, digits: u32) -> String {
    let digest = hmac_digest(algorithm, secret, &counter.to_be_bytes());
    let offset = (digest[digest.len() - 1] & 0x0f) as usize;
    let bin = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    let modulo = 10u64.pow(digits);
    format!(
        "{:0width$}",
        u64::from(bin) % modulo,
        width = digits as usize
    )
}

/// TOTP code for raw secret bytes at unix time `now`.
pub fn generate_code_raw(
    secret: &[u8],
    now: u64,
    config: &TotpConfig,
) -> Result<String, TotpError> {
    config.validate()?;
    Ok(hotp(
        secret,
        config.step_at(now),
        config.algorithm,
        config.digits,
    ))
}

/// TOTP code for a base32 secret at unix time `now`.
pub fn generate_code(secret_b32: &str, now: u64, config: &TotpConfig) -> Result<String, TotpError> {
    generate_code_raw(&decode_secret(secret_b32)?, now, config)
}

/// Verify `code` for a base32 secret at unix time `now`.
///
/// Checks every step in `current ± window` (all of them, constant-time comparisons) and
/// returns the matching step, which the caller must persist as the new
/// `last_used_step`. A match at or before `last_used_step` is [`TotpError::Replayed`].
///
/// # Example
///
/// ```
/// use authcore::totp::{TotpConfig, TotpError, generate_code, verify};
///
/// let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // base32, 20 bytes (at least 16)
/// let config = TotpConfig::default(); // SHA-1, 6 digits, 30 s, one step of drift
/// let now = 1_700_000_000;
/// let code = generate_code(secret, now, &config)?;
/// let step = verify(&code, secret, now + 20, &config, None)?;
/// // The caller stores `step`: the same code is then a replay.
/// assert!(matches!(verify(&code, secret, now + 20, &config, Some(step)), Err(TotpError::Replayed { .. })));
/// # Ok::<(), TotpError>(())
/// ```
pub fn verify(
    code: &str,
    secret_b32: &str,
    now: u64,
    config: &TotpConfig,
    last_used_step: Option<u64>,
) -> Result<u64, TotpError> {
    config.validate()?;
    if code.len() != config.digits as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::MalformedCode {
            digits: config.digits,
        });
    }
    let secret = decode_secret(secret_b32)?;
    verify_raw(code, &secret, now, config, last_used_step)
}

/// [`verify`] with raw secret bytes (no size limits; for the RFC vectors).
pub fn verify_raw(
    code: &str,
    secret: &[u8],
    now: u64,
    config: &TotpConfig,
    last_used_step: Option<u64>,
) -> Result<u64, TotpError> {
    config.validate()?;
    if code.len() != config.digits as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::MalformedCode {
            digits: config.digits,
        });
    }
    let current = config.step_at(now);
    let first = current.saturating_sub(config.window);
    let last = current.saturating_add(config.window);
    let mut matched: Option<u64> = None;
    for step in first..=last {
        let candidate = hotp(secret, step, config.algorithm, config.digits);
        let eq: bool = candidate.as_bytes().ct_eq(code.as_bytes()).into();
        // Prefer the latest matching step (a code can only collide across steps by chance).
        if eq {
            matched = Some(step);
        }
    }
    match matched {
        None => Err(TotpError::InvalidCode),
        Some(step) if last_used_step.is_some_and(|used| step <= used) => {
            Err(TotpError::Replayed { step })
        }
        Some(step) => Ok(step),
    }
}

/// Boolean convenience: `true` only for an accepted, non-replayed code. Every rejection,
/// including a malformed code or a bad secret, is `false`.
pub fn check(
    code: &str,
    secret_b32: &str,
    now: u64,
    config: &TotpConfig,
    last_used_step: Option<u64>,
) -> bool {
    verify(code, secret_b32, now, config, last_used_step).is_ok()
}

/// JavaScript `encodeURIComponent`: keeps `A-Z a-z 0-9 - _ . ! ~ * ' ( )`, percent-encodes
/// every other UTF-8 byte with upper-case hex.
pub fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `otpauth://` URL exactly as otplib 13 builds it for node-auth:
/// `otpauth://totp/<issuer>:<account>?secret=<S>&issuer=<issuer>`, where the label
/// `issuer:account` is split on `:` and each part is `encodeURIComponent`-ed, and the
/// algorithm, digits and period parameters appear only when they differ from the
/// defaults (SHA1, 6, 30).
pub fn otpauth_url(issuer: &str, account: &str, secret_b32: &str, config: &TotpConfig) -> String {
    let label = if issuer.is_empty() {
        account.to_string()
    } else {
        format!("{issuer}:{account}")
    };
    let label = label
        .split(':')
        .map(encode_uri_component)
        .collect::<Vec<_>>()
        .join(":");
    let mut params = Vec::new();
    if !secret_b32.is_empty() {
        params.push(format!("secret={}", encode_uri_component(secret_b32)));
    }
    if !issuer.is_empty() {
        params.push(format!("issuer={}", encode_uri_component(issuer)));
    }
    if config.algorithm != TotpAlgorithm::Sha1 {
        params.push(format!("algorithm={}", config.algorithm.as_str()));
    }
    if config.digits != 6 {
        params.push(format!("digits={}", config.digits));
    }
    if config.period != 30 {
        params.push(format!("period={}", config.period));
    }
    format!("otpauth://totp/{label}?{}", params.join("&"))
}

/// node-auth `TotpStrategy.generateSecret(email, appName)` minus the QR code: a new secret
/// and its otpauth URL.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedSecret {
    /// Base32 secret (32 characters).
    pub secret: String,
    /// `otpauth://totp/...` URL for the authenticator app.
    pub otpauth_url: String,
}

crate::redacted_debug!(GeneratedSecret {  } secret { secret, otpauth_url });

/// Generate a secret and its URL for `account` (usually the e-mail) and `issuer`.
pub fn generate_secret_for(account: &str, issuer: &str) -> Result<GeneratedSecret, TotpError> {
    let secret = generate_secret()?;
    let otpauth_url = otpauth_url(issuer, account, &secret, &TotpConfig::default());
    Ok(GeneratedSecret {
        secret,
        otpauth_url,
    })
}
