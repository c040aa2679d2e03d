//! Core support of the Python binding's PyJWT / argon2-cffi compatible API: PyJWT claim
//! semantics, allow-list verification, key material rules, explicit-header signing,
//! argon2-cffi's rehash rule, salt lengths and PKCE verifier generation.

use authcore::jwt::{
    self, Algorithm, ClaimChecks, JwtError, JwtKey, looks_like_asymmetric_key,
    validate_claim_checks, verify_signature_allowlist,
};
use authcore::oauth;
use authcore::password::{self, Argon2Params};
use serde_json::{Map, Value, json};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW: f64 = 1_700_000_000.5;

fn claims(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn check(v: Value, c: &ClaimChecks) -> Result<(), JwtError> {
    validate_claim_checks(&claims(v), c, NOW)
}

#[test]
fn pyjwt_time_claims() {
    let d = ClaimChecks::default();
    assert_eq!(
        check(json!({"exp": 1_700_000_000}), &d),
        Err(JwtError::Expired)
    );
    assert_eq!(check(json!({"exp": 1_700_000_001}), &d), Ok(()));
    // int() truncation: 1700000000.9 -> 1700000000 <= now
    assert_eq!(
        check(json!({"exp": 1_700_000_000.9}), &d),
        Err(JwtError::Expired)
    );
    assert_eq!(
        check(json!({"nbf": 1_700_000_001}), &d),
        Err(JwtError::NotYetValid)
    );
    assert_eq!(
        check(json!({"iat": 1_700_000_001}), &d),
        Err(JwtError::NotYetValid)
    );
    let lee = ClaimChecks {
        leeway: 5.0,
        ..ClaimChecks::default()
    };
    assert_eq!(
        check(json!({"exp": 1_699_999_999, "iat": 1_700_000_004}), &lee),
        Ok(())
    );
    let e = check(json!({"iat": "soon"}), &d).unwrap_err();
    assert_eq!(e, JwtError::InvalidClaim("iat".into()));
    let e = check(json!({"exp": "x"}), &d).unwrap_err();
    assert_eq!(e, JwtError::InvalidClaim("exp".into()));
    let off = ClaimChecks {
        verify_exp: false,
        verify_iat: false,
        verify_nbf: false,
        ..ClaimChecks::default()
    };
    assert_eq!(
        check(json!({"exp": 1, "iat": "x", "nbf": 9e12}), &off),
        Ok(())
    );
}

#[test]
fn pyjwt_audience_issuer_subject_jti_require() {
    let d = ClaimChecks::default();
    assert_eq!(
        check(json!({"aud": "api"}), &d),
        Err(JwtError::InvalidAudience)
    );
    assert_eq!(check(json!({"aud": ""}), &d), Ok(()));
    let aud = ClaimChecks {
        audience: Some(vec!["api".into()]),
        ..ClaimChecks::default()
    };
    assert_eq!(check(json!({"aud": ["x", "api"]}), &aud), Ok(()));
    assert_eq!(
        check(json!({}), &aud),
        Err(JwtError::MissingClaim("aud".into()))
    );
    assert_eq!(
        check(json!({"aud": ["x", 1]}), &aud),
        Err(JwtError::InvalidAudience)
    );
    let strict = ClaimChecks {
        strict_aud: true,
        ..aud.clone()
    };
    assert_eq!(
        check(json!({"aud": ["api"]}), &strict),
        Err(JwtError::InvalidAudience)
    );
    assert_eq!(check(json!({"aud": "api"}), &strict), Ok(()));
    let iss = ClaimChecks {
        issuer: Some(vec!["a".into(), "b".into()]),
        ..ClaimChecks::default()
    };
    assert_eq!(check(json!({"iss": "b"}), &iss), Ok(()));
    assert_eq!(
        check(json!({"iss": "c"}), &iss),
        Err(JwtError::InvalidIssuer)
    );
    assert_eq!(
        check(json!({}), &iss),
        Err(JwtError::MissingClaim("iss".into()))
    );
    assert_eq!(check(json!({"sub": 1}), &d), Err(JwtError::InvalidSubject));
    let e = check(json!({"jti": 1}), &d).unwrap_err();
    assert_eq!(e, JwtError::InvalidClaim("jti".into()));
    let req = ClaimChecks {
        require: vec!["exp".into()],
        ..ClaimChecks::default()
    };
    assert_eq!(
        check(json!({"exp": null}), &req),
        Err(JwtError::MissingClaim("exp".into()))
    );
}

fn token(alg: Algorithm, payload: &str) -> String {
    jwt::sign_json_with_key(&JwtKey::hmac(alg, SECRET).unwrap(), payload).unwrap()
}

#[test]
fn allowlist_verification() {
    let t = token(Algorithm::HS256, r#"{"sub":"u1"}"#);
    let key = |alg, _: Option<&str>| JwtKey::from_material(alg, SECRET).map(std::sync::Arc::new);
    let (h, c) = verify_signature_allowlist(&t, &["HS256"], key).unwrap();
    assert_eq!((h.alg, c["sub"].as_str()), (Algorithm::HS256, Some("u1")));
    assert_eq!(
        verify_signature_allowlist(&t, &["HS512"], key).unwrap_err(),
        JwtError::AlgorithmMismatch("HS256".into())
    );
    let (_, p, _) = (t.split('.').next(), t.split('.').nth(1).unwrap(), ());
    let none = format!("eyJhbGciOiJub25lIn0.{p}.");
    assert_eq!(
        verify_signature_allowlist(&none, &["none", "HS256"], key).unwrap_err(),
        JwtError::AlgNone
    );
    let wrong = |alg, _: Option<&str>| {
        JwtKey::from_material(alg, b"another secret, 32 bytes long!!").map(std::sync::Arc::new)
    };
    assert_eq!(
        verify_signature_allowlist(&t, &["HS256"], wrong).unwrap_err(),
        JwtError::InvalidSignature
    );
    assert_eq!(
        verify_signature_allowlist("a.b", &["HS256"], key).unwrap_err(),
        JwtError::Malformed
    );
}

#[test]
fn pem_material_is_never_an_hmac_secret() {
    let pem = b"-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";
    assert!(looks_like_asymmetric_key(pem));
    assert!(looks_like_asymmetric_key(b"ssh-rsa AAAA"));
    assert!(!looks_like_asymmetric_key(SECRET));
    assert!(matches!(
        JwtKey::from_material(Algorithm::HS256, pem),
        Err(JwtError::InvalidKey(_))
    ));
    assert!(matches!(
        JwtKey::from_material(Algorithm::RS256, SECRET),
        Err(JwtError::InvalidKey(_))
    ));
}

#[test]
fn explicit_header_signing() {
    let key = JwtKey::hmac(Algorithm::HS256, SECRET).unwrap();
    let t = jwt::sign_with_header_json(
        &key,
        r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#,
        r#"{"a":1}"#,
    )
    .unwrap();
    let (h, c) = jwt::insecure_decode(&t).unwrap();
    assert_eq!((h["kid"].as_str(), c["a"].as_i64()), (Some("k1"), Some(1)));
    assert_eq!(
        jwt::sign_with_header_json(&key, r#"{"alg":"none"}"#, "{}").unwrap_err(),
        JwtError::AlgorithmMismatch("none".into())
    );
    assert!(jwt::sign_with_header_json(&key, r#"{"alg":"HS256"}"#, "[1]").is_err());
    assert!(jwt::sign_json_with_key(&key, "{\"a\":Infinity}").is_err());
    assert_eq!(
        jwt::insecure_decode("x.y").unwrap_err(),
        JwtError::Malformed
    );
}

const FAST: Argon2Params = Argon2Params {
    m_cost: 1024,
    t_cost: 1,
    p_cost: 1,
    output_len: 32,
};

#[test]
fn argon2_cffi_rehash_rule_and_salt_lengths() {
    let h = password::hash_argon2id_salt_len(b"pw", &FAST, 24).unwrap();
    assert!(password::verify_argon2(b"pw", &h).unwrap());
    assert!(!password::needs_rehash_exact(&h, &FAST, 24).unwrap());
    assert!(password::needs_rehash_exact(&h, &FAST, 16).unwrap());
    assert!(
        !password::needs_rehash(&h, &FAST).unwrap(),
        "the core rule ignores the salt length"
    );
    let i = "$argon2i$v=19$m=1024,t=1,p=1$Uf3kait72EGGfS+tUn+WQg$xIOAkmVQk3sV+8PO5E8Zfdb7+L07Ls6uqwL2+kiS8wc";
    assert!(password::needs_rehash_exact(i, &FAST, 16).unwrap());
    let bcrypt = password::bcrypt_hash(b"pw", 4).unwrap();
    assert_eq!(
        password::needs_rehash_exact(&bcrypt, &FAST, 16)
            .unwrap_err()
            .code(),
        "PASSWORD_INVALID_HASH"
    );
    assert!(password::hash_argon2id_salt_len(b"pw", &FAST, 7).is_err());
    assert!(password::hash_argon2id_salt_len(b"pw", &FAST, 49).is_err());
    assert!(password::validate_params(&FAST, 16).is_ok());
    assert!(password::validate_params(&Argon2Params { m_cost: 1, ..FAST }, 16).is_err());
}

#[test]
fn pkce_verifier_generation() {
    let v = oauth::generate_code_verifier().unwrap();
    assert_eq!(v.len(), 43);
    oauth::validate_code_verifier(&v).unwrap();
    assert_ne!(v, oauth::generate_code_verifier().unwrap());
    oauth::verify_pkce(
        &v,
        &oauth::s256_challenge(&v),
        oauth::CodeChallengeMethod::S256,
    )
    .unwrap();
}
