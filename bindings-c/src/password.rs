//! Password hashing as C functions: argon2id PHC strings (OWASP defaults or explicit
//! parameters), verification of argon2id and bcrypt hashes, `needs_rehash`, bcrypt
//! hashing compatible with bcryptjs, and the unknown-user path. Each function converts
//! its arguments and calls `authcore::password`.
//!
//! Hashing is CPU-bound and synchronous (tens of milliseconds at OWASP parameters): call
//! these functions from a worker thread, not from an event loop.

#![allow(non_camel_case_types)]

use std::ffi::c_char;

use authcore::password::{self, Argon2Params};

use crate::error::authcore_result;
use crate::ffi::{FfiResult, boundary, bytes, in_ref, opt_text, out_ptr, text, write_text};

/// OWASP argon2id memory cost in KiB (the default parameters).
pub const AUTHCORE_ARGON2_OWASP_M_COST: u32 = 19456;
/// OWASP argon2id iteration count.
pub const AUTHCORE_ARGON2_OWASP_T_COST: u32 = 2;
/// OWASP argon2id parallelism.
pub const AUTHCORE_ARGON2_OWASP_P_COST: u32 = 1;
/// Length in bytes of the derived key of new argon2id hashes.
pub const AUTHCORE_ARGON2_OUTPUT_LEN: u32 = 32;
/// Longest password accepted by the `authcore_password_*` functions, in bytes (longer ones
/// give `AUTHCORE_PASSWORD_TOO_LONG`). The `authcore_bcrypt_*` functions take any length
/// and use the first 72 bytes, like bcryptjs.
pub const AUTHCORE_PASSWORD_MAX_BYTES: usize = 4096;
/// bcryptjs's default cost (node-auth `PasswordService.hash`).
pub const AUTHCORE_BCRYPT_DEFAULT_COST: u32 = 12;
/// A buffer of this size holds every hash these functions write: any bcrypt hash (60
/// characters) and any argon2id PHC string with `output_len` up to 64 bytes (at most 161
/// characters: `$argon2id$v=19$m=<10 digits>,t=<10 digits>,p=<8 digits>$` + 22 salt
/// characters + `$` + 86 hash characters), plus the NUL. OWASP hashes are 97 characters.
pub const AUTHCORE_PASSWORD_HASH_BUFFER_SIZE: usize = 192;

const _: () = {
    assert!(AUTHCORE_ARGON2_OWASP_M_COST == password::OWASP_M_COST);
    assert!(AUTHCORE_ARGON2_OWASP_T_COST == password::OWASP_T_COST);
    assert!(AUTHCORE_ARGON2_OWASP_P_COST == password::OWASP_P_COST);
    assert!(AUTHCORE_ARGON2_OUTPUT_LEN as usize == password::ARGON2_OUTPUT_LEN);
    assert!(AUTHCORE_PASSWORD_MAX_BYTES == password::DEFAULT_MAX_PASSWORD_BYTES);
    assert!(AUTHCORE_BCRYPT_DEFAULT_COST == password::BCRYPT_DEFAULT_COST);
};

/// argon2id cost parameters. Pass NULL wherever a `const authcore_argon2_params *` is
/// taken to use the OWASP defaults `{19456, 2, 1, 32}`
/// (`AUTHCORE_ARGON2_OWASP_M_COST`, `..._T_COST`, `..._P_COST`, `AUTHCORE_ARGON2_OUTPUT_LEN`).
/// Out-of-range values give `AUTHCORE_PASSWORD_INVALID_PARAMS`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_argon2_params {
    /// Memory cost in KiB (at least 8 x `p_cost`).
    pub m_cost: u32,
    /// Number of passes (at least 1).
    pub t_cost: u32,
    /// Parallelism (1..=16777215).
    pub p_cost: u32,
    /// Length of the derived key in bytes (at least 4; 32 by default).
    pub output_len: u32,
}

/// # Safety
/// A non-NULL `p` must point to a valid `authcore_argon2_params`.
unsafe fn params(p: *const authcore_argon2_params) -> FfiResult<Argon2Params> {
    if p.is_null() {
        return Ok(Argon2Params::OWASP);
    }
    // SAFETY: forwarded caller guarantee.
    let p = unsafe { in_ref(p, "params")? };
    Ok(Argon2Params {
        m_cost: p.m_cost,
        t_cost: p.t_cost,
        p_cost: p.p_cost,
        output_len: p.output_len as usize,
    })
}

/// # Safety
/// A non-NULL `ptr` must be valid for `len` bytes.
unsafe fn password_bytes<'a>(ptr: *const u8, len: usize) -> FfiResult<&'a [u8]> {
    // SAFETY: forwarded caller guarantee.
    unsafe { bytes(ptr, len, "password") }
}

/// Hash a password with argon2id and write its PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, what argon2-cffi, `@node-rs/argon2`
/// and `argon2` produce) into `out`. A fresh 16-byte salt comes from the OS CSPRNG.
///
/// `password` is raw bytes (any encoding; UTF-8 for interoperability), NULL allowed when
/// `password_len` is 0, at most `AUTHCORE_PASSWORD_MAX_BYTES`. `params` NULL = OWASP
/// defaults. `AUTHCORE_PASSWORD_HASH_BUFFER_SIZE` bytes are always enough for `out`.
///
/// # Safety
/// `password` valid for `password_len` bytes (or NULL with 0); `params` NULL or valid;
/// `out` valid for `out_len` bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_password_hash_argon2id(
    password: *const u8,
    password_len: usize,
    params: *const authcore_argon2_params,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let pw = password_bytes(password, password_len)?;
            let p = self::params(params)?;
            password::check_password_length(pw, AUTHCORE_PASSWORD_MAX_BYTES)?;
            let phc = password::hash_argon2id(pw, &p)?;
            write_text(phc.as_bytes(), out, out_len, out_written)
        }
    })
}

/// Deprecated alias of `authcore_password_hash_argon2id`
/// (the name every language shares, after the core's `password::hash_argon2id`);
/// same arguments, same results.
///
/// # Safety
/// As `authcore_password_hash_argon2id`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_password_hash(
    password: *const u8,
    password_len: usize,
    params: *const authcore_argon2_params,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        authcore_password_hash_argon2id(password, password_len, params, out, out_len, out_written)
    }
}

/// Verify a password against a stored hash: an argon2id PHC string (any parameters) or a
/// bcrypt hash (`$2a$`, `$2b$`, `$2y$`; the password truncated to 72 bytes like bcryptjs).
/// Sets `*out_valid` and returns `AUTHCORE_OK`; a wrong password is `false`, not an error.
/// The derived keys are compared in constant time.
///
/// **Unknown users**: pass `hash = NULL` when the account does not exist. The function
/// then verifies against a dummy argon2id hash at the OWASP parameters (made once per
/// process) and sets `false`, so the response takes as long as for a real account hashed
/// with the defaults and does not reveal whether the account exists.
///
/// Errors: `AUTHCORE_PASSWORD_INVALID_HASH` (malformed or truncated hash),
/// `AUTHCORE_PASSWORD_UNSUPPORTED_ALGORITHM` (`$argon2i$`, `$argon2d$`, `$2x$`, ...),
/// `AUTHCORE_PASSWORD_INVALID_PARAMS` (a stored hash asking for more than the core's
/// default ceilings: m = 256 MiB, t = 10 passes, p = 8 lanes), `AUTHCORE_PASSWORD_TOO_LONG`, `AUTHCORE_INVALID_UTF8` (hash not UTF-8).
/// `*out_valid` is `false` after any error.
///
/// # Safety
/// `password` valid for `password_len` bytes (or NULL with 0); `hash` NULL or valid for
/// `hash_len` bytes; `out_valid` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_password_verify(
    password: *const u8,
    password_len: usize,
    hash: *const c_char,
    hash_len: usize,
    out_valid: *mut bool,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let out = out_ptr(out_valid, "out_valid")?;
            out.set(false);
            let pw = password_bytes(password, password_len)?;
            let stored = opt_text(hash, hash_len, "hash")?;
            password::check_password_length(pw, AUTHCORE_PASSWORD_MAX_BYTES)?;
            let ok = match stored {
                Some(h) => password::verify(pw, h)?,
                None => password::verify_unknown_user(pw, &Argon2Params::OWASP)?,
            };
            out.set(ok);
            Ok(())
        }
    })
}

/// argon2-cffi's `check_needs_rehash`: `*out_needs_rehash` is `true` when `hash` should be
/// replaced by a new hash made with `params` (NULL = OWASP defaults): it is bcrypt, or an
/// argon2id hash whose version, m, t, p or output length differ. Call it after a
/// successful `authcore_password_verify`, then store `authcore_password_hash_argon2id`'s result.
/// Malformed hashes are errors as for `authcore_password_verify`.
///
/// # Safety
/// `hash` valid for `hash_len` bytes; `params` NULL or valid; `out_needs_rehash` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_password_needs_rehash(
    hash: *const c_char,
    hash_len: usize,
    params: *const authcore_argon2_params,
    out_needs_rehash: *mut bool,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let out = out_ptr(out_needs_rehash, "out_needs_rehash")?;
            out.set(false);
            let h = text(hash, hash_len, "hash")?;
            let p = self::params(params)?;
            out.set(password::needs_rehash(h, &p)?);
            Ok(())
        }
    })
}

/// bcryptjs `hashSync(password, cost)`: a `$2b$` hash with a fresh salt. The cost follows
/// bcryptjs: 0 means its default 10, other values are clamped to 4..=31
/// (`AUTHCORE_BCRYPT_DEFAULT_COST` is node-auth's 12) and only the first
/// 72 bytes of the password count, as in bcryptjs. New passwords should use
/// `authcore_password_hash_argon2id`; this exists for systems that must keep writing bcrypt.
/// The hash is 60 characters (61 bytes with the NUL).
///
/// # Safety
/// `password` valid for `password_len` bytes (or NULL with 0); `out` valid for `out_len`
/// bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_bcrypt_hash(
    password: *const u8,
    password_len: usize,
    cost: u32,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let pw = password_bytes(password, password_len)?;
            let h = password::bcrypt_hash(pw, cost)?;
            write_text(h.as_bytes(), out, out_len, out_written)
        }
    })
}

/// bcryptjs `hashSync(password, salt)` with a salt string as `genSaltSync` returns it
/// (`$2b$10$` + 22 salt characters; characters after those are ignored, so a whole hash
/// works). The hash keeps the salt's prefix (`$2$`, `$2a$`, `$2b$` or `$2y$`) and cost. A
/// malformed salt gives `AUTHCORE_PASSWORD_INVALID_PARAMS` (message: bcryptjs's).
///
/// # Safety
/// `password` valid for `password_len` bytes (or NULL with 0); `salt` valid for `salt_len`
/// bytes; `out` valid for `out_len` bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_bcrypt_hash_with_salt(
    password: *const u8,
    password_len: usize,
    salt: *const c_char,
    salt_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let pw = password_bytes(password, password_len)?;
            let s = text(salt, salt_len, "salt")?;
            let h = password::bcrypt_hash_with_salt_str(pw, s)?;
            write_text(h.as_bytes(), out, out_len, out_written)
        }
    })
}

/// bcryptjs `compareSync(password, hash)` for `$2a$`, `$2b$` and `$2y$` hashes (only the
/// first 72 bytes of the password count). Sets `*out_valid`; a wrong password is `false`.
/// A hash that is not 60 characters of bcrypt gives `AUTHCORE_PASSWORD_INVALID_HASH`,
/// `$2x$` gives `AUTHCORE_PASSWORD_UNSUPPORTED_ALGORITHM` (bcryptjs rejects it too).
///
/// # Safety
/// `password` valid for `password_len` bytes (or NULL with 0); `hash` valid for `hash_len`
/// bytes; `out_valid` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_bcrypt_verify(
    password: *const u8,
    password_len: usize,
    hash: *const c_char,
    hash_len: usize,
    out_valid: *mut bool,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let out = out_ptr(out_valid, "out_valid")?;
            out.set(false);
            let pw = password_bytes(password, password_len)?;
            let h = text(hash, hash_len, "hash")?;
            out.set(password::bcrypt_verify(pw, h)?);
            Ok(())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::authcore_result::*;
    use std::ptr::{null, null_mut};

    const FAST: authcore_argon2_params = authcore_argon2_params {
        m_cost: 1024,
        t_cost: 1,
        p_cost: 1,
        output_len: 32,
    };

    fn hash(pw: &[u8], p: *const authcore_argon2_params) -> Result<String, authcore_result> {
        let mut buf = vec![0 as c_char; AUTHCORE_PASSWORD_HASH_BUFFER_SIZE];
        let mut n = 0;
        // SAFETY: valid buffers.
        let r = unsafe {
            authcore_password_hash_argon2id(
                pw.as_ptr(),
                pw.len(),
                p,
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            )
        };
        if r != AUTHCORE_OK {
            return Err(r);
        }
        Ok(buf[..n].iter().map(|c| *c as u8 as char).collect())
    }

    fn verify(pw: &[u8], h: Option<&str>) -> Result<bool, authcore_result> {
        let mut ok = true;
        let (p, l) = h.map_or((null(), 0), |h| (h.as_ptr().cast(), h.len()));
        // SAFETY: valid buffers.
        let r = unsafe { authcore_password_verify(pw.as_ptr(), pw.len(), p, l, &mut ok) };
        if r != AUTHCORE_OK {
            assert!(!ok, "out_valid must be false after an error");
            return Err(r);
        }
        Ok(ok)
    }

    fn needs(h: &str, p: *const authcore_argon2_params) -> Result<bool, authcore_result> {
        let mut out = false;
        // SAFETY: valid buffers.
        let r = unsafe { authcore_password_needs_rehash(h.as_ptr().cast(), h.len(), p, &mut out) };
        if r == AUTHCORE_OK { Ok(out) } else { Err(r) }
    }

    #[test]
    fn argon2id_round_trip_with_defaults_and_explicit_params() {
        let owasp = hash(b"hunter2", null()).unwrap();
        assert!(
            owasp.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{owasp}"
        );
        assert_eq!(owasp.len(), 97);
        assert_eq!(verify(b"hunter2", Some(&owasp)), Ok(true));
        assert_eq!(verify(b"hunter3", Some(&owasp)), Ok(false));
        assert_eq!(needs(&owasp, null()), Ok(false));
        assert_eq!(needs(&owasp, &FAST), Ok(true));

        let fast = hash(b"", &FAST).unwrap();
        assert!(fast.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{fast}");
        assert_eq!(verify(b"", Some(&fast)), Ok(true));
        assert_eq!(verify(b"x", Some(&fast)), Ok(false));
        assert_eq!(needs(&fast, &FAST), Ok(false));
        assert_eq!(needs(&fast, null()), Ok(true));
        // Salts are random.
        assert_ne!(fast, hash(b"", &FAST).unwrap());
    }

    #[test]
    fn bcrypt_hash_verify_and_rehash() {
        let mut buf = [0 as c_char; 61];
        let mut n = 0;
        // SAFETY: valid buffers.
        let r = unsafe { authcore_bcrypt_hash(b"pw".as_ptr(), 2, 1, buf.as_mut_ptr(), 61, &mut n) };
        assert_eq!(r, AUTHCORE_OK);
        assert_eq!(n, 60);
        let h: String = buf[..n].iter().map(|c| *c as u8 as char).collect();
        assert!(h.starts_with("$2b$04$"), "cost clamped: {h}");
        let mut ok = false;
        // SAFETY: valid buffers.
        let r =
            unsafe { authcore_bcrypt_verify(b"pw".as_ptr(), 2, h.as_ptr().cast(), 60, &mut ok) };
        assert_eq!((r, ok), (AUTHCORE_OK, true));
        // The generic verify takes bcrypt too, and bcrypt always needs a rehash.
        assert_eq!(verify(b"pw", Some(&h)), Ok(true));
        assert_eq!(verify(b"pW", Some(&h)), Ok(false));
        assert_eq!(needs(&h, null()), Ok(true));
        // 60 bytes + NUL exactly: a 60-byte buffer is one short.
        // SAFETY: valid buffers.
        let r = unsafe { authcore_bcrypt_hash(b"pw".as_ptr(), 2, 4, buf.as_mut_ptr(), 60, &mut n) };
        assert_eq!((r, n), (AUTHCORE_BUFFER_TOO_SMALL, 61));
    }

    #[test]
    fn bcrypt_with_salt_is_bcryptjs_compatible() {
        // bcryptjs 3.0.3: hashSync("correct horse battery staple", "$2b$04$nkFmm7PI/xMb8j6QgBnfLe")
        let salt = "$2b$04$nkFmm7PI/xMb8j6QgBnfLe";
        let pw = b"correct horse battery staple";
        let mut buf = [0 as c_char; 64];
        let mut n = 0;
        // SAFETY: valid buffers.
        let r = unsafe {
            authcore_bcrypt_hash_with_salt(
                pw.as_ptr(),
                pw.len(),
                salt.as_ptr().cast(),
                salt.len(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            )
        };
        assert_eq!(r, AUTHCORE_OK);
        let h: String = buf[..n].iter().map(|c| *c as u8 as char).collect();
        assert_eq!(
            h,
            "$2b$04$nkFmm7PI/xMb8j6QgBnfLelVmlH0r.zY4RyVlcZQoMIZ6X8J5kNWy"
        );
        // SAFETY: valid buffers.
        let r = unsafe {
            authcore_bcrypt_hash_with_salt(
                pw.as_ptr(),
                pw.len(),
                c"$2b$04$short".as_ptr(),
                12,
                buf.as_mut_ptr(),
                64,
                &mut n,
            )
        };
        assert_eq!(r, AUTHCORE_PASSWORD_INVALID_PARAMS);
    }

    #[test]
    fn unknown_user_is_false_even_for_a_plausible_password() {
        assert_eq!(verify(b"hunter2", None), Ok(false));
        assert_eq!(verify(b"", None), Ok(false));
        let long = vec![b'x'; AUTHCORE_PASSWORD_MAX_BYTES + 1];
        assert_eq!(verify(&long, None), Err(AUTHCORE_PASSWORD_TOO_LONG));
    }

    #[test]
    fn bad_input_gives_typed_errors() {
        assert_eq!(
            verify(
                b"pw",
                Some("$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA")
            ),
            Err(AUTHCORE_PASSWORD_UNSUPPORTED_ALGORITHM)
        );
        assert_eq!(
            verify(b"pw", Some("$argon2id$v=19$m=19456,t=2,p=1$o1MA5sl7R")),
            Err(AUTHCORE_PASSWORD_INVALID_HASH)
        );
        assert_eq!(verify(b"pw", Some("")), Err(AUTHCORE_PASSWORD_INVALID_HASH));
        assert_eq!(
            verify(b"pw", Some("plaintext")),
            Err(AUTHCORE_PASSWORD_INVALID_HASH)
        );
        assert_eq!(
            verify(
                b"pw",
                Some("$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")
            ),
            Err(AUTHCORE_PASSWORD_INVALID_PARAMS)
        );
        let long = vec![b'x'; AUTHCORE_PASSWORD_MAX_BYTES + 1];
        assert_eq!(hash(&long, &FAST), Err(AUTHCORE_PASSWORD_TOO_LONG));
        assert_eq!(
            hash(&long[..AUTHCORE_PASSWORD_MAX_BYTES], &FAST).map(|h| h.len()),
            Ok(96)
        );
        let bad = authcore_argon2_params { m_cost: 1, ..FAST };
        assert_eq!(hash(b"pw", &bad), Err(AUTHCORE_PASSWORD_INVALID_PARAMS));
        assert_eq!(
            needs(
                "$2x$04$Q1cNwDJgXIHWSp0Q8bgZr.RevmcjSsO878Ok8wvlcbAn4HF0KciSS",
                null()
            ),
            Err(AUTHCORE_PASSWORD_UNSUPPORTED_ALGORITHM)
        );

        // Invalid UTF-8 in a hash, NULL pointers, NULL with a length.
        let mut ok = true;
        let bad_utf8 = b"$2b$04$\xff";
        // SAFETY: valid buffers; NULLs are checked by the callee.
        unsafe {
            assert_eq!(
                authcore_password_verify(
                    b"pw".as_ptr(),
                    2,
                    bad_utf8.as_ptr().cast(),
                    bad_utf8.len(),
                    &mut ok
                ),
                AUTHCORE_INVALID_UTF8
            );
            assert!(!ok);
            assert_eq!(
                authcore_password_verify(null(), 3, c"x".as_ptr(), 1, &mut ok),
                AUTHCORE_NULL_PARAMETER
            );
            assert_eq!(
                authcore_password_verify(b"pw".as_ptr(), 2, c"x".as_ptr(), 1, null_mut()),
                AUTHCORE_NULL_PARAMETER
            );
            assert_eq!(
                authcore_bcrypt_verify(b"pw".as_ptr(), 2, null(), 0, &mut ok),
                AUTHCORE_NULL_PARAMETER
            );
            assert_eq!(
                authcore_password_needs_rehash(null(), 0, null(), &mut ok),
                AUTHCORE_NULL_PARAMETER
            );
            let mut n = 0;
            assert_eq!(
                authcore_password_hash_argon2id(b"pw".as_ptr(), 2, &FAST, null_mut(), 0, &mut n),
                AUTHCORE_BUFFER_TOO_SMALL
            );
            assert_eq!(n, 97, "96 characters and the NUL");
            assert_eq!(
                authcore_password_hash_argon2id(
                    b"pw".as_ptr(),
                    2,
                    &FAST,
                    null_mut(),
                    0,
                    null_mut()
                ),
                AUTHCORE_NULL_PARAMETER
            );
        }
    }
}
