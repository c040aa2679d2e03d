# Build steps shared by scripts/node.sh, scripts/python.sh and scripts/demo.sh (sourced,
# from the repository root). One definition each, so the demo and the tests always build
# the same way.

# npm workspaces from the lockfile (when missing or stale), then the napi addon (debug).
build_node_addon() {
  if [ ! -d node_modules/@napi-rs/cli ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  # Delete a stale addon before building (anchors §7).
  rm -f bindings-node/*.node
  (cd bindings-node && npx napi build --platform --js binding.js --dts binding.d.ts)
}

# The same addon, optimised (for packing a release; `napi build --release`).
build_node_addon_release() {
  rm -f bindings-node/*.node
  (cd bindings-node && npx napi build --platform --release --js binding.js --dts binding.d.ts)
}

# .venv with the pinned dev requirements (reinstalled only when they changed), then the
# extension in debug mode (maturin develop).
build_python_ext() {
  local root="$PWD" venv="$PWD/.venv" req="$PWD/bindings-python/requirements-dev.txt"
  if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
  fi
  local stamp="$venv/.requirements-dev.sha256" sum
  sum="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$sum" >"$stamp"
  fi
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
