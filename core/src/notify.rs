//! The wake-up of a waiting reader (the event hub's pull subscribers, the in-memory SSE
//! stream): tokio's `Notify`, or, built without the `tokio` feature, a no-op with the same
//! calls. Without tokio there is no awaiting read (`EventHub::next`,
//! `MemorySseStream::next_chunk`): readers poll (`try_next`, `take_body`) instead.

#[cfg(feature = "tokio")]
pub(crate) use tokio::sync::Notify;

/// Nothing can wait without a runtime, so there is nobody to wake.
#[cfg(not(feature = "tokio"))]
#[derive(Debug, Default)]
pub(crate) struct Notify;

#[cfg(not(feature = "tokio"))]
impl Notify {
    pub(crate) fn new() -> Self {
        Self
    }

    pub(crate) fn notify_one(&self) {}
}
