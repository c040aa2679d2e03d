#!/usr/bin/env bash
# Python: venv with pinned dev requirements, the extension built in debug mode
# (maturin develop), then pytest over the binding's tests, the shared vectors and the
# cross-language parity cases (ffi-tests/parity), then the type checks (stubtest of the
# .pyi, mypy --strict on a program using every export), then the
# built wheel installed alone into a fresh venv (smoke test, then the vector runners of
# ffi-tests/python against it from a temporary directory).
# Idempotent; needs only python3 (>= 3.10), cargo and a reachable Redis (scripts/services.sh).
# The Redis Cluster tests (bindings-python/tests/test_redis_cluster_stores.py) start a private
# 3-master cluster with scripts/redis-cluster.sh (redis-server and redis-cli on the PATH) and
# stop it at the end of the module, even on failure. The HMAC scenario replay
# (ffi-tests/python/test_hmac_scenarios_differential.py) starts its own redis-server on a
# free port the same way.
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
# Then the Python part of the vector suite in that venv, pytest at the pinned version its only
# addition: the runners and vectors are copied into a temporary directory and run from there
# (--import-mode=importlib puts nothing on sys.path), so authcore can only come from the wheel.
PYTEST_PIN="$(grep -E '^(pytest|iniconfig|pluggy|packaging)==' bindings-python/requirements-dev.txt)"
# shellcheck disable=SC2086 # one requirement per word
"$smoke_venv/bin/python" -m pip install --quiet --disable-pip-version-check $PYTEST_PIN
smoke_dir="$(mktemp -d "${TMPDIR:-/tmp}/authcore-wheel-smoke.XXXXXX")"
trap 'rm -rf "$smoke_dir"' EXIT
mkdir -p "$smoke_dir/ffi-tests"
cp -r ffi-tests/python ffi-tests/vectors "$smoke_dir/ffi-tests/"
# The propagation flow replay and the HMAC scenario replay read their Redis through redis-py,
# which this venv does not hold (pytest is its only addition); they exercise the same binding
# code as in the dev venv above, where they run. The wheel keeps every other runner (the files
# stay: test_vectors.py checks every replay REPLAYED_BY names).
ROOT="$PWD"
(
  cd "$smoke_dir"
  "$smoke_venv/bin/python" - "$smoke_venv" <<'PY'
import pathlib, sys
import authcore, authcore._native as n
venv = pathlib.Path(sys.argv[1]).resolve()
for mod in (authcore, n):
    assert venv in pathlib.Path(mod.__file__).resolve().parents, mod.__file__
assert not any("bindings-python" in p for p in sys.path), sys.path
print("wheel-smoke: authcore from", pathlib.Path(n.__file__).parent)
PY
  "$smoke_venv/bin/python" "$ROOT/bindings-python/wheel-smoke/smoke.py"
  # The settings of bindings-python/pyproject.toml that matter here: warnings are errors,
  # xfail is strict (no ini file is read: -c /dev/null).
  "$smoke_venv/bin/python" -m pytest -q -p no:cacheprovider -c /dev/null --rootdir "$smoke_dir" \
    --import-mode=importlib -W error -o xfail_strict=true \
    --ignore=ffi-tests/python/test_propagation_flows_differential.py \
    --ignore=ffi-tests/python/test_hmac_scenarios_differential.py ffi-tests/python
)
