//! Test helpers: the shared corpus, CDA facts from XML (roxmltree, test-only), token building.
#![allow(dead_code)]

use base64::Engine;
use fsecheck_core::Finding;
use fsecheck_metadata::{CdaFacts, PatientId};
use std::path::PathBuf;

pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

pub fn gateway_tests() -> PathBuf {
    shared().join("corpus/gateway-tests")
}

/// CdaFacts the way the gateway sees the CDA: first `code` element in document order,
/// every `patientRole/id`, `ClinicalDocument/effectiveTime/@value`.
pub fn cda_facts(xml: &str) -> CdaFacts {
    let doc = roxmltree::Document::parse(xml).expect("CDA parses");
    let first_code = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "code");
    let patient_ids = doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "patientRole")
        .flat_map(|pr| {
            pr.children()
                .filter(|c| c.is_element() && c.tag_name().name() == "id")
        })
        .map(|id| PatientId {
            root: id.attribute("root").unwrap_or("").to_string(),
            extension: id.attribute("extension").unwrap_or("").to_string(),
        })
        .collect();
    let effective_time = doc
        .root_element()
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "effectiveTime")
        .and_then(|e| e.attribute("value"))
        .map(str::to_string);
    CdaFacts {
        code: first_code.map(|c| c.attribute("code").unwrap_or("").to_string()),
        code_system: first_code
            .and_then(|c| c.attribute("codeSystem"))
            .map(str::to_string),
        patient_ids,
        effective_time,
    }
}

/// `FAKE_HEADER.<standard base64 of claims>.FAKE_SIGNATURE`, like the official kit.
pub fn token(claims: &serde_json::Value) -> String {
    let payload = base64::engine::general_purpose::STANDARD.encode(claims.to_string());
    format!("FAKE_HEADER.{payload}.FAKE_SIGNATURE")
}

pub fn blocking(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.details.get("gateway_blocking").map(String::as_str) == Some("true"))
        .collect()
}

pub fn errors(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.severity == fsecheck_core::Severity::Error)
        .collect()
}

pub fn ids(findings: &[&Finding]) -> Vec<String> {
    findings.iter().map(|f| f.id.clone()).collect()
}
