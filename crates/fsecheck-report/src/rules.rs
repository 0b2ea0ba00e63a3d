//! The registry of built-in rule ids: a short English explanation of each, used by
//! `fsecheck explain`, the SARIF rule metadata and `docs/RULES.md` (generated from here).
//!
//! Schematron findings carry the id of the assert or report that fired (`sch/ERRORE-5`,
//! `sch/W001`); those come from the catalog, not from this list, and are explained from the
//! schematron file itself (`fsecheck explain sch/ID --doc-type KEY`).

use fsecheck_core::{Severity, Stage};

/// Where the rule documentation lives; SARIF `helpUri`s point into it.
pub const DOCS_URL: &str = "https://example.invalid/fsecheck/blob/main/docs/RULES.md";

/// One built-in rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDoc {
    pub id: &'static str,
    pub stage: Stage,
    /// The severity the rule is usually reported with.
    pub severity: Severity,
    /// What the rule checks and how to fix it, in English.
    pub summary: &'static str,
}

const fn r(id: &'static str, stage: Stage, severity: Severity, summary: &'static str) -> RuleDoc {
    RuleDoc {
        id,
        stage,
        severity,
        summary,
    }
}

use Severity::{Error as E, Info as I, Warning as W};

/// Rules produced by the input, XML, CDA, XSD, schematron, terminology and engine stages.
const CORE_RULES: &[RuleDoc] = &[
    r("input/not-found", Stage::Input, E, "A path given on the command line does not exist. Check the path."),
    r("input/permission-denied", Stage::Input, E, "The file or folder may not be read by the user running fsecheck."),
    r("input/unreadable", Stage::Input, E, "The path could not be inspected or read (I/O error, dangling symbolic link)."),
    r("input/symlink-loop", Stage::Input, E, "A symbolic link points back to one of its own parent folders while walking; it was not followed."),
    r("input/empty", Stage::Input, E, "The file is empty. The gateway refuses it as an empty file (/msg/empty-file)."),
    r("input/too-large", Stage::Input, E, "The file is larger than `--max-size`; it was not read. Raise the limit if the file is genuine."),
    r("input/unsupported-format", Stage::Input, E, "The content is neither a PDF, an XML document nor an HTTP request file (recognised by content, not by extension)."),
    r("xml/empty", Stage::Xml, E, "The XML text is empty; an empty file cannot be a CDA document."),
    r("xml/unsupported-encoding", Stage::Xml, E, "The document uses an encoding fsecheck (and the gateway) cannot read, such as UTF-32. Save it as UTF-8."),
    r("xml/utf16-without-bom", Stage::Xml, W, "The document looks like UTF-16 but has no byte order mark; parsers may guess wrong. Save it as UTF-8, or add a BOM."),
    r("xml/encoding-mismatch", Stage::Xml, E, "The byte order mark or the bytes disagree with the encoding named in the XML declaration. Make the declaration match the real encoding."),
    r("xml/invalid-encoding", Stage::Xml, E, "A byte is not valid in the encoding the XML declaration names (e.g. a non-ASCII byte in a US-ASCII document)."),
    r("xml/invalid-utf8", Stage::Xml, E, "The bytes are not valid UTF-8 (often a Latin-1 file without an encoding declaration). Re-save the file as UTF-8."),
    r("xml/doctype", Stage::Xml, E, "The document has a DOCTYPE declaration. DTDs and entity declarations are refused (they enable entity-expansion attacks and the gateway rejects them)."),
    r("xml/too-deep", Stage::Xml, E, "Elements are nested deeper than the safety limit; the document was not parsed further."),
    r("xml/too-many-attributes", Stage::Xml, E, "An element has more attributes than the safety limit."),
    r("xml/too-many-nodes", Stage::Xml, E, "The document has more nodes than the safety limit."),
    r("xml/unknown-namespace-prefix", Stage::Xml, E, "A namespace prefix is used without a declaration in scope; the document is not namespace-well-formed. Declare the prefix (e.g. xmlns:xsi)."),
    r("xml/not-well-formed", Stage::Xml, E, "The file is not well-formed XML. The gateway answers 'Error while executing validation on xsd schema' (/msg/syntax). Fix the reported line and column."),
    r("cda/not-clinical-document", Stage::Cda, E, "The root element is not {urn:hl7-org:v3}ClinicalDocument, so the file is not an HL7 CDA R2 document."),
    r("cda/missing-template-id", Stage::Cda, E, "The document has no templateId/@root: the gateway chooses the schematron by the first templateId and cannot validate without it."),
    r("cda/missing-type-id", Stage::Cda, E, "The document has no typeId/@extension: the gateway chooses the XSD schema set by it and cannot validate without it."),
    r("xsd/schema-not-found", Stage::Xsd, E, "No schema set in the catalog matches typeId/@extension (the gateway's 'Schema with version … not found on database')."),
    r("xsd/unexpected-element", Stage::Xsd, E, "XSD validation against the catalog schema set failed: an element or attribute is not allowed where it appears."),
    r("sch/not-found", Stage::Schematron, E, "No active schematron in the catalog is mapped to the document's first templateId/@root (the gateway's 'Schematron with template id root … not found on database')."),
    r("sch/dynamic-error", Stage::Schematron, E, "Evaluating the schematron failed at run time (an XPath error on this document); the gateway reports a generic error."),
    r("term/system-not-managed", Stage::Terminology, I, "A code system used in the document is not one the gateway manages; its codes are not checked."),
    r("pdf/no-cda", Stage::Pdf, E, "The PDF carries no embedded CDA (`cda.xml` attachment) for the gateway to extract."),
    r("pdf/not-checked", Stage::Pdf, I, "The input is a PDF; PDF container and signature checks are not enabled in this build."),
    r("http/not-checked", Stage::Metadata, I, "The input is an HTTP request file; request checks are not enabled in this build."),
    r("internal/panic", Stage::Internal, E, "fsecheck failed internally on this document. Nothing is known about the document; please report it with the input if you can share it."),
];

/// Every built-in rule, sorted by id: the core ones and the metadata/JWT rules of
/// `fsecheck-metadata`.
pub fn all() -> Vec<RuleDoc> {
    let mut v: Vec<RuleDoc> = CORE_RULES.to_vec();
    for m in fsecheck_metadata::gateway::ALL_RULES {
        v.push(RuleDoc {
            id: m.id,
            stage: Stage::Metadata,
            severity: if m.gateway.is_some() { E } else { W },
            summary: m.summary,
        });
    }
    v.sort_by(|a, b| a.id.cmp(b.id));
    v
}

/// A built-in rule by id.
pub fn lookup(id: &str) -> Option<RuleDoc> {
    all().into_iter().find(|r| r.id == id)
}

/// The anchor of a rule in `docs/RULES.md`; schematron ids share one section.
pub fn anchor(id: &str) -> String {
    if id.starts_with("sch/") && lookup(id).is_none() {
        return "schematron-rules".into();
    }
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The documentation link of a rule.
pub fn help_uri(id: &str) -> String {
    format!("{DOCS_URL}#{}", anchor(id))
}

/// The help text for any id: the registry's, else the family's (schematron asserts, unknown ids).
pub fn help_text(id: &str) -> String {
    if let Some(r) = lookup(id) {
        return r.summary.to_string();
    }
    if id.starts_with("sch/") {
        return "A schematron assert or report of the catalog schematron for this document type \
                failed. The message is the schematron's own (Italian) text; run `fsecheck explain \
                ID --doc-type KEY` for its context and test."
            .to_string();
    }
    "A rule of fsecheck; see the documentation.".to_string()
}

/// `docs/RULES.md`, generated from the registry.
pub fn markdown() -> String {
    let mut s = String::from(
        "# Rules\n\n\
         <!-- Generated from crates/fsecheck-report/src/rules.rs: do not edit by hand. \
         Regenerate with `FSECHECK_BLESS=1 cargo test -p fsecheck-report rules_md`. -->\n\n\
         Every built-in rule id fsecheck reports, with its stage and usual severity. \
         `fsecheck explain ID` prints the same text. Severities can be overridden per rule in \
         `fsecheck.toml` (`[severity]`).\n\n",
    );
    let rules = all();
    let mut families: Vec<&str> = rules
        .iter()
        .map(|r| r.id.split('/').next().unwrap_or(""))
        .collect();
    families.dedup();
    s.push_str("| Rule | Stage | Severity |\n|---|---|---|\n");
    for r in &rules {
        s.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            r.id,
            anchor(r.id),
            r.stage,
            r.severity
        ));
    }
    s.push('\n');
    for fam in families {
        s.push_str(&format!("## {fam}/\n\n"));
        for r in rules.iter().filter(|r| r.id.split('/').next() == Some(fam)) {
            s.push_str(&format!(
                "<a id=\"{}\"></a>\n### `{}`\n\n*{} stage, {}.*\n\n{}\n\n",
                anchor(r.id),
                r.id,
                r.stage,
                r.severity,
                r.summary
            ));
        }
    }
    s.push_str(
        "<a id=\"schematron-rules\"></a>\n## Schematron rules (`sch/ID`)\n\n\
         Schematron findings are named after the assert or report that fired: the text before the \
         first `|` of its message (`sch/ERRORE-5`, `sch/W001`). `ERRORE-*` asserts are errors, \
         `W*` are warnings, as at the gateway. The message is the schematron's own Italian text, \
         verbatim. `fsecheck explain sch/ERRORE-5 --doc-type LDO` prints the rule's context, test, \
         message, schematron file and version from the catalog.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_namespaced_and_explained() {
        let rules = all();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id");
        for r in &rules {
            assert!(r.id.contains('/'), "{}", r.id);
            assert!(r.summary.len() > 20, "{}", r.id);
        }
        assert!(lookup("xml/not-well-formed").is_some());
        assert!(lookup("jwt/missing").is_some());
        assert_eq!(anchor("xml/not-well-formed"), "xml-not-well-formed");
        assert_eq!(anchor("sch/ERRORE-5"), "schematron-rules");
        assert!(help_uri("sch/not-found").ends_with("#sch-not-found"));
    }

    /// `docs/RULES.md` is generated from the registry; `FSECHECK_BLESS=1` rewrites it.
    #[test]
    fn rules_md_is_in_sync() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/RULES.md");
        let want = markdown();
        if std::env::var_os("FSECHECK_BLESS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/RULES.md is out of date: run FSECHECK_BLESS=1 cargo test -p fsecheck-report rules_md"
        );
    }

    /// Every rule id string literal in the sources of the workspace is in the registry.
    #[test]
    fn every_id_in_the_code_is_registered() {
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let re = regex::Regex::new(
            r#""((?:input|xml|cda|xsd|sch|term|pdf|http|internal|meta|jwt|sig)/[A-Za-z0-9_.-]+)""#,
        )
        .unwrap();
        let mut missing = Vec::new();
        let mut stack = vec![crates];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let name = e.file_name();
                if p.is_dir() {
                    // Only sources: tests use made-up ids.
                    if name != "tests" && name != "target" {
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
        assert!(
            missing.is_empty(),
            "rule ids without an explanation: {missing:?}"
        );
    }
}
