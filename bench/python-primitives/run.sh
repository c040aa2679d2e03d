#!/usr/bin/env bash
# Auth-primitive Python benchmarks (JWT HS256 vs PyJWT, argon2id vs argon2-cffi) on a RELEASE
# build of the extension (bench-fast profile), in a separate venv
# (target/bench-venv-python-primitives) so the debug build used by the tests is left alone.
# Prints a table and writes bench/results/python-primitives.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
VENV="$ROOT/target/bench-venv-python-primitives"
WHEELS="$ROOT/target/wheels-bench-python-primitives"
PY="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/bindings-python/requirements-dev.txt"
rm -rf "$WHEELS"
"$VENV/bin/maturin" build --quiet --profile bench-fast -m "$ROOT/bindings-python/Cargo.toml" \
  -i "$VENV/bin/python" -o "$WHEELS"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEELS"/*.whl
cd "$ROOT/bench/python-primitives"
"$VENV/bin/python" bench_primitives.py "$@"
