//! The receive pipeline of every peer (§3.5): decode and check an event, apply it under
//! the cursor lock and answer with an ACK; on the sender, handle the ACKs.

use std::sync::Arc;

use async_trait::async_trait;

use super::{
    AckResult, FullyPropagatedInput, PropagationError, Shared, SinkError, TargetErrorInput,
    TargetSuccessInput, now_ms,
};
use crate::hmac::HmacError;
use crate::propagation::transport::DeliveryHandler;
use crate::propagation::wire::{self, AckEvent, Cursor, Envelope};
use crate::secret::ExposeSecret;

/// The transport's delivery handler: a weak reference to the propagator (no cycle through
/// the transport that holds it).
pub(super) struct Receiver {
    pub(super) shared: std::sync::Weak<Shared>,
}

#[async_trait]
impl DeliveryHandler for Receiver {
    async fn handle(&self, body: Vec<u8>) -> Result<(), String> {
        self.handle_signed(body, None).await
    }

    async fn handle_signed(&self, body: Vec<u8>, signature: Option<String>) -> Result<(), String> {
        match self.shared.upgrade() {
            Some(shared) => Handling { shared }.handle(body, signature).await,
            // Dropped meanwhile: the message goes back to the queue.
            None => Err("the propagator was dropped".to_owned()),
        }
    }

    /// One lane per (track, clientId) of an apply event, one per ACK.
    fn lane(&self, body: &[u8]) -> String {
        wire::delivery_lane(body)
    }
}

/// One delivery being handled, with the propagator held for its duration.
struct Handling {
    shared: Arc<Shared>,
}

impl Handling {
    async fn handle(&self, body: Vec<u8>, signature: Option<String>) -> Result<(), String> {
        let parts = &self.shared.parts;
        let log = &parts.logger;
        let env = match wire::decode(&body) {
            Ok(env) => env,
            Err(msg) => {
                log.warn(&format!("[propagation] dropping malformed event: {msg}"));
                return Ok(());
            }
        };
        let strict = parts.event_auth.require;
        // A strict receiver takes a withheld (empty) body secret: the signature checked
        // below proves the sender holds this peer's secret.
        let withheld = strict && env.propagation_secret.is_empty();
        if !withheld
            && !wire::propagation_secret_matches(
                &env.propagation_secret,
                parts.propagation_secret.expose_secret(),
            )
        {
            log.warn(&format!(
                "[propagation] propagation-secret-mismatch from {}, dropping eventId={}",
                env.sender_amqp_queue, env.event_id
            ));
            return Ok(());
        }
        // Strict receiving (authcore extension): the signature is checked after the v1
        // secret check and handled like it (logged, acked, never applied, no ACK back).
        if strict
            && !wire::verify_event(
                parts.propagation_secret.expose_secret(),
                &env.sender_amqp_queue,
                &parts.amqp_queue,
                &body,
                signature.as_deref(),
            )
        {
            log.warn(&format!(
                "[propagation] {} event from {}, dropping eventId={}",
                if signature.is_some() {
                    "badly signed"
                } else {
                    "unsigned"
                },
                env.sender_amqp_queue,
                env.event_id
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
        // this queue (another instance of this peer) cannot interleave them. The lock goes
        // out with the cursor read, the cursor write with the release (one round trip each).
        let (lock, current) = parts
            .state
            .lock_and_read_cursor(&a.track, &a.client_id)
            .await?;
        let decided = self
            .decide_and_apply(env, a, current.as_ref(), &incoming)
            .await;
        let write = matches!(decided, Ok((None, true))).then_some(&incoming);
        let released = parts
            .state
            .write_cursor_and_unlock(lock, &a.track, &a.client_id, write)
            .await;
        let decided = match (decided, released) {
            (Ok((decision, _)), Ok(())) => decision,
            // The cursor write (or the release after it) failed: nack and requeue; the
            // redelivery finds the cursor written (answered `applied`) or applies again.
            (Ok(_), Err(e)) if write.is_some() => return Err(e.into()),
            (decided, released) => {
                if let Err(e) = released {
                    parts.logger.warn(&format!(
                        "[propagation] releasing the cursor lock of {} failed (its lease expires): {e}",
                        a.client_id
                    ));
                }
                decided?.0
            }
        };
        let (result, reason) = match decided {
            None => (crate::metrics::propagation_applied(&a.client_id), None),
            Some(reason) => ("error", Some(reason)),
        };
        self.ack_back(env, &a.client_id, result, reason, secret)
            .await
    }

    /// The decision and the apply, under the cursor lock, given the `current` cursor.
    /// `None`: answer `applied`; `Some(reason)`: answer `error` with that reason; the flag
    /// says whether the event was applied (its cursor is then written). A store failure is
    /// an `Err` (nack and requeue).
    async fn decide_and_apply(
        &self,
        env: &Envelope,
        a: &wire::ApplyParts,
        current: Option<&Cursor>,
        incoming: &Cursor,
    ) -> Result<(Option<String>, bool), PropagationError> {
        let parts = &self.shared.parts;
        match wire::freshness(current, incoming) {
            wire::Freshness::Newer => {}
            // A redelivery of the event the cursor holds: it was applied.
            wire::Freshness::Same => {
                parts.logger.info(&format!(
                    "[propagation] dropping stale event {} for {} (already applied)",
                    env.event_id, a.client_id
                ));
                return Ok((None, false));
            }
            // Older than what this peer holds: not applied, and said so.
            wire::Freshness::Older => {
                parts.logger.info(&format!(
                    "[propagation] dropping stale event {} for {}",
                    env.event_id, a.client_id
                ));
                return Ok((Some(wire::STALE_REASON.into()), false));
            }
        }
        let Some(auth) = parts.auth(&a.track) else {
            return Ok((
                Some(format!("no {} auth instance configured", a.track)),
                false,
            ));
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
                return Ok((Some(e.to_string()), false));
            }
        }
        Ok((None, true))
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
        let auth = parts.event_auth;
        let ack = AckEvent {
            event_id: wire::random_uuid().map_err(|e| PropagationError::Random(e.to_string()))?,
            ts: now_ms(),
            propagation_secret: if auth.omit_secret {
                String::new()
            } else {
                secret.clone()
            },
            sender_amqp_queue: parts.amqp_queue.clone(),
            op: wire::OP_ACK.into(),
            ack_event_id: env.event_id.clone(),
            ack_result: result.into(),
            ack_reason: reason,
        };
        let queue = wire::build_queue_name(sender).map_err(PropagationError::InvalidQueueName)?;
        let body = wire::encode(&ack);
        // Signed with the sender's secret (the ACK's recipient); an ACK without a source
        // secret is dropped by its recipient anyway and goes unsigned.
        let signature = (auth.signs() && !secret.is_empty())
            .then(|| wire::sign_event(&secret, &parts.amqp_queue, sender, &body));
        self.shared
            .transport
            .publish_signed(&queue, &body, signature.as_deref())
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
        crate::metrics::propagation_ack(&rec.client_id, success, rec.sent_at, at as f64);
        let Some(m) = &parts.management else {
            return Ok(parts
                .state
                .record_target_result(&rec.client_id, &rec.target_amqp_queue, result, ack_event_id)
                .await?);
        };
        // Under the client lock (exclusive with ensure/rotate/revoke and with sync's
        // record..markTargetSent), read again: a rotate may have retired the event. The
        // client's pending set, results and outstanding events are read in the same round
        // trip: nothing else changes them while the lock is held.
        let _client = self.shared.client_locks.lock(&rec.client_id).await;
        let state = &parts.state;
        let (again, pending, results, outstanding) = tokio::join!(
            state.read_published_event(ack_event_id),
            state.pending_count(&rec.client_id),
            state.read_client_results(&rec.client_id),
            state.outstanding_events(&rec.client_id)
        );
        let Some(rec) = again?.filter(|again| again.client_id == rec.client_id) else {
            parts.logger.warn(&format!(
                "[propagation] received ack for unknown eventId={ack_event_id}, dropping"
            ));
            return Ok(());
        };
        let (pending, mut results, outstanding) = (pending?, results?, outstanding?);
        self.shared.wait_marked(ack_event_id).await;
        // The callbacks and the completion run before the ack store forgets the event: an
        // authority crash in between redoes them when the ACK is redelivered (the original
        // forgets first, and a crash leaves the row `sent` forever).
        let callbacks = if success {
            AckResult::Success(TargetSuccessInput {
                client_id: rec.client_id.clone(),
                target_amqp_queue: rec.target_amqp_queue.clone(),
                applied_at: at,
            })
        } else {
            AckResult::Error(TargetErrorInput {
                client_id: rec.client_id.clone(),
                target_amqp_queue: rec.target_amqp_queue.clone(),
                reason: ack.ack_reason.unwrap_or_else(|| "unknown".into()),
                failed_at: at,
            })
        };
        // The event is still in the pending set (recorded with its ack record, which was
        // just read): it is the last one when the set holds at most it.
        let fully = (pending <= 1).then(|| {
            results.insert(rec.target_amqp_queue.clone(), result.to_owned());
            FullyPropagatedInput {
                client_id: rec.client_id.clone(),
                final_status: wire::aggregate_final_status(results.values().map(String::as_str))
                    .into(),
                at,
            }
        });
        let last = fully.is_some();
        let completed = match m.ack_steps(callbacks, fully).await {
            Ok(()) => last,
            Err(e) => {
                parts.logger.error(&format!(
                    "[propagation] management callback failed during ack handling for {}: {e}",
                    rec.client_id
                ));
                false
            }
        };
        state
            .record_target_result_and_clear(
                &rec.client_id,
                &rec.target_amqp_queue,
                result,
                ack_event_id,
                &outstanding,
                completed,
            )
            .await?;
        Ok(())
    }
}
