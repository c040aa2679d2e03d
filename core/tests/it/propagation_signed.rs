//! Signed events (authcore extension, off by default): every scenario runs on the in-process
//! broker and on the real RabbitMQ (127.0.0.1:5672, guest/guest, vhost `/`; queues of their
//! own, deleted at the end). A strict peer accepts signed events and drops unsigned, forged
//! and tampered ones without applying them; a v1 (non-strict) peer accepts signed events;
//! with the body secret withheld, only strict peers accept.

use crate::prop_support;

use std::sync::{Arc, Mutex};

use authcore::propagation::amqp::AmqpTransport;
use authcore::propagation::propagator::*;
use authcore::propagation::state::MemoryPropagationState;
use authcore::propagation::wire::{self, ApplyEvent, ApplyPayload, EventAuth};
use authcore::propagation::{InProcessBroker, NoopLogger, Transport};
use authcore::store::{KvStore, MemoryStore};
use prop_support::*;

const SIGN: EventAuth = EventAuth {
    sign: true,
    require: false,
    omit_secret: false,
};
const STRICT: EventAuth = EventAuth {
    sign: true,
    require: true,
    omit_secret: false,
};
const STRICT_OMIT: EventAuth = EventAuth {
    sign: true,
    require: true,
    omit_secret: true,
};

enum Kind {
    InProcess(InProcessBroker),
    Amqp,
}

/// The peers of one scenario, on one broker, with names of their own.
struct Mesh {
    kind: Kind,
    run: String,
    store: Arc<dyn KvStore>,
    queues: Mutex<Vec<String>>,
}

impl Mesh {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            run: wire::random_uuid().unwrap()[..8].to_string(),
            store: Arc::new(MemoryStore::new()),
            queues: Mutex::default(),
        }
    }

    fn name(&self, peer: &str) -> String {
        format!("signed-{peer}-{}", self.run)
    }

    fn directory(&self) -> MemoryManagement {
        MemoryManagement::directory_of(
            ["auth", "strict", "v1"].map(|p| (self.name(p), secret_of(p))),
        )
    }

    async fn transport(&self, name: &str) -> Arc<dyn Transport> {
        let queue = wire::build_queue_name(name).unwrap();
        self.queues.lock().unwrap().push(queue.clone());
        match &self.kind {
            Kind::InProcess(b) => Arc::new(b.transport(&queue)),
            Kind::Amqp => {
                let t = AmqpTransport::connect(amqp_options(&queue), Arc::new(NoopLogger)).await;
                assert!(
                    t.is_connected(),
                    "RabbitMQ must be running at 127.0.0.1:5672 (guest/guest)"
                );
                Arc::new(t)
            }
        }
    }

    /// Peer `peer` (full mode with the directory when `full`) with `event_auth`.
    async fn peer(&self, peer: &str, full: bool, event_auth: EventAuth) -> Peer {
        let name = self.name(peer);
        let http = auth(
            self.store.clone(),
            &format!("signed-{}:{peer}", self.run),
            &format!("pepper-of-{peer}"),
        );
        start_peer_with_auth(
            &name,
            &secret_of(peer),
            http,
            None,
            full.then(|| self.directory()),
            Arc::new(MemoryPropagationState::default()),
            self.transport(&name).await,
            event_auth,
        )
        .await
    }

    async fn cleanup(&self, peers: Vec<Peer>) {
        for p in &peers {
            p.propagator.close().await;
        }
        if let Kind::Amqp = self.kind {
            let queues = self.queues.lock().unwrap().clone();
            delete_queues("%2f", &queues).await;
        }
    }
}

async fn ensure(authority: &Peer, client: &str, secret: &str, targets: &[String]) {
    authority
        .propagator
        .ensure(EnsureInput {
            client_id: client.into(),
            secret: secret.into(),
            targets: targets.to_vec(),
            ..Default::default()
        })
        .await
        .unwrap();
    let summary = authority.propagator.sync().await.unwrap();
    assert_eq!(summary.targets_published as usize, targets.len());
}

async fn wait_status(authority: &Peer, client: &str, target: &str, want: &str) {
    let m = authority.management.clone().unwrap();
    wait_for(30, &format!("{target} {want}"), || {
        let got = m.status(client, target);
        async move { got.as_deref() == Some(want) }
    })
    .await;
}

async fn wait_log(peer: &Peer, needle: &str) {
    wait_for(30, needle, || {
        let hit = peer.lines.any(needle);
        async move { hit }
    })
    .await;
}

/// A signing authority reaches a strict peer and a v1 peer; both apply and both ACKs
/// complete the sender's bookkeeping.
async fn signed_events_reach_strict_and_v1_peers(mesh: Mesh) {
    let authority = mesh.peer("auth", true, SIGN).await;
    let strict = mesh.peer("strict", true, STRICT).await;
    let v1 = mesh.peer("v1", true, EventAuth::default()).await;
    let targets = [mesh.name("strict"), mesh.name("v1")];
    ensure(&authority, "c-signed", "plain-1", &targets).await;
    let want = hash_of(&authority.http, "c-signed").await.unwrap();
    for (peer, target) in [(&strict, &targets[0]), (&v1, &targets[1])] {
        wait_for(30, "applied", || {
            let http = peer.http.clone();
            async move { hash_of(&http, "c-signed").await.is_some() }
        })
        .await;
        assert_eq!(hash_of(&peer.http, "c-signed").await.unwrap(), want);
        wait_status(&authority, "c-signed", target, "success").await;
    }
    assert!(!strict.lines.any("signed event from"));
    mesh.cleanup(vec![authority, strict, v1]).await;
}

/// A strict peer drops an unsigned (v1) event: logged, never applied, no ACK.
async fn unsigned_events_are_dropped_by_a_strict_peer(mesh: Mesh) {
    let authority = mesh.peer("auth", true, EventAuth::default()).await;
    let strict = mesh.peer("strict", true, STRICT).await;
    let target = mesh.name("strict");
    ensure(
        &authority,
        "c-unsigned",
        "plain-2",
        std::slice::from_ref(&target),
    )
    .await;
    wait_log(
        &strict,
        &format!("unsigned event from {}", mesh.name("auth")),
    )
    .await;
    assert_eq!(hash_of(&strict.http, "c-unsigned").await, None);
    assert_eq!(
        authority
            .management
            .as_ref()
            .unwrap()
            .status("c-unsigned", &target)
            .as_deref(),
        Some("sent")
    );
    mesh.cleanup(vec![authority, strict]).await;
}

/// A strict peer drops an event signed with a key not derived from its secret, and one
/// whose body was changed after signing; the genuinely signed event behind them applies.
async fn forged_and_tampered_events_are_dropped(mesh: Mesh) {
    let strict = mesh.peer("strict", false, STRICT).await;
    let forger = mesh.transport(&mesh.name("forger")).await;
    let (sender, recipient) = (mesh.name("auth"), mesh.name("strict"));
    let queue = wire::build_queue_name(&recipient).unwrap();
    let event = |n: i64, hash: &str| ApplyEvent {
        event_id: wire::random_uuid().unwrap(),
        ts: 1_781_000_000_000 + n,
        // The forger read the v1 body secret from the queue.
        propagation_secret: secret_of("strict"),
        sender_amqp_queue: sender.clone(),
        op: wire::OP_CREATE.into(),
        track: "http".into(),
        client_id: "c-forged".into(),
        payload: ApplyPayload {
            secret_hash: hash.into(),
            allowed_ips: None,
            expires_at: None,
        },
    };
    let evil = "e".repeat(64);
    // 1. Signed under another secret.
    let body = wire::encode(&event(1, &evil));
    let sig = wire::sign_event("secret-of-someone-else", &sender, &recipient, &body);
    forger
        .publish_signed(&queue, &body, Some(&sig))
        .await
        .unwrap();
    // 2. A genuine signature over another body.
    let genuine = wire::encode(&event(2, &"a".repeat(64)));
    let sig = wire::sign_event(&secret_of("strict"), &sender, &recipient, &genuine);
    let tampered = wire::encode(&event(2, &evil));
    forger
        .publish_signed(&queue, &tampered, Some(&sig))
        .await
        .unwrap();
    // 3. Genuinely signed: applied, after the two above (one lane per client, in order).
    let good = "b".repeat(64);
    let body = wire::encode(&event(3, &good));
    let sig = wire::sign_event(&secret_of("strict"), &sender, &recipient, &body);
    forger
        .publish_signed(&queue, &body, Some(&sig))
        .await
        .unwrap();
    wait_for(30, "the genuine event applied", || {
        let http = strict.http.clone();
        async move { hash_of(&http, "c-forged").await.is_some() }
    })
    .await;
    assert_eq!(hash_of(&strict.http, "c-forged").await.unwrap(), good);
    let dropped = strict
        .lines
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(&format!("badly signed event from {sender}")))
        .count();
    assert_eq!(dropped, 2);
    forger.close().await;
    mesh.cleanup(vec![strict]).await;
}

/// With the body secret withheld, a strict peer applies and its signed ACK (also without
/// a body secret) completes the strict authority's bookkeeping; a v1 peer drops the event
/// at its secret check.
async fn withheld_secret_reaches_only_strict_peers(mesh: Mesh) {
    let authority = mesh.peer("auth", true, STRICT_OMIT).await;
    let strict = mesh.peer("strict", true, STRICT_OMIT).await;
    let v1 = mesh.peer("v1", true, EventAuth::default()).await;
    let targets = [mesh.name("strict"), mesh.name("v1")];
    ensure(&authority, "c-withheld", "plain-4", &targets).await;
    wait_status(&authority, "c-withheld", &targets[0], "success").await;
    assert_eq!(
        hash_of(&strict.http, "c-withheld").await,
        hash_of(&authority.http, "c-withheld").await
    );
    wait_log(&v1, "propagation-secret-mismatch").await;
    assert_eq!(hash_of(&v1.http, "c-withheld").await, None);
    assert_eq!(
        authority
            .management
            .as_ref()
            .unwrap()
            .status("c-withheld", &targets[1])
            .as_deref(),
        Some("sent")
    );
    mesh.cleanup(vec![authority, strict, v1]).await;
}

macro_rules! on_both_brokers {
    ($($scenario:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Mesh::new(super::Kind::InProcess(
                        super::InProcessBroker::new(),
                    )))
                    .await;
                }
            )*
        }
        mod rabbitmq {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Mesh::new(super::Kind::Amqp)).await;
                }
            )*
        }
    };
}

on_both_brokers!(
    signed_events_reach_strict_and_v1_peers,
    unsigned_events_are_dropped_by_a_strict_peer,
    forged_and_tampered_events_are_dropped,
    withheld_secret_reaches_only_strict_peers,
);

/// The key derivation and signature, against values computed independently (Python's
/// `hmac`/`hashlib`).
#[test]
fn signature_derivation_vector() {
    let key = wire::event_auth_key("secret-of-b", "a", "b");
    assert_eq!(hex::encode(key), KEY_A_B);
    let sig = wire::sign_event("secret-of-b", "a", "b", br#"{"eventId":"x"}"#);
    assert_eq!(sig, format!("sha256={SIG_A_B}"));
    // Each ordered pair has its own key.
    assert_ne!(wire::event_auth_key("secret-of-b", "b", "a"), key);
    assert!(wire::verify_event(
        "secret-of-b",
        "a",
        "b",
        br#"{"eventId":"x"}"#,
        Some(&sig)
    ));
    assert!(!wire::verify_event(
        "secret-of-b",
        "c",
        "b",
        br#"{"eventId":"x"}"#,
        Some(&sig)
    ));
    assert!(!wire::verify_event(
        "secret-of-b",
        "a",
        "b",
        br#"{"eventId":"y"}"#,
        Some(&sig)
    ));
    assert!(!wire::verify_event(
        "secret-of-b",
        "a",
        "b",
        br#"{"eventId":"x"}"#,
        None
    ));
}

const KEY_A_B: &str = "5f1f446a0109f4c115d0f8a92b6bbbacbd8283de7e1c72c4419abe283e814b18";
const SIG_A_B: &str = "c3b1f5528ea559302ae21b31a573a3bda80a87cc1f827ae26c01451086f7b158";
