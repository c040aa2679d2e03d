#!/usr/bin/env bash
# Install the C library: PREFIX/include/authcore.h, PREFIX/lib/libauthcore.so.X.Y.Z with
# the links libauthcore.so.<ABI> (its SONAME: MAJOR, or 0.MINOR before 1.0) and
# libauthcore.so, PREFIX/lib/libauthcore.a, PREFIX/lib/pkgconfig/authcore.pc (shared:
# -lauthcore; Libs.private names the system libraries) and authcore-static.pc (links the
# archive: `pkg-config --libs authcore-static`).
#
#   scripts/c-install.sh [--profile release|debug] [--from LIBDIR --native 'LIBS']
#                        [--relocatable] PREFIX
#   make install PREFIX=/usr/local PROFILE=release
#
# Builds libauthcore_ffi with cargo (the profile's target directory) unless --from names a
# directory that already holds libauthcore_ffi.so and .a (a cross or zig build; --native
# then gives the system libraries of the archive). --relocatable writes
# prefix=${pcfiledir}/../.. so the tree works wherever it is unpacked (the C tarball of
# `make dist`). The header installed is the committed bindings-c/include/authcore.h
# (scripts/c.sh fails when it is stale).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
PROFILE=release FROM="" NATIVE="" RELOCATABLE=0 PREFIX=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) PROFILE="${2:?}"; shift 2 ;;
    --from) FROM="${2:?}"; shift 2 ;;
    --native) NATIVE="${2:?}"; shift 2 ;;
    --relocatable) RELOCATABLE=1; shift ;;
    -h|--help) usage ;;
    -*) echo "c-install: unknown option $1" >&2; usage ;;
    *) [ -z "$PREFIX" ] || usage; PREFIX="$1"; shift ;;
  esac
done
[ -n "$PREFIX" ] || usage
case "$PROFILE" in release|debug) ;; *) echo "c-install: PROFILE is release or debug" >&2; exit 2 ;; esac

if [ -z "$FROM" ]; then
  TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  FROM="$TARGET_DIR/$PROFILE"
  PROFILE_FLAG=()
  [ "$PROFILE" = release ] && PROFILE_FLAG=(--release)
  # The same cargo command as scripts/c.sh (same fingerprint, no rebuild between the two).
  # rustc prints the archive's system libraries only when it compiles: the last answer is
  # cached per profile.
  CACHE="$TARGET_DIR/pkgconfig/native-static-libs-$PROFILE.txt"
  mkdir -p "$TARGET_DIR/pkgconfig"
  LOG="$(mktemp)"
  trap 'rm -f "$LOG"' EXIT
  build() {
    if ! cargo rustc --locked -p authcore-ffi --lib "${PROFILE_FLAG[@]}" \
      -- --print native-static-libs >"$LOG" 2>&1; then
      cat "$LOG" >&2
      echo "c-install: cargo build of authcore-ffi ($PROFILE) failed" >&2
      exit 1
    fi
    NATIVE="$(sed -n 's/^note: native-static-libs: //p' "$LOG" | tail -1)"
  }
  build
  if ! [[ "$NATIVE" == -l* ]]; then
    if [ -s "$CACHE" ]; then
      NATIVE="$(cat "$CACHE")"
    else
      touch bindings-c/src/lib.rs # one compile to learn the list
      build
    fi
  fi
  [[ "$NATIVE" == -l* ]] || { echo "c-install: could not learn the archive's system libraries" >&2; exit 1; }
  echo "$NATIVE" >"$CACHE"
fi
[[ "$NATIVE" == -l* ]] || { echo "c-install: --from needs --native 'LIBS' (rustc --print native-static-libs)" >&2; exit 2; }
for f in libauthcore_ffi.so libauthcore_ffi.a; do
  [ -f "$FROM/$f" ] || { echo "c-install: $FROM/$f missing" >&2; exit 1; }
done

VERSION="$(sed -n 's/^#define AUTHCORE_VERSION "\(.*\)"$/\1/p' bindings-c/include/authcore.h)"
[ -n "$VERSION" ] || { echo "c-install: no AUTHCORE_VERSION in the header" >&2; exit 1; }
SONAME="$(sed -n 's/^#define AUTHCORE_SONAME "\(.*\)"$/\1/p' bindings-c/include/authcore.h)"
[ -n "$SONAME" ] || { echo "c-install: no AUTHCORE_SONAME in the header" >&2; exit 1; }
# The SONAME is set when the library is linked (bindings-c/build.rs): check it is the
# header's before installing under that name.
BUILT_SONAME="$(readelf -d "$FROM/libauthcore_ffi.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')"
[ "$BUILT_SONAME" = "$SONAME" ] ||
  { echo "c-install: $FROM/libauthcore_ffi.so has SONAME '$BUILT_SONAME', the header says $SONAME" >&2; exit 1; }

mkdir -p "$PREFIX/include" "$PREFIX/lib/pkgconfig"
PREFIX="$(cd "$PREFIX" && pwd)"
install -m 0644 bindings-c/include/authcore.h "$PREFIX/include/authcore.h"
# cargo's file names, which earlier versions of this script installed.
rm -f "$PREFIX/lib/libauthcore_ffi.so" "$PREFIX/lib/libauthcore_ffi.a"
# libauthcore.so.X.Y.Z (the file), libauthcore.so.<ABI> -> it (the SONAME: what programs
# load, what ldconfig would make), libauthcore.so -> libauthcore.so.<ABI> (what -lauthcore
# finds when linking).
install -m 0755 "$FROM/libauthcore_ffi.so" "$PREFIX/lib/libauthcore.so.$VERSION"
ln -sfn "libauthcore.so.$VERSION" "$PREFIX/lib/$SONAME"
ln -sfn "$SONAME" "$PREFIX/lib/libauthcore.so"
install -m 0644 "$FROM/libauthcore_ffi.a" "$PREFIX/lib/libauthcore.a"

if [ "$RELOCATABLE" = 1 ]; then
  # shellcheck disable=SC2016 # ${pcfiledir} is for pkg-config
  PC_PREFIX='${pcfiledir}/../..'
else
  PC_PREFIX="$PREFIX"
fi
make_pc() { # name libs libs_private
  # shellcheck disable=SC2016 # ${prefix} is for pkg-config
  sed -e "s|@PREFIX@|$PC_PREFIX|" -e 's|@LIBDIR@|${prefix}/lib|' \
    -e 's|@INCLUDEDIR@|${prefix}/include|' -e "s|@VERSION@|$VERSION|" \
    -e "s|@NAME@|$1|" -e "s|@LIBS@|$2|" -e "s|@LIBS_PRIVATE@|$3|" \
    bindings-c/authcore.pc.in | grep -v '^# ' >"$PREFIX/lib/pkgconfig/$1.pc"
  chmod 0644 "$PREFIX/lib/pkgconfig/$1.pc"
}
# shellcheck disable=SC2016
make_pc authcore '-L${libdir} -lauthcore' "$NATIVE"
# shellcheck disable=SC2016
make_pc authcore-static "\${libdir}/libauthcore.a $NATIVE" ''
echo "c-install: authcore $VERSION ($PROFILE, $SONAME) installed into $PREFIX"
