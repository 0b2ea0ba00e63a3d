//! Engine-map check, catalog loading edge cases, and the official examples.

mod common;

use common::{catalog_dir, cda, engines, errors, shared, terminology};
use fsecheck_core::{Severity, Stage};
use fsecheck_terminology::{gateway_message, rules, Engines, Terminology};
use std::io::Write;
use std::path::{Path, PathBuf};

#[test]
fn engine_has_maps_for_the_catalog_types_but_not_televisita() {
    let e = engines();
    assert_eq!(e.latest_id(), Some("69d7a03618a518d766c7f496"));
    // LDO, PSS, both vaccination roots (one map lists two roots).
    for root in [
        "2.16.840.1.113883.2.9.10.1.5",
        "2.16.840.1.113883.2.9.10.1.4.1.1",
        "2.16.840.1.113883.2.9.10.1.11.1.1",
        "2.16.840.1.113883.2.9.10.1.11.1.2",
    ] {
        assert!(e.check(root).is_none(), "{root}");
    }
    assert_eq!(
        e.map_for("2.16.840.1.113883.2.9.10.1.5")
            .and_then(|m| m.uri.as_deref()),
        Some("http://salute.gov.it/ig/cda-fhir-maps/StructureMap/LetteraDimissioneOspedaliera")
    );
    let f = e
        .check("2.16.840.1.113883.2.9.10.1.16.1.1")
        .expect("no map for Televisita");
    assert_eq!(f.id, rules::ENGINE_NO_MAP);
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.stage, Stage::Engine);
    assert_eq!(
        f.message,
        "Nessuna mappa con id 2.16.840.1.113883.2.9.10.1.16.1.1 è stata trovata nell'engine 69d7a03618a518d766c7f496"
    );
    // Exact match only: a prefix of a mapped root is not mapped.
    assert!(e.check("2.16.840.1.113883.2.9.10.1").is_some());
}

#[test]
fn engine_check_document_uses_the_first_template_id() {
    let text = r#"<ClinicalDocument xmlns="urn:hl7-org:v3">
  <templateId root="2.16.840.1.113883.2.9.10.1.16.1.1" extension="1.0"/>
  <templateId root="2.16.840.1.113883.2.9.10.1.5"/>
</ClinicalDocument>"#;
    let doc = roxmltree::Document::parse(text).unwrap();
    let f = engines()
        .check_document(&doc)
        .expect("first root has no map");
    assert_eq!(
        f.location.xpath.as_deref(),
        Some("/ClinicalDocument[1]/templateId[1]")
    );
    let span = f.location.span.unwrap();
    assert!(text[span.start..span.end]
        .starts_with("<templateId root=\"2.16.840.1.113883.2.9.10.1.16.1.1\""));

    let ok = cda("");
    let doc = roxmltree::Document::parse(&ok).unwrap();
    assert!(engines().check_document(&doc).is_none());
}

fn temp_catalog(name: &str, dictionary: &str, engines: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fsecheck-terminology-{name}-{}",
        std::process::id()
    ));
    let dump = dir.join("mongo-dump");
    std::fs::create_dir_all(&dump).unwrap();
    std::fs::create_dir_all(dir.join("terminology")).unwrap();
    for (file, json) in [
        ("dictionary.json.gzip", dictionary),
        ("engines.json.gzip", engines),
    ] {
        let f = std::fs::File::create(dump.join(file)).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all(json.as_bytes()).unwrap();
        gz.finish().unwrap();
    }
    dir
}

#[test]
fn engine_selection_skips_unavailable_and_expired_and_takes_the_latest_sync() {
    let dir = temp_catalog(
        "engines",
        "[]",
        r#"[
 {"_id": {"$oid": "aaa"}, "available": true, "last_sync": {"$date": "2026-01-01T00:00:00Z"},
  "roots": [{"oid": {"$oid": "m1"}, "template_id_root": ["1.2.3"]}]},
 {"_id": {"$oid": "bbb"}, "available": false, "last_sync": {"$date": "2026-06-01T00:00:00Z"},
  "roots": [{"oid": {"$oid": "m2"}, "template_id_root": ["1.2.3", "4.5.6"]}]},
 {"_id": {"$oid": "ccc"}, "available": true, "expired": true, "last_sync": {"$date": "2026-07-01T00:00:00Z"},
  "roots": []},
 {"_id": {"$oid": "ddd"}, "available": true, "last_sync": {"$date": "2026-03-01T00:00:00.5Z"},
  "roots": [{"oid": {"$oid": "m4"}, "template_id_root": ["4.5.6"]}]}
]"#,
    );
    let e = Engines::load(&dir).unwrap();
    assert_eq!(e.latest_id(), Some("ddd"));
    assert_eq!(e.engine_count(), 4);
    assert!(e.check("4.5.6").is_none());
    let f = e.check("1.2.3").unwrap();
    assert_eq!(
        f.message,
        "Nessuna mappa con id 1.2.3 è stata trovata nell'engine ddd"
    );

    let none = temp_catalog(
        "noengine",
        "[]",
        r#"[{"_id": {"$oid": "x"}, "available": false}]"#,
    );
    let f = Engines::load(&none).unwrap().check("1.2.3").unwrap();
    assert_eq!(f.id, rules::ENGINE_NONE);
    assert_eq!(f.message, "Nessun engine disponibile");
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(none);
}

#[test]
fn empty_dictionary_collection_fails_every_document() {
    let dir = temp_catalog("emptydict", "[]", "[]");
    let t = Terminology::load(&dir).unwrap();
    let text = cda("");
    let doc = roxmltree::Document::parse(&text).unwrap();
    let f = t.check(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].id, rules::NO_DICTIONARIES);
    assert_eq!(
        gateway_message(&f),
        Some("Non è stato trovato alcun dizionario gestito su FSE")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn load_errors_are_values() {
    let missing = Path::new("/nonexistent/fsecheck/catalog");
    let err = Terminology::load(missing).err().expect("must fail");
    assert!(err.to_string().contains("dictionary.json.gzip"), "{err}");
    assert!(Engines::load(missing).is_err());
    let dir = temp_catalog("badjson", "{\"not\": \"an array\"}", "[]");
    let err = Terminology::load(&dir).err().expect("must fail");
    assert!(err.to_string().contains("JSON array"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn catalog_snapshot_facts() {
    let t = terminology();
    assert_eq!(t.systems().len(), 66);
    assert_eq!(t.latest_version("2.16.840.1.113883.6.1"), Some("2.82"));
    assert_eq!(t.latest_version("2.16.840.1.113883.6.103"), None);
    assert_eq!(t.latest_version("1.2.840.10008.2.16.4"), Some("01"));
    // Only LOINC and AIC lack their code list.
    let problems: Vec<String> = t.preload().into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        problems,
        ["2.16.840.1.113883.2.9.6.1.5", "2.16.840.1.113883.6.1"]
    );
    assert!(t.code_count("2.16.840.1.113883.6.103").unwrap() > 20_000);
}

#[test]
fn official_examples_get_no_terminology_error() {
    let files = common::xml_files_under(&shared().join("corpus/examples"));
    assert_eq!(files.len(), 9);
    for path in files {
        let text = common::read_xml(&path);
        let doc = roxmltree::Document::parse(&text).unwrap();
        let f = terminology().check(&doc);
        assert!(
            errors(&f).is_empty(),
            "{}: {:#?}",
            path.display(),
            errors(&f)
        );
        assert_eq!(gateway_message(&f), None);
        // Every example uses LOINC, whose code list is absent: said, not hidden.
        assert!(
            f.iter().any(|x| x.id == rules::DICTIONARY_UNAVAILABLE
                && x.details["codeSystem"] == "2.16.840.1.113883.6.1"),
            "{}",
            path.display()
        );
        assert!(
            engines().check_document(&doc).is_none(),
            "{}",
            path.display()
        );
    }
    assert!(catalog_dir().is_dir());
}

#[test]
fn whole_corpus_invariants() {
    let mut files = common::xml_files_under(&shared().join("corpus/validator"));
    files.extend(common::xml_files_under(&shared().join("corpus/examples")));
    assert!(files.len() >= 913);
    let mut with_message = 0;
    for path in files {
        let text = common::read_xml(&path);
        let doc = roxmltree::Document::parse(&text).unwrap();
        let f = terminology().check(&doc);
        // The gateway message is there exactly when the gateway would fail the document.
        assert_eq!(
            gateway_message(&f).is_some(),
            !errors(&f).is_empty(),
            "{}",
            path.display()
        );
        // Exactly one error carries it.
        let carriers = f
            .iter()
            .filter(|x| {
                x.details
                    .contains_key(fsecheck_terminology::GATEWAY_MESSAGE)
            })
            .count();
        assert!(carriers <= 1, "{}", path.display());
        with_message += usize::from(carriers == 1);
        // Every element finding points into the text at a start tag.
        for x in &f {
            if let Some(span) = x.location.span {
                assert!(
                    text[span.start..span.end].starts_with('<'),
                    "{}",
                    path.display()
                );
                assert!(
                    text[span.start..span.end].ends_with('>'),
                    "{}",
                    path.display()
                );
                assert!(x
                    .location
                    .xpath
                    .as_deref()
                    .unwrap()
                    .starts_with("/ClinicalDocument[1]"));
            }
        }
        // Going on past blocking steps never loses the gateway's own errors.
        let all = terminology().check_with(
            &doc,
            &fsecheck_terminology::CheckOptions {
                continue_after_blocking: true,
            },
        );
        assert_eq!(
            gateway_message(&all),
            gateway_message(&f),
            "{}",
            path.display()
        );
        assert!(errors(&all).len() >= errors(&f).len(), "{}", path.display());
    }
    // Today's snapshot fails most of the validator corpus (see docs/GATEWAY.md (terminology section)).
    assert_eq!(with_message, 864);
}
