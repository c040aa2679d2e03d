//! Password hashing: bcryptjs vectors, argon2id, rehash-on-login and the unknown-user path.

use crate::support;

use authcore::password::{
    self, Argon2Params, DummyAlgorithm, HashKind, PasswordConfig, PasswordError, PasswordHasher,
};
use serde_json::Value;
use support::{run_vector_file, s};

/// Small parameters so debug-mode tests stay fast; OWASP defaults are tested separately.
const FAST: Argon2Params = Argon2Params {
    m_cost: 1024,
    t_cost: 1,
    p_cost: 1,
    output_len: 32,
};

fn fast_hasher() -> PasswordHasher {
    PasswordHasher::new(PasswordConfig {
        argon2: FAST,
        ..PasswordConfig::default()
    })
    .unwrap()
}

fn run_case(op: &str, input: &Value) -> Result<Value, PasswordError> {
    match op {
        "bcrypt_verify" => {
            password::bcrypt_verify(s(input, "password").as_bytes(), s(input, "hash"))
                .map(Value::from)
        }
        "bcrypt_hash_with_salt" => {
            password::bcrypt_hash_with_salt_str(s(input, "password").as_bytes(), s(input, "salt"))
                .map(Value::from)
        }
        "bcrypt_hash_prefix" => {
            let cost = input["cost"].as_u64().unwrap() as u32;
            password::bcrypt_hash(s(input, "password").as_bytes(), cost)
                .map(|h| Value::from(&h[..7]))
        }
        "argon2_verify" => {
            password::verify_argon2(s(input, "password").as_bytes(), s(input, "hash"))
                .map(Value::from)
        }
        "argon2_needs_rehash" => {
            let p = Argon2Params {
                m_cost: input["m"].as_u64().unwrap() as u32,
                t_cost: input["t"].as_u64().unwrap() as u32,
                p_cost: input["p"].as_u64().unwrap() as u32,
                output_len: 32,
            };
            password::needs_rehash(s(input, "hash"), &p).map(Value::from)
        }
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn bcryptjs_vectors() {
    assert!(run_vector_file("password-bcrypt.json", run_case) >= 30);
}

#[test]
fn argon2_cffi_vectors() {
    assert!(run_vector_file("password-argon2.json", run_case) >= 15);
}

#[test]
fn argon2id_owasp_defaults_phc_format() {
    let h = password::hash_argon2id(b"hunter2", &Argon2Params::OWASP).unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    // 16-byte salt -> 22 base64 chars, 32-byte hash -> 43 chars.
    let parts: Vec<&str> = h.split('$').collect();
    assert_eq!(parts[4].len(), 22);
    assert_eq!(parts[5].len(), 43);
    assert!(password::verify_argon2(b"hunter2", &h).unwrap());
    assert!(!password::verify_argon2(b"hunter3", &h).unwrap());
    assert!(!password::needs_rehash(&h, &Argon2Params::OWASP).unwrap());
    assert_eq!(Argon2Params::default(), Argon2Params::OWASP);
}

#[test]
fn argon2_salt_is_random_and_known_salt_is_deterministic() {
    let a = password::hash_argon2id(b"pw", &FAST).unwrap();
    let b = password::hash_argon2id(b"pw", &FAST).unwrap();
    assert_ne!(a, b);
    let x = password::hash_argon2id_with_salt(b"pw", b"0123456789abcdef", &FAST).unwrap();
    let y = password::hash_argon2id_with_salt(b"pw", b"0123456789abcdef", &FAST).unwrap();
    assert_eq!(x, y);
    assert!(
        x.starts_with("$argon2id$v=19$m=1024,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"),
        "{x}"
    );
}

#[test]
fn needs_rehash_detects_weaker_params_and_bcrypt() {
    let h = password::hash_argon2id(b"pw", &FAST).unwrap();
    assert!(!password::needs_rehash(&h, &FAST).unwrap());
    for p in [
        Argon2Params {
            m_cost: 2048,
            ..FAST
        },
        Argon2Params { t_cost: 2, ..FAST },
        Argon2Params { p_cost: 2, ..FAST },
        Argon2Params {
            output_len: 16,
            ..FAST
        },
    ] {
        assert!(password::needs_rehash(&h, &p).unwrap(), "{p:?}");
    }
    let bc = password::bcrypt_hash(b"pw", 4).unwrap();
    assert!(password::needs_rehash(&bc, &FAST).unwrap());
    assert_eq!(
        password::needs_rehash("garbage", &FAST).unwrap_err().code(),
        "PASSWORD_INVALID_HASH"
    );
}

#[test]
fn malformed_and_foreign_hashes_are_typed_errors() {
    let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Qa9qlRxEVjHpfS4b3LkU3A";
    assert_eq!(
        password::verify(b"pw", argon2i).unwrap_err().code(),
        "PASSWORD_UNSUPPORTED_ALGORITHM"
    );
    assert_eq!(
        password::verify(b"pw", "$argon2id$v=19$m=16")
            .unwrap_err()
            .code(),
        "PASSWORD_INVALID_HASH"
    );
    assert_eq!(
        password::verify(b"pw", "").unwrap_err().code(),
        "PASSWORD_INVALID_HASH"
    );
    assert_eq!(
        password::verify(b"pw", "$scrypt$ln=16").unwrap_err().code(),
        "PASSWORD_INVALID_HASH"
    );
    // A tampered PHC asking for 4 GiB of memory is refused before any allocation.
    let h = password::hash_argon2id(b"pw", &FAST)
        .unwrap()
        .replace("m=1024", "m=4194304");
    assert_eq!(
        password::verify(b"pw", &h).unwrap_err().code(),
        "PASSWORD_INVALID_PARAMS"
    );
    assert_eq!(password::identify("$2y$10$x"), Some(HashKind::Bcrypt));
    assert_eq!(
        password::identify("$argon2id$v=19"),
        Some(HashKind::Argon2id)
    );
    assert_eq!(password::identify("$2x$10$x"), None);
}

#[test]
fn bcrypt_output_is_2b_and_interoperates_with_prefix_variants() {
    let h = password::bcrypt_hash("pässwörd".as_bytes(), 5).unwrap();
    assert!(h.starts_with("$2b$05$") && h.len() == 60, "{h}");
    assert!(password::bcrypt_verify("pässwörd".as_bytes(), &h).unwrap());
    for minor in ["$2a$", "$2y$"] {
        assert!(
            password::bcrypt_verify("pässwörd".as_bytes(), &h.replacen("$2b$", minor, 1)).unwrap()
        );
    }
    assert_eq!(password::clamp_bcrypt_cost(1), 4);
    assert_eq!(password::clamp_bcrypt_cost(40), 31);
    // 72-byte truncation: everything after byte 72 is ignored.
    let long = "x".repeat(72);
    let h72 = password::bcrypt_hash(long.as_bytes(), 4).unwrap();
    assert!(password::bcrypt_verify(format!("{long}tail").as_bytes(), &h72).unwrap());
}

#[test]
fn verify_and_upgrade_migrates_bcrypt_to_argon2id() {
    let hasher = fast_hasher();
    let legacy = password::bcrypt_hash(b"s3cret", 4).unwrap();
    let out = hasher.verify_and_upgrade(b"s3cret", Some(&legacy)).unwrap();
    assert!(out.valid);
    let new_hash = out
        .rehash
        .expect("bcrypt login must return an argon2id hash");
    assert!(new_hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
    assert!(hasher.verify(b"s3cret", &new_hash).unwrap());
    // Once upgraded, no further rehash.
    let again = hasher
        .verify_and_upgrade(b"s3cret", Some(&new_hash))
        .unwrap();
    assert!(again.valid && again.rehash.is_none());
    // Wrong password: no rehash, not valid.
    let bad = hasher.verify_and_upgrade(b"wrong", Some(&legacy)).unwrap();
    assert!(!bad.valid && bad.rehash.is_none());
}

#[test]
fn verify_and_upgrade_rehashes_outdated_argon2() {
    let hasher = fast_hasher();
    let old = password::hash_argon2id(
        b"pw",
        &Argon2Params {
            m_cost: 512,
            ..FAST
        },
    )
    .unwrap();
    let out = hasher.verify_and_upgrade(b"pw", Some(&old)).unwrap();
    assert!(out.valid);
    assert!(out.rehash.unwrap().contains("m=1024,t=1,p=1"));
}

/// node-auth §6 item 30: LocalStrategy skipped bcrypt for unknown e-mails. Here the
/// unknown-user path runs the KDF on a dummy hash made with the configured algorithm and
/// parameters (observable through the KDF counter), and always answers "invalid".
#[test]
fn unknown_user_runs_the_same_kdf_as_a_known_user() {
    let hasher = fast_hasher();
    let dummy = hasher.dummy_hash().to_string();
    assert!(
        dummy.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
        "dummy uses the configured params: {dummy}"
    );
    let real = hasher.hash(b"pw").unwrap();

    let before = hasher.kdf_runs();
    let known = hasher.verify_and_upgrade(b"guess", Some(&real)).unwrap();
    let after_known = hasher.kdf_runs();
    let unknown = hasher.verify_and_upgrade(b"guess", None).unwrap();
    let after_unknown = hasher.kdf_runs();
    assert_eq!(after_known - before, 1);
    assert_eq!(
        after_unknown - after_known,
        1,
        "the unknown-user path must run the KDF"
    );
    assert_eq!(
        known, unknown,
        "both answers are identical: invalid, no rehash"
    );
    assert!(!unknown.valid);

    // Even the dummy's own secret cannot log an unknown user in.
    assert!(!hasher.verify_dummy(b"anything").unwrap());

    // During a bcrypt-heavy migration, the dummy can imitate bcrypt instead.
    let bc = PasswordHasher::new(PasswordConfig {
        argon2: FAST,
        dummy: DummyAlgorithm::Bcrypt { cost: 4 },
        ..PasswordConfig::default()
    })
    .unwrap();
    assert!(bc.dummy_hash().starts_with("$2b$04$"));
    assert!(!bc.verify_and_upgrade(b"x", None).unwrap().valid);
    assert_eq!(bc.kdf_runs(), 1);
}

#[test]
fn owasp_dummy_matches_owasp_params() {
    let hasher = PasswordHasher::new(PasswordConfig::default()).unwrap();
    assert!(
        hasher
            .dummy_hash()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
}

#[test]
fn overlong_password_is_rejected_with_a_typed_error() {
    let hasher = PasswordHasher::new(PasswordConfig {
        argon2: FAST,
        max_password_bytes: 16,
        ..Default::default()
    })
    .unwrap();
    let e = hasher.hash(&[b'a'; 17]).unwrap_err();
    assert_eq!(e.code(), "PASSWORD_TOO_LONG");
    assert_eq!(e.status(), 400);
    assert_eq!(
        hasher
            .verify_and_upgrade(&[b'a'; 17], None)
            .unwrap_err()
            .code(),
        "PASSWORD_TOO_LONG"
    );
    assert!(hasher.hash(&[b'a'; 16]).is_ok());
}

#[test]
fn invalid_params_are_rejected() {
    let e = PasswordHasher::new(PasswordConfig {
        argon2: Argon2Params { m_cost: 1, ..FAST },
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.code(), "PASSWORD_INVALID_PARAMS");
}

/// The SIMD fill (`argon2-rust`, feature `simd-argon2`) and the RustCrypto `argon2` crate
/// agree byte for byte: random passwords, salts, costs, lane counts, tag lengths and both
/// versions, hashed on one thread in an order that grows and shrinks the reused memory.
#[test]
fn argon2_backends_agree_on_random_inputs() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xa2_0b_ac_e5);
    for i in 0..120 {
        let p_cost = rng.random_range(1..=4u32);
        let m_cost = rng.random_range(8 * p_cost..=(if i % 10 == 0 { 4096 } else { 256 }));
        let params = Argon2Params {
            m_cost,
            t_cost: rng.random_range(1..=3),
            p_cost,
            output_len: rng.random_range(4..=80),
        };
        let pw: Vec<u8> = (0..rng.random_range(0..=100))
            .map(|_| rng.random())
            .collect();
        let salt: Vec<u8> = (0..rng.random_range(8..=48))
            .map(|_| rng.random())
            .collect();
        let v0x10 = i % 7 == 3;
        let ours = password::argon2id_raw(&pw, &salt, &params, v0x10, false).unwrap();
        let reference = password::argon2id_raw(&pw, &salt, &params, v0x10, true).unwrap();
        assert_eq!(ours, reference, "case {i}: {params:?} v0x10={v0x10}");
    }
    // The OWASP parameters themselves, and a PHC string made by the reference verifies.
    let salt = *b"0123456789abcdef";
    let ours = password::argon2id_raw(b"pw", &salt, &Argon2Params::OWASP, false, false).unwrap();
    let reference =
        password::argon2id_raw(b"pw", &salt, &Argon2Params::OWASP, false, true).unwrap();
    assert_eq!(ours, reference);
}

/// Hashing from several threads at once (each with its own reused memory) gives the
/// reference answer on every thread.
#[test]
fn argon2_concurrent_threads_agree_with_reference() {
    let params = Argon2Params {
        m_cost: 1024,
        t_cost: 2,
        p_cost: 2,
        output_len: 32,
    };
    let handles: Vec<_> = (0..4u8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..5u8 {
                    let pw = [t, i, 42];
                    let salt = [t ^ i; 16];
                    let ours = password::argon2id_raw(&pw, &salt, &params, false, false).unwrap();
                    let reference =
                        password::argon2id_raw(&pw, &salt, &params, false, true).unwrap();
                    assert_eq!(ours, reference, "thread {t} call {i}");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn stored_hash_ceilings_default_and_configurable() {
    use authcore::password::{Argon2Limits, verify_argon2_limited};
    assert_eq!(
        Argon2Limits::DEFAULT,
        Argon2Limits {
            max_m_cost: 256 * 1024,
            max_t_cost: 10,
            max_p_cost: 8
        }
    );
    let good = password::hash_argon2id(b"pw", &FAST).unwrap();
    assert!(password::verify(b"pw", &good).unwrap());
    // Just above each default ceiling (1 GiB / 64 passes were accepted before).
    for (from, to) in [("m=1024", "m=262145"), ("t=1", "t=11"), ("p=1", "p=9")] {
        let tampered = good.replace(from, to);
        assert_eq!(
            password::verify(b"pw", &tampered).unwrap_err().code(),
            "PASSWORD_INVALID_PARAMS",
            "{to}"
        );
    }
    let loose = Argon2Limits {
        max_t_cost: 11,
        ..Argon2Limits::DEFAULT
    };
    assert!(!verify_argon2_limited(b"pw", &good.replace("t=1", "t=11"), &loose).unwrap());
    let strict = Argon2Limits {
        max_m_cost: 512,
        ..Argon2Limits::DEFAULT
    };
    assert!(verify_argon2_limited(b"pw", &good, &strict).is_err());
    // A hasher refuses parameters beyond its own ceilings, and applies them.
    let e = PasswordHasher::new(PasswordConfig {
        argon2: Argon2Params {
            m_cost: 512 * 1024,
            ..FAST
        },
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("ceilings"), "{e}");
    let h = PasswordHasher::new(PasswordConfig {
        argon2: FAST,
        verify_limits: Argon2Limits {
            max_m_cost: 1024,
            max_t_cost: 1,
            max_p_cost: 1,
        },
        ..Default::default()
    })
    .unwrap();
    assert!(h.verify(b"pw", &good).unwrap());
    let bigger = password::hash_argon2id(b"pw", &Argon2Params { t_cost: 2, ..FAST }).unwrap();
    assert!(h.verify(b"pw", &bigger).is_err());
}
