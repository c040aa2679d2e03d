#!/usr/bin/env bash
# Python: venv with pinned dev requirements, the extension built in debug mode
# (maturin develop), then pytest over the binding's tests and the shared vectors.
# Idempotent; needs only python3 (>= 3.10), cargo and a reachable Redis (scripts/services.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

build_python_ext

export AUTHCORE_TEST_REDIS_URL="${AUTHCORE_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
.venv/bin/python -m pytest -q -p no:cacheprovider -c bindings-python/pyproject.toml \
  bindings-python/tests ffi-tests/python ffi-tests/python-auth
