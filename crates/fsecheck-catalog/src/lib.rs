//! The catalog: a checkout (or snapshot) of ministero-salute/it-fse-catalogs.
//!
//! Which schematron and which schema set apply to a document is data here, read from the catalog's
//! Mongo dump exactly as the gateway reads its database:
//! - schematron: `mongo-dump/schematron.json.gzip`, records with `template_id_root` equal to the
//!   document's first `templateId/@root`, not deleted, `system` null (normal issuers), sorted by
//!   `version` **descending as a string**; the first wins;
//! - schema set: `schema/<typeId/@extension>/CDA.xsd`.

use serde::Deserialize;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

pub mod discover;
pub use discover::{discover, DiscoverError, Origin, ENV_VAR};

/// A problem with the catalog itself: a configuration error (exit code 2).
#[derive(Debug)]
pub struct CatalogError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for CatalogError {}

fn cerr(path: &Path, message: impl Into<String>) -> CatalogError {
    CatalogError {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// One record of the schematron collection.
#[derive(Debug, Clone)]
pub struct SchematronEntry {
    pub name: String,
    pub version: String,
    pub template_id_root: String,
    pub system: Option<String>,
    pub deleted: bool,
    pub last_update: Option<String>,
    content_b64: Option<String>,
}

/// A CDA schema set: `schema/<extension>/` with its root `CDA.xsd`.
#[derive(Debug, Clone)]
pub struct SchemaSet {
    pub type_id_extension: String,
    pub dir: PathBuf,
    pub files: Vec<String>,
}

/// Where the catalog came from.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// The git commit, when the catalog is a git checkout.
    pub commit: Option<String>,
    /// The newest `last_sync` date in the dumps (when the ministry last synchronised it).
    pub last_sync: Option<String>,
    /// A fingerprint of the mapping records and file sizes, stable across machines.
    pub fingerprint: String,
}

/// A loaded catalog. Cheap to share (`Send + Sync`, immutable).
#[derive(Debug, Clone)]
pub struct Catalog {
    pub root: PathBuf,
    pub schematrons: Vec<SchematronEntry>,
    pub schema_sets: Vec<SchemaSet>,
    pub provenance: Provenance,
}

#[derive(Deserialize)]
struct DateField {
    #[serde(rename = "$date")]
    date: String,
}

#[derive(Deserialize)]
struct Binary {
    #[serde(rename = "$binary")]
    binary: BinaryInner,
}

#[derive(Deserialize)]
struct BinaryInner {
    base64: String,
}

#[derive(Deserialize)]
struct RawSchematron {
    name_schematron: String,
    #[serde(default)]
    version: Option<String>,
    template_id_root: String,
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    last_update_date: Option<DateField>,
    #[serde(default)]
    last_sync: Option<DateField>,
    #[serde(default)]
    content_schematron: Option<Binary>,
}

pub(crate) fn read_gzip_json(path: &Path) -> Result<Vec<u8>, CatalogError> {
    const LIMIT: usize = 256 * 1024 * 1024;
    let gz = std::fs::read(path).map_err(|e| cerr(path, format!("cannot open: {e}")))?;
    // The gzip trailer ends with the uncompressed size (mod 2^32): allocate it once rather than
    // growing (and copying) the buffer while inflating.
    let size_hint = gz
        .last_chunk::<4>()
        .map_or(0, |b| u32::from_le_bytes(*b) as usize);
    let mut out = Vec::with_capacity(size_hint.min(LIMIT));
    flate2::read::GzDecoder::new(gz.as_slice())
        .take(LIMIT as u64)
        .read_to_end(&mut out)
        .map_err(|e| cerr(path, format!("not a readable gzip file: {e}")))?;
    Ok(out)
}

impl Catalog {
    /// Load the catalog at `root`. Missing or malformed mapping data is a [`CatalogError`].
    pub fn open(root: &Path) -> Result<Catalog, CatalogError> {
        if !root.is_dir() {
            return Err(cerr(root, "not a directory"));
        }
        let dump = root.join("mongo-dump").join("schematron.json.gzip");
        if !dump.is_file() {
            return Err(cerr(
                root,
                "this does not look like an it-fse-catalogs checkout: \
                 mongo-dump/schematron.json.gzip is missing",
            ));
        }
        let raw: Vec<RawSchematron> = serde_json::from_slice(&read_gzip_json(&dump)?)
            .map_err(|e| cerr(&dump, format!("unexpected content: {e}")))?;
        let mut last_sync: Option<String> = None;
        let mut schematrons = Vec::with_capacity(raw.len());
        for r in raw {
            if let Some(s) = &r.last_sync {
                if last_sync.as_deref().is_none_or(|l| l < s.date.as_str()) {
                    last_sync = Some(s.date.clone());
                }
            }
            schematrons.push(SchematronEntry {
                name: r.name_schematron,
                version: r.version.unwrap_or_default(),
                template_id_root: r.template_id_root,
                system: r.system,
                deleted: r.deleted,
                last_update: r.last_update_date.map(|d| d.date),
                content_b64: r.content_schematron.map(|b| b.binary.base64),
            });
        }
        let schema_dir = root.join("schema");
        let mut schema_sets = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&schema_dir) {
            for e in rd.flatten() {
                let dir = e.path();
                if !dir.join("CDA.xsd").is_file() {
                    continue;
                }
                let mut files: Vec<String> = std::fs::read_dir(&dir)
                    .map_err(|e| cerr(&dir, format!("cannot list: {e}")))?
                    .flatten()
                    .map(|f| f.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".xsd"))
                    .collect();
                files.sort();
                schema_sets.push(SchemaSet {
                    type_id_extension: e.file_name().to_string_lossy().into_owned(),
                    dir,
                    files,
                });
            }
        }
        schema_sets.sort_by(|a, b| a.type_id_extension.cmp(&b.type_id_extension));
        let mut catalog = Catalog {
            root: root.to_path_buf(),
            schematrons,
            schema_sets,
            provenance: Provenance {
                commit: git_commit(root),
                last_sync,
                fingerprint: String::new(),
            },
        };
        catalog.provenance.fingerprint = catalog.fingerprint();
        Ok(catalog)
    }

    /// The gateway's rule: active records for `root` and `system`, the greatest `version` compared
    /// as a string.
    pub fn select_schematron(&self, root: &str, system: Option<&str>) -> Option<&SchematronEntry> {
        self.schematrons
            .iter()
            .filter(|e| !e.deleted && e.template_id_root == root && e.system.as_deref() == system)
            .max_by(|a, b| a.version.cmp(&b.version))
    }

    /// The gateway's message when no schematron is mapped for `root`.
    pub fn schematron_not_found_message(root: &str, system: Option<&str>) -> String {
        match system {
            Some(s) => {
                format!("Schematron with template id root {root}|{s} not found on database.")
            }
            None => format!("Schematron with template id root {root} not found on database."),
        }
    }

    /// The schematron's text: the file in `schematron/` when present, else the dump's copy.
    pub fn schematron_text(
        &self,
        entry: &SchematronEntry,
    ) -> Result<(PathBuf, String), CatalogError> {
        let path = self.root.join("schematron").join(&entry.name);
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| cerr(&path, format!("cannot read: {e}")))?;
            return Ok((path, text));
        }
        use base64::Engine as _;
        let b64 = entry
            .content_b64
            .as_deref()
            .ok_or_else(|| cerr(&path, "missing, and the dump carries no content for it"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| cerr(&path, format!("dump content is not base64: {e}")))?;
        let text =
            String::from_utf8(bytes).map_err(|_| cerr(&path, "dump content is not UTF-8"))?;
        Ok((path, text))
    }

    /// The schema set for a `typeId/@extension`.
    pub fn schema_set(&self, extension: &str) -> Option<&SchemaSet> {
        self.schema_sets
            .iter()
            .find(|s| s.type_id_extension == extension)
    }

    /// Distinct active template roots with their selected schematron, sorted by root.
    pub fn mapping(&self) -> Vec<&SchematronEntry> {
        let mut roots: Vec<&str> = self
            .schematrons
            .iter()
            .filter(|e| !e.deleted && e.system.is_none())
            .map(|e| e.template_id_root.as_str())
            .collect();
        roots.sort();
        roots.dedup();
        roots
            .into_iter()
            .filter_map(|r| self.select_schematron(r, None))
            .collect()
    }

    fn fingerprint(&self) -> String {
        // FNV-1a over the mapping and the file sizes: cheap, stable, good enough for cache keys.
        let mut h: u64 = 0xcbf29ce484222325;
        let mut eat = |s: &str| {
            for b in s.bytes().chain([0u8]) {
                h ^= b as u64;
                h = h.wrapping_mul(0x100000001b3);
            }
        };
        for e in &self.schematrons {
            eat(&e.name);
            eat(&e.version);
            eat(&e.template_id_root);
            eat(if e.deleted { "d" } else { "a" });
            eat(e
                .content_b64
                .as_deref()
                .map_or("", |c| &c[..c.len().min(4096)]));
            eat(&e.content_b64.as_ref().map_or(0, |c| c.len()).to_string());
        }
        for s in &self.schema_sets {
            eat(&s.type_id_extension);
            for f in &s.files {
                eat(f);
                let len = std::fs::metadata(s.dir.join(f)).map_or(0, |m| m.len());
                eat(&len.to_string());
            }
        }
        format!("{h:016x}")
    }
}

/// The commit of a git checkout, read from `.git` without running git.
fn git_commit(root: &Path) -> Option<String> {
    let git = root.join(".git");
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref: ") else {
        return Some(head.to_string());
    };
    if let Ok(c) = std::fs::read_to_string(git.join(reference)) {
        return Some(c.trim().to_string());
    }
    let packed = std::fs::read_to_string(git.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (sha, name) = l.split_once(' ')?;
        (name == reference).then(|| sha.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(root: &str, version: &str, deleted: bool, system: Option<&str>) -> SchematronEntry {
        SchematronEntry {
            name: format!("s_{version}.sch"),
            version: version.into(),
            template_id_root: root.into(),
            system: system.map(Into::into),
            deleted,
            last_update: None,
            content_b64: None,
        }
    }

    #[test]
    fn selection_is_greatest_version_as_string_among_active() {
        let c = Catalog {
            root: PathBuf::new(),
            schematrons: vec![
                entry("r", "9.0", false, None),
                entry("r", "10.0", false, None),
                entry("r", "9.5", true, None),
                entry("r", "99", false, Some("TS")),
            ],
            schema_sets: vec![],
            provenance: Provenance::default(),
        };
        // "9.0" > "10.0" as strings: the gateway's sort.
        assert_eq!(c.select_schematron("r", None).unwrap().version, "9.0");
        assert_eq!(c.select_schematron("r", Some("TS")).unwrap().version, "99");
        assert!(c.select_schematron("x", None).is_none());
    }
}
