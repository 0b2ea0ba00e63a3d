//! The rule registry covers every id the code emits, and `docs/RULES.md` is generated from it.

use fsecheck_report::rules::{all, lookup, markdown};

/// `docs/RULES.md` is generated from the registry; `FSECHECK_BLESS=1` rewrites it.
#[test]
fn rules_md_is_in_sync() {
    fsecheck_engine::rules::register_rules();
    assert!(
        lookup("jwt/missing").is_some(),
        "metadata rules are registered"
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/RULES.md");
    let want = markdown();
    if std::env::var_os("FSECHECK_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/RULES.md is out of date: run FSECHECK_BLESS=1 cargo test -p fsecheck-engine --test rules"
    );
}

/// Every rule id string literal in the sources of the workspace is in the registry.
#[test]
fn every_id_in_the_code_is_registered() {
    fsecheck_engine::rules::register_rules();
    assert!(all().len() > 100);
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let re = regex::Regex::new(
        r#""((?:input|xml|cda|xsd|sch|term|engine|pdf|http|internal|meta|jwt|sig)/[A-Za-z0-9_.-]+)""#,
    )
    .unwrap();
    let mut missing = Vec::new();
    let mut stack = vec![crates];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name();
            if p.is_dir() {
                // Only sources: tests, benches and examples use made-up ids.
                if !["tests", "target", "benches", "examples", "tools"]
                    .contains(&name.to_str().unwrap_or(""))
                {
                    stack.push(p);
                }
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            // Ignore unit-test modules: they use made-up ids.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for c in re.captures_iter(code) {
                let id = &c[1];
                if lookup(id).is_none() && !id.starts_with("sch/ERRORE") && id != "sch/W001" {
                    missing.push(format!("{id} ({})", p.display()));
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "rule ids without an explanation: {missing:#?}"
    );
}
