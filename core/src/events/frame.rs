//! SSE frames of node-auth's `SseManager` (spec `node-auth.md` §2.6), encoded once per
//! event and shared by every subscriber.
//!
//! `id: <id>\nevent: <type>\ndata: <json>\n\n` (the original's three writes, one
//! buffer here; the bytes on the wire are the same), and the comment `: heartbeat\n\n`.
//! No `retry:` field.
//!
//! Frame injection (fixed): the original writes `id` and `event` unescaped, so a CR, LF
//! or CRLF in an event type (a `%0A` in `POST /track/:eventName`) ends the field and the
//! rest injects fields and `data:` lines into every stream. Such a field is refused
//! ([`EventsError::InvalidField`]); so is JSON text with a raw line break (which
//! `JSON.stringify`/`json.dumps` never produce).

use std::sync::Arc;

use super::EventsError;

/// The heartbeat comment.
pub const HEARTBEAT_FRAME: &str = ": heartbeat\n\n";

/// A frame shared by every subscriber of an event (one allocation per event).
pub type Frame = Arc<str>;

/// `Err` when `value` contains an SSE line terminator (CR or LF).
pub fn check_field(name: &str, value: &str) -> Result<(), EventsError> {
    if value.contains(['\r', '\n']) {
        return Err(EventsError::InvalidField(format!(
            "SSE {name} must not contain a line break (CR or LF)"
        )));
    }
    Ok(())
}

/// The frame of one event: `id: {id}\nevent: {event_type}\ndata: {json}\n\n`.
pub fn encode_frame(id: &str, event_type: &str, json: &str) -> Result<Frame, EventsError> {
    check_field("id", id)?;
    check_field("event type", event_type)?;
    check_field("data", json)?;
    let mut s = String::with_capacity(id.len() + event_type.len() + json.len() + 24);
    s.push_str("id: ");
    s.push_str(id);
    s.push_str("\nevent: ");
    s.push_str(event_type);
    s.push_str("\ndata: ");
    s.push_str(json);
    s.push_str("\n\n");
    Ok(Arc::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_bytes_are_the_originals() {
        let f = encode_frame("e1", "identity.user.created", r#"{"id":"e1","rawData":1}"#).unwrap();
        assert_eq!(
            &*f,
            "id: e1\nevent: identity.user.created\ndata: {\"id\":\"e1\",\"rawData\":1}\n\n"
        );
        assert_eq!(HEARTBEAT_FRAME, ": heartbeat\n\n");
    }

    #[test]
    fn line_breaks_in_fields_are_refused() {
        for bad in ["a\nb", "a\rb", "a\r\nb", "\n", "x\r"] {
            let e = encode_frame("1", bad, "{}").unwrap_err();
            assert_eq!(e.code(), "EVENTS_INVALID_FIELD");
            assert!(encode_frame(bad, "t", "{}").is_err());
            assert!(encode_frame("1", "t", bad).is_err());
        }
        assert!(encode_frame("1", "t\u{2028}", "{}").is_ok());
    }
}
