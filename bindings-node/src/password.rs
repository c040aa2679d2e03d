//! Passwords: argon2id (OWASP defaults) and bcryptjs-compatible bcrypt, rehash on login,
//! the unknown-user dummy path. Every KDF call is a Promise on the libuv pool behind the
//! key-derivation limit (`task::spawn_kdf`), with a `*Sync` twin.

use std::sync::Arc;

use authcore::password::{self as core, Argon2Params, DummyAlgorithm, PasswordConfig};
use authcore_node_boundary::napi;
use napi::Env;
use napi::bindgen_prelude::{Either, Object, Utf16String};

use crate::error::{AuthErr, js, to_js};
use crate::task::{block, bytes, spawn_kdf};

/// argon2id cost parameters (defaults: OWASP m=19456 KiB, t=2, p=1, 32-byte output).
#[napi(object)]
#[derive(Clone, Default)]
pub struct Argon2Options {
    /// Memory cost in KiB.
    pub memory_cost: Option<f64>,
    /// Iterations.
    pub time_cost: Option<f64>,
    /// Lanes.
    pub parallelism: Option<f64>,
    /// Output length in bytes.
    pub output_len: Option<f64>,
}

/// A JS number for an argon2 setting: the core's check (integers, no cast of -1/NaN).
fn setting(name: &str, v: Option<f64>, default: u32) -> Result<u32, AuthErr> {
    match v {
        None => Ok(default),
        Some(v) => Ok(core::u32_setting(name, v, 0)?),
    }
}

fn params(o: Option<&Argon2Options>) -> Result<Argon2Params, AuthErr> {
    let d = Argon2Params::OWASP;
    Ok(match o {
        None => d,
        Some(o) => Argon2Params {
            m_cost: setting("memoryCost", o.memory_cost, d.m_cost)?,
            t_cost: setting("timeCost", o.time_cost, d.t_cost)?,
            p_cost: setting("parallelism", o.parallelism, d.p_cost)?,
            output_len: setting("outputLen", o.output_len, d.output_len as u32)? as usize,
        },
    })
}

/// Options of a [`PasswordHasher`].
#[napi(object)]
#[derive(Clone, Default)]
pub struct PasswordHasherOptions {
    /// Memory cost in KiB (default 19456).
    pub memory_cost: Option<f64>,
    /// Iterations (default 2).
    pub time_cost: Option<f64>,
    /// Lanes (default 1).
    pub parallelism: Option<f64>,
    /// Output length in bytes (default 32).
    pub output_len: Option<f64>,
    /// Longest accepted password in bytes (default 4096).
    pub max_password_bytes: Option<f64>,
    /// What the unknown-user path imitates: `"argon2id"` (default) or `"bcrypt"`.
    pub dummy_algorithm: Option<String>,
    /// bcrypt cost of the dummy when `dummyAlgorithm` is `"bcrypt"` (default 12).
    pub dummy_bcrypt_cost: Option<u32>,
    /// Ceiling on the memory cost (KiB) of a stored argon2 hash (default 262144 = 256 MiB).
    pub max_verify_memory_cost: Option<f64>,
    /// Ceiling on the passes of a stored argon2 hash (default 10).
    pub max_verify_time_cost: Option<f64>,
    /// Ceiling on the lanes of a stored argon2 hash (default 8).
    pub max_verify_parallelism: Option<f64>,
}

/// Ceilings on the parameters of a stored argon2 hash (defaults: the core's).
#[napi(object)]
#[derive(Clone, Default)]
pub struct Argon2VerifyLimits {
    /// Memory cost in KiB (default 262144 = 256 MiB).
    pub max_memory_cost: Option<f64>,
    /// Passes (default 10).
    pub max_time_cost: Option<f64>,
    /// Lanes (default 8).
    pub max_parallelism: Option<f64>,
}

fn limits(m: Option<f64>, t: Option<f64>, p: Option<f64>) -> Result<core::Argon2Limits, AuthErr> {
    let d = core::Argon2Limits::DEFAULT;
    Ok(core::Argon2Limits {
        max_m_cost: setting("maxMemoryCost", m, d.max_m_cost)?,
        max_t_cost: setting("maxTimeCost", t, d.max_t_cost)?,
        max_p_cost: setting("maxParallelism", p, d.max_p_cost)?,
    })
}

fn verify_limits(o: Option<&Argon2VerifyLimits>) -> Result<core::Argon2Limits, AuthErr> {
    match o {
        None => Ok(core::Argon2Limits::DEFAULT),
        Some(o) => limits(o.max_memory_cost, o.max_time_cost, o.max_parallelism),
    }
}

fn config(o: Option<PasswordHasherOptions>) -> Result<PasswordConfig, AuthErr> {
    let o = o.unwrap_or_default();
    let a = Argon2Options {
        memory_cost: o.memory_cost,
        time_cost: o.time_cost,
        parallelism: o.parallelism,
        output_len: o.output_len,
    };
    let dummy = match o.dummy_algorithm.as_deref() {
        None | Some("argon2id") => DummyAlgorithm::Argon2id,
        Some("bcrypt") => DummyAlgorithm::Bcrypt {
            cost: o.dummy_bcrypt_cost.unwrap_or(core::BCRYPT_DEFAULT_COST),
        },
        Some(other) => {
            return Err(AuthErr::invalid_argument(format!(
                "dummyAlgorithm must be \"argon2id\" or \"bcrypt\", got {other:?}"
            )));
        }
    };
    Ok(PasswordConfig {
        argon2: params(Some(&a))?,
        max_password_bytes: setting(
            "maxPasswordBytes",
            o.max_password_bytes,
            core::DEFAULT_MAX_PASSWORD_BYTES as u32,
        )? as usize,
        dummy,
        verify_limits: limits(
            o.max_verify_memory_cost,
            o.max_verify_time_cost,
            o.max_verify_parallelism,
        )?,
    })
}

/// Result of `verifyAndUpgrade`.
#[napi(object)]
pub struct PasswordVerification {
    /// The password matched a real stored hash.
    pub valid: bool,
    /// The new argon2id hash to store (bcrypt or outdated argon2 hash, valid password).
    pub rehash: Option<String>,
}

/// argon2id hashing service with bcrypt migration and the unknown-user dummy path
/// (`authcore::password::PasswordHasher`). Construction runs the KDF once (the dummy
/// hash): prefer `createPasswordHasher()`, which does it on the thread pool.
#[napi]
pub struct PasswordHasher {
    inner: Arc<core::PasswordHasher>,
}

fn new_hasher(cfg: PasswordConfig) -> Result<PasswordHasher, AuthErr> {
    Ok(PasswordHasher {
        inner: Arc::new(core::PasswordHasher::new(cfg)?),
    })
}

/// Build a [`PasswordHasher`] on the thread pool.
#[napi(ts_return_type = "Promise<PasswordHasher>", catch_unwind)]
pub fn create_password_hasher<'env>(
    env: &'env Env,
    options: Option<PasswordHasherOptions>,
) -> napi::Result<Object<'env>> {
    let cfg = js(env, config(options))?;
    spawn_kdf(env, move || new_hasher(cfg))
}

/// Build a [`PasswordHasher`] inline.
#[napi(catch_unwind)]
pub fn create_password_hasher_sync(
    env: &Env,
    options: Option<PasswordHasherOptions>,
) -> napi::Result<PasswordHasher> {
    let cfg = js(env, config(options))?;
    block(env, move || new_hasher(cfg))
}

#[napi]
impl PasswordHasher {
    /// Same as `createPasswordHasherSync(options)`.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, options: Option<PasswordHasherOptions>) -> napi::Result<Self> {
        let cfg = js(&env, config(options))?;
        block(&env, move || new_hasher(cfg))
    }

    /// Hash a new password (argon2id PHC string).
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn hash<'env>(
        &self,
        env: &'env Env,
        password: Either<String, &[u8]>,
    ) -> napi::Result<Object<'env>> {
        let (h, pw) = (self.inner.clone(), bytes(password));
        spawn_kdf(env, move || Ok(h.hash(&pw)?))
    }

    /// `hash` inline.
    #[napi(catch_unwind)]
    pub fn hash_sync(&self, env: Env, password: Either<String, &[u8]>) -> napi::Result<String> {
        let (h, pw) = (self.inner.clone(), bytes(password));
        block(&env, move || Ok(h.hash(&pw)?))
    }

    /// Verify against an argon2id or bcrypt hash; `false` on mismatch.
    #[napi(ts_return_type = "Promise<boolean>", catch_unwind)]
    pub fn verify<'env>(
        &self,
        env: &'env Env,
        password: Either<String, &[u8]>,
        hash: String,
    ) -> napi::Result<Object<'env>> {
        let (h, pw) = (self.inner.clone(), bytes(password));
        spawn_kdf(env, move || Ok(h.verify(&pw, &hash)?))
    }

    /// `verify` inline.
    #[napi(catch_unwind)]
    pub fn verify_sync(
        &self,
        env: Env,
        password: Either<String, &[u8]>,
        hash: String,
    ) -> napi::Result<bool> {
        let (h, pw) = (self.inner.clone(), bytes(password));
        block(&env, move || Ok(h.verify(&pw, &hash)?))
    }

    /// Login-time check: `hash` is `null`/`undefined` for an unknown user (the dummy runs,
    /// same cost, always invalid). On success with an outdated hash, `rehash` is set.
    #[napi(ts_return_type = "Promise<PasswordVerification>", catch_unwind)]
    pub fn verify_and_upgrade<'env>(
        &self,
        env: &'env Env,
        password: Either<String, &[u8]>,
        hash: Option<String>,
    ) -> napi::Result<Object<'env>> {
        let (h, pw) = (self.inner.clone(), bytes(password));
        spawn_kdf(env, move || upgrade(&h, &pw, hash.as_deref()))
    }

    /// `verifyAndUpgrade` inline.
    #[napi(catch_unwind)]
    pub fn verify_and_upgrade_sync(
        &self,
        env: Env,
        password: Either<String, &[u8]>,
        hash: Option<String>,
    ) -> napi::Result<PasswordVerification> {
        let (h, pw) = (self.inner.clone(), bytes(password));
        block(&env, move || upgrade(&h, &pw, hash.as_deref()))
    }

    /// Does `hash` need replacing (bcrypt, or argon2 with other parameters)? Cheap.
    #[napi(catch_unwind)]
    pub fn needs_rehash(&self, env: Env, hash: String) -> napi::Result<bool> {
        js(&env, self.inner.needs_rehash(&hash))
    }

    /// Verifications (real or dummy) that ran a KDF since construction.
    #[napi(getter, catch_unwind)]
    pub fn kdf_runs(&self) -> f64 {
        self.inner.kdf_runs() as f64
    }

    /// The configured argon2id parameters.
    #[napi(getter, catch_unwind)]
    pub fn params(&self) -> Argon2Options {
        let p = self.inner.config().argon2;
        Argon2Options {
            memory_cost: Some(f64::from(p.m_cost)),
            time_cost: Some(f64::from(p.t_cost)),
            parallelism: Some(f64::from(p.p_cost)),
            output_len: Some(p.output_len as f64),
        }
    }
}

fn upgrade(
    h: &core::PasswordHasher,
    pw: &[u8],
    hash: Option<&str>,
) -> Result<PasswordVerification, AuthErr> {
    let v = h.verify_and_upgrade(pw, hash)?;
    Ok(PasswordVerification {
        valid: v.valid,
        rehash: v.rehash,
    })
}

/// A JS cost through bcryptjs's rule (falsy = 10, clamp into 4..=31, a fractional cost
/// inside the range refused); `undefined` is node-auth's default 12.
fn cost_of(cost: Option<f64>) -> Result<u32, AuthErr> {
    match cost {
        None => Ok(core::BCRYPT_DEFAULT_COST),
        Some(c) => Ok(core::bcryptjs::gensalt_rounds(c)?),
    }
}

/// bcryptjs `hash(password, rounds)` cost rule (falsy = 10, clamped to 4..=31; default
/// 12), `$2b$`, password silently truncated to 72 bytes (UTF-8 of the string or the
/// Buffer's bytes).
#[napi(ts_return_type = "Promise<string>", catch_unwind)]
pub fn bcrypt_hash<'env>(
    env: &'env Env,
    password: Either<String, &[u8]>,
    cost: Option<f64>,
) -> napi::Result<Object<'env>> {
    let pw = bytes(password);
    spawn_kdf(env, move || Ok(core::bcrypt_hash(&pw, cost_of(cost)?)?))
}

/// `bcryptHash` inline.
#[napi(catch_unwind)]
pub fn bcrypt_hash_sync(
    env: &Env,
    password: Either<String, &[u8]>,
    cost: Option<f64>,
) -> napi::Result<String> {
    let pw = bytes(password);
    block(env, move || Ok(core::bcrypt_hash(&pw, cost_of(cost)?)?))
}

fn bcryptjs_hash_of(password: &[u16], salt: &Either<f64, Utf16String>) -> Result<String, AuthErr> {
    let pw = core::bcryptjs::utf8_array(password);
    Ok(match salt {
        Either::A(rounds) => core::bcryptjs::hash_rounds(&pw, *rounds)?,
        Either::B(salt) => core::bcryptjs::hash_with_salt(&pw, salt)?,
    })
}

/// bcryptjs `hash(password, saltOrRounds)` exactly (`authcore::password::bcryptjs`): a
/// number is a cost (falsy = 10, clamped to 4..=31), a string a salt; the password's
/// UTF-16 is encoded as bcryptjs does (a lone surrogate is 3 bytes). Refusals have code
/// `PASSWORD_BCRYPTJS_ERROR` and bcryptjs's message.
#[napi(ts_return_type = "Promise<string>", catch_unwind)]
pub fn bcryptjs_hash<'env>(
    env: &'env Env,
    password: Utf16String,
    salt: Either<f64, Utf16String>,
) -> napi::Result<Object<'env>> {
    spawn_kdf(env, move || bcryptjs_hash_of(&password, &salt))
}

/// `bcryptjsHash` inline.
#[napi(catch_unwind)]
pub fn bcryptjs_hash_sync(
    env: &Env,
    password: Utf16String,
    salt: Either<f64, Utf16String>,
) -> napi::Result<String> {
    block(env, move || bcryptjs_hash_of(&password, &salt))
}

/// bcryptjs `compare(password, hash)` exactly: `false` for a hash that is not 60
/// characters, bcryptjs's refusals for a malformed salt part (`PASSWORD_BCRYPTJS_ERROR`).
#[napi(ts_return_type = "Promise<boolean>", catch_unwind)]
pub fn bcryptjs_compare<'env>(
    env: &'env Env,
    password: Utf16String,
    hash: Utf16String,
) -> napi::Result<Object<'env>> {
    spawn_kdf(env, move || {
        Ok(core::bcryptjs::compare(
            &core::bcryptjs::utf8_array(&password),
            &hash,
        )?)
    })
}

/// What bcryptjs's `compare(anything, hash)` would reject with (its message), found without
/// hashing; `null` when it answers a boolean. Lets a caller with several candidate hashes
/// keep bcryptjs's refusal of a malformed stored hash.
#[napi(catch_unwind)]
pub fn bcryptjs_compare_refusal(hash: Utf16String) -> Option<String> {
    core::bcryptjs::compare_refusal(&hash).map(|e| e.message)
}

/// `bcryptjsCompare` inline.
#[napi(catch_unwind)]
pub fn bcryptjs_compare_sync(
    env: &Env,
    password: Utf16String,
    hash: Utf16String,
) -> napi::Result<bool> {
    block(env, move || {
        Ok(core::bcryptjs::compare(
            &core::bcryptjs::utf8_array(&password),
            &hash,
        )?)
    })
}

/// bcryptjs `hash(password, salt)` with a salt string (`$2b$10$` + 22 characters, or a
/// whole hash); refusals are `PASSWORD_INVALID_PARAMS` with bcryptjs's message.
#[napi(ts_return_type = "Promise<string>", catch_unwind)]
pub fn bcrypt_hash_with_salt<'env>(
    env: &'env Env,
    password: Either<String, &[u8]>,
    salt: String,
) -> napi::Result<Object<'env>> {
    let pw = bytes(password);
    spawn_kdf(env, move || {
        Ok(core::bcrypt_hash_with_salt_str(&pw, &salt)?)
    })
}

/// `bcryptHashWithSalt` inline.
#[napi(catch_unwind)]
pub fn bcrypt_hash_with_salt_sync(
    env: &Env,
    password: Either<String, &[u8]>,
    salt: String,
) -> napi::Result<String> {
    let pw = bytes(password);
    block(env, move || {
        Ok(core::bcrypt_hash_with_salt_str(&pw, &salt)?)
    })
}

/// bcryptjs `compare`: `$2a$`/`$2b$`/`$2y$`; `false` on mismatch, typed error on a
/// malformed hash.
#[napi(ts_return_type = "Promise<boolean>", catch_unwind)]
pub fn bcrypt_verify<'env>(
    env: &'env Env,
    password: Either<String, &[u8]>,
    hash: String,
) -> napi::Result<Object<'env>> {
    let pw = bytes(password);
    spawn_kdf(env, move || Ok(core::bcrypt_verify(&pw, &hash)?))
}

/// `bcryptVerify` inline.
#[napi(catch_unwind)]
pub fn bcrypt_verify_sync(
    env: &Env,
    password: Either<String, &[u8]>,
    hash: String,
) -> napi::Result<bool> {
    let pw = bytes(password);
    block(env, move || Ok(core::bcrypt_verify(&pw, &hash)?))
}

/// argon2id hash with explicit parameters (default OWASP).
#[napi(
    js_name = "passwordHashArgon2id",
    ts_return_type = "Promise<string>",
    catch_unwind
)]
pub fn password_hash_argon2id<'env>(
    env: &'env Env,
    password: Either<String, &[u8]>,
    options: Option<Argon2Options>,
) -> napi::Result<Object<'env>> {
    let (pw, p) = (bytes(password), js(env, params(options.as_ref()))?);
    spawn_kdf(env, move || Ok(core::hash_argon2id(&pw, &p)?))
}

/// `passwordHashArgon2id` inline.
#[napi(js_name = "passwordHashArgon2idSync", catch_unwind)]
pub fn password_hash_argon2id_sync(
    env: &Env,
    password: Either<String, &[u8]>,
    options: Option<Argon2Options>,
) -> napi::Result<String> {
    let (pw, p) = (bytes(password), js(env, params(options.as_ref()))?);
    block(env, move || Ok(core::hash_argon2id(&pw, &p)?))
}

/// Verify an argon2id PHC string; `false` on mismatch.
#[napi(ts_return_type = "Promise<boolean>", catch_unwind)]
pub fn password_verify_argon2<'env>(
    env: &'env Env,
    password: Either<String, &[u8]>,
    hash: String,
    limits: Option<Argon2VerifyLimits>,
) -> napi::Result<Object<'env>> {
    let (pw, l) = (bytes(password), js(env, verify_limits(limits.as_ref()))?);
    spawn_kdf(env, move || {
        Ok(core::verify_argon2_limited(&pw, &hash, &l)?)
    })
}

/// `passwordVerifyArgon2` inline.
#[napi(catch_unwind)]
pub fn password_verify_argon2_sync(
    env: &Env,
    password: Either<String, &[u8]>,
    hash: String,
    limits: Option<Argon2VerifyLimits>,
) -> napi::Result<bool> {
    let (pw, l) = (bytes(password), js(env, verify_limits(limits.as_ref()))?);
    block(env, move || {
        Ok(core::verify_argon2_limited(&pw, &hash, &l)?)
    })
}

/// Verify against a hash of either kind; `false` on mismatch.
#[napi(ts_return_type = "Promise<boolean>", catch_unwind)]
pub fn password_verify<'env>(
    env: &'env Env,
    password: Either<String, &[u8]>,
    hash: String,
) -> napi::Result<Object<'env>> {
    let pw = bytes(password);
    spawn_kdf(env, move || Ok(core::verify(&pw, &hash)?))
}

/// `passwordVerify` inline.
#[napi(catch_unwind)]
pub fn password_verify_sync(
    env: &Env,
    password: Either<String, &[u8]>,
    hash: String,
) -> napi::Result<bool> {
    let pw = bytes(password);
    block(env, move || Ok(core::verify(&pw, &hash)?))
}

/// Does `hash` need replacing for `options` (default OWASP)? argon2-cffi
/// `check_needs_rehash` semantics; malformed hashes are typed errors.
#[napi(catch_unwind)]
pub fn password_needs_rehash(
    env: &Env,
    hash: String,
    options: Option<Argon2Options>,
) -> napi::Result<bool> {
    let p = js(env, params(options.as_ref()))?;
    js(env, core::needs_rehash(&hash, &p))
}

/// `"argon2id"`, `"bcrypt"` or `null` by prefix.
#[napi(catch_unwind)]
pub fn password_identify(hash: String) -> Option<String> {
    core::identify(&hash).map(|k| match k {
        core::HashKind::Argon2id => "argon2id".to_owned(),
        core::HashKind::Bcrypt => "bcrypt".to_owned(),
    })
}

/// How many key derivations (argon2, bcrypt, RSA key generation) run at once on this
/// process's libuv pool per JS thread; the rest wait in line. Default: one fewer than the
/// CPUs (at least 1), or `AUTHCORE_KDF_CONCURRENCY`.
#[napi(catch_unwind)]
pub fn kdf_concurrency() -> u32 {
    crate::task::kdf_concurrency() as u32
}

/// Set the key-derivation limit: an integer from 1 to 1024 (the core's check; `-1`, `0` or
/// `NaN` throw instead of meaning "unlimited" or "none"). Returns the limit now in force.
#[napi(catch_unwind)]
pub fn set_kdf_concurrency(env: &Env, limit: f64) -> napi::Result<u32> {
    let n = authcore::limits::kdf_concurrency_setting(limit)
        .map_err(|e| to_js(env, AuthErr::invalid_argument(e.0)))?;
    crate::task::set_kdf_concurrency(env, n);
    Ok(crate::task::kdf_concurrency() as u32)
}

/// Key derivations waiting for a slot on this JS thread.
#[napi(catch_unwind)]
pub fn kdf_waiting() -> u32 {
    crate::task::kdf_waiting() as u32
}
