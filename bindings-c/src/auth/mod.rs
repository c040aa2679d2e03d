//! Passwords, JWT, TOTP, PKCE and authrs policies as C functions (the auth-primitive part of
//! the C ABI). Same conventions as the HMAC functions: `authcore_result` codes (this part
//! uses `1000..=1499`, see [`codes`]), caller-owned output buffers, `const char *` +
//! length inputs, NULL checks, and a `catch_unwind` boundary around every function.
//! Everything is synchronous: password hashing takes tens of milliseconds at OWASP
//! parameters, so call it from a worker thread in event-driven programs.

pub(crate) mod codes;
mod json;
mod jwt;
mod password;
mod pkce;
mod policy;
mod totp;

use std::ffi::c_char;

use crate::error::authcore_result::AUTHCORE_NULL_PARAMETER;
use crate::ffi::{FfiError, FfiResult};

/// Check the output arguments of a text-producing function before any work is done, so a
/// NULL `out_written` (or a NULL `out` with a length) is reported as such even when the
/// input would fail, and an expensive hash is not computed for nothing.
pub(crate) fn check_out(
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
    names: (&str, &str),
) -> FfiResult {
    if out_written.is_null() {
        return Err(FfiError::new(
            AUTHCORE_NULL_PARAMETER,
            format!("`{}` must not be NULL", names.1),
        ));
    }
    if out.is_null() && out_len != 0 {
        return Err(FfiError::new(
            AUTHCORE_NULL_PARAMETER,
            format!(
                "`{}` must not be NULL when `{}_len` is not 0",
                names.0, names.0
            ),
        ));
    }
    Ok(())
}

pub use jwt::*;
pub use password::*;
pub use pkce::*;
pub use policy::*;
pub use totp::*;

#[cfg(test)]
pub(crate) mod test_util {
    use std::ffi::c_char;

    use crate::error::authcore_result::{self, *};

    /// A text-producing call: size query first (must be `BUFFER_TOO_SMALL` with the exact
    /// size), then into a buffer of exactly that size.
    pub(crate) fn text_out(
        mut f: impl FnMut(*mut c_char, usize, *mut usize) -> authcore_result,
    ) -> Result<String, authcore_result> {
        let mut need = 0usize;
        let r = f(std::ptr::null_mut(), 0, &mut need);
        if r != AUTHCORE_BUFFER_TOO_SMALL {
            assert_ne!(r, AUTHCORE_OK, "a size query cannot succeed");
            return Err(r);
        }
        let mut buf = vec![0x55 as c_char; need];
        let mut n = usize::MAX;
        let r = f(buf.as_mut_ptr(), buf.len(), &mut n);
        if r != AUTHCORE_OK {
            return Err(r);
        }
        assert_eq!(n + 1, need, "written length disagrees with the size query");
        assert_eq!(buf[n], 0, "NUL terminator");
        let bytes: Vec<u8> = buf[..n].iter().map(|c| *c as u8).collect();
        Ok(String::from_utf8(bytes).expect("UTF-8 output"))
    }

    /// The message of the last failure on this thread.
    pub(crate) fn last_error() -> String {
        crate::ffi::last_error()
    }
}
