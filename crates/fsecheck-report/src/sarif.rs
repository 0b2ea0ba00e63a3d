//! SARIF 2.1.0 (serde-sarif types), for GitHub code scanning and other SARIF consumers.
//!
//! One run; a rule (with help text and a help URI into `docs/RULES.md`) for every rule id that
//! has a result; one result per finding with a physical location: the project-relative path, a
//! region (line/column, line 1 when the finding has no position) with a redacted source snippet
//! when the text is at hand, and for a part embedded in a PDF the part's name in the artifact
//! location's properties (`part`), as a logical location (kind `member`) and in the message.
//! Results are capped at [`MAX_RESULTS`] (GitHub keeps only that many per run): errors first,
//! then warnings, then notes; the run then carries a notification saying how many were left out.

use crate::fingerprint::{fingerprints, ProjectPaths};
use crate::record::DocumentReport;
use crate::redact::Redactor;
use crate::rules;
use crate::sink::{Sink, Summary};
use crate::snippet::excerpt;
use fsecheck_core::Severity;
use serde_sarif::sarif;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// GitHub keeps at most this many results per run.
pub const MAX_RESULTS: usize = 5000;

/// A result kept until the end, when rule indexes are known.
struct Pending {
    seq: u64,
    rule: String,
    severity: Severity,
    message: String,
    uri: String,
    part: Option<String>,
    line: u32,
    column: Option<u32>,
    snippet: Option<String>,
    fingerprint: String,
}

pub struct SarifSink<W: Write> {
    out: W,
    redact: bool,
    cap: usize,
    seq: u64,
    /// Kept results by severity (index 0 info, 1 warning, 2 error).
    kept: [Vec<Pending>; 3],
    omitted: u64,
    paths: ProjectPaths,
}

fn level_index(s: Severity) -> usize {
    match s {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Error => 2,
    }
}

/// Percent-encode a relative path for a URI reference (keeps `/`).
fn uri_path(p: &str) -> String {
    let mut s = String::with_capacity(p.len());
    for b in p.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                s.push(b as char)
            }
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

impl<W: Write> SarifSink<W> {
    pub fn new(out: W, redact: bool) -> Self {
        Self::with_cap(out, redact, MAX_RESULTS)
    }

    /// A sink keeping at most `cap` results (tests use a small cap).
    pub fn with_cap(out: W, redact: bool, cap: usize) -> Self {
        SarifSink {
            out,
            redact,
            cap,
            seq: 0,
            kept: [Vec::new(), Vec::new(), Vec::new()],
            omitted: 0,
            paths: ProjectPaths::new(),
        }
    }

    fn keep(&mut self, p: Pending) {
        let total: usize = self.kept.iter().map(Vec::len).sum();
        if total < self.cap {
            self.kept[level_index(p.severity)].push(p);
            return;
        }
        // Full: a more severe result evicts the latest of the least severe ones.
        let lowest = (0..3).find(|&i| !self.kept[i].is_empty());
        match lowest {
            Some(i) if i < level_index(p.severity) => {
                self.kept[i].pop();
                self.kept[level_index(p.severity)].push(p);
            }
            _ => {}
        }
        self.omitted += 1;
    }
}

impl<W: Write> Sink for SarifSink<W> {
    fn record(&mut self, r: &DocumentReport) -> io::Result<()> {
        if r.findings.is_empty() {
            return Ok(());
        }
        let red = Redactor::for_report(r, self.redact);
        let rel = self.paths.relative(&r.path);
        let fps = fingerprints(&rel, &r.findings);
        let text = r.source.as_deref();
        for (f, fp) in r.findings.iter().zip(fps) {
            let pos = crate::snippet::position(f, text);
            let snippet = text
                .and_then(|t| excerpt(t, f, 0))
                .map(|e| red.text(&e.text()).into_owned());
            let mut message = red.text(&f.message).into_owned();
            if let Some(part) = &f.location.part {
                message.push_str(&format!(" (in {part})"));
            }
            if let Some(x) = &f.location.xpath {
                message.push_str(&format!(" [{x}]"));
            }
            self.seq += 1;
            let p = Pending {
                seq: self.seq,
                rule: f.id.clone(),
                severity: f.severity,
                message,
                uri: uri_path(&rel),
                part: f.location.part.clone(),
                line: pos.map_or(1, |(l, _)| l.max(1)),
                column: pos.and_then(|(_, c)| c),
                snippet,
                fingerprint: fp,
            };
            self.keep(p);
        }
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let mut pending: Vec<Pending> = self.kept.iter_mut().flat_map(std::mem::take).collect();
        pending.sort_by_key(|p| p.seq);
        let mut rule_index: BTreeMap<String, usize> = BTreeMap::new();
        let mut rule_ids: Vec<String> = Vec::new();
        for p in &pending {
            if !rule_index.contains_key(&p.rule) {
                rule_index.insert(p.rule.clone(), rule_ids.len());
                rule_ids.push(p.rule.clone());
            }
        }
        let descriptors: Vec<sarif::ReportingDescriptor> = rule_ids
            .iter()
            .map(|id| {
                let help = rules::help_text(id);
                let uri = rules::help_uri(id);
                let level = rules::lookup(id).map(|r| r.severity);
                let mut d = sarif::ReportingDescriptor::builder()
                    .id(id.clone())
                    .short_description(
                        sarif::MultiformatMessageString::builder()
                            .text(id.clone())
                            .build(),
                    )
                    .full_description(
                        sarif::MultiformatMessageString::builder()
                            .text(help.clone())
                            .build(),
                    )
                    .help(
                        sarif::MultiformatMessageString::builder()
                            .text(format!("{help} See {uri}"))
                            .markdown(format!("{help}\n\n[Documentation]({uri})"))
                            .build(),
                    )
                    .help_uri(uri)
                    .build();
                if let Some(s) = level {
                    d.default_configuration = Some(
                        sarif::ReportingConfiguration::builder()
                            .level(serde_json::json!(level_name(s)))
                            .build(),
                    );
                }
                d
            })
            .collect();
        let results: Vec<sarif::Result> = pending
            .into_iter()
            .map(|p| {
                let mut region = sarif::Region::builder().start_line(p.line as i64).build();
                region.start_column = p.column.map(|c| c as i64);
                region.snippet = p
                    .snippet
                    .map(|s| sarif::ArtifactContent::builder().text(s).build());
                let fqn = format!("{}/{}", p.uri, p.part.as_deref().unwrap_or(""));
                let mut artifact = sarif::ArtifactLocation::builder()
                    .uri(p.uri)
                    .uri_base_id("%SRCROOT%")
                    .build();
                let mut logical = None;
                if let Some(part) = p.part {
                    let mut bag = sarif::PropertyBag::builder().build();
                    bag.additional_properties
                        .insert("part".into(), serde_json::json!(part));
                    artifact.properties = Some(bag);
                    // The embedded file, as a member of the container.
                    logical = Some(vec![sarif::LogicalLocation::builder()
                        .name(part)
                        .kind("member")
                        .fully_qualified_name(fqn)
                        .build()]);
                }
                let mut location = sarif::Location::builder()
                    .physical_location(
                        sarif::PhysicalLocation::builder()
                            .artifact_location(artifact)
                            .region(region)
                            .build(),
                    )
                    .build();
                location.logical_locations = logical;
                let mut fps = BTreeMap::new();
                fps.insert("fsecheck/v1".to_string(), p.fingerprint);
                sarif::Result::builder()
                    .rule_id(p.rule.clone())
                    .rule_index(rule_index[&p.rule] as i64)
                    .level(result_level(p.severity))
                    .message(sarif::Message::builder().text(p.message).build())
                    .locations(vec![location])
                    .partial_fingerprints(fps)
                    .build()
            })
            .collect();
        let driver = sarif::ToolComponent::builder()
            .name("fsecheck")
            .version(env!("CARGO_PKG_VERSION"))
            .information_uri(rules::DOCS_URL)
            .rules(descriptors)
            .build();
        let mut invocation = sarif::Invocation::builder()
            .execution_successful(true)
            .build();
        if self.omitted > 0 {
            invocation.tool_execution_notifications = Some(vec![sarif::Notification::builder()
                .level(serde_json::json!("warning"))
                .message(
                    sarif::Message::builder()
                        .text(format!(
                            "{} results left out: a run keeps at most {} (GitHub code scanning \
                             keeps only that many); errors were kept first. Use the json or jsonl \
                             format for every finding.",
                            self.omitted, self.cap
                        ))
                        .build(),
                )
                .build()]);
        }
        let run = sarif::Run::builder()
            .tool(driver)
            .results(results)
            .invocations(vec![invocation])
            .column_kind(serde_json::json!("unicodeCodePoints"))
            .build();
        let log = sarif::Sarif::builder()
            .version(serde_json::json!("2.1.0"))
            .schema(sarif::SCHEMA_URL)
            .runs(vec![run])
            .build();
        serde_json::to_writer_pretty(&mut self.out, &log)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

fn level_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn result_level(s: Severity) -> sarif::ResultLevel {
    match s {
        Severity::Error => sarif::ResultLevel::Error,
        Severity::Warning => sarif::ResultLevel::Warning,
        Severity::Info => sarif::ResultLevel::Note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;
    use fsecheck_core::{Finding, Stage};

    fn log(buf: &[u8]) -> sarif::Sarif {
        serde_json::from_slice(buf).unwrap()
    }

    #[test]
    fn results_have_rules_regions_and_redacted_snippets() {
        let mut buf = Vec::new();
        let mut s = SarifSink::new(&mut buf, true);
        let mut a = DocumentReport::new("dir/a b.xml", Kind::Xml);
        a.source = Some("<a>\n<id extension=\"RSSMRA80A01H501U\"/>\n</a>".into());
        a.findings.push(
            Finding::error(
                "sch/ERRORE-1",
                Stage::Schematron,
                "CF RSSMRA80A01H501U errato",
            )
            .with_span(4, 10)
            .with_xpath("/a[1]/id[1]"),
        );
        a.findings
            .push(Finding::info("pdf/not-checked", Stage::Pdf, "not checked"));
        let mut p = DocumentReport::new("x.pdf", Kind::Pdf);
        let mut f = Finding::warning("xml/utf16-without-bom", Stage::Xml, "w").with_line_col(7, 2);
        f.location.part = Some("cda.xml".into());
        p.findings.push(f);
        s.record(&a).unwrap();
        s.record(&p).unwrap();
        s.finish(&Summary::default()).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(!text.contains("RSSMRA80A01H501U"), "{text}");
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let l = log(&buf);
        let run = &l.runs[0];
        let rules = run.tool.driver.rules.as_ref().unwrap();
        let results = run.results.as_ref().unwrap();
        assert_eq!(results.len(), 3);
        for r in results {
            let id = r.rule_id.as_ref().unwrap();
            let idx = r.rule_index.unwrap() as usize;
            assert_eq!(&rules[idx].id, id);
            assert!(rules[idx].help_uri.as_ref().unwrap().contains("RULES.md#"));
            let loc = r.locations.as_ref().unwrap()[0]
                .physical_location
                .as_ref()
                .unwrap();
            assert!(loc.region.as_ref().unwrap().start_line.unwrap() >= 1);
        }
        let first = &results[0].locations.as_ref().unwrap()[0];
        let phys = first.physical_location.as_ref().unwrap();
        assert_eq!(
            phys.artifact_location
                .as_ref()
                .unwrap()
                .uri
                .as_deref()
                .map(|u| u.ends_with("dir/a%20b.xml")),
            Some(true)
        );
        let region = phys.region.as_ref().unwrap();
        assert_eq!(region.start_line, Some(2));
        assert_eq!(region.start_column, Some(1));
        let snip = region.snippet.as_ref().unwrap().text.as_ref().unwrap();
        assert!(snip.contains("[redacted]"), "{snip}");
        assert_eq!(
            v["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]
                ["properties"]["part"],
            "cda.xml"
        );
        assert_eq!(
            v["runs"][0]["results"][2]["locations"][0]["logicalLocations"][0]["name"],
            "cda.xml"
        );
        assert!(v["runs"][0]["invocations"][0]["toolExecutionNotifications"].is_null());
    }

    #[test]
    fn results_are_capped_errors_first_with_a_note() {
        let mut buf = Vec::new();
        let mut s = SarifSink::with_cap(&mut buf, false, 3);
        let mut a = DocumentReport::new("a.xml", Kind::Xml);
        for i in 0..4 {
            a.findings
                .push(Finding::warning("w/w", Stage::Xml, format!("w{i}")));
        }
        a.findings.push(Finding::error("e/e", Stage::Xml, "e"));
        s.record(&a).unwrap();
        s.finish(&Summary::default()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert!(results.iter().any(|r| r["ruleId"] == "e/e"));
        let note = v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]
            ["text"]
            .as_str()
            .unwrap();
        assert!(note.starts_with("2 results left out"), "{note}");
    }
}
