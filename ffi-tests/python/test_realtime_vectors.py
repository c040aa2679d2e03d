"""Python runner of ``ffi-tests/vectors/realtime.json`` (fuz_app's realtime SSE auth guard,
``core/src/realtime``), through the public ``authcore.realtime`` API. An op this runner
does not know fails its case: nothing is skipped.

- ``guard_decision {event, required_role}`` → ``{kind, identity, event_type}`` or ``null``:
  :func:`authcore.realtime.guard_decision` on the event dict (JavaScript reading), and the
  same decision from :class:`AuditLogEvent` wherever the row has the strict shape;
- ``session_hash {token}`` → :func:`authcore.realtime.hash_session_token`;
- ``data_frame {data}`` → the bytes a :class:`MemorySseStream` writes for ``send(data)``
  (also :func:`render_data_frame`);
- ``comment_frame {text}`` → the bytes of ``comment(text)`` (also :func:`render_comment`).
"""

from __future__ import annotations

import json
import pathlib
from collections import Counter

import pytest

from authcore import realtime as rt

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "vectors" / "realtime.json"
DOC = json.loads(VECTORS.read_text(encoding="utf-8"))
CASES = [pytest.param(case, id=case["id"]) for case in DOC["cases"]]
C = rt.SSE_CONNECTED_COMMENT


def test_vector_file_is_present():
    ops = Counter(case["op"] for case in DOC["cases"])
    assert ops["guard_decision"] > 0 and ops["session_hash"] == 4
    assert ops["data_frame"] > 0 and ops["comment_frame"] > 0


def _stream_bytes(write) -> str:
    stream = rt.MemorySseStream()
    write(stream)
    body = stream.take_body()
    assert body.startswith(C), "every stream body starts with the connected comment"
    return body[len(C) :]


def _decision(case):
    inp = case["input"]
    event, role = inp["event"], inp.get("required_role")
    got = rt.guard_decision(event, role)
    if not rt.audit_log_event_issues(event):
        typed = rt.guard_decision(rt.AuditLogEvent.from_dict(event), role)
        assert typed == got, "the typed row decides like the dict"
    return None if got is None else got._asdict()


def run(case):
    op, inp = case["op"], case["input"]
    if op == "guard_decision":
        return _decision(case)
    if op == "session_hash":
        got = rt.hash_session_token(inp["token"])
        assert rt.hash_blake3(inp["token"]) == got
        return got
    if op == "data_frame":
        got = _stream_bytes(lambda s: s.send(inp["data"]))
        assert rt.render_data_frame(inp["data"]) == got
        return got
    if op == "comment_frame":
        got = _stream_bytes(lambda s: s.comment(inp["text"]))
        assert rt.render_comment(inp["text"]) == got
        return got
    pytest.fail(f"unknown op {op!r}: the Python runner must implement every op")


@pytest.mark.parametrize("case", CASES)
def test_realtime_vector(case):
    assert run(case) == case["expected"], case.get("note", "")


def test_unknown_op_fails():
    with pytest.raises(pytest.fail.Exception, match="unknown op"):
        run({"id": "x", "op": "no_such_op", "input": {}})
