#!/usr/bin/env bash
# Python: venv with pinned dev requirements, the extension built in debug mode
# (maturin develop), then pytest over the binding's tests, the shared vectors and the
# cross-language parity cases (ffi-tests/parity), then the type checks (stubtest of the
# .pyi, mypy --strict on a program using every export), then the
# built wheel installed alone into a fresh venv (smoke test).
# Idempotent; needs only python3 (>= 3.10), cargo and a reachable Redis (scripts/services.sh).
# The Redis Cluster tests (bindings-python/tests/test_redis_cluster_stores.py) start a private
# 3-master cluster with scripts/redis-cluster.sh (redis-server and redis-cli on the PATH) and
# stop it at the end of the module, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

build_python_ext

export AUTHCORE_TEST_REDIS_URL="${AUTHCORE_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
.venv/bin/python -m pytest -q -p no:cacheprovider -c bindings-python/pyproject.toml \
  bindings-python/tests ffi-tests/python ffi-tests/parity

# Types, as a user's checker sees the installed package: the hand-written _native.pyi
# against the built extension (mypy's stubtest: every name, signature and default), then
# mypy --strict on a program that uses every public export (test_typed_sample.py checks it
# does).
.venv/bin/python -m mypy.stubtest authcore._native --ignore-disjoint-bases \
  --allowlist bindings-python/stubtest-allowlist.txt
.venv/bin/mypy --strict --cache-dir target/mypy-cache bindings-python/typecheck/uses_every_export.py

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
