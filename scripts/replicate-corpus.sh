#!/bin/sh
# Replicate a folder of documents into DEST until it holds at least COUNT files, for
# benchmarks at scale. Copies are hard links when DEST is on the same file system (no disk
# space used), else plain copies.
#
#   scripts/replicate-corpus.sh [SOURCE] [DEST] [COUNT]
#   defaults: ../shared/corpus/validator  /tmp/fsecheck-scale  100000
set -eu
src=${1:-../shared/corpus/validator}
dest=${2:-/tmp/fsecheck-scale}
count=${3:-100000}
[ -d "$src" ] || { echo "no such folder: $src" >&2; exit 2; }
per=$(find "$src" -type f ! -name '.*' | wc -l)
[ "$per" -gt 0 ] || { echo "no files in $src" >&2; exit 2; }
copies=$(( (count + per - 1) / per ))
mkdir -p "$dest"
i=1
while [ "$i" -le "$copies" ]; do
    d=$(printf '%s/copy-%04d' "$dest" "$i")
    if [ ! -d "$d" ]; then
        cp -al "$src" "$d" 2>/dev/null || { rm -rf "$d"; cp -a "$src" "$d"; }
    fi
    i=$((i + 1))
done
echo "$dest: $copies copies of $per files = $((copies * per)) files"
