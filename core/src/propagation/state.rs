//! The Redis state of propagation (spec §3.6): the receiver's cursor and the sender's ack
//! store, with the original's keys, field names, string encodings and 7-day TTL, so a
//! Node and a Rust build of the same peer can take over each other's Redis.
//!
//! The logic ([`PropagationStore`]) is written once over [`RedisOps`], the nine commands
//! of the original's `PropagationRedisClient`; the writes of one step go out as one
//! [`RedisOps::write_batch`] (one `MULTI` round trip with the `redis` crate, one host call
//! in a binding: the original's commands in its order, plus the outstanding hash below).
//! The operations come from the `redis` crate ([`RedisOps`] for
//! [`redis::aio::ConnectionManager`]), from memory ([`MemoryOps`]), or from a binding (a
//! node-redis client object).
//!
//! One addition to the layout: `propagation:client-outstanding:<clientId>`, a hash
//! target → eventId of the event last recorded for that target (same TTL). Recording a
//! new event for a target first retires the older one, so there is one outstanding event
//! per (client, target): an event whose publish failed keeps the credential incomplete
//! until the retry replaces it, and a late ACK of a superseded event is "unknown".
//! Two more, for the protocol repairs the model in `models/propagation` checks:
//! `propagation:client-last-ts:<clientId>` (hash, field `ts`, no TTL): the `ts` of the last
//! event the sender stamped for the client, so the next one is strictly newer even in the
//! same millisecond or after the clock stepped back; and `propagation:lock:<track>:<clientId>`
//! (a string with a 30 s lease): the receiver's cursor lock, held across cursor check,
//! apply and cursor write (`SET NX PX`, released by a compare-and-delete Lua script; with a
//! host client object without those commands, and in memory, a lock in this process).
//! Keys sit at the Redis root like the original's; [`PropagationStore::with_prefix`] adds
//! a prefix for peers that share one database (default none: the v1 layout).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::wire::Cursor;
use crate::js::{number_to_string, string_to_number};
use crate::store::StoreError;
#[cfg(feature = "redis")]
use crate::store::map_redis_err;

/// TTL of the ack-store keys: 604800 s (7 days).
pub const ACK_TTL_SECONDS: i64 = 604_800;

/// `propagation:ack:<eventId>`: one published, not yet acknowledged event.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedEvent {
    /// The credential's client id.
    pub client_id: String,
    /// The target peer's queue.
    pub target_amqp_queue: String,
    /// Publish attempts so far.
    pub attempt_count: f64,
    /// Last publish time, epoch milliseconds.
    pub sent_at: f64,
}

/// Lease of the receiver's cursor lock in Redis: a holder that stops answering loses it
/// after this long.
pub const CURSOR_LOCK_LEASE_MS: u64 = 30_000;
/// How long a receiver waits for the cursor lock before it gives up (the delivery is then
/// requeued).
const CURSOR_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Per-key async locks in this process (an entry lives while someone holds or waits for it).
#[derive(Default)]
pub struct KeyedLocks {
    map: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl std::fmt::Debug for KeyedLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedLocks").finish_non_exhaustive()
    }
}

/// A held [`KeyedLocks`] entry; released on drop.
pub struct KeyedGuard {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    key: String,
    map: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl std::fmt::Debug for KeyedGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedGuard")
            .field("key", &self.key)
            .finish()
    }
}

impl KeyedLocks {
    /// Waits for the lock of `key`.
    pub async fn lock(&self, key: &str) -> KeyedGuard {
        let m = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_owned())
            .or_default()
            .clone();
        KeyedGuard {
            guard: Some(m.lock_owned().await),
            key: key.to_owned(),
            map: self.map.clone(),
        }
    }

    /// The lock of `key` when nobody holds it; `None` otherwise (without waiting).
    pub fn try_lock(&self, key: &str) -> Option<KeyedGuard> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        // On failure the entry's clone is dropped here, under the map's lock: the holder
        // still removes the entry when it is done.
        let guard = map
            .entry(key.to_owned())
            .or_default()
            .clone()
            .try_lock_owned()
            .ok()?;
        Some(KeyedGuard {
            guard: Some(guard),
            key: key.to_owned(),
            map: self.map.clone(),
        })
    }
}

impl Drop for KeyedGuard {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map
            .get(&self.key)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            map.remove(&self.key);
        }
    }
}

/// The receiver's lock of one (track, clientId) cursor, from [`PropagationState::lock_cursor`].
#[derive(Debug)]
pub struct CursorLock {
    key: String,
    token: String,
    _local: KeyedGuard,
}

/// The cursor and ack-store operations (`cursor.ts`, `ack-store.ts`).
#[async_trait]
pub trait PropagationState: Send + Sync + 'static {
    /// `readCursor`: `None` when absent, when `ts` is not a finite number or `eventId` is empty.
    async fn read_cursor(&self, track: &str, client_id: &str)
    -> Result<Option<Cursor>, StoreError>;
    /// `writeCursor`: `HSET {ts: String(ts), eventId}`, no TTL.
    async fn write_cursor(
        &self,
        track: &str,
        client_id: &str,
        cursor: &Cursor,
    ) -> Result<(), StoreError>;
    /// `recordPublishedEvent`: the ack record (TTL 7 days) and the eventId in the client's
    /// pending set (TTL refreshed), after retiring the older outstanding event of the same
    /// target, if any.
    async fn record_published_event(
        &self,
        event_id: &str,
        rec: &PublishedEvent,
    ) -> Result<(), StoreError>;
    /// [`Self::record_published_event`] for several events of one client, given the
    /// client's outstanding events as [`Self::outstanding_events`] read them under the
    /// same client lock. The default records them one by one; on Redis the writes of all
    /// of them go out as one batch with the same end state: the ack records first (an
    /// event replaced by a later one of its target in the same batch is not written), then
    /// the client's keys, each with one `HSET` (all its fields) and one `EXPIRE` (one
    /// `SADD` per event in the pending set).
    async fn record_published_events(
        &self,
        outstanding: &HashMap<String, String>,
        events: &[(String, PublishedEvent)],
    ) -> Result<(), StoreError> {
        let _ = outstanding;
        for (event_id, rec) in events {
            self.record_published_event(event_id, rec).await?;
        }
        Ok(())
    }
    /// `readPublishedEvent`: `None` when absent or malformed.
    async fn read_published_event(
        &self,
        event_id: &str,
    ) -> Result<Option<PublishedEvent>, StoreError>;
    /// `recordTargetResult`: the target's result in the client's results hash (TTL
    /// refreshed), the eventId out of the pending set, the ack record deleted.
    async fn record_target_result(
        &self,
        client_id: &str,
        target: &str,
        result: &str,
        event_id: &str,
    ) -> Result<(), StoreError>;
    /// [`Self::record_target_result`], then [`Self::clear_client_aggregates`] when `clear`,
    /// given the client's outstanding events as [`Self::outstanding_events`] read them
    /// under the same client lock. The default makes the two steps; on Redis their writes
    /// go out as one batch, with the same end state.
    async fn record_target_result_and_clear(
        &self,
        client_id: &str,
        target: &str,
        result: &str,
        event_id: &str,
        outstanding: &HashMap<String, String>,
        clear: bool,
    ) -> Result<(), StoreError> {
        let _ = outstanding;
        self.record_target_result(client_id, target, result, event_id)
            .await?;
        if clear {
            self.clear_client_aggregates(client_id).await?;
        }
        Ok(())
    }
    /// `pendingCountForClient` (`SCARD`).
    async fn pending_count(&self, client_id: &str) -> Result<u64, StoreError>;
    /// `readClientResults` (`HGETALL`, `{}` when absent).
    async fn read_client_results(
        &self,
        client_id: &str,
    ) -> Result<BTreeMap<String, String>, StoreError>;
    /// `clearClientAggregates`: delete the pending set and the results hash.
    async fn clear_client_aggregates(&self, client_id: &str) -> Result<(), StoreError>;
    /// Takes the lock of the (track, clientId) cursor: the receiver holds it across cursor
    /// check, apply and cursor write, so two consumers of one queue cannot interleave them
    /// (the older event applied last would roll the credential back).
    async fn lock_cursor(&self, track: &str, client_id: &str) -> Result<CursorLock, StoreError>;
    /// Releases a lock from [`PropagationState::lock_cursor`].
    async fn unlock_cursor(&self, lock: CursorLock) -> Result<(), StoreError>;
    /// [`PropagationState::lock_cursor`], then [`PropagationState::read_cursor`] under the
    /// lock (on Redis, the lock and the read go out in one round trip).
    async fn lock_and_read_cursor(
        &self,
        track: &str,
        client_id: &str,
    ) -> Result<(CursorLock, Option<Cursor>), StoreError> {
        let lock = self.lock_cursor(track, client_id).await?;
        match self.read_cursor(track, client_id).await {
            Ok(cursor) => Ok((lock, cursor)),
            Err(e) => {
                let _ = self.unlock_cursor(lock).await;
                Err(e)
            }
        }
    }
    /// [`PropagationState::write_cursor`] (when `cursor` is given), then
    /// [`PropagationState::unlock_cursor`], which runs even when the write failed (on
    /// Redis, both go out in one round trip). The write's error comes first.
    async fn write_cursor_and_unlock(
        &self,
        lock: CursorLock,
        track: &str,
        client_id: &str,
        cursor: Option<&Cursor>,
    ) -> Result<(), StoreError> {
        let written = match cursor {
            Some(c) => self.write_cursor(track, client_id, c).await,
            None => Ok(()),
        };
        let released = self.unlock_cursor(lock).await;
        written.and(released)
    }
    /// The `ts` of the last event recorded for the client (`None`: none yet).
    async fn last_event_ts(&self, client_id: &str) -> Result<Option<i64>, StoreError>;
    /// Forgets the outstanding events of the client (of `targets` only, when given): their
    /// ack records, their pending-set entries and their outstanding slots. A late ACK of
    /// one of them is then "unknown". Called by `ensure`/`rotate`/`revoke`, which reset
    /// those targets to `pending`.
    async fn retire_events(
        &self,
        client_id: &str,
        targets: Option<&[String]>,
    ) -> Result<(), StoreError> {
        let current = self.outstanding_events(client_id).await?;
        self.retire_outstanding(client_id, current, targets).await
    }
    /// The client's outstanding events, target → eventId: the read half of
    /// [`PropagationState::retire_events`] (one round trip), so a caller can overlap it
    /// with other reads while it holds the client lock.
    async fn outstanding_events(
        &self,
        client_id: &str,
    ) -> Result<HashMap<String, String>, StoreError>;
    /// The key of the client's outstanding-events hash when the host's own Redis client
    /// object reaches this state (the state goes through it, or a probe showed a native
    /// connection names the same server and database): the host may then make
    /// [`Self::outstanding_events`]'s one `HGETALL` of that key itself, next to its own
    /// commands (on node-redis, in the same write as `clients.get`), instead of a call into
    /// the host or a wake-up of a runtime thread for it. `None` (the default, and for a
    /// state the host cannot reach): only the state reads it.
    fn outstanding_key_for_host(&self, client_id: &str) -> Option<String> {
        let _ = client_id;
        None
    }
    /// The write half of [`PropagationState::retire_events`], given what
    /// [`PropagationState::outstanding_events`] read under the same client lock.
    async fn retire_outstanding(
        &self,
        client_id: &str,
        current: HashMap<String, String>,
        targets: Option<&[String]>,
    ) -> Result<(), StoreError>;
}

/// One write command of a [`RedisOps::write_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// `HSET key field value …`.
    HSet {
        /// The hash.
        key: String,
        /// `(field, value)` pairs.
        fields: Vec<(String, String)>,
    },
    /// `HDEL key field`.
    HDel {
        /// The hash.
        key: String,
        /// The field.
        field: String,
    },
    /// `SADD key member`.
    SAdd {
        /// The set.
        key: String,
        /// The member.
        member: String,
    },
    /// `SREM key member`.
    SRem {
        /// The set.
        key: String,
        /// The member.
        member: String,
    },
    /// `EXPIRE key seconds`.
    Expire {
        /// The key.
        key: String,
        /// Time to live, in seconds.
        seconds: i64,
    },
    /// `DEL key`.
    Del {
        /// The key.
        key: String,
    },
}

/// The commands of the original's `PropagationRedisClient` (node-redis v4 camelCase).
#[async_trait]
pub trait RedisOps: Send + Sync + 'static {
    /// Runs `writes` in order. The default issues them one by one (the original's
    /// sequences); an implementation may send them in one round trip (the `redis` crate:
    /// one `MULTI` pipeline; a binding: one call into its host, which runs them in order).
    async fn write_batch(&self, writes: &[Write]) -> Result<(), StoreError> {
        for w in writes {
            match w {
                Write::HSet { key, fields } => {
                    let f: Vec<(&str, &str)> = fields
                        .iter()
                        .map(|(a, b)| (a.as_str(), b.as_str()))
                        .collect();
                    self.h_set(key, &f).await?
                }
                Write::HDel { key, field } => self.h_del(key, field).await?,
                Write::SAdd { key, member } => self.s_add(key, member).await?,
                Write::SRem { key, member } => self.s_rem(key, member).await?,
                Write::Expire { key, seconds } => self.expire(key, *seconds).await?,
                Write::Del { key } => self.del(key).await?,
            }
        }
        Ok(())
    }
    /// `SET key token NX PX ttl_ms`: whether the lock was taken. The default (a host client
    /// object without `SET`) takes nothing here and answers `true`: only the lock in this
    /// process applies.
    async fn lock_acquire(&self, key: &str, token: &str, ttl_ms: u64) -> Result<bool, StoreError> {
        let _ = (key, token, ttl_ms);
        Ok(true)
    }
    /// Deletes `key` if it still holds `token` (a Lua compare-and-delete on Redis).
    async fn lock_release(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let _ = (key, token);
        Ok(())
    }
    /// [`RedisOps::lock_acquire`], then (when taken) `HGETALL hash_key`: `None` when the
    /// lock was not taken. An implementation may send both in one round trip (the read is
    /// then ignored when the lock was not taken).
    async fn lock_acquire_and_read(
        &self,
        key: &str,
        token: &str,
        ttl_ms: u64,
        hash_key: &str,
    ) -> Result<Option<HashMap<String, String>>, StoreError> {
        if !self.lock_acquire(key, token, ttl_ms).await? {
            return Ok(None);
        }
        self.h_get_all(hash_key).await.map(Some)
    }
    /// `HSET hash_key fields` (when given), then [`RedisOps::lock_release`] even when the
    /// write failed; an implementation may send both in one round trip.
    async fn write_and_release(
        &self,
        hash_key: &str,
        fields: Option<&[(&str, &str)]>,
        key: &str,
        token: &str,
    ) -> Result<(), StoreError> {
        let written = match fields {
            Some(f) => self.h_set(hash_key, f).await,
            None => Ok(()),
        };
        let released = self.lock_release(key, token).await;
        written.and(released)
    }
    /// `HGET key field`.
    async fn h_get(&self, key: &str, field: &str) -> Result<Option<String>, StoreError>;
    /// `HSET key field value …`.
    async fn h_set(&self, key: &str, fields: &[(&str, &str)]) -> Result<(), StoreError>;
    /// `HGETALL key`.
    async fn h_get_all(&self, key: &str) -> Result<HashMap<String, String>, StoreError>;
    /// `HDEL key field`.
    async fn h_del(&self, key: &str, field: &str) -> Result<(), StoreError>;
    /// `SADD key member`.
    async fn s_add(&self, key: &str, member: &str) -> Result<(), StoreError>;
    /// `SREM key member`.
    async fn s_rem(&self, key: &str, member: &str) -> Result<(), StoreError>;
    /// `SCARD key`.
    async fn s_card(&self, key: &str) -> Result<u64, StoreError>;
    /// `EXPIRE key seconds`.
    async fn expire(&self, key: &str, seconds: i64) -> Result<(), StoreError>;
    /// `DEL key`.
    async fn del(&self, key: &str) -> Result<(), StoreError>;
}

/// A shared host client (e.g. a binding's object behind `Arc`): every command, including
/// the overridable batch and lock steps, goes to the inner implementation.
#[async_trait]
impl RedisOps for Arc<dyn RedisOps> {
    async fn write_batch(&self, writes: &[Write]) -> Result<(), StoreError> {
        (**self).write_batch(writes).await
    }
    async fn lock_acquire(&self, key: &str, token: &str, ttl_ms: u64) -> Result<bool, StoreError> {
        (**self).lock_acquire(key, token, ttl_ms).await
    }
    async fn lock_release(&self, key: &str, token: &str) -> Result<(), StoreError> {
        (**self).lock_release(key, token).await
    }
    async fn lock_acquire_and_read(
        &self,
        key: &str,
        token: &str,
        ttl_ms: u64,
        hash_key: &str,
    ) -> Result<Option<HashMap<String, String>>, StoreError> {
        (**self)
            .lock_acquire_and_read(key, token, ttl_ms, hash_key)
            .await
    }
    async fn write_and_release(
        &self,
        hash_key: &str,
        fields: Option<&[(&str, &str)]>,
        key: &str,
        token: &str,
    ) -> Result<(), StoreError> {
        (**self)
            .write_and_release(hash_key, fields, key, token)
            .await
    }
    async fn h_get(&self, key: &str, field: &str) -> Result<Option<String>, StoreError> {
        (**self).h_get(key, field).await
    }
    async fn h_set(&self, key: &str, fields: &[(&str, &str)]) -> Result<(), StoreError> {
        (**self).h_set(key, fields).await
    }
    async fn h_get_all(&self, key: &str) -> Result<HashMap<String, String>, StoreError> {
        (**self).h_get_all(key).await
    }
    async fn h_del(&self, key: &str, field: &str) -> Result<(), StoreError> {
        (**self).h_del(key, field).await
    }
    async fn s_add(&self, key: &str, member: &str) -> Result<(), StoreError> {
        (**self).s_add(key, member).await
    }
    async fn s_rem(&self, key: &str, member: &str) -> Result<(), StoreError> {
        (**self).s_rem(key, member).await
    }
    async fn s_card(&self, key: &str) -> Result<u64, StoreError> {
        (**self).s_card(key).await
    }
    async fn expire(&self, key: &str, seconds: i64) -> Result<(), StoreError> {
        (**self).expire(key, seconds).await
    }
    async fn del(&self, key: &str) -> Result<(), StoreError> {
        (**self).del(key).await
    }
}

/// Key names, with an optional prefix (empty: the v1 layout at the Redis root).
///
/// The cluster layout ([`StateKeys::cluster`], used for `redis+cluster://` URLs only) wraps
/// the client part of each key in a hash tag so that the keys written or read together
/// share a slot: `propagation:last-seen:{<track>:<clientId>}` and
/// `propagation:lock:{<track>:<clientId>}` (the cursor and its lock, one pipeline), and
/// `propagation:client-{pending,results,outstanding,last-ts}:{<clientId>}` (one client's
/// ack bookkeeping). `propagation:ack:<eventId>` is unchanged: an ACK names only the
/// event, so that key has a slot of its own. A single server keeps the v1 layout, byte for
/// byte.
#[derive(Debug, Clone, Default)]
pub struct StateKeys {
    prefix: String,
    cluster: bool,
}

impl StateKeys {
    /// The keys under `prefix` (empty: the v1 layout), one-server layout.
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            cluster: false,
        }
    }
    /// The cluster layout (hash tags) under `prefix`.
    pub fn cluster(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            cluster: true,
        }
    }
    /// `<part>` on one server, `{<part>}` (a hash tag) in the cluster layout.
    fn tag(&self, part: &str) -> String {
        if self.cluster {
            format!("{{{part}}}")
        } else {
            part.to_owned()
        }
    }
    /// `propagation:last-seen:<track>:<clientId>`: a receiver's cursor hash.
    pub fn cursor(&self, track: &str, client_id: &str) -> String {
        let t = self.tag(&format!("{track}:{client_id}"));
        format!("{}propagation:last-seen:{t}", self.prefix)
    }
    /// `propagation:ack:<eventId>`: a published, unacknowledged event.
    pub fn ack(&self, event_id: &str) -> String {
        format!("{}propagation:ack:{event_id}", self.prefix)
    }
    /// `propagation:client-pending:<clientId>`: the client's unacknowledged event ids.
    pub fn pending(&self, client_id: &str) -> String {
        format!(
            "{}propagation:client-pending:{}",
            self.prefix,
            self.tag(client_id)
        )
    }
    /// `propagation:client-results:<clientId>`: per-target results.
    pub fn results(&self, client_id: &str) -> String {
        format!(
            "{}propagation:client-results:{}",
            self.prefix,
            self.tag(client_id)
        )
    }
    /// `propagation:client-outstanding:<clientId>`: targets still to reach.
    pub fn outstanding(&self, client_id: &str) -> String {
        format!(
            "{}propagation:client-outstanding:{}",
            self.prefix,
            self.tag(client_id)
        )
    }
    /// `propagation:client-last-ts:<clientId>`: the last event's timestamp.
    pub fn last_ts(&self, client_id: &str) -> String {
        format!(
            "{}propagation:client-last-ts:{}",
            self.prefix,
            self.tag(client_id)
        )
    }
    /// `propagation:lock:<track>:<clientId>`: the cursor lock.
    pub fn cursor_lock(&self, track: &str, client_id: &str) -> String {
        let t = self.tag(&format!("{track}:{client_id}"));
        format!("{}propagation:lock:{t}", self.prefix)
    }
}

/// The part of `key` Redis Cluster hashes: the content of the first `{…}` when it is not
/// empty, else the whole key.
pub fn hash_slot_part(key: &str) -> &str {
    if let Some(open) = key.find('{')
        && let Some(len) = key[open + 1..].find('}')
        && len > 0
    {
        return &key[open + 1..open + 1 + len];
    }
    key
}

/// The state over any [`RedisOps`].
pub struct PropagationStore<O> {
    ops: O,
    keys: StateKeys,
    locks: KeyedLocks,
    /// The host's Redis client reaches this state ([`Self::host_readable`]).
    host_readable: bool,
}

impl<O> std::fmt::Debug for PropagationStore<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PropagationStore")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl<O: RedisOps> PropagationStore<O> {
    /// A state over `ops`, keys at the Redis root.
    pub fn new(ops: O) -> Self {
        Self {
            ops,
            keys: StateKeys::default(),
            locks: KeyedLocks::default(),
            host_readable: false,
        }
    }

    /// Says that the host's own Redis client object reaches this state (its ops go through
    /// that client, or a probe showed that the client names the same server and database):
    /// see [`PropagationState::outstanding_key_for_host`].
    pub fn host_readable(mut self) -> Self {
        self.host_readable = true;
        self
    }

    /// Puts every key under `prefix` (e.g. `peer-a:`).
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.keys = if self.keys.cluster {
            StateKeys::cluster(prefix)
        } else {
            StateKeys::new(prefix)
        };
        self
    }

    /// The cluster key layout (see [`StateKeys`]); the prefix is kept.
    pub fn with_cluster_layout(mut self) -> Self {
        self.keys = StateKeys::cluster(&self.keys.prefix);
        self
    }
}

impl<O: RedisOps> PropagationStore<O> {
    /// The writes of an event's ack record: `HSET` of its four fields, then `EXPIRE`.
    fn ack_record(&self, event_id: &str, rec: &PublishedEvent) -> [Write; 2] {
        let ack = self.keys.ack(event_id);
        let fields = [
            ("clientId", rec.client_id.clone()),
            ("targetAmqpQueue", rec.target_amqp_queue.clone()),
            ("attemptCount", number_to_string(rec.attempt_count)),
            ("sentAt", number_to_string(rec.sent_at)),
        ];
        [
            Write::HSet {
                key: ack.clone(),
                fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            },
            Write::Expire {
                key: ack,
                seconds: ACK_TTL_SECONDS,
            },
        ]
    }

    /// Takes the cursor lock (in this process, then in Redis), reading the cursor hash in
    /// the same round trip when `read`.
    async fn acquire_cursor(
        &self,
        track: &str,
        client_id: &str,
        read: bool,
    ) -> Result<(CursorLock, Option<HashMap<String, String>>), StoreError> {
        let key = self.keys.cursor_lock(track, client_id);
        let local = self.locks.lock(&key).await;
        let token = super::wire::random_uuid().map_err(|e| StoreError::Command(e.to_string()))?;
        let deadline = Instant::now() + CURSOR_LOCK_WAIT;
        let mut pause = Duration::from_millis(5);
        let cursor_key = self.keys.cursor(track, client_id);
        loop {
            let taken = if read {
                self.ops
                    .lock_acquire_and_read(&key, &token, CURSOR_LOCK_LEASE_MS, &cursor_key)
                    .await?
                    .map(Some)
            } else {
                self.ops
                    .lock_acquire(&key, &token, CURSOR_LOCK_LEASE_MS)
                    .await?
                    .then_some(None)
            };
            if let Some(hash) = taken {
                let lock = CursorLock {
                    key,
                    token,
                    _local: local,
                };
                return Ok((lock, hash));
            }
            if Instant::now() >= deadline {
                return Err(StoreError::Command(format!("cursor lock {key} is busy")));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}

/// `readCursor`'s decoding: `None` when a field is missing, `ts` is not a finite number or
/// `eventId` is empty.
fn cursor_of(h: &HashMap<String, String>) -> Option<Cursor> {
    let (Some(ts), Some(event_id)) = (h.get("ts"), h.get("eventId")) else {
        return None;
    };
    let ts = string_to_number(ts);
    (ts.is_finite() && !event_id.is_empty()).then(|| Cursor {
        ts,
        event_id: event_id.clone(),
    })
}

#[cfg(feature = "redis")]
/// The state in Redis through the `redis` crate.
pub type RedisPropagationState = PropagationStore<redis::aio::ConnectionManager>;
/// The embedded default: the same state in this process, with the same TTLs.
pub type MemoryPropagationState = PropagationStore<MemoryOps>;

#[cfg(feature = "redis")]
impl RedisPropagationState {
    /// Connects to `url` (`redis://`, `rediss://`, `unix://`) with the settings of
    /// [`crate::store::RedisStore::connect`] (fails fast when the server does not answer).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Ok(Self::new(
            crate::store::RedisStore::connect(url).await?.connection(),
        ))
    }
}

#[cfg(feature = "redis")]
/// The state on a Redis Cluster, in the cluster key layout ([`StateKeys`]).
pub type RedisClusterPropagationState = PropagationStore<ClusterOps>;

#[cfg(feature = "redis")]
impl RedisClusterPropagationState {
    /// Connects to the cluster of a `redis+cluster://` / `rediss+cluster://` URL (seed
    /// nodes, with the settings of [`crate::store::RedisClusterStore::connect`]).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let conn = crate::store::RedisClusterStore::connect(url)
            .await?
            .connection();
        Ok(Self::new(ClusterOps { conn }).with_cluster_layout())
    }
}

/// The state a URL names: `memory://` (this process), Redis (`redis://`, `rediss://`,
/// `unix://`, with the settings of [`crate::store::RedisStore::connect`]) or a Redis
/// Cluster (`redis+cluster://`, `rediss+cluster://`: the cluster key layout); any other
/// text is `INVALID_OPTIONS` ([`super::config::unsupported_redis_url`]), for every binding.
pub async fn open_state(
    url: &str,
) -> Result<std::sync::Arc<dyn PropagationState>, super::propagator::PropagationError> {
    use crate::store::StoreUrl;
    Ok(match StoreUrl::parse(url) {
        Some(StoreUrl::Memory) => std::sync::Arc::new(MemoryPropagationState::default()),
        #[cfg(feature = "redis")]
        Some(StoreUrl::Redis) => std::sync::Arc::new(RedisPropagationState::connect(url).await?),
        #[cfg(feature = "redis")]
        Some(StoreUrl::Cluster) => {
            std::sync::Arc::new(RedisClusterPropagationState::connect(url).await?)
        }
        #[cfg(not(feature = "redis"))]
        Some(StoreUrl::Redis | StoreUrl::Cluster) => {
            return Err(super::propagator::PropagationError::InvalidOptions(
                "a redis:// state needs the redis feature of authcore".into(),
            ));
        }
        None => {
            return Err(super::config::unsupported_redis_url(url));
        }
    })
}

#[cfg(feature = "redis")]
/// A Redis state at `url` (`redis://`, `rediss://`), only if that Redis already holds
/// `value` in field `field` of hash `key`: how a binding confirms that a URL it derived
/// from a host client object names the same server and database as the client (which
/// just wrote the probe) before bypassing it. `None` on any failure or mismatch.
pub async fn open_state_if_holds(
    url: &str,
    key: &str,
    field: &str,
    value: &str,
) -> Option<std::sync::Arc<dyn PropagationState>> {
    let conn = crate::store::RedisStore::connect(url)
        .await
        .ok()?
        .connection();
    let seen = conn.h_get(key, field).await.ok()??;
    (seen == value).then(|| {
        // The host's client reaches this very state (the probe shows it): the host may
        // send its reads next to its own commands.
        std::sync::Arc::new(RedisPropagationState::new(conn).host_readable())
            as std::sync::Arc<dyn PropagationState>
    })
}

impl Default for MemoryPropagationState {
    fn default() -> Self {
        Self::new(MemoryOps::default())
    }
}

#[async_trait]
impl<O: RedisOps> PropagationState for PropagationStore<O> {
    async fn read_cursor(
        &self,
        track: &str,
        client_id: &str,
    ) -> Result<Option<Cursor>, StoreError> {
        let h = self
            .ops
            .h_get_all(&self.keys.cursor(track, client_id))
            .await?;
        Ok(cursor_of(&h))
    }

    async fn write_cursor(
        &self,
        track: &str,
        client_id: &str,
        cursor: &Cursor,
    ) -> Result<(), StoreError> {
        let ts = number_to_string(cursor.ts);
        self.ops
            .h_set(
                &self.keys.cursor(track, client_id),
                &[("ts", &ts), ("eventId", &cursor.event_id)],
            )
            .await
    }

    async fn record_published_event(
        &self,
        event_id: &str,
        rec: &PublishedEvent,
    ) -> Result<(), StoreError> {
        let outstanding = self.keys.outstanding(&rec.client_id);
        let pending = self.keys.pending(&rec.client_id);
        let target = rec.target_amqp_queue.as_str();
        let mut writes = Vec::with_capacity(8);
        if let Some(old) = self.ops.h_get(&outstanding, target).await?
            && old != event_id
        {
            writes.push(Write::Del {
                key: self.keys.ack(&old),
            });
            writes.push(Write::SRem {
                key: pending.clone(),
                member: old,
            });
        }
        writes.extend(self.ack_record(event_id, rec));
        writes.extend([
            Write::SAdd {
                key: pending.clone(),
                member: event_id.to_owned(),
            },
            Write::Expire {
                key: pending,
                seconds: ACK_TTL_SECONDS,
            },
            Write::HSet {
                key: outstanding.clone(),
                fields: vec![(target.to_owned(), event_id.to_owned())],
            },
            Write::Expire {
                key: outstanding,
                seconds: ACK_TTL_SECONDS,
            },
            Write::HSet {
                key: self.keys.last_ts(&rec.client_id),
                fields: vec![("ts".to_owned(), number_to_string(rec.sent_at))],
            },
        ]);
        self.ops.write_batch(&writes).await
    }

    async fn record_published_events(
        &self,
        outstanding: &HashMap<String, String>,
        events: &[(String, PublishedEvent)],
    ) -> Result<(), StoreError> {
        // The end state of `record_published_event` for each event in turn, with one write
        // per key: the ack records first (on a cluster, every ack record is written before
        // the client's keys name it, as for one event), then one HSET and one EXPIRE of
        // each of the client's keys. Event ids are distinct (random UUIDs).
        let Some((_, last)) = events.last() else {
            return Ok(());
        };
        let client_id = last.client_id.as_str();
        debug_assert!(events.iter().all(|(_, rec)| rec.client_id == client_id));
        // Each event retires the previous one of its target: one recorded before this batch
        // is deleted, one of this batch is not written at all. `live` keeps the rest, each
        // the last event of its target, in their order.
        let mut current = outstanding.clone();
        let mut live: Vec<(&str, &PublishedEvent)> = Vec::with_capacity(events.len());
        let mut retired = Vec::new();
        for (event_id, rec) in events {
            if let Some(old) = current.insert(rec.target_amqp_queue.clone(), event_id.clone())
                && old != *event_id
            {
                match live.iter().position(|(id, _)| *id == old) {
                    Some(i) => {
                        live.remove(i);
                    }
                    None => retired.push(old),
                }
            }
            live.push((event_id, rec));
        }
        let pending = self.keys.pending(client_id);
        let out = self.keys.outstanding(client_id);
        let mut writes = Vec::with_capacity(2 * retired.len() + 3 * live.len() + 5);
        writes.extend(retired.iter().map(|old| Write::Del {
            key: self.keys.ack(old),
        }));
        for (event_id, rec) in &live {
            writes.extend(self.ack_record(event_id, rec));
        }
        writes.extend(retired.into_iter().map(|old| Write::SRem {
            key: pending.clone(),
            member: old,
        }));
        writes.extend(live.iter().map(|(event_id, _)| Write::SAdd {
            key: pending.clone(),
            member: (*event_id).to_owned(),
        }));
        writes.extend([
            Write::Expire {
                key: pending,
                seconds: ACK_TTL_SECONDS,
            },
            Write::HSet {
                key: out.clone(),
                fields: live
                    .iter()
                    .map(|(event_id, rec)| (rec.target_amqp_queue.clone(), (*event_id).to_owned()))
                    .collect(),
            },
            Write::Expire {
                key: out,
                seconds: ACK_TTL_SECONDS,
            },
            Write::HSet {
                key: self.keys.last_ts(client_id),
                fields: vec![("ts".to_owned(), number_to_string(last.sent_at))],
            },
        ]);
        self.ops.write_batch(&writes).await
    }

    async fn read_published_event(
        &self,
        event_id: &str,
    ) -> Result<Option<PublishedEvent>, StoreError> {
        let h = self.ops.h_get_all(&self.keys.ack(event_id)).await?;
        let client_id = h.get("clientId").filter(|s| !s.is_empty());
        let target = h.get("targetAmqpQueue").filter(|s| !s.is_empty());
        let (Some(client_id), Some(target)) = (client_id, target) else {
            return Ok(None);
        };
        let num = |k: &str| string_to_number(h.get(k).map_or("", String::as_str));
        let (attempt_count, sent_at) = (num("attemptCount"), num("sentAt"));
        Ok(
            (attempt_count.is_finite() && sent_at.is_finite()).then(|| PublishedEvent {
                client_id: client_id.clone(),
                target_amqp_queue: target.clone(),
                attempt_count,
                sent_at,
            }),
        )
    }

    async fn record_target_result(
        &self,
        client_id: &str,
        target: &str,
        result: &str,
        event_id: &str,
    ) -> Result<(), StoreError> {
        let results = self.keys.results(client_id);
        let outstanding = self.keys.outstanding(client_id);
        let current = self.ops.h_get(&outstanding, target).await?;
        let mut writes = vec![
            Write::HSet {
                key: results.clone(),
                fields: vec![(target.to_owned(), result.to_owned())],
            },
            Write::Expire {
                key: results,
                seconds: ACK_TTL_SECONDS,
            },
            Write::SRem {
                key: self.keys.pending(client_id),
                member: event_id.to_owned(),
            },
            Write::Del {
                key: self.keys.ack(event_id),
            },
        ];
        if current.as_deref() == Some(event_id) {
            writes.push(Write::HDel {
                key: outstanding,
                field: target.to_owned(),
            });
        }
        self.ops.write_batch(&writes).await
    }

    async fn record_target_result_and_clear(
        &self,
        client_id: &str,
        target: &str,
        result: &str,
        event_id: &str,
        outstanding: &HashMap<String, String>,
        clear: bool,
    ) -> Result<(), StoreError> {
        let results = self.keys.results(client_id);
        let pending = self.keys.pending(client_id);
        let mut writes = vec![
            Write::HSet {
                key: results.clone(),
                fields: vec![(target.to_owned(), result.to_owned())],
            },
            Write::Expire {
                key: results.clone(),
                seconds: ACK_TTL_SECONDS,
            },
            Write::SRem {
                key: pending.clone(),
                member: event_id.to_owned(),
            },
            Write::Del {
                key: self.keys.ack(event_id),
            },
        ];
        if outstanding.get(target).map(String::as_str) == Some(event_id) {
            writes.push(Write::HDel {
                key: self.keys.outstanding(client_id),
                field: target.to_owned(),
            });
        }
        if clear {
            writes.extend([Write::Del { key: pending }, Write::Del { key: results }]);
        }
        self.ops.write_batch(&writes).await
    }

    async fn pending_count(&self, client_id: &str) -> Result<u64, StoreError> {
        self.ops.s_card(&self.keys.pending(client_id)).await
    }

    async fn read_client_results(
        &self,
        client_id: &str,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(self
            .ops
            .h_get_all(&self.keys.results(client_id))
            .await?
            .into_iter()
            .collect())
    }

    async fn clear_client_aggregates(&self, client_id: &str) -> Result<(), StoreError> {
        self.ops
            .write_batch(&[
                Write::Del {
                    key: self.keys.pending(client_id),
                },
                Write::Del {
                    key: self.keys.results(client_id),
                },
            ])
            .await
    }

    async fn lock_cursor(&self, track: &str, client_id: &str) -> Result<CursorLock, StoreError> {
        Ok(self.acquire_cursor(track, client_id, false).await?.0)
    }

    async fn unlock_cursor(&self, lock: CursorLock) -> Result<(), StoreError> {
        self.ops.lock_release(&lock.key, &lock.token).await
    }

    async fn lock_and_read_cursor(
        &self,
        track: &str,
        client_id: &str,
    ) -> Result<(CursorLock, Option<Cursor>), StoreError> {
        let (lock, hash) = self.acquire_cursor(track, client_id, true).await?;
        Ok((lock, hash.as_ref().and_then(cursor_of)))
    }

    async fn write_cursor_and_unlock(
        &self,
        lock: CursorLock,
        track: &str,
        client_id: &str,
        cursor: Option<&Cursor>,
    ) -> Result<(), StoreError> {
        let ts = cursor.map(|c| number_to_string(c.ts));
        let fields = cursor
            .zip(ts.as_deref())
            .map(|(c, ts)| [("ts", ts), ("eventId", c.event_id.as_str())]);
        self.ops
            .write_and_release(
                &self.keys.cursor(track, client_id),
                fields.as_ref().map(|f| &f[..]),
                &lock.key,
                &lock.token,
            )
            .await
    }

    async fn last_event_ts(&self, client_id: &str) -> Result<Option<i64>, StoreError> {
        let ts = self.ops.h_get(&self.keys.last_ts(client_id), "ts").await?;
        Ok(ts
            .map(|t| string_to_number(&t))
            .filter(|t| t.is_finite())
            .map(|t| t as i64))
    }

    async fn outstanding_events(
        &self,
        client_id: &str,
    ) -> Result<HashMap<String, String>, StoreError> {
        self.ops.h_get_all(&self.keys.outstanding(client_id)).await
    }

    fn outstanding_key_for_host(&self, client_id: &str) -> Option<String> {
        self.host_readable.then(|| self.keys.outstanding(client_id))
    }

    async fn retire_outstanding(
        &self,
        client_id: &str,
        current: HashMap<String, String>,
        targets: Option<&[String]>,
    ) -> Result<(), StoreError> {
        let outstanding = self.keys.outstanding(client_id);
        let mut writes = Vec::new();
        let mut sorted: Vec<_> = current.into_iter().collect();
        sorted.sort();
        for (target, event_id) in sorted {
            if targets.is_some_and(|t| !t.contains(&target)) {
                continue;
            }
            writes.push(Write::Del {
                key: self.keys.ack(&event_id),
            });
            writes.push(Write::SRem {
                key: self.keys.pending(client_id),
                member: event_id,
            });
            writes.push(Write::HDel {
                key: outstanding.clone(),
                field: target,
            });
        }
        if writes.is_empty() {
            return Ok(());
        }
        self.ops.write_batch(&writes).await
    }
}

// ---------------------------------------------------------------------------------------
// The `redis` crate
// ---------------------------------------------------------------------------------------

#[cfg(feature = "redis")]
async fn run<C, T>(conn: &C, cmd: &redis::Cmd) -> Result<T, StoreError>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync,
    T: redis::FromRedisValue,
{
    let mut c = conn.clone();
    cmd.query_async(&mut c).await.map_err(map_redis_err)
}

#[cfg(feature = "redis")]
/// `writes` as one `MULTI` pipeline.
fn atomic_pipe<'a>(writes: impl IntoIterator<Item = &'a Write>) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.atomic();
    for w in writes {
        match w {
            Write::HSet { key, fields } => {
                let cmd = pipe.cmd("HSET").arg(key);
                for (f, v) in fields {
                    cmd.arg(f).arg(v);
                }
            }
            Write::HDel { key, field } => {
                pipe.cmd("HDEL").arg(key).arg(field);
            }
            Write::SAdd { key, member } => {
                pipe.cmd("SADD").arg(key).arg(member);
            }
            Write::SRem { key, member } => {
                pipe.cmd("SREM").arg(key).arg(member);
            }
            Write::Expire { key, seconds } => {
                pipe.cmd("EXPIRE").arg(key).arg(*seconds);
            }
            Write::Del { key } => {
                pipe.cmd("DEL").arg(key);
            }
        }
        pipe.ignore();
    }
    pipe
}

#[cfg(feature = "redis")]
impl Write {
    fn key(&self) -> &str {
        match self {
            Write::HSet { key, .. }
            | Write::HDel { key, .. }
            | Write::SAdd { key, .. }
            | Write::SRem { key, .. }
            | Write::Expire { key, .. }
            | Write::Del { key } => key,
        }
    }
}

#[cfg(feature = "redis")]
/// Deletes the lock key only while it still holds the caller's token.
const LOCK_RELEASE_LUA: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

#[cfg(feature = "redis")]
/// A `redis` crate connection ([`RedisOps`] through `redis_ops_impl!`).
trait RedisConnOf {
    type Conn: redis::aio::ConnectionLike + Clone + Send + Sync;
    fn redis_conn(&self) -> &Self::Conn;
}

#[cfg(feature = "redis")]
impl RedisConnOf for redis::aio::ConnectionManager {
    type Conn = Self;
    fn redis_conn(&self) -> &Self {
        self
    }
}

#[cfg(feature = "redis")]
/// A Redis Cluster connection for [`PropagationStore`] (the cluster key layout).
#[derive(Clone)]
pub struct ClusterOps {
    conn: redis::cluster_async::ClusterConnection,
}

#[cfg(feature = "redis")]
impl std::fmt::Debug for ClusterOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterOps").finish_non_exhaustive()
    }
}

#[cfg(feature = "redis")]
impl RedisConnOf for ClusterOps {
    type Conn = redis::cluster_async::ClusterConnection;
    fn redis_conn(&self) -> &Self::Conn {
        &self.conn
    }
}

#[cfg(feature = "redis")]
/// One server: the whole batch in one `MULTI`.
async fn write_batch_one<C>(conn: &C, writes: &[Write]) -> Result<(), StoreError>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync,
{
    let mut c = conn.clone();
    atomic_pipe(writes)
        .query_async::<()>(&mut c)
        .await
        .map_err(map_redis_err)
}

#[cfg(feature = "redis")]
/// A cluster: one `MULTI` per hash slot part ([`hash_slot_part`]), in the order of each
/// part's first write, every write in its order within its part. Atomic per part, not
/// across parts (a batch of the cluster layout spans at most the client's slot and the
/// slots of its events' ack records).
async fn write_batch_cluster<C>(conn: &C, writes: &[Write]) -> Result<(), StoreError>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync,
{
    let mut parts: Vec<(&str, Vec<&Write>)> = Vec::new();
    for w in writes {
        let part = hash_slot_part(w.key());
        match parts.iter_mut().find(|(p, _)| *p == part) {
            Some((_, group)) => group.push(w),
            None => parts.push((part, vec![w])),
        }
    }
    for (_, group) in parts {
        let mut c = conn.clone();
        atomic_pipe(group)
            .query_async::<()>(&mut c)
            .await
            .map_err(map_redis_err)?;
    }
    Ok(())
}

#[cfg(feature = "redis")]
/// The [`RedisOps`] of a `redis` crate connection ([`RedisConnOf`], cloned per call), the
/// batches sent by `$write_batch`.
macro_rules! redis_ops_impl {
    ($ty:ty, $write_batch:ident) => {
        #[async_trait]
        impl RedisOps for $ty {
            async fn lock_acquire(
                &self,
                key: &str,
                token: &str,
                ttl_ms: u64,
            ) -> Result<bool, StoreError> {
                let set: Option<String> = run(
                    self.redis_conn(),
                    redis::cmd("SET")
                        .arg(key)
                        .arg(token)
                        .arg("NX")
                        .arg("PX")
                        .arg(ttl_ms),
                )
                .await?;
                Ok(set.is_some())
            }

            async fn lock_release(&self, key: &str, token: &str) -> Result<(), StoreError> {
                let mut c = self.redis_conn().clone();
                let _: i64 = redis::Script::new(LOCK_RELEASE_LUA)
                    .key(key)
                    .arg(token)
                    .invoke_async(&mut c)
                    .await
                    .map_err(map_redis_err)?;
                Ok(())
            }

            async fn lock_acquire_and_read(
                &self,
                key: &str,
                token: &str,
                ttl_ms: u64,
                hash_key: &str,
            ) -> Result<Option<HashMap<String, String>>, StoreError> {
                let mut pipe = redis::pipe();
                pipe.cmd("SET")
                    .arg(key)
                    .arg(token)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms)
                    .cmd("HGETALL")
                    .arg(hash_key);
                let mut c = self.redis_conn().clone();
                let (set, hash): (Option<String>, HashMap<String, String>) =
                    pipe.query_async(&mut c).await.map_err(map_redis_err)?;
                Ok(set.map(|_| hash))
            }

            async fn write_and_release(
                &self,
                hash_key: &str,
                fields: Option<&[(&str, &str)]>,
                key: &str,
                token: &str,
            ) -> Result<(), StoreError> {
                let mut pipe = redis::pipe();
                if let Some(fields) = fields {
                    let cmd = pipe.cmd("HSET").arg(hash_key);
                    for (f, v) in fields {
                        cmd.arg(*f).arg(*v);
                    }
                    cmd.ignore();
                }
                pipe.cmd("EVAL")
                    .arg(LOCK_RELEASE_LUA)
                    .arg(1)
                    .arg(key)
                    .arg(token)
                    .ignore();
                let mut c = self.redis_conn().clone();
                pipe.query_async::<()>(&mut c).await.map_err(map_redis_err)
            }

            async fn write_batch(&self, writes: &[Write]) -> Result<(), StoreError> {
                $write_batch(self.redis_conn(), writes).await
            }

            async fn h_get(&self, key: &str, field: &str) -> Result<Option<String>, StoreError> {
                run(self.redis_conn(), redis::cmd("HGET").arg(key).arg(field)).await
            }
            async fn h_set(&self, key: &str, fields: &[(&str, &str)]) -> Result<(), StoreError> {
                let mut cmd = redis::cmd("HSET");
                cmd.arg(key);
                for (f, v) in fields {
                    cmd.arg(*f).arg(*v);
                }
                run(self.redis_conn(), &cmd).await
            }
            async fn h_get_all(&self, key: &str) -> Result<HashMap<String, String>, StoreError> {
                run(self.redis_conn(), redis::cmd("HGETALL").arg(key)).await
            }
            async fn h_del(&self, key: &str, field: &str) -> Result<(), StoreError> {
                run(self.redis_conn(), redis::cmd("HDEL").arg(key).arg(field)).await
            }
            async fn s_add(&self, key: &str, member: &str) -> Result<(), StoreError> {
                run(self.redis_conn(), redis::cmd("SADD").arg(key).arg(member)).await
            }
            async fn s_rem(&self, key: &str, member: &str) -> Result<(), StoreError> {
                run(self.redis_conn(), redis::cmd("SREM").arg(key).arg(member)).await
            }
            async fn s_card(&self, key: &str) -> Result<u64, StoreError> {
                run(self.redis_conn(), redis::cmd("SCARD").arg(key)).await
            }
            async fn expire(&self, key: &str, seconds: i64) -> Result<(), StoreError> {
                run(
                    self.redis_conn(),
                    redis::cmd("EXPIRE").arg(key).arg(seconds),
                )
                .await
            }
            async fn del(&self, key: &str) -> Result<(), StoreError> {
                run(self.redis_conn(), redis::cmd("DEL").arg(key)).await
            }
        }
    };
}

#[cfg(feature = "redis")]
redis_ops_impl!(redis::aio::ConnectionManager, write_batch_one);
#[cfg(feature = "redis")]
redis_ops_impl!(ClusterOps, write_batch_cluster);

// ---------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Mem {
    hashes: HashMap<String, HashMap<String, String>>,
    sets: HashMap<String, HashSet<String>>,
    expiry: HashMap<String, Instant>,
}

impl Mem {
    /// Drops `key` when its TTL has passed (lazy expiry, as Redis does on access).
    fn touch(&mut self, key: &str) {
        if self.expiry.get(key).is_some_and(|at| *at <= Instant::now()) {
            self.hashes.remove(key);
            self.sets.remove(key);
            self.expiry.remove(key);
        }
    }
}

/// The nine commands in memory, with key expiry.
#[derive(Default)]
pub struct MemoryOps {
    mem: Mutex<Mem>,
}

impl MemoryOps {
    fn with<T>(&self, key: &str, f: impl FnOnce(&mut Mem) -> T) -> Result<T, StoreError> {
        let mut m = self.mem.lock().unwrap_or_else(|e| e.into_inner());
        m.touch(key);
        Ok(f(&mut m))
    }
}

#[async_trait]
impl RedisOps for MemoryOps {
    async fn h_get(&self, key: &str, field: &str) -> Result<Option<String>, StoreError> {
        self.with(key, |m| {
            m.hashes.get(key).and_then(|h| h.get(field).cloned())
        })
    }
    async fn h_set(&self, key: &str, fields: &[(&str, &str)]) -> Result<(), StoreError> {
        self.with(key, |m| {
            let h = m.hashes.entry(key.to_owned()).or_default();
            for (f, v) in fields {
                h.insert((*f).to_owned(), (*v).to_owned());
            }
        })
    }
    async fn h_get_all(&self, key: &str) -> Result<HashMap<String, String>, StoreError> {
        self.with(key, |m| m.hashes.get(key).cloned().unwrap_or_default())
    }
    async fn h_del(&self, key: &str, field: &str) -> Result<(), StoreError> {
        self.with(key, |m| {
            if let Some(h) = m.hashes.get_mut(key) {
                h.remove(field);
                if h.is_empty() {
                    m.hashes.remove(key);
                    m.expiry.remove(key);
                }
            }
        })
    }
    async fn s_add(&self, key: &str, member: &str) -> Result<(), StoreError> {
        self.with(key, |m| {
            m.sets
                .entry(key.to_owned())
                .or_default()
                .insert(member.to_owned());
        })
    }
    async fn s_rem(&self, key: &str, member: &str) -> Result<(), StoreError> {
        self.with(key, |m| {
            if let Some(s) = m.sets.get_mut(key) {
                s.remove(member);
                if s.is_empty() {
                    m.sets.remove(key);
                    m.expiry.remove(key);
                }
            }
        })
    }
    async fn s_card(&self, key: &str) -> Result<u64, StoreError> {
        self.with(key, |m| m.sets.get(key).map_or(0, |s| s.len() as u64))
    }
    async fn expire(&self, key: &str, seconds: i64) -> Result<(), StoreError> {
        self.with(key, |m| {
            if m.hashes.contains_key(key) || m.sets.contains_key(key) {
                let ttl = Duration::from_secs(seconds.max(0) as u64);
                m.expiry.insert(key.to_owned(), Instant::now() + ttl);
            }
        })
    }
    async fn del(&self, key: &str) -> Result<(), StoreError> {
        self.with(key, |m| {
            m.hashes.remove(key);
            m.sets.remove(key);
            m.expiry.remove(key);
        })
    }
}

#[cfg(all(test, feature = "redis"))]
mod script_key_tests {
    /// The lock release script touches only its declared key (Redis Cluster routing).
    #[test]
    fn lock_release_touches_only_keys_1() {
        crate::store::assert_script_keys_declared(super::LOCK_RELEASE_LUA, 1);
    }
}
