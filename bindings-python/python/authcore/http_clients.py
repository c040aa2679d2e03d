"""Outbound request signing: the original's signed fetch for httpx and requests.

Both classes add the four headers the original's ``buildHttpSignedHeaders`` sets
(``x-client-id``, ``x-timestamp``, ``x-nonce``, ``x-signature``, overwriting any
existing ones) over exactly the request that is sent: the method upper-cased, the path
and query of the final URL normalised like the original, and the SHA-256 of the body
bytes on the wire. The signing key is ``secret`` when ``secret_is_hashed`` is true, else
``hash_client_secret(secret, hash_token)``, computed once (like
``createHttpSignedFetchClient``).
"""

from __future__ import annotations

from typing import Any, Optional, Union

from ._native import build_signed_headers, hash_client_secret
from .errors import HmacInputError

__all__ = ["HmacHttpxAuth", "HmacRequestsAuth"]


class _Signer:
    def __init__(
        self,
        client_id: str,
        secret: str,
        *,
        secret_is_hashed: bool = False,
        hash_token: Optional[str] = None,
        nonce: Optional[str] = None,
        timestamp: Optional[Union[int, float]] = None,
    ) -> None:
        if not isinstance(client_id, str):
            raise HmacInputError("client_id must be a string")
        if not isinstance(secret, str):
            raise HmacInputError("secret must be a string")
        self.client_id = client_id
        self._key = secret if secret_is_hashed else hash_client_secret(secret, hash_token)
        # Fixed values are for tests and vectors; by default each request gets the
        # current time and a fresh 32-hex nonce.
        self.nonce = nonce
        self.timestamp = timestamp

    def headers(self, method: str, url: str, body: Optional[bytes]) -> dict:
        return build_signed_headers(
            method.upper(),
            url,
            body,
            self.client_id,
            self._key,
            True,
            None,
            self.nonce,
            self.timestamp,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_id={self.client_id!r})"


try:
    import httpx as _httpx

    _HttpxAuthBase: Any = _httpx.Auth
except ImportError:  # pragma: no cover - exercised only without httpx installed
    _httpx = None
    _HttpxAuthBase = object


class HmacHttpxAuth(_Signer, _HttpxAuthBase):
    """``httpx.Auth`` that signs each request (sync and async clients)."""

    requires_request_body = True

    def __init__(self, client_id: str, secret: str, **options: Any) -> None:
        if _httpx is None:
            raise ImportError("HmacHttpxAuth needs httpx (pip install httpx)")
        _Signer.__init__(self, client_id, secret, **options)

    def auth_flow(self, request):
        request.headers.update(self.headers(request.method, str(request.url), request.content))
        yield request


try:
    import requests as _requests

    _RequestsAuthBase: Any = _requests.auth.AuthBase
except ImportError:  # pragma: no cover
    _requests = None
    _RequestsAuthBase = object


class HmacRequestsAuth(_Signer, _RequestsAuthBase):
    """``requests.auth.AuthBase`` that signs each prepared request.

    A ``str`` body is sent as its UTF-8 bytes (what is signed); streaming bodies (files,
    generators) cannot be signed and raise :class:`~authcore.errors.HmacInputError`.
    """

    def __init__(self, client_id: str, secret: str, **options: Any) -> None:
        if _requests is None:
            raise ImportError("HmacRequestsAuth needs requests (pip install requests)")
        _Signer.__init__(self, client_id, secret, **options)

    def __call__(self, r):
        body = r.body
        if isinstance(body, str):
            body = body.encode("utf-8")
            r.body = body
            r.headers["Content-Length"] = str(len(body))
        elif body is not None and not isinstance(body, (bytes, bytearray)):
            raise HmacInputError(
                "HmacRequestsAuth can only sign bytes or str bodies, not a stream"
            )
        r.headers.update(self.headers(r.method or "GET", r.url, body))
        return r
