use super::*;
use fsecheck_core::Finding;
use fsecheck_report::{CdaSummary, GatewayVerdict};

fn gateway(status: u16) -> Option<GatewayVerdict> {
    Some(GatewayVerdict {
        status,
        error_type: None,
        title: None,
        instance: None,
        detail: None,
        warning: None,
    })
}

fn xml(path: &str, doc_type: Option<&str>, size: u64, errors: &[(&str, Stage)]) -> DocumentReport {
    let mut r = DocumentReport::new(path, Kind::Xml);
    r.doc_type = doc_type.map(str::to_string);
    r.cda = Some(CdaSummary::default());
    r.size = size;
    for (id, stage) in errors {
        r.findings.push(Finding::error(*id, *stage, "e"));
    }
    r.finish();
    r.gateway = gateway(if errors.is_empty() { 201 } else { 422 });
    r
}

fn pdf(path: &str, doc_type: Option<&str>, check: &str, ades: &str, level: &str) -> DocumentReport {
    let mut r = DocumentReport::new(path, Kind::Pdf);
    r.doc_type = doc_type.map(str::to_string);
    r.cda = doc_type.map(|_| CdaSummary::default());
    r.size = 100;
    r.pdf = Some(serde_json::json!({
        "gateway": {"signature_check": check},
        "ades": {"verdict": ades},
    }));
    if !level.is_empty() {
        r.signatures
            .push(serde_json::json!({"kind": "signature", "level": level}));
    }
    r.gateway = gateway(if doc_type.is_some() { 201 } else { 400 });
    r
}

fn row<'a>(rows: &'a [RowStats], id: &str) -> &'a RowStats {
    rows.iter()
        .find(|r| r.row == id)
        .unwrap_or_else(|| panic!("no row {id}"))
}

#[test]
fn hand_computed_rows() {
    let mut a = Audit::default();
    a.add(&xml("a.xml", Some("LDO"), 10, &[]));
    a.add(&xml(
        "b.xml",
        Some("LDO"),
        30,
        &[
            ("sch/ERRORE-5", Stage::Schematron),
            ("sch/ERRORE-5", Stage::Schematron),
            ("xsd/unexpected-element", Stage::Xsd),
        ],
    ));
    a.add(&xml(
        "c.xml",
        Some("LDO"),
        20,
        &[("term/unknown-code", Stage::Terminology)],
    ));
    a.add(&pdf("d.pdf", Some("LDO"), "valid", "warn", "B-B"));
    a.add(&pdf("e.pdf", Some("LAB"), "invalid", "fail", "B-B"));
    a.add(&pdf(
        "f.pdf",
        Some("LAB"),
        "valid",
        "warn",
        "none (PKCS#7-B)",
    ));
    a.add(&pdf("g.pdf", None, "unsigned", "fail", ""));
    let mut weird = xml("h.xml", None, 5, &[("sch/not-found", Stage::Schematron)]);
    weird.gateway = gateway(422);
    a.add(&weird);
    let mut txt = DocumentReport::new("i.txt", Kind::Other);
    txt.findings.push(Finding::error(
        "input/unsupported-format",
        Stage::Input,
        "x",
    ));
    txt.finish();
    txt.gateway = gateway(415);
    a.add(&txt);
    let mut side = DocumentReport::new("d.json", Kind::Other);
    side.findings
        .push(Finding::info("input/sidecar", Stage::Input, "s"));
    a.add(&side);

    let rows = a.rows();
    let ids: Vec<&str> = rows.iter().map(|r| r.row.as_str()).collect();
    assert_eq!(
        ids,
        [
            "LAB",
            "LDO",
            "unknown-type",
            "no-cda",
            "not-cda",
            "not-document"
        ]
    );
    let ldo = row(&rows, "LDO");
    assert_eq!((ldo.documents, ldo.xml, ldo.pdf), (4, 3, 1));
    assert_eq!(ldo.name, "Lettera di Dimissione Ospedaliera");
    assert_eq!((ldo.pdf_with_cda2, ldo.pct_pdf_with_cda2), (1, Some(100.0)));
    assert_eq!((ldo.pades_gateway, ldo.pades_ades), (1, 1));
    assert_eq!(ldo.cda_checked, 4);
    // b fails XSD and schematron, c fails terminology.
    assert_eq!((ldo.xsd_valid, ldo.pct_xsd_valid), (3, Some(75.0)));
    assert_eq!(ldo.schematron_valid, 3);
    assert_eq!(ldo.terminology_valid, 3);
    assert_eq!(
        (ldo.all_stages_valid, ldo.pct_all_stages_valid),
        (2, Some(50.0))
    );
    assert_eq!((ldo.gateway_known, ldo.gateway_accepted), (4, 2));
    // Sizes 10, 30, 20, 100 → median (20 + 30) / 2.
    assert_eq!(ldo.median_size, Some(25.0));
    // Two schematron findings of one rule in one document count once.
    assert_eq!(
        ldo.top_failing_rules,
        vec![
            RuleCount {
                id: "sch/ERRORE-5".into(),
                documents: 1
            },
            RuleCount {
                id: "term/unknown-code".into(),
                documents: 1
            },
            RuleCount {
                id: "xsd/unexpected-element".into(),
                documents: 1
            },
        ]
    );
    let lab = row(&rows, "LAB");
    // e: the gateway finds the signature invalid; f: valid for the gateway, but PKCS#7 (no PAdES level).
    assert_eq!((lab.pades_gateway, lab.pct_pades_gateway), (1, Some(50.0)));
    assert_eq!((lab.pades_ades, lab.pct_pades_ades), (0, Some(0.0)));
    let no_cda = row(&rows, "no-cda");
    assert_eq!(
        (no_cda.pdf, no_cda.pdf_with_cda2, no_cda.cda_checked),
        (1, 0, 0)
    );
    assert_eq!(no_cda.pct_xsd_valid, None);
    assert_eq!(row(&rows, "unknown-type").schematron_valid, 0);
    assert_eq!(row(&rows, "not-cda").pct_gateway_accepted, Some(0.0));
    let side = row(&rows, "not-document");
    assert_eq!((side.gateway_known, side.pct_gateway_accepted), (0, None));

    let t = a.total();
    assert_eq!(t.documents, 10);
    assert_eq!(
        (t.pdf, t.pdf_with_cda2, t.pct_pdf_with_cda2),
        (4, 3, Some(75.0))
    );
    assert_eq!((t.pades_gateway, t.pct_pades_gateway), (2, Some(50.0)));
    assert_eq!((t.pades_ades, t.pct_pades_ades), (1, Some(25.0)));
    assert_eq!(t.cda_checked, 7);
    // Only c has a terminology error: 6 of 7 → 85.7.
    assert_eq!(t.pct_terminology_valid, Some(85.7));
    // Accepted: a, d, e, f; known: all but the sidecar.
    assert_eq!((t.gateway_known, t.gateway_accepted), (9, 4));
    assert_eq!(t.pct_gateway_accepted, Some(44.4));
    // Five rules with one document each: ties by id.
    let top: Vec<&str> = t.top_failing_rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        top,
        [
            "input/unsupported-format",
            "sch/ERRORE-5",
            "sch/not-found",
            "term/unknown-code",
            "xsd/unexpected-element"
        ]
    );
    // Sizes: 10 30 20 100 100 100 100 5 0 0 → sorted 0 0 5 10 20 30 100 100 100 100.
    assert_eq!(t.median_size, Some(25.0));
    assert!(t.median_size_exact);
}

#[test]
fn rule_ties_by_id_and_ten_at_most() {
    let mut a = Audit::default();
    for i in 0..12 {
        let id = format!("r/{i:02}");
        a.add(&xml("x.xml", Some("VPS"), 1, &[(id.as_str(), Stage::Xml)]));
    }
    a.add(&xml("y.xml", Some("VPS"), 1, &[("r/11", Stage::Xml)]));
    let top = a.total().top_failing_rules;
    assert_eq!(top.len(), TOP_RULES);
    assert_eq!((top[0].id.as_str(), top[0].documents), ("r/11", 2));
    assert_eq!(top[1].id, "r/00");
    assert_eq!(top[9].id, "r/08");
}

#[test]
fn csv_json_and_html_are_written() {
    let mut a = Audit::default();
    a.add(&xml(
        "a.xml",
        Some("RSA"),
        7,
        &[("sch/ERRORE-1", Stage::Schematron)],
    ));
    a.add(&pdf("b.pdf", None, "unsigned", "fail", ""));
    let dir = tempfile::tempdir().unwrap();
    a.write(dir.path()).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("audit.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], CSV_COLUMNS.join(","));
    assert!(lines[1].starts_with("RSA,Referto di Specialistica Ambulatoriale,1,1,0,0,0,,"));
    assert!(lines[1].ends_with(",7,true,sch/ERRORE-1 (1)"));
    assert!(lines[3].starts_with("all,all documents,2,1,1,0,0,0,"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("audit.json")).unwrap())
            .unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 2);
    assert_eq!(json["all"]["pct_schematron_valid"], 0.0);
    assert!(json["rows"][1]["pct_xsd_valid"].is_null());
    let page = std::fs::read_to_string(dir.path().join("audit.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<svg"));
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(!page.contains("<script"));
}

#[test]
fn table_names_the_global_figures() {
    let mut a = Audit::default();
    a.add(&pdf("b.pdf", Some("LAB"), "valid", "pass", "B-T"));
    let t = a.table();
    assert!(t.starts_with("audit of 1 documents (1 PDF, 0 XML, 0 other)"));
    assert!(t.contains("PDFs signed PAdES (AdES lens)"));
    assert!(t.contains("100.0 %"));
}
