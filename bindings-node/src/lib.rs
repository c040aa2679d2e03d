//! napi-rs binding (thin layer over authcore).
