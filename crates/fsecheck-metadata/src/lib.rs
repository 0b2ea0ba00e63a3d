//! Gateway FSE 2.0 metadata checks, offline: the publication request body (`requestBody`), the
//! JWT claims (`FSE-JWT-Signature`), and their cross-checks with the CDA and the PDF — with the
//! gateway's own Italian messages and the RFC 7807 problem each failure maps to.
//!
//! ```
//! use fsecheck_metadata::{check_request, Operation, Options, RequestInput};
//! let body = r#"{"healthDataFormat":"CDA","mode":"ATTACHMENT"}"#;
//! let input = RequestInput { operation: Operation::Validation, body: Some(body), ..Default::default() };
//! let findings = check_request(&input, &Options::default());
//! let ids: Vec<_> = findings.iter().map(|f| f.id.as_str()).collect();
//! assert!(ids.contains(&"jwt/missing"));
//! assert!(ids.contains(&"meta/mandatory")); // activity
//! let verdict = fsecheck_metadata::gateway_verdict(&findings).unwrap();
//! assert_eq!((verdict.status, verdict.type_.as_str()), (403, "/msg/missing-token"));
//! ```
//!
//! Design: the rules are data ([`body::FIELDS`], [`body::MANDATORY`], [`enums`],
//! [`jwt::JWT_OPERATION_RULES`], [`gateway::ALL_RULES`]); the JSON Schema
//! (`schemas/metadata-request.schema.json`) and `docs/METADATA.md` are generated from them and
//! checked by tests.

pub mod body;
pub mod cf;
pub mod dates;
pub mod docs;
pub mod enums;
pub mod gateway;
pub mod http;
pub mod jwt;
pub mod schema;
pub mod sidecar;
pub mod signature;

pub use gateway::{gateway_verdict, GatewayOrder, GatewayVerdict, RuleInfo, ALL_RULES};
pub use http::{parse_http_file, parse_http_text, GatewayRequest, HttpFile, HttpRequest};
pub use sidecar::{discover_sidecars, Sidecars};

use fsecheck_core::Finding;

/// Which dispatcher snapshot to emulate where `main` and `release` differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GatewayRelease {
    /// `main` de019846 (2026-04-10).
    Main,
    /// Branch `release` e008bcce (2026-05-06): newer; adds the LOINC ↔ `tipoDocumentoLivAlto`
    /// correlation, LET/PRO/COL, J07AH11, J07BB05.
    #[default]
    Release,
}

impl GatewayRelease {
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayRelease::Main => "main",
            GatewayRelease::Release => "release",
        }
    }
    pub fn other(self) -> GatewayRelease {
        match self {
            GatewayRelease::Main => GatewayRelease::Release,
            GatewayRelease::Release => GatewayRelease::Main,
        }
    }
}

/// The gateway operation a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Operation {
    /// `POST /v1/documents/validation`.
    #[default]
    Validation,
    /// `POST /v1/documents` (create) and `POST /v1/documents/validate-and-create`.
    Publication,
    /// `PUT /v1/documents/{idDoc}` and `PUT /v1/documents/validate-and-replace/{idDoc}`.
    Replace,
    /// `PUT /v1/documents/{idDoc}/metadata`.
    MetadataUpdate,
    /// `DELETE /v1/documents/{idDoc}` (JWT rules only; no body).
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Operation::Validation,
        Operation::Publication,
        Operation::Replace,
        Operation::MetadataUpdate,
        Operation::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Validation => "validation",
            Operation::Publication => "publication",
            Operation::Replace => "replace",
            Operation::MetadataUpdate => "metadata-update",
            Operation::Delete => "delete",
        }
    }

    /// The Java class the body is bound to (named in the gateway's conversion messages).
    pub fn dto_class(self) -> Option<&'static str> {
        Some(match self {
            Operation::Validation => {
                "it.finanze.sanita.fse2.ms.gtw.dispatcher.dto.request.ValidationCDAReqDTO"
            }
            Operation::Publication => {
                "it.finanze.sanita.fse2.ms.gtw.dispatcher.dto.request.PublicationCreationReqDTO"
            }
            Operation::Replace => {
                "it.finanze.sanita.fse2.ms.gtw.dispatcher.dto.request.PublicationUpdateReqDTO"
            }
            Operation::MetadataUpdate => {
                "it.finanze.sanita.fse2.ms.gtw.dispatcher.dto.request.PublicationMetadataReqDTO"
            }
            Operation::Delete => return None,
        })
    }
}

/// Checking options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Which dispatcher snapshot to emulate (default [`GatewayRelease::Release`]).
    pub release: GatewayRelease,
    /// Prestazione dates: `true` (default) reports values the gateway's lenient parser accepts but
    /// that are not real `yyyyMMddHHmmss` date-times as errors (non-blocking at the gateway);
    /// `false` reports them as warnings.
    pub strict_dates: bool,
    /// The gateway property `validation.allow-special-fiscal-code` (off in the repo): also accept
    /// 11-digit partita IVA and ENI/STP codes.
    pub allow_special_fiscal_code: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            release: GatewayRelease::Release,
            strict_dates: true,
            allow_special_fiscal_code: false,
        }
    }
}

/// One `recordTarget/patientRole/id` of the CDA.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatientId {
    /// `@root` (`""` when absent).
    pub root: String,
    /// `@extension` (`""` when absent).
    pub extension: String,
}

/// What the metadata checks need from the CDA. The CDA crate fills it in; this crate never parses XML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CdaFacts {
    /// `@code` of the **first `code` element in document order** (the gateway uses jsoup
    /// `select("code")`; normally `ClinicalDocument/code`). `None` = no `code` element at all;
    /// `Some("")` = the element has no `@code`.
    pub code: Option<String>,
    /// `@codeSystem` of that same element (`None` treated as `""`).
    pub code_system: Option<String>,
    /// Every `patientRole/id` (jsoup `patientRole > id`), in document order.
    pub patient_ids: Vec<PatientId>,
    /// `ClinicalDocument/effectiveTime/@value`, checked at publication/replace.
    pub effective_time: Option<String>,
}

/// Everything about one request. Missing pieces are skipped (except the body and the JWT, whose
/// absence the gateway reports).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestInput<'a> {
    pub operation: Operation,
    /// The `requestBody` text (multipart part, or the JSON body of the metadata update).
    pub body: Option<&'a str>,
    /// The `FSE-JWT-Signature` header value (with or without `Bearer `).
    pub jwt: Option<&'a str>,
    /// The URL `{idDoc}` of replace/update/delete, URL-decoded.
    pub path_id_doc: Option<&'a str>,
    /// Facts from the CDA: enables the JWT ↔ CDA checks and the effectiveTime check.
    pub cda: Option<&'a CdaFacts>,
    /// The PDF bytes as sent: enables the `attachment_hash` check (publication, replace).
    pub pdf: Option<&'a [u8]>,
    /// The token signer's RSA public key (PEM): enables the signature check (feature `verify`).
    pub jwt_public_key_pem: Option<&'a str>,
}

/// Run every check this crate has on one request. Findings come back sorted in the gateway's
/// order (stable), so [`gateway_verdict`] returns the error the gateway would answer with (as far
/// as the metadata part decides it; interleave other stages' findings by `gateway_order`).
pub fn check_request(input: &RequestInput, opts: &Options) -> Vec<Finding> {
    let op = input.operation;
    let mut out = Vec::new();
    let (decoded, jwt_findings) = jwt::check_jwt(op, input.jwt, opts);
    match (input.jwt_public_key_pem, input.jwt, &decoded) {
        (Some(key), Some(token), Some(_)) => {
            out.extend(
                jwt_findings
                    .into_iter()
                    .filter(|f| f.id != gateway::rules::JWT_SIGNATURE_NOT_CHECKED.id),
            );
            out.extend(signature::check_signature(token, key));
        }
        _ => out.extend(jwt_findings),
    }

    // The body is parsed once (keys in document order); an unreadable one is reported by
    // check_body, and then stops the checks that need it.
    let parsed = input
        .body
        .and_then(|b| serde_json::from_str::<body::OrderedObject>(b).ok());
    if op != Operation::Delete {
        let body_findings = match &parsed {
            Some(obj) => body::check_body_object(op, obj, opts),
            None => body::check_body(op, input.body.unwrap_or(""), opts),
        };
        out.extend(body_findings.into_iter().map(|mut f| {
            if f.location.part.is_none() {
                f.location.part = Some("requestBody".into());
            }
            f
        }));
    }
    if let Some(id) = input.path_id_doc {
        if matches!(
            op,
            Operation::Replace | Operation::MetadataUpdate | Operation::Delete
        ) {
            out.extend(body::check_path_id_doc(op, id));
        }
    }
    if let Some(jwt) = &decoded {
        if let Some(cda) = input.cda {
            if matches!(
                op,
                Operation::Validation | Operation::Publication | Operation::Replace
            ) {
                out.extend(jwt::check_jwt_against_cda(jwt, cda, opts));
            }
        }
        // The correlation runs only once the body converted (an unreadable body stops the
        // gateway earlier, and we cannot know its tipoDocumentoLivAlto).
        if let Some(obj) = &parsed {
            let tipo = obj.get("tipoDocumentoLivAlto").and_then(|t| t.as_str());
            out.extend(jwt::check_correlation(op, jwt, tipo, opts));
        }
        if let Some(pdf) = input.pdf {
            if matches!(op, Operation::Publication | Operation::Replace) {
                out.extend(jwt::check_attachment_hash(jwt, pdf));
            }
        }
    }
    if let (Some(cda), Operation::Publication | Operation::Replace) = (input.cda, op) {
        out.extend(check_cda_effective_time(cda));
    }
    out.sort_by_key(|f| {
        f.details
            .get("gateway_order")
            .and_then(|o| o.parse::<u16>().ok())
            .unwrap_or(u16::MAX)
    });
    out
}

/// The CDA `effectiveTime` must parse with `DateUtility.convertDateCda` (publication/replace).
pub fn check_cda_effective_time(cda: &CdaFacts) -> Vec<Finding> {
    match &cda.effective_time {
        Some(v) if !dates::gateway_accepts_cda_effective_time(v) => {
            let mut f = gateway::rules::CDA_EFFECTIVE_TIME
                .error("Errore generico.", "")
                .with_hint(format!(
                    "The CDA effectiveTime `{v}` matches none of the gateway's formats ({}); e.g. minute precision `202401011200+0100` fails. Use yyyyMMddHHmmss±ZZZZ.",
                    dates::CDA_EFFECTIVE_TIME_PATTERNS.join(", ")
                ))
                .with_xpath("/ClinicalDocument[1]/effectiveTime[1]/@value")
                .with_detail("value", v.clone());
            f.location.pointer = None;
            vec![f]
        }
        _ => Vec::new(),
    }
}
