#!/usr/bin/env bash
# The highest glibc symbol version each ELF file needs, from its dynamic symbol table
# (objdump -T): fails when one needs more than MAX.
#
#   scripts/glibc-ceiling.sh MAX FILE...      e.g. scripts/glibc-ceiling.sh 2.17 lib.so
#
# Prints "FILE: GLIBC_x.y" for each (GLIBC_none when it needs no versioned glibc symbol).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: scripts/glibc-ceiling.sh MAX FILE..." >&2; exit 2; }
max="$1"
shift
status=0
for f in "$@"; do
  [ -f "$f" ] || { echo "glibc-ceiling: $f: no such file" >&2; exit 2; }
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
