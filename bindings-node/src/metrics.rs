//! The core's metrics ([`authcore::metrics`]): Prometheus text, a snapshot for the
//! `prom-client` collector (`@authcore/native/metrics.js`), and the on/off switch.

use authcore_node_boundary::napi;

/// Prometheus text exposition (format 0.0.4) of every core metric of this process.
#[napi(catch_unwind)]
pub fn metrics_text() -> String {
    authcore::metrics::render()
}

/// Every metric family as JSON text: `[{name, help, kind, samples: [{labels: [[k, v]],
/// value, histogram?: {buckets: [[le, cumulative]], count, sum}}]}]` (the `+Inf` bucket is
/// `count`).
#[napi(catch_unwind)]
pub fn metrics_snapshot() -> String {
    authcore::metrics::snapshot_json()
}

/// Turn hot-path recording on (the default) or off for the whole process.
#[napi(catch_unwind)]
pub fn metrics_set_enabled(enabled: bool) {
    authcore::metrics::set_enabled(enabled);
}

/// Count one drop-in verification whose store I/O went through the application's own
/// node-redis / ioredis client (the core ran only the checks): its outcome (`errorCode`
/// absent = accepted), its latency as the caller timed it (`elapsedMs`, the whole call
/// including both round trips), and its log event (`clientId`: the header value).
#[napi(catch_unwind)]
pub fn verify_observed(client_id: Option<String>, error_code: Option<String>, elapsed_ms: f64) {
    let ns = if elapsed_ms.is_finite() && elapsed_ms > 0.0 {
        (elapsed_ms * 1e6) as u64
    } else {
        0
    };
    authcore::metrics::verify_observed(client_id.as_deref(), error_code.as_deref(), Some(ns));
}
