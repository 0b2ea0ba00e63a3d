#!/usr/bin/env bash
# Differential check of steps 1-2 (re-mapping + extraction) against jsoup's HTML parser, the way
# the gateway does them. Needs a JDK and Debian's libjsoup-java (apt-get install libjsoup-java).
#   crates/fsecheck-terminology/tools/jsoup-diff.sh [FILE.xml...]   (default: the shared corpus)
# Prints IDENTICAL, or the first differences, and exits non-zero on a difference.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
shared="${SHARED:-$root/../shared}"
jar="${JSOUP_JAR:-/usr/share/java/jsoup.jar}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
javac -d "$work" -cp "$jar" "$here/GwExtract.java"
cargo build -q --release -p fsecheck-terminology --example scan --manifest-path "$root/Cargo.toml"
if [ "$#" -eq 0 ]; then
  find "$shared/corpus/validator" "$shared/corpus/examples" -name '*.xml' | sort > "$work/files"
else
  printf '%s\n' "$@" > "$work/files"
fi
tr '\n' '\0' < "$work/files" | EXTRACT=1 xargs -0 "$root/target/release/examples/scan" "$shared/catalogs" > "$work/rust.txt"
tr '\n' '\0' < "$work/files" | xargs -0 java -cp "$jar:$work" GwExtract > "$work/java.txt"
if cmp -s "$work/rust.txt" "$work/java.txt"; then
  echo "IDENTICAL: $(wc -l < "$work/files") files, $(wc -l < "$work/rust.txt") coded elements"
else
  diff "$work/rust.txt" "$work/java.txt" | head -40
  exit 1
fi
