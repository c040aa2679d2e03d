"""The core's structured log events reach Python's ``logging`` logger ``authcore`` with
their fields (op, outcome, client id) and never a secret: HMAC verification (accepted,
rejected), refresh-token reuse, password hashing."""

from __future__ import annotations

import logging
import time

import pytest

import authcore.hmac as h
from authcore import jwt, logs
from authcore.password import PasswordHasher

SECRET = "s3cret-never-logged"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def collected():
    handler = _Collect()
    logs.logger.addHandler(handler)
    logs.logger.setLevel(logging.DEBUG)
    assert logs.enable(logging.DEBUG) is True
    yield handler
    logs.disable()
    logs.logger.removeHandler(handler)
    logs.logger.setLevel(logging.NOTSET)


def _wait(handler, pred, what):
    deadline = time.monotonic() + 5
    while not any(pred(r) for r in handler.records):
        assert time.monotonic() < deadline, f"no log record for {what}: {[r.getMessage() for r in handler.records]}"
        time.sleep(0.02)
    return [r for r in handler.records if pred(r)]


def _fields(r):
    return getattr(r, "authcore", {})


def test_verify_events_have_op_outcome_client_and_no_secret(collected):
    auth = h.HmacHttpAuth()
    auth.clients.set_secret("log_client", SECRET)
    headers = h.build_signed_headers("POST", "/x", b"body", "log_client", SECRET)
    auth.verify("POST", "/x", headers, b"body")
    with pytest.raises(h.HmacAuthError):
        auth.verify("POST", "/x", headers, b"body")  # replay
    bad = h.build_signed_headers("POST", "/x", b"body", "log_client", "wrong")
    with pytest.raises(h.HmacAuthError):
        auth.verify("POST", "/x", bad, b"body")
    ok = _wait(collected, lambda r: _fields(r).get("outcome") == "OK" and _fields(r).get("client_id") == "log_client", "accepted")
    assert ok[0].levelno == logging.DEBUG and ok[0].name == "authcore"
    assert _fields(ok[0])["op"] == "hmac.verify"
    replay = _wait(collected, lambda r: _fields(r).get("outcome") == "REPLAYED_NONCE", "replay")
    assert replay[0].levelno == logging.INFO
    assert "op=hmac.verify" in replay[0].getMessage() and "client_id=log_client" in replay[0].getMessage()
    _wait(collected, lambda r: _fields(r).get("outcome") == "BAD_SIGNATURE", "bad signature")
    secret_hash = h.hash_client_secret(SECRET)
    for r in collected.records:
        text = r.getMessage() + repr(_fields(r))
        for needle in (SECRET, secret_hash, headers["x-signature"], headers["x-nonce"], bad["x-signature"], "body"):
            assert needle not in text, (needle, text)


def test_refresh_reuse_is_a_warning_without_the_token(collected):
    tm = jwt.TokenManager("https://auth.example.com", "k" * 32)
    pair = tm.create_token_pair("user-42", "d1", "read")
    nxt = tm.refresh(pair["refreshToken"])
    with pytest.raises(jwt.RefreshTokenReusedError):
        tm.refresh(pair["refreshToken"])
    reuse = _wait(collected, lambda r: _fields(r).get("outcome") == "REFRESH_TOKEN_REUSED", "reuse")
    assert reuse[0].levelno == logging.WARNING
    assert _fields(reuse[0]) == {"op": "token.refresh", "user_id": "user-42", "outcome": "REFRESH_TOKEN_REUSED"}
    for r in collected.records:
        text = r.getMessage() + repr(_fields(r))
        for token in (pair["refreshToken"], pair["accessToken"], nxt["refreshToken"]):
            assert token not in text


def test_disable_stops_forwarding():
    handler = _Collect()
    logs.logger.addHandler(handler)
    try:
        assert logs.enable("info")
        logs.disable()
        auth = h.HmacHttpAuth()
        with pytest.raises(h.HmacAuthError):
            auth.verify("GET", "/x", {}, b"")
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("pw")
        time.sleep(0.2)
        assert handler.records == []
    finally:
        logs.logger.removeHandler(handler)
