//! Report types. Field names and the first token of each value follow `pades/manifest.jsonl`.

use crate::CdaMode;
use fsecheck_core::{Finding, Severity};
use serde::Serialize;

/// Everything [`crate::analyze`] found out about one PDF.
#[derive(Debug, Clone, Serialize)]
pub struct PdfReport {
    pub size: usize,
    pub sha256: String,
    /// `ok` or `fail`.
    pub parse: String,
    /// `claimed (PDF/A-3B, not validated)` when the XMP metadata declares PDF/A, else `no`.
    /// Only the claim is read; conformance is not checked.
    pub pdfa: String,
    pub revisions: Vec<RevisionInfo>,
    /// Non-whitespace bytes after the last revision's `%%EOF`.
    pub trailing_bytes: usize,
    pub signatures: Vec<SignatureReport>,
    /// File-level modification verdict: `none`, `allowed (…)`, `allowed-with-warning (…)`,
    /// `unknown (…)`, `disallowed (…)`, `trailing-data (…)` or `n/a (…)`.
    pub modification: String,
    /// The CDA to check downstream: the one in the last revision a signer signed (for an
    /// unsigned file, the latest revision's). When a later revision carries another CDA,
    /// `cda_extraction` describes the latest one (what the gateway would read) with
    /// `result = ok_but_unsigned`, and an error finding is raised.
    pub cda: Option<ExtractedCda>,
    pub cda_extraction: CdaExtraction,
    pub gateway: GatewayLens,
    pub ades: AdesLens,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevisionInfo {
    pub index: usize,
    pub xref_offset: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtractedCda {
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub name: Option<String>,
    /// e.g. `EmbeddedFiles+AF`, `EmbeddedFiles/Kids[0]/Names + AF`, `Names/XFAResources/datasets`.
    pub located_via: String,
    pub sha256: String,
    pub size: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CdaExtraction {
    pub mode: CdaMode,
    /// `ok`, `ok_with_warning`, `ok_resource_mode`, `ok_but_unsigned`, `near_miss`, `ambiguous`,
    /// `none`, `fail`, `fail_parse`, `fail_parse_or_partial`.
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub located_via: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_revision_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub candidates: Vec<Candidate>,
}

impl CdaExtraction {
    pub fn new(mode: CdaMode) -> Self {
        CdaExtraction {
            mode,
            result: "none".into(),
            name: None,
            located_via: None,
            sha256: None,
            signed_revision_sha256: None,
            note: None,
            candidates: vec![],
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub name: String,
    pub located_via: String,
    /// The gateway's exact rule (`cda.xml`, key or /F, case-sensitive, root or first /Kids level).
    pub gateway_match: bool,
    pub is_cda: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub af_relationship: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IntegrityDetail {
    /// `ok`, `gap_not_equal_to_contents`, `malformed`, `out_of_bounds`.
    pub byte_range: String,
    /// `match`, `mismatch`, `missing`, `n/a`.
    pub message_digest: String,
    /// `valid`, `invalid`, `n/a`.
    pub signature_value: String,
    /// `ok`, `parse_error`, `empty`, `trailing_data` (non-zero bytes after the CMS).
    pub cms: String,
    /// `present`, `v1`, `absent`, `mismatch`, `n/a`.
    pub signing_certificate_v2: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    /// Fully qualified field name.
    pub field: String,
    /// `signature` or `doc_timestamp`.
    pub kind: String,
    /// Signer certificate common name.
    pub signer: Option<String>,
    pub subfilter: String,
    /// The `/ByteRange` as read (four offsets), if it is four non-negative integers.
    pub byte_range: Option<[usize; 4]>,
    /// Digest algorithm of the SignerInfo (`sha256`, `sha1`, …).
    pub digest: Option<String>,
    /// `pass` or `fail`.
    pub integrity: String,
    pub integrity_detail: IntegrityDetail,
    /// `pass`, `fail (…)`, `n/a`.
    pub chain_trust: String,
    /// `pass`, `fail (…)`, `n/a`.
    pub validity_at_signing_time: String,
    /// `pass`, `fail (…)`, `n/a`.
    pub key_usage: String,
    /// `good`, `revoked (…)`, `not_checked (…)`.
    pub revocation: String,
    /// `none`, `valid`, `invalid (…)`, `untrusted (…)`.
    pub signature_timestamp: String,
    /// `B-B`, `B-T`, `B-LT`, `B-LTA`, `none (…)`, `n/a`.
    pub level: String,
    /// `entire_file`, `entire_revision`, `partial`, `unclear`.
    pub coverage: String,
    /// Index of the revision the signature covers.
    pub signed_revision: Option<usize>,
    pub signing_time: Option<String>,
    /// `signature_timestamp`, `signing_time_attribute (claimed)`, `M (claimed)`, `validation_time`.
    pub signing_time_source: String,
    /// Changes after this signature: `none`, `allowed (…)`, … (see [`PdfReport::modification`]).
    pub modification: String,
    pub changes: Vec<crate::Change>,
    /// EN 319 102-1 indication / sub-indication we would give.
    pub etsi_indication: String,
    /// Whether the field is a top-level AcroForm field (the only ones the gateway checks).
    pub top_level_field: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GatewayError {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub instance: String,
    pub detail: String,
    pub status: u16,
}

impl GatewayError {
    pub fn sign(detail: &str) -> Self {
        GatewayError {
            type_: "/msg/sign-error".into(),
            title: "/msg/sign-error".into(),
            instance: "/msg/sign-error".into(),
            detail: detail.into(),
            status: 400,
        }
    }
    pub fn cda() -> Self {
        GatewayError {
            type_: "/msg/cda-element".into(),
            title: "Errore in fase di estrazione del CDA.".into(),
            instance: "/cda-extraction".into(),
            detail: "Error while extracting CDA from PDF document".into(),
            status: 400,
        }
    }
    pub fn not_pdf() -> Self {
        GatewayError {
            type_: "/msg/document-type".into(),
            title: "Il documento non è pdf.".into(),
            instance: "/multipart-file".into(),
            detail: "Il documento non è pdf.".into(),
            status: 415,
        }
    }
    pub fn empty_file() -> Self {
        GatewayError {
            type_: "/msg/empty-file".into(),
            title: "File vuoto.".into(),
            instance: "/empty-multipart-file".into(),
            detail: "File vuoto.".into(),
            status: 400,
        }
    }
}

/// What the gateway (it-fse-gtw-dispatcher `main`) would do with this PDF.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayLens {
    /// `/msg/empty-file` or `/msg/document-type`, if the input gate fails.
    pub input_error: Option<GatewayError>,
    /// PDFBox `getSignatureDictionaries()` non-empty.
    pub signed: bool,
    /// `valid`, `invalid` or `unsigned` (SignerUtility.validate: last top-level field wins).
    pub signature_check: String,
    pub sign_error: Option<GatewayError>,
    pub cda_found: bool,
    pub cda_located_via: Option<String>,
    pub cda_error: Option<GatewayError>,
    /// Warning pieces `/v1/documents/validation` would return, verbatim, in the gateway's order
    /// (it concatenates them inside `[…]`).
    pub validation_warnings: Vec<String>,
    /// Warning texts publication would return, verbatim.
    pub publication_warnings: Vec<String>,
    /// Publication outcome: the first error in the gateway's order (input, signature, CDA).
    pub publication_error: Option<GatewayError>,
    /// `accepted` or `rejected` at publication (checks reproduced here only).
    pub publication: String,
    /// Validation (`/v1/documents/validation`) never verifies the signature: only the input
    /// gate and the CDA extraction count.
    pub validation: String,
    pub notes: Vec<String>,
}

/// The full AdES verdict.
#[derive(Debug, Clone, Serialize)]
pub struct AdesLens {
    /// `pass`, `warn` or `fail`.
    pub verdict: String,
    /// One plain-English sentence per reason, worst first.
    pub reasons: Vec<String>,
}

impl PdfReport {
    pub(crate) fn empty(mode: CdaMode) -> Self {
        PdfReport {
            size: 0,
            sha256: String::new(),
            parse: "fail".into(),
            pdfa: "no".into(),
            revisions: vec![],
            trailing_bytes: 0,
            signatures: vec![],
            modification: "n/a".into(),
            cda: None,
            cda_extraction: CdaExtraction {
                result: "fail_parse".into(),
                ..CdaExtraction::new(mode)
            },
            gateway: GatewayLens {
                input_error: None,
                signed: false,
                signature_check: "unsigned".into(),
                sign_error: None,
                cda_found: false,
                cda_located_via: None,
                cda_error: None,
                validation_warnings: vec![],
                publication_warnings: vec![],
                publication_error: None,
                publication: "rejected".into(),
                validation: "rejected".into(),
                notes: vec![],
            },
            ades: AdesLens {
                verdict: "fail".into(),
                reasons: vec![],
            },
            findings: vec![],
        }
    }

    /// Computes the two lenses from the facts gathered.
    pub(crate) fn finish(&mut self) {
        let g = &mut self.gateway;
        g.publication_error = g
            .input_error
            .clone()
            .or_else(|| g.sign_error.clone())
            .or_else(|| g.cda_error.clone());
        g.publication = if g.publication_error.is_none() {
            "accepted"
        } else {
            "rejected"
        }
        .into();
        g.validation = if g.input_error.is_none() && g.cda_error.is_none() {
            "accepted"
        } else {
            "rejected"
        }
        .into();

        let mut errors: Vec<String> = vec![];
        let mut warns: Vec<String> = vec![];
        for f in &self.findings {
            match f.severity {
                Severity::Error => errors.push(f.message.clone()),
                Severity::Warning => warns.push(f.message.clone()),
                Severity::Info => {}
            }
        }
        let verdict = if !errors.is_empty() {
            "fail"
        } else if !warns.is_empty() {
            "warn"
        } else {
            "pass"
        };
        errors.extend(warns);
        errors.dedup();
        self.ades = AdesLens {
            verdict: verdict.into(),
            reasons: errors,
        };
    }
}
