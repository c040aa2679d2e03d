//! The failures of the propagation module: a management callback's error, a credential
//! sink's error, and [`PropagationError`], which every public call returns.

use std::sync::Arc;

use crate::hmac::HmacError;
use crate::propagation::transport::TransportError;
use crate::store::StoreError;

/// An error a management callback returned. `payload` lets a binding carry its own error
/// object through the core and rethrow it unchanged.
#[derive(Clone)]
pub struct CallbackError {
    /// The error's message.
    pub message: String,
    /// The binding's own error object, rethrown unchanged.
    pub payload: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl CallbackError {
    /// An error with `message` and no payload.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            payload: None,
        }
    }
}

impl std::fmt::Debug for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackError")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A failure of a [`CredentialSink`].
#[derive(Debug, Clone)]
pub enum SinkError {
    /// The HMAC core failed: a store failure (`STORE_ERROR`) is transient, anything else
    /// (`MISSING_CLIENT_ID`, an invalid IP rule…) is the input's fault.
    Hmac(HmacError),
    /// A binding's credential store failed (treated as transient, as the original does).
    Callback(CallbackError),
}

impl From<HmacError> for SinkError {
    fn from(e: HmacError) -> Self {
        Self::Hmac(e)
    }
}

impl SinkError {
    /// The wrapped error's code (`CALLBACK_ERROR` for a binding's store).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Hmac(e) => e.code(),
            Self::Callback(_) => "CALLBACK_ERROR",
        }
    }

    /// The wrapped error's status (500 for a binding's store).
    pub fn status(&self) -> u16 {
        match self {
            Self::Hmac(e) => e.status(),
            Self::Callback(_) => 500,
        }
    }
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hmac(e) => e.fmt(f),
            Self::Callback(e) => e.fmt(f),
        }
    }
}

/// Every failure of the propagation module.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PropagationError {
    /// `MANAGEMENT_NOT_CONFIGURED`.
    #[error(
        "ensure/rotate/revoke/sync require the management adapter to be configured in createPropagator options"
    )]
    ManagementNotConfigured,
    /// `UNKNOWN_CLIENT`: `rotate` on a client missing from the local store.
    #[error("rotate: clientId \"{0}\" does not exist")]
    UnknownClient(String),
    /// `INVALID_OPTIONS`, with the original's message.
    #[error("{0}")]
    InvalidOptions(String),
    /// The plain `Error` of `buildQueueName`.
    #[error("{0}")]
    InvalidQueueName(String),
    /// A plain `Error` thrown by `sync` (no auth instance for a track, a null plain).
    #[error("{0}")]
    Sync(String),
    /// A management callback failed; it escapes unchanged.
    #[error("{0}")]
    Callback(CallbackError),
    /// The HMAC core failed (e.g. `MISSING_CLIENT_ID`); it escapes unchanged.
    #[error("{0}")]
    Hmac(HmacError),
    /// The propagation state store failed.
    #[error("{0}")]
    Store(StoreError),
    /// The broker failed.
    #[error("{0}")]
    Transport(TransportError),
    /// `RANDOM_UNAVAILABLE`: the OS random number generator failed (no event id).
    #[error("OS random number generator unavailable: {0}")]
    Random(String),
}

impl PropagationError {
    /// The `HmacPropagationErrorCode` for the original's four codes; otherwise the code of
    /// the wrapped error (`INVALID_QUEUE_NAME`, `SYNC_ERROR`, `CALLBACK_ERROR`, the HMAC
    /// or store code, `TRANSPORT_ERROR`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::ManagementNotConfigured => "MANAGEMENT_NOT_CONFIGURED",
            Self::UnknownClient(_) => "UNKNOWN_CLIENT",
            Self::InvalidOptions(_) => "INVALID_OPTIONS",
            Self::InvalidQueueName(_) => "INVALID_QUEUE_NAME",
            Self::Sync(_) => "SYNC_ERROR",
            Self::Callback(_) => "CALLBACK_ERROR",
            Self::Hmac(e) => e.code(),
            Self::Store(e) => e.code(),
            Self::Transport(_) => "TRANSPORT_ERROR",
            Self::Random(_) => "RANDOM_UNAVAILABLE",
        }
    }

    /// The HTTP status an application answers with: 400 for bad options or a bad queue
    /// name, 404 for an unknown client, the wrapped error's status for HMAC, store and
    /// broker failures, 500 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidOptions(_) | Self::InvalidQueueName(_) => 400,
            Self::UnknownClient(_) => 404,
            Self::Hmac(e) => e.status(),
            Self::Store(e) => e.status(),
            Self::Transport(e) => e.status(),
            _ => 500,
        }
    }
}

impl From<HmacError> for PropagationError {
    fn from(e: HmacError) -> Self {
        Self::Hmac(e)
    }
}
impl From<StoreError> for PropagationError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}
impl From<CallbackError> for PropagationError {
    fn from(e: CallbackError) -> Self {
        Self::Callback(e)
    }
}
impl From<SinkError> for PropagationError {
    fn from(e: SinkError) -> Self {
        match e {
            SinkError::Hmac(e) => Self::Hmac(e),
            SinkError::Callback(e) => Self::Callback(e),
        }
    }
}
impl From<TransportError> for PropagationError {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}
