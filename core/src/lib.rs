//! authcore: the security-critical core behind the Node, Python and C bindings.
//!
//! Pure Rust, no FFI types. Modules are organised by capability, each with its own
//! typed error enum. Bindings (`bindings-node`, `bindings-python`, `bindings-c`) only
//! convert types and map errors.

#![deny(missing_docs)]

pub mod error;
pub mod events;
pub mod hmac;
pub mod js;
pub mod jwt;
pub mod limits;
pub mod log_events;
pub mod logger;
pub mod metrics;
mod notify;
pub mod oauth;
pub mod password;
pub mod policy;
pub mod propagation;
pub mod py;
pub mod realtime;
pub mod secret;
pub mod store;
pub mod token_stores;
pub mod tokens;
pub mod totp;

/// The examples of the crate's README, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
