//! The interpreter's lifecycle as seen from Rust threads: no Rust thread touches Python
//! once the interpreter began to shut down.
//!
//! A tokio worker or a blocking-pool thread that calls `PyGILState_Ensure` while
//! `Py_FinalizeEx` runs is killed by CPython (`pthread_exit` in a Rust frame: a
//! segmentation fault) or aborts the process (`Fatal Python error: PyGILState_Release`).
//! CPython gives no check without a race (`Py_IsFinalizing` is not even in the stable ABI
//! before 3.13), so the binding keeps its own gate:
//!
//! - Every GIL acquisition from a thread that is not already running Python goes through
//!   [`attach`]. It counts itself in while the gate is open and returns `None` (the work
//!   is dropped) once it is closed.
//! - [`shutdown`] is registered with `atexit` when the module is imported. `atexit`
//!   callbacks run before `Py_FinalizeEx` marks the runtime as finalizing, on the main
//!   thread, with the interpreter whole. It closes the gate, closes the live propagators
//!   (their consumers stop, the broker link is closed) and waits, without the GIL, until
//!   the attachments in flight are over: at most [`SHUTDOWN_WAIT`] in all.
//! - Completions of awaitables ([`future_into_py`]) and awaits of Python coroutines from
//!   Rust ([`into_future`]) go through the same gate; they replace `pyo3-async-runtimes`'
//!   `future_into_py` / `into_future_with_locals`, which take the GIL with a bare
//!   `Python::attach` from tokio threads.
//! - A thread already inside a call from Python (marked with [`python_thread`], and any
//!   thread inside [`attach`]) holds the GIL: its nested [`attach`] is a plain
//!   re-entry, allowed even after the gate closed (that is the main thread running the
//!   interpreter's last code, not a Rust thread racing it).
//!
//! Python objects dropped by Rust threads without the GIL are queued by pyo3 and released
//! at the next attachment: no Python call either.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use authcore::propagation::propagator::Propagator;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCFunction, PyDict, PyTuple};
use pyo3_async_runtimes::TaskLocals;

/// The longest the `atexit` hook waits for live propagators to close and for attachments
/// in flight to finish.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

struct Gate {
    closed: bool,
    in_flight: usize,
}

static GATE: Mutex<Gate> = Mutex::new(Gate {
    closed: false,
    in_flight: 0,
});
static DRAINED: Condvar = Condvar::new();

/// Live propagators, closed by [`shutdown`].
static PROPAGATORS: Mutex<Vec<Weak<Propagator>>> = Mutex::new(Vec::new());

thread_local! {
    /// > 0 while this thread runs Python (a call from Python, or inside [`attach`]).
    static PY_DEPTH: Cell<usize> = const { Cell::new(0) };
}

fn gate() -> MutexGuard<'static, Gate> {
    GATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the current thread as running Python for the duration of `f` (an entry point
/// called from Python that may reach [`attach`] through the core).
pub fn python_thread<R>(f: impl FnOnce() -> R) -> R {
    struct Depth;
    impl Drop for Depth {
        fn drop(&mut self) {
            PY_DEPTH.with(|d| d.set(d.get() - 1));
        }
    }
    PY_DEPTH.with(|d| d.set(d.get() + 1));
    let _depth = Depth;
    f()
}

/// One attachment in flight; leaving it (after the GIL was released) may wake [`shutdown`].
struct InFlight;

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut g = gate();
        g.in_flight -= 1;
        if g.in_flight == 0 {
            DRAINED.notify_all();
        }
    }
}

/// Runs `f` with the GIL, from any thread. `None` once the interpreter is shutting down
/// (the gate is closed) or when it cannot be attached to: the caller drops the work.
pub fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    if PY_DEPTH.with(Cell::get) > 0 {
        return Python::try_attach(|py| python_thread(|| f(py)));
    }
    {
        let mut g = gate();
        if g.closed {
            return None;
        }
        g.in_flight += 1;
    }
    // Declared before the attachment: dropped after the GIL was released.
    let _in_flight = InFlight;
    Python::try_attach(|py| python_thread(|| f(py)))
}

/// Registers a live propagator, closed by [`shutdown`] if it is still alive then.
pub fn track_propagator(p: &Arc<Propagator>) {
    let mut live = PROPAGATORS.lock().unwrap_or_else(|e| e.into_inner());
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(p));
}

/// The `atexit` hook: closes the gate, closes the live propagators, then waits (without
/// the GIL, at most [`SHUTDOWN_WAIT`] in all) for the attachments in flight.
#[pyfunction]
#[pyo3(name = "_shutdown")]
pub fn shutdown(py: Python<'_>) {
    gate().closed = true;
    let live: Vec<Arc<Propagator>> =
        std::mem::take(&mut *PROPAGATORS.lock().unwrap_or_else(|e| e.into_inner()))
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
    py.detach(move || {
        let deadline = Instant::now() + SHUTDOWN_WAIT;
        if !live.is_empty() {
            let rt = pyo3_async_runtimes::tokio::get_runtime();
            let closes: Vec<_> = live
                .into_iter()
                .map(|p| rt.spawn(async move { p.close().await }))
                .collect();
            // The timer is created inside the runtime: `timeout_at` needs its time driver.
            rt.block_on(async move {
                let _ = tokio::time::timeout_at(deadline.into(), async move {
                    for c in closes {
                        let _ = c.await;
                    }
                })
                .await;
            });
        }
        let mut g = gate();
        while g.in_flight > 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            g = DRAINED
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    });
}

/// Registers [`shutdown`] with `atexit` (called once, at module import).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let f = wrap_pyfunction!(shutdown, m)?;
    m.add_function(f.clone())?;
    py.import("atexit")?.call_method1("register", (f,))?;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `completer(future, ok, value)`, run on the event loop: settles `future` unless it is
/// already done (cancelled by its awaiter).
fn completer(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static F: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    F.get_or_try_init(py, || {
        let f = PyCFunction::new_closure(
            py,
            Some(c"_authcore_complete"),
            None,
            |args: &Bound<'_, PyTuple>, _kw: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
                let (fut, ok, value): (Bound<'_, PyAny>, bool, Bound<'_, PyAny>) =
                    args.extract()?;
                if fut.call_method0("done")?.is_truthy()? {
                    return Ok(());
                }
                let method = if ok { "set_result" } else { "set_exception" };
                fut.call_method1(method, (value,))?;
                Ok(())
            },
        )?;
        Ok(f.into_any().unbind())
    })
    .map(|f| f.bind(py))
}

/// Turns a Rust future into an asyncio awaitable of the running loop. `fut` runs on the
/// shared tokio runtime without the GIL; `finish` builds the result (or the exception)
/// with the GIL, through [`attach`]: once the interpreter shuts down the result is dropped
/// and the awaitable stays pending (nobody is left to await it). Cancelling the awaitable
/// drops `fut`.
pub fn future_into_py<'py, F, T, C>(
    py: Python<'py>,
    fut: F,
    finish: C,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let locals = pyo3_async_runtimes::tokio::get_current_locals(py)?;
    let event_loop = locals.event_loop(py);
    let py_fut = event_loop.call_method0("create_future")?;
    let (cancel_tx, cancel_rx) = tokio::sync::oneshot::channel::<()>();
    let cancel_tx = Mutex::new(Some(cancel_tx));
    let on_done = PyCFunction::new_closure(
        py,
        Some(c"_authcore_on_done"),
        None,
        move |args: &Bound<'_, PyTuple>, _kw: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            let fut = args.get_item(0)?;
            if fut.call_method0("cancelled")?.is_truthy()?
                && let Some(tx) = lock(&cancel_tx).take()
            {
                let _ = tx.send(());
            }
            Ok(())
        },
    )?;
    py_fut.call_method1("add_done_callback", (on_done,))?;
    let target = py_fut.clone().unbind();
    let event_loop = event_loop.unbind();
    pyo3_async_runtimes::tokio::get_runtime().spawn(async move {
        let mut cancel_rx = cancel_rx;
        let out = tokio::select! {
            biased;
            Ok(()) = &mut cancel_rx => return,
            out = fut => out,
        };
        let _ = attach(move |py| {
            let (ok, value) = match finish(py, out) {
                Ok(v) => (true, v),
                Err(e) => (false, e.into_value(py).into_any()),
            };
            // A closed loop raises RuntimeError: nobody is left to await the result.
            let _ = event_loop
                .bind(py)
                .call_method1("call_soon_threadsafe", (completer(py)?, target, ok, value));
            PyResult::Ok(())
        });
    });
    Ok(py_fut)
}

type PyResultTx = tokio::sync::oneshot::Sender<PyResult<Py<PyAny>>>;

/// The result of a Python awaitable, awaited from Rust.
pub type PyAwait = Pin<Box<dyn Future<Output = PyResult<Py<PyAny>>> + Send>>;

/// Schedules `awaitable` on the loop of `locals` (`call_soon_threadsafe` +
/// `ensure_future`) and returns a Rust future of its result, awaited without the GIL. The
/// result is handed over on the loop's thread: no attachment from the awaiting thread. A
/// loop that is closed before the awaitable completes gives `CancelledError`.
pub fn into_future(locals: &TaskLocals, awaitable: Bound<'_, PyAny>) -> PyResult<PyAwait> {
    let py = awaitable.py();
    let (tx, rx) = tokio::sync::oneshot::channel::<PyResult<Py<PyAny>>>();
    let tx: Arc<Mutex<Option<PyResultTx>>> = Arc::new(Mutex::new(Some(tx)));
    let send = |tx: &Mutex<Option<PyResultTx>>, r: PyResult<Py<PyAny>>| {
        if let Some(tx) = lock(tx).take() {
            let _ = tx.send(r);
        }
    };
    let tx_done = tx.clone();
    let on_done = PyCFunction::new_closure(
        py,
        Some(c"_authcore_task_done"),
        None,
        move |args: &Bound<'_, PyTuple>, _kw: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            let task = args.get_item(0)?;
            send(&tx_done, task.call_method0("result").map(Bound::unbind));
            Ok(())
        },
    )?;
    let start = PyCFunction::new_closure(
        py,
        Some(c"_authcore_start"),
        None,
        move |args: &Bound<'_, PyTuple>, _kw: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            let py = args.py();
            let started = (|| -> PyResult<()> {
                let task = py
                    .import("asyncio")?
                    .call_method1("ensure_future", (args.get_item(0)?,))?;
                task.call_method1("add_done_callback", (args.get_item(1)?,))?;
                Ok(())
            })();
            if let Err(e) = started {
                send(&tx, Err(e));
            }
            Ok(())
        },
    )?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("context", locals.context(py))?;
    locals.event_loop(py).call_method(
        "call_soon_threadsafe",
        (start, awaitable, on_done),
        Some(&kwargs),
    )?;
    Ok(Box::pin(async move {
        match rx.await {
            Ok(r) => r,
            Err(_) => Err(pyo3::exceptions::asyncio::CancelledError::new_err(
                "the event loop went away before the awaitable completed",
            )),
        }
    }))
}
