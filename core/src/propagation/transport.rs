//! The broker seam of credential propagation.
//!
//! [`Transport`] is what the propagator needs from a broker (wire v1, spec §3.1): declare a
//! durable queue, publish with a publisher confirm, consume the peer's own queue (in order
//! per [`DeliveryHandler::lane`]), ack on success and nack-with-requeue on a handler error. Two
//! implementations:
//! - [`InProcessBroker`] / [`InProcessTransport`]: the embedded default. Durable queues in
//!   this process, one consumer per queue, FIFO, at most one unacked delivery per consumer.
//! - [`super::amqp::AmqpTransport`]: RabbitMQ over `lapin`, wire-compatible with Node peers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

/// First pause before a failed delivery is nacked (requeued); it doubles with each
/// consecutive failure, up to [`REQUEUE_PAUSE_MAX`], and starts over after a success. A
/// store outage (or a poison message) is retried with backoff, not in a hot loop.
pub const REQUEUE_PAUSE_START: Duration = Duration::from_millis(50);
/// Cap of the requeue pause.
pub const REQUEUE_PAUSE_MAX: Duration = Duration::from_secs(5);

/// The pause before nacking after `failures` consecutive failures (1 = the first).
pub fn requeue_pause(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    REQUEUE_PAUSE_START
        .saturating_mul(1 << doublings)
        .min(REQUEUE_PAUSE_MAX)
}

/// A broker failure, as the propagator sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No connection (at boot before the first connect, or between reconnects).
    #[error("amqp not connected")]
    NotConnected,
    /// The broker nacked a publish (no confirm).
    #[error("publish was nacked by the broker")]
    Nacked,
    /// The transport was closed by [`Transport::close`].
    #[error("transport closed")]
    Closed,
    /// Any other broker or channel error.
    #[error("amqp error: {0}")]
    Amqp(String),
}

impl TransportError {
    /// Stable machine-readable code (`TRANSPORT_ERROR` as the propagator reports it,
    /// refined here).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotConnected => "TRANSPORT_NOT_CONNECTED",
            Self::Nacked => "TRANSPORT_NACKED",
            Self::Closed => "TRANSPORT_CLOSED",
            Self::Amqp(_) => "TRANSPORT_AMQP",
        }
    }

    /// 503: the broker is unavailable or refused the message.
    pub fn status(&self) -> u16 {
        503
    }
}

/// What the consumer of the peer's own queue does with one delivery. `Ok` acks it; `Err`
/// nacks it with requeue (the broker redelivers it).
#[async_trait]
pub trait DeliveryHandler: Send + Sync + 'static {
    /// Handles one delivery's body: `Ok` acks it, `Err` nacks it with requeue.
    async fn handle(&self, body: Vec<u8>) -> Result<(), String>;
    /// [`Self::handle`] with the delivery's signature header
    /// ([`super::wire::SIGNATURE_HEADER`], `None` when absent). Transports call this one;
    /// the default ignores the signature.
    async fn handle_signed(&self, body: Vec<u8>, signature: Option<String>) -> Result<(), String> {
        let _ = signature;
        self.handle(body).await
    }
    /// The ordering lane of a delivery: a transport that handles several deliveries at once
    /// runs those of one lane one at a time, in delivery order. The default puts every
    /// delivery in one lane (strictly one at a time).
    fn lane(&self, body: &[u8]) -> String {
        let _ = body;
        String::new()
    }
}

/// The broker operations of wire v1.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Declares `queue` durable, non-exclusive, not auto-delete, with no arguments, unless it
    /// was already declared during this connection's life.
    async fn ensure_queue_declared(&self, queue: &str) -> Result<(), TransportError>;
    /// Publishes `body` to `queue` through the default exchange (routing key = queue),
    /// `delivery_mode = 2`, `content_type = application/json`, nothing else; resolves once
    /// the broker confirms.
    async fn publish(&self, queue: &str, body: &[u8]) -> Result<(), TransportError>;
    /// [`Self::publish`] with the signature header ([`super::wire::SIGNATURE_HEADER`]) when
    /// `signature` is given (the only other property then). The default, for transports
    /// that carry no headers, refuses a signature rather than dropping it.
    async fn publish_signed(
        &self,
        queue: &str,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<(), TransportError> {
        match signature {
            None => self.publish(queue, body).await,
            Some(_) => Err(TransportError::Amqp(
                "this transport carries no message headers (signed events)".to_owned(),
            )),
        }
    }
    /// Registers the consumer of the own queue (manual acks; deliveries of one lane in order, one at a time). Called once, after
    /// the handler is ready; a transport re-registers it after every reconnect.
    async fn start_consume(&self, handler: Arc<dyn DeliveryHandler>) -> Result<(), TransportError>;
    /// Stops consuming and reconnecting, waits for a delivery being handled, then closes.
    /// Later publishes fail with [`TransportError::NotConnected`].
    async fn close(&self);
}

// ---------------------------------------------------------------------------------------
// In-process broker
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Queue {
    /// Body and signature header of each message.
    messages: VecDeque<(Vec<u8>, Option<String>)>,
    notify: Arc<Notify>,
    consumed: bool,
    /// Deliveries its consumer holds (taken from `messages`, not yet acked or nacked).
    unacked: usize,
}

#[derive(Default)]
struct BrokerState {
    queues: HashMap<String, Queue>,
}

/// An in-process broker: named durable queues shared by every [`InProcessTransport`] made
/// from it. Messages sent to a queue nobody declared are dropped, as the default exchange
/// drops unroutable messages.
#[derive(Clone, Default)]
pub struct InProcessBroker {
    state: Arc<Mutex<BrokerState>>,
}

impl std::fmt::Debug for InProcessBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessBroker").finish_non_exhaustive()
    }
}

impl InProcessBroker {
    /// A new in-process broker (its own mesh).
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide broker called `name`: every call with the same name returns the
    /// same broker (how bindings reach one mesh from separate `createPropagator` calls,
    /// e.g. `memory://demo`).
    pub fn named(name: &str) -> Self {
        static REGISTRY: std::sync::OnceLock<Mutex<HashMap<String, InProcessBroker>>> =
            std::sync::OnceLock::new();
        let mut map = REGISTRY
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(name.to_owned()).or_default().clone()
    }

    /// A transport for the peer whose own queue is `own_queue` (a full queue name,
    /// `hmac-<name>.queue`). The queue is declared at once, as a connect does.
    pub fn transport(&self, own_queue: &str) -> InProcessTransport {
        self.declare(own_queue);
        InProcessTransport {
            broker: self.clone(),
            own_queue: own_queue.to_owned(),
            inner: Arc::new(Mutex::new(TransportInner::default())),
        }
    }

    /// Messages waiting in `queue` (`None` when it was never declared).
    pub fn depth(&self, queue: &str) -> Option<usize> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.queues.get(queue).map(|q| q.messages.len())
    }

    /// Messages of this broker still to be handled: those waiting in a queue that has a
    /// consumer plus the deliveries consumers hold (not yet acked or nacked), read under
    /// one lock. A handler publishes before its delivery is acked, so 0 means every peer
    /// of the broker is idle (how a harness knows that a step is over). Messages waiting
    /// in a queue nobody consumes (a harness's counterpart queue) are not counted.
    pub fn in_flight(&self) -> usize {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.queues
            .values()
            .map(|q| q.unacked + if q.consumed { q.messages.len() } else { 0 })
            .sum()
    }

    /// Declares `queue`, as a peer's boot or `ensure_queue_declared` does (a harness playing
    /// a counterpart peer declares its own queue so ACKs sent to it are kept).
    pub fn declare_queue(&self, queue: &str) {
        self.declare(queue);
    }

    /// Publishes `body` to `queue` as a counterpart peer would: dropped when nobody declared
    /// the queue (the default exchange), delivered to its consumer otherwise.
    pub fn inject(&self, queue: &str, body: &[u8]) {
        self.push(queue, body, None);
    }

    /// Takes every message waiting in `queue`, oldest first (a queue nobody consumes: what
    /// peers published to a harness's counterpart). Empty when the queue was never declared.
    pub fn take(&self, queue: &str) -> Vec<Vec<u8>> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.queues
            .get_mut(queue)
            .map(|q| q.messages.drain(..).map(|(body, _)| body).collect())
            .unwrap_or_default()
    }

    fn declare(&self, queue: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.queues.entry(queue.to_owned()).or_default();
    }

    fn push(&self, queue: &str, body: &[u8], signature: Option<&str>) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = st.queues.get_mut(queue) {
            q.messages
                .push_back((body.to_vec(), signature.map(str::to_owned)));
            q.notify.notify_one();
        }
    }
}

/// The delivery a consumer holds: acked when dropped (also when the consumer task is
/// dropped mid-handler), or put back at the head of its queue by [`Unacked::requeue`].
struct Unacked<'a> {
    broker: &'a InProcessBroker,
    queue: &'a str,
}

impl Unacked<'_> {
    /// nack + requeue: the message is back in its queue before the delivery is released,
    /// so [`InProcessBroker::in_flight`] never reads 0 in between.
    fn requeue(self, body: Vec<u8>, signature: Option<String>) {
        let mut st = self.broker.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = st.queues.get_mut(self.queue) {
            q.messages.push_front((body, signature));
        }
        drop(st); // before `self` releases the delivery (its own lock)
    }
}

impl Drop for Unacked<'_> {
    fn drop(&mut self) {
        let mut st = self.broker.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = st.queues.get_mut(self.queue) {
            q.unacked = q.unacked.saturating_sub(1);
        }
    }
}

#[derive(Default)]
struct TransportInner {
    closed: bool,
    consumer: Option<tokio::task::JoinHandle<()>>,
    stop: Option<Arc<Notify>>,
}

/// One peer's connection to an [`InProcessBroker`].
pub struct InProcessTransport {
    broker: InProcessBroker,
    own_queue: String,
    inner: Arc<Mutex<TransportInner>>,
}

impl std::fmt::Debug for InProcessTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessTransport")
            .field("own_queue", &self.own_queue)
            .finish_non_exhaustive()
    }
}

impl InProcessTransport {
    fn check_open(&self) -> Result<(), TransportError> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.closed {
            Err(TransportError::NotConnected)
        } else {
            Ok(())
        }
    }
}

impl Drop for InProcessTransport {
    /// A transport dropped without `close()`: its consumer stops after the delivery in
    /// hand (a message its handler could not take goes back to the head of the queue) and
    /// then releases the queue. Nothing is awaited here.
    fn drop(&mut self) {
        let stop = {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.closed = true;
            inner.consumer.take();
            inner.stop.take()
        };
        if let Some(stop) = stop {
            stop.notify_one();
        }
    }
}

#[async_trait]
impl Transport for InProcessTransport {
    async fn ensure_queue_declared(&self, queue: &str) -> Result<(), TransportError> {
        self.check_open()?;
        self.broker.declare(queue);
        Ok(())
    }

    async fn publish(&self, queue: &str, body: &[u8]) -> Result<(), TransportError> {
        self.publish_signed(queue, body, None).await
    }

    async fn publish_signed(
        &self,
        queue: &str,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<(), TransportError> {
        self.check_open()?;
        self.broker.push(queue, body, signature);
        Ok(())
    }

    async fn start_consume(&self, handler: Arc<dyn DeliveryHandler>) -> Result<(), TransportError> {
        let stop = Arc::new(Notify::new());
        let notify = {
            let mut st = self.broker.state.lock().unwrap_or_else(|e| e.into_inner());
            let q = st.queues.entry(self.own_queue.clone()).or_default();
            if q.consumed {
                return Err(TransportError::Amqp(format!(
                    "queue {} already has a consumer",
                    self.own_queue
                )));
            }
            q.consumed = true;
            q.notify.clone()
        };
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.closed {
            return Err(TransportError::NotConnected);
        }
        let broker = self.broker.clone();
        let queue = self.own_queue.clone();
        let stop_rx = stop.clone();
        inner.stop = Some(stop);
        inner.consumer = Some(tokio::spawn(async move {
            let consume = async {
                let mut failures = 0u32;
                loop {
                    let next = {
                        let mut st = broker.state.lock().unwrap_or_else(|e| e.into_inner());
                        st.queues.get_mut(&queue).and_then(|q| {
                            let m = q.messages.pop_front()?;
                            q.unacked += 1;
                            Some(m)
                        })
                    };
                    let Some((body, signature)) = next else {
                        tokio::select! {
                            _ = notify.notified() => continue,
                            _ = stop_rx.notified() => return,
                        }
                    };
                    // One unacked delivery at a time (prefetch 1). The handler runs to its end
                    // even when close() is called meanwhile: close waits for it.
                    let held = Unacked {
                        broker: &broker,
                        queue: &queue,
                    };
                    if handler
                        .handle_signed(body.clone(), signature.clone())
                        .await
                        .is_ok()
                    {
                        failures = 0;
                        drop(held); // ack
                    } else {
                        // nack + requeue: back to the head of the queue, after a pause that
                        // grows while the failures go on (a store outage is not a hot loop).
                        failures = failures.saturating_add(1);
                        held.requeue(body, signature);
                        tokio::select! {
                            _ = tokio::time::sleep(requeue_pause(failures)) => {}
                            _ = stop_rx.notified() => return,
                        }
                    }
                }
            };
            consume.await;
            // Stopped (close, or the transport was dropped): the queue may be consumed again.
            let mut st = broker.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(q) = st.queues.get_mut(&queue) {
                q.consumed = false;
            }
        }));
        Ok(())
    }

    async fn close(&self) {
        let (task, stop) = {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.closed = true;
            (inner.consumer.take(), inner.stop.take())
        };
        if let Some(stop) = stop {
            stop.notify_one();
        }
        if let Some(task) = task {
            let _ = task.await;
        }
        let mut st = self.broker.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = st.queues.get_mut(&self.own_queue) {
            q.consumed = false;
        }
    }
}
