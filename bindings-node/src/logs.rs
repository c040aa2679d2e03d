//! The core's structured log events ([`authcore::log_events`]) bridged to JavaScript:
//! `startLogs(level, onReady)` installs the bridge; `onReady()` runs on the JS thread
//! (one weak threadsafe call per batch, so it never keeps the event loop alive) and JS
//! takes the batch with `drainLogs()`. `@authcore/native/logs.js` publishes each record on
//! `diagnostics_channel` `authcore:log` and to a `{info, warn, error}` logger.

use std::sync::Arc;

use authcore_node_boundary::napi;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

type ReadyFn = ThreadsafeFunction<(), Unknown<'static>, (), napi::Status, false, true, 0>;

fn rank(env: &Env, level: &str) -> Result<u8> {
    authcore::log_events::parse_level(level).ok_or_else(|| {
        crate::error::to_js(
            env,
            crate::error::AuthErr::invalid_argument(format!(
                "unknown log level {level:?} (off, error, warn, info, debug, trace)"
            )),
        )
    })
}

/// Forward core events at `level` and above; `false` when another global `tracing`
/// subscriber was installed first (the events go there).
#[napi(catch_unwind)]
pub fn start_logs(
    env: &Env,
    level: String,
    on_ready: Function<(), Unknown<'static>>,
) -> Result<bool> {
    let rank = rank(env, &level)?;
    let ready: ReadyFn = on_ready
        .build_threadsafe_function::<()>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    let ready = Arc::new(ready);
    Ok(authcore::log_events::install_host_bridge(
        rank,
        Arc::new(move || {
            let _ = ready.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }),
    ))
}

/// Change the level (`off` stops forwarding).
#[napi(catch_unwind)]
pub fn set_log_level(env: &Env, level: String) -> Result<()> {
    authcore::log_events::set_level(rank(env, &level)?);
    Ok(())
}

/// The records waiting, oldest first, as JSON text: `[{level, message, fields: [[k, v]]}]`.
#[napi(catch_unwind)]
pub fn drain_logs() -> String {
    authcore::log_events::drain_json()
}
