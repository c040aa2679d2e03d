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
//! - The receiver holds the cursor lock ([`PropagationState::lock_cursor`]) across cursor
//!   check, apply and cursor write: two consumers of one queue cannot apply an older event
//!   after a newer one.
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

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::Logger;
use super::state::{KeyedGuard, KeyedLocks, PropagationState, PublishedEvent};
use super::transport::{DeliveryHandler, Transport, TransportError};
use super::wire::{self, AckEvent, ApplyEvent, ApplyPayload, Cursor, Envelope};
use crate::hmac::clients::{AllowedIps, ExpiresAt, Patch};
use crate::hmac::{HmacClients, HmacError};
use crate::secret::{ExposeSecret, SecretString};
use crate::store::StoreError;

/// An error a management callback returned. `payload` lets a binding carry its own error
/// object through the core and rethrow it unchanged.
#[derive(Clone)]
pub struct CallbackError {
    pub message: String,
    pub payload: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl CallbackError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            payload: None,
        }
    }
}

impl std::fmt::Debug for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackError")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A failure of a [`CredentialSink`].
#[derive(Debug, Clone)]
pub enum SinkError {
    /// The HMAC core failed: a store failure (`STORE_ERROR`) is transient, anything else
    /// (`MISSING_CLIENT_ID`, an invalid IP rule…) is the input's fault.
    Hmac(HmacError),
    /// A binding's credential store failed (treated as transient, as the original does).
    Callback(CallbackError),
}

impl From<HmacError> for SinkError {
    fn from(e: HmacError) -> Self {
        Self::Hmac(e)
    }
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hmac(e) => e.fmt(f),
            Self::Callback(e) => e.fmt(f),
        }
    }
}

/// Where a track's credentials are applied: the `clients` object and `secretToken` of an
/// HMAC instance (`hmacHttpAuth` / `hmacMessageAuth`). [`HmacClients`] is one; a binding
/// can bring its own (e.g. the JS objects of the Node core).
#[async_trait]
pub trait CredentialSink: Send + Sync + 'static {
    /// `clients.get(clientId) != null`.
    async fn exists(&self, client_id: &str) -> Result<bool, SinkError>;
    /// `clients.setSecretHash(clientId, hash, expiresAt ?? undefined, allowedIps)`:
    /// `None` keeps the stored value.
    async fn set_secret_hash(
        &self,
        client_id: &str,
        secret_hash: &str,
        expires_at: Option<f64>,
        allowed_ips: Option<Vec<String>>,
    ) -> Result<(), SinkError>;
    /// `clients.delete(clientId)`.
    async fn delete(&self, client_id: &str) -> Result<(), SinkError>;
    /// `hashClientSecret(secret, secretToken)`.
    fn hash_secret(&self, secret: &str) -> String;
}

#[async_trait]
impl CredentialSink for HmacClients {
    async fn exists(&self, client_id: &str) -> Result<bool, SinkError> {
        Ok(self.get(client_id).await?.is_some())
    }
    async fn set_secret_hash(
        &self,
        client_id: &str,
        secret_hash: &str,
        expires_at: Option<f64>,
        allowed_ips: Option<Vec<String>>,
    ) -> Result<(), SinkError> {
        Ok(HmacClients::set_secret_hash(
            self,
            client_id,
            secret_hash,
            &expiry_patch(expires_at),
            &ips_patch(allowed_ips),
        )
        .await?)
    }
    async fn delete(&self, client_id: &str) -> Result<(), SinkError> {
        Ok(HmacClients::delete(self, client_id).await?)
    }
    fn hash_secret(&self, secret: &str) -> String {
        self.config().hash(secret)
    }
}

/// Every failure of the propagation module.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PropagationError {
    /// `MANAGEMENT_NOT_CONFIGURED`.
    #[error(
        "ensure/rotate/revoke/sync require the management adapter to be configured in createPropagator options"
    )]
    ManagementNotConfigured,
    /// `UNKNOWN_CLIENT`: `rotate` on a client missing from the local store.
    #[error("rotate: clientId \"{0}\" does not exist")]
    UnknownClient(String),
    /// `INVALID_OPTIONS`, with the original's message.
    #[error("{0}")]
    InvalidOptions(String),
    /// The plain `Error` of `buildQueueName`.
    #[error("{0}")]
    InvalidQueueName(String),
    /// A plain `Error` thrown by `sync` (no auth instance for a track, a null plain).
    #[error("{0}")]
    Sync(String),
    /// A management callback failed; it escapes unchanged.
    #[error("{0}")]
    Callback(CallbackError),
    /// The HMAC core failed (e.g. `MISSING_CLIENT_ID`); it escapes unchanged.
    #[error("{0}")]
    Hmac(HmacError),
    /// The propagation state store failed.
    #[error("{0}")]
    Store(StoreError),
    /// The broker failed.
    #[error("{0}")]
    Transport(TransportError),
    /// `RANDOM_UNAVAILABLE`: the OS random number generator failed (no event id).
    #[error("OS random number generator unavailable: {0}")]
    Random(String),
}

impl PropagationError {
    /// The `HmacPropagationErrorCode` for the original's four codes; otherwise the code of
    /// the wrapped error (`INVALID_QUEUE_NAME`, `SYNC_ERROR`, `CALLBACK_ERROR`, the HMAC
    /// or store code, `TRANSPORT_ERROR`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::ManagementNotConfigured => "MANAGEMENT_NOT_CONFIGURED",
            Self::UnknownClient(_) => "UNKNOWN_CLIENT",
            Self::InvalidOptions(_) => "INVALID_OPTIONS",
            Self::InvalidQueueName(_) => "INVALID_QUEUE_NAME",
            Self::Sync(_) => "SYNC_ERROR",
            Self::Callback(_) => "CALLBACK_ERROR",
            Self::Hmac(e) => e.code(),
            Self::Store(e) => e.code(),
            Self::Transport(_) => "TRANSPORT_ERROR",
            Self::Random(_) => "RANDOM_UNAVAILABLE",
        }
    }
}

impl From<HmacError> for PropagationError {
    fn from(e: HmacError) -> Self {
        Self::Hmac(e)
    }
}
impl From<StoreError> for PropagationError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}
impl From<CallbackError> for PropagationError {
    fn from(e: CallbackError) -> Self {
        Self::Callback(e)
    }
}
impl From<SinkError> for PropagationError {
    fn from(e: SinkError) -> Self {
        match e {
            SinkError::Hmac(e) => Self::Hmac(e),
            SinkError::Callback(e) => Self::Callback(e),
        }
    }
}
impl From<TransportError> for PropagationError {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

/// `UpsertInput`. For `credential.delete` (from `revoke`) the original passes no
/// `allowedIps` / `expiresAt` keys; bindings omit them when `op` is delete.
#[derive(Clone, PartialEq)]
pub struct UpsertInput {
    pub client_id: String,
    pub track: String,
    pub op: String,
    pub secret_plain: Option<String>,
    pub allowed_ips: Option<Vec<String>>,
    pub expires_at: Option<i64>,
    pub targets: Vec<String>,
}

crate::redacted_debug!(UpsertInput { client_id, track, op, allowed_ips, expires_at, targets } secret { secret_plain });

/// `RotateInput`.
#[derive(Clone, PartialEq)]
pub struct RotateInput {
    pub client_id: String,
    pub track: String,
    pub secret_plain: String,
}

crate::redacted_debug!(RotateInput { client_id, track } secret { secret_plain });

/// One entry of `PendingPropagation.pendingTargets`.
#[derive(Clone, PartialEq)]
pub struct PendingTarget {
    /// The logical name (not `hmac-…queue`).
    pub target_amqp_queue: String,
    /// That target's env secret.
    pub propagation_secret: String,
}

crate::redacted_debug!(PendingTarget { target_amqp_queue } secret { propagation_secret });

/// `PendingPropagation`.
#[derive(Clone, PartialEq)]
pub struct PendingPropagation {
    pub client_id: String,
    pub track: String,
    pub op: String,
    pub secret_plain: Option<String>,
    pub allowed_ips: Option<Vec<String>>,
    pub expires_at: Option<i64>,
    pub pending_targets: Vec<PendingTarget>,
}

crate::redacted_debug!(PendingPropagation { client_id, track, op, allowed_ips, expires_at, pending_targets } secret { secret_plain });

/// `TargetSentInput`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSentInput {
    pub client_id: String,
    pub target_amqp_queue: String,
    pub sent_at: i64,
    pub attempt_count: u32,
}

/// `TargetSuccessInput`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSuccessInput {
    pub client_id: String,
    pub target_amqp_queue: String,
    pub applied_at: i64,
}

/// `TargetErrorInput`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetErrorInput {
    pub client_id: String,
    pub target_amqp_queue: String,
    pub reason: String,
    pub failed_at: i64,
}

/// `FullyPropagatedInput`.
#[derive(Debug, Clone, PartialEq)]
pub struct FullyPropagatedInput {
    pub client_id: String,
    /// `success`, `partial` or `error`.
    pub final_status: String,
    pub at: i64,
}

/// `PropagatorManagement`: the 8 application callbacks of full mode.
#[async_trait]
pub trait Management: Send + Sync + 'static {
    async fn upsert_credential_with_targets(&self, input: UpsertInput)
    -> Result<(), CallbackError>;
    async fn rotate_credential_secret(&self, input: RotateInput) -> Result<(), CallbackError>;
    async fn fetch_pending_propagations(&self) -> Result<Vec<PendingPropagation>, CallbackError>;
    async fn fetch_source_propagation_secret(
        &self,
        sender_amqp_queue: &str,
    ) -> Result<Option<String>, CallbackError>;
    async fn mark_target_sent(&self, input: TargetSentInput) -> Result<(), CallbackError>;
    async fn mark_target_success(&self, input: TargetSuccessInput) -> Result<(), CallbackError>;
    async fn mark_target_error(&self, input: TargetErrorInput) -> Result<(), CallbackError>;
    async fn mark_credential_fully_propagated(
        &self,
        input: FullyPropagatedInput,
    ) -> Result<(), CallbackError>;
}

/// `EnsureInput`.
#[derive(Clone, PartialEq, Default)]
pub struct EnsureInput {
    pub client_id: String,
    pub secret: String,
    pub targets: Vec<String>,
    /// Default `http`.
    pub track: Option<String>,
    pub allowed_ips: Option<Vec<String>>,
    pub expires_at: Option<i64>,
}

crate::redacted_debug!(EnsureInput { client_id, targets, track, allowed_ips, expires_at } secret { secret });

/// The result of `ensure`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsureResult {
    pub client_id: String,
    /// `credential.create` or `credential.update`.
    pub op: String,
}

/// `RotateInputUsage`.
#[derive(Clone, PartialEq, Default)]
pub struct RotateUsage {
    pub client_id: String,
    pub secret: String,
    pub track: Option<String>,
}

crate::redacted_debug!(RotateUsage { client_id, track } secret { secret });

/// `RevokeInput`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RevokeInput {
    pub client_id: String,
    pub targets: Vec<String>,
    pub track: Option<String>,
}

/// `SyncSummary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncSummary {
    /// Pending propagations read (clients, not targets).
    pub propagations_read: u32,
    pub targets_published: u32,
    pub targets_retrying: u32,
    pub duration_ms: u64,
}

/// What a propagator is made of, once its options are valid.
pub struct PropagatorParts {
    /// This peer's logical name (`amqpQueue`).
    pub amqp_queue: String,
    /// This peer's own env secret, checked against every inbound event (redacted from
    /// `Debug`, wiped on drop).
    pub propagation_secret: SecretString,
    /// The store of track `http` (`hmacHttpAuth`).
    pub http: Option<Arc<dyn CredentialSink>>,
    /// The store of track `message` (`hmacMessageAuth`).
    pub message: Option<Arc<dyn CredentialSink>>,
    /// Full mode when present; receive-only when absent.
    pub management: Option<Arc<dyn Management>>,
    pub logger: Arc<dyn Logger>,
    pub state: Arc<dyn PropagationState>,
}

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
    /// Counts `ensure`/`rotate`/`revoke` calls; `changed` keeps each client's last count,
    /// so a `sync` skips a client changed after it fetched the pending propagations.
    changes: std::sync::atomic::AtomicU64,
    changed: std::sync::Mutex<HashMap<String, u64>>,
}

impl Shared {
    /// Takes the client lock for a change of `client_id` and records the change.
    async fn begin_change(&self, client_id: &str) -> KeyedGuard {
        let guard = self.client_locks.lock(client_id).await;
        let n = self
            .changes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        self.changed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(client_id.to_owned(), n);
        guard
    }

    /// Whether `client_id` changed after change count `since`.
    fn changed_since(&self, client_id: &str, since: u64) -> bool {
        self.changed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(client_id)
            .is_some_and(|n| *n > since)
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

fn ips_patch(ips: Option<Vec<String>>) -> AllowedIps {
    AllowedIps::from_optional(ips)
}

fn expiry_patch(expires_at: Option<f64>) -> ExpiresAt {
    match expires_at {
        Some(ms) => Patch::Set(ms),
        None => Patch::Keep,
    }
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
            changes: std::sync::atomic::AtomicU64::new(0),
            changed: Default::default(),
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

    fn management(&self) -> Result<&Arc<dyn Management>, PropagationError> {
        self.shared
            .parts
            .management
            .as_ref()
            .ok_or(PropagationError::ManagementNotConfigured)
    }

    fn auth_for_ensure(&self, track: &str) -> Result<&Arc<dyn CredentialSink>, PropagationError> {
        self.shared.parts.auth(track).ok_or_else(|| {
            PropagationError::InvalidOptions(format!("No {track} auth instance configured"))
        })
    }

    /// `ensure(input)`: upsert through management, then apply locally at once. Never
    /// publishes (`sync` does).
    pub async fn ensure(&self, input: EnsureInput) -> Result<EnsureResult, PropagationError> {
        let management = self.management()?;
        let track = input.track.unwrap_or_else(|| "http".into());
        let auth = self.auth_for_ensure(&track)?;
        let op = if auth.exists(&input.client_id).await? {
            wire::OP_UPDATE
        } else {
            wire::OP_CREATE
        };
        // The listed targets go back to `pending`: their outstanding events are retired
        // first, so a late ACK of the old secret cannot mark the new one delivered.
        let _client = self.shared.begin_change(&input.client_id).await;
        self.shared
            .parts
            .state
            .retire_events(&input.client_id, Some(&input.targets))
            .await?;
        management
            .upsert_credential_with_targets(UpsertInput {
                client_id: input.client_id.clone(),
                track: track.clone(),
                op: op.into(),
                secret_plain: Some(input.secret.clone()),
                allowed_ips: input.allowed_ips.clone(),
                expires_at: input.expires_at,
                targets: input.targets,
            })
            .await?;
        let hash = auth.hash_secret(&input.secret);
        auth.set_secret_hash(
            &input.client_id,
            &hash,
            input.expires_at.map(|v| v as f64),
            input.allowed_ips,
        )
        .await?;
        Ok(EnsureResult {
            client_id: input.client_id,
            op: op.into(),
        })
    }

    /// `rotate(input)`: `UNKNOWN_CLIENT` unless the client exists locally; then
    /// `rotateCredentialSecret` and the new hash applied locally.
    pub async fn rotate(&self, input: RotateUsage) -> Result<String, PropagationError> {
        let management = self.management()?;
        let track = input.track.unwrap_or_else(|| "http".into());
        let auth = self.auth_for_ensure(&track)?;
        if !auth.exists(&input.client_id).await? {
            return Err(PropagationError::UnknownClient(input.client_id));
        }
        // Every target of the client goes back to `pending`: retire all its events first.
        let _client = self.shared.begin_change(&input.client_id).await;
        self.shared
            .parts
            .state
            .retire_events(&input.client_id, None)
            .await?;
        management
            .rotate_credential_secret(RotateInput {
                client_id: input.client_id.clone(),
                track,
                secret_plain: input.secret.clone(),
            })
            .await?;
        let hash = auth.hash_secret(&input.secret);
        auth.set_secret_hash(&input.client_id, &hash, None, None)
            .await?;
        Ok(input.client_id)
    }

    /// `revoke(input)`: upsert a `credential.delete` with the listed targets, then delete
    /// locally (when this peer has the track's store).
    pub async fn revoke(&self, input: RevokeInput) -> Result<String, PropagationError> {
        let management = self.management()?;
        let track = input.track.unwrap_or_else(|| "http".into());
        let _client = self.shared.begin_change(&input.client_id).await;
        self.shared
            .parts
            .state
            .retire_events(&input.client_id, Some(&input.targets))
            .await?;
        management
            .upsert_credential_with_targets(UpsertInput {
                client_id: input.client_id.clone(),
                track: track.clone(),
                op: wire::OP_DELETE.into(),
                secret_plain: None,
                allowed_ips: None,
                expires_at: None,
                targets: input.targets,
            })
            .await?;
        if let Some(auth) = self.shared.parts.auth(&track) {
            auth.delete(&input.client_id).await?;
        }
        Ok(input.client_id)
    }

    /// `sync()`: for every pending propagation, in order: apply locally and record one
    /// apply event per pending target, then publish them (queue declared, publish
    /// confirmed, `markTargetSent`, in the original's order). Publishes are pipelined: up to
    /// [`SYNC_IN_FLIGHT`] await their broker confirm at once while the next propagations are
    /// applied and recorded (the original waits for each confirm in turn). A propagation whose local
    /// apply fails still ends the sync with that error, after the events of the
    /// propagations before it were published, as in the original.
    ///
    /// `sync()` calls run one at a time (a second call waits for the first). Each client is
    /// handled under its client lock, from its local apply to the last `markTargetSent` of
    /// its events; a client changed by `ensure`/`rotate`/`revoke` since the fetch is
    /// skipped (its targets are counted as retrying: the next `sync` sends the new state).
    pub async fn sync(&self) -> Result<SyncSummary, PropagationError> {
        let management = self.management()?.clone();
        let _one_at_a_time = self.shared.sync_lock.lock().await;
        let started = std::time::Instant::now();
        let since = self
            .shared
            .changes
            .load(std::sync::atomic::Ordering::SeqCst);
        let pending = management.fetch_pending_propagations().await?;
        let mut summary = SyncSummary {
            propagations_read: pending.len() as u32,
            ..SyncSummary::default()
        };
        let mut publishing = Publishing::default();
        let mut outcome = Ok(());
        for p in pending {
            let client = Arc::new(self.shared.client_locks.lock(&p.client_id).await);
            if self.shared.changed_since(&p.client_id, since) {
                self.shared.parts.logger.info(&format!(
                    "[propagation] {} changed since this sync read it; the next sync sends it",
                    p.client_id
                ));
                summary.targets_retrying += p.pending_targets.len() as u32;
                continue;
            }
            let events = match self.prepare(&p, &mut summary).await {
                Ok(events) => events,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
            for (target, event) in events {
                while publishing.len() >= SYNC_IN_FLIGHT {
                    self.finish_one(&*management, &mut publishing, &mut summary)
                        .await;
                }
                self.start_publish(&mut publishing, target, event, client.clone());
            }
        }
        while !publishing.is_empty() {
            self.finish_one(&*management, &mut publishing, &mut summary)
                .await;
        }
        outcome?;
        summary.duration_ms = started.elapsed().as_millis() as u64;
        Ok(summary)
    }

    /// The local apply of one propagation and the ack-store record of each target's event
    /// (every target before any publish, so that no ACK can empty the pending set while
    /// another target of this credential is still to be published). Returns the events to
    /// publish; a target whose record failed is counted as retrying.
    async fn prepare(
        &self,
        p: &PendingPropagation,
        summary: &mut SyncSummary,
    ) -> Result<Vec<(String, ApplyEvent)>, PropagationError> {
        let parts = &self.shared.parts;
        let auth = parts.auth(&p.track).ok_or_else(|| {
            PropagationError::Sync(format!(
                "No {} auth instance configured for propagation of {}",
                p.track, p.client_id
            ))
        })?;
        let secret_hash = if p.op == wire::OP_DELETE {
            auth.delete(&p.client_id).await?;
            String::new()
        } else {
            let plain = p.secret_plain.as_deref().ok_or_else(|| {
                PropagationError::Sync(format!(
                    "Plain is null for non-delete op {} on {}",
                    p.op, p.client_id
                ))
            })?;
            let hash = auth.hash_secret(plain);
            auth.set_secret_hash(
                &p.client_id,
                &hash,
                p.expires_at.map(|v| v as f64),
                p.allowed_ips.clone(),
            )
            .await?;
            hash
        };
        let mut events = Vec::with_capacity(p.pending_targets.len());
        // Strictly above the previous event's ts for this client, even in the same
        // millisecond or after the clock stepped back: a new event is never stale.
        let mut last = parts.state.last_event_ts(&p.client_id).await?;
        for target in &p.pending_targets {
            let event_id =
                wire::random_uuid().map_err(|e| PropagationError::Random(e.to_string()))?;
            let sent_at = wire::next_event_ts(now_ms(), last);
            last = Some(sent_at);
            let rec = PublishedEvent {
                client_id: p.client_id.clone(),
                target_amqp_queue: target.target_amqp_queue.clone(),
                attempt_count: 1.0,
                sent_at: sent_at as f64,
            };
            if let Err(e) = parts.state.record_published_event(&event_id, &rec).await {
                parts.logger.warn(&format!(
                    "[propagation] publish to {} for {} failed: {e}",
                    target.target_amqp_queue, p.client_id
                ));
                summary.targets_retrying += 1;
                continue;
            }
            let event = ApplyEvent {
                event_id,
                ts: sent_at,
                propagation_secret: target.propagation_secret.clone(),
                sender_amqp_queue: parts.amqp_queue.clone(),
                op: p.op.clone(),
                track: p.track.clone(),
                client_id: p.client_id.clone(),
                payload: ApplyPayload {
                    secret_hash: secret_hash.clone(),
                    allowed_ips: p.allowed_ips.clone(),
                    expires_at: p.expires_at,
                },
            };
            events.push((target.target_amqp_queue.clone(), event));
        }
        Ok(events)
    }

    /// Starts the publish of one recorded event (declare the target queue, publish, wait
    /// for the confirm) as a task.
    fn start_publish(
        &self,
        publishing: &mut Publishing,
        target: String,
        event: ApplyEvent,
        client: Arc<KeyedGuard>,
    ) {
        self.shared.begin_unmarked(&event.event_id);
        let transport = self.shared.transport.clone();
        let body = wire::encode(&event);
        let queue = wire::build_queue_name(&target);
        let handle = tokio::spawn(async move {
            let queue = queue?;
            transport
                .ensure_queue_declared(&queue)
                .await
                .map_err(|e| e.to_string())?;
            transport
                .publish(&queue, &body)
                .await
                .map_err(|e| e.to_string())
        });
        publishing.push_back((handle, target, event, client));
    }

    /// Waits for the oldest publish to finish and does its bookkeeping: `markTargetSent` when
    /// confirmed; otherwise the target is retrying and its event stays pending, so the
    /// credential cannot complete before the next sync has sent it (which replaces it).
    async fn finish_one(
        &self,
        management: &dyn Management,
        publishing: &mut Publishing,
        summary: &mut SyncSummary,
    ) {
        let Some((handle, target, event, client)) = publishing.pop_front() else {
            return;
        };
        let published = handle
            .await
            .unwrap_or_else(|e| Err(format!("publish task failed: {e}")));
        let outcome = match published {
            Ok(()) => management
                .mark_target_sent(TargetSentInput {
                    client_id: event.client_id.clone(),
                    target_amqp_queue: target.clone(),
                    sent_at: event.ts,
                    attempt_count: 1,
                })
                .await
                .map_err(|e| e.message),
            Err(e) => Err(e),
        };
        self.shared.end_unmarked(&event.event_id);
        drop(client);
        match outcome {
            Ok(()) => summary.targets_published += 1,
            Err(msg) => {
                self.shared.parts.logger.warn(&format!(
                    "[propagation] publish to {target} for {} failed: {msg}",
                    event.client_id
                ));
                summary.targets_retrying += 1;
            }
        }
    }
}

/// Publishes of one `sync` awaiting their broker confirm, oldest first, with their
/// target, event and the lock of their client (released after the client's last
/// `markTargetSent`).
type Publishing = std::collections::VecDeque<(
    tokio::task::JoinHandle<Result<(), String>>,
    String,
    ApplyEvent,
    Arc<KeyedGuard>,
)>;

/// How many publishes of one `sync` may await their broker confirm at once.
const SYNC_IN_FLIGHT: usize = 64;

impl PropagatorParts {
    /// The store of a track: `http` → http, anything else → message (Node's routing).
    fn auth(&self, track: &str) -> Option<&Arc<dyn CredentialSink>> {
        if track == "http" {
            self.http.as_ref()
        } else {
            self.message.as_ref()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Receive pipeline
// ---------------------------------------------------------------------------------------

/// The transport's delivery handler: a weak reference to the propagator (no cycle through
/// the transport that holds it).
struct Receiver {
    shared: std::sync::Weak<Shared>,
}

#[async_trait]
impl DeliveryHandler for Receiver {
    async fn handle(&self, body: Vec<u8>) -> Result<(), String> {
        match self.shared.upgrade() {
            Some(shared) => Handling { shared }.handle(body).await,
            // Dropped meanwhile: the message goes back to the queue.
            None => Err("the propagator was dropped".to_owned()),
        }
    }
}

/// One delivery being handled, with the propagator held for its duration.
struct Handling {
    shared: Arc<Shared>,
}

impl Handling {
    async fn handle(&self, body: Vec<u8>) -> Result<(), String> {
        let parts = &self.shared.parts;
        let log = &parts.logger;
        let env = match wire::decode(&body) {
            Ok(env) => env,
            Err(msg) => {
                log.warn(&format!("[propagation] dropping malformed event: {msg}"));
                return Ok(());
            }
        };
        if !wire::propagation_secret_matches(
            &env.propagation_secret,
            parts.propagation_secret.expose_secret(),
        ) {
            log.warn(&format!(
                "[propagation] propagation-secret-mismatch from {}, dropping eventId={}",
                env.sender_amqp_queue, env.event_id
            ));
            return Ok(());
        }
        match env.op.as_str() {
            wire::OP_ACK => self.handle_ack(&env).await.map_err(|e| e.to_string()),
            wire::OP_CREATE | wire::OP_UPDATE | wire::OP_DELETE => self.handle_apply(&env).await,
            other => {
                log.warn(&format!(
                    "[propagation] unknown event op=\"{other}\", dropping"
                ));
                Ok(())
            }
        }
    }
}

/// `fetchSourcePropagationSecret(sender)`, or `""` (receive-only mode, unknown sender, or a
/// failed callback, which is logged).
async fn source_secret(shared: Arc<Shared>, sender: String) -> String {
    let parts = &shared.parts;
    let Some(m) = &parts.management else {
        return String::new();
    };
    match m.fetch_source_propagation_secret(&sender).await {
        Ok(Some(s)) => s,
        Ok(None) => String::new(),
        Err(e) => {
            parts.logger.warn(&format!(
                "[propagation] fetchSourcePropagationSecret failed for {sender}: {}",
                e.message
            ));
            String::new()
        }
    }
}

impl Handling {
    async fn handle_apply(&self, env: &Envelope) -> Result<(), String> {
        let parts = &self.shared.parts;
        let log = &parts.logger;
        let apply = match env.apply_parts() {
            Ok(a) if wire::is_valid_queue_name(&env.sender_amqp_queue) => a,
            Ok(_) => {
                log.warn(&format!(
                    "[propagation] dropping event {}: senderAmqpQueue is not a valid queue name",
                    env.event_id
                ));
                return Ok(());
            }
            Err(msg) => {
                log.warn(&format!(
                    "[propagation] dropping malformed event {}: {msg}",
                    env.event_id
                ));
                return Ok(());
            }
        };
        let result = self.apply(env, &apply).await;
        if let Err(e) = &result {
            log.error(&format!(
                "[propagation] apply failed for {}, requeue: {e}",
                apply.client_id
            ));
        }
        result.map_err(|e| e.to_string())
    }

    async fn apply(&self, env: &Envelope, a: &wire::ApplyParts) -> Result<(), PropagationError> {
        let parts = &self.shared.parts;
        // The sender's secret (for the ACK) is read from management while the event is
        // applied: one callback round trip off the per-event critical path.
        let secret = tokio::spawn(source_secret(
            self.shared.clone(),
            env.sender_amqp_queue.clone(),
        ));
        let incoming = Cursor {
            ts: env.ts,
            event_id: env.event_id.clone(),
        };
        // Cursor check, apply and cursor write under the cursor lock: a second consumer of
        // this queue (another instance of this peer) cannot interleave them.
        let lock = parts.state.lock_cursor(&a.track, &a.client_id).await?;
        let decided = self.decide_and_apply(env, a, &incoming).await;
        if let Err(e) = parts.state.unlock_cursor(lock).await {
            parts.logger.warn(&format!(
                "[propagation] releasing the cursor lock of {} failed (its lease expires): {e}",
                a.client_id
            ));
        }
        let (result, reason) = match decided? {
            None => ("applied", None),
            Some(reason) => ("error", Some(reason)),
        };
        self.ack_back(env, &a.client_id, result, reason, secret)
            .await
    }

    /// The decision and the apply, under the cursor lock. `None`: answer `applied`;
    /// `Some(reason)`: answer `error` with that reason. A store failure is an `Err`
    /// (nack and requeue).
    async fn decide_and_apply(
        &self,
        env: &Envelope,
        a: &wire::ApplyParts,
        incoming: &Cursor,
    ) -> Result<Option<String>, PropagationError> {
        let parts = &self.shared.parts;
        let current = parts.state.read_cursor(&a.track, &a.client_id).await?;
        match wire::freshness(current.as_ref(), incoming) {
            wire::Freshness::Newer => {}
            // A redelivery of the event the cursor holds: it was applied.
            wire::Freshness::Same => {
                parts.logger.info(&format!(
                    "[propagation] dropping stale event {} for {} (already applied)",
                    env.event_id, a.client_id
                ));
                return Ok(None);
            }
            // Older than what this peer holds: not applied, and said so.
            wire::Freshness::Older => {
                parts.logger.info(&format!(
                    "[propagation] dropping stale event {} for {}",
                    env.event_id, a.client_id
                ));
                return Ok(Some(wire::STALE_REASON.into()));
            }
        }
        let Some(auth) = parts.auth(&a.track) else {
            return Ok(Some(format!("no {} auth instance configured", a.track)));
        };
        let applied = if env.op == wire::OP_DELETE {
            auth.delete(&a.client_id).await
        } else {
            auth.set_secret_hash(
                &a.client_id,
                &a.secret_hash,
                a.expires_at,
                a.allowed_ips.clone(),
            )
            .await
        };
        match applied {
            Ok(()) => {}
            // A store failure is transient: nack and requeue, as the original does.
            Err(e @ (SinkError::Hmac(HmacError::Store(_)) | SinkError::Callback(_))) => {
                return Err(e.into());
            }
            // Anything else is this event's fault and would fail forever: answer it.
            Err(e) => {
                parts.logger.warn(&format!(
                    "[propagation] rejected event {} for {}: {e}",
                    env.event_id, a.client_id
                ));
                return Ok(Some(e.to_string()));
            }
        }
        parts
            .state
            .write_cursor(&a.track, &a.client_id, incoming)
            .await?;
        Ok(None)
    }

    /// `publishAckBack`: the ACK goes to the sender's queue, carrying the sender's secret
    /// as management knows it (`""` in receive-only mode or when unknown).
    async fn ack_back(
        &self,
        env: &Envelope,
        client_id: &str,
        result: &str,
        reason: Option<String>,
        secret: tokio::task::JoinHandle<String>,
    ) -> Result<(), PropagationError> {
        let parts = &self.shared.parts;
        let sender = &env.sender_amqp_queue;
        let secret = match secret.await {
            Ok(s) => s,
            Err(e) => {
                parts.logger.warn(&format!(
                    "[propagation] fetchSourcePropagationSecret failed for {sender}: {e}"
                ));
                String::new()
            }
        };
        if secret.is_empty() {
            parts.logger.warn(&format!(
                "[propagation] ack to {sender} for {client_id} has no source secret; receiver will warn-drop"
            ));
        }
        let ack = AckEvent {
            event_id: wire::random_uuid().map_err(|e| PropagationError::Random(e.to_string()))?,
            ts: now_ms(),
            propagation_secret: secret,
            sender_amqp_queue: parts.amqp_queue.clone(),
            op: wire::OP_ACK.into(),
            ack_event_id: env.event_id.clone(),
            ack_result: result.into(),
            ack_reason: reason,
        };
        let queue = wire::build_queue_name(sender).map_err(PropagationError::InvalidQueueName)?;
        self.shared
            .transport
            .publish(&queue, &wire::encode(&ack))
            .await?;
        Ok(())
    }

    async fn handle_ack(&self, env: &Envelope) -> Result<(), PropagationError> {
        let parts = &self.shared.parts;
        let ack = env.ack_parts();
        let rec = match &ack.ack_event_id {
            Some(id) => parts.state.read_published_event(id).await?,
            None => None,
        };
        let (Some(rec), Some(ack_event_id)) = (rec, ack.ack_event_id.as_deref()) else {
            parts.logger.warn(&format!(
                "[propagation] received ack for unknown eventId={}, dropping",
                ack.ack_event_id.as_deref().unwrap_or("undefined")
            ));
            return Ok(());
        };
        let at = now_ms();
        let success = ack.ack_result.as_deref() == Some("applied");
        let result = if success { "success" } else { "error" };
        let Some(m) = &parts.management else {
            return Ok(parts
                .state
                .record_target_result(&rec.client_id, &rec.target_amqp_queue, result, ack_event_id)
                .await?);
        };
        // Under the client lock (exclusive with ensure/rotate/revoke and with sync's
        // record..markTargetSent), read again: a rotate may have retired the event.
        let _client = self.shared.client_locks.lock(&rec.client_id).await;
        let Some(rec) = parts.state.read_published_event(ack_event_id).await? else {
            parts.logger.warn(&format!(
                "[propagation] received ack for unknown eventId={ack_event_id}, dropping"
            ));
            return Ok(());
        };
        self.shared.wait_marked(ack_event_id).await;
        // The callbacks and the completion run before the ack store forgets the event: an
        // authority crash in between redoes them when the ACK is redelivered (the original
        // forgets first, and a crash leaves the row `sent` forever).
        let completed = match self
            .ack_callbacks(&**m, &rec, success, result, ack.ack_reason, at)
            .await
        {
            Ok(completed) => completed,
            Err(e) => {
                parts.logger.error(&format!(
                    "[propagation] management callback failed during ack handling for {}: {e}",
                    rec.client_id
                ));
                false
            }
        };
        parts
            .state
            .record_target_result(&rec.client_id, &rec.target_amqp_queue, result, ack_event_id)
            .await?;
        if completed {
            parts.state.clear_client_aggregates(&rec.client_id).await?;
        }
        Ok(())
    }

    /// `markTargetSuccess`/`markTargetError`, then `markCredentialFullyPropagated` when this
    /// event is the client's last pending one (its result counted in). `Ok(true)`: the
    /// credential completed.
    async fn ack_callbacks(
        &self,
        m: &dyn Management,
        rec: &PublishedEvent,
        success: bool,
        result: &str,
        reason: Option<String>,
        at: i64,
    ) -> Result<bool, PropagationError> {
        let state = &self.shared.parts.state;
        if success {
            m.mark_target_success(TargetSuccessInput {
                client_id: rec.client_id.clone(),
                target_amqp_queue: rec.target_amqp_queue.clone(),
                applied_at: at,
            })
            .await?;
        } else {
            m.mark_target_error(TargetErrorInput {
                client_id: rec.client_id.clone(),
                target_amqp_queue: rec.target_amqp_queue.clone(),
                reason: reason.unwrap_or_else(|| "unknown".into()),
                failed_at: at,
            })
            .await?;
        }
        // The event is still in the pending set (recorded with its ack record, which was
        // just read): it is the last one when the set holds at most it.
        if state.pending_count(&rec.client_id).await? > 1 {
            return Ok(false);
        }
        let mut results = state.read_client_results(&rec.client_id).await?;
        results.insert(rec.target_amqp_queue.clone(), result.to_owned());
        let final_status = wire::aggregate_final_status(results.values().map(String::as_str));
        m.mark_credential_fully_propagated(FullyPropagatedInput {
            client_id: rec.client_id.clone(),
            final_status: final_status.into(),
            at,
        })
        .await?;
        Ok(true)
    }
}
