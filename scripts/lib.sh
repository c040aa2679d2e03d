# Build steps shared by scripts/node.sh, scripts/python.sh and scripts/demo.sh, and the pinned
# venv step of those, scripts/zig-tools.sh and bench/soak/run.sh (sourced, from the repository
# root). One definition each, so the demo and the tests always build the same way.

# npm workspaces from the lockfile (when missing or stale), then the napi addon (debug).
# napi's cargo is scripts/napi-cargo.sh: a host build in target/debug, which reuses the
# dependencies the other builds compiled there, instead of napi's `--target` build of all of
# them again in target/x86_64-unknown-linux-gnu/ (the same .node, binding.js, binding.d.ts).
build_node_addon() {
  if [ ! -d node_modules/@napi-rs/cli ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  # Delete a stale addon before building (anchors §7).
  rm -f bindings-node/*.node
  (cd bindings-node && CARGO="$PWD/../scripts/napi-cargo.sh" npx napi build --platform --js binding.js --dts binding.d.ts)
}

# The same addon, optimised (for packing a release; `napi build --release`).
build_node_addon_release() {
  rm -f bindings-node/*.node
  (cd bindings-node && CARGO="$PWD/../scripts/napi-cargo.sh" npx napi build --platform --release --js binding.js --dts binding.d.ts)
}

# pinned_venv VENV REQUIREMENTS [PACKAGE...]: VENV (created when missing) with the pins
# (name==version lines) of the REQUIREMENTS file, only the named packages' when given,
# installed from PyPI and reinstalled only when those pins change (a sha256 stamp in VENV).
pinned_venv() {
  local venv="$1" req="$2" pins sum stamp
  shift 2
  if [ $# -eq 0 ]; then
    pins="$(grep -E '^[A-Za-z0-9]' "$req")"
  else
    pins="$(grep -E "^($(IFS='|'; echo "$*"))==" "$req")"
    if [ "$(grep -c . <<<"$pins")" -ne $# ]; then
      echo "pinned_venv: $req does not pin each of: $*" >&2
      return 1
    fi
  fi
  [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
  stamp="$venv/.requirements.sha256"
  sum="$(sha256sum <<<"$pins" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    # shellcheck disable=SC2086 # one requirement per word
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $pins
    echo "$sum" >"$stamp"
  fi
}

# .venv with the pinned dev requirements (reinstalled only when they changed), then the
# extension in debug mode (maturin develop).
build_python_ext() {
  local root="$PWD" venv="$PWD/.venv"
  pinned_venv "$venv" "$root/bindings-python/requirements-dev.txt"
  # Stale extension modules from an older build must not shadow the fresh one.
  rm -f "$root"/bindings-python/python/authcore/_native*.so
  # CI builds from a clean clone with the committed Cargo.lock; a shared working tree may
  # carry other crates' uncommitted dependency changes, so --locked is for CI only.
  local locked=()
  if [ "${CI:-}" = "true" ]; then locked=(--locked); fi
  (
    cd "$root/bindings-python"
    VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" "$venv/bin/maturin" develop --quiet "${locked[@]}"
  )
}
