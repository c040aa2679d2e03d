"""authcore.realtime: fuz_app's realtime SSE auth guard (spec fuz-app.md, fuzdev/fuz_app
``79281eb``) over the Rust core.

- every upstream case of spec §5 that applies (``sse_auth_guard.test.ts``,
  ``subscriber_registry.test.ts``, ``sse.test.ts`` › ``create_sse_response``, the
  integration round trips), plus the spec's coverage gaps;
- the §6 decisions (what is fixed, what is kept, the opt-ins);
- host streams: object identity, isolated exceptions (send, close, listeners, logger),
  re-entrancy, ``KeyboardInterrupt`` not swallowed, threads;
- the ready-made stream: exact frames, the async drain (alone, across threads, cancelled
  by a disconnect, behind a Starlette ``StreamingResponse``);
- wrong argument types.

Mock streams follow the upstream tests: they record ``sent`` and ``closed`` and their
``on_close`` does nothing. Nothing here sleeps or depends on timing.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple

import pytest

from authcore import realtime as rt

C = ": connected\n\n"


# ---------------------------------------------------------------------------------------
# helpers


class MockStream:
    """The upstream mock: records ``sent`` and ``closed``; ``on_close`` does nothing."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.sent: List[Any] = []
        self.comments: List[str] = []
        self.close_calls = 0

    @property
    def closed(self) -> bool:
        return self.close_calls > 0

    def send(self, data: Any) -> None:
        self.sent.append(data)

    def comment(self, text: str) -> None:
        self.comments.append(text)

    def close(self) -> None:
        self.close_calls += 1

    def on_close(self, fn: Any) -> None:
        pass


class ListenerStream(MockStream):
    """A host stream that runs its ``on_close`` listeners once on the first close, like a
    real SSE stream (re-entrancy tests)."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self.listeners: List[Any] = []

    def close(self) -> None:
        self.close_calls += 1
        if self.close_calls == 1:
            listeners, self.listeners = self.listeners, []
            for fn in listeners:
                fn()

    def on_close(self, fn: Any) -> None:
        self.listeners.append(fn)


class RecordingLogger:
    """A fuz_app-style logger (``info``/``warn``/``error``)."""

    def __init__(self) -> None:
        self.lines: List[Tuple[str, str]] = []

    def info(self, msg: str) -> None:
        self.lines.append(("info", msg))

    def warn(self, msg: str) -> None:
        self.lines.append(("warn", msg))

    def error(self, msg: str) -> None:
        self.lines.append(("error", msg))

    def at(self, level: str) -> List[str]:
        return [m for lv, m in self.lines if lv == level]


def create_test_audit_event(**overrides: Any) -> Dict[str, Any]:
    """``create_test_audit_event`` of the upstream tests."""
    event = {
        "id": "evt-test",
        "seq": 1,
        "event_type": "login",
        "outcome": "success",
        "actor_id": "actor-test",
        "account_id": "acct-test",
        "target_account_id": None,
        "target_actor_id": None,
        "ip": "127.0.0.1",
        "created_at": "2024-01-01T00:00:00Z",
        "metadata": None,
    }
    event.update(overrides)
    return event


def guard_setup(role: Optional[str] = "admin"):
    registry = rt.SubscriberRegistry()
    log = RecordingLogger()
    guard = rt.create_sse_auth_guard(registry, role, log)
    return registry, guard, log


def sub(registry, stream=None, **opts):
    stream = stream if stream is not None else MockStream()
    opts.setdefault("channels", ["audit_log"])
    registry.subscribe(stream, **opts)
    return stream


def revoke(target: Optional[str], role: Any = "admin", **kw: Any) -> Dict[str, Any]:
    return create_test_audit_event(
        event_type="role_grant_revoke", target_account_id=target, metadata={"role": role, "role_grant_id": "g1"}, **kw
    )


def run(coro):
    return asyncio.run(coro)


# ---------------------------------------------------------------------------------------
# sse_auth_guard.test.ts › create_sse_auth_guard (role 'admin' unless stated)


def test_guard_01_role_grant_revoke_closes_the_grantee():
    registry, guard, log = guard_setup()
    s = sub(registry, groups=["target-account-1"])
    assert guard(revoke("target-account-1")) == 1
    assert s.closed and registry.count == 0
    assert log.at("info") == ["SSE auth guard: closed 1 stream(s) for account target-account-1 (role_grant_revoke)"]


def test_guard_02_other_role_does_not_close():
    registry, guard, log = guard_setup()
    s = sub(registry, groups=["target-account-1"])
    assert guard(revoke("target-account-1", role="steward")) == 0
    assert not s.closed and registry.count == 1
    assert log.lines == []


def test_guard_03_other_account_does_not_close():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(revoke("account-b"))
    assert not s.closed


def test_guard_04_unguarded_type_does_not_close():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(create_test_audit_event(event_type="role_grant_create", target_account_id="account-a", metadata={"role": "admin"}))
    assert not s.closed


def test_guard_05_null_target_matches_nothing():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(revoke(None))  # account_id is acct-test
    assert not s.closed and registry.count == 1


def test_guard_06_null_metadata_does_not_close():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(create_test_audit_event(event_type="role_grant_revoke", target_account_id="account-a", metadata=None))
    assert not s.closed


def test_guard_07_metadata_without_role_does_not_close():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(create_test_audit_event(event_type="role_grant_revoke", target_account_id="account-a", metadata={"role_grant_id": "g1"}))
    assert not s.closed


def test_guard_08_without_required_role():
    registry, guard, _ = guard_setup(role=None)
    s = sub(registry, groups=["account-a"])
    guard(revoke("account-a"))
    assert not s.closed
    guard(create_test_audit_event(event_type="session_revoke_all", target_account_id="account-a"))
    assert s.closed and registry.count == 0


def test_guard_09_closes_every_stream_of_the_account():
    registry, guard, log = guard_setup()
    a1, a2 = sub(registry, groups=["account-a"]), sub(registry, groups=["account-a"])
    assert guard(revoke("account-a")) == 2
    assert a1.closed and a2.closed and registry.count == 0
    assert log.at("info") == ["SSE auth guard: closed 2 stream(s) for account account-a (role_grant_revoke)"]


def test_guard_10_only_the_target_account():
    registry, guard, _ = guard_setup()
    a, b = sub(registry, groups=["account-a"]), sub(registry, groups=["account-b"])
    guard(revoke("account-a"))
    assert a.closed and not b.closed and registry.count == 1


def test_guard_11_login_is_ignored():
    registry, guard, log = guard_setup()
    s = sub(registry, groups=["account-a"])
    assert guard(create_test_audit_event(event_type="login", account_id="account-a")) == 0
    assert not s.closed and log.lines == []


def test_guard_12_admin_session_revoke_all():
    registry, guard, log = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(create_test_audit_event(event_type="session_revoke_all", account_id="admin-account", target_account_id="account-a"))
    assert s.closed and registry.count == 0
    assert log.at("info") == ["SSE auth guard: closed 1 stream(s) for account account-a (session_revoke_all)"]


def test_guard_13_self_service_session_revoke_all():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(create_test_audit_event(event_type="session_revoke_all", account_id="account-a", target_account_id=None))
    assert s.closed


def test_guard_14_session_revoke_all_only_the_target():
    registry, guard, _ = guard_setup()
    a, b = sub(registry, groups=["account-a"]), sub(registry, groups=["account-b"])
    guard(create_test_audit_event(event_type="session_revoke_all", target_account_id="account-a"))
    assert a.closed and not b.closed


def test_guard_15_failed_session_revoke_is_ignored():
    registry, guard, _ = guard_setup()
    s = sub(registry, scope="session-hash-x", groups=["account-a"])
    guard(create_test_audit_event(event_type="session_revoke", outcome="failure", metadata={"session_id": "session-hash-x"}))
    assert not s.closed and registry.count == 1


def test_guard_16_failed_password_change_is_ignored():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(create_test_audit_event(event_type="password_change", outcome="failure", account_id="account-a"))
    assert not s.closed


def test_guard_17_session_revoke_closes_only_that_session():
    registry, guard, log = guard_setup()
    x = sub(registry, scope="session-hash-x", groups=["account-a"])
    y = sub(registry, scope="session-hash-y", groups=["account-a"])
    guard(create_test_audit_event(event_type="session_revoke", account_id="account-a", metadata={"session_id": "session-hash-x"}))
    assert x.closed and not y.closed and registry.count == 1
    assert log.at("info") == ["SSE auth guard: closed 1 stream(s) for session session-hash-x (session_revoke)"]


def test_guard_18_session_revoke_with_null_metadata():
    registry, guard, _ = guard_setup()
    s = sub(registry, scope="session-hash-x", groups=["account-a"])
    guard(create_test_audit_event(event_type="session_revoke", metadata=None))
    assert not s.closed and registry.count == 1


def test_guard_19_session_revoke_never_reads_the_account():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(create_test_audit_event(event_type="session_revoke", account_id="account-a", metadata={"session_id": "session-hash-x"}))
    assert not s.closed


def test_guard_20_self_service_password_change():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(create_test_audit_event(event_type="password_change", account_id="account-a", target_account_id=None))
    assert s.closed and registry.count == 0


# coverage gaps named by the spec


@pytest.mark.parametrize("event_type", ["token_revoke_all", "logout", "password_change", "session_revoke_all"])
def test_guard_account_wide_types_fall_back_to_account_id(event_type):
    registry, guard, log = guard_setup()
    s = sub(registry, groups=["account-a"])
    assert guard(create_test_audit_event(event_type=event_type, account_id="account-a")) == 1
    assert s.closed
    assert log.at("info") == [f"SSE auth guard: closed 1 stream(s) for account account-a ({event_type})"]


def test_guard_any_outcome_but_failure_counts_as_success():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(create_test_audit_event(event_type="logout", outcome="Failure", account_id="account-a"))
    assert s.closed


def test_guard_token_revoke_is_not_guarded():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    guard(create_test_audit_event(event_type="token_revoke", account_id="account-a", metadata={"token_id": "tok"}))
    assert not s.closed


def test_guard_empty_string_scope_is_kept_but_never_closed_by_empty_session_id():
    registry, guard, _ = guard_setup()
    s = sub(registry, scope="")
    assert registry.subscribers() == [(["audit_log"], "", None)]
    guard(create_test_audit_event(event_type="session_revoke", metadata={"session_id": ""}))
    assert not s.closed
    assert registry.close_by_identity("") == 1 and s.closed


def test_guard_nothing_logged_when_nothing_closed():
    registry, guard, log = guard_setup()
    assert guard(create_test_audit_event(event_type="logout", account_id="nobody")) == 0
    assert log.lines == []


def test_guard_reads_the_event_as_javascript_does():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    # missing keys are undefined: the target falls back to account_id
    assert guard({"event_type": "logout", "account_id": "account-a"}) == 1
    assert s.closed
    s2 = sub(registry, scope="7")
    # a non-string session id closes nothing
    assert guard({"event_type": "session_revoke", "metadata": {"session_id": 7}}) == 0
    assert not s2.closed


def test_guard_accepts_the_typed_event_model():
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    event = rt.AuditLogEvent.from_dict(create_test_audit_event(event_type="logout", account_id="account-a"))
    assert guard(event) == 1 and s.closed
    assert guard.required_role == "admin"


# ---------------------------------------------------------------------------------------
# sse_auth_guard.test.ts › create_audit_log_sse


def test_audit_sse_01_broadcasts_every_event():
    sse = rt.create_audit_log_sse(log=RecordingLogger())
    s = MockStream()
    sse.subscribe(s, channels=["audit_log"], groups=["account-a"])
    event = create_test_audit_event(event_type="login")
    assert sse.on_audit_event(event) == 0
    assert len(s.sent) == 1
    assert s.sent[0]["method"] == "login" and s.sent[0]["params"]["id"] == event["id"]


def test_audit_sse_02_role_grant_revoke_closes():
    sse = rt.create_audit_log_sse(log=RecordingLogger())
    s = MockStream()
    sse.subscribe(s, channels=["audit_log"], groups=["account-a"])
    assert sse.on_audit_event(revoke("account-a")) == 1
    assert s.closed and sse.registry.count == 0


def test_audit_sse_03_session_revoke_all_closes():
    sse = rt.create_audit_log_sse(log=RecordingLogger())
    s = MockStream()
    sse.subscribe(s, channels=["audit_log"], groups=["account-a"])
    sse.on_audit_event(create_test_audit_event(event_type="session_revoke_all", target_account_id="account-a"))
    assert s.closed


def test_audit_sse_04_subscribe_delegates_to_the_registry():
    sse = rt.create_audit_log_sse(log=RecordingLogger())
    unsubscribe = sse.subscribe(MockStream(), channels=["audit_log"])
    assert sse.registry.count == 1
    unsubscribe()
    assert sse.registry.count == 0
    assert sse.registry is sse.registry  # one registry object


def test_audit_sse_05_custom_role():
    sse = rt.create_audit_log_sse(role="steward", log=RecordingLogger())
    assert sse.required_role == "steward"
    s = MockStream()
    sse.subscribe(s, channels=["audit_log"], groups=["account-a"])
    sse.on_audit_event(revoke("account-a", role="admin"))
    assert not s.closed
    sse.on_audit_event(revoke("account-a", role="steward"))
    assert s.closed


def test_audit_sse_06_broadcast_comes_before_the_guard():
    sse = rt.create_audit_log_sse(log=RecordingLogger())
    s = MockStream()
    sse.subscribe(s, channels=["audit_log"], groups=["account-a"])
    sse.on_audit_event(revoke("account-a"))
    assert [d["method"] for d in s.sent] == ["role_grant_revoke"]
    assert s.closed


def test_audit_sse_07_default_cap_is_10():
    sse = rt.create_audit_log_sse(log=RecordingLogger())
    streams = [MockStream() for _ in range(11)]
    for s in streams:
        sse.subscribe(s, channels=["audit_log"], scope="session-hash-a", groups=["account-a"])
    assert sse.registry.count == 10 and sse.registry.max_per_scope == rt.AUDIT_LOG_SSE_MAX_PER_SCOPE == 10
    assert [s.closed for s in streams] == [True] + [False] * 10


def test_audit_sse_08_distinct_scopes_are_not_capped():
    sse = rt.create_audit_log_sse(log=RecordingLogger())
    streams = [MockStream() for _ in range(15)]
    for i, s in enumerate(streams):
        sse.subscribe(s, channels=["audit_log"], scope=f"session-hash-{i}", groups=["account-a"])
    assert sse.registry.count == 15 and not any(s.closed for s in streams)


def test_audit_sse_09_no_cap():
    sse = rt.create_audit_log_sse(log=RecordingLogger(), max_per_scope=None)
    for _ in range(13):
        sse.subscribe(MockStream(), channels=["audit_log"], scope="session-hash-a")
    assert sse.registry.count == 13 and sse.registry.max_per_scope is None


def test_audit_sse_10_cap_of_2():
    sse = rt.create_audit_log_sse(log=RecordingLogger(), max_per_scope=2)
    streams = [MockStream() for _ in range(4)]
    for s in streams:
        sse.subscribe(s, channels=["audit_log"], scope="session-hash-a")
    assert sse.registry.count == 2
    assert [s.closed for s in streams] == [True, True, False, False]


def test_audit_sse_failures_are_broadcast_too_and_every_stream_gets_the_same_object():
    sse = rt.create_audit_log_sse(log=RecordingLogger())
    a, b = MockStream(), MockStream()
    sse.subscribe(a, channels=["audit_log"])
    sse.subscribe(b)  # all channels
    event = create_test_audit_event(event_type="login", outcome="failure")
    sse.on_audit_event(event)
    assert a.sent[0] is b.sent[0]
    assert a.sent[0] == {"method": "login", "params": event}
    assert a.sent[0]["params"] is event


def test_audit_sse_log_attribute_and_default_logger():
    log = RecordingLogger()
    assert rt.create_audit_log_sse(log=log).log is log
    default = rt.create_audit_log_sse().log
    assert default is logging.getLogger("authcore.realtime")


def test_audit_sse_rejects_an_event_without_a_string_type():
    sse = rt.create_audit_log_sse(log=RecordingLogger())
    s = MockStream()
    sse.subscribe(s)
    with pytest.raises(rt.AuditLogEventError) as info:
        sse.on_audit_event({"event_type": 5})
    assert info.value.code == "REALTIME_INVALID_EVENT" and info.value.status == 400
    assert isinstance(info.value, ValueError) and isinstance(info.value, rt.RealtimeError)
    assert s.sent == []


# ---------------------------------------------------------------------------------------
# subscriber_registry.test.ts › SubscriberRegistry


def test_registry_01_new_is_empty():
    assert rt.SubscriberRegistry().count == 0


def test_registry_02_subscribe_counts():
    r = rt.SubscriberRegistry()
    r.subscribe(MockStream())
    assert r.count == 1


def test_registry_03_unsubscribe():
    r = rt.SubscriberRegistry()
    unsubscribe = r.subscribe(MockStream())
    unsubscribe()
    assert r.count == 0


def test_registry_04_unfiltered_receive_everything():
    r = rt.SubscriberRegistry()
    a, b = MockStream(), MockStream()
    r.subscribe(a)
    r.subscribe(b)
    r.broadcast("any", {"x": 1})
    assert a.sent == [{"x": 1}] and b.sent == [{"x": 1}]


def test_registry_05_channel_filter():
    r = rt.SubscriberRegistry()
    runs, hosts, every = MockStream(), MockStream(), MockStream()
    r.subscribe(runs, channels=["runs"])
    r.subscribe(hosts, channels=["hosts"])
    r.subscribe(every)
    r.broadcast("runs", "r")
    assert runs.sent == ["r"] and hosts.sent == [] and every.sent == ["r"]


def test_registry_06_several_channels():
    r = rt.SubscriberRegistry()
    s = MockStream()
    r.subscribe(s, channels=["runs", "hosts"])
    for ch in ("runs", "hosts", "other"):
        r.broadcast(ch, ch)
    assert s.sent == ["runs", "hosts"]


def test_registry_07_empty_channels_means_all():
    r = rt.SubscriberRegistry()
    s = MockStream()
    r.subscribe(s, channels=[])
    r.broadcast("whatever", 1)
    assert s.sent == [1]
    assert r.subscribers() == [(None, None, None)]


def test_registry_08_nothing_after_unsubscribe():
    r = rt.SubscriberRegistry()
    s = MockStream()
    unsubscribe = r.subscribe(s)
    r.broadcast("c", "before")
    unsubscribe()
    r.broadcast("c", "after")
    assert s.sent == ["before"]


def test_registry_09_independent_unsubscribes():
    r = rt.SubscriberRegistry()
    a, b = MockStream(), MockStream()
    unsub_a = r.subscribe(a)
    r.subscribe(b)
    assert r.count == 2
    unsub_a()
    assert r.count == 1
    r.broadcast("c", 1)
    assert a.sent == [] and b.sent == [1]


def test_registry_10_broadcast_without_subscribers():
    rt.SubscriberRegistry().broadcast("c", {"x": 1})  # does not raise


def test_registry_11_scope_only():
    r = rt.SubscriberRegistry()
    r.subscribe(MockStream(), scope="session_a")
    assert r.count == 1


def test_registry_12_close_by_scope_identity():
    r = rt.SubscriberRegistry()
    a1, b, a2 = MockStream(), MockStream(), MockStream()
    r.subscribe(a1, scope="session_a")
    r.subscribe(b, scope="session_b")
    r.subscribe(a2, scope="session_a")
    assert r.close_by_identity("session_a") == 2
    assert r.count == 1 and a1.closed and a2.closed and not b.closed


def test_registry_13_close_by_group_identity():
    r = rt.SubscriberRegistry()
    a, b = MockStream(), MockStream()
    r.subscribe(a, groups=["account_a"])
    r.subscribe(b, groups=["account_b"])
    assert r.close_by_identity("account_a") == 1
    assert a.closed and not b.closed


def test_registry_14_scope_and_group_closed_by_scope():
    r = rt.SubscriberRegistry()
    s = MockStream()
    r.subscribe(s, scope="session_a", groups=["account_a"])
    assert r.close_by_identity("session_a") == 1 and s.closed


def test_registry_15_no_match():
    r = rt.SubscriberRegistry()
    s = MockStream()
    r.subscribe(s, scope="session_a", groups=["account_a"])
    assert r.close_by_identity("nobody") == 0 and not s.closed


def test_registry_16_no_identity_is_untouched():
    r = rt.SubscriberRegistry()
    plain, scoped = MockStream(), MockStream()
    r.subscribe(plain)
    r.subscribe(scoped, scope="session_a")
    assert r.close_by_identity("session_a") == 1
    assert r.count == 1 and not plain.closed


def test_registry_17_closed_subscriber_gets_no_broadcast():
    r = rt.SubscriberRegistry()
    s = MockStream()
    r.subscribe(s, scope="session_a")
    r.close_by_identity("session_a")
    r.broadcast("c", 1)
    assert s.sent == []


def test_registry_18_close_on_empty_registry():
    assert rt.SubscriberRegistry().close_by_identity("x") == 0


def test_registry_19_scope_and_group_closed_by_group():
    r = rt.SubscriberRegistry()
    s = MockStream()
    r.subscribe(s, scope="session_a", groups=["account_a"])
    assert r.close_by_identity("account_a") == 1 and s.closed


def test_registry_20_empty_groups_means_none():
    r = rt.SubscriberRegistry()
    r.subscribe(MockStream(), groups=[])
    assert r.close_by_identity("anything") == 0
    assert r.subscribers() == [(None, None, None)]


# subscriber_registry.test.ts › max_per_scope


def test_cap_01_cap_5_with_6():
    r = rt.SubscriberRegistry(5)
    streams = [MockStream() for _ in range(6)]
    for s in streams:
        r.subscribe(s, scope="a")
    assert r.count == 5 and [s.closed for s in streams] == [True] + [False] * 5


def test_cap_02_only_the_scope_is_capped():
    r = rt.SubscriberRegistry(max_per_scope=2)
    a1, a2, b1, a3 = (MockStream(n) for n in ("a1", "a2", "b1", "a3"))
    r.subscribe(a1, scope="a")
    r.subscribe(a2, scope="a")
    r.subscribe(b1, scope="b")
    r.subscribe(a3, scope="a")
    assert a1.closed and not b1.closed and not a2.closed and r.count == 3


def test_cap_03_groups_are_never_capped():
    r = rt.SubscriberRegistry(2)
    streams = [MockStream() for _ in range(5)]
    for i, s in enumerate(streams):
        r.subscribe(s, scope=f"s{i}", groups=["g"])
    assert not any(s.closed for s in streams)
    assert r.close_by_identity("g") == 5


def test_cap_04_no_cap():
    r = rt.SubscriberRegistry()
    for _ in range(20):
        r.subscribe(MockStream(), scope="a")
    assert r.count == 20


def test_cap_05_unscoped_are_never_capped():
    r = rt.SubscriberRegistry(2)
    for _ in range(10):
        r.subscribe(MockStream())
    assert r.count == 10


def test_duplicate_subscription_of_one_stream_gets_every_broadcast_twice():
    r = rt.SubscriberRegistry()
    s = MockStream()
    u1 = r.subscribe(s)
    r.subscribe(s)
    r.broadcast("c", 1)
    assert s.sent == [1, 1] and r.count == 2
    u1()
    r.broadcast("c", 2)
    assert s.sent == [1, 1, 2]


def test_unsubscribe_is_idempotent_and_does_not_close():
    r = rt.SubscriberRegistry()
    s = MockStream()
    unsubscribe = r.subscribe(s)
    assert unsubscribe.active
    assert unsubscribe.unsubscribe() is True
    assert unsubscribe.unsubscribe() is False
    unsubscribe()
    assert not unsubscribe.active and r.count == 0 and not s.closed


def test_close_by_scope_and_group_are_the_namespaced_halves():
    r = rt.SubscriberRegistry()
    s, g = MockStream(), MockStream()
    r.subscribe(s, scope="x")
    r.subscribe(g, groups=["x"])
    assert r.close_by_scope("x") == 1 and s.closed and not g.closed
    assert r.close_by_group("x") == 1 and g.closed


# ---------------------------------------------------------------------------------------
# sse.test.ts › create_sse_response (the ready-made MemorySseStream)


def test_sse_01_headers():
    assert rt.SSE_HEADERS == (
        ("Content-Type", "text/event-stream"),
        ("Cache-Control", "no-cache"),
        ("Connection", "keep-alive"),
        ("Transfer-Encoding", "chunked"),
    )
    assert rt.SSE_RESPONSE_HEADERS == {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        "Connection": "keep-alive",
    }


def test_sse_02_send_then_close():
    s = rt.MemorySseStream()
    s.send({"msg": "hello"})
    s.close()
    assert s.body == C + 'data: {"msg":"hello"}\n\n'


def test_sse_03_comment():
    s = rt.MemorySseStream()
    s.comment("keep-alive")
    assert s.body == C + ": keep-alive\n"


def test_sse_04_send_after_close_is_dropped():
    s = rt.MemorySseStream()
    s.send("before")
    s.close()
    s.send("after")
    assert s.body == C + 'data: "before"\n\n'


def test_sse_05_several_sends():
    s = rt.MemorySseStream()
    for n in (1, 2, 3):
        s.send(n)
    assert s.body == C + "data: 1\n\ndata: 2\n\ndata: 3\n\n"


def test_sse_06_double_close():
    s = rt.MemorySseStream()
    s.close()
    s.close()
    assert s.closed and s.body == C


def test_sse_07_listeners_in_order():
    s = rt.MemorySseStream()
    calls: List[str] = []
    s.on_close(lambda: calls.append("a"))
    s.on_close(lambda: calls.append("b"))
    s.close()
    assert calls == ["a", "b"]


def test_sse_08_listener_once():
    s = rt.MemorySseStream()
    calls: List[str] = []
    s.on_close(lambda: calls.append("a"))
    s.close()
    s.close()
    assert calls == ["a"]


def test_sse_09_comment_after_close_is_dropped():
    s = rt.MemorySseStream()
    s.comment("before")
    s.close()
    s.comment("after")
    assert s.body == C + ": before\n"


def test_sse_10_listener_after_close_never_fires():
    s = rt.MemorySseStream()
    s.close()
    calls: List[str] = []
    s.on_close(lambda: calls.append("late"))
    s.close()
    assert calls == []


def test_sse_11_on_close_unsubscribe():
    r = rt.SubscriberRegistry()
    s = rt.MemorySseStream()
    s.on_close(r.subscribe(s))
    assert r.count == 1
    s.close()
    assert r.count == 0


def test_sse_12_client_abort_fires_on_close():
    s = rt.MemorySseStream()
    calls: List[str] = []
    s.on_close(lambda: calls.append("closed"))
    s.cancel()
    assert calls == ["closed"] and s.closed


def test_sse_13_throwing_listener_is_isolated():
    log = RecordingLogger()
    s = rt.MemorySseStream(log)
    calls: List[str] = []

    def boom():
        raise ValueError("listener b")

    s.on_close(lambda: calls.append("a"))
    s.on_close(boom)
    s.on_close(lambda: calls.append("c"))
    s.close()
    assert calls == ["a", "c"]
    assert log.at("error") == ["on_close listener threw: ValueError: listener b"]


def test_sse_14_broadcast_after_close_and_unsubscribe():
    r = rt.SubscriberRegistry()
    s = rt.MemorySseStream()
    s.on_close(r.subscribe(s))
    s.close()
    r.broadcast("c", {"late": True})
    assert s.body == C


def test_take_body_and_frames_match_render_functions():
    s = rt.MemorySseStream()
    assert s.take_body() == C
    s.send({"a": [1, None]})
    s.comment("x")
    assert s.take_body() == rt.render_data_frame({"a": [1, None]}) + rt.render_comment("x")
    assert s.body == ""


# ---------------------------------------------------------------------------------------
# JSON.stringify parity of data frames (spec §7)


@pytest.mark.parametrize(
    "data",
    [
        {"msg": "hello", "n": 7, "ok": True, "none": None},
        ["é", "日本", "\u2028", "emoji \U0001f600", 'q"\\/'],
        {"nested": {"list": [1, 2, {"k": "v"}], "empty": {}, "e": []}},
        "plain",
        -12,
    ],
)
def test_data_frame_equals_compact_json_dumps_where_python_agrees(data):
    expected = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    assert rt.render_data_frame(data) == f"data: {expected}\n\n"


@pytest.mark.parametrize(
    "data,json_text",
    [
        (1.0, "1"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (-0.0, "0"),
        (float("nan"), "null"),
        (float("inf"), "null"),
        (2**64, "18446744073709552000"),
        (123456789.125, "123456789.125"),
        ({"b": 1, "2": "x", "1": "y"}, '{"1":"y","2":"x","b":1}'),
        ({1: "int key"}, '{"1":"int key"}'),
        ((1, 2), "[1,2]"),
        ("\x01\x1f", '"\\u0001\\u001f"'),
        ("\ud800", '"\\ud800"'),
        (b"ab", '{"type":"Buffer","data":[97,98]}'),
    ],
)
def test_data_frame_uses_javascript_semantics(data, json_text):
    assert rt.render_data_frame(data) == f"data: {json_text}\n\n"


def test_data_frame_datetime_is_to_iso_string():
    import datetime

    dt = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
    assert rt.render_data_frame({"at": dt}) == 'data: {"at":"2024-01-02T03:04:05.678Z"}\n\n'


def test_unserializable_data_is_logged_by_the_stream_not_raised():
    log = RecordingLogger()
    s = rt.MemorySseStream(log)
    s.send({1, 2})
    s.send("after")
    assert s.body == C + 'data: "after"\n\n'
    [line] = log.at("error")
    assert line.startswith("send failed to serialize data: ") and "set" in line
    with pytest.raises(rt.RealtimeSerializeError) as info:
        rt.render_data_frame(object())
    assert info.value.code == "REALTIME_SERIALIZE"
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_comment_with_line_breaks_cannot_inject_fields():
    s = rt.MemorySseStream()
    s.comment("ping\ndata: forged\r\n")
    assert s.body == C + ": ping\n: data: forged\n: \n"


# ---------------------------------------------------------------------------------------
# Host streams: identity, isolation, re-entrancy


def test_send_receives_the_broadcast_object_itself():
    r = rt.SubscriberRegistry()
    a, b = MockStream(), MockStream()
    r.subscribe(a)
    r.subscribe(b)

    class Payload:  # not JSON: a host stream does not need it to be
        pass

    payload = Payload()
    r.broadcast("c", payload)
    assert a.sent[0] is payload and b.sent[0] is payload


def test_raising_send_is_isolated_and_logged():
    log = RecordingLogger()
    r = rt.SubscriberRegistry(log=log)
    good1, good2 = MockStream(), MockStream()

    class Bad(MockStream):
        def send(self, data):
            raise RuntimeError("socket gone")

    mem = rt.MemorySseStream()
    r.subscribe(good1)
    r.subscribe(Bad())
    r.subscribe(mem)
    r.subscribe(good2)
    r.broadcast("c", {"n": 1})
    assert good1.sent == [{"n": 1}] and good2.sent == [{"n": 1}]
    assert mem.body == C + 'data: {"n":1}\n\n'
    assert log.at("error") == ["SubscriberRegistry: send failed: RuntimeError: socket gone"]


def test_raising_send_does_not_skip_the_guard():
    log = RecordingLogger()
    sse = rt.create_audit_log_sse(log=log)

    class Bad(MockStream):
        def send(self, data):
            raise ValueError("boom")

    bad, victim = Bad(), MockStream()
    sse.subscribe(bad, channels=["audit_log"], groups=["other"])
    sse.subscribe(victim, channels=["audit_log"], groups=["account-a"])
    assert sse.on_audit_event(revoke("account-a")) == 1
    assert victim.closed and len(victim.sent) == 1
    assert log.lines == [
        ("error", "SubscriberRegistry: send failed: ValueError: boom"),
        ("info", "SSE auth guard: closed 1 stream(s) for account account-a (role_grant_revoke)"),
    ]


def test_raising_close_still_removes_the_record_and_the_rest_close():
    log = RecordingLogger()
    r = rt.SubscriberRegistry(log=log)

    class Bad(MockStream):
        def close(self):
            super().close()
            raise OSError("close failed")

    bad, good = Bad(), MockStream()
    r.subscribe(bad, groups=["g"])
    r.subscribe(good, groups=["g"])
    assert r.close_by_identity("g") == 2
    assert r.count == 0 and bad.close_calls == 1 and good.closed
    assert log.at("error") == ["SubscriberRegistry: close failed: OSError: close failed"]


def test_raising_close_during_eviction_still_evicts():
    log = RecordingLogger()
    r = rt.SubscriberRegistry(1, log=log)

    class Bad(MockStream):
        def close(self):
            raise RuntimeError("nope")

    r.subscribe(Bad(), scope="s")
    newcomer = MockStream()
    r.subscribe(newcomer, scope="s")
    assert r.count == 1
    r.broadcast("c", 1)
    assert newcomer.sent == [1]
    assert log.at("error") == ["SubscriberRegistry: close failed: RuntimeError: nope"]


def test_on_close_reenters_unsubscribe_during_close_by_identity():
    r = rt.SubscriberRegistry()
    streams = [ListenerStream(str(i)) for i in range(3)]
    subs = []
    for s in streams:
        u = r.subscribe(s, groups=["g"])
        s.on_close(u)
        subs.append(u)
    other = ListenerStream("other")
    other.on_close(r.subscribe(other, groups=["h"]))
    assert r.close_by_identity("g") == 3
    assert r.count == 1 and all(s.close_calls == 1 for s in streams)
    assert not any(u.active for u in subs)


def test_memory_streams_reenter_unsubscribe_during_close_by_identity():
    r = rt.SubscriberRegistry()
    streams = [rt.MemorySseStream() for _ in range(3)]
    for s in streams:
        s.on_close(r.subscribe(s, scope="sess"))
    assert r.close_by_identity("sess") == 3
    assert r.count == 0 and all(s.closed for s in streams)


def test_close_may_reenter_the_registry_further():
    r = rt.SubscriberRegistry()
    seen: List[int] = []

    class Nested(MockStream):
        def close(self):
            super().close()
            seen.append(r.count)
            r.broadcast("c", "from close")
            r.close_by_identity("second")

    first, second = Nested(), MockStream()
    r.subscribe(first, groups=["first"])
    r.subscribe(second, groups=["second"])
    assert r.close_by_identity("first") == 1
    # close-then-remove: during its own close the first record is still there
    assert seen == [2]
    assert second.closed and r.count == 0


def test_keyboard_interrupt_in_send_is_isolated_then_reraised():
    log = RecordingLogger()
    r = rt.SubscriberRegistry(log=log)
    after = MockStream()

    class Interrupted(MockStream):
        def send(self, data):
            super().send(data)
            if len(self.sent) == 1:
                raise KeyboardInterrupt()

    interrupted = Interrupted()
    r.subscribe(interrupted)
    r.subscribe(after)
    with pytest.raises(KeyboardInterrupt):
        r.broadcast("c", 1)
    assert after.sent == [1]
    assert log.at("error") == ["SubscriberRegistry: send failed: KeyboardInterrupt"]
    r.broadcast("c", 2)  # nothing left pending
    assert interrupted.sent == [1, 2] and after.sent == [1, 2]


def test_host_stream_without_on_close_or_comment_is_fine():
    class Minimal:
        def __init__(self):
            self.got: List[Any] = []
            self.closed = False

        def send(self, d):
            self.got.append(d)

        def close(self):
            self.closed = True

    r = rt.SubscriberRegistry()
    m = Minimal()
    r.subscribe(m, scope="s")
    r.broadcast("c", "x")
    assert r.close_by_identity("s") == 1 and m.got == ["x"] and m.closed


def test_eviction_is_silent():
    log = RecordingLogger()
    r = rt.SubscriberRegistry(1, log=log)
    first = rt.MemorySseStream()
    r.subscribe(first, scope="s")
    r.subscribe(rt.MemorySseStream(), scope="s")
    assert first.closed and first.body == C and log.lines == []


def test_threads_subscribe_broadcast_and_close_concurrently():
    r = rt.SubscriberRegistry()
    n_threads, per_thread = 4, 25
    streams: List[List[rt.MemorySseStream]] = [[] for _ in range(n_threads)]
    start = threading.Barrier(n_threads)
    closed: List[Optional[int]] = [None] * n_threads

    def work(t: int) -> None:
        start.wait()
        for i in range(per_thread):
            s = rt.MemorySseStream()
            s.on_close(r.subscribe(s, channels=[f"ch{t}"], scope=f"t{t}-{i}"))
            streams[t].append(s)
            r.broadcast(f"ch{t}", i)
        closed[t] = r.close_by_identity(f"t{t}-0")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert closed == [1] * n_threads
    assert r.count == n_threads * (per_thread - 1)
    for t in range(n_threads):
        last = streams[t][-1]
        assert last.body == C + f"data: {per_thread - 1}\n\n"
        assert streams[t][0].closed


# ---------------------------------------------------------------------------------------
# Loggers


def test_logging_logger_is_accepted(caplog):
    logger = logging.getLogger("test.realtime")
    registry = rt.SubscriberRegistry(log=logger)
    guard = rt.create_sse_auth_guard(registry, "admin", logger)
    registry.subscribe(MockStream(), groups=["account-a"])
    with caplog.at_level(logging.INFO, logger="test.realtime"):
        guard(create_test_audit_event(event_type="logout", account_id="account-a"))
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "SSE auth guard: closed 1 stream(s) for account account-a (logout)")
    ]


def test_default_logger_is_authcore_realtime(caplog):
    r = rt.SubscriberRegistry()
    assert r.log is logging.getLogger("authcore.realtime")

    class Bad(MockStream):
        def send(self, data):
            raise ValueError("x")

    r.subscribe(Bad())
    with caplog.at_level(logging.ERROR, logger="authcore.realtime"):
        r.broadcast("c", 1)
    assert [r.getMessage() for r in caplog.records] == ["SubscriberRegistry: send failed: ValueError: x"]


def test_warn_goes_to_warning_or_warn():
    fuz = RecordingLogger()
    s = rt.MemorySseStream(fuz, buffer_limit=len(C) + 10)
    s.send("x" * 20)
    assert s.closed
    assert fuz.at("warn") == [f"SSE stream closed: client too slow ({len(C)} bytes unread)"]


def test_a_raising_logger_goes_to_the_unraisable_hook(monkeypatch):
    reported: List[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))

    class Broken:
        def info(self, m):
            raise RuntimeError("logger down")

        warning = error = info

    r = rt.SubscriberRegistry()
    guard = rt.create_sse_auth_guard(r, None, Broken())
    s = MockStream()
    r.subscribe(s, groups=["a"])
    assert guard({"event_type": "logout", "account_id": "a"}) == 1
    assert s.closed
    assert [str(e) for e in reported] == ["logger down"]


# ---------------------------------------------------------------------------------------
# The audit event model


def test_audit_event_from_dict_and_back():
    d = create_test_audit_event(seq=7.0, metadata={"count": 1})
    e = rt.AuditLogEvent.from_dict(d)
    assert e.seq == 7 and isinstance(e.seq, int)
    assert list(e.to_dict()) == list(rt.AUDIT_LOG_EVENT_KEYS)
    assert e.to_json() == (
        '{"id":"evt-test","seq":7,"event_type":"login","outcome":"success","actor_id":"actor-test",'
        '"account_id":"acct-test","target_account_id":null,"target_actor_id":null,"ip":"127.0.0.1",'
        '"created_at":"2024-01-01T00:00:00Z","metadata":{"count":1}}'
    )
    assert rt.AuditLogEvent.from_json(e.to_json()) == e
    assert rt.audit_log_event_issues(e) == []


@pytest.mark.parametrize(
    "change,issue",
    [
        ({"extra": 1}, 'unrecognized key "extra"'),
        ({"outcome": "ok"}, "outcome: expected 'success' | 'failure'"),
        ({"event_type": "9bad"}, "event_type: invalid format"),
        ({"event_type": None}, "event_type: expected a string"),
        ({"seq": 1.5}, "seq: expected an integer"),
        ({"seq": True}, "seq: expected an integer"),
        ({"metadata": [1]}, "metadata: expected an object or null"),
        ({"ip": 5}, "ip: expected a string or null"),
        ({"id": None}, "id: expected a string"),
    ],
)
def test_audit_event_validation(change, issue):
    d = create_test_audit_event(**change)
    assert issue in rt.audit_log_event_issues(d)
    with pytest.raises(rt.AuditLogEventError) as info:
        rt.AuditLogEvent.from_dict(d)
    assert issue in info.value.issues
    assert info.value.code == "REALTIME_INVALID_EVENT" and isinstance(info.value, ValueError)


def test_audit_event_missing_key_and_non_object():
    d = create_test_audit_event()
    del d["created_at"]
    assert rt.audit_log_event_issues(d) == ["created_at: expected a string"]
    assert rt.audit_log_event_issues([1]) == ["expected an object"]
    assert rt.audit_log_event_issues({"metadata": {1, 2}, **{}})[0].startswith("cannot convert a set")


def test_audit_event_from_invalid_json():
    with pytest.raises(rt.AuditLogEventError) as info:
        rt.AuditLogEvent.from_json('{"seq": NaN}')
    assert info.value.code == "REALTIME_INVALID_JSON"


def test_constants_and_specs():
    assert rt.AUDIT_LOG_CHANNEL == "audit_log"
    assert rt.SSE_CONNECTED_COMMENT == C
    assert rt.DEFAULT_AUDIT_STREAM_ROLE == "admin"
    assert rt.DISCONNECT_EVENT_TYPES == frozenset(
        {"role_grant_revoke", "session_revoke", "session_revoke_all", "token_revoke_all", "password_change", "logout"}
    )
    assert len(rt.AUDIT_EVENT_TYPES) == 27 and rt.AUDIT_EVENT_TYPES[:3] == ("login", "logout", "bootstrap")
    assert rt.AUDIT_EVENT_TYPES[-1] == "app_settings_update"
    specs = rt.audit_log_event_specs
    assert [s.method for s in specs] == list(rt.AUDIT_EVENT_TYPES)
    spec = specs[rt.AUDIT_EVENT_TYPES.index("role_grant_offer_create")]
    assert spec.description == "Audit log: role grant offer create" and spec.channel == "audit_log"
    assert spec.params(create_test_audit_event()) == []
    assert spec.params({"id": 1}) != []


def test_fuz_app_names_in_both_spellings():
    # fuz_app's code (79281eb) says disconnect_event_types / audit_log_event_specs, its docs
    # DISCONNECT_EVENT_TYPES / AUDIT_LOG_EVENT_SPECS: both are exported, as the same objects.
    assert rt.disconnect_event_types is rt.DISCONNECT_EVENT_TYPES
    assert "logout" in rt.disconnect_event_types and "login" not in rt.disconnect_event_types
    assert rt.AUDIT_LOG_EVENT_SPECS is rt.audit_log_event_specs
    assert isinstance(rt.audit_log_event_specs, list) and len(rt.AUDIT_LOG_EVENT_SPECS) == 27
    assert rt.AUDIT_LOG_EVENT_SPECS[0].method == "login"
    for name in ("disconnect_event_types", "DISCONNECT_EVENT_TYPES", "audit_log_event_specs", "AUDIT_LOG_EVENT_SPECS"):
        assert name in rt.__all__


def test_session_hash_vectors():
    assert rt.hash_session_token("abc") == "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
    assert rt.hash_blake3("") == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"


# ---------------------------------------------------------------------------------------
# §6 decisions


def test_decision_1_account_removal_kept_by_default_opt_in_closes():
    event = create_test_audit_event(event_type="account_delete", target_account_id="account-a")
    assert rt.guard_decision(event, "admin") is None
    assert rt.guard_decision(event, "admin", close_on_account_removal=True) == ("account", "account-a", "account_delete")
    sse = rt.create_audit_log_sse(log=RecordingLogger(), close_on_account_removal=True)
    s = MockStream()
    sse.subscribe(s, groups=["account-a"])
    sse.on_audit_event(create_test_audit_event(event_type="account_purge", account_id="account-a"))
    assert s.closed


def test_decision_2_registry_closes_are_synchronous_for_an_eager_path():
    r = rt.SubscriberRegistry()
    s = rt.MemorySseStream()
    r.subscribe(s, groups=["account-a"])
    assert r.close_by_group("account-a") == 1 and s.closed  # before any audit row


def test_decision_4_role_grant_revoke_never_falls_back_to_the_revoker():
    # fuz_app would close the revoker's own streams (target ?? account_id)
    event = revoke(None, account_id="admin-account")
    assert rt.guard_decision(event, "admin") is None
    registry, guard, _ = guard_setup()
    admin = sub(registry, groups=["admin-account"])
    guard(event)
    assert not admin.closed


def test_decision_5_shared_namespace_kept_opt_in_namespaced():
    event = create_test_audit_event(event_type="session_revoke", metadata={"session_id": "account-a"})
    registry, guard, _ = guard_setup()
    s = sub(registry, groups=["account-a"])
    assert guard(event) == 1 and s.closed  # one namespace, as upstream
    r2 = rt.SubscriberRegistry()
    g2 = rt.create_sse_auth_guard(r2, "admin", RecordingLogger(), namespaced_identities=True)
    s2 = sub(r2, groups=["account-a"])
    assert g2(event) == 0 and not s2.closed
    assert g2(create_test_audit_event(event_type="logout", account_id="account-a")) == 1


def test_decision_8_max_per_scope_zero_or_negative_acts_as_one():
    for cap in (0, -1, -(2**70)):
        r = rt.SubscriberRegistry(cap)
        first, second = MockStream(), MockStream()
        r.subscribe(first, scope="s")
        r.subscribe(second, scope="s")
        assert r.count == 1 and first.closed and not second.closed
    assert rt.SubscriberRegistry(2**70).max_per_scope == 2**63 - 1


def test_decision_8_buffer_limit_closes_a_slow_client():
    log = RecordingLogger()
    s = rt.MemorySseStream(log, buffer_limit=64)
    closed: List[bool] = []
    s.on_close(lambda: closed.append(True))
    s.send("x" * 100)
    assert s.closed and closed == [True] and s.body == C
    assert log.at("warn") == [f"SSE stream closed: client too slow ({len(C)} bytes unread)"]


def test_buffer_limit_is_on_by_default():
    # A client that never reads is cut off at 1 MiB unread instead of growing the server.
    s = rt.MemorySseStream(RecordingLogger())
    chunk = "x" * (64 * 1024)
    sends = 0
    while not s.closed and sends < 100:
        s.send(chunk)
        sends += 1
    assert s.closed and sends <= 17
    assert len(s.body) <= 1024 * 1024
    # 0 restores the original's unbounded buffer; a reader that keeps up is never closed.
    unbounded = rt.MemorySseStream(buffer_limit=0)
    for _ in range(20):
        unbounded.send(chunk)
    assert not unbounded.closed and len(unbounded.body) > 1024 * 1024
    s = rt.MemorySseStream()
    for _ in range(40):
        s.send(chunk)
        s.take_body()
    assert not s.closed


# ---------------------------------------------------------------------------------------
# Wrong argument types


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: rt.SubscriberRegistry("3"), TypeError, "max_per_scope must be an int or None, got str"),
        (lambda: rt.SubscriberRegistry(True), TypeError, "got bool"),
        (lambda: rt.SubscriberRegistry(2.5), TypeError, "got float"),
        (lambda: rt.SubscriberRegistry(log=object()), TypeError, "log must have info"),
        (lambda: rt.SubscriberRegistry().subscribe(42), TypeError, "stream must have send"),
        (lambda: rt.SubscriberRegistry().subscribe(MockStream(), channels="abc"), TypeError, "channels must be a list of str"),
        (lambda: rt.SubscriberRegistry().subscribe(MockStream(), channels=5), TypeError, "channels must be a list of str"),
        (lambda: rt.SubscriberRegistry().subscribe(MockStream(), channels=["a", 1]), TypeError, r"channels\[1\] must be a str"),
        (lambda: rt.SubscriberRegistry().subscribe(MockStream(), scope=5), TypeError, "scope must be a str"),
        (lambda: rt.SubscriberRegistry().subscribe(MockStream(), groups=[b"x"]), TypeError, r"groups\[0\] must be a str"),
        (lambda: rt.SubscriberRegistry().subscribe(MockStream(), scope="\ud800"), ValueError, "lone surrogates"),
        (lambda: rt.SubscriberRegistry().broadcast(5, {}), TypeError, "channel must be a str"),
        (lambda: rt.SubscriberRegistry().close_by_identity(None), TypeError, "id must be a str"),
        (lambda: rt.create_sse_auth_guard("registry", "admin"), TypeError, "registry must be an authcore.realtime.SubscriberRegistry"),
        (lambda: rt.create_sse_auth_guard(rt.SubscriberRegistry(), 5), TypeError, "required_role must be a str"),
        (lambda: rt.create_sse_auth_guard(rt.SubscriberRegistry(), "a", close_on_account_removal=1), TypeError, "must be a bool"),
        (lambda: rt.create_sse_auth_guard(rt.SubscriberRegistry(), "admin")([]), TypeError, "event must be a dict or an AuditLogEvent"),
        (lambda: rt.create_sse_auth_guard(rt.SubscriberRegistry(), "admin")({"x": {1}}), TypeError, "event: cannot convert a set"),
        (lambda: rt.create_audit_log_sse(max_per_scope="10"), TypeError, "max_per_scope must be an int"),
        (lambda: rt.create_audit_log_sse(role=["admin"]), TypeError, "role must be a str"),
        (lambda: rt.guard_decision("event"), TypeError, "event must be a dict"),
        (lambda: rt.MemorySseStream().on_close(5), TypeError, "on_close listener must be callable"),
        (lambda: rt.MemorySseStream().comment(None), TypeError, "text must be a str"),
        (lambda: rt.MemorySseStream(buffer_limit="1"), TypeError, "buffer_limit must be an int"),
        (lambda: rt.MemorySseStream(buffer_limit=-1), ValueError, "non-negative"),
    ],
)
def test_wrong_argument_types(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_guard_accepts_any_mapping():
    from types import MappingProxyType

    assert rt.guard_decision(MappingProxyType({"event_type": "logout", "account_id": "a"})) == ("account", "a", "logout")


# ---------------------------------------------------------------------------------------
# The async drain of the ready-made stream


async def _collect(stream) -> List[bytes]:
    return [chunk async for chunk in stream]


def test_drain_after_close_yields_the_exact_body():
    s = rt.MemorySseStream()
    s.send({"msg": "hello"})
    s.comment("keep-alive")
    s.close()
    chunks = run(_collect(s))
    assert all(isinstance(c, bytes) for c in chunks)
    assert b"".join(chunks) == (C + 'data: {"msg":"hello"}\n\n: keep-alive\n').encode()


def test_drain_waits_for_writes_from_another_thread():
    s = rt.MemorySseStream()

    async def main() -> List[bytes]:
        chunks: List[bytes] = []
        it = s.__aiter__()
        chunks.append(await it.__anext__())  # ": connected"
        writer = threading.Thread(target=lambda: (s.send("é"), s.close()))
        # the loop awaits the next chunk while the writer thread writes (no GIL held by the wait)
        waiting = asyncio.ensure_future(it.__anext__())
        writer.start()
        chunks.append(await waiting)
        chunks.extend([c async for c in it])
        await asyncio.to_thread(writer.join)
        return chunks

    chunks = run(main())
    assert b"".join(chunks) == (C + 'data: "é"\n\n').encode()
    assert chunks[0] == C.encode()


def test_drain_cancelled_by_a_disconnect_fires_on_close():
    r = rt.SubscriberRegistry()
    s = rt.MemorySseStream()
    s.on_close(r.subscribe(s))
    closed: List[str] = []
    s.on_close(lambda: closed.append("closed"))

    async def main() -> None:
        first = asyncio.Event()
        got: List[bytes] = []

        async def consume() -> None:
            async for chunk in s:
                got.append(chunk)
                first.set()

        task = asyncio.ensure_future(consume())
        await first.wait()
        assert got == [C.encode()]
        task.cancel()
        results = await asyncio.gather(task, return_exceptions=True)
        assert isinstance(results[0], asyncio.CancelledError)

    run(main())
    assert s.closed and closed == ["closed"] and r.count == 0


def test_next_chunk_returns_none_at_the_end():
    s = rt.MemorySseStream()
    s.close()

    async def main():
        return [await s.next_chunk(), await s.next_chunk()]

    assert run(main()) == [C.encode(), None]


def test_starlette_streaming_response_round_trip():
    import httpx  # pinned in requirements-dev.txt, like starlette
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    sse = rt.create_audit_log_sse(log=RecordingLogger())
    token = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
    session_hash = rt.hash_session_token(token)
    other_admin = create_test_audit_event(
        id="evt-1", seq=1, event_type="session_revoke_all", account_id="admin", target_account_id="someone-else",
        metadata={"count": 1},
    )
    own_revoke = create_test_audit_event(
        id="evt-2", seq=2, event_type="session_revoke", account_id="account-a", metadata={"session_id": session_hash},
    )

    async def stream_route(request):
        stream = rt.MemorySseStream()
        stream.on_close(sse.subscribe(stream, channels=[rt.AUDIT_LOG_CHANNEL], scope=session_hash, groups=["account-a"]))
        loop = asyncio.get_running_loop()
        # what the app does later, while the body is streaming
        loop.call_soon(sse.on_audit_event, other_admin)
        loop.call_soon(sse.on_audit_event, own_revoke)
        return StreamingResponse(stream, headers=rt.SSE_RESPONSE_HEADERS)

    app = Starlette(routes=[Route("/api/admin/audit/stream", stream_route)])

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/api/admin/audit/stream")

    resp = run(main())
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/event-stream"
    assert resp.headers["cache-control"] == "no-cache"
    frames = resp.text.split("\n\n")
    assert resp.text.startswith(C)
    first = json.loads(frames[1][len("data: ") :])
    assert first["method"] == "session_revoke_all" and rt.audit_log_event_issues(first["params"]) == []
    second = json.loads(frames[2][len("data: ") :])
    assert second == {"method": "session_revoke", "params": own_revoke}
    assert frames[3:] == [""]  # the stream was closed by its own session's revocation
    assert sse.registry.count == 0


def test_integration_admin_revoke_of_another_account_keeps_the_stream_open():
    sse = rt.create_audit_log_sse(log=RecordingLogger())
    s = rt.MemorySseStream()
    s.on_close(sse.subscribe(s, channels=["audit_log"], scope="hash-a", groups=["account-a"]))
    sse.on_audit_event(create_test_audit_event(event_type="session_revoke_all", account_id="admin", target_account_id="account-b"))
    body = s.take_body()
    assert body.startswith(C) and body.count("\n\ndata: ") == 1 and not s.closed
    sse.on_audit_event(create_test_audit_event(event_type="session_revoke_all", account_id="account-a"))
    assert s.closed and sse.registry.count == 0


def test_objects_are_released():
    r = rt.SubscriberRegistry()

    class Tracked(MockStream):
        pass

    import weakref

    t = Tracked()
    ref = weakref.ref(t)
    unsubscribe = r.subscribe(t)
    del t
    gc.collect()
    assert ref() is not None  # the registry holds it
    unsubscribe()
    gc.collect()
    assert ref() is None
