"""Exceptions raised by authcore.

Every exception carries ``code`` (a stable string) and ``status`` (the HTTP status a
middleware answers with). Tests and callers should compare ``code``, not messages.

- :class:`HmacAuthError` is the original ``HmacAuthError``: one of the 14 codes of
  ``@naskot/node-hmac-auth-core`` 1.0.0 with its status and exact message.
- :class:`HmacArgumentError` (also a ``ValueError``) is one of the original's plain
  ``Error``s (``plainSecret cannot be empty``, ``Namespace cannot be empty``…), with the
  exact message. ``code`` is ``"INVALID_ARGUMENT"``.
- :class:`HmacInputError` (also a ``TypeError`` and a ``ValueError``) is input the
  original rejects with a ``TypeError`` or cannot represent: a wrong Python type, an
  invalid URL, a non-finite timestamp, a body above ``MAX_BODY_BYTES``. ``code`` is
  ``"INVALID_INPUT"``.
- :class:`HmacStoreError` is a Redis/store failure. ``code`` is ``"STORE_ERROR"``.
- :class:`HmacInternalError` is a bug caught at the Rust boundary (a panic).
- :class:`InvalidArgumentError` (a ``ValueError``) is an argument or setting the core
  refuses in any module, such as a store URL that cannot be opened. ``code`` is
  ``"INVALID_ARGUMENT"``, ``status`` the core's 500 (``HmacArgumentError`` is one).
- :class:`InternalPanicError` is the one shape of a Rust panic caught at the boundary, in
  every module: ``code`` ``"INTERNAL_PANIC"``, ``status`` 500, the message
  ``internal error (panic caught at the authcore Python boundary): <what>``. It is an
  ``HmacInternalError`` and a ``RuntimeError`` (what the functions raised before).

Every other module raises its own classes (PyJWT / argon2-cffi names, ``TotpError``,
``PolicyError``, ``RealtimeError``…), defined in that module. Which class a core error
code raises is decided here, in one table: :data:`ERROR_CLASSES` (core code → class, per
module), read by :func:`exception_class`; the native module builds every such exception
through this module's ``_native_error``.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict, Optional, Tuple, Union

__all__ = [
    "HMAC_ERROR_CODES",
    "HmacError",
    "HmacAuthError",
    "HmacArgumentError",
    "HmacInputError",
    "HmacStoreError",
    "HmacInternalError",
    "InvalidArgumentError",
    "InternalPanicError",
    "ERROR_CLASSES",
    "exception_class",
]

#: The 14 members of the original's ``HmacAuthErrorCode`` union with their default
#: HTTP status (``MISSING_CLIENT_ID`` is 400 from ``clients.*`` and the message track).
HMAC_ERROR_CODES = {
    "MISSING_CLIENT_ID": 401,
    "MISSING_SIGNATURE": 401,
    "MISSING_TIMESTAMP": 401,
    "MISSING_NONCE": 401,
    "INVALID_TIMESTAMP": 401,
    "TIMESTAMP_SKEW": 401,
    "UNKNOWN_CLIENT": 401,
    "CLIENT_EXPIRED": 401,
    "MISSING_CLIENT_IP": 403,
    "CLIENT_IP_NOT_ALLOWED": 403,
    "CLIENT_NOT_FOUND": 404,
    "BAD_SIGNATURE": 401,
    "REPLAYED_NONCE": 401,
    "INTERNAL_ERROR": 500,
}


class HmacError(Exception):
    """Base class of every authcore HMAC error."""

    code: str = "INTERNAL_ERROR"
    status: int = 500

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class HmacAuthError(HmacError):
    """The original ``HmacAuthError(code, message, status = 401)``."""

    def __init__(self, code: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.name = "HmacAuthError"

    def __reduce__(self):  # pickling keeps code/message/status
        return (type(self), (self.code, self.message, self.status))

    def __repr__(self) -> str:
        return f"HmacAuthError(code={self.code!r}, message={self.message!r}, status={self.status})"


class InvalidArgumentError(ValueError):
    """An argument or setting the core refuses (``INVALID_ARGUMENT``), in any module."""

    code = "INVALID_ARGUMENT"
    status = 500

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (type(self), (self.message,))


class HmacArgumentError(HmacError, InvalidArgumentError):
    """One of the original's plain ``Error``s (invalid argument or configuration)."""

    code = "INVALID_ARGUMENT"
    status = 500

    def __reduce__(self):
        return (type(self), (self.message,))


class HmacInputError(HmacError, TypeError, ValueError):
    """Input of the wrong type or that the original cannot represent."""

    code = "INVALID_INPUT"
    status = 500

    def __reduce__(self):
        return (type(self), (self.message,))


class HmacStoreError(HmacError):
    """The credential/nonce store (Redis) failed."""

    code = "STORE_ERROR"
    status = 500

    def __reduce__(self):
        return (type(self), (self.message,))


class HmacInternalError(HmacError):
    """A bug in authcore caught at the Rust boundary (never a crash)."""

    code = "INTERNAL_ERROR"
    status = 500

    def __reduce__(self):
        return (type(self), (self.message,))


class InternalPanicError(HmacInternalError, RuntimeError):
    """A Rust panic caught at the boundary of any module (a bug; the call had no effect)."""

    code = "INTERNAL_PANIC"
    status = 500


# ---------------------------------------------------------------------------------------
# The one table: core error code -> exception class

#: A class name of the module, or a choice by the call's context: for ``authcore.password``
#: the call that failed (``hash``, ``verify``, ``config``, ``bcrypt``, ``rehash``, ``any``),
#: for ``JWT_INVALID_CLAIM`` the claim; ``"*"`` is every other context.
ClassChoice = Union[str, Dict[str, str]]

_PASSWORD_FAILURE: Dict[str, str] = {
    "config": "UnsupportedParametersError",
    "verify": "VerificationError",
    "any": "VerificationError",
    "*": "HashingError",
}

#: Every error code of the core, per Python module: ``module -> (class of a code not listed,
#: {code: class})``. The classes live in their modules (``authcore.jwt.ExpiredSignatureError``…)
#: and are looked up by name when first raised. ``authcore.hmac`` and the errors every
#: module shares (``InvalidArgumentError``, ``InternalPanicError``) are the classes above,
#: raised by the native module directly. tests/test_error_table.py checks that every code
#: the core defines is listed here, with the class it stands for.
ERROR_CLASSES: Dict[str, Tuple[str, Dict[str, ClassChoice]]] = {
    # PyJWT's classes: the one place that picks them (the core gives the code and the claim).
    "authcore.jwt": (
        "InvalidTokenError",
        {
            "JWT_MALFORMED": "DecodeError",
            "JWT_ALG_NONE": "InvalidAlgorithmError",
            "JWT_UNSUPPORTED_ALGORITHM": "InvalidAlgorithmError",
            "JWT_ALGORITHM_MISMATCH": "InvalidAlgorithmError",
            "JWT_UNSUPPORTED_CRITICAL_HEADER": "DecodeError",
            "JWT_UNKNOWN_KID": "InvalidTokenError",
            "JWT_INVALID_SIGNATURE": "InvalidSignatureError",
            "JWT_EXPIRED": "ExpiredSignatureError",
            "JWT_NOT_YET_VALID": "ImmatureSignatureError",
            "JWT_INVALID_ISSUER": "InvalidIssuerError",
            "JWT_INVALID_AUDIENCE": "InvalidAudienceError",
            "JWT_INVALID_SUBJECT": "InvalidSubjectError",
            "JWT_MISSING_CLAIM": "MissingRequiredClaimError",
            # PyJWT: a non-integer iat, exp or nbf, a non-string jti.
            "JWT_INVALID_CLAIM": {
                "iat": "InvalidIssuedAtError",
                "exp": "DecodeError",
                "nbf": "DecodeError",
                "jti": "InvalidJTIError",
                "*": "InvalidTokenError",
            },
            "JWT_WRONG_TOKEN_USE": "InvalidTokenUseError",
            "JWT_INVALID_KEY": "InvalidKeyError",
            "JWT_KEY_CONFIG": "InvalidKeyError",
            "JWT_SIGNING_FAILED": "PyJWTError",
            "REFRESH_TOKEN_REUSED": "RefreshTokenReusedError",
            "REFRESH_TOKEN_REVOKED": "RefreshTokenRevokedError",
            "REFRESH_TOKEN_UNKNOWN": "RefreshTokenUnknownError",
            "JWT_RANDOM_FAILURE": "PyJWTError",
            "JWT_STORE_UNAVAILABLE": "PyJWTError",
            "JWT_INVALID_CONFIG": "PyJWTError",
        },
    ),
    # argon2-cffi's classes: a malformed hash and a too-long password whatever the call,
    # bad parameters of the constructor or of a hash call, else by the call that failed.
    "authcore.password": (
        "HashingError",
        {
            "PASSWORD_INVALID_HASH": "InvalidHashError",
            "PASSWORD_UNSUPPORTED_ALGORITHM": "InvalidHashError",
            "PASSWORD_TOO_LONG": "PasswordTooLongError",
            "PASSWORD_INVALID_PARAMS": {
                "config": "UnsupportedParametersError",
                "hash": "UnsupportedParametersError",
                "bcrypt": "UnsupportedParametersError",
                "verify": "VerificationError",
                "any": "VerificationError",
                "*": "HashingError",
            },
            "PASSWORD_RANDOM_FAILURE": _PASSWORD_FAILURE,
            "PASSWORD_HASHING_FAILED": _PASSWORD_FAILURE,
            "PASSWORD_BCRYPTJS_ERROR": _PASSWORD_FAILURE,
        },
    ),
    # RFC 6749 §5.2: invalid_request, invalid_grant; server errors are the base class.
    "authcore.pkce": (
        "OAuthError",
        {
            "PKCE_INVALID_VERIFIER": "InvalidRequestError",
            "PKCE_INVALID_CHALLENGE": "InvalidRequestError",
            "PKCE_VERIFICATION_FAILED": "PkceVerificationError",
            "PKCE_UNSUPPORTED_METHOD": "InvalidRequestError",
            "PKCE_PLAIN_NOT_ALLOWED": "InvalidRequestError",
            "AUTH_CODE_INVALID": "InvalidGrantError",
            "AUTH_CODE_REUSED": "AuthorizationCodeReusedError",
            "AUTH_CODE_EXPIRED": "InvalidGrantError",
            "AUTH_CODE_CLIENT_MISMATCH": "InvalidGrantError",
            "AUTH_CODE_REDIRECT_URI_MISMATCH": "InvalidGrantError",
            "OAUTH_INVALID_REQUEST": "InvalidRequestError",
            "OAUTH_INVALID_ISSUER": "OAuthError",
            "OAUTH_RANDOM_FAILURE": "OAuthError",
            "OAUTH_STORE_UNAVAILABLE": "OAuthError",
            "OAUTH_TOKEN_ISSUE_FAILED": "OAuthError",
            "OAUTH_INVALID_CONFIG": "OAuthError",
        },
    ),
    "authcore.tokens": (
        "ApiTokenError",
        {
            "API_KEY_MISSING": "ApiKeyMissingError",
            "API_KEY_INVALID": "ApiKeyInvalidError",
            "API_KEY_REVOKED": "ApiKeyRevokedError",
            "API_KEY_EXPIRED": "ApiKeyExpiredError",
            "API_TOKEN_INVALID_PREFIX": "ApiTokenError",
            "API_TOKEN_STORED_HASH_INVALID": "ApiTokenError",
            "API_TOKEN_RANDOM_FAILURE": "ApiTokenError",
            "API_KEY_IP_BLOCKED": "ApiTokenError",
            "API_KEY_INSUFFICIENT_SCOPE": "ApiTokenError",
        },
    ),
    "authcore.totp": (
        "TotpError",
        {
            "TOTP_MALFORMED_CODE": "TotpMalformedCodeError",
            "TOTP_INVALID_CODE": "TotpInvalidCodeError",
            "TOTP_REPLAYED": "TotpReplayedError",
            "TOTP_INVALID_SECRET": "TotpInvalidSecretError",
            "TOTP_SECRET_TOO_SHORT": "TotpInvalidSecretError",
            "TOTP_SECRET_TOO_LONG": "TotpInvalidSecretError",
            "TOTP_INVALID_CONFIG": "TotpError",
            "TOTP_RANDOM_FAILURE": "TotpError",
        },
    ),
    "authcore.policy": (
        "PolicyError",
        {
            "POLICY_INVALID_DOCUMENT": "PolicyError",
            "POLICY_INVALID_PRINCIPAL": "PolicyError",
            "POLICY_INVALID_PATTERN": "PolicyError",
            "POLICY_INVALID_RESOURCE": "PolicyError",
            "POLICY_ROLE_CYCLE": "PolicyError",
            "POLICY_INVALID_REQUEST": "PolicyError",
        },
    ),
    "authcore.events": (
        "EventsError",
        {
            "EVENTS_INVALID_FIELD": "EventsError",
            "EVENTS_TOO_MANY_SUBSCRIBERS": "EventsError",
            "EVENTS_TOO_MANY_FOR_USER": "EventsError",
            "EVENTS_TOO_MANY_TOPICS": "EventsError",
            "EVENTS_EVENT_TOO_LARGE": "EventsError",
            "EVENTS_INVALID_SETTING": "EventsError",
            "EVENTS_WEBHOOK_REFUSED": "EventsError",
            "EVENTS_DISTRIBUTOR": "EventsError",
        },
    ),
    "authcore.realtime": (
        "RealtimeError",
        {
            "REALTIME_SERIALIZE": "RealtimeSerializeError",
            "REALTIME_STREAM": "RealtimeError",
            "REALTIME_LISTENER": "RealtimeError",
            "REALTIME_INVALID_JSON": "AuditLogEventError",
            "REALTIME_INVALID_EVENT": "AuditLogEventError",
            "REALTIME_INVALID_SETTING": "RealtimeError",
            "REALTIME_HOST": "RealtimeError",
        },
    ),
    # The original's HmacPropagationError; an HMAC core error inside propagation raises
    # the authcore.hmac classes above, a management callback's exception itself.
    "authcore.propagation": (
        "PropagationError",
        {
            "MANAGEMENT_NOT_CONFIGURED": "PropagationError",
            "UNKNOWN_CLIENT": "PropagationError",
            "INVALID_OPTIONS": "PropagationError",
            "INVALID_QUEUE_NAME": "PropagationQueueNameError",
            "SYNC_ERROR": "PropagationError",
            "CALLBACK_ERROR": "PropagationError",
            "STORE_CONNECTION": "PropagationError",
            "STORE_COMMAND": "PropagationError",
            "STORE_WRONGTYPE": "PropagationError",
            "STORE_UNSUPPORTED_URL": "PropagationError",
            "TRANSPORT_ERROR": "PropagationError",
            "RANDOM_UNAVAILABLE": "PropagationError",
        },
    ),
}


def exception_class(module: str, code: str, context: Optional[str] = None) -> type:
    """The class ``module`` (``"authcore.jwt"``…) raises for the core error ``code``;
    ``context`` picks among the choices of :data:`ERROR_CLASSES` (the failed call for
    ``authcore.password``, the claim for ``JWT_INVALID_CLAIM``)."""
    default, by_code = ERROR_CLASSES[module]
    choice: ClassChoice = by_code.get(code, default)
    if isinstance(choice, dict):
        choice = choice.get(context or "", choice["*"])
    cls: type = getattr(importlib.import_module(module), choice)
    return cls


def _native_error(module: str, code: str, message: str, status: int, kind: str, extra: Optional[str]) -> BaseException:
    """The one factory the native module calls for an error of ``module``: the class of
    :data:`ERROR_CLASSES`, carrying ``code`` and ``status``. ``kind``: the failed call
    (password) or the RFC 6749 ``error`` (pkce); ``extra``: the claim (jwt), the replayed
    step (totp)."""
    context = kind if module == "authcore.password" else extra
    cls = exception_class(module, code, context)
    exc: Any
    if module in ("authcore.events", "authcore.realtime"):
        exc = cls(message, code, status)
    elif module == "authcore.propagation":
        exc = cls(code, message)
    else:
        exc = cls(extra or "") if code == "JWT_MISSING_CLAIM" else cls(message)
        exc.code = code
        exc.status = status
        if module == "authcore.pkce":
            exc.error = kind
        elif code == "TOTP_REPLAYED" and extra is not None:
            exc.step = int(extra)
    built: BaseException = exc
    return built
