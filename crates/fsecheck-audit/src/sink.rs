//! The audit as a report sink: `check`'s run loop (or `merge`) feeds it every record; at the end it
//! writes `audit.csv`, `audit.json` and `audit.html` and, if asked, the human table.

use crate::Audit;
use fsecheck_report::{DocumentReport, Sink, Summary};
use std::io::{self, Write};
use std::path::PathBuf;

pub struct AuditSink {
    audit: Audit,
    dir: PathBuf,
    table: Option<Box<dyn Write>>,
}

impl AuditSink {
    /// Writes into `dir` at the end; `table` (e.g. standard output) gets the human table of the
    /// line over every document and where the files are.
    pub fn new(dir: impl Into<PathBuf>, table: Option<Box<dyn Write>>) -> Self {
        AuditSink {
            audit: Audit::default(),
            dir: dir.into(),
            table,
        }
    }
}

impl Sink for AuditSink {
    fn record(&mut self, report: &DocumentReport) -> io::Result<()> {
        self.audit.add(report);
        Ok(())
    }

    fn reads_finding_text(&self) -> bool {
        false
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.audit.write(&self.dir)?;
        if let Some(out) = self.table.as_mut() {
            out.write_all(self.audit.table().as_bytes())?;
            let d = self.dir.display();
            writeln!(
                out,
                "  written: {d}/audit.csv, {d}/audit.json, {d}/audit.html"
            )?;
            out.flush()?;
        }
        Ok(())
    }
}
