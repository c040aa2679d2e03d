"""authcore demo: one request, three languages, the embedded defaults (no server).

Python signs a request and Node and C verify it; Node signs one and Python and C verify
it; a tampered body and a replay are rejected everywhere with the original's error codes.
Run by `make demo` (scripts/demo.sh builds everything first).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import authcore.hmac as h
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


if __name__ == "__main__":
    main()
