//! napi-rs binding of authcore (thin layer: type conversion and one error mapping;
//! every rule lives in the `authcore` core crate). Modules carry the core's module names.
//!
//! - [`hmac`]: request and message signing and verification, the credential lifecycle and
//!   the store-backed instance; see its docs.
//! - [`password`], [`jwt`], [`tokens`], [`totp`], [`oauth`], [`policy`]: passwords, JWT,
//!   API keys and session tokens, TOTP, PKCE / authorization codes and policies. CPU-heavy
//!   work (argon2, bcrypt, RSA) runs on the libuv thread pool through [`task`]; every such
//!   operation comes as a pair, `foo` (a Promise) and `fooSync`, running the very same
//!   closure.
//! - [`propagation`]: `Propagator`, credential propagation over RabbitMQ (the JS
//!   objects it needs are reached through one dispatcher function); see its docs.
//! - [`realtime`]: the realtime registry and audit-event dispatch; [`events`]:
//!   `NativeEventHub`, the core's events engine under node-auth's `SseManager`.
//! - [`error`]: the error mappings (core error → JS `Error` with `code` and `status`).
//! - [`task`]: one closure run on the libuv pool or inline.

#![deny(clippy::all)]

pub mod error;
pub mod events;
pub mod hmac;
pub mod jwt;
pub mod logs;
pub mod metrics;
pub mod oauth;
pub mod password;
pub mod policy;
pub mod propagation;
pub mod realtime;
pub mod task;
pub mod tokens;
pub mod totp;
