//! JWT: npm jsonwebtoken vectors, negative cases, TokenManager (token use, refresh rotation
//! and reuse detection), JWKS.

use crate::support;

use crate::jwt_keys;

use authcore::jwt::{
    self, Algorithm, InMemoryRefreshTokenStore, JwtError, JwtKey, KeySet, TokenClaims,
    TokenManager, TokenManagerConfig, TokenUse, Validation,
};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use support::{run_vector_file, s};

fn alg(name: &str) -> Algorithm {
    Algorithm::parse(name).unwrap()
}

fn private_key(a: Algorithm, pem: &str) -> Result<JwtKey, JwtError> {
    match a {
        Algorithm::RS256 => JwtKey::rsa_private_pem(pem.as_bytes()),
        Algorithm::ES256 => JwtKey::ec_private_pem(pem.as_bytes()),
        Algorithm::EdDSA => JwtKey::ed_private_pem(pem.as_bytes()),
        _ => unreachable!(),
    }
}

fn public_key(a: Algorithm, pem: &str) -> Result<JwtKey, JwtError> {
    match a {
        Algorithm::RS256 => JwtKey::rsa_public_pem(pem.as_bytes()),
        Algorithm::ES256 => JwtKey::ec_public_pem(pem.as_bytes()),
        Algorithm::EdDSA => JwtKey::ed_public_pem(pem.as_bytes()),
        _ => unreachable!(),
    }
}

fn validation(i: &Value) -> Validation {
    let list = |k: &str| {
        i.get(k).map(|v| match v {
            Value::String(x) => vec![x.clone()],
            Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            _ => panic!("{k}"),
        })
    };
    Validation {
        leeway: i.get("leeway").and_then(Value::as_u64).unwrap_or(0),
        issuer: list("issuer"),
        audience: list("audience"),
        token_use: i.get("tokenUse").map(|u| match u.as_str().unwrap() {
            "access" => TokenUse::Access,
            "refresh" => TokenUse::Refresh,
            _ => TokenUse::MfaPending,
        }),
        ..Validation::node_compat()
    }
}

fn run_case(op: &str, i: &Value) -> Result<Value, JwtError> {
    let now = i.get("now").and_then(Value::as_u64).unwrap_or(0);
    match op {
        "jwt_sign" => {
            let mut key = JwtKey::hmac(alg(s(i, "alg")), s(i, "secret").as_bytes())?;
            if let Some(kid) = i.get("kid").and_then(Value::as_str) {
                key = key.with_kid(kid);
            }
            jwt::sign_payload_json(&KeySet::single(key), s(i, "payloadJson")).map(Value::from)
        }
        "jwt_verify" => {
            let mut key = JwtKey::hmac_node_compat(s(i, "secret").as_bytes())?;
            if let Some(algs) = i.get("algorithms").and_then(Value::as_array) {
                let algs: Vec<Algorithm> = algs.iter().map(|a| alg(a.as_str().unwrap())).collect();
                key = key.accept_algorithms(&algs)?;
            }
            let v = jwt::verify::<Map<String, Value>>(
                &KeySet::single(key),
                s(i, "token"),
                &validation(i),
                now,
            )?;
            Ok(Value::Object(v.claims))
        }
        "jwt_verify_pem" => {
            let key = public_key(alg(s(i, "alg")), s(i, "publicKeyPem"))?;
            let v = jwt::verify::<Map<String, Value>>(
                &KeySet::single(key),
                s(i, "token"),
                &validation(i),
                now,
            )?;
            Ok(Value::Object(v.claims))
        }
        "jwt_sign_pem" => {
            let mut key = private_key(alg(s(i, "alg")), s(i, "privateKeyPem"))?;
            if let Some(kid) = i.get("kid").and_then(Value::as_str) {
                key = key.with_kid(kid);
            }
            jwt::sign_payload_json(&KeySet::single(key), s(i, "payloadJson")).map(Value::from)
        }
        "jwks_from_pem" => {
            let key = public_key(alg(s(i, "alg")), s(i, "publicKeyPem"))?.with_kid(s(i, "kid"));
            Ok(serde_json::to_value(KeySet::single(key).jwks()).unwrap())
        }
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn npm_jsonwebtoken_hs_vectors() {
    assert!(run_vector_file("jwt-hs256.json", run_case) >= 40);
}

#[test]
fn npm_jsonwebtoken_asymmetric_vectors() {
    assert!(run_vector_file("jwt-asymmetric.json", run_case) >= 15);
}

// ---------------------------------------------------------------------------------------

const T0: u64 = 1_700_000_000;

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn manager(keys: KeySet) -> TokenManager {
    let mut cfg = TokenManagerConfig::new("https://auth.example.com");
    cfg.audience = Some("api".into());
    TokenManager::new(keys, cfg, InMemoryRefreshTokenStore::new()).unwrap()
}

fn hs_manager() -> TokenManager {
    manager(KeySet::single(
        JwtKey::hmac(Algorithm::HS256, b"one-secret-for-everything").unwrap(),
    ))
}

fn claims() -> TokenClaims {
    TokenClaims {
        user_id: "u1".into(),
        domain_id: "d1".into(),
        scope: "read write".into(),
    }
}

#[test]
fn access_token_round_trip_and_claims() {
    let m = hs_manager();
    let t = m.create_access_token(&claims(), T0).unwrap();
    let p = m.verify_access_token(&t, T0 + 10).unwrap();
    assert_eq!(p.token_claims(), claims());
    assert_eq!(
        (p.sub.as_str(), p.iss.as_str(), p.aud.as_deref()),
        ("u1", "https://auth.example.com", Some("api"))
    );
    assert_eq!(
        (p.iat, p.exp, p.token_use.as_str()),
        (T0, T0 + 900, "access")
    );
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header, json!({"alg": "HS256", "typ": "JWT"}));
}

#[test]
fn expired_and_not_yet_valid_tokens() {
    let m = hs_manager();
    let t = m.create_access_token(&claims(), T0).unwrap();
    assert_eq!(
        m.verify_access_token(&t, T0 + 900).unwrap_err().code(),
        "JWT_EXPIRED"
    );
    assert!(m.verify_access_token(&t, T0 + 899).is_ok());
    // nbf in the future (signed with the same key).
    let keys = KeySet::single(JwtKey::hmac(Algorithm::HS256, b"k").unwrap());
    let tok = jwt::sign(
        &keys,
        &json!({"sub": "u", "nbf": T0 + 100, "exp": T0 + 1000}),
    )
    .unwrap();
    let e = jwt::verify::<Value>(&keys, &tok, &Validation::default(), T0).unwrap_err();
    assert_eq!((e.code(), e.status()), ("JWT_NOT_YET_VALID", 401));
    assert!(
        jwt::verify::<Value>(
            &keys,
            &tok,
            &Validation {
                leeway: 100,
                ..Default::default()
            },
            T0
        )
        .is_ok()
    );
    let e = jwt::verify::<Value>(&keys, &tok, &Validation::default(), T0 + 1000).unwrap_err();
    assert_eq!(e.code(), "JWT_EXPIRED");
    assert_eq!(e.node_auth_code(TokenUse::Access), "INVALID_ACCESS_TOKEN");
}

#[test]
fn wrong_issuer_and_audience() {
    let key = JwtKey::hmac(Algorithm::HS256, b"shared").unwrap();
    let a = manager(KeySet::single(key.clone()));
    let mut cfg = TokenManagerConfig::new("https://evil.example.com");
    cfg.audience = Some("api".into());
    let evil = TokenManager::new(
        KeySet::single(key.clone()),
        cfg,
        InMemoryRefreshTokenStore::new(),
    )
    .unwrap();
    let t = evil.create_access_token(&claims(), T0).unwrap();
    assert_eq!(
        a.verify_access_token(&t, T0).unwrap_err().code(),
        "JWT_INVALID_ISSUER"
    );
    let mut cfg = TokenManagerConfig::new("https://auth.example.com");
    cfg.audience = Some("other-api".into());
    let other =
        TokenManager::new(KeySet::single(key), cfg, InMemoryRefreshTokenStore::new()).unwrap();
    let t = other.create_access_token(&claims(), T0).unwrap();
    assert_eq!(
        a.verify_access_token(&t, T0).unwrap_err().code(),
        "JWT_INVALID_AUDIENCE"
    );
}

/// node-auth §6 item 22: with equal secrets access and refresh tokens were interchangeable.
#[test]
fn access_and_refresh_tokens_cannot_be_swapped_even_with_one_key() {
    let m = hs_manager();
    let pair = m.create_token_pair(&claims(), T0).unwrap();
    let e = m.verify_access_token(&pair.refresh_token, T0).unwrap_err();
    assert_eq!(e.code(), "JWT_WRONG_TOKEN_USE");
    assert_eq!(
        e,
        JwtError::WrongTokenUse {
            expected: "access",
            found: Some("refresh".into())
        }
    );
    let r = m.verify_refresh_token(&pair.access_token, T0);
    assert!(!r.valid);
    assert_eq!(r.error.as_deref(), Some("JWT_WRONG_TOKEN_USE"));
    assert_eq!(
        m.refresh(&pair.access_token, T0).unwrap_err().code(),
        "JWT_WRONG_TOKEN_USE"
    );
}

/// node-auth §6 item 1: the 2FA temp token was a normal access token (2FA bypass).
#[test]
fn mfa_pending_token_is_not_an_access_token() {
    let m = hs_manager();
    let temp = m.create_mfa_pending_token("u1", "d1", T0).unwrap();
    let e = m.verify_access_token(&temp, T0).unwrap_err();
    assert_eq!(e.code(), "JWT_WRONG_TOKEN_USE");
    assert_eq!(
        m.refresh(&temp, T0).unwrap_err().code(),
        "JWT_WRONG_TOKEN_USE"
    );
    let p = m.verify_mfa_pending_token(&temp, T0 + 299).unwrap();
    assert_eq!(p.user_id, "u1");
    assert_eq!(
        m.verify_mfa_pending_token(&temp, T0 + 300)
            .unwrap_err()
            .code(),
        "JWT_EXPIRED"
    );
    // And an access token cannot complete the second factor either.
    let access = m.create_access_token(&claims(), T0).unwrap();
    assert_eq!(
        m.verify_mfa_pending_token(&access, T0).unwrap_err().code(),
        "JWT_WRONG_TOKEN_USE"
    );
}

#[test]
fn refresh_rotation_and_reuse_detection_revokes_the_family() {
    let m = hs_manager();
    let first = m.create_token_pair(&claims(), T0).unwrap();
    assert!(m.verify_refresh_token(&first.refresh_token, T0).valid);
    let second = m.refresh(&first.refresh_token, T0 + 60).unwrap();
    assert_eq!(second.family_id, first.family_id);
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(
        m.verify_access_token(&second.access_token, T0 + 60)
            .unwrap()
            .scope,
        "read write"
    );
    // The attacker replays the old token: reuse detected, the family is revoked.
    let e = m.refresh(&first.refresh_token, T0 + 120).unwrap_err();
    assert_eq!((e.code(), e.status()), ("REFRESH_TOKEN_REUSED", 401));
    // The legitimate client's newer token is now dead too.
    assert_eq!(
        m.refresh(&second.refresh_token, T0 + 130)
            .unwrap_err()
            .code(),
        "REFRESH_TOKEN_REVOKED"
    );
    let r = m.verify_refresh_token(&second.refresh_token, T0 + 130);
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"valid": false, "error": "REFRESH_TOKEN_REVOKED"})
    );
    // Another login (another family) is unaffected.
    let other = m.create_token_pair(&claims(), T0 + 200).unwrap();
    let ok = m.verify_refresh_token(&other.refresh_token, T0 + 200);
    assert_eq!(
        serde_json::to_value(&ok).unwrap(),
        json!({"valid": true, "userId": "u1", "domainId": "d1", "scope": "read write"})
    );
    assert!(m.refresh(&other.refresh_token, T0 + 201).is_ok());
}

/// node-auth §6 items 22 and 29: refresh tokens stored in plaintext and compared with `!==`.
#[test]
fn refresh_tokens_are_stored_only_as_sha256_hashes() {
    let m = hs_manager();
    let pair = m.create_token_pair(&claims(), T0).unwrap();
    let rotated = m.refresh(&pair.refresh_token, T0 + 1).unwrap();
    let records = m.store().records();
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r.token_hash.len(), 64);
        assert_ne!(r.token_hash, pair.refresh_token);
        assert!(!format!("{r:?}").contains(&pair.refresh_token));
        assert!(!format!("{r:?}").contains(&rotated.refresh_token));
    }
    assert!(
        records
            .iter()
            .any(|r| r.token_hash == jwt::token_hash(&rotated.refresh_token))
    );
    // A token whose jti exists but whose bytes differ (same claims, other signature key)
    // does not match the stored hash.
    let forged_keys = KeySet::single(JwtKey::hmac(Algorithm::HS256, b"attacker").unwrap());
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(rotated.refresh_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let forged = jwt::sign(&forged_keys, &claims).unwrap();
    assert_eq!(
        m.refresh(&forged, T0 + 2).unwrap_err().code(),
        "JWT_INVALID_SIGNATURE"
    );
}

#[test]
fn logout_revokes_the_family_and_separate_refresh_keys_work() {
    let access = KeySet::single(JwtKey::hmac(Algorithm::HS256, b"access-secret").unwrap());
    let refresh = KeySet::single(JwtKey::hmac(Algorithm::HS512, b"refresh-secret").unwrap());
    let m = manager(access).with_refresh_keys(refresh).unwrap();
    let pair = m.create_token_pair(&claims(), T0).unwrap();
    // Each token only verifies under its own key set.
    assert_eq!(
        m.verify_access_token(&pair.refresh_token, T0)
            .unwrap_err()
            .code(),
        "JWT_ALGORITHM_MISMATCH"
    );
    assert_eq!(m.revoke_refresh_token(&pair.refresh_token).unwrap(), 1);
    assert_eq!(
        m.refresh(&pair.refresh_token, T0).unwrap_err().code(),
        "REFRESH_TOKEN_REVOKED"
    );
    let p2 = m.create_token_pair(&claims(), T0).unwrap();
    assert_eq!(m.revoke_user("u1"), Ok(1));
    assert_eq!(
        m.refresh(&p2.refresh_token, T0).unwrap_err().code(),
        "REFRESH_TOKEN_REVOKED"
    );
}

#[test]
fn alg_none_and_algorithm_confusion_against_rs256_manager() {
    let key = JwtKey::rsa_private_pem(jwt_keys::RSA_PRIVATE.as_bytes())
        .unwrap()
        .with_kid("k1");
    let m = manager(KeySet::single(key));
    let t = m.create_access_token(&claims(), T0).unwrap();
    assert!(m.verify_access_token(&t, T0).is_ok());
    let payload = t.split('.').nth(1).unwrap();
    // alg none, with and without signature.
    for header in [
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "NONE", "kid": "k1"}),
    ] {
        for sig in ["", "AAAA"] {
            let forged = format!("{}.{payload}.{sig}", b64(&header));
            assert_eq!(
                m.verify_access_token(&forged, T0).unwrap_err().code(),
                "JWT_ALG_NONE"
            );
        }
    }
    // HS256 keyed with the RSA public key's PEM bytes (the classic confusion attack).
    let pem_key = KeySet::single(
        JwtKey::hmac(Algorithm::HS256, jwt_keys::RSA_PUBLIC.as_bytes())
            .unwrap()
            .with_kid("k1"),
    );
    let claims_v: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let forged = jwt::sign(&pem_key, &claims_v).unwrap();
    let e = m.verify_access_token(&forged, T0).unwrap_err();
    assert_eq!(e.code(), "JWT_ALGORITHM_MISMATCH");
    // Unknown kid with no default key.
    let other = KeySet::single(
        JwtKey::rsa_private_pem(jwt_keys::RSA_PRIVATE.as_bytes())
            .unwrap()
            .with_kid("k2"),
    );
    let t2 = jwt::sign(&other, &claims_v).unwrap();
    assert_eq!(
        m.verify_access_token(&t2, T0).unwrap_err().code(),
        "JWT_UNKNOWN_KID"
    );
    // A crit header is refused.
    let crit = format!(
        "{}.{payload}.{}",
        b64(&json!({"alg": "RS256", "kid": "k1", "crit": ["exp"]})),
        t.split('.').nth(2).unwrap()
    );
    assert_eq!(
        m.verify_access_token(&crit, T0).unwrap_err().code(),
        "JWT_UNSUPPORTED_CRITICAL_HEADER"
    );
}

#[test]
fn jwks_round_trip_for_rsa_ec_and_okp() {
    let mut keys = KeySet::new();
    keys.add(
        JwtKey::rsa_private_pem(jwt_keys::RSA_PRIVATE.as_bytes())
            .unwrap()
            .with_kid("rsa"),
    )
    .unwrap();
    keys.add(
        JwtKey::ec_private_pem(jwt_keys::EC_PRIVATE.as_bytes())
            .unwrap()
            .with_kid("ec"),
    )
    .unwrap();
    keys.add(
        JwtKey::ed_private_pem(jwt_keys::ED_PRIVATE.as_bytes())
            .unwrap()
            .with_kid("ed"),
    )
    .unwrap();
    keys.add(
        JwtKey::hmac(Algorithm::HS256, b"never-published")
            .unwrap()
            .with_kid("hs"),
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&keys.jwks().to_json()).unwrap();
    let list = doc["keys"].as_array().unwrap();
    assert_eq!(list.len(), 3, "HMAC secrets are never published");
    // Key order of the serialised JSON (node-auth's JwksService shape for RSA).
    let order = |k: &authcore::jwt::PublicJwk| {
        let text = serde_json::to_string(k).unwrap();
        let mut names: Vec<(usize, &str)> = ["kty", "use", "alg", "kid", "n", "e", "crv", "x", "y"]
            .into_iter()
            .filter_map(|n| text.find(&format!("\"{n}\":")).map(|p| (p, n)))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|(_, n)| n)
            .collect::<Vec<_>>()
            .join(",")
    };
    let published = keys.jwks();
    assert_eq!(
        published.keys.iter().map(order).collect::<Vec<_>>(),
        vec![
            "kty,use,alg,kid,n,e",
            "kty,use,alg,kid,crv,x,y",
            "kty,use,alg,kid,crv,x"
        ]
    );
    assert_eq!(
        (list[1]["crv"].as_str(), list[2]["crv"].as_str()),
        (Some("P-256"), Some("Ed25519"))
    );
    // Public JWKs agree with the PEM public keys.
    let from_pub = KeySet::single(
        JwtKey::rsa_public_pem(jwt_keys::RSA_PUBLIC.as_bytes())
            .unwrap()
            .with_kid("rsa"),
    )
    .jwks();
    assert_eq!(serde_json::to_value(&from_pub.keys[0]).unwrap(), list[0]);
    // A verifier built from the JWKS (as fetched from an IdP) verifies every signer.
    let remote = KeySet::from_jwks_json(
        &json!({"keys": [list[0], list[1], list[2], {"kty": "oct", "k": "c2VjcmV0", "kid": "hs"}]})
            .to_string(),
    )
    .unwrap();
    assert_eq!(remote.len(), 3, "oct keys from a JWKS are ignored");
    for (kid, pem, a) in [
        ("rsa", jwt_keys::RSA_PRIVATE, Algorithm::RS256),
        ("ec", jwt_keys::EC_PRIVATE, Algorithm::ES256),
        ("ed", jwt_keys::ED_PRIVATE, Algorithm::EdDSA),
    ] {
        let signer = KeySet::single(private_key(a, pem).unwrap().with_kid(kid));
        let t = jwt::sign(&signer, &json!({"sub": kid, "exp": T0 + 60})).unwrap();
        let v = jwt::verify::<Value>(&remote, &t, &Validation::default(), T0).unwrap();
        assert_eq!((v.header.alg, v.header.kid.as_deref()), (a, Some(kid)));
        assert_eq!(v.claims["sub"], kid);
        // Cross-algorithm: the token's alg must fit the kid's key.
        let mut h: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        h["kid"] = json!(if kid == "rsa" { "ec" } else { "rsa" });
        let swapped = format!("{}.{}", b64(&h), t.split_once('.').unwrap().1);
        assert_eq!(
            jwt::verify::<Value>(&remote, &swapped, &Validation::default(), T0)
                .unwrap_err()
                .code(),
            "JWT_ALGORITHM_MISMATCH"
        );
    }
    let m = manager(keys);
    assert_eq!(m.jwks().keys.len(), 3);
}

#[test]
fn key_configuration_errors() {
    let e = JwtKey::rsa_private_pem(jwt_keys::RSA1024_PRIVATE.as_bytes()).unwrap_err();
    assert_eq!((e.code(), e.status()), ("JWT_INVALID_KEY", 500));
    assert_eq!(
        JwtKey::rsa_private_pem(b"not a pem").unwrap_err().code(),
        "JWT_INVALID_KEY"
    );
    assert_eq!(
        JwtKey::ec_public_pem(jwt_keys::RSA_PUBLIC.as_bytes())
            .unwrap_err()
            .code(),
        "JWT_INVALID_KEY"
    );
    assert_eq!(
        JwtKey::hmac(Algorithm::RS256, b"x").unwrap_err().code(),
        "JWT_INVALID_KEY"
    );
    assert_eq!(
        JwtKey::hmac(Algorithm::HS256, b"").unwrap_err().code(),
        "JWT_INVALID_KEY"
    );
    let hs = JwtKey::hmac(Algorithm::HS256, b"x").unwrap();
    assert_eq!(
        hs.clone()
            .accept_algorithms(&[Algorithm::RS256])
            .unwrap_err()
            .code(),
        "JWT_KEY_CONFIG"
    );
    let mut set = KeySet::single(hs.clone().with_kid("a"));
    assert_eq!(
        set.add(hs.clone().with_kid("a")).unwrap_err().code(),
        "JWT_KEY_CONFIG"
    );
    let public_only =
        KeySet::single(JwtKey::rsa_public_pem(jwt_keys::RSA_PUBLIC.as_bytes()).unwrap());
    assert_eq!(
        jwt::sign(&public_only, &json!({})).unwrap_err().code(),
        "JWT_KEY_CONFIG"
    );
    let e = TokenManager::new(
        public_only,
        TokenManagerConfig::new("x"),
        InMemoryRefreshTokenStore::new(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "JWT_KEY_CONFIG");
    assert_eq!(
        jwt::sign_payload_json(&set, "[1]").unwrap_err().code(),
        "JWT_INVALID_CLAIM"
    );
}

#[test]
fn malformed_tokens_never_panic() {
    let keys = KeySet::single(JwtKey::hmac_node_compat(b"k").unwrap());
    let huge = "a".repeat(20_000);
    for t in [
        "",
        ".",
        "..",
        "a.b.c",
        "e30.e30.",
        "e30.e30.e30",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
        "x.y.z.w",
        huge.as_str(),
        "ü.ü.ü",
    ] {
        let e = jwt::verify::<Value>(&keys, t, &Validation::default(), T0).unwrap_err();
        assert!(e.is_token_rejection(), "{t}: {e:?}");
    }
    // Claims that do not fit the requested type are a typed error too.
    let tok = jwt::sign(&keys, &json!({"sub": 5})).unwrap();
    #[derive(serde::Deserialize, Debug)]
    struct Typed {
        #[allow(dead_code)]
        sub: String,
    }
    assert_eq!(
        jwt::verify::<Typed>(&keys, &tok, &Validation::default(), T0)
            .unwrap_err()
            .code(),
        "JWT_INVALID_CLAIM"
    );
    let req = Validation {
        required_claims: vec!["exp".into()],
        ..Default::default()
    };
    assert_eq!(
        jwt::verify::<Value>(&keys, &tok, &req, T0)
            .unwrap_err()
            .code(),
        "JWT_MISSING_CLAIM"
    );
    let sub = Validation {
        subject: Some("6".into()),
        ..Default::default()
    };
    assert_eq!(
        jwt::verify::<Value>(&keys, &tok, &sub, T0)
            .unwrap_err()
            .code(),
        "JWT_INVALID_SUBJECT"
    );
}

#[test]
fn numeric_settings_fail_closed() {
    let keys = KeySet::single(JwtKey::hmac(Algorithm::HS256, b"s3cret-key-bytes").unwrap());
    for (name, set) in [
        (
            "access_ttl",
            &(|c: &mut TokenManagerConfig| c.access_ttl = 0) as &dyn Fn(&mut TokenManagerConfig),
        ),
        ("refresh_ttl", &|c: &mut TokenManagerConfig| {
            c.refresh_ttl = u64::MAX
        }),
        ("mfa_pending_ttl", &|c: &mut TokenManagerConfig| {
            c.mfa_pending_ttl = 31_536_001
        }),
        ("leeway", &|c: &mut TokenManagerConfig| c.leeway = 86_401),
    ] {
        let mut cfg = TokenManagerConfig::new("https://auth.example.com");
        set(&mut cfg);
        let e = TokenManager::new(keys.clone(), cfg, InMemoryRefreshTokenStore::new()).unwrap_err();
        assert_eq!(e.code(), "JWT_INVALID_CONFIG", "{name}");
        assert!(e.to_string().contains(name), "{e}");
    }
    // What a binding hands over from a JS number: NaN, Infinity, negative, fractional.
    for bad in [f64::NAN, f64::INFINITY, -1.0, 1.5, 4_294_967_295.0] {
        let e =
            jwt::seconds_setting("refresh_ttl", bad, 1, jwt::MAX_TOKEN_TTL_SECONDS).unwrap_err();
        assert_eq!(e.code(), "JWT_INVALID_CONFIG");
    }
    assert_eq!(
        jwt::seconds_setting("leeway", 30.0, 0, jwt::MAX_LEEWAY_SECONDS),
        Ok(30)
    );
    // A huge leeway on a verification would keep expired tokens alive.
    let hs = KeySet::single(JwtKey::hmac(Algorithm::HS256, b"one-secret-for-everything").unwrap());
    let m = hs_manager();
    let pair = m.create_token_pair(&claims(), T0).unwrap();
    let v = Validation {
        leeway: u64::MAX,
        ..Validation::default()
    };
    let e = jwt::verify::<Value>(&hs, &pair.access_token, &v, T0 + 10_000).unwrap_err();
    assert_eq!(e.code(), "JWT_INVALID_CONFIG");
    // PyJWT-style checks: a NaN clock or leeway never accepts an expired token.
    let mut claims = Map::new();
    claims.insert("exp".into(), json!(T0));
    for (now, leeway) in [
        (f64::NAN, 0.0),
        (T0 as f64 + 10.0, f64::NAN),
        (T0 as f64 + 10.0, f64::INFINITY),
    ] {
        let c = jwt::ClaimChecks {
            leeway,
            ..Default::default()
        };
        assert_eq!(
            jwt::validate_claim_checks(&claims, &c, now)
                .unwrap_err()
                .code(),
            "JWT_INVALID_CONFIG"
        );
    }
}
