//! HMAC request and message authentication (core `authcore::hmac`): [`pure`], the
//! original's pure functions, and [`runtime`], the store-backed runtime (stores, the HTTP
//! verifier, the message track and the `clients` lifecycle).

pub mod pure;
pub mod runtime;
