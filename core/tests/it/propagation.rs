//! Credential propagation (spec naskot-propagation.md): wire v1 bytes and checks, the
//! cursor, the ack store (in memory and on the real Redis), and the whole protocol between
//! peers on the in-process broker. The same protocol over RabbitMQ is in
//! `propagation_amqp.rs` / `propagation_e2e.rs`.

use crate::prop_support;

use std::sync::Arc;

use authcore::propagation::propagator::*;
use authcore::propagation::state::{
    MemoryPropagationState, PropagationState, PropagationStore, PublishedEvent, RedisOps,
    RedisPropagationState, Write,
};
use authcore::propagation::wire::{self, *};
use authcore::propagation::{InProcessBroker, Transport};
use authcore::store::{KvStore, MemoryStore, StoreError};
use prop_support::*;

const REDIS: &str = "redis://127.0.0.1:6379";

// ---------------------------------------------------------------------------------------
// wire (upstream test/wire.test.ts + §6.7)
// ---------------------------------------------------------------------------------------

#[test]
fn queue_names_and_vhost() {
    assert_eq!(DEFAULT_AMQP_VHOST, "hmac-credentials");
    assert_eq!(
        build_queue_name("x-authority-hmac").unwrap(),
        "hmac-x-authority-hmac.queue"
    );
    assert_eq!(build_queue_name("ABC123").unwrap(), "hmac-ABC123.queue");
    for bad in ["bad name", "bad/name", "", "é", "a_b"] {
        assert_eq!(
            build_queue_name(bad).unwrap_err(),
            format!("Invalid amqpQueue \"{bad}\": must match [A-Za-z0-9-]+")
        );
    }
}

#[test]
fn apply_and_ack_events_have_node_bytes() {
    let apply = ApplyEvent {
        event_id: "00000000-0000-4000-8000-000000000001".into(),
        ts: 1781000123456,
        propagation_secret: "secret-of-target-B".into(),
        sender_amqp_queue: "x-authority-hmac".into(),
        op: "credential.create".into(),
        track: "http".into(),
        client_id: "client_partner_a".into(),
        payload: ApplyPayload {
            secret_hash: "deadbeef".into(),
            allowed_ips: Some(vec!["10.0.0.0/8".into()]),
            expires_at: None,
        },
    };
    let bytes = wire::encode(&apply);
    assert_eq!(
        std::str::from_utf8(&bytes).unwrap(),
        r#"{"eventId":"00000000-0000-4000-8000-000000000001","ts":1781000123456,"propagationSecret":"secret-of-target-B","senderAmqpQueue":"x-authority-hmac","op":"credential.create","track":"http","clientId":"client_partner_a","payload":{"secretHash":"deadbeef","allowedIps":["10.0.0.0/8"],"expiresAt":null}}"#
    );
    let env = decode(&bytes).unwrap();
    assert_eq!(env.event_id, apply.event_id);
    assert_eq!(env.ts, 1781000123456.0);
    assert_eq!(env.op, "credential.create");
    let parts = env.apply_parts().unwrap();
    assert_eq!(parts.client_id, "client_partner_a");
    assert_eq!(parts.secret_hash, "deadbeef");
    assert_eq!(parts.allowed_ips, Some(vec!["10.0.0.0/8".to_string()]));
    assert_eq!(parts.expires_at, None);

    // allowedIps absent is omitted; expiresAt is always written.
    let mut no_ips = apply.clone();
    no_ips.payload.allowed_ips = None;
    no_ips.payload.expires_at = Some(1_800_000_000_000);
    assert!(
        String::from_utf8(wire::encode(&no_ips))
            .unwrap()
            .ends_with(r#""payload":{"secretHash":"deadbeef","expiresAt":1800000000000}}"#)
    );

    let ack = AckEvent {
        event_id: "00000000-0000-4000-8000-000000000099".into(),
        ts: 1781000125000,
        propagation_secret: "secret-of-sender-A".into(),
        sender_amqp_queue: "x-ged-extract-mistral".into(),
        op: "credential.ack".into(),
        ack_event_id: "00000000-0000-4000-8000-000000000001".into(),
        ack_result: "applied".into(),
        ack_reason: None,
    };
    let bytes = wire::encode(&ack);
    assert_eq!(
        std::str::from_utf8(&bytes).unwrap(),
        r#"{"eventId":"00000000-0000-4000-8000-000000000099","ts":1781000125000,"propagationSecret":"secret-of-sender-A","senderAmqpQueue":"x-ged-extract-mistral","op":"credential.ack","ackEventId":"00000000-0000-4000-8000-000000000001","ackResult":"applied","ackReason":null}"#
    );
    let parts = decode(&bytes).unwrap().ack_parts();
    assert_eq!(
        parts.ack_event_id.as_deref(),
        Some("00000000-0000-4000-8000-000000000001")
    );
    assert_eq!(parts.ack_result.as_deref(), Some("applied"));
    assert_eq!(parts.ack_reason, None);
}

#[test]
fn decode_checks_in_order_with_node_messages() {
    let cases: &[(&str, &str)] = &[
        ("[1]", "Event is not an object"),
        ("null", "Event is not an object"),
        (r#"{"hello":"world"}"#, "Event has no eventId"),
        (r#"{"eventId":""}"#, "Event has no eventId"),
        (r#"{"eventId":"e","ts":"1"}"#, "Event has no valid ts"),
        (
            r#"{"eventId":"e","ts":1}"#,
            "Event has no propagationSecret",
        ),
        (
            r#"{"eventId":"e","ts":1,"propagationSecret":5}"#,
            "Event has no propagationSecret",
        ),
        (
            r#"{"eventId":"e","ts":1,"propagationSecret":""}"#,
            "Event has no senderAmqpQueue",
        ),
        (
            r#"{"eventId":"e","ts":1,"propagationSecret":"","senderAmqpQueue":"a"}"#,
            "Event has no op",
        ),
    ];
    for (body, msg) in cases {
        assert_eq!(decode(body.as_bytes()).unwrap_err(), *msg, "{body}");
    }
    assert!(decode(b"not json").is_err());
    // Floats and exponents are finite numbers; extra fields are ignored.
    let env = decode(br#"{"eventId":"e","ts":1.5e3,"propagationSecret":"","senderAmqpQueue":"a","op":"x","extra":1}"#).unwrap();
    assert_eq!(env.ts, 1500.0);
}

#[test]
fn secret_check_is_length_then_constant_time() {
    assert!(propagation_secret_matches("foo", "foo"));
    assert!(!propagation_secret_matches("foo", "bar"));
    assert!(!propagation_secret_matches("foo", "foobar"));
    assert!(propagation_secret_matches("", ""));
    assert!(!propagation_secret_matches("é", "ée"));
}

#[test]
fn uuids_are_lowercase_v4() {
    let a = random_uuid().unwrap();
    assert_eq!(a.len(), 36);
    assert_eq!(&a[14..15], "4");
    assert!("89ab".contains(&a[19..20]));
    assert!(
        a.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
    assert_ne!(a, random_uuid().unwrap());
}

// ---------------------------------------------------------------------------------------
// cursor (test/cursor.test.ts)
// ---------------------------------------------------------------------------------------

fn cur(ts: f64, id: &str) -> Cursor {
    Cursor {
        ts,
        event_id: id.into(),
    }
}

#[test]
fn cursor_order() {
    assert!(is_strictly_newer(None, &cur(1.0, "a")));
    assert!(is_strictly_newer(Some(&cur(10.0, "z")), &cur(11.0, "a")));
    assert!(!is_strictly_newer(Some(&cur(10.0, "a")), &cur(9.0, "z")));
    assert!(is_strictly_newer(Some(&cur(10.0, "a")), &cur(10.0, "b")));
    assert!(!is_strictly_newer(Some(&cur(10.0, "b")), &cur(10.0, "a")));
    assert!(!is_strictly_newer(Some(&cur(10.0, "a")), &cur(10.0, "a")));
    // JS compares UTF-16 code units: U+FF61 (0xFF61) sorts after U+10000 (0xD800 0xDC00),
    // the opposite of code point / UTF-8 order.
    assert!(is_strictly_newer(
        Some(&cur(1.0, "\u{10000}")),
        &cur(1.0, "\u{FF61}")
    ));
}

#[test]
fn aggregate_status() {
    assert_eq!(aggregate_final_status([]), "success");
    assert_eq!(aggregate_final_status(["success"]), "success");
    assert_eq!(aggregate_final_status(["success", "success"]), "success");
    assert_eq!(aggregate_final_status(["error", "error"]), "error");
    assert_eq!(aggregate_final_status(["success", "error"]), "partial");
}

// ---------------------------------------------------------------------------------------
// state (test/cursor.test.ts case 5, test/ack-store.test.ts), memory and Redis
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn memory_state_matches_the_ack_store_contract() {
    check_state(&MemoryPropagationState::default(), "client_demo").await;
}

#[tokio::test]
async fn redis_state_matches_the_ack_store_contract_and_key_layout() {
    let prefix = format!("{}:", unique("pfx"));
    let s = RedisPropagationState::connect(REDIS)
        .await
        .unwrap()
        .with_prefix(&prefix);
    check_state(&s, "client_demo").await;

    // The v1 layout at the Redis root (no prefix): keys, field encodings, TTLs.
    let root = RedisPropagationState::connect(REDIS).await.unwrap();
    let client = unique("client");
    let event = unique("event");
    root.record_published_event(
        &event,
        &PublishedEvent {
            client_id: client.clone(),
            target_amqp_queue: "c-nest".into(),
            attempt_count: 1.0,
            sent_at: 1781000123456.0,
        },
    )
    .await
    .unwrap();
    root.write_cursor("http", &client, &cur(1781000123456.0, "ev"))
        .await
        .unwrap();
    let mut c = redis::Client::open(REDIS)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ack: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
        .arg(format!("propagation:ack:{event}"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(ack["clientId"], client);
    assert_eq!(ack["targetAmqpQueue"], "c-nest");
    assert_eq!(ack["attemptCount"], "1");
    assert_eq!(ack["sentAt"], "1781000123456");
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("propagation:ack:{event}"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert!((604_790..=604_800).contains(&ttl), "{ttl}");
    let pending_ttl: i64 = redis::cmd("TTL")
        .arg(format!("propagation:client-pending:{client}"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert!((604_790..=604_800).contains(&pending_ttl));
    // One outstanding event per (client, target).
    let outstanding: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
        .arg(format!("propagation:client-outstanding:{client}"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(outstanding.get("c-nest"), Some(&event));
    let cursor: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
        .arg(format!("propagation:last-seen:http:{client}"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(cursor["ts"], "1781000123456");
    assert_eq!(cursor["eventId"], "ev");
    let cursor_ttl: i64 = redis::cmd("TTL")
        .arg(format!("propagation:last-seen:http:{client}"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(cursor_ttl, -1, "the cursor has no TTL");
    // A cursor written by Node with a non-integer ts string is read as a number.
    let _: () = redis::cmd("HSET")
        .arg(format!("propagation:last-seen:message:{client}"))
        .arg("ts")
        .arg("12.5")
        .arg("eventId")
        .arg("x")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(
        root.read_cursor("message", &client).await.unwrap(),
        Some(cur(12.5, "x"))
    );
    let _: () = redis::cmd("DEL")
        .arg(format!("propagation:ack:{event}"))
        .arg(format!("propagation:client-pending:{client}"))
        .arg(format!("propagation:client-outstanding:{client}"))
        .arg(format!("propagation:last-seen:http:{client}"))
        .arg(format!("propagation:last-seen:message:{client}"))
        .query_async(&mut c)
        .await
        .unwrap();
}

/// A state's Redis commands, logged (command, key) and passed on to `inner`; each
/// `write_batch` is logged as `("BATCH", "")` before its writes.
struct Logged<O> {
    inner: O,
    log: std::sync::Mutex<Vec<(&'static str, String)>>,
}

impl<O> Logged<O> {
    fn new(inner: O) -> Self {
        Self {
            inner,
            log: Default::default(),
        }
    }
    fn note(&self, cmd: &'static str, key: &str) {
        self.log.lock().unwrap().push((cmd, key.to_owned()));
    }
    fn take(&self) -> Vec<(&'static str, String)> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

#[async_trait::async_trait]
impl<O: RedisOps> RedisOps for Logged<O> {
    async fn write_batch(&self, writes: &[Write]) -> Result<(), StoreError> {
        self.note("BATCH", "");
        for w in writes {
            let (cmd, key) = match w {
                Write::HSet { key, .. } => ("HSET", key),
                Write::HDel { key, .. } => ("HDEL", key),
                Write::SAdd { key, .. } => ("SADD", key),
                Write::SRem { key, .. } => ("SREM", key),
                Write::Expire { key, .. } => ("EXPIRE", key),
                Write::Del { key } => ("DEL", key),
            };
            self.note(cmd, key);
        }
        self.inner.write_batch(writes).await
    }
    async fn h_get(&self, key: &str, field: &str) -> Result<Option<String>, StoreError> {
        self.note("HGET", key);
        self.inner.h_get(key, field).await
    }
    async fn h_set(&self, key: &str, fields: &[(&str, &str)]) -> Result<(), StoreError> {
        self.note("HSET", key);
        self.inner.h_set(key, fields).await
    }
    async fn h_get_all(
        &self,
        key: &str,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        self.note("HGETALL", key);
        self.inner.h_get_all(key).await
    }
    async fn h_del(&self, key: &str, field: &str) -> Result<(), StoreError> {
        self.note("HDEL", key);
        self.inner.h_del(key, field).await
    }
    async fn s_add(&self, key: &str, member: &str) -> Result<(), StoreError> {
        self.note("SADD", key);
        self.inner.s_add(key, member).await
    }
    async fn s_rem(&self, key: &str, member: &str) -> Result<(), StoreError> {
        self.note("SREM", key);
        self.inner.s_rem(key, member).await
    }
    async fn s_card(&self, key: &str) -> Result<u64, StoreError> {
        self.note("SCARD", key);
        self.inner.s_card(key).await
    }
    async fn expire(&self, key: &str, seconds: i64) -> Result<(), StoreError> {
        self.note("EXPIRE", key);
        self.inner.expire(key, seconds).await
    }
    async fn del(&self, key: &str) -> Result<(), StoreError> {
        self.note("DEL", key);
        self.inner.del(key).await
    }
}

/// Every key under `prefix` (prefix removed): its content (hash fields, sorted set
/// members) and whether it has the ack TTL (`Some(true)`), no TTL (`None`) or another
/// (`Some(false)`).
async fn dump_keys(prefix: &str) -> std::collections::BTreeMap<String, (String, Option<bool>)> {
    let mut c = redis::Client::open(REDIS)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut out = std::collections::BTreeMap::new();
    for key in redis_keys(REDIS, &format!("{prefix}*")).await {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut c)
            .await
            .unwrap();
        let content = match kind.as_str() {
            "hash" => {
                let h: std::collections::BTreeMap<String, String> = redis::cmd("HGETALL")
                    .arg(&key)
                    .query_async(&mut c)
                    .await
                    .unwrap();
                format!("hash {h:?}")
            }
            "set" => {
                let mut m: Vec<String> = redis::cmd("SMEMBERS")
                    .arg(&key)
                    .query_async(&mut c)
                    .await
                    .unwrap();
                m.sort();
                format!("set {m:?}")
            }
            other => panic!("{key}: unexpected type {other}"),
        };
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut c)
            .await
            .unwrap();
        let ttl = (ttl != -1).then(|| (604_790..=604_800).contains(&ttl));
        out.insert(key[prefix.len()..].to_owned(), (content, ttl));
    }
    out
}

/// `sync`'s batch record (several events of one client, one of them replacing an earlier
/// event of its target, another replacing one of the same batch) ends in the Redis state
/// of recording the events one by one, each client's keys apart, with one HSET and one
/// EXPIRE per key in one batch.
#[tokio::test]
async fn redis_batch_record_ends_as_one_by_one_with_one_hset_and_expire_per_key() {
    let conn = || async {
        authcore::store::RedisStore::connect(REDIS)
            .await
            .unwrap()
            .connection()
    };
    let one_prefix = format!("{}:", unique("one-by-one"));
    let batch_prefix = format!("{}:", unique("batch"));
    let one = PropagationStore::new(conn().await).with_prefix(&one_prefix);
    let logged = Arc::new(Logged::new(conn().await));
    let batch =
        PropagationStore::new(logged.clone() as Arc<dyn RedisOps>).with_prefix(&batch_prefix);
    let ev = |client: &str, target: &str, sent_at: f64| PublishedEvent {
        client_id: client.into(),
        target_amqp_queue: target.into(),
        attempt_count: 1.0,
        sent_at,
    };
    let x = [
        ("e1".to_string(), ev("x", "b", 101.0)),
        ("e2".to_string(), ev("x", "c", 102.0)),
        ("e3".to_string(), ev("x", "d", 103.0)),
        ("e4".to_string(), ev("x", "c", 104.0)),
    ];
    let y = [
        ("f1".to_string(), ev("y", "b", 201.0)),
        ("f2".to_string(), ev("y", "c", 202.0)),
    ];
    // x's earlier event to b, still outstanding.
    for s in [&one as &dyn PropagationState, &batch] {
        s.record_published_event("e0", &ev("x", "b", 100.0))
            .await
            .unwrap();
    }
    for (id, rec) in x.iter().chain(&y) {
        one.record_published_event(id, rec).await.unwrap();
    }
    for events in [&x[..], &y[..]] {
        let outstanding = batch
            .outstanding_events(&events[0].1.client_id)
            .await
            .unwrap();
        logged.take();
        batch
            .record_published_events(&outstanding, events)
            .await
            .unwrap();
        let log = logged.take();
        assert_eq!(
            log.iter().filter(|(c, _)| *c == "BATCH").count(),
            1,
            "{log:?}"
        );
        for (cmd, key) in &log {
            if ["HSET", "EXPIRE"].contains(cmd) {
                let n = log.iter().filter(|(c, k)| c == cmd && k == key).count();
                assert_eq!(n, 1, "{cmd} {key} in {log:?}");
            }
        }
    }

    let after = dump_keys(&batch_prefix).await;
    assert_eq!(after, dump_keys(&one_prefix).await);
    let ack = |client: &str, target: &str, sent_at: &str| {
        let h = format!(
            "hash {{\"attemptCount\": \"1\", \"clientId\": \"{client}\", \"sentAt\": \"{sent_at}\", \"targetAmqpQueue\": \"{target}\"}}"
        );
        (h, Some(true))
    };
    let hash = |fields: &[(&str, &str)], ttl: Option<bool>| {
        let h: std::collections::BTreeMap<&str, &str> = fields.iter().copied().collect();
        (format!("hash {h:?}"), ttl)
    };
    let set = |members: &[&str]| (format!("set {members:?}"), Some(true));
    let expected: std::collections::BTreeMap<String, (String, Option<bool>)> = [
        // e0 (replaced by e1) and e2 (replaced by e4 in the same batch) are gone.
        ("propagation:ack:e1", ack("x", "b", "101")),
        ("propagation:ack:e3", ack("x", "d", "103")),
        ("propagation:ack:e4", ack("x", "c", "104")),
        ("propagation:ack:f1", ack("y", "b", "201")),
        ("propagation:ack:f2", ack("y", "c", "202")),
        ("propagation:client-pending:x", set(&["e1", "e3", "e4"])),
        ("propagation:client-pending:y", set(&["f1", "f2"])),
        (
            "propagation:client-outstanding:x",
            hash(&[("b", "e1"), ("c", "e4"), ("d", "e3")], Some(true)),
        ),
        (
            "propagation:client-outstanding:y",
            hash(&[("b", "f1"), ("c", "f2")], Some(true)),
        ),
        ("propagation:client-last-ts:x", hash(&[("ts", "104")], None)),
        ("propagation:client-last-ts:y", hash(&[("ts", "202")], None)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(after, expected);
    delete_redis_keys(REDIS, &format!("{one_prefix}*")).await;
    delete_redis_keys(REDIS, &format!("{batch_prefix}*")).await;
}

// ---------------------------------------------------------------------------------------
// The protocol between peers (in-process broker, memory stores)
// ---------------------------------------------------------------------------------------

fn directory() -> MemoryManagement {
    peers_directory(&["mgmt", "b", "c", "ro"])
}

#[tokio::test]
async fn sync_skips_a_client_changed_after_its_fetch_and_the_next_sync_sends_the_change() {
    let mesh = Mesh::new();
    let m = directory();
    let a = mesh.peer("mgmt", Some(m.clone())).await;
    let b = mesh.peer("b", Some(directory())).await;
    let ensure = |client: &'static str, plain: &'static str| EnsureInput {
        client_id: client.into(),
        secret: plain.into(),
        targets: vec!["b".into()],
        ..Default::default()
    };
    a.propagator
        .ensure(ensure("moved", "plain-1"))
        .await
        .unwrap();
    a.propagator
        .ensure(ensure("still", "plain-s"))
        .await
        .unwrap();
    let hash = |plain: &str| authcore::hmac::hash_client_secret(plain, Some("pepper-of-mgmt"));

    // The sync reads both rows; "moved" is ensured again before the sync handles it.
    let (fetched_tx, fetched) = tokio::sync::oneshot::channel();
    let (go, go_rx) = tokio::sync::oneshot::channel();
    *m.fetch_pause.lock().unwrap() = Some((fetched_tx, go_rx));
    let (s, ()) = tokio::join!(a.propagator.sync(), async {
        fetched.await.unwrap();
        a.propagator
            .ensure(ensure("moved", "plain-2"))
            .await
            .unwrap();
        go.send(()).unwrap();
    });
    let s = s.unwrap();
    assert_eq!(
        (s.propagations_read, s.targets_published, s.targets_retrying),
        (2, 1, 1)
    );
    assert!(
        a.lines
            .any("[propagation] moved changed since this sync read it; the next sync sends it"),
        "{:?}",
        a.lines.last(5)
    );
    wait_for(5, "still applied on b", || async {
        hash_of(&b.http, "still").await == Some(hash("plain-s"))
    })
    .await;
    assert_eq!(
        hash_of(&b.http, "moved").await,
        None,
        "the stale row was not sent"
    );
    assert_eq!(m.status("moved", "b").as_deref(), Some("pending"));

    // The next sync sends the new secret (a change before its fetch does not skip it).
    a.propagator
        .ensure(ensure("moved", "plain-3"))
        .await
        .unwrap();
    let s = a.propagator.sync().await.unwrap();
    assert_eq!(
        (s.propagations_read, s.targets_published, s.targets_retrying),
        (1, 1, 0)
    );
    wait_for(5, "moved applied on b", || async {
        hash_of(&b.http, "moved").await == Some(hash("plain-3"))
    })
    .await;
}

#[tokio::test]
async fn ensure_sync_rotate_revoke_across_three_peers() {
    let mesh = Mesh::new();
    let m = directory();
    let a = mesh.peer_with_message("mgmt", Some(m.clone())).await;
    let b = mesh.peer_with_message("b", Some(directory())).await;
    let c = mesh.peer_with_message("c", Some(directory())).await;

    // ensure: create (absent locally), applied locally at once, nothing published yet.
    let r = a
        .propagator
        .ensure(EnsureInput {
            client_id: "partner".into(),
            secret: "plain-A".into(),
            targets: vec!["b".into(), "c".into()],
            allowed_ips: Some(vec!["10.0.0.0/8".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.op, "credential.create");
    let hash_a = hash_of(&a.http, "partner").await.unwrap();
    assert_eq!(
        hash_a,
        authcore::hmac::hash_client_secret("plain-A", Some("pepper-of-mgmt"))
    );
    assert_eq!(hash_of(&b.http, "partner").await, None);
    assert_eq!(m.status("partner", "b").as_deref(), Some("pending"));

    let s = a.propagator.sync().await.unwrap();
    assert_eq!(
        (s.propagations_read, s.targets_published, s.targets_retrying),
        (1, 2, 0)
    );
    // The hash is shipped as is (distinct peppers per peer), with the allowed IPs.
    wait_for(5, "both targets applied", || async {
        hash_of(&b.http, "partner").await.as_deref() == Some(hash_a.as_str())
            && hash_of(&c.http, "partner").await.as_deref() == Some(hash_a.as_str())
    })
    .await;
    let rec = b.http.get("partner").await.unwrap().unwrap();
    assert_eq!(rec.record.allowed_ips, vec!["10.0.0.0/8".to_string()]);
    wait_for(5, "fully propagated", || async { !m.db().fully.is_empty() }).await;
    assert_eq!(
        m.db().fully,
        vec![("partner".to_string(), "success".to_string())]
    );
    assert_eq!(m.status("partner", "b").as_deref(), Some("success"));
    assert_eq!(m.status("partner", "c").as_deref(), Some("success"));
    assert!(
        m.db().credentials["partner"].secret_plain.is_none(),
        "plain cleared"
    );
    // Publish-once: a second sync has nothing to do.
    let s = a.propagator.sync().await.unwrap();
    assert_eq!((s.propagations_read, s.targets_published), (0, 0));

    // ensure again: update; rotate: new hash everywhere.
    let r = a
        .propagator
        .ensure(EnsureInput {
            client_id: "partner".into(),
            secret: "plain-A".into(),
            targets: vec![],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.op, "credential.update");
    a.propagator
        .rotate(RotateUsage {
            client_id: "partner".into(),
            secret: "plain-A-2".into(),
            track: None,
        })
        .await
        .unwrap();
    let hash_2 = hash_of(&a.http, "partner").await.unwrap();
    assert_ne!(hash_2, hash_a);
    let s = a.propagator.sync().await.unwrap();
    assert_eq!(s.targets_published, 2);
    wait_for(5, "rotation applied", || async {
        hash_of(&b.http, "partner").await.as_deref() == Some(hash_2.as_str())
            && hash_of(&c.http, "partner").await.as_deref() == Some(hash_2.as_str())
    })
    .await;

    // revoke: deleted locally at once, then everywhere. (First the rotation's ACKs: a late
    // one would mark its row "success" after revoke set it back to pending, the original
    // adapter contract's race.)
    wait_for(5, "rotation acknowledged", || async {
        m.db().fully.len() == 2
    })
    .await;
    a.propagator
        .revoke(RevokeInput {
            client_id: "partner".into(),
            targets: vec!["b".into(), "c".into()],
            track: None,
        })
        .await
        .unwrap();
    assert_eq!(hash_of(&a.http, "partner").await, None);
    a.propagator.sync().await.unwrap();
    wait_for(5, "revocation applied", || async {
        hash_of(&b.http, "partner").await.is_none() && hash_of(&c.http, "partner").await.is_none()
    })
    .await;
    wait_for(5, "revocation acknowledged", || async {
        m.db().fully.len() == 3
    })
    .await;

    // A local-only credential (targets: []) stays on its peer.
    a.propagator
        .ensure(EnsureInput {
            client_id: "local".into(),
            secret: "plain-L".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(hash_of(&a.http, "local").await.is_some());
    assert_eq!(a.propagator.sync().await.unwrap().targets_published, 0);
    assert_eq!(hash_of(&b.http, "local").await, None);
    for p in [&a, &b, &c] {
        p.propagator.close().await;
    }
}

/// `try_begin_ensure`: the host runs the steps itself; the client lock is held from the
/// start to the ticket's drop, and an outstanding event of a listed target says stop:
/// retired before any write.
#[tokio::test]
async fn a_host_run_ensure_holds_the_client_lock_and_retires_before_its_writes() {
    let mesh = Mesh::new();
    let m = directory();
    let state = Arc::new(MemoryPropagationState::default());
    let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
    let a = start_peer(
        "mgmt",
        "secret-of-mgmt",
        auth(store, "hmac:http", "pepper-of-mgmt"),
        None,
        Some(m.clone()),
        state.clone(),
        mesh.transport("mgmt"),
    )
    .await;
    let input = |client: &str, secret: &str| EnsureInput {
        client_id: client.into(),
        secret: secret.into(),
        targets: vec!["b".into()],
        ..Default::default()
    };
    // b is not running: the event stays outstanding.
    a.propagator
        .ensure(input("partner", "plain-1"))
        .await
        .unwrap();
    assert_eq!(a.propagator.sync().await.unwrap().targets_published, 1);
    assert_eq!(state.outstanding_events("partner").await.unwrap().len(), 1);

    let HostEnsure {
        steps,
        sink,
        read,
        mut ticket,
    } = a
        .propagator
        .try_begin_ensure(input("partner", "plain-2"))
        .unwrap()
        .unwrap();
    assert_eq!(steps.exists, None);
    assert_eq!(steps.track, "http");
    assert_eq!(
        steps.secret_hash,
        authcore::hmac::hash_client_secret("plain-2", Some("pepper-of-mgmt"))
    );
    // The client lock is held: another change of the client cannot begin, another client's can.
    assert!(
        a.propagator
            .try_begin_ensure(input("partner", "plain-3"))
            .unwrap()
            .is_none()
    );
    assert!(
        a.propagator
            .try_begin_ensure(input("other", "plain-3"))
            .unwrap()
            .is_some()
    );
    // A waiting change of the client goes on only after the ticket is dropped.
    let waiting = a.propagator.ensure(input("partner", "plain-5"));
    tokio::pin!(waiting);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(50), &mut waiting)
            .await
            .is_err()
    );

    let HostRead::Runtime(read) = read else {
        panic!("a memory state is read by the state")
    };
    assert!(!read.await, "an outstanding event of a listed target: stop");
    ticket.retire().await.unwrap();
    assert!(
        state
            .outstanding_events("partner")
            .await
            .unwrap()
            .is_empty()
    );
    let exists = sink.exists("partner").await.unwrap();
    let op = ensure_steps_each(
        &m,
        sink.as_ref(),
        EnsureSteps {
            exists: Some(exists),
            ..steps
        },
    )
    .await
    .unwrap();
    assert_eq!(op, "credential.update");
    assert_eq!(
        hash_of(&a.http, "partner").await.as_deref(),
        Some(authcore::hmac::hash_client_secret("plain-2", Some("pepper-of-mgmt")).as_str())
    );
    drop(ticket);
    assert_eq!(waiting.await.unwrap().op, "credential.update");
    assert_eq!(
        hash_of(&a.http, "partner").await.as_deref(),
        Some(authcore::hmac::hash_client_secret("plain-5", Some("pepper-of-mgmt")).as_str())
    );

    // Nothing outstanding now: the verdict is proceed.
    let h = a
        .propagator
        .try_begin_ensure(input("partner", "plain-6"))
        .unwrap()
        .unwrap();
    let HostRead::Runtime(read) = h.read else {
        panic!("a memory state is read by the state")
    };
    assert!(read.await);
    drop(h.ticket);

    // The checks of ensure, in its order (management, then the track's auth instance).
    let ro = mesh.peer("ro", None).await;
    assert!(matches!(
        ro.propagator.try_begin_ensure(input("partner", "x")),
        Err(PropagationError::ManagementNotConfigured)
    ));
    let no_message = a.propagator.try_begin_ensure(EnsureInput {
        track: Some("message".into()),
        ..input("partner", "x")
    });
    assert!(
        matches!(&no_message, Err(PropagationError::InvalidOptions(msg)) if msg == "No message auth instance configured"),
        "{no_message:?}"
    );
    let message = Some("message".to_string());
    assert!(matches!(
        ro.propagator
            .ensure(EnsureInput {
                track: message.clone(),
                ..input("partner", "x")
            })
            .await,
        Err(PropagationError::ManagementNotConfigured)
    ));

    // rotate makes the same checks in the same order, before it asks whether the client
    // exists; revoke makes the management check only (it needs no auth instance).
    let rotate = |client: &str| RotateUsage {
        client_id: client.into(),
        secret: "x".into(),
        track: message.clone(),
    };
    assert!(matches!(
        ro.propagator.rotate(rotate("partner")).await,
        Err(PropagationError::ManagementNotConfigured)
    ));
    let no_message = a.propagator.rotate(rotate("ghost")).await;
    assert!(
        matches!(&no_message, Err(PropagationError::InvalidOptions(msg)) if msg == "No message auth instance configured"),
        "{no_message:?}"
    );
    let revoke = || RevokeInput {
        client_id: "partner".into(),
        targets: vec![],
        track: message.clone(),
    };
    assert!(matches!(
        ro.propagator.revoke(revoke()).await,
        Err(PropagationError::ManagementNotConfigured)
    ));
    assert_eq!(a.propagator.revoke(revoke()).await.unwrap(), "partner");
    assert!(
        hash_of(&a.http, "partner").await.is_some(),
        "a revoke of the message track leaves the http credential"
    );
}

/// A state the host's Redis client reaches: the host reads the outstanding events itself
/// (one `HGETALL` of the key the core names) and hands the answer to the ticket.
#[tokio::test]
async fn a_host_run_ensure_can_take_the_hosts_read_of_the_outstanding_events() {
    let mesh = Mesh::new();
    let state = Arc::new(MemoryPropagationState::default().host_readable());
    let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
    let a = start_peer(
        "mgmt",
        "secret-of-mgmt",
        auth(store, "hmac:http", "pepper-of-mgmt"),
        None,
        Some(directory()),
        state.clone(),
        mesh.transport("mgmt"),
    )
    .await;
    let input = |secret: &str| EnsureInput {
        client_id: "partner".into(),
        secret: secret.into(),
        targets: vec!["b".into()],
        ..Default::default()
    };
    a.propagator.ensure(input("plain-1")).await.unwrap();
    assert_eq!(a.propagator.sync().await.unwrap().targets_published, 1);
    let outstanding = state.outstanding_events("partner").await.unwrap();
    assert_eq!(outstanding.len(), 1);

    let mut h = a
        .propagator
        .try_begin_ensure(input("plain-2"))
        .unwrap()
        .unwrap();
    let HostRead::Host { key } = &h.read else {
        panic!("a host-readable state is read by the host")
    };
    assert_eq!(key, "propagation:client-outstanding:partner");
    // An event of a listed target: stop, and the retirement uses the host's answer.
    assert!(!h.ticket.host_read(Ok(outstanding.clone())));
    assert!(!h.ticket.host_read(Ok(Default::default())), "one answer");
    h.ticket.retire().await.unwrap();
    assert!(
        state
            .outstanding_events("partner")
            .await
            .unwrap()
            .is_empty()
    );
    drop(h);

    // Another target's event only: proceed.
    let mut h = a
        .propagator
        .try_begin_ensure(input("plain-3"))
        .unwrap()
        .unwrap();
    let other = [("c".to_string(), "e-1".to_string())].into_iter().collect();
    assert!(h.ticket.host_read(Ok(other)));
    drop(h);

    // A failed read: stop, and the retirement fails with it.
    let mut h = a
        .propagator
        .try_begin_ensure(input("plain-4"))
        .unwrap()
        .unwrap();
    assert!(!h.ticket.host_read(Err("connection lost".into())));
    let err = h.ticket.retire().await.unwrap_err();
    assert_eq!(err.code(), "STORE_COMMAND", "{err}");
    assert!(err.to_string().contains("connection lost"), "{err}");

    // The async ensure of the same propagator still reads through the state.
    drop(h);
    assert_eq!(
        a.propagator.ensure(input("plain-5")).await.unwrap().op,
        "credential.update"
    );
}

#[tokio::test]
async fn receive_only_peers_apply_but_never_complete_the_sender() {
    let mesh = Mesh::new();
    let m = directory();
    let a = mesh.peer_with_message("mgmt", Some(m.clone())).await;
    let b = mesh.peer_with_message("b", Some(directory())).await;
    let ro = mesh.peer_with_message("ro", None).await;

    // Receive-only: the four management calls are refused, by the check a binding makes
    // before it reads their arguments.
    assert_eq!(
        ro.propagator.require_management().unwrap_err().code(),
        "MANAGEMENT_NOT_CONFIGURED"
    );
    assert!(a.propagator.require_management().is_ok());
    let e = ro.propagator.sync().await.unwrap_err();
    assert_eq!(e.code(), "MANAGEMENT_NOT_CONFIGURED");
    assert_eq!(
        e.to_string(),
        "ensure/rotate/revoke/sync require the management adapter to be configured in createPropagator options"
    );
    assert_eq!(
        ro.propagator
            .ensure(EnsureInput::default())
            .await
            .unwrap_err()
            .code(),
        "MANAGEMENT_NOT_CONFIGURED"
    );
    assert_eq!(
        ro.propagator
            .rotate(RotateUsage::default())
            .await
            .unwrap_err()
            .code(),
        "MANAGEMENT_NOT_CONFIGURED"
    );
    assert_eq!(
        ro.propagator
            .revoke(RevokeInput::default())
            .await
            .unwrap_err()
            .code(),
        "MANAGEMENT_NOT_CONFIGURED"
    );

    // Targets [b (full), ro (receive-only)]: b's ACK must not complete the credential
    // while ro has not answered (the original's race, spec §10).
    a.propagator
        .ensure(EnsureInput {
            client_id: "k".into(),
            secret: "s".into(),
            targets: vec!["b".into(), "ro".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    a.propagator.sync().await.unwrap();
    wait_for(5, "ro applied", || async {
        hash_of(&ro.http, "k").await.is_some()
    })
    .await;
    wait_for(5, "b acknowledged", || async {
        m.status("k", "b").as_deref() == Some("success")
    })
    .await;
    // ro's ACK carries "" and is dropped at a's secret check.
    wait_for(5, "ro's ACK dropped", || async {
        a.lines.any("propagation-secret-mismatch from ro")
    })
    .await;
    assert!(ro.lines.any("ack to mgmt for k has no source secret"));
    assert_eq!(m.status("k", "ro").as_deref(), Some("sent"));
    assert!(
        m.db().fully.is_empty(),
        "not fully propagated while ro is outstanding"
    );
    assert!(m.db().credentials["k"].secret_plain.is_some());
    for p in [&a, &b, &ro] {
        p.propagator.close().await;
    }
}

#[tokio::test]
async fn receiver_pipeline_drops_answers_and_requeues_like_the_original() {
    let mesh = Mesh::new();
    let b = mesh.peer("b", Some(directory())).await;
    // A hand-driven sender: its queue collects b's ACKs.
    let sender = mesh.broker.transport("hmac-mgmt.queue");
    let inbox = "hmac-mgmt.queue";
    let send = |body: String| {
        let t = mesh.transport("x");
        async move { t.publish("hmac-b.queue", body.as_bytes()).await.unwrap() }
    };
    let apply = |id: &str, ts: i64, secret: &str, op: &str, track: &str, hash: &str| {
        format!(
            r#"{{"eventId":"{id}","ts":{ts},"propagationSecret":"{secret}","senderAmqpQueue":"mgmt","op":"{op}","track":"{track}","clientId":"cid","payload":{{"secretHash":"{hash}","expiresAt":null}}}}"#
        )
    };

    // Malformed, wrong secret, unknown op: acked and dropped, no ACK.
    send("not json".into()).await;
    send(apply("e0", 5, "wrong", "credential.create", "http", "aa")).await;
    send(apply(
        "e0",
        5,
        "secret-of-b",
        "credential.nope",
        "http",
        "aa",
    ))
    .await;
    wait_for(5, "drops logged", || async {
        b.lines.any("dropping malformed event")
            && b.lines
                .any("propagation-secret-mismatch from mgmt, dropping eventId=e0")
            && b.lines
                .any("unknown event op=\"credential.nope\", dropping")
    })
    .await;
    assert_eq!(mesh.broker.depth(inbox), Some(0));
    assert_eq!(hash_of(&b.http, "cid").await, None);

    // An event above the size cap is dropped on its length, before JSON parsing, although
    // it is otherwise a valid apply (300 KB of allowedIps).
    let ips = vec!["\"10.0.0.1\""; 30_000].join(",");
    let big = format!(
        r#"{{"eventId":"big1","ts":5,"propagationSecret":"secret-of-b","senderAmqpQueue":"mgmt","op":"credential.create","track":"http","clientId":"big","payload":{{"secretHash":"aa","expiresAt":null,"allowedIps":[{ips}]}}}}"#
    );
    assert!(big.len() > authcore::limits::MAX_PROPAGATION_MESSAGE_BYTES);
    send(big).await;
    wait_for(5, "oversized event dropped", || async {
        b.lines
            .any("dropping malformed event: Event exceeds 262144 bytes")
    })
    .await;
    assert_eq!(hash_of(&b.http, "big").await, None);
    assert_eq!(
        mesh.broker.depth(inbox),
        Some(0),
        "no ACK for a dropped event"
    );

    // A valid apply: applied (hash trimmed and lowercased by the core), ACK applied.
    send(apply(
        "e2",
        10,
        "secret-of-b",
        "credential.create",
        "http",
        " ABCD ",
    ))
    .await;
    wait_for(5, "ACK for e2", || async {
        mesh.broker.depth(inbox) == Some(1)
    })
    .await;
    assert_eq!(hash_of(&b.http, "cid").await.as_deref(), Some("abcd"));
    // Stale: equal ts and lower eventId: not applied, ACK `error` with reason `stale` (the
    // original says `applied`); a replay of e2 itself: not applied again, ACK `applied`.
    send(apply(
        "e1",
        10,
        "secret-of-b",
        "credential.update",
        "http",
        "ffff",
    ))
    .await;
    send(apply(
        "e2",
        10,
        "secret-of-b",
        "credential.update",
        "http",
        "ffff",
    ))
    .await;
    wait_for(5, "ACKs for stale events", || async {
        mesh.broker.depth(inbox) == Some(3)
    })
    .await;
    assert_eq!(hash_of(&b.http, "cid").await.as_deref(), Some("abcd"));
    assert!(b.lines.any("dropping stale event e1 for cid"));
    // No message store on b: ACK error with the original's reason.
    send(apply(
        "e3",
        11,
        "secret-of-b",
        "credential.create",
        "message",
        "aa",
    ))
    .await;
    wait_for(5, "ACK for e3", || async {
        mesh.broker.depth(inbox) == Some(4)
    })
    .await;
    // Delete: applied, cursor advanced.
    send(apply(
        "e4",
        12,
        "secret-of-b",
        "credential.delete",
        "http",
        "",
    ))
    .await;
    wait_for(5, "ACK for e4", || async {
        mesh.broker.depth(inbox) == Some(5)
    })
    .await;
    assert_eq!(hash_of(&b.http, "cid").await, None);
    // Missing payload on a create, and a sender that is no queue name: dropped (Node
    // would requeue them forever).
    send(r#"{"eventId":"e5","ts":13,"propagationSecret":"secret-of-b","senderAmqpQueue":"mgmt","op":"credential.create","track":"http","clientId":"cid"}"#.into()).await;
    send(r#"{"eventId":"e6","ts":14,"propagationSecret":"secret-of-b","senderAmqpQueue":"bad name","op":"credential.create","track":"http","clientId":"cid","payload":{"secretHash":"aa","expiresAt":null}}"#.into()).await;
    // An allowedIps entry the core rejects: answered with an error ACK, not requeued.
    send(r#"{"eventId":"e7","ts":15,"propagationSecret":"secret-of-b","senderAmqpQueue":"mgmt","op":"credential.create","track":"http","clientId":"cid","payload":{"secretHash":"aa","allowedIps":["not-an-ip"],"expiresAt":null}}"#.into()).await;
    wait_for(5, "ACK for e7", || async {
        mesh.broker.depth(inbox) == Some(6)
    })
    .await;
    assert!(
        b.lines
            .any("dropping malformed event e5: Event has no payload")
    );
    assert!(
        b.lines
            .any("dropping event e6: senderAmqpQueue is not a valid queue name")
    );
    assert_eq!(mesh.broker.depth("hmac-b.queue"), Some(0));

    // Read b's ACKs off the sender's queue, in order.
    let acks = Arc::new(std::sync::Mutex::new(Vec::new()));
    struct Collect(Arc<std::sync::Mutex<Vec<Envelope>>>);
    #[async_trait::async_trait]
    impl authcore::propagation::DeliveryHandler for Collect {
        async fn handle(&self, body: Vec<u8>) -> Result<(), String> {
            self.0.lock().unwrap().push(decode(&body).unwrap());
            Ok(())
        }
    }
    sender
        .start_consume(Arc::new(Collect(acks.clone())))
        .await
        .unwrap();
    wait_for(5, "six ACKs read", || async {
        acks.lock().unwrap().len() == 6
    })
    .await;
    let acks = acks.lock().unwrap().clone();
    let view: Vec<(String, Option<String>, Option<String>)> = acks
        .iter()
        .map(|e| {
            let p = e.ack_parts();
            (p.ack_event_id.unwrap(), p.ack_result, p.ack_reason)
        })
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        view,
        vec![
            ("e2".into(), s("applied"), None),
            ("e1".into(), s("error"), s("stale")),
            ("e2".into(), s("applied"), None),
            (
                "e3".into(),
                s("error"),
                s("no message auth instance configured")
            ),
            ("e4".into(), s("applied"), None),
            (
                "e7".into(),
                s("error"),
                acks[5].ack_parts().ack_reason.clone()
            ),
        ]
    );
    assert!(
        view[5].2.as_deref().unwrap().contains("not-an-ip"),
        "{:?}",
        view[5].2
    );
    for ack in &acks {
        assert_eq!(ack.op, "credential.ack");
        assert_eq!(ack.sender_amqp_queue, "b");
        assert_eq!(
            ack.propagation_secret, "secret-of-mgmt",
            "full mode: the sender's secret from Table 2"
        );
    }
    b.propagator.close().await;
    sender.close().await;
}

/// A credential store that fails its first `n` writes (a Redis outage on the receiver).
struct Flaky {
    inner: MemoryStore,
    failures: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl KvStore for Flaky {
    async fn hget(&self, k: &str, f: &str) -> Result<Option<String>, authcore::store::StoreError> {
        self.inner.hget(k, f).await
    }
    async fn hset(&self, k: &str, f: &str, v: &str) -> Result<(), authcore::store::StoreError> {
        use std::sync::atomic::Ordering;
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(authcore::store::StoreError::Connection("redis down".into()));
        }
        self.inner.hset(k, f, v).await
    }
    async fn hdel(&self, k: &str, f: &str) -> Result<(), authcore::store::StoreError> {
        self.inner.hdel(k, f).await
    }
    async fn hkeys(&self, k: &str) -> Result<Vec<String>, authcore::store::StoreError> {
        self.inner.hkeys(k).await
    }
    async fn get(&self, k: &str) -> Result<Option<String>, authcore::store::StoreError> {
        self.inner.get(k).await
    }
    async fn set_ex(&self, k: &str, v: &str, t: i64) -> Result<(), authcore::store::StoreError> {
        self.inner.set_ex(k, v, t).await
    }
    async fn set_nx_ex(
        &self,
        k: &str,
        v: &str,
        t: i64,
    ) -> Result<bool, authcore::store::StoreError> {
        self.inner.set_nx_ex(k, v, t).await
    }
    async fn del(&self, k: &str) -> Result<(), authcore::store::StoreError> {
        self.inner.del(k).await
    }
    async fn hget_and_claim(
        &self,
        k: &str,
        f: &str,
        nk: &str,
        t: i64,
    ) -> Result<authcore::store::RecordAndClaim, authcore::store::StoreError> {
        self.inner.hget_and_claim(k, f, nk, t).await
    }
}

#[tokio::test]
async fn a_store_failure_on_the_receiver_requeues_until_it_applies() {
    let mesh = Mesh::new();
    let m = directory();
    let a = mesh.peer_with_message("mgmt", Some(m.clone())).await;
    let flaky: Arc<dyn KvStore> = Arc::new(Flaky {
        inner: MemoryStore::new(),
        failures: std::sync::atomic::AtomicUsize::new(2),
    });
    let b = start_peer(
        "b",
        "secret-of-b",
        auth(flaky, "hmac:http", "pepper-of-b"),
        None,
        Some(directory()),
        Arc::new(MemoryPropagationState::default()),
        mesh.transport("b"),
    )
    .await;
    a.propagator
        .ensure(EnsureInput {
            client_id: "k".into(),
            secret: "s".into(),
            targets: vec!["b".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    a.propagator.sync().await.unwrap();
    wait_for(5, "applied after two failures", || async {
        hash_of(&b.http, "k").await.is_some()
    })
    .await;
    wait_for(5, "success", || async { m.db().fully.len() == 1 }).await;
    assert!(b.lines.any("apply failed for k, requeue"));
    assert_eq!(m.calls("markSuccess"), 1, "exactly one ACK");
    a.propagator.close().await;
    b.propagator.close().await;
}

#[tokio::test]
async fn ack_side_bookkeeping_errors_and_unknown_acks() {
    let mesh = Mesh::new();
    let m = directory();
    let a = mesh.peer_with_message("mgmt", Some(m.clone())).await;
    let b = mesh.peer("b", Some(directory())).await; // no message store

    // An error ACK from b → markTargetError with its reason; the aggregate is "error".
    a.propagator
        .ensure(EnsureInput {
            client_id: "msg-client".into(),
            secret: "s".into(),
            targets: vec!["b".into()],
            track: Some("message".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    a.propagator.sync().await.unwrap();
    wait_for(5, "error ACK", || async { m.db().fully.len() == 1 }).await;
    assert_eq!(m.status("msg-client", "b").as_deref(), Some("error"));
    assert_eq!(
        m.db().reasons[&("msg-client".to_string(), "b".to_string())],
        "no message auth instance configured"
    );
    assert_eq!(m.db().fully[0].1, "error");

    // An ACK for an unknown eventId: dropped, no callbacks.
    let before = m.db().calls.len();
    let t = mesh.transport("y");
    t.publish(
        "hmac-mgmt.queue",
        br#"{"eventId":"z","ts":1,"propagationSecret":"secret-of-mgmt","senderAmqpQueue":"b","op":"credential.ack","ackEventId":"nope","ackResult":"applied","ackReason":null}"#,
    )
    .await
    .unwrap();
    wait_for(5, "unknown ACK dropped", || async {
        a.lines
            .any("received ack for unknown eventId=nope, dropping")
    })
    .await;
    assert_eq!(m.db().calls.len(), before);

    // A management callback failing during ACK handling is logged and swallowed; the
    // Redis result stays recorded.
    *m.fail.lock().unwrap() = Some(("markSuccess".into(), "db down".into()));
    a.propagator
        .ensure(EnsureInput {
            client_id: "c2".into(),
            secret: "s".into(),
            targets: vec!["b".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    a.propagator.sync().await.unwrap();
    wait_for(5, "callback failure logged", || async {
        a.lines
            .any("management callback failed during ack handling for c2")
    })
    .await;
    assert_eq!(
        mesh.broker.depth("hmac-mgmt.queue"),
        Some(0),
        "the ACK was acked"
    );
    *m.fail.lock().unwrap() = None;

    // ensure errors: a track without a store, a callback error escaping unchanged.
    let e = b
        .propagator
        .ensure(EnsureInput {
            client_id: "x".into(),
            secret: "s".into(),
            track: Some("message".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        ("INVALID_OPTIONS", "No message auth instance configured")
    );
    let e = a
        .propagator
        .rotate(RotateUsage {
            client_id: "ghost".into(),
            secret: "s".into(),
            track: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        (
            "UNKNOWN_CLIENT",
            "rotate: clientId \"ghost\" does not exist"
        )
    );
    *m.fail.lock().unwrap() = Some(("upsert".into(), "constraint violated".into()));
    let e = a
        .propagator
        .ensure(EnsureInput {
            client_id: "x".into(),
            secret: "s".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        ("CALLBACK_ERROR", "constraint violated")
    );
    assert_eq!(
        hash_of(&a.http, "x").await,
        None,
        "nothing applied when the upsert failed"
    );
    *m.fail.lock().unwrap() = None;
    let e = a
        .propagator
        .ensure(EnsureInput {
            client_id: "".into(),
            secret: "s".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), "MISSING_CLIENT_ID");
    a.propagator.close().await;
    b.propagator.close().await;
}

#[tokio::test]
async fn sync_counts_failed_publishes_as_retrying_and_rejects_a_null_plain() {
    let mesh = Mesh::new();
    let m = directory();
    let a = mesh.peer_with_message("mgmt", Some(m.clone())).await;
    let b = mesh.peer_with_message("b", Some(directory())).await;
    // One good target and one whose name is no queue name: the bad one is retried later,
    // is never marked sent and never sits in the pending set.
    a.propagator
        .ensure(EnsureInput {
            client_id: "k".into(),
            secret: "s".into(),
            targets: vec!["b".into(), "bad name".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let s = a.propagator.sync().await.unwrap();
    assert_eq!(
        (s.propagations_read, s.targets_published, s.targets_retrying),
        (1, 1, 1)
    );
    assert_eq!(m.status("k", "bad name").as_deref(), Some("pending"));
    wait_for(5, "b acknowledged", || async {
        m.status("k", "b").as_deref() == Some("success")
    })
    .await;
    assert!(
        m.db().fully.is_empty(),
        "not complete: one target was never sent"
    );
    assert!(
        a.lines
            .any("publish to bad name for k failed: Invalid amqpQueue")
    );

    // After close, every publish fails: all retrying, rows stay pending.
    a.propagator.close().await;
    m.db()
        .status
        .remove(&("k".to_string(), "bad name".to_string()));
    m.db()
        .status
        .insert(("k".into(), "b".into()), "pending".into());
    let s = a.propagator.sync().await.unwrap();
    assert_eq!((s.targets_published, s.targets_retrying), (0, 1));
    assert_eq!(m.status("k", "b").as_deref(), Some("pending"));

    // A null plain on a non-delete op rejects the sync.
    {
        let mut db = m.db();
        let c = db.credentials.get_mut("k").unwrap();
        c.secret_plain = None;
        c.fresh = false;
    }
    // (the adapter infers delete from a null plain; force an update row by hand)
    *m.pending_op.lock().unwrap() = Some("credential.update".into());
    let p = Propagator::start(
        PropagatorParts {
            amqp_queue: "mgmt3".into(),
            propagation_secret: "x".into(),
            http: Some(Arc::new(auth(
                Arc::new(MemoryStore::new()),
                "hmac:http",
                "p",
            ))),
            message: None,
            management: Some(Arc::new(m.clone())),
            logger: Arc::new(authcore::propagation::NoopLogger),
            event_auth: Default::default(),
            state: Arc::new(MemoryPropagationState::default()),
        },
        mesh.transport("mgmt3"),
    )
    .await
    .unwrap();
    let e = p.sync().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "Plain is null for non-delete op credential.update on k"
    );
    p.close().await;
    b.propagator.close().await;
}

#[tokio::test]
async fn an_ack_before_mark_target_sent_returned_waits_for_it() {
    // The original lets a fast ACK's "success" be overwritten by a late "sent" (§7).
    let mesh = Mesh::new();
    let m = directory();
    m.sent_delay_ms
        .store(300, std::sync::atomic::Ordering::SeqCst);
    let a = mesh.peer_with_message("mgmt", Some(m.clone())).await;
    let b = mesh.peer_with_message("b", Some(directory())).await;
    a.propagator
        .ensure(EnsureInput {
            client_id: "k".into(),
            secret: "s".into(),
            targets: vec!["b".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    a.propagator.sync().await.unwrap();
    // b applied (and ACKed) long before markTargetSent returned.
    assert!(hash_of(&b.http, "k").await.is_some());
    wait_for(5, "fully propagated", || async { m.db().fully.len() == 1 }).await;
    assert_eq!(m.status("k", "b").as_deref(), Some("success"));
    let calls = m.db().calls.clone();
    let sent = calls.iter().position(|c| c == "markSent").unwrap();
    let success = calls.iter().position(|c| c == "markSuccess").unwrap();
    assert!(sent < success, "{calls:?}");
    a.propagator.close().await;
    b.propagator.close().await;
}

#[tokio::test]
async fn named_in_process_brokers_are_shared_per_name() {
    let (a, b, c) = (
        InProcessBroker::named("mesh-1"),
        InProcessBroker::named("mesh-1"),
        InProcessBroker::named("mesh-2"),
    );
    let ta = a.transport("hmac-x.queue");
    ta.publish("hmac-x.queue", b"{}").await.unwrap();
    assert_eq!(b.depth("hmac-x.queue"), Some(1), "same name, same broker");
    assert_eq!(
        c.depth("hmac-x.queue"),
        None,
        "another name, another broker"
    );
}

/// `in_flight`: what waits in consumed queues plus the deliveries consumers hold; a
/// requeued delivery stays counted, a queue nobody consumes is not.
#[tokio::test]
async fn in_process_in_flight_counts_waiting_and_held_deliveries() {
    use authcore::propagation::DeliveryHandler;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::sync::{Notify, mpsc};
    /// Signals each delivery and waits for `go`; then fails once when `fail` is set,
    /// otherwise forwards the body to `next` (when given) and succeeds.
    struct Gate {
        started: mpsc::UnboundedSender<Vec<u8>>,
        go: Arc<Notify>,
        next: Option<(InProcessBroker, &'static str)>,
        fail: AtomicBool,
    }
    #[async_trait::async_trait]
    impl DeliveryHandler for Gate {
        async fn handle(&self, body: Vec<u8>) -> Result<(), String> {
            self.started.send(body.clone()).unwrap();
            self.go.notified().await;
            if self.fail.swap(false, Ordering::SeqCst) {
                return Err("down".into());
            }
            if let Some((broker, queue)) = &self.next {
                broker.inject(queue, &body);
            }
            Ok(())
        }
    }
    let broker = InProcessBroker::new();
    broker.declare_queue("hmac-spy.queue");
    broker.inject("hmac-spy.queue", b"kept");
    assert_eq!(
        broker.in_flight(),
        0,
        "a queue nobody consumes is not counted"
    );

    let (a_tx, mut a_rx) = mpsc::unbounded_channel();
    let (b_tx, mut b_rx) = mpsc::unbounded_channel();
    let (a_go, b_go) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let ta = broker.transport("hmac-a.queue");
    let tb = broker.transport("hmac-b.queue");
    ta.start_consume(Arc::new(Gate {
        started: a_tx,
        go: a_go.clone(),
        next: Some((broker.clone(), "hmac-b.queue")),
        fail: true.into(),
    }))
    .await
    .unwrap();
    tb.start_consume(Arc::new(Gate {
        started: b_tx,
        go: b_go.clone(),
        next: None,
        fail: false.into(),
    }))
    .await
    .unwrap();

    broker.inject("hmac-a.queue", b"m1");
    broker.inject("hmac-a.queue", b"m2");
    assert_eq!(a_rx.recv().await.unwrap(), b"m1");
    assert_eq!(broker.depth("hmac-a.queue"), Some(1), "m1 held, m2 waiting");
    assert_eq!(broker.in_flight(), 2);
    // a fails m1: requeued, redelivered after the pause, still counted.
    a_go.notify_one();
    assert_eq!(a_rx.recv().await.unwrap(), b"m1");
    assert_eq!(broker.in_flight(), 2, "m1 held again, m2 waiting");
    // a forwards m1 to b and acks it; then holds m2 while b holds m1.
    a_go.notify_one();
    assert_eq!(b_rx.recv().await.unwrap(), b"m1");
    assert_eq!(a_rx.recv().await.unwrap(), b"m2");
    assert_eq!(broker.depth("hmac-a.queue"), Some(0));
    assert_eq!(broker.in_flight(), 2, "a holds m2, b holds m1");
    b_go.notify_one();
    a_go.notify_one();
    assert_eq!(b_rx.recv().await.unwrap(), b"m2");
    assert!(broker.in_flight() >= 1, "b holds m2");
    b_go.notify_one();
    wait_for(5, "every delivery acked", || async {
        broker.in_flight() == 0
    })
    .await;
    assert_eq!(broker.depth("hmac-b.queue"), Some(0));
    assert_eq!(broker.take("hmac-spy.queue"), vec![b"kept".to_vec()]);
    ta.close().await;
    tb.close().await;
}

#[tokio::test]
async fn start_validates_like_create_propagator() {
    let mesh = Mesh::new();
    let parts = |name: &str, http: bool| PropagatorParts {
        amqp_queue: name.into(),
        propagation_secret: "s".into(),
        http: http.then(|| {
            Arc::new(auth(Arc::new(MemoryStore::new()), "hmac:http", "p"))
                as Arc<dyn CredentialSink>
        }),
        message: None,
        management: None,
        logger: Arc::new(authcore::propagation::NoopLogger),
        event_auth: Default::default(),
        state: Arc::new(MemoryPropagationState::default()),
    };
    let e = Propagator::start(parts("a", false), mesh.transport("a"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        (
            "INVALID_OPTIONS",
            "At least one of hmacHttpAuth or hmacMessageAuth must be provided"
        )
    );
    let e = Propagator::start(parts("bad/name", true), mesh.transport("a2"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid amqpQueue \"bad/name\": must match [A-Za-z0-9-]+"
    );
}

#[tokio::test]
async fn memory_protocol_selects_a_named_in_process_mesh() {
    use authcore::propagation::config::{AmqpSettings, Broker, create_propagator};
    let settings = |host: &str| AmqpSettings {
        protocol: "memory".into(),
        host: host.into(),
        port: 1.0,
        user: "-".into(),
        password: "-".into(),
        vhost: None,
    };
    assert!(settings("m").check().is_ok());
    let m = directory();
    let mut peers = Vec::new();
    for (name, full) in [("mgmt", true), ("b", false)] {
        let http = auth(Arc::new(MemoryStore::new()), "hmac:http", "p");
        let p = create_propagator(
            PropagatorParts {
                amqp_queue: name.into(),
                propagation_secret: format!("secret-of-{name}").into(),
                http: Some(Arc::new(http.clone())),
                message: None,
                management: full.then(|| Arc::new(m.clone()) as Arc<dyn Management>),
                logger: Arc::new(authcore::propagation::NoopLogger),
                event_auth: Default::default(),
                state: Arc::new(MemoryPropagationState::default()),
            },
            Broker::Amqp(settings("mesh-memory-protocol")),
        )
        .await
        .unwrap();
        peers.push((p, http));
    }
    peers[0]
        .0
        .ensure(EnsureInput {
            client_id: "k".into(),
            secret: "s".into(),
            targets: vec!["b".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(peers[0].0.sync().await.unwrap().targets_published, 1);
    let b = peers[1].1.clone();
    wait_for(5, "applied over the named mesh", || async {
        hash_of(&b, "k").await.is_some()
    })
    .await;
    for (p, _) in &peers {
        p.close().await;
    }
}

/// A propagator dropped without `close()` stops its consumer: the transport holds its
/// delivery handler, which holds the propagator only weakly, so dropping the propagator
/// drops the transport, and the queue can be consumed again (it stayed "already consumed"
/// forever while the handler kept the propagator alive).
#[tokio::test]
async fn a_dropped_propagator_stops_consuming_and_releases_its_queue() {
    let mesh = Mesh::new();
    let start = || {
        Propagator::start(
            PropagatorParts {
                amqp_queue: "dropped".into(),
                propagation_secret: "s".into(),
                http: Some(
                    Arc::new(auth(Arc::new(MemoryStore::new()), "hmac:http", "p"))
                        as Arc<dyn CredentialSink>,
                ),
                message: None,
                management: None,
                logger: Arc::new(authcore::propagation::NoopLogger),
                event_auth: Default::default(),
                state: Arc::new(MemoryPropagationState::default()),
            },
            mesh.transport("dropped"),
        )
    };
    let first = start().await.unwrap();
    let e = start().await.unwrap_err();
    assert!(e.to_string().contains("already has a consumer"), "{e}");
    drop(first);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    let second = loop {
        match start().await {
            Ok(p) => break p,
            Err(e) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the dropped propagator still consumes: {e}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    };
    second.close().await;
}

/// Every binding opens its state through `open_state`: `memory://` and Redis URLs open,
/// anything else is `INVALID_OPTIONS` with the URL redacted (no connection attempt).
#[tokio::test]
async fn open_state_reads_the_url_with_the_one_parser() {
    assert!(
        authcore::propagation::state::open_state("memory://")
            .await
            .is_ok()
    );
    // A cluster URL is opened (here: nothing listens, a connection error, no secret shown).
    let e = authcore::propagation::state::open_state("redis+cluster://u:pw-secret@127.0.0.1:1")
        .await
        .err()
        .expect("nothing listens on port 1");
    assert_eq!(e.code(), "STORE_CONNECTION");
    assert!(!e.to_string().contains("pw-secret"), "{e}");
    for url in ["", "http://u:pw-secret@h/"] {
        let e = authcore::propagation::state::open_state(url)
            .await
            .err()
            .expect(url);
        assert_eq!((e.code(), e.status()), ("INVALID_OPTIONS", 400), "{url}");
        assert!(!e.to_string().contains("pw-secret"), "{e}");
    }
}
