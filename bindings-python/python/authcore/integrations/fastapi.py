"""FastAPI: a dependency that verifies the request and gives the verified client.

::

    from fastapi import Depends, FastAPI
    from authcore.integrations.fastapi import HmacAuth

    hmac_auth = HmacAuth(auth)                # auth = authcore.hmac.HmacHttpAuth(...)
    app = FastAPI()
    hmac_auth.install(app)                    # failures answer {"error", "message"} + status

    @app.post("/orders")
    async def create(verified = Depends(hmac_auth)):
        return {"caller": verified.client_id}

The body is read (at most ``max_body_bytes``, default 1 MiB) and kept on the request, so
the route can still read it or declare a body model. Verification runs on the core's tokio
runtime without holding the GIL. Without :meth:`HmacAuth.install`, failures surface as
:class:`HmacAuthRejected` (an exception FastAPI would answer with 500).

(No ``from __future__ import annotations`` here: FastAPI reads the dependency's
annotations at run time.)
"""

from typing import Any, Optional

from starlette.requests import Request
from starlette.responses import Response

from ..hmac import HmacHttpAuth, OnBadSignature, VerifiedRequest
from . import (
    DEFAULT_MAX_BODY_BYTES,
    BodyTooLarge,
    as_auth_error,
    check_content_length,
    error_body,
    request_metadata,
)

__all__ = ["HmacAuth", "HmacAuthRejected"]


class HmacAuthRejected(Exception):
    """Raised by the dependency for a rejected request; ``error`` is the
    :class:`~authcore.errors.HmacAuthError` to answer with."""

    def __init__(self, error: Any) -> None:
        super().__init__(error.message)
        self.error = error


async def _answer(_request: Request, exc: Exception) -> Response:
    err = exc.error  # type: ignore[attr-defined]
    return Response(error_body(err), status_code=err.status, media_type="application/json; charset=utf-8")


def _target(request: Request) -> str:
    raw = request.scope.get("raw_path")
    path = raw.decode("utf-8", "replace") if raw else request.scope.get("root_path", "") + request.url.path
    query = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('utf-8', 'replace')}" if query else path


class HmacAuth:
    """The dependency: ``Depends(HmacAuth(auth))`` gives the
    :class:`~authcore.hmac.VerifiedRequest` and sets ``request.state.<attach_auth_to>``."""

    def __init__(
        self,
        auth: HmacHttpAuth,
        *,
        max_skew_ms: Optional[float] = None,
        on_bad_signature: Optional[OnBadSignature] = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        attach_auth_to: str = "hmac_auth",
    ) -> None:
        if not isinstance(auth, HmacHttpAuth):
            from ..errors import HmacArgumentError

            raise HmacArgumentError("auth must be an HmacHttpAuth instance")
        self.auth = auth
        self.max_skew_ms = max_skew_ms
        self.on_bad_signature = on_bad_signature
        self.max_body_bytes = int(max_body_bytes)
        self.attach_auth_to = attach_auth_to

    @staticmethod
    def install(app: Any) -> None:
        """Answer :class:`HmacAuthRejected` with the original's JSON and status."""
        app.add_exception_handler(HmacAuthRejected, _answer)

    async def _body(self, request: Request) -> bytes:
        cached = getattr(request, "_body", None)
        if cached is not None:
            if len(cached) > self.max_body_bytes:
                raise BodyTooLarge()
            return cached
        check_content_length(request.headers.get("content-length"), self.max_body_bytes)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge()
            chunks.append(chunk)
        body = b"".join(chunks)
        request._body = body  # Starlette's cache: the route reads the same bytes
        return body

    async def __call__(self, request: Request) -> VerifiedRequest:
        try:
            body = await self._body(request)
            headers = {k.lower(): v for k, v in request.headers.items()}
            client = request.client
            verified = await self.auth.verify_async(
                request.method,
                _target(request),
                headers,
                body,
                max_skew_ms=self.max_skew_ms,
                metadata=request_metadata(client.host if client else None, headers),
                on_bad_signature=self.on_bad_signature,
            )
        except Exception as exc:
            raise HmacAuthRejected(as_auth_error(exc)) from None
        setattr(request.state, self.attach_auth_to, verified)
        return verified
