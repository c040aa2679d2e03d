//! The stateless helpers the C ABI is built on: password length check and unknown-user
//! path without a `PasswordHasher`, policy documents and queries as separate JSON texts.

use crate::support;

use std::time::{Duration, Instant};

use authcore::password::{self, Argon2Params, PasswordError};
use authcore::policy::{self, DecisionReason, PolicyError, PolicyQuery};
use serde_json::{Value, json};
use support::vectors;

#[test]
fn password_length_limit() {
    assert_eq!(password::check_password_length(&[b'x'; 10], 10), Ok(()));
    assert_eq!(
        password::check_password_length(&[b'x'; 11], 10),
        Err(PasswordError::PasswordTooLong { max: 10 })
    );
    assert_eq!(password::check_password_length(b"", 0), Ok(()));
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
fn unknown_user_path_is_false_and_costs_a_real_verification() {
    let params = Argon2Params::OWASP;
    let real = password::hash_argon2id(b"hunter2", &params).unwrap();
    // Warm up (the first unknown-user call also makes the dummy hash).
    assert_eq!(
        password::verify_unknown_user(b"hunter2", &params),
        Ok(false)
    );
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        assert!(password::verify_argon2(b"hunter2", &real).unwrap());
        known.push(t.elapsed());
        let t = Instant::now();
        // Even the right password of some real account is `false` here.
        assert_eq!(
            password::verify_unknown_user(b"hunter2", &params),
            Ok(false)
        );
        unknown.push(t.elapsed());
    }
    let (k, u) = (median(known), median(unknown));
    // Same KDF at the same parameters: within a factor of 2 either way (generous, so a
    // loaded machine does not make this flaky; skipping the KDF would be ~1000x faster).
    assert!(u * 2 >= k && u <= k * 2, "known {k:?}, unknown {u:?}");
}

#[test]
fn unknown_user_path_checks_its_parameters() {
    let bad = Argon2Params {
        m_cost: 1,
        ..Argon2Params::OWASP
    };
    assert!(matches!(
        password::verify_unknown_user(b"pw", &bad),
        Err(PasswordError::InvalidParams(_))
    ));
    let small = Argon2Params {
        m_cost: 1024,
        t_cost: 1,
        p_cost: 1,
        output_len: 32,
    };
    assert_eq!(password::verify_unknown_user(b"", &small), Ok(false));
}

/// Split a vector's `request` into documents JSON and query JSON.
fn split_request(request: &Value) -> (String, String) {
    let mut q = request.as_object().unwrap().clone();
    let docs = q.remove("documents").unwrap();
    (docs.to_string(), Value::Object(q).to_string())
}

#[test]
fn evaluate_query_agrees_with_evaluate_request_json_on_every_vector() {
    let doc = vectors("policy.json");
    let mut n = 0;
    for c in doc["cases"].as_array().unwrap() {
        if c["op"] != "policy_check" {
            continue;
        }
        let request = &c["input"]["request"];
        let want = c["expect"]["ok"].as_bool().unwrap();
        assert_eq!(
            policy::evaluate_request_json(&request.to_string()).unwrap(),
            want
        );
        let (docs, query) = split_request(request);
        let d = policy::evaluate_query_json(&docs, &query).unwrap();
        assert_eq!(d.allowed, want, "{}", c["id"]);
        match &d.reason {
            DecisionReason::Allowed(_) => assert!(d.allowed),
            _ => assert!(!d.allowed),
        }
        n += 1;
    }
    assert!(n >= 50, "{n}");
}

fn docs() -> String {
    json!([{"version": "1.0", "statements": [
        {"sid": "Read", "effect": "Allow", "principals": ["role:viewer"], "actions": ["get*"],
         "resources": ["service:core/**"]},
        {"sid": "NoCost", "effect": "Deny", "principals": ["*"], "actions": ["getCost"],
         "resources": ["service:core/**"]}
    ]}])
    .to_string()
}

#[test]
fn query_decision_reports_reason_and_deciding_action() {
    let q = |v: Value| policy::evaluate_query_json(&docs(), &v.to_string()).unwrap();
    let base = json!({"userId": "u", "roles": ["viewer"], "resource": "service:core/x"});
    let with = |k: &str, v: Value| {
        let mut o = base.clone();
        o[k] = v;
        o
    };

    let d = q(with("action", json!("getX")));
    assert!(d.allowed);
    assert_eq!(d.reason, DecisionReason::Allowed(Some("Read".into())));
    assert_eq!(d.action_index, Some(0));

    let d = q(with("actions", json!(["getX", "getCost", "postX"])));
    assert!(!d.allowed);
    assert_eq!(
        d.reason,
        DecisionReason::ExplicitDeny(Some("NoCost".into()))
    );
    assert_eq!(d.action_index, Some(1));

    let d = q(with("actions", json!(["getX", "postX"])));
    assert_eq!(d.reason, DecisionReason::NoMatch);
    assert_eq!(d.action_index, Some(1));

    let d = q(with("action", json!("get*")));
    assert_eq!(d.reason, DecisionReason::InvalidRequest);
    assert!(!d.allowed);

    let d = q(with("actions", json!([])));
    assert!(!d.allowed);
    assert_eq!(d.reason, DecisionReason::InvalidRequest);
    assert_eq!(d.action_index, None);

    // A role inherited through the directory.
    let mut inherited = json!({"userId": "u", "roles": ["child"], "action": "getX",
        "resource": "service:core/x", "directory": {"roleParents": {"child": "viewer"}}});
    assert!(q(inherited.clone()).allowed);
    inherited["directory"] = json!({});
    assert!(!q(inherited).allowed);
}

#[test]
fn malformed_queries_and_documents_are_typed_errors() {
    let code = |d: &str, q: &str| policy::evaluate_query_json(d, q).unwrap_err().code();
    let ok_query = r#"{"userId":"u","action":"a","resource":"r"}"#;
    // A single document is accepted as well as an array.
    let single = r#"{"version":"1.0","statements":[]}"#;
    assert!(policy::evaluate_query_json(single, ok_query).is_ok());
    assert_eq!(policy::parse_documents_json(single).unwrap().len(), 1);
    assert_eq!(policy::parse_documents_json("[]").unwrap().len(), 0);

    assert_eq!(code("not json", ok_query), "POLICY_INVALID_DOCUMENT");
    assert_eq!(code("42", ok_query), "POLICY_INVALID_DOCUMENT");
    assert_eq!(code("[{}]", ok_query), "POLICY_INVALID_DOCUMENT");
    let bad_principal = r#"[{"statements":[{"effect":"Allow","principals":["team:x"],"actions":["a"],"resources":["r"]}]}]"#;
    assert_eq!(code(bad_principal, ok_query), "POLICY_INVALID_PRINCIPAL");

    assert_eq!(code("[]", "{"), "POLICY_INVALID_REQUEST");
    assert_eq!(
        code("[]", r#"{"userId":"u","resource":"r"}"#),
        "POLICY_INVALID_REQUEST"
    );
    assert_eq!(
        code(
            "[]",
            r#"{"userId":"u","action":"a","actions":["b"],"resource":"r"}"#
        ),
        "POLICY_INVALID_REQUEST"
    );
    // A misspelt field is an error, not an empty list.
    assert_eq!(
        code("[]", r#"{"userId":"u","acitons":["a"],"resource":"r"}"#),
        "POLICY_INVALID_REQUEST"
    );
    assert!(matches!(
        PolicyQuery::parse(r#"{"userId":"u","action":"a","resource":"r","extra":1}"#),
        Err(PolicyError::InvalidRequest(_))
    ));
}

#[test]
fn check_permission_json_agrees_with_the_vectors() {
    let doc = vectors("policy.json");
    let mut n = 0;
    for c in doc["cases"].as_array().unwrap() {
        if c["op"] != "policy_check_permission" {
            continue;
        }
        let mut q = c["input"].as_object().unwrap().clone();
        let docs = q.remove("documents").unwrap().to_string();
        let got = policy::check_permission_json(&docs, &Value::Object(q).to_string());
        match (got, c["expect"].get("ok")) {
            (Ok(r), Some(ok)) => assert_eq!(&serde_json::to_value(r).unwrap(), ok, "{}", c["id"]),
            (Err(e), None) => assert_eq!(e.code(), c["expect"]["error"], "{}", c["id"]),
            (got, _) => panic!("{}: {got:?}", c["id"]),
        }
        n += 1;
    }
    assert!(n >= 5);
    let r = policy::check_permission_json("[]", r#"{"userId":"u","resource":"r","bogus":1}"#);
    assert_eq!(r.unwrap_err().code(), "POLICY_INVALID_REQUEST");
}

#[test]
fn needs_rehash_and_verify_name_a_foreign_hash_alike() {
    let two_x = "$2x$04$Q1cNwDJgXIHWSp0Q8bgZr.RevmcjSsO878Ok8wvlcbAn4HF0KciSS";
    let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Qa9qlRxEVjHpfS4b3LkU3A";
    for h in [two_x, argon2i, "$2b$04$short", "plaintext", ""] {
        assert_eq!(
            password::needs_rehash(h, &Argon2Params::OWASP)
                .unwrap_err()
                .code(),
            password::verify(b"pw", h).unwrap_err().code(),
            "{h}"
        );
    }
    assert_eq!(
        password::needs_rehash(two_x, &Argon2Params::OWASP).unwrap_err(),
        PasswordError::UnsupportedAlgorithm
    );
}
