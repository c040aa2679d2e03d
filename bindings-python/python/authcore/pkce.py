"""PKCE (RFC 7636), single-use authorization codes and RFC 8414 metadata, backed by the
Rust core (``authcore::oauth``).

``verify_pkce`` compares in constant time and refuses malformed verifiers. An
:class:`AuthorizationServer` issues codes bound to the client, the redirect URI and the PKCE
challenge, stores only their SHA-256, and consumes a code on its first exchange attempt
whatever the outcome. Errors are :class:`OAuthError` subclasses carrying ``code``,
``status`` and ``error`` (the RFC 6749 §5.2 value for the token endpoint's response).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from . import _native as _n

__all__ = [
    "OAuthError",
    "InvalidRequestError",
    "InvalidGrantError",
    "PkceVerificationError",
    "AuthorizationCodeReusedError",
    "s256_challenge",
    "generate_code_verifier",
    "verify_pkce",
    "validate_code_verifier",
    "validate_code_challenge",
    "hash_code",
    "AuthorizationServer",
    "authorization_server_metadata",
]


class OAuthError(Exception):
    code: str = "OAUTH_ERROR"
    status: int = 400
    #: RFC 6749 ``error`` value (``invalid_request``, ``invalid_grant``, ``server_error``).
    error: str = "invalid_request"


class InvalidRequestError(OAuthError, ValueError):
    error = "invalid_request"


class InvalidGrantError(OAuthError):
    error = "invalid_grant"


class PkceVerificationError(InvalidGrantError):
    code = "PKCE_VERIFICATION_FAILED"


class AuthorizationCodeReusedError(InvalidGrantError):
    code = "AUTH_CODE_REUSED"


def s256_challenge(verifier: str) -> str:
    """``BASE64URL-NOPAD(SHA256(verifier))``."""
    return _n.pkce_s256_challenge(verifier)


def generate_code_verifier() -> str:
    """43 characters from 32 CSPRNG bytes."""
    return _n.pkce_generate_verifier()


def verify_pkce(verifier: str, challenge: str, method: str = "S256") -> bool:
    """``True``, or raises (:class:`PkceVerificationError` on mismatch)."""
    _n.pkce_verify(verifier, challenge, method)
    return True


def validate_code_verifier(verifier: str) -> None:
    _n.pkce_validate_verifier(verifier)


def validate_code_challenge(challenge: str, method: str = "S256") -> None:
    _n.pkce_validate_challenge(challenge, method)


def hash_code(code: str) -> str:
    """SHA-256 hex of an authorization code (its storage key)."""
    return _n.oauth_hash_code(code)


class AuthorizationServer:
    """Authorization codes (Auth Server ``OAuthStorage``): in this process by default, or in
    Redis (``store="redis://..."``) so every process shares one single-use code. Only the
    SHA-256 of each code is stored."""

    __slots__ = ("_inner",)

    def __init__(
        self,
        *,
        code_ttl_ms: int = 60_000,
        allow_plain: bool = False,
        store: str | None = None,
        key_prefix: str | None = None,
    ) -> None:
        self._inner = _n.AuthorizationServer(code_ttl_ms, allow_plain, store, key_prefix)

    def create_code(
        self,
        *,
        client_id: str,
        user_id: str,
        domain_id: str,
        redirect_uri: str,
        code_challenge: str,
        code_challenge_method: str = "S256",
        scope: str = "",
        now_ms: int | None = None,
    ) -> str:
        return self._inner.create_code(
            client_id, user_id, domain_id, redirect_uri, code_challenge, code_challenge_method, scope, now_ms
        )

    def exchange_code(
        self, *, code: str, client_id: str, redirect_uri: str, code_verifier: str, now_ms: int | None = None
    ) -> dict[str, str]:
        """``{"user_id", "domain_id", "scope", "client_id"}`` or raises."""
        return self._inner.exchange_code(code, client_id, redirect_uri, code_verifier, now_ms)

    def exchange_code_for_tokens(
        self,
        *,
        code: str,
        client_id: str,
        redirect_uri: str,
        code_verifier: str,
        token_manager: Any,
        now_ms: int | None = None,
    ) -> dict[str, Any]:
        """The ``authorization_code`` grant end to end: redeem the code and issue a token pair
        (``accessToken``, ``refreshToken``, ``expiresIn``, ``familyId``) through
        ``token_manager`` (an :class:`authcore.jwt.TokenManager`). A replayed code raises
        :class:`AuthorizationCodeReusedError` and revokes the refresh family issued for it."""
        return self._inner.exchange_code_for_tokens(
            code, client_id, redirect_uri, code_verifier, token_manager._inner, now_ms
        )

    def exchange_code_result(self, **kwargs: Any) -> dict[str, Any]:
        """Auth Server ``ExchangeCodeResult``: never raises for a bad grant."""
        try:
            x = self.exchange_code(**kwargs)
        except OAuthError as e:
            return {"success": False, "error": e.error, "errorDescription": str(e)}
        return {"success": True, "userId": x["user_id"], "domainId": x["domain_id"], "scope": x["scope"]}

    def purge_expired(self, now_ms: int | None = None) -> int:
        return self._inner.purge_expired(now_ms)

    def stored_code_hashes(self) -> list[str]:
        return self._inner.stored_code_hashes()

    def __len__(self) -> int:
        return len(self._inner)


def authorization_server_metadata(
    issuer: str, scopes: Iterable[str] = (), *, allow_plain: bool = False, registration_endpoint: str | None = None
) -> dict[str, Any]:
    """RFC 8414 document for ``/.well-known/oauth-authorization-server``."""
    return json.loads(_n.oauth_metadata_json(issuer, list(scopes), allow_plain, registration_endpoint))
