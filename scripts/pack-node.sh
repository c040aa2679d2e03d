#!/usr/bin/env bash
# Pack the npm packages exactly as they would be published, into target/npm-packs/:
# @authcore/native (loader + types), @authcore/native-linux-x64-gnu (the binary, what napi's
# per-platform packages carry), @authcore/node-hmac-auth-core,
# @authcore/node-hmac-auth-core-propagation, @authcore/node-auth-core and
# @authcore/fuz-app-realtime.
# Uses the addon scripts/lib.sh built (debug for the tests); `--release` builds and packs a
# release addon instead; `--addon FILE` packs a given binary (the portable one of
# `make dist`) and `--out DIR` packs elsewhere. The packed-install test installs these
# tarballs into a fresh app.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
out="$PWD/target/npm-packs"
addon=bindings-node/authcore.linux-x64-gnu.node
while [ $# -gt 0 ]; do
  case "$1" in
    --release) build_node_addon_release; shift ;;
    --addon) addon="${2:?}"; shift 2 ;;
    --out) out="$(mkdir -p "${2:?}" && cd "$2" && pwd)"; shift 2 ;;
    *) echo "usage: scripts/pack-node.sh [--release | --addon FILE] [--out DIR]" >&2; exit 2 ;;
  esac
done
[ -f "$addon" ] || { echo "pack-node: $addon missing (build the addon first: scripts/node.sh)" >&2; exit 1; }
cp "$addon" bindings-node/npm/linux-x64-gnu/authcore.linux-x64-gnu.node
rm -rf "$out" && mkdir -p "$out"
npm pack --silent --pack-destination "$out" \
  -w @authcore/native -w @authcore/native-linux-x64-gnu \
  -w @authcore/node-hmac-auth-core -w @authcore/node-hmac-auth-core-propagation \
  -w @authcore/node-auth-core \
  -w @authcore/fuz-app-realtime >/dev/null
ls "$out"
