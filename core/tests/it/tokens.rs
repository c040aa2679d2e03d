//! API tokens (Auth Server), node-auth API keys and fuz_app session-token hashing.

use authcore::tokens::{self, ApiToken, ApiTokenStore, InMemoryApiTokenStore};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn record(id: &str, token: &str, prefix: &str) -> ApiToken {
    ApiToken {
        id: id.into(),
        service_account_id: format!("sa-{id}"),
        name: format!("token {id}"),
        token_hash: tokens::hash_api_token(token),
        prefix: prefix.into(),
        last_used_at: None,
        expires_at: None,
        created_at: "2025-12-01T00:00:00Z".into(),
        revoked: false,
        domain_id: "d1".into(),
        org_id: "o1".into(),
        scopes: vec!["read".into()],
    }
}

#[test]
fn generated_tokens_have_prefix_entropy_and_sha256_hash() {
    let g = tokens::generate_api_token(tokens::LIVE_PREFIX).unwrap();
    assert_eq!(g.token.len(), "epic_live_".len() + 32);
    assert!(g.token.starts_with("epic_live_"));
    assert!(
        g.token["epic_live_".len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    );
    assert_eq!(g.prefix, &g.token[..18]);
    assert_eq!(
        g.token_hash,
        hex::encode(Sha256::digest(g.token.as_bytes()))
    );
    assert_eq!(
        tokens::api_token_lookup_prefix(&g.token, tokens::LIVE_PREFIX),
        Some(g.prefix.as_str())
    );
    assert_eq!(
        tokens::api_token_lookup_prefix(&g.token, tokens::TEST_PREFIX),
        None
    );
    let other = tokens::generate_api_token(tokens::LIVE_PREFIX).unwrap();
    assert_ne!(g.token, other.token);
    for bad in ["", "bad prefix", "é_", &"x".repeat(33)] {
        assert_eq!(
            tokens::generate_api_token(bad).unwrap_err().code(),
            "API_TOKEN_INVALID_PREFIX"
        );
    }
    // base62 output is unbiased enough that every symbol shows up in a large sample.
    let sample = tokens::random_base62(20_000).unwrap();
    let distinct: std::collections::BTreeSet<u8> = sample.bytes().collect();
    assert_eq!(distinct.len(), 62);
}

/// node-auth §6 item 33: the prefix index returned one record, so a collision made a
/// valid key fail. Here every candidate is compared.
#[test]
fn prefix_collisions_do_not_break_valid_tokens() {
    let prefix = "epic_live_AAAAAAAA";
    let t1 = format!("{prefix}{}", "1".repeat(24));
    let t2 = format!("{prefix}{}", "2".repeat(24));
    let t3 = format!("{prefix}{}", "3".repeat(24));
    let candidates = vec![
        record("a", &t1, prefix),
        record("b", &t2, prefix),
        record("c", &t3, prefix),
    ];
    for (t, id) in [(&t1, "a"), (&t2, "b"), (&t3, "c")] {
        assert_eq!(
            tokens::authenticate_api_token(t, &candidates, NOW)
                .unwrap()
                .id,
            id
        );
    }
    let wrong = format!("{prefix}{}", "4".repeat(24));
    assert_eq!(
        tokens::authenticate_api_token(&wrong, &candidates, NOW)
            .unwrap_err()
            .code(),
        "API_KEY_INVALID"
    );
}

#[test]
fn revoked_expired_missing_and_wrong_tokens_are_rejected() {
    let g = tokens::generate_api_token(tokens::LIVE_PREFIX).unwrap();
    let mut rec = record("a", &g.token, &g.prefix);
    let check = |rec: &ApiToken| {
        tokens::authenticate_api_token(&g.token, std::slice::from_ref(rec), NOW)
            .map(|r| r.id.clone())
    };
    assert!(check(&rec).is_ok());
    rec.expires_at = Some("2026-01-01T00:00:01Z".into());
    assert!(check(&rec).is_ok());
    rec.expires_at = Some("2026-01-01T00:00:00Z".into());
    assert_eq!(check(&rec).unwrap_err().code(), "API_KEY_EXPIRED");
    rec.expires_at = Some("2026-01-01T01:00:00+02:00".into()); // 23:00Z the day before
    assert_eq!(check(&rec).unwrap_err().code(), "API_KEY_EXPIRED");
    rec.expires_at = Some("next tuesday".into());
    assert_eq!(
        check(&rec).unwrap_err().code(),
        "API_KEY_EXPIRED",
        "unreadable expiry fails closed"
    );
    rec.expires_at = None;
    rec.revoked = true;
    let e = check(&rec).unwrap_err();
    assert_eq!((e.code(), e.status()), ("API_KEY_REVOKED", 401));
    assert_eq!(
        tokens::authenticate_api_token("", &[], NOW)
            .unwrap_err()
            .code(),
        "API_KEY_MISSING"
    );
    let mut tampered = rec.clone();
    tampered.token_hash = "zz".into();
    tampered.revoked = false;
    assert_eq!(
        check(&tampered).unwrap_err().code(),
        "API_TOKEN_STORED_HASH_INVALID"
    );
}

#[test]
fn store_flow_touches_last_used_and_never_stores_the_token() {
    let store = InMemoryApiTokenStore::new();
    let g = tokens::generate_api_token(tokens::TEST_PREFIX).unwrap();
    store.insert(record("a", &g.token, &g.prefix));
    let auth = tokens::authenticate_with_store(
        &store,
        &g.token,
        tokens::TEST_PREFIX,
        NOW,
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    let v = serde_json::to_value(&auth).unwrap();
    assert_eq!(v["type"], "api_token");
    assert_eq!(v["serviceAccountId"], "sa-a");
    assert_eq!(v["tokenName"], "token a");
    assert_eq!(v["scopes"], serde_json::json!(["read"]));
    assert!(v.get("userId").is_none());
    let rows = store.all();
    assert_eq!(
        rows[0].last_used_at.as_deref(),
        Some("2026-01-01T00:00:00Z")
    );
    let stored = serde_json::to_string(&rows).unwrap();
    assert!(
        !stored.contains(&g.token),
        "raw token must not be persisted"
    );
    assert!(stored.contains("\"tokenHash\""));
    for bad in [
        "",
        "epic_test_short",
        &format!("{}!", &g.token[..g.token.len() - 1]),
    ] {
        let e = tokens::authenticate_with_store(&store, bad, tokens::TEST_PREFIX, NOW, "x")
            .unwrap_err();
        assert!(
            matches!(e.code(), "API_KEY_INVALID" | "API_KEY_MISSING"),
            "{bad}"
        );
    }
}

#[test]
fn node_auth_api_keys() {
    let k = tokens::generate_node_api_key().unwrap();
    assert_eq!(k.raw_key.len(), 51);
    assert!(
        k.raw_key.starts_with("ak_")
            && k.raw_key[3..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(k.key_prefix, &k.raw_key[..11]);
    assert_eq!(
        tokens::node_api_key_prefix(&k.raw_key),
        Some(k.key_prefix.as_str())
    );
    assert_eq!(tokens::node_api_key_prefix("ak_123"), None);
    assert_eq!(tokens::node_api_key_prefix(&k.raw_key.to_uppercase()), None);
    // node-auth stores bcrypt(rawKey, 10); we verify it among colliding candidates.
    let legacy = authcore::password::bcrypt_hash(k.raw_key.as_bytes(), 4).unwrap();
    let other = authcore::password::bcrypt_hash(b"ak_other", 4).unwrap();
    let ours = tokens::hash_api_token(&k.raw_key);
    assert_eq!(
        tokens::match_token_hash(&k.raw_key, &[&other, &legacy]).unwrap(),
        Some(1)
    );
    assert_eq!(
        tokens::match_token_hash(&k.raw_key, &[&other, &ours]).unwrap(),
        Some(1)
    );
    assert_eq!(
        tokens::match_token_hash(&k.raw_key, &[&other]).unwrap(),
        None
    );
    assert_eq!(tokens::match_token_hash(&k.raw_key, &[]).unwrap(), None);
}

/// node-auth's constant dummy hash cannot be decoded by a strict bcrypt implementation
/// (its salt has non-zero trailing bits), so it would not burn CPU here: we use our own
/// precomputed dummy instead.
#[test]
fn node_auth_dummy_hash_is_not_usable_and_ours_is() {
    let node_dummy = "$2a$10$invalidhashpaddingtomitigatetiming0000000000000000000";
    assert_eq!(node_dummy.len(), 60);
    let ours = tokens::bcrypt_dummy_hash();
    assert!(ours.starts_with("$2b$10$") && ours.len() == 60);
    assert!(!authcore::password::bcrypt_verify(b"ak_x", ours).unwrap());
    let node = authcore::password::bcrypt_verify(b"ak_x", node_dummy);
    // bcryptjs decodes it leniently and burns the full cost; the strict decoder refuses it
    // at once, which would reopen the timing oracle if a binding reused node-auth's string.
    assert_eq!(node.unwrap_err().code(), "PASSWORD_INVALID_HASH");
}

#[test]
fn fuz_app_session_hash_vectors() {
    for (input, want) in [
        (
            "",
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        ),
        (
            "abc",
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
        ),
        (
            "test_token",
            "445e56aeadca0a7326ce16ac79cfefc49dd933d212e81893e03bf779abf14065",
        ),
        (
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "0807456e11ea80a0cabf51014bdab6bb6ae59402cacb3b323853203b178e28d3",
        ),
    ] {
        assert_eq!(tokens::hash_session_token(input), want, "{input:?}");
        assert_eq!(tokens::hash_blake3(input.as_bytes()), want);
        assert!(tokens::verify_session_token(input, want));
        assert!(!tokens::verify_session_token(&format!("{input}x"), want));
    }
    let t = tokens::generate_session_token().unwrap();
    assert_eq!(t.len(), 43);
    assert!(
        t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let h = tokens::hash_session_token(&t);
    assert!(
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
}

#[test]
fn rfc3339_parser() {
    assert_eq!(tokens::parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(tokens::parse_rfc3339("2026-01-01T00:00:00Z"), Some(NOW));
    assert_eq!(tokens::parse_rfc3339("2026-01-01T00:00:00.123Z"), Some(NOW));
    assert_eq!(
        tokens::parse_rfc3339("2026-01-01T02:00:00+02:00"),
        Some(NOW)
    );
    assert_eq!(
        tokens::parse_rfc3339("2000-02-29T12:00:00Z"),
        Some(951_825_600)
    );
    for bad in [
        "",
        "2026-01-01",
        "2026-13-01T00:00:00Z",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:00.Z",
        "2026-01-01T24:00:00Z",
    ] {
        assert_eq!(tokens::parse_rfc3339(bad), None, "{bad}");
    }
}
