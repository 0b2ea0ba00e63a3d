//! The human sink: grouped per document, source snippets (miette) with line:col, the gateway
//! verdict line, and a closing summary.

use crate::record::{DocumentReport, Verdict};
use crate::sink::{Sink, Summary};
use fsecheck_core::{Finding, Severity};
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use std::fmt;
use std::io::{self, Write};

/// Lines longer than this are shown as a trimmed excerpt instead of a full snippet.
const MAX_SNIPPET_LINE: usize = 400;

pub struct HumanSink<W: Write> {
    out: W,
    color: bool,
    quiet: bool,
    handler: GraphicalReportHandler,
}

impl<W: Write> HumanSink<W> {
    /// `color`: ANSI colours (the caller decides: a TTY and no `NO_COLOR`).
    /// `quiet`: only documents with warnings or errors, and the summary.
    pub fn new(out: W, color: bool, quiet: bool) -> Self {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_context_lines(1)
            .with_width(120)
            .with_links(false);
        HumanSink {
            out,
            color,
            quiet,
            handler,
        }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

struct Snippet<'a> {
    finding: &'a Finding,
    text: &'a str,
    start: usize,
    len: usize,
}

impl fmt::Debug for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.id)
    }
}

impl fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for Snippet<'_> {}

impl Diagnostic for Snippet<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.finding.id))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.finding
            .hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.text as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = self.finding.location.xpath.clone();
        Some(Box::new(std::iter::once(LabeledSpan::new(
            label, self.start, self.len,
        ))))
    }
}

fn line_bounds(text: &str, offset: usize) -> (usize, usize) {
    let start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |p| offset + p);
    (start, end)
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

impl<W: Write> HumanSink<W> {
    fn finding(&mut self, r: &DocumentReport, f: &Finding) -> io::Result<()> {
        let loc = &f.location;
        let mut place = r.path.clone();
        if let Some(part) = &loc.part {
            place.push('!');
            place.push_str(part);
        }
        if let (Some(l), Some(c)) = (loc.line, loc.column) {
            place.push_str(&format!(":{l}:{c}"));
        }
        let text = r.source.as_deref();
        if let (Some(text), Some(span)) = (text, loc.span) {
            if span.start <= text.len() && text.is_char_boundary(span.start.min(text.len())) {
                let (ls, le) = line_bounds(text, span.start);
                if le - ls <= MAX_SNIPPET_LINE {
                    // Underline the start tag (or the span) on its own line only.
                    let end = span.end.min(le).max(span.start);
                    let mut len = end - span.start;
                    while !text.is_char_boundary(span.start + len) {
                        len -= 1;
                    }
                    let snippet = Snippet {
                        finding: f,
                        text,
                        start: span.start,
                        len,
                    };
                    let mut s = String::new();
                    if self.handler.render_report(&mut s, &snippet).is_ok() {
                        writeln!(self.out, "  {place}")?;
                        for line in s.lines() {
                            writeln!(self.out, "  {line}")?;
                        }
                        return Ok(());
                    }
                }
            }
        }
        let sev = severity_word(f.severity);
        let sev = match f.severity {
            Severity::Error => self.paint("31;1", sev),
            Severity::Warning => self.paint("33;1", sev),
            Severity::Info => self.paint("36", sev),
        };
        writeln!(self.out, "  {sev}[{}]: {}", f.id, f.message)?;
        writeln!(self.out, "    --> {place}")?;
        if let Some(x) = &loc.xpath {
            writeln!(self.out, "    at {x}")?;
        }
        if let Some(p) = loc.pointer.as_ref().filter(|p| !p.is_empty()) {
            writeln!(self.out, "    at {p}")?;
        }
        if let Some(line) = f.details.get("line_text") {
            writeln!(self.out, "    | {line}")?;
        }
        if let Some(h) = &f.hint {
            writeln!(self.out, "    help: {h}")?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for HumanSink<W> {
    fn record(&mut self, r: &DocumentReport) -> io::Result<()> {
        if self.quiet && r.verdict == Verdict::Pass {
            return Ok(());
        }
        let verdict = match r.verdict {
            Verdict::Pass => self.paint("32;1", "PASS"),
            Verdict::Warn => self.paint("33;1", "WARN"),
            Verdict::Fail => self.paint("31;1", "FAIL"),
        };
        let mut facts = Vec::new();
        if let Some(t) = &r.doc_type {
            facts.push(t.clone());
        }
        if let Some(s) = &r.schematron {
            facts.push(s.clone());
        }
        if let Some(g) = &r.gateway {
            facts.push(format!("gateway: {}", g.summary()));
        }
        writeln!(self.out, "{verdict} {}  {}", r.path, facts.join(" · "))?;
        let shown: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| !self.quiet || f.severity > Severity::Info)
            .collect();
        for f in shown {
            self.finding(r, f)?;
        }
        if r.verdict != Verdict::Pass {
            writeln!(self.out)?;
        }
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        writeln!(
            self.out,
            "{} documents: {} pass, {} warn, {} fail · {} errors, {} warnings · gateway would accept {} · {:.2} s, {:.1} docs/s",
            s.documents,
            s.pass,
            s.warn,
            s.fail,
            s.errors,
            s.warnings,
            s.gateway_accepted,
            s.elapsed_ms / 1000.0,
            s.docs_per_second()
        )?;
        let top = s.top_rules(5);
        if !top.is_empty() {
            let list: Vec<String> = top.iter().map(|(id, n)| format!("{id} ({n})")).collect();
            writeln!(self.out, "top rules: {}", list.join(", "))?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;
    use fsecheck_core::Stage;
    use std::sync::Arc;

    #[test]
    fn renders_snippet_for_short_lines_and_excerpt_for_long_ones() {
        let text = "<a>\n  <b x=\"1\"/>\n</a>";
        let mut r = DocumentReport::new("doc.xml", Kind::Xml);
        r.source = Some(Arc::from(text));
        r.findings.push(
            Finding::error("sch/ERRORE-1", Stage::Schematron, "ERRORE-1| messaggio")
                .with_span(6, 16)
                .with_line_col(2, 3)
                .with_xpath("/a[1]/b[1]"),
        );
        r.finish();
        let mut out = Vec::new();
        let mut s = HumanSink::new(&mut out, false, false);
        s.record(&r).unwrap();
        let o = String::from_utf8(out).unwrap();
        assert!(o.contains("FAIL doc.xml"), "{o}");
        assert!(o.contains("doc.xml:2:3"), "{o}");
        assert!(o.contains("ERRORE-1| messaggio"), "{o}");
        assert!(o.contains("<b x=\"1\"/>"), "{o}");
        assert!(!o.contains("\x1b["), "no colour when disabled");

        let long = format!("<a>{}</a>", "x".repeat(1000));
        let mut r = DocumentReport::new("long.xml", Kind::Xml);
        r.source = Some(Arc::from(long.as_str()));
        r.findings.push(
            Finding::error("x/y", Stage::Xml, "msg")
                .with_span(0, 3)
                .with_line_col(1, 1),
        );
        r.finish();
        let mut out = Vec::new();
        HumanSink::new(&mut out, false, false).record(&r).unwrap();
        let o = String::from_utf8(out).unwrap();
        assert!(o.contains("error[x/y]: msg"), "{o}");
        assert!(o.len() < 400, "no giant snippet: {o}");
    }
}
