//! [`AuthTask`]: one closure, run either on the libuv thread pool (`AsyncTask`) or inline
//! (the `*Sync` twin). Inputs are copied into the closure before it runs, so `compute`
//! touches only owned data; a panic is caught and becomes an `INTERNAL_PANIC` error.

use std::panic::AssertUnwindSafe;

use napi::bindgen_prelude::{AsyncTask, ToNapiValue, TypeName};
use napi::{Env, Task};

use super::error::{AuthErr, AuthResult, to_js};

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
            Some(job) => std::panic::catch_unwind(AssertUnwindSafe(job))
                .unwrap_or_else(|_| Err(AuthErr::panic())),
            None => Err(AuthErr::panic()),
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
