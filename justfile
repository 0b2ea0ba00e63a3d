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
