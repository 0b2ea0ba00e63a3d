//! The gateway lens against the manifest's `gateway_expected`, and CDA extraction from the
//! ministry's 8 official PDFs (parsed with roxmltree to prove it is the CDA).

use fsecheck_pades::{analyze, CdaMode, Options, TrustStore};
use serde_json::Value;
use std::path::PathBuf;

fn shared() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    assert!(
        p.join("pades/manifest.jsonl").is_file(),
        "shared test data missing at {}",
        p.display()
    );
    p
}

fn options(mode: CdaMode) -> Options {
    let trust =
        TrustStore::from_path(&shared().join("pades/pki/root-ca.pem")).expect("root-ca.pem");
    Options {
        trust,
        cda_mode: mode,
        ..Options::default()
    }
}

#[test]
fn gateway_lens_matches_manifest_predictions() {
    let dir = shared().join("pades");
    let text = std::fs::read_to_string(dir.join("manifest.jsonl")).unwrap();
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).unwrap();
        let file = row["file"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let ge = &row["gateway_expected"];
        if let Some(cp) = ge["checkPades"].as_str() {
            let rep = analyze(&bytes, &options(CdaMode::Attachment));
            let g = &rep.gateway;
            let detail = g.sign_error.as_ref().map(|e| e.detail.as_str());
            if cp.contains("Il pdf non risulta firmato") {
                assert_eq!(detail, Some("Il pdf non risulta firmato"), "{file}");
                assert_eq!(g.signature_check, "unsigned", "{file}");
            } else if cp.starts_with("valid") {
                assert_eq!(g.signature_check, "valid", "{file}");
                assert!(detail.is_none(), "{file}");
            } else {
                // "invalid", "likely invalid: …", "invalid, by accident: …"
                assert!(
                    cp.contains("invalid"),
                    "{file}: unexpected manifest text {cp}"
                );
                assert_eq!(g.signature_check, "invalid", "{file}");
                assert_eq!(
                    detail,
                    Some("La firma del pdf non risulta valida"),
                    "{file}"
                );
                assert_eq!(g.sign_error.as_ref().unwrap().type_, "/msg/sign-error");
            }
            checked += 1;
        }
        for (key, mode) in [
            ("mode_A", CdaMode::Attachment),
            ("mode_R", CdaMode::Resource),
        ] {
            let Some(exp) = ge[key].as_str() else {
                continue;
            };
            let rep = analyze(&bytes, &options(mode));
            let found = rep.gateway.cda_found;
            if exp.contains("MINING_CDA_ERROR") {
                assert!(!found, "{file} {key}: gateway would not find the CDA");
                let e = rep.gateway.cda_error.as_ref().expect("cda error");
                assert_eq!(e.type_, "/msg/cda-element");
                assert_eq!(e.detail, "Error while extracting CDA from PDF document");
            } else if exp.contains("extracted") {
                assert!(found, "{file} {key}: gateway would extract the CDA ({exp})");
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} gateway predictions checked");
}

#[test]
fn auto_mode_carries_the_gateway_warning() {
    let bytes = std::fs::read(shared().join("pades/01_pades_bb_rsa.pdf")).unwrap();
    let rep = analyze(&bytes, &options(CdaMode::Auto));
    assert!(rep
        .gateway
        .publication_warnings
        .iter()
        .any(|w| w == "Attenzione, non è stata selezionata la modalità di estrazione del CDA"));
    assert_eq!(
        rep.gateway.validation_warnings,
        vec![
            "[WARNING_EXTRACT]Attenzione, non è stata selezionata la modalità di estrazione del CDA",
            "[SIGN_WARN - Attenzione il documento risulta firmato in validazione]"
        ]
    );
    let rep = analyze(&bytes, &options(CdaMode::Attachment));
    assert!(!rep
        .gateway
        .publication_warnings
        .iter()
        .chain(&rep.gateway.validation_warnings)
        .any(|w| w.contains("modalità di estrazione")));
}

#[test]
fn resource_mode_cda_is_found_only_in_resource_or_auto_mode() {
    let bytes = std::fs::read(shared().join("pades/25_cda_resource_mode.pdf")).unwrap();
    let r = analyze(&bytes, &options(CdaMode::Resource));
    assert_eq!(r.cda_extraction.result, "ok_resource_mode");
    let cda = r.cda.expect("cda");
    let doc = roxmltree::Document::parse(std::str::from_utf8(&cda.bytes).unwrap()).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "ClinicalDocument");
    let a = analyze(&bytes, &options(CdaMode::Attachment));
    assert_eq!(a.cda_extraction.result, "none");
    assert!(a.findings.iter().any(|f| f.id == "pdf/cda-missing"));
}

#[test]
fn official_pdfs_yield_their_cda() {
    let dir = shared().join("corpus/gateway-tests/files/pdf");
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("official PDFs")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
    {
        let bytes = std::fs::read(&p).unwrap();
        for mode in [CdaMode::Attachment, CdaMode::Auto] {
            let rep = analyze(&bytes, &options(mode));
            assert_eq!(rep.parse, "ok", "{}", p.display());
            assert!(
                rep.cda_extraction.result.starts_with("ok"),
                "{}: {}",
                p.display(),
                rep.cda_extraction.result
            );
            assert!(rep.gateway.cda_found, "{}", p.display());
            let cda = rep.cda.as_ref().expect("cda");
            assert_eq!(cda.name.as_deref(), Some("cda.xml"));
            let text = std::str::from_utf8(&cda.bytes).expect("UTF-8 CDA");
            let doc =
                roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let root = doc.root_element();
            assert_eq!(
                root.tag_name().name(),
                "ClinicalDocument",
                "{}",
                p.display()
            );
            assert_eq!(
                root.tag_name().namespace(),
                Some("urn:hl7-org:v3"),
                "{}",
                p.display()
            );
            // Each official PDF is signed (ministry test certificate, not in our trust store).
            assert_eq!(rep.signatures.len(), 1, "{}", p.display());
            assert_eq!(rep.signatures[0].integrity, "pass", "{}", p.display());
            assert_eq!(rep.gateway.signature_check, "valid", "{}", p.display());
        }
        n += 1;
    }
    assert_eq!(n, 8, "expected the 8 official PDFs");
}

#[test]
fn embedded_revocation_data_is_evaluated_offline() {
    // 04 carries a DSS with the chain, CRLs of root and intermediate and an OCSP response.
    let bytes = std::fs::read(shared().join("pades/04_pades_blt_rsa.pdf")).unwrap();
    let r = analyze(&bytes, &options(CdaMode::Attachment));
    let rev = &r.signatures[0].revocation;
    assert!(rev.starts_with("good"), "{rev}");
    assert!(rev.contains("OCSP"), "{rev}");
    // A B-B file carries nothing to evaluate.
    let bytes = std::fs::read(shared().join("pades/01_pades_bb_rsa.pdf")).unwrap();
    let r = analyze(&bytes, &options(CdaMode::Attachment));
    assert_eq!(r.signatures[0].revocation, "not_checked");
}

#[test]
fn trust_store_loads_files_and_directories_and_fails_loudly() {
    let pki = shared().join("pades/pki");
    let one = TrustStore::from_path(&pki.join("root-ca.pem")).unwrap();
    assert_eq!(one.anchors.len(), 1);
    let dir = TrustStore::from_path(&pki).unwrap();
    // Every certificate of the directory, duplicates (trust-anchors.pem = root-ca.pem) once.
    assert!(dir.anchors.len() >= 8, "{}", dir.anchors.len());
    assert!(TrustStore::from_path(&pki.join("does-not-exist.pem")).is_err());
    assert!(TrustStore::from_path(&shared().join("pades/manifest.jsonl")).is_err());
}

#[test]
fn release_variant_no_longer_reads_name_tree_kids() {
    use fsecheck_pades::GatewayVariant;
    let bytes = std::fs::read(shared().join("pades/27_cda_nametree_kids.pdf")).unwrap();
    let main = analyze(&bytes, &options(CdaMode::Attachment));
    assert!(main.gateway.cda_found);
    let release = analyze(
        &bytes,
        &Options {
            gateway: GatewayVariant::Release,
            ..options(CdaMode::Attachment)
        },
    );
    assert!(!release.gateway.cda_found);
    assert_eq!(
        release.gateway.cda_error.as_ref().unwrap().type_,
        "/msg/cda-element"
    );
    // Our own extraction does not depend on the gateway variant.
    assert_eq!(release.cda_extraction.result, "ok");
    // A flat name tree is found by both.
    let flat = std::fs::read(shared().join("pades/01_pades_bb_rsa.pdf")).unwrap();
    let r = analyze(
        &flat,
        &Options {
            gateway: GatewayVariant::Release,
            ..options(CdaMode::Attachment)
        },
    );
    assert!(r.gateway.cda_found);
}
