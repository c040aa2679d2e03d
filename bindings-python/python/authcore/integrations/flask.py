"""Flask: an extension in Flask's idioms (``init_app``, ``app.extensions``, ``g``).

::

    from flask import Flask, g
    from authcore.integrations.flask import HmacAuth

    hmac_auth = HmacAuth()
    app = Flask(__name__)
    hmac_auth.init_app(app, auth)               # auth = authcore.hmac.HmacHttpAuth(...)

    @app.post("/orders")
    @hmac_auth.required                         # or HmacAuth(app, auth, protect_all=True)
    def create():
        return {"caller": g.hmac_auth.client_id}

A failure answers the original's ``{"error", "message"}`` JSON and status. Bodies above
``max_body_bytes`` (default: ``app.config["MAX_CONTENT_LENGTH"]``, else 1 MiB) are refused
before hashing with 500 ``INTERNAL_ERROR``. The body is read with
``request.get_data(cache=True)``, so the view reads the same bytes.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional

from flask import Flask, Response, current_app, g, request

from ..hmac import HmacHttpAuth, OnBadSignature
from . import DEFAULT_MAX_BODY_BYTES, as_auth_error, check_content_length, error_body, request_metadata

__all__ = ["HmacAuth", "EXTENSION_KEY"]

#: The key of the extension's state in ``app.extensions``.
EXTENSION_KEY = "authcore_hmac"


class _State:
    def __init__(self, auth: HmacHttpAuth, max_body_bytes: int, max_skew_ms: Optional[float], on_bad_signature: Optional[OnBadSignature]) -> None:
        self.auth = auth
        self.max_body_bytes = max_body_bytes
        self.max_skew_ms = max_skew_ms
        self.on_bad_signature = on_bad_signature


class HmacAuth:
    def __init__(self, app: Optional[Flask] = None, auth: Optional[HmacHttpAuth] = None, **options: Any) -> None:
        if app is not None:
            self.init_app(app, auth, **options)

    def init_app(
        self,
        app: Flask,
        auth: Optional[HmacHttpAuth],
        *,
        max_body_bytes: Optional[int] = None,
        max_skew_ms: Optional[float] = None,
        on_bad_signature: Optional[OnBadSignature] = None,
        protect_all: bool = False,
    ) -> None:
        if not isinstance(auth, HmacHttpAuth):
            from ..errors import HmacArgumentError

            raise HmacArgumentError("auth must be an HmacHttpAuth instance")
        limit = max_body_bytes if max_body_bytes is not None else app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BODY_BYTES
        app.extensions[EXTENSION_KEY] = _State(auth, int(limit), max_skew_ms, on_bad_signature)
        if protect_all:
            app.before_request(self._check)

    @staticmethod
    def _check() -> Optional[Response]:
        """Verify the current request: ``None`` on success (``g.hmac_auth`` set), else the
        error response."""
        state: _State = current_app.extensions[EXTENSION_KEY]
        try:
            check_content_length(request.headers.get("Content-Length"), state.max_body_bytes)
            body = request.get_data(cache=True)
            check_content_length(str(len(body)), state.max_body_bytes)
            headers = {k.lower(): v for k, v in request.headers.items()}
            environ = request.environ
            raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
            target = raw.encode("latin-1", "replace").decode("utf-8", "replace") if raw else request.full_path.rstrip("?")
            g.hmac_auth = state.auth.verify(
                request.method,
                target,
                headers,
                body,
                max_skew_ms=state.max_skew_ms,
                metadata=request_metadata(request.remote_addr, headers),
                on_bad_signature=state.on_bad_signature,
            )
        except Exception as exc:
            err = as_auth_error(exc)
            return Response(error_body(err), status=err.status, content_type="application/json; charset=utf-8")
        return None

    def required(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: verify before the view runs."""

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            failed = self._check()
            if failed is not None:
                return failed
            return view(*args, **kwargs)

        return wrapper
