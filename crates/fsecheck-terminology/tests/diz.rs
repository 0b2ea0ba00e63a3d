//! Pins the outcome of the ministry validator's 35 `*DIZ*` test documents (expected to fail on
//! dictionaries) under today's catalog snapshot; `docs/GATEWAY.md (terminology section)` explains each.
//!
//! For each document: the gateway's message (the stage as the gateway runs it) and, running on
//! past the blocking steps, the terminology errors the document has that its family's OK document
//! has not (what the test document was built to exercise, when the terminology can see it).

mod common;

use common::{shared, terminology};
use fsecheck_core::Severity;
use fsecheck_terminology::{gateway_message, CheckOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

struct Pin {
    file: &'static str,
    gateway: &'static str,
    introduced: &'static [(&'static str, &'static str, &'static str)],
}

const PINS: &[Pin] = &[
    Pin {
        file: "schematronLDO/KO/CDA2_LDO Errore 14_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.5.1052", "LAA")],
    },
    Pin {
        file: "schematronLDO/KO/CDA2_LDO Errore 17_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.5.112", "IABDIN")],
    },
    Pin {
        file: "schematronLDO/KO/CDA2_LDO Errore 1_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-version", "2.16.840.1.113883.6.1", "10160-0"), ("term/unknown-version", "2.16.840.1.113883.6.1", "10183-2"), ("term/unknown-version", "2.16.840.1.113883.6.1", "11329-0"), ("term/unknown-version", "2.16.840.1.113883.6.1", "11535-2"), ("term/unknown-version", "2.16.840.1.113883.6.1", "18776-5"), ("term/unknown-version", "2.16.840.1.113883.6.1", "29545-1"), ("term/unknown-version", "2.16.840.1.113883.6.1", "47039-3")],
    },
    Pin {
        file: "schematronLDO/KO/CDA2_LDO Errore 2_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-version", "2.16.840.1.113883.6.1", "10160-0"), ("term/unknown-version", "2.16.840.1.113883.6.1", "10183-2"), ("term/unknown-version", "2.16.840.1.113883.6.1", "11329-0"), ("term/unknown-version", "2.16.840.1.113883.6.1", "11535-2"), ("term/unknown-version", "2.16.840.1.113883.6.1", "18776-5"), ("term/unknown-version", "2.16.840.1.113883.6.1", "29545-1"), ("term/unknown-version", "2.16.840.1.113883.6.1", "47039-3")],
    },
    Pin {
        file: "schematronLDO/KO/CDA2_LDO Errore 3_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.6.73", "C08CA0166"), ("term/unknown-version", "2.16.840.1.113883.6.1", "10160-0"), ("term/unknown-version", "2.16.840.1.113883.6.1", "10183-2"), ("term/unknown-version", "2.16.840.1.113883.6.1", "11329-0"), ("term/unknown-version", "2.16.840.1.113883.6.1", "11535-2"), ("term/unknown-version", "2.16.840.1.113883.6.1", "18776-5"), ("term/unknown-version", "2.16.840.1.113883.6.1", "29545-1"), ("term/unknown-version", "2.16.840.1.113883.6.1", "47039-3")],
    },
    Pin {
        file: "schematronLDO/KO/CDA2_LDO Errore 4_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.6.73", "B01AX05TT"), ("term/unknown-version", "2.16.840.1.113883.6.1", "10160-0"), ("term/unknown-version", "2.16.840.1.113883.6.1", "10183-2"), ("term/unknown-version", "2.16.840.1.113883.6.1", "11329-0"), ("term/unknown-version", "2.16.840.1.113883.6.1", "11535-2"), ("term/unknown-version", "2.16.840.1.113883.6.1", "18776-5"), ("term/unknown-version", "2.16.840.1.113883.6.1", "29545-1"), ("term/unknown-version", "2.16.840.1.113883.6.1", "47039-3")],
    },
    Pin {
        file: "schematronLDO/KO/CDA2_LDO Errore 6_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.2.9.77.22.11.2", "2601520")],
    },
    Pin {
        file: "schematronLDO/KO/CDA2_LDO Errore 7_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[],
    },
    Pin {
        file: "schematronPSS/KO/CDA2_Profilo_Sanitario_Sintetico Errore 1-DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[],
    },
    Pin {
        file: "schematronPSS/KO/CDA2_Profilo_Sanitario_Sintetico Errore 10-DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.2.9.5.2.8", "PSSA")],
    },
    Pin {
        file: "schematronPSS/KO/CDA2_Profilo_Sanitario_Sintetico Errore 11-DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.5.1052", "L")],
    },
    Pin {
        file: "schematronPSS/KO/CDA2_Profilo_Sanitario_Sintetico Errore 23-DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.2.9.77.22.11.13", "MM")],
    },
    Pin {
        file: "schematronRSA/KO/CDA2_Referto_Specialistica_Ambulatoriale Errore 11_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[],
    },
    Pin {
        file: "schematronRSA/KO/CDA2_Referto_Specialistica_Ambulatoriale Errore 14_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[],
    },
    Pin {
        file: "schematronRSA/KO/CDA2_Referto_Specialistica_Ambulatoriale Errore 16_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.5.1", "B")],
    },
    Pin {
        file: "schematronRSA/KO/CDA2_Referto_Specialistica_Ambulatoriale Errore 1_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[],
    },
    Pin {
        file: "schematronRSA/KO/CDA2_Referto_Specialistica_Ambulatoriale Errore 2_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[],
    },
    Pin {
        file: "schematronRSA/KO/CDA2_Referto_Specialistica_Ambulatoriale Errore 3_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.6.73", "C02LA0")],
    },
    Pin {
        file: "schematronRSA/KO/CDA2_Referto_Specialistica_Ambulatoriale Errore 5_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.2.9.77.22.11.2", "1110880")],
    },
    Pin {
        file: "schematronRSA/KO/CDA2_Referto_Specialistica_Ambulatoriale Errore 6_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.2.9.77.22.11.4", "698")],
    },
    Pin {
        file: "schematronRSA/KO/CDA2_Referto_Specialistica_Ambulatoriale Errore 9_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.5.112", "P")],
    },
    Pin {
        file: "schematronVACC/KO/CDA2_Certificato_Vaccinale Errore 1_DIZ-50.xml",
        gateway: "Almeno uno dei seguenti vocaboli non è censito: [CodeSystem: 2.16.840.1.113883.2.9.6.1.56.2, Codes: [COD_RISCHIO]], [CodeSystem: 2.16.840.1.113883.6.103, Codes: [COD_CONSRISK], XXX]",
        introduced: &[],
    },
    Pin {
        file: "schematronVACC/KO/CDA2_Certificato_Vaccinale Errore 2_DIZ.xml",
        gateway: "Almeno uno dei seguenti vocaboli non è censito: [CodeSystem: 2.16.840.1.113883.2.9.6.1.56.2, Codes: [COD_RISCHIO]], [CodeSystem: 2.16.840.1.113883.6.103, Codes: [COD_CONSRISK], XXX]",
        introduced: &[],
    },
    Pin {
        file: "schematronVACC/KO/CDA2_Certificato_Vaccinale Errore 3_DIZ.xml",
        gateway: "Almeno uno dei seguenti vocaboli non è censito: [CodeSystem: 2.16.840.1.113883.2.9.6.1.56.2, Codes: [COD_RISCHIO]], [CodeSystem: 2.16.840.1.113883.6.73, Codes: C08CAXXX], [CodeSystem: 2.16.840.1.113883.6.103, Codes: [COD_CONSRISK], XXX]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.6.73", "C08CAXXX")],
    },
    Pin {
        file: "schematronVACC/KO/CDA2_Certificato_Vaccinale Errore 6_DIZ.xml",
        gateway: "Almeno uno dei seguenti vocaboli non è censito: [CodeSystem: 2.16.840.1.113883.5.1052 v2.1.0, Codes: L], [CodeSystem: 2.16.840.1.113883.2.9.6.1.56.2, Codes: [COD_RISCHIO]], [CodeSystem: 2.16.840.1.113883.6.103, Codes: [COD_CONSRISK], XXX]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.5.1052", "L")],
    },
    Pin {
        file: "schematronVACC/KO/CDA2_Certificato_Vaccinale Errore 7_DIZ.xml",
        gateway: "Almeno uno dei seguenti vocaboli non è censito: [CodeSystem: 2.16.840.1.113883.5.112 v2.1.0, Codes: IABDI], [CodeSystem: 2.16.840.1.113883.2.9.6.1.56.2, Codes: [COD_RISCHIO]], [CodeSystem: 2.16.840.1.113883.6.103, Codes: [COD_CONSRISK], XXX]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.5.112", "IABDI")],
    },
    Pin {
        file: "schematronVPS/KO/CDA2_Verbale_Pronto_Soccorso Errore 14_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.5.1052", "L")],
    },
    Pin {
        file: "schematronVPS/KO/CDA2_Verbale_Pronto_Soccorso Errore 17.DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.5.112", "P")],
    },
    Pin {
        file: "schematronVPS/KO/CDA2_Verbale_Pronto_Soccorso Errore 19.DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.2.9.1.11.1.2.9", "IMPO")],
    },
    Pin {
        file: "schematronVPS/KO/CDA2_Verbale_Pronto_Soccorso Errore 1_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[],
    },
    Pin {
        file: "schematronVPS/KO/CDA2_Verbale_Pronto_Soccorso Errore 22.DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[],
    },
    Pin {
        file: "schematronVPS/KO/CDA2_Verbale_Pronto_Soccorso Errore 2_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[],
    },
    Pin {
        file: "schematronVPS/KO/CDA2_Verbale_Pronto_Soccorso Errore 3_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.6.73", "B01AX09")],
    },
    Pin {
        file: "schematronVPS/KO/CDA2_Verbale_Pronto_Soccorso Errore 5_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[],
    },
    Pin {
        file: "schematronVPS/KO/CDA2_Verbale_Pronto_Soccorso Errore 7_DIZ.xml",
        gateway: "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]",
        introduced: &[("term/unknown-code", "2.16.840.1.113883.2.9.77.22.11.2", "260152000")],
    },
];

fn validator() -> PathBuf {
    shared().join("corpus/validator")
}

type Signature = (String, String, String);

/// Distinct (id, codeSystem, code) of the errors, running past the blocking steps; with counts.
fn error_signatures(path: &Path) -> BTreeMap<Signature, usize> {
    let text = common::read_xml(path);
    let doc = roxmltree::Document::parse(&text).unwrap();
    let all = terminology().check_with(
        &doc,
        &CheckOptions {
            continue_after_blocking: true,
        },
    );
    let mut m = BTreeMap::new();
    for f in all.iter().filter(|f| f.severity == Severity::Error) {
        let d = |k: &str| f.details.get(k).cloned().unwrap_or_default();
        *m.entry((f.id.clone(), d("codeSystem"), d("code")))
            .or_insert(0) += 1;
    }
    m
}

fn family_ok_document(rel: &str) -> PathBuf {
    let family = rel.split('/').next().unwrap();
    let ok = validator().join(family).join("OK");
    let mut files = common::xml_files_under(&ok);
    assert_eq!(files.len(), 1, "{}", ok.display());
    files.remove(0)
}

#[test]
fn every_diz_document_is_pinned() {
    let found: Vec<String> = common::xml_files_under(&validator())
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains("DIZ"))
        .map(|p| {
            p.strip_prefix(validator())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut pinned: Vec<String> = PINS.iter().map(|p| p.file.to_string()).collect();
    pinned.sort();
    assert_eq!(found.len(), 35);
    assert_eq!(found, pinned);
}

#[test]
fn diz_documents_keep_their_outcome() {
    let mut failures = Vec::new();
    for pin in PINS {
        let path = validator().join(pin.file);
        let text = common::read_xml(&path);
        let doc = roxmltree::Document::parse(&text).unwrap();
        let findings = terminology().check(&doc);
        let got = gateway_message(&findings).unwrap_or("");
        if got != pin.gateway {
            failures.push(format!(
                "{}: gateway message\n  got  {got}\n  want {}",
                pin.file, pin.gateway
            ));
        }
        let doc_errors = error_signatures(&path);
        let base_errors = error_signatures(&family_ok_document(pin.file));
        let introduced: BTreeSet<Signature> = doc_errors
            .iter()
            .filter(|(k, n)| base_errors.get(*k).is_none_or(|b| *n > b))
            .map(|(k, _)| k.clone())
            .collect();
        let want: BTreeSet<Signature> = pin
            .introduced
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        if introduced != want {
            failures.push(format!(
                "{}: introduced errors\n  got  {introduced:?}\n  want {want:?}",
                pin.file
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
