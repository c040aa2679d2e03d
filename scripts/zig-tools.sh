# The zig toolchain of the portable builds (glibc 2.17), shared by scripts/dist.sh and
# scripts/portable.sh (sourced, from the repository root).
ZIG_GLIBC=2.17
ZIG_TARGET="x86_64-unknown-linux-gnu.$ZIG_GLIBC"

# zig_tools VENV [PACKAGE...]: a venv with the pins of scripts/dist-requirements.txt (only
# the named packages' when given), installed from PyPI and reinstalled only when those pins
# change; VENV/bin goes first on PATH (cargo-zigbuild finds zig through that python's
# ziglang package).
zig_tools() {
  local venv="$1" req="$PWD/scripts/dist-requirements.txt" pins sum stamp
  shift
  if [ $# -eq 0 ]; then
    pins="$(grep -E '^[A-Za-z0-9]' "$req")"
  else
    pins="$(grep -E "^($(IFS='|'; echo "$*"))==" "$req")"
    if [ "$(grep -c . <<<"$pins")" -ne $# ]; then
      echo "zig_tools: scripts/dist-requirements.txt does not pin each of: $*" >&2
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
  export PATH="$venv/bin:$PATH"
}
