//! Events: the subscriber engine of server-sent events, by capability.
//!
//! node-auth's AuthTools (`SseManager`, spec `node-auth.md` §2.6) in Node and
//! `authcore.events` in Python run on [`EventHub`]; fuz_app's realtime guard
//! ([`crate::realtime::SubscriberRegistry`]) shares its [`TopicIndex`].
//!
//! - [`index`]: topic → subscribers, in subscription order;
//! - [`frame`]: the SSE frame, encoded once per event, CR/LF in fields refused;
//! - [`wheel`]: the one timer wheel for heartbeats;
//! - [`hub`]: subscribers, bounded queues (slow clients are disconnected), dedupe,
//!   replay after `Last-Event-ID`, limits;
//! - [`redis`]: the Redis pub/sub distributor (fan-out across processes);
//! - [`webhook`]: the outgoing webhook delivery policy (signature, headers, retries,
//!   timeout, refused internal addresses);
//! - [`inbound`]: the checks of a signed inbound webhook (signature, timestamp window,
//!   replay keys) and the in-process replay store;
//! - [`sink`] (Unix): direct socket writes of the frames to push subscribers.

pub mod error;
pub mod frame;
pub mod hub;
pub mod inbound;
pub mod index;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(unix)]
pub mod sink;
pub mod webhook;
pub mod wheel;

pub use error::EventsError;
pub use frame::{Frame, HEARTBEAT_FRAME, check_field, encode_frame};
pub use hub::{
    DEFAULT_DEDUPE_WINDOW, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_MAX_PER_USER, DEFAULT_MAX_QUEUE_BYTES, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_MAX_TOPICS,
    DEFAULT_REPLAY_BYTES, DEFAULT_REPLAY_EVENTS, Delivery, DeliveryMode, EventHub, EventMeta,
    HubConfig, SubscribeRequest, Subscribed,
};
pub use index::TopicIndex;
#[cfg(feature = "redis")]
pub use redis::RedisDistributor;
pub use wheel::TimerWheel;
