//! The propagator: `ensure` / `rotate` / `revoke` / `sync` on the sending side (full mode)
//! and the receive pipeline of §3.5 on every peer.
//!
//! Behaviour follows the original's code (HEAD: `ensure`, `rotate` and `revoke` apply
//! locally at once), with these deliberate differences (see docs/compat.md):
//! - `sync` records every target's event in the ack store **before** publishing any, so an
//!   early ACK can never complete a credential while other targets are still to be sent
//!   (the §10 race that cleared the plain secret too early). An event whose publish failed
//!   stays pending until the next `sync` replaces it with the retry's event: one
//!   outstanding event per (client, target).
//! - An ACK that arrives before its event's `markTargetSent` returned waits for it, so the
//!   row ends `success`/`error`, never `sent` (§7: the original can overwrite the result).
//! - An apply event without a usable `track`, `clientId` or `payload`, or whose
//!   `senderAmqpQueue` is not a valid queue name, is dropped with a warning instead of
//!   being requeued forever; an apply the core rejects as invalid (not a store failure) is
//!   answered with an `error` ACK carrying the reason instead of being requeued forever.
//!
//! And these repairs of the protocol, checked by the model in `models/propagation`
//! (ARCHITECTURE.md, "The propagation model"):
//! - The receiver holds the cursor lock
//!   ([`PropagationState::lock_cursor`](super::state::PropagationState::lock_cursor)) across
//!   cursor check, apply and cursor write: two consumers of one queue cannot apply an older
//!   event after a newer one.
//! - An event older than the cursor is answered with an `error` ACK, reason `stale`
//!   ([`wire::STALE_REASON`]), not `applied`: its sender no longer records a success for a
//!   secret the target does not hold. A redelivery of the cursor's own event is still
//!   `applied`.
//! - Event `ts` values are strictly increasing per client ([`wire::next_event_ts`]).
//! - `ensure`/`rotate`/`revoke` retire the client's outstanding events of the targets they
//!   reset, under a per-client lock that ACK handling and `sync` (from its record to its
//!   `markTargetSent`) also take; `sync` skips a client changed since it fetched it.
//! - An ACK's callbacks and completion run before the ack store forgets the event, so an
//!   authority crash in between redoes them on redelivery instead of dropping the ACK.
//! - `sync()` calls run one at a time.

mod error;
mod host;
mod receiver;
mod sender;

use std::collections::HashMap;
use std::sync::Arc;

pub use error::{CallbackError, PropagationError, SinkError};
pub use host::{
    AckResult, CredentialSink, EnsureGate, EnsureInput, EnsureResult, EnsureSteps,
    FullyPropagatedInput, GatedEnsure, Management, PendingPropagation, PendingTarget,
    PropagatorParts, RevokeInput, RotateInput, RotateUsage, SyncSummary, TargetErrorInput,
    TargetSentInput, TargetSuccessInput, UpsertInput, ack_steps_each, ensure_op, ensure_steps_each,
    ensure_steps_gated_each, rotate_steps_each,
};
pub use sender::{HostEnsure, HostEnsureTicket, HostRead, RuntimeRead};

use super::state::{KeyedGuard, KeyedLocks};
use super::transport::Transport;
use super::wire;
use receiver::Receiver;

struct Shared {
    parts: PropagatorParts,
    transport: Arc<dyn Transport>,
    /// Events of a running `sync` whose `markTargetSent` has not returned yet: an ACK for
    /// one of them waits, so `markTargetSuccess`/`markTargetError` always come after
    /// `markTargetSent` (the original lets a fast ACK's "success" be overwritten by "sent").
    unmarked: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Notify>>>,
    /// Per-client lock of the authority: `ensure`/`rotate`/`revoke`, ACK handling, and a
    /// `sync` from its record to its `markTargetSent`.
    client_locks: KeyedLocks,
    /// `sync()` calls run one at a time.
    sync_lock: tokio::sync::Mutex<()>,
    /// The changes made by `ensure`/`rotate`/`revoke`, so a `sync` skips a client changed
    /// after it fetched the pending propagations.
    changes: Arc<ChangeLog>,
}

/// Counts `ensure`/`rotate`/`revoke` calls and keeps each changed client's last count
/// while a `sync` may ask about it (a [`SyncWindow`] is open): the log holds the clients
/// changed during syncs, not every client ever changed.
#[derive(Default)]
struct ChangeLog(std::sync::Mutex<ChangeLogInner>);

#[derive(Default)]
struct ChangeLogInner {
    count: u64,
    open_windows: usize,
    last: HashMap<String, u64>,
}

impl ChangeLog {
    fn inner(&self) -> std::sync::MutexGuard<'_, ChangeLogInner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, client_id: &str) {
        let mut log = self.inner();
        log.count += 1;
        if log.open_windows > 0 {
            let n = log.count;
            log.last.insert(client_id.to_owned(), n);
        }
    }
}

/// What a `sync` knows of the changes made since its fetch: opened before the fetch, kept
/// by the sync and each of its preparing tasks, closed when the last of them drops it.
pub(crate) struct SyncWindow {
    log: Arc<ChangeLog>,
    since: u64,
}

impl SyncWindow {
    fn open(log: &Arc<ChangeLog>) -> Arc<Self> {
        let since = {
            let mut inner = log.inner();
            inner.open_windows += 1;
            inner.count
        };
        Arc::new(Self {
            log: log.clone(),
            since,
        })
    }

    /// Whether `client_id` changed after this window opened.
    fn changed(&self, client_id: &str) -> bool {
        self.log
            .inner()
            .last
            .get(client_id)
            .is_some_and(|n| *n > self.since)
    }
}

impl Drop for SyncWindow {
    fn drop(&mut self) {
        let mut log = self.log.inner();
        log.open_windows -= 1;
        if log.open_windows == 0 {
            log.last = HashMap::new();
        }
    }
}

impl Shared {
    /// Takes the client lock for a change of `client_id` and records the change.
    async fn begin_change(&self, client_id: &str) -> KeyedGuard {
        let guard = self.client_locks.lock(client_id).await;
        self.record_change(client_id);
        guard
    }

    /// [`Self::begin_change`] when the client lock is free; `None` (nothing recorded)
    /// when another change, an ACK or a `sync` holds it.
    fn try_begin_change(&self, client_id: &str) -> Option<KeyedGuard> {
        let guard = self.client_locks.try_lock(client_id)?;
        self.record_change(client_id);
        Some(guard)
    }

    fn record_change(&self, client_id: &str) {
        self.changes.record(client_id);
    }

    fn begin_unmarked(&self, event_id: &str) {
        self.unmarked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(event_id.to_owned(), Arc::new(tokio::sync::Notify::new()));
    }

    fn end_unmarked(&self, event_id: &str) {
        let n = self
            .unmarked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(event_id);
        if let Some(n) = n {
            n.notify_waiters();
        }
    }

    /// Waits (at most [`UNMARKED_WAIT`]) until `event_id` is no longer between its publish
    /// and its `markTargetSent`.
    async fn wait_marked(&self, event_id: &str) {
        let n = self
            .unmarked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(event_id)
            .cloned();
        let Some(n) = n else { return };
        let notified = n.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let still = self
            .unmarked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(event_id);
        if still {
            let _ = tokio::time::timeout(UNMARKED_WAIT, notified).await;
        }
    }
}

/// Upper bound of an ACK's wait for its event's `markTargetSent`.
const UNMARKED_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A running propagator (`Propagator` of the original).
pub struct Propagator {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Propagator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Propagator")
            .field("amqp_queue", &self.shared.parts.amqp_queue)
            .field("full_mode", &self.shared.parts.management.is_some())
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    crate::hmac::verify::now_ms() as i64
}

impl Propagator {
    /// Installs the receive handler on `transport` and starts consuming (the consumer is
    /// registered only now, with the real handler: no delivery can reach a placeholder).
    pub async fn start(
        parts: PropagatorParts,
        transport: Arc<dyn Transport>,
    ) -> Result<Self, PropagationError> {
        if parts.http.is_none() && parts.message.is_none() {
            return Err(PropagationError::InvalidOptions(
                "At least one of hmacHttpAuth or hmacMessageAuth must be provided".into(),
            ));
        }
        wire::build_queue_name(&parts.amqp_queue).map_err(PropagationError::InvalidQueueName)?;
        let shared = Arc::new(Shared {
            parts,
            transport,
            unmarked: Default::default(),
            client_locks: KeyedLocks::default(),
            sync_lock: tokio::sync::Mutex::new(()),
            changes: Default::default(),
        });
        // The transport keeps its handler (and its consumer task) alive: a weak reference,
        // so that dropping the propagator drops its transport, which stops its tasks.
        let handler = Arc::new(Receiver {
            shared: Arc::downgrade(&shared),
        });
        shared.transport.start_consume(handler).await?;
        Ok(Self { shared })
    }

    /// This peer's logical name.
    pub fn amqp_queue(&self) -> &str {
        &self.shared.parts.amqp_queue
    }

    /// `close()`: stops consuming (after the delivery in hand) and closes the broker link.
    /// The other methods stay callable; publishes then fail and `sync` counts them as
    /// retrying.
    pub async fn close(&self) {
        self.shared.transport.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::{ChangeLog, SyncWindow};
    use std::sync::Arc;

    #[test]
    fn the_change_log_keeps_clients_only_while_a_sync_window_is_open() {
        let log = Arc::new(ChangeLog::default());
        log.record("before");
        assert!(log.inner().last.is_empty(), "no sync asks: nothing kept");
        assert_eq!(log.inner().count, 1);

        let window = SyncWindow::open(&log);
        assert!(
            !window.changed("before"),
            "changed before the window opened"
        );
        log.record("during");
        let task = window.clone();
        assert!(task.changed("during"));
        assert!(!task.changed("other"));
        drop(window);
        // A preparing task still holds the window: the log still answers it.
        log.record("late");
        assert!(task.changed("late"));

        // A second sync's window opened while the first is still held sees only its own.
        let second = SyncWindow::open(&log);
        assert!(!second.changed("late"));
        log.record("late");
        assert!(second.changed("late"));
        drop(task);
        assert!(second.changed("late"));
        drop(second);
        let inner = log.inner();
        assert!(
            inner.last.is_empty(),
            "every window closed: the log forgets the clients"
        );
        assert_eq!(inner.open_windows, 0);
        assert_eq!(inner.count, 4);
    }
}
