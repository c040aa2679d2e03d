#!/usr/bin/env bash
# Cost of the core's metrics on the verification hot path, recording on vs off in ONE
# process per language (interleaved rounds, medians): Rust alone (HttpVerifier::verify
# over the memory store, 1 and 2 threads) and Node through the drop-in
# (verifyHttpSignature on memory://, the path an Express/Fastify app takes). Release builds
# (bench-fast profile). Plus the load-independent measure: instructions per Rust
# verification on vs off under callgrind (bench/metrics/instructions.sh). Writes
# bench/results/metrics.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --profile bench-fast -p authcore --example metrics_overhead
rust_json="$(target/bench-fast/examples/metrics_overhead "${ROUNDS:-15}" "${CALLS:-50000}")"
instructions_json="$(bash bench/metrics/instructions.sh)"
cargo build --profile bench-fast -p authcore-node --lib
mkdir -p bench/metrics/.native
cp target/bench-fast/libauthcore_node.so bench/metrics/.native/authcore.node
export NAPI_RS_NATIVE_LIBRARY_PATH="$PWD/bench/metrics/.native/authcore.node"
RUST_JSON="$rust_json" INSTRUCTIONS_JSON="$instructions_json" node bench/metrics/verify.mjs
