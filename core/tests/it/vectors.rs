//! Runs every HMAC vector of `ffi-tests/vectors/` (the upstream naskot files and our
//! `hmac-*.json`) against the core. Unknown ops fail the test: nothing is skipped.

use std::path::PathBuf;
use std::sync::Arc;

use authcore::hmac::canonical::{JsString, JsValue, to_message_string};
use authcore::hmac::crypto::{
    SignInput, build_signing_payload, hash_body, hash_client_secret, safe_equal_hex, sign_request,
};
use authcore::hmac::ip::{AllowedIpEntry, is_client_ip_allowed, normalize_allowed_ip_rules};
use authcore::hmac::message::{MessageKey, sign_message, verify_message};
use authcore::hmac::record::{NamespaceKeys, parse_optional_record, parse_stored_client_record};
use authcore::hmac::verify::{self, HttpRequestParts, HttpVerifier, VerifyOptions};
use authcore::hmac::{HmacError, normalize_path};
use authcore::store::{KvStore, MemoryStore};
use serde_json::{Value, json};

fn vectors_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ffi-tests/vectors"))
}

fn load(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn to_js(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::Null,
        Value::Bool(b) => JsValue::Bool(*b),
        Value::Number(n) => JsValue::Number(n.as_f64().expect("number")),
        Value::String(s) => JsValue::String(JsString::Utf8(s.clone())),
        Value::Array(a) => JsValue::Array(a.iter().map(to_js).collect()),
        Value::Object(o) => JsValue::Object(
            o.iter()
                .map(|(k, v)| (JsString::Utf8(k.clone()), to_js(v)))
                .collect(),
        ),
    }
}

fn s<'a>(input: &'a Value, key: &str) -> &'a str {
    input[key]
        .as_str()
        .unwrap_or_else(|| panic!("input.{key} must be a string"))
}

fn opt_s<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input.get(key).and_then(Value::as_str)
}

fn body(input: &Value) -> Vec<u8> {
    match opt_s(input, "bodyHex") {
        Some(h) => hex::decode(h).expect("bodyHex"),
        None => opt_s(input, "body").unwrap_or("").as_bytes().to_vec(),
    }
}

fn err(e: &HmacError) -> Value {
    match e {
        HmacError::Auth(a) => json!({"error": a.code.as_str(), "status": a.status}),
        HmacError::InvalidInput(_) => json!({"error": "INVALID_INPUT", "status": 500}),
        other => json!({"error": other.code()}),
    }
}

/// Numbers compared as f64 (JSON has no int/float distinction).
fn norm(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
        other => other.clone(),
    }
}

fn ok(v: Value) -> Value {
    json!({ "ok": v })
}

fn record_json(r: &authcore::hmac::ClientRecord) -> Value {
    json!({
        "secretHash": r.secret_hash,
        "createdAt": r.created_at,
        "updatedAt": r.updated_at,
        "expiresAt": r.expires_at,
        "allowedIps": r.allowed_ips,
    })
}

/// Header lookup like the original's `getHeader`: first case-insensitive match, first
/// array element.
fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    let map = headers.as_object().expect("headers object");
    for (k, v) in map {
        if k.eq_ignore_ascii_case(name) {
            return match v {
                Value::Array(a) => a.first().and_then(Value::as_str),
                other => other.as_str(),
            };
        }
    }
    None
}

async fn verify_with_record(input: &Value) -> Value {
    let headers = &input["headers"];
    let b = body(input);
    let parts = HttpRequestParts {
        method: s(input, "method"),
        path: s(input, "path"),
        client_id: header(headers, "x-client-id"),
        signature: header(headers, "x-signature"),
        timestamp: header(headers, "x-timestamp"),
        nonce: header(headers, "x-nonce"),
        body: &b,
    };
    let now = input["now"].as_f64().expect("now");
    let max_skew = input
        .get("maxSkewMs")
        .and_then(Value::as_f64)
        .unwrap_or(300_000.0);
    let candidates: Vec<&str> = input
        .get("ipCandidates")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let raw_record = input["record"].as_str();

    // 1. The sans-IO functions.
    let sans_io = match verify::prepare(&parts, now, max_skew) {
        Err(e) => err(&e),
        Ok(prepared) => match parse_optional_record(raw_record) {
            None => err(&verify::unknown_client()),
            Some(record) => {
                match verify::check_record(&prepared, &parts, &record, now, &candidates) {
                    Err(e) => {
                        if let Some(d) = &e.bad_signature {
                            assert_eq!(d.received_signature, prepared.signature);
                            assert_eq!(d.expected_signature.len(), 64);
                        }
                        err(&e.error)
                    }
                    Ok(()) => ok(json!({
                        "clientId": prepared.client_id,
                        "timestamp": prepared.timestamp,
                        "nonce": prepared.nonce,
                        "signature": prepared.signature,
                    })),
                }
            }
        },
    };

    // 2. The store-backed verifier over the embedded memory store must agree.
    let store = Arc::new(MemoryStore::new());
    let keys = NamespaceKeys::new(Some("vectors")).unwrap();
    if let (Some(raw), Some(id)) = (raw_record, parts.client_id) {
        store
            .hset(&keys.clients_hash_key, id.trim(), raw)
            .await
            .unwrap();
    }
    let verifier = HttpVerifier::new(store.clone(), keys.clone(), max_skew).unwrap();
    let opts = VerifyOptions {
        now_ms: Some(now),
        max_skew_ms: Some(max_skew),
        ip_candidates: &candidates,
    };
    let via_store = match verifier.verify(&parts, opts).await {
        Err(e) => err(&e.error),
        Ok(v) => ok(
            json!({"clientId": v.client_id, "timestamp": v.timestamp, "nonce": v.nonce, "signature": v.signature}),
        ),
    };
    assert_eq!(
        sans_io, via_store,
        "sans-IO and store-backed verification disagree"
    );
    if via_store.get("ok").is_some() {
        // The nonce is now consumed: the same request is a replay.
        let replay = verifier.verify(&parts, opts).await.unwrap_err();
        assert_eq!(replay.error.code(), "REPLAYED_NONCE");
    } else if let Ok(prepared) = verify::prepare(&parts, now, max_skew) {
        // A rejected request never burns its nonce.
        let nonce_key = keys.nonce_key(prepared.client_id, prepared.nonce, prepared.timestamp);
        assert_eq!(
            store.get(&nonce_key).await.unwrap(),
            None,
            "a rejected request left its nonce claimed"
        );
    }
    sans_io
}

async fn run_case(op: &str, input: &Value) -> Value {
    match op {
        "hash_client_secret" => ok(json!(hash_client_secret(
            s(input, "secret"),
            opt_s(input, "secretToken")
        ))),
        "hash_body" => ok(json!(hash_body(&body(input)))),
        "build_signing_payload" | "sign_request" => {
            let b = body(input);
            let si = SignInput {
                method: s(input, "method"),
                path: s(input, "path"),
                timestamp: input["timestamp"].as_f64().expect("timestamp"),
                nonce: s(input, "nonce"),
                body: &b,
                secret: opt_s(input, "secret").unwrap_or(""),
            };
            let r = if op == "sign_request" {
                sign_request(&si)
            } else {
                build_signing_payload(&si)
            };
            match r {
                Ok(v) => ok(json!(v)),
                Err(e) => json!({"error": e.code()}),
            }
        }
        "normalize_path" => match normalize_path(s(input, "path")) {
            Ok(p) => ok(json!(p)),
            Err(e) => json!({"error": e.code()}),
        },
        "safe_equal_hex" => ok(json!(safe_equal_hex(s(input, "a"), s(input, "b")))),
        "message_canonical" => ok(json!(to_message_string(&to_js(&input["message"])).unwrap())),
        "sign_message" | "verify_message" => {
            let key = MessageKey {
                secret: s(input, "secret"),
                secret_is_hashed: input
                    .get("secretIsHashed")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                hash_token: opt_s(input, "hashToken"),
            };
            let message = to_js(&input["message"]);
            let client_id = s(input, "clientId");
            if op == "sign_message" {
                match sign_message(client_id, &message, key) {
                    Ok(m) => ok(
                        json!({"clientId": m.client_id, "messageHash": m.message_hash, "signature": m.signature}),
                    ),
                    Err(e) => json!({"error": e.code()}),
                }
            } else {
                match verify_message(client_id, &message, key, s(input, "signature")) {
                    Ok(b) => ok(json!(b)),
                    Err(e) => json!({"error": e.code()}),
                }
            }
        }
        "ip_allowed" => {
            let rules: Vec<&str> = input["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            ok(json!(is_client_ip_allowed(s(input, "ip"), &rules)))
        }
        "normalize_allowed_ips" => {
            let entries: Vec<AllowedIpEntry> = input["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| match v.as_str() {
                    Some(s) => AllowedIpEntry::Str(s.to_owned()),
                    None => AllowedIpEntry::NotAString,
                })
                .collect();
            match normalize_allowed_ip_rules(Some(&entries)) {
                Ok(v) => ok(json!(v)),
                Err(e) => json!({"error": e.code()}),
            }
        }
        "parse_record" => ok(record_json(&parse_stored_client_record(s(input, "raw")))),
        "verify_with_record" => verify_with_record(input).await,
        other => panic!("unknown op {other:?}: every runner must implement every op"),
    }
}

#[tokio::test]
async fn upstream_naskot_vectors() {
    let hashes = load(&vectors_dir().join("naskot/hash-client-secret.json"));
    let cases = hashes["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 20);
    for c in cases {
        let token = s(c, "secretToken");
        let got = hash_client_secret(s(c, "secret"), (!token.is_empty()).then_some(token));
        assert_eq!(got, s(c, "expectedHex"), "{}", s(c, "id"));
    }
    let signs = load(&vectors_dir().join("naskot/sign-request.json"));
    let cases = signs["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 33);
    for c in cases {
        let got = sign_request(&SignInput {
            method: s(c, "method"),
            path: s(c, "path"),
            timestamp: c["timestamp"].as_f64().unwrap(),
            nonce: s(c, "nonce"),
            body: s(c, "body").as_bytes(),
            secret: s(c, "secret"),
        })
        .unwrap();
        assert_eq!(got, s(c, "expectedHex"), "{}", s(c, "id"));
    }
}

#[tokio::test]
async fn hmac_vectors() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("hmac-")
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "expected hmac-derived.json and hmac-edge.json"
    );
    let mut total = 0;
    for f in files {
        let doc = load(&f);
        for c in doc["cases"].as_array().unwrap() {
            let got = run_case(s(c, "op"), &c["input"]).await;
            let want = &c["expect"];
            // Compare only the fields the vector states (status is optional).
            let mut got_cmp = got.clone();
            if want.get("status").is_none()
                && let Some(o) = got_cmp.as_object_mut()
            {
                o.remove("status");
            }
            assert_eq!(
                norm(&got_cmp),
                norm(want),
                "{} {}",
                f.file_name().unwrap().to_string_lossy(),
                s(c, "id")
            );
            total += 1;
        }
    }
    assert!(total > 200, "only {total} cases ran");
}
