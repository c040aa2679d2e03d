"""Exiting without closing anything: a process that leaves long-lived native objects
open (propagators on the in-process mesh and on RabbitMQ, realtime streams, the Redis
stores, a TokenManager and an AuthorizationServer on Redis) exits with 0, every time.

Each case runs in its own interpreter, ``RUNS`` times (a few at once), and leaves Rust
threads busy at exit: a propagator's consumer retrying an ACK whose management callback
can no longer reach its closed loop, awaitables completing on the tokio runtime for a
loop that runs in a daemon thread. Before the binding's shutdown gate (``lifecycle.rs``)
these processes died at exit with ``Segmentation fault`` or ``Fatal Python error:
PyGILState_Release`` in a fraction of the runs. The demo's exit: ffi-tests/cross/test_demo_exit.py.
Needs Redis and RabbitMQ (fails, never skips, without them)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

REDIS_URL = os.environ.get("AUTHCORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_HOST = os.environ.get("AUTHCORE_TEST_AMQP_HOST", "127.0.0.1")
AMQP_PORT = int(os.environ.get("AUTHCORE_TEST_AMQP_PORT", "5672"))
RUNS = int(os.environ.get("AUTHCORE_EXIT_RUNS", "20"))
PARALLEL = 4

PRELUDE = """
import asyncio, os, sys, threading
import authcore.hmac as h
RUN = os.environ["EXIT_RUN"]
REDIS_URL = os.environ["EXIT_REDIS_URL"]

def in_daemon_loop(make_coro):
    # An asyncio loop in a daemon thread, still running when the interpreter exits.
    threading.Thread(target=lambda: asyncio.run(make_coro()), daemon=True).start()

class Adapter:
    # A full-mode peer's management adapter (async methods), in memory.
    def __init__(self, directory):
        self.directory, self.plain, self.rows = directory, {}, {}
    async def upsert_credential_with_targets(self, i):
        self.plain[i.client_id] = (i.op, i.secret_plain, i.track)
        self.rows.update({(i.client_id, t): "pending" for t in i.targets})
    async def rotate_credential_secret(self, i):
        self.plain[i.client_id] = ("credential.update", i.secret_plain, i.track)
    async def fetch_pending_propagations(self):
        out = {}
        for (cid, target), status in self.rows.items():
            if status == "pending":
                op, plain, track = self.plain[cid]
                p = out.setdefault(cid, {"client_id": cid, "track": track, "op": op, "secret_plain": plain,
                                         "allowed_ips": None, "expires_at": None, "pending_targets": []})
                p["pending_targets"].append({"target_amqp_queue": target,
                                             "propagation_secret": self.directory[target]})
        return list(out.values())
    async def fetch_source_propagation_secret(self, sender):
        return self.directory.get(sender)
    async def mark_target_sent(self, i):
        self.rows[(i.client_id, i.target_amqp_queue)] = "sent"
    async def mark_target_success(self, i):
        self.rows[(i.client_id, i.target_amqp_queue)] = "success"
    async def mark_target_error(self, i):
        self.rows[(i.client_id, i.target_amqp_queue)] = "error"
    async def mark_credential_fully_propagated(self, i):
        pass
"""

# Two peers; the authority ensures and syncs, then the loop closes and the process exits
# while the receiving peer applies the event and the authority's consumer handles the ACKs.
PROPAGATION = """
import authcore.propagation as prop

async def main(broker):
    names = [f"exit-{RUN}-a", f"exit-{RUN}-b", f"exit-{RUN}-c"]
    secrets = {n: f"secret-of-{n}" for n in names}
    peers = [await prop.create_propagator(**broker, amqp_queue=n, propagation_secret=secrets[n],
                                          hmac_http_auth=h.HmacHttpAuth(),
                                          management=Adapter(secrets) if n == names[0] else None)
             for n in names]
    for k in range(3):
        await peers[0].ensure(f"client-{k}", "plain-secret", names[1:])
    await peers[0].sync()
    print("READY", flush=True)
"""

CASES = {
    "mesh": PROPAGATION
    + """
asyncio.run(main(dict(amqp_host=f"mesh-{RUN}", amqp_port=1, amqp_user="-", amqp_password="-",
                      amqp_protocol="memory", redis="memory://")))
""",
    # The same mesh with the peers still referenced at exit (an app's module-level
    # propagator), some of them closed already: the atexit hook closes the live ones.
    "mesh-held": PROPAGATION.replace("    print(\"READY\", flush=True)", "    HELD.extend(peers)\n    await peers[2].close()\n    print(\"READY\", flush=True)")
    + """
HELD = []
asyncio.run(main(dict(amqp_host=f"mesh-{RUN}", amqp_port=1, amqp_user="-", amqp_password="-",
                      amqp_protocol="memory", redis="memory://")))
""",
    "rabbitmq": PROPAGATION
    + """
asyncio.run(main(dict(amqp_host=os.environ["EXIT_AMQP_HOST"], amqp_port=int(os.environ["EXIT_AMQP_PORT"]),
                      amqp_user="guest", amqp_password="guest", amqp_protocol="amqp", redis="memory://")))
""",
    # Memory streams drained by awaitables of a loop in a daemon thread, a host stream, a
    # broadcast in flight when the main thread returns.
    "realtime": """
import authcore.realtime as rt

class Host:
    def __init__(self): self.n = 0
    def send(self, data): self.n += 1
    def close(self): pass

registry = rt.SubscriberRegistry()
streams = [rt.MemorySseStream() for _ in range(4)]
for s in streams:
    registry.subscribe(s, channels=["ch"])
host = Host()
registry.subscribe(host, channels=["ch"])

async def drain():
    while True:
        await asyncio.gather(*(s.next_chunk() for s in streams))

in_daemon_loop(drain)
for i in range(300):
    registry.broadcast("ch", {"i": i})
assert host.n == 300
print("READY", flush=True)
""",
    # The HMAC Redis store (async verification path), a TokenManager and an
    # AuthorizationServer on Redis, with awaitables completing when the main thread returns.
    "redis": """
from authcore import jwt, pkce

prefix = f"pyexit_{RUN}"
auth = h.HmacHttpAuth(redis_url=REDIS_URL, namespace=prefix)
auth.clients.set_secret("exit-client", "exit-secret")
tm = jwt.TokenManager("https://auth.example.com", b"exit-signing-secret-of-32-bytes!!", store=REDIS_URL,
                      key_prefix=prefix)
pair = tm.create_token_pair("u1", "d1", "read")
server = pkce.AuthorizationServer(store=REDIS_URL, key_prefix=prefix)
server.create_code(client_id="c", user_id="u1", domain_id="d1", redirect_uri="https://app/cb",
                   code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")

async def hammer():
    while True:
        await asyncio.gather(*(auth.clients.get_secret_hash_async("exit-client") for _ in range(8)))

in_daemon_loop(hammer)
assert tm.verify_refresh_token(pair["refreshToken"])["valid"] is True
print("READY", flush=True)
""",
}


def _run(script: str, run_id: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "EXIT_RUN": run_id,
        "EXIT_REDIS_URL": REDIS_URL,
        "EXIT_AMQP_HOST": AMQP_HOST,
        "EXIT_AMQP_PORT": str(AMQP_PORT),
        "PYTHONFAULTHANDLER": "1",
    }
    cmd = [sys.executable, "-c", textwrap.dedent(PRELUDE) + textwrap.dedent(script)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def _verdict(name: str, results: list[subprocess.CompletedProcess]) -> None:
    # A clean exit also prints nothing of a panic or of an atexit hook that failed (CPython
    # reports those on stderr and still exits 0).
    bad = [
        r for r in results
        if r.returncode != 0 or "READY" not in r.stdout or "panicked at" in r.stderr or "Exception ignored" in r.stderr
    ]
    if bad:
        first = bad[0]
        pytest.fail(
            f"{name}: {len(bad)}/{len(results)} runs did not exit cleanly "
            f"(exit codes {[r.returncode for r in bad]}); first one's stderr:\n{first.stderr[-3000:]}"
        )


@pytest.fixture(scope="module")
def services():
    """Redis and RabbitMQ must answer: these tests fail, never skip, without them."""
    for host, port, what in ((AMQP_HOST, AMQP_PORT, "RabbitMQ"), ("127.0.0.1", 6379, "Redis")):
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError as exc:
            pytest.fail(f"{what} at {host}:{port} is required (bash scripts/services.sh): {exc}")


def delete_queues(names: list[str]) -> None:
    """Deletes RabbitMQ queues of the test vhost in one ``rabbitmqctl eval`` (one Erlang VM
    instead of one per queue)."""
    ctl = shutil.which("rabbitmqctl")
    if not ctl or not names:
        return
    binaries = ",".join(f'<<"{n}">>' for n in names)
    code = (
        f"lists:foreach(fun(N) -> case rabbit_amqqueue:lookup(rabbit_misc:r(<<\"hmac-credentials\">>, queue, N)) of "
        f"{{ok, Q}} -> rabbit_amqqueue:delete(Q, false, false, <<\"authcore-tests\">>); _ -> ok end end, [{binaries}]), ok."
    )
    subprocess.run([ctl, "-q", "eval", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def _cleanup(name: str, run_ids: list[str]) -> None:
    if name == "rabbitmq":
        delete_queues([f"hmac-exit-{r}-{s}.queue" for r in run_ids for s in "abc"])
    if name == "redis":
        import redis as redis_py

        client = redis_py.Redis.from_url(REDIS_URL)
        for r in run_ids:
            keys = list(client.scan_iter(match=f"pyexit_{r}:*", count=500))
            if keys:
                client.delete(*keys)
        client.close()


@pytest.mark.parametrize("name", list(CASES))
def test_exit_without_closing_is_clean(name, services):
    run_ids = [f"{uuid.uuid4().hex[:10]}" for _ in range(RUNS)]
    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            results = list(pool.map(lambda r: _run(CASES[name], r), run_ids))
    finally:
        _cleanup(name, run_ids)
    _verdict(name, results)

