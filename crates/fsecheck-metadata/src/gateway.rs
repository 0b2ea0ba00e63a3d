//! The rule registry: every finding id this crate emits, and the gateway error it maps to.
//!
//! Each finding carries, in `details`:
//! - `gateway_type`, `gateway_title`, `gateway_instance`, `gateway_status`: the RFC 7807 problem
//!   the gateway would answer with (absent for our own, non-gateway lints);
//! - `gateway_blocking`: `"true"` when the gateway itself would reject the request for this;
//! - `gateway_order`: where in the gateway's pipeline the check runs (see [`GatewayOrder`]), so a
//!   pipeline can interleave these findings with the PDF/signature/validator stages and take the
//!   first blocking one as the gateway's answer ([`gateway_verdict`]).

use fsecheck_core::{Finding, Severity, Stage};

/// Where the dispatcher source facts come from.
pub const SOURCE: &str =
    "it-fse-gtw-dispatcher main de019846 / release e008bcce (shared/reference/gateway.md)";

/// Position of a check in the gateway's pipeline (`reference/gateway.md` §1). Lower runs first.
/// Gaps are left for the stages other crates implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GatewayOrder(pub u16);

impl GatewayOrder {
    /// Metadata update: Spring binds the JSON body before the controller runs.
    pub const SPRING_BINDING: GatewayOrder = GatewayOrder(1);
    /// Metadata update (and delete): the path `{idDoc}` is checked before the JWT.
    pub const PATH_ID_FIRST: GatewayOrder = GatewayOrder(5);
    /// JWT decoding and claim checks (§5), first for every operation.
    pub const JWT_CLAIMS: GatewayOrder = GatewayOrder(10);
    /// requestBody conversion, mandatory fields, descriptions, atti clinici, dates (§6).
    pub const BODY: GatewayOrder = GatewayOrder(20);
    /// `identificativoDoc` master id (publication/replace).
    pub const MASTER_ID: GatewayOrder = GatewayOrder(30);
    /// — 40: PDF sniff (`/msg/empty-file`, `/msg/document-type`) — other crate.
    pub const PDF_SNIFF: GatewayOrder = GatewayOrder(40);
    /// — 60: PAdES (publication) — other crate. 70: CDA extraction — other crate.
    pub const PADES: GatewayOrder = GatewayOrder(60);
    pub const CDA_EXTRACTION: GatewayOrder = GatewayOrder(70);
    /// JWT `resource_hl7_type` / `person_id` against the CDA.
    pub const JWT_CDA: GatewayOrder = GatewayOrder(80);
    /// **[release]** LOINC ↔ `tipoDocumentoLivAlto` correlation.
    pub const CORRELATION: GatewayOrder = GatewayOrder(90);
    /// — 100: gtw-validator (XSD, schematron, terminology, engine) — other crates.
    pub const VALIDATOR: GatewayOrder = GatewayOrder(100);
    /// — 110: validated-hash lookup (server state, not reproducible).
    pub const HASH_LOOKUP: GatewayOrder = GatewayOrder(110);
    /// JWT `attachment_hash` vs the PDF.
    pub const ATTACHMENT_HASH: GatewayOrder = GatewayOrder(120);
    /// FHIR/metadata build: `identificativoRep`, CDA `effectiveTime`.
    pub const METADATA_BUILD: GatewayOrder = GatewayOrder(130);
}

/// An RFC 7807 problem type of the gateway (`RestExecutionResultEnum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayType {
    pub type_: &'static str,
    pub title: &'static str,
    /// HTTP status on the validation and publication paths (token errors 403, others 400).
    pub status: u16,
}

pub const MANDATORY_ELEMENT: GatewayType = GatewayType {
    type_: "/msg/mandatory-element",
    title: "Campo obbligatorio non presente.",
    status: 400,
};
pub const INVALID_FORMAT: GatewayType = GatewayType {
    type_: "/msg/invalid-format",
    title: "Formato campo non valido.",
    status: 400,
};
pub const ID_DOC: GatewayType = GatewayType {
    type_: "/msg/id-doc",
    title: "Campo id documento non valido",
    status: 400,
};
pub const GENERIC_ERROR: GatewayType = GatewayType {
    type_: "/msg/generic-error",
    title: "Errore generico.",
    status: 400,
};
pub const MISSING_TOKEN: GatewayType = GatewayType {
    type_: "/msg/missing-token",
    title: "Token non fornito.",
    status: 403,
};
pub const MANDATORY_ELEMENT_TOKEN: GatewayType = GatewayType {
    type_: "/msg/mandatory-element-token",
    title: "Token JWT non valido.",
    status: 403,
};
pub const JWT_VALIDATION: GatewayType = GatewayType {
    type_: "/msg/jwt-validation",
    title: "Campo token JWT non valido.",
    status: 403,
};
pub const DOCUMENT_HASH: GatewayType = GatewayType {
    type_: "/msg/document-hash",
    title: "Verifica hash fallita.",
    status: 400,
};
pub const VALIDATOR: GatewayType = GatewayType {
    type_: "/msg/validator",
    title: "Errore di validazione",
    status: 400,
};

/// One rule of this crate.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    pub id: &'static str,
    /// The gateway problem; `None` for our own lints (never blocking at the gateway).
    pub gateway: Option<GatewayType>,
    /// `ErrorInstanceEnum` instance, when the gateway sets one.
    pub instance: Option<&'static str>,
    pub order: GatewayOrder,
    /// What the rule checks, in English (used by `docs/METADATA.md`).
    pub summary: &'static str,
}

macro_rules! rule {
    ($name:ident, $id:expr, $gw:expr, $inst:expr, $order:expr, $summary:expr) => {
        pub const $name: RuleInfo = RuleInfo {
            id: $id,
            gateway: $gw,
            instance: $inst,
            order: $order,
            summary: $summary,
        };
    };
}

/// The rules, as constants.
pub mod rules {
    use super::*;
    rule!(
        BODY_INVALID_JSON,
        "meta/invalid-json",
        Some(MANDATORY_ELEMENT),
        Some("/request-missing-field"),
        GatewayOrder::BODY,
        "requestBody missing, not JSON, or not a JSON object (Jackson conversion error)."
    );
    rule!(UNKNOWN_PROPERTY, "meta/unknown-property", Some(MANDATORY_ELEMENT), Some("/request-missing-field"), GatewayOrder::BODY,
        "Property not accepted by the operation's DTO (e.g. `priorita` on replace). Metadata update tolerates unknown properties.");
    rule!(
        ENUM,
        "meta/enum",
        Some(MANDATORY_ELEMENT),
        Some("/request-missing-field"),
        GatewayOrder::BODY,
        "Enum field whose value is not a Java constant name of its enum (case-sensitive)."
    );
    rule!(
        TYPE,
        "meta/type",
        Some(MANDATORY_ELEMENT),
        Some("/request-missing-field"),
        GatewayOrder::BODY,
        "Value of the wrong JSON type for the field (object for a string, scalar for a list, ...)."
    );
    rule!(ENUM_INDEX, "meta/enum-index", None, None, GatewayOrder::BODY,
        "Enum given as an integer (or a digit string): Jackson reads it as an index (FAIL_ON_NUMBERS_FOR_ENUMS is off). Accepted, but fragile.");
    rule!(MANDATORY, "meta/mandatory", Some(MANDATORY_ELEMENT), Some("/request-missing-field"), GatewayOrder::BODY,
        "Mandatory field missing or empty, in the gateway's order (metadata update: only tipoDocumentoLivAlto; the gateway sets no instance there).");
    rule!(DESCRIPTIONS, "meta/descriptions", Some(MANDATORY_ELEMENT), Some("/request-missing-field"), GatewayOrder::BODY,
        "`descriptions` item not CODE^Description^OID, or OID not a DescriptionEnum OID (regional OID only matches the literal `(.*)`: COD_REGIONE bug).");
    rule!(ATTI_CLINICI, "meta/atti-clinici", Some(MANDATORY_ELEMENT), Some("/request-missing-field"), GatewayOrder::BODY,
        "`attiCliniciRegoleAccesso` item not an EventCodeEnum code (case-insensitive; J07AH11/J07BB05 only on release).");
    rule!(DATE_FORMAT, "meta/date-format", Some(INVALID_FORMAT), Some("/request-invalid-date-format"), GatewayOrder::BODY,
        "`dataInizioPrestazione`/`dataFinePrestazione` not yyyyMMddHHmmss. Strict by default; the gateway's lenient SimpleDateFormat outcome is in details.");
    rule!(
        MASTER_ID,
        "meta/master-id",
        Some(ID_DOC),
        Some("/invalid-id"),
        GatewayOrder::MASTER_ID,
        "`identificativoDoc` not a master id: non-blank, contains `^`, text after the last `^`."
    );
    rule!(
        PATH_ID_DOC,
        "meta/path-id-doc",
        Some(ID_DOC),
        Some("/invalid-req-id"),
        GatewayOrder::MASTER_ID,
        "`{idDoc}` of the URL not a master id. Replace: `/invalid-req-id`, after the body; metadata update/delete: `/invalid-id` with \"L'identificativo documento non è valido\", checked before the JWT (order 5)."
    );
    rule!(REPOSITORY_ID, "meta/repository-id", Some(GENERIC_ERROR), Some("/request-invalid-date-format"), GatewayOrder::METADATA_BUILD,
        "`identificativoRep` not 2.16.840.1.113883.2.9.2.<region>.4.5.<...> with a SubjectOrganizationEnum region code.");
    rule!(CDA_EFFECTIVE_TIME, "meta/cda-effective-time", Some(GENERIC_ERROR), None, GatewayOrder::METADATA_BUILD,
        "CDA effectiveTime/@value not parseable by DateUtility.convertDateCda (publication/replace).");
    rule!(
        JWT_MISSING,
        "jwt/missing",
        Some(MISSING_TOKEN),
        Some("/missing-jwt"),
        GatewayOrder::JWT_CLAIMS,
        "No FSE-JWT-Signature token."
    );
    rule!(JWT_DECODE, "jwt/decode", Some(MANDATORY_ELEMENT_TOKEN), Some("/jwt-mandatory-field-missing"), GatewayOrder::JWT_CLAIMS,
        "Token not decodable: fewer than 2 parts, payload not standard base64 (base64url `-`/`_` fail), or not a JSON object.");
    rule!(
        JWT_MANDATORY,
        "jwt/mandatory",
        Some(JWT_VALIDATION),
        Some("/jwt-mandatory-field-missing"),
        GatewayOrder::JWT_CLAIMS,
        "Mandatory claim missing or empty."
    );
    rule!(JWT_FISCAL_CODE, "jwt/fiscal-code", Some(JWT_VALIDATION), Some("/jwt-mandatory-field-malformed"), GatewayOrder::JWT_CLAIMS,
        "`sub` (or `person_id`, unless the CDA patient id root is TEAM) fails the codice fiscale check when it is bare or carries the MEF OID.");
    rule!(JWT_ENUM, "jwt/enum", Some(JWT_VALIDATION), Some("/jwt-mandatory-field-malformed"), GatewayOrder::JWT_CLAIMS,
        "`action_id`, `purpose_of_use`, `subject_role`, `subject_organization_id`, `subject_organization` not in their enums.");
    rule!(JWT_ORGANIZATION, "jwt/organization-mismatch", Some(JWT_VALIDATION), Some("/jwt-mandatory-field-malformed"), GatewayOrder::JWT_CLAIMS,
        "`subject_organization_id` and `subject_organization` name different SubjectOrganizationEnum entries.");
    rule!(
        JWT_ACTION,
        "jwt/action",
        Some(JWT_VALIDATION),
        Some("/jwt-mandatory-field-malformed"),
        GatewayOrder::JWT_CLAIMS,
        "`action_id` not allowed for the operation."
    );
    rule!(
        JWT_PURPOSE,
        "jwt/purpose",
        Some(JWT_VALIDATION),
        Some("/jwt-mandatory-field-malformed"),
        GatewayOrder::JWT_CLAIMS,
        "`purpose_of_use` not allowed for the operation."
    );
    rule!(
        JWT_LOCALITY,
        "jwt/locality",
        Some(JWT_VALIDATION),
        Some("/jwt-mandatory-field-malformed"),
        GatewayOrder::JWT_CLAIMS,
        "`locality` not an XON (NAME^^^^^&OID&ISO^^^^ID) on create, replace, update, delete."
    );
    rule!(JWT_AMP_ESCAPED, "jwt/amp-escaped", None, None, GatewayOrder::JWT_CLAIMS,
        "`&amp;` inside `sub`/`person_id`: the gateway then skips the codice fiscale check (the OID no longer equals the MEF OID).");
    rule!(
        JWT_DOCUMENT_TYPE,
        "jwt/document-type",
        Some(JWT_VALIDATION),
        Some("/jwt-document-type"),
        GatewayOrder::JWT_CDA,
        "`resource_hl7_type` differs from ('code^^codeSystem') of the CDA's first <code>."
    );
    rule!(
        JWT_PERSON_ID,
        "jwt/person-id",
        Some(JWT_VALIDATION),
        Some("/jwt-person-id"),
        GatewayOrder::JWT_CDA,
        "`person_id` (before the first `^`) is not the @extension of any patientRole/id."
    );
    rule!(JWT_ATTACHMENT_HASH, "jwt/attachment-hash", Some(DOCUMENT_HASH), Some("/jwt-hash-match"), GatewayOrder::ATTACHMENT_HASH,
        "`attachment_hash` differs from the SHA-256 hex of the PDF bytes (case-insensitive). Publication/replace only.");
    rule!(JWT_CORRELATION, "jwt/correlation", Some(VALIDATOR), Some("/msg/validator"), GatewayOrder::CORRELATION,
        "[release] the LOINC code of `resource_hl7_type` must correlate with `tipoDocumentoLivAlto` (create, replace, update).");
    rule!(JWT_SIGNATURE, "jwt/signature", None, None, GatewayOrder::JWT_CLAIMS,
        "RS256/RS384/RS512 signature does not verify with the given public key (feature `verify`). Not a dispatcher check: GovWay's, at the frontier.");
    rule!(JWT_SIGNATURE_NOT_CHECKED, "jwt/signature-not-checked", None, None, GatewayOrder::JWT_CLAIMS,
        "Informational: no public key given, so the JWT signature is not verified (the dispatcher never does; GovWay does at the frontier).");
}

/// Every rule, for docs and lookups.
pub const ALL_RULES: &[RuleInfo] = &[
    rules::BODY_INVALID_JSON,
    rules::UNKNOWN_PROPERTY,
    rules::ENUM,
    rules::TYPE,
    rules::ENUM_INDEX,
    rules::MANDATORY,
    rules::DESCRIPTIONS,
    rules::ATTI_CLINICI,
    rules::DATE_FORMAT,
    rules::MASTER_ID,
    rules::PATH_ID_DOC,
    rules::REPOSITORY_ID,
    rules::CDA_EFFECTIVE_TIME,
    rules::JWT_MISSING,
    rules::JWT_DECODE,
    rules::JWT_MANDATORY,
    rules::JWT_FISCAL_CODE,
    rules::JWT_ENUM,
    rules::JWT_ORGANIZATION,
    rules::JWT_ACTION,
    rules::JWT_PURPOSE,
    rules::JWT_LOCALITY,
    rules::JWT_AMP_ESCAPED,
    rules::JWT_DOCUMENT_TYPE,
    rules::JWT_PERSON_ID,
    rules::JWT_ATTACHMENT_HASH,
    rules::JWT_CORRELATION,
    rules::JWT_SIGNATURE,
    rules::JWT_SIGNATURE_NOT_CHECKED,
];

/// Look a rule up by id.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    ALL_RULES.iter().find(|r| r.id == id)
}

impl RuleInfo {
    /// A blocking gateway error for this rule (severity error, gateway details filled in).
    pub fn error(&self, message: impl Into<String>, pointer: &str) -> Finding {
        self.build(Severity::Error, message, pointer, true)
    }

    /// A finding of the given severity that the gateway would **not** block on.
    pub fn non_blocking(
        &self,
        severity: Severity,
        message: impl Into<String>,
        pointer: &str,
    ) -> Finding {
        self.build(severity, message, pointer, false)
    }

    fn build(
        &self,
        severity: Severity,
        message: impl Into<String>,
        pointer: &str,
        blocking: bool,
    ) -> Finding {
        let mut f = Finding::new(self.id, severity, Stage::Metadata, message)
            .with_pointer(pointer)
            .with_source(SOURCE)
            .with_detail("gateway_blocking", if blocking { "true" } else { "false" })
            .with_detail("gateway_order", self.order.0.to_string());
        if let Some(gw) = self.gateway {
            f = f
                .with_detail("gateway_type", gw.type_)
                .with_detail("gateway_title", gw.title)
                .with_detail("gateway_status", gw.status.to_string());
        }
        if let Some(inst) = self.instance {
            f = f.with_detail("gateway_instance", inst);
        }
        f
    }
}

/// The gateway's answer as computed from findings (serializes as the problem fields).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GatewayVerdict {
    pub status: u16,
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub instance: Option<String>,
    /// The problem `detail`: the finding's (Italian) message.
    pub detail: String,
    pub rule_id: String,
}

/// The first blocking finding in gateway order (stable within an order: emission order), as the
/// gateway's error answer. `None` means these findings would not stop the gateway.
///
/// Only findings carrying `gateway_blocking = "true"` and a `gateway_order` count, so findings
/// of other crates can be passed in too if they follow the same convention.
pub fn gateway_verdict(findings: &[Finding]) -> Option<GatewayVerdict> {
    findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.details.get("gateway_blocking").map(String::as_str) == Some("true"))
        .filter_map(|(i, f)| {
            let order: u16 = f.details.get("gateway_order")?.parse().ok()?;
            Some((order, i, f))
        })
        .min_by_key(|(order, i, _)| (*order, *i))
        .map(|(_, _, f)| GatewayVerdict {
            status: f
                .details
                .get("gateway_status")
                .and_then(|s| s.parse().ok())
                .unwrap_or(400),
            type_: f.details.get("gateway_type").cloned().unwrap_or_default(),
            title: f.details.get("gateway_title").cloned().unwrap_or_default(),
            instance: f.details.get("gateway_instance").cloned(),
            detail: f.message.clone(),
            rule_id: f.id.clone(),
        })
}
