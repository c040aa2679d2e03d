//! fuz_app realtime (SSE) auth guard (spec fuz-app.md): the upstream test cases of §5
//! (`sse.test.ts`, `sse_auth_guard.test.ts`, `subscriber_registry.test.ts`, the round-trip
//! integration tests), the §4 session-hash vectors, the shared vectors of
//! `ffi-tests/vectors/realtime.json`, and one test per §6 decision.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use authcore::realtime::*;

const C: &str = SSE_CONNECTED_COMMENT;

// ---------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------

/// Records every line, by level.
#[derive(Default)]
struct RecordingLogger {
    lines: Mutex<Vec<(&'static str, String)>>,
}

impl RecordingLogger {
    fn lines(&self, level: &str) -> Vec<String> {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, m)| m.clone())
            .collect()
    }
    fn all(&self) -> usize {
        self.lines.lock().unwrap().len()
    }
}

impl Logger for RecordingLogger {
    fn info(&self, msg: &str) {
        self.lines.lock().unwrap().push(("info", msg.to_owned()));
    }
    fn warn(&self, msg: &str) {
        self.lines.lock().unwrap().push(("warn", msg.to_owned()));
    }
    fn error(&self, msg: &str) {
        self.lines.lock().unwrap().push(("error", msg.to_owned()));
    }
}

fn recorder() -> (Arc<RecordingLogger>, Arc<dyn Logger>) {
    let rec = Arc::new(RecordingLogger::default());
    let log: Arc<dyn Logger> = rec.clone();
    (rec, log)
}

/// The upstream mock stream: records `sent` and `closed`; `on_close` does nothing.
struct MockStream<T> {
    sent: Mutex<Vec<T>>,
    closed: AtomicUsize,
    fail_send: bool,
    fail_close: bool,
}

impl<T> MockStream<T> {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            sent: Mutex::new(Vec::new()),
            closed: AtomicUsize::new(0),
            fail_send: false,
            fail_close: false,
        })
    }
    fn failing(fail_send: bool, fail_close: bool) -> Arc<Self> {
        Arc::new(Self {
            sent: Mutex::new(Vec::new()),
            closed: AtomicUsize::new(0),
            fail_send,
            fail_close,
        })
    }
    fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst) > 0
    }
    fn sent_len(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

impl<T: Clone> MockStream<T> {
    fn sent(&self) -> Vec<T> {
        self.sent.lock().unwrap().clone()
    }
}

impl<T: Send> SseStreamControl for MockStream<T> {
    fn comment(&self, _text: &str) -> Result<(), RealtimeError> {
        Ok(())
    }
    fn close(&self) -> Result<(), RealtimeError> {
        self.closed.fetch_add(1, Ordering::SeqCst);
        if self.fail_close {
            return Err(RealtimeError::Stream("close exploded".into()));
        }
        Ok(())
    }
    fn on_close(&self, _listener: CloseListener) {}
}

impl<T: Clone + Send> SseStream<T> for MockStream<T> {
    fn send(&self, data: &T) -> Result<(), RealtimeError> {
        if self.fail_send {
            return Err(RealtimeError::Stream("send exploded".into()));
        }
        self.sent.lock().unwrap().push(data.clone());
        Ok(())
    }
}

type Mock = MockStream<SseNotification>;
type StrMock = MockStream<String>;

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn obj(entries: &[(&str, JsValue)]) -> JsValue {
    JsValue::Object(
        entries
            .iter()
            .map(|(k, v)| (JsString::from(*k), v.clone()))
            .collect(),
    )
}

fn text(v: &str) -> JsValue {
    JsValue::String(JsString::from(v))
}

/// `create_test_audit_event` with the upstream defaults.
fn event(event_type: &str) -> AuditLogEvent {
    AuditLogEvent {
        id: "evt-test".into(),
        seq: 1,
        event_type: event_type.into(),
        outcome: "success".into(),
        actor_id: s("actor-test"),
        account_id: s("acct-test"),
        target_account_id: None,
        target_actor_id: None,
        ip: s("127.0.0.1"),
        created_at: "2024-01-01T00:00:00Z".into(),
        metadata: JsValue::Null,
    }
}

fn role_revoke(role: &str, target: Option<&str>) -> AuditLogEvent {
    let mut e = event("role_grant_revoke");
    e.target_account_id = target.map(str::to_owned);
    e.metadata = obj(&[("role", text(role)), ("role_grant_id", text("grant-1"))]);
    e
}

fn session_revoke(sid: &str) -> AuditLogEvent {
    let mut e = event("session_revoke");
    e.metadata = obj(&[("session_id", text(sid))]);
    e
}

fn audit_ch() -> SubscribeOptions {
    SubscribeOptions::new().channels([AUDIT_LOG_CHANNEL])
}

fn group(id: &str) -> SubscribeOptions {
    audit_ch().groups([id])
}

type Reg = SubscriberRegistry<Mock>;

fn guard_setup(role: Option<&str>) -> (Reg, SseAuthGuard<Mock>, Arc<RecordingLogger>) {
    let (rec, log) = recorder();
    let registry = Reg::new(None);
    let guard = create_sse_auth_guard(registry.clone(), role.map(str::to_owned), log);
    (registry, guard, rec)
}

fn memory() -> Arc<MemorySseStream> {
    Arc::new(MemorySseStream::new())
}

// ---------------------------------------------------------------------------------------
// sse.test.ts › create_sse_response
// ---------------------------------------------------------------------------------------

#[test]
fn sse_01_returns_response_with_correct_sse_headers() {
    assert_eq!(
        SSE_HEADERS,
        [
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-cache"),
            ("Connection", "keep-alive"),
            ("Transfer-Encoding", "chunked"),
        ]
    );
    assert_eq!(C, ": connected\n\n");
    assert_eq!(MemorySseStream::new().body(), C);
}

#[test]
fn sse_02_send_serializes_data_as_json_sse_format() {
    let st = MemorySseStream::new();
    st.send(&obj(&[("msg", text("hello"))])).unwrap();
    st.close().unwrap();
    assert_eq!(st.body(), format!("{C}data: {{\"msg\":\"hello\"}}\n\n"));
}

#[test]
fn sse_03_comment_sends_sse_comment_format() {
    let st = MemorySseStream::new();
    st.comment("keep-alive").unwrap();
    st.close().unwrap();
    assert_eq!(st.body(), format!("{C}: keep-alive\n"));
}

#[test]
fn sse_04_send_is_a_noop_after_close() {
    let st = MemorySseStream::new();
    st.send(&text("before")).unwrap();
    st.close().unwrap();
    st.send(&text("after")).unwrap();
    assert_eq!(st.body(), format!("{C}data: \"before\"\n\n"));
}

#[test]
fn sse_05_multiple_sends_produce_multiple_sse_events() {
    let st = MemorySseStream::new();
    for n in [1.0, 2.0, 3.0] {
        st.send(&JsValue::Number(n)).unwrap();
    }
    st.close().unwrap();
    assert_eq!(st.body(), format!("{C}data: 1\n\ndata: 2\n\ndata: 3\n\n"));
}

#[test]
fn sse_06_close_is_idempotent() {
    let st = MemorySseStream::new();
    st.close().unwrap();
    st.close().unwrap();
    assert!(st.is_closed());
    assert_eq!(st.body(), C);
}

fn push(calls: &Arc<Mutex<Vec<&'static str>>>, name: &'static str) -> CloseListener {
    let calls = Arc::clone(calls);
    Box::new(move || {
        calls.lock().unwrap().push(name);
        Ok(())
    })
}

#[test]
fn sse_07_on_close_listeners_fire_on_close() {
    let st = MemorySseStream::new();
    let calls = Arc::new(Mutex::new(Vec::new()));
    st.on_close(push(&calls, "a"));
    st.on_close(push(&calls, "b"));
    assert!(calls.lock().unwrap().is_empty());
    st.close().unwrap();
    assert_eq!(*calls.lock().unwrap(), ["a", "b"]);
}

#[test]
fn sse_08_on_close_listeners_fire_only_once_on_multiple_close_calls() {
    let st = MemorySseStream::new();
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    st.on_close(Box::new(move || {
        c.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }));
    st.close().unwrap();
    st.close().unwrap();
    st.cancel();
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn sse_09_comment_is_a_noop_after_close() {
    let st = MemorySseStream::new();
    st.comment("before").unwrap();
    st.close().unwrap();
    st.comment("after").unwrap();
    assert_eq!(st.body(), format!("{C}: before\n"));
}

#[test]
fn sse_10_on_close_registered_after_close_does_not_fire() {
    let st = MemorySseStream::new();
    st.close().unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    st.on_close(push(&calls, "late"));
    st.close().unwrap();
    st.cancel();
    assert!(calls.lock().unwrap().is_empty());
}

#[test]
fn sse_11_on_close_unsubscribes_from_subscriber_registry_on_close() {
    let registry = SubscriberRegistry::<MemorySseStream>::new(None);
    let st = memory();
    let sub = registry.subscribe(Arc::clone(&st), SubscribeOptions::new().channels(["ch"]));
    st.on_close(sub.close_listener());
    st.send(&text("before")).unwrap();
    assert_eq!(registry.count(), 1);
    st.close().unwrap();
    assert_eq!(registry.count(), 0);
    assert!(!sub.is_active());
    assert_eq!(st.body(), format!("{C}data: \"before\"\n\n"));
}

#[test]
fn sse_12_body_cancel_triggers_on_close_via_abort() {
    let st = MemorySseStream::new();
    let calls = Arc::new(Mutex::new(Vec::new()));
    st.on_close(push(&calls, "closed"));
    assert!(calls.lock().unwrap().is_empty());
    st.cancel();
    assert_eq!(*calls.lock().unwrap(), ["closed"]);
    assert!(st.is_closed());
    st.send(&text("after")).unwrap();
    assert_eq!(st.body(), C);
}

#[test]
fn sse_13_throwing_on_close_listener_does_not_prevent_other_listeners() {
    let (rec, log) = recorder();
    let st = MemorySseStream::with_logger(log);
    let calls = Arc::new(Mutex::new(Vec::new()));
    st.on_close(push(&calls, "a"));
    st.on_close(Box::new(|| Err(RealtimeError::Listener("boom".into()))));
    st.on_close(Box::new(|| panic!("kaboom")));
    st.on_close(push(&calls, "c"));
    st.close().unwrap();
    assert_eq!(*calls.lock().unwrap(), ["a", "c"]);
    assert_eq!(
        rec.lines("error"),
        [
            "on_close listener threw: boom",
            "on_close listener threw: kaboom"
        ]
    );
}

#[test]
fn sse_14_broadcast_after_close_does_not_throw() {
    let registry = SubscriberRegistry::<MemorySseStream>::new(None);
    let st = memory();
    let sub = registry.subscribe(Arc::clone(&st), SubscribeOptions::new().channels(["ch"]));
    st.on_close(sub.close_listener());
    st.close().unwrap();
    let report = registry.broadcast("ch", &text("orphaned"));
    assert_eq!(report, BroadcastReport::default());
    assert_eq!(st.body(), C);
}

// ---------------------------------------------------------------------------------------
// JSON.stringify parity of what streams send (§3.5, §7)
// ---------------------------------------------------------------------------------------

#[test]
fn json_parity_of_values_and_shapes() {
    // Key order is kept (this does not rely on serde_json's preserve_order, which only
    // the dev build enables), integer-like keys come first as in V8.
    let v = parse_json(r#"{"z":1,"2":"x","a":{"y":null},"1":[1.0,-0.0,1e21,1e-7]}"#).unwrap();
    assert_eq!(
        v.to_json().unwrap().unwrap(),
        r#"{"1":[1,0,1e+21,1e-7],"2":"x","z":1,"a":{"y":null}}"#
    );
    // undefined inside objects is dropped, inside arrays is null; NaN is null.
    let v = obj(&[
        ("u", JsValue::Undefined),
        (
            "a",
            JsValue::Array(vec![JsValue::Undefined, JsValue::Number(f64::NAN)]),
        ),
    ]);
    assert_eq!(v.to_json().unwrap().unwrap(), r#"{"a":[null,null]}"#);
    // Strings: non-ASCII and U+2028 raw, controls as lowercase \u00xx.
    let v = text("é\u{2028}\u{1}\"\\\n\t/");
    assert_eq!(
        v.to_json().unwrap().unwrap(),
        "\"é\u{2028}\\u0001\\\"\\\\\\n\\t/\""
    );
    // A lone surrogate is escaped as V8 does.
    let v = JsValue::String(JsString::from_utf16(vec![0x61, 0xd800]));
    assert_eq!(v.to_json().unwrap().unwrap(), r#""a\ud800""#);
    // A top-level undefined is JSON.stringify's undefined.
    assert_eq!(JsValue::Undefined.to_json().unwrap(), None);
    // SseNotification: method then params; undefined params are omitted.
    let n = SseNotification::new("m", obj(&[("k", JsValue::Bool(true))]));
    assert_eq!(
        n.to_json().unwrap().unwrap(),
        r#"{"method":"m","params":{"k":true}}"#
    );
    let n = SseNotification::new("m", JsValue::Undefined);
    assert_eq!(n.to_json().unwrap().unwrap(), r#"{"method":"m"}"#);
    assert_eq!(
        n.to_js_value().to_json().unwrap().unwrap(),
        r#"{"method":"m"}"#
    );
}

#[test]
fn send_logs_serialization_failures_and_writes_nothing() {
    let (rec, log) = recorder();
    let st = MemorySseStream::with_logger(log);
    // A nested BigInt makes JSON.stringify throw.
    st.send(&JsValue::Array(vec![JsValue::BigInt("10".into())]))
        .unwrap();
    assert_eq!(st.body(), C);
    assert_eq!(
        rec.lines("error"),
        ["send failed to serialize data: Do not know how to serialize a BigInt"]
    );
    // `data: ${JSON.stringify(undefined)}` is the template literal's "undefined".
    st.send(&JsValue::Undefined).unwrap();
    assert_eq!(st.body(), format!("{C}data: undefined\n\n"));
}

#[test]
fn audit_event_serialises_in_column_order() {
    let mut e = event("session_revoke_all");
    e.seq = 7;
    e.metadata = parse_json(r#"{"count":1,"attempted_account_id":null}"#).unwrap();
    let want = r#"{"id":"evt-test","seq":7,"event_type":"session_revoke_all","outcome":"success","actor_id":"actor-test","account_id":"acct-test","target_account_id":null,"target_actor_id":null,"ip":"127.0.0.1","created_at":"2024-01-01T00:00:00Z","metadata":{"count":1,"attempted_account_id":null}}"#;
    assert_eq!(e.to_js_value().to_json().unwrap().unwrap(), want);
    let st = MemorySseStream::new();
    st.send(&SseNotification::new(e.event_type.clone(), e.to_js_value()))
        .unwrap();
    assert_eq!(
        st.body(),
        format!("{C}data: {{\"method\":\"session_revoke_all\",\"params\":{want}}}\n\n")
    );
    // Round trip through JSON text, and the strict shape check.
    assert_eq!(AuditLogEvent::from_json(want).unwrap(), e);
    let extra = want.replacen("{\"id\"", "{\"extra\":1,\"id\"", 1);
    let err = AuditLogEvent::from_json(&extra).unwrap_err();
    assert_eq!(err.code(), "REALTIME_INVALID_EVENT");
    assert!(
        err.to_string().contains("unrecognized key \"extra\""),
        "{err}"
    );
    let bad = want
        .replace("\"success\"", "\"maybe\"")
        .replace("\"seq\":7", "\"seq\":7.5");
    let issues = audit_log_event_issues(&parse_json(&bad).unwrap());
    assert_eq!(
        issues,
        [
            "outcome: expected 'success' | 'failure'",
            "seq: expected an integer"
        ]
    );
    assert_eq!(
        AuditLogEvent::from_json("{").unwrap_err().code(),
        "REALTIME_INVALID_JSON"
    );
}

#[test]
fn audit_event_types_and_specs() {
    assert_eq!(AUDIT_EVENT_TYPES.len(), 27);
    let mut unique = AUDIT_EVENT_TYPES.to_vec();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 27);
    assert_eq!(AUDIT_EVENT_TYPES[0], "login");
    assert_eq!(AUDIT_EVENT_TYPES[17], "role_grant_offer_supersede");
    assert_eq!(AUDIT_EVENT_TYPES[26], "app_settings_update");
    assert!(AUDIT_EVENT_TYPES.iter().all(|t| is_valid_event_type(t)));
    assert!(
        !is_valid_event_type("1abc") && !is_valid_event_type("") && !is_valid_event_type("a b")
    );
    assert!(is_valid_event_type("x.y/z-1_2"));

    let specs = audit_log_event_specs();
    assert_eq!(specs.len(), 27);
    for (spec, t) in specs.iter().zip(AUDIT_EVENT_TYPES) {
        assert_eq!(spec.method, t);
        assert_eq!(spec.channel.as_deref(), Some("audit_log"));
        assert_eq!(
            spec.description,
            format!("Audit log: {}", t.replace('_', " "))
        );
    }
    assert_eq!(
        specs[17].description,
        "Audit log: role grant offer supersede"
    );
    let check = specs[0].params.as_ref().unwrap();
    assert!(check(&event("login").to_js_value()).is_ok());
    assert!(check(&obj(&[("id", text("x"))])).is_err());

    assert_eq!(
        DISCONNECT_EVENT_TYPES,
        [
            "role_grant_revoke",
            "session_revoke",
            "session_revoke_all",
            "token_revoke_all",
            "password_change",
            "logout"
        ]
    );
    assert_eq!(AUDIT_LOG_CHANNEL, "audit_log");
    assert_eq!(AUDIT_LOG_SSE_MAX_PER_SCOPE, 10);
    assert_eq!(DEFAULT_AUDIT_STREAM_ROLE, "admin");
}

// ---------------------------------------------------------------------------------------
// sse.test.ts › create_validated_broadcaster
// ---------------------------------------------------------------------------------------

fn run_specs() -> Vec<EventSpec> {
    // z.strictObject({run_id: z.string(), status: z.string()})
    let check: ParamsValidator = Arc::new(|v: &JsValue| {
        let ok = matches!(v, JsValue::Object(e) if e.len() == 2)
            && matches!(js_get(v, "run_id"), Some(JsValue::String(_)))
            && matches!(js_get(v, "status"), Some(JsValue::String(_)));
        if ok {
            Ok(())
        } else {
            Err("expected {run_id, status}".into())
        }
    });
    vec![
        EventSpec {
            method: "run_created".into(),
            description: "A run was created".into(),
            channel: Some("runs".into()),
            params: Some(Arc::clone(&check)),
        },
        EventSpec {
            method: "run_updated".into(),
            description: "A run was updated".into(),
            channel: None,
            params: Some(check),
        },
    ]
}

type Calls = Arc<Mutex<Vec<(String, SseNotification)>>>;

fn recording_inner() -> (Calls, impl Fn(&str, &SseNotification) -> BroadcastReport) {
    let calls: Calls = Arc::default();
    let c = Arc::clone(&calls);
    let inner = move |channel: &str, data: &SseNotification| {
        c.lock().unwrap().push((channel.to_owned(), data.clone()));
        BroadcastReport::default()
    };
    (calls, inner)
}

fn run_params(ok: bool) -> JsValue {
    if ok {
        obj(&[("run_id", text("1")), ("status", text("running"))])
    } else {
        obj(&[("bad", JsValue::Bool(true))])
    }
}

#[test]
fn validated_01_passes_valid_data_through_to_broadcaster() {
    let (rec, log) = recorder();
    let (calls, inner) = recording_inner();
    let v = create_validated_broadcaster(inner, &run_specs(), log, true);
    v.broadcast(
        "runs",
        &SseNotification::new("run_created", run_params(true)),
    );
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "runs");
    assert_eq!(calls[0].1.method, "run_created");
    assert_eq!(rec.all(), 0);
}

#[test]
fn validated_02_warns_on_unknown_method() {
    let (rec, log) = recorder();
    let (calls, inner) = recording_inner();
    let v = create_validated_broadcaster(inner, &run_specs(), log, true);
    v.broadcast("runs", &SseNotification::new("unknown_method", obj(&[])));
    assert_eq!(
        rec.lines("warn"),
        ["Unknown event method: 'unknown_method'"]
    );
    assert_eq!(calls.lock().unwrap().len(), 1);
}

#[test]
fn validated_03_warns_on_invalid_params() {
    let (rec, log) = recorder();
    let (calls, inner) = recording_inner();
    let v = create_validated_broadcaster(inner, &run_specs(), log, true);
    v.broadcast(
        "runs",
        &SseNotification::new("run_created", run_params(false)),
    );
    let warns = rec.lines("warn");
    assert_eq!(warns.len(), 1);
    assert!(
        warns[0].starts_with("Params mismatch for 'run_created': "),
        "{warns:?}"
    );
    assert_eq!(calls.lock().unwrap().len(), 1);
}

#[test]
fn validated_04_always_broadcasts_even_on_validation_failure() {
    let (_rec, log) = recorder();
    let (calls, inner) = recording_inner();
    let v = create_validated_broadcaster(inner, &run_specs(), log, true);
    v.broadcast("runs", &SseNotification::new("unknown", obj(&[])));
    v.broadcast(
        "runs",
        &SseNotification::new("run_updated", run_params(false)),
    );
    assert_eq!(calls.lock().unwrap().len(), 2);
}

#[test]
fn validated_05_empty_event_specs_list_still_works() {
    let (rec, log) = recorder();
    let (calls, inner) = recording_inner();
    let v = create_validated_broadcaster(inner, &[], log, true);
    v.broadcast("ch", &SseNotification::new("anything", obj(&[])));
    assert_eq!(rec.lines("warn").len(), 1);
    assert_eq!(calls.lock().unwrap().len(), 1);
}

#[test]
fn validated_06_broadcasts_through_subscriber_registry_to_subscribed_streams() {
    let (_rec, log) = recorder();
    let registry = Reg::new(None);
    let v = create_validated_broadcaster(registry.clone(), &run_specs(), log, true);
    let runs = Mock::new();
    let all = Mock::new();
    let unsub_runs = registry.subscribe(runs.clone(), SubscribeOptions::new().channels(["runs"]));
    registry.subscribe(all.clone(), SubscribeOptions::new());
    let n = SseNotification::new("run_created", run_params(true));
    let report = v.broadcast("runs", &n);
    assert_eq!(report.delivered, 2);
    assert_eq!(runs.sent(), std::slice::from_ref(&n));
    assert_eq!(all.sent(), [n]);
    assert!(unsub_runs.unsubscribe());
    v.broadcast(
        "runs",
        &SseNotification::new(
            "run_updated",
            obj(&[("run_id", text("1")), ("status", text("done"))]),
        ),
    );
    assert_eq!(runs.sent_len(), 1);
    assert_eq!(all.sent_len(), 2);
}

#[test]
fn validated_outside_dev_is_a_passthrough() {
    let (rec, log) = recorder();
    let (calls, inner) = recording_inner();
    let v = create_validated_broadcaster(inner, &run_specs(), log, false);
    v.broadcast("runs", &SseNotification::new("unknown", obj(&[])));
    assert_eq!(rec.all(), 0);
    assert_eq!(calls.lock().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------
// subscriber_registry.test.ts › SubscriberRegistry
// ---------------------------------------------------------------------------------------

type SReg = SubscriberRegistry<StrMock>;

fn msg(v: &str) -> String {
    v.to_owned()
}

#[test]
fn registry_01_starts_with_zero_subscribers() {
    assert_eq!(SReg::new(None).count(), 0);
}

#[test]
fn registry_02_subscribe_increments_count() {
    let r = SReg::new(None);
    r.subscribe(StrMock::new(), SubscribeOptions::new());
    assert_eq!(r.count(), 1);
}

#[test]
fn registry_03_unsubscribe_decrements_count() {
    let r = SReg::new(None);
    let st = StrMock::new();
    let sub = r.subscribe(st.clone(), SubscribeOptions::new());
    assert!(sub.unsubscribe());
    assert_eq!(r.count(), 0);
    // Idempotent, and it does not close the stream.
    assert!(!sub.unsubscribe());
    assert_eq!(r.count(), 0);
    assert!(!st.closed());
}

#[test]
fn registry_04_broadcast_reaches_all_subscribers_with_no_filter() {
    let r = SReg::new(None);
    let (a, b) = (StrMock::new(), StrMock::new());
    r.subscribe(a.clone(), SubscribeOptions::new());
    r.subscribe(b.clone(), SubscribeOptions::new());
    assert_eq!(r.broadcast("any", &msg("hi")).delivered, 2);
    assert_eq!(a.sent(), ["hi"]);
    assert_eq!(b.sent(), ["hi"]);
}

#[test]
fn registry_05_broadcast_respects_channel_filter() {
    let r = SReg::new(None);
    let (runs, hosts, all) = (StrMock::new(), StrMock::new(), StrMock::new());
    r.subscribe(runs.clone(), SubscribeOptions::new().channels(["runs"]));
    r.subscribe(hosts.clone(), SubscribeOptions::new().channels(["hosts"]));
    r.subscribe(all.clone(), SubscribeOptions::new());
    r.broadcast("runs", &msg("r"));
    assert_eq!(runs.sent(), ["r"]);
    assert_eq!(hosts.sent_len(), 0);
    assert_eq!(all.sent(), ["r"]);
    // Exact, case-sensitive.
    r.broadcast("Runs", &msg("R"));
    assert_eq!(runs.sent_len(), 1);
    assert_eq!(all.sent_len(), 2);
}

#[test]
fn registry_06_subscriber_with_multiple_channels_receives_from_each() {
    let r = SReg::new(None);
    let st = StrMock::new();
    r.subscribe(
        st.clone(),
        SubscribeOptions::new().channels(["runs", "hosts"]),
    );
    r.broadcast("runs", &msg("1"));
    r.broadcast("hosts", &msg("2"));
    r.broadcast("other", &msg("3"));
    assert_eq!(st.sent(), ["1", "2"]);
}

#[test]
fn registry_07_empty_channels_array_receives_all() {
    let r = SReg::new(None);
    let st = StrMock::new();
    r.subscribe(
        st.clone(),
        SubscribeOptions::new().channels(Vec::<String>::new()),
    );
    assert_eq!(r.subscribers()[0].channels, None);
    r.broadcast("whatever", &msg("x"));
    assert_eq!(st.sent(), ["x"]);
}

#[test]
fn registry_08_unsubscribed_stream_does_not_receive_broadcasts() {
    let r = SReg::new(None);
    let st = StrMock::new();
    let sub = r.subscribe(st.clone(), SubscribeOptions::new());
    r.broadcast("ch", &msg("before"));
    sub.unsubscribe();
    r.broadcast("ch", &msg("after"));
    assert_eq!(st.sent(), ["before"]);
}

#[test]
fn registry_09_multiple_subscribers_unsubscribe_independently() {
    let r = SReg::new(None);
    let (a, b) = (StrMock::new(), StrMock::new());
    let sub_a = r.subscribe(a.clone(), SubscribeOptions::new());
    r.subscribe(b.clone(), SubscribeOptions::new());
    assert_eq!(r.count(), 2);
    sub_a.unsubscribe();
    assert_eq!(r.count(), 1);
    r.broadcast("ch", &msg("x"));
    assert_eq!(a.sent_len(), 0);
    assert_eq!(b.sent(), ["x"]);
}

#[test]
fn registry_10_broadcast_with_no_subscribers_does_not_throw() {
    let r = SReg::new(None);
    assert_eq!(r.broadcast("ch", &msg("x")), BroadcastReport::default());
}

#[test]
fn registry_11_subscribe_with_scope_only() {
    let r = SReg::new(None);
    r.subscribe(StrMock::new(), SubscribeOptions::new().scope("session_a"));
    assert_eq!(r.count(), 1);
    let info = &r.subscribers()[0];
    assert_eq!(info.scope.as_deref(), Some("session_a"));
    assert_eq!((info.channels.clone(), info.groups.clone()), (None, None));
}

#[test]
fn registry_12_close_by_identity_closes_matching_scope_subscribers() {
    let r = SReg::new(None);
    let (a1, b, a2) = (StrMock::new(), StrMock::new(), StrMock::new());
    r.subscribe(a1.clone(), SubscribeOptions::new().scope("session_a"));
    r.subscribe(b.clone(), SubscribeOptions::new().scope("session_b"));
    r.subscribe(a2.clone(), SubscribeOptions::new().scope("session_a"));
    assert_eq!(r.close_by_identity("session_a"), 2);
    assert_eq!(r.count(), 1);
    assert!(a1.closed() && a2.closed() && !b.closed());
}

#[test]
fn registry_13_close_by_identity_closes_matching_group_subscribers() {
    let r = SReg::new(None);
    let (a, b) = (StrMock::new(), StrMock::new());
    r.subscribe(a.clone(), SubscribeOptions::new().groups(["account_a"]));
    r.subscribe(b.clone(), SubscribeOptions::new().groups(["account_b"]));
    assert_eq!(r.close_by_identity("account_a"), 1);
    assert!(a.closed() && !b.closed());
    assert_eq!(r.count(), 1);
}

#[test]
fn registry_14_scope_and_group_subscriber_closed_by_scope() {
    let r = SReg::new(None);
    let st = StrMock::new();
    r.subscribe(
        st.clone(),
        SubscribeOptions::new()
            .scope("session_a")
            .groups(["account_a"]),
    );
    assert_eq!(r.close_by_identity("session_a"), 1);
    assert!(st.closed());
    assert_eq!(r.count(), 0);
}

#[test]
fn registry_15_close_by_identity_with_no_match_returns_zero() {
    let r = SReg::new(None);
    let st = StrMock::new();
    r.subscribe(
        st.clone(),
        SubscribeOptions::new()
            .scope("session_a")
            .groups(["account_a"]),
    );
    assert_eq!(r.close_by_identity("nobody"), 0);
    assert!(!st.closed());
    assert_eq!(r.count(), 1);
}

#[test]
fn registry_16_subscriber_without_identity_untouched_by_close_by_identity() {
    let r = SReg::new(None);
    let (anon, scoped) = (StrMock::new(), StrMock::new());
    r.subscribe(anon.clone(), SubscribeOptions::new());
    r.subscribe(scoped.clone(), SubscribeOptions::new().scope("session_a"));
    assert_eq!(r.close_by_identity("session_a"), 1);
    assert_eq!(r.count(), 1);
    assert!(!anon.closed() && scoped.closed());
}

#[test]
fn registry_17_closed_subscriber_no_longer_receives_broadcasts() {
    let r = SReg::new(None);
    let (a, b) = (StrMock::new(), StrMock::new());
    r.subscribe(a.clone(), SubscribeOptions::new().scope("session_a"));
    r.subscribe(b.clone(), SubscribeOptions::new());
    r.close_by_identity("session_a");
    r.broadcast("ch", &msg("x"));
    assert_eq!(a.sent_len(), 0);
    assert_eq!(b.sent(), ["x"]);
}

#[test]
fn registry_18_close_by_identity_on_empty_registry_returns_zero() {
    assert_eq!(SReg::new(None).close_by_identity("x"), 0);
}

#[test]
fn registry_19_scope_and_group_subscriber_closed_by_group() {
    let r = SReg::new(None);
    let st = StrMock::new();
    r.subscribe(
        st.clone(),
        SubscribeOptions::new()
            .scope("session_a")
            .groups(["account_a"]),
    );
    assert_eq!(r.close_by_identity("account_a"), 1);
    assert!(st.closed());
    assert_eq!(r.count(), 0);
}

#[test]
fn registry_20_empty_groups_array_treated_as_no_groups() {
    let r = SReg::new(None);
    let st = StrMock::new();
    r.subscribe(
        st.clone(),
        SubscribeOptions::new().groups(Vec::<String>::new()),
    );
    assert_eq!(r.subscribers()[0].groups, None);
    assert_eq!(r.close_by_identity("anything"), 0);
    assert!(!st.closed());
}

#[test]
fn registry_options_normalisation() {
    // §2: channels/groups become sets (first occurrence order); "" scope is kept.
    let info = SubscribeOptions::new()
        .channels(["b", "a", "b"])
        .scope("")
        .groups(["g", "g"])
        .normalize();
    assert_eq!(info.channels, Some(vec!["b".to_owned(), "a".to_owned()]));
    assert_eq!(info.scope.as_deref(), Some(""));
    assert_eq!(info.groups, Some(vec!["g".to_owned()]));
}

#[test]
fn registry_same_stream_subscribed_twice_gets_two_records() {
    // Coverage gap: two records, two copies of every broadcast; each unsubscribe removes
    // only its own record.
    let r = SReg::new(None);
    let st = StrMock::new();
    let first = r.subscribe(st.clone(), SubscribeOptions::new());
    r.subscribe(st.clone(), SubscribeOptions::new());
    assert_eq!(r.count(), 2);
    r.broadcast("ch", &msg("x"));
    assert_eq!(st.sent(), ["x", "x"]);
    first.unsubscribe();
    assert_eq!(r.count(), 1);
    r.broadcast("ch", &msg("y"));
    assert_eq!(st.sent(), ["x", "x", "y"]);
}

#[test]
fn registry_empty_string_scope_is_a_scope() {
    // Coverage gap: "" is kept as a scope, is capped and closed by identity "", but the
    // guard never closes it (its falsy checks return early).
    let r = SReg::new(Some(1));
    let (a, b) = (StrMock::new(), StrMock::new());
    r.subscribe(a.clone(), SubscribeOptions::new().scope(""));
    r.subscribe(b.clone(), SubscribeOptions::new().scope(""));
    assert!(a.closed() && !b.closed());
    assert_eq!(r.count(), 1);
    assert_eq!(r.close_by_identity(""), 1);
    assert!(b.closed());
}

/// A stream whose close re-enters the registry from inside `close()` (count, broadcast,
/// its own unsubscribe): must not deadlock.
struct ReentrantStream {
    registry: Mutex<Option<(SubscriberRegistry<ReentrantStream>, Subscription)>>,
    seen_count: AtomicUsize,
}

impl SseStreamControl for ReentrantStream {
    fn comment(&self, _: &str) -> Result<(), RealtimeError> {
        Ok(())
    }
    fn close(&self) -> Result<(), RealtimeError> {
        let held = self.registry.lock().unwrap().take();
        if let Some((reg, sub)) = held {
            self.seen_count.store(reg.count(), Ordering::SeqCst);
            reg.broadcast("ch", &msg("during close"));
            sub.unsubscribe();
            reg.close_by_identity("x");
        }
        Ok(())
    }
    fn on_close(&self, _: CloseListener) {}
}

impl SseStream<String> for ReentrantStream {
    fn send(&self, _: &String) -> Result<(), RealtimeError> {
        Ok(())
    }
}

#[test]
fn registry_close_may_reenter_the_registry() {
    let r = SubscriberRegistry::<ReentrantStream>::new(None);
    let st = Arc::new(ReentrantStream {
        registry: Mutex::new(None),
        seen_count: AtomicUsize::new(usize::MAX),
    });
    let sub = r.subscribe(st.clone(), SubscribeOptions::new().scope("x"));
    *st.registry.lock().unwrap() = Some((r.clone(), sub));
    assert_eq!(r.close_by_identity("x"), 1);
    // Close, then remove: the record was still there while close() ran.
    assert_eq!(st.seen_count.load(Ordering::SeqCst), 1);
    assert_eq!(r.count(), 0);
}

#[test]
fn registry_subscription_outlives_registry() {
    let r = SReg::new(None);
    let sub = r.subscribe(StrMock::new(), SubscribeOptions::new());
    drop(r);
    assert!(!sub.unsubscribe());
    assert!(!sub.is_active());
}

#[test]
fn registry_is_usable_across_threads() {
    let r = SubscriberRegistry::<MemorySseStream>::new(None);
    let streams: Vec<Arc<MemorySseStream>> = (0..8).map(|_| memory()).collect();
    std::thread::scope(|scope| {
        for (i, st) in streams.iter().enumerate() {
            let r = r.clone();
            let st = Arc::clone(st);
            scope.spawn(move || {
                let sub = r.subscribe(
                    Arc::clone(&st),
                    SubscribeOptions::new().groups([format!("g{}", i % 2)]),
                );
                st.on_close(sub.close_listener());
            });
        }
    });
    assert_eq!(r.count(), 8);
    let report = r.broadcast("ch", &text("x"));
    assert_eq!(report.delivered, 8);
    assert_eq!(r.close_by_identity("g0"), 4);
    assert_eq!(r.count(), 4);
    assert_eq!(streams.iter().filter(|s| s.is_closed()).count(), 4);
}

// ---------------------------------------------------------------------------------------
// subscriber_registry.test.ts › max_per_scope
// ---------------------------------------------------------------------------------------

fn subscribe_n(r: &SReg, n: usize, scope: Option<&str>) -> Vec<Arc<StrMock>> {
    (0..n)
        .map(|_| {
            let st = StrMock::new();
            let mut o = SubscribeOptions::new();
            if let Some(sc) = scope {
                o = o.scope(sc);
            }
            r.subscribe(st.clone(), o);
            st
        })
        .collect()
}

#[test]
fn max_per_scope_01_evicts_oldest_when_cap_exceeded() {
    let r = SReg::new(Some(5));
    let st = subscribe_n(&r, 6, Some("s"));
    assert_eq!(r.count(), 5);
    assert!(st[0].closed());
    assert!(st[1..].iter().all(|s| !s.closed()));
}

#[test]
fn max_per_scope_02_cap_is_per_scope() {
    let r = SReg::new(Some(2));
    let (a1, a2, b1, a3) = (
        StrMock::new(),
        StrMock::new(),
        StrMock::new(),
        StrMock::new(),
    );
    r.subscribe(a1.clone(), SubscribeOptions::new().scope("a"));
    r.subscribe(a2.clone(), SubscribeOptions::new().scope("a"));
    r.subscribe(b1.clone(), SubscribeOptions::new().scope("b"));
    r.subscribe(a3.clone(), SubscribeOptions::new().scope("a"));
    assert!(a1.closed() && !a2.closed() && !b1.closed() && !a3.closed());
    assert_eq!(r.count(), 3);
}

#[test]
fn max_per_scope_03_groups_are_not_capped() {
    let r = SReg::new(Some(2));
    let streams: Vec<_> = (0..5)
        .map(|i| {
            let st = StrMock::new();
            r.subscribe(
                st.clone(),
                SubscribeOptions::new()
                    .scope(format!("s{i}"))
                    .groups(["account"]),
            );
            st
        })
        .collect();
    assert!(streams.iter().all(|s| !s.closed()));
    assert_eq!(r.close_by_identity("account"), 5);
}

#[test]
fn max_per_scope_04_no_cap_by_default() {
    let r = SReg::new(None);
    subscribe_n(&r, 20, Some("s"));
    assert_eq!(r.count(), 20);
}

#[test]
fn max_per_scope_05_unscoped_subscribers_are_not_capped() {
    let r = SReg::new(Some(2));
    let st = subscribe_n(&r, 10, None);
    assert_eq!(r.count(), 10);
    assert!(st.iter().all(|s| !s.closed()));
}

#[test]
fn max_per_scope_eviction_is_silent_and_unsubscribes() {
    // Eviction writes no frame and logs nothing; the evicted record is gone even though
    // the stream's own on_close listener is what a route would use.
    let (rec, log) = recorder();
    let r = SubscriberRegistry::<MemorySseStream>::new_with_logger(Some(1), log);
    let (old, new) = (memory(), memory());
    let old_sub = r.subscribe(old.clone(), SubscribeOptions::new().scope("s"));
    old.on_close(old_sub.close_listener());
    r.subscribe(new.clone(), SubscribeOptions::new().scope("s"));
    assert!(old.is_closed() && !new.is_closed());
    assert_eq!(old.body(), C);
    assert!(!old_sub.is_active());
    assert_eq!(rec.all(), 0);
}

// ---------------------------------------------------------------------------------------
// sse_auth_guard.test.ts › create_sse_auth_guard (role 'admin' unless stated)
// ---------------------------------------------------------------------------------------

#[test]
fn guard_01_closes_stream_on_role_grant_revoke_for_required_role() {
    let (r, guard, rec) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("target-account-1"));
    assert_eq!(
        guard.handle(&role_revoke("admin", Some("target-account-1"))),
        1
    );
    assert!(st.closed());
    assert_eq!(r.count(), 0);
    assert_eq!(
        rec.lines("info"),
        ["SSE auth guard: closed 1 stream(s) for account target-account-1 (role_grant_revoke)"]
    );
}

#[test]
fn guard_02_ignores_role_grant_revoke_for_other_roles() {
    let (r, guard, rec) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("target-account-1"));
    assert_eq!(
        guard.handle(&role_revoke("steward", Some("target-account-1"))),
        0
    );
    assert!(!st.closed());
    assert_eq!(r.count(), 1);
    assert_eq!(rec.all(), 0);
}

#[test]
fn guard_03_ignores_revoke_for_a_different_account() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    guard.handle(&role_revoke("admin", Some("account-b")));
    assert!(!st.closed());
}

#[test]
fn guard_04_ignores_events_not_in_the_disconnect_set() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    let mut e = role_revoke("admin", Some("account-a"));
    e.event_type = "role_grant_create".into();
    assert_eq!(guard.handle(&e), 0);
    assert!(!st.closed());
}

#[test]
fn guard_05_ignores_events_with_null_target_account_id() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    guard.handle(&role_revoke("admin", None));
    assert!(!st.closed());
    // The upstream fallback target (acct-test) matches nothing here; the §6.4 fix makes
    // the decision itself empty.
    assert_eq!(
        guard_decision(&role_revoke("admin", None), Some("admin")),
        None
    );
}

#[test]
fn guard_06_ignores_role_grant_revoke_with_null_metadata() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    let mut e = role_revoke("admin", Some("account-a"));
    e.metadata = JsValue::Null;
    guard.handle(&e);
    assert!(!st.closed());
}

#[test]
fn guard_07_ignores_role_grant_revoke_with_missing_role() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    let mut e = role_revoke("admin", Some("account-a"));
    e.metadata = obj(&[("role_grant_id", text("grant-1"))]);
    guard.handle(&e);
    assert!(!st.closed());
}

#[test]
fn guard_08_null_required_role_skips_role_revocation_but_not_session_events() {
    let (r, guard, _) = guard_setup(None);
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    guard.handle(&role_revoke("admin", Some("account-a")));
    assert!(!st.closed());
    let mut e = event("session_revoke_all");
    e.target_account_id = s("account-a");
    assert_eq!(guard.handle(&e), 1);
    assert!(st.closed());
}

#[test]
fn guard_09_closes_multiple_streams_for_same_account() {
    let (r, guard, rec) = guard_setup(Some("admin"));
    let (a, b) = (Mock::new(), Mock::new());
    r.subscribe(a.clone(), group("account-a"));
    r.subscribe(b.clone(), group("account-a"));
    assert_eq!(guard.handle(&role_revoke("admin", Some("account-a"))), 2);
    assert!(a.closed() && b.closed());
    assert_eq!(r.count(), 0);
    assert_eq!(
        rec.lines("info"),
        ["SSE auth guard: closed 2 stream(s) for account account-a (role_grant_revoke)"]
    );
}

#[test]
fn guard_10_does_not_affect_other_accounts() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let (a, b) = (Mock::new(), Mock::new());
    r.subscribe(a.clone(), group("account-a"));
    r.subscribe(b.clone(), group("account-b"));
    guard.handle(&role_revoke("admin", Some("account-a")));
    assert!(a.closed() && !b.closed());
    assert_eq!(r.count(), 1);
}

#[test]
fn guard_11_login_event_does_nothing() {
    let (r, guard, rec) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    let mut e = event("login");
    e.account_id = s("account-a");
    assert_eq!(guard.handle(&e), 0);
    assert!(!st.closed());
    assert_eq!(rec.all(), 0);
}

#[test]
fn guard_12_session_revoke_all_closes_target_account() {
    let (r, guard, rec) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    let mut e = event("session_revoke_all");
    e.account_id = s("admin-account");
    e.target_account_id = s("account-a");
    guard.handle(&e);
    assert!(st.closed());
    assert_eq!(r.count(), 0);
    assert_eq!(
        rec.lines("info"),
        ["SSE auth guard: closed 1 stream(s) for account account-a (session_revoke_all)"]
    );
}

#[test]
fn guard_13_self_service_session_revoke_all_falls_back_to_account_id() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    let mut e = event("session_revoke_all");
    e.account_id = s("account-a");
    guard.handle(&e);
    assert!(st.closed());
}

#[test]
fn guard_14_session_revoke_all_does_not_affect_other_accounts() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let (a, b) = (Mock::new(), Mock::new());
    r.subscribe(a.clone(), group("account-a"));
    r.subscribe(b.clone(), group("account-b"));
    let mut e = event("session_revoke_all");
    e.target_account_id = s("account-a");
    guard.handle(&e);
    assert!(a.closed() && !b.closed());
}

#[test]
fn guard_15_failed_session_revoke_does_not_close() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a").scope("session-hash-x"));
    let mut e = session_revoke("session-hash-x");
    e.outcome = "failure".into();
    assert_eq!(guard.handle(&e), 0);
    assert!(!st.closed());
    assert_eq!(r.count(), 1);
}

#[test]
fn guard_16_failed_password_change_does_not_close() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    let mut e = event("password_change");
    e.outcome = "failure".into();
    e.account_id = s("account-a");
    guard.handle(&e);
    assert!(!st.closed());
}

#[test]
fn guard_17_session_revoke_closes_only_that_session() {
    let (r, guard, rec) = guard_setup(Some("admin"));
    let (x, y) = (Mock::new(), Mock::new());
    r.subscribe(x.clone(), group("account-a").scope("session-hash-x"));
    r.subscribe(y.clone(), group("account-a").scope("session-hash-y"));
    let mut e = session_revoke("session-hash-x");
    e.account_id = s("account-a");
    assert_eq!(guard.handle(&e), 1);
    assert!(x.closed() && !y.closed());
    assert_eq!(r.count(), 1);
    assert_eq!(
        rec.lines("info"),
        ["SSE auth guard: closed 1 stream(s) for session session-hash-x (session_revoke)"]
    );
}

#[test]
fn guard_18_session_revoke_with_null_metadata_does_not_close() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a").scope("session-hash-x"));
    let mut e = event("session_revoke");
    e.account_id = s("account-a");
    guard.handle(&e);
    assert!(!st.closed());
    assert_eq!(r.count(), 1);
}

#[test]
fn guard_19_session_revoke_does_not_close_group_only_streams() {
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    let mut e = session_revoke("session-hash-x");
    e.account_id = s("account-a");
    guard.handle(&e);
    assert!(!st.closed());
}

#[test]
fn guard_20_password_change_self_service_closes() {
    let (r, guard, rec) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a"));
    let mut e = event("password_change");
    e.account_id = s("account-a");
    guard.handle(&e);
    assert!(st.closed());
    assert_eq!(r.count(), 0);
    assert_eq!(
        rec.lines("info"),
        ["SSE auth guard: closed 1 stream(s) for account account-a (password_change)"]
    );
}

#[test]
fn guard_gap_token_revoke_all_and_logout_close() {
    // Coverage gap of §5: no upstream unit test for these two.
    let (r, guard, rec) = guard_setup(Some("admin"));
    let (a, b) = (Mock::new(), Mock::new());
    r.subscribe(a.clone(), group("account-a"));
    r.subscribe(b.clone(), group("account-b"));
    let mut e = event("token_revoke_all");
    e.account_id = s("admin-account");
    e.target_account_id = s("account-a");
    assert_eq!(guard.handle(&e), 1);
    let mut e = event("logout");
    e.account_id = s("account-b");
    assert_eq!(guard.handle(&e), 1);
    assert!(a.closed() && b.closed());
    assert_eq!(
        rec.lines("info"),
        [
            "SSE auth guard: closed 1 stream(s) for account account-a (token_revoke_all)",
            "SSE auth guard: closed 1 stream(s) for account account-b (logout)"
        ]
    );
    // token_revoke (single token) is not guarded.
    let mut e = event("token_revoke");
    e.account_id = s("account-a");
    assert_eq!(guard_decision(&e, Some("admin")), None);
}

#[test]
fn guard_decision_edge_cases() {
    // ?? falls through only on null: an empty target is falsy and closes nothing.
    let mut e = event("session_revoke_all");
    e.account_id = s("account-a");
    e.target_account_id = s("");
    assert_eq!(guard_decision(&e, Some("admin")), None);
    // Any outcome but the literal 'failure' is a success.
    e.target_account_id = None;
    e.outcome = "Failure".into();
    assert_eq!(
        guard_decision(&e, Some("admin")),
        Some(GuardTarget {
            kind: IdentityKind::Account,
            identity: "account-a".into(),
            event_type: "session_revoke_all",
        })
    );
    // Role equality is strict and case-sensitive; scope_id is ignored.
    let mut e = role_revoke("Admin", Some("t"));
    assert_eq!(guard_decision(&e, Some("admin")), None);
    e.metadata = obj(&[("role", text("admin")), ("scope_id", text("other-scope"))]);
    assert_eq!(
        guard_decision(&e, Some("admin")).map(|t| t.identity.into_owned()),
        Some("t".to_owned())
    );
    // A non-string role or session id does not match.
    e.metadata = obj(&[("role", JsValue::Number(1.0))]);
    assert_eq!(guard_decision(&e, Some("1")), None);
    let mut e = event("session_revoke");
    e.metadata = obj(&[("session_id", JsValue::Number(7.0))]);
    assert_eq!(guard_decision(&e, Some("admin")), None);
    e.metadata = obj(&[("session_id", text(""))]);
    assert_eq!(guard_decision(&e, Some("admin")), None);
}

#[test]
fn guard_decision_on_host_values_follows_javascript() {
    let opts = GuardOptions::new(Some("admin".into()));
    // Missing fields are undefined: ?? falls through to account_id.
    let e = obj(&[
        ("event_type", text("logout")),
        ("account_id", text("account-a")),
    ]);
    let t = opts.decide_js(&e).unwrap();
    assert_eq!(
        (t.kind, t.identity.as_ref()),
        (IdentityKind::Account, "account-a")
    );
    // A non-string target is not nullish: no fallback, and it matches no stream.
    let e = obj(&[
        ("event_type", text("logout")),
        ("account_id", text("account-a")),
        ("target_account_id", JsValue::Number(5.0)),
    ]);
    assert_eq!(opts.decide_js(&e), None);
    // outcome must be the string 'failure' to skip; metadata?.x of a string is undefined.
    let e = obj(&[
        ("event_type", text("session_revoke")),
        ("outcome", JsValue::Bool(false)),
        ("metadata", text("session_id")),
    ]);
    assert_eq!(opts.decide_js(&e), None);
    let e = obj(&[
        ("event_type", text("session_revoke")),
        ("outcome", JsValue::Null),
        ("metadata", obj(&[("session_id", text("h"))])),
    ]);
    assert_eq!(
        opts.decide_js(&e)
            .map(|t| (t.kind, t.identity.into_owned())),
        Some((IdentityKind::Session, "h".to_owned()))
    );
    // A lone surrogate identity cannot match any stream.
    let e = obj(&[
        ("event_type", text("logout")),
        (
            "account_id",
            JsValue::String(JsString::from_utf16(vec![0xdc00])),
        ),
    ]);
    assert_eq!(opts.decide_js(&e), None);
    // The typed and the host paths agree on a full row.
    let mut row = event("session_revoke_all");
    row.target_account_id = s("account-a");
    assert_eq!(opts.decide(&row), opts.decide_js(&row.to_js_value()));
}

// ---------------------------------------------------------------------------------------
// sse_auth_guard.test.ts › create_audit_log_sse
// ---------------------------------------------------------------------------------------

fn audit_sse(options: AuditLogSseOptions) -> (AuditLogSse<Mock>, Arc<RecordingLogger>) {
    let (rec, log) = recorder();
    (create_audit_log_sse(options, log), rec)
}

#[test]
fn audit_sse_01_broadcasts_audit_events_to_subscribers() {
    let (sse, _) = audit_sse(AuditLogSseOptions::default());
    let st = Mock::new();
    sse.subscribe(st.clone(), group("account-a"));
    let e = event("login");
    let d = sse.on_audit_event(&e);
    assert_eq!(d.broadcast.delivered, 1);
    assert_eq!(d.closed, 0);
    let sent = st.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "login");
    assert_eq!(js_get(&sent[0].params, "id"), Some(&text(&e.id)));
}

#[test]
fn audit_sse_02_role_grant_revoke_closes_stream() {
    let (sse, _) = audit_sse(AuditLogSseOptions::default());
    let st = Mock::new();
    sse.subscribe(st.clone(), group("account-a"));
    let d = sse.on_audit_event(&role_revoke("admin", Some("account-a")));
    assert_eq!(d.closed, 1);
    assert!(st.closed());
    assert_eq!(sse.registry().count(), 0);
}

#[test]
fn audit_sse_03_session_revoke_all_closes_stream() {
    let (sse, _) = audit_sse(AuditLogSseOptions::default());
    let st = Mock::new();
    sse.subscribe(st.clone(), group("account-a"));
    let mut e = event("session_revoke_all");
    e.target_account_id = s("account-a");
    sse.on_audit_event(&e);
    assert!(st.closed());
}

#[test]
fn audit_sse_04_subscribe_delegates_to_registry() {
    let (sse, _) = audit_sse(AuditLogSseOptions::default());
    let sub = sse.subscribe(Mock::new(), audit_ch());
    assert_eq!(sse.registry().count(), 1);
    sub.unsubscribe();
    assert_eq!(sse.registry().count(), 0);
}

#[test]
fn audit_sse_05_custom_role() {
    let (sse, _) = audit_sse(AuditLogSseOptions {
        role: s("steward"),
        ..AuditLogSseOptions::default()
    });
    let st = Mock::new();
    sse.subscribe(st.clone(), group("account-a"));
    sse.on_audit_event(&role_revoke("admin", Some("account-a")));
    assert!(!st.closed());
    sse.on_audit_event(&role_revoke("steward", Some("account-a")));
    assert!(st.closed());
}

#[test]
fn audit_sse_06_broadcast_happens_before_guard() {
    let (sse, _) = audit_sse(AuditLogSseOptions::default());
    let st = Mock::new();
    sse.subscribe(st.clone(), group("account-a"));
    sse.on_audit_event(&role_revoke("admin", Some("account-a")));
    let sent = st.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "role_grant_revoke");
    assert!(st.closed());
}

#[test]
fn audit_sse_07_default_max_per_scope_is_10() {
    let (sse, _) = audit_sse(AuditLogSseOptions::default());
    assert_eq!(sse.registry().max_per_scope(), Some(10));
    let streams: Vec<_> = (0..11)
        .map(|_| {
            let st = Mock::new();
            sse.subscribe(st.clone(), group("account-a").scope("session-hash-a"));
            st
        })
        .collect();
    assert_eq!(sse.registry().count(), 10);
    assert!(streams[0].closed());
    assert!(streams[1..].iter().all(|s| !s.closed()));
}

#[test]
fn audit_sse_08_distinct_scopes_in_one_group_are_not_capped() {
    let (sse, _) = audit_sse(AuditLogSseOptions::default());
    let streams: Vec<_> = (0..15)
        .map(|i| {
            let st = Mock::new();
            sse.subscribe(
                st.clone(),
                group("account-a").scope(format!("session-hash-{i}")),
            );
            st
        })
        .collect();
    assert!(streams.iter().all(|s| !s.closed()));
    assert_eq!(sse.registry().count(), 15);
}

#[test]
fn audit_sse_09_max_per_scope_null_disables_the_cap() {
    let (sse, _) = audit_sse(AuditLogSseOptions {
        max_per_scope: None,
        ..AuditLogSseOptions::default()
    });
    for _ in 0..13 {
        sse.subscribe(Mock::new(), group("account-a").scope("s"));
    }
    assert_eq!(sse.registry().count(), 13);
}

#[test]
fn audit_sse_10_custom_max_per_scope() {
    let (sse, _) = audit_sse(AuditLogSseOptions {
        max_per_scope: Some(2),
        ..AuditLogSseOptions::default()
    });
    let streams: Vec<_> = (0..4)
        .map(|_| {
            let st = Mock::new();
            sse.subscribe(st.clone(), group("account-a").scope("s"));
            st
        })
        .collect();
    assert_eq!(sse.registry().count(), 2);
    assert!(streams[0].closed() && streams[1].closed());
    assert!(!streams[2].closed() && !streams[3].closed());
}

#[test]
fn audit_sse_broadcasts_every_row_including_failures_and_unknown_types() {
    let (sse, _) = audit_sse(AuditLogSseOptions::default());
    let st = Mock::new();
    sse.subscribe(st.clone(), audit_ch());
    let other = Mock::new();
    sse.subscribe(other.clone(), SubscribeOptions::new().channels(["runs"]));
    let mut failed = event("login");
    failed.outcome = "failure".into();
    sse.on_audit_event(&failed);
    sse.on_audit_event(&event("custom.extra/event"));
    let methods: Vec<_> = st.sent().into_iter().map(|n| n.method).collect();
    assert_eq!(methods, ["login", "custom.extra/event"]);
    assert_eq!(other.sent_len(), 0);
}

#[test]
fn audit_sse_host_event_value_is_broadcast_as_is() {
    let (sse, _) = audit_sse(AuditLogSseOptions::default());
    let sse2: AuditLogSse<MemorySseStream> =
        create_audit_log_sse(AuditLogSseOptions::default(), Arc::new(NoopLogger));
    let st = memory();
    sse2.subscribe(st.clone(), group("account-a"));
    // The host's own key order and extra keys go on the wire unchanged.
    let host = parse_json(
        r#"{"event_type":"session_revoke_all","id":"e1","extra":true,"account_id":"account-a"}"#,
    )
    .unwrap();
    let d = sse2.on_audit_event_js(&host).unwrap();
    assert_eq!((d.broadcast.delivered, d.closed), (1, 1));
    assert_eq!(
        st.body(),
        format!(
            "{C}data: {{\"method\":\"session_revoke_all\",\"params\":{{\"event_type\":\"session_revoke_all\",\"id\":\"e1\",\"extra\":true,\"account_id\":\"account-a\"}}}}\n\n"
        )
    );
    assert!(st.is_closed());
    let err = sse
        .on_audit_event_js(&obj(&[("id", text("x"))]))
        .unwrap_err();
    assert_eq!(err.code(), "REALTIME_INVALID_EVENT");
}

// ---------------------------------------------------------------------------------------
// integration (testing/sse_round_trip.ts, cross_backend/sse_round_trip.ts), in process:
// the route's subscription identity (§3.4) over MemorySseStream.
// ---------------------------------------------------------------------------------------

struct Connected {
    stream: Arc<MemorySseStream>,
    session_id: String,
}

/// What the route does: scope = the session hash, groups = [account], channels =
/// ['audit_log'], then `stream.on_close(unsubscribe)`.
fn connect(sse: &AuditLogSse<MemorySseStream>, token: &str, account: &str) -> Connected {
    let stream = memory();
    let session_id = hash_session_token(token);
    let sub = sse.subscribe(
        Arc::clone(&stream),
        SubscribeOptions::new()
            .scope(session_id.clone())
            .groups([account])
            .channels([AUDIT_LOG_CHANNEL]),
    );
    stream.on_close(sub.close_listener());
    Connected { stream, session_id }
}

fn mem_sse() -> AuditLogSse<MemorySseStream> {
    create_audit_log_sse(AuditLogSseOptions::default(), Arc::new(NoopLogger))
}

#[test]
fn round_trip_first_frame_is_connected_comment() {
    let sse = mem_sse();
    let c = connect(&sse, "token-1", "account-a");
    assert_eq!(c.stream.take_body(), ": connected\n\n");
}

#[test]
fn round_trip_admin_revoke_all_of_another_account_is_one_valid_frame_and_stays_open() {
    let sse = mem_sse();
    let c = connect(&sse, "admin-token", "admin-account");
    c.stream.take_body();
    let mut e = event("session_revoke_all");
    e.account_id = s("admin-account");
    e.target_account_id = s("other-account");
    e.metadata = obj(&[("count", JsValue::Number(1.0))]);
    sse.on_audit_event(&e);
    let body = c.stream.take_body();
    let json = body
        .strip_prefix("data: ")
        .and_then(|b| b.strip_suffix("\n\n"))
        .expect("one data frame");
    assert!(!json.contains('\n'));
    let frame = parse_json(json).unwrap();
    let params = js_get(&frame, "params").unwrap();
    let spec = audit_log_event_specs()
        .into_iter()
        .find(|s| s.method == "session_revoke_all")
        .unwrap();
    assert!((spec.params.unwrap())(params).is_ok());
    assert!(!c.stream.is_closed());
    assert_eq!(sse.registry().count(), 1);
}

#[test]
fn round_trip_own_session_revoke_all_closes_the_stream() {
    let sse = mem_sse();
    let c = connect(&sse, "user-token", "account-a");
    let mut e = event("session_revoke_all");
    e.account_id = s("account-a");
    sse.on_audit_event(&e);
    assert!(c.stream.is_closed());
    assert_eq!(sse.registry().count(), 0);
    // The revoking row itself was delivered before the close.
    assert!(
        c.stream
            .body()
            .contains("\"method\":\"session_revoke_all\"")
    );
}

#[test]
fn round_trip_own_session_revoke_closes_only_that_session() {
    let sse = mem_sse();
    let tab1 = connect(&sse, "user-token", "account-a");
    let tab2 = connect(&sse, "user-token", "account-a");
    let other = connect(&sse, "other-token", "account-a");
    let mut e = session_revoke(&tab1.session_id);
    e.account_id = s("account-a");
    assert_eq!(sse.on_audit_event(&e).closed, 2);
    assert!(tab1.stream.is_closed() && tab2.stream.is_closed());
    assert!(!other.stream.is_closed());
    assert_eq!(sse.registry().count(), 1);
}

#[test]
fn host_and_memory_streams_share_one_registry() {
    // What a binding does: `dyn SseStream<SseNotification>` mixes host streams (here the
    // mock) with in-memory ones in one AuditLogSse.
    type Dyn = dyn SseStream<SseNotification>;
    let sse: AuditLogSse<Dyn> =
        create_audit_log_sse(AuditLogSseOptions::default(), Arc::new(NoopLogger));
    let host = Mock::new();
    let mem = memory();
    let host_dyn: Arc<Dyn> = host.clone();
    let mem_dyn: Arc<Dyn> = mem.clone();
    sse.subscribe(host_dyn, group("account-a"));
    let sub = sse.subscribe(mem_dyn.clone(), group("account-a"));
    mem_dyn.on_close(sub.close_listener());
    let mut e = event("logout");
    e.account_id = s("account-a");
    let d = sse.on_audit_event(&e);
    assert_eq!((d.broadcast.delivered, d.closed), (2, 2));
    assert_eq!(host.sent()[0].method, "logout");
    assert!(
        mem.body()
            .starts_with(&format!("{C}data: {{\"method\":\"logout\""))
    );
    assert!(host.closed() && mem.is_closed());
    assert_eq!(sse.registry().count(), 0);
    // Plain strings are JSON strings.
    let st = MemorySseStream::new();
    st.send("before").unwrap();
    st.send(&String::from("x\"y")).unwrap();
    assert_eq!(
        st.body(),
        format!("{C}data: \"before\"\n\ndata: \"x\\\"y\"\n\n")
    );
}

#[tokio::test]
async fn memory_stream_drains_into_a_body() {
    let st = memory();
    let reader = {
        let st = Arc::clone(&st);
        tokio::spawn(async move {
            let mut body = String::new();
            while let Some(chunk) = st.next_chunk().await {
                body.push_str(&chunk);
            }
            body
        })
    };
    st.send(&text("a")).unwrap();
    tokio::task::yield_now().await;
    st.comment("b").unwrap();
    st.close().unwrap();
    st.send(&text("lost")).unwrap();
    let body = reader.await.unwrap();
    assert_eq!(body, format!("{C}data: \"a\"\n\n: b\n"));
    assert_eq!(st.body(), "");
}

// ---------------------------------------------------------------------------------------
// §4 session hash
// ---------------------------------------------------------------------------------------

#[test]
fn session_hash_vectors() {
    for (token, want) in [
        (
            "",
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        ),
        (
            "abc",
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
        ),
        (
            "test_token",
            "445e56aeadca0a7326ce16ac79cfefc49dd933d212e81893e03bf779abf14065",
        ),
        (
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "0807456e11ea80a0cabf51014bdab6bb6ae59402cacb3b323853203b178e28d3",
        ),
    ] {
        assert_eq!(hash_session_token(token), want, "{token:?}");
        assert_eq!(hash_blake3(token.as_bytes()), want);
    }
    let h = hash_session_token("anything");
    assert_eq!(h.len(), 64);
    assert!(h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
}

// ---------------------------------------------------------------------------------------
// shared vectors (ffi-tests/vectors/realtime.json), read with the order-keeping parser
// ---------------------------------------------------------------------------------------

fn js_string(v: Option<&JsValue>) -> Option<String> {
    match v {
        Some(JsValue::String(s)) => js_str_text(s).map(|c| c.into_owned()),
        _ => None,
    }
}

#[test]
fn shared_vectors() {
    let doc = parse_json(include_str!("../../../ffi-tests/vectors/realtime.json")).unwrap();
    let Some(JsValue::Array(cases)) = js_get(&doc, "cases") else {
        panic!("no cases")
    };
    let mut ran = std::collections::BTreeMap::<String, usize>::new();
    let mut typed_checked = 0;
    for case in cases {
        let id = js_string(js_get(case, "id")).unwrap();
        let op = js_string(js_get(case, "op")).unwrap();
        let input = js_get(case, "input").unwrap();
        let expected = js_get(case, "expected").unwrap();
        match op.as_str() {
            "guard_decision" => {
                let ev_value = js_get(input, "event").unwrap();
                let role = js_string(js_get(input, "required_role"));
                let opts = GuardOptions::new(role.clone());
                let got = opts.decide_js(ev_value);
                // The typed path agrees wherever the row has the strict shape.
                if let Ok(typed) = AuditLogEvent::from_js_value(ev_value) {
                    assert_eq!(guard_decision(&typed, role.as_deref()), got, "{id}");
                    typed_checked += 1;
                }
                match expected {
                    JsValue::Null => assert_eq!(got, None, "{id}"),
                    want => {
                        let got = got.unwrap_or_else(|| panic!("{id}: no decision"));
                        let kind = match got.kind {
                            IdentityKind::Session => "session",
                            IdentityKind::Account => "account",
                        };
                        assert_eq!(
                            Some(kind.to_owned()),
                            js_string(js_get(want, "kind")),
                            "{id}"
                        );
                        assert_eq!(
                            Some(got.identity.into_owned()),
                            js_string(js_get(want, "identity")),
                            "{id}"
                        );
                        assert_eq!(
                            Some(got.event_type.to_owned()),
                            js_string(js_get(want, "event_type")),
                            "{id}"
                        );
                    }
                }
            }
            "session_hash" => {
                let token = js_string(js_get(input, "token")).unwrap();
                assert_eq!(
                    Some(hash_session_token(&token)),
                    js_string(Some(expected)),
                    "{id}"
                );
            }
            "data_frame" => {
                let data = js_get(input, "data").unwrap();
                let st = MemorySseStream::new();
                st.take_body();
                st.send(data).unwrap();
                assert_eq!(Some(st.body()), js_string(Some(expected)), "{id}");
                assert_eq!(
                    Some(render_data_frame(data).unwrap()),
                    js_string(Some(expected))
                );
            }
            "comment_frame" => {
                let t = js_string(js_get(input, "text")).unwrap();
                assert_eq!(Some(render_comment(&t)), js_string(Some(expected)), "{id}");
            }
            other => panic!("{id}: unknown op {other}"),
        }
        *ran.entry(op).or_default() += 1;
    }
    assert_eq!(ran["guard_decision"], 26);
    assert_eq!(typed_checked, 25);
    assert_eq!(ran["session_hash"], 4);
    assert_eq!(ran["data_frame"], 8);
    assert_eq!(ran["comment_frame"], 3);
}

// ---------------------------------------------------------------------------------------
// §6 decisions
// ---------------------------------------------------------------------------------------

#[test]
fn decision_6_1_account_removal_kept_by_default_opt_in_closes() {
    let mut e = event("account_delete");
    e.account_id = s("admin");
    e.target_account_id = s("account-a");
    // Kept: not in the set by default.
    let (sse, _) = audit_sse(AuditLogSseOptions::default());
    let st = Mock::new();
    sse.subscribe(st.clone(), group("account-a"));
    assert_eq!(sse.on_audit_event(&e).closed, 0);
    assert!(!st.closed());
    // Opt-in: account_delete / account_purge close the account's streams.
    let (sse, rec) = audit_sse(AuditLogSseOptions {
        close_on_account_removal: true,
        ..AuditLogSseOptions::default()
    });
    let st = Mock::new();
    sse.subscribe(st.clone(), group("account-a"));
    assert_eq!(sse.on_audit_event(&e).closed, 1);
    assert!(st.closed());
    assert_eq!(
        rec.lines("info"),
        ["SSE auth guard: closed 1 stream(s) for account account-a (account_delete)"]
    );
    // The host's direct close for rows the guard never sees (expiry, max_sessions).
    let st = Mock::new();
    sse.subscribe(st.clone(), group("account-b").scope("expired-session"));
    assert_eq!(sse.registry().close_by_scope("expired-session"), 1);
    assert!(st.closed());
}

#[test]
fn decision_6_4_role_grant_revoke_never_closes_the_revoker() {
    // The revoker's own stream, a row without target: the original would close it via
    // the account_id fallback; the fix closes nothing.
    let (r, guard, rec) = guard_setup(Some("admin"));
    let revoker = Mock::new();
    r.subscribe(revoker.clone(), group("admin-account"));
    let mut e = role_revoke("admin", None);
    e.account_id = s("admin-account");
    assert_eq!(guard.handle(&e), 0);
    assert!(!revoker.closed());
    assert_eq!(rec.all(), 0);
    // Other guarded types keep the self-service fallback.
    let mut e = event("password_change");
    e.account_id = s("admin-account");
    assert_eq!(guard.handle(&e), 1);
}

#[test]
fn decision_6_5_shared_namespace_kept_namespaced_opt_in() {
    let row = session_revoke("account-a"); // a session id equal to an account id
    // Kept: session_revoke closes the account-wide (group) stream too.
    let (r, guard, _) = guard_setup(Some("admin"));
    let st = Mock::new();
    r.subscribe(st.clone(), group("account-a").scope("session-hash-x"));
    assert_eq!(guard.handle(&row), 1);
    assert!(st.closed());
    // A consumer subscribing with scope = account id is closed by account events.
    let st = Mock::new();
    r.subscribe(st.clone(), audit_ch().scope("account-b"));
    let mut e = event("logout");
    e.account_id = s("account-b");
    assert_eq!(guard.handle(&e), 1);
    // Opt-in: namespaces apart.
    let (sse, _) = audit_sse(AuditLogSseOptions {
        namespaced_identities: true,
        ..AuditLogSseOptions::default()
    });
    let st = Mock::new();
    sse.subscribe(st.clone(), group("account-a").scope("session-hash-x"));
    assert_eq!(sse.on_audit_event(&row).closed, 0);
    assert!(!st.closed());
    let mut own = session_revoke("session-hash-x");
    own.account_id = s("account-a");
    assert_eq!(sse.on_audit_event(&own).closed, 1);
    let st = Mock::new();
    sse.subscribe(st.clone(), audit_ch().scope("account-b"));
    assert_eq!(sse.on_audit_event(&e).closed, 0);
    assert!(!st.closed());
}

#[test]
fn decision_6_6_failing_send_does_not_abort_broadcast_nor_skip_guard() {
    let (sse, rec) = audit_sse(AuditLogSseOptions::default());
    let bad = Mock::failing(true, false);
    let good = Mock::new();
    sse.subscribe(bad.clone(), group("account-a"));
    sse.subscribe(good.clone(), group("account-a"));
    let d = sse.on_audit_event(&role_revoke("admin", Some("account-a")));
    assert_eq!(
        d.broadcast,
        BroadcastReport {
            delivered: 1,
            failed: 1
        }
    );
    assert_eq!(good.sent_len(), 1);
    // The guard still ran: both revoked streams are closed.
    assert_eq!(d.closed, 2);
    assert!(bad.closed() && good.closed());
    assert_eq!(
        rec.lines("error"),
        ["SubscriberRegistry: send failed: send exploded"]
    );
}

#[test]
fn decision_6_6_failing_close_still_removes_records() {
    let (rec, log) = recorder();
    let r = Reg::new_with_logger(Some(1), log);
    let (bad, later) = (Mock::failing(false, true), Mock::new());
    r.subscribe(bad.clone(), group("account-a"));
    r.subscribe(later.clone(), group("account-a"));
    // Identity close: the failing close neither stops the loop nor leaves its record.
    assert_eq!(r.close_by_identity("account-a"), 2);
    assert!(bad.closed() && later.closed());
    assert_eq!(r.count(), 0);
    // Eviction: the failing victim is removed and the newcomer admitted.
    let bad = Mock::failing(false, true);
    r.subscribe(bad.clone(), audit_ch().scope("s"));
    r.subscribe(Mock::new(), audit_ch().scope("s"));
    assert!(bad.closed());
    assert_eq!(r.count(), 1);
    assert_eq!(
        rec.lines("error"),
        [
            "SubscriberRegistry: close failed: close exploded",
            "SubscriberRegistry: close failed: close exploded"
        ]
    );
}

struct PanickingClose;

impl SseStreamControl for PanickingClose {
    fn comment(&self, _: &str) -> Result<(), RealtimeError> {
        Ok(())
    }
    fn close(&self) -> Result<(), RealtimeError> {
        panic!("close panicked")
    }
    fn on_close(&self, _: CloseListener) {}
}

#[test]
fn decision_6_6_panicking_close_still_removes_its_record() {
    let r = SubscriberRegistry::<PanickingClose>::new(None);
    r.subscribe(Arc::new(PanickingClose), SubscribeOptions::new().scope("x"));
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.close_by_identity("x")));
    assert!(outcome.is_err());
    assert_eq!(r.count(), 0);
}

#[test]
fn decision_6_7_eviction_churn_kept() {
    // The cap keeps evicting the oldest tab of a session, every time.
    let r = SReg::new(Some(2));
    let mut tabs = subscribe_n(&r, 2, Some("s"));
    for _ in 0..3 {
        let oldest = tabs.remove(0);
        tabs.extend(subscribe_n(&r, 1, Some("s")));
        assert!(oldest.closed());
        assert_eq!(r.count(), 2);
    }
}

#[test]
fn decision_6_8_comment_line_breaks_stay_comments() {
    let st = MemorySseStream::new();
    st.comment("ok\ndata: {\"forged\":true}\r\nretry: 1\rend")
        .unwrap();
    assert_eq!(
        st.body(),
        format!("{C}: ok\n: data: {{\"forged\":true}}\n: retry: 1\n: end\n")
    );
    // A raw JSON payload with a line break is refused like a serialisation throw.
    let (rec, log) = recorder();
    let st = MemorySseStream::with_logger(log);
    st.send(&JsValue::RawJson("{\n}".into())).unwrap();
    assert_eq!(st.body(), C);
    assert_eq!(
        rec.lines("error"),
        ["send failed to serialize data: serialized data contains a line break"]
    );
}

#[test]
fn decision_6_8_max_per_scope_zero_or_negative_acts_as_one() {
    for max in [0, -1, i64::MIN] {
        let r = SReg::new(Some(max));
        let st = subscribe_n(&r, 3, Some("s"));
        assert_eq!(r.count(), 1, "max {max}");
        assert!(st[0].closed() && st[1].closed() && !st[2].closed());
    }
    // JS numbers as a binding converts them.
    assert_eq!(max_per_scope_from_js_number(2.5), Ok(Some(2)));
    assert_eq!(max_per_scope_from_js_number(-0.5), Ok(Some(-1)));
    assert_eq!(max_per_scope_from_js_number(f64::INFINITY), Ok(None));
    assert_eq!(
        max_per_scope_from_js_number(f64::NEG_INFINITY),
        Ok(Some(i64::MIN))
    );
    // Fails closed: NaN disabled the cap in the original.
    assert_eq!(
        max_per_scope_from_js_number(f64::NAN).unwrap_err().code(),
        "REALTIME_INVALID_SETTING"
    );
}

#[test]
fn decision_6_8_buffer_limit_closes_a_slow_client() {
    let (rec, log) = recorder();
    let st = Arc::new(MemorySseStream::with_logger(log).with_buffer_limit(40));
    let r = SubscriberRegistry::<MemorySseStream>::new(None);
    let sub = r.subscribe(Arc::clone(&st), SubscribeOptions::new());
    st.on_close(sub.close_listener());
    r.broadcast("ch", &text("0123456789")); // 13 + 20 = 33 bytes buffered
    assert!(!st.is_closed());
    r.broadcast("ch", &text("0123456789"));
    assert!(st.is_closed());
    assert_eq!(r.count(), 0);
    assert_eq!(st.body(), format!("{C}data: \"0123456789\"\n\n"));
    assert_eq!(
        rec.lines("warn"),
        ["SSE stream closed: client too slow (33 bytes unread)"]
    );
    // Without a limit nothing is ever dropped.
    let st = MemorySseStream::new().without_buffer_limit();
    assert_eq!(st.buffer_limit(), None);
    for _ in 0..100 {
        st.send(&text("0123456789")).unwrap();
    }
    assert_eq!(st.body().len(), C.len() + 100 * 20);
}

#[test]
fn sse_buffer_limit_is_on_by_default() {
    // A client that never reads: the default 1 MiB limit closes its stream instead of
    // letting the server buffer without bound.
    let (rec, log) = recorder();
    let st = MemorySseStream::with_logger(log);
    assert_eq!(
        st.buffer_limit(),
        Some(authcore::limits::DEFAULT_SSE_BUFFER_LIMIT_BYTES)
    );
    let chunk = "x".repeat(64 * 1024);
    let mut written = 0;
    while !st.is_closed() && written < 100 {
        st.send(&text(&chunk)).unwrap();
        written += 1;
    }
    assert!(st.is_closed(), "closed once 1 MiB is unread");
    assert!(st.body().len() <= authcore::limits::DEFAULT_SSE_BUFFER_LIMIT_BYTES);
    assert!(written < 20, "{written} writes");
    assert_eq!(rec.lines("warn").len(), 1);
    // A reader that keeps up is never closed.
    let st = MemorySseStream::new();
    for _ in 0..100 {
        st.send(&text(&chunk)).unwrap();
        st.take_body();
    }
    assert!(!st.is_closed());
    // Settings from the bindings: bytes, 0 = no limit, anything else refused.
    let st = MemorySseStream::new()
        .with_buffer_limit_setting(64.0)
        .unwrap();
    assert_eq!(st.buffer_limit(), Some(64));
    let st = MemorySseStream::new()
        .with_buffer_limit_setting(0.0)
        .unwrap();
    assert_eq!(st.buffer_limit(), None);
    for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY] {
        let e = MemorySseStream::new()
            .with_buffer_limit_setting(bad)
            .unwrap_err();
        assert_eq!(e.code(), "REALTIME_INVALID_SETTING", "{bad}");
    }
}

#[test]
fn error_codes_are_stable() {
    let all = [
        (
            RealtimeError::Serialize(String::new()),
            "REALTIME_SERIALIZE",
        ),
        (RealtimeError::Stream(String::new()), "REALTIME_STREAM"),
        (RealtimeError::Listener(String::new()), "REALTIME_LISTENER"),
        (
            RealtimeError::InvalidJson(String::new()),
            "REALTIME_INVALID_JSON",
        ),
        (
            RealtimeError::InvalidEvent(String::new()),
            "REALTIME_INVALID_EVENT",
        ),
        (
            RealtimeError::InvalidSetting(String::new()),
            "REALTIME_INVALID_SETTING",
        ),
    ];
    for (e, code) in all {
        assert_eq!(e.code(), code);
    }
}

// ---------------------------------------------------------------------------------------
// JS iteration semantics the original relies on
// ---------------------------------------------------------------------------------------

/// A listener registered while the close listeners run (the original's `for…of` over its
/// listener array reaches an element pushed during the loop) runs after the others; one
/// registered after the close is over never runs.
#[test]
fn on_close_listener_added_during_close_runs() {
    let st = Arc::new(MemorySseStream::new());
    let calls = Arc::new(Mutex::new(Vec::new()));
    let (st2, calls2) = (Arc::clone(&st), Arc::clone(&calls));
    st.on_close(Box::new(move || {
        calls2.lock().unwrap().push("a");
        st2.on_close(push(&calls2, "late"));
        Ok(())
    }));
    st.on_close(push(&calls, "b"));
    st.close().unwrap();
    assert_eq!(*calls.lock().unwrap(), ["a", "b", "late"]);
    st.on_close(push(&calls, "after"));
    st.close().unwrap();
    assert_eq!(*calls.lock().unwrap(), ["a", "b", "late"]);
}

/// A stream that subscribes a newcomer to its own registry on its first `send`.
struct JoiningStream {
    registry: Mutex<Option<SubscriberRegistry<dyn SseStream<String>>>>,
    newcomer: Arc<StrMock>,
    sent: Mutex<Vec<String>>,
}

impl SseStreamControl for JoiningStream {
    fn comment(&self, _text: &str) -> Result<(), RealtimeError> {
        Ok(())
    }
    fn close(&self) -> Result<(), RealtimeError> {
        Ok(())
    }
    fn on_close(&self, _listener: CloseListener) {}
}

impl SseStream<String> for JoiningStream {
    fn send(&self, data: &String) -> Result<(), RealtimeError> {
        self.sent.lock().unwrap().push(data.clone());
        if let Some(reg) = self.registry.lock().unwrap().take() {
            let newcomer: Arc<dyn SseStream<String>> = self.newcomer.clone();
            reg.subscribe(newcomer, SubscribeOptions::new());
        }
        Ok(())
    }
}

/// `broadcast` walks the live set like `for (const s of set)`: a subscriber added by a
/// `send` receives the event being broadcast.
#[test]
fn broadcast_reaches_a_subscriber_added_during_send() {
    let reg: SubscriberRegistry<dyn SseStream<String>> = SubscriberRegistry::new(None);
    let newcomer = StrMock::new();
    let joiner = Arc::new(JoiningStream {
        registry: Mutex::new(Some(reg.clone())),
        newcomer: Arc::clone(&newcomer),
        sent: Mutex::new(Vec::new()),
    });
    let j: Arc<dyn SseStream<String>> = joiner.clone();
    reg.subscribe(j, SubscribeOptions::new());
    let r = reg.broadcast("c", &"one".to_string());
    assert_eq!(r.delivered, 2);
    assert_eq!(newcomer.sent(), ["one"]);
    reg.broadcast("c", &"two".to_string());
    assert_eq!(*joiner.sent.lock().unwrap(), ["one", "two"]);
    assert_eq!(newcomer.sent(), ["one", "two"]);
    assert_eq!(reg.count(), 2);
}
