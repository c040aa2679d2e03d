//! The core's metrics ([`authcore::metrics`]) for `authcore.metrics`: Prometheus text, a
//! JSON snapshot for the `prometheus_client` collector, and the on/off switch.

use pyo3::prelude::*;

use crate::errors::guard;

/// Prometheus text exposition (format 0.0.4) of every core metric of this process.
#[pyfunction]
fn metrics_text() -> PyResult<String> {
    guard(|| Ok(authcore::metrics::render()))
}

/// Every metric family as JSON text (see `authcore.metrics`).
#[pyfunction]
fn metrics_snapshot() -> PyResult<String> {
    guard(|| Ok(authcore::metrics::snapshot_json()))
}

/// Turn hot-path recording on (the default) or off for the whole process.
#[pyfunction]
fn metrics_set_enabled(enabled: bool) -> PyResult<()> {
    guard(|| {
        authcore::metrics::set_enabled(enabled);
        Ok(())
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(metrics_text, m)?)?;
    m.add_function(wrap_pyfunction!(metrics_snapshot, m)?)?;
    m.add_function(wrap_pyfunction!(metrics_set_enabled, m)?)?;
    Ok(())
}
