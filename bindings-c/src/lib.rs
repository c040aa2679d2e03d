//! C ABI of authcore: a thin layer over the `authcore` core crate.
//!
//! Conventions (model: rustls-ffi):
//! - every fallible function returns an [`authcore_result`] (`AUTHCORE_OK` = 0); the
//!   detailed message of the last failure on the calling thread is available through
//!   `authcore_error_message`;
//! - strings in are `const char *` + length (UTF-8, not NUL-terminated), bodies are
//!   bytes + length;
//! - results go into buffers the caller owns (`out`, `out_len`, `out_written`); a buffer
//!   that is too small gives `AUTHCORE_BUFFER_TOO_SMALL` and the size needed; nothing is
//!   allocated for the caller, so there is nothing to free;
//! - no panic crosses the boundary (`AUTHCORE_PANIC`), NULL pointers give
//!   `AUTHCORE_NULL_PARAMETER`.
//!
//! The header `include/authcore.h` is generated from this crate by cbindgen
//! (`scripts/c.sh`).

mod auth;
mod error;
mod ffi;
mod hmac;
mod metrics;
mod propagation;

pub use auth::*;
pub use error::*;
pub use hmac::*;
pub use metrics::*;
pub use propagation::*;
