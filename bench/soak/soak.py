"""Memory soak of the Python package's hot paths on a release build of the extension
(bench/soak/run.sh installs it into target/soak-venv). Each path runs a warm-up (the first
10% of N calls and at least 10 s), then the other 90%; RSS (VmRSS) is read after the
warm-up and after every tenth of the measured calls, each time after ``gc.collect()``; the
warm-up, midpoint and end checkpoints are each the median of three neighbouring readings. One JSON object per path on stdout.

    python bench/soak/soak.py N_FAST N_KDF N_REDIS
"""

import asyncio
import gc
import json
import os
import re
import sys
import time

from authcore import hmac as h
from authcore import jwt, password, realtime

N_FAST = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
N_KDF = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
N_REDIS = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


def rss_kib() -> int:
    gc.collect()
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


WARM_SECONDS = float(os.environ.get("SOAK_WARM_SECONDS", "10"))
ONLY = re.compile(os.environ["SOAK_ONLY"]) if os.environ.get("SOAK_ONLY") else None


def soak(path, n, fn, warm_seconds=None):
    if ONLY and not ONLY.search(path):
        return
    # Warm-up: the first 10% of the calls and at least WARM_SECONDS, so a working set that
    # lives for a time (the nonces of the last ~2 s) has reached its steady size before the
    # reading; then n - n/10 measured calls, read at their midpoint and at the end.
    measured = n - n // 10
    start = rss_kib()
    t0 = time.perf_counter()
    i = 0
    warm_seconds = WARM_SECONDS if warm_seconds is None else warm_seconds
    while i < n // 10 or time.perf_counter() - t0 < warm_seconds:
        fn(i)
        i += 1
    warm_calls = i
    rss_warm = rss_kib()
    # A reading every tenth of the measured calls (the midpoint is the fifth), so a
    # flagged path shows whether it keeps growing or has levelled off.
    trace = [rss_warm]
    for k in range(1, 11):
        while i < warm_calls + measured * k // 10:
            fn(i)
            i += 1
        trace.append(rss_kib())
    # Each checkpoint is the median of three neighbouring readings (RSS after a collection
    # still moves within a band of a few MB from reading to reading).
    row = {
        "lang": "python", "path": path, "calls": i, "warm_calls": warm_calls,
        "seconds": round(time.perf_counter() - t0, 2),
        "rss_start_kib": start,
        "rss_warm_kib": sorted(trace[0:3])[1],
        "rss_mid_kib": sorted(trace[4:7])[1],
        "rss_end_kib": sorted(trace[8:11])[1],
        "rss_trace_kib": trace,
    }
    print(json.dumps(row), flush=True)


SECRET_HASH = h.hash_client_secret("secret_a")
BODY = b'{"order":42,"items":[{"sku":"sku-1","qty":1}]}'
PATH = "/api/orders?x=1"

soak("sign", N_FAST, lambda i: h.sign_request("POST", PATH, 1.7e12 + i, f"n{i}", BODY, SECRET_HASH))


# The memory store holds every nonce of the last ~2 s, so its size is the call rate times
# that window: a run whose rate drifts (a noisy machine) would show the drift as RSS. Its
# calls are paced at STORE_RATE per second (a rate every run sustains) so the working set is
# the same from start to end. Its warm-up is at least STORE_WARM_SECONDS, as in soak.mjs.
STORE_WARM_SECONDS = float(os.environ.get("SOAK_STORE_WARM_SECONDS", "60"))
STORE_RATE = float(os.environ.get("SOAK_STORE_RATE", "5000"))


def paced(fn, rate):
    t0 = [None]

    def call(i):
        if i % 250 == 0:
            now = time.perf_counter()
            if t0[0] is None:
                t0[0] = now - i / rate
            ahead = t0[0] + i / rate - now
            if ahead > 0:
                time.sleep(ahead)
        fn(i)

    return call


def verify_soak(label, n, rate=None, **store):
    # Every call signs a fresh request (unique nonce, current time) and verifies it, so each
    # call claims a new nonce. max_skew_ms 1000: a nonce lives about 2 s.
    namespace = "soak_%d_%s" % (os.getpid(), re.sub(r"\W+", "_", label))
    auth = h.HmacHttpAuth(namespace=namespace, max_skew_ms=1000, **store)
    auth.clients.set_secret_hash("app_a", SECRET_HASH)

    def one(i):
        ts = int(time.time() * 1000)
        nonce = f"n{i}"
        sig = h.sign_request("POST", PATH, ts, nonce, BODY, SECRET_HASH)
        auth.verify("POST", PATH, {"x-client-id": "app_a", "x-signature": sig, "x-timestamp": str(ts), "x-nonce": nonce}, BODY)

    if rate:
        soak(label, n, paced(one, rate), warm_seconds=max(WARM_SECONDS, STORE_WARM_SECONDS))
    else:
        soak(label, n, one)
    auth.clients.delete("app_a")


verify_soak(f"verify (memory store, {STORE_RATE:g}/s)", N_FAST, rate=STORE_RATE)
verify_soak("verify (redis)", N_REDIS, redis_url=REDIS_URL)

KEY = "soak-secret-0123456789abcdef0123"
CLAIMS = {"sub": "u1", "email": "alice@example.com", "role": "user", "iat": 1700000000, "exp": 4000000000}
TOKEN = jwt.encode(CLAIMS, KEY, algorithm="HS256")
soak("jwt_sign", N_FAST, lambda i: jwt.encode(CLAIMS, KEY, algorithm="HS256"))
soak("jwt_verify", N_FAST, lambda i: jwt.decode(TOKEN, KEY, algorithms=["HS256"]))

ph = password.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PHC = ph.hash("pw-soak")
soak("password_verify (argon2id m=8 t=1 p=1)", N_KDF, lambda i: ph.verify(PHC, "pw-soak"))

registry = realtime.SubscriberRegistry()
stream = realtime.MemorySseStream()
registry.subscribe(stream, channels=["soak"])


def publish(i):
    registry.broadcast("soak", {"method": "tick", "params": {"i": i}})
    if i % 1000 == 999:
        stream.take_body()  # the client reads what was sent


soak("sse_publish (registry broadcast, MemorySseStream)", N_FAST, publish)
assert not stream.closed, "the stream was cut off"
