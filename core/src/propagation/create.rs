//! `createPropagator(options)` for every binding: the one sequence from the options a host
//! language gave to a running [`Propagator`].
//!
//! A binding converts each option into a [`Given`]: the value's [`Shape`] (what the
//! original's `!options.x` looks at) and the binding's conversion of it (or the binding's
//! own error for a value of the wrong type, e.g. a Python `TypeError`, which is reported
//! only once the checks before it passed). [`create`] then owns, in this order:
//! 1. `assertOptions`: the first falsy required option, with JavaScript truthiness (an empty
//!    string, `0`, `-0`, `NaN`, `false`, `null`/`undefined`/`None` are falsy), as
//!    `INVALID_OPTIONS` with the original's message;
//! 2. the values' conversions (a binding's error for a value of the wrong type);
//! 3. the queue name (`buildQueueName`'s plain `Error`: `INVALID_QUEUE_NAME`);
//! 4. the broker settings (protocol, port): `INVALID_OPTIONS`, before any I/O;
//! 5. the credential stores, the management adapter and the logger (a binding's error, e.g.
//!    `management.<name> must be a function`);
//! 6. opening the state (a store URL, or the host's client object, which is bypassed for a
//!    native connection when a probe written through it reads back there);
//! 7. the broker link and the consumer ([`config::create_propagator`]).

use std::sync::Arc;

use super::config::{self, AmqpSettings, Broker, OptionsPresent};
use super::propagator::{
    CredentialSink, Management, PropagationError, Propagator, PropagatorParts,
};
use super::state::{self, PropagationState, PropagationStore, RedisOps};
use super::wire::{self, EventAuth};
use super::{Logger, NoopLogger};
use crate::store::StoreUrl;

/// What the original's truthiness test (`!options.x`) sees of a host value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// `undefined`, `null`, Python `None`, a missing key, a NULL pointer.
    Absent,
    /// A boolean.
    Bool(bool),
    /// Any number (a Python `int` as its nearest double).
    Number(f64),
    /// A string; only its emptiness matters.
    Str {
        /// Whether the string is empty.
        empty: bool,
    },
    /// Anything else (an object, a function, a list): truthy, as in JavaScript.
    Object,
}

impl Shape {
    /// JavaScript truthiness: `false`, `0`, `-0`, `NaN`, `""` and absent values are falsy.
    pub fn truthy(self) -> bool {
        match self {
            Self::Absent => false,
            Self::Bool(b) => b,
            Self::Number(n) => !(n == 0.0 || n.is_nan()),
            Self::Str { empty } => !empty,
            Self::Object => true,
        }
    }

    /// The shape of a string value.
    pub fn of_str(s: &str) -> Self {
        Self::Str {
            empty: s.is_empty(),
        }
    }
}

/// One option as a binding received it: its [`Shape`] and the binding's conversion.
pub struct Given<T> {
    shape: Shape,
    value: Option<Result<T, PropagationError>>,
}

impl<T> Given<T> {
    /// Not given (`undefined`, `None`, NULL).
    pub fn absent() -> Self {
        Self {
            shape: Shape::Absent,
            value: None,
        }
    }

    /// A value of `shape`, converted (or the binding's error for it, reported only when the
    /// option is used).
    pub fn new(shape: Shape, value: Result<T, PropagationError>) -> Self {
        Self {
            shape,
            value: (shape != Shape::Absent).then_some(value),
        }
    }

    /// The same shape with the converted value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Given<U> {
        Given {
            shape: self.shape,
            value: self.value.map(|r| r.map(f)),
        }
    }

    /// The value when it is truthy (`Ok(None)` when falsy).
    fn truthy_value(self) -> Result<Option<T>, PropagationError> {
        if !self.shape.truthy() {
            return Ok(None);
        }
        self.value.transpose()
    }

    /// The value when it is present at all (`null`/`undefined` excluded, `""` included).
    fn present_value(self) -> Result<Option<T>, PropagationError> {
        self.value.transpose()
    }

    fn required(self) -> Result<T, PropagationError> {
        self.truthy_value()?
            .ok_or_else(|| PropagationError::InvalidOptions("an option is missing".into()))
    }
}

impl Given<String> {
    /// A string option.
    pub fn string(s: impl Into<String>) -> Self {
        let s = s.into();
        Self::new(Shape::of_str(&s), Ok(s))
    }
}

impl Given<f64> {
    /// A number option.
    pub fn number(n: f64) -> Self {
        Self::new(Shape::Number(n), Ok(n))
    }
}

/// The `redis` option: a store URL, or the host's client object (the nine
/// `PropagationRedisClient` commands).
pub enum RedisOption {
    /// `redis://`, `rediss://`, `unix://`, `redis+unix://` or `memory://`.
    Url(String),
    /// A host client object. With `native_url` (the Redis its options name), a probe field
    /// is written through the client and the state goes over a native connection to that
    /// URL only if it reads the same value there (same server, same database); the probe is
    /// deleted through the client afterwards.
    Client {
        /// The client's nine commands.
        ops: Arc<dyn RedisOps>,
        /// The Redis URL the client's options name, if known.
        native_url: Option<String>,
    },
}

/// The options of `createPropagator`, as a binding received them.
pub struct CreateOptions {
    /// `amqpHost`.
    pub amqp_host: Given<String>,
    /// `amqpPort`.
    pub amqp_port: Given<f64>,
    /// `amqpUser`.
    pub amqp_user: Given<String>,
    /// `amqpPassword`.
    pub amqp_password: Given<String>,
    /// `amqpProtocol`.
    pub amqp_protocol: Given<String>,
    /// Optional: default [`wire::DEFAULT_AMQP_VHOST`] (only `null`/`undefined` count as absent).
    pub amqp_vhost: Given<String>,
    /// `amqpQueue`.
    pub amqp_queue: Given<String>,
    /// `propagationSecret`.
    pub propagation_secret: Given<String>,
    /// `redis`: a URL or a host client object.
    pub redis: Given<RedisOption>,
    /// `hmacHttpAuth`: the store of track `http`.
    pub hmac_http_auth: Given<Arc<dyn CredentialSink>>,
    /// `hmacMessageAuth`: the store of track `message`.
    pub hmac_message_auth: Given<Arc<dyn CredentialSink>>,
    /// Full mode when truthy; receive-only otherwise.
    pub management: Given<Arc<dyn Management>>,
    /// No-op when falsy.
    pub logger: Given<Arc<dyn Logger>>,
    /// Signed events (authcore extension; default off: wire v1).
    pub event_auth: EventAuth,
}

impl Default for CreateOptions {
    fn default() -> Self {
        Self {
            amqp_host: Given::absent(),
            amqp_port: Given::absent(),
            amqp_user: Given::absent(),
            amqp_password: Given::absent(),
            amqp_protocol: Given::absent(),
            amqp_vhost: Given::absent(),
            amqp_queue: Given::absent(),
            propagation_secret: Given::absent(),
            redis: Given::absent(),
            hmac_http_auth: Given::absent(),
            hmac_message_auth: Given::absent(),
            management: Given::absent(),
            logger: Given::absent(),
            event_auth: EventAuth::default(),
        }
    }
}

/// Where the propagation state went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateMode {
    /// Through the host's client object.
    Client,
    /// A host client object whose Redis the probe confirmed, over a native connection.
    Native,
    /// A `redis://` (or `rediss://`, `unix://`) URL.
    Redis,
    /// `memory://`: this process only.
    Memory,
}

impl StateMode {
    /// `client`, `native`, `redis` or `memory`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Native => "native",
            Self::Redis => "redis",
            Self::Memory => "memory",
        }
    }
}

/// A running propagator and where its state lives.
#[derive(Debug)]
pub struct Created {
    /// The running propagator.
    pub propagator: Propagator,
    /// Where its state lives.
    pub state_mode: StateMode,
}

/// The option checks of `createPropagator` that need no I/O (steps 1 to 5 of the module
/// docs), then the state and the broker link (steps 6 and 7).
pub async fn create(options: CreateOptions) -> Result<Created, PropagationError> {
    let o = options;
    config::assert_options(&OptionsPresent {
        amqp_host: o.amqp_host.shape.truthy(),
        amqp_port: o.amqp_port.shape.truthy(),
        amqp_user: o.amqp_user.shape.truthy(),
        amqp_password: o.amqp_password.shape.truthy(),
        amqp_protocol: o.amqp_protocol.shape.truthy(),
        amqp_queue: o.amqp_queue.shape.truthy(),
        propagation_secret: o.propagation_secret.shape.truthy(),
        redis: o.redis.shape.truthy(),
        hmac_http_auth: o.hmac_http_auth.shape.truthy(),
        hmac_message_auth: o.hmac_message_auth.shape.truthy(),
    })?;
    let settings = AmqpSettings {
        protocol: o.amqp_protocol.required()?,
        host: o.amqp_host.required()?,
        port: o.amqp_port.required()?,
        user: o.amqp_user.required()?,
        password: o.amqp_password.required()?.into(),
        vhost: o.amqp_vhost.present_value()?,
    };
    let queue = o.amqp_queue.required()?;
    let secret = o.propagation_secret.required()?;
    let redis = o.redis.required()?;
    wire::build_queue_name(&queue).map_err(PropagationError::InvalidQueueName)?;
    settings.check()?;
    let http = o.hmac_http_auth.truthy_value()?;
    let message = o.hmac_message_auth.truthy_value()?;
    let management = o.management.truthy_value()?;
    let logger = o
        .logger
        .truthy_value()?
        .unwrap_or_else(|| Arc::new(NoopLogger));
    let (state, state_mode) = open_state(redis).await?;
    let parts = PropagatorParts {
        amqp_queue: queue,
        propagation_secret: secret.into(),
        http,
        message,
        management,
        logger,
        state,
        event_auth: o.event_auth,
    };
    let propagator = config::create_propagator(parts, Broker::Amqp(settings)).await?;
    Ok(Created {
        propagator,
        state_mode,
    })
}

/// Key prefix of the probe written through a host client (60 s TTL, deleted after use).
const PROBE_PREFIX: &str = "propagation:native-probe:";

async fn open_state(
    redis: RedisOption,
) -> Result<(Arc<dyn PropagationState>, StateMode), PropagationError> {
    match redis {
        RedisOption::Url(url) => {
            let mode = match StoreUrl::parse(&url) {
                Some(StoreUrl::Memory) => StateMode::Memory,
                _ => StateMode::Redis,
            };
            Ok((state::open_state(&url).await?, mode))
        }
        RedisOption::Client { ops, native_url } => {
            if let Some(url) = native_url.filter(|u| StoreUrl::parse(u) == Some(StoreUrl::Redis))
                && let Some(state) = probe_native(&ops, &url).await
            {
                return Ok((state, StateMode::Native));
            }
            Ok((
                Arc::new(PropagationStore::new(ops).host_readable()),
                StateMode::Client,
            ))
        }
    }
}

/// Writes a random probe through the host client and opens a native state at `url` only
/// if that Redis reads it back; the probe is deleted through the client either way.
async fn probe_native(ops: &Arc<dyn RedisOps>, url: &str) -> Option<Arc<dyn PropagationState>> {
    let key = format!("{PROBE_PREFIX}{}", wire::random_uuid().ok()?);
    let value = wire::random_uuid().ok()?;
    let written = async {
        ops.h_set(&key, &[("v", value.as_str())]).await?;
        ops.expire(&key, 60).await
    }
    .await;
    let state = match written {
        #[cfg(feature = "redis")]
        Ok(()) => state::open_state_if_holds(url, &key, "v", &value).await,
        // Without the redis feature there is no native connection: the client carries it.
        #[cfg(not(feature = "redis"))]
        Ok(()) => {
            let _ = (url, &value);
            None
        }
        Err(_) => None,
    };
    let _ = ops.del(&key).await;
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_truthiness() {
        assert!(!Shape::Absent.truthy());
        assert!(!Shape::Bool(false).truthy());
        assert!(Shape::Bool(true).truthy());
        assert!(!Shape::Number(0.0).truthy());
        assert!(!Shape::Number(-0.0).truthy());
        assert!(!Shape::Number(f64::NAN).truthy());
        assert!(Shape::Number(f64::INFINITY).truthy());
        assert!(Shape::Number(5672.0).truthy());
        assert!(!Shape::of_str("").truthy());
        assert!(Shape::of_str("0").truthy());
        assert!(Shape::Object.truthy());
    }
}
