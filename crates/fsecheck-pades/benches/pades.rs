//! Throughput of the PDF + signature stages over the shared PAdES corpus.
//!
//! `cargo bench -p fsecheck-pades --bench pades` (release profile). Prints docs/s on one thread
//! and on all available cores, and per-file medians. Needs `../shared` beside the workspace.

use fsecheck_pades::{analyze, pdf, Options, TrustStore};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let dir = shared.join("pades");
    assert!(
        dir.join("manifest.jsonl").is_file(),
        "shared test data missing at {}",
        shared.display()
    );
    let trust = TrustStore::from_path(&dir.join("pki/root-ca.pem")).expect("trust anchor");
    let opts = Options {
        trust,
        ..Options::default()
    };
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    for d in [dir.clone(), shared.join("corpus/gateway-tests/files/pdf")] {
        let mut v: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        for p in v
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        {
            files.push((
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    let signed: Vec<&(String, Vec<u8>)> = files
        .iter()
        .filter(|(_, b)| !analyze(b, &opts).signatures.is_empty())
        .collect();
    println!(
        "corpus: {} PDFs ({} signed), {} bytes",
        files.len(),
        signed.len(),
        files.iter().map(|f| f.1.len()).sum::<usize>()
    );

    // Per-file medians (full analysis) and the PDF-only part (revisions + latest view + CDA).
    println!("{:<34} {:>10} {:>10}", "file", "full µs", "pdf µs");
    for (name, b) in &files {
        let full = median(|| {
            std::hint::black_box(analyze(b, &opts));
        });
        let pdf_only = median(|| {
            let scan = pdf::scan_revisions(b, &opts.limits);
            if let Some(r) = scan.revisions.last() {
                if let Ok(d) = pdf::Doc::open(b, r, &opts.limits) {
                    std::hint::black_box(fsecheck_pades::cda::list_attachments(&d));
                }
            }
        });
        println!(
            "{name:<34} {:>10.1} {:>10.1}",
            full.as_secs_f64() * 1e6,
            pdf_only.as_secs_f64() * 1e6
        );
    }

    let window = Duration::from_secs(3);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let (one, one_cpu) = throughput(&signed, &opts, 1, window);
    let (all, all_cpu) = throughput(&signed, &opts, threads, window);
    println!("signed PDFs, full analysis (wall clock): {one:.0} docs/s on 1 thread, {all:.0} docs/s on {threads} threads");
    println!(
        "signed PDFs, full analysis (per CPU-second, immune to other load): {one_cpu:.0} docs/CPU-s on 1 thread, {all_cpu:.0} docs/CPU-s on {threads} threads => {:.0} docs/s projected on {threads} idle cores",
        all_cpu * threads as f64
    );
    let (every, every_cpu) = throughput(&files.iter().collect::<Vec<_>>(), &opts, threads, window);
    println!("whole corpus (incl. unsigned/broken): {every:.0} docs/s wall, {every_cpu:.0} docs/CPU-s on {threads} threads");
    if let Ok(l) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average during the run: {}", l.trim());
    }
}

/// CPU time (user + system) of this process, from /proc (Linux); None elsewhere.
fn cpu_time() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn median(mut f: impl FnMut()) -> Duration {
    let mut v: Vec<Duration> = (0..31)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v[v.len() / 2]
}

/// (docs per wall-clock second, docs per CPU-second).
fn throughput(
    files: &[&(String, Vec<u8>)],
    opts: &Options,
    threads: usize,
    window: Duration,
) -> (f64, f64) {
    let cpu0 = cpu_time();
    let start = Instant::now();
    let done: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut n = 0usize;
                    let mut i = t;
                    while start.elapsed() < window {
                        let (_, b) = files[i % files.len()];
                        std::hint::black_box(analyze(b, opts));
                        n += 1;
                        i += threads;
                    }
                    n
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu0, cpu_time()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall * threads as f64,
    };
    (done as f64 / wall, done as f64 / cpu)
}
