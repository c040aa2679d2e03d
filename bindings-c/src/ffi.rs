//! The boundary every `extern "C"` function goes through: panic catching, the
//! thread-local error message, and checked conversion of C pointers into Rust values.
//!
//! Rules (anchors §4): no panic crosses the boundary ([`boundary`] returns
//! `AUTHCORE_PANIC`); every pointer is checked by [`nonnull!`] before use, so a NULL
//! gives `AUTHCORE_NULL_PARAMETER`; lengths above `isize::MAX` (which no real buffer has)
//! give `AUTHCORE_INVALID_INPUT` instead of undefined behaviour; nothing allocated here
//! is handed to the caller.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use authcore::hmac::HmacError;

use crate::error::authcore_result::{self, *};

/// An error on its way to C: the code, the detailed message and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    pub code: authcore_result,
    pub status: u16,
    pub message: String,
}

impl FfiError {
    pub fn new(code: authcore_result, message: impl Into<String>) -> Self {
        Self {
            code,
            status: code.http_status(),
            message: message.into(),
        }
    }
}

impl From<HmacError> for FfiError {
    fn from(e: HmacError) -> Self {
        Self {
            code: authcore_result::from_hmac_error(&e),
            status: e.status(),
            message: e.to_string(),
        }
    }
}

impl From<authcore::hmac::VerifyError> for FfiError {
    fn from(e: authcore::hmac::VerifyError) -> Self {
        e.error.into()
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(msg: &str) {
    // Never panics: a TLS already torn down or a re-entrant borrow just loses the text.
    let _ = LAST_ERROR.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            e.clear();
            e.push_str(msg);
        }
    });
}

/// The message of the last failing call on this thread (empty after a success).
pub(crate) fn last_error() -> String {
    LAST_ERROR
        .try_with(|e| e.try_borrow().map(|s| s.clone()).unwrap_or_default())
        .unwrap_or_default()
}

/// The one catch-unwind of the binding: the body's value, or the message of its panic
/// (`internal error (panic caught at the authcore C boundary): <what>`, the core's text).
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|payload| authcore::error::panic_message("C", payload.as_ref()))
}

/// Run the body of an `extern "C"` function: `AUTHCORE_OK` on success, the error's code
/// otherwise, `AUTHCORE_PANIC` if it panicked. Records the message for
/// `authcore_error_message` (cleared on success).
pub(crate) fn boundary(f: impl FnOnce() -> FfiResult) -> authcore_result {
    match catch(f) {
        Ok(Ok(())) => {
            set_last_error("");
            AUTHCORE_OK
        }
        Ok(Err(e)) => {
            set_last_error(&e.message);
            e.code
        }
        Err(message) => {
            set_last_error(&message);
            AUTHCORE_PANIC
        }
    }
}

/// Like [`boundary`] but leaves the recorded message alone (for
/// `authcore_error_message` itself).
pub(crate) fn boundary_keep_error(f: impl FnOnce() -> FfiResult) -> authcore_result {
    match catch(f) {
        Ok(Ok(())) => AUTHCORE_OK,
        Ok(Err(e)) => e.code,
        Err(_) => AUTHCORE_PANIC,
    }
}

/// For infallible functions that return a value: `default` if the body panicked.
pub(crate) fn boundary_or<T>(default: T, f: impl FnOnce() -> T) -> T {
    catch(f).unwrap_or(default)
}

/// The one NULL check: returns `AUTHCORE_NULL_PARAMETER` naming the parameter.
macro_rules! nonnull {
    ($ptr:expr, $name:expr) => {
        if $ptr.is_null() {
            return Err($crate::ffi::FfiError::new(
                $crate::error::authcore_result::AUTHCORE_NULL_PARAMETER,
                format!("`{}` must not be NULL", $name),
            ));
        }
    };
}

/// A byte count must fit in `isize` for a Rust slice; larger lengths cannot describe a
/// real buffer.
fn check_len(len: usize, elem_size: usize, name: &str) -> FfiResult {
    if len
        .checked_mul(elem_size)
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(FfiError::new(
            AUTHCORE_INVALID_INPUT,
            format!("`{name}` length {len} is larger than any buffer can be"),
        ));
    }
    Ok(())
}

fn check_aligned<T>(ptr: *const T, name: &str) -> FfiResult {
    if !ptr.is_aligned() {
        return Err(FfiError::new(
            AUTHCORE_INVALID_INPUT,
            format!("`{name}` is not properly aligned"),
        ));
    }
    Ok(())
}

/// Bytes from `ptr`/`len`. NULL is accepted with `len == 0` (an empty input).
///
/// # Safety
/// A non-NULL `ptr` must be valid for `len` bytes of reads for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    if ptr.is_null() && len == 0 {
        return Ok(&[]);
    }
    nonnull!(ptr, name);
    check_len(len, 1, name)?;
    // SAFETY: non-NULL, length bounded, validity guaranteed by the caller.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

fn utf8<'a>(b: &'a [u8], name: &str) -> FfiResult<&'a str> {
    std::str::from_utf8(b).map_err(|e| {
        FfiError::new(
            AUTHCORE_INVALID_UTF8,
            format!(
                "`{name}` is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// Required UTF-8 text from `ptr`/`len` (not NUL-terminated; may contain NUL bytes).
/// NULL is `AUTHCORE_NULL_PARAMETER`, even with `len == 0`.
///
/// # Safety
/// A non-NULL `ptr` must be valid for `len` bytes of reads for `'a`.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, len: usize, name: &str) -> FfiResult<&'a str> {
    nonnull!(ptr, name);
    // SAFETY: forwarded caller guarantee.
    utf8(unsafe { bytes(ptr.cast(), len, name)? }, name)
}

/// Optional UTF-8 text: NULL means absent.
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn opt_text<'a>(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded caller guarantee.
    unsafe { text(ptr, len, name) }.map(Some)
}

/// A shared reference to a caller-owned input struct.
///
/// # Safety
/// A non-NULL `ptr` must point to a valid, initialised `T` for `'a`.
pub(crate) unsafe fn in_ref<'a, T>(ptr: *const T, name: &str) -> FfiResult<&'a T> {
    nonnull!(ptr, name);
    check_aligned(ptr, name)?;
    // SAFETY: non-NULL and aligned; validity guaranteed by the caller.
    Ok(unsafe { &*ptr })
}

/// A caller-owned output location, written once with [`Out::set`] (never read, so the
/// caller may pass uninitialised memory).
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    pub fn set(&self, value: T) {
        // SAFETY: checked non-NULL and aligned by `out_ptr`; writable per its caller.
        unsafe { self.0.write(value) }
    }
}

/// Check an output pointer.
///
/// # Safety
/// A non-NULL `ptr` must be valid for writes of a `T` until the returned [`Out`] is used.
pub(crate) unsafe fn out_ptr<T>(ptr: *mut T, name: &str) -> FfiResult<Out<T>> {
    nonnull!(ptr, name);
    check_aligned(ptr.cast_const(), name)?;
    Ok(Out(ptr))
}

/// A caller-owned array of `len` elements. NULL is accepted with `len == 0`.
///
/// # Safety
/// A non-NULL `ptr` must be valid for `len` reads of `T` for `'a`.
pub(crate) unsafe fn array<'a, T>(ptr: *const T, len: usize, name: &str) -> FfiResult<&'a [T]> {
    if ptr.is_null() && len == 0 {
        return Ok(&[]);
    }
    nonnull!(ptr, name);
    check_aligned(ptr, name)?;
    check_len(len, size_of::<T>().max(1), name)?;
    // SAFETY: non-NULL, aligned, bounded; validity guaranteed by the caller.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// An empty vector with room for `n` items, or `AUTHCORE_INVALID_INPUT` when that much
/// memory cannot be had (instead of aborting the process on allocation failure).
pub(crate) fn vec_with_capacity<T>(n: usize, name: &str) -> FfiResult<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        FfiError::new(
            AUTHCORE_INVALID_INPUT,
            format!("`{name}` has too many entries ({n}) to process"),
        )
    })?;
    Ok(v)
}

/// Write `s` plus a terminating NUL into the caller's buffer and its length (without
/// the NUL) into `*out_written`. If the buffer is too small: `AUTHCORE_BUFFER_TOO_SMALL`,
/// `*out_written` = the size needed (NUL included), and `out[0] = 0` when `out_len > 0`.
/// `out` may be NULL only with `out_len == 0` (a size query).
///
/// # Safety
/// `out` must be valid for `out_len` bytes of writes; `out_written` for one `size_t`.
pub(crate) unsafe fn write_text(
    s: &[u8],
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> FfiResult {
    // SAFETY: forwarded caller guarantee.
    let written = unsafe { out_ptr(out_written, "out_written")? };
    if out.is_null() && out_len != 0 {
        nonnull!(out, "out");
    }
    let needed = s.len() + 1;
    if needed > out_len {
        written.set(needed);
        if out_len > 0 {
            // SAFETY: `out` is non-NULL here and valid for at least one byte.
            unsafe { *out = 0 };
        }
        return Err(FfiError::new(
            AUTHCORE_BUFFER_TOO_SMALL,
            format!("output buffer holds {out_len} bytes, {needed} needed"),
        ));
    }
    // SAFETY: `out` is valid for `out_len >= needed` bytes; the source is a Rust slice
    // that cannot overlap a buffer the caller lent us for writing.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), out.cast::<u8>(), s.len());
        *out.add(s.len()) = 0;
    }
    written.set(s.len());
    Ok(())
}

/// A 64-char hex digest as a NUL-terminated `char[65]`.
pub(crate) fn hex_array(hex: &str) -> [c_char; 65] {
    let mut out = [0 as c_char; 65];
    for (d, s) in out.iter_mut().zip(hex.bytes().take(64)) {
        *d = s as c_char;
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// An `extern "C"` function whose body panics, wrapped like every exported one.
    extern "C" fn panics_inside_boundary() -> authcore_result {
        boundary(|| -> FfiResult {
            let v: Vec<u8> = Vec::new();
            // An out-of-bounds index: a real bug, not an explicit `panic!`.
            let i = v.len() + 3;
            let _ = v[i];
            Ok(())
        })
    }

    extern "C" fn fails_inside_boundary() -> authcore_result {
        boundary(|| Err(FfiError::new(AUTHCORE_INVALID_ARGUMENT, "bad thing")))
    }

    extern "C" fn succeeds_inside_boundary() -> authcore_result {
        boundary(|| Ok(()))
    }

    #[test]
    fn panic_becomes_panic_code_and_message() {
        assert_eq!(panics_inside_boundary(), AUTHCORE_PANIC);
        let msg = last_error();
        assert!(msg.contains("panic caught"), "{msg}");
        assert!(msg.contains("index out of bounds"), "{msg}");
        // The boundary is reusable after a panic.
        assert_eq!(fails_inside_boundary(), AUTHCORE_INVALID_ARGUMENT);
        assert_eq!(last_error(), "bad thing");
        assert_eq!(succeeds_inside_boundary(), AUTHCORE_OK);
        assert_eq!(last_error(), "");
        assert_eq!(boundary_or(7u16, || panic!("x")), 7);
    }

    #[test]
    fn last_error_is_per_thread() {
        assert_eq!(fails_inside_boundary(), AUTHCORE_INVALID_ARGUMENT);
        let other = std::thread::spawn(last_error).join().unwrap();
        assert_eq!(other, "");
        assert_eq!(last_error(), "bad thing");
    }

    #[test]
    fn lengths_beyond_isize_are_rejected() {
        let b = [0u8; 4];
        // SAFETY: the length check runs before any slice is built.
        let r = unsafe { bytes(b.as_ptr(), usize::MAX, "body") };
        assert_eq!(r.unwrap_err().code, AUTHCORE_INVALID_INPUT);
        // SAFETY: NULL with length 0 is the empty input.
        assert_eq!(unsafe { bytes(std::ptr::null(), 0, "body") }.unwrap(), b"");
        // SAFETY: NULL is checked first.
        let r = unsafe { bytes(std::ptr::null(), 1, "body") };
        assert_eq!(r.unwrap_err().code, AUTHCORE_NULL_PARAMETER);
    }

    #[test]
    fn write_text_reports_needed_size() {
        let mut buf = [b'x' as c_char; 4];
        let mut n = 0usize;
        // SAFETY: valid buffers.
        let r = unsafe { write_text(b"abcd", buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r.unwrap_err().code, AUTHCORE_BUFFER_TOO_SMALL);
        assert_eq!(n, 5);
        assert_eq!(buf[0], 0);
        // SAFETY: size query with NULL and 0.
        let r = unsafe { write_text(b"abcd", std::ptr::null_mut(), 0, &mut n) };
        assert_eq!(r.unwrap_err().code, AUTHCORE_BUFFER_TOO_SMALL);
        assert_eq!(n, 5);
        // SAFETY: valid buffers.
        unsafe { write_text(b"abc", buf.as_mut_ptr(), buf.len(), &mut n) }.unwrap();
        assert_eq!(n, 3);
        assert_eq!(buf, [b'a' as c_char, b'b' as c_char, b'c' as c_char, 0]);
        // SAFETY: NULL out with a non-zero length is refused before any write.
        let r = unsafe { write_text(b"a", std::ptr::null_mut(), 8, &mut n) };
        assert_eq!(r.unwrap_err().code, AUTHCORE_NULL_PARAMETER);
    }
}

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
