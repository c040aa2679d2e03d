"""Request signing and verification per call, authcore vs the same wire written
with the standard library (hmac/hashlib + urllib.parse), 200-byte and 64 KiB bodies.

Prints a table and writes bench/results/python-wire.json. Run through bench/python/run.sh
(release build of the extension in a separate venv).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pathlib
import platform
import sys
import time
from urllib.parse import quote, urlsplit

import authcore
import authcore.hmac as h

SECRET = h.hash_client_secret("secret_a")
KEY = SECRET.encode()
PATH = "/v1/messages?x=1"
TS = 1700000000000
NONCE = "0123456789abcdef0123456789abcdef"


# ---- the same wire in pure Python -------------------------------------------------
def py_normalize_path(path: str) -> str:
    # What a careful pure-Python port does: urllib for the split, quote for the
    # percent-encoding (already-normal paths pass through unchanged).
    parts = urlsplit(path)
    out = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._")
    if parts.query:
        out += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=?~-._`{}|^[]\\")
    return out


def py_sign_request(method: str, path: str, ts: int, nonce: str, body: bytes, secret: bytes) -> str:
    body_hash = hashlib.sha256(body).hexdigest()
    payload = f"{method.upper()}\n{py_normalize_path(path)}\n{ts}\n{nonce}\n{body_hash}"
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def py_verify(method, path, ts, nonce, body, secret, signature) -> bool:
    return hmac.compare_digest(py_sign_request(method, path, ts, nonce, body, secret), signature.lower())


# ---- timing -----------------------------------------------------------------------
def per_call_ns(fn, min_time=0.4):
    # Calibrate the loop count, then take the best of 5 runs.
    n = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        dt = time.perf_counter_ns() - t0
        if dt > 50_000_000:
            break
        n *= 2
    loops = max(1, int(n * (min_time / 5) / (dt / 1e9)))
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter_ns() - t0) / loops)
    return best


def main() -> None:
    rows = []
    for label, size in (("200 B", 200), ("64 KiB", 64 * 1024)):
        body = (b'{"k":"' + b"x" * size)[:size - 2] + b'"}'
        sig = h.sign_request("POST", PATH, TS, NONCE, body, SECRET)
        assert sig == py_sign_request("POST", PATH, TS, NONCE, body, KEY)
        assert h.verify_request_signature("POST", PATH, TS, NONCE, body, SECRET, sig)
        assert py_verify("POST", PATH, TS, NONCE, body, KEY, sig)
        ours_sign = per_call_ns(lambda: h.sign_request("POST", PATH, TS, NONCE, body, SECRET))
        py_sign = per_call_ns(lambda: py_sign_request("POST", PATH, TS, NONCE, body, KEY))
        ours_verify = per_call_ns(lambda: h.verify_request_signature("POST", PATH, TS, NONCE, body, SECRET, sig))
        py_verify_ns = per_call_ns(lambda: py_verify("POST", PATH, TS, NONCE, body, KEY, sig))
        raw_sha = per_call_ns(lambda: hashlib.sha256(body).digest())
        rows.append(
            {
                "body": label,
                "bytes": size,
                "sign_ns": {"authcore": ours_sign, "stdlib": py_sign},
                "verify_ns": {"authcore": ours_verify, "stdlib": py_verify_ns},
                "sign_speedup": py_sign / ours_sign,
                "verify_speedup": py_verify_ns / ours_verify,
                "raw_sha256_ns": raw_sha,
                "authcore_sign_mb_s": size / ours_sign * 1e3,
                "raw_sha256_mb_s": size / raw_sha * 1e3,
            }
        )

    print(f"authcore {authcore.__version__} Python {platform.python_version()} ({platform.machine()})")
    print(f"{'body':>7} | {'op':>6} | {'authcore µs':>11} | {'stdlib µs':>9} | {'speedup':>7}")
    print("-" * 54)
    for r in rows:
        for op in ("sign", "verify"):
            a, s = r[f"{op}_ns"]["authcore"], r[f"{op}_ns"]["stdlib"]
            print(f"{r['body']:>7} | {op:>6} | {a / 1e3:11.2f} | {s / 1e3:9.2f} | {s / a:6.2f}x")
    big = rows[-1]
    print(
        f"64 KiB: authcore sign {big['authcore_sign_mb_s']:.0f} MB/s vs raw hashlib SHA-256 "
        f"{big['raw_sha256_mb_s']:.0f} MB/s ({big['authcore_sign_mb_s'] / big['raw_sha256_mb_s'] * 100:.0f}%)"
    )
    out = pathlib.Path(__file__).resolve().parents[1] / "results"
    out.mkdir(exist_ok=True)
    (out / "python-wire.json").write_text(
        json.dumps(
            {
                "benchmark": "python-wire",
                "python": sys.version.split()[0],
                "authcore": authcore.__version__,
                "cpu_count": os.cpu_count(),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
