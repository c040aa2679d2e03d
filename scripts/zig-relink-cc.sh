#!/usr/bin/env bash
# The linker rustc runs for scripts/zig-relink.sh (`-C linker=`; not for direct use): links
# what it is given with cc (rustc's default linker on this target) to the path rustc asked
# for, so the host build's artefact stays a host link; then links the same objects, rlibs and
# arguments again through zig, as cargo-zigbuild's own linker wrapper does (`cargo-zigbuild zig
# cc -- -g -fno-sanitize=all -target x86_64-linux-gnu.GLIBC`: its argument filtering, zig's glibc
# stubs of that version), into $ZIG_RELINK_OUT, for $ZIG_RELINK_TARGET.
set -euo pipefail
cc "$@"
: "${ZIG_RELINK_OUT:?} ${ZIG_RELINK_TARGET:?}"
args=()
out_next=0
for a in "$@"; do
  if [ "$out_next" = 1 ]; then
    a="$ZIG_RELINK_OUT"
    out_next=0
  elif [ "$a" = -o ]; then
    out_next=1
  fi
  args+=("$a")
done
exec cargo-zigbuild zig cc -- -g -fno-sanitize=all -target "$ZIG_RELINK_TARGET" "${args[@]}"
