//! Secrets stay out of printouts: every public type of the core that holds a secret is
//! formatted (`{:?}`, and `{}` where it has one) and the secret's bytes must be absent.
//! Covers the plain secret, the secret hash, the pepper, the AMQP password, the
//! propagation secret, JWT key bytes, API tokens, TOTP secrets and store URLs.

#[allow(dead_code)] // only the RSA key is used here
use crate::jwt_keys;

use std::sync::Arc;

use authcore::hmac::clients::{
    ClientCredential, ClientCredentialWithSecret, CreateOptions, Patch, RegenerateOptions,
    RevertResult, WritePlan,
};
use authcore::hmac::crypto::SignInput;
use authcore::hmac::message::MessageKey;
use authcore::hmac::record::parse_stored_client_record;
use authcore::hmac::{HmacAuth, HmacAuthOptions, SignRequestHeadersInput};
use authcore::propagation::amqp::{AmqpOptions, AmqpProtocol};
use authcore::propagation::config::AmqpSettings;
use authcore::propagation::propagator::{
    EnsureInput, PendingPropagation, PendingTarget, RotateInput, RotateUsage, UpsertInput,
};
use authcore::propagation::wire::{self, AckEvent, ApplyEvent, ApplyPayload};
use authcore::store::MemoryStore;

const PLAIN: &str = "plain-Secret-4c1d";
const HASH: &str = "hash-5e8a0f9b2c7d41e6a3b5c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8";
const PEPPER: &str = "pepper-Token-77aa";
const AMQP_PASSWORD: &str = "amqp-Password-19ff";
const PROPAGATION_SECRET: &str = "propagation-Secret-0b2e";
const JWT_SECRET: &str = "jwt-Hmac-Key-Bytes-6d6d";

/// `text` must contain none of `secrets`.
#[track_caller]
fn clean(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "{s:?} printed in: {text}");
    }
}

fn all() -> Vec<&'static str> {
    vec![
        PLAIN,
        HASH,
        PEPPER,
        AMQP_PASSWORD,
        PROPAGATION_SECRET,
        JWT_SECRET,
    ]
}

fn record() -> authcore::hmac::ClientRecord {
    parse_stored_client_record(&format!(
        r#"{{"secretHash":"{HASH}","createdAt":1,"updatedAt":1,"expiresAt":null,"allowedIps":["10.0.0.1"]}}"#
    ))
}

#[test]
fn hmac_types_redact_secrets() {
    let rec = record();
    assert_eq!(rec.secret_hash, HASH);
    let legacy = parse_stored_client_record(HASH);
    let texts = vec![
        format!("{rec:?}"),
        format!("{legacy:?}"),
        format!(
            "{:?}",
            ClientCredential {
                client_id: "app".into(),
                record: rec.clone(),
            }
        ),
        format!(
            "{:?}",
            ClientCredentialWithSecret {
                client_id: "app".into(),
                record: rec.clone(),
                secret: PLAIN.into(),
            }
        ),
        format!(
            "{:?}",
            RevertResult {
                reverted: true,
                restored_secret_hash: Some(HASH.into()),
            }
        ),
        format!(
            "{:?}",
            WritePlan {
                backup_secret_hash: Some(HASH.into()),
                record: rec.clone(),
            }
        ),
        format!(
            "{:?}",
            CreateOptions {
                client_id: "app".into(),
                plain_secret: Some(Some(PLAIN.into())),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            RegenerateOptions {
                plain_secret: Some(Some(PLAIN.into())),
                expires_at: Patch::Keep,
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            MessageKey {
                secret: PLAIN,
                secret_is_hashed: false,
                hash_token: Some(PEPPER),
            }
        ),
        format!(
            "{:?}",
            SignInput {
                method: "GET",
                path: "/",
                timestamp: 1.0,
                nonce: "n",
                body: b"",
                secret: HASH,
            }
        ),
        format!(
            "{:?}",
            SignRequestHeadersInput {
                method: "GET",
                url: "/",
                body: b"",
                client_id: "app",
                secret: PLAIN,
                secret_is_hashed: false,
                hash_token: Some(PEPPER),
                nonce: None,
                timestamp: None,
            }
        ),
    ];
    for t in &texts {
        clean(t, &all());
        assert!(t.contains("[REDACTED]"), "{t}");
    }
    // Instances holding the pepper.
    let opts = HmacAuthOptions {
        secret_token: Some(PEPPER.into()),
        ..Default::default()
    };
    let auth = HmacAuth::new(Arc::new(MemoryStore::new()), &opts).unwrap();
    clean(&format!("{opts:?}"), &all());
    clean(&format!("{auth:?}"), &all());
    clean(&format!("{:?}", auth.clients.config()), &all());
    assert_eq!(auth.secret_token(), Some(PEPPER));
}

#[test]
fn propagation_types_redact_secrets() {
    let payload = ApplyPayload {
        secret_hash: HASH.into(),
        allowed_ips: None,
        expires_at: None,
    };
    let apply = ApplyEvent {
        event_id: "e".into(),
        ts: 1,
        propagation_secret: PROPAGATION_SECRET.into(),
        sender_amqp_queue: "a".into(),
        op: "credential.create".into(),
        track: "http".into(),
        client_id: "c".into(),
        payload: payload.clone(),
    };
    let ack = AckEvent {
        event_id: "e".into(),
        ts: 1,
        propagation_secret: PROPAGATION_SECRET.into(),
        sender_amqp_queue: "a".into(),
        op: "credential.ack".into(),
        ack_event_id: "e0".into(),
        ack_result: "success".into(),
        ack_reason: None,
    };
    let envelope = wire::decode(&wire::encode(&apply)).unwrap();
    let parts = envelope.apply_parts().unwrap();
    assert_eq!(parts.secret_hash, HASH);
    let settings = AmqpSettings {
        protocol: "amqp".into(),
        host: "h".into(),
        port: 5672.0,
        user: "guest".into(),
        password: AMQP_PASSWORD.into(),
        vhost: None,
    };
    let options: AmqpOptions = settings.to_options("hmac-a.queue".into()).unwrap();
    assert_eq!(options.protocol, AmqpProtocol::Amqp);
    assert!(options.to_uri().contains(AMQP_PASSWORD));
    let texts = vec![
        format!("{payload:?}"),
        format!("{apply:?}"),
        format!("{ack:?}"),
        format!("{envelope:?}"),
        format!("{parts:?}"),
        format!("{settings:?}"),
        format!("{options:?}"),
        options.redacted_uri(),
        format!(
            "{:?}",
            UpsertInput {
                client_id: "c".into(),
                track: "http".into(),
                op: "credential.create".into(),
                secret_plain: Some(PLAIN.into()),
                allowed_ips: None,
                expires_at: None,
                targets: vec!["b".into()],
            }
        ),
        format!(
            "{:?}",
            RotateInput {
                client_id: "c".into(),
                track: "http".into(),
                secret_plain: PLAIN.into(),
            }
        ),
        format!(
            "{:?}",
            PendingPropagation {
                client_id: "c".into(),
                track: "http".into(),
                op: "credential.create".into(),
                secret_plain: Some(PLAIN.into()),
                allowed_ips: None,
                expires_at: None,
                pending_targets: vec![PendingTarget {
                    target_amqp_queue: "b".into(),
                    propagation_secret: PROPAGATION_SECRET.into(),
                }],
            }
        ),
        format!(
            "{:?}",
            EnsureInput {
                client_id: "c".into(),
                secret: PLAIN.into(),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            RotateUsage {
                client_id: "c".into(),
                secret: PLAIN.into(),
                track: None,
            }
        ),
    ];
    for t in &texts {
        clean(t, &all());
    }
}

#[test]
fn jwt_token_totp_types_redact_secrets() {
    use authcore::jwt::{
        Algorithm, InMemoryRefreshTokenStore, JwtKey, KeySet, TokenManager, TokenManagerConfig,
    };
    let hmac = JwtKey::hmac(Algorithm::HS256, JWT_SECRET.as_bytes()).unwrap();
    let rsa = JwtKey::rsa_private_pem(jwt_keys::RSA_PRIVATE.as_bytes())
        .unwrap()
        .with_kid("r1");
    let pem_body: Vec<&str> = jwt_keys::RSA_PRIVATE
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let mut set = KeySet::single(hmac.clone());
    set.add(rsa.clone()).unwrap();
    let tm = TokenManager::new(
        set.clone(),
        TokenManagerConfig::new("https://issuer.example"),
        InMemoryRefreshTokenStore::new(),
    )
    .unwrap();
    let claims = authcore::jwt::TokenClaims {
        user_id: "u1".into(),
        domain_id: "d1".into(),
        scope: "read".into(),
    };
    let pair = tm.create_token_pair(&claims, 1_700_000_000).unwrap();
    let api = authcore::tokens::generate_api_token("epic_live").unwrap();
    let node_key = authcore::tokens::generate_node_api_key().unwrap();
    let totp = authcore::totp::generate_secret_for("a@example.com", "Issuer").unwrap();
    let rsa_pair = authcore::jwt::generate_rsa_keypair(2048).unwrap();
    let private_body: Vec<String> = rsa_pair
        .private_key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_owned)
        .collect();
    let mut secrets: Vec<&str> = all();
    secrets.extend(pem_body.iter().copied());
    secrets.extend(private_body.iter().map(String::as_str));
    secrets.extend([
        pair.access_token.as_str(),
        pair.refresh_token.as_str(),
        api.token.as_str(),
        node_key.raw_key.as_str(),
        totp.secret.as_str(),
    ]);
    for t in [
        format!("{hmac:?}"),
        format!("{rsa:?}"),
        format!("{set:?}"),
        format!("{tm:?}"),
        format!("{pair:?}"),
        format!("{api:?}"),
        format!("{node_key:?}"),
        format!("{totp:?}"),
        format!("{rsa_pair:?}"),
    ] {
        clean(&t, &secrets);
    }
}

#[test]
fn store_urls_are_redacted_in_errors() {
    let e = authcore::hmac::check_store_url("mysql://root:hunter2-db@db:3306/app").unwrap_err();
    clean(&e.to_string(), &["hunter2-db"]);
    assert!(
        e.to_string().contains("mysql://root:***@db:3306/app"),
        "{e}"
    );
    let e = authcore::propagation::config::unsupported_redis_url("http://u:hunter2-db@x/");
    clean(&e.to_string(), &["hunter2-db"]);
    clean(&format!("{e:?}"), &["hunter2-db"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for url in [
        "redis://user:hunter2-db@127.0.0.1:1/",
        "redis://:hunter2-db@127.0.0.1:notaport",
        "rediss://user:hunter2-db@127.0.0.1:1/",
    ] {
        let e = rt
            .block_on(authcore::store::RedisStore::connect(url))
            .unwrap_err();
        clean(&e.to_string(), &["hunter2-db"]);
        clean(&format!("{e:?}"), &["hunter2-db"]);
    }
}
