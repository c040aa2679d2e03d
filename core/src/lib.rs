//! authcore: the security-critical core behind the Node, Python and C bindings.
//!
//! Pure Rust, no FFI types. Modules are organised by capability, each with its own
//! typed error enum. Bindings (`bindings-node`, `bindings-python`, `bindings-c`) only
//! convert types and map errors.

pub mod hmac;
pub mod js;
pub mod store;
pub mod password;
pub mod totp;
pub mod tokens;
pub mod oauth;
pub mod policy;
pub mod jwt;
