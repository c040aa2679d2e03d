//! The sending side (full mode): `ensure`, `rotate`, `revoke` and `sync`.

use std::sync::Arc;

use super::{
    CredentialSink, EnsureGate, EnsureInput, EnsureResult, EnsureSteps, GatedEnsure, Management,
    PendingPropagation, PropagationError, Propagator, RevokeInput, RotateInput, RotateUsage,
    Shared, SyncSummary, SyncWindow, TargetSentInput, UpsertInput, now_ms,
};
use crate::propagation::state::{KeyedGuard, PublishedEvent};

/// `hashClientSecret(secret, secretToken)` with the track's pepper: the core hashes, the
/// store only says which pepper it uses.
fn hash_secret(auth: &dyn CredentialSink, secret: &str) -> String {
    crate::hmac::crypto::hash_client_secret(secret, auth.secret_token())
}
use crate::propagation::wire::{self, ApplyEvent, ApplyPayload};

impl Propagator {
    fn management(&self) -> Result<&Arc<dyn Management>, PropagationError> {
        self.shared
            .parts
            .management
            .as_ref()
            .ok_or(PropagationError::ManagementNotConfigured)
    }

    /// `MANAGEMENT_NOT_CONFIGURED` unless a management adapter was configured: the first
    /// check of `ensure`, `rotate`, `revoke` and `sync`, before their arguments are read
    /// (the original's order), for a binding to make before it converts those arguments.
    pub fn require_management(&self) -> Result<(), PropagationError> {
        self.management().map(|_| ())
    }

    fn auth_for_ensure(&self, track: &str) -> Result<&Arc<dyn CredentialSink>, PropagationError> {
        self.shared.parts.auth(track).ok_or_else(|| {
            PropagationError::InvalidOptions(format!("No {track} auth instance configured"))
        })
    }

    /// The first checks of `ensure`, `rotate` and `revoke`, in the original's order: the
    /// management adapter, then the track (`http` by default).
    fn management_and_track(
        &self,
        track: Option<String>,
    ) -> Result<(&Arc<dyn Management>, String), PropagationError> {
        let management = self.management()?;
        Ok((management, track.unwrap_or_else(|| "http".into())))
    }

    /// The checks of `ensure` and `rotate`, in the original's order:
    /// [`Self::management_and_track`], then the track's auth instance (`INVALID_OPTIONS`
    /// `No {track} auth instance configured`).
    #[allow(clippy::type_complexity)]
    fn ensure_checks(
        &self,
        track: Option<String>,
    ) -> Result<(&Arc<dyn Management>, String, &Arc<dyn CredentialSink>), PropagationError> {
        let (management, track) = self.management_and_track(track)?;
        let auth = self.auth_for_ensure(&track)?;
        Ok((management, track, auth))
    }

    /// `ensure(input)`: upsert through management, then apply locally at once. Never
    /// publishes (`sync` does).
    pub async fn ensure(&self, mut input: EnsureInput) -> Result<EnsureResult, PropagationError> {
        let (management, track, auth) = self.ensure_checks(input.track.take())?;
        let client = self.shared.begin_change(&input.client_id).await;
        let client_id = input.client_id.clone();
        let (steps, sink, read, mut ticket) = self.host_ensure(client, auth.clone(), track, input);
        ticket.host_read = None;
        // The host's steps start at once (`clients.get`, while the outstanding events are
        // read) and wait at the gate before their first write: one hand-off in the common
        // case, no round trip of its own for the read.
        let (verdict, gate) = EnsureGate::new();
        let read = async {
            let _ = verdict.send(read.await);
        };
        let (host, ()) = tokio::join!(
            management.ensure_steps_gated(sink.as_ref(), steps.clone(), gate),
            read
        );
        let op = match host? {
            GatedEnsure::Done(op) => op,
            GatedEnsure::Stopped { exists } => {
                ticket.retire().await?;
                management
                    .ensure_steps(
                        sink.as_ref(),
                        EnsureSteps {
                            exists: Some(exists),
                            ..steps
                        },
                    )
                    .await?
            }
        };
        drop(ticket);
        Ok(EnsureResult {
            client_id,
            op: op.into(),
        })
    }

    /// `ensure(input)` for a host that runs the host steps itself (a binding whose
    /// callbacks live on the host's thread, such as the Node event loop), without waiting:
    /// the client lock is taken now, or `Ok(None)` when another change, an ACK or a `sync`
    /// holds it (then call [`Self::ensure`]). The checks and errors are
    /// [`Self::ensure`]'s, in its order.
    ///
    /// The host then follows [`HostEnsure`]: run [`HostEnsure::read`] (on the runtime), and
    /// meanwhile `clients.get` on [`HostEnsure::sink`]; once both answered, when the read
    /// says proceed, `upsertCredentialWithTargets` with [`ensure_op`] of what
    /// `clients.get` said, then `clients.setSecretHash` (the steps of
    /// [`Management::ensure_steps`]); when it says stop, first
    /// [`HostEnsureTicket::retire`], then the same steps. Nothing is written before
    /// `clients.get` answered; the first failing step ends `ensure` with its error. Drop the
    /// ticket (the client lock) once the last step settled.
    pub fn try_begin_ensure(
        &self,
        mut input: EnsureInput,
    ) -> Result<Option<HostEnsure>, PropagationError> {
        let (_, track, auth) = self.ensure_checks(input.track.take())?;
        let Some(client) = self.shared.try_begin_change(&input.client_id) else {
            return Ok(None);
        };
        let state = &self.shared.parts.state;
        let host_key = state.outstanding_key_for_host(&input.client_id);
        let (steps, sink, read, mut ticket) = self.host_ensure(client, auth.clone(), track, input);
        let read = match host_key {
            // The host reads; the ticket takes its answer (the runtime read is dropped).
            Some(key) => HostRead::Host { key },
            None => {
                ticket.host_read = None;
                HostRead::Runtime(read)
            }
        };
        Ok(Some(HostEnsure {
            steps,
            sink,
            read,
            ticket,
        }))
    }

    /// The parts of an `ensure` whose client lock is held: the steps (with the hash of the
    /// track's pepper), the read of the outstanding events and the ticket that retires them.
    fn host_ensure(
        &self,
        client: KeyedGuard,
        sink: Arc<dyn CredentialSink>,
        track: String,
        input: EnsureInput,
    ) -> (
        EnsureSteps,
        Arc<dyn CredentialSink>,
        RuntimeRead,
        HostEnsureTicket,
    ) {
        // The listed targets go back to `pending`: their outstanding events are retired
        // first, so a late ACK of the old secret cannot mark the new one delivered.
        let state = self.shared.parts.state.clone();
        let secret_hash = hash_secret(sink.as_ref(), &input.secret);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let read_tx = Arc::new(std::sync::Mutex::new(Some(tx)));
        let read = {
            let state = state.clone();
            let client_id = input.client_id.clone();
            let targets = input.targets.clone();
            let tx = read_tx.clone();
            Box::pin(async move {
                let outstanding = state.outstanding_events(&client_id).await;
                let proceed = verdict(&outstanding, &targets);
                if let Some(tx) = tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    let _ = tx.send(outstanding);
                }
                proceed
            }) as RuntimeRead
        };
        let ticket = HostEnsureTicket {
            _client: client,
            state,
            client_id: input.client_id.clone(),
            targets: input.targets.clone(),
            host_read: Some(read_tx),
            outstanding: Some(rx),
        };
        let steps = EnsureSteps {
            exists: None,
            client_id: input.client_id,
            track,
            secret_plain: input.secret,
            allowed_ips: input.allowed_ips,
            expires_at: input.expires_at,
            targets: input.targets,
            secret_hash,
        };
        (steps, sink, read, ticket)
    }

    /// `rotate(input)`: `UNKNOWN_CLIENT` unless the client exists locally; then
    /// `rotateCredentialSecret` and the new hash applied locally.
    pub async fn rotate(&self, input: RotateUsage) -> Result<String, PropagationError> {
        let (management, track, auth) = self.ensure_checks(input.track)?;
        // Every target of the client goes back to `pending`: retire all its events first
        // (read while the local store answers, as in `ensure`).
        let _client = self.shared.begin_change(&input.client_id).await;
        let state = &self.shared.parts.state;
        let (exists, outstanding) = tokio::join!(
            auth.exists(&input.client_id),
            state.outstanding_events(&input.client_id)
        );
        if !exists? {
            return Err(PropagationError::UnknownClient(input.client_id));
        }
        state
            .retire_outstanding(&input.client_id, outstanding?, None)
            .await?;
        let secret_hash = hash_secret(auth.as_ref(), &input.secret);
        management
            .rotate_steps(
                auth.as_ref(),
                RotateInput {
                    client_id: input.client_id.clone(),
                    track,
                    secret_plain: input.secret,
                },
                secret_hash,
            )
            .await?;
        Ok(input.client_id)
    }

    /// `revoke(input)`: upsert a `credential.delete` with the listed targets, then delete
    /// locally (when this peer has the track's store).
    pub async fn revoke(&self, input: RevokeInput) -> Result<String, PropagationError> {
        // No auth instance is required: the local delete happens only where there is one.
        let (management, track) = self.management_and_track(input.track)?;
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
    /// applied and recorded (the original waits for each confirm in turn), and up to
    /// [`SYNC_PREPARING`] propagations of distinct clients are applied and recorded at
    /// once; their events are published in the fetched order, each event's
    /// `markTargetSent` called once its confirm arrived (the calls of different events
    /// overlap; an ACK still waits for its own event's call). A propagation whose local apply fails still ends the sync with that error,
    /// after the events of the propagations before it were published, as in the original
    /// (the ones after it that were already prepared stay recorded but unpublished: their
    /// rows stay `pending` and the next `sync` replaces their events).
    ///
    /// `sync()` calls run one at a time (a second call waits for the first). Each client is
    /// handled under its client lock, from its local apply to the last `markTargetSent` of
    /// its events; a client changed by `ensure`/`rotate`/`revoke` since the fetch is
    /// skipped (its targets are counted as retrying: the next `sync` sends the new state).
    pub async fn sync(&self) -> Result<SyncSummary, PropagationError> {
        let management = self.management()?.clone();
        let _one_at_a_time = self.shared.sync_lock.lock().await;
        let started = std::time::Instant::now();
        let window = SyncWindow::open(&self.shared.changes);
        let pending = management.fetch_pending_propagations().await?;
        let mut summary = SyncSummary {
            propagations_read: pending.len() as u32,
            ..SyncSummary::default()
        };
        let mut publishing = Publishing::default();
        let mut preparing: Preparing = Default::default();
        let mut queue: std::collections::VecDeque<PendingPropagation> = pending.into();
        let mut outcome = Ok(());
        loop {
            // Start preparing the next propagations, stopping before a client that is still
            // being prepared or published (a repeated client waits for its earlier entry).
            while preparing.len() < SYNC_PREPARING {
                let Some(p) = queue.front() else { break };
                let busy = preparing.iter().any(|(c, _)| *c == p.client_id)
                    || publishing.iter().any(|e| e.2.client_id == p.client_id);
                if busy {
                    break;
                }
                let Some(p) = queue.pop_front() else { break };
                let client_id = p.client_id.clone();
                let task = tokio::spawn(prepare(self.shared.clone(), p, window.clone()));
                preparing.push_back((client_id, task));
            }
            let Some((_, task)) = preparing.pop_front() else {
                if queue.is_empty() {
                    break;
                }
                // The next client's earlier events are still publishing: finish them first.
                while !publishing.is_empty() {
                    self.finish_one(&mut publishing, &mut summary).await;
                }
                continue;
            };
            let prepared = task
                .await
                .unwrap_or_else(|e| Err(PropagationError::Sync(format!("sync task failed: {e}"))));
            let prepared = match prepared {
                Ok(prepared) => prepared,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
            summary.targets_retrying += prepared.retrying;
            for (target, event) in prepared.events {
                while publishing.len() >= SYNC_IN_FLIGHT {
                    self.finish_one(&mut publishing, &mut summary).await;
                }
                self.start_publish(
                    &management,
                    &mut publishing,
                    target,
                    event,
                    prepared.client.clone(),
                );
            }
        }
        // After a failure: the propagations already being prepared finish (a local apply is
        // never cut in half); their events stay unpublished.
        for (_, task) in preparing {
            let _ = task.await;
        }
        while !publishing.is_empty() {
            self.finish_one(&mut publishing, &mut summary).await;
        }
        crate::metrics::propagation_synced(&summary);
        outcome?;
        summary.duration_ms = started.elapsed().as_millis() as u64;
        Ok(summary)
    }

    /// Starts the publish of one recorded event as a task: declare the target queue,
    /// publish, wait for the confirm, then `markTargetSent` (so the calls of successive
    /// events overlap instead of waiting for each other).
    fn start_publish(
        &self,
        management: &Arc<dyn Management>,
        publishing: &mut Publishing,
        target: String,
        mut event: ApplyEvent,
        client: Arc<KeyedGuard>,
    ) {
        self.shared.begin_unmarked(&event.event_id);
        let transport = self.shared.transport.clone();
        let shared = self.shared.clone();
        let management = management.clone();
        let auth = self.shared.parts.event_auth;
        let (body, signature) = if auth.signs() {
            // Signed with the target's secret, which the body then carries or withholds.
            let secret = std::mem::take(&mut event.propagation_secret);
            if !auth.omit_secret {
                event.propagation_secret.clone_from(&secret);
            }
            let body = wire::encode(&event);
            let signature =
                wire::sign_event(&secret, &self.shared.parts.amqp_queue, &target, &body);
            event.propagation_secret = secret;
            (body, Some(signature))
        } else {
            (wire::encode(&event), None)
        };
        let queue = wire::build_queue_name(&target);
        let (client_id, event_id, ts, to) = (
            event.client_id.clone(),
            event.event_id.clone(),
            event.ts,
            target.clone(),
        );
        let handle = tokio::spawn(async move {
            let published = async {
                let queue = queue?;
                transport
                    .ensure_queue_declared(&queue)
                    .await
                    .map_err(|e| e.to_string())?;
                transport
                    .publish_signed(&queue, &body, signature.as_deref())
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            let outcome = match published {
                Ok(()) => management
                    .mark_target_sent(TargetSentInput {
                        client_id,
                        target_amqp_queue: to,
                        sent_at: ts,
                        attempt_count: 1,
                    })
                    .await
                    .map_err(|e| e.message),
                Err(e) => Err(e),
            };
            shared.end_unmarked(&event_id);
            outcome
        });
        publishing.push_back((handle, target, event, client));
    }

    /// Waits for the oldest publish (and its `markTargetSent`) to finish, then releases its
    /// client lock and counts it. A target whose publish failed is retrying and its event
    /// stays pending, so the credential cannot complete before the next sync has sent it
    /// (which replaces it).
    async fn finish_one(&self, publishing: &mut Publishing, summary: &mut SyncSummary) {
        let Some((handle, target, event, client)) = publishing.pop_front() else {
            return;
        };
        let outcome = handle
            .await
            .unwrap_or_else(|e| Err(format!("publish task failed: {e}")));
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
const SYNC_IN_FLIGHT: usize = 256;

/// How many propagations of one `sync` may be prepared (applied locally and recorded) at
/// once.
const SYNC_PREPARING: usize = 64;

/// Prepare tasks of one `sync`, oldest first, with their client.
type Preparing = std::collections::VecDeque<(
    String,
    tokio::task::JoinHandle<Result<Prepared, PropagationError>>,
)>;

/// One prepared propagation: its client lock (held until its last `markTargetSent`), the
/// events to publish, and how many of its targets are retrying.
struct Prepared {
    client: Arc<KeyedGuard>,
    events: Vec<(String, ApplyEvent)>,
    retrying: u32,
}

/// The local apply of one propagation and the ack-store record of each target's event
/// (every target before any publish, so that no ACK can empty the pending set while
/// another target of this credential is still to be published). Returns the events to
/// publish; when the record (one batch for every target) failed, every target is counted
/// as retrying. Runs under the
/// client's lock, taken first; a client changed since the sync's fetch is skipped (its
/// targets counted as retrying: the next `sync` sends the new state).
async fn prepare(
    shared: Arc<Shared>,
    p: PendingPropagation,
    window: Arc<SyncWindow>,
) -> Result<Prepared, PropagationError> {
    let client = Arc::new(shared.client_locks.lock(&p.client_id).await);
    let mut prepared = Prepared {
        client,
        events: Vec::new(),
        retrying: 0,
    };
    if window.changed(&p.client_id) {
        shared.parts.logger.info(&format!(
            "[propagation] {} changed since this sync read it; the next sync sends it",
            p.client_id
        ));
        prepared.retrying = p.pending_targets.len() as u32;
        return Ok(prepared);
    }
    {
        let parts = &shared.parts;
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
            let hash = hash_secret(auth.as_ref(), plain);
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
        let mut records = Vec::with_capacity(p.pending_targets.len());
        // Strictly above the previous event's ts for this client, even in the same
        // millisecond or after the clock stepped back: a new event is never stale. The
        // client's outstanding events are read in the same round trip: recording retires
        // the one each target replaces.
        let (last, outstanding) = tokio::join!(
            parts.state.last_event_ts(&p.client_id),
            parts.state.outstanding_events(&p.client_id)
        );
        let mut last = last?;
        for target in &p.pending_targets {
            let event_id =
                wire::random_uuid().map_err(|e| PropagationError::Random(e.to_string()))?;
            let sent_at = wire::next_event_ts(now_ms(), last);
            last = Some(sent_at);
            records.push((
                event_id.clone(),
                PublishedEvent {
                    client_id: p.client_id.clone(),
                    target_amqp_queue: target.target_amqp_queue.clone(),
                    attempt_count: 1.0,
                    sent_at: sent_at as f64,
                },
            ));
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
        // Every target's record in one batch: when it fails, every target of this
        // propagation is retrying (nothing of it is published).
        let recorded = match outstanding {
            Ok(outstanding) => {
                parts
                    .state
                    .record_published_events(&outstanding, &records)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = recorded {
            for target in &p.pending_targets {
                parts.logger.warn(&format!(
                    "[propagation] publish to {} for {} failed: {e}",
                    target.target_amqp_queue, p.client_id
                ));
            }
            prepared.retrying += events.len() as u32;
            events.clear();
        }
        prepared.events = events;
    }
    Ok(prepared)
}

/// An `ensure` whose host steps the host runs ([`Propagator::try_begin_ensure`]).
pub struct HostEnsure {
    /// The host's steps: `clients.get` (`exists` is `None`), then
    /// `upsertCredentialWithTargets` and `clients.setSecretHash` with these values.
    pub steps: EnsureSteps,
    /// The track's store: `clients.get` and `clients.setSecretHash` go to it.
    pub sink: Arc<dyn CredentialSink>,
    /// The read of the client's outstanding events, whose verdict is true to go on with
    /// the writes, false to [`HostEnsureTicket::retire`] first.
    pub read: HostRead,
    /// The client lock, held until dropped, and the retirement of the outstanding events.
    pub ticket: HostEnsureTicket,
}

impl std::fmt::Debug for HostEnsure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostEnsure")
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

/// The read of the outstanding events of a running `ensure`: a future whose output is the
/// verdict.
pub type RuntimeRead = std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>;

type ReadAnswer = Result<std::collections::HashMap<String, String>, crate::store::StoreError>;

/// Proceed when the read succeeded and names none of the listed targets.
fn verdict(outstanding: &ReadAnswer, targets: &[String]) -> bool {
    outstanding
        .as_ref()
        .is_ok_and(|o| !o.keys().any(|t| targets.contains(t)))
}

/// Who reads the outstanding events of a [`HostEnsure`].
pub enum HostRead {
    /// The state: run the future at once (e.g. spawn it on the runtime); it resolves to
    /// the verdict (the ticket waits for it).
    Runtime(RuntimeRead),
    /// The host, through its own Redis client object, which the state goes through
    /// ([`PropagationState::outstanding_key_for_host`](crate::propagation::state::PropagationState::outstanding_key_for_host)):
    /// `HGETALL key`, started next to `clients.get`; its answer goes to
    /// [`HostEnsureTicket::host_read`], which gives the verdict.
    Host {
        /// The client's outstanding-events hash.
        key: String,
    },
}

/// The client lock of a [`HostEnsure`] (released on drop) and what its read found.
pub struct HostEnsureTicket {
    _client: KeyedGuard,
    state: Arc<dyn crate::propagation::state::PropagationState>,
    client_id: String,
    targets: Vec<String>,
    /// With [`HostRead::Host`]: where the host's answer goes (shared with the runtime
    /// read, which is then dropped unrun).
    host_read: Option<Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<ReadAnswer>>>>>,
    outstanding: Option<
        tokio::sync::oneshot::Receiver<
            Result<std::collections::HashMap<String, String>, crate::store::StoreError>,
        >,
    >,
}

impl std::fmt::Debug for HostEnsureTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostEnsureTicket")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl HostEnsureTicket {
    /// With [`HostRead::Host`]: what the host's `HGETALL` answered (`Err`: the message of
    /// its failure, a store error). Returns the verdict: true to go on with the writes,
    /// false to [`Self::retire`] first (always false after a failure, whose error
    /// [`Self::retire`] returns). A second answer, or one for a runtime read, is ignored
    /// (false).
    pub fn host_read(
        &mut self,
        answer: Result<std::collections::HashMap<String, String>, String>,
    ) -> bool {
        let Some(tx) = self
            .host_read
            .take()
            .and_then(|tx| tx.lock().unwrap_or_else(|e| e.into_inner()).take())
        else {
            return false;
        };
        let answer = answer.map_err(crate::store::StoreError::Command);
        let proceed = verdict(&answer, &self.targets);
        let _ = tx.send(answer);
        proceed
    }

    /// When the read said stop: retires the client's outstanding events of the listed
    /// targets (after the read finished), or fails with the read's error. The lock stays
    /// with the ticket. A second call has nothing more to retire.
    pub fn retire(
        &mut self,
    ) -> impl std::future::Future<Output = Result<(), PropagationError>> + Send + 'static {
        let read = self.outstanding.take();
        let state = self.state.clone();
        let client_id = self.client_id.clone();
        let targets = self.targets.clone();
        async move {
            let Some(read) = read else { return Ok(()) };
            let outstanding = read.await.unwrap_or_else(|_| {
                Err(crate::store::StoreError::Command(
                    "the read of the outstanding events did not finish".into(),
                ))
            })?;
            state
                .retire_outstanding(&client_id, outstanding, Some(&targets))
                .await?;
            Ok(())
        }
    }
}
