//! The C ABI called from Rust through the rlib: results, buffers, NULLs, UTF-8, limits
//! and the wire values of the spec's Appendix.

use std::ffi::{CStr, c_char};
use std::ptr::{null, null_mut};

use authcore_ffi::authcore_result::*;
use authcore_ffi::*;

const SECRET_A_HASH: &str = "eed3621935ff386c8af9282a64096fa5c4f52a44a162d86b311ee2f1434ced04";
const APPENDIX_SIG: &str = "9fdc401b7eb309409286a40e661c1f672d4c6de470713241ac8b9d1993957f63";

fn s(v: &str) -> authcore_str {
    authcore_str {
        ptr: v.as_ptr().cast(),
        len: v.len(),
    }
}

fn b(v: &[u8]) -> authcore_str {
    authcore_str {
        ptr: v.as_ptr().cast(),
        len: v.len(),
    }
}

const NONE: authcore_str = authcore_str {
    ptr: null(),
    len: 0,
};

fn last_message() -> String {
    let mut buf = [0 as c_char; 512];
    let mut n = 0usize;
    // SAFETY: valid buffers.
    let r = unsafe { authcore_error_message(buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!(r, AUTHCORE_OK);
    // SAFETY: NUL-terminated by the callee.
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(text.len(), n);
    text
}

/// Call a text-producing function with a 4 KiB buffer.
fn text_out(
    f: impl FnOnce(*mut c_char, usize, *mut usize) -> authcore_result,
) -> Result<String, authcore_result> {
    let mut buf = vec![0 as c_char; 4096];
    let mut n = usize::MAX;
    let r = f(buf.as_mut_ptr(), buf.len(), &mut n);
    if r != AUTHCORE_OK {
        return Err(r);
    }
    assert_eq!(buf[n], 0, "NUL terminator");
    let bytes: Vec<u8> = buf[..n].iter().map(|c| *c as u8).collect();
    Ok(String::from_utf8(bytes).unwrap())
}

fn hash_secret(secret: &str, token: Option<&str>) -> Result<String, authcore_result> {
    let (tp, tl) = token.map_or((null(), 0), |t| (t.as_ptr().cast(), t.len()));
    // SAFETY: valid pointers and lengths.
    text_out(|o, l, w| unsafe {
        authcore_hash_client_secret(secret.as_ptr().cast(), secret.len(), tp, tl, o, l, w)
    })
}

fn sign_input<'a>(
    method: &'a str,
    path: &'a str,
    ts: f64,
    nonce: &'a str,
    body: &'a [u8],
    secret: &'a str,
) -> authcore_sign_input {
    authcore_sign_input {
        method: s(method),
        path: s(path),
        timestamp: ts,
        nonce: s(nonce),
        body: body.as_ptr(),
        body_len: body.len(),
        secret: s(secret),
    }
}

fn appendix_input() -> authcore_sign_input {
    sign_input(
        "post",
        "/v1/messages?x=1",
        1_700_000_000_000.0,
        "nonce_1",
        br#"{"hello":"world"}"#,
        SECRET_A_HASH,
    )
}

#[test]
fn hash_client_secret_vectors_and_token_rules() {
    assert_eq!(hash_secret("secret_a", None).unwrap(), SECRET_A_HASH);
    assert_eq!(
        hash_secret("secret_a", Some("abc")).unwrap(),
        "ba6fab075946aa6dbf432a0062bfb1f1be67ad1730fe9acf4f11043bcb9cf38e"
    );
    // An empty token is no token; "0" is a token (hash-15 / hash-16).
    assert_eq!(
        hash_secret("0", Some("")).unwrap(),
        "5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9"
    );
    assert_eq!(
        hash_secret("0", Some("0")).unwrap(),
        "4b4db2d8e749b1b8beff83d328665055cf0d52b35ca32703e3c05993eed4f7e4"
    );
    // hash-13: a token with NUL bytes is passed with its length.
    assert_eq!(
        hash_secret("client_secret", Some("binary\0token\u{1}")).unwrap(),
        "77524fad64bed2bcfff336a7c2183fc447677ecc561190b7fcb913529c19cc9a"
    );
}

#[test]
fn buffers_report_the_size_needed() {
    let mut buf = [b'x' as c_char; 64];
    let mut n = 0usize;
    // SAFETY: valid pointers.
    let r = unsafe {
        authcore_hash_client_secret(
            c"secret_a".as_ptr(),
            8,
            null(),
            0,
            buf.as_mut_ptr(),
            buf.len(),
            &mut n,
        )
    };
    assert_eq!(r, AUTHCORE_BUFFER_TOO_SMALL);
    assert_eq!(n, AUTHCORE_HEX_BUFFER_SIZE);
    assert_eq!(buf[0], 0, "a too-small buffer is left as an empty string");
    assert_eq!(last_message(), "output buffer holds 64 bytes, 65 needed");
    // Size query.
    // SAFETY: NULL with 0 is allowed for the output.
    let r = unsafe { authcore_normalize_path(c"/a b".as_ptr(), 4, null_mut(), 0, &mut n) };
    assert_eq!(r, AUTHCORE_BUFFER_TOO_SMALL);
    assert_eq!(n, "/a%20b".len() + 1);
    let mut exact = vec![0 as c_char; n];
    // SAFETY: valid pointers.
    let r = unsafe {
        authcore_normalize_path(c"/a b".as_ptr(), 4, exact.as_mut_ptr(), exact.len(), &mut n)
    };
    assert_eq!(r, AUTHCORE_OK);
    assert_eq!(n, 6);
    assert_eq!(last_message(), "", "a success clears the message");
}

#[test]
fn sign_and_verify_request() {
    let input = appendix_input();
    // SAFETY: valid pointers.
    let sig = text_out(|o, l, w| unsafe { authcore_sign_request(&input, o, l, w) }).unwrap();
    assert_eq!(sig, APPENDIX_SIG);
    // SAFETY: valid pointers.
    let payload =
        text_out(|o, l, w| unsafe { authcore_build_signing_payload(&input, o, l, w) }).unwrap();
    assert_eq!(
        payload,
        "POST\n/v1/messages?x=1\n1700000000000\nnonce_1\n93a23971a914e5eacbf0a8d25154cda309c3c1c72fbb9914d47c60f3cb681588"
    );
    for (candidate, want) in [
        (APPENDIX_SIG.to_owned(), true),
        (APPENDIX_SIG.to_uppercase(), true),
        (APPENDIX_SIG[..63].to_owned(), false),
        (format!("{}0", &APPENDIX_SIG[..63]), false),
        (String::new(), false),
    ] {
        let mut valid = !want;
        // SAFETY: valid pointers.
        let r = unsafe {
            authcore_verify_request_signature(
                &input,
                candidate.as_ptr().cast(),
                candidate.len(),
                &mut valid,
            )
        };
        assert_eq!(r, AUTHCORE_OK);
        assert_eq!(valid, want, "{candidate:?}");
    }
    // The payload builder ignores the secret, which may then be absent.
    let mut no_secret = input;
    no_secret.secret = NONE;
    // SAFETY: valid pointers.
    assert!(
        text_out(|o, l, w| unsafe { authcore_build_signing_payload(&no_secret, o, l, w) }).is_ok()
    );
    // SAFETY: valid pointers.
    assert_eq!(
        text_out(|o, l, w| unsafe { authcore_sign_request(&no_secret, o, l, w) }),
        Err(AUTHCORE_NULL_PARAMETER)
    );
    assert_eq!(last_message(), "`input->secret` must not be NULL");
}

#[test]
fn timestamps_are_rendered_like_javascript() {
    for (ts, rendered) in [
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
        (-1.0, "-1"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1.5, "1.5"),
        (1e-7, "1e-7"),
        (f64::MAX, "1.7976931348623157e+308"),
    ] {
        let input = sign_input("get", "/x", ts, "n", b"", "k");
        // SAFETY: valid pointers.
        let payload =
            text_out(|o, l, w| unsafe { authcore_build_signing_payload(&input, o, l, w) }).unwrap();
        assert_eq!(payload.split('\n').nth(2), Some(rendered), "{ts}");
        // SAFETY: valid pointers.
        assert!(text_out(|o, l, w| unsafe { authcore_sign_request(&input, o, l, w) }).is_ok());
    }
}

#[test]
fn null_pointers_are_reported_by_name() {
    let input = appendix_input();
    let mut n = 0usize;
    let mut buf = [0 as c_char; 65];
    let mut flag = false;
    // SAFETY: every call passes at least one NULL, which is checked before use.
    unsafe {
        assert_eq!(
            authcore_hash_client_secret(null(), 0, null(), 0, buf.as_mut_ptr(), 65, &mut n),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(last_message(), "`secret` must not be NULL");
        assert_eq!(
            authcore_hash_client_secret(
                c"x".as_ptr(),
                1,
                null(),
                0,
                buf.as_mut_ptr(),
                65,
                null_mut()
            ),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(last_message(), "`out_written` must not be NULL");
        assert_eq!(
            authcore_hash_client_secret(c"x".as_ptr(), 1, null(), 0, null_mut(), 65, &mut n),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(
            authcore_hash_body(null(), 3, buf.as_mut_ptr(), 65, &mut n),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(
            authcore_sign_request(null(), buf.as_mut_ptr(), 65, &mut n),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(last_message(), "`input` must not be NULL");
        assert_eq!(
            authcore_verify_request_signature(&input, c"ab".as_ptr(), 2, null_mut()),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(
            authcore_verify_request_signature(&input, null(), 0, &mut flag),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(
            authcore_safe_equal_hex(null(), 0, c"".as_ptr(), 0, &mut flag),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(
            authcore_sign_message(null(), null_mut()),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(
            authcore_is_client_ip_allowed(c"1.2.3.4".as_ptr(), 7, null(), 2, &mut flag),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(last_message(), "`rules` must not be NULL");
        assert_eq!(
            authcore_verify_with_record(null(), null_mut()),
            AUTHCORE_NULL_PARAMETER
        );
        assert_eq!(
            authcore_error_message(null_mut(), 4, &mut n),
            AUTHCORE_NULL_PARAMETER
        );
    }
    // The empty body may be NULL.
    // SAFETY: NULL with length 0.
    let hex = text_out(|o, l, w| unsafe { authcore_hash_body(null(), 0, o, l, w) }).unwrap();
    assert_eq!(
        hex,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn invalid_utf8_text_is_typed() {
    let bad = b"/a\xffb";
    // SAFETY: valid pointers.
    let r = text_out(|o, l, w| unsafe {
        authcore_normalize_path(bad.as_ptr().cast(), bad.len(), o, l, w)
    });
    assert_eq!(r, Err(AUTHCORE_INVALID_UTF8));
    assert_eq!(
        last_message(),
        "`path` is not valid UTF-8 (invalid byte at offset 2)"
    );
    // A CESU-8 lone surrogate is not UTF-8 either.
    let surrogate = b"\xed\xa0\x80";
    // SAFETY: valid pointers.
    let r = text_out(|o, l, w| unsafe {
        authcore_hash_client_secret(surrogate.as_ptr().cast(), 3, null(), 0, o, l, w)
    });
    assert_eq!(r, Err(AUTHCORE_INVALID_UTF8));
    // Bodies are bytes: invalid UTF-8 is hashed as the original does (U+FFFD).
    // SAFETY: valid pointers.
    let hex =
        text_out(|o, l, w| unsafe { authcore_hash_body([0xffu8].as_ptr(), 1, o, l, w) }).unwrap();
    assert_eq!(
        hex,
        "83d544ccc223c057d2bf80d3f2a32982c32c3c0db8e2674820da5064783fb097"
    );
    // Text may contain NUL bytes: lengths are explicit.
    // SAFETY: valid pointers.
    let p =
        text_out(|o, l, w| unsafe { authcore_normalize_path(b"/\0x".as_ptr().cast(), 3, o, l, w) })
            .unwrap();
    assert_eq!(p, "/%00x");
}

#[test]
fn huge_bodies_and_lengths_are_rejected_before_reading() {
    let tiny = [0u8; 1];
    for len in [AUTHCORE_MAX_BODY_BYTES + 1, isize::MAX as usize, usize::MAX] {
        // SAFETY: the length is refused before any byte is read.
        let r = text_out(|o, l, w| unsafe { authcore_hash_body(tiny.as_ptr(), len, o, l, w) });
        assert_eq!(r, Err(AUTHCORE_INVALID_INPUT), "{len}");
        assert!(
            last_message().starts_with("body too large"),
            "{}",
            last_message()
        );
    }
    let mut input = appendix_input();
    input.body_len = usize::MAX;
    // SAFETY: refused before reading.
    assert_eq!(
        text_out(|o, l, w| unsafe { authcore_sign_request(&input, o, l, w) }),
        Err(AUTHCORE_INVALID_INPUT)
    );
    // A text length beyond isize::MAX cannot be a real buffer.
    // SAFETY: refused before reading.
    let r =
        text_out(|o, l, w| unsafe { authcore_normalize_path(c"/".as_ptr(), usize::MAX, o, l, w) });
    assert_eq!(r, Err(AUTHCORE_INVALID_INPUT));
    // Array counts: beyond isize::MAX bytes, or more than memory can hold, are typed
    // errors (nothing is read, no allocation aborts the process).
    let one = [s("1.2.3.4")];
    let mut allowed = false;
    for count in [
        usize::MAX / 2,
        (isize::MAX as usize) / size_of::<authcore_str>(),
    ] {
        // SAFETY: refused before reading.
        let r = unsafe {
            authcore_is_client_ip_allowed(c"1.2.3.4".as_ptr(), 7, one.as_ptr(), count, &mut allowed)
        };
        assert_eq!(r, AUTHCORE_INVALID_INPUT, "{count}");
    }
    // A large real body is hashed (the same bytes through the secret hash, which is
    // SHA-256 of the text without a token).
    let big = vec![b'a'; 8 << 20];
    // SAFETY: valid pointers.
    let h1 = text_out(|o, l, w| unsafe { authcore_hash_body(big.as_ptr(), big.len(), o, l, w) })
        .unwrap();
    // SAFETY: valid pointers.
    let h2 = text_out(|o, l, w| unsafe {
        authcore_hash_client_secret(big.as_ptr().cast(), big.len(), null(), 0, o, l, w)
    })
    .unwrap();
    assert_eq!(h1, h2);
}

#[test]
fn safe_equal_hex_quirks() {
    for (a, bb, want) in [
        ("ab", "AB", true),
        ("zz", "zz", true),
        ("", "", true),
        ("ab", "abc", false),
        ("é", "é", true),
    ] {
        let mut eq = !want;
        // SAFETY: valid pointers.
        let r = unsafe {
            authcore_safe_equal_hex(
                a.as_ptr().cast(),
                a.len(),
                bb.as_ptr().cast(),
                bb.len(),
                &mut eq,
            )
        };
        assert_eq!(r, AUTHCORE_OK);
        assert_eq!(eq, want, "{a:?} {bb:?}");
    }
}

fn msg_input<'a>(
    client_id: &'a str,
    json: &'a str,
    secret: &'a str,
    hashed: bool,
    token: Option<&'a str>,
) -> authcore_message_input {
    authcore_message_input {
        client_id: s(client_id),
        message_json: s(json),
        secret: s(secret),
        secret_is_hashed: hashed,
        hash_token: token.map_or(NONE, s),
    }
}

fn hex_field(f: &[c_char; 65]) -> String {
    // SAFETY: NUL-terminated by the callee.
    unsafe { CStr::from_ptr(f.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn message_track() {
    let id = "  app_msg ";
    let input = msg_input(id, r#""hello""#, "msg_secret", false, None);
    let mut out = std::mem::MaybeUninit::<authcore_signed_message>::uninit();
    // SAFETY: valid pointers; the output is written before it is read.
    let signed = unsafe {
        assert_eq!(authcore_sign_message(&input, out.as_mut_ptr()), AUTHCORE_OK);
        out.assume_init()
    };
    assert_eq!(
        &id[signed.client_id_offset..signed.client_id_offset + signed.client_id_len],
        "app_msg"
    );
    assert_eq!(
        hex_field(&signed.message_hash),
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    let sig = hex_field(&signed.signature);
    assert_eq!(
        sig,
        "dfe5e19fb5c475c2eb79e100ab79037ecf3ff2b48982116c373f4602f34eead5"
    );
    let mut valid = false;
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { authcore_verify_message(&input, sig.as_ptr().cast(), sig.len(), &mut valid) },
        AUTHCORE_OK
    );
    assert!(valid);
    let other = msg_input(id, r#""hellO""#, "msg_secret", false, None);
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { authcore_verify_message(&other, sig.as_ptr().cast(), sig.len(), &mut valid) },
        AUTHCORE_OK
    );
    assert!(!valid);

    // Canonical JSON with integer keys first and a pepper.
    let json = r#"{"B":1,"a":2,"_c":3,"10":4,"2":5}"#;
    // SAFETY: valid pointers.
    let canonical = text_out(|o, l, w| unsafe {
        authcore_message_canonical(json.as_ptr().cast(), json.len(), o, l, w)
    })
    .unwrap();
    assert_eq!(canonical, r#"{"2":5,"10":4,"_c":3,"a":2,"B":1}"#);
    let input = msg_input("app_msg", json, "msg_secret", false, Some("tok"));
    // SAFETY: as above.
    let signed = unsafe {
        assert_eq!(authcore_sign_message(&input, out.as_mut_ptr()), AUTHCORE_OK);
        out.assume_init()
    };
    assert_eq!(
        hex_field(&signed.signature),
        "10a48b3f800e6eb9eee8b728503c6aa46412c5b0766d0a7cce649ed94900bf8e"
    );

    // The original's plain Errors.
    for (cid, secret, msg) in [
        ("  ", "s", "clientId cannot be empty"),
        ("c", " \t", "secret cannot be empty"),
    ] {
        let input = msg_input(cid, "{}", secret, false, None);
        // SAFETY: valid pointers.
        assert_eq!(
            unsafe { authcore_sign_message(&input, out.as_mut_ptr()) },
            AUTHCORE_INVALID_ARGUMENT
        );
        assert_eq!(last_message(), msg);
    }
    // JSON that does not parse, and a lone surrogate escape that does.
    let input = msg_input("c", "{", "s", false, None);
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { authcore_sign_message(&input, out.as_mut_ptr()) },
        AUTHCORE_INVALID_INPUT
    );
    let lone = r#"["\ud800"]"#;
    // SAFETY: valid pointers.
    let canonical = text_out(|o, l, w| unsafe {
        authcore_message_canonical(lone.as_ptr().cast(), lone.len(), o, l, w)
    })
    .unwrap();
    assert_eq!(canonical, r#"["\ud800"]"#);
}

#[test]
fn ip_rules() {
    let rules = [s("bad"), NONE, b(b"\xff"), s("10.0.0.0/8")];
    let mut allowed = false;
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe {
            authcore_is_client_ip_allowed(
                c"10.1.2.3".as_ptr(),
                8,
                rules.as_ptr(),
                rules.len(),
                &mut allowed,
            )
        },
        AUTHCORE_OK
    );
    assert!(allowed);
    // Only invalid rules: nobody is allowed (they still count).
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe {
            authcore_is_client_ip_allowed(c"10.1.2.3".as_ptr(), 8, rules.as_ptr(), 3, &mut allowed)
        },
        AUTHCORE_OK
    );
    assert!(!allowed);
    // No rules: everyone.
    // SAFETY: NULL with 0.
    assert_eq!(
        unsafe { authcore_is_client_ip_allowed(c"bogus".as_ptr(), 5, null(), 0, &mut allowed) },
        AUTHCORE_OK
    );
    assert!(allowed);

    let list = [
        s(" 195.7.8.9/024 "),
        s("2001:DB8::1"),
        s("195.7.8.9/24"),
        s("[::1]:8080"),
    ];
    let mut buf = [0 as c_char; 128];
    let (mut n, mut count) = (0usize, 0usize);
    // SAFETY: valid pointers.
    let r = unsafe {
        authcore_normalize_allowed_ip_rules(
            list.as_ptr(),
            list.len(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut n,
            &mut count,
        )
    };
    assert_eq!(r, AUTHCORE_OK);
    assert_eq!(count, 3);
    let out: Vec<u8> = buf[..=n].iter().map(|c| *c as u8).collect();
    assert_eq!(out, b"195.7.8.9/24\x002001:DB8::1\x00::1\x00");
    // Empty list: one NUL, count 0.
    // SAFETY: NULL with 0.
    let r = unsafe {
        authcore_normalize_allowed_ip_rules(
            null(),
            0,
            buf.as_mut_ptr(),
            buf.len(),
            &mut n,
            &mut count,
        )
    };
    assert_eq!((r, n, count, buf[0]), (AUTHCORE_OK, 0, 0, 0));
    for (entries, msg) in [
        (
            vec![s("nope")],
            "Invalid allowedIps entry 'nope'. Expected IP or CIDR (example: 195.7.8.9 or 195.7.8.0/24).",
        ),
        (
            vec![s("1.2.3.4"), NONE],
            "allowedIps entries must be strings",
        ),
    ] {
        // SAFETY: valid pointers.
        let r = unsafe {
            authcore_normalize_allowed_ip_rules(
                entries.as_ptr(),
                entries.len(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
                &mut count,
            )
        };
        assert_eq!(r, AUTHCORE_INVALID_ARGUMENT);
        assert_eq!(last_message(), msg);
    }
}

#[test]
fn parse_record_normalises() {
    let raw = r#"{"secretHash":"h","createdAt":"x","expiresAt":5,"allowedIps":["bad","10.0.0.0/024"],"purpose":"p"}"#;
    // SAFETY: valid pointers.
    let json = text_out(|o, l, w| unsafe {
        authcore_parse_stored_client_record(raw.as_ptr().cast(), raw.len(), o, l, w)
    })
    .unwrap();
    assert_eq!(
        json,
        r#"{"secretHash":"h","createdAt":0,"updatedAt":0,"expiresAt":5,"allowedIps":["10.0.0.0/24"]}"#
    );
    // SAFETY: valid pointers.
    let json = text_out(|o, l, w| unsafe {
        authcore_parse_stored_client_record(c"42".as_ptr(), 2, o, l, w)
    })
    .unwrap();
    assert_eq!(
        json,
        r#"{"secretHash":"42","createdAt":0,"updatedAt":0,"expiresAt":null,"allowedIps":[]}"#
    );
}

fn record(allowed_ips: &str) -> String {
    format!(
        r#"{{"secretHash":"{SECRET_A_HASH}","createdAt":1,"updatedAt":1,"expiresAt":null,"allowedIps":[{allowed_ips}]}}"#
    )
}

struct Req {
    client_id: Option<&'static str>,
    signature: &'static str,
    timestamp: &'static str,
    record: Option<String>,
    now: f64,
    ips: Vec<authcore_str>,
}

impl Req {
    fn ok() -> Self {
        Self {
            client_id: Some(" app_a "),
            signature: APPENDIX_SIG,
            timestamp: "1700000000000",
            record: Some(record("")),
            now: 1_700_000_000_000.0,
            ips: vec![],
        }
    }

    fn run(&self) -> (authcore_result, authcore_verification) {
        let body = br#"{"hello":"world"}"#;
        let rec = self.record.as_deref();
        let req = authcore_verify_request {
            method: s("POST"),
            path: s("/v1/messages?x=1"),
            client_id: self.client_id.map_or(NONE, s),
            signature: s(self.signature),
            timestamp: s(self.timestamp),
            nonce: s("nonce_1"),
            body: body.as_ptr(),
            body_len: body.len(),
            now_ms: self.now,
            max_skew_ms: AUTHCORE_DEFAULT_MAX_SKEW_MS,
            record: rec.map_or(NONE, s),
            ip_candidates: self.ips.as_ptr(),
            ip_candidates_len: self.ips.len(),
        };
        let mut out = std::mem::MaybeUninit::<authcore_verification>::uninit();
        // SAFETY: valid pointers; `out` is always written.
        unsafe {
            let r = authcore_verify_with_record(&req, out.as_mut_ptr());
            (r, out.assume_init())
        }
    }
}

#[test]
fn verify_with_record_outcomes() {
    let (r, v) = Req::ok().run();
    assert_eq!((r, v.status), (AUTHCORE_OK, 200));
    assert_eq!((v.client_id_offset, v.client_id_len), (1, 5));
    assert_eq!(v.timestamp, 1_700_000_000_000.0);
    assert_eq!(v.expected_signature[0], 0);

    let (r, v) = Req {
        signature: "acfa61e9ddb84ea50d8120fffd534aa5a708668d4ba76af8aad72321339dac4d",
        ..Req::ok()
    }
    .run();
    assert_eq!((r, v.status), (AUTHCORE_BAD_SIGNATURE, 401));
    assert_eq!(hex_field(&v.expected_signature), APPENDIX_SIG);
    assert_eq!(last_message(), "Invalid HMAC signature");

    let (r, v) = Req {
        client_id: None,
        ..Req::ok()
    }
    .run();
    assert_eq!(
        (r, v.status, v.client_id_len),
        (AUTHCORE_MISSING_CLIENT_ID, 401, 0)
    );
    assert!(v.timestamp.is_nan());
    let (r, _) = Req {
        timestamp: "12abc",
        ..Req::ok()
    }
    .run();
    assert_eq!(r, AUTHCORE_INVALID_TIMESTAMP);
    let (r, v) = Req {
        now: 1_700_000_300_001.0,
        ..Req::ok()
    }
    .run();
    assert_eq!((r, v.status), (AUTHCORE_TIMESTAMP_SKEW, 401));
    assert_eq!(
        last_message(),
        "Request timestamp skew is too large (> 300000ms)"
    );
    let (r, v) = Req {
        now: f64::NAN,
        ..Req::ok()
    }
    .run();
    // Fails closed: in JavaScript NaN compares false (no skew, no expiry check).
    assert_eq!((r, v.status), (AUTHCORE_INVALID_ARGUMENT, 500));
    assert_eq!(last_message(), "now must be a finite number");
    let (r, v) = Req {
        record: None,
        ..Req::ok()
    }
    .run();
    assert_eq!(
        (r, v.status, v.client_id_len),
        (AUTHCORE_UNKNOWN_CLIENT, 401, 5)
    );
    let (r, _) = Req {
        record: Some(String::new()),
        ..Req::ok()
    }
    .run();
    assert_eq!(r, AUTHCORE_UNKNOWN_CLIENT);

    let locked = record(r#""195.7.8.0/24""#);
    let (r, v) = Req {
        record: Some(locked.clone()),
        ..Req::ok()
    }
    .run();
    assert_eq!((r, v.status), (AUTHCORE_MISSING_CLIENT_IP, 403));
    // Unusable candidates are skipped, the first that parses wins.
    let ips = vec![
        NONE,
        b(b"\xff\xfe"),
        s("unknown"),
        s("195.7.8.44"),
        s("8.8.8.8"),
    ];
    let (r, _) = Req {
        record: Some(locked.clone()),
        ips,
        ..Req::ok()
    }
    .run();
    assert_eq!(r, AUTHCORE_OK);
    let (r, v) = Req {
        record: Some(locked),
        ips: vec![s("8.8.8.8")],
        ..Req::ok()
    }
    .run();
    assert_eq!((r, v.status), (AUTHCORE_CLIENT_IP_NOT_ALLOWED, 403));
    assert_eq!(
        last_message(),
        "Client IP '8.8.8.8' is not allowed for clientId 'app_a'"
    );
}

#[test]
fn verify_with_record_bad_input_still_fills_out() {
    let bad = b"\xff";
    let req = authcore_verify_request {
        method: s("GET"),
        path: s("/"),
        client_id: b(bad),
        signature: NONE,
        timestamp: NONE,
        nonce: NONE,
        body: null(),
        body_len: 0,
        now_ms: 0.0,
        max_skew_ms: 0.0,
        record: NONE,
        ip_candidates: null(),
        ip_candidates_len: 0,
    };
    let mut out = std::mem::MaybeUninit::<authcore_verification>::uninit();
    // SAFETY: valid pointers.
    let (r, v) = unsafe {
        (
            authcore_verify_with_record(&req, out.as_mut_ptr()),
            out.assume_init(),
        )
    };
    assert_eq!((r, v.status), (AUTHCORE_INVALID_UTF8, 500));
    let req = authcore_verify_request {
        client_id: s("a"),
        path: s("//["),
        signature: s("x"),
        timestamp: s("0"),
        nonce: s("n"),
        record: s("h"),
        ..req
    };
    // SAFETY: valid pointers.
    let (r, v) = unsafe {
        (
            authcore_verify_with_record(&req, out.as_mut_ptr()),
            out.assume_init(),
        )
    };
    assert_eq!((r, v.status), (AUTHCORE_INVALID_INPUT, 500));
}

#[test]
fn nonce_key_and_ttl() {
    // SAFETY: valid pointers.
    let key = text_out(|o, l, w| unsafe {
        authcore_nonce_key(
            c" tenant_a ".as_ptr(),
            10,
            c"app".as_ptr(),
            3,
            c"n1".as_ptr(),
            2,
            1e21,
            o,
            l,
            w,
        )
    })
    .unwrap();
    assert_eq!(key, "tenant_a:nonce:app:n1:1e+21");
    // SAFETY: NULL namespace = default.
    let key = text_out(|o, l, w| unsafe {
        authcore_nonce_key(
            null(),
            0,
            c"app".as_ptr(),
            3,
            c"n".as_ptr(),
            1,
            1_700_000_000_000.0,
            o,
            l,
            w,
        )
    })
    .unwrap();
    assert_eq!(key, "hmacauth:nonce:app:n:1700000000000");
    // SAFETY: valid pointers.
    let r = text_out(|o, l, w| unsafe {
        authcore_nonce_key(
            c"  ".as_ptr(),
            2,
            c"a".as_ptr(),
            1,
            c"n".as_ptr(),
            1,
            0.0,
            o,
            l,
            w,
        )
    });
    assert_eq!(r, Err(AUTHCORE_INVALID_ARGUMENT));
    assert_eq!(last_message(), "Namespace cannot be empty");
    let (ts, now) = (1_700_000_000_000.0, 1_700_000_000_000.0);
    assert_eq!(authcore_nonce_ttl_seconds(ts, now, 300_000.0), 301);
    assert_eq!(authcore_nonce_ttl_seconds(ts, now, 5001.0), 7);
    assert_eq!(authcore_nonce_ttl_seconds(ts + 4000.0, now, 5000.0), 10);
    assert_eq!(authcore_nonce_ttl_seconds(ts, now, -5.0), 1);
    assert_eq!(authcore_nonce_ttl_seconds(ts, now, f64::NAN), 0);
    assert_eq!(authcore_nonce_ttl_seconds(ts, f64::NAN, 5000.0), 0);
    assert_eq!(authcore_nonce_ttl_seconds(f64::INFINITY, now, 5000.0), 0);
}

#[test]
fn generated_nonces_are_fresh_hex() {
    // SAFETY: valid pointers.
    let a = text_out(|o, l, w| unsafe { authcore_generate_nonce(o, l, w) }).unwrap();
    // SAFETY: valid pointers.
    let b2 = text_out(|o, l, w| unsafe { authcore_generate_nonce(o, l, w) }).unwrap();
    assert_eq!(a.len(), 32);
    assert!(
        a.bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_ne!(a, b2);
}

#[test]
fn version_matches_cargo_and_header() {
    // SAFETY: static string.
    let v = unsafe { CStr::from_ptr(authcore_version()) }
        .to_str()
        .unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/authcore.h"))
            .unwrap();
    assert!(
        header.contains(&format!("#define AUTHCORE_VERSION \"{v}\"")),
        "header version is stale"
    );
    let toml =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/cbindgen.toml")).unwrap();
    assert!(toml.contains(&format!("#define AUTHCORE_VERSION \"{v}\"")));
    // The numeric macros, in the header and in the cbindgen config it is generated from.
    let parts = [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ];
    for text in [&header, &toml] {
        for (name, want) in parts {
            let line = format!("#define AUTHCORE_VERSION_{name} ");
            let got: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix(line.as_str()))
                .collect();
            assert_eq!(got, [want], "AUTHCORE_VERSION_{name}");
        }
    }
    assert_eq!(
        format!("{}.{}.{}", parts[0].1, parts[1].1, parts[2].1),
        v,
        "a pre-release or build suffix would need its own macro"
    );
    // The ABI version and SONAME macros: what build.rs gives the linker (-soname).
    let abi = if parts[0].1 == "0" {
        format!("0.{}", parts[1].1)
    } else {
        parts[0].1.to_string()
    };
    for text in [&header, &toml] {
        assert!(
            text.contains(&format!("#define AUTHCORE_ABI_VERSION \"{abi}\"\n")),
            "AUTHCORE_ABI_VERSION is not {abi}"
        );
        assert!(
            text.contains(&format!(
                "#define AUTHCORE_SONAME \"libauthcore.so.{abi}\"\n"
            )),
            "AUTHCORE_SONAME is not libauthcore.so.{abi}"
        );
    }
}

#[test]
fn errors_are_per_thread_under_concurrency() {
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                for _ in 0..200 {
                    if i % 2 == 0 {
                        assert!(hash_secret("x", None).is_ok());
                        assert_eq!(last_message(), "");
                    } else {
                        let bad = b"\xff";
                        // SAFETY: valid pointers.
                        let r = text_out(|o, l, w| unsafe {
                            authcore_normalize_path(bad.as_ptr().cast(), 1, o, l, w)
                        });
                        assert_eq!(r, Err(AUTHCORE_INVALID_UTF8));
                        assert!(last_message().starts_with("`path` is not valid UTF-8"));
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
