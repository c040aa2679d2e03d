//! Process-wide metrics of the core: counters, gauges and histograms kept in atomics (no
//! lock on any hot path; counters and histograms striped per thread so that threads do not
//! contend for one cache line), read as a [`snapshot`] or as Prometheus text ([`render`]).
//!
//! What is counted, and where:
//! - HMAC verification ([`crate::hmac::verify::HttpVerifier::verify`]): every outcome by
//!   code (`OK`, the 15 `HmacErrorCode`s incl. `REPLAYED_NONCE`, `INVALID_ARGUMENT`,
//!   `INVALID_INPUT`, `STORE_ERROR`) and the latency of each call;
//! - propagation: events published (broker-confirmed), applied (receiver), ACKed (sender,
//!   `applied` answer), targets retrying, events parked (answered `error`: the target is
//!   marked failed and not retried until the credential changes), and the latency from an
//!   event's publish to its `applied` ACK at the sender;
//! - SSE: live subscribers, frames handed to subscriber streams, frames dropped (a slow
//!   client's stream closed, or a failed send);
//! - key derivation: jobs waiting for a slot (the Node binding's gate), KDFs running, and
//!   the duration of each argon2id / bcrypt run;
//! - refresh tokens: rotations and detected reuse.
//!
//! Names, labels and values never carry a secret, a client id or any request data: only
//! fixed label values (codes, algorithm names). [`set_enabled`]`(false)` turns the
//! hot-path recording off (the benchmark's "off" side); reading stays available.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use serde::Serialize;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Whether hot paths record (default: on).
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Relaxed)
}

/// Turn recording on or off for the whole process (already recorded values stay).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Relaxed);
}

/// Number of stripes a [`Counter`] or [`Histogram`] keeps. Each thread writes to one stripe
/// (its own cache line), so threads verifying at once do not bounce a shared line between
/// cores on every call; a read sums the stripes.
const STRIPES: usize = 8;

/// One atomic on a cache line of its own.
#[derive(Debug)]
#[repr(align(64))]
struct Padded<T>(T);

thread_local! {
    /// This thread's stripe (`usize::MAX` until first use).
    static STRIPE: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// The stripe of the calling thread: threads get stripes in turn, on first use.
#[inline]
fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    STRIPE
        .try_with(|s| {
            let mut i = s.get();
            if i == usize::MAX {
                i = NEXT.fetch_add(1, Relaxed) % STRIPES;
                s.set(i);
            }
            i
        })
        // A thread whose locals are being torn down still counts, on stripe 0.
        .unwrap_or(0)
}

/// A monotonically increasing count, striped per thread (see [`STRIPES`]).
#[derive(Debug)]
pub struct Counter([Padded<AtomicU64>; STRIPES]);

impl Counter {
    /// A counter at zero.
    pub const fn new() -> Self {
        Self([const { Padded(AtomicU64::new(0)) }; STRIPES])
    }

    /// Adds one (when recording is on).
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n` (when recording is on).
    #[inline]
    pub fn add(&self, n: u64) {
        if enabled() {
            self.0[stripe()].0.fetch_add(n, Relaxed);
        }
    }

    /// The current count (the sum of the stripes).
    pub fn get(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Relaxed)).sum()
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

/// A value that goes up and down. Always recorded (a gauge that skipped an increment
/// while recording was off would go negative on the matching decrement).
#[derive(Debug)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// A gauge at zero.
    pub const fn new() -> Self {
        Self(AtomicI64::new(0))
    }

    /// Adds `n` (negative to decrease).
    #[inline]
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }
}

impl Default for Gauge {
    fn default() -> Self {
        Self::new()
    }
}

const MAX_BUCKETS: usize = 20;

/// One stripe of a [`Histogram`]: per-bucket counts and the sum in nanoseconds.
#[derive(Debug)]
#[repr(align(64))]
struct HistogramStripe {
    buckets: [AtomicU64; MAX_BUCKETS + 1],
    sum_ns: AtomicU64,
}

/// A latency histogram: per-bucket counts (not cumulative: one atomic add per
/// observation) and the sum in nanoseconds, striped per thread like [`Counter`]. The count
/// is the sum of the buckets, so a scrape is always self-consistent.
#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds in nanoseconds, ascending; the last slot counts everything above.
    bounds_ns: &'static [u64],
    stripes: [HistogramStripe; STRIPES],
}

impl Histogram {
    /// `bounds_ns.len()` must be at most 20 (checked at compile time for the statics).
    pub const fn new(bounds_ns: &'static [u64]) -> Self {
        assert!(bounds_ns.len() <= MAX_BUCKETS);
        Self {
            bounds_ns,
            stripes: [const {
                HistogramStripe {
                    buckets: [const { AtomicU64::new(0) }; MAX_BUCKETS + 1],
                    sum_ns: AtomicU64::new(0),
                }
            }; STRIPES],
        }
    }

    /// Record one observation of `ns` nanoseconds.
    #[inline]
    pub fn observe_ns(&self, ns: u64) {
        if !enabled() {
            return;
        }
        let i = self
            .bounds_ns
            .iter()
            .position(|b| ns <= *b)
            .unwrap_or(self.bounds_ns.len());
        let stripe = &self.stripes[stripe()];
        stripe.buckets[i].fetch_add(1, Relaxed);
        stripe.sum_ns.fetch_add(ns, Relaxed);
    }

    /// Record the time elapsed since `start`.
    #[inline]
    pub fn observe_since(&self, start: Instant) {
        self.observe_ns(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }

    fn bucket(&self, i: usize) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.buckets[i].load(Relaxed))
            .sum()
    }

    fn read(&self) -> HistogramValue {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.bounds_ns.len());
        for (i, b) in self.bounds_ns.iter().enumerate() {
            cumulative += self.bucket(i);
            buckets.push((*b as f64 / 1e9, cumulative));
        }
        cumulative += self.bucket(self.bounds_ns.len());
        let sum_ns: u64 = self.stripes.iter().map(|s| s.sum_ns.load(Relaxed)).sum();
        HistogramValue {
            buckets,
            count: cumulative,
            sum: sum_ns as f64 / 1e9,
        }
    }
}

const US: u64 = 1_000;
const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

const VERIFY_BOUNDS: &[u64] = &[
    5 * US,
    10 * US,
    25 * US,
    50 * US,
    100 * US,
    250 * US,
    500 * US,
    MS,
    2_500 * US,
    5 * MS,
    10 * MS,
    25 * MS,
    50 * MS,
    100 * MS,
    250 * MS,
    S,
];
const KDF_BOUNDS: &[u64] = &[
    MS,
    2_500 * US,
    5 * MS,
    10 * MS,
    25 * MS,
    50 * MS,
    100 * MS,
    250 * MS,
    500 * MS,
    S,
    2_500 * MS,
    5 * S,
    10 * S,
];
const PROPAGATION_BOUNDS: &[u64] = &[
    MS,
    5 * MS,
    10 * MS,
    25 * MS,
    50 * MS,
    100 * MS,
    250 * MS,
    500 * MS,
    S,
    2_500 * MS,
    5 * S,
    10 * S,
    30 * S,
    60 * S,
    300 * S,
];

/// The verification outcomes, in label order: `OK`, the `HmacErrorCode`s by discriminant
/// (1..=15), then the non-auth failures.
pub const VERIFY_OUTCOMES: [&str; 19] = [
    "OK",
    "MISSING_CLIENT_ID",
    "MISSING_SIGNATURE",
    "MISSING_TIMESTAMP",
    "MISSING_NONCE",
    "INVALID_TIMESTAMP",
    "TIMESTAMP_SKEW",
    "UNKNOWN_CLIENT",
    "CLIENT_EXPIRED",
    "MISSING_CLIENT_IP",
    "CLIENT_IP_NOT_ALLOWED",
    "CLIENT_NOT_FOUND",
    "BAD_SIGNATURE",
    "REPLAYED_NONCE",
    "INTERNAL_ERROR",
    "HEADER_TOO_LARGE",
    "INVALID_ARGUMENT",
    "INVALID_INPUT",
    "STORE_ERROR",
];

/// HMAC request verification.
#[derive(Debug)]
pub struct VerifyMetrics {
    /// Calls per outcome, indexed like `VERIFY_OUTCOMES`.
    pub outcomes: [Counter; VERIFY_OUTCOMES.len()],
    /// Duration of each verification.
    pub duration: Histogram,
}

/// Credential propagation.
#[derive(Debug)]
pub struct PropagationMetrics {
    /// Events published (broker-confirmed).
    pub published: Counter,
    /// Events applied by this receiver.
    pub applied: Counter,
    /// `applied` ACKs received by this sender.
    pub acked: Counter,
    /// Targets left retrying by a `sync`.
    pub retrying: Counter,
    /// Events parked (answered `error`).
    pub parked: Counter,
    /// Publish-to-ACK latency.
    pub apply_latency: Histogram,
}

/// Realtime SSE.
#[derive(Debug)]
pub struct SseMetrics {
    /// Live subscribers.
    pub subscribers: Gauge,
    /// Frames handed to subscriber streams.
    pub frames_sent: Counter,
    /// Frames dropped (slow client closed, failed send).
    pub frames_dropped: Counter,
}

/// The KDF algorithms timed, in label order.
pub const KDF_ALGORITHMS: [&str; 2] = ["argon2id", "bcrypt"];

/// Which KDF a [`KdfTimer`] times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    /// argon2id.
    Argon2id = 0,
    /// bcrypt.
    Bcrypt = 1,
}

/// Key derivation.
#[derive(Debug)]
pub struct KdfMetrics {
    /// KDF jobs waiting for a slot.
    pub queue_depth: Gauge,
    /// KDF jobs running.
    pub in_progress: Gauge,
    /// Duration per KDF, indexed by [`Kdf`].
    pub duration: [Histogram; 2],
}

/// Refresh tokens.
#[derive(Debug)]
pub struct TokenMetrics {
    /// Refresh-token rotations.
    pub refreshes: Counter,
    /// Reuses of a rotated refresh token detected.
    pub reuse_detected: Counter,
}

/// The process's HMAC verification metrics.
pub static VERIFY: VerifyMetrics = VerifyMetrics {
    outcomes: [const { Counter::new() }; VERIFY_OUTCOMES.len()],
    duration: Histogram::new(VERIFY_BOUNDS),
};

/// The process's propagation metrics.
pub static PROPAGATION: PropagationMetrics = PropagationMetrics {
    published: Counter::new(),
    applied: Counter::new(),
    acked: Counter::new(),
    retrying: Counter::new(),
    parked: Counter::new(),
    apply_latency: Histogram::new(PROPAGATION_BOUNDS),
};

/// The process's SSE metrics.
pub static SSE: SseMetrics = SseMetrics {
    subscribers: Gauge::new(),
    frames_sent: Counter::new(),
    frames_dropped: Counter::new(),
};

/// The process's key-derivation metrics.
pub static KDF: KdfMetrics = KdfMetrics {
    queue_depth: Gauge::new(),
    in_progress: Gauge::new(),
    duration: [Histogram::new(KDF_BOUNDS), Histogram::new(KDF_BOUNDS)],
};

/// The process's refresh-token metrics.
pub static TOKENS: TokenMetrics = TokenMetrics {
    refreshes: Counter::new(),
    reuse_detected: Counter::new(),
};

/// The label index of an outcome code (`"OK"` or an error's `code()`); unknown codes
/// count as `INTERNAL_ERROR`.
pub fn verify_outcome_index(code: &str) -> usize {
    VERIFY_OUTCOMES
        .iter()
        .position(|c| *c == code)
        .unwrap_or(14)
}

/// Started before a verification; [`VerifyTimer::finish`] records its outcome and latency.
#[derive(Debug)]
#[must_use]
pub struct VerifyTimer(Option<Instant>);

/// Start timing a verification (nothing is read from the clock when recording is off).
#[inline]
pub fn verify_timer() -> VerifyTimer {
    VerifyTimer(enabled().then(Instant::now))
}

impl VerifyTimer {
    /// Record the outcome (`None` = accepted, `Some(code)` = rejected with that code) and
    /// emit its log event ([`crate::log_events::verify`]).
    #[inline]
    pub fn finish(self, client_id: Option<&str>, error_code: Option<&str>) {
        crate::log_events::verify(client_id, error_code.unwrap_or("OK"));
        let Some(start) = self.0 else {
            return;
        };
        VERIFY.duration.observe_since(start);
        VERIFY.outcomes[error_code.map_or(0, verify_outcome_index)].inc();
    }
}

/// Count one verification outcome without a latency (a binding's own I/O path, where
/// the core runs only the checks).
pub fn verify_outcome(error_code: Option<&str>) {
    VERIFY.outcomes[error_code.map_or(0, verify_outcome_index)].inc();
}

/// A verification whose store I/O the host did itself (Node's drop-in over a node-redis
/// or ioredis client, C's sans-IO verifier followed by the caller's nonce claim): its
/// outcome (`None` = accepted, `Some(code)` = rejected with that code), its latency when
/// the host timed the whole call (`elapsed_ns`), and its log event, as
/// [`VerifyTimer::finish`] records a verification of the core's own.
pub fn verify_observed(client_id: Option<&str>, error_code: Option<&str>, elapsed_ns: Option<u64>) {
    crate::log_events::verify(client_id, error_code.unwrap_or("OK"));
    if let Some(ns) = elapsed_ns {
        VERIFY.duration.observe_ns(ns);
    }
    verify_outcome(error_code);
}

/// Times one KDF run and counts it as in progress until dropped.
#[derive(Debug)]
#[must_use]
pub struct KdfTimer {
    kdf: Kdf,
    start: Instant,
}

/// Start timing a KDF run (`let _kdf = metrics::kdf_timer(Kdf::Argon2id);`).
pub fn kdf_timer(kdf: Kdf) -> KdfTimer {
    KDF.in_progress.add(1);
    KdfTimer {
        kdf,
        start: Instant::now(),
    }
}

impl Drop for KdfTimer {
    fn drop(&mut self) {
        KDF.in_progress.add(-1);
        KDF.duration[self.kdf as usize].observe_since(self.start);
    }
}

/// Milliseconds between an event's publish and its ACK (`sent_at_ms`, `acked_at_ms`:
/// Unix epoch milliseconds), recorded as the propagation latency (negative = 0).
pub fn propagation_acked(sent_at_ms: f64, acked_at_ms: f64) {
    PROPAGATION.acked.inc();
    let ms = (acked_at_ms - sent_at_ms).max(0.0);
    PROPAGATION
        .apply_latency
        .observe_ns((ms * 1e6).min(u64::MAX as f64) as u64);
}

#[cfg(feature = "tokio")]
/// A `sync` ended: its published and retrying targets.
pub fn propagation_synced(summary: &crate::propagation::propagator::SyncSummary) {
    crate::log_events::propagation_synced(summary.targets_published, summary.targets_retrying);
    PROPAGATION
        .published
        .add(u64::from(summary.targets_published));
    PROPAGATION
        .retrying
        .add(u64::from(summary.targets_retrying));
}

/// An apply event for `client_id` was answered `applied` by this peer; returns
/// `"applied"`.
pub fn propagation_applied(client_id: &str) -> &'static str {
    PROPAGATION.applied.inc();
    crate::log_events::propagation_applied(client_id);
    "applied"
}

/// An ACK arrived at the sender: `applied` (counted with its latency from the event's
/// publish) or `error` (parked).
pub fn propagation_ack(client_id: &str, success: bool, sent_at_ms: f64, acked_at_ms: f64) {
    crate::log_events::propagation_acked(client_id, success);
    if success {
        propagation_acked(sent_at_ms, acked_at_ms);
    } else {
        PROPAGATION.parked.inc();
    }
}

/// A subscriber record was removed (`removed`: it was still there); returns `removed`.
pub fn sse_unsubscribed(removed: bool) -> bool {
    if removed {
        SSE.subscribers.add(-1);
    }
    removed
}

/// A registry went away with `n` records still in it.
pub fn sse_registry_dropped(n: usize) {
    SSE.subscribers.add(-i64::try_from(n).unwrap_or(i64::MAX));
}

/// A broadcast handed its frame to `delivered` streams; `failed` sends failed.
pub fn sse_broadcast(delivered: usize, failed: usize) {
    SSE.frames_sent.add(delivered as u64);
    SSE.frames_dropped.add(failed as u64);
}

/// A rotated refresh token of `user_id` was presented again (its family is revoked).
pub fn token_reuse_detected(user_id: &str) {
    TOKENS.reuse_detected.inc();
    crate::log_events::token_refresh(user_id, true);
}

/// A refresh token of `user_id` was rotated.
pub fn token_refreshed(user_id: &str) {
    TOKENS.refreshes.inc();
    crate::log_events::token_refresh(user_id, false);
}

/// A slow SSE client's stream was closed with `unread` bytes it never read.
pub fn sse_slow_client(unread: usize) {
    SSE.frames_dropped.inc();
    crate::log_events::sse_slow_client(unread);
}

/// The kind of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A monotonic count.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A distribution in buckets.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// A histogram's reading: cumulative `(upper bound in seconds, count)` pairs without the
/// `+Inf` bucket (its count is `count`), and the sum in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistogramValue {
    /// Cumulative `(upper bound in seconds, count)` pairs.
    pub buckets: Vec<(f64, u64)>,
    /// Observations in total.
    pub count: u64,
    /// Sum of the observations, in seconds.
    pub sum: f64,
}

/// One labelled series of a family: `value` for counters and gauges, `histogram` for
/// histograms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// `(name, value)` label pairs.
    pub labels: Vec<(&'static str, &'static str)>,
    /// The counter or gauge value (a histogram's count).
    pub value: f64,
    /// The buckets, for a histogram.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub histogram: Option<HistogramValue>,
}

/// A metric family: its full exposition name (counters end in `_total`), help text,
/// kind and series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Family {
    /// The metric name (`authcore_…`).
    pub name: &'static str,
    /// The `# HELP` text.
    pub help: &'static str,
    /// The metric kind.
    pub kind: Kind,
    /// Its series.
    pub samples: Vec<Sample>,
}

fn scalar(name: &'static str, help: &'static str, kind: Kind, value: f64) -> Family {
    Family {
        name,
        help,
        kind,
        samples: vec![Sample {
            labels: Vec::new(),
            value,
            histogram: None,
        }],
    }
}

fn histogram(
    name: &'static str,
    help: &'static str,
    series: Vec<(Vec<(&'static str, &'static str)>, &Histogram)>,
) -> Family {
    Family {
        name,
        help,
        kind: Kind::Histogram,
        samples: series
            .into_iter()
            .map(|(labels, h)| {
                let v = h.read();
                Sample {
                    labels,
                    value: v.count as f64,
                    histogram: Some(v),
                }
            })
            .collect(),
    }
}

/// Every metric family, read now.
pub fn snapshot() -> Vec<Family> {
    use Kind::{Counter as C, Gauge as G};
    let verify_outcomes = Family {
        name: "authcore_verify_total",
        help: "HMAC request verifications by outcome (OK or the error code; REPLAYED_NONCE = replays rejected).",
        kind: C,
        samples: VERIFY_OUTCOMES
            .iter()
            .zip(VERIFY.outcomes.iter())
            .map(|(code, c)| Sample {
                labels: vec![("outcome", *code)],
                value: c.get() as f64,
                histogram: None,
            })
            .collect(),
    };
    let p = &PROPAGATION;
    vec![
        verify_outcomes,
        histogram(
            "authcore_verify_duration_seconds",
            "Duration of HMAC request verifications (checks and store round trip).",
            vec![(Vec::new(), &VERIFY.duration)],
        ),
        scalar(
            "authcore_propagation_published_total",
            "Propagation apply events published and confirmed by the broker.",
            C,
            p.published.get() as f64,
        ),
        scalar(
            "authcore_propagation_applied_total",
            "Propagation apply events applied by this peer (receiver side).",
            C,
            p.applied.get() as f64,
        ),
        scalar(
            "authcore_propagation_acked_total",
            "Propagation events ACKed as applied by their target (sender side).",
            C,
            p.acked.get() as f64,
        ),
        scalar(
            "authcore_propagation_retrying_total",
            "Propagation targets left pending for the next sync (publish or record failed, or changed meanwhile).",
            C,
            p.retrying.get() as f64,
        ),
        scalar(
            "authcore_propagation_parked_total",
            "Propagation events answered with an error by their target: the target is marked failed, not retried.",
            C,
            p.parked.get() as f64,
        ),
        histogram(
            "authcore_propagation_apply_latency_seconds",
            "From an apply event's publish (the sync after ensure/rotate/revoke) to its applied ACK at the sender.",
            vec![(Vec::new(), &p.apply_latency)],
        ),
        scalar(
            "authcore_sse_subscribers",
            "Live SSE subscribers across every registry of this process.",
            G,
            SSE.subscribers.get() as f64,
        ),
        scalar(
            "authcore_sse_frames_sent_total",
            "SSE frames handed to subscriber streams by broadcasts.",
            C,
            SSE.frames_sent.get() as f64,
        ),
        scalar(
            "authcore_sse_frames_dropped_total",
            "SSE frames not delivered: a slow client's stream closed at its buffer limit, or a failed send.",
            C,
            SSE.frames_dropped.get() as f64,
        ),
        scalar(
            "authcore_kdf_queue_depth",
            "Key derivations waiting for a slot (Node: the per-thread concurrency gate).",
            G,
            KDF.queue_depth.get() as f64,
        ),
        scalar(
            "authcore_kdf_in_progress",
            "Key derivations running now.",
            G,
            KDF.in_progress.get() as f64,
        ),
        histogram(
            "authcore_kdf_duration_seconds",
            "Duration of one key derivation (hash or verify) by algorithm.",
            KDF_ALGORITHMS
                .iter()
                .zip(KDF.duration.iter())
                .map(|(a, h)| (vec![("algorithm", *a)], h))
                .collect(),
        ),
        scalar(
            "authcore_token_refresh_total",
            "Refresh-token rotations that issued a new pair.",
            C,
            TOKENS.refreshes.get() as f64,
        ),
        scalar(
            "authcore_token_reuse_detected_total",
            "Rotated refresh tokens presented again (the family was revoked).",
            C,
            TOKENS.reuse_detected.get() as f64,
        ),
    ]
}

fn write_labels(out: &mut String, labels: &[(&str, &str)], le: Option<&str>) {
    if labels.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    for (k, v) in labels.iter().copied().chain(le.map(|l| ("le", l))) {
        if !first {
            out.push(',');
        }
        first = false;
        // Label values are fixed identifiers: nothing to escape.
        let _ = write!(out, "{k}=\"{v}\"");
    }
    out.push('}');
}

fn number(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else {
        // `{}` of f64 is the shortest round-trip form; integers print without a dot.
        format!("{v}")
    }
}

/// Prometheus text exposition format 0.0.4 of [`snapshot`].
pub fn render() -> String {
    render_families(&snapshot())
}

/// Prometheus text of the given families.
pub fn render_families(families: &[Family]) -> String {
    let mut out = String::with_capacity(8192);
    for f in families {
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
        for s in &f.samples {
            match &s.histogram {
                None => {
                    out.push_str(f.name);
                    write_labels(&mut out, &s.labels, None);
                    let _ = writeln!(out, " {}", number(s.value));
                }
                Some(h) => {
                    for (le, n) in h
                        .buckets
                        .iter()
                        .copied()
                        .chain(std::iter::once((f64::INFINITY, h.count)))
                    {
                        let _ = write!(out, "{}_bucket", f.name);
                        write_labels(&mut out, &s.labels, Some(&number(le)));
                        let _ = writeln!(out, " {n}");
                    }
                    let _ = write!(out, "{}_sum", f.name);
                    write_labels(&mut out, &s.labels, None);
                    let _ = writeln!(out, " {}", number(h.sum));
                    let _ = write!(out, "{}_count", f.name);
                    write_labels(&mut out, &s.labels, None);
                    let _ = writeln!(out, " {}", h.count);
                }
            }
        }
    }
    out
}

/// [`snapshot`] as JSON (for bindings that build their host library's metric objects).
pub fn snapshot_json() -> String {
    serde_json::to_string(&snapshot()).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_count_matches() {
        static H: Histogram = Histogram::new(&[10, 100, 1000]);
        for ns in [5, 10, 11, 500, 5000] {
            H.observe_ns(ns);
        }
        let v = H.read();
        assert_eq!(v.buckets, vec![(1e-8, 2), (1e-7, 3), (1e-6, 4)]);
        assert_eq!(v.count, 5);
        assert!((v.sum - 5526e-9).abs() < 1e-15);
    }

    /// Threads write to their own stripes; a read sums them, so nothing is lost or counted
    /// twice whatever the number of threads (more threads than stripes share stripes).
    #[test]
    fn striped_counts_from_many_threads_add_up_exactly() {
        static C: Counter = Counter::new();
        static H: Histogram = Histogram::new(&[10, 100]);
        let threads = STRIPES * 2 + 1;
        std::thread::scope(|s| {
            for t in 0..threads {
                s.spawn(move || {
                    for i in 0..1000u64 {
                        C.inc();
                        H.observe_ns(if i % 2 == 0 { 5 } else { 50 + t as u64 });
                    }
                });
            }
        });
        assert!(enabled(), "no unit test turns recording off");
        let n = threads as u64 * 1000;
        assert_eq!(C.get(), n);
        let v = H.read();
        assert_eq!(v.buckets, vec![(1e-8, n / 2), (1e-7, n)]);
        assert_eq!(v.count, n);
        let sum: u64 = (0..threads as u64).map(|t| 500 * 5 + 500 * (50 + t)).sum();
        assert!((v.sum - sum as f64 / 1e9).abs() < 1e-12);
        let used = C.0.iter().filter(|s| s.0.load(Relaxed) > 0).count();
        assert!(used > 1, "every thread wrote to one stripe");
    }

    #[test]
    fn outcome_index_follows_the_discriminants() {
        use crate::hmac::HmacErrorCode;
        for code in HmacErrorCode::ALL
            .into_iter()
            .chain([HmacErrorCode::HeaderTooLarge])
        {
            assert_eq!(verify_outcome_index(code.as_str()), code as usize);
        }
        assert_eq!(verify_outcome_index("STORE_ERROR"), 18);
        assert_eq!(verify_outcome_index("nope"), 14);
    }

    #[test]
    fn text_has_every_family_with_help_and_type() {
        let text = render();
        for f in snapshot() {
            assert!(text.contains(&format!("# TYPE {} {}\n", f.name, f.kind.as_str())));
        }
        assert!(text.contains("authcore_verify_duration_seconds_bucket{le=\"+Inf\"} "));
        assert!(
            text.contains(
                "authcore_kdf_duration_seconds_bucket{algorithm=\"bcrypt\",le=\"0.001\"} "
            )
        );
    }
}
