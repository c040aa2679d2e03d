//! Key-value stores behind the HMAC credential lifecycle and the nonce claim.
//!
//! [`KvStore`] is the small subset of Redis the original uses (hash for credentials,
//! strings with TTL for nonces and backups) plus one combined operation,
//! [`KvStore::hget_and_claim`], that reads a credential and claims a nonce in **one**
//! round trip. Two implementations:
//! - [`MemoryStore`]: the embedded default, single process, with key expiry;
//! - [`RedisStore`]: the `redis` crate on tokio, one multiplexed auto-reconnecting
//!   connection; `hget_and_claim` is one pipelined round trip (`HGET` + `SET NX EX`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

/// A store failure: connection, protocol or an argument Redis rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The server could not be reached or the connection broke.
    #[error("connection error: {0}")]
    Connection(String),
    /// The server answered with an error (for example an invalid expire time).
    #[error("command error: {0}")]
    Command(String),
    /// The key holds a value of another type (`WRONGTYPE`).
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    /// A URL that names no store ([`StoreUrl::parse`]); the message carries it redacted.
    #[error("{0}")]
    Unsupported(String),
}

impl StoreError {
    /// The stable error code (`STORE_CONNECTION`, `STORE_COMMAND`, `STORE_WRONGTYPE`, `STORE_UNSUPPORTED_URL`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Connection(_) => "STORE_CONNECTION",
            Self::Command(_) => "STORE_COMMAND",
            Self::WrongType => "STORE_WRONGTYPE",
            Self::Unsupported(_) => "STORE_UNSUPPORTED_URL",
        }
    }

    /// The HTTP status an application answers with: 503 while the store is unavailable
    /// or failing, 400 for a URL that names no store (a configuration error).
    pub fn status(&self) -> u16 {
        match self {
            Self::Unsupported(_) => 400,
            _ => 503,
        }
    }
}

/// The outcome of [`KvStore::hget_and_claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAndClaim {
    /// The hash field's value (`None` when missing or empty).
    pub record: Option<String>,
    /// Whether the nonce key was newly set by this call. Always `false` when the record
    /// is missing (no nonce is claimed for unknown clients).
    pub claimed: bool,
}

/// The Redis subset the HMAC module needs. Every method is one round trip.
#[async_trait]
pub trait KvStore: Send + Sync {
    /// `HGET key field`.
    async fn hget(&self, key: &str, field: &str) -> Result<Option<String>, StoreError>;
    /// `HSET key field value`.
    async fn hset(&self, key: &str, field: &str, value: &str) -> Result<(), StoreError>;
    /// `HDEL key field`.
    async fn hdel(&self, key: &str, field: &str) -> Result<(), StoreError>;
    /// `HKEYS key`.
    async fn hkeys(&self, key: &str) -> Result<Vec<String>, StoreError>;
    /// `GET key`.
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// `SET key value EX ttl`. A TTL ≤ 0 is an error, as in Redis.
    async fn set_ex(&self, key: &str, value: &str, ttl_seconds: i64) -> Result<(), StoreError>;
    /// `SET key value NX EX ttl`: `true` when the key was set, `false` when it existed.
    async fn set_nx_ex(&self, key: &str, value: &str, ttl_seconds: i64)
    -> Result<bool, StoreError>;
    /// `DEL key`.
    async fn del(&self, key: &str) -> Result<(), StoreError>;
    /// `HGET hash_key field` and, when that is a non-empty value, `SET nonce_key "1" NX
    /// EX ttl`, in one round trip. No claim survives for a missing or empty record.
    async fn hget_and_claim(
        &self,
        hash_key: &str,
        field: &str,
        nonce_key: &str,
        ttl_seconds: i64,
    ) -> Result<RecordAndClaim, StoreError>;
}

/// What a store URL names: the one parser every binding and factory goes through.
///
/// - `memory://…`: the embedded in-process store (the text after the scheme names it);
/// - `redis://`, `rediss://`, `redis+unix://`, `unix://`: one Redis server;
/// - `redis+cluster://` / `rediss+cluster://`: a Redis Cluster, given by one or more seed
///   nodes separated by commas (`redis+cluster://[user:pass@]host:port,host:port`); the
///   credentials, if any, apply to every node ([`cluster_nodes`]).
///
/// Anything else (the empty string included) is not a store URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreUrl {
    /// `memory://…`.
    Memory,
    /// `redis://`, `rediss://`, `redis+unix://`, `unix://`.
    Redis,
    /// `redis+cluster://`, `rediss+cluster://`.
    Cluster,
}

impl StoreUrl {
    /// The kind of store `url` names, `None` for any other text.
    pub fn parse(url: &str) -> Option<Self> {
        let scheme_is = |schemes: &[&str]| schemes.iter().any(|p| url.starts_with(p));
        if scheme_is(&["memory://"]) {
            Some(Self::Memory)
        } else if scheme_is(&["redis://", "rediss://", "redis+unix://", "unix://"]) {
            Some(Self::Redis)
        } else if scheme_is(&["redis+cluster://", "rediss+cluster://"]) {
            Some(Self::Cluster)
        } else {
            None
        }
    }

    /// [`StoreUrl::parse`] for a store a binding opens under `what` (`"store"`,
    /// `"redis"`…): an unknown scheme is [`StoreError::Unsupported`], its message listing
    /// `expected`, the URL redacted.
    pub fn require(what: &str, url: &str, expected: &str) -> Result<Self, StoreError> {
        Self::parse(url)
            .ok_or_else(|| StoreError::Unsupported(unsupported_url_message(what, url, expected)))
    }
}

/// How many redirections (`MOVED`/`ASK`) or retries a cluster call may follow.
#[cfg(feature = "redis")]
pub(crate) const CLUSTER_REDIRECTS: u32 = 2;

/// The seed node URLs of a cluster URL (`None` when `url` is not one; see
/// [`StoreUrl::Cluster`]).
pub fn cluster_nodes(url: &str) -> Option<Result<Vec<String>, StoreError>> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("redis+cluster://") {
        ("redis", r)
    } else {
        ("rediss", url.strip_prefix("rediss+cluster://")?)
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let nodes: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| format!("{scheme}://{userinfo}{h}"))
        .collect();
    Some(if nodes.is_empty() {
        Err(StoreError::Connection(
            "cluster URL without nodes: expected redis+cluster://host:port[,host:port...]".into(),
        ))
    } else {
        Ok(nodes)
    })
}

/// The message for a store URL of an unknown scheme: the URL appears only redacted
/// ([`crate::secret::redact_url`]), since it may carry a Redis password.
pub fn unsupported_url_message(what: &str, url: &str, expected: &str) -> String {
    format!(
        "Unsupported {what} URL '{}': expected {expected}",
        crate::secret::redact_url(url)
    )
}

fn check_ttl(ttl_seconds: i64) -> Result<(), StoreError> {
    if ttl_seconds <= 0 {
        return Err(StoreError::Command(
            "ERR invalid expire time in 'set' command".into(),
        ));
    }
    Ok(())
}

enum Entry {
    Str {
        value: String,
        expires: Option<Instant>,
    },
    Hash {
        fields: HashMap<String, (u64, String)>,
        next_seq: u64,
    },
}

/// The embedded in-memory store: a process-local map with lazy expiry, swept of expired
/// keys whenever it has doubled since the last sweep (so a stream of one-off keys, such as
/// nonces, keeps it at about twice its live keys instead of growing without bound).
///
/// # Example
///
/// ```
/// use authcore::store::{KvStore, MemoryStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// store.hset("ns:clients", "orders", "{}").await?;
/// assert_eq!(store.hget("ns:clients", "orders").await?.as_deref(), Some("{}"));
/// // A nonce claim: the first `SET NX` wins, the replay loses.
/// assert!(store.set_nx_ex("ns:nonce:orders:n1", "1", 300).await?);
/// assert!(!store.set_nx_ex("ns:nonce:orders:n1", "1", 300).await?);
/// # Ok::<(), authcore::store::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<HashMap<String, Entry>>,
    /// Size at which the next insert sweeps expired keys (changed under `inner`'s lock).
    sweep_at: std::sync::atomic::AtomicUsize,
}

/// Below this many keys the map is never swept (a sweep would cost more than it frees).
const MIN_SWEEP_AT: usize = 1024;

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A poisoned lock only means another thread panicked mid-operation; every
        // operation leaves the map consistent, so keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drop expired keys when the map has reached `sweep_at`, then set the next threshold
    /// to twice what is left: each sweep is paid for by the inserts since the previous one
    /// (amortised O(1) per insert).
    fn sweep_if_due(&self, map: &mut HashMap<String, Entry>) {
        use std::sync::atomic::Ordering::Relaxed;
        if map.len() < self.sweep_at.load(Relaxed).max(MIN_SWEEP_AT) {
            return;
        }
        let now = Instant::now();
        map.retain(|_, e| !matches!(e, Entry::Str { expires: Some(t), .. } if *t <= now));
        self.sweep_at
            .store((map.len() * 2).max(MIN_SWEEP_AT), Relaxed);
    }

    fn live<'m>(map: &'m mut HashMap<String, Entry>, key: &str) -> Option<&'m mut Entry> {
        let expired = matches!(map.get(key), Some(Entry::Str { expires: Some(t), .. }) if *t <= Instant::now());
        if expired {
            map.remove(key);
        }
        map.get_mut(key)
    }

    fn hget_locked(
        map: &mut HashMap<String, Entry>,
        key: &str,
        field: &str,
    ) -> Result<Option<String>, StoreError> {
        match Self::live(map, key) {
            None => Ok(None),
            Some(Entry::Hash { fields, .. }) => Ok(fields.get(field).map(|(_, v)| v.clone())),
            Some(Entry::Str { .. }) => Err(StoreError::WrongType),
        }
    }

    fn set_nx_locked(map: &mut HashMap<String, Entry>, key: &str, value: &str, ttl: i64) -> bool {
        if Self::live(map, key).is_some() {
            return false;
        }
        map.insert(
            key.to_owned(),
            Entry::Str {
                value: value.to_owned(),
                expires: Some(Instant::now() + ttl_duration(ttl)),
            },
        );
        true
    }

    /// Number of live keys (for tests and diagnostics).
    pub fn len(&self) -> usize {
        let mut map = self.lock();
        let now = Instant::now();
        map.retain(|_, e| !matches!(e, Entry::Str { expires: Some(t), .. } if *t <= now));
        map.len()
    }

    /// Whether no live key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn ttl_duration(ttl_seconds: i64) -> Duration {
    Duration::from_secs(
        u64::try_from(ttl_seconds)
            .unwrap_or(0)
            .min(u64::from(u32::MAX)),
    )
}

#[async_trait]
impl KvStore for MemoryStore {
    async fn hget(&self, key: &str, field: &str) -> Result<Option<String>, StoreError> {
        Self::hget_locked(&mut self.lock(), key, field)
    }

    async fn hset(&self, key: &str, field: &str, value: &str) -> Result<(), StoreError> {
        let mut map = self.lock();
        if Self::live(&mut map, key).is_none() {
            map.insert(
                key.to_owned(),
                Entry::Hash {
                    fields: HashMap::new(),
                    next_seq: 0,
                },
            );
        }
        match map.get_mut(key) {
            Some(Entry::Hash { fields, next_seq }) => {
                match fields.get_mut(field) {
                    Some(slot) => slot.1 = value.to_owned(),
                    None => {
                        fields.insert(field.to_owned(), (*next_seq, value.to_owned()));
                        *next_seq += 1;
                    }
                }
                Ok(())
            }
            _ => Err(StoreError::WrongType),
        }
    }

    async fn hdel(&self, key: &str, field: &str) -> Result<(), StoreError> {
        let mut map = self.lock();
        let now_empty = match Self::live(&mut map, key) {
            None => return Ok(()),
            Some(Entry::Hash { fields, .. }) => {
                fields.remove(field);
                fields.is_empty()
            }
            Some(Entry::Str { .. }) => return Err(StoreError::WrongType),
        };
        if now_empty {
            map.remove(key);
        }
        Ok(())
    }

    async fn hkeys(&self, key: &str) -> Result<Vec<String>, StoreError> {
        let mut map = self.lock();
        match Self::live(&mut map, key) {
            None => Ok(Vec::new()),
            Some(Entry::Hash { fields, .. }) => {
                let mut keys: Vec<(&u64, &String)> =
                    fields.iter().map(|(k, (seq, _))| (seq, k)).collect();
                keys.sort();
                Ok(keys.into_iter().map(|(_, k)| k.clone()).collect())
            }
            Some(Entry::Str { .. }) => Err(StoreError::WrongType),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut map = self.lock();
        match Self::live(&mut map, key) {
            None => Ok(None),
            Some(Entry::Str { value, .. }) => Ok(Some(value.clone())),
            Some(Entry::Hash { .. }) => Err(StoreError::WrongType),
        }
    }

    async fn set_ex(&self, key: &str, value: &str, ttl_seconds: i64) -> Result<(), StoreError> {
        check_ttl(ttl_seconds)?;
        let mut map = self.lock();
        map.insert(
            key.to_owned(),
            Entry::Str {
                value: value.to_owned(),
                expires: Some(Instant::now() + ttl_duration(ttl_seconds)),
            },
        );
        self.sweep_if_due(&mut map);
        Ok(())
    }

    async fn set_nx_ex(
        &self,
        key: &str,
        value: &str,
        ttl_seconds: i64,
    ) -> Result<bool, StoreError> {
        check_ttl(ttl_seconds)?;
        let mut map = self.lock();
        let claimed = Self::set_nx_locked(&mut map, key, value, ttl_seconds);
        self.sweep_if_due(&mut map);
        Ok(claimed)
    }

    async fn del(&self, key: &str) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }

    async fn hget_and_claim(
        &self,
        hash_key: &str,
        field: &str,
        nonce_key: &str,
        ttl_seconds: i64,
    ) -> Result<RecordAndClaim, StoreError> {
        check_ttl(ttl_seconds)?;
        let mut map = self.lock();
        let record = Self::hget_locked(&mut map, hash_key, field)?.filter(|r| !r.is_empty());
        let claimed =
            record.is_some() && Self::set_nx_locked(&mut map, nonce_key, "1", ttl_seconds);
        self.sweep_if_due(&mut map);
        Ok(RecordAndClaim { record, claimed })
    }
}

#[cfg(feature = "redis")]
/// A Redis-backed store on one multiplexed, auto-reconnecting connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: redis::aio::ConnectionManager,
}

#[cfg(feature = "redis")]
impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

#[cfg(feature = "redis")]
/// A `redis` crate error as a [`StoreError`] (shared with `token_stores`).
pub(crate) fn map_redis_err(e: redis::RedisError) -> StoreError {
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() {
        StoreError::Connection(e.to_string())
    } else if e.code() == Some("WRONGTYPE") {
        StoreError::WrongType
    } else {
        StoreError::Command(e.to_string())
    }
}

#[cfg(feature = "redis")]
impl RedisStore {
    /// Connect to `url` (`redis://host:port/db`). Fails fast when the server does not
    /// answer: 2 s to connect, 5 s per command, 2 reconnect attempts.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Connection(e.to_string()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2);
        let conn = redis::aio::ConnectionManager::new_with_config(client, config)
            .await
            .map_err(map_redis_err)?;
        Ok(Self { conn })
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await.map_err(map_redis_err)
    }

    /// Direct access to the connection, for callers that need other commands.
    pub fn connection(&self) -> redis::aio::ConnectionManager {
        self.conn.clone()
    }
}

#[cfg(feature = "redis")]
/// `impl KvStore` for a Redis store type with `async fn query<T>(&self, &redis::Cmd)`: the
/// single-key commands are the same on one server and on a cluster (each touches one key,
/// so a cluster routes it by that key's slot); the items given add what differs.
macro_rules! redis_kv_store {
    ($ty:ty { $($rest:tt)* }) => {
        #[async_trait]
        impl KvStore for $ty {
            async fn hget(&self, key: &str, field: &str) -> Result<Option<String>, StoreError> {
                self.query(redis::cmd("HGET").arg(key).arg(field)).await
            }

            async fn hset(&self, key: &str, field: &str, value: &str) -> Result<(), StoreError> {
                self.query::<i64>(redis::cmd("HSET").arg(key).arg(field).arg(value))
                    .await
                    .map(drop)
            }

            async fn hdel(&self, key: &str, field: &str) -> Result<(), StoreError> {
                self.query::<i64>(redis::cmd("HDEL").arg(key).arg(field))
                    .await
                    .map(drop)
            }

            async fn hkeys(&self, key: &str) -> Result<Vec<String>, StoreError> {
                self.query(redis::cmd("HKEYS").arg(key)).await
            }

            async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
                self.query(redis::cmd("GET").arg(key)).await
            }

            async fn set_ex(&self, key: &str, value: &str, ttl_seconds: i64) -> Result<(), StoreError> {
                self.query::<redis::Value>(
                    redis::cmd("SET")
                        .arg(key)
                        .arg(value)
                        .arg("EX")
                        .arg(ttl_seconds),
                )
                .await
                .map(drop)
            }

            async fn set_nx_ex(
                &self,
                key: &str,
                value: &str,
                ttl_seconds: i64,
            ) -> Result<bool, StoreError> {
                let v: Option<String> = self
                    .query(
                        redis::cmd("SET")
                            .arg(key)
                            .arg(value)
                            .arg("NX")
                            .arg("EX")
                            .arg(ttl_seconds),
                    )
                    .await?;
                Ok(v.is_some())
            }

            async fn del(&self, key: &str) -> Result<(), StoreError> {
                self.query::<i64>(redis::cmd("DEL").arg(key))
                    .await
                    .map(drop)
            }

            $($rest)*
        }
    };
}

#[cfg(feature = "redis")]
redis_kv_store!(RedisStore {
    async fn hget_and_claim(
        &self,
        hash_key: &str,
        field: &str,
        nonce_key: &str,
        ttl_seconds: i64,
    ) -> Result<RecordAndClaim, StoreError> {
        check_ttl(ttl_seconds)?;
        let mut conn = self.conn.clone();
        // One round trip: a pipeline of two plain commands costs Redis about half the CPU
        // of the equivalent Lua script (EVALSHA), which matters when Redis shares the
        // host. The claim is taken before the record is known, so a claim made for a
        // missing (or empty) record is given back at once: unknown clients never keep a
        // nonce, exactly like the script.
        let (record, set): (Option<String>, redis::Value) = redis::pipe()
            .cmd("HGET")
            .arg(hash_key)
            .arg(field)
            .cmd("SET")
            .arg(nonce_key)
            .arg("1")
            .arg("NX")
            .arg("EX")
            .arg(ttl_seconds)
            .query_async(&mut conn)
            .await
            .map_err(map_redis_err)?;
        let record = record.filter(|r| !r.is_empty());
        let claimed = !matches!(set, redis::Value::Nil);
        if record.is_none() {
            if claimed {
                self.query::<i64>(redis::cmd("DEL").arg(nonce_key)).await?;
            }
            return Ok(RecordAndClaim {
                record: None,
                claimed: false,
            });
        }
        Ok(RecordAndClaim { record, claimed })
    }
});

#[cfg(feature = "redis")]
/// A Redis Cluster store (`redis+cluster://host:port,host:port`, see [`StoreUrl`]) on
/// one multiplexed cluster connection: every method touches one key, so each call routes
/// to that key's slot. [`KvStore::hget_and_claim`] is two round trips here (the record
/// hash and the nonce key hash to different slots): `HGET`, then `SET NX EX` only when the
/// record is non-empty, exactly what the original does, so unknown clients never claim.
#[derive(Clone)]
pub struct RedisClusterStore {
    conn: redis::cluster_async::ClusterConnection,
}

#[cfg(feature = "redis")]
impl std::fmt::Debug for RedisClusterStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisClusterStore").finish_non_exhaustive()
    }
}

#[cfg(feature = "redis")]
impl RedisClusterStore {
    /// Connect to the cluster of a `redis+cluster://` URL: 2 s to connect, 5 s per
    /// command, up to [`CLUSTER_REDIRECTS`] redirections.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let nodes = cluster_nodes(url).ok_or_else(|| {
            StoreError::Connection(unsupported_url_message(
                "cluster",
                url,
                "redis+cluster:// or rediss+cluster://",
            ))
        })??;
        let client = redis::cluster::ClusterClient::builder(nodes)
            .connection_timeout(Duration::from_secs(2))
            .response_timeout(Duration::from_secs(5))
            .retries(CLUSTER_REDIRECTS)
            .build()
            .map_err(|e| StoreError::Connection(e.to_string()))?;
        let conn = client.get_async_connection().await.map_err(map_redis_err)?;
        Ok(Self { conn })
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await.map_err(map_redis_err)
    }
}

#[cfg(feature = "redis")]
redis_kv_store!(RedisClusterStore {
    async fn hget_and_claim(
        &self,
        hash_key: &str,
        field: &str,
        nonce_key: &str,
        ttl_seconds: i64,
    ) -> Result<RecordAndClaim, StoreError> {
        check_ttl(ttl_seconds)?;
        let record = self.hget(hash_key, field).await?.filter(|r| !r.is_empty());
        let claimed = match record {
            Some(_) => self.set_nx_ex(nonce_key, "1", ttl_seconds).await?,
            None => false,
        };
        Ok(RecordAndClaim { record, claimed })
    }
});

#[cfg(feature = "redis")]
/// The Redis store for a URL: [`RedisClusterStore`] for a cluster URL, else
/// [`RedisStore`] ([`StoreUrl::parse`]).
pub async fn connect_redis(url: &str) -> Result<std::sync::Arc<dyn KvStore>, StoreError> {
    Ok(if StoreUrl::parse(url) == Some(StoreUrl::Cluster) {
        std::sync::Arc::new(RedisClusterStore::connect(url).await?)
    } else {
        std::sync::Arc::new(RedisStore::connect(url).await?)
    })
}

/// The store a URL names: a fresh [`MemoryStore`] for `memory://`, else Redis
/// ([`connect_redis`]); an unknown scheme is [`StoreError::Unsupported`].
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn KvStore>, StoreError> {
    match StoreUrl::require("store", url, "memory://, redis:// or rediss://")? {
        StoreUrl::Memory => Ok(std::sync::Arc::new(MemoryStore::new())),
        #[cfg(feature = "redis")]
        StoreUrl::Redis | StoreUrl::Cluster => connect_redis(url).await,
        #[cfg(not(feature = "redis"))]
        StoreUrl::Redis | StoreUrl::Cluster => Err(StoreError::Unsupported(
            unsupported_url_message("store", url, "memory:// (built without the redis feature)"),
        )),
    }
}

/// Test helper: asserts that every `redis.call('CMD', key, …)` in `lua` names its key as
/// `KEYS[i]` with `i ≤ max_keys` (Redis Cluster routes a script by its declared keys).
#[cfg(all(test, feature = "redis"))]
pub(crate) fn assert_script_keys_declared(lua: &str, max_keys: usize) {
    let mut calls = 0;
    for (i, _) in lua.match_indices("redis.call(") {
        calls += 1;
        let rest = &lua[i + "redis.call(".len()..];
        let key = rest
            .split_once(',')
            .map(|(_, after)| after.trim_start())
            .unwrap_or("");
        let declared = key
            .strip_prefix("KEYS[")
            .and_then(|k| k.split_once(']'))
            .and_then(|(n, _)| n.parse::<usize>().ok());
        assert!(
            matches!(declared, Some(n) if (1..=max_keys).contains(&n)),
            "not a declared key in {:?}",
            &rest[..rest.len().min(60)]
        );
    }
    assert!(calls > 0, "no redis.call in {lua:?}");
}

#[cfg(all(test, feature = "redis"))]
mod redis_claim_tests {
    use super::*;

    /// Real Redis on 127.0.0.1:6379 (fails, never skips, when it is down).
    #[tokio::test]
    async fn pipelined_claim_keeps_no_nonce_for_unknown_clients() {
        let store = RedisStore::connect("redis://127.0.0.1:6379")
            .await
            .expect("Redis on 127.0.0.1:6379");
        let ns = format!("storetest_{}_{}", std::process::id(), verify_now());
        let hash = format!("{ns}:clients");
        let nonce = format!("{ns}:nonce:c:n:1");
        let r = store.hget_and_claim(&hash, "c", &nonce, 5).await.unwrap();
        assert_eq!(
            r,
            RecordAndClaim {
                record: None,
                claimed: false
            }
        );
        assert_eq!(
            store.get(&nonce).await.unwrap(),
            None,
            "no claim for an unknown client"
        );
        store.hset(&hash, "empty", "").await.unwrap();
        let r = store
            .hget_and_claim(&hash, "empty", &nonce, 5)
            .await
            .unwrap();
        assert_eq!(
            r,
            RecordAndClaim {
                record: None,
                claimed: false
            }
        );
        assert_eq!(store.get(&nonce).await.unwrap(), None);
        store.hset(&hash, "c", "rec").await.unwrap();
        let r = store.hget_and_claim(&hash, "c", &nonce, 5).await.unwrap();
        assert_eq!(
            r,
            RecordAndClaim {
                record: Some("rec".into()),
                claimed: true
            }
        );
        let r = store.hget_and_claim(&hash, "c", &nonce, 5).await.unwrap();
        assert_eq!(
            r,
            RecordAndClaim {
                record: Some("rec".into()),
                claimed: false
            }
        );
        assert!(store.hget_and_claim(&hash, "c", &nonce, 0).await.is_err());
        store.del(&nonce).await.unwrap();
        store.del(&hash).await.unwrap();
    }

    fn verify_now() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    }
}

#[cfg(test)]
mod memory_store_tests {
    use super::*;

    /// One-off keys (nonces) that expired are dropped as the map grows: a stream of unique
    /// nonces keeps the map at about twice its live keys (it grew without bound before).
    #[tokio::test]
    async fn expired_nonces_are_swept() {
        let store = MemoryStore::new();
        for i in 0..5000 {
            assert!(store.set_nx_ex(&format!("old:{i}"), "1", 1).await.unwrap());
        }
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        store.hset("h", "c", "rec").await.unwrap();
        for i in 0..5000 {
            let r = store
                .hget_and_claim("h", "c", &format!("new:{i}"), 60)
                .await
                .unwrap();
            assert!(r.claimed);
        }
        let raw = store.lock().len();
        assert!(raw <= 5001 + 5000 / 2, "{raw} keys held for 5001 live ones");
        assert!(store.lock().keys().all(|k| !k.starts_with("old:")));
        assert_eq!(store.len(), 5001);
    }
}

#[cfg(test)]
mod store_url_tests {
    use super::*;

    #[test]
    fn one_parser_for_every_store_url() {
        for (url, want) in [
            ("memory://", Some(StoreUrl::Memory)),
            ("memory://tenant-a", Some(StoreUrl::Memory)),
            ("redis://127.0.0.1:6379/0", Some(StoreUrl::Redis)),
            ("rediss://h:6380", Some(StoreUrl::Redis)),
            ("unix:///tmp/redis.sock", Some(StoreUrl::Redis)),
            ("redis+unix:///tmp/redis.sock", Some(StoreUrl::Redis)),
            ("redis+cluster://a:1,b:2", Some(StoreUrl::Cluster)),
            ("rediss+cluster://a:1", Some(StoreUrl::Cluster)),
            ("", None),
            ("memory:", None),
            ("REDIS://h", None),
            ("http://u:pw@h/", None),
        ] {
            assert_eq!(StoreUrl::parse(url), want, "{url:?}");
        }
        let e = StoreUrl::require("store", "mysql://root:hunter2@db/app", "memory://").unwrap_err();
        assert_eq!((e.code(), e.status()), ("STORE_UNSUPPORTED_URL", 400));
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert_eq!(StoreError::Connection("down".into()).status(), 503);
    }

    /// Built without the `redis` feature (the sans-IO core), a Redis URL is refused up
    /// front by every store factory, never half-opened.
    #[cfg(not(feature = "redis"))]
    #[tokio::test]
    async fn redis_urls_need_the_redis_feature() {
        for url in ["redis://127.0.0.1:6379", "redis+cluster://a:1,b:2"] {
            let e = open(url).await.err().expect("refused");
            assert!(
                matches!(&e, StoreError::Unsupported(m) if m.contains("redis feature")),
                "{e:?}"
            );
            let e = crate::token_stores::refresh_token_store(url, None).err();
            assert!(matches!(e, Some(StoreError::Unsupported(_))), "{e:?}");
            let e = crate::token_stores::oauth_storage(url, Some("p")).err();
            assert!(matches!(e, Some(StoreError::Unsupported(_))), "{e:?}");
        }
        assert!(crate::token_stores::refresh_token_store("memory://", None).is_ok());
    }

    #[tokio::test]
    async fn open_refuses_an_unknown_scheme_before_any_connection() {
        let e = open("http://127.0.0.1:1/").await.err().expect("refused");
        assert!(matches!(e, StoreError::Unsupported(_)), "{e:?}");
        assert!(open("memory://x").await.is_ok());
    }
}
