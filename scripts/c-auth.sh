#!/usr/bin/env bash
# C, issue 5: the password, JWT, TOTP, PKCE and policy functions of libauthcore_ffi.
# Builds the library (.so + .a), regenerates the header with the pinned cbindgen and fails
# if the committed one is stale, writes pkg-config files for this build, then compiles
# the C vector runner (every case of the issue-5 vector files) and the C API tests with
# -std=c11 -Wall -Wextra -Werror and ASan/UBSan, links them through pkg-config only
# (shared and static), runs them, and runs the Rust tests of these functions.
# Idempotent; needs cargo, python3, cc, pkg-config, readelf.
#
# `scripts/c-auth.sh --bench` instead builds an optimised library (profile bench-fast) and
# runs ffi-tests/c-auth/bench.c against it (numbers only, no tests).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

if [ "${1:-}" = "--bench" ]; then
  cargo build --locked --profile bench-fast -p authcore-ffi
  TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  mkdir -p "$TARGET_DIR/ffi-tests-c-auth"
  BIN="$TARGET_DIR/ffi-tests-c-auth/bench"
  "${CC:-cc}" -O2 -std=c11 -Wall -Wextra -Werror -Ibindings-c/include ffi-tests/c-auth/bench.c \
    "$TARGET_DIR/bench-fast/libauthcore_ffi.a" -lpthread -ldl -lm -o "$BIN"
  # The RSA key of the jsonwebtoken vectors, for the RS256 numbers.
  PEM="$(python3 -c 'import json; d=json.load(open("ffi-tests/vectors/jwt-asymmetric.json"));
print(next(c["input"]["privateKeyPem"] for c in d["cases"] if c["id"] == "sign-RS256"), end="")')"
  echo "machine: $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  "$BIN" "$PEM"
  exit 0
fi

CBINDGEN_VERSION=0.29.4 # the same pin as scripts/c.sh
CC="${CC:-cc}"

step() { printf '\n---- c-auth: %s\n' "$*"; }

TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
LIBDIR="$TARGET_DIR/debug"
TOOLS="$TARGET_DIR/tools"
OUT="$TARGET_DIR/ffi-tests-c-auth"
PCDIR="$OUT/pkgconfig"
mkdir -p "$OUT" "$PCDIR"

step "cbindgen $CBINDGEN_VERSION"
CBINDGEN="$TOOLS/bin/cbindgen"
if ! [ -x "$CBINDGEN" ] || [ "$("$CBINDGEN" --version)" != "cbindgen $CBINDGEN_VERSION" ]; then
  cargo install --locked --debug --quiet --root "$TOOLS" cbindgen --version "=$CBINDGEN_VERSION"
fi
"$CBINDGEN" --version

step "build libauthcore_ffi (cdylib + staticlib)"
# rustc prints the system libraries the static archive needs only when it compiles, so
# the last answer is cached.
NATIVE_CACHE="$OUT/native-static-libs.txt"
build_lib() {
  if ! cargo rustc --locked -p authcore-ffi --lib -- --print native-static-libs >"$OUT/build.log" 2>&1; then
    cat "$OUT/build.log" >&2
    echo "c-auth: cargo build of authcore-ffi failed" >&2
    exit 1
  fi
  grep -v '^note: native-static-libs' "$OUT/build.log" || true
  NATIVE="$(sed -n 's/^note: native-static-libs: //p' "$OUT/build.log" | tail -1)"
}
build_lib
if ! [[ "$NATIVE" == -l* ]]; then
  if [ -s "$NATIVE_CACHE" ]; then
    NATIVE="$(cat "$NATIVE_CACHE")"
  else
    touch bindings-c/src/lib.rs # force one compile to learn the list
    build_lib
  fi
fi
[[ "$NATIVE" == -l* ]] || { echo "c-auth: could not learn the native static libraries" >&2; exit 1; }
echo "$NATIVE" >"$NATIVE_CACHE"
for f in libauthcore_ffi.so libauthcore_ffi.a; do
  [ -f "$LIBDIR/$f" ] || { echo "c-auth: $LIBDIR/$f was not built" >&2; exit 1; }
done

step "header (bindings-c/include/authcore.h)"
"$CBINDGEN" --quiet --config bindings-c/cbindgen.toml --crate authcore-ffi \
  --output bindings-c/include/authcore.h bindings-c
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  if ! git diff --exit-code -- bindings-c/include; then
    echo "c-auth: the committed header is stale: commit the regenerated bindings-c/include/authcore.h" >&2
    exit 1
  fi
fi
echo "header is up to date"

step "pkg-config files ($PCDIR)"
VERSION="$(sed -n 's/^#define AUTHCORE_VERSION "\(.*\)"$/\1/p' bindings-c/include/authcore.h)"
make_pc() { # name libs libs_private
  sed -e "s|@PREFIX@|$ROOT|" -e "s|@LIBDIR@|$LIBDIR|" \
    -e "s|@INCLUDEDIR@|$ROOT/bindings-c/include|" -e "s|@VERSION@|$VERSION|" \
    -e "s|@NAME@|$1|" -e "s|@LIBS@|$2|" -e "s|@LIBS_PRIVATE@|$3|" \
    bindings-c/authcore.pc.in >"$PCDIR/$1.pc"
}
make_pc authcore '-L${libdir} -lauthcore_ffi' "$NATIVE"
make_pc authcore-static "\${libdir}/libauthcore_ffi.a $NATIVE" ''
export PKG_CONFIG_PATH="$PCDIR"
for pc in authcore authcore-static; do
  pkg-config --validate "$pc"
done

step "vectors -> C"
python3 ffi-tests/c-auth/gen_vectors.py --out "$OUT/auth_vectors.gen.h"

step "compile (-std=c11 -Wall -Wextra -Wpedantic -Werror, ASan + UBSan), via pkg-config only"
CFLAGS=(-std=c11 -g -O1 -Wall -Wextra -Wpedantic -Werror -Wno-overlength-strings
  -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
build() { # output source pc [extra flags]
  local out="$1" src="$2" pc="$3"
  shift 3
  # shellcheck disable=SC2046 # word splitting of pkg-config output is intended
  "$CC" "${CFLAGS[@]}" "$@" $(pkg-config --cflags "$pc") -o "$out" "$src" \
    $(pkg-config --libs "$pc") -lm
}
build "$OUT/run_vectors" ffi-tests/c-auth/run_vectors.c authcore -I"$OUT"
build "$OUT/run_vectors_static" ffi-tests/c-auth/run_vectors.c authcore-static -I"$OUT"
build "$OUT/test_api" ffi-tests/c-auth/test_api.c authcore -pthread
build "$OUT/test_api_static" ffi-tests/c-auth/test_api.c authcore-static -pthread
for bin in run_vectors_static test_api_static; do
  if readelf -d "$OUT/$bin" | grep -q 'libauthcore_ffi'; then
    echo "c-auth: $bin is linked against libauthcore_ffi.so, expected the static archive" >&2
    exit 1
  fi
done

step "run the C tests"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
SHARED_LIBDIR="$(pkg-config --variable=libdir authcore)"
for bin in run_vectors run_vectors_static test_api test_api_static; do
  echo "== $bin"
  LD_LIBRARY_PATH="$SHARED_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$OUT/$bin"
done

step "Rust tests of these functions and of the core helpers they use"
cargo test --locked -p authcore-ffi --lib auth::
cargo test --locked -p authcore --test stateless_helpers

echo "c-auth: all tests passed"
