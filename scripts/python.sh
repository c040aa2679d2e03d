#!/usr/bin/env bash
# Python: venv with pinned dev requirements, the extension built in debug mode
# (maturin develop), then pytest over the binding's tests and the shared vectors, then the
# built wheel installed alone into a fresh venv (smoke test).
# Idempotent; needs only python3 (>= 3.10), cargo and a reachable Redis (scripts/services.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

build_python_ext

export AUTHCORE_TEST_REDIS_URL="${AUTHCORE_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
.venv/bin/python -m pytest -q -p no:cacheprovider -c bindings-python/pyproject.toml \
  bindings-python/tests ffi-tests/python ffi-tests/python-auth

# The wheel as it would be published, in a fresh venv with nothing else installed: every
# module imports, py.typed and the .pyi ship, one call per area works (wheel-smoke/smoke.py).
wheels="$PWD/target/wheels-smoke"
rm -rf "$wheels"
locked=()
if [ "${CI:-}" = "true" ]; then locked=(--locked); fi
.venv/bin/maturin build --quiet "${locked[@]}" -m bindings-python/Cargo.toml -i .venv/bin/python -o "$wheels"
smoke_venv="$PWD/target/wheel-smoke-venv"
rm -rf "$smoke_venv"
"${PYTHON:-python3}" -m venv "$smoke_venv"
"$smoke_venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheels"/*.whl
(cd /tmp && "$smoke_venv/bin/python" "$OLDPWD/bindings-python/wheel-smoke/smoke.py")
