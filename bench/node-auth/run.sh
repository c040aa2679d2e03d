#!/usr/bin/env bash
# Auth-primitive Node benchmarks on a release build of the addon (bench-fast profile: opt-level 3,
# thin LTO), loaded through NAPI_RS_NATIVE_LIBRARY_PATH so the tests' debug build is left
# alone (only while our package loads: see common.mjs). Results: tables on stdout, JSON in bench/results/node-auth-*.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -d node_modules/jsonwebtoken ] || [ ! -d node_modules/fast-jwt ]; then
  flock /tmp/authcore-npm.lock npm ci --no-audit --no-fund
fi
cargo build --locked --profile bench-fast -p authcore-node
mkdir -p bench/node-auth/.native
cp target/bench-fast/libauthcore_node.so bench/node-auth/.native/authcore.node
export AUTHCORE_NATIVE_ADDON="$PWD/bench/node-auth/.native/authcore.node"
node bench/node-auth/jwt.mjs
node bench/node-auth/bcrypt.mjs
node bench/node-auth/argon2.mjs
cc -O2 -o bench/node-auth/.native/sse-client bench/node-auth/sse-client.c
node bench/node-auth/sse.mjs
