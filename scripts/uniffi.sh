#!/usr/bin/env bash
# uniffi (bindings-uniffi): build the cdylib, generate the Kotlin, Swift and Python sources
# from it (uniffi-bindgen, library mode, the version pinned in Cargo.toml), then run the
# shared vectors through the generated Python module (plain ctypes, no package to install).
# Output: target/uniffi/{kotlin,swift,python}/ (python/ also holds the .so it loads).
# Then scripts/uniffi-kotlin.sh compiles the generated Kotlin and runs the vectors on the JVM.
set -euo pipefail
cd "$(dirname "$0")/.."

locked=()
if [ "${CI:-}" = "true" ]; then locked=(--locked); fi
target_dir="$(cargo metadata --format-version 1 --no-deps "${locked[@]}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

# The library mobile and JVM apps ship is built on the sans-IO core: no runtime or client
# crate may reach it.
runtime_deps="$(cargo tree "${locked[@]}" -p authcore-uniffi -e normal --prefix none |
  grep -E '^(tokio|redis|lapin|mio) ' | sort -u || true)"
if [ -n "$runtime_deps" ]; then
  echo "uniffi: the library depends on runtime crates: $runtime_deps" >&2
  exit 1
fi
echo "== build authcore-uniffi (cdylib + uniffi-bindgen)"
cargo build --quiet "${locked[@]}" -p authcore-uniffi --lib --bin uniffi-bindgen
lib="$target_dir/debug/libauthcore_uniffi.so"
bindgen="$target_dir/debug/uniffi-bindgen"
out="$target_dir/uniffi"
rm -rf "$out"

echo "== generate Kotlin, Swift and Python sources into $out"
for lang in kotlin swift python; do
  "$bindgen" generate --library "$lib" --language "$lang" --out-dir "$out/$lang" --no-format >/dev/null
done
cp "$lib" "$out/python/"

# Every generated source carries the whole exported surface (one call per capability).
check() { # file pattern...
  local f="$1"
  shift
  [ -s "$f" ] || { echo "uniffi: $f was not generated" >&2; exit 1; }
  for p in "$@"; do
    grep -q -- "$p" "$f" || { echo "uniffi: $f lacks '$p'" >&2; exit 1; }
  done
}
kt="$out/kotlin/authcore/authcore_uniffi.kt"
check "$kt" 'fun `signRequestHeaders`(' 'fun `verifyWithRecord`(' 'fun `pkceVerify`(' 'fun `totpVerify`(' \
  "class JwksVerifier" "sealed class AuthcoreException"
check "$out/swift/authcore_uniffi.swift" "public func signRequestHeaders(" "public func verifyWithRecord(" \
  "public func pkceVerify(" "public func totpVerify(" "open class JwksVerifier" "enum AuthcoreError"
check "$out/swift/authcore_uniffiFFI.h" "uniffi_authcore_uniffi_fn_func_sign_request_headers"
check "$out/python/authcore_uniffi.py" "def sign_request_headers(" "class JwksVerifier"
echo "generated: $(cd "$out" && find . -type f -not -name '*.so' | sort | tr '\n' ' ')"

echo "== the shared vectors through the generated Python module"
py=.venv/bin/python
if ! "$py" -c 'import pytest' 2>/dev/null; then
  # Standalone run before scripts/python.sh made the venv: pytest alone, at the pinned version.
  [ -x "$py" ] || "${PYTHON:-python3}" -m venv .venv
  "$py" -m pip install --quiet --disable-pip-version-check \
    $(grep -E '^(pytest|pluggy|iniconfig|packaging|Pygments)==' bindings-python/requirements-dev.txt)
fi
AUTHCORE_UNIFFI_PY="$out/python" "$py" -m pytest -q -p no:cacheprovider \
  -c bindings-python/pyproject.toml bindings-uniffi/tests/test_uniffi_vectors.py

echo "== the shared vectors through the generated Kotlin (scripts/uniffi-kotlin.sh)"
bash scripts/uniffi-kotlin.sh
