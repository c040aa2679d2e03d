#!/usr/bin/env bash
# The README's demo command: on a fresh clone, install/build what is missing (npm
# workspaces + the napi addon, a Python venv with the extension, the C library), then run
# demo/demo.py on the embedded defaults (no Redis needed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
. scripts/lib.sh
say() { printf '\n\033[2m---- demo: %s\033[0m\n' "$*"; }

say "Node: npm workspaces and the native addon"
build_node_addon >/dev/null

say "Python: virtual environment and the extension"
build_python_ext

say "C: libauthcore (installed into target/demo/prefix) and the demo verifier"
bash scripts/c-install.sh --profile debug target/demo/prefix >/dev/null
cc -std=c11 -O1 -Itarget/demo/prefix/include -o target/demo/authcore_cross ffi-tests/c/cross.c \
  -Ltarget/demo/prefix/lib -lauthcore -Wl,-rpath,"$ROOT/target/demo/prefix/lib"

say "run"
exec .venv/bin/python demo/demo.py target/demo/authcore_cross
