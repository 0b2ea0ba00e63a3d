//! Times the terminology stage alone over every XML under `shared/corpus/validator`.
//!
//! `cargo bench -p fsecheck-terminology --bench terminology [-- ROUNDS]`
//!
//! Documents are read and parsed up front; the catalog is loaded and every CSV preloaded before
//! timing (a process loads them once). Then each round checks every document once; the figure is
//! the mean time per document per round, plus the best round and the slowest document.

// The allocator of the `fsecheck` binary, so that the figure is the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use fsecheck_terminology::{Engines, Terminology};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            xml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "xml") {
            out.push(p);
        }
    }
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (Linux), in nanoseconds.
/// On a shared machine wall time includes waiting for a core; CPU time does not.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20);
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let catalog = shared.join("catalogs");

    let t0 = Instant::now();
    let term = Terminology::load(&catalog).expect("load catalog");
    let load = t0.elapsed();
    let t1 = Instant::now();
    let problems = term.preload();
    let preload = t1.elapsed();
    let engines = Engines::load(&catalog).expect("load engines");

    let mut files = Vec::new();
    xml_files(&shared.join("corpus/validator"), &mut files);
    files.sort();
    let texts: Vec<(PathBuf, String)> = files
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let text = String::from_utf8(bytes).ok()?;
            Some((p, text.trim_start_matches('\u{feff}').to_string()))
        })
        .collect();
    let docs: Vec<(&PathBuf, roxmltree::Document<'_>)> = texts
        .iter()
        .filter_map(|(p, t)| roxmltree::Document::parse(t).ok().map(|d| (p, d)))
        .collect();
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    println!(
        "catalog: dictionary load {:.1} ms, CSV preload {:.1} ms ({} systems unavailable)",
        load.as_secs_f64() * 1e3,
        preload.as_secs_f64() * 1e3,
        problems.len()
    );
    println!(
        "documents: {} parsed of {} xml files ({:.1} MB)",
        docs.len(),
        texts.len(),
        bytes as f64 / 1e6
    );

    // Warm-up round (also counts findings).
    let mut findings = 0usize;
    for (_, d) in &docs {
        findings += term.check(d).len();
    }
    let mut per_doc_max = vec![Duration::ZERO; docs.len()];
    let mut rounds_t = Vec::with_capacity(rounds);
    let cpu0 = cpu_ns();
    for _ in 0..rounds {
        let start = Instant::now();
        for (i, (_, d)) in docs.iter().enumerate() {
            let s = Instant::now();
            std::hint::black_box(term.check(std::hint::black_box(d)));
            let e = s.elapsed();
            if e > per_doc_max[i] {
                per_doc_max[i] = e;
            }
        }
        rounds_t.push(start.elapsed());
    }
    let cpu = cpu_ns().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    let total: Duration = rounds_t.iter().sum();
    let best = rounds_t.iter().min().copied().unwrap_or_default();
    let n = docs.len().max(1) as f64;
    println!(
        "terminology check: {rounds} rounds, mean {:.1} µs/doc, best round {:.1} µs/doc, {} findings per round",
        total.as_secs_f64() * 1e6 / (n * rounds as f64),
        best.as_secs_f64() * 1e6 / n,
        findings
    );
    if let Some(cpu) = cpu {
        println!(
            "terminology check, CPU time (schedstat): mean {:.1} µs/doc",
            cpu as f64 / 1e3 / (n * rounds as f64)
        );
    }
    if let Some((i, slow)) = per_doc_max.iter().enumerate().max_by_key(|(_, d)| **d) {
        println!(
            "slowest document (worst of its rounds): {:.1} µs {}",
            slow.as_secs_f64() * 1e6,
            docs[i].0.display()
        );
    }

    // Warm: each document checked 5 times in a row, best time kept (the pipeline runs this stage
    // right after the schema and schematron stages walked the same tree, so it is in cache).
    let mut warm = Duration::ZERO;
    for (_, d) in &docs {
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let s = Instant::now();
            std::hint::black_box(term.check(std::hint::black_box(d)));
            best = best.min(s.elapsed());
        }
        warm += best;
    }
    println!(
        "terminology check, warm tree (best of 5 per document): mean {:.1} µs/doc",
        warm.as_secs_f64() * 1e6 / n
    );

    // Reference: the bare cost of visiting every node of every tree once (cold caches, like the
    // check itself in this loop).
    let start = Instant::now();
    let cpu0 = cpu_ns();
    for _ in 0..rounds {
        for (_, d) in &docs {
            std::hint::black_box(d.descendants().filter(|n| n.is_element()).count());
        }
    }
    let cpu = cpu_ns().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    println!(
        "reference, visiting every element: mean {:.1} µs/doc (CPU {:.1} µs/doc)",
        start.elapsed().as_secs_f64() * 1e6 / (n * rounds as f64),
        cpu.unwrap_or(0) as f64 / 1e3 / (n * rounds as f64)
    );

    let start = Instant::now();
    for _ in 0..rounds {
        for (_, d) in &docs {
            std::hint::black_box(fsecheck_terminology::coded_elements(std::hint::black_box(
                d,
            )));
        }
    }
    println!(
        "steps 1-2 alone (extraction of the coded elements): mean {:.1} µs/doc",
        start.elapsed().as_secs_f64() * 1e6 / (n * rounds as f64)
    );
    let start = Instant::now();
    for _ in 0..rounds {
        for (_, d) in &docs {
            std::hint::black_box(engines.check_document(std::hint::black_box(d)));
        }
    }
    println!(
        "engine map check: mean {:.2} µs/doc",
        start.elapsed().as_secs_f64() * 1e6 / (n * rounds as f64)
    );
}
