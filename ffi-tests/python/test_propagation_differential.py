"""Python replay of the recorded propagation differential vectors
(``ffi-tests/vectors/differential/propagation.json``, written by
``ffi-tests/differential/run.mjs --suite propagation --record`` from what
@naskot/node-hmac-auth-core-propagation 1.0.0 answered), through ``authcore.propagation``:
``buildQueueName`` (name or the exact message of the original's ``Error``, raised as
``PropagationQueueNameError``), ``DEFAULT_AMQP_VHOST`` and ``HmacPropagationError``'s code
and message (``PropagationError(code, message)``, the message defaulting to the code).

Left out (counted): names with lone surrogates (Rust strings cannot hold them),
``HmacPropagationError`` inputs with JS-only values or a cause, and ``createPropagator``'s
option checks, which Python states differently (keyword arguments; tested in the Python
propagation suite). The flows (``flow.scenario``) are replayed by
``test_propagation_flows_differential.py``.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from authcore import propagation as p

DOC = json.loads(
    (pathlib.Path(__file__).resolve().parent.parent / "vectors" / "differential" / "propagation.json").read_text(
        encoding="utf-8"
    )
)


def _well_formed(s) -> bool:
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _tagged(v) -> bool:
    if isinstance(v, dict):
        if len(v) == 1 and next(iter(v)) in ("$undefined", "$number", "$date"):
            return True
        return any(_tagged(x) for x in v.values())
    if isinstance(v, list):
        return any(_tagged(x) for x in v)
    return False


def _replayable(c) -> bool:
    if c.get("kept"):
        return False
    i = c["input"]
    if c["op"] == "buildQueueName":
        return isinstance(i["amqpQueue"], str) and _well_formed(i["amqpQueue"])
    if c["op"] == "DEFAULT_AMQP_VHOST":
        return True
    if c["op"] == "HmacPropagationError":
        return not _tagged(i) and "cause" not in i and isinstance(i.get("message", ""), str)
    return False


CASES = [c for c in DOC["cases"] if _replayable(c)]


def test_enough_propagation_cases_are_replayed():
    assert len(DOC["seeds"]) >= 3
    ops = {c["op"] for c in CASES}
    assert ops == {"buildQueueName", "DEFAULT_AMQP_VHOST", "HmacPropagationError"}, ops
    assert len([c for c in CASES if c["op"] == "buildQueueName"]) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_propagation_replay(case):
    i = case["input"]
    want = case["expect"]
    if case["op"] == "buildQueueName":
        if "error" in want:
            with pytest.raises(p.PropagationQueueNameError) as e:
                p.build_queue_name(i["amqpQueue"])
            assert str(e.value) == want["error"]["message"]
            assert isinstance(e.value, ValueError)
        else:
            assert p.build_queue_name(i["amqpQueue"]) == want["ok"]
    elif case["op"] == "DEFAULT_AMQP_VHOST":
        assert p.DEFAULT_AMQP_VHOST == want["ok"]
    else:
        e = p.PropagationError(i["code"], i.get("message"))
        assert e.code == want["ok"]["code"]
        assert str(e) == want["ok"]["message"]
