#!/usr/bin/env bash
# Fuzz the parsers of untrusted input with libFuzzer (cargo-fuzz, crate in fuzz/).
#   bash scripts/fuzz.sh                 # every target, 60 s each
#   bash scripts/fuzz.sh 45 jwt_segments path_url
# Stable toolchain: cargo-fuzz needs nightly flags, which RUSTC_BOOTSTRAP=1 unlocks.
# cargo-fuzz is installed into target/tools when `cargo fuzz` is missing. Corpora are
# kept in fuzz/corpus/<target> (not tracked), crashes in fuzz/artifacts/<target>; a run
# prints, per target, the executions and whether it crashed, and writes
# target/fuzz-summary.json. FUZZ_SANITIZER=address builds with ASan (default: none,
# which runs several times more executions; the core has no unsafe code of its own).
# Not part of `make test`: the same checks run there as property tests
# (core/tests/it/parser_props.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^authcore-fuzz$')
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  if [ ! -x "$root/target/tools/bin/cargo-fuzz" ]; then
    cargo install cargo-fuzz --locked --root "$root/target/tools"
  fi
  export PATH="$root/target/tools/bin:$PATH"
fi
export RUSTC_BOOTSTRAP=1
sanitizer="${FUZZ_SANITIZER:-none}"
# Release with debug assertions and overflow checks; all targets in one build.
(cd fuzz && cargo fuzz build -O -a -s "$sanitizer")
summary="$root/target/fuzz-summary.json"
mkdir -p "$root/target"
echo "[" >"$summary"
status=0
first=1
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="$root/target/fuzz-$t.log"
  echo "==== fuzz: $t (${secs}s) ===="
  set +e
  (cd fuzz && cargo fuzz run -O -a -s "$sanitizer" "$t" "corpus/$t" -- \
    -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1) >"$log" 2>&1
  rc=$?
  set -e
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  crashes="$(find "fuzz/artifacts/$t" -type f | wc -l)"
  echo "$t: rc=$rc executions=${execs:-?} artifacts=$crashes (log: $log)"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -20 || true
  fi
  [ $first -eq 1 ] || echo "," >>"$summary"
  first=0
  printf '  {"target": "%s", "seconds": %s, "executions": %s, "exit": %s, "artifacts": %s}' \
    "$t" "$secs" "${execs:-null}" "$rc" "$crashes" >>"$summary"
done
printf '\n]\n' >>"$summary"
echo "summary: $summary"
exit $status
