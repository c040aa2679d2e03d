#!/usr/bin/env bash
# Node: install the npm workspaces from the lockfile, build the napi addon (debug),
# check the generated loader is committed, relink the addon through zig for glibc 2.17 and
# check it needs at most GLIBC_2.17, loads and passes the Node vector runner
# (scripts/zig-relink.sh), pack the npm tarballs and install them into a new
# app under the original names with no Rust toolchain (scripts/npm-alias-app.sh), run every
# Node test: the addon, the drop-in
# packages (@authcore/node-hmac-auth-core, @authcore/node-hmac-auth-core-propagation,
# @authcore/node-auth-core, @authcore/fuz-app-realtime), the vector runners (HMAC,
# realtime, auth primitives) and the cross-language parity cases (ffi-tests/parity). Real Redis on
# 127.0.0.1:6379 and RabbitMQ on 127.0.0.1:5672 (vhost hmac-credentials) are required
# (scripts/services.sh). The Redis Cluster test (bindings-node/__test__/redis-cluster.test.mjs)
# starts a private 3-master cluster with scripts/redis-cluster.sh (redis-server and redis-cli on
# the PATH) and stops it at its end, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

build_node_addon

# Headless Chromium for the browser test of the SSE stream (node-auth-core/test/tools-browser.test.mjs):
# Debian's package, driven by puppeteer-core (which downloads no browser).
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git diff --exit-code -- bindings-node/binding.js bindings-node/binding.d.ts \
    || { echo "node: generated binding.js/binding.d.ts differ from the committed ones" >&2; exit 1; }
fi

# The glibc ceiling (scripts/zig-relink.sh): the addon's crate compiled once more and linked
# through zig against glibc 2.17's stubs, reusing every dependency of the build above (a host
# build in target/debug: scripts/napi-cargo.sh; what `make dist` ships is built the same way
# with cargo-zigbuild --target); the relinked addon must load in Node and pass the Node vector
# runner.
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
ZIG_ADDON="$TARGET_DIR/zig-relink/authcore.linux-x64-gnu.node"
bash scripts/zig-relink.sh authcore-node "$ZIG_ADDON"
NAPI_RS_NATIVE_LIBRARY_PATH="$ZIG_ADDON" node -e '
  require("@authcore/native")
  const maps = require("fs").readFileSync("/proc/self/maps", "utf8")
  if (!maps.includes(process.env.NAPI_RS_NATIVE_LIBRARY_PATH)) {
    throw new Error("@authcore/native did not load " + process.env.NAPI_RS_NATIVE_LIBRARY_PATH)
  }'
NAPI_RS_NATIVE_LIBRARY_PATH="$ZIG_ADDON" node --test ffi-tests/node/vectors.test.mjs

# The packages as they would be published (the alias-app test installs these tarballs).
bash scripts/pack-node.sh >/dev/null

# Those tarballs in a new temporary app under the original names as npm aliases
# (@naskot/node-hmac-auth-core, @naskot/node-hmac-auth-core-propagation, @nik2208/node-auth,
# @fuzdev/fuz_app), installed and run with cargo and rustc off PATH; each package exercised.
bash scripts/npm-alias-app.sh target/npm-packs

# The .d.ts of the drop-ins: code written against the originals' types compiles, misuse
# does not (compile-only tests with @ts-expect-error lines).
for pkg in node-hmac-auth-core node-hmac-auth-core-propagation node-auth-core fuz-app-realtime; do
  npx tsc -p "bindings-node/packages/$pkg/test/types/tsconfig.json"
done

# The folders whose tests use no shared service (no Redis, no RabbitMQ; HTTP servers on
# ephemeral ports, Chromium of their own) run four test files at a time: they mostly wait on
# timers and I/O (about 25 s one file at a time, 12-13 s four at a time, at load 5 on this
# 2-core machine). Their event-loop test measures CPU time, not lag, so a loaded machine does
# not fail it. The others share the Redis and RabbitMQ and run one file at a time.
node --test --test-concurrency=4 \
  bindings-node/packages/node-auth-core/test/ \
  bindings-node/packages/fuz-app-realtime/test/
node --test --test-concurrency=1 \
  bindings-node/__test__/ \
  bindings-node/packages/node-hmac-auth-core/test/ \
  bindings-node/packages/node-hmac-auth-core-propagation/test/ \
  ffi-tests/node/ \
  ffi-tests/parity/
