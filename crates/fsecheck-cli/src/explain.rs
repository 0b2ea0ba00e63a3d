//! `fsecheck explain ID`: the explanation of a built-in rule (from the registry in
//! `fsecheck_report::rules`), or of a schematron assert/report read from the catalog schematron of
//! a document type (`fsecheck explain sch/ERRORE-5 --doc-type LDO`; without `--doc-type`, every
//! current catalog schematron that has the id).

use fsecheck_catalog::{Catalog, SchematronEntry};
use fsecheck_cda::DocType;
use fsecheck_report::rules;
use serde::Serialize;

const SCH_NS: &str = "http://purl.oclc.org/dsdl/schematron";

/// One schematron assert or report.
#[derive(Debug, Serialize)]
pub struct SchRule {
    pub id: String,
    pub doc_type: String,
    /// `assert` or `report`.
    pub kind: String,
    pub context: Option<String>,
    pub test: Option<String>,
    pub message: String,
    pub file: String,
    /// The catalog's version of the mapping record.
    pub catalog_version: String,
    /// The version label written inside the file (`<!-- schematron versione: X -->`).
    pub inside_version: Option<String>,
    pub title: Option<String>,
}

/// The message of an assert/report: text, with `<name/>` and `<value-of/>` kept as markup.
fn message_of(node: roxmltree::Node) -> String {
    let mut s = String::new();
    for n in node.descendants().skip(1) {
        if n.is_text() {
            if n.parent().is_some_and(|p| p == node || p.is_element()) {
                s.push_str(n.text().unwrap_or(""));
            }
        } else if n.is_element() {
            match n.tag_name().name() {
                "name" => s.push_str("<name/>"),
                "value-of" => s.push_str(&format!(
                    "<value-of select=\"{}\"/>",
                    n.attribute("select").unwrap_or("")
                )),
                _ => {}
            }
        }
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An assert or report found: (kind, rule context, test, message).
pub type Found = (String, Option<String>, Option<String>, String);

/// The asserts and reports of `text` whose message starts with `local` (the id without `sch/`),
/// followed by `|`, whitespace or the end.
pub fn find_in_schematron(text: &str, local: &str) -> Result<Vec<Found>, String> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for n in doc.descendants().filter(|n| {
        n.is_element()
            && n.tag_name().namespace() == Some(SCH_NS)
            && matches!(n.tag_name().name(), "assert" | "report")
    }) {
        let msg = message_of(n);
        let Some(rest) = msg.strip_prefix(local) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with('|') || rest.starts_with(char::is_whitespace)) {
            continue;
        }
        let context = n
            .ancestors()
            .find(|a| a.has_tag_name((SCH_NS, "rule")))
            .and_then(|r| r.attribute("context"))
            .map(str::to_string);
        out.push((
            n.tag_name().name().to_string(),
            context,
            n.attribute("test").map(str::to_string),
            msg,
        ));
    }
    Ok(out)
}

fn sch_rules(catalog: &Catalog, id: &str, doc_type: Option<&str>) -> Result<Vec<SchRule>, String> {
    let local = id.strip_prefix("sch/").unwrap_or(id);
    let types: Vec<&'static DocType> = match doc_type {
        Some(k) => vec![DocType::by_key(k).ok_or_else(|| {
            format!("unknown document type '{k}' (see `fsecheck catalog info` for the keys)")
        })?],
        None => fsecheck_cda::DOC_TYPES.iter().collect(),
    };
    let mut out = Vec::new();
    for t in types {
        let Some(entry): Option<&SchematronEntry> = catalog.select_schematron(&t.root(), None)
        else {
            if doc_type.is_some() {
                return Err(Catalog::schematron_not_found_message(&t.root(), None));
            }
            continue;
        };
        let (_, text) = catalog.schematron_text(entry).map_err(|e| e.to_string())?;
        let (inside, title) = fsecheck_schematron::inside_version(&text);
        for (kind, context, test, message) in find_in_schematron(&text, local)
            .map_err(|e| format!("{}: not parseable XML: {e}", entry.name))?
        {
            out.push(SchRule {
                id: format!("sch/{local}"),
                doc_type: t.key.to_string(),
                kind,
                context,
                test,
                message,
                file: entry.name.clone(),
                catalog_version: entry.version.clone(),
                inside_version: inside.clone(),
                title: title.clone(),
            });
        }
    }
    Ok(out)
}

/// Run `explain`; `Ok(false)` when nothing is known about the id.
pub fn run(
    id: &str,
    doc_type: Option<&str>,
    catalog: impl FnOnce() -> Result<Catalog, String>,
    json: bool,
) -> Result<bool, String> {
    let mut s = String::new();
    let known = render(&mut s, id, doc_type, catalog, json)?;
    crate::emit(&s).map_err(|e| format!("writing to standard output: {e}"))?;
    Ok(known)
}

fn render(
    s: &mut String,
    id: &str,
    doc_type: Option<&str>,
    catalog: impl FnOnce() -> Result<Catalog, String>,
    json: bool,
) -> Result<bool, String> {
    use std::fmt::Write as _;
    if let Some(r) = rules::lookup(id) {
        if json {
            let _ = writeln!(
                s,
                "{}",
                serde_json::json!({
                    "id": r.id, "stage": r.stage, "severity": r.severity,
                    "summary": r.summary, "help_uri": rules::help_uri(r.id),
                })
            );
        } else {
            let _ = writeln!(s, "{}  ({} stage, {})\n", r.id, r.stage, r.severity);
            let _ = writeln!(s, "{}\n", r.summary);
            let _ = writeln!(s, "More: {}", rules::help_uri(r.id));
        }
        return Ok(true);
    }
    if id.starts_with("sch/") {
        let catalog = catalog()?;
        let found = sch_rules(&catalog, id, doc_type)?;
        if json {
            let _ = writeln!(
                s,
                "{}",
                serde_json::to_string_pretty(&found).map_err(|e| e.to_string())?
            );
            return Ok(!found.is_empty());
        }
        if found.is_empty() {
            return Ok(false);
        }
        for (i, r) in found.iter().enumerate() {
            if i > 0 {
                let _ = writeln!(s);
            }
            let _ = writeln!(
                s,
                "{}  ({} {}, schematron {})",
                r.id, r.doc_type, r.kind, r.file
            );
            let _ = writeln!(
                s,
                "  file:     {} (catalog version {}{})",
                r.file,
                r.catalog_version,
                r.inside_version
                    .as_deref()
                    .map(|v| format!(", inside the file: {v}"))
                    .unwrap_or_default()
            );
            if let Some(t) = &r.title {
                let _ = writeln!(s, "  title:    {t}");
            }
            let _ = writeln!(
                s,
                "  context:  {}",
                r.context.as_deref().unwrap_or("(none)")
            );
            let _ = writeln!(s, "  test:     {}", r.test.as_deref().unwrap_or("(none)"));
            let _ = writeln!(s, "  message:  {}", r.message);
        }
        let _ = writeln!(s, "\n{}", rules::help_text(id));
        return Ok(true);
    }
    Ok(false)
}

/// The "unknown rule" message, with the ids of the same family.
pub fn unknown(id: &str) -> String {
    let family = id.split('/').next().unwrap_or("");
    let same: Vec<&str> = rules::all()
        .into_iter()
        .filter(|r| r.id.split('/').next() == Some(family))
        .map(|r| r.id)
        .collect();
    if let Some(local) = id.strip_prefix("sch/") {
        format!(
            "unknown rule id '{id}': not a built-in rule ({}), and no assert or report of the \
             catalog schematron(s) searched starts with '{local}'",
            same.join(", ")
        )
    } else if same.is_empty() {
        let families: std::collections::BTreeSet<&str> = rules::all()
            .into_iter()
            .filter_map(|r| r.id.split('/').next())
            .collect();
        format!(
            "unknown rule id '{id}'; rule ids start with one of: {}/ (see docs/RULES.md)",
            families.into_iter().collect::<Vec<_>>().join("/, ")
        )
    } else {
        format!(
            "unknown rule id '{id}'; known in this family: {}",
            same.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_asserts_by_leading_id() {
        let sch = r#"<schema xmlns="http://purl.oclc.org/dsdl/schematron"><pattern>
            <rule context="hl7:ClinicalDocument">
              <assert test="count(x)=1">ERRORE-5| L'elemento <name/> deve
                 avere x</assert>
              <assert test="y">ERRORE-50| altro</assert>
              <report test="z">W001| avviso <value-of select="@code"/></report>
            </rule></pattern></schema>"#;
        let found = find_in_schematron(sch, "ERRORE-5").unwrap();
        assert_eq!(found.len(), 1);
        let (kind, ctx, test, msg) = &found[0];
        assert_eq!(kind, "assert");
        assert_eq!(ctx.as_deref(), Some("hl7:ClinicalDocument"));
        assert_eq!(test.as_deref(), Some("count(x)=1"));
        assert_eq!(msg, "ERRORE-5| L'elemento <name/> deve avere x");
        let w = find_in_schematron(sch, "W001").unwrap();
        assert_eq!(w[0].0, "report");
        assert_eq!(w[0].3, "W001| avviso <value-of select=\"@code\"/>");
        assert!(find_in_schematron(sch, "ERRORE-9").unwrap().is_empty());
    }
}
