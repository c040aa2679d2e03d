"""Framework integrations of the HMAC verifier: FastAPI (:mod:`.fastapi`), Django
(:mod:`.django`) and Flask (:mod:`.flask`).

Each one verifies the exact bytes of the request body with one core call, answers
failures with the original's ``{"error": code, "message": message}`` JSON and status, and
refuses bodies above ``max_body_bytes`` (default 1 MiB) before hashing them, with
``500 INTERNAL_ERROR`` like every non-auth failure (as :mod:`authcore.middleware` does).
Importing this package does not import any framework.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ..errors import HmacAuthError
from ..middleware import error_body

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyTooLarge", "as_auth_error", "error_body", "request_metadata"]

#: Default body cap of the integrations: 1 MiB.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """A request body above the integration's ``max_body_bytes``."""


def as_auth_error(exc: BaseException) -> HmacAuthError:
    """The error a framework answers with: the ``HmacAuthError`` itself, otherwise the
    original's ``500 INTERNAL_ERROR "Internal auth error"``."""
    if isinstance(exc, HmacAuthError):
        return exc
    return HmacAuthError("INTERNAL_ERROR", "Internal auth error", 500)


def request_metadata(client_ip: Optional[str], headers: Mapping[str, str]) -> Dict[str, Any]:
    """The IP sources the verifier reads, in the original's order."""
    return {
        "ip": client_ip,
        "ips": [],
        "remoteAddress": client_ip,
        "forwardedFor": headers.get("x-forwarded-for"),
    }


def check_content_length(value: Optional[str], limit: int) -> None:
    """Refuse a declared length above ``limit`` before any byte is read."""
    if value and value.strip().isdigit() and int(value) > limit:
        raise BodyTooLarge()
