"""Python runner of the shared vectors (ffi-tests/README.md).

Runs every case of ``vectors/naskot/*.json`` (upstream schema) and ``vectors/hmac-*.json``
(common schema) through the public ``authcore.hmac`` API. An unknown op fails the case.
"""

from __future__ import annotations

import json
import pathlib

import pytest

import authcore.hmac as h
from authcore.errors import HmacAuthError, HmacError

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "vectors"

# ECMAScript WhiteSpace + LineTerminator (what String#trim strips).
JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _load(pattern: str):
    cases = []
    for path in sorted(VECTORS.glob(pattern)):
        data = json.loads(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            cases.append(pytest.param(path.name, case, id=f"{path.name}:{case['id']}"))
    return cases


NASKOT = _load("naskot/*.json")
COMMON = _load("hmac-*.json")


def test_vector_files_are_present():
    assert len(NASKOT) == 53, "20 hash-client-secret + 33 sign-request upstream vectors"
    assert len(COMMON) > 0


@pytest.mark.parametrize("file,case", NASKOT)
def test_naskot(file, case):
    if file == "hash-client-secret.json":
        got = h.hash_client_secret(case["secret"], case["secretToken"] or None)
    elif file == "sign-request.json":
        got = h.sign_request(
            case["method"], case["path"], case["timestamp"], case["nonce"], case["body"], case["secret"]
        )
    else:
        pytest.fail(f"unknown upstream vector file {file}")
    assert got == case["expectedHex"]


def _body(inp):
    if "bodyHex" in inp:
        return bytes.fromhex(inp["bodyHex"])
    return inp.get("body", "")


def _header(headers, name):
    """The original's getHeader: first case-insensitive match, arrays give element 0."""
    for key, value in headers.items():
        if key.lower() == name:
            if isinstance(value, list):
                return value[0] if value else None
            return value
    return None


def _verify_with_record(inp):
    auth = h.HmacHttpAuth()  # a fresh embedded memory store per case
    client_id = _header(inp["headers"], "x-client-id")
    if inp.get("record") is not None and isinstance(client_id, str):
        auth.store.hset(f"{auth.namespace}:clients", client_id.strip(JS_WHITESPACE), inp["record"])
    verified = auth.verify(
        inp["method"],
        inp["path"],
        inp["headers"],
        _body(inp),
        now=inp["now"],
        max_skew_ms=inp.get("maxSkewMs"),
        ip_candidates=inp.get("ipCandidates", []),
    )
    return verified.to_dict()


def _run(op, inp):
    if op == "hash_client_secret":
        return h.hash_client_secret(inp["secret"], inp.get("secretToken"))
    if op == "hash_body":
        return h.hash_body(_body(inp))
    if op == "build_signing_payload":
        return h.build_signing_payload(inp["method"], inp["path"], inp["timestamp"], inp["nonce"], _body(inp))
    if op == "sign_request":
        return h.sign_request(inp["method"], inp["path"], inp["timestamp"], inp["nonce"], _body(inp), inp["secret"])
    if op == "normalize_path":
        return h.normalize_path(inp["path"])
    if op == "safe_equal_hex":
        return h.safe_equal_hex(inp["a"], inp["b"])
    if op == "message_canonical":
        return h.message_canonical(inp["message"])
    if op == "sign_message":
        return h.sign_message(
            inp["clientId"],
            inp["message"],
            inp["secret"],
            secret_is_hashed=inp.get("secretIsHashed", False),
            hash_token=inp.get("hashToken"),
        ).to_dict()
    if op == "verify_message":
        return h.verify_message(
            inp["clientId"],
            inp["message"],
            inp["secret"],
            inp["signature"],
            secret_is_hashed=inp.get("secretIsHashed", False),
            hash_token=inp.get("hashToken"),
        )
    if op == "ip_allowed":
        return h.is_client_ip_allowed(inp["ip"], inp["rules"])
    if op == "normalize_allowed_ips":
        return h.normalize_allowed_ip_rules(inp["rules"])
    if op == "parse_record":
        return h.parse_stored_client_record(inp["raw"])
    if op == "verify_with_record":
        return _verify_with_record(inp)
    pytest.fail(f"unknown op {op!r}: the Python runner must implement every op")


@pytest.mark.parametrize("file,case", COMMON)
def test_common(file, case):
    expect = case["expect"]
    if "ok" in expect:
        got = _run(case["op"], case["input"])
        assert got == expect["ok"]
        if isinstance(expect["ok"], (int, float)) and not isinstance(expect["ok"], bool):
            assert type(got) is type(expect["ok"])
    elif "error" in expect:
        with pytest.raises(HmacError) as info:
            _run(case["op"], case["input"])
        assert info.value.code == expect["error"], str(info.value)
        if "status" in expect:
            # Auth errors carry their own status; every other error is what a
            # middleware answers: 500.
            assert info.value.status == expect["status"]
            assert isinstance(info.value, HmacAuthError) == (expect["error"] in h.HMAC_ERROR_CODES)
    else:
        pytest.fail(f"case {case['id']} has neither ok nor error")
