//! `create_validated_broadcaster` (spec §3.7) and the broadcaster seam it wraps.
//!
//! Outside development it is a passthrough. In development it warns
//! `Unknown event method: '<m>'` for a method without a spec and
//! `Params mismatch for '<m>': <issues>` when the spec's params check fails, and **always**
//! forwards the event. `create_audit_log_sse` does not use it.

use std::collections::HashMap;
use std::sync::Arc;

use super::{BroadcastReport, EventSpec, Logger, SseNotification, SseStream, SubscriberRegistry};

/// Anything with `broadcast(channel, data)` (the original's duck type).
pub trait Broadcaster<T: ?Sized> {
    /// Sends `data` to the subscribers of `channel`.
    fn broadcast(&self, channel: &str, data: &T) -> BroadcastReport;
}

impl<S: ?Sized + SseStream<T> + 'static, T: ?Sized> Broadcaster<T> for SubscriberRegistry<S> {
    fn broadcast(&self, channel: &str, data: &T) -> BroadcastReport {
        SubscriberRegistry::broadcast(self, channel, data)
    }
}

impl<T: ?Sized, F: Fn(&str, &T) -> BroadcastReport> Broadcaster<T> for F {
    fn broadcast(&self, channel: &str, data: &T) -> BroadcastReport {
        self(channel, data)
    }
}

/// The broadcaster `create_validated_broadcaster` returns.
pub struct ValidatedBroadcaster<B> {
    inner: B,
    /// `None` outside development: a passthrough.
    specs: Option<HashMap<String, EventSpec>>,
    log: Arc<dyn Logger>,
}

impl<B> std::fmt::Debug for ValidatedBroadcaster<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatedBroadcaster")
            .field("validating", &self.specs.is_some())
            .finish_non_exhaustive()
    }
}

/// `create_validated_broadcaster(broadcaster, event_specs, log)`; `dev` is the original's
/// `DEV` flag. A later spec with the same method replaces an earlier one (`new Map`).
pub fn create_validated_broadcaster<B>(
    inner: B,
    event_specs: &[EventSpec],
    log: Arc<dyn Logger>,
    dev: bool,
) -> ValidatedBroadcaster<B> {
    let specs = dev.then(|| {
        event_specs
            .iter()
            .map(|s| (s.method.clone(), s.clone()))
            .collect()
    });
    ValidatedBroadcaster { inner, specs, log }
}

impl<B> ValidatedBroadcaster<B> {
    /// The wrapped broadcaster.
    pub fn inner(&self) -> &B {
        &self.inner
    }
}

impl<B: Broadcaster<SseNotification>> Broadcaster<SseNotification> for ValidatedBroadcaster<B> {
    fn broadcast(&self, channel: &str, data: &SseNotification) -> BroadcastReport {
        if let Some(specs) = &self.specs {
            let method = &data.method;
            match specs.get(method) {
                None => self.log.warn(&format!("Unknown event method: '{method}'")),
                Some(spec) => {
                    if let Some(Err(issues)) = spec.params.as_ref().map(|check| check(&data.params))
                    {
                        self.log
                            .warn(&format!("Params mismatch for '{method}': {issues}"));
                    }
                }
            }
        }
        self.inner.broadcast(channel, data)
    }
}
