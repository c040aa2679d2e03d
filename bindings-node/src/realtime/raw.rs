//! The raw N-API layer of the realtime binding (`napi::sys`): the env of the current call
//! ([`EnvScope`]), references usable only inside it ([`JsRef`]), and the few raw calls the
//! host objects need (property reads, method calls, strings, objects). Every `unsafe`
//! block of the realtime binding is here; see the soundness notes in [`super`].

use std::cell::{Cell, RefCell};
use std::ffi::CStr;
use std::ptr;
use std::thread::{self, ThreadId};

use napi::bindgen_prelude::Function;
use napi::{Env, Status, sys};

type Result<T> = napi::Result<T>;

// ---------------------------------------------------------------------------------------
// The env of the current call, and references usable only inside it
// ---------------------------------------------------------------------------------------

thread_local! {
    /// The env of the innermost napi call of this module running on this thread (null
    /// outside any call).
    static CURRENT_ENV: Cell<sys::napi_env> = const { Cell::new(ptr::null_mut()) };
    /// References dropped on this thread outside a call, deleted at the next call.
    static DEFERRED: RefCell<Vec<(sys::napi_env, sys::napi_ref)>> = const { RefCell::new(Vec::new()) };
}

/// Marks this thread as inside a napi call of `env` until dropped (restores the outer
/// call's env: calls nest when JS re-enters the module from a callback).
pub(super) struct EnvScope {
    prev: sys::napi_env,
}

impl EnvScope {
    pub(super) fn enter(env: &Env) -> Self {
        let raw = env.raw();
        let prev = CURRENT_ENV.with(|c| c.replace(raw));
        release_deferred(raw);
        Self { prev }
    }
}

impl Drop for EnvScope {
    fn drop(&mut self) {
        let prev = self.prev;
        let _ = CURRENT_ENV.try_with(|c| c.set(prev));
    }
}

pub(super) fn current_env() -> sys::napi_env {
    CURRENT_ENV.try_with(|c| c.get()).unwrap_or(ptr::null_mut())
}

pub(super) fn release_deferred(env: sys::napi_env) {
    let due: Vec<sys::napi_ref> = DEFERRED.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_empty() {
            return Vec::new();
        }
        let (due, keep): (Vec<_>, Vec<_>) = d.drain(..).partition(|(e, _)| *e == env);
        *d = keep;
        due.into_iter().map(|(_, r)| r).collect()
    });
    for r in due {
        // SAFETY: `r` was created in `env` on this thread, and we are inside a call of
        // `env` on this thread.
        unsafe { sys::napi_delete_reference(env, r) };
    }
}

/// A strong napi reference to a JS value, usable only on its own thread inside a call of
/// its own env (module docs).
pub(super) struct JsRef {
    env: sys::napi_env,
    raw: sys::napi_ref,
    thread: ThreadId,
}

// SAFETY: the raw handles are dereferenced only by `JsRef::env`'s callers, which get an
// env only on `thread` inside a call of `env`; on every other thread a `JsRef` is only
// moved or dropped, and `Drop` does not touch napi there.
unsafe impl Send for JsRef {}
// SAFETY: as for `Send`; `&JsRef` offers nothing more than the owner does.
unsafe impl Sync for JsRef {}

impl JsRef {
    pub(super) fn new(env: &Env, value: sys::napi_value) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: called inside a napi call of `env` with a value of that call.
        let status = unsafe { sys::napi_create_reference(env.raw(), value, 1, &mut raw) };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(
                Status::from(status),
                "could not keep a reference to the value",
            ));
        }
        Ok(Self {
            env: env.raw(),
            raw,
            thread: thread::current().id(),
        })
    }

    /// The env to use this reference with, when this thread is its own and is inside a
    /// call of its env.
    pub(super) fn env(&self) -> Option<sys::napi_env> {
        (thread::current().id() == self.thread && current_env() == self.env).then_some(self.env)
    }

    /// The referenced value (`env` from [`JsRef::env`]).
    pub(super) fn value(&self, env: sys::napi_env) -> std::result::Result<sys::napi_value, String> {
        let mut v = ptr::null_mut();
        // SAFETY: `env` is this reference's env, inside a call, on its thread.
        let status = unsafe { sys::napi_get_reference_value(env, self.raw, &mut v) };
        if status != sys::Status::napi_ok || v.is_null() {
            return Err("the JavaScript value is no longer available".into());
        }
        Ok(v)
    }
}

impl Drop for JsRef {
    fn drop(&mut self) {
        if thread::current().id() != self.thread {
            // Never touch napi off the JS thread: leak the reference.
            return;
        }
        if current_env() == self.env {
            // SAFETY: inside a call of the reference's env, on its thread.
            unsafe { sys::napi_delete_reference(self.env, self.raw) };
        } else {
            let entry = (self.env, self.raw);
            let _ = DEFERRED.try_with(|d| d.borrow_mut().push(entry));
        }
    }
}

pub(super) const OFF_THREAD: &str =
    "a JavaScript object was used outside a JavaScript call on its own thread (ignored)";

// ---------------------------------------------------------------------------------------
// Raw JS helpers (all called with the env of the current call)
// ---------------------------------------------------------------------------------------

/// Text of any JS value, as `String(value)` would give it (lossy for lone surrogates).
pub(super) fn value_text(env: sys::napi_env, v: sys::napi_value) -> String {
    let mut s = ptr::null_mut();
    // SAFETY: env and value of the current call.
    let status = unsafe { sys::napi_coerce_to_string(env, v, &mut s) };
    if status != sys::Status::napi_ok {
        clear_exception(env);
        return "<a value that cannot be converted to a string>".into();
    }
    read_utf8(env, s).unwrap_or_default()
}

pub(super) fn read_utf8(env: sys::napi_env, s: sys::napi_value) -> Option<String> {
    let mut len = 0usize;
    // SAFETY: env and string value of the current call; a null buffer asks for the length.
    let st = unsafe { sys::napi_get_value_string_utf8(env, s, ptr::null_mut(), 0, &mut len) };
    if st != sys::Status::napi_ok {
        return None;
    }
    let mut buf = vec![0u8; len + 1];
    let mut written = 0usize;
    // SAFETY: `buf` holds len + 1 bytes.
    let st = unsafe {
        sys::napi_get_value_string_utf8(env, s, buf.as_mut_ptr().cast(), len + 1, &mut written)
    };
    if st != sys::Status::napi_ok {
        return None;
    }
    buf.truncate(written);
    String::from_utf8(buf).ok()
}

pub(super) fn read_utf16(env: sys::napi_env, s: sys::napi_value) -> Option<Vec<u16>> {
    let mut len = 0usize;
    // SAFETY: as `read_utf8`, in UTF-16 code units.
    let st = unsafe { sys::napi_get_value_string_utf16(env, s, ptr::null_mut(), 0, &mut len) };
    if st != sys::Status::napi_ok {
        return None;
    }
    let mut buf = vec![0u16; len + 1];
    let mut written = 0usize;
    // SAFETY: `buf` holds len + 1 units.
    let st = unsafe {
        sys::napi_get_value_string_utf16(env, s, buf.as_mut_ptr(), len + 1, &mut written)
    };
    if st != sys::Status::napi_ok {
        return None;
    }
    buf.truncate(written);
    Some(buf)
}

pub(super) fn clear_exception(env: sys::napi_env) {
    let mut pending = false;
    // SAFETY: env of the current call.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if pending {
        let mut e = ptr::null_mut();
        // SAFETY: as above.
        unsafe { sys::napi_get_and_clear_last_exception(env, &mut e) };
    }
}

/// `Ok` for `napi_ok`; otherwise the text of the pending exception (cleared), or of the
/// napi status.
pub(super) fn check(
    env: sys::napi_env,
    status: sys::napi_status,
) -> std::result::Result<(), String> {
    if status == sys::Status::napi_ok {
        return Ok(());
    }
    let mut pending = false;
    // SAFETY: env of the current call.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if pending {
        let mut e = ptr::null_mut();
        // SAFETY: as above; the exception is cleared so JS can be called again.
        unsafe { sys::napi_get_and_clear_last_exception(env, &mut e) };
        return Err(value_text(env, e));
    }
    Err(format!("napi call failed ({})", Status::from(status)))
}

pub(super) fn type_of(env: sys::napi_env, v: sys::napi_value) -> sys::napi_valuetype {
    let mut t = sys::ValueType::napi_undefined;
    // SAFETY: env and value of the current call.
    unsafe { sys::napi_typeof(env, v, &mut t) };
    t
}

pub(super) fn get_prop(
    env: sys::napi_env,
    obj: sys::napi_value,
    name: &CStr,
) -> std::result::Result<sys::napi_value, String> {
    let mut v = ptr::null_mut();
    // SAFETY: env and value of the current call; `name` is NUL-terminated.
    check(env, unsafe {
        sys::napi_get_named_property(env, obj, name.as_ptr(), &mut v)
    })?;
    Ok(v)
}

pub(super) fn call_fn(
    env: sys::napi_env,
    this: sys::napi_value,
    f: sys::napi_value,
    args: &[sys::napi_value],
) -> std::result::Result<sys::napi_value, String> {
    let mut out = ptr::null_mut();
    // SAFETY: env and values of the current call; `args` outlives the call.
    check(env, unsafe {
        sys::napi_call_function(env, this, f, args.len(), args.as_ptr(), &mut out)
    })?;
    Ok(out)
}

/// `obj[name](...args)` with `this = obj`; a missing method is the `TypeError` JS gives.
pub(super) fn call_method(
    env: sys::napi_env,
    obj: sys::napi_value,
    what: &str,
    name: &CStr,
    args: &[sys::napi_value],
) -> std::result::Result<sys::napi_value, String> {
    let f = get_prop(env, obj, name)?;
    if type_of(env, f) != sys::ValueType::napi_function {
        return Err(format!(
            "TypeError: {what}.{} is not a function",
            name.to_string_lossy()
        ));
    }
    call_fn(env, obj, f, args)
}

pub(super) fn js_string(
    env: sys::napi_env,
    s: &str,
) -> std::result::Result<sys::napi_value, String> {
    let mut v = ptr::null_mut();
    // SAFETY: env of the current call; `s` is valid UTF-8 of the given length.
    check(env, unsafe {
        sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut v)
    })?;
    Ok(v)
}

pub(super) fn undefined(env: sys::napi_env) -> sys::napi_value {
    let mut v = ptr::null_mut();
    // SAFETY: env of the current call.
    unsafe { sys::napi_get_undefined(env, &mut v) };
    v
}

pub(super) fn to_napi_err(msg: String) -> napi::Error {
    napi::Error::new(Status::GenericFailure, msg)
}

/// A JS function running `f` inside an [`EnvScope`], panics caught.
pub(super) fn make_function<'env, F>(
    env: &'env Env,
    name: &str,
    f: F,
) -> Result<Function<'env, (), ()>>
where
    F: Fn(&Env) -> Result<()> + 'static,
{
    env.create_function_from_closure(name, move |ctx| {
        let _scope = EnvScope::enter(ctx.env);
        crate::error::guard(ctx.env, || f(ctx.env))
    })
}

pub(super) fn js_string_utf16(
    env: sys::napi_env,
    units: &[u16],
) -> std::result::Result<sys::napi_value, String> {
    let mut v = ptr::null_mut();
    // SAFETY: env of the current call; `units` holds the given number of code units.
    check(env, unsafe {
        sys::napi_create_string_utf16(env, units.as_ptr(), units.len() as isize, &mut v)
    })?;
    Ok(v)
}

/// The global object of the current call.
pub(super) fn global(env: sys::napi_env) -> std::result::Result<sys::napi_value, String> {
    let mut global = ptr::null_mut();
    // SAFETY: env of the current call.
    check(env, unsafe { sys::napi_get_global(env, &mut global) })?;
    Ok(global)
}

/// A new plain object with the given properties, in order.
pub(super) fn object_of(
    env: sys::napi_env,
    props: &[(&CStr, sys::napi_value)],
) -> std::result::Result<sys::napi_value, String> {
    let mut obj = ptr::null_mut();
    // SAFETY: env and values of the current call; names are NUL-terminated.
    check(env, unsafe { sys::napi_create_object(env, &mut obj) })?;
    for (name, value) in props {
        check(env, unsafe {
            sys::napi_set_named_property(env, obj, name.as_ptr(), *value)
        })?;
    }
    Ok(obj)
}
