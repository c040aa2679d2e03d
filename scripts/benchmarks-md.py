#!/usr/bin/env python3
"""Writes BENCHMARKS.md from bench/results/*.json (called by bench/run.sh, so by `make bench`).

Every number comes from a results file: the machine and versions the suites recorded, the
medians of their repeated runs, and the ratio to each peer measured in the same run. A suite
whose file is missing is listed as not run; nothing is estimated.

    python3 scripts/benchmarks-md.py [RESULTS_DIR] [OUT]
    python3 scripts/benchmarks-md.py --check

--check (run by `make test` and `make lint`) writes nothing: it fails when a suite's results
file is missing, when BENCHMARKS.md differs from what the results give, or when a ratio the
README's "Performance" table quotes is not one BENCHMARKS.md prints (at the README's precision).
"""

import json
import pathlib
import re
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECK = sys.argv[1:] == ["--check"]
ARGS = [] if CHECK else sys.argv[1:]
RESULTS = pathlib.Path(ARGS[0]) if len(ARGS) > 0 else ROOT / "bench" / "results"
OUT = pathlib.Path(ARGS[1]) if len(ARGS) > 1 else ROOT / "BENCHMARKS.md"
missing = []  # results files a suite expected and did not find


def load(name):
    p = RESULTS / name
    if not p.exists():
        missing.append(name)
        return None
    return json.loads(p.read_text())


def num(v):
    return float(v) if isinstance(v, (int, float)) else float(str(v).replace(",", ""))


def fmt(v, digits=3):
    """A value with `digits` significant digits, thousands kept whole."""
    v = num(v)
    if v == 0:
        return "0"
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}" if abs(v) >= 1 else f"{v:.{digits}g}"


def ratio(x):
    return f"**{x:.2f}x**"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def env_line(env):
    if not env:
        return ""
    parts = []
    for key in ("node", "python", "native", "uvThreadpoolSize", "loadAverage1m", "date"):
        # A build path names the machine that ran it, not the build: left out.
        if key in env and not str(env[key]).startswith("/"):
            parts.append(f"{key} {env[key]}")
    return "Recorded with " + ", ".join(parts) + "."


def median_of_runs(runs, key):
    return statistics.median(num(r[key]) for r in runs)


sections = []
summary = []  # (what, ratio text) for the top of the file
machines = set()
versions = {}


def note_env(env):
    if env:
        if "cpu" in env:
            machines.add(f"{env['cpu']}, {env.get('cores', '?')} cores")
        if "node" in env:
            versions.setdefault("Node", set()).add(env["node"])


def section(title, body, source):
    sections.append(f"## {title}\n\n{body}\n\nSource: `bench/results/{source}`.")


# --- HMAC signing and verification -------------------------------------------------------


def node_sign_verify():
    j = load("node-sign-verify.json")
    if not j:
        return None
    note_env(j.get("environment"))
    rows = []
    for size in ("200 B", "64 KiB"):
        r = j["results"].get(size)
        if not r:
            continue
        pairs = [
            ("sign", "sign node:crypto", "sign addon (native)"),
            ("sign, drop-in API", "sign node:crypto", "sign drop-in"),
            ("verify", "verify node:crypto (Buffer body)", "verify addon (Buffer body)"),
        ]
        for what, peer, ours in pairs:
            if peer in r and ours in r:
                x = num(r[peer]) / num(r[ours])
                rows.append([size, what, fmt(r[ours]), fmt(r[peer]), ratio(x)])
                if size == "200 B" and what == "verify":
                    summary.append(("Node: HMAC verify, 200 B body, vs `node:crypto`", x))
    body = (
        "Node addon against the original's `node:crypto` implementation, ns per call "
        "(medians).\n\n"
        + table(["body", "operation", "authcore ns", "node:crypto ns", "speed-up"], rows)
        + "\n\n"
        + env_line(j.get("environment"))
    )
    section("Node: HMAC sign and verify", body, "node-sign-verify.json")


def node_verify_redis():
    j = load("node-verify-redis.json")
    if not j:
        return None
    note_env(j.get("environment"))
    res = j["results"]
    rows = []
    for c in sorted({r["concurrency"] for r in res}):
        group = [r for r in res if r["concurrency"] == c]
        base = next((r for r in group if r["impl"].startswith("original")), None)
        for r in group:
            x = r["throughput"] / base["throughput"] if base else None
            rows.append(
                [
                    c,
                    r["impl"],
                    fmt(r["throughput"]),
                    fmt(r["p50"]),
                    fmt(r["p99"]),
                    "" if r is base or x is None else ratio(x),
                ]
            )
            if r is not base and base and "URL" in r["impl"] and c == max(x["concurrency"] for x in res):
                summary.append((f"Node: verify on Redis at concurrency {c}, vs the original", x))
    body = (
        f"Whole request verification against a real Redis, {j.get('body', '')} body: "
        "requests per second and latency in ms.\n\n"
        + table(["concurrency", "implementation", "req/s", "p50 ms", "p99 ms", "throughput vs original"], rows)
        + "\n\n"
        + env_line(j.get("environment"))
    )
    section("Node: verification on Redis", body, "node-verify-redis.json")


def python_wire():
    j = load("python-wire.json")
    if not j:
        return None
    versions.setdefault("Python", set()).add(j.get("python", "?"))
    rows = []
    for r in j["rows"]:
        for op in ("sign", "verify"):
            ns = r[f"{op}_ns"]
            x = ns["stdlib"] / ns["authcore"]
            rows.append([r["body"], op, fmt(ns["authcore"]), fmt(ns["stdlib"]), ratio(x)])
            if r["body"] == "200 B" and op == "verify":
                summary.append(("Python: HMAC verify, 200 B body, vs `hmac`/`hashlib`", x))
    body = (
        "The wire functions against a pure-Python implementation on the standard library "
        "(`hmac`, `hashlib`), ns per call (medians).\n\n"
        + table(["body", "operation", "authcore ns", "stdlib ns", "speed-up"], rows)
        + f"\n\nRecorded with Python {j.get('python')}, authcore {j.get('authcore')}."
    )
    section("Python: HMAC sign and verify", body, "python-wire.json")


def python_verify_redis():
    j = load("python-verify-redis.json")
    if not j:
        return None
    rows = []
    for key, r in j["results"].items():
        a, p = r["authcore"], r["redis-py"]
        x = a["throughput_rps"] / p["throughput_rps"]
        rows.append(
            [key.lstrip("c"), fmt(a["throughput_rps"]), fmt(p["throughput_rps"]), fmt(a["p50_us"]), fmt(p["p50_us"]), ratio(x)]
        )
        summary.append((f"Python: verify on Redis at concurrency {key.lstrip('c')}, vs redis-py", x))
    body = (
        f"Whole request verification against a real Redis ({j.get('body_bytes')}-byte body), "
        "authcore (one round trip, Rust client) against the same checks on redis-py (two round "
        "trips; sync at concurrency 1, asyncio at 64).\n\n"
        + table(["concurrency", "authcore req/s", "redis-py req/s", "authcore p50 µs", "redis-py p50 µs", "throughput ratio"], rows)
        + f"\n\nRecorded with Python {j.get('python')}, authcore {j.get('authcore')}."
    )
    section("Python: verification on Redis", body, "python-verify-redis.json")


# --- Auth primitives ----------------------------------------------------------------------


def rows_vs_first(j, columns, label, headline=None):
    """A `rows` table (first row = authcore) with the first column's ratio to each peer."""
    rows = j["rows"]
    base = rows[0]
    out = []
    for r in rows:
        x = num(r[columns[0]]) / num(base[columns[0]])
        out.append([r["impl"]] + [r[c] for c in columns] + ["" if r is base else ratio(x)])
        if headline and r is not base and not r["impl"].startswith("authcore"):
            summary.append((f"{headline} vs {r['impl']}", x))
    return table(["implementation"] + columns + [f"{label} (peer / authcore)"], out)


def node_auth_argon2():
    j = load("node-auth-argon2.json")
    if not j:
        return None
    note_env(j.get("environment"))
    p = j["params"]
    body = (
        f"argon2id, m={p['memoryCost']} KiB, t={p['timeCost']}, p={p['parallelism']}, "
        f"medians of {j['runs']} runs.\n\n"
        + rows_vs_first(j, [c for c in j["rows"][0] if c != "impl"], "hash time", "Node: argon2id hash")
        + "\n\n"
        + env_line(j.get("environment"))
    )
    section("Node: argon2id", body, "node-auth-argon2.json")


def node_auth_bcrypt():
    j = load("node-auth-bcrypt.json")
    if not j:
        return None
    note_env(j.get("environment"))
    body = (
        f"bcrypt verify, cost {j['cost']}, medians of {j['runs']} runs.\n\n"
        + rows_vs_first(j, [c for c in j["rows"][0] if c != "impl"], "verify time")
        + "\n\n"
        + env_line(j.get("environment"))
    )
    base = num(j["rows"][0]["verify ms (median)"])
    for r in j["rows"]:
        if r["impl"].startswith("bcryptjs (compare)"):
            summary.append(("Node: bcrypt verify vs bcryptjs", num(r["verify ms (median)"]) / base))
    section("Node: bcrypt", body, "node-auth-bcrypt.json")


def node_auth_jwt():
    j = load("node-auth-jwt.json")
    if not j:
        return None
    note_env(j.get("environment"))
    out = []
    for op in dict.fromkeys(r["op"] for r in j["rows"]):
        group = [r for r in j["rows"] if r["op"] == op]
        base = group[0]
        for r in group:
            x = num(r["µs/op"]) / num(base["µs/op"])
            out.append([op, r["impl"], r["µs/op"], fmt(r["ops/s"]), "" if r is base else ratio(x)])
            if op == "verify" and r["impl"].split(" ")[0] in ("jsonwebtoken", "fast-jwt"):
                summary.append((f"Node: JWT HS256 verify vs {r['impl']}", x))
    body = (
        "HS256, µs per operation (medians); the ratio is each peer against the first authcore "
        "row of the operation.\n\n"
        + table(["operation", "implementation", "µs/op", "ops/s", "peer / authcore"], out)
        + "\n\n"
        + env_line(j.get("environment"))
    )
    section("Node: JWT", body, "node-auth-jwt.json")


def node_auth_sse():
    j = load("node-auth-sse.json")
    if not j:
        return None
    note_env(j.get("environment"))
    o, a = j["results"]["original"], j["results"]["authcore"]
    metrics = [
        ("fanoutMs", "fan-out of one event to every subscriber, ms", False),
        ("eventsPerS", "events/s to the rate subscribers", True),
        ("heapPerSubB", "heap + external per idle subscriber (real sockets), bytes", False),
        ("rssPerSubB", "RSS per idle subscriber (real sockets), bytes", False),
        ("managerHeapPerSubB", "manager heap per subscriber (stand-in responses), bytes", False),
    ]
    out = []
    for key, what, higher_better in metrics:
        mo, ma = median_of_runs(o, key), median_of_runs(a, key)
        x = ma / mo if higher_better else mo / ma
        out.append([what, fmt(ma), fmt(mo), ratio(x)])
        if key == "eventsPerS":
            summary.append(("Node: SSE event rate vs the original SseManager", x))
    body = (
        f"{j['subscribers']} subscribers for the fan-out, {j['rateSubscribers']} subscribers "
        f"and {j['rateEvents']} events for the rate, medians of {j['rounds']} rounds.\n\n"
        + table(["measure", "authcore", "original", "authcore advantage"], out)
        + "\n\n"
        + env_line(j.get("environment"))
    )
    section("Node: server-sent events (AuthTools)", body, "node-auth-sse.json")


def python_primitives():
    j = load("python-primitives.json")
    if not j:
        return None
    m = j.get("machine", {})
    if m:
        machines.add(f"{m.get('cpu')}, {m.get('cores')} cores")
        versions.setdefault("Python", set()).add(m.get("python", "?"))
    for k, v in j.get("versions", {}).items():
        if k not in ("authcore", "authcore_build"):
            versions.setdefault(k, set()).add(v)
    out = []
    for r in j["results"]:
        out.append([r["benchmark"], fmt(r["authcore"]), fmt(r["reference"]), r["unit"], ratio(r["speedup"])])
    for r in j["results"][:4]:
        summary.append((f"Python: {r['benchmark']}", r["speedup"]))
    body = (
        "authcore's Python API against the library it replaces (in parentheses), medians of "
        "interleaved runs.\n\n"
        + table(["benchmark", "authcore", "reference", "unit", "speed-up"], out)
        + f"\n\nBuild: {j.get('versions', {}).get('authcore_build', '?')}. {m.get('note', '').rstrip('.')}."
    )
    section("Python: JWT and argon2id", body, "python-primitives.json")


def node_propagation():
    j = load("node-propagation.json")
    if not j:
        return None
    note_env(j.get("environment"))
    res = j["results"]
    base = res[0]
    out = []
    for r in res:
        s = r["scenario"]
        cps = s["credentialsPerSecond"]["median"]
        x = cps / base["scenario"]["credentialsPerSecond"]["median"]
        lat = r.get("latencyMs", {})
        out.append(
            [
                r["impl"],
                fmt(s["ensureMs"]["median"]),
                fmt(s["syncMs"]["median"]),
                fmt(s["ackedMs"]["median"]),
                fmt(cps),
                fmt(lat.get("p50", 0)),
                fmt(lat.get("p99", 0)),
                "" if r is base else ratio(x),
            ]
        )
        if r is not base and "URL" in r["impl"]:
            summary.append(("Node: credential propagation, credentials/s vs the original", x))
    body = (
        f"{j['n']} credentials to 2 targets over RabbitMQ and Redis, medians of {j['rounds']} "
        f"rounds ({j['topology']}). Ensure: the {j['n']} sequential `ensure()` calls before the "
        f"sync. Latency: one credential, `ensure()` + `sync()` until both "
        f"targets applied it. Broker floor (1000 confirmed publishes): "
        f"{fmt(j['brokerFloorMs']['median'])} ms.\n\n"
        + table(["implementation", f"ensure x{j['n']} ms", "sync ms", "all ACKed ms", "credentials/s", "latency p50 ms", "latency p99 ms", "credentials/s vs original"], out)
        + "\n\n"
        + env_line(j.get("environment"))
    )
    section("Node: credential propagation", body, "node-propagation.json")


def metrics_overhead():
    j = load("metrics.json")
    if not j:
        return None
    note_env(j.get("environment"))
    out = []
    for label, r in (("Rust, 1 thread", j["rust"]["one_thread"]), ("Rust, 2 threads", j["rust"]["two_threads"]), ("Node", j["node"])):
        out.append(
            [label, fmt(r["ns_per_call_on_median"]), fmt(r["ns_per_call_off_median"]), f"{r['overhead_percent']:+.2f}%", f"{r['paired_overhead_percent']:+.2f}%"]
        )
    body = (
        f"{j['rust']['what']}.\n\n"
        + table(["where", "ns/call, metrics on", "ns/call, off", "overhead (medians)", "overhead (paired rounds)"], out)
        + "\n\n"
        + env_line(j.get("environment"))
    )
    ins = j.get("instructions")
    if ins:
        rows = [
            [str(i + 1), fmt(r["instructions_per_verify_on"]), fmt(r["instructions_per_verify_off"]), fmt(r["instructions_added_by_metrics"]), f"{r['overhead_percent']:+.2f}%"]
            for i, r in enumerate(ins["runs"])
        ]
        body = (
            "Load-independent: " + ins["what"] + f" ({ins['calls'][0]} and {ins['calls'][1]} calls; {ins['tool']}).\n\n"
            + table(["run", "instructions/verify, on", "off", "added by metrics", "overhead"], rows)
            + "\n\nWall clock (noisy under the shared machine's load): "
            + body
        )
    section("Metrics overhead", body, "metrics.json")


NODE_PEERS = ["jsonwebtoken", "fast-jwt", "jose", "@node-rs/argon2", "argon2", "bcryptjs", "@node-rs/bcrypt", "redis", "amqplib"]


def node_peer_versions():
    """The installed versions of the Node peers, as the lockfile pins them."""
    lock = ROOT / "package-lock.json"
    if not lock.exists():
        return "not recorded"
    packages = json.loads(lock.read_text()).get("packages", {})
    found = []
    for name in NODE_PEERS:
        v = packages.get(f"node_modules/{name}", {}).get("version")
        if v:
            found.append(f"{name} {v}")
    return ", ".join(found) or "not recorded"


def authcore_version():
    text = (ROOT / "Cargo.toml").read_text()
    m = re.search(r'^\[workspace\.package\][^\[]*?^version\s*=\s*"([^"]+)"', text, re.M | re.S)
    return m.group(1) if m else "?"


for fn in (
    node_sign_verify,
    node_verify_redis,
    python_wire,
    python_verify_redis,
    node_auth_argon2,
    node_auth_bcrypt,
    node_auth_jwt,
    node_auth_sse,
    python_primitives,
    node_propagation,
    metrics_overhead,
):
    fn()

lines = [
    "# Benchmarks",
    "",
    "Generated by `scripts/benchmarks-md.py` from `bench/results/*.json` (`make bench` runs the",
    "suites, then this script); edit neither by hand. Every suite runs authcore and the",
    "libraries it replaces in one process, interleaved, and reports medians of repeated runs.",
    "A ratio above 1 favours authcore. The machine is a shared 2-core VM: absolute numbers",
    "move with its load (recorded per suite); ratios measured in one run are what to compare.",
    "",
    "## Machine and versions",
    "",
    f"- CPU: {'; '.join(sorted(machines)) or 'not recorded'}",
    f"- authcore {authcore_version()}",
]
for k in sorted(versions, key=str.lower):
    lines.append(f"- {k} {', '.join(sorted(str(v) for v in versions[k]))}")
lines.append(f"- Node peers (package-lock.json): {node_peer_versions()}")
lines += ["", "## Summary", "", table(["comparison", "ratio"], [[w, ratio(x)] for w, x in summary]), ""]
if missing:
    lines += ["Not run (no results file): " + ", ".join(f"`bench/results/{m}`" for m in missing) + ".", ""]
lines += [s + "\n" for s in sections]
text = "\n".join(lines).rstrip("\n") + "\n"


def readme_ratios():
    """The ratios quoted in the README's "Performance" section, as written (e.g. "111", "1.71")."""
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"^## Performance\n(.*?)(?=^## )", readme, re.M | re.S)
    if not m:
        return None
    return re.findall(r"(?<![\w.])(\d+(?:\.\d+)?)x\b", m.group(1))


if CHECK:
    errors = [f"bench/results/{m} is missing (its section and summary rows would be dropped)" for m in missing]
    if OUT.read_text() != text:
        errors.append(f"{OUT.name} differs from what scripts/benchmarks-md.py writes from bench/results: regenerate it")
    printed = {float(x) for x in re.findall(r"\*\*(\d+(?:\.\d+)?)x\*\*", text)}
    quoted = readme_ratios()
    if not quoted:
        errors.append("README.md: no ratio found in its Performance section")
    for q in quoted or []:
        digits = len(q.split(".")[1]) if "." in q else 0
        if not any(round(p, digits) == float(q) for p in printed):
            errors.append(f"README.md quotes {q}x, which BENCHMARKS.md does not print")
    if errors:
        print("\n".join(f"benchmarks-md: {e}" for e in errors), file=sys.stderr)
        sys.exit(1)
    print(f"benchmarks-md: {OUT.name} matches bench/results ({len(sections)} suites, {len(summary)} ratios); "
          f"the README's {len(quoted)} quoted ratios are all in it")
else:
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT) if OUT.is_relative_to(ROOT) else OUT}: {len(sections)} suites, {len(summary)} ratios")
