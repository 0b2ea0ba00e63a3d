//! `requestBody` rules, as data: [`FIELDS`] (which property each operation accepts, and its
//! type) and [`MANDATORY`] (which must be set, in the gateway's order, with its message label).
//! [`check_body`] interprets the tables; the JSON Schema and `docs/METADATA.md` are generated
//! from the same tables ([`crate::schema`], [`crate::docs`]).

use crate::cf::java_split;
use crate::dates;
use crate::enums::{self, EnumDef};
use crate::gateway::{rules as R, GatewayOrder};
use crate::{GatewayRelease, Operation, Options};
use fsecheck_core::{Finding, Severity};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::sync::OnceLock;

/// The JSON type and checks of a field.
#[derive(Debug, Clone, Copy)]
pub enum FieldKind {
    /// A Java `String` (Jackson coerces JSON numbers and booleans into it).
    Text,
    /// A Java `Boolean`.
    Bool,
    /// A Java enum: the JSON string must be a constant name.
    Enum(&'static EnumDef),
    /// `yyyyMMddHHmmss` string (`dataInizioPrestazione`, `dataFinePrestazione`).
    Date,
    /// `identificativoDoc`: master id.
    MasterId,
    /// `identificativoRep`: repositoryUniqueId.
    RepositoryId,
    /// `List<String>` of EventCodeEnum codes.
    AttiClinici,
    /// `List<String>` of `CODE^Description^OID`.
    Descriptions,
}

const V: Operation = Operation::Validation;
const P: Operation = Operation::Publication;
const RP: Operation = Operation::Replace;
const U: Operation = Operation::MetadataUpdate;

/// One property of the request body.
#[derive(Debug, Clone, Copy)]
pub struct FieldRule {
    pub name: &'static str,
    pub kind: FieldKind,
    /// Operations whose DTO has this property.
    pub ops: &'static [Operation],
    /// English description (schema `description`, docs).
    pub doc: &'static str,
}

/// Every property of every request DTO, in the DTOs' declaration order.
pub const FIELDS: &[FieldRule] = &[
    FieldRule {
        name: "healthDataFormat",
        kind: FieldKind::Enum(&enums::HEALTH_DATA_FORMAT),
        ops: &[V, P, RP],
        doc: "Health data format (only CDA).",
    },
    FieldRule {
        name: "mode",
        kind: FieldKind::Enum(&enums::INJECTION_MODE),
        ops: &[V, P, RP],
        doc: "CDA extraction mode; absent = RESOURCE then ATTACHMENT, with a warning.",
    },
    FieldRule {
        name: "activity",
        kind: FieldKind::Enum(&enums::ACTIVITY),
        ops: &[V],
        doc: "VALIDATION stores the CDA hash for a later publication; VERIFICA only checks.",
    },
    FieldRule {
        name: "tipologiaStruttura",
        kind: FieldKind::Enum(&enums::HEALTHCARE_FACILITY),
        ops: &[P, RP, U],
        doc: "Type of facility that produced the document.",
    },
    FieldRule {
        name: "attiCliniciRegoleAccesso",
        kind: FieldKind::AttiClinici,
        ops: &[P, RP, U],
        doc: "Access-rule event codes (EventCodeEnum codes, case-insensitive).",
    },
    FieldRule {
        name: "tipoDocumentoLivAlto",
        kind: FieldKind::Enum(&enums::TIPO_DOC_ALTO_LIV),
        ops: &[P, RP, U],
        doc: "High-level document type.",
    },
    FieldRule {
        name: "assettoOrganizzativo",
        kind: FieldKind::Enum(&enums::PRACTICE_SETTING),
        ops: &[P, RP, U],
        doc: "Practice setting code.",
    },
    FieldRule {
        name: "dataInizioPrestazione",
        kind: FieldKind::Date,
        ops: &[P, RP, U],
        doc: "Service start, yyyyMMddHHmmss.",
    },
    FieldRule {
        name: "dataFinePrestazione",
        kind: FieldKind::Date,
        ops: &[P, RP, U],
        doc: "Service end, yyyyMMddHHmmss.",
    },
    FieldRule {
        name: "conservazioneANorma",
        kind: FieldKind::Text,
        ops: &[P, RP, U],
        doc: "Legal archiving reference (not checked).",
    },
    FieldRule {
        name: "tipoAttivitaClinica",
        kind: FieldKind::Enum(&enums::ATTIVITA_CLINICA),
        ops: &[P, RP, U],
        doc: "Clinical activity type.",
    },
    FieldRule {
        name: "identificativoSottomissione",
        kind: FieldKind::Text,
        ops: &[P, RP, U],
        doc: "Submission set id (not format-checked).",
    },
    FieldRule {
        name: "descriptions",
        kind: FieldKind::Descriptions,
        ops: &[P, RP, U],
        doc: "CODE^Description^OID items, OID from DescriptionEnum.",
    },
    FieldRule {
        name: "administrativeRequest",
        kind: FieldKind::Enum(&enums::ADMINISTRATIVE_REQ),
        ops: &[P, RP, U],
        doc: "Administrative request type (single value in the dispatcher DTO).",
    },
    FieldRule {
        name: "identificativoDoc",
        kind: FieldKind::MasterId,
        ops: &[P, RP],
        doc: "Document master id: <OID>^<id>.",
    },
    FieldRule {
        name: "identificativoRep",
        kind: FieldKind::RepositoryId,
        ops: &[P, RP],
        doc: "repositoryUniqueId 2.16.840.1.113883.2.9.2.<region>.4.5.<...>.",
    },
    FieldRule {
        name: "workflowInstanceId",
        kind: FieldKind::Text,
        ops: &[P, RP],
        doc: "wii returned by the validation; if given it must match (server state, not checked).",
    },
    FieldRule {
        name: "priorita",
        kind: FieldKind::Bool,
        ops: &[P],
        doc: "Priority flag (create only: replace rejects it as an unknown property).",
    },
];

/// A mandatory field, with the label the gateway uses in `Il campo <label> deve essere valorizzato.`
#[derive(Debug, Clone, Copy)]
pub struct MandatoryRule {
    pub field: &'static str,
    pub label: &'static str,
    pub ops: &'static [Operation],
}

/// Mandatory fields in the gateway's order (`checkPublicationMandatoryElements`,
/// `checkValidationMandatoryElements`, `checkUpdateMandatoryElements`). A string field fails when
/// null or `""`; an enum field when null.
pub const MANDATORY: &[MandatoryRule] = &[
    MandatoryRule {
        field: "activity",
        label: "activity",
        ops: &[V],
    },
    MandatoryRule {
        field: "identificativoDoc",
        label: "identificativo documento",
        ops: &[P],
    },
    MandatoryRule {
        field: "identificativoRep",
        label: "identificativo rep",
        ops: &[P, RP],
    },
    MandatoryRule {
        field: "tipoDocumentoLivAlto",
        label: "tipo documento liv alto",
        ops: &[P, RP, U],
    },
    MandatoryRule {
        field: "assettoOrganizzativo",
        label: "assetto organizzativo",
        ops: &[P, RP],
    },
    MandatoryRule {
        field: "tipoAttivitaClinica",
        label: "tipo attivita clinica",
        ops: &[P, RP],
    },
    MandatoryRule {
        field: "identificativoSottomissione",
        label: "identificativo sottomissione",
        ops: &[P, RP],
    },
    MandatoryRule {
        field: "tipologiaStruttura",
        label: "tipologia struttura",
        ops: &[P, RP],
    },
];

/// The fields an operation accepts, in declaration order.
pub fn fields_for(op: Operation) -> Vec<&'static FieldRule> {
    FIELDS.iter().filter(|f| f.ops.contains(&op)).collect()
}

/// The mandatory fields of an operation, in the gateway's order.
pub fn mandatory_for(op: Operation) -> Vec<&'static MandatoryRule> {
    MANDATORY.iter().filter(|m| m.ops.contains(&op)).collect()
}

/// The message of a mandatory-field failure.
pub fn mandatory_message(label: &str) -> String {
    format!("Il campo {label} deve essere valorizzato.")
}

/// A JSON object with its keys in document order (Jackson reports the first problem it meets).
#[derive(Debug, Clone, Default)]
pub struct OrderedObject(pub Vec<(String, Value)>);

impl OrderedObject {
    /// The last value for `key` (Jackson's setter runs for each duplicate; the last wins).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl<'de> Visitor<'de> for Vis {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = map.next_entry::<String, Value>()? {
                    v.push((k, val));
                }
                Ok(OrderedObject(v))
            }
        }
        d.deserialize_map(Vis)
    }
}

/// Escape a key for a JSON pointer token.
pub fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn conversion_message(op: Operation) -> String {
    format!(
        "Errore durante la conversione da json a oggetto {}",
        op.dto_class().unwrap_or("?")
    )
}

fn update_hint(op: Operation) -> &'static str {
    if op == Operation::MetadataUpdate {
        " The metadata-update endpoint binds the JSON with Spring's mapper, so it answers with Spring's default 400 body rather than this gateway text."
    } else {
        ""
    }
}

fn is_null_or_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

/// The string Jackson would bind to a `String` field (numbers and booleans are coerced).
/// (Gson binds the JWT claims the same way.)
pub(crate) fn as_java_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Check a request body given as text (the multipart `requestBody` part, or the update body).
pub fn check_body(op: Operation, text: &str, opts: &Options) -> Vec<Finding> {
    if op == Operation::Delete {
        return Vec::new();
    }
    match serde_json::from_str::<OrderedObject>(text) {
        Ok(obj) => check_body_object(op, &obj, opts),
        Err(e) => {
            let f = R::BODY_INVALID_JSON
                .error(conversion_message(op), "")
                .with_hint(format!(
                    "The requestBody is missing, is not valid JSON, or is not a JSON object ({e}).{}",
                    update_hint(op)
                ))
                .with_detail("parse_error", e.to_string());
            vec![if op == Operation::MetadataUpdate {
                spring_bound(f)
            } else {
                f
            }]
        }
    }
}

/// Check a request body already parsed (keys in document order).
pub fn check_body_object(op: Operation, obj: &OrderedObject, opts: &Options) -> Vec<Finding> {
    let mut out = Vec::new();
    if op == Operation::Delete {
        return out;
    }
    let release = opts.release;

    // 1. Jackson conversion: unknown properties, types and enum names, in document order.
    for (key, value) in &obj.0 {
        let ptr = format!("/{}", pointer_token(key));
        let Some(field) = FIELDS.iter().find(|f| f.name == key && f.ops.contains(&op)) else {
            if op == Operation::MetadataUpdate {
                out.push(
                    R::UNKNOWN_PROPERTY
                        .non_blocking(
                            Severity::Warning,
                            format!("Proprietà {key} ignorata"),
                            &ptr,
                        )
                        .with_hint(format!(
                            "`{key}` is not a property of the metadata update; the update endpoint ignores unknown properties, so it has no effect."
                        )),
                );
                continue;
            }
            let mut hint = format!(
                "`{key}` is not a property accepted by the {} request; Jackson rejects unknown properties.",
                op.as_str()
            );
            if key == "priorita" && op == Operation::Replace {
                hint.push_str(
                    " `priorita` exists only on create: PublicationUpdateReqDTO has no such field.",
                );
            } else if let Some(other) = FIELDS.iter().find(|f| f.name.eq_ignore_ascii_case(key)) {
                if other.ops.contains(&op) {
                    hint.push_str(&format!(
                        " Did you mean `{}`? Property names are case-sensitive.",
                        other.name
                    ));
                }
            }
            out.push(
                R::UNKNOWN_PROPERTY
                    .error(
                        format!(
                            "Parametro non riconosciuto all'interno della request nella conversione di {}",
                            op.dto_class().unwrap_or("?")
                        ),
                        &ptr,
                    )
                    .with_hint(hint)
                    .with_detail("property", key.clone()),
            );
            continue;
        };
        let before = out.len();
        check_value_type(op, field, value, &ptr, release, &mut out);
        if op == Operation::MetadataUpdate {
            for f in &mut out[before..] {
                if f.details.get("gateway_blocking").map(String::as_str) == Some("true") {
                    *f = spring_bound(f.clone());
                }
            }
        }
    }

    // 2. Mandatory fields, in the gateway's order.
    for m in mandatory_for(op) {
        if is_null_or_empty(obj.get(m.field)) {
            let mut f = R::MANDATORY
                .error(mandatory_message(m.label), &format!("/{}", m.field))
                .with_hint(if m.field == "activity" {
                    "`activity` (VALIDATION or VERIFICA) is mandatory: the guide says it defaults to VALIDATION, but the gateway's code rejects a body without it.".to_string()
                } else {
                    format!("`{}` is mandatory for the {} request.", m.field, op.as_str())
                })
                .with_detail("field", m.field);
            if op == Operation::MetadataUpdate {
                // validateUpdateMetadataReq builds the problem with a type and a detail only
                f.details.remove("gateway_instance");
                f.details.remove("gateway_title");
            }
            out.push(f);
        }
    }

    // 3. descriptions / atti clinici / dates, in the order of each operation's code path.
    match op {
        Operation::Publication | Operation::Replace => {
            check_descriptions(obj, &mut out);
            check_atti(obj, release, &mut out);
            check_dates(obj, opts, &mut out);
        }
        Operation::MetadataUpdate => {
            check_atti(obj, release, &mut out);
            check_dates(obj, opts, &mut out);
            check_descriptions(obj, &mut out);
        }
        _ => {}
    }

    // 4. Master id (publication and replace: the body id is checked on both).
    if matches!(op, Operation::Publication | Operation::Replace) {
        let id = obj.get("identificativoDoc").and_then(as_java_string);
        if !is_valid_master_id(id.as_deref()) {
            let hint = if id.is_none() && op == Operation::Replace {
                "The replace request must carry `identificativoDoc` too: the gateway checks it as a master id (<OID>^<id>) although it is not in the mandatory list."
            } else {
                "`identificativoDoc` must be a master id: non-blank, containing `^`, with text after the last `^` (e.g. 2.16.840.1.113883.2.9.2.120.4.4^ABC123)."
            };
            out.push(
                R::MASTER_ID
                    .error(
                        "L'identificativo documento non è valido",
                        "/identificativoDoc",
                    )
                    .with_hint(hint),
            );
        }
        // 5. identificativoRep (checked when the FHIR/INI metadata are built).
        if let Some(rep) = obj.get("identificativoRep").and_then(as_java_string) {
            if !rep.is_empty() && !is_valid_repository_id(&rep) {
                out.push(
                    R::REPOSITORY_ID
                        .error("Error: Invalid format for repositoryUniqueId", "/identificativoRep")
                        .with_hint("`identificativoRep` must match 2.16.840.1.113883.2.9.2.<region>.4.5.<...> where <region>, left-padded to 3 digits, is a SubjectOrganizationEnum code (e.g. 120 Lazio). The gateway reports it late, as /msg/generic-error.")
                        .with_detail("value", rep),
                );
            }
        }
    }
    out
}

fn check_value_type(
    op: Operation,
    field: &FieldRule,
    value: &Value,
    ptr: &str,
    release: GatewayRelease,
    out: &mut Vec<Finding>,
) {
    let type_error = |expected: &str| {
        R::TYPE
            .error(conversion_message(op), ptr)
            .with_hint(format!(
                "`{}` must be {expected}; got {}.{}",
                field.name,
                json_type(value),
                update_hint(op)
            ))
            .with_detail("field", field.name)
    };
    match field.kind {
        FieldKind::Text | FieldKind::Date | FieldKind::MasterId | FieldKind::RepositoryId => {
            if matches!(value, Value::Array(_) | Value::Object(_)) {
                out.push(type_error("a string"));
            }
        }
        FieldKind::Bool => match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
            Value::String(s)
                if matches!(
                    s.as_str(),
                    "true" | "false" | "True" | "False" | "TRUE" | "FALSE" | ""
                ) => {}
            _ => out.push(type_error("a boolean")),
        },
        FieldKind::Enum(def) => check_enum(op, field, def, value, ptr, release, out),
        FieldKind::AttiClinici | FieldKind::Descriptions => match value {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if matches!(item, Value::Array(_) | Value::Object(_) | Value::Null) {
                        out.push(
                            R::TYPE
                                .error(conversion_message(op), &format!("{ptr}/{i}"))
                                .with_hint(format!(
                                    "Items of `{}` must be strings; got {}.",
                                    field.name,
                                    json_type(item)
                                ))
                                .with_detail("field", field.name),
                        );
                    }
                }
            }
            _ => out.push(type_error(
                "an array of strings (a single value is not wrapped)",
            )),
        },
    }
}

fn check_enum(
    op: Operation,
    field: &FieldRule,
    def: &'static EnumDef,
    value: &Value,
    ptr: &str,
    release: GatewayRelease,
    out: &mut Vec<Finding>,
) {
    let allowed = def.names(release);
    match value {
        Value::Null => {}
        // Jackson (FAIL_ON_NUMBERS_FOR_ENUMS off) also reads a string of digits as an index.
        Value::String(s)
            if def.find(s, release).is_none()
                && !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && s.parse::<u64>().ok().and_then(|i| def.by_index(i, release)).is_some() =>
        {
            let name = def.by_index(s.parse().unwrap_or(0), release).unwrap_or("");
            out.push(
                R::ENUM_INDEX
                    .non_blocking(Severity::Warning, format!("Valore numerico {s} interpretato come {name}"), ptr)
                    .with_hint(format!(
                        "Jackson reads the digit string \"{s}\" as an index into {} (`{name}`); send the name instead: the index changes when the enum does.",
                        def.java
                    ))
                    .with_detail("field", field.name),
            );
        }
        Value::String(s) => {
            if def.find(s, release).is_none() {
                let mut hint = format!(
                    "`{}` must be one of the {} constant names ({}).",
                    field.name,
                    def.java,
                    short_list(&allowed)
                );
                if let Some(ci) = def.values.iter().find(|v| v.name.eq_ignore_ascii_case(s)) {
                    if ci.availability.in_release(release) {
                        hint.push_str(&format!(" Case matters: `{}`.", ci.name));
                    }
                }
                if def.find(s, release.other()).is_some() {
                    hint.push_str(&format!(
                        " `{s}` exists only on the dispatcher's `{}` branch.",
                        release.other().as_str()
                    ));
                }
                if let Some(c) = JAVA_DISPLAY_NAMES.iter().find(|(_, d)| *d == s) {
                    hint.push_str(&format!(" Send the constant name `{}`, not its code/description.", c.0));
                }
                hint.push_str(update_hint(op));
                out.push(
                    R::ENUM
                        .error(conversion_message(op), ptr)
                        .with_hint(hint)
                        .with_detail("field", field.name)
                        .with_detail("enum", def.java)
                        .with_detail("value", s.clone()),
                );
            }
        }
        Value::Number(n) => match n.as_u64().and_then(|i| def.by_index(i, release)) {
            Some(name) => out.push(
                R::ENUM_INDEX
                    .non_blocking(Severity::Warning, format!("Valore numerico {n} interpretato come {name}"), ptr)
                    .with_hint(format!(
                        "Jackson binds the integer {n} to the {n}th constant of {} (`{name}`); send the name instead: the index changes when the enum does.",
                        def.java
                    ))
                    .with_detail("field", field.name),
            ),
            None => out.push(
                R::ENUM
                    .error(conversion_message(op), ptr)
                    .with_hint(format!("`{}`: {n} is not a valid index of {}.", field.name, def.java))
                    .with_detail("field", field.name)
                    .with_detail("enum", def.java),
            ),
        },
        _ => out.push(
            R::ENUM
                .error(conversion_message(op), ptr)
                .with_hint(format!("`{}` must be a string naming a {} constant.", field.name, def.java))
                .with_detail("field", field.name)
                .with_detail("enum", def.java),
        ),
    }
}

/// Codes/descriptions people send instead of the Java constant names.
const JAVA_DISPLAY_NAMES: &[(&str, &str)] = &[
    ("Sistema_TS", "Sistema TS"),
    ("PN_DGC", "PN-DGC"),
    ("MdsPN_DGC", "MdsPN-DGC"),
];

fn short_list(v: &[&str]) -> String {
    if v.len() <= 20 {
        v.join(", ")
    } else {
        format!("{}, … ({} values)", v[..12].join(", "), v.len())
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string_items(v: Option<&Value>) -> Vec<(usize, String)> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| as_java_string(it).map(|s| (i, s)))
            .collect(),
        _ => Vec::new(),
    }
}

/// The literal the regional DescriptionEnum OID is matched against, because of the gateway bug:
/// `Pattern.quote(oid).replace("COD_REGIONE", "(.*)")` puts `(.*)` *inside* `\Q…\E`.
pub const REGIONAL_OID_AS_MATCHED: &str = "2.16.840.1.113883.2.9.2.(.*).6.1.11";

/// Does the gateway accept this OID as a `descriptions` OID?
pub fn description_oid_accepted(oid: &str) -> bool {
    enums::DESCRIPTION_OIDS
        .iter()
        .map(|o| o.replace("COD_REGIONE", "(.*)"))
        .any(|o| o == oid)
}

fn regional_oid_re() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^2\.16\.840\.1\.113883\.2\.9\.2\.([0-9]+)\.6\.1\.11$").unwrap()
    })
}

fn check_descriptions(obj: &OrderedObject, out: &mut Vec<Finding>) {
    const FORMAT: &str = "Valorizzare correttamente il campo descriptions rispettando la forma: [CODICE]^[Descrizione]^[OID]";
    const OIDS: &str = "Valorizzare correttamente il campo descriptions rispettando i valori di riferimento per gli OID";
    // (index, message, hint); the gateway loop breaks on a format error and keeps the last OID error.
    let mut errs: Vec<(usize, &str, String)> = Vec::new();
    let mut gateway_pick: Option<usize> = None;
    let mut broke = false;
    for (i, d) in string_items(obj.get("descriptions")) {
        let parts = java_split(&d, "^");
        if parts.len() != 3 {
            errs.push((
                i,
                FORMAT,
                format!(
                    "`{d}` splits on `^` into {} parts, not 3 (empty trailing parts are dropped).",
                    parts.len()
                ),
            ));
            if !broke {
                gateway_pick = Some(errs.len() - 1);
                broke = true;
            }
            continue;
        }
        let oid = &parts[2];
        if !description_oid_accepted(oid) {
            let mut hint = format!(
                "`{oid}` is not a DescriptionEnum OID ({}).",
                enums::DESCRIPTION_OIDS.join(", ")
            );
            if regional_oid_re().is_match(oid) {
                hint.push_str(" Regional OIDs are rejected because of a gateway bug: `COD_REGIONE` is replaced by `(.*)` inside Pattern.quote, so only the literal `2.16.840.1.113883.2.9.2.(.*).6.1.11` matches.");
            }
            errs.push((i, OIDS, hint));
            if !broke {
                gateway_pick = Some(errs.len() - 1);
            }
        } else if oid == REGIONAL_OID_AS_MATCHED {
            out.push(
                R::DESCRIPTIONS
                    .non_blocking(Severity::Warning, "OID regionale accettato solo per un difetto del gateway", &format!("/descriptions/{i}"))
                    .with_hint("The gateway accepts the literal `2.16.840.1.113883.2.9.2.(.*).6.1.11` (COD_REGIONE bug); a real regional OID is rejected. Expect this to change when the bug is fixed."),
            );
        }
    }
    emit_picked_first(errs, gateway_pick, &R::DESCRIPTIONS, "/descriptions", out);
}

fn check_atti(obj: &OrderedObject, release: GatewayRelease, out: &mut Vec<Finding>) {
    let mut errs: Vec<(usize, String, String)> = Vec::new();
    for (i, a) in string_items(obj.get("attiCliniciRegoleAccesso")) {
        if enums::EVENT_CODE.find(&a, release).is_none() {
            let mut hint = format!("`{a}` is not an EventCodeEnum code (ATC J07…, SNOMED CT, P99, PUBLICPOL, …; case-insensitive).");
            if enums::EVENT_CODE.find(&a, release.other()).is_some() {
                hint.push_str(&format!(
                    " It exists only on the dispatcher's `{}` branch.",
                    release.other().as_str()
                ));
            }
            errs.push((
                i,
                format!("Il campo atti clinici {a} non è consentito"),
                hint,
            ));
        }
    }
    // The gateway loop does not break: its message names the last invalid code.
    let pick = errs.len().checked_sub(1);
    let errs: Vec<(usize, &str, String)> = errs
        .iter()
        .map(|(i, m, h)| (*i, m.as_str(), h.clone()))
        .collect();
    emit_picked_first(
        errs,
        pick,
        &R::ATTI_CLINICI,
        "/attiCliniciRegoleAccesso",
        out,
    );
}

/// Emit per-item findings, the one the gateway would report first (so [`crate::gateway_verdict`]
/// gives the gateway's exact detail), then the others in document order.
fn emit_picked_first(
    errs: Vec<(usize, &str, String)>,
    pick: Option<usize>,
    rule: &crate::gateway::RuleInfo,
    base: &str,
    out: &mut Vec<Finding>,
) {
    let mk = |(i, m, h): &(usize, &str, String)| {
        rule.error(m.to_string(), &format!("{base}/{i}"))
            .with_hint(h.clone())
    };
    if let Some(p) = pick {
        out.push(mk(&errs[p]).with_detail("gateway_reports", "true"));
    }
    for (k, e) in errs.iter().enumerate() {
        if Some(k) != pick {
            out.push(mk(e));
        }
    }
}

fn check_dates(obj: &OrderedObject, opts: &Options, out: &mut Vec<Finding>) {
    for (field, label) in [
        ("dataInizioPrestazione", "data inizio"),
        ("dataFinePrestazione", "data fine"),
    ] {
        let Some(v) = obj.get(field).and_then(as_java_string) else {
            continue;
        };
        let lenient_ok = dates::gateway_accepts_prestazione(&v);
        let strict_ok = dates::strict_prestazione(&v);
        let msg = format!("Il campo {label} deve essere valorizzato correttamente");
        let ptr = format!("/{field}");
        if !lenient_ok {
            out.push(
                R::DATE_FORMAT
                    .error(msg, &ptr)
                    .with_hint(format!("`{v}` is not yyyyMMddHHmmss (14 digits, e.g. 20240131093000); even the gateway's lenient SimpleDateFormat cannot parse it."))
                    .with_detail("gateway_lenient", "rejects")
                    .with_detail("strict", "rejects"),
            );
        } else if !strict_ok {
            let hint = format!("`{v}` is not a valid yyyyMMddHHmmss date-time. The gateway's lenient SimpleDateFormat accepts it (it rolls over out-of-range fields and ignores trailing text), but the later strict DateUtility check silently drops it from the INI DocumentEntry.");
            let f = if opts.strict_dates {
                R::DATE_FORMAT.non_blocking(Severity::Error, msg, &ptr)
            } else {
                R::DATE_FORMAT.non_blocking(Severity::Warning, msg, &ptr)
            };
            out.push(
                f.with_hint(hint)
                    .with_detail("gateway_lenient", "accepts")
                    .with_detail("strict", "rejects"),
            );
        }
    }
}

/// `CdaUtility.isValidMasterId` (reference §6): non-blank, contains `^`, non-empty text after
/// the last `^`.
pub fn is_valid_master_id(id: Option<&str>) -> bool {
    match id {
        None => false,
        Some(s) if s.trim().is_empty() => false,
        Some(s) => s.rfind('^').is_some_and(|i| i + 1 < s.len()),
    }
}

fn repository_re() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^2\.16\.840\.1\.113883\.2\.9\.2\.([0-9]+)\.4\.5\..*$").unwrap()
    })
}

/// `identificativoRep`: the regex, and the region group left-padded to 3 digits must be a
/// SubjectOrganizationEnum code.
pub fn is_valid_repository_id(rep: &str) -> bool {
    let Some(c) = repository_re().captures(rep) else {
        return false;
    };
    let region = &c[1];
    let padded = format!("{region:0>3}");
    enums::organization_by_code(&padded).is_some()
}

/// The URL `{idDoc}` of replace, update and delete (`/invalid-req-id`).
pub fn check_path_id_doc(op: Operation, id_doc: &str) -> Vec<Finding> {
    if is_valid_master_id(Some(id_doc)) {
        return Vec::new();
    }
    let hint = "The {idDoc} path segment must be a master id: non-blank, containing `^`, with text after the last `^` (URL-encode `^` as %5E).";
    let f = if op == Operation::Replace {
        R::PATH_ID_DOC.error(
            "L'identificativo documento fornito in richiesta non è valido",
            "",
        )
    } else {
        // Metadata update (and delete): `updateAbstract` checks the path id with
        // createMasterIdError() (/invalid-id) before even reading the JWT.
        R::PATH_ID_DOC
            .error("L'identificativo documento non è valido", "")
            .with_detail("gateway_instance", "/invalid-id")
            .with_detail("gateway_order", GatewayOrder::PATH_ID_FIRST.0.to_string())
    };
    vec![f.with_hint(hint).with_detail("value", id_doc)]
}

/// For the metadata update, the JSON body is bound by Spring before the controller runs: a
/// conversion error is answered first, with Spring's default 400 body, not a gateway problem.
fn spring_bound(mut f: Finding) -> Finding {
    for k in ["gateway_type", "gateway_title", "gateway_instance"] {
        f.details.remove(k);
    }
    f.details.insert(
        "gateway_order".into(),
        GatewayOrder::SPRING_BINDING.0.to_string(),
    );
    f.details.insert(
        "gateway_note".into(),
        "Spring default 400 (HttpMessageNotReadableException), not a gateway problem body".into(),
    );
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_id() {
        assert!(is_valid_master_id(Some(
            "2.16.840.1.113883.2.9.2.110.4.4^12345"
        )));
        assert!(is_valid_master_id(Some("a^b^c")));
        assert!(!is_valid_master_id(Some(
            "2.16.840.1.113883.2.9.2.110.4.4^"
        )));
        assert!(!is_valid_master_id(Some("12345")));
        assert!(!is_valid_master_id(Some("   ")));
        assert!(!is_valid_master_id(None));
    }

    #[test]
    fn repository_id() {
        assert!(is_valid_repository_id("2.16.840.1.113883.2.9.2.150.4.5.1"));
        assert!(is_valid_repository_id("2.16.840.1.113883.2.9.2.1.4.5.x")); // 001 SASN
        assert!(!is_valid_repository_id("2.16.840.1.113883.2.9.2.12.4.5.1")); // 012
        assert!(!is_valid_repository_id(
            "2.16.840.1.113883.2.9.2.0120.4.5.1"
        ));
        assert!(!is_valid_repository_id("2.16.840.1.113883.2.9.2.120.4.4.1"));
        assert!(!is_valid_repository_id("2.16.840.1.113883.2.9.2.120.4.5"));
    }

    #[test]
    fn description_oids_with_the_cod_regione_bug() {
        assert!(description_oid_accepted("2.16.840.1.113883.6.73"));
        assert!(description_oid_accepted(REGIONAL_OID_AS_MATCHED));
        assert!(!description_oid_accepted(
            "2.16.840.1.113883.2.9.2.120.6.1.11"
        ));
        assert!(!description_oid_accepted(
            "2.16.840.1.113883.2.9.2.COD_REGIONE.6.1.11"
        ));
    }
}
