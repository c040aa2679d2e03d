"""The one code -> exception table (``authcore.errors.ERROR_CLASSES``): every error code the
core defines is listed for the Python module that raises it, and maps to the intended class
of that module, with ``code`` and ``status`` (and ``error``, ``step``, ``claim`` where the
module has them)."""

from __future__ import annotations

import pathlib
import pickle
import re

import pytest

import authcore.errors as errors
import authcore.events as events
import authcore.jwt as jwt
import authcore.password as pw
import authcore.pkce as pkce
import authcore.policy as policy
import authcore.propagation as propagation
import authcore.realtime as realtime
import authcore.tokens as tokens
import authcore.totp as totp

CORE = pathlib.Path(__file__).resolve().parents[2] / "core" / "src"

#: Python module -> the core files whose `fn code(&self)` it raises.
CORE_FILES = {
    "authcore.jwt": ["jwt/mod.rs"],
    "authcore.password": ["password.rs", "password/bcryptjs.rs"],
    "authcore.pkce": ["oauth.rs"],
    "authcore.tokens": ["tokens.rs"],
    "authcore.totp": ["totp.rs"],
    "authcore.policy": ["policy.rs"],
    "authcore.events": ["events/error.rs"],
    "authcore.realtime": ["realtime/error.rs"],
    # An HMAC error inside propagation raises the authcore.hmac classes (e.code() of Hmac).
    "authcore.propagation": ["propagation/propagator/error.rs", "store.rs"],
}


def core_codes(module: str) -> set[str]:
    codes: set[str] = set()
    for name in CORE_FILES[module]:
        text = (CORE / name).read_text()
        for body in re.findall(r"pub fn code\(&self\) -> &'static str \{(.*?)\n    \}", text, re.S):
            codes.update(re.findall(r'"([A-Z][A-Z0-9_]+)"', body))
    assert codes, f"no codes found for {module} in {CORE_FILES[module]}"
    return codes


#: The intended class of every core code; a dict: by the call's context ("*": the rest).
INTENDED: dict[str, dict[str, object]] = {
    "authcore.jwt": {
        "JWT_MALFORMED": jwt.DecodeError,
        "JWT_ALG_NONE": jwt.InvalidAlgorithmError,
        "JWT_UNSUPPORTED_ALGORITHM": jwt.InvalidAlgorithmError,
        "JWT_ALGORITHM_MISMATCH": jwt.InvalidAlgorithmError,
        "JWT_UNSUPPORTED_CRITICAL_HEADER": jwt.DecodeError,
        "JWT_UNKNOWN_KID": jwt.InvalidTokenError,
        "JWT_INVALID_SIGNATURE": jwt.InvalidSignatureError,
        "JWT_EXPIRED": jwt.ExpiredSignatureError,
        "JWT_NOT_YET_VALID": jwt.ImmatureSignatureError,
        "JWT_INVALID_ISSUER": jwt.InvalidIssuerError,
        "JWT_INVALID_AUDIENCE": jwt.InvalidAudienceError,
        "JWT_INVALID_SUBJECT": jwt.InvalidSubjectError,
        "JWT_MISSING_CLAIM": jwt.MissingRequiredClaimError,
        "JWT_INVALID_CLAIM": {
            "iat": jwt.InvalidIssuedAtError,
            "exp": jwt.DecodeError,
            "nbf": jwt.DecodeError,
            "jti": jwt.InvalidJTIError,
            "*": jwt.InvalidTokenError,
        },
        "JWT_WRONG_TOKEN_USE": jwt.InvalidTokenUseError,
        "JWT_INVALID_KEY": jwt.InvalidKeyError,
        "JWT_KEY_CONFIG": jwt.InvalidKeyError,
        "JWT_SIGNING_FAILED": jwt.PyJWTError,
        "REFRESH_TOKEN_REUSED": jwt.RefreshTokenReusedError,
        "REFRESH_TOKEN_REVOKED": jwt.RefreshTokenRevokedError,
        "REFRESH_TOKEN_UNKNOWN": jwt.RefreshTokenUnknownError,
        "JWT_RANDOM_FAILURE": jwt.PyJWTError,
        "JWT_STORE_UNAVAILABLE": jwt.PyJWTError,
        "JWT_INVALID_CONFIG": jwt.PyJWTError,
    },
    "authcore.password": {
        "PASSWORD_INVALID_HASH": pw.InvalidHashError,
        "PASSWORD_UNSUPPORTED_ALGORITHM": pw.InvalidHashError,
        "PASSWORD_TOO_LONG": pw.PasswordTooLongError,
        "PASSWORD_INVALID_PARAMS": {
            "config": pw.UnsupportedParametersError,
            "hash": pw.UnsupportedParametersError,
            "bcrypt": pw.UnsupportedParametersError,
            "verify": pw.VerificationError,
            "any": pw.VerificationError,
            "rehash": pw.HashingError,
        },
        **{
            code: {
                "config": pw.UnsupportedParametersError,
                "verify": pw.VerificationError,
                "any": pw.VerificationError,
                "hash": pw.HashingError,
                "bcrypt": pw.HashingError,
                "rehash": pw.HashingError,
            }
            for code in ("PASSWORD_RANDOM_FAILURE", "PASSWORD_HASHING_FAILED", "PASSWORD_BCRYPTJS_ERROR")
        },
    },
    "authcore.pkce": {
        "PKCE_INVALID_VERIFIER": pkce.InvalidRequestError,
        "PKCE_INVALID_CHALLENGE": pkce.InvalidRequestError,
        "PKCE_VERIFICATION_FAILED": pkce.PkceVerificationError,
        "PKCE_UNSUPPORTED_METHOD": pkce.InvalidRequestError,
        "PKCE_PLAIN_NOT_ALLOWED": pkce.InvalidRequestError,
        "AUTH_CODE_INVALID": pkce.InvalidGrantError,
        "AUTH_CODE_REUSED": pkce.AuthorizationCodeReusedError,
        "AUTH_CODE_EXPIRED": pkce.InvalidGrantError,
        "AUTH_CODE_CLIENT_MISMATCH": pkce.InvalidGrantError,
        "AUTH_CODE_REDIRECT_URI_MISMATCH": pkce.InvalidGrantError,
        "OAUTH_INVALID_REQUEST": pkce.InvalidRequestError,
        "OAUTH_INVALID_ISSUER": pkce.OAuthError,
        "OAUTH_RANDOM_FAILURE": pkce.OAuthError,
        "OAUTH_STORE_UNAVAILABLE": pkce.OAuthError,
        "OAUTH_TOKEN_ISSUE_FAILED": pkce.OAuthError,
        "OAUTH_INVALID_CONFIG": pkce.OAuthError,
    },
    "authcore.tokens": {
        "API_KEY_MISSING": tokens.ApiKeyMissingError,
        "API_KEY_INVALID": tokens.ApiKeyInvalidError,
        "API_KEY_REVOKED": tokens.ApiKeyRevokedError,
        "API_KEY_EXPIRED": tokens.ApiKeyExpiredError,
        "API_TOKEN_INVALID_PREFIX": tokens.ApiTokenError,
        "API_TOKEN_STORED_HASH_INVALID": tokens.ApiTokenError,
        "API_TOKEN_RANDOM_FAILURE": tokens.ApiTokenError,
        "API_KEY_IP_BLOCKED": tokens.ApiTokenError,
        "API_KEY_INSUFFICIENT_SCOPE": tokens.ApiTokenError,
    },
    "authcore.totp": {
        "TOTP_MALFORMED_CODE": totp.TotpMalformedCodeError,
        "TOTP_INVALID_CODE": totp.TotpInvalidCodeError,
        "TOTP_REPLAYED": totp.TotpReplayedError,
        "TOTP_INVALID_SECRET": totp.TotpInvalidSecretError,
        "TOTP_SECRET_TOO_SHORT": totp.TotpInvalidSecretError,
        "TOTP_SECRET_TOO_LONG": totp.TotpInvalidSecretError,
        "TOTP_INVALID_CONFIG": totp.TotpError,
        "TOTP_RANDOM_FAILURE": totp.TotpError,
    },
    "authcore.policy": {
        code: policy.PolicyError
        for code in (
            "POLICY_INVALID_DOCUMENT",
            "POLICY_INVALID_PRINCIPAL",
            "POLICY_INVALID_PATTERN",
            "POLICY_INVALID_RESOURCE",
            "POLICY_ROLE_CYCLE",
            "POLICY_INVALID_REQUEST",
        )
    },
    "authcore.events": {
        code: events.EventsError
        for code in (
            "EVENTS_INVALID_FIELD",
            "EVENTS_TOO_MANY_SUBSCRIBERS",
            "EVENTS_TOO_MANY_FOR_USER",
            "EVENTS_TOO_MANY_TOPICS",
            "EVENTS_EVENT_TOO_LARGE",
            "EVENTS_INVALID_SETTING",
            "EVENTS_WEBHOOK_REFUSED",
            "EVENTS_DISTRIBUTOR",
        )
    },
    "authcore.realtime": {
        "REALTIME_SERIALIZE": realtime.RealtimeSerializeError,
        "REALTIME_STREAM": realtime.RealtimeError,
        "REALTIME_LISTENER": realtime.RealtimeError,
        "REALTIME_INVALID_JSON": realtime.AuditLogEventError,
        "REALTIME_INVALID_EVENT": realtime.AuditLogEventError,
        "REALTIME_INVALID_SETTING": realtime.RealtimeError,
        "REALTIME_HOST": realtime.RealtimeError,
    },
    "authcore.propagation": {
        **{
            code: propagation.PropagationError
            for code in (
                "MANAGEMENT_NOT_CONFIGURED",
                "UNKNOWN_CLIENT",
                "INVALID_OPTIONS",
                "SYNC_ERROR",
                "CALLBACK_ERROR",
                "STORE_CONNECTION",
                "STORE_COMMAND",
                "STORE_WRONGTYPE",
                "STORE_UNSUPPORTED_URL",
                "TRANSPORT_ERROR",
                "RANDOM_UNAVAILABLE",
            )
        },
        "INVALID_QUEUE_NAME": propagation.PropagationQueueNameError,
    },
}


def test_the_table_covers_the_modules_that_raise_through_it() -> None:
    assert set(errors.ERROR_CLASSES) == set(CORE_FILES) == set(INTENDED)


@pytest.mark.parametrize("module", sorted(CORE_FILES))
def test_every_core_code_is_listed_with_its_intended_class(module: str) -> None:
    listed = set(errors.ERROR_CLASSES[module][1])
    assert core_codes(module) == listed == set(INTENDED[module]), module


CASES = [
    (module, code, context, cls)
    for module, codes in INTENDED.items()
    for code, want in codes.items()
    for context, cls in (want.items() if isinstance(want, dict) else [(None, want)])
]


@pytest.mark.parametrize("module,code,context,cls", CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_each_code_raises_its_class_with_code_and_status(module: str, code: str, context: str | None, cls: type) -> None:
    kind = context if module == "authcore.password" else "invalid_grant"
    extra = context if module == "authcore.jwt" and context != "*" else None
    if code == "JWT_MISSING_CLAIM":
        extra = "sub"
    if code == "TOTP_REPLAYED":
        extra = "1234"
    assert errors.exception_class(module, code, kind if module == "authcore.password" else extra) is cls
    exc = errors._native_error(module, code, "the message", 418, kind or "", extra)
    assert type(exc) is cls
    assert exc.code == code  # type: ignore[attr-defined]
    if module == "authcore.propagation":
        assert str(exc) == "the message" and exc.name == "HmacPropagationError"  # type: ignore[attr-defined]
        assert pickle.loads(pickle.dumps(exc)).code == code
        return
    assert exc.status == 418  # type: ignore[attr-defined]
    if code == "JWT_MISSING_CLAIM":
        assert (exc.claim, str(exc)) == ("sub", 'Token is missing the "sub" claim')  # type: ignore[attr-defined]
    else:
        assert str(exc) == "the message"
    if module == "authcore.pkce":
        assert exc.error == "invalid_grant"  # type: ignore[attr-defined]
    if code == "TOTP_REPLAYED":
        assert exc.step == 1234  # type: ignore[attr-defined]


def test_codes_from_the_native_module_go_through_the_table() -> None:
    """A few real core errors, one per mapping rule (code, claim, failed call, step)."""
    with pytest.raises(jwt.InvalidIssuedAtError) as e1:
        jwt.decode(jwt.encode({"iat": "soon"}, "k" * 32), "k" * 32, algorithms=["HS256"])
    assert e1.value.code == "JWT_INVALID_CLAIM"
    with pytest.raises(pw.UnsupportedParametersError) as e2:
        pw.PasswordHasher(memory_cost=1)
    assert e2.value.code == "PASSWORD_INVALID_PARAMS"  # type: ignore[attr-defined]
    secret = totp.generate_secret()
    step = totp.verify(totp.generate(secret, 1_000_000.0), secret, now=1_000_000.0)
    with pytest.raises(totp.TotpReplayedError) as e3:
        totp.verify(totp.generate(secret, 1_000_000.0), secret, now=1_000_000.0, last_used_step=step)
    assert (e3.value.code, e3.value.step) == ("TOTP_REPLAYED", step)
    with pytest.raises(pkce.PkceVerificationError) as e4:
        pkce.verify_pkce("a" * 43, pkce.s256_challenge("b" * 43))
    assert (e4.value.code, e4.value.error, e4.value.status) == ("PKCE_VERIFICATION_FAILED", "invalid_grant", 400)
    with pytest.raises(propagation.PropagationQueueNameError) as e5:
        propagation.build_queue_name("a b")
    assert e5.value.code == "INVALID_QUEUE_NAME"
