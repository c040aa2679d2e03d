//! The SSE stream (spec §2 `SseStream<T>`, §3.5 `create_sse_response`).
//!
//! [`SseStream`] is the seam: the registry and the guard only ever call `send`, `close`
//! and `on_close` on it, so a binding can hand in a host object (a Hono stream, a
//! Starlette response) wrapped in an implementation of this trait. [`MemorySseStream`] is
//! the ready-made one: it renders the exact wire bytes of §3.5 into a buffer that the host
//! drains ([`MemorySseStream::take_body`] / [`MemorySseStream::next_chunk`]) into its HTTP
//! response body.
//!
//! Wire bytes (§3.5): `: connected\n\n` at once on open; `send(d)` writes
//! `data: ` + `JSON.stringify(d)` + `\n\n` (no `event:`, `id:` or `retry:`); `comment(t)`
//! writes `: ` + `t` + `\n` (one newline); nothing is written after the close.
//! `close()` is idempotent: the first call (or a client abort, [`MemorySseStream::cancel`])
//! runs the `on_close` listeners once, in registration order, each isolated (an `Err` or a
//! panic is logged as `on_close listener threw: …` and the next one still runs);
//! a listener registered by a running listener runs after the others (the original's
//! `for…of` over its array), and listeners registered after the close never run.
//!
//! Departures, both for untrusted text only (module docs, §6.8): a comment containing a
//! line break is written as one comment line per line instead of injecting fields, and a
//! `data:` payload containing a raw line break (only possible through
//! [`JsValue::RawJson`](super::JsValue::RawJson)) is refused like a serialisation throw.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::notify::Notify;

use super::{Logger, NoopLogger, RealtimeError, SseJson};
use crate::limits::DEFAULT_SSE_BUFFER_LIMIT_BYTES;

/// `SSE_CONNECTED_COMMENT`: written at once on open, so proxies flush the headers and
/// `EventSource.onopen` fires without waiting for the first event.
pub const SSE_CONNECTED_COMMENT: &str = ": connected\n\n";

/// The response headers of Hono's `streamSSE` (asserted by the upstream tests, §5).
pub const SSE_HEADERS: [(&str, &str); 4] = [
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
    ("Connection", "keep-alive"),
    ("Transfer-Encoding", "chunked"),
];

/// A close callback (`on_close(fn)`). An `Err` is the original's throw: logged, never
/// propagated, and the remaining listeners still run.
pub type CloseListener = Box<dyn FnOnce() -> Result<(), RealtimeError> + Send + 'static>;

/// The part of `SseStream<T>` (§2) that does not depend on the payload type: `comment`,
/// `close` and `on_close`. The registry needs only this to close and evict streams.
///
/// Implementations must not call back into a registry while holding their own locks;
/// the registry never holds its lock while calling them.
pub trait SseStreamControl: Send + Sync {
    /// Write a comment line. A no-op after the close.
    fn comment(&self, text: &str) -> Result<(), RealtimeError>;
    /// Close the stream (idempotent), running the `on_close` listeners once.
    fn close(&self) -> Result<(), RealtimeError>;
    /// Register a listener for the close, whether the client left or `close()` was
    /// called. A listener registered after the close never runs (§3.5).
    fn on_close(&self, listener: CloseListener);
}

/// `SseStream<T>` (§2): [`SseStreamControl`] plus `send`. The split only keeps the three
/// payload-independent members callable without naming `T`.
pub trait SseStream<T: ?Sized>: SseStreamControl {
    /// Write one JSON event. A no-op after the close. `Err` only for a host stream that
    /// throws (a serialisation failure is logged by the stream, not returned).
    fn send(&self, data: &T) -> Result<(), RealtimeError>;
}

/// The `data:` frame of `send(data)`: `data: <JSON.stringify(data)>\n\n`. A top-level
/// `undefined` renders as the template literal does (`data: undefined`).
pub fn render_data_frame<T: SseJson + ?Sized>(data: &T) -> Result<String, RealtimeError> {
    let json = data.to_json()?;
    let json = json.as_deref().unwrap_or("undefined");
    if json.contains(['\n', '\r']) {
        return Err(RealtimeError::Serialize(
            "serialized data contains a line break".into(),
        ));
    }
    let mut frame = String::with_capacity(json.len() + 8);
    frame.push_str("data: ");
    frame.push_str(json);
    frame.push_str("\n\n");
    Ok(frame)
}

/// The bytes of `comment(text)`: `: <text>\n`. Text with line breaks (`\r\n`, `\r`, `\n`,
/// the SSE line terminators) becomes one comment line per line, so it cannot start a
/// field (§6.8 fix; identical to the original for single-line text).
pub fn render_comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 3);
    let mut rest = text;
    loop {
        let cut = rest.find(['\r', '\n']);
        let line = &rest[..cut.unwrap_or(rest.len())];
        out.push_str(": ");
        out.push_str(line);
        out.push('\n');
        match cut {
            None => break,
            Some(i) => {
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
        }
    }
    out
}

/// Run close listeners in order, each isolated: an `Err` or a panic is logged at error
/// level as `on_close listener threw: …` and the next listener still runs.
pub fn run_close_listeners(listeners: Vec<CloseListener>, log: &dyn Logger) {
    for listener in listeners {
        match catch_unwind(AssertUnwindSafe(listener)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log.error(&format!("on_close listener threw: {e}")),
            Err(panic) => log.error(&format!(
                "on_close listener threw: {}",
                panic_message(panic.as_ref())
            )),
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "panic"
    }
}

struct State {
    /// Bytes written and not yet taken by the host.
    pending: String,
    closed: bool,
    /// The close listeners are running: one added now still runs.
    closing: bool,
    listeners: Vec<CloseListener>,
}

/// An in-memory SSE stream with the exact wire bytes of §3.5.
///
/// Everything written and not yet taken is in [`body`](Self::body); a host serving HTTP
/// drains it with [`take_body`](Self::take_body) or awaits
/// [`next_chunk`](Self::next_chunk).
///
/// Slow-client policy (on by default, unlike the original, which buffers without bound):
/// a write that would take the unread bytes past the buffer limit
/// ([`DEFAULT_SSE_BUFFER_LIMIT_BYTES`], 1 MiB; [`with_buffer_limit`](Self::with_buffer_limit)
/// changes it, [`without_buffer_limit`](Self::without_buffer_limit) removes it) is not
/// written: the stream is closed instead (a `warn` line, the close listeners run), and the
/// client's EventSource reconnects and gap-fills (§6.8).
pub struct MemorySseStream {
    state: Mutex<State>,
    ready: Notify,
    log: Arc<dyn Logger>,
    buffer_limit: Option<usize>,
}

impl std::fmt::Debug for MemorySseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("MemorySseStream")
            .field("pending", &st.pending)
            .field("closed", &st.closed)
            .field("listeners", &st.listeners.len())
            .field("buffer_limit", &self.buffer_limit)
            .finish()
    }
}

impl Default for MemorySseStream {
    fn default() -> Self {
        Self::new()
    }
}

impl MemorySseStream {
    /// An open stream whose errors go nowhere. `: connected\n\n` is already written.
    pub fn new() -> Self {
        Self::with_logger(Arc::new(NoopLogger))
    }

    /// An open stream logging `send failed to serialize data: …` and
    /// `on_close listener threw: …` at error level to `log`.
    pub fn with_logger(log: Arc<dyn Logger>) -> Self {
        Self {
            state: Mutex::new(State {
                pending: SSE_CONNECTED_COMMENT.to_owned(),
                closed: false,
                closing: false,
                listeners: Vec::new(),
            }),
            ready: Notify::new(),
            log,
            buffer_limit: Some(DEFAULT_SSE_BUFFER_LIMIT_BYTES),
        }
    }

    /// Close the stream instead of buffering past `bytes` unread bytes (§6.8): the client
    /// reconnects and gap-fills, instead of the server growing without bound.
    pub fn with_buffer_limit(mut self, bytes: usize) -> Self {
        self.buffer_limit = Some(bytes);
        self
    }

    /// Buffer without bound (the original's behaviour), for hosts that apply their own
    /// backpressure.
    pub fn without_buffer_limit(mut self) -> Self {
        self.buffer_limit = None;
        self
    }

    /// A binding's buffer-limit setting: absent = the default (already set), otherwise a
    /// number of bytes that must be a non-negative integer; `0` removes the limit.
    pub fn with_buffer_limit_setting(self, bytes: f64) -> Result<Self, RealtimeError> {
        match buffer_limit_from_number(bytes)? {
            Some(n) => Ok(self.with_buffer_limit(n)),
            None => Ok(self.without_buffer_limit()),
        }
    }

    /// The current limit in bytes (`None`: unbounded).
    pub fn buffer_limit(&self) -> Option<usize> {
        self.buffer_limit
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The bytes written and not yet taken (the whole body when nobody drains it).
    pub fn body(&self) -> String {
        self.lock().pending.clone()
    }

    /// Take the bytes written so far, leaving the buffer empty.
    pub fn take_body(&self) -> String {
        std::mem::take(&mut self.lock().pending)
    }

    #[cfg(feature = "tokio")]
    /// The next bytes to put on the wire: waits until something is written, then returns
    /// all of it; `None` once the stream is closed and drained (end of the body). Meant
    /// for one reader (the task writing the HTTP body).
    pub async fn next_chunk(&self) -> Option<String> {
        loop {
            let notified = self.ready.notified();
            {
                let mut st = self.lock();
                if !st.pending.is_empty() {
                    return Some(std::mem::take(&mut st.pending));
                }
                if st.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Whether the stream is closed (by `close()` or by the client).
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// The client went away (`response.body.cancel()`, a dropped connection): the same
    /// path as `close()`.
    pub fn cancel(&self) {
        self.do_close();
    }

    fn write(&self, frame: &str) {
        let overflow = {
            let mut st = self.lock();
            if st.closed {
                return;
            }
            match self.buffer_limit {
                Some(limit) if st.pending.len() + frame.len() > limit => Some(st.pending.len()),
                _ => {
                    st.pending.push_str(frame);
                    None
                }
            }
        };
        match overflow {
            None => self.ready.notify_one(),
            Some(unread) => {
                crate::metrics::sse_slow_client(unread);
                self.log.warn(&format!(
                    "SSE stream closed: client too slow ({unread} bytes unread)"
                ));
                self.do_close();
            }
        }
    }

    fn do_close(&self) {
        {
            let mut st = self.lock();
            if st.closed {
                return;
            }
            st.closed = true;
            st.closing = true;
        }
        // Wake a reader waiting for the end of the body before the listeners run.
        self.ready.notify_one();
        // Listeners added by a running listener are run too, after the ones before them.
        loop {
            let batch = {
                let mut st = self.lock();
                let batch = std::mem::take(&mut st.listeners);
                if batch.is_empty() {
                    st.closing = false;
                }
                batch
            };
            if batch.is_empty() {
                break;
            }
            run_close_listeners(batch, self.log.as_ref());
        }
    }
}

/// A buffer limit given as a number (Node `bufferLimit`, Python `buffer_limit`): a
/// non-negative integer of bytes (at most 2^53), `0` meaning no limit; anything else
/// (negative, fractional, NaN, ±Infinity) is `REALTIME_INVALID_SETTING`.
pub fn buffer_limit_from_number(bytes: f64) -> Result<Option<usize>, RealtimeError> {
    let n = crate::limits::integer_between("buffer limit", bytes, 0.0, 9_007_199_254_740_992.0)
        .map_err(|_| {
            RealtimeError::InvalidSetting(
                "buffer limit must be a non-negative integer number of bytes (0 = no limit)".into(),
            )
        })?;
    Ok(match n {
        0 => None,
        n => Some(usize::try_from(n).unwrap_or(usize::MAX)),
    })
}

impl<T: SseJson + ?Sized> SseStream<T> for MemorySseStream {
    fn send(&self, data: &T) -> Result<(), RealtimeError> {
        if self.is_closed() {
            return Ok(());
        }
        match render_data_frame(data) {
            Ok(frame) => self.write(&frame),
            Err(e) => self
                .log
                .error(&format!("send failed to serialize data: {e}")),
        }
        Ok(())
    }
}

impl SseStreamControl for MemorySseStream {
    fn comment(&self, text: &str) -> Result<(), RealtimeError> {
        self.write(&render_comment(text));
        Ok(())
    }

    fn close(&self) -> Result<(), RealtimeError> {
        self.do_close();
        Ok(())
    }

    fn on_close(&self, listener: CloseListener) {
        let late = {
            let mut st = self.lock();
            if st.closed && !st.closing {
                Some(listener)
            } else {
                st.listeners.push(listener);
                None
            }
        };
        // After the close (its listeners done): dropped unrun (§3.5), outside the lock (its captures may
        // call back into this stream when dropped).
        drop(late);
    }
}
