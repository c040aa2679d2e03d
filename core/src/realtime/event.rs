//! The audit log row and its event specs (spec §2: `AuditLogEvent`, `AUDIT_EVENT_TYPES`,
//! `audit_log_event_specs`).
//!
//! [`AuditLogEvent`] is one `audit_log` row (`RETURNING *`); it serialises with the keys
//! in column order: `id, seq, event_type, outcome, actor_id, account_id,
//! target_account_id, target_actor_id, ip, created_at, metadata`. A binding that holds
//! the host's own event object passes that object instead
//! ([`AuditLogSse::on_audit_event_js`](super::AuditLogSse::on_audit_event_js)), so its
//! bytes are exactly the host's `JSON.stringify`.

use std::sync::Arc;

use super::{JsString, JsValue, RealtimeError, js_get, js_str_text};

/// `AUDIT_LOG_CHANNEL`: the channel every audit row is broadcast on.
pub const AUDIT_LOG_CHANNEL: &str = "audit_log";

/// `AUDIT_EVENT_TYPES`: the 27 builtin event types, in the original's order.
pub const AUDIT_EVENT_TYPES: [&str; 27] = [
    "login",
    "logout",
    "bootstrap",
    "signup",
    "password_change",
    "session_revoke",
    "session_revoke_all",
    "token_create",
    "token_revoke",
    "token_revoke_all",
    "role_grant_create",
    "role_grant_revoke",
    "role_grant_offer_create",
    "role_grant_offer_accept",
    "role_grant_offer_decline",
    "role_grant_offer_retract",
    "role_grant_offer_expire",
    "role_grant_offer_supersede",
    "invite_create",
    "invite_delete",
    "account_delete",
    "account_purge",
    "account_undelete",
    "actor_delete",
    "actor_purge",
    "actor_undelete",
    "app_settings_update",
];

/// The column names of an audit row, in order (the wire key order).
pub const AUDIT_LOG_EVENT_KEYS: [&str; 11] = [
    "id",
    "seq",
    "event_type",
    "outcome",
    "actor_id",
    "account_id",
    "target_account_id",
    "target_actor_id",
    "ip",
    "created_at",
    "metadata",
];

/// One audit log row (`AuditLogEvent`, §2).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditLogEvent {
    /// uuid.
    pub id: String,
    /// BIGSERIAL; on the wire a JSON number, as JavaScript holds it (so values above
    /// 2^53 print as the nearest double, like `JSON.stringify`).
    pub seq: i64,
    /// `^[A-Za-z][A-Za-z0-9_./-]*$`; builtin values in [`AUDIT_EVENT_TYPES`].
    pub event_type: String,
    /// `"success"` or `"failure"`. The guard skips only the exact string `"failure"`.
    pub outcome: String,
    /// The acting account's actor.
    pub actor_id: Option<String>,
    /// The acting account.
    pub account_id: Option<String>,
    /// The account acted upon.
    pub target_account_id: Option<String>,
    /// The actor acted upon.
    pub target_actor_id: Option<String>,
    /// The client's IP.
    pub ip: Option<String>,
    /// ISO 8601 timestamp text.
    pub created_at: String,
    /// `Record<string, unknown> | null`: a [`JsValue::Object`] or [`JsValue::Null`].
    pub metadata: JsValue,
}

fn js_text(s: &str) -> JsValue {
    JsValue::String(JsString::from(s))
}

fn js_opt(s: &Option<String>) -> JsValue {
    s.as_deref().map_or(JsValue::Null, js_text)
}

impl AuditLogEvent {
    /// The row as a plain object, keys in column order.
    pub fn to_js_value(&self) -> JsValue {
        let values = [
            js_text(&self.id),
            // i64 -> f64 is JavaScript's Number(seq): exact up to 2^53, nearest above.
            JsValue::Number(self.seq as f64),
            js_text(&self.event_type),
            js_text(&self.outcome),
            js_opt(&self.actor_id),
            js_opt(&self.account_id),
            js_opt(&self.target_account_id),
            js_opt(&self.target_actor_id),
            js_opt(&self.ip),
            js_text(&self.created_at),
            self.metadata.clone(),
        ];
        JsValue::Object(
            AUDIT_LOG_EVENT_KEYS
                .iter()
                .map(|k| JsString::from(*k))
                .zip(values)
                .collect(),
        )
    }

    /// Read a row from the value a binding converted, checking the `AuditLogEventJson`
    /// shape (a strict object): exactly the 11 keys; strings where strings go; `seq` an
    /// integer; `event_type` matching its pattern; `outcome` `success` or `failure`;
    /// `metadata` an object or null. uuid and datetime formats are not checked.
    pub fn from_js_value(value: &JsValue) -> Result<Self, RealtimeError> {
        let issues = audit_log_event_issues(value);
        if !issues.is_empty() {
            return Err(RealtimeError::InvalidEvent(issues.join("; ")));
        }
        let text = |key: &str| -> String {
            match js_get(value, key) {
                Some(JsValue::String(s)) => js_str_text(s).map(|c| c.into_owned()),
                _ => None,
            }
            .unwrap_or_default()
        };
        let opt = |key: &str| -> Option<String> {
            match js_get(value, key) {
                Some(JsValue::String(s)) => js_str_text(s).map(|c| c.into_owned()),
                _ => None,
            }
        };
        let seq = match js_get(value, "seq") {
            Some(JsValue::Number(n)) => *n as i64,
            _ => 0,
        };
        Ok(Self {
            id: text("id"),
            seq,
            event_type: text("event_type"),
            outcome: text("outcome"),
            actor_id: opt("actor_id"),
            account_id: opt("account_id"),
            target_account_id: opt("target_account_id"),
            target_actor_id: opt("target_actor_id"),
            ip: opt("ip"),
            created_at: text("created_at"),
            metadata: js_get(value, "metadata").cloned().unwrap_or(JsValue::Null),
        })
    }

    /// [`from_js_value`](Self::from_js_value) of JSON text.
    pub fn from_json(text: &str) -> Result<Self, RealtimeError> {
        Self::from_js_value(&super::parse_json(text)?)
    }
}

/// Whether `s` matches `^[A-Za-z][A-Za-z0-9_./-]*$`.
pub fn is_valid_event_type(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
}

/// The ways `value` is not an `AuditLogEventJson` (empty when it is one).
pub fn audit_log_event_issues(value: &JsValue) -> Vec<String> {
    let entries = match value {
        JsValue::Object(e) | JsValue::Unsorted(e) => e,
        _ => return vec!["expected an object".into()],
    };
    let mut issues = Vec::new();
    for (key, _) in entries {
        let known = js_str_text(key).is_some_and(|k| AUDIT_LOG_EVENT_KEYS.contains(&&*k));
        if !known {
            issues.push(format!(
                "unrecognized key {:?}",
                key.to_string_lossy().as_ref()
            ));
        }
    }
    let string = |key: &str| match js_get(value, key) {
        Some(JsValue::String(s)) => js_str_text(s).map(|c| c.into_owned()),
        _ => None,
    };
    for key in ["id", "created_at"] {
        if string(key).is_none() {
            issues.push(format!("{key}: expected a string"));
        }
    }
    match string("event_type") {
        Some(t) if is_valid_event_type(&t) => {}
        Some(_) => issues.push("event_type: invalid format".into()),
        None => issues.push("event_type: expected a string".into()),
    }
    match string("outcome").as_deref() {
        Some("success" | "failure") => {}
        _ => issues.push("outcome: expected 'success' | 'failure'".into()),
    }
    match js_get(value, "seq") {
        Some(JsValue::Number(n)) if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 => {}
        _ => issues.push("seq: expected an integer".into()),
    }
    for key in [
        "actor_id",
        "account_id",
        "target_account_id",
        "target_actor_id",
        "ip",
    ] {
        match js_get(value, key) {
            Some(JsValue::Null) => {}
            Some(JsValue::String(s)) if js_str_text(s).is_some() => {}
            _ => issues.push(format!("{key}: expected a string or null")),
        }
    }
    match js_get(value, "metadata") {
        Some(JsValue::Null | JsValue::Object(_) | JsValue::Unsorted(_)) => {}
        _ => issues.push("metadata: expected an object or null".into()),
    }
    issues
}

/// Checks the `params` of a notification; `Err` carries the issues (zod's role).
pub type ParamsValidator = Arc<dyn Fn(&JsValue) -> Result<(), String> + Send + Sync>;

/// `EventSpec` (§2): `{method, params, description, channel?}`. `params: None` accepts
/// any value.
#[derive(Clone)]
pub struct EventSpec {
    /// The notification's method (its event type).
    pub method: String,
    /// What the event means.
    pub description: String,
    /// The channel it is broadcast on (`None`: not broadcast).
    pub channel: Option<String>,
    /// The `params` check (`None`: any value).
    pub params: Option<ParamsValidator>,
}

impl std::fmt::Debug for EventSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSpec")
            .field("method", &self.method)
            .field("description", &self.description)
            .field("channel", &self.channel)
            .field("params", &self.params.as_ref().map(|_| "<validator>"))
            .finish()
    }
}

/// The description of a builtin audit event: `"Audit log: "` + the type with every `_`
/// replaced by a space.
pub fn audit_event_description(event_type: &str) -> String {
    format!("Audit log: {}", event_type.replace('_', " "))
}

/// `audit_log_event_specs`: one spec per [`AUDIT_EVENT_TYPES`] entry, in order, method =
/// the type, channel [`AUDIT_LOG_CHANNEL`], params = the `AuditLogEventJson` check
/// ([`audit_log_event_issues`]).
pub fn audit_log_event_specs() -> Vec<EventSpec> {
    let validator: ParamsValidator = Arc::new(|v: &JsValue| {
        let issues = audit_log_event_issues(v);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(issues.join("; "))
        }
    });
    AUDIT_EVENT_TYPES
        .iter()
        .map(|t| EventSpec {
            method: (*t).to_owned(),
            description: audit_event_description(t),
            channel: Some(AUDIT_LOG_CHANNEL.to_owned()),
            params: Some(Arc::clone(&validator)),
        })
        .collect()
}
