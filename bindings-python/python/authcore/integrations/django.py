"""Django: middleware that verifies every request (or the paths you choose).

``settings.py``::

    MIDDLEWARE = [..., "authcore.integrations.django.HmacAuthMiddleware", ...]
    AUTHCORE_HMAC = {
        "AUTH": "myproject.auth.hmac_auth",   # dotted path to an HmacHttpAuth (or the instance)
        "PATH_PREFIXES": ["/api/"],           # optional: only these paths (default: every path)
        "MAX_BODY_BYTES": 1048576,            # optional (default 1 MiB)
        "MAX_SKEW_MS": None,                  # optional
    }

On success ``request.hmac_auth`` holds the :class:`~authcore.hmac.VerifiedRequest`; a
failure is a ``JsonResponse`` with the original's ``{"error", "message"}`` and status. The
body is read once here (``request.body``, which Django caches for the view); a declared
length above ``MAX_BODY_BYTES`` is refused before any byte is read. Django's own
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB by default) still applies to form parsing in views.
"""

from __future__ import annotations

from typing import Any, Callable

from django.conf import settings
from django.http import HttpResponse
from django.utils.module_loading import import_string

from ..hmac import HmacHttpAuth
from . import DEFAULT_MAX_BODY_BYTES, as_auth_error, check_content_length, error_body, request_metadata

__all__ = ["HmacAuthMiddleware"]


def _auth_from_settings(value: Any) -> HmacHttpAuth:
    auth = import_string(value) if isinstance(value, str) else value
    if callable(auth) and not isinstance(auth, HmacHttpAuth):
        auth = auth()
    if not isinstance(auth, HmacHttpAuth):
        from ..errors import HmacArgumentError

        raise HmacArgumentError("AUTHCORE_HMAC['AUTH'] must name an HmacHttpAuth instance")
    return auth


class HmacAuthMiddleware:
    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        conf = dict(getattr(settings, "AUTHCORE_HMAC", {}))
        self.get_response = get_response
        self.auth = _auth_from_settings(conf.get("AUTH"))
        self.prefixes = tuple(conf.get("PATH_PREFIXES") or ())
        self.max_body_bytes = int(conf.get("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
        self.max_skew_ms = conf.get("MAX_SKEW_MS")
        self.on_bad_signature = conf.get("ON_BAD_SIGNATURE")

    def __call__(self, request: Any) -> Any:
        if self.prefixes and not request.path.startswith(self.prefixes):
            return self.get_response(request)
        try:
            meta = request.META
            check_content_length(meta.get("CONTENT_LENGTH"), self.max_body_bytes)
            body = request.body
            if len(body) > self.max_body_bytes:
                check_content_length(str(len(body)), self.max_body_bytes)
            headers = {k.lower(): v for k, v in request.headers.items()}
            raw = meta.get("RAW_URI") or meta.get("REQUEST_URI")
            target = raw.encode("latin-1", "replace").decode("utf-8", "replace") if raw else request.get_full_path()
            verified = self.auth.verify(
                request.method,
                target,
                headers,
                body,
                max_skew_ms=self.max_skew_ms,
                metadata=request_metadata(meta.get("REMOTE_ADDR"), headers),
                on_bad_signature=self.on_bad_signature,
            )
        except Exception as exc:
            err = as_auth_error(exc)
            return HttpResponse(error_body(err), status=err.status, content_type="application/json; charset=utf-8")
        request.hmac_auth = verified
        return self.get_response(request)
