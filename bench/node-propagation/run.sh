#!/usr/bin/env bash
# Credential propagation benchmark (ours vs a faithful reimplementation of the original
# @naskot/node-hmac-auth-core-propagation 1.0.0) on a release build of the addon
# (bench-fast profile: thin LTO), loaded through NAPI_RS_NATIVE_LIBRARY_PATH so the tests'
# debug build is left alone. Needs RabbitMQ and Redis (bench/run.sh starts them).
# Knobs: BENCH_PROP_N (credentials, default 500), BENCH_PROP_ROUNDS (default 5).
# Results: tables on stdout, JSON in bench/results/node-propagation.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -d node_modules/redis ] || [ ! -d node_modules/amqplib ]; then
  flock /tmp/authcore-npm.lock npm ci --no-audit --no-fund
fi
cargo build --profile bench-fast -p authcore-node
mkdir -p bench/node-propagation/.native
cp target/bench-fast/libauthcore_node.so bench/node-propagation/.native/authcore.node
export NAPI_RS_NATIVE_LIBRARY_PATH="$PWD/bench/node-propagation/.native/authcore.node"
node bench/node-propagation/propagation.mjs
