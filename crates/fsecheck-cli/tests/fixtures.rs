//! The project's fixtures against their expected reports (`fixtures/expected/check.jsonl`).
//! After a deliberate change of behaviour, regenerate with `FSECHECK_BLESS=1 cargo test`.

mod common;

use common::*;

fn normalized(stdout: &[u8]) -> String {
    let mut out = String::new();
    for mut r in records(stdout) {
        // Timings vary run to run.
        r.as_object_mut().unwrap().remove("timing_ms");
        out.push_str(&serde_json::to_string(&r).unwrap());
        out.push('\n');
    }
    out
}

#[test]
fn fixtures_match_their_expected_reports() {
    let root = workspace();
    let out = fsecheck()
        .current_dir(&root)
        .args(["check", "--format", "jsonl", "--catalog"])
        .arg(catalog())
        .arg("fixtures/cda")
        .arg("fixtures/broken")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the broken fixtures fail");
    let got = normalized(&out.stdout);
    // Reports must not depend on where the workspace or the catalog is mounted.
    let here = root.canonicalize().unwrap();
    assert!(
        !got.contains(&*here.to_string_lossy()) && !got.contains(&*root.to_string_lossy()),
        "a report mentions an absolute path of this machine"
    );
    let expected_path = root.join("fixtures/expected/check.jsonl");
    if std::env::var_os("FSECHECK_BLESS").is_some() {
        std::fs::create_dir_all(expected_path.parent().unwrap()).unwrap();
        std::fs::write(&expected_path, &got).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&expected_path)
        .expect("fixtures/expected/check.jsonl missing: run with FSECHECK_BLESS=1");
    if got != expected {
        for (g, e) in got.lines().zip(expected.lines()) {
            if g != e {
                panic!(
                    "fixture report changed:\n got: {g}\nwant: {e}\n(FSECHECK_BLESS=1 regenerates)"
                );
            }
        }
        panic!(
            "fixture report changed in length ({} vs {} lines)",
            got.lines().count(),
            expected.lines().count()
        );
    }
    // Each broken fixture fails, each document in fixtures/cda is read as a CDA of its type.
    for r in records(&out.stdout) {
        let path = r["path"].as_str().unwrap();
        if path.starts_with("fixtures/broken/") {
            assert_eq!(r["verdict"], "fail", "{path}");
        } else {
            assert!(r["doc_type"].is_string(), "{path}");
        }
    }
}
