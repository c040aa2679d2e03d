//! `EventHub`: the subscriber engine behind node-auth's `SseManager` (Node) and
//! `authcore.events` (Python).
//!
//! - **Index**: topic → subscribers ([`TopicIndex`]); a publish visits only the
//!   subscribers of its topic, in subscription order.
//! - **One frame per event**: the host encodes the frame once ([`encode_frame`]); every
//!   subscriber's queue and the replay ring hold the same `Arc<str>`.
//! - **Tenant isolation** as the original: an event with a tenant skips subscribers of
//!   another tenant; events without one, and subscribers without one, are not filtered.
//! - **Dedupe**: a subscriber skips an event id among the last `dedupe_window` ids it
//!   received (the original remembers only the last one, so interleaved deliveries from a
//!   distributor could duplicate).
//! - **Heartbeats**: one [`TimerWheel`]; [`EventHub::tick`] returns the subscribers due a
//!   `: heartbeat` comment, each every `heartbeat_interval_ms` from its subscription.
//! - **Delivery and the slow-client policy.** A *push* subscriber (a Node
//!   `ServerResponse`) is written directly: [`Delivery::write`] lists who gets the frame
//!   now. When the host's write reports backpressure it calls [`EventHub::block`]; later
//!   frames queue in the engine until the host's drain ([`EventHub::drain`]). A *pull*
//!   subscriber (an asyncio consumer) always queues and is woken. A queue is bounded by
//!   `max_queue_bytes`: the frame that would pass it **disconnects** the subscriber
//!   ([`Delivery::overflowed`]; the host ends the response). The client's EventSource
//!   reconnects with `Last-Event-ID` and the ring replays what it missed.
//! - **Replay**: a ring of the last `replay_events` frames (at most `replay_bytes`);
//!   subscribing with `last_event_id` replays the later frames the subscriber would have
//!   received. An id no longer in the ring replays nothing and says so
//!   ([`Subscribed::replay_complete`] = false).
//! - **Limits** (none in the original): subscribers in all, per user, topics per
//!   subscriber, frame size.
//!
//! Every method takes the current time in milliseconds from the host's monotonic clock,
//! so the engine has no clock and no thread of its own.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::notify::Notify;

use super::{EventsError, Frame, HEARTBEAT_FRAME, TimerWheel, TopicIndex};

/// Default heartbeat interval (the original's 30 s).
pub const DEFAULT_HEARTBEAT_INTERVAL_MS: u64 = 30_000;
/// Default cap on subscribers per engine.
pub const DEFAULT_MAX_SUBSCRIBERS: usize = 100_000;
/// Default cap on subscribers of one user.
pub const DEFAULT_MAX_PER_USER: usize = 32;
/// Default cap on topics per subscriber.
pub const DEFAULT_MAX_TOPICS: usize = 64;
/// Default bound of a subscriber's queue, in bytes.
pub const DEFAULT_MAX_QUEUE_BYTES: usize = 1024 * 1024;
/// Default largest frame.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1024 * 1024;
/// Default replay ring length, in events.
pub const DEFAULT_REPLAY_EVENTS: usize = 1024;
/// Default replay ring size, in bytes.
pub const DEFAULT_REPLAY_BYTES: usize = 8 * 1024 * 1024;
/// Default dedupe window, in event ids per subscriber.
pub const DEFAULT_DEDUPE_WINDOW: usize = 16;

/// Engine settings. `Default` is the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// `0` disables heartbeats.
    pub heartbeat_interval_ms: u64,
    /// `false` turns dedupe off (the original's `deduplicate: false`).
    pub deduplicate: bool,
    /// Event ids remembered per subscriber to drop a duplicate publish (when `deduplicate`).
    pub dedupe_window: usize,
    /// Most subscribers at once; the next subscribe is refused.
    pub max_subscribers: usize,
    /// Most subscribers per user id.
    pub max_per_user: usize,
    /// Most topics in one subscription.
    pub max_topics: usize,
    /// Most bytes queued for one subscriber; past it the subscriber is disconnected.
    pub max_queue_bytes: usize,
    /// Largest encoded frame a publish may produce.
    pub max_frame_bytes: usize,
    /// `0` disables replay.
    pub replay_events: usize,
    /// Byte budget of the replay ring.
    pub replay_bytes: usize,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval_ms: DEFAULT_HEARTBEAT_INTERVAL_MS,
            deduplicate: true,
            dedupe_window: DEFAULT_DEDUPE_WINDOW,
            max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
            max_per_user: DEFAULT_MAX_PER_USER,
            max_topics: DEFAULT_MAX_TOPICS,
            max_queue_bytes: DEFAULT_MAX_QUEUE_BYTES,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            replay_events: DEFAULT_REPLAY_EVENTS,
            replay_bytes: DEFAULT_REPLAY_BYTES,
        }
    }
}

impl HubConfig {
    /// Refuse settings that would silently disable a bound.
    pub fn validate(&self) -> Result<(), EventsError> {
        let positive = [
            ("maxSubscribers", self.max_subscribers),
            ("maxPerUser", self.max_per_user),
            ("maxTopics", self.max_topics),
            ("maxQueueBytes", self.max_queue_bytes),
            ("maxFrameBytes", self.max_frame_bytes),
            ("dedupeWindow", self.dedupe_window),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(EventsError::InvalidSetting(format!(
                    "{name} must be a positive integer"
                )));
            }
        }
        Ok(())
    }

    /// Heartbeat wheel resolution: 1/16 of the interval, 10 ms to 1 s.
    pub fn tick_ms(&self) -> u64 {
        (self.heartbeat_interval_ms / 16).clamp(10, 1_000)
    }
}

/// How a subscriber receives frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMode {
    /// The host writes frames as [`Delivery::write`] lists them (Node `res.write`).
    Push,
    /// Frames queue in the engine; the consumer awaits [`EventHub::next`].
    Pull,
}

/// A subscription request.
#[derive(Debug, Clone)]
pub struct SubscribeRequest {
    /// Topics to receive.
    pub topics: Vec<String>,
    /// The subscriber's user (counted against `max_per_user`).
    pub user_id: Option<String>,
    /// The subscriber's tenant: events of another tenant skip it (events without one do not).
    pub tenant_id: Option<String>,
    /// The client's `Last-Event-ID`.
    pub last_event_id: Option<String>,
    /// Push or pull delivery.
    pub mode: DeliveryMode,
}

impl SubscribeRequest {
    /// A push subscription to `topics`.
    pub fn push(topics: Vec<String>) -> Self {
        Self {
            topics,
            user_id: None,
            tenant_id: None,
            last_event_id: None,
            mode: DeliveryMode::Push,
        }
    }

    /// A pull subscription to `topics`.
    pub fn pull(topics: Vec<String>) -> Self {
        Self {
            mode: DeliveryMode::Pull,
            ..Self::push(topics)
        }
    }

    /// Sets the user id.
    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Sets the tenant id.
    pub fn tenant(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// Sets the `Last-Event-ID` to replay after.
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = Some(id.into());
        self
    }
}

/// The result of a subscription.
#[derive(Debug, Clone)]
pub struct Subscribed {
    /// The subscriber id (for `unsubscribe`, `drain`, `next`).
    pub id: u64,
    /// Push mode: frames to write after the connected frame (pull mode: already queued).
    pub replay: Vec<Frame>,
    /// `false` when a `Last-Event-ID` was given but is no longer in the ring (a gap).
    pub replay_complete: bool,
}

/// Who receives a published frame.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Push subscribers to write the frame to now, in subscription order.
    pub write: Vec<u64>,
    /// Pull subscribers (or blocked push ones) that queued it.
    pub queued: usize,
    /// Subscribers disconnected because their queue would pass `max_queue_bytes`. They
    /// are already removed; the host ends their responses.
    pub overflowed: Vec<u64>,
}

/// An event's identity as the engine filters it.
#[derive(Debug, Clone, Copy)]
pub struct EventMeta<'a> {
    /// The event id (`id:` line, dedupe and replay key).
    pub id: &'a str,
    /// The event's tenant (`None`: every tenant's subscribers).
    pub tenant_id: Option<&'a str>,
}

#[derive(Debug)]
enum Mode {
    Direct,
    Blocked,
    Pull(Arc<Notify>),
}

#[derive(Debug)]
struct Sub {
    topics: Vec<String>,
    user: Option<Arc<str>>,
    tenant: Option<String>,
    recent: VecDeque<Arc<str>>,
    mode: Mode,
    queue: VecDeque<Frame>,
    queued_bytes: usize,
    /// When the next heartbeat is due (host milliseconds).
    beat_due: u64,
}

impl Sub {
    fn seen(&self, id: &str) -> bool {
        self.recent.iter().any(|r| &**r == id)
    }

    fn remember(&mut self, id: &Arc<str>, window: usize) {
        if self.recent.len() >= window {
            self.recent.pop_front();
        }
        self.recent.push_back(Arc::clone(id));
    }

    fn tenant_ok(&self, event_tenant: Option<&str>) -> bool {
        match (event_tenant, self.tenant.as_deref()) {
            (Some(e), Some(c)) if !e.is_empty() && !c.is_empty() => e == c,
            _ => true,
        }
    }
}

#[derive(Debug)]
struct RingEntry {
    id: Arc<str>,
    topic: String,
    tenant: Option<String>,
    frame: Frame,
}

#[derive(Debug)]
struct State {
    next_id: u64,
    subs: HashMap<u64, Sub>,
    index: TopicIndex,
    per_user: HashMap<Arc<str>, usize>,
    wheel: TimerWheel,
    ring: VecDeque<RingEntry>,
    ring_bytes: usize,
    /// Pull subscribers removed by the engine, so `next` can end (`None`).
    closed_pull: HashMap<u64, Arc<Notify>>,
}

/// The engine. Cloning gives another handle to the same engine.
#[derive(Debug, Clone)]
pub struct EventHub {
    cfg: Arc<HubConfig>,
    state: Arc<Mutex<State>>,
}

enum Push {
    Write,
    Queued,
    Overflow,
}

fn deliver(sub: &mut Sub, frame: &Frame, max_queue_bytes: usize) -> Push {
    match &sub.mode {
        Mode::Direct => Push::Write,
        Mode::Blocked | Mode::Pull(_) => {
            if sub.queued_bytes + frame.len() > max_queue_bytes {
                return Push::Overflow;
            }
            sub.queued_bytes += frame.len();
            sub.queue.push_back(Arc::clone(frame));
            if let Mode::Pull(n) = &sub.mode {
                n.notify_one();
            }
            Push::Queued
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        crate::metrics::sse_registry_dropped(self.subs.len());
    }
}

impl State {
    fn remove(&mut self, id: u64) -> Option<Sub> {
        let sub = self.subs.remove(&id)?;
        crate::metrics::SSE.subscribers.add(-1);
        self.index.remove(id, Some(&sub.topics));
        if let Some(u) = &sub.user
            && let Some(n) = self.per_user.get_mut(u)
        {
            *n -= 1;
            if *n == 0 {
                self.per_user.remove(u);
            }
        }
        if let Mode::Pull(n) = &sub.mode {
            n.notify_one();
        }
        Some(sub)
    }

    fn overflow(&mut self, id: u64) {
        if let Some(sub) = self.remove(id)
            && let Mode::Pull(n) = sub.mode
        {
            self.closed_pull.insert(id, n);
        }
    }
}

impl EventHub {
    /// An engine with `cfg` (validated), its heartbeat wheel starting at `now_ms`.
    pub fn new(cfg: HubConfig, now_ms: u64) -> Result<Self, EventsError> {
        cfg.validate()?;
        let slot = cfg.tick_ms();
        let slots = usize::try_from((cfg.heartbeat_interval_ms / slot).max(1) * 2).unwrap_or(64);
        Ok(Self {
            state: Arc::new(Mutex::new(State {
                next_id: 1,
                subs: HashMap::new(),
                index: TopicIndex::new(),
                per_user: HashMap::new(),
                wheel: TimerWheel::new(slot, slots.min(4096), now_ms),
                ring: VecDeque::new(),
                ring_bytes: 0,
                closed_pull: HashMap::new(),
            })),
            cfg: Arc::new(cfg),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The settings.
    pub fn config(&self) -> &HubConfig {
        &self.cfg
    }

    /// Subscribers held.
    pub fn count(&self) -> usize {
        self.lock().subs.len()
    }

    /// Subscribers of one user.
    pub fn count_for_user(&self, user_id: &str) -> usize {
        self.lock().per_user.get(user_id).copied().unwrap_or(0)
    }

    /// Whether `id` is subscribed.
    pub fn contains(&self, id: u64) -> bool {
        self.lock().subs.contains_key(&id)
    }

    /// Subscribers of a topic.
    pub fn topic_len(&self, topic: &str) -> usize {
        self.lock().index.topic_len(topic)
    }

    /// Frames in the replay ring.
    pub fn replay_len(&self) -> usize {
        self.lock().ring.len()
    }

    /// Subscribe. Duplicate topics are kept once. Errors when a limit is reached.
    pub fn subscribe(&self, req: SubscribeRequest, now_ms: u64) -> Result<Subscribed, EventsError> {
        let mut topics: Vec<String> = Vec::with_capacity(req.topics.len());
        for t in req.topics {
            if !topics.contains(&t) {
                topics.push(t);
            }
        }
        if topics.len() > self.cfg.max_topics {
            return Err(EventsError::TooManyTopics(format!(
                "a subscriber may hold at most {} topics",
                self.cfg.max_topics
            )));
        }
        let mut st = self.lock();
        if st.subs.len() >= self.cfg.max_subscribers {
            return Err(EventsError::TooManySubscribers(format!(
                "too many SSE connections (at most {})",
                self.cfg.max_subscribers
            )));
        }
        let user: Option<Arc<str>> = req.user_id.filter(|u| !u.is_empty()).map(Arc::from);
        if let Some(u) = &user
            && st.per_user.get(u).copied().unwrap_or(0) >= self.cfg.max_per_user
        {
            return Err(EventsError::TooManyForUser(format!(
                "too many SSE connections for this user (at most {})",
                self.cfg.max_per_user
            )));
        }
        let id = st.next_id;
        st.next_id += 1;
        let mode = match req.mode {
            DeliveryMode::Push => Mode::Direct,
            DeliveryMode::Pull => Mode::Pull(Arc::new(Notify::new())),
        };
        let mut sub = Sub {
            topics,
            user: user.clone(),
            tenant: req.tenant_id,
            recent: VecDeque::new(),
            mode,
            queue: VecDeque::new(),
            queued_bytes: 0,
            beat_due: 0,
        };
        // Replay from the ring.
        let mut replay = Vec::new();
        let mut replay_complete = true;
        if let Some(last) = req.last_event_id.as_deref() {
            match st.ring.iter().rposition(|e| &*e.id == last) {
                None => replay_complete = false,
                Some(pos) => {
                    let last_id: Arc<str> = Arc::clone(&st.ring[pos].id);
                    sub.remember(&last_id, self.cfg.dedupe_window);
                    for e in st.ring.iter().skip(pos + 1) {
                        if !sub.topics.contains(&e.topic) || !sub.tenant_ok(e.tenant.as_deref()) {
                            continue;
                        }
                        if self.cfg.deduplicate && sub.seen(&e.id) {
                            continue;
                        }
                        sub.remember(&e.id, self.cfg.dedupe_window);
                        replay.push(Arc::clone(&e.frame));
                    }
                }
            }
        }
        if let Mode::Pull(n) = &sub.mode {
            for f in replay.drain(..) {
                sub.queued_bytes += f.len();
                sub.queue.push_back(f);
            }
            if !sub.queue.is_empty() {
                n.notify_one();
            }
        }
        if self.cfg.heartbeat_interval_ms > 0 {
            sub.beat_due = now_ms + self.cfg.heartbeat_interval_ms;
            let due = sub.beat_due;
            st.wheel.schedule(id, due);
        }
        st.index.insert(id, Some(&sub.topics));
        if let Some(u) = user {
            *st.per_user.entry(u).or_insert(0) += 1;
        }
        st.subs.insert(id, sub);
        crate::metrics::SSE.subscribers.add(1);
        Ok(Subscribed {
            id,
            replay,
            replay_complete,
        })
    }

    /// Remove a subscriber (idempotent). Returns whether it was there.
    pub fn unsubscribe(&self, id: u64) -> bool {
        let mut st = self.lock();
        st.closed_pull.remove(&id);
        st.remove(id).is_some()
    }

    /// Publish `frame` to the subscribers of `topic`.
    pub fn publish(
        &self,
        topic: &str,
        meta: EventMeta<'_>,
        frame: &Frame,
    ) -> Result<Delivery, EventsError> {
        if frame.len() > self.cfg.max_frame_bytes {
            return Err(EventsError::EventTooLarge(format!(
                "SSE frame of {} bytes is over the limit of {}",
                frame.len(),
                self.cfg.max_frame_bytes
            )));
        }
        let event_id: Arc<str> = Arc::from(meta.id);
        let mut st = self.lock();
        let st = &mut *st;
        let mut out = Delivery::default();
        let window = self.cfg.dedupe_window;
        for id in st.index.subscribers(topic) {
            let Some(sub) = st.subs.get_mut(&id) else {
                continue;
            };
            if !sub.tenant_ok(meta.tenant_id) {
                continue;
            }
            if self.cfg.deduplicate {
                if sub.seen(meta.id) {
                    continue;
                }
                sub.remember(&event_id, window);
            }
            match deliver(sub, frame, self.cfg.max_queue_bytes) {
                Push::Write => out.write.push(id),
                Push::Queued => out.queued += 1,
                Push::Overflow => out.overflowed.push(id),
            }
        }
        for id in &out.overflowed {
            st.overflow(*id);
        }
        crate::metrics::sse_broadcast(out.write.len() + out.queued, out.overflowed.len());
        if self.cfg.replay_events > 0 && frame.len() <= self.cfg.replay_bytes {
            while st.ring.len() >= self.cfg.replay_events
                || st.ring_bytes + frame.len() > self.cfg.replay_bytes
            {
                match st.ring.pop_front() {
                    Some(e) => st.ring_bytes -= e.frame.len(),
                    None => break,
                }
            }
            st.ring_bytes += frame.len();
            st.ring.push_back(RingEntry {
                id: event_id,
                topic: topic.to_owned(),
                tenant: meta.tenant_id.map(str::to_owned),
                frame: Arc::clone(frame),
            });
        }
        Ok(out)
    }

    /// The host's write to a push subscriber reported backpressure: queue its frames
    /// until [`drain`](Self::drain).
    pub fn block(&self, id: u64) {
        if let Some(sub) = self.lock().subs.get_mut(&id)
            && matches!(sub.mode, Mode::Direct)
        {
            sub.mode = Mode::Blocked;
        }
    }

    /// The host's stream drained: take the queued frames (write them in order) and
    /// return the subscriber to direct writes. Empty for an unknown subscriber.
    pub fn drain(&self, id: u64) -> Vec<Frame> {
        let mut st = self.lock();
        let Some(sub) = st.subs.get_mut(&id) else {
            return Vec::new();
        };
        if matches!(sub.mode, Mode::Blocked) {
            sub.mode = Mode::Direct;
        }
        sub.queued_bytes = 0;
        sub.queue.drain(..).collect()
    }

    /// Pull mode: the queued frames, `Some(empty)` when none are queued yet, `None` once
    /// the subscriber is gone (unsubscribed or disconnected by the slow-client policy)
    /// and its queue is empty.
    pub fn try_next(&self, id: u64) -> Option<Vec<Frame>> {
        let mut st = self.lock();
        match st.subs.get_mut(&id) {
            Some(sub) => {
                sub.queued_bytes = 0;
                Some(sub.queue.drain(..).collect())
            }
            None => {
                st.closed_pull.remove(&id);
                None
            }
        }
    }

    #[cfg(feature = "tokio")]
    /// Pull mode: wait for frames. `None` once the subscriber is gone.
    pub async fn next(&self, id: u64) -> Option<Vec<Frame>> {
        loop {
            let notify = {
                let st = self.lock();
                match st.subs.get(&id) {
                    Some(Sub {
                        mode: Mode::Pull(n),
                        ..
                    }) => Arc::clone(n),
                    _ => match st.closed_pull.get(&id) {
                        Some(n) => Arc::clone(n),
                        None => return None,
                    },
                }
            };
            let notified = notify.notified();
            match self.try_next(id) {
                None => return None,
                Some(frames) if !frames.is_empty() => return Some(frames),
                Some(_) => notified.await,
            }
        }
    }

    /// Advance the heartbeat wheel to `now_ms`: push subscribers due a heartbeat are in
    /// `write` (write [`HEARTBEAT_FRAME`]); pull ones have it queued.
    pub fn tick(&self, now_ms: u64) -> Delivery {
        let mut out = Delivery::default();
        if self.cfg.heartbeat_interval_ms == 0 {
            return out;
        }
        let beat: Frame = Arc::from(HEARTBEAT_FRAME);
        let mut st = self.lock();
        let st = &mut *st;
        let mut due = Vec::new();
        st.wheel.advance(now_ms, &mut due);
        for id in due {
            let Some(sub) = st.subs.get_mut(&id) else {
                continue;
            };
            if sub.beat_due > now_ms {
                continue;
            }
            match deliver(sub, &beat, self.cfg.max_queue_bytes) {
                Push::Write => out.write.push(id),
                Push::Queued => out.queued += 1,
                Push::Overflow => {
                    out.overflowed.push(id);
                    continue;
                }
            }
            let mut next = sub.beat_due + self.cfg.heartbeat_interval_ms;
            if next <= now_ms {
                next = now_ms + self.cfg.heartbeat_interval_ms;
            }
            sub.beat_due = next;
            st.wheel.schedule(id, next);
        }
        for id in &out.overflowed {
            st.overflow(*id);
        }
        out
    }

    /// Milliseconds between two [`tick`](Self::tick) calls of the host's one timer.
    pub fn tick_ms(&self) -> u64 {
        self.cfg.tick_ms()
    }
}
