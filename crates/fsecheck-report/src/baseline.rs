//! Baselines, in the style of ESLint's bulk suppressions: `--write-baseline FILE` records the
//! current warnings and errors by (project path, rule id, fingerprint); `--baseline FILE` hides
//! exactly those findings, so only new ones are reported and counted.

use crate::fingerprint::{fingerprints, ProjectPaths};
use crate::record::DocumentReport;
use crate::sink::{Sink, Summary};
use fsecheck_core::Severity;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use std::io;
use std::path::{Path, PathBuf};

pub const BASELINE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub path: String,
    pub rule: String,
    pub fingerprint: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    entries: Vec<Entry>,
}

/// The findings a baseline records: warnings and errors.
fn recorded(s: Severity) -> bool {
    s >= Severity::Warning
}

/// A loaded baseline.
#[derive(Debug, Default)]
pub struct Baseline {
    entries: HashSet<Entry>,
    paths: ProjectPaths,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
        let file: File = serde_json::from_str(&text)
            .map_err(|e| format!("invalid baseline {}: {e}", path.display()))?;
        if file.version != BASELINE_VERSION {
            return Err(format!(
                "baseline {}: version {} is not supported (expected {BASELINE_VERSION})",
                path.display(),
                file.version
            ));
        }
        Ok(Baseline {
            entries: file.entries.into_iter().collect(),
            paths: ProjectPaths::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Remove the recorded findings from `report` and recompute its verdict; the number hidden.
    pub fn apply(&mut self, report: &mut DocumentReport) -> usize {
        if self.entries.is_empty() || report.findings.is_empty() {
            return 0;
        }
        let rel = self.paths.relative(&report.path);
        let fps = fingerprints(&rel, &report.findings);
        let before = report.findings.len();
        let mut i = 0;
        report.findings.retain(|f| {
            let fp = &fps[i];
            i += 1;
            !(recorded(f.severity)
                && self.entries.contains(&Entry {
                    path: rel.clone(),
                    rule: f.id.clone(),
                    fingerprint: fp.clone(),
                }))
        });
        let hidden = before - report.findings.len();
        if hidden > 0 {
            report.finish();
        }
        hidden
    }
}

/// The sink behind `--write-baseline`: collects entries, writes the file at the end.
pub struct BaselineWriter {
    path: PathBuf,
    entries: BTreeSet<Entry>,
    paths: ProjectPaths,
}

impl BaselineWriter {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        BaselineWriter {
            path: path.into(),
            entries: BTreeSet::new(),
            paths: ProjectPaths::new(),
        }
    }
}

impl Sink for BaselineWriter {
    fn record(&mut self, r: &DocumentReport) -> io::Result<()> {
        if !r.findings.iter().any(|f| recorded(f.severity)) {
            return Ok(());
        }
        let rel = self.paths.relative(&r.path);
        let fps = fingerprints(&rel, &r.findings);
        for (f, fp) in r.findings.iter().zip(fps) {
            if recorded(f.severity) {
                self.entries.insert(Entry {
                    path: rel.clone(),
                    rule: f.id.clone(),
                    fingerprint: fp,
                });
            }
        }
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let file = File {
            version: BASELINE_VERSION,
            entries: std::mem::take(&mut self.entries).into_iter().collect(),
        };
        let mut text = serde_json::to_string_pretty(&file)?;
        text.push('\n');
        std::fs::write(&self.path, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Kind, Verdict};
    use fsecheck_core::{Finding, Stage};

    fn doc(path: &str, findings: Vec<Finding>) -> DocumentReport {
        let mut r = DocumentReport::new(path, Kind::Xml);
        r.findings = findings;
        r.finish();
        r
    }

    #[test]
    fn round_trip_hides_exactly_the_recorded_findings() {
        let dir = std::env::temp_dir().join(format!("fsecheck-bl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("baseline.json");
        let e1 = Finding::error("sch/ERRORE-1", Stage::Schematron, "e").with_xpath("/a[1]");
        let w1 = Finding::warning("sch/W001", Stage::Schematron, "w").with_xpath("/a[1]/b[1]");
        let i1 = Finding::info("x/i", Stage::Xml, "i");
        let mut w = BaselineWriter::new(&file);
        w.record(&doc("a.xml", vec![e1.clone(), w1.clone(), i1.clone()]))
            .unwrap();
        w.finish(&Summary::default()).unwrap();
        let mut b = Baseline::load(&file).unwrap();
        assert_eq!(b.len(), 2, "info findings are not recorded");
        // Same findings plus a new one, and a second copy of a recorded one.
        let e2 = Finding::error("sch/ERRORE-2", Stage::Schematron, "new").with_xpath("/a[1]");
        let mut r = doc(
            "a.xml",
            vec![e1.clone(), w1.clone(), i1.clone(), e2.clone(), e1.clone()],
        );
        assert_eq!(b.apply(&mut r), 2);
        let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, vec!["x/i", "sch/ERRORE-2", "sch/ERRORE-1"]);
        assert_eq!(r.verdict, Verdict::Fail);
        // Another file with the same findings is not hidden.
        let mut other = doc("b.xml", vec![e1.clone()]);
        assert_eq!(b.apply(&mut other), 0);
        // All hidden: the verdict becomes pass.
        let mut r = doc("a.xml", vec![e1, w1]);
        assert_eq!(b.apply(&mut r), 2);
        assert_eq!(r.verdict, Verdict::Pass);
        std::fs::write(&file, "{\"version\":9,\"entries\":[]}").unwrap();
        assert!(Baseline::load(&file).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
