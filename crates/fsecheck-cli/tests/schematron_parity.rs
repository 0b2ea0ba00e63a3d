//! Parity with the gateway's Schematron pipeline (Saxon-HE + ISO skeleton): every row of
//! `../shared/corpus/expected/schematron-*.jsonl` — a (document, schematron) pair with the failed
//! asserts and fired reports of the reference — run through `fsecheck check --schematron`, one
//! process per schematron. The multisets of (text, location) must be equal, for asserts (our
//! errors) and reports (our warnings) separately.

mod common;

use common::*;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

type Multiset = BTreeMap<(String, String), usize>;

fn multiset<'a>(items: impl Iterator<Item = (&'a str, &'a str)>) -> Multiset {
    let mut m = Multiset::new();
    for (t, l) in items {
        *m.entry((norm(t), l.to_string())).or_default() += 1;
    }
    m
}

struct Row {
    doc: PathBuf,
    asserts: Multiset,
    reports: Multiset,
}

#[test]
fn every_reference_row_is_reproduced() {
    let shared = shared();
    let mut by_schematron: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut total = 0;
    for file in [
        "schematron-validator-schV3.jsonl",
        "schematron-catalog.jsonl",
        "schematron-examples.jsonl",
    ] {
        let text = std::fs::read_to_string(shared.join("corpus/expected").join(file)).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let pick = |key: &str| {
                v[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| {
                        (
                            x["text"].as_str().unwrap().to_string(),
                            x["location"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect::<Vec<_>>()
            };
            let a = pick("failed_asserts");
            let r = pick("successful_reports");
            by_schematron
                .entry(v["schematron"].as_str().unwrap().to_string())
                .or_default()
                .push(Row {
                    doc: shared.join(v["doc"].as_str().unwrap()),
                    asserts: multiset(a.iter().map(|(t, l)| (t.as_str(), l.as_str()))),
                    reports: multiset(r.iter().map(|(t, l)| (t.as_str(), l.as_str()))),
                });
            total += 1;
        }
    }
    assert_eq!(total, 1738, "the reference has 1,738 rows");
    let mut matched = 0;
    let mut failures = Vec::new();
    for (sch, rows) in &by_schematron {
        let mut cmd = fsecheck();
        cmd.args([
            "check",
            "--format",
            "jsonl",
            "--fail-on",
            "never",
            "--catalog",
        ])
        .arg(catalog())
        .arg("--schematron")
        .arg(shared.join(sch));
        let mut docs: Vec<&PathBuf> = rows.iter().map(|r| &r.doc).collect();
        docs.sort();
        docs.dedup();
        cmd.args(docs);
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{sch}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let recs: HashMap<String, serde_json::Value> = records(&out.stdout)
            .into_iter()
            .map(|r| (r["path"].as_str().unwrap().to_string(), r))
            .collect();
        for row in rows {
            let rec = &recs[&row.doc.to_string_lossy().into_owned()];
            let sch_findings: Vec<&serde_json::Value> = rec["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["stage"] == "schematron")
                .collect();
            let of = |sev: &str| {
                multiset(
                    sch_findings
                        .iter()
                        .filter(|f| f["severity"] == sev)
                        .map(|f| {
                            (
                                f["message"].as_str().unwrap(),
                                f["details"]["svrl_location"].as_str().unwrap_or(""),
                            )
                        }),
                )
            };
            let (a, r) = (of("error"), of("warning"));
            if a == row.asserts && r == row.reports {
                matched += 1;
            } else if failures.len() < 10 {
                failures.push(format!(
                    "{} with {sch}:\n  asserts want {:?}\n          got  {:?}\n  reports want {:?}\n          got  {:?}",
                    row.doc.display(),
                    row.asserts.iter().filter(|(k, v)| a.get(*k) != Some(v)).collect::<Vec<_>>(),
                    a.iter().filter(|(k, v)| row.asserts.get(*k) != Some(v)).collect::<Vec<_>>(),
                    row.reports,
                    r
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{matched}/{total} rows match; first differences:\n{}",
        failures.join("\n")
    );
    assert_eq!(matched, total);
}

/// Without `--schematron`, the catalog's choice by first templateId root reproduces the reference
/// for the 9 official examples (and VPS is refused with 422, as the reference shows).
#[test]
fn examples_select_their_schematron_by_template_root() {
    let shared = shared();
    let text =
        std::fs::read_to_string(shared.join("corpus/expected/schematron-examples.jsonl")).unwrap();
    let out = fsecheck()
        .args([
            "check",
            "--format",
            "jsonl",
            "--fail-on",
            "never",
            "--catalog",
        ])
        .arg(catalog())
        .arg(shared.join("corpus/examples"))
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 9);
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let doc = shared.join(row["doc"].as_str().unwrap());
        let rec = recs
            .iter()
            .find(|r| r["path"].as_str().unwrap() == doc.to_string_lossy())
            .unwrap();
        let file = row["schematron"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap();
        assert_eq!(rec["schematron"], file, "{}", doc.display());
        let got: Vec<String> = rec["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["stage"] == "schematron" && f["severity"] == "error")
            .map(|f| norm(f["message"].as_str().unwrap()))
            .collect();
        let mut want: Vec<String> = row["failed_asserts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| norm(a["text"].as_str().unwrap()))
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        want.sort();
        assert_eq!(got_sorted, want, "{}", doc.display());
        let status = rec["gateway"]["status"].as_u64().unwrap();
        if want.is_empty() {
            assert_eq!(status, 201, "{}", doc.display());
        } else {
            assert_eq!(status, 422, "{}", doc.display());
            assert_eq!(rec["gateway"]["type"], "/msg/semantic");
        }
    }
}
