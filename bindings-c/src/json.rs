//! JSON text out of the C functions: compact, with the keys of every object in byte
//! order, so the same value always gives the same bytes whatever `serde_json` features
//! the build happens to enable (`preserve_order` changes map iteration order).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// A [`Value`] serialised with sorted object keys at every level.
struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, &Sorted(v))?;
                }
                m.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Sorted(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// Compact JSON with sorted keys (see the module docs).
pub(crate) fn canonical(value: &Value) -> String {
    // Serialising a `Value` cannot fail: its keys are strings and its numbers finite.
    serde_json::to_string(&Sorted(value)).unwrap_or_else(|_| "null".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_bytewise_at_every_level() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"a":{"z":[{"y":1,"x":2}],"é":0,"e":0},"A":null}"#)
                .unwrap();
        assert_eq!(
            canonical(&v),
            r#"{"A":null,"a":{"e":0,"z":[{"x":2,"y":1}],"é":0},"b":1}"#
        );
    }

    #[test]
    fn strings_and_numbers_keep_their_json_form() {
        let v = json!({"s": "q\"\\\n\u{1}\u{2028}ü", "n": [1, -2, 1.5, 1e300, 18446744073709551615u64]});
        assert_eq!(
            canonical(&v),
            "{\"n\":[1,-2,1.5,1e+300,18446744073709551615],\"s\":\"q\\\"\\\\\\n\\u0001\u{2028}ü\"}"
        );
        // A last duplicate key wins when parsing, and only it is written out.
        let dup: Value = serde_json::from_str(r#"{"sub":"a","sub":"b"}"#).unwrap();
        assert_eq!(canonical(&dup), r#"{"sub":"b"}"#);
    }
}
