"""authcore.events: node-auth's SSE fan-out on the core engine from asyncio, the Starlette
endpoint (real uvicorn server, real HTTP client), the Redis distributor and the webhook policy
against a real local HTTP server."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from authcore import events

REDIS_URL = os.environ.get("AUTHCORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def frames(text: str) -> list[dict[str, Any]]:
    out = []
    for f in text.split("\n\n"):
        if f.startswith("id: "):
            i, e, d = f.split("\n")
            out.append({"id": i[4:], "event": e[7:], "json": d[6:], "data": json.loads(d[6:])})
    return out


async def take(sub: events.Subscription, n: int) -> str:
    """Read a subscription until it has given n frames or comments (bounded)."""
    text = ""
    while text.count("\n\n") < n:
        text += await asyncio.wait_for(sub.__anext__(), 5)
    return text


def test_frames_are_node_auths_bytes() -> None:
    async def go() -> None:
        m = events.SseManager(heartbeat_interval_ms=0)
        sub = m.connect(["global", "user:u1"], user_id="u1", tenant_id="t1")
        m.broadcast("global", {"id": "e1", "type": "identity.user.created", "data": {"a": 1}, "userId": "u1", "tenantId": "t1"})
        m.broadcast("user:u1", {"id": "e1", "type": "identity.user.created", "data": {"a": 1}})
        m.broadcast("user:u1", {"type": "alert", "data": "hi", "tenantId": "t1", "userId": "u1", "metadata": {"k": 1}})
        text = await take(sub, 2)
        f = frames(text)
        assert f[0]["event"] == "connected"
        assert list(f[0]["data"]) == ["id", "type", "timestamp", "topic", "rawData"]
        assert f[0]["data"]["rawData"] == {"connectionId": sub.connection_id, "topics": ["global", "user:u1"]}
        assert [x["event"] for x in f[1:]] == ["identity.user.created", "alert"], "dedupe: e1 once"
        assert f[1]["json"].startswith('{"id":"e1","timestamp":"')
        assert list(f[1]["data"]) == ["id", "timestamp", "topic", "type", "userId", "tenantId", "rawData"]
        assert list(f[2]["data"]) == ["id", "timestamp", "topic", "type", "tenantId", "userId", "metadata", "rawData"]
        assert f[2]["data"]["rawData"] == "hi"
        assert "retry:" not in text
        await m.aclose()

    run(go())


def test_injection_refused_and_tenant_isolation() -> None:
    async def go() -> None:
        m = events.SseManager(heartbeat_interval_ms=0)
        sub = m.connect(["tenant:acme"], tenant_id="acme")
        for bad in ["x\ndata: 1", "x\r", "a\r\nb"]:
            with pytest.raises(events.EventsError) as e:
                m.broadcast("tenant:acme", {"type": bad, "data": 1})
            assert e.value.code == "EVENTS_INVALID_FIELD" and e.value.status == 400
        m.broadcast("tenant:acme", {"type": "other", "data": 1, "tenantId": "other"})
        m.broadcast("tenant:acme", {"type": "mine", "data": 1, "tenantId": "acme"})
        text = await take(sub, 2)
        assert [f["event"] for f in frames(text)] == ["connected", "mine"]
        await m.aclose()

    run(go())


def test_heartbeat_limits_and_slow_consumer() -> None:
    async def go() -> None:
        m = events.SseManager(heartbeat_interval_ms=40, max_connections_per_user=1, max_queue_bytes=2048)
        sub = m.connect(["global"], user_id="u")
        with pytest.raises(events.EventsError) as e:
            m.connect(["global"], user_id="u")
        assert e.value.code == "EVENTS_TOO_MANY_FOR_USER" and e.value.status == 429
        text = await take(sub, 2)
        assert text.endswith(events.HEARTBEAT_FRAME)
        # A consumer that stops reading is disconnected once its queue passes the bound.
        slow = m.connect(["global"])
        for _ in range(20):
            m.broadcast("global", {"type": "t", "data": "x" * 200})
        chunks = [c async for c in slow]
        assert len(chunks) == 1  # only the connected frame: the queue was dropped
        assert m.connection_count == 1
        await m.aclose()

    run(go())


def test_replay_after_last_event_id() -> None:
    async def go() -> None:
        m = events.SseManager(heartbeat_interval_ms=0)
        for i in range(5):
            m.broadcast("global", {"id": f"e{i}", "type": "t", "data": i})
        sub = m.connect(["global"], last_event_id="e2")
        assert sub.replay_complete
        text = await take(sub, 2)
        assert [f["id"] for f in frames(text)][1:] == ["e3", "e4"]
        gap = m.connect(["global"], last_event_id="nope")
        assert not gap.replay_complete
        await m.aclose()

    run(go())


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # not the main thread
        pass


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def test_starlette_endpoint_over_real_http() -> None:
    async def go() -> None:
        manager = events.SseManager(heartbeat_interval_ms=0)

        async def authorize(request: Any) -> Optional[dict[str, Any]]:
            if request.headers.get("authorization") != "Bearer ok":
                return None
            return {"topics": ["global", "user:u1"], "user_id": "u1"}

        app = Starlette(routes=[Route("/stream", events.sse_endpoint(manager, authorize=authorize))])
        port = _free_port()
        server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                r = await client.get("/stream")
                assert r.status_code == 403
                async with client.stream("GET", "/stream?topics=user:u1,user:u2", headers={"authorization": "Bearer ok"}) as resp:
                    assert resp.status_code == 200
                    assert resp.headers["content-type"].startswith("text/event-stream")
                    assert resp.headers["x-accel-buffering"] == "no"
                    buf = ""
                    it = resp.aiter_text()
                    while "event: connected" not in buf:
                        buf += await asyncio.wait_for(it.__anext__(), 5)
                    assert json.loads(buf.split("data: ")[1].split("\n")[0])["rawData"]["topics"] == ["user:u1"]
                    manager.broadcast("user:u1", {"type": "hello", "data": {"n": 1}})
                    while "event: hello" not in buf:
                        buf += await asyncio.wait_for(it.__anext__(), 5)
                    assert frames(buf)[-1]["data"]["rawData"] == {"n": 1}
            for _ in range(100):
                if manager.connection_count == 0:
                    break
                await asyncio.sleep(0.02)
            assert manager.connection_count == 0, "client disconnect removes the subscriber"
        finally:
            server.should_exit = True
            await task
            await manager.aclose()

    run(go())


def test_redis_distributor_exactly_once_per_subscriber() -> None:
    async def go() -> None:
        channel = f"authcore-test-sse-{uuid.uuid4()}"
        d1 = await events.RedisDistributor.connect(REDIS_URL, channel)
        d2 = await events.RedisDistributor.connect(REDIS_URL, channel)
        a = events.SseManager(heartbeat_interval_ms=0, distributor=d1)
        b = events.SseManager(heartbeat_interval_ms=0, distributor=d2)
        sa = a.connect(["global", "user:u1"])
        sb = b.connect(["global", "user:u1"])
        # One "track": the same id on two topics, from each manager.
        for m, name in [(a, "from.a"), (b, "from.b")]:
            eid = str(uuid.uuid4())
            m.broadcast("global", {"id": eid, "type": name, "data": 1})
            m.broadcast("user:u1", {"id": eid, "type": name, "data": 1})
        for sub in (sa, sb):
            text = await take(sub, 3)
            assert sorted(f["event"] for f in frames(text)[1:]) == ["from.a", "from.b"]
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(sub.__aiter__().__anext__(), 0.3)
        assert d1.dropped == 0
        await a.aclose()
        await b.aclose()
        await d1.close()
        await d2.close()

    run(go())


class _Hook(BaseHTTPRequestHandler):
    hits: list[dict[str, Any]] = []
    statuses: list[int] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        _Hook.hits.append({"headers": dict(self.headers), "body": body})
        status = _Hook.statuses.pop(0) if _Hook.statuses else 200
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_policy_against_a_real_server() -> None:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
    event = {"event": "identity.user.created", "version": "1", "timestamp": "2026-01-01T00:00:00.000Z", "data": {"a": 1}, "metadata": {}}

    async def go() -> None:
        _Hook.hits.clear()
        _Hook.statuses[:] = [503, 500, 200]
        sender = events.WebhookSender(allow_internal_urls=True)
        out = await sender.deliver({"url": url, "secret": "k", "retryDelayMs": 5}, event)
        assert out["ok"] and out["attempts"] == 3
        assert len({h["headers"]["X-Webhook-Delivery"] for h in _Hook.hits}) == 1
        h = _Hook.hits[0]
        assert h["body"] == json.dumps(event, separators=(",", ":"))
        assert h["headers"]["X-Webhook-Signature"] == events.WebhookSender.sign(h["body"], "k")
        assert h["headers"]["X-Webhook-Event"] == "identity.user.created"
        _Hook.hits.clear()
        _Hook.statuses[:] = [404]
        out = await sender.deliver({"url": url, "retryDelayMs": 5}, event)
        assert (out["ok"], out["attempts"], out["status"]) == (False, 1, 404)
        with pytest.raises(events.EventsError) as e:
            await events.WebhookSender().deliver({"url": url}, event)
        assert e.value.code == "EVENTS_WEBHOOK_REFUSED"

    try:
        run(go())
    finally:
        srv.shutdown()
        srv.server_close()


def test_webhook_host_checked_at_connection_time() -> None:
    """DNS rebinding: the addresses the core checks are the ones the socket connects to.
    The resolver is injected (``WebhookSender(resolver=...)``) so a public name can answer
    127.0.0.1 without editing /etc/hosts."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    url = f"http://hooks.example.com:{port}/hook"
    event = {"event": "identity.user.created", "version": "1", "timestamp": "2026-01-01T00:00:00.000Z", "data": {"a": 1}, "metadata": {}}

    async def go() -> None:
        _Hook.hits.clear()
        _Hook.statuses[:] = []
        looked_up: list[str] = []

        async def to_local(host: str, _port: int) -> list[str]:
            looked_up.append(host)
            return ["127.0.0.1"]

        with pytest.raises(events.EventsError) as e:
            await events.WebhookSender(resolver=to_local).deliver({"url": url}, event)
        assert e.value.code == "EVENTS_WEBHOOK_REFUSED" and "127.0.0.1" in str(e.value)
        assert looked_up == ["hooks.example.com"]
        # Rebinding: the first answer is public (TEST-NET-1, unreachable), later ones are
        # loopback. The first attempt connects to the public answer it checked and fails;
        # the retry's answer is refused by the core before any connection.
        answers: list[str] = []

        async def rebinding(_host: str, _port: int) -> list[str]:
            answers.append("192.0.2.1" if not answers else "127.0.0.1")
            return [answers[-1]]

        with pytest.raises(events.EventsError) as e:
            await events.WebhookSender(resolver=rebinding, timeout_ms=300).deliver({"url": url, "maxRetries": 3, "retryDelayMs": 1}, event)
        assert e.value.code == "EVENTS_WEBHOOK_REFUSED"
        assert answers == ["192.0.2.1", "127.0.0.1"]

        async def zoned(_host: str, _port: int) -> list[str]:
            return ["fe80::1%lo"]

        with pytest.raises(events.EventsError) as e:
            await events.WebhookSender(resolver=zoned).deliver({"url": url}, event)
        assert e.value.code == "EVENTS_WEBHOOK_REFUSED"
        assert _Hook.hits == []
        # allow_internal_urls: the same name reaches the local server through the injected
        # answer, with the name as the Host header.
        out = await events.WebhookSender(resolver=to_local, allow_internal_urls=True).deliver({"url": url, "secret": "k"}, event)
        assert (out["ok"], out["attempts"], out["status"]) == (True, 1, 200)
        assert len(_Hook.hits) == 1
        assert _Hook.hits[0]["headers"]["Host"] == f"hooks.example.com:{port}"
        assert _Hook.hits[0]["headers"]["X-Webhook-Delivery"] == out["delivery_id"]

    try:
        run(go())
    finally:
        srv.shutdown()
        srv.server_close()
