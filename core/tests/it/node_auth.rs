//! Core additions for the node-auth drop-in: payload-text verification with lenient
//! token use, RSA key material for JwksService, and the ApiKeyStrategy checks
//! (IP allow-list, scopes, prefix collisions).

use crate::support;

use authcore::jwt::{self, JwtKey, KeySet, TokenUse, Validation};
use authcore::tokens::{self, ApiTokenError, NodeApiKeyCandidate, NodeApiKeyRequest};
use support::vectors;

fn hs(secret: &str) -> KeySet {
    KeySet::single(JwtKey::hmac_node_compat(secret.as_bytes()).unwrap())
}

#[test]
fn verify_json_keeps_the_payload_bytes() {
    let keys = hs("s3cret");
    let payload = r#"{"z":1,"a":{"y":2,"b":[3]},"sub":"u1","iat":1700000000,"exp":1700000900}"#;
    let token = jwt::sign_payload_json(&keys, payload).unwrap();
    let v = jwt::verify_json(
        &keys,
        &token,
        &Validation::node_compat(),
        1_700_000_001,
        None,
    )
    .unwrap();
    assert_eq!(v.payload_json, payload);
    let err = jwt::verify_json(
        &keys,
        &token,
        &Validation::node_compat(),
        1_700_000_900,
        None,
    )
    .unwrap_err();
    assert_eq!(err.code(), "JWT_EXPIRED");
}

#[test]
fn lenient_token_use_rejects_our_other_uses_and_accepts_legacy_and_foreign_tokens() {
    let keys = hs("same-secret-for-both");
    let v = Validation::node_compat();
    let legacy = jwt::sign_payload_json(&keys, r#"{"sub":"u1"}"#).unwrap();
    let access = jwt::sign_payload_json(&keys, r#"{"sub":"u1","token_use":"access"}"#).unwrap();
    let refresh = jwt::sign_payload_json(&keys, r#"{"sub":"u1","token_use":"refresh"}"#).unwrap();
    let mfa = jwt::sign_payload_json(&keys, r#"{"sub":"u1","token_use":"mfa_pending"}"#).unwrap();
    let odd = jwt::sign_payload_json(&keys, r#"{"sub":"u1","token_use":7}"#).unwrap();
    let id = jwt::sign_payload_json(&keys, r#"{"sub":"u1","token_use":"id"}"#).unwrap();
    let check = |t: &str, u| jwt::verify_json(&keys, t, &v, 0, Some(u)).map(|_| ());
    assert!(check(&legacy, TokenUse::Access).is_ok());
    assert!(check(&access, TokenUse::Access).is_ok());
    // Values that are not ours (another issuer's `id` tokens, odd types) pass, as in
    // jsonwebtoken: only our own markers are told apart.
    for u in [TokenUse::Access, TokenUse::Refresh] {
        assert!(check(&odd, u).is_ok());
        assert!(check(&id, u).is_ok());
    }
    for (t, u) in [
        (&refresh, TokenUse::Access),
        (&mfa, TokenUse::Access),
        (&access, TokenUse::Refresh),
        (&mfa, TokenUse::Refresh),
        (&access, TokenUse::MfaPending),
    ] {
        assert_eq!(check(t, u).unwrap_err().code(), "JWT_WRONG_TOKEN_USE");
    }
    // The strict form (Validation::token_use) refuses the legacy token.
    let strict = Validation {
        token_use: Some(TokenUse::Access),
        ..Validation::node_compat()
    };
    let err = jwt::verify_json(&keys, &legacy, &strict, 0, None).unwrap_err();
    assert_eq!(err.code(), "JWT_WRONG_TOKEN_USE");
}

#[test]
fn decode_unverified_reads_header_and_payload() {
    let keys = KeySet::single(
        JwtKey::hmac(jwt::Algorithm::HS256, b"k")
            .unwrap()
            .with_kid("kid-9"),
    );
    let token = jwt::sign_payload_json(&keys, r#"{"b":1,"a":2}"#).unwrap();
    let (h, p) = jwt::decode_unverified(&token).unwrap();
    assert_eq!(h["kid"], "kid-9");
    assert_eq!(p, r#"{"b":1,"a":2}"#);
    assert_eq!(
        jwt::decode_unverified("a.b").unwrap_err().code(),
        "JWT_MALFORMED"
    );
}

#[test]
fn rsa_jwk_matches_node_crypto_export_and_round_trips() {
    let doc = vectors("jwt-asymmetric.json");
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "jwks-rsa-node-auth-shape")
        .unwrap();
    let pem = case["input"]["publicKeyPem"].as_str().unwrap();
    let jwk = jwt::rsa_pem_to_jwk(pem, "provisioner-key-1").unwrap();
    assert_eq!(
        serde_json::to_value(&jwk).unwrap(),
        case["expect"]["ok"]["keys"][0]
    );
    // JSON key order of node-auth's JWK: kty, use, alg, kid, n, e.
    let text = serde_json::to_string(&jwk).unwrap();
    let order: Vec<usize> = ["\"kty\"", "\"use\"", "\"alg\"", "\"kid\"", "\"n\"", "\"e\""]
        .iter()
        .map(|k| text.find(k).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    // jwkToPublicKey gives back the very same PEM node produced.
    assert_eq!(jwt::rsa_jwk_to_public_pem(&jwk).unwrap(), pem);
    let mut not_rsa = jwk.clone();
    not_rsa.kty = "EC".into();
    assert_eq!(
        jwt::rsa_jwk_to_public_pem(&not_rsa).unwrap_err().code(),
        "JWT_INVALID_KEY"
    );
}

#[test]
fn generated_rsa_keys_sign_and_verify_and_derive() {
    let pair = jwt::generate_rsa_keypair(2048).unwrap();
    assert!(
        pair.private_key
            .starts_with("-----BEGIN PRIVATE KEY-----\n")
    );
    assert!(pair.public_key.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(pair.public_key.ends_with("-----END PUBLIC KEY-----\n"));
    assert_eq!(
        jwt::rsa_public_pem_from_private(&pair.private_key).unwrap(),
        pair.public_key
    );
    let other = jwt::generate_rsa_keypair(2048).unwrap();
    assert_ne!(other.public_key, pair.public_key);
    let signer = KeySet::single(
        JwtKey::rsa_private_pem(pair.private_key.as_bytes())
            .unwrap()
            .with_kid("k1"),
    );
    let token = jwt::sign_payload_json(&signer, r#"{"sub":"u1"}"#).unwrap();
    let verifier = KeySet::single(
        JwtKey::from_jwk(&jwt::rsa_pem_to_jwk(&pair.public_key, "k1").unwrap()).unwrap(),
    );
    let v = jwt::verify_json(&verifier, &token, &Validation::node_compat(), 0, None).unwrap();
    assert_eq!(v.header.kid.as_deref(), Some("k1"));
    for bad in [1024, 2049, 16384] {
        assert_eq!(
            jwt::generate_rsa_keypair(bad).unwrap_err().code(),
            "JWT_KEY_CONFIG"
        );
    }
    assert_eq!(
        jwt::rsa_public_pem_from_private("nope").unwrap_err().code(),
        "JWT_INVALID_KEY"
    );
}

#[test]
fn node_ip_allow_list() {
    let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(tokens::node_ip_allowed("1.2.3.4", &list(&["1.2.3.4"])));
    assert!(tokens::node_ip_allowed(
        "::ffff:192.168.1.1",
        &list(&["192.168.1.1"])
    ));
    assert!(tokens::node_ip_allowed("10.42.0.1", &list(&["10.0.0.0/8"])));
    assert!(!tokens::node_ip_allowed("11.0.0.1", &list(&["10.0.0.0/8"])));
    assert!(tokens::node_ip_allowed(
        "::ffff:10.1.1.1",
        &list(&["10.0.0.0/8"])
    ));
    assert!(tokens::node_ip_allowed("5.6.7.8", &list(&["0.0.0.0/0"])));
    // IPv6 CIDR (node-auth: IPv4 only).
    assert!(tokens::node_ip_allowed(
        "2001:db8::1",
        &list(&["2001:db8::/32"])
    ));
    assert!(!tokens::node_ip_allowed(
        "2001:db9::1",
        &list(&["2001:db8::/32"])
    ));
    // Malformed prefix lengths match nothing (node-auth: `/33` shifted by -1).
    for bad in [
        "10.0.0.0/33",
        "10.0.0.0/x",
        "10.0.0.0/",
        "10.0.0.0/-1",
        "nope/8",
    ] {
        assert!(!tokens::node_ip_allowed("10.0.0.1", &list(&[bad])), "{bad}");
    }
    assert!(!tokens::node_ip_allowed("1.2.3.5", &list(&["1.2.3.4"])));
}

fn cand(raw: &str) -> NodeApiKeyCandidate {
    NodeApiKeyCandidate {
        key_hash: tokens::hash_api_token(raw),
        is_active: true,
        ..Default::default()
    }
}

#[test]
fn node_api_key_validation_order_and_collisions() {
    let k = tokens::generate_node_api_key().unwrap();
    let other = tokens::generate_node_api_key().unwrap();
    let none: [String; 0] = [];
    let req = NodeApiKeyRequest {
        now_ms: 1_700_000_000_000,
        remote_ip: Some("10.1.2.3"),
        enforce_ip_allowlist: true,
        required_scopes: &none,
    };
    // A prefix collision: the valid key is found whatever its position.
    let mut bc = cand(&other.raw_key);
    bc.key_hash =
        authcore::password::bcrypt_hash_with_salt(other.raw_key.as_bytes(), 4, [7; 16]).unwrap();
    let list = vec![bc.clone(), cand(&k.raw_key)];
    assert_eq!(
        tokens::authenticate_node_api_key(&k.raw_key, &list, &req),
        Ok(1)
    );
    assert_eq!(
        tokens::authenticate_node_api_key(&other.raw_key, &list, &req),
        Ok(0)
    );
    assert_eq!(
        tokens::authenticate_node_api_key("ak_nope", &list, &req),
        Err(ApiTokenError::Invalid)
    );
    assert_eq!(
        tokens::authenticate_node_api_key("ak_nope", &[], &req),
        Err(ApiTokenError::Invalid)
    );
    assert_eq!(
        tokens::authenticate_node_api_key("", &list, &req),
        Err(ApiTokenError::Missing)
    );
    // Revoked beats expired beats IP beats scopes (node-auth's order).
    let mut c = cand(&k.raw_key);
    c.is_active = false;
    c.expires_at_ms = Some(1);
    c.allowed_ips = Some(vec!["9.9.9.9".into()]);
    let scopes = vec!["tools:read".to_string(), "x".to_string()];
    let req_scoped = NodeApiKeyRequest {
        required_scopes: &scopes,
        ..req
    };
    let run = |c: &NodeApiKeyCandidate, r: &NodeApiKeyRequest<'_>| {
        tokens::authenticate_node_api_key(&k.raw_key, std::slice::from_ref(c), r)
    };
    assert_eq!(run(&c, &req_scoped), Err(ApiTokenError::Revoked));
    c.is_active = true;
    assert_eq!(run(&c, &req_scoped), Err(ApiTokenError::Expired));
    c.expires_at_ms = Some(req.now_ms); // `now > expiresAt` only
    assert_eq!(run(&c, &req_scoped), Err(ApiTokenError::IpBlocked));
    let unenforced = NodeApiKeyRequest {
        enforce_ip_allowlist: false,
        ..req_scoped
    };
    let err = run(&c, &unenforced).unwrap_err();
    assert_eq!(err, ApiTokenError::InsufficientScope(scopes.clone()));
    assert_eq!(err.status(), 403);
    assert_eq!(
        err.to_string(),
        "API key missing required scopes: tools:read, x"
    );
    c.scopes = vec!["x".into()];
    assert_eq!(
        run(&c, &unenforced),
        Err(ApiTokenError::InsufficientScope(vec!["tools:read".into()]))
    );
    c.scopes.push("tools:read".into());
    assert_eq!(run(&c, &unenforced), Ok(0));
    // No remote IP with a non-empty allow-list: blocked.
    let no_ip = NodeApiKeyRequest {
        remote_ip: None,
        ..req
    };
    assert_eq!(run(&c, &no_ip).unwrap_err().code(), "API_KEY_IP_BLOCKED");
    c.allowed_ips = Some(vec!["10.0.0.0/8".into()]);
    assert_eq!(run(&c, &req), Ok(0));
    c.allowed_ips = Some(vec![]);
    assert_eq!(run(&c, &no_ip), Ok(0));
    // A malformed stored hash is an invalid key, not a server error.
    let mut broken = cand(&k.raw_key);
    broken.key_hash = "garbage".into();
    assert_eq!(
        tokens::authenticate_node_api_key(&k.raw_key, &[broken], &req),
        Err(ApiTokenError::Invalid)
    );
}

#[test]
fn refresh_token_comparison_accepts_hash_or_legacy_plaintext() {
    let t = "eyJ.refresh.token";
    assert!(jwt::refresh_token_matches(t, &jwt::token_hash(t)));
    assert!(jwt::refresh_token_matches(t, t));
    assert!(!jwt::refresh_token_matches(t, "eyJ.refresh.tokeN"));
    assert!(!jwt::refresh_token_matches(t, &jwt::token_hash("other")));
    assert!(!jwt::refresh_token_matches("", ""));
    assert!(!jwt::refresh_token_matches(t, ""));
}

/// The cached-memory argon2 path gives the very PHC strings of the argon2 crate's own
/// `hash_password`, and verifies them (and repeatedly, on a thread whose buffer is reused).
#[test]
fn argon2_cached_memory_matches_the_crate_reference() {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    use authcore::password::{self, Argon2Params};
    let params = Argon2Params {
        m_cost: 2048,
        t_cost: 2,
        p_cost: 1,
        output_len: 32,
    };
    for (pw, salt) in [
        (&b"correct horse"[..], [7u8; 16]),
        (b"", [1u8; 16]),
        (b"p\xc3\xa4ss", [9u8; 16]),
    ] {
        let ours = password::hash_argon2id_with_salt(pw, &salt, &params).unwrap();
        let reference = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(2048, 2, 1, Some(32)).unwrap(),
        )
        .hash_password(pw, &SaltString::encode_b64(&salt).unwrap())
        .unwrap()
        .to_string();
        assert_eq!(ours, reference);
        for _ in 0..3 {
            assert!(password::verify_argon2(pw, &ours).unwrap());
            assert!(!password::verify_argon2(b"wrong", &ours).unwrap());
        }
    }
    // A bigger then a smaller memory size on the same thread.
    let big = Argon2Params {
        m_cost: 8192,
        ..params
    };
    let h = password::hash_argon2id_with_salt(b"x", &[3; 16], &big).unwrap();
    assert!(password::verify_argon2(b"x", &h).unwrap());
    let h2 = password::hash_argon2id_with_salt(b"x", &[3; 16], &params).unwrap();
    assert!(password::verify_argon2(b"x", &h2).unwrap());
    assert_ne!(h, h2);
}
