//! The error model of `@naskot/node-hmac-auth-core` 1.0.0 (spec §2.4).
//!
//! The original throws two kinds of errors: `HmacAuthError` (a code from a closed set of
//! 14, an HTTP status and an exact message) and plain `Error`s for invalid arguments and
//! configuration. [`HmacError`] keeps that distinction so every binding can rebuild the
//! same class with the same `code`, `status` and `message`.

use std::fmt;

/// The 14 members of the original's `HmacAuthErrorCode` union, plus `HEADER_TOO_LARGE`
/// (an authentication header above its size cap, see [`crate::limits`]). The
/// discriminants are the stable integer codes of the C ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum HmacErrorCode {
    /// `MISSING_CLIENT_ID`: no client id (header absent or blank).
    MissingClientId = 1,
    /// `MISSING_SIGNATURE`: no signature header.
    MissingSignature = 2,
    /// `MISSING_TIMESTAMP`: no timestamp header.
    MissingTimestamp = 3,
    /// `MISSING_NONCE`: no nonce header.
    MissingNonce = 4,
    /// `INVALID_TIMESTAMP`: the timestamp is not a number.
    InvalidTimestamp = 5,
    /// `TIMESTAMP_SKEW`: the timestamp is outside the allowed clock skew.
    TimestampSkew = 6,
    /// `UNKNOWN_CLIENT`: no credential for the client id.
    UnknownClient = 7,
    /// `CLIENT_EXPIRED`: the credential's `expiresAt` has passed.
    ClientExpired = 8,
    /// `MISSING_CLIENT_IP`: the client has an allow-list but the request has no IP.
    MissingClientIp = 9,
    /// `CLIENT_IP_NOT_ALLOWED`: the request's IP is not in the client's allow-list.
    ClientIpNotAllowed = 10,
    /// `CLIENT_NOT_FOUND`: a lifecycle call named a client that does not exist.
    ClientNotFound = 11,
    /// `BAD_SIGNATURE`: the signature does not match.
    BadSignature = 12,
    /// `REPLAYED_NONCE`: the nonce was already used in the skew window.
    ReplayedNonce = 13,
    /// `INTERNAL_ERROR`: any other failure, as a middleware reports it.
    InternalError = 14,
    /// Not in the original: a header value above its cap (`x-nonce`, `x-client-id`, …),
    /// refused before it is parsed. HTTP 431.
    HeaderTooLarge = 15,
}

impl HmacErrorCode {
    /// The original's 14 codes, in discriminant order.
    pub const ALL: [HmacErrorCode; 14] = [
        Self::MissingClientId,
        Self::MissingSignature,
        Self::MissingTimestamp,
        Self::MissingNonce,
        Self::InvalidTimestamp,
        Self::TimestampSkew,
        Self::UnknownClient,
        Self::ClientExpired,
        Self::MissingClientIp,
        Self::ClientIpNotAllowed,
        Self::ClientNotFound,
        Self::BadSignature,
        Self::ReplayedNonce,
        Self::InternalError,
    ];

    /// The wire string, e.g. `"BAD_SIGNATURE"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingClientId => "MISSING_CLIENT_ID",
            Self::MissingSignature => "MISSING_SIGNATURE",
            Self::MissingTimestamp => "MISSING_TIMESTAMP",
            Self::MissingNonce => "MISSING_NONCE",
            Self::InvalidTimestamp => "INVALID_TIMESTAMP",
            Self::TimestampSkew => "TIMESTAMP_SKEW",
            Self::UnknownClient => "UNKNOWN_CLIENT",
            Self::ClientExpired => "CLIENT_EXPIRED",
            Self::MissingClientIp => "MISSING_CLIENT_IP",
            Self::ClientIpNotAllowed => "CLIENT_IP_NOT_ALLOWED",
            Self::ClientNotFound => "CLIENT_NOT_FOUND",
            Self::BadSignature => "BAD_SIGNATURE",
            Self::ReplayedNonce => "REPLAYED_NONCE",
            Self::InternalError => "INTERNAL_ERROR",
            Self::HeaderTooLarge => "HEADER_TOO_LARGE",
        }
    }

    /// The status the original uses for this code. `MISSING_CLIENT_ID` is 401 from the
    /// verifier and 400 from `clients.*` and the message track: those carry their own
    /// status in [`HmacAuthError`].
    pub const fn default_status(self) -> u16 {
        match self {
            Self::MissingClientIp | Self::ClientIpNotAllowed => 403,
            Self::ClientNotFound => 404,
            Self::InternalError => 500,
            Self::HeaderTooLarge => 431,
            _ => 401,
        }
    }

    /// Parse a wire string back into a code.
    pub fn from_str_code(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Self::HeaderTooLarge])
            .find(|c| c.as_str() == s)
    }
}

impl fmt::Display for HmacErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The original's `HmacAuthError`: a code, an HTTP status and an exact message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacAuthError {
    /// The error code.
    pub code: HmacErrorCode,
    /// The HTTP status to answer with.
    pub status: u16,
    /// The original's exact message.
    pub message: String,
}

impl HmacAuthError {
    /// An error with the code's default status.
    pub fn new(code: HmacErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            status: code.default_status(),
            message: message.into(),
        }
    }

    /// An error with an explicit status.
    pub fn with_status(code: HmacErrorCode, message: impl Into<String>, status: u16) -> Self {
        Self {
            code,
            status,
            message: message.into(),
        }
    }
}

impl fmt::Display for HmacAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HmacAuthError {}

/// Every failure of the HMAC module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HmacError {
    /// An `HmacAuthError` of the original (code, status, message).
    #[error("{0}")]
    Auth(HmacAuthError),
    /// A plain `Error` of the original: invalid argument or configuration, with the
    /// original's exact message (e.g. `plainSecret cannot be empty`).
    #[error("{0}")]
    InvalidArgument(String),
    /// Input the original would reject with a `TypeError` or cannot represent (invalid
    /// URL, a header that is not a string, a body too large to accept).
    #[error("{0}")]
    InvalidInput(String),
    /// The credential or nonce store failed (connection refused, timeout, protocol
    /// error). Middlewares answer it with `500 INTERNAL_ERROR`.
    #[error("store error: {0}")]
    Store(String),
}

impl HmacError {
    /// An [`HmacError::Auth`] with the code's default status.
    pub fn auth(code: HmacErrorCode, message: impl Into<String>) -> Self {
        Self::Auth(HmacAuthError::new(code, message))
    }

    /// The stable string code: the `HmacAuthError` code, or one of `INVALID_ARGUMENT`,
    /// `INVALID_INPUT`, `STORE_ERROR`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Auth(e) => e.code.as_str(),
            Self::InvalidArgument(_) => crate::error::INVALID_ARGUMENT,
            Self::InvalidInput(_) => "INVALID_INPUT",
            Self::Store(_) => "STORE_ERROR",
        }
    }

    /// The HTTP status a middleware answers with: the auth error's own status, 500 for
    /// everything else (the original wraps non-auth errors into `INTERNAL_ERROR`).
    pub fn status(&self) -> u16 {
        match self {
            Self::Auth(e) => e.status,
            Self::InvalidArgument(_) => crate::error::INVALID_ARGUMENT_STATUS,
            _ => 500,
        }
    }

    /// The `HmacAuthError` a middleware reports: the error itself, or
    /// `INTERNAL_ERROR 500 "Internal auth error"` for any other failure (spec §2.8).
    pub fn to_middleware_error(&self) -> HmacAuthError {
        match self {
            Self::Auth(e) => e.clone(),
            _ => HmacAuthError::new(HmacErrorCode::InternalError, "Internal auth error"),
        }
    }

    /// The `HmacAuthError` inside, if this is one.
    pub fn as_auth(&self) -> Option<&HmacAuthError> {
        match self {
            Self::Auth(e) => Some(e),
            _ => None,
        }
    }
}

impl From<HmacAuthError> for HmacError {
    fn from(e: HmacAuthError) -> Self {
        Self::Auth(e)
    }
}

impl From<crate::store::StoreError> for HmacError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Store(e.to_string())
    }
}
