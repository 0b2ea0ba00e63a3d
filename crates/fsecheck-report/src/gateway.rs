//! The answer the gateway would give to `POST /v1/documents/validation` for this document,
//! computed from our findings in the gateway's stage order (reference/gateway.md §1, §4, §7):
//! the first failing stage decides the HTTP status and the error type; warnings collect otherwise.
//!
//! Only findings the gateway itself would raise take part: our own lints (info findings, our
//! warnings, AdES-only signature checks) never change this verdict. A stage that knows the
//! gateway's answer better than this table may say so in the finding's details:
//! `gateway_type`, `gateway_status`, `gateway_title`, `gateway_instance`, `gateway_detail`,
//! `gateway_warning`.

use crate::record::Kind;
use fsecheck_core::{Finding, Severity, Stage};
use serde::{Deserialize, Serialize};

/// The gateway's response, as far as it can be known offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayVerdict {
    pub status: u16,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl GatewayVerdict {
    pub fn accepted(&self) -> bool {
        self.status < 300
    }

    /// One line for humans: `201 accepted` / `422 /msg/semantic Errore semantico.`
    pub fn summary(&self) -> String {
        match &self.error_type {
            None if self.warning.is_some() => format!("{} accepted with warnings", self.status),
            None => format!("{} accepted", self.status),
            Some(t) => format!(
                "{} {t} {}",
                self.status,
                self.title.as_deref().unwrap_or_default()
            )
            .trim_end()
            .to_string(),
        }
    }
}

/// What the verdict depends on besides the findings.
#[derive(Debug, Clone, Copy)]
pub struct GatewayContext {
    pub kind: Kind,
    /// For request files: whether the attached document went through the validator stages.
    pub document_checked: bool,
    /// The status of a successful answer: 201 for a validation with `activity` VALIDATION (and
    /// for documents checked without a request body), 200 for `activity` VERIFICA
    /// (`ValidationCTL.validate`; `reference/gateway.md` §1).
    pub success_status: u16,
}

impl GatewayContext {
    /// A context for `kind` whose document went through the validator, answered 201 on success.
    pub fn new(kind: Kind) -> Self {
        GatewayContext {
            kind,
            document_checked: kind != Kind::Http,
            success_status: 201,
        }
    }
}

/// The gateway's title for an error type (`RestExecutionResultEnum`).
pub fn title_of(error_type: &str) -> Option<&'static str> {
    Some(match error_type {
        "/msg/cda-element" => "Errore in fase di estrazione del CDA.",
        "/msg/validator" => "Errore di validazione",
        "/msg/syntax" => "Errore di sintassi.",
        "/msg/semantic" => "Errore semantico.",
        "/msg/vocabulary" => "Errore vocabolario.",
        "/msg/empty-file" => "File vuoto.",
        "/msg/document-type" => "Il documento non è pdf.",
        "/msg/document-hash" => "Verifica hash fallita.",
        "/msg/mandatory-element" => "Campo obbligatorio non presente.",
        "/msg/invalid-format" => "Formato campo non valido.",
        "/msg/mandatory-element-token" => "Token JWT non valido.",
        "/msg/jwt-validation" => "Campo token JWT non valido.",
        "/msg/missing-token" => "Token non fornito.",
        "/msg/id-doc" => "Campo id documento non valido",
        "/msg/generic-error" => "Errore generico.",
        "/msg/sign-error" => "/msg/sign-error",
        _ => return None,
    })
}

/// HTTP status on the validation path for an error type.
pub fn status_of(error_type: &str) -> u16 {
    match error_type {
        "/msg/semantic" => 422,
        "/msg/mandatory-element-token" | "/msg/jwt-validation" | "/msg/missing-token" => 403,
        "/msg/document-type" => 415,
        "/msg/generic-error" => 500,
        _ => 400,
    }
}

/// Where a finding's check runs in the gateway's pipeline (the numbering `fsecheck-metadata`
/// uses in `gateway_order`: JWT 10, body 20, master id 30, PDF sniff 40, PAdES 60, CDA extraction
/// 70, JWT↔CDA 80, correlation 90, validator 100–103, attachment hash 120, metadata build 130),
/// and its error type when the finding does not name one itself.
fn classify(f: &Finding) -> Option<(u16, &'static str)> {
    if f.severity != Severity::Error
        || f.details.get("gateway_blocking").map(String::as_str) == Some("false")
    {
        return None;
    }
    let explicit = f
        .details
        .get("gateway_order")
        .and_then(|o| o.parse::<u16>().ok());
    let order = explicit.unwrap_or(match f.stage {
        Stage::Metadata => 20,
        Stage::Input => 40,
        Stage::Signature => 60,
        Stage::Pdf => 70,
        Stage::Xml | Stage::Cda | Stage::Xsd => 100,
        Stage::Schematron => 101,
        Stage::Terminology => 102,
        Stage::Engine => 103,
        Stage::Internal => return None,
    });
    if f.details.contains_key("gateway_type") {
        return Some((order, ""));
    }
    let t = match (f.stage, f.id.as_str()) {
        (Stage::Cda, "cda/missing-template-id" | "cda/missing-type-id") => "/msg/generic-error",
        (Stage::Xml | Stage::Cda | Stage::Xsd, _) => "/msg/syntax",
        (Stage::Schematron, "sch/dynamic-error") => "/msg/generic-error",
        (Stage::Schematron, _) => "/msg/semantic",
        (Stage::Terminology, _) => "/msg/vocabulary",
        (Stage::Engine, _) => "/msg/validator",
        // Stages that model the gateway themselves must say so in details.
        _ => return None,
    };
    Some((order, t))
}

fn bracketed(findings: &[&Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("[{}]", f.message))
        .collect::<Vec<_>>()
        .join(",")
}

impl GatewayVerdict {
    /// Compute the verdict. `None` when the gateway's answer cannot be known (unreadable input).
    pub fn compute(findings: &[Finding], ctx: GatewayContext) -> Option<GatewayVerdict> {
        if findings
            .iter()
            .any(|f| f.severity == Severity::Error && matches!(f.stage, Stage::Internal))
            || (ctx.kind == Kind::Other && findings.iter().any(|f| f.id == "input/unreadable"))
        {
            return None;
        }
        if ctx.kind == Kind::Other {
            // The gateway takes a PDF; anything else is refused as not a PDF.
            return Some(error("/msg/document-type", None, None));
        }
        let first = findings
            .iter()
            .enumerate()
            .filter_map(|(i, f)| classify(f).map(|(order, t)| (order, i, t, f)))
            .min_by_key(|(order, i, _, _)| (*order, *i))
            .map(|(order, _, t, f)| (order, t, f));
        let sch_errors: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.stage == Stage::Schematron && f.severity == Severity::Error)
            .collect();
        let sch_warnings: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.stage == Stage::Schematron && f.severity == Severity::Warning)
            .collect();
        if let Some((order, t, f)) = first {
            let mut v = if let Some(t) = f.details.get("gateway_type") {
                let mut v = error(
                    t,
                    f.details.get("gateway_instance").cloned(),
                    Some(
                        f.details
                            .get("gateway_detail")
                            .cloned()
                            .unwrap_or_else(|| f.message.clone()),
                    ),
                );
                if let Some(s) = f.details.get("gateway_status").and_then(|s| s.parse().ok()) {
                    v.status = s;
                }
                if let Some(title) = f.details.get("gateway_title") {
                    v.title = Some(title.clone());
                }
                v
            } else {
                let detail = match (order, t) {
                    (_, "/msg/syntax") => {
                        if findings
                            .iter()
                            .any(|g| g.stage == Stage::Xml && g.severity == Severity::Error)
                        {
                            "Error while executing validation on xsd schema".to_string()
                        } else {
                            // XSD errors, and a root the schema does not declare (which
                            // JAXP reports as an XSD error too).
                            let xsd: Vec<String> = findings
                                .iter()
                                .filter(|g| {
                                    matches!(g.stage, Stage::Xsd | Stage::Cda)
                                        && g.severity == Severity::Error
                                })
                                .map(|g| match (g.location.line, g.location.column) {
                                    (Some(l), Some(c)) => format!("ERROR: {l},{c} {}", g.message),
                                    _ => format!("ERROR: {}", g.message),
                                })
                                .collect();
                            xsd.join(", ")
                        }
                    }
                    (_, "/msg/semantic") => {
                        let mut all = sch_errors.clone();
                        all.extend(sch_warnings.iter().copied());
                        bracketed(&all)
                    }
                    (_, "/msg/vocabulary") => f
                        .details
                        .get("gateway_message")
                        .cloned()
                        .unwrap_or_else(|| f.message.clone()),
                    _ => f.message.clone(),
                };
                let instance = match t {
                    "/msg/semantic" => Some("/validation/error".to_string()),
                    "/msg/validator" => Some("/cda-validation".to_string()),
                    _ => None,
                };
                error(t, instance, Some(detail))
            };
            // Warnings gathered before the failing step still travel with validation errors only
            // through the detail; the gateway drops them otherwise.
            v.warning = None;
            return Some(v);
        }
        if ctx.kind == Kind::Http && !ctx.document_checked {
            // Nothing blocking in the request itself, but its document was not checked.
            return None;
        }
        let mut warnings: Vec<String> = findings
            .iter()
            .filter_map(|f| f.details.get("gateway_warning").cloned())
            .collect();
        if !sch_warnings.is_empty() {
            let mut s = bracketed(&sch_warnings);
            s.truncate(200_000);
            warnings.push(s);
        }
        Some(GatewayVerdict {
            status: ctx.success_status,
            error_type: None,
            title: None,
            instance: None,
            detail: None,
            warning: (!warnings.is_empty()).then(|| warnings.join("")),
        })
    }
}

fn error(t: &str, instance: Option<String>, detail: Option<String>) -> GatewayVerdict {
    GatewayVerdict {
        status: status_of(t),
        error_type: Some(t.to_string()),
        title: title_of(t).map(str::to_string),
        instance,
        detail,
        warning: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> GatewayContext {
        GatewayContext::new(Kind::Xml)
    }

    #[test]
    fn clean_document_is_accepted() {
        let v = GatewayVerdict::compute(&[], ctx()).unwrap();
        assert_eq!(v.status, 201);
        assert!(v.accepted());
    }

    #[test]
    fn schematron_error_is_422_with_bracketed_messages_errors_first() {
        let fs = vec![
            Finding::warning("sch/W001", Stage::Schematron, "W001| w"),
            Finding::error("sch/ERRORE-1", Stage::Schematron, "ERRORE-1| e"),
        ];
        let v = GatewayVerdict::compute(&fs, ctx()).unwrap();
        assert_eq!(v.status, 422);
        assert_eq!(v.error_type.as_deref(), Some("/msg/semantic"));
        assert_eq!(v.detail.as_deref(), Some("[ERRORE-1| e],[W001| w]"));
    }

    #[test]
    fn reports_alone_pass_with_a_warning() {
        let fs = vec![Finding::warning("sch/W001", Stage::Schematron, "W001| w")];
        let v = GatewayVerdict::compute(&fs, ctx()).unwrap();
        assert_eq!(v.status, 201);
        assert_eq!(v.warning.as_deref(), Some("[W001| w]"));
    }

    #[test]
    fn earliest_stage_decides_and_our_own_lints_do_not_count() {
        let fs = vec![
            Finding::error("sch/ERRORE-1", Stage::Schematron, "e"),
            Finding::error("xsd/unexpected-element", Stage::Xsd, "x").with_line_col(3, 4),
            Finding::warning("xml/utf16-without-bom", Stage::Xml, "w"),
            Finding::info("term/system-not-managed", Stage::Terminology, "i"),
        ];
        let v = GatewayVerdict::compute(&fs, ctx()).unwrap();
        assert_eq!(v.status, 400);
        assert_eq!(v.error_type.as_deref(), Some("/msg/syntax"));
        assert_eq!(v.detail.as_deref(), Some("ERROR: 3,4 x"));
        let v = GatewayVerdict::compute(&fs[2..], ctx()).unwrap();
        assert_eq!(v.status, 201);
    }

    #[test]
    fn explicit_gateway_details_win() {
        let fs = vec![Finding::error("pdf/no-cda", Stage::Pdf, "no cda")
            .with_detail("gateway_type", "/msg/cda-element")
            .with_detail("gateway_instance", "/cda-extraction")
            .with_detail(
                "gateway_detail",
                "Error while extracting CDA from PDF document",
            )];
        let v = GatewayVerdict::compute(&fs, GatewayContext::new(Kind::Pdf)).unwrap();
        assert_eq!(v.status, 400);
        assert_eq!(
            v.title.as_deref(),
            Some("Errore in fase di estrazione del CDA.")
        );
    }

    #[test]
    fn explicit_order_interleaves_metadata_with_validator_stages() {
        // JWT↔CDA (80) comes before the validator (100); attachment hash (120) after it.
        let fs = vec![
            Finding::error("sch/ERRORE-1", Stage::Schematron, "e"),
            Finding::error("jwt/attachment-hash", Stage::Metadata, "hash")
                .with_detail("gateway_type", "/msg/document-hash")
                .with_detail("gateway_order", "120"),
        ];
        let v = GatewayVerdict::compute(&fs, ctx()).unwrap();
        assert_eq!(v.error_type.as_deref(), Some("/msg/semantic"));
        let mut fs = fs;
        fs.push(
            Finding::error("jwt/person-id", Stage::Metadata, "pid")
                .with_detail("gateway_type", "/msg/jwt-validation")
                .with_detail("gateway_status", "403")
                .with_detail("gateway_order", "80"),
        );
        let v = GatewayVerdict::compute(&fs, ctx()).unwrap();
        assert_eq!((v.status, v.detail.as_deref()), (403, Some("pid")));
        // A strict-only lint the gateway tolerates never decides.
        let fs = vec![Finding::error("meta/date-format", Stage::Metadata, "d")
            .with_detail("gateway_blocking", "false")];
        assert_eq!(GatewayVerdict::compute(&fs, ctx()).unwrap().status, 201);
    }

    #[test]
    fn verifica_succeeds_with_200_and_errors_keep_their_status() {
        // ValidationCTL.validate: 201 for activity VALIDATION, 200 for VERIFICA.
        let verifica = GatewayContext {
            success_status: 200,
            ..GatewayContext::new(Kind::Pdf)
        };
        let w = vec![Finding::warning("sch/W001", Stage::Schematron, "W001| w")];
        let v = GatewayVerdict::compute(&w, verifica).unwrap();
        assert_eq!((v.status, v.accepted()), (200, true));
        assert_eq!(v.warning.as_deref(), Some("[W001| w]"));
        assert_eq!(v.summary(), "200 accepted with warnings");
        let e = vec![Finding::error("sch/ERRORE-1", Stage::Schematron, "e")];
        assert_eq!(GatewayVerdict::compute(&e, verifica).unwrap().status, 422);
        assert_eq!(
            GatewayVerdict::compute(&[], GatewayContext::new(Kind::Pdf))
                .unwrap()
                .status,
            201
        );
    }

    #[test]
    fn non_pdf_input_is_415() {
        let v = GatewayVerdict::compute(
            &[],
            GatewayContext {
                kind: Kind::Other,
                document_checked: false,
                success_status: 201,
            },
        )
        .unwrap();
        assert_eq!(v.status, 415);
    }
}
