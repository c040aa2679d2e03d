//! Credential propagation as C functions: a C or C++ service joins the same mesh as the
//! Node and Python peers (wire v1 of `@naskot/node-hmac-auth-core-propagation` 1.0.0,
//! `authcore::propagation`).
//!
//! - [`authcore_propagator`] is an opaque handle made by `authcore_propagator_create` and
//!   released by `authcore_propagator_free`. Its calls block the calling thread while the
//!   core works on one lazily created, process-wide multi-thread tokio runtime (never a
//!   runtime per call, never `block_on` on a runtime thread: the work is spawned on the
//!   runtime and the caller waits on a channel).
//! - The application's side is C callbacks (structs of function pointers + `user_data`):
//!   the 8 management callbacks, a credential sink per track (a record store: get / put /
//!   delete of the credential record JSON, so the HMAC lifecycle rules stay in the core)
//!   and an optional logger. Callbacks run on tokio's blocking pool, never on a runtime
//!   worker; the logger runs on one thread per propagator.
//! - Errors are `authcore_result` codes: `AUTHCORE_PROPAGATION_*` (300..=399) for the
//!   core's `PropagationError::code()`, the HMAC codes for HMAC errors, `STORE_ERROR` for
//!   the state store. No panic crosses the boundary.

#![allow(non_camel_case_types)]

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once, OnceLock, PoisonError, RwLock, TryLockError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use authcore::hmac::ClientsConfig;
use authcore::hmac::clients::{AllowedIps, Patch, assert_client_id, normalize_secret_hash};
use authcore::hmac::record::{NamespaceKeys, parse_optional_record};
use authcore::propagation::create::{CreateOptions, Given, RedisOption, Shape, create};
use authcore::propagation::propagator::{
    CallbackError, CredentialSink, EnsureInput, FullyPropagatedInput, Management,
    PendingPropagation, PendingTarget, PropagationError, Propagator, RevokeInput, RotateInput,
    RotateUsage, SinkError, TargetErrorInput, TargetSentInput, TargetSuccessInput, UpsertInput,
};
use authcore::propagation::{Logger, wire};
use authcore::secret::ExposeSecret;

use crate::error::authcore_result::{self, *};
use crate::ffi::{FfiError, FfiResult, array, boundary, boundary_or, in_ref, out_ptr, text};
use crate::hmac::authcore_str;

// ---------------------------------------------------------------------------------------
// Result codes (300..=399)

/// Every propagation code: (code, stable name, HTTP status). The name is `PROPAGATION_` +
/// the core's `PropagationError::code()`.
const PROPAGATION_CODES: [(authcore_result, &CStr, u16); 8] = [
    (
        AUTHCORE_PROPAGATION_MANAGEMENT_NOT_CONFIGURED,
        c"PROPAGATION_MANAGEMENT_NOT_CONFIGURED",
        500,
    ),
    (
        AUTHCORE_PROPAGATION_UNKNOWN_CLIENT,
        c"PROPAGATION_UNKNOWN_CLIENT",
        500,
    ),
    (
        AUTHCORE_PROPAGATION_INVALID_OPTIONS,
        c"PROPAGATION_INVALID_OPTIONS",
        500,
    ),
    (
        AUTHCORE_PROPAGATION_INVALID_QUEUE_NAME,
        c"PROPAGATION_INVALID_QUEUE_NAME",
        500,
    ),
    (
        AUTHCORE_PROPAGATION_SYNC_ERROR,
        c"PROPAGATION_SYNC_ERROR",
        500,
    ),
    (
        AUTHCORE_PROPAGATION_CALLBACK_ERROR,
        c"PROPAGATION_CALLBACK_ERROR",
        500,
    ),
    (
        AUTHCORE_PROPAGATION_TRANSPORT_ERROR,
        c"PROPAGATION_TRANSPORT_ERROR",
        500,
    ),
    (
        AUTHCORE_PROPAGATION_RANDOM_UNAVAILABLE,
        c"PROPAGATION_RANDOM_UNAVAILABLE",
        500,
    ),
];

/// The propagation code with number `n`.
pub(crate) fn code_from_u32(n: u32) -> Option<authcore_result> {
    PROPAGATION_CODES
        .iter()
        .find(|(c, _, _)| *c as u32 == n)
        .map(|e| e.0)
}

/// The stable name of a propagation code (`None` for other codes).
pub(crate) const fn code_name(code: authcore_result) -> Option<&'static CStr> {
    let mut i = 0;
    while i < PROPAGATION_CODES.len() {
        if PROPAGATION_CODES[i].0 as u32 == code as u32 {
            return Some(PROPAGATION_CODES[i].1);
        }
        i += 1;
    }
    None
}

/// The HTTP status of a propagation code (`None` for other codes).
pub(crate) fn code_status(code: authcore_result) -> Option<u16> {
    PROPAGATION_CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|e| e.2)
}

/// The one mapping of core propagation errors.
fn prop_err(e: PropagationError) -> FfiError {
    let code = match &e {
        PropagationError::Callback(CallbackError {
            payload: Some(p), ..
        }) if p.is::<FfiError>() => {
            if let Some(f) = p.downcast_ref::<FfiError>() {
                return f.clone();
            }
            AUTHCORE_PROPAGATION_CALLBACK_ERROR
        }
        PropagationError::Hmac(h) => return h.clone().into(),
        PropagationError::Store(s) => {
            return FfiError::new(AUTHCORE_STORE_ERROR, s.to_string());
        }
        PropagationError::ManagementNotConfigured => AUTHCORE_PROPAGATION_MANAGEMENT_NOT_CONFIGURED,
        PropagationError::UnknownClient(_) => AUTHCORE_PROPAGATION_UNKNOWN_CLIENT,
        PropagationError::InvalidOptions(_) => AUTHCORE_PROPAGATION_INVALID_OPTIONS,
        PropagationError::InvalidQueueName(_) => AUTHCORE_PROPAGATION_INVALID_QUEUE_NAME,
        PropagationError::Sync(_) => AUTHCORE_PROPAGATION_SYNC_ERROR,
        PropagationError::Callback(_) => AUTHCORE_PROPAGATION_CALLBACK_ERROR,
        PropagationError::Transport(_) => AUTHCORE_PROPAGATION_TRANSPORT_ERROR,
        PropagationError::Random(_) => AUTHCORE_PROPAGATION_RANDOM_UNAVAILABLE,
        // A variant added to the core before this table learns it.
        _ => AUTHCORE_INTERNAL_ERROR,
    };
    FfiError::new(code, e.to_string())
}

/// A conversion error of this binding that the core reports in its own order (an option
/// checked after others waits for them), carried as a callback error whose payload is the
/// [`FfiError`]; [`prop_err`] gives it back.
fn ffi_deferred(e: FfiError) -> PropagationError {
    PropagationError::Callback(CallbackError {
        message: e.message.clone(),
        payload: Some(Arc::new(e)),
    })
}

/// A text option: absent when NULL or empty (C spells a missing string that way).
fn text_option(v: Option<String>) -> Given<String> {
    v.map(Given::string).unwrap_or_else(Given::absent)
}

fn invalid_options(msg: impl Into<String>) -> FfiError {
    prop_err(PropagationError::InvalidOptions(msg.into()))
}

// ---------------------------------------------------------------------------------------
// The runtime

fn runtime() -> FfiResult<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("authcore-ffi")
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| {
        FfiError::new(
            AUTHCORE_INTERNAL_ERROR,
            format!("cannot start the authcore runtime: {e}"),
        )
    })
}

/// Runs `fut` on the shared runtime and blocks the calling thread until it is done. Works
/// from any thread, a callback's included (the caller waits on a channel; it never enters
/// the runtime). A panic inside the future becomes `AUTHCORE_PANIC`.
fn run<T: Send + 'static>(
    fut: impl Future<Output = FfiResult<T>> + Send + 'static,
) -> FfiResult<T> {
    let rt = runtime()?;
    let (tx, rx) = mpsc::sync_channel(1);
    let task = rt.spawn(fut);
    rt.spawn(async move {
        let _ = tx.send(task.await);
    });
    match rx.recv() {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(FfiError::new(
            AUTHCORE_PANIC,
            format!("internal error (panic caught at the authcore C boundary): {e}"),
        )),
        Err(_) => Err(FfiError::new(
            AUTHCORE_INTERNAL_ERROR,
            "the authcore runtime dropped the call",
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Callback plumbing

/// What a callback hands back: text (copied by `authcore_propagation_reply_set_text`) or
/// an error message (`authcore_propagation_reply_set_error`). Opaque; only valid during
/// the callback that received it.
#[derive(Default)]
pub struct authcore_propagation_reply {
    text: Option<String>,
    error: Option<String>,
    invalid: Option<String>,
}

/// # Safety
/// A non-NULL `reply` must be the live reply of a running callback.
unsafe fn reply_mut<'a>(
    reply: *mut authcore_propagation_reply,
) -> FfiResult<&'a mut authcore_propagation_reply> {
    if reply.is_null() {
        return Err(FfiError::new(
            AUTHCORE_NULL_PARAMETER,
            "`reply` must not be NULL",
        ));
    }
    // SAFETY: non-NULL; validity guaranteed by the caller.
    Ok(unsafe { &mut *reply })
}

/// Hand text back from a callback (the stored record of `get_record`, the pending
/// propagations JSON of `fetch_pending_propagations`, the secret of
/// `fetch_source_propagation_secret`). The bytes are copied: the caller keeps ownership of
/// `text`. Calling it again replaces the text. Invalid UTF-8 gives `AUTHCORE_INVALID_UTF8`
/// and makes the callback fail.
///
/// # Safety
/// `reply` is the pointer the callback received, used only during that callback; `text`
/// valid for `text_len` bytes.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagation_reply_set_text(
    reply: *mut authcore_propagation_reply,
    text_ptr: *const c_char,
    text_len: usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantee: the live reply of the running callback.
        let reply = unsafe { reply_mut(reply)? };
        // SAFETY: caller guarantee.
        match unsafe { text(text_ptr, text_len, "text") } {
            Ok(s) => {
                reply.text = Some(s.to_owned());
                Ok(())
            }
            Err(e) => {
                reply.invalid = Some(e.message.clone());
                Err(e)
            }
        }
    })
}

/// Report why a callback failed (copied; the caller keeps ownership of `message`). The
/// callback must still return nonzero: the message becomes the `CALLBACK_ERROR` message
/// that `authcore_error_message` returns to whoever called `ensure`/`rotate`/… Invalid
/// UTF-8 is replaced by U+FFFD.
///
/// # Safety
/// `reply` is the pointer the callback received, used only during that callback;
/// `message` valid for `message_len` bytes.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagation_reply_set_error(
    reply: *mut authcore_propagation_reply,
    message: *const c_char,
    message_len: usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantee: the live reply of the running callback.
        let reply = unsafe { reply_mut(reply)? };
        // SAFETY: caller guarantee.
        let bytes = unsafe { crate::ffi::bytes(message.cast(), message_len, "message")? };
        reply.error = Some(String::from_utf8_lossy(bytes).into_owned());
        Ok(())
    })
}

/// A raw pointer the application promised may be used from any thread.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);
// SAFETY: documented contract: `user_data` must be usable from any thread.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

/// Whether the propagator's callbacks may still be called. `authcore_propagator_free`
/// takes the write lock (waiting for running callbacks) and clears it.
struct Gate {
    alive: RwLock<bool>,
}

fn cstring(s: &str, what: &str) -> Result<CString, CallbackError> {
    CString::new(s).map_err(|_| CallbackError::new(format!("{what} contains a NUL byte")))
}

fn cstrings(list: &[String], what: &str) -> Result<Vec<CString>, CallbackError> {
    list.iter().map(|s| cstring(s, what)).collect()
}

fn ptrs(list: &[CString]) -> Vec<*const c_char> {
    list.iter().map(|s| s.as_ptr()).collect()
}

fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Set by the library's `atexit` hook: from then on no callback into the application runs.
static EXITING: AtomicBool = AtomicBool::new(false);
/// Held (shared) by every call into the application; the exit hook takes it exclusively,
/// which waits for the calls already running.
static PROCESS_GATE: RwLock<()> = RwLock::new(());

/// Registers [`exit_hook`] once, when the first propagator is created. `atexit` handlers run
/// in reverse order, so an application teardown registered before that runs after the hook:
/// no callback of ours reaches the application's state once it is being torn down.
fn register_exit_hook() {
    // Declared here, not at module level, so that cbindgen keeps it out of the header.
    unsafe extern "C" {
        fn atexit(f: extern "C" fn()) -> c_int;
    }
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a plain function with no captured state.
        unsafe { atexit(exit_hook) };
    });
}

/// Closes the process gate: later callbacks are refused (a delivery is then requeued by the
/// broker) and this waits, at most 5 s, for those running. Called by `exit()`.
extern "C" fn exit_hook() {
    EXITING.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match PROCESS_GATE.try_write() {
            Ok(_) | Err(TryLockError::Poisoned(_)) => return,
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(TryLockError::WouldBlock) => return,
        }
    }
}

/// Runs `call` inside the process gate, or returns `None` once the process is exiting.
fn while_not_exiting<T>(call: impl FnOnce() -> T) -> Option<T> {
    let _running = PROCESS_GATE.read().unwrap_or_else(PoisonError::into_inner);
    if EXITING.load(Ordering::SeqCst) {
        return None;
    }
    Some(call())
}

/// Calls a C callback on tokio's blocking pool (never on a runtime worker) and returns the
/// text it handed back. Nonzero → `CallbackError` with the message it set.
async fn invoke(
    gate: &Arc<Gate>,
    name: &'static str,
    call: impl FnOnce(*mut authcore_propagation_reply) -> c_int + Send + 'static,
) -> Result<Option<String>, CallbackError> {
    let gate = gate.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let alive = gate.alive.read().unwrap_or_else(PoisonError::into_inner);
        if !*alive {
            return Err(CallbackError::new(format!(
                "{name}: the propagator was freed"
            )));
        }
        let mut reply = authcore_propagation_reply::default();
        let Some(rc) = while_not_exiting(|| call(&mut reply)) else {
            return Err(CallbackError::new(format!(
                "{name}: the process is exiting"
            )));
        };
        drop(alive);
        if let Some(msg) = reply.invalid {
            return Err(CallbackError::new(format!("{name}: {msg}")));
        }
        if rc != 0 {
            return Err(CallbackError::new(
                reply
                    .error
                    .unwrap_or_else(|| format!("{name} failed (returned {rc})")),
            ));
        }
        Ok(reply.text)
    })
    .await;
    joined.unwrap_or_else(|e| Err(CallbackError::new(format!("{name}: {e}"))))
}

// ---------------------------------------------------------------------------------------
// Management

/// `UpsertInput` (spec §2.4), passed to `upsert_credential_with_targets`. Every pointer is
/// owned by authcore and valid only during the callback (copy what you keep). Strings are
/// NUL-terminated UTF-8.
#[repr(C)]
pub struct authcore_upsert_input {
    /// `clientId`.
    pub client_id: *const c_char,
    /// `track`: `"http"` or `"message"`.
    pub track: *const c_char,
    /// `op`: `"credential.create"`, `"credential.update"` or `"credential.delete"`.
    pub op: *const c_char,
    /// `secretPlain`; NULL for `credential.delete` (JSON `null`).
    pub secret_plain: *const c_char,
    /// `allowedIps`: `allowed_ips_len` strings; NULL when absent (`undefined`).
    pub allowed_ips: *const *const c_char,
    /// Number of `allowed_ips`.
    pub allowed_ips_len: usize,
    /// Whether `expires_at` is set (false: `null`, or absent for `credential.delete`).
    pub has_expires_at: bool,
    /// `expiresAt` in epoch milliseconds, when `has_expires_at`.
    pub expires_at: i64,
    /// `targets`: `targets_len` logical queue names.
    pub targets: *const *const c_char,
    /// Number of `targets`.
    pub targets_len: usize,
}

/// `RotateInput`, passed to `rotate_credential_secret` (pointers valid during the call).
#[repr(C)]
pub struct authcore_rotate_input {
    /// `clientId`.
    pub client_id: *const c_char,
    /// `track`.
    pub track: *const c_char,
    /// `secretPlain`.
    pub secret_plain: *const c_char,
}

/// `TargetSentInput`, passed to `mark_target_sent` (pointers valid during the call).
#[repr(C)]
pub struct authcore_target_sent_input {
    /// `clientId`.
    pub client_id: *const c_char,
    /// `targetAmqpQueue` (the logical name).
    pub target_amqp_queue: *const c_char,
    /// `sentAt`, epoch milliseconds.
    pub sent_at: i64,
    /// `attemptCount` (always 1, as in the original).
    pub attempt_count: u32,
}

/// `TargetSuccessInput`, passed to `mark_target_success` (pointers valid during the call).
#[repr(C)]
pub struct authcore_target_success_input {
    /// `clientId`.
    pub client_id: *const c_char,
    /// `targetAmqpQueue`.
    pub target_amqp_queue: *const c_char,
    /// `appliedAt`, epoch milliseconds (when this peer handled the ACK).
    pub applied_at: i64,
}

/// `TargetErrorInput`, passed to `mark_target_error` (pointers valid during the call).
#[repr(C)]
pub struct authcore_target_error_input {
    /// `clientId`.
    pub client_id: *const c_char,
    /// `targetAmqpQueue`.
    pub target_amqp_queue: *const c_char,
    /// `reason` (`ackReason ?? "unknown"`).
    pub reason: *const c_char,
    /// `failedAt`, epoch milliseconds.
    pub failed_at: i64,
}

/// `FullyPropagatedInput`, passed to `mark_credential_fully_propagated`.
#[repr(C)]
pub struct authcore_fully_propagated_input {
    /// `clientId`.
    pub client_id: *const c_char,
    /// `finalStatus`: `"success"`, `"partial"` or `"error"`.
    pub final_status: *const c_char,
    /// `at`, epoch milliseconds.
    pub at: i64,
}

/// The 8 callbacks of `PropagatorManagement` (spec §2.4): full mode. Every callback is
/// required, returns 0 on success, or nonzero on failure (optionally after
/// `authcore_propagation_reply_set_error`): the failure is the core's `CallbackError`
/// with the original's semantics (it escapes `ensure`/`rotate`/`revoke`/`sync` as
/// `AUTHCORE_PROPAGATION_CALLBACK_ERROR` with that message; `mark_target_sent` failures
/// count the target as retrying; failures while handling an ACK are logged and swallowed).
///
/// Threading: callbacks run on authcore's blocking threads, never on the thread that
/// called `ensure`/`sync`/…, and may run **concurrently** with each other (e.g.
/// `mark_target_success` of an incoming ACK during a `sync`); they are not serialised.
/// `user_data` must be usable from any thread and stay valid until
/// `authcore_propagator_free` returns. A callback may call `authcore_propagator_ensure`,
/// `_rotate`, `_revoke` and `_sync`, but must not call `authcore_propagator_close` or
/// `_free` on its own propagator (deadlock), and must not unwind (no C++ exception or
/// `longjmp` out of it). `reply` is valid only during the call.
///
/// `fetch_pending_propagations` answers with `authcore_propagation_reply_set_text` and a
/// JSON array of `PendingPropagation` (exactly the spec's field names):
/// `[{"clientId":"…","track":"http","op":"credential.create","secretPlain":"…"|null,
/// "allowedIps":["…"]|null (optional),"expiresAt":1700000000000|null (optional),
/// "pendingTargets":[{"targetAmqpQueue":"…","propagationSecret":"…"}]}]`; no text = `[]`.
/// `fetch_source_propagation_secret` answers with the secret as text; no text = `null`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct authcore_propagation_management {
    /// Passed as the first argument of every callback.
    pub user_data: *mut c_void,
    /// `upsertCredentialWithTargets(input)` (from `ensure` and `revoke`).
    pub upsert_credential_with_targets: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            input: *const authcore_upsert_input,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
    /// `rotateCredentialSecret(input)` (from `rotate`).
    pub rotate_credential_secret: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            input: *const authcore_rotate_input,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
    /// `fetchPendingPropagations()` (once per `sync`); reply text: the JSON array above.
    pub fetch_pending_propagations: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
    /// `fetchSourcePropagationSecret(senderAmqpQueue)` (before each ACK back); reply text:
    /// the sender's secret, or none for `null`.
    pub fetch_source_propagation_secret: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            sender_amqp_queue: *const c_char,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
    /// `markTargetSent(input)` (in `sync`, after a confirmed publish).
    pub mark_target_sent: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            input: *const authcore_target_sent_input,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
    /// `markTargetSuccess(input)` (an `applied` ACK).
    pub mark_target_success: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            input: *const authcore_target_success_input,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
    /// `markTargetError(input)` (an `error` ACK).
    pub mark_target_error: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            input: *const authcore_target_error_input,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
    /// `markCredentialFullyPropagated(input)` (the last ACK of a client).
    pub mark_credential_fully_propagated: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            input: *const authcore_fully_propagated_input,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
}

/// A checked copy of the management callbacks.
#[derive(Clone, Copy)]
struct MgmtFns(authcore_propagation_management);
// SAFETY: function pointers are thread-safe; `user_data` is documented as usable from any
// thread.
unsafe impl Send for MgmtFns {}
// SAFETY: as above.
unsafe impl Sync for MgmtFns {}

struct CManagement {
    fns: MgmtFns,
    gate: Arc<Gate>,
}

/// Unwraps a callback checked at creation.
macro_rules! cb {
    ($fns:expr, $name:ident) => {
        $fns.0
            .$name
            .expect(concat!(stringify!($name), " checked at creation"))
    };
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PendingJson {
    client_id: String,
    track: String,
    op: String,
    #[serde(default)]
    secret_plain: Option<String>,
    #[serde(default)]
    allowed_ips: Option<Vec<String>>,
    #[serde(default)]
    expires_at: Option<i64>,
    pending_targets: Vec<PendingTargetJson>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PendingTargetJson {
    target_amqp_queue: String,
    propagation_secret: String,
}

#[async_trait]
impl Management for CManagement {
    async fn upsert_credential_with_targets(&self, i: UpsertInput) -> Result<(), CallbackError> {
        let f = cb!(self.fns, upsert_credential_with_targets);
        let ud = UserData(self.fns.0.user_data);
        let client_id = cstring(&i.client_id, "clientId")?;
        let track = cstring(&i.track, "track")?;
        let op = cstring(&i.op, "op")?;
        let secret = i
            .secret_plain
            .as_deref()
            .map(|s| cstring(s, "secretPlain"))
            .transpose()?;
        let ips = i
            .allowed_ips
            .as_deref()
            .map(|l| cstrings(l, "allowedIps"))
            .transpose()?;
        let targets = cstrings(&i.targets, "targets")?;
        let expires_at = i.expires_at;
        invoke(&self.gate, "upsert_credential_with_targets", move |reply| {
            let ip_ptrs = ips.as_deref().map(ptrs);
            let target_ptrs = ptrs(&targets);
            let input = authcore_upsert_input {
                client_id: client_id.as_ptr(),
                track: track.as_ptr(),
                op: op.as_ptr(),
                secret_plain: opt_ptr(&secret),
                allowed_ips: ip_ptrs.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
                allowed_ips_len: ip_ptrs.as_ref().map_or(0, Vec::len),
                has_expires_at: expires_at.is_some(),
                expires_at: expires_at.unwrap_or(0),
                targets: target_ptrs.as_ptr(),
                targets_len: target_ptrs.len(),
            };
            let ud = ud;
            // SAFETY: a callback the application registered, with pointers valid for the call.
            unsafe { f(ud.0, &input, reply) }
        })
        .await
        .map(drop)
    }

    async fn rotate_credential_secret(&self, i: RotateInput) -> Result<(), CallbackError> {
        let f = cb!(self.fns, rotate_credential_secret);
        let ud = UserData(self.fns.0.user_data);
        let client_id = cstring(&i.client_id, "clientId")?;
        let track = cstring(&i.track, "track")?;
        let secret = cstring(&i.secret_plain, "secretPlain")?;
        invoke(&self.gate, "rotate_credential_secret", move |reply| {
            let input = authcore_rotate_input {
                client_id: client_id.as_ptr(),
                track: track.as_ptr(),
                secret_plain: secret.as_ptr(),
            };
            let ud = ud;
            // SAFETY: as above.
            unsafe { f(ud.0, &input, reply) }
        })
        .await
        .map(drop)
    }

    async fn fetch_pending_propagations(&self) -> Result<Vec<PendingPropagation>, CallbackError> {
        let f = cb!(self.fns, fetch_pending_propagations);
        let ud = UserData(self.fns.0.user_data);
        let text = invoke(&self.gate, "fetch_pending_propagations", move |reply| {
            let ud = ud;
            // SAFETY: as above.
            unsafe { f(ud.0, reply) }
        })
        .await?;
        let Some(text) = text else {
            return Ok(Vec::new());
        };
        let list: Vec<PendingJson> = serde_json::from_str(&text).map_err(|e| {
            CallbackError::new(format!(
                "fetch_pending_propagations: the reply is not a JSON array of PendingPropagation: {e}"
            ))
        })?;
        Ok(list
            .into_iter()
            .map(|p| PendingPropagation {
                client_id: p.client_id,
                track: p.track,
                op: p.op,
                secret_plain: p.secret_plain,
                allowed_ips: p.allowed_ips,
                expires_at: p.expires_at,
                pending_targets: p
                    .pending_targets
                    .into_iter()
                    .map(|t| PendingTarget {
                        target_amqp_queue: t.target_amqp_queue,
                        propagation_secret: t.propagation_secret,
                    })
                    .collect(),
            })
            .collect())
    }

    async fn fetch_source_propagation_secret(
        &self,
        sender_amqp_queue: &str,
    ) -> Result<Option<String>, CallbackError> {
        let f = cb!(self.fns, fetch_source_propagation_secret);
        let ud = UserData(self.fns.0.user_data);
        let sender = cstring(sender_amqp_queue, "senderAmqpQueue")?;
        invoke(
            &self.gate,
            "fetch_source_propagation_secret",
            move |reply| {
                let ud = ud;
                // SAFETY: as above.
                unsafe { f(ud.0, sender.as_ptr(), reply) }
            },
        )
        .await
    }

    async fn mark_target_sent(&self, i: TargetSentInput) -> Result<(), CallbackError> {
        let f = cb!(self.fns, mark_target_sent);
        let ud = UserData(self.fns.0.user_data);
        let client_id = cstring(&i.client_id, "clientId")?;
        let target = cstring(&i.target_amqp_queue, "targetAmqpQueue")?;
        invoke(&self.gate, "mark_target_sent", move |reply| {
            let input = authcore_target_sent_input {
                client_id: client_id.as_ptr(),
                target_amqp_queue: target.as_ptr(),
                sent_at: i.sent_at,
                attempt_count: i.attempt_count,
            };
            let ud = ud;
            // SAFETY: as above.
            unsafe { f(ud.0, &input, reply) }
        })
        .await
        .map(drop)
    }

    async fn mark_target_success(&self, i: TargetSuccessInput) -> Result<(), CallbackError> {
        let f = cb!(self.fns, mark_target_success);
        let ud = UserData(self.fns.0.user_data);
        let client_id = cstring(&i.client_id, "clientId")?;
        let target = cstring(&i.target_amqp_queue, "targetAmqpQueue")?;
        invoke(&self.gate, "mark_target_success", move |reply| {
            let input = authcore_target_success_input {
                client_id: client_id.as_ptr(),
                target_amqp_queue: target.as_ptr(),
                applied_at: i.applied_at,
            };
            let ud = ud;
            // SAFETY: as above.
            unsafe { f(ud.0, &input, reply) }
        })
        .await
        .map(drop)
    }

    async fn mark_target_error(&self, i: TargetErrorInput) -> Result<(), CallbackError> {
        let f = cb!(self.fns, mark_target_error);
        let ud = UserData(self.fns.0.user_data);
        let client_id = cstring(&i.client_id, "clientId")?;
        let target = cstring(&i.target_amqp_queue, "targetAmqpQueue")?;
        let reason = cstring(&i.reason, "reason")?;
        invoke(&self.gate, "mark_target_error", move |reply| {
            let input = authcore_target_error_input {
                client_id: client_id.as_ptr(),
                target_amqp_queue: target.as_ptr(),
                reason: reason.as_ptr(),
                failed_at: i.failed_at,
            };
            let ud = ud;
            // SAFETY: as above.
            unsafe { f(ud.0, &input, reply) }
        })
        .await
        .map(drop)
    }

    async fn mark_credential_fully_propagated(
        &self,
        i: FullyPropagatedInput,
    ) -> Result<(), CallbackError> {
        let f = cb!(self.fns, mark_credential_fully_propagated);
        let ud = UserData(self.fns.0.user_data);
        let client_id = cstring(&i.client_id, "clientId")?;
        let status = cstring(&i.final_status, "finalStatus")?;
        invoke(
            &self.gate,
            "mark_credential_fully_propagated",
            move |reply| {
                let input = authcore_fully_propagated_input {
                    client_id: client_id.as_ptr(),
                    final_status: status.as_ptr(),
                    at: i.at,
                };
                let ud = ud;
                // SAFETY: as above.
                unsafe { f(ud.0, &input, reply) }
            },
        )
        .await
        .map(drop)
    }
}

// ---------------------------------------------------------------------------------------
// Credential sink

/// Where a track's credentials are applied (`hmacHttpAuth` / `hmacMessageAuth` of the
/// original): a store of credential records, one per client id, that the application
/// owns. authcore runs the core's `clients.get` / `setSecretHash` / `delete` rules on top
/// of it (trim + lowercase of the hash, `expiresAt` and `allowedIps` kept when an event
/// has none, IP rules validated, `createdAt` kept), so the application only stores bytes.
///
/// The record is the original's Redis value,
/// `{"secretHash":"…","createdAt":…,"updatedAt":…,"expiresAt":…|null,"allowedIps":[…]}`,
/// which `authcore_verify_with_record` takes as `request->record` as is.
///
/// Callbacks return 0 on success, nonzero on failure (optionally with
/// `authcore_propagation_reply_set_error`); a failure is transient for the core (an
/// inbound event is requeued; `ensure`/`rotate`/`sync` fail with
/// `AUTHCORE_PROPAGATION_CALLBACK_ERROR`). Threading, `user_data` lifetime and re-entrancy
/// rules are those of `authcore_propagation_management`. String arguments are
/// NUL-terminated UTF-8 owned by authcore, valid during the call.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct authcore_credential_sink {
    /// Passed as the first argument of every callback.
    pub user_data: *mut c_void,
    /// The instance's `secretToken` (pepper) used to hash plain secrets in `ensure`,
    /// `rotate` and `sync`; `ptr` NULL = none (plain SHA-256). Copied at creation.
    pub secret_token: authcore_str,
    /// `clients.get`: hand the stored record back with `authcore_propagation_reply_set_text`,
    /// or set nothing when the client does not exist.
    pub get_record: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            client_id: *const c_char,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
    /// Store `record_json` for `client_id` (insert or replace).
    pub put_record: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            client_id: *const c_char,
            record_json: *const c_char,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
    /// `clients.delete`: remove the record (success when it does not exist).
    pub delete_record: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            client_id: *const c_char,
            reply: *mut authcore_propagation_reply,
        ) -> c_int,
    >,
}

#[derive(Clone, Copy)]
struct SinkFns(authcore_credential_sink);
// SAFETY: as for `MgmtFns` (`secret_token` is not read after creation).
unsafe impl Send for SinkFns {}
// SAFETY: as above.
unsafe impl Sync for SinkFns {}

struct CSink {
    fns: SinkFns,
    cfg: ClientsConfig,
    gate: Arc<Gate>,
}

impl CSink {
    async fn get(&self, client_id: &str) -> Result<Option<String>, SinkError> {
        let f = cb!(self.fns, get_record);
        let ud = UserData(self.fns.0.user_data);
        let id = cstring(client_id, "clientId").map_err(SinkError::Callback)?;
        invoke(&self.gate, "get_record", move |reply| {
            let ud = ud;
            // SAFETY: as above.
            unsafe { f(ud.0, id.as_ptr(), reply) }
        })
        .await
        .map_err(SinkError::Callback)
    }
}

fn ips_patch(ips: Option<Vec<String>>) -> AllowedIps {
    AllowedIps::from_optional(ips)
}

#[async_trait]
impl CredentialSink for CSink {
    async fn exists(&self, client_id: &str) -> Result<bool, SinkError> {
        assert_client_id(client_id)?;
        Ok(parse_optional_record(self.get(client_id).await?.as_deref()).is_some())
    }

    async fn set_secret_hash(
        &self,
        client_id: &str,
        secret_hash: &str,
        expires_at: Option<f64>,
        allowed_ips: Option<Vec<String>>,
    ) -> Result<(), SinkError> {
        assert_client_id(client_id)?;
        let existing = parse_optional_record(self.get(client_id).await?.as_deref());
        let expiry = match expires_at {
            Some(v) => Patch::Set(v),
            None => Patch::Keep,
        };
        let plan = self.cfg.plan_set_hash(
            existing.as_ref(),
            normalize_secret_hash(secret_hash),
            &expiry,
            &ips_patch(allowed_ips),
            authcore::hmac::verify::now_ms(),
        )?;
        let f = cb!(self.fns, put_record);
        let ud = UserData(self.fns.0.user_data);
        let id = cstring(client_id, "clientId").map_err(SinkError::Callback)?;
        let json = cstring(&plan.record.to_json(), "record").map_err(SinkError::Callback)?;
        invoke(&self.gate, "put_record", move |reply| {
            let ud = ud;
            // SAFETY: as above.
            unsafe { f(ud.0, id.as_ptr(), json.as_ptr(), reply) }
        })
        .await
        .map(drop)
        .map_err(SinkError::Callback)
    }

    async fn delete(&self, client_id: &str) -> Result<(), SinkError> {
        assert_client_id(client_id)?;
        let f = cb!(self.fns, delete_record);
        let ud = UserData(self.fns.0.user_data);
        let id = cstring(client_id, "clientId").map_err(SinkError::Callback)?;
        invoke(&self.gate, "delete_record", move |reply| {
            let ud = ud;
            // SAFETY: as above.
            unsafe { f(ud.0, id.as_ptr(), reply) }
        })
        .await
        .map(drop)
        .map_err(SinkError::Callback)
    }

    fn secret_token(&self) -> Option<&str> {
        self.cfg.secret_token.as_ref().map(|t| t.expose_secret())
    }
}

// ---------------------------------------------------------------------------------------
// Logger

/// `authcore_logger.log` level of an informational line.
pub const AUTHCORE_LOG_INFO: c_int = 0;
/// `authcore_logger.log` level of a warning.
pub const AUTHCORE_LOG_WARN: c_int = 1;
/// `authcore_logger.log` level of an error.
pub const AUTHCORE_LOG_ERROR: c_int = 2;

/// The optional `{info, warn, error}` logger. `log` receives `AUTHCORE_LOG_INFO`,
/// `AUTHCORE_LOG_WARN` or `AUTHCORE_LOG_ERROR` and one line (NUL-terminated UTF-8,
/// prefixed `[propagation]`, never a secret; owned by authcore, valid during the call).
/// Calls are serialised, in order, on one thread per propagator (never a runtime worker);
/// the last one returns before `authcore_propagator_free` does. `user_data` must be usable
/// from that thread and stay valid until `authcore_propagator_free` returns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct authcore_logger {
    /// Passed as the first argument of `log`.
    pub user_data: *mut c_void,
    /// Receives each line (NULL: lines are dropped).
    pub log:
        Option<unsafe extern "C" fn(user_data: *mut c_void, level: c_int, line: *const c_char)>,
}

struct CLogger {
    tx: Mutex<Option<mpsc::Sender<(c_int, String)>>>,
}

impl CLogger {
    fn send(&self, level: c_int, msg: &str) {
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = tx.as_ref() {
            let _ = tx.send((level, msg.to_owned()));
        }
    }
}

impl Logger for CLogger {
    fn info(&self, msg: &str) {
        self.send(AUTHCORE_LOG_INFO, msg);
    }
    fn warn(&self, msg: &str) {
        self.send(AUTHCORE_LOG_WARN, msg);
    }
    fn error(&self, msg: &str) {
        self.send(AUTHCORE_LOG_ERROR, msg);
    }
}

#[derive(Clone, Copy)]
struct LogFn(
    unsafe extern "C" fn(*mut c_void, c_int, *const c_char),
    UserData,
);

fn start_logger(l: &authcore_logger) -> FfiResult<(Arc<CLogger>, std::thread::JoinHandle<()>)> {
    let f = LogFn(l.log.expect("checked by the caller"), UserData(l.user_data));
    let (tx, rx) = mpsc::channel::<(c_int, String)>();
    let handle = std::thread::Builder::new()
        .name("authcore-log".into())
        .spawn(move || {
            let f = f;
            for (level, line) in rx {
                let line = CString::new(line.replace('\0', "\u{FFFD}")).unwrap_or_default();
                // SAFETY: the application's logger, with a line valid for the call.
                let _ = while_not_exiting(|| unsafe { (f.0)(f.1.0, level, line.as_ptr()) });
            }
        })
        .map_err(|e| {
            FfiError::new(
                AUTHCORE_INTERNAL_ERROR,
                format!("cannot start the logger thread: {e}"),
            )
        })?;
    Ok((
        Arc::new(CLogger {
            tx: Mutex::new(Some(tx)),
        }),
        handle,
    ))
}

// ---------------------------------------------------------------------------------------
// The propagator

/// `createPropagator` options. Strings are pointer + length (UTF-8, not NUL-terminated,
/// copied during the call). A NULL or empty required string, or `amqp_port == 0`, is
/// absent: `AUTHCORE_PROPAGATION_INVALID_OPTIONS` with the original's message
/// (`amqpHost is required`, … checked in the original's order).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct authcore_propagation_config {
    /// `amqpHost`; with `amqp_protocol` `"memory"`, the name of a process-wide in-process
    /// mesh (every propagator of this process with the same name is one mesh).
    pub amqp_host: authcore_str,
    /// `amqpPort` (1..=65535; 0 = absent).
    pub amqp_port: u32,
    /// `amqpUser`.
    pub amqp_user: authcore_str,
    /// `amqpPassword`.
    pub amqp_password: authcore_str,
    /// `amqpProtocol`: `"amqp"`, `"amqps"`, or `"memory"` (the in-process mesh).
    pub amqp_protocol: authcore_str,
    /// `amqpVhost`; `ptr` NULL = `"hmac-credentials"`.
    pub amqp_vhost: authcore_str,
    /// `amqpQueue`: this peer's logical name (`[A-Za-z0-9-]+`); its queue is
    /// `hmac-<amqp_queue>.queue`.
    pub amqp_queue: authcore_str,
    /// `propagationSecret`: this peer's own secret, checked on every inbound event.
    pub propagation_secret: authcore_str,
    /// `redis`: where the cursor and ack store live: `memory://` (this propagator only) or
    /// a Redis URL (`redis://host:port/db`, `rediss://`, `unix://`).
    pub redis: authcore_str,
}

/// The result of `sync()` (`SyncSummary`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct authcore_sync_summary {
    /// `propagationsRead`: pending propagations read (clients, not targets).
    pub propagations_read: u32,
    /// `targetsPublished`.
    pub targets_published: u32,
    /// `targetsRetrying`.
    pub targets_retrying: u32,
    /// `durationMs`.
    pub duration_ms: u64,
}

/// `ensure(input)` arguments (`EnsureInput`). Strings are pointer + length, copied during
/// the call.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct authcore_ensure_input {
    /// `clientId` (required).
    pub client_id: authcore_str,
    /// `secret`: the plain secret (required).
    pub secret: authcore_str,
    /// `targets`: logical queue names (NULL with `targets_len` 0 = none).
    pub targets: *const authcore_str,
    /// Number of `targets`.
    pub targets_len: usize,
    /// `track`; `ptr` NULL = `"http"`.
    pub track: authcore_str,
    /// `allowedIps`; NULL = absent (the stored list is kept), non-NULL with
    /// `allowed_ips_len` 0 = an empty list.
    pub allowed_ips: *const authcore_str,
    /// Number of `allowed_ips`.
    pub allowed_ips_len: usize,
    /// Whether `expires_at` is set (false = `null`: the stored expiry is kept).
    pub has_expires_at: bool,
    /// `expiresAt`, epoch milliseconds.
    pub expires_at: i64,
}

/// A running propagator (`Propagator` of the original). Opaque: made by
/// `authcore_propagator_create`, released by `authcore_propagator_free`. Its functions may
/// be called from any thread, concurrently (two concurrent `sync` calls publish the same
/// pending rows twice, as in the original).
pub struct authcore_propagator {
    inner: Option<Arc<Propagator>>,
    gate: Arc<Gate>,
    logger: Option<Arc<CLogger>>,
    log_thread: Option<std::thread::JoinHandle<()>>,
}

impl authcore_propagator {
    fn core(&self) -> FfiResult<Arc<Propagator>> {
        self.inner
            .clone()
            .ok_or_else(|| FfiError::new(AUTHCORE_INTERNAL_ERROR, "the propagator was released"))
    }

    /// Closes the core (waiting for the delivery in hand), stops callbacks and the logger.
    fn shutdown(&mut self) {
        if let Some(inner) = self.inner.take() {
            let _ = run(async move {
                inner.close().await;
                drop(inner);
                Ok(())
            });
        }
        *self
            .gate
            .alive
            .write()
            .unwrap_or_else(PoisonError::into_inner) = false;
        if let Some(l) = self.logger.take() {
            l.tx.lock().unwrap_or_else(PoisonError::into_inner).take();
        }
        if let Some(t) = self.log_thread.take() {
            let _ = t.join();
        }
    }
}

/// # Safety
/// A non-NULL `p` must be a live propagator.
unsafe fn propagator_ref<'a>(p: *const authcore_propagator) -> FfiResult<&'a authcore_propagator> {
    // SAFETY: forwarded caller guarantee.
    unsafe { in_ref(p, "propagator") }
}

/// A config string: `None` when NULL or empty (JavaScript truthiness).
///
/// # Safety
/// A non-NULL `s.ptr` must be valid for `s.len` bytes.
unsafe fn cfg_str(s: &authcore_str, name: &str) -> FfiResult<Option<String>> {
    if s.ptr.is_null() || s.len == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded caller guarantee.
    Ok(Some(unsafe { text(s.ptr, s.len, name) }?.to_owned()))
}

/// # Safety
/// A non-NULL `list` must be valid for `len` elements whose strings are valid.
unsafe fn str_list(list: *const authcore_str, len: usize, name: &str) -> FfiResult<Vec<String>> {
    // SAFETY: forwarded caller guarantee.
    let items = unsafe { array(list, len, name)? };
    items
        .iter()
        .map(|s| {
            // SAFETY: forwarded caller guarantee.
            unsafe { text(s.ptr, s.len, name) }.map(str::to_owned)
        })
        .collect()
}

/// # Safety
/// A non-NULL `s.ptr` must be valid for `s.len` bytes.
unsafe fn opt_track(s: &authcore_str) -> FfiResult<Option<String>> {
    // SAFETY: forwarded caller guarantee.
    Ok(unsafe { crate::ffi::opt_text(s.ptr, s.len, "track")? }.map(str::to_owned))
}

const MANAGEMENT_NAMES: [&str; 8] = [
    "upsert_credential_with_targets",
    "rotate_credential_secret",
    "fetch_pending_propagations",
    "fetch_source_propagation_secret",
    "mark_target_sent",
    "mark_target_success",
    "mark_target_error",
    "mark_credential_fully_propagated",
];

fn check_management(m: &authcore_propagation_management) -> FfiResult {
    let present = [
        m.upsert_credential_with_targets.is_some(),
        m.rotate_credential_secret.is_some(),
        m.fetch_pending_propagations.is_some(),
        m.fetch_source_propagation_secret.is_some(),
        m.mark_target_sent.is_some(),
        m.mark_target_success.is_some(),
        m.mark_target_error.is_some(),
        m.mark_credential_fully_propagated.is_some(),
    ];
    match present.iter().position(|p| !p) {
        Some(i) => Err(invalid_options(format!(
            "management.{} must be a function",
            MANAGEMENT_NAMES[i]
        ))),
        None => Ok(()),
    }
}

/// # Safety
/// `s.secret_token` valid for its length when non-NULL.
unsafe fn make_sink(
    s: &authcore_credential_sink,
    what: &str,
    gate: &Arc<Gate>,
) -> FfiResult<Arc<dyn CredentialSink>> {
    for (ok, name) in [
        (s.get_record.is_some(), "get_record"),
        (s.put_record.is_some(), "put_record"),
        (s.delete_record.is_some(), "delete_record"),
    ] {
        if !ok {
            return Err(invalid_options(format!("{what}.{name} must be a function")));
        }
    }
    // SAFETY: forwarded caller guarantee.
    let token = unsafe {
        crate::ffi::opt_text(
            s.secret_token.ptr,
            s.secret_token.len,
            &format!("{what}.secret_token"),
        )?
    }
    .map(|t| t.to_owned().into());
    let cfg = ClientsConfig {
        keys: NamespaceKeys::new(None).map_err(FfiError::from)?,
        secret_token: token,
        default_secret_length_bytes: 32.0,
        backup_ttl_seconds: authcore::hmac::record::DEFAULT_BACKUP_TTL_SECONDS,
    };
    Ok(Arc::new(CSink {
        fns: SinkFns(*s),
        cfg,
        gate: gate.clone(),
    }))
}

/// `createPropagator(options)`: check the options (the original's order and messages),
/// open the state store (`config->redis`), link to the broker and start consuming this
/// peer's queue. Like the original, an unreachable RabbitMQ does not fail: the link
/// retries in the background and `sync` counts targets as retrying meanwhile.
///
/// - `management`: NULL = receive-only (`ensure`/`rotate`/`revoke`/`sync` then fail with
///   `AUTHCORE_PROPAGATION_MANAGEMENT_NOT_CONFIGURED`); otherwise all 8 callbacks are
///   required.
/// - `http` / `message`: the credential sinks of tracks `"http"` and `"message"` (the
///   original's `hmacHttpAuth` / `hmacMessageAuth`); at least one is required.
/// - `logger`: NULL (or a NULL `log`) = lines are dropped.
///
/// The structs are copied during the call (the caller may free them afterwards); the
/// `user_data` pointers and callbacks they hold must stay valid until
/// `authcore_propagator_free` returns.
///
/// Errors: `AUTHCORE_PROPAGATION_INVALID_OPTIONS` (missing option, bad protocol or port,
/// missing callback), `AUTHCORE_PROPAGATION_INVALID_QUEUE_NAME`, `AUTHCORE_STORE_ERROR`
/// (the Redis state cannot be reached), `AUTHCORE_INVALID_UTF8`,
/// `AUTHCORE_NULL_PARAMETER`. `*out` is set to NULL on failure and to a new propagator on
/// success, which the caller owns and releases with `authcore_propagator_free`.
///
/// # Safety
/// `config` valid with valid strings; `management`, `http`, `message`, `logger` NULL or
/// valid; `out` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagator_create(
    config: *const authcore_propagation_config,
    management: *const authcore_propagation_management,
    http: *const authcore_credential_sink,
    message: *const authcore_credential_sink,
    logger: *const authcore_logger,
    out: *mut *mut authcore_propagator,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        let out = unsafe { out_ptr(out, "out")? };
        out.set(std::ptr::null_mut());
        // SAFETY: caller guarantee.
        let c = unsafe { in_ref(config, "config")? };
        // SAFETY: caller guarantee for every string of the config.
        let (host, user, password, protocol, queue, secret, redis) = unsafe {
            (
                cfg_str(&c.amqp_host, "config->amqp_host")?,
                cfg_str(&c.amqp_user, "config->amqp_user")?,
                cfg_str(&c.amqp_password, "config->amqp_password")?,
                cfg_str(&c.amqp_protocol, "config->amqp_protocol")?,
                cfg_str(&c.amqp_queue, "config->amqp_queue")?,
                cfg_str(&c.propagation_secret, "config->propagation_secret")?,
                cfg_str(&c.redis, "config->redis")?,
            )
        };
        // SAFETY: caller guarantee.
        let vhost = unsafe {
            crate::ffi::opt_text(c.amqp_vhost.ptr, c.amqp_vhost.len, "config->amqp_vhost")?
        }
        .map(str::to_owned);
        register_exit_hook();
        let gate = Arc::new(Gate {
            alive: RwLock::new(true),
        });
        let management = if management.is_null() {
            Given::absent()
        } else {
            // SAFETY: caller guarantee.
            let m = unsafe { in_ref(management, "management")? };
            Given::new(
                Shape::Object,
                check_management(m).map_err(ffi_deferred).map(|()| {
                    Arc::new(CManagement {
                        fns: MgmtFns(*m),
                        gate: gate.clone(),
                    }) as Arc<dyn Management>
                }),
            )
        };
        let sink = |s: *const authcore_credential_sink, what: &str| -> FfiResult<_> {
            if s.is_null() {
                return Ok(Given::absent());
            }
            // SAFETY: caller guarantee.
            let made = unsafe { make_sink(in_ref(s, what)?, what, &gate) };
            Ok(Given::new(Shape::Object, made.map_err(ffi_deferred)))
        };
        let http = sink(http, "http")?;
        let message = sink(message, "message")?;
        let log_cfg = if logger.is_null() {
            None
        } else {
            // SAFETY: caller guarantee.
            Some(*unsafe { in_ref(logger, "logger")? })
        };
        let (clog, log_thread) = match log_cfg {
            Some(l) if l.log.is_some() => {
                let (c, t) = start_logger(&l)?;
                (Some(c), Some(t))
            }
            _ => (None, None),
        };
        let options = CreateOptions {
            amqp_host: text_option(host),
            amqp_port: Given::number(f64::from(c.amqp_port)),
            amqp_user: text_option(user),
            amqp_password: text_option(password),
            amqp_protocol: text_option(protocol),
            amqp_vhost: text_option(vhost),
            amqp_queue: text_option(queue),
            propagation_secret: text_option(secret),
            redis: text_option(redis).map(RedisOption::Url),
            hmac_http_auth: http,
            hmac_message_auth: message,
            management,
            logger: match &clog {
                Some(c) => Given::new(Shape::Object, Ok(c.clone() as Arc<dyn Logger>)),
                None => Given::absent(),
            },
            event_auth: Default::default(),
        };
        let mut handle = authcore_propagator {
            inner: None,
            gate,
            logger: clog,
            log_thread,
        };
        let created = run(async move {
            create(options)
                .await
                .map(|c| c.propagator)
                .map_err(prop_err)
        });
        match created {
            Ok(p) => {
                handle.inner = Some(Arc::new(p));
                out.set(Box::into_raw(Box::new(handle)));
                Ok(())
            }
            Err(e) => {
                handle.shutdown();
                Err(e)
            }
        }
    })
}

/// `ensure(input)`: `upsertCredentialWithTargets`, then the credential is applied locally
/// at once (through the track's sink). Never publishes (`sync` does). `*out_created`
/// (optional, may be NULL) is true for `credential.create` (the client was not in the
/// local store), false for `credential.update`.
///
/// Errors: `AUTHCORE_PROPAGATION_MANAGEMENT_NOT_CONFIGURED` (receive-only),
/// `AUTHCORE_PROPAGATION_INVALID_OPTIONS` (no sink for the track),
/// `AUTHCORE_PROPAGATION_CALLBACK_ERROR` (a callback failed: its message),
/// `AUTHCORE_MISSING_CLIENT_ID`, `AUTHCORE_INVALID_ARGUMENT` (e.g. an invalid IP rule).
///
/// # Safety
/// `propagator` live; `input` valid with valid strings and arrays; `out_created` NULL or
/// writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagator_ensure(
    propagator: *const authcore_propagator,
    input: *const authcore_ensure_input,
    out_created: *mut bool,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        let (p, i) = unsafe { (propagator_ref(propagator)?, in_ref(input, "input")?) };
        let created = if out_created.is_null() {
            None
        } else {
            // SAFETY: caller guarantee.
            Some(unsafe { out_ptr(out_created, "out_created")? })
        };
        // SAFETY: caller guarantee for the strings and arrays of `input`.
        let input = unsafe {
            EnsureInput {
                client_id: text(i.client_id.ptr, i.client_id.len, "input->client_id")?.to_owned(),
                secret: text(i.secret.ptr, i.secret.len, "input->secret")?.to_owned(),
                targets: str_list(i.targets, i.targets_len, "input->targets")?,
                track: opt_track(&i.track)?,
                allowed_ips: if i.allowed_ips.is_null() {
                    None
                } else {
                    Some(str_list(
                        i.allowed_ips,
                        i.allowed_ips_len,
                        "input->allowed_ips",
                    )?)
                },
                expires_at: i.has_expires_at.then_some(i.expires_at),
            }
        };
        let core = p.core()?;
        let r = run(async move { core.ensure(input).await.map_err(prop_err) })?;
        if let Some(c) = created {
            c.set(r.op == wire::OP_CREATE);
        }
        Ok(())
    })
}

/// `rotate({clientId, secret, track})`: `AUTHCORE_PROPAGATION_UNKNOWN_CLIENT` unless the
/// client exists in the track's local store; then `rotateCredentialSecret` and the new
/// hash applied locally. `track` NULL = `"http"`. Other errors as `authcore_propagator_ensure`.
///
/// # Safety
/// `propagator` live; `client_id`, `secret` valid for their lengths; `track` NULL or valid
/// for `track_len` bytes.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagator_rotate(
    propagator: *const authcore_propagator,
    client_id: *const c_char,
    client_id_len: usize,
    secret: *const c_char,
    secret_len: usize,
    track: *const c_char,
    track_len: usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        let (p, input) = unsafe {
            (
                propagator_ref(propagator)?,
                RotateUsage {
                    client_id: text(client_id, client_id_len, "client_id")?.to_owned(),
                    secret: text(secret, secret_len, "secret")?.to_owned(),
                    track: crate::ffi::opt_text(track, track_len, "track")?.map(str::to_owned),
                },
            )
        };
        let core = p.core()?;
        run(async move { core.rotate(input).await.map(drop).map_err(prop_err) })
    })
}

/// `revoke({clientId, targets, track})`: `upsertCredentialWithTargets` with
/// `credential.delete` and the listed targets, then the local delete (when this peer has
/// the track's sink); `sync` publishes the deletes. `targets` NULL with `targets_len` 0 =
/// none; `track` NULL = `"http"`.
///
/// # Safety
/// `propagator` live; `client_id` valid for `client_id_len` bytes; `targets` NULL or
/// valid for `targets_len` elements with valid strings; `track` NULL or valid.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagator_revoke(
    propagator: *const authcore_propagator,
    client_id: *const c_char,
    client_id_len: usize,
    targets: *const authcore_str,
    targets_len: usize,
    track: *const c_char,
    track_len: usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        let (p, input) = unsafe {
            (
                propagator_ref(propagator)?,
                RevokeInput {
                    client_id: text(client_id, client_id_len, "client_id")?.to_owned(),
                    targets: str_list(targets, targets_len, "targets")?,
                    track: crate::ffi::opt_text(track, track_len, "track")?.map(str::to_owned),
                },
            )
        };
        let core = p.core()?;
        run(async move { core.revoke(input).await.map(drop).map_err(prop_err) })
    })
}

/// `sync()`: for every pending propagation (`fetch_pending_propagations`), apply locally,
/// record and publish one apply event per pending target, `mark_target_sent` for each
/// confirmed publish. Writes the summary into `*out` (zeroed on failure). Errors:
/// `MANAGEMENT_NOT_CONFIGURED`, `CALLBACK_ERROR` (`fetch_pending_propagations` or a local
/// apply failed, or its reply is not the documented JSON), `SYNC_ERROR` (no sink for a
/// track, a null plain secret on a non-delete op).
///
/// # Safety
/// `propagator` live; `out` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagator_sync(
    propagator: *const authcore_propagator,
    out: *mut authcore_sync_summary,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        let (p, out) = unsafe { (propagator_ref(propagator)?, out_ptr(out, "out")?) };
        out.set(authcore_sync_summary::default());
        let core = p.core()?;
        let s = run(async move { core.sync().await.map_err(prop_err) })?;
        out.set(authcore_sync_summary {
            propagations_read: s.propagations_read,
            targets_published: s.targets_published,
            targets_retrying: s.targets_retrying,
            duration_ms: s.duration_ms,
        });
        Ok(())
    })
}

/// `close()`: stops consuming (after the delivery being handled, whose callbacks finish
/// first) and closes the broker link. The other functions stay callable: publishes then
/// fail and `sync` counts targets as retrying. Idempotent. Must not be called from a
/// callback of the same propagator.
///
/// # Safety
/// `propagator` live.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagator_close(
    propagator: *const authcore_propagator,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantee.
        let p = unsafe { propagator_ref(propagator)? };
        let core = p.core()?;
        run(async move {
            core.close().await;
            Ok(())
        })
    })
}

/// Close (as `authcore_propagator_close`) and release a propagator. When it returns, no
/// callback or logger call of this propagator is running or will run, so `user_data` may
/// be freed. NULL is ignored. Not from a callback of the same propagator, not twice, and
/// not while another thread uses the propagator.
///
/// # Safety
/// `propagator` NULL or a live propagator from `authcore_propagator_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagator_free(propagator: *mut authcore_propagator) {
    boundary_or((), || {
        if !propagator.is_null() {
            // SAFETY: the caller hands back ownership of a pointer from `Box::into_raw`.
            let mut p = unsafe { Box::from_raw(propagator) };
            p.shutdown();
        }
    });
}

/// `buildQueueName(amqpQueue)`: writes `hmac-<amqp_queue>.queue` into `out` (output as
/// for `authcore_build_signing_payload`); `AUTHCORE_PROPAGATION_INVALID_QUEUE_NAME` with
/// the original's message unless the name matches `[A-Za-z0-9-]+`.
///
/// # Safety
/// `amqp_queue` valid for `amqp_queue_len` bytes; `out` valid for `out_len` bytes of
/// writes; `out_written` writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagation_build_queue_name(
    amqp_queue: *const c_char,
    amqp_queue_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    boundary(|| {
        // SAFETY: caller guarantees (see # Safety).
        unsafe {
            let q = text(amqp_queue, amqp_queue_len, "amqp_queue")?;
            let name = wire::build_queue_name(q)
                .map_err(|m| prop_err(PropagationError::InvalidQueueName(m)))?;
            crate::ffi::write_text(name.as_bytes(), out, out_len, out_written)
        }
    })
}

/// Deprecated alias of `authcore_propagation_build_queue_name`
/// (the name every language shares, after the core's `propagation::wire::build_queue_name`);
/// same arguments, same results.
///
/// # Safety
/// As `authcore_propagation_build_queue_name`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authcore_propagation_queue_name(
    amqp_queue: *const c_char,
    amqp_queue_len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> authcore_result {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        authcore_propagation_build_queue_name(amqp_queue, amqp_queue_len, out, out_len, out_written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authcore::hmac::HmacError;

    #[test]
    fn codes_are_named_after_the_core_codes() {
        let errors = [
            PropagationError::ManagementNotConfigured,
            PropagationError::UnknownClient("x".into()),
            PropagationError::InvalidOptions("x".into()),
            PropagationError::InvalidQueueName("x".into()),
            PropagationError::Sync("x".into()),
            PropagationError::Callback(CallbackError::new("x")),
            PropagationError::Transport(authcore::propagation::TransportError::NotConnected),
            PropagationError::Random("x".into()),
        ];
        assert_eq!(errors.len(), PROPAGATION_CODES.len());
        for (e, (code, name, status)) in errors.into_iter().zip(PROPAGATION_CODES) {
            let want = format!("PROPAGATION_{}", e.code());
            let f = prop_err(e);
            assert_eq!(f.code, code);
            assert_eq!(name.to_str().unwrap(), want);
            assert_eq!(code.name(), name);
            assert_eq!(code.http_status(), status);
            assert_eq!(authcore_result::from_u32(code as u32), Some(code));
        }
        let h = prop_err(PropagationError::Hmac(HmacError::InvalidArgument(
            "bad".into(),
        )));
        assert_eq!(h.code, AUTHCORE_INVALID_ARGUMENT);
    }
}
