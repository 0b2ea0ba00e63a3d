//! `schemas/metadata-request.schema.json` and `docs/METADATA.md` are generated from the rule
//! table; these tests fail when either drifts. Regenerate with
//! `FSECHECK_BLESS=1 cargo test -p fsecheck-metadata --test schema_docs`.

mod common;
use fsecheck_metadata::body::{fields_for, mandatory_for, FieldKind};
use fsecheck_metadata::schema::{def_name, request_schema_text, BODY_OPERATIONS};
use fsecheck_metadata::{docs, parse_http_file, GatewayRelease, Operation};
use serde_json::{json, Value};
use std::path::PathBuf;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bless() -> bool {
    std::env::var_os("FSECHECK_BLESS").is_some()
}

fn schema_file() -> Value {
    let p = workspace().join("schemas/metadata-request.schema.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}")))
        .expect("schema parses")
}

#[test]
fn schema_file_is_the_generated_one() {
    let p = workspace().join("schemas/metadata-request.schema.json");
    let want = request_schema_text();
    if bless() && std::fs::read_to_string(&p).ok().as_deref() != Some(want.as_str()) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &want).unwrap();
    }
    let have = std::fs::read_to_string(&p).unwrap_or_default();
    assert!(
        have == want,
        "{p:?} is stale: run FSECHECK_BLESS=1 cargo test -p fsecheck-metadata --test schema_docs"
    );
}

/// Independently of the text comparison: every enum field of every operation lists exactly the
/// table's values (release set), and `required` is the mandatory list.
#[test]
fn schema_lists_the_same_enum_values_and_mandatory_fields_as_the_table() {
    let s = schema_file();
    for op in BODY_OPERATIONS {
        let def = &s["$defs"][def_name(op)];
        let props = def["properties"].as_object().unwrap();
        assert_eq!(props.len(), fields_for(op).len(), "{op:?}");
        for f in fields_for(op) {
            let p = &props[f.name];
            let enum_def = match f.kind {
                FieldKind::Enum(d) => Some((d, &p["enum"])),
                FieldKind::AttiClinici => Some((
                    &fsecheck_metadata::enums::EVENT_CODE,
                    &p["items"]["x-fsecheck-enum-case-insensitive"],
                )),
                _ => None,
            };
            if let Some((d, listed)) = enum_def {
                let listed: Vec<&str> = listed
                    .as_array()
                    .unwrap_or_else(|| panic!("{op:?} {}", f.name))
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                assert_eq!(
                    listed,
                    d.names(GatewayRelease::Release),
                    "{op:?} {}",
                    f.name
                );
            }
        }
        let required: Vec<&str> = def["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mandatory: Vec<&str> = mandatory_for(op).iter().map(|m| m.field).collect();
        assert_eq!(required, mandatory, "{op:?}");
    }
}

/// A tiny validator for the subset of JSON Schema the file uses.
fn validate(schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => true,
        };
        if !ok {
            errs.push(format!("{path}: not {t}"));
            return;
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errs.push(format!("{path}: {v} not in enum"));
        }
    }
    if let Some(e) = schema
        .get("x-fsecheck-enum-case-insensitive")
        .and_then(Value::as_array)
    {
        let s = v.as_str().unwrap_or("");
        if !e
            .iter()
            .any(|x| x.as_str().unwrap().eq_ignore_ascii_case(s))
        {
            errs.push(format!("{path}: {v} not in case-insensitive enum"));
        }
    }
    if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
        if !regex::Regex::new(p)
            .unwrap()
            .is_match(v.as_str().unwrap_or(""))
        {
            errs.push(format!("{path}: {v} does not match {p}"));
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, it) in arr.iter().enumerate() {
            validate(items, it, &format!("{path}/{i}"), errs);
        }
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        v.as_object(),
    ) {
        for (k, val) in obj {
            match props.get(k) {
                Some(ps) => validate(ps, val, &format!("{path}/{k}"), errs),
                None if schema["additionalProperties"] == json!(false) => {
                    errs.push(format!("{path}/{k}: unknown"))
                }
                None => {}
            }
        }
        for r in schema["required"].as_array().into_iter().flatten() {
            if !obj.contains_key(r.as_str().unwrap()) {
                errs.push(format!("{path}/{r}: required"));
            }
        }
    }
}

fn validate_op(op: Operation, body: &Value) -> Vec<String> {
    let s = schema_file();
    let mut errs = Vec::new();
    validate(&s["$defs"][def_name(op)], body, "", &mut errs);
    errs
}

#[test]
fn official_bodies_fit_the_schema_and_mutants_do_not() {
    let mut n = 0;
    for d in ["t1-validate", "t2-create"] {
        for e in std::fs::read_dir(common::gateway_tests().join(d)).unwrap() {
            for r in parse_http_file(&e.unwrap().path())
                .unwrap()
                .gateway_requests()
            {
                let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
                assert_eq!(
                    validate_op(r.operation, &body),
                    Vec::<String>::new(),
                    "{r:?}"
                );
                n += 1;
            }
        }
    }
    assert_eq!(n, 24);
    let good = json!({
        "tipologiaStruttura": "MdsPN_DGC", "tipoDocumentoLivAlto": "REF", "assettoOrganizzativo": "AD_PSC131",
        "tipoAttivitaClinica": "Sistema_TS", "identificativoSottomissione": "x",
        "identificativoDoc": "2.16.840.1.113883.2.9.2.120.4.4^1", "identificativoRep": "2.16.840.1.113883.2.9.2.1.4.5.1",
        "attiCliniciRegoleAccesso": ["publicpol"], "descriptions": ["A^B^2.16.840.1.113883.6.73^"],
        "dataInizioPrestazione": "20240101120000"
    });
    assert!(
        validate_op(Operation::Publication, &good).is_empty(),
        "{:?}",
        validate_op(Operation::Publication, &good)
    );
    for (k, v) in [
        ("tipoAttivitaClinica", json!("Sistema TS")),
        (
            "identificativoRep",
            json!("2.16.840.1.113883.2.9.2.12.4.5.1"),
        ),
        ("identificativoDoc", json!("123")),
        (
            "descriptions",
            json!(["A^B^2.16.840.1.113883.2.9.2.120.6.1.11"]),
        ),
        ("attiCliniciRegoleAccesso", json!(["XYZ"])),
        ("dataInizioPrestazione", json!("20240101")),
        ("foo", json!(1)),
    ] {
        let mut b = good.clone();
        b[k] = v;
        assert!(!validate_op(Operation::Publication, &b).is_empty(), "{k}");
    }
    let mut b = good.clone();
    b["priorita"] = json!(true);
    assert!(validate_op(Operation::Publication, &b).is_empty());
    assert!(!validate_op(Operation::Replace, &b).is_empty());
}

#[test]
fn metadata_md_generated_section_is_current() {
    let p = workspace().join("docs/METADATA.md");
    let have = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    let want = docs::splice(&have).expect("markers present");
    if bless() && want != have {
        std::fs::write(&p, &want).unwrap();
        return;
    }
    assert!(have == want, "{p:?} generated section is stale: run FSECHECK_BLESS=1 cargo test -p fsecheck-metadata --test schema_docs");
    // every rule id is documented
    for r in fsecheck_metadata::ALL_RULES {
        assert!(have.contains(&format!("`{}`", r.id)), "{}", r.id);
    }
}
