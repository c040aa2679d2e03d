"""The framework integrations (FastAPI dependency, Django middleware, Flask extension), each
served by its real server on 127.0.0.1 and called over real HTTP with the project's signer
(``HmacRequestsAuth``): accepted, tampered, replayed, oversized and unsigned requests get
the original's JSON and status. Then the core's metrics are scraped over HTTP from a
``prometheus_client`` endpoint and parsed with ``prometheus_client.parser``: the verify
counters moved by exactly what the requests did."""

import socket
import sys
import threading
import time
import types
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests

import authcore.hmac as h
from authcore.http_clients import HmacRequestsAuth

LIMIT = 1024
BODY = b'{"order":42,"note":"h\xc3\xa9"}'
INTERNAL = {"error": "INTERNAL_ERROR", "message": "Internal auth error"}


@pytest.fixture
def auth(store, ns):
    a = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    a.clients.set_secret("app_a", "secret_a")
    return a


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def _serve_wsgi(app):
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", lambda: (server.shutdown(), server.server_close())


def _signed(method, url, body=b""):
    prepared = requests.Request(method, url, data=body or None).prepare()
    return HmacRequestsAuth("app_a", "secret_a")(prepared)


def check_framework(base: str) -> None:
    """The four cases every integration must answer like the original (+ unsigned)."""
    s = requests.Session()
    url = f"{base}/secure/orders?b=2&a=1"
    # accepted: the app sees the verified client and the exact body
    r = s.send(_signed("POST", url, BODY), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"caller": "app_a", "body": BODY.decode()}
    # replayed: the same signed request again
    once = _signed("POST", url, BODY)
    assert s.send(once, timeout=10).status_code == 200
    r = s.send(once, timeout=10)
    assert (r.status_code, r.json()) == (401, {"error": "REPLAYED_NONCE", "message": "Nonce already used"})
    assert r.headers["content-type"].startswith("application/json")
    # tampered: one byte of the body changed after signing
    t = _signed("POST", url, BODY)
    t.body = BODY.replace(b"42", b"43")
    r = s.send(t, timeout=10)
    assert (r.status_code, r.json()) == (401, {"error": "BAD_SIGNATURE", "message": "Invalid HMAC signature"})
    # oversized: refused before hashing, answered like any non-auth failure
    big = b"x" * (LIMIT + 1)
    r = s.send(_signed("POST", url, big), timeout=10)
    assert (r.status_code, r.json()) == (500, INTERNAL)
    # at the limit: accepted
    r = s.send(_signed("POST", url, b"y" * LIMIT), timeout=10)
    assert r.status_code == 200, r.text
    # unsigned
    r = s.get(f"{base}/secure/x", timeout=10)
    assert (r.status_code, r.json()) == (401, {"error": "MISSING_CLIENT_ID", "message": "Missing header x-client-id"})
    # a GET without a body, signed over "" (query included)
    r = s.send(_signed("GET", f"{base}/secure/list?page=2"), timeout=10)
    assert (r.status_code, r.json()["caller"]) == (200, "app_a")


# --------------------------------------------------------------------------- FastAPI


def test_fastapi_dependency_over_uvicorn(auth):
    import uvicorn
    from fastapi import Depends, FastAPI, Request

    from authcore.integrations.fastapi import HmacAuth

    hmac_auth = HmacAuth(auth, max_body_bytes=LIMIT)
    app = FastAPI()
    hmac_auth.install(app)

    @app.api_route("/secure/{rest:path}", methods=["GET", "POST"])
    async def secure(request: Request, verified=Depends(hmac_auth)):
        assert request.state.hmac_auth is verified
        return {"caller": verified.client_id, "body": (await request.body()).decode()}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        check_framework(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# --------------------------------------------------------------------------- Django


def _django_app(auth):
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="test-only",
            ALLOWED_HOSTS=["127.0.0.1"],
            USE_TZ=True,
            MIDDLEWARE=["authcore.integrations.django.HmacAuthMiddleware"],
            ROOT_URLCONF=None,
        )
        django.setup()
    from django.http import JsonResponse
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    @csrf_exempt
    def secure(request, rest):
        return JsonResponse({"caller": request.hmac_auth.client_id, "body": request.body.decode()})

    def public(request):
        return JsonResponse({"public": True})

    urls = types.ModuleType(f"authcore_test_urls_{id(auth)}")
    urls.urlpatterns = [path("secure/<path:rest>", secure), path("public", public)]
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__
    settings.AUTHCORE_HMAC = {"AUTH": auth, "MAX_BODY_BYTES": LIMIT, "PATH_PREFIXES": ["/secure/"]}
    from django.core.handlers.wsgi import WSGIHandler

    return WSGIHandler()


def test_django_middleware_over_wsgi_server(auth):
    base, stop = _serve_wsgi(_django_app(auth))
    try:
        check_framework(base)
        # Paths outside PATH_PREFIXES are not checked.
        assert requests.get(f"{base}/public", timeout=10).json() == {"public": True}
    finally:
        stop()


# --------------------------------------------------------------------------- Flask


def test_flask_extension_over_werkzeug(auth):
    from flask import Flask, g, request
    from werkzeug.serving import make_server as werkzeug_server

    from authcore.integrations.flask import EXTENSION_KEY, HmacAuth

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    hmac_auth = HmacAuth()
    hmac_auth.init_app(app, auth)
    assert app.extensions[EXTENSION_KEY].max_body_bytes == LIMIT

    @app.route("/secure/<path:rest>", methods=["GET", "POST"])
    @hmac_auth.required
    def secure(rest):
        return {"caller": g.hmac_auth.client_id, "body": request.get_data().decode()}

    @app.route("/public")
    def public():
        return {"public": "hmac_auth" not in g}

    server = werkzeug_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        check_framework(base)
        assert requests.get(f"{base}/public", timeout=10).json() == {"public": True}
    finally:
        server.shutdown()
        server.server_close()


def test_flask_extension_protect_all(auth):
    from flask import Flask, g

    from authcore.integrations.flask import HmacAuth

    app = Flask(__name__)
    HmacAuth(app, auth, protect_all=True, max_body_bytes=LIMIT)

    @app.route("/secure/<path:rest>", methods=["GET", "POST"])
    def secure(rest):
        from flask import request

        return {"caller": g.hmac_auth.client_id, "body": request.get_data().decode()}

    base, stop = _serve_wsgi(app)
    try:
        check_framework(base)
    finally:
        stop()


# --------------------------------------------------------------------------- metrics


def _scrape(url):
    from prometheus_client.parser import text_string_to_metric_families

    r = requests.get(url, timeout=10)
    assert r.status_code == 200
    out = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_endpoint_counts_what_the_requests_did(auth):
    from prometheus_client import CollectorRegistry, make_wsgi_app

    from authcore import metrics
    from authcore.integrations.flask import HmacAuth

    registry = CollectorRegistry()
    metrics.register(registry)
    metrics_base, stop_metrics = _serve_wsgi(make_wsgi_app(registry))

    from flask import Flask, g

    app = Flask(__name__)
    HmacAuth(app, auth, protect_all=True, max_body_bytes=LIMIT)

    @app.route("/secure/<path:rest>", methods=["GET", "POST"])
    def secure(rest):
        return {"caller": g.hmac_auth.client_id}

    base, stop = _serve_wsgi(app)
    try:
        before = _scrape(f"{metrics_base}/metrics")
        s = requests.Session()
        url = f"{base}/secure/m"
        for _ in range(3):
            assert s.send(_signed("POST", url, BODY), timeout=10).status_code == 200
        once = _signed("POST", url, BODY)
        assert s.send(once, timeout=10).status_code == 200
        assert s.send(once, timeout=10).status_code == 401
        t = _signed("POST", url, BODY)
        t.body = BODY.replace(b"42", b"43")
        assert s.send(t, timeout=10).status_code == 401
        assert s.get(url, timeout=10).status_code == 401
        after = _scrape(f"{metrics_base}/metrics")
    finally:
        stop()
        stop_metrics()

    def d(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0)

    assert d("authcore_verify_total", outcome="OK") == 4
    assert d("authcore_verify_total", outcome="REPLAYED_NONCE") == 1
    assert d("authcore_verify_total", outcome="BAD_SIGNATURE") == 1
    assert d("authcore_verify_total", outcome="MISSING_CLIENT_ID") == 1
    assert d("authcore_verify_total", outcome="TIMESTAMP_SKEW") == 0
    assert d("authcore_verify_duration_seconds_count") == 7
    assert d("authcore_verify_duration_seconds_bucket", le="+Inf") == 7
    assert after[("authcore_sse_subscribers", ())] >= 0
    # Every family of the core is exposed with its type.
    from prometheus_client.parser import text_string_to_metric_families

    types_ = {f.name: f.type for f in text_string_to_metric_families(metrics.text())}
    assert types_["authcore_verify"] == "counter"
    assert types_["authcore_verify_duration_seconds"] == "histogram"
    assert types_["authcore_kdf_queue_depth"] == "gauge"
    assert len(types_) == 16


def test_metrics_endpoint_counts_propagation_tokens_and_sse_drops():
    """The propagation, refresh-token and SSE families, scraped over HTTP like the verify
    family above: an in-process mesh propagates two credentials (published, applied, ACKed),
    a TokenManager rotates a refresh token and then sees the old one again (reuse), and a
    broadcast reaches one healthy stream, one that raises and one too slow to keep up."""
    import asyncio
    import uuid

    from prometheus_client import CollectorRegistry, make_wsgi_app
    from test_propagation import AsyncManagement, wait_for

    import authcore.propagation as p
    from authcore import jwt, metrics
    from authcore import realtime as rt

    registry = CollectorRegistry()
    metrics.register(registry)
    metrics_base, stop_metrics = _serve_wsgi(make_wsgi_app(registry))
    try:
        before = _scrape(f"{metrics_base}/metrics")

        mesh = f"metrics-{uuid.uuid4().hex[:8]}"
        common = dict(amqp_host=mesh, amqp_port=1, amqp_user="-", amqp_password="-", amqp_protocol="memory", redis="memory://")
        auth_a, auth_b = h.HmacHttpAuth(secret_token="pepper-a"), h.HmacHttpAuth(secret_token="pepper-b")
        adapter = AsyncManagement({"b": "secret-b"})

        async def propagate() -> int:
            a = await p.create_propagator(**common, amqp_queue="a", propagation_secret="secret-a", hmac_http_auth=auth_a, management=adapter)
            # b in full mode too: its ACKs carry a's secret (fetch_source_propagation_secret).
            b = await p.create_propagator(**common, amqp_queue="b", propagation_secret="secret-b", hmac_http_auth=auth_b,
                                          management=AsyncManagement({"a": "secret-a"}))
            try:
                await a.ensure("partner-1", "plain-1", ["b"])
                await a.ensure("partner-2", "plain-2", ["b"])
                published = (await a.sync()).targets_published

                async def acked() -> bool:
                    return all(adapter.status.get((c, "b")) == "success" for c in ("partner-1", "partner-2"))

                await wait_for("both ACKs", acked)
                return published
            finally:
                await a.close()
                await b.close()

        assert asyncio.run(propagate()) == 2

        tm = jwt.TokenManager("https://auth.example.com", b"shared-signing-secret-of-32-bytes!")
        first = tm.create_token_pair("u1", "d1", "read")
        tm.refresh(first["refreshToken"])
        with pytest.raises(jwt.RefreshTokenReusedError):
            tm.refresh(first["refreshToken"])

        class Broken:
            def send(self, data):
                raise RuntimeError("socket gone")

            def comment(self, text):
                pass

            def close(self):
                pass

            def on_close(self, fn):
                pass

        reg = rt.SubscriberRegistry(log=None)
        healthy, slow = rt.MemorySseStream(), rt.MemorySseStream(buffer_limit=64)
        for stream in (healthy, Broken(), slow):
            reg.subscribe(stream, channels=["metrics"])
        reg.broadcast("metrics", {"method": "tick", "params": {"pad": "x" * 100}})
        assert slow.closed and not healthy.closed
        live = reg.count
        after = _scrape(f"{metrics_base}/metrics")
    finally:
        stop_metrics()

    def d(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert d("authcore_propagation_published_total") == 2
    assert d("authcore_propagation_applied_total") == 2
    assert d("authcore_propagation_acked_total") == 2
    assert d("authcore_propagation_retrying_total") == 0
    assert d("authcore_propagation_parked_total") == 0
    assert d("authcore_propagation_apply_latency_seconds_count") == 2
    assert d("authcore_propagation_apply_latency_seconds_bucket", le="+Inf") == 2
    assert d("authcore_token_refresh_total") == 1
    assert d("authcore_token_reuse_detected_total") == 1
    # The frame reached the healthy stream and the slow one (which then closed itself for
    # the bytes it left unread); the raising stream's send and the slow close are drops.
    assert d("authcore_sse_frames_sent_total") == 2
    assert d("authcore_sse_frames_dropped_total") == 2
    assert d("authcore_sse_subscribers") == live
