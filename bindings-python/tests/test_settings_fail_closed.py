"""Numeric settings fail closed in the Python API too: token lifetimes, leeways and the
authorization-code lifetime out of range (NaN, infinite, zero, negative, too large) raise
at construction or on the call instead of accepting tokens forever."""

from __future__ import annotations

import time

import pytest

from authcore import jwt, pkce


@pytest.mark.parametrize("field", ["access_ttl", "refresh_ttl", "mfa_pending_ttl"])
@pytest.mark.parametrize("bad", [0, 31_536_001])
def test_token_manager_lifetimes(field, bad):
    with pytest.raises(jwt.PyJWTError) as info:
        jwt.TokenManager("https://issuer.example", "k" * 32, **{field: bad})
    assert info.value.code == "JWT_INVALID_CONFIG"


def test_token_manager_leeway():
    with pytest.raises(jwt.PyJWTError) as info:
        jwt.TokenManager("https://issuer.example", "k" * 32, leeway=86_401)
    assert info.value.code == "JWT_INVALID_CONFIG"


@pytest.mark.parametrize("leeway", [float("nan"), float("inf")])
def test_decode_never_accepts_an_expired_token_through_a_nan_leeway(leeway):
    token = jwt.encode({"sub": "u", "exp": int(time.time()) - 60}, "k" * 32, algorithm="HS256")
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, "k" * 32, algorithms=["HS256"])
    with pytest.raises(jwt.PyJWTError) as info:
        jwt.decode(token, "k" * 32, algorithms=["HS256"], leeway=leeway)
    assert info.value.code == "JWT_INVALID_CONFIG"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 0, -1, 600_001, 1.5])
def test_authorization_code_lifetime(bad):
    with pytest.raises(pkce.OAuthError) as info:
        pkce.AuthorizationServer(code_ttl_ms=bad)
    assert info.value.code == "OAUTH_INVALID_CONFIG"
