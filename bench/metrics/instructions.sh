#!/usr/bin/env bash
# Instructions per verification with metrics recording on vs off, counted by
# `valgrind --tool=callgrind` (deterministic: unlike wall-clock time it does not move with
# the machine's load). The example's `count` mode signs N requests and verifies them on
# one thread (HttpVerifier::verify over the memory store, 200-byte body); it runs at two
# sizes per mode, and (Ir(N2) - Ir(N1)) / (N2 - N1) is the cost of one call with the
# fixed costs cancelled. The `sign` mode (requests built, none verified) is subtracted.
# Prints one JSON object. Usage: bench/metrics/instructions.sh [N1] [N2] [repeats]
# (needs the bench-fast example built: bench/metrics/run.sh does it).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=target/bench-fast/examples/metrics_overhead
N1="${1:-2000}"
N2="${2:-12000}"
REPEATS="${3:-2}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
ir() { # mode calls -> total instructions (Ir) of the whole run
  valgrind --tool=callgrind --callgrind-out-file="$TMP/cg" "$BIN" count "$1" "$2" >/dev/null 2>&1
  sed -n 's/^summary: //p; s/^totals: //p' "$TMP/cg" | head -1
}
{
  for r in $(seq 1 "$REPEATS"); do
    for mode in sign on off; do
      echo "$r $mode $N1 $(ir "$mode" "$N1")"
      echo "$r $mode $N2 $(ir "$mode" "$N2")"
    done
  done
} >"$TMP/counts"
python3 - "$TMP/counts" "$N1" "$N2" "$(valgrind --version)" <<'PY'
import json, sys
rows = [l.split() for l in open(sys.argv[1])]
n1, n2 = int(sys.argv[2]), int(sys.argv[3])
ir = {(int(r), m, int(n)): int(v) for r, m, n, v in rows}
reps = sorted({k[0] for k in ir})
per = lambda r, m: (ir[(r, m, n2)] - ir[(r, m, n1)]) / (n2 - n1)
out = []
for r in reps:
    sign, on, off = per(r, "sign"), per(r, "on"), per(r, "off")
    v_on, v_off = on - sign, off - sign
    out.append({
        "instructions_per_verify_on": round(v_on, 1),
        "instructions_per_verify_off": round(v_off, 1),
        "instructions_added_by_metrics": round(v_on - v_off, 1),
        "overhead_percent": round((v_on / v_off - 1) * 100, 3),
        "instructions_per_sign": round(sign, 1),
    })
print(json.dumps({
    "what": "instructions per HttpVerifier::verify (memory store, 200-byte body, one thread), metrics recording on vs off, counted by valgrind --tool=callgrind: (Ir(N2) - Ir(N1)) / (N2 - N1) per mode, request signing subtracted",
    "tool": sys.argv[4],
    "calls": [n1, n2],
    "runs": out,
    "overhead_percent": out[-1]["overhead_percent"],
    "instructions_added_by_metrics": out[-1]["instructions_added_by_metrics"],
    "instructions_per_verify_off": out[-1]["instructions_per_verify_off"],
}))
PY
