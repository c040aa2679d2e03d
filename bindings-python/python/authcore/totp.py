"""TOTP (RFC 6238) compatible with otplib's defaults (SHA-1, 6 digits, 30 s), backed by the
Rust core (``authcore::totp``).

Unlike node-auth, verification accepts a drift window (default ±1 step) and refuses replays:
:func:`verify` returns the accepted time step, which the caller persists and passes back as
``last_used_step``; a code for that step or an earlier one raises :class:`TotpReplayedError`.
A malformed code raises :class:`TotpMalformedCodeError` (status 400), never a crash.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from . import _native as _n

__all__ = [
    "TotpError",
    "TotpMalformedCodeError",
    "TotpInvalidCodeError",
    "TotpReplayedError",
    "TotpInvalidSecretError",
    "generate_secret",
    "generate_secret_for",
    "generate",
    "verify",
    "check",
    "otpauth_url",
    "generate_raw",
    "verify_raw",
    "TOTP",
    "DEFAULT_APP_NAME",
]

DEFAULT_APP_NAME = "awesome-node-auth"


class TotpError(Exception):
    code: str = "TOTP_ERROR"
    status: int = 500


class TotpMalformedCodeError(TotpError, ValueError):
    code = "TOTP_MALFORMED_CODE"
    status = 400


class TotpInvalidCodeError(TotpError):
    code = "TOTP_INVALID_CODE"
    status = 401


class TotpReplayedError(TotpError):
    code = "TOTP_REPLAYED"
    status = 401
    #: The time step the replayed code belongs to.
    step: int = -1


class TotpInvalidSecretError(TotpError, ValueError):
    code = "TOTP_INVALID_SECRET"


class GeneratedSecret(NamedTuple):
    secret: str
    otpauth_url: str

    def __repr__(self) -> str:  # the URL carries the secret too
        return "GeneratedSecret(secret=[REDACTED], otpauth_url=[REDACTED])"


def generate_secret() -> str:
    """20 CSPRNG bytes, base32 without padding (32 characters)."""
    return _n.totp_generate_secret()


def generate_secret_for(account: str, issuer: str = DEFAULT_APP_NAME) -> GeneratedSecret:
    """node-auth ``generateSecret(email, appName)`` without the QR code."""
    secret = generate_secret()
    return GeneratedSecret(secret, otpauth_url(issuer, account, secret))


def generate(
    secret: str, now: float | None = None, *, algorithm: str = "SHA1", digits: int = 6, period: int = 30
) -> str:
    """The code for ``secret`` (base32) at ``now`` (default: the current time)."""
    return _n.totp_generate(secret, now, algorithm, digits, period)


def verify(
    code: str,
    secret: str,
    *,
    now: float | None = None,
    window: int = 1,
    last_used_step: int | None = None,
    algorithm: str = "SHA1",
    digits: int = 6,
    period: int = 30,
) -> int:
    """Accept ``code`` or raise; returns the matched time step (persist it)."""
    return _n.totp_verify(code, secret, now, window, last_used_step, algorithm, digits, period)


def generate_raw(
    secret: bytes, now: float, *, algorithm: str = "SHA1", digits: int = 6, period: int = 30
) -> str:
    """The code for raw secret bytes (no size limits; RFC 6238 test vectors)."""
    return _n.totp_generate_raw(secret, now, algorithm, digits, period)


def verify_raw(
    code: str,
    secret: bytes,
    *,
    now: float,
    window: int = 1,
    last_used_step: int | None = None,
    algorithm: str = "SHA1",
    digits: int = 6,
    period: int = 30,
) -> int:
    """:func:`verify` with raw secret bytes."""
    return _n.totp_verify_raw(code, secret, now, window, last_used_step, algorithm, digits, period)


def check(code: str, secret: str, **kwargs: object) -> bool:
    """``True`` only for an accepted, non-replayed code; every rejection is ``False``."""
    try:
        verify(code, secret, **kwargs)  # type: ignore[arg-type]
    except TotpError:
        return False
    return True


def otpauth_url(
    issuer: str, account: str, secret: str, *, algorithm: str = "SHA1", digits: int = 6, period: int = 30
) -> str:
    """``otpauth://totp/...`` exactly as otplib builds it for node-auth."""
    return _n.totp_otpauth_url(issuer, account, secret, algorithm, digits, period)


class TOTP:
    """A pyotp-like object: ``TOTP(secret).now()``, ``.verify(code)``,
    ``.provisioning_uri(name, issuer_name)``, plus replay-safe :meth:`verify_step`."""

    __slots__ = ("secret", "digits", "interval", "algorithm")

    def __repr__(self) -> str:  # never the secret
        return f"TOTP(digits={self.digits}, interval={self.interval}, algorithm={self.algorithm!r})"

    def __init__(self, secret: str, digits: int = 6, interval: int = 30, algorithm: str = "SHA1") -> None:
        self.secret = secret
        self.digits = digits
        self.interval = interval
        self.algorithm = algorithm

    def at(self, for_time: float) -> str:
        return generate(self.secret, for_time, algorithm=self.algorithm, digits=self.digits, period=self.interval)

    def now(self) -> str:
        return self.at(time.time())

    def verify(self, otp: str, for_time: float | None = None, valid_window: int = 0) -> bool:
        return check(
            otp,
            self.secret,
            now=for_time,
            window=valid_window,
            algorithm=self.algorithm,
            digits=self.digits,
            period=self.interval,
        )

    def verify_step(self, otp: str, last_used_step: int | None, *, for_time: float | None = None, valid_window: int = 1) -> int:
        return verify(
            otp,
            self.secret,
            now=for_time,
            window=valid_window,
            last_used_step=last_used_step,
            algorithm=self.algorithm,
            digits=self.digits,
            period=self.interval,
        )

    def provisioning_uri(self, name: str, issuer_name: str = "") -> str:
        return otpauth_url(issuer_name, name, self.secret, algorithm=self.algorithm, digits=self.digits, period=self.interval)
