"""Python replay of the store-backed differential scenarios of the HMAC core
(``ffi-tests/vectors/differential/node-hmac-auth-core.json``, ops ``clients.scenario`` and
``middleware.scenario``: what @naskot/node-hmac-auth-core 1.0.0 answered over an in-memory
Redis client recording its commands; Node's harness:
``ffi-tests/differential/node-hmac-auth-core/lifecycle.mjs``).

Both run against a private ``redis-server`` started by this module (a free port, no
persistence, stopped at the end even on failure), through the public API:
``authcore.hmac.HmacHttpAuth`` / ``HmacMessageAuth`` with ``Store.redis(url)`` and a
``clock=`` frozen at the step's time (``T0 + 1000 * step`` like Node's frozen
``Date.now()``), and ``authcore.middleware.HmacWsgiMiddleware`` / ``HmacAsgiMiddleware``.

What is compared
----------------
``clients.scenario``: the ``init`` result (namespace, ``secretToken``, the lifecycle's
method names), then every step's result or error (``HmacAuthError``: class, code, message,
status; a plain ``Error``: ``HmacArgumentError`` with the same message), and the store:
Python cannot see the commands the core sends, so after every step the whole keyspace of
the private Redis (each hash field's exact text, each string's value and TTL in whole
seconds) must equal the state the original's recorded commands leave in a model of Redis
(``hset``/``hdel``/``set ... EX``/``set NX``/``del``; an ioredis-style ``set`` given an
options object fails as Redis does). Random secrets are named by order of first appearance
(``<secret#k:len>``, ``<hash#k>``, ``<sig#k>``) exactly as the Node harness does. The
private Redis keeps hashes as listpacks (``hash-max-ziplist-value 4096``) so that
``listClientIds`` (``HKEYS``) keeps insertion order like the recording client's ``Map``;
with records above 64 bytes a default Redis answers in its hashtable order. Not
compared: which reads (``HGET``/``GET``/``HKEYS``) were sent and in which call shape (a
Node client's API); their count per step is Node's to check.

``middleware.scenario``: every Express request through ``HmacWsgiMiddleware`` and, again,
``HmacAsgiMiddleware`` (details in ``test_middleware_replay``): the trace of ``next()`` /
``res.status().json()`` / ``next(err)``, what ``attachAuthTo`` holds, the ``onError`` and both ``onBadSignature``
events, and after each request the keyspace (nonce keys, TTLs) against the model of the
recorded commands. The five factories map onto one Python middleware: the instance ones
(``verifyHttpRequest`` without options, ``createHttpMiddleware``,
``createExpressHttpMiddleware``) over ``HmacHttpAuth(namespace, max_skew_ms,
on_bad_signature)``; the standalone ones with their options on the middleware. The
Express request becomes a WSGI environ: ``originalUrl ?? url`` as ``RAW_URI``, each header
as ``HTTP_*``, the body bytes (``rawBody``, else the parsed body as the original turns it
back into text), ``REMOTE_ADDR`` = ``ip ?? remoteAddress``; or an ASGI scope: the target
split at ``?`` into ``raw_path`` and ``query_string``, the headers as Latin-1 pairs, the
same body, ``client`` = ``(ip ?? remoteAddress, port)``. An event's raw body is compared
as those bytes and its metadata as what the WSGI middleware reads (``REMOTE_ADDR`` as
``ip``/``remoteAddress``, the ``x-forwarded-for`` header). Kept cases (docs/compat.md:
Nonce TTL, 43) are compared with the answer recorded for us.

Left out (each reason counted and asserted below)
-------------------------------------------------
* ``failOn``: the recording Redis made one command fail; Python's store is the core's own
  Redis client, with no fault injection (clients: 6 of 180 cases; middleware: 5).

Middleware requests are independent inputs, so a case is replayed up to its first request
Python cannot state (counted per reason: cases left out whole / cases cut short):

* ``res`` without ``status().json()``, or none, when the middleware used it (20 / 19): the
  original then hands the error to ``next(err)``; a WSGI/ASGI middleware always has
  ``start_response``/``send``;
* one header under two spellings with two values (17 / 11): the original reads the first
  key of the object; a WSGI environ has one ``HTTP_`` key per name, and ASGI joins
  repeated headers as Node's HTTP parser does;
* ``noRedis`` (3 / 0): ``HmacWsgiMiddleware`` takes an ``HmacHttpAuth``, which always has a
  store;
* a record with ``allowedIps`` and IP sources one ``REMOTE_ADDR`` cannot state (3 / 4):
  ``req.ip`` differing from ``socket.remoteAddress``, ``req.ips``;
* the route (``next()``) throws (1 / 1): Python runs the app outside the auth error handling
  (docs/compat.md, "``next()`` inside the try").

Of 150 cases, 101 are replayed (66 whole), 243 of 467 requests.

A kept case (docs/compat.md) is compared with the answer recorded for us, as in Node.
A step given a ``null``/``undefined`` client id is replayed: Python raises
``HmacInputError`` (a ``TypeError``) where the original answers ``MISSING_CLIENT_ID``
(docs/compat.md, Python section), and neither touches the store; the steps after it are
compared as usual.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac as std_hmac
import io
import json
import math
import pathlib
import shutil
import socket
import subprocess
import time
from collections import Counter

import pytest
import redis

import authcore.hmac as h
from authcore.errors import HmacArgumentError, HmacAuthError, HmacInputError
from authcore.middleware import HmacAsgiMiddleware, HmacWsgiMiddleware

DOC = json.loads(
    (pathlib.Path(__file__).resolve().parent.parent / "vectors" / "differential" / "node-hmac-auth-core.json").read_text(
        encoding="utf-8"
    )
)
T0 = 1_750_000_000_000


class _Undefined:
    def __repr__(self) -> str:
        return "<undefined>"


UNDEF = _Undefined()


def dec(v):
    """The vectors' tagged JSON (``{"$undefined": true}``, ``{"$number": "NaN"}``,
    ``{"$date": iso}``) as Python values; ``undefined`` is :data:`UNDEF`."""
    if isinstance(v, list):
        return [dec(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1:
            (k, x), = v.items()
            if k == "$undefined":
                return UNDEF
            if k == "$number":
                return float(x)
            if k == "$date":
                return dt.datetime.fromisoformat(x.replace("Z", "+00:00"))
        return {k: dec(x) for k, x in v.items()}
    return v


# ---------------------------------------------------------------------------------------
# A private Redis


@pytest.fixture(scope="module")
def private_redis():
    server = shutil.which("redis-server")
    assert server, "redis-server must be on the PATH (this replay runs its own instance)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        # Hashes stay listpacks (values up to 4 KiB), whose HKEYS order is insertion order
        # like the recording client's Map: a hashtable's order is Redis's own.
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--hash-max-ziplist-value", "4096"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        else:
            raise AssertionError(f"private redis-server on port {port} did not answer")
        url = f"redis://127.0.0.1:{port}/0"
        yield client, h.Store.redis(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def observed_state(client: redis.Redis) -> dict:
    """The whole keyspace: hashes (field → text) and strings (value, TTL in whole seconds
    or None)."""
    hashes, strings = {}, {}
    for key in sorted(client.keys("*")):
        kind = client.type(key)
        if kind == "hash":
            hashes[key] = client.hgetall(key)
        elif kind == "string":
            pttl = client.pttl(key)
            strings[key] = [client.get(key), None if pttl < 0 else math.ceil(pttl / 1000)]
        else:
            raise AssertionError(f"unexpected {kind} key {key}")
    return {"hashes": hashes, "strings": dict(sorted(strings.items()))}


class RedisModel:
    """The state the original's recorded commands leave (lifecycle.mjs ``recordingRedis``)."""

    def __init__(self, style: str) -> None:
        self.style = style
        self.hashes: dict = {}
        self.strings: dict = {}

    def seed(self, key, field, value):
        self.hashes.setdefault(key, {})[field] = value

    def apply(self, call: list) -> None:
        cmd, *args = call
        if cmd == "hset":
            k, f, v = args
            self.hashes.setdefault(k, {})[f] = str(v)
        elif cmd == "hdel":
            k, f = args
            self.hashes.get(k, {}).pop(f, None)
            if k in self.hashes and not self.hashes[k]:
                del self.hashes[k]
        elif cmd == "del":
            self.strings.pop(args[0], None)
        elif cmd == "set":
            k, v, *opts = args
            if self.style == "ioredis" and any(isinstance(o, str) and o.startswith("{") for o in opts):
                return  # ERR syntax error: nothing written
            ttl, nx = None, False
            for i, o in enumerate(opts):
                if isinstance(o, str) and o.startswith("{"):
                    parsed = json.loads(o)
                    ttl = parsed.get("EX", ttl)
                    nx = nx or parsed.get("NX") is True
                elif o == "EX":
                    ttl = opts[i + 1]
                elif o == "NX":
                    nx = True
            if nx and k in self.strings:
                return
            self.strings[k] = [str(v), ttl]
        elif cmd not in ("hget", "get", "hkeys"):
            raise AssertionError(f"unknown command {call}")

    def state(self) -> dict:
        return {
            "hashes": {k: dict(v) for k, v in sorted(self.hashes.items()) if v},
            "strings": dict(sorted((k, list(v)) for k, v in self.strings.items())),
        }


# ---------------------------------------------------------------------------------------
# Outcomes


def error_of(exc: BaseException) -> dict:
    if isinstance(exc, HmacAuthError):
        return {"class": "HmacAuthError", "message": exc.message, "code": exc.code, "status": exc.status}
    if isinstance(exc, HmacArgumentError):
        return {"class": "Error", "message": str(exc)}
    return {"class": f"python:{type(exc).__name__}", "message": str(exc)}


def settle(fn) -> dict:
    try:
        return {"ok": fn()}
    except Exception as exc:  # compared with what the original threw
        return {"error": error_of(exc)}


class RandomNames:
    """lifecycle.mjs ``randomNames``: random values named by order of first appearance."""

    def __init__(self) -> None:
        self.map: dict = {}
        self.secrets = 0
        self.sigs = 0

    def secret(self, secret, token) -> None:
        if not isinstance(secret, str) or secret in self.map:
            return
        self.secrets += 1
        self.map[secret] = f"<secret#{self.secrets}:{len(secret)}>"
        if isinstance(token, str) and token != "":
            digest = std_hmac.new(token.encode(), secret.encode(), hashlib.sha256).hexdigest()
        else:
            digest = hashlib.sha256(secret.encode()).hexdigest()
        self.map[digest] = f"<hash#{self.secrets}>"

    def is_random_hash(self, value) -> bool:
        return isinstance(value, str) and self.map.get(value, "").startswith("<hash#")

    def signature(self, sig) -> None:
        if isinstance(sig, str) and sig not in self.map:
            self.sigs += 1
            self.map[sig] = f"<sig#{self.sigs}>"

    def rewrite(self, value):
        text = json.dumps(value, ensure_ascii=False)
        for raw, name in self.map.items():
            if raw:
                text = text.replace(raw, name)
        return json.loads(text)


# ---------------------------------------------------------------------------------------
# clients.scenario

LIFECYCLE = {
    "create": "create",
    "delete": "delete",
    "get": "get",
    "getSecretHash": "get_secret_hash",
    "listClientIds": "list_client_ids",
    "regenerateSecret": "regenerate_secret",
    "revert": "revert",
    "setAllowedIps": "set_allowed_ips",
    "setSecret": "set_secret",
    "setSecretHash": "set_secret_hash",
}
OPTION_NAMES = {
    "namespace": "namespace",
    "secretToken": "secret_token",
    "defaultSecretLengthBytes": "default_secret_length_bytes",
    "dbSeedBackupTtlSeconds": "backup_ttl_seconds",
}
KWARGS = {
    "expiresAt": "expires_at",
    "secretLengthBytes": "secret_length_bytes",
    "plainSecret": "plain_secret",
    "allowedIps": "allowed_ips",
    "preserveExpiresAt": "preserve_expires_at",
}
CLIENT_ID_TYPE_ERROR = {"class": "HmacAuthError", "message": "clientId cannot be empty", "code": "MISSING_CLIENT_ID", "status": 400}


def clients_skip_reason(case) -> str | None:
    if "failOn" in case["input"]:
        return "failOn: a failing Redis command (no fault injection in the core's Redis client)"
    return None


CLIENT_CASES = [c for c in DOC["cases"] if c["op"] == "clients.scenario"]
CLIENT_REPLAYED = [c for c in CLIENT_CASES if clients_skip_reason(c) is None]


def test_clients_cases_replayed_and_left_out():
    reasons = Counter(clients_skip_reason(c) for c in CLIENT_CASES if clients_skip_reason(c))
    assert len(CLIENT_CASES) == 180
    assert reasons == {"failOn: a failing Redis command (no fault injection in the core's Redis client)": 6}, reasons
    assert len(CLIENT_REPLAYED) == 174
    assert sum(1 for c in CLIENT_REPLAYED if c.get("kept")) == 3
    ops = {s["op"] for c in CLIENT_REPLAYED for s in c["input"]["steps"]}
    assert ops == set(LIFECYCLE) | {"signMessage", "verifyMessage"}, ops


def namespace_of(value) -> str:
    return (value.strip() or "hmacauth") if isinstance(value, str) else "hmacauth"


def kwargs_of(options: dict) -> dict:
    """An options object as keyword arguments (an ``undefined`` value is an omitted one)."""
    out = {}
    for k, v in options.items():
        if k == "clientId" or v is UNDEF:
            continue
        out[KWARGS[k]] = v
    return out


def js_result(op: str, value):
    if op in ("delete", "setSecret", "setSecretHash", "setAllowedIps"):
        assert value is None
        return "<undefined>"
    if op in ("create", "regenerateSecret", "get"):
        return None if value is None else value.to_dict()
    if op == "revert":
        out = {"reverted": value.reverted}
        if value.restored_secret_hash is not None:
            out["restoredSecretHash"] = value.restored_secret_hash
        return out
    if op in ("signMessage", "verifyMessage"):
        return {"clientId": value.client_id, "messageHash": value.message_hash, "signature": value.signature}
    return value


def run_step(auth, step: dict, last_signature: str):
    op, args = step["op"], [dec(a) for a in step["args"]]
    while args and args[-1] is UNDEF:
        args.pop()
    if op in ("signMessage", "verifyMessage"):
        a = args[0]
        cid = a.get("clientId", UNDEF)
        if op == "signMessage":
            return cid, lambda: auth.sign_message(None if cid is UNDEF else cid, a.get("message"))
        sig = last_signature if a.get("signature") == "$prev" else a.get("signature")
        return cid, lambda: auth.verify_message(None if cid is UNDEF else cid, a.get("message"), sig)
    method = getattr(auth.clients, LIFECYCLE[op])
    if op == "listClientIds":
        return "", method
    if op == "create":
        o = args[0]
        cid = o.get("clientId", UNDEF)
        return cid, lambda: method(None if cid is UNDEF else cid, **kwargs_of(o))
    cid = args[0] if args else UNDEF
    rest = args[1:]
    call_id = None if cid is UNDEF else cid
    if op == "regenerateSecret":
        return cid, lambda: method(call_id, **(kwargs_of(rest[0]) if rest else {}))
    if op in ("setSecret", "setSecretHash"):
        kw = {}
        if len(rest) > 1 and rest[1] is not UNDEF:
            kw["expires_at"] = rest[1]
        if len(rest) > 2 and rest[2] is not UNDEF:
            kw["allowed_ips"] = rest[2]
        return cid, lambda: method(call_id, rest[0], **kw)
    if op == "setAllowedIps":
        return cid, lambda: method(call_id, None if len(rest) == 0 or rest[0] is UNDEF else rest[0])
    return cid, lambda: method(call_id)


def replay_clients(case, client: redis.Redis, store) -> tuple:
    inp = case["input"]
    client.flushdb()
    options = inp["options"]
    ns = namespace_of(options.get("namespace"))
    for field, raw in inp.get("seed", []):
        client.hset(f"{ns}:clients", field, raw)
    now = [T0]
    cls = h.HmacMessageAuth if inp["track"] == "message" else h.HmacHttpAuth
    kwargs = {OPTION_NAMES[k]: v for k, v in dec(options).items()}
    names = RandomNames()
    holder = {}

    def init():
        auth = holder["auth"] = cls(store=store, clock=lambda: now[0], **kwargs)
        keys = sorted(js for js, py in LIFECYCLE.items() if callable(getattr(auth.clients, py, None)))
        token = auth.secret_token
        return {"namespace": auth.namespace, "secretToken": "<undefined>" if token is None else token, "keys": keys}

    trace = [["init", settle(init)]]
    states = []
    if "error" in trace[0][1]:
        return trace, states, names
    auth = holder["auth"]
    token = options.get("secretToken")
    last_signature = "f" * 64
    for i, step in enumerate(inp["steps"]):
        now[0] = T0 + 1000 * (i + 1)
        cid, call = run_step(auth, step, last_signature)
        if not isinstance(cid, str):
            try:
                call()
            except HmacInputError:
                out = {"error": CLIENT_ID_TYPE_ERROR}
            else:
                out = {"ok": "unexpected success with a non-str client id"}
        else:
            out = settle(call)
            if "ok" in out:
                out["ok"] = js_result(step["op"], out["ok"])
        op = step["op"]
        ok = out.get("ok")
        given = (
            (dec(step["args"][0]) or {}).get("plainSecret", UNDEF)
            if op == "create"
            else (dec(step["args"][1]).get("plainSecret", UNDEF) if op == "regenerateSecret" and len(step["args"]) > 1 else UNDEF)
        )
        if isinstance(ok, dict) and isinstance(ok.get("secret"), str) and given is UNDEF:
            names.secret(ok["secret"], token)
        if op in ("signMessage", "verifyMessage") and isinstance(ok, dict) and ok.get("signature"):
            if op == "signMessage":
                last_signature = ok["signature"]
            cid_raw = step["args"][0].get("clientId")
            raw = client.hget(f"{ns}:clients", cid_raw) if isinstance(cid_raw, str) else None
            try:
                stored = json.loads(raw).get("secretHash", raw)
            except (TypeError, ValueError, AttributeError):
                stored = raw
            if names.is_random_hash(stored):
                names.signature(ok["signature"])
        trace.append([op, out])
        states.append(observed_state(client))
    return trace, states, names


def expected_of(case) -> dict:
    """The original's outcome, or for a kept case (docs/compat.md) the one recorded for us."""
    return ((case.get("kept") or {}).get("ours") or case["expect"])["ok"]


def expected_states(case) -> list:
    inp, want = case["input"], expected_of(case)
    options = inp["options"]
    ns = namespace_of(options.get("namespace"))
    model = RedisModel(inp["style"])
    for field, raw in inp.get("seed", []):
        model.seed(f"{ns}:clients", field, raw)
    states, at = [], 0
    for step in want["trace"][1:]:
        for call in want["calls"][at : at + step[2]]:
            model.apply(call)
        at += step[2]
        states.append(model.state())
    return states


@pytest.mark.parametrize("case", CLIENT_REPLAYED, ids=[c["id"] for c in CLIENT_REPLAYED])
def test_clients_replay(case, private_redis):
    client, store = private_redis
    trace, states, names = replay_clients(case, client, store)
    want = expected_of(case)
    want_trace = [want["trace"][0]] + [[s[0], s[1]] for s in want["trace"][1:]]
    got_trace = names.rewrite(trace)
    for i, (g, w) in enumerate(zip(got_trace, want_trace)):
        assert g == w, f"step {i} ({w[0]})"
    assert len(got_trace) == len(want_trace)
    got_states, want_states = names.rewrite(states), expected_states(case)
    assert len(got_states) == len(want_states) == len(want_trace) - 1
    for i, (g, w) in enumerate(zip(got_states, want_states)):
        assert g == w, f"store after step {i + 1} ({want_trace[i + 1][0]})"


# ---------------------------------------------------------------------------------------
# middleware.scenario

INSTANCE_FACTORIES = ("verifyHttpRequest", "createHttpMiddleware", "createExpressHttpMiddleware")


def wire_body(spec: dict) -> bytes:
    """The bytes a server received for an Express request: ``rawBody``, else the parsed
    body as the original turns it back into text (a string as is, a Buffer's bytes, an
    object's ``JSON.stringify``), else nothing (what lifecycle.mjs signs)."""
    if "rawBody" in spec:
        return spec["rawBody"].encode()
    body = spec.get("body")
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def header_spellings_clash(headers: dict) -> bool:
    """Two spellings of one name with different values (the original reads the first key
    in the object's order; one with the same value is stated once)."""
    seen: dict = {}
    for k, v in headers.items():
        if seen.setdefault(k.lower(), v) != v:
            return True
    return False


def ip_candidates_stated(spec: dict) -> bool:
    """Whether the one address of a WSGI environ (``REMOTE_ADDR``, which the Python
    middleware offers as ``ip`` and as ``remoteAddress``) gives the IP candidates the
    original tries (``ip``, ``ips``, ``x-forwarded-for``, ``socket.remoteAddress``, in
    that order, docs/compat.md), repeats removed. ``REMOTE_ADDR`` is ``ip`` when given,
    else ``remoteAddress``."""
    xff = spec["headers"].get("x-forwarded-for")

    def order(values):
        out = []
        for v in values:
            if v is not None and v not in out:
                out.append(v)
        return out

    theirs = order([spec.get("ip"), *(spec.get("ips") or []), xff, spec.get("remoteAddress")])
    addr = spec.get("ip", spec.get("remoteAddress"))
    return theirs == order([addr, xff, addr])


def seen_without_res(seen: list) -> bool:
    return seen == [["next"]]


FAIL_ON = "failOn: a failing Redis command (no fault injection in the core's Redis client)"
NO_REDIS = "noRedis: the Python middleware takes an HmacHttpAuth, which always has a store"
HEADER_CLASH = "a header under two spellings with two values (a WSGI environ has one HTTP_ key per name)"
RES_USED = "an Express res without status().json() (or none) that the middleware used"
ROUTE_THROWS = "the route throws: Python runs the app outside the auth try (docs/compat.md)"
IP_SOURCES = "an allow-list checked against IP sources one WSGI REMOTE_ADDR cannot state"


def middleware_plan(case) -> tuple:
    """``(n, reason)``: the first ``n`` requests are replayed; ``reason`` says why the
    request after them (and so the rest of the case) is not. Requests are independent
    inputs, so the replayed prefix is compared in full."""
    inp = case["input"]
    trace = expected_of(case)["trace"][1:]
    if inp.get("failOn"):
        return 0, FAIL_ON
    if inp.get("noRedis"):
        return 0, NO_REDIS
    allow_list = '"allowedIps"' in (inp["record"] or "")
    for n, (spec, step) in enumerate(zip(inp["requests"], trace)):
        if header_spellings_clash(spec["headers"]):
            return n, HEADER_CLASH
        if spec["res"] != "express" and not (seen_without_res(step[2]) and step[1] == {"ok": "<undefined>"}):
            return n, RES_USED
        if spec.get("nextThrows") and step[2][:1] == [["next"]]:
            return n, ROUTE_THROWS
        if allow_list and not ip_candidates_stated(spec):
            return n, IP_SOURCES
    return len(inp["requests"]), None


MW_CASES = [c for c in DOC["cases"] if c["op"] == "middleware.scenario"]
MW_PLANS = {c["id"]: middleware_plan(c) for c in MW_CASES}
MW_REPLAYED = [c for c in MW_CASES if MW_PLANS[c["id"]][0] > 0]


def test_middleware_cases_replayed_and_left_out():
    assert len(MW_CASES) == 150
    left_out = Counter(reason for n, reason in MW_PLANS.values() if n == 0)
    cut = Counter(reason for n, reason in MW_PLANS.values() if n > 0 and reason)
    whole = sum(1 for n, reason in MW_PLANS.values() if n > 0 and reason is None)
    requests = sum(MW_PLANS[c["id"]][0] for c in MW_CASES)
    assert (whole, len(MW_REPLAYED), requests) == (66, 101, 243), (whole, len(MW_REPLAYED), requests)
    assert left_out == {RES_USED: 20, HEADER_CLASH: 17, FAIL_ON: 5, NO_REDIS: 3, IP_SOURCES: 3, ROUTE_THROWS: 1}, left_out
    assert cut == {RES_USED: 19, HEADER_CLASH: 11, IP_SOURCES: 4, ROUTE_THROWS: 1}, cut
    assert sum(1 for c in MW_REPLAYED if c.get("kept")) == 43
    factories = Counter(c["input"]["factory"] for c in MW_REPLAYED)
    assert set(factories) == {
        "verifyHttpRequest",
        "createHttpMiddleware",
        "createExpressHttpMiddleware",
        "createExpressHttpHmacMiddleware",
        "createHttpHmacMiddleware",
    }, factories


def js_number(text):
    """``Number(text)`` for the harness's signing (``undefined`` → NaN)."""
    if text is None:
        return math.nan
    t = text.strip()
    if t == "":
        return 0
    try:
        v = float(t)
    except ValueError:
        return math.nan
    return int(v) if v.is_integer() else v


def signed_headers(spec: dict, secret_hash: str) -> dict:
    out = dict(spec["headers"])
    for k, v in out.items():
        if v not in ("$valid", "$VALID"):
            continue
        sig = "f" * 64
        ts = js_number(out.get("x-timestamp"))
        if not (isinstance(ts, float) and math.isnan(ts)):
            try:
                path = spec["originalUrl"] if "originalUrl" in spec else spec["url"]
                sig = h.sign_request(spec["method"], path, ts, out.get("x-nonce", ""), wire_body(spec), secret_hash)
            except Exception:
                sig = "f" * 64
        out[k] = sig.upper() if v == "$VALID" else sig
    return out


def event_row(tag: str, e) -> list:
    return [tag, e.client_id, e.method, e.path, e.timestamp, e.nonce, e.expected_signature, type(e.received_signature).__name__, e.raw_body, e.metadata]


def want_event(ev: list, spec: dict) -> list:
    """A recorded event in the Python terms: ``typeof`` ``string`` is ``str``; the raw body
    is the bytes the request carried (the original reports ``req.rawBody ?? req.body``);
    the metadata is what the WSGI middleware reads (``REMOTE_ADDR`` as ``ip`` and
    ``remoteAddress``, no ``ips``, the ``x-forwarded-for`` header)."""
    out = list(ev)
    out[7] = {"string": "str"}.get(ev[7], ev[7])
    out[8] = wire_body(spec)
    meta = json.loads(ev[9])
    addr = meta.get("ip", meta.get("remoteAddress"))
    out[9] = {"ip": addr, "ips": [], "remoteAddress": addr, "forwardedFor": meta.get("forwardedFor")}
    return out


def wsgi_environ(spec: dict, headers: dict) -> dict:
    body = wire_body(spec)
    environ = {
        "REQUEST_METHOD": spec["method"],
        "RAW_URI": spec["originalUrl"] if "originalUrl" in spec else spec["url"],
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    addr = spec.get("ip", spec.get("remoteAddress"))
    if addr is not None:
        environ["REMOTE_ADDR"] = addr
    for k, v in headers.items():
        environ.setdefault("HTTP_" + k.upper().replace("-", "_"), v)
    return environ


def asgi_scope(spec: dict, headers: dict) -> dict:
    target = spec["originalUrl"] if "originalUrl" in spec else spec["url"]
    path, _, query = target.partition("?")
    pairs: dict = {}
    for k, v in headers.items():
        pairs.setdefault(k.lower(), (k.encode("latin-1"), v.encode("latin-1")))
    addr = spec.get("ip", spec.get("remoteAddress"))
    return {
        "type": "http",
        "method": spec["method"],
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": list(pairs.values()),
        "client": None if addr is None else (addr, 50000),
    }


def replay_middleware(case, client: redis.Redis, store, flavour: str):
    """The case's requests through ``HmacWsgiMiddleware`` (``flavour="wsgi"``) or
    ``HmacAsgiMiddleware`` (``"asgi"``, one event loop per case)."""
    inp = case["input"]
    client.flushdb()
    ns = namespace_of(inp.get("namespace"))
    if inp["record"] is not None:
        client.hset(f"{ns}:clients", "orders", inp["record"])
    events: list = []
    seen: list = []

    def bad(tag):
        def hook(e):
            events.append(event_row(tag, e))
            if inp.get("badThrows"):
                raise RuntimeError("callback failed")

        return hook

    instance = inp["factory"] in INSTANCE_FACTORIES
    auth_kw = {}
    if inp.get("namespace") is not None:
        auth_kw["namespace"] = inp["namespace"]
    if instance and inp.get("maxSkewMs") is not None:
        auth_kw["max_skew_ms"] = inp["maxSkewMs"]
    if instance and inp.get("instanceBad"):
        auth_kw["on_bad_signature"] = bad("instance")
    mw_kw = {}
    use_options = inp["factory"] != "verifyHttpRequest" and not inp.get("noOptions")
    mw = inp.get("mwOptions", {}) if use_options or not instance else {}
    attach = mw.get("attachAuthTo") or h.DEFAULT_ATTACH_AUTH_TO
    mw_kw["attach_auth_to"] = attach
    if "maxSkewMs" in mw:
        mw_kw["max_skew_ms"] = mw["maxSkewMs"]
    if "onBadSignature" in mw:
        mw_kw["on_bad_signature"] = bad("mw")
    on_error_mode = mw.get("onError")

    def on_error_seen(err) -> bytes:
        events.append(["onError", error_of(err), isinstance(err, HmacAuthError)])
        if on_error_mode == "next":
            raise err  # Express's next(err): handed on to the framework
        seen.extend([["status", 418], ["json", {"custom": err.code}]])
        return json.dumps({"custom": err.code}).encode()

    def answered(status: int, payload: bytes) -> None:
        if status not in (200, 418):  # the app's and on_error's answers are in `seen`
            seen.extend([["status", status], ["json", json.loads(payload)]])

    auth = h.HmacHttpAuth(store=store, clock=lambda: T0, **auth_kw)
    requests = inp["requests"][: MW_PLANS[case["id"]][0]]
    trace = [["make", {"ok": "function"}]]
    states: list = []

    def record(attached) -> None:
        trace.append(["request", {"ok": "<undefined>"}, list(seen), "<none>" if attached is None else attached.to_dict()])
        states.append(observed_state(client))

    if flavour == "wsgi":
        if on_error_mode:

            def wsgi_on_error(err, environ, start_response):
                payload = on_error_seen(err)
                start_response("418 I'm a teapot", [("Content-Type", "application/json")])
                return [payload]

            mw_kw["on_error"] = wsgi_on_error

        def wsgi_app(environ, start_response):
            seen.append(["next"])
            start_response("200 OK", [])
            return [b""]

        middleware = HmacWsgiMiddleware(wsgi_app, auth=auth, **mw_kw)
        for spec in requests:
            seen.clear()
            environ = wsgi_environ(spec, signed_headers(spec, inp["secretHash"]))
            status: list = []
            try:
                payload = b"".join(middleware(environ, lambda line, headers, exc_info=None: status.append(line)))
            except HmacAuthError as err:
                seen.append(["next", error_of(err)])
            else:
                answered(int(status[0].split()[0]), payload)
            record(environ.get(attach))
        return trace, states, events

    if on_error_mode:

        async def asgi_on_error(err, scope, receive, send):
            payload = on_error_seen(err)
            await send({"type": "http.response.start", "status": 418, "headers": []})
            await send({"type": "http.response.body", "body": payload})

        mw_kw["on_error"] = asgi_on_error

    async def asgi_app(scope, receive, send):
        seen.append(["next"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = HmacAsgiMiddleware(asgi_app, auth=auth, **mw_kw)

    async def run_all() -> None:
        for spec in requests:
            seen.clear()
            scope = asgi_scope(spec, signed_headers(spec, inp["secretHash"]))
            body = wire_body(spec)
            sent: list = []

            async def receive():
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message):
                sent.append(message)

            try:
                await middleware(scope, receive, send)
            except HmacAuthError as err:
                seen.append(["next", error_of(err)])
            else:
                answered(sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]))
            record(scope.get("state", {}).get(attach))

    asyncio.run(run_all())
    return trace, states, events


def expected_mw_states(case, want) -> list:
    inp = case["input"]
    ns = namespace_of(inp.get("namespace"))
    model = RedisModel(inp["style"])
    if inp["record"] is not None:
        model.seed(f"{ns}:clients", "orders", inp["record"])
    states, at = [], 0
    for step in want["trace"][1:]:
        for call in want["calls"][at : at + step[4]]:
            model.apply(call)
        at += step[4]
        states.append(model.state())
    return states


@pytest.mark.parametrize("flavour", ["wsgi", "asgi"])
@pytest.mark.parametrize("case", MW_REPLAYED, ids=[c["id"] for c in MW_REPLAYED])
def test_middleware_replay(case, flavour, private_redis):
    """Each Express request through ``HmacWsgiMiddleware`` / ``HmacAsgiMiddleware``:
    ``next()`` is the app being called, ``res.status().json()`` the status and the JSON
    body, ``req[attachAuthTo]`` ``environ[attach_auth_to]`` / ``scope["state"][...]``
    (``to_dict()``), ``onError`` an ``on_error`` that answers
    418 or, for ``next(err)``, raises the error to the server; the events of both
    ``onBadSignature`` hooks (instance and middleware) and ``onError``; and the store after
    each request (nonce keys and their TTLs). A kept case (docs/compat.md: Nonce TTL) is
    compared with our recorded answer."""
    client, store = private_redis
    want = expected_of(case)
    n = MW_PLANS[case["id"]][0]
    trace, states, events = replay_middleware(case, client, store, flavour)
    want_trace = [want["trace"][0]] + [s[:4] for s in want["trace"][1 : n + 1]]
    for i, (g, w) in enumerate(zip(trace, want_trace)):
        assert g == w, f"request {i}"
    assert len(trace) == len(want_trace)
    specs = case["input"]["requests"]
    want_events = []
    for ev in want["events"]:
        if ev[0] == "onError":
            want_events.append(ev)
        else:  # a bad-signature event: its request is the one with its nonce
            spec = next(s for s in specs if s["headers"].get("x-nonce") == ev[5])
            want_events.append(want_event(ev, spec))
    if n < len(specs) and want_events:
        # Cut short: the events of the replayed requests. Each request the middleware
        # rejected gave one onError event (the only kind such cases record).
        assert all(ev[0] == "onError" for ev in want_events), "attribute these events"
        want_events = want_events[: sum(1 for step in want["trace"][1 : n + 1] if step[2] != [["next"]])]
    assert events == want_events
    want_states = expected_mw_states(case, want)[:n]
    assert len(states) == len(want_states) == n
    for i, (g, w) in enumerate(zip(states, want_states)):
        assert g == w, f"store after request {i}"
