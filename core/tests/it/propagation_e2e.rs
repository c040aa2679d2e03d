//! Credential propagation end to end on the real servers: three peers on RabbitMQ (vhost
//! `hmac-credentials`, as the original's deployments use) with their credentials and
//! propagation state in the real Redis, and a target that is offline while it is sent to
//! (upstream e2e S13–S15: durable queue, persistent messages, nothing lost).

use crate::prop_support;

use std::sync::Arc;

use authcore::propagation::config::{AmqpSettings, Broker, create_propagator};
use authcore::propagation::propagator::*;
use authcore::propagation::state::{PropagationState, RedisPropagationState};
use authcore::propagation::wire::{DEFAULT_AMQP_VHOST, random_uuid};
use authcore::store::{KvStore, RedisStore};
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use prop_support::*;

const REDIS: &str = "redis://127.0.0.1:6379";

struct Net {
    run: String,
    store: Arc<dyn KvStore>,
}

impl Net {
    async fn new() -> Self {
        Self {
            run: random_uuid().unwrap()[..8].to_string(),
            store: Arc::new(RedisStore::connect(REDIS).await.unwrap()),
        }
    }
    fn name(&self, peer: &str) -> String {
        format!("{peer}-{}", self.run)
    }
    fn directory(&self) -> MemoryManagement {
        MemoryManagement::directory_of(PEERS.map(|p| (self.name(p), secret_of(p))))
    }
    async fn peer(
        &self,
        peer: &str,
        management: Option<MemoryManagement>,
    ) -> (Peer, Arc<RedisPropagationState>) {
        let http = auth(
            self.store.clone(),
            &format!("e2e-{}:{peer}", self.run),
            &format!("pepper-of-{peer}"),
        );
        let state = Arc::new(
            RedisPropagationState::connect(REDIS)
                .await
                .unwrap()
                .with_prefix(&format!("e2e-{}:{peer}:", self.run)),
        );
        let p = start_peer_on(
            &self.name(peer),
            &secret_of(peer),
            http,
            management,
            state.clone(),
            amqp_broker(None),
        )
        .await;
        (p, state)
    }
    async fn cleanup(&self) {
        let queues = PEERS.map(|p| format!("hmac-{}.queue", self.name(p)));
        delete_queues(DEFAULT_AMQP_VHOST, &queues).await;
        delete_redis_keys(REDIS, &format!("e2e-{}:*", self.run)).await;
    }
}

/// The peers of a run (each with its own queue and keys).
const PEERS: [&str; 4] = ["mgmt", "b", "ro", "late"];

async fn queue_depth(queue: &str) -> u32 {
    let conn = amqp_connection(DEFAULT_AMQP_VHOST).await;
    let ch = conn.create_channel().await.unwrap();
    let q = ch
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let n = q.message_count();
    let _ = conn.close(0, "".into()).await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_peers_over_rabbitmq_and_redis() {
    assert_eq!(DEFAULT_AMQP_VHOST, "hmac-credentials");
    let net = Net::new().await;
    let m = net.directory();
    let (a, a_state) = net.peer("mgmt", Some(m.clone())).await;
    let (b, b_state) = net.peer("b", Some(net.directory())).await;
    let (ro, _) = net.peer("ro", None).await;
    let (bn, ron) = (net.name("b"), net.name("ro"));

    a.propagator
        .ensure(EnsureInput {
            client_id: "e2e_a".into(),
            secret: "plain-A".into(),
            targets: vec![bn.clone(), ron.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    let hash_a = hash_of(&a.http, "e2e_a").await.unwrap();
    let s = a.propagator.sync().await.unwrap();
    assert_eq!(
        (s.propagations_read, s.targets_published, s.targets_retrying),
        (1, 2, 0)
    );
    wait_for(10, "targets applied", || async {
        hash_of(&b.http, "e2e_a").await.as_deref() == Some(hash_a.as_str())
            && hash_of(&ro.http, "e2e_a").await.as_deref() == Some(hash_a.as_str())
    })
    .await;
    wait_for(10, "b's ACK", || async {
        m.status("e2e_a", &bn).as_deref() == Some("success")
    })
    .await;
    wait_for(10, "ro's ACK dropped", || async {
        a.lines
            .any(&format!("propagation-secret-mismatch from {ron}"))
    })
    .await;
    assert!(m.db().fully.is_empty(), "ro never completes the credential");
    // The receiver's cursor and the sender's ack store, in the v1 layout under the prefix.
    let cursor = b_state.read_cursor("http", "e2e_a").await.unwrap().unwrap();
    assert!(cursor.ts > 1.7e12);
    // b's ACK is forgotten by the ack store just after its markTargetSuccess returned.
    wait_for(10, "only ro's event outstanding", || async {
        a_state.pending_count("e2e_a").await.unwrap() == 1
    })
    .await;
    assert_eq!(
        a_state
            .read_client_results("e2e_a")
            .await
            .unwrap()
            .get(&bn)
            .map(String::as_str),
        Some("success")
    );

    // rotate + revoke through the broker.
    a.propagator
        .rotate(RotateUsage {
            client_id: "e2e_a".into(),
            secret: "plain-A-2".into(),
            track: None,
        })
        .await
        .unwrap();
    let hash_2 = hash_of(&a.http, "e2e_a").await.unwrap();
    a.propagator.sync().await.unwrap();
    wait_for(10, "rotation applied", || async {
        hash_of(&b.http, "e2e_a").await.as_deref() == Some(hash_2.as_str())
            && hash_of(&ro.http, "e2e_a").await.as_deref() == Some(hash_2.as_str())
    })
    .await;
    // Wait for b's ACK of the rotation before revoking: a late ACK would mark b "success"
    // after revoke set it back to pending (the original's adapter contract has this race).
    wait_for(10, "b's ACK of the rotation", || async {
        m.status("e2e_a", &bn).as_deref() == Some("success")
    })
    .await;
    a.propagator
        .revoke(RevokeInput {
            client_id: "e2e_a".into(),
            targets: vec![bn.clone(), ron.clone()],
            track: None,
        })
        .await
        .unwrap();
    let s = a.propagator.sync().await.unwrap();
    assert_eq!(s.targets_published, 2);
    wait_for(10, "revocation applied", || async {
        hash_of(&b.http, "e2e_a").await.is_none() && hash_of(&ro.http, "e2e_a").await.is_none()
    })
    .await;

    // A target that is offline: its queue is declared by the sender, the event waits in
    // it (durable, persistent) and is applied when the peer starts.
    let late = net.name("late");
    a.propagator
        .ensure(EnsureInput {
            client_id: "e2e_b".into(),
            secret: "plain-B".into(),
            targets: vec![late.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(a.propagator.sync().await.unwrap().targets_published, 1);
    assert_eq!(queue_depth(&format!("hmac-{late}.queue")).await, 1);
    // Publish-once: nothing more is sent while the row is `sent`.
    assert_eq!(a.propagator.sync().await.unwrap().targets_published, 0);
    assert_eq!(queue_depth(&format!("hmac-{late}.queue")).await, 1);
    let (l, _) = net.peer("late", Some(net.directory())).await;
    wait_for(10, "late peer applied the waiting event", || async {
        hash_of(&l.http, "e2e_b").await.is_some()
    })
    .await;
    wait_for(10, "late peer's ACK", || async {
        m.db()
            .fully
            .iter()
            .any(|(c, s)| c == "e2e_b" && s == "success")
    })
    .await;
    assert_eq!(queue_depth(&format!("hmac-{late}.queue")).await, 0);

    for p in [&a, &b, &ro, &l] {
        p.propagator.close().await;
    }
    // After close, publishes fail and sync counts them as retrying.
    a.propagator
        .ensure(EnsureInput {
            client_id: "e2e_c".into(),
            secret: "s".into(),
            targets: vec![bn.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    let s = a.propagator.sync().await.unwrap();
    assert_eq!((s.targets_published, s.targets_retrying), (0, 1));
    net.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sync_pipelines_hundreds_of_publishes() {
    // 150 credentials x 2 targets in one sync: the publishes overlap (up to 256 await their
    // confirm at once); every one is confirmed, marked sent, applied and acknowledged.
    let net = Net::new().await;
    let m = net.directory();
    let (a, a_state) = net.peer("mgmt", Some(m.clone())).await;
    let (b, _) = net.peer("b", Some(net.directory())).await;
    let (l, _) = net.peer("late", Some(net.directory())).await;
    let targets = vec![net.name("b"), net.name("late")];
    for i in 0..150 {
        a.propagator
            .ensure(EnsureInput {
                client_id: format!("bulk-{i}"),
                secret: format!("plain-{i}"),
                targets: targets.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let s = a.propagator.sync().await.unwrap();
    assert_eq!(
        (s.propagations_read, s.targets_published, s.targets_retrying),
        (150, 300, 0)
    );
    assert_eq!(m.calls("markSent"), 300);
    wait_for(20, "every credential fully propagated", || async {
        m.db().fully.len() == 150
    })
    .await;
    assert!(m.db().fully.iter().all(|(_, status)| status == "success"));
    for i in [0, 74, 149] {
        let id = format!("bulk-{i}");
        let expected = hash_of(&a.http, &id).await;
        assert!(expected.is_some());
        assert_eq!(hash_of(&b.http, &id).await, expected);
        assert_eq!(hash_of(&l.http, &id).await, expected);
        assert_eq!(a_state.pending_count(&id).await.unwrap(), 0);
    }
    for p in [&a, &b, &l] {
        p.propagator.close().await;
    }
    net.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_does_not_fail_creation() {
    let http = auth(
        Arc::new(authcore::store::MemoryStore::new()),
        "hmac:http",
        "p",
    );
    let p = create_propagator(
        PropagatorParts {
            amqp_queue: "nobody-listens".into(),
            propagation_secret: "s".into(),
            http: Some(Arc::new(http)),
            message: None,
            management: Some(Arc::new(MemoryManagement::with_directory(&[("x", "y")]))),
            logger: Arc::new(authcore::propagation::NoopLogger),
            event_auth: Default::default(),
            state: Arc::new(authcore::propagation::state::MemoryPropagationState::default()),
        },
        Broker::Amqp(AmqpSettings {
            protocol: "amqp".into(),
            host: "127.0.0.1".into(),
            port: 1.0,
            user: "guest".into(),
            password: "guest".into(),
            vhost: None,
        }),
    )
    .await
    .unwrap();
    // ensure works (DB + local store); sync counts the target as retrying.
    p.ensure(EnsureInput {
        client_id: "k".into(),
        secret: "s".into(),
        targets: vec!["x".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let s = p.sync().await.unwrap();
    assert_eq!((s.targets_published, s.targets_retrying), (0, 1));
    p.close().await;

    // Bad protocol / port: INVALID_OPTIONS up front.
    let bad = |protocol: &str, port: f64| AmqpSettings {
        protocol: protocol.into(),
        host: "h".into(),
        port,
        user: "u".into(),
        password: "p".into(),
        vhost: None,
    };
    assert_eq!(
        bad("http", 5672.0)
            .to_options("q".into())
            .unwrap_err()
            .code(),
        "INVALID_OPTIONS"
    );
    assert_eq!(
        bad("amqp", 70000.0)
            .to_options("q".into())
            .unwrap_err()
            .code(),
        "INVALID_OPTIONS"
    );
    assert_eq!(
        bad("amqp", 1.5).to_options("q".into()).unwrap_err().code(),
        "INVALID_OPTIONS"
    );
}

#[test]
fn option_checks_in_the_original_order() {
    use authcore::propagation::config::{OptionsPresent, assert_options};
    let all = OptionsPresent {
        amqp_host: true,
        amqp_port: true,
        amqp_user: true,
        amqp_password: true,
        amqp_protocol: true,
        amqp_queue: true,
        propagation_secret: true,
        redis: true,
        hmac_http_auth: true,
        hmac_message_auth: false,
    };
    assert!(assert_options(&all).is_ok());
    assert!(
        assert_options(&OptionsPresent {
            hmac_http_auth: false,
            hmac_message_auth: true,
            ..all
        })
        .is_ok()
    );
    let msg = |p: OptionsPresent| assert_options(&p).unwrap_err().to_string();
    assert_eq!(msg(OptionsPresent::default()), "amqpHost is required");
    assert_eq!(
        msg(OptionsPresent {
            amqp_port: false,
            ..all
        }),
        "amqpPort is required"
    );
    assert_eq!(
        msg(OptionsPresent {
            amqp_user: false,
            amqp_queue: false,
            ..all
        }),
        "amqpUser is required"
    );
    assert_eq!(
        msg(OptionsPresent {
            amqp_password: false,
            ..all
        }),
        "amqpPassword is required"
    );
    assert_eq!(
        msg(OptionsPresent {
            amqp_protocol: false,
            ..all
        }),
        "amqpProtocol is required"
    );
    assert_eq!(
        msg(OptionsPresent {
            amqp_queue: false,
            ..all
        }),
        "amqpQueue is required"
    );
    assert_eq!(
        msg(OptionsPresent {
            propagation_secret: false,
            ..all
        }),
        "propagationSecret is required"
    );
    assert_eq!(
        msg(OptionsPresent {
            redis: false,
            ..all
        }),
        "redis is required"
    );
    assert_eq!(
        msg(OptionsPresent {
            hmac_http_auth: false,
            ..all
        }),
        "At least one of hmacHttpAuth or hmacMessageAuth must be provided"
    );
    assert_eq!(
        assert_options(&OptionsPresent::default())
            .unwrap_err()
            .code(),
        "INVALID_OPTIONS"
    );
}
