//! Shared by the integration tests that run `ffi-tests/vectors/*.json` (the schema is in
//! ffi-tests/README.md): loading a file, reading string inputs, and the one loop that
//! compares each case's result or typed error with its `expect`.

#![allow(dead_code)] // each test crate uses a different subset

use std::fmt::Debug;

use serde_json::Value;

/// A vector file of `ffi-tests/vectors/`.
pub fn vectors(name: &str) -> Value {
    let path = format!("{}/../ffi-tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `v[k]` as a string (panics with the key's name otherwise).
pub fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} must be a string in {v}"))
}

/// The typed errors of the core modules: a stable code and an HTTP status.
pub trait CodedError: Debug + std::fmt::Display {
    fn code(&self) -> &'static str;
    fn status(&self) -> u16;
}

macro_rules! coded {
    ($($t:ty),*) => {$(
        impl CodedError for $t {
            fn code(&self) -> &'static str { <$t>::code(self) }
            fn status(&self) -> u16 { <$t>::status(self) }
        }
    )*};
}
coded!(
    authcore::password::PasswordError,
    authcore::jwt::JwtError,
    authcore::totp::TotpError,
    authcore::oauth::OAuthError,
    authcore::policy::PolicyError
);

/// Run every case of `name` through `run(op, input)`: an `ok` expectation must equal the
/// result, an `error` expectation must equal the error's code (and `status`, when the
/// case states one). An unknown op is the runner's panic. Returns the number of cases.
pub fn run_vector_file<E: CodedError>(
    name: &str,
    run: impl Fn(&str, &Value) -> Result<Value, E>,
) -> usize {
    let doc = vectors(name);
    let cases = doc["cases"].as_array().expect("cases");
    for c in cases {
        let id = s(c, "id");
        let want = &c["expect"];
        match (run(s(c, "op"), &c["input"]), want.get("ok")) {
            (Ok(v), Some(ok)) => assert_eq!(&v, ok, "{name} {id}"),
            (Err(e), None) => {
                assert_eq!(e.code(), s(want, "error"), "{name} {id}: {e}");
                if let Some(st) = want.get("status") {
                    assert_eq!(u64::from(e.status()), st.as_u64().unwrap(), "{name} {id}");
                }
            }
            (got, _) => panic!("{name} {id}: got {got:?}, want {want}"),
        }
    }
    cases.len()
}

/// PKCE verifier of the authorization-code tests.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// The authorization-code request of the OAuth tests (client `mcp-client`, S256).
pub fn code_params() -> authcore::oauth::CreateCodeParams {
    authcore::oauth::CreateCodeParams {
        client_id: "mcp-client".into(),
        user_id: "u1".into(),
        domain_id: "d1".into(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: authcore::oauth::s256_challenge(VERIFIER),
        code_challenge_method: authcore::oauth::CodeChallengeMethod::S256,
        scope: "read write".into(),
    }
}

/// The matching token request for `code`.
pub fn exchange(code: &str) -> authcore::oauth::ExchangeRequest<'_> {
    authcore::oauth::ExchangeRequest {
        code,
        client_id: "mcp-client",
        redirect_uri: "https://app.example/cb",
        code_verifier: VERIFIER,
    }
}
