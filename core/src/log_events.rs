//! Structured log events of the core, as `tracing` events with target `authcore`, and a
//! bridge that hands them to a host language (Node's logger + `diagnostics_channel`,
//! Python's `logging` logger `authcore`).
//!
//! Every event has the fields `op` (what ran: `hmac.verify`, `propagation.apply`, …),
//! `outcome` (`OK` or an error code) and, where there is one, `client_id` (or `user_id`).
//! No event carries a secret, a signature, a nonce, a token, a password or a body: the
//! emitting functions below take only those identifiers and codes.
//!
//! Any `tracing` subscriber the application installs receives them. A binding that wants
//! them in its host calls [`install_host_bridge`]: events at or above the chosen level go
//! into a bounded queue ([`QUEUE_CAP`], oldest dropped first) and the host's `notify` is
//! called once per batch; the host then [`drain`]s the queue on its own thread. Events
//! below the level cost one relaxed load.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, span};

/// The target of every core event.
pub const TARGET: &str = "authcore";

/// A verification finished (`outcome`: `OK` or the error code). Accepted requests are
/// `debug`, rejections `info`, failures of the store or of the settings `warn`.
pub fn verify(client_id: Option<&str>, outcome: &str) {
    let client_id = client_id.unwrap_or("");
    match outcome {
        "OK" => {
            tracing::debug!(target: TARGET, op = "hmac.verify", client_id, outcome, "request verified")
        }
        "STORE_ERROR" | "INVALID_ARGUMENT" | "INTERNAL_ERROR" => {
            tracing::warn!(target: TARGET, op = "hmac.verify", client_id, outcome, "verification failed")
        }
        _ => {
            tracing::info!(target: TARGET, op = "hmac.verify", client_id, outcome, "request rejected")
        }
    }
}

/// This peer applied a propagated credential.
pub fn propagation_applied(client_id: &str) {
    tracing::info!(target: TARGET, op = "propagation.apply", client_id, outcome = "OK", "credential applied");
}

/// An ACK arrived at the sender: applied, or refused by the target (parked).
pub fn propagation_acked(client_id: &str, success: bool) {
    if success {
        tracing::info!(target: TARGET, op = "propagation.ack", client_id, outcome = "OK", "target applied the credential");
    } else {
        tracing::warn!(target: TARGET, op = "propagation.ack", client_id, outcome = "TARGET_ERROR", "target refused the credential; parked until it changes");
    }
}

/// A `sync` ended.
pub fn propagation_synced(published: u32, retrying: u32) {
    tracing::info!(target: TARGET, op = "propagation.sync", outcome = "OK", published, retrying, "sync finished");
}

/// A refresh token was rotated, or a rotated one presented again.
pub fn token_refresh(user_id: &str, reused: bool) {
    if reused {
        tracing::warn!(target: TARGET, op = "token.refresh", user_id, outcome = "REFRESH_TOKEN_REUSED", "refresh token reused; family revoked");
    } else {
        tracing::debug!(target: TARGET, op = "token.refresh", user_id, outcome = "OK", "refresh token rotated");
    }
}

/// A slow SSE client's stream was closed at its buffer limit.
pub fn sse_slow_client(unread_bytes: usize) {
    tracing::warn!(target: TARGET, op = "sse.write", outcome = "SLOW_CLIENT", unread_bytes, "SSE stream closed: client too slow");
}

/// One event as a host receives it: the level (`error`, `warn`, `info`, `debug`,
/// `trace`), the message and the fields in emission order, values as text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRecord {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: &'static str,
    /// The event's message.
    pub message: String,
    /// `(name, value)` pairs in emission order.
    pub fields: Vec<(&'static str, String)>,
}

#[derive(Default)]
struct Visitor {
    message: String,
    fields: Vec<(&'static str, String)>,
}

impl Visit for Visitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields.push((field.name(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.push((field.name(), text));
        }
    }
}

/// Most records kept while the host has not drained them.
pub const QUEUE_CAP: usize = 10_000;

/// 0 = off, 1 = error … 5 = trace.
static LEVEL: AtomicU8 = AtomicU8::new(0);
static SCHEDULED: AtomicBool = AtomicBool::new(false);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static QUEUE: Mutex<VecDeque<LogRecord>> = Mutex::new(VecDeque::new());
type Notify = Arc<dyn Fn() + Send + Sync>;
static NOTIFY: Mutex<Option<Notify>> = Mutex::new(None);
static INSTALLED: OnceLock<bool> = OnceLock::new();

fn level_rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// A level by name (`off`, `error`, `warn`, `info`, `debug`, `trace`; case-insensitive).
pub fn parse_level(name: &str) -> Option<u8> {
    match name.to_ascii_lowercase().as_str() {
        "off" | "none" => Some(0),
        "error" => Some(1),
        "warn" | "warning" => Some(2),
        "info" => Some(3),
        "debug" => Some(4),
        "trace" => Some(5),
        _ => None,
    }
}

struct HostBridge;

impl tracing::Subscriber for HostBridge {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.target() == TARGET {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        meta.target() == TARGET && level_rank(meta.level()) <= LEVEL.load(Ordering::Relaxed)
    }

    fn new_span(&self, _span: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _span: &span::Id, _values: &span::Record<'_>) {}

    fn record_follows_from(&self, _span: &span::Id, _follows: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut v = Visitor::default();
        event.record(&mut v);
        push(LogRecord {
            level: level_name(event.metadata().level()),
            message: v.message,
            fields: v.fields,
        });
    }

    fn enter(&self, _span: &span::Id) {}

    fn exit(&self, _span: &span::Id) {}
}

fn push(record: LogRecord) {
    {
        let mut q = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
        if q.len() >= QUEUE_CAP {
            q.pop_front();
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(record);
    }
    if !SCHEDULED.swap(true, Ordering::SeqCst) {
        let notify = NOTIFY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(n) = notify {
            n();
        }
    }
}

/// Installs the bridge as the process's global `tracing` subscriber (once) and sets the
/// level (`0` = off … `5` = trace) and the host's `notify` (replacing the previous one).
/// `false` when the application already installed another global subscriber: the core's
/// events then go to that one.
pub fn install_host_bridge(level: u8, notify: Notify) -> bool {
    *NOTIFY.lock().unwrap_or_else(PoisonError::into_inner) = Some(notify);
    let ours =
        *INSTALLED.get_or_init(|| tracing::subscriber::set_global_default(HostBridge).is_ok());
    set_level(level);
    ours
}

/// Changes the bridge's level (`0` turns it off).
pub fn set_level(level: u8) {
    LEVEL.store(level.min(5), Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
}

/// The queued records, oldest first (the next event notifies again).
pub fn drain() -> Vec<LogRecord> {
    SCHEDULED.store(false, Ordering::SeqCst);
    std::mem::take(&mut *QUEUE.lock().unwrap_or_else(PoisonError::into_inner)).into()
}

/// [`drain`] as JSON text: `[{"level", "message", "fields": [[name, value]]}]`.
pub fn drain_json() -> String {
    serde_json::to_string(&drain()).unwrap_or_else(|_| "[]".into())
}

/// Records dropped because the queue was full.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}
