//! OAuth: PKCE (RFC 7636), single-use authorization codes bound to client, redirect URI
//! and challenge (in-memory storage, or Redis shared by every process), RFC 8414 metadata.

use std::sync::Arc;

use authcore::error::InvalidArgument;
use authcore::oauth::{
    self as core, AuthorizationServerConfig, CodeChallengeMethod, CreateCodeParams,
    ExchangeRequest, OAuthStorage,
};
use authcore::token_stores;
use authcore_node_boundary::napi;
use napi::Env;
use napi::bindgen_prelude::AsyncTask;

use crate::error::{js, to_js};
use crate::jwt::{TokenManager, TokenPair};
use crate::task::{AuthTask, spawn};

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
    pub code_ttl_ms: Option<f64>,
    /// Accept `plain` PKCE (default false).
    pub allow_plain: Option<bool>,
    /// Where codes live: `memory://` (default, this process) or a Redis URL shared by every
    /// process. With Redis, prefer the `*Async` methods.
    pub store: Option<String>,
    /// Redis key prefix (default `authcore`).
    pub key_prefix: Option<String>,
}

type Server = core::AuthorizationServer<Box<dyn OAuthStorage>>;

impl ExchangeCodeOptions {
    /// The core's view of these token-request parameters.
    fn request(&self) -> ExchangeRequest<'_> {
        ExchangeRequest {
            code: &self.code,
            client_id: &self.client_id,
            redirect_uri: &self.redirect_uri,
            code_verifier: &self.code_verifier,
        }
    }
}

/// Issues and redeems authorization codes (only SHA-256 of each code is stored).
#[napi]
pub struct AuthorizationServer {
    inner: Arc<Server>,
}

fn create_params(env: &Env, params: CreateCodeOptions) -> napi::Result<CreateCodeParams> {
    let method = js(
        env,
        CodeChallengeMethod::parse(params.code_challenge_method.as_deref().unwrap_or("S256")),
    )?;
    Ok(CreateCodeParams {
        client_id: params.client_id,
        user_id: params.user_id,
        domain_id: params.domain_id,
        redirect_uri: params.redirect_uri,
        code_challenge: params.code_challenge,
        code_challenge_method: method,
        scope: params.scope,
    })
}

fn exchange(
    srv: &Server,
    req: &ExchangeCodeOptions,
    now: u64,
) -> Result<ExchangedCode, core::OAuthError> {
    let x = srv.exchange_code(&req.request(), now)?;
    Ok(ExchangedCode {
        user_id: x.user_id,
        domain_id: x.domain_id,
        scope: x.scope,
        client_id: x.client_id,
    })
}

fn grant(
    srv: &Server,
    req: &ExchangeCodeOptions,
    tm: &crate::jwt::Manager,
    now: u64,
) -> Result<TokenPair, core::OAuthError> {
    let pair = srv.exchange_code_for_tokens(&req.request(), tm, now)?;
    Ok(pair.into())
}

#[napi]
impl AuthorizationServer {
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, options: Option<AuthorizationServerOptions>) -> napi::Result<Self> {
        let o = options.unwrap_or_default();
        let d = AuthorizationServerConfig::default();
        let code_ttl_ms = match o.code_ttl_ms {
            None => d.code_ttl_ms,
            Some(v) => {
                AuthorizationServerConfig::code_ttl_ms_setting(v).map_err(|e| to_js(&env, e))?
            }
        };
        let cfg = AuthorizationServerConfig {
            code_ttl_ms,
            allow_plain: o.allow_plain.unwrap_or(d.allow_plain),
        };
        let storage =
            token_stores::oauth_storage(o.store.as_deref().unwrap_or(""), o.key_prefix.as_deref())
                .map_err(|e| to_js(&env, InvalidArgument::store(&e)))?;
        Ok(Self {
            inner: Arc::new(
                core::AuthorizationServer::try_new(storage, cfg).map_err(|e| to_js(&env, e))?,
            ),
        })
    }

    /// `createCode` on the libuv pool (the store round trip off the event loop).
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn create_code_async(
        &self,
        env: Env,
        params: CreateCodeOptions,
        now_ms_: Option<f64>,
    ) -> napi::Result<AsyncTask<AuthTask<String>>> {
        let (srv, p, t) = (
            self.inner.clone(),
            create_params(&env, params)?,
            now_ms(now_ms_),
        );
        Ok(spawn(move || Ok(srv.create_code(&p, t)?)))
    }

    /// The `authorization_code` grant end to end: redeem the code and issue a token pair
    /// for its user, domain and scope through `tokenManager`. A replayed code is rejected
    /// (`AUTH_CODE_REUSED`) and the refresh family issued for it is revoked.
    #[napi(catch_unwind)]
    pub fn exchange_code_for_tokens(
        &self,
        env: Env,
        req: ExchangeCodeOptions,
        token_manager: &TokenManager,
        now_ms_: Option<f64>,
    ) -> napi::Result<TokenPair> {
        js(
            &env,
            grant(&self.inner, &req, &token_manager.manager(), now_ms(now_ms_)),
        )
    }

    /// `exchangeCodeForTokens` on the libuv pool.
    #[napi(ts_return_type = "Promise<TokenPair>", catch_unwind)]
    pub fn exchange_code_for_tokens_async(
        &self,
        req: ExchangeCodeOptions,
        token_manager: &TokenManager,
        now_ms_: Option<f64>,
    ) -> AsyncTask<AuthTask<TokenPair>> {
        let (srv, tm, t) = (self.inner.clone(), token_manager.manager(), now_ms(now_ms_));
        spawn(move || Ok(grant(&srv, &req, &tm, t)?))
    }

    /// `exchangeCode` on the libuv pool.
    #[napi(ts_return_type = "Promise<ExchangedCode>", catch_unwind)]
    pub fn exchange_code_async(
        &self,
        req: ExchangeCodeOptions,
        now_ms_: Option<f64>,
    ) -> AsyncTask<AuthTask<ExchangedCode>> {
        let (srv, t) = (self.inner.clone(), now_ms(now_ms_));
        spawn(move || Ok(exchange(&srv, &req, t)?))
    }

    /// Create a code bound to the parameters; returns the code for the client.
    #[napi(catch_unwind)]
    pub fn create_code(
        &self,
        env: Env,
        params: CreateCodeOptions,
        now_ms_: Option<f64>,
    ) -> napi::Result<String> {
        let p = create_params(&env, params)?;
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
        js(&env, exchange(&self.inner, &req, now_ms(now_ms_)))
    }

    /// `exchangeCode` reported as the Auth Server's `ExchangeCodeResult`.
    #[napi(catch_unwind)]
    pub fn exchange_code_result(
        &self,
        req: ExchangeCodeOptions,
        now_ms_: Option<f64>,
    ) -> ExchangeCodeResult {
        let r = self
            .inner
            .exchange_code_result(&req.request(), now_ms(now_ms_));
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
    pub fn purge_expired(&self, env: Env, now_ms_: Option<f64>) -> napi::Result<u32> {
        js(
            &env,
            self.inner
                .storage()
                .purge_expired(now_ms(now_ms_))
                .map_err(core::OAuthError::from),
        )
        .map(|n| n as u32)
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
