//! GitLab Code Quality: a JSON array of `{description, check_name, fingerprint, severity,
//! location: {path, lines: {begin}}}`, one object per warning or error, written as records come.
//!
//! Paths are project-relative and fingerprints come from [`crate::fingerprint`]: stable across
//! runs, machines and working folders.

use crate::fingerprint::{fingerprints, ProjectPaths};
use crate::record::DocumentReport;
use crate::redact::Redactor;
use crate::sink::{Sink, Summary};
use fsecheck_core::Severity;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Issue<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    description: String,
    check_name: &'a str,
    fingerprint: &'a str,
    severity: &'static str,
    categories: [&'static str; 1],
    location: Location<'a>,
}

pub struct GitlabSink<W: Write> {
    out: W,
    redact: bool,
    first: bool,
    paths: ProjectPaths,
}

impl<W: Write> GitlabSink<W> {
    pub fn new(out: W, redact: bool) -> Self {
        GitlabSink {
            out,
            redact,
            first: true,
            paths: ProjectPaths::new(),
        }
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}

impl<W: Write> Sink for GitlabSink<W> {
    fn record(&mut self, r: &DocumentReport) -> io::Result<()> {
        if r.findings.iter().all(|f| f.severity == Severity::Info) {
            return Ok(());
        }
        let red = Redactor::for_report(r, self.redact);
        let rel = self.paths.relative(&r.path);
        let fps = fingerprints(&rel, &r.findings);
        for (f, fp) in r.findings.iter().zip(&fps) {
            if f.severity == Severity::Info {
                continue;
            }
            let mut description = format!("{}: {}", f.id, red.text(&f.message));
            if let Some(part) = &f.location.part {
                description.push_str(&format!(" (in {part})"));
            }
            let issue = Issue {
                kind: "issue",
                description,
                check_name: &f.id,
                fingerprint: fp,
                severity: severity(f.severity),
                categories: ["Compatibility"],
                location: Location {
                    path: &rel,
                    lines: Lines {
                        begin: f.location.line.unwrap_or(1),
                    },
                },
            };
            self.out
                .write_all(if self.first { b"[\n" } else { b",\n" })?;
            self.first = false;
            serde_json::to_writer(&mut self.out, &issue)?;
        }
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"[]\n" } else { b"\n]\n" })?;
        self.first = false;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;
    use fsecheck_core::{Finding, Stage};

    #[test]
    fn writes_a_json_array_of_issues() {
        let mut buf = Vec::new();
        let mut s = GitlabSink::new(&mut buf, true);
        let mut a = DocumentReport::new("a.xml", Kind::Xml);
        a.findings.push(
            Finding::error("sch/ERRORE-1", Stage::Schematron, "RSSMRA80A01H501U")
                .with_line_col(3, 4),
        );
        a.findings.push(Finding::info("i/i", Stage::Xml, "i"));
        a.findings.push(Finding::warning("w/w", Stage::Xml, "w"));
        s.record(&a).unwrap();
        s.record(&DocumentReport::new("b.xml", Kind::Xml)).unwrap();
        s.finish(&Summary::default()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        let issues = v.as_array().unwrap();
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0]["severity"], "major");
        assert_eq!(issues[0]["location"]["lines"]["begin"], 3);
        assert!(issues[0]["location"]["path"]
            .as_str()
            .unwrap()
            .ends_with("a.xml"));
        assert_eq!(issues[1]["location"]["lines"]["begin"], 1);
        assert!(!String::from_utf8_lossy(&buf).contains("RSSMRA80A01H501U"));
        let mut empty = Vec::new();
        GitlabSink::new(&mut empty, true)
            .finish(&Summary::default())
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&empty).unwrap(),
            serde_json::json!([])
        );
    }
}
