//! Property-test twins of the fuzz targets in `fuzz/`: the same checks
//! (`support/parser_checks.rs`) fed with inputs shaped like each parser's grammar instead
//! of libFuzzer's mutations, on a fixed seed and a small budget so `make test` runs them
//! every time (`scripts/fuzz.sh` runs the fuzzers themselves).

use crate::parser_checks as checks;

use authcore::propagation::wire;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x00a0_7c0e),
        failure_persistence: None,
        ..Config::default()
    }
}

/// JSON texts: nested objects and arrays with keys that stress collation and the
/// own-property order, numbers in many spellings, escapes and lone surrogates.
fn json_text() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        "[a-zA-Z_\\-0-9]{0,4}",
        "(0|[1-9][0-9]{0,10})",
        Just("__proto__".to_owned()),
        "[äåöéßıİ中😀\u{ad}\u{200b}]{1,3}",
        "(\\\\ud800|\\\\udc00|\\\\udfff|\\\\ue000|\\\\ud7ff|\\\\ufffd|a){1,3}",
    ];
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,5})?([eE][+-]?[0-9]{1,3})?",
        any::<f64>().prop_map(|f| if f.is_finite() {
            format!("{f:e}")
        } else {
            "0".into()
        }),
        "\"([a-z \\\\\"/]|\\\\[bfnrt/]|\\\\u[0-9a-fA-F]{4}|[\u{80}-\u{10ffff}])*\"",
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key.clone(), inner.clone()), 0..6).prop_map(|kv| {
                let body: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", body.join(","))
            }),
            inner.prop_map(|v| format!("{{\"$m\":{v}}}")),
        ]
    })
}

fn with_selector(sel: u8, s: &str) -> Vec<u8> {
    let mut v = vec![sel];
    v.extend_from_slice(s.as_bytes());
    v
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn canonical_json(sel in any::<u8>(), text in json_text()) {
        checks::canonical_json(&with_selector(sel, &text));
    }

    #[test]
    fn canonical_json_bytes(data in prop::collection::vec(any::<u8>(), 0..64)) {
        checks::canonical_json(&data);
    }

    #[test]
    fn js_number(
        text in "[ \t\u{a0}\u{feff}]{0,2}[+-]?(0[xXoObB][0-9a-fA-F_]{0,10}|Infinity|[0-9]{0,20}(\\.[0-9]{0,20})?([eE][+-]?[0-9]{0,4})?|NaN|inf)[ \n\u{2028}]{0,2}",
        bits in any::<u64>(),
    ) {
        checks::js_number(text.as_bytes());
        checks::js_number(&bits.to_le_bytes());
    }

    #[test]
    fn path_url(
        sel in any::<u8>(),
        path in "(/|//|\\\\|http://h|https://x:1|mailto:|[a-z]{0,3})([a-zA-Z0-9 ./\\\\%?#&=~;:@\t\n\u{e9}\u{2028}-]|%2[eE]|%[0-9a-fA-F]{2}|\\.\\.|/\\./){0,12}",
    ) {
        checks::path_url(&with_selector(sel, &path));
    }

    #[test]
    fn ip_rules(
        lines in prop::collection::vec(
            prop_oneof![
                "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(/[0-9]{1,3})?(:[0-9]{1,5})?",
                "\\[?(::ffff:|::|[0-9a-fA-F]{1,4}:){1,7}[0-9a-fA-F]{0,4}(%[a-z0-9]{0,4})?\\]?(/[0-9]{1,3})?",
                " ?[0-9a-fx:./%,\\[\\] ]{0,20}",
            ],
            1..5,
        ),
    ) {
        checks::ip_rules(lines.join("\n").as_bytes());
    }

    #[test]
    fn client_record(
        hash in "[0-9a-f\"\\\\\u{e9}]{0,12}",
        created in prop_oneof![any::<f64>().prop_map(|f| f.to_string()), Just("1e400".to_owned()), Just("\"1\"".to_owned())],
        expires in prop_oneof![Just("null".to_owned()), "-?[0-9]{1,16}(\\.[0-9])?", Just("true".to_owned())],
        ips in prop::collection::vec("(10\\.0\\.0\\.[0-9]{1,3}(/[0-9]{1,2})?|::1|bogus|1)", 0..4),
        shape in 0u8..4,
    ) {
        let ips: Vec<String> = ips.iter().map(|i| format!("\"{i}\"")).collect();
        let raw = match shape {
            0 => format!("{{\"secretHash\":\"{hash}\",\"createdAt\":{created},\"updatedAt\":1,\"expiresAt\":{expires},\"allowedIps\":[{}]}}", ips.join(",")),
            1 => format!("{{\"allowedIps\":[{}],\"secretHash\":\"{hash}\",\"secretHash\":\"x\",\"extra\":{{}}}}", ips.join(",")),
            2 => format!("{{\"secretHash\":1,\"createdAt\":{created}}}"),
            _ => hash,
        };
        checks::client_record(raw.as_bytes());
    }

    #[test]
    fn propagation_wire_round_trip(
        event_id in "[a-z0-9\\-\u{e9}\"]{1,12}",
        ts in -9_000_000_000_000_000i64..9_000_000_000_000_000,
        secret in ".{0,8}",
        queue in "[a-z.]{1,8}",
        op in prop_oneof![Just("upsert".to_owned()), Just("delete".to_owned()), "[a-z]{0,6}"],
        track in "[a-z]{0,6}",
        client_id in "[a-zA-Z0-9 _\u{1f600}]{1,10}",
        secret_hash in "[0-9a-f]{0,64}",
        allowed_ips in prop::option::of(prop::collection::vec("[0-9./]{1,12}", 0..3)),
        expires_at in prop::option::of(-9_000_000_000_000_000i64..9_000_000_000_000_000),
    ) {
        let event = wire::ApplyEvent {
            event_id, ts, propagation_secret: secret, sender_amqp_queue: queue, op, track, client_id,
            payload: wire::ApplyPayload { secret_hash, allowed_ips, expires_at },
        };
        checks::wire_round_trip(&event);
        checks::propagation_wire(&wire::encode(&event));
    }

    #[test]
    fn propagation_wire_bytes(data in prop::collection::vec(any::<u8>(), 0..96)) {
        checks::propagation_wire(&data);
    }

    #[test]
    fn jwt_segments(
        token in "[A-Za-z0-9_\\-]{0,40}\\.?[A-Za-z0-9_\\-=+/]{0,40}\\.?[A-Za-z0-9_\\-]{0,44}(\\.[a-z]{0,3})?",
        header in "\\{(\"alg\":\"(HS256|none|NONE|RS256|ES256|HS512|x)\")?(,\"kid\":(\"[a-z]{0,3}\"|1))?(,\"crit\":\\[\\])?\\}",
        payload in "\\{(\"sub\":\"[a-z]{0,4}\")?\\}|\\[\\]|1|",
    ) {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        checks::jwt_segments(token.as_bytes());
        let built = format!("{}.{}.{}", b64.encode(&header), b64.encode(&payload), token);
        checks::jwt_segments(built.as_bytes());
    }
}

proptest! {
    // Each case may hash (argon2 m=8 KiB or bcrypt cost 4): fewer cases.
    #![proptest_config(config(24))]

    #[test]
    fn password_hashes(
        sel in 0u8..4,
        phc in prop_oneof![
            "\\$argon2(id|i|d)\\$(v=(19|16|1)\\$)?(m=[0-9]{1,6},t=[0-9]{1,2},p=[0-9]{1,2})(,[a-z]+=[a-z0-9]+)?\\$[A-Za-z0-9+/]{0,24}\\$[A-Za-z0-9+/]{0,44}",
            "\\$2[abxy]?\\$(0[0-5]|[0-9]{1,3})\\$[./A-Za-z0-9]{0,55}",
            ".{0,20}",
        ],
    ) {
        checks::password_hashes(&with_selector(sel, &phc));
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn sse_input(
        sel in any::<u8>(),
        event_type in prop_oneof![
            Just("session_revoke".to_owned()), Just("account_delete".to_owned()),
            Just("role_revoke".to_owned()), "[A-Za-z][A-Za-z0-9_./-]{0,8}", "[0-9 ]{0,3}",
        ],
        outcome in prop_oneof![Just("success"), Just("failure"), Just("other")],
        account in prop_oneof![Just("null".to_owned()), "\"[a-z0-9\\-]{0,8}\"", Just("1".to_owned())],
        metadata in prop_oneof![Just("null".to_owned()), json_text()],
        seq in prop_oneof![any::<i64>().prop_map(|s| s.to_string()), Just("1.5".to_owned()), Just("\"1\"".to_owned())],
    ) {
        let row = format!(
            "{{\"id\":\"00000000-0000-0000-0000-000000000000\",\"seq\":{seq},\"event_type\":\"{event_type}\",\"outcome\":\"{outcome}\",\"actor_id\":null,\"account_id\":{account},\"target_account_id\":null,\"target_actor_id\":null,\"ip\":null,\"created_at\":\"2026-01-01T00:00:00Z\",\"metadata\":{metadata}}}"
        );
        checks::sse_input(&with_selector(sel, &row));
    }

    #[test]
    fn sse_text(sel in any::<u8>(), text in "(.|\r\n|\r|\n){0,24}", json in json_text()) {
        checks::sse_input(&with_selector(sel, &text));
        checks::sse_input(&with_selector(sel, &json));
        checks::comment_round_trip(&text);
    }

    #[test]
    fn policy_document(
        effect in prop_oneof![Just("Allow"), Just("Deny"), Just("allow"), Just("x")],
        principals in prop::collection::vec(prop_oneof![
            Just("*".to_owned()), "(user|role|group):[a-z0-9*]{0,5}", "[a-z:]{0,6}"], 0..3),
        actions in prop::collection::vec("[a-zA-Z*:]{0,8}", 0..3),
        resources in prop::collection::vec("[a-z*]{0,4}(/[a-z*]{0,4}){0,3}(/\\*\\*)?", 0..3),
        conditions in "(,\"conditions\":\\[\\{\"attribute\":\"[a-z]{1,4}\",\"operator\":\"(Equals|NotEquals|In|Gt|Lt|x)\",\"value\":(1|\"a\"|\\[1\\]|null)\\}\\])?",
        words in "[a-z*/ \n]{0,24}",
    ) {
        let q = |v: &[String]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(",");
        let doc = format!(
            "{{\"version\":\"1.0\",\"statements\":[{{\"sid\":\"s\",\"effect\":\"{effect}\",\"principals\":[{}],\"actions\":[{}],\"resources\":[{}]{conditions}}}]}}",
            q(&principals), q(&actions), q(&resources)
        );
        checks::policy_document(doc.as_bytes());
        checks::policy_document(words.as_bytes());
    }
}

/// Inputs the fuzzers once failed on, kept as named cases.
mod found_by_fuzzing {
    use super::checks;

    /// `path_url`: `/\r/…` is protocol-relative once the parser drops the `\r` (host `�:-`,
    /// an invalid URL, as in Node), so it is not the path `/…` of the absolute form. The
    /// check compared the two forms; the core was right.
    #[test]
    fn path_with_newline_after_the_first_slash() {
        checks::path_url(b"\r/\r/\xb0:-");
        checks::path_url(b"\x00/\t/host/x");
    }
}
