//! Shared helpers of the integration tests: the shared data directory, the compiled sets, and
//! batched `xmllint --schema` runs for differential checks.
#![allow(dead_code)]

use fsecheck_xsd::SchemaSet;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const UV02: &str = "POCD_MT000040UV02";
pub const HD: &str = "POCD_HD000040";

pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

pub fn schema_root() -> PathBuf {
    shared().join("catalogs/schema")
}

pub fn set(name: &str) -> &'static SchemaSet {
    static SETS: OnceLock<HashMap<String, SchemaSet>> = OnceLock::new();
    let sets = SETS.get_or_init(|| {
        [UV02, HD]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    SchemaSet::load(&schema_root().join(n)).expect("set loads"),
                )
            })
            .collect()
    });
    &sets[name]
}

/// The set a document is checked against in the differential suites: by `typeId/@extension`,
/// `POCD_MT000040UV02` when there is no matching set.
pub fn set_for(doc: &roxmltree::Document) -> &'static str {
    match fsecheck_xsd::type_id_extension(doc) {
        Some(HD) => HD,
        _ => UV02,
    }
}

pub fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fsecheck-xsd-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Whether xmllint can run. Missing in CI (`CI` set) is a failure; elsewhere a loud skip.
pub fn xmllint_available(test: &str) -> bool {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("xmllint is required in CI (apt-get install libxml2-utils)");
        }
        eprintln!("\n**********\n*** SKIPPED {test}: xmllint not found (apt-get install libxml2-utils) ***\n**********\n");
    }
    ok
}

/// Lays a set out as its `CDA.xsd` expects (`CDA.xsd` + `coreschemas/`) and returns CDA.xsd.
pub fn laid_out(set: &str, scratch: &Path) -> PathBuf {
    let src = schema_root().join(set);
    let dst = scratch.join(format!("layout-{set}"));
    std::fs::create_dir_all(dst.join("coreschemas")).unwrap();
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        let name = e.file_name();
        let to = if name == "CDA.xsd" {
            dst.join(&name)
        } else {
            dst.join("coreschemas").join(&name)
        };
        std::fs::copy(e.path(), to).unwrap();
    }
    dst.join("CDA.xsd")
}

/// xmllint's verdict (`true` = validates) for each file, in batched invocations.
pub fn xmllint_verdicts(schema: &Path, files: &[PathBuf]) -> HashMap<PathBuf, bool> {
    let mut out = HashMap::new();
    for chunk in files.chunks(400) {
        let o = Command::new("xmllint")
            .arg("--noout")
            .arg("--nonet")
            .arg("--schema")
            .arg(schema)
            .args(chunk)
            .output()
            .expect("xmllint runs");
        let err = String::from_utf8_lossy(&o.stderr);
        for line in err.lines() {
            if let Some(p) = line.strip_suffix(" validates") {
                out.insert(PathBuf::from(p), true);
            } else if let Some(p) = line.strip_suffix(" fails to validate") {
                out.insert(PathBuf::from(p), false);
            }
        }
    }
    out
}

/// Names of elements the set declares with `maxOccurs="0"` (read from the schema files).
pub fn max_occurs_zero_names(set: &str) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for e in std::fs::read_dir(schema_root().join(set))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        for n in doc
            .descendants()
            .filter(|n| n.has_tag_name(("http://www.w3.org/2001/XMLSchema", "element")))
        {
            if n.attribute("maxOccurs") == Some("0") {
                out.extend(n.attribute("name").map(str::to_string));
            }
        }
    }
    out
}

/// The named libxml2 deviations from XSD 1.0 (docs/XSD.md) that explain a verdict difference,
/// if one does. Each applies only when the difference is wholly explained by it.
pub fn libxml2_deviation(
    text: &str,
    ours: &[fsecheck_core::Finding],
    xmllint_valid: bool,
    set: &str,
) -> Option<&'static str> {
    let all =
        |pred: &dyn Fn(&fsecheck_core::Finding) -> bool| !ours.is_empty() && ours.iter().all(pred);
    if xmllint_valid {
        // libxml2 never checks that an IDREF names an existing ID (cvc-id.1).
        if all(&|f| f.id == "xsd/idref") {
            return Some("libxml2-no-idref-resolution");
        }
        // libxml2 2.9 treats a particle with maxOccurs="0" as optional instead of absent.
        let zero = max_occurs_zero_names(set);
        if all(&|f| {
            f.id == "xsd/unexpected-element"
                && f.details
                    .get("found")
                    .is_some_and(|n| zero.contains(n.rsplit('}').next().unwrap_or(n)))
        }) {
            return Some("libxml2-max-occurs-zero");
        }
        // libxml2 accepts an empty xs:NMTOKENS / xs:IDREFS (their minLength 1 is not applied).
        if all(&|f| {
            f.id == "xsd/attribute-value"
                && (f.message.contains("type xs:NMTOKENS") || f.message.contains("type xs:IDREFS"))
                && f.details.get("value").is_some_and(|v| v.trim().is_empty())
        }) {
            return Some("libxml2-empty-builtin-list");
        }
        // libxml2 accepts `1e`, `1.5e` as xs:double (digits after the exponent are required).
        if all(&|f| {
            f.id == "xsd/attribute-value"
                && f.details.get("value").is_some_and(|v| {
                    let t = v.trim();
                    t.find(['e', 'E'])
                        .is_some_and(|i| matches!(&t[i + 1..], "" | "+" | "-"))
                })
        }) {
            return Some("libxml2-double-empty-exponent");
        }
    } else if ours.is_empty() {
        let doc = roxmltree::Document::parse(text).ok()?;
        // libxml2 parses xs:anyURI by RFC 3986 and refuses an empty port and `[` `]` in a query,
        // which RFC 2396 + 2732 (what XSD 1.0 names, and Xerces applies) admit.
        let rfc3986_only = doc.descendants().flat_map(|n| n.attributes()).any(|a| {
            let v = a.value();
            let empty_port = v.split_once("://").is_some_and(|(_, rest)| {
                let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
                authority.ends_with(':')
            });
            let bracket_in_query = v
                .split_once('?')
                .is_some_and(|(_, q)| q.split('#').next().unwrap_or("").contains(['[', ']']));
            empty_port || bracket_in_query
        });
        if rfc3986_only {
            return Some("libxml2-uri-rfc3986");
        }
        // libxml2 does not collapse whitespace around an xsi:type QName.
        let padded = doc.descendants().any(|n| {
            n.attributes().any(|a| {
                a.namespace() == Some("http://www.w3.org/2001/XMLSchema-instance")
                    && a.name() == "type"
                    && a.value().trim() != a.value()
            })
        });
        if padded {
            return Some("libxml2-xsi-type-whitespace");
        }
    }
    None
}

/// Every `*.xml` file under `dir`, recursively, in a stable order.
pub fn xml_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "xml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

/// One document we validated for a differential suite.
pub struct Checked {
    pub path: PathBuf,
    /// What to call it in a mismatch report.
    pub label: String,
    pub text: String,
    pub set: &'static str,
    pub findings: Vec<fsecheck_core::Finding>,
}

/// Compares our verdicts with xmllint's: the mismatches (as report lines) and, per named
/// libxml2 deviation, how many differences it explains.
pub fn compare(
    checked: &[Checked],
    theirs: &HashMap<PathBuf, bool>,
) -> (Vec<String>, std::collections::BTreeMap<&'static str, usize>) {
    let mut mismatches = Vec::new();
    let mut excused = std::collections::BTreeMap::new();
    for c in checked {
        let ok = c.findings.is_empty();
        let t = theirs.get(&c.path).copied();
        if t == Some(ok) {
            continue;
        }
        match t.and_then(|t| libxml2_deviation(&c.text, &c.findings, t, c.set)) {
            Some(d) => *excused.entry(d).or_default() += 1,
            None => {
                let first = c
                    .findings
                    .first()
                    .map(|f| format!("{} {}", f.id, f.message))
                    .unwrap_or_default();
                mismatches.push(format!(
                    "{}: ours valid={ok}, xmllint {t:?}; {first}",
                    c.label
                ));
            }
        }
    }
    (mismatches, excused)
}

/// Whether a JDK (`java`, able to run single-file sources) is there for the JAXP oracle.
/// It is optional, also in CI: a missing JDK is a loud skip.
pub fn java_available(test: &str) -> bool {
    let ok = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "\n**********\n*** SKIPPED {test}: java not found (JAXP oracle) ***\n**********\n"
        );
    }
    ok
}

/// The JDK's JAXP (Xerces) verdict for each file — the gateway's own validator.
pub fn jaxp_verdicts(schema: &Path, files: &[PathBuf]) -> HashMap<PathBuf, bool> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jaxp/JaxpValidate.java");
    let mut out = HashMap::new();
    for chunk in files.chunks(2000) {
        let o = Command::new("java")
            .arg(&src)
            .arg(schema)
            .args(chunk)
            .output()
            .expect("java runs");
        assert!(
            o.status.success(),
            "JaxpValidate failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            if let Some(p) = line.strip_suffix(" validates") {
                out.insert(PathBuf::from(p), true);
            } else if let Some((p, _)) = line.split_once(" fails to validate") {
                out.insert(PathBuf::from(p), false);
            }
        }
    }
    out
}
