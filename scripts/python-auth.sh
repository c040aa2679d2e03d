#!/usr/bin/env bash
# Python, issue 5 (passwords, JWT, tokens, TOTP, PKCE, policies): the shared venv with the
# pinned dev requirements (PyJWT, argon2-cffi, cryptography as references), the extension
# in debug mode (maturin develop), the core's PyJWT-compatibility tests, then pytest over
# bindings-python/tests/auth and the issue-5 vector runner. Idempotent; needs python3
# (>= 3.9) and cargo, no network service. Benchmarks: bench/python-auth/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
REQ="$ROOT/bindings-python/requirements-dev.txt"

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# Same stamp as scripts/python.sh: reinstall only when the pinned requirements changed.
STAMP="$VENV/.requirements-dev.sha256"
SUM="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$SUM" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  echo "$SUM" > "$STAMP"
fi

# The shared working tree's Cargo.lock may carry other crates' uncommitted dependency
# changes, so --locked is for CI only (as in scripts/python.sh).
LOCKED=()
if [ "${CI:-}" = "true" ]; then LOCKED=(--locked); fi

cargo test "${LOCKED[@]}" -q -p authcore --test pyjwt_compat

# Stale extension modules from an older build must not shadow the fresh one.
rm -f "$ROOT"/bindings-python/python/authcore/_native*.so
(
  cd "$ROOT/bindings-python"
  VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" develop --quiet "${LOCKED[@]}"
)

"$VENV/bin/python" -m pytest -q -p no:cacheprovider -c bindings-python/pyproject.toml \
  bindings-python/tests/auth ffi-tests/python-auth
