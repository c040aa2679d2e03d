//! JSON conversions of the binding (type conversion only).
//!
//! [`dumps_or_python`] gives the text of `json.dumps(obj, separators=(",", ":"))`, which is
//! what PyJWT signs: the Python object becomes the core's [`PyValue`] and
//! [`authcore::py::dumps`] writes it (every byte, NaN/±Infinity refused: the core's
//! `INVALID_ARGUMENT`, `InvalidArgumentError`, a `ValueError`). An object the model cannot hold (other types, lone surrogates, very deep
//! nesting, unsupported keys) is left to Python's `json.dumps`, which then produces the text
//! or raises PyJWT's `TypeError`.

use authcore::py::{self as core_json, PyKey, PyValue};
use serde_json::{Map, Value};

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Deeper structures are left to Python's encoder (which detects cycles).
const MAX_DEPTH: usize = 200;

/// Not convertible here: Python's encoder decides.
struct Unsupported;

fn int_of(obj: &Bound<'_, PyAny>) -> Result<Result<i64, String>, Unsupported> {
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Ok(i));
    }
    // Arbitrary precision: the digits of int.__repr__, as the C encoder calls it.
    obj.py()
        .get_type::<PyInt>()
        .call_method1("__repr__", (obj,))
        .and_then(|r| r.extract::<String>())
        .map(Err)
        .map_err(|_| Unsupported)
}

fn text_of(s: &Bound<'_, PyString>) -> Result<String, Unsupported> {
    s.to_cow().map(|c| c.into_owned()).map_err(|_| Unsupported)
}

fn key_of(k: &Bound<'_, PyAny>) -> Result<PyKey, Unsupported> {
    Ok(if let Ok(s) = k.cast::<PyString>() {
        PyKey::Str(text_of(s)?)
    } else if let Ok(b) = k.cast::<PyBool>() {
        PyKey::Bool(b.is_true())
    } else if k.is_none() {
        PyKey::None
    } else if let Ok(f) = k.cast::<PyFloat>() {
        PyKey::Float(f.value())
    } else if k.cast::<PyInt>().is_ok() {
        int_of(k)?.map_or_else(PyKey::BigInt, PyKey::Int)
    } else {
        return Err(Unsupported);
    })
}

fn items_of<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    depth: usize,
) -> Result<Vec<PyValue>, Unsupported> {
    items.map(|v| value_of(&v, depth + 1)).collect()
}

fn value_of(obj: &Bound<'_, PyAny>, depth: usize) -> Result<PyValue, Unsupported> {
    if depth > MAX_DEPTH {
        return Err(Unsupported);
    }
    Ok(if let Ok(s) = obj.cast::<PyString>() {
        PyValue::Str(text_of(s)?)
    } else if obj.is_none() {
        PyValue::None
    } else if let Ok(b) = obj.cast::<PyBool>() {
        PyValue::Bool(b.is_true())
    } else if obj.cast::<PyInt>().is_ok() {
        int_of(obj)?.map_or_else(PyValue::BigInt, PyValue::Int)
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        PyValue::Float(f.value())
    } else if let Ok(d) = obj.cast::<PyDict>() {
        let mut items = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            items.push((key_of(&k)?, value_of(&v, depth + 1)?));
        }
        PyValue::Dict(items)
    } else if let Ok(l) = obj.cast::<PyList>() {
        PyValue::List(items_of(l.iter(), depth)?)
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        PyValue::List(items_of(t.iter(), depth)?)
    } else {
        return Err(Unsupported);
    })
}

/// `json.dumps(obj, separators=(",", ":"))`: the core's text for what its model holds,
/// Python's `json.dumps` otherwise (its errors propagate).
pub fn dumps_or_python(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    match value_of(obj, 0) {
        Ok(v) => {
            core_json::dumps(&v).map_err(|e| crate::errors::invalid_argument(obj.py(), &e.into()))
        }
        Err(Unsupported) => python_dumps(obj),
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
