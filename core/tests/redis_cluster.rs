//! The Redis stores on a real Redis Cluster of 3 masters, started by this test on free
//! ports in a temporary directory (`redis-server --cluster-enabled yes` ×3 +
//! `redis-cli --cluster create`) and torn down after: every store call lands on the slot
//! of its one key, so scripts and multi-key steps must not span slots. Needs
//! `redis-server` and `redis-cli` on the PATH (fails, never skips, without them).

mod support;

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
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(hmac_store_verifies_and_claims_nonces(&url));
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
