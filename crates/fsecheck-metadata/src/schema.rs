//! The JSON Schema of the request body, generated from the rule table ([`crate::body::FIELDS`],
//! [`crate::body::MANDATORY`], [`crate::enums`]). `schemas/metadata-request.schema.json` is this
//! output; a test fails when they drift (regenerate with `FSECHECK_BLESS=1 cargo test -p
//! fsecheck-metadata`).
//!
//! The schema describes a *correct* body (strict dates, no nulls). The gateway itself is more
//! lenient in places (dates, scalar coercion) and stricter in others (the repository region,
//! which the schema expresses as an alternation generated from SubjectOrganizationEnum).

use crate::body::{fields_for, mandatory_for, FieldKind, REGIONAL_OID_AS_MATCHED};
use crate::enums::{self, Availability, EnumDef, SUBJECT_ORGANIZATIONS};
use crate::{GatewayRelease, Operation};
use serde_json::{json, Map, Value};

/// Schema `$id`.
pub const SCHEMA_ID: &str = "https://fsecheck.invalid/schemas/metadata-request.schema.json";

/// Operations with a body, and their `$defs` names.
pub const BODY_OPERATIONS: [Operation; 4] = [
    Operation::Validation,
    Operation::Publication,
    Operation::Replace,
    Operation::MetadataUpdate,
];

fn regex_escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

fn enum_schema(def: &EnumDef) -> Value {
    let values = def.names(GatewayRelease::Release);
    let release_only: Vec<&str> = def
        .values
        .iter()
        .filter(|v| v.availability == Availability::ReleaseOnly)
        .map(|v| v.name)
        .collect();
    let mut m = Map::new();
    m.insert("type".into(), json!("string"));
    if def.case_insensitive {
        // JSON Schema `enum` is case-sensitive; the gateway compares these case-insensitively.
        m.insert("x-fsecheck-enum-case-insensitive".into(), json!(values));
        m.insert(
            "description".into(),
            json!(format!(
                "{} value, compared case-insensitively by the gateway.",
                def.java
            )),
        );
    } else {
        m.insert("enum".into(), json!(values));
        m.insert(
            "description".into(),
            json!(format!("{} constant name.", def.java)),
        );
    }
    m.insert("x-fsecheck-java-enum".into(), json!(def.java));
    if !release_only.is_empty() {
        m.insert("x-fsecheck-release-only".into(), json!(release_only));
    }
    Value::Object(m)
}

/// Region alternatives for `identificativoRep`: every digit string that, left-padded to 3 with
/// `0`, is a SubjectOrganizationEnum code.
fn region_alternatives() -> Vec<String> {
    let mut v = Vec::new();
    for (code, _) in SUBJECT_ORGANIZATIONS {
        let mut s = *code;
        v.push(s.to_string());
        while s.len() > 1 && s.starts_with('0') {
            s = &s[1..];
            v.push(s.to_string());
        }
    }
    v
}

fn description_pattern() -> String {
    let oids: Vec<String> = enums::DESCRIPTION_OIDS
        .iter()
        .map(|o| regex_escape(&o.replace("COD_REGIONE", "(.*)")))
        .collect();
    // Java split("\\^") drops trailing empty parts: "A^b^OID^" still has 3 parts.
    format!("^[^^]*\\^[^^]*\\^({})\\^*$", oids.join("|"))
}

fn field_schema(kind: FieldKind, doc: &str) -> Value {
    let mut v = match kind {
        FieldKind::Text => json!({"type": "string"}),
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::Enum(def) => enum_schema(def),
        FieldKind::Date => {
            json!({"type": "string", "pattern": "^[0-9]{14}$", "format": "yyyyMMddHHmmss"})
        }
        FieldKind::MasterId => json!({"type": "string", "pattern": "^[\\s\\S]*\\^[^^]+$"}),
        FieldKind::RepositoryId => json!({
            "type": "string",
            "pattern": format!("^2\\.16\\.840\\.1\\.113883\\.2\\.9\\.2\\.({})\\.4\\.5\\..*$", region_alternatives().join("|"))
        }),
        FieldKind::AttiClinici => {
            json!({"type": "array", "items": enum_schema(&enums::EVENT_CODE)})
        }
        FieldKind::Descriptions => json!({
            "type": "array",
            "items": {
                "type": "string",
                "pattern": description_pattern(),
                "x-fsecheck-note": format!("The regional DescriptionEnum OID only matches the literal {REGIONAL_OID_AS_MATCHED} (gateway COD_REGIONE bug).")
            }
        }),
    };
    if let Value::Object(m) = &mut v {
        m.entry("description").or_insert_with(|| json!(doc));
    }
    v
}

/// The `$defs` name of an operation's body.
pub fn def_name(op: Operation) -> &'static str {
    match op {
        Operation::Validation => "ValidationRequest",
        Operation::Publication => "PublicationRequest",
        Operation::Replace => "ReplaceRequest",
        Operation::MetadataUpdate => "MetadataUpdateRequest",
        Operation::Delete => "DeleteRequest",
    }
}

/// The schema of one operation's body.
pub fn operation_schema(op: Operation) -> Value {
    let mut props = Map::new();
    for f in fields_for(op) {
        props.insert(f.name.into(), field_schema(f.kind, f.doc));
    }
    let required: Vec<&str> = mandatory_for(op).iter().map(|m| m.field).collect();
    json!({
        "type": "object",
        "description": format!("Body of the {} request ({}).", op.as_str(), op.dto_class().unwrap_or("")),
        "properties": props,
        "required": required,
        // The metadata update is bound by Spring's mapper, which ignores unknown properties.
        "additionalProperties": op == Operation::MetadataUpdate,
    })
}

/// The whole schema.
pub fn request_schema() -> Value {
    let mut defs = Map::new();
    for op in BODY_OPERATIONS {
        defs.insert(def_name(op).into(), operation_schema(op));
    }
    let any_of: Vec<Value> = BODY_OPERATIONS
        .iter()
        .map(|op| json!({"$ref": format!("#/$defs/{}", def_name(*op))}))
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Gateway FSE 2.0 publication request body (requestBody)",
        "description": "Generated by fsecheck-metadata from its rule table (crates/fsecheck-metadata/src/body.rs, enums.rs); do not edit by hand. Enum values are the Java constant names of the dispatcher's `release` branch; x-fsecheck-release-only lists those missing on `main`.",
        "anyOf": any_of,
        "$defs": defs,
    })
}

/// The schema as written to `schemas/metadata-request.schema.json` (pretty, trailing newline).
pub fn request_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&request_schema()).expect("serializable");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_alternatives_include_unpadded_forms() {
        let r = region_alternatives();
        for want in ["120", "010", "10", "000", "00", "0", "001", "01", "1"] {
            assert!(r.contains(&want.to_string()), "{want}");
        }
        assert!(!r.contains(&"12".to_string()));
    }
}
