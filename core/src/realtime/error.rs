//! Errors of the realtime module.
//!
//! The original throws in four places the core has to model: a `JSON.stringify` that
//! throws inside `send` (caught and logged, spec §3.5), a host stream whose `send` or
//! `close` throws (§3.1, §6.6), an `on_close` listener that throws (caught and logged,
//! §3.5), and a binding handing over an audit row that is not one (§2).

/// A realtime failure. `code()` is stable; the message is for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RealtimeError {
    /// `JSON.stringify` of the data threw (a nested BigInt: `Do not know how to serialize
    /// a BigInt`), or produced a line break, which would break the `data:` framing.
    #[error("{0}")]
    Serialize(String),
    /// A host stream's `send`, `comment` or `close` failed (the original's throw).
    #[error("{0}")]
    Stream(String),
    /// An `on_close` listener failed or panicked.
    #[error("{0}")]
    Listener(String),
    /// JSON text a binding passed is not JSON.
    #[error("{0}")]
    InvalidJson(String),
    /// A value is not an audit log row of the `AuditLogEventJson` shape (§2).
    #[error("{0}")]
    InvalidEvent(String),
    /// A numeric setting out of range (NaN `max_per_scope`, a negative buffer limit):
    /// settings fail closed instead of silently disabling a cap.
    #[error("{0}")]
    InvalidSetting(String),
    /// The host failed while the core asked it to build one of its own values (the
    /// `{method, params}` of an audit notification).
    #[error("{0}")]
    Host(String),
}

impl RealtimeError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Serialize(_) => "REALTIME_SERIALIZE",
            Self::Stream(_) => "REALTIME_STREAM",
            Self::Listener(_) => "REALTIME_LISTENER",
            Self::InvalidJson(_) => "REALTIME_INVALID_JSON",
            Self::InvalidEvent(_) => "REALTIME_INVALID_EVENT",
            Self::InvalidSetting(_) => "REALTIME_INVALID_SETTING",
            Self::Host(_) => "REALTIME_HOST",
        }
    }

    /// The HTTP status an application answers with: 400 for bad input (an event that is
    /// not an audit row, JSON that is not JSON, a setting out of range), 500 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidJson(_) | Self::InvalidEvent(_) | Self::InvalidSetting(_) => 400,
            _ => 500,
        }
    }
}
