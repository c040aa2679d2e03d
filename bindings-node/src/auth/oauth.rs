//! OAuth: PKCE (RFC 7636), single-use authorization codes bound to client, redirect URI
//! and challenge (in-memory storage), RFC 8414 metadata.

use authcore::oauth::{
    self as core, AuthorizationServerConfig, CodeChallengeMethod, CreateCodeParams,
    ExchangeRequest, InMemoryOAuthStorage, OAuthStorage,
};
use napi::Env;
use napi_derive::napi;

use super::error::js;

fn now_ms(v: Option<f64>) -> u64 {
    match v {
        Some(n) if n.is_finite() && n >= 0.0 => n.floor() as u64,
        _ => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
    }
}

/// `BASE64URL(SHA256(verifier))`.
#[napi(catch_unwind)]
pub fn pkce_s256_challenge(verifier: String) -> String {
    core::s256_challenge(&verifier)
}

/// Verify a PKCE verifier against a challenge (`S256` or `plain`, constant time):
/// `true`, or a typed error (`PKCE_INVALID_VERIFIER`, `PKCE_VERIFICATION_FAILED`,
/// `PKCE_UNSUPPORTED_METHOD`).
#[napi(catch_unwind)]
pub fn pkce_verify(
    env: &Env,
    verifier: String,
    challenge: String,
    method: String,
) -> napi::Result<bool> {
    let m = js(env, CodeChallengeMethod::parse(&method))?;
    js(env, core::verify_pkce(&verifier, &challenge, m)).map(|()| true)
}

/// Parameters of `createCode`.
#[napi(object)]
pub struct CreateCodeOptions {
    pub client_id: String,
    pub user_id: String,
    pub domain_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    /// `S256` (default) or `plain`.
    pub code_challenge_method: Option<String>,
    pub scope: String,
}

/// Token-endpoint parameters of an `authorization_code` grant.
#[napi(object)]
pub struct ExchangeCodeOptions {
    pub code: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_verifier: String,
}

/// A redeemed code.
#[napi(object)]
pub struct ExchangedCode {
    pub user_id: String,
    pub domain_id: String,
    pub scope: String,
    pub client_id: String,
}

/// Auth Server `ExchangeCodeResult`.
#[napi(object)]
pub struct ExchangeCodeResult {
    pub success: bool,
    pub user_id: Option<String>,
    pub domain_id: Option<String>,
    pub scope: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Options of [`AuthorizationServer`].
#[napi(object)]
#[derive(Default)]
pub struct AuthorizationServerOptions {
    /// Code lifetime in milliseconds (default 60000).
    pub code_ttl_ms: Option<u32>,
    /// Accept `plain` PKCE (default false).
    pub allow_plain: Option<bool>,
}

/// Issues and redeems authorization codes (only SHA-256 of each code is stored).
#[napi]
pub struct AuthorizationServer {
    inner: core::AuthorizationServer<InMemoryOAuthStorage>,
}

#[napi]
impl AuthorizationServer {
    #[napi(constructor)]
    pub fn new(options: Option<AuthorizationServerOptions>) -> Self {
        let o = options.unwrap_or_default();
        let d = AuthorizationServerConfig::default();
        let cfg = AuthorizationServerConfig {
            code_ttl_ms: o.code_ttl_ms.map_or(d.code_ttl_ms, u64::from),
            allow_plain: o.allow_plain.unwrap_or(d.allow_plain),
        };
        Self {
            inner: core::AuthorizationServer::new(InMemoryOAuthStorage::new(), cfg),
        }
    }

    /// Create a code bound to the parameters; returns the code for the client.
    #[napi(catch_unwind)]
    pub fn create_code(
        &self,
        env: Env,
        params: CreateCodeOptions,
        now_ms_: Option<f64>,
    ) -> napi::Result<String> {
        let method = js(
            &env,
            CodeChallengeMethod::parse(params.code_challenge_method.as_deref().unwrap_or("S256")),
        )?;
        let p = CreateCodeParams {
            client_id: params.client_id,
            user_id: params.user_id,
            domain_id: params.domain_id,
            redirect_uri: params.redirect_uri,
            code_challenge: params.code_challenge,
            code_challenge_method: method,
            scope: params.scope,
        };
        js(&env, self.inner.create_code(&p, now_ms(now_ms_)))
    }

    /// Redeem a code (consumed whatever the outcome). Typed errors: `AUTH_CODE_INVALID`,
    /// `AUTH_CODE_REUSED`, `AUTH_CODE_EXPIRED`, `AUTH_CODE_CLIENT_MISMATCH`,
    /// `AUTH_CODE_REDIRECT_URI_MISMATCH`, `PKCE_VERIFICATION_FAILED`, ...
    #[napi(catch_unwind)]
    pub fn exchange_code(
        &self,
        env: Env,
        req: ExchangeCodeOptions,
        now_ms_: Option<f64>,
    ) -> napi::Result<ExchangedCode> {
        let r = self.inner.exchange_code(
            &ExchangeRequest {
                code: &req.code,
                client_id: &req.client_id,
                redirect_uri: &req.redirect_uri,
                code_verifier: &req.code_verifier,
            },
            now_ms(now_ms_),
        );
        let x = js(&env, r)?;
        Ok(ExchangedCode {
            user_id: x.user_id,
            domain_id: x.domain_id,
            scope: x.scope,
            client_id: x.client_id,
        })
    }

    /// `exchangeCode` reported as the Auth Server's `ExchangeCodeResult`.
    #[napi(catch_unwind)]
    pub fn exchange_code_result(
        &self,
        req: ExchangeCodeOptions,
        now_ms_: Option<f64>,
    ) -> ExchangeCodeResult {
        let r = self.inner.exchange_code_result(
            &ExchangeRequest {
                code: &req.code,
                client_id: &req.client_id,
                redirect_uri: &req.redirect_uri,
                code_verifier: &req.code_verifier,
            },
            now_ms(now_ms_),
        );
        ExchangeCodeResult {
            success: r.success,
            user_id: r.user_id,
            domain_id: r.domain_id,
            scope: r.scope,
            error: r.error,
            error_description: r.error_description,
        }
    }

    /// Drop expired codes; returns how many.
    #[napi(catch_unwind)]
    pub fn purge_expired(&self, now_ms_: Option<f64>) -> u32 {
        self.inner.storage().purge_expired(now_ms(now_ms_)) as u32
    }
}

/// RFC 8414 metadata document (JSON text) for `issuer`.
#[napi(catch_unwind)]
pub fn oauth_metadata(
    env: &Env,
    issuer: String,
    scopes: Vec<String>,
    allow_plain: Option<bool>,
) -> napi::Result<String> {
    let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    js(
        env,
        core::OAuthMetadata::for_issuer(&issuer, &refs, allow_plain.unwrap_or(false)),
    )
    .map(|m| m.to_json())
}
