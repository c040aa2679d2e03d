#!/usr/bin/env bash
# `make dist`: every artefact, portable to glibc 2.17 (manylinux2014), into target/dist/:
#   authcore-VERSION-cp310-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl  (maturin --zig)
#   authcore-VERSION.tar.gz                                (Python sdist, maturin sdist)
#   npm/*.tgz                  (the six npm packages; @authcore/native-linux-x64-gnu carries
#                               the portable .node: scripts/pack-node.sh --addon)
#   authcore-c-VERSION-linux-x64-gnu.tar.gz  (include/, lib/ libauthcore.so.VERSION with its
#                               SONAME link and libauthcore.so, libauthcore.a, lib/pkgconfig with a
#                               relocatable prefix: scripts/c-install.sh --relocatable)
#   SHA256SUMS, MANIFEST.txt   (sizes and the glibc each binary needs)
# Release builds go through zig (cargo-zigbuild, target x86_64-unknown-linux-gnu.2.17) into
# their own target directory, target/zig, so the debug builds of the tests are left alone.
# The tools (ziglang, cargo-zigbuild, maturin, auditwheel; pinned in
# scripts/dist-requirements.txt) come from PyPI into target/zig-venv (scripts/zig-tools.sh,
# shared with scripts/portable.sh). Each binary is checked with scripts/glibc-ceiling.sh
# 2.17, the wheel with auditwheel.
# Proof that the artefacts work where they land: scripts/dist-test.sh (`make dist-test`).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/zig-tools.sh
source scripts/zig-tools.sh
GLIBC_MAX="$ZIG_GLIBC"
TRIPLE=x86_64-unknown-linux-gnu

step() { printf '\n---- dist: %s\n' "$*"; }

TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
VERSION="$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="authcore"))')"
DIST="$TARGET_DIR/dist"
ZT="$TARGET_DIR/zig"
VENV="$TARGET_DIR/zig-venv"
STAGE="$TARGET_DIR/dist-stage"

step "tools (target/zig-venv from scripts/dist-requirements.txt)"
zig_tools "$VENV"
echo "zig $(python -m ziglang version), $(cargo-zigbuild --version), $(maturin --version)"

export CARGO_TARGET_DIR="$ZT"
LOCKED=(--locked)
rm -rf "$DIST" "$STAGE"
mkdir -p "$DIST" "$STAGE"

step "C library (cargo zigbuild, $ZIG_TARGET)"
LOG="$STAGE/c-build.log"
if ! cargo-zigbuild rustc "${LOCKED[@]}" --release -p authcore-ffi --lib --target "$ZIG_TARGET" \
  -- --print native-static-libs >"$LOG" 2>&1; then
  cat "$LOG" >&2
  exit 1
fi
NATIVE="$(sed -n 's/^note: native-static-libs: //p' "$LOG" | tail -1)"
NATIVE_CACHE="$ZT/native-static-libs.txt"
if [[ "$NATIVE" == -l* ]]; then echo "$NATIVE" >"$NATIVE_CACHE"; else NATIVE="$(cat "$NATIVE_CACHE")"; fi
C_NAME="authcore-c-$VERSION-linux-x64-gnu"
bash scripts/c-install.sh --from "$ZT/$TRIPLE/release" --native "$NATIVE" --relocatable \
  "$STAGE/$C_NAME"
# No symbol table in what ships (the exported dynamic symbols stay; the archive keeps its
# symbols, a linker needs them).
strip --strip-unneeded "$STAGE/$C_NAME/lib/libauthcore.so.$VERSION"
tar -C "$STAGE" --owner=0 --group=0 --numeric-owner -czf "$DIST/$C_NAME.tar.gz" "$C_NAME"

step "Node addon (cargo zigbuild, $ZIG_TARGET) and the npm packages"
cargo-zigbuild zigbuild "${LOCKED[@]}" --release -p authcore-node --target "$ZIG_TARGET"
NODE_ADDON="$STAGE/authcore.linux-x64-gnu.node"
cp "$ZT/$TRIPLE/release/libauthcore_node.so" "$NODE_ADDON"
strip --strip-unneeded "$NODE_ADDON"
# pack-node.sh copies the binary into bindings-node/npm/linux-x64-gnu/; the tests' own
# (debug) binary is put back afterwards.
IN_TREE=bindings-node/npm/linux-x64-gnu/authcore.linux-x64-gnu.node
SAVED=""
if [ -f "$IN_TREE" ]; then SAVED="$STAGE/in-tree.node"; cp "$IN_TREE" "$SAVED"; fi
bash scripts/pack-node.sh --addon "$NODE_ADDON" --out "$DIST/npm" >/dev/null
if [ -n "$SAVED" ]; then cp "$SAVED" "$IN_TREE"; else rm -f "$IN_TREE"; fi

step "Python wheel (maturin --zig, manylinux2014) and sdist"
(
  cd bindings-python
  # Its own target directory: maturin's zig wrappers set other compiler variables than
  # cargo-zigbuild's, which would make the two rebuild each other's C dependencies.
  export CARGO_TARGET_DIR="$ZT/wheel"
  maturin build "${LOCKED[@]}" --release --strip --zig --compatibility manylinux2014 \
    --target "$TRIPLE" --out "$DIST"
  maturin sdist --out "$DIST"
)
WHEEL="$(ls "$DIST"/authcore-"$VERSION"-*.whl)"
SDIST="$DIST/authcore-$VERSION.tar.gz"
[ -f "$SDIST" ] || { echo "dist: no sdist $SDIST" >&2; exit 1; }
case "$WHEEL" in
  *-cp310-abi3-*manylinux_2_17_x86_64*.whl) ;;
  *) echo "dist: unexpected wheel tag: $WHEEL" >&2; exit 1 ;;
esac
AUDIT="$(auditwheel show "$WHEEL")"
echo "$AUDIT"
tr -s '\n ' ' ' <<<"$AUDIT" | grep -q 'consistent with the following platform tag: "manylinux_2_17_x86_64"' ||
  { echo "dist: auditwheel does not find the wheel manylinux_2_17 compatible" >&2; exit 1; }
WHEEL_SO="$STAGE/wheel-_native.so"
python - "$WHEEL" "$WHEEL_SO" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = [n for n in z.namelist() if n.startswith("authcore/_native") and n.endswith(".so")]
assert len(names) == 1, names
open(sys.argv[2], "wb").write(z.read(names[0]))
PY

step "glibc ceiling $GLIBC_MAX"
mkdir -p "$STAGE/c-check"
tar -C "$STAGE/c-check" -xzf "$DIST/$C_NAME.tar.gz"
bash scripts/glibc-ceiling.sh "$GLIBC_MAX" "$NODE_ADDON" "$WHEEL_SO" \
  "$STAGE/c-check/$C_NAME/lib/libauthcore.so.$VERSION" | tee "$STAGE/glibc.txt"
# For the record: what the host (glibc 2.36) builds of the tests need.
for f in "$TARGET_DIR/debug/libauthcore_ffi.so" bindings-node/authcore.linux-x64-gnu.node \
  bindings-python/python/authcore/_native*.so; do
  [ -f "$f" ] && bash scripts/glibc-ceiling.sh 99 "$f" | sed 's/^/host build (not shipped): /'
done

step "manifest"
(
  cd "$DIST"
  find . -type f ! -name SHA256SUMS ! -name MANIFEST.txt | sed 's|^\./||' | sort |
    xargs sha256sum >SHA256SUMS
  {
    echo "authcore $VERSION, built $(date -u +%Y-%m-%dT%H:%M:%SZ) for $ZIG_TARGET"
    echo
    find . -type f ! -name SHA256SUMS ! -name MANIFEST.txt | sed 's|^\./||' | sort |
      xargs -I{} sh -c 'printf "%10s  %s\n" "$(stat -c %s "{}")" "{}"'
    echo
    echo "glibc needed (GLIBC_x.y: highest versioned symbol):"
    sed "s|$STAGE/||; s|c-check/||" "$STAGE/glibc.txt"
  } >MANIFEST.txt
  cat MANIFEST.txt
)
echo "dist: artefacts in $DIST"
