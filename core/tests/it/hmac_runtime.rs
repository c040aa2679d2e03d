//! The HMAC runtime (verifier + credential lifecycle) over both stores: the embedded
//! memory store and the real Redis on 127.0.0.1:6379 (`AUTHCORE_REDIS_URL` overrides).
//! These tests fail, never skip, when Redis does not answer.

use std::sync::Arc;

use authcore::hmac::clients::{AllowedIps, CreateOptions, Patch, RegenerateOptions};
use authcore::hmac::crypto::{SignInput, hash_client_secret, sign_request};
use authcore::hmac::verify::{HttpRequestParts, VerifyOptions, now_ms};
use authcore::hmac::{HmacAuth, HmacAuthOptions, JsValue};
use authcore::store::{KvStore, MemoryStore, RedisStore};

fn redis_url() -> String {
    std::env::var("AUTHCORE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

async fn redis() -> Arc<RedisStore> {
    Arc::new(
        RedisStore::connect(&redis_url())
            .await
            .expect("Redis must answer on 127.0.0.1:6379 (run scripts/services.sh)"),
    )
}

fn unique(prefix: &str) -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    format!("authcore-test:{prefix}:{}", hex::encode(b))
}

async fn cleanup(store: &RedisStore, ns: &str) {
    let mut conn = store.connection();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{ns}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    for k in keys {
        let _: i64 = redis::cmd("DEL")
            .arg(&k)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

struct Signed {
    method: &'static str,
    path: &'static str,
    body: Vec<u8>,
    client_id: String,
    ts: String,
    nonce: String,
    sig: String,
}

impl Signed {
    fn new(client_id: &str, secret_hash: &str, nonce: &str, ts: f64) -> Self {
        let body = br#"{"ok":true}"#.to_vec();
        let sig = sign_request(&SignInput {
            method: "POST",
            path: "/secure/post",
            timestamp: ts,
            nonce,
            body: &body,
            secret: secret_hash,
        })
        .unwrap();
        Self {
            method: "POST",
            path: "/secure/post",
            body,
            client_id: client_id.into(),
            ts: authcore::js::number_to_string(ts),
            nonce: nonce.into(),
            sig,
        }
    }

    fn parts(&self) -> HttpRequestParts<'_> {
        HttpRequestParts {
            method: self.method,
            path: self.path,
            client_id: Some(&self.client_id),
            signature: Some(&self.sig),
            timestamp: Some(&self.ts),
            nonce: Some(&self.nonce),
            body: &self.body,
        }
    }
}

fn auth(store: Arc<dyn KvStore>, ns: &str, token: Option<&str>) -> HmacAuth {
    HmacAuth::new(
        store,
        &HmacAuthOptions {
            namespace: Some(ns.into()),
            max_skew_ms: Some(5000.0),
            secret_token: token.map(Into::into),
            ..Default::default()
        },
    )
    .unwrap()
}

async fn verify_flow(store: Arc<dyn KvStore>, ns: &str) {
    let a = auth(store.clone(), ns, None);
    a.clients
        .set_secret("app_a", "secret_a", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    let hash = hash_client_secret("secret_a", None);
    let now = now_ms();
    let req = Signed::new("app_a", &hash, "nonce_1", now);
    let v = a
        .verifier
        .verify(&req.parts(), VerifyOptions::default())
        .await
        .unwrap();
    assert_eq!(v.client_id, "app_a");
    assert_eq!(v.nonce, "nonce_1");
    // Replay.
    let e = a
        .verifier
        .verify(&req.parts(), VerifyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.error.code(), "REPLAYED_NONCE");
    // A bad signature does not burn the nonce: the real request still passes after it.
    let good = Signed::new("app_a", &hash, "nonce_2", now);
    let mut forged = Signed::new("app_a", &hash_client_secret("wrong", None), "nonce_2", now);
    forged.ts = good.ts.clone();
    let e = a
        .verifier
        .verify(&forged.parts(), VerifyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.error.code(), "BAD_SIGNATURE");
    let details = e.bad_signature.expect("details for onBadSignature");
    assert_eq!(details.expected_signature, good.sig);
    a.verifier
        .verify(&good.parts(), VerifyOptions::default())
        .await
        .unwrap();
    // Unknown client.
    let e = a
        .verifier
        .verify(
            &Signed::new("nobody", &hash, "n3", now).parts(),
            VerifyOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!((e.error.code(), e.error.status()), ("UNKNOWN_CLIENT", 401));
    // Expired.
    a.clients
        .set_secret(
            "exp",
            "secret_a",
            &Patch::Set(now - 1000.0),
            &AllowedIps::Keep,
        )
        .await
        .unwrap();
    let e = a
        .verifier
        .verify(
            &Signed::new("exp", &hash, "n4", now).parts(),
            VerifyOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.error.code(), "CLIENT_EXPIRED");
    // Skew, checked before any store access.
    let e = a
        .verifier
        .verify(
            &Signed::new("app_a", &hash, "n5", now - 10_000.0).parts(),
            VerifyOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.error.to_string(),
        "Request timestamp skew is too large (> 5000ms)"
    );
    // IP allow-list.
    let ips = AllowedIps::strings(["195.7.8.0/24"]);
    a.clients
        .set_secret("ip", "secret_a", &Patch::Keep, &ips)
        .await
        .unwrap();
    let req = Signed::new("ip", &hash, "n6", now);
    let e = a
        .verifier
        .verify(&req.parts(), VerifyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        (e.error.code(), e.error.status()),
        ("MISSING_CLIENT_IP", 403)
    );
    let opts = VerifyOptions {
        ip_candidates: &["8.8.8.8"],
        ..Default::default()
    };
    let e = a.verifier.verify(&req.parts(), opts).await.unwrap_err();
    assert_eq!(
        e.error.to_string(),
        "Client IP '8.8.8.8' is not allowed for clientId 'ip'"
    );
    let opts = VerifyOptions {
        ip_candidates: &["::ffff:195.7.8.44"],
        ..Default::default()
    };
    a.verifier.verify(&req.parts(), opts).await.unwrap();
}

#[tokio::test]
async fn verify_flow_memory() {
    verify_flow(Arc::new(MemoryStore::new()), "tenant_a").await;
}

#[tokio::test]
async fn verify_flow_redis() {
    let store = redis().await;
    let ns = unique("verify");
    verify_flow(store.clone(), &ns).await;
    cleanup(&store, &ns).await;
}

async fn lifecycle(store: Arc<dyn KvStore>, ns: &str) {
    let a = auth(store.clone(), ns, None);
    let created = a
        .clients
        .create(&CreateOptions {
            client_id: "client_admin".into(),
            expires_at: Patch::Set(now_ms() + 60_000.0),
            secret_length_bytes: Some(16.0),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.secret.len(), 32);
    assert_eq!(
        created.record.secret_hash,
        hash_client_secret(&created.secret, None)
    );
    assert!(
        a.clients
            .list_client_ids()
            .await
            .unwrap()
            .contains(&"client_admin".to_string())
    );
    let regen = a
        .clients
        .regenerate_secret("client_admin", &RegenerateOptions::default())
        .await
        .unwrap();
    assert_ne!(regen.secret, created.secret);
    assert_eq!(
        regen.record.expires_at, created.record.expires_at,
        "expiresAt preserved by default"
    );
    // Revert restores the previous hash once.
    let r = a.clients.revert("client_admin").await.unwrap();
    assert!(r.reverted);
    assert_eq!(
        r.restored_secret_hash.as_deref(),
        Some(created.record.secret_hash.as_str())
    );
    assert_eq!(
        a.clients.get_secret_hash("client_admin").await.unwrap(),
        Some(created.record.secret_hash.clone())
    );
    assert!(
        !a.clients.revert("client_admin").await.unwrap().reverted,
        "no redo"
    );
    a.clients.delete("client_admin").await.unwrap();
    assert!(a.clients.get("client_admin").await.unwrap().is_none());

    // plainSecret gives deterministic hashes; blank plainSecret is rejected.
    let p = a
        .clients
        .create(&CreateOptions {
            client_id: "client_a".into(),
            plain_secret: Some(Some("helloworld".into())),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        p.record.secret_hash,
        "936a185caaa266bb9cbe981e9e05cb78cd732b0b3280eb944412bb6f8f8f07af"
    );
    let e = a
        .clients
        .create(&CreateOptions {
            client_id: "client_empty".into(),
            plain_secret: Some(Some("   ".into())),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "plainSecret cannot be empty");
    let e = a.clients.get("  ").await.unwrap_err();
    assert_eq!((e.code(), e.status()), ("MISSING_CLIENT_ID", 400));

    // allowedIps lifecycle, and a bad argument leaves no backup and no change.
    let ips = |v: &[&str]| -> AllowedIps { AllowedIps::strings(v.iter().copied()) };
    a.clients
        .set_allowed_ips("client_a", &ips(&["172.16.1.5", "172.16.0.0/16"]))
        .await
        .unwrap();
    assert_eq!(
        a.clients
            .get("client_a")
            .await
            .unwrap()
            .unwrap()
            .record
            .allowed_ips,
        vec!["172.16.1.5", "172.16.0.0/16"]
    );
    let e = a
        .clients
        .set_secret("client_a", "new", &Patch::Keep, &ips(&["nope"]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_ARGUMENT");
    assert!(
        !a.clients.revert("client_a").await.unwrap().reverted,
        "validation happens before any write"
    );
    let e = a
        .clients
        .set_allowed_ips("ghost", &ips(&["1.2.3.4"]))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.status(), e.to_string().as_str()),
        (
            "CLIENT_NOT_FOUND",
            404,
            "Cannot set allowedIps: client not found"
        )
    );

    // setSecretHash normalises (trim + lowercase) and backs up the previous hash.
    a.clients
        .set_secret_hash("client_a", "  ABCDEF  ", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    assert_eq!(
        a.clients
            .get_secret_hash("client_a")
            .await
            .unwrap()
            .as_deref(),
        Some("abcdef")
    );
    let r = a.clients.revert("client_a").await.unwrap();
    assert_eq!(
        r.restored_secret_hash.as_deref(),
        Some(p.record.secret_hash.as_str())
    );

    // Records written by the original (exact JSON, and the legacy bare hash) are read.
    let keys = authcore::hmac::NamespaceKeys::new(Some(ns)).unwrap();
    let legacy = hash_client_secret("legacy_secret", None);
    store
        .hset(&keys.clients_hash_key, "legacy", &legacy)
        .await
        .unwrap();
    let got = a.clients.get("legacy").await.unwrap().unwrap();
    assert_eq!(
        (got.record.secret_hash.as_str(), got.record.created_at),
        (legacy.as_str(), 0.0)
    );
    store
        .hset(&keys.clients_hash_key, "upstream", r#"{"secretHash":"h","createdAt":1,"updatedAt":2,"expiresAt":null,"allowedIps":["10.0.0.1"],"fromDbSeed":false}"#)
        .await
        .unwrap();
    a.clients
        .set_allowed_ips("upstream", &ips(&["10.0.0.2"]))
        .await
        .unwrap();
    let raw = store
        .hget(&keys.clients_hash_key, "upstream")
        .await
        .unwrap()
        .unwrap();
    assert!(
        raw.starts_with(r#"{"secretHash":"h","createdAt":1,"updatedAt":"#),
        "{raw}"
    );
    assert!(
        raw.ends_with(r#","expiresAt":null,"allowedIps":["10.0.0.2"]}"#),
        "{raw}"
    );
}

#[tokio::test]
async fn lifecycle_memory() {
    lifecycle(Arc::new(MemoryStore::new()), "tenant_l").await;
}

#[tokio::test]
async fn lifecycle_redis() {
    let store = redis().await;
    let ns = unique("lifecycle");
    lifecycle(store.clone(), &ns).await;
    // The backup key has the configured TTL (600 s by default).
    let a = auth(store.clone(), &ns, None);
    a.clients
        .set_secret("ttl", "one", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    a.clients
        .set_secret("ttl", "two", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    let mut conn = store.connection();
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("{ns}:credentials-backup:ttl"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((590..=600).contains(&ttl), "backup TTL {ttl}");
    cleanup(&store, &ns).await;
}

/// 1,000 concurrent verifications of the same signed request accept exactly one.
async fn replay_race(store: Arc<dyn KvStore>, ns: &str) {
    let a = auth(store, ns, None);
    a.clients
        .set_secret("racer", "s", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    let req = Arc::new(Signed::new(
        "racer",
        &hash_client_secret("s", None),
        "same",
        now_ms(),
    ));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let v = a.verifier.clone();
        let r = req.clone();
        tasks.push(tokio::spawn(async move {
            v.verify(&r.parts(), VerifyOptions::default()).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.error.code(), "REPLAYED_NONCE"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_race_redis() {
    let store = redis().await;
    let ns = unique("race");
    replay_race(store.clone(), &ns).await;
    cleanup(&store, &ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_race_memory() {
    replay_race(Arc::new(MemoryStore::new()), "race").await;
}

#[tokio::test]
async fn nonce_key_layout_and_ttl_on_redis() {
    let store = redis().await;
    let ns = unique("nonce");
    let a = auth(store.clone(), &ns, None);
    a.clients
        .set_secret("app", "s", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    let ts = now_ms();
    let req = Signed::new("app", &hash_client_secret("s", None), "abc", ts);
    a.verifier
        .verify(&req.parts(), VerifyOptions::default())
        .await
        .unwrap();
    let key = format!("{ns}:nonce:app:abc:{}", authcore::js::number_to_string(ts));
    let mut conn = store.connection();
    let (val, ttl): (String, i64) = redis::pipe()
        .cmd("GET")
        .arg(&key)
        .cmd("TTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(val, "1");
    assert!(
        (5..=6).contains(&ttl),
        "nonce TTL is ceil((ts + maxSkewMs - now)/1000) + 1 = 6, got {ttl}"
    );
    cleanup(&store, &ns).await;
}

#[tokio::test]
async fn message_track_over_redis() {
    let store = redis().await;
    let ns = unique("msg");
    let a = auth(store.clone(), &ns, None);
    a.clients
        .set_secret("app_msg", "msg_secret", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    let msg = authcore::hmac::canonical::parse_json(r#"{"event":"order.created","id":42}"#, None)
        .unwrap();
    let signed = a.sign_message("app_msg", &msg).await.unwrap();
    assert_eq!(
        signed.signature,
        "ee0acb29893dafac311f1d9da14d106e3acfcd48b94582fbdf78ca134787211f"
    );
    let reordered =
        authcore::hmac::canonical::parse_json(r#"{"id":42,"event":"order.created"}"#, None)
            .unwrap();
    for _ in 0..2 {
        let v = a
            .verify_message("app_msg", &reordered, Some(&signed.signature))
            .await
            .unwrap();
        assert_eq!(
            v, signed,
            "no replay protection on the message track, by design"
        );
    }
    let e = a
        .verify_message("unknown_msg", &msg, Some(&signed.signature))
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.status()), ("UNKNOWN_CLIENT", 401));
    let e = a.sign_message("unknown_msg", &msg).await.unwrap_err();
    assert_eq!((e.code(), e.status()), ("CLIENT_NOT_FOUND", 404));
    let e = a
        .verify_message("app_msg", &JsValue::Null, Some("  "))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        ("MISSING_SIGNATURE", "Missing message signature")
    );
    cleanup(&store, &ns).await;
}

#[tokio::test]
async fn redis_down_is_a_store_error_not_a_hang() {
    let started = std::time::Instant::now();
    let e = RedisStore::connect("redis://127.0.0.1:1/")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "STORE_CONNECTION");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}

/// A request stamped `ts` is acceptable until `now <= ts + maxSkewMs`: its nonce must be
/// remembered at least that long, also when the client's clock runs ahead. With the
/// original's TTL (`ceil(maxSkewMs/1000)` from the claim) the replay below is accepted.
async fn replay_window_future_timestamp(store: Arc<dyn KvStore>, ns: &str) {
    let a = HmacAuth::new(
        store.clone(),
        &HmacAuthOptions {
            namespace: Some(ns.into()),
            max_skew_ms: Some(2000.0),
            ..Default::default()
        },
    )
    .unwrap();
    a.clients
        .set_secret("ahead", "s", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    let ts = (now_ms() + 1500.0).floor();
    let req = Signed::new("ahead", &hash_client_secret("s", None), "n-future", ts);
    a.verifier
        .verify(&req.parts(), VerifyOptions::default())
        .await
        .unwrap();
    let key = format!(
        "{ns}:nonce:ahead:n-future:{}",
        authcore::js::number_to_string(ts)
    );
    assert_eq!(store.get(&key).await.unwrap().as_deref(), Some("1"));
    // 2.2 s later the request is still inside its window (|now - ts| ~ 700 ms)...
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let e = a
        .verifier
        .verify(&req.parts(), VerifyOptions::default())
        .await
        .unwrap_err();
    // ...so it must still be a replay.
    assert_eq!(e.error.code(), "REPLAYED_NONCE");
}

#[tokio::test]
async fn replay_window_covers_a_future_timestamp_memory() {
    replay_window_future_timestamp(Arc::new(MemoryStore::new()), "future").await;
}

#[tokio::test]
async fn replay_window_covers_a_future_timestamp_redis() {
    let store = redis().await;
    let ns = unique("future");
    // The TTL Redis holds is the rest of the window plus 1 s: ceil(3500/1000) + 1 = 5.
    let a = auth(store.clone(), &ns, None);
    a.clients
        .set_secret("ahead", "s", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    let ts = (now_ms() + 4000.0).floor();
    let req = Signed::new("ahead", &hash_client_secret("s", None), "n-ttl", ts);
    a.verifier
        .verify(&req.parts(), VerifyOptions::default())
        .await
        .unwrap();
    let key = format!(
        "{ns}:nonce:ahead:n-ttl:{}",
        authcore::js::number_to_string(ts)
    );
    let mut conn = store.connection();
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    // maxSkewMs 5000, ts = now + 4000: ceil(9000/1000) + 1 = 10 (the original: 5).
    assert!((9..=10).contains(&ttl), "TTL {ttl}");
    replay_window_future_timestamp(store.clone(), &ns).await;
    cleanup(&store, &ns).await;
}

/// `maxSkewMs` NaN/Infinity (or a non-numeric value, which bindings turn into NaN) is an
/// error at construction and on a per-call override, never a window that accepts a
/// request signed a year ago.
#[tokio::test]
async fn skew_settings_fail_closed() {
    let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 86_400_001.0] {
        let e = HmacAuth::new(
            store.clone(),
            &HmacAuthOptions {
                max_skew_ms: Some(bad),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT", "{bad}");
        assert_eq!(
            e.to_string(),
            "maxSkewMs must be a finite number no greater than 86400000"
        );
    }
    for bad in [f64::NAN, 0.0, -600.0, 600.5, f64::INFINITY] {
        let e = HmacAuth::new(
            store.clone(),
            &HmacAuthOptions {
                backup_ttl_seconds: Some(bad),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "dbSeedBackupTtlSeconds must be an integer between 1 and 31536000"
        );
    }
    let a = auth(store.clone(), "skew", None);
    a.clients
        .set_secret("old", "s", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    let year_ago = now_ms() - 365.0 * 86_400_000.0;
    let req = Signed::new("old", &hash_client_secret("s", None), "n-old", year_ago);
    for bad in [f64::NAN, f64::INFINITY] {
        for _ in 0..2 {
            let e = a
                .verifier
                .verify(
                    &req.parts(),
                    VerifyOptions {
                        max_skew_ms: Some(bad),
                        ..Default::default()
                    },
                )
                .await
                .unwrap_err();
            assert_eq!(
                (e.error.code(), e.error.status()),
                ("INVALID_ARGUMENT", 500)
            );
            assert_eq!(
                e.error.to_middleware_error().code.as_str(),
                "INTERNAL_ERROR"
            );
        }
    }
    let e = a
        .verifier
        .verify(
            &req.parts(),
            VerifyOptions {
                now_ms: Some(f64::NAN),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.error.to_string(), "now must be a finite number");
    // The default window rejects it as the original does.
    let e = a
        .verifier
        .verify(&req.parts(), VerifyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.error.code(), "TIMESTAMP_SKEW");
}

/// Header values above their caps are refused before they are parsed, with 431 and no
/// store access.
#[tokio::test]
async fn oversized_headers_are_refused_before_parsing() {
    let mem = Arc::new(MemoryStore::new());
    let a = auth(mem.clone(), "caps", None);
    a.clients
        .set_secret("app", "s", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    let keys_before = mem.len();
    let now = now_ms();
    let hash = hash_client_secret("s", None);
    let long_nonce = "n".repeat(authcore::limits::MAX_NONCE_BYTES + 1);
    let cases: Vec<(Signed, &str)> = vec![
        (Signed::new("app", &hash, &long_nonce, now), "x-nonce"),
        (
            Signed::new(
                &"c".repeat(authcore::limits::MAX_CLIENT_ID_BYTES + 1),
                &hash,
                "n",
                now,
            ),
            "x-client-id",
        ),
        (
            {
                let mut r = Signed::new("app", &hash, "n", now);
                r.sig = "a".repeat(authcore::limits::MAX_HEADER_VALUE_BYTES + 1);
                r
            },
            "x-signature",
        ),
        (
            {
                let mut r = Signed::new("app", &hash, "n", now);
                r.ts = format!(
                    "{}{}",
                    " ".repeat(authcore::limits::MAX_HEADER_VALUE_BYTES),
                    r.ts
                );
                r
            },
            "x-timestamp",
        ),
    ];
    for (req, header) in &cases {
        let e = a
            .verifier
            .verify(&req.parts(), VerifyOptions::default())
            .await
            .unwrap_err();
        assert_eq!(
            (e.error.code(), e.error.status()),
            ("HEADER_TOO_LARGE", 431)
        );
        assert!(e.error.to_string().contains(header), "{}", e.error);
    }
    // At the cap is fine.
    let at_cap = "n".repeat(authcore::limits::MAX_NONCE_BYTES);
    a.verifier
        .verify(
            &Signed::new("app", &hash, &at_cap, now).parts(),
            VerifyOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        mem.len(),
        keys_before + 1,
        "only the valid request claimed a nonce"
    );
    // IP candidates are measured when the allow-list is consulted.
    a.clients
        .set_allowed_ips("app", &AllowedIps::strings(["10.0.0.1"]))
        .await
        .unwrap();
    let huge = format!(
        "10.0.0.1,{}",
        "1".repeat(authcore::limits::MAX_HEADER_VALUE_BYTES)
    );
    let e = a
        .verifier
        .verify(
            &Signed::new("app", &hash, "n-ip", now).parts(),
            VerifyOptions {
                ip_candidates: &[huge.as_str()],
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.error.code(), "HEADER_TOO_LARGE");
}

/// An `allowedIps` that is not an array is checked where the original checks it: after
/// the client id, the missing client and the other arguments, in every binding alike.
#[tokio::test]
async fn allowed_ips_not_an_array_comes_after_the_earlier_checks() {
    let a = HmacAuth::new(Arc::new(MemoryStore::new()), &HmacAuthOptions::default()).unwrap();
    let c = &a.clients;
    let e = c
        .set_allowed_ips("nobody", &AllowedIps::NotAnArray)
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.status(), e.to_string().as_str()),
        (
            "CLIENT_NOT_FOUND",
            404,
            "Cannot set allowedIps: client not found"
        )
    );
    let e = c
        .set_allowed_ips("  ", &AllowedIps::NotAnArray)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "MISSING_CLIENT_ID");
    let e = c
        .regenerate_secret(
            "nobody",
            &RegenerateOptions {
                allowed_ips: AllowedIps::NotAnArray,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "CLIENT_NOT_FOUND");
    let e = c
        .create(&CreateOptions {
            client_id: "app".into(),
            expires_at: Patch::Set(f64::NAN),
            allowed_ips: AllowedIps::NotAnArray,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "expiresAt must be a valid timestamp or Date");
    c.set_secret("app", "s", &Patch::Keep, &AllowedIps::Keep)
        .await
        .unwrap();
    for e in [
        c.set_allowed_ips("app", &AllowedIps::NotAnArray)
            .await
            .unwrap_err(),
        c.set_secret("app", "t", &Patch::Keep, &AllowedIps::NotAnArray)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(
            (e.code(), e.to_string().as_str()),
            (
                "INVALID_ARGUMENT",
                "allowedIps must be an array of IP/CIDR strings"
            )
        );
    }
    assert!(!c.revert("app").await.unwrap().reverted, "nothing written");
}
