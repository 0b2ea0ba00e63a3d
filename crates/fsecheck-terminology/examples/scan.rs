//! Prints the terminology and engine findings of CDA files, one line per finding.
//!
//! `cargo run -p fsecheck-terminology --example scan -- CATALOG_DIR FILE...`
//! With `THOROUGH=1` in the environment the stage goes on after a blocking step; with `EXTRACT=1`
//! it lists the extracted elements instead (file, code, codeSystem, codeSystemVersion).

use fsecheck_terminology::{coded_elements, gateway_message, CheckOptions, Engines, Terminology};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((catalog, files)) = args.split_first() else {
        eprintln!("usage: scan CATALOG_DIR FILE...");
        std::process::exit(2);
    };
    let term = Terminology::load(Path::new(catalog)).expect("terminology");
    let engines = Engines::load(Path::new(catalog)).expect("engines");
    for file in files {
        let bytes = std::fs::read(file).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_start_matches('\u{feff}');
        let doc = match roxmltree::Document::parse(text) {
            Ok(d) => d,
            Err(e) => {
                println!("{file}\tPARSE-ERROR\t{e}");
                continue;
            }
        };
        if std::env::var_os("EXTRACT").is_some() {
            // The elements the stage extracts: file, code, codeSystem, codeSystemVersion.
            for e in coded_elements(&doc) {
                println!(
                    "{file}\t{}\t{}\t{}",
                    e.code.unwrap_or("-"),
                    e.code_system,
                    e.code_system_version.unwrap_or("-")
                );
            }
            continue;
        }
        let opts = CheckOptions {
            continue_after_blocking: std::env::var_os("THOROUGH").is_some(),
        };
        let mut findings = term.check_with(&doc, &opts);
        findings.extend(engines.check_document(&doc));
        println!(
            "{file}\tGATEWAY\t{}",
            gateway_message(&findings).unwrap_or("-")
        );
        for f in &findings {
            let d = |k: &str| f.details.get(k).map(String::as_str).unwrap_or("");
            println!(
                "{file}\t{}\t{}\t{}\t{}\t{}\t{}",
                f.severity,
                f.id,
                d("codeSystem"),
                d("code"),
                f.location.xpath.as_deref().unwrap_or(""),
                f.message
            );
        }
    }
}
