"""`make demo` exits cleanly: demo/demo.py (Python signing, Node and C verifying, a
propagation mesh, the SSE guard) run 5 times, two at a time, each must print its last
section and exit with 0 (it used to die at exit with a segmentation fault or
`Fatal Python error: PyGILState_Release` about one run in three). Runs after every
binding is built (scripts/cross.sh); the C verifier is the one scripts/c.sh builds."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "target" / "ffi-tests-c" / "authcore_cross"


def test_demo_exits_cleanly_5_times():
    assert CLI.exists(), f"{CLI} is missing: run bash scripts/c.sh first"

    def once(_: int) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-X", "faulthandler", str(ROOT / "demo" / "demo.py"), str(CLI)],
                              cwd=ROOT, capture_output=True, text=True, timeout=180)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(once, range(5)))
    bad = [r for r in results if r.returncode != 0 or "Realtime SSE auth guard" not in r.stdout]
    assert not bad, (
        f"demo: {len(bad)}/5 runs did not exit cleanly (exit codes {[r.returncode for r in bad]}):\n"
        f"{bad[0].stderr[-3000:]}"
    )
