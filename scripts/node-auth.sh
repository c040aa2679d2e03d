#!/usr/bin/env bash
# Node, issue 5: install the npm workspaces from the lockfile when needed, build the napi
# addon (debug), run the core additions' Rust test, the @authcore/node-auth-core tests
# (node-auth §4 cases, cross-checks against jsonwebtoken/bcryptjs/argon2/otplib, negative
# cases, event-loop lag probe) and the Node runner of the issue-5 vector files.
# Needs no service. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules/@napi-rs/cli ] || [ ! -d node_modules/jsonwebtoken ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  flock /tmp/authcore-npm.lock npm ci --no-audit --no-fund
fi

# One addon for everything; delete a stale binary before building (anchors §7).
rm -f bindings-node/*.node
(cd bindings-node && npx napi build --platform --js binding.js --dts binding.d.ts)

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git diff --exit-code -- bindings-node/binding.js bindings-node/binding.d.ts \
    || { echo "node-auth: generated binding.js/binding.d.ts differ from the committed ones" >&2; exit 1; }
fi

cargo test --locked -p authcore --test node_auth

node --test --test-concurrency=1 \
  bindings-node/packages/node-auth-core/test/ \
  ffi-tests/node-auth/
