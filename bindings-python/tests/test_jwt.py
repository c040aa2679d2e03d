"""authcore.jwt against PyJWT: tokens cross-verify both ways, HS tokens are byte-identical,
and every rejection raises the exception class PyJWT raises, with a stable ``code``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import authcore.jwt as jwt

HS_KEYS = {"HS256": "s" * 32, "HS384": "t" * 48, "HS512": "u" * 64}


def _pem_pair(private):
    priv = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pub = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return priv, pub


@pytest.fixture(scope="module")
def asym_keys():
    return {
        "RS256": _pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "ES256": _pem_pair(ec.generate_private_key(ec.SECP256R1())),
        "EdDSA": _pem_pair(ed25519.Ed25519PrivateKey.generate()),
    }


def _claims(**extra):
    now = int(time.time())
    c = {"sub": "u1", "email": "alice@example.com", "role": "admin", "iat": now, "exp": now + 600}
    c.update(extra)
    return c


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(header: dict, payload: dict, secret: bytes) -> str:
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    sig = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(sig)}"


# --- cross-verification -------------------------------------------------------------------


@pytest.mark.parametrize("alg", sorted(HS_KEYS))
def test_hs_tokens_are_byte_identical_and_cross_verify(alg):
    key = HS_KEYS[alg]
    claims = _claims(name="Zoë ☃ 😀", n=1.5, big=10**20, nested={"a": [1, None, True, 0.1]}, tup=(1, 2))
    ours = jwt.encode(claims, key, algorithm=alg)
    theirs = pyjwt.encode(claims, key, algorithm=alg)
    assert ours == theirs
    expected = json.loads(json.dumps(claims))
    assert pyjwt.decode(ours, key, algorithms=[alg]) == expected
    assert jwt.decode(theirs, key, algorithms=[alg]) == expected


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_asymmetric_tokens_cross_verify(asym_keys, alg):
    priv, pub = asym_keys[alg]
    claims = _claims()
    ours = jwt.encode(claims, priv, algorithm=alg)
    theirs = pyjwt.encode(claims, priv, algorithm=alg)
    assert pyjwt.decode(ours, pub, algorithms=[alg]) == claims
    assert jwt.decode(theirs, pub, algorithms=[alg]) == claims
    assert jwt.decode(ours, pub, algorithms=[alg]) == claims
    if alg != "ES256":  # RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic
        assert ours == theirs


def test_cryptography_key_objects_are_accepted(asym_keys):
    priv_pem, pub_pem = asym_keys["RS256"]
    priv = serialization.load_pem_private_key(priv_pem, password=None)
    token = jwt.encode({"sub": "u1"}, priv, algorithm="RS256")
    assert jwt.decode(token, priv.public_key(), algorithms=["RS256"]) == {"sub": "u1"}
    assert pyjwt.decode(token, pub_pem, algorithms=["RS256"]) == {"sub": "u1"}


def test_headers_kid_and_typ_match_pyjwt():
    key = HS_KEYS["HS256"]
    for headers in ({"kid": "k1"}, {"kid": "k1", "cty": "x"}, {"typ": None}, {"alg": "HS512"}):
        k = HS_KEYS.get(headers.get("alg", "HS256"))
        ours = jwt.encode({"sub": "u1"}, k, headers=headers)
        assert ours == pyjwt.encode({"sub": "u1"}, k, headers=headers)
        assert jwt.get_unverified_header(ours) == pyjwt.get_unverified_header(ours)
    unsorted = jwt.encode({"sub": "u1"}, key, headers={"kid": "a"}, sort_headers=False)
    assert unsorted == pyjwt.encode({"sub": "u1"}, key, headers={"kid": "a"}, sort_headers=False)


def test_datetime_claims_like_pyjwt():
    key = HS_KEYS["HS256"]
    exp = datetime.now(tz=timezone.utc) + timedelta(minutes=5)
    payload = {"sub": "u1", "exp": exp, "iat": datetime.now(tz=timezone.utc), "nbf": datetime(2020, 1, 1)}
    ours = jwt.encode(payload, key)
    assert ours == pyjwt.encode(payload, key)
    assert isinstance(payload["exp"], datetime), "the caller's dict is not modified"
    assert jwt.decode(ours, key, algorithms=["HS256"])["exp"] == int(exp.timestamp())


def test_json_encoder_and_unserialisable_payloads():
    class Enc(json.JSONEncoder):
        def default(self, o):
            if isinstance(o, set):
                return sorted(o)
            return super().default(o)

    key = HS_KEYS["HS256"]
    p = {"roles": {"b", "a"}}
    assert jwt.encode(p, key, json_encoder=Enc) == pyjwt.encode(p, key, json_encoder=Enc)
    with pytest.raises(TypeError):
        jwt.encode(p, key)
    with pytest.raises(TypeError):
        jwt.encode(["not", "a", "dict"], key)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        jwt.encode({"iss": 1}, key)
    lone = {"s": "\ud800"}
    assert jwt.encode(lone, key) == pyjwt.encode(lone, key)
    floats = {"a": 1e16, "b": 1e-5, "c": -0.0, "d": 123456789.125, "e": 1e15, "f": 5e-324, "g": 0.0001, "h": -2.5e300}
    assert jwt.encode(floats, key) == pyjwt.encode(floats, key)
    for bad in (float("inf"), float("nan")):
        # PyJWT signs `Infinity`/`NaN`, which is not JSON: the core refuses the value
        # (INVALID_ARGUMENT, 500, a ValueError with CPython's allow_nan=False text).
        with pytest.raises(ValueError) as refused:
            jwt.encode({"x": bad}, key)
        assert (refused.value.code, refused.value.status) == ("INVALID_ARGUMENT", 500)
        assert str(refused.value) == f"Out of range float values are not JSON compliant: {bad!r}"
        with pytest.raises(ValueError):
            jwt.encode({"x": [bad], "y": object()}, key)
    keys = {1: "a", 2.5: "b", True: "c", None: "d"}
    assert jwt.encode(keys, key) == pyjwt.encode(keys, key)


def test_decode_complete_options_and_bytes():
    key = HS_KEYS["HS256"]
    token = jwt.encode(_claims(aud="api"), key, headers={"kid": "k1"})
    ours = jwt.decode_complete(token.encode(), key, algorithms=["HS256"], audience="api")
    theirs = pyjwt.decode_complete(token.encode(), key, algorithms=["HS256"], audience="api")
    assert ours == {k: theirs[k] for k in ("header", "payload", "signature")}
    unverified = jwt.decode(token, options={"verify_signature": False})
    assert unverified == pyjwt.decode(token, options={"verify_signature": False})
    expired = jwt.encode({"exp": 1}, key)
    assert jwt.decode(expired, key, algorithms=["HS256"], options={"verify_exp": False}) == {"exp": 1}
    assert jwt.decode(expired, key, algorithms=["HS256"], leeway=timedelta(seconds=time.time())) == {"exp": 1}


# --- rejections: same class as PyJWT, stable code -----------------------------------------

NOW = int(time.time())
K = HS_KEYS["HS256"]


def _neg_cases(rsa_pub):
    tok = lambda claims, **kw: pyjwt.encode(claims, K, **kw)  # noqa: E731
    good = tok({"sub": "u1", "exp": NOW + 86_400})
    header, payload, sig = good.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    none_header = _b64(b'{"alg":"none","typ":"JWT"}')
    none_token = f"{none_header}.{payload}."
    confused = _hs256({"alg": "HS256", "typ": "JWT"}, {"sub": "u1"}, rsa_pub)
    return [
        ("expired", tok({"exp": NOW - 10}), K, {"algorithms": ["HS256"]}, "ExpiredSignatureError", "JWT_EXPIRED"),
        ("nbf", tok({"nbf": NOW + 3600}), K, {"algorithms": ["HS256"]}, "ImmatureSignatureError", "JWT_NOT_YET_VALID"),
        ("iat-future", tok({"iat": NOW + 3600}), K, {"algorithms": ["HS256"]}, "ImmatureSignatureError", "JWT_NOT_YET_VALID"),
        ("iat-string", tok({"iat": "soon"}), K, {"algorithms": ["HS256"]}, "InvalidIssuedAtError", "JWT_INVALID_CLAIM"),
        ("exp-string", tok({"exp": "x"}), K, {"algorithms": ["HS256"]}, "DecodeError", "JWT_INVALID_CLAIM"),
        ("wrong-issuer", tok({"iss": "evil"}), K, {"algorithms": ["HS256"], "issuer": "good"}, "InvalidIssuerError", "JWT_INVALID_ISSUER"),
        ("missing-issuer", tok({"sub": "u"}), K, {"algorithms": ["HS256"], "issuer": "good"}, "MissingRequiredClaimError", "JWT_MISSING_CLAIM"),
        ("wrong-audience", tok({"aud": "other"}), K, {"algorithms": ["HS256"], "audience": "api"}, "InvalidAudienceError", "JWT_INVALID_AUDIENCE"),
        ("unexpected-audience", tok({"aud": "api"}), K, {"algorithms": ["HS256"]}, "InvalidAudienceError", "JWT_INVALID_AUDIENCE"),
        ("missing-audience", tok({"sub": "u"}), K, {"algorithms": ["HS256"], "audience": "api"}, "MissingRequiredClaimError", "JWT_MISSING_CLAIM"),
        ("strict-aud-list", tok({"aud": ["api"]}), K, {"algorithms": ["HS256"], "audience": "api", "options": {"strict_aud": True}}, "InvalidAudienceError", "JWT_INVALID_AUDIENCE"),
        ("required", tok({"sub": "u"}), K, {"algorithms": ["HS256"], "options": {"require": ["exp"]}}, "MissingRequiredClaimError", "JWT_MISSING_CLAIM"),
        ("wrong-subject", tok({"sub": "u"}), K, {"algorithms": ["HS256"], "subject": "v"}, "InvalidSubjectError", "JWT_INVALID_SUBJECT"),
        ("jti-int", tok({"jti": 5}), K, {"algorithms": ["HS256"]}, "InvalidJTIError", "JWT_INVALID_CLAIM"),
        ("bad-signature", f"{header}.{payload}.{flipped}", K, {"algorithms": ["HS256"]}, "InvalidSignatureError", "JWT_INVALID_SIGNATURE"),
        ("wrong-key", good, "x" * 32, {"algorithms": ["HS256"]}, "InvalidSignatureError", "JWT_INVALID_SIGNATURE"),
        ("alg-not-allowed", good, K, {"algorithms": ["HS512"]}, "InvalidAlgorithmError", "JWT_ALGORITHM_MISMATCH"),
        ("alg-none", none_token, K, {"algorithms": ["HS256"]}, "InvalidAlgorithmError", "JWT_ALG_NONE"),
        ("malformed", "not.a-token", K, {"algorithms": ["HS256"]}, "DecodeError", "JWT_MALFORMED"),
        ("garbage-header", f"!!!.{payload}.{sig}", K, {"algorithms": ["HS256"]}, "DecodeError", "JWT_MALFORMED"),
        ("no-algorithms", good, K, {}, "DecodeError", "JWT_MALFORMED"),
        ("confusion-hs-with-rsa-pem", confused, rsa_pub, {"algorithms": ["HS256", "RS256"]}, "InvalidKeyError", "JWT_INVALID_KEY"),
        ("confusion-rs-only", confused, rsa_pub, {"algorithms": ["RS256"]}, "InvalidAlgorithmError", "JWT_ALGORITHM_MISMATCH"),
    ]


def _pyjwt_class(token, key, kwargs):
    try:
        pyjwt.decode(token, key, **kwargs)
    except pyjwt.PyJWTError as e:
        return type(e).__name__
    return None


def test_every_rejection_matches_pyjwt(asym_keys):
    _, rsa_pub = asym_keys["RS256"]
    cases = _neg_cases(rsa_pub)
    for name, token, key, kwargs, cls, code in cases:
        with pytest.raises(jwt.PyJWTError) as info:
            jwt.decode(token, key, **kwargs)
        assert type(info.value).__name__ == cls, name
        assert info.value.code == code, name
        assert _pyjwt_class(token, key, kwargs) == cls, f"{name}: PyJWT disagrees"


def test_alg_none_is_refused_even_when_listed():
    token = pyjwt.encode({"sub": "u1"}, None, algorithm="none")
    with pytest.raises(jwt.InvalidAlgorithmError) as info:
        jwt.decode(token, K, algorithms=["none", "HS256"])
    assert info.value.code == "JWT_ALG_NONE"
    with pytest.raises(NotImplementedError):
        jwt.encode({"sub": "u1"}, K, algorithm=None)


def test_exception_hierarchy_matches_pyjwt():
    names = [n for n in jwt.__all__ if n.endswith("Error") and hasattr(pyjwt.exceptions, n)]
    assert len(names) >= 13
    for n in names:
        ours = [c.__name__ for c in getattr(jwt, n).__mro__ if c.__module__ == "authcore.jwt"]
        theirs = [c.__name__ for c in getattr(pyjwt.exceptions, n).__mro__ if c.__module__ == "jwt.exceptions"]
        assert ours == theirs, n
    e = jwt.MissingRequiredClaimError("exp")
    assert str(e) == str(pyjwt.MissingRequiredClaimError("exp")) and e.claim == "exp"


# --- TokenManager ---------------------------------------------------------------------------


@pytest.fixture
def tm():
    return jwt.TokenManager("https://auth.example", "m" * 32, audience="api")


def test_access_and_refresh_tokens_are_never_swapped(tm):
    pair = tm.create_token_pair("u1", "d1", "read write", now=1_700_000_000)
    with pytest.raises(jwt.InvalidTokenUseError) as info:
        tm.verify_access_token(pair["refreshToken"], now=1_700_000_001)
    assert info.value.code == "JWT_WRONG_TOKEN_USE" and info.value.status == 401
    assert isinstance(info.value, jwt.InvalidTokenError)
    with pytest.raises(jwt.InvalidTokenUseError):
        tm.refresh(pair["accessToken"], now=1_700_000_001)
    mfa = tm.create_mfa_pending_token("u1", "d1", now=1_700_000_000)
    with pytest.raises(jwt.InvalidTokenUseError):
        tm.verify_access_token(mfa, now=1_700_000_001)
    assert tm.verify_mfa_pending_token(mfa, now=1_700_000_001)["token_use"] == "mfa_pending"
    claims = tm.verify_access_token(pair["accessToken"], now=1_700_000_001)
    assert (claims["userId"], claims["domainId"], claims["scope"], claims["aud"]) == ("u1", "d1", "read write", "api")
    with pytest.raises(jwt.ExpiredSignatureError):
        tm.verify_access_token(pair["accessToken"], now=1_700_000_000 + 900)


def test_refresh_rotation_and_reuse_detection(tm):
    first = tm.create_token_pair("u1", "d1", "read", now=1_700_000_000)
    second = tm.refresh(first["refreshToken"], now=1_700_000_010)
    assert second["familyId"] == first["familyId"] and second["refreshToken"] != first["refreshToken"]
    assert tm.verify_refresh_token(second["refreshToken"], now=1_700_000_011)["valid"] is True
    with pytest.raises(jwt.RefreshTokenReusedError) as info:
        tm.refresh(first["refreshToken"], now=1_700_000_020)
    assert info.value.code == "REFRESH_TOKEN_REUSED"
    # The whole family is revoked: the legitimate holder's newer token fails too.
    with pytest.raises(jwt.RefreshTokenRevokedError):
        tm.refresh(second["refreshToken"], now=1_700_000_030)
    assert tm.verify_refresh_token(second["refreshToken"], now=1_700_000_031) == {
        "valid": False,
        "error": "REFRESH_TOKEN_REVOKED",
    }


def test_refresh_token_from_another_manager_is_unknown(tm):
    other = jwt.TokenManager("https://auth.example", "m" * 32, audience="api")
    foreign = other.create_refresh_token("u1", "d1", "read", now=1_700_000_000)
    with pytest.raises(jwt.RefreshTokenUnknownError):
        tm.refresh(foreign, now=1_700_000_001)
    assert tm.revoke_user("u1") == 0
    mine = tm.create_refresh_token("u1", "d1", now=1_700_000_000)
    assert tm.revoke_refresh_token(mine) == 1
    with pytest.raises(jwt.RefreshTokenRevokedError):
        tm.refresh(mine, now=1_700_000_001)


def test_token_manager_rs256_jwks_verifies_in_pyjwt(asym_keys):
    priv, _ = asym_keys["RS256"]
    tm = jwt.TokenManager("https://auth.example", priv, "RS256", kid="key-1")
    token = tm.create_access_token("u1", "d1", "read")
    jwks = tm.jwks()
    assert [k["kid"] for k in jwks["keys"]] == ["key-1"]
    key = pyjwt.PyJWKSet.from_dict(jwks)["key-1"]
    claims = pyjwt.decode(token, key.key, algorithms=["RS256"], issuer="https://auth.example")
    assert claims["token_use"] == "access"
    ks = jwt.KeySet.from_jwks(jwks)
    assert ks.verify(token, token_use="access")["sub"] == "u1"
    with pytest.raises(jwt.InvalidTokenUseError):
        ks.verify(token, token_use="refresh")


def test_keyset_picks_key_by_kid_and_never_publishes_secrets(asym_keys):
    ks = jwt.KeySet()
    ks.add("HS256", K, kid="hs")
    ks.add("ES256", asym_keys["ES256"][0], kid="ec")
    assert [k["kid"] for k in ks.jwks()["keys"]] == ["ec"]
    ks.set_signing_kid("ec")
    token = ks.sign({"sub": "u1", "exp": int(time.time()) + 3600})
    assert jwt.get_unverified_header(token)["kid"] == "ec"
    assert ks.verify(token)["sub"] == "u1"
    assert pyjwt.decode(token, asym_keys["ES256"][1], algorithms=["ES256"])["sub"] == "u1"
    with pytest.raises(jwt.InvalidKeyError):
        jwt.KeySet().add("HS256", asym_keys["RS256"][1])
