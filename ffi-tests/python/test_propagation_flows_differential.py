"""Python replay of the propagation flows (``flow.scenario``) of the recorded differential
vectors (``ffi-tests/vectors/differential/propagation.json``, recorded from
@naskot/node-hmac-auth-core-propagation 1.0.0 by ``ffi-tests/differential/propagation/flow.mjs``),
through ``authcore.propagation`` with the same scenario and the same comparison as the Node
replay.

The scenario (``flow.mjs``): a source peer S (a management adapter, HMAC instances) and a
target peer T on one in-process mesh (``amqp_protocol="memory"``), the harness playing the
counterpart peers ``spy`` and ``spy2`` through the mesh hooks of the binding
(``_native.propagation_mesh_declare/inject/take/in_flight``). Per step it compares the result or
error, the bytes the peers published to the spies (parsed in key order, UUIDs named by first
appearance, times of the run ``<now>``), the management calls, the logger lines, every
peer's propagation keys (``propagation:last-seen:*``, ``propagation:ack:*``,
``propagation:client-pending:*``, ``propagation:client-results:*``, with whether a TTL is set)
and its credential store (``hmacauth:clients`` / ``hmacmsg:clients``). A case marked ``kept``
(a deliberate difference, docs/compat.md) must give exactly the answer recorded for us.

What differs from the Node harness, and why it does not change what is compared:

- State and credential stores: the Node harness gave each peer a node-redis client over JS
  maps; here each peer has its own database of the real Redis (``redis://…/14`` for S,
  ``/15`` for T, flushed before each scenario), read back with redis-py: the same keys in
  the original's layout, the same values, and whether a TTL is set.
- A step is over when nothing is in flight on the mesh
  (``_native.propagation_mesh_in_flight``: no message waiting in S's or T's queue, none
  being handled; a handler publishes, logs, calls the management adapter and writes Redis
  before its delivery is released), where the Node harness waits until its counts have not
  moved for 150 ms. A step that is not over within ``STEP_TIMEOUT_S`` fails.
- Management inputs are the dataclasses of ``authcore.propagation``, rendered with the
  original's camelCase keys the way the Node package hands them to a JS adapter
  (``lib/index.cjs``, ``m.upsert``: a ``credential.delete`` upsert carries no ``allowedIps``
  / ``expiresAt``, other upserts no ``allowedIps`` when none were given). Calls are
  compared as a multiset (the Node harness sorts them).
- Errors: ``PropagationError`` is the original's ``HmacPropagationError`` (its ``name``),
  with its ``code`` and message.

One difference of the binding is stated, not hidden (docs/compat.md, "Text of a Python
adapter's exception in log lines"): the line ``fetchSourcePropagationSecret failed for <q>:
<text>`` carries ``Exception: adapter down`` where the original (and Node) log the error's
``message``, ``adapter down``; the recorded line is rewritten that way before comparing.

Left out: none of the recorded flows (the test below counts them and names any it leaves
out, with the reason).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import pathlib
import random
import re
import string
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Optional, Tuple

import pytest
import redis

from authcore import _native
from authcore import hmac as h
from authcore import propagation as p

DOC = json.loads(
    (pathlib.Path(__file__).resolve().parent.parent / "vectors" / "differential" / "propagation.json").read_text(
        encoding="utf-8"
    )
)

_URL = urllib.parse.urlsplit(os.environ.get("AUTHCORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
REDIS_HOST = _URL.hostname or "127.0.0.1"
REDIS_PORT = _URL.port or 6379
# One database per peer (nothing else in the repository uses these two), flushed before each
# scenario.
PEER_DB = {"S": 14, "T": 15}

SECRETS = {"src": "secret-S", "tgt": "secret-T", "spy": "secret-spy", "spy2": "secret-spy2"}
TS0 = 1_000_000_000_000
ORIGINAL_KEYS = re.compile(r"^propagation:(last-seen|ack|client-pending|client-results):")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SPIES = ("hmac-spy.queue", "hmac-spy2.queue")
# How long one step may take to settle before the replay fails.
STEP_TIMEOUT_S = 15


# ---------------------------------------------------------------------------------------
# The peers' databases (redis-py, pinned in bindings-python/requirements-dev.txt)


def connect(db: int) -> "redis.Redis[str]":
    r: "redis.Redis[str]" = redis.Redis(
        host=REDIS_HOST, port=REDIS_PORT, db=db, decode_responses=True, socket_timeout=5
    )
    try:
        r.ping()
    except redis.exceptions.ConnectionError as exc:  # fail loudly: these tests never skip
        pytest.fail(f"Redis at {REDIS_HOST}:{REDIS_PORT} is required (bash scripts/services.sh): {exc}")
    return r


def snapshot(r: "redis.Redis[str]") -> Dict[str, Any]:
    """Every key of the database with its type, value and whether a TTL is set."""
    keys = sorted(r.keys("*"))
    pipe = r.pipeline(transaction=False)
    for k in keys:
        pipe.type(k)
    types = pipe.execute()
    pipe = r.pipeline(transaction=False)
    for k, t in zip(keys, types):
        # Another type (or a key gone meanwhile): its type stands for the value.
        {"hash": pipe.hgetall, "set": pipe.smembers, "string": pipe.get}.get(t, pipe.type)(k)
        pipe.pttl(k)
    replies = pipe.execute()
    out: Dict[str, Any] = {}
    for n, (k, t) in enumerate(zip(keys, types)):
        v, pttl = replies[2 * n], replies[2 * n + 1]
        if t == "hash":
            v = dict(sorted(v.items()))
        elif t == "set":
            v = sorted(v)
        out[k] = {"type": t, "value": v, "ttl": pttl >= 0}
    return out


def prop_state(snap: Dict[str, Any]) -> Dict[str, Any]:
    """The original's keys (hashes and sets), sorted, with their values and TTL flag."""
    return {
        k: {"value": v["value"], "ttl": v["ttl"]}
        for k, v in snap.items()
        if v["type"] in ("hash", "set") and ORIGINAL_KEYS.match(k)
    }


def cred_state(snap: Dict[str, Any]) -> Dict[str, str]:
    out = {}
    for ns in ("hmacauth", "hmacmsg"):
        for cid in ("orders", "billing", "é-client"):
            v = snap.get(f"{ns}:clients", {}).get("value")
            if isinstance(v, dict) and cid in v:
                out[f"{ns}:{cid}"] = v[cid]
    return out


# ---------------------------------------------------------------------------------------
# The peers' adapters


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def js_input(i: Any) -> Dict[str, Any]:
    """A management input as the Node package hands it to a JS adapter (camelCase keys)."""
    o = {_camel(f.name): getattr(i, f.name) for f in dataclasses.fields(i)}
    if isinstance(i, p.UpsertInput):
        if i.op == "credential.delete":
            o.pop("allowedIps")
            o.pop("expiresAt")
        elif i.allowed_ips is None:
            o.pop("allowedIps")
    return json.loads(json.dumps(o))


class Management:
    """The management adapter of ``flow.mjs``: an in-memory table of pending propagations."""

    def __init__(self, calls: List[Any], behaviour: str) -> None:
        self.calls = calls
        self.behaviour = behaviour
        self.pending: List[Dict[str, Any]] = []
        self.targets_of: Dict[str, List[str]] = {}
        self.lock = threading.Lock()

    def _rec(self, name: str, value: Any) -> None:
        self.calls.append([name, value])

    @staticmethod
    def _row(client_id, track, op, secret_plain, allowed_ips, expires_at, targets) -> Dict[str, Any]:
        r = {
            "client_id": client_id,
            "track": track,
            "op": op,
            "secret_plain": secret_plain,
            "expires_at": expires_at,
            "pending_targets": [
                {"target_amqp_queue": t, "propagation_secret": SECRETS.get(t, "secret-x")} for t in targets
            ],
        }
        if allowed_ips is not None:
            r["allowed_ips"] = allowed_ips
        return r

    def _replace(self, client_id: str, track: str, row: Dict[str, Any]) -> None:
        self.pending = [r for r in self.pending if not (r["client_id"] == client_id and r["track"] == track)]
        self.pending.append(row)

    def upsert_credential_with_targets(self, i: p.UpsertInput) -> None:
        with self.lock:
            self._rec("upsertCredentialWithTargets", js_input(i))
            self.targets_of[f"{i.track}:{i.client_id}"] = list(i.targets)
            row = self._row(i.client_id, i.track, i.op, i.secret_plain, i.allowed_ips, i.expires_at, i.targets)
            self._replace(i.client_id, i.track, row)

    def rotate_credential_secret(self, i: p.RotateInput) -> None:
        with self.lock:
            self._rec("rotateCredentialSecret", js_input(i))
            targets = self.targets_of.get(f"{i.track}:{i.client_id}", ["spy"])
            row = self._row(i.client_id, i.track, "credential.update", i.secret_plain, None, None, targets)
            self._replace(i.client_id, i.track, row)

    def fetch_pending_propagations(self) -> List[Dict[str, Any]]:
        with self.lock:
            self._rec("fetchPendingPropagations", "<undefined>")
            out, self.pending = self.pending, []
            return out

    def fetch_source_propagation_secret(self, sender: str) -> Optional[str]:
        self._rec("fetchSourcePropagationSecret", sender)
        if self.behaviour == "throws":
            raise Exception("adapter down")
        if self.behaviour == "empty":
            return ""
        return SECRETS.get(sender)

    def mark_target_sent(self, i: p.TargetSentInput) -> None:
        self._rec("markTargetSent", js_input(i))

    def mark_target_success(self, i: p.TargetSuccessInput) -> None:
        self._rec("markTargetSuccess", js_input(i))

    def mark_target_error(self, i: p.TargetErrorInput) -> None:
        self._rec("markTargetError", js_input(i))

    def mark_credential_fully_propagated(self, i: p.FullyPropagatedInput) -> None:
        self._rec("markCredentialFullyPropagated", js_input(i))


class Lines:
    """The logger of ``flow.mjs``: warn and error lines kept, info dropped."""

    def __init__(self) -> None:
        self.lines: List[List[str]] = []

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        self.lines.append(["warn", str(msg)])

    def error(self, msg: str) -> None:
        self.lines.append(["error", str(msg)])


def error_of(e: BaseException) -> Dict[str, Any]:
    if isinstance(e, p.PropagationError):
        return {"class": e.name, "message": str(e), "code": e.code}
    out: Dict[str, Any] = {"class": type(e).__name__, "message": str(e)}
    if getattr(e, "code", None) is not None:
        out["code"] = e.code
    return out


def js_json(o: Any) -> bytes:
    """``JSON.stringify`` bytes (no spaces, UTF-8 as is)."""
    return json.dumps(o, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def apply_event_bytes(e: Dict[str, Any], to: str) -> bytes:
    if "raw" in e:
        return e["raw"].encode("utf-8")
    secret = SECRETS[to] if e["secret"] == "right" else "" if e["secret"] == "empty" else "not-the-secret"
    o: Dict[str, Any] = {
        "eventId": e["eventId"],
        "ts": e["ts"],
        "propagationSecret": secret,
        "senderAmqpQueue": e["sender"],
        "op": e["op"],
        "track": e["track"],
        "clientId": e["clientId"],
        "payload": {"secretHash": e["secretHash"]},
    }
    if "allowedIps" in e:
        o["payload"]["allowedIps"] = e["allowedIps"]
    if "expiresAt" in e:
        o["payload"]["expiresAt"] = e["expiresAt"]
    return js_json(o)


# ---------------------------------------------------------------------------------------
# The scenario


async def flow_scenario(inp: Dict[str, Any]) -> Dict[str, Any]:
    suffix = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(10))
    mesh = f"diff-python-{inp['id']}-{suffix}"
    for q in SPIES:
        _native.propagation_mesh_declare(mesh, q)
    dbs = {name: connect(db) for name, db in PEER_DB.items()}
    for r in dbs.values():
        assert r.flushdb() is True
    mgmt_calls: List[Any] = []
    logs = {"S": Lines(), "T": Lines()}
    peers: Dict[str, p.Propagator] = {}

    async def mk(name: str, queue: str, tracks: List[str], management: Optional[str]) -> None:
        url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{PEER_DB[name]}"
        auths: Dict[str, Any] = {}
        for track in tracks:
            if track == "http":
                auths["hmac_http_auth"] = h.HmacHttpAuth(
                    redis_url=url, namespace="hmacauth", secret_token=inp.get("secretToken")
                )
            else:
                auths["hmac_message_auth"] = h.HmacMessageAuth(
                    redis_url=url, namespace="hmacmsg", secret_token=inp.get("secretToken")
                )
        peers[name] = await p.create_propagator(
            amqp_host=mesh,
            amqp_port=5672,
            amqp_user="guest",
            amqp_password="guest",
            amqp_protocol="memory",
            amqp_queue=queue,
            propagation_secret=SECRETS[queue],
            redis=url,
            logger=logs[name],
            management=Management(mgmt_calls, management) if management is not None else None,
            **auths,
        )

    trace: List[Dict[str, Any]] = []
    wire: List[Tuple[str, Any]] = []
    event_ids: List[Optional[str]] = []  # the eventId of each wire entry as sent
    try:
        try:
            await mk("S", "src", inp["sTracks"], inp.get("sManagement", "normal"))
            await mk("T", "tgt", inp["tTracks"], inp.get("tManagement"))
        except Exception as e:  # noqa: BLE001 - the outcome compared
            return {"made": error_of(e)}

        async def settle(i: int) -> None:
            """Until the step is over: nothing in flight on the mesh, i.e. no message waiting
            in S's or T's queue and none being handled (a handler publishes, logs, calls the
            management adapter and writes Redis before its delivery is released). `ensure`,
            `rotate`, `revoke` and `sync` have returned, with their calls, before this."""
            deadline = time.monotonic() + STEP_TIMEOUT_S
            while _native.propagation_mesh_in_flight(mesh):
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"step {i} ({inp['steps'][i]['op']}) not over after {STEP_TIMEOUT_S} s: "
                        f"{_native.propagation_mesh_in_flight(mesh)} message(s) still in flight"
                    )
                await asyncio.sleep(0.002)

        for i, step in enumerate(inp["steps"]):
            op = step["op"]
            try:
                if op == "ensure":
                    a = step["input"]
                    kw: Dict[str, Any] = {}
                    if "track" in a:
                        kw["track"] = a["track"]
                    if "allowedIps" in a:
                        kw["allowed_ips"] = a["allowedIps"]
                    if "expiresAt" in a:
                        kw["expires_at"] = a["expiresAt"]
                    r = await peers["S"].ensure(a["clientId"], a["secret"], a["targets"], **kw)
                    out: Dict[str, Any] = {"ok": {"clientId": r.client_id, "op": r.op}}
                elif op == "rotate":
                    a = step["input"]
                    kw = {"track": a["track"]} if "track" in a else {}
                    r2 = await peers["S"].rotate(a["clientId"], a["secret"], **kw)
                    out = {"ok": {"clientId": r2.client_id}}
                elif op == "revoke":
                    a = step["input"]
                    kw = {"track": a["track"]} if "track" in a else {}
                    r3 = await peers["S"].revoke(a["clientId"], a["targets"], **kw)
                    out = {"ok": {"clientId": r3.client_id}}
                elif op == "sync":
                    s = await peers["S"].sync()
                    out = {
                        "ok": {
                            "propagationsRead": s.propagations_read,
                            "targetsPublished": s.targets_published,
                            "targetsRetrying": s.targets_retrying,
                            "durationMs": "<ms>" if isinstance(s.duration_ms, (int, float)) else s.duration_ms,
                        }
                    }
                elif op == "ack":
                    # The newest event per (client, track) sent to `spy` (flow.mjs).
                    latest: Dict[str, Any] = {}
                    for (q, e), eid in zip(wire, event_ids):
                        ev = e if isinstance(e, dict) else {}
                        if q == "hmac-spy.queue" and ev.get("op") != "credential.ack":
                            latest[f"{_js(ev.get('track'))}\n{_js(ev.get('clientId'))}"] = eid
                    events = list(latest.values())
                    target = events[step["index"] % max(len(events), 1)] if events else None
                    ack = {
                        "eventId": f"ack-{i}",
                        "ts": TS0 + i,
                        "propagationSecret": SECRETS["src"] if step["secret"] == "right" else "nope",
                        "senderAmqpQueue": "spy",
                        "op": "credential.ack",
                        "ackEventId": "no-such-event" if step["unknown"] or target is None else target,
                        "ackResult": step["result"],
                        "ackReason": step["reason"],
                    }
                    _native.propagation_mesh_inject(mesh, "hmac-src.queue", js_json(ack))
                    out = {"ok": "sent"}
                elif op == "apply":
                    to = step["to"]
                    queue = "hmac-src.queue" if to == "S" else "hmac-tgt.queue"
                    body = apply_event_bytes(step["event"], "src" if to == "S" else "tgt")
                    _native.propagation_mesh_inject(mesh, queue, body)
                    out = {"ok": "sent"}
                else:
                    raise AssertionError(f"unknown step {op}")
            except Exception as e:  # noqa: BLE001 - the outcome compared
                out = {"error": error_of(e)}
            await settle(i)
            before = len(wire)
            for q in SPIES:
                for raw in _native.propagation_mesh_take(mesh, q):
                    text = raw.decode("utf-8", errors="replace")
                    try:
                        e = json.loads(text)
                    except ValueError:
                        e = {"$raw": text}
                    wire.append((q, e))
                    event_ids.append(e.get("eventId") if isinstance(e, dict) else None)
            calls, mgmt_calls[:] = list(mgmt_calls), []
            snaps = {name: snapshot(r) for name, r in dbs.items()}
            trace.append(
                {
                    "step": op,
                    "out": out,
                    "management": calls,
                    "state": {name: prop_state(s) for name, s in snaps.items()},
                    "creds": {name: cred_state(s) for name, s in snaps.items()},
                    "published": len(wire) - before,
                }
            )
        for name in list(peers):
            await peers.pop(name).close()
        logs_out = {name: lines.lines for name, lines in logs.items()}
        return normalize({"trace": trace, "wire": [list(w) for w in wire], "logs": logs_out})
    finally:
        for peer in peers.values():
            await peer.close()
        for r in dbs.values():
            r.close()


def _js(v: Any) -> str:
    """``${v}`` of a JSON value (``undefined`` when missing)."""
    if v is None:
        return "undefined"
    return v if isinstance(v, str) else json.dumps(v)


def normalize(outcome: Dict[str, Any]) -> Dict[str, Any]:
    """``normalize`` of flow.mjs: times of this run ``<now>``, UUIDs named by first appearance
    (the wire, then the management calls, the logs, the trace), the state sorted again."""
    now = time.time() * 1000

    def is_now(n: float) -> bool:
        return now - 3_600_000 < n < now + 3_600_000

    def times(v: Any) -> Any:
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, (int, float)):
            return "<now>" if is_now(v) else v
        if isinstance(v, str):
            if re.fullmatch(r"\d{13}", v) and is_now(int(v)):
                return "<now>"
            return re.sub(r"\b\d{13}\b", lambda m: "<now>" if is_now(int(m.group())) else m.group(), v)
        if isinstance(v, list):
            return [times(x) for x in v]
        if isinstance(v, dict):
            return {k: times(x) for k, x in v.items()}
        return v

    names: Dict[str, str] = {}

    def name(u: str) -> str:
        if u not in names:
            names[u] = f"<uuid#{len(names) + 1}>"
        return names[u]

    parts = [outcome["wire"], [t["management"] for t in outcome["trace"]], outcome["logs"], outcome["trace"]]
    for part in parts:
        for u in UUID.findall(json.dumps(part, ensure_ascii=False)):
            name(u)
    out = json.loads(UUID.sub(lambda m: name(m.group()), json.dumps(times(outcome), ensure_ascii=False)))
    for t in out["trace"]:
        for peer in list(t["state"]):
            st = dict(sorted(t["state"][peer].items()))
            for v in st.values():
                if isinstance(v["value"], list):
                    v["value"].sort()
            t["state"][peer] = st
    return out


# ---------------------------------------------------------------------------------------
# The replay


def _canonical(outcome: Any) -> Any:
    """The management calls of each step as a multiset (flow.mjs sorts them)."""
    o = json.loads(json.dumps(outcome))
    for t in (o.get("ok") or {}).get("trace") or []:
        t["management"] = sorted(t["management"], key=lambda c: json.dumps(c, sort_keys=True))
    return o


# The one difference of the Python binding in these flows (docs/compat.md, "Text of a
# Python adapter's exception in log lines"): where the original logs an adapter error's
# `message`, Python logs `<exception class>: <str(exception)>`. The harness's adapter raises
# `Exception("adapter down")`.
ADAPTER_ERROR_LINE = re.compile(r"^(\[propagation\] fetchSourcePropagationSecret failed for [^:]*: )(.*)$", re.S)


def as_python_logs(outcome: Any) -> Any:
    o = json.loads(json.dumps(outcome))
    for lines in ((o.get("ok") or {}).get("logs") or {}).values():
        for line in lines:
            line[1] = ADAPTER_ERROR_LINE.sub(lambda m: f"{m.group(1)}Exception: {m.group(2)}", line[1])
    return o


FLOWS = [c for c in DOC["cases"] if c["op"] == "flow.scenario"]
# (case id, reason) of each recorded flow this replay leaves out; none today.
LEFT_OUT: List[Tuple[str, str]] = []
CASES = [c for c in FLOWS if c["id"] not in dict(LEFT_OUT)]


def test_every_recorded_flow_is_replayed():
    assert len(FLOWS) >= 60, len(FLOWS)
    assert len(CASES) + len(LEFT_OUT) == len(FLOWS)
    assert not LEFT_OUT, "left out: " + "; ".join(f"{i}: {why}" for i, why in LEFT_OUT)
    assert any(c.get("kept") for c in CASES) and any(not c.get("kept") for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_propagation_flow_replay(case):
    want = case["kept"]["ours"] if case.get("kept") else case["expect"]
    got = {"ok": asyncio.run(flow_scenario(case["input"]))}
    assert _canonical(got) == _canonical(as_python_logs(want))
