"""Differential test: random claims and decode options, authcore.jwt.decode vs PyJWT.decode
give the same payload or raise the same exception class."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time

import jwt as pyjwt
import pytest

import authcore.jwt as jwt

KEY = "d" * 32


def _random_case(rng: random.Random):
    now = int(time.time())
    claims = {}
    for name in ("exp", "nbf", "iat"):
        r = rng.random()
        if r < 0.25:
            claims[name] = now + rng.choice([-3600, -30, -2, 30, 3600])
        elif r < 0.3:
            claims[name] = rng.choice(["x", None, 1.5e9, 2.5])
    aud_r = rng.random()
    if aud_r < 0.2:
        claims["aud"] = "api"
    elif aud_r < 0.35:
        claims["aud"] = rng.choice([["api", "web"], ["web"], [], "", ["api", 3]])
    if rng.random() < 0.4:
        claims["iss"] = rng.choice(["https://a", "https://b", 7])
    if rng.random() < 0.3:
        claims["sub"] = rng.choice(["u1", "u2", 5])
    if rng.random() < 0.15:
        claims["jti"] = rng.choice(["j", 9])
    kwargs = {"algorithms": ["HS256"]}
    if rng.random() < 0.5:
        kwargs["audience"] = rng.choice(["api", ["web", "api"], ["x"], "web"])
    if rng.random() < 0.4:
        kwargs["issuer"] = rng.choice(["https://a", ["https://a", "https://b"], "https://c"])
    if rng.random() < 0.2:
        kwargs["subject"] = rng.choice(["u1", "u2"])
    if rng.random() < 0.3:
        kwargs["leeway"] = rng.choice([0, 5, 60, 7200])
    if rng.random() < 0.4:
        opts = {}
        for o in ("verify_exp", "verify_nbf", "verify_iat", "verify_aud", "verify_iss", "verify_sub", "verify_jti", "strict_aud"):
            if rng.random() < 0.3:
                opts[o] = rng.random() < 0.5
        if rng.random() < 0.3:
            opts["require"] = rng.sample(["exp", "iat", "nbf", "sub", "aud"], k=rng.randint(1, 2))
        kwargs["options"] = opts
    return claims, kwargs


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(claims) -> str:
    """HS256 by hand: PyJWT's encode refuses some of these claims (a non-string iss)."""
    signing = _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _b64(json.dumps(claims).encode())
    return signing + "." + _b64(hmac.new(KEY.encode(), signing.encode(), hashlib.sha256).digest())


def _outcome(fn):
    try:
        return ("ok", fn())
    except (pyjwt.PyJWTError, jwt.PyJWTError, TypeError) as e:
        return ("error", type(e).__name__)


@pytest.mark.parametrize("seed", range(8))
def test_decode_agrees_with_pyjwt(seed):
    rng = random.Random(seed)
    disagreements = []
    for _ in range(60):
        claims, kwargs = _random_case(rng)
        token = _token(claims)
        theirs = _outcome(lambda: pyjwt.decode(token, KEY, **kwargs))
        ours = _outcome(lambda: jwt.decode(token, KEY, **kwargs))
        if ours != theirs:
            disagreements.append((claims, kwargs, ours, theirs))
    assert not disagreements, disagreements[:3]
