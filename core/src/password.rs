//! Password hashing: argon2id (PHC strings) for new hashes, bcrypt verification for
//! hashes migrated from node-auth (bcryptjs), and a transparent upgrade path.
//!
//! * New hashes are argon2id v19 with the OWASP defaults `m=19456 KiB, t=2, p=1`, a
//!   16-byte random salt and a 32-byte output, encoded as a PHC string
//!   (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), exactly what `argon2::Argon2::default()`,
//!   argon2-cffi and `@node-rs/argon2` produce.
//! * bcrypt follows bcryptjs: `$2a$`, `$2b$` and `$2y$` are accepted on verify (`$2x$` is
//!   rejected, as bcryptjs does), `$2b$` is produced, the password is silently truncated to
//!   72 bytes, and the cost is clamped to `4..=31`.
//! * [`PasswordHasher::verify_and_upgrade`] verifies a stored hash of either kind and, on a
//!   successful login with a bcrypt hash or an argon2 hash whose parameters differ from the
//!   configured ones, returns the new argon2id hash the caller should store.
//! * Unknown users: pass `None` as the stored hash. The hasher then verifies the password
//!   against a dummy hash precomputed at construction with the same algorithm and parameters,
//!   so the request does the same KDF work as for a real user and always fails.
//!
//! Every comparison of derived keys is constant time (`password_hash::Output` and the
//! `bcrypt` crate both compare with `subtle`).

pub mod bcryptjs;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Params, Version};
use base64::Engine as _;
use subtle::ConstantTimeEq;

/// OWASP (2023+) recommended argon2id memory cost, in KiB.
pub const OWASP_M_COST: u32 = 19_456;
/// OWASP recommended argon2id iteration count.
pub const OWASP_T_COST: u32 = 2;
/// OWASP recommended argon2id parallelism.
pub const OWASP_P_COST: u32 = 1;
/// Length of the derived key in bytes.
pub const ARGON2_OUTPUT_LEN: usize = 32;
/// Salt length in bytes for new argon2id hashes.
pub const ARGON2_SALT_LEN: usize = 16;
/// bcryptjs's default cost for `hash(password)` in node-auth's `PasswordService`.
pub const BCRYPT_DEFAULT_COST: u32 = 12;
/// bcrypt uses at most this many bytes of the password; the rest is ignored.
pub const BCRYPT_MAX_PASSWORD_BYTES: usize = 72;
/// Default upper bound on password length (bytes) accepted for argon2 hashing/verification.
pub const DEFAULT_MAX_PASSWORD_BYTES: usize = 4096;
/// Default ceiling on the memory cost (KiB) a stored hash may ask for on verification:
/// 256 MiB, libsodium's `MEMLIMIT_MODERATE`. Real issuers stay well below (OWASP 19-46 MiB,
/// argon2-cffi and PHP 64 MiB, Django 100 MiB), so a tampered PHC string cannot make a
/// login allocate more than that. [`Argon2Limits`] configures it.
pub const MAX_VERIFY_M_COST: u32 = 256 * 1024;
/// Default ceiling on the passes a stored hash may ask for (libsodium's sensitive
/// `OPSLIMIT` is 4, Keycloak 5; 10 leaves room without letting m x t explode).
pub const MAX_VERIFY_T_COST: u32 = 10;
/// Default ceiling on the lanes a stored hash may ask for (Django uses 8, argon2-cffi 4,
/// most others 1).
pub const MAX_VERIFY_P_COST: u32 = 8;

/// Errors of this module. A wrong password is never an error: it is `Ok(false)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The stored hash is not a well-formed PHC (argon2) or bcrypt string.
    #[error("malformed password hash: {0}")]
    InvalidHash(&'static str),
    /// The stored hash uses an algorithm this module does not verify (argon2i/argon2d,
    /// `$2x$`, scrypt, ...).
    #[error("unsupported password hash algorithm")]
    UnsupportedAlgorithm,
    /// Hashing parameters out of range (or a stored hash asking for absurd cost).
    #[error("invalid hashing parameters: {0}")]
    InvalidParams(String),
    /// The password exceeds the configured maximum length.
    #[error("password is longer than {max} bytes")]
    PasswordTooLong {
        /// Configured maximum in bytes.
        max: usize,
    },
    /// The OS random number generator failed.
    #[error("random number generator failure")]
    Random,
    /// The KDF failed for another reason.
    #[error("hashing failed: {0}")]
    Hashing(String),
}

impl PasswordError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidHash(_) => "PASSWORD_INVALID_HASH",
            Self::UnsupportedAlgorithm => "PASSWORD_UNSUPPORTED_ALGORITHM",
            Self::InvalidParams(_) => "PASSWORD_INVALID_PARAMS",
            Self::PasswordTooLong { .. } => "PASSWORD_TOO_LONG",
            Self::Random => "PASSWORD_RANDOM_FAILURE",
            Self::Hashing(_) => "PASSWORD_HASHING_FAILED",
        }
    }

    /// HTTP status a server should answer with when this error escapes a request.
    pub fn status(&self) -> u16 {
        match self {
            Self::PasswordTooLong { .. } => 400,
            _ => 500,
        }
    }
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory cost in KiB.
    pub m_cost: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Degree of parallelism (lanes).
    pub p_cost: u32,
    /// Output length in bytes.
    pub output_len: usize,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self::OWASP
    }
}

impl Argon2Params {
    /// OWASP defaults: `m=19456, t=2, p=1`, 32-byte output.
    pub const OWASP: Self = Self {
        m_cost: OWASP_M_COST,
        t_cost: OWASP_T_COST,
        p_cost: OWASP_P_COST,
        output_len: ARGON2_OUTPUT_LEN,
    };

    fn to_argon2(self) -> Result<Params, PasswordError> {
        Params::new(self.m_cost, self.t_cost, self.p_cost, Some(self.output_len))
            .map_err(|e| PasswordError::InvalidParams(e.to_string()))
    }
}

/// Ceilings on the argon2 parameters a **stored** hash may ask for on verification: a hash
/// beyond them is refused (`PASSWORD_INVALID_PARAMS`) before any memory is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Limits {
    /// Largest memory cost in KiB.
    pub max_m_cost: u32,
    /// Largest number of passes.
    pub max_t_cost: u32,
    /// Largest parallelism.
    pub max_p_cost: u32,
}

impl Default for Argon2Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Argon2Limits {
    /// m <= 256 MiB, t <= 10, p <= 8.
    pub const DEFAULT: Self = Self {
        max_m_cost: MAX_VERIFY_M_COST,
        max_t_cost: MAX_VERIFY_T_COST,
        max_p_cost: MAX_VERIFY_P_COST,
    };

    /// Ceilings of at least 1, and `params` (what this deployment hashes with) within them:
    /// otherwise its own hashes could not be verified.
    pub fn check(&self, params: &Argon2Params) -> Result<(), PasswordError> {
        if self.max_m_cost == 0 || self.max_t_cost == 0 || self.max_p_cost == 0 {
            return Err(PasswordError::InvalidParams(
                "argon2 verification ceilings must be at least 1".into(),
            ));
        }
        if params.m_cost > self.max_m_cost
            || params.t_cost > self.max_t_cost
            || params.p_cost > self.max_p_cost
        {
            return Err(PasswordError::InvalidParams(format!(
                "argon2 parameters m={}, t={}, p={} exceed the verification ceilings m={}, t={}, p={}",
                params.m_cost,
                params.t_cost,
                params.p_cost,
                self.max_m_cost,
                self.max_t_cost,
                self.max_p_cost
            )));
        }
        Ok(())
    }

    fn admit(&self, stored: &Params) -> Result<(), PasswordError> {
        if stored.m_cost() > self.max_m_cost
            || stored.t_cost() > self.max_t_cost
            || stored.p_cost() > self.max_p_cost
        {
            return Err(PasswordError::InvalidParams(
                "stored hash cost exceeds verification limits".into(),
            ));
        }
        Ok(())
    }
}

/// An argon2 setting given as a number by a binding (a JS number): an integer from `min`
/// to `u32::MAX`. NaN, ±Infinity, fractional or negative values are
/// `PASSWORD_INVALID_PARAMS` (an unsigned cast made `-1` a 4 TiB memory cost).
pub fn u32_setting(name: &str, value: f64, min: u32) -> Result<u32, PasswordError> {
    crate::limits::integer_between(name, value, f64::from(min), f64::from(u32::MAX))
        .map(|v| v as u32)
        .map_err(|e| PasswordError::InvalidParams(e.0))
}

/// Which kind of hash a stored string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// `$argon2id$...`
    Argon2id,
    /// `$2a$`, `$2b$` or `$2y$` bcrypt.
    Bcrypt,
}

/// Identify a stored hash by its prefix (no full validation).
pub fn identify(hash: &str) -> Option<HashKind> {
    if hash.starts_with("$argon2id$") {
        Some(HashKind::Argon2id)
    } else if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        Some(HashKind::Bcrypt)
    } else {
        None
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], PasswordError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| PasswordError::Random)?;
    Ok(buf)
}

/// Hash `password` with argon2id and `params`, returning a PHC string.
pub fn hash_argon2id(password: &[u8], params: &Argon2Params) -> Result<String, PasswordError> {
    let salt_bytes = random_bytes::<ARGON2_SALT_LEN>()?;
    hash_argon2id_with_salt(password, &salt_bytes, params)
}

/// Largest argon2 working memory (in 1 KiB blocks) a thread keeps between calls: 64 MiB.
pub const MAX_CACHED_ARGON2_BLOCKS: usize = 64 * 1024;

/// Raw argon2id output of `password`/`salt` into `out` (whose length is the tag length), with
/// `params` already validated by the RustCrypto crate. Threads that hash (a binding's thread
/// pool) keep their working memory between calls: allocating and faulting in ~19 MiB per call
/// cost as much as the hash itself.
#[cfg(feature = "simd-argon2")]
fn argon2_raw(
    params: &Params,
    version: Version,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), PasswordError> {
    let _kdf = crate::metrics::kdf_timer(crate::metrics::Kdf::Argon2id);
    use argon2_rust as fast;
    thread_local! {
        /// Wiped by `argon2-rust` when each call returns, so no derived material stays
        /// resident between calls.
        static HASHER: RefCell<Option<fast::Hasher>> = const { RefCell::new(None) };
    }
    let fast_params = fast::Params::builder()
        .memory(fast::params::Memory::kib(u64::from(params.m_cost())))
        .passes(params.t_cost())
        .lanes(params.p_cost())
        .threads(1)
        .tag_len(fast::params::TagLen::bytes(out.len() as u64))
        .build()
        .map_err(|e| PasswordError::InvalidParams(e.to_string()))?;
    let fast_version = match version {
        Version::V0x10 => fast::Version::V0x10,
        Version::V0x13 => fast::Version::V0x13,
    };
    let argon = fast::Argon2::new(fast::Algorithm::Argon2id, fast_version, fast_params);
    let hashing = |e: fast::Error| PasswordError::Hashing(e.to_string());
    if params.block_count() > MAX_CACHED_ARGON2_BLOCKS {
        return argon.hash_into(password, salt, out).map_err(hashing);
    }
    HASHER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            let hasher = slot.get_or_insert_with(|| argon.hasher());
            hasher.set_argon2(argon);
            hasher.hash_into(password, salt, out).map_err(hashing)
        }
        // Unreachable (no re-entrancy), but never panic over it.
        Err(_) => argon.hash_into(password, salt, out).map_err(hashing),
    })
}

/// The same with the RustCrypto crate alone (feature `simd-argon2` off).
#[cfg(not(feature = "simd-argon2"))]
fn argon2_raw(
    params: &Params,
    version: Version,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), PasswordError> {
    let _kdf = crate::metrics::kdf_timer(crate::metrics::Kdf::Argon2id);
    use argon2::{Argon2, Block};
    thread_local! {
        /// Overwritten by the next call; like memory freed to the allocator, not zeroised.
        static ARGON2_BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
    }
    let block_count = params.block_count();
    let argon = Argon2::new(argon2::Algorithm::Argon2id, version, params.clone());
    let hashing = |e: argon2::Error| PasswordError::Hashing(e.to_string());
    if block_count > MAX_CACHED_ARGON2_BLOCKS {
        let mut mem = vec![Block::default(); block_count];
        return argon
            .hash_password_into_with_memory(password, salt, out, &mut mem[..])
            .map_err(hashing);
    }
    ARGON2_BLOCKS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut mem) => {
            if mem.len() < block_count {
                mem.resize(block_count, Block::default());
            }
            argon
                .hash_password_into_with_memory(password, salt, out, &mut mem[..block_count])
                .map_err(hashing)
        }
        Err(_) => {
            let mut mem = vec![Block::default(); block_count];
            argon
                .hash_password_into_with_memory(password, salt, out, &mut mem[..])
                .map_err(hashing)
        }
    })
}

/// Raw argon2id output for the differential tests: through the configured engine (SIMD by
/// default), or with `reference` through the RustCrypto crate alone, whatever the features.
#[doc(hidden)]
pub fn argon2id_raw(
    password: &[u8],
    salt: &[u8],
    params: &Argon2Params,
    v0x10: bool,
    reference: bool,
) -> Result<Vec<u8>, PasswordError> {
    let p = params.to_argon2()?;
    let version = if v0x10 {
        Version::V0x10
    } else {
        Version::V0x13
    };
    let mut out = vec![0u8; params.output_len];
    if reference {
        argon2::Argon2::new(argon2::Algorithm::Argon2id, version, p)
            .hash_password_into(password, salt, &mut out)
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    } else {
        argon2_raw(&p, version, password, salt, &mut out)?;
    }
    Ok(out)
}

/// PHC/B64: standard alphabet, no padding.
fn phc_b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(data)
}

/// Hash with an explicit salt (for known-answer tests; use [`hash_argon2id`] otherwise).
pub fn hash_argon2id_with_salt(
    password: &[u8],
    salt: &[u8],
    params: &Argon2Params,
) -> Result<String, PasswordError> {
    // Same salt validation (and error) as `SaltString`, which PHC strings require.
    SaltString::encode_b64(salt).map_err(|e| PasswordError::InvalidParams(e.to_string()))?;
    let p = params.to_argon2()?;
    let mut out = vec![0u8; params.output_len];
    argon2_raw(&p, Version::V0x13, password, salt, &mut out)?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost,
        params.t_cost,
        params.p_cost,
        phc_b64(salt),
        phc_b64(&out)
    ))
}

fn parse_argon2(phc: &str) -> Result<(PasswordHash<'_>, Params), PasswordError> {
    let parsed =
        PasswordHash::new(phc).map_err(|_| PasswordError::InvalidHash("not a PHC string"))?;
    match parsed.algorithm.as_str() {
        "argon2id" => {}
        "argon2i" | "argon2d" => return Err(PasswordError::UnsupportedAlgorithm),
        _ => return Err(PasswordError::UnsupportedAlgorithm),
    }
    let params = Params::try_from(&parsed)
        .map_err(|_| PasswordError::InvalidHash("bad argon2 parameters"))?;
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(PasswordError::InvalidHash("missing salt or hash"));
    }
    Ok((parsed, params))
}

/// Verify `password` against an argon2id PHC string. `Ok(false)` on mismatch. The stored
/// parameters must be within [`Argon2Limits::DEFAULT`].
pub fn verify_argon2(password: &[u8], phc: &str) -> Result<bool, PasswordError> {
    verify_argon2_limited(password, phc, &Argon2Limits::DEFAULT)
}

/// [`verify_argon2`] with configured ceilings on the stored parameters (checked after the
/// PHC string is parsed, before any KDF memory is allocated).
pub fn verify_argon2_limited(
    password: &[u8],
    phc: &str,
    limits: &Argon2Limits,
) -> Result<bool, PasswordError> {
    let (parsed, params) = parse_argon2(phc)?;
    limits.admit(&params)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(PasswordError::InvalidHash("missing salt or hash"));
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    let version = match parsed.version {
        None => Version::default(),
        Some(v) => Version::try_from(v).map_err(|e| PasswordError::Hashing(e.to_string()))?,
    };
    let mut out = vec![0u8; expected.len()];
    argon2_raw(&params, version, password, salt, &mut out)?;
    Ok(bool::from(expected.as_bytes().ct_eq(&out)))
}

/// `true` when `phc` should be replaced by a fresh hash made with `params`: it is bcrypt,
/// another argon2 variant or version, or its m/t/p/output length differ from `params`.
/// Malformed strings are an error (argon2-cffi raises `InvalidHashError` likewise).
pub fn needs_rehash(phc: &str, params: &Argon2Params) -> Result<bool, PasswordError> {
    match identify(phc) {
        Some(HashKind::Bcrypt) => {
            parse_bcrypt(phc)?;
            Ok(true)
        }
        Some(HashKind::Argon2id) => {
            let (parsed, stored) = parse_argon2(phc)?;
            let version_ok = parsed.version.is_none_or(|v| v == 0x13);
            let out_len = parsed.hash.map(|h| h.len()).unwrap_or(0);
            Ok(!version_ok
                || stored.m_cost() != params.m_cost
                || stored.t_cost() != params.t_cost
                || stored.p_cost() != params.p_cost
                || out_len != params.output_len)
        }
        None => {
            if phc.starts_with("$argon2") {
                // argon2i / argon2d: verifiable by nobody here, but certainly outdated.
                Err(PasswordError::UnsupportedAlgorithm)
            } else if phc.starts_with("$2") {
                // `$2x$` and other bcrypt variants: the same error as `verify` gives.
                parse_bcrypt(phc).map(|_| true)
            } else {
                Err(PasswordError::InvalidHash("unknown hash format"))
            }
        }
    }
}

/// Validate the shape of a bcrypt string the way bcryptjs does before use.
fn parse_bcrypt(hash: &str) -> Result<u32, PasswordError> {
    let b = hash.as_bytes();
    if b.len() != 60 || !hash.is_ascii() {
        return Err(PasswordError::InvalidHash(
            "bcrypt hash must be 60 ASCII characters",
        ));
    }
    if !(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")) {
        if hash.starts_with("$2") {
            return Err(PasswordError::UnsupportedAlgorithm);
        }
        return Err(PasswordError::InvalidHash("not a bcrypt hash"));
    }
    if b[6] != b'$' || !b[4].is_ascii_digit() || !b[5].is_ascii_digit() {
        return Err(PasswordError::InvalidHash("bad bcrypt cost"));
    }
    let cost = u32::from(b[4] - b'0') * 10 + u32::from(b[5] - b'0');
    if !(4..=31).contains(&cost) {
        return Err(PasswordError::InvalidHash("bcrypt cost out of range"));
    }
    Ok(cost)
}

/// The cost bcryptjs's `genSalt` makes of a requested one: 0 is the default 10, the
/// rest is clamped to `4..=31` ([`bcryptjs::unsigned_rounds`]).
pub fn clamp_bcrypt_cost(cost: u32) -> u32 {
    bcryptjs::unsigned_rounds(cost)
}

/// bcrypt hash compatible with bcryptjs: `$2b$`, cost 0 = 10, else clamped to `4..=31`,
/// password silently truncated to 72 bytes.
pub fn bcrypt_hash(password: &[u8], cost: u32) -> Result<String, PasswordError> {
    let salt = random_bytes::<16>()?;
    bcrypt_hash_with_salt(password, cost, salt)
}

/// bcrypt with an explicit 16-byte salt (for known-answer tests).
pub fn bcrypt_hash_with_salt(
    password: &[u8],
    cost: u32,
    salt: [u8; 16],
) -> Result<String, PasswordError> {
    let _kdf = crate::metrics::kdf_timer(crate::metrics::Kdf::Bcrypt);
    bcrypt::hash_with_salt(password, clamp_bcrypt_cost(cost), salt)
        .map(|parts| parts.format_for_version(bcrypt::Version::TwoB))
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// bcryptjs `hashSync(password, salt)` with a salt string (`$2b$10$` + 22 characters, as
/// `genSaltSync` returns, or a whole hash). Like bcryptjs, the output keeps the salt's
/// version (`$2$`, `$2a$`, `$2b$` or `$2y$`) and its cost (4..=31); the refusals are
/// `InvalidParams` with bcryptjs's message ([`bcryptjs::hash_with_salt`]).
pub fn bcrypt_hash_with_salt_str(password: &[u8], salt: &str) -> Result<String, PasswordError> {
    let _kdf = crate::metrics::kdf_timer(crate::metrics::Kdf::Bcrypt);
    let units: Vec<u16> = salt.encode_utf16().collect();
    bcryptjs::hash_with_salt(password, &units).map_err(|e| PasswordError::InvalidParams(e.message))
}

/// Verify a bcrypt hash (`$2a$`/`$2b$`/`$2y$`). `Ok(false)` on mismatch; the password is
/// truncated to 72 bytes like bcryptjs.
pub fn bcrypt_verify(password: &[u8], hash: &str) -> Result<bool, PasswordError> {
    parse_bcrypt(hash)?;
    let _kdf = crate::metrics::kdf_timer(crate::metrics::Kdf::Bcrypt);
    bcrypt::verify(password, hash).map_err(|e| match e {
        bcrypt::BcryptError::InvalidHash(m) => PasswordError::InvalidHash(m),
        bcrypt::BcryptError::CostNotAllowed(_) => {
            PasswordError::InvalidHash("bcrypt cost out of range")
        }
        other => PasswordError::Hashing(other.to_string()),
    })
}

/// Verify against either kind of stored hash. `Ok(false)` on mismatch.
pub fn verify(password: &[u8], hash: &str) -> Result<bool, PasswordError> {
    verify_limited(password, hash, &Argon2Limits::DEFAULT)
}

/// [`verify`] with configured argon2 ceilings.
pub fn verify_limited(
    password: &[u8],
    hash: &str,
    limits: &Argon2Limits,
) -> Result<bool, PasswordError> {
    match identify(hash) {
        Some(HashKind::Argon2id) => verify_argon2_limited(password, hash, limits),
        Some(HashKind::Bcrypt) => bcrypt_verify(password, hash),
        None => {
            // Let the specific parsers name the problem ($argon2i$, $2x$, garbage).
            if hash.starts_with("$argon2") {
                Err(PasswordError::UnsupportedAlgorithm)
            } else if hash.starts_with("$2") {
                parse_bcrypt(hash).map(|_| false)
            } else {
                Err(PasswordError::InvalidHash("unknown hash format"))
            }
        }
    }
}

/// Which algorithm the unknown-user path imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DummyAlgorithm {
    /// argon2id with the hasher's parameters (default: new accounts are argon2id).
    Argon2id,
    /// bcrypt at the given cost, for user bases still mostly on bcrypt.
    Bcrypt {
        /// bcrypt cost of the dummy hash.
        cost: u32,
    },
}

/// Configuration of a [`PasswordHasher`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordConfig {
    /// Parameters for new argon2id hashes and for `needs_rehash`.
    pub argon2: Argon2Params,
    /// Longest accepted password in bytes (hash and verify).
    pub max_password_bytes: usize,
    /// Algorithm the unknown-user (dummy) verification imitates.
    pub dummy: DummyAlgorithm,
    /// Ceilings on the parameters of stored argon2 hashes (`argon2` must be within them).
    pub verify_limits: Argon2Limits,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        Self {
            argon2: Argon2Params::OWASP,
            max_password_bytes: DEFAULT_MAX_PASSWORD_BYTES,
            dummy: DummyAlgorithm::Argon2id,
            verify_limits: Argon2Limits::DEFAULT,
        }
    }
}

/// Outcome of [`PasswordHasher::verify_and_upgrade`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The password matched a real stored hash.
    pub valid: bool,
    /// When `valid` and the stored hash is bcrypt or outdated argon2: the new argon2id
    /// hash to store in its place.
    pub rehash: Option<String>,
}

/// Password hashing service: argon2id for new hashes, bcrypt and argon2 verification,
/// transparent upgrade and an unknown-user dummy path.
///
/// # Example
///
/// ```
/// use authcore::password::{PasswordConfig, PasswordHasher};
///
/// let hasher = PasswordHasher::new(PasswordConfig::default())?;
/// let stored = hasher.hash(b"correct horse")?; // argon2id, PHC string
/// assert!(stored.starts_with("$argon2id$"));
/// assert!(hasher.verify(b"correct horse", &stored)?);
/// assert!(!hasher.verify(b"wrong", &stored)?);
/// assert!(!hasher.needs_rehash(&stored)?);
/// # Ok::<(), authcore::password::PasswordError>(())
/// ```
#[derive(Debug)]
pub struct PasswordHasher {
    config: PasswordConfig,
    dummy_hash: String,
    kdf_runs: AtomicU64,
}

impl PasswordHasher {
    /// Build a hasher, validating the parameters and precomputing the dummy hash (this
    /// runs the KDF once).
    pub fn new(config: PasswordConfig) -> Result<Self, PasswordError> {
        config.argon2.to_argon2()?;
        config.verify_limits.check(&config.argon2)?;
        let dummy_secret = random_bytes::<32>()?;
        let dummy_hash = match config.dummy {
            DummyAlgorithm::Argon2id => hash_argon2id(&dummy_secret, &config.argon2)?,
            DummyAlgorithm::Bcrypt { cost } => bcrypt_hash(&dummy_secret, cost)?,
        };
        Ok(Self {
            config,
            dummy_hash,
            kdf_runs: AtomicU64::new(0),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &PasswordConfig {
        &self.config
    }

    /// The precomputed dummy hash used for unknown users (random secret, never matches).
    pub fn dummy_hash(&self) -> &str {
        &self.dummy_hash
    }

    /// How many verifications (real or dummy) ran a KDF since construction. Exposed as a
    /// metric, and so tests can prove the unknown-user path does real work.
    pub fn kdf_runs(&self) -> u64 {
        self.kdf_runs.load(Ordering::Relaxed)
    }

    fn check_len(&self, password: &[u8]) -> Result<(), PasswordError> {
        if password.len() > self.config.max_password_bytes {
            return Err(PasswordError::PasswordTooLong {
                max: self.config.max_password_bytes,
            });
        }
        Ok(())
    }

    /// Hash a new password with argon2id.
    pub fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
        self.check_len(password)?;
        hash_argon2id(password, &self.config.argon2)
    }

    /// Verify against a stored hash of either kind. `Ok(false)` on mismatch.
    pub fn verify(&self, password: &[u8], stored: &str) -> Result<bool, PasswordError> {
        self.check_len(password)?;
        self.kdf_runs.fetch_add(1, Ordering::Relaxed);
        verify_limited(password, stored, &self.config.verify_limits)
    }

    /// Does `stored` need replacing with a hash made with the configured parameters?
    pub fn needs_rehash(&self, stored: &str) -> Result<bool, PasswordError> {
        needs_rehash(stored, &self.config.argon2)
    }

    /// Run the same KDF work as a real verification and return `false`. Use it when the
    /// user does not exist, so response time does not reveal account existence.
    pub fn verify_dummy(&self, password: &[u8]) -> Result<bool, PasswordError> {
        self.check_len(password)?;
        self.kdf_runs.fetch_add(1, Ordering::Relaxed);
        // The result is computed, then discarded: the dummy secret is random, so it
        // cannot match, but the outcome must be `false` regardless.
        let _ = verify_limited(password, &self.dummy_hash, &self.config.verify_limits)?;
        Ok(false)
    }

    /// Login-time verification. `stored` is `None` for an unknown user (the dummy path
    /// runs). On success with a bcrypt or outdated argon2 hash, `rehash` carries the new
    /// argon2id hash to persist.
    pub fn verify_and_upgrade(
        &self,
        password: &[u8],
        stored: Option<&str>,
    ) -> Result<Verification, PasswordError> {
        let Some(stored) = stored else {
            self.verify_dummy(password)?;
            return Ok(Verification {
                valid: false,
                rehash: None,
            });
        };
        if !self.verify(password, stored)? {
            return Ok(Verification {
                valid: false,
                rehash: None,
            });
        }
        let rehash = if self.needs_rehash(stored)? {
            Some(self.hash(password)?)
        } else {
            None
        };
        Ok(Verification {
            valid: true,
            rehash,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Stateless helpers (for the C ABI, which has no hasher object)
// ---------------------------------------------------------------------------------------

/// Reject passwords longer than `max` bytes with [`PasswordError::PasswordTooLong`] (the
/// check [`PasswordHasher`] applies with [`PasswordConfig::max_password_bytes`]).
pub fn check_password_length(password: &[u8], max: usize) -> Result<(), PasswordError> {
    if password.len() > max {
        return Err(PasswordError::PasswordTooLong { max });
    }
    Ok(())
}

/// Process-wide dummy hashes for [`verify_unknown_user`], one per parameter set, made on
/// first use from a random secret.
static UNKNOWN_USER_DUMMIES: std::sync::Mutex<Vec<(Argon2Params, String)>> =
    std::sync::Mutex::new(Vec::new());

/// The unknown-user path without a [`PasswordHasher`]: verify `password` against a dummy
/// argon2id hash made with `params` (created once per process and parameter set, from a
/// random secret) and return `Ok(false)`. The KDF work equals that of verifying a real
/// hash made with `params`, so the response time does not reveal whether the account
/// exists. The first call for a parameter set also runs the KDF once to make the dummy.
pub fn verify_unknown_user(password: &[u8], params: &Argon2Params) -> Result<bool, PasswordError> {
    params.to_argon2()?;
    let dummy = {
        // A poisoned lock only means another thread panicked while pushing; the list
        // itself is always valid.
        let mut cache = UNKNOWN_USER_DUMMIES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match cache.iter().find(|(p, _)| p == params) {
            Some((_, h)) => h.clone(),
            None => {
                let h = hash_argon2id(&random_bytes::<32>()?, params)?;
                cache.push((*params, h.clone()));
                h
            }
        }
    };
    // The outcome is computed and discarded: the dummy secret is random, and the answer
    // must be `false` regardless. The dummy is ours: its own parameters are its ceilings.
    let own = Argon2Limits {
        max_m_cost: params.m_cost,
        max_t_cost: params.t_cost,
        max_p_cost: params.p_cost,
    };
    let _ = verify_argon2_limited(password, &dummy, &own)?;
    Ok(false)
}

/// Smallest salt, in bytes, accepted by [`hash_argon2id_salt_len`] (the argon2 minimum).
pub const MIN_SALT_LEN: usize = 8;
/// Largest salt, in bytes, accepted by [`hash_argon2id_salt_len`] (a PHC salt holds at most
/// 64 base64 characters).
pub const MAX_SALT_LEN: usize = 48;

/// [`hash_argon2id`] with a random salt of `salt_len` bytes (argon2-cffi's `salt_len`).
pub fn hash_argon2id_salt_len(
    password: &[u8],
    params: &Argon2Params,
    salt_len: usize,
) -> Result<String, PasswordError> {
    if !(MIN_SALT_LEN..=MAX_SALT_LEN).contains(&salt_len) {
        return Err(PasswordError::InvalidParams(format!(
            "salt length must be {MIN_SALT_LEN}..={MAX_SALT_LEN} bytes"
        )));
    }
    let mut salt = [0u8; MAX_SALT_LEN];
    getrandom::fill(&mut salt[..salt_len]).map_err(|_| PasswordError::Random)?;
    hash_argon2id_with_salt(password, &salt[..salt_len], params)
}

/// argon2-cffi's `check_needs_rehash`: `true` unless `phc` is argon2id v19 with exactly
/// these m/t/p, output length and salt length. argon2i/argon2d hashes need a rehash (their
/// type differs); anything that is not an argon2 PHC string, bcrypt included, is
/// `PASSWORD_INVALID_HASH` (argon2-cffi raises `InvalidHashError`).
pub fn needs_rehash_exact(
    phc: &str,
    params: &Argon2Params,
    salt_len: usize,
) -> Result<bool, PasswordError> {
    let parsed =
        PasswordHash::new(phc).map_err(|_| PasswordError::InvalidHash("not a PHC string"))?;
    let (Some(salt), Some(hash)) = (parsed.salt, parsed.hash) else {
        return Err(PasswordError::InvalidHash("missing salt or hash"));
    };
    match parsed.algorithm.as_str() {
        "argon2id" => {}
        "argon2i" | "argon2d" => return Ok(true),
        _ => return Err(PasswordError::InvalidHash("not an argon2 hash")),
    }
    let stored = Params::try_from(&parsed)
        .map_err(|_| PasswordError::InvalidHash("bad argon2 parameters"))?;
    let mut buf = [0u8; 64];
    let stored_salt_len = salt
        .decode_b64(&mut buf)
        .map_err(|_| PasswordError::InvalidHash("bad salt"))?
        .len();
    Ok(parsed.version != Some(0x13)
        || stored.m_cost() != params.m_cost
        || stored.t_cost() != params.t_cost
        || stored.p_cost() != params.p_cost
        || hash.len() != params.output_len
        || stored_salt_len != salt_len)
}

/// Check argon2id parameters and a salt length without hashing (constructor validation).
pub fn validate_params(params: &Argon2Params, salt_len: usize) -> Result<(), PasswordError> {
    params.to_argon2()?;
    if !(MIN_SALT_LEN..=MAX_SALT_LEN).contains(&salt_len) {
        return Err(PasswordError::InvalidParams(format!(
            "salt length must be {MIN_SALT_LEN}..={MAX_SALT_LEN} bytes"
        )));
    }
    Ok(())
}
