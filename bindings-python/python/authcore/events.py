"""authcore.events: node-auth's SSE fan-out (``SseManager``) for asyncio, on the core's
events engine, plus the Redis distributor and outgoing webhooks.

The engine (``authcore::events``) indexes topic -> subscribers, encodes each frame once,
drives every heartbeat from one timer, bounds each subscriber's queue (a subscriber that
falls ``max_queue_bytes`` behind is disconnected; its client reconnects with
``Last-Event-ID`` and the replay ring fills the gap) and caps connections. Frames are the
bytes node-auth writes (``id:``/``event:``/``data:`` with the payload under ``rawData``), so
a Node and a Python process can serve the same browsers through one Redis channel.

    hub = SseManager(heartbeat_interval_ms=15_000, distributor=await RedisDistributor.connect(url))
    app.add_route("/tools/stream", sse_endpoint(hub, authorize=my_authorize))
    hub.broadcast("user:u1", {"type": "security-alert", "data": {"message": "hi"}})
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping, Optional, Sequence

from . import _native

__all__ = [
    "EventsError",
    "SseManager",
    "Subscription",
    "RedisDistributor",
    "WebhookSender",
    "WebhookOutcome",
    "sse_endpoint",
    "frame_json",
    "SSE_HEADERS",
    "HEARTBEAT_FRAME",
]

SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",
}
HEARTBEAT_FRAME = ": heartbeat\n\n"


class EventsError(Exception):
    """An engine, distributor or webhook-policy error: ``code`` (``EVENTS_INVALID_FIELD``,
    ``EVENTS_TOO_MANY_FOR_USER``, ``EVENTS_WEBHOOK_REFUSED``, ...) and an HTTP ``status``."""

    def __init__(self, message: str, code: str, status: int = 500) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _native_error(code: str, message: str, status: int, kind: str, extra: Optional[str]) -> EventsError:
    """The factory the Rust side calls for every events error it raises."""
    return EventsError(message, code, status)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def frame_json(event: Mapping[str, Any]) -> str:
    """``JSON.stringify({...event, data: undefined, rawData: event.data})``: keys in order,
    ``None`` members omitted (JavaScript's undefined), the payload last under ``rawData``."""
    out = {k: v for k, v in event.items() if k != "data" and v is not None}
    if "data" in event:
        out["rawData"] = event["data"]
    return _dumps(out)


class RedisDistributor:
    """The core's Redis pub/sub distributor: every process publishes to one channel and is
    subscribed to it (its own events come back, as node-auth's ``ISseDistributor`` expects).
    Shared with Node's ``createRedisDistributor`` on the same channel."""

    def __init__(self, native: Any, channel: str) -> None:
        self._native = native
        self.channel = channel

    @classmethod
    async def connect(cls, url: str, channel: str = "authcore:sse") -> "RedisDistributor":
        return cls(await _native.RedisDistributor.connect(url, channel), channel)

    async def publish(self, topic: str, event: Mapping[str, Any]) -> None:
        await self._native.publish(topic, _dumps(dict(event)))

    async def next(self) -> Optional[tuple[str, str]]:
        result: Optional[tuple[str, str]] = await self._native.next()
        return result

    async def close(self) -> None:
        await self._native.close()

    @property
    def dropped(self) -> int:
        return int(self._native.dropped)


class Subscription:
    """One connection: ``async for chunk in sub`` yields the frames (``str``), starting with
    the ``connected`` frame and the replay; it ends when the subscriber is removed
    (``close()``, ``disconnect``, or the slow-client policy). ``close()`` when done."""

    def __init__(self, manager: "SseManager", engine_id: int, connection_id: str, first: str, replay_complete: bool) -> None:
        self._manager = manager
        self._id = engine_id
        self.connection_id = connection_id
        self.replay_complete = replay_complete
        self._first: Optional[str] = first

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> str:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        frames = await self._manager._hub.next(self._id)
        if frames is None:
            self.close()
            raise StopAsyncIteration
        return "".join(frames)

    def close(self) -> None:
        self._manager._disconnect(self._id, self.connection_id)


class SseManager:
    """node-auth's ``SseManager`` for asyncio (snake_case): ``connect`` / ``broadcast`` /
    ``disconnect``, topics ``global``, ``tenant:``, ``user:``, ``session:``, ``custom:``,
    tenant isolation, dedupe, heartbeats, a distributor with self-echo."""

    def __init__(
        self,
        *,
        heartbeat_interval_ms: int = 30_000,
        deduplicate: bool = True,
        distributor: Optional[RedisDistributor] = None,
        max_connections: Optional[int] = None,
        max_connections_per_user: Optional[int] = None,
        max_topics_per_connection: Optional[int] = None,
        max_queue_bytes: Optional[int] = None,
        max_event_bytes: Optional[int] = None,
        replay_buffer_size: Optional[int] = None,
        replay_buffer_bytes: Optional[int] = None,
    ) -> None:
        self._hub = _native.EventHub(
            heartbeat_interval_ms=heartbeat_interval_ms,
            deduplicate=deduplicate,
            max_subscribers=max_connections,
            max_per_user=max_connections_per_user,
            max_topics=max_topics_per_connection,
            max_queue_bytes=max_queue_bytes,
            max_frame_bytes=max_event_bytes,
            replay_events=replay_buffer_size,
            replay_bytes=replay_buffer_bytes,
        )
        self._conns: dict[str, int] = {}
        self._meta: dict[int, dict[str, Optional[str]]] = {}
        self._distributor = distributor
        self._timer: Optional[asyncio.Task[None]] = None
        self._pump: Optional[asyncio.Task[None]] = None
        self._tasks: set[asyncio.Task[Any]] = set()
        if distributor is not None:
            self._pump = asyncio.get_running_loop().create_task(self._pump_distributor())

    @property
    def connection_count(self) -> int:
        return len(self._conns)

    def connect(
        self,
        topics: Sequence[str],
        *,
        user_id: Optional[str] = None,
        tenant_id: Optional[str] = None,
        session_id: Optional[str] = None,
        last_event_id: Optional[str] = None,
    ) -> Subscription:
        """Register a connection (``EventsError`` over a limit); iterate the result."""
        topic_list = [str(t) for t in topics]
        engine_id, complete = self._hub.subscribe(topic_list, user_id, tenant_id, last_event_id)
        connection_id = str(uuid.uuid4())
        self._conns[connection_id] = engine_id
        self._meta[engine_id] = {"user_id": user_id, "session_id": session_id}
        frame_id = str(uuid.uuid4())
        connected = {
            "id": frame_id,
            "type": "connected",
            "timestamp": _now(),
            "topic": "meta",
            "data": {"connectionId": connection_id, "topics": topic_list},
        }
        first = self._hub.encode(frame_id, "connected", frame_json(connected))
        self._start_timer()
        return Subscription(self, engine_id, connection_id, first, complete)

    def broadcast(self, topic: str, event: Mapping[str, Any]) -> None:
        """``{id, timestamp, topic, ...event}`` to the topic's connections (through the
        distributor when there is one; local delivery only if its publish fails)."""
        full: dict[str, Any] = {"id": event.get("id") or str(uuid.uuid4()), "timestamp": event.get("timestamp") or _now(), "topic": topic}
        for k, v in event.items():
            if k in ("id", "timestamp", "topic") and v is None:
                continue
            full[k] = v
        full["topic"] = topic
        if self._distributor is None:
            self._broadcast_local(topic, full)
            return
        self._hub.encode(str(full["id"]), str(full.get("type")), "{}")
        task = asyncio.get_running_loop().create_task(self._publish(topic, full))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, topic: str, full: dict[str, Any]) -> None:
        assert self._distributor is not None
        try:
            await self._distributor.publish(topic, full)
        except Exception:
            self._broadcast_local(topic, full)

    def _broadcast_local(self, topic: str, event: Mapping[str, Any]) -> None:
        tenant = event.get("tenantId")
        self._hub.publish(str(topic), str(event.get("id")), str(event.get("type")), str(tenant) if tenant else None, frame_json(event))

    async def _pump_distributor(self) -> None:
        assert self._distributor is not None
        while True:
            m = await self._distributor.next()
            if m is None:
                return
            topic, text = m
            try:
                self._broadcast_local(topic, json.loads(text))
            except (ValueError, EventsError):
                continue

    def _start_timer(self) -> None:
        ms = self._hub.tick_ms
        if self._timer is not None or ms == 0:
            return

        async def beat() -> None:
            while True:
                await asyncio.sleep(ms / 1000)
                self._hub.tick()

        self._timer = asyncio.get_running_loop().create_task(beat())

    def _disconnect(self, engine_id: int, connection_id: str) -> None:
        self._conns.pop(connection_id, None)
        self._meta.pop(engine_id, None)
        self._hub.unsubscribe(engine_id)
        if not self._conns and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def disconnect(self, connection_id: str) -> None:
        engine_id = self._conns.get(connection_id)
        if engine_id is not None:
            self._disconnect(engine_id, connection_id)

    def disconnect_session(self, session_id: str) -> int:
        """End every connection opened for a session (a revoked session's streams)."""
        victims = [(c, e) for c, e in self._conns.items() if session_id and self._meta.get(e, {}).get("session_id") == session_id]
        for c, e in victims:
            self._disconnect(e, c)
        return len(victims)

    async def aclose(self) -> None:
        for c, e in list(self._conns.items()):
            self._disconnect(e, c)
        for t in [self._timer, self._pump, *self._tasks]:
            if t is not None:
                t.cancel()
        self._timer = self._pump = None


Authorizer = Callable[[Any], Awaitable[Optional[Mapping[str, Any]]]]


def sse_endpoint(manager: SseManager, *, authorize: Authorizer) -> Callable[[Any], Awaitable[Any]]:
    """A Starlette/FastAPI endpoint for the stream. ``authorize(request)`` returns
    ``{"topics": [...], "user_id"?, "tenant_id"?, "session_id"?}`` or ``None`` (403).
    ``?topics=a,b`` narrows the authorised topics; ``Last-Event-ID`` replays."""
    from starlette.responses import JSONResponse, StreamingResponse

    async def endpoint(request: Any) -> Any:
        grant = await authorize(request)
        if grant is None:
            return JSONResponse({"error": "Forbidden"}, status_code=403)
        allowed = [str(t) for t in grant.get("topics", ["global"])]
        requested = request.query_params.get("topics")
        topics = [t for t in requested.split(",") if t in allowed] if requested else allowed
        try:
            sub = manager.connect(
                topics,
                user_id=grant.get("user_id"),
                tenant_id=grant.get("tenant_id"),
                session_id=grant.get("session_id"),
                last_event_id=request.headers.get("last-event-id"),
            )
        except EventsError as e:
            return JSONResponse({"error": str(e)}, status_code=e.status)
        async def body() -> AsyncIterator[str]:
            try:
                async for chunk in sub:
                    yield chunk
            finally:
                sub.close()

        return StreamingResponse(body(), headers=dict(SSE_HEADERS), media_type="text/event-stream")

    return endpoint


class WebhookOutcome(dict):  # type: ignore[type-arg]
    """``{"ok", "attempts", "status", "delivery_id", "error"}``."""


Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``async (host, port) -> [ip, ...]``: the addresses a webhook host name resolves to."""


async def _system_resolver(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(i[4][0]) for i in infos]


class WebhookSender:
    """node-auth's ``WebhookSender`` on the core's delivery policy (``sha256=`` signature,
    ``X-Webhook-*`` headers, one delivery id for every attempt, no retry on 4xx, backoff
    with jitter, a timeout, internal addresses refused unless ``allow_internal_urls``)
    over httpcore (httpx's transport). A host name is resolved when the connection is made
    (``resolver``, the system's by default), every address is checked by the core, and the
    socket connects to a checked address (TLS keeps the name for SNI and the certificate),
    so DNS rebinding cannot slip an internal address in after the check."""

    def __init__(
        self,
        *,
        allow_internal_urls: bool = False,
        timeout_ms: Optional[int] = None,
        resolver: Optional[Resolver] = None,
    ) -> None:
        self._allow = allow_internal_urls
        self._timeout = timeout_ms
        self._resolver: Resolver = resolver or _system_resolver

    @staticmethod
    def sign(body: str, secret: str) -> str:
        return str(_native.events_webhook_sign(body, secret))

    @staticmethod
    def verify(body: str, secret: str, signature: str) -> bool:
        return bool(_native.events_webhook_verify(body, secret, signature))

    async def send(self, config: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        """Never raises (as the original)."""
        try:
            await self.deliver(config, event)
        except Exception:
            pass

    async def deliver(self, config: Mapping[str, Any], event: Mapping[str, Any]) -> WebhookOutcome:
        import ssl

        import httpcore

        body = _dumps(dict(event))
        plan = _native.events_webhook_plan(
            str(config["url"]),
            str(event.get("event")),
            str(event.get("timestamp")),
            body,
            secret=config.get("secret"),
            max_retries=config.get("maxRetries", config.get("max_retries")),
            retry_delay_ms=config.get("retryDelayMs", config.get("retry_delay_ms")),
            timeout_ms=self._timeout,
            allow_internal=self._allow,
        )
        headers = [(k.encode(), v.encode()) for k, v in plan["headers"]]
        content = body.encode()
        timeout_s = plan["timeout_ms"] / 1000
        attempt = 0
        async with httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(),
            network_backend=_checked_backend(plan, self._resolver),
        ) as pool:
            while True:
                status: Optional[int] = None
                error: Optional[str] = None
                try:
                    r = await asyncio.wait_for(
                        pool.request(
                            "POST",
                            plan["url"],
                            headers=headers,
                            content=content,
                            extensions={"timeout": {"connect": timeout_s, "read": timeout_s, "write": timeout_s, "pool": timeout_s}},
                        ),
                        timeout_s,
                    )
                    status = r.status
                except EventsError:
                    raise  # an address the core refused when connecting: as a refused URL
                except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError, OSError, asyncio.TimeoutError) as e:
                    error = repr(e)
                delay = _native.events_webhook_next_delay(plan, attempt, status)
                if delay is None:
                    return WebhookOutcome(ok=status is not None and 200 <= status < 300, attempts=attempt + 1, status=status, delivery_id=plan["delivery_id"], error=error)
                attempt += 1
                await asyncio.sleep(delay / 1000)


def _checked_backend(plan: Mapping[str, Any], resolver: Resolver) -> Any:
    """An httpcore network backend whose TCP connect resolves the host, lets the core
    check every address, then connects to a checked one (the name stays the TLS server
    name). Built on demand: httpcore comes with the optional httpx."""
    import httpcore

    inner = httpcore.AnyIOBackend()

    class CheckedBackend(httpcore.AsyncNetworkBackend):
        async def connect_tcp(self, host: str, port: int, timeout: Optional[float] = None, local_address: Optional[str] = None, socket_options: Any = None) -> Any:
            if _is_ip(host):
                addresses: Sequence[str] = [host.strip("[]")]  # an IP literal: checked with the URL
            else:
                try:
                    addresses = [str(a) for a in await resolver(host, port)]
                except OSError as e:
                    raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from e
                _native.events_webhook_check_resolved(plan, addresses)
            last: Optional[BaseException] = None
            for a in addresses:
                try:
                    return await inner.connect_tcp(a, port, timeout=timeout, local_address=local_address, socket_options=socket_options)
                except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as e:
                    last = e
            raise httpcore.ConnectError(f"cannot connect to {host}: {last!r}")

        async def connect_unix_socket(self, path: str, timeout: Optional[float] = None, socket_options: Any = None) -> Any:
            raise EventsError("webhooks are delivered over TCP only", "EVENTS_WEBHOOK_REFUSED", 400)

        async def sleep(self, seconds: float) -> None:
            await inner.sleep(seconds)

    return CheckedBackend()


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False

