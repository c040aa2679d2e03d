//! The core's integration tests, one test binary (`cargo test -p authcore --test it`): a
//! module per area, each named as its file (`cargo test -p authcore --test it jwt::` runs
//! one area). One binary is linked once instead of once per file, which a cold `make test`
//! paid ~25 times for a binary that links the whole core, tokio, Redis and RabbitMQ clients.
//!
//! Three tests stay binaries of their own (`core/tests/*.rs`) because they need a process to
//! themselves:
//! - `metrics`: the core's metrics are process-wide counters; every other test here moves
//!   them.
//! - `propagation_amqps`: sets `SSL_CERT_FILE` for the process (the TLS roots every rustls
//!   client of the process then trusts) while other threads run.
//! - `propagation_chaos`: re-executes its own binary as a peer process and SIGKILLs it, and
//!   closes every connection of a RabbitMQ vhost mid-run.
//!
//! A new area goes here as a module; a new file directly under `core/tests/` is a binary of
//! its own (only for a test that needs its own process, as above).

mod jwt_keys;
#[path = "../support/parser_checks.rs"]
mod parser_checks;
#[path = "../support/propagation.rs"]
mod prop_support;
#[path = "../support/mod.rs"]
mod support;

mod canonical_oracle;
mod events_hub;
mod hmac_runtime;
mod jwt;
mod node_auth;
mod oauth;
mod parser_props;
mod password;
mod policy;
mod propagation;
mod propagation_amqp;
mod propagation_create;
mod propagation_e2e;
mod propagation_protocol;
mod propagation_signed;
mod pyjwt_compat;
mod python_json;
mod realtime;
mod redis_cluster;
mod secrets;
mod stateless_helpers;
mod token_stores;
mod tokens;
mod totp;
mod vectors;
