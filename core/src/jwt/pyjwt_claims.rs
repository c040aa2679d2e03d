//! Registered-claim checks with PyJWT 2.x semantics ([`ClaimChecks`],
//! [`validate_claim_checks`]), for the Python binding's `authcore.jwt.decode`.

use super::JwtError;
use serde_json::Map;
use serde_json::Value;

/// Registered-claim checks with PyJWT 2.x semantics (`jwt.decode(..., options=...)`),
/// applied by [`validate_claim_checks`]. Unlike [`Validation`] (node semantics), an `aud`
/// claim is rejected when no audience is expected, `iat` in the future is refused, and a
/// missing `iss`/`aud` that is expected is [`JwtError::MissingClaim`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimChecks {
    /// Check `exp` when present (expired when `exp <= now - leeway`).
    pub verify_exp: bool,
    /// Check `nbf` when present (not yet valid when `nbf > now + leeway`).
    pub verify_nbf: bool,
    /// Check `iat` when present (numeric, and not `> now + leeway`).
    pub verify_iat: bool,
    /// Check `iss` against [`Self::issuer`] when that is set.
    pub verify_iss: bool,
    /// Check `aud` against [`Self::audience`].
    pub verify_aud: bool,
    /// Check `sub` is a string (and equals [`Self::subject`] when set).
    pub verify_sub: bool,
    /// Check `jti` is a string when present.
    pub verify_jti: bool,
    /// Strict audience: exactly one expected audience, and `aud` must be that string.
    pub strict_aud: bool,
    /// Claims that must be present and not `null`.
    pub require: Vec<String>,
    /// Accepted audiences (`None`: the token must carry no `aud`).
    pub audience: Option<Vec<String>>,
    /// Accepted issuers.
    pub issuer: Option<Vec<String>>,
    /// Required subject.
    pub subject: Option<String>,
    /// Tolerance in seconds for `exp`, `nbf` and `iat`.
    pub leeway: f64,
}

impl Default for ClaimChecks {
    fn default() -> Self {
        Self {
            verify_exp: true,
            verify_nbf: true,
            verify_iat: true,
            verify_iss: true,
            verify_aud: true,
            verify_sub: true,
            verify_jti: true,
            strict_aud: false,
            require: Vec::new(),
            audience: None,
            issuer: None,
            subject: None,
            leeway: 0.0,
        }
    }
}

/// A numeric date claim as PyJWT's `int(...)` reads it: a JSON number, truncated toward
/// zero. `Err` for any other JSON type.
fn int_date(v: &Value, name: &str) -> Result<f64, JwtError> {
    v.as_f64()
        .filter(|f| f.is_finite())
        .map(f64::trunc)
        .ok_or_else(|| JwtError::InvalidClaim(name.into()))
}

/// Python truthiness of a JSON value (`not payload["aud"]`).
fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Check the claims of a signature-verified token with PyJWT 2.x semantics and order:
/// required claims, `iat`, `nbf`, `exp`, `iss`, `aud`, `sub`, `jti`. `now` is unix seconds
/// (fractional). A non-numeric `iat`/`nbf`/`exp` is `InvalidClaim(name)`, a non-string
/// `jti` is `InvalidClaim("jti")` (PyJWT's class for each claim: `authcore.errors.ERROR_CLASSES` in the Python package).
pub fn validate_claim_checks(
    claims: &Map<String, Value>,
    c: &ClaimChecks,
    now: f64,
) -> Result<(), JwtError> {
    // Fail closed: with NaN every date comparison is false, which accepts expired tokens.
    if !now.is_finite() || !c.leeway.is_finite() {
        return Err(JwtError::InvalidConfig(
            "leeway and the clock must be finite numbers".into(),
        ));
    }
    for name in &c.require {
        if claims.get(name).is_none_or(Value::is_null) {
            return Err(JwtError::MissingClaim(name.clone()));
        }
    }
    if c.verify_iat
        && let Some(v) = claims.get("iat")
        && int_date(v, "iat")? > now + c.leeway
    {
        return Err(JwtError::NotYetValid);
    }
    if c.verify_nbf
        && let Some(v) = claims.get("nbf")
        && int_date(v, "nbf")? > now + c.leeway
    {
        return Err(JwtError::NotYetValid);
    }
    if c.verify_exp
        && let Some(v) = claims.get("exp")
        && int_date(v, "exp")? <= now - c.leeway
    {
        return Err(JwtError::Expired);
    }
    if c.verify_iss
        && let Some(issuers) = &c.issuer
    {
        match claims.get("iss") {
            None => return Err(JwtError::MissingClaim("iss".into())),
            Some(Value::String(iss)) if issuers.iter().any(|i| i == iss) => {}
            Some(_) => return Err(JwtError::InvalidIssuer),
        }
    }
    if c.verify_aud {
        let aud = claims.get("aud").filter(|a| !is_falsy(a));
        match (&c.audience, aud) {
            (None, None) => {}
            (None, Some(_)) => return Err(JwtError::InvalidAudience),
            (Some(_), None) => return Err(JwtError::MissingClaim("aud".into())),
            (Some(expected), Some(aud)) => {
                let ok = if c.strict_aud {
                    expected.len() == 1 && aud.as_str() == Some(expected[0].as_str())
                } else {
                    let list: Vec<&str> = match aud {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(a) if a.iter().all(Value::is_string) => {
                            a.iter().filter_map(Value::as_str).collect()
                        }
                        _ => return Err(JwtError::InvalidAudience),
                    };
                    expected.iter().any(|e| list.contains(&e.as_str()))
                };
                if !ok {
                    return Err(JwtError::InvalidAudience);
                }
            }
        }
    }
    if c.verify_sub
        && let Some(sub) = claims.get("sub")
    {
        let ok = match (sub.as_str(), &c.subject) {
            (None, _) => false,
            (Some(s), Some(want)) => s == want,
            (Some(_), None) => true,
        };
        if !ok {
            return Err(JwtError::InvalidSubject);
        }
    }
    if c.verify_jti && claims.get("jti").is_some_and(|j| !j.is_string()) {
        return Err(JwtError::InvalidClaim("jti".into()));
    }
    Ok(())
}
