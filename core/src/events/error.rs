//! Errors of the events engine.

/// An events failure. `code()` is stable; the message is for logs and HTTP bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventsError {
    /// An SSE field (event type or id) contains CR or LF, which would end the field and
    /// let the rest of the value inject fields or `data:` lines into every stream.
    #[error("{0}")]
    InvalidField(String),
    /// The engine's subscriber cap is reached.
    #[error("{0}")]
    TooManySubscribers(String),
    /// The per-user subscriber cap is reached.
    #[error("{0}")]
    TooManyForUser(String),
    /// More topics than one subscriber may hold.
    #[error("{0}")]
    TooManyTopics(String),
    /// An encoded frame larger than the engine accepts.
    #[error("{0}")]
    EventTooLarge(String),
    /// A setting out of range (settings fail closed).
    #[error("{0}")]
    InvalidSetting(String),
    /// A webhook URL or configuration the delivery policy refuses.
    #[error("{0}")]
    WebhookRefused(String),
    /// A distributor (Redis pub/sub) failure.
    #[error("{0}")]
    Distributor(String),
}

impl EventsError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidField(_) => "EVENTS_INVALID_FIELD",
            Self::TooManySubscribers(_) => "EVENTS_TOO_MANY_SUBSCRIBERS",
            Self::TooManyForUser(_) => "EVENTS_TOO_MANY_FOR_USER",
            Self::TooManyTopics(_) => "EVENTS_TOO_MANY_TOPICS",
            Self::EventTooLarge(_) => "EVENTS_EVENT_TOO_LARGE",
            Self::InvalidSetting(_) => "EVENTS_INVALID_SETTING",
            Self::WebhookRefused(_) => "EVENTS_WEBHOOK_REFUSED",
            Self::Distributor(_) => "EVENTS_DISTRIBUTOR",
        }
    }

    /// The HTTP status a route answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidField(_) | Self::TooManyTopics(_) | Self::WebhookRefused(_) => 400,
            Self::TooManySubscribers(_) | Self::TooManyForUser(_) => 429,
            Self::EventTooLarge(_) => 413,
            Self::InvalidSetting(_) => 500,
            Self::Distributor(_) => 502,
        }
    }
}
