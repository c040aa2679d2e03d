//! `normalizePath(pathOrUrl)` (spec §2.3, §5.2): WHATWG URL parsing of the input against
//! `http://localhost`, keeping `pathname + search`.
//!
//! The `url` crate implements the WHATWG URL Standard, so dot segments, backslashes,
//! tab/newline stripping, percent-encoding sets, protocol-relative `//host/x` and
//! `scheme:` inputs all behave as in Node. A fast path returns already-normal paths
//! without parsing; a test checks it against the parser.

use std::borrow::Cow;
use std::sync::OnceLock;

use url::Url;

use super::HmacError;

fn base() -> &'static Url {
    static BASE: OnceLock<Url> = OnceLock::new();
    BASE.get_or_init(|| Url::parse("http://localhost").expect("valid base URL"))
}

/// Bytes that the WHATWG parser leaves untouched in the path of a special URL, when no
/// segment is `.`/`..` and there is no `%` (which could spell `%2e`).
fn path_byte_is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_~!$&'()*+,;=:@/.".contains(&b)
}

/// Bytes left untouched in the query of a special URL (the special-query set encodes
/// space, `"`, `#`, `<`, `>` and `'`, and controls and non-ASCII).
fn query_byte_is_plain(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && !b"\"#<>'".contains(&b)
}

fn fast_path(input: &str) -> Option<Cow<'_, str>> {
    let bytes = input.as_bytes();
    if bytes.first() != Some(&b'/') || matches!(bytes.get(1), Some(b'/') | Some(b'\\')) {
        return None;
    }
    let (path, query) = match input.find('?') {
        Some(i) => (&input[..i], Some(&input[i + 1..])),
        None => (input, None),
    };
    if !path.bytes().all(path_byte_is_plain) {
        return None;
    }
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return None;
    }
    match query {
        None => Some(Cow::Borrowed(input)),
        Some(q) if q.bytes().all(query_byte_is_plain) => {
            if q.is_empty() {
                // An empty search is dropped: `/p?` becomes `/p`.
                Some(Cow::Borrowed(path))
            } else {
                Some(Cow::Borrowed(input))
            }
        }
        Some(_) => None,
    }
}

/// Normalise a path or URL exactly like the original's `normalizePath`. Inputs the URL
/// parser rejects (`//[`, `//%`, `//a:99999/x`) give [`HmacError::InvalidInput`] with the
/// message `Invalid URL`, where the original throws `TypeError ERR_INVALID_URL`.
pub fn normalize_path(input: &str) -> Result<Cow<'_, str>, HmacError> {
    if let Some(p) = fast_path(input) {
        return Ok(p);
    }
    normalize_path_slow(input).map(Cow::Owned)
}

/// The `url` crate rejects `///x` against a special base with `EmptyHost`, where the
/// WHATWG "special authority ignore slashes" state skips every leading `/` and `\`
/// (Node gives `http://x/`). Collapse such a run to `//` after the standard
/// pre-processing (trim C0 controls and spaces, drop tabs and newlines), which is
/// equivalent for a scheme-less input against a special base.
fn collapse_leading_slashes(input: &str) -> Option<String> {
    let trimmed = input.trim_matches(|c: char| c <= ' ');
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let run = cleaned
        .bytes()
        .take_while(|b| *b == b'/' || *b == b'\\')
        .count();
    (run > 2).then(|| format!("//{}", &cleaned[run..]))
}

pub(crate) fn normalize_path_slow(input: &str) -> Result<String, HmacError> {
    let collapsed = collapse_leading_slashes(input);
    let url = Url::options()
        .base_url(Some(base()))
        .parse(collapsed.as_deref().unwrap_or(input))
        .map_err(|_| HmacError::InvalidInput("Invalid URL".to_owned()))?;
    let mut out = url.path().to_owned();
    if let Some(q) = url.query()
        && !q.is_empty()
    {
        out.push('?');
        out.push_str(q);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_table() {
        let cases: &[(&str, &str)] = &[
            ("", "/"),
            ("api", "/api"),
            ("//evil.com/x", "/x"),
            ("///x", "/"),
            ("/a/../b", "/b"),
            ("/a b", "/a%20b"),
            ("/é", "/%C3%A9"),
            ("/p?", "/p"),
            ("?x=1", "/?x=1"),
            ("#frag", "/"),
            ("\\a\\b", "/a/b"),
            ("/a\tb", "/ab"),
            ("/p?a='\"<>`", "/p?a=%27%22%3C%3E`"),
            ("/p?a={}|^", "/p?a={}|^"),
            ("%7E", "/%7E"),
            ("mailto:x", "x"),
            ("foo:bar", "bar"),
            (
                "https://api.example.com/v1/ping?b=2&a=1#frag",
                "/v1/ping?b=2&a=1",
            ),
            ("/a b/é?q=a b", "/a%20b/%C3%A9?q=a%20b"),
            ("/v1/messages?x=1", "/v1/messages?x=1"),
            ("/a/./b", "/a/b"),
            ("/a/%2e%2E/b", "/b"),
            ("////x/y", "/y"),
            ("/\\/x/z", "/z"),
            ("\t///x", "/"),
        ];
        for (input, want) in cases {
            assert_eq!(
                normalize_path(input).ok().as_deref(),
                Some(*want),
                "input {input:?}"
            );
            assert_eq!(
                normalize_path_slow(input).ok().as_deref(),
                Some(*want),
                "slow, input {input:?}"
            );
        }
        for bad in ["//[", "//%", "//a:99999/x", "///", "//"] {
            assert!(normalize_path(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn fast_path_agrees_with_parser() {
        let samples = [
            "/",
            "/api/v1/widgets",
            "/api/v1/widgets?limit=10",
            "/p?",
            "/p?a=1&b=%20",
            "/a.b/c..d/.e",
            "/x?y=/../z",
            "/~user/!$&()*+,;=:@",
            "/q?{}|^`",
            "/a/b/",
            "/%7E",
            "/a?b?c",
            "/.",
            "/..",
            "/a/.",
            "/a'b",
        ];
        for s in samples {
            assert_eq!(
                normalize_path(s).unwrap(),
                normalize_path_slow(s).unwrap(),
                "{s:?}"
            );
        }
        // Exhaustive over short strings of interesting bytes.
        let alphabet: Vec<char> = "/a.?%'#\\ é=&2e~".chars().collect();
        let mut stack = vec![String::from("/")];
        while let Some(s) = stack.pop() {
            if let Ok(slow) = normalize_path_slow(&s) {
                assert_eq!(normalize_path(&s).unwrap(), slow, "{s:?}");
            }
            if s.chars().count() < 5 {
                for c in &alphabet {
                    let mut n = s.clone();
                    n.push(*c);
                    stack.push(n);
                }
            }
        }
    }
}
