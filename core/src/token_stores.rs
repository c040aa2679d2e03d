//! Shared storage for the [`TokenManager`](crate::jwt::TokenManager)'s refresh-token
//! records and the [`AuthorizationServer`](crate::oauth::AuthorizationServer)'s codes, so
//! that several processes (or languages) behind one load balancer see one rotation state
//! and one single-use code: Redis, next to the in-memory defaults.
//!
//! Every state change that must be atomic is one Lua script (Redis runs each script alone):
//! `mark_rotated` (compare-and-set Active → Rotated), revoking one record, `take` (mark a
//! code used and return it) and recording the token family issued for a code. Every script
//! touches exactly one key, passed in `KEYS` (never built inside the script), so each call
//! lands on one slot of a Redis Cluster. A family/user revocation is therefore one
//! `SMEMBERS` of the index set plus one single-key script per member: each record changes
//! atomically (a concurrent `mark_rotated` sees either `active` or `revoked`), the
//! revocation as a whole is not one transaction. An insert adds the jti to the index sets
//! before writing the record, so a concurrent revocation never misses a record it could
//! see. Records expire
//! by themselves (`EXPIRE`), so nothing needs purging. Connections are synchronous, taken from a small pool of idle
//! ones (a call never waits for another call's round trip; at most [`MAX_IDLE`] stay
//! open): the bindings call these stores off their event loop / with the GIL released,
//! from several worker threads at once. A broken connection is dropped, and the next call
//! opens a new one; a call that failed is never
//! retried, because a script may have run before the connection broke (a retried
//! `mark_rotated` would then report a false reuse).
//!
//! Key layout (`{prefix}` defaults to `authcore`):
//!
//! | key | type | contents | expires |
//! |---|---|---|---|
//! | `{prefix}:refresh:{jti}` | hash | `fam`, `user`, `hash` (SHA-256 hex of the token), `exp`, `state` (`active`/`rotated`/`revoked`) | `exp` + 1 h |
//! | `{prefix}:refresh-family:{family}` | set | jtis of the family | latest member's |
//! | `{prefix}:refresh-user:{user}` | set | jtis of the user | latest member's |
//! | `{prefix}:oauth-code:{sha256(code)}` | hash | `data` (OAuthCodeData JSON, camelCase), `used` (`0`/`1`), `family` (refresh family issued for it, once exchanged) | the code's `expiresAt` |

#[cfg(feature = "redis")]
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
#[cfg(feature = "redis")]
use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(feature = "redis")]
use redis::cluster::{ClusterClient, ClusterConnection};
#[cfg(feature = "redis")]
use redis::{Client, Connection, ConnectionLike, Script};

use crate::jwt::{InMemoryRefreshTokenStore, RefreshTokenStore};
#[cfg(feature = "redis")]
use crate::jwt::{RefreshTokenRecord, RefreshTokenState};
#[cfg(feature = "redis")]
use crate::oauth::{CodeTake, OAuthCodeData};
use crate::oauth::{InMemoryOAuthStorage, OAuthStorage};
#[cfg(feature = "redis")]
use crate::store::map_redis_err as store_err;
use crate::store::{StoreError, StoreUrl};

/// Default key prefix.
pub const DEFAULT_PREFIX: &str = "authcore";

/// How long a refresh-token record outlives its token's `exp` (covers verification leeway
/// and clock skew between servers).
pub const REFRESH_RECORD_GRACE_SECS: u64 = 3600;

/// Connect, read and write timeout of the synchronous connection.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);

#[cfg(feature = "redis")]
fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Idle connections kept open per store.
pub const MAX_IDLE: usize = 8;

#[cfg(feature = "redis")]
/// The client behind a store: one server, or a Redis Cluster (`redis+cluster://`).
enum Target {
    Single(Client),
    Cluster(Box<ClusterClient>),
}

#[cfg(feature = "redis")]
/// A pooled connection of either kind.
enum Conn {
    Single(Connection),
    Cluster(Box<ClusterConnection>),
}

#[cfg(feature = "redis")]
impl Conn {
    fn as_dyn(&mut self) -> &mut dyn ConnectionLike {
        match self {
            Self::Single(c) => c,
            Self::Cluster(c) => c.as_mut(),
        }
    }
}

#[cfg(feature = "redis")]
/// Lazily opened synchronous connections: a pool of idle ones, one per concurrent call.
struct SyncRedis {
    target: Target,
    idle: Mutex<Vec<Conn>>,
}

#[cfg(feature = "redis")]
impl std::fmt::Debug for SyncRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("SyncRedis");
        match &self.target {
            Target::Single(c) => d.field("addr", &c.get_connection_info().addr()),
            Target::Cluster(_) => d.field("cluster", &true),
        };
        d.finish_non_exhaustive()
    }
}

#[cfg(feature = "redis")]
impl SyncRedis {
    fn open(url: &str) -> Result<Self, StoreError> {
        let target = match crate::store::cluster_nodes(url) {
            Some(nodes) => Target::Cluster(Box::new(
                ClusterClient::builder(nodes?)
                    .connection_timeout(IO_TIMEOUT)
                    .response_timeout(IO_TIMEOUT)
                    .retries(crate::store::CLUSTER_REDIRECTS)
                    .build()
                    .map_err(|e| StoreError::Connection(e.to_string()))?,
            )),
            None => Target::Single(
                Client::open(url).map_err(|e| StoreError::Connection(e.to_string()))?,
            ),
        };
        Ok(Self {
            target,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn connect(&self) -> Result<Conn, StoreError> {
        match &self.target {
            Target::Single(client) => {
                let c = client
                    .get_connection_with_timeout(IO_TIMEOUT)
                    .map_err(store_err)?;
                c.set_read_timeout(Some(IO_TIMEOUT)).map_err(store_err)?;
                c.set_write_timeout(Some(IO_TIMEOUT)).map_err(store_err)?;
                Ok(Conn::Single(c))
            }
            Target::Cluster(client) => Ok(Conn::Cluster(Box::new(
                client.get_connection().map_err(store_err)?,
            ))),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Conn>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` on an idle connection (or a new one), without holding the pool's lock
    /// during the round trip. The connection goes back to the pool unless it broke.
    fn run<T>(
        &self,
        f: impl FnOnce(&mut dyn ConnectionLike) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        let idle = self.idle().pop();
        let mut conn = match idle {
            Some(c) => c,
            None => self.connect()?,
        };
        let result = f(conn.as_dyn()).map_err(store_err);
        let mut idle = self.idle();
        if matches!(result, Err(StoreError::Connection(_))) {
            // The server likely went away for every connection (a restart): drop the idle
            // ones too, so that only this call fails, not one call per pooled connection.
            idle.clear();
        } else if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        result
    }
}

#[cfg(feature = "redis")]
fn state_str(s: RefreshTokenState) -> &'static str {
    match s {
        RefreshTokenState::Active => "active",
        RefreshTokenState::Rotated => "rotated",
        RefreshTokenState::Revoked => "revoked",
    }
}

#[cfg(feature = "redis")]
fn parse_state(s: &str) -> Result<RefreshTokenState, StoreError> {
    match s {
        "active" => Ok(RefreshTokenState::Active),
        "rotated" => Ok(RefreshTokenState::Rotated),
        "revoked" => Ok(RefreshTokenState::Revoked),
        other => Err(StoreError::Command(format!(
            "unexpected refresh-token state {other:?}"
        ))),
    }
}

#[cfg(feature = "redis")]
/// Writes one refresh record (one key: the record's hash) and sets its expiry.
const RECORD_LUA: &str = r"
redis.call('HSET', KEYS[1], 'fam', ARGV[1], 'user', ARGV[2], 'hash', ARGV[3], 'exp', ARGV[4], 'state', ARGV[5])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
return 1
";

#[cfg(feature = "redis")]
/// Adds a jti to one index set (family or user) and extends the set's expiry to the
/// member's when that is later (one key).
const SET_ADD_LUA: &str = r"
local ttl = tonumber(ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return 1
";

#[cfg(feature = "redis")]
const MARK_ROTATED_LUA: &str = r"
local s = redis.call('HGET', KEYS[1], 'state')
if not s then return false end
if s == 'active' then redis.call('HSET', KEYS[1], 'state', 'rotated') end
return s
";

#[cfg(feature = "redis")]
/// Revokes one record (one key): 1 when it changed, 0 when it is missing or already
/// revoked. A missing record stays missing (no partial hash is created).
const REVOKE_ONE_LUA: &str = r"
local s = redis.call('HGET', KEYS[1], 'state')
if s and s ~= 'revoked' then
  redis.call('HSET', KEYS[1], 'state', 'revoked')
  return 1
end
return 0
";

#[cfg(feature = "redis")]
/// [`RefreshTokenStore`] in Redis (layout in the module docs).
#[derive(Debug)]
pub struct RedisRefreshTokenStore {
    redis: SyncRedis,
    prefix: String,
    record: Script,
    set_add: Script,
    mark_rotated: Script,
    revoke_one: Script,
}

#[cfg(feature = "redis")]
impl RedisRefreshTokenStore {
    /// A store on `url` (`redis://`, `rediss://`, `unix://`); connects on first use.
    pub fn open(url: &str, prefix: &str) -> Result<Self, StoreError> {
        Ok(Self {
            redis: SyncRedis::open(url)?,
            prefix: prefix.to_owned(),
            record: Script::new(RECORD_LUA),
            set_add: Script::new(SET_ADD_LUA),
            mark_rotated: Script::new(MARK_ROTATED_LUA),
            revoke_one: Script::new(REVOKE_ONE_LUA),
        })
    }

    fn record_key(&self, jti: &str) -> String {
        format!("{}:refresh:{jti}", self.prefix)
    }

    /// Revokes every record whose jti is in the index set `set_key`: one `SMEMBERS`,
    /// then one single-key script per member, so that no script touches a key it was not
    /// given (Redis Cluster routes each call by its one key).
    fn revoke(&self, set_key: String) -> Result<usize, StoreError> {
        self.redis.run(|c| {
            let jtis: Vec<String> = redis::cmd("SMEMBERS").arg(&set_key).query(c)?;
            let mut n = 0;
            for jti in jtis {
                n += self
                    .revoke_one
                    .key(self.record_key(&jti))
                    .invoke::<usize>(c)?;
            }
            Ok(n)
        })
    }
}

#[cfg(feature = "redis")]
impl RefreshTokenStore for RedisRefreshTokenStore {
    fn insert(&self, r: RefreshTokenRecord) -> Result<(), StoreError> {
        let ttl = r
            .expires_at
            .saturating_sub(now_secs())
            .saturating_add(REFRESH_RECORD_GRACE_SECS);
        let p = &self.prefix;
        // The index sets first, then the record: a revocation that runs in between finds
        // the jti without a record and skips it, and one that runs after finds both. Each
        // script touches one key.
        let family_key = format!("{p}:refresh-family:{}", r.family_id);
        let user_key = format!("{p}:refresh-user:{}", r.user_id);
        self.redis.run(|c| {
            for set_key in [&family_key, &user_key] {
                self.set_add
                    .key(set_key)
                    .arg(&r.jti)
                    .arg(ttl)
                    .invoke::<()>(c)?;
            }
            self.record
                .key(self.record_key(&r.jti))
                .arg(&r.family_id)
                .arg(&r.user_id)
                .arg(&r.token_hash)
                .arg(r.expires_at)
                .arg(state_str(r.state))
                .arg(ttl)
                .invoke::<()>(c)
        })
    }

    fn get(&self, jti: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let fields: std::collections::HashMap<String, String> = self
            .redis
            .run(|c| redis::cmd("HGETALL").arg(self.record_key(jti)).query(c))?;
        if fields.is_empty() {
            return Ok(None);
        }
        let field = |name: &str| {
            fields
                .get(name)
                .cloned()
                .ok_or_else(|| StoreError::Command(format!("refresh record without {name}")))
        };
        Ok(Some(RefreshTokenRecord {
            jti: jti.to_owned(),
            family_id: field("fam")?,
            user_id: field("user")?,
            token_hash: field("hash")?,
            expires_at: field("exp")?
                .parse()
                .map_err(|_| StoreError::Command("refresh record with a bad exp".into()))?,
            state: parse_state(&field("state")?)?,
        }))
    }

    fn mark_rotated(&self, jti: &str) -> Result<Option<RefreshTokenState>, StoreError> {
        let prev: Option<String> = self
            .redis
            .run(|c| self.mark_rotated.key(self.record_key(jti)).invoke(c))?;
        prev.as_deref().map(parse_state).transpose()
    }

    fn revoke_family(&self, family_id: &str) -> Result<usize, StoreError> {
        self.revoke(format!("{}:refresh-family:{family_id}", self.prefix))
    }

    fn revoke_user(&self, user_id: &str) -> Result<usize, StoreError> {
        self.revoke(format!("{}:refresh-user:{user_id}", self.prefix))
    }
}

#[cfg(feature = "redis")]
const TAKE_LUA: &str = r"
local d = redis.call('HGET', KEYS[1], 'data')
if not d then return {0, '', ''} end
local f = redis.call('HGET', KEYS[1], 'family') or ''
if redis.call('HGET', KEYS[1], 'used') == '1' then return {2, d, f} end
redis.call('HSET', KEYS[1], 'used', '1')
return {1, d, f}
";

#[cfg(feature = "redis")]
/// Writes a fresh code record and its absolute expiry (one key; a script rather than
/// `MULTI`, which a cluster connection does not pipeline).
const SAVE_CODE_LUA: &str = r"
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'used', '0')
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
";

#[cfg(feature = "redis")]
const SET_FAMILY_LUA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'family', ARGV[1])
return 1
";

#[cfg(feature = "redis")]
/// [`OAuthStorage`] in Redis: one hash per code, expiring with the code; a used code stays
/// as a tombstone until then, so a replay is recognised as one.
#[derive(Debug)]
pub struct RedisOAuthStorage {
    redis: SyncRedis,
    prefix: String,
    save: Script,
    take: Script,
    set_family: Script,
}

#[cfg(feature = "redis")]
impl RedisOAuthStorage {
    /// Storage on `url` (`redis://`, `rediss://`, `unix://`); connects on first use.
    pub fn open(url: &str, prefix: &str) -> Result<Self, StoreError> {
        Ok(Self {
            redis: SyncRedis::open(url)?,
            prefix: prefix.to_owned(),
            save: Script::new(SAVE_CODE_LUA),
            take: Script::new(TAKE_LUA),
            set_family: Script::new(SET_FAMILY_LUA),
        })
    }

    fn key(&self, code_hash: &str) -> String {
        format!("{}:oauth-code:{code_hash}", self.prefix)
    }
}

#[cfg(feature = "redis")]
impl OAuthStorage for RedisOAuthStorage {
    fn save(&self, data: OAuthCodeData) -> Result<(), StoreError> {
        let json = serde_json::to_string(&data).map_err(|e| StoreError::Command(e.to_string()))?;
        let key = self.key(&data.code);
        self.redis.run(|c| {
            self.save
                .key(&key)
                .arg(json)
                .arg(data.expires_at)
                .invoke::<()>(c)
        })
    }

    fn take(&self, code_hash: &str) -> Result<CodeTake, StoreError> {
        let (state, data, family): (u8, String, String) = self
            .redis
            .run(|c| self.take.key(self.key(code_hash)).invoke(c))?;
        let parse = |d: String| -> Result<OAuthCodeData, StoreError> {
            let mut rec: OAuthCodeData = serde_json::from_str(&d)
                .map_err(|e| StoreError::Command(format!("bad code record: {e}")))?;
            if !family.is_empty() {
                rec.family_id = Some(family.clone());
            }
            Ok(rec)
        };
        Ok(match state {
            0 => CodeTake::NotFound,
            1 => CodeTake::Fresh(parse(data)?),
            _ => CodeTake::AlreadyUsed(parse(data)?),
        })
    }

    fn set_family(&self, code_hash: &str, family_id: &str) -> Result<bool, StoreError> {
        self.redis.run(|c| {
            self.set_family
                .key(self.key(code_hash))
                .arg(family_id)
                .invoke::<bool>(c)
        })
    }

    fn purge_expired(&self, _now_ms: u64) -> Result<usize, StoreError> {
        // Redis expires the records itself.
        Ok(0)
    }
}

/// Whether a store URL names the in-process store (`memory://...`, or empty: no store
/// given) rather than Redis; the factories below decide with it ([`StoreUrl::parse`]).
pub fn is_memory_url(url: &str) -> bool {
    url.is_empty() || StoreUrl::parse(url) == Some(StoreUrl::Memory)
}

/// The Redis URL a factory opens: an unknown scheme is [`StoreError::Unsupported`].
#[cfg(feature = "redis")]
fn redis_url(url: &str) -> Result<&str, StoreError> {
    StoreUrl::require("store", url, "memory://, redis://, rediss:// or unix://").map(|_| url)
}

/// Built without the `redis` feature: a Redis URL is [`StoreError::Unsupported`] too.
#[cfg(not(feature = "redis"))]
fn redis_url(url: &str) -> Result<std::convert::Infallible, StoreError> {
    StoreUrl::require("store", url, "memory://, redis://, rediss:// or unix://")?;
    Err(StoreError::Unsupported(
        crate::store::unsupported_url_message(
            "store",
            url,
            "memory:// (built without the redis feature)",
        ),
    ))
}

/// A refresh-token store from a URL: `memory://` (or empty) for the in-memory store,
/// `redis://` / `rediss://` / `unix://` for Redis under `prefix`, `redis+cluster://`
/// / `rediss+cluster://` for a Redis Cluster ([`crate::store::cluster_nodes`]).
pub fn refresh_token_store(
    url: &str,
    prefix: Option<&str>,
) -> Result<Box<dyn RefreshTokenStore>, StoreError> {
    if is_memory_url(url) {
        return Ok(Box::new(InMemoryRefreshTokenStore::new()));
    }
    #[cfg(feature = "redis")]
    {
        Ok(Box::new(RedisRefreshTokenStore::open(
            redis_url(url)?,
            prefix.unwrap_or(DEFAULT_PREFIX),
        )?))
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = prefix;
        match redis_url(url)? {}
    }
}

/// Authorization-code storage from a URL (as [`refresh_token_store`]).
pub fn oauth_storage(url: &str, prefix: Option<&str>) -> Result<Box<dyn OAuthStorage>, StoreError> {
    if is_memory_url(url) {
        return Ok(Box::new(InMemoryOAuthStorage::new()));
    }
    #[cfg(feature = "redis")]
    {
        Ok(Box::new(RedisOAuthStorage::open(
            redis_url(url)?,
            prefix.unwrap_or(DEFAULT_PREFIX),
        )?))
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = prefix;
        match redis_url(url)? {}
    }
}

#[cfg(all(test, feature = "redis"))]
mod script_key_tests {
    use super::*;

    /// Every key a script touches is one of its `KEYS` (never built from `ARGV` or a
    /// value inside the script), and each script touches `KEYS[1]` only: Redis Cluster
    /// routes a script by its declared keys, so a key built inside would land on the
    /// wrong slot.
    #[test]
    fn every_script_touches_only_keys_1() {
        for lua in [
            RECORD_LUA,
            SET_ADD_LUA,
            MARK_ROTATED_LUA,
            REVOKE_ONE_LUA,
            SAVE_CODE_LUA,
            TAKE_LUA,
            SET_FAMILY_LUA,
        ] {
            crate::store::assert_script_keys_declared(lua, 1);
        }
    }

    #[test]
    #[should_panic(expected = "not a declared key")]
    fn a_key_built_inside_a_script_is_caught() {
        crate::store::assert_script_keys_declared(
            "local k = ARGV[1] .. 'x' redis.call('HGET', k, 'state')",
            1,
        );
    }
}
