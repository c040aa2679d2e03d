#!/usr/bin/env bash
# The installed C library seen from outside the tree: `scripts/c-install.sh` into a
# temporary prefix, the C vector runners (HMAC and passwords/JWT/TOTP/PKCE/policies) and
# their shared checks copied into a temporary directory with their generated vectors, built
# there with nothing but `pkg-config` pointed at the prefix (shared: authcore; static:
# authcore-static; `pkg-config --static authcore` lists the same system libraries), then run under valgrind
# (--error-exitcode=1 --leak-check=full). The shared binaries find the library through
# the prefix's libdir only; the static ones must not need it.
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
# shellcheck disable=SC2046 # word splitting of pkg-config output is intended
"$CC" "${CFLAGS[@]}" $(pkg-config --cflags authcore) -o vectors_shared vectors.c \
  $(pkg-config --libs authcore) -Wl,-rpath,"$LIBDIR" -lm
# shellcheck disable=SC2046
"$CC" "${CFLAGS[@]}" $(pkg-config --cflags authcore-static) -o vectors_static vectors.c \
  $(pkg-config --libs authcore-static) -lm
readelf -d vectors_shared | grep -q 'NEEDED.*libauthcore_ffi\.so' ||
  { echo "c-consumer: vectors_shared does not load libauthcore_ffi.so" >&2; exit 1; }
if readelf -d vectors_static | grep -q libauthcore_ffi; then
  echo "c-consumer: vectors_static needs libauthcore_ffi.so, expected the archive" >&2
  exit 1
fi
# The version macros agree with the library that is linked and with pkg-config.
cat >version.c <<'C'
#include <stdio.h>
#include <string.h>
#include "authcore.h"
int main(void) {
    char v[64];
    snprintf(v, sizeof v, "%d.%d.%d", AUTHCORE_VERSION_MAJOR, AUTHCORE_VERSION_MINOR,
             AUTHCORE_VERSION_PATCH);
    if (strcmp(v, AUTHCORE_VERSION) != 0 || strcmp(v, authcore_version()) != 0) {
        fprintf(stderr, "version: macros %s, AUTHCORE_VERSION %s, library %s\n", v,
                AUTHCORE_VERSION, authcore_version());
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
