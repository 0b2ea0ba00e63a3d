//! Read + decode + parse + header model over `../shared/corpus/validator`, on all cores.
//! Run: `cargo bench -p fsecheck-engine --bench backbone`. Prints docs/s and MB/s.

use rayon::prelude::*;

// The allocator of the `fsecheck` binary, so that the figure is the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            xml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "xml") {
            out.push(p);
        }
    }
}

fn one(path: &Path, limits: &fsecheck_xml::Limits) -> (usize, bool) {
    let bytes = std::fs::read(path).unwrap();
    let len = bytes.len();
    let prepared = fsecheck_xml::prepare_owned(bytes, limits);
    let Some(text) = prepared.text else {
        return (len, false);
    };
    let ok = match fsecheck_xml::parse(&text, limits) {
        Ok(doc) => fsecheck_cda::header(&doc).is_ok(),
        Err(_) => false,
    };
    (len, ok)
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/validator");
    let mut files = Vec::new();
    xml_files(&dir, &mut files);
    files.sort();
    let limits = fsecheck_xml::Limits::default();
    let threads = rayon::current_num_threads();
    // Warm the page cache once.
    let warm: usize = files.par_iter().map(|p| one(p, &limits).0).sum();
    let rounds = 10;
    let t = Instant::now();
    let mut docs = 0usize;
    let mut bytes = 0usize;
    let mut ok = 0usize;
    for _ in 0..rounds {
        let r: Vec<(usize, bool)> = files.par_iter().map(|p| one(p, &limits)).collect();
        docs += r.len();
        bytes += r.iter().map(|x| x.0).sum::<usize>();
        ok += r.iter().filter(|x| x.1).count();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "backbone (read+decode+prescan+parse+header): {} docs ({} KB avg, {} CDA headers), {} threads: {:.0} docs/s, {:.1} MB/s",
        files.len(),
        warm / files.len().max(1) / 1024,
        ok / rounds,
        threads,
        docs as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}
