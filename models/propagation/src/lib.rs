//! A model of credential propagation (wire v1), checked with `stateright`.
//!
//! One authority `A` (full mode: the management DB row of one target, its ack store, its
//! local credential store, `sync`, ACK handling) propagates one client's secret to one
//! target `B` (two consumers on B's queue sharing B's Redis cursor and credential store).
//! Secrets are versions `1..=MAX_VERSION`: `ensure` made version 1, each `rotate` makes the
//! next one.
//!
//! Faults, each bounded by [`Bounds::faults`]: the broker duplicates a message; any party
//! crashes and restarts (a B consumer mid-delivery: the broker redelivers its message; A
//! mid-sync or mid-ACK: in-memory state lost, its unacked ACK redelivered); A's clock steps
//! back. The broker delivers in any order (two consumers, requeues). A's clock may also not
//! move between two events (the same millisecond), and event ids are random, so two events
//! with the same `ts` can be ordered either way.
//!
//! The decisions are the core's own: the receiver orders events with
//! [`authcore::propagation::wire::freshness`] (built on `is_strictly_newer`) over real
//! [`Cursor`]s and event id strings; the sender stamps events with
//! [`authcore::propagation::wire::next_event_ts`].
//!
//! [`Fixes`] switches each repair of the protocol on or off: [`Fixes::NONE`] is the
//! original protocol, [`Fixes::ALL`] is authcore's. The properties:
//! - **no rollback**: no peer's store ever moves from a newer secret to an older one;
//! - **convergence**: in a quiescent state (nothing in flight, no sync with work to do)
//!   every peer holds the authority's latest secret;
//! - **complete bookkeeping**: in a quiescent state no target row is `sent`;
//! - **truthful ACKs**: a target row becomes `success` only if the target holds that
//!   secret (or a newer one);
//! - **no accidental delete**: `sync` never finds a pending row whose plain secret was
//!   already cleared (the adapter would turn it into a `credential.delete`).

use authcore::propagation::wire::{self, Cursor, Freshness};
use stateright::{Model, Property};

/// The repairs of the protocol the model can switch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fixes {
    /// Receiver: cursor check, apply and cursor write are one atomic step (a per-(track,
    /// client) lock in the state store). Off: three steps, two consumers interleave.
    pub atomic_cursor: bool,
    /// Receiver: an event older than the cursor is answered `error` / `stale`, not
    /// `applied` (a redelivery of the cursor's own event is still `applied`).
    pub stale_is_error: bool,
    /// Sender: an event's `ts` is strictly above the previous event's for that client
    /// (`next_event_ts`, the last `ts` kept in the state store).
    pub monotonic_ts: bool,
    /// Authority: `rotate` retires the client's outstanding events, and it excludes ACK
    /// handling of that client (a per-client lock): a late ACK of the old secret is
    /// "unknown" instead of turning the new `pending` row into `success`.
    pub retire_on_rotate: bool,
    /// Authority: `sync` holds the client lock from its record to its `markTargetSent`
    /// and skips a client rotated since it fetched it, so a rotate cannot fall between
    /// them (nor re-apply the old secret locally).
    pub sync_holds_client_lock: bool,
    /// Authority: an ACK's callbacks (and the completion check) run before the ack store
    /// forgets the event, so a crash in between redoes them on redelivery.
    pub callbacks_before_forget: bool,
    /// Authority: `sync()` calls run one at a time.
    pub serialized_sync: bool,
}

impl Fixes {
    /// The original protocol.
    pub const NONE: Fixes = Fixes {
        atomic_cursor: false,
        stale_is_error: false,
        monotonic_ts: false,
        retire_on_rotate: false,
        sync_holds_client_lock: false,
        callbacks_before_forget: false,
        serialized_sync: false,
    };
    /// authcore's protocol.
    pub const ALL: Fixes = Fixes {
        atomic_cursor: true,
        stale_is_error: true,
        monotonic_ts: true,
        retire_on_rotate: true,
        sync_holds_client_lock: true,
        callbacks_before_forget: true,
        serialized_sync: true,
    };
}

/// How far the checker explores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bounds {
    /// Secret versions (1 = `ensure`, each `rotate` adds one).
    pub max_version: u8,
    /// Apply events the authority may create.
    pub max_events: u8,
    /// The authority's clock stays in `1..=max_clock` (milliseconds).
    pub max_clock: u8,
    /// Faults in one run (duplicates, crashes, clock steps back).
    pub faults: u8,
    /// Consumers on B's queue.
    pub consumers: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_version: 2,
            max_events: 3,
            max_clock: 2,
            faults: 1,
            consumers: 2,
        }
    }
}

/// The model: bounds and fixes.
#[derive(Clone, Debug)]
pub struct Propagation {
    pub fixes: Fixes,
    pub bounds: Bounds,
}

/// An apply event: `eventId` (a random UUID: `hi` picks its first hex digit, so two events
/// with the same `ts` compare either way), `ts`, and the secret version it carries.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Event {
    pub id: u8,
    pub hi: bool,
    pub ts: u8,
    pub version: u8,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // e.g. `e1(v2 ts3 0…)`: event 1 carries version 2, ts 3, an id starting with `0`.
        let digit = if self.hi { 'f' } else { '0' };
        write!(f, "e{}(v{} ts{} {digit}…)", self.id, self.version, self.ts)
    }
}

impl Event {
    fn event_id(&self) -> String {
        format!("{}{:07}", if self.hi { 'f' } else { '0' }, self.id)
    }
    fn cursor(&self) -> Cursor {
        Cursor {
            ts: f64::from(self.ts),
            event_id: self.event_id(),
        }
    }
}

/// An ACK event: the apply event's id and `applied` / `error` (with reason `stale`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ack {
    pub event: u8,
    pub applied: bool,
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = if self.applied { "applied" } else { "stale" };
        write!(f, "ack(e{} {r})", self.event)
    }
}

/// The authority's DB row of the target (`hmac_credential_target.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Row {
    Pending,
    Sent,
    Success,
    Error,
}

/// Where one `sync()` call is, for the one pending propagation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SyncStage {
    /// `fetchPendingPropagations` returned the row with this version's plain.
    Fetched { version: u8 },
    /// Local apply done, event recorded in the ack store.
    Recorded { event: Event },
    /// Publish confirmed; `markTargetSent` not yet called.
    Published { event: Event },
}

/// What a B consumer holds (an unacked delivery).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Consumer {
    Idle,
    /// Delivered, nothing read yet.
    Took {
        event: Event,
    },
    /// Cursor read (non-atomic receiver only).
    Read {
        event: Event,
        cursor: Option<Event>,
    },
    /// Applied to the credential store, cursor not written yet (non-atomic only).
    Applied {
        event: Event,
    },
    /// Decided; the ACK is to be published, then the delivery acked.
    Answer {
        event: Event,
        applied: bool,
    },
}

/// Where A's ACK handler is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AckHandling {
    pub ack: Ack,
    /// The version of the recorded event, once read (`None` before the read).
    pub version: Option<u8>,
    /// Steps done after the read.
    pub stage: u8,
}

/// Who holds the authority's per-client lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lock {
    Free,
    Sync(u8),
    Ack,
}

/// The whole system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    // Authority: DB, local store, clock, ack store.
    pub version: u8,
    pub plain: bool,
    pub row: Row,
    pub a_store: u8,
    pub clock: u8,
    /// The last `ts` the authority stamped for the client (kept in the state store).
    pub last_ts: u8,
    pub next_event: u8,
    /// Ack store: recorded, unanswered events (id, version), sorted.
    pub acks: Vec<(u8, u8)>,
    pub outstanding: Option<u8>,
    pub syncs: Vec<(u8, SyncStage)>,
    pub next_sync: u8,
    pub ack_handler: Option<AckHandling>,
    pub lock: Lock,
    // Broker (multisets, sorted).
    pub q_b: Vec<Event>,
    pub q_a: Vec<Ack>,
    // Target.
    pub b_store: u8,
    pub cursor: Option<Event>,
    pub consumers: Vec<Consumer>,
    // Faults left; history flags for the safety properties.
    pub faults: u8,
    pub rolled_back: bool,
    pub false_success: bool,
    pub accidental_delete: bool,
}

/// One step of the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `rotate()`: new version, applied locally, the row back to `pending`.
    Rotate,
    /// `sync()` starts: fetches the pending row.
    SyncFetch,
    /// Sync `n` applies locally and records its event (`hi`: the random id's first digit).
    SyncRecord(u8, bool),
    /// Sync `n` publishes its event (confirmed).
    SyncPublish(u8),
    /// Sync `n` calls `markTargetSent`.
    SyncMarkSent(u8),
    /// The authority's clock advances by 1 ms.
    Tick,
    /// Fault: the authority's clock steps back 1 ms.
    ClockBack,
    /// B consumer `c` takes this event from B's queue (any order).
    Deliver(usize, Event),
    /// B consumer `c` makes its next step.
    Consume(usize),
    /// A's consumer takes this ACK from A's queue.
    DeliverAck(Ack),
    /// A's ACK handler makes its next step.
    HandleAck,
    /// Fault: the broker delivers this event twice.
    DuplicateEvent(Event),
    /// Fault: the broker delivers this ACK twice.
    DuplicateAck(Ack),
    /// Fault: B consumer `c` crashes and restarts (its delivery is redelivered).
    CrashConsumer(usize),
    /// Fault: the authority crashes and restarts (syncs lost, its ACK redelivered).
    CrashAuthority,
}

impl Propagation {
    pub fn new(fixes: Fixes) -> Self {
        Propagation {
            fixes,
            bounds: Bounds::default(),
        }
    }

    fn sync_stage(s: &State, n: u8) -> Option<SyncStage> {
        s.syncs.iter().find(|(m, _)| *m == n).map(|(_, st)| *st)
    }

    fn set_sync(s: &mut State, n: u8, stage: Option<SyncStage>) {
        s.syncs.retain(|(m, _)| *m != n);
        if let Some(st) = stage {
            s.syncs.push((n, st));
        }
    }

    fn lock_free_for(&self, s: &State, me: Lock) -> bool {
        s.lock == Lock::Free || s.lock == me
    }

    /// An event between its publish and its `markTargetSent` (the ACK waits for it).
    fn unmarked(s: &State, id: u8) -> bool {
        s.syncs
            .iter()
            .any(|(_, st)| matches!(st, SyncStage::Published { event } if event.id == id))
    }

    fn store_apply(store: &mut u8, version: u8, rolled_back: &mut bool) {
        if version < *store {
            *rolled_back = true;
        }
        *store = version;
    }

    /// The receiver's decision (the core's `freshness`) and, for a newer event, the apply.
    fn decide(&self, s: &mut State, event: Event, cursor: Option<Event>) -> Option<bool> {
        let current = cursor.map(|c| c.cursor());
        match wire::freshness(current.as_ref(), &event.cursor()) {
            Freshness::Newer => {
                Self::store_apply(&mut s.b_store, event.version, &mut s.rolled_back);
                None
            }
            Freshness::Same => Some(true),
            Freshness::Older => Some(!self.fixes.stale_is_error),
        }
    }

    fn record_result(s: &mut State, id: u8) {
        s.acks.retain(|(e, _)| *e != id);
        if s.outstanding == Some(id) {
            s.outstanding = None;
        }
    }

    fn callbacks(s: &mut State, ack: Ack, version: u8) {
        if ack.applied {
            s.row = Row::Success;
            if s.b_store < version {
                s.false_success = true;
            }
        } else {
            s.row = Row::Error;
        }
    }

    /// Nothing in flight and no sync with work to do.
    pub fn quiescent(s: &State) -> bool {
        s.q_a.is_empty()
            && s.q_b.is_empty()
            && s.syncs.is_empty()
            && s.ack_handler.is_none()
            && s.consumers.iter().all(|c| *c == Consumer::Idle)
            && s.row != Row::Pending
    }
}

fn insert_sorted<T: Ord>(v: &mut Vec<T>, x: T) {
    let i = v.partition_point(|y| *y <= x);
    v.insert(i, x);
}

fn remove_one<T: PartialEq>(v: &mut Vec<T>, x: &T) -> bool {
    match v.iter().position(|y| y == x) {
        Some(i) => {
            v.remove(i);
            true
        }
        None => false,
    }
}

impl Model for Propagation {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        // `ensure` ran: version 1 applied locally, the target row pending.
        vec![State {
            version: 1,
            plain: true,
            row: Row::Pending,
            a_store: 1,
            clock: 1,
            last_ts: 0,
            next_event: 0,
            acks: vec![],
            outstanding: None,
            syncs: vec![],
            next_sync: 0,
            ack_handler: None,
            lock: Lock::Free,
            q_b: vec![],
            q_a: vec![],
            b_store: 0,
            cursor: None,
            consumers: vec![Consumer::Idle; self.bounds.consumers],
            faults: self.bounds.faults,
            rolled_back: false,
            false_success: false,
            accidental_delete: false,
        }]
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
        let f = self.fixes;
        let b = self.bounds;
        let rotate_locked =
            (f.retire_on_rotate || f.sync_holds_client_lock) && s.lock != Lock::Free;
        if s.version < b.max_version && !rotate_locked {
            actions.push(Action::Rotate);
        }
        let max_syncs = if f.serialized_sync { 1 } else { 2 };
        if s.row == Row::Pending && s.syncs.len() < max_syncs && s.next_sync < 4 {
            actions.push(Action::SyncFetch);
        }
        for (n, st) in &s.syncs {
            match st {
                SyncStage::Fetched { .. } => {
                    let lock_ok =
                        !f.sync_holds_client_lock || self.lock_free_for(s, Lock::Sync(*n));
                    if s.next_event < b.max_events && lock_ok {
                        actions.push(Action::SyncRecord(*n, false));
                        actions.push(Action::SyncRecord(*n, true));
                    }
                }
                SyncStage::Recorded { .. } => actions.push(Action::SyncPublish(*n)),
                SyncStage::Published { .. } => actions.push(Action::SyncMarkSent(*n)),
            }
        }
        if s.clock < b.max_clock {
            actions.push(Action::Tick);
        }
        if s.faults > 0 && s.clock > 1 {
            actions.push(Action::ClockBack);
        }
        // B: one idle consumer takes any distinct event (consumers are interchangeable).
        if let Some(c) = s.consumers.iter().position(|c| *c == Consumer::Idle) {
            let mut last = None;
            for e in &s.q_b {
                if last != Some(*e) {
                    actions.push(Action::Deliver(c, *e));
                    last = Some(*e);
                }
            }
        }
        for (c, st) in s.consumers.iter().enumerate() {
            if *st != Consumer::Idle {
                actions.push(Action::Consume(c));
                if s.faults > 0 {
                    actions.push(Action::CrashConsumer(c));
                }
            }
        }
        match s.ack_handler {
            None => {
                if !f.retire_on_rotate || self.lock_free_for(s, Lock::Ack) {
                    let mut last = None;
                    for a in &s.q_a {
                        if last != Some(*a) {
                            actions.push(Action::DeliverAck(*a));
                            last = Some(*a);
                        }
                    }
                }
            }
            Some(h) => {
                // The callbacks wait for the event's markTargetSent (already in authcore).
                let calls_next = h.version.is_some()
                    && if f.callbacks_before_forget {
                        h.stage == 0
                    } else {
                        h.stage == 1
                    };
                if !(calls_next && Self::unmarked(s, h.ack.event)) {
                    actions.push(Action::HandleAck);
                }
            }
        }
        if s.faults > 0 {
            let mut last = None;
            for e in &s.q_b {
                if last != Some(*e) {
                    actions.push(Action::DuplicateEvent(*e));
                    last = Some(*e);
                }
            }
            let mut last = None;
            for a in &s.q_a {
                if last != Some(*a) {
                    actions.push(Action::DuplicateAck(*a));
                    last = Some(*a);
                }
            }
            if !s.syncs.is_empty() || s.ack_handler.is_some() {
                actions.push(Action::CrashAuthority);
            }
        }
    }

    fn next_state(&self, s: &State, action: Action) -> Option<State> {
        let f = self.fixes;
        let mut s = s.clone();
        match action {
            Action::Rotate => {
                s.version += 1;
                s.plain = true;
                s.row = Row::Pending;
                Self::store_apply(&mut s.a_store, s.version, &mut s.rolled_back);
                if f.retire_on_rotate {
                    s.acks.clear();
                    s.outstanding = None;
                }
            }
            Action::SyncFetch => {
                if !s.plain {
                    // The adapter turns a pending row without a plain into a delete.
                    s.accidental_delete = true;
                }
                let n = s.next_sync;
                s.next_sync += 1;
                let version = s.version;
                Self::set_sync(&mut s, n, Some(SyncStage::Fetched { version }));
            }
            Action::SyncRecord(n, hi) => {
                let Some(SyncStage::Fetched { version }) = Self::sync_stage(&s, n) else {
                    return None;
                };
                if f.sync_holds_client_lock {
                    if version != s.version {
                        // Rotated since the fetch: skip; the row is pending again.
                        Self::set_sync(&mut s, n, None);
                        return Some(s);
                    }
                    s.lock = Lock::Sync(n);
                }
                Self::store_apply(&mut s.a_store, version, &mut s.rolled_back);
                let ts = if f.monotonic_ts {
                    let last = (s.last_ts > 0).then_some(i64::from(s.last_ts));
                    let ts = wire::next_event_ts(i64::from(s.clock), last);
                    u8::try_from(ts).ok()?
                } else {
                    s.clock
                };
                s.last_ts = ts;
                let event = Event {
                    id: s.next_event,
                    hi,
                    ts,
                    version,
                };
                s.next_event += 1;
                if let Some(old) = s.outstanding {
                    s.acks.retain(|(e, _)| *e != old);
                }
                insert_sorted(&mut s.acks, (event.id, version));
                s.outstanding = Some(event.id);
                Self::set_sync(&mut s, n, Some(SyncStage::Recorded { event }));
            }
            Action::SyncPublish(n) => {
                let Some(SyncStage::Recorded { event }) = Self::sync_stage(&s, n) else {
                    return None;
                };
                insert_sorted(&mut s.q_b, event);
                Self::set_sync(&mut s, n, Some(SyncStage::Published { event }));
            }
            Action::SyncMarkSent(n) => {
                s.row = Row::Sent;
                Self::set_sync(&mut s, n, None);
                if s.lock == Lock::Sync(n) {
                    s.lock = Lock::Free;
                }
            }
            Action::Tick => s.clock += 1,
            Action::ClockBack => {
                s.clock -= 1;
                s.faults -= 1;
            }
            Action::Deliver(c, e) => {
                remove_one(&mut s.q_b, &e);
                s.consumers[c] = Consumer::Took { event: e };
            }
            Action::Consume(c) => match s.consumers[c] {
                Consumer::Idle => return None,
                Consumer::Took { event } if f.atomic_cursor => {
                    let cursor = s.cursor;
                    let applied = match self.decide(&mut s, event, cursor) {
                        Some(answer) => answer,
                        None => {
                            s.cursor = Some(event);
                            true
                        }
                    };
                    s.consumers[c] = Consumer::Answer { event, applied };
                }
                Consumer::Took { event } => {
                    s.consumers[c] = Consumer::Read {
                        event,
                        cursor: s.cursor,
                    };
                }
                Consumer::Read { event, cursor } => {
                    s.consumers[c] = match self.decide(&mut s, event, cursor) {
                        Some(applied) => Consumer::Answer { event, applied },
                        None => Consumer::Applied { event },
                    };
                }
                Consumer::Applied { event } => {
                    s.cursor = Some(event);
                    s.consumers[c] = Consumer::Answer {
                        event,
                        applied: true,
                    };
                }
                Consumer::Answer { event, applied } => {
                    insert_sorted(
                        &mut s.q_a,
                        Ack {
                            event: event.id,
                            applied,
                        },
                    );
                    s.consumers[c] = Consumer::Idle;
                }
            },
            Action::DeliverAck(a) => {
                remove_one(&mut s.q_a, &a);
                if f.retire_on_rotate {
                    s.lock = Lock::Ack;
                }
                s.ack_handler = Some(AckHandling {
                    ack: a,
                    version: None,
                    stage: 0,
                });
            }
            Action::HandleAck => {
                let mut h = s.ack_handler?;
                let done = match h.version {
                    None => match s.acks.iter().find(|(e, _)| *e == h.ack.event) {
                        // "received ack for unknown eventId": dropped.
                        None => true,
                        Some((_, v)) => {
                            h.version = Some(*v);
                            false
                        }
                    },
                    Some(v) if f.callbacks_before_forget => {
                        match h.stage {
                            0 => Self::callbacks(&mut s, h.ack, v),
                            1 => {
                                // Completion when this event is the last one pending.
                                if s.acks.iter().all(|(e, _)| *e == h.ack.event) {
                                    s.plain = false;
                                }
                            }
                            _ => Self::record_result(&mut s, h.ack.event),
                        }
                        h.stage += 1;
                        h.stage == 3
                    }
                    Some(v) => {
                        match h.stage {
                            0 => Self::record_result(&mut s, h.ack.event),
                            1 => Self::callbacks(&mut s, h.ack, v),
                            _ => {
                                if s.acks.is_empty() {
                                    s.plain = false;
                                }
                            }
                        }
                        h.stage += 1;
                        h.stage == 3
                    }
                };
                if done {
                    s.ack_handler = None;
                    if s.lock == Lock::Ack {
                        s.lock = Lock::Free;
                    }
                } else {
                    s.ack_handler = Some(h);
                }
            }
            Action::DuplicateEvent(e) => {
                insert_sorted(&mut s.q_b, e);
                s.faults -= 1;
            }
            Action::DuplicateAck(a) => {
                insert_sorted(&mut s.q_a, a);
                s.faults -= 1;
            }
            Action::CrashConsumer(c) => {
                let event = match s.consumers[c] {
                    Consumer::Idle => return None,
                    Consumer::Took { event }
                    | Consumer::Read { event, .. }
                    | Consumer::Applied { event }
                    | Consumer::Answer { event, .. } => event,
                };
                insert_sorted(&mut s.q_b, event);
                s.consumers[c] = Consumer::Idle;
                s.faults -= 1;
            }
            Action::CrashAuthority => {
                s.syncs.clear();
                if let Some(h) = s.ack_handler.take() {
                    insert_sorted(&mut s.q_a, h.ack);
                }
                s.lock = Lock::Free;
                s.faults -= 1;
            }
        }
        // Consumers are interchangeable: keep them sorted (one state per multiset).
        s.consumers.sort();
        Some(s)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("no rollback", |_: &Propagation, s: &State| !s.rolled_back),
            Property::always(
                "quiescent: every peer holds the latest secret",
                |_: &Propagation, s: &State| {
                    !Propagation::quiescent(s) || (s.b_store == s.version && s.a_store == s.version)
                },
            ),
            Property::always(
                "quiescent: no target row stuck sent",
                |_: &Propagation, s: &State| !Propagation::quiescent(s) || s.row != Row::Sent,
            ),
            Property::always(
                "an applied ACK means the target holds the secret",
                |_: &Propagation, s: &State| !s.false_success,
            ),
            Property::always("no accidental delete", |_: &Propagation, s: &State| {
                !s.accidental_delete
            }),
            Property::sometimes(
                "a rotation reaches the target",
                |m: &Propagation, s: &State| {
                    s.version == m.bounds.max_version
                        && s.b_store == s.version
                        && Propagation::quiescent(s)
                },
            ),
        ]
    }
}
