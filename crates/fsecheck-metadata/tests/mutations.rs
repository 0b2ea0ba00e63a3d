//! One mutation per rule: start from a request that passes everything, change one thing, and
//! expect exactly the right rule id, JSON pointer and (Italian) gateway message.

mod common;
use common::*;
use fsecheck_core::{Finding, Severity};
use fsecheck_metadata::{
    check_request, gateway_verdict, CdaFacts, GatewayRelease, Operation, Options, PatientId,
    RequestInput,
};
use serde_json::{json, Value};

const CF_OK: &str = "GTWGWY82B42G920M";
const SUB_OK: &str = "SSSMNN75B01F257L";
const MEF: &str = "2.16.840.1.113883.2.9.4.3.2";
const LOCALITY_OK: &str = "Ospedale^^^^^&2.16.840.1.113883.2.9.4.1.3&ISO^^^^190111123456";

fn pdf() -> Vec<u8> {
    std::fs::read(gateway_tests().join("files/pdf/LAB.pdf")).unwrap()
}

fn facts() -> CdaFacts {
    cda_facts(&std::fs::read_to_string(gateway_tests().join("files/xml/LAB.xml")).unwrap())
}

fn claims(op: Operation) -> Value {
    let (action, purpose) = match op {
        Operation::Validation | Operation::Publication => ("CREATE", "TREATMENT"),
        Operation::Replace => ("UPDATE", "TREATMENT"),
        Operation::MetadataUpdate => ("UPDATE", "UPDATE"),
        Operation::Delete => ("DELETE", "UPDATE"),
    };
    json!({
        "sub": format!("{SUB_OK}^^^&{MEF}&ISO"),
        "subject_role": "AAS",
        "purpose_of_use": purpose,
        "iss": "integrity:S1#190201234567XX",
        "locality": LOCALITY_OK,
        "subject_application_version": "R2",
        "subject_organization": "Regione Lazio",
        "subject_organization_id": "120",
        "patient_consent": true,
        "action_id": action,
        "resource_hl7_type": "('11502-2^^2.16.840.1.113883.6.1')",
        "attachment_hash": fsecheck_metadata::jwt::sha256_hex(&pdf()),
        "subject_application_id": "GTW",
        "subject_application_vendor": "GATEWAY",
        "person_id": format!("{CF_OK}^^^&{MEF}&ISO"),
    })
}

fn body(op: Operation) -> Value {
    match op {
        Operation::Validation => {
            json!({"healthDataFormat": "CDA", "mode": "ATTACHMENT", "activity": "VALIDATION"})
        }
        Operation::Publication | Operation::Replace => {
            let mut b = json!({
                "tipologiaStruttura": "Ospedale",
                "attiCliniciRegoleAccesso": ["PUBLICPOL"],
                "tipoDocumentoLivAlto": "REF",
                "assettoOrganizzativo": "AD_PSC001",
                "dataInizioPrestazione": "20240101093000",
                "dataFinePrestazione": "20240101100000",
                "conservazioneANorma": "string",
                "tipoAttivitaClinica": "PHR",
                "identificativoSottomissione": "string",
                "descriptions": ["J07BX03^Vaccino^2.16.840.1.113883.6.73"],
                "administrativeRequest": "SSN",
                "healthDataFormat": "CDA",
                "mode": "ATTACHMENT",
                "identificativoDoc": "2.16.840.1.113883.2.9.2.120.4.4^12345",
                "identificativoRep": "2.16.840.1.113883.2.9.2.120.4.5.1",
                "priorita": true
            });
            if op == Operation::Replace {
                b.as_object_mut().unwrap().remove("priorita");
            }
            b
        }
        Operation::MetadataUpdate => json!({
            "tipologiaStruttura": "Ospedale",
            "tipoDocumentoLivAlto": "REF",
            "assettoOrganizzativo": "AD_PSC001",
            "tipoAttivitaClinica": "PHR",
            "identificativoSottomissione": "string"
        }),
        Operation::Delete => Value::Null,
    }
}

struct Case {
    op: Operation,
    body: Option<String>,
    jwt: Option<String>,
    facts: CdaFacts,
    pdf: Vec<u8>,
    path_id: Option<String>,
    opts: Options,
}

impl Case {
    fn new(op: Operation) -> Case {
        Case {
            op,
            body: (op != Operation::Delete).then(|| body(op).to_string()),
            jwt: Some(token(&claims(op))),
            facts: facts(),
            pdf: pdf(),
            path_id: matches!(
                op,
                Operation::Replace | Operation::MetadataUpdate | Operation::Delete
            )
            .then(|| "2.16.840.1.113883.2.9.2.120.4.4^12345".to_string()),
            opts: Options::default(),
        }
    }
    fn body_with(mut self, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Case {
        let mut b: Value = serde_json::from_str(self.body.as_deref().unwrap()).unwrap();
        f(b.as_object_mut().unwrap());
        self.body = Some(b.to_string());
        self
    }
    fn claims_with(mut self, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Case {
        let mut c = claims(self.op);
        f(c.as_object_mut().unwrap());
        self.jwt = Some(token(&c));
        self
    }
    fn release(mut self, r: GatewayRelease) -> Case {
        self.opts.release = r;
        self
    }
    fn run(&self) -> Vec<Finding> {
        check_request(
            &RequestInput {
                operation: self.op,
                body: self.body.as_deref(),
                jwt: self.jwt.as_deref(),
                path_id_doc: self.path_id.as_deref(),
                cda: Some(&self.facts),
                pdf: Some(&self.pdf),
                jwt_public_key_pem: None,
            },
            &self.opts,
        )
    }
}

/// Exactly one blocking finding, with this id, pointer and message.
#[track_caller]
fn expect_one(case: &Case, id: &str, pointer: &str, message: &str) -> Finding {
    let all = case.run();
    let b = blocking(&all);
    assert_eq!(b.len(), 1, "expected only {id}, got {:#?}", b);
    let f = b[0].clone();
    assert_eq!(f.id, id, "{f:#?}");
    assert_eq!(f.location.pointer.as_deref(), Some(pointer), "{f:#?}");
    assert_eq!(f.message, message, "{f:#?}");
    assert!(
        f.hint.as_deref().is_some_and(|h| !h.is_empty()),
        "English hint missing: {f:#?}"
    );
    for k in ["gateway_type", "gateway_status", "gateway_order"] {
        assert!(f.details.contains_key(k), "{k} missing: {f:#?}");
    }
    let v = gateway_verdict(&all).unwrap();
    assert_eq!(v.rule_id, id);
    f
}

#[track_caller]
fn expect_clean(case: &Case) {
    let all = case.run();
    assert!(errors(&all).is_empty(), "{:#?}", errors(&all));
}

#[test]
fn baselines_are_clean_for_every_operation() {
    for op in Operation::ALL {
        for r in [GatewayRelease::Main, GatewayRelease::Release] {
            expect_clean(&Case::new(op).release(r));
        }
    }
}

const PUB_CONV: &str = "Errore durante la conversione da json a oggetto it.finanze.sanita.fse2.ms.gtw.dispatcher.dto.request.PublicationCreationReqDTO";

#[test]
fn every_enum_field_rejects_unknown_values() {
    let enum_fields = [
        ("tipologiaStruttura", "/msg/mandatory-element"),
        ("tipoDocumentoLivAlto", ""),
        ("assettoOrganizzativo", ""),
        ("tipoAttivitaClinica", ""),
        ("administrativeRequest", ""),
        ("healthDataFormat", ""),
        ("mode", ""),
    ];
    for (field, _) in enum_fields {
        let case = Case::new(Operation::Publication).body_with(|b| {
            b.insert(field.into(), json!("NOPE"));
        });
        let all = case.run();
        let b = blocking(&all);
        // tipoDocumentoLivAlto also breaks the [release] correlation; the enum comes first.
        let f = b[0];
        assert_eq!(
            (f.id.as_str(), f.location.pointer.as_deref()),
            ("meta/enum", Some(format!("/{field}").as_str())),
            "{field}"
        );
        assert_eq!(f.message, PUB_CONV);
        assert_eq!(f.details["gateway_instance"], "/request-missing-field");
        assert_eq!(f.details["gateway_status"], "400");
    }
    let case = Case::new(Operation::Validation).body_with(|b| {
        b.insert("activity".into(), json!("VALIDATE"));
    });
    expect_one(&case, "meta/enum", "/activity",
        "Errore durante la conversione da json a oggetto it.finanze.sanita.fse2.ms.gtw.dispatcher.dto.request.ValidationCDAReqDTO");
}

#[test]
fn enums_take_java_constant_names_case_sensitively() {
    let set = |field: &'static str, v: &'static str| {
        Case::new(Operation::Publication)
            .release(GatewayRelease::Main)
            .body_with(move |b| {
                b.insert(field.into(), json!(v));
            })
    };
    expect_clean(&set("tipoAttivitaClinica", "Sistema_TS"));
    expect_clean(&set("tipoAttivitaClinica", "PN_DGC"));
    expect_clean(&set("tipologiaStruttura", "MdsPN_DGC"));
    let f = expect_one(
        &set("tipoAttivitaClinica", "Sistema TS"),
        "meta/enum",
        "/tipoAttivitaClinica",
        PUB_CONV,
    );
    assert!(f.hint.unwrap().contains("`Sistema_TS`"));
    expect_one(
        &set("tipoAttivitaClinica", "PN-DGC"),
        "meta/enum",
        "/tipoAttivitaClinica",
        PUB_CONV,
    );
    expect_one(
        &set("tipologiaStruttura", "MdsPN-DGC"),
        "meta/enum",
        "/tipologiaStruttura",
        PUB_CONV,
    );
    let f = expect_one(
        &set("tipoDocumentoLivAlto", "ref"),
        "meta/enum",
        "/tipoDocumentoLivAlto",
        PUB_CONV,
    );
    assert!(f.hint.unwrap().contains("Case matters"));
    // LET exists only on release
    let f = expect_one(
        &set("tipoDocumentoLivAlto", "LET"),
        "meta/enum",
        "/tipoDocumentoLivAlto",
        PUB_CONV,
    );
    assert!(f.hint.unwrap().contains("release"));
}

#[test]
fn enum_given_as_index_is_a_non_blocking_warning() {
    let case = Case::new(Operation::Publication).body_with(|b| {
        b.insert("mode".into(), json!(0));
    });
    let all = case.run();
    assert!(blocking(&all).is_empty());
    let w = all.iter().find(|f| f.id == "meta/enum-index").unwrap();
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(w.location.pointer.as_deref(), Some("/mode"));
    assert_eq!(w.message, "Valore numerico 0 interpretato come ATTACHMENT");
    // a digit string too; out of range is a conversion error
    let all = Case::new(Operation::Publication)
        .body_with(|b| {
            b.insert("mode".into(), json!("1"));
        })
        .run();
    assert!(blocking(&all).is_empty());
    assert!(all
        .iter()
        .any(|f| f.id == "meta/enum-index" && f.message.ends_with("RESOURCE")));
    expect_one(
        &Case::new(Operation::Publication).body_with(|b| {
            b.insert("mode".into(), json!("2"));
        }),
        "meta/enum",
        "/mode",
        PUB_CONV,
    );
}

#[test]
fn every_mandatory_field_per_operation() {
    let table: &[(Operation, &str, &str)] = &[
        (
            Operation::Validation,
            "activity",
            "Il campo activity deve essere valorizzato.",
        ),
        (
            Operation::Publication,
            "identificativoDoc",
            "Il campo identificativo documento deve essere valorizzato.",
        ),
        (
            Operation::Publication,
            "identificativoRep",
            "Il campo identificativo rep deve essere valorizzato.",
        ),
        (
            Operation::Publication,
            "tipoDocumentoLivAlto",
            "Il campo tipo documento liv alto deve essere valorizzato.",
        ),
        (
            Operation::Publication,
            "assettoOrganizzativo",
            "Il campo assetto organizzativo deve essere valorizzato.",
        ),
        (
            Operation::Publication,
            "tipoAttivitaClinica",
            "Il campo tipo attivita clinica deve essere valorizzato.",
        ),
        (
            Operation::Publication,
            "identificativoSottomissione",
            "Il campo identificativo sottomissione deve essere valorizzato.",
        ),
        (
            Operation::Publication,
            "tipologiaStruttura",
            "Il campo tipologia struttura deve essere valorizzato.",
        ),
        (
            Operation::Replace,
            "identificativoRep",
            "Il campo identificativo rep deve essere valorizzato.",
        ),
        (
            Operation::Replace,
            "tipoDocumentoLivAlto",
            "Il campo tipo documento liv alto deve essere valorizzato.",
        ),
        (
            Operation::Replace,
            "assettoOrganizzativo",
            "Il campo assetto organizzativo deve essere valorizzato.",
        ),
        (
            Operation::Replace,
            "tipoAttivitaClinica",
            "Il campo tipo attivita clinica deve essere valorizzato.",
        ),
        (
            Operation::Replace,
            "identificativoSottomissione",
            "Il campo identificativo sottomissione deve essere valorizzato.",
        ),
        (
            Operation::Replace,
            "tipologiaStruttura",
            "Il campo tipologia struttura deve essere valorizzato.",
        ),
        (
            Operation::MetadataUpdate,
            "tipoDocumentoLivAlto",
            "Il campo tipo documento liv alto deve essere valorizzato.",
        ),
    ];
    for (op, field, msg) in table {
        // Main: without the [release] correlation, which also needs tipoDocumentoLivAlto
        let case = Case::new(*op).release(GatewayRelease::Main).body_with(|b| {
            b.remove(*field);
        });
        let all = case.run();
        let b = blocking(&all);
        let first = b
            .first()
            .unwrap_or_else(|| panic!("{op:?} {field}: nothing"));
        assert_eq!(
            (
                first.id.as_str(),
                first.location.pointer.as_deref(),
                first.message.as_str()
            ),
            ("meta/mandatory", Some(format!("/{field}").as_str()), *msg),
            "{op:?} {field}: {b:#?}"
        );
        // identificativoDoc missing also fails the master-id check; nothing else
        let rest: Vec<_> = b.iter().skip(1).map(|f| f.id.as_str()).collect();
        assert!(
            rest.iter().all(|id| *id == "meta/master-id"),
            "{op:?} {field}: {rest:?}"
        );
    }
    // Fields mandatory elsewhere are optional on update.
    for field in [
        "assettoOrganizzativo",
        "tipoAttivitaClinica",
        "identificativoSottomissione",
        "tipologiaStruttura",
    ] {
        expect_clean(&Case::new(Operation::MetadataUpdate).body_with(|b| {
            b.remove(field);
        }));
    }
    // An empty string counts as missing for string fields
    expect_one(
        &Case::new(Operation::Publication).body_with(|b| {
            b.insert("identificativoSottomissione".into(), json!(""));
        }),
        "meta/mandatory",
        "/identificativoSottomissione",
        "Il campo identificativo sottomissione deve essere valorizzato.",
    );
}

#[test]
fn mandatory_fields_come_in_the_gateways_order() {
    let case = Case::new(Operation::Publication)
        .release(GatewayRelease::Main)
        .body_with(|b| {
            b.remove("tipologiaStruttura");
            b.remove("identificativoRep");
        });
    let v = gateway_verdict(&case.run()).unwrap();
    assert_eq!(
        v.detail,
        "Il campo identificativo rep deve essere valorizzato."
    );
    assert_eq!(
        (v.status, v.type_.as_str(), v.instance.as_deref()),
        (
            400,
            "/msg/mandatory-element",
            Some("/request-missing-field")
        )
    );
}

#[test]
fn unknown_properties() {
    let f = expect_one(
        &Case::new(Operation::Publication).body_with(|b| {
            b.insert("tipoDocumento".into(), json!("x"));
        }),
        "meta/unknown-property",
        "/tipoDocumento",
        "Parametro non riconosciuto all'interno della request nella conversione di it.finanze.sanita.fse2.ms.gtw.dispatcher.dto.request.PublicationCreationReqDTO",
    );
    assert_eq!(f.details["gateway_type"], "/msg/mandatory-element");
    // priorita is not allowed for replace
    let f = expect_one(
        &Case::new(Operation::Replace).body_with(|b| {
            b.insert("priorita".into(), json!(true));
        }),
        "meta/unknown-property",
        "/priorita",
        "Parametro non riconosciuto all'interno della request nella conversione di it.finanze.sanita.fse2.ms.gtw.dispatcher.dto.request.PublicationUpdateReqDTO",
    );
    assert!(f.hint.unwrap().contains("only on create"));
    // validation accepts only its 3 properties
    expect_one(
        &Case::new(Operation::Validation).body_with(|b| {
            b.insert("identificativoDoc".into(), json!("a^b"));
        }),
        "meta/unknown-property",
        "/identificativoDoc",
        "Parametro non riconosciuto all'interno della request nella conversione di it.finanze.sanita.fse2.ms.gtw.dispatcher.dto.request.ValidationCDAReqDTO",
    );
    // update tolerates unknown properties: warning only
    let all = Case::new(Operation::MetadataUpdate)
        .body_with(|b| {
            b.insert("identificativoDoc".into(), json!("a^b"));
        })
        .run();
    assert!(blocking(&all).is_empty());
    assert!(all
        .iter()
        .any(|f| f.id == "meta/unknown-property" && f.severity == Severity::Warning));
    // JSON pointer escaping
    expect_one(
        &Case::new(Operation::Publication).body_with(|b| {
            b.insert("a/b~c".into(), json!(1));
        }),
        "meta/unknown-property",
        "/a~1b~0c",
        "Parametro non riconosciuto all'interno della request nella conversione di it.finanze.sanita.fse2.ms.gtw.dispatcher.dto.request.PublicationCreationReqDTO",
    );
}

#[test]
fn wrong_json_types_and_invalid_json() {
    expect_one(
        &Case::new(Operation::Publication).body_with(|b| {
            b.insert("attiCliniciRegoleAccesso".into(), json!("PUBLICPOL"));
        }),
        "meta/type",
        "/attiCliniciRegoleAccesso",
        PUB_CONV,
    );
    expect_one(
        &Case::new(Operation::Publication).body_with(|b| {
            b.insert("priorita".into(), json!("yes"));
        }),
        "meta/type",
        "/priorita",
        PUB_CONV,
    );
    expect_one(
        &Case::new(Operation::Publication).body_with(|b| {
            b.insert("conservazioneANorma".into(), json!({"a": 1}));
        }),
        "meta/type",
        "/conservazioneANorma",
        PUB_CONV,
    );
    let mut c = Case::new(Operation::Publication);
    c.body = Some("{\"tipologiaStruttura\": ".into());
    expect_one(&c, "meta/invalid-json", "", PUB_CONV);
    c.body = None;
    expect_one(&c, "meta/invalid-json", "", PUB_CONV);
}

#[test]
fn descriptions_format_oid_and_the_cod_regione_quirk() {
    let with = |d: Value| {
        Case::new(Operation::Publication).body_with(move |b| {
            b.insert("descriptions".into(), d);
        })
    };
    expect_one(&with(json!(["A^B"])), "meta/descriptions", "/descriptions/0",
        "Valorizzare correttamente il campo descriptions rispettando la forma: [CODICE]^[Descrizione]^[OID]");
    // trailing empty part dropped by Java split: still 2 parts
    expect_one(&with(json!(["A^B^"])), "meta/descriptions", "/descriptions/0",
        "Valorizzare correttamente il campo descriptions rispettando la forma: [CODICE]^[Descrizione]^[OID]");
    expect_one(&with(json!(["A^B^1.2.3"])), "meta/descriptions", "/descriptions/0",
        "Valorizzare correttamente il campo descriptions rispettando i valori di riferimento per gli OID");
    // A real regional OID is rejected (COD_REGIONE bug) ...
    let f = expect_one(&with(json!(["X^Y^2.16.840.1.113883.2.9.2.120.6.1.11"])), "meta/descriptions", "/descriptions/0",
        "Valorizzare correttamente il campo descriptions rispettando i valori di riferimento per gli OID");
    assert!(f.hint.unwrap().contains("COD_REGIONE"));
    // ... and only the literal (.*) passes, with a warning
    let all = with(json!(["X^Y^2.16.840.1.113883.2.9.2.(.*).6.1.11"])).run();
    assert!(blocking(&all).is_empty());
    assert!(all
        .iter()
        .any(|f| f.id == "meta/descriptions" && f.severity == Severity::Warning));
    // every DescriptionEnum OID passes
    for oid in fsecheck_metadata::enums::DESCRIPTION_OIDS
        .iter()
        .filter(|o| !o.contains("COD_REGIONE"))
    {
        expect_clean(&with(json!([format!("C^D^{oid}")])));
    }
    // gateway order: the format error breaks the loop; earlier OID errors are overwritten by it
    let v = gateway_verdict(&with(json!(["A^B^1.2.3", "bad", "C^D^4.5.6"])).run()).unwrap();
    assert_eq!(v.detail, "Valorizzare correttamente il campo descriptions rispettando la forma: [CODICE]^[Descrizione]^[OID]");
}

#[test]
fn atti_clinici_codes() {
    let with = |d: Value| {
        Case::new(Operation::Publication).body_with(move |b| {
            b.insert("attiCliniciRegoleAccesso".into(), d);
        })
    };
    expect_one(
        &with(json!(["XYZ"])),
        "meta/atti-clinici",
        "/attiCliniciRegoleAccesso/0",
        "Il campo atti clinici XYZ non è consentito",
    );
    expect_clean(&with(json!([
        "publicpol",
        "P99",
        "j07ah01",
        "PAY",
        "836374004"
    ])));
    // release-only code
    expect_clean(&with(json!(["J07AH11"])));
    expect_one(
        &with(json!(["J07AH11"])).release(GatewayRelease::Main),
        "meta/atti-clinici",
        "/attiCliniciRegoleAccesso/0",
        "Il campo atti clinici J07AH11 non è consentito",
    );
    // the gateway's message names the last invalid code
    let v = gateway_verdict(&with(json!(["AAA", "P99", "BBB"])).run()).unwrap();
    assert_eq!(v.detail, "Il campo atti clinici BBB non è consentito");
    // also on update
    let c = Case::new(Operation::MetadataUpdate).body_with(|b| {
        b.insert("attiCliniciRegoleAccesso".into(), json!(["nope"]));
    });
    expect_one(
        &c,
        "meta/atti-clinici",
        "/attiCliniciRegoleAccesso/0",
        "Il campo atti clinici nope non è consentito",
    );
}

#[test]
fn prestazione_dates_strict_and_lenient() {
    let with = |field: &'static str, v: &'static str| {
        Case::new(Operation::Publication).body_with(move |b| {
            b.insert(field.into(), json!(v));
        })
    };
    let f = expect_one(
        &with("dataInizioPrestazione", "20240101"),
        "meta/date-format",
        "/dataInizioPrestazione",
        "Il campo data inizio deve essere valorizzato correttamente",
    );
    assert_eq!(f.details["gateway_type"], "/msg/invalid-format");
    assert_eq!(
        f.details["gateway_instance"],
        "/request-invalid-date-format"
    );
    assert_eq!(f.details["gateway_lenient"], "rejects");
    expect_one(
        &with("dataFinePrestazione", "2024-01-01T10:00:00"),
        "meta/date-format",
        "/dataFinePrestazione",
        "Il campo data fine deve essere valorizzato correttamente",
    );
    // lenient gateway accepts month 13 / hour 99: strict error by default, not blocking
    let c = with("dataInizioPrestazione", "20221301999999");
    let all = c.run();
    assert!(blocking(&all).is_empty());
    let f = all.iter().find(|f| f.id == "meta/date-format").unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.details["gateway_lenient"], "accepts");
    assert!(f.hint.as_deref().unwrap().contains("lenient"));
    // ... a warning when strict dates are off
    let mut c = with("dataInizioPrestazione", "20240101120000trailing");
    c.opts.strict_dates = false;
    let all = c.run();
    assert!(errors(&all).is_empty());
    assert_eq!(
        all.iter()
            .find(|f| f.id == "meta/date-format")
            .unwrap()
            .severity,
        Severity::Warning
    );
}

#[test]
fn master_id_and_repository_id() {
    expect_one(
        &Case::new(Operation::Publication).body_with(|b| {
            b.insert("identificativoDoc".into(), json!("12345"));
        }),
        "meta/master-id",
        "/identificativoDoc",
        "L'identificativo documento non è valido",
    );
    expect_one(
        &Case::new(Operation::Publication).body_with(|b| {
            b.insert(
                "identificativoDoc".into(),
                json!("2.16.840.1.113883.2.9.2.120.4.4^"),
            );
        }),
        "meta/master-id",
        "/identificativoDoc",
        "L'identificativo documento non è valido",
    );
    // replace: identificativoDoc is not in the mandatory list, but the master-id check needs it
    let f = expect_one(
        &Case::new(Operation::Replace).body_with(|b| {
            b.remove("identificativoDoc");
        }),
        "meta/master-id",
        "/identificativoDoc",
        "L'identificativo documento non è valido",
    );
    assert_eq!(f.details["gateway_type"], "/msg/id-doc");
    let f = expect_one(
        &Case::new(Operation::Publication).body_with(|b| {
            b.insert(
                "identificativoRep".into(),
                json!("2.16.840.1.113883.2.9.2.12.4.5.1"),
            );
        }),
        "meta/repository-id",
        "/identificativoRep",
        "Error: Invalid format for repositoryUniqueId",
    );
    assert_eq!(f.details["gateway_type"], "/msg/generic-error");
    expect_clean(&Case::new(Operation::Publication).body_with(|b| {
        b.insert(
            "identificativoRep".into(),
            json!("2.16.840.1.113883.2.9.2.1.4.5.abc"),
        );
    }));
    // path {idDoc}
    let mut c = Case::new(Operation::Replace);
    c.path_id = Some("nocaret".into());
    expect_one(
        &c,
        "meta/path-id-doc",
        "",
        "L'identificativo documento fornito in richiesta non è valido",
    );
}

#[test]
fn jwt_missing_and_undecodable() {
    let mut c = Case::new(Operation::Validation);
    c.jwt = None;
    let f = expect_one(
        &c,
        "jwt/missing",
        "",
        "Attenzione il jwt fornito risulta essere vuoto",
    );
    assert_eq!(f.details["gateway_status"], "403");
    c.jwt = Some("not-a-token".into());
    expect_one(&c, "jwt/decode", "", "Token JWT non valido.");
    // base64url payload fails as at the gateway
    let url = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        json!({"a": "~~~>>>???"}).to_string(),
    );
    assert!(url.contains('-') || url.contains('_'));
    c.jwt = Some(format!("h.{url}.s"));
    let f = expect_one(&c, "jwt/decode", "", "Token JWT non valido.");
    assert!(f.details["reason"].contains("base64url"));
    // Bearer prefix accepted
    let mut c = Case::new(Operation::Validation);
    c.jwt = Some(format!("Bearer {}", c.jwt.unwrap()));
    expect_clean(&c);
}

#[test]
fn every_mandatory_claim() {
    for claim in fsecheck_metadata::jwt::MANDATORY_CLAIMS
        .iter()
        .chain(["resource_hl7_type"].iter())
    {
        for op in [Operation::Validation, Operation::Publication] {
            let c = Case::new(op)
                .release(GatewayRelease::Main)
                .claims_with(|m| {
                    m.remove(*claim);
                });
            let all = c.run();
            let b = blocking(&all);
            let f = b[0];
            assert_eq!(
                (
                    f.id.as_str(),
                    f.location.pointer.as_deref(),
                    f.message.clone()
                ),
                (
                    "jwt/mandatory",
                    Some(format!("/{claim}").as_str()),
                    format!("Il campo {claim} non è valorizzato")
                ),
                "{claim}: {b:#?}"
            );
            assert_eq!(
                f.details["gateway_instance"],
                "/jwt-mandatory-field-missing"
            );
        }
    }
    // resource_hl7_type is not required on delete; patient_consent=false is a value
    expect_clean(&Case::new(Operation::Delete).claims_with(|m| {
        m.remove("resource_hl7_type");
    }));
    expect_clean(&Case::new(Operation::Validation).claims_with(|m| {
        m.insert("patient_consent".into(), json!(false));
    }));
    expect_one(
        &Case::new(Operation::Validation).claims_with(|m| {
            m.insert("subject_role".into(), json!(""));
        }),
        "jwt/mandatory",
        "/subject_role",
        "Il campo subject_role non è valorizzato",
    );
}

#[test]
fn sub_fiscal_code_rules() {
    let with = |sub: Option<String>| {
        Case::new(Operation::Validation).claims_with(move |m| match sub {
            Some(s) => {
                m.insert("sub".into(), json!(s));
            }
            None => {
                m.remove("sub");
            }
        })
    };
    let msg = "Il codice fiscale nel campo sub non è corretto";
    expect_one(
        &with(Some(format!("SSSMNN75B01F257X^^^&{MEF}&ISO"))),
        "jwt/fiscal-code",
        "/sub",
        msg,
    );
    expect_one(
        &with(Some("SSSMNN75B01F257X".into())),
        "jwt/fiscal-code",
        "/sub",
        msg,
    );
    expect_one(&with(None), "jwt/fiscal-code", "/sub", msg);
    // other OID: not checked
    expect_clean(&with(Some("whatever^^^&1.2.3&ISO".into())));
    // omocodia passes
    expect_clean(&with(Some(format!("RSSMRA85T10A56NH^^^&{MEF}&ISO"))));
    // &amp; escape: unchecked by the gateway, flagged by us as a warning
    let all = with(Some(format!("SSSMNN75B01F257X^^^&amp;{MEF}&amp;ISO"))).run();
    assert!(blocking(&all).is_empty());
    let w = all.iter().find(|f| f.id == "jwt/amp-escaped").unwrap();
    assert_eq!(w.details["cf_valid"], "false");
}

#[test]
fn claim_enums_and_organization() {
    let with = |k: &'static str, v: &'static str| {
        Case::new(Operation::Validation).claims_with(move |m| {
            m.insert(k.into(), json!(v));
        })
    };
    expect_one(
        &with("action_id", "create"),
        "jwt/enum",
        "/action_id",
        "Il campo action_id non è corretto",
    );
    expect_one(
        &with("subject_role", "aas"),
        "jwt/enum",
        "/subject_role",
        "Il campo subject_role non è corretto",
    );
    expect_one(
        &with("purpose_of_use", "CURE"),
        "jwt/enum",
        "/purpose_of_use",
        "Il campo purpose_of_use non è corretto",
    );
    expect_clean(&with("purpose_of_use", "treatment")); // case-insensitive
    expect_one(
        &with("subject_organization_id", "121"),
        "jwt/enum",
        "/subject_organization_id",
        "Il campo subject_organization_id non è corretto",
    );
    expect_one(
        &with("subject_organization", "Regione lazio"),
        "jwt/enum",
        "/subject_organization",
        "Il campo subject_organization non è corretto",
    );
    expect_one(
        &with("subject_organization_id", "130"),
        "jwt/organization-mismatch",
        "/subject_organization",
        "I campi subject_organization_id e subject_organization non sono coerenti",
    );
}

#[test]
fn action_and_purpose_per_operation() {
    let with = |op: Operation, a: &'static str, p: &'static str| {
        Case::new(op)
            .release(GatewayRelease::Main)
            .claims_with(move |m| {
                m.insert("action_id".into(), json!(a));
                m.insert("purpose_of_use".into(), json!(p));
            })
    };
    let act = "Il campo action_id non coerente con operazione richiesta";
    let pur = "Il campo purpose_of_use non coerente con operazione richiesta";
    expect_clean(&with(Operation::Validation, "UPDATE", "TREATMENT"));
    expect_one(
        &with(Operation::Validation, "DELETE", "TREATMENT"),
        "jwt/action",
        "/action_id",
        act,
    );
    expect_one(
        &with(Operation::Validation, "CREATE", "UPDATE"),
        "jwt/purpose",
        "/purpose_of_use",
        pur,
    );
    expect_one(
        &with(Operation::Publication, "UPDATE", "TREATMENT"),
        "jwt/action",
        "/action_id",
        act,
    );
    expect_one(
        &with(Operation::Publication, "CREATE", "EMERGENCY"),
        "jwt/purpose",
        "/purpose_of_use",
        pur,
    );
    expect_clean(&with(Operation::Replace, "UPDATE", "UPDATE"));
    expect_one(
        &with(Operation::Replace, "CREATE", "TREATMENT"),
        "jwt/action",
        "/action_id",
        act,
    );
    expect_clean(&with(Operation::MetadataUpdate, "UPDATE", "access update"));
    expect_one(
        &with(Operation::MetadataUpdate, "UPDATE", "TREATMENT"),
        "jwt/purpose",
        "/purpose_of_use",
        pur,
    );
    expect_clean(&with(Operation::Delete, "DELETE", "UPDATE"));
    expect_one(
        &with(Operation::Delete, "UPDATE", "UPDATE"),
        "jwt/action",
        "/action_id",
        act,
    );
}

#[test]
fn locality_only_where_the_gateway_checks_it() {
    let bad = |op: Operation| {
        Case::new(op).claims_with(|m| {
            m.insert("locality".into(), json!("201123456"));
        })
    };
    expect_clean(&bad(Operation::Validation));
    for op in [
        Operation::Publication,
        Operation::Replace,
        Operation::MetadataUpdate,
        Operation::Delete,
    ] {
        expect_one(
            &bad(op),
            "jwt/locality",
            "/locality",
            "Il campo Locality non è valorizzato correttamente",
        );
    }
}

#[test]
fn jwt_against_cda() {
    let c = Case::new(Operation::Validation).claims_with(|m| {
        m.insert(
            "resource_hl7_type".into(),
            json!("('34105-7^^2.16.840.1.113883.6.1')"),
        );
    });
    let f = expect_one(
        &c,
        "jwt/document-type",
        "/resource_hl7_type",
        "JWT payload: Tipologia documento diversa dalla tipologia di CDA (code - codesystem)",
    );
    assert_eq!(f.details["gateway_instance"], "/jwt-document-type");
    assert_eq!(f.details["expected"], "('11502-2^^2.16.840.1.113883.6.1')");
    let mut c = Case::new(Operation::Validation);
    c.facts.code = None;
    expect_one(
        &c,
        "jwt/document-type",
        "/resource_hl7_type",
        "JWT payload: non è stato possibile verificare la tipologia del CDA",
    );

    let c = Case::new(Operation::Validation).claims_with(|m| {
        m.insert(
            "person_id".into(),
            json!(format!("RSSMRA85T10A562S^^^&{MEF}&ISO")),
        );
    });
    let f = expect_one(&c, "jwt/person-id", "/person_id",
        "JWT payload: Person id presente nel JWT differente dal codice fiscale del paziente previsto sul CDA");
    assert_eq!(f.details["gateway_instance"], "/jwt-person-id");
    let mut c = Case::new(Operation::Validation);
    c.facts.patient_ids.clear();
    expect_one(&c, "jwt/person-id", "/person_id",
        "JWT payload: non è stato possibile verificare il codice fiscale del paziente presente nel CDA");
    // person_id matches the CDA but is not a valid CF: checked unless the id root is TEAM
    let bad_cf = "GTWGWY82B42G920X";
    let mut c = Case::new(Operation::Validation).claims_with(|m| {
        m.insert("person_id".into(), json!(format!("{bad_cf}^^^&{MEF}&ISO")));
    });
    c.facts.patient_ids = vec![PatientId {
        root: MEF.into(),
        extension: bad_cf.into(),
    }];
    let f = expect_one(
        &c,
        "jwt/fiscal-code",
        "/person_id",
        "Il codice fiscale nel campo person_id non è corretto",
    );
    assert_eq!(f.details["gateway_order"], "80");
    c.facts.patient_ids = vec![PatientId {
        root: "2.16.840.1.113883.2.9.4.3.7".into(),
        extension: bad_cf.into(),
    }];
    expect_clean(&c);
}

#[test]
fn attachment_hash() {
    let c = Case::new(Operation::Publication).claims_with(|m| {
        m.insert("attachment_hash".into(), json!("00".repeat(32)));
    });
    let f = expect_one(
        &c,
        "jwt/attachment-hash",
        "/attachment_hash",
        "Verifica hash fallita.",
    );
    assert_eq!(f.details["gateway_type"], "/msg/document-hash");
    assert_eq!(f.details["gateway_instance"], "/jwt-hash-match");
    // case-insensitive
    let upper = fsecheck_metadata::jwt::sha256_hex(&pdf()).to_uppercase();
    expect_clean(&Case::new(Operation::Publication).claims_with(move |m| {
        m.insert("attachment_hash".into(), json!(upper));
    }));
    // missing hash on replace fails too; on validation it is not checked
    expect_one(
        &Case::new(Operation::Replace).claims_with(|m| {
            m.remove("attachment_hash");
        }),
        "jwt/attachment-hash",
        "/attachment_hash",
        "Verifica hash fallita.",
    );
    expect_clean(&Case::new(Operation::Validation).claims_with(|m| {
        m.remove("attachment_hash");
    }));
}

#[test]
fn release_correlation_switch() {
    let wor = |r: GatewayRelease, op: Operation| {
        Case::new(op).release(r).body_with(|b| {
            b.insert("tipoDocumentoLivAlto".into(), json!("WOR"));
        })
    };
    for op in [
        Operation::Publication,
        Operation::Replace,
        Operation::MetadataUpdate,
    ] {
        let f = expect_one(
            &wor(GatewayRelease::Release, op),
            "jwt/correlation",
            "/tipoDocumentoLivAlto",
            "Non c'è correlazione tra tipo documento e tipo documento livello alto",
        );
        assert_eq!(f.details["gateway_type"], "/msg/validator");
        assert_eq!(f.details["gateway_instance"], "/msg/validator");
        expect_clean(&wor(GatewayRelease::Main, op));
    }
    // a LOINC code missing from DocumentTypeEnum (60593-1 Erogazione farmaceutica)
    let mut c = Case::new(Operation::Publication).claims_with(|m| {
        m.insert(
            "resource_hl7_type".into(),
            json!("('60593-1^^2.16.840.1.113883.6.1')"),
        );
    });
    c.facts.code = Some("60593-1".into());
    expect_one(
        &c,
        "jwt/correlation",
        "/tipoDocumentoLivAlto",
        "Uno tra tipo documento o tipo documento livello alto risulta essere null",
    );
    expect_clean(&c.release(GatewayRelease::Main));
    // validation has no correlation check
    expect_clean(
        &wor(GatewayRelease::Release, Operation::Validation).body_with(|b| {
            b.remove("tipoDocumentoLivAlto");
        }),
    );
}

#[test]
fn cda_effective_time_at_publication() {
    let mut c = Case::new(Operation::Publication);
    c.facts.effective_time = Some("202401011200+0100".into());
    let f = expect_one_no_pointer(&c, "meta/cda-effective-time");
    assert_eq!(f.details["gateway_type"], "/msg/generic-error");
    let mut c = Case::new(Operation::Validation);
    c.facts.effective_time = Some("202401011200+0100".into());
    expect_clean(&c);
}

fn expect_one_no_pointer(case: &Case, id: &str) -> Finding {
    let all = case.run();
    let b = blocking(&all);
    assert_eq!(ids(&b), vec![id.to_string()], "{b:#?}");
    b[0].clone()
}

#[test]
fn verdict_follows_the_gateway_pipeline_order() {
    // a body error and a JWT error: the JWT is checked first
    let c = Case::new(Operation::Publication)
        .claims_with(|m| {
            m.insert("subject_role".into(), json!("XXX"));
        })
        .body_with(|b| {
            b.remove("tipologiaStruttura");
        });
    let v = gateway_verdict(&c.run()).unwrap();
    assert_eq!((v.rule_id.as_str(), v.status), ("jwt/enum", 403));
    // body error before the [release] correlation and the attachment hash
    let c = Case::new(Operation::Publication)
        .claims_with(|m| {
            m.insert("attachment_hash".into(), json!("x"));
        })
        .body_with(|b| {
            b.insert("tipoDocumentoLivAlto".into(), json!("WOR"));
            b.insert("dataFinePrestazione".into(), json!("2024"));
        });
    let all = c.run();
    assert_eq!(
        ids(&blocking(&all)),
        vec!["meta/date-format", "jwt/correlation", "jwt/attachment-hash"]
    );
    assert_eq!(gateway_verdict(&all).unwrap().type_, "/msg/invalid-format");
}

#[test]
fn metadata_update_quirks_path_id_first_and_spring_binding() {
    // update: the path id is checked before the JWT, with /invalid-id
    let mut c = Case::new(Operation::MetadataUpdate).claims_with(|m| {
        m.insert("subject_role".into(), json!("XXX"));
    });
    c.path_id = Some("nocaret".into());
    let v = gateway_verdict(&c.run()).unwrap();
    assert_eq!(v.rule_id, "meta/path-id-doc");
    assert_eq!(v.detail, "L'identificativo documento non è valido");
    assert_eq!(v.instance.as_deref(), Some("/invalid-id"));
    // replace: /invalid-req-id, after JWT and body
    let mut c = Case::new(Operation::Replace).claims_with(|m| {
        m.insert("subject_role".into(), json!("XXX"));
    });
    c.path_id = Some("nocaret".into());
    let all = c.run();
    assert_eq!(gateway_verdict(&all).unwrap().rule_id, "jwt/enum");
    let p = all.iter().find(|f| f.id == "meta/path-id-doc").unwrap();
    assert_eq!(p.details["gateway_instance"], "/invalid-req-id");
    // update: a conversion error is Spring's default 400, before anything else
    let c = Case::new(Operation::MetadataUpdate)
        .claims_with(|m| {
            m.insert("subject_role".into(), json!("XXX"));
        })
        .body_with(|b| {
            b.insert("tipologiaStruttura".into(), json!("NOPE"));
        });
    let all = c.run();
    let v = gateway_verdict(&all).unwrap();
    assert_eq!(
        (v.rule_id.as_str(), v.status, v.type_.as_str()),
        ("meta/enum", 400, "")
    );
    let f = all.iter().find(|f| f.id == "meta/enum").unwrap();
    assert!(f.details["gateway_note"].contains("Spring"));
    // update: a missing tipoDocumentoLivAlto has a type but no title/instance
    let f = expect_one(
        &Case::new(Operation::MetadataUpdate)
            .release(GatewayRelease::Main)
            .body_with(|b| {
                b.remove("tipoDocumentoLivAlto");
            }),
        "meta/mandatory",
        "/tipoDocumentoLivAlto",
        "Il campo tipo documento liv alto deve essere valorizzato.",
    );
    assert_eq!(f.details["gateway_type"], "/msg/mandatory-element");
    assert!(
        !f.details.contains_key("gateway_instance") && !f.details.contains_key("gateway_title")
    );
}

#[test]
fn odd_inputs_give_findings_not_panics() {
    let odd = [
        "", "null", "[]", "\"x\"", "{", "{\"descriptions\": [null, 1, {}, \"^^^\", \"\u{1F600}^\u{e0}^\u{0}\"]}",
        "{\"attiCliniciRegoleAccesso\": [null, [], \"\u{e9}\"], \"dataInizioPrestazione\": \"   -1-1-1-1-1-1\"}",
        "{\"identificativoRep\": \"2.16.840.1.113883.2.9.2.99999999999999999999999.4.5.\", \"identificativoDoc\": \"^\"}",
        "{\"mode\": 18446744073709551615, \"activity\": -1, \"priorita\": 1.5}",
    ];
    let tokens = [
        "",
        ".",
        "..",
        "Bearer ",
        "Bearer a.b",
        "a.\u{e9}\u{e9}.c",
        "a.bnVsbA.c",
        "a.WzFd.c",
        "a.eyJzdWIiOm51bGx9.c",
        "a.eyJwYXRpZW50X2NvbnNlbnQiOjF9.c",
    ];
    for op in Operation::ALL {
        for b in odd {
            for t in tokens {
                let facts = CdaFacts {
                    code: Some(String::new()),
                    code_system: None,
                    patient_ids: vec![PatientId::default(), PatientId::default()],
                    effective_time: Some("\u{e9}".into()),
                };
                let all = check_request(
                    &RequestInput {
                        operation: op,
                        body: Some(b),
                        jwt: Some(t),
                        path_id_doc: Some("%E9%"),
                        cda: Some(&facts),
                        pdf: Some(b""),
                        jwt_public_key_pem: Some("x"),
                    },
                    &Options::default(),
                );
                assert!(gateway_verdict(&all).is_some(), "{op:?} {b} {t}");
            }
        }
    }
    let f = fsecheck_metadata::parse_http_text(
        "POST\n###\nPOST {{\n< \n--\ncontent-type: multipart/form-data; boundary=\n\n--\n--\n",
        std::path::Path::new("."),
        &Default::default(),
    );
    let _ = f.gateway_requests();
}
