//! The record written for every input: one line of JSONL.

use crate::gateway::GatewayVerdict;
use fsecheck_core::{Finding, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Bumped on any incompatible change of the record.
pub const SCHEMA_VERSION: u32 = 1;

/// What an input turned out to be, by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Xml,
    Pdf,
    Http,
    Other,
}

/// pass: no warning or error; warn: warnings only; fail: at least one error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

impl Verdict {
    pub fn of(findings: &[Finding]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Error) => Verdict::Fail,
            Some(Severity::Warning) => Verdict::Warn,
            _ => Verdict::Pass,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

/// The CDA facts a report reader needs without re-reading the document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdaSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_root: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id_extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `ClinicalDocument/id` as `root^extension`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// `ClinicalDocument/effectiveTime/@value`, as written (HL7 TS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_time: Option<String>,
    /// The first `componentOf/encompassingEncounter/id` as `root^extension`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encounter_id: Option<String>,
    /// Every `inFulfillmentOf/order/id` as `root^extension`, in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_ids: Vec<String>,
    /// The first `encompassingEncounter/location/healthCareFacility/id` as `root^extension`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<String>,
    /// The first `custodian/assignedCustodian/representedCustodianOrganization/id` as
    /// `root^extension`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custodian_id: Option<String>,
}

/// The report of one input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentReport {
    pub schema_version: u32,
    pub path: String,
    pub kind: Kind,
    #[serde(default)]
    pub size: u64,
    /// Key of the document type (`LDO`, `VPS`, …), by first templateId root.
    pub doc_type: Option<String>,
    /// The schematron file applied (or that the gateway would apply).
    pub schematron: Option<String>,
    /// The schema set, by `typeId/@extension`.
    pub schema_set: Option<String>,
    pub verdict: Verdict,
    pub gateway: Option<GatewayVerdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cda: Option<CdaSummary>,
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<serde_json::Value>,
    /// PDF container facts: PDF/A claim, revisions, modification, CDA extraction, and the two
    /// signature lenses (`gateway`, `ades`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf: Option<serde_json::Value>,
    #[serde(default)]
    pub timing_ms: BTreeMap<String, f64>,
    /// The checked text, kept in memory for source snippets; never serialized.
    #[serde(skip)]
    pub source: Option<Arc<str>>,
    /// This record as JSON (`serde_json::to_vec` of it), when the engine had it without
    /// serializing (a record cache hit). It describes the record exactly as the engine returned
    /// it: whoever changes the record must drop it, so the run loop takes it out first thing.
    #[serde(skip)]
    pub rendered: Option<Box<[u8]>>,
}

impl DocumentReport {
    pub fn new(path: impl Into<String>, kind: Kind) -> Self {
        DocumentReport {
            schema_version: SCHEMA_VERSION,
            path: path.into(),
            kind,
            size: 0,
            doc_type: None,
            schematron: None,
            schema_set: None,
            verdict: Verdict::Pass,
            gateway: None,
            cda: None,
            findings: Vec::new(),
            signatures: Vec::new(),
            pdf: None,
            timing_ms: BTreeMap::new(),
            source: None,
            rendered: None,
        }
    }

    /// Recompute the verdict from the findings.
    pub fn finish(&mut self) {
        self.verdict = Verdict::of(&self.findings);
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}
