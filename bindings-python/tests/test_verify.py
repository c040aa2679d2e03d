"""Verification: spec §4 (signature, replay, callback, IP allow-list, secret policies)
ported, the verification order, bad input, replay under concurrency and GIL release."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

import authcore.hmac as h
from authcore.errors import HmacArgumentError, HmacAuthError, HmacInputError, HmacStoreError

from conftest import REDIS_URL


def signed(secret, *, method="GET", path="/health", body="", nonce="n1", ts=None, client_id="app_a", hash_token=None, hashed=False):
    ts = int(time.time() * 1000) if ts is None else ts
    headers = h.build_signed_headers(
        method, path, body, client_id, secret, secret_is_hashed=hashed, hash_token=hash_token, nonce=nonce, timestamp=ts
    )
    return headers, ts


def code_of(call):
    with pytest.raises(HmacAuthError) as info:
        call()
    return info.value.code, info.value.status


def test_happy_path_and_key_layout(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.set_secret("app_a", "secret_a")
    headers, ts = signed("secret_a", method="POST", path="/v1/messages?x=1", body='{"hello":"world"}', nonce="nonce_1")
    v = auth.verify("POST", "/v1/messages?x=1", headers, b'{"hello":"world"}', now=ts)
    assert (v.client_id, v.nonce, v.timestamp, v.signature) == ("app_a", "nonce_1", ts, headers["x-signature"])
    assert v.to_dict() == {"clientId": "app_a", "timestamp": ts, "nonce": "nonce_1", "signature": headers["x-signature"]}
    assert store.hkeys(f"{ns}:clients") == ["app_a"]
    assert store.get(f"{ns}:nonce:app_a:nonce_1:{ts}") == "1"


def test_nonce_ttl_on_redis(redis_store, namespace, redis_client):
    auth = h.HmacHttpAuth(store=redis_store, namespace=namespace, max_skew_ms=5000)
    auth.clients.set_secret("app_a", "secret_a")
    headers, ts = signed("secret_a", nonce="ttl")
    auth.verify("GET", "/health", headers)
    # ceil((ts + max_skew_ms - now) / 1000) + 1 = 6 for a request stamped now.
    assert 4 < redis_client.ttl(f"{namespace}:nonce:app_a:ttl:{ts}") <= 6


def test_nonce_ttl_covers_a_timestamp_from_the_future(redis_store, namespace, redis_client):
    # The client's clock runs 4 s ahead: the request stays acceptable until ts + 5 s, so
    # the nonce must live ~9 s, not the 5 s the original gives it.
    auth = h.HmacHttpAuth(store=redis_store, namespace=namespace, max_skew_ms=5000)
    auth.clients.set_secret("app_a", "secret_a")
    headers, ts = signed("secret_a", nonce="ahead", ts=int(time.time() * 1000) + 4000)
    auth.verify("GET", "/health", headers)
    assert 8 <= redis_client.ttl(f"{namespace}:nonce:app_a:ahead:{ts}") <= 10


def test_replay_after_the_original_ttl_is_still_rejected(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=2000)
    auth.clients.set_secret("app_a", "secret_a")
    headers, _ = signed("secret_a", nonce="late", ts=int(time.time() * 1000) + 1500)
    auth.verify("GET", "/health", headers)
    time.sleep(2.2)  # the original's TTL (2 s) is over, the request's window is not
    assert code_of(lambda: auth.verify("GET", "/health", headers)) == ("REPLAYED_NONCE", 401)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), 86_400_001])
def test_max_skew_fails_closed(store, ns, bad):
    with pytest.raises(HmacArgumentError) as info:
        h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=bad)
    assert str(info.value) == "maxSkewMs must be a finite number no greater than 86400000"
    auth = h.HmacHttpAuth(store=store, namespace=ns)
    auth.clients.set_secret("app_a", "secret_a")
    year_ago = int(time.time() * 1000) - 365 * 86_400_000
    headers, _ = signed("secret_a", nonce="old", ts=year_ago)
    for _ in range(2):  # never accepted, not even once the first claim expired
        with pytest.raises(HmacArgumentError):
            auth.verify("GET", "/health", headers, max_skew_ms=bad)
    # A string is coerced with JavaScript's Number(), as the original's arithmetic does:
    # "300000" is a 5-minute window (the year-old request is too old), "soon" is NaN.
    assert code_of(lambda: auth.verify("GET", "/health", headers, max_skew_ms="300000")) == ("TIMESTAMP_SKEW", 401)
    with pytest.raises(HmacArgumentError):
        auth.verify("GET", "/health", headers, max_skew_ms="soon")
    with pytest.raises(HmacInputError):
        auth.verify("GET", "/health", headers, max_skew_ms=[300000])
    with pytest.raises(HmacArgumentError):
        h.HmacHttpAuth(store=store, namespace=ns, backup_ttl_seconds=float("nan"))


@pytest.mark.parametrize(
    "header,value",
    [
        ("x-nonce", "n" * 257),
        ("x-client-id", "c" * 257),
        ("x-signature", "a" * 8193),
        ("x-timestamp", " " * 8193 + "1"),
    ],
)
def test_oversized_headers_are_refused(store, ns, header, value):
    auth = h.HmacHttpAuth(store=store, namespace=ns)
    auth.clients.set_secret("app_a", "secret_a")
    headers, _ = signed("secret_a", nonce="cap")
    headers[header] = value
    assert code_of(lambda: auth.verify("GET", "/health", headers)) == ("HEADER_TOO_LARGE", 431)


def test_replay_is_rejected(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.set_secret("app_a", "secret_a")
    headers, ts = signed("secret_a", nonce="same_nonce")
    auth.verify("GET", "/health", headers, now=ts)
    assert code_of(lambda: auth.verify("GET", "/health", headers, now=ts)) == ("REPLAYED_NONCE", 401)


def test_missing_headers_in_order(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.set_secret("app_a", "secret_a")
    headers, ts = signed("secret_a")
    cases = [
        ("x-client-id", "MISSING_CLIENT_ID"),
        ("x-signature", "MISSING_SIGNATURE"),
        ("x-timestamp", "MISSING_TIMESTAMP"),
        ("x-nonce", "MISSING_NONCE"),
    ]
    for name, code in cases:
        partial = {k: v for k, v in headers.items() if k != name}
        assert code_of(lambda: auth.verify("GET", "/health", partial, now=ts)) == (code, 401)
    assert code_of(lambda: auth.verify("GET", "/health", {}, now=ts)) == ("MISSING_CLIENT_ID", 401)
    blank = dict(headers, **{"x-client-id": "  "})
    assert code_of(lambda: auth.verify("GET", "/health", blank, now=ts))[0] == "MISSING_CLIENT_ID"
    empty_array = dict(headers, **{"x-nonce": ["", "x"]})
    assert code_of(lambda: auth.verify("GET", "/health", empty_array, now=ts))[0] == "MISSING_NONCE"


def test_timestamp_rules(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.set_secret("app_a", "secret_a")
    headers, ts = signed("secret_a")
    for raw in ("abc", "1_000", "12abc", "Infinity", "NaN", "1e400"):
        bad = dict(headers, **{"x-timestamp": raw})
        assert code_of(lambda: auth.verify("GET", "/health", bad, now=ts)) == ("INVALID_TIMESTAMP", 401)
    skewed = dict(headers, **{"x-timestamp": str(ts - 5001)})
    with pytest.raises(HmacAuthError) as info:
        auth.verify("GET", "/health", skewed, now=ts)
    assert (info.value.code, info.value.message) == ("TIMESTAMP_SKEW", "Request timestamp skew is too large (> 5000ms)")
    whitespace = dict(headers, **{"x-timestamp": "   "})  # Number("   ") is 0
    assert code_of(lambda: auth.verify("GET", "/health", whitespace, now=ts))[0] == "TIMESTAMP_SKEW"
    negative = dict(headers, **{"x-timestamp": "-1"})
    assert code_of(lambda: auth.verify("GET", "/health", negative, now=ts))[0] == "TIMESTAMP_SKEW"
    # Hex and spaced spellings are accepted and re-rendered like JS.
    hexed = dict(headers, **{"x-timestamp": " " + hex(ts) + " "})
    assert auth.verify("GET", "/health", hexed, now=ts).timestamp == ts


def test_unknown_client_and_wrong_secret(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.set_secret("known_client", "server_secret")
    headers, ts = signed("server_secret", client_id="unknown_client")
    assert code_of(lambda: auth.verify("GET", "/health", headers, now=ts)) == ("UNKNOWN_CLIENT", 401)
    headers, ts = signed("wrong_secret", client_id="known_client")
    assert code_of(lambda: auth.verify("GET", "/health", headers, now=ts)) == ("BAD_SIGNATURE", 401)


def test_bad_signature_does_not_burn_the_nonce(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.set_secret("app_a", "secret_a")
    good, ts = signed("secret_a", nonce="keep")
    bad = dict(good, **{"x-signature": "0" * 64})
    assert code_of(lambda: auth.verify("GET", "/health", bad, now=ts))[0] == "BAD_SIGNATURE"
    assert store.get(f"{ns}:nonce:app_a:keep:{ts}") is None
    assert auth.verify("GET", "/health", good, now=ts).nonce == "keep"


def test_on_bad_signature_callback(store, ns):
    events = []
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000, on_bad_signature=events.append)
    auth.clients.set_secret("known_client", "server_secret")
    headers, ts = signed("wrong_secret", client_id="known_client", nonce="nonce_callback")
    assert code_of(
        lambda: auth.verify("GET", "/health", headers, now=ts, metadata={"source": "unit-test"})
    )[0] == "BAD_SIGNATURE"
    assert len(events) == 1
    e = events[0]
    assert (e.client_id, e.method, e.path, e.timestamp, e.nonce) == ("known_client", "GET", "/health", ts, "nonce_callback")
    assert e.received_signature == headers["x-signature"]
    assert len(e.expected_signature) == 64 and e.expected_signature != e.received_signature
    assert e.metadata == {"source": "unit-test"}
    assert e.headers is headers


def test_throwing_callbacks_are_swallowed(store, ns):
    calls = []

    def boom(event):
        calls.append(event)
        raise RuntimeError("callback failure")

    async def aboom(event):
        calls.append(event)
        raise RuntimeError("callback failure")

    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000, on_bad_signature=boom)
    auth.clients.set_secret("known_client", "server_secret")
    headers, ts = signed("wrong_secret", client_id="known_client")
    assert code_of(lambda: auth.verify("GET", "/health", headers, now=ts))[0] == "BAD_SIGNATURE"
    assert code_of(lambda: auth.verify("GET", "/health", headers, now=ts, on_bad_signature=aboom))[0] == "BAD_SIGNATURE"

    async def run():
        with pytest.raises(HmacAuthError) as info:
            await auth.verify_async("GET", "/health", headers, now=ts, on_bad_signature=aboom)
        return info.value.code

    assert asyncio.run(run()) == "BAD_SIGNATURE"
    assert len(calls) == 3


def test_ip_allow_list(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.create("ip_locked_client", plain_secret="secret_ip_lock", allowed_ips=["195.7.8.9", "195.7.8.0/24"])
    ts = int(time.time() * 1000)

    def req(nonce, offset):
        headers, _ = signed("secret_ip_lock", client_id="ip_locked_client", path="/secure/get", nonce=nonce, ts=ts + offset)
        return headers

    ok = auth.verify("GET", "/secure/get", req("exact", 0), now=ts, metadata={"ip": "195.7.8.9"})
    assert ok.client_id == "ip_locked_client"
    auth.verify("GET", "/secure/get", req("nonce_ip_allowed_cidr", 1), now=ts + 1, metadata={"ip": "195.7.8.44"})
    with pytest.raises(HmacAuthError) as info:
        auth.verify("GET", "/secure/get", req("denied", 2), now=ts + 2, metadata={"ip": "8.8.8.8"})
    assert (info.value.code, info.value.status) == ("CLIENT_IP_NOT_ALLOWED", 403)
    assert info.value.message == "Client IP '8.8.8.8' is not allowed for clientId 'ip_locked_client'"
    # x-forwarded-for: only the leftmost entry counts.
    fwd = dict(req("fwd", 3), **{"x-forwarded-for": "195.7.8.1, 8.8.8.8"})
    auth.verify("GET", "/secure/get", fwd, now=ts + 3)
    # The allow-list is checked before the signature.
    bad = dict(req("order", 4), **{"x-signature": "00"})
    assert code_of(lambda: auth.verify("GET", "/secure/get", bad, now=ts + 4, metadata={"ip": "8.8.8.8"}))[0] == "CLIENT_IP_NOT_ALLOWED"
    # Explicit candidates (first that parses wins).
    auth.verify("GET", "/secure/get", req("cand", 5), now=ts + 5, ip_candidates=["unknown", "::ffff:195.7.8.7"])


def test_ip_required(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.create("ip_client", plain_secret="s", allowed_ips=["195.7.8.9"])
    headers, ts = signed("s", client_id="ip_client")
    assert code_of(lambda: auth.verify("GET", "/health", headers, now=ts)) == ("MISSING_CLIENT_IP", 403)


def test_expired_credential(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.set_secret("exp_client", "secret_a", expires_at=time.time() * 1000 - 1000)
    headers, ts = signed("secret_a", client_id="exp_client")
    assert code_of(lambda: auth.verify("GET", "/health", headers)) == ("CLIENT_EXPIRED", 401)


def test_tokenized_verify(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000, secret_token="abc")
    auth.clients.set_secret("app_a", "secret_a")
    assert auth.clients.get_secret_hash("app_a") == "ba6fab075946aa6dbf432a0062bfb1f1be67ad1730fe9acf4f11043bcb9cf38e"
    headers, ts = signed("secret_a", hash_token="abc", nonce="with_token")
    assert auth.verify("GET", "/health", headers, now=ts).client_id == "app_a"
    headers, ts = signed("secret_a", nonce="nonce_no_token")
    assert code_of(lambda: auth.verify("GET", "/health", headers, now=ts))[0] == "BAD_SIGNATURE"


def test_header_shapes(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.set_secret("app_a", "secret_a")
    headers, ts = signed("secret_a", method="POST", path="/b", body="x", nonce="shape1")
    mixed = {k.upper(): v for k, v in headers.items()}
    assert auth.verify("POST", "/b", mixed, "x", now=ts).nonce == "shape1"
    headers, ts = signed("secret_a", method="POST", path="/b", body="x", nonce="shape2")
    raw_pairs = [(k.encode(), v.encode()) for k, v in headers.items()]  # ASGI style
    assert auth.verify("POST", "/b", raw_pairs, b"x", now=ts).nonce == "shape2"
    headers, ts = signed("secret_a", method="POST", path="/b", body="x", nonce="shape3")
    listed = {k: [v] for k, v in headers.items()}
    assert auth.verify("POST", "/b", listed, bytearray(b"x"), now=ts).nonce == "shape3"
    # The first matching name wins, even when a later one would be valid.
    headers, ts = signed("secret_a", nonce="shape4")
    dup = [("X-Signature", "0" * 64)] + list(headers.items())
    assert code_of(lambda: auth.verify("GET", "/health", dup, now=ts))[0] == "BAD_SIGNATURE"


def test_bad_input_is_typed(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.set_secret("app_a", "secret_a")
    headers, ts = signed("secret_a")
    for call in (
        lambda: auth.verify("GET", "/health", headers, now=float("nan")),
        lambda: auth.verify("GET", "/health", headers, 12),
        lambda: auth.verify("GET", "/health", 42),
        lambda: auth.verify("GET", "/health", {"x-client-id": 5}),
        lambda: auth.verify(None, "/health", headers),
        lambda: auth.verify("GET", "/health", [("only-one",)]),
        lambda: auth.verify("GET", "/health", headers, bytes(h.MAX_BODY_BYTES + 1)),
    ):
        with pytest.raises(HmacInputError):
            call()
    # An invalid URL is found after the record lookup, like the original (500 upstream).
    with pytest.raises(HmacInputError) as info:
        auth.verify("GET", "//[", headers, now=ts)
    assert (info.value.code, info.value.status) == ("INVALID_INPUT", 500)
    # Non-UTF-8 bodies are hashed lossily on both sides.
    headers, ts = signed("secret_a", method="POST", path="/bin", body=b"\x00\xff{}", nonce="bin")
    assert auth.verify("POST", "/bin", headers, b"\x00\xff{}", now=ts).nonce == "bin"
    # Lone surrogates in headers are U+FFFD, not a crash.
    weird = dict(signed("secret_a", nonce="sur")[0], **{"x-nonce": "a\ud800"})
    assert code_of(lambda: auth.verify("GET", "/health", weird))[0] == "BAD_SIGNATURE"


def test_sync_async_parity(store, ns):
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    auth.clients.set_secret("app_a", "secret_a")
    h1, ts = signed("secret_a", nonce="p1", method="PUT", path="/p?q=1", body="{}")
    h2 = h.build_signed_headers("PUT", "/p?q=1", "{}", "app_a", "secret_a", nonce="p2", timestamp=ts)
    v1 = auth.verify("PUT", "/p?q=1", h1, "{}", now=ts)
    v2 = asyncio.run(auth.verify_async("PUT", "/p?q=1", h2, "{}", now=ts))
    assert (v1.client_id, v1.timestamp) == (v2.client_id, v2.timestamp)
    bad = dict(h1, **{"x-nonce": "p3"})

    async def failing():
        with pytest.raises(HmacAuthError) as info:
            await auth.verify_async("PUT", "/p?q=1", bad, "{}", now=ts)
        return info.value.code

    assert asyncio.run(failing()) == code_of(lambda: auth.verify("PUT", "/p?q=1", bad, "{}", now=ts))[0] == "BAD_SIGNATURE"


def test_replay_under_concurrency_accepts_exactly_one(redis_store, namespace):
    auth = h.HmacHttpAuth(store=redis_store, namespace=namespace, max_skew_ms=60000)
    auth.clients.set_secret("app_a", "secret_a")
    headers, ts = signed("secret_a", method="POST", path="/pay", body='{"amount":1}', nonce="race")

    async def one():
        try:
            await auth.verify_async("POST", "/pay", headers, b'{"amount":1}', now=ts)
            return "ok"
        except HmacAuthError as e:
            return e.code

    async def run():
        return await asyncio.gather(*(one() for _ in range(1000)))

    results = asyncio.run(run())
    assert results.count("ok") == 1
    assert results.count("REPLAYED_NONCE") == 999


class SlowProxy:
    """A TCP proxy to the real Redis that delays every reply by `delay` seconds.

    Its pump threads are Python threads: they need the GIL to forward anything, so a
    call that held the GIL while waiting for Redis would never get its answer."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.delay = delay
        self.upstream_port = upstream_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, 0.0), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.delay), daemon=True).start()

    @staticmethod
    def _pump(src, dst, delay):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if delay:
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.sock.close()


def test_gil_is_released_while_waiting_on_redis(redis_client, namespace):
    port = int(REDIS_URL.rsplit(":", 1)[1].split("/")[0])
    proxy = SlowProxy(port, delay=0.25)
    try:
        auth = h.HmacHttpAuth(redis_url=f"redis://127.0.0.1:{proxy.port}/0", namespace=namespace, max_skew_ms=60000)
        auth.clients.set_secret("app_a", "secret_a")
        counter = {"n": 0, "stop": False}

        def spin():
            while not counter["stop"]:
                counter["n"] += 1

        spinner = threading.Thread(target=spin, daemon=True)
        spinner.start()

        # Async: another coroutine and another thread run while verify_async waits.
        async def run():
            ticks = 0
            done = False

            async def ticker():
                nonlocal ticks
                while not done:
                    ticks += 1
                    await asyncio.sleep(0.01)

            t = asyncio.ensure_future(ticker())
            headers, ts = signed("secret_a", nonce="gil-async")
            before = counter["n"]
            started = time.perf_counter()
            v = await auth.verify_async("GET", "/health", headers, now=ts)
            elapsed = time.perf_counter() - started
            spun = counter["n"] - before
            done = True
            await t
            return v, elapsed, spun, ticks

        v, elapsed, spun, ticks = asyncio.run(run())
        assert v.nonce == "gil-async"
        assert elapsed >= 0.2  # the reply really was delayed
        assert ticks >= 5  # the event loop kept running other coroutines
        assert spun > 10_000  # another Python thread kept running

        # Sync: the GIL is released too (the proxy threads need it to answer).
        headers, ts = signed("secret_a", nonce="gil-sync")
        before = counter["n"]
        started = time.perf_counter()
        assert auth.verify("GET", "/health", headers, now=ts).nonce == "gil-sync"
        assert time.perf_counter() - started >= 0.2
        assert counter["n"] - before > 10_000
        counter["stop"] = True
        spinner.join(2)
    finally:
        proxy.close()


def test_store_failure_is_typed(store, ns):
    # `<ns>:clients` holding a string makes HGET fail with WRONGTYPE (memory and Redis).
    store.set_ex(f"{ns}:clients", "not a hash", 60)
    auth = h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000)
    headers, ts = signed("secret_a")
    with pytest.raises(HmacStoreError) as info:
        auth.verify("GET", "/health", headers, now=ts)
    assert (info.value.code, info.value.status) == ("STORE_ERROR", 500)
    with pytest.raises(HmacStoreError):
        auth.clients.get("app_a")
