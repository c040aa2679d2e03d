//! napi-rs binding of authcore (thin layer: type conversion and one error mapping;
//! every rule lives in the `authcore` core crate).
//!
//! - [`pure`]: the wire functions (`hashClientSecret`, `signRequest`, `normalizePath`,
//!   message canonicalisation, IP rules, record parsing), synchronous.
//! - [`verify`]: sans-IO verification returning a structured outcome.
//! - [`clients`]: the credential lifecycle as pure planners (for a JS-side store).
//! - [`instance`]: `NativeHmacAuth`, the store-backed instance (`memory://`,
//!   `redis://`) whose I/O methods are async on tokio.
//! - [`error`]: the one `HmacError` → JS error mapping.
//! - [`auth`]: the auth primitives (passwords, JWT, API keys, TOTP, PKCE, policies); see its docs.
//! - [`propagation`]: `NativePropagator`, credential propagation over RabbitMQ (the JS
//!   objects it needs are reached through one dispatcher function); see its docs.

#![deny(clippy::all)]

pub mod auth;
pub mod clients;
pub mod error;
pub mod events;
pub mod instance;
pub mod logs;
pub mod metrics;
pub mod propagation;
pub mod pure;
pub mod realtime;
pub mod verify;
