#!/usr/bin/env bash
# The README's demo command: on a fresh clone, install/build what is missing (npm
# workspaces + the napi addon, a Python venv with the extension, the C library), then run
# demo/demo.py on the embedded defaults (no Redis needed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
say() { printf '\n\033[2m---- demo: %s\033[0m\n' "$*"; }

say "Node: npm workspaces and the native addon"
if [ ! -d node_modules/@napi-rs/cli ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# Always rebuild (a no-op for cargo when nothing changed) so the demo never runs a stale addon.
(cd bindings-node && npx napi build --platform --js binding.js --dts binding.d.ts >/dev/null)

say "Python: virtual environment and the extension"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
if ! .venv/bin/python -c "import maturin" >/dev/null 2>&1; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r bindings-python/requirements-dev.txt
fi
(cd bindings-python && VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH" ../.venv/bin/maturin develop --quiet)

say "C: libauthcore_ffi and the demo verifier"
cargo build --quiet -p authcore-ffi
mkdir -p target/demo
cc -std=c11 -O1 -Ibindings-c/include -o target/demo/authcore_cross ffi-tests/c/cross.c \
  -Ltarget/debug -lauthcore_ffi -Wl,-rpath,"$ROOT/target/debug"

say "run"
exec .venv/bin/python demo/demo.py target/demo/authcore_cross
