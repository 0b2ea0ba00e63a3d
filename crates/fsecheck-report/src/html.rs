//! HTML: one self-contained file (inline CSS and plain inline JS, no external assets) that opens
//! offline: the run summary, a table per document type, every document with its findings and
//! (redacted) source snippets, and filters by text, severity, verdict and document type.
//!
//! Documents are kept in memory (without their text) until the end, when the page is rendered.

use crate::record::{DocumentReport, Verdict};
use crate::redact::Redactor;
use crate::rules;
use crate::sink::{Sink, Summary};
use crate::snippet::{excerpt, Excerpt};
use fsecheck_core::Severity;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Lines of context either side of a finding in its snippet.
const SNIPPET_CONTEXT: u32 = 2;

struct FindingView {
    severity: Severity,
    id: String,
    stage: String,
    message: String,
    hint: Option<String>,
    place: String,
    xpath: Option<String>,
    snippet: Option<Excerpt>,
}

struct DocView {
    path: String,
    kind: &'static str,
    doc_type: Option<String>,
    schematron: Option<String>,
    verdict: Verdict,
    gateway: Option<bool>,
    findings: Vec<FindingView>,
}

pub struct HtmlSink<W: Write> {
    out: W,
    redact: bool,
    docs: Vec<DocView>,
}

impl<W: Write> HtmlSink<W> {
    pub fn new(out: W, redact: bool) -> Self {
        HtmlSink {
            out,
            redact,
            docs: Vec::new(),
        }
    }
}

impl<W: Write> Sink for HtmlSink<W> {
    fn record(&mut self, r: &DocumentReport) -> io::Result<()> {
        let red = Redactor::for_report(r, self.redact);
        let text = r.source.as_deref();
        let findings = r
            .findings
            .iter()
            .map(|f| {
                let loc = &f.location;
                let mut place = String::new();
                if let Some(p) = &loc.part {
                    place.push_str(p);
                }
                if let Some((l, c)) = crate::snippet::position(f, text) {
                    if !place.is_empty() {
                        place.push(' ');
                    }
                    place.push_str(&format!("{l}"));
                    if let Some(c) = c {
                        place.push_str(&format!(":{c}"));
                    }
                }
                FindingView {
                    severity: f.severity,
                    id: f.id.clone(),
                    stage: f.stage.to_string(),
                    message: red.text(&f.message).into_owned(),
                    hint: f.hint.as_deref().map(|h| red.text(h).into_owned()),
                    place,
                    xpath: loc.xpath.clone().or_else(|| loc.pointer.clone()),
                    snippet: text
                        .and_then(|t| excerpt(t, f, SNIPPET_CONTEXT))
                        .map(|mut e| {
                            for l in e.lines.iter_mut() {
                                *l = red.text(l).into_owned();
                            }
                            e
                        }),
                }
            })
            .collect();
        self.docs.push(DocView {
            path: r.path.clone(),
            kind: crate::csvout::kind_name(r),
            doc_type: r.doc_type.clone(),
            schematron: r.schematron.clone(),
            verdict: r.verdict,
            gateway: r.gateway.as_ref().map(|g| g.accepted()),
            findings,
        });
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let page = render(&self.docs, summary);
        self.out.write_all(page.into_string().as_bytes())?;
        self.out.flush()
    }
}

const CSS: &str = r#"
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#1f3a5f;color:#fff;padding:12px 24px}
header h1{margin:0;font-size:20px}
main{padding:12px 24px}
table{border-collapse:collapse;margin:8px 0 16px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4}
.filters{position:sticky;top:0;background:#fafafa;padding:8px 0;border-bottom:1px solid #d0d7de;z-index:1}
.filters label{margin-right:12px}
section.doc{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:12px 0;padding:8px 12px}
section.doc h3{margin:4px 0;font-size:15px;word-break:break-all}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff}
.pass{background:#2da44e}.warn{background:#bf8700}.fail{background:#cf222e}
.error{color:#cf222e;font-weight:600}.warning{color:#9a6700;font-weight:600}.info{color:#57606a}
pre.snippet{background:#f6f8fa;border:1px solid #d0d7de;padding:4px;margin:4px 0;overflow-x:auto;font-size:12px}
pre.snippet .hit{background:#fff1c2;display:block}
.ln{color:#8c959f;user-select:none}
.muted{color:#57606a}
code{font-size:12px}
"#;

const JS: &str = r#"
(function () {
  var q = document.getElementById('q');
  var verdict = document.getElementById('verdict');
  var doctype = document.getElementById('doctype');
  var sev = Array.prototype.slice.call(document.querySelectorAll('input[name=sev]'));
  function apply() {
    var text = q.value.toLowerCase();
    var on = {};
    sev.forEach(function (c) { on[c.value] = c.checked; });
    var shown = 0;
    document.querySelectorAll('section.doc').forEach(function (d) {
      var pathHit = text === '' || d.getAttribute('data-path').toLowerCase().indexOf(text) >= 0;
      var anyRow = false;
      d.querySelectorAll('tr.finding').forEach(function (r) {
        var ok = on[r.getAttribute('data-severity')] &&
          (pathHit || r.getAttribute('data-text').indexOf(text) >= 0);
        r.hidden = !ok;
        if (ok) { anyRow = true; }
      });
      var okDoc = (verdict.value === '' || d.getAttribute('data-verdict') === verdict.value) &&
        (doctype.value === '' || d.getAttribute('data-type') === doctype.value) &&
        (pathHit || anyRow);
      d.hidden = !okDoc;
      if (okDoc) { shown += 1; }
    });
    document.getElementById('shown').textContent = String(shown);
  }
  // A search given in the address (report.html#q=ERRORE-5) is applied on load.
  var m = /^#q=(.*)$/.exec(window.location.hash);
  if (m) { q.value = decodeURIComponent(m[1]); }
  [q, verdict, doctype].concat(sev).forEach(function (e) {
    e.addEventListener('input', apply);
    e.addEventListener('change', apply);
  });
  apply();
})();
"#;

fn verdict_badge(v: Verdict) -> Markup {
    html! { span class={"badge " (v.as_str())} { (v.as_str()) } }
}

fn snippet(e: &Excerpt) -> Markup {
    let width = (e.first_line as usize + e.lines.len()).to_string().len();
    html! {
        pre.snippet {
            @for (i, l) in e.lines.iter().enumerate() {
                @let n = e.first_line + i as u32;
                @if n == e.line {
                    span.hit { span.ln { (format!("{n:>width$} │ ")) } (l) }
                } @else {
                    span.ln { (format!("{n:>width$} │ ")) } (l) "\n"
                }
            }
        }
    }
}

#[derive(Default)]
struct TypeRow {
    documents: u64,
    pass: u64,
    warn: u64,
    fail: u64,
    errors: u64,
    warnings: u64,
}

fn render(docs: &[DocView], summary: &Summary) -> Markup {
    let mut types: BTreeMap<String, TypeRow> = BTreeMap::new();
    for d in docs {
        let key = d
            .doc_type
            .clone()
            .unwrap_or_else(|| format!("({})", d.kind));
        let row = types.entry(key).or_default();
        row.documents += 1;
        match d.verdict {
            Verdict::Pass => row.pass += 1,
            Verdict::Warn => row.warn += 1,
            Verdict::Fail => row.fail += 1,
        }
        for f in &d.findings {
            match f.severity {
                Severity::Error => row.errors += 1,
                Severity::Warning => row.warnings += 1,
                Severity::Info => {}
            }
        }
    }
    let type_key = |d: &DocView| {
        d.doc_type
            .clone()
            .unwrap_or_else(|| format!("({})", d.kind))
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "fsecheck report" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { "fsecheck report" }
                    div { "fsecheck " (env!("CARGO_PKG_VERSION")) " · offline check of FSE 2.0 documents" }
                }
                main {
                    h2 { "Summary" }
                    p id="summary" {
                        (summary.documents) " documents: "
                        span.badge.pass { (summary.pass) " pass" } " "
                        span.badge.warn { (summary.warn) " warn" } " "
                        span.badge.fail { (summary.fail) " fail" }
                        " · " (summary.errors) " errors, " (summary.warnings) " warnings, "
                        (summary.infos) " notes · gateway would accept " (summary.gateway_accepted)
                    }
                    h2 { "By document type" }
                    table id="types" {
                        thead { tr { th { "Type" } th { "Documents" } th { "Pass" } th { "Warn" } th { "Fail" } th { "Errors" } th { "Warnings" } } }
                        tbody {
                            @for (k, r) in &types {
                                tr { td { (k) } td { (r.documents) } td { (r.pass) } td { (r.warn) } td { (r.fail) } td { (r.errors) } td { (r.warnings) } }
                            }
                        }
                    }
                    @let top = summary.top_rules(10);
                    @if !top.is_empty() {
                        h2 { "Most frequent rules" }
                        table id="rules" {
                            thead { tr { th { "Rule" } th { "Findings" } } }
                            tbody {
                                @for (id, n) in &top {
                                    tr { td { a href=(rules::help_uri(id)) { code { (id) } } } td { (n) } }
                                }
                            }
                        }
                    }
                    h2 { "Documents" }
                    div.filters {
                        label { "Search " input id="q" type="search" placeholder="path, rule or message"; }
                        label { input type="checkbox" name="sev" value="error" checked; " errors" }
                        label { input type="checkbox" name="sev" value="warning" checked; " warnings" }
                        label { input type="checkbox" name="sev" value="info" checked; " notes" }
                        label { "Verdict "
                            select id="verdict" {
                                option value="" { "all" }
                                option value="fail" { "fail" }
                                option value="warn" { "warn" }
                                option value="pass" { "pass" }
                            }
                        }
                        label { "Type "
                            select id="doctype" {
                                option value="" { "all" }
                                @for k in types.keys() { option value=(k) { (k) } }
                            }
                        }
                        span.muted { span id="shown" { "?" } " of " (docs.len()) " documents shown" }
                    }
                    @for d in docs {
                        section.doc data-path=(d.path) data-verdict=(d.verdict.as_str()) data-type=(type_key(d)) {
                            h3 { (verdict_badge(d.verdict)) " " span.path { (d.path) } }
                            div.muted {
                                (d.kind)
                                @if let Some(t) = &d.doc_type { " · " (t) }
                                @if let Some(s) = &d.schematron { " · " (s) }
                                @match d.gateway {
                                    Some(true) => { " · gateway: accepted" }
                                    Some(false) => { " · gateway: rejected" }
                                    None => {}
                                }
                            }
                            @if d.findings.is_empty() {
                                p.muted { "No findings." }
                            } @else {
                                table.findings {
                                    thead { tr { th { "Severity" } th { "Rule" } th { "Where" } th { "Message" } } }
                                    tbody {
                                        @for f in &d.findings {
                                            tr.finding data-severity=(f.severity.as_str()) data-text=(format!("{} {}", f.id, f.message).to_lowercase()) {
                                                td class=(f.severity.as_str()) { (f.severity.as_str()) }
                                                td { a href=(rules::help_uri(&f.id)) { code.rule { (f.id) } } br; span.muted { (f.stage) } }
                                                td { (f.place) @if let Some(x) = &f.xpath { br; code { (x) } } }
                                                td {
                                                    div.message { (f.message) }
                                                    @if let Some(h) = &f.hint { div.muted { (h) } }
                                                    @if let Some(e) = &f.snippet { (snippet(e)) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                script { (PreEscaped(JS)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;
    use fsecheck_core::{Finding, Stage};

    #[test]
    fn page_is_self_contained_and_lists_documents() {
        let mut buf = Vec::new();
        let mut s = HtmlSink::new(&mut buf, true);
        let mut a = DocumentReport::new("a<&>.xml", Kind::Xml);
        a.doc_type = Some("LDO".into());
        a.source = Some("<a>\n<b>RSSMRA80A01H501U</b>\n</a>\n".into());
        a.findings.push(
            Finding::error(
                "sch/ERRORE-1",
                Stage::Schematron,
                "bad <b> RSSMRA80A01H501U",
            )
            .with_line_col(2, 4),
        );
        a.finish();
        let mut sum = Summary::default();
        sum.add(&a);
        s.record(&a).unwrap();
        s.record(&DocumentReport::new("ok.xml", Kind::Xml)).unwrap();
        s.finish(&sum).unwrap();
        let page = String::from_utf8(buf).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("a&lt;&amp;&gt;.xml"));
        assert!(page.contains("ok.xml"));
        assert!(page.contains("bad &lt;b&gt; [redacted]"));
        assert!(!page.contains("RSSMRA80A01H501U"));
        assert!(page.contains("class=\"hit\""));
        // Nothing is loaded from elsewhere.
        assert!(!page.contains("<link"));
        assert!(!page.contains(" src="));
        assert_eq!(page.matches("<section class=\"doc\"").count(), 2);
    }
}
