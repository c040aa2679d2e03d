#!/usr/bin/env bash
# The `cargo` of `napi build` (scripts/lib.sh sets CARGO to this script; napi spawns $CARGO).
# napi always passes `--target TRIPLE` (package.json "napi.targets"), which puts the addon and
# every one of its ~250 dependencies in target/TRIPLE/, a second copy of what the host builds
# of `make test` (scripts/rust.sh, c.sh, python.sh, uniffi.sh) already compiled in target/debug.
# When TRIPLE is the host's, this drops `--target`: the addon is a host build and cargo reuses
# those dependencies (the same profile, features and RUSTFLAGS give the same units). The
# built cdylib is then linked where napi copies it from (target/TRIPLE/PROFILE/), and napi
# goes on as usual: the .node file, binding.js and binding.d.ts are the ones a --target build
# writes (napi's type definitions come from the compile itself, under the environment napi
# sets). Any other TRIPLE is passed to cargo unchanged.
set -euo pipefail
host="$(rustc -vV | sed -n 's/^host: //p')"
args=()
triple=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target)
      if [ "${2:-}" = "$host" ]; then triple="$2"; else args+=("$1" "${2:-}"); fi
      shift 2
      ;;
    --target=*)
      if [ "${1#--target=}" = "$host" ]; then triple="$host"; else args+=("$1"); fi
      shift
      ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -z "$triple" ] || [ "${args[0]:-}" != build ]; then
  exec cargo "${args[@]}"
fi
# The artefacts' paths from cargo's JSON messages (diagnostics still rendered on stderr); each
# cdylib is linked as target/TRIPLE/PROFILE/FILE next to target/PROFILE/FILE.
cargo "${args[@]}" --message-format=json-render-diagnostics | python3 -c '
import json, os, sys
triple = sys.argv[1]
for line in sys.stdin:
    if not line.startswith("{"):
        sys.stderr.write(line)
        continue
    msg = json.loads(line)
    if msg.get("reason") != "compiler-artifact" or "cdylib" not in msg["target"]["crate_types"]:
        continue
    for f in msg["filenames"]:
        profile_dir = os.path.dirname(f)
        dest_dir = os.path.join(os.path.dirname(profile_dir), triple, os.path.basename(profile_dir))
        os.makedirs(dest_dir, exist_ok=True)
        dest = os.path.join(dest_dir, os.path.basename(f))
        if os.path.lexists(dest):
            os.remove(dest)
        os.symlink(os.path.relpath(f, dest_dir), dest)
' "$triple"
