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
    "AuthTools",
    "tools_router",
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


# ---------------------------------------------------------------------------------------
# node-auth's AuthTools and its tools router, for asyncio / ASGI, on the same engine.
# ---------------------------------------------------------------------------------------

EventListener = Callable[[dict[str, Any]], Any]
EmailHook = Callable[[dict[str, Any]], Awaitable[Any]]
SmsHook = Callable[[dict[str, Any]], Awaitable[Any]]

SESSION_REVOKED = "identity.session.revoked"
USER_DELETED = "identity.user.deleted"


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#39;")


class AuthTools:
    """node-auth's ``AuthTools`` for asyncio (snake_case): ``track`` persists the telemetry
    record, tells the listeners (``on_event(name | "*", fn)``), streams it to ``global``,
    ``tenant:``, ``user:`` and ``session:`` (without ``ip``/``userAgent`` unless
    ``sse_include_client_info``), and forwards it to the outgoing webhooks the store finds;
    ``notify`` pushes to an SSE topic and, for a user, by email or SMS through the
    application's hooks (``send_email({"to", "subject", "text", "html"})``,
    ``send_sms({"to", "message"})``), looked up with ``user_store.find_by_id``."""

    def __init__(
        self,
        *,
        sse: Optional[SseManager] = None,
        telemetry_store: Any = None,
        webhook_store: Any = None,
        webhook_sender: Optional[WebhookSender] = None,
        webhook_version: str = "1",
        sse_include_client_info: bool = False,
        user_store: Any = None,
        send_email: Optional[EmailHook] = None,
        send_sms: Optional[SmsHook] = None,
    ) -> None:
        self.sse_manager = sse
        self._telemetry = telemetry_store
        self._webhooks = webhook_store
        self._sender = webhook_sender or WebhookSender()
        self._version = webhook_version
        self._client_info = sse_include_client_info
        self._users = user_store
        self._send_email = send_email
        self._send_sms = send_sms
        self._listeners: dict[str, list[EventListener]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def on_event(self, name: str, listener: EventListener) -> None:
        self._listeners.setdefault(name, []).append(listener)

    def off_event(self, name: str, listener: EventListener) -> None:
        if listener in self._listeners.get(name, []):
            self._listeners[name].remove(listener)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        async def quiet() -> None:
            try:
                await coro
            except Exception:
                pass  # fire-and-forget, errors swallowed (as the original)

        task = asyncio.get_running_loop().create_task(quiet())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def track(
        self,
        event_name: str,
        data: Any = None,
        *,
        user_id: Optional[str] = None,
        tenant_id: Optional[str] = None,
        session_id: Optional[str] = None,
        correlation_id: Optional[str] = None,
        ip: Optional[str] = None,
        user_agent: Optional[str] = None,
    ) -> None:
        if self.sse_manager is not None and ("\n" in event_name or "\r" in event_name):
            raise EventsError("SSE event type must not contain a line break (CR or LF)", "EVENTS_INVALID_FIELD", 400)
        event_id = str(uuid.uuid4())
        timestamp = _now()
        record = {
            "id": event_id,
            "event": event_name,
            "timestamp": timestamp,
            "data": data,
            "userId": user_id,
            "tenantId": tenant_id,
            "sessionId": session_id,
            "correlationId": correlation_id,
            "ip": ip,
            "userAgent": user_agent,
        }
        if self._telemetry is not None:
            try:
                await self._telemetry.save(record)
            except Exception:
                pass  # a failing store never fails track
        payload = {k: v for k, v in record.items() if k not in ("id", "event", "timestamp")}
        payload.update(event=event_name, timestamp=_now())
        listener_error: Optional[BaseException] = None
        for fn in [*self._listeners.get(event_name, []), *self._listeners.get("*", [])]:
            try:
                r = fn(payload)
                if asyncio.iscoroutine(r):
                    await r
            except Exception as e:  # a throwing listener does not abort SSE and webhooks
                listener_error = listener_error or e
        if self.sse_manager is not None:
            streamed = record if self._client_info else {k: v for k, v in record.items() if k not in ("ip", "userAgent")}
            event = {"id": event_id, "timestamp": timestamp, "type": event_name, "data": streamed, "userId": user_id, "tenantId": tenant_id}
            self.sse_manager.broadcast("global", event)
            for prefix, value in (("tenant", tenant_id), ("user", user_id), ("session", session_id)):
                if value:
                    self.sse_manager.broadcast(f"{prefix}:{value}", event)
            if event_name == SESSION_REVOKED and session_id:
                self.sse_manager.disconnect_session(session_id)
        if self._webhooks is not None:
            try:
                configs = list(await self._webhooks.find_by_event(event_name, tenant_id) or [])
            except Exception:
                configs = []
            metadata = {k: v for k, v in (("userId", user_id), ("tenantId", tenant_id), ("sessionId", session_id), ("correlationId", correlation_id)) if v is not None}
            body = {"event": event_name, "version": self._version, "timestamp": timestamp, "data": data, "metadata": metadata}
            for config in configs:
                self._spawn(self._sender.send(config, body))
        if listener_error is not None:
            raise listener_error

    async def notify(
        self,
        target: str,
        data: Any,
        *,
        type: Optional[str] = None,
        tenant_id: Optional[str] = None,
        user_id: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        channels: Sequence[str] = ("sse",),
        email_subject: Optional[str] = None,
        sms_message: Optional[str] = None,
    ) -> None:
        if "sse" in channels and self.sse_manager is not None:
            self.sse_manager.broadcast(
                target,
                {"type": type or "notification", "data": data, "tenantId": tenant_id, "userId": user_id, "metadata": dict(metadata) if metadata is not None else None},
            )
        if not ("email" in channels or "sms" in channels) or not user_id or self._users is None:
            return
        try:
            user = await self._users.find_by_id(user_id)
        except Exception:
            user = None
        if not user:
            return
        get = user.get if isinstance(user, Mapping) else (lambda k: getattr(user, k, None))
        text = data if isinstance(data, str) else json.dumps(data, indent=2, ensure_ascii=False)
        if "email" in channels and get("email") and self._send_email is not None:
            subject = email_subject or (str(type) if type else "Notification")
            html = "<p>" + _html_escape(text).replace("\n", "<br>") + "</p>"
            self._spawn(self._send_email({"to": get("email"), "subject": subject, "text": text, "html": html}))
        if "sms" in channels and get("phoneNumber") and self._send_sms is not None:
            message = sms_message if sms_message is not None else (data if isinstance(data, str) else _dumps(data))
            self._spawn(self._send_sms({"to": get("phoneNumber"), "message": message}))

    async def aclose(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self.sse_manager is not None:
            await self.sse_manager.aclose()


Authenticate = Callable[[Any], Awaitable[Optional[Mapping[str, Any]]]]
NotifyAuthorizer = Callable[[Any, str], Awaitable[bool]]
InboundHandler = Callable[[str, Any, Any], Awaitable[Optional[Mapping[str, Any]]]]

DEFAULT_WEBHOOK_WINDOW_MS = 300_000


class _GuardStore:
    """The core's in-process replay store behind the ``webhook_replay_store`` interface."""

    def __init__(self) -> None:
        self._guard = _native.WebhookReplayGuard()

    async def claim_all(self, keys: Sequence[str], ttl_ms: int) -> bool:
        return bool(self._guard.claim(list(keys), ttl_ms))

    async def release_all(self, keys: Sequence[str]) -> None:
        self._guard.release(list(keys))


class _SharedStore:
    def __init__(self, store: Any) -> None:
        self._store = store

    async def claim_all(self, keys: Sequence[str], ttl_ms: int) -> bool:
        held: list[str] = []
        for k in keys:
            if await self._store.claim(k, ttl_ms) is not True:
                await self.release_all(held)
                return False
            held.append(k)
        return True

    async def release_all(self, keys: Sequence[str]) -> None:
        release = getattr(self._store, "release", None)
        for k in keys:
            if release is not None:
                await release(k)


def _user_id(user: Optional[Mapping[str, Any]]) -> Optional[str]:
    if not user:
        return None
    v = user.get("id", user.get("sub"))
    return str(v) if v is not None else None


def _tenant(user: Optional[Mapping[str, Any]]) -> Optional[str]:
    if not user:
        return None
    v = user.get("tenantId", user.get("tenant_id"))
    return str(v) if v else None


def _session(user: Optional[Mapping[str, Any]]) -> Optional[str]:
    if not user:
        return None
    v = user.get("sid", user.get("session_id"))
    return str(v) if v else None


def tools_router(
    tools: AuthTools,
    *,
    authenticate: Optional[Authenticate] = None,
    telemetry: bool = True,
    notify: bool = True,
    stream: bool = True,
    webhook: bool = True,
    telemetry_store: Any = None,
    on_webhook: Optional[InboundHandler] = None,
    webhook_store: Any = None,
    authorize_notify: Optional[NotifyAuthorizer] = None,
    trust_client_identity: bool = False,
    webhook_timestamp_window_ms: int = DEFAULT_WEBHOOK_WINDOW_MS,
    webhook_replay_store: Any = None,
) -> Any:
    """node-auth's ``createToolsRouter`` as a Starlette ``Router`` (an ASGI app; mount it,
    e.g. ``app.mount("/tools", tools_router(tools, authenticate=...))``), with the Node
    drop-in's fixes: ``POST /track/{event_name}`` (202; the authenticated identity wins over
    the body), ``GET /telemetry`` (when ``telemetry_store.query`` exists), ``POST
    /notify/{target}`` (202; 403 unless ``authorize_notify(request, target)`` or the caller's
    own ``user:`` topic), ``GET /stream`` (SSE; ``?token=`` becomes the ``Authorization``
    header; topics: ``global``, the caller's tenant, user and session, narrowed by
    ``?topics=``; ``Last-Event-ID`` replays; 503 without SSE) and ``POST
    /webhook/{provider}`` (when ``on_webhook`` or ``webhook_store.find_by_provider``;
    a provider with a ``secret`` must sign the raw body and send ``X-Webhook-Timestamp``
    within the window, each delivery accepted once: the core's rules, 401 otherwise).
    ``authenticate(request)`` returns the caller (``id``/``sub``, ``tenantId``, ``sid``) or
    ``None`` (401); without it the routes are public, as the original's."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route, Router

    if webhook_timestamp_window_ms < 0:
        raise ValueError("webhook_timestamp_window_ms must be >= 0 (0: no timestamp check)")
    window = int(webhook_timestamp_window_ms)
    replay_ttl = 2 * (window if window > 0 else DEFAULT_WEBHOOK_WINDOW_MS)
    replay: Any = _SharedStore(webhook_replay_store) if webhook_replay_store is not None else _GuardStore()

    def error(status: int, message: str) -> Any:
        return JSONResponse({"error": message}, status_code=status)

    def failure(e: BaseException, fallback: int) -> Any:
        if isinstance(e, EventsError):
            return error(e.status, str(e) if e.status < 500 else "Internal error")
        return error(fallback, "Internal error")

    async def caller(request: Any) -> tuple[bool, Optional[Mapping[str, Any]]]:
        if authenticate is None:
            return True, None
        user = await authenticate(request)
        return user is not None, user

    async def json_body(request: Any) -> Any:
        raw = await request.body()
        if not raw:
            return {}
        return json.loads(raw)

    async def track(request: Any) -> Any:
        ok, user = await caller(request)
        if not ok:
            return error(401, "Unauthorized")
        try:
            body = await json_body(request)
        except ValueError:
            return error(400, "Invalid JSON body")
        body = body if isinstance(body, dict) else {}
        user_id = body.get("userId") or _user_id(user)
        tenant_id = body.get("tenantId")
        if user is not None and not trust_client_identity:
            user_id, tenant_id = _user_id(user), _tenant(user)
        xff = request.headers.get("x-forwarded-for")
        ip = xff.split(",")[0].strip() if xff else (request.client.host if request.client else None)
        try:
            await tools.track(
                request.path_params["event_name"],
                body.get("data"),
                user_id=user_id,
                tenant_id=tenant_id,
                session_id=body.get("sessionId"),
                correlation_id=body.get("correlationId"),
                ip=ip,
                user_agent=request.headers.get("user-agent"),
            )
        except Exception as e:
            return failure(e, 500)
        return JSONResponse({"ok": True}, status_code=202)

    async def telemetry_query(request: Any) -> Any:
        ok, _ = await caller(request)
        if not ok:
            return error(401, "Unauthorized")
        q = request.query_params

        def when(name: str) -> Optional[datetime]:
            v = q.get(name)
            if not v:
                return None
            try:
                return datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                return None

        def number(name: str) -> Optional[int]:
            v = q.get(name)
            try:
                return int(v) if v else None
            except ValueError:
                return None

        flt = {"event": q.get("event"), "userId": q.get("userId"), "tenantId": q.get("tenantId"), "from": when("from"), "to": when("to"), "limit": number("limit"), "offset": number("offset")}
        try:
            return JSONResponse({"data": list(await telemetry_store.query(flt))})
        except Exception as e:
            return failure(e, 500)

    async def notify_route(request: Any) -> Any:
        ok, user = await caller(request)
        if not ok:
            return error(401, "Unauthorized")
        target = request.path_params["target"]
        try:
            allowed = (await authorize_notify(request, target)) is True if authorize_notify is not None else (user is not None and target == f"user:{_user_id(user)}")
        except Exception:
            allowed = False
        if not allowed:
            return error(403, "Not allowed to notify this topic")
        try:
            body = await json_body(request)
        except ValueError:
            return error(400, "Invalid JSON body")
        body = body if isinstance(body, dict) else {}
        tenant_id = _tenant(user) if _tenant(user) and not trust_client_identity else body.get("tenantId")
        try:
            await tools.notify(target, body.get("data"), type=body.get("type"), tenant_id=tenant_id, user_id=body.get("userId"), metadata=body.get("metadata"))
        except Exception as e:
            return failure(e, 500)
        return JSONResponse({"ok": True}, status_code=202)

    async def stream_route(request: Any) -> Any:
        token = request.query_params.get("token")
        if token:
            headers = [(k, v) for k, v in request.scope["headers"] if k != b"authorization"]
            headers.append((b"authorization", f"Bearer {token}".encode()))
            request = Request({**request.scope, "headers": headers}, request.receive)
        ok, user = await caller(request)
        if not ok:
            return error(401, "Unauthorized")
        sse = tools.sse_manager
        if sse is None:
            return error(503, "SSE not enabled")
        authorised = ["global"]
        for prefix, value in (("tenant", _tenant(user)), ("user", _user_id(user)), ("session", _session(user))):
            if value:
                authorised.append(f"{prefix}:{value}")
        requested = request.query_params.get("topics")
        topics = [t for t in requested.split(",") if t in authorised] if requested else authorised
        try:
            sub = sse.connect(topics, user_id=_user_id(user), tenant_id=_tenant(user), session_id=_session(user), last_event_id=request.headers.get("last-event-id"))
        except EventsError as e:
            return error(e.status, str(e))

        async def frames() -> AsyncIterator[str]:
            try:
                async for chunk in sub:
                    yield chunk
            finally:
                sub.close()

        return StreamingResponse(frames(), headers=dict(SSE_HEADERS), media_type="text/event-stream")

    async def webhook_route(request: Any) -> Any:
        provider = request.path_params["provider"]
        raw = await request.body()
        claimed: Optional[list[str]] = None
        try:
            result: Any = None
            find = getattr(webhook_store, "find_by_provider", None) if webhook_store is not None else None
            if find is not None:
                config = await find(provider)
                get = (config.get if isinstance(config, Mapping) else (lambda k, d=None: getattr(config, k, d))) if config else None
                secret = get("secret") if get else None
                if secret:
                    h = request.headers
                    ok, _code, message, status, keys = _native.events_webhook_check_inbound(
                        raw.decode("utf-8", "replace"),
                        str(secret),
                        h.get("x-webhook-signature") or h.get("x-hub-signature-256"),
                        h.get("x-webhook-timestamp"),
                        h.get("x-webhook-delivery"),
                        window,
                    )
                    if not ok:
                        return error(status, str(message))
                    scoped = [f"{provider}:{k}" for k in keys]
                    if not await replay.claim_all(scoped, replay_ttl):
                        return error(401, "Webhook delivery already received")
                    claimed = scoped
                if get and (get("jsScript") or get("js_script")):
                    if claimed:
                        await replay.release_all(claimed)
                    return error(501, "Inbound webhook scripts are not supported; handle this provider with on_webhook")
            if result is None and on_webhook is not None:
                result = await on_webhook(provider, json.loads(raw) if raw else None, request)
            if result:
                await tools.track(str(result["event"]), result.get("data"), user_id=result.get("userId"), tenant_id=result.get("tenantId"))
            return JSONResponse({"ok": True})
        except Exception:
            if claimed:
                try:
                    await replay.release_all(claimed)
                except Exception:
                    pass
            return error(400, "Webhook processing failed")

    routes = []
    if telemetry:
        routes.append(Route("/track/{event_name}", track, methods=["POST"]))
        if telemetry_store is not None and callable(getattr(telemetry_store, "query", None)):
            routes.append(Route("/telemetry", telemetry_query, methods=["GET"]))
    if notify:
        routes.append(Route("/notify/{target}", notify_route, methods=["POST"]))
    if stream:
        routes.append(Route("/stream", stream_route, methods=["GET"]))
    if webhook and (on_webhook is not None or (webhook_store is not None and callable(getattr(webhook_store, "find_by_provider", None)))):
        routes.append(Route("/webhook/{provider}", webhook_route, methods=["POST"]))
    return Router(routes=routes)
