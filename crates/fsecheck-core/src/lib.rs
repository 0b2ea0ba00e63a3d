//! The finding model shared by every fsecheck stage.
//!
//! Stages (xml, xsd, schematron, terminology, pdf, signature, metadata) know nothing of each other;
//! they meet here. A stage produces [`Finding`]s whose [`Location`] carries what the stage knows —
//! usually a byte span into the checked XML text and an XPath — and the pipeline fills in the outer
//! file path, the embedded part and line:col from its line index.
//!
//! ```
//! use fsecheck_core::{Finding, Severity, Stage};
//! let f = Finding::new("xml/doctype", Severity::Error, Stage::Xml, "DOCTYPE declarations are refused")
//!     .with_span(0, 9);
//! assert_eq!(f.location.span, Some(fsecheck_core::Span { start: 0, end: 9 }));
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pipeline stage a finding comes from, in the gateway's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Input,
    Metadata,
    Pdf,
    Signature,
    Xml,
    Cda,
    Xsd,
    Schematron,
    Terminology,
    Engine,
    Internal,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Input => "input",
            Stage::Metadata => "metadata",
            Stage::Pdf => "pdf",
            Stage::Signature => "signature",
            Stage::Xml => "xml",
            Stage::Cda => "cda",
            Stage::Xsd => "xsd",
            Stage::Schematron => "schematron",
            Stage::Terminology => "terminology",
            Stage::Engine => "engine",
            Stage::Internal => "internal",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A half-open byte range `[start, end)` into the checked text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// Where a finding points. Every field is optional: an unreadable file has only a path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// The outer input file, as given on the command line (filled in by the pipeline).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The embedded part inside the input, e.g. `cda.xml` inside a PDF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// 1-based line in the checked text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column, counted in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Byte span in the checked text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// `/ClinicalDocument[1]/component[1]/…`: local names, 1-based index among same-named siblings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xpath: Option<String>,
    /// A JSON pointer, for findings on metadata or JWT claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

/// One problem (or note) about one input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id: `xml/not-well-formed`, `sch/ERRORE-5`, `term/unknown-code`, …
    pub id: String,
    pub severity: Severity,
    pub stage: Stage,
    /// The message. For schematron and gateway texts, the original Italian, verbatim.
    pub message: String,
    /// An English explanation in our own words, when the message alone is not enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub location: Location,
    /// Where the rule comes from: schematron file + version label, schema set, catalog commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Structured facts about the finding (code, codeSystem, version, …) for reports and tools.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

impl Finding {
    pub fn new(
        id: impl Into<String>,
        severity: Severity,
        stage: Stage,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            id: id.into(),
            severity,
            stage,
            message: message.into(),
            hint: None,
            location: Location::default(),
            source: None,
            details: BTreeMap::new(),
        }
    }

    pub fn error(id: impl Into<String>, stage: Stage, message: impl Into<String>) -> Self {
        Self::new(id, Severity::Error, stage, message)
    }

    pub fn warning(id: impl Into<String>, stage: Stage, message: impl Into<String>) -> Self {
        Self::new(id, Severity::Warning, stage, message)
    }

    pub fn info(id: impl Into<String>, stage: Stage, message: impl Into<String>) -> Self {
        Self::new(id, Severity::Info, stage, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_span(mut self, start: usize, end: usize) -> Self {
        self.location.span = Some(Span { start, end });
        self
    }

    pub fn with_xpath(mut self, xpath: impl Into<String>) -> Self {
        self.location.xpath = Some(xpath.into());
        self
    }

    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.location.pointer = Some(pointer.into());
        self
    }

    pub fn with_line_col(mut self, line: u32, column: u32) -> Self {
        self.location.line = Some(line);
        self.location.column = Some(column);
        self
    }

    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub fn with_detail(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_info_warning_error() {
        assert!(Severity::Info < Severity::Warning);
        assert!(Severity::Warning < Severity::Error);
    }

    #[test]
    fn finding_round_trips_through_json() {
        let f = Finding::error("sch/ERRORE-5", Stage::Schematron, "ERRORE-5| testo")
            .with_xpath("/ClinicalDocument[1]")
            .with_span(10, 20)
            .with_line_col(3, 4)
            .with_detail("code", "11502-2");
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains("\"severity\":\"error\""));
        assert!(json.contains("\"stage\":\"schematron\""));
        let back: Finding = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn empty_optional_fields_are_omitted() {
        let f = Finding::info("pdf/not-checked", Stage::Pdf, "x");
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains("hint"));
        assert!(!json.contains("details"));
        assert!(!json.contains("xpath"));
    }
}
