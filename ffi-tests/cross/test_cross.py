"""Cross-language proofs (issues 3 and 4).

- Node signs, Python and C verify; Python signs, Node and C verify (same wire bytes).
- On one shared Redis: a request signed by Python's httpx auth is accepted by the Node
  Express middleware, and one signed by Node's signed fetch is accepted by the Python ASGI
  middleware; a replay of either is rejected through the shared nonce keys.

Needs the Node addon, the Python extension and the C CLI built (scripts/test-all.sh runs
this after the per-language scripts).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis as redis_py
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import authcore.hmac as h

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
C_CLI = ROOT / "target" / "ffi-tests-c" / "authcore_cross"
REDIS_URL = os.environ.get("AUTHCORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def node(script: str, *args: str, **kw) -> str:
    out = subprocess.run(["node", str(HERE / script), *args], cwd=ROOT, capture_output=True, text=True, timeout=60, **kw)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def c_verify(req: dict, record: str, now: int) -> tuple[int, str]:
    assert C_CLI.exists(), f"{C_CLI} is built by scripts/c.sh"
    hd = req["headers"]
    out = subprocess.run(
        [str(C_CLI), "verify", req["method"], req["url"], hd["x-client-id"], hd["x-signature"], hd["x-timestamp"],
         hd["x-nonce"], str(now), record, "-"],
        input=req["body"], capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout.strip()


def record_for(secret: str) -> str:
    return json.dumps({"secretHash": h.hash_client_secret(secret), "createdAt": 1, "updatedAt": 1,
                       "expiresAt": None, "allowedIps": []}, separators=(",", ":"))


@pytest.fixture
def namespace():
    ns = f"authcore-cross:{uuid.uuid4().hex[:12]}"
    yield ns
    r = redis_py.Redis.from_url(REDIS_URL)
    for k in r.scan_iter(f"{ns}:*"):
        r.delete(k)


def test_node_signs_python_and_c_verify():
    req = {"method": "post", "url": "https://api.example.com/v1/orders?id=42", "body": '{"total":"9.99","é":"ü"}',
           "clientId": "cross-node", "secret": "cross_secret_node"}
    signed = json.loads(node("node_sign.mjs", json.dumps(req)))
    hd = signed["headers"]
    assert set(hd) >= {"x-client-id", "x-timestamp", "x-nonce", "x-signature"}
    # Python: the verifier over its embedded store.
    auth = h.HmacHttpAuth()
    auth.clients.set_secret("cross-node", "cross_secret_node")
    v = auth.verify(signed["method"], signed["url"], hd, signed["body"].encode())
    assert v.client_id == "cross-node" and v.nonce == hd["x-nonce"]
    # Python: the pure check agrees, and a tampered body fails.
    key = h.hash_client_secret("cross_secret_node")
    ts = float(hd["x-timestamp"])
    assert h.verify_request_signature("POST", signed["url"], ts, hd["x-nonce"], signed["body"], key, hd["x-signature"])
    assert not h.verify_request_signature("POST", signed["url"], ts, hd["x-nonce"], signed["body"] + " ", key, hd["x-signature"])
    # C: the sans-IO verifier.
    code, out = c_verify(signed, record_for("cross_secret_node"), int(ts))
    assert code == 0 and out.startswith("OK 200 clientId=cross-node"), out
    tampered = dict(signed, body=signed["body"].replace("9.99", "0.01"))
    code, out = c_verify(tampered, record_for("cross_secret_node"), int(ts))
    assert code == 1 and out.startswith("BAD_SIGNATURE 401"), out


def test_python_signs_node_and_c_verify():
    body = '{"event":"order.created","id":42}'
    headers = h.build_signed_headers("PUT", "/v1/orders/42?x=a b", body.encode(), "cross-py", "cross_secret_py")
    req = {"method": "PUT", "url": "/v1/orders/42?x=a b", "body": body, "clientId": "cross-py",
           "secret": "cross_secret_py", "headers": headers}
    assert json.loads(node("node_verify.mjs", json.dumps(req)))["ok"]["clientId"] == "cross-py"
    code, out = c_verify(req, record_for("cross_secret_py"), int(float(headers["x-timestamp"])))
    assert code == 0, out
    # Signed for another client secret: Node rejects with the original's code and status.
    forged = dict(req, headers=h.build_signed_headers("PUT", req["url"], body.encode(), "cross-py", "wrong"))
    assert json.loads(node("node_verify.mjs", json.dumps(forged))) == {"error": "BAD_SIGNATURE", "status": 401}


def test_httpx_signed_request_accepted_by_node_express(namespace):
    # The credential is written by Python; the Node server reads it from the same Redis.
    py_auth = h.HmacHttpAuth(redis_url=REDIS_URL, namespace=namespace)
    py_auth.clients.set_secret("py-client", "py_secret")
    with subprocess.Popen(["node", str(HERE / "node_server.mjs"), REDIS_URL, namespace], cwd=ROOT,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        _express_roundtrip(proc)


def _express_roundtrip(proc: subprocess.Popen) -> None:
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("PORT "), (line, proc.stderr.read() if proc.poll() is not None else "")
        url = f"http://127.0.0.1:{line.split()[1]}/secure/echo"
        with httpx.Client(auth=h.HmacHttpxAuth("py-client", "py_secret"), timeout=10) as client:
            r = client.post(url, json={"from": "python", "n": 1})
        assert r.status_code == 200, r.text
        assert r.json() == {"clientId": "py-client", "body": {"from": "python", "n": 1}}
        # Replaying the exact request is caught through the shared nonce keys.
        replay = httpx.post(url, headers={k: v for k, v in r.request.headers.items()}, content=r.request.content)
        assert replay.status_code == 401 and replay.json()["error"] == "REPLAYED_NONCE"
        # Unsigned: the original's error JSON.
        bare = httpx.post(url, json={})
        assert (bare.status_code, bare.json()) == (401, {"error": "MISSING_CLIENT_ID", "message": "Missing header x-client-id"})
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_node_signed_fetch_accepted_by_asgi(namespace):
    async def echo(request: Request):
        return JSONResponse({"clientId": request.state.hmac_auth.client_id, "body": await request.json()})

    auth = h.HmacHttpAuth(redis_url=REDIS_URL, namespace=namespace)
    app = auth.asgi_middleware(Starlette(routes=[Route("/secure/echo", echo, methods=["POST"])]))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 10
        while not server.started:
            assert time.time() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        out = json.loads(node("node_fetch.mjs", REDIS_URL, namespace, f"http://127.0.0.1:{port}/secure/echo",
                              "node-client", "node_secret"))
        assert out["first"] == {"status": 200, "body": {"clientId": "node-client", "body": {"hello": "from node", "n": 1}}}
        assert out["replay"]["status"] == 401 and out["replay"]["body"]["error"] == "REPLAYED_NONCE"
        # The record Node wrote is the original's exact JSON.
        raw = redis_py.Redis.from_url(REDIS_URL).hget(f"{namespace}:clients", "node-client").decode()
        rec = json.loads(raw)
        assert list(rec) == ["secretHash", "createdAt", "updatedAt", "expiresAt", "allowedIps"]
        assert rec["secretHash"] == h.hash_client_secret("node_secret")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
