"""Python replay of the node-auth-core differential vectors.

``ffi-tests/vectors/differential/node-auth-core.json`` holds what awesome-node-auth 1.9.0
answered (``expect``) on randomised inputs, and for deliberate differences (``kept``) what
@authcore/node-auth-core answers instead. The capabilities that exist in Python are replayed
here through the public API: bcryptjs salt strings and cost rule
(``authcore.password.bcrypt_hash_with_salt``/``bcrypt_hash``), bcrypt compare of well-formed
hashes (``bcrypt_verify``) and HS256/384/512 verification (``authcore.jwt.decode``, the PyJWT
API, against ``jwt.verify(token, secret)``). Skipped, by rule, are only inputs Python cannot
take (strings with lone surrogates, non-string arguments, negative or fractional costs) and
the points where PyJWT's API is not jsonwebtoken's: a non-numeric ``iat`` (PyJWT refuses it),
and the cases kept for Node (non-object payloads, ``crit``, size), whose Python answer is a
refusal as well (checked).
"""

from __future__ import annotations

import json
import math
import pathlib
import re

import pytest

import authcore.jwt as jwt
import authcore.password as pw

FILE = pathlib.Path(__file__).resolve().parent.parent / "vectors" / "differential" / "node-auth-core.json"
DOC = json.loads(FILE.read_text(encoding="utf-8"))
WELL_FORMED_BCRYPT = re.compile(r"^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$")


def _has_lone_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _dec(v):
    if isinstance(v, dict):
        if set(v) == {"$number"}:
            return float(v["$number"])
        if set(v) == {"$undefined"}:
            return None
        return {k: _dec(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dec(x) for x in v]
    return v


def _want(case):
    return case["kept"]["ours"] if "kept" in case else case["expect"]


def _payload(token: str):
    seg = token.split(".")[1]
    import base64

    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def _replayable(case) -> str | None:
    """None when Python can replay the case, else why not."""
    i = _dec(case["input"])
    op = case["op"]
    if op == "password.hash_salt":
        if not isinstance(i.get("password"), str) or not isinstance(i.get("salt"), str):
            return "non-string argument"
        if _has_lone_surrogate(i["password"]):
            return "lone surrogate"
        return None
    if op == "password.hash_rounds":
        r = i.get("rounds")
        if not isinstance(i.get("password"), str) or _has_lone_surrogate(i["password"]):
            return "password Python cannot take"
        if not isinstance(r, (int, float)) or isinstance(r, bool) or r is None:
            return "cost not a number"
        if isinstance(r, float) and (not math.isfinite(r) or r != int(r)) or r < 0:
            return "Python costs are unsigned integers"
        return None
    if op == "password.compare":
        if not isinstance(i.get("password"), str) or not isinstance(i.get("hash"), str):
            return "non-string argument"
        if _has_lone_surrogate(i["password"]) or not WELL_FORMED_BCRYPT.match(i["hash"]):
            return "not a well-formed bcrypt hash (Python's bcrypt_verify is strict)"
        return None
    if op in ("token.verifyAccessToken", "token.verifyRefreshToken"):
        t = i.get("token")
        if not isinstance(t, str):
            return "non-string token"
        try:
            p = _payload(t)
        except Exception:  # noqa: BLE001 - an undecodable payload is replayable (a refusal)
            return None
        if isinstance(p, dict) and "iat" in p and not isinstance(p["iat"], (int, float)):
            return "PyJWT refuses a non-numeric iat (jsonwebtoken ignores it)"
        return None
    return "no Python capability"


CASES = [pytest.param(c, id=c["id"]) for c in DOC["cases"] if _replayable(c) is None]


def test_a_fair_share_is_replayed():
    assert len(DOC["seeds"]) >= 3
    ops = {c.values[0]["op"] for c in CASES}
    for op in ("password.hash_salt", "password.hash_rounds", "password.compare", "token.verifyAccessToken", "token.verifyRefreshToken"):
        assert op in ops, op
    assert len(CASES) >= 150, len(CASES)


@pytest.mark.parametrize("case", CASES)
def test_case(case):
    i = _dec(case["input"])
    want = _want(case)
    op = case["op"]
    if op == "password.hash_salt":
        if "ok" in want:
            assert pw.bcrypt_hash_with_salt(i["password"], i["salt"]) == want["ok"]
        else:
            with pytest.raises(pw.UnsupportedParametersError) as e:
                pw.bcrypt_hash_with_salt(i["password"], i["salt"])
            assert str(e.value).endswith(want["error"]["message"]), str(e.value)
    elif op == "password.hash_rounds":
        if "ok" in want:
            h = pw.bcrypt_hash(i["password"], int(i["rounds"]))
            assert h[:7] == want["ok"]["prefix"] and len(h) == want["ok"]["length"]
            assert pw.bcrypt_verify(i["password"], h) is want["ok"]["roundTrip"]
        else:
            pytest.fail(f"unexpected refusal for an unsigned cost: {want}")
    elif op == "password.compare":
        assert pw.bcrypt_verify(i["password"], i["hash"]) is want["ok"]
    else:
        secret = i["config"]["accessTokenSecret" if op == "token.verifyAccessToken" else "refreshTokenSecret"]
        algorithms = ["HS256", "HS384", "HS512"]
        # Node's kept refusals (non-object payloads, crit, size, our token_use markers) are
        # node-auth-core rules; plain PyJWT decoding answers like jsonwebtoken, except that it
        # too refuses what is not a JSON object, a crit header and an oversized token.
        theirs = case["expect"]
        kept = case.get("kept", {}).get("ref", "")
        if "ok" in theirs and ("Token claims" in kept or "kept" not in case):
            assert jwt.decode(i["token"], secret, algorithms=algorithms) == theirs["ok"]
        else:
            with pytest.raises(jwt.PyJWTError):
                jwt.decode(i["token"], secret, algorithms=algorithms)
