//! The core's metrics (`authcore::metrics`): each family moves by exactly what a test did,
//! through the real code paths (HMAC verifier over the memory store, the propagation
//! protocol between peers on the in-process broker, the SSE registry and a slow memory
//! stream, argon2id/bcrypt, refresh rotation and reuse), and the Prometheus text says so.
//!
//! The counters are process-wide, so everything runs in ONE test of this binary (no other
//! test can move them meanwhile).

#[path = "support/propagation.rs"]
mod prop_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use authcore::hmac::clients::Patch;
use authcore::hmac::crypto::{SignInput, hash_client_secret, sign_request};
use authcore::hmac::verify::{HttpRequestParts, VerifyOptions, now_ms};
use authcore::hmac::{HmacAuth, HmacAuthOptions};
use authcore::jwt::{
    Algorithm, InMemoryRefreshTokenStore, JwtKey, KeySet, TokenClaims, TokenManager,
    TokenManagerConfig,
};
use authcore::metrics;
use authcore::propagation::propagator::EnsureInput;
use authcore::realtime::{
    JsString, JsValue, MemorySseStream, SubscribeOptions, SubscriberRegistry,
};
use authcore::store::{KvStore, MemoryStore};
use prop_support::*;

/// Every sample line of the Prometheus text: `name{labels}` → value.
fn scrape() -> BTreeMap<String, f64> {
    metrics::render()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_owned(), v.parse::<f64>().unwrap())
        })
        .collect()
}

fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, key: &str) -> f64 {
    after
        .get(key)
        .copied()
        .unwrap_or_else(|| panic!("no series {key}"))
        - before.get(key).copied().unwrap_or(0.0)
}

struct Req {
    client_id: String,
    sig: String,
    ts: String,
    nonce: String,
    body: Vec<u8>,
}

impl Req {
    fn new(client_id: &str, secret_hash: &str, nonce: &str) -> Self {
        let ts = now_ms();
        let body = br#"{"ok":true}"#.to_vec();
        let sig = sign_request(&SignInput {
            method: "POST",
            path: "/m",
            timestamp: ts,
            nonce,
            body: &body,
            secret: secret_hash,
        })
        .unwrap();
        Self {
            client_id: client_id.into(),
            sig,
            ts: authcore::js::number_to_string(ts),
            nonce: nonce.into(),
            body,
        }
    }

    fn parts(&self) -> HttpRequestParts<'_> {
        HttpRequestParts {
            method: "POST",
            path: "/m",
            client_id: Some(&self.client_id),
            signature: Some(&self.sig),
            timestamp: Some(&self.ts),
            nonce: Some(&self.nonce),
            body: &self.body,
        }
    }
}

async fn verify_outcomes() {
    let before = scrape();
    let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
    let a = HmacAuth::new(
        store,
        &HmacAuthOptions {
            namespace: Some("metrics".into()),
            max_skew_ms: Some(5000.0),
            ..Default::default()
        },
    )
    .unwrap();
    a.clients
        .set_secret(
            "m1",
            "s3cret-metrics",
            &Patch::Keep,
            &authcore::hmac::clients::AllowedIps::Keep,
        )
        .await
        .unwrap();
    let hash = hash_client_secret("s3cret-metrics", None);
    let opts = VerifyOptions::default();
    let accepted: Vec<Req> = (0..3)
        .map(|i| Req::new("m1", &hash, &format!("ok-{i}")))
        .collect();
    for r in &accepted {
        a.verifier.verify(&r.parts(), opts).await.unwrap();
    }
    // A replay is the same request again (same nonce AND timestamp: the nonce key holds
    // both, so a re-signed copy stamped a millisecond later would be a new request).
    let replayed = &accepted[0];
    let e = a
        .verifier
        .verify(&replayed.parts(), opts)
        .await
        .unwrap_err();
    assert_eq!(e.error.code(), "REPLAYED_NONCE");
    let mut tampered = Req::new("m1", &hash, "tampered");
    tampered.body = b"{}".to_vec();
    let e = a
        .verifier
        .verify(&tampered.parts(), opts)
        .await
        .unwrap_err();
    assert_eq!(e.error.code(), "BAD_SIGNATURE");
    let unknown = Req::new("ghost", &hash, "u");
    a.verifier.verify(&unknown.parts(), opts).await.unwrap_err();

    let after = scrape();
    let d = |k: &str| delta(&before, &after, k);
    assert_eq!(d("authcore_verify_total{outcome=\"OK\"}"), 3.0);
    assert_eq!(d("authcore_verify_total{outcome=\"REPLAYED_NONCE\"}"), 1.0);
    assert_eq!(d("authcore_verify_total{outcome=\"BAD_SIGNATURE\"}"), 1.0);
    assert_eq!(d("authcore_verify_total{outcome=\"UNKNOWN_CLIENT\"}"), 1.0);
    assert_eq!(d("authcore_verify_total{outcome=\"TIMESTAMP_SKEW\"}"), 0.0);
    assert_eq!(d("authcore_verify_duration_seconds_count"), 6.0);
    assert_eq!(
        d("authcore_verify_duration_seconds_bucket{le=\"+Inf\"}"),
        6.0
    );
    assert!(d("authcore_verify_duration_seconds_sum") > 0.0);
    let text = metrics::render();
    assert!(!text.contains("s3cret-metrics") && !text.contains(&hash) && !text.contains("m1"));

    // Off: nothing moves (the benchmark's "off" side), on again: counted.
    metrics::set_enabled(false);
    let r = Req::new("m1", &hash, "off");
    a.verifier.verify(&r.parts(), opts).await.unwrap();
    metrics::set_enabled(true);
    assert_eq!(
        delta(&after, &scrape(), "authcore_verify_total{outcome=\"OK\"}"),
        0.0
    );
}

async fn propagation() {
    let before = scrape();
    let mesh = Mesh::new();
    let dir = || peers_directory(&["mgmt", "b"]);
    let m = dir();
    let a = mesh.peer("mgmt", Some(m.clone())).await;
    let b = mesh.peer("b", Some(dir())).await;
    a.propagator
        .ensure(EnsureInput {
            client_id: "partner".into(),
            secret: "plain-metrics".into(),
            targets: vec!["b".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let s = a.propagator.sync().await.unwrap();
    assert_eq!((s.targets_published, s.targets_retrying), (1, 0));
    wait_for(5, "fully propagated", || async { !m.db().fully.is_empty() }).await;
    let after = scrape();
    let d = |k: &str| delta(&before, &after, k);
    assert_eq!(d("authcore_propagation_published_total"), 1.0);
    assert_eq!(d("authcore_propagation_applied_total"), 1.0);
    assert_eq!(d("authcore_propagation_acked_total"), 1.0);
    assert_eq!(d("authcore_propagation_parked_total"), 0.0);
    assert_eq!(d("authcore_propagation_retrying_total"), 0.0);
    assert_eq!(d("authcore_propagation_apply_latency_seconds_count"), 1.0);
    let text = metrics::render();
    assert!(!text.contains("plain-metrics") && !text.contains("partner"));
    for p in [&a, &b] {
        p.propagator.close().await;
    }
}

fn sse() {
    let before = scrape();
    let registry = SubscriberRegistry::<MemorySseStream>::new(None);
    let fast = Arc::new(MemorySseStream::new());
    // A client that never reads, with room for about one frame.
    let slow = Arc::new(MemorySseStream::new().with_buffer_limit(40));
    let s1 = registry.subscribe(Arc::clone(&fast), SubscribeOptions::new().channels(["ch"]));
    let _s2 = registry.subscribe(Arc::clone(&slow), SubscribeOptions::new().channels(["ch"]));
    assert_eq!(delta(&before, &scrape(), "authcore_sse_subscribers"), 2.0);
    let frame = JsValue::String(JsString::from("0123456789"));
    registry.broadcast("ch", &frame); // both take it
    registry.broadcast("ch", &frame); // the slow one overflows: closed, frame dropped
    let after = scrape();
    let d = |k: &str| delta(&before, &after, k);
    assert_eq!(d("authcore_sse_frames_sent_total"), 4.0);
    assert_eq!(d("authcore_sse_frames_dropped_total"), 1.0);
    assert!(s1.unsubscribe());
    assert!(!s1.unsubscribe(), "idempotent: counted once");
    assert_eq!(delta(&before, &scrape(), "authcore_sse_subscribers"), 1.0);
    drop(registry);
    assert_eq!(delta(&before, &scrape(), "authcore_sse_subscribers"), 0.0);
}

/// The events engine (AuthTools' SSE): push subscribers, a slow client disconnected at
/// its queue bound, a hub dropped with a subscriber left.
fn event_hub() {
    use authcore::events::{EventHub, EventMeta, HubConfig, SubscribeRequest, encode_frame};
    let before = scrape();
    let frame = |id: &str| encode_frame(id, "t", "{}").unwrap();
    let one = frame("0").len();
    let hub = EventHub::new(
        HubConfig {
            heartbeat_interval_ms: 0,
            max_queue_bytes: one * 2,
            ..HubConfig::default()
        },
        0,
    )
    .unwrap();
    let g = vec!["g".to_owned()];
    let fast = hub
        .subscribe(SubscribeRequest::push(g.clone()), 0)
        .unwrap()
        .id;
    let slow = hub.subscribe(SubscribeRequest::push(g), 0).unwrap().id;
    assert_eq!(delta(&before, &scrape(), "authcore_sse_subscribers"), 2.0);
    hub.block(slow);
    for id in ["1", "2", "3"] {
        let meta = EventMeta {
            id,
            tenant_id: None,
        };
        hub.publish("g", meta, &frame(id)).unwrap();
    }
    let after = scrape();
    let d = |k: &str| delta(&before, &after, k);
    // fast: 3 written; slow: 2 queued, the third overflows and disconnects it.
    assert_eq!(d("authcore_sse_frames_sent_total"), 5.0);
    assert_eq!(d("authcore_sse_frames_dropped_total"), 1.0);
    assert_eq!(d("authcore_sse_subscribers"), 1.0);
    assert!(hub.unsubscribe(fast));
    assert_eq!(delta(&before, &scrape(), "authcore_sse_subscribers"), 0.0);
    let _third = hub
        .subscribe(SubscribeRequest::push(vec!["g".into()]), 0)
        .unwrap();
    drop(hub);
    assert_eq!(delta(&before, &scrape(), "authcore_sse_subscribers"), 0.0);
}

fn kdf_and_tokens() {
    let before = scrape();
    let params = authcore::password::Argon2Params {
        m_cost: 1024,
        t_cost: 1,
        p_cost: 1,
        output_len: 32,
    };
    let phc = authcore::password::hash_argon2id(b"pw-metrics", &params).unwrap();
    assert!(authcore::password::verify(b"pw-metrics", &phc).unwrap());
    let bc = authcore::password::bcrypt_hash(b"pw-metrics", 4).unwrap();
    assert!(!authcore::password::verify(b"other", &bc).unwrap());

    let mut cfg = TokenManagerConfig::new("https://auth.example.com");
    cfg.audience = Some("api".into());
    let key = JwtKey::hmac(Algorithm::HS256, b"metrics-key-metrics-key-metrics!").unwrap();
    let tm = TokenManager::new(KeySet::single(key), cfg, InMemoryRefreshTokenStore::new()).unwrap();
    let claims = TokenClaims {
        user_id: "u1".into(),
        domain_id: "d1".into(),
        scope: "read".into(),
    };
    let now = 1_700_000_000;
    let pair = tm.create_token_pair(&claims, now).unwrap();
    let next = tm.refresh(&pair.refresh_token, now + 1).unwrap();
    tm.refresh(&next.refresh_token, now + 2).unwrap();
    let e = tm.refresh(&pair.refresh_token, now + 3).unwrap_err();
    assert_eq!(e.code(), "REFRESH_TOKEN_REUSED");

    let after = scrape();
    let d = |k: &str| delta(&before, &after, k);
    assert_eq!(
        d("authcore_kdf_duration_seconds_count{algorithm=\"argon2id\"}"),
        2.0
    );
    assert_eq!(
        d("authcore_kdf_duration_seconds_count{algorithm=\"bcrypt\"}"),
        2.0
    );
    assert_eq!(after["authcore_kdf_in_progress"], 0.0);
    assert_eq!(d("authcore_token_refresh_total"), 2.0);
    assert_eq!(d("authcore_token_reuse_detected_total"), 1.0);
    let text = metrics::render();
    assert!(!text.contains("pw-metrics") && !text.contains(&pair.refresh_token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_moves_by_what_was_done() {
    verify_outcomes().await;
    propagation().await;
    sse();
    event_hub();
    kdf_and_tokens();
    // The snapshot the bindings read agrees with the text.
    let families: serde_json::Value = serde_json::from_str(&metrics::snapshot_json()).unwrap();
    let names: Vec<&str> = families
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    let text = metrics::render();
    for name in &names {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
    }
    assert_eq!(names.len(), 16);
}
