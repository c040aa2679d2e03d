//! `AmqpTransport` against a real RabbitMQ at 127.0.0.1:5672 (guest/guest, vhost `/`).
//!
//! These tests fail, they do not skip, when the broker is down. Every test uses queue names
//! of its own (process id, counter and random suffix) and deletes them at the end. A raw
//! `lapin` connection inspects what the transport did on the broker.

use crate::prop_support::amqp_options as opts;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use authcore::propagation::amqp::{AmqpProtocol, AmqpTransport};
use authcore::propagation::{DeliveryHandler, Logger, Transport, TransportError};
use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ErrorKind};
use tokio::sync::Notify;

const BROKER: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

fn unique(tag: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let mut rnd = [0u8; 4];
    getrandom::fill(&mut rnd).expect("getrandom");
    format!(
        "authcore-test-{tag}-{}-{}-{}.queue",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        hex::encode(rnd)
    )
}

/// Keeps every log line, to check the `[propagation]` prefix and that no password leaks.
#[derive(Default)]
struct CaptureLogger {
    lines: Mutex<Vec<String>>,
}

impl CaptureLogger {
    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Logger for CaptureLogger {
    fn info(&self, msg: &str) {
        self.lines.lock().unwrap().push(format!("info {msg}"));
    }
    fn warn(&self, msg: &str) {
        self.lines.lock().unwrap().push(format!("warn {msg}"));
    }
    fn error(&self, msg: &str) {
        self.lines.lock().unwrap().push(format!("error {msg}"));
    }
}

async fn connect(own_queue: &str) -> (AmqpTransport, Arc<CaptureLogger>) {
    let logger = Arc::new(CaptureLogger::default());
    let t = AmqpTransport::connect(opts(own_queue), logger.clone()).await;
    assert!(
        t.is_connected(),
        "RabbitMQ must be running at 127.0.0.1:5672 (guest/guest); log: {:?}",
        logger.lines()
    );
    (t, logger)
}

/// A raw connection for inspection and cleanup.
struct Raw {
    conn: Connection,
}

impl Raw {
    async fn new() -> Raw {
        let conn = Connection::connect(BROKER, ConnectionProperties::default())
            .await
            .expect("RabbitMQ must be running at 127.0.0.1:5672 (guest/guest)");
        Raw { conn }
    }

    async fn channel(&self) -> Channel {
        self.conn.create_channel().await.expect("create channel")
    }

    /// Ready messages in `queue` (a passive declare, which fails when it does not exist).
    async fn depth(&self, queue: &str) -> u32 {
        self.channel()
            .await
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("passive declare")
            .message_count()
    }

    async fn consumers(&self, queue: &str) -> u32 {
        self.channel()
            .await
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("passive declare")
            .consumer_count()
    }

    async fn delete(&self, queues: &[&str]) {
        let ch = self.channel().await;
        for q in queues {
            ch.queue_delete((*q).into(), QueueDeleteOptions::default())
                .await
                .expect("queue delete");
        }
    }

    async fn close(self) {
        let _ = self.conn.close(200, "OK".into()).await;
    }
}

fn is_406(err: &lapin::Error) -> bool {
    matches!(err.kind(), ErrorKind::ProtocolError(e) if e.get_id() == 406)
}

async fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Records bodies, fails the first `fail_first` calls, sleeps `delay` per call and flags
/// any overlap between two calls.
struct Recorder {
    bodies: Mutex<Vec<Vec<u8>>>,
    in_flight: AtomicUsize,
    overlapped: AtomicBool,
    fail_first: usize,
    calls: AtomicUsize,
    delay: Duration,
    started: Notify,
    finished: AtomicBool,
}

impl Recorder {
    fn new(fail_first: usize, delay: Duration) -> Arc<Recorder> {
        Arc::new(Recorder {
            bodies: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            overlapped: AtomicBool::new(false),
            fail_first,
            calls: AtomicUsize::new(0),
            delay,
            started: Notify::new(),
            finished: AtomicBool::new(false),
        })
    }

    fn bodies(&self) -> Vec<Vec<u8>> {
        self.bodies.lock().unwrap().clone()
    }
}

#[async_trait]
impl DeliveryHandler for Recorder {
    async fn handle(&self, body: Vec<u8>) -> Result<(), String> {
        if self.in_flight.fetch_add(1, Ordering::SeqCst) != 0 {
            self.overlapped.store(true, Ordering::SeqCst);
        }
        self.started.notify_one();
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.bodies.lock().unwrap().push(body);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.finished.store(true, Ordering::SeqCst);
        if n < self.fail_first {
            Err(format!("induced failure {n}"))
        } else {
            Ok(())
        }
    }
}

// ------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------

#[test]
fn uri_is_percent_encoded_and_redacted() {
    let mut o = opts("hmac-a.queue");
    o.user = "us@r name".into();
    o.password = "p:w/d%é".into();
    let uri = o.to_uri();
    assert_eq!(
        uri,
        "amqp://us%40r%20name:p%3aw%2fd%25%c3%a9@127.0.0.1:5672/%2f?heartbeat=10"
    );
    // lapin's own parser decodes it back to the same fields.
    let parsed = AMQPUri::from_str(&uri).expect("parse");
    assert_eq!(parsed.authority.userinfo.username, "us@r name");
    assert_eq!(parsed.authority.userinfo.password, "p:w/d%é");
    assert_eq!(parsed.vhost, "/");
    assert_eq!(parsed.authority.port, 5672);
    assert_eq!(parsed.query.heartbeat, Some(10));

    o.vhost = "hmac-credentials".into();
    o.protocol = AmqpProtocol::Amqps;
    assert_eq!(
        o.redacted_uri(),
        "amqps://us%40r%20name:***@127.0.0.1:5672/hmac-credentials?heartbeat=10"
    );
    assert!(!format!("{o:?}").contains("p:w/d"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_declares_own_queue_durable_without_arguments() {
    let q = unique("own");
    let (t, logger) = connect(&q).await;
    let raw = Raw::new().await;

    // It exists and is not exclusive (a passive declare from another connection works).
    assert_eq!(raw.depth(&q).await, 0);
    // Equivalent: durable, not auto-delete, no arguments.
    raw.channel()
        .await
        .queue_declare(
            q.as_str().into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await
        .expect("durable redeclare with empty arguments");
    // Not equivalent: durable=false gives 406.
    let err = raw
        .channel()
        .await
        .queue_declare(
            q.as_str().into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect_err("durable=false must be inequivalent");
    assert!(is_406(&err), "{err}");
    // Not equivalent: an argument the queue does not have gives 406.
    let mut args = FieldTable::default();
    args.insert("x-max-length".into(), AMQPValue::LongInt(10));
    let err = raw
        .channel()
        .await
        .queue_declare(q.as_str().into(), QueueDeclareOptions::durable(), args)
        .await
        .expect_err("an extra argument must be inequivalent");
    assert!(is_406(&err), "{err}");

    let lines = logger.lines();
    assert!(
        lines.iter().all(|l| l.contains("[propagation]")),
        "{lines:?}"
    );
    t.close().await;
    assert!(!t.is_connected());
    raw.delete(&[&q]).await;
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_sets_only_persistent_and_json_content_type() {
    let own = unique("pub-own");
    let target = unique("pub-target");
    let (t, _logger) = connect(&own).await;
    let raw = Raw::new().await;

    t.ensure_queue_declared(&target).await.expect("declare");
    // Second call: served from the cache (and would be harmless anyway).
    t.ensure_queue_declared(&target)
        .await
        .expect("declare again");
    let body = br#"{"type":"credential.apply","clientId":"c\u00e9","ts":1}"#.to_vec();
    t.publish(&target, &body).await.expect("publish");

    let msg = raw
        .channel()
        .await
        .basic_get(target.as_str().into(), BasicGetOptions { no_ack: true })
        .await
        .expect("basic_get")
        .expect("one message");
    assert_eq!(msg.delivery.data, body);
    assert_eq!(msg.delivery.exchange.as_str(), "");
    assert_eq!(msg.delivery.routing_key.as_str(), target);
    let p = &msg.delivery.properties;
    assert_eq!(*p.delivery_mode(), Some(2));
    assert_eq!(
        p.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json")
    );
    assert_eq!(*p.message_id(), None);
    assert_eq!(*p.timestamp(), None);
    assert_eq!(*p.headers(), None);
    assert_eq!(*p.correlation_id(), None);
    assert_eq!(*p.reply_to(), None);
    assert_eq!(*p.content_encoding(), None);
    assert_eq!(*p.kind(), None);
    // And nothing else either (priority, expiration, user/app/cluster id).
    assert_eq!(
        *p,
        BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
    );

    // A signed event (authcore extension) adds the headers table with the signature, and
    // nothing else.
    t.publish_signed(&target, &body, Some("sha256=00ff"))
        .await
        .expect("publish signed");
    let msg = raw
        .channel()
        .await
        .basic_get(target.as_str().into(), BasicGetOptions { no_ack: true })
        .await
        .expect("basic_get")
        .expect("one message");
    assert_eq!(msg.delivery.data, body);
    let mut headers = FieldTable::default();
    headers.insert(
        "x-authcore-signature".into(),
        AMQPValue::LongString("sha256=00ff".into()),
    );
    assert_eq!(
        msg.delivery.properties,
        BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_headers(headers)
    );

    t.close().await;
    assert_eq!(
        t.publish(&target, b"{}").await,
        Err(TransportError::NotConnected)
    );
    raw.delete(&[&own, &target]).await;
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_delivers_fifo_one_at_a_time_and_acks() {
    let own = unique("fifo");
    let (t, _logger) = connect(&own).await;
    let raw = Raw::new().await;

    for i in 1..=3 {
        t.publish(&own, format!("{{\"n\":{i}}}").as_bytes())
            .await
            .expect("publish");
    }
    assert_eq!(raw.depth(&own).await, 3);

    let rec = Recorder::new(0, Duration::from_millis(50));
    t.start_consume(rec.clone()).await.expect("start_consume");
    assert_eq!(
        t.start_consume(rec.clone()).await,
        Err(TransportError::Amqp(format!(
            "start_consume was already called for {own}"
        )))
    );
    wait_until("3 deliveries", Duration::from_secs(5), || {
        rec.bodies().len() == 3
    })
    .await;
    assert_eq!(
        rec.bodies(),
        vec![
            b"{\"n\":1}".to_vec(),
            b"{\"n\":2}".to_vec(),
            b"{\"n\":3}".to_vec()
        ]
    );
    assert!(
        !rec.overlapped.load(Ordering::SeqCst),
        "handler calls overlapped"
    );
    assert_eq!(raw.consumers(&own).await, 1);

    // close() waits for the last ack; an unacked message would be requeued by the close.
    t.close().await;
    assert_eq!(raw.depth(&own).await, 0);
    assert_eq!(raw.consumers(&own).await, 0);
    raw.delete(&[&own]).await;
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_error_nacks_with_requeue_then_acks() {
    let own = unique("nack");
    let (t, logger) = connect(&own).await;
    let raw = Raw::new().await;

    let rec = Recorder::new(1, Duration::from_millis(10));
    t.start_consume(rec.clone()).await.expect("start_consume");
    t.publish(&own, b"{\"poison\":false}")
        .await
        .expect("publish");
    wait_until("a redelivery", Duration::from_secs(5), || {
        rec.bodies().len() == 2
    })
    .await;
    assert_eq!(
        rec.bodies(),
        vec![
            b"{\"poison\":false}".to_vec(),
            b"{\"poison\":false}".to_vec()
        ]
    );
    t.close().await;
    assert_eq!(rec.calls.load(Ordering::SeqCst), 2);
    assert_eq!(raw.depth(&own).await, 0);
    assert!(
        logger
            .lines()
            .iter()
            .any(|l| l.starts_with("warn [propagation]") && l.contains("induced failure 0")),
        "{:?}",
        logger.lines()
    );
    raw.delete(&[&own]).await;
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_is_not_fatal() {
    let logger = Arc::new(CaptureLogger::default());
    let mut o = opts("hmac-nobody.queue");
    o.port = 1;
    o.password = "pw-never-logged".into();
    let t = tokio::time::timeout(
        Duration::from_secs(5),
        AmqpTransport::connect(o, logger.clone()),
    )
    .await
    .expect("connect returns even when the broker is unreachable");
    assert!(!t.is_connected());
    assert_eq!(
        t.publish("hmac-x.queue", b"{}").await,
        Err(TransportError::NotConnected)
    );
    assert_eq!(
        t.ensure_queue_declared("hmac-x.queue").await,
        Err(TransportError::NotConnected)
    );
    // Deferred until a connect succeeds.
    t.start_consume(Recorder::new(0, Duration::ZERO))
        .await
        .expect("start_consume is deferred");

    let lines = logger.lines();
    assert!(
        lines.iter().any(|l| l
            .starts_with("warn [propagation] amqp connect to amqp://guest:***@127.0.0.1:1/%2f")),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|l| !l.contains("pw-never-logged")),
        "{lines:?}"
    );

    let start = Instant::now();
    t.close().await;
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "close took {:?}",
        start.elapsed()
    );
    t.close().await; // idempotent
    assert_eq!(
        t.publish("hmac-x.queue", b"{}").await,
        Err(TransportError::NotConnected)
    );
    // No reconnect attempt after close (the first one was due 1 s after the failure).
    let logged = logger.lines().len();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(logger.lines().len(), logged, "{:?}", logger.lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_backoff_doubles_while_unreachable() {
    let logger = Arc::new(CaptureLogger::default());
    let mut o = opts("hmac-nobody.queue");
    o.port = 1;
    let t = AmqpTransport::connect(o, logger.clone()).await;
    // Attempts at 0 s, 1 s and 3 s; the next one would be at 7 s.
    tokio::time::sleep(Duration::from_millis(3400)).await;
    t.close().await;
    let delays: Vec<String> = logger
        .lines()
        .iter()
        .filter_map(|l| l.split("retrying in ").nth(1).map(str::to_owned))
        .collect();
    assert_eq!(
        delays,
        ["1000 ms", "2000 ms", "4000 ms"],
        "{:?}",
        logger.lines()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_waits_for_the_delivery_in_hand() {
    let own = unique("close");
    let (t, _logger) = connect(&own).await;
    let raw = Raw::new().await;

    let rec = Recorder::new(0, Duration::from_millis(300));
    t.publish(&own, b"{\"slow\":true}").await.expect("publish");
    t.publish(&own, b"{\"second\":true}")
        .await
        .expect("publish");
    let started = rec.started.notified();
    t.start_consume(rec.clone()).await.expect("start_consume");
    tokio::time::timeout(Duration::from_secs(5), started)
        .await
        .expect("handler started");
    assert!(!rec.finished.load(Ordering::SeqCst));

    let start = Instant::now();
    t.close().await;
    assert!(
        rec.finished.load(Ordering::SeqCst),
        "close returned before the handler finished"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        rec.calls.load(Ordering::SeqCst),
        1,
        "no delivery after close"
    );
    assert!(!t.is_connected());
    assert_eq!(
        t.publish(&own, b"{}").await,
        Err(TransportError::NotConnected)
    );
    assert_eq!(
        t.ensure_queue_declared(&own).await,
        Err(TransportError::NotConnected)
    );
    // The first message was acked before the close, the second is back in the queue.
    assert_eq!(raw.depth(&own).await, 1);
    raw.delete(&[&own]).await;
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_error_reconnects_the_whole_connection() {
    let own = unique("rc-own");
    let bad = unique("rc-bad");
    let good = unique("rc-good");
    let raw = Raw::new().await;
    // A queue declared with an argument: the transport's declare of it is inequivalent.
    let mut args = FieldTable::default();
    args.insert("x-max-length".into(), AMQPValue::LongInt(10));
    raw.channel()
        .await
        .queue_declare(bad.as_str().into(), QueueDeclareOptions::durable(), args)
        .await
        .expect("declare the bad queue");

    let (t, logger) = connect(&own).await;
    let rec = Recorder::new(0, Duration::ZERO);
    t.start_consume(rec.clone()).await.expect("start_consume");

    match t.ensure_queue_declared(&bad).await {
        Err(TransportError::Amqp(msg)) => assert!(msg.contains("PRECONDITION_FAILED"), "{msg}"),
        other => panic!("expected a 406, got {other:?}"),
    }
    // The dead confirm channel is noticed, then the connection is rebuilt after 1 s.
    wait_until("the teardown", Duration::from_secs(2), || !t.is_connected()).await;
    wait_until("the reconnect", Duration::from_secs(5), || t.is_connected()).await;

    t.ensure_queue_declared(&good).await.expect("declare good");
    t.publish(&good, b"{\"after\":\"reconnect\"}")
        .await
        .expect("publish after reconnect");
    assert_eq!(raw.depth(&good).await, 1);
    // The consumer was re-registered, once.
    assert_eq!(raw.consumers(&own).await, 1);
    t.publish(&own, b"{\"to\":\"self\"}")
        .await
        .expect("publish to self");
    wait_until("the re-registered consumer", Duration::from_secs(5), || {
        rec.bodies().len() == 1
    })
    .await;
    let lines = logger.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("warn [propagation] amqp connection")
                && l.contains("PRECONDITION_FAILED")),
        "{lines:?}"
    );

    t.close().await;
    raw.delete(&[&own, &bad, &good]).await;
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_to_a_raw_confirm_channel_matches() {
    // Sanity check of the raw helper against the transport: a message the raw connection
    // publishes with the same properties is consumed like one the transport published.
    let own = unique("raw");
    let (t, _logger) = connect(&own).await;
    let raw = Raw::new().await;
    let ch = raw.channel().await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm_select");
    ch.basic_publish(
        "".into(),
        own.as_str().into(),
        BasicPublishOptions::default(),
        b"{\"from\":\"node\"}",
        BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into()),
    )
    .await
    .expect("publish")
    .await
    .expect("confirm");
    let rec = Recorder::new(0, Duration::ZERO);
    t.start_consume(rec.clone()).await.expect("start_consume");
    wait_until("the delivery", Duration::from_secs(5), || {
        rec.bodies().len() == 1
    })
    .await;
    assert_eq!(rec.bodies(), vec![b"{\"from\":\"node\"}".to_vec()]);
    t.close().await;
    assert_eq!(raw.depth(&own).await, 0);
    raw.delete(&[&own]).await;
    raw.close().await;
}

/// A propagator dropped without `close()` (its last reference gone): the delivery handler
/// holds it weakly, so its AMQP transport is dropped with it, which stops the consumer and
/// closes the connection in the background (the broker sees the consumer go away). Before,
/// the transport's handler kept the propagator, and so the transport, alive forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_propagator_stops_its_consumer_and_connection() {
    use authcore::hmac::{HmacAuth, HmacAuthOptions};
    use authcore::propagation::propagator::{CredentialSink, Propagator, PropagatorParts};
    use authcore::propagation::state::MemoryPropagationState;

    let name = unique("dropped").trim_end_matches(".queue").to_owned();
    let own = authcore::propagation::wire::build_queue_name(&name).unwrap();
    let (t, _logger) = connect(&own).await;
    let raw = Raw::new().await;
    let clients = HmacAuth::new(
        Arc::new(authcore::store::MemoryStore::new()),
        &HmacAuthOptions::default(),
    )
    .unwrap()
    .clients;
    let p = Propagator::start(
        PropagatorParts {
            amqp_queue: name,
            propagation_secret: "s".into(),
            http: Some(Arc::new(clients) as Arc<dyn CredentialSink>),
            message: None,
            management: None,
            logger: Arc::new(authcore::propagation::NoopLogger),
            event_auth: Default::default(),
            state: Arc::new(MemoryPropagationState::default()),
        },
        Arc::new(t),
    )
    .await
    .expect("start");
    let start = Instant::now();
    while raw.consumers(&own).await != 1 {
        assert!(start.elapsed() < Duration::from_secs(10), "no consumer");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(p);
    let start = Instant::now();
    while raw.consumers(&own).await != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the dropped propagator still consumes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    raw.delete(&[&own]).await;
    raw.close().await;
}

/// Records, per lane (the body's first byte), the order of the deliveries, whether two of
/// one lane ever overlapped, and the most deliveries handled at once.
#[derive(Default)]
struct Lanes {
    order: Mutex<Vec<Vec<u8>>>,
    busy: Mutex<std::collections::HashSet<u8>>,
    same_lane_overlap: AtomicBool,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

#[async_trait]
impl DeliveryHandler for Lanes {
    async fn handle(&self, body: Vec<u8>) -> Result<(), String> {
        if !self.busy.lock().unwrap().insert(body[0]) {
            self.same_lane_overlap.store(true, Ordering::SeqCst);
        }
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(30)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.busy.lock().unwrap().remove(&body[0]);
        self.order.lock().unwrap().push(body);
        Ok(())
    }
    fn lane(&self, body: &[u8]) -> String {
        String::from_utf8_lossy(&body[..1]).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_of_different_lanes_run_concurrently_each_lane_in_order() {
    let own = unique("lanes");
    let (t, _logger) = connect(&own).await;
    let raw = Raw::new().await;
    // 4 lanes x 6 deliveries, interleaved, published before the consumer starts.
    let mut sent = Vec::new();
    for n in 0..6 {
        for lane in ["a", "b", "c", "d"] {
            let body = format!("{lane}{n}").into_bytes();
            t.publish(&own, &body).await.unwrap();
            sent.push(body);
        }
    }
    let rec = Arc::new(Lanes::default());
    t.start_consume(rec.clone()).await.unwrap();
    wait_until("24 deliveries", Duration::from_secs(10), || {
        rec.order.lock().unwrap().len() == 24
    })
    .await;
    let order = rec.order.lock().unwrap().clone();
    for lane in [b'a', b'b', b'c', b'd'] {
        let got: Vec<_> = order.iter().filter(|b| b[0] == lane).collect();
        let want: Vec<_> = sent.iter().filter(|b| b[0] == lane).collect();
        assert_eq!(got, want, "lane {} out of order", lane as char);
    }
    assert!(
        !rec.same_lane_overlap.load(Ordering::SeqCst),
        "two deliveries of one lane overlapped"
    );
    assert!(
        rec.max_in_flight.load(Ordering::SeqCst) > 1,
        "lanes were handled one at a time"
    );
    t.close().await;
    assert_eq!(raw.depth(&own).await, 0);
    raw.delete(&[&own]).await;
    raw.close().await;
}
