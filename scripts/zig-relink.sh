#!/usr/bin/env bash
# The glibc ceiling of `make test`: relinks one crate's cdylib through zig for an old glibc,
# reusing the host build's compiled dependencies, and checks the symbol versions it needs.
#
#   scripts/zig-relink.sh [--target TRIPLE] PACKAGE OUT [GLIBC]
#       e.g. scripts/zig-relink.sh authcore-ffi target/zig-relink/lib/libauthcore_ffi.so
# --target: the host build being reused was built with an explicit --target (its dependencies
# live in target/TRIPLE/), and the same is passed to cargo. `make test` needs none: the C
# library and the Node addon (scripts/napi-cargo.sh) are host builds in target/debug.
#
# `cargo rustc -p PACKAGE --lib --crate-type cdylib -- -C linker=scripts/zig-relink-cc.sh`:
# only PACKAGE's own crate is compiled again (the extra rustc arguments are its alone; every
# dependency rlib, build script and C object of the host build is reused), and the link goes
# twice: cc to the usual path (the tests' artefact stays a host link) and zig, with
# cargo-zigbuild's argument filtering and zig's glibc GLIBC stubs (default 2.17,
# scripts/zig-tools.sh), to OUT. Then scripts/glibc-ceiling.sh GLIBC OUT.
# Which glibc a shared object needs is decided at this link: the versioned symbols it takes
# from the stubs it is linked against. rustc compiles for x86_64-unknown-linux-gnu in both
# cases (the .2.17 of cargo-zigbuild's target is for zig alone).
# How this relates to what ships (`make dist`, scripts/dist.sh: cargo-zigbuild --target
# x86_64-unknown-linux-gnu.2.17, release): the same sources, dependencies, linker, argument
# filtering and glibc stubs; but the rlibs here are the host build's (debug), and the C and
# assembly of the dependencies that have some (ring, blake3) were compiled by the host cc
# against the host's glibc headers, not by zig cc against 2.17's. A call those headers map to a
# symbol that glibc GLIBC lacks would link here as an unversioned reference, which
# scripts/glibc-ceiling.sh rejects. `make dist` checks the shipped binaries themselves;
# `make portable` checks dev-profile zig builds with --target (~10 min cold).
# Needs the host build first (scripts/c.sh, scripts/node.sh); zig and cargo-zigbuild come from
# PyPI into target/zig-test/venv (shared with `make portable`).
set -euo pipefail
target=()
if [ "${1:-}" = --target ]; then
  target=(--target "$2")
  shift 2
fi
[ $# -ge 2 ] || { echo "usage: scripts/zig-relink.sh [--target TRIPLE] PACKAGE OUT [GLIBC]" >&2; exit 2; }
pkg="$1"
mkdir -p "$(dirname "$2")"
out="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
cd "$(dirname "$0")/.."
ROOT="$PWD"
# shellcheck source=scripts/zig-tools.sh
source scripts/zig-tools.sh
glibc="${3:-$ZIG_GLIBC}"
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
zig_tools "$TARGET_DIR/zig-test/venv" ziglang cargo-zigbuild
rm -f "$out"
relink() {
  ZIG_RELINK_OUT="$out" ZIG_RELINK_TARGET="x86_64-linux-gnu.$glibc" \
    cargo rustc --locked -p "$pkg" --lib --crate-type cdylib "${target[@]}" -- \
    -C linker="$ROOT/scripts/zig-relink-cc.sh"
}
relink
if [ ! -f "$out" ]; then
  # cargo found the crate fresh from an identical earlier run, so nothing was linked: its
  # source's mtime forces the one compile.
  src="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c '
import json, sys
p = next(p for p in json.load(sys.stdin)["packages"] if p["name"] == sys.argv[1])
print(next(t["src_path"] for t in p["targets"] if "lib" in t["kind"] or "cdylib" in t["kind"]))' "$pkg")"
  touch "$src"
  relink
fi
[ -f "$out" ] || { echo "zig-relink: $pkg: the zig link wrote no $out" >&2; exit 1; }
bash scripts/glibc-ceiling.sh "$glibc" "$out"
