"""authcore demo: one request, three languages, the embedded defaults (no server).

Python signs a request and Node and C verify it; Node signs one and Python and C verify
it; a tampered body and a replay are rejected everywhere with the original's error codes.
Then a credential propagates over the in-process mesh, and fuz_app's SSE guard closes an
admin's audit stream when the admin's session is revoked.
Run by `make demo` (scripts/demo.sh builds everything first).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import authcore.hmac as h
import authcore.propagation as prop
import authcore.realtime as rt
from authcore.errors import HmacAuthError

ROOT = Path(__file__).resolve().parents[1]
C_CLI = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "target" / "demo" / "authcore_cross"
CLIENT, SECRET = "orders-service", "demo-secret-7f3a"
RECORD = json.dumps({"secretHash": h.hash_client_secret(SECRET), "createdAt": 1, "updatedAt": 1,
                     "expiresAt": None, "allowedIps": []}, separators=(",", ":"))

BOLD, GREEN, RED, DIM, END = ("\033[1m", "\033[32m", "\033[31m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("",) * 5


def show(label: str, ok: bool, detail: str) -> None:
    mark = f"{GREEN}accepted{END}" if ok else f"{RED}rejected{END}"
    print(f"    {label:<8} {mark}  {DIM}{detail}{END}")


def node(script: str, payload: dict) -> dict:
    out = subprocess.run(["node", str(ROOT / "ffi-tests" / "cross" / script), json.dumps(payload)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit(f"node failed: {out.stderr}")
    return json.loads(out.stdout)


def verify_c(req: dict) -> tuple[bool, str]:
    hd = req["headers"]
    out = subprocess.run([str(C_CLI), "verify", req["method"], req["url"], hd["x-client-id"], hd["x-signature"],
                          hd["x-timestamp"], hd["x-nonce"], hd["x-timestamp"], RECORD, "-"],
                         input=req["body"], capture_output=True, text=True, timeout=30)
    return out.returncode == 0, out.stdout.strip()


def verify_node(req: dict) -> tuple[bool, str]:
    r = node("node_verify.mjs", {**req, "clientId": CLIENT, "secret": SECRET})
    return ("ok" in r), (f"clientId={r['ok']['clientId']}" if "ok" in r else f"{r['error']} {r['status']}")


def verify_python(auth: h.HmacHttpAuth, req: dict) -> tuple[bool, str]:
    try:
        v = auth.verify(req["method"], req["url"], req["headers"], req["body"].encode())
        return True, f"clientId={v.client_id}"
    except HmacAuthError as e:
        return False, f"{e.code} {e.status} {e}"


def print_request(who: str, req: dict) -> None:
    print(f"\n{BOLD}{who} signs{END} {req['method']} {req['url']}")
    print(f"    body          {req['body']}")
    for k in ("x-client-id", "x-timestamp", "x-nonce", "x-signature"):
        print(f"    {k:<13} {req['headers'][k]}")


def main() -> None:
    print(f"{BOLD}authcore demo{END}: wire v1 of @naskot/node-hmac-auth-core, embedded in-memory stores")
    print(f"client {CLIENT!r}, stored secretHash {h.hash_client_secret(SECRET)[:16]}… (SHA-256 of the secret)")
    py_auth = h.HmacHttpAuth()  # embedded memory store
    py_auth.clients.set_secret(CLIENT, SECRET)

    # 1. Python signs; Node and C verify.
    body = json.dumps({"order": 1042, "total": "19.90", "currency": "EUR"}, separators=(",", ":"))
    url = "/v1/orders?source=demo"
    req = {"method": "POST", "url": url, "body": body,
           "headers": h.build_signed_headers("POST", url, body.encode(), CLIENT, SECRET)}
    print_request("Python (authcore.hmac.build_signed_headers)", req)
    show("Node", *verify_node(req))
    show("C", *verify_c(req))

    # 2. Node signs; Python and C verify.
    signed = node("node_sign.mjs", {"method": "PUT", "url": "https://api.example.com/v1/orders/1042?x=a b",
                                    "body": '{"status":"shipped","note":"é✓"}', "clientId": CLIENT, "secret": SECRET})
    print_request("Node (@authcore/node-hmac-auth-core buildHttpSignedHeaders)", signed)
    show("Python", *verify_python(py_auth, signed))
    show("C", *verify_c(signed))

    # 3. Tampering and replay.
    tampered = {**signed, "body": signed["body"].replace("shipped", "refunded")}
    print(f"\n{BOLD}Same headers, tampered body{END} {tampered['body']}")
    show("Python", *verify_python(py_auth, tampered))
    show("Node", *verify_node(tampered))
    show("C", *verify_c(tampered))
    print(f"\n{BOLD}Replay of the Node request{END} (Python already consumed its nonce)")
    show("Python", *verify_python(py_auth, signed))


class DemoAdapter:
    """The management adapter of a full-mode peer (the app's SQL tables, here in memory)."""

    def __init__(self, directory: dict) -> None:
        self.directory, self.plain, self.rows, self.log = directory, {}, {}, []

    async def upsert_credential_with_targets(self, i):
        self.plain[i.client_id] = (i.op, i.secret_plain, i.track)
        self.rows.update({(i.client_id, t): "pending" for t in i.targets})

    async def rotate_credential_secret(self, i):
        self.plain[i.client_id] = ("credential.update", i.secret_plain, i.track)
        self.rows.update({k: "pending" for k in self.rows if k[0] == i.client_id})

    async def fetch_pending_propagations(self):
        out = {}
        for (cid, target), status in self.rows.items():
            if status == "pending":
                op, plain, track = self.plain[cid]
                p = out.setdefault(cid, {"client_id": cid, "track": track, "op": op, "secret_plain": plain,
                                         "allowed_ips": None, "expires_at": None, "pending_targets": []})
                p["pending_targets"].append({"target_amqp_queue": target, "propagation_secret": self.directory[target]})
        return list(out.values())

    async def fetch_source_propagation_secret(self, sender):
        return self.directory.get(sender)

    async def mark_target_sent(self, i):
        self.rows[(i.client_id, i.target_amqp_queue)] = "sent"

    async def mark_target_success(self, i):
        self.rows[(i.client_id, i.target_amqp_queue)] = "success"
        self.log.append(f"{i.target_amqp_queue} applied {i.client_id}")

    async def mark_target_error(self, i):
        self.rows[(i.client_id, i.target_amqp_queue)] = "error"

    async def mark_credential_fully_propagated(self, i):
        op, _, track = self.plain[i.client_id]
        self.plain[i.client_id] = (op, None, track)  # the plain secret is cleared
        self.log.append(f"{i.client_id} fully propagated: {i.final_status}")


async def propagation_demo() -> None:
    """4. Credential propagation (wire v1 of @naskot/node-hmac-auth-core-propagation) on the
    in-process mesh: an authority ensures a credential; two services receive its hash."""
    print(f"\n{BOLD}Credential propagation{END} (in-process mesh; RabbitMQ with amqp_protocol=\"amqp\")")
    mesh = dict(amqp_host="demo-mesh", amqp_port=1, amqp_user="-", amqp_password="-", amqp_protocol="memory",
                redis="memory://")
    secrets = {"authority": "secret-of-authority", "orders": "secret-of-orders", "billing": "secret-of-billing"}
    adapter = DemoAdapter(secrets)
    auths = {name: h.HmacHttpAuth(secret_token=f"pepper-of-{name}") for name in secrets}
    peers = [await prop.create_propagator(**mesh, amqp_queue=name, propagation_secret=secret,
                                          hmac_http_auth=auths[name],
                                          management=adapter if name == "authority" else None)
             for name, secret in secrets.items()]
    try:
        authority = peers[0]
        r = await authority.ensure("partner-api", "partner-plain-secret", ["orders", "billing"])
        print(f"    ensure   {r.op} on the authority (applied there at once)")
        s = await authority.sync()
        print(f"    sync     {s.targets_published} events published, {s.targets_retrying} retrying")
        for _ in range(200):
            got = [await auths[n].clients.get_secret_hash_async("partner-api") for n in ("orders", "billing")]
            if all(got):
                break
            await asyncio.sleep(0.01)
        for name in secrets:
            hash_ = await auths[name].clients.get_secret_hash_async("partner-api")
            show(name, bool(hash_), f"secretHash {hash_[:16]}… (computed once, shipped as is)" if hash_ else "missing")
        signed = h.build_signed_headers("GET", "/v1/invoices", b"", "partner-api", "partner-plain-secret",
                                        hash_token="pepper-of-authority")
        req = {"method": "GET", "url": "/v1/invoices", "body": "", "headers": signed}
        show("billing", *verify_python(auths["billing"], req))
    finally:
        for p in peers:
            await p.close()


async def realtime_demo() -> None:
    """5. fuz_app's realtime SSE auth guard: an admin's audit stream receives audit rows as
    server-sent events, and revoking that admin's session closes the stream at once."""
    print(f"\n{BOLD}Realtime SSE auth guard{END} (fuz_app's audit-log stream, exact SSE bytes)")
    audit_sse = rt.create_audit_log_sse(log=None)
    session = rt.hash_session_token("admin-session-token")
    stream = rt.MemorySseStream()
    unsubscribe = audit_sse.subscribe(stream, channels=[rt.AUDIT_LOG_CHANNEL], scope=session,
                                      groups=["acct-admin"])
    stream.on_close(unsubscribe)

    def row(seq: int, event_type: str, metadata: dict | None) -> dict:
        return {"id": f"00000000-0000-4000-8000-00000000000{seq}", "seq": seq, "event_type": event_type,
                "outcome": "success", "actor_id": None, "account_id": "acct-admin",
                "target_account_id": None, "target_actor_id": None, "ip": "127.0.0.1",
                "created_at": "2026-11-23T00:00:00.000Z", "metadata": metadata}

    audit_sse.on_audit_event(row(1, "login", None))
    frames = stream.take_body()
    show("stream", frames.startswith(rt.SSE_CONNECTED_COMMENT) and '"method":"login"' in frames,
         f"{len(frames)} bytes: {frames.splitlines()[2][:60]}…")
    closed = audit_sse.on_audit_event(row(2, "session_revoke", {"session_id": session}))
    show("revoke", stream.closed and audit_sse.registry.count == 0,
         f"session_revoke closed {closed} stream(s); the subscriber is gone")


if __name__ == "__main__":
    main()
    asyncio.run(propagation_demo())
    asyncio.run(realtime_demo())
