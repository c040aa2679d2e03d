//! The `{info, warn, error}` logger the originals accept (propagation, realtime): one line
//! per call, already formatted; secrets are never passed to it. Bindings adapt their
//! host's logger to it.

/// A line sink with three levels.
pub trait Logger: Send + Sync + 'static {
    /// An informational line.
    fn info(&self, msg: &str);
    /// A warning.
    fn warn(&self, msg: &str);
    /// An error.
    fn error(&self, msg: &str);
}

/// The default logger: drops every line.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopLogger;

impl Logger for NoopLogger {
    fn info(&self, _msg: &str) {}
    fn warn(&self, _msg: &str) {}
    fn error(&self, _msg: &str) {}
}
