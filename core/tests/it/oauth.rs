//! OAuth: RFC 7636 vectors, authorization codes (binding, single use, expiry), RFC 8414.

use crate::support;

use authcore::oauth::{
    self, AuthorizationServer, AuthorizationServerConfig, CodeChallengeMethod, ExchangeRequest,
    InMemoryOAuthStorage, OAuthError, OAuthMetadata, OAuthStorage,
};
use serde_json::{Value, json};
use support::{run_vector_file, s};

fn run_case(op: &str, i: &Value) -> Result<Value, OAuthError> {
    match op {
        "pkce_s256_challenge" => Ok(oauth::s256_challenge(s(i, "verifier")).into()),
        "pkce_verify" => {
            let method = CodeChallengeMethod::parse(s(i, "method"))?;
            oauth::verify_pkce(s(i, "verifier"), s(i, "challenge"), method)
                .map(|()| Value::Bool(true))
        }
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn rfc7636_vectors() {
    assert!(run_vector_file("pkce-rfc7636.json", run_case) >= 15);
}

const NOW: u64 = 1_700_000_000_000;

fn server() -> AuthorizationServer<InMemoryOAuthStorage> {
    AuthorizationServer::new(
        InMemoryOAuthStorage::new(),
        AuthorizationServerConfig::default(),
    )
}

use support::{VERIFIER, code_params as params, exchange as req};

#[test]
fn code_exchange_happy_path_and_storage_holds_only_hashes() {
    let srv = server();
    let code = srv.create_code(&params(), NOW).unwrap();
    assert_eq!(code.len(), 43, "32 random bytes, base64url");
    let rec = srv.storage().records();
    assert_eq!(rec.len(), 1);
    assert_ne!(rec[0].code, code, "the code itself is never stored");
    assert_eq!(rec[0].code, oauth::hash_code(&code));
    assert_eq!(rec[0].expires_at, NOW + 60_000);
    let x = srv.exchange_code(&req(&code), NOW + 1_000).unwrap();
    assert_eq!(
        (x.user_id.as_str(), x.domain_id.as_str(), x.scope.as_str()),
        ("u1", "d1", "read write")
    );
}

#[test]
fn reused_code_is_rejected() {
    let srv = server();
    let code = srv.create_code(&params(), NOW).unwrap();
    srv.exchange_code(&req(&code), NOW).unwrap();
    let e = srv.exchange_code(&req(&code), NOW).unwrap_err();
    assert_eq!(e.code(), "AUTH_CODE_REUSED");
    assert_eq!(e.oauth_error(), "invalid_grant");
    assert_eq!(e.status(), 400);
    let r = srv.exchange_code_result(&req(&code), NOW);
    assert!(!r.success);
    assert_eq!(r.error.as_deref(), Some("invalid_grant"));
}

#[test]
fn mismatched_client_redirect_or_verifier_is_rejected_and_burns_the_code() {
    let srv = server();
    let cases: [(ExchangeRequest<'static>, &str); 3] = [
        (
            ExchangeRequest {
                client_id: "other-client",
                ..req("")
            },
            "AUTH_CODE_CLIENT_MISMATCH",
        ),
        (
            ExchangeRequest {
                redirect_uri: "https://app.example/cb/",
                ..req("")
            },
            "AUTH_CODE_REDIRECT_URI_MISMATCH",
        ),
        (
            ExchangeRequest {
                code_verifier: "A".repeat(43).leak(),
                ..req("")
            },
            "PKCE_VERIFICATION_FAILED",
        ),
    ];
    for (bad, code_str) in cases {
        let code = srv.create_code(&params(), NOW).unwrap();
        let e = srv
            .exchange_code(&ExchangeRequest { code: &code, ..bad }, NOW)
            .unwrap_err();
        assert_eq!(e.code(), code_str);
        assert_eq!(e.oauth_error(), "invalid_grant");
        // The failed attempt consumed the code: the legitimate request cannot use it now.
        assert_eq!(
            srv.exchange_code(&req(&code), NOW).unwrap_err().code(),
            "AUTH_CODE_REUSED"
        );
    }
    let code = srv.create_code(&params(), NOW).unwrap();
    let e = srv
        .exchange_code(
            &ExchangeRequest {
                code_verifier: "short",
                ..req(&code)
            },
            NOW,
        )
        .unwrap_err();
    assert_eq!(e.code(), "PKCE_INVALID_VERIFIER");
    assert_eq!(e.oauth_error(), "invalid_request");
}

#[test]
fn expired_and_unknown_codes_are_rejected() {
    let srv = server();
    let code = srv.create_code(&params(), NOW).unwrap();
    assert_eq!(
        srv.exchange_code(&req(&code), NOW + 60_000)
            .unwrap_err()
            .code(),
        "AUTH_CODE_EXPIRED"
    );
    assert_eq!(
        srv.exchange_code(&req("no-such-code"), NOW)
            .unwrap_err()
            .code(),
        "AUTH_CODE_INVALID"
    );
    assert_eq!(
        srv.exchange_code(&req(""), NOW).unwrap_err().code(),
        "OAUTH_INVALID_REQUEST"
    );
    assert_eq!(srv.storage().purge_expired(NOW + 60_001), Ok(1));
}

#[test]
fn plain_is_refused_unless_enabled() {
    let srv = server();
    let mut p = params();
    p.code_challenge_method = CodeChallengeMethod::Plain;
    p.code_challenge = VERIFIER.into();
    assert_eq!(
        srv.create_code(&p, NOW).unwrap_err().code(),
        "PKCE_PLAIN_NOT_ALLOWED"
    );
    let lax = AuthorizationServer::new(
        InMemoryOAuthStorage::new(),
        AuthorizationServerConfig {
            allow_plain: true,
            ..Default::default()
        },
    );
    let code = lax.create_code(&p, NOW).unwrap();
    assert!(lax.exchange_code(&req(&code), NOW).is_ok());
}

#[test]
fn create_code_validates_its_inputs() {
    let srv = server();
    let mut p = params();
    p.code_challenge = "too-short".into();
    assert_eq!(
        srv.create_code(&p, NOW).unwrap_err().code(),
        "PKCE_INVALID_CHALLENGE"
    );
    let mut p = params();
    p.client_id.clear();
    assert_eq!(
        srv.create_code(&p, NOW).unwrap_err().code(),
        "OAUTH_INVALID_REQUEST"
    );
    let mut p = params();
    p.code_challenge.clear();
    assert_eq!(
        srv.create_code(&p, NOW).unwrap_err().code(),
        "OAUTH_INVALID_REQUEST"
    );
}

#[test]
fn code_data_serialises_with_auth_server_field_names() {
    let srv = server();
    srv.create_code(&params(), NOW).unwrap();
    let v = serde_json::to_value(&srv.storage().records()[0]).unwrap();
    for k in [
        "code",
        "clientId",
        "userId",
        "domainId",
        "redirectUri",
        "codeChallenge",
        "codeChallengeMethod",
        "scope",
        "expiresAt",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
    assert_eq!(v["codeChallengeMethod"], "S256");
}

#[test]
fn rfc8414_metadata_document() {
    let m =
        OAuthMetadata::for_issuer("https://auth.example.com", &["read", "write"], false).unwrap();
    let v: Value = serde_json::from_str(&m.to_json()).unwrap();
    assert_eq!(
        v,
        json!({
            "issuer": "https://auth.example.com",
            "authorization_endpoint": "https://auth.example.com/oauth/authorize",
            "token_endpoint": "https://auth.example.com/oauth/token",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
            "scopes_supported": ["read", "write"],
            "revocation_endpoint": "https://auth.example.com/oauth/revoke"
        })
    );
    assert!(m.to_json().starts_with("{\"issuer\":"), "issuer first");
    for bad in [
        "http://auth.example.com",
        "https://auth.example.com?x=1",
        "https://auth.example.com#f",
        "not a url",
    ] {
        assert_eq!(
            OAuthMetadata::for_issuer(bad, &[], false)
                .unwrap_err()
                .code(),
            "OAUTH_INVALID_ISSUER",
            "{bad}"
        );
    }
    assert!(
        OAuthMetadata::for_issuer("http://localhost:3000", &[], true)
            .unwrap()
            .code_challenge_methods_supported
            .contains(&"plain".to_string())
    );
}

fn token_manager() -> authcore::jwt::TokenManager {
    use authcore::jwt::{Algorithm, InMemoryRefreshTokenStore, JwtKey, KeySet, TokenManagerConfig};
    authcore::jwt::TokenManager::new(
        KeySet::single(JwtKey::hmac(Algorithm::HS256, b"grant-signing-secret").unwrap()),
        TokenManagerConfig::new("https://auth.example.com"),
        InMemoryRefreshTokenStore::new(),
    )
    .unwrap()
}

#[test]
fn code_grant_issues_tokens_and_a_replay_revokes_them() {
    let (srv, tm) = (server(), token_manager());
    let code = srv.create_code(&params(), NOW).unwrap();
    let pair = srv
        .exchange_code_for_tokens(&req(&code), &tm, NOW + 1_000)
        .unwrap();
    let t = (NOW + 1_000) / 1000;
    let access = tm.verify_access_token(&pair.access_token, t).unwrap();
    assert_eq!(
        (
            access.user_id.as_str(),
            access.domain_id.as_str(),
            access.scope.as_str()
        ),
        ("u1", "d1", "read write")
    );
    assert!(tm.verify_refresh_token(&pair.refresh_token, t).valid);
    // The family is remembered on the (used) code record, which stores only the hash.
    let rec = srv.storage().records();
    assert_eq!(rec[0].family_id.as_deref(), Some(pair.family_id.as_str()));
    // Replay: rejected, and the refresh family issued for the code is revoked.
    assert_eq!(
        srv.exchange_code_for_tokens(&req(&code), &tm, NOW + 2_000),
        Err(OAuthError::CodeReused)
    );
    assert_eq!(
        tm.verify_refresh_token(&pair.refresh_token, t)
            .error
            .as_deref(),
        Some("REFRESH_TOKEN_REVOKED")
    );
    // A plain exchange of a replayed code is rejected the same way.
    assert_eq!(
        srv.exchange_code(&req(&code), NOW + 2_000),
        Err(OAuthError::CodeReused)
    );
}

#[test]
fn failed_code_grant_burns_the_code_and_issues_nothing() {
    let (srv, tm) = (server(), token_manager());
    let code = srv.create_code(&params(), NOW).unwrap();
    let mut bad = req(&code);
    bad.code_verifier = "x-wrong-verifier-that-is-long-enough-to-be-valid-000";
    assert_eq!(
        srv.exchange_code_for_tokens(&bad, &tm, NOW + 1_000),
        Err(OAuthError::PkceMismatch)
    );
    assert_eq!(srv.storage().records()[0].family_id, None);
    assert_eq!(
        srv.exchange_code_for_tokens(&req(&code), &tm, NOW + 1_000),
        Err(OAuthError::CodeReused)
    );
    let e = OAuthError::TokenIssue("x".into());
    assert_eq!(
        (e.code(), e.status(), e.oauth_error()),
        ("OAUTH_TOKEN_ISSUE_FAILED", 500, "server_error")
    );
}
