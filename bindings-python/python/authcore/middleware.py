"""Server middlewares: ASGI (Starlette, FastAPI) and WSGI (Flask).

They do what the original's Express middleware does (spec §2.8): read the raw body,
verify the request, attach the :class:`~authcore.hmac.VerifiedRequest`, and answer
failures with ``{"error": code, "message": message}`` and the error's status; any error
that is not an :class:`~authcore.errors.HmacAuthError` becomes
``500 {"error": "INTERNAL_ERROR", "message": "Internal auth error"}``.

Differences from the Express middleware (see docs/compat.md): the app runs *outside*
the auth ``try``, so an exception raised by the app is never reported as an auth error;
the body is always the raw bytes (no re-serialisation of a parsed body).
"""

from __future__ import annotations

import io
import json
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from .errors import HmacAuthError
from .hmac import DEFAULT_ATTACH_AUTH_TO, MAX_BODY_BYTES, HmacHttpAuth, OnBadSignature

__all__ = ["HmacAsgiMiddleware", "HmacWsgiMiddleware", "error_body", "INTERNAL_AUTH_ERROR"]

#: What every non-``HmacAuthError`` failure is reported as (the original's wrapper).
INTERNAL_AUTH_ERROR = HmacAuthError("INTERNAL_ERROR", "Internal auth error", 500)


def _as_auth_error(exc: BaseException) -> HmacAuthError:
    if isinstance(exc, HmacAuthError):
        return exc
    return HmacAuthError("INTERNAL_ERROR", "Internal auth error", 500)


def error_body(err: HmacAuthError) -> bytes:
    """The original's error JSON: ``{"error": code, "message": message}``."""
    return json.dumps(
        {"error": err.code, "message": err.message}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


class _BodyTooLarge(Exception):
    pass


def _merge_headers(raw: List[Tuple[bytes, bytes]]) -> Dict[str, str]:
    """ASGI header pairs → a dict like Node's ``req.headers``: names lower-cased,
    values Latin-1, repeated headers joined with ``", "``."""
    out: Dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


class _HmacMiddleware:
    """The options of both middlewares (the async ASGI one and the sync WSGI one)."""

    app: Callable[..., Any]
    auth: HmacHttpAuth
    attach_auth_to: str
    max_skew_ms: Optional[float]
    on_error: Optional[Callable[..., Any]]
    on_bad_signature: Optional[OnBadSignature]
    max_body_bytes: int

    def _configure(
        self,
        app: Callable[..., Any],
        auth: HmacHttpAuth,
        attach_auth_to: str,
        max_skew_ms: Optional[float],
        on_error: Optional[Callable[..., Any]],
        on_bad_signature: Optional[OnBadSignature],
        max_body_bytes: int,
    ) -> None:
        if not isinstance(auth, HmacHttpAuth):
            from .errors import HmacArgumentError

            raise HmacArgumentError("auth must be an HmacHttpAuth instance")
        self.app = app
        self.auth = auth
        self.attach_auth_to = attach_auth_to
        self.max_skew_ms = max_skew_ms
        self.on_error = on_error
        self.on_bad_signature = on_bad_signature
        self.max_body_bytes = min(int(max_body_bytes), MAX_BODY_BYTES)


class HmacAsgiMiddleware(_HmacMiddleware):
    """Verify every HTTP request before the app sees it.

    On success ``scope["state"][attach_auth_to]`` (``request.state.hmac_auth`` in
    Starlette/FastAPI) holds the :class:`~authcore.hmac.VerifiedRequest` and the body is
    replayed to the app. ``on_error(err, scope, receive, send)`` (an async callable) may
    answer failures itself. Non-HTTP scopes (lifespan, websocket) pass through.
    """

    def __init__(
        self,
        app: Callable[..., Awaitable[None]],
        *,
        auth: HmacHttpAuth,
        attach_auth_to: str = DEFAULT_ATTACH_AUTH_TO,
        max_skew_ms: Optional[float] = None,
        on_error: Optional[Callable[..., Awaitable[None]]] = None,
        on_bad_signature: Optional[OnBadSignature] = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._configure(app, auth, attach_auth_to, max_skew_ms, on_error, on_bad_signature, max_body_bytes)

    async def _read_body(self, receive) -> Tuple[bytes, List[dict]]:
        chunks: List[bytes] = []
        size = 0
        extra: List[dict] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                extra.append(message)  # e.g. http.disconnect: replay it after the body
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyTooLarge()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), extra

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body, pending = await self._read_body(receive)
            headers = _merge_headers(scope.get("headers", []))
            raw_path = scope.get("raw_path")
            path = (
                raw_path.decode("utf-8", "replace")
                if raw_path
                else scope.get("root_path", "") + scope.get("path", "/")
            )
            query = scope.get("query_string", b"")
            if query:
                path = f"{path}?{query.decode('utf-8', 'replace')}"
            client = scope.get("client")
            client_ip = client[0] if client else None
            metadata = {
                "ip": client_ip,
                "ips": [],
                "remoteAddress": client_ip,
                "forwardedFor": headers.get("x-forwarded-for"),
            }
            verified = await self.auth.verify_async(
                scope["method"],
                path,
                headers,
                body,
                max_skew_ms=self.max_skew_ms,
                metadata=metadata,
                on_bad_signature=self.on_bad_signature,
            )
        except Exception as exc:  # every failure is answered, never propagated
            err = _as_auth_error(exc)
            if self.on_error is not None:
                await self.on_error(err, scope, receive, send)
                return
            await _send_error(send, err)
            return

        scope.setdefault("state", {})[self.attach_auth_to] = verified
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            if pending:
                return pending.pop(0)
            return await receive()

        await self.app(scope, replay, send)


async def _send_error(send, err: HmacAuthError) -> None:
    payload = error_body(err)
    await send(
        {
            "type": "http.response.start",
            "status": err.status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Error"


class HmacWsgiMiddleware(_HmacMiddleware):
    """Verify every request before the WSGI app (Flask) sees it.

    On success ``environ[attach_auth_to]`` holds the
    :class:`~authcore.hmac.VerifiedRequest` (``request.environ["hmac_auth"]`` in Flask)
    and ``wsgi.input`` is replaced by the buffered body.
    ``on_error(err, environ, start_response)`` may answer failures itself.
    """

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        auth: HmacHttpAuth,
        attach_auth_to: str = DEFAULT_ATTACH_AUTH_TO,
        max_skew_ms: Optional[float] = None,
        on_error: Optional[Callable[..., Any]] = None,
        on_bad_signature: Optional[OnBadSignature] = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._configure(app, auth, attach_auth_to, max_skew_ms, on_error, on_bad_signature, max_body_bytes)

    def _read_body(self, environ) -> bytes:
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        length = environ.get("CONTENT_LENGTH") or ""
        if length.strip():
            n = int(length)
            if n > self.max_body_bytes:
                raise _BodyTooLarge()
            return stream.read(n) if n > 0 else b""
        if environ.get("wsgi.input_terminated"):
            data = stream.read(self.max_body_bytes + 1)
            if len(data) > self.max_body_bytes:
                raise _BodyTooLarge()
            return data
        return b""

    @staticmethod
    def _path(environ) -> str:
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw:
            # WSGI strings are bytes decoded as Latin-1; the target's bytes are UTF-8.
            return raw.encode("latin-1", "replace").decode("utf-8", "replace")
        from urllib.parse import quote

        path = quote(
            (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1", "replace"),
            safe="/:@!$&'()*+,;=~",
        )
        query = environ.get("QUERY_STRING", "").encode("latin-1", "replace").decode("utf-8", "replace")
        return f"{path}?{query}" if query else path

    def __call__(self, environ, start_response):
        try:
            body = self._read_body(environ)
            headers = {
                key[5:].replace("_", "-").lower(): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
            client_ip = environ.get("REMOTE_ADDR")
            metadata = {
                "ip": client_ip,
                "ips": [],
                "remoteAddress": client_ip,
                "forwardedFor": headers.get("x-forwarded-for"),
            }
            verified = self.auth.verify(
                environ.get("REQUEST_METHOD", "GET"),
                self._path(environ),
                headers,
                body,
                max_skew_ms=self.max_skew_ms,
                metadata=metadata,
                on_bad_signature=self.on_bad_signature,
            )
        except Exception as exc:
            err = _as_auth_error(exc)
            if self.on_error is not None:
                return self.on_error(err, environ, start_response)
            payload = error_body(err)
            start_response(
                _status_line(err.status),
                [
                    ("Content-Type", "application/json; charset=utf-8"),
                    ("Content-Length", str(len(payload))),
                ],
            )
            return [payload]
        environ[self.attach_auth_to] = verified
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)
