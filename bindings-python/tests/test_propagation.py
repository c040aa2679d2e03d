"""authcore.propagation (credential propagation, wire v1 of
``@naskot/node-hmac-auth-core-propagation`` 1.0.0) against the real RabbitMQ (vhost
``hmac-credentials``, ``bash scripts/services.sh``) and the real Redis. Nothing is skipped:
a server that does not answer fails the tests.

The management adapters mirror ``MemoryManagement`` of ``core/tests/support/propagation.rs``
(the POC's SQL adapter in memory, publish-once): one with ``async def`` methods (run on the
test's event loop), one with plain methods (run in the binding's worker threads). Peer names
carry a random suffix; queues and Redis keys are removed afterwards.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import pytest

from authcore import hmac as h
from authcore import propagation as p
from authcore.errors import HmacAuthError

REDIS_URL = os.environ.get("AUTHCORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_HOST = os.environ.get("AUTHCORE_TEST_AMQP_HOST", "127.0.0.1")
AMQP_PORT = int(os.environ.get("AUTHCORE_TEST_AMQP_PORT", "5672"))
AMQP = dict(
    amqp_host=AMQP_HOST,
    amqp_port=AMQP_PORT,
    amqp_user="guest",
    amqp_password="guest",
    amqp_protocol="amqp",
)
NOT_CONFIGURED = (
    "ensure/rotate/revoke/sync require the management adapter to be configured in createPropagator options"
)
UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ACK_TTL = 604800

_QUEUES: List[str] = []


@pytest.fixture(scope="module", autouse=True)
def servers(redis_client):
    """RabbitMQ must answer (Redis is checked by ``redis_client``); the queues the tests
    declared are deleted afterwards (in parallel, best effort: ``rabbitmqctl``)."""
    try:
        socket.create_connection((AMQP_HOST, AMQP_PORT), timeout=2).close()
    except OSError as exc:  # fail loudly: these tests never skip
        pytest.fail(f"RabbitMQ at {AMQP_HOST}:{AMQP_PORT} is required (bash scripts/services.sh): {exc}")
    yield
    ctl = shutil.which("rabbitmqctl")
    if ctl and _QUEUES:
        procs = [
            subprocess.Popen(
                [ctl, "-q", "delete_queue", "-p", p.DEFAULT_AMQP_VHOST, q],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for q in _QUEUES
        ]
        for proc in procs:
            proc.wait(timeout=30)


# ---------------------------------------------------------------------------------------
# Management adapters (MemoryManagement of the core tests)


class MemoryManagement:
    """Tables 1-3 of the POC in memory. ``fail = (callback, exception)`` makes that callback
    raise that very exception object."""

    def __init__(self, directory: Dict[str, str]) -> None:
        self.directory = dict(directory)  # Table 2: target -> its env secret
        self.credentials: Dict[str, Dict[str, Any]] = {}
        self.status: Dict[Tuple[str, str], str] = {}  # Table 3
        self.reasons: Dict[Tuple[str, str], str] = {}
        self.fully: List[Tuple[str, str]] = []
        self.calls: List[str] = []
        self.inputs: List[Any] = []
        self.threads: set = set()
        self.fail: Optional[Tuple[str, BaseException]] = None
        self.lock = threading.Lock()

    def count(self, name: str) -> int:
        return self.calls.count(name)

    def _enter(self, name: str, arg: Any = None) -> None:
        self.threads.add(threading.get_ident())
        self.calls.append(name)
        if arg is not None:
            self.inputs.append(arg)
        if self.fail is not None and self.fail[0] == name:
            raise self.fail[1]

    def _upsert(self, i: p.UpsertInput) -> None:
        with self.lock:
            self._enter("upsert", i)
            fresh = i.client_id not in self.credentials
            self.credentials[i.client_id] = dict(
                track=i.track,
                secret_plain=i.secret_plain,
                allowed_ips=i.allowed_ips,
                expires_at=i.expires_at,
                fresh=fresh,
            )
            for t in i.targets:
                self.status[(i.client_id, t)] = "pending"

    def _rotate(self, i: p.RotateInput) -> None:
        with self.lock:
            self._enter("rotate", i)
            c = self.credentials.get(i.client_id)
            if c is not None:
                c["secret_plain"] = i.secret_plain
                c["fresh"] = False
            for (client, target) in self.status:
                if client == i.client_id:
                    self.status[(client, target)] = "pending"

    def _pending(self, as_dicts: bool) -> list:
        with self.lock:
            self._enter("fetchPending")
            out: Dict[str, Dict[str, Any]] = {}
            for (client, target), st in sorted(self.status.items()):
                if st != "pending":
                    continue
                c = self.credentials[client]
                if c["secret_plain"] is None:
                    op = "credential.delete"
                elif c["fresh"]:
                    op = "credential.create"
                else:
                    op = "credential.update"
                entry = out.setdefault(
                    client,
                    dict(
                        client_id=client,
                        track=c["track"],
                        op=op,
                        secret_plain=c["secret_plain"],
                        allowed_ips=c["allowed_ips"],
                        expires_at=c["expires_at"],
                        pending_targets=[],
                    ),
                )
                entry["pending_targets"].append(
                    dict(target_amqp_queue=target, propagation_secret=self.directory.get(target, ""))
                )
            if as_dicts:
                return list(out.values())
            return [
                p.PendingPropagation(
                    **{
                        **e,
                        "pending_targets": [p.PendingTarget(**t) for t in e["pending_targets"]],
                    }
                )
                for e in out.values()
            ]

    def _source_secret(self, sender: str) -> Optional[str]:
        with self.lock:
            self._enter("fetchSourceSecret")
            return self.directory.get(sender)

    def _sent(self, i: p.TargetSentInput) -> None:
        with self.lock:
            self._enter("markSent", i)
            self.status[(i.client_id, i.target_amqp_queue)] = "sent"

    def _success(self, i: p.TargetSuccessInput) -> None:
        with self.lock:
            self._enter("markSuccess", i)
            self.status[(i.client_id, i.target_amqp_queue)] = "success"

    def _error(self, i: p.TargetErrorInput) -> None:
        with self.lock:
            self._enter("markError", i)
            self.status[(i.client_id, i.target_amqp_queue)] = "error"
            self.reasons[(i.client_id, i.target_amqp_queue)] = i.reason

    def _fully(self, i: p.FullyPropagatedInput) -> None:
        with self.lock:
            self._enter("fully", i)
            c = self.credentials.get(i.client_id)
            if c is not None:
                c["secret_plain"] = None
            self.fully.append((i.client_id, i.final_status))


class AsyncManagement(MemoryManagement):
    """``async def`` callbacks (they run on the event loop of ``create_propagator``);
    ``fetch_pending_propagations`` returns dataclasses."""

    async def upsert_credential_with_targets(self, i):
        await asyncio.sleep(0)
        self._upsert(i)

    async def rotate_credential_secret(self, i):
        await asyncio.sleep(0)
        self._rotate(i)

    async def fetch_pending_propagations(self):
        await asyncio.sleep(0)
        return self._pending(as_dicts=False)

    async def fetch_source_propagation_secret(self, sender_amqp_queue):
        return self._source_secret(sender_amqp_queue)

    async def mark_target_sent(self, i):
        self._sent(i)

    async def mark_target_success(self, i):
        self._success(i)

    async def mark_target_error(self, i):
        self._error(i)

    async def mark_credential_fully_propagated(self, i):
        self._fully(i)


class SyncManagement(MemoryManagement):
    """Plain callbacks (they run in the binding's worker threads); ``fetch_pending_propagations``
    returns dicts."""

    def upsert_credential_with_targets(self, i):
        self._upsert(i)

    def rotate_credential_secret(self, i):
        self._rotate(i)

    def fetch_pending_propagations(self):
        return self._pending(as_dicts=True)

    def fetch_source_propagation_secret(self, sender_amqp_queue):
        return self._source_secret(sender_amqp_queue)

    def mark_target_sent(self, i):
        self._sent(i)

    def mark_target_success(self, i):
        self._success(i)

    def mark_target_error(self, i):
        self._error(i)

    def mark_credential_fully_propagated(self, i):
        self._fully(i)


# ---------------------------------------------------------------------------------------
# Loggers


class Lines(logging.Handler):
    """Keeps the records of a :class:`logging.Logger` as ``"<level> <message>"``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname.lower()} {record.getMessage()}")

    def any(self, needle: str) -> bool:
        return any(needle in line for line in list(self.lines))


def std_logger(name: str) -> Tuple[logging.Logger, Lines]:
    lg = logging.getLogger(f"authcore.tests.propagation.{name}")
    lg.setLevel(logging.DEBUG)
    lg.propagate = False
    lines = Lines()
    lg.handlers[:] = [lines]
    return lg, lines


class SpecLogger:
    """The original's ``{info, warn, error}`` shape (no ``warning``)."""

    def __init__(self) -> None:
        self.lines: List[str] = []

    def info(self, msg):
        self.lines.append(f"info {msg}")

    def warn(self, msg):
        self.lines.append(f"warn {msg}")

    def error(self, msg):
        self.lines.append(f"error {msg}")

    def any(self, needle: str) -> bool:
        return any(needle in line for line in list(self.lines))


class RaisingLogger(SpecLogger):
    """``info`` raises: the binding must swallow it."""

    def __init__(self) -> None:
        super().__init__()
        self.info_calls = 0

    def info(self, msg):
        self.info_calls += 1
        raise RuntimeError("logger is broken")


# ---------------------------------------------------------------------------------------
# Helpers


async def wait_for(what: str, cond: Callable[[], Awaitable[bool]], timeout: float = 8.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def hash_of(auth: h.HmacHttpAuth, client_id: str) -> Optional[str]:
    return await auth.clients.get_secret_hash_async(client_id)


async def start(name: str, lines: Any, **options: Any) -> p.Propagator:
    _QUEUES.append(p.build_queue_name(name))
    prop = await p.create_propagator(**AMQP, amqp_queue=name, **options)
    failed = [line for line in lines.lines if "amqp connect to" in line and "failed" in line]
    if failed:
        await prop.close()
        pytest.fail(f"RabbitMQ vhost {p.DEFAULT_AMQP_VHOST} not usable (bash scripts/services.sh): {failed[0]}")
    return prop


def run(coro) -> Any:
    return asyncio.run(coro)


# ---------------------------------------------------------------------------------------
# buildQueueName and the options


def test_build_queue_name_and_vhost():
    assert p.DEFAULT_AMQP_VHOST == "hmac-credentials"
    assert p.build_queue_name("x-authority-hmac") == "hmac-x-authority-hmac.queue"
    assert p.build_queue_name("ABC123") == "hmac-ABC123.queue"
    for bad in ["bad name", "bad/name", "", "é", "a_b", "a.b"]:
        with pytest.raises(ValueError) as ei:
            p.build_queue_name(bad)
        assert str(ei.value) == f'Invalid amqpQueue "{bad}": must match [A-Za-z0-9-]+'
        assert isinstance(ei.value, p.PropagationQueueNameError)
        assert isinstance(ei.value, p.PropagationError)
        assert ei.value.code == "INVALID_QUEUE_NAME"
    with pytest.raises(TypeError):
        p.build_queue_name(42)  # type: ignore[arg-type]
    err = p.PropagationError("UNKNOWN_CLIENT")
    assert (err.code, err.message, str(err)) == ("UNKNOWN_CLIENT", "UNKNOWN_CLIENT", "UNKNOWN_CLIENT")
    assert p.PROPAGATION_ERROR_CODES == (
        "MANAGEMENT_NOT_CONFIGURED",
        "UNKNOWN_CLIENT",
        "INVALID_OPTIONS",
        "INTERNAL_ERROR",
    )


def test_create_propagator_checks_options_in_the_original_order():
    auth = h.HmacHttpAuth()
    valid: Dict[str, Any] = dict(
        **AMQP,
        amqp_queue="pyprop-never-started",
        propagation_secret="s",
        redis="memory://",
        hmac_http_auth=auth,
    )
    order = [
        ("amqp_host", "amqpHost is required"),
        ("amqp_port", "amqpPort is required"),
        ("amqp_user", "amqpUser is required"),
        ("amqp_password", "amqpPassword is required"),
        ("amqp_protocol", "amqpProtocol is required"),
        ("amqp_queue", "amqpQueue is required"),
        ("propagation_secret", "propagationSecret is required"),
        ("redis", "redis is required"),
        ("hmac_http_auth", "At least one of hmacHttpAuth or hmacMessageAuth must be provided"),
    ]

    async def expect(code: str, message: str, **options: Any) -> None:
        with pytest.raises(p.PropagationError) as ei:
            await p.create_propagator(**options)
        assert (ei.value.code, str(ei.value)) == (code, message)

    async def scenario() -> None:
        # JavaScript truthiness: "" and 0 are missing, like None; checked in order.
        falsy = {k: (0 if k == "amqp_port" else "") for k, _ in order}
        falsy["hmac_http_auth"] = None
        for i, (key, message) in enumerate(order):
            options = {**falsy, **{k: valid[k] for k, _ in order[:i]}}
            await expect("INVALID_OPTIONS", message, **options)
            await expect("INVALID_OPTIONS", message, **{**options, key: None})
        # The core's JavaScript truthiness, not Python's: nan and -0.0 are missing ports, and
        # an option of the wrong type is reported only after the options checked before it.
        for port in (float("nan"), -0.0):
            await expect("INVALID_OPTIONS", "amqpPort is required", **{**valid, "amqp_port": port, "amqp_user": None})
        await expect("INVALID_OPTIONS", "amqpPort is required", **{**valid, "amqp_host": 5, "amqp_port": None})
        with pytest.raises(TypeError, match="amqp_host"):
            await p.create_propagator(**{**valid, "amqp_host": 5})
        # hmac_message_auth alone is enough.
        with pytest.raises(p.PropagationQueueNameError):
            await p.create_propagator(**{**valid, "hmac_http_auth": None, "hmac_message_auth": h.HmacMessageAuth(), "amqp_queue": "a b"})
        # Then buildQueueName's plain Error (a ValueError here), then the broker settings.
        with pytest.raises(ValueError, match=r'^Invalid amqpQueue "bad name": must match \[A-Za-z0-9-\]\+$'):
            await p.create_propagator(**{**valid, "amqp_queue": "bad name"})
        await expect(
            "INVALID_OPTIONS", 'amqpProtocol must be "amqp" or "amqps", got "http"', **{**valid, "amqp_protocol": "http"}
        )
        await expect(
            "INVALID_OPTIONS", "amqpPort must be an integer from 1 to 65535, got 70000", **{**valid, "amqp_port": 70000}
        )

        class Partial:
            def upsert_credential_with_targets(self, i): ...

        await expect(
            "INVALID_OPTIONS", "management.rotate_credential_secret must be a function", **{**valid, "management": Partial()}
        )
        with pytest.raises(TypeError, match="hmac_http_auth"):
            await p.create_propagator(**{**valid, "hmac_http_auth": object()})
        with pytest.raises(TypeError, match="amqp_port"):
            await p.create_propagator(**{**valid, "amqp_port": "5672"})
        # The propagation state opens before the broker link; a dead Redis fails fast.
        with pytest.raises(p.PropagationError) as ei:
            await p.create_propagator(**{**valid, "redis": "redis://127.0.0.1:1"})
        assert ei.value.code == "STORE_CONNECTION"

    run(scenario())


# ---------------------------------------------------------------------------------------
# A mesh of three peers on the real broker


def test_mesh_of_three_peers_end_to_end(redis_client):
    run_id = uuid.uuid4().hex[:10]
    names = {k: f"pyprop-{run_id}-{k}" for k in ("mgmt", "b", "ro")}
    secrets = {k: f"secret-of-{k}-{run_id}" for k in names}
    directory = {names[k]: secrets[k] for k in names}
    namespaces = [f"pyprop_{run_id}_mgmt", f"pyprop_{run_id}_b"]
    clients = [f"partner-{run_id}", f"solo-{run_id}", f"swallow-{run_id}", f"boom-{run_id}"]
    partner, solo, swallow, boom = clients

    m = AsyncManagement(directory)
    mb = SyncManagement(directory)
    auth_a = h.HmacHttpAuth(redis_url=REDIS_URL, namespace=namespaces[0], secret_token="pepper-of-mgmt")
    auth_b = h.HmacHttpAuth(redis_url=REDIS_URL, namespace=namespaces[1], secret_token="pepper-of-b")
    auth_ro = h.HmacHttpAuth(secret_token="pepper-of-ro")  # embedded memory store
    log_a, lines_a = std_logger(run_id)  # a logging.Logger (warning/info/error)
    log_b = SpecLogger()  # the original's {info, warn, error}
    log_ro = RaisingLogger()

    async def scenario() -> None:
        loop_thread = threading.get_ident()
        a = await start(
            names["mgmt"], lines_a, propagation_secret=secrets["mgmt"], redis=REDIS_URL,
            hmac_http_auth=auth_a, management=m, logger=log_a,
        )
        b = await start(
            names["b"], log_b, propagation_secret=secrets["b"], redis=REDIS_URL,
            hmac_http_auth=auth_b, management=mb, logger=log_b,
        )
        ro = await start(
            names["ro"], log_ro, propagation_secret=secrets["ro"], redis="memory://",
            hmac_http_auth=auth_ro, logger=log_ro,
        )
        try:
            assert lines_a.any("info [propagation] amqp connected to")
            assert log_b.any("info [propagation] amqp connected to")
            assert log_ro.info_calls >= 1  # it raised; nothing escaped
            assert (a.amqp_queue, repr(b)) == (names["mgmt"], f"Propagator(amqp_queue='{names['b']}')")

            # Receive-only: the four management calls are refused, before anything else
            # (arguments of the wrong type included: the original checks management first).
            for call in (
                ro.ensure(partner, "s", [names["b"]]),
                ro.rotate(partner, "s"),
                ro.revoke(partner, []),
                ro.sync(),
                ro.ensure(5, None, "not a list"),  # type: ignore[arg-type]
                ro.rotate(None, 7),  # type: ignore[arg-type]
                ro.revoke(None, None),  # type: ignore[arg-type]
            ):
                with pytest.raises(p.PropagationError) as ei:
                    await call
                assert (ei.value.code, str(ei.value)) == ("MANAGEMENT_NOT_CONFIGURED", NOT_CONFIGURED)

            # ensure: create (absent locally), applied here at once, nothing published yet.
            r = await a.ensure(partner, "plain-A", [names["b"], names["ro"]], allowed_ips=["10.0.0.0/8"])
            assert r == p.EnsureResult(partner, "credential.create")
            hash_a = await hash_of(auth_a, partner)
            assert hash_a == h.hash_client_secret("plain-A", "pepper-of-mgmt")
            assert await hash_of(auth_b, partner) is None
            assert await hash_of(auth_ro, partner) is None
            up = m.inputs[0]
            assert up == p.UpsertInput(
                client_id=partner, track="http", op="credential.create", secret_plain="plain-A",
                allowed_ips=["10.0.0.0/8"], expires_at=None, targets=[names["b"], names["ro"]],
            )
            with pytest.raises(AttributeError):
                up.client_id = "x"  # frozen
            assert m.status[(partner, names["b"])] == m.status[(partner, names["ro"])] == "pending"

            # sync: both targets published; the hash is shipped as is (distinct peppers).
            s = await a.sync()
            assert (s.propagations_read, s.targets_published, s.targets_retrying) == (1, 2, 0)
            assert isinstance(s.duration_ms, int) and s.duration_ms >= 0
            sent = [i for i in m.inputs if isinstance(i, p.TargetSentInput)]
            assert sorted(i.target_amqp_queue for i in sent) == sorted([names["b"], names["ro"]])
            assert all(i.attempt_count == 1 and isinstance(i.sent_at, int) for i in sent)

            async def both_have(value):
                return await hash_of(auth_b, partner) == value and await hash_of(auth_ro, partner) == value

            await wait_for("both targets applied", lambda: both_have(hash_a))
            assert (await auth_b.clients.get_async(partner)).allowed_ips == ["10.0.0.0/8"]

            # ACK bookkeeping: b (full mode) answers with a's secret -> success; ro answers
            # with "" -> dropped at a's secret check, so the credential is not complete.
            # (markSuccess, not the status: as in the original, an ACK handled before
            # markSent returns gets its "success" overwritten by "sent".)
            await wait_for("b acknowledged", lambda: asyncio.sleep(0, m.count("markSuccess") == 1))
            assert [i for i in m.inputs if isinstance(i, p.TargetSuccessInput)][0].target_amqp_queue == names["b"]
            await wait_for(
                "ro's ACK dropped",
                lambda: asyncio.sleep(0, lines_a.any(f"warning [propagation] propagation-secret-mismatch from {names['ro']}")),
            )
            assert log_ro.any(f"warn [propagation] ack to {names['mgmt']} for {partner} has no source secret")
            assert m.status[(partner, names["ro"])] == "sent"
            assert m.count("markSuccess") == 1 and m.count("markError") == 0
            assert m.fully == [], "not fully propagated while ro is outstanding"
            assert m.credentials[partner]["secret_plain"] == "plain-A"
            assert mb.count("fetchSourceSecret") >= 1  # b looked up a's secret for its ACK
            # async callbacks ran on this loop's thread, plain ones in worker threads.
            assert m.threads == {loop_thread}
            assert mb.threads and loop_thread not in mb.threads

            # The Redis state of §3.6: b's cursor; a's ack store with ro's event outstanding.
            cursor = redis_client.hgetall(f"propagation:last-seen:http:{partner}")
            assert set(cursor) == {"ts", "eventId"} and cursor["ts"].isdigit() and UUID_V4.match(cursor["eventId"])
            assert redis_client.ttl(f"propagation:last-seen:http:{partner}") == -1
            # The ack store forgets b's event after its callbacks ran (markSuccess first, so
            # that a crash in between redoes them on redelivery): wait for it.
            await wait_for(
                "b's event retired from the ack store",
                lambda: asyncio.sleep(0, redis_client.scard(f"propagation:client-pending:{partner}") == 1),
            )
            pending = redis_client.smembers(f"propagation:client-pending:{partner}")
            assert len(pending) == 1
            (event_id,) = pending
            assert UUID_V4.match(event_id)
            rec = redis_client.hgetall(f"propagation:ack:{event_id}")
            assert rec == {
                "clientId": partner,
                "targetAmqpQueue": names["ro"],
                "attemptCount": "1",
                "sentAt": rec["sentAt"],
            } and rec["sentAt"].isdigit()
            for key in (f"propagation:ack:{event_id}", f"propagation:client-pending:{partner}",
                        f"propagation:client-results:{partner}"):
                assert ACK_TTL - 60 < redis_client.ttl(key) <= ACK_TTL, key
            assert redis_client.hgetall(f"propagation:client-results:{partner}") == {names["b"]: "success"}

            # Publish-once: nothing left to do.
            s = await a.sync()
            assert (s.propagations_read, s.targets_published, s.targets_retrying) == (0, 0, 0)

            # A credential whose targets are all full-mode completes: fully propagated, plain cleared.
            # (expires_at: epoch ms or a datetime; shipped and applied as epoch ms.)
            expiry = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)
            await a.ensure(solo, "plain-S", [names["b"]], expires_at=expiry)
            assert [i for i in m.inputs if isinstance(i, p.UpsertInput)][-1].expires_at == 4070908800000
            assert (await a.sync()).targets_published == 1
            await wait_for("solo fully propagated", lambda: asyncio.sleep(0, m.fully == [(solo, "success")]))
            assert m.credentials[solo]["secret_plain"] is None
            assert (await auth_b.clients.get_async(solo)).expires_at == 4070908800000
            (done,) = [i for i in m.inputs if isinstance(i, p.FullyPropagatedInput)]
            assert (done.client_id, done.final_status) == (solo, "success") and isinstance(done.at, int)
            await wait_for(
                "solo's aggregates cleared",
                lambda: asyncio.sleep(
                    0,
                    redis_client.exists(f"propagation:client-pending:{solo}", f"propagation:client-results:{solo}") == 0,
                ),
            )

            # ensure again: update (present locally).
            assert (await a.ensure(partner, "plain-A", [])).op == "credential.update"

            # rotate: new hash here at once, then on every target.
            assert await a.rotate(partner, "plain-A-2") == p.RotateResult(partner)
            hash_2 = await hash_of(auth_a, partner)
            assert hash_2 == h.hash_client_secret("plain-A-2", "pepper-of-mgmt") != hash_a
            assert [i for i in m.inputs if isinstance(i, p.RotateInput)] == [
                p.RotateInput(client_id=partner, track="http", secret_plain="plain-A-2")
            ]
            s = await a.sync()
            assert (s.propagations_read, s.targets_published) == (1, 2)
            await wait_for("rotation applied", lambda: both_have(hash_2))
            # b's ACK of the rotation must be in before revoke marks b pending again (as with
            # the original and the POC adapter, a late ACK would mark it success).
            await wait_for("rotation acknowledged", lambda: asyncio.sleep(0, m.count("markSuccess") == 3))

            # UNKNOWN_CLIENT: rotate of a client absent locally.
            with pytest.raises(p.PropagationError) as ei:
                await a.rotate(f"nobody-{run_id}", "x")
            assert (ei.value.code, str(ei.value)) == ("UNKNOWN_CLIENT", f'rotate: clientId "nobody-{run_id}" does not exist')
            # INVALID_OPTIONS: a track without an auth instance.
            with pytest.raises(p.PropagationError) as ei:
                await a.ensure(partner, "s", [], track="message")
            assert (ei.value.code, str(ei.value)) == ("INVALID_OPTIONS", "No message auth instance configured")
            # HMAC core errors escape as authcore.errors classes.
            with pytest.raises(HmacAuthError) as ei:
                await a.ensure("", "s", [])
            assert ei.value.code == "MISSING_CLIENT_ID"
            with pytest.raises(TypeError):
                await a.ensure(partner, "s", "not-a-list")

            # revoke: deleted here at once, then everywhere.
            assert await a.revoke(partner, [names["b"], names["ro"]]) == p.RevokeResult(partner)
            assert await hash_of(auth_a, partner) is None
            assert [i for i in m.inputs if isinstance(i, p.UpsertInput)][-1] == p.UpsertInput(
                client_id=partner, track="http", op="credential.delete", secret_plain=None,
                allowed_ips=None, expires_at=None, targets=[names["b"], names["ro"]],
            )
            assert (await a.sync()).targets_published == 2
            await wait_for("revocation applied", lambda: both_have(None))
            await wait_for("revocation acknowledged", lambda: asyncio.sleep(0, m.count("markSuccess") == 4))

            # A callback's exception escapes ensure / sync unchanged (the same object), from
            # an async adapter and from a plain one; nothing is applied locally.
            exc = LookupError("database is down")
            m.fail = ("upsert", exc)
            with pytest.raises(LookupError) as ei:
                await a.ensure(boom, "s", [names["b"]])
            assert ei.value is exc
            assert await hash_of(auth_a, boom) is None
            m.fail = ("fetchPending", exc)
            with pytest.raises(LookupError) as ei:
                await a.sync()
            assert ei.value is exc
            m.fail = None
            exc_b = KeyError("plain adapter")
            mb.fail = ("upsert", exc_b)
            with pytest.raises(KeyError) as ei:
                await b.ensure(boom, "s", [])
            assert ei.value is exc_b
            mb.fail = None

            # In ACK handling a callback's exception is logged and swallowed; the Redis
            # result stays recorded.
            await a.ensure(swallow, "plain-W", [names["b"]])
            m.fail = ("markSuccess", RuntimeError("mark failed"))
            assert (await a.sync()).targets_published == 1
            await wait_for(
                "ack callback failure logged",
                lambda: asyncio.sleep(0, lines_a.any(
                    f"error [propagation] management callback failed during ack handling for {swallow}: "
                    "RuntimeError: mark failed"
                )),
            )
            m.fail = None
            assert m.status[(swallow, names["b"])] == "sent"
            assert redis_client.hgetall(f"propagation:client-results:{swallow}") == {names["b"]: "success"}
        finally:
            for prop in (a, b, ro):
                await prop.close()
        # close() is idempotent and the methods stay callable: publishes count as retrying.
        await a.close()
        await a.ensure(solo, "plain-S2", [names["b"]])
        s = await a.sync()
        assert (s.targets_published, s.targets_retrying) == (0, 1)

    try:
        run(scenario())
    finally:
        keys: List[str] = []
        for ns in namespaces:
            keys += list(redis_client.scan_iter(match=f"{ns}:*", count=500))
        for c in clients:
            keys += list(redis_client.scan_iter(match=f"propagation:*{c}", count=500))
        for eid in redis_client.smembers(f"propagation:client-pending:{partner}") | redis_client.smembers(
            f"propagation:client-pending:{solo}"
        ):
            keys.append(f"propagation:ack:{eid}")
        if keys:
            redis_client.delete(*keys)


def test_memory_protocol_is_an_in_process_mesh():
    # amqp_protocol="memory" (extension): the peers of this process that name the same mesh
    # in amqp_host exchange events without a broker (the embedded default of the demo).
    mesh = f"mesh-{uuid.uuid4().hex[:8]}"
    common = dict(amqp_host=mesh, amqp_port=1, amqp_user="-", amqp_password="-", amqp_protocol="memory", redis="memory://")
    auth_a = h.HmacHttpAuth(secret_token="pepper-a")
    auth_b = h.HmacHttpAuth(secret_token="pepper-b")
    adapter = AsyncManagement({"b": "secret-b"})

    async def flow() -> None:
        a = await p.create_propagator(**common, amqp_queue="a", propagation_secret="secret-a",
                                      hmac_http_auth=auth_a, management=adapter)
        b = await p.create_propagator(**common, amqp_queue="b", propagation_secret="secret-b", hmac_http_auth=auth_b)
        try:
            await a.ensure("partner", "plain", ["b"])
            assert (await a.sync()).targets_published == 1
            await wait_for("the hash on b", lambda: _has(auth_b, "partner"))
            assert await hash_of(auth_b, "partner") == await hash_of(auth_a, "partner")
        finally:
            await a.close()
            await b.close()

    async def _has(auth: h.HmacHttpAuth, cid: str) -> bool:
        return await hash_of(auth, cid) is not None

    run(flow())


def test_signed_events_over_rabbitmq():
    # Signed events (extension, off by default): a signing strict authority reaches a strict
    # peer (its signed ACK completes the bookkeeping) and a v1 peer (which applies the
    # signed event; its unsigned ACK is dropped by the strict authority); a strict peer drops
    # the unsigned events of a v1 authority without applying them.
    run_id = uuid.uuid4().hex[:10]
    names = {k: f"pysigned-{run_id}-{k}" for k in ("auth", "strict", "v1", "legacy")}
    secrets = {k: f"secret-of-{k}-{run_id}" for k in names}
    directory = {names[k]: secrets[k] for k in names}
    stores = {k: h.HmacHttpAuth(secret_token=f"pepper-of-{k}") for k in names}
    logs = {k: std_logger(f"{run_id}-{k}") for k in names}
    adapters = {k: AsyncManagement(directory) for k in names}
    options = {
        "auth": dict(sign_events=True, require_signed_events=True),
        "strict": dict(sign_events=True, require_signed_events=True),
        "v1": {},
        "legacy": {},
    }

    async def scenario() -> None:
        peers = {}
        try:
            for k in names:
                peers[k] = await start(
                    names[k], logs[k][1], propagation_secret=secrets[k], redis="memory://",
                    hmac_http_auth=stores[k], management=adapters[k], logger=logs[k][0], **options[k],
                )
            client = f"signed-{run_id}"
            await peers["auth"].ensure(client, "plain-S", [names["strict"], names["v1"]])
            assert (await peers["auth"].sync()).targets_published == 2
            want = await hash_of(stores["auth"], client)

            async def applied(k: str) -> bool:
                return await hash_of(stores[k], client) == want

            async def status_is(k: str, s: str) -> bool:
                return adapters["auth"].status.get((client, names[k])) == s

            await wait_for("applied at the strict peer", lambda: applied("strict"))
            await wait_for("applied at the v1 peer", lambda: applied("v1"))
            await wait_for("the strict peer's signed ACK", lambda: status_is("strict", "success"))

            async def logged(k: str, needle: str) -> bool:
                return logs[k][1].any(needle)

            await wait_for("the v1 ACK dropped", lambda: logged("auth", f"unsigned event from {names['v1']}"))
            assert adapters["auth"].status[(client, names["v1"])] == "sent"

            # A v1 authority's unsigned event: dropped by the strict peer, never applied.
            legacy_client = f"legacy-{run_id}"
            await peers["legacy"].ensure(legacy_client, "plain-L", [names["strict"]])
            assert (await peers["legacy"].sync()).targets_published == 1
            await wait_for("the unsigned event dropped",
                           lambda: logged("strict", f"unsigned event from {names['legacy']}"))
            assert await hash_of(stores["strict"], legacy_client) is None
            assert adapters["legacy"].status[(legacy_client, names["strict"])] == "sent"
        finally:
            for prop in peers.values():
                await prop.close()

    run(scenario())
