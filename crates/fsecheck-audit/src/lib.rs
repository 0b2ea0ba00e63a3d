//! Archive audit: per document type, how many documents were delivered, how many PDFs carry a
//! CDA2, how many are signed PAdES (gateway lens and AdES lens), how many pass each validation
//! stage, how many the gateway would accept, the most frequent failing rules and the median size;
//! plus one line over everything. Every column is defined in `docs/AUDIT.md`.
//!
//! The aggregation keeps counters, never records: memory does not grow with the number of
//! documents (the median size comes from [`median::SizeMedian`]).
//!
//! ```
//! use fsecheck_audit::Audit;
//! use fsecheck_report::{DocumentReport, Kind};
//! let mut audit = Audit::default();
//! let mut r = DocumentReport::new("a.xml", Kind::Xml);
//! r.doc_type = Some("LDO".into());
//! r.cda = Some(Default::default());
//! r.size = 1000;
//! audit.add(&r);
//! let rows = audit.rows();
//! assert_eq!((rows[0].row.as_str(), rows[0].documents), ("LDO", 1));
//! assert_eq!(audit.total().pct_xsd_valid, Some(100.0));
//! ```

mod html;
pub mod median;
mod sink;

pub use sink::AuditSink;

use fsecheck_core::{Severity, Stage};
use fsecheck_report::{DocumentReport, Kind, Verdict};
use median::SizeMedian;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

/// How many failing rules each row lists.
pub const TOP_RULES: usize = 10;

/// Bumped on any incompatible change of `audit.json` / `audit.csv`.
pub const AUDIT_SCHEMA_VERSION: u32 = 1;

/// The row a record is counted in. Ordered as the rows are written: document types by key, then
/// the rows of inputs without a known type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowKey {
    /// A CDA2 of a known document type (`doc_type` of the record: `LDO`, `VPS`, …).
    Type(String),
    /// A CDA2 (a `ClinicalDocument` was read) whose first templateId root is no known type.
    UnknownType,
    /// A PDF from which no CDA2 was read: no embedded CDA, an unreadable PDF, or an embedded
    /// file that is not a `ClinicalDocument`.
    NoCda,
    /// Any other input that should have been a document: XML that is not a readable
    /// `ClinicalDocument`, unsupported or empty files, unreadable paths, internal errors.
    NotCda,
    /// Not a document at all: gateway request files (`.http`) and publication-metadata sidecars.
    NotDocument,
}

impl RowKey {
    /// The record's row.
    pub fn of(r: &DocumentReport) -> RowKey {
        if let Some(t) = &r.doc_type {
            return RowKey::Type(t.clone());
        }
        if r.cda.is_some() {
            return RowKey::UnknownType;
        }
        match r.kind {
            Kind::Pdf => RowKey::NoCda,
            Kind::Http => RowKey::NotDocument,
            _ if r.findings.iter().any(|f| f.id == "input/sidecar") => RowKey::NotDocument,
            _ => RowKey::NotCda,
        }
    }

    /// Stable machine id: the type key, or `unknown-type`, `no-cda`, `not-cda`, `not-document`.
    pub fn id(&self) -> &str {
        match self {
            RowKey::Type(t) => t,
            RowKey::UnknownType => "unknown-type",
            RowKey::NoCda => "no-cda",
            RowKey::NotCda => "not-cda",
            RowKey::NotDocument => "not-document",
        }
    }

    /// Human name: the type's name in the guides, or what the row holds.
    pub fn name(&self) -> String {
        match self {
            RowKey::Type(t) => fsecheck_cda::DocType::by_key(t)
                .map(|d| d.name.to_string())
                .unwrap_or_else(|| t.clone()),
            RowKey::UnknownType => "CDA2 of unknown type".into(),
            RowKey::NoCda => "no CDA found (PDF)".into(),
            RowKey::NotCda => "not a CDA".into(),
            RowKey::NotDocument => "not a document (requests, sidecars)".into(),
        }
    }
}

/// Counters of one row.
#[derive(Debug, Clone, Default)]
struct Counters {
    documents: u64,
    xml: u64,
    pdf: u64,
    other: u64,
    pdf_cda2: u64,
    pades_gateway: u64,
    pades_ades: u64,
    cda: u64,
    xsd_valid: u64,
    schematron_valid: u64,
    terminology_valid: u64,
    stages_valid: u64,
    gateway_known: u64,
    gateway_accepted: u64,
    pass: u64,
    warn: u64,
    fail: u64,
    /// Rule id → documents with at least one error of that rule.
    failing_rules: BTreeMap<String, u64>,
    sizes: SizeMedian,
}

/// The facts of one record that the counters need, read once.
struct Facts {
    kind: Kind,
    cda: bool,
    pades_gateway: bool,
    pades_ades: bool,
    stage_errors: [bool; 3],
    gateway: Option<bool>,
    verdict: Verdict,
    failing_rules: Vec<String>,
    size: u64,
}

const STAGES: [Stage; 3] = [Stage::Xsd, Stage::Schematron, Stage::Terminology];

impl Facts {
    fn of(r: &DocumentReport) -> Facts {
        let pdf = r.pdf.as_ref();
        let pades_gateway = r.kind == Kind::Pdf
            && pdf.and_then(|p| p["gateway"]["signature_check"].as_str()) == Some("valid");
        let pades_ades = r.kind == Kind::Pdf
            && matches!(
                pdf.and_then(|p| p["ades"]["verdict"].as_str()),
                Some("pass" | "warn")
            )
            && r.signatures.iter().any(|s| {
                s["kind"].as_str() == Some("signature")
                    && s["level"].as_str().is_some_and(|l| l.starts_with("B-"))
            });
        let mut stage_errors = [false; 3];
        let mut failing_rules: Vec<String> = Vec::new();
        for f in r.findings.iter().filter(|f| f.severity == Severity::Error) {
            if let Some(i) = STAGES.iter().position(|s| *s == f.stage) {
                stage_errors[i] = true;
            }
            if !failing_rules.contains(&f.id) {
                failing_rules.push(f.id.clone());
            }
        }
        Facts {
            kind: r.kind,
            cda: r.cda.is_some(),
            pades_gateway,
            pades_ades,
            stage_errors,
            gateway: r.gateway.as_ref().map(|g| g.accepted()),
            verdict: r.verdict,
            failing_rules,
            size: r.size,
        }
    }
}

impl Counters {
    fn add(&mut self, f: &Facts) {
        self.documents += 1;
        match f.kind {
            Kind::Xml => self.xml += 1,
            Kind::Pdf => self.pdf += 1,
            Kind::Http | Kind::Other => self.other += 1,
        }
        if f.kind == Kind::Pdf && f.cda {
            self.pdf_cda2 += 1;
        }
        self.pades_gateway += u64::from(f.pades_gateway);
        self.pades_ades += u64::from(f.pades_ades);
        if f.cda {
            self.cda += 1;
            let [xsd, sch, term] = f.stage_errors;
            self.xsd_valid += u64::from(!xsd);
            self.schematron_valid += u64::from(!sch);
            self.terminology_valid += u64::from(!term);
            self.stages_valid += u64::from(!(xsd || sch || term));
        }
        if let Some(accepted) = f.gateway {
            self.gateway_known += 1;
            self.gateway_accepted += u64::from(accepted);
        }
        match f.verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Warn => self.warn += 1,
            Verdict::Fail => self.fail += 1,
        }
        for id in &f.failing_rules {
            *self.failing_rules.entry(id.clone()).or_default() += 1;
        }
        self.sizes.add(f.size);
    }

    fn stats(&self, row: &str, name: String) -> RowStats {
        let mut top: Vec<RuleCount> = self
            .failing_rules
            .iter()
            .map(|(id, n)| RuleCount {
                id: id.clone(),
                documents: *n,
            })
            .collect();
        top.sort_by(|a, b| b.documents.cmp(&a.documents).then(a.id.cmp(&b.id)));
        top.truncate(TOP_RULES);
        RowStats {
            row: row.to_string(),
            name,
            documents: self.documents,
            xml: self.xml,
            pdf: self.pdf,
            other: self.other,
            pdf_with_cda2: self.pdf_cda2,
            pct_pdf_with_cda2: pct(self.pdf_cda2, self.pdf),
            pades_gateway: self.pades_gateway,
            pct_pades_gateway: pct(self.pades_gateway, self.pdf),
            pades_ades: self.pades_ades,
            pct_pades_ades: pct(self.pades_ades, self.pdf),
            cda_checked: self.cda,
            xsd_valid: self.xsd_valid,
            pct_xsd_valid: pct(self.xsd_valid, self.cda),
            schematron_valid: self.schematron_valid,
            pct_schematron_valid: pct(self.schematron_valid, self.cda),
            terminology_valid: self.terminology_valid,
            pct_terminology_valid: pct(self.terminology_valid, self.cda),
            all_stages_valid: self.stages_valid,
            pct_all_stages_valid: pct(self.stages_valid, self.cda),
            gateway_known: self.gateway_known,
            gateway_accepted: self.gateway_accepted,
            pct_gateway_accepted: pct(self.gateway_accepted, self.gateway_known),
            pass: self.pass,
            warn: self.warn,
            fail: self.fail,
            median_size: self.sizes.median(),
            median_size_exact: self.sizes.is_exact(),
            top_failing_rules: top,
        }
    }
}

/// `100 · part / whole`, rounded to one decimal; `None` when `whole` is 0.
pub fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// A rule and the number of documents with at least one error of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub id: String,
    pub documents: u64,
}

/// One row of the audit, as written to `audit.csv` / `audit.json` (see `docs/AUDIT.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowStats {
    pub row: String,
    pub name: String,
    pub documents: u64,
    pub xml: u64,
    pub pdf: u64,
    pub other: u64,
    pub pdf_with_cda2: u64,
    pub pct_pdf_with_cda2: Option<f64>,
    pub pades_gateway: u64,
    pub pct_pades_gateway: Option<f64>,
    pub pades_ades: u64,
    pub pct_pades_ades: Option<f64>,
    pub cda_checked: u64,
    pub xsd_valid: u64,
    pub pct_xsd_valid: Option<f64>,
    pub schematron_valid: u64,
    pub pct_schematron_valid: Option<f64>,
    pub terminology_valid: u64,
    pub pct_terminology_valid: Option<f64>,
    pub all_stages_valid: u64,
    pub pct_all_stages_valid: Option<f64>,
    pub gateway_known: u64,
    pub gateway_accepted: u64,
    pub pct_gateway_accepted: Option<f64>,
    pub pass: u64,
    pub warn: u64,
    pub fail: u64,
    pub median_size: Option<f64>,
    pub median_size_exact: bool,
    pub top_failing_rules: Vec<RuleCount>,
}

/// The running audit.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    rows: BTreeMap<RowKey, Counters>,
    all: Counters,
}

impl Audit {
    pub fn add(&mut self, r: &DocumentReport) {
        let facts = Facts::of(r);
        self.rows.entry(RowKey::of(r)).or_default().add(&facts);
        self.all.add(&facts);
    }

    pub fn documents(&self) -> u64 {
        self.all.documents
    }

    /// One row per document type seen (by key), then the rows without a known type that have
    /// documents.
    pub fn rows(&self) -> Vec<RowStats> {
        self.rows
            .iter()
            .map(|(k, c)| c.stats(k.id(), k.name()))
            .collect()
    }

    /// The line over every document.
    pub fn total(&self) -> RowStats {
        self.all.stats("all", "all documents".into())
    }

    /// `audit.csv`, `audit.json` and `audit.html` in `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let rows = self.rows();
        let total = self.total();
        let mut csv = io::BufWriter::new(std::fs::File::create(dir.join("audit.csv"))?);
        write_csv(&mut csv, &rows, &total)?;
        csv.flush()?;
        let mut json = io::BufWriter::new(std::fs::File::create(dir.join("audit.json"))?);
        write_json(&mut json, &rows, &total)?;
        json.flush()?;
        let page = html::render(&rows, &total);
        std::fs::write(dir.join("audit.html"), page.into_string())
    }

    /// A short human table of the line over every document.
    pub fn table(&self) -> String {
        let t = self.total();
        let mut out = String::new();
        let mut line = |what: &str, n: u64, of: u64, p: Option<f64>| {
            let p = p.map_or("—".to_string(), |p| format!("{p:.1} %"));
            out.push_str(&format!("  {what:<34} {n:>9} of {of:>9}  {p:>7}\n"));
        };
        line(
            "PDFs carrying a CDA2",
            t.pdf_with_cda2,
            t.pdf,
            t.pct_pdf_with_cda2,
        );
        line(
            "PDFs signed PAdES (gateway lens)",
            t.pades_gateway,
            t.pdf,
            t.pct_pades_gateway,
        );
        line(
            "PDFs signed PAdES (AdES lens)",
            t.pades_ades,
            t.pdf,
            t.pct_pades_ades,
        );
        line(
            "CDA2 valid: XSD",
            t.xsd_valid,
            t.cda_checked,
            t.pct_xsd_valid,
        );
        line(
            "CDA2 valid: schematron",
            t.schematron_valid,
            t.cda_checked,
            t.pct_schematron_valid,
        );
        line(
            "CDA2 valid: terminology",
            t.terminology_valid,
            t.cda_checked,
            t.pct_terminology_valid,
        );
        line(
            "gateway would accept",
            t.gateway_accepted,
            t.gateway_known,
            t.pct_gateway_accepted,
        );
        let median = t.median_size.map_or("—".to_string(), |m| {
            format!(
                "{}{}",
                fmt_num(m),
                if t.median_size_exact {
                    ""
                } else {
                    " (±0.55 %)"
                }
            )
        });
        format!(
            "audit of {} documents ({} PDF, {} XML, {} other):\n{out}  median size {median} bytes\n",
            t.documents, t.pdf, t.xml, t.other
        )
    }
}

/// A number without a trailing `.0`.
fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(fmt_num).unwrap_or_default()
}

/// The CSV columns, in order (the same names as the JSON fields).
pub const CSV_COLUMNS: &[&str] = &[
    "row",
    "name",
    "documents",
    "xml",
    "pdf",
    "other",
    "pdf_with_cda2",
    "pct_pdf_with_cda2",
    "pades_gateway",
    "pct_pades_gateway",
    "pades_ades",
    "pct_pades_ades",
    "cda_checked",
    "xsd_valid",
    "pct_xsd_valid",
    "schematron_valid",
    "pct_schematron_valid",
    "terminology_valid",
    "pct_terminology_valid",
    "all_stages_valid",
    "pct_all_stages_valid",
    "gateway_known",
    "gateway_accepted",
    "pct_gateway_accepted",
    "pass",
    "warn",
    "fail",
    "median_size",
    "median_size_exact",
    "top_failing_rules",
];

fn csv_fields(s: &RowStats) -> Vec<String> {
    let n = |v: u64| v.to_string();
    vec![
        s.row.clone(),
        s.name.clone(),
        n(s.documents),
        n(s.xml),
        n(s.pdf),
        n(s.other),
        n(s.pdf_with_cda2),
        fmt_opt(s.pct_pdf_with_cda2),
        n(s.pades_gateway),
        fmt_opt(s.pct_pades_gateway),
        n(s.pades_ades),
        fmt_opt(s.pct_pades_ades),
        n(s.cda_checked),
        n(s.xsd_valid),
        fmt_opt(s.pct_xsd_valid),
        n(s.schematron_valid),
        fmt_opt(s.pct_schematron_valid),
        n(s.terminology_valid),
        fmt_opt(s.pct_terminology_valid),
        n(s.all_stages_valid),
        fmt_opt(s.pct_all_stages_valid),
        n(s.gateway_known),
        n(s.gateway_accepted),
        fmt_opt(s.pct_gateway_accepted),
        n(s.pass),
        n(s.warn),
        n(s.fail),
        fmt_opt(s.median_size),
        s.median_size_exact.to_string(),
        s.top_failing_rules
            .iter()
            .map(|r| format!("{} ({})", r.id, r.documents))
            .collect::<Vec<_>>()
            .join("; "),
    ]
}

/// One header line, one line per row, the `all` line last.
pub fn write_csv<W: Write>(out: W, rows: &[RowStats], total: &RowStats) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_COLUMNS)?;
    for s in rows.iter().chain(std::iter::once(total)) {
        w.write_record(csv_fields(s))?;
    }
    w.flush()
}

/// `{"schema_version", "tool", "version", "median": {...}, "rows": [...], "all": {...}}`.
pub fn write_json<W: Write>(mut out: W, rows: &[RowStats], total: &RowStats) -> io::Result<()> {
    let doc = serde_json::json!({
        "schema_version": AUDIT_SCHEMA_VERSION,
        "tool": "fsecheck",
        "version": env!("CARGO_PKG_VERSION"),
        "median": {
            "exact_up_to": median::EXACT_LIMIT,
            "relative_error_beyond": median::RELATIVE_ERROR,
        },
        "rows": rows,
        "all": total,
    });
    serde_json::to_writer_pretty(&mut out, &doc)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests;
