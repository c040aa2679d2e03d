"""Bad input gets a clear, typed Python error from every auth-primitive module, never a crash."""

from __future__ import annotations

import pytest

import authcore.jwt as jwt
import authcore.password as pw
import authcore.pkce as pkce
import authcore.policy as policy
import authcore.tokens as tokens
import authcore.totp as totp

K = "k" * 32


@pytest.mark.parametrize(
    "call,exc",
    [
        (lambda: jwt.encode({"a": 1}, 123), jwt.InvalidKeyError),
        (lambda: jwt.encode({"a": 1}, K, algorithm="PS256"), NotImplementedError),
        (lambda: jwt.encode({"a": object()}, K), TypeError),
        (lambda: jwt.decode(123, K, algorithms=["HS256"]), jwt.DecodeError),
        (lambda: jwt.decode("a.b.c", K, algorithms=["HS256"]), jwt.DecodeError),
        (lambda: jwt.decode("x" * 20_000, K, algorithms=["HS256"]), jwt.DecodeError),
        (lambda: jwt.decode(jwt.encode({}, K), K, algorithms=["HS256"], audience=5), TypeError),
        (lambda: jwt.decode(jwt.encode({}, K), "", algorithms=["HS256"]), jwt.InvalidKeyError),
        (lambda: jwt.KeySet().add("RS256", "not a pem"), jwt.InvalidKeyError),
        (lambda: jwt.KeySet().add_jwk({"kty": "oct", "k": "c2VjcmV0"}), jwt.InvalidKeyError),
        (lambda: jwt.KeySet().verify("a.b.c", token_use="admin"), ValueError),
        (lambda: jwt.KeySet().sign_json("{}"), jwt.InvalidKeyError),
        (lambda: jwt.TokenManager("iss", K).verify_access_token("garbage"), jwt.DecodeError),
        (lambda: jwt.TokenManager("iss", K).create_access_token("u", "d", "s", now=-1), ValueError),
        (lambda: pw.PasswordHasher(time_cost=1, memory_cost=1024).hash(12), TypeError),
        (lambda: pw.PasswordHasher().verify(None, "x"), AttributeError),
        (lambda: pw.bcrypt_hash_with_salt("x", "$2b$10$short"), pw.UnsupportedParametersError),
        (lambda: totp.verify("123456", SECRET_BAD, now=0), totp.TotpInvalidSecretError),
        (lambda: totp.generate("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 0, digits=12), totp.TotpError),
        (lambda: totp.generate("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 0, algorithm="MD5"), totp.TotpError),
        (lambda: pkce.verify_pkce("v" * 43, "c", method="S512"), pkce.InvalidRequestError),
        (lambda: policy.evaluate_request("{"), policy.PolicyError),
        (lambda: policy.PolicyEngine().check("u", "r", "a", context={"x": object()}), TypeError),
        (lambda: tokens.authenticate_api_token("x", [{"id": 1}]), ValueError),
    ],
)
def test_bad_input_is_a_typed_error(call, exc):
    with pytest.raises(exc):
        call()


SECRET_BAD = "0189"


def test_jwt_algorithms_as_a_string_like_pyjwt():
    token = jwt.encode({"sub": "u1"}, K)
    assert jwt.decode(token, K, algorithms="HS256") == {"sub": "u1"}


def test_errors_carry_code_and_status():
    with pytest.raises(jwt.PyJWTError) as info:
        jwt.KeySet().add("RS256", "not a pem")
    assert info.value.code == "JWT_INVALID_KEY" and info.value.status == 500
