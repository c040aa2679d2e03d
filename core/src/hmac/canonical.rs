//! Canonical JSON of the message track (`toMessageString`, spec §2.3 and §5.5).
//!
//! The original runs `JSON.stringify(sortObjectKeysDeep(message))`:
//! - plain objects have their keys sorted with `localeCompare` (ICU collation; we pin
//!   the `en-US` = CLDR root order, see `docs/compat.md`), stable for keys that collate
//!   equal; the rebuilt object then lists integer-like keys first, ascending;
//!   a `__proto__` key vanishes;
//! - non-plain objects (class instances, Map, Set) keep their insertion order and their
//!   descendants are not sorted;
//! - `Date` becomes its ISO string, `undefined`/functions/symbols are dropped from
//!   objects and become `null` in arrays, NaN and ±Infinity become `null`;
//! - a top-level string is used raw (not quoted), `null`/`undefined` become `""`,
//!   a top-level number/boolean/bigint its `String(...)`.
//!
//! [`JsValue`] is the language-neutral model bindings convert into. Strings may carry
//! lone surrogates ([`JsString::Utf16`]) so that JSON escapes them as `\udXXX` exactly
//! like V8.

use std::cmp::Ordering;
use std::sync::OnceLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};

use crate::js::{array_index, number_to_string, utf16_to_string_lossy};

use super::HmacError;

/// A JavaScript string: UTF-8 when well formed, UTF-16 code units when it holds lone
/// surrogates.
#[derive(Debug, Clone, PartialEq)]
pub enum JsString {
    /// Well-formed text.
    Utf8(String),
    /// UTF-16 code units holding at least one lone surrogate.
    Utf16(Vec<u16>),
}

impl JsString {
    /// Build from UTF-16 code units, keeping UTF-8 when they are well formed.
    pub fn from_utf16(units: Vec<u16>) -> Self {
        match String::from_utf16(&units) {
            Ok(s) => Self::Utf8(s),
            Err(_) => Self::Utf16(units),
        }
    }

    /// The UTF-8 text, with U+FFFD for lone surrogates (what hashing sees).
    pub fn to_string_lossy(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Self::Utf8(s) => std::borrow::Cow::Borrowed(s),
            Self::Utf16(u) => std::borrow::Cow::Owned(utf16_to_string_lossy(u)),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Self::Utf8(s) => Some(s),
            Self::Utf16(_) => None,
        }
    }

    fn utf16(&self) -> std::borrow::Cow<'_, [u16]> {
        match self {
            Self::Utf8(s) => std::borrow::Cow::Owned(s.encode_utf16().collect()),
            Self::Utf16(u) => std::borrow::Cow::Borrowed(u),
        }
    }
}

impl From<&str> for JsString {
    fn from(s: &str) -> Self {
        Self::Utf8(s.to_owned())
    }
}

impl From<String> for JsString {
    fn from(s: String) -> Self {
        Self::Utf8(s)
    }
}

/// A JavaScript value, as far as `JSON.stringify` and the message track can see it.
#[derive(Debug, Clone, PartialEq)]
pub enum JsValue {
    /// `undefined`, a function or a symbol inside a structure: dropped from objects,
    /// `null` in arrays.
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (`NaN` and `±Infinity` serialise as `null`).
    Number(f64),
    /// A BigInt, as decimal digits. Allowed at the top level only (`String(10n)`);
    /// nested it is a `TypeError` like in `JSON.stringify`.
    BigInt(String),
    /// A string.
    String(JsString),
    /// An array.
    Array(Vec<JsValue>),
    /// A plain object (prototype `Object.prototype` or `null`): keys get sorted.
    Object(Vec<(JsString, JsValue)>),
    /// A non-plain object (class instance, Map, Set…) already reduced to its JSON-visible
    /// own properties in enumeration order: emitted as is, descendants not sorted.
    Unsorted(Vec<(JsString, JsValue)>),
    /// Text that is emitted verbatim as JSON (for example what a binding's own
    /// `JSON.stringify` produced for a value the model cannot express).
    RawJson(String),
}

fn collator() -> &'static CollatorBorrowed<'static> {
    static C: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();
    C.get_or_init(|| {
        let prefs: icu_collator::CollatorPreferences = icu_locale_core::locale!("en-US").into();
        Collator::try_new(prefs, CollatorOptions::default()).expect("baked en-US collation data")
    })
}

/// `a.localeCompare(b)` under `en-US` (tertiary strength, no numeric ordering).
pub fn locale_compare(a: &JsString, b: &JsString) -> Ordering {
    let c = collator();
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => c.compare(x, y),
        _ => {
            let (a, b) = (a.utf16(), b.utf16());
            match remap_lone_surrogates(&a, &b) {
                Some((x, y)) => c.compare(&x, &y),
                None => c.compare_utf16(&a, &b),
            }
        }
    }
}

/// The code points that, in the root collation, sit in one run of unassigned implicit
/// weights (monotonic in the code point, common secondary and tertiary) around the
/// surrogate block: U+D7FC..U+D7FF (unassigned), then the surrogates, then the private
/// use area U+E000..U+F8FF. U+D7FB and U+F900 are assigned and collate elsewhere.
const RUN_LOW: std::ops::RangeInclusive<u32> = 0xD7FC..=0xD7FF;
const RUN_HIGH: std::ops::RangeInclusive<u32> = 0xE000..=0xF8FF;
const RUN_SLOTS: usize = 4 + 0x1900;

fn run_slot(rank: usize) -> char {
    let cp = if rank < 4 {
        0xD7FC + rank as u32
    } else {
        0xE000 + (rank - 4) as u32
    };
    char::from_u32(cp).expect("slot in the run is a scalar value")
}

/// ICU4C (what V8's `localeCompare` runs) collates a lone surrogate as the unassigned code
/// point it is: an implicit primary between U+D7FF and U+E000. ICU4X's `compare_utf16`
/// compares it as U+FFFD, which sorts after every unassigned code point, so keys with lone
/// surrogates came out in another order than Node's. Rewrite both strings so that every
/// code point of that run (lone surrogates included) becomes a real code point of the run
/// keeping its rank among the run's values present in the pair: the comparison then sees
/// the same weights in the same order as ICU4C. `None` (fall back to U+FFFD) only when the
/// pair holds more distinct values of the run than it has real code points.
fn remap_lone_surrogates(a: &[u16], b: &[u16]) -> Option<(String, String)> {
    fn values(units: &[u16]) -> impl Iterator<Item = Result<char, u32>> + '_ {
        char::decode_utf16(units.iter().copied())
            .map(|r| r.map_err(|e| u32::from(e.unpaired_surrogate())))
    }
    let in_run = |cp: u32| {
        RUN_LOW.contains(&cp) || RUN_HIGH.contains(&cp) || (0xD800..=0xDFFF).contains(&cp)
    };
    let mut present: Vec<u32> = values(a)
        .chain(values(b))
        .map(|r| r.map_or_else(|s| s, u32::from))
        .filter(|cp| in_run(*cp))
        .collect();
    present.sort_unstable();
    present.dedup();
    if present.len() > RUN_SLOTS {
        return None;
    }
    let map = |units: &[u16]| -> String {
        values(units)
            .map(|r| {
                let cp = r.map_or_else(|s| s, u32::from);
                if in_run(cp) {
                    run_slot(present.binary_search(&cp).expect("collected above"))
                } else {
                    r.expect("outside the run: a scalar value")
                }
            })
            .collect()
    };
    Some((map(a), map(b)))
}

/// `toMessageString(message)`: the exact text the message hash is computed over.
pub fn to_message_string(value: &JsValue) -> Result<String, HmacError> {
    Ok(match value {
        JsValue::Undefined | JsValue::Null => String::new(),
        JsValue::String(s) => s.to_string_lossy().into_owned(),
        JsValue::Bool(b) => b.to_string(),
        JsValue::Number(n) => number_to_string(*n),
        JsValue::BigInt(d) => d.clone(),
        _ => {
            let mut out = String::new();
            write_json(value, true, &mut out)?;
            out
        }
    })
}

/// `JSON.stringify(value)` of a model value, sorting plain objects when `sort` is true.
/// Returns `None` for values JSON.stringify maps to `undefined` at the top level.
pub fn json_stringify(value: &JsValue, sort: bool) -> Result<Option<String>, HmacError> {
    if matches!(value, JsValue::Undefined) {
        return Ok(None);
    }
    let mut out = String::new();
    write_json(value, sort, &mut out)?;
    Ok(Some(out))
}

fn write_json(value: &JsValue, sort: bool, out: &mut String) -> Result<(), HmacError> {
    match value {
        JsValue::Undefined | JsValue::Null => out.push_str("null"),
        JsValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        JsValue::Number(n) => {
            if n.is_finite() {
                out.push_str(&number_to_string(*n));
            } else {
                out.push_str("null");
            }
        }
        JsValue::BigInt(_) => {
            return Err(HmacError::InvalidInput(
                "Do not know how to serialize a BigInt".into(),
            ));
        }
        JsValue::String(s) => write_json_string(s, out),
        JsValue::RawJson(raw) => out.push_str(raw),
        JsValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, sort, out)?;
            }
            out.push(']');
        }
        JsValue::Object(entries) if sort => write_object(&sorted_entries(entries), true, out)?,
        JsValue::Object(entries) => {
            let refs: Vec<&(JsString, JsValue)> = entries.iter().collect();
            write_object(&enumeration_order(refs), false, out)?
        }
        JsValue::Unsorted(entries) => {
            let refs: Vec<&(JsString, JsValue)> = entries.iter().collect();
            write_object(&enumeration_order(refs), false, out)?
        }
    }
    Ok(())
}

fn write_object(
    entries: &[&(JsString, JsValue)],
    sort: bool,
    out: &mut String,
) -> Result<(), HmacError> {
    out.push('{');
    let mut first = true;
    for (key, val) in entries.iter().map(|e| (&e.0, &e.1)) {
        if matches!(val, JsValue::Undefined) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        write_json_string(key, out);
        out.push(':');
        write_json(val, sort, out)?;
    }
    out.push('}');
    Ok(())
}

/// Keys in JavaScript's own-property order: array indices ascending, then the rest in
/// the given order. Later duplicates overwrite earlier ones in place (as assignment
/// does).
fn enumeration_order(entries: Vec<&(JsString, JsValue)>) -> Vec<&(JsString, JsValue)> {
    let mut indexed: Vec<(u32, &(JsString, JsValue))> = Vec::new();
    let mut named: Vec<&(JsString, JsValue)> = Vec::new();
    for e in entries {
        let idx = e.0.as_str().and_then(array_index);
        match idx {
            Some(i) => {
                if let Some(slot) = indexed.iter_mut().find(|(j, _)| *j == i) {
                    slot.1 = e;
                } else {
                    indexed.push((i, e));
                }
            }
            None => {
                if let Some(slot) = named.iter_mut().find(|x| x.0 == e.0) {
                    *slot = e;
                } else {
                    named.push(e);
                }
            }
        }
    }
    indexed.sort_by_key(|(i, _)| *i);
    indexed.into_iter().map(|(_, e)| e).chain(named).collect()
}

/// `Object.entries(value).sort(localeCompare)` rebuilt by assignment: stable collation
/// sort, `__proto__` dropped, then JavaScript's own-property order.
fn sorted_entries(entries: &[(JsString, JsValue)]) -> Vec<&(JsString, JsValue)> {
    let mut refs: Vec<&(JsString, JsValue)> = entries
        .iter()
        .filter(|(k, _)| k.as_str() != Some("__proto__"))
        .collect();
    // `sort_by` is stable, like V8's TimSort.
    refs.sort_by(|a, b| locale_compare(&a.0, &b.0));
    enumeration_order(refs)
}

/// `JSON.stringify` string quoting: `"` and `\` escaped, `\b \f \n \r \t` short forms,
/// other controls as lowercase `\u00xx`, lone surrogates as `\udxxx`, everything else
/// (including U+2028/U+2029 and non-ASCII) raw.
pub fn write_json_string(s: &JsString, out: &mut String) {
    out.push('"');
    match s {
        JsString::Utf8(s) => {
            let mut start = 0;
            for (i, b) in s.bytes().enumerate() {
                if b >= 0x20 && b != b'"' && b != b'\\' {
                    continue;
                }
                out.push_str(&s[start..i]);
                push_escape(b as u16, out);
                start = i + 1;
            }
            out.push_str(&s[start..]);
        }
        JsString::Utf16(units) => {
            for r in char::decode_utf16(units.iter().copied()) {
                match r {
                    Ok(c) if (c as u32) < 0x20 || c == '"' || c == '\\' => {
                        push_escape(c as u16, out)
                    }
                    Ok(c) => out.push(c),
                    Err(e) => {
                        out.push_str(&format!("\\u{:04x}", e.unpaired_surrogate()));
                    }
                }
            }
        }
    }
    out.push('"');
}

fn push_escape(c: u16, out: &mut String) {
    match c {
        0x22 => out.push_str("\\\""),
        0x5c => out.push_str("\\\\"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        0x0a => out.push_str("\\n"),
        0x0d => out.push_str("\\r"),
        0x09 => out.push_str("\\t"),
        _ => out.push_str(&format!("\\u{c:04x}")),
    }
}

/// Parse JSON text (as produced by `JSON.stringify`) into the model, keeping key order
/// and lone-surrogate escapes. Objects become [`JsValue::Object`] (sortable); objects of
/// the form `{"<marker>": X}` become `X` with every object inside it unsorted, which is
/// how a binding marks non-plain objects.
pub fn parse_json(text: &str, unsorted_marker: Option<&str>) -> Result<JsValue, HmacError> {
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
        marker: unsorted_marker,
        depth: 0,
    };
    p.ws();
    let v = p.value(false)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(p.err());
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    marker: Option<&'a str>,
    depth: usize,
}

const MAX_DEPTH: usize = 512;

impl Parser<'_> {
    fn err(&self) -> HmacError {
        HmacError::InvalidInput(format!("invalid JSON at byte {}", self.i))
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), HmacError> {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err())
        }
    }

    fn lit(&mut self, word: &str) -> Result<(), HmacError> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err())
        }
    }

    fn value(&mut self, unsorted: bool) -> Result<JsValue, HmacError> {
        match self.b.get(self.i) {
            Some(b'{') => self.object(unsorted),
            Some(b'[') => {
                self.enter()?;
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(self.value(unsorted)?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.err()),
                        }
                    }
                }
                self.depth -= 1;
                Ok(JsValue::Array(items))
            }
            Some(b'"') => Ok(JsValue::String(self.string()?)),
            Some(b't') => self.lit("true").map(|_| JsValue::Bool(true)),
            Some(b'f') => self.lit("false").map(|_| JsValue::Bool(false)),
            Some(b'n') => self.lit("null").map(|_| JsValue::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err()),
        }
    }

    fn enter(&mut self) -> Result<(), HmacError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(HmacError::InvalidInput("JSON nesting too deep".into()));
        }
        Ok(())
    }

    fn object(&mut self, unsorted: bool) -> Result<JsValue, HmacError> {
        self.enter()?;
        self.i += 1;
        let mut entries: Vec<(JsString, JsValue)> = Vec::new();
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                let key = self.string()?;
                self.ws();
                self.eat(b':')?;
                self.ws();
                let is_marker = self.marker.is_some() && key.as_str() == self.marker;
                let val = self.value(unsorted || is_marker)?;
                entries.push((key, val));
                self.ws();
                match self.b.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b'}') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.err()),
                }
            }
        }
        self.depth -= 1;
        if let (Some(m), [(k, _)]) = (self.marker, entries.as_slice())
            && k.as_str() == Some(m)
        {
            let (_, inner) = entries.pop().expect("one entry");
            return Ok(match inner {
                JsValue::Object(e) => JsValue::Unsorted(e),
                other => other,
            });
        }
        Ok(if unsorted {
            JsValue::Unsorted(entries)
        } else {
            JsValue::Object(entries)
        })
    }

    fn number(&mut self) -> Result<JsValue, HmacError> {
        let start = self.i;
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.i < p.b.len() && p.b[p.i].is_ascii_digit() {
                p.i += 1;
            }
            p.i - s
        };
        let int_start = self.i;
        if digits(self) == 0 || (self.b[int_start] == b'0' && self.i - int_start > 1) {
            return Err(self.err());
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err(self.err());
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.err());
            }
        }
        let text = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| self.err())?;
        text.parse::<f64>()
            .map(JsValue::Number)
            .map_err(|_| self.err())
    }

    fn hex4(&mut self) -> Result<u16, HmacError> {
        let s = self.b.get(self.i..self.i + 4).ok_or_else(|| self.err())?;
        let s = std::str::from_utf8(s).map_err(|_| self.err())?;
        let v = u16::from_str_radix(s, 16).map_err(|_| self.err())?;
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<JsString, HmacError> {
        self.eat(b'"')?;
        let mut units: Option<Vec<u16>> = None; // switched to when a surrogate escape appears
        let mut s = String::new();
        loop {
            let start = self.i;
            while self.i < self.b.len() && self.b[self.i] != b'"' && self.b[self.i] != b'\\' {
                if self.b[self.i] < 0x20 {
                    return Err(self.err());
                }
                self.i += 1;
            }
            let chunk = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| self.err())?;
            match units.as_mut() {
                Some(u) => u.extend(chunk.encode_utf16()),
                None => s.push_str(chunk),
            }
            match self.b.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = *self.b.get(self.i).ok_or_else(|| self.err())?;
                    self.i += 1;
                    let unit: u16 = match c {
                        b'"' => 0x22,
                        b'\\' => 0x5c,
                        b'/' => 0x2f,
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => 0x0a,
                        b'r' => 0x0d,
                        b't' => 0x09,
                        b'u' => self.hex4()?,
                        _ => return Err(self.err()),
                    };
                    if (0xD800..0xE000).contains(&unit) && units.is_none() {
                        units = Some(s.encode_utf16().collect());
                    }
                    match units.as_mut() {
                        Some(u) => u.push(unit),
                        None => s.push(char::from_u32(u32::from(unit)).expect("BMP scalar")),
                    }
                }
                _ => return Err(self.err()),
            }
        }
        Ok(match units {
            Some(u) => JsString::from_utf16(u),
            None => JsString::Utf8(s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(entries: &[(&str, JsValue)]) -> JsValue {
        JsValue::Object(
            entries
                .iter()
                .map(|(k, v)| (JsString::from(*k), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn integer_keys_first_then_collation() {
        let v = obj(&[
            ("B", JsValue::Number(1.0)),
            ("a", JsValue::Number(2.0)),
            ("_c", JsValue::Number(3.0)),
            ("10", JsValue::Number(4.0)),
            ("2", JsValue::Number(5.0)),
        ]);
        assert_eq!(
            to_message_string(&v).unwrap(),
            r#"{"2":5,"10":4,"_c":3,"a":2,"B":1}"#
        );
    }

    #[test]
    fn en_us_collation_facts() {
        let mut keys = vec![
            "z", "ä", "ö", "a", "å", "A", "b", "a10", "a2", "-x", "_x", "1x",
        ];
        // Node 20 (ICU 78, en-US) prints the same order.
        keys.sort_by(|a, b| locale_compare(&JsString::from(*a), &JsString::from(*b)));
        assert_eq!(
            keys,
            vec![
                "_x", "-x", "1x", "a", "A", "å", "ä", "a10", "a2", "b", "ö", "z"
            ]
        );
    }

    #[test]
    fn parse_and_canonicalize_roundtrip() {
        let v = parse_json(r#"{"z":3,"a":1,"nested":{"y":true,"x":"ok"}}"#, None).unwrap();
        assert_eq!(
            to_message_string(&v).unwrap(),
            r#"{"a":1,"nested":{"x":"ok","y":true},"z":3}"#
        );
        let v = parse_json(r#"{"s":"\ud800x\u2028","n":1.5e+21}"#, None).unwrap();
        assert_eq!(
            to_message_string(&v).unwrap(),
            "{\"n\":1.5e+21,\"s\":\"\\ud800x\u{2028}\"}"
        );
    }

    #[test]
    fn marker_keeps_insertion_order() {
        let v = parse_json(r#"{"b":{"m":{"z":1,"a":{"y":1,"x":2}}},"a":0}"#, Some("m")).unwrap();
        assert_eq!(
            to_message_string(&v).unwrap(),
            r#"{"a":0,"b":{"z":1,"a":{"y":1,"x":2}}}"#
        );
    }

    #[test]
    fn proto_key_vanishes_and_undefined_dropped() {
        let v = obj(&[
            ("__proto__", JsValue::Null),
            ("u", JsValue::Undefined),
            (
                "a",
                JsValue::Array(vec![JsValue::Undefined, JsValue::Number(f64::NAN)]),
            ),
        ]);
        assert_eq!(to_message_string(&v).unwrap(), r#"{"a":[null,null]}"#);
    }

    #[test]
    fn control_characters_escape_like_v8() {
        let v = JsValue::Array(vec![JsValue::String("\u{1}\u{8}\t\"\\/\u{7f}".into())]);
        assert_eq!(
            to_message_string(&v).unwrap(),
            r#"["\u0001\b\t\"\\/"#.to_owned() + "\u{7f}\"]"
        );
    }

    #[test]
    fn nested_bigint_is_an_error_top_level_is_text() {
        assert_eq!(
            to_message_string(&JsValue::BigInt("10".into())).unwrap(),
            "10"
        );
        assert!(to_message_string(&JsValue::Array(vec![JsValue::BigInt("1".into())])).is_err());
    }
}
