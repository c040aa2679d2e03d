//! The core's metrics as Prometheus text, for C hosts that serve their own `/metrics`.

use std::ffi::c_char;

use crate::error::authcore_result;
use crate::ffi::{boundary, write_text};

/// Writes the core's metrics (Prometheus text exposition format 0.0.4: verification
/// outcomes and latency, propagation, SSE, key derivation, refresh tokens) and a NUL into
/// `out`, and the text's length into `*out_written`.
///
/// The text is a few kilobytes and grows with nothing the caller sends; a buffer that is
/// too small gives `AUTHCORE_BUFFER_TOO_SMALL` with the size needed in `*out_written`
/// (call with `out = NULL, out_len = 0` to ask). Counters are process-wide, shared by
/// every thread; no secret, client id or request data appears in the text.
///
/// # Safety
/// `out` NULL with `out_len == 0`, or valid for `out_len` bytes of writes; `out_written`
/// writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_metrics_text(
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        let text = authcore::metrics::render();
        // SAFETY: caller guarantees (see # Safety).
        unsafe { write_text(text.as_bytes(), out, out_len, out_written) }
    })
}

/// Turns the recording of metrics on hot paths on (`enabled != 0`, the default) or off
/// for the whole process. Values already recorded stay readable.
#[unsafe(no_mangle)]
pub extern "C" fn authcore_metrics_set_enabled(enabled: i32) {
    crate::ffi::boundary_or((), || authcore::metrics::set_enabled(enabled != 0));
}
