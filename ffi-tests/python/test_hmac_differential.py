"""Python replay of the recorded differential vectors of the HMAC signing track
(``ffi-tests/vectors/differential/node-hmac-auth-core.json``, written by
``ffi-tests/differential/run.mjs --suite node-hmac-auth-core --record`` from what
@naskot/node-hmac-auth-core 1.0.0 answered), through ``authcore.hmac``.

Replayed: every case whose inputs Python can state as the original received them. Left out
(each counted): kept cases (docs/compat.md), timestamps that are not finite numbers (Python
raises ``HmacInputError``: docs/compat.md, Python section), and inputs with JS-only values
(``undefined``, ``-0``, Dates). A case the original answered with an error must raise.
Text the functions return (payloads, the trimmed client id) carries U+FFFD for a lone
surrogate of the input (docs/compat.md, Python section); hashes and signatures are the
original's bytes.
"""

from __future__ import annotations

import json
import math
import pathlib

import pytest

import authcore.hmac as h

DOC = json.loads(
    (pathlib.Path(__file__).resolve().parent.parent / "vectors" / "differential" / "node-hmac-auth-core.json").read_text(
        encoding="utf-8"
    )
)


def _tagged(v) -> bool:
    if isinstance(v, dict):
        if len(v) == 1 and next(iter(v)) in ("$undefined", "$number", "$date"):
            return True
        return any(_tagged(x) for x in v.values())
    if isinstance(v, list):
        return any(_tagged(x) for x in v)
    return False


def _replayable(case) -> bool:
    inp = case["input"]
    if case["op"] in ("verifyHttpSignature", "clients.scenario", "middleware.scenario"):
        return False  # a Node RedisLikeClient's command trace, Express-style req/res
    if case.get("kept") or _tagged(inp):
        return False
    if case["op"] in ("signRequest", "buildSigningPayload"):
        ts = inp["timestamp"]
        return isinstance(ts, (int, float)) and not isinstance(ts, bool) and math.isfinite(ts)
    return True


CASES = [c for c in DOC["cases"] if _replayable(c)]


def test_enough_cases_are_replayed():
    assert len(DOC["seeds"]) >= 3
    assert len(CASES) >= 500, f"{len(CASES)} of {len(DOC['cases'])}"
    assert {c["op"] for c in CASES} == {
        "buildSigningPayload",
        "signRequest",
        "hashClientSecret",
        "hashBody",
        "safeEqualHex",
        "buildMessageSigningPayload",
        "signMessage",
        "verifyMessage",
    }


def _ts(v):
    return int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 2**53 else v


def _run(op: str, i: dict):
    if op == "hashClientSecret":
        return h.hash_client_secret(i["secret"], i.get("secretToken"))
    if op == "hashBody":
        return h.hash_body(i["body"])
    if op == "safeEqualHex":
        return h.safe_equal_hex(i["a"], i["b"])
    if op == "buildSigningPayload":
        return h.build_signing_payload(i["method"], i["path"], _ts(i["timestamp"]), i["nonce"], i["body"])
    if op == "signRequest":
        return h.sign_request(i["method"], i["path"], _ts(i["timestamp"]), i["nonce"], i["body"], i["secret"])
    if op == "buildMessageSigningPayload":
        return h.build_message_signing_payload(i["clientId"], i["messageHash"])
    kwargs = {"secret_is_hashed": bool(i.get("secretIsHashed", False)), "hash_token": i.get("hashToken")}
    if op == "signMessage":
        s = h.sign_message(i["clientId"], i["message"], i["secret"], **kwargs)
        return {"clientId": s.client_id, "messageHash": s.message_hash, "signature": s.signature}
    if op == "verifyMessage":
        sig = i["signature"]
        if sig == "sign":
            sig = h.sign_message(i["clientId"], i["message"], i["secret"], **kwargs).signature
        return h.verify_message(i["clientId"], i["message"], i["secret"], sig, **kwargs)
    raise AssertionError(f"unknown op {op}")


def _lossy(v):
    if isinstance(v, str):
        return v.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(v, dict):
        return {k: _lossy(x) for k, x in v.items()}
    return v


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_replay(case):
    want = case["expect"]
    if "error" in want:
        with pytest.raises(Exception):
            _run(case["op"], case["input"])
    else:
        assert _run(case["op"], case["input"]) == _lossy(want["ok"])
