//! The engine-map check (gateway §4.5): the latest available FHIR mapping engine must have a
//! structure map for the document's template root.

use crate::catalog::{mongo_date, parse_millis, read_json_array};
use crate::error::Error;
use crate::rules;
use fsecheck_core::{Finding, Stage};
use serde_json::Value;
use std::path::Path;

/// One structure map of an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineMap {
    /// The map's object id (`roots[].oid`).
    pub oid: String,
    pub template_id_roots: Vec<String>,
    pub uri: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone)]
struct Engine {
    id: String,
    last_sync: Option<String>,
    last_sync_ms: Option<i64>,
    roots: Vec<EngineMap>,
}

/// The engines of a catalog (`mongo-dump/engines.json.gzip`), reduced to the one the gateway uses.
#[derive(Debug, Clone)]
pub struct Engines {
    /// The latest available engine (`EngineRepo.getLatestEngine`), if any.
    latest: Option<Engine>,
    total: usize,
}

fn oid(v: Option<&Value>) -> Option<String> {
    let v = v?;
    match v.get("$oid").unwrap_or(v) {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

impl Engines {
    /// Reads `<catalog_dir>/mongo-dump/engines.json.gzip` and keeps the engine the gateway would
    /// pick: the latest `last_sync` among those with `available: true` and `expired` not true.
    ///
    /// The gateway's query is `available = true and expired = false` sorted by `last_sync` desc.
    /// The public dump has no `expired` field (the ministry's database sets it when syncing); we
    /// read a missing `expired` as false, otherwise no engine of the dump would ever qualify.
    pub fn load(catalog_dir: &Path) -> Result<Engines, Error> {
        let path = catalog_dir.join("mongo-dump").join("engines.json.gzip");
        let docs = read_json_array(&path)?;
        let total = docs.len();
        let mut best: Option<Engine> = None;
        for (i, d) in docs.iter().enumerate() {
            let available = d.get("available").and_then(Value::as_bool) == Some(true);
            let expired = d.get("expired").and_then(Value::as_bool) == Some(true);
            if !available || expired {
                continue;
            }
            let id = oid(d.get("_id"))
                .ok_or_else(|| Error::format(&path, format!("engine {i}: no _id")))?;
            let last_sync = mongo_date(d.get("last_sync"));
            let last_sync_ms = last_sync.as_deref().and_then(parse_millis);
            let mut roots = Vec::new();
            for r in d
                .get("roots")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let template_id_roots = match r.get("template_id_root") {
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                    Some(Value::String(s)) => vec![s.clone()],
                    _ => Vec::new(),
                };
                roots.push(EngineMap {
                    oid: oid(r.get("oid")).unwrap_or_default(),
                    template_id_roots,
                    uri: r.get("uri").and_then(Value::as_str).map(str::to_string),
                    version: r.get("version").and_then(Value::as_str).map(str::to_string),
                });
            }
            let e = Engine {
                id,
                last_sync,
                last_sync_ms,
                roots,
            };
            // Sort descending by last_sync (missing sorts last), first wins on ties.
            let better = match &best {
                None => true,
                Some(b) => match (e.last_sync_ms, b.last_sync_ms) {
                    (Some(x), Some(y)) => x > y,
                    (Some(_), None) => true,
                    _ => false,
                },
            };
            if better {
                best = Some(e);
            }
        }
        Ok(Engines {
            latest: best,
            total,
        })
    }

    /// The id of the engine the gateway would use.
    pub fn latest_id(&self) -> Option<&str> {
        self.latest.as_ref().map(|e| e.id.as_str())
    }

    /// `last_sync` of that engine, as written in the dump.
    pub fn latest_last_sync(&self) -> Option<&str> {
        self.latest.as_ref().and_then(|e| e.last_sync.as_deref())
    }

    /// Number of engine documents in the dump (available or not).
    pub fn engine_count(&self) -> usize {
        self.total
    }

    /// The structure map for `template_root` in the latest engine (exact string match, as
    /// `List.contains`).
    pub fn map_for(&self, template_root: &str) -> Option<&EngineMap> {
        self.latest.as_ref()?.roots.iter().find(|m| {
            m.template_id_roots
                .iter()
                .any(|r| r.as_str() == template_root)
        })
    }

    /// `None` when the latest engine maps `template_root`; else the gateway's blocking error:
    /// `engine/no-fhir-map` (`Nessuna mappa con id <root> è stata trovata nell'engine <id>`) or,
    /// with no available engine, `engine/no-engine` (`Nessun engine disponibile`).
    pub fn check(&self, template_root: &str) -> Option<Finding> {
        let Some(engine) = &self.latest else {
            return Some(
                Finding::error(rules::ENGINE_NONE, Stage::Engine, "Nessun engine disponibile")
                    .with_hint("the catalog has no available FHIR mapping engine, so the gateway refuses every document")
                    .with_detail("template_id_root", template_root),
            );
        };
        if self.map_for(template_root).is_some() {
            return None;
        }
        Some(
            Finding::error(
                rules::ENGINE_NO_MAP,
                Stage::Engine,
                format!(
                    "Nessuna mappa con id {template_root} è stata trovata nell'engine {}",
                    engine.id
                ),
            )
            .with_hint("the gateway's FHIR mapping engine has no structure map for this document's first templateId root, so the gateway refuses the document (/msg/validator) even when it is otherwise valid")
            .with_detail("template_id_root", template_root)
            .with_detail("engine", engine.id.as_str())
            .with_source("mongo-dump/engines.json.gzip"),
        )
    }

    /// [`Engines::check`] on the gateway's template root of `doc`: the `@root` of the first
    /// `templateId` element in document order (`CDAHelper.extractInfo`). The finding points at
    /// that element. `None` also when the document has no `templateId` (the gateway fails earlier,
    /// with HTTP 500, in that case).
    pub fn check_document(&self, doc: &roxmltree::Document<'_>) -> Option<Finding> {
        let t = first_template_id(doc)?;
        let root = t.attribute("root").unwrap_or("");
        let f = self.check(root)?;
        let (start, end) = crate::check::start_tag_span(t);
        Some(
            f.with_span(start, end)
                .with_xpath(fsecheck_xml::node_xpath(t)),
        )
    }
}

/// The first element named `templateId` in document order, as jsoup's `select("templateid")` on
/// its HTML parse finds it: name compared case-insensitively, unprefixed.
pub fn first_template_id<'a, 'input>(
    doc: &'a roxmltree::Document<'input>,
) -> Option<roxmltree::Node<'a, 'input>> {
    doc.descendants()
        .find(|n| crate::check::is_tag(*n, "templateId"))
}
