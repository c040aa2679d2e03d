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
pub fn set_metrics_enabled(enabled: bool) {
    authcore::metrics::set_enabled(enabled);
}
