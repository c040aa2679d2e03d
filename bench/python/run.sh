#!/usr/bin/env bash
# Python benchmarks on a RELEASE build of the extension, in a separate venv
# (target/bench-venv-python) so the debug build used by the tests is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
VENV="$ROOT/target/bench-venv-python"
PY="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet -r "$ROOT/bindings-python/requirements-dev.txt"
rm -rf "$ROOT/target/wheels-bench-python"
# The bench-fast profile: release optimisations with thin LTO (the full-LTO release
# profile is for publishing).
"$VENV/bin/maturin" build --quiet --profile bench-fast -m "$ROOT/bindings-python/Cargo.toml" \
  -i "$VENV/bin/python" -o "$ROOT/target/wheels-bench-python"
"$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps "$ROOT"/target/wheels-bench-python/*.whl
cd "$ROOT/bench/python"
"$VENV/bin/python" bench_wire.py
"$VENV/bin/python" bench_verify_redis.py
