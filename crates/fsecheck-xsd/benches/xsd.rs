//! XSD stage throughput over `../shared/corpus/validator` (all *.xml, recursively).
//! Parsing happens up front and is excluded; only `SchemaSet::validate` is timed.
//!
//! Run: `cargo bench -p fsecheck-xsd --bench xsd` (optionally `-- <rounds>`).

use fsecheck_xsd::SchemaSet;
use rayon::prelude::*;
use std::time::Instant;

#[path = "../tests/common/mod.rs"]
mod common;

/// CPU seconds used by this process so far (utime + stime from /proc, 100 Hz ticks), so that
/// throughput per CPU-second can be told apart from the share of a busy machine we got.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let shared = common::shared();
    let schema_root = common::schema_root();

    for name in ["POCD_MT000040UV02", "POCD_HD000040"] {
        let c = cpu_seconds();
        let mut times: Vec<f64> = (0..10)
            .map(|_| {
                let t = Instant::now();
                let s = SchemaSet::load(&schema_root.join(name)).unwrap();
                std::hint::black_box(&s);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let cpu_ms = (cpu_seconds() - c) * 1e3 / 10.0;
        println!(
            "load {name}: min {:.1} ms, median {:.1} ms wall, {cpu_ms:.1} ms CPU on average (10 loads)",
            times[0], times[5]
        );
    }
    let uv = SchemaSet::load(&schema_root.join("POCD_MT000040UV02")).unwrap();
    let hd = SchemaSet::load(&schema_root.join("POCD_HD000040")).unwrap();

    let files = common::xml_files(&shared.join("corpus/validator"));
    let texts: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    let docs: Vec<roxmltree::Document> = texts
        .iter()
        .filter_map(|t| roxmltree::Document::parse(t).ok())
        .collect();
    let bytes: usize = docs.iter().map(|d| d.input_text().len()).sum();
    let pick = |d: &roxmltree::Document| match fsecheck_xsd::type_id_extension(d) {
        Some("POCD_HD000040") => &hd,
        _ => &uv,
    };
    println!(
        "corpus: {} files, {} parsed documents, {:.1} MB",
        files.len(),
        docs.len(),
        bytes as f64 / 1e6
    );
    let invalid = docs
        .iter()
        .filter(|d| !pick(d).validate(d).is_empty())
        .count();
    println!("documents with XSD errors: {invalid}");

    let report = |label: &str, secs: f64, cpu: f64| {
        let n = (docs.len() * rounds) as f64;
        println!(
            "{label}: {:.0} docs/s wall, {:.1} MB/s, {:.3} ms/doc ({rounds} rounds, {:.2} s wall, {:.2} s CPU = {:.0} docs per CPU-second)",
            n / secs,
            (bytes * rounds) as f64 / 1e6 / secs,
            secs * 1e3 / n,
            secs,
            cpu,
            n / cpu
        );
    };

    let (t, c) = (Instant::now(), cpu_seconds());
    for _ in 0..rounds {
        for d in &docs {
            std::hint::black_box(pick(d).validate(d));
        }
    }
    report("1 thread ", t.elapsed().as_secs_f64(), cpu_seconds() - c);

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let (t, c) = (Instant::now(), cpu_seconds());
    pool.install(|| {
        for _ in 0..rounds {
            docs.par_iter().for_each(|d| {
                std::hint::black_box(pick(d).validate(d));
            });
        }
    });
    report("2 threads", t.elapsed().as_secs_f64(), cpu_seconds() - c);
}
