//! End-to-end tests of `fsecheck check` and `fsecheck catalog info`.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

fn os<S: AsRef<OsStr> + ?Sized>(s: &S) -> &OsStr {
    s.as_ref()
}

/// Every non-hidden file under `dir`, as the CLI would print it.
fn files_under(dir: &Path, hidden: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !hidden && name.starts_with('.') {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[test]
fn corpus_gives_one_valid_record_per_file_and_exit_1() {
    let corpus = shared().join("corpus");
    let out = run(&[
        os("check"),
        os("--catalog"),
        catalog().as_os_str(),
        os("--format"),
        os("jsonl"),
        corpus.as_os_str(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out.stdout);
    let schema = RecordSchema::load();
    let mut paths = Vec::new();
    for r in &recs {
        schema.check(r);
        paths.push(r["path"].as_str().unwrap().to_string());
    }
    let expected = files_under(&corpus, false);
    let got: BTreeSet<String> = paths.iter().cloned().collect();
    assert_eq!(got.len(), paths.len(), "a path was reported twice");
    assert_eq!(got, expected);
    // Output order is the sorted path order.
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    // Kinds by content: the 8 official PDFs, the 16 request files.
    let count = |k: &str| recs.iter().filter(|r| r["kind"] == k).count();
    assert_eq!(count("pdf"), 8);
    assert_eq!(count("http"), 16);
    // The official examples select their schematron by templateId.
    let ldo = recs
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("examples/LDO.xml"))
        .unwrap();
    assert_eq!(ldo["doc_type"], "LDO");
    assert_eq!(ldo["schematron"], "schematronFSE_LDO_v5.5.sch");
    assert_eq!(ldo["schema_set"], "POCD_MT000040UV02");

    // --hidden takes dot-files too.
    let out = run(&[
        os("check"),
        os("--catalog"),
        catalog().as_os_str(),
        os("--format"),
        os("jsonl"),
        os("--hidden"),
        corpus.as_os_str(),
    ]);
    let got: BTreeSet<String> = records(&out.stdout)
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, files_under(&corpus, true));
}

#[test]
fn every_format_reports_every_input_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let examples = shared().join("corpus/examples");
    let jsonl = dir.path().join("r.jsonl");
    let json = dir.path().join("r.json");
    let human = dir.path().join("r.txt");
    let missing = dir.path().join("missing.xml");
    let out = run(&[
        os("check"),
        os("--catalog"),
        catalog().as_os_str(),
        os("--output"),
        os(&format!("jsonl={}", jsonl.display())),
        os("--output"),
        os(&format!("json={}", json.display())),
        os("--output"),
        os(&format!("human={}", human.display())),
        os("--jobs"),
        os("2"),
        examples.as_os_str(),
        missing.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1), "missing file is an error");
    let mut expected = files_under(&examples, false);
    expected.insert(missing.to_string_lossy().into_owned());
    let from_jsonl: Vec<String> = records(&std::fs::read(&jsonl).unwrap())
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(from_jsonl.len(), expected.len());
    assert_eq!(
        from_jsonl.iter().cloned().collect::<BTreeSet<_>>(),
        expected
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let from_json: Vec<String> = doc["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(from_json, from_jsonl);
    assert_eq!(doc["summary"]["documents"], expected.len());
    let text = std::fs::read_to_string(&human).unwrap();
    for p in &expected {
        assert_eq!(
            text.matches(&format!(" {p}  ")).count(),
            1,
            "{p} in human output:\n{text}"
        );
    }
    // stdout (human) carries the summary line.
    assert!(String::from_utf8_lossy(&out.stdout).contains("10 documents:"));
}

fn utf16le(s: &str, bom: bool) -> Vec<u8> {
    let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

#[test]
fn malformed_inputs_get_one_clear_finding_each_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cda = "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><typeId extension=\"POCD_MT000040UV02\"/></ClinicalDocument>";
    let mut random = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..4096 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        random.push((x >> 16) as u8);
    }
    let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n]>\n<lolz>&lol3;</lolz>";
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.xml", vec![], "input/empty"),
        ("random.bin", random, "input/unsupported-format"),
        (
            "truncated.xml",
            cda.as_bytes()[..60].to_vec(),
            "xml/not-well-formed",
        ),
        (
            "utf16-bom.xml",
            utf16le(cda, true),
            "cda/missing-template-id",
        ),
        (
            "utf16-nobom.xml",
            utf16le(cda, false),
            "xml/utf16-without-bom",
        ),
        ("laughs.xml", laughs.as_bytes().to_vec(), "xml/doctype"),
        ("deep.xml", deep.into_bytes(), "xml/too-deep"),
        (
            "big.xml",
            format!("<a>{}</a>", "x".repeat(1_100_000)).into_bytes(),
            "input/too-large",
        ),
        (
            "latin1.xml",
            b"<a>caff\xE8</a>".to_vec(),
            "xml/invalid-utf8",
        ),
        (
            "bom-vs-decl.xml",
            b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>".to_vec(),
            "xml/encoding-mismatch",
        ),
    ];
    for (name, bytes, _) in &cases {
        std::fs::write(d.join(name), bytes).unwrap();
    }
    let out = run(&[
        os("check"),
        os("--catalog"),
        catalog().as_os_str(),
        os("--format"),
        os("jsonl"),
        os("--max-size"),
        os("1000000"),
        d.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), cases.len());
    let schema = RecordSchema::load();
    for (name, _, id) in &cases {
        let r = recs
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no record for {name}"));
        schema.check(r);
        let ids: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(id), "{name}: expected {id}, got {ids:?}");
        assert!(!ids.contains(&"internal/panic"), "{name}");
    }
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn usage_and_catalog_errors_exit_2_with_advice() {
    let out = run(&[os("check"), os("--no-such-flag"), os(".")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));

    let dir = tempfile::tempdir().unwrap();
    let out = fsecheck()
        .current_dir(dir.path())
        .args(["check", "x.xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("it-fse-catalogs"), "{err}");
    assert!(err.contains("--catalog"), "{err}");

    let out = run(&[
        os("check"),
        os("--catalog"),
        os("/nonexistent/catalog"),
        os("x"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/catalog"));

    let out = run(&[
        os("check"),
        os("--catalog"),
        dir.path().as_os_str(),
        os("x"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an empty folder is not a catalog"
    );

    let out = run(&[
        os("check"),
        os("--catalog"),
        catalog().as_os_str(),
        os("--format"),
        os("yaml"),
        os("x"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown format"));
}

#[test]
fn catalog_from_env_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let doc = shared().join("corpus/examples/LDO.xml");
    let out = fsecheck()
        .env("FSECHECK_CATALOG", catalog())
        .args([os("check"), os("--format"), os("jsonl"), doc.as_os_str()])
        .output()
        .unwrap();
    assert_eq!(records(&out.stdout).len(), 1);
    std::fs::write(
        dir.path().join("fsecheck.toml"),
        format!(
            "catalog = {:?}\nfail-on = \"never\"\n",
            catalog().to_string_lossy()
        ),
    )
    .unwrap();
    let sub = dir.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("bad.xml"), "<x").unwrap();
    let out = fsecheck()
        .current_dir(&sub)
        .args(["check", "--format", "jsonl", "bad.xml"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "fail-on never from the config found upward"
    );
    assert_eq!(records(&out.stdout).len(), 1);
    std::fs::write(dir.path().join("fsecheck.toml"), "catalgo = 1\n").unwrap();
    let out = fsecheck()
        .current_dir(&sub)
        .args(["check", "bad.xml"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a misspelt key is a config error"
    );
}

#[test]
fn fail_on_controls_the_exit_code() {
    // The official LDO example has warnings only (LOINC cannot be checked offline).
    let ldo = shared().join("corpus/examples/LDO.xml");
    let cat = catalog();
    let args = [
        os("check"),
        os("--catalog"),
        cat.as_os_str(),
        os("--format"),
        os("jsonl"),
        ldo.as_os_str(),
    ];
    let out = run(&args);
    let r = &records(&out.stdout)[0];
    assert_eq!(r["verdict"], "warn", "{r}");
    assert_eq!(out.status.code(), Some(0));
    let mut w = args.to_vec();
    w.extend([os("--fail-on"), os("warning")]);
    assert_eq!(run(&w).status.code(), Some(1));
    let mut n = args.to_vec();
    n.extend([os("--fail-on"), os("never")]);
    assert_eq!(run(&n).status.code(), Some(0));
}

#[test]
fn catalog_info_flags_inconsistent_versions() {
    let out = run(&[
        os("catalog"),
        os("info"),
        os("--catalog"),
        catalog().as_os_str(),
        os("--json"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let types = v["document_types"].as_array().unwrap();
    assert_eq!(types.len(), 22);
    let ldo = types.iter().find(|t| t["doc_type"] == "LDO").unwrap();
    assert_eq!(ldo["schematron"], "schematronFSE_LDO_v5.5.sch");
    assert_eq!(ldo["inside_version"], "5.3");
    assert_eq!(ldo["consistent"], false);
    let vps = types.iter().find(|t| t["doc_type"] == "VPS").unwrap();
    assert_eq!(vps["consistent"], true);
}

#[test]
fn sidecars_and_request_files_are_checked_with_their_document() {
    let dir = tempfile::tempdir().unwrap();
    let ldo = shared().join("corpus/examples/LDO.xml");
    std::fs::copy(&ldo, dir.path().join("DOC.xml")).unwrap();
    // A publication body with a bad enum and without a mandatory field.
    std::fs::write(
        dir.path().join("DOC.json"),
        r#"{"tipoDocumentoLivAlto":"XYZ","identificativoDoc":"2.16.840.1.113883.2.9.2.120.4.4^ABC"}"#,
    )
    .unwrap();
    let out = run(&[
        os("check"),
        os("--catalog"),
        catalog().as_os_str(),
        os("--format"),
        os("jsonl"),
        dir.path().as_os_str(),
    ]);
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 2, "document and sidecar each reported once");
    let sidecar = recs
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("DOC.json"))
        .unwrap();
    assert_eq!(sidecar["findings"][0]["id"], "input/sidecar");
    assert!(sidecar["gateway"].is_null());
    let doc = recs
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("DOC.xml"))
        .unwrap();
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().any(|i| i.starts_with("meta/")), "{ids:?}");
    // No JWT was given: the gateway answers 403 /msg/missing-token before anything else.
    assert_eq!(doc["gateway"]["status"], 403, "{}", doc["gateway"]);

    // The official request files pass the body rules; their JWT decodes.
    let t1 = shared().join("corpus/gateway-tests/t1-validate");
    let out = run(&[
        os("check"),
        os("--catalog"),
        catalog().as_os_str(),
        os("--format"),
        os("jsonl"),
        t1.as_os_str(),
    ]);
    for r in records(&out.stdout) {
        assert_eq!(r["kind"], "http");
        for f in r["findings"].as_array().unwrap() {
            assert_ne!(f["severity"], "error", "{}: {f}", r["path"]);
        }
    }
}

/// A catalog whose `POCD_MT000040UV02` schema set has a broken file (everything else linked to
/// the shared catalog).
fn catalog_with_broken_schema_set(dir: &Path) -> PathBuf {
    use std::os::unix::fs::symlink;
    let src = catalog();
    let root = dir.join("catalog");
    std::fs::create_dir_all(root.join("schema")).unwrap();
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        if e.file_name() != "schema" {
            symlink(e.path(), root.join(e.file_name())).unwrap();
        }
    }
    for set in std::fs::read_dir(src.join("schema")).unwrap().flatten() {
        let to = root.join("schema").join(set.file_name());
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(set.path()).unwrap().flatten() {
            if set.file_name() == "POCD_MT000040UV02" && f.file_name() == "voc.xsd" {
                std::fs::write(to.join("voc.xsd"), "<xs:schema xmlns:xs=").unwrap();
            } else {
                symlink(f.path(), to.join(f.file_name())).unwrap();
            }
        }
    }
    root
}

#[test]
fn a_broken_schema_set_is_a_finding_and_exit_2_and_only_the_set_used_is_compiled() {
    let dir = tempfile::tempdir().unwrap();
    let cat = catalog_with_broken_schema_set(dir.path());
    let ldo = workspace().join("fixtures/cda/LDO.xml");
    let out = fsecheck()
        .args(["check", "--format", "jsonl", "--catalog"])
        .arg(&cat)
        .arg(&ldo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CDA schema set does not compile"), "{err}");
    assert!(err.contains("voc.xsd"), "{err}");
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 1);
    let ids: Vec<&str> = recs[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"internal/schema-set-invalid"), "{ids:?}");

    // A document of the other set never compiles the broken one: the run is clean.
    let other = catalog()
        .join("schema")
        .read_dir()
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n != "POCD_MT000040UV02")
        .expect("a second schema set");
    let text = std::fs::read_to_string(&ldo).unwrap().replace(
        "extension=\"POCD_MT000040UV02\"",
        &format!("extension=\"{other}\""),
    );
    let doc = dir.path().join("other-set.xml");
    std::fs::write(&doc, text).unwrap();
    let out = fsecheck()
        .args([
            "check",
            "--format",
            "jsonl",
            "--fail-on",
            "never",
            "--catalog",
        ])
        .arg(&cat)
        .arg(&doc)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out.stdout);
    assert_eq!(recs[0]["schema_set"], other.as_str());
}

#[test]
fn a_reader_that_goes_away_is_not_a_crash() {
    use std::process::Stdio;
    for args in [vec!["catalog", "info"], vec!["explain", "sch/ERRORE-1"]] {
        let mut child = fsecheck()
            .args(&args)
            .arg("--catalog")
            .arg(catalog())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before the command writes (as `| head -0` would).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}
