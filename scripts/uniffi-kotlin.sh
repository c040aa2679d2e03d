#!/usr/bin/env bash
# uniffi, Kotlin: compile the Kotlin that scripts/uniffi.sh generated (target/uniffi/kotlin)
# with bindings-uniffi/tests/kotlin/VectorRunner.kt, and run the shared vectors on the JVM
# through JNA and the debug cdylib. Run by scripts/uniffi.sh (after it generated the sources).
#
# Toolchain, from the registries this project uses:
# - the Kotlin compiler: npm's `kotlin-compiler` package (JetBrains' kotlinc distribution),
#   unpacked once into target/kotlin-compiler-<version>/;
# - JNA: Debian's libjna-java (installed when missing, like scripts/node.sh does Chromium);
# - a JDK (java, 17 or newer).
set -euo pipefail
cd "$(dirname "$0")/.."

KOTLIN_VERSION=2.4.20
locked=()
if [ "${CI:-}" = "true" ]; then locked=(--locked); fi
target_dir="$(cargo metadata --format-version 1 --no-deps "${locked[@]}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
out="$target_dir/uniffi"
kt_src="$(find "$out/kotlin" -name '*.kt' 2>/dev/null | head -1)"
[ -n "$kt_src" ] || { echo "uniffi-kotlin: no generated Kotlin in $out/kotlin (run scripts/uniffi.sh)" >&2; exit 1; }

command -v java >/dev/null || { echo "uniffi-kotlin: java (a JDK 17+) is required" >&2; exit 1; }
JNA=/usr/share/java/jna.jar
if [ ! -f "$JNA" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjna-java >/dev/null
fi

kotlin_home="$target_dir/kotlin-compiler-$KOTLIN_VERSION"
if [ ! -x "$kotlin_home/bin/kotlinc" ]; then
  echo "== kotlin-compiler $KOTLIN_VERSION (npm) into $kotlin_home"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null && tar xzf kotlin-compiler-*.tgz)
  rm -rf "$kotlin_home"
  mv "$tmp/package" "$kotlin_home"
  rm -rf "$tmp"
  chmod +x "$kotlin_home"/bin/*
fi

echo "== kotlinc $KOTLIN_VERSION: generated bindings + VectorRunner.kt"
jar="$out/kotlin-vectors.jar"
# The generated file is compiled as it is; only its warnings are not shown.
"$kotlin_home/bin/kotlinc" -nowarn -cp "$JNA" -d "$jar" "$kt_src" bindings-uniffi/tests/kotlin/VectorRunner.kt

echo "== the shared vectors through the generated Kotlin (JVM, JNA $(basename "$(readlink -f "$JNA")" .jar))"
java -Djna.library.path="$target_dir/debug" \
  -cp "$jar:$kotlin_home/lib/kotlin-stdlib.jar:$JNA" VectorRunnerKt ffi-tests/vectors
