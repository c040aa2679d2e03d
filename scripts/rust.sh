#!/usr/bin/env bash
# Rust: every test of the default members (core + bindings-c), real Redis included.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked -p authcore -p authcore-ffi
