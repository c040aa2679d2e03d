# The zig toolchain of the portable builds (glibc 2.17), shared by scripts/dist.sh,
# scripts/portable.sh and scripts/zig-relink.sh (sourced, from the repository root).
ZIG_GLIBC=2.17
ZIG_TARGET="x86_64-unknown-linux-gnu.$ZIG_GLIBC"

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# zig_tools VENV [PACKAGE...]: a venv with the pins of scripts/dist-requirements.txt (only
# the named packages' when given; scripts/lib.sh pinned_venv); VENV/bin goes first on PATH
# (cargo-zigbuild finds zig through that python's ziglang package).
zig_tools() {
  local venv="$1"
  shift
  pinned_venv "$venv" scripts/dist-requirements.txt "$@"
  export PATH="$venv/bin:$PATH"
}
