//! Credential propagation across a mesh of peers (wire v1 of
//! `@naskot/node-hmac-auth-core-propagation` 1.0.0; spec `naskot-propagation.md`).
//!
//! A full-mode peer (with a [`propagator::Management`] adapter) drives `ensure`, `rotate`,
//! `revoke` and `sync`; every peer consumes its own durable queue, applies apply events to
//! its credential store ([`propagator::CredentialSink`]), keeps a per-client cursor and
//! answers with an ACK; the sender's ack store tracks each target until the credential is
//! fully propagated. Pieces:
//! - [`wire`]: names, event bytes, decode checks, secret check, cursor order;
//! - [`state`]: cursor + ack store over the nine `PropagationRedisClient` commands;
//! - [`propagator`]: the protocol; [`config`]: `createPropagator`'s checks and broker choice;
//!   [`create`]: the one `createPropagator(options)` every binding calls;
//! - [`transport`]: the broker seam and the in-process broker; [`amqp`]: RabbitMQ (lapin).

//!
//! Built without the `tokio` feature only [`wire`] is here (the sans-IO codecs); the
//! RabbitMQ transport needs the `amqp` feature, the Redis state the `redis` feature.

#[cfg(feature = "amqp")]
pub mod amqp;
#[cfg(feature = "tokio")]
pub mod config;
#[cfg(feature = "tokio")]
pub mod create;
#[cfg(feature = "tokio")]
pub mod propagator;
#[cfg(feature = "tokio")]
pub mod state;
#[cfg(feature = "tokio")]
pub mod transport;
pub mod wire;

#[cfg(feature = "tokio")]
pub use transport::{
    DeliveryHandler, InProcessBroker, InProcessTransport, Transport, TransportError,
};

#[cfg(feature = "tokio")]
pub use crate::logger::{Logger, NoopLogger};
