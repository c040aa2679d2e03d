//! Python values → core types, with JavaScript semantics where the wire depends on them.
//!
//! - `str` is a JavaScript string: a lone surrogate (`"\ud800"`) becomes U+FFFD when
//!   hashed, like V8's UTF-8 encoder; in message JSON it stays a UTF-16 unit so that it
//!   is escaped as `\ud800` exactly like `JSON.stringify`.
//! - `int`/`float` are JavaScript Numbers (ints beyond 2**53 lose precision, ints beyond
//!   the double range become ±Infinity, NaN/±Infinity serialise as `null`).
//! - `datetime` is a `Date` (naive means UTC), `bytes` a `Buffer`.

use std::borrow::Cow;

use authcore::hmac::{HmacError, JsString, JsValue};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple,
    PyType,
};

use crate::errors::input;
use pyo3::exceptions::PyTypeError;

/// Maximum nesting of a message (the core's JSON parser uses the same bound). Deeper
/// structures, including self-referencing ones, are rejected instead of overflowing
/// the stack.
pub const MAX_DEPTH: usize = 512;

/// A JavaScript Number back to Python: an `int` when integral, else a `float`.
pub fn js_number_to_py(py: Python<'_>, v: f64) -> PyResult<Py<PyAny>> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
        Ok((v as i64).into_pyobject(py)?.into_any().unbind())
    } else {
        Ok(PyFloat::new(py, v).into_any().unbind())
    }
}

/// UTF-16 code units of a Python `str` that holds surrogate code points.
fn utf16_units(s: &Bound<'_, PyString>) -> PyResult<Vec<u16>> {
    let raw = s.call_method1("encode", ("utf-16-le", "surrogatepass"))?;
    let bytes = raw.cast::<PyBytes>()?.as_bytes();
    Ok(bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}

/// A Python `str` as UTF-8, lone surrogates replaced by U+FFFD (what hashing the
/// JavaScript string would see). Surrogate pairs spelled as two code points combine.
pub fn str_lossy<'a>(s: &'a Bound<'_, PyString>) -> PyResult<Cow<'a, str>> {
    match s.to_cow() {
        Ok(c) => Ok(c),
        Err(_) => Ok(Cow::Owned(String::from_utf16_lossy(&utf16_units(s)?))),
    }
}

/// A required string argument.
pub fn req_str<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> Result<Cow<'a, str>, HmacError> {
    let s = obj
        .cast::<PyString>()
        .map_err(|_| input(format!("{what} must be a string, got {}", type_name(obj))))?;
    str_lossy(s).map_err(|e| input(format!("{what}: {e}")))
}

/// An optional string argument (`None` is absent).
pub fn opt_str<'a>(
    obj: Option<&'a Bound<'_, PyAny>>,
    what: &str,
) -> Result<Option<Cow<'a, str>>, HmacError> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => req_str(o, what).map(Some),
    }
}

pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A JavaScript string for the message model (keeps lone surrogates).
fn js_string(s: &Bound<'_, PyString>) -> Result<JsString, HmacError> {
    match s.to_cow() {
        Ok(c) => Ok(JsString::Utf8(c.into_owned())),
        Err(_) => utf16_units(s)
            .map(JsString::from_utf16)
            .map_err(|e| input(format!("string: {e}"))),
    }
}

/// A request body: `None` → empty, `str` → its UTF-8 (lone surrogates as U+FFFD),
/// `bytes`/`bytearray`/`memoryview` → the bytes (hashed as lossy UTF-8 by the core).
pub enum Body<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Body<'_> {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Body::Borrowed(b) => b,
            Body::Owned(v) => v,
        }
    }

    pub fn into_owned(self) -> Vec<u8> {
        match self {
            Body::Borrowed(b) => b.to_vec(),
            Body::Owned(v) => v,
        }
    }
}

pub fn body<'a>(obj: Option<&'a Bound<'_, PyAny>>) -> Result<Body<'a>, HmacError> {
    let Some(obj) = obj else {
        return Ok(Body::Borrowed(b""));
    };
    if obj.is_none() {
        return Ok(Body::Borrowed(b""));
    }
    let body = if let Ok(b) = obj.cast::<PyBytes>() {
        Body::Borrowed(b.as_bytes())
    } else if let Ok(s) = obj.cast::<PyString>() {
        match str_lossy(s).map_err(|e| input(format!("body: {e}")))? {
            Cow::Borrowed(b) => Body::Borrowed(b.as_bytes()),
            Cow::Owned(o) => Body::Owned(o.into_bytes()),
        }
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        Body::Owned(b.to_vec())
    } else if obj.is_instance_of::<PyMemoryView>() {
        let bytes = obj
            .py()
            .get_type::<PyBytes>()
            .call1((obj,))
            .map_err(|e| input(format!("body: {e}")))?;
        Body::Owned(
            bytes
                .cast::<PyBytes>()
                .map_err(|e| input(e.to_string()))?
                .as_bytes()
                .to_vec(),
        )
    } else {
        return Err(input(format!(
            "body must be str, bytes, bytearray, memoryview or None, got {}",
            type_name(obj)
        )));
    };
    authcore::hmac::crypto::check_body_size(body.as_slice().len())?;
    Ok(body)
}

/// A timestamp or `now` argument: a finite Number.
pub fn finite_number(obj: &Bound<'_, PyAny>, what: &str) -> Result<f64, HmacError> {
    if obj.is_instance_of::<PyBool>()
        || !(obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>())
    {
        return Err(input(format!(
            "{what} must be a number, got {}",
            type_name(obj)
        )));
    }
    let v = number(obj)?;
    if !v.is_finite() {
        return Err(input(format!("{what} must be a finite number")));
    }
    Ok(v)
}

pub fn opt_finite_number(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> Result<Option<f64>, HmacError> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => finite_number(o, what).map(Some),
    }
}

/// A numeric option the originals coerce with `Number()` (`max_skew_ms`): an `int` or
/// `float`, or a `str` read by the core's [`authcore::js::NumberOption`] (`"5000"` is
/// 5000, `"soon"` is NaN, which the option's own check refuses). Absent or `None` stays
/// absent; any other type is `INVALID_INPUT`.
pub fn opt_number_option(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> Result<Option<f64>, HmacError> {
    use authcore::js::NumberOption;
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => {
            if let Ok(s) = o.cast::<pyo3::types::PyString>() {
                let text = s.to_str().map_err(|e| input(e.to_string()))?;
                return Ok(Some(NumberOption::Text(text).value()));
            }
            o.extract::<f64>()
                .map(|n| Some(NumberOption::Number(n).value()))
                .map_err(|_| input(format!("{what} must be a number")))
        }
    }
}

/// An `int` or `float` as a JavaScript Number (huge ints become ±Infinity).
fn number(obj: &Bound<'_, PyAny>) -> Result<f64, HmacError> {
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(i as f64);
    }
    match obj.extract::<f64>() {
        Ok(f) => Ok(f),
        Err(_) => {
            // An int outside the double range: JavaScript would read it as ±Infinity.
            let positive = obj.gt(0).map_err(|e| input(e.to_string()))?;
            Ok(if positive {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            })
        }
    }
}

fn datetime_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static T: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    T.import(py, "datetime", "datetime")
}

fn utc(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static T: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    T.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("datetime")?
                .getattr("timezone")?
                .getattr("utc")?
                .unbind(),
        )
    })
    .map(|o| o.bind(py))
}

pub fn is_datetime(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.is_instance(datetime_type(obj.py())?)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

struct UtcParts {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
}

fn utc_parts(dt: &Bound<'_, PyAny>) -> PyResult<UtcParts> {
    let py = dt.py();
    let dt = if dt.getattr("tzinfo")?.is_none() {
        dt.clone()
    } else {
        dt.call_method1("astimezone", (utc(py)?,))?
    };
    let get = |name: &str| -> PyResult<i64> { dt.getattr(name)?.extract::<i64>() };
    Ok(UtcParts {
        year: get("year")?,
        month: get("month")?,
        day: get("day")?,
        hour: get("hour")?,
        minute: get("minute")?,
        second: get("second")?,
        millis: get("microsecond")? / 1000,
    })
}

/// `date.getTime()`: milliseconds since the epoch (naive datetimes are UTC).
pub fn datetime_ms(dt: &Bound<'_, PyAny>) -> Result<f64, HmacError> {
    let p = utc_parts(dt).map_err(|e| input(format!("datetime: {e}")))?;
    let days = days_from_civil(p.year, p.month, p.day);
    let ms = (((days * 24 + p.hour) * 60 + p.minute) * 60 + p.second) * 1000 + p.millis;
    Ok(ms as f64)
}

/// `date.toISOString()`: `YYYY-MM-DDTHH:MM:SS.sssZ` in UTC (naive datetimes are UTC).
pub fn datetime_iso(dt: &Bound<'_, PyAny>) -> Result<String, HmacError> {
    let p = utc_parts(dt).map_err(|e| input(format!("datetime: {e}")))?;
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        p.year, p.month, p.day, p.hour, p.minute, p.second, p.millis
    ))
}

/// A Python message → the core's JavaScript value model.
pub fn js_value(obj: &Bound<'_, PyAny>) -> Result<JsValue, HmacError> {
    js_value_at(obj, 0)
}

/// A Python value as `JSON.stringify` sees it (realtime `data:` frames): [`js_value`],
/// except that a top-level `bytes` is a Buffer (`{"type":"Buffer","data":[…]}`) as it is
/// nested, not its text.
pub fn json_value(obj: &Bound<'_, PyAny>) -> Result<JsValue, HmacError> {
    let bytes_like = obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
        || obj.is_instance_of::<PyMemoryView>();
    js_value_at(obj, usize::from(bytes_like))
}

fn js_value_at(obj: &Bound<'_, PyAny>, depth: usize) -> Result<JsValue, HmacError> {
    if depth > MAX_DEPTH {
        return Err(input(format!(
            "message nesting deeper than {MAX_DEPTH} levels (or a circular structure)"
        )));
    }
    if obj.is_none() {
        return Ok(JsValue::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(JsValue::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>() {
        return number(obj).map(JsValue::Number);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return js_string(s).map(JsValue::String);
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut entries = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            entries.push((js_key(&k)?, js_value_at(&v, depth + 1)?));
        }
        return Ok(JsValue::Object(entries));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        let mut items = Vec::with_capacity(l.len());
        for v in l.iter() {
            items.push(js_value_at(&v, depth + 1)?);
        }
        return Ok(JsValue::Array(items));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        let mut items = Vec::with_capacity(t.len());
        for v in t.iter() {
            items.push(js_value_at(&v, depth + 1)?);
        }
        return Ok(JsValue::Array(items));
    }
    if is_datetime(obj).map_err(|e| input(e.to_string()))? {
        return Ok(JsValue::String(JsString::Utf8(datetime_iso(obj)?)));
    }
    if obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
        || obj.is_instance_of::<PyMemoryView>()
    {
        let bytes = body(Some(obj))?;
        if depth == 0 {
            // A top-level Buffer is its UTF-8 text (lossy), like `toMessageString`.
            return Ok(JsValue::String(JsString::Utf8(
                String::from_utf8_lossy(bytes.as_slice()).into_owned(),
            )));
        }
        // Nested, a Buffer serialises through `Buffer#toJSON`.
        let data = bytes
            .as_slice()
            .iter()
            .map(|b| JsValue::Number(f64::from(*b)))
            .collect();
        return Ok(JsValue::Unsorted(vec![
            (
                JsString::from("type"),
                JsValue::String(JsString::from("Buffer")),
            ),
            (JsString::from("data"), JsValue::Array(data)),
        ]));
    }
    Err(input(format!(
        "cannot convert a {} to a message (expected dict, list, tuple, str, int, float, bool, None, datetime or bytes)",
        type_name(obj)
    )))
}

/// A dict key as a JavaScript property key (`String(key)`).
fn js_key(k: &Bound<'_, PyAny>) -> Result<JsString, HmacError> {
    if let Ok(s) = k.cast::<PyString>() {
        return js_string(s);
    }
    if k.is_none() {
        return Ok(JsString::from("null"));
    }
    if let Ok(b) = k.cast::<PyBool>() {
        return Ok(JsString::from(if b.is_true() { "true" } else { "false" }));
    }
    if k.is_instance_of::<PyInt>() || k.is_instance_of::<PyFloat>() {
        return Ok(JsString::Utf8(authcore::js::number_to_string(number(k)?)));
    }
    Err(input(format!(
        "message keys must be str, int, float, bool or None, got {}",
        type_name(k)
    )))
}

/// `str` (UTF-8), `bytes` or `bytearray` → owned bytes (secrets, passwords, keys).
pub fn bytes_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be str or bytes, not {}",
        obj.get_type().name()?
    )))
}

/// Current unix time in seconds, fractional.
pub fn now_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `now` argument (unix seconds) or the current time, as whole seconds.
pub fn now_secs(now: Option<f64>) -> PyResult<u64> {
    let n = now.unwrap_or_else(now_f64);
    if !n.is_finite() || n < 0.0 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "now must be a finite, non-negative unix time",
        ));
    }
    Ok(n as u64)
}
