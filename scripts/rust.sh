#!/usr/bin/env bash
# Rust: every test of the core (unit, integration: core/tests/it plus the three binaries that
# need a process of their own, doctests), real Redis included, and the model check of the
# propagation protocol (models/propagation, stateright, a few seconds). The C ABI crate's
# Rust tests run in scripts/c.sh (`cargo test -p authcore-ffi`), built with the features of
# the library it ships (here they would be built a second time, unified with the core's
# dev-dependencies, and run twice). Then the sans-IO core: `authcore` without its default
# features builds with no tokio, Redis or RabbitMQ client in its dependency tree, and its
# unit tests pass.
set -euo pipefail
cd "$(dirname "$0")/.."
# The amqps test (core/tests/propagation_amqps.rs) terminates TLS with socat in front of the
# broker (certificates from openssl, which Debian's ca-certificates brings).
if ! command -v socat >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat >/dev/null
fi
cargo test --locked -p authcore -p authcore-propagation-model

cargo build --locked -p authcore --no-default-features
io_deps=$(cargo tree --locked -p authcore --no-default-features -e normal --prefix none |
  grep -E '^(tokio|redis|lapin|mio|futures-core) ' || true)
if [ -n "$io_deps" ]; then
  echo "authcore --no-default-features still depends on:" >&2
  echo "$io_deps" >&2
  exit 1
fi
cargo test --locked -p authcore --no-default-features --lib

# The crate as published: the package holds the library, its README and LICENSE, none of the tests
# or examples that read the repository's shared vectors. (`cargo publish --dry-run -p
# authcore` also builds the package from scratch: minutes, so not here.)
files=$(cargo package --locked --offline --allow-dirty -p authcore --list 2>/dev/null)
for f in Cargo.toml README.md LICENSE src/lib.rs src/hmac/mod.rs; do
  grep -qx "$f" <<<"$files" || { echo "authcore package lacks $f" >&2; exit 1; }
done
if grep -E '^(tests|examples|benches)/' <<<"$files"; then
  echo "authcore package holds test files (above)" >&2
  exit 1
fi
