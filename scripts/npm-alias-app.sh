#!/usr/bin/env bash
# The npm tarballs as a user gets them, with no Rust toolchain: a new temporary app installs
# them under the original package names as npm aliases (@naskot/node-hmac-auth-core,
# @naskot/node-hmac-auth-core-propagation, @nik2208/node-auth for @authcore/node-auth-core,
# @fuzdev/fuz_app for @authcore/fuz-app-realtime) with cargo and rustc off PATH, and
# scripts/npm-alias-app.mjs exercises each package through its original name (signed HTTP
# round trip, propagation over the in-process mesh, passwords/tokens/argon2, the SSE auth
# guard), loading the binary from @authcore/native-linux-x64-gnu.
#
#   scripts/npm-alias-app.sh PACK_DIR
#
# PACK_DIR holds the tarballs of scripts/pack-node.sh: target/npm-packs (the debug addon,
# scripts/node.sh, so `make test`) or target/dist/npm (the portable one, scripts/dist-test.sh).
# The install is offline-first: the tarballs are local files and their one registry
# dependency (qrcode, of @authcore/node-auth-core) comes from the npm cache `npm ci` filled.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKS="$(cd "${1:?usage: scripts/npm-alias-app.sh PACK_DIR}" && pwd)"

# PATH without any Rust toolchain, for the install and the app.
NO_RUST_PATH="$(tr ':' '\n' <<<"$PATH" | grep -v -e cargo -e rustup | paste -sd: -)"
nocargo() { env -u CARGO_HOME -u RUSTUP_HOME -u RUSTUP_TOOLCHAIN -u CARGO_TARGET_DIR PATH="$NO_RUST_PATH" "$@"; }
if nocargo sh -c 'command -v cargo || command -v rustc' >/dev/null; then
  echo "npm-alias-app: could not take cargo off PATH" >&2
  exit 1
fi

tgz() { # package name -> file: spec of its one tarball in PACKS
  local f
  f="$(ls "$PACKS/$(sed 's/^@//; s|/|-|' <<<"$1")"-[0-9]*.tgz)"
  [ "$(wc -l <<<"$f")" = 1 ] || { echo "npm-alias-app: more than one tarball of $1 in $PACKS" >&2; exit 1; }
  echo "file:$f"
}
APP="$(mktemp -d "${TMPDIR:-/tmp}/authcore-npm-alias-app.XXXXXX")"
trap 'rm -rf "$APP"' EXIT
cat >"$APP/package.json" <<JSON
{
  "name": "authcore-npm-alias-app",
  "private": true,
  "type": "module",
  "dependencies": {
    "@naskot/node-hmac-auth-core": "$(tgz @authcore/node-hmac-auth-core)",
    "@naskot/node-hmac-auth-core-propagation": "$(tgz @authcore/node-hmac-auth-core-propagation)",
    "@authcore/node-hmac-auth-core": "$(tgz @authcore/node-hmac-auth-core)",
    "@nik2208/node-auth": "$(tgz @authcore/node-auth-core)",
    "@fuzdev/fuz_app": "$(tgz @authcore/fuz-app-realtime)",
    "@authcore/native": "$(tgz @authcore/native)",
    "@authcore/native-linux-x64-gnu": "$(tgz @authcore/native-linux-x64-gnu)"
  }
}
JSON
cp bindings-node/packages/node-hmac-auth-core-propagation/test/helpers.mjs "$APP/helpers.mjs"
cp scripts/npm-alias-app.mjs "$APP/app.mjs"
(
  cd "$APP"
  nocargo npm install --prefer-offline --no-audit --no-fund --loglevel=error
  # Nothing of this tree is reachable from the app: every package resolves inside it.
  nocargo node --input-type=module -e '
    const here = new URL("node_modules/", `file://${process.cwd()}/`).href
    for (const name of ["@naskot/node-hmac-auth-core", "@naskot/node-hmac-auth-core-propagation",
      "@nik2208/node-auth", "@fuzdev/fuz_app/realtime/sse.js", "@authcore/native"]) {
      const at = import.meta.resolve(name)
      if (!at.startsWith(here)) throw new Error(`${name} resolves to ${at}, outside ${here}`)
    }'
  nocargo node app.mjs
)
