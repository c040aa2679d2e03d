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

pub mod amqp;
pub mod config;
pub mod create;
pub mod propagator;
pub mod state;
pub mod transport;
pub mod wire;

pub use transport::{
    DeliveryHandler, InProcessBroker, InProcessTransport, Transport, TransportError,
};

pub use crate::logger::{Logger, NoopLogger};
