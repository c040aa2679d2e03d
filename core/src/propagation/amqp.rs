//! [`AmqpTransport`]: the RabbitMQ [`Transport`] over `lapin`, wire-compatible with Node peers
//! running `@naskot/node-hmac-auth-core-propagation` (amqplib) on the same broker.
//!
//! # Node-compatible choices (spec §2.2, §3.1, §8)
//! - AMQP 0-9-1, `amqp` or `amqps`, heartbeat 10 s, the vhost as configured (Node's default is
//!   `hmac-credentials`, [`DEFAULT_VHOST`]). The vhost is never created.
//! - Two channels per connection: a **confirm channel** (`confirm.select`) for every publish
//!   and declare of a target queue, and a **consume channel** with
//!   `basic.qos(PREFETCH, global=false)` that declares the own queue and consumes it. The
//!   original's prefetch is 1; ours is [`PREFETCH`], with deliveries of one credential (one
//!   [`DeliveryHandler::lane`]) still handled one at a time in delivery order. A channel
//!   setting of this consumer only: nothing on the wire other peers see changes.
//! - Every queue is declared `durable=true, exclusive=false, auto_delete=false,
//!   passive=false` with an **empty** argument table, as amqplib's `assertQueue(name,
//!   {durable: true})` does; any difference would be a 406 against queues Node peers declared.
//!   Target queues are declared once per connection life (a cache cleared at every connect).
//! - Publishes go through the default exchange (`""`, routing key = queue name,
//!   `mandatory=false`) with exactly two properties, `delivery_mode=2` and
//!   `content_type=application/json`, and resolve on the publisher confirm (a nack is
//!   [`TransportError::Nacked`]).
//! - `basic.consume` with a server-generated tag, `no_ack=false`, non-exclusive, registered
//!   only once [`Transport::start_consume`] hands over the real handler. A handler `Ok` acks
//!   (`multiple=false`), an `Err` nacks with `requeue=true`.
//! - [`AmqpTransport::connect`] never fails: a broker that is down at boot gives a warning and
//!   a reconnect schedule. One timer at a time, 1 s, 2 s, 4 s … capped at 60 s, reset to 1 s
//!   after a successful connect. Every connect re-opens both channels, clears the declare
//!   cache, re-declares the own queue and re-registers the consumer.
//!
//! # Better than Node (invisible on the wire)
//! - **Channel closes are detected** (spec §7): a channel the broker closed (a 406 on an
//!   inequivalent target queue, a 404, an unknown delivery tag …) tears the whole connection
//!   down and reconnects it, instead of leaving a dead channel until the socket drops.
//! - **No stale delivery tags**: a delivery is acked or nacked only on the channel it came
//!   from, and only while that connection is still the current one. After a reconnect the
//!   broker has already requeued it, so nothing is sent on the new channel (Node would ack an
//!   old tag there, which is a channel error).
//! - **One delivery per lane at a time, across reconnects too**: the consumer of a new
//!   connection waits for every handler still running on the replaced one before it handles
//!   anything (the broker redelivers those messages to the new consumer at once).
//! - **`close()` never races a handler** (spec §10): it stops reconnecting, cancels the
//!   consumer, waits for the delivery being handled (and its ack), and only then closes the
//!   channels and the connection.
//! - After a handler error the nack is sent after a pause as long as the current failure
//!   streak (50 ms at least, 5 s at most, reset by a success), so a poison message or a
//!   Redis outage does not spin a core (Node redelivers in a hot loop), and a short outage
//!   is over for every lane soon after it ends. The wire is the same.
//! - Each connect attempt is bounded (20 s for TCP, TLS, handshake and channel setup), so a
//!   black-holed host cannot stall `connect` or the reconnect timer forever.
//!
//! # lapin specifics
//! The connection URI is built as an [`AMQPUri`] value from the options, so user, password
//! and vhost never go through a parse; [`AmqpOptions::to_uri`] gives the equivalent
//! percent-encoded string (the vhost `/` is `%2f`) and [`AmqpOptions::redacted_uri`] the
//! same without the password, which is the only form ever logged. lapin runs one I/O thread
//! per connection; everything else (timers, the consumer, the health watcher) is a task on
//! the caller's tokio runtime. Broker health is read from lapin's connection and channel
//! states (checked every 500 ms, and at once after any failed operation).

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use lapin::message::{Delivery, DeliveryResult};
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
    BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Consumer, ErrorKind,
};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use super::Logger;
use super::transport::{DeliveryHandler, Transport, TransportError};
use super::wire::SIGNATURE_HEADER;
use crate::secret::{ExposeSecret, SecretString};

/// The vhost Node peers use (`amqpVhost` defaults to it and its TS type allows nothing else).
pub use super::wire::DEFAULT_AMQP_VHOST as DEFAULT_VHOST;

/// Heartbeat requested from the broker, in seconds (hard-coded in the original).
const HEARTBEAT_SECS: u16 = 10;
/// Unacked deliveries per consumer (the original: 1). Deliveries of different lanes
/// ([`DeliveryHandler::lane`]: one per credential) are handled concurrently, each lane in
/// delivery order, one at a time.
pub const PREFETCH: u16 = 256;
/// First reconnect delay, doubled after each failed attempt.
const BACKOFF_START: Duration = Duration::from_millis(1000);
/// Cap of the reconnect delay.
const BACKOFF_MAX: Duration = Duration::from_millis(60_000);
/// Upper bound of one connect attempt (TCP, TLS, AMQP handshake, channels, own queue).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Upper bound of each step of a close (cancel, channel close, connection close).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the health watcher reads the connection and channel states.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// Content type of every publish (spec §3.1).
const CONTENT_TYPE: &str = "application/json";
/// AMQP `delivery_mode` of a persistent message.
const PERSISTENT: u8 = 2;

/// `amqp` (plain TCP) or `amqps` (TLS through rustls with the OS trust roots).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmqpProtocol {
    /// `amqp://`: plain TCP.
    Amqp,
    /// `amqps://`: TLS.
    Amqps,
}

impl AmqpProtocol {
    /// The URI scheme, `"amqp"` or `"amqps"`.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::Amqp => "amqp",
            Self::Amqps => "amqps",
        }
    }
}

/// Where and as whom to connect, and which queue is this peer's own.
#[derive(Clone)]
pub struct AmqpOptions {
    /// `amqp` or `amqps`.
    pub protocol: AmqpProtocol,
    /// Broker host name or address (an IPv6 address with or without brackets).
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Never logged, redacted from `Debug`, wiped on drop.
    pub password: SecretString,
    /// The vhost, unescaped (`"/"` for RabbitMQ's default one, [`DEFAULT_VHOST`] for Node's).
    pub vhost: String,
    /// The full name of this peer's own queue, e.g. `hmac-a.queue`.
    pub own_queue: String,
}

impl fmt::Debug for AmqpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpOptions")
            .field("protocol", &self.protocol)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &crate::secret::Redacted)
            .field("vhost", &self.vhost)
            .field("own_queue", &self.own_queue)
            .finish()
    }
}

impl AmqpOptions {
    /// The connection URI: `scheme://user:password@host:port/vhost?heartbeat=10`, with user,
    /// password and vhost percent-encoded (`/` → `%2f`) and an IPv6 host in brackets.
    /// Contains the password: never log it (use [`Self::redacted_uri`]).
    pub fn to_uri(&self) -> String {
        self.uri_with_password(&percent_encode(self.password.expose_secret()))
    }

    /// [`Self::to_uri`] with the password replaced by `***`, for logs and errors.
    pub fn redacted_uri(&self) -> String {
        self.uri_with_password("***")
    }

    fn uri_with_password(&self, password: &str) -> String {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "{}://{}:{}@{}:{}/{}?heartbeat={}",
            self.protocol.scheme(),
            percent_encode(&self.user),
            password,
            host,
            self.port,
            percent_encode(&self.vhost),
            HEARTBEAT_SECS
        )
    }

    /// The URI lapin connects with, built field by field (no escaping round trip).
    fn amqp_uri(&self) -> AMQPUri {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        AMQPUri {
            scheme: match self.protocol {
                AmqpProtocol::Amqp => AMQPScheme::AMQP,
                AmqpProtocol::Amqps => AMQPScheme::AMQPS,
            },
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo {
                    username: self.user.clone(),
                    password: self.password.expose_secret().to_owned(),
                },
                host: host.to_owned(),
                port: self.port,
            },
            vhost: self.vhost.clone(),
            query: AMQPQueryString {
                heartbeat: Some(HEARTBEAT_SECS),
                ..AMQPQueryString::default()
            },
        }
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, lowercase hex (so
/// the default vhost `/` is the customary `%2f`).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// The RabbitMQ transport. See the module documentation.
pub struct AmqpTransport {
    shared: Arc<Shared>,
}

impl fmt::Debug for AmqpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpTransport")
            .field("endpoint", &self.shared.endpoint)
            .field("own_queue", &self.shared.own_queue)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

struct Shared {
    uri: AMQPUri,
    /// The redacted URI, for logs.
    endpoint: String,
    own_queue: String,
    logger: Arc<dyn Logger>,
    state: Mutex<State>,
    /// Wakes the health watcher at once (after a failed operation or a consumer error).
    wake: Arc<Notify>,
    /// Serialises `close()` calls: a second caller returns only once the first is done.
    close_lock: tokio::sync::Mutex<()>,
    /// Held by a consumer from its first delivery until its last handler is done: a new
    /// consumer waits for the old connection's handlers to finish.
    handling: Arc<tokio::sync::Mutex<()>>,
    /// The runtime `connect` ran on: a dropped transport closes its connection there.
    runtime: Option<tokio::runtime::Handle>,
}

impl Drop for Shared {
    /// lapin keeps the password as a plain `String` in the URI: wipe our copy.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.uri.authority.userinfo.password);
    }
}

struct State {
    /// Set by `close()`: no more reconnects, publishes or consumer registrations.
    closed: bool,
    /// Incremented at every successful connect; identifies [`Live`].
    generation: u64,
    live: Option<Live>,
    /// Queues declared on the current connection.
    declared: HashSet<String>,
    /// The handler given to `start_consume`, re-registered after every connect.
    handler: Option<Arc<dyn DeliveryHandler>>,
    /// The generation whose consumer is registered (or being registered); 0 = none.
    consuming_generation: u64,
    /// The pending reconnect timer (one at a time).
    reconnect: Option<JoinHandle<()>>,
    next_delay: Duration,
    /// Consumer tasks, the current one and older ones possibly finishing a handler.
    consumers: Vec<JoinHandle<()>>,
    /// The last broker error seen by an operation, for the teardown log line.
    last_error: Option<String>,
}

/// One connection's life: the connection, its two channels and its consumer.
struct Live {
    generation: u64,
    conn: Connection,
    confirm: Channel,
    consume: Channel,
    /// Held so that lapin keeps the `basic.consume` registered.
    consumer: Option<Consumer>,
    /// Stops this connection's consumer task between two deliveries.
    stop: Arc<Notify>,
}

impl Live {
    /// `None` while the connection and both channels are open, else what went down.
    fn health(&self) -> Option<&'static str> {
        if !self.conn.status().connected() {
            Some("connection closed")
        } else if !self.confirm.status().connected() {
            Some("confirm channel closed")
        } else if !self.consume.status().connected() {
            Some("consume channel closed")
        } else {
            None
        }
    }
}

/// What a connect attempt opens before it is installed.
struct Opened {
    conn: Connection,
    confirm: Channel,
    consume: Channel,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The confirm channel of the current connection and its generation.
    fn confirm_channel(&self) -> Result<(u64, Channel), TransportError> {
        let st = self.lock();
        if st.closed {
            return Err(TransportError::NotConnected);
        }
        match &st.live {
            Some(live) => Ok((live.generation, live.confirm.clone())),
            None => Err(TransportError::NotConnected),
        }
    }

    /// Maps a broker error of generation `generation` and wakes the watcher, which tears the
    /// connection down if a channel or the connection went with it.
    fn broker_error(&self, generation: u64, err: &lapin::Error) -> TransportError {
        let mapped = map_error(err);
        {
            let mut st = self.lock();
            if st.live.as_ref().map(|l| l.generation) == Some(generation)
                && let TransportError::Amqp(msg) = &mapped
            {
                st.last_error = Some(msg.clone());
            }
        }
        self.wake.notify_waiters();
        mapped
    }

    fn is_current(&self, generation: u64) -> bool {
        self.lock().live.as_ref().map(|l| l.generation) == Some(generation)
    }
}

fn map_error(err: &lapin::Error) -> TransportError {
    match err.kind() {
        ErrorKind::InvalidChannel(_)
        | ErrorKind::InvalidChannelState(..)
        | ErrorKind::InvalidConnectionState(_) => TransportError::NotConnected,
        _ => TransportError::Amqp(err.to_string()),
    }
}

fn short_string(s: &str) -> Result<ShortString, TransportError> {
    ShortString::try_new(s).map_err(|e| TransportError::Amqp(format!("invalid name: {e}")))
}

/// `durable=true, exclusive=false, auto_delete=false, passive=false` (amqplib's
/// `assertQueue(name, {durable: true})`); the arguments are always an empty table.
fn durable_queue() -> QueueDeclareOptions {
    QueueDeclareOptions {
        passive: false,
        durable: true,
        exclusive: false,
        auto_delete: false,
        nowait: false,
    }
}

impl AmqpTransport {
    /// Connects to the broker, opens the confirm and consume channels and declares the own
    /// queue. Never fails: when the broker cannot be reached, a warning is logged and
    /// reconnects are scheduled (1 s, 2 s, 4 s … 60 s); until one succeeds, publishes and
    /// declares fail with [`TransportError::NotConnected`]. Must run on a tokio runtime.
    pub async fn connect(opts: AmqpOptions, logger: Arc<dyn Logger>) -> AmqpTransport {
        let shared = Arc::new(Shared {
            uri: opts.amqp_uri(),
            endpoint: opts.redacted_uri(),
            own_queue: opts.own_queue.clone(),
            logger,
            state: Mutex::new(State {
                closed: false,
                generation: 0,
                live: None,
                declared: HashSet::new(),
                handler: None,
                consuming_generation: 0,
                reconnect: None,
                next_delay: BACKOFF_START,
                consumers: Vec::new(),
                last_error: None,
            }),
            wake: Arc::new(Notify::new()),
            close_lock: tokio::sync::Mutex::new(()),
            handling: Arc::new(tokio::sync::Mutex::new(())),
            runtime: tokio::runtime::Handle::try_current().ok(),
        });
        if !try_connect(&shared).await {
            schedule_reconnect(&shared);
        }
        AmqpTransport { shared }
    }

    /// True while a connection with both channels open is installed and `close` was not
    /// called.
    pub fn is_connected(&self) -> bool {
        let st = self.shared.lock();
        !st.closed && st.live.as_ref().is_some_and(|l| l.health().is_none())
    }
}

impl Drop for AmqpTransport {
    /// A transport dropped without `close()` (its propagator was dropped): no reconnect,
    /// no consumer, and the connection is closed in the background on the runtime it was
    /// opened on (the broker requeues a delivery in hand). Nothing is awaited here.
    fn drop(&mut self) {
        let (timer, consumers, live) = {
            let mut st = self.shared.lock();
            st.closed = true;
            st.handler = None;
            (
                st.reconnect.take(),
                std::mem::take(&mut st.consumers),
                st.live.take(),
            )
        };
        if let Some(timer) = timer {
            timer.abort();
        }
        self.shared.wake.notify_waiters();
        for task in consumers {
            task.abort();
        }
        if let Some(live) = live {
            live.stop.notify_one();
            match &self.shared.runtime {
                Some(rt) => drop(rt.spawn(close_live(live))),
                None => drop(live),
            }
        }
    }
}

/// One connect attempt: open, install, register the consumer. False when it failed (the
/// caller schedules the next attempt).
async fn try_connect(shared: &Arc<Shared>) -> bool {
    let opened = match tokio::time::timeout(CONNECT_TIMEOUT, open(shared)).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(e)) => {
            connect_failed(shared, &e);
            return false;
        }
        Err(_) => {
            connect_failed(shared, "timed out");
            return false;
        }
    };
    let Some((generation, handler)) = install(shared, opened) else {
        return true; // closed meanwhile: nothing to retry
    };
    shared.logger.info(&format!(
        "[propagation] amqp connected to {} (own queue {})",
        shared.endpoint, shared.own_queue
    ));
    if let Some(handler) = handler
        && let Err(e) = register_consumer(shared, generation, handler).await
    {
        shared.logger.warn(&format!(
            "[propagation] amqp consume of {} failed: {e}",
            shared.own_queue
        ));
        fail(shared, generation, "consume failed");
        return false;
    }
    true
}

fn connect_failed(shared: &Shared, err: &str) {
    let delay = shared.lock().next_delay;
    shared.logger.warn(&format!(
        "[propagation] amqp connect to {} failed: {err}; retrying in {} ms",
        shared.endpoint,
        delay.as_millis()
    ));
}

/// Connects and sets the channels up. On a failure after the TCP connect, the connection is
/// closed before returning the error.
async fn open(shared: &Shared) -> Result<Opened, String> {
    let props = ConnectionProperties::default()
        .with_connection_name(format!("authcore propagation ({})", shared.own_queue).into());
    let own_queue = short_string(&shared.own_queue).map_err(|e| e.to_string())?;
    let conn = Connection::connect_uri(shared.uri.clone(), props)
        .await
        .map_err(|e| e.to_string())?;
    let channels = async {
        let confirm = conn.create_channel().await?;
        confirm
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        let consume = conn.create_channel().await?;
        consume
            .basic_qos(PREFETCH, BasicQosOptions { global: false })
            .await?;
        consume
            .queue_declare(own_queue, durable_queue(), FieldTable::default())
            .await?;
        Ok::<_, lapin::Error>((confirm, consume))
    }
    .await;
    match channels {
        Ok((confirm, consume)) => Ok(Opened {
            conn,
            confirm,
            consume,
        }),
        Err(e) => {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, conn.close(200, "OK".into())).await;
            Err(e.to_string())
        }
    }
}

/// Makes `opened` the current connection, unless `close` was called meanwhile. Returns its
/// generation and the handler to register (claimed for this generation).
fn install(
    shared: &Arc<Shared>,
    opened: Opened,
) -> Option<(u64, Option<Arc<dyn DeliveryHandler>>)> {
    let (generation, handler) = {
        let mut st = shared.lock();
        if st.closed {
            drop(st);
            tokio::spawn(close_opened(opened));
            return None;
        }
        st.generation += 1;
        st.declared.clear();
        st.next_delay = BACKOFF_START;
        st.last_error = None;
        let generation = st.generation;
        let handler = st.handler.clone();
        st.consuming_generation = if handler.is_some() { generation } else { 0 };
        st.live = Some(Live {
            generation,
            conn: opened.conn,
            confirm: opened.confirm,
            consume: opened.consume,
            consumer: None,
            stop: Arc::new(Notify::new()),
        });
        (generation, handler)
    };
    tokio::spawn(watch(
        Arc::downgrade(shared),
        shared.wake.clone(),
        generation,
    ));
    Some((generation, handler))
}

async fn close_opened(opened: Opened) {
    close_channels(&opened.consume, &opened.confirm, &opened.conn).await;
}

/// Closes the consume channel, the confirm channel and the connection, ignoring errors.
async fn close_channels(consume: &Channel, confirm: &Channel, conn: &Connection) {
    if consume.status().connected() {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, consume.close(200, "OK".into())).await;
    }
    if confirm.status().connected() {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, confirm.close(200, "OK".into())).await;
    }
    if conn.status().connected() {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, conn.close(200, "OK".into())).await;
    }
}

async fn close_live(live: Live) {
    let Live {
        conn,
        confirm,
        consume,
        consumer,
        ..
    } = live;
    drop(consumer);
    close_channels(&consume, &confirm, &conn).await;
}

/// Watches generation `generation` until it goes down (then tears it down and schedules a
/// reconnect), is replaced, or the transport is closed or dropped.
async fn watch(shared: Weak<Shared>, wake: Arc<Notify>, generation: u64) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(WATCH_INTERVAL) => {}
            _ = wake.notified() => {}
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let reason = {
            let mut st = shared.lock();
            if st.closed {
                return;
            }
            let health = match &st.live {
                Some(live) if live.generation == generation => live.health(),
                _ => return,
            };
            match health {
                None => continue,
                Some(what) => match st.last_error.take() {
                    Some(err) => format!("{what}: {err}"),
                    None => what.to_owned(),
                },
            }
        };
        fail(&shared, generation, &reason);
        return;
    }
}

/// Tears generation `generation` down (if still current) and schedules a reconnect.
fn fail(shared: &Arc<Shared>, generation: u64, reason: &str) {
    let live = {
        let mut st = shared.lock();
        if st.closed || st.live.as_ref().map(|l| l.generation) != Some(generation) {
            return;
        }
        st.consuming_generation = 0;
        st.declared.clear();
        st.live.take()
    };
    let Some(live) = live else { return };
    shared.logger.warn(&format!(
        "[propagation] amqp connection to {} lost ({reason}); reconnecting",
        shared.endpoint
    ));
    // The consumer task finishes the delivery in hand; its ack is skipped (stale), the broker
    // requeues the message when the channel closes.
    live.stop.notify_one();
    tokio::spawn(close_live(live));
    schedule_reconnect(shared);
}

/// Arms the reconnect timer, unless one is pending or the transport is closed.
fn schedule_reconnect(shared: &Arc<Shared>) {
    let mut st = shared.lock();
    if st.closed || st.reconnect.is_some() {
        return;
    }
    let delay = st.next_delay;
    st.next_delay = (delay * 2).min(BACKOFF_MAX);
    let weak = Arc::downgrade(shared);
    st.reconnect = Some(tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let Some(shared) = weak.upgrade() else {
            return;
        };
        try_connect(&shared).await;
        let again = {
            let mut st = shared.lock();
            st.reconnect = None;
            !st.closed && st.live.is_none()
        };
        if again {
            schedule_reconnect(&shared);
        }
    }));
}

/// Registers `basic.consume` on generation `generation`'s consume channel and starts the
/// task that hands its deliveries to `handler`, in order per lane.
async fn register_consumer(
    shared: &Arc<Shared>,
    generation: u64,
    handler: Arc<dyn DeliveryHandler>,
) -> Result<(), TransportError> {
    let queue = short_string(&shared.own_queue)?;
    let (consume, stop) = {
        let st = shared.lock();
        match &st.live {
            Some(live) if !st.closed && live.generation == generation => {
                (live.consume.clone(), live.stop.clone())
            }
            _ => return Err(TransportError::NotConnected),
        }
    };
    let options = BasicConsumeOptions {
        no_local: false,
        no_ack: false,
        exclusive: false,
        nowait: false,
    };
    let consumer = consume
        .basic_consume(queue, "".into(), options, FieldTable::default())
        .await
        .map_err(|e| shared.broker_error(generation, &e))?;
    // lapin hands deliveries to the delegate in order; the channel keeps that order and the
    // task below hands them to one worker per lane.
    let (tx, rx) = mpsc::unbounded_channel::<DeliveryResult>();
    consumer.set_delegate(move |delivery: DeliveryResult| {
        let _ = tx.send(delivery);
        std::future::ready(())
    });
    let mut st = shared.lock();
    if st.closed {
        return Err(TransportError::NotConnected);
    }
    let Some(live) = st.live.as_mut().filter(|l| l.generation == generation) else {
        return Err(TransportError::NotConnected);
    };
    live.consumer = Some(consumer);
    let task = tokio::spawn(consume_loop(
        Arc::downgrade(shared),
        generation,
        rx,
        stop,
        shared.handling.clone(),
        handler,
    ));
    st.consumers.retain(|t| !t.is_finished());
    st.consumers.push(task);
    Ok(())
}

/// One lane's deliveries waiting for the lane's worker, by lane key.
type Lanes = Arc<Mutex<std::collections::HashMap<String, std::collections::VecDeque<Delivery>>>>;

/// What the workers of one consumer share.
struct LaneCtx {
    shared: Weak<Shared>,
    generation: u64,
    handler: Arc<dyn DeliveryHandler>,
    lanes: Lanes,
    /// Set when the consumer stops: workers finish the delivery in hand and take no new one
    /// (the broker requeues the unacked rest when the channel closes).
    stopping: std::sync::atomic::AtomicBool,
    /// Wakes workers pausing before a nack when the consumer stops.
    halt: Notify,
    /// Since when handlers have been failing with no success in between (`None`: the last
    /// one succeeded). The pause before a nack is as long as this failure streak so far
    /// (50 ms at least, 5 s at most): it grows while a store outage lasts, whatever the
    /// number of lanes failing at once, and a retry comes at most one streak-length late.
    failing_since: Mutex<Option<std::time::Instant>>,
}

/// Hands deliveries to the handler: up to [`PREFETCH`] unacked at once, each lane
/// ([`DeliveryHandler::lane`]) in delivery order, one delivery at a time per lane.
async fn consume_loop(
    shared: Weak<Shared>,
    generation: u64,
    mut rx: mpsc::UnboundedReceiver<DeliveryResult>,
    stop: Arc<Notify>,
    handling: Arc<tokio::sync::Mutex<()>>,
    handler: Arc<dyn DeliveryHandler>,
) {
    let ctx = Arc::new(LaneCtx {
        shared,
        generation,
        handler,
        lanes: Arc::default(),
        stopping: std::sync::atomic::AtomicBool::new(false),
        halt: Notify::new(),
        failing_since: Mutex::new(None),
    });
    let mut workers = tokio::task::JoinSet::new();
    // Held from the first delivery until every worker of this consumer is done: the consumer
    // of a new connection waits for handlers still running on the replaced one.
    let mut turn = None;
    loop {
        let next = tokio::select! {
            biased;
            _ = stop.notified() => break,
            next = rx.recv() => next,
        };
        let Some(next) = next else { break };
        while workers.try_join_next().is_some() {}
        match next {
            Ok(Some(delivery)) => {
                if turn.is_none() {
                    // A close meanwhile leaves this delivery unacked (the broker requeues it).
                    turn = Some(tokio::select! {
                        biased;
                        _ = stop.notified() => break,
                        turn = handling.clone().lock_owned() => turn,
                    });
                }
                let lane = ctx.handler.lane(&delivery.data);
                let start = {
                    let mut lanes = ctx.lanes.lock().unwrap_or_else(|e| e.into_inner());
                    match lanes.get_mut(&lane) {
                        Some(queue) => {
                            queue.push_back(delivery);
                            None
                        }
                        None => {
                            lanes.insert(lane.clone(), Default::default());
                            Some(delivery)
                        }
                    }
                };
                if let Some(delivery) = start {
                    workers.spawn(lane_worker(ctx.clone(), lane, delivery));
                }
            }
            Ok(None) => {
                let Some(shared) = ctx.shared.upgrade() else {
                    break;
                };
                let closed = shared.lock().closed;
                if !closed && shared.is_current(generation) {
                    shared.logger.warn(&format!(
                        "[propagation] amqp consumer of {} was cancelled; consuming resumes \
                         after the next reconnect",
                        shared.own_queue
                    ));
                }
                break;
            }
            Err(e) => {
                let Some(shared) = ctx.shared.upgrade() else {
                    break;
                };
                if shared.is_current(generation) && !shared.lock().closed {
                    shared.logger.warn(&format!(
                        "[propagation] amqp consumer of {} failed: {e}",
                        shared.own_queue
                    ));
                    shared.broker_error(generation, &e);
                }
            }
        }
    }
    ctx.stopping
        .store(true, std::sync::atomic::Ordering::SeqCst);
    // Workers pausing before a nack wake up (the pause is cut short; the nack still goes).
    ctx.halt.notify_waiters();
    while workers.join_next().await.is_some() {}
    drop(turn);
}

/// Handles `first`, then the deliveries queued behind it in its lane, in order, until the
/// lane is empty (the lane is then removed) or the consumer stops.
async fn lane_worker(ctx: Arc<LaneCtx>, lane: String, first: Delivery) {
    let mut next = Some(first);
    while let Some(delivery) = next {
        if !handle_one(&ctx, delivery).await {
            break;
        }
        let mut lanes = ctx.lanes.lock().unwrap_or_else(|e| e.into_inner());
        next = if ctx.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            None
        } else {
            lanes.get_mut(&lane).and_then(|q| q.pop_front())
        };
        if next.is_none() {
            lanes.remove(&lane);
        }
    }
}

/// The [`SIGNATURE_HEADER`] of a delivery, when present as a string (long or short).
fn signature_header(properties: &BasicProperties) -> Option<String> {
    let headers = properties.headers().as_ref()?;
    match headers.inner().get(SIGNATURE_HEADER)? {
        AMQPValue::LongString(s) => String::from_utf8(s.as_bytes().to_vec()).ok(),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

/// Handles one delivery and acks it (nacks it with requeue after a pause when the handler
/// failed). False when this consumer's connection is gone (nothing more to do here).
async fn handle_one(ctx: &LaneCtx, delivery: Delivery) -> bool {
    use std::sync::atomic::Ordering;
    let Delivery {
        data,
        acker,
        properties,
        ..
    } = delivery;
    let result = ctx
        .handler
        .handle_signed(data, signature_header(&properties))
        .await;
    let Some(shared) = ctx.shared.upgrade() else {
        return false;
    };
    if !shared.is_current(ctx.generation) {
        // The connection was replaced: the broker requeued this delivery when its channel
        // closed, and its tag means nothing on the new channel.
        return false;
    }
    let outcome = match result {
        Ok(()) => {
            *ctx.failing_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
            acker.ack(BasicAckOptions { multiple: false }).await
        }
        Err(err) => {
            let pause = {
                let mut since = ctx.failing_since.lock().unwrap_or_else(|e| e.into_inner());
                since
                    .get_or_insert_with(std::time::Instant::now)
                    .elapsed()
                    .clamp(
                        super::transport::REQUEUE_PAUSE_START,
                        super::transport::REQUEUE_PAUSE_MAX,
                    )
            };
            shared.logger.warn(&format!(
                "[propagation] handling a message from {} failed, requeued: {err}",
                shared.own_queue
            ));
            let halted = ctx.halt.notified();
            tokio::pin!(halted);
            halted.as_mut().enable();
            if !ctx.stopping.load(Ordering::SeqCst) {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = halted => {}
                }
            }
            acker
                .nack(BasicNackOptions {
                    multiple: false,
                    requeue: true,
                })
                .await
        }
    };
    if let Err(e) = outcome {
        shared.logger.warn(&format!(
            "[propagation] amqp ack/nack on {} failed: {e}",
            shared.own_queue
        ));
        shared.broker_error(ctx.generation, &e);
    }
    true
}

#[async_trait]
impl Transport for AmqpTransport {
    async fn ensure_queue_declared(&self, queue: &str) -> Result<(), TransportError> {
        let (generation, confirm) = self.shared.confirm_channel()?;
        if self.shared.lock().declared.contains(queue) {
            return Ok(());
        }
        let name = short_string(queue)?;
        confirm
            .queue_declare(name, durable_queue(), FieldTable::default())
            .await
            .map_err(|e| self.shared.broker_error(generation, &e))?;
        let mut st = self.shared.lock();
        if st.live.as_ref().map(|l| l.generation) == Some(generation) {
            st.declared.insert(queue.to_owned());
        }
        Ok(())
    }

    async fn publish(&self, queue: &str, body: &[u8]) -> Result<(), TransportError> {
        self.publish_signed(queue, body, None).await
    }

    /// A signed event carries one more property than a v1 one: the headers table with the
    /// single entry [`SIGNATURE_HEADER`] (a long string). amqplib peers ignore headers.
    async fn publish_signed(
        &self,
        queue: &str,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<(), TransportError> {
        let (generation, confirm) = self.shared.confirm_channel()?;
        let routing_key = short_string(queue)?;
        let mut properties = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_content_type(CONTENT_TYPE.into());
        if let Some(signature) = signature {
            let mut headers = FieldTable::default();
            headers.insert(
                SIGNATURE_HEADER.into(),
                AMQPValue::LongString(signature.as_bytes().to_vec().into()),
            );
            properties = properties.with_headers(headers);
        }
        let options = BasicPublishOptions {
            mandatory: false,
            immediate: false,
        };
        let confirmation = confirm
            .basic_publish("".into(), routing_key, options, body, properties)
            .await
            .map_err(|e| self.shared.broker_error(generation, &e))?
            .await
            .map_err(|e| self.shared.broker_error(generation, &e))?;
        match confirmation {
            Confirmation::Ack(_) => Ok(()),
            Confirmation::Nack(_) => Err(TransportError::Nacked),
            Confirmation::NotRequested => Err(TransportError::Amqp(
                "publisher confirms are not enabled on the channel".to_owned(),
            )),
        }
    }

    /// Registers the consumer now if connected, else at the next connect. A second call fails.
    /// When the registration itself fails, the error is returned, and the handler stays
    /// installed: the next reconnect registers it.
    async fn start_consume(&self, handler: Arc<dyn DeliveryHandler>) -> Result<(), TransportError> {
        let generation = {
            let mut st = self.shared.lock();
            if st.closed {
                return Err(TransportError::NotConnected);
            }
            if st.handler.is_some() {
                return Err(TransportError::Amqp(format!(
                    "start_consume was already called for {}",
                    self.shared.own_queue
                )));
            }
            st.handler = Some(handler.clone());
            match st.live.as_ref().map(|l| l.generation) {
                Some(generation) if st.consuming_generation != generation => {
                    st.consuming_generation = generation;
                    Some(generation)
                }
                _ => None,
            }
        };
        match generation {
            Some(generation) => register_consumer(&self.shared, generation, handler).await,
            None => Ok(()),
        }
    }

    async fn close(&self) {
        let shared = &self.shared;
        let _serial = shared.close_lock.lock().await;
        let (timer, current) = {
            let mut st = shared.lock();
            if st.closed && st.live.is_none() && st.consumers.is_empty() {
                return;
            }
            st.closed = true;
            let current = st.live.as_ref().map(|l| {
                (
                    l.consume.clone(),
                    l.consumer.as_ref().map(Consumer::tag),
                    l.stop.clone(),
                )
            });
            (st.reconnect.take(), current)
        };
        if let Some(timer) = timer {
            timer.abort();
            let _ = timer.await;
        }
        shared.wake.notify_waiters();
        if let Some((consume, tag, stop)) = current {
            // The consumer task picks no new delivery; the broker sends no new one.
            stop.notify_one();
            if let Some(tag) = tag
                && consume.status().connected()
            {
                let _ = tokio::time::timeout(
                    CLOSE_TIMEOUT,
                    consume.basic_cancel(tag, BasicCancelOptions::default()),
                )
                .await;
            }
        }
        // Wait for the delivery in hand (and its ack) before closing anything.
        let tasks = std::mem::take(&mut shared.lock().consumers);
        for task in tasks {
            let _ = task.await;
        }
        let live = shared.lock().live.take();
        if let Some(live) = live {
            close_live(live).await;
        }
        shared.logger.info(&format!(
            "[propagation] amqp transport to {} closed",
            shared.endpoint
        ));
    }
}
