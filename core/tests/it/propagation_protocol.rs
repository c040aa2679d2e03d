//! The protocol repairs the propagation model (`models/propagation`) checks, each on the
//! real code: every test here fails on the original protocol (docs/compat.md).

use crate::prop_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use authcore::propagation::propagator::*;
use authcore::propagation::state::{
    MemoryPropagationState, PropagationState, PublishedEvent, RedisPropagationState,
};
use authcore::propagation::transport::requeue_pause;
use authcore::propagation::wire::{self, AckEvent, ApplyEvent, ApplyPayload, Cursor};
use authcore::propagation::{DeliveryHandler, InProcessBroker, Transport, TransportError};
use authcore::store::MemoryStore;
use prop_support::*;

const REDIS: &str = "redis://127.0.0.1:6379";

/// A transport that hands deliveries to the test: it keeps the handler and records
/// publishes instead of sending them.
#[derive(Default)]
struct Capture {
    handler: Mutex<Option<Arc<dyn DeliveryHandler>>>,
    published: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Capture {
    fn handler(&self) -> Arc<dyn DeliveryHandler> {
        self.handler.lock().unwrap().clone().unwrap()
    }
    fn published(&self) -> Vec<(String, Vec<u8>)> {
        self.published.lock().unwrap().clone()
    }
}

#[async_trait]
impl Transport for Capture {
    async fn ensure_queue_declared(&self, _: &str) -> Result<(), TransportError> {
        Ok(())
    }
    async fn publish(&self, queue: &str, body: &[u8]) -> Result<(), TransportError> {
        self.published
            .lock()
            .unwrap()
            .push((queue.to_owned(), body.to_vec()));
        Ok(())
    }
    async fn start_consume(&self, h: Arc<dyn DeliveryHandler>) -> Result<(), TransportError> {
        *self.handler.lock().unwrap() = Some(h);
        Ok(())
    }
    async fn close(&self) {}
}

/// Around a credential store: its write of the hash `gated` waits until the gate opens (a
/// slow apply on one consumer while another consumer of the same queue goes on).
struct Gate {
    gated: String,
    entered: tokio::sync::Notify,
    gate: tokio::sync::Semaphore,
}

#[async_trait]
impl Tap for Gate {
    async fn before_set(&self, _: &str, hash: &str) {
        if hash == self.gated {
            self.entered.notify_one();
            let _ = self.gate.acquire().await.unwrap();
        }
    }
}

async fn receiver(
    sink: Arc<dyn CredentialSink>,
    state: Arc<dyn PropagationState>,
) -> (Propagator, Arc<Capture>) {
    let capture = Arc::new(Capture::default());
    let p = Propagator::start(
        PropagatorParts {
            amqp_queue: "b".into(),
            propagation_secret: "secret-of-b".into(),
            http: Some(sink),
            message: None,
            management: None,
            logger: Arc::new(Lines::default()),
            event_auth: Default::default(),
            state,
        },
        capture.clone(),
    )
    .await
    .unwrap();
    (p, capture)
}

fn apply_event(id: &str, ts: i64, client: &str, hash: &str) -> Vec<u8> {
    wire::encode(&ApplyEvent {
        event_id: id.into(),
        ts,
        propagation_secret: "secret-of-b".into(),
        sender_amqp_queue: "mgmt".into(),
        op: wire::OP_UPDATE.into(),
        track: "http".into(),
        client_id: client.into(),
        payload: ApplyPayload {
            secret_hash: hash.into(),
            allowed_ips: None,
            expires_at: None,
        },
    })
}

/// Two consumers of one queue (two instances of peer b) get an older event and a newer
/// one; the older one's apply is slow. The newer secret must stay.
async fn two_consumers_keep_the_newer_secret(
    state_1: Arc<dyn PropagationState>,
    state_2: Arc<dyn PropagationState>,
) -> String {
    let client = unique("cid");
    let old = "a".repeat(64);
    let new = "b".repeat(64);
    let sink = Arc::new(Tapped {
        inner: auth(Arc::new(MemoryStore::new()), "hmac:http", "pepper-of-b"),
        tap: Gate {
            gated: old.clone(),
            entered: tokio::sync::Notify::new(),
            gate: tokio::sync::Semaphore::new(0),
        },
    });
    let (p1, c1) = receiver(sink.clone(), state_1.clone()).await;
    let (p2, c2) = receiver(sink.clone(), state_2).await;
    let (h1, h2) = (c1.handler(), c2.handler());
    let older = apply_event("0000-old", 10, &client, &old);
    let newer = apply_event("0000-new", 20, &client, &new);
    let t1 = tokio::spawn(async move { h1.handle(older).await });
    sink.tap.entered.notified().await; // consumer 1 is inside its apply of the older event
    let t2 = tokio::spawn(async move { h2.handle(newer).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    sink.tap.gate.add_permits(1);
    t1.await.unwrap().unwrap();
    t2.await.unwrap().unwrap();
    assert_eq!(
        hash_of(&sink.inner, &client).await.as_deref(),
        Some(new.as_str()),
        "the older event was applied after the newer one"
    );
    assert_eq!(
        state_1.read_cursor("http", &client).await.unwrap(),
        Some(Cursor {
            ts: 20.0,
            event_id: "0000-new".into()
        })
    );
    p1.close().await;
    p2.close().await;
    client
}

#[tokio::test]
async fn two_consumers_sharing_a_memory_state_never_roll_back() {
    let state: Arc<dyn PropagationState> = Arc::new(MemoryPropagationState::default());
    two_consumers_keep_the_newer_secret(state.clone(), state).await;
}

#[tokio::test]
async fn two_processes_on_one_redis_never_roll_back() {
    // Two connections with their own in-process locks: only the Redis lock serialises them.
    let s1 = RedisPropagationState::connect(REDIS)
        .await
        .expect("Redis at 127.0.0.1:6379");
    let s2 = RedisPropagationState::connect(REDIS).await.unwrap();
    let client = two_consumers_keep_the_newer_secret(Arc::new(s1), Arc::new(s2)).await;
    let mut c = redis::Client::open(REDIS)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let lock: i64 = redis::cmd("EXISTS")
        .arg(format!("propagation:lock:http:{client}"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(lock, 0, "the cursor lock is released");
    let _: () = redis::cmd("DEL")
        .arg(format!("propagation:last-seen:http:{client}"))
        .query_async(&mut c)
        .await
        .unwrap();
}

fn directory() -> MemoryManagement {
    peers_directory(&["mgmt", "b"])
}

fn ensure_input(client: &str, secret: &str) -> EnsureInput {
    EnsureInput {
        client_id: client.into(),
        secret: secret.into(),
        targets: vec!["b".into()],
        ..Default::default()
    }
}

fn rotate_input(client: &str, secret: &str) -> RotateUsage {
    RotateUsage {
        client_id: client.into(),
        secret: secret.into(),
        track: None,
    }
}

/// Syncs until b holds what a holds and the row is `success` (at most 5 s).
async fn converge(a: &Peer, b: &Peer, m: &MemoryManagement, client: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        a.propagator.sync().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let want = hash_of(&a.http, client).await;
        if want.is_some()
            && hash_of(&b.http, client).await == want
            && m.status(client, "b").as_deref() == Some("success")
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "b never converged: a {:?}, b {:?}, row {:?}",
            hash_of(&a.http, client).await,
            hash_of(&b.http, client).await,
            m.status(client, "b")
        );
    }
}

#[tokio::test]
async fn a_new_event_after_a_clock_step_back_is_still_newer() {
    let mesh = Mesh::new();
    let m = directory();
    let a_state: Arc<dyn PropagationState> = Arc::new(MemoryPropagationState::default());
    let a = mesh
        .peer_with_state("mgmt", Some(m.clone()), a_state.clone())
        .await;
    let b_state: Arc<dyn PropagationState> = Arc::new(MemoryPropagationState::default());
    let b = mesh
        .peer_with_state("b", Some(directory()), b_state.clone())
        .await;
    let client = unique("k");
    // The previous event for this client was stamped by a clock 1000 s ahead, and b
    // applied it; the authority's clock has since stepped back.
    let ahead = (authcore::hmac::verify::now_ms() + 1_000_000.0) as i64;
    a_state
        .record_published_event(
            "earlier",
            &PublishedEvent {
                client_id: client.clone(),
                target_amqp_queue: "b".into(),
                attempt_count: 1.0,
                sent_at: ahead as f64,
            },
        )
        .await
        .unwrap();
    b_state
        .write_cursor(
            "http",
            &client,
            &Cursor {
                ts: ahead as f64,
                event_id: "earlier".into(),
            },
        )
        .await
        .unwrap();
    a.propagator
        .ensure(ensure_input(&client, "new-secret"))
        .await
        .unwrap();
    let m2 = m.clone();
    a.propagator.sync().await.unwrap();
    wait_for(5, "b's ACK", || async {
        m2.status(&client, "b").as_deref() != Some("sent")
    })
    .await;
    assert_eq!(
        hash_of(&b.http, &client).await,
        hash_of(&a.http, &client).await,
        "b judged the new event stale (row {:?})",
        m.status(&client, "b")
    );
    assert_eq!(m.status(&client, "b").as_deref(), Some("success"));
    let cursor = b_state.read_cursor("http", &client).await.unwrap().unwrap();
    assert_eq!(cursor.ts, (ahead + 1) as f64);
    a.propagator.close().await;
    b.propagator.close().await;
}

#[tokio::test]
async fn a_late_ack_of_the_old_secret_does_not_complete_a_rotation() {
    let mesh = Mesh::new();
    let m = directory();
    let a = mesh.peer("mgmt", Some(m.clone())).await;
    let client = unique("k");
    a.propagator
        .ensure(ensure_input(&client, "v1"))
        .await
        .unwrap();
    a.propagator.sync().await.unwrap(); // v1 waits in b's queue; b is down
    assert_eq!(m.status(&client, "b").as_deref(), Some("sent"));
    a.propagator
        .rotate(rotate_input(&client, "v2"))
        .await
        .unwrap();
    // b starts and answers v1's event; the row must stay pending (v2 not sent yet).
    let b = mesh.peer("b", Some(directory())).await;
    wait_for(5, "b applied v1", || async {
        hash_of(&b.http, &client).await.is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        m.status(&client, "b").as_deref(),
        Some("pending"),
        "the ACK of v1 marked the rotated secret delivered"
    );
    assert!(m.db().fully.is_empty(), "the plain of v2 was cleared");
    converge(&a, &b, &m, &client).await;
    a.propagator.close().await;
    b.propagator.close().await;
}

#[tokio::test]
async fn a_rotate_during_a_sync_is_sent_by_the_next_sync() {
    let mesh = Mesh::new();
    let m = directory();
    let a = Arc::new(mesh.peer("mgmt", Some(m.clone())).await);
    let b = mesh.peer("b", Some(directory())).await;
    let client = unique("k");
    a.propagator
        .ensure(ensure_input(&client, "v1"))
        .await
        .unwrap();
    // markTargetSent is slow: the rotate comes between the publish and it.
    m.sent_delay_ms.store(300, Ordering::SeqCst);
    let a2 = a.clone();
    let sync = tokio::spawn(async move { a2.propagator.sync().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.propagator
        .rotate(rotate_input(&client, "v2"))
        .await
        .unwrap();
    sync.await.unwrap().unwrap();
    m.sent_delay_ms.store(0, Ordering::SeqCst);
    assert_ne!(
        m.status(&client, "b").as_deref(),
        Some("sent"),
        "markTargetSent of v1 overwrote the rotation's pending row"
    );
    converge(&a, &b, &m, &client).await;
    a.propagator.close().await;
    b.propagator.close().await;
}

async fn authority(
    m: MemoryManagement,
    state: Arc<dyn PropagationState>,
) -> (Propagator, Arc<Capture>, authcore::hmac::HmacClients) {
    let capture = Arc::new(Capture::default());
    let http = auth(Arc::new(MemoryStore::new()), "hmac:http", "pepper-of-mgmt");
    let p = Propagator::start(
        PropagatorParts {
            amqp_queue: "mgmt".into(),
            propagation_secret: "secret-of-mgmt".into(),
            http: Some(Arc::new(http.clone())),
            message: None,
            management: Some(Arc::new(m)),
            logger: Arc::new(Lines::default()),
            event_auth: Default::default(),
            state,
        },
        capture.clone(),
    )
    .await
    .unwrap();
    (p, capture, http)
}

#[tokio::test]
async fn an_authority_crash_while_handling_an_ack_is_redone_on_redelivery() {
    // The first markTargetSuccess never returns (the process dies there).
    let m = directory();
    m.hang_mark_success.store(1, Ordering::SeqCst);
    let state: Arc<dyn PropagationState> = Arc::new(MemoryPropagationState::default());
    let client = unique("k");
    let (a, capture, _) = authority(m.clone(), state.clone()).await;
    a.ensure(ensure_input(&client, "v1")).await.unwrap();
    a.sync().await.unwrap();
    let published = capture.published();
    assert_eq!(published.len(), 1);
    let event = wire::decode(&published[0].1).unwrap();
    let ack = wire::encode(&AckEvent {
        event_id: "ack-1".into(),
        ts: 1,
        propagation_secret: "secret-of-mgmt".into(),
        sender_amqp_queue: "b".into(),
        op: wire::OP_ACK.into(),
        ack_event_id: event.event_id.clone(),
        ack_result: "applied".into(),
        ack_reason: None,
    });
    // The authority dies inside markTargetSuccess: the handling is dropped, the ACK stays
    // unacked and the broker redelivers it to the restarted authority.
    let first = tokio::time::timeout(
        Duration::from_millis(300),
        capture.handler().handle(ack.clone()),
    )
    .await;
    assert!(
        first.is_err(),
        "the first handling must hang in markTargetSuccess"
    );
    a.close().await;
    drop(a);
    let (a, capture, _) = authority(m.clone(), state.clone()).await;
    capture.handler().handle(ack).await.unwrap();
    assert_eq!(
        m.status(&client, "b").as_deref(),
        Some("success"),
        "the redelivered ACK was dropped as unknown: the row stays sent"
    );
    assert_eq!(m.db().fully, vec![(client.clone(), "success".into())]);
    assert_eq!(state.pending_count(&client).await.unwrap(), 0);
    a.close().await;
}

#[tokio::test]
async fn concurrent_syncs_publish_each_target_once() {
    let mesh = Mesh::new();
    let m = directory();
    let a = mesh.peer("mgmt", Some(m.clone())).await;
    let client = unique("k");
    a.propagator
        .ensure(ensure_input(&client, "v1"))
        .await
        .unwrap();
    m.sent_delay_ms.store(100, Ordering::SeqCst);
    let (s1, s2) = tokio::join!(a.propagator.sync(), a.propagator.sync());
    let (s1, s2) = (s1.unwrap(), s2.unwrap());
    assert_eq!(s1.targets_published + s2.targets_published, 1);
    assert_eq!(
        mesh.broker.depth("hmac-b.queue"),
        Some(1),
        "published twice"
    );
    a.propagator.close().await;
}

#[tokio::test]
async fn a_failing_delivery_is_requeued_with_backoff() {
    assert_eq!(requeue_pause(1), Duration::from_millis(50));
    assert_eq!(requeue_pause(2), Duration::from_millis(100));
    assert_eq!(requeue_pause(8), Duration::from_millis(5000));
    assert_eq!(requeue_pause(u32::MAX), Duration::from_millis(5000));
    struct Down(Arc<AtomicUsize>);
    #[async_trait]
    impl DeliveryHandler for Down {
        async fn handle(&self, _: Vec<u8>) -> Result<(), String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err("redis down".into())
        }
    }
    let broker = InProcessBroker::new();
    let t = broker.transport("hmac-down.queue");
    t.publish("hmac-down.queue", b"{}").await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    t.start_consume(Arc::new(Down(calls.clone())))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let n = calls.load(Ordering::SeqCst);
    // 50 + 100 + 200 + 400 ms of pauses fit in 1.2 s: about 5 attempts (a fixed 50 ms
    // pause would make about 24).
    assert!((3..=7).contains(&n), "{n} attempts in 1.2 s");
    t.close().await;
    assert_eq!(broker.depth("hmac-down.queue"), Some(1), "still queued");
}
