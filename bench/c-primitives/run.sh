#!/usr/bin/env bash
# C micro-benchmarks of the auth-primitive functions (passwords, JWT, TOTP, PKCE, policies) on an
# optimised library (profile bench-fast). Numbers only; there is no C original to compare.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --locked --profile bench-fast -p authcore-ffi
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
mkdir -p "$TARGET_DIR/ffi-tests-c-primitives"
BIN="$TARGET_DIR/ffi-tests-c-primitives/bench"
"${CC:-cc}" -O2 -std=c11 -Wall -Wextra -Werror -Ibindings-c/include ffi-tests/c/bench_primitives.c \
  "$TARGET_DIR/bench-fast/libauthcore_ffi.a" -lpthread -ldl -lm -o "$BIN"
# The RSA key of the jsonwebtoken vectors, for the RS256 numbers.
PEM="$(python3 -c 'import json; d=json.load(open("ffi-tests/vectors/jwt-asymmetric.json"));
print(next(c["input"]["privateKeyPem"] for c in d["cases"] if c["id"] == "sign-RS256"), end="")')"
echo "machine: $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
"$BIN" "$PEM"
