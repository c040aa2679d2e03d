"""JWT HS256 encode/decode vs PyJWT, argon2id hash/verify vs argon2-cffi at
equal parameters (OWASP m=19456 KiB, t=2, p=1), sequential and 4 threads at once.

Prints a table and writes bench/results/python-primitives.json. Run through
bench/python-primitives/run.sh (release build of the extension in a separate venv).
Goals: JWT at least 5x PyJWT; argon2id no slower than argon2-cffi.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import platform
import statistics
import sys
import threading
import time
from importlib.metadata import version

import argon2
import jwt as pyjwt

import authcore
import authcore.jwt as ajwt
import authcore.password as apw

SECRET = "a-32-byte-secret-for-hs256-tests"
NOW = int(time.time())
PAYLOAD = {
    "sub": "user-42",
    "email": "alice@example.com",
    "role": "admin",
    "scope": "read write",
    "iss": "https://auth.example.com",
    "aud": "api",
    "iat": NOW,
    "exp": NOW + 3600,
}
OWASP = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}


def _calibrate(fn):
    n = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        if time.perf_counter_ns() - t0 > 20_000_000:
            return n
        n *= 2


def paired_per_call_ns(fa, fb, min_time=0.1, rounds=9):
    """Best-of-`rounds` ns per call of `fa` and of `fb`, rounds alternating between the two
    so that load changes on a shared machine hit both sides alike."""
    na = max(1, int(_calibrate(fa) * min_time / 0.02))
    nb = max(1, int(_calibrate(fb) * min_time / 0.02))
    best_a = best_b = float("inf")
    for _ in range(rounds):
        for fn, n, side in ((fa, na, "a"), (fb, nb, "b")):
            t0 = time.perf_counter_ns()
            for _ in range(n):
                fn()
            per = (time.perf_counter_ns() - t0) / n
            if side == "a":
                best_a = min(best_a, per)
            else:
                best_b = min(best_b, per)
    return best_a, best_b


def paired_median_ms(fa, fb, runs):
    """Median ms of `fa` and of `fb`, calls interleaved so that load changes on a shared
    machine hit both sides alike."""
    ta, tb = [], []
    for i in range(runs):
        for f, times in ((fa, ta), (fb, tb)) if i % 2 == 0 else ((fb, tb), (fa, ta)):
            t0 = time.perf_counter()
            f()
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ta), statistics.median(tb)


def batch_ms(fn, threads=4, rounds=3):
    """Wall time of `threads` calls started together (threads only overlap if the GIL is
    released), median of `rounds`."""
    def once():
        ts = [threading.Thread(target=fn) for _ in range(threads)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return (time.perf_counter() - t0) * 1000

    return statistics.median(once() for _ in range(rounds))


def cpu_model():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


async def async_batch(start):
    """Wall ms of 8 concurrent ``start(i)`` awaitables, and the event loop's max lag (1 ms probe)."""
    lag = 0.0
    done = False

    async def probe():
        nonlocal lag
        while not done:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lag = max(lag, (time.perf_counter() - t) * 1000 - 1)

    task = asyncio.create_task(probe())
    await asyncio.sleep(0.005)
    t0 = time.perf_counter()
    await asyncio.gather(*(start(i) for i in range(8)))
    wall = (time.perf_counter() - t0) * 1000
    await asyncio.sleep(0.003)
    done = True
    await task
    return wall, lag


def main():
    quick = "--quick" in sys.argv
    rows = []

    def row(name, ours, theirs, unit, lower_is_better=True):
        ratio = theirs / ours if lower_is_better else ours / theirs
        rows.append({"benchmark": name, "authcore": round(ours, 3), "reference": round(theirs, 3), "unit": unit, "speedup": round(ratio, 2)})

    # --- JWT HS256 -------------------------------------------------------------------
    ours_tok = ajwt.encode(PAYLOAD, SECRET, algorithm="HS256")
    their_tok = pyjwt.encode(PAYLOAD, SECRET, algorithm="HS256")
    assert ours_tok == their_tok, "same bytes"
    assert ajwt.decode(their_tok, SECRET, algorithms=["HS256"], audience="api") == PAYLOAD
    t = 0.05 if quick else 0.1
    enc_ours, enc_theirs = paired_per_call_ns(
        lambda: ajwt.encode(PAYLOAD, SECRET, algorithm="HS256"), lambda: pyjwt.encode(PAYLOAD, SECRET, algorithm="HS256"), t
    )
    row("JWT HS256 encode (PyJWT)", enc_ours / 1000, enc_theirs / 1000, "us/op")
    kw = {"algorithms": ["HS256"], "audience": "api", "issuer": "https://auth.example.com"}
    dec_ours, dec_theirs = paired_per_call_ns(lambda: ajwt.decode(ours_tok, SECRET, **kw), lambda: pyjwt.decode(their_tok, SECRET, **kw), t)
    row("JWT HS256 decode, aud+iss (PyJWT)", dec_ours / 1000, dec_theirs / 1000, "us/op")
    plain = {k: v for k, v in PAYLOAD.items() if k != "aud"}
    ptok = pyjwt.encode(plain, SECRET)
    dec2_ours, dec2_theirs = paired_per_call_ns(
        lambda: ajwt.decode(ptok, SECRET, algorithms=["HS256"]), lambda: pyjwt.decode(ptok, SECRET, algorithms=["HS256"]), t
    )
    row("JWT HS256 decode, defaults (PyJWT)", dec2_ours / 1000, dec2_theirs / 1000, "us/op")

    # --- argon2id --------------------------------------------------------------------
    ours = apw.PasswordHasher(**OWASP)
    theirs = argon2.PasswordHasher(**OWASP)
    h_ours, h_theirs = ours.hash("correct horse"), theirs.hash("correct horse")
    assert theirs.verify(h_ours, "correct horse") and ours.verify(h_theirs, "correct horse")
    runs = 6 if quick else 31
    hash_ours, hash_theirs = paired_median_ms(lambda: ours.hash("correct horse"), lambda: theirs.hash("correct horse"), runs)
    row("argon2id hash m=19456 t=2 p=1 (argon2-cffi)", hash_ours, hash_theirs, "ms/op")
    ver_ours, ver_theirs = paired_median_ms(
        lambda: ours.verify(h_ours, "correct horse"), lambda: theirs.verify(h_theirs, "correct horse"), runs
    )
    row("argon2id verify m=19456 t=2 p=1 (argon2-cffi)", ver_ours, ver_theirs, "ms/op")
    b_ours = batch_ms(lambda: ours.hash("correct horse"))
    b_theirs = batch_ms(lambda: theirs.hash("correct horse"))
    row("argon2id 4 hashes on 4 threads, wall (argon2-cffi)", b_ours, b_theirs, "ms/batch")
    # asyncio: 8 concurrent hashes (ours: hash_async on the bounded KDF pool; theirs: what an
    # argon2-cffi user writes, asyncio.to_thread). Wall time and the loop's worst lag.
    lag_runs = 2 if quick else 5
    a_ours = [asyncio.run(async_batch(lambda i: ours.hash_async(f"pw{i}"))) for _ in range(lag_runs)]
    a_theirs = [asyncio.run(async_batch(lambda i: asyncio.to_thread(theirs.hash, f"pw{i}"))) for _ in range(lag_runs)]
    row("argon2id 8 concurrent async hashes, wall (argon2-cffi + to_thread)",
        statistics.median(w for w, _ in a_ours), statistics.median(w for w, _ in a_theirs), "ms/batch")
    row("argon2id 8 concurrent async hashes, max event-loop lag (argon2-cffi + to_thread)",
        max(lag for _, lag in a_ours), max(lag for _, lag in a_theirs), "ms")

    # --- report ----------------------------------------------------------------------
    w = max(len(r["benchmark"]) for r in rows)
    print(f"{'benchmark':<{w}}  {'authcore':>10}  {'reference':>10}  {'unit':<8}  speedup")
    for r in rows:
        print(f"{r['benchmark']:<{w}}  {r['authcore']:>10.3f}  {r['reference']:>10.3f}  {r['unit']:<8}  {r['speedup']:.2f}x")
    result = {
        "suite": "python-primitives",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
            "note": "2-core machine shared with other builds; pairs of measurements are interleaved",
        },
        "versions": {
            "authcore": authcore.__version__,
            "authcore_build": "maturin --profile bench-fast (release, thin LTO)",
            "PyJWT": version("PyJWT"),
            "argon2-cffi": version("argon2-cffi"),
            "argon2-cffi-bindings": version("argon2-cffi-bindings"),
        },
        "goals": {"jwt_speedup_min": 5.0, "argon2_speedup_min": 1.0},
        "results": rows,
    }
    out = pathlib.Path(__file__).resolve().parent.parent / "results" / "python-primitives.json"
    if not quick:
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
