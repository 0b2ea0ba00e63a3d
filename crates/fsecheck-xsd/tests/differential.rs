//! Differential suite: every XML document of the shared corpus, our verdict vs
//! `xmllint --noout --schema` (libxml2) on the same set.

mod common;

use common::*;
use std::path::PathBuf;

/// Documents where libxml2 deviates from XSD 1.0 and we follow the standard. Expected empty;
/// every entry must be explained in docs/XSD.md.
const EXCEPTIONS: &[&str] = &[];

#[test]
fn corpus_verdicts_equal_xmllint() {
    if !xmllint_available("corpus_verdicts_equal_xmllint") {
        return;
    }
    let files = xml_files(&shared().join("corpus"));
    assert!(
        files.len() > 800,
        "corpus not found or incomplete: {} files",
        files.len()
    );
    let scratch = scratch("corpus");
    let mut ours: Vec<(PathBuf, &str, bool, String)> = Vec::new();
    let mut skipped = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let Ok(text) = String::from_utf8(bytes) else {
            skipped += 1;
            continue;
        };
        let opts = roxmltree::ParsingOptions {
            allow_dtd: false,
            ..Default::default()
        };
        let Ok(doc) = roxmltree::Document::parse_with_options(&text, opts) else {
            skipped += 1;
            continue;
        };
        let set_name = set_for(&doc);
        let findings = set(set_name).validate(&doc);
        let first = findings
            .first()
            .map(|f| format!("{} {}", f.id, f.message))
            .unwrap_or_default();
        ours.push((f.clone(), set_name, findings.is_empty(), first));
    }
    let mut theirs = std::collections::HashMap::new();
    for s in [UV02, HD] {
        let schema = laid_out(s, &scratch);
        let batch: Vec<PathBuf> = ours
            .iter()
            .filter(|o| o.1 == s)
            .map(|o| o.0.clone())
            .collect();
        theirs.extend(xmllint_verdicts(&schema, &batch));
    }
    let mut agree = 0;
    let mut valid = 0;
    let mut mismatches = Vec::new();
    for (f, s, ok, first) in &ours {
        valid += usize::from(*ok);
        let name = f.strip_prefix(shared()).unwrap_or(f).display().to_string();
        match theirs.get(f) {
            Some(t) if t == ok => agree += 1,
            Some(t) if EXCEPTIONS.contains(&name.as_str()) => {
                eprintln!("exception {name}: ours {ok}, xmllint {t}");
                agree += 1;
            }
            t => mismatches.push(format!(
                "{name} [{s}]: ours valid={ok}, xmllint {t:?}; {first}"
            )),
        }
    }
    eprintln!(
        "corpus: {} files, {} skipped (not UTF-8 / not well-formed), {} compared, {} agree, {} valid",
        files.len(),
        skipped,
        ours.len(),
        agree,
        valid
    );
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The corpus against the gateway's own validator (JDK JAXP / Xerces): no exceptions at all.
#[test]
fn corpus_verdicts_equal_jaxp() {
    if !java_available("corpus_verdicts_equal_jaxp") {
        return;
    }
    let scratch = scratch("corpus-jaxp");
    let mut checked = Vec::new();
    for f in xml_files(&shared().join("corpus")) {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let opts = roxmltree::ParsingOptions {
            allow_dtd: false,
            ..Default::default()
        };
        let Ok(doc) = roxmltree::Document::parse_with_options(&text, opts) else {
            continue;
        };
        let s = set_for(&doc);
        let findings = set(s).validate(&doc);
        drop(doc);
        checked.push(Checked {
            label: f.display().to_string(),
            path: f,
            text,
            set: s,
            findings,
        });
    }
    let mut theirs = std::collections::HashMap::new();
    for s in [UV02, HD] {
        let files: Vec<PathBuf> = checked
            .iter()
            .filter(|c| c.set == s)
            .map(|c| c.path.clone())
            .collect();
        theirs.extend(jaxp_verdicts(&laid_out(s, &scratch), &files));
    }
    let mismatches: Vec<String> = checked
        .iter()
        .filter(|c| theirs.get(&c.path) != Some(&c.findings.is_empty()))
        .map(|c| {
            format!(
                "{}: ours valid={}, jaxp {:?}",
                c.label,
                c.findings.is_empty(),
                theirs.get(&c.path)
            )
        })
        .collect();
    eprintln!(
        "corpus vs jaxp: {} documents, {} mismatches",
        checked.len(),
        mismatches.len()
    );
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(checked.len() > 800);
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
