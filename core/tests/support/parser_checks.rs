//! One check per parser of untrusted input, shared by the libFuzzer targets
//! (`fuzz/fuzz_targets/*.rs`, which include this file) and their property-test twins
//! (`core/tests/it/parser_props.rs`). A check takes arbitrary bytes, runs the parser, and
//! panics when a property fails: no parser may panic, and where a parser has an inverse the
//! round trip must be the identity (canonicalisation idempotent, sign then verify accepts,
//! wire encode then decode, SSE frame render then parse).

#![allow(dead_code)]

use authcore::hmac::canonical::{JsString, JsValue, json_stringify, parse_json, to_message_string};
use authcore::hmac::crypto::{SignInput, sign_request, verify_request_signature};
use authcore::hmac::ip;
use authcore::hmac::message::{MessageKey, sign_message, verify_message};
use authcore::hmac::normalize_path;
use authcore::hmac::record::parse_stored_client_record;
use authcore::js::{number_to_string, string_to_number};
use authcore::jwt::{self, Algorithm, JwtKey, KeySet};
use authcore::password::{self, Argon2Limits, Argon2Params};
use authcore::policy::{self, PermissionDocument, Subject};
use authcore::propagation::wire;
use authcore::realtime::{self, AuditLogEvent, GuardOptions, SseNotification};

/// The input as text (lossy: the parsers below all take `&str`).
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// First byte as a selector, rest as input.
fn split_first(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((b, rest)) => (*b, rest),
        None => (0, data),
    }
}

// ---------------------------------------------------------------------------------------
// Canonical JSON and message canonicalisation
// ---------------------------------------------------------------------------------------

/// `parse_json` never panics; `toMessageString` of what it parsed never fails (the
/// parser cannot make a BigInt); canonicalisation is idempotent on objects and arrays
/// (canonical text parses back to a value with the same canonical text); the unsorted
/// `JSON.stringify` of a parse is a fixed point of parse + stringify; and a message signed
/// with `signMessage` verifies with `verifyMessage`.
pub fn canonical_json(data: &[u8]) {
    let (sel, rest) = split_first(data);
    let input = text(rest);
    let marker = (sel & 1 == 1).then_some("$m");
    let Ok(value) = parse_json(&input, marker) else {
        return;
    };
    let canonical = to_message_string(&value).expect("a parsed value canonicalises");
    // JSON.stringify without sorting is stable under parse + stringify.
    let plain = json_stringify(&value, false)
        .expect("stringify")
        .expect("not undefined");
    let reparsed = parse_json(&plain, None).expect("stringify output parses");
    assert_eq!(
        json_stringify(&reparsed, false).unwrap().unwrap(),
        plain,
        "stringify is not a fixed point"
    );
    if marker.is_none() && matches!(value, JsValue::Object(_) | JsValue::Array(_)) {
        let again = parse_json(&canonical, None).expect("canonical text parses");
        assert_eq!(
            to_message_string(&again).unwrap(),
            canonical,
            "canonicalisation is not idempotent for {input:?}"
        );
    }
    let key = MessageKey {
        secret: "fuzz-secret",
        secret_is_hashed: sel & 2 == 2,
        hash_token: (sel & 4 == 4).then_some("pepper"),
    };
    let signed = sign_message("client", &value, key).expect("sign a parsed message");
    assert!(verify_message("client", &value, key, &signed.signature).unwrap());
    assert!(!verify_message("client", &value, key, &signed.message_hash).unwrap());
}

// ---------------------------------------------------------------------------------------
// JS Number()
// ---------------------------------------------------------------------------------------

fn same_number(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b
}

/// `Number(str)` never panics and is stable under `String(Number(str))`; every double
/// survives `Number(String(x))` exactly (bits, except `-0`, which `String` writes `0`).
pub fn js_number(data: &[u8]) {
    let s = text(data);
    let x = string_to_number(&s);
    let printed = number_to_string(x);
    assert!(
        same_number(string_to_number(&printed), x),
        "Number(String(Number({s:?}))) = {printed}"
    );
    if data.len() >= 8 {
        let y = f64::from_le_bytes(data[..8].try_into().unwrap());
        let printed = number_to_string(y);
        let back = string_to_number(&printed);
        assert!(
            same_number(back, y) && (y != 0.0 || back == 0.0),
            "{y:e} printed {printed} read {back:e}"
        );
        // The same text with JS white space around and a `+` sign.
        if y.is_finite() && y >= 0.0 {
            assert!(same_number(
                string_to_number(&format!("\u{feff} +{printed}\n")),
                y
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Paths and URLs; request signing
// ---------------------------------------------------------------------------------------

/// `normalizePath` never panics and resolves a path to a path (`/...`); the fast path agrees with
/// the WHATWG parser (a path is normalised the same when written as an absolute URL on
/// the base); `signRequest` then `verifyRequestSignature` accepts and a changed signature
/// is refused.
pub fn path_url(data: &[u8]) {
    let (sel, rest) = split_first(data);
    let input = text(rest);
    let normalized = normalize_path(&input);
    // A scheme-less input resolves against `http://localhost`: its path is absolute (a
    // `mailto:` or `x:` input keeps its opaque path).
    if let Ok(p) = &normalized
        && input
            .trim_start_matches(|c: char| c <= ' ')
            .starts_with(['/', '\\'])
    {
        assert!(p.starts_with('/'), "{input:?} normalised to {p:?}");
    }
    // The URL parser drops tabs and newlines first: `/\r/h` is `//h`, a host.
    let cleaned: String = input
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if input.starts_with('/') && !cleaned.starts_with("//") && !cleaned.starts_with("/\\") {
        let absolute_input = format!("http://localhost{input}");
        let absolute = normalize_path(&absolute_input);
        assert_eq!(
            normalized.as_deref().ok(),
            absolute.as_deref().ok(),
            "relative and absolute forms of {input:?} differ"
        );
    }
    let methods = ["get", "POST", "pUt", "ǆelete", "Straße"];
    let signed = SignInput {
        method: methods[usize::from(sel) % methods.len()],
        path: &input,
        timestamp: f64::from(sel) * 1.0e10 + 0.5,
        nonce: "n-1",
        body: rest,
        secret: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    match sign_request(&signed) {
        Ok(sig) => {
            assert_eq!(sig.len(), 64);
            assert!(verify_request_signature(&signed, &sig).unwrap());
            let mut bad = sig.into_bytes();
            bad[0] = if bad[0] == b'0' { b'1' } else { b'0' };
            let bad = String::from_utf8(bad).unwrap();
            assert!(!verify_request_signature(&signed, &bad).unwrap());
        }
        Err(_) => assert!(normalized.is_err(), "signing failed on a valid path"),
    }
}

// ---------------------------------------------------------------------------------------
// IP / CIDR rules
// ---------------------------------------------------------------------------------------

/// None of the IP helpers panic; a normalised literal is an IP and a fixed point; a
/// parsed rule's `source` parses back to the same rule; an address is allowed by its own
/// exact rule; sanitising is idempotent.
pub fn ip_rules(data: &[u8]) {
    let s = text(data);
    let lines: Vec<&str> = s.split('\n').collect();
    for l in &lines {
        let _ = ip::is_ip(l);
        if let Some(n) = ip::normalize_ip_literal(l) {
            assert_ne!(ip::is_ip(&n), 0, "{l:?} -> {n:?}");
            assert_eq!(
                ip::normalize_ip_literal(&n).as_deref(),
                Some(n.as_str()),
                "{l:?}"
            );
            assert!(ip::is_client_ip_allowed(&n, &[n.as_str()]), "{n:?}");
            assert!(ip::is_client_ip_allowed(l, &[n.as_str()]), "{l:?} vs {n:?}");
        }
        if let Some(rule) = ip::parse_rule(l) {
            assert_eq!(ip::parse_rule(&rule.source).as_ref(), Some(&rule), "{l:?}");
            assert!(rule.prefix <= if rule.family == 4 { 32 } else { 128 });
        }
    }
    let (client, rules) = lines.split_first().expect("split yields one item");
    let _ = ip::is_client_ip_allowed(client, rules);
    let _ = ip::extract_client_ip(lines.iter().copied());
    let sanitized = ip::sanitize_allowed_ip_rules(rules.iter().copied());
    assert_eq!(
        ip::sanitize_allowed_ip_rules(sanitized.iter().map(String::as_str)),
        sanitized
    );
    match ip::normalize_allowed_ip_strings(rules) {
        Ok(list) => assert_eq!(list, sanitized),
        Err(_) => assert!(rules.iter().any(|r| ip::parse_rule(r).is_none())),
    }
}

// ---------------------------------------------------------------------------------------
// Stored client records
// ---------------------------------------------------------------------------------------

/// Any stored value parses (JSON record or legacy raw hash) and `JSON.stringify` of the
/// record parses back to the same record.
pub fn client_record(data: &[u8]) {
    let raw = text(data);
    let record = parse_stored_client_record(&raw);
    let json = record.to_json();
    let again = parse_stored_client_record(&json);
    assert!(
        again == record,
        "record round trip differs for {raw:?} via {json}"
    );
    let _ = record.is_expired(1.0e12);
}

// ---------------------------------------------------------------------------------------
// Propagation wire events
// ---------------------------------------------------------------------------------------

/// `decodeEvent` never panics, nor do `apply_parts`/`ack_parts`; an apply event encoded
/// from decoded parts decodes to the same parts (encode then decode is the identity).
pub fn propagation_wire(data: &[u8]) {
    let Ok(env) = wire::decode(data) else {
        return;
    };
    let _ = env.ack_parts();
    let _ = wire::is_strictly_newer(
        Some(&wire::Cursor {
            ts: env.ts,
            event_id: env.event_id.clone(),
        }),
        &wire::Cursor {
            ts: env.ts,
            event_id: "m".into(),
        },
    );
    let Ok(parts) = env.apply_parts() else {
        return;
    };
    if env.ts.fract() != 0.0 || env.ts.abs() > 9.0e15 {
        return;
    }
    let event = wire::ApplyEvent {
        event_id: env.event_id.clone(),
        ts: env.ts as i64,
        propagation_secret: env.propagation_secret.clone(),
        sender_amqp_queue: env.sender_amqp_queue.clone(),
        op: env.op.clone(),
        track: parts.track.clone(),
        client_id: parts.client_id.clone(),
        payload: wire::ApplyPayload {
            secret_hash: parts.secret_hash.clone(),
            allowed_ips: parts.allowed_ips.clone(),
            expires_at: parts
                .expires_at
                .filter(|e| e.fract() == 0.0 && e.abs() < 9.0e15)
                .map(|e| e as i64),
        },
    };
    wire_round_trip(&event);
}

/// Encode then decode an apply event: every field comes back.
pub fn wire_round_trip(event: &wire::ApplyEvent) {
    let body = wire::encode(event);
    let env = wire::decode(&body).expect("an encoded event decodes");
    assert_eq!(env.event_id, event.event_id);
    assert_eq!(env.ts, event.ts as f64);
    assert_eq!(env.propagation_secret, event.propagation_secret);
    assert_eq!(env.sender_amqp_queue, event.sender_amqp_queue);
    assert_eq!(env.op, event.op);
    let parts = env.apply_parts().expect("an encoded event has apply parts");
    assert_eq!(parts.track, event.track);
    assert_eq!(parts.client_id, event.client_id);
    if event.op != "delete" {
        assert_eq!(parts.secret_hash, event.payload.secret_hash);
        assert_eq!(parts.allowed_ips, event.payload.allowed_ips);
    }
    assert_eq!(parts.expires_at, event.payload.expires_at.map(|e| e as f64));
}

// ---------------------------------------------------------------------------------------
// PHC (argon2) and bcrypt strings
// ---------------------------------------------------------------------------------------

/// Ceilings low enough that a fuzzed PHC string can never make a verification expensive.
pub const FUZZ_ARGON2_LIMITS: Argon2Limits = Argon2Limits {
    max_m_cost: 64,
    max_t_cost: 2,
    max_p_cost: 2,
};

fn cheap_bcrypt_cost(s: &str) -> bool {
    // `$2x$NN$`: anything else is refused by the parser before any work.
    let b = s.as_bytes();
    !(s.starts_with("$2") && b.len() >= 7 && b[6] == b'$' && !(b[4] == b'0' && b[5] <= b'5'))
}

/// Stored-hash parsing never panics (argon2 under tight ceilings, bcrypt only at cost <= 5);
/// a hash made with a salt from the input verifies its password and refuses another.
pub fn password_hashes(data: &[u8]) {
    let (sel, rest) = split_first(data);
    let s = text(rest);
    let _ = password::identify(&s);
    let _ = password::needs_rehash(&s, &Argon2Params::default());
    if cheap_bcrypt_cost(&s) {
        let _ = password::verify_limited(b"password", &s, &FUZZ_ARGON2_LIMITS);
        if s.len() == 29 {
            let _ = password::bcrypt_hash_with_salt_str(b"password", &s);
        }
    }
    // Hashing costs milliseconds: only two selector values do it.
    if sel == 0 {
        let mut salt = [0u8; 16];
        for (i, b) in rest.iter().take(16).enumerate() {
            salt[i] = *b;
        }
        let pw = &rest[rest.len().min(16)..];
        let params = Argon2Params {
            m_cost: 8,
            t_cost: 1,
            p_cost: 1,
            ..Argon2Params::default()
        };
        let phc = password::hash_argon2id_with_salt(pw, &salt, &params).expect("argon2 hash");
        assert!(password::verify_limited(pw, &phc, &FUZZ_ARGON2_LIMITS).unwrap());
        let other = [pw, b"x"].concat();
        assert!(!password::verify_limited(&other, &phc, &FUZZ_ARGON2_LIMITS).unwrap());
        assert!(!password::needs_rehash(&phc, &params).unwrap());
    } else if sel == 1 {
        let mut salt = [0u8; 16];
        for (i, b) in rest.iter().take(16).enumerate() {
            salt[i] = *b;
        }
        let pw = &rest[rest.len().min(16)..];
        let hash = password::bcrypt_hash_with_salt(pw, 4, salt).expect("bcrypt hash");
        assert!(password::verify(pw, &hash).unwrap());
        // bcrypt reads at most 72 bytes: a change past them is not seen.
        if pw.len() < 72 {
            let other = [pw, b"x"].concat();
            assert!(!password::verify(&other, &hash).unwrap());
        }
    }
}

// ---------------------------------------------------------------------------------------
// JWT segments
// ---------------------------------------------------------------------------------------

fn hs256_keys() -> KeySet {
    let mut keys = KeySet::new();
    keys.add(JwtKey::hmac(Algorithm::HS256, b"fuzz-secret-of-at-least-32-bytes!!").unwrap())
        .unwrap();
    keys
}

/// Token parsing never panics (unverified decode, PyJWT-style decode, signature check);
/// a payload signed with the key verifies to the same claims; a token whose payload
/// segment is swapped is refused.
pub fn jwt_segments(data: &[u8]) {
    let token = text(data);
    let keys = hs256_keys();
    let _ = jwt::decode_unverified(&token);
    let _ = jwt::insecure_decode(&token);
    let verified = jwt::verify_signature(&keys, &token);
    // Round trip: the input as a claim value.
    let payload = serde_json::json!({ "sub": token, "n": data.len() }).to_string();
    let signed = jwt::sign_payload_json(&keys, &payload).expect("sign");
    let (_, claims) = jwt::verify_signature(&keys, &signed).expect("own token verifies");
    assert_eq!(claims.get("sub").and_then(|v| v.as_str()), Some(&*token));
    // Splice the fuzzed token's payload into the signed token: refused unless identical.
    let own: Vec<&str> = signed.split('.').collect();
    if verified.is_err()
        && let (Some(p), [h, own_p, s]) = (token.split('.').nth(1), own.as_slice())
        && p != *own_p
    {
        let forged = format!("{h}.{p}.{s}");
        assert!(jwt::verify_signature(&keys, &forged).is_err(), "{forged}");
    }
}

// ---------------------------------------------------------------------------------------
// SSE event input
// ---------------------------------------------------------------------------------------

/// Host event values and audit rows never panic the guard; a `data:` frame is one line
/// and its JSON parses back to the same JSON (render then parse is the identity); a
/// comment becomes one `: ` line per input line and reads back as the text; an audit row
/// that validates survives `to_js_value` + `from_js_value`.
pub fn sse_input(data: &[u8]) {
    let (sel, rest) = split_first(data);
    let s = text(rest);
    let guard = GuardOptions {
        required_role: Some("admin".into()),
        close_on_account_removal: sel & 1 == 1,
        namespaced_identities: sel & 2 == 2,
    };
    if let Ok(value) = realtime::parse_json(&s) {
        let _ = guard.decide_js(&value);
        let _ = realtime::audit_log_event_issues(&value);
        sse_frame_round_trip(&value);
        let note = SseNotification::new("m", value.clone());
        if let Ok(frame) = realtime::render_data_frame(&note) {
            let json = frame_json(&frame);
            let back = realtime::parse_json(json).expect("frame JSON parses");
            assert_eq!(
                realtime::js_get(&back, "method"),
                Some(&JsValue::String(JsString::from("m")))
            );
        }
        if let Ok(event) = AuditLogEvent::from_js_value(&value) {
            let _ = guard.decide(&event);
            let again =
                AuditLogEvent::from_js_value(&event.to_js_value()).expect("row revalidates");
            assert_eq!(again, event);
        }
    }
    let _ = AuditLogEvent::from_json(&s);
    comment_round_trip(&s);
}

fn frame_json(frame: &str) -> &str {
    assert!(
        frame.starts_with("data: ") && frame.ends_with("\n\n"),
        "{frame:?}"
    );
    let json = &frame[6..frame.len() - 2];
    assert!(!json.contains(['\n', '\r']), "{frame:?}");
    json
}

/// Render a value as a `data:` frame and parse the frame's JSON back.
pub fn sse_frame_round_trip(value: &JsValue) {
    let Ok(frame) = realtime::render_data_frame(value) else {
        return;
    };
    let json = frame_json(&frame);
    if matches!(value, JsValue::Undefined) {
        assert_eq!(json, "undefined");
        return;
    }
    let back = realtime::parse_json(json).expect("frame JSON parses");
    assert_eq!(realtime::render_data_frame(&back).unwrap(), frame);
}

/// `comment(text)` then reading the comment lines back gives the text with its line
/// breaks as `\n`.
pub fn comment_round_trip(s: &str) {
    let out = realtime::render_comment(s);
    assert!(out.ends_with('\n'));
    let lines: Vec<&str> = out[..out.len() - 1].split('\n').collect();
    let mut read = Vec::new();
    for l in &lines {
        assert!(!l.contains('\r'), "{out:?}");
        read.push(l.strip_prefix(": ").expect("comment line"));
    }
    assert_eq!(read.join("\n"), s.replace("\r\n", "\n").replace('\r', "\n"));
}

// ---------------------------------------------------------------------------------------
// Policy documents
// ---------------------------------------------------------------------------------------

/// Document parsing never panics; a parsed document serialises and parses back equal;
/// evaluation of actions and resources from the input never panics and an explicit
/// Deny always wins; glob helpers are total.
pub fn policy_document(data: &[u8]) {
    let s = text(data);
    let words: Vec<&str> = s.split(['\n', ' ']).collect();
    for pair in words.windows(2) {
        let (p, t) = (pair[0], pair[1]);
        let _ = policy::glob_match(p, t);
        let _ = policy::resource_match(p, t);
        let _ = policy::validate_resource(t);
        let _ = policy::derive_action_name(p, t);
        if !p.contains('*') {
            assert!(policy::glob_match(p, p));
        }
        assert!(policy::glob_match("*", t));
    }
    let _ = policy::slugify_uid(&s);
    let _ = policy::pascal_case(&s);
    let Ok(doc) = PermissionDocument::parse(&s) else {
        return;
    };
    let json = serde_json::to_string(&doc).expect("serialise");
    assert_eq!(PermissionDocument::parse(&json).expect("reparse"), doc);
    let subject = Subject {
        user_id: "u1".into(),
        roles: ["admin".to_string()].into_iter().collect(),
        groups: ["staff".to_string()].into_iter().collect(),
    };
    let context = serde_json::Map::new();
    let docs = [doc.clone()];
    for st in &doc.statements {
        for action in &st.actions {
            for resource in &st.resources {
                let concrete = |x: &str| x.replace("**", "x").replace('*', "x");
                let d = policy::evaluate(
                    &docs,
                    &subject,
                    &concrete(action),
                    &concrete(resource),
                    &context,
                );
                if d.allowed {
                    // Adding a matching deny for everyone flips it.
                    let mut denied = doc.clone();
                    let mut deny = st.clone();
                    deny.effect = policy::Effect::Deny;
                    deny.principals = vec!["*".into()];
                    deny.conditions.clear();
                    denied.statements.push(deny);
                    let d2 = policy::evaluate(
                        &[denied],
                        &subject,
                        &concrete(action),
                        &concrete(resource),
                        &context,
                    );
                    assert!(!d2.allowed);
                }
            }
        }
    }
}
