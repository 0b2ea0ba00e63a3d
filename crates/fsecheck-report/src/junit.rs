//! JUnit XML (quick-junit): one `testsuite` per document type, one `testcase` per document, one
//! `failure` per failing document listing its findings. No times or timestamps: the output is the
//! same on every run.

use crate::record::DocumentReport;
use crate::redact::Redactor;
use crate::sink::{FailOn, Sink, Summary};
use fsecheck_core::{Finding, Severity};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub struct JunitSink<W: Write> {
    out: W,
    redact: bool,
    fail_on: FailOn,
    suites: BTreeMap<String, TestSuite>,
}

impl<W: Write> JunitSink<W> {
    /// `fail_on`: the documents that become failures (error: documents with errors; warning:
    /// also documents with warnings; never: documents with errors still fail, as a test).
    pub fn new(out: W, redact: bool, fail_on: FailOn) -> Self {
        JunitSink {
            out,
            redact,
            fail_on,
            suites: BTreeMap::new(),
        }
    }
}

/// `path[!part][:line[:col]]`.
pub(crate) fn place(r: &DocumentReport, f: &Finding) -> String {
    let loc = &f.location;
    let mut s = r.path.clone();
    if let Some(p) = &loc.part {
        s.push('!');
        s.push_str(p);
    }
    if let Some(l) = loc.line {
        s.push_str(&format!(":{l}"));
        if let Some(c) = loc.column {
            s.push_str(&format!(":{c}"));
        }
    }
    s
}

/// One line per finding: `error sch/ERRORE-5 path:3:4 [xpath]: message`.
pub(crate) fn finding_line(r: &DocumentReport, f: &Finding, red: &Redactor) -> String {
    let mut s = format!("{} {} {}", f.severity, f.id, place(r, f));
    if let Some(x) = f
        .location
        .xpath
        .as_deref()
        .or(f.location.pointer.as_deref())
    {
        s.push_str(&format!(" {x}"));
    }
    s.push_str(": ");
    s.push_str(&red.text(&f.message));
    s
}

impl<W: Write> Sink for JunitSink<W> {
    fn record(&mut self, r: &DocumentReport) -> io::Result<()> {
        let red = Redactor::for_report(r, self.redact);
        let suite_name = r
            .doc_type
            .clone()
            .unwrap_or_else(|| crate::csvout::kind_name(r).to_string());
        let threshold = match self.fail_on {
            FailOn::Warning => Severity::Warning,
            FailOn::Error | FailOn::Never => Severity::Error,
        };
        let failing: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.severity >= threshold)
            .collect();
        let all: String = r
            .findings
            .iter()
            .map(|f| finding_line(r, f, &red) + "\n")
            .collect();
        let status = if failing.is_empty() {
            TestCaseStatus::success()
        } else {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let errors = r.count(Severity::Error);
            let warnings = r.count(Severity::Warning);
            st.set_message(format!(
                "{errors} error(s), {warnings} warning(s): {}",
                red.text(&failing[0].message)
            ));
            st.set_type(failing[0].id.clone());
            st.set_description(all.clone());
            st
        };
        let mut tc = TestCase::new(r.path.clone(), status);
        tc.set_classname(format!("fsecheck.{suite_name}"));
        tc.set_assertions(r.findings.len());
        if failing.is_empty() && !all.is_empty() {
            tc.set_system_out(all);
        }
        self.suites
            .entry(suite_name.clone())
            .or_insert_with(|| TestSuite::new(suite_name))
            .add_test_case(tc);
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let mut report = Report::new("fsecheck");
        report.add_test_suites(std::mem::take(&mut self.suites).into_values());
        report
            .serialize(&mut self.out)
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;
    use fsecheck_core::Stage;

    #[test]
    fn one_testcase_per_document_failures_list_findings() {
        let mut buf = Vec::new();
        let mut s = JunitSink::new(&mut buf, true, FailOn::Error);
        let mut a = DocumentReport::new("a.xml", Kind::Xml);
        a.doc_type = Some("LDO".into());
        a.findings.push(
            Finding::error(
                "sch/ERRORE-1",
                Stage::Schematron,
                "CF RSSMRA80A01H501U <bad>",
            )
            .with_line_col(3, 4),
        );
        a.findings
            .push(Finding::warning("sch/W001", Stage::Schematron, "w"));
        a.finish();
        let mut b = DocumentReport::new("b.xml", Kind::Xml);
        b.findings
            .push(Finding::warning("xml/utf16-without-bom", Stage::Xml, "w"));
        b.finish();
        s.record(&a).unwrap();
        s.record(&b).unwrap();
        s.finish(&Summary::default()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 2);
        let failures: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .collect();
        assert_eq!(failures.len(), 1);
        let body = failures[0].text().unwrap();
        assert!(body.contains("error sch/ERRORE-1 a.xml:3:4"), "{body}");
        assert!(body.contains("warning sch/W001"), "{body}");
        assert!(body.contains("<bad>"));
        assert!(!text.contains("RSSMRA80A01H501U"));
        assert_eq!(failures[0].attribute("type"), Some("sch/ERRORE-1"));
        assert!(!text.contains("time="), "no timings: {text}");
    }

    #[test]
    fn fail_on_warning_turns_warnings_into_failures() {
        let mut buf = Vec::new();
        let mut s = JunitSink::new(&mut buf, false, FailOn::Warning);
        let mut b = DocumentReport::new("b.xml", Kind::Xml);
        b.findings.push(Finding::warning("x/w", Stage::Xml, "w"));
        b.finish();
        s.record(&b).unwrap();
        s.finish(&Summary::default()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.matches("<failure").count(), 1, "{text}");
    }
}
