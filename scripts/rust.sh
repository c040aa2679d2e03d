#!/usr/bin/env bash
# Rust: every test of the default members (core + bindings-c), real Redis included, and the
# model check of the propagation protocol (models/propagation, stateright, a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked -p authcore -p authcore-ffi -p authcore-propagation-model
