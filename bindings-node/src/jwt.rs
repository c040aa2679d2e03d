//! JWT: key sets parsed once and cached per `kid`, node-jsonwebtoken-compatible signing
//! and verification, the Auth Server `TokenManager`, JWKS, and the RSA key material of
//! node-auth's `JwksService`. HMAC signing and verification are synchronous (a few
//! microseconds, like the original's `jwt.sign`/`jwt.verify`); RSA signing and key
//! generation also exist as `AsyncTask`s.

use std::sync::Arc;

use authcore::error::InvalidArgument;
use authcore::jwt::{
    self as core, Algorithm, JwtError, JwtKey, PublicJwk, RefreshTokenStore, TokenManagerConfig,
    TokenUse, Validation,
};
use authcore::token_stores;
use authcore_node_boundary::napi;
use napi::Env;
use napi::bindgen_prelude::{AsyncTask, Either, Object};

use crate::error::{AuthErr, js};
use crate::task::{AuthTask, block, bytes, spawn, spawn_kdf};

fn alg(name: &str) -> Result<Algorithm, AuthErr> {
    Algorithm::parse(name)
        .ok_or_else(|| AuthErr::from(JwtError::UnsupportedAlgorithm(name.to_string())))
}

fn token_use(name: &str) -> Result<TokenUse, AuthErr> {
    match name {
        "access" => Ok(TokenUse::Access),
        "refresh" => Ok(TokenUse::Refresh),
        "mfa_pending" => Ok(TokenUse::MfaPending),
        other => Err(AuthErr::invalid_argument(format!(
            "token use must be access, refresh or mfa_pending, got {other:?}"
        ))),
    }
}

fn now_secs(now: Option<f64>) -> u64 {
    match now {
        Some(n) if n.is_finite() && n >= 0.0 => n.floor() as u64,
        _ => core::unix_now(),
    }
}

/// Options of `KeySet.addHmac`.
#[napi(object)]
#[derive(Default)]
pub struct HmacKeyOptions {
    /// Signing algorithm: HS256 (default), HS384 or HS512.
    pub alg: Option<String>,
    /// Key id.
    pub kid: Option<String>,
    /// Accepted algorithms on verification. Default: HS256/384/512 when `alg` is not
    /// given (node's `jwt.verify(token, secret)`), else only `alg`.
    pub algorithms: Option<Vec<String>>,
}

/// Options of `KeySet.addPem`.
#[napi(object)]
#[derive(Default)]
pub struct PemKeyOptions {
    /// RS256, ES256 or EdDSA; detected from the key when absent.
    pub alg: Option<String>,
    /// Key id.
    pub kid: Option<String>,
}

/// Claim checks of `KeySet.verify`.
#[napi(object)]
#[derive(Default)]
pub struct JwtVerifyOptions {
    /// Clock, unix seconds (default: now).
    pub now: Option<f64>,
    /// Tolerance in seconds for `exp`/`nbf` (node `clockTolerance`, default 0; an integer
    /// from 0 to 86400).
    pub leeway: Option<f64>,
    /// Accepted issuers.
    pub issuer: Option<Vec<String>>,
    /// Accepted audiences.
    pub audience: Option<Vec<String>>,
    /// Required subject.
    pub subject: Option<String>,
    /// Required `token_use` (`access`, `refresh`, `mfa_pending`): absent claim fails.
    pub token_use: Option<String>,
    /// Lenient `token_use`: a different use fails, an absent claim passes.
    pub lenient_token_use: Option<String>,
    /// Claims that must be present.
    pub required_claims: Option<Vec<String>>,
}

/// A leeway in seconds from JS: the core's range (0..=86400), fail closed.
fn leeway(v: Option<f64>) -> Result<u64, AuthErr> {
    match v {
        None => Ok(0),
        Some(v) => Ok(core::seconds_setting(
            "leeway",
            v,
            0,
            core::MAX_LEEWAY_SECONDS,
        )?),
    }
}

/// A token lifetime from JS: the core's range (1..=365 days), fail closed.
fn ttl(name: &str, v: Option<f64>, default: u64) -> Result<u64, AuthErr> {
    match v {
        None => Ok(default),
        Some(v) => Ok(core::seconds_setting(
            name,
            v,
            1,
            core::MAX_TOKEN_TTL_SECONDS,
        )?),
    }
}

fn validation(o: &JwtVerifyOptions) -> Result<Validation, AuthErr> {
    Ok(Validation {
        leeway: leeway(o.leeway)?,
        issuer: o.issuer.clone(),
        audience: o.audience.clone(),
        subject: o.subject.clone(),
        token_use: o.token_use.as_deref().map(token_use).transpose()?,
        required_claims: o.required_claims.clone().unwrap_or_default(),
    })
}

fn pem_key(pem: &str, alg_name: Option<&str>) -> Result<JwtKey, AuthErr> {
    let a = alg_name.map(alg).transpose()?;
    Ok(JwtKey::from_pem(pem.as_bytes(), a, None)?)
}

/// Keys parsed once and indexed by `kid`, one of them signing (`authcore::jwt::KeySet`).
#[napi]
pub struct KeySet {
    inner: Arc<core::KeySet>,
}

impl KeySet {
    fn add(&mut self, key: JwtKey) -> Result<(), AuthErr> {
        Ok(Arc::make_mut(&mut self.inner).add(key)?)
    }

    pub(crate) fn keys(&self) -> Arc<core::KeySet> {
        self.inner.clone()
    }
}

#[napi]
impl KeySet {
    /// An empty set.
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        Self {
            inner: Arc::new(core::KeySet::new()),
        }
    }

    /// Add an HMAC secret (string: its UTF-8 bytes, like node; or a Buffer).
    #[napi(catch_unwind)]
    pub fn add_hmac(
        &mut self,
        env: Env,
        secret: Either<String, &[u8]>,
        options: Option<HmacKeyOptions>,
    ) -> napi::Result<()> {
        let o = options.unwrap_or_default();
        let secret = bytes(secret);
        let r = (|| {
            let mut key = match &o.alg {
                None => JwtKey::hmac_node_compat(&secret)?,
                Some(a) => JwtKey::hmac(alg(a)?, &secret)?,
            };
            if let Some(list) = &o.algorithms {
                let algs = list.iter().map(|a| alg(a)).collect::<Result<Vec<_>, _>>()?;
                key = key.accept_algorithms(&algs)?;
            }
            if let Some(kid) = &o.kid {
                key = key.with_kid(kid.clone());
            }
            self.add(key)
        })();
        js(&env, r)
    }

    /// Add a PEM key: private (PKCS#8, or PKCS#1 for RSA; signs and verifies) or public
    /// (SPKI, or PKCS#1 for RSA; verifies). RSA moduli under 2048 bits are refused.
    #[napi(catch_unwind)]
    pub fn add_pem(
        &mut self,
        env: Env,
        pem: String,
        options: Option<PemKeyOptions>,
    ) -> napi::Result<()> {
        let o = options.unwrap_or_default();
        let r = (|| {
            let mut key = pem_key(&pem, o.alg.as_deref())?;
            if let Some(kid) = &o.kid {
                key = key.with_kid(kid.clone());
            }
            self.add(key)
        })();
        js(&env, r)
    }

    /// Add a public JWK (RSA, EC P-256, OKP Ed25519), given as JSON text. Symmetric keys
    /// are refused.
    #[napi(catch_unwind)]
    pub fn add_jwk(&mut self, env: Env, jwk_json: String) -> napi::Result<()> {
        let r = (|| {
            let jwk: PublicJwk = serde_json::from_str(&jwk_json)
                .map_err(|e| AuthErr::from(JwtError::InvalidKey(e.to_string())))?;
            self.add(JwtKey::from_jwk(&jwk)?)
        })();
        js(&env, r)
    }

    /// Add every usable key of a JWKS document (JSON text); returns how many were added.
    #[napi(catch_unwind)]
    pub fn add_jwks(&mut self, env: Env, jwks_json: String) -> napi::Result<u32> {
        let r = (|| {
            let set = core::KeySet::from_jwks_json(&jwks_json)?;
            let doc = set.jwks();
            let mut n = 0;
            for jwk in &doc.keys {
                self.add(JwtKey::from_jwk(jwk)?)?;
                n += 1;
            }
            Ok::<u32, AuthErr>(n)
        })();
        js(&env, r)
    }

    /// Choose the signing key by `kid` (`null`: the key without kid).
    #[napi(catch_unwind)]
    pub fn set_signing_kid(&mut self, env: Env, kid: Option<String>) -> napi::Result<()> {
        js(
            &env,
            Arc::make_mut(&mut self.inner).set_signing_kid(kid.as_deref()),
        )
    }

    /// Number of keys.
    #[napi(getter, catch_unwind)]
    pub fn size(&self) -> u32 {
        self.inner.len() as u32
    }

    /// Sign the exact payload text (a JSON object) with the signing key. With the text of
    /// node's `JSON.stringify(payload)` the token is byte-identical to `jwt.sign`'s.
    #[napi(catch_unwind)]
    pub fn sign(&self, env: Env, payload_json: String) -> napi::Result<String> {
        js(&env, core::sign_payload_json(&self.inner, &payload_json))
    }

    /// `sign` on the thread pool (for RS256, whose signing takes milliseconds).
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn sign_async(&self, payload_json: String) -> AsyncTask<AuthTask<String>> {
        let keys = self.inner.clone();
        spawn(move || Ok(core::sign_payload_json(&keys, &payload_json)?))
    }

    /// Verify a token and return its payload as the exact JSON text it carries (parse it
    /// with `JSON.parse` to get node's claim order). Typed errors: `JWT_MALFORMED`,
    /// `JWT_ALG_NONE`, `JWT_ALGORITHM_MISMATCH`, `JWT_INVALID_SIGNATURE`, `JWT_EXPIRED`,
    /// `JWT_NOT_YET_VALID`, `JWT_INVALID_ISSUER`, `JWT_INVALID_AUDIENCE`,
    /// `JWT_WRONG_TOKEN_USE`, ...
    #[napi(catch_unwind)]
    pub fn verify(
        &self,
        env: Env,
        token: String,
        options: Option<JwtVerifyOptions>,
    ) -> napi::Result<String> {
        let o = options.unwrap_or_default();
        let r = (|| {
            let v = validation(&o)?;
            let lenient = o.lenient_token_use.as_deref().map(token_use).transpose()?;
            Ok::<String, AuthErr>(
                core::verify_json(&self.inner, &token, &v, now_secs(o.now), lenient)?.payload_json,
            )
        })();
        js(&env, r)
    }

    /// The hot path of node-auth's `jwt.verify(token, secret)`: no claim options except
    /// a lenient token use (`"access"`, `"refresh"`, `"mfa_pending"` or null) and the clock.
    #[napi(catch_unwind)]
    pub fn verify_node(
        &self,
        env: Env,
        token: String,
        lenient_token_use: Option<String>,
        now: Option<f64>,
    ) -> napi::Result<String> {
        let r = (|| {
            let lenient = lenient_token_use.as_deref().map(token_use).transpose()?;
            Ok::<String, AuthErr>(
                core::verify_json(
                    &self.inner,
                    &token,
                    &Validation::node_compat(),
                    now_secs(now),
                    lenient,
                )?
                .payload_json,
            )
        })();
        js(&env, r)
    }

    /// `verify` on the thread pool.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn verify_async(
        &self,
        env: Env,
        token: String,
        options: Option<JwtVerifyOptions>,
    ) -> napi::Result<AsyncTask<AuthTask<String>>> {
        let o = options.unwrap_or_default();
        let v = js(&env, validation(&o))?;
        let lenient = js(
            &env,
            o.lenient_token_use.as_deref().map(token_use).transpose(),
        )?;
        let keys = self.inner.clone();
        let now = now_secs(o.now);
        Ok(spawn(move || {
            Ok(core::verify_json(&keys, &token, &v, now, lenient)?.payload_json)
        }))
    }

    /// The public keys as a JWKS document (JSON text; HMAC secrets are never included).
    #[napi(catch_unwind)]
    pub fn jwks(&self) -> String {
        self.inner.jwks().to_json()
    }
}

impl Default for KeySet {
    fn default() -> Self {
        Self {
            inner: Arc::new(core::KeySet::new()),
        }
    }
}

/// A decoded (NOT verified) token.
#[napi(object)]
pub struct DecodedJwt {
    /// Header JSON text.
    pub header: String,
    /// Payload JSON text.
    pub payload: String,
}

/// node's `jwt.decode(token, {complete: true})` without verification: header and payload
/// JSON text. Never trust the result; use it only to pick a key.
#[napi(catch_unwind)]
pub fn decode_jwt(env: &Env, token: String) -> napi::Result<DecodedJwt> {
    let (h, payload) = js(env, core::decode_unverified(&token))?;
    Ok(DecodedJwt {
        header: serde_json::Value::Object(h).to_string(),
        payload,
    })
}

/// A PEM key pair.
#[napi(object)]
pub struct RsaKeyPair {
    /// PKCS#8 PEM.
    pub private_key: String,
    /// SPKI PEM.
    pub public_key: String,
}

fn keypair(bits: Option<u32>) -> Result<RsaKeyPair, AuthErr> {
    let p = core::generate_rsa_keypair(bits.unwrap_or(2048) as usize)?;
    Ok(RsaKeyPair {
        private_key: p.private_key,
        public_key: p.public_key,
    })
}

/// RSA key pair (default 2048 bits, e = 65537) as PKCS#8 / SPKI PEM, on the thread pool.
#[napi(ts_return_type = "Promise<RsaKeyPair>", catch_unwind)]
pub fn generate_rsa_keypair<'env>(env: &'env Env, bits: Option<u32>) -> napi::Result<Object<'env>> {
    spawn_kdf(env, move || keypair(bits))
}

/// `generateRsaKeypair` inline (blocks for tens to hundreds of milliseconds).
#[napi(catch_unwind)]
pub fn generate_rsa_keypair_sync(env: &Env, bits: Option<u32>) -> napi::Result<RsaKeyPair> {
    block(env, move || keypair(bits))
}

/// SPKI PEM of an RSA private key's public half.
#[napi(catch_unwind)]
pub fn rsa_public_pem_from_private(env: &Env, private_pem: String) -> napi::Result<String> {
    js(env, core::rsa_public_pem_from_private(&private_pem))
}

/// `{kty, use, alg, kid, n, e}` (JSON text) of an RSA PEM key.
#[napi(catch_unwind)]
pub fn rsa_pem_to_jwk(env: &Env, pem: String, kid: String) -> napi::Result<String> {
    let jwk = js(env, core::rsa_pem_to_jwk(&pem, &kid))?;
    Ok(serde_json::to_string(&jwk).unwrap_or_default())
}

/// SPKI PEM of an RSA JWK (JSON text).
#[napi(catch_unwind)]
pub fn rsa_jwk_to_public_pem(env: &Env, jwk_json: String) -> napi::Result<String> {
    let r = serde_json::from_str::<PublicJwk>(&jwk_json)
        .map_err(|e| AuthErr::from(JwtError::InvalidKey(e.to_string())))
        .and_then(|jwk| Ok(core::rsa_jwk_to_public_pem(&jwk)?));
    js(env, r)
}

/// SHA-256 hex of a token (what a refresh-token record should store).
#[napi(catch_unwind)]
pub fn jwt_token_hash(token: String) -> String {
    core::token_hash(&token)
}

/// Constant-time: does `presented` match the stored SHA-256 hex (or legacy plaintext)?
#[napi(catch_unwind)]
pub fn refresh_token_matches(presented: String, stored: String) -> bool {
    core::refresh_token_matches(&presented, &stored)
}

// ---------------------------------------------------------------------------------------
// TokenManager
// ---------------------------------------------------------------------------------------

/// `TokenManager` settings.
#[napi(object)]
pub struct TokenManagerOptions {
    /// `iss` of every token.
    pub issuer: String,
    /// `aud` of access and refresh tokens.
    pub audience: Option<String>,
    /// Access-token lifetime in seconds (default 900; 1 to 31536000).
    pub access_ttl: Option<f64>,
    /// Refresh-token lifetime in seconds (default 30 days; 1 to 31536000).
    pub refresh_ttl: Option<f64>,
    /// 2FA-pending token lifetime in seconds (default 300; 1 to 31536000).
    pub mfa_pending_ttl: Option<f64>,
    /// Clock tolerance in seconds (default 0; at most 86400).
    pub leeway: Option<f64>,
    /// Where refresh-token records live: `memory://` (default, this process) or a Redis
    /// URL (`redis://`, `rediss://`, `unix://`) shared by every process. With Redis, prefer
    /// the `*Async` methods, which do the round trip off the event loop.
    pub store: Option<String>,
    /// Redis key prefix (default `authcore`).
    pub key_prefix: Option<String>,
}

/// Auth Server `TokenClaims`.
#[napi(object)]
pub struct TokenClaims {
    /// User id.
    pub user_id: String,
    /// Domain id.
    pub domain_id: String,
    /// Space-separated scopes.
    pub scope: String,
}

/// An access/refresh pair.
#[napi(object)]
pub struct TokenPair {
    /// Access token.
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// Access-token lifetime in seconds.
    pub expires_in: u32,
    /// Refresh-token family.
    pub family_id: String,
}

impl From<core::TokenPair> for TokenPair {
    fn from(p: core::TokenPair) -> Self {
        Self {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            expires_in: p.expires_in as u32,
            family_id: p.family_id,
        }
    }
}

/// Claims of a verified access token.
#[napi(object)]
pub struct AccessTokenPayload {
    pub user_id: String,
    pub domain_id: String,
    pub scope: String,
    pub sub: String,
    pub iss: String,
    pub aud: Option<String>,
    pub iat: f64,
    pub exp: f64,
    pub jti: String,
    pub token_use: String,
}

/// Claims of a verified 2FA-pending token.
#[napi(object)]
pub struct MfaPendingPayload {
    pub user_id: String,
    pub domain_id: String,
    pub sub: String,
    pub iss: String,
    pub iat: f64,
    pub exp: f64,
    pub jti: String,
    pub token_use: String,
}

/// Auth Server `RefreshTokenVerificationResult` (`error` is a core code).
#[napi(object)]
pub struct RefreshTokenVerificationResult {
    pub valid: bool,
    pub user_id: Option<String>,
    pub domain_id: Option<String>,
    pub scope: Option<String>,
    pub error: Option<String>,
}

pub(crate) type Manager = core::TokenManager<Box<dyn RefreshTokenStore>>;

/// Issues and verifies access, refresh (rotation with reuse detection; only SHA-256 of
/// each refresh token is kept, in memory or in Redis) and 2FA-pending tokens.
#[napi]
pub struct TokenManager {
    inner: Arc<Manager>,
}

fn verification(r: core::RefreshTokenVerificationResult) -> RefreshTokenVerificationResult {
    RefreshTokenVerificationResult {
        valid: r.valid,
        user_id: r.user_id,
        domain_id: r.domain_id,
        scope: r.scope,
        error: r.error,
    }
}

impl TokenManager {
    /// The core manager (for the authorization server's code grant).
    pub(crate) fn manager(&self) -> Arc<Manager> {
        self.inner.clone()
    }
}

#[napi]
impl TokenManager {
    /// `keys` must contain a signing key; `refreshKeys` optionally signs refresh tokens.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        keys: &KeySet,
        options: TokenManagerOptions,
        refresh_keys: Option<&KeySet>,
    ) -> napi::Result<Self> {
        let mut cfg = TokenManagerConfig::new(options.issuer);
        cfg.audience = options.audience;
        let r = (|| {
            cfg.access_ttl = ttl("access_ttl", options.access_ttl, cfg.access_ttl)?;
            cfg.refresh_ttl = ttl("refresh_ttl", options.refresh_ttl, cfg.refresh_ttl)?;
            cfg.mfa_pending_ttl = ttl(
                "mfa_pending_ttl",
                options.mfa_pending_ttl,
                cfg.mfa_pending_ttl,
            )?;
            cfg.leeway = leeway(options.leeway)?;
            let store = token_stores::refresh_token_store(
                options.store.as_deref().unwrap_or(""),
                options.key_prefix.as_deref(),
            )
            .map_err(|e| AuthErr::from(InvalidArgument::store(&e)))?;
            let mut m = core::TokenManager::new((*keys.keys()).clone(), cfg, store)?;
            if let Some(rk) = refresh_keys {
                m = m.with_refresh_keys((*rk.keys()).clone())?;
            }
            Ok::<_, AuthErr>(m)
        })();
        Ok(Self {
            inner: Arc::new(js(&env, r)?),
        })
    }

    /// Issue an access token.
    #[napi(catch_unwind)]
    pub fn create_access_token(
        &self,
        env: Env,
        claims: TokenClaims,
        now: Option<f64>,
    ) -> napi::Result<String> {
        js(
            &env,
            self.inner
                .create_access_token(&core_claims(claims), now_secs(now)),
        )
    }

    /// Verify an access token (refresh and 2FA-pending tokens: `JWT_WRONG_TOKEN_USE`).
    #[napi(catch_unwind)]
    pub fn verify_access_token(
        &self,
        env: Env,
        token: String,
        now: Option<f64>,
    ) -> napi::Result<AccessTokenPayload> {
        let p = js(&env, self.inner.verify_access_token(&token, now_secs(now)))?;
        Ok(AccessTokenPayload {
            user_id: p.user_id,
            domain_id: p.domain_id,
            scope: p.scope,
            sub: p.sub,
            iss: p.iss,
            aud: p.aud,
            iat: p.iat as f64,
            exp: p.exp as f64,
            jti: p.jti,
            token_use: p.token_use,
        })
    }

    /// Issue a pair starting a new refresh family (a login).
    #[napi(catch_unwind)]
    pub fn create_token_pair(
        &self,
        env: Env,
        claims: TokenClaims,
        now: Option<f64>,
    ) -> napi::Result<TokenPair> {
        js(
            &env,
            self.inner
                .create_token_pair(&core_claims(claims), now_secs(now)),
        )
        .map(Into::into)
    }

    /// Read-only check of a refresh token.
    #[napi(catch_unwind)]
    pub fn verify_refresh_token(
        &self,
        token: String,
        now: Option<f64>,
    ) -> RefreshTokenVerificationResult {
        verification(self.inner.verify_refresh_token(&token, now_secs(now)))
    }

    /// Rotate: consume the refresh token, issue a new pair in its family. A rotated token
    /// presented again revokes the family (`REFRESH_TOKEN_REUSED`).
    #[napi(catch_unwind)]
    pub fn refresh(
        &self,
        env: Env,
        refresh_token: String,
        now: Option<f64>,
    ) -> napi::Result<TokenPair> {
        js(&env, self.inner.refresh(&refresh_token, now_secs(now))).map(Into::into)
    }

    /// Logout: revoke the token's family; returns how many records changed.
    #[napi(catch_unwind)]
    pub fn revoke_refresh_token(&self, env: Env, token: String) -> napi::Result<u32> {
        js(&env, self.inner.revoke_refresh_token(&token)).map(|n| n as u32)
    }

    /// Revoke every refresh token of a user; returns how many records changed.
    #[napi(catch_unwind)]
    pub fn revoke_user(&self, env: Env, user_id: String) -> napi::Result<u32> {
        js(&env, self.inner.revoke_user(&user_id)).map(|n| n as u32)
    }

    /// `createTokenPair` on the libuv pool (the store round trip off the event loop).
    #[napi(ts_return_type = "Promise<TokenPair>", catch_unwind)]
    pub fn create_token_pair_async(
        &self,
        claims: TokenClaims,
        now: Option<f64>,
    ) -> AsyncTask<AuthTask<TokenPair>> {
        let (m, c, t) = (self.inner.clone(), core_claims(claims), now_secs(now));
        spawn(move || Ok(m.create_token_pair(&c, t)?.into()))
    }

    /// `verifyRefreshToken` on the libuv pool.
    #[napi(
        ts_return_type = "Promise<RefreshTokenVerificationResult>",
        catch_unwind
    )]
    pub fn verify_refresh_token_async(
        &self,
        token: String,
        now: Option<f64>,
    ) -> AsyncTask<AuthTask<RefreshTokenVerificationResult>> {
        let (m, t) = (self.inner.clone(), now_secs(now));
        spawn(move || Ok(verification(m.verify_refresh_token(&token, t))))
    }

    /// `refresh` on the libuv pool.
    #[napi(ts_return_type = "Promise<TokenPair>", catch_unwind)]
    pub fn refresh_async(
        &self,
        refresh_token: String,
        now: Option<f64>,
    ) -> AsyncTask<AuthTask<TokenPair>> {
        let (m, t) = (self.inner.clone(), now_secs(now));
        spawn(move || Ok(m.refresh(&refresh_token, t)?.into()))
    }

    /// `revokeRefreshToken` on the libuv pool.
    #[napi(ts_return_type = "Promise<number>", catch_unwind)]
    pub fn revoke_refresh_token_async(&self, token: String) -> AsyncTask<AuthTask<u32>> {
        let m = self.inner.clone();
        spawn(move || Ok(m.revoke_refresh_token(&token)? as u32))
    }

    /// `revokeUser` on the libuv pool.
    #[napi(ts_return_type = "Promise<number>", catch_unwind)]
    pub fn revoke_user_async(&self, user_id: String) -> AsyncTask<AuthTask<u32>> {
        let m = self.inner.clone();
        spawn(move || Ok(m.revoke_user(&user_id)? as u32))
    }

    /// Issue a 2FA-pending token (never accepted as an access token).
    #[napi(catch_unwind)]
    pub fn create_mfa_pending_token(
        &self,
        env: Env,
        user_id: String,
        domain_id: String,
        now: Option<f64>,
    ) -> napi::Result<String> {
        js(
            &env,
            self.inner
                .create_mfa_pending_token(&user_id, &domain_id, now_secs(now)),
        )
    }

    /// Verify a 2FA-pending token.
    #[napi(catch_unwind)]
    pub fn verify_mfa_pending_token(
        &self,
        env: Env,
        token: String,
        now: Option<f64>,
    ) -> napi::Result<MfaPendingPayload> {
        let p = js(
            &env,
            self.inner.verify_mfa_pending_token(&token, now_secs(now)),
        )?;
        Ok(MfaPendingPayload {
            user_id: p.user_id,
            domain_id: p.domain_id,
            sub: p.sub,
            iss: p.iss,
            iat: p.iat as f64,
            exp: p.exp as f64,
            jti: p.jti,
            token_use: p.token_use,
        })
    }

    /// Public keys of the access and refresh key sets (JSON text).
    #[napi(catch_unwind)]
    pub fn jwks(&self) -> String {
        self.inner.jwks().to_json()
    }
}

fn core_claims(c: TokenClaims) -> core::TokenClaims {
    core::TokenClaims {
        user_id: c.user_id,
        domain_id: c.domain_id,
        scope: c.scope,
    }
}
