"""Python replay of the recorded realtime differential vectors
(``ffi-tests/vectors/differential/fuz-app-realtime.json``: what fuz_app 79281eb answered to
random scenarios; ffi-tests/differential/README.md) through ``authcore.realtime``.

Replayed: the scenarios whose every step Python can state as the original received it
(registries with integer or no caps, mock host streams incl. ones whose ``close()`` runs
``on_close`` listeners and ones that subscribe a newcomer from inside ``send``, the
ready-made stream (``MemorySseStream``: its body bytes), subscribe / unsubscribe /
broadcast / close_by_identity / count, the guard, the audit-log factory and
``hash_session_token`` of strings); the generator makes 50 such ``portable`` scenarios per
seed. Left out: options that are not objects, JS-only values (``undefined`` inside data, ``-0``, Dates,
``Infinity``/fractional caps), lone surrogates (Python refuses them in identities,
docs/compat.md) and kept cases. Compared: ``close_by_identity``/``count``/``hash`` values,
what every mock stream received (``render_data_frame``, i.e. ``JSON.stringify``), its
``close()`` calls, every ready-made stream's body (its status and headers are Node's), the
``on_close`` calls in order and the guard's info lines.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from authcore import realtime as rt

DOC = json.loads(
    (pathlib.Path(__file__).resolve().parent.parent / "vectors" / "differential" / "fuz-app-realtime.json").read_text(
        encoding="utf-8"
    )
)
SURROGATE = re.compile("[\ud800-\udfff]")
STEPS = {
    "registry", "audit_sse", "stream", "subscribe", "unsubscribe", "broadcast", "close_by_identity", "count",
    "make_guard", "guard_event", "audit_event", "hash", "stream_send", "stream_comment", "stream_close",
    "stream_on_close", "stream_on_close_adder",
}


def _tagged(v) -> bool:
    if isinstance(v, dict):
        if len(v) == 1 and next(iter(v)) in ("$undefined", "$number", "$date"):
            return True
        return any(_tagged(x) for x in v.values())
    if isinstance(v, list):
        return any(_tagged(x) for x in v)
    return False


def _event(e: dict) -> dict:
    # `undefined` members of an audit row are absent keys.
    return {k: v for k, v in e.items() if v != {"$undefined": True}}


def _replayable(case) -> bool:
    if case.get("kept"):
        return False
    steps = case["input"]["steps"]
    text = json.dumps(case, ensure_ascii=False)
    if SURROGATE.search(text):
        return False
    for s in steps:
        if s["op"] not in STEPS:
            return False
        if s["op"] == "registry":
            o = s["options"]
            if o == {"$undefined": True} or o == {}:
                continue
            if not isinstance(o, dict) or not (o.get("max_per_scope") is None or type(o["max_per_scope"]) is int):
                return False
        if s["op"] in ("subscribe", "stream") and "options" in s:
            o = s["options"]
            if o != {"$undefined": True} and not isinstance(o, dict):
                return False
        if s["op"] in ("guard_event", "audit_event"):
            if _tagged(_event(s["event"])):
                return False
        elif _tagged({k: v for k, v in s.items() if k != "options"}):
            return False
        if s["op"] == "hash" and not isinstance(s["value"], str):
            return False
    return True


CASES = [c for c in DOC["cases"] if _replayable(c)]


def test_enough_scenarios_are_replayed():
    assert len(DOC["seeds"]) >= 3
    assert len(CASES) >= 100, f"{len(CASES)} of {len(DOC['cases'])}"
    ops = {s["op"] for c in CASES for s in c["input"]["steps"]}
    assert {"guard_event", "audit_event", "close_by_identity", "broadcast", "subscribe"} <= ops


class Log:
    def __init__(self):
        self.lines = []

    def info(self, msg):
        self.lines.append(f"info {msg}")

    def warning(self, msg):
        self.lines.append(f"warn {msg}")

    def error(self, msg):
        self.lines.append(f"error {msg}")


class Mock:
    def __init__(self, rec, listening=False, on_first_send=None):
        self.rec, self.listening, self.on_first_send = rec, listening, on_first_send
        self.fns, self.closed = [], False

    def send(self, data):
        self.rec["sent"].append(rt.render_data_frame(data)[len("data: ") : -2])
        if self.on_first_send and len(self.rec["sent"]) == 1:
            self.on_first_send()

    def comment(self, text):
        self.rec["comments"].append(text)

    def close(self):
        self.rec["closes"] += 1
        if not self.listening or self.closed:
            return
        self.closed = True
        for fn in self.fns:  # a list grows while iterated, like the JS array
            fn()

    def on_close(self, fn):
        if self.listening and not self.closed:
            self.fns.append(fn)


def _subscribe_kwargs(o):
    if o == {"$undefined": True} or o is None:
        return {}
    return {k: o[k] for k in ("channels", "scope", "groups") if k in o}


def _run(case):
    log = Log()
    regs, sses, streams, recs, guards, handles, calls = [], [], [], [], [], [], []
    out = []

    def new_mock(**kw):
        rec = {"kind": "mock", "sent": [], "closes": 0, "comments": []}
        recs.append(rec)
        m = Mock(rec, **kw)
        streams.append(m)
        return m

    for s in case["input"]["steps"]:
        op = s["op"]
        if op == "registry":
            o = s["options"]
            cap = o.get("max_per_scope") if isinstance(o, dict) else None
            regs.append(rt.SubscriberRegistry(cap, log=log))
        elif op == "audit_sse":
            kw = {k: s["options"][k] for k in ("role", "max_per_scope") if k in s["options"]}
            sse = rt.create_audit_log_sse(log=log, **kw)
            sses.append(sse)
            regs.append(sse.registry)
        elif op == "stream":
            if s["kind"] == "sse":
                rec = {"kind": "sse"}
                recs.append(rec)
                streams.append(rt.MemorySseStream(log=log))
            elif s["kind"] == "joiner":
                reg, opts = s["reg"], s["options"]
                new_mock(on_first_send=lambda reg=reg, opts=opts: regs[reg].subscribe(new_mock(), **_subscribe_kwargs(opts)))
            else:
                new_mock(listening=s["kind"] == "listening")
        elif op == "subscribe":
            unsub = regs[s["reg"]].subscribe(streams[s["stream"]], **_subscribe_kwargs(s["options"]))
            handles.append(unsub)
            if s["route"]:
                streams[s["stream"]].on_close(unsub)
        elif op == "unsubscribe":
            handles[s["handle"]]()
        elif op == "broadcast":
            regs[s["reg"]].broadcast(s["channel"], s["data"])
        elif op == "close_by_identity":
            out.append((len(out), regs[s["reg"]].close_by_identity(s["identity"])))
        elif op == "count":
            out.append((len(out), regs[s["reg"]].count))
        elif op == "make_guard":
            guards.append(rt.create_sse_auth_guard(regs[s["reg"]], s["role"], log))
        elif op == "guard_event":
            guards[s["guard"]](_event(s["event"]))
        elif op == "audit_event":
            sses[s["sse"]].on_audit_event(_event(s["event"]))
        elif op == "hash":
            out.append((len(out), rt.hash_session_token(s["value"])))
        elif op == "stream_send":
            streams[s["stream"]].send(s["data"])
        elif op == "stream_comment":
            streams[s["stream"]].comment(s["text"])
        elif op == "stream_close":
            streams[s["stream"]].close()
        elif op == "stream_on_close":
            label = f"{s['stream']}:L{len(calls)}"
            streams[s["stream"]].on_close(lambda label=label: calls.append(label))
        elif op == "stream_on_close_adder":
            st, i = streams[s["stream"]], s["stream"]

            def adder(st=st, i=i):
                calls.append(f"{i}:adder")
                st.on_close(lambda: calls.append(f"{i}:added"))

            st.on_close(adder)
    for rec, st in zip(recs, streams):
        if rec["kind"] == "sse":
            st.close()
            rec["body"] = st.take_body()
    return [v for _, v in out], recs, calls, [line for line in log.lines if line.startswith("info ")]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_replay(case):
    values, recs, calls, info = _run(case)
    want = case["expect"]
    kept_ops = ("close_by_identity", "count", "hash")
    want_values = [r["ok"] for s, r in zip(case["input"]["steps"], want["results"]) if s["op"] in kept_ops]
    assert values == want_values
    assert recs == [{"kind": "sse", "body": r["body"]} if r["kind"] == "sse" else r for r in want["streams"]]
    assert calls == want["calls"]
    assert info == [line for line in want["logs"] if line.startswith("info ")]
