//! `fsecheck catalog info`: provenance, the document types, and where the catalog contradicts
//! itself (a schematron whose file name and inside version disagree).

use fsecheck_catalog::Catalog;
use fsecheck_cda::DOC_TYPES;
use fsecheck_schematron::inside_version;
use serde::Serialize;

#[derive(Serialize)]
struct Row {
    template_root: String,
    doc_type: Option<&'static str>,
    name: Option<&'static str>,
    loinc: Option<&'static str>,
    schematron: String,
    version: String,
    inside_version: Option<String>,
    title: Option<String>,
    consistent: bool,
}

pub fn print(catalog: &Catalog, json: bool) -> std::io::Result<()> {
    crate::emit(&render(catalog, json)?)
}

fn render(catalog: &Catalog, json: bool) -> std::io::Result<String> {
    use std::fmt::Write as _;
    let mut s = String::new();
    let mut rows = Vec::new();
    for e in catalog.mapping() {
        let (label, title) = catalog
            .schematron_text(e)
            .map(|(_, t)| inside_version(&t))
            .unwrap_or((None, None));
        let dt = fsecheck_cda::DocType::by_root(&e.template_id_root);
        rows.push(Row {
            template_root: e.template_id_root.clone(),
            doc_type: dt.map(|d| d.key),
            name: dt.map(|d| d.name),
            loinc: dt.map(|d| d.loinc),
            schematron: e.name.clone(),
            version: e.version.clone(),
            consistent: label.as_deref().is_none_or(|l| l == e.version),
            inside_version: label,
            title,
        });
    }
    let unmapped: Vec<&str> = DOC_TYPES
        .iter()
        .filter(|d| catalog.select_schematron(&d.root(), None).is_none())
        .map(|d| d.key)
        .collect();
    if json {
        let v = serde_json::json!({
            "path": catalog.root.to_string_lossy(),
            "commit": catalog.provenance.commit,
            "last_sync": catalog.provenance.last_sync,
            "fingerprint": catalog.provenance.fingerprint,
            "schema_sets": catalog.schema_sets.iter().map(|s| &s.type_id_extension).collect::<Vec<_>>(),
            "document_types": rows,
            "registry_types_without_schematron": unmapped,
        });
        let _ = writeln!(s, "{}", serde_json::to_string_pretty(&v)?);
        return Ok(s);
    }
    let _ = writeln!(s, "catalog      {}", catalog.root.display());
    let _ = writeln!(
        s,
        "commit       {}",
        catalog
            .provenance
            .commit
            .as_deref()
            .unwrap_or("unknown (not a git checkout)")
    );
    let _ = writeln!(
        s,
        "last sync    {}",
        catalog.provenance.last_sync.as_deref().unwrap_or("unknown")
    );
    let _ = writeln!(s, "fingerprint  {}", catalog.provenance.fingerprint);
    let sets: Vec<&str> = catalog
        .schema_sets
        .iter()
        .map(|s| s.type_id_extension.as_str())
        .collect();
    let _ = writeln!(s, "schema sets  {}", sets.join(", "));
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<15} {:<10} {:<36} {:<42} {:>7} {:>7}  title",
        "type", "LOINC", "templateId root", "schematron", "version", "inside"
    );
    for r in &rows {
        let _ = writeln!(
            s,
            "{:<15} {:<10} {:<36} {:<42} {:>7} {:>7}{} {}",
            r.doc_type.unwrap_or("?"),
            r.loinc.unwrap_or("?"),
            r.template_root,
            r.schematron,
            r.version,
            r.inside_version.as_deref().unwrap_or("-"),
            if r.consistent { " " } else { "!" },
            r.title.as_deref().unwrap_or("")
        );
    }
    let bad: Vec<&Row> = rows.iter().filter(|r| !r.consistent).collect();
    if !bad.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s,
            "! {} schematron files carry a version inside that differs from the catalog's version (file name):",
            bad.len()
        );
        for r in bad {
            let _ = writeln!(
                s,
                "  {} — catalog {}, inside \"schematron versione: {}\"",
                r.schematron,
                r.version,
                r.inside_version.as_deref().unwrap_or("")
            );
        }
    }
    if !unmapped.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "document types with no schematron in this catalog: {}",
            unmapped.join(", ")
        );
    }
    Ok(s)
}
