"""fuz_app's realtime (SSE) auth guard, with Pythonic names: the subscriber registry that
fans audit events out to server-sent-event streams, and the guard that closes a
subscriber's streams when an audit row revokes its access (fuzdev/fuz_app ``79281eb``,
``src/lib/realtime/``). The logic and the wire bytes are the Rust core's
(``authcore::realtime``); this module only shapes the API::

    from authcore import realtime as rt

    audit_sse = rt.create_audit_log_sse(log=logger)            # role "admin", 10 streams per session
    audit.add_listener(audit_sse.on_audit_event)               # every audit row, after its INSERT

    # GET /api/admin/audit/stream (Starlette / FastAPI), after the route's own auth:
    stream = rt.MemorySseStream(log=logger)
    unsubscribe = audit_sse.subscribe(
        stream,
        channels=[rt.AUDIT_LOG_CHANNEL],
        scope=session_token_hash,                              # None for bearer tokens
        groups=[account_id],
    )
    stream.on_close(unsubscribe)
    return StreamingResponse(stream, headers=rt.SSE_RESPONSE_HEADERS)   # no media_type: the
                                                               # header stays exactly text/event-stream

**Streams.** A subscriber is either a :class:`MemorySseStream` (the ready-made stream: it
writes the exact bytes of fuz_app's ``create_sse_response``, ``: connected`` first, and is
drained by ``async for chunk in stream``, ``bytes`` chunks, without holding the GIL while
waiting) or any object of yours with ``send(data)`` and ``close()`` (fuz_app's
``SseStream<T>``; ``comment(text)`` and ``on_close(fn)`` are used when present). Your
``send`` receives the very object that was broadcast (for :meth:`AuditLogSse.on_audit_event`,
one ``{"method": event_type, "params": event}`` dict shared by every stream).

**Failures are isolated** (a fix over fuz_app, where one throwing ``send`` aborted the
broadcast and skipped the guard): an exception raised by a stream's ``send`` or ``close``,
or by an ``on_close`` listener, is logged at error level (``SubscriberRegistry: send failed:
ValueError: …``, ``SubscriberRegistry: close failed: …``, ``on_close listener threw: …``),
the broadcast goes on, and a stream whose ``close`` raised is still removed. A
``KeyboardInterrupt``/``SystemExit`` is isolated the same way and then re-raised by the
call that was running.

**The logger** (``log``) is any object with ``info``, ``warning`` (or fuz_app's ``warn``)
and ``error``: a :class:`logging.Logger` or a fuz_app-style logger. ``None`` means
``logging.getLogger("authcore.realtime")``, so failures are never silent. The guard logs
``SSE auth guard: closed <n> stream(s) for session <id> (session_revoke)`` / ``… for account
<id> (<event_type>)`` at info level, only when it closed something.

**Threads.** Every method may be called from any thread; calls into your streams and
listeners happen on the calling thread, with the GIL, and may re-enter the registry (e.g.
``on_close(unsubscribe)`` while :meth:`SubscriberRegistry.close_by_identity` runs).

**Errors.** :class:`RealtimeError` carries ``code`` and ``status``;
:class:`AuditLogEventError` (a ``ValueError``, ``code="REALTIME_INVALID_EVENT"``) lists the
``issues`` of a row that is not an ``AuditLogEventJson``; :class:`RealtimeSerializeError`
(``TypeError`` and ``ValueError``) is a value ``JSON.stringify`` could not write. Wrong
argument types raise ``TypeError`` (lone surrogates in identities: ``ValueError``).

Differences from fuz_app (decisions on the spec's §6, all in the core) are listed in
``docs/compat.md``: isolated failures, ``role_grant_revoke`` never falls back to the
revoker's ``account_id``, multi-line comments written one line each; opt-ins
``close_on_account_removal`` and ``namespaced_identities``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Protocol, Sequence, Union

from . import _native
from ._native import (
    ACCOUNT_REMOVAL_EVENT_TYPES,
    AUDIT_EVENT_TYPES,
    AUDIT_LOG_CHANNEL,
    AUDIT_LOG_EVENT_KEYS,
    AUDIT_LOG_SSE_MAX_PER_SCOPE,
    DEFAULT_AUDIT_STREAM_ROLE,
    DISCONNECT_EVENT_TYPES,
    SSE_CONNECTED_COMMENT,
    SSE_HEADERS,
    AuditLogSse,
    MemorySseStream,
    SseAuthGuard,
    SubscriberRegistry,
    Subscription,
)
from .tokens import hash_blake3, hash_session_token

__all__ = [
    "ACCOUNT_REMOVAL_EVENT_TYPES",
    "AUDIT_EVENT_TYPES",
    "AUDIT_LOG_CHANNEL",
    "AUDIT_LOG_EVENT_KEYS",
    "AUDIT_LOG_EVENT_SPECS",
    "AUDIT_LOG_SSE_MAX_PER_SCOPE",
    "DEFAULT_AUDIT_STREAM_ROLE",
    "DISCONNECT_EVENT_TYPES",
    "SSE_CONNECTED_COMMENT",
    "SSE_HEADERS",
    "SSE_RESPONSE_HEADERS",
    "AuditLogEvent",
    "AuditLogEventError",
    "AuditLogSse",
    "EventSpec",
    "GuardDecision",
    "Logger",
    "MemorySseStream",
    "RealtimeError",
    "RealtimeSerializeError",
    "SseAuthGuard",
    "SseStream",
    "SubscriberRegistry",
    "Subscription",
    "audit_log_event_issues",
    "audit_log_event_specs",
    "create_audit_log_sse",
    "create_sse_auth_guard",
    "disconnect_event_types",
    "guard_decision",
    "hash_blake3",
    "hash_session_token",
    "render_comment",
    "render_data_frame",
]

#: The headers of fuz_app's SSE response without ``Transfer-Encoding`` (the ASGI server
#: chooses the framing; setting it by hand would duplicate it). ``SSE_HEADERS`` has all four.
SSE_RESPONSE_HEADERS: Dict[str, str] = {k: v for k, v in SSE_HEADERS if k != "Transfer-Encoding"}

#: ``disconnect_event_types``, the name fuz_app's code (79281eb) gives the six audit event
#: types that close streams: the same frozenset as :data:`DISCONNECT_EVENT_TYPES`, the name
#: fuz_app's docs give it.
disconnect_event_types: FrozenSet[str] = DISCONNECT_EVENT_TYPES


# ---------------------------------------------------------------------------------------
# Errors


class RealtimeError(Exception):
    """A realtime failure: ``code`` (``REALTIME_*``, or ``INTERNAL_ERROR`` for a bug caught
    at the Rust boundary) and ``status``."""

    code: str = "REALTIME_ERROR"
    status: int = 500

    def __init__(self, message: str = "", code: Optional[str] = None, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def __reduce__(self):  # pickling keeps code/message/status
        return (type(self), (self.message, self.code, self.status))


class RealtimeSerializeError(RealtimeError, TypeError, ValueError):
    """``JSON.stringify`` of the value failed (a type it has no JSON form for here)."""

    code = "REALTIME_SERIALIZE"


class AuditLogEventError(RealtimeError, ValueError):
    """The value is not an audit log row (``AuditLogEventJson``); ``issues`` lists why."""

    code = "REALTIME_INVALID_EVENT"
    status = 400

    def __init__(
        self,
        message: str = "",
        code: Optional[str] = None,
        status: Optional[int] = None,
        issues: Sequence[str] = (),
    ) -> None:
        super().__init__(message, code, status)
        self.issues: List[str] = list(issues) if issues else ([message] if message else [])

    def __reduce__(self):
        return (type(self), (self.message, self.code, self.status, self.issues))


# ---------------------------------------------------------------------------------------
# Protocols


class SseStream(Protocol):
    """fuz_app's ``SseStream<T>``: what a registry accepts besides :class:`MemorySseStream`
    (``send`` and ``close`` are required; ``comment`` and ``on_close`` optional)."""

    def send(self, data: Any, /) -> Any: ...
    def close(self) -> Any: ...


class Logger(Protocol):
    """``info`` / ``warning`` (or ``warn``) / ``error``; :class:`logging.Logger` fits."""

    def info(self, msg: str, /) -> Any: ...
    def warning(self, msg: str, /) -> Any: ...
    def error(self, msg: str, /) -> Any: ...


# ---------------------------------------------------------------------------------------
# The audit event model


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


@dataclass(frozen=True)
class AuditLogEvent:
    """One ``audit_log`` row (fuz_app's ``AuditLogEvent``), fields in column order (the
    order of its JSON). Build one from a dict with :meth:`from_dict` (validated: exactly
    the 11 keys, ``event_type`` matching ``^[A-Za-z][A-Za-z0-9_./-]*$``, ``outcome``
    ``'success'``/``'failure'``, ``seq`` an integer, ``metadata`` a dict or ``None``)."""

    id: str
    seq: int
    event_type: str
    outcome: str
    actor_id: Optional[str]
    account_id: Optional[str]
    target_account_id: Optional[str]
    target_actor_id: Optional[str]
    ip: Optional[str]
    created_at: str
    metadata: Optional[Dict[str, Any]]

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> "AuditLogEvent":
        """The row in ``value``; :class:`AuditLogEventError` (with ``issues``) otherwise."""
        issues = audit_log_event_issues(value)
        if issues:
            raise AuditLogEventError("; ".join(issues), issues=issues)
        fields = {k: value[k] for k in AUDIT_LOG_EVENT_KEYS}
        fields["seq"] = int(fields["seq"])  # an integral float (JSON 7.0) is the integer 7
        return cls(**fields)

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> "AuditLogEvent":
        """The row in JSON text (``NaN``/``Infinity`` are not JSON); invalid JSON raises
        :class:`AuditLogEventError` with ``code="REALTIME_INVALID_JSON"``."""
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            raise AuditLogEventError(str(exc), "REALTIME_INVALID_JSON") from exc
        return cls.from_dict(value)

    def to_dict(self) -> Dict[str, Any]:
        """The row as a dict, keys in column order."""
        return {k: getattr(self, k) for k in AUDIT_LOG_EVENT_KEYS}

    def to_json(self) -> str:
        """``JSON.stringify(row)``: compact, non-ASCII raw (``data:`` frames carry these bytes)."""
        return render_data_frame(self.to_dict())[len("data: ") : -2]


def audit_log_event_issues(value: Any) -> List[str]:
    """Why ``value`` is not an ``AuditLogEventJson`` (an empty list when it is one)."""
    if isinstance(value, AuditLogEvent):
        value = value.to_dict()
    elif isinstance(value, Mapping) and not isinstance(value, dict):
        value = dict(value)
    return _native.realtime_audit_log_event_issues(value)


@dataclass(frozen=True)
class EventSpec:
    """fuz_app's ``EventSpec``: ``params`` checks a notification's params and returns its
    issues (``[]`` when valid)."""

    method: str
    description: str
    channel: Optional[str]
    params: Callable[[Any], List[str]]


#: ``audit_log_event_specs``: one spec per :data:`AUDIT_EVENT_TYPES` entry, in order
#: (description ``"Audit log: "`` + the type with ``_`` as spaces, channel ``audit_log``).
#: A list, as fuz_app's array (79281eb); :data:`AUDIT_LOG_EVENT_SPECS` is the same list
#: under the name fuz_app's docs give it.
audit_log_event_specs: List[EventSpec] = [
    EventSpec(m, d, c, audit_log_event_issues) for m, d, c in _native.realtime_audit_log_event_specs()
]
AUDIT_LOG_EVENT_SPECS: List[EventSpec] = audit_log_event_specs


# ---------------------------------------------------------------------------------------
# The guard

_Event = Union[Mapping[str, Any], AuditLogEvent]


class GuardDecision(NamedTuple):
    """What the guard closes for one row: ``kind`` is ``"session"`` (a ``scope``) or
    ``"account"`` (a ``group``; both share one namespace unless ``namespaced_identities``)."""

    kind: str
    identity: str
    event_type: str


def guard_decision(
    event: _Event,
    required_role: Optional[str] = None,
    *,
    close_on_account_removal: bool = False,
    namespaced_identities: bool = False,
) -> Optional[GuardDecision]:
    """The guard's decision for ``event`` without any stream (fuz_app's order, §3.2):
    which identity it closes, or ``None``. The event is read as JavaScript reads it
    (missing, ``None`` and mistyped fields included)."""
    got = _native.realtime_guard_decision(
        event,
        required_role,
        close_on_account_removal=close_on_account_removal,
        namespaced_identities=namespaced_identities,
    )
    return None if got is None else GuardDecision(*got)


def create_sse_auth_guard(
    registry: SubscriberRegistry,
    required_role: Optional[str],
    log: Optional[Logger] = None,
    *,
    close_on_account_removal: bool = False,
    namespaced_identities: bool = False,
) -> SseAuthGuard:
    """``create_sse_auth_guard(registry, required_role, log)``: ``guard(event)`` closes the
    streams the event revokes and returns how many it closed. ``required_role=None``:
    role revocations close nothing. Opt-ins (off = fuz_app): ``close_on_account_removal``
    (``account_delete``/``account_purge`` close the account's streams),
    ``namespaced_identities`` (session ids close scopes only, account ids groups only)."""
    return _native.realtime_create_sse_auth_guard(
        registry,
        required_role,
        log,
        close_on_account_removal=close_on_account_removal,
        namespaced_identities=namespaced_identities,
    )


def create_audit_log_sse(
    role: Optional[str] = DEFAULT_AUDIT_STREAM_ROLE,
    log: Optional[Logger] = None,
    max_per_scope: Optional[int] = AUDIT_LOG_SSE_MAX_PER_SCOPE,
    *,
    close_on_account_removal: bool = False,
    namespaced_identities: bool = False,
) -> AuditLogSse:
    """``create_audit_log_sse({role, log, max_per_scope})``: a registry (``max_per_scope``
    streams per session, oldest evicted; ``None`` = no cap) and a guard for ``role``.
    ``on_audit_event(event)`` broadcasts ``{"method": event_type, "params": event}`` on
    ``audit_log`` to every subscriber (failures included), then runs the guard."""
    return _native.realtime_create_audit_log_sse(
        role=role,
        log=log,
        max_per_scope=max_per_scope,
        close_on_account_removal=close_on_account_removal,
        namespaced_identities=namespaced_identities,
    )


# ---------------------------------------------------------------------------------------
# Frames


def render_data_frame(data: Any) -> str:
    """The bytes ``send(data)`` writes: ``data: `` + ``JSON.stringify(data)`` + ``\\n\\n``
    (compact, non-ASCII raw, numbers as JavaScript prints them, NaN/Infinity as ``null``,
    dict key order kept with integer-like keys first). :class:`RealtimeSerializeError` for
    a value with no JSON form (a ``set``, an arbitrary object)."""
    return _native.realtime_render_data_frame(data)


def render_comment(text: str) -> str:
    """The bytes ``comment(text)`` writes: ``: <text>\\n``, one such line per line of ``text``."""
    return _native.realtime_render_comment(text)


async def _drain(stream: MemorySseStream) -> AsyncIterator[bytes]:
    """``async for chunk in stream``: the body as it is written, until the stream is closed
    and drained. When the consumer stops early (the client disconnected and the server
    cancelled the response task, or the iterator was closed), the stream is cancelled:
    its ``on_close`` listeners run, as fuz_app's ``body.cancel()`` does."""
    try:
        while True:
            chunk = await stream.next_chunk()
            if chunk is None:
                return
            yield chunk
    finally:
        stream.cancel()

