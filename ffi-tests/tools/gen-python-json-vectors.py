"""Writes ffi-tests/vectors/python-json-dumps.json: Python values and the exact text of
`json.dumps(value, separators=(",", ":"))` (what PyJWT signs), from CPython itself.

Values are tagged so that JSON can state them exactly: ``null``/``true``/``false``,
``{"int": "<decimal>"}``, ``{"float": "<16 hex digits of the IEEE-754 bits>"}``,
``{"str": "..."}``, ``{"list": [...]}``, ``{"dict": [[key, value], ...]}`` (keys tagged
the same way). A case is ``{"id", "value", "expect": {"ok": text} | {"error": message}}``;
NaN/±Infinity are refused by the core (``allow_nan=False``), so their ``error`` is the
message Python 3.13 gives (older versions omit the ``: <repr>`` part).

Run: python3 ffi-tests/tools/gen-python-json-vectors.py (deterministic: fixed seed).
"""

from __future__ import annotations

import json
import pathlib
import random
import struct
import sys

OUT = pathlib.Path(__file__).resolve().parent.parent / "vectors" / "python-json-dumps.json"
rng = random.Random(20261207)


def bits(f: float) -> str:
    return struct.pack(">d", f).hex()


def tag(v):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": bits(v)}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, (list, tuple)):
        return {"list": [tag(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": [[tag(k), tag(x)] for k, x in v.items()]}
    raise TypeError(type(v))


def random_float() -> float:
    while True:
        f = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
        if f == f and f not in (float("inf"), float("-inf")):
            return f


def random_str() -> str:
    pools = [
        (0x20, 0x7E),
        (0x00, 0x1F),
        (0x7F, 0xFF),
        (0x100, 0xD7FF),
        (0xE000, 0xFFFF),
        (0x10000, 0x10FFFF),
    ]
    out = []
    for _ in range(rng.randrange(0, 12)):
        lo, hi = rng.choice(pools)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def random_value(depth: int = 0):
    kinds = ["none", "bool", "int", "bigint", "float", "str"]
    if depth < 3:
        kinds += ["list", "dict"]
    k = rng.choice(kinds)
    if k == "none":
        return None
    if k == "bool":
        return rng.random() < 0.5
    if k == "int":
        return rng.randint(-(2**63), 2**63 - 1)
    if k == "bigint":
        return rng.choice([-1, 1]) * rng.randint(2**63, 2**200)
    if k == "float":
        return random_float() if rng.random() < 0.7 else rng.choice([0.1, 1.5, -2.25, 1e16, 1e-5, 12345.678])
    if k == "str":
        return random_str()
    if k == "list":
        return [random_value(depth + 1) for _ in range(rng.randrange(0, 4))]
    d = {}
    for _ in range(rng.randrange(0, 4)):
        key = rng.choice([random_str(), rng.randint(-1000, 2**70), random_float(), True, False, None])
        d[key] = random_value(depth + 1)
    return d


FIXED = {
    "empty-dict": {},
    "jwt-claims": {"sub": "1234567890", "name": "John Doe", "iat": 1516239022, "admin": True, "exp": 1516242622.5},
    "key-order-kept": {"z": 1, "a": 2, "m": [3, 2, 1]},
    "float-zero": 0.0,
    "float-negative-zero": -0.0,
    "float-tenth": 0.1,
    "float-1e15": 1e15,
    "float-1e16": 1e16,
    "float-1e-4": 0.0001,
    "float-1e-5": 0.00001,
    "float-min-subnormal": 5e-324,
    "float-max": 1.7976931348623157e308,
    "float-large-integral": 123456789012345680.0,
    "float-third": 1 / 3,
    "int-min": -(2**63),
    "int-max": 2**63 - 1,
    "bigint": 2**64,
    "bigint-negative": -(2**100),
    "escapes": "\"\\/\b\f\n\r\t\x00\x1f\x7f",
    "unicode-bmp": "caf\u00e9 \u2028 \uffff",
    "unicode-astral": "\U0001f600\U0010ffff",
    "keys-non-string": {True: 1, False: 2, None: 3, 7: 4, 2**70: 5, 1.5: 6, -0.0: 7, 1e16: 8},
    "nested": {"a": [{"b": [None, True, False]}, [], {}], "c": (1, 2)},
}

NON_FINITE = {
    "nan": float("nan"),
    "inf": float("inf"),
    "minus-inf-nested": {"a": [float("-inf")]},
    "nan-key": {float("nan"): 1},
}


def main() -> None:
    cases = []
    for cid, v in FIXED.items():
        cases.append({"id": cid, "value": tag(v), "expect": {"ok": json.dumps(v, separators=(",", ":"))}})
    for i in range(300):
        v = random_value()
        cases.append({"id": f"random-{i}", "value": tag(v), "expect": {"ok": json.dumps(v, separators=(",", ":"))}})
    for i in range(400):
        v = random_float()
        cases.append({"id": f"float-{i}", "value": tag(v), "expect": {"ok": json.dumps(v, separators=(",", ":"))}})
    for cid, v in NON_FINITE.items():
        bad = next(x for x in _floats(v) if x != x or x in (float("inf"), float("-inf")))
        cases.append({"id": cid, "value": tag(v), "expect": {"error": f"Out of range float values are not JSON compliant: {bad!r}"}})
    doc = {
        "description": "json.dumps(value, separators=(',', ':')): the payload text PyJWT signs",
        "source": f"CPython {sys.version.split()[0]} json.dumps, ffi-tests/tools/gen-python-json-vectors.py",
        "cases": cases,
    }
    head = json.dumps({k: doc[k] for k in ("description", "source")}, indent=1, ensure_ascii=False)
    body = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases)
    OUT.write_text(head[:-2] + ',\n "cases": [\n' + body + "\n ]\n}\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {OUT}")


def _floats(v):
    if isinstance(v, float):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield from _floats(k)
            yield from _floats(x)
    elif isinstance(v, (list, tuple)):
        for x in v:
            yield from _floats(x)


if __name__ == "__main__":
    main()
