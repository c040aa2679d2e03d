#!/usr/bin/env bash
# Memory soak (not a test): 1,000,000 calls of each hot path through Node, Python and C on
# optimised builds, RSS after warm-up (the first 10% of the calls and at least 10 s, so a
# working set that lives for a time, like the nonces of the last 2 s, is full), at the
# midpoint and at the end, each the median of three neighbouring readings of eleven (one
# after warm-up, then one per tenth of the measured calls). Writes bench/results/soak.json and flags a path whose RSS grew more than 5% after
# warm-up (exit status 1 when any did).
#   bash bench/soak/run.sh                 # or: make soak
#   SOAK_CALLS=200000 bash bench/soak/run.sh node c
# SOAK_CALLS (default 1000000) is the count for every path; SOAK_KDF_CALLS and
# SOAK_REDIS_CALLS override it for password verification and Redis verification.
# SOAK_ONLY=REGEX runs only the Node and Python paths whose name matches.
# SOAK_PROFILE (default bench-fast: release optimisations, thin LTO) picks the cargo profile.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
bash scripts/services.sh
N="${SOAK_CALLS:-1000000}"
N_KDF="${SOAK_KDF_CALLS:-$N}"
N_REDIS="${SOAK_REDIS_CALLS:-$N}"
PROFILE="${SOAK_PROFILE:-bench-fast}"
langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(node python c)
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
OUT="$TARGET_DIR/soak"
mkdir -p "$OUT"
rows="$OUT/rows.jsonl"
: >"$rows"

for lang in "${langs[@]}"; do
  echo "==== soak: $lang ($N calls per path) ===="
  case "$lang" in
    node)
      [ -d node_modules/@napi-rs/cli ] || npm ci --no-audit --no-fund --loglevel=error
      cargo build --locked --profile "$PROFILE" -p authcore-node
      cp "$TARGET_DIR/$PROFILE/libauthcore_node.so" "$OUT/authcore.node"
      # A fixed young generation: V8 grows its semi-spaces in steps during the first
      # million calls (RSS +20 MB, then flat), which is heap sizing, not a leak.
      NAPI_RS_NATIVE_LIBRARY_PATH="$OUT/authcore.node" \
        node --expose-gc --min-semi-space-size=16 --max-semi-space-size=16 bench/soak/soak.mjs "$N" "$N_KDF" "$N_REDIS" | tee -a "$rows"
      ;;
    python)
      VENV="$TARGET_DIR/soak-venv"
      pinned_venv "$VENV" bindings-python/requirements-dev.txt
      rm -rf "$OUT/wheels"
      "$VENV/bin/maturin" build --quiet --profile "$PROFILE" -m bindings-python/Cargo.toml \
        -i "$VENV/bin/python" -o "$OUT/wheels"
      "$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps "$OUT"/wheels/*.whl
      (cd "$OUT" && "$VENV/bin/python" "$ROOT/bench/soak/soak.py" "$N" "$N_KDF" "$N_REDIS") | tee -a "$rows"
      ;;
    c)
      cargo build --locked --profile "$PROFILE" -p authcore-ffi
      "${CC:-cc}" -O2 -std=c11 -Wall -Wextra -Werror -Ibindings-c/include bench/soak/soak.c \
        "$TARGET_DIR/$PROFILE/libauthcore_ffi.a" -lpthread -ldl -lm -o "$OUT/soak-c"
      "$OUT/soak-c" "$N" "$N_KDF" | tee -a "$rows"
      ;;
    *) echo "unknown language: $lang" >&2; exit 2 ;;
  esac
done

python3 bench/soak/report.py "$rows" bench/results/soak.json "$PROFILE"
