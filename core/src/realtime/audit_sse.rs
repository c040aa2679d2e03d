//! `create_audit_log_sse` (spec §3.3): the registry, the guard and the broadcast, wired.
//!
//! `on_audit_event(e)` first broadcasts `{method: e.event_type, params: e}` on
//! `audit_log` to every subscriber (no filter by type or outcome: failures included),
//! then runs the guard. Because of this order a subscriber about to be closed still
//! receives the row that revokes it. §6.6 (fixed): a failing `send` neither stops the
//! broadcast nor skips the guard.

use std::sync::Arc;

use super::{
    AUDIT_LOG_CHANNEL, AuditLogEvent, BroadcastReport, GuardOptions, JsValue, Logger,
    RealtimeError, SseAuthGuard, SseNotification, SseStream, SseStreamControl, SubscribeOptions,
    SubscriberRegistry, Subscription, js_get, js_str_text,
};

/// `AUDIT_LOG_SSE_MAX_PER_SCOPE`: the default cap of streams per session.
pub const AUDIT_LOG_SSE_MAX_PER_SCOPE: i64 = 10;
/// `DEFAULT_AUDIT_STREAM_ROLE`.
pub const DEFAULT_AUDIT_STREAM_ROLE: &str = "admin";

/// Options of `create_audit_log_sse`. `Default` is the original with every option left
/// `undefined`: role `admin`, cap 10, no opt-in fixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLogSseOptions {
    /// The role the stream requires; `None` is the original's `role: null` (role
    /// revocations then close nothing).
    pub role: Option<String>,
    /// Streams per scope; `None` is `max_per_scope: null` (no cap).
    pub max_per_scope: Option<i64>,
    /// See [`GuardOptions::close_on_account_removal`].
    pub close_on_account_removal: bool,
    /// See [`GuardOptions::namespaced_identities`].
    pub namespaced_identities: bool,
}

impl Default for AuditLogSseOptions {
    fn default() -> Self {
        Self {
            role: Some(DEFAULT_AUDIT_STREAM_ROLE.to_owned()),
            max_per_scope: Some(AUDIT_LOG_SSE_MAX_PER_SCOPE),
            close_on_account_removal: false,
            namespaced_identities: false,
        }
    }
}

/// An audit event as a host holds it (a JS object, a Python mapping, the core's own
/// value), for [`AuditLogSse::dispatch`]: the binding only converts, the core decides.
pub trait HostAuditEvent {
    /// What the host's streams receive: `{method: e.event_type, params: e}`.
    type Notification;
    /// The fields the guard reads (`event_type`, `outcome`, `account_id`,
    /// `target_account_id`, `metadata?.session_id`, `metadata?.role`) in the core's value
    /// model, read as JavaScript reads them.
    fn view(&self) -> Result<JsValue, RealtimeError>;
    /// `{method, params: e}` with `e` itself as `params`; `method` is the event's
    /// `event_type`, already checked to be a string.
    fn notification(&self, method: &str) -> Result<Self::Notification, RealtimeError>;
}

impl HostAuditEvent for JsValue {
    type Notification = SseNotification;
    fn view(&self) -> Result<JsValue, RealtimeError> {
        Ok(self.clone())
    }
    fn notification(&self, method: &str) -> Result<SseNotification, RealtimeError> {
        Ok(SseNotification::new(method.to_owned(), self.clone()))
    }
}

/// What `on_audit_event` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditDispatch {
    /// What the broadcast of the row reached.
    pub broadcast: BroadcastReport,
    /// Streams the guard closed.
    pub closed: usize,
}

/// `AuditLogSse`: `{subscribe, log, on_audit_event, registry}`.
pub struct AuditLogSse<S: ?Sized> {
    registry: SubscriberRegistry<S>,
    guard: SseAuthGuard<S>,
    log: Arc<dyn Logger>,
}

impl<S: ?Sized> std::fmt::Debug for AuditLogSse<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLogSse")
            .field("registry", &self.registry)
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

/// `create_audit_log_sse({role, log, max_per_scope})`: the registry (with the cap, and
/// `log` for isolated stream failures), then the guard on it.
pub fn create_audit_log_sse<S: ?Sized + SseStreamControl + 'static>(
    options: AuditLogSseOptions,
    log: Arc<dyn Logger>,
) -> AuditLogSse<S> {
    let registry = SubscriberRegistry::new_with_logger(options.max_per_scope, Arc::clone(&log));
    let guard = SseAuthGuard::new(
        registry.clone(),
        GuardOptions {
            required_role: options.role,
            close_on_account_removal: options.close_on_account_removal,
            namespaced_identities: options.namespaced_identities,
        },
        Arc::clone(&log),
    );
    AuditLogSse {
        registry,
        guard,
        log,
    }
}

impl<S: ?Sized + SseStreamControl + 'static> AuditLogSse<S> {
    /// `subscribe` (the registry's).
    pub fn subscribe(&self, stream: Arc<S>, options: SubscribeOptions) -> Subscription {
        self.registry.subscribe(stream, options)
    }

    /// The registry (for counts and direct closes).
    pub fn registry(&self) -> &SubscriberRegistry<S> {
        &self.registry
    }

    /// The auth guard.
    pub fn guard(&self) -> &SseAuthGuard<S> {
        &self.guard
    }

    /// The logger.
    pub fn log(&self) -> &Arc<dyn Logger> {
        &self.log
    }

    /// `on_audit_event(e)` for a typed row: broadcast, then guard.
    pub fn on_audit_event(&self, event: &AuditLogEvent) -> AuditDispatch
    where
        S: SseStream<SseNotification>,
    {
        let notification = SseNotification::new(event.event_type.clone(), event.to_js_value());
        let broadcast = self.registry.broadcast(AUDIT_LOG_CHANNEL, &notification);
        let closed = self.guard.handle(event);
        AuditDispatch { broadcast, closed }
    }

    /// `on_audit_event(e)` for the host's own event value: `params` is that value as is
    /// (its own key order and any extra keys), the guard reads it with JavaScript
    /// semantics ([`AuditLogSse::dispatch`] over the core's value model).
    pub fn on_audit_event_js(&self, event: &JsValue) -> Result<AuditDispatch, RealtimeError>
    where
        S: SseStream<SseNotification>,
    {
        self.dispatch(event)
    }

    /// `on_audit_event(e)` for any host's event value, the one dispatch every binding
    /// runs: read the guard's view of the event; `event_type` must be a string (it
    /// becomes `method`), otherwise `REALTIME_INVALID_EVENT` and nothing is broadcast or
    /// closed; broadcast the host's `{method, params: e}` on `audit_log` to every
    /// subscriber; then run the guard on the view.
    pub fn dispatch<E: HostAuditEvent + ?Sized>(
        &self,
        event: &E,
    ) -> Result<AuditDispatch, RealtimeError>
    where
        S: SseStream<E::Notification>,
    {
        let view = event.view()?;
        let method = match js_get(&view, "event_type") {
            Some(JsValue::String(s)) => js_str_text(s),
            _ => None,
        }
        .ok_or_else(|| RealtimeError::InvalidEvent("event_type: expected a string".into()))?;
        let notification = event.notification(&method)?;
        let broadcast = self.registry.broadcast(AUDIT_LOG_CHANNEL, &notification);
        let closed = self.guard.handle_js(&view);
        Ok(AuditDispatch { broadcast, closed })
    }
}
