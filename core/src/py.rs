//! Python value semantics that a wire format depends on: the text of
//! `json.dumps(obj, separators=(",", ":"))`.
//!
//! PyJWT signs the bytes of `json.dumps(payload, separators=(",", ":"))`, so a token
//! matches PyJWT's byte for byte only when its payload text does. [`PyValue`] is the JSON
//! value model of a Python object as `json.dumps` sees it (dict key order as the dict
//! iterates, `int` distinct from `float`, non-string keys); [`dumps`] writes it exactly
//! like CPython's encoder with its defaults (`ensure_ascii=True`: `\uXXXX` escapes with
//! surrogate pairs; `float.__repr__` numbers; keys `True`/`False`/`None`/numbers
//! converted to text), except that NaN and ±Infinity are refused ([`DumpsError`]): they
//! would make the token text something that is not JSON. A binding converts its host
//! objects into a [`PyValue`]; every byte of the text is decided here.

use std::fmt::Write as _;

/// A Python value as `json.dumps` encodes it.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// `None` → `null`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int` that fits in 64 bits.
    Int(i64),
    /// An `int` beyond 64 bits, as the decimal text of `int.__repr__` (optional `-`, digits).
    BigInt(String),
    /// A `float`.
    Float(f64),
    /// A `str` (a Python string with lone surrogates is not a Rust string: the host keeps
    /// such values to itself).
    Str(String),
    /// A `list` or `tuple`.
    List(Vec<PyValue>),
    /// A `dict`, its items in iteration order.
    Dict(Vec<(PyKey, PyValue)>),
}

/// A `dict` key `json.dumps` accepts (anything else is its `TypeError`, the host's to raise).
#[derive(Debug, Clone, PartialEq)]
pub enum PyKey {
    /// A `str`.
    Str(String),
    /// `True` / `False` → `"true"` / `"false"`.
    Bool(bool),
    /// `None` → `"null"`.
    None,
    /// An `int` → its decimal text.
    Int(i64),
    /// An `int` beyond 64 bits, as in [`PyValue::BigInt`].
    BigInt(String),
    /// A `float` → `float.__repr__`.
    Float(f64),
}

/// Why [`dumps`] refused a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DumpsError {
    /// NaN or ±Infinity (as a value or a key): `json.dumps` would write `NaN`/`Infinity`.
    NonFinite(f64),
}

impl std::fmt::Display for DumpsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // CPython's `allow_nan=False` text (3.13 adds the value, as `float.__repr__`).
            Self::NonFinite(v) => write!(
                f,
                "Out of range float values are not JSON compliant: {}",
                float_repr(*v)
            ),
        }
    }
}

impl std::error::Error for DumpsError {}

impl DumpsError {
    /// `INVALID_ARGUMENT`: the host gave a value the core refuses to sign.
    pub fn code(&self) -> &'static str {
        crate::error::INVALID_ARGUMENT
    }

    /// [`crate::error::INVALID_ARGUMENT_STATUS`].
    pub fn status(&self) -> u16 {
        crate::error::INVALID_ARGUMENT_STATUS
    }
}

impl From<DumpsError> for crate::error::InvalidArgument {
    fn from(e: DumpsError) -> Self {
        Self(e.to_string())
    }
}

/// `json.dumps(value, separators=(",", ":"))` (ASCII only, keys in the given order).
pub fn dumps(value: &PyValue) -> Result<String, DumpsError> {
    let mut out = String::with_capacity(128);
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &PyValue) -> Result<(), DumpsError> {
    match value {
        PyValue::None => out.push_str("null"),
        PyValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        PyValue::Int(i) => {
            let _ = write!(out, "{i}");
        }
        PyValue::BigInt(digits) => out.push_str(digits),
        PyValue::Float(v) => write_finite_float(out, *v)?,
        PyValue::Str(s) => write_str(out, s),
        PyValue::List(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, v)?;
            }
            out.push(']');
        }
        PyValue::Dict(items) => {
            out.push('{');
            for (i, (k, v)) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_key(out, k)?;
                out.push(':');
                write_value(out, v)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_key(out: &mut String, key: &PyKey) -> Result<(), DumpsError> {
    match key {
        PyKey::Str(s) => write_str(out, s),
        PyKey::Bool(b) => out.push_str(if *b { "\"true\"" } else { "\"false\"" }),
        PyKey::None => out.push_str("\"null\""),
        PyKey::Int(i) => {
            let _ = write!(out, "\"{i}\"");
        }
        PyKey::BigInt(digits) => {
            out.push('"');
            out.push_str(digits);
            out.push('"');
        }
        PyKey::Float(v) => {
            out.push('"');
            write_finite_float(out, *v)?;
            out.push('"');
        }
    }
    Ok(())
}

fn write_finite_float(out: &mut String, v: f64) -> Result<(), DumpsError> {
    if !v.is_finite() {
        return Err(DumpsError::NonFinite(v));
    }
    write_float_repr(out, v);
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string as `json.dumps` writes it with `ensure_ascii=True`: `"` and `\` escaped,
/// `\n \r \t \b \f` short forms, every other character outside `' '..='~'` as `\uXXXX`
/// (UTF-16 units, so a character beyond the BMP is a surrogate pair).
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
                    out.push_str("\\u");
                    for shift in [12, 8, 4, 0] {
                        out.push(HEX[usize::from((*u >> shift) & 0xf)] as char);
                    }
                }
            }
        }
    }
    out.push('"');
}

/// `float.__repr__(v)`: the shortest digits that round-trip, positional for decimal
/// exponents -4..16 (`0.0001`, `1e+16`, `1.5e-05`), `nan`, `inf`, `-inf`.
pub fn float_repr(v: f64) -> String {
    let mut out = String::new();
    write_float_repr(&mut out, v);
    out
}

/// [`float_repr`] appended to `out`.
pub fn write_float_repr(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("nan");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v < 0.0 { "-inf" } else { "inf" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits too: "-1.2345e-7", "1e16", "0e0".
    let sci = format!("{v:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
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
        let _ = write!(out, "{:02}", exp.unsigned_abs());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_python() {
        for (v, r) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(float_repr(v), r);
        }
    }

    #[test]
    fn keys_and_refusals() {
        let v = PyValue::Dict(vec![
            (PyKey::Bool(true), PyValue::Int(1)),
            (
                PyKey::None,
                PyValue::BigInt("123456789012345678901234567890".into()),
            ),
            (PyKey::Float(1.5), PyValue::Str("é😀\u{7f}".into())),
        ]);
        assert_eq!(
            dumps(&v).unwrap(),
            r#"{"true":1,"null":123456789012345678901234567890,"1.5":"\u00e9\ud83d\ude00\u007f"}"#
        );
        let e = dumps(&PyValue::List(vec![PyValue::Float(f64::NAN)])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Out of range float values are not JSON compliant: nan"
        );
        assert_eq!((e.code(), e.status()), ("INVALID_ARGUMENT", 500));
        let arg = crate::error::InvalidArgument::from(e);
        assert_eq!(
            arg.message(),
            "Out of range float values are not JSON compliant: nan"
        );
        assert!(
            dumps(&PyValue::Dict(vec![(
                PyKey::Float(f64::INFINITY),
                PyValue::None
            )]))
            .is_err()
        );
    }
}
