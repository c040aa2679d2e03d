//! The core's structured log events ([`authcore::log_events`]) bridged to Python's
//! `logging` (logger `authcore`, see `authcore.logs`). Events are queued by the core; one
//! forwarder thread, woken per batch, takes the GIL (through [`lifecycle::attach`], so
//! never after interpreter shutdown began) and hands the batch to
//! `authcore.logs._deliver`. No GIL is taken on the thread that emitted the event.

use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::guard;
use crate::lifecycle;

type Signal = Arc<(Mutex<bool>, Condvar)>;

fn forwarder() -> Signal {
    static SIGNAL: OnceLock<Signal> = OnceLock::new();
    SIGNAL
        .get_or_init(|| {
            let signal: Signal = Arc::new((Mutex::new(false), Condvar::new()));
            let s = signal.clone();
            let spawned = std::thread::Builder::new()
                .name("authcore-logs".into())
                .spawn(move || {
                    loop {
                        {
                            let (m, c) = &*s;
                            let mut ready = m.lock().unwrap_or_else(PoisonError::into_inner);
                            while !*ready {
                                ready = c.wait(ready).unwrap_or_else(PoisonError::into_inner);
                            }
                            *ready = false;
                        }
                        let batch = authcore::log_events::drain_json();
                        if batch == "[]" {
                            continue;
                        }
                        let delivered = lifecycle::attach(|py| {
                            let _ = py
                                .import("authcore.logs")
                                .and_then(|m| m.getattr("_deliver"))
                                .and_then(|f| f.call1((batch,)));
                        });
                        if delivered.is_none() {
                            return; // the interpreter is shutting down
                        }
                    }
                });
            if spawned.is_err() {
                authcore::log_events::set_level(0);
            }
            signal
        })
        .clone()
}

fn rank(level: &str) -> PyResult<u8> {
    authcore::log_events::parse_level(level).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown log level {level:?} (off, error, warn, info, debug, trace)"
        ))
    })
}

/// Forward core events at `level` and above to `authcore.logs._deliver`; `False` when
/// another global `tracing` subscriber was installed first.
#[pyfunction]
fn start_logs(level: &str) -> PyResult<bool> {
    guard(|| {
        let rank = rank(level)?;
        let signal = forwarder();
        Ok(authcore::log_events::install_host_bridge(
            rank,
            Arc::new(move || {
                let (m, c) = &*signal;
                *m.lock().unwrap_or_else(PoisonError::into_inner) = true;
                c.notify_one();
            }),
        ))
    })
}

/// Change the level (`"off"` stops forwarding).
#[pyfunction]
fn set_log_level(level: &str) -> PyResult<()> {
    guard(|| {
        authcore::log_events::set_level(rank(level)?);
        Ok(())
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(start_logs, m)?)?;
    m.add_function(wrap_pyfunction!(set_log_level, m)?)?;
    Ok(())
}
