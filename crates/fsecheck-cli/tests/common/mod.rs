//! Helpers for the CLI tests: the built binary, the shared data, the workspace root.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `../shared` beside the workspace; tests need it (CI provides it).
pub fn shared() -> PathBuf {
    let p = workspace().join("../shared");
    assert!(
        p.is_dir(),
        "../shared is missing beside the workspace: {}",
        p.display()
    );
    p
}

pub fn catalog() -> PathBuf {
    shared().join("catalogs")
}

pub fn fsecheck() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fsecheck"));
    c.env_remove("FSECHECK_CATALOG").env("NO_COLOR", "1");
    c
}

pub fn run(args: &[&std::ffi::OsStr]) -> Output {
    fsecheck().args(args).output().expect("run fsecheck")
}

pub fn records(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSONL line {l}: {e}")))
        .collect()
}

/// A validator for `schemas/report-record.schema.json`.
pub struct RecordSchema {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl RecordSchema {
    pub fn load() -> Self {
        let path = workspace().join("schemas/report-record.schema.json");
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.add_resource("record.json", value).unwrap();
        let index = compiler.compile("record.json", &mut schemas).unwrap();
        RecordSchema { schemas, index }
    }

    pub fn check(&self, record: &serde_json::Value) {
        if let Err(e) = self.schemas.validate(record, self.index) {
            panic!("record does not match the schema: {e:#}\n{record}");
        }
    }
}
