//! [`AuthTask`]: one closure, run either on the libuv thread pool (`AsyncTask`) or inline
//! (the `*Sync` twin). Inputs are copied into the closure before it runs, so `compute`
//! touches only owned data; a panic is caught ([`crate::error::catch`]) and becomes the
//! binding's one `INTERNAL_PANIC` error.
//!
//! Key derivation (argon2, bcrypt, RSA key generation) goes through [`spawn_kdf`]: still
//! the libuv pool, but at most [`kdf_concurrency`] of them run at once per JS thread (by
//! default one fewer than the CPUs, at least one); the rest wait in a queue on the JS thread
//! and start as running ones finish. A burst of logins then leaves a CPU to the event
//! loop instead of four pool threads outnumbering it, and leaves pool threads free for
//! `fs` and `dns` work.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{AsyncTask, Object, ToNapiValue, TypeName};
use napi::{Env, JsDeferred, Task};

use crate::error::{AuthErr, AuthResult, to_js};

type Job<T> = Box<dyn FnOnce() -> AuthResult<T> + Send>;

/// A unit of blocking work producing `T`.
pub struct AuthTask<T: Send + 'static> {
    job: Option<Job<T>>,
}

impl<T: Send + 'static> AuthTask<T> {
    /// Wrap `f` (which must own its inputs).
    pub fn new(f: impl FnOnce() -> AuthResult<T> + Send + 'static) -> Self {
        Self {
            job: Some(Box::new(f)),
        }
    }

    fn run(&mut self) -> AuthResult<T> {
        match self.job.take() {
            Some(job) => crate::error::catch(job).unwrap_or_else(|m| Err(AuthErr::panic(m))),
            None => Err(AuthErr::panic("internal error: a task ran twice".into())),
        }
    }
}

impl<T> Task for AuthTask<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = AuthResult<T>;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.run())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<T> {
        output.map_err(|e| to_js(&env, e))
    }
}

/// The Promise form: run on the libuv pool.
pub fn spawn<T>(f: impl FnOnce() -> AuthResult<T> + Send + 'static) -> AsyncTask<AuthTask<T>>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    AsyncTask::new(AuthTask::new(f))
}

type Resolver<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// The promise a key-derivation job settles, shared so that the JS thread can still settle
/// it if the job never reaches the pool.
type Settle<T> = Arc<Mutex<Option<JsDeferred<T, Resolver<T>>>>>;

fn take<T: ToNapiValue + Send + 'static>(s: &Settle<T>) -> Option<JsDeferred<T, Resolver<T>>> {
    s.lock().ok().and_then(|mut d| d.take())
}

/// A key-derivation job and the promise it settles.
struct KdfTask<T: ToNapiValue + Send + 'static> {
    job: AuthTask<T>,
    deferred: Settle<T>,
}

impl<T: ToNapiValue + Send + 'static> Task for KdfTask<T> {
    type Output = AuthResult<T>;
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.job.run())
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<()> {
        if let Some(d) = take(&self.deferred) {
            d.resolve(Box::new(move |env| output.map_err(|e| to_js(&env, e))));
        }
        Ok(())
    }

    /// Only reached if the work was cancelled: settle our promise, never the internal one
    /// (nobody awaits it, so rejecting it would be an unhandled rejection).
    fn reject(&mut self, _env: Env, err: napi::Error) -> napi::Result<()> {
        if let Some(d) = take(&self.deferred) {
            d.reject(err);
        }
        Ok(())
    }

    fn finally(self, env: Env) -> napi::Result<()> {
        kdf_finished(&env);
        Ok(())
    }
}

/// Something that can be started on the pool later (type-erased [`KdfTask`]).
type Start = Box<dyn FnOnce(&Env)>;

#[derive(Default)]
struct KdfGate {
    running: usize,
    waiting: VecDeque<Start>,
}

thread_local! {
    /// Per JS thread (the main thread and each worker thread have their own).
    static KDF_GATE: RefCell<KdfGate> = RefCell::new(KdfGate::default());
}

/// 0 = not configured yet.
static KDF_LIMIT: AtomicUsize = AtomicUsize::new(0);

fn default_kdf_concurrency() -> usize {
    authcore::limits::default_kdf_concurrency()
}

/// How many key derivations may run at once per JS thread.
pub fn kdf_concurrency() -> usize {
    match KDF_LIMIT.load(Ordering::Relaxed) {
        0 => {
            let n = default_kdf_concurrency();
            KDF_LIMIT.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

/// Change the limit (validated by the caller: 1..=`MAX_KDF_CONCURRENCY`); queued jobs start
/// at once if the limit grew.
pub fn set_kdf_concurrency(env: &Env, n: usize) {
    KDF_LIMIT.store(n.max(1), Ordering::Relaxed);
    pump(env);
}

fn kdf_finished(env: &Env) {
    KDF_GATE.with(|g| {
        let mut g = g.borrow_mut();
        g.running = g.running.saturating_sub(1);
    });
    pump(env);
}

/// Start waiting jobs while there is room.
fn pump(env: &Env) {
    loop {
        let next = KDF_GATE.with(|g| {
            let mut g = g.borrow_mut();
            if g.running < kdf_concurrency() {
                let next = g.waiting.pop_front();
                if next.is_some() {
                    authcore::metrics::KDF.queue_depth.add(-1);
                    g.running += 1;
                }
                next
            } else {
                None
            }
        });
        match next {
            Some(start) => start(env),
            None => break,
        }
    }
}

/// Jobs waiting for a slot on this JS thread (for tests and diagnostics).
pub fn kdf_waiting() -> usize {
    KDF_GATE.with(|g| g.borrow().waiting.len())
}

/// The Promise form for key derivation: the libuv pool, behind the per-thread limit.
pub fn spawn_kdf<'env, T>(
    env: &'env Env,
    f: impl FnOnce() -> AuthResult<T> + Send + 'static,
) -> napi::Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<T, Resolver<T>>()?;
    let deferred: Settle<T> = Arc::new(Mutex::new(Some(deferred)));
    let job = AuthTask::new(f);
    let start: Start = Box::new(move |env: &Env| {
        let task = KdfTask {
            job,
            deferred: deferred.clone(),
        };
        if let Err(e) = env.spawn(task) {
            // Never queued: settle the promise here and free the slot.
            if let Some(d) = take(&deferred) {
                d.reject(e);
            }
            kdf_finished(env);
        }
    });
    KDF_GATE.with(|g| g.borrow_mut().waiting.push_back(start));
    authcore::metrics::KDF.queue_depth.add(1);
    pump(env);
    Ok(promise)
}

/// The `*Sync` form: the same closure, inline on the calling thread.
pub fn block<T>(env: &Env, f: impl FnOnce() -> AuthResult<T> + Send + 'static) -> napi::Result<T>
where
    T: Send + 'static,
{
    AuthTask::new(f).run().map_err(|e| to_js(env, e))
}

/// Bytes of a password / secret given as a string (UTF-8) or a Buffer, copied.
pub fn bytes(v: napi::bindgen_prelude::Either<String, &[u8]>) -> Vec<u8> {
    match v {
        napi::bindgen_prelude::Either::A(s) => s.into_bytes(),
        napi::bindgen_prelude::Either::B(b) => b.to_vec(),
    }
}
