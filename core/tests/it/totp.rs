//! TOTP: RFC 6238 vectors, otplib parity, drift window, replay protection, malformed codes.

use crate::support;

use authcore::totp::{self, TotpAlgorithm, TotpConfig, TotpError};
use serde_json::Value;
use support::{run_vector_file, s, vectors};

fn u(v: &Value, k: &str) -> u64 {
    v[k].as_u64()
        .unwrap_or_else(|| panic!("missing number {k}"))
}

fn run_case(op: &str, i: &Value) -> Result<Value, TotpError> {
    match op {
        "totp_generate_raw" => {
            let cfg = TotpConfig {
                algorithm: TotpAlgorithm::parse(s(i, "algorithm")).unwrap(),
                digits: u(i, "digits") as u32,
                period: u(i, "period"),
                ..TotpConfig::default()
            };
            let secret = hex::decode(s(i, "secretHex")).unwrap();
            let code = totp::generate_code_raw(&secret, u(i, "time"), &cfg)?;
            // The same code must verify at that time (the RFC secrets are raw bytes).
            assert_eq!(
                totp::verify_raw(&code, &secret, u(i, "time"), &cfg, None)?,
                cfg.step_at(u(i, "time"))
            );
            Ok(code.into())
        }
        "totp_generate" => {
            totp::generate_code(s(i, "secret"), u(i, "time"), &TotpConfig::default())
                .map(Value::from)
        }
        "totp_verify" => {
            let cfg = TotpConfig {
                window: u(i, "window"),
                ..TotpConfig::default()
            };
            let last = i.get("lastUsedStep").and_then(Value::as_u64);
            totp::verify(s(i, "code"), s(i, "secret"), u(i, "now"), &cfg, last).map(Value::from)
        }
        "totp_otpauth_url" => Ok(totp::otpauth_url(
            s(i, "issuer"),
            s(i, "account"),
            s(i, "secret"),
            &TotpConfig::default(),
        )
        .into()),
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn rfc6238_and_otplib_vectors() {
    let n = run_vector_file("totp-rfc6238.json", run_case);
    let doc = vectors("totp-rfc6238.json");
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), n);
    assert_eq!(
        cases
            .iter()
            .filter(|c| c["op"] == "totp_generate_raw")
            .count(),
        18,
        "all of Appendix B, 3 hashes"
    );
}

#[test]
fn generated_secret_is_20_bytes_base32_without_padding() {
    let a = totp::generate_secret().unwrap();
    let b = totp::generate_secret().unwrap();
    assert_ne!(a, b);
    assert_eq!(a.len(), 32);
    assert!(
        a.bytes()
            .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)),
        "{a}"
    );
    assert_eq!(totp::decode_secret(&a).unwrap().len(), 20);
    let g = totp::generate_secret_for("alice@example.com", totp::DEFAULT_APP_NAME).unwrap();
    assert_eq!(
        g.otpauth_url,
        format!(
            "otpauth://totp/awesome-node-auth:alice%40example.com?secret={}&issuer=awesome-node-auth",
            g.secret
        )
    );
}

#[test]
fn base32_round_trip_and_rfc4648_vectors() {
    for (raw, enc) in [
        ("", ""),
        ("f", "MY"),
        ("fo", "MZXQ"),
        ("foo", "MZXW6"),
        ("foob", "MZXW6YQ"),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI"),
    ] {
        assert_eq!(totp::base32_encode(raw.as_bytes()), enc);
        assert_eq!(totp::base32_decode(enc).unwrap(), raw.as_bytes());
        assert_eq!(
            totp::base32_decode(&enc.to_lowercase()).unwrap(),
            raw.as_bytes()
        );
    }
    for bad in ["MZXW6===", "MZ XW", "MZXW1", "M", "MZX"] {
        assert_eq!(
            totp::base32_decode(bad).unwrap_err().code(),
            "TOTP_INVALID_SECRET",
            "{bad}"
        );
    }
}

#[test]
fn otpauth_url_lists_non_default_parameters() {
    let cfg = TotpConfig {
        algorithm: TotpAlgorithm::Sha256,
        digits: 8,
        period: 60,
        ..TotpConfig::default()
    };
    assert_eq!(
        totp::otpauth_url("My App", "bob@example.com", "ABC", &cfg),
        "otpauth://totp/My%20App:bob%40example.com?secret=ABC&issuer=My%20App&algorithm=SHA256&digits=8&period=60"
    );
}

/// node-auth §6 item 32: no replay protection, malformed codes gave a 500, no drift window.
#[test]
fn replay_within_a_step_is_rejected_and_next_step_accepted() {
    let secret = totp::generate_secret().unwrap();
    let cfg = TotpConfig::default();
    let t = 1_700_000_010;
    let code = totp::generate_code(&secret, t, &cfg).unwrap();
    let step = totp::verify(&code, &secret, t, &cfg, None).unwrap();
    // Same code again in the same 30 s step: replay.
    let e = totp::verify(&code, &secret, t + 5, &cfg, Some(step)).unwrap_err();
    assert_eq!(e, TotpError::Replayed { step });
    assert_eq!(e.code(), "TOTP_REPLAYED");
    assert_eq!(e.status(), 401);
    assert!(!totp::check(&code, &secret, t + 5, &cfg, Some(step)));
    // The next step's code is fine.
    let next = totp::generate_code(&secret, t + 30, &cfg).unwrap();
    assert_eq!(
        totp::verify(&next, &secret, t + 30, &cfg, Some(step)).unwrap(),
        step + 1
    );
}

#[test]
fn drift_window_is_configurable() {
    let secret = totp::generate_secret().unwrap();
    let t = 1_800_000_000;
    let old = totp::generate_code(&secret, t - 30, &TotpConfig::default()).unwrap();
    assert!(
        totp::verify(
            &old,
            &secret,
            t,
            &TotpConfig {
                window: 1,
                ..Default::default()
            },
            None
        )
        .is_ok()
    );
    assert_eq!(
        totp::verify(&old, &secret, t, &TotpConfig::NODE_AUTH, None)
            .unwrap_err()
            .code(),
        "TOTP_INVALID_CODE"
    );
    let older = totp::generate_code(&secret, t - 90, &TotpConfig::default()).unwrap();
    assert!(
        totp::verify(
            &older,
            &secret,
            t,
            &TotpConfig {
                window: 3,
                ..Default::default()
            },
            None
        )
        .is_ok()
    );
    assert_eq!(
        totp::verify(
            &older,
            &secret,
            t,
            &TotpConfig {
                window: 11,
                ..Default::default()
            },
            None
        )
        .unwrap_err()
        .code(),
        "TOTP_INVALID_CONFIG"
    );
}

#[test]
fn malformed_codes_are_clean_400_rejections_never_panics() {
    let secret = totp::generate_secret().unwrap();
    let cfg = TotpConfig::default();
    let inputs = [
        "",
        "1",
        "12345",
        "1234567",
        "abcdef",
        "12 456",
        "12345\n",
        "١٢٣٤٥٦",
        "１２３４５６",
        "-12345",
        "+12345",
        "1e5000",
        "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}",
        "😀😀",
        "999999999999999999999999",
    ];
    for code in inputs {
        let e = totp::verify(code, &secret, 1_700_000_000, &cfg, None).unwrap_err();
        assert_eq!(e.code(), "TOTP_MALFORMED_CODE", "{code:?}");
        assert_eq!(e.status(), 400);
        assert!(!totp::check(code, &secret, 1_700_000_000, &cfg, None));
    }
    // Bad stored secrets are typed too, and `check` is simply false.
    for (bad, code) in [
        ("", "TOTP_SECRET_TOO_SHORT"),
        ("not base32!", "TOTP_INVALID_SECRET"),
        (&"A".repeat(104)[..], "TOTP_SECRET_TOO_LONG"),
    ] {
        assert_eq!(
            totp::verify("123456", bad, 0, &cfg, None)
                .unwrap_err()
                .code(),
            code,
            "{bad}"
        );
        assert!(!totp::check("123456", bad, 0, &cfg, None));
    }
    assert_eq!(
        totp::verify("123456", &secret, 0, &TotpConfig { digits: 5, ..cfg }, None)
            .unwrap_err()
            .code(),
        "TOTP_INVALID_CONFIG"
    );
}

#[test]
fn wrong_code_is_invalid_not_malformed() {
    let secret = totp::generate_secret().unwrap();
    let cfg = TotpConfig {
        window: 0,
        ..TotpConfig::default()
    };
    let t = 1_700_000_000;
    let good = totp::generate_code(&secret, t, &cfg).unwrap();
    let wrong = format!("{:06}", (good.parse::<u32>().unwrap() + 1) % 1_000_000);
    let e = totp::verify(&wrong, &secret, t, &cfg, None).unwrap_err();
    assert_eq!(e.code(), "TOTP_INVALID_CODE");
    assert_eq!(e.status(), 401);
}

#[test]
fn an_algorithm_option_outside_the_three_is_invalid_config() {
    assert_eq!(
        TotpAlgorithm::from_option("sha-256").unwrap(),
        TotpAlgorithm::Sha256
    );
    assert_eq!(
        TotpAlgorithm::from_option("SHA1").unwrap(),
        TotpAlgorithm::Sha1
    );
    for bad in ["MD5", "", "sha3-256"] {
        let e = TotpAlgorithm::from_option(bad).unwrap_err();
        assert_eq!(e.code(), "TOTP_INVALID_CONFIG", "{bad}");
        assert_eq!(
            e.to_string(),
            "invalid TOTP configuration: algorithm must be SHA1, SHA256 or SHA512"
        );
    }
}
