"""ASGI middleware with real Starlette/FastAPI apps (TestClient), WSGI middleware with a
real Flask app (test client), and the outbound signers (httpx, requests) verified by our
verifier, including over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

import flask
import httpx
import pytest
import requests
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

import authcore.hmac as h
from authcore.http_clients import HmacHttpxAuth, HmacRequestsAuth
from authcore.middleware import HmacAsgiMiddleware, HmacWsgiMiddleware


@pytest.fixture
def auth(store, ns):
    a = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    a.clients.set_secret("app_a", "secret_a")
    return a


def starlette_app(auth, **options):
    async def secure(request):
        body = await request.body()
        v = request.state.hmac_auth
        return JSONResponse({"clientId": v.client_id, "nonce": v.nonce, "body": body.decode("utf-8", "replace")})

    async def boom(request):
        raise RuntimeError("app failure")

    inner = Starlette(routes=[Route("/secure/{rest:path}", secure, methods=["GET", "POST", "PUT"]), Route("/boom", boom)])
    return HmacAsgiMiddleware(inner, auth=auth, **options)


def sign(method, url, body=b"", nonce=None, secret="secret_a", client_id="app_a", **kw):
    return h.build_signed_headers(method, url, body, client_id, secret, nonce=nonce, **kw)


def test_starlette_signed_request_passes_and_body_is_replayed(auth):
    client = TestClient(starlette_app(auth))
    body = b'{"ok":true}'
    for i in range(3):
        headers = sign("POST", "/secure/post?x=1", body, nonce=f"nonce_mw_{i}")
        r = client.post("/secure/post?x=1", content=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"clientId": "app_a", "nonce": f"nonce_mw_{i}", "body": '{"ok":true}'}


def test_starlette_errors_use_the_original_json(auth):
    client = TestClient(starlette_app(auth), raise_server_exceptions=False)
    r = client.get("/secure/x")
    assert r.status_code == 401
    assert r.json() == {"error": "MISSING_CLIENT_ID", "message": "Missing header x-client-id"}
    assert r.headers["content-type"].startswith("application/json")
    headers = sign("GET", "/secure/x", nonce="replay")
    assert client.get("/secure/x", headers=headers).status_code == 200
    r = client.get("/secure/x", headers=headers)
    assert (r.status_code, r.json()["error"]) == (401, "REPLAYED_NONCE")
    tampered = sign("POST", "/secure/x", b"a", nonce="tamper")
    r = client.post("/secure/x", content=b"b", headers=tampered)
    assert (r.status_code, r.json()) == (401, {"error": "BAD_SIGNATURE", "message": "Invalid HMAC signature"})
    # Path and query are part of the signature.
    moved = sign("GET", "/secure/x?a=1", nonce="moved")
    assert client.get("/secure/x?a=2", headers=moved).json()["error"] == "BAD_SIGNATURE"


def test_starlette_ip_allow_list_uses_forwarded_for(auth):
    auth.clients.create("locked", plain_secret="s", allowed_ips=["10.0.0.0/8"])
    client = TestClient(starlette_app(auth))  # the TestClient's peer is "testclient", not an IP
    ok = dict(sign("GET", "/secure/ip", nonce="ip1", secret="s", client_id="locked"), **{"x-forwarded-for": "10.1.2.3"})
    assert client.get("/secure/ip", headers=ok).status_code == 200
    denied = dict(sign("GET", "/secure/ip", nonce="ip2", secret="s", client_id="locked"), **{"x-forwarded-for": "8.8.8.8"})
    r = client.get("/secure/ip", headers=denied)
    assert (r.status_code, r.json()["error"]) == (403, "CLIENT_IP_NOT_ALLOWED")
    missing = sign("GET", "/secure/ip", nonce="ip3", secret="s", client_id="locked")
    r = client.get("/secure/ip", headers=missing)
    assert (r.status_code, r.json()["error"]) == (403, "MISSING_CLIENT_IP")


def test_app_errors_are_not_auth_errors(auth):
    client = TestClient(starlette_app(auth), raise_server_exceptions=False)
    r = client.get("/boom", headers=sign("GET", "/boom", nonce="boom"))
    assert r.status_code == 500
    assert "INTERNAL_ERROR" not in r.text  # the app's own 500, not "Internal auth error"
    with pytest.raises(RuntimeError, match="app failure"):
        TestClient(starlette_app(auth)).get("/boom", headers=sign("GET", "/boom", nonce="boom2"))


def test_internal_failures_answer_500_internal_error(store, ns):
    store.set_ex(f"{ns}:clients", "not a hash", 60)  # HGET → WRONGTYPE
    auth = h.HmacHttpAuth(store=store, namespace=ns)
    client = TestClient(starlette_app(auth))
    r = client.get("/secure/x", headers=sign("GET", "/secure/x", nonce="wt"))
    assert (r.status_code, r.json()) == (500, {"error": "INTERNAL_ERROR", "message": "Internal auth error"})


def test_body_limit_and_on_error_hook(auth):
    seen = []

    async def on_error(err, scope, receive, send):
        seen.append(err.code)
        await PlainTextResponse(f"custom {err.code}", status_code=418)(scope, receive, send)

    client = TestClient(starlette_app(auth, max_body_bytes=10, on_error=on_error))
    r = client.post("/secure/x", content=b"x" * 11, headers=sign("POST", "/secure/x", b"x" * 11, nonce="big"))
    assert (r.status_code, r.text) == (418, "custom INTERNAL_ERROR")
    r = client.get("/secure/x")
    assert (r.status_code, r.text) == (418, "custom MISSING_CLIENT_ID")
    assert seen == ["INTERNAL_ERROR", "MISSING_CLIENT_ID"]


def test_mounted_app_signs_the_full_path(auth):
    inner = starlette_app(auth)
    app = Starlette(routes=[Mount("/api/admin", app=inner)])
    client = TestClient(app)
    headers = sign("GET", "/api/admin/secure/list?page=2", nonce="mount")
    r = client.get("/api/admin/secure/list?page=2", headers=headers)
    assert r.status_code == 200, r.text


def test_on_bad_signature_from_middleware(auth):
    events = []
    client = TestClient(starlette_app(auth, on_bad_signature=events.append))
    headers = sign("GET", "/secure/x", nonce="cb", secret="wrong")
    assert client.get("/secure/x", headers=headers).status_code == 401
    assert len(events) == 1 and events[0].path == "/secure/x" and events[0].metadata["ip"] == "testclient"


def test_fastapi(auth):
    api = FastAPI()

    @api.post("/items")
    async def items(request: Request):
        payload = await request.json()
        return {"by": request.state.hmac_auth.client_id, "payload": payload}

    api.add_middleware(HmacAsgiMiddleware, auth=auth)
    client = TestClient(api)
    body = json.dumps({"name": "é", "n": 1}).encode()
    r = client.post("/items", content=body, headers=sign("POST", "/items", body, nonce="fa"))
    assert r.status_code == 200, r.text
    assert r.json() == {"by": "app_a", "payload": {"name": "é", "n": 1}}
    # httpx auth through the TestClient (an httpx.Client).
    r = client.post("/items", json={"z": 1, "a": [1, 2]}, auth=auth.httpx_auth("app_a", "secret_a"))
    assert r.status_code == 200, r.text
    assert r.json()["payload"] == {"z": 1, "a": [1, 2]}
    r = client.post("/items", json={"z": 1}, auth=HmacHttpxAuth("app_a", "wrong"))
    assert (r.status_code, r.json()["error"]) == (401, "BAD_SIGNATURE")


def flask_app(auth, **options):
    app = flask.Flask("authcore_test")

    @app.route("/secure/<path:rest>", methods=["GET", "POST"])
    def secure(rest):
        v = flask.request.environ["hmac_auth"]
        return {"clientId": v.client_id, "nonce": v.nonce, "body": flask.request.get_data(as_text=True), "args": dict(flask.request.args)}

    app.wsgi_app = HmacWsgiMiddleware(app.wsgi_app, auth=auth, **options)
    return app


def test_flask(auth):
    client = flask_app(auth).test_client()
    body = b'{"ok":true}'
    r = client.post("/secure/post?x=1", data=body, headers=sign("POST", "/secure/post?x=1", body, nonce="fl1"))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {"clientId": "app_a", "nonce": "fl1", "body": '{"ok":true}', "args": {"x": "1"}}
    r = client.get("/secure/x")
    assert (r.status_code, r.get_json()) == (401, {"error": "MISSING_CLIENT_ID", "message": "Missing header x-client-id"})
    assert r.status == "401 Unauthorized"
    headers = sign("GET", "/secure/a b?q=é", nonce="fl2")
    assert client.get("/secure/a b?q=é", headers=headers).status_code == 200
    r = client.get("/secure/a b?q=é", headers=headers)
    assert r.get_json()["error"] == "REPLAYED_NONCE"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def live_server(auth):
    app = flask_app(auth)
    server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_requests_and_httpx_over_real_http(auth, live_server):
    signer = HmacRequestsAuth("app_a", "secret_a")
    r = requests.post(f"{live_server}/secure/r?b=2&a=1", json={"z": "é", "a": 1}, auth=signer, timeout=10)
    assert r.status_code == 200, r.text
    assert json.loads(r.json()["body"]) == {"z": "é", "a": 1}
    r = requests.post(f"{live_server}/secure/text", data="héllo", auth=signer, timeout=10)
    assert (r.status_code, r.json()["body"]) == (200, "héllo")
    r = requests.get(f"{live_server}/secure/a b/é", auth=auth.requests_auth("app_a", "secret_a"), timeout=10)
    assert r.status_code == 200, r.text
    with httpx.Client(auth=HmacHttpxAuth("app_a", h.hash_client_secret("secret_a"), secret_is_hashed=True)) as c:
        r = c.put(f"{live_server}/secure/put", content=b"\x00\xffraw")
        assert r.status_code in (200, 405)
        r = c.post(f"{live_server}/secure/post", content=b"\x00\xffraw")
        assert r.status_code == 200, r.text
        r = c.get(f"{live_server}/secure/get?q=1")
        assert r.status_code == 200
    r = requests.get(f"{live_server}/secure/x", auth=HmacRequestsAuth("app_a", "nope"), timeout=10)
    assert (r.status_code, r.json()["error"]) == (401, "BAD_SIGNATURE")
    with pytest.raises(h.HmacInputError):
        requests.post(f"{live_server}/secure/x", data=iter([b"a", b"b"]), auth=signer, timeout=10)


def test_signers_match_the_signed_fetch_vector():
    # The original sends JSON.stringify text; send the same compact bytes.
    request = httpx.Request("POST", "https://api.example.com/v1/ping", content=b'{"ok":true}')
    flow = HmacHttpxAuth("app_a", "secret_a", nonce="nonce_1", timestamp=1000).sync_auth_flow(request)
    signed_request = next(flow)
    assert signed_request.headers["x-signature"] == "2d05753ec145808095b935b492de665d9737c858df14b84757b9f62acbd72d49"
    assert signed_request.headers["x-timestamp"] == "1000"
    assert signed_request.headers["x-nonce"] == "nonce_1"
    assert signed_request.headers["x-client-id"] == "app_a"
    prepared = requests.Request("POST", "https://api.example.com/v1/ping", data=b'{"ok":true}').prepare()
    prepared = HmacRequestsAuth("app_a", "secret_a", nonce="nonce_1", timestamp=1000)(prepared)
    assert prepared.headers["x-signature"] == "2d05753ec145808095b935b492de665d9737c858df14b84757b9f62acbd72d49"
    fresh = HmacRequestsAuth("local_client", "local_secret")(requests.Request("GET", "https://x/y").prepare())
    assert fresh.headers["x-client-id"] == "local_client" and len(fresh.headers["x-nonce"]) == 32
    assert abs(int(fresh.headers["x-timestamp"]) - time.time() * 1000) < 60_000
