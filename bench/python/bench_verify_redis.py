"""Verification against the same local Redis, authcore (one round trip, Rust
client, GIL released) vs the same logic in pure Python with redis-py (HGET, then
SET NX EX: two round trips), at concurrency 1 (sync) and 64 (asyncio).

Prints a table and writes bench/results/python-verify-redis.json. Needs Redis on
$AUTHCORE_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import os
import pathlib
import sys
import time
import uuid

import redis
import redis.asyncio as aredis

import authcore
import authcore.hmac as h
from bench_wire import py_normalize_path

URL = os.environ.get("AUTHCORE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
N_SEQ = int(os.environ.get("AUTHCORE_BENCH_N_SEQ", "4000"))
N_CONC = int(os.environ.get("AUTHCORE_BENCH_N_CONC", "20000"))
CONCURRENCY = 64
MAX_SKEW_MS = 300000
BODY = b'{"event":"order.created","id":42,"items":[1,2,3],"note":"' + b"x" * 120 + b'"}'
PATH = "/v1/orders?expand=items"


# ---- the original's verifyHttpSignature in pure Python (redis-py, two round trips) --
class PyAuthError(Exception):
    def __init__(self, code: str, status: int = 401):
        super().__init__(code)
        self.code = code
        self.status = status


def get_header(headers, name):
    for k, v in headers.items():
        if k.lower() == name:
            return v[0] if isinstance(v, list) else v
    return None


def parse_record(raw: str):
    try:
        rec = json.loads(raw)
        if isinstance(rec, dict) and isinstance(rec.get("secretHash"), str):
            exp = rec.get("expiresAt")
            return rec["secretHash"], exp if isinstance(exp, (int, float)) else None, rec.get("allowedIps") or []
    except ValueError:
        pass
    return raw, None, []


def prepare(headers, now):
    client_id = (get_header(headers, "x-client-id") or "").strip()
    if not client_id:
        raise PyAuthError("MISSING_CLIENT_ID")
    signature = get_header(headers, "x-signature")
    if not signature:
        raise PyAuthError("MISSING_SIGNATURE")
    ts_raw = get_header(headers, "x-timestamp")
    if not ts_raw:
        raise PyAuthError("MISSING_TIMESTAMP")
    nonce = get_header(headers, "x-nonce")
    if not nonce:
        raise PyAuthError("MISSING_NONCE")
    try:
        ts = float(ts_raw)
    except ValueError:
        raise PyAuthError("INVALID_TIMESTAMP") from None
    if not math.isfinite(ts):
        raise PyAuthError("INVALID_TIMESTAMP")
    if abs(now - ts) > MAX_SKEW_MS:
        raise PyAuthError("TIMESTAMP_SKEW")
    return client_id, signature, nonce, ts


def check(method, path, body, record_raw, client_id, signature, nonce, ts, now):
    if not record_raw:
        raise PyAuthError("UNKNOWN_CLIENT")
    secret_hash, expires_at, allowed = parse_record(record_raw)
    if expires_at is not None and now > expires_at:
        raise PyAuthError("CLIENT_EXPIRED")
    ts_text = str(int(ts)) if ts.is_integer() else repr(ts)
    body_hash = hashlib.sha256(body.decode("utf-8", "replace").encode()).hexdigest()
    payload = f"{method.upper()}\n{py_normalize_path(path)}\n{ts_text}\n{nonce}\n{body_hash}"
    expected = hmac.new(secret_hash.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if len(expected) != len(signature) or not hmac.compare_digest(expected, signature.lower()):
        raise PyAuthError("BAD_SIGNATURE")
    return ts_text


def py_verify_sync(r: redis.Redis, ns, method, path, headers, body):
    now = time.time() * 1000
    client_id, signature, nonce, ts = prepare(headers, now)
    record = r.hget(f"{ns}:clients", client_id)  # round trip 1
    ts_text = check(method, path, body, record, client_id, signature, nonce, ts, now)
    ok = r.set(f"{ns}:nonce:{client_id}:{nonce}:{ts_text}", "1", nx=True, ex=MAX_SKEW_MS // 1000)  # round trip 2
    if not ok:
        raise PyAuthError("REPLAYED_NONCE")
    return client_id


async def py_verify_async(r: aredis.Redis, ns, method, path, headers, body):
    now = time.time() * 1000
    client_id, signature, nonce, ts = prepare(headers, now)
    record = await r.hget(f"{ns}:clients", client_id)
    ts_text = check(method, path, body, record, client_id, signature, nonce, ts, now)
    ok = await r.set(f"{ns}:nonce:{client_id}:{nonce}:{ts_text}", "1", nx=True, ex=MAX_SKEW_MS // 1000)
    if not ok:
        raise PyAuthError("REPLAYED_NONCE")
    return client_id


# ---- workload -----------------------------------------------------------------------
def signed_requests(n, tag):
    ts = int(time.time() * 1000)
    out = []
    for i in range(n):
        out.append(
            h.build_signed_headers("POST", PATH, BODY, "bench_client", "bench_secret", nonce=f"{tag}-{i}", timestamp=ts)
        )
    return out


def stats(latencies_ns, total_s, n):
    lat = sorted(latencies_ns)
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1e3  # noqa: E731
    return {"n": n, "throughput_rps": n / total_s, "p50_us": pick(0.50), "p99_us": pick(0.99)}


def run_seq(fn, reqs):
    lat = []
    t0 = time.perf_counter()
    for headers in reqs:
        s = time.perf_counter_ns()
        fn(headers)
        lat.append(time.perf_counter_ns() - s)
    return stats(lat, time.perf_counter() - t0, len(reqs))


async def run_conc(fn, reqs, concurrency):
    lat = []
    it = iter(reqs)

    async def worker():
        for headers in it:
            s = time.perf_counter_ns()
            await fn(headers)
            lat.append(time.perf_counter_ns() - s)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return stats(lat, time.perf_counter() - t0, len(reqs))


def cleanup(r, ns):
    keys = list(r.scan_iter(match=f"{ns}:*", count=1000))
    for i in range(0, len(keys), 1000):
        r.delete(*keys[i : i + 1000])


def main():
    r = redis.Redis.from_url(URL, decode_responses=True)
    r.ping()
    ns_ours = f"bench_ours_{uuid.uuid4().hex[:8]}"
    ns_py = f"bench_py_{uuid.uuid4().hex[:8]}"
    auth = h.HmacHttpAuth(redis_url=URL, namespace=ns_ours)
    auth.clients.set_secret("bench_client", "bench_secret")
    r.hset(f"{ns_py}:clients", "bench_client", r.hget(f"{ns_ours}:clients", "bench_client"))
    results = {}
    try:
        # warm-up both paths
        for hd in signed_requests(200, "warm-ours"):
            auth.verify("POST", PATH, hd, BODY)
        for hd in signed_requests(200, "warm-py"):
            py_verify_sync(r, ns_py, "POST", PATH, hd, BODY)

        results["c1"] = {
            "authcore": run_seq(lambda hd: auth.verify("POST", PATH, hd, BODY), signed_requests(N_SEQ, "s-ours")),
            "redis-py": run_seq(lambda hd: py_verify_sync(r, ns_py, "POST", PATH, hd, BODY), signed_requests(N_SEQ, "s-py")),
        }

        async def conc():
            ar = aredis.Redis.from_url(URL, decode_responses=True, max_connections=CONCURRENCY)
            try:
                await run_conc(lambda hd: auth.verify_async("POST", PATH, hd, BODY), signed_requests(500, "wa"), CONCURRENCY)
                await run_conc(lambda hd: py_verify_async(ar, ns_py, "POST", PATH, hd, BODY), signed_requests(500, "wp"), CONCURRENCY)
                ours = await run_conc(
                    lambda hd: auth.verify_async("POST", PATH, hd, BODY), signed_requests(N_CONC, "c-ours"), CONCURRENCY
                )
                pure = await run_conc(
                    lambda hd: py_verify_async(ar, ns_py, "POST", PATH, hd, BODY), signed_requests(N_CONC, "c-py"), CONCURRENCY
                )
                return {"authcore": ours, "redis-py": pure}
            finally:
                await ar.aclose()

        results["c64"] = asyncio.run(conc())
    finally:
        cleanup(r, ns_ours)
        cleanup(r, ns_py)

    print(f"authcore {authcore.__version__}, Python {sys.version.split()[0]}, Redis {URL}")
    print(f"{'conc':>4} | {'impl':>8} | {'req/s':>8} | {'p50 µs':>7} | {'p99 µs':>7}")
    print("-" * 47)
    for c, label in (("c1", "1"), ("c64", "64")):
        for impl in ("authcore", "redis-py"):
            s = results[c][impl]
            print(f"{label:>4} | {impl:>8} | {s['throughput_rps']:8.0f} | {s['p50_us']:7.0f} | {s['p99_us']:7.0f}")
        ratio = results[c]["authcore"]["throughput_rps"] / results[c]["redis-py"]["throughput_rps"]
        results[c]["throughput_ratio"] = ratio
        print(f"{label:>4} | authcore/redis-py throughput: {ratio:.2f}x")
    out = pathlib.Path(__file__).resolve().parents[1] / "results"
    out.mkdir(exist_ok=True)
    (out / "python-verify-redis.json").write_text(
        json.dumps(
            {"benchmark": "python-verify-redis", "python": sys.version.split()[0], "authcore": authcore.__version__,
             "body_bytes": len(BODY), "concurrency": [1, CONCURRENCY], "results": results},
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
