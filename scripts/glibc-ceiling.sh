#!/usr/bin/env bash
# The highest glibc symbol version each ELF file needs, from its dynamic symbol table
# (objdump -T): fails when one needs more than MAX.
#
#   scripts/glibc-ceiling.sh MAX FILE...      e.g. scripts/glibc-ceiling.sh 2.17 lib.so
#
# Prints "FILE: GLIBC_x.y" for each (GLIBC_none when it needs no versioned glibc symbol).
# Also fails when a file needs, without a version, a symbol this machine's glibc defines
# (libc, libm, libpthread, libdl, librt, libutil, the dynamic loader): it was linked against
# glibc stubs that lack the symbol, so a glibc of that age could not load it.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: scripts/glibc-ceiling.sh MAX FILE..." >&2; exit 2; }
max="$1"
shift
glibc_defs="$(
  for so in libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libutil.so.1 \
    ld-linux-x86-64.so.2; do
    path="$(ldconfig -p | awk -v n="$so" '$1 == n && /x86-64/ {print $NF; exit}')"
    [ -n "$path" ] || { echo "glibc-ceiling: $so not found by ldconfig -p" >&2; exit 2; }
    nm -D --defined-only "$path" | awk '{sub(/@.*/, "", $NF); print $NF}'
  done | sort -u
)"
status=0
for f in "$@"; do
  [ -f "$f" ] || { echo "glibc-ceiling: $f: no such file" >&2; exit 2; }
  unversioned="$(nm -D --undefined-only "$f" | awk '$1 == "U" && $2 !~ /@/ {print $2}' | sort -u |
    comm -12 - <(printf '%s\n' "$glibc_defs"))"
  if [ -n "$unversioned" ]; then
    echo "$f: needs glibc symbols without a version (not in the glibc it was linked for):" \
      "$(tr '\n' ' ' <<<"$unversioned")" >&2
    status=1
    continue
  fi
  syms="$(objdump -T "$f")" || { echo "glibc-ceiling: objdump -T $f failed" >&2; exit 2; }
  need="$(grep -o 'GLIBC_[0-9][0-9.]*' <<<"$syms" | sed 's/^GLIBC_//' | sort -uV | tail -1 || true)"
  if [ -z "$need" ]; then
    echo "$f: GLIBC_none"
    continue
  fi
  top="$(printf '%s\n%s\n' "$need" "$max" | sort -V | tail -1)"
  if [ "$top" != "$max" ]; then
    echo "$f: GLIBC_$need > GLIBC_$max" >&2
    grep "GLIBC_$need" <<<"$syms" | awk '{print "  needs " $NF " " $(NF-1)}' | head -5 >&2
    status=1
  else
    echo "$f: GLIBC_$need"
  fi
done
exit "$status"
