//! authrs permission policies as C functions: evaluation of documents for a request
//! (allow/deny, the reason and the deciding statement), document validation,
//! `checkPermission`, and the action names `syncPackage` generates. Documents, requests
//! and lists are JSON text (grammar in `authcore::policy`).

#![allow(non_camel_case_types)]

use std::ffi::c_char;

use authcore::policy::{self, DecisionReason, PackageSync, PermissionDocument, PolicyError};
use serde_json::Value;

use crate::error::authcore_result;
use crate::ffi::{FfiResult, boundary, out_ptr, text, write_text};

use crate::json::canonical;

/// Why `authcore_policy_evaluate` decided as it did.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum authcore_policy_reason {
    /// An Allow statement applied and no Deny did (`allowed` is true).
    AUTHCORE_POLICY_REASON_ALLOWED = 0,
    /// A Deny statement applied (Deny overrides Allow).
    AUTHCORE_POLICY_REASON_EXPLICIT_DENY = 1,
    /// No statement applied: denied by default.
    AUTHCORE_POLICY_REASON_NO_MATCH = 2,
    /// The requested resource or action is malformed (empty, contains `*`, empty
    /// segments), or the action list is empty: denied.
    AUTHCORE_POLICY_REASON_INVALID_REQUEST = 3,
}

/// The answer of `authcore_policy_evaluate`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct authcore_policy_decision {
    /// `true` iff every requested action is allowed. `false` after any error.
    pub allowed: bool,
    /// Why: for a denial, the reason of the first denied action; for an allow, the
    /// statement that allowed the first action.
    pub reason: authcore_policy_reason,
    /// Index in the request's action list of the action `reason` is about (the first
    /// denied one, or 0 when allowed); `SIZE_MAX` for an empty list.
    pub action_index: usize,
    /// Whether the deciding statement has a `sid` (written to `sid_out` when asked).
    pub has_sid: bool,
}

const DENY: authcore_policy_decision = authcore_policy_decision {
    allowed: false,
    reason: authcore_policy_reason::AUTHCORE_POLICY_REASON_INVALID_REQUEST,
    action_index: usize::MAX,
    has_sid: false,
};

/// # Safety
/// `ptr` valid for `len` bytes.
unsafe fn json_text<'a>(ptr: *const c_char, len: usize, name: &str) -> FfiResult<&'a str> {
    // SAFETY: forwarded caller guarantee.
    unsafe { text(ptr, len, name) }
}

/// Evaluate a request against permission documents. Deny by default; any applicable Deny
/// statement wins over every Allow; a statement applies when one of its principals, one
/// of its actions and one of its resources match and its conditions hold.
///
/// `documents_json`: one document `{"version":"1.0","statements":[{"sid":"S1",
/// "effect":"Allow","principals":["role:editor"],"actions":["get*"],
/// "resources":["service:core/package:mfg/table:*"],"conditions":[...]}]}` or an array of
/// them; every document is validated first.
/// `request_json`: `{"userId":"u1","roles":["editor"],"groups":["g"],
/// "action":"getMaterials" | "actions":["a","b"],"resource":"service:core/...",
/// "directory":{"roleParents":{"child":"parent"},"groupRoles":{"g":["role"]}},
/// "context":{"ip":"10.0.0.1"}}`; `roles`, `groups`, `directory`, `context` are optional,
/// exactly one of `action`/`actions` is required (all listed actions must be allowed),
/// unknown fields are an error.
///
/// Writes the decision to `*out` (a deny whenever the function fails). The deciding
/// statement's `sid` is written to `sid_out` as NUL-terminated text (empty when it has
/// none or nothing matched) when `sid_written` is not NULL; with `sid_written` NULL the
/// sid is not returned and `sid_out` may be NULL.
///
/// Errors: `AUTHCORE_POLICY_INVALID_DOCUMENT`, `..._INVALID_PRINCIPAL`,
/// `..._INVALID_PATTERN` (documents), `AUTHCORE_POLICY_INVALID_REQUEST` (request),
/// `AUTHCORE_INVALID_UTF8`, `AUTHCORE_BUFFER_TOO_SMALL` (sid).
///
/// # Safety
/// `documents_json`, `request_json` valid for their lengths; `out` writable; when
/// `sid_written` is not NULL, `sid_out` valid for `sid_out_len` bytes of writes.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_policy_evaluate_query(
    documents_json: *const c_char,
    documents_json_len: usize,
    request_json: *const c_char,
    request_json_len: usize,
    out: *mut authcore_policy_decision,
    sid_out: *mut c_char,
    sid_out_len: usize,
    sid_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let out = out_ptr(out, "out")?;
            out.set(DENY);
            let docs = json_text(documents_json, documents_json_len, "documents_json")?;
            let req = json_text(request_json, request_json_len, "request_json")?;
            let d = policy::evaluate_query_json(docs, req)?;
            let (reason, sid) = match &d.reason {
                DecisionReason::Allowed(sid) => (
                    authcore_policy_reason::AUTHCORE_POLICY_REASON_ALLOWED,
                    sid.as_deref(),
                ),
                DecisionReason::ExplicitDeny(sid) => (
                    authcore_policy_reason::AUTHCORE_POLICY_REASON_EXPLICIT_DENY,
                    sid.as_deref(),
                ),
                DecisionReason::NoMatch => (
                    authcore_policy_reason::AUTHCORE_POLICY_REASON_NO_MATCH,
                    None,
                ),
                DecisionReason::InvalidRequest => (
                    authcore_policy_reason::AUTHCORE_POLICY_REASON_INVALID_REQUEST,
                    None,
                ),
            };
            if !sid_written.is_null() {
                write_text(
                    sid.unwrap_or("").as_bytes(),
                    sid_out,
                    sid_out_len,
                    sid_written,
                )?;
            }
            out.set(authcore_policy_decision {
                allowed: d.allowed,
                reason,
                action_index: d.action_index.unwrap_or(usize::MAX),
                has_sid: sid.is_some(),
            });
            Ok(())
        }
    })
}

/// Deprecated alias of `authcore_policy_evaluate_query`
/// (the name every language shares, after the core's `policy::evaluate_query_json`);
/// same arguments, same results.
///
/// # Safety
/// As `authcore_policy_evaluate_query`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_policy_evaluate(
    documents_json: *const c_char,
    documents_json_len: usize,
    request_json: *const c_char,
    request_json_len: usize,
    out: *mut authcore_policy_decision,
    sid_out: *mut c_char,
    sid_out_len: usize,
    sid_written: *mut usize,
) -> authcore_result {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        authcore_policy_evaluate_query(
            documents_json,
            documents_json_len,
            request_json,
            request_json_len,
            out,
            sid_out,
            sid_out_len,
            sid_written,
        )
    }
}

/// Validate one permission document (JSON). `AUTHCORE_OK` when valid, otherwise
/// `AUTHCORE_POLICY_INVALID_DOCUMENT` (JSON, effect, empty lists, unknown condition
/// operator), `AUTHCORE_POLICY_INVALID_PRINCIPAL` (not `*`, `user:<id>`, `role:<uid>`,
/// `group:<uid>`), `AUTHCORE_POLICY_INVALID_PATTERN` (empty action, empty resource
/// segment, `**` not a whole last segment); the message names the culprit.
///
/// # Safety
/// `document_json` valid for `document_json_len` bytes.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_policy_validate_document(
    document_json: *const c_char,
    document_json_len: usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        let doc = unsafe { json_text(document_json, document_json_len, "document_json")? };
        PermissionDocument::parse(doc)?;
        Ok(())
    })
}

/// authrs `checkPermission`. `documents_json` as for `authcore_policy_evaluate`;
/// `request_json`: `{"packages":[{"packageId":"mfg","tables":["materials"],
/// "customActions":["approveBom"],"extensibleTables":[]}],"userId":"u1","roles":[...],
/// "groups":[...],"resource":"service:core/package:mfg/table:materials",
/// "action":"getMaterials"}` (`action` optional; `directory`, `context` optional).
/// Writes the result as JSON (compact, keys in byte order): with an action
/// `{"action":"getMaterials","allowed":true,"resource":"..."}`; without, every action in
/// scope of the resource (the registered packages' CRUD and custom actions)
/// `{"decisions":{"approveBom":true,"getMaterials":true,...},"resource":"..."}`.
/// A malformed resource is `AUTHCORE_POLICY_INVALID_RESOURCE`.
///
/// # Safety
/// `documents_json`, `request_json` valid for their lengths; `out` valid for `out_len`
/// bytes of writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_policy_check_permission(
    documents_json: *const c_char,
    documents_json_len: usize,
    request_json: *const c_char,
    request_json_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let docs = json_text(documents_json, documents_json_len, "documents_json")?;
            let req = json_text(request_json, request_json_len, "request_json")?;
            let r = policy::check_permission_json(docs, req)?;
            let v =
                serde_json::to_value(&r).map_err(|e| PolicyError::InvalidRequest(e.to_string()))?;
            write_text(canonical(&v).as_bytes(), out, out_len, out_written)
        }
    })
}

fn json_list(items: &[String]) -> String {
    canonical(&Value::from(items.to_vec()))
}

/// The CRUD action names `syncPackage` generates for a table, as a JSON array:
/// `verb + PascalCase(table)` for get, post, patch, put, delete, archive, unarchive
/// (`bom_materials` → `getBomMaterials`, ...), plus `getExtensibleFields…`,
/// `putExtensibleFields…`, `deleteExtensibleFields…` when `extensible`.
///
/// # Safety
/// `table` valid for `table_len` bytes; `out` valid for `out_len` bytes of writes;
/// `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_policy_crud_actions(
    table: *const c_char,
    table_len: usize,
    extensible: bool,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let t = text(table, table_len, "table")?;
            let list = json_list(&policy::crud_actions(t, extensible));
            write_text(list.as_bytes(), out, out_len, out_written)
        }
    })
}

/// Every action name authrs `syncPackage(params)` registers, as a JSON array: the CRUD
/// names of each table in order, then the custom actions, duplicates removed (first kept).
/// `sync_json`: `{"packageId":"mfg","tables":["materials"],"customActions":["approveBom"],
/// "extensibleTables":["materials"]}` (`customActions`, `extensibleTables` optional).
/// Malformed JSON is `AUTHCORE_POLICY_INVALID_REQUEST`.
///
/// # Safety
/// `sync_json` valid for `sync_json_len` bytes; `out` valid for `out_len` bytes of
/// writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_policy_sync_package_actions(
    sync_json: *const c_char,
    sync_json_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let j = json_text(sync_json, sync_json_len, "sync_json")?;
            let sync: PackageSync =
                serde_json::from_str(j).map_err(|e| PolicyError::InvalidRequest(e.to_string()))?;
            let list = json_list(&sync.actions());
            write_text(list.as_bytes(), out, out_len, out_written)
        }
    })
}

/// authrs `derive_action_name(method, path)`: the lower-cased method + PascalCase of the
/// `table:` segment of `path` (`GET`, `service:core/package:mfg/table:bom_lines` →
/// `getBomLines`). Sets `*out_found`; when the path has no table segment it is `false`
/// and `out` receives the empty string.
///
/// # Safety
/// `method`, `path` valid for their lengths; `out` valid for `out_len` bytes of writes;
/// `out_written`, `out_found` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_policy_derive_action_name(
    method: *const c_char,
    method_len: usize,
    path: *const c_char,
    path_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
    out_found: *mut bool,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let found = out_ptr(out_found, "out_found")?;
            found.set(false);
            let m = text(method, method_len, "method")?;
            let p = text(path, path_len, "path")?;
            let name = policy::derive_action_name(m, p);
            write_text(
                name.as_deref().unwrap_or("").as_bytes(),
                out,
                out_len,
                out_written,
            )?;
            found.set(name.is_some());
            Ok(())
        }
    })
}

/// A role or group uid from a display name: lower case, each run of other characters
/// than letters and digits becomes one `_`, no leading or trailing `_`
/// (`"Builder Developer [Admin]"` → `builder_developer_admin`).
///
/// # Safety
/// `name` valid for `name_len` bytes; `out` valid for `out_len` bytes of writes;
/// `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_policy_slugify_uid(
    name: *const c_char,
    name_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        crate::ffi::check_out(out, out_len, out_written, ("out", "out_written"))?;
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let n = text(name, name_len, "name")?;
            write_text(policy::slugify_uid(n).as_bytes(), out, out_len, out_written)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::authcore_result::*;
    use crate::ffi::test_util::text_out;
    use std::ptr::{null, null_mut};

    const DOCS: &str = r#"[{"version":"1.0","statements":[
        {"sid":"Read","effect":"Allow","principals":["role:viewer"],"actions":["get*"],"resources":["service:core/**"]},
        {"effect":"Allow","principals":["user:root"],"actions":["*"],"resources":["*"]},
        {"sid":"NoCost","effect":"Deny","principals":["*"],"actions":["getCost"],"resources":["service:core/**"]}]}]"#;

    fn evaluate(
        req: &str,
        sid_len: Option<usize>,
    ) -> (authcore_result, authcore_policy_decision, String) {
        let mut d = authcore_policy_decision {
            allowed: true,
            reason: authcore_policy_reason::AUTHCORE_POLICY_REASON_ALLOWED,
            action_index: 7,
            has_sid: true,
        };
        let mut sid = vec![0x55 as c_char; sid_len.unwrap_or(0)];
        let mut n = usize::MAX;
        let (sp, sw) = match sid_len {
            Some(_) => (sid.as_mut_ptr(), &mut n as *mut usize),
            None => (null_mut(), null_mut()),
        };
        // SAFETY: valid buffers.
        let r = unsafe {
            authcore_policy_evaluate(
                DOCS.as_ptr().cast(),
                DOCS.len(),
                req.as_ptr().cast(),
                req.len(),
                &mut d,
                sp,
                sid.len(),
                sw,
            )
        };
        let s = if r == AUTHCORE_OK && sid_len.is_some() {
            sid[..n].iter().map(|c| *c as u8 as char).collect()
        } else {
            String::new()
        };
        (r, d, s)
    }

    #[test]
    fn decisions_with_reasons_and_sids() {
        use authcore_policy_reason::*;
        let (r, d, sid) = evaluate(
            r#"{"userId":"u","roles":["viewer"],"action":"getX","resource":"service:core/t"}"#,
            Some(16),
        );
        assert_eq!(r, AUTHCORE_OK);
        assert!(d.allowed && d.has_sid);
        assert_eq!(
            (d.reason, d.action_index, sid.as_str()),
            (AUTHCORE_POLICY_REASON_ALLOWED, 0, "Read")
        );

        let (_, d, sid) = evaluate(
            r#"{"userId":"root","actions":["postX","getCost"],"resource":"service:core/t"}"#,
            Some(16),
        );
        assert!(!d.allowed);
        assert_eq!(
            (d.reason, d.action_index, sid.as_str()),
            (AUTHCORE_POLICY_REASON_EXPLICIT_DENY, 1, "NoCost")
        );

        // An allow by a statement without sid.
        let (_, d, sid) = evaluate(
            r#"{"userId":"root","action":"postX","resource":"service:core/t"}"#,
            Some(1),
        );
        assert!(d.allowed && !d.has_sid);
        assert_eq!(sid, "");

        let (_, d, _) = evaluate(
            r#"{"userId":"u","action":"postX","resource":"service:core/t"}"#,
            None,
        );
        assert_eq!(
            (d.allowed, d.reason),
            (false, AUTHCORE_POLICY_REASON_NO_MATCH)
        );
        let (_, d, _) = evaluate(
            r#"{"userId":"root","action":"postX","resource":"service:core//t"}"#,
            None,
        );
        assert_eq!(
            (d.allowed, d.reason),
            (false, AUTHCORE_POLICY_REASON_INVALID_REQUEST)
        );
        let (_, d, _) = evaluate(
            r#"{"userId":"root","actions":[],"resource":"service:core/t"}"#,
            None,
        );
        assert_eq!(
            (d.allowed, d.reason, d.action_index),
            (false, AUTHCORE_POLICY_REASON_INVALID_REQUEST, usize::MAX)
        );
    }

    #[test]
    fn failures_leave_a_deny() {
        // sid buffer too small: the error, and `*out` says deny.
        let (r, d, _) = evaluate(
            r#"{"userId":"u","roles":["viewer"],"action":"getX","resource":"service:core/t"}"#,
            Some(4),
        );
        assert_eq!(r, AUTHCORE_BUFFER_TOO_SMALL);
        assert!(!d.allowed);
        let (r, d, _) = evaluate(r#"{"userId":"u","acton":"getX","resource":"r"}"#, None);
        assert_eq!(r, AUTHCORE_POLICY_INVALID_REQUEST);
        assert!(!d.allowed);
        let mut d = DENY;
        d.allowed = true;
        // SAFETY: valid buffers.
        let r = unsafe {
            authcore_policy_evaluate(
                c"[{}]".as_ptr(),
                4,
                c"{}".as_ptr(),
                2,
                &mut d,
                null_mut(),
                0,
                null_mut(),
            )
        };
        assert_eq!((r, d.allowed), (AUTHCORE_POLICY_INVALID_DOCUMENT, false));
        // SAFETY: NULLs checked by the callee.
        let r = unsafe {
            authcore_policy_evaluate(
                null(),
                0,
                c"{}".as_ptr(),
                2,
                &mut d,
                null_mut(),
                0,
                null_mut(),
            )
        };
        assert_eq!(r, AUTHCORE_NULL_PARAMETER);
    }

    #[test]
    fn validate_document_codes() {
        let v = |j: &str| unsafe { authcore_policy_validate_document(j.as_ptr().cast(), j.len()) };
        assert_eq!(v(r#"{"statements":[]}"#), AUTHCORE_OK);
        assert_eq!(
            v(
                r#"{"statements":[{"effect":"Allow","principals":["team:x"],"actions":["a"],"resources":["r"]}]}"#
            ),
            AUTHCORE_POLICY_INVALID_PRINCIPAL
        );
        assert_eq!(
            v(
                r#"{"statements":[{"effect":"Allow","principals":["*"],"actions":["a"],"resources":["a/**/b"]}]}"#
            ),
            AUTHCORE_POLICY_INVALID_PATTERN
        );
        assert_eq!(
            v(
                r#"{"statements":[{"effect":"Permit","principals":["*"],"actions":["a"],"resources":["r"]}]}"#
            ),
            AUTHCORE_POLICY_INVALID_DOCUMENT
        );
        assert_eq!(v("\u{1}"), AUTHCORE_POLICY_INVALID_DOCUMENT);
    }

    #[test]
    fn check_permission_and_action_names() {
        let req = r#"{"packages":[{"packageId":"core","tables":["t"],"customActions":["approve"]}],"userId":"u","roles":["viewer"],"resource":"service:core/package:core/table:t"}"#;
        // SAFETY: valid buffers.
        let out = text_out(|o, l, w| unsafe {
            authcore_policy_check_permission(
                DOCS.as_ptr().cast(),
                DOCS.len(),
                req.as_ptr().cast(),
                req.len(),
                o,
                l,
                w,
            )
        });
        assert_eq!(
            out.unwrap(),
            r#"{"decisions":{"approve":false,"archiveT":false,"deleteT":false,"getT":true,"patchT":false,"postT":false,"putT":false,"unarchiveT":false},"resource":"service:core/package:core/table:t"}"#
        );
        let t = "bom_lines";
        // SAFETY: valid buffers.
        let crud = text_out(|o, l, w| unsafe {
            authcore_policy_crud_actions(t.as_ptr().cast(), t.len(), false, o, l, w)
        });
        assert_eq!(
            crud.unwrap(),
            r#"["getBomLines","postBomLines","patchBomLines","putBomLines","deleteBomLines","archiveBomLines","unarchiveBomLines"]"#
        );
        let mut found = true;
        // SAFETY: valid buffers.
        let name = text_out(|o, l, w| unsafe {
            authcore_policy_derive_action_name(
                c"GET".as_ptr(),
                3,
                c"service:core".as_ptr(),
                12,
                o,
                l,
                w,
                &mut found,
            )
        });
        assert_eq!((name.unwrap(), found), (String::new(), false));
        // SAFETY: valid buffers.
        let slug = text_out(|o, l, w| unsafe {
            authcore_policy_slugify_uid(c"  Tier 2 Support!".as_ptr(), 17, o, l, w)
        });
        assert_eq!(slug.unwrap(), "tier_2_support");
        // SAFETY: valid buffers.
        let bad = text_out(|o, l, w| unsafe {
            authcore_policy_sync_package_actions(c"{\"tables\":1}".as_ptr(), 12, o, l, w)
        });
        assert_eq!(bad, Err(AUTHCORE_POLICY_INVALID_REQUEST));
    }
}
