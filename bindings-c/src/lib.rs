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
//! Modules carry the core's module names: [`hmac`], [`password`], [`jwt`], [`totp`],
//! [`oauth`] (PKCE), [`policy`], [`propagation`]; [`error`] holds the result codes (the
//! `1000..=1499` range of the password, JWT, TOTP, PKCE and policy functions in
//! `error::codes`), [`ffi`] the boundary helpers and [`json`] the canonical JSON text
//! out of the functions. Every function is synchronous: password hashing
//! takes tens of milliseconds at OWASP parameters, so call it from a worker thread in
//! event-driven programs.
//!
//! The header `include/authcore.h` is generated from this crate by cbindgen
//! (`scripts/c.sh`).

mod error;
mod ffi;
mod hmac;
mod json;
mod jwt;
mod metrics;
mod oauth;
mod password;
mod policy;
mod propagation;
mod totp;

pub use error::*;
pub use hmac::*;
pub use jwt::*;
pub use metrics::*;
pub use oauth::*;
pub use password::*;
pub use policy::*;
pub use propagation::*;
pub use totp::*;
