"""Credential propagation across a mesh of peers over RabbitMQ: the capability of
``@naskot/node-hmac-auth-core-propagation`` 1.0.0 (wire v1), with Pythonic names.

Each peer has one durable queue ``hmac-<amqp_queue>.queue``. A *full-mode* peer (one with a
``management`` adapter) records credentials through the adapter and publishes them to its
targets on :meth:`Propagator.sync`; every peer applies what it receives to its local
``authcore.hmac`` store, keeps a monotonic cursor and acknowledges back. The protocol runs in
the Rust core (``authcore::propagation``); this module only shapes the API::

    from authcore import hmac, propagation

    auth = hmac.HmacHttpAuth(redis_url="redis://127.0.0.1:6379", secret_token="pepper")
    prop = await propagation.create_propagator(
        amqp_host="127.0.0.1", amqp_port=5672, amqp_user="guest", amqp_password="guest",
        amqp_protocol="amqp", amqp_queue="mgmt", propagation_secret=os.environ["PROP_SECRET"],
        redis="redis://127.0.0.1:6379", hmac_http_auth=auth, management=MyAdapter(),
    )
    await prop.ensure("partner", "plain-secret", ["orders", "billing"])   # applied here at once
    summary = await prop.sync()                                            # published to targets
    await prop.close()

**The management adapter** (full mode) is any object with these 8 methods, each either a
plain function or an ``async def``:

==================================== ============================ =================================
method                               argument                     returns
==================================== ============================ =================================
``upsert_credential_with_targets``   :class:`UpsertInput`         ignored
``rotate_credential_secret``         :class:`RotateInput`         ignored
``fetch_pending_propagations``       (none)                       a list of :class:`PendingPropagation`
                                                                  or of dicts with the same keys
``fetch_source_propagation_secret``  ``sender_amqp_queue: str``   ``str`` or ``None``
``mark_target_sent``                 :class:`TargetSentInput`     ignored
``mark_target_success``              :class:`TargetSuccessInput`  ignored
``mark_target_error``                :class:`TargetErrorInput`    ignored
``mark_credential_fully_propagated`` :class:`FullyPropagatedInput` ignored
==================================== ============================ =================================

Inputs are frozen dataclasses with snake_case fields; times are epoch milliseconds (``int``).
An ``async def`` method runs on the asyncio loop on which :func:`create_propagator` was
awaited (so the propagator belongs to that loop: close it before the loop ends). A plain
method runs in a worker thread (not the event-loop thread), with the GIL, so it must be
thread-safe and must not call blocking ``authcore`` methods of this loop's objects in a way
that waits for the loop. An exception raised by a method escapes :meth:`Propagator.ensure`,
:meth:`~Propagator.rotate`, :meth:`~Propagator.revoke` and :meth:`~Propagator.sync`
unchanged (the same object); during ACK handling it is logged and swallowed, as in the
original.

**The logger** is any object with ``info(msg)``, ``warning(msg)`` (or ``warn(msg)``, the
original's name, used when there is no ``warning``) and ``error(msg)``: a
:class:`logging.Logger` works. Lines start with ``[propagation]`` and never contain secrets.
It is called from the core's threads; whatever it raises is swallowed.

**Errors.** :class:`PropagationError` carries ``code``: the original's
``MANAGEMENT_NOT_CONFIGURED``, ``UNKNOWN_CLIENT``, ``INVALID_OPTIONS`` and ``INTERNAL_ERROR``
(a bug caught at the Rust boundary), plus ``SYNC_ERROR`` (the original's plain ``Error``s of
``sync``), ``TRANSPORT_ERROR``, ``CALLBACK_ERROR`` and the ``STORE_*`` codes of the
propagation state. An invalid queue name raises :class:`PropagationQueueNameError`, a
``ValueError`` with the original's message. Errors of the HMAC core (e.g.
``MISSING_CLIENT_ID``, an invalid IP rule) escape as the :mod:`authcore.errors` classes,
unchanged like in the original. Wrong Python types raise ``TypeError``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import (
    Any,
    Awaitable,
    List,
    Literal,
    Optional,
    Protocol,
    Sequence,
    TypedDict,
    Union,
    runtime_checkable,
)

from . import _native
from ._native import DEFAULT_AMQP_VHOST

__all__ = [
    "DEFAULT_AMQP_VHOST",
    "PROPAGATION_ERROR_CODES",
    "PropagationError",
    "PropagationQueueNameError",
    "build_queue_name",
    "create_propagator",
    "Propagator",
    "Management",
    "Logger",
    "UpsertInput",
    "RotateInput",
    "TargetSentInput",
    "TargetSuccessInput",
    "TargetErrorInput",
    "FullyPropagatedInput",
    "PendingTarget",
    "PendingPropagation",
    "PendingTargetDict",
    "PendingPropagationDict",
    "EnsureResult",
    "RotateResult",
    "RevokeResult",
    "SyncSummary",
    "Track",
    "Op",
]

Track = Literal["http", "message"]
Op = Literal["credential.create", "credential.update", "credential.delete"]
FinalStatus = Literal["success", "partial", "error"]
_ExpiresAt = Union[int, datetime.datetime, None]

#: The four members of the original's ``HmacPropagationErrorCode``.
PROPAGATION_ERROR_CODES = (
    "MANAGEMENT_NOT_CONFIGURED",
    "UNKNOWN_CLIENT",
    "INVALID_OPTIONS",
    "INTERNAL_ERROR",
)


# ---------------------------------------------------------------------------------------
# Errors


class PropagationError(Exception):
    """The original's ``HmacPropagationError(code, message?, cause?)``; ``message``
    defaults to the code."""

    def __init__(self, code: str, message: Optional[str] = None, cause: Any = None) -> None:
        msg = code if message is None else message
        super().__init__(msg)
        self.code = code
        self.message = msg
        self.cause = cause
        self.name = "HmacPropagationError"

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def __reduce__(self):  # pickling keeps code/message
        return (type(self), (self.code, self.message))


class PropagationQueueNameError(PropagationError, ValueError):
    """An ``amqp_queue`` outside ``[A-Za-z0-9-]+`` (the original's plain ``Error`` of
    ``buildQueueName``, same message). ``code`` is ``"INVALID_QUEUE_NAME"``."""

    def __init__(self, code: str = "INVALID_QUEUE_NAME", message: Optional[str] = None, cause: Any = None) -> None:
        super().__init__(code, message, cause)

    def __reduce__(self):
        return (type(self), (self.code, self.message))


def build_queue_name(amqp_queue: str) -> str:
    """``hmac-<amqp_queue>.queue``; :class:`PropagationQueueNameError` (a ``ValueError``)
    with ``Invalid amqpQueue "<x>": must match [A-Za-z0-9-]+`` for any other name."""
    return _native.propagation_build_queue_name(amqp_queue)


# ---------------------------------------------------------------------------------------
# Management inputs and outputs


@dataclass(frozen=True)
class UpsertInput:
    """``upsertCredentialWithTargets`` input. For ``credential.delete`` (from ``revoke``),
    ``secret_plain``, ``allowed_ips`` and ``expires_at`` are ``None``."""

    client_id: str
    track: str
    op: str
    secret_plain: Optional[str] = field(repr=False)  # never printed
    allowed_ips: Optional[List[str]]
    expires_at: Optional[int]
    targets: List[str]


@dataclass(frozen=True)
class RotateInput:
    """``rotateCredentialSecret`` input."""

    client_id: str
    track: str
    secret_plain: str = field(repr=False)  # never printed


@dataclass(frozen=True)
class TargetSentInput:
    """``markTargetSent`` input (``sent_at`` in epoch ms; ``attempt_count`` is always 1)."""

    client_id: str
    target_amqp_queue: str
    sent_at: int
    attempt_count: int


@dataclass(frozen=True)
class TargetSuccessInput:
    """``markTargetSuccess`` input (``applied_at``: this peer's clock when the ACK arrived)."""

    client_id: str
    target_amqp_queue: str
    applied_at: int


@dataclass(frozen=True)
class TargetErrorInput:
    """``markTargetError`` input (``reason`` is the ACK's reason, or ``"unknown"``)."""

    client_id: str
    target_amqp_queue: str
    reason: str
    failed_at: int


@dataclass(frozen=True)
class FullyPropagatedInput:
    """``markCredentialFullyPropagated`` input."""

    client_id: str
    final_status: str
    at: int


@dataclass(frozen=True)
class PendingTarget:
    """One target of a pending propagation: its logical name (not ``hmac-…queue``) and
    **that target's** propagation secret."""

    target_amqp_queue: str
    propagation_secret: str = field(repr=False)  # never printed


@dataclass(frozen=True)
class PendingPropagation:
    """One entry of ``fetch_pending_propagations()`` (one per client). A dict with the same
    keys works too (``allowed_ips``, ``expires_at`` and ``secret_plain`` may be left out)."""

    client_id: str
    track: str
    op: str
    secret_plain: Optional[str] = field(repr=False)  # never printed
    pending_targets: Sequence[Union[PendingTarget, "PendingTargetDict"]]
    allowed_ips: Optional[Sequence[str]] = None
    expires_at: Optional[int] = None


class PendingTargetDict(TypedDict):
    target_amqp_queue: str
    propagation_secret: str = field(repr=False)  # never printed


class _PendingPropagationRequired(TypedDict):
    client_id: str
    track: str
    op: str
    pending_targets: Sequence[Union[PendingTarget, PendingTargetDict]]


class PendingPropagationDict(_PendingPropagationRequired, total=False):
    secret_plain: Optional[str]
    allowed_ips: Optional[Sequence[str]]
    expires_at: Optional[int]


_Pending = Union[PendingPropagation, PendingPropagationDict]
_Maybe = Union[None, Awaitable[None]]


@runtime_checkable
class Management(Protocol):
    """The 8 callbacks of full mode (``PropagatorManagement``); each may be ``async``."""

    def upsert_credential_with_targets(self, input: UpsertInput) -> _Maybe: ...
    def rotate_credential_secret(self, input: RotateInput) -> _Maybe: ...
    def fetch_pending_propagations(self) -> Union[Sequence[_Pending], Awaitable[Sequence[_Pending]]]: ...
    def fetch_source_propagation_secret(
        self, sender_amqp_queue: str
    ) -> Union[Optional[str], Awaitable[Optional[str]]]: ...
    def mark_target_sent(self, input: TargetSentInput) -> _Maybe: ...
    def mark_target_success(self, input: TargetSuccessInput) -> _Maybe: ...
    def mark_target_error(self, input: TargetErrorInput) -> _Maybe: ...
    def mark_credential_fully_propagated(self, input: FullyPropagatedInput) -> _Maybe: ...


class Logger(Protocol):
    """``info`` / ``warning`` (or ``warn``) / ``error``; :class:`logging.Logger` fits."""

    def info(self, msg: str, /) -> Any: ...
    def warning(self, msg: str, /) -> Any: ...
    def error(self, msg: str, /) -> Any: ...


# ---------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class EnsureResult:
    client_id: str
    op: str  # "credential.create" or "credential.update"


@dataclass(frozen=True)
class RotateResult:
    client_id: str


@dataclass(frozen=True)
class RevokeResult:
    client_id: str


@dataclass(frozen=True)
class SyncSummary:
    """``propagations_read`` counts clients (entries of ``fetch_pending_propagations``),
    not targets."""

    propagations_read: int
    targets_published: int
    targets_retrying: int
    duration_ms: int


# ---------------------------------------------------------------------------------------
# The propagator


class Propagator:
    """A running propagator (made by :func:`create_propagator`). Usable as
    ``async with``; :meth:`close` it before its event loop ends."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.Propagator) -> None:
        self._native = native

    @property
    def amqp_queue(self) -> str:
        """This peer's logical name."""
        return self._native.amqp_queue

    async def ensure(
        self,
        client_id: str,
        secret: str,
        targets: Sequence[str],
        *,
        track: str = "http",
        allowed_ips: Optional[Sequence[str]] = None,
        expires_at: _ExpiresAt = None,
    ) -> EnsureResult:
        """Upsert through ``management`` (op ``credential.create`` when the client is absent
        from the local store, else ``credential.update``), then apply the hash locally at
        once. Nothing is published until :meth:`sync`."""
        client, op = await self._native.ensure(client_id, secret, targets, track, allowed_ips, expires_at)
        return EnsureResult(client, op)

    async def rotate(self, client_id: str, secret: str, *, track: str = "http") -> RotateResult:
        """``UNKNOWN_CLIENT`` unless the client exists locally; then
        ``rotate_credential_secret`` and the new hash applied locally."""
        return RotateResult(await self._native.rotate(client_id, secret, track))

    async def revoke(self, client_id: str, targets: Sequence[str], *, track: str = "http") -> RevokeResult:
        """Upsert a ``credential.delete`` for ``targets``, then delete locally."""
        return RevokeResult(await self._native.revoke(client_id, targets, track))

    async def sync(self) -> SyncSummary:
        """Apply every pending propagation locally and publish it to its pending targets."""
        read, published, retrying, duration = await self._native.sync()
        return SyncSummary(read, published, retrying, duration)

    async def close(self) -> None:
        """Stop consuming (after the delivery in hand) and close the broker link. The other
        methods stay callable; publishes then fail and ``sync`` counts them as retrying."""
        await self._native.close()

    async def __aenter__(self) -> "Propagator":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"Propagator(amqp_queue={self.amqp_queue!r})"


async def create_propagator(
    *,
    amqp_host: str,
    amqp_port: int,
    amqp_user: str,
    amqp_password: str,
    amqp_protocol: Literal["amqp", "amqps", "memory"],
    amqp_queue: str,
    propagation_secret: str,
    redis: str,
    hmac_http_auth: Any = None,
    hmac_message_auth: Any = None,
    management: Optional[Management] = None,
    amqp_vhost: str = DEFAULT_AMQP_VHOST,
    logger: Optional[Logger] = None,
    sign_events: bool = False,
    require_signed_events: bool = False,
    omit_secret_from_signed_events: bool = False,
) -> Propagator:
    """``createPropagator(options)``.

    - ``redis``: where the cursor and the ack store live: ``redis://…`` (also ``rediss://``,
      ``unix://``) or ``memory://`` (this process only).
    - ``hmac_http_auth`` / ``hmac_message_auth``: :class:`authcore.hmac.HmacHttpAuth` /
      :class:`authcore.hmac.HmacMessageAuth` instances (or their ``.clients``), the stores of
      tracks ``"http"`` and ``"message"``; at least one is required.
    - ``management``: full mode when given (see the module docs), receive-only otherwise.
    - ``amqp_protocol="memory"`` (an extension) links the peer to the in-process mesh named
      ``amqp_host`` instead of RabbitMQ: every propagator of this process created with the
      same name is one mesh (the embedded default; port, user and password are not used).

    Missing options raise ``PropagationError("INVALID_OPTIONS")`` with the original's
    messages, in its order (``amqpHost is required`` … ``At least one of hmacHttpAuth or
    hmacMessageAuth must be provided``); an empty string or a port of ``0`` counts as
    missing. An unreachable broker does not fail: the link retries in the background.

    Signed events (an extension; all off by default, which is wire v1):

    - ``sign_events``: every event this peer sends carries an HMAC-SHA256 of its body in the
      AMQP header ``x-authcore-signature`` (v1 peers ignore it), keyed per sender/recipient
      pair from the recipient's propagation secret.
    - ``require_signed_events``: inbound events whose signature is missing or wrong are
      dropped (logged, acked, never applied, no ACK back).
    - ``omit_secret_from_signed_events``: signed events carry ``propagationSecret: ""``
      instead of the recipient's secret (implies ``sign_events``); only strict peers accept
      them, so use it when every peer of the mesh requires signed events.
    """
    native = await _native.propagation_create(
        amqp_host=amqp_host,
        amqp_port=amqp_port,
        amqp_user=amqp_user,
        amqp_password=amqp_password,
        amqp_protocol=amqp_protocol,
        amqp_queue=amqp_queue,
        propagation_secret=propagation_secret,
        redis=redis,
        hmac_http_auth=hmac_http_auth,
        hmac_message_auth=hmac_message_auth,
        management=management,
        amqp_vhost=amqp_vhost,
        logger=logger,
        sign_events=bool(sign_events),
        require_signed_events=bool(require_signed_events),
        omit_secret_from_signed_events=bool(omit_secret_from_signed_events),
    )
    return Propagator(native)
