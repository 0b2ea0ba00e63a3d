# fsecheck tasks. `just --list` shows them.

catalog := "../shared/catalogs"

# Run every test (the README's test command).
test:
    cargo test --workspace --release

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --release -- -D warnings

# Benchmarks (figures go to docs/PERFORMANCE.md).
bench:
    cargo bench --workspace

# Check the whole shared corpus and write a JSONL report to out/corpus.jsonl.
corpus:
    mkdir -p out
    cargo run --release -p fsecheck-cli -- check --catalog {{catalog}} --format jsonl --fail-on never ../shared/corpus > out/corpus.jsonl
    wc -l out/corpus.jsonl

# Check the project's fixtures.
fixtures:
    cargo run --release -p fsecheck-cli -- check --catalog {{catalog}} fixtures/cda fixtures/broken

# Audit the shared corpus (writes out/audit/audit.{csv,json,html}).
audit:
    cargo run --release -p fsecheck-cli -- audit --catalog {{catalog}} --out out/audit --fail-on never ../shared/corpus

# Audit at scale: replicate the validator corpus to 100,000 files under /tmp and measure the audit
# (peak RSS: "Maximum resident set size"; figures in docs/PERFORMANCE.md).
bench-audit count="100000":
    cargo build --release -p fsecheck-cli
    scripts/replicate-corpus.sh ../shared/corpus/validator /tmp/fsecheck-scale {{count}}
    /usr/bin/time -v target/release/fsecheck audit --catalog {{catalog}} --out /tmp/fsecheck-scale-audit --fail-on never --no-progress /tmp/fsecheck-scale

# Incremental runs: an audit with an empty cache, then cached audits of the same unchanged files
# (figures in docs/PERFORMANCE.md, "Incremental runs"). `path` defaults to the validator corpus;
# for scale, replicate distinct copies first:
#   scripts/replicate-corpus.sh ../shared/corpus/validator /tmp/fsecheck-unique 100000 unique
bench-cache path="../shared/corpus/validator":
    cargo build --release -p fsecheck-cli
    rm -rf /tmp/fsecheck-bench-cache
    /usr/bin/time -f "first run:  %e s wall, %U + %S s CPU, %M KB peak" target/release/fsecheck audit --catalog {{catalog}} --cache /tmp/fsecheck-bench-cache/cache --out /tmp/fsecheck-bench-cache/first --quiet --fail-on never --no-progress {{path}}
    for i in 1 2 3 4 5; do /usr/bin/time -f "cached run: %e s wall, %U + %S s CPU, %M KB peak" target/release/fsecheck audit --catalog {{catalog}} --cache /tmp/fsecheck-bench-cache/cache --out /tmp/fsecheck-bench-cache/cached --quiet --fail-on never --no-progress {{path}}; done
    cmp /tmp/fsecheck-bench-cache/first/audit.json /tmp/fsecheck-bench-cache/cached/audit.json
