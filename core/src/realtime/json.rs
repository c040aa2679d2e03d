//! `JSON.stringify` parity for what the streams carry (spec §3.5, §7).
//!
//! Payloads are modelled with the core's JavaScript value model, [`JsValue`] (shared with
//! the HMAC message track, so every binding already converts host values into it).
//! Objects keep the order they were built or parsed in, with JavaScript's own-property
//! rule on top (integer-like keys first, ascending), so the bytes are those of
//! `JSON.stringify` in V8: compact, non-ASCII raw, `\u00xx` lowercase for controls, lone
//! surrogates escaped, `-0` as `0`, NaN/±Infinity as `null`, `undefined` dropped from
//! objects and `null` in arrays, a nested BigInt a serialisation error.
//!
//! Why not `serde_json::Value`: in this workspace `serde_json`'s `preserve_order` feature
//! is enabled only for the core's *dev* builds (the vector runner), so a production
//! `serde_json::Map` sorts its keys and a `metadata` object would not keep its order.
//! Typed shapes ([`SseNotification`], [`crate::realtime::AuditLogEvent`]) write their keys
//! in declaration order themselves.

use std::borrow::Cow;
use std::sync::Arc;

use crate::hmac::canonical;
pub use crate::hmac::{JsString, JsValue};

use super::RealtimeError;

/// A value a stream can send: its `JSON.stringify` text.
pub trait SseJson {
    /// `JSON.stringify(self)`, compact. `Ok(None)` is JavaScript's `undefined` result (a
    /// top-level `undefined`); `Err` is a throw (§3.5: caught and logged by the stream).
    fn to_json(&self) -> Result<Option<String>, RealtimeError>;
}

impl SseJson for JsValue {
    fn to_json(&self) -> Result<Option<String>, RealtimeError> {
        canonical::json_stringify(self, false).map_err(|e| RealtimeError::Serialize(e.to_string()))
    }
}

/// A string is sent as a JSON string (`send('before')` → `data: "before"`).
impl SseJson for str {
    fn to_json(&self) -> Result<Option<String>, RealtimeError> {
        let mut out = String::with_capacity(self.len() + 2);
        canonical::write_json_string(&JsString::from(self), &mut out);
        Ok(Some(out))
    }
}

impl SseJson for String {
    fn to_json(&self) -> Result<Option<String>, RealtimeError> {
        self.as_str().to_json()
    }
}

impl<T: SseJson + ?Sized> SseJson for &T {
    fn to_json(&self) -> Result<Option<String>, RealtimeError> {
        (**self).to_json()
    }
}

impl<T: SseJson + ?Sized> SseJson for Box<T> {
    fn to_json(&self) -> Result<Option<String>, RealtimeError> {
        (**self).to_json()
    }
}

impl<T: SseJson + ?Sized> SseJson for Arc<T> {
    fn to_json(&self) -> Result<Option<String>, RealtimeError> {
        (**self).to_json()
    }
}

/// `SseNotification` (§2): a JSON-RPC 2.0 notification without the `jsonrpc` field.
/// Serialised as `{"method":…,"params":…}` in that order; `params` is omitted when it is
/// `undefined`, as `JSON.stringify` does.
#[derive(Debug, Clone, PartialEq)]
pub struct SseNotification {
    /// The JSON-RPC method.
    pub method: String,
    /// The params (dropped from the JSON when `undefined`).
    pub params: JsValue,
}

impl SseNotification {
    /// A notification of `method` with `params`.
    pub fn new(method: impl Into<String>, params: JsValue) -> Self {
        Self {
            method: method.into(),
            params,
        }
    }

    /// The notification as a plain object value (`{method, params}`).
    pub fn to_js_value(&self) -> JsValue {
        JsValue::Object(vec![
            (
                JsString::from("method"),
                JsValue::String(self.method.as_str().into()),
            ),
            (JsString::from("params"), self.params.clone()),
        ])
    }
}

impl SseJson for SseNotification {
    fn to_json(&self) -> Result<Option<String>, RealtimeError> {
        let mut out = String::from("{\"method\":");
        canonical::write_json_string(&JsString::from(self.method.as_str()), &mut out);
        if let Some(params) = self.params.to_json()? {
            out.push_str(",\"params\":");
            out.push_str(&params);
        }
        out.push('}');
        Ok(Some(out))
    }
}

/// Parse JSON text into the value model, keeping key order (what a binding does with the
/// host's `JSON.stringify` / `json.dumps` output). Nesting is limited to 512 levels.
pub fn parse_json(text: &str) -> Result<JsValue, RealtimeError> {
    canonical::parse_json(text, None).map_err(|e| RealtimeError::InvalidJson(e.to_string()))
}

/// `value[key]` for a plain object (the last duplicate wins, as assignment does); `None`
/// for a missing key and for anything that is not an object (`null?.x`, `"s".x` and
/// `[].x` are all `undefined`).
pub fn js_get<'a>(value: &'a JsValue, key: &str) -> Option<&'a JsValue> {
    match value {
        JsValue::Object(entries) | JsValue::Unsorted(entries) => entries
            .iter()
            .rev()
            .find(|(k, _)| js_str_eq(k, key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Whether a JavaScript string equals `s` (`===`).
pub fn js_str_eq(js: &JsString, s: &str) -> bool {
    match js {
        JsString::Utf8(u) => u == s,
        JsString::Utf16(units) => units.iter().copied().eq(s.encode_utf16()),
    }
}

/// The text of a JavaScript string when it is well formed; `None` when it holds a lone
/// surrogate (no Rust string, and so no registry identity, can equal it).
pub fn js_str_text(js: &JsString) -> Option<Cow<'_, str>> {
    match js {
        JsString::Utf8(u) => Some(Cow::Borrowed(u.as_str())),
        JsString::Utf16(units) => String::from_utf16(units).ok().map(Cow::Owned),
    }
}
