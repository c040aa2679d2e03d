//! Limits and defaults: every size cap and every range a numeric setting must fall in,
//! in one place, so that the Node, Python and C bindings apply the same ones.
//!
//! Two kinds of rules live here:
//! - **Size caps on untrusted input**, checked before the input is parsed and before any
//!   allocation proportional to it (a header value is measured before it is trimmed,
//!   parsed or copied into a key; a propagation message before it is decoded as JSON).
//! - **Numeric settings fail closed**: a setting that is NaN, infinite, fractional where
//!   an integer is needed, or outside its range is an error when the object is built (and
//!   when a per-call override is used), never a silently disabled check. The messages
//!   follow the originals' plain errors (`secretLengthBytes must be an integer between 16
//!   and 128`).
//!
//! `docs/compat.md` ("Limits and defaults") lists every value and why it was chosen.

use crate::js::number_to_string;

// ------------------------------------------------------------------ HMAC verification input

/// Longest `x-nonce` accepted by the verifier, in bytes. The signer's nonce is 32 hex
/// characters; UUIDs are 36. The nonce is part of the replay key stored in Redis.
pub const MAX_NONCE_BYTES: usize = 256;
/// Longest client id, in bytes: the `x-client-id` header (before trimming) and the
/// `clientId` of the credential lifecycle. It is a Redis hash field and part of every
/// nonce key.
pub const MAX_CLIENT_ID_BYTES: usize = 256;
/// Longest value of any other header the verifier reads (`x-signature`, `x-timestamp`)
/// and of each IP candidate (`x-forwarded-for`, the framework's `ip`/`ips`/
/// `remoteAddress`), in bytes. Node's own limit for all headers together is 16 KiB.
pub const MAX_HEADER_VALUE_BYTES: usize = 8 * 1024;

// ------------------------------------------------------------------ HMAC settings

/// Largest `maxSkewMs` accepted (24 hours). The window is also how long a nonce must be
/// remembered; a wider one is not a replay window any more.
pub const MAX_SKEW_MS: f64 = 86_400_000.0;
/// Largest `dbSeedBackupTtlSeconds` accepted (365 days).
pub const MAX_BACKUP_TTL_SECONDS: f64 = 31_536_000.0;

// ------------------------------------------------------------------ propagation

/// Largest propagation event accepted by a receiver, in bytes, checked before the body is
/// decoded as JSON (an event is a few hundred bytes; this leaves room for thousands of
/// `allowedIps` rules). Larger events are dropped and logged, like other malformed events.
pub const MAX_PROPAGATION_MESSAGE_BYTES: usize = 256 * 1024;

// ------------------------------------------------------------------ realtime

/// Unread bytes a `MemorySseStream` buffers for a client before it closes the stream
/// (slow-client policy: the client reconnects and gap-fills). On by default.
pub const DEFAULT_SSE_BUFFER_LIMIT_BYTES: usize = 1024 * 1024;

// ------------------------------------------------------------------ key derivations

/// Most key derivations a binding runs at once (`AUTHCORE_KDF_CONCURRENCY`,
/// `setKdfConcurrency`); each holds a CPU and the argon2 memory.
pub const MAX_KDF_CONCURRENCY: usize = 1024;

/// `AUTHCORE_KDF_CONCURRENCY` when it is an integer from 1 to [`MAX_KDF_CONCURRENCY`],
/// otherwise CPUs - 1 (at least 1): a malformed value falls back to the safe default,
/// never to "unlimited".
pub fn default_kdf_concurrency() -> usize {
    let from_env = std::env::var("AUTHCORE_KDF_CONCURRENCY")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=MAX_KDF_CONCURRENCY).contains(n));
    from_env.unwrap_or_else(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        cpus.saturating_sub(1).max(1)
    })
}

/// A concurrency limit given as a number (`setKdfConcurrency(n)`): an integer from 1 to
/// [`MAX_KDF_CONCURRENCY`]. NaN, 0, negative or fractional values are refused (a cast
/// would have made -1 unlimited).
pub fn kdf_concurrency_setting(value: f64) -> Result<usize, SettingError> {
    integer_between("kdfConcurrency", value, 1.0, MAX_KDF_CONCURRENCY as f64).map(|n| n as usize)
}

// ------------------------------------------------------------------ checks

/// A number setting out of its range. `Display` is the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingError(pub String);

impl SettingError {
    /// `INVALID_ARGUMENT`: a host hands it on as [`crate::error::InvalidArgument`].
    pub fn code(&self) -> &'static str {
        crate::error::INVALID_ARGUMENT
    }

    /// [`crate::error::INVALID_ARGUMENT_STATUS`].
    pub fn status(&self) -> u16 {
        crate::error::INVALID_ARGUMENT_STATUS
    }
}

fn render(v: f64) -> String {
    number_to_string(v)
}

/// `value` must be a finite number in `min..=max`.
pub fn number_between(name: &str, value: f64, min: f64, max: f64) -> Result<f64, SettingError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(value)
    } else {
        Err(SettingError(format!(
            "{name} must be a number between {} and {}",
            render(min),
            render(max)
        )))
    }
}

/// `value` must be an integer in `min..=max` (both within ±2^53, exact as doubles).
pub fn integer_between(name: &str, value: f64, min: f64, max: f64) -> Result<i64, SettingError> {
    if value.is_finite() && value.fract() == 0.0 && value >= min && value <= max {
        // In range and integral: exact.
        Ok(value as i64)
    } else {
        Err(SettingError(format!(
            "{name} must be an integer between {} and {}",
            render(min),
            render(max)
        )))
    }
}

/// [`integer_between`] for settings that arrive as integers.
pub fn int_between(name: &str, value: i128, min: i64, max: i64) -> Result<i64, SettingError> {
    if value >= i128::from(min) && value <= i128::from(max) {
        Ok(value as i64)
    } else {
        Err(SettingError(format!(
            "{name} must be an integer between {min} and {max}"
        )))
    }
}

/// A text of untrusted origin must be at most `max` bytes. Checked on the length alone.
pub fn within_bytes(name: &str, len: usize, max: usize) -> Result<(), SettingError> {
    if len <= max {
        Ok(())
    } else {
        Err(SettingError(format!("{name} exceeds {max} bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_error_is_an_invalid_argument() {
        let e = number_between("maxSkewMs", f64::NAN, 0.0, 1.0).unwrap_err();
        let arg = crate::error::InvalidArgument::from(e.clone());
        assert_eq!((e.code(), e.status()), (arg.code(), arg.status()));
        assert_eq!(e.to_string(), arg.message());
    }

    #[test]
    fn numbers_fail_closed() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 11.0] {
            assert!(number_between("x", bad, 0.0, 10.0).is_err(), "{bad}");
            assert!(integer_between("x", bad, 0.0, 10.0).is_err(), "{bad}");
        }
        assert_eq!(number_between("x", 2.5, 0.0, 10.0), Ok(2.5));
        assert!(integer_between("x", 2.5, 0.0, 10.0).is_err());
        assert_eq!(integer_between("x", 10.0, 0.0, 10.0), Ok(10));
        assert_eq!(
            integer_between("ttl", 0.5, 1.0, 600.0)
                .unwrap_err()
                .to_string(),
            "ttl must be an integer between 1 and 600"
        );
        assert_eq!(
            number_between("maxSkewMs", f64::NAN, 0.0, MAX_SKEW_MS)
                .unwrap_err()
                .to_string(),
            "maxSkewMs must be a number between 0 and 86400000"
        );
        assert!(int_between("n", i128::from(u64::MAX), 1, 8).is_err());
        assert_eq!(int_between("n", 8, 1, 8), Ok(8));
        assert!(within_bytes("x-nonce", 257, MAX_NONCE_BYTES).is_err());
        assert!(within_bytes("x-nonce", 256, MAX_NONCE_BYTES).is_ok());
        for bad in [f64::NAN, 0.0, -1.0, 2.5, 1025.0, 4_294_967_295.0] {
            assert!(kdf_concurrency_setting(bad).is_err(), "{bad}");
        }
        assert_eq!(kdf_concurrency_setting(3.0), Ok(3));
        assert!((1..=MAX_KDF_CONCURRENCY).contains(&default_kdf_concurrency()));
    }
}
