"""HMAC request and message authentication, wire v1 of ``@naskot/node-hmac-auth-core``.

Pure functions (snake_case equivalents of the original's exports)::

    hash_client_secret, hash_body, build_signing_payload, sign_request, safe_equal_hex,
    normalize_path, build_message_signing_payload, sign_message, verify_message,
    message_canonical, build_signed_headers

Runtime (the original's ``initializeHmacHttpAuth`` / ``initializeHmacMessageAuth``)::

    auth = HmacHttpAuth(redis_url="redis://127.0.0.1:6379")   # or the embedded memory store
    auth.clients.set_secret("app_a", "secret_a")
    verified = auth.verify("POST", "/v1/x", headers, body)     # or: await auth.verify_async(...)

Framework adapters: :class:`authcore.middleware.HmacAsgiMiddleware` (Starlette/FastAPI),
:class:`authcore.middleware.HmacWsgiMiddleware` (Flask), and the outbound signers
:class:`authcore.http_clients.HmacHttpxAuth` / :class:`authcore.http_clients.HmacRequestsAuth`.

All logic runs in the Rust core; this module only shapes the Python API.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Optional, Sequence, Tuple, Union

from . import _native
from ._native import (
    DEFAULT_BACKUP_TTL_SECONDS,
    DEFAULT_MAX_SKEW_MS,
    DEFAULT_NAMESPACE,
    DEFAULT_SECRET_LENGTH_BYTES,
    MAX_BODY_BYTES,
    ClientCredential,
    Clients,
    RevertResult,
    SignedMessage,
    Store,
    VerifiedRequest,
    build_message_signing_payload,
    build_signed_headers,
    build_signing_payload,
    generate_nonce,
    hash_body,
    hash_client_secret,
    is_client_ip_allowed,
    message_canonical,
    normalize_allowed_ip_rules,
    normalize_path,
    parse_stored_client_record,
    safe_equal_hex,
    sign_message,
    sign_request,
    verify_message,
    verify_request_signature,
)
from .errors import (
    HMAC_ERROR_CODES,
    HmacArgumentError,
    HmacAuthError,
    HmacError,
    HmacInputError,
    HmacInternalError,
    HmacStoreError,
)

__all__ = [
    # constants
    "DEFAULT_BACKUP_TTL_SECONDS",
    "DEFAULT_MAX_SKEW_MS",
    "DEFAULT_NAMESPACE",
    "DEFAULT_SECRET_LENGTH_BYTES",
    "DEFAULT_ATTACH_AUTH_TO",
    "MAX_BODY_BYTES",
    "HMAC_ERROR_CODES",
    # pure functions
    "build_message_signing_payload",
    "build_signed_headers",
    "build_signing_payload",
    "generate_nonce",
    "hash_body",
    "hash_client_secret",
    "is_client_ip_allowed",
    "message_canonical",
    "normalize_allowed_ip_rules",
    "normalize_allowed_ips",
    "normalize_path",
    "parse_stored_client_record",
    "safe_equal_hex",
    "sign_message",
    "sign_request",
    "verify_message",
    "verify_request_signature",
    # runtime
    "BadHttpSignatureEvent",
    "Clock",
    "ClientCredential",
    "Clients",
    "HmacHttpAuth",
    "HmacMessageAuth",
    "RevertResult",
    "SignedMessage",
    "Store",
    "VerifiedRequest",
    # errors
    "HmacArgumentError",
    "HmacAuthError",
    "HmacError",
    "HmacInputError",
    "HmacInternalError",
    "HmacStoreError",
    # adapters (imported lazily)
    "HmacAsgiMiddleware",
    "HmacWsgiMiddleware",
    "HmacHttpxAuth",
    "HmacRequestsAuth",
]

#: Where the middlewares put the verified request (``request.state.hmac_auth`` in
#: Starlette/FastAPI, ``environ["hmac_auth"]`` in WSGI). The original uses ``hmacAuth``.
DEFAULT_ATTACH_AUTH_TO = "hmac_auth"

def normalize_allowed_ips(rules: Optional[Sequence[str]]) -> list[str]:
    """Deprecated alias of :func:`normalize_allowed_ip_rules` (the name every language
    shares: the core's, the original's ``normalizeAllowedIpRules``)."""
    import warnings

    warnings.warn(
        "authcore.hmac.normalize_allowed_ips is deprecated: use normalize_allowed_ip_rules",
        DeprecationWarning,
        stacklevel=2,
    )
    return normalize_allowed_ip_rules(rules)


Body = Union[str, bytes, bytearray, memoryview, None]
Headers = Union[Mapping[str, Any], Sequence[tuple]]


@dataclass(frozen=True)
class BadHttpSignatureEvent:
    """What ``on_bad_signature`` receives (the original's ``BadHttpSignatureEvent``)."""

    client_id: str
    method: str
    path: str
    timestamp: Union[int, float]
    nonce: str
    received_signature: str
    expected_signature: str
    headers: Any
    raw_body: Any
    metadata: Any


OnBadSignature = Callable[[BadHttpSignatureEvent], Union[None, Awaitable[None]]]

#: ``clock=``: a callable returning the time in milliseconds since the Unix epoch, read
#: wherever the original reads ``Date.now()`` (``created_at``/``updated_at`` of the
#: lifecycle, the message track's expiry check, a ``verify`` given no ``now``, and so the
#: middlewares). The default is the system clock; tests pass a frozen or stepped one. A
#: reading that raises or is not a number fails the call (``now must be a finite number``).
Clock = Callable[[], Union[int, float]]


def _make_store(redis_url: Optional[str], store: Optional[Store]) -> Store:
    if store is not None and redis_url is not None:
        raise HmacInputError("pass either redis_url or store, not both")
    if store is not None:
        if not isinstance(store, Store):
            raise HmacInputError(f"store must be an authcore Store, got {type(store).__name__}")
        return store
    if redis_url is not None:
        return Store.redis(redis_url)
    return Store.memory()


def _bad_signature_event(err: HmacAuthError, method, headers, body, metadata):
    details = getattr(err, "_bad_signature", None)
    if details is None:
        return None
    return BadHttpSignatureEvent(
        client_id=details["client_id"],
        method=method,
        path=details["path"],
        timestamp=details["timestamp"],
        nonce=details["nonce"],
        received_signature=details["received_signature"],
        expected_signature=details["expected_signature"],
        headers=headers,
        raw_body=body,
        metadata=metadata,
    )


class _AuthBase:
    _native: _native.Auth

    @property
    def store(self) -> Store:
        """The store (``Store.memory()`` or ``Store.redis(url)``)."""
        return self._native.store

    @property
    def namespace(self) -> str:
        """The resolved namespace (default ``hmacauth``)."""
        return self._native.namespace

    @property
    def secret_token(self) -> Optional[str]:
        """The pepper used to hash plain secrets (``HMAC_SECRET_TOKEN``)."""
        return self._native.secret_token

    @property
    def clients(self) -> Clients:
        """The credential lifecycle (``create``, ``list_client_ids``, ``get``, ``delete``,
        ``regenerate_secret``, ``set_secret``, ``set_secret_hash``, ``set_allowed_ips``,
        ``get_secret_hash``, ``revert``; each with an ``_async`` twin)."""
        return self._clients


class HmacHttpAuth(_AuthBase):
    """``initializeHmacHttpAuth``: verification, middlewares and the clients lifecycle.

    The store is Redis when ``redis_url`` is given (the core talks to Redis itself and
    verifies in one round trip), an existing :class:`Store` when ``store`` is given, and
    a new embedded in-memory store otherwise. ``clock`` replaces the system clock
    (:data:`Clock`).
    """

    def __init__(
        self,
        *,
        redis_url: Optional[str] = None,
        store: Optional[Store] = None,
        namespace: Optional[str] = None,
        max_skew_ms: Optional[float] = None,
        default_secret_length_bytes: Optional[int] = None,
        secret_token: Optional[str] = None,
        backup_ttl_seconds: Optional[int] = None,
        on_bad_signature: Optional[OnBadSignature] = None,
        clock: Optional[Clock] = None,
    ) -> None:
        self._native = _native.Auth(
            _make_store(redis_url, store),
            namespace,
            max_skew_ms,
            default_secret_length_bytes,
            secret_token,
            backup_ttl_seconds,
            clock,
        )
        self._clients = self._native.clients
        self.on_bad_signature = on_bad_signature

    @property
    def max_skew_ms(self) -> Union[int, float]:
        """The accepted clock skew in milliseconds (default 300000)."""
        return self._native.max_skew_ms

    def verify(
        self,
        method: str,
        path: str,
        headers: Headers,
        body: Body = None,
        *,
        now: Optional[float] = None,
        max_skew_ms: Optional[float] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        ip_candidates: Optional[Sequence[str]] = None,
        on_bad_signature: Optional[OnBadSignature] = None,
    ) -> VerifiedRequest:
        """``verifyHttpSignature``: raises :class:`HmacAuthError` with the original's code
        and status, or returns the :class:`VerifiedRequest`. Releases the GIL while the
        core works.

        ``metadata`` holds the IP sources (``ip``, ``ips``, ``forwardedFor``,
        ``remoteAddress``) and is passed to ``on_bad_signature``; ``ip_candidates`` gives
        the candidate list directly instead.
        """
        try:
            return self._native.verify(
                method, path, headers, body, now, max_skew_ms, metadata, ip_candidates
            )
        except HmacAuthError as err:
            found = self._bad_signature_hook(err, on_bad_signature, method, headers, body, metadata)
            if found is not None:
                _call_hook_sync(*found)
            raise

    async def verify_async(
        self,
        method: str,
        path: str,
        headers: Headers,
        body: Body = None,
        *,
        now: Optional[float] = None,
        max_skew_ms: Optional[float] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        ip_candidates: Optional[Sequence[str]] = None,
        on_bad_signature: Optional[OnBadSignature] = None,
    ) -> VerifiedRequest:
        """:meth:`verify` as a coroutine: the check runs on the core's tokio runtime and
        nothing holds the GIL while Redis answers."""
        try:
            return await self._native.verify_async(
                method, path, headers, body, now, max_skew_ms, metadata, ip_candidates
            )
        except HmacAuthError as err:
            found = self._bad_signature_hook(err, on_bad_signature, method, headers, body, metadata)
            if found is not None:
                await _call_hook_async(*found)
            raise

    def _bad_signature_hook(
        self,
        err: HmacAuthError,
        on_bad_signature: Optional[OnBadSignature],
        method: str,
        headers: Headers,
        body: Body,
        metadata: Optional[Mapping[str, Any]],
    ) -> Optional[Tuple[OnBadSignature, BadHttpSignatureEvent]]:
        """The hook and event a failed verification reports (``BAD_SIGNATURE`` only), for
        :meth:`verify` and :meth:`verify_async` alike."""
        hook = on_bad_signature or self.on_bad_signature
        if hook is None or err.code != "BAD_SIGNATURE":
            return None
        event = _bad_signature_event(err, method, headers, body, metadata)
        return None if event is None else (hook, event)

    def asgi_middleware(self, app: Any, **options: Any):
        """An ASGI middleware (Starlette/FastAPI) verifying with this instance."""
        from .middleware import HmacAsgiMiddleware

        return HmacAsgiMiddleware(app, auth=self, **options)

    def wsgi_middleware(self, app: Any, **options: Any):
        """A WSGI middleware (Flask) verifying with this instance."""
        from .middleware import HmacWsgiMiddleware

        return HmacWsgiMiddleware(app, auth=self, **options)

    def httpx_auth(
        self,
        client_id: str,
        secret: str,
        *,
        secret_is_hashed: bool = False,
        hash_token: Optional[str] = None,
    ):
        """``createHttpSignedFetchClient`` for httpx: ``hash_token`` defaults to this
        instance's ``secret_token``."""
        from .http_clients import HmacHttpxAuth

        return HmacHttpxAuth(
            client_id,
            secret,
            secret_is_hashed=secret_is_hashed,
            hash_token=hash_token if hash_token is not None else self.secret_token,
        )

    def requests_auth(
        self,
        client_id: str,
        secret: str,
        *,
        secret_is_hashed: bool = False,
        hash_token: Optional[str] = None,
    ):
        """``createHttpSignedFetchClient`` for requests (see :meth:`httpx_auth`)."""
        from .http_clients import HmacRequestsAuth

        return HmacRequestsAuth(
            client_id,
            secret,
            secret_is_hashed=secret_is_hashed,
            hash_token=hash_token if hash_token is not None else self.secret_token,
        )


def _call_hook_sync(hook: OnBadSignature, event: BadHttpSignatureEvent) -> None:
    try:
        result = hook(event)
        if inspect.isawaitable(result):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                asyncio.run(_await(result))
            else:
                # A running loop in this thread: schedule it rather than block it.
                asyncio.ensure_future(result)
    except Exception:  # the original swallows hook failures
        pass


async def _await(aw: Awaitable[Any]) -> Any:
    return await aw


async def _call_hook_async(hook: OnBadSignature, event: BadHttpSignatureEvent) -> None:
    try:
        result = hook(event)
        if inspect.isawaitable(result):
            await result
    except Exception:  # the original swallows hook failures
        pass


class HmacMessageAuth(_AuthBase):
    """``initializeHmacMessageAuth``: store-backed message signing and the clients
    lifecycle. No nonce and no timestamp: a signature verifies any number of times."""

    def __init__(
        self,
        *,
        redis_url: Optional[str] = None,
        store: Optional[Store] = None,
        namespace: Optional[str] = None,
        default_secret_length_bytes: Optional[int] = None,
        secret_token: Optional[str] = None,
        backup_ttl_seconds: Optional[int] = None,
        clock: Optional[Clock] = None,
    ) -> None:
        self._native = _native.Auth(
            _make_store(redis_url, store),
            namespace,
            None,
            default_secret_length_bytes,
            secret_token,
            backup_ttl_seconds,
            clock,
        )
        self._clients = self._native.clients

    def sign_message(self, client_id: str, message: Any) -> SignedMessage:
        """Sign with the stored secret hash (``CLIENT_NOT_FOUND`` 404, ``CLIENT_EXPIRED``)."""
        return self._native.sign_message(client_id, message)

    async def sign_message_async(self, client_id: str, message: Any) -> SignedMessage:
        return await self._native.sign_message_async(client_id, message)

    def verify_message(self, client_id: str, message: Any, signature: Optional[str]) -> SignedMessage:
        """Verify against the stored secret hash; returns the recomputed
        :class:`SignedMessage` or raises (``MISSING_SIGNATURE``, ``UNKNOWN_CLIENT``,
        ``CLIENT_EXPIRED``, ``BAD_SIGNATURE``)."""
        return self._native.verify_message(client_id, message, signature)

    async def verify_message_async(
        self, client_id: str, message: Any, signature: Optional[str]
    ) -> SignedMessage:
        return await self._native.verify_message_async(client_id, message, signature)


if TYPE_CHECKING:  # loaded on first use at run time (below), typed for checkers
    from .http_clients import HmacHttpxAuth, HmacRequestsAuth
    from .middleware import HmacAsgiMiddleware, HmacWsgiMiddleware


def __getattr__(name: str) -> Any:
    if name in ("HmacAsgiMiddleware", "HmacWsgiMiddleware"):
        from . import middleware

        return getattr(middleware, name)
    if name in ("HmacHttpxAuth", "HmacRequestsAuth"):
        from . import http_clients

        return getattr(http_clients, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
