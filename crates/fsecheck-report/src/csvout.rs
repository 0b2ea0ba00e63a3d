//! CSV: one row per finding (documents without findings have no row), with a header.

use crate::record::DocumentReport;
use crate::redact::Redactor;
use crate::sink::{Sink, Summary};
use std::io::{self, Write};

pub const HEADER: [&str; 14] = [
    "path", "part", "kind", "doc_type", "verdict", "rule", "severity", "stage", "line", "column",
    "xpath", "pointer", "message", "hint",
];

pub struct CsvSink<W: Write> {
    out: csv::Writer<W>,
    redact: bool,
    header: bool,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W, redact: bool) -> Self {
        CsvSink {
            out: csv::Writer::from_writer(out),
            redact,
            header: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header {
            self.header = true;
            self.out.write_record(HEADER)?;
        }
        Ok(())
    }
}

pub(crate) fn kind_name(r: &DocumentReport) -> &'static str {
    match r.kind {
        crate::record::Kind::Xml => "xml",
        crate::record::Kind::Pdf => "pdf",
        crate::record::Kind::Http => "http",
        crate::record::Kind::Other => "other",
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn record(&mut self, r: &DocumentReport) -> io::Result<()> {
        self.header()?;
        let red = Redactor::for_report(r, self.redact);
        for f in &r.findings {
            let loc = &f.location;
            let num = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
            self.out.write_record([
                r.path.as_str(),
                loc.part.as_deref().unwrap_or(""),
                kind_name(r),
                r.doc_type.as_deref().unwrap_or(""),
                r.verdict.as_str(),
                f.id.as_str(),
                f.severity.as_str(),
                f.stage.as_str(),
                &num(loc.line),
                &num(loc.column),
                loc.xpath.as_deref().unwrap_or(""),
                loc.pointer.as_deref().unwrap_or(""),
                &red.text(&f.message),
                &red.text(f.hint.as_deref().unwrap_or("")),
            ])?;
        }
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.header()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;
    use fsecheck_core::{Finding, Stage};

    #[test]
    fn one_row_per_finding_round_trips() {
        let mut buf = Vec::new();
        {
            let mut s = CsvSink::new(&mut buf, false);
            let mut a = DocumentReport::new("a,b.xml", Kind::Xml);
            a.findings.push(
                Finding::error(
                    "sch/ERRORE-1",
                    Stage::Schematron,
                    "line one\n\"quoted\", comma",
                )
                .with_line_col(3, 4),
            );
            a.findings.push(Finding::warning("w/w", Stage::Xml, "w"));
            a.finish();
            s.record(&a).unwrap();
            s.record(&DocumentReport::new("ok.xml", Kind::Xml)).unwrap();
            s.finish(&Summary::default()).unwrap();
        }
        let mut rd = csv::Reader::from_reader(buf.as_slice());
        assert_eq!(rd.headers().unwrap().iter().collect::<Vec<_>>(), HEADER);
        let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][0], "a,b.xml");
        assert_eq!(&rows[0][5], "sch/ERRORE-1");
        assert_eq!(&rows[0][8], "3");
        assert_eq!(&rows[0][12], "line one\n\"quoted\", comma");
        assert_eq!(&rows[1][6], "warning");
    }
}
