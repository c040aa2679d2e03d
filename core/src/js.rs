//! JavaScript value semantics that the wire formats depend on.
//!
//! The original libraries are written in TypeScript, so a few ECMAScript algorithms are
//! part of their wire format: `Number::toString` (how a timestamp is rendered in the
//! signing payload and the nonce key), `StringToNumber` (how the `x-timestamp` header is
//! parsed), and how a UTF-16 string with lone surrogates becomes UTF-8 bytes.

/// ECMAScript `Number::toString(x)` (radix 10): shortest round-trip digits, `1e+21`
/// style exponents, `NaN`, `Infinity`, `-Infinity`, and `-0` rendered as `0`.
pub fn number_to_string(value: f64) -> String {
    let mut buf = ryu_js::Buffer::new();
    buf.format(value).to_owned()
}

/// ECMAScript white space and line terminators (what `String.prototype.trim` and
/// `Number(str)` strip).
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'
            | '\u{000B}'
            | '\u{000C}'
            | '\u{0020}'
            | '\u{00A0}'
            | '\u{FEFF}'
            | '\u{000A}'
            | '\u{000D}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// A numeric option as a host passes it: a number, or a text. The originals do arithmetic
/// on the option (`Math.abs(now - ts) > maxSkewMs`), so JavaScript coerces a text with
/// `Number()`: `"5000"` is 5000, `"soon"` is `NaN` (which the option's own check refuses).
/// Every binding reads such an option through [`NumberOption::value`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberOption<'a> {
    /// A number, used as is.
    Number(f64),
    /// A text, read with `Number(text)`.
    Text(&'a str),
}

impl NumberOption<'_> {
    /// The number JavaScript arithmetic would use ([`string_to_number`] for a text).
    pub fn value(self) -> f64 {
        match self {
            Self::Number(n) => n,
            Self::Text(s) => string_to_number(s),
        }
    }
}

/// ECMAScript `StringToNumber` (what `Number(str)` does): trims JS white space; an empty
/// result is `0`; accepts `Infinity` with an optional sign, `0x`/`0o`/`0b` integer
/// literals (no sign), and decimal literals with optional sign, fraction and exponent.
/// Everything else (including `1_000`, `12abc`, `inf`, `nan`) is `NaN`.
pub fn string_to_number(input: &str) -> f64 {
    let s = input.trim_matches(is_js_whitespace);
    if s.is_empty() {
        return 0.0;
    }
    let bytes = s.as_bytes();
    if bytes.len() > 2 && bytes[0] == b'0' {
        let radix = match bytes[1] {
            b'x' | b'X' => Some(16),
            b'o' | b'O' => Some(8),
            b'b' | b'B' => Some(2),
            _ => None,
        };
        if let Some(radix) = radix {
            return parse_radix_integer(&s[2..], radix);
        }
    }
    let (sign, rest) = match bytes[0] {
        b'+' => (1.0, &s[1..]),
        b'-' => (-1.0, &s[1..]),
        _ => (1.0, s),
    };
    if rest == "Infinity" {
        return sign * f64::INFINITY;
    }
    if !is_decimal_literal(rest) {
        return f64::NAN;
    }
    // The grammar is validated above; Rust's parser is correctly rounded, like JS.
    match rest.parse::<f64>() {
        Ok(v) => sign * v,
        Err(_) => f64::NAN,
    }
}

/// StrUnsignedDecimalLiteral without `Infinity`: `digits [. digits] [e[+-]digits]` or
/// `. digits [exponent]`; at least one digit in the mantissa.
fn is_decimal_literal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - start;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

/// Digits of a `0x`/`0o`/`0b` literal, rounded to the nearest double like JS does.
fn parse_radix_integer(digits: &str, radix: u32) -> f64 {
    if digits.is_empty() {
        return f64::NAN;
    }
    // Accumulate exactly while it fits in u128, then fall back to float accumulation
    // (only reachable for literals longer than 128 bits).
    let mut exact: u128 = 0;
    let mut overflow: Option<f64> = None;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else {
            return f64::NAN;
        };
        match overflow {
            Some(ref mut f) => *f = *f * f64::from(radix) + f64::from(d),
            None => match exact
                .checked_mul(u128::from(radix))
                .and_then(|v| v.checked_add(u128::from(d)))
            {
                Some(v) => exact = v,
                None => overflow = Some(exact as f64 * f64::from(radix) + f64::from(d)),
            },
        }
    }
    // `u128 as f64` rounds to nearest, ties to even: the same as JS.
    overflow.unwrap_or(exact as f64)
}

/// Convert UTF-16 code units to a Rust string the way `Buffer.from(str, "utf8")` does:
/// each lone surrogate becomes U+FFFD.
pub fn utf16_to_string_lossy(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// True when `key` is a canonical array index (`"0"`, `"10"`, …, `"4294967294"`), the
/// property keys that JavaScript always enumerates first, in ascending numeric order.
pub fn array_index(key: &str) -> Option<u32> {
    let b = key.as_bytes();
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 1 && b[0] == b'0' {
        return None;
    }
    let v: u64 = key.parse().ok()?;
    if v < u64::from(u32::MAX) {
        Some(v as u32)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_option_given_as_text_is_coerced_like_javascript() {
        assert_eq!(NumberOption::Number(5000.0).value(), 5000.0);
        assert_eq!(NumberOption::Text("5000").value(), 5000.0);
        assert_eq!(NumberOption::Text(" 5e3 ").value(), 5000.0);
        assert!(NumberOption::Text("soon").value().is_nan());
    }

    #[test]
    fn number_to_string_matches_js() {
        assert_eq!(number_to_string(1_700_000_000_000.0), "1700000000000");
        assert_eq!(number_to_string(1e21), "1e+21");
        assert_eq!(number_to_string(1.5e21), "1.5e+21");
        assert_eq!(number_to_string(1e-7), "1e-7");
        assert_eq!(number_to_string(12.5), "12.5");
        assert_eq!(number_to_string(-0.0), "0");
        assert_eq!(number_to_string(f64::NAN), "NaN");
        assert_eq!(number_to_string(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(number_to_string(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn string_to_number_matches_js() {
        assert_eq!(string_to_number("0x18BCFE56800"), 1_700_000_000_000.0);
        assert_eq!(string_to_number("1.7e12"), 1_700_000_000_000.0);
        assert_eq!(string_to_number(" 1700000000000 "), 1_700_000_000_000.0);
        assert_eq!(string_to_number("\u{3000}\u{FEFF}12\n"), 12.0);
        assert_eq!(string_to_number("   "), 0.0);
        assert_eq!(string_to_number(""), 0.0);
        assert_eq!(string_to_number("-Infinity"), f64::NEG_INFINITY);
        assert_eq!(string_to_number("+.5"), 0.5);
        assert_eq!(string_to_number("5."), 5.0);
        assert_eq!(string_to_number("0b101"), 5.0);
        assert_eq!(string_to_number("0o17"), 15.0);
        for bad in [
            "1_000", "12abc", "inf", "nan", "NaN", "infinity", "-0x10", "0x", ".", "e5", "1e",
            "--1", "1 2",
        ] {
            assert!(string_to_number(bad).is_nan(), "{bad:?} should be NaN");
        }
        assert_eq!(string_to_number("-0").to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn array_index_rules() {
        assert_eq!(array_index("0"), Some(0));
        assert_eq!(array_index("10"), Some(10));
        assert_eq!(array_index("4294967294"), Some(4_294_967_294));
        assert_eq!(array_index("4294967295"), None);
        assert_eq!(array_index("01"), None);
        assert_eq!(array_index("-1"), None);
        assert_eq!(array_index("1.5"), None);
        assert_eq!(array_index(""), None);
    }

    #[test]
    fn lone_surrogates_become_replacement_chars() {
        assert_eq!(utf16_to_string_lossy(&[0x61, 0xD800, 0x62]), "a\u{FFFD}b");
        assert_eq!(utf16_to_string_lossy(&[0xD83D, 0xDD10]), "🔐");
    }
}
