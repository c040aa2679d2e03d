//! Direct socket writes for push subscribers (Unix): the fan-out's write path without one
//! host-language call per subscriber.
//!
//! A host whose subscriber is a plain TCP HTTP/1.1 response (Node's `ServerResponse` on a
//! `net.Socket`, nothing buffered) hands its socket descriptor over with
//! [`SocketSinks::attach`]; the sink keeps a duplicate of it (so a closed and reused
//! descriptor number can never receive another connection's frames) and writes each frame
//! to it, framed as an HTTP/1.1 chunk when the response is chunked (the bytes the host
//! would have written).
//!
//! An attached sink the host still holds: the host keeps every decision it made before (it
//! still ends the response, and its own `'close'` handling detaches the sink). A write that
//! does not go through in full detaches the subscriber: with nothing written it is handed
//! back to the host (`host`, which writes the frame its usual way and applies its
//! backpressure); with part of it written, the rest comes back (`partial`) for the host to
//! write to the socket as raw bytes first.
//!
//! A *released* sink (Linux, [`SocketSinks::release`]): the host closed its own descriptor
//! and dropped its response objects, so an idle subscriber costs the socket and this
//! slot. The sinks then own the rest of the connection:
//! - **close detection**: an epoll set watches the peer's close (`EPOLLRDHUP`, `EPOLLHUP`,
//!   `EPOLLERR`); [`SocketSinks::wait`] (the host's watcher thread) reports the closed ids;
//! - **backpressure**: bytes the socket does not take wait in the slot, in order before any
//!   later frame, and are flushed when the socket is writable again (in `wait`); past
//!   `max_pending` bytes the subscriber is disconnected (the hub's slow-client policy), and
//!   reported in [`SinkOutcome::closed`];
//! - **the end** ([`SocketSinks::end`]): the last chunk (`0\r\n\r\n`, chunked responses),
//!   then the connection is closed (the host's response would have ended the body and kept
//!   the connection for another request; an event stream's client reconnects anyway).

use std::collections::HashMap;
use std::io::{ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::{JoinHandle, Thread};

#[derive(Debug)]
struct Sink {
    stream: TcpStream,
    chunked: bool,
    /// The host released its descriptor: close detection and backpressure are ours.
    owned: bool,
    /// Released sinks: bytes the socket has not taken yet (`pending[at..]`).
    pending: Vec<u8>,
    at: usize,
}

/// What the sinks left to the host after a write.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SinkOutcome {
    /// Subscribers the host writes the frame to (no sink, or a sink that took nothing).
    pub host: Vec<u64>,
    /// Subscribers whose sink wrote part of the bytes: the rest, for the host to write raw.
    pub partial: Vec<(u64, Vec<u8>)>,
    /// Released subscribers whose connection failed or whose pending bytes would pass
    /// `max_pending`: their sink is closed; the host removes them.
    pub closed: Vec<u64>,
}

/// Socket sinks by subscriber id.
#[derive(Debug)]
pub struct SocketSinks {
    inner: Mutex<HashMap<u64, Sink>>,
    max_pending: usize,
    #[cfg(target_os = "linux")]
    poller: OnceLock<std::io::Result<poll::Poller>>,
    /// Writer threads, started at the first fan-out large enough.
    pool: OnceLock<Pool>,
}

impl Drop for SocketSinks {
    fn drop(&mut self) {
        if let Some(p) = self.pool.get() {
            p.stop();
        }
    }
}

impl Default for SocketSinks {
    fn default() -> Self {
        Self::new()
    }
}

/// `<hex length>\r\n<frame>\r\n`: the frame as one HTTP/1.1 chunk.
pub fn chunk(frame: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + 12);
    out.extend_from_slice(format!("{:x}\r\n", frame.len()).as_bytes());
    out.extend_from_slice(frame.as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

/// The end of a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Write as much of `bytes` as the socket takes now: `Ok(n)` bytes written (`n <
/// bytes.len()` when it would block), `Err` when the connection failed.
fn write_some(stream: &TcpStream, bytes: &[u8]) -> Result<usize, ()> {
    let mut written = 0;
    while written < bytes.len() {
        match (&*stream).write(&bytes[written..]) {
            Ok(0) => return Err(()),
            Ok(n) => written += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(_) => return Err(()),
        }
    }
    Ok(written)
}

impl Sink {
    /// Released sink: flush what is pending; `Ok(true)` when nothing is left.
    fn flush(&mut self) -> Result<bool, ()> {
        if self.at < self.pending.len() {
            let n = write_some(&self.stream, &self.pending[self.at..])?;
            self.at += n;
        }
        if self.at == self.pending.len() {
            self.pending = Vec::new();
            self.at = 0;
            return Ok(true);
        }
        Ok(false)
    }
}

/// Sockets per writer thread below which a fan-out stays on the calling thread.
pub const PARALLEL_MIN: usize = 256;
/// Most threads writing one fan-out (the calling thread included).
pub const MAX_WRITERS: usize = 4;
/// Sockets a writer takes at a time from a fan-out's list.
const BATCH: usize = 64;

/// The first write of one frame to one sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// Not written yet.
    Unset,
    NoSink,
    /// The socket took it whole.
    Done,
    /// It took that many bytes, fewer than the frame (it would block).
    Written(usize),
    Failed,
    /// A released sink with bytes pending: the frame queues behind them.
    Queue,
}

impl Attempt {
    fn of(bytes: &[u8], written: Result<usize, ()>) -> Self {
        match written {
            Ok(n) if n == bytes.len() => Attempt::Done,
            Ok(n) => Attempt::Written(n),
            Err(()) => Attempt::Failed,
        }
    }

    /// As stored by a pool writer (`Unset` is 0).
    fn encode(self) -> u64 {
        match self {
            Attempt::Unset => 0,
            Attempt::NoSink => 1,
            Attempt::Done => 2,
            Attempt::Failed => 3,
            Attempt::Queue => 4,
            Attempt::Written(n) => 5 + n as u64,
        }
    }

    fn decode(v: u64) -> Self {
        match v {
            0 => Attempt::Unset,
            1 => Attempt::NoSink,
            2 => Attempt::Done,
            3 => Attempt::Failed,
            4 => Attempt::Queue,
            n => Attempt::Written(usize::try_from(n - 5).unwrap_or(usize::MAX)),
        }
    }
}

fn attempt(sinks: &HashMap<u64, Sink>, id: u64, frame: &[u8], chunked: &[u8]) -> Attempt {
    let Some(sink) = sinks.get(&id) else {
        return Attempt::NoSink;
    };
    if sink.owned && sink.at < sink.pending.len() {
        return Attempt::Queue;
    }
    let bytes = if sink.chunked { chunked } else { frame };
    Attempt::of(bytes, write_some(&sink.stream, bytes))
}

/// Threads that write a large fan-out: the machine's cores, up to [`MAX_WRITERS`].
fn writers() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
            .clamp(1, MAX_WRITERS)
    })
}

/// Write as much of `bytes` to the socket `fd` as it takes now (as [`write_some`]).
///
/// # Safety
/// `fd` must be an open socket descriptor for the duration of the call.
unsafe fn send_some(fd: RawFd, bytes: &[u8]) -> Result<usize, ()> {
    use std::os::fd::FromRawFd;
    // SAFETY: fd is open for this call (the caller's guarantee); ManuallyDrop never closes it.
    let stream = std::mem::ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
    write_some(&stream, bytes)
}

/// One socket of a pooled fan-out: its place in the publish's ids and what to write.
#[derive(Debug, Clone, Copy)]
struct Target {
    at: usize,
    fd: RawFd,
    chunked: bool,
}

/// The first writes of one frame, shared by the calling thread and the pool's writers: each
/// takes [`BATCH`] targets at a time until none is left.
#[derive(Debug)]
struct Job {
    targets: Vec<Target>,
    frame: Vec<u8>,
    chunked: Vec<u8>,
    /// [`Attempt::encode`] per target.
    results: Vec<AtomicU64>,
    next: AtomicUsize,
    /// Targets whose write is over (or given up: `Unset`).
    done: AtomicUsize,
    caller: Thread,
}

/// Counts a taken batch as done when dropped (also if its writer panicked: its targets stay
/// `Unset` and the calling thread writes them), waking the caller after the last one.
struct Taken<'a> {
    job: &'a Job,
    n: usize,
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        let len = self.job.targets.len();
        if self.job.done.fetch_add(self.n, Ordering::AcqRel) + self.n == len {
            self.job.caller.unpark();
        }
    }
}

impl Job {
    fn work(&self) {
        let len = self.targets.len();
        loop {
            let from = self.next.fetch_add(BATCH, Ordering::Relaxed);
            if from >= len {
                return;
            }
            let to = (from + BATCH).min(len);
            let _taken = Taken {
                job: self,
                n: to - from,
            };
            for (t, r) in self.targets[from..to].iter().zip(&self.results[from..to]) {
                let bytes = if t.chunked {
                    &self.chunked
                } else {
                    &self.frame
                };
                // SAFETY: the descriptor belongs to a sink of the map the calling thread
                // holds locked until every target is done (`wait`), so it stays open.
                let written = unsafe { send_some(t.fd, bytes) };
                r.store(Attempt::of(bytes, written).encode(), Ordering::Relaxed);
            }
        }
    }

    /// On the calling thread: until every target's write is over.
    fn wait(&self) {
        while self.done.load(Ordering::Acquire) < self.targets.len() {
            std::thread::park();
        }
    }
}

#[derive(Debug, Default)]
struct PoolState {
    job: Option<Arc<Job>>,
    /// Bumped per job: a writer runs each job once.
    round: u64,
    stop: bool,
}

#[derive(Debug, Default)]
struct PoolShared {
    state: Mutex<PoolState>,
    wake: Condvar,
}

impl PoolShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer threads of large fan-outs: started at the first one, parked between them,
/// stopped and joined with the sinks ([`SocketSinks::shut_down`] or drop).
#[derive(Debug)]
struct Pool {
    shared: Arc<PoolShared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    fn new(workers: usize) -> Self {
        let shared = Arc::new(PoolShared::default());
        let mut threads = Vec::with_capacity(workers);
        for _ in 0..workers {
            let s = Arc::clone(&shared);
            let spawned = std::thread::Builder::new()
                .name("authcore-sse-writer".into())
                .spawn(move || Self::writer(&s));
            // Fewer writers than cores (none: the fan-out stays on the calling thread).
            if let Ok(h) = spawned {
                threads.push(h);
            }
        }
        Self {
            shared,
            threads: Mutex::new(threads),
        }
    }

    fn writer(shared: &PoolShared) {
        let mut seen = 0;
        loop {
            let job = {
                let mut st = shared.lock();
                while !st.stop && st.round == seen {
                    st = shared.wake.wait(st).unwrap_or_else(PoisonError::into_inner);
                }
                if st.stop {
                    return;
                }
                seen = st.round;
                st.job.clone()
            };
            if let Some(job) = job {
                job.work();
            }
        }
    }

    /// Write `job` with the writers and this thread; false (nothing written) when the pool
    /// has no writer or was stopped.
    fn run(&self, job: &Arc<Job>) -> bool {
        {
            let mut st = self.shared.lock();
            if st.stop
                || self
                    .threads
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_empty()
            {
                return false;
            }
            st.job = Some(Arc::clone(job));
            st.round = st.round.wrapping_add(1);
        }
        self.shared.wake.notify_all();
        job.work();
        job.wait();
        self.shared.lock().job = None;
        true
    }

    fn stop(&self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for h in threads {
            let _ = h.join();
        }
    }
}

impl SocketSinks {
    /// No sinks; a released subscriber may have 1 MiB pending.
    pub fn new() -> Self {
        Self::with_max_pending(1024 * 1024)
    }

    /// No sinks; a released subscriber whose pending bytes would pass `max_pending` is
    /// disconnected.
    pub fn with_max_pending(max_pending: usize) -> Self {
        Self {
            inner: Mutex::new(HashMap::new()),
            max_pending,
            #[cfg(target_os = "linux")]
            poller: OnceLock::new(),
            pool: OnceLock::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Sink>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Write subscriber `id`'s frames to (a duplicate of) the socket `fd`, as HTTP/1.1
    /// chunks when `chunked`.
    ///
    /// # Safety
    /// `fd` must be an open descriptor of a connected TCP socket for the duration of the
    /// call, and the caller must have nothing of its own still buffered for it.
    pub unsafe fn attach(&self, id: u64, fd: RawFd, chunked: bool) -> std::io::Result<()> {
        if fd < 0 {
            return Err(std::io::Error::from(ErrorKind::InvalidInput));
        }
        // SAFETY: the caller guarantees fd is open for this call; it is only duplicated.
        let owned = unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned()?;
        let stream = TcpStream::from(owned);
        // A socket that is not TCP (or not connected) has no peer address.
        stream.peer_addr()?;
        self.lock().insert(
            id,
            Sink {
                stream,
                chunked,
                owned: false,
                pending: Vec::new(),
                at: 0,
            },
        );
        Ok(())
    }

    /// The host is about to close its own descriptor of subscriber `id`'s socket (a
    /// non-blocking one) and drop its response: from now on the sinks detect the close,
    /// buffer what the socket does not take and end the connection. False (nothing
    /// changed; the host keeps its response) when `id` has no sink or this platform has
    /// no watcher (not Linux).
    pub fn release(&self, id: u64) -> bool {
        #[cfg(target_os = "linux")]
        {
            let Ok(poller) = self.poller() else {
                return false;
            };
            let mut sinks = self.lock();
            let Some(sink) = sinks.get_mut(&id) else {
                return false;
            };
            if sink.owned {
                return true;
            }
            if poller.add(sink.stream.as_raw_fd(), id).is_err() {
                return false;
            }
            sink.owned = true;
            true
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = id;
            false
        }
    }

    #[cfg(target_os = "linux")]
    fn poller(&self) -> Result<&poll::Poller, ()> {
        self.poller
            .get_or_init(poll::Poller::new)
            .as_ref()
            .map_err(|_| ())
    }

    /// Stop writing to subscriber `id`'s socket (closes the duplicate; a released sink's
    /// connection closes with it). Idempotent.
    pub fn detach(&self, id: u64) -> bool {
        self.lock().remove(&id).is_some()
    }

    /// Remove subscriber `id`'s sink; a released one ends its body (the last chunk, when
    /// chunked and nothing is pending) and closes the connection. Idempotent.
    pub fn end(&self, id: u64) -> bool {
        let Some(sink) = self.lock().remove(&id) else {
            return false;
        };
        if sink.owned {
            if sink.chunked && sink.at == sink.pending.len() {
                let _ = write_some(&sink.stream, LAST_CHUNK);
            }
            let _ = sink.stream.shutdown(Shutdown::Both);
        }
        true
    }

    /// Sinks held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no sink is held.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Released sinks held.
    pub fn released(&self) -> usize {
        self.lock().values().filter(|s| s.owned).count()
    }

    /// Write `frame` to each of `ids` that has a sink; the others, and the sinks that could
    /// not take it all, are left to the host.
    ///
    /// A large fan-out (at least two writers' worth of [`PARALLEL_MIN`] sockets) is written
    /// by the calling thread and the sinks' writer threads together (up to [`MAX_WRITERS`]
    /// in all: the machine's cores; started at the first such fan-out, parked between
    /// them), each taking the next [`BATCH`] sockets: on loopback and fast networks nearly
    /// all of its time is the kernel's TCP path of each write. Each socket still gets one
    /// write per frame, in publish order (the caller holds the hub's order; this call
    /// returns once every write is done).
    pub fn write(&self, ids: Vec<u64>, frame: &str) -> SinkOutcome {
        let mut out = SinkOutcome::default();
        let mut sinks = self.lock();
        if sinks.is_empty() {
            out.host = ids;
            return out;
        }
        let chunked = chunk(frame);
        let attempts = self.first_writes(&sinks, &ids, frame.as_bytes(), &chunked);
        for (id, attempt) in ids.into_iter().zip(attempts) {
            let written = match attempt {
                Attempt::NoSink | Attempt::Unset => {
                    out.host.push(id);
                    continue;
                }
                Attempt::Done => continue,
                Attempt::Written(n) => Ok(n),
                Attempt::Failed => Err(()),
                Attempt::Queue => Ok(0),
            };
            let Some(sink) = sinks.get_mut(&id) else {
                out.host.push(id);
                continue;
            };
            let bytes: &[u8] = if sink.chunked {
                &chunked
            } else {
                frame.as_bytes()
            };
            if sink.owned {
                let queued = match attempt {
                    Attempt::Queue => self.write_owned(id, sink, bytes),
                    _ => written.and_then(|n| self.keep_rest(id, sink, &bytes[n..], true)),
                };
                if queued.is_err() {
                    sinks.remove(&id);
                    out.closed.push(id);
                }
                continue;
            }
            match written {
                Ok(0) | Err(()) => {
                    sinks.remove(&id);
                    out.host.push(id);
                }
                Ok(n) => {
                    sinks.remove(&id);
                    out.partial.push((id, bytes[n..].to_vec()));
                }
            }
        }
        out
    }

    /// Each id's first write: on the calling thread, or with the writer pool when at least
    /// two writers' worth of [`PARALLEL_MIN`] sockets take it.
    fn first_writes(
        &self,
        sinks: &HashMap<u64, Sink>,
        ids: &[u64],
        frame: &[u8],
        chunked: &[u8],
    ) -> Vec<Attempt> {
        let mut out = vec![Attempt::Unset; ids.len()];
        let mut targets = Vec::new();
        if writers() > 1 && ids.len() >= 2 * PARALLEL_MIN {
            targets.reserve(ids.len());
            for (i, (r, id)) in out.iter_mut().zip(ids).enumerate() {
                match sinks.get(id) {
                    None => *r = Attempt::NoSink,
                    Some(s) if s.owned && s.at < s.pending.len() => *r = Attempt::Queue,
                    Some(s) => targets.push(Target {
                        at: i,
                        fd: s.stream.as_raw_fd(),
                        chunked: s.chunked,
                    }),
                }
            }
        }
        if targets.len() >= 2 * PARALLEL_MIN {
            let pool = self.pool.get_or_init(|| Pool::new(writers() - 1));
            let job = Arc::new(Job {
                results: targets.iter().map(|_| AtomicU64::new(0)).collect(),
                targets,
                frame: frame.to_vec(),
                chunked: chunked.to_vec(),
                next: AtomicUsize::new(0),
                done: AtomicUsize::new(0),
                caller: std::thread::current(),
            });
            if pool.run(&job) {
                for (t, r) in job.targets.iter().zip(&job.results) {
                    out[t.at] = Attempt::decode(r.load(Ordering::Relaxed));
                }
            }
        }
        // Small fan-outs, and whatever the pool left (`Unset`).
        for (r, &id) in out.iter_mut().zip(ids) {
            if let Attempt::Unset = r {
                *r = attempt(sinks, id, frame, chunked);
            }
        }
        out
    }

    /// A released sink: write now when nothing is pending, keep the rest (up to
    /// `max_pending`) for the watcher to flush. `Err`: close it.
    fn write_owned(&self, id: u64, sink: &mut Sink, bytes: &[u8]) -> Result<(), ()> {
        let was_idle = sink.at == sink.pending.len();
        let rest = if was_idle {
            let n = write_some(&sink.stream, bytes)?;
            &bytes[n..]
        } else {
            bytes
        };
        self.keep_rest(id, sink, rest, was_idle)
    }

    /// A released sink: keep `rest` after what is pending (watch for writable when it was
    /// idle). `Err` past `max_pending`.
    fn keep_rest(&self, id: u64, sink: &mut Sink, rest: &[u8], was_idle: bool) -> Result<(), ()> {
        if rest.is_empty() {
            return Ok(());
        }
        if sink.pending.len() - sink.at + rest.len() > self.max_pending {
            return Err(());
        }
        if was_idle {
            sink.pending.clear();
            sink.at = 0;
        }
        sink.pending.extend_from_slice(rest);
        #[cfg(target_os = "linux")]
        if was_idle {
            let poller = self.poller()?;
            poller
                .modify(sink.stream.as_raw_fd(), id, true)
                .map_err(|_| ())?;
        }
        #[cfg(not(target_os = "linux"))]
        let _ = id;
        Ok(())
    }

    /// Wait up to `timeout_ms` (`-1`: no limit) for released sockets to close or to take
    /// their pending bytes: the ids whose connection closed (their sinks are removed), or
    /// `None` once [`SocketSinks::shut_down`] was called (or the watcher cannot run).
    pub fn wait(&self, timeout_ms: i32) -> Option<Vec<u64>> {
        #[cfg(target_os = "linux")]
        {
            let poller = self.poller().ok()?;
            let events = poller.wait(timeout_ms)?;
            let mut closed = Vec::new();
            let mut sinks = self.lock();
            for (id, ev) in events {
                let Some(sink) = sinks.get_mut(&id) else {
                    continue;
                };
                if !sink.owned {
                    continue;
                }
                let gone = ev.hangup
                    || (ev.writable
                        && match sink.flush() {
                            Ok(true) => poller.modify(sink.stream.as_raw_fd(), id, false).is_err(),
                            Ok(false) => false,
                            Err(()) => true,
                        });
                if gone {
                    sinks.remove(&id);
                    closed.push(id);
                }
            }
            Some(closed)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = timeout_ms;
            None
        }
    }

    /// Wake [`SocketSinks::wait`] for good (it returns `None` from then on) and stop the
    /// writer threads (later fan-outs stay on the calling thread).
    pub fn shut_down(&self) {
        if let Some(p) = self.pool.get() {
            p.stop();
        }
        #[cfg(target_os = "linux")]
        if let Ok(p) = self.poller() {
            p.shut_down();
        }
    }
}

/// The epoll set of released sockets (edge-triggered: the peer's close once; writable once
/// per blocked write) and an eventfd that stops the watcher.
#[cfg(target_os = "linux")]
mod poll {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    const WAKE: u64 = u64::MAX;

    #[derive(Debug)]
    pub(super) struct Poller {
        ep: OwnedFd,
        wake: OwnedFd,
    }

    pub(super) struct Ready {
        pub hangup: bool,
        pub writable: bool,
    }

    fn cvt(r: libc::c_int) -> std::io::Result<libc::c_int> {
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }

    impl Poller {
        pub(super) fn new() -> std::io::Result<Self> {
            // SAFETY: plain syscalls; each descriptor returned is owned from here on.
            let ep =
                unsafe { OwnedFd::from_raw_fd(cvt(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
            // SAFETY: as above.
            let wake = unsafe {
                OwnedFd::from_raw_fd(cvt(libc::eventfd(
                    0,
                    libc::EFD_CLOEXEC | libc::EFD_NONBLOCK,
                ))?)
            };
            let p = Self { ep, wake };
            p.ctl(
                libc::EPOLL_CTL_ADD,
                p.wake.as_raw_fd(),
                WAKE,
                libc::EPOLLIN as u32,
            )?;
            Ok(p)
        }

        fn ctl(&self, op: libc::c_int, fd: RawFd, id: u64, events: u32) -> std::io::Result<()> {
            let mut ev = libc::epoll_event { events, u64: id };
            // SAFETY: ep and fd are open descriptors; ev outlives the call.
            cvt(unsafe { libc::epoll_ctl(self.ep.as_raw_fd(), op, fd, &mut ev) }).map(|_| ())
        }

        fn interest(writable: bool) -> u32 {
            let base = libc::EPOLLRDHUP | libc::EPOLLET;
            (if writable {
                base | libc::EPOLLOUT
            } else {
                base
            }) as u32
        }

        pub(super) fn add(&self, fd: RawFd, id: u64) -> std::io::Result<()> {
            self.ctl(libc::EPOLL_CTL_ADD, fd, id, Self::interest(false))
        }

        pub(super) fn modify(&self, fd: RawFd, id: u64, writable: bool) -> std::io::Result<()> {
            self.ctl(libc::EPOLL_CTL_MOD, fd, id, Self::interest(writable))
        }

        pub(super) fn shut_down(&self) {
            let one: u64 = 1;
            // SAFETY: wake is an open eventfd; 8 bytes are written from a live u64.
            let _ = unsafe {
                libc::write(
                    self.wake.as_raw_fd(),
                    (&one as *const u64).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
        }

        /// The ready sockets, or `None` once shut down (or on an epoll failure).
        pub(super) fn wait(&self, timeout_ms: i32) -> Option<Vec<(u64, Ready)>> {
            let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 256];
            let n = loop {
                // SAFETY: evs is a live buffer of evs.len() events.
                let n = unsafe {
                    libc::epoll_wait(
                        self.ep.as_raw_fd(),
                        evs.as_mut_ptr(),
                        evs.len() as libc::c_int,
                        timeout_ms,
                    )
                };
                if n >= 0 {
                    break n as usize;
                }
                if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                    return None;
                }
            };
            let mut out = Vec::with_capacity(n);
            for ev in &evs[..n] {
                let (events, id) = (ev.events, ev.u64);
                if id == WAKE {
                    return None;
                }
                let hang = (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;
                out.push((
                    id,
                    Ready {
                        hangup: events & hang != 0,
                        writable: events & libc::EPOLLOUT as u32 != 0,
                    },
                ));
            }
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn writes_chunks_and_hands_back_what_does_not_fit() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let sinks = SocketSinks::new();
        // SAFETY: server is open for the call.
        unsafe { sinks.attach(7, server.as_raw_fd(), true) }.unwrap();
        let out = sinks.write(vec![7, 8], "data: x\n\n");
        assert_eq!(out.host, [8]);
        assert!(out.partial.is_empty());
        let mut buf = [0u8; 64];
        let n = client.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"9\r\ndata: x\n\n\r\n");
        // The duplicate outlives the host's descriptor: the connection stays usable.
        drop(server);
        let out = sinks.write(vec![7], "a");
        assert!(out.host.is_empty() && out.partial.is_empty());
        let n = client.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"1\r\na\r\n");
        // A peer that reads nothing: the socket fills, the sink detaches and hands back.
        let big = "x".repeat(1 << 20);
        let mut handed = false;
        for _ in 0..64 {
            let out = sinks.write(vec![7], &big);
            if !out.host.is_empty() || !out.partial.is_empty() {
                if let Some((id, rest)) = out.partial.first() {
                    assert_eq!(*id, 7);
                    assert!(!rest.is_empty() && rest.ends_with(b"\r\n"));
                }
                handed = true;
                break;
            }
        }
        assert!(handed);
        assert!(sinks.is_empty());
        assert!(!sinks.detach(7));
        // Not a socket: refused.
        let f = std::fs::File::open("/dev/null").unwrap();
        // SAFETY: f is open for the call.
        assert!(unsafe { sinks.attach(1, f.as_raw_fd(), false) }.is_err());
    }

    #[test]
    fn a_large_fan_out_writes_every_sink_once_and_hands_back_the_rest_in_order() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let sinks = SocketSinks::new();
        let n = (PARALLEL_MIN * MAX_WRITERS + 7) as u64;
        let with_sink = [0, n / 3, n / 2, n - 1];
        let mut clients = Vec::new();
        for &id in &with_sink {
            clients.push(TcpStream::connect(l.local_addr().unwrap()).unwrap());
            let (server, _) = l.accept().unwrap();
            server.set_nonblocking(true).unwrap();
            // SAFETY: server is open for the call.
            unsafe { sinks.attach(id, server.as_raw_fd(), false) }.unwrap();
        }
        let out = sinks.write((0..n).collect(), "data: y\n\n");
        let expected: Vec<u64> = (0..n).filter(|i| !with_sink.contains(i)).collect();
        assert_eq!(out.host, expected);
        assert!(out.partial.is_empty() && out.closed.is_empty());
        let mut buf = [0u8; 64];
        for c in &mut clients {
            let k = c.read(&mut buf).unwrap();
            assert_eq!(&buf[..k], b"data: y\n\n");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_writer_pool_writes_each_socket_once_per_frame_in_order_and_stops_with_the_sinks() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let sinks = SocketSinks::with_max_pending(4 << 20);
        let n = 2 * PARALLEL_MIN as u64 + 100;
        let mut clients = Vec::new();
        for id in 0..n {
            clients.push(TcpStream::connect(addr).unwrap());
            let (server, _) = l.accept().unwrap();
            server.set_nonblocking(true).unwrap();
            // SAFETY: server is open for the call.
            unsafe { sinks.attach(id, server.as_raw_fd(), id.is_multiple_of(2)) }.unwrap();
            if id.is_multiple_of(3) {
                assert!(sinks.release(id));
            }
        }
        // A released subscriber that does not read: its frames queue behind what is pending.
        let stuck = 3;
        let big = "z".repeat(256 * 1024);
        while sinks.lock().get(&stuck).unwrap().pending.is_empty() {
            assert_eq!(sinks.write(vec![stuck], &big), SinkOutcome::default());
        }
        let pending = sinks.lock().get(&stuck).unwrap().pending.len();
        // Ids without a sink in between stay the host's, in order.
        let ids: Vec<u64> = (0..n + 50)
            .map(|i| if i.is_multiple_of(23) { n + 100 + i } else { i })
            .collect();
        let no_sink: Vec<u64> = ids.iter().copied().filter(|&i| i >= n).collect();
        let frames = ["data: one\n\n", "data: two\n\n", "data: three\n\n"];
        for f in frames {
            let out = sinks.write(ids.clone(), f);
            assert_eq!(out.host, no_sink);
            assert!(out.partial.is_empty() && out.closed.is_empty());
        }
        // (odd ids: raw frames)
        let queued: usize = frames.iter().map(|f| f.len()).sum();
        assert_eq!(
            sinks.lock().get(&stuck).unwrap().pending.len(),
            pending + queued
        );
        let written: std::collections::HashSet<u64> =
            ids.iter().copied().filter(|&i| i < n).collect();
        for (id, c) in clients.iter_mut().enumerate() {
            let id = id as u64;
            if id == stuck || !written.contains(&id) {
                continue;
            }
            let want: Vec<u8> = frames
                .iter()
                .flat_map(|f| {
                    if id.is_multiple_of(2) {
                        chunk(f)
                    } else {
                        f.as_bytes().to_vec()
                    }
                })
                .collect();
            let mut got = vec![0u8; want.len()];
            c.read_exact(&mut got).unwrap();
            assert_eq!(got, want, "subscriber {id}");
        }
        let pool = sinks.pool.get();
        if writers() > 1 {
            let pool = pool.expect("a fan-out this large starts the pool");
            assert_eq!(pool.threads.lock().unwrap().len(), writers() - 1);
            let shared = Arc::downgrade(&pool.shared);
            sinks.shut_down();
            assert!(pool.threads.lock().unwrap().is_empty());
            // Stopped: a later fan-out is written on the calling thread.
            let out = sinks.write(ids.clone(), "data: four\n\n");
            assert_eq!(out.host, no_sink);
            let mut got = vec![0u8; b"data: four\n\n".len()];
            clients[1].read_exact(&mut got).unwrap();
            assert_eq!(got, b"data: four\n\n");
            drop(sinks);
            // The writers' handles on the pool are gone: the threads ended.
            assert!(shared.upgrade().is_none());
        } else {
            assert!(pool.is_none());
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_released_sink_owns_close_detection_backpressure_and_the_end() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let sinks = SocketSinks::with_max_pending(4 << 20);
        let mut clients = Vec::new();
        for id in [1u64, 2, 3] {
            clients.push(TcpStream::connect(addr).unwrap());
            let (server, _) = l.accept().unwrap();
            server.set_nonblocking(true).unwrap();
            // SAFETY: server is open for the call.
            unsafe { sinks.attach(id, server.as_raw_fd(), true) }.unwrap();
            assert!(sinks.release(id));
            // The host closes its descriptor: the sink's is the connection's last.
            drop(server);
        }
        assert!(!sinks.release(9));
        assert_eq!(sinks.released(), 3);
        let out = sinks.write(vec![1, 2, 3], "data: x\n\n");
        assert_eq!(out, SinkOutcome::default());
        let mut buf = vec![0u8; 1 << 16];
        let n = clients[0].read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"9\r\ndata: x\n\n\r\n");
        // The peer closes: the watcher reports it and drops the sink.
        drop(clients.remove(2));
        let mut closed = Vec::new();
        for _ in 0..50 {
            closed.extend(sinks.wait(100).unwrap());
            if closed.contains(&3) {
                break;
            }
        }
        assert_eq!(closed, [3]);
        assert_eq!(sinks.len(), 2);
        // A peer that does not read: bytes wait in the sink, in order, and flow once it does.
        let big = "y".repeat(256 * 1024);
        let mut sent = 0usize;
        while sinks.lock().get(&2).unwrap().pending.is_empty() {
            assert_eq!(sinks.write(vec![2], &big), SinkOutcome::default());
            sent += 1;
        }
        assert_eq!(sinks.write(vec![2], "tail"), SinkOutcome::default());
        // (after the first frame, still unread)
        let expected = chunk("data: x\n\n").len() + chunk(&big).len() * sent + chunk("tail").len();
        let mut got = 0usize;
        let mut last = Vec::new();
        clients[1].set_nonblocking(true).unwrap();
        while got < expected {
            match clients[1].read(&mut buf) {
                Ok(n) => {
                    got += n;
                    last.extend_from_slice(&buf[..n]);
                    let keep = last.len().saturating_sub(16);
                    last.drain(..keep);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    assert_eq!(sinks.wait(100), Some(vec![]));
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, expected);
        assert!(last.ends_with(b"4\r\ntail\r\n"));
        // Past max_pending the subscriber is closed and reported.
        let mut out = SinkOutcome::default();
        for _ in 0..64 {
            out = sinks.write(vec![2], &big);
            if !out.closed.is_empty() {
                break;
            }
        }
        assert_eq!(out.closed, [2]);
        assert!(out.host.is_empty() && out.partial.is_empty());
        // The end: the last chunk, then the connection closes.
        assert!(sinks.end(1));
        assert!(!sinks.end(1));
        clients[0].set_nonblocking(false).unwrap();
        let mut rest = Vec::new();
        clients[0].read_to_end(&mut rest).unwrap();
        assert_eq!(rest, LAST_CHUNK);
        assert!(sinks.is_empty());
        sinks.shut_down();
        assert_eq!(sinks.wait(-1), None);
    }
}
