//! Wire contract v1 (spec §3): queue names, the two event shapes, their JSON bytes, the
//! decode checks of the receive pipeline, the shared-secret check and the cursor order.
//!
//! Events are encoded with the key order Node emits (struct field order), compact, with
//! `payload.allowedIps` omitted when absent and `expiresAt` / `ackReason` always present,
//! so the bytes are identical to a Node sender's. Decoding is as lenient as Node's: any
//! finite JSON number is a `ts`, unknown fields are ignored, and only the §3.5 list is
//! checked before dispatch.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

/// `DEFAULT_AMQP_VHOST`.
pub const DEFAULT_AMQP_VHOST: &str = "hmac-credentials";
/// The `op` of an ACK event.
pub const OP_ACK: &str = "credential.ack";
/// `op` values of apply events.
pub const OP_CREATE: &str = "credential.create";
/// The `op` of an update.
pub const OP_UPDATE: &str = "credential.update";
/// The `op` of a delete.
pub const OP_DELETE: &str = "credential.delete";

/// `buildQueueName(amqpQueue)`: `hmac-<amqpQueue>.queue`, for names matching
/// `^[A-Za-z0-9-]+$` (ASCII, non-empty). The error is the original's message.
pub fn build_queue_name(amqp_queue: &str) -> Result<String, String> {
    if is_valid_queue_name(amqp_queue) {
        Ok(format!("hmac-{amqp_queue}.queue"))
    } else {
        Err(format!(
            "Invalid amqpQueue \"{amqp_queue}\": must match [A-Za-z0-9-]+"
        ))
    }
}

/// Whether `name` matches `^[A-Za-z0-9-]+$`.
pub fn is_valid_queue_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `propagationSecretMatches(received, own)`: equal UTF-8 byte lengths, then a
/// constant-time comparison.
pub fn propagation_secret_matches(received: &str, own: &str) -> bool {
    received.len() == own.len() && bool::from(received.as_bytes().ct_eq(own.as_bytes()))
}

/// A fresh lowercase, hyphenated UUID v4 (`crypto.randomUUID()`), from the OS CSPRNG.
pub fn random_uuid() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// `payload` of an apply event: `{ secretHash, allowedIps?, expiresAt }`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyPayload {
    /// The credential's `secretHash`.
    pub secret_hash: String,
    /// IP/CIDR allow-list (omitted when `None`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub allowed_ips: Option<Vec<String>>,
    /// Expiry, epoch milliseconds (`null` when `None`).
    pub expires_at: Option<i64>,
}

crate::redacted_debug!(ApplyPayload { allowed_ips, expires_at } secret { secret_hash });

/// An apply event (sender → target), fields in the order Node emits them.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyEvent {
    /// A random UUID.
    pub event_id: String,
    /// Send time, epoch milliseconds.
    pub ts: i64,
    /// The target's env secret.
    pub propagation_secret: String,
    /// The sender's logical name.
    pub sender_amqp_queue: String,
    /// `credential.create`, `credential.update` or `credential.delete`.
    pub op: String,
    /// `http` or `message`.
    pub track: String,
    /// The credential's client id.
    pub client_id: String,
    /// What the target applies.
    pub payload: ApplyPayload,
}

crate::redacted_debug!(ApplyEvent { event_id, ts, sender_amqp_queue, op, track, client_id, payload } secret { propagation_secret });

/// An ACK event (target → sender), fields in the order Node emits them.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AckEvent {
    /// A random UUID.
    pub event_id: String,
    /// Send time, epoch milliseconds.
    pub ts: i64,
    /// The original sender's env secret.
    pub propagation_secret: String,
    /// The acknowledging peer's logical name.
    pub sender_amqp_queue: String,
    /// [`OP_ACK`].
    pub op: String,
    /// The `eventId` of the apply event acknowledged.
    pub ack_event_id: String,
    /// `applied` or `error`.
    pub ack_result: String,
    /// Why it failed, for `error`.
    pub ack_reason: Option<String>,
}

crate::redacted_debug!(AckEvent { event_id, ts, sender_amqp_queue, op, ack_event_id, ack_result, ack_reason } secret { propagation_secret });

/// The body bytes of an event: compact `JSON.stringify` output.
pub fn encode<T: Serialize>(event: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail.
    serde_json::to_vec(event).expect("event serialisation")
}

/// An event that passed the §3.5 decode checks. The rest of the object is kept as parsed
/// and read by [`Envelope::apply_parts`] / [`Envelope::ack_parts`].
#[derive(Clone, PartialEq)]
pub struct Envelope {
    /// `eventId`.
    pub event_id: String,
    /// `ts`, epoch milliseconds.
    pub ts: f64,
    /// `propagationSecret`.
    pub propagation_secret: String,
    /// `senderAmqpQueue`.
    pub sender_amqp_queue: String,
    /// `op`.
    pub op: String,
    /// The other fields, as parsed.
    pub rest: Map<String, Value>,
}

crate::redacted_debug!(Envelope { event_id, ts, sender_amqp_queue, op } secret { propagation_secret });

/// `decodeEvent`: parse the UTF-8 body and run the checks of §3.5 step 1, in order, with
/// the original's messages. A body above [`crate::limits::MAX_PROPAGATION_MESSAGE_BYTES`]
/// is refused on its length, before any UTF-8 check or JSON parse.
pub fn decode(body: &[u8]) -> Result<Envelope, String> {
    crate::limits::within_bytes(
        "Event",
        body.len(),
        crate::limits::MAX_PROPAGATION_MESSAGE_BYTES,
    )
    .map_err(|e| e.0)?;
    let text = std::str::from_utf8(body).map_err(|e| format!("invalid UTF-8: {e}"))?;
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Value::Object(mut obj) = value else {
        return Err("Event is not an object".into());
    };
    let event_id = match obj.remove("eventId") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err("Event has no eventId".into()),
    };
    let ts = match obj.remove("ts") {
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.is_finite() => f,
            _ => return Err("Event has no valid ts".into()),
        },
        _ => return Err("Event has no valid ts".into()),
    };
    let propagation_secret = match obj.remove("propagationSecret") {
        Some(Value::String(s)) => s,
        _ => return Err("Event has no propagationSecret".into()),
    };
    let sender_amqp_queue = match obj.remove("senderAmqpQueue") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err("Event has no senderAmqpQueue".into()),
    };
    let op = match obj.remove("op") {
        Some(Value::String(s)) => s,
        _ => return Err("Event has no op".into()),
    };
    Ok(Envelope {
        event_id,
        ts,
        propagation_secret,
        sender_amqp_queue,
        op,
        rest: obj,
    })
}

/// The parts of an apply event the receiver uses.
#[derive(Clone, PartialEq)]
pub struct ApplyParts {
    /// `track`.
    pub track: String,
    /// `clientId`.
    pub client_id: String,
    /// `payload.secretHash`.
    pub secret_hash: String,
    /// `None`: absent (keep the stored list).
    pub allowed_ips: Option<Vec<String>>,
    /// `None`: `null` or absent (keep the stored expiry).
    pub expires_at: Option<f64>,
}

crate::redacted_debug!(ApplyParts { track, client_id, allowed_ips, expires_at } secret { secret_hash });

/// The parts of an ACK event the sender uses.
#[derive(Debug, Clone, PartialEq)]
pub struct AckParts {
    /// `ackEventId`, when a string.
    pub ack_event_id: Option<String>,
    /// `ackResult`, when a string.
    pub ack_result: Option<String>,
    /// `ackReason`, when a string.
    pub ack_reason: Option<String>,
}

impl Envelope {
    /// `track`, `clientId` and `payload` of an apply event. Node does not check these and
    /// throws inside the apply (a poison message requeued forever); here a missing or
    /// mistyped field is an error the receiver drops the event for.
    pub fn apply_parts(&self) -> Result<ApplyParts, String> {
        let track = match self.rest.get("track") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err("Event has no track".into()),
        };
        let client_id = match self.rest.get("clientId") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err("Event has no clientId".into()),
        };
        let delete = self.op == OP_DELETE;
        let payload = match self.rest.get("payload") {
            Some(Value::Object(p)) => Some(p),
            None | Some(Value::Null) if delete => None,
            _ => return Err("Event has no payload".into()),
        };
        let secret_hash = match payload.and_then(|p| p.get("secretHash")) {
            Some(Value::String(s)) => s.clone(),
            _ if delete => String::new(),
            _ => return Err("Event payload has no secretHash".into()),
        };
        let allowed_ips = match payload.and_then(|p| p.get("allowedIps")) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) if !delete => Some(
                items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        _ => Err("Event payload allowedIps holds a non-string".to_owned()),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) if delete => None,
            Some(_) => return Err("Event payload allowedIps is not an array".into()),
        };
        let expires_at = match payload.and_then(|p| p.get("expiresAt")) {
            Some(Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()),
            _ => None,
        };
        Ok(ApplyParts {
            track,
            client_id,
            secret_hash,
            allowed_ips,
            expires_at,
        })
    }

    /// `ackEventId`, `ackResult`, `ackReason` of an ACK event (absent or mistyped: `None`).
    pub fn ack_parts(&self) -> AckParts {
        let s = |k: &str| match self.rest.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        AckParts {
            ack_event_id: s("ackEventId"),
            ack_result: s("ackResult"),
            ack_reason: s("ackReason"),
        }
    }
}

/// The ordering lane of a delivered event (`DeliveryHandler::lane`): the apply events of
/// one (track, clientId) share a lane, so a peer that handles several deliveries at once
/// still applies them in delivery order; every other event (an ACK: the sender orders ACK
/// handling per client by its client lock) has a lane of its own; a body that does not
/// decode goes to the shared lane `""` (it is dropped with a warning anyway).
pub fn delivery_lane(body: &[u8]) -> String {
    let Ok(env) = decode(body) else {
        return String::new();
    };
    match env.op.as_str() {
        OP_CREATE | OP_UPDATE | OP_DELETE => match env.apply_parts() {
            Ok(a) => format!("apply\u{0}{}\u{0}{}", a.track, a.client_id),
            Err(_) => String::new(),
        },
        _ => format!("event\u{0}{}", env.event_id),
    }
}

/// The receiver's per (track, clientId) cursor: the newest applied `{ts, eventId}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// `ts` of the newest applied event.
    pub ts: f64,
    /// `eventId` of the newest applied event.
    pub event_id: String,
}

/// `isStrictlyNewer(current, incoming)`: a higher `ts` wins; equal `ts` falls back to the
/// eventId compared by UTF-16 code unit (JS `>`); equal is not newer.
pub fn is_strictly_newer(current: Option<&Cursor>, incoming: &Cursor) -> bool {
    let Some(current) = current else {
        return true;
    };
    if incoming.ts > current.ts {
        return true;
    }
    if incoming.ts < current.ts {
        return false;
    }
    incoming
        .event_id
        .encode_utf16()
        .cmp(current.event_id.encode_utf16())
        .is_gt()
}

/// Where an incoming event stands against the receiver's cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Strictly newer ([`is_strictly_newer`]): apply it.
    Newer,
    /// The very event the cursor holds (same `ts` and `eventId`): a redelivery of an event
    /// already applied. Answered `applied` again, so a lost ACK is recovered.
    Same,
    /// Older than the cursor: not applied. The original ACKs it `applied` (so its sender
    /// records a success for a secret the receiver does not hold); authcore answers an
    /// `error` ACK with reason [`STALE_REASON`].
    Older,
}

/// `ackReason` of the `error` ACK that answers an event older than the receiver's cursor.
pub const STALE_REASON: &str = "stale";

/// The receiver's decision for `incoming` given its `current` cursor, with the original's
/// order ([`is_strictly_newer`]).
pub fn freshness(current: Option<&Cursor>, incoming: &Cursor) -> Freshness {
    if is_strictly_newer(current, incoming) {
        Freshness::Newer
    } else if current == Some(incoming) {
        Freshness::Same
    } else {
        Freshness::Older
    }
}

/// The `ts` of a sender's next event for one client: its clock, but strictly above the
/// `ts` of the previous event it sent for that client (`last`). Two events in the same
/// millisecond, or after the clock stepped back, would otherwise be ordered by their random
/// eventIds, and a genuinely new event could be judged older than the one it replaces.
pub fn next_event_ts(now_ms: i64, last: Option<i64>) -> i64 {
    match last {
        Some(last) if now_ms <= last => last.saturating_add(1),
        _ => now_ms,
    }
}

/// `aggregateFinalStatus(results)`: no results or only `success` → `success`; only
/// `error` → `error`; a mix → `partial`.
pub fn aggregate_final_status<'a>(results: impl IntoIterator<Item = &'a str>) -> &'static str {
    let (mut ok, mut err) = (false, false);
    for r in results {
        if r == "success" {
            ok = true;
        } else {
            err = true;
        }
    }
    match (ok, err) {
        (_, false) => "success",
        (false, true) => "error",
        (true, true) => "partial",
    }
}

// ---------------------------------------------------------------------------------------
// Authenticated events (authcore extension, off by default)
// ---------------------------------------------------------------------------------------

/// The AMQP header that carries an event's signature. v1 peers (amqplib) never read
/// message headers, so a signed event is still a valid v1 event for them.
pub const SIGNATURE_HEADER: &str = "x-authcore-signature";
/// The prefix of the header value: `sha256=<64 lowercase hex digits>`.
pub const SIGNATURE_PREFIX: &str = "sha256=";
/// The label of the key derivation (see [`event_auth_key`]).
pub const EVENT_AUTH_LABEL: &str = "authcore-propagation-v1-auth";

/// How a peer authenticates events (both off by default: wire v1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventAuth {
    /// Sign every event this peer sends (apply events and ACKs) in [`SIGNATURE_HEADER`].
    pub sign: bool,
    /// Strict receiving: drop (ack, never apply, no ACK back) every event whose signature
    /// is missing or does not verify. A verified event may carry `propagationSecret: ""`
    /// (see `omit_secret`): the signature proves the sender holds this peer's secret.
    pub require: bool,
    /// Signed events carry `propagationSecret: ""` instead of the recipient's secret, so
    /// a reader of the queue learns nothing it could forge events with. Only strict
    /// authcore receivers accept such events (a v1 peer drops them at its secret check):
    /// for meshes where every peer is strict. Implies `sign`.
    pub omit_secret: bool,
}

impl EventAuth {
    /// Whether outgoing events are signed.
    pub fn signs(&self) -> bool {
        self.sign || self.omit_secret
    }
}

/// The key of the events `sender` sends to `recipient` (logical names, not queue names):
/// `HMAC-SHA256(key = UTF-8(recipient's propagation secret),
/// msg = "authcore-propagation-v1-auth|" + sender + "|" + recipient)`. Each ordered pair
/// has its own key; only holders of the recipient's secret can make it.
pub fn event_auth_key(recipient_secret: &str, sender: &str, recipient: &str) -> [u8; 32] {
    crate::hmac::crypto::hmac_sha256(
        recipient_secret.as_bytes(),
        &[
            EVENT_AUTH_LABEL.as_bytes(),
            b"|",
            sender.as_bytes(),
            b"|",
            recipient.as_bytes(),
        ],
    )
}

/// The [`SIGNATURE_HEADER`] value of `body` sent from `sender` to `recipient`:
/// `sha256=` + lowercase hex `HMAC-SHA256(event_auth_key(..), body)`, over the exact body
/// bytes.
pub fn sign_event(recipient_secret: &str, sender: &str, recipient: &str, body: &[u8]) -> String {
    let key = event_auth_key(recipient_secret, sender, recipient);
    let mac = crate::hmac::crypto::hmac_sha256(&key, &[body]);
    format!("{SIGNATURE_PREFIX}{}", crate::hmac::crypto::hex32(&mac))
}

/// Whether `signature` (a [`SIGNATURE_HEADER`] value, `None` when absent) is the signature
/// of `body` from `sender` to `recipient` under `own_secret` (the recipient's). Constant
/// time in the signature bytes.
pub fn verify_event(
    own_secret: &str,
    sender: &str,
    recipient: &str,
    body: &[u8],
    signature: Option<&str>,
) -> bool {
    let Some(signature) = signature else {
        return false;
    };
    let expected = sign_event(own_secret, sender, recipient, body);
    signature.len() == expected.len() && bool::from(signature.as_bytes().ct_eq(expected.as_bytes()))
}
