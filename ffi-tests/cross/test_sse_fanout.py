"""SSE fan-out across processes and languages on one Redis channel: two Node processes
(`@authcore/node-auth-core` AuthTools with `createRedisDistributor`) and this Python process
(`authcore.events.SseManager` with `RedisDistributor`). An event tracked in any of them reaches
the subscriber of every process exactly once (self-echo + dedupe across its topics)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

from authcore import events

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REDIS_URL = os.environ.get("AUTHCORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 20)
    assert line, "node process ended early"
    return line.decode().strip()


async def _send(proc: asyncio.subprocess.Process, text: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write((text + "\n").encode())
    await proc.stdin.drain()


def test_two_node_processes_and_python_each_event_exactly_once() -> None:
    async def go() -> None:
        channel = f"authcore-test-sse-{uuid.uuid4()}"
        procs = [
            await asyncio.create_subprocess_exec(
                "node", str(HERE / "node_sse.mjs"), REDIS_URL, channel,
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        try:
            for p in procs:
                assert await _line(p) == "ready"
            dist = await events.RedisDistributor.connect(REDIS_URL, channel)
            py = events.SseManager(heartbeat_interval_ms=0, distributor=dist)
            sub = py.connect(["global", "user:u1"])
            for i, p in enumerate(procs):
                await _send(p, f"track node{i}.event")
                assert await _line(p) == "tracked"
            # Python tracks as node-auth's track does: one id on global, then user:u1.
            eid = str(uuid.uuid4())
            for topic in ("global", "user:u1"):
                py.broadcast(topic, {"id": eid, "type": "python.event", "data": {"from": "python"}, "userId": "u1"})
            expected = ["node0.event", "node1.event", "python.event"]
            got: list[str] = []
            it = sub.__aiter__()
            while len([g for g in got if g != "connected"]) < 3:
                chunk = await asyncio.wait_for(it.__anext__(), 10)
                got += [line[7:] for line in chunk.split("\n") if line.startswith("event: ")]
            try:
                extra = await asyncio.wait_for(it.__anext__(), 0.5)
                got += [line[7:] for line in extra.split("\n") if line.startswith("event: ")]
            except asyncio.TimeoutError:
                pass
            assert sorted(g for g in got if g != "connected") == expected
            await asyncio.sleep(0.3)
            for p in procs:
                await _send(p, "dump")
                types: list[Any] = json.loads(await _line(p))
                assert types[0] == "connected"
                assert sorted(types[1:]) == expected, types
            await py.aclose()
            await dist.close()
        finally:
            for p in procs:
                if p.returncode is None:
                    try:
                        await _send(p, "exit")
                        await asyncio.wait_for(p.wait(), 5)
                    except (asyncio.TimeoutError, BrokenPipeError, ConnectionResetError):
                        p.kill()
                        await p.wait()

    asyncio.run(go())
