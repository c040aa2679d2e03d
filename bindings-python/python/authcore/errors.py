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
"""

from __future__ import annotations

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
