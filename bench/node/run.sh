#!/usr/bin/env bash
# Node benchmarks on a release build of the addon (bench-fast profile: thin LTO), loaded
# through NAPI_RS_NATIVE_LIBRARY_PATH so the tests' debug build is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d node_modules/redis ] || npm ci --no-audit --no-fund
cargo build --profile bench-fast -p authcore-node
mkdir -p bench/node/.native
cp target/bench-fast/libauthcore_node.so bench/node/.native/authcore.node
export NAPI_RS_NATIVE_LIBRARY_PATH="$PWD/bench/node/.native/authcore.node"
node bench/node/sign-verify.mjs
node bench/node/verify-redis.mjs
