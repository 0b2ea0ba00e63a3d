//! End-to-end tests of the CI formats (sarif, junit, gitlab, csv, html), baselines, redaction,
//! `explain`, and the config keys that go with them.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;

const FORMATS: [&str; 6] = ["jsonl", "sarif", "junit", "gitlab", "csv", "html"];

fn examples() -> PathBuf {
    shared().join("corpus/examples")
}

/// Run `fsecheck check --catalog … ARGS`.
fn check(args: &[OsString], cwd: Option<&Path>) -> Output {
    let mut c = fsecheck();
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    c.arg("check")
        .arg("--catalog")
        .arg(catalog())
        .args(args)
        .output()
        .expect("run fsecheck")
}

fn o(s: impl AsRef<std::ffi::OsStr>) -> OsString {
    s.as_ref().to_os_string()
}

/// A broken XML document (not well-formed at line 3) in `dir`.
fn broken(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n  <title>x</title>\n  <code code=\"1\"<\n</ClinicalDocument>\n",
    )
    .unwrap();
    p
}

/// Every format written for the examples plus a broken XML, in one run.
struct Run {
    _dir: tempfile::TempDir,
    files: BTreeMap<&'static str, PathBuf>,
    records: Vec<Value>,
    status: Option<i32>,
}

/// More problem inputs: a warning only (UTF-16 without BOM), a CDA without templateId, an empty
/// file.
fn more_inputs(dir: &Path) -> Vec<PathBuf> {
    let mut utf16 = Vec::new();
    for u in "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><typeId extension=\"POCD_MT000040UV02\"/><templateId root=\"2.16.840.1.113883.2.9.10.1.5\"/></ClinicalDocument>".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let files: [(&str, Vec<u8>); 3] = [
        ("utf16.xml", utf16),
        (
            "no-template.xml",
            b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n<typeId extension=\"POCD_MT000040UV02\"/>\n</ClinicalDocument>\n".to_vec(),
        ),
        ("empty.xml", Vec::new()),
    ];
    files
        .into_iter()
        .map(|(n, b)| {
            let p = dir.join(n);
            std::fs::write(&p, b).unwrap();
            p
        })
        .collect()
}

fn run_all_formats(extra: &[OsString]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let bad = broken(dir.path(), "broken.xml");
    let more = more_inputs(dir.path());
    let mut args = Vec::new();
    let mut files = BTreeMap::new();
    for f in FORMATS {
        let p = dir.path().join(format!("out.{f}"));
        args.push(o("--output"));
        args.push(o(format!("{f}={}", p.display())));
        files.insert(f, p);
    }
    args.extend(extra.iter().cloned());
    args.push(o(examples()));
    args.push(o(&bad));
    args.extend(more.iter().map(o));
    args.push(o(shared().join("corpus/gateway-tests/files/pdf/LDO.pdf")));
    let out = check(&args, None);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = records(&std::fs::read(&files["jsonl"]).unwrap());
    Run {
        _dir: dir,
        files,
        records,
        status: out.status.code(),
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// (path suffix after the examples folder or the temp folder, rule id) of every finding in
/// `records`, with `min` severity or more.
fn finding_keys(records: &[Value], min: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in records {
        let name = Path::new(r["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let e = m.entry(name).or_default();
        for f in r["findings"].as_array().unwrap() {
            if min.contains(&f["severity"].as_str().unwrap()) {
                e.push(f["id"].as_str().unwrap().to_string());
            }
        }
        e.sort();
    }
    m
}

#[test]
fn every_ci_format_reports_what_jsonl_reports() {
    let run = run_all_formats(&[]);
    assert_eq!(run.status, Some(1), "the broken XML is an error");
    let recs = &run.records;
    assert_eq!(recs.len(), 14);
    let all = finding_keys(recs, &["error", "warning", "info"]);
    let blocking = finding_keys(recs, &["error", "warning"]);
    assert!(all["broken.xml"].contains(&"xml/not-well-formed".to_string()));
    assert!(all["utf16.xml"].contains(&"xml/utf16-without-bom".to_string()));
    assert!(all["no-template.xml"].contains(&"cda/missing-template-id".to_string()));
    assert!(!all["empty.xml"].is_empty());
    assert!(!all["LDO.pdf"].is_empty());
    let file_of = |p: &str| {
        Path::new(p)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };

    // SARIF: deserializes into serde-sarif types; every result has a rule and a region.
    let text = read(&run.files["sarif"]);
    let log: serde_sarif::sarif::Sarif = serde_json::from_str(&text).expect("valid SARIF");
    let raw: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(raw["version"], "2.1.0");
    assert_eq!(log.runs.len(), 1);
    let sarif_run = &log.runs[0];
    let rules = sarif_run.tool.driver.rules.as_ref().expect("rules");
    let results = sarif_run.results.as_ref().expect("results");
    let mut from_sarif: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in results {
        let id = r.rule_id.as_ref().expect("ruleId");
        let rule = &rules[r.rule_index.expect("ruleIndex") as usize];
        assert_eq!(&rule.id, id);
        assert!(rule
            .help_uri
            .as_deref()
            .is_some_and(|u| u.contains("RULES.md#")));
        assert!(rule.help.as_ref().is_some_and(|h| !h.text.is_empty()));
        let loc = r.locations.as_ref().unwrap()[0]
            .physical_location
            .as_ref()
            .expect("physical location");
        let region = loc.region.as_ref().expect("region");
        assert!(region.start_line.unwrap() >= 1);
        let uri = loc.artifact_location.as_ref().unwrap().uri.clone().unwrap();
        assert!(!uri.starts_with('/'), "relative uri: {uri}");
        from_sarif
            .entry(file_of(&uri))
            .or_default()
            .push(id.clone());
    }
    for v in from_sarif.values_mut() {
        v.sort();
    }
    let nonempty = |m: &BTreeMap<String, Vec<String>>| {
        m.iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(from_sarif, nonempty(&all));
    // The broken XML's result points at its line 3, with a snippet of it.
    let bad = results
        .iter()
        .find(|r| r.rule_id.as_deref() == Some("xml/not-well-formed"))
        .unwrap();
    let region = bad.locations.as_ref().unwrap()[0]
        .physical_location
        .as_ref()
        .unwrap()
        .region
        .as_ref()
        .unwrap();
    assert_eq!(region.start_line, Some(3));
    assert!(region.start_column.is_some());
    let snip = region.snippet.as_ref().unwrap().text.as_deref().unwrap();
    assert!(snip.contains("<code code=\"1\"<"), "{snip}");

    // JUnit: a real XML parser, one testcase per document, a failure per failing document.
    let text = read(&run.files["junit"]);
    let doc = roxmltree::Document::parse(&text).expect("well-formed JUnit XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), recs.len());
    let names: BTreeSet<&str> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    let paths: BTreeSet<&str> = recs.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(names, paths);
    for c in &cases {
        let rec = recs
            .iter()
            .find(|r| r["path"] == c.attribute("name").unwrap())
            .unwrap();
        let failure = c.children().find(|n| n.has_tag_name("failure"));
        assert_eq!(
            failure.is_some(),
            rec["verdict"] == "fail",
            "{}",
            rec["path"]
        );
        if let Some(f) = failure {
            for finding in rec["findings"].as_array().unwrap() {
                assert!(f.text().unwrap().contains(finding["id"].as_str().unwrap()));
            }
        }
    }
    let suites: u64 = doc
        .root_element()
        .attribute("tests")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(suites as usize, recs.len());

    // GitLab: a JSON array, one issue per warning or error, unique fingerprints.
    let issues: Vec<Value> = serde_json::from_str(&read(&run.files["gitlab"])).unwrap();
    let mut from_gitlab: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut fps = BTreeSet::new();
    for i in &issues {
        let fp = i["fingerprint"].as_str().unwrap();
        assert_eq!(fp.len(), 64);
        assert!(fps.insert(fp.to_string()), "duplicate fingerprint");
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&i["severity"].as_str().unwrap()));
        assert!(i["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        let path = i["location"]["path"].as_str().unwrap();
        assert!(!path.starts_with('/'), "{path}");
        from_gitlab
            .entry(file_of(path))
            .or_default()
            .push(i["check_name"].as_str().unwrap().to_string());
    }
    for v in from_gitlab.values_mut() {
        v.sort();
    }
    assert_eq!(from_gitlab, nonempty(&blocking));

    // CSV: one row per finding.
    let mut rd = csv::Reader::from_path(&run.files["csv"]).unwrap();
    assert_eq!(&rd.headers().unwrap()[5], "rule");
    let mut from_csv: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rd.records() {
        let row = row.unwrap();
        from_csv
            .entry(file_of(&row[0]))
            .or_default()
            .push(row[5].to_string());
    }
    for v in from_csv.values_mut() {
        v.sort();
    }
    assert_eq!(from_csv, nonempty(&all));

    // HTML: every document is there (the browser test checks the rendering).
    let page = read(&run.files["html"]);
    for p in &paths {
        assert!(page.contains(&format!("data-path=\"{p}\"")), "{p}");
    }
}

#[test]
fn formats_are_deterministic_between_runs() {
    let a = run_all_formats(&[o("--jobs"), o("2")]);
    let b = run_all_formats(&[o("--jobs"), o("1")]);
    for f in ["sarif", "junit", "gitlab", "csv", "html"] {
        // The temp folders differ; only the broken file's path mentions them.
        let norm = |r: &Run| {
            read(&r.files[f]).replace(&r._dir.path().to_string_lossy().into_owned(), "TMP")
        };
        assert_eq!(norm(&a), norm(&b), "{f} differs between runs");
    }
}

/// A project folder (with `.git`) holding copies of two examples and two problem files.
fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("proj");
    std::fs::create_dir_all(proj.join(".git")).unwrap();
    std::fs::create_dir_all(proj.join("docs")).unwrap();
    for n in ["LDO.xml", "VPS.xml"] {
        std::fs::copy(examples().join(n), proj.join("docs").join(n)).unwrap();
    }
    broken(&proj.join("docs"), "broken.xml");
    broken(&proj.join("docs"), "broken2.xml");
    (dir, proj)
}

fn gitlab_issues(out: &Path) -> Vec<(String, String, String)> {
    let v: Vec<Value> = serde_json::from_str(&read(out)).unwrap();
    v.iter()
        .map(|i| {
            (
                i["location"]["path"].as_str().unwrap().to_string(),
                i["check_name"].as_str().unwrap().to_string(),
                i["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn gitlab_fingerprints_are_stable_across_runs_cwd_and_absolute_paths() {
    let (dir, proj) = project();
    let out1 = dir.path().join("a.json");
    let out2 = dir.path().join("b.json");
    let out3 = dir.path().join("c.json");
    // Relative path from inside the project.
    check(
        &[
            o("--format"),
            o("gitlab"),
            o("--output"),
            o(format!("gitlab={}", out1.display())),
            o("docs"),
        ],
        Some(&proj),
    );
    // Absolute path from elsewhere.
    check(
        &[
            o("--output"),
            o(format!("gitlab={}", out2.display())),
            o(proj.join("docs")),
        ],
        Some(Path::new("/")),
    );
    // Again, by a path with `..` in it, from the project's parent.
    check(
        &[
            o("--output"),
            o(format!("gitlab={}", out3.display())),
            o("proj/docs/../docs"),
        ],
        Some(dir.path()),
    );
    let a = gitlab_issues(&out1);
    assert!(a.len() >= 2, "{a:?}");
    assert!(a.iter().any(|(p, _, _)| p == "docs/broken.xml"), "{a:?}");
    assert_eq!(a, gitlab_issues(&out2));
    assert_eq!(a, gitlab_issues(&out3));
    // No absolute path and no machine detail in the output.
    let text = read(&out2);
    assert!(!text.contains(&dir.path().to_string_lossy().into_owned()));
    // The same project elsewhere (another machine) gives the same fingerprints.
    let (dir2, proj2) = project();
    let out4 = dir2.path().join("d.json");
    check(
        &[
            o("--output"),
            o(format!("gitlab={}", out4.display())),
            o(proj2.join("docs")),
        ],
        None,
    );
    assert_eq!(a, gitlab_issues(&out4));
}

#[test]
fn baseline_round_trip_hides_exactly_the_recorded_findings() {
    let (dir, proj) = project();
    let docs = proj.join("docs");
    let baseline = dir.path().join("baseline.json");
    std::fs::remove_file(docs.join("broken2.xml")).unwrap();
    let out = check(
        &[
            o("--format"),
            o("jsonl"),
            o("--write-baseline"),
            o(&baseline),
            o(&docs),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let before = records(&out.stdout);
    let recorded: usize = before
        .iter()
        .map(|r| {
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["severity"] != "info")
                .count()
        })
        .sum();
    let bl: Value = serde_json::from_str(&read(&baseline)).unwrap();
    assert_eq!(bl["entries"].as_array().unwrap().len(), recorded);
    assert!(recorded >= 1);
    // Same inputs with the baseline: nothing left above info, exit 0.
    let out = check(
        &[
            o("--format"),
            o("jsonl"),
            o("--baseline"),
            o(&baseline),
            o(&docs),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for r in records(&out.stdout) {
        assert_ne!(r["verdict"], "fail", "{r}");
        assert!(r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "info"));
    }
    // A new problem file is reported; the recorded one stays hidden.
    broken(&docs, "broken2.xml");
    let out = check(
        &[
            o("--format"),
            o("jsonl"),
            o("--baseline"),
            o(&baseline),
            o(&docs),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let after = records(&out.stdout);
    let failing: Vec<&str> = after
        .iter()
        .filter(|r| r["verdict"] == "fail")
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(failing.len(), 1);
    assert!(failing[0].ends_with("broken2.xml"));
    // Bad baseline files are usage errors.
    std::fs::write(&baseline, "not json").unwrap();
    let out = check(&[o("--baseline"), o(&baseline), o(&docs)], None);
    assert_eq!(out.status.code(), Some(2));
}

/// Every fiscal-code-shaped token in the examples.
fn example_fiscal_codes() -> BTreeMap<String, PathBuf> {
    let re = regex::Regex::new(
        r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]",
    )
    .unwrap();
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(examples()).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        for m in re.find_iter(&text) {
            out.entry(m.as_str().to_string()).or_insert(e.path());
        }
    }
    out
}

#[test]
fn sarif_leaks_no_fiscal_code_of_the_examples() {
    let cfs = example_fiscal_codes();
    assert!(cfs.len() >= 5, "{cfs:?}");
    // Each example, plus for each fiscal code a copy broken right after it, so that a finding's
    // snippet shows the code.
    let dir = tempfile::tempdir().unwrap();
    for (i, (cf, file)) in cfs.iter().enumerate() {
        let text = std::fs::read_to_string(file).unwrap();
        let at = text.find(cf.as_str()).unwrap() + cf.len();
        let broken = format!("{}< {}", &text[..at], &text[at..]);
        std::fs::write(dir.path().join(format!("cf{i}.xml")), broken).unwrap();
    }
    let sarif = dir.path().join("out.sarif");
    let raw = dir.path().join("raw.sarif");
    let run = |out: &Path, extra: &[OsString]| {
        let mut args = vec![
            o("--format"),
            o("jsonl"),
            o("--output"),
            o(format!("sarif={}", out.display())),
        ];
        args.extend(extra.iter().cloned());
        args.push(o(examples()));
        args.push(o(dir.path()));
        check(&args, None)
    };
    let out = run(&sarif, &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = read(&sarif);
    for cf in cfs.keys() {
        assert!(!text.contains(cf.as_str()), "{cf} in the SARIF output");
    }
    assert!(text.contains("[redacted]"));
    // The same run without redaction does show them: the check above can fail.
    run(&raw, &[o("--no-redact")]);
    let text = read(&raw);
    let shown = cfs.keys().filter(|cf| text.contains(cf.as_str())).count();
    assert_eq!(
        shown,
        cfs.len(),
        "every code is in some snippet without redaction"
    );
    // JSONL is never altered by default; --redact redacts it too.
    let jsonl = String::from_utf8(out.stdout).unwrap();
    assert!(!jsonl.contains("[redacted]"));
    let out = run(&raw, &[o("--redact")]);
    let jsonl = String::from_utf8(out.stdout).unwrap();
    for cf in cfs.keys() {
        assert!(!jsonl.contains(cf.as_str()), "{cf} in redacted JSONL");
    }
}

#[test]
fn fail_on_warning_turns_a_warning_only_run_into_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    // The official LDO example has warnings only (LOINC codes cannot be checked offline).
    let w = dir.path().join("w.xml");
    std::fs::copy(examples().join("LDO.xml"), &w).unwrap();
    let junit = dir.path().join("j.xml");
    let args = |fail_on: &str| {
        vec![
            o("--format"),
            o("sarif"),
            o("--output"),
            o(format!("junit={}", junit.display())),
            o("--fail-on"),
            o(fail_on),
            o(&w),
        ]
    };
    assert_eq!(check(&args("error"), None).status.code(), Some(0));
    assert!(!read(&junit).contains("<failure"));
    assert_eq!(check(&args("warning"), None).status.code(), Some(1));
    assert!(
        read(&junit).contains("<failure"),
        "warnings fail the testcase too"
    );
}

#[test]
fn explain_knows_every_builtin_rule_and_schematron_asserts() {
    for r in fsecheck_report::rules::all() {
        let out = fsecheck().args(["explain", r.id]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", r.id);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(r.summary), "{}: {text}", r.id);
    }
    let out = fsecheck()
        .arg("explain")
        .arg("sch/ERRORE-5")
        .args(["--doc-type", "LDO", "--json", "--catalog"])
        .arg(catalog())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = v.as_array().unwrap();
    assert_eq!(rules.len(), 1, "{v}");
    let r = &rules[0];
    assert_eq!(r["doc_type"], "LDO");
    assert_eq!(r["kind"], "assert");
    assert_eq!(r["context"], "hl7:ClinicalDocument");
    assert_eq!(r["file"], "schematronFSE_LDO_v5.5.sch");
    assert_eq!(r["inside_version"], "5.3");
    assert!(r["test"].as_str().unwrap().contains("34105-7"));
    assert!(r["message"]
        .as_str()
        .unwrap()
        .starts_with("ERRORE-5| L'elemento <name/>/code"));
    // Human output carries the same facts.
    let out = fsecheck()
        .args(["explain", "sch/ERRORE-5", "--doc-type", "LDO", "--catalog"])
        .arg(catalog())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for s in [
        "context:",
        "test:",
        "message:",
        "schematronFSE_LDO_v5.5.sch",
        "5.3",
    ] {
        assert!(text.contains(s), "{s}: {text}");
    }
    // Without --doc-type: every catalog schematron that has the id.
    let out = fsecheck()
        .args(["explain", "sch/ERRORE-1", "--json", "--catalog"])
        .arg(catalog())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.as_array().unwrap().len() > 3, "{v}");
    // Unknown ids and types are usage errors.
    let out = fsecheck()
        .args(["explain", "xml/no-such-rule"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("xml/not-well-formed"));
    let out = fsecheck()
        .args([
            "explain",
            "sch/ERRORE-9999",
            "--doc-type",
            "LDO",
            "--catalog",
        ])
        .arg(catalog())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = fsecheck()
        .args(["explain", "sch/ERRORE-5", "--doc-type", "NOPE", "--catalog"])
        .arg(catalog())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_outputs_exclude_and_severity_overrides() {
    let (dir, proj) = project();
    // VPS fails the current schematron (as the reference shows): put a warning-only document
    // under that name so only the overridden error remains.
    std::fs::copy(examples().join("RAD.xml"), proj.join("docs/VPS.xml")).unwrap();
    std::fs::create_dir_all(proj.join("docs/drafts")).unwrap();
    broken(&proj.join("docs/drafts"), "draft.xml");
    std::fs::create_dir_all(proj.join("pki")).unwrap();
    // trust-anchors is read by the signature stage: it must hold a certificate.
    std::fs::copy(
        workspace().join("../shared/pades/pki/root-ca.pem"),
        proj.join("pki/root-ca.pem"),
    )
    .unwrap();
    let toml = format!(
        "catalog = {:?}\nfail-on = \"error\"\nformat = \"jsonl\"\njobs = 2\nexclude = [\"**/drafts/**\"]\n\
         trust-anchors = \"pki\"\n\n[outputs]\nsarif = \"reports/out.sarif\"\njunit = \"reports/junit.xml\"\n\n\
         [severity]\n\"xml/not-well-formed\" = \"warning\"\n",
        catalog().to_string_lossy()
    );
    std::fs::create_dir_all(proj.join("reports")).unwrap();
    std::fs::write(proj.join("fsecheck.toml"), &toml).unwrap();
    // The config matches its JSON Schema.
    let value: Value = serde_json::to_value(toml::from_str::<toml::Value>(&toml).unwrap()).unwrap();
    let schema: Value =
        serde_json::from_str(&read(&workspace().join("schemas/config.schema.json"))).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("config.json", schema).unwrap();
    let idx = compiler.compile("config.json", &mut schemas).unwrap();
    schemas.validate(&value, idx).unwrap();
    let mut bad = value.clone();
    bad["catalgo"] = Value::from("x");
    assert!(schemas.validate(&bad, idx).is_err());

    let out = fsecheck()
        .current_dir(&proj)
        .args(["check", "docs"])
        .output()
        .unwrap();
    // not-well-formed is only a warning now: exit 0.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out.stdout);
    let paths: Vec<&str> = recs.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert!(!paths.iter().any(|p| p.contains("drafts")), "{paths:?}");
    assert_eq!(paths.len(), 4);
    let b = recs
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("/broken.xml"))
        .unwrap();
    assert_eq!(b["verdict"], "warn");
    assert!(proj.join("reports/out.sarif").is_file());
    assert!(proj.join("reports/junit.xml").is_file());
    // A draft named on the command line is checked anyway; --exclude adds globs.
    let out = fsecheck()
        .current_dir(&proj)
        .args([
            "check",
            "docs",
            "docs/drafts/draft.xml",
            "--exclude",
            "**/VPS.xml",
        ])
        .output()
        .unwrap();
    let paths: Vec<String> = records(&out.stdout)
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths.len(), 4, "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("draft.xml")));
    assert!(!paths.iter().any(|p| p.ends_with("VPS.xml")));
    // Unknown severities and missing trust anchors are config errors.
    for extra in [
        "[severity]\n\"x/y\" = \"fatal\"\n",
        "trust-anchors = \"nope\"\n",
    ] {
        let t = format!("catalog = {:?}\n{extra}", catalog().to_string_lossy());
        std::fs::write(proj.join("fsecheck.toml"), t).unwrap();
        let out = fsecheck()
            .current_dir(&proj)
            .args(["check", "docs"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra}");
    }
    drop(dir);
}

/// The headless Chromium binary, if any.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is required in CI (apt-get install chromium)");
        }
        eprintln!("\n\n!!!!!!!! SKIPPED html_report_renders_in_headless_chromium: no chromium on PATH !!!!!!!!\n\n");
        return;
    };
    let run = run_all_formats(&[]);
    let html = &run.files["html"];
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", html.display());
    let base = |c: &mut std::process::Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let mut c = std::process::Command::new(&browser);
    base(&mut c);
    let out = c.arg("--dump-dom").arg(&url).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    // The script ran: every document is shown by the filters.
    let n = run.records.len();
    assert!(
        dom.contains(&format!("<span id=\"shown\">{n}</span>")),
        "filters did not run or hid documents"
    );
    let sections = dom.matches("<section class=\"doc\"").count();
    assert_eq!(sections, n);
    for r in &run.records {
        let p = r["path"].as_str().unwrap();
        assert!(dom.contains(&format!("data-path=\"{p}\"")), "{p} missing");
        for f in r["findings"].as_array().unwrap() {
            let id = f["id"].as_str().unwrap();
            assert!(
                dom.contains(&format!("<code class=\"rule\">{id}</code>")),
                "{p}: {id}"
            );
        }
    }
    assert!(dom.contains("xml/not-well-formed"));
    assert!(
        dom.contains("class=\"hit\""),
        "a snippet with the finding's line"
    );
    // The filters work: a search in the address leaves only the matching document.
    let mut c = std::process::Command::new(&browser);
    base(&mut c);
    let out = c
        .arg("--dump-dom")
        .arg(format!("{url}#q=utf16-without"))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(dom.contains("<span id=\"shown\">1</span>"), "search filter");
    let visible: Vec<&str> = regex::Regex::new(r#"<section class="doc"[^>]*>"#)
        .unwrap()
        .find_iter(&dom)
        .map(|m| m.as_str())
        .filter(|t| !t.contains("hidden"))
        .collect();
    assert_eq!(visible.len(), 1, "{visible:?}");
    assert!(visible[0].contains("utf16.xml"));
    // A screenshot for people to look at.
    let shot = workspace().join("target/html-report.png");
    let mut c = std::process::Command::new(&browser);
    base(&mut c);
    let out = c
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,2000")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::metadata(&shot)
        .map(|m| m.len() > 1000)
        .unwrap_or(false));
}

/// Golden outputs of every format for inputs that stop early in the pipeline (so later stages do
/// not change them): a broken XML, an empty file, a binary file. `FSECHECK_BLESS=1` rewrites
/// `tests/snapshots/`.
#[test]
fn snapshots_of_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    broken(d, "broken.xml");
    std::fs::write(d.join("empty.xml"), b"").unwrap();
    std::fs::write(d.join("binary.dat"), [0u8, 159, 146, 150, 1, 2, 3]).unwrap();
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let bless = std::env::var_os("FSECHECK_BLESS").is_some();
    let timings = regex::Regex::new(r#""timing_ms":\{[^}]*\}"#).unwrap();
    for f in ["sarif", "junit", "gitlab", "csv", "html", "jsonl"] {
        let out = check(&[o("--format"), o(f), o("--jobs"), o("1"), o(".")], Some(d));
        assert_eq!(out.status.code(), Some(1), "{f}");
        let mut text = String::from_utf8(out.stdout).unwrap();
        if f == "jsonl" {
            // Timings vary.
            text = timings.replace_all(&text, "\"timing_ms\":{}").into_owned();
        }
        let file = snapshots.join(format!("problems.{f}"));
        if bless {
            std::fs::create_dir_all(&snapshots).unwrap();
            std::fs::write(&file, &text).unwrap();
        }
        let want = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            want == text,
            "{f} output differs from {} (FSECHECK_BLESS=1 to accept):\n{text}",
            file.display()
        );
    }
}

/// The progress bar shows on a terminal (util-linux `script` gives one) and never otherwise, nor
/// with --no-progress or --quiet.
#[test]
fn progress_bar_only_on_a_terminal() {
    if !Path::new("/usr/bin/script").is_file() {
        eprintln!(
            "\n!!!!!!!! SKIPPED progress_bar_only_on_a_terminal: no /usr/bin/script !!!!!!!!\n"
        );
        return;
    }
    let bin = env!("CARGO_BIN_EXE_fsecheck");
    let on_tty = |extra: &str| {
        let cmd = format!(
            "{bin} check --catalog '{}' --format jsonl {extra} '{}' >/dev/null",
            catalog().display(),
            examples().display()
        );
        let out = std::process::Command::new("/usr/bin/script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("NO_COLOR", "1")
            .env_remove("FSECHECK_CATALOG")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_tty("");
    assert!(shown.contains("/9 documents"), "{shown:?}");
    assert!(!on_tty("--no-progress").contains("documents"));
    assert!(!on_tty("--quiet").contains("documents"));
    // Not a terminal: nothing on stderr.
    let out = check(&[o("--format"), o("jsonl"), o(examples())], None);
    assert!(out.stderr.is_empty());
}
