//! What every capability shares at the host boundary: the `INVALID_ARGUMENT` error (an
//! argument or a setting the core refuses, such as a store URL that cannot be opened) with
//! its one HTTP status, and the one shape of a Rust panic caught by a binding.
//!
//! Each capability keeps its own error enum with `code()` and `status()`; this module
//! holds only what several of them and every binding must agree on.

use crate::limits::SettingError;
use crate::store::StoreError;

/// The code of an argument or setting the core refuses, in every language.
pub const INVALID_ARGUMENT: &str = "INVALID_ARGUMENT";

/// The HTTP status of [`INVALID_ARGUMENT`]: 500, as the HMAC original reports any error
/// that is not an `HmacAuthError` (a middleware answers `INTERNAL_ERROR 500`). A refused
/// setting is a fault of the server's configuration, not of the client's request.
pub const INVALID_ARGUMENT_STATUS: u16 = 500;

/// The code of a Rust panic caught at a binding's boundary (C: `AUTHCORE_PANIC`).
pub const INTERNAL_PANIC: &str = "INTERNAL_PANIC";

/// The HTTP status of a caught panic.
pub const INTERNAL_PANIC_STATUS: u16 = 500;

/// The message of a caught panic: `internal error (panic caught at the <host> boundary): <what>`.
pub fn panic_message(host: &str, payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    format!("internal error (panic caught at the authcore {host} boundary): {what}")
}

/// An argument or setting the core refuses (`INVALID_ARGUMENT`); `Display` is the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidArgument(pub String);

impl InvalidArgument {
    /// The error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// A store named in the host's settings that cannot be opened (an unknown scheme, a
    /// cluster URL without nodes, a Redis URL that does not parse): `store: <reason>`.
    pub fn store(e: &StoreError) -> Self {
        Self(format!("store: {e}"))
    }

    /// `INVALID_ARGUMENT`.
    pub fn code(&self) -> &'static str {
        INVALID_ARGUMENT
    }

    /// [`INVALID_ARGUMENT_STATUS`].
    pub fn status(&self) -> u16 {
        INVALID_ARGUMENT_STATUS
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl From<SettingError> for InvalidArgument {
    fn from(e: SettingError) -> Self {
        Self(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_open_failure_is_an_invalid_argument() {
        let e = InvalidArgument::store(&StoreError::Unsupported("Unsupported store URL".into()));
        assert_eq!((e.code(), e.status()), ("INVALID_ARGUMENT", 500));
        assert_eq!(e.message(), "store: Unsupported store URL");
    }

    #[test]
    fn panic_message_names_the_payload() {
        let p: Box<dyn std::any::Any + Send> = Box::new("boom");
        assert_eq!(
            panic_message("Node", &*p),
            "internal error (panic caught at the authcore Node boundary): boom"
        );
        let p: Box<dyn std::any::Any + Send> = Box::new(7u8);
        assert!(panic_message("C", &*p).ends_with("unknown panic payload"));
    }
}
