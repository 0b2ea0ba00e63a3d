//! Helpers shared by the integration tests and the bench: locating `../shared` and reading
//! documents.
#![allow(dead_code)]

use std::path::PathBuf;

/// `<workspace root>/../shared`. Panics (loudly) when it is missing: these tests must not pass
/// silently without their data.
pub fn shared_dir() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    assert!(
        p.join("corpus/expected").is_dir(),
        "shared data not found at {} (expected <workspace>/../shared)",
        p.display()
    );
    p
}

/// Read a document as text: UTF-8, or ISO-8859-1 when it is not valid UTF-8.
pub fn read_text(path: &std::path::Path) -> String {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    }
}

pub fn parse(text: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opts)
}

/// All `.sch` files the engine must compile: the 22 catalog files and the validator's schV3.
pub fn all_schematrons() -> Vec<PathBuf> {
    let shared = shared_dir();
    let mut out = Vec::new();
    for e in std::fs::read_dir(shared.join("catalogs/schematron")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "sch") {
            out.push(p);
        }
    }
    for e in std::fs::read_dir(shared.join("corpus/validator")).unwrap() {
        let d = e.unwrap().path().join("schV3");
        if d.is_dir() {
            for f in std::fs::read_dir(d).unwrap() {
                let p = f.unwrap().path();
                if p.extension().is_some_and(|x| x == "sch") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}
