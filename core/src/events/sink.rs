//! Direct socket writes for push subscribers (Unix): the fan-out's write path without one
//! host-language call per subscriber.
//!
//! A host whose subscriber is a plain TCP HTTP/1.1 response (Node's `ServerResponse` on a
//! `net.Socket`, nothing buffered) hands its socket descriptor over with
//! [`SocketSinks::attach`]; the sink keeps a duplicate of it (so a closed and reused
//! descriptor number can never receive another connection's frames) and writes each frame
//! to it, framed as an HTTP/1.1 chunk when the response is chunked (the bytes the host
//! would have written). The host keeps every decision it made before: it still ends the
//! response, and its own `'close'` handling detaches the sink.
//!
//! A write that does not go through in full detaches the subscriber: with nothing written
//! it is handed back to the host (`host`, which writes the frame its usual way and applies
//! its backpressure); with part of it written, the rest comes back (`partial`) for the host
//! to write to the socket as raw bytes first. From then on the host writes that subscriber's
//! frames, in order after what the sink wrote.

use std::collections::HashMap;
use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::{Mutex, PoisonError};

#[derive(Debug)]
struct Sink {
    stream: TcpStream,
    chunked: bool,
}

/// What the sinks left to the host after a write.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SinkOutcome {
    /// Subscribers the host writes the frame to (no sink, or a sink that took nothing).
    pub host: Vec<u64>,
    /// Subscribers whose sink wrote part of the bytes: the rest, for the host to write raw.
    pub partial: Vec<(u64, Vec<u8>)>,
}

/// Socket sinks by subscriber id.
#[derive(Debug, Default)]
pub struct SocketSinks {
    inner: Mutex<HashMap<u64, Sink>>,
}

/// `<hex length>\r\n<frame>\r\n`: the frame as one HTTP/1.1 chunk.
pub fn chunk(frame: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + 12);
    out.extend_from_slice(format!("{:x}\r\n", frame.len()).as_bytes());
    out.extend_from_slice(frame.as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

impl SocketSinks {
    /// No sinks.
    pub fn new() -> Self {
        Self::default()
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
        self.lock().insert(id, Sink { stream, chunked });
        Ok(())
    }

    /// Stop writing to subscriber `id`'s socket (closes the duplicate). Idempotent.
    pub fn detach(&self, id: u64) -> bool {
        self.lock().remove(&id).is_some()
    }

    /// Sinks held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no sink is held.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Write `frame` to each of `ids` that has a sink; the others, and the sinks that could
    /// not take it all, are left to the host.
    pub fn write(&self, ids: Vec<u64>, frame: &str) -> SinkOutcome {
        let mut out = SinkOutcome::default();
        let mut sinks = self.lock();
        if sinks.is_empty() {
            out.host = ids;
            return out;
        }
        let chunked = chunk(frame);
        for id in ids {
            let Some(sink) = sinks.get(&id) else {
                out.host.push(id);
                continue;
            };
            let bytes: &[u8] = if sink.chunked {
                &chunked
            } else {
                frame.as_bytes()
            };
            let mut written = 0;
            let result = loop {
                match (&sink.stream).write(&bytes[written..]) {
                    Ok(0) => break Err(()),
                    Ok(n) => {
                        written += n;
                        if written == bytes.len() {
                            break Ok(());
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break Err(()),
                }
            };
            if result.is_err() {
                sinks.remove(&id);
                if written == 0 {
                    out.host.push(id);
                } else {
                    out.partial.push((id, bytes[written..].to_vec()));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;
    use std::os::fd::AsRawFd;

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
}
