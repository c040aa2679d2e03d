//! Secrets stay out of printouts and are wiped.
//!
//! - Secret material the core holds (the HMAC pepper, the propagation secret, the AMQP
//!   password, JWT key bytes, the plain secrets and hashes in transit) is a
//!   [`SecretString`] or is wiped with [`zeroize`] on drop, and every type holding one has a
//!   `Debug` that prints [`REDACTED`] in its place.
//! - A URL is shown only through [`redact_url`] (store URLs carry Redis passwords).
//!
//! Tests in Rust, Node and Python format every public type that holds a secret and assert
//! that the secret's bytes are absent.

pub use secrecy::{ExposeSecret, SecretString};

/// What `Debug` prints in place of a secret.
pub const REDACTED: &str = "[REDACTED]";

/// A `Debug` stand-in for a secret field: `f.field("secret", &Redacted)`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

/// How a secret field prints: `[REDACTED]` when present, `None` when absent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RedactedValue {
    /// A value is set: prints `[REDACTED]`.
    Present,
    /// No value: prints `None`.
    Absent,
}

impl std::fmt::Debug for RedactedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Present => f.write_str(REDACTED),
            Self::Absent => f.write_str("None"),
        }
    }
}

/// A field type that holds secret material: how `Debug` shows it ([`redacted_debug!`]).
pub trait Redact {
    /// Whether a value is present.
    fn redacted(&self) -> RedactedValue;
}

impl Redact for str {
    fn redacted(&self) -> RedactedValue {
        RedactedValue::Present
    }
}
impl Redact for String {
    fn redacted(&self) -> RedactedValue {
        RedactedValue::Present
    }
}
impl Redact for [u8] {
    fn redacted(&self) -> RedactedValue {
        RedactedValue::Present
    }
}
impl Redact for Vec<u8> {
    fn redacted(&self) -> RedactedValue {
        RedactedValue::Present
    }
}
impl Redact for SecretString {
    fn redacted(&self) -> RedactedValue {
        RedactedValue::Present
    }
}
impl<T: Redact + ?Sized> Redact for &T {
    fn redacted(&self) -> RedactedValue {
        (**self).redacted()
    }
}
impl<T: Redact> Redact for Option<T> {
    fn redacted(&self) -> RedactedValue {
        match self {
            Some(v) => v.redacted(),
            None => RedactedValue::Absent,
        }
    }
}

/// A `Debug` impl printing the listed fields as usual and the `secret` ones as
/// `[REDACTED]` (or `None`): `redacted_debug!(Type<'a> { plain, fields } secret { key });`
#[macro_export]
macro_rules! redacted_debug {
    ($ty:ident $(<$lt:lifetime>)? { $($field:ident),* $(,)? } secret { $($sfield:ident),* $(,)? }) => {
        impl $(<$lt>)? ::std::fmt::Debug for $ty $(<$lt>)? {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    $(.field(stringify!($sfield), &$crate::secret::Redact::redacted(&self.$sfield)))*
                    .finish()
            }
        }
    };
}

/// Query parameters whose value is a credential (`?password=`, `?token=`, …).
fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["pass", "secret", "token", "key", "auth", "cred"]
        .iter()
        .any(|w| n.contains(w))
}

/// A URL safe to print: the password of the userinfo (`redis://user:pw@host` →
/// `redis://user:***@host`; a userinfo without `:` is replaced whole, since some providers
/// put the token there) and the values of credential-like query parameters become `***`.
/// Text that is not a URL comes back unchanged only if it has no `@` (otherwise everything
/// before the last `@` is hidden).
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return match url.rfind('@') {
            Some(at) => format!("***{}", &url[at..]),
            None => url.to_owned(),
        };
    };
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_len);
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..rest_start]);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..colon]);
                    out.push_str(":***");
                }
                None => out.push_str("***"),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    // The path, then the query with credential-like values hidden.
    let (path, query_and_fragment) = match tail.find('?') {
        Some(q) => tail.split_at(q),
        None => (tail, ""),
    };
    out.push_str(path);
    if !query_and_fragment.is_empty() {
        let (query, fragment) = match query_and_fragment.find('#') {
            Some(h) => query_and_fragment.split_at(h),
            None => (query_and_fragment, ""),
        };
        out.push('?');
        let pairs: Vec<String> = query[1..]
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_secret_param(k) => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("redis://user:hunter2@127.0.0.1:6379/0"),
            "redis://user:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("rediss://:hunter2@cache.example.com"),
            "rediss://:***@cache.example.com"
        );
        assert_eq!(
            redact_url("redis://tok3n@h:1/2?x=1"),
            "redis://***@h:1/2?x=1"
        );
        assert_eq!(redact_url("redis://a:b:c@d@host/"), "redis://a:***@host/");
        assert_eq!(
            redact_url("unix:///run/redis.sock?db=1&password=hunter2#f"),
            "unix:///run/redis.sock?db=1&password=***#f"
        );
        assert_eq!(redact_url("memory://tests"), "memory://tests");
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(redact_url("user:hunter2@host"), "***@host");
        for u in [
            "redis://user:hunter2@h",
            "redis://hunter2@h",
            "x://u:hunter2@h?token=hunter2",
        ] {
            assert!(!redact_url(u).contains("hunter2"), "{u}");
        }
    }
}
