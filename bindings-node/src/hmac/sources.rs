//! A request's verification inputs read from the JS objects the drop-in was given: the
//! `headers` object through the core's `getHeader` rule ([`VerifyHeaders`]: one pass over
//! `Object.keys(headers)`, first case-insensitive match, an array gives its first element)
//! and the `metadata` IP fields through the core's candidate order ([`IpSources`]).
//!
//! This runs on every verification, so it reads the objects with raw N-API calls: one
//! `napi_get_all_property_names` (= `Object.keys`), then per key one UTF-16 read into a
//! stack buffer (a name outside 7..=15 units, or one no verify header matches, costs
//! nothing more), and one property read per header that counts. The raw calls, and every
//! `unsafe` block, are in [`raw`].

use authcore::hmac::sources::{HeaderSlot, IpField, IpSources, VerifyHeaders};
use napi::{Env, sys};

use crate::error::{Result, invalid_input, map_err};

mod raw;

use raw::{
    bool_of, element, is_array, js_string_call, length, named, number_of, own_keys, property,
    string_of, string_utf16_into, type_of,
};

/// The five header values of a request (`x-client-id`, `x-signature`, `x-timestamp`,
/// `x-nonce` as the verifier reads them; `x-forwarded-for` when it is a string).
#[derive(Debug, Default)]
pub struct RequestHeaders {
    pub client_id: Option<String>,
    pub signature: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub forwarded_for: Option<String>,
}

/// The original's `headerText(v)`: `undefined`, `null`, `''`, `0`, `false` are absent;
/// a string is itself; anything else is `String(v)`.
#[allow(non_upper_case_globals)] // napi's C names for the value types
fn header_text(env: sys::napi_env, v: sys::napi_value) -> Result<Option<String>> {
    use sys::ValueType::*;
    Ok(match type_of(env, v)? {
        napi_undefined | napi_null => None,
        napi_string => Some(string_of(env, v)?).filter(|s| !s.is_empty()),
        napi_boolean => bool_of(env, v)?.then(|| "true".to_owned()),
        napi_number => {
            let n = number_of(env, v)?;
            (n != 0.0).then(|| authcore::js::number_to_string(n))
        }
        _ => Some(js_string_call(env, v)?),
    })
}

/// `headers[key]`, and its first element when it is an array.
fn header_value(
    env: sys::napi_env,
    headers: sys::napi_value,
    key: sys::napi_value,
) -> Result<sys::napi_value> {
    let mut v = property(env, headers, key)?;
    if type_of(env, v)? == sys::ValueType::napi_object && is_array(env, v)? {
        v = element(env, v, 0)?;
    }
    Ok(v)
}

/// The verify headers of `headers` (any JS value: only an object has headers), by the
/// core's `getHeader` rule. A non-string `x-client-id` (other than `null`/`undefined`) is
/// the original's `TypeError` `x-client-id must be a string`.
pub(crate) fn read_headers(env: &Env, headers: sys::napi_value) -> Result<RequestHeaders> {
    let raw = env.raw();
    let mut found = VerifyHeaders::<sys::napi_value>::default();
    if type_of(raw, headers)? == sys::ValueType::napi_object {
        let keys = own_keys(raw, headers)?;
        let n = length(raw, keys)?;
        let mut units = [0u16; 17];
        let mut name = [0u8; 16];
        for i in 0..n {
            let key = element(raw, keys, i)?;
            // At most 16 units are copied (and V8's NUL), so a copy of 16 means a name
            // longer than any verify header.
            let len = string_utf16_into(raw, key, &mut units)?;
            if !(7..=15).contains(&len) || units[..len].iter().any(|u| *u > 0x7f) {
                continue;
            }
            for (b, u) in name.iter_mut().zip(&units[..len]) {
                *b = *u as u8;
            }
            // ASCII only, so the bytes are a `str`.
            let Ok(text) = std::str::from_utf8(&name[..len]) else {
                continue;
            };
            let complete = found.offer(text, |_| header_value(raw, headers, key).map(Some))?;
            if complete {
                break;
            }
        }
    }
    let mut out = RequestHeaders::default();
    if let Some(v) = found.take(HeaderSlot::ClientId) {
        out.client_id = match type_of(raw, v)? {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => None,
            sys::ValueType::napi_string => Some(string_of(raw, v)?),
            _ => return Err(map_err(env, invalid_input("x-client-id must be a string"))),
        };
    }
    if let Some(v) = found.take(HeaderSlot::Signature) {
        out.signature = header_text(raw, v)?;
    }
    if let Some(v) = found.take(HeaderSlot::Timestamp) {
        out.timestamp = header_text(raw, v)?;
    }
    if let Some(v) = found.take(HeaderSlot::Nonce) {
        out.nonce = header_text(raw, v)?;
    }
    if let Some(v) = found.take(HeaderSlot::ForwardedFor)
        && type_of(raw, v)? == sys::ValueType::napi_string
    {
        out.forwarded_for = Some(string_of(raw, v)?);
    }
    Ok(out)
}

/// One `metadata` IP field: a string counts, an array gives its string entries.
fn ip_field(env: sys::napi_env, v: sys::napi_value) -> Result<IpField> {
    Ok(match type_of(env, v)? {
        sys::ValueType::napi_string => IpField::One(string_of(env, v)?),
        sys::ValueType::napi_object if is_array(env, v)? => {
            let n = length(env, v)?;
            let mut out = Vec::new();
            for i in 0..n {
                let e = element(env, v, i)?;
                if type_of(env, e)? == sys::ValueType::napi_string {
                    out.push(string_of(env, e)?);
                }
            }
            IpField::Many(out)
        }
        _ => IpField::Absent,
    })
}

/// The IP candidates of a request: `metadata` (`ip`, `ips`, `forwardedFor`,
/// `remoteAddress`, when it is an object) and the `x-forwarded-for` header, in the
/// core's order ([`IpSources::candidates`]).
pub fn ip_candidates(
    env: &Env,
    metadata: Option<sys::napi_value>,
    forwarded_header: Option<String>,
) -> Result<Vec<String>> {
    let raw = env.raw();
    let mut sources = IpSources {
        forwarded_header,
        ..IpSources::default()
    };
    if let Some(m) = metadata
        && type_of(raw, m)? == sys::ValueType::napi_object
    {
        sources.ip = ip_field(raw, named(raw, m, c"ip")?)?;
        sources.ips = ip_field(raw, named(raw, m, c"ips")?)?;
        sources.forwarded_for = ip_field(raw, named(raw, m, c"forwardedFor")?)?;
        sources.remote_address = ip_field(raw, named(raw, m, c"remoteAddress")?)?;
    }
    Ok(sources.candidates())
}

/// The IP candidates of the drop-in's fixed-shape source list (`[metadata.ip,
/// metadata.ips, metadata.forwardedFor, x-forwarded-for, metadata.remoteAddress]`, any
/// slot `undefined` or missing): each metadata slot read as [`ip_candidates`] reads that
/// field, the header slot when it is a string, in the core's order.
pub fn ip_candidates_of_slots(env: &Env, slots: &[sys::napi_value]) -> Result<Vec<String>> {
    let raw = env.raw();
    let field = |i: usize| {
        slots
            .get(i)
            .map_or(Ok(IpField::Absent), |v| ip_field(raw, *v))
    };
    let forwarded_header = match slots.get(3) {
        Some(v) if type_of(raw, *v)? == sys::ValueType::napi_string => Some(string_of(raw, *v)?),
        _ => None,
    };
    Ok(IpSources {
        ip: field(0)?,
        ips: field(1)?,
        forwarded_for: field(2)?,
        forwarded_header,
        remote_address: field(4)?,
    }
    .candidates())
}
