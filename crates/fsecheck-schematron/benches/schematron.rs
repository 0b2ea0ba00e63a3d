//! Schematron stage throughput, single-threaded, on every `*.xml` of `shared/corpus/validator`.
//!
//! Each document gets the catalog schematron whose `template_id_root` (catalog mongo dump
//! `catalogs/mongo-dump/schematron.json.gzip`) equals the document's first `templateId/@root`.
//! Documents are read and parsed once up front; only `Schematron::validate` is timed.
//!
//! Run: `cargo bench -p fsecheck-schematron --bench schematron`

#[path = "../tests/common/mod.rs"]
mod common;

use fsecheck_schematron::Schematron;

// The allocator of the `fsecheck` binary, so that the figure is the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            xml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "xml") {
            out.push(p);
        }
    }
}

fn first_template_root<'a>(doc: &'a roxmltree::Document) -> Option<&'a str> {
    doc.root_element()
        .children()
        .find(|c| {
            c.is_element() && c.tag_name().name() == "templateId" && c.attribute("root").is_some()
        })
        .and_then(|c| c.attribute("root"))
}

/// On-CPU time of this thread (Linux `/proc/thread-self/schedstat`, nanoseconds): the machine
/// is shared, so wall-clock time overstates the cost when other processes compete for cores.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() {
    let shared = common::shared_dir();
    let catalog = shared.join("catalogs/schematron");

    // --- cold: first compile + first check in this process
    let t0 = Instant::now();
    let pss = Schematron::from_file(&catalog.join("schematron_PSS_v4.0.sch")).unwrap();
    let compile_one = t0.elapsed();
    let example = common::read_text(&shared.join("corpus/examples/PSS.xml"));
    let t1 = Instant::now();
    let doc = common::parse(&example).unwrap();
    let n = pss.validate(&doc).unwrap().len();
    let check_one = t1.elapsed();
    println!(
        "cold: compile schematron_PSS_v4.0.sch {:.2} ms + parse & check corpus/examples/PSS.xml {:.2} ms ({n} results) = {:.2} ms",
        compile_one.as_secs_f64() * 1e3,
        check_one.as_secs_f64() * 1e3,
        (compile_one + check_one).as_secs_f64() * 1e3
    );

    // --- compile all catalog schematrons
    let mut gz = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(shared.join("catalogs/mongo-dump/schematron.json.gzip")).unwrap(),
    )
    .read_to_end(&mut gz)
    .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&gz).unwrap();
    let mut root_to_name: HashMap<String, String> = HashMap::new();
    for r in rows.as_array().unwrap() {
        if r["deleted"].as_bool() == Some(true) {
            continue;
        }
        root_to_name.insert(
            r["template_id_root"].as_str().unwrap().to_string(),
            r["name_schematron"].as_str().unwrap().to_string(),
        );
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(&catalog)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sch"))
        .collect();
    names.sort();
    let t = Instant::now();
    let mut compiled: HashMap<String, Schematron> = HashMap::new();
    for p in &names {
        let s = Schematron::from_file(p).unwrap();
        compiled.insert(p.file_name().unwrap().to_string_lossy().into_owned(), s);
    }
    let all = t.elapsed();
    println!(
        "compile all {} catalog schematrons: {:.1} ms ({:.2} ms each on average)",
        names.len(),
        all.as_secs_f64() * 1e3,
        all.as_secs_f64() * 1e3 / names.len() as f64
    );

    // --- corpus: read and parse once
    let mut files = Vec::new();
    xml_files(&shared.join("corpus/validator"), &mut files);
    files.sort();
    let texts: Vec<String> = files.iter().map(|p| common::read_text(p)).collect();
    let mut work: Vec<(roxmltree::Document, &Schematron)> = Vec::new();
    let (mut unparsable, mut unmapped) = (0, 0);
    let mut bytes = 0usize;
    for t in &texts {
        let Ok(doc) = common::parse(t) else {
            unparsable += 1;
            continue;
        };
        let sch = first_template_root(&doc)
            .and_then(|r| root_to_name.get(r))
            .and_then(|n| compiled.get(n));
        match sch {
            Some(s) => {
                bytes += t.len();
                work.push((doc, s));
            }
            None => unmapped += 1,
        }
    }
    println!(
        "corpus: {} xml files, {} checked ({:.1} MB), {} not parseable, {} without a catalog schematron",
        files.len(),
        work.len(),
        bytes as f64 / 1e6,
        unparsable,
        unmapped
    );

    if std::env::var_os("SCH_PROFILE").is_some() {
        let mut agg: HashMap<String, (u32, std::time::Duration)> = HashMap::new();
        let mut matching = std::time::Duration::ZERO;
        for (doc, s) in &work {
            let (p, m) = s.profile(doc, false);
            matching += m;
            for (_, ctx, n, d) in p {
                let e = agg.entry(format!("{} {ctx}", s.file_name())).or_default();
                e.0 += n;
                e.1 += d;
            }
        }
        let mut v: Vec<_> = agg.into_iter().collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1 .1));
        println!("context matching: {:.1} ms", matching.as_secs_f64() * 1e3);
        for (k, (n, d)) in v.iter().take(25) {
            println!("{:8.1} ms {n:6}x  {k}", d.as_secs_f64() * 1e3);
        }
    }

    // --- warm-up, then timed rounds
    let mut results = 0usize;
    let mut errors = 0usize;
    for (doc, s) in &work {
        match s.validate(doc) {
            Ok(r) => results += r.len(),
            Err(_) => errors += 1,
        }
    }
    let rounds = 3;
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    for _ in 0..rounds {
        let c0 = thread_cpu_ns();
        let t = Instant::now();
        for (doc, s) in &work {
            if let Ok(r) = s.validate(doc) {
                std::hint::black_box(r);
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (c0, thread_cpu_ns()) {
            best_cpu = best_cpu.min((b - a) as f64 / 1e9);
        }
    }
    println!(
        "schematron stage, 1 thread: {} docs in {:.1} ms wall (best of {rounds}) = {:.0} docs/s, {:.1} MB/s; {results} results, {errors} dynamic errors",
        work.len(),
        best * 1e3,
        work.len() as f64 / best,
        bytes as f64 / 1e6 / best
    );
    if best_cpu < f64::MAX {
        println!(
            "  on-CPU time {:.1} ms = {:.0} docs/s per core",
            best_cpu * 1e3,
            work.len() as f64 / best_cpu
        );
    }
}
