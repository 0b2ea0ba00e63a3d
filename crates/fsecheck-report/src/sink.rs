//! Report sinks: each receives every record once, in path order, as soon as it is ready.

use crate::record::{DocumentReport, Verdict};
use fsecheck_core::Severity;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// A destination for records.
pub trait Sink {
    fn record(&mut self, report: &DocumentReport) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
    /// [`Sink::record`] with the report already rendered as JSON (`serde_json::to_vec` of
    /// `report`, done on a worker thread). The JSON sinks write it as is; the others, and
    /// wrappers that change the report (redaction), ignore it.
    fn record_json(&mut self, report: &DocumentReport, json: &[u8]) -> io::Result<()> {
        let _ = json;
        self.record(report)
    }
    /// Does this sink read findings' texts (message, hint, location, details)? A sink that
    /// reads only their ids, severities and stages says no, and may be given records cut down
    /// to those.
    fn reads_finding_text(&self) -> bool {
        true
    }
}

/// What `--fail-on` sets: the lowest severity that makes the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

impl FailOn {
    pub fn fails(self, summary: &Summary) -> bool {
        match self {
            FailOn::Error => summary.errors > 0,
            FailOn::Warning => summary.errors + summary.warnings > 0,
            FailOn::Never => false,
        }
    }
}

/// Counters over a run; never holds records.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub documents: u64,
    pub pass: u64,
    pub warn: u64,
    pub fail: u64,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    pub gateway_accepted: u64,
    pub elapsed_ms: f64,
    pub rules: BTreeMap<String, u64>,
}

impl Summary {
    pub fn add(&mut self, r: &DocumentReport) {
        self.documents += 1;
        match r.verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Warn => self.warn += 1,
            Verdict::Fail => self.fail += 1,
        }
        for f in &r.findings {
            match f.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => self.infos += 1,
            }
            if f.severity > Severity::Info {
                *self.rules.entry(f.id.clone()).or_default() += 1;
            }
        }
        if r.gateway.as_ref().is_some_and(|g| g.accepted()) {
            self.gateway_accepted += 1;
        }
    }

    pub fn docs_per_second(&self) -> f64 {
        if self.elapsed_ms > 0.0 {
            self.documents as f64 * 1000.0 / self.elapsed_ms
        } else {
            0.0
        }
    }

    /// The most frequent rules, most first, ties by id.
    pub fn top_rules(&self, n: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.rules.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }
}

/// One JSON object per line per record; no summary line (the contract is one line per input).
pub struct JsonlSink<W: Write> {
    out: W,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W) -> Self {
        JsonlSink { out }
    }
}

impl<W: Write> Sink for JsonlSink<W> {
    fn record(&mut self, report: &DocumentReport) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, report)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn record_json(&mut self, _report: &DocumentReport, json: &[u8]) -> io::Result<()> {
        self.out.write_all(json)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

/// One JSON document: `{"schema_version", "tool", "documents": [...], "summary": {...}}`,
/// written incrementally so memory stays bounded.
pub struct JsonSink<W: Write> {
    out: W,
    first: bool,
    meta: serde_json::Value,
}

impl<W: Write> JsonSink<W> {
    /// `meta` holds run facts (tool version, catalog provenance) written before the documents.
    pub fn new(out: W, meta: serde_json::Value) -> Self {
        JsonSink {
            out,
            first: true,
            meta,
        }
    }

    fn start(&mut self) -> io::Result<()> {
        if self.first {
            self.first = false;
            write!(
                self.out,
                "{{\"schema_version\":{},\"run\":",
                crate::record::SCHEMA_VERSION
            )?;
            serde_json::to_writer(&mut self.out, &self.meta)?;
            self.out.write_all(b",\"documents\":[\n")?;
            Ok(())
        } else {
            self.out.write_all(b",\n")
        }
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn record(&mut self, report: &DocumentReport) -> io::Result<()> {
        self.start()?;
        Ok(serde_json::to_writer(&mut self.out, report)?)
    }

    fn record_json(&mut self, _report: &DocumentReport, json: &[u8]) -> io::Result<()> {
        self.start()?;
        self.out.write_all(json)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if self.first {
            self.start()?;
        }
        self.out.write_all(b"\n],\"summary\":")?;
        serde_json::to_writer(&mut self.out, summary)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;
    use fsecheck_core::{Finding, Stage};

    fn report(path: &str, severity: Option<Severity>) -> DocumentReport {
        let mut r = DocumentReport::new(path, Kind::Xml);
        if let Some(s) = severity {
            r.findings.push(Finding::new("x/y", s, Stage::Xml, "m"));
        }
        r.finish();
        r
    }

    #[test]
    fn json_sink_writes_one_valid_document() {
        let mut buf = Vec::new();
        let mut s = JsonSink::new(&mut buf, serde_json::json!({"tool": "fsecheck"}));
        let mut sum = Summary::default();
        for r in [report("a", None), report("b", Some(Severity::Error))] {
            sum.add(&r);
            s.record(&r).unwrap();
        }
        s.finish(&sum).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["documents"].as_array().unwrap().len(), 2);
        assert_eq!(v["summary"]["fail"], 1);
        // Empty run is still valid JSON.
        let mut buf = Vec::new();
        JsonSink::new(&mut buf, serde_json::json!({}))
            .finish(&Summary::default())
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert!(v["documents"].as_array().unwrap().is_empty());
    }

    #[test]
    fn fail_on_levels() {
        let mut sum = Summary::default();
        sum.add(&report("a", Some(Severity::Warning)));
        assert!(!FailOn::Error.fails(&sum));
        assert!(FailOn::Warning.fails(&sum));
        assert!(!FailOn::Never.fails(&sum));
        sum.add(&report("b", Some(Severity::Error)));
        assert!(FailOn::Error.fails(&sum));
        assert_eq!(sum.top_rules(1), vec![("x/y", 2)]);
    }
}
