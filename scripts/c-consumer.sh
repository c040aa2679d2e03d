#!/usr/bin/env bash
# The installed C library seen from outside the tree: `scripts/c-install.sh` into a
# temporary prefix, the C vector runners (HMAC and passwords/JWT/TOTP/PKCE/policies) and
# their shared checks copied into a temporary directory with their generated vectors, built
# there with nothing but `pkg-config` pointed at the prefix (shared: authcore; static:
# authcore-static; `pkg-config --static authcore` lists the same system libraries), then run under valgrind
# (--error-exitcode=1 --leak-check=full). The shared binaries find the library through
# the prefix's libdir only; the static ones must not need it. Before that, the installed
# layout as distributions expect it: libauthcore.so.X.Y.Z (SONAME libauthcore.so.<ABI>, the
# header's AUTHCORE_SONAME, read with readelf -d), the links libauthcore.so.<ABI> ->
# libauthcore.so.X.Y.Z and libauthcore.so -> libauthcore.so.<ABI>, and authcore.pc
# pointing at this prefix (-lauthcore) with the header's version.
#
#   scripts/c-consumer.sh [--profile debug|release] [--prefix DIR]
#
# --prefix uses an existing installation (e.g. the unpacked C tarball of `make dist`)
# instead of installing one. Needs cc, pkg-config, readelf, python3 and valgrind (a
# missing valgrind fails, it does not skip).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PROFILE=debug PREFIX=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) PROFILE="${2:?}"; shift 2 ;;
    --prefix) PREFIX="${2:?}"; shift 2 ;;
    *) echo "usage: scripts/c-consumer.sh [--profile debug|release] [--prefix DIR]" >&2; exit 2 ;;
  esac
done
CC="${CC:-cc}"
command -v valgrind >/dev/null || { echo "c-consumer: valgrind is required (apt-get install valgrind)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/authcore-consumer.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
if [ -z "$PREFIX" ]; then
  PREFIX="$WORK/prefix"
  bash scripts/c-install.sh --profile "$PROFILE" "$PREFIX"
fi
PREFIX="$(cd "$PREFIX" && pwd)"

APP="$WORK/app"
mkdir -p "$APP"
cp ffi-tests/c/run_vectors.c "$APP/vectors.c"
cp ffi-tests/c-common/check.h ffi-tests/c-common/vector_runner.h "$APP/"
python3 ffi-tests/c/gen_vectors.py --out "$APP/vectors.gen.h"

cd "$APP"
# Only the prefix: no path into the source tree or target/.
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
unset PKG_CONFIG_LIBDIR LD_LIBRARY_PATH C_INCLUDE_PATH CPATH LIBRARY_PATH
echo "authcore $(pkg-config --modversion authcore) from $PREFIX"
pkg-config --validate authcore
pkg-config --validate authcore-static
# `pkg-config --static authcore` carries the archive's system libraries (Libs.private).
STATIC_LIBS="$(pkg-config --static --libs authcore)"
for l in $(pkg-config --libs authcore-static | tr ' ' '\n' | grep '^-l'); do
  [[ " $STATIC_LIBS " == *" $l "* ]] || { echo "c-consumer: pkg-config --static authcore lacks $l" >&2; exit 1; }
done
CFLAGS=(-std=c11 -g -O1 -Wall -Wextra -Wpedantic -Werror -Wno-overlength-strings -I.)
LIBDIR="$(pkg-config --variable=libdir authcore)"

# The layout: pkg-config points into this prefix, the file names and links distributions
# expect, the SONAME the header announces.
fail() { echo "c-consumer: $*" >&2; exit 1; }
[ "$(realpath "$LIBDIR")" = "$(realpath "$PREFIX/lib")" ] || fail "authcore.pc libdir $LIBDIR is not $PREFIX/lib"
[ "$(realpath "$(pkg-config --variable=includedir authcore)")" = "$(realpath "$PREFIX/include")" ] ||
  fail "authcore.pc includedir is not $PREFIX/include"
[ "$(pkg-config --libs authcore | xargs)" = "-L$LIBDIR -lauthcore" ] ||
  fail "pkg-config --libs authcore: $(pkg-config --libs authcore)"
[ "$(pkg-config --libs authcore-static | cut -d' ' -f1)" = "$LIBDIR/libauthcore.a" ] ||
  fail "pkg-config --libs authcore-static does not start with the archive: $(pkg-config --libs authcore-static)"
VERSION="$(pkg-config --modversion authcore)"
hdr() { sed -n "s/^#define AUTHCORE_$1 \"\(.*\)\"\$/\1/p" "$PREFIX/include/authcore.h"; }
[ "$(hdr VERSION)" = "$VERSION" ] || fail "authcore.pc says $VERSION, authcore.h $(hdr VERSION)"
SONAME="$(hdr SONAME)"
[ "$SONAME" = "libauthcore.so.$(hdr ABI_VERSION)" ] || fail "AUTHCORE_SONAME '$SONAME' is not libauthcore.so.AUTHCORE_ABI_VERSION"
REAL="$PREFIX/lib/libauthcore.so.$VERSION"
[ -f "$REAL" ] && [ ! -L "$REAL" ] || fail "$REAL is not a file"
[ "$(readlink "$PREFIX/lib/$SONAME")" = "libauthcore.so.$VERSION" ] || fail "$SONAME is not a link to libauthcore.so.$VERSION"
[ "$(readlink "$PREFIX/lib/libauthcore.so")" = "$SONAME" ] || fail "libauthcore.so is not a link to $SONAME"
[ -f "$PREFIX/lib/libauthcore.a" ] || fail "no libauthcore.a"
GOT="$(readelf -d "$REAL" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')"
[ "$GOT" = "$SONAME" ] || fail "$REAL has SONAME '$GOT', expected $SONAME"
echo "layout: $(cd "$PREFIX/lib" && for f in libauthcore*; do
  if [ -L "$f" ]; then printf '%s -> %s, ' "$f" "$(readlink "$f")"; else printf '%s, ' "$f"; fi
done)SONAME $GOT"
# shellcheck disable=SC2046 # word splitting of pkg-config output is intended
"$CC" "${CFLAGS[@]}" $(pkg-config --cflags authcore) -o vectors_shared vectors.c \
  $(pkg-config --libs authcore) -Wl,-rpath,"$LIBDIR" -lm
# shellcheck disable=SC2046
"$CC" "${CFLAGS[@]}" $(pkg-config --cflags authcore-static) -o vectors_static vectors.c \
  $(pkg-config --libs authcore-static) -lm
needed="$(readelf -d vectors_shared | sed -n 's/.*(NEEDED).*\[\(libauthcore[^]]*\)\]$/\1/p')"
[ "$needed" = "$SONAME" ] || fail "vectors_shared needs '$needed', expected $SONAME"
if readelf -d vectors_static | grep -q 'NEEDED.*libauthcore'; then
  fail "vectors_static needs the shared library, expected the archive"
fi
# The version macros agree with the library that is linked and with pkg-config.
cat >version.c <<'C'
#include <stdio.h>
#include <string.h>
#include "authcore.h"
int main(void) {
    char v[64];
    char abi[32];
    snprintf(v, sizeof v, "%d.%d.%d", AUTHCORE_VERSION_MAJOR, AUTHCORE_VERSION_MINOR,
             AUTHCORE_VERSION_PATCH);
    if (strcmp(v, AUTHCORE_VERSION) != 0 || strcmp(v, authcore_version()) != 0) {
        fprintf(stderr, "version: macros %s, AUTHCORE_VERSION %s, library %s\n", v,
                AUTHCORE_VERSION, authcore_version());
        return 1;
    }
    /* The ABI version: MAJOR, or 0.MINOR while MAJOR is 0. */
    if (AUTHCORE_VERSION_MAJOR == 0)
        snprintf(abi, sizeof abi, "0.%d", AUTHCORE_VERSION_MINOR);
    else
        snprintf(abi, sizeof abi, "%d", AUTHCORE_VERSION_MAJOR);
    if (strcmp(abi, AUTHCORE_ABI_VERSION) != 0 ||
        strcmp(AUTHCORE_SONAME, "libauthcore.so." AUTHCORE_ABI_VERSION) != 0) {
        fprintf(stderr, "version: ABI %s, AUTHCORE_ABI_VERSION %s, AUTHCORE_SONAME %s\n", abi,
                AUTHCORE_ABI_VERSION, AUTHCORE_SONAME);
        return 1;
    }
    puts(v);
    return 0;
}
C
# shellcheck disable=SC2046
"$CC" "${CFLAGS[@]}" $(pkg-config --cflags authcore) -o version version.c \
  $(pkg-config --libs authcore) -Wl,-rpath,"$LIBDIR"
[ "$(./version)" = "$(pkg-config --modversion authcore)" ] ||
  { echo "c-consumer: header, library and authcore.pc disagree on the version" >&2; exit 1; }
for bin in vectors_shared vectors_static; do
  echo "== $bin (valgrind)"
  valgrind -q --error-exitcode=1 --leak-check=full "./$bin" | tail -1
done
echo "c-consumer: the installed library builds and passes the C vectors (shared and static, valgrind clean)"
