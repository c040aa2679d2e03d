//! Key-value stores behind the HMAC credential lifecycle and the nonce claim.
//!
//! [`KvStore`] is the small subset of Redis the original uses (hash for credentials,
//! strings with TTL for nonces and backups) plus one combined operation,
//! [`KvStore::hget_and_claim`], that reads a credential and claims a nonce in **one**
//! round trip. Two implementations:
//! - [`MemoryStore`]: the embedded default, single process, with key expiry;
//! - [`RedisStore`]: the `redis` crate on tokio, one multiplexed auto-reconnecting
//!   connection; `hget_and_claim` is one pipelined round trip (`HGET` + `SET NX EX`).

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hashbrown::HashTable;

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

/// A hash key's fields, in insertion order for `HKEYS`.
#[derive(Default)]
struct HashEntry {
    fields: HashMap<String, (u64, String)>,
    next_seq: u64,
}

/// Width of one expiry slice: a string key is dropped at the end of the slice its expiry
/// falls in, at most this long after it stopped being visible.
const SLICE: Duration = Duration::from_millis(250);
/// Cells per chunk of the string slab (a chunk is allocated whole and never moved).
const CHUNK: usize = 1024;
/// Emptied slice lists kept for reuse.
const SPARE_SLICES: usize = 64;

/// Longest key + value (bytes) kept inside the slab cell itself. A nonce key
/// (`<namespace>:nonce:<client>:<nonce>`, a 32-character nonce) and its `"1"` fit, so a
/// nonce claim allocates nothing that outlives the call: a heap allocation per nonce,
/// living one TTL among the short-lived allocations of every request, pins allocator
/// pages that the allocator cannot give back (RSS that creeps up under a steady rate,
/// most with the threads of an async runtime allocating and freeing). Longer keys go to
/// the heap.
const INLINE: usize = 96;

/// A key followed by its value: in the cell, or (longer than [`INLINE`]) on the heap.
enum KeyValue {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl KeyValue {
    fn new(key: &str, value: &str) -> Self {
        let len = key.len() + value.len();
        match u8::try_from(len) {
            Ok(n) if len <= INLINE => {
                let mut bytes = [0u8; INLINE];
                bytes[..key.len()].copy_from_slice(key.as_bytes());
                bytes[key.len()..len].copy_from_slice(value.as_bytes());
                Self::Inline { len: n, bytes }
            }
            _ => {
                let mut kv = String::with_capacity(len);
                kv.push_str(key);
                kv.push_str(value);
                Self::Heap(kv.into_boxed_str())
            }
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Heap(s) => s.as_bytes(),
        }
    }
}

/// One string key with its value and its expiry.
struct StrSlot {
    hash: u64,
    kv: KeyValue,
    key_len: usize,
    expires: Instant,
}

impl StrSlot {
    fn key_is(&self, key: &str) -> bool {
        self.kv.as_bytes().get(..self.key_len) == Some(key.as_bytes())
    }

    fn value(&self) -> &str {
        // Both halves were copied from `&str`s, so the split point is a char boundary.
        std::str::from_utf8(&self.kv.as_bytes()[self.key_len..]).unwrap_or_default()
    }
}

/// A slab cell: `generation` changes every time the cell is freed, so a slice's
/// reference to an earlier occupant is recognised as stale.
#[derive(Default)]
struct Cell {
    generation: u32,
    slot: Option<StrSlot>,
}

/// The string keys (every one has an expiry: `SET … EX`), laid out so that their memory
/// follows the number of live keys step by step instead of in doublings of one big table:
/// - the entries live in a slab of fixed-size chunks, reused through a free list (a chunk
///   is added only when every cell is taken, and never moved or reallocated);
/// - `index` maps a key's hash to its cell: one word per bucket, so even its doubling
///   costs little, and it is kept at most half full, so the tombstones of removed keys
///   are cleared in place rather than by growing;
/// - `slices` groups cells by expiry time ([`SLICE`] wide); each insert first frees the
///   cells of every slice that has ended, whole slices at a time.
///
/// Under a steady rate of keys of one TTL, the live set, and so every one of these
/// structures, reaches its size within one TTL (plus one slice) and stays there.
struct Strings {
    hasher: std::hash::RandomState,
    index: HashTable<usize>,
    /// A lower bound of the index's full capacity, kept at least twice its length.
    index_room: usize,
    chunks: Vec<Vec<Cell>>,
    free: Vec<usize>,
    slices: BTreeMap<u64, Vec<(usize, u32)>>,
    spare: Vec<Vec<(usize, u32)>>,
    /// Origin of the slice numbers.
    base: Instant,
}

impl Strings {
    fn new(base: Instant) -> Self {
        Self {
            hasher: std::hash::RandomState::new(),
            index: HashTable::new(),
            index_room: 0,
            chunks: Vec::new(),
            free: Vec::new(),
            slices: BTreeMap::new(),
            spare: Vec::new(),
            base,
        }
    }

    fn cell(chunks: &[Vec<Cell>], id: usize) -> &Cell {
        &chunks[id / CHUNK][id % CHUNK]
    }

    fn slot(&self, id: usize) -> Option<&StrSlot> {
        Self::cell(&self.chunks, id).slot.as_ref()
    }

    fn slice_of(&self, at: Instant) -> u64 {
        let n = at.saturating_duration_since(self.base).as_nanos() / SLICE.as_nanos();
        u64::try_from(n).unwrap_or(u64::MAX)
    }

    /// When slice `n` ends: every key in it has expired by then.
    fn slice_end(&self, n: u64) -> Option<Instant> {
        let nanos = u64::try_from(SLICE.as_nanos())
            .ok()?
            .checked_mul(n.checked_add(1)?)?;
        self.base.checked_add(Duration::from_nanos(nanos))
    }

    /// The cell of `key`, expired or not.
    fn find(&self, key: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(key);
        let chunks = &self.chunks;
        self.index
            .find(hash, |&id| {
                Self::cell(chunks, id)
                    .slot
                    .as_ref()
                    .is_some_and(|s| s.key_is(key))
            })
            .copied()
    }

    /// The live value of `key`; an expired one is dropped on the way.
    fn live(&mut self, key: &str, now: Instant) -> Option<&str> {
        let id = self.find(key)?;
        if self.slot(id).is_some_and(|s| s.expires <= now) {
            self.free_cell(id);
            return None;
        }
        self.slot(id).map(StrSlot::value)
    }

    fn free_cell(&mut self, id: usize) {
        let cell = &mut self.chunks[id / CHUNK][id % CHUNK];
        let Some(slot) = cell.slot.take() else {
            return;
        };
        cell.generation = cell.generation.wrapping_add(1);
        if let Ok(entry) = self.index.find_entry(slot.hash, |&i| i == id) {
            entry.remove();
        }
        self.free.push(id);
    }

    fn remove(&mut self, key: &str) {
        if let Some(id) = self.find(key) {
            self.free_cell(id);
        }
    }

    /// Free the cells of every slice that has ended by `now`.
    fn sweep(&mut self, now: Instant) {
        while let Some(&first) = self.slices.keys().next() {
            if self.slice_end(first).is_none_or(|end| end > now) {
                return;
            }
            let Some(mut refs) = self.slices.remove(&first) else {
                return;
            };
            for &(id, generation) in &refs {
                if Self::cell(&self.chunks, id).generation == generation {
                    self.free_cell(id);
                }
            }
            if self.spare.len() < SPARE_SLICES {
                refs.clear();
                self.spare.push(refs);
            }
        }
    }

    /// Insert `key` (which must not be present) after sweeping the ended slices.
    fn insert(&mut self, key: &str, value: &str, expires: Instant, now: Instant) {
        self.sweep(now);
        let hash = self.hasher.hash_one(key);
        let slot = StrSlot {
            hash,
            kv: KeyValue::new(key, value),
            key_len: key.len(),
            expires,
        };
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
                    self.chunks.push(Vec::with_capacity(CHUNK));
                }
                let last = self.chunks.len() - 1;
                self.chunks[last].push(Cell::default());
                last * CHUNK + self.chunks[last].len() - 1
            }
        };
        let cell = &mut self.chunks[id / CHUNK][id % CHUNK];
        cell.slot = Some(slot);
        let generation = cell.generation;
        let chunks = &self.chunks;
        let rehash = |&i: &usize| Self::cell(chunks, i).slot.as_ref().map_or(0, |s| s.hash);
        if self.index.len() + 1 > self.index_room / 2 {
            // Keep the index at most half full: removed keys leave tombstones, and a table
            // over half full clears them by growing (doubling at a steady live count);
            // at most half full it clears them in place.
            let want = 3 * (self.index.len() + 1);
            self.index.reserve(want - self.index.len(), rehash);
            self.index_room = want.max(self.index.capacity());
        }
        self.index.insert_unique(hash, id, rehash);
        let slice = self.slice_of(expires);
        let spare = &mut self.spare;
        self.slices
            .entry(slice)
            .or_insert_with(|| spare.pop().unwrap_or_default())
            .push((id, generation));
    }

    /// `SET key value EX`: replaces any previous value.
    fn set(&mut self, key: &str, value: &str, expires: Instant, now: Instant) {
        self.remove(key);
        self.insert(key, value, expires, now);
    }

    /// Live keys, after a sweep.
    fn live_count(&mut self, now: Instant) -> usize {
        self.sweep(now);
        self.chunks
            .iter()
            .flatten()
            .filter(|c| c.slot.as_ref().is_some_and(|s| s.expires > now))
            .count()
    }

    /// What the structures have allocated: (slab cells, index bytes).
    #[cfg(test)]
    fn footprint(&self) -> (usize, usize) {
        (self.chunks.len() * CHUNK, self.index.allocation_size())
    }
}

/// Everything the memory store holds: hashes and (expiring) strings, each key in one of
/// the two.
struct State {
    hashes: HashMap<String, HashEntry>,
    strs: Strings,
}

impl State {
    fn new(now: Instant) -> Self {
        Self {
            hashes: HashMap::new(),
            strs: Strings::new(now),
        }
    }

    fn hget(&mut self, key: &str, field: &str, now: Instant) -> Result<Option<String>, StoreError> {
        if let Some(h) = self.hashes.get(key) {
            return Ok(h.fields.get(field).map(|(_, v)| v.clone()));
        }
        match self.strs.live(key, now) {
            Some(_) => Err(StoreError::WrongType),
            None => Ok(None),
        }
    }

    fn hset(
        &mut self,
        key: &str,
        field: &str,
        value: &str,
        now: Instant,
    ) -> Result<(), StoreError> {
        if !self.hashes.contains_key(key) && self.strs.live(key, now).is_some() {
            return Err(StoreError::WrongType);
        }
        let h = self.hashes.entry(key.to_owned()).or_default();
        match h.fields.get_mut(field) {
            Some(slot) => slot.1 = value.to_owned(),
            None => {
                h.fields
                    .insert(field.to_owned(), (h.next_seq, value.to_owned()));
                h.next_seq += 1;
            }
        }
        Ok(())
    }

    fn hdel(&mut self, key: &str, field: &str, now: Instant) -> Result<(), StoreError> {
        match self.hashes.get_mut(key) {
            Some(h) => {
                h.fields.remove(field);
                if h.fields.is_empty() {
                    self.hashes.remove(key);
                }
                Ok(())
            }
            None if self.strs.live(key, now).is_some() => Err(StoreError::WrongType),
            None => Ok(()),
        }
    }

    fn hkeys(&mut self, key: &str, now: Instant) -> Result<Vec<String>, StoreError> {
        match self.hashes.get(key) {
            Some(h) => {
                let mut keys: Vec<(&u64, &String)> =
                    h.fields.iter().map(|(k, (seq, _))| (seq, k)).collect();
                keys.sort();
                Ok(keys.into_iter().map(|(_, k)| k.clone()).collect())
            }
            None if self.strs.live(key, now).is_some() => Err(StoreError::WrongType),
            None => Ok(Vec::new()),
        }
    }

    fn get(&mut self, key: &str, now: Instant) -> Result<Option<String>, StoreError> {
        if let Some(v) = self.strs.live(key, now) {
            return Ok(Some(v.to_owned()));
        }
        if self.hashes.contains_key(key) {
            return Err(StoreError::WrongType);
        }
        Ok(None)
    }

    /// `SET key value EX ttl` (replaces a key of any type, as in Redis).
    fn set_ex(&mut self, key: &str, value: &str, ttl: i64, now: Instant) {
        self.hashes.remove(key);
        self.strs.set(key, value, now + ttl_duration(ttl), now);
    }

    /// `SET key value NX EX ttl`.
    fn set_nx(&mut self, key: &str, value: &str, ttl: i64, now: Instant) -> bool {
        if self.hashes.contains_key(key) || self.strs.live(key, now).is_some() {
            return false;
        }
        self.strs.insert(key, value, now + ttl_duration(ttl), now);
        true
    }

    fn del(&mut self, key: &str) {
        self.hashes.remove(key);
        self.strs.remove(key);
    }

    fn hget_and_claim(
        &mut self,
        hash_key: &str,
        field: &str,
        nonce_key: &str,
        ttl: i64,
        now: Instant,
    ) -> Result<RecordAndClaim, StoreError> {
        let record = self.hget(hash_key, field, now)?.filter(|r| !r.is_empty());
        let claimed = record.is_some() && self.set_nx(nonce_key, "1", ttl, now);
        Ok(RecordAndClaim { record, claimed })
    }

    fn len(&mut self, now: Instant) -> usize {
        self.hashes.len() + self.strs.live_count(now)
    }
}

/// The embedded in-memory store: process-local, with Redis' key expiry. A key is
/// invisible from the instant it expires, and its memory is reclaimed at most one
/// [`SLICE`] later, so a steady stream of one-off keys (nonces) holds a fixed amount of
/// memory once one TTL of them has gone by (see `Strings`).
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
pub struct MemoryStore {
    inner: Mutex<State>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            inner: Mutex::new(State::new(Instant::now())),
        }
    }
}

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

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-operation; every
        // operation leaves the state consistent, so keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of live keys (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.lock().len(Instant::now())
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
        self.lock().hget(key, field, Instant::now())
    }

    async fn hset(&self, key: &str, field: &str, value: &str) -> Result<(), StoreError> {
        self.lock().hset(key, field, value, Instant::now())
    }

    async fn hdel(&self, key: &str, field: &str) -> Result<(), StoreError> {
        self.lock().hdel(key, field, Instant::now())
    }

    async fn hkeys(&self, key: &str) -> Result<Vec<String>, StoreError> {
        self.lock().hkeys(key, Instant::now())
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.lock().get(key, Instant::now())
    }

    async fn set_ex(&self, key: &str, value: &str, ttl_seconds: i64) -> Result<(), StoreError> {
        check_ttl(ttl_seconds)?;
        self.lock().set_ex(key, value, ttl_seconds, Instant::now());
        Ok(())
    }

    async fn set_nx_ex(
        &self,
        key: &str,
        value: &str,
        ttl_seconds: i64,
    ) -> Result<bool, StoreError> {
        check_ttl(ttl_seconds)?;
        Ok(self.lock().set_nx(key, value, ttl_seconds, Instant::now()))
    }

    async fn del(&self, key: &str) -> Result<(), StoreError> {
        self.lock().del(key);
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
        self.lock()
            .hget_and_claim(hash_key, field, nonce_key, ttl_seconds, Instant::now())
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

    /// The multiplexed cluster connection (cheap to clone).
    pub fn connection(&self) -> redis::cluster_async::ClusterConnection {
        self.conn.clone()
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

    const SEC: Duration = Duration::from_secs(1);
    const MS: Duration = Duration::from_millis(1);

    /// A nonce key of the usual size (a 32-character nonce under a namespace and client id
    /// of a few dozen characters) is stored inside its slab cell: claiming nonces allocates
    /// nothing per nonce that outlives the call. A longer key goes to the heap with the same
    /// semantics, and a key that ends inside a multi-byte character still reads back whole.
    #[test]
    fn usual_nonce_keys_live_in_the_slab() {
        let t0 = Instant::now();
        let mut st = State::new(t0);
        st.hset("h", "c", "rec", t0).unwrap();
        let usual = format!(
            "orders-api:nonce:{}:{}",
            "c".repeat(24),
            "0123456789abcdef".repeat(2)
        );
        let long = format!("orders-api:nonce:c:{}", "n".repeat(200));
        let accented = format!("ns:nonce:c:{}", "é".repeat(40));
        for key in [&usual, &long, &accented] {
            assert!(st.hget_and_claim("h", "c", key, 2, t0).unwrap().claimed);
            assert!(
                !st.hget_and_claim("h", "c", key, 2, t0 + MS)
                    .unwrap()
                    .claimed
            );
        }
        let stored = |key: &str| {
            let id = st.strs.find(key).expect("stored");
            matches!(st.strs.slot(id).unwrap().kv, KeyValue::Inline { .. })
        };
        assert!(stored(&usual), "{} bytes on the heap", usual.len() + 1);
        assert!(!stored(&long));
        assert!(stored(&accented));
        assert_eq!(st.get(&accented, t0).unwrap().as_deref(), Some("1"));
        st.set_ex(&long, "v", 10, t0);
        assert_eq!(st.get(&long, t0).unwrap().as_deref(), Some("v"));
        let at = t0 + Duration::from_secs(3);
        assert!(st.hget_and_claim("h", "c", &usual, 2, at).unwrap().claimed);
    }

    /// A claimed nonce is refused for exactly its TTL, and can be claimed again from the
    /// instant it expires (clock given explicitly: no sleeping, no timing).
    #[test]
    fn a_nonce_is_refused_for_exactly_its_ttl() {
        let t0 = Instant::now();
        let mut st = State::new(t0);
        st.hset("h", "c", "rec", t0).unwrap();
        let claim = |st: &mut State, at| st.hget_and_claim("h", "c", "n:1", 2, at).unwrap();
        assert!(claim(&mut st, t0).claimed);
        for at in [t0, t0 + SEC, t0 + 2 * SEC - Duration::from_nanos(1)] {
            assert!(!claim(&mut st, at).claimed, "replayed within the TTL");
            assert_eq!(st.get("n:1", at).unwrap().as_deref(), Some("1"));
        }
        // Many other inserts meanwhile (each sweeps): the nonce is not dropped early.
        for i in 0..3000u32 {
            let at = t0 + SEC + MS * (i / 4);
            assert!(st.set_nx(&format!("other:{i}"), "1", 1, at));
            assert!(!claim(&mut st, at).claimed);
        }
        let t1 = t0 + 2 * SEC;
        assert_eq!(st.get("n:1", t1).unwrap(), None, "expired at its TTL");
        assert!(claim(&mut st, t1).claimed, "claimable again once expired");
        assert!(!claim(&mut st, t1 + 2 * SEC - MS).claimed);
        // No claim for an unknown client or an empty record.
        st.hset("h", "empty", "", t1).unwrap();
        for field in ["nobody", "empty"] {
            let r = st.hget_and_claim("h", field, "n:2", 2, t1).unwrap();
            assert_eq!(
                r,
                RecordAndClaim {
                    record: None,
                    claimed: false
                }
            );
        }
        assert_eq!(st.get("n:2", t1).unwrap(), None);
    }

    /// Under a steady rate of one-off keys of one TTL, the live set is exactly the keys of
    /// the last TTL, and the storage (slab cells, index capacity, slice lists) stops growing
    /// once one TTL and one slice have gone by: nothing grows later, however long it runs.
    #[test]
    fn storage_stops_growing_under_a_steady_rate() {
        let t0 = Instant::now();
        let mut st = State::new(t0);
        st.hset("h", "c", "rec", t0).unwrap();
        st.set_ex("backup", "old-hash", 3600, t0);
        let per_ms = 5u32; // 5,000 keys a second, TTL 2 s: 10,000 live
        let mut steady = None;
        let mut n = 0u32;
        for ms in 0..20_000u32 {
            let at = t0 + MS * ms;
            for _ in 0..per_ms {
                let r = st
                    .hget_and_claim("h", "c", &format!("nonce:{n}"), 2, at)
                    .unwrap();
                assert!(r.claimed);
                n += 1;
            }
            if ms % 500 == 499 && ms >= 2_000 {
                assert_eq!(
                    st.strs.live_count(at),
                    10_000 + 1,
                    "at {ms} ms (and the backup)"
                );
            }
            let footprint = (st.strs.footprint(), st.strs.slices.len());
            if ms == 2_500 {
                let (cells, _) = footprint.0;
                // Live keys plus at most one slice of expired ones, rounded to a chunk.
                assert!(cells <= 10_000 + 1_250 + 2 * CHUNK, "{cells} cells");
                steady = Some(footprint);
            } else if let Some(s) = steady {
                assert_eq!(footprint.0, s.0, "storage grew at {ms} ms");
                assert!(footprint.1 <= s.1 + 1, "slices at {ms} ms");
            }
        }
        assert!(steady.is_some());
        // A key of another kind with a long TTL (a credential backup) and the hash itself
        // outlive every sweep.
        let at = t0 + MS * 20_000;
        assert_eq!(st.get("backup", at).unwrap().as_deref(), Some("old-hash"));
        assert_eq!(st.hget("h", "c", at).unwrap().as_deref(), Some("rec"));
    }

    /// The other key kinds keep Redis' semantics: types are exclusive (`WRONGTYPE`), `SET`
    /// replaces any type, `DEL` removes either, `HKEYS` keeps insertion order.
    #[test]
    fn key_kinds_keep_their_semantics() {
        let t0 = Instant::now();
        let mut st = State::new(t0);
        st.hset("h", "b", "2", t0).unwrap();
        st.hset("h", "a", "1", t0).unwrap();
        st.hset("h", "b", "3", t0).unwrap();
        assert_eq!(st.hkeys("h", t0).unwrap(), ["b", "a"]);
        assert_eq!(st.hget("h", "b", t0).unwrap().as_deref(), Some("3"));
        assert_eq!(st.get("h", t0), Err(StoreError::WrongType));
        assert!(!st.set_nx("h", "x", 5, t0), "NX on a hash key");
        st.set_ex("s", "v", 5, t0);
        assert_eq!(st.hget("s", "f", t0), Err(StoreError::WrongType));
        assert_eq!(st.hset("s", "f", "v", t0), Err(StoreError::WrongType));
        assert_eq!(st.hdel("s", "f", t0), Err(StoreError::WrongType));
        assert_eq!(st.hkeys("s", t0), Err(StoreError::WrongType));
        // Once the string has expired the key is free for a hash.
        let t5 = t0 + 5 * SEC;
        assert_eq!(st.hkeys("s", t5).unwrap(), Vec::<String>::new());
        st.hset("s", "f", "v", t5).unwrap();
        // SET replaces a hash; overwriting keeps the newest value and TTL.
        st.set_ex("h", "str", 1, t5);
        assert_eq!(st.hget("h", "a", t5), Err(StoreError::WrongType));
        st.set_ex("h", "longer", 60, t5);
        assert_eq!(
            st.get("h", t5 + 30 * SEC).unwrap().as_deref(),
            Some("longer")
        );
        st.hdel("s", "f", t5).unwrap();
        assert_eq!(st.len(t5), 1, "an emptied hash is gone");
        st.del("h");
        assert_eq!(st.get("h", t5).unwrap(), None);
        assert_eq!(st.len(t5), 0);
        assert!(st.set_nx("h", "again", 1, t5));
    }

    /// Through the async trait and the real clock: claims, a release (`DEL`) and `len`.
    #[tokio::test]
    async fn memory_store_claims_and_releases() {
        let store = MemoryStore::new();
        store.hset("h", "c", "rec").await.unwrap();
        let r = store.hget_and_claim("h", "c", "n", 60).await.unwrap();
        assert!(r.claimed);
        assert!(
            !store
                .hget_and_claim("h", "c", "n", 60)
                .await
                .unwrap()
                .claimed
        );
        store.del("n").await.unwrap();
        assert!(
            store
                .hget_and_claim("h", "c", "n", 60)
                .await
                .unwrap()
                .claimed
        );
        assert!(store.set_nx_ex("k", "v", 0).await.is_err());
        assert_eq!(store.len(), 2);
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
