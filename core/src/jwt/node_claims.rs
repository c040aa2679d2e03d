//! Claim checks with node-jsonwebtoken semantics ([`Validation`], [`validate_claims`]).

use super::{JwtError, TOKEN_USE_CLAIM, TokenUse, check_leeway};
use serde_json::Map;
use serde_json::Value;

/// Claim checks applied after the signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validation {
    /// Seconds of tolerance for `exp` and `nbf` (node `clockTolerance`; default 0).
    pub leeway: u64,
    /// Accepted issuers (the token's `iss` must be one of them).
    pub issuer: Option<Vec<String>>,
    /// Accepted audiences (one of the token's `aud` values must be one of them).
    pub audience: Option<Vec<String>>,
    /// Required subject.
    pub subject: Option<String>,
    /// Required `token_use`.
    pub token_use: Option<TokenUse>,
    /// Claims that must be present (`exp`, `sub`, ...).
    pub required_claims: Vec<String>,
}

impl Validation {
    /// node-auth's `jwt.verify(token, secret)`: no issuer/audience, leeway 0, `exp`
    /// checked only when present, no token-use check.
    pub fn node_compat() -> Self {
        Self::default()
    }
}

fn numeric(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| JwtError::InvalidClaim(name.into())),
        Some(_) => Err(JwtError::InvalidClaim(name.into())),
    }
}

/// Check the claims of an already signature-verified token (see module docs).
pub fn validate_claims(
    claims: &Map<String, Value>,
    v: &Validation,
    now: u64,
) -> Result<(), JwtError> {
    if let Some(expected) = v.token_use {
        let found = claims.get(TOKEN_USE_CLAIM).and_then(Value::as_str);
        if found != Some(expected.as_str()) {
            return Err(JwtError::WrongTokenUse {
                expected: expected.as_str(),
                found: found.map(str::to_string),
            });
        }
    }
    check_leeway(v.leeway)?;
    let now = now as f64;
    let leeway = v.leeway as f64;
    if let Some(nbf) = numeric(claims, "nbf")?
        && nbf > now + leeway
    {
        return Err(JwtError::NotYetValid);
    }
    if let Some(exp) = numeric(claims, "exp")?
        && now >= exp + leeway
    {
        return Err(JwtError::Expired);
    }
    if let Some(auds) = &v.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(a)) => auds.iter().any(|x| x == a),
            Some(Value::Array(list)) => list
                .iter()
                .any(|a| a.as_str().is_some_and(|a| auds.iter().any(|x| x == a))),
            _ => false,
        };
        if !ok {
            return Err(JwtError::InvalidAudience);
        }
    }
    if let Some(issuers) = &v.issuer {
        let ok = claims
            .get("iss")
            .and_then(Value::as_str)
            .is_some_and(|i| issuers.iter().any(|x| x == i));
        if !ok {
            return Err(JwtError::InvalidIssuer);
        }
    }
    if let Some(sub) = &v.subject
        && claims.get("sub").and_then(Value::as_str) != Some(sub.as_str())
    {
        return Err(JwtError::InvalidSubject);
    }
    for c in &v.required_claims {
        if !claims.contains_key(c) {
            return Err(JwtError::MissingClaim(c.clone()));
        }
    }
    Ok(())
}
