#!/usr/bin/env bash
# Python: venv with pinned dev requirements, the extension built in debug mode
# (maturin develop), then pytest over the binding's tests and the shared vectors.
# Idempotent; needs only python3 (>= 3.10), cargo and a reachable Redis (scripts/services.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
REQ="$ROOT/bindings-python/requirements-dev.txt"

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# Reinstall the pinned requirements only when they changed.
STAMP="$VENV/.requirements-dev.sha256"
SUM="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$SUM" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  echo "$SUM" > "$STAMP"
fi

# Stale extension modules from an older build must not shadow the fresh one.
rm -f "$ROOT"/bindings-python/python/authcore/_native*.so
# CI builds from a clean clone with the committed Cargo.lock; a shared working tree may
# carry other crates' uncommitted dependency changes, so --locked is for CI only.
LOCKED=()
if [ "${CI:-}" = "true" ]; then LOCKED=(--locked); fi
(
  cd "$ROOT/bindings-python"
  VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" develop --quiet "${LOCKED[@]}"
)

export AUTHCORE_TEST_REDIS_URL="${AUTHCORE_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -c bindings-python/pyproject.toml \
  bindings-python/tests ffi-tests/python ffi-tests/python-auth
