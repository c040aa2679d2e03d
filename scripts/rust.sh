#!/usr/bin/env bash
# Rust: every test of the default members (core + bindings-c), real Redis included, and the
# model check of the propagation protocol (models/propagation, stateright, a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
# The amqps test (core/tests/propagation_amqps.rs) terminates TLS with socat in front of the
# broker (certificates from openssl, which Debian's ca-certificates brings).
if ! command -v socat >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat >/dev/null
fi
cargo test --locked -p authcore -p authcore-ffi -p authcore-propagation-model
