//! Refresh-token records and authorization codes in the real Redis on 127.0.0.1:6379
//! (`AUTHCORE_REDIS_URL` overrides): several TokenManagers / AuthorizationServers (as
//! several processes would) share one rotation state and one single-use code, races have
//! one winner, the key layout and expiries are as documented, and a dead Redis is a typed
//! 503 error.

use crate::support;

use std::sync::{Arc, Barrier};
use std::time::{SystemTime, UNIX_EPOCH};

use authcore::jwt::{
    Algorithm, JwtError, JwtKey, KeySet, RefreshTokenStore, TokenClaims, TokenManager,
    TokenManagerConfig,
};
use authcore::oauth::{
    self, AuthorizationServer, AuthorizationServerConfig, OAuthError, OAuthStorage,
};
use authcore::token_stores::{self, REFRESH_RECORD_GRACE_SECS};

fn redis_url() -> String {
    std::env::var("AUTHCORE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

/// A prefix of its own per test, so tests never see each other's keys.
fn prefix(test: &str) -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("authcore-test:{test}:{n}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn redis() -> redis::Connection {
    redis::Client::open(redis_url())
        .unwrap()
        .get_connection()
        .expect("Redis must be running on 127.0.0.1:6379 (scripts/services.sh)")
}

type Manager = TokenManager<Box<dyn RefreshTokenStore>>;

fn manager(url: &str, prefix: &str) -> Manager {
    let keys = KeySet::single(JwtKey::hmac(Algorithm::HS256, b"shared-signing-secret").unwrap());
    let store = token_stores::refresh_token_store(url, Some(prefix)).unwrap();
    TokenManager::new(
        keys,
        TokenManagerConfig::new("https://auth.example.com"),
        store,
    )
    .unwrap()
}

fn claims() -> TokenClaims {
    TokenClaims {
        user_id: "u1".into(),
        domain_id: "d1".into(),
        scope: "read".into(),
    }
}

#[test]
fn rotation_and_reuse_detection_are_shared_between_managers() {
    let p = prefix("rotation");
    let (a, b) = (manager(&redis_url(), &p), manager(&redis_url(), &p));
    let t = now();
    let first = a.create_token_pair(&claims(), t).unwrap();
    assert!(b.verify_refresh_token(&first.refresh_token, t).valid);

    // B rotates A's token; A sees it as rotated: presenting it again is reuse, which
    // revokes the family, including the pair B just issued.
    let second = b.refresh(&first.refresh_token, t).unwrap();
    assert_eq!(second.family_id, first.family_id);
    let v = a.verify_refresh_token(&first.refresh_token, t);
    assert_eq!(v.error.as_deref(), Some("REFRESH_TOKEN_REUSED"));
    assert_eq!(
        a.refresh(&first.refresh_token, t),
        Err(JwtError::RefreshTokenReused)
    );
    assert_eq!(
        b.refresh(&second.refresh_token, t),
        Err(JwtError::RefreshTokenRevoked)
    );

    // A new login is a new family, untouched by the revocation; revoke_user reaches it
    // from the other manager.
    let third = a.create_token_pair(&claims(), t).unwrap();
    assert!(b.verify_refresh_token(&third.refresh_token, t).valid);
    assert_eq!(b.revoke_user("u1"), Ok(1));
    assert_eq!(
        a.verify_refresh_token(&third.refresh_token, t)
            .error
            .as_deref(),
        Some("REFRESH_TOKEN_REVOKED")
    );
    // Logout of an already revoked family changes nothing.
    assert_eq!(a.revoke_refresh_token(&third.refresh_token), Ok(0));
}

#[test]
fn concurrent_refreshes_of_one_token_have_exactly_one_winner() {
    let p = prefix("race");
    let pair = manager(&redis_url(), &p)
        .create_token_pair(&claims(), now())
        .unwrap();
    let n = 12;
    let barrier = Arc::new(Barrier::new(n));
    let results: Vec<Result<_, JwtError>> = (0..n)
        .map(|_| {
            let (p, token, barrier) = (p.clone(), pair.refresh_token.clone(), barrier.clone());
            std::thread::spawn(move || {
                let m = manager(&redis_url(), &p);
                // Connect before the race.
                assert!(m.verify_refresh_token(&token, now()).valid);
                barrier.wait();
                m.refresh(&token, now())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| *e == JwtError::RefreshTokenReused || *e == JwtError::RefreshTokenRevoked),
        "{results:?}"
    );
}

/// One store shared by many threads (as a binding's worker pool shares it): calls run on
/// their own pooled connections at once, every reply reaches its own caller, and a race
/// on one token still has exactly one winner.
#[test]
fn one_shared_store_serves_concurrent_callers() {
    let p = prefix("shared");
    let m = Arc::new(manager(&redis_url(), &p));
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    // Each thread rotates its own chain of tokens 20 times.
    let chains: Vec<String> = (0..n)
        .map(|i| {
            let (m, barrier) = (m.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut c = claims();
                c.user_id = format!("user-{i}");
                let mut token = m.create_token_pair(&c, now()).unwrap().refresh_token;
                barrier.wait();
                for _ in 0..20 {
                    let pair = m.refresh(&token, now()).unwrap();
                    assert!(!m.verify_refresh_token(&token, now()).valid);
                    token = pair.refresh_token;
                }
                token
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    for t in &chains {
        assert!(m.verify_refresh_token(t, now()).valid);
    }
    // A race on one token through the same shared store.
    let token = m.create_token_pair(&claims(), now()).unwrap().refresh_token;
    let barrier = Arc::new(Barrier::new(n));
    let results: Vec<Result<_, JwtError>> = (0..n)
        .map(|_| {
            let (m, token, barrier) = (m.clone(), token.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                m.refresh(&token, now())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
}

#[test]
fn refresh_records_follow_the_documented_layout_and_expire() {
    let p = prefix("layout");
    let m = manager(&redis_url(), &p);
    let t = now();
    let pair = m.create_token_pair(&claims(), t).unwrap();
    let mut c = redis();
    let jtis: Vec<String> = redis::cmd("SMEMBERS")
        .arg(format!("{p}:refresh-family:{}", pair.family_id))
        .query(&mut c)
        .unwrap();
    assert_eq!(jtis.len(), 1);
    let users: Vec<String> = redis::cmd("SMEMBERS")
        .arg(format!("{p}:refresh-user:u1"))
        .query(&mut c)
        .unwrap();
    assert_eq!(users, jtis);
    let key = format!("{p}:refresh:{}", jtis[0]);
    let (fam, user, hash, state): (String, String, String, String) = redis::cmd("HMGET")
        .arg(&key)
        .arg(&["fam", "user", "hash", "state"])
        .query(&mut c)
        .unwrap();
    assert_eq!(
        (fam.as_str(), user.as_str(), state.as_str()),
        (pair.family_id.as_str(), "u1", "active")
    );
    assert_eq!(hash, authcore::jwt::token_hash(&pair.refresh_token));
    assert!(
        !hash.contains(&pair.refresh_token),
        "only the hash is stored"
    );
    let ttl: i64 = redis::cmd("TTL").arg(&key).query(&mut c).unwrap();
    let refresh_ttl = TokenManagerConfig::new("x").refresh_ttl as i64;
    let max = refresh_ttl + REFRESH_RECORD_GRACE_SECS as i64;
    assert!(ttl > max - 30 && ttl <= max, "ttl {ttl}");
    // Rotation flips the state in place.
    m.refresh(&pair.refresh_token, t).unwrap();
    let state: String = redis::cmd("HGET")
        .arg(&key)
        .arg("state")
        .query(&mut c)
        .unwrap();
    assert_eq!(state, "rotated");
}

fn server(url: &str, prefix: &str) -> AuthorizationServer<Box<dyn OAuthStorage>> {
    AuthorizationServer::new(
        token_stores::oauth_storage(url, Some(prefix)).unwrap(),
        AuthorizationServerConfig::default(),
    )
}

use support::{code_params as params, exchange as req};

fn now_ms() -> u64 {
    now() * 1000
}

#[test]
fn authorization_codes_are_single_use_across_servers_and_expire_in_redis() {
    let p = prefix("codes");
    let (a, b) = (server(&redis_url(), &p), server(&redis_url(), &p));
    let code = a.create_code(&params(), now_ms()).unwrap();
    let key = format!("{p}:oauth-code:{}", oauth::hash_code(&code));
    let mut c = redis();
    let pttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut c).unwrap();
    assert!(pttl > 50_000 && pttl <= 60_000, "pttl {pttl}");
    let data: String = redis::cmd("HGET")
        .arg(&key)
        .arg("data")
        .query(&mut c)
        .unwrap();
    assert!(!data.contains(&code), "only the hash is stored");

    let x = b.exchange_code(&req(&code), now_ms()).unwrap();
    assert_eq!((x.user_id.as_str(), x.scope.as_str()), ("u1", "read write"));
    assert_eq!(
        a.exchange_code(&req(&code), now_ms()),
        Err(OAuthError::CodeReused)
    );
    assert_eq!(
        a.exchange_code(&req("never-issued"), now_ms()),
        Err(OAuthError::CodeNotFound)
    );
    // A mismatched attempt burns the code for everyone.
    let code2 = a.create_code(&params(), now_ms()).unwrap();
    let mut wrong = req(&code2);
    wrong.redirect_uri = "https://evil.example/cb";
    assert_eq!(
        b.exchange_code(&wrong, now_ms()),
        Err(OAuthError::RedirectUriMismatch)
    );
    assert_eq!(
        a.exchange_code(&req(&code2), now_ms()),
        Err(OAuthError::CodeReused)
    );
}

#[test]
fn concurrent_code_exchanges_have_exactly_one_winner() {
    let p = prefix("code-race");
    let code = server(&redis_url(), &p)
        .create_code(&params(), now_ms())
        .unwrap();
    let n = 12;
    let barrier = Arc::new(Barrier::new(n));
    let results: Vec<_> = (0..n)
        .map(|_| {
            let (p, code, barrier) = (p.clone(), code.clone(), barrier.clone());
            std::thread::spawn(move || {
                let s = server(&redis_url(), &p);
                assert_eq!(
                    s.exchange_code(&req("warm-up"), now_ms()),
                    Err(OAuthError::CodeNotFound)
                );
                barrier.wait();
                s.exchange_code(&req(&code), now_ms())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| *e == OAuthError::CodeReused)
    );
}

#[test]
fn unreachable_redis_is_a_typed_503_and_memory_urls_need_no_server() {
    let dead = "redis://127.0.0.1:1/";
    let m = manager(dead, "x");
    let e = m.create_token_pair(&claims(), now()).unwrap_err();
    assert!(matches!(e, JwtError::Store(_)), "{e:?}");
    assert_eq!((e.code(), e.status()), ("JWT_STORE_UNAVAILABLE", 503));
    let v = m.verify_refresh_token("a.b.c", now());
    assert!(!v.valid);
    let s = server(dead, "x");
    let e = s.create_code(&params(), now_ms()).unwrap_err();
    assert_eq!(
        (e.code(), e.status(), e.oauth_error()),
        ("OAUTH_STORE_UNAVAILABLE", 503, "server_error")
    );
    assert!(token_stores::refresh_token_store("redis://[::1", None).is_err());

    // memory:// (and "") is the in-process store.
    for url in ["memory://", ""] {
        let m = manager(url, "unused");
        let pair = m.create_token_pair(&claims(), now()).unwrap();
        assert!(m.refresh(&pair.refresh_token, now()).is_ok());
        let s = server(url, "unused");
        let code = s.create_code(&params(), now_ms()).unwrap();
        assert!(s.exchange_code(&req(&code), now_ms()).is_ok());
    }
}

#[test]
fn a_code_replayed_on_another_server_revokes_the_tokens_issued_for_it() {
    let p = prefix("code-family");
    let (a, b) = (server(&redis_url(), &p), server(&redis_url(), &p));
    let (tm_a, tm_b) = (manager(&redis_url(), &p), manager(&redis_url(), &p));
    let code = a.create_code(&params(), now_ms()).unwrap();
    let pair = a
        .exchange_code_for_tokens(&req(&code), &tm_a, now_ms())
        .unwrap();
    let key = format!("{p}:oauth-code:{}", oauth::hash_code(&code));
    let family: String = redis::cmd("HGET")
        .arg(&key)
        .arg("family")
        .query(&mut redis())
        .unwrap();
    assert_eq!(family, pair.family_id);
    assert_eq!(
        b.exchange_code_for_tokens(&req(&code), &tm_b, now_ms()),
        Err(OAuthError::CodeReused)
    );
    assert_eq!(
        tm_a.refresh(&pair.refresh_token, now()),
        Err(JwtError::RefreshTokenRevoked)
    );
}

/// Revocation touches only keys it names: a family member whose record is gone (expired,
/// deleted) is skipped without recreating a partial hash, records of other families are
/// untouched, and the counts are exact.
#[test]
fn revocation_touches_each_record_by_its_own_key_only() {
    let p = prefix("revoke-keys");
    let store = token_stores::RedisRefreshTokenStore::open(&redis_url(), &p).unwrap();
    let rec = |jti: &str, fam: &str| authcore::jwt::RefreshTokenRecord {
        jti: jti.into(),
        family_id: fam.into(),
        user_id: "u-rk".into(),
        token_hash: format!("hash-{jti}"),
        expires_at: now() + 600,
        state: authcore::jwt::RefreshTokenState::Active,
    };
    for (jti, fam) in [("j1", "f1"), ("j2", "f1"), ("j3", "f1"), ("k1", "f2")] {
        store.insert(rec(jti, fam)).unwrap();
    }
    let mut c = redis();
    // j2's record vanishes (as on expiry) while the family set still lists it.
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{p}:refresh:j2"))
        .query(&mut c)
        .unwrap();
    assert_eq!(
        store.mark_rotated("j3"),
        Ok(Some(authcore::jwt::RefreshTokenState::Active))
    );
    assert_eq!(store.revoke_family("f1"), Ok(2), "j1 and the rotated j3");
    let exists: i64 = redis::cmd("EXISTS")
        .arg(format!("{p}:refresh:j2"))
        .query(&mut c)
        .unwrap();
    assert_eq!(exists, 0, "no partial record for a vanished member");
    for jti in ["j1", "j3"] {
        let r = store.get(jti).unwrap().unwrap();
        assert_eq!(r.state, authcore::jwt::RefreshTokenState::Revoked, "{jti}");
        assert_eq!(r.token_hash, format!("hash-{jti}"), "fields kept");
    }
    assert_eq!(
        store.get("k1").unwrap().unwrap().state,
        authcore::jwt::RefreshTokenState::Active
    );
    assert_eq!(store.revoke_family("f1"), Ok(0), "already revoked");
    assert_eq!(store.revoke_user("u-rk"), Ok(1), "only k1 was still live");
    assert_eq!(store.revoke_family("no-such-family"), Ok(0));
    let family_ttl: i64 = redis::cmd("TTL")
        .arg(format!("{p}:refresh-family:f1"))
        .query(&mut c)
        .unwrap();
    assert!(
        family_ttl > 600,
        "index set expires with its latest member: {family_ttl}"
    );
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{p}:refresh:j1"))
        .arg(format!("{p}:refresh:j3"))
        .arg(format!("{p}:refresh:k1"))
        .arg(format!("{p}:refresh-family:f1"))
        .arg(format!("{p}:refresh-family:f2"))
        .arg(format!("{p}:refresh-user:u-rk"))
        .query(&mut c)
        .unwrap();
}

/// Factories read the URL with the one store-URL parser: memory (or no URL), Redis, or a
/// typed refusal that names no credential, never a connection attempt on a foreign scheme.
#[test]
fn factories_refuse_an_unknown_scheme() {
    assert!(token_stores::refresh_token_store("", None).is_ok());
    assert!(token_stores::oauth_storage("memory://", None).is_ok());
    for url in ["http://u:pw-secret@h/", "REDIS://h", "memory:"] {
        let e = token_stores::refresh_token_store(url, None)
            .err()
            .expect(url);
        assert_eq!(e.code(), "STORE_UNSUPPORTED_URL", "{url}");
        assert!(!e.to_string().contains("pw-secret"), "{e}");
        let e = token_stores::oauth_storage(url, None).err().expect(url);
        assert_eq!(e.code(), "STORE_UNSUPPORTED_URL", "{url}");
    }
}
