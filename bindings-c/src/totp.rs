//! TOTP (RFC 6238, otplib defaults) as C functions: secrets, codes, verification with a
//! drift window and replay protection, and the `otpauth://` URL for authenticator apps.

#![allow(non_camel_case_types)]

use std::ffi::c_char;

use authcore::totp::{self, TotpAlgorithm, TotpConfig, TotpError};

use crate::error::authcore_result;
use crate::ffi::{FfiResult, boundary, boundary_or, bytes, in_ref, out_ptr, text, write_text};

/// `authcore_totp_config.algorithm`: HMAC-SHA1 (the default; every authenticator app).
pub const AUTHCORE_TOTP_SHA1: u32 = 0;
/// HMAC-SHA256.
pub const AUTHCORE_TOTP_SHA256: u32 = 1;
/// HMAC-SHA512.
pub const AUTHCORE_TOTP_SHA512: u32 = 2;
/// Buffer size for a code (up to 8 digits) and its NUL.
pub const AUTHCORE_TOTP_CODE_BUFFER_SIZE: usize = 9;
/// Buffer size for a generated secret (32 base32 characters) and its NUL.
pub const AUTHCORE_TOTP_SECRET_BUFFER_SIZE: usize = 33;

/// TOTP parameters. NULL wherever a `const authcore_totp_config *` is taken means
/// `authcore_totp_config_default()`: SHA-1, 6 digits, 30 s, t0 = 0, window 1. node-auth
/// (otplib) verifies with window 0. Values out of range give
/// `AUTHCORE_TOTP_INVALID_CONFIG`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_totp_config {
    /// `AUTHCORE_TOTP_SHA1`, `AUTHCORE_TOTP_SHA256` or `AUTHCORE_TOTP_SHA512`.
    pub algorithm: u32,
    /// Code length: 6, 7 or 8.
    pub digits: u32,
    /// Step length in seconds (1..=3600).
    pub period: u64,
    /// Unix time of step 0.
    pub t0: u64,
    /// Steps accepted before and after the current one (0..=10).
    pub window: u64,
}

fn to_c(c: &TotpConfig) -> authcore_totp_config {
    authcore_totp_config {
        algorithm: match c.algorithm {
            TotpAlgorithm::Sha1 => AUTHCORE_TOTP_SHA1,
            TotpAlgorithm::Sha256 => AUTHCORE_TOTP_SHA256,
            TotpAlgorithm::Sha512 => AUTHCORE_TOTP_SHA512,
        },
        digits: c.digits,
        period: c.period,
        t0: c.t0,
        window: c.window,
    }
}

/// # Safety
/// A non-NULL `c` must point to a valid `authcore_totp_config`.
unsafe fn config(c: *const authcore_totp_config) -> FfiResult<TotpConfig> {
    if c.is_null() {
        return Ok(TotpConfig::default());
    }
    // SAFETY: forwarded caller guarantee.
    let c = unsafe { in_ref(c, "config")? };
    let algorithm = match c.algorithm {
        AUTHCORE_TOTP_SHA1 => TotpAlgorithm::Sha1,
        AUTHCORE_TOTP_SHA256 => TotpAlgorithm::Sha256,
        AUTHCORE_TOTP_SHA512 => TotpAlgorithm::Sha512,
        _ => {
            return Err(
                TotpError::InvalidConfig("algorithm must be an AUTHCORE_TOTP_* value").into(),
            );
        }
    };
    Ok(TotpConfig {
        algorithm,
        digits: c.digits,
        period: c.period,
        t0: c.t0,
        window: c.window,
    })
}

/// The default TOTP parameters (SHA-1, 6 digits, 30 s, t0 = 0, window 1), to adjust a
/// field before passing them.
#[unsafe(no_mangle)]
pub extern "C" fn authcore_totp_config_default() -> authcore_totp_config {
    let d = TotpConfig::default();
    boundary_or(to_c(&d), || to_c(&d))
}

/// A new secret: 20 bytes from the OS CSPRNG as RFC 4648 base32, upper case, without
/// padding (32 characters; `AUTHCORE_TOTP_SECRET_BUFFER_SIZE` bytes with the NUL), as
/// node-auth's `generateSecret`. Store it encrypted if you can.
///
/// # Safety
/// `out` valid for `out_len` bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_totp_generate_secret(
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        let s = totp::generate_secret()?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe { write_text(s.as_bytes(), out, out_len, out_written) }
    })
}

/// The code for a base32 secret (upper or lower case, no padding, 16..=64 bytes once
/// decoded, like otplib) at unix time `now` (seconds). Errors:
/// `AUTHCORE_TOTP_INVALID_SECRET`, `AUTHCORE_TOTP_SECRET_TOO_SHORT`,
/// `AUTHCORE_TOTP_SECRET_TOO_LONG`, `AUTHCORE_TOTP_INVALID_CONFIG`.
///
/// # Safety
/// `secret` valid for `secret_len` bytes; `config` NULL or valid; `out` valid for
/// `out_len` bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_totp_generate(
    secret: *const c_char,
    secret_len: usize,
    now: u64,
    config: *const authcore_totp_config,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let s = text(secret, secret_len, "secret")?;
            let c = self::config(config)?;
            let code = totp::generate_code(s, now, &c)?;
            write_text(code.as_bytes(), out, out_len, out_written)
        }
    })
}

/// The code for raw secret bytes (any length, e.g. the RFC 6238 test secrets) at unix
/// time `now`.
///
/// # Safety
/// `secret` valid for `secret_len` bytes (or NULL with 0); otherwise as
/// `authcore_totp_generate`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_totp_generate_raw(
    secret: *const u8,
    secret_len: usize,
    now: u64,
    config: *const authcore_totp_config,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let s = bytes(secret, secret_len, "secret")?;
            let c = self::config(config)?;
            let code = totp::generate_code_raw(s, now, &c)?;
            write_text(code.as_bytes(), out, out_len, out_written)
        }
    })
}

/// Verify a code for a base32 secret at unix time `now`. Every step of
/// `current ± window` is compared in constant time. On success returns `AUTHCORE_OK` and
/// writes the matching time step into `*out_step`: persist it as the user's last used
/// step and pass it as `*last_used_step` next time (NULL = no code accepted yet), so a
/// code can never be used twice.
///
/// Rejections: `AUTHCORE_TOTP_MALFORMED_CODE` (not exactly `digits` ASCII digits,
/// including bytes that are not UTF-8; HTTP 400), `AUTHCORE_TOTP_INVALID_CODE` (401),
/// `AUTHCORE_TOTP_REPLAYED` (the code's step is at or before `*last_used_step`; 401).
/// A bad stored secret or configuration: `AUTHCORE_TOTP_INVALID_SECRET`,
/// `..._SECRET_TOO_SHORT`, `..._SECRET_TOO_LONG`, `..._INVALID_CONFIG` (500).
/// `*out_step` is only written on success.
///
/// # Safety
/// `code` valid for `code_len` bytes (or NULL with 0); `secret` valid for `secret_len`
/// bytes; `config` NULL or valid; `last_used_step` NULL or readable; `out_step` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_totp_verify(
    code: *const c_char,
    code_len: usize,
    secret: *const c_char,
    secret_len: usize,
    now: u64,
    config: *const authcore_totp_config,
    last_used_step: *const u64,
    out_step: *mut u64,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let out = out_ptr(out_step, "out_step")?;
            let code = bytes(code.cast(), code_len, "code")?;
            let s = text(secret, secret_len, "secret")?;
            let c = self::config(config)?;
            let last = if last_used_step.is_null() {
                None
            } else {
                Some(*in_ref(last_used_step, "last_used_step")?)
            };
            // Bytes that are not UTF-8 cannot be digits: a malformed code, not a caller
            // error.
            let code = std::str::from_utf8(code)
                .map_err(|_| TotpError::MalformedCode { digits: c.digits })?;
            out.set(totp::verify(code, s, now, &c, last)?);
            Ok(())
        }
    })
}

/// The `otpauth://totp/...` URL for an authenticator app, exactly as otplib 13 builds it
/// for node-auth: `otpauth://totp/<issuer>:<account>?secret=<S>&issuer=<issuer>`, label
/// parts and values `encodeURIComponent`-ed, and `algorithm`, `digits`, `period` only when
/// `config` differs from SHA-1/6/30. An empty issuer leaves out the label prefix and the
/// `issuer` parameter.
///
/// # Safety
/// `issuer`, `account`, `secret` valid for their lengths; `config` NULL or valid; `out`
/// valid for `out_len` bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_totp_otpauth_url(
    issuer: *const c_char,
    issuer_len: usize,
    account: *const c_char,
    account_len: usize,
    secret: *const c_char,
    secret_len: usize,
    config: *const authcore_totp_config,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let i = text(issuer, issuer_len, "issuer")?;
            let a = text(account, account_len, "account")?;
            let s = text(secret, secret_len, "secret")?;
            let c = self::config(config)?;
            let url = totp::otpauth_url(i, a, s, &c);
            write_text(url.as_bytes(), out, out_len, out_written)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::authcore_result::*;
    use crate::ffi::test_util::text_out;
    use std::ptr::{null, null_mut};

    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    fn generate(
        secret: &str,
        now: u64,
        c: *const authcore_totp_config,
    ) -> Result<String, authcore_result> {
        // SAFETY: valid buffers.
        text_out(|o, l, w| unsafe {
            authcore_totp_generate(secret.as_ptr().cast(), secret.len(), now, c, o, l, w)
        })
    }

    fn verify(
        code: &[u8],
        now: u64,
        c: *const authcore_totp_config,
        last: Option<u64>,
    ) -> Result<u64, authcore_result> {
        let mut step = 0xDEAD;
        let lp = last.as_ref().map_or(null(), |l| l as *const u64);
        // SAFETY: valid buffers.
        let r = unsafe {
            authcore_totp_verify(
                code.as_ptr().cast(),
                code.len(),
                SECRET.as_ptr().cast(),
                SECRET.len(),
                now,
                c,
                lp,
                &mut step,
            )
        };
        if r == AUTHCORE_OK {
            Ok(step)
        } else {
            assert_eq!(step, 0xDEAD, "out_step is only written on success");
            Err(r)
        }
    }

    #[test]
    fn rfc6238_appendix_b_with_raw_secrets() {
        let mut c = authcore_totp_config_default();
        c.digits = 8;
        for (alg, key, want) in [
            (AUTHCORE_TOTP_SHA1, &b"12345678901234567890"[..], "94287082"),
            (
                AUTHCORE_TOTP_SHA256,
                &b"12345678901234567890123456789012"[..],
                "46119246",
            ),
            (
                AUTHCORE_TOTP_SHA512,
                &b"1234567890123456789012345678901234567890123456789012345678901234"[..],
                "90693936",
            ),
        ] {
            c.algorithm = alg;
            // SAFETY: valid buffers.
            let got = text_out(|o, l, w| unsafe {
                authcore_totp_generate_raw(key.as_ptr(), key.len(), 59, &c, o, l, w)
            });
            assert_eq!(got.unwrap(), want);
        }
    }

    #[test]
    fn otplib_codes_window_and_replay() {
        // otplib 13.4.0: 406058 at 1700000000, 661763 at 1700000029 (step 56666667).
        assert_eq!(generate(SECRET, 1_700_000_000, null()).unwrap(), "406058");
        assert_eq!(generate(SECRET, 1_700_000_029, null()).unwrap(), "661763");
        let strict = authcore_totp_config {
            window: 0,
            ..authcore_totp_config_default()
        };
        assert_eq!(
            verify(b"661763", 1_700_000_015, &strict, None),
            Ok(56_666_667)
        );
        assert_eq!(
            verify(b"406058", 1_700_000_015, &strict, None),
            Err(AUTHCORE_TOTP_INVALID_CODE)
        );
        assert_eq!(
            verify(b"406058", 1_700_000_015, null(), None),
            Ok(56_666_666)
        );
        // Replay within the step, and of an older step once a newer one was used.
        assert_eq!(
            verify(b"661763", 1_700_000_015, null(), Some(56_666_667)),
            Err(AUTHCORE_TOTP_REPLAYED)
        );
        assert_eq!(
            verify(b"406058", 1_700_000_015, null(), Some(56_666_667)),
            Err(AUTHCORE_TOTP_REPLAYED)
        );
        assert_eq!(
            verify(b"661763", 1_700_000_015, null(), Some(56_666_666)),
            Ok(56_666_667)
        );
    }

    #[test]
    fn malformed_codes_and_bad_config_are_typed() {
        for code in [
            &b""[..],
            b"12345",
            b"1234567",
            b"12a456",
            b" 12345",
            b"\xff\xfe\xfd\xfc\xfb\xfa",
        ] {
            assert_eq!(
                verify(code, 1_700_000_015, null(), None),
                Err(AUTHCORE_TOTP_MALFORMED_CODE),
                "{code:?}"
            );
        }
        let bad = authcore_totp_config {
            algorithm: 7,
            ..authcore_totp_config_default()
        };
        assert_eq!(
            verify(b"661763", 1_700_000_015, &bad, None),
            Err(AUTHCORE_TOTP_INVALID_CONFIG)
        );
        let bad = authcore_totp_config {
            digits: 9,
            ..authcore_totp_config_default()
        };
        assert_eq!(generate(SECRET, 0, &bad), Err(AUTHCORE_TOTP_INVALID_CONFIG));
        assert_eq!(
            generate("JBSWY3DPEHPK3PXP====", 0, null()),
            Err(AUTHCORE_TOTP_INVALID_SECRET)
        );
        assert_eq!(
            generate("JBSWY3DPEHPK3PXP", 0, null()),
            Err(AUTHCORE_TOTP_SECRET_TOO_SHORT)
        );
        let mut step = 0;
        // SAFETY: NULL pointers are checked by the callee.
        unsafe {
            assert_eq!(
                authcore_totp_verify(c"1".as_ptr(), 1, null(), 0, 0, null(), null(), &mut step),
                AUTHCORE_NULL_PARAMETER
            );
            assert_eq!(
                authcore_totp_verify(
                    null(),
                    6,
                    SECRET.as_ptr().cast(),
                    SECRET.len(),
                    0,
                    null(),
                    null(),
                    &mut step
                ),
                AUTHCORE_NULL_PARAMETER
            );
            assert_eq!(
                authcore_totp_verify(
                    c"123456".as_ptr(),
                    6,
                    SECRET.as_ptr().cast(),
                    SECRET.len(),
                    0,
                    null(),
                    null(),
                    null_mut()
                ),
                AUTHCORE_NULL_PARAMETER
            );
        }
    }

    #[test]
    fn generated_secret_works_and_url_is_otplib_shaped() {
        // SAFETY: valid buffers.
        let secret = text_out(|o, l, w| unsafe { authcore_totp_generate_secret(o, l, w) }).unwrap();
        assert_eq!(secret.len() + 1, AUTHCORE_TOTP_SECRET_BUFFER_SIZE);
        let code = generate(&secret, 1_800_000_000, null()).unwrap();
        let mut step = 0;
        // SAFETY: valid buffers.
        let r = unsafe {
            authcore_totp_verify(
                code.as_ptr().cast(),
                6,
                secret.as_ptr().cast(),
                secret.len(),
                1_800_000_000,
                null(),
                null(),
                &mut step,
            )
        };
        assert_eq!((r, step), (AUTHCORE_OK, 60_000_000));
        let (i, a) = ("My App", "bob+tag@example.com");
        // SAFETY: valid buffers.
        let url = text_out(|o, l, w| unsafe {
            authcore_totp_otpauth_url(
                i.as_ptr().cast(),
                i.len(),
                a.as_ptr().cast(),
                a.len(),
                SECRET.as_ptr().cast(),
                SECRET.len(),
                null(),
                o,
                l,
                w,
            )
        });
        assert_eq!(
            url.unwrap(),
            "otpauth://totp/My%20App:bob%2Btag%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=My%20App"
        );
    }
}
