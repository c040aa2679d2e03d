//! HMAC request and message authentication (core `authcore::hmac`).
//!
//! - [`pure`]: the wire functions (`hashClientSecret`, `signRequest`, `normalizePath`,
//!   message canonicalisation, IP rules, record parsing), synchronous.
//! - [`verify`]: sans-IO verification returning a structured outcome.
//! - [`sources`]: a request's headers and IP metadata read from the JS objects (the core's rules).
//! - [`clients`]: the credential lifecycle as pure planners (for a JS-side store).
//! - [`instance`]: `NativeHmacAuth`, the store-backed instance (`memory://`,
//!   `redis://`) whose I/O methods are async on tokio.

pub mod clients;
pub mod instance;
pub mod pure;
pub mod sources;
pub mod verify;
