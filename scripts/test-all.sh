#!/usr/bin/env bash
# The README's test command: builds and runs every test in every language.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# A cold, one-shot build gains nothing from incremental state (~1 GB of target/ and slower
# codegen); set CARGO_INCREMENTAL=1 to keep it.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
target_dir="$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
free_mb() { df -Pm "$1" | awk 'NR==2 {print $4}'; }
echo "disk: $(free_mb .) MB free before the build (a cold run writes ~4 GB to target/)"
bash scripts/services.sh
echo "==== lint (rustfmt, clippy -D warnings) ===="
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings
python3 scripts/check-versions.py
# BENCHMARKS.md is what bench/results gives, and every ratio the README quotes is in it.
python3 scripts/benchmarks-md.py --check
for part in rust c python uniffi node; do
  echo "==== $part ===="
  t0=$(date +%s)
  bash "scripts/$part.sh"
  echo "==== $part: ok ($(( $(date +%s) - t0 ))s) ===="
done
echo "==== cross-language ===="
bash scripts/cross.sh
echo "disk: target/ holds $(du -sm "$target_dir" | cut -f1) MB; $(free_mb .) MB free"
echo "ALL TESTS PASSED in $(( $(date +%s) - start ))s"
