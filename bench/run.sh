#!/usr/bin/env bash
# All benchmarks, side by side with the libraries users would otherwise pick. Not part of
# the tests (timings are reported, never asserted). Each suite builds its own optimised
# artefacts and writes JSON to bench/results/; BENCHMARKS.md is then regenerated from every
# results file (scripts/benchmarks-md.py).
#   bash bench/run.sh            # everything
#   bash bench/run.sh node python  # some suites: node, python, node-auth, python-primitives, c-primitives, node-propagation, metrics
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(node python node-auth python-primitives c-primitives node-propagation metrics)
for s in "${suites[@]}"; do
  echo "==== bench: $s ===="
  bash "bench/$s/run.sh"
done
python3 scripts/benchmarks-md.py
