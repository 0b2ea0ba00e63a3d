//! Publication metadata: `.http` request files, `X.json`/`X.jwt` sidecars beside a document, and
//! `--metadata`/`--jwt` files, all checked by `fsecheck-metadata` with the facts of the CDA.

use fsecheck_core::{Finding, Stage};
use fsecheck_metadata::{CdaFacts, Operation, PatientId, RequestInput};
use std::path::{Path, PathBuf};

/// Facts of a parsed CDA that the metadata cross-checks need (the gateway's jsoup lookups).
pub fn cda_facts(doc: &roxmltree::Document<'_>) -> CdaFacts {
    let first_code = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "code");
    let patient_ids = doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "patientRole")
        .flat_map(|r| {
            r.children()
                .filter(|c| c.is_element() && c.tag_name().name() == "id")
        })
        .map(|id| PatientId {
            root: id.attribute("root").unwrap_or_default().to_string(),
            extension: id.attribute("extension").unwrap_or_default().to_string(),
        })
        .collect();
    let root = doc.root_element();
    CdaFacts {
        code: first_code.map(|c| c.attribute("code").unwrap_or_default().to_string()),
        code_system: first_code.and_then(|c| c.attribute("codeSystem").map(str::to_string)),
        patient_ids,
        effective_time: root
            .children()
            .find(|c| c.is_element() && c.tag_name().name() == "effectiveTime")
            .and_then(|e| e.attribute("value").map(str::to_string)),
    }
}

/// A request body and/or token to check together with a document.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub body: Option<(PathBuf, String)>,
    pub jwt: Option<(PathBuf, String)>,
}

impl Metadata {
    pub fn is_empty(&self) -> bool {
        self.body.is_none() && self.jwt.is_none()
    }

    /// Sidecars beside `doc`: `X.json` (body) and `X.jwt` (token). Unreadable ones are findings.
    pub fn sidecars(doc: &Path, findings: &mut Vec<Finding>) -> Metadata {
        let s = fsecheck_metadata::discover_sidecars(doc);
        Metadata {
            body: s.body.and_then(|p| read_text(&p, findings)),
            jwt: s
                .jwt
                .and_then(|p| read_text(&p, findings).map(|(p, t)| (p, t.trim().to_string()))),
        }
    }

    /// The body as JSON, when there is one and it parses.
    fn body_json(&self) -> Option<serde_json::Value> {
        let (_, body) = self.body.as_ref()?;
        serde_json::from_str(body).ok()
    }

    /// The operation a body is for: a validation body only has the three validation fields.
    pub fn operation(&self) -> Operation {
        operation_of(self.body_json().as_ref())
    }

    /// The gateway's status for a successful answer to this request: 202 for a publication
    /// (`PublicationCTL`), 200 for a validation whose `activity` is VERIFICA (also as Jackson's
    /// enum index 0, `ActivityEnum` order), else 201 (`ValidationCTL.validate`).
    pub fn success_status(&self) -> u16 {
        let body = self.body_json();
        if operation_of(body.as_ref()) != Operation::Validation {
            return 202;
        }
        match body.as_ref().and_then(|v| v.get("activity")) {
            Some(serde_json::Value::String(a)) if a == "VERIFICA" || a == "0" => 200,
            Some(serde_json::Value::Number(n)) if n.as_u64() == Some(0) => 200,
            _ => 201,
        }
    }

    pub fn check(
        &self,
        cda: Option<&CdaFacts>,
        pdf: Option<&[u8]>,
        opts: &fsecheck_metadata::Options,
    ) -> Vec<Finding> {
        let input = RequestInput {
            operation: self.operation(),
            body: self.body.as_ref().map(|(_, b)| b.as_str()),
            jwt: self.jwt.as_ref().map(|(_, j)| j.as_str()),
            path_id_doc: None,
            cda,
            pdf,
            jwt_public_key_pem: None,
        };
        let mut out = fsecheck_metadata::check_request(&input, opts);
        for f in &mut out {
            let from = if f.id.starts_with("jwt/") {
                &self.jwt
            } else {
                &self.body
            };
            if let Some((p, _)) = from {
                f.location.part = Some(p.to_string_lossy().into_owned());
            }
        }
        out
    }
}

pub(crate) fn read_text(p: &Path, findings: &mut Vec<Finding>) -> Option<(PathBuf, String)> {
    match std::fs::read_to_string(p) {
        Ok(t) => Some((p.to_path_buf(), t)),
        Err(e) => {
            findings.push(Finding::error(
                "meta/unreadable",
                Stage::Metadata,
                format!("cannot read {}: {e}", p.display()),
            ));
            None
        }
    }
}

/// Is `path` a `.json`/`.jwt` sidecar of a document beside it?
pub fn sidecar_of(path: &Path) -> Option<PathBuf> {
    let ext = path.extension()?.to_str()?;
    if ext != "json" && ext != "jwt" {
        return None;
    }
    ["pdf", "xml", "PDF", "XML"]
        .iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.is_file())
}

/// Check every gateway request of a `.http` file. The attached PDF is hashed for the
/// `attachment_hash` check; `cda_of` extracts CDA facts from it when the build can.
pub fn check_http_file(
    path: &Path,
    opts: &fsecheck_metadata::Options,
    cda_of: &dyn Fn(&[u8]) -> Option<CdaFacts>,
) -> Vec<Finding> {
    let file = match fsecheck_metadata::parse_http_file(path) {
        Ok(f) => f,
        Err(e) => {
            return vec![Finding::error(
                "http/unreadable",
                Stage::Metadata,
                format!("cannot read the request file: {e}"),
            )]
        }
    };
    let mut out = Vec::new();
    for name in &file.unresolved {
        if name.contains(".response.") {
            // A value from an earlier request's response: only a live gateway has it.
            out.push(Finding::info(
                "http/response-variable",
                Stage::Metadata,
                format!("{{{{{name}}}}} comes from a live response and is not resolved offline"),
            ));
            continue;
        }
        out.push(
            Finding::warning(
                "http/unresolved-variable",
                Stage::Metadata,
                format!("{{{{{name}}}}} is not defined (no .env or file variable provides it)"),
            )
            .with_hint("Define it in a .env or .env-sample beside or above the request file."),
        );
    }
    let requests = file.gateway_requests();
    if requests.is_empty() {
        out.push(Finding::warning(
            "http/no-gateway-request",
            Stage::Metadata,
            "no request to a Gateway FSE 2.0 document endpoint in this file",
        ));
    }
    for (k, req) in requests.iter().enumerate() {
        let label = req
            .name
            .clone()
            .unwrap_or_else(|| format!("request {}", k + 1));
        let pdf = match req.load_attachment() {
            Some(Ok(b)) => Some(b),
            Some(Err(e)) => {
                out.push(
                    Finding::error(
                        "http/attachment-unreadable",
                        Stage::Metadata,
                        format!(
                            "{label}: cannot read the attached file {}: {e}",
                            req.attachment
                                .as_ref()
                                .map(|p| p.display().to_string())
                                .unwrap_or_default()
                        ),
                    )
                    .with_line_col(req.line as u32, 1),
                );
                None
            }
            None => None,
        };
        let facts = pdf.as_deref().and_then(cda_of);
        let input = req.to_input(facts.as_ref(), pdf.as_deref());
        for mut f in fsecheck_metadata::check_request(&input, opts) {
            f.details.insert("request".into(), label.clone());
            if f.location.line.is_none() {
                f.location.line = Some(req.line as u32);
                f.location.column = Some(1);
            }
            out.push(f);
        }
    }
    out
}

/// A body (parsed, if it parses) is for a validation when it only has the three validation
/// fields; an absent or unparseable body is treated as a validation.
fn operation_of(body: Option<&serde_json::Value>) -> Operation {
    match body {
        Some(serde_json::Value::Object(m))
            if !m
                .keys()
                .all(|k| matches!(k.as_str(), "healthDataFormat" | "mode" | "activity")) =>
        {
            Operation::Publication
        }
        Some(v) if !v.is_object() => Operation::Publication,
        _ => Operation::Validation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_body(body: &str) -> Metadata {
        Metadata {
            body: Some((PathBuf::from("x.json"), body.to_string())),
            jwt: None,
        }
    }

    #[test]
    fn success_status_follows_the_operation_and_activity() {
        assert_eq!(Metadata::default().success_status(), 201);
        assert_eq!(
            with_body(r#"{"healthDataFormat":"CDA","mode":"ATTACHMENT","activity":"VALIDATION"}"#)
                .success_status(),
            201
        );
        assert_eq!(
            with_body(r#"{"activity":"VERIFICA"}"#).success_status(),
            200
        );
        assert_eq!(with_body(r#"{"activity":0}"#).success_status(), 200);
        assert_eq!(
            with_body(
                r#"{"activity":"VALIDATION","identificativoDoc":"x","tipoDocumentoLivAlto":"REF"}"#
            )
            .success_status(),
            202
        );
    }
}
