//! The Redis stores on a real Redis Cluster of 3 masters, started by this test on free
//! ports in a temporary directory (`redis-server --cluster-enabled yes` ×3 +
//! `redis-cli --cluster create`) and torn down after: every store call lands on the slot
//! of its one key, so scripts and multi-key steps must not span slots. Needs
//! `redis-server` and `redis-cli` on the PATH (fails, never skips, without them).

use crate::prop_support;
use crate::support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use authcore::jwt::{
    Algorithm, JwtError, JwtKey, KeySet, RefreshTokenStore, TokenClaims, TokenManager,
    TokenManagerConfig,
};
use authcore::oauth::{AuthorizationServer, AuthorizationServerConfig, OAuthError, OAuthStorage};
use authcore::token_stores;
use support::{code_params as params, exchange as req};

/// A private 3-master cluster; killed (and its directory removed) on drop.
struct Cluster {
    ports: Vec<u16>,
    children: Vec<Child>,
    dir: PathBuf,
}

/// A port whose cluster bus port (+10000) is free too.
fn free_port(taken: &[u16]) -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if p < 55_000 && !taken.contains(&p) && TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok()
        {
            return p;
        }
    }
}

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli on the PATH");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Cluster {
    fn start() -> Self {
        let n = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("authcore-cluster-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ports = Vec::new();
        for _ in 0..3 {
            ports.push(free_port(&ports));
        }
        let mut cluster = Self {
            ports: ports.clone(),
            children: Vec::new(),
            dir: dir.clone(),
        };
        for &p in &ports {
            let child = Command::new("redis-server")
                .args([
                    "--cluster-enabled",
                    "yes",
                    "--port",
                    &p.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-config-file",
                    &format!("nodes-{p}.conf"),
                    "--dir",
                    dir.to_str().unwrap(),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server on the PATH");
            cluster.children.push(child);
        }
        for &p in &ports {
            wait_until("redis-server to answer", Duration::from_secs(10), || {
                cli(p, &["ping"]).trim() == "PONG"
            });
        }
        let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli on the PATH");
        assert!(status.success(), "redis-cli --cluster create failed");
        for &p in &ports {
            wait_until("cluster_state:ok", Duration::from_secs(15), || {
                cli(p, &["cluster", "info"]).contains("cluster_state:ok")
            });
        }
        cluster
    }

    fn url(&self) -> String {
        let nodes: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// `redis-cli -c` (follows redirections) from the first node.
    fn cli_cluster(&self, args: &[&str]) -> String {
        let mut all = vec!["-c"];
        all.extend_from_slice(args);
        cli(self.ports[0], &all)
    }

    /// How many keys each master holds.
    fn key_counts(&self) -> Vec<u64> {
        self.ports
            .iter()
            .map(|&p| cli(p, &["dbsize"]).trim().parse().unwrap_or(0))
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

type Manager = TokenManager<Box<dyn RefreshTokenStore>>;

fn manager(url: &str, prefix: &str) -> Manager {
    let keys = KeySet::single(JwtKey::hmac(Algorithm::HS256, b"shared-signing-secret").unwrap());
    TokenManager::new(
        keys,
        TokenManagerConfig::new("https://auth.example.com"),
        token_stores::refresh_token_store(url, Some(prefix)).unwrap(),
    )
    .unwrap()
}

fn claims(user: &str) -> TokenClaims {
    TokenClaims {
        user_id: user.into(),
        domain_id: "d1".into(),
        scope: "read".into(),
    }
}

fn server(url: &str) -> AuthorizationServer<Box<dyn OAuthStorage>> {
    AuthorizationServer::new(
        token_stores::oauth_storage(url, Some("authcore")).unwrap(),
        AuthorizationServerConfig::default(),
    )
}

/// One cluster for every scenario (starting one takes a second or two).
#[test]
fn stores_work_on_a_three_master_redis_cluster() {
    let cluster = Cluster::start();
    let url = cluster.url();
    refresh_tokens_rotate_and_revoke_across_slots(&url);
    authorization_codes_stay_single_use(&url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(hmac_store_verifies_and_claims_nonces(&url));
    rt.block_on(propagation_state_in_the_cluster_layout(&cluster));
    rt.block_on(propagation_between_peers_on_the_cluster(&url));
    rt.block_on(event_distributor_across_cluster_nodes(&cluster));
    let counts = cluster.key_counts();
    assert!(
        counts.iter().filter(|&&c| c > 0).count() >= 2,
        "keys spread over several masters: {counts:?}"
    );
}

fn refresh_tokens_rotate_and_revoke_across_slots(url: &str) {
    let (a, b) = (manager(url, "authcore"), manager(url, "authcore"));
    let t = now();
    // Several families of one user: records, family sets and the user set hash to
    // different slots (and masters).
    let first = a.create_token_pair(&claims("cu1"), t).unwrap();
    let second = b.refresh(&first.refresh_token, t).unwrap();
    assert_eq!(
        a.refresh(&first.refresh_token, t),
        Err(JwtError::RefreshTokenReused),
        "reuse seen from the other manager"
    );
    assert_eq!(
        b.refresh(&second.refresh_token, t),
        Err(JwtError::RefreshTokenRevoked),
        "the reuse revoked the family"
    );
    let others: Vec<_> = (0..6)
        .map(|_| a.create_token_pair(&claims("cu1"), t).unwrap())
        .collect();
    for p in &others {
        assert!(b.verify_refresh_token(&p.refresh_token, t).valid);
    }
    assert_eq!(b.revoke_user("cu1"), Ok(6));
    for p in &others {
        assert_eq!(
            a.verify_refresh_token(&p.refresh_token, t).error.as_deref(),
            Some("REFRESH_TOKEN_REVOKED")
        );
    }
    assert_eq!(a.revoke_user("cu1"), Ok(0));
}

fn authorization_codes_stay_single_use(url: &str) {
    let (a, b) = (server(url), server(url));
    let now_ms = now() * 1000;
    let code = a.create_code(&params(), now_ms).unwrap();
    let x = b.exchange_code(&req(&code), now_ms).unwrap();
    assert_eq!(x.user_id, "u1");
    assert_eq!(
        a.exchange_code(&req(&code), now_ms),
        Err(OAuthError::CodeReused)
    );
    assert_eq!(
        a.exchange_code(&req("never-issued"), now_ms),
        Err(OAuthError::CodeNotFound)
    );
}

async fn hmac_store_verifies_and_claims_nonces(url: &str) {
    use authcore::hmac::clients::Patch;
    use authcore::hmac::crypto::{SignInput, hash_client_secret, sign_request};
    use authcore::hmac::verify::{HttpRequestParts, VerifyOptions, now_ms};
    use authcore::hmac::{HmacAuth, HmacAuthOptions};
    use authcore::store::{KvStore, RedisClusterStore};
    use std::sync::Arc;

    let store = Arc::new(RedisClusterStore::connect(url).await.unwrap());
    // What the bindings open for a cluster URL: the same cluster.
    let via_url = authcore::store::connect_redis(url).await.unwrap();
    authcore::hmac::check_store_url(url).unwrap();
    // The primitives, one key each.
    store.hset("hk", "f", "v").await.unwrap();
    assert_eq!(store.hget("hk", "f").await.unwrap().as_deref(), Some("v"));
    assert_eq!(store.hkeys("hk").await.unwrap(), vec!["f".to_string()]);
    store.hdel("hk", "f").await.unwrap();
    assert_eq!(store.hget("hk", "f").await.unwrap(), None);
    assert!(store.set_nx_ex("sk", "1", 60).await.unwrap());
    assert!(!store.set_nx_ex("sk", "2", 60).await.unwrap());
    store.set_ex("sk", "3", 60).await.unwrap();
    assert_eq!(store.get("sk").await.unwrap().as_deref(), Some("3"));
    assert_eq!(via_url.get("sk").await.unwrap().as_deref(), Some("3"));
    store.del("sk").await.unwrap();
    assert_eq!(store.get("sk").await.unwrap(), None);
    assert!(
        store.set_ex("sk", "x", 0).await.is_err(),
        "TTL 0 is an error"
    );

    // The verifier over the original's key layout (namespace `hmac-auth`).
    let a = HmacAuth::new(
        store.clone(),
        &HmacAuthOptions {
            max_skew_ms: Some(5000.0),
            ..Default::default()
        },
    )
    .unwrap();
    a.clients
        .set_secret(
            "app_c",
            "secret_c",
            &Patch::Keep,
            &authcore::hmac::clients::AllowedIps::Keep,
        )
        .await
        .unwrap();
    let hash = hash_client_secret("secret_c", None);
    let now = now_ms();
    let ts = authcore::js::number_to_string(now);
    let body = br#"{"ok":true}"#.to_vec();
    let sign = |nonce: &str, secret: &str| {
        sign_request(&SignInput {
            method: "POST",
            path: "/p",
            timestamp: now,
            nonce,
            body: &body,
            secret,
        })
        .unwrap()
    };
    let parts = |client: &'static str, nonce: &'static str, sig: &'static str| HttpRequestParts {
        method: "POST",
        path: "/p",
        client_id: Some(client),
        signature: Some(sig),
        timestamp: Some(Box::leak(ts.clone().into_boxed_str())),
        nonce: Some(nonce),
        body: &body,
    };
    let good: &'static str = Box::leak(sign("n1", &hash).into_boxed_str());
    let v = a
        .verifier
        .verify(&parts("app_c", "n1", good), VerifyOptions::default())
        .await
        .unwrap();
    assert_eq!(v.client_id, "app_c");
    let e = a
        .verifier
        .verify(&parts("app_c", "n1", good), VerifyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.error.code(), "REPLAYED_NONCE");
    let e = a
        .verifier
        .verify(&parts("nobody", "n2", good), VerifyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.error.code(), "UNKNOWN_CLIENT");
    let claimed = store
        .hget_and_claim("hmac-auth:clients", "nobody", "probe-nonce", 60)
        .await
        .unwrap();
    assert!(!claimed.claimed && claimed.record.is_none());
    assert_eq!(store.get("probe-nonce").await.unwrap(), None, "no claim");
}

/// The propagation state on the cluster: the ack-store contract, the cursor lock, and the
/// cluster key layout (hash tags; the ack record keyed by its event alone).
async fn propagation_state_in_the_cluster_layout(cluster: &Cluster) {
    use authcore::propagation::state::{PublishedEvent, RedisClusterPropagationState, open_state};
    use authcore::propagation::wire::Cursor;

    let url = cluster.url();
    let prefixed = RedisClusterPropagationState::connect(&url)
        .await
        .unwrap()
        .with_prefix("pfx:");
    prop_support::check_state(&prefixed, "client_demo").await;
    // A client id with braces keeps its keys together too.
    prop_support::check_state(&prefixed, "a}b{c").await;
    let root = open_state(&url).await.unwrap();
    prop_support::check_state(&*root, "client_root").await;

    // The cursor lock, the lock-and-read and write-and-release pipelines, retire, last ts.
    let cur = |ts: f64, id: &str| Cursor {
        ts,
        event_id: id.into(),
    };
    let (lock, current) = root.lock_and_read_cursor("http", "locked").await.unwrap();
    assert_eq!(current, None);
    root.write_cursor_and_unlock(lock, "http", "locked", Some(&cur(7.0, "e7")))
        .await
        .unwrap();
    let (lock, current) = root.lock_and_read_cursor("http", "locked").await.unwrap();
    assert_eq!(current, Some(cur(7.0, "e7")));
    root.write_cursor_and_unlock(lock, "http", "locked", None)
        .await
        .unwrap();
    let lock = root.lock_cursor("http", "locked").await.unwrap();
    root.unlock_cursor(lock).await.unwrap();
    let rec = PublishedEvent {
        client_id: "retired".into(),
        target_amqp_queue: "t1".into(),
        attempt_count: 1.0,
        sent_at: 1781000123456.0,
    };
    root.record_published_event("ev-retired", &rec)
        .await
        .unwrap();
    assert_eq!(
        root.last_event_ts("retired").await.unwrap(),
        Some(1781000123456)
    );
    assert_eq!(root.pending_count("retired").await.unwrap(), 1);
    root.retire_events("retired", None).await.unwrap();
    assert_eq!(root.pending_count("retired").await.unwrap(), 0);
    assert_eq!(root.read_published_event("ev-retired").await.unwrap(), None);

    // The layout: hash tags around the client part, read back through one node per key.
    root.record_published_event(
        "ev-layout",
        &PublishedEvent {
            client_id: "layout".into(),
            ..rec.clone()
        },
    )
    .await
    .unwrap();
    let key_exists = |key: &str| cluster.cli_cluster(&["exists", key]).trim() == "1";
    assert!(key_exists("propagation:last-seen:{http:locked}"));
    assert!(key_exists("propagation:client-pending:{layout}"));
    assert!(key_exists("propagation:client-outstanding:{layout}"));
    assert!(key_exists("propagation:client-last-ts:{layout}"));
    assert!(key_exists("propagation:ack:ev-layout"));
    assert!(!key_exists("propagation:client-pending:layout"));
    root.retire_events("layout", None).await.unwrap();
}

/// Two peers (in-process broker) whose propagation state is on the cluster: ensure, sync,
/// apply with the cursor lock, ACK, completion.
async fn propagation_between_peers_on_the_cluster(url: &str) {
    use authcore::propagation::InProcessBroker;
    use authcore::propagation::propagator::EnsureInput;
    use authcore::propagation::state::open_state;
    use authcore::propagation::wire::build_queue_name;
    use authcore::store::{KvStore, MemoryStore};
    use prop_support::*;
    use std::sync::Arc;

    let broker = InProcessBroker::new();
    let dir = MemoryManagement::with_directory(&[("a", "secret-of-a"), ("b", "secret-of-b")]);
    let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
    let peer = |name: &'static str, m: Option<MemoryManagement>| {
        let store = store.clone();
        let broker = broker.clone();
        async move {
            let state = open_state(url).await.unwrap();
            start_peer(
                name,
                &format!("secret-of-{name}"),
                auth(store, &format!("cluster:{name}"), &format!("pepper-{name}")),
                None,
                m,
                state,
                Arc::new(broker.transport(&build_queue_name(name).unwrap())),
            )
            .await
        }
    };
    // Both peers share the cluster (and so the cursor keys of the receiver are "b"'s own).
    let a = peer("a", Some(dir.clone())).await;
    let b = peer("b", Some(dir.clone())).await;
    for i in 0..20 {
        a.propagator
            .ensure(EnsureInput {
                client_id: format!("cluster-client-{i}"),
                secret: format!("plain-{i}"),
                targets: vec!["b".into()],
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let summary = a.propagator.sync().await.unwrap();
    assert_eq!(summary.targets_published, 20);
    wait_for(30, "every credential fully propagated", || {
        let n = dir.db().fully.len();
        async move { n == 20 }
    })
    .await;
    for i in 0..20 {
        let id = format!("cluster-client-{i}");
        assert_eq!(dir.status(&id, "b").as_deref(), Some("success"));
        assert_eq!(hash_of(&b.http, &id).await, hash_of(&a.http, &id).await);
    }
    a.propagator.close().await;
    b.propagator.close().await;
}

/// The event distributor on the cluster: two processes subscribed through different seed
/// nodes both receive what either publishes.
async fn event_distributor_across_cluster_nodes(cluster: &Cluster) {
    use authcore::events::RedisDistributor;
    use std::time::Duration;

    let (p0, p1) = (cluster.ports[0], cluster.ports[1]);
    let one = RedisDistributor::connect(
        &format!("redis+cluster://127.0.0.1:{p0},127.0.0.1:{p1}"),
        "authcore-cluster-events",
    )
    .await
    .unwrap();
    let two = RedisDistributor::connect(
        &format!("redis+cluster://127.0.0.1:{p1},127.0.0.1:{p0}"),
        "authcore-cluster-events",
    )
    .await
    .unwrap();
    for (i, from) in [&one, &two].into_iter().enumerate() {
        let event = format!("{{\"n\":{i}}}");
        from.publish("topic", &event).await.unwrap();
        for to in [&one, &two] {
            let got = tokio::time::timeout(Duration::from_secs(10), to.next())
                .await
                .expect("the event arrives");
            assert_eq!(got, Some(("topic".to_owned(), event.clone())));
        }
    }
    one.close().await;
    two.close().await;
}
