//! The auth primitives (node-auth, Auth Server, authrs) in the addon: passwords, JWT, API keys and
//! session tokens, TOTP, PKCE / authorization codes and policies.
//!
//! Thin layer: argument conversion, one error mapping ([`error`]) and one task type
//! ([`task::AuthTask`]) that runs CPU-heavy work (argon2, bcrypt, RSA) on the libuv thread
//! pool. Every such operation comes as a pair, `foo` (a Promise) and `fooSync`, and the two
//! run the very same closure, so they cannot drift. Every rule lives in `authcore`.

pub mod error;
pub mod jwt;
pub mod oauth;
pub mod password;
pub mod policy;
pub mod task;
pub mod tokens;
pub mod totp;
