//! `create_sse_auth_guard` (spec §3.2): which audit rows close which streams.
//!
//! The decision is a pure function ([`guard_decision`], [`GuardOptions::decide`]) over
//! either a typed [`AuditLogEvent`] or the host's own event value
//! ([`GuardOptions::decide_js`], JavaScript semantics for missing and mistyped fields);
//! [`SseAuthGuard`] applies it to a registry and logs. Decision order (exact):
//!
//! 1. the type is not in [`DISCONNECT_EVENT_TYPES`] → nothing;
//! 2. `outcome === 'failure'` → nothing (any other outcome counts as success);
//! 3. `session_revoke`: `metadata?.session_id` must be a non-empty string; close that
//!    identity; log `SSE auth guard: closed ${n} stream(s) for session ${sid}
//!    (session_revoke)` when `n > 0`; the account fields are never read;
//! 4. `role_grant_revoke`: nothing when the guard has no role, or when
//!    `metadata?.role !== required_role` (strict, case-sensitive; `scope_id` ignored);
//! 5. `target = target_account_id ?? account_id`; nothing when it is `null` or `""`;
//! 6. close `target`; log `SSE auth guard: closed ${n} stream(s) for account ${target}
//!    (${event_type})` when `n > 0`. Nothing is logged otherwise.
//!
//! §6.4 (fixed): for `role_grant_revoke` step 5 does **not** fall back to `account_id`
//! (the revoker); a row without a target closes nothing. Every emitter sets the target,
//! so no client sees a difference; it removes the latent "revoker's own streams close".
//!
//! Opt-ins, off by default (parity): [`GuardOptions::close_on_account_removal`] adds
//! [`ACCOUNT_REMOVAL_EVENT_TYPES`] as account-wide closes (§6.1);
//! [`GuardOptions::namespaced_identities`] closes sessions by scope only and accounts by
//! group only (§6.5).

use std::borrow::Cow;
use std::sync::Arc;

use super::{
    AuditLogEvent, JsValue, Logger, SseStreamControl, SubscriberRegistry, js_get, js_str_eq,
    js_str_text,
};

/// `disconnect_event_types`: the six audit event types that can close SSE streams.
pub const DISCONNECT_EVENT_TYPES: [&str; 6] = [
    "role_grant_revoke",
    "session_revoke",
    "session_revoke_all",
    "token_revoke_all",
    "password_change",
    "logout",
];

/// Event types [`GuardOptions::close_on_account_removal`] adds (account-wide closes).
pub const ACCOUNT_REMOVAL_EVENT_TYPES: [&str; 2] = ["account_delete", "account_purge"];

/// Which identity a decision closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    /// A session hash (`session_revoke`'s `metadata.session_id`), subscribed as `scope`.
    Session,
    /// An account id, subscribed in `groups`.
    Account,
}

/// What the guard closes for one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardTarget<'a> {
    /// Whether `identity` is a session (a scope) or an account (a group).
    pub kind: IdentityKind,
    /// The session hash or account id whose streams close.
    pub identity: Cow<'a, str>,
    /// The row's type (one of the guarded types).
    pub event_type: &'static str,
}

/// The guard's configuration: `required_role` of `create_sse_auth_guard`, plus the
/// opt-in fixes (both `false` = the original's behaviour).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardOptions {
    /// The role the stream requires (`null` in the original = `None`: role revocations
    /// close nothing).
    pub required_role: Option<String>,
    /// §6.1: `account_delete` / `account_purge` (success) close the account's streams
    /// (`target_account_id ?? account_id`).
    pub close_on_account_removal: bool,
    /// §6.5: a session id closes only records with that scope, an account id only
    /// records with that group, instead of the shared namespace of `close_by_identity`.
    pub namespaced_identities: bool,
}

impl GuardOptions {
    /// The original's guard for `required_role`.
    pub fn new(required_role: Option<String>) -> Self {
        Self {
            required_role,
            ..Self::default()
        }
    }

    /// The decision for a typed row.
    pub fn decide<'a>(&self, event: &'a AuditLogEvent) -> Option<GuardTarget<'a>> {
        let nullable = |v: &'a Option<String>| match v {
            None => Field::Nullish,
            Some(s) => Field::Str(Cow::Borrowed(s.as_str())),
        };
        self.decide_view(EventView {
            event_type: Some(Cow::Borrowed(event.event_type.as_str())),
            failure: event.outcome == "failure",
            account_id: nullable(&event.account_id),
            target_account_id: nullable(&event.target_account_id),
            metadata: Some(&event.metadata),
        })
    }

    /// The decision for the host's event value, read as JavaScript reads it: a missing,
    /// `undefined` or `null` field is nullish (so `??` falls through), a non-string
    /// target never matches a stream, `metadata?.x` of a non-object is `undefined`.
    pub fn decide_js<'a>(&self, event: &'a JsValue) -> Option<GuardTarget<'a>> {
        let field = |key: &str| match js_get(event, key) {
            None | Some(JsValue::Null | JsValue::Undefined) => Field::Nullish,
            Some(JsValue::String(s)) => js_str_text(s).map_or(Field::Unmatchable, Field::Str),
            Some(_) => Field::Unmatchable,
        };
        let event_type = match js_get(event, "event_type") {
            Some(JsValue::String(s)) => js_str_text(s),
            _ => None,
        };
        let failure =
            matches!(js_get(event, "outcome"), Some(JsValue::String(s)) if js_str_eq(s, "failure"));
        self.decide_view(EventView {
            event_type,
            failure,
            account_id: field("account_id"),
            target_account_id: field("target_account_id"),
            metadata: js_get(event, "metadata"),
        })
    }

    fn guarded_type(&self, event_type: &str) -> Option<&'static str> {
        let extra: &[&'static str] = if self.close_on_account_removal {
            &ACCOUNT_REMOVAL_EVENT_TYPES
        } else {
            &[]
        };
        DISCONNECT_EVENT_TYPES
            .iter()
            .chain(extra)
            .find(|t| **t == event_type)
            .copied()
    }

    fn decide_view<'a>(&self, view: EventView<'a>) -> Option<GuardTarget<'a>> {
        // 1. Only the guarded types.
        let event_type = self.guarded_type(view.event_type.as_deref()?)?;
        // 2. Only successful rows: a failure row carries attacker-chosen identifiers.
        if view.failure {
            return None;
        }
        // 3. One session: metadata?.session_id, a non-empty string.
        if event_type == "session_revoke" {
            let sid = match view.metadata.and_then(|m| js_get(m, "session_id")) {
                // A lone surrogate cannot equal any registry identity: nothing to close.
                Some(JsValue::String(s)) => js_str_text(s)?,
                _ => return None,
            };
            if sid.is_empty() {
                return None;
            }
            return Some(GuardTarget {
                kind: IdentityKind::Session,
                identity: sid,
                event_type,
            });
        }
        // 4. A role revocation matters only for the stream's role.
        let target = if event_type == "role_grant_revoke" {
            let role = self.required_role.as_deref()?;
            match view.metadata.and_then(|m| js_get(m, "role")) {
                Some(JsValue::String(s)) if js_str_eq(s, role) => {}
                _ => return None,
            }
            // §6.4 fix: the grantee only, never the revoker.
            view.target_account_id
        } else {
            // 5. Admin actions set target_account_id; self-service ones only account_id.
            match view.target_account_id {
                Field::Nullish => view.account_id,
                other => other,
            }
        };
        match target {
            Field::Str(id) if !id.is_empty() => Some(GuardTarget {
                kind: IdentityKind::Account,
                identity: id,
                event_type,
            }),
            _ => None,
        }
    }
}

/// A field as `??` and a truthiness test see it.
enum Field<'a> {
    /// `null` / `undefined` / missing.
    Nullish,
    Str(Cow<'a, str>),
    /// Present but no string any stream could have (a number, an object, a lone
    /// surrogate): truthy or falsy, it closes nothing.
    Unmatchable,
}

struct EventView<'a> {
    event_type: Option<Cow<'a, str>>,
    failure: bool,
    account_id: Field<'a>,
    target_account_id: Field<'a>,
    metadata: Option<&'a JsValue>,
}

/// The original's decision (`create_sse_auth_guard(registry, required_role, log)`'s),
/// without streams: what `event` closes, or `None`.
pub fn guard_decision<'a>(
    event: &'a AuditLogEvent,
    required_role: Option<&str>,
) -> Option<GuardTarget<'a>> {
    GuardOptions::new(required_role.map(str::to_owned)).decide(event)
}

/// The guard: applies the decision to a registry and logs at info level.
pub struct SseAuthGuard<S: ?Sized> {
    registry: SubscriberRegistry<S>,
    options: GuardOptions,
    log: Arc<dyn Logger>,
}

impl<S: ?Sized> std::fmt::Debug for SseAuthGuard<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseAuthGuard")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// `create_sse_auth_guard(registry, required_role, log)`.
pub fn create_sse_auth_guard<S: ?Sized + SseStreamControl + 'static>(
    registry: SubscriberRegistry<S>,
    required_role: Option<String>,
    log: Arc<dyn Logger>,
) -> SseAuthGuard<S> {
    SseAuthGuard::new(registry, GuardOptions::new(required_role), log)
}

impl<S: ?Sized + SseStreamControl + 'static> SseAuthGuard<S> {
    /// A guard closing streams of `registry` with `options`.
    pub fn new(
        registry: SubscriberRegistry<S>,
        options: GuardOptions,
        log: Arc<dyn Logger>,
    ) -> Self {
        Self {
            registry,
            options,
            log,
        }
    }

    /// The configuration.
    pub fn options(&self) -> &GuardOptions {
        &self.options
    }

    /// `guard(event)` for a typed row. Returns the number of streams closed.
    pub fn handle(&self, event: &AuditLogEvent) -> usize {
        self.apply(self.options.decide(event))
    }

    /// `guard(event)` for the host's event value.
    pub fn handle_js(&self, event: &JsValue) -> usize {
        self.apply(self.options.decide_js(event))
    }

    fn apply(&self, target: Option<GuardTarget<'_>>) -> usize {
        let Some(t) = target else { return 0 };
        let id = t.identity.as_ref();
        let n = match (t.kind, self.options.namespaced_identities) {
            (IdentityKind::Session, true) => self.registry.close_by_scope(id),
            (IdentityKind::Account, true) => self.registry.close_by_group(id),
            (_, false) => self.registry.close_by_identity(id),
        };
        if n > 0 {
            let line = match t.kind {
                IdentityKind::Session => {
                    format!(
                        "SSE auth guard: closed {n} stream(s) for session {id} (session_revoke)"
                    )
                }
                IdentityKind::Account => format!(
                    "SSE auth guard: closed {n} stream(s) for account {id} ({})",
                    t.event_type
                ),
            };
            self.log.info(&line);
        }
        n
    }
}
