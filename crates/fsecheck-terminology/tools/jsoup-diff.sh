#!/usr/bin/env bash
# Differential checks against a second implementation of the gateway's terminology stage written
# in Java with jsoup (HTML parse, as the gateway) and java.util collections (HashMap grouping,
# ArrayList.removeAll, the DTOs' equals/hashCode):
#   1. GwExtract: steps 1-2 (re-mapping + extraction), element by element, vs `coded_elements`;
#   2. GwTerm: the whole stage's gateway message, vs `gateway_message`, on the corpus as is, with
#      the 9.999 placeholders renamed (so documents reach the code step), and with the LOINC
#      codeSystemVersion="2.19" removed as well.
# Needs a JDK, python3 and Debian's libjsoup-java (apt-get install libjsoup-java).
#   crates/fsecheck-terminology/tools/jsoup-diff.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
shared="$(cd "${SHARED:-$root/../shared}" && pwd)"
jar="${JSOUP_JAR:-/usr/share/java/jsoup.jar}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
javac -d "$work" -cp "$jar" "$here/GwExtract.java" "$here/GwTerm.java"
cargo build -q --release -p fsecheck-terminology --example scan --manifest-path "$root/Cargo.toml"
scan="$root/target/release/examples/scan"
cat="$shared/catalogs"
find "$shared/corpus/validator" "$shared/corpus/examples" -name '*.xml' | sort > "$work/files"
python3 - "$cat/mongo-dump/dictionary.json.gzip" > "$work/dict.tsv" <<'PY'
import gzip, json, sys, datetime
def ms(v):
    if not v: return '-'
    s = v['$date'] if isinstance(v, dict) else v
    return str(int(datetime.datetime.fromisoformat(s.replace('Z', '+00:00')).timestamp() * 1000))
for x in json.load(gzip.open(sys.argv[1])):
    if x.get('deleted'): continue
    v = x.get('version')
    print('\t'.join([x['system'], '-' if v is None else v, ms(x.get('release_date')),
                     ms(x.get('creation_date')), 'true' if x.get('whitelist') else 'false']))
PY
status=0
compare() { # name rust java
  if cmp -s "$2" "$3"; then echo "IDENTICAL $1: $(wc -l < "$2") lines"; else echo "DIFFERENT $1:"; diff "$2" "$3" | head -20; status=1; fi
}
tr '\n' '\0' < "$work/files" | EXTRACT=1 xargs -0 "$scan" "$cat" > "$work/rust.txt"
tr '\n' '\0' < "$work/files" | xargs -0 java -cp "$jar:$work" GwExtract > "$work/java.txt"
compare "extraction (coded elements)" "$work/rust.txt" "$work/java.txt"
messages() { # name sed-script
  mkdir -p "$work/$1"; : > "$work/$1.files"; i=0
  while IFS= read -r f; do i=$((i + 1)); sed "$2" "$f" > "$work/$1/$i.xml"; echo "$work/$1/$i.xml" >> "$work/$1.files"; done < "$work/files"
  tr '\n' '\0' < "$work/$1.files" | xargs -0 "$scan" "$cat" | grep -P '\tGATEWAY\t' | cut -f1,3 > "$work/$1.rust"
  tr '\n' '\0' < "$work/$1.files" | xargs -0 java -cp "$jar:$work" GwTerm "$work/dict.tsv" "$cat/terminology" > "$work/$1.java"
  compare "gateway messages, $1" "$work/$1.rust" "$work/$1.java"
}
messages as-is 's/^//'
messages no-placeholder 's/2\.16\.840\.1\.113883\.9\.999/2.16.840.1.113883.9.998/g'
messages no-placeholder-no-2.19 's/2\.16\.840\.1\.113883\.9\.999/2.16.840.1.113883.9.998/g; s/codeSystemVersion="2\.19"//g'
exit $status
