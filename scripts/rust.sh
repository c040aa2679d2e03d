#!/usr/bin/env bash
# Rust: every test of the default members (core + bindings-c), real Redis included, the
# core's doctests, and the model check of the propagation protocol (models/propagation,
# stateright, a few seconds). Then the sans-IO core: `authcore` without its default features
# builds with no tokio, Redis or RabbitMQ client in its dependency tree, and its unit tests pass.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked -p authcore -p authcore-ffi -p authcore-propagation-model

cargo build --locked -p authcore --no-default-features
io_deps=$(cargo tree --locked -p authcore --no-default-features -e normal --prefix none |
  grep -E '^(tokio|redis|lapin|mio|futures-core) ' || true)
if [ -n "$io_deps" ]; then
  echo "authcore --no-default-features still depends on:" >&2
  echo "$io_deps" >&2
  exit 1
fi
cargo test --locked -p authcore --no-default-features --lib
