//! `EventHub`: the core's events engine ([`authcore::events::EventHub`]) for
//! node-auth's `SseManager` (packages/node-auth-core/lib/tools/sse-manager.js).
//!
//! Push mode only: `publish` encodes the frame once and returns it with the ids of the
//! subscribers to write it to; JS writes that one string to each `res`, except to the
//! subscribers whose socket is attached (`attachSocket`), which the core's socket sinks
//! write to directly (one write call each, no JavaScript per subscriber). Backpressure
//! (`res.write` returning false) is reported with `block(id)`; on `'drain'`, `drain(id)`
//! returns the frames queued meanwhile. Ids the engine disconnected (queue over its
//! bound) come back in `overflowed`, and JS ends those responses. A subscriber whose
//! socket is attached can also be *released* (`releaseSocket`, Linux): JS closes its own
//! descriptor and drops the response, and the core's sinks own close detection (a watcher
//! thread, started on the first release, reports closed ids through `watchSockets`'
//! callback), backpressure and the end of the stream. Time is the addon's monotonic
//! clock. Errors go through the binding's one mapping (`code`, `status`).

#[cfg(unix)]
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use authcore::events::{
    self as core, EventMeta, EventsError, HEARTBEAT_FRAME, HubConfig, SubscribeRequest,
    encode_frame, inbound, webhook,
};
use authcore_node_boundary::napi;
use napi::bindgen_prelude::{Function, PromiseRaw, Unknown};
#[cfg(unix)]
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Result};

use crate::error::{js, spawn_mapped, to_js};

/// `SseManager`'s engine options (all optional; the core's defaults otherwise).
#[napi(object)]
#[derive(Default)]
pub struct EventHubOptions {
    /// `0` disables heartbeats (default 30000).
    pub heartbeat_interval_ms: Option<f64>,
    /// Only `false` disables dedupe.
    pub deduplicate: Option<bool>,
    pub dedupe_window: Option<f64>,
    pub max_subscribers: Option<f64>,
    pub max_per_user: Option<f64>,
    pub max_topics: Option<f64>,
    pub max_queue_bytes: Option<f64>,
    pub max_frame_bytes: Option<f64>,
    /// `0` disables replay.
    pub replay_events: Option<f64>,
    pub replay_bytes: Option<f64>,
}

fn setting(name: &str, v: Option<f64>, default: usize) -> std::result::Result<usize, EventsError> {
    match v {
        None => Ok(default),
        Some(n)
            if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 =>
        {
            usize::try_from(n as u64)
                .map_err(|_| EventsError::InvalidSetting(format!("{name} is too large")))
        }
        Some(_) => Err(EventsError::InvalidSetting(format!(
            "{name} must be a non-negative integer"
        ))),
    }
}

fn config(o: EventHubOptions) -> std::result::Result<HubConfig, EventsError> {
    let d = HubConfig::default();
    Ok(HubConfig {
        heartbeat_interval_ms: setting(
            "heartbeatIntervalMs",
            o.heartbeat_interval_ms,
            d.heartbeat_interval_ms as usize,
        )? as u64,
        deduplicate: o.deduplicate != Some(false),
        dedupe_window: setting("dedupeWindow", o.dedupe_window, d.dedupe_window)?,
        max_subscribers: setting("maxSubscribers", o.max_subscribers, d.max_subscribers)?,
        max_per_user: setting("maxPerUser", o.max_per_user, d.max_per_user)?,
        max_topics: setting("maxTopics", o.max_topics, d.max_topics)?,
        max_queue_bytes: setting("maxQueueBytes", o.max_queue_bytes, d.max_queue_bytes)?,
        max_frame_bytes: setting("maxFrameBytes", o.max_frame_bytes, d.max_frame_bytes)?,
        replay_events: setting("replayEvents", o.replay_events, d.replay_events)?,
        replay_bytes: setting("replayBytes", o.replay_bytes, d.replay_bytes)?,
    })
}

/// A subscription: its id and the frames to write after the connected frame.
#[napi(object)]
pub struct Subscribed {
    pub id: u32,
    pub replay: Vec<String>,
    /// `false` when `lastEventId` was given but is no longer in the replay ring.
    pub replay_complete: bool,
}

/// Who gets a frame.
#[napi(object)]
pub struct Delivery {
    /// The encoded frame (`publish`), or the heartbeat comment (`tick`).
    pub frame: String,
    /// Subscribers to write `frame` to now, in subscription order.
    pub write: Vec<u32>,
    /// Subscribers disconnected by the slow-client policy: end their responses.
    pub overflowed: Vec<u32>,
    /// Subscribers whose socket took part of the frame: write `rest` raw to the socket,
    /// then write their frames through the response again (their socket is detached).
    pub partial: Vec<PartialWrite>,
}

/// The bytes a socket did not take.
#[napi(object)]
pub struct PartialWrite {
    pub id: u32,
    pub rest: napi::bindgen_prelude::Buffer,
}

fn id32(id: u64) -> u32 {
    // Ids count subscriptions from 1; four billion subscriptions on one hub are out of reach.
    u32::try_from(id).unwrap_or(u32::MAX)
}

fn ids(v: Vec<u64>) -> Vec<u32> {
    v.into_iter().map(id32).collect()
}

#[cfg(unix)]
type ClosedFn =
    ThreadsafeFunction<Vec<u32>, Unknown<'static>, Vec<u32>, napi::Status, false, true, 0>;

/// The events engine behind `SseManager`.
#[napi]
pub struct EventHub {
    hub: core::EventHub,
    start: Instant,
    #[cfg(unix)]
    sinks: Arc<authcore::events::sink::SocketSinks>,
    /// `watchSockets`' callback (weak: it never keeps the event loop alive).
    #[cfg(unix)]
    on_closed: Mutex<Option<Arc<ClosedFn>>>,
    #[cfg(unix)]
    watching: AtomicBool,
}

#[cfg(unix)]
impl Drop for EventHub {
    fn drop(&mut self) {
        // Stops the watcher thread; the released connections close with the sinks.
        self.sinks.shut_down();
    }
}

impl EventHub {
    /// The thread that waits on the released sockets and reports the closed ones.
    #[cfg(unix)]
    fn start_watcher(&self, cb: Arc<ClosedFn>) -> bool {
        if self.watching.swap(true, Ordering::AcqRel) {
            return true;
        }
        let sinks = Arc::clone(&self.sinks);
        let spawned = std::thread::Builder::new()
            .name("authcore-sse-sockets".into())
            .spawn(move || {
                while let Some(closed) = sinks.wait(-1) {
                    if !closed.is_empty() {
                        let _ = cb.call(ids(closed), ThreadsafeFunctionCallMode::NonBlocking);
                    }
                }
            });
        if spawned.is_err() {
            self.watching.store(false, Ordering::Release);
            return false;
        }
        true
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Write `frame` through the attached sockets; the rest is the host's to write.
    fn deliver(&self, write: Vec<u64>, overflowed: Vec<u64>, frame: &str) -> Delivery {
        #[cfg(unix)]
        let (host, partial, overflowed) = {
            let out = self.sinks.write(write, frame);
            // The engine's slow clients, and the released sockets that failed or overflowed.
            let mut overflowed = overflowed;
            overflowed.extend(out.closed);
            let partial = out
                .partial
                .into_iter()
                .map(|(id, rest)| PartialWrite {
                    id: id32(id),
                    rest: rest.into(),
                })
                .collect();
            (out.host, partial, overflowed)
        };
        #[cfg(not(unix))]
        let (host, partial) = (write, Vec::new());
        #[cfg(unix)]
        for id in &overflowed {
            self.sinks.detach(*id);
        }
        Delivery {
            frame: frame.to_owned(),
            write: ids(host),
            overflowed: ids(overflowed),
            partial,
        }
    }
}

#[napi]
impl EventHub {
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, options: Option<EventHubOptions>) -> Result<Self> {
        let cfg = js(&env, config(options.unwrap_or_default()))?;
        #[cfg(unix)]
        let max_pending = cfg.max_queue_bytes;
        let hub = js(&env, core::EventHub::new(cfg, 0))?;
        Ok(Self {
            hub,
            start: Instant::now(),
            #[cfg(unix)]
            sinks: Arc::new(authcore::events::sink::SocketSinks::with_max_pending(
                max_pending,
            )),
            #[cfg(unix)]
            on_closed: Mutex::new(None),
            #[cfg(unix)]
            watching: AtomicBool::new(false),
        })
    }

    /// Subscribe a connection to `topics` (limits apply: `EVENTS_TOO_MANY_*`, status 429
    /// or 400), replaying from `lastEventId` when given.
    #[napi(catch_unwind)]
    pub fn subscribe(
        &self,
        env: Env,
        topics: Vec<String>,
        user_id: Option<String>,
        tenant_id: Option<String>,
        last_event_id: Option<String>,
    ) -> Result<Subscribed> {
        let req = SubscribeRequest {
            topics,
            user_id,
            tenant_id,
            last_event_id,
            mode: authcore::events::DeliveryMode::Push,
        };
        let s = js(&env, self.hub.subscribe(req, self.now()))?;
        Ok(Subscribed {
            id: id32(s.id),
            replay: s.replay.iter().map(|f| f.to_string()).collect(),
            replay_complete: s.replay_complete,
        })
    }

    /// Remove a connection (idempotent).
    #[napi(catch_unwind)]
    pub fn unsubscribe(&self, id: u32) -> bool {
        // A released socket gets the end of the body and is closed.
        #[cfg(unix)]
        self.sinks.end(u64::from(id));
        self.hub.unsubscribe(u64::from(id))
    }

    /// Write this subscriber's frames straight to its socket from now on (`fd`: the
    /// descriptor of a plain TCP socket with nothing buffered; `chunked`: the response uses
    /// HTTP/1.1 chunked encoding). The descriptor is duplicated, so it stays valid until
    /// `unsubscribe`. False when it cannot be (not a connected TCP socket, not Unix).
    #[napi(catch_unwind)]
    pub fn attach_socket(&self, id: u32, fd: i32, chunked: bool) -> bool {
        #[cfg(unix)]
        {
            // SAFETY: the host passes the descriptor of the live socket of this response
            // (node's TCP handle), synchronously; the sink only duplicates it.
            unsafe { self.sinks.attach(u64::from(id), fd, chunked) }.is_ok()
        }
        #[cfg(not(unix))]
        {
            let _ = (id, fd, chunked);
            false
        }
    }

    /// `onClosed(ids)`: called on the JS thread with the released subscribers whose
    /// connection closed or failed (their sockets are already closed; remove them).
    #[napi(catch_unwind)]
    pub fn watch_sockets(&self, on_closed: Function<Vec<u32>, Unknown<'static>>) -> Result<()> {
        #[cfg(unix)]
        {
            let f: ClosedFn = on_closed
                .build_threadsafe_function::<Vec<u32>>()
                .callee_handled::<false>()
                .weak::<true>()
                .build()?;
            *self
                .on_closed
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(f));
        }
        #[cfg(not(unix))]
        let _ = on_closed;
        Ok(())
    }

    /// JS is about to close its descriptor of this attached subscriber's socket and drop
    /// its response: the sinks own the connection from now on. False (JS keeps its
    /// response) without `watchSockets`, without an attached socket, or off Linux.
    #[napi(catch_unwind)]
    pub fn release_socket(&self, id: u32) -> bool {
        #[cfg(unix)]
        {
            let Some(cb) = self
                .on_closed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
            else {
                return false;
            };
            if self.watching.load(Ordering::Acquire) || self.start_watcher(cb) {
                self.sinks.release(u64::from(id))
            } else {
                false
            }
        }
        #[cfg(not(unix))]
        {
            let _ = id;
            false
        }
    }

    /// Stop writing to this subscriber's socket (its frames go through the host again).
    #[napi(catch_unwind)]
    pub fn detach_socket(&self, id: u32) -> bool {
        #[cfg(unix)]
        {
            self.sinks.detach(u64::from(id))
        }
        #[cfg(not(unix))]
        {
            let _ = id;
            false
        }
    }

    /// Encode `id: …\nevent: …\ndata: <json>\n\n` once and deliver it to `topic`.
    /// `EVENTS_INVALID_FIELD` (400) for a CR or LF in `id` or `eventType`.
    #[napi(catch_unwind)]
    pub fn publish(
        &self,
        env: Env,
        topic: String,
        id: String,
        event_type: String,
        tenant_id: Option<String>,
        json: String,
    ) -> Result<Delivery> {
        let frame = js(&env, encode_frame(&id, &event_type, &json))?;
        let d = js(
            &env,
            self.hub.publish(
                &topic,
                EventMeta {
                    id: &id,
                    tenant_id: tenant_id.as_deref().filter(|t| !t.is_empty()),
                },
                &frame,
            ),
        )?;
        Ok(self.deliver(d.write, d.overflowed, &frame))
    }

    /// The frame of an event that is not published (the `connected` frame).
    #[napi(catch_unwind)]
    pub fn encode(&self, env: Env, id: String, event_type: String, json: String) -> Result<String> {
        Ok(js(&env, encode_frame(&id, &event_type, &json))?.to_string())
    }

    /// `res.write` returned false: queue this connection's frames until `drain`.
    #[napi(catch_unwind)]
    pub fn block(&self, id: u32) {
        self.hub.block(u64::from(id));
    }

    /// `'drain'`: the frames queued while blocked, in order.
    #[napi(catch_unwind)]
    pub fn drain(&self, id: u32) -> Vec<String> {
        self.hub
            .drain(u64::from(id))
            .iter()
            .map(|f| f.to_string())
            .collect()
    }

    /// Advance the heartbeat wheel: connections due `: heartbeat\n\n`.
    #[napi(catch_unwind)]
    pub fn tick(&self) -> Delivery {
        let d = self.hub.tick(self.now());
        self.deliver(d.write, d.overflowed, HEARTBEAT_FRAME)
    }

    /// Milliseconds between two `tick()` calls (0: heartbeats off).
    #[napi(getter, catch_unwind)]
    pub fn tick_ms(&self) -> u32 {
        if self.hub.config().heartbeat_interval_ms == 0 {
            0
        } else {
            u32::try_from(self.hub.tick_ms()).unwrap_or(u32::MAX)
        }
    }

    /// Connections held.
    #[napi(getter, catch_unwind)]
    pub fn count(&self) -> u32 {
        u32::try_from(self.hub.count()).unwrap_or(u32::MAX)
    }
}

// ---------------------------------------------------------------------------------------
// Outgoing webhooks: the core's delivery policy; the transport is the host's fetch.
// ---------------------------------------------------------------------------------------

/// `WebhookSender.sign(body, secret)`: `sha256=<hex>`.
#[napi(catch_unwind)]
pub fn webhook_sign(body: String, secret: String) -> String {
    webhook::sign(&body, &secret)
}

/// `WebhookSender.verify(body, secret, signature)`, constant time.
#[napi(catch_unwind)]
pub fn webhook_verify(body: String, secret: String, signature: String) -> bool {
    webhook::verify(&body, &secret, &signature)
}

/// A webhook configuration as the policy reads it.
#[napi(object)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: Option<String>,
    pub max_retries: Option<f64>,
    pub retry_delay_ms: Option<f64>,
    pub timeout_ms: Option<f64>,
    pub allow_internal: Option<bool>,
}

/// One delivery: URL, the stable delivery id, headers in order, retry bounds, timeout.
#[napi(object)]
pub struct DeliveryPlan {
    pub url: String,
    pub host: String,
    pub delivery_id: String,
    pub headers: Vec<Vec<String>>,
    pub max_retries: u32,
    pub retry_delay_ms: f64,
    pub timeout_ms: f64,
    pub allow_internal: bool,
}

fn plan_from_js(p: &DeliveryPlan) -> webhook::DeliveryPlan {
    webhook::DeliveryPlan {
        url: p.url.clone(),
        host: p.host.clone(),
        delivery_id: p.delivery_id.clone(),
        headers: Vec::new(),
        max_retries: p.max_retries.min(webhook::MAX_WEBHOOK_RETRIES),
        retry_delay_ms: (p.retry_delay_ms.max(0.0) as u64).min(webhook::MAX_WEBHOOK_DELAY_MS),
        timeout_ms: p.timeout_ms.max(1.0) as u64,
        allow_internal: p.allow_internal,
    }
}

/// Plan a delivery (`EVENTS_WEBHOOK_REFUSED` for a refused URL or setting,
/// `EVENTS_INVALID_FIELD` for a CR/LF in the event name or timestamp).
#[napi(catch_unwind)]
pub fn webhook_plan(
    env: Env,
    target: WebhookTarget,
    event_name: String,
    timestamp: String,
    body: String,
) -> Result<DeliveryPlan> {
    let t = webhook::WebhookTarget {
        url: target.url,
        secret: target.secret,
        max_retries: target.max_retries,
        retry_delay_ms: target.retry_delay_ms,
        timeout_ms: target.timeout_ms,
        allow_internal: target.allow_internal == Some(true),
    };
    let p = js(&env, webhook::plan(&t, &event_name, &timestamp, &body))?;
    Ok(DeliveryPlan {
        url: p.url,
        host: p.host,
        delivery_id: p.delivery_id,
        headers: p.headers.into_iter().map(|(k, v)| vec![k, v]).collect(),
        max_retries: p.max_retries,
        retry_delay_ms: p.retry_delay_ms as f64,
        timeout_ms: p.timeout_ms as f64,
        allow_internal: p.allow_internal,
    })
}

/// The addresses the plan's host resolved to: `EVENTS_WEBHOOK_REFUSED` if any is internal.
#[napi(catch_unwind)]
pub fn webhook_check_resolved(env: Env, plan: DeliveryPlan, addresses: Vec<String>) -> Result<()> {
    js(
        &env,
        webhook::check_resolved_text(&plan_from_js(&plan), &addresses),
    )
}

/// After attempt `attempt` (0-based) ended with `status` (`null`: network error or
/// timeout): milliseconds to wait before the next attempt, or `null` to stop.
#[napi(catch_unwind)]
pub fn webhook_next_delay(plan: DeliveryPlan, attempt: u32, status: Option<u32>) -> Option<f64> {
    let status = status.map(|s| u16::try_from(s).unwrap_or(u16::MAX));
    webhook::next_delay_random(&plan_from_js(&plan), attempt, status).map(|d| d as f64)
}

/// What the inbound check decided: `ok` with the replay keys to claim, or the refusal
/// (`code`, the `error` text of the 401 body, `status`).
#[napi(object)]
pub struct InboundVerdict {
    pub ok: bool,
    pub code: Option<String>,
    pub error: Option<String>,
    pub status: u32,
    pub replay_keys: Vec<String>,
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The core's check of a signed inbound delivery (signature of the raw body, then
/// `X-Webhook-Timestamp` within `windowMs` of now and equal to the signed body's
/// `timestamp`; `windowMs` 0 skips the timestamp), against the system clock.
#[napi(catch_unwind)]
pub fn webhook_check_inbound(
    body: String,
    secret: String,
    signature: Option<String>,
    timestamp: Option<String>,
    delivery_id: Option<String>,
    window_ms: f64,
) -> InboundVerdict {
    let window = if window_ms.is_finite() && window_ms > 0.0 {
        (window_ms as u64).min(inbound::MAX_INBOUND_WINDOW_MS)
    } else {
        0
    };
    let r = inbound::check(&inbound::InboundRequest {
        body: &body,
        secret: &secret,
        signature: signature.as_deref(),
        timestamp: timestamp.as_deref(),
        delivery_id: delivery_id.as_deref(),
        now_ms: unix_ms(),
        window_ms: window,
    });
    match r {
        Ok(keys) => InboundVerdict {
            ok: true,
            code: None,
            error: None,
            status: 200,
            replay_keys: keys,
        },
        Err(e) => InboundVerdict {
            ok: false,
            code: Some(e.code().to_owned()),
            error: Some(e.message().to_owned()),
            status: u32::from(e.status()),
            replay_keys: Vec::new(),
        },
    }
}

/// The core's in-process replay store of inbound deliveries.
#[napi]
pub struct WebhookReplayGuard {
    inner: inbound::ReplayGuard,
}

#[napi]
impl WebhookReplayGuard {
    /// At most `capacity` keys remembered (default 100000).
    #[napi(constructor, catch_unwind)]
    pub fn new(capacity: Option<f64>) -> Self {
        let cap = capacity
            .filter(|c| c.is_finite() && *c >= 1.0)
            .map_or(inbound::DEFAULT_REPLAY_CAPACITY, |c| c.min(1e9) as usize);
        Self {
            inner: inbound::ReplayGuard::new(cap),
        }
    }

    /// Claim every key for `ttlMs`: false if any is already held (nothing claimed then).
    #[napi(catch_unwind)]
    pub fn claim(&self, keys: Vec<String>, ttl_ms: f64) -> bool {
        let ttl = if ttl_ms.is_finite() && ttl_ms > 0.0 {
            ttl_ms as u64
        } else {
            0
        };
        self.inner.claim(&keys, unix_ms(), ttl)
    }

    /// Give keys back (the delivery was not processed).
    #[napi(catch_unwind)]
    pub fn release(&self, keys: Vec<String>) {
        self.inner.release(&keys);
    }

    /// Keys held.
    #[napi(getter, catch_unwind)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }
}

// ---------------------------------------------------------------------------------------
// Redis pub/sub distributor (`createRedisDistributor`, an `ISseDistributor`).
// ---------------------------------------------------------------------------------------

type Shared = Arc<Mutex<Option<Arc<core::RedisDistributor>>>>;

/// [`spawn_mapped`] with the binding's one mapping ([`to_js`]): a panic of `fut` rejects
/// with the one panic error.
fn spawn_events<'env, T, F>(env: &'env Env, fut: F) -> Result<PromiseRaw<'env, T>>
where
    T: napi::bindgen_prelude::ToNapiValue + Send + 'static,
    F: std::future::Future<Output = std::result::Result<T, EventsError>> + Send + 'static,
{
    spawn_mapped(env, fut, to_js)
}

fn current(shared: &Shared) -> std::result::Result<Arc<core::RedisDistributor>, EventsError> {
    shared
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .ok_or_else(|| EventsError::Distributor("redis distributor: not connected".into()))
}

/// The core's Redis distributor: `connect()`, `publish(topic, json)`, `next()`.
#[napi]
pub struct RedisDistributor {
    url: String,
    channel: String,
    inner: Shared,
}

#[napi]
impl RedisDistributor {
    #[napi(constructor, catch_unwind)]
    pub fn new(url: String, channel: String) -> Self {
        Self {
            url,
            channel,
            inner: Arc::new(Mutex::new(None)),
        }
    }

    /// Connect and subscribe; resolves once the subscription is active.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn connect<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let (url, channel, inner) = (
            self.url.clone(),
            self.channel.clone(),
            Arc::clone(&self.inner),
        );
        spawn_events(env, async move {
            let d = core::RedisDistributor::connect(&url, &channel).await?;
            *inner.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(d));
            Ok(())
        })
    }

    /// Publish an event (JSON text) on a topic to every process, this one included.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn publish<'env>(
        &self,
        env: &'env Env,
        topic: String,
        json: String,
    ) -> Result<PromiseRaw<'env, ()>> {
        let inner = Arc::clone(&self.inner);
        spawn_events(
            env,
            async move { current(&inner)?.publish(&topic, &json).await },
        )
    }

    /// The next `[topic, json]` received, or `null` once closed.
    #[napi(ts_return_type = "Promise<[string, string] | null>", catch_unwind)]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<Vec<String>>>> {
        let inner = Arc::clone(&self.inner);
        spawn_events(env, async move {
            let d = current(&inner)?;
            Ok(d.next().await.map(|(t, j)| vec![t, j]))
        })
    }

    /// Stop the subscription; a pending `next()` resolves to `null`.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let taken = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        spawn_events(env, async move {
            if let Some(d) = taken {
                d.close().await;
            }
            Ok(())
        })
    }

    /// Messages dropped because they were not read in time.
    #[napi(getter, catch_unwind)]
    pub fn dropped(&self) -> f64 {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0.0, |d| d.dropped() as f64)
    }
}
