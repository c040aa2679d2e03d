//! Credential propagation (`@authcore/node-hmac-auth-core-propagation`, a drop-in for
//! `@naskot/node-hmac-auth-core-propagation` 1.0.0): `Propagator` over
//! `authcore::propagation` (RabbitMQ through lapin, the cursor and ack store, the receive
//! pipeline, `ensure`/`rotate`/`revoke`/`sync`).
//!
//! Every JavaScript object the propagator needs (the 8 management callbacks, a node-redis
//! client object, `auth.clients.get/setSecretHash/delete` of `hmacHttpAuth` /
//! `hmacMessageAuth`, the logger) is reached through ONE JS dispatcher given at creation
//! ([`PropagationDispatch`]). Calls from any thread are queued and handed to JavaScript in
//! batches, one (weak) threadsafe-function call per batch: whatever queued up while the
//! event loop was busy goes together, and JavaScript starts the calls in call order. Each
//! call is answered through `PropagationDispatch.reply(id, replyJson)`, a synchronous call
//! into the addon that wakes the waiting tokio task. The event loop never waits on Rust
//! and Rust never blocks on JS.
//!
//! Dispatcher protocol: a batch is a JSON array of `[id, op, args]`; `op` names the call,
//! `args` is the array of positional arguments, `id` 0 means fire-and-forget. Every other
//! call is answered exactly once (never with a rejection) with `{"v": value}` (`{}` for
//! `undefined`) or, when the JS call threw, `{"e": id, "m": message}`, where `id` names
//! the thrown value in a JS-side map. The id travels through the core as
//! `CallbackError.payload` ([`JsErrorRef`]); when such an error reaches the caller of
//! `ensure`/`rotate`/`revoke`/`sync`, the rejection carries `jsErrorId` and the JS layer
//! rethrows the original value (same identity). When the last reference to a
//! [`JsErrorRef`] is dropped, `error.release` tells JS it may forget the value.
//!
//! Ops: `m.upsert`, `m.rotate`, `m.fetchPending`, `m.fetchSourceSecret`, `m.markSent`,
//! `m.markSuccess`, `m.markError`, `m.fully` (management); `r.hGet`, `r.hSet`,
//! `r.hGetAll`, `r.hDel`, `r.sAdd`, `r.sRem`, `r.sCard`, `r.expire`, `r.del` (the
//! `PropagationRedisClient`) and `r.batch` (a step's writes, run in order by JS); `a.get`, `a.set`, `a.delete` (first argument the track's
//! instance: `http` or `message`); `h.ensure` and `h.rotate` (the host steps of
//! `ensure`/`rotate` in one call: `a.get` unless known, `m.upsert`, `a.set` / `m.rotate`,
//! `a.set`, in order; with a ticket, `h.ensure` asks after `a.get` for the core's verdict
//! (`PropagationDispatch.gate`, or `h.gate`, fire-and-forget, when not known yet), and stops
//! there unless it says proceed) and `h.ack` (an ACK's `m.markSuccess`/`m.markError`, then `m.fully`
//! when it completed the credential); `log.info`, `log.warn`, `log.error` and
//! `error.release` are fire-and-forget; `h.gate` (`[ticket, proceed]`, fire-and-forget) is the
//! core's verdict for a gated `h.ensure`, or for an `ensure()` that runs its own steps, that
//! asked before it was known.
//!
//! `ensure()` does without the dispatcher in the common case: [`Propagator::ensure_start`]
//! (synchronous) takes the client lock and returns the steps; JS runs them. The read of the
//! client's outstanding events is JS's `r.hGetAll` of the key the core names, next to
//! `a.get`, judged by [`Propagator::ensure_read`], when the state goes through the client object;
//! otherwise the core reads on the runtime and JS asks [`Propagator::ensure_gate`] after
//! `a.get`. Only a busy client lock sends `ensure` through the core's async path.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use authcore::propagation::create::{CreateOptions, Given, RedisOption, Shape, create};
use authcore::propagation::propagator::{
    AckResult, CallbackError, CredentialSink, EnsureGate, EnsureInput, EnsureSteps,
    FullyPropagatedInput, GatedEnsure, HostEnsure, HostEnsureTicket, HostRead, Management,
    PendingPropagation, PendingTarget, PropagationError, RevokeInput, RotateInput, RotateUsage,
    SinkError, TargetErrorInput, TargetSentInput, TargetSuccessInput, UpsertInput, ensure_op,
    ensure_steps_each, ensure_steps_gated_each, rotate_steps_each,
};
use authcore::propagation::state::{RedisOps, Write};
use authcore::propagation::transport::InProcessBroker;
use authcore::propagation::{Logger, wire};
use authcore::store::StoreError;
use authcore_node_boundary::napi;
use napi::bindgen_prelude::{
    Buffer, FnArgs, Function, JsObjectValue, Object, PromiseRaw, ToNapiValue, Unknown,
};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, JsValue, Status, ValueType};
use serde_json::{Value, json};

use crate::error::{AuthErr, Result};

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// The id of a value a JS callback threw, kept in the JS layer's error map. Dropping the
/// last reference tells JS (`error.release`) that the core no longer carries it.
struct JsErrorRef {
    id: u64,
    dispatcher: Arc<Dispatcher>,
}

impl Drop for JsErrorRef {
    fn drop(&mut self) {
        self.dispatcher.fire("error.release", json!([self.id]));
    }
}

fn js_error_id(e: &CallbackError) -> Option<u64> {
    e.payload
        .as_ref()
        .and_then(|p| p.downcast_ref::<JsErrorRef>())
        .map(|r| r.id)
}

fn build_error(env: &Env, e: &PropagationError) -> Result<napi::Error> {
    let err = match e {
        PropagationError::Hmac(h) => AuthErr::from(h.clone()),
        other => AuthErr::coded(other.code(), other.status(), other.to_string()),
    };
    let mut obj = crate::error::js_error(env, &err)?;
    if let PropagationError::Callback(cb) = e
        && let Some(id) = js_error_id(cb)
    {
        // Ids come from a JS counter: exact as a double.
        obj.set("jsErrorId", id as f64)?;
    }
    Ok(napi::Error::from(obj.to_unknown()))
}

/// The one `PropagationError` → JS error mapping: `code` (`MANAGEMENT_NOT_CONFIGURED`,
/// `UNKNOWN_CLIENT`, `INVALID_OPTIONS`, `INVALID_QUEUE_NAME`, `SYNC_ERROR`,
/// `CALLBACK_ERROR`, an HMAC or store code, `TRANSPORT_ERROR`), the original's
/// `message`, `status` (the core's), `jsErrorId` for a value a JS callback threw,
/// `isHmacAuthError` for HMAC errors (through the binding's one mapping, [`crate::error`]). The JS layer turns it into the original's error.
fn map_err(env: &Env, e: PropagationError) -> napi::Error {
    build_error(env, &e).unwrap_or_else(|err| err)
}

/// [`crate::error::spawn_mapped`] with [`map_err`]: a panic of `fut` rejects with the
/// binding's one panic error.
pub(crate) fn spawn<'env, T, F>(env: &'env Env, fut: F) -> Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: std::future::Future<Output = std::result::Result<T, PropagationError>> + Send + 'static,
{
    crate::error::spawn_mapped(env, fut, map_err)
}

// ---------------------------------------------------------------------------------------
// The dispatcher
// ---------------------------------------------------------------------------------------

type BatchArgs = FnArgs<(String,)>;
/// The JS batch runner `(batchJson) => void`, called with the calls queued since its last
/// call (drained on the JavaScript thread, so calls made while it is busy go together).
type BatchFn = ThreadsafeFunction<(), (), BatchArgs, Status, false, true, 0>;

/// Calls queued for the next batch, and whether a batch call is already on its way.
#[derive(Default)]
struct Queue {
    /// `[id, op, args]` of each call, in call order (id 0: fire-and-forget).
    calls: Vec<Value>,
    scheduled: bool,
}

/// The JS dispatcher, callable from any thread: calls are queued and handed to JavaScript
/// in batches, one threadsafe-function call per batch (whatever queued up while the event
/// loop was busy goes together); JavaScript starts them in call order, and answers each
/// through [`PropagationDispatch::reply`], a synchronous call into the addon (no Promise
/// resolved back into Rust per call). Weak: it does not keep the event loop alive, so a
/// script that never closes its propagator still exits (a call in flight holds the loop
/// through its own promise until it settles).
struct Dispatcher {
    tsfn: BatchFn,
    queue: Arc<std::sync::Mutex<Queue>>,
    /// The calls waiting for their reply, by id.
    waiting: std::sync::Mutex<HashMap<u32, tokio::sync::oneshot::Sender<String>>>,
    next_id: std::sync::atomic::AtomicU32,
    /// The verdicts of gated `h.ensure` calls, by ticket: one the core gave before JS asked,
    /// or the mark that JS asked first (the verdict is then sent as `h.gate`).
    gates: std::sync::Mutex<HashMap<u32, Gate>>,
}

/// One entry of [`Dispatcher::gates`].
enum Gate {
    Known(bool),
    Asked,
}

impl Dispatcher {
    /// Queues `[id, op, args]` and makes sure a batch call is on its way.
    fn enqueue(&self, id: u32, op: &str, args: Value) {
        let schedule = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.calls.push(json!([id, op, args]));
            !std::mem::replace(&mut q.scheduled, true)
        };
        if schedule && self.tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking) != Status::Ok {
            // The environment is going away: nothing queued will run. The waiting calls
            // see their reply channel closed.
            let calls = {
                let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                q.scheduled = false;
                std::mem::take(&mut q.calls)
            };
            let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            for c in calls {
                if let Some(id) = c.get(0).and_then(Value::as_u64) {
                    waiting.remove(&(id as u32));
                }
            }
        }
    }

    /// Calls `op` and awaits its reply. A JS throw becomes a [`CallbackError`] whose
    /// payload names the thrown value; a failure of the call itself (environment shutting
    /// down) a [`CallbackError`] without payload.
    async fn call(
        self: &Arc<Self>,
        op: &str,
        args: Value,
    ) -> std::result::Result<Value, CallbackError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let id = loop {
            let id = self
                .next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            if id != 0 && !waiting.contains_key(&id) {
                waiting.insert(id, tx);
                break id;
            }
        };
        self.enqueue(id, op, args);
        let text = rx
            .await
            .map_err(|_| CallbackError::new(format!("{op}: the JavaScript environment is gone")))?;
        let reply: Value = serde_json::from_str(&text)
            .map_err(|e| CallbackError::new(format!("{op}: invalid dispatcher reply: {e}")))?;
        if let Some(id) = reply.get("e").and_then(Value::as_u64) {
            let message = reply
                .get("m")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            return Err(CallbackError {
                message,
                payload: Some(Arc::new(JsErrorRef {
                    id,
                    dispatcher: self.clone(),
                })),
            });
        }
        Ok(reply.get("v").cloned().unwrap_or(Value::Null))
    }

    /// Fire-and-forget (logger lines, `error.release`), in call order.
    fn fire(&self, op: &str, args: Value) {
        self.enqueue(0, op, args);
    }
}

/// The addon's channel into the JS layer's dispatcher, made by the JS layer before
/// `createPropagator` (which takes it): the batch runner goes in, the replies come back
/// through [`Self::reply`].
#[napi]
pub struct PropagationDispatch {
    d: Arc<Dispatcher>,
}

#[napi]
impl PropagationDispatch {
    /// `new PropagationDispatch(runBatch)`: `runBatch(batchJson)` receives a JSON array of
    /// `[id, op, args]` calls to start in order; each call with an id other than 0 is
    /// answered with `reply(id, replyJson)`.
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "runBatch: (batchJson: string) => void"
    )]
    pub fn new(run_batch: Function<'_, BatchArgs, ()>) -> Result<Self> {
        let queue: Arc<std::sync::Mutex<Queue>> = Arc::default();
        let drained = queue.clone();
        let tsfn: BatchFn = run_batch
            .build_threadsafe_function::<()>()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(move |_| {
                let calls = {
                    let mut q = drained.lock().unwrap_or_else(|e| e.into_inner());
                    q.scheduled = false;
                    std::mem::take(&mut q.calls)
                };
                Ok(FnArgs::from((Value::Array(calls).to_string(),)))
            })?;
        Ok(Self {
            d: Arc::new(Dispatcher {
                tsfn,
                queue,
                waiting: Default::default(),
                next_id: std::sync::atomic::AtomicU32::new(1),
                gates: Default::default(),
            }),
        })
    }

    /// The core's verdict for the gated `h.ensure` of `ticket` when it is known (true:
    /// proceed); otherwise null, and the verdict comes as `h.gate` once known.
    #[napi(catch_unwind)]
    pub fn gate(&self, ticket: u32) -> Option<bool> {
        let mut gates = self.d.gates.lock().unwrap_or_else(|e| e.into_inner());
        match gates.remove(&ticket) {
            Some(Gate::Known(proceed)) => Some(proceed),
            _ => {
                gates.insert(ticket, Gate::Asked);
                None
            }
        }
    }

    /// The reply (`{"v": value}`, `{}` or `{"e": id, "m": message}`) of call `id`; an
    /// unknown id is ignored.
    #[napi(catch_unwind)]
    pub fn reply(&self, id: u32, reply: String) {
        let tx = self
            .d
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some(tx) = tx {
            let _ = tx.send(reply);
        }
    }
}

fn invalid_reply(what: &str) -> CallbackError {
    CallbackError::new(format!("{what} returned an invalid value"))
}

/// A JS number (or null/undefined) as epoch milliseconds: `None` for null, undefined or a
/// non-finite number; fractions are truncated.
fn millis(v: Option<&Value>) -> Option<i64> {
    number_millis(v.and_then(Value::as_f64))
}

/// A JS number of epoch milliseconds as the core takes it: truncated, nothing when not
/// finite.
fn number_millis(v: Option<f64>) -> Option<i64> {
    v.filter(|f| f.is_finite()).map(|f| f.trunc() as i64)
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    })
}

fn opt_i64(v: Option<i64>) -> Value {
    v.map_or(Value::Null, Value::from)
}

// ---------------------------------------------------------------------------------------
// Management (the 8 callbacks)
// ---------------------------------------------------------------------------------------

struct JsManagement {
    d: Arc<Dispatcher>,
}

fn pending_of(v: &Value) -> std::result::Result<PendingPropagation, CallbackError> {
    let bad = || invalid_reply("fetchPendingPropagations");
    let obj = v.as_object().ok_or_else(bad)?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
    let targets = obj
        .get("pendingTargets")
        .and_then(Value::as_array)
        .ok_or_else(bad)?
        .iter()
        .map(|t| {
            let q = t
                .get("targetAmqpQueue")
                .and_then(Value::as_str)
                .ok_or_else(bad)?;
            let s = t
                .get("propagationSecret")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Ok(PendingTarget {
                target_amqp_queue: q.to_owned(),
                propagation_secret: s.to_owned(),
            })
        })
        .collect::<std::result::Result<Vec<_>, CallbackError>>()?;
    Ok(PendingPropagation {
        client_id: text("clientId").ok_or_else(bad)?,
        track: text("track").ok_or_else(bad)?,
        op: text("op").ok_or_else(bad)?,
        secret_plain: text("secretPlain"),
        allowed_ips: string_list(obj.get("allowedIps")),
        expires_at: millis(obj.get("expiresAt")),
        pending_targets: targets,
    })
}

#[async_trait]
impl Management for JsManagement {
    async fn upsert_credential_with_targets(
        &self,
        i: UpsertInput,
    ) -> std::result::Result<(), CallbackError> {
        let args = json!([
            i.client_id,
            i.track,
            i.op,
            i.secret_plain,
            i.allowed_ips,
            opt_i64(i.expires_at),
            i.targets
        ]);
        self.d.call("m.upsert", args).await.map(drop)
    }
    async fn rotate_credential_secret(
        &self,
        i: RotateInput,
    ) -> std::result::Result<(), CallbackError> {
        let args = json!([i.client_id, i.track, i.secret_plain]);
        self.d.call("m.rotate", args).await.map(drop)
    }
    async fn fetch_pending_propagations(
        &self,
    ) -> std::result::Result<Vec<PendingPropagation>, CallbackError> {
        let v = self.d.call("m.fetchPending", json!([])).await?;
        v.as_array()
            .ok_or_else(|| invalid_reply("fetchPendingPropagations"))?
            .iter()
            .map(pending_of)
            .collect()
    }
    async fn fetch_source_propagation_secret(
        &self,
        sender_amqp_queue: &str,
    ) -> std::result::Result<Option<String>, CallbackError> {
        let v = self
            .d
            .call("m.fetchSourceSecret", json!([sender_amqp_queue]))
            .await?;
        Ok(v.as_str().map(str::to_owned))
    }
    async fn mark_target_sent(&self, i: TargetSentInput) -> std::result::Result<(), CallbackError> {
        let args = json!([i.client_id, i.target_amqp_queue, i.sent_at, i.attempt_count]);
        self.d.call("m.markSent", args).await.map(drop)
    }
    async fn mark_target_success(
        &self,
        i: TargetSuccessInput,
    ) -> std::result::Result<(), CallbackError> {
        let args = json!([i.client_id, i.target_amqp_queue, i.applied_at]);
        self.d.call("m.markSuccess", args).await.map(drop)
    }
    async fn mark_target_error(
        &self,
        i: TargetErrorInput,
    ) -> std::result::Result<(), CallbackError> {
        let args = json!([i.client_id, i.target_amqp_queue, i.reason, i.failed_at]);
        self.d.call("m.markError", args).await.map(drop)
    }
    async fn mark_credential_fully_propagated(
        &self,
        i: FullyPropagatedInput,
    ) -> std::result::Result<(), CallbackError> {
        let args = json!([i.client_id, i.final_status, i.at]);
        self.d.call("m.fully", args).await.map(drop)
    }

    /// One dispatcher call (`h.ack`): `m.markSuccess` or `m.markError`, then `m.fully`
    /// when given, run in order by the JS layer.
    async fn ack_steps(
        &self,
        result: AckResult,
        fully: Option<FullyPropagatedInput>,
    ) -> std::result::Result<(), CallbackError> {
        let (op, args) = match result {
            AckResult::Success(i) => (
                "m.markSuccess",
                json!([i.client_id, i.target_amqp_queue, i.applied_at]),
            ),
            AckResult::Error(i) => (
                "m.markError",
                json!([i.client_id, i.target_amqp_queue, i.reason, i.failed_at]),
            ),
        };
        let fully = fully.map(|i| json!([i.client_id, i.final_status, i.at]));
        self.d
            .call("h.ack", json!([op, args, fully]))
            .await
            .map(drop)
    }

    /// One dispatcher call (`h.ensure` with a gate ticket): `a.get`, then the core's verdict
    /// (JS asks `PropagationDispatch.gate(ticket)`, a synchronous call; when the core does
    /// not have it yet, it follows as `h.gate`, fire-and-forget), then `m.upsert` and `a.set`
    /// when it says proceed; JS answers the op, or `{"stopped": exists}`.
    async fn ensure_steps_gated(
        &self,
        sink: &dyn CredentialSink,
        steps: EnsureSteps,
        gate: EnsureGate,
    ) -> std::result::Result<GatedEnsure, PropagationError> {
        let Some(which) = self.js_sink(sink) else {
            return ensure_steps_gated_each(self, sink, steps, gate).await;
        };
        let ticket = self
            .d
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let args = ensure_args(which, steps, Some(ticket));
        let verdict = async {
            let proceed = gate.proceed().await;
            let asked = {
                let mut gates = self.d.gates.lock().unwrap_or_else(|e| e.into_inner());
                match gates.remove(&ticket) {
                    Some(Gate::Asked) => true,
                    _ => {
                        gates.insert(ticket, Gate::Known(proceed));
                        false
                    }
                }
            };
            if asked {
                self.d.fire("h.gate", json!([ticket, proceed]));
            }
        };
        let (reply, ()) = tokio::join!(self.d.call("h.ensure", args), verdict);
        // A verdict JS never asked for (its clients.get threw) goes with the call.
        self.d
            .gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&ticket);
        let reply = reply?;
        if let Some(op) = ensure_op_of(&reply) {
            return Ok(GatedEnsure::Done(op));
        }
        match reply.get("stopped").and_then(Value::as_bool) {
            Some(exists) => Ok(GatedEnsure::Stopped { exists }),
            None => Err(invalid_reply("ensure").into()),
        }
    }

    /// One dispatcher call (`h.ensure`): `a.get` (unless known), `m.upsert`, `a.set`, run in
    /// order by the JS layer, which answers the op.
    async fn ensure_steps(
        &self,
        sink: &dyn CredentialSink,
        steps: EnsureSteps,
    ) -> std::result::Result<&'static str, PropagationError> {
        let Some(which) = self.js_sink(sink) else {
            return ensure_steps_each(self, sink, steps).await;
        };
        let args = ensure_args(which, steps, None);
        let reply = self.d.call("h.ensure", args).await?;
        ensure_op_of(&reply).ok_or_else(|| invalid_reply("ensure").into())
    }

    /// One dispatcher call (`h.rotate`): `m.rotate`, then `a.set`.
    async fn rotate_steps(
        &self,
        sink: &dyn CredentialSink,
        i: RotateInput,
        secret_hash: String,
    ) -> std::result::Result<(), PropagationError> {
        let Some(which) = self.js_sink(sink) else {
            return rotate_steps_each(self, sink, i, secret_hash).await;
        };
        let args = json!([which, i.client_id, i.track, i.secret_plain, secret_hash]);
        self.d.call("h.rotate", args).await?;
        Ok(())
    }
}

tokio::task_local! {
    /// The JS layer's id of the `ensure()` call this task runs: the `h.ensure` that
    /// completes the steps settles that call at once (nothing of `ensure` follows them).
    static ENSURE_CALLER: u32;
}

/// The arguments of an `h.ensure` call: the track's instance, the steps, the gate ticket
/// (null: ungated) and the [`ENSURE_CALLER`].
fn ensure_args(which: &str, steps: EnsureSteps, ticket: Option<u32>) -> Value {
    json!([
        which,
        steps.exists,
        steps.client_id,
        steps.track,
        steps.secret_plain,
        steps.allowed_ips,
        opt_i64(steps.expires_at),
        steps.targets,
        steps.secret_hash,
        ticket,
        ensure_caller()
    ])
}

/// The op an `h.ensure` reply names when the steps ran to the end.
fn ensure_op_of(reply: &Value) -> Option<&'static str> {
    match reply.as_str() {
        Some(wire::OP_UPDATE) => Some(ensure_op(true)),
        Some(wire::OP_CREATE) => Some(ensure_op(false)),
        _ => None,
    }
}

/// The [`ENSURE_CALLER`] of this task, or null.
fn ensure_caller() -> Value {
    ENSURE_CALLER
        .try_with(|c| Value::from(*c))
        .unwrap_or(Value::Null)
}

impl JsManagement {
    /// The track name of `sink` when it is a JS instance reached through this dispatcher.
    fn js_sink(&self, sink: &dyn CredentialSink) -> Option<&'static str> {
        js_sink_of(sink, &self.d)
    }
}

/// The track name of `sink` when it is a JS instance reached through `d`.
fn js_sink_of(sink: &dyn CredentialSink, d: &Arc<Dispatcher>) -> Option<&'static str> {
    sink.as_any()
        .and_then(|a| a.downcast_ref::<JsSink>())
        .filter(|s| Arc::ptr_eq(&s.d, d))
        .map(|s| s.which)
}

// ---------------------------------------------------------------------------------------
// The propagation Redis client (a node-redis client object)
// ---------------------------------------------------------------------------------------

struct JsRedis {
    d: Arc<Dispatcher>,
}

impl JsRedis {
    async fn call(&self, op: &str, args: Value) -> std::result::Result<Value, StoreError> {
        self.d
            .call(op, args)
            .await
            .map_err(|e| StoreError::Command(e.message))
    }
}

#[async_trait]
impl RedisOps for JsRedis {
    /// One dispatcher call (`r.batch`) runs the step's writes in order in JS.
    async fn write_batch(&self, writes: &[Write]) -> std::result::Result<(), StoreError> {
        let list: Vec<Value> = writes
            .iter()
            .map(|w| match w {
                Write::HSet { key, fields } => json!(["r.hSet", key, fields]),
                Write::HDel { key, field } => json!(["r.hDel", key, field]),
                Write::SAdd { key, member } => json!(["r.sAdd", key, member]),
                Write::SRem { key, member } => json!(["r.sRem", key, member]),
                Write::Expire { key, seconds } => json!(["r.expire", key, seconds]),
                Write::Del { key } => json!(["r.del", key]),
            })
            .collect();
        self.call("r.batch", json!([list])).await.map(drop)
    }
    async fn h_get(
        &self,
        key: &str,
        field: &str,
    ) -> std::result::Result<Option<String>, StoreError> {
        Ok(match self.call("r.hGet", json!([key, field])).await? {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
    }
    async fn h_set(
        &self,
        key: &str,
        fields: &[(&str, &str)],
    ) -> std::result::Result<(), StoreError> {
        self.call("r.hSet", json!([key, fields])).await.map(drop)
    }
    async fn h_get_all(
        &self,
        key: &str,
    ) -> std::result::Result<HashMap<String, String>, StoreError> {
        let v = self.call("r.hGetAll", json!([key])).await?;
        Ok(match v {
            Value::Object(m) => m
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
            _ => HashMap::new(),
        })
    }
    async fn h_del(&self, key: &str, field: &str) -> std::result::Result<(), StoreError> {
        self.call("r.hDel", json!([key, field])).await.map(drop)
    }
    async fn s_add(&self, key: &str, member: &str) -> std::result::Result<(), StoreError> {
        self.call("r.sAdd", json!([key, member])).await.map(drop)
    }
    async fn s_rem(&self, key: &str, member: &str) -> std::result::Result<(), StoreError> {
        self.call("r.sRem", json!([key, member])).await.map(drop)
    }
    async fn s_card(&self, key: &str) -> std::result::Result<u64, StoreError> {
        let v = self.call("r.sCard", json!([key])).await?;
        Ok(v.as_f64()
            .filter(|f| f.is_finite() && *f > 0.0)
            .map_or(0, |f| f as u64))
    }
    async fn expire(&self, key: &str, seconds: i64) -> std::result::Result<(), StoreError> {
        self.call("r.expire", json!([key, seconds])).await.map(drop)
    }
    async fn del(&self, key: &str) -> std::result::Result<(), StoreError> {
        self.call("r.del", json!([key])).await.map(drop)
    }
}

// ---------------------------------------------------------------------------------------
// The credential stores (`hmacHttpAuth` / `hmacMessageAuth` JS instances)
// ---------------------------------------------------------------------------------------

struct JsSink {
    d: Arc<Dispatcher>,
    /// `http` or `message`: which instance the JS layer calls.
    which: &'static str,
    /// The instance's `secretToken` (the pepper), read at creation.
    secret_token: Option<String>,
}

#[async_trait]
impl CredentialSink for JsSink {
    async fn exists(&self, client_id: &str) -> std::result::Result<bool, SinkError> {
        let v = self
            .d
            .call("a.get", json!([self.which, client_id]))
            .await
            .map_err(SinkError::Callback)?;
        Ok(v.as_bool().unwrap_or(false))
    }
    async fn set_secret_hash(
        &self,
        client_id: &str,
        secret_hash: &str,
        expires_at: Option<f64>,
        allowed_ips: Option<Vec<String>>,
    ) -> std::result::Result<(), SinkError> {
        let args = json!([self.which, client_id, secret_hash, expires_at, allowed_ips]);
        self.d
            .call("a.set", args)
            .await
            .map(drop)
            .map_err(SinkError::Callback)
    }
    async fn delete(&self, client_id: &str) -> std::result::Result<(), SinkError> {
        self.d
            .call("a.delete", json!([self.which, client_id]))
            .await
            .map(drop)
            .map_err(SinkError::Callback)
    }
    fn secret_token(&self) -> Option<&str> {
        self.secret_token.as_deref()
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

// ---------------------------------------------------------------------------------------
// Logger
// ---------------------------------------------------------------------------------------

struct JsLogger {
    d: Arc<Dispatcher>,
}

impl Logger for JsLogger {
    fn info(&self, msg: &str) {
        self.d.fire("log.info", json!([msg]));
    }
    fn warn(&self, msg: &str) {
        self.d.fire("log.warn", json!([msg]));
    }
    fn error(&self, msg: &str) {
        self.d.fire("log.error", json!([msg]));
    }
}

// ---------------------------------------------------------------------------------------
// napi surface
// ---------------------------------------------------------------------------------------

/// A ticket [`Propagator::ensure_start`] did not give (or that ended).
fn unknown_ticket(env: &Env, ticket: u32) -> napi::Error {
    map_err(
        env,
        PropagationError::Callback(CallbackError::new(format!(
            "unknown ensure ticket {ticket}"
        ))),
    )
}

/// `buildQueueName(amqpQueue)`: `hmac-<amqpQueue>.queue`; `INVALID_QUEUE_NAME` (the
/// original's plain `Error` message) unless the name matches `^[A-Za-z0-9-]+$`.
#[napi(catch_unwind)]
pub fn propagation_build_queue_name(env: Env, amqp_queue: String) -> Result<String> {
    wire::build_queue_name(&amqp_queue)
        .map_err(|m| map_err(&env, PropagationError::InvalidQueueName(m)))
}

/// `DEFAULT_AMQP_VHOST` (`hmac-credentials`).
#[napi(catch_unwind)]
pub fn propagation_default_amqp_vhost() -> String {
    wire::DEFAULT_AMQP_VHOST.to_owned()
}

/// The in-process mesh named `mesh` (`amqpProtocol: "memory"`, `amqpHost: mesh`), for a
/// harness playing a counterpart peer: declares `queue` (e.g. its own `hmac-<name>.queue`).
#[napi(catch_unwind)]
pub fn propagation_mesh_declare(mesh: String, queue: String) {
    InProcessBroker::named(&mesh).declare_queue(&queue);
}

/// Publishes raw bytes to `queue` of the in-process mesh `mesh` (dropped when nobody
/// declared the queue), as a counterpart peer would.
#[napi(catch_unwind)]
pub fn propagation_mesh_inject(mesh: String, queue: String, body: Buffer) {
    InProcessBroker::named(&mesh).inject(&queue, &body);
}

/// Takes the messages waiting in `queue` of the in-process mesh `mesh` (a queue nobody
/// consumes), oldest first: the bytes peers published to a counterpart.
#[napi(catch_unwind)]
pub fn propagation_mesh_take(mesh: String, queue: String) -> Vec<Buffer> {
    InProcessBroker::named(&mesh)
        .take(&queue)
        .into_iter()
        .map(Buffer::from)
        .collect()
}

/// Messages waiting in `queue` of the in-process mesh `mesh`; `null` when it was never
/// declared.
#[napi(catch_unwind)]
pub fn propagation_mesh_depth(mesh: String, queue: String) -> Option<u32> {
    InProcessBroker::named(&mesh)
        .depth(&queue)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Messages of the in-process mesh `mesh` its peers still have to handle: waiting in a
/// consumed queue or being handled (0: every peer is idle, how a harness ends a step).
#[napi(catch_unwind)]
pub fn propagation_mesh_in_flight(mesh: String) -> u32 {
    u32::try_from(InProcessBroker::named(&mesh).in_flight()).unwrap_or(u32::MAX)
}

/// `EnsureInput`.
#[napi(object, object_to_js = false)]
pub struct PropagationEnsureInput {
    /// The JS layer's id of this call, settled by the host steps when they complete it.
    pub caller: Option<u32>,
    pub client_id: String,
    pub secret: String,
    pub targets: Vec<String>,
    pub track: Option<String>,
    pub allowed_ips: Option<Vec<String>>,
    pub expires_at: Option<f64>,
}

/// `RotateInputUsage`.
#[napi(object, object_to_js = false)]
pub struct PropagationRotateInput {
    pub client_id: String,
    pub secret: String,
    pub track: Option<String>,
}

/// `RevokeInput`.
#[napi(object, object_to_js = false)]
pub struct PropagationRevokeInput {
    pub client_id: String,
    pub targets: Vec<String>,
    pub track: Option<String>,
}

/// The result of `ensure`.
#[napi(object)]
pub struct PropagationEnsureResult {
    pub client_id: String,
    /// `credential.create` or `credential.update`.
    pub op: String,
}

/// `SyncSummary`.
#[napi(object)]
pub struct PropagationSyncSummary {
    pub propagations_read: u32,
    pub targets_published: u32,
    pub targets_retrying: u32,
    pub duration_ms: f64,
}

/// One option of the user's `options` object, as the core's [`Given`]: its shape (for the
/// original's `!options.x`) and `convert` of it.
fn given<'e, T>(
    options: &Object<'e>,
    name: &str,
    convert: impl FnOnce(&Unknown<'e>) -> std::result::Result<T, PropagationError>,
) -> Result<Given<T>> {
    let v: Unknown<'e> = options.get_named_property(name)?;
    let shape = match v.get_type()? {
        ValueType::Undefined | ValueType::Null => return Ok(Given::absent()),
        ValueType::Boolean => Shape::Bool(v.coerce_to_bool()?),
        // SAFETY: the value is a JS number of the current call.
        ValueType::Number => Shape::Number(unsafe { v.cast::<f64>()? }),
        // SAFETY: the value is a JS string of the current call.
        ValueType::String => Shape::of_str(&unsafe { v.cast::<String>()? }),
        _ => Shape::Object,
    };
    Ok(Given::new(shape, convert(&v)))
}

/// `String(v)`, as the original hands the option on.
fn js_string(name: &str, v: &Unknown<'_>) -> std::result::Result<String, PropagationError> {
    v.coerce_to_string()
        .and_then(|s| s.into_utf8())
        .and_then(|s| s.into_owned())
        .map_err(|_| PropagationError::InvalidOptions(format!("{name} must be a string")))
}

/// `Number(v)`.
fn js_number(name: &str, v: &Unknown<'_>) -> std::result::Result<f64, PropagationError> {
    v.coerce_to_number()
        .and_then(|n| n.get_double())
        .map_err(|_| PropagationError::InvalidOptions(format!("{name} must be a number")))
}

/// `!!options[name]`.
fn flag(options: &Object<'_>, name: &str) -> Result<bool> {
    let v: Unknown<'_> = options.get_named_property(name)?;
    v.coerce_to_bool()
}

fn string_option(options: &Object<'_>, name: &str) -> Result<Given<String>> {
    given(options, name, |v| js_string(name, v))
}

/// What the JS layer adds to the user's options.
#[napi(object, object_to_js = false)]
pub struct PropagationHost {
    /// With a node-redis client object as `redis`: the Redis its options name, where the
    /// core may bypass the client after a probe (absent: always through the client).
    pub redis_native_url: Option<String>,
}

/// A running propagator (`Propagator` of the original): consuming its own queue from
/// creation until `close()`.
#[napi]
pub struct Propagator {
    inner: Arc<authcore::propagation::propagator::Propagator>,
    redis_mode: &'static str,
    /// The dispatcher of this propagator's JS objects.
    d: Arc<Dispatcher>,
    /// The `ensure` calls whose host steps JS runs itself ([`Propagator::ensure_start`]),
    /// by ticket.
    tickets: Arc<std::sync::Mutex<HashMap<u32, HostTicket>>>,
}

/// One entry of [`Propagator::tickets`]: the core's ticket (the client lock) and the
/// verdict of its read: `None` while unknown and not asked for.
struct HostTicket {
    ticket: HostEnsureTicket,
    gate: Option<Gate>,
}

/// What [`Propagator::ensure_start`] adds to the caller's input for the steps JS runs
/// itself: `a.get`, then the verdict (see `outstandingKey`; false:
/// [`Propagator::ensure_retire`] first), then `m.upsert` and `a.set` with the caller's
/// clientId, secret, targets and allowedIps and these values; [`Propagator::ensure_end`]
/// once they settled.
#[napi(object, object_from_js = false)]
pub struct PropagationEnsureStart {
    pub ticket: u32,
    /// When the state goes through the client object: the hash JS reads itself (`r.hGetAll`,
    /// started next to `a.get`), its answer going to [`Propagator::ensure_read`] for the
    /// verdict; absent: the core reads it (ask [`Propagator::ensure_gate`]).
    pub outstanding_key: Option<String>,
    /// `http` or `message`: the instance of `a.get` / `a.set`.
    pub which: String,
    /// The track (default `http`).
    pub track: String,
    /// Epoch milliseconds (truncated), or null.
    pub expires_at: Option<f64>,
    /// `hashClientSecret(secret, the track's secretToken)`.
    pub secret_hash: String,
}

/// `createPropagator(options)`: the user's options object goes to the core's
/// [`create`] as is (its checks, order and messages; then the state and the broker link,
/// which never fails on an unreachable broker: it retries in the background). Every JS
/// object it names (the client object, the auth instances, management, logger) is reached
/// through `dispatch`.
#[napi(
    catch_unwind,
    ts_args_type = "options: Record<string, unknown>, host: PropagationHost, dispatch: PropagationDispatch",
    ts_return_type = "Promise<Propagator>"
)]
pub fn create_propagator<'env>(
    env: &'env Env,
    options: Object<'env>,
    host: PropagationHost,
    dispatch: &PropagationDispatch,
) -> Result<PromiseRaw<'env, Propagator>> {
    let d = dispatch.d.clone();
    let sink = |name: &str, which: &'static str| -> Result<Given<Arc<dyn CredentialSink>>> {
        given(&options, name, |v| {
            // The instance's `secretToken` (the pepper), when it is an object that has one.
            let token = match v.get_type() {
                Ok(ValueType::Object) => {
                    // SAFETY: an object of the current call.
                    let o: Object<'_> = unsafe { v.cast() }.map_err(|e| {
                        PropagationError::InvalidOptions(format!("{name}: {}", e.reason))
                    })?;
                    let t: Option<Unknown<'_>> = o.get_named_property("secretToken").ok();
                    match t {
                        Some(t) if t.get_type().ok() == Some(ValueType::String) => {
                            // SAFETY: a JS string of the current call.
                            unsafe { t.cast::<String>() }.ok()
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            Ok(Arc::new(JsSink {
                d: d.clone(),
                which,
                secret_token: token,
            }) as Arc<dyn CredentialSink>)
        })
    };
    let opts = CreateOptions {
        amqp_host: string_option(&options, "amqpHost")?,
        amqp_port: given(&options, "amqpPort", |v| js_number("amqpPort", v))?,
        amqp_user: string_option(&options, "amqpUser")?,
        amqp_password: string_option(&options, "amqpPassword")?,
        amqp_protocol: string_option(&options, "amqpProtocol")?,
        amqp_vhost: string_option(&options, "amqpVhost")?,
        amqp_queue: string_option(&options, "amqpQueue")?,
        propagation_secret: string_option(&options, "propagationSecret")?,
        redis: given(&options, "redis", |v| {
            Ok(match v.get_type() {
                Ok(ValueType::String) => RedisOption::Url(js_string("redis", v)?),
                _ => RedisOption::Client {
                    ops: Arc::new(JsRedis { d: d.clone() }),
                    native_url: host.redis_native_url.clone(),
                },
            })
        })?,
        hmac_http_auth: sink("hmacHttpAuth", "http")?,
        hmac_message_auth: sink("hmacMessageAuth", "message")?,
        management: given(&options, "management", |_| {
            Ok(Arc::new(JsManagement { d: d.clone() }) as Arc<dyn Management>)
        })?,
        logger: given(&options, "logger", |_| {
            Ok(Arc::new(JsLogger { d: d.clone() }) as Arc<dyn Logger>)
        })?,
        event_auth: wire::EventAuth {
            sign: flag(&options, "signEvents")?,
            require: flag(&options, "requireSignedEvents")?,
            omit_secret: flag(&options, "omitSecretFromSignedEvents")?,
        },
    };
    let d = dispatch.d.clone();
    spawn(env, async move {
        let created = create(opts).await?;
        Ok(Propagator {
            inner: Arc::new(created.propagator),
            redis_mode: created.state_mode.as_str(),
            d,
            tickets: Default::default(),
        })
    })
}

impl Propagator {
    /// Runs the core's read of ticket `id` on the runtime; its verdict goes into the
    /// ticket, or to JS as `h.gate` when JS asked first.
    fn spawn_read(&self, id: u32, read: authcore::propagation::propagator::RuntimeRead) {
        let tickets = self.tickets.clone();
        let d = self.d.clone();
        napi::bindgen_prelude::spawn(async move {
            // A panic of the read is a stop: the retirement then fails with the read's end.
            let proceed = crate::error::CatchUnwind::new(read).await.unwrap_or(false);
            let mut tickets = tickets.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(t) = tickets.get_mut(&id) {
                if matches!(t.gate, Some(Gate::Asked)) {
                    d.fire("h.gate", json!([id, proceed]));
                }
                t.gate = Some(Gate::Known(proceed));
            }
        });
    }
}

#[napi]
impl Propagator {
    /// Where the state lives: `client`, `native`, `redis` or `memory` (see `state_for`).
    #[napi(getter, catch_unwind)]
    pub fn redis_mode(&self) -> String {
        self.redis_mode.to_owned()
    }

    /// This peer's logical name (`amqpQueue`).
    #[napi(getter, catch_unwind)]
    pub fn amqp_queue(&self) -> String {
        self.inner.amqp_queue().to_owned()
    }

    /// `MANAGEMENT_NOT_CONFIGURED` (thrown) unless a management adapter was configured:
    /// the core's first check of `ensure`/`rotate`/`revoke`/`sync`, which the drop-in makes
    /// before it reads their arguments (the original's order).
    #[napi(catch_unwind)]
    pub fn require_management(&self, env: &Env) -> Result<()> {
        self.inner.require_management().map_err(|e| map_err(env, e))
    }

    /// `ensure(input)`.
    #[napi(catch_unwind, ts_return_type = "Promise<PropagationEnsureResult>")]
    pub fn ensure<'env>(
        &self,
        env: &'env Env,
        input: PropagationEnsureInput,
    ) -> Result<PromiseRaw<'env, PropagationEnsureResult>> {
        let p = self.inner.clone();
        spawn(env, async move {
            let caller = input.caller;
            let run = p.ensure(EnsureInput {
                client_id: input.client_id,
                secret: input.secret,
                targets: input.targets,
                track: input.track,
                allowed_ips: input.allowed_ips,
                expires_at: number_millis(input.expires_at),
            });
            let r = match caller {
                Some(c) => ENSURE_CALLER.scope(c, run).await?,
                None => run.await?,
            };
            Ok(PropagationEnsureResult {
                client_id: r.client_id,
                op: r.op,
            })
        })
    }

    /// `ensure(input)` with the host steps run by JS itself, without a hand-off: the
    /// core's checks (thrown), then the client lock, the hash and the start of the read of
    /// the client's outstanding events (on the runtime); returns the steps and their
    /// ticket ([`PropagationEnsureStart`]), or null when the client lock is busy (then
    /// `ensure`).
    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn ensure_start(
        &self,
        env: &Env,
        client_id: String,
        secret: String,
        targets: Vec<String>,
        track: Option<String>,
        allowed_ips: Option<Vec<String>>,
        expires_at: Option<f64>,
    ) -> Result<Option<PropagationEnsureStart>> {
        let started = self
            .inner
            .try_begin_ensure(EnsureInput {
                client_id,
                secret,
                targets,
                track,
                allowed_ips,
                expires_at: number_millis(expires_at),
            })
            .map_err(|e| map_err(env, e))?;
        let Some(HostEnsure {
            steps,
            sink,
            read,
            ticket,
        }) = started
        else {
            return Ok(None);
        };
        let Some(which) = js_sink_of(sink.as_ref(), &self.d) else {
            return Ok(None);
        };
        let id = {
            let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
            let id = loop {
                let id = self
                    .d
                    .next_id
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if id != 0 && !tickets.contains_key(&id) {
                    break id;
                }
            };
            tickets.insert(id, HostTicket { ticket, gate: None });
            id
        };
        let outstanding_key = match read {
            HostRead::Host { key } => Some(key),
            HostRead::Runtime(read) => {
                self.spawn_read(id, read);
                None
            }
        };
        Ok(Some(PropagationEnsureStart {
            ticket: id,
            outstanding_key,
            which: which.to_owned(),
            track: steps.track,
            expires_at: steps.expires_at.map(|v| v as f64),
            secret_hash: steps.secret_hash,
        }))
    }

    /// What JS's `r.hGetAll` of an [`Self::ensure_start`]'s `outstandingKey` answered (or
    /// the message of its failure): the verdict, true to go on with the writes, false to
    /// [`Self::ensure_retire`] first.
    #[napi(catch_unwind)]
    pub fn ensure_read(
        &self,
        env: &Env,
        ticket: u32,
        outstanding: Option<HashMap<String, String>>,
        error: Option<String>,
    ) -> Result<bool> {
        let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(t) = tickets.get_mut(&ticket) else {
            return Err(unknown_ticket(env, ticket));
        };
        Ok(t.ticket.host_read(match error {
            Some(message) => Err(message),
            None => Ok(outstanding.unwrap_or_default()),
        }))
    }

    /// The verdict of the read of an [`Self::ensure_start`] (true: go on with the writes;
    /// false: [`Self::ensure_retire`] first) when it is known; otherwise null, and it comes
    /// as `h.gate` (`[ticket, proceed]`) once known.
    #[napi(catch_unwind)]
    pub fn ensure_gate(&self, env: &Env, ticket: u32) -> Result<Option<bool>> {
        let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(t) = tickets.get_mut(&ticket) else {
            return Err(unknown_ticket(env, ticket));
        };
        Ok(match t.gate {
            Some(Gate::Known(proceed)) => Some(proceed),
            _ => {
                t.gate = Some(Gate::Asked);
                None
            }
        })
    }

    /// After a stop verdict: the core retires the client's outstanding events of the
    /// listed targets (rejects with the read's or the retirement's error).
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn ensure_retire<'env>(&self, env: &'env Env, ticket: u32) -> Result<PromiseRaw<'env, ()>> {
        let retire = {
            let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
            match tickets.get_mut(&ticket) {
                Some(t) => t.ticket.retire(),
                None => return Err(unknown_ticket(env, ticket)),
            }
        };
        spawn(env, retire)
    }

    /// The host steps of an [`Self::ensure_start`] settled: releases the client lock.
    #[napi(catch_unwind)]
    pub fn ensure_end(&self, ticket: u32) {
        let t = self
            .tickets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&ticket);
        drop(t);
    }

    /// `rotate(input)`: resolves with the clientId.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn rotate<'env>(
        &self,
        env: &'env Env,
        input: PropagationRotateInput,
    ) -> Result<PromiseRaw<'env, String>> {
        let p = self.inner.clone();
        spawn(env, async move {
            p.rotate(RotateUsage {
                client_id: input.client_id,
                secret: input.secret,
                track: input.track,
            })
            .await
        })
    }

    /// `revoke(input)`: resolves with the clientId.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn revoke<'env>(
        &self,
        env: &'env Env,
        input: PropagationRevokeInput,
    ) -> Result<PromiseRaw<'env, String>> {
        let p = self.inner.clone();
        spawn(env, async move {
            p.revoke(RevokeInput {
                client_id: input.client_id,
                targets: input.targets,
                track: input.track,
            })
            .await
        })
    }

    /// `sync()`.
    #[napi(catch_unwind, ts_return_type = "Promise<PropagationSyncSummary>")]
    pub fn sync<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, PropagationSyncSummary>> {
        let p = self.inner.clone();
        spawn(env, async move {
            let s = p.sync().await?;
            Ok(PropagationSyncSummary {
                propagations_read: s.propagations_read,
                targets_published: s.targets_published,
                targets_retrying: s.targets_retrying,
                duration_ms: s.duration_ms as f64,
            })
        })
    }

    /// `close()`: stops consuming (after the delivery in hand) and closes the broker link.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let p = self.inner.clone();
        spawn(env, async move {
            p.close().await;
            Ok(())
        })
    }
}
