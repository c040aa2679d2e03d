"""The Redis stores through the public Python API on a real Redis Cluster of 3 masters,
private to this module (``scripts/redis-cluster.sh``: free ports, a temporary directory; the
nodes go away when this process closes the helper's stdin, exits, fails or is killed):

- the HMAC client store and nonces (``Store.redis("redis+cluster://…")``): sign, verify,
  the replay refused from a second verifier, an unknown client refused;
- the refresh-token store (``jwt.TokenManager(store=…)``) and the authorization-code store
  (``pkce.AuthorizationServer(store=…)``): rotation and reuse shared by two managers, codes
  single-use across two servers;
- the propagation state (``create_propagator(redis=<cluster URL>)``) of two peers on the
  in-process mesh, their HMAC stores on the cluster too: every credential applied and ACKed,
  the hash-tagged key layout, and the credential verifies at the receiving peer;
- the event distributor (``events.RedisDistributor``): two distributors subscribed through
  different seed nodes both receive what either publishes.

Needs ``redis-server`` and ``redis-cli`` on the PATH (fails, never skips, without them).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator, List

import pytest

import authcore.hmac as h
from authcore import events, jwt, pkce
from authcore import propagation as p
from authcore.errors import HmacAuthError

from test_propagation import AsyncManagement, wait_for

HELPER = Path(__file__).resolve().parents[2] / "scripts" / "redis-cluster.sh"
SECRET = b"shared-signing-secret-of-32-bytes!"
VERIFIER = "dBjftJeZ4CVP-mJ0kzjjxXkbjJvd7cuP2FV4JEx3ZRL"
RUN = uuid.uuid4().hex[:8]


class Cluster:
    def __init__(self, url: str, proc: subprocess.Popen) -> None:
        self.url = url
        self.proc = proc
        self.ports = [int(hp.rsplit(":", 1)[1]) for hp in url.removeprefix("redis+cluster://").split(",")]

    def cli(self, *args: str) -> str:
        """``redis-cli -c`` (follows redirections) from the first node."""
        out = subprocess.run(
            ["redis-cli", "-c", "-p", str(self.ports[0]), *args], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    def key_counts(self) -> List[int]:
        return [
            int(subprocess.run(["redis-cli", "-p", str(port), "dbsize"], capture_output=True, text=True).stdout)
            for port in self.ports
        ]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    proc = subprocess.Popen(["bash", str(HELPER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    # The first line, or a failure if the helper dies or hangs (read in a thread: no timeout
    # on a pipe read).
    line: List[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(60)
    try:
        url = line[0].strip() if line else ""
        if not url.startswith("redis+cluster://"):
            pytest.fail(f"scripts/redis-cluster.sh did not start a cluster (exit {proc.poll()})")
        c = Cluster(url, proc)
        assert len(c.ports) == 3
        yield c
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()
    for port in c.ports:
        pong = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip()
        assert pong != "PONG", f"cluster node {port} stopped"


def signed(
    secret: str, client_id: str, *, method: str = "POST", path: str = "/pay", body: str = "", hash_token: str | None = None
) -> dict:
    return h.build_signed_headers(
        method, path, body, client_id, secret, hash_token=hash_token, timestamp=int(time.time() * 1000)
    )


def code_of(call) -> str:
    with pytest.raises(HmacAuthError) as info:
        call()
    return info.value.code


def test_hmac_clients_and_nonces_on_the_cluster(cluster: Cluster) -> None:
    ns = f"pycluster_hmac_{RUN}"
    a = h.HmacHttpAuth(store=h.Store.redis(cluster.url), namespace=ns, max_skew_ms=5000)
    b = h.HmacHttpAuth(store=h.Store.redis(cluster.url), namespace=ns, max_skew_ms=5000)
    for i in range(30):
        a.clients.set_secret(f"app_{i}", f"secret_{i}")
    assert b.clients.get_secret_hash("app_7") == a.clients.get_secret_hash("app_7")
    body = '{"order":42}'
    requests = [signed(f"secret_{i}", f"app_{i}", body=body) for i in range(30)]
    for i, headers in enumerate(requests):
        # Verified by one verifier, replayed at the other: the nonce is shared through the cluster.
        assert a.verify("POST", "/pay", headers, body.encode()).client_id == f"app_{i}"
        assert code_of(lambda: b.verify("POST", "/pay", headers, body.encode())) == "REPLAYED_NONCE"
    unknown = signed("s", "nobody", method="GET", path="/x")
    assert code_of(lambda: a.verify("GET", "/x", unknown)) == "UNKNOWN_CLIENT"

    async def race() -> List[str]:
        headers = signed("secret_1", "app_1", method="GET", path="/once")

        async def one(auth: h.HmacHttpAuth) -> str:
            try:
                await auth.verify_async("GET", "/once", headers)
                return "ok"
            except HmacAuthError as e:
                return e.code

        return await asyncio.gather(*(one([a, b][i % 2]) for i in range(8)))

    outcomes = asyncio.run(race())
    assert outcomes.count("ok") == 1 and set(outcomes) == {"ok", "REPLAYED_NONCE"}, outcomes
    # The original's layout: one clients hash, one nonce key per request, on several masters.
    assert cluster.cli("hlen", f"{ns}:clients") == "30"
    first = requests[0]
    assert cluster.cli("exists", f"{ns}:nonce:app_0:{first['x-nonce']}:{first['x-timestamp']}") == "1"
    assert sum(1 for n in cluster.key_counts() if n > 0) >= 2, cluster.key_counts()


def test_refresh_tokens_and_codes_on_the_cluster(cluster: Cluster) -> None:
    prefix = f"pycluster_tokens_{RUN}"

    def manager() -> jwt.TokenManager:
        return jwt.TokenManager("https://auth.example.com", SECRET, store=cluster.url, key_prefix=prefix)

    a, b = manager(), manager()
    first = a.create_token_pair("cu1", "d1", "read")
    assert b.verify_refresh_token(first["refreshToken"])["valid"] is True
    second = b.refresh(first["refreshToken"])
    assert second["familyId"] == first["familyId"]
    with pytest.raises(jwt.RefreshTokenReusedError):
        a.refresh(first["refreshToken"])
    with pytest.raises(jwt.RefreshTokenRevokedError):
        b.refresh(second["refreshToken"])
    # Several families of one user: records, family sets and the user set on different slots.
    others = [a.create_token_pair("cu1", "d1", "read") for _ in range(6)]
    for pair in others:
        assert b.verify_refresh_token(pair["refreshToken"])["valid"] is True
    assert b.revoke_user("cu1") == 6
    for pair in others:
        assert a.verify_refresh_token(pair["refreshToken"])["error"] == "REFRESH_TOKEN_REVOKED"
    # Concurrent refreshes of one token in threads: one winner.
    pair = a.create_token_pair("cu2", "d1", "read")
    managers = [manager() for _ in range(6)]
    barrier = threading.Barrier(len(managers))
    outcomes: List[str] = []

    def refresh(m: jwt.TokenManager) -> None:
        barrier.wait()
        try:
            m.refresh(pair["refreshToken"])
            outcomes.append("ok")
        except jwt.PyJWTError as e:
            outcomes.append(type(e).__name__)

    threads = [threading.Thread(target=refresh, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes

    s1 = pkce.AuthorizationServer(store=cluster.url, key_prefix=prefix)
    s2 = pkce.AuthorizationServer(store=cluster.url, key_prefix=prefix)
    for _ in range(5):
        code = s1.create_code(
            client_id="c",
            user_id="u1",
            domain_id="d1",
            redirect_uri="https://app.example/cb",
            code_challenge=pkce.s256_challenge(VERIFIER),
            scope="read",
        )
        ex = dict(code=code, client_id="c", redirect_uri="https://app.example/cb", code_verifier=VERIFIER)
        assert s2.exchange_code(**ex) == {"user_id": "u1", "domain_id": "d1", "scope": "read", "client_id": "c"}
        with pytest.raises(pkce.AuthorizationCodeReusedError):
            s1.exchange_code(**ex)


def test_propagation_state_on_the_cluster(cluster: Cluster) -> None:
    n = 40
    an, bn = f"pyca-{RUN}", f"pycb-{RUN}"
    adapter = AsyncManagement({an: f"secret-of-{an}", bn: f"secret-of-{bn}"})
    auth_a = h.HmacHttpAuth(store=h.Store.redis(cluster.url), namespace=f"pycluster_a_{RUN}", secret_token="pepper")
    auth_b = h.HmacHttpAuth(store=h.Store.redis(cluster.url), namespace=f"pycluster_b_{RUN}", secret_token="pepper")
    common = dict(
        amqp_host=f"pycluster-{RUN}", amqp_port=1, amqp_user="-", amqp_password="-", amqp_protocol="memory",
        redis=cluster.url,
    )
    ids = [f"pycc-{RUN}-{i}" for i in range(n)]
    stuck = f"pystuck-{RUN}"

    async def flow() -> None:
        a = await p.create_propagator(
            **common, amqp_queue=an, propagation_secret=f"secret-of-{an}", hmac_http_auth=auth_a, management=adapter
        )
        b = await p.create_propagator(
            **common, amqp_queue=bn, propagation_secret=f"secret-of-{bn}", hmac_http_auth=auth_b, management=adapter
        )
        try:
            for i, cid in enumerate(ids):
                await a.ensure(cid, f"plain-{i}-" + "x" * 24, [bn])
            # One more towards a peer that never answers: its bookkeeping stays, tagged.
            await a.ensure(stuck, "y" * 32, [f"nobody-{RUN}"])
            assert (await a.sync()).targets_published == n + 1

            async def done() -> bool:
                return len(adapter.fully) == n

            await wait_for("every credential fully propagated", done, timeout=30)
            for cid in ids:
                assert adapter.status[(cid, bn)] == "success"
                assert await auth_b.clients.get_secret_hash_async(cid) == await auth_a.clients.get_secret_hash_async(cid)
        finally:
            await a.close()
            await b.close()

    asyncio.run(flow())
    # The credential works at b: a request signed with the plain secret verifies there.
    headers = signed("plain-3-" + "x" * 24, ids[3], method="GET", path="/p", hash_token="pepper")
    assert auth_b.verify("GET", "/p", headers).client_id == ids[3]
    # The cluster layout: a client's bookkeeping under a hash tag; nothing left for the done ones.
    assert cluster.cli("scard", f"propagation:client-pending:{{{stuck}}}") == "1"
    assert cluster.cli("exists", f"propagation:client-pending:{stuck}") == "0"
    assert cluster.cli("exists", f"propagation:client-pending:{{{ids[0]}}}") == "0"
    assert cluster.cli("exists", f"propagation:last-seen:{{http:{ids[0]}}}") == "1"


def test_event_distributor_on_the_cluster(cluster: Cluster) -> None:
    channel = f"authcore-pycluster-{RUN}"
    p0, p1, p2 = cluster.ports

    async def go() -> None:
        one = await events.RedisDistributor.connect(f"redis+cluster://127.0.0.1:{p0},127.0.0.1:{p1}", channel)
        two = await events.RedisDistributor.connect(f"redis+cluster://127.0.0.1:{p2},127.0.0.1:{p0}", channel)
        try:
            for i in range(10):
                await [one, two][i % 2].publish(f"topic-{i % 3}", {"n": i})
            want = [(f"topic-{i % 3}", {"n": i}) for i in range(10)]
            for d in (one, two):
                got = []
                for _ in range(10):
                    msg = await asyncio.wait_for(d.next(), 15)
                    assert msg is not None
                    got.append((msg[0], json.loads(msg[1])))
                # Two publishers reach a subscriber over different nodes: no order between them.
                assert sorted(got, key=lambda m: m[1]["n"]) == want
            assert one.dropped + two.dropped == 0
        finally:
            await one.close()
            await two.close()

    asyncio.run(go())
