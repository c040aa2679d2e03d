//! The raw N-API layer of the request sources (`napi::sys`): the few reads
//! [`super::read_headers`] and [`super::ip_candidates`] make on the `headers` and
//! `metadata` objects, without napi-rs's typed wrappers (this runs on every verification).
//! Every `unsafe` block of the sources is here.
//!
//! Soundness: each function takes the `napi_env` of the current napi call and values of
//! that same call (the arguments of the exported function, or values these functions
//! returned during it), and is called only synchronously on the JS thread inside that call,
//! so every handle is live. Out-pointers are locals or buffers of the stated size. A
//! failing call is an `Err` with napi's status; nothing is kept past the call.

use std::ffi::CStr;
use std::ptr;

use napi::{Status, sys};

use crate::error::Result;

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::new(Status::from(status), what.to_owned()))
    }
}

/// `typeof v`, as napi's value type.
pub(super) fn type_of(env: sys::napi_env, v: sys::napi_value) -> Result<sys::napi_valuetype> {
    let mut t = 0;
    // SAFETY: `v` is a value of the current call of `env`.
    check(unsafe { sys::napi_typeof(env, v, &mut t) }, "typeof")?;
    Ok(t)
}

/// The text of a JS string (V8 writes UTF-8, a lone surrogate as U+FFFD).
pub(super) fn string_of(env: sys::napi_env, v: sys::napi_value) -> Result<String> {
    let mut len = 0usize;
    // SAFETY: `v` is a JS string of the current call; the first call only measures.
    check(
        unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) },
        "string length",
    )?;
    let mut buf = vec![0u8; len + 1];
    let mut written = 0usize;
    // SAFETY: `buf` holds `len + 1` bytes (the text and V8's NUL).
    check(
        unsafe {
            sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), len + 1, &mut written)
        },
        "string",
    )?;
    buf.truncate(written);
    Ok(String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// The UTF-16 units of a JS string copied into `units` (at most `units.len() - 1` of them,
/// then V8's NUL): the number copied. A copy that fills the buffer means a longer string.
pub(super) fn string_utf16_into(
    env: sys::napi_env,
    v: sys::napi_value,
    units: &mut [u16],
) -> Result<usize> {
    let mut len = 0usize;
    // SAFETY: `v` is a JS string of the current call; napi writes at most `units.len()`
    // units (the text, cut to fit, and a NUL).
    check(
        unsafe {
            sys::napi_get_value_string_utf16(env, v, units.as_mut_ptr(), units.len(), &mut len)
        },
        "key",
    )?;
    Ok(len)
}

/// The value of a JS boolean.
pub(super) fn bool_of(env: sys::napi_env, v: sys::napi_value) -> Result<bool> {
    let mut b = false;
    // SAFETY: a boolean of the current call.
    check(unsafe { sys::napi_get_value_bool(env, v, &mut b) }, "bool")?;
    Ok(b)
}

/// The value of a JS number.
pub(super) fn number_of(env: sys::napi_env, v: sys::napi_value) -> Result<f64> {
    let mut n = 0.0;
    // SAFETY: a number of the current call.
    check(
        unsafe { sys::napi_get_value_double(env, v, &mut n) },
        "number",
    )?;
    Ok(n)
}

/// `Array.isArray(v)`.
pub(super) fn is_array(env: sys::napi_env, v: sys::napi_value) -> Result<bool> {
    let mut b = false;
    // SAFETY: a value of the current call.
    check(unsafe { sys::napi_is_array(env, v, &mut b) }, "isArray")?;
    Ok(b)
}

/// `array[i]`.
pub(super) fn element(
    env: sys::napi_env,
    array: sys::napi_value,
    i: u32,
) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: an array (or object) of the current call.
    check(
        unsafe { sys::napi_get_element(env, array, i, &mut out) },
        "element",
    )?;
    Ok(out)
}

/// `array.length`.
pub(super) fn length(env: sys::napi_env, array: sys::napi_value) -> Result<u32> {
    let mut n = 0;
    // SAFETY: an array of the current call.
    check(
        unsafe { sys::napi_get_array_length(env, array, &mut n) },
        "length",
    )?;
    Ok(n)
}

/// `obj[name]`.
pub(super) fn named(
    env: sys::napi_env,
    obj: sys::napi_value,
    name: &CStr,
) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: an object of the current call; `name` is NUL-terminated.
    check(
        unsafe { sys::napi_get_named_property(env, obj, name.as_ptr(), &mut out) },
        "property",
    )?;
    Ok(out)
}

/// `obj[key]` for a key value (one of `Object.keys(obj)`).
pub(super) fn property(
    env: sys::napi_env,
    obj: sys::napi_value,
    key: sys::napi_value,
) -> Result<sys::napi_value> {
    let mut v = ptr::null_mut();
    // SAFETY: `obj` is an object and `key` one of its keys, both of the current call.
    check(
        unsafe { sys::napi_get_property(env, obj, key, &mut v) },
        "header",
    )?;
    Ok(v)
}

/// `Object.keys(obj)`: own, enumerable, string keys (numbers as strings), as a JS array.
pub(super) fn own_keys(env: sys::napi_env, obj: sys::napi_value) -> Result<sys::napi_value> {
    let mut keys = ptr::null_mut();
    // SAFETY: an object of the current call.
    check(
        unsafe {
            sys::napi_get_all_property_names(
                env,
                obj,
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut keys,
            )
        },
        "Object.keys",
    )?;
    Ok(keys)
}

/// `String(v)` (the global function: a Symbol gives `Symbol(…)`, an object its `toString`).
pub(super) fn js_string_call(env: sys::napi_env, v: sys::napi_value) -> Result<String> {
    let mut global = ptr::null_mut();
    let mut func = ptr::null_mut();
    let mut out = ptr::null_mut();
    // SAFETY: values of the current call; `String` is a function of the global object;
    // `&v` is one argument that outlives the call.
    unsafe {
        check(sys::napi_get_global(env, &mut global), "global")?;
        check(
            sys::napi_get_named_property(env, global, c"String".as_ptr(), &mut func),
            "String",
        )?;
        check(
            sys::napi_call_function(env, global, func, 1, &v, &mut out),
            "String()",
        )?;
    }
    string_of(env, out)
}
