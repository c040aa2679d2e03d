//! `SubscriberRegistry<T>` (spec §3.1): who receives a broadcast, and which streams an
//! identity closes.
//!
//! Records are kept in insertion order under a monotonic id (a `BTreeMap`), one record per
//! `subscribe` call: subscribing one stream twice gives two records and two copies of
//! every broadcast. The registry lock is **never** held while calling into a stream:
//! every operation collects what it needs under the lock, releases it, then calls
//! `send`/`close`, because `close()` runs `on_close` listeners that re-enter
//! [`Subscription::unsubscribe`] (or anything else on the registry).
//!
//! - `subscribe` normalises its options (§2), then, when a cap is set and the subscriber
//!   has a scope, closes and removes the **oldest** records of that scope until the
//!   newcomer fits, and only then appends the newcomer (always admitted). `max <= 0` is
//!   kept as the original has it: every record of the scope is evicted, so the cap acts
//!   as 1. Eviction is silent (no frame, no log).
//! - `broadcast` sends, in insertion order, to every record whose channel set is `None`
//!   or contains the channel (exact, case-sensitive), found through the events engine's
//!   [`TopicIndex`] (channel → record ids) rather than a scan of every record. It walks
//!   the live records as a JS `Set` iteration does: a record removed while a broadcast
//!   runs is skipped, and one added during it (by a `send`) is reached.
//! - `close_by_identity` collects every record whose scope equals the identity or whose
//!   groups contain it (one shared namespace), then closes and removes each (close first,
//!   then remove). [`close_by_scope`](SubscriberRegistry::close_by_scope) and
//!   [`close_by_group`](SubscriberRegistry::close_by_group) are the namespaced halves.
//!
//! §6.6 (fixed): a stream whose `send` fails does not stop the broadcast, and a stream
//! whose `close` fails (or panics) is still removed; each failure is logged at error
//! level (`SubscriberRegistry: send failed: …` / `SubscriberRegistry: close failed: …`)
//! and counted in the [`BroadcastReport`].
//!
//! Threads: every method is safe to call concurrently. The cap is exact for calls that
//! do not overlap (all JavaScript-like use); two `subscribe` calls racing on one scope
//! from two threads may each evict on the view they saw and leave the scope one over.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::{CloseListener, Logger, NoopLogger, RealtimeError, SseStream, SseStreamControl};
use crate::events::TopicIndex;

/// `SubscribeOptions` (§2). Normalisation: empty or missing `channels` means all
/// channels; empty or missing `groups` means none; a missing `scope` is none, an empty
/// string scope is kept as `""`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeOptions {
    /// Channels to receive (`None`: all).
    pub channels: Option<Vec<String>>,
    /// The scope (session hash) the cap is counted per.
    pub scope: Option<String>,
    /// Groups (account ids) the stream also belongs to.
    pub groups: Option<Vec<String>>,
}

impl SubscribeOptions {
    /// No channels, scope or groups.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the channels.
    pub fn channels<I: IntoIterator<Item = S>, S: Into<String>>(mut self, channels: I) -> Self {
        self.channels = Some(channels.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the scope.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Sets the groups.
    pub fn groups<I: IntoIterator<Item = S>, S: Into<String>>(mut self, groups: I) -> Self {
        self.groups = Some(groups.into_iter().map(Into::into).collect());
        self
    }

    /// The stored form of these options (§2).
    pub fn normalize(self) -> SubscriberInfo {
        SubscriberInfo {
            channels: to_set(self.channels),
            scope: self.scope,
            groups: to_set(self.groups),
        }
    }
}

/// `new Set(list)` of a non-empty list, keeping first occurrences in order; `None` for a
/// missing or empty list.
fn to_set(list: Option<Vec<String>>) -> Option<Vec<String>> {
    let list = list.filter(|l| !l.is_empty())?;
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Some(out)
}

/// A stored subscriber without its stream (`Subscriber<T>` of §2): `channels: None` is
/// "all channels", `groups: None` is "no groups".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberInfo {
    /// Channels received (`None`: all).
    pub channels: Option<Vec<String>>,
    /// The scope, if any.
    pub scope: Option<String>,
    /// The groups (`None`: none).
    pub groups: Option<Vec<String>>,
}

impl SubscriberInfo {
    fn has_scope(&self, id: &str) -> bool {
        self.scope.as_deref() == Some(id)
    }

    fn in_group(&self, id: &str) -> bool {
        self.groups
            .as_ref()
            .is_some_and(|g| g.iter().any(|x| x == id))
    }
}

/// What a broadcast did (the original returns nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastReport {
    /// Subscribers whose `send` returned `Ok` (a closed stream drops the data and still
    /// counts: the registry cannot see inside a stream).
    pub delivered: usize,
    /// Subscribers whose `send` failed (logged; the loop went on).
    pub failed: usize,
}

struct Record<S: ?Sized> {
    stream: Arc<S>,
    info: SubscriberInfo,
}

struct State<S: ?Sized> {
    next_id: u64,
    records: BTreeMap<u64, Record<S>>,
    /// channel → record ids (the events engine's index; `channels: None` records are
    /// in its all-topics set), so a broadcast visits only the channel's subscribers.
    index: TopicIndex,
}

impl<S: ?Sized> State<S> {
    fn remove(&mut self, id: u64) -> Option<Record<S>> {
        let r = self.records.remove(&id)?;
        self.index.remove(id, r.info.channels.as_deref());
        Some(r)
    }
}

struct Shared<S: ?Sized> {
    max_per_scope: Option<i64>,
    log: Arc<dyn Logger>,
    state: Mutex<State<S>>,
}

impl<S: ?Sized> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, State<S>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: ?Sized> Drop for Shared<S> {
    fn drop(&mut self) {
        crate::metrics::sse_registry_dropped(self.lock().records.len());
    }
}

/// Removal by id, type-erased so a [`Subscription`] does not carry the stream type.
trait RemoveRecord: Send + Sync {
    fn remove(&self, id: u64) -> bool;
    fn contains(&self, id: u64) -> bool;
}

impl<S: ?Sized + Send + Sync> RemoveRecord for Shared<S> {
    fn remove(&self, id: u64) -> bool {
        // The record (and its stream handle) is dropped after the lock is released.
        let removed = self.lock().remove(id);
        crate::metrics::sse_unsubscribed(removed.is_some())
    }

    fn contains(&self, id: u64) -> bool {
        self.lock().records.contains_key(&id)
    }
}

/// The `unsubscribe` handle `subscribe` returns. Idempotent, removes only its own record,
/// and does **not** close the stream. Dropping the handle does not unsubscribe; it holds
/// the registry weakly, so it never keeps a registry alive.
#[derive(Clone)]
pub struct Subscription {
    registry: Weak<dyn RemoveRecord>,
    id: u64,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("active", &self.is_active())
            .finish()
    }
}

impl Subscription {
    /// Remove this record. Returns whether this call removed it (`false` when it was
    /// already gone: unsubscribed, evicted, closed by identity, or the registry dropped).
    pub fn unsubscribe(&self) -> bool {
        self.registry.upgrade().is_some_and(|r| r.remove(self.id))
    }

    /// Whether the record is still in the registry.
    pub fn is_active(&self) -> bool {
        self.registry.upgrade().is_some_and(|r| r.contains(self.id))
    }

    /// `stream.on_close(unsubscribe)` (§3.4): a close listener that unsubscribes.
    pub fn close_listener(&self) -> CloseListener {
        let sub = self.clone();
        Box::new(move || {
            sub.unsubscribe();
            Ok(())
        })
    }
}

/// Removes a record when dropped, so a `close()` that panics still removes it.
struct RemoveOnDrop<'a, S: ?Sized + Send + Sync> {
    shared: &'a Shared<S>,
    id: u64,
}

impl<S: ?Sized + Send + Sync> Drop for RemoveOnDrop<'_, S> {
    fn drop(&mut self) {
        self.shared.remove(self.id);
    }
}

/// `SubscriberRegistry<T>` (§3.1) over streams of type `S` (a concrete stream such as
/// [`MemorySseStream`](super::MemorySseStream), or `dyn SseStream<T>` to mix host and
/// in-memory streams). Cloning gives another handle to the same registry.
pub struct SubscriberRegistry<S: ?Sized> {
    shared: Arc<Shared<S>>,
}

impl<S: ?Sized> Clone for SubscriberRegistry<S> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: ?Sized> std::fmt::Debug for SubscriberRegistry<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriberRegistry")
            .field("max_per_scope", &self.shared.max_per_scope)
            .field("count", &self.shared.lock().records.len())
            .finish()
    }
}

impl<S: ?Sized + SseStreamControl + 'static> Default for SubscriberRegistry<S> {
    fn default() -> Self {
        Self::new(None)
    }
}

impl<S: ?Sized + SseStreamControl + 'static> SubscriberRegistry<S> {
    /// `new SubscriberRegistry({max_per_scope})`: `None` is no cap (`?? null`); any other
    /// value is kept as given, `0` and negatives included (they act as a cap of 1).
    pub fn new(max_per_scope: Option<i64>) -> Self {
        Self::new_with_logger(max_per_scope, Arc::new(NoopLogger))
    }

    /// As [`new`](Self::new), logging isolated `send`/`close` failures to `log`.
    pub fn new_with_logger(max_per_scope: Option<i64>, log: Arc<dyn Logger>) -> Self {
        Self {
            shared: Arc::new(Shared {
                max_per_scope,
                log,
                state: Mutex::new(State {
                    next_id: 0,
                    records: BTreeMap::new(),
                    index: TopicIndex::new(),
                }),
            }),
        }
    }

    /// The cap given at construction.
    pub fn max_per_scope(&self) -> Option<i64> {
        self.shared.max_per_scope
    }

    /// `count`: the number of records.
    pub fn count(&self) -> usize {
        self.shared.lock().records.len()
    }

    /// The stored subscribers, in insertion order.
    pub fn subscribers(&self) -> Vec<SubscriberInfo> {
        let st = self.shared.lock();
        st.records.values().map(|r| r.info.clone()).collect()
    }

    /// `subscribe(stream, {channels, scope, groups})`: normalise, evict the oldest of the
    /// scope over the cap, append. The newcomer is always admitted.
    pub fn subscribe(&self, stream: Arc<S>, options: SubscribeOptions) -> Subscription {
        let info = options.normalize();
        if let (Some(max), Some(scope)) = (self.shared.max_per_scope, info.scope.as_deref()) {
            self.evict_oldest(scope, max);
        }
        let id = {
            let mut st = self.shared.lock();
            let id = st.next_id;
            st.next_id += 1;
            st.index.insert(id, info.channels.as_deref());
            st.records.insert(id, Record { stream, info });
            crate::metrics::SSE.subscribers.add(1);
            id
        };
        let registry: Weak<dyn RemoveRecord> = Arc::downgrade(&self.shared) as Weak<Shared<S>>;
        Subscription { registry, id }
    }

    /// `overflow = matching - (max - 1)`; close then remove the first `overflow` records
    /// of the scope (all of them when `max <= 0`).
    fn evict_oldest(&self, scope: &str, max: i64) {
        let victims: Vec<(u64, Arc<S>)> = {
            let st = self.shared.lock();
            let matching: Vec<(u64, Arc<S>)> = st
                .records
                .iter()
                .filter(|(_, r)| r.info.has_scope(scope))
                .map(|(id, r)| (*id, Arc::clone(&r.stream)))
                .collect();
            let overflow =
                i128::try_from(matching.len()).unwrap_or(i128::MAX) - (i128::from(max) - 1);
            let n = usize::try_from(overflow.max(0)).unwrap_or(usize::MAX);
            matching.into_iter().take(n).collect()
        };
        for (id, stream) in victims {
            self.close_and_remove(id, &stream);
        }
    }

    /// Close the stream, then remove its record, whatever `close` did.
    fn close_and_remove(&self, id: u64, stream: &S) {
        let _remove = RemoveOnDrop {
            shared: &*self.shared,
            id,
        };
        if let Err(e) = stream.close() {
            self.shared
                .log
                .error(&format!("SubscriberRegistry: close failed: {e}"));
        }
    }

    /// Phase 1 collects under the lock, phase 2 closes and removes without it.
    fn close_where(&self, matches: impl Fn(&SubscriberInfo) -> bool) -> usize {
        let to_close: Vec<(u64, Arc<S>)> = {
            let st = self.shared.lock();
            st.records
                .iter()
                .filter(|(_, r)| matches(&r.info))
                .map(|(id, r)| (*id, Arc::clone(&r.stream)))
                .collect()
        };
        for (id, stream) in &to_close {
            self.close_and_remove(*id, stream);
        }
        to_close.len()
    }

    /// `close_by_identity(id)`: close and remove every record whose scope is `id` or
    /// whose groups contain it (one namespace, §3.1). Returns the number collected.
    pub fn close_by_identity(&self, id: &str) -> usize {
        self.close_where(|r| r.has_scope(id) || r.in_group(id))
    }

    /// Close and remove the records whose scope is `id` (groups ignored): a per-session
    /// close for hosts that want the namespaces apart (§6.5, `close_for_session`).
    pub fn close_by_scope(&self, id: &str) -> usize {
        self.close_where(|r| r.has_scope(id))
    }

    /// Close and remove the records whose groups contain `id` (scope ignored): a
    /// per-account close (`close_for_account`).
    pub fn close_by_group(&self, id: &str) -> usize {
        self.close_where(|r| r.in_group(id))
    }

    /// `broadcast(channel, data)`: `send` to every matching record in insertion order.
    /// A failing `send` is logged and counted; the loop goes on (§6.6 fix).
    pub fn broadcast<T: ?Sized>(&self, channel: &str, data: &T) -> BroadcastReport
    where
        S: SseStream<T>,
    {
        let mut report = BroadcastReport::default();
        // Like `for (const subscriber of set)` over the live set: records are visited in
        // insertion order, one at a time, so a record added by a `send` (a subscriber
        // joining inside a stream callback) is reached by this broadcast, and a record
        // removed before its turn is skipped. The lock is released around each `send`.
        let mut next = 0u64;
        loop {
            let target = {
                let st = self.shared.lock();
                st.index
                    .next_at_or_after(channel, next)
                    .and_then(|id| st.records.get(&id).map(|r| (id, Arc::clone(&r.stream))))
            };
            let Some((id, stream)) = target else {
                break;
            };
            next = id + 1;
            match stream.send(data) {
                Ok(()) => report.delivered += 1,
                Err(e) => {
                    report.failed += 1;
                    self.shared
                        .log
                        .error(&format!("SubscriberRegistry: send failed: {e}"));
                }
            }
        }
        crate::metrics::sse_broadcast(report.delivered, report.failed);
        report
    }
}

/// A JavaScript `max_per_scope` number as the original's loop uses it
/// (`overflow = matching - (max - 1)`, evict while `i < overflow`): a finite value acts
/// as its floor, `+Infinity` never evicts (no cap), `-Infinity` evicts every record of the
/// scope. `NaN` fails closed: in the original it silently disables the cap (a
/// `parseInt` of a missing environment variable), here it is `REALTIME_INVALID_SETTING`.
/// For bindings; `null`/`undefined` are `None` before this.
pub fn max_per_scope_from_js_number(max: f64) -> Result<Option<i64>, RealtimeError> {
    if max.is_nan() {
        Err(RealtimeError::InvalidSetting(
            "max_per_scope must be a number, not NaN (null for no cap)".into(),
        ))
    } else if max == f64::INFINITY {
        Ok(None)
    } else if max == f64::NEG_INFINITY {
        Ok(Some(i64::MIN))
    } else {
        // Saturating float-to-int conversion.
        Ok(Some(max.floor() as i64))
    }
}
