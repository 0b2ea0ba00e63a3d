//! JWT claim lint (`JwtSRV`, `AbstractCTL.extractJWT`), and the JWT ↔ CDA/PDF/body cross-checks.
//!
//! Decoding is done **without trusting** the token, exactly as the dispatcher does: optional
//! `Bearer ` prefix, split on `.`, payload = part 1 decoded with `java.util.Base64` *basic*
//! (standard alphabet; base64url `-`/`_` fail; padding optional), then bound with Gson.
//! The signature is never verified by the dispatcher (GovWay does it at the frontier), and not
//! here either: see `docs/METADATA.md` (documented gap).

use crate::body::pointer_token;
use crate::cf::{self, java_split};
use crate::enums::{self, EnumDef};
use crate::gateway::{rules as R, RuleInfo};
use crate::{CdaFacts, GatewayRelease, Operation, Options};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use fsecheck_core::{Finding, Severity};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The TEAM OID: a `patientRole/id` with this root exempts `person_id` from the CF check.
pub const OID_TEAM: &str = "2.16.840.1.113883.2.9.4.3.7";

/// Claims the dispatcher binds as strings (`JWTPayloadDTO`).
pub const STRING_CLAIMS: &[&str] = &[
    "iss",
    "jti",
    "aud",
    "sub",
    "subject_organization_id",
    "subject_organization",
    "locality",
    "subject_role",
    "person_id",
    "action_id",
    "purpose_of_use",
    "resource_hl7_type",
    "attachment_hash",
    "subject_application_id",
    "subject_application_vendor",
    "subject_application_version",
];

/// Mandatory claims of every operation, in the gateway's order (`validateMandatoryFields`).
pub const MANDATORY_CLAIMS: &[&str] = &[
    "patient_consent",
    "action_id",
    "locality",
    "person_id",
    "purpose_of_use",
    "subject_organization",
    "subject_organization_id",
    "subject_role",
    "subject_application_id",
    "subject_application_vendor",
    "subject_application_version",
];

/// What each operation requires of the token (`reference/gateway.md` §5, per-operation table).
#[derive(Debug, Clone, Copy)]
pub struct JwtOperationRule {
    pub operation: Operation,
    pub actions: &'static [&'static str],
    pub purposes: &'static [&'static str],
    pub locality_checked: bool,
    pub resource_hl7_type_required: bool,
}

/// The per-operation table.
pub const JWT_OPERATION_RULES: &[JwtOperationRule] = &[
    JwtOperationRule {
        operation: Operation::Validation,
        actions: &["CREATE", "UPDATE"],
        purposes: &["TREATMENT"],
        locality_checked: false,
        resource_hl7_type_required: true,
    },
    JwtOperationRule {
        operation: Operation::Publication,
        actions: &["CREATE"],
        purposes: &["TREATMENT"],
        locality_checked: true,
        resource_hl7_type_required: true,
    },
    JwtOperationRule {
        operation: Operation::Replace,
        actions: &["UPDATE"],
        purposes: &["TREATMENT", "UPDATE"],
        locality_checked: true,
        resource_hl7_type_required: true,
    },
    JwtOperationRule {
        operation: Operation::MetadataUpdate,
        actions: &["UPDATE"],
        purposes: &["UPDATE", "ACCESS UPDATE"],
        locality_checked: true,
        resource_hl7_type_required: true,
    },
    JwtOperationRule {
        operation: Operation::Delete,
        actions: &["DELETE"],
        purposes: &["UPDATE"],
        locality_checked: true,
        resource_hl7_type_required: false,
    },
];

/// The rule row of an operation.
pub fn operation_rule(op: Operation) -> &'static JwtOperationRule {
    JWT_OPERATION_RULES
        .iter()
        .find(|r| r.operation == op)
        .expect("every operation has a JWT rule")
}

/// The XON regex `locality` must match.
pub const LOCALITY_REGEX: &str = r"^[^\^]*\^{5}&[^&]*&ISO\^{4}[^\^&]*$";

fn locality_re() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(LOCALITY_REGEX).unwrap())
}

/// A decoded (untrusted) token.
#[derive(Debug, Clone)]
pub struct DecodedJwt {
    /// The header JSON, if part 0 decodes (informational: the dispatcher ignores it).
    pub header: Option<Value>,
    /// The payload claims.
    pub claims: Map<String, Value>,
    /// The payload text as decoded.
    pub payload_text: String,
    pub had_bearer_prefix: bool,
}

impl DecodedJwt {
    /// A claim as Gson binds it to a `String` field (numbers/booleans coerced), `None` if absent/null.
    pub fn str_claim(&self, name: &str) -> Option<String> {
        crate::body::as_java_string(self.claims.get(name)?)
    }

    /// `patient_consent` as Gson binds a `Boolean` (a string goes through `Boolean.parseBoolean`).
    pub fn patient_consent(&self) -> Option<bool> {
        match self.claims.get("patient_consent")? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => Some(s.eq_ignore_ascii_case("true")),
            _ => None,
        }
    }
}

/// Why a token could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtDecodeError {
    Empty,
    MissingPayloadPart,
    /// Payload not decodable by `java.util.Base64.getDecoder()`; `base64url` when it has `-`/`_`.
    Base64 {
        base64url: bool,
    },
    NotJsonObject(String),
    /// A claim of the wrong JSON type for Gson (object/array for a string, number for a Boolean).
    ClaimType(String),
}

impl std::fmt::Display for JwtDecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtDecodeError::Empty => write!(f, "empty token"),
            JwtDecodeError::MissingPayloadPart => write!(f, "no '.'-separated payload part"),
            JwtDecodeError::Base64 { base64url: true } => write!(
                f,
                "payload is base64url ('-' or '_'): java.util.Base64 basic decoder rejects it"
            ),
            JwtDecodeError::Base64 { base64url: false } => {
                write!(f, "payload is not standard base64")
            }
            JwtDecodeError::NotJsonObject(e) => write!(f, "payload is not a JSON object: {e}"),
            JwtDecodeError::ClaimType(c) => {
                write!(f, "claim `{c}` has a JSON type Gson cannot bind")
            }
        }
    }
}

const JAVA_BASIC: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decode `java.util.Base64.getDecoder()`-style (standard alphabet, padding optional).
pub fn java_base64_decode(s: &str) -> Result<Vec<u8>, JwtDecodeError> {
    JAVA_BASIC.decode(s).map_err(|_| JwtDecodeError::Base64 {
        base64url: s.contains('-') || s.contains('_'),
    })
}

/// Decode a token as the dispatcher does (no signature check).
pub fn decode(token: &str) -> Result<DecodedJwt, JwtDecodeError> {
    if token.is_empty() {
        return Err(JwtDecodeError::Empty);
    }
    let (rest, bearer) = match token.strip_prefix("Bearer ") {
        Some(r) => (r, true),
        None => (token, false),
    };
    // Java split drops trailing empty parts: "a.b." has 2 parts, "a." only 1.
    let parts = java_split(rest, ".");
    let payload_b64 = parts.get(1).ok_or(JwtDecodeError::MissingPayloadPart)?;
    let bytes = java_base64_decode(payload_b64)?;
    let payload_text = String::from_utf8_lossy(&bytes).into_owned();
    let value: Value = serde_json::from_str(&payload_text)
        .map_err(|e| JwtDecodeError::NotJsonObject(e.to_string()))?;
    let Value::Object(claims) = value else {
        return Err(JwtDecodeError::NotJsonObject("not an object".into()));
    };
    for c in STRING_CLAIMS {
        if matches!(claims.get(*c), Some(Value::Array(_) | Value::Object(_))) {
            return Err(JwtDecodeError::ClaimType((*c).to_string()));
        }
    }
    if matches!(
        claims.get("patient_consent"),
        Some(Value::Number(_) | Value::Array(_) | Value::Object(_))
    ) {
        return Err(JwtDecodeError::ClaimType("patient_consent".into()));
    }
    let header = parts
        .first()
        .and_then(|h| java_base64_decode(h).ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    Ok(DecodedJwt {
        header,
        claims,
        payload_text,
        had_bearer_prefix: bearer,
    })
}

fn ptr(claim: &str) -> String {
    format!("/{}", pointer_token(claim))
}

fn jwt_finding(rule: &RuleInfo, msg: impl Into<String>, claim: &str) -> Finding {
    let mut f = rule.error(msg, &ptr(claim));
    f.location.part = Some("jwt".into());
    f
}

fn enum_ok(def: &EnumDef, v: &str) -> bool {
    def.find(v, GatewayRelease::Release).is_some()
}

/// Lint the token for an operation. Returns the decoded token (if decodable) and the findings,
/// in the gateway's order.
pub fn check_jwt(
    op: Operation,
    token: Option<&str>,
    opts: &Options,
) -> (Option<DecodedJwt>, Vec<Finding>) {
    let mut out = Vec::new();
    let token = token.unwrap_or("");
    if token.is_empty() {
        let mut f = R::JWT_MISSING
            .error("Attenzione il jwt fornito risulta essere vuoto", "")
            .with_hint("No FSE-JWT-Signature header (or it is empty). Give the token with `--jwt`, an `X.jwt` sidecar, or the header in the .http request.");
        f.location.part = Some("jwt".into());
        out.push(f);
        return (None, out);
    }
    let jwt = match decode(token) {
        Ok(j) => j,
        Err(e) => {
            let mut f = R::JWT_DECODE
                .error("Token JWT non valido.", "")
                .with_hint(format!("The token cannot be read as the gateway reads it: {e}. The payload must be standard base64 (the dispatcher uses java.util.Base64.getDecoder(): base64url '-'/'_' fail) of a JSON object."))
                .with_detail("reason", e.to_string());
            f.location.part = Some("jwt".into());
            out.push(f);
            return (None, out);
        }
    };
    let mut info = R::JWT_SIGNATURE_NOT_CHECKED.non_blocking(
        Severity::Info,
        "Firma del JWT non verificata",
        "",
    );
    info.location.part = Some("jwt".into());
    out.push(info.with_hint("The JWT signature, x5c, alg, iss, iat, exp, jti and aud are not checked (the dispatcher never checks them; GovWay does at the frontier)."));

    // 1. Mandatory claims.
    for c in MANDATORY_CLAIMS {
        let missing = if *c == "patient_consent" {
            jwt.patient_consent().is_none()
        } else {
            jwt.str_claim(c).is_none_or(|s| s.is_empty())
        };
        if missing {
            out.push(
                jwt_finding(
                    &R::JWT_MANDATORY,
                    format!("Il campo {c} non è valorizzato"),
                    c,
                )
                .with_hint(format!(
                    "The `{c}` claim is mandatory and must not be empty."
                )),
            );
        }
    }

    // 2. sub codice fiscale.
    let sub = jwt.str_claim("sub");
    if !cf::is_valid_oid(sub.as_deref(), opts.allow_special_fiscal_code) {
        out.push(
            jwt_finding(&R::JWT_FISCAL_CODE, "Il codice fiscale nel campo sub non è corretto", "sub")
                .with_hint("`sub` must be a valid codice fiscale, either bare or as CF^^^&2.16.840.1.113883.2.9.4.3.2&ISO (other OIDs are not checked)."),
        );
    }
    for c in ["sub", "person_id"] {
        if let Some(v) = jwt.str_claim(c) {
            if v.contains("&amp;") {
                let mut f = R::JWT_AMP_ESCAPED.non_blocking(
                    Severity::Warning,
                    format!("Il campo {c} contiene '&amp;'"),
                    &ptr(c),
                );
                f.location.part = Some("jwt".into());
                let cf_part = java_split(&v, "^^^").into_iter().next().unwrap_or_default();
                let cf_ok = cf::is_valid_cf(&cf_part, opts.allow_special_fiscal_code);
                out.push(
                    f.with_hint(format!(
                        "`{c}` contains the HTML escape `&amp;` instead of `&`: the OID no longer equals the MEF OID, so the gateway skips the codice fiscale check. The CF part `{cf_part}` is {}.",
                        if cf_ok { "valid anyway" } else { "NOT a valid codice fiscale" }
                    ))
                    .with_detail("cf_valid", cf_ok.to_string()),
                );
            }
        }
    }

    // 3. Enum values.
    let checks: [(&str, &EnumDef); 3] = [
        ("action_id", &enums::ACTION),
        ("purpose_of_use", &enums::PURPOSE_OF_USE),
        ("subject_role", &enums::ROLE),
    ];
    for (c, def) in checks {
        if let Some(v) = jwt.str_claim(c).filter(|v| !v.is_empty()) {
            if !enum_ok(def, &v) {
                out.push(
                    jwt_finding(&R::JWT_ENUM, format!("Il campo {c} non è corretto"), c)
                        .with_hint(format!(
                            "`{v}` is not a {} value ({}){}.",
                            def.java,
                            def.all_names().join(", "),
                            if def.case_insensitive {
                                ""
                            } else {
                                "; case-sensitive"
                            }
                        ))
                        .with_detail("value", v),
                );
            }
        }
    }
    let org_id = jwt
        .str_claim("subject_organization_id")
        .filter(|v| !v.is_empty());
    let org = jwt
        .str_claim("subject_organization")
        .filter(|v| !v.is_empty());
    let by_id = org_id.as_deref().map(enums::organization_by_code);
    let by_display = org.as_deref().map(enums::organization_by_display);
    if let (Some(v), Some(None)) = (&org_id, by_id) {
        out.push(
            jwt_finding(&R::JWT_ENUM, "Il campo subject_organization_id non è corretto", "subject_organization_id")
                .with_hint(format!("`{v}` is not a SubjectOrganizationEnum code (3 digits: 010 … 200, 000 INI, 970 Sistema TS, 001 SASN, 999 MDS, 950 GTW)."))
                .with_detail("value", v.clone()),
        );
    }
    if let (Some(v), Some(None)) = (&org, by_display) {
        out.push(
            jwt_finding(
                &R::JWT_ENUM,
                "Il campo subject_organization non è corretto",
                "subject_organization",
            )
            .with_hint(format!(
                "`{v}` is not a SubjectOrganizationEnum display (e.g. `Regione Lazio`)."
            ))
            .with_detail("value", v.clone()),
        );
    }
    if let (Some(Some(a)), Some(Some(b))) = (by_id, by_display) {
        if a != b {
            out.push(
                jwt_finding(
                    &R::JWT_ORGANIZATION,
                    "I campi subject_organization_id e subject_organization non sono coerenti",
                    "subject_organization",
                )
                .with_hint(format!(
                    "`subject_organization_id` {} is {}, but `subject_organization` says {}.",
                    enums::SUBJECT_ORGANIZATIONS[a].0,
                    enums::SUBJECT_ORGANIZATIONS[a].1,
                    enums::SUBJECT_ORGANIZATIONS[b].1
                )),
            );
        }
    }

    // 4. Per operation.
    let rule = operation_rule(op);
    if rule.resource_hl7_type_required
        && jwt
            .str_claim("resource_hl7_type")
            .is_none_or(|s| s.is_empty())
    {
        out.push(
            jwt_finding(&R::JWT_MANDATORY, "Il campo resource_hl7_type non è valorizzato", "resource_hl7_type")
                .with_hint(format!("`resource_hl7_type` is mandatory for the {} request: ('<LOINC code>^^2.16.840.1.113883.6.1').", op.as_str())),
        );
    }
    if let Some(a) = jwt
        .str_claim("action_id")
        .filter(|a| enum_ok(&enums::ACTION, a))
    {
        if !rule.actions.contains(&a.as_str()) {
            out.push(
                jwt_finding(
                    &R::JWT_ACTION,
                    "Il campo action_id non coerente con operazione richiesta",
                    "action_id",
                )
                .with_hint(format!(
                    "The {} request needs action_id {}; got `{a}`.",
                    op.as_str(),
                    rule.actions.join(" or ")
                )),
            );
        }
    }
    if let Some(p) = jwt.str_claim("purpose_of_use") {
        if let Some(canonical) = enums::PURPOSE_OF_USE.find(&p, GatewayRelease::Release) {
            if !rule.purposes.contains(&canonical) {
                out.push(
                    jwt_finding(
                        &R::JWT_PURPOSE,
                        "Il campo purpose_of_use non coerente con operazione richiesta",
                        "purpose_of_use",
                    )
                    .with_hint(format!(
                        "The {} request needs purpose_of_use {}; got `{p}`.",
                        op.as_str(),
                        rule.purposes.join(" or ")
                    )),
                );
            }
        }
    }
    if rule.locality_checked {
        if let Some(l) = jwt.str_claim("locality").filter(|l| !l.is_empty()) {
            if !locality_re().is_match(&l) {
                out.push(
                    jwt_finding(&R::JWT_LOCALITY, "Il campo Locality non è valorizzato correttamente", "locality")
                        .with_hint(format!("`locality` must be an XON: NAME^^^^^&<OID>&ISO^^^^<ID>, e.g. `Ospedale^^^^^&2.16.840.1.113883.2.9.4.1.3&ISO^^^^190111123456` (regex {LOCALITY_REGEX}); got `{l}`."))
                        .with_detail("value", l),
                );
            }
        }
    }
    (Some(jwt), out)
}

/// The literal `resource_hl7_type` the gateway expects for a CDA code.
pub fn expected_resource_hl7_type(code: &str, code_system: &str) -> String {
    format!("('{code}^^{code_system}')")
}

/// JWT ↔ CDA checks: `resource_hl7_type` and `person_id` (steps 8 and 9).
pub fn check_jwt_against_cda(jwt: &DecodedJwt, cda: &CdaFacts, opts: &Options) -> Vec<Finding> {
    let mut out = Vec::new();
    // resource_hl7_type
    match &cda.code {
        None => out.push(
            jwt_finding(
                &R::JWT_DOCUMENT_TYPE,
                "JWT payload: non è stato possibile verificare la tipologia del CDA",
                "resource_hl7_type",
            )
            .with_hint("The CDA has no <code> element to compare `resource_hl7_type` with."),
        ),
        Some(code) => {
            let cs = cda.code_system.clone().unwrap_or_default();
            let expected = expected_resource_hl7_type(code, &cs);
            let got = jwt.str_claim("resource_hl7_type");
            if got.as_deref() != Some(expected.as_str()) {
                out.push(
                    jwt_finding(&R::JWT_DOCUMENT_TYPE, "JWT payload: Tipologia documento diversa dalla tipologia di CDA (code - codesystem)", "resource_hl7_type")
                        .with_hint(format!("`resource_hl7_type` must be exactly `{expected}` (from the CDA's first <code>); got `{}`.", got.unwrap_or_default()))
                        .with_detail("expected", expected),
                );
            }
        }
    }
    // person_id
    if cda.patient_ids.is_empty() {
        out.push(
            jwt_finding(&R::JWT_PERSON_ID, "JWT payload: non è stato possibile verificare il codice fiscale del paziente presente nel CDA", "person_id")
                .with_hint("The CDA has no recordTarget/patientRole/id to compare `person_id` with."),
        );
        return out;
    }
    let person = jwt.str_claim("person_id").unwrap_or_default();
    let key = java_split(&person, "^")
        .into_iter()
        .next()
        .unwrap_or_default();
    let mut dup = std::collections::HashSet::new();
    let duplicates = cda
        .patient_ids
        .iter()
        .any(|p| !dup.insert(p.extension.as_str()));
    // Collectors.toMap(extension -> root): the root of the id whose extension matches
    let root = cda
        .patient_ids
        .iter()
        .find(|p| p.extension == key)
        .map(|p| p.root.as_str());
    match root {
        None | Some("") => {
            let ids: Vec<String> = cda
                .patient_ids
                .iter()
                .map(|p| format!("{}@{}", p.extension, p.root))
                .collect();
            out.push(
                jwt_finding(&R::JWT_PERSON_ID, "JWT payload: Person id presente nel JWT differente dal codice fiscale del paziente previsto sul CDA", "person_id")
                    .with_hint(format!("`person_id` before the first `^` is `{key}`, but the CDA patientRole ids are: {}.", ids.join(", "))),
            );
        }
        Some(root) => {
            if root != OID_TEAM && !cf::is_valid_oid(Some(&person), opts.allow_special_fiscal_code)
            {
                out.push(
                    jwt_finding(&R::JWT_FISCAL_CODE, "Il codice fiscale nel campo person_id non è corretto", "person_id")
                        .with_hint("The patient id is not a TEAM id, so `person_id` must be a valid codice fiscale (bare, or CF^^^&2.16.840.1.113883.2.9.4.3.2&ISO).")
                        .with_detail("gateway_order", crate::gateway::GatewayOrder::JWT_CDA.0.to_string()),
                );
            }
        }
    }
    if duplicates {
        let mut f = R::JWT_PERSON_ID.non_blocking(
            Severity::Warning,
            "patientRole/id con estensioni duplicate",
            "/person_id",
        );
        f.location.part = Some("jwt".into());
        out.push(f.with_hint("Two patientRole/id share an @extension: the gateway's Collectors.toMap throws on duplicate keys and answers 500 /msg/generic-error."));
    }
    out
}

/// SHA-256 of the bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// `attachment_hash` against the PDF bytes (publication and replace).
pub fn check_attachment_hash(jwt: &DecodedJwt, pdf: &[u8]) -> Vec<Finding> {
    let actual = sha256_hex(pdf);
    let claimed = jwt.str_claim("attachment_hash");
    if claimed
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case(&actual))
    {
        return Vec::new();
    }
    vec![jwt_finding(&R::JWT_ATTACHMENT_HASH, "Verifica hash fallita.", "attachment_hash")
        .with_hint(format!(
            "`attachment_hash` must be the SHA-256 hex of the whole PDF file as sent: {actual}; got `{}`.",
            claimed.unwrap_or_default()
        ))
        .with_detail("expected", actual)]
}

/// The LOINC code inside `resource_hl7_type` (`('CODE^^SYSTEM')` → `CODE`).
pub fn loinc_from_resource_hl7_type(v: &str) -> Option<String> {
    let inner = v.trim().strip_prefix("('").unwrap_or(v.trim());
    let code = inner.split("^^").next()?.trim_end_matches("')");
    (!code.is_empty()).then(|| code.to_string())
}

/// The `tipoDocumentoLivAlto` a LOINC code must come with, on `release`.
pub fn correlated_tipo_doc(loinc: &str) -> Option<&'static str> {
    enums::CORRELATION_RELEASE
        .iter()
        .find(|(c, _)| *c == loinc)
        .map(|(_, t)| *t)
}

/// **[release]** correlation of the JWT LOINC code with `tipoDocumentoLivAlto` (create, replace,
/// update). Does nothing with [`GatewayRelease::Main`] or for other operations.
pub fn check_correlation(
    op: Operation,
    jwt: &DecodedJwt,
    tipo_doc: Option<&str>,
    opts: &Options,
) -> Vec<Finding> {
    if opts.release != GatewayRelease::Release
        || !matches!(
            op,
            Operation::Publication | Operation::Replace | Operation::MetadataUpdate
        )
    {
        return Vec::new();
    }
    let loinc = jwt
        .str_claim("resource_hl7_type")
        .and_then(|v| loinc_from_resource_hl7_type(&v));
    let expected = loinc.as_deref().and_then(correlated_tipo_doc);
    let mk = |msg: &str, hint: String| {
        let mut f = R::JWT_CORRELATION
            .error(msg, "/tipoDocumentoLivAlto")
            .with_hint(hint);
        f.location.part = Some("requestBody".into());
        f
    };
    match (expected, tipo_doc) {
        (Some(e), Some(t)) if e == t => Vec::new(),
        (Some(e), Some(t)) => vec![mk(
            "Non c'è correlazione tra tipo documento e tipo documento livello alto",
            format!("[release] The JWT document type {} requires tipoDocumentoLivAlto `{e}`; got `{t}`.", loinc.unwrap_or_default()),
        )
        .with_detail("expected", e)],
        _ => vec![mk(
            "Uno tra tipo documento o tipo documento livello alto risulta essere null",
            match (&loinc, expected) {
                (Some(l), None) => format!("[release] The LOINC code `{l}` of resource_hl7_type is not in DocumentTypeEnum (e.g. 60593-1 and 111490-9 are missing there), so the gateway cannot correlate it."),
                _ if tipo_doc.is_none() => "[release] tipoDocumentoLivAlto is missing.".to_string(),
                _ => "[release] resource_hl7_type carries no LOINC code.".to_string(),
            },
        )],
    }
}
