//! `createPropagator(options)`: the original's option checks (order and messages), then a
//! broker link (RabbitMQ, or the in-process broker of the embedded default: `amqpProtocol`
//! `"memory"` with the mesh's name as `amqpHost`) and a running [`Propagator`].

use std::sync::Arc;

#[cfg(feature = "amqp")]
use super::amqp::{AmqpOptions, AmqpProtocol, AmqpTransport};
use super::propagator::{PropagationError, Propagator, PropagatorParts};
use super::transport::{InProcessBroker, Transport};
use super::wire;
use crate::secret::SecretString;

/// Which options a binding received, with JavaScript truthiness already applied (an empty
/// string or a port of `0` counts as absent, like `!options.amqpPort` in the original).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptionsPresent {
    /// `amqpHost` given.
    pub amqp_host: bool,
    /// `amqpPort` given.
    pub amqp_port: bool,
    /// `amqpUser` given.
    pub amqp_user: bool,
    /// `amqpPassword` given.
    pub amqp_password: bool,
    /// `amqpProtocol` given.
    pub amqp_protocol: bool,
    /// `amqpQueue` given.
    pub amqp_queue: bool,
    /// `propagationSecret` given.
    pub propagation_secret: bool,
    /// `redis` given.
    pub redis: bool,
    /// `hmacHttpAuth` given.
    pub hmac_http_auth: bool,
    /// `hmacMessageAuth` given.
    pub hmac_message_auth: bool,
}

/// `assertOptions`: the first missing option, in the original's order, as `INVALID_OPTIONS`.
pub fn assert_options(p: &OptionsPresent) -> Result<(), PropagationError> {
    let checks = [
        (p.amqp_host, "amqpHost is required"),
        (p.amqp_port, "amqpPort is required"),
        (p.amqp_user, "amqpUser is required"),
        (p.amqp_password, "amqpPassword is required"),
        (p.amqp_protocol, "amqpProtocol is required"),
        (p.amqp_queue, "amqpQueue is required"),
        (p.propagation_secret, "propagationSecret is required"),
        (p.redis, "redis is required"),
        (
            p.hmac_http_auth || p.hmac_message_auth,
            "At least one of hmacHttpAuth or hmacMessageAuth must be provided",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, msg)) => Err(PropagationError::InvalidOptions((*msg).into())),
        None => Ok(()),
    }
}

/// `redis` given as a string that is not a supported URL (the URL redacted).
pub fn unsupported_redis_url(url: &str) -> PropagationError {
    PropagationError::InvalidOptions(crate::store::unsupported_url_message(
        "redis",
        url,
        "a client object, redis://, rediss://, redis+cluster:// or memory://",
    ))
}

/// The broker settings of `createPropagator` (`amqp*` options).
#[derive(Clone)]
pub struct AmqpSettings {
    /// `amqp` or `amqps`.
    pub protocol: String,
    /// `amqpHost` (for `memory`: the in-process mesh's name).
    pub host: String,
    /// `amqpPort`, as the host gave it (checked: an integer from 1 to 65535).
    pub port: f64,
    /// `amqpUser`.
    pub user: String,
    /// Wiped on drop, redacted from `Debug`.
    pub password: SecretString,
    /// Default [`wire::DEFAULT_AMQP_VHOST`].
    pub vhost: Option<String>,
}

crate::redacted_debug!(AmqpSettings { protocol, host, port, user, vhost } secret { password });

/// Where a propagator's events travel.
#[derive(Debug, Clone)]
pub enum Broker {
    /// RabbitMQ (wire v1, interoperable with Node peers).
    Amqp(AmqpSettings),
    /// The in-process broker: every propagator made with the same broker is one mesh.
    InProcess(InProcessBroker),
}

/// `amqpProtocol` of the embedded mesh (our extension): `amqpHost` names a process-wide
/// in-process broker ([`InProcessBroker::named`]); the other `amqp*` options are not used.
pub const MEMORY_PROTOCOL: &str = "memory";

impl AmqpSettings {
    /// The checks of [`Self::to_options`] without building anything; `memory` is accepted.
    pub fn check(&self) -> Result<(), PropagationError> {
        if self.protocol == MEMORY_PROTOCOL {
            return Ok(());
        }
        #[cfg(not(feature = "amqp"))]
        {
            Err(amqp_not_built())
        }
        #[cfg(feature = "amqp")]
        {
            self.to_options(String::new()).map(drop)
        }
    }

    #[cfg(feature = "amqp")]
    /// The transport options for this peer's own queue. The original hands an invalid
    /// protocol or port to amqplib, which fails to connect and retries forever; here it is
    /// an `INVALID_OPTIONS` error up front.
    pub fn to_options(&self, own_queue: String) -> Result<AmqpOptions, PropagationError> {
        let protocol = match self.protocol.as_str() {
            "amqp" => AmqpProtocol::Amqp,
            "amqps" => AmqpProtocol::Amqps,
            other => {
                return Err(PropagationError::InvalidOptions(format!(
                    "amqpProtocol must be \"amqp\" or \"amqps\", got \"{other}\""
                )));
            }
        };
        if !(self.port.fract() == 0.0 && (1.0..=65535.0).contains(&self.port)) {
            return Err(PropagationError::InvalidOptions(format!(
                "amqpPort must be an integer from 1 to 65535, got {}",
                crate::js::number_to_string(self.port)
            )));
        }
        Ok(AmqpOptions {
            protocol,
            host: self.host.clone(),
            port: self.port as u16,
            user: self.user.clone(),
            password: self.password.clone(),
            vhost: self
                .vhost
                .clone()
                .unwrap_or_else(|| wire::DEFAULT_AMQP_VHOST.to_owned()),
            own_queue,
        })
    }
}

/// A RabbitMQ broker asked of a core built without the `amqp` feature.
#[cfg(not(feature = "amqp"))]
fn amqp_not_built() -> PropagationError {
    PropagationError::InvalidOptions(
        "amqpProtocol \"amqp\" and \"amqps\" need the amqp feature of authcore".into(),
    )
}

/// `createPropagator`: checks the queue name (the plain `Error` of `buildQueueName`),
/// links to the broker and starts consuming. Like the original, an unreachable broker
/// does not fail: the link retries in the background (1 s doubling to 60 s) and `sync`
/// counts targets as retrying meanwhile.
pub async fn create_propagator(
    parts: PropagatorParts,
    broker: Broker,
) -> Result<Propagator, PropagationError> {
    let own_queue =
        wire::build_queue_name(&parts.amqp_queue).map_err(PropagationError::InvalidQueueName)?;
    let transport: Arc<dyn Transport> = match broker {
        Broker::Amqp(settings) if settings.protocol == MEMORY_PROTOCOL => {
            Arc::new(InProcessBroker::named(&settings.host).transport(&own_queue))
        }
        #[cfg(not(feature = "amqp"))]
        Broker::Amqp(_) => return Err(amqp_not_built()),
        #[cfg(feature = "amqp")]
        Broker::Amqp(settings) => {
            let opts = settings.to_options(own_queue)?;
            Arc::new(AmqpTransport::connect(opts, parts.logger.clone()).await)
        }
        Broker::InProcess(b) => Arc::new(b.transport(&own_queue)),
    };
    Propagator::start(parts, transport).await
}
