//! `fsecheck audit` and `fsecheck merge`: audit figures against values worked out by hand from what
//! each fixture document is, merge of shards equal to the single run, the HTML page
//! self-contained and well-formed, and merge's errors.

mod common;

use common::{catalog, fsecheck, shared, workspace};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The hand-picked set: (source, name in the set). What each one is, from the fixture's purpose
/// and the PAdES manifest:
/// - LDO.xml: valid LDO. LDO-wrong-loinc.xml: LDO failing schematron (sch/ERRORE-5) only.
/// - LAB.xml: valid LAB. LAB-unknown-code.xml: LAB failing terminology only (gateway 400).
/// - RAD-xsd-order.xml: RAD failing XSD only. VPS-truncated.xml: not well-formed, not a CDA.
/// - not-a-cda.txt: unsupported format (415).
/// - 01: LAB in a PAdES B-B signed PDF (valid for the gateway; AdES warn: no trust anchors).
/// - 06: LAB, adbe.pkcs7.detached signature: valid for the gateway, no PAdES level.
/// - 00: LAB, unsigned. 11: LAB, tampered signed bytes (gateway: invalid; AdES: fail).
///   Validation does not check signatures: all four LAB PDFs are accepted (201).
/// - 20: signed PDF without a CDA (signature valid for the gateway; AdES fail). 24: garbage PDF.
fn audit_set() -> Vec<(PathBuf, &'static str)> {
    let ws = workspace();
    let pades = shared().join("pades");
    vec![
        (ws.join("fixtures/cda/LDO.xml"), "LDO.xml"),
        (
            ws.join("fixtures/broken/LDO-wrong-loinc.xml"),
            "LDO-wrong-loinc.xml",
        ),
        (ws.join("fixtures/cda/LAB.xml"), "LAB.xml"),
        (
            ws.join("fixtures/broken/LAB-unknown-code.xml"),
            "LAB-unknown-code.xml",
        ),
        (
            ws.join("fixtures/broken/RAD-xsd-order.xml"),
            "RAD-xsd-order.xml",
        ),
        (
            ws.join("fixtures/broken/VPS-truncated.xml"),
            "VPS-truncated.xml",
        ),
        (ws.join("fixtures/broken/not-a-cda.txt"), "not-a-cda.txt"),
        (pades.join("01_pades_bb_rsa.pdf"), "p01.pdf"),
        (pades.join("06_pkcs7_detached_rsa.pdf"), "p06.pdf"),
        (pades.join("00_unsigned_cda.pdf"), "p00.pdf"),
        (pades.join("11_tampered_signed_bytes.pdf"), "p11.pdf"),
        (pades.join("20_no_attachment.pdf"), "p20.pdf"),
        (pades.join("24_garbage.pdf"), "p24.pdf"),
    ]
}

fn copy_set(dir: &Path) -> PathBuf {
    let docs = dir.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for (src, name) in audit_set() {
        std::fs::copy(&src, docs.join(name)).unwrap();
    }
    docs
}

fn size(dir: &Path, name: &str) -> f64 {
    std::fs::metadata(dir.join(name)).unwrap().len() as f64
}

/// The median by sorting (mean of the two middle values for an even count).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    (v[(n - 1) / 2] + v[n / 2]) / 2.0
}

fn run(args: &[&OsStr]) -> Output {
    fsecheck().args(args).output().expect("run fsecheck")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn audit_figures_match_hand_computed_values() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = copy_set(tmp.path());
    let out = tmp.path().join("out");
    let o = run(&[
        "audit".as_ref(),
        "--catalog".as_ref(),
        catalog().as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        docs.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.starts_with("audit of 13 documents (6 PDF, 6 XML, 1 other)"),
        "{stdout}"
    );
    let json = read_json(&out.join("audit.json"));
    let rows: Vec<&serde_json::Value> = json["rows"].as_array().unwrap().iter().collect();
    let ids: Vec<&str> = rows.iter().map(|r| r["row"].as_str().unwrap()).collect();
    assert_eq!(ids, ["LAB", "LDO", "RAD", "no-cda", "not-cda"]);
    let row = |id: &str| *rows.iter().find(|r| r["row"] == id).unwrap();
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k}: {v}"));

    let lab = row("LAB");
    for (k, want) in [
        ("documents", 6),
        ("xml", 2),
        ("pdf", 4),
        ("pdf_with_cda2", 4),
        ("pades_gateway", 2),
        ("pades_ades", 1),
        ("cda_checked", 6),
        ("xsd_valid", 6),
        ("schematron_valid", 6),
        ("terminology_valid", 5),
        ("all_stages_valid", 5),
        ("gateway_known", 6),
        ("gateway_accepted", 5),
    ] {
        assert_eq!(n(lab, k), want, "LAB {k}");
    }
    assert_eq!(lab["pct_pdf_with_cda2"], 100.0);
    assert_eq!(lab["pct_pades_gateway"], 50.0);
    assert_eq!(lab["pct_pades_ades"], 25.0);
    assert_eq!(lab["pct_terminology_valid"], 83.3);
    let lab_rules: Vec<(&str, u64)> = lab["top_failing_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), n(r, "documents")))
        .collect();
    assert_eq!(
        lab_rules,
        [
            ("sig/digest-mismatch", 1),
            ("sig/unsigned", 1),
            ("term/unknown-code", 1)
        ]
    );
    let lab_sizes: Vec<f64> = [
        "LAB.xml",
        "LAB-unknown-code.xml",
        "p01.pdf",
        "p06.pdf",
        "p00.pdf",
        "p11.pdf",
    ]
    .iter()
    .map(|f| size(&docs, f))
    .collect();
    assert_eq!(lab["median_size"], median(lab_sizes));
    assert_eq!(lab["median_size_exact"], true);

    let ldo = row("LDO");
    assert_eq!((n(ldo, "documents"), n(ldo, "pdf")), (2, 0));
    assert!(ldo["pct_pdf_with_cda2"].is_null());
    assert_eq!((n(ldo, "schematron_valid"), n(ldo, "xsd_valid")), (1, 2));
    assert_eq!(ldo["pct_gateway_accepted"], 50.0);
    assert_eq!(ldo["top_failing_rules"][0]["id"], "sch/ERRORE-5");

    let rad = row("RAD");
    assert_eq!(
        (
            n(rad, "xsd_valid"),
            n(rad, "schematron_valid"),
            n(rad, "terminology_valid")
        ),
        (0, 1, 1)
    );
    assert_eq!(rad["pct_xsd_valid"], 0.0);

    let no_cda = row("no-cda");
    assert_eq!(
        (
            n(no_cda, "pdf"),
            n(no_cda, "pdf_with_cda2"),
            n(no_cda, "pades_gateway")
        ),
        (2, 0, 1)
    );
    assert_eq!(n(no_cda, "cda_checked"), 0);
    assert!(no_cda["pct_xsd_valid"].is_null());
    assert_eq!(no_cda["pct_gateway_accepted"], 0.0);

    let not_cda = row("not-cda");
    assert_eq!((n(not_cda, "xml"), n(not_cda, "other")), (1, 1));

    let all = &json["all"];
    for (k, want) in [
        ("documents", 13),
        ("pdf", 6),
        ("pdf_with_cda2", 4),
        ("pades_gateway", 3),
        ("pades_ades", 1),
        ("cda_checked", 9),
        ("xsd_valid", 8),
        ("schematron_valid", 8),
        ("terminology_valid", 8),
        ("all_stages_valid", 6),
        ("gateway_known", 13),
        ("gateway_accepted", 6),
    ] {
        assert_eq!(n(all, k), want, "all {k}");
    }
    assert_eq!(all["pct_pdf_with_cda2"], 66.7);
    assert_eq!(all["pct_pades_ades"], 16.7);
    assert_eq!(all["pct_all_stages_valid"], 66.7);
    assert_eq!(all["pct_gateway_accepted"], 46.2);
    let all_sizes: Vec<f64> = audit_set().iter().map(|(_, f)| size(&docs, f)).collect();
    assert_eq!(all["median_size"], median(all_sizes));

    // The CSV says the same: the `all` line's first columns.
    let csv = std::fs::read_to_string(out.join("audit.csv")).unwrap();
    let last = csv.lines().last().unwrap();
    assert!(
        last.starts_with("all,all documents,13,6,6,1,4,66.7,3,50,1,16.7,9,8,88.9,"),
        "{last}"
    );
}

/// Tags that never close in HTML.
const VOID: &[&str] = &["meta", "br", "hr", "img", "input", "link", "col", "wbr"];

/// Every start tag closed in order, void elements aside; text outside tags has no stray `<`.
fn assert_balanced(page: &str) {
    let body = page
        .strip_prefix("<!DOCTYPE html>")
        .expect("starts with the doctype");
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let end = after.find('>').expect("unterminated tag");
        let tag = &after[..end];
        assert!(!tag.contains('<'), "stray '<' near {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name, "</{name}> closes <{open}>");
        } else {
            let name: String = tag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            assert!(!name.is_empty(), "odd tag <{tag}>");
            if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
                stack.push(name);
            }
        }
        rest = &after[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

#[test]
fn audit_html_is_self_contained_and_well_formed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = run(&[
        "audit".as_ref(),
        "--quiet".as_ref(),
        "--catalog".as_ref(),
        catalog().as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        workspace().join("fixtures").as_os_str(),
        shared().join("pades").as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "--quiet prints nothing");
    let page = std::fs::read_to_string(out.join("audit.html")).unwrap();
    assert_balanced(&page);
    assert!(page.matches("<svg").count() >= 3);
    assert!(page.contains("<rect"));
    for banned in ["http://", "https://", "<script", "<link", " src=", "url("] {
        assert!(!page.contains(banned), "page contains {banned}");
    }
    // Every row of the JSON is in the page's table.
    let json = read_json(&out.join("audit.json"));
    for r in json["rows"].as_array().unwrap() {
        assert!(page.contains(&format!("<code>{}</code>", r["row"].as_str().unwrap())));
    }
}

#[test]
fn audit_with_a_format_keeps_records_on_stdout_and_a_bad_out_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let fixtures = workspace().join("fixtures/cda");
    let o = run(&[
        "audit".as_ref(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--catalog".as_ref(),
        catalog().as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        fixtures.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let records = common::records(&o.stdout);
    assert_eq!(records.len(), 10);
    assert!(stderr(&o).starts_with("audit of 10 documents"));
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = run(&[
        "audit".as_ref(),
        "--catalog".as_ref(),
        catalog().as_os_str(),
        "--out".as_ref(),
        file.as_os_str(),
        fixtures.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
}

/// Shard outputs of `check --shard I/N --format jsonl` over `inputs` for I = 1..=n, written
/// into `dir` as `shard-I.jsonl`.
fn shard_files(inputs: &[&OsStr], n: usize, dir: &Path) -> Vec<PathBuf> {
    (1..=n)
        .map(|i| {
            let spec = format!("{i}/{n}");
            let mut args: Vec<&OsStr> = vec!["--shard".as_ref(), spec.as_ref()];
            args.extend_from_slice(inputs);
            let out = check_jsonl(&args);
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "shard {spec}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let p = dir.join(format!("shard-{i}.jsonl"));
            std::fs::write(&p, &out.stdout).unwrap();
            p
        })
        .collect()
}

fn check_jsonl(inputs: &[&OsStr]) -> Output {
    let cat = catalog();
    let mut args: Vec<&OsStr> = vec![
        "check".as_ref(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--catalog".as_ref(),
        cat.as_os_str(),
    ];
    args.extend_from_slice(inputs);
    run(&args)
}

/// Records without their timings (they differ between runs).
fn untimed(stdout: &[u8]) -> Vec<serde_json::Value> {
    common::records(stdout)
        .into_iter()
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("timing_ms");
            r
        })
        .collect()
}

#[test]
fn merged_shards_equal_the_single_run() {
    let ws = workspace();
    let sh = shared();
    let inputs: Vec<PathBuf> = vec![
        ws.join("fixtures"),
        sh.join("pades"),
        sh.join("corpus/examples"),
        sh.join("corpus/gateway-tests"),
    ];
    let inputs: Vec<&OsStr> = inputs.iter().map(|p| p.as_os_str()).collect();
    let single = check_jsonl(&inputs);
    assert_eq!(single.status.code(), Some(1), "{}", stderr(&single));
    let single_records = untimed(&single.stdout);
    assert!(single_records.len() > 80);
    let tmp = tempfile::tempdir().unwrap();
    let cat = catalog();

    // The audit of the single run, to compare with the merge's.
    let single_audit = tmp.path().join("single-audit");
    let mut args: Vec<&OsStr> = vec![
        "audit".as_ref(),
        "-q".as_ref(),
        "--catalog".as_ref(),
        cat.as_os_str(),
        "--out".as_ref(),
        single_audit.as_os_str(),
    ];
    args.extend_from_slice(&inputs);
    assert_eq!(run(&args).status.code(), Some(1));

    for n in [1, 3, 7] {
        let dir = tmp.path().join(format!("n{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let shards = shard_files(&inputs, n, &dir);
        // Reversed order on the command line: the merge must not depend on it.
        let mut args: Vec<&OsStr> = vec!["merge".as_ref()];
        args.extend(shards.iter().rev().map(|p| p.as_os_str()));
        let merged = run(&args);
        assert_eq!(merged.status.code(), Some(1), "{}", stderr(&merged));
        let merged_records = untimed(&merged.stdout);
        assert_eq!(merged_records.len(), single_records.len(), "{n} shards");
        for (a, b) in merged_records.iter().zip(&single_records) {
            assert_eq!(a, b, "{n} shards");
        }

        // Summary and exit code as `check` gives them, and the same audit.
        let audit = dir.join("audit");
        let json = dir.join("merged.json");
        let mut args: Vec<&OsStr> = vec![
            "merge".as_ref(),
            "-q".as_ref(),
            "--format".as_ref(),
            "human".as_ref(),
            "--output".as_ref(),
        ];
        let spec = format!("json={}", json.display());
        args.push(spec.as_ref());
        args.extend(["--audit".as_ref(), audit.as_os_str()]);
        args.extend(shards.iter().map(|p| p.as_os_str()));
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let summary = read_json(&json)["summary"].clone();
        assert_eq!(summary["documents"], single_records.len());
        for f in ["audit.csv", "audit.json", "audit.html"] {
            assert_eq!(
                std::fs::read_to_string(audit.join(f)).unwrap(),
                std::fs::read_to_string(single_audit.join(f)).unwrap(),
                "{f}, {n} shards"
            );
        }
        if n == 3 {
            // --fail-on never: exit 0 with the same records.
            let mut args: Vec<&OsStr> =
                vec!["merge".as_ref(), "--fail-on".as_ref(), "never".as_ref()];
            args.extend(shards.iter().map(|p| p.as_os_str()));
            assert_eq!(run(&args).status.code(), Some(0));
        }
    }
    // Compare with the single run's summary from `check --format json`.
    let mut args: Vec<&OsStr> = vec![
        "check".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--catalog".as_ref(),
        cat.as_os_str(),
    ];
    args.extend_from_slice(&inputs);
    let mut check_summary: serde_json::Value = serde_json::from_slice(&run(&args).stdout).unwrap();
    let mut merged_summary = read_json(&tmp.path().join("n3/merged.json"));
    for s in [&mut check_summary, &mut merged_summary] {
        s["summary"].as_object_mut().unwrap().remove("elapsed_ms");
    }
    assert_eq!(merged_summary["summary"], check_summary["summary"]);
}

#[test]
fn merge_errors_name_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = workspace().join("fixtures/cda");
    let shards = shard_files(&[fixtures.as_os_str()], 2, tmp.path());
    // The same shard twice: overlapping inputs.
    let o = run(&[
        "merge".as_ref(),
        shards[0].as_os_str(),
        shards[0].as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("duplicate path"), "{}", stderr(&o));
    // A truncated last line.
    let text = std::fs::read_to_string(&shards[1]).unwrap();
    let lines = text.lines().count();
    let bad = tmp.path().join("bad.jsonl");
    let mut cut = text.len() - 20;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    std::fs::write(&bad, &text[..cut]).unwrap();
    let o = run(&["merge".as_ref(), shards[0].as_os_str(), bad.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    let want = format!("{}:{lines}: not a report record", bad.display());
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    // Formats that redact need the documents' text.
    let o = run(&[
        "merge".as_ref(),
        "--format".as_ref(),
        "sarif".as_ref(),
        shards[0].as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--no-redact"));
    let o = run(&[
        "merge".as_ref(),
        "--no-redact".as_ref(),
        "--format".as_ref(),
        "sarif".as_ref(),
        shards[0].as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A cached audit reads cut-down records (findings as id, severity and stage) from the cache:
/// its files equal the uncached audit's, PDF and signature columns included.
#[test]
fn cached_audits_equal_the_uncached_one() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = copy_set(tmp.path());
    let cache = tmp.path().join("cache");
    let catalog = catalog();
    let audit = |out: &str, cached: bool| {
        let out = tmp.path().join(out);
        let mut args: Vec<&OsStr> = vec![
            "audit".as_ref(),
            "--catalog".as_ref(),
            catalog.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        if cached {
            args.extend(["--cache".as_ref(), cache.as_os_str()]);
        }
        args.push(docs.as_os_str());
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        (out, o.stdout)
    };
    let (plain, plain_table) = audit("plain", false);
    let (_, first_table) = audit("first", true);
    let (again, again_table) = audit("again", true);
    for name in ["audit.csv", "audit.json", "audit.html"] {
        assert_eq!(
            std::fs::read(plain.join(name)).unwrap(),
            std::fs::read(again.join(name)).unwrap(),
            "{name}"
        );
    }
    let table = |t: &[u8]| {
        String::from_utf8_lossy(t)
            .lines()
            .filter(|l| !l.contains("written:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(table(&again_table), table(&plain_table));
    assert_eq!(table(&first_table), table(&plain_table));
}
