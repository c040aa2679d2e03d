//! What the host brings to a propagator: the credential store of each track
//! ([`CredentialSink`]), the full-mode application callbacks ([`Management`]) and the
//! values they exchange (the original's `UpsertInput`, `PendingPropagation`, …), and
//! [`PropagatorParts`], a propagator's validated options.

use std::sync::Arc;

use async_trait::async_trait;

use super::{CallbackError, SinkError};
use crate::hmac::HmacClients;
use crate::hmac::clients::{AllowedIps, ExpiresAt, Patch};
use crate::propagation::Logger;
use crate::propagation::state::PropagationState;
use crate::propagation::wire::EventAuth;
use crate::secret::{ExposeSecret, SecretString};

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
    /// The instance's `secretToken`, the pepper of `hashClientSecret` (`None`: plain
    /// SHA-256). The core computes the hash it then hands to [`Self::set_secret_hash`].
    fn secret_token(&self) -> Option<&str>;
    /// This sink as [`Any`](std::any::Any), so that a host's [`Management`] can recognize
    /// its own sinks (see [`Management::ensure_steps_gated`]). Default: `None`.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
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
    fn secret_token(&self) -> Option<&str> {
        self.config()
            .secret_token
            .as_ref()
            .map(|t| t.expose_secret())
    }
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

/// `UpsertInput`. For `credential.delete` (from `revoke`) the original passes no
/// `allowedIps` / `expiresAt` keys; bindings omit them when `op` is delete.
#[derive(Clone, PartialEq)]
pub struct UpsertInput {
    /// The credential's client id.
    pub client_id: String,
    /// `http` or `message`.
    pub track: String,
    /// `credential.create`, `credential.update` or `credential.delete`.
    pub op: String,
    /// The plain secret (none for a delete).
    pub secret_plain: Option<String>,
    /// IP/CIDR allow-list.
    pub allowed_ips: Option<Vec<String>>,
    /// Expiry, epoch milliseconds.
    pub expires_at: Option<i64>,
    /// Logical names of the target peers.
    pub targets: Vec<String>,
}

crate::redacted_debug!(UpsertInput { client_id, track, op, allowed_ips, expires_at, targets } secret { secret_plain });

/// `RotateInput`.
#[derive(Clone, PartialEq)]
pub struct RotateInput {
    /// The credential's client id.
    pub client_id: String,
    /// `http` or `message`.
    pub track: String,
    /// The new plain secret.
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
    /// The credential's client id.
    pub client_id: String,
    /// `http` or `message`.
    pub track: String,
    /// `credential.create`, `credential.update` or `credential.delete`.
    pub op: String,
    /// The plain secret (none for a delete).
    pub secret_plain: Option<String>,
    /// IP/CIDR allow-list.
    pub allowed_ips: Option<Vec<String>>,
    /// Expiry, epoch milliseconds.
    pub expires_at: Option<i64>,
    /// The targets still to reach.
    pub pending_targets: Vec<PendingTarget>,
}

crate::redacted_debug!(PendingPropagation { client_id, track, op, allowed_ips, expires_at, pending_targets } secret { secret_plain });

/// `TargetSentInput`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSentInput {
    /// The credential's client id.
    pub client_id: String,
    /// The target's logical name.
    pub target_amqp_queue: String,
    /// Publish time, epoch milliseconds.
    pub sent_at: i64,
    /// Publish attempts so far, this one included.
    pub attempt_count: u32,
}

/// `TargetSuccessInput`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSuccessInput {
    /// The credential's client id.
    pub client_id: String,
    /// The target's logical name.
    pub target_amqp_queue: String,
    /// When the target applied it, epoch milliseconds.
    pub applied_at: i64,
}

/// `TargetErrorInput`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetErrorInput {
    /// The credential's client id.
    pub client_id: String,
    /// The target's logical name.
    pub target_amqp_queue: String,
    /// The target's reason.
    pub reason: String,
    /// When the target answered, epoch milliseconds.
    pub failed_at: i64,
}

/// `FullyPropagatedInput`.
#[derive(Debug, Clone, PartialEq)]
pub struct FullyPropagatedInput {
    /// The credential's client id.
    pub client_id: String,
    /// `success`, `partial` or `error`.
    pub final_status: String,
    /// When the last target answered, epoch milliseconds.
    pub at: i64,
}

/// `PropagatorManagement`: the 8 application callbacks of full mode.
#[async_trait]
pub trait Management: Send + Sync + 'static {
    /// `upsertCredentialWithTargets`: record the credential and its targets.
    async fn upsert_credential_with_targets(&self, input: UpsertInput)
    -> Result<(), CallbackError>;
    /// `rotateCredentialSecret`: record a new secret.
    async fn rotate_credential_secret(&self, input: RotateInput) -> Result<(), CallbackError>;
    /// `fetchPendingPropagations`: what `sync` still has to publish.
    async fn fetch_pending_propagations(&self) -> Result<Vec<PendingPropagation>, CallbackError>;
    /// `fetchSourcePropagationSecret`: the env secret of a sending peer (`None`: unknown).
    async fn fetch_source_propagation_secret(
        &self,
        sender_amqp_queue: &str,
    ) -> Result<Option<String>, CallbackError>;
    /// `markTargetSent`: an event to a target was published.
    async fn mark_target_sent(&self, input: TargetSentInput) -> Result<(), CallbackError>;
    /// `markTargetSuccess`: a target applied the credential.
    async fn mark_target_success(&self, input: TargetSuccessInput) -> Result<(), CallbackError>;
    /// `markTargetError`: a target refused the credential.
    async fn mark_target_error(&self, input: TargetErrorInput) -> Result<(), CallbackError>;
    /// `markCredentialFullyPropagated`: every target answered.
    async fn mark_credential_fully_propagated(
        &self,
        input: FullyPropagatedInput,
    ) -> Result<(), CallbackError>;

    /// The host's part of `ensure` while the core reads the client's outstanding events:
    /// `clients.get` on `sink` (unless [`EnsureSteps::exists`] already says), then the
    /// core's verdict from `gate`: when it says proceed (nothing to retire), the steps of
    /// [`Self::ensure_steps`] that follow `clients.get` (`upsertCredentialWithTargets`, then
    /// `clients.setSecretHash`), answered [`GatedEnsure::Done`]; otherwise nothing more,
    /// answered [`GatedEnsure::Stopped`] with what `clients.get` said (the core retires
    /// first, then calls [`Self::ensure_steps`] with it). Nothing is written before the
    /// verdict. The default makes the calls one by one ([`ensure_steps_gated_each`]); a
    /// binding whose callbacks and sink live across a language boundary makes them in one
    /// hand-off, so that the read of the ack store overlaps it.
    async fn ensure_steps_gated(
        &self,
        sink: &dyn CredentialSink,
        steps: EnsureSteps,
        gate: EnsureGate,
    ) -> Result<GatedEnsure, super::PropagationError> {
        ensure_steps_gated_each(self, sink, steps, gate).await
    }

    /// The host's part of `ensure`, after the ack store was settled, in the original's
    /// order: `clients.get` on `sink` (unless [`EnsureSteps::exists`] already says), then
    /// `upsertCredentialWithTargets` with the op that follows, then, only if that
    /// succeeded, `clients.setSecretHash`. Returns the op. The default makes the calls one
    /// by one ([`ensure_steps_each`]); an override must make the same calls, in the same
    /// order, with the same errors.
    async fn ensure_steps(
        &self,
        sink: &dyn CredentialSink,
        steps: EnsureSteps,
    ) -> Result<&'static str, super::PropagationError> {
        ensure_steps_each(self, sink, steps).await
    }

    /// The callbacks of one ACK: `markTargetSuccess` (or `markTargetError`), then, when
    /// `fully` is given and that call succeeded, `markCredentialFullyPropagated`. The
    /// default makes the calls one by one ([`ack_steps_each`]).
    async fn ack_steps(
        &self,
        result: AckResult,
        fully: Option<FullyPropagatedInput>,
    ) -> Result<(), CallbackError> {
        ack_steps_each(self, result, fully).await
    }

    /// The host's part of `rotate`, after the ack store was settled:
    /// `rotateCredentialSecret`, then, only if it succeeded,
    /// `clients.setSecretHash(clientId, secretHash)`. The default makes the calls one by
    /// one ([`rotate_steps_each`]).
    async fn rotate_steps(
        &self,
        sink: &dyn CredentialSink,
        input: RotateInput,
        secret_hash: String,
    ) -> Result<(), super::PropagationError> {
        rotate_steps_each(self, sink, input, secret_hash).await
    }
}

/// What [`Management::ensure_steps`] needs: the upsert's fields without its op, the hash
/// to apply locally, and whether the client exists when that is already known.
#[derive(Clone, PartialEq)]
pub struct EnsureSteps {
    /// `Some` when the caller already asked `clients.get`; `None`: ask it first.
    pub exists: Option<bool>,
    /// The credential's client id.
    pub client_id: String,
    /// `http` or `message`.
    pub track: String,
    /// The plain secret.
    pub secret_plain: String,
    /// IP/CIDR allow-list.
    pub allowed_ips: Option<Vec<String>>,
    /// Expiry, epoch milliseconds.
    pub expires_at: Option<i64>,
    /// Logical names of the target peers.
    pub targets: Vec<String>,
    /// `hashClientSecret(secret_plain, sink's secretToken)`.
    pub secret_hash: String,
}

crate::redacted_debug!(EnsureSteps { exists, client_id, track, allowed_ips, expires_at, targets } secret { secret_plain, secret_hash });

/// `credential.update` when the client exists, else `credential.create`.
pub fn ensure_op(exists: bool) -> &'static str {
    if exists {
        crate::propagation::wire::OP_UPDATE
    } else {
        crate::propagation::wire::OP_CREATE
    }
}

/// [`Management::ensure_steps`], one call at a time.
pub async fn ensure_steps_each<M: Management + ?Sized>(
    m: &M,
    sink: &dyn CredentialSink,
    steps: EnsureSteps,
) -> Result<&'static str, super::PropagationError> {
    let exists = match steps.exists {
        Some(e) => e,
        None => sink.exists(&steps.client_id).await?,
    };
    let op = ensure_op(exists);
    m.upsert_credential_with_targets(UpsertInput {
        client_id: steps.client_id.clone(),
        track: steps.track,
        op: op.into(),
        secret_plain: Some(steps.secret_plain),
        allowed_ips: steps.allowed_ips.clone(),
        expires_at: steps.expires_at,
        targets: steps.targets,
    })
    .await?;
    sink.set_secret_hash(
        &steps.client_id,
        &steps.secret_hash,
        steps.expires_at.map(|v| v as f64),
        steps.allowed_ips,
    )
    .await?;
    Ok(op)
}

/// The core's verdict for [`Management::ensure_steps_gated`]: whether the host may go on
/// with its writes (the client has no outstanding event of a listed target, read
/// successfully).
#[derive(Debug)]
pub struct EnsureGate(tokio::sync::oneshot::Receiver<bool>);

impl EnsureGate {
    /// A gate and the sender of its verdict.
    pub fn new() -> (tokio::sync::oneshot::Sender<bool>, Self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (tx, Self(rx))
    }

    /// Waits for the verdict: true to proceed (a dropped sender says stop).
    pub async fn proceed(self) -> bool {
        self.0.await.unwrap_or(false)
    }
}

/// How [`Management::ensure_steps_gated`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatedEnsure {
    /// Every step ran: the op.
    Done(&'static str),
    /// Stopped at the gate, after `clients.get`: whether the client exists.
    Stopped {
        /// What `clients.get` said.
        exists: bool,
    },
}

/// [`Management::ensure_steps_gated`], one call at a time.
pub async fn ensure_steps_gated_each<M: Management + ?Sized>(
    m: &M,
    sink: &dyn CredentialSink,
    mut steps: EnsureSteps,
    gate: EnsureGate,
) -> Result<GatedEnsure, super::PropagationError> {
    let exists = match steps.exists {
        Some(e) => e,
        None => sink.exists(&steps.client_id).await?,
    };
    if !gate.proceed().await {
        return Ok(GatedEnsure::Stopped { exists });
    }
    steps.exists = Some(exists);
    Ok(GatedEnsure::Done(ensure_steps_each(m, sink, steps).await?))
}

/// What an ACK reports to management.
#[derive(Debug, Clone, PartialEq)]
pub enum AckResult {
    /// `markTargetSuccess`.
    Success(TargetSuccessInput),
    /// `markTargetError`.
    Error(TargetErrorInput),
}

/// [`Management::ack_steps`], one call at a time.
pub async fn ack_steps_each<M: Management + ?Sized>(
    m: &M,
    result: AckResult,
    fully: Option<FullyPropagatedInput>,
) -> Result<(), CallbackError> {
    match result {
        AckResult::Success(i) => m.mark_target_success(i).await?,
        AckResult::Error(i) => m.mark_target_error(i).await?,
    }
    if let Some(i) = fully {
        m.mark_credential_fully_propagated(i).await?;
    }
    Ok(())
}

/// [`Management::rotate_steps`], one call at a time.
pub async fn rotate_steps_each<M: Management + ?Sized>(
    m: &M,
    sink: &dyn CredentialSink,
    input: RotateInput,
    secret_hash: String,
) -> Result<(), super::PropagationError> {
    let client_id = input.client_id.clone();
    m.rotate_credential_secret(input).await?;
    sink.set_secret_hash(&client_id, &secret_hash, None, None)
        .await?;
    Ok(())
}

/// `EnsureInput`.
#[derive(Clone, PartialEq, Default)]
pub struct EnsureInput {
    /// The credential's client id.
    pub client_id: String,
    /// The plain secret.
    pub secret: String,
    /// Logical names of the target peers.
    pub targets: Vec<String>,
    /// Default `http`.
    pub track: Option<String>,
    /// IP/CIDR allow-list.
    pub allowed_ips: Option<Vec<String>>,
    /// Expiry, epoch milliseconds.
    pub expires_at: Option<i64>,
}

crate::redacted_debug!(EnsureInput { client_id, targets, track, allowed_ips, expires_at } secret { secret });

/// The result of `ensure`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsureResult {
    /// The credential's client id.
    pub client_id: String,
    /// `credential.create` or `credential.update`.
    pub op: String,
}

/// `RotateInputUsage`.
#[derive(Clone, PartialEq, Default)]
pub struct RotateUsage {
    /// The credential's client id.
    pub client_id: String,
    /// The new plain secret.
    pub secret: String,
    /// `http` (default) or `message`.
    pub track: Option<String>,
}

crate::redacted_debug!(RotateUsage { client_id, track } secret { secret });

/// `RevokeInput`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RevokeInput {
    /// The credential's client id.
    pub client_id: String,
    /// Logical names of the peers to delete it from.
    pub targets: Vec<String>,
    /// `http` (default) or `message`.
    pub track: Option<String>,
}

/// `SyncSummary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncSummary {
    /// Pending propagations read (clients, not targets).
    pub propagations_read: u32,
    /// Targets published.
    pub targets_published: u32,
    /// Targets whose publish failed (retried by the next `sync`).
    pub targets_retrying: u32,
    /// Duration of the `sync`, in milliseconds.
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
    /// Where log lines go.
    pub logger: Arc<dyn Logger>,
    /// Cursors and the ack store.
    pub state: Arc<dyn PropagationState>,
    /// Signed events (authcore extension; default: off, wire v1).
    pub event_auth: EventAuth,
}

impl PropagatorParts {
    /// The store of a track: `http` → http, anything else → message (Node's routing).
    pub(super) fn auth(&self, track: &str) -> Option<&Arc<dyn CredentialSink>> {
        if track == "http" {
            self.http.as_ref()
        } else {
            self.message.as_ref()
        }
    }
}
