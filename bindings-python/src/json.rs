//! JSON conversions of the binding (type conversion only).
//!
//! [`dumps`] writes a Python object as the exact text of
//! `json.dumps(obj, separators=(",", ":"))` (ASCII-only output, `\uXXXX` escapes with
//! surrogate pairs, `float.__repr__` numbers, non-string keys converted),
//! which is what PyJWT signs, except that NaN and ±Infinity are refused (`ValueError`:
//! the token would not be JSON). Anything it cannot render identically (other types, lone
//! surrogates, very deep nesting, unsupported keys) is reported as
//! [`Dump::Unsupported`] and the caller falls back to Python's `json.dumps`, which then
//! produces the text or raises PyJWT's `TypeError`.

use serde_json::{Map, Value};

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Deeper structures are left to Python's encoder (which detects cycles).
const MAX_DEPTH: usize = 200;

/// Outcome of [`dumps`].
pub enum Dump {
    /// The JSON text.
    Text(String),
    /// Fall back to `json.dumps`.
    Unsupported,
    /// A NaN or infinite float (refused: the token would not be JSON).
    NonFinite(f64),
}

enum Unsupported {
    /// Not rendered here: Python's encoder decides.
    Other,
    /// NaN or ±Infinity: `json.dumps` would write `NaN`/`Infinity`, which is not JSON.
    NonFinite(f64),
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_u16_escape(out: &mut String, u: u16) {
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[((u >> shift) & 0xf) as usize] as char);
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    push_u16_escape(out, *u);
                }
            }
        }
    }
    out.push('"');
}

/// `float.__repr__` of a finite double, as `json.dumps` writes it.
pub fn write_float(out: &mut String, v: f64) {
    // Shortest round-trip digits, scientific: "-1.2345e-7", "1e16", "0e0".
    let sci = format!("{v:e}");
    let (mant, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    if neg {
        out.push('-');
    }
    if !(-4..16).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&digits);
    }
}

fn write_int(out: &mut String, obj: &Bound<'_, PyAny>) -> PyResult<()> {
    if let Ok(i) = obj.extract::<i64>() {
        out.push_str(itoa_i64(i).as_str());
    } else {
        // Arbitrary precision: int.__repr__, as the C encoder calls it.
        let r = obj
            .py()
            .get_type::<PyInt>()
            .call_method1("__repr__", (obj,))?;
        out.push_str(&r.extract::<String>()?);
    }
    Ok(())
}

fn itoa_i64(i: i64) -> String {
    i.to_string()
}

fn write_key(out: &mut String, k: &Bound<'_, PyAny>) -> Result<(), Unsupported> {
    if let Ok(s) = k.cast::<PyString>() {
        write_str(out, &s.to_cow().map_err(|_| Unsupported::Other)?);
    } else if let Ok(b) = k.cast::<PyBool>() {
        out.push_str(if b.is_true() { "\"true\"" } else { "\"false\"" });
    } else if k.is_none() {
        out.push_str("\"null\"");
    } else if let Ok(f) = k.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(Unsupported::NonFinite(v));
        }
        out.push('"');
        write_float(out, v);
        out.push('"');
    } else if k.cast::<PyInt>().is_ok() {
        out.push('"');
        write_int(out, k).map_err(|_| Unsupported::Other)?;
        out.push('"');
    } else {
        return Err(Unsupported::Other);
    }
    Ok(())
}

fn write(out: &mut String, obj: &Bound<'_, PyAny>, depth: usize) -> Result<(), Unsupported> {
    if depth > MAX_DEPTH {
        return Err(Unsupported::Other);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        write_str(out, &s.to_cow().map_err(|_| Unsupported::Other)?);
    } else if obj.is_none() {
        out.push_str("null");
    } else if let Ok(b) = obj.cast::<PyBool>() {
        out.push_str(if b.is_true() { "true" } else { "false" });
    } else if obj.cast::<PyInt>().is_ok() {
        write_int(out, obj).map_err(|_| Unsupported::Other)?;
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(Unsupported::NonFinite(v));
        }
        write_float(out, v);
    } else if let Ok(d) = obj.cast::<PyDict>() {
        out.push('{');
        for (i, (k, v)) in d.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_key(out, &k)?;
            out.push(':');
            write(out, &v, depth + 1)?;
        }
        out.push('}');
    } else if let Ok(l) = obj.cast::<PyList>() {
        out.push('[');
        for (i, v) in l.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write(out, &v, depth + 1)?;
        }
        out.push(']');
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        out.push('[');
        for (i, v) in t.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write(out, &v, depth + 1)?;
        }
        out.push(']');
    } else {
        return Err(Unsupported::Other);
    }
    Ok(())
}

/// `json.dumps(obj, separators=(",", ":"))`, or [`Dump::Unsupported`].
pub fn dumps(obj: &Bound<'_, PyAny>) -> Dump {
    let mut out = String::with_capacity(256);
    match write(&mut out, obj, 0) {
        Ok(()) => Dump::Text(out),
        Err(Unsupported::Other) => Dump::Unsupported,
        Err(Unsupported::NonFinite(v)) => Dump::NonFinite(v),
    }
}

/// [`dumps`] with Python's `json.dumps` as the fallback (its errors propagate).
pub fn dumps_or_python(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    match dumps(obj) {
        Dump::Text(t) => Ok(t),
        Dump::Unsupported => python_dumps(obj),
        Dump::NonFinite(v) => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "Out of range float values are not JSON compliant: {v}"
        ))),
    }
}

/// `json.dumps(obj, separators=(",", ":"), allow_nan=False)` through Python.
pub fn python_dumps(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = obj.py();
    let kwargs = PyDict::new(py);
    kwargs.set_item("separators", (",", ":"))?;
    kwargs.set_item("allow_nan", false)?;
    py.import("json")?
        .getattr("dumps")?
        .call((obj,), Some(&kwargs))?
        .extract()
}

/// A JSON value as the Python object `json.loads` would give (integers beyond 64 bits
/// arrive as floats).
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(to_py(py, x)?)?;
            }
            l.into_any()
        }
        Value::Object(o) => map_to_py(py, o)?.into_any(),
    })
}

/// A JSON object as a `dict`.
pub fn map_to_py<'py>(py: Python<'py>, m: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in m {
        d.set_item(k, to_py(py, v)?)?;
    }
    Ok(d)
}
