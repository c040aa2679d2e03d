"""Cross-language proofs: HMAC signing and verification, shared nonce and refresh-token
state on one Redis, and credential propagation between peers in different languages.

- Node signs, Python and C verify; Python signs, Node and C verify (same wire bytes).
- On one shared Redis: a request signed by Python's httpx auth is accepted by the Node
  Express middleware, and one signed by Node's signed fetch is accepted by the Python ASGI
  middleware; a replay of either is rejected through the shared nonce keys.
- On one shared Redis: a refresh token issued by Node's TokenManager is rotated by
  Python's, and Node then sees the original as reused (one rotation state for all).
- Credential propagation on the real RabbitMQ: a Python peer and a Node peer each apply what
  the other ensures, and each one's ACK completes the other's bookkeeping.

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


def test_refresh_rotation_state_is_shared_between_node_and_python(namespace):
    from authcore import jwt

    pair = json.loads(node("node_tokens.mjs", REDIS_URL, namespace, "pair"))
    py = jwt.TokenManager("https://auth.example.com", b"cross-language-signing-secret!!!", store=REDIS_URL,
                          key_prefix=namespace)
    assert py.verify_refresh_token(pair["refreshToken"])["valid"] is True
    rotated = py.refresh(pair["refreshToken"])
    assert rotated["familyId"] == pair["familyId"]
    # Node presents the original again: reuse, and the family (incl. Python's pair) is revoked.
    assert json.loads(node("node_tokens.mjs", REDIS_URL, namespace, "refresh", pair["refreshToken"])) == {
        "error": "REFRESH_TOKEN_REUSED", "status": 401}
    with pytest.raises(jwt.RefreshTokenRevokedError):
        py.refresh(rotated["refreshToken"])
    v = json.loads(node("node_tokens.mjs", REDIS_URL, namespace, "verify", rotated["refreshToken"]))
    assert v["valid"] is False and v["error"] == "REFRESH_TOKEN_REVOKED"


def test_propagation_between_python_and_node_over_rabbitmq(namespace):
    """Credential propagation (wire v1) between a Python peer (authcore.propagation) and a
    Node peer (@authcore/node-hmac-auth-core-propagation with a node-redis client) on the
    real RabbitMQ: each applies what the other ensures, and each one's ACK completes the
    other's bookkeeping (the ACKs carry the right secrets both ways)."""
    import asyncio

    from authcore import propagation as prop

    sfx = uuid.uuid4().hex[:8]
    py_name, node_name = f"py-{sfx}", f"node-{sfx}"
    secrets = {py_name: f"secret-of-{py_name}", node_name: f"secret-of-{node_name}"}
    node_ns, py_ns = f"{namespace}:node", f"{namespace}:py"
    r = redis_py.Redis.from_url(REDIS_URL)

    class Adapter:  # the POC contract, in memory (async methods)
        def __init__(self):
            self.plain, self.rows, self.fully = {}, {}, []

        async def upsert_credential_with_targets(self, i):
            self.plain[i.client_id] = (i.op, i.secret_plain, i.track)
            self.rows.update({(i.client_id, t): "pending" for t in i.targets})

        async def rotate_credential_secret(self, i):
            raise AssertionError("not used")

        async def fetch_pending_propagations(self):
            out = []
            for (cid, target), status in self.rows.items():
                if status == "pending":
                    op, plain, track = self.plain[cid]
                    out.append({"client_id": cid, "track": track, "op": op, "secret_plain": plain, "allowed_ips": None,
                                "expires_at": None,
                                "pending_targets": [{"target_amqp_queue": target, "propagation_secret": secrets[target]}]})
            return out

        async def fetch_source_propagation_secret(self, sender):
            return secrets.get(sender)

        async def mark_target_sent(self, i):
            self.rows[(i.client_id, i.target_amqp_queue)] = "sent"

        async def mark_target_success(self, i):
            self.rows[(i.client_id, i.target_amqp_queue)] = "success"

        async def mark_target_error(self, i):
            self.rows[(i.client_id, i.target_amqp_queue)] = "error"

        async def mark_credential_fully_propagated(self, i):
            self.fully.append((i.client_id, i.final_status))

    async def wait(what, cond, timeout=15.0):
        deadline = time.time() + timeout
        while not cond():
            assert time.time() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.05)

    async def flow():
        node_proc = await asyncio.create_subprocess_exec(
            "node", str(HERE / "node_propagation.mjs"), REDIS_URL, node_ns, node_name, secrets[node_name],
            "pepper-of-node", json.dumps(secrets), cwd=ROOT, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        events = []

        async def read():
            async for line in node_proc.stdout:
                events.append(json.loads(line))

        reader = asyncio.create_task(read())
        py_auth = h.HmacHttpAuth(redis_url=REDIS_URL, namespace=py_ns, secret_token="pepper-of-py")
        adapter = Adapter()
        p = await prop.create_propagator(amqp_host="127.0.0.1", amqp_port=5672, amqp_user="guest",
                                         amqp_password="guest", amqp_protocol="amqp", amqp_queue=py_name,
                                         propagation_secret=secrets[py_name], redis="memory://",
                                         hmac_http_auth=py_auth, management=adapter)
        try:
            await wait("the Node peer", lambda: {"ready": True} in events)
            # Python -> Node: Node applies the hash Python computed; Node's ACK completes Python.
            await p.ensure("from-py", "plain-py", [node_name])
            assert (await p.sync()).targets_published == 1
            await wait("Node's ACK", lambda: adapter.fully == [("from-py", "success")])
            stored = json.loads(r.hget(f"{node_ns}:clients", "from-py"))
            assert stored["secretHash"] == h.hash_client_secret("plain-py", "pepper-of-py")
            # Node -> Python: Python applies the hash Node computed; Python's ACK completes Node.
            cmd = {"ensure": {"clientId": "from-node", "secret": "plain-node", "targets": [py_name]}}
            node_proc.stdin.write((json.dumps(cmd) + "\n").encode())
            await node_proc.stdin.drain()
            await wait("Node's sync", lambda: any("synced" in e for e in events))
            await wait("Python's ACK", lambda: {"fully": ["from-node", "success"]} in events)
            assert py_auth.clients.get_secret_hash("from-node") == h.hash_client_secret("plain-node", "pepper-of-node")
            # Node's own ack store (node-redis client object) kept the original layout.
            assert r.hget(f"propagation:client-results:from-node", py_name) is None  # cleared on completion
        finally:
            await p.close()
            node_proc.stdin.close()
            assert await asyncio.wait_for(node_proc.wait(), 15) == 0
            await reader
            for q in (py_name, node_name):
                subprocess.run(["rabbitmqctl", "-q", "-p", prop.DEFAULT_AMQP_VHOST, "delete_queue",
                                prop.build_queue_name(q)], capture_output=True, timeout=30)
            for pattern in ("propagation:*from-node*", "propagation:*from-py*"):
                for k in r.scan_iter(pattern):
                    r.delete(k)

    asyncio.run(flow())
