#!/usr/bin/env bash
# The README's test command: builds and runs every test in every language.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/services.sh
echo "==== lint (rustfmt, clippy -D warnings) ===="
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings
for part in rust c python node; do
  echo "==== $part ===="
  t0=$(date +%s)
  bash "scripts/$part.sh"
  echo "==== $part: ok ($(( $(date +%s) - t0 ))s) ===="
done
echo "==== cross-language ===="
bash scripts/cross.sh
echo "ALL TESTS PASSED in $(( $(date +%s) - start ))s"
