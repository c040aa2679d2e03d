#!/usr/bin/env bash
# `make portable`: the C library (authcore-ffi) and the Node addon (authcore-node), built
# through zig for glibc 2.17 as scripts/dist.sh builds the release artefacts (cargo-zigbuild,
# target x86_64-unknown-linux-gnu.2.17), need no glibc symbol newer than GLIBC_2.17
# (scripts/glibc-ceiling.sh): a dependency or a libc call that needs a newer glibc fails here
# without the release builds of `make dist`. The wheel's extension is not built here
# (maturin); `make dist` checks it, with auditwheel.
# The cheap build: the dev profile without debug info, one cargo invocation for both
# libraries (the core compiles once), in its own target directory, target/zig-test (zig's
# compiler settings would otherwise rebuild the tests' C dependencies), with only ziglang and
# cargo-zigbuild (the pins of scripts/dist-requirements.txt) in target/zig-test/venv
# (scripts/zig-tools.sh).
# Not part of `make test`: cold (no target/zig-test, as in CI) it took 605 s on the shared
# 2-core machine (2026-12-07, load ~5, 249 crates compiled), warm 1 s; a cold `make test` is
# already close to its 30-minute budget. `make test` checks the same ceiling more cheaply:
# scripts/zig-relink.sh relinks the tests' own builds of the two libraries through zig (one
# crate compiled each), reusing their host-target dependencies; this script builds every crate
# for the explicit zig target, as `make dist` does.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/zig-tools.sh
source scripts/zig-tools.sh
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
ZT="$TARGET_DIR/zig-test"
zig_tools "$ZT/venv" ziglang cargo-zigbuild
echo "zig $(python -m ziglang version), $(cargo-zigbuild --version)"
OUT="$ZT/x86_64-unknown-linux-gnu/debug"
rm -f "$OUT/libauthcore_ffi.so" "$OUT/libauthcore_node.so"
CARGO_TARGET_DIR="$ZT" CARGO_PROFILE_DEV_DEBUG=false \
  cargo-zigbuild zigbuild --locked -p authcore-ffi -p authcore-node --lib --target "$ZIG_TARGET"
bash scripts/glibc-ceiling.sh "$ZIG_GLIBC" "$OUT/libauthcore_ffi.so" "$OUT/libauthcore_node.so"
echo "portable: the zig builds need at most GLIBC_$ZIG_GLIBC"
