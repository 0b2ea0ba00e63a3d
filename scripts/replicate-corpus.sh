#!/bin/sh
# Replicate a folder of documents into DEST until it holds at least COUNT files, for
# benchmarks at scale.
#
#   scripts/replicate-corpus.sh [SOURCE] [DEST] [COUNT] [links|unique]
#   defaults: ../shared/corpus/validator  /tmp/fsecheck-scale  100000  links
#
# links:  copies are hard links when DEST is on the same file system (no disk space used),
#         else plain copies. Every copy has the same content as the original, so a run with
#         --cache checks each distinct document once and reuses its record for the other copies.
# unique: plain copies, and every XML file of copy N gets a trailing `<!-- copy N -->` line, so
#         that every file has content of its own (a first run with --cache checks them all).
set -eu
src=${1:-../shared/corpus/validator}
dest=${2:-/tmp/fsecheck-scale}
count=${3:-100000}
mode=${4:-links}
[ -d "$src" ] || { echo "no such folder: $src" >&2; exit 2; }
case $mode in links|unique) ;; *) echo "mode must be links or unique: $mode" >&2; exit 2 ;; esac
per=$(find "$src" -type f ! -name '.*' | wc -l)
[ "$per" -gt 0 ] || { echo "no files in $src" >&2; exit 2; }
copies=$(( (count + per - 1) / per ))
mkdir -p "$dest"
i=1
while [ "$i" -le "$copies" ]; do
    d=$(printf '%s/copy-%04d' "$dest" "$i")
    if [ ! -d "$d" ]; then
        if [ "$mode" = unique ]; then
            cp -a "$src" "$d"
            find "$d" -type f -name '*.xml' -exec sh -c \
                'n=$1; shift; for f; do printf "<!-- copy %s -->\n" "$n" >> "$f"; done' \
                sh "$i" {} +
        else
            cp -al "$src" "$d" 2>/dev/null || { rm -rf "$d"; cp -a "$src" "$d"; }
        fi
    fi
    i=$((i + 1))
done
echo "$dest: $copies copies of $per files = $((copies * per)) files ($mode)"
