//! Shared helpers of the integration tests: the shared data directory, the compiled sets, and
//! batched `xmllint --schema` runs for differential checks.
#![allow(dead_code)]

use fsecheck_xsd::SchemaSet;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const UV02: &str = "POCD_MT000040UV02";
pub const HD: &str = "POCD_HD000040";

pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

pub fn schema_root() -> PathBuf {
    shared().join("catalogs/schema")
}

pub fn set(name: &str) -> &'static SchemaSet {
    static SETS: OnceLock<HashMap<String, SchemaSet>> = OnceLock::new();
    let sets = SETS.get_or_init(|| {
        [UV02, HD]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    SchemaSet::load(&schema_root().join(n)).expect("set loads"),
                )
            })
            .collect()
    });
    &sets[name]
}

/// The set a document is checked against in the differential suites: by `typeId/@extension`,
/// `POCD_MT000040UV02` when there is no matching set.
pub fn set_for(doc: &roxmltree::Document) -> &'static str {
    match fsecheck_xsd::type_id_extension(doc) {
        Some(HD) => HD,
        _ => UV02,
    }
}

pub fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fsecheck-xsd-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Whether xmllint can run. Missing in CI (`CI` set) is a failure; elsewhere a loud skip.
pub fn xmllint_available(test: &str) -> bool {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("xmllint is required in CI (apt-get install libxml2-utils)");
        }
        eprintln!("\n**********\n*** SKIPPED {test}: xmllint not found (apt-get install libxml2-utils) ***\n**********\n");
    }
    ok
}

/// Lays a set out as its `CDA.xsd` expects (`CDA.xsd` + `coreschemas/`) and returns CDA.xsd.
pub fn laid_out(set: &str, scratch: &Path) -> PathBuf {
    let src = schema_root().join(set);
    let dst = scratch.join(format!("layout-{set}"));
    std::fs::create_dir_all(dst.join("coreschemas")).unwrap();
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        let name = e.file_name();
        let to = if name == "CDA.xsd" {
            dst.join(&name)
        } else {
            dst.join("coreschemas").join(&name)
        };
        std::fs::copy(e.path(), to).unwrap();
    }
    dst.join("CDA.xsd")
}

/// xmllint's verdict (`true` = validates) for each file, in batched invocations.
pub fn xmllint_verdicts(schema: &Path, files: &[PathBuf]) -> HashMap<PathBuf, bool> {
    let mut out = HashMap::new();
    for chunk in files.chunks(400) {
        let o = Command::new("xmllint")
            .arg("--noout")
            .arg("--nonet")
            .arg("--schema")
            .arg(schema)
            .args(chunk)
            .output()
            .expect("xmllint runs");
        let err = String::from_utf8_lossy(&o.stderr);
        for line in err.lines() {
            if let Some(p) = line.strip_suffix(" validates") {
                out.insert(PathBuf::from(p), true);
            } else if let Some(p) = line.strip_suffix(" fails to validate") {
                out.insert(PathBuf::from(p), false);
            }
        }
    }
    out
}
