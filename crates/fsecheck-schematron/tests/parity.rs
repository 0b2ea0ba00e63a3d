//! Parity with the reference pipeline (Saxon-HE + ISO skeleton): every row of the three
//! expected jsonl files, comparing the multisets of (text, location) of failed asserts and,
//! separately, of successful reports.

mod common;

use fsecheck_schematron::{Kind, Schematron};
use std::collections::HashMap;

#[test]
fn every_schematron_compiles() {
    let files = common::all_schematrons();
    assert!(
        files.len() >= 28,
        "expected the 22 catalog + schV3 files, found {}",
        files.len()
    );
    let mut errors = Vec::new();
    for f in &files {
        if let Err(e) = Schematron::from_file(f) {
            errors.push(e.to_string());
        }
    }
    assert!(
        errors.is_empty(),
        "{} schematron(s) failed to compile:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

type Pairs = Vec<(String, String)>;

fn expected_pairs(v: &serde_json::Value) -> Pairs {
    let mut out: Pairs = v
        .as_array()
        .expect("array")
        .iter()
        .map(|a| {
            (
                fsecheck_schematron::normalize_ws(a["text"].as_str().unwrap()),
                a["location"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn parity_with_reference_svrl() {
    let shared = common::shared_dir();
    let mut cache: HashMap<String, Schematron> = HashMap::new();
    let mut rows = 0usize;
    let mut matched = 0usize;
    let mut report = Vec::new();
    let (mut n_asserts, mut n_reports) = (0usize, 0usize);
    for name in [
        "schematron-validator-schV3",
        "schematron-catalog",
        "schematron-examples",
    ] {
        let path = shared.join(format!("corpus/expected/{name}.jsonl"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            rows += 1;
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            let doc_rel = row["doc"].as_str().unwrap();
            let sch_rel = row["schematron"].as_str().unwrap().to_string();
            let sch = cache.entry(sch_rel.clone()).or_insert_with(|| {
                Schematron::from_file(&shared.join(&sch_rel))
                    .unwrap_or_else(|e| panic!("{sch_rel}: {e}"))
            });
            let doc_text = common::read_text(&shared.join(doc_rel));
            let doc = match common::parse(&doc_text) {
                Ok(d) => d,
                Err(e) => {
                    report.push(format!("{doc_rel}: not parseable: {e}"));
                    continue;
                }
            };
            let got = match sch.validate(&doc) {
                Ok(r) => r,
                Err(e) => {
                    report.push(format!("{doc_rel} [{sch_rel}]: dynamic error {e}"));
                    continue;
                }
            };
            let mut fa: Pairs = Vec::new();
            let mut sr: Pairs = Vec::new();
            for r in got {
                let p = (r.text, r.location);
                match r.kind {
                    Kind::FailedAssert => fa.push(p),
                    Kind::SuccessfulReport => sr.push(p),
                }
            }
            fa.sort();
            sr.sort();
            let efa = expected_pairs(&row["failed_asserts"]);
            let esr = expected_pairs(&row["successful_reports"]);
            n_asserts += efa.len();
            n_reports += esr.len();
            if fa == efa && sr == esr {
                matched += 1;
            } else {
                let mut msg = format!("{doc_rel} [{sch_rel}]:");
                for (label, exp, got) in [("assert", &efa, &fa), ("report", &esr, &sr)] {
                    for e in exp.iter().filter(|e| !got.contains(e)) {
                        msg.push_str(&format!("\n   missing {label}: {} @ {}", e.0, e.1));
                    }
                    for g in got.iter().filter(|g| !exp.contains(g)) {
                        msg.push_str(&format!("\n   extra   {label}: {} @ {}", g.0, g.1));
                    }
                    if exp.len() != got.len() {
                        msg.push_str(&format!(
                            "\n   {label} count expected {} got {}",
                            exp.len(),
                            got.len()
                        ));
                    }
                }
                report.push(msg);
            }
        }
    }
    eprintln!(
        "schematron parity: {matched}/{rows} rows match ({n_asserts} expected failed asserts, {n_reports} expected reports)"
    );
    // Guard against a vacuous comparison (e.g. empty expectations).
    assert!(
        n_asserts > 5000 && n_reports > 10,
        "suspiciously few expected results"
    );
    assert_eq!(rows, 1738, "the expected files should hold 1738 rows");
    if !report.is_empty() {
        let shown: Vec<&String> = report.iter().take(40).collect();
        panic!(
            "parity {matched}/{rows}; {} mismatching rows, first ones:\n{}",
            report.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
