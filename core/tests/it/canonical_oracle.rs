//! Differential check of the message track's canonical JSON against Node: every case of
//! `ffi-tests/vectors/canonical-json-oracle.json` (random JSON texts canonicalised by the
//! original algorithm under Node's ICU, see `ffi-tests/tools/gen-canonical-oracle.mjs`)
//! must give the same text and the same SHA-256 through the Rust core.

use authcore::hmac::canonical::{JsString, locale_compare, parse_json, to_message_string};
use authcore::hmac::crypto::sha256_hex;
use serde_json::Value;
use std::cmp::Ordering;

#[test]
fn canonical_json_matches_node_on_random_values() {
    // Another seed: `node ffi-tests/tools/gen-canonical-oracle.mjs SEED N > f.json` and
    // `AUTHCORE_CANONICAL_ORACLE=f.json cargo test -p authcore --test it canonical_oracle::`.
    let path = std::env::var("AUTHCORE_CANONICAL_ORACLE").unwrap_or_else(|_| {
        format!(
            "{}/../ffi-tests/vectors/canonical-json-oracle.json",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let marker = file["marker"].as_str().unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 300, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let json = case["json"].as_str().unwrap();
        let value = parse_json(json, Some(marker)).unwrap_or_else(|e| panic!("{id}: {e}"));
        let got = to_message_string(&value).unwrap_or_else(|e| panic!("{id}: {e}"));
        if got != case["canonical"].as_str().unwrap()
            || sha256_hex(got.as_bytes()) != case["sha256"].as_str().unwrap()
        {
            failures.push(format!(
                "{id}\n  json: {json}\n  node: {}\n  rust: {got}",
                case["canonical"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Node:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn units(s: &[u16]) -> JsString {
    JsString::from_utf16(s.to_vec())
}

/// ICU (what `localeCompare` runs on) collates a lone surrogate as the unassigned code
/// point it names: after U+D7FF, before U+E000 and far before U+FFFD, ordered by value.
/// Comparing it as U+FFFD (ICU4X's `compare_utf16`) sorted keys differently from Node.
/// Every expectation below is what Node 20 (ICU 78) prints for `a.localeCompare(b)`.
#[test]
fn lone_surrogates_collate_like_icu() {
    let cases: &[(&[u16], &[u16], Ordering)] = &[
        (&[0xD800], &[0xFFFD], Ordering::Less),
        (&[0xD800], &[0xDC00], Ordering::Less),
        (&[0xDFFF], &[0xD800], Ordering::Greater),
        (&[0xD800, 0x61], &[0xDC00], Ordering::Less),
        (&[0xD7FF], &[0xD800], Ordering::Less),
        (&[0xDFFF], &[0xE000], Ordering::Less),
        (&[0xD800], &[0x61], Ordering::Greater),
        (&[0x61, 0xD800], &[0x61, 0xD800], Ordering::Equal),
        (&[0xD800, 0x62], &[0xD800, 0x61], Ordering::Greater),
        (&[0xD83D], &[0xD83D, 0xDE00], Ordering::Greater),
        (&[0x61, 0xDE00], &[0x41, 0xDE00], Ordering::Less),
    ];
    for (a, b, want) in cases {
        assert_eq!(
            locale_compare(&units(a), &units(b)),
            *want,
            "{a:04x?} vs {b:04x?}"
        );
        assert_eq!(
            locale_compare(&units(b), &units(a)),
            want.reverse(),
            "{b:04x?} vs {a:04x?}"
        );
    }
}
