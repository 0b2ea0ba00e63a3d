//! `--cache DIR`: a record cache for incremental runs.
//!
//! A record is stored under a key that is a BLAKE3 hash of everything that can change it:
//!
//! - the run: tool version, cache format, the catalog (provenance fingerprint, git commit, and a
//!   hash of the content of every file of the catalog tree), every engine option (schematron
//!   override, gateway release, CDA mode, trust anchors, limits, `--metadata`/`--jwt`, …: the
//!   options' `Debug` text, so a new option is covered without touching this file) and the
//!   content of the `--schematron` file;
//! - the document: its bytes, and the content of its `X.json`/`X.jwt` sidecars with its path
//!   when it has sidecars (metadata findings name the sidecar's path).
//!
//! Only XML and PDF inputs are cached (request files and sidecars depend on files around them
//! and are cheap). A record with an `internal/*` finding is never stored.
//!
//! Layout: `DIR/v1/ab/abcdef….rec`, one file per key, sharded by the key's first byte. A file is
//! written to a temporary name in the same folder and renamed into place, so concurrent or
//! interrupted runs never leave a half-written entry; each entry also carries its length and a
//! CRC-32 of its body, and an entry that does not read back exactly (truncated, corrupt, foreign)
//! is a miss.
//!
//! Records are stored path-neutral (the record's and its findings' `path` empty) and get the
//! current path on a hit; `timing_ms` of a hit is `{"cache": ms}`. The checked text kept for
//! snippets and redaction (`report.source`) is rebuilt from the bytes for XML inputs and stored
//! beside the record for PDF inputs (the CDA extracted from the PDF); a hit that needs the text
//! of a PDF stored without it is a miss.

use fsecheck_catalog::Catalog;
use fsecheck_report::DocumentReport;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bumped whenever the entry format or the key material changes.
pub const FORMAT: u32 = 1;
const MAGIC: &str = "FSECHECK-CACHE/1";

/// A 32-byte cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub [u8; 32]);

impl Key {
    pub fn hex(&self) -> String {
        blake3::Hash::from(self.0).to_hex().to_string()
    }
}

/// What a hit gives back.
#[derive(Debug)]
pub struct Stored {
    /// The record, path-neutral.
    pub report: DocumentReport,
    /// The checked text, when it was stored: `Some(None)` = stored as absent.
    pub source: Option<Option<Arc<str>>>,
}

/// Counters of one run.
#[derive(Debug, Default)]
pub struct Stats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    /// Entries that existed but did not read back (treated as misses).
    pub corrupt: AtomicU64,
    /// Entries that could not be written (the run goes on).
    pub write_errors: AtomicU64,
}

/// The record cache of one run.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    run: [u8; 32],
    pub stats: Stats,
}

/// Hash of everything of a run that can change a record, except the document itself.
pub fn run_fingerprint(
    catalog: Option<&Catalog>,
    options: &crate::EngineOptions,
) -> Result<[u8; 32], String> {
    let mut h = blake3::Hasher::new();
    let mut field = |name: &str, value: &[u8]| {
        h.update(name.as_bytes());
        h.update(&(value.len() as u64).to_le_bytes());
        h.update(value);
    };
    field("format", &FORMAT.to_le_bytes());
    field("version", env!("CARGO_PKG_VERSION").as_bytes());
    if let Some(c) = catalog {
        field("catalog-fingerprint", c.provenance.fingerprint.as_bytes());
        field(
            "catalog-commit",
            c.provenance.commit.as_deref().unwrap_or("").as_bytes(),
        );
        field("catalog-content", &tree_digest(&c.root)?);
    }
    let mut opts = options.clone();
    // Whether the text is kept for snippets does not change the record.
    opts.keep_source = false;
    field("options", format!("{opts:?}").as_bytes());
    if let Some(p) = &options.schematron_override {
        let text = std::fs::read(p).map_err(|e| format!("--schematron {}: {e}", p.display()))?;
        field("schematron-override", &text);
    }
    Ok(*h.finalize().as_bytes())
}

/// Hash of the relative paths, sizes and content of every file under `root` (`.git` excluded),
/// in a stable order.
pub fn tree_digest(root: &Path) -> Result<[u8; 32], String> {
    let mut h = blake3::Hasher::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || e.file_name() != ".git");
    for e in walker {
        let e = e.map_err(|e| format!("catalog {}: {e}", root.display()))?;
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(root).unwrap_or(e.path());
        let bytes = std::fs::read(e.path())
            .map_err(|err| format!("catalog {}: {err}", e.path().display()))?;
        let name = rel.to_string_lossy();
        h.update(&(name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(*h.finalize().as_bytes())
}

/// Builds the key of one document.
pub struct KeyBuilder(blake3::Hasher);

impl KeyBuilder {
    pub fn part(&mut self, name: &str, value: &[u8]) -> &mut Self {
        self.0.update(name.as_bytes());
        self.0.update(&(value.len() as u64).to_le_bytes());
        self.0.update(value);
        self
    }

    pub fn finish(&self) -> Key {
        Key(*self.0.finalize().as_bytes())
    }
}

impl Cache {
    /// Open (create) the cache under `dir` for a run with this fingerprint.
    pub fn open(dir: &Path, run: [u8; 32]) -> Result<Cache, String> {
        let dir = dir.join(format!("v{FORMAT}"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("--cache {}: cannot create: {e}", dir.display()))?;
        Ok(Cache {
            dir,
            run,
            stats: Stats::default(),
        })
    }

    /// A key builder seeded with the run's fingerprint.
    pub fn key(&self) -> KeyBuilder {
        KeyBuilder(blake3::Hasher::new_keyed(&self.run))
    }

    fn file(&self, key: &Key) -> PathBuf {
        let hex = key.hex();
        self.dir.join(&hex[..2]).join(format!("{}.rec", &hex[2..]))
    }

    /// The stored record for `key`, if there is a sound one.
    pub fn get(&self, key: &Key) -> Option<Stored> {
        let bytes = match std::fs::read(self.file(key)) {
            Ok(b) => b,
            Err(_) => {
                self.stats.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        match decode(&bytes) {
            Some(s) => {
                self.stats.hits.fetch_add(1, Ordering::Relaxed);
                Some(s)
            }
            None => {
                self.stats.corrupt.fetch_add(1, Ordering::Relaxed);
                self.stats.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Count a lookup that turned into a miss after all (a stored PDF without its text).
    pub fn count_miss_after_hit(&self) {
        self.stats.hits.fetch_sub(1, Ordering::Relaxed);
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Store `report` under `key`: path-neutral, written atomically. `source`: the checked text
    /// to store with it (`None`: not stored; `Some(None)`: stored as absent). Errors are counted
    /// and otherwise ignored: a cache that cannot be written only makes the next run slower.
    pub fn put(&self, key: &Key, report: &DocumentReport, source: Option<Option<&str>>) {
        if report
            .findings
            .iter()
            .any(|f| f.id.starts_with("internal/"))
        {
            return;
        }
        if self.write(key, report, source).is_err() {
            self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn write(
        &self,
        key: &Key,
        report: &DocumentReport,
        source: Option<Option<&str>>,
    ) -> std::io::Result<()> {
        let mut neutral = report.clone();
        neutral.source = None;
        neutral.timing_ms.clear();
        for f in &mut neutral.findings {
            if f.location.path == report.path {
                f.location.path.clear();
            }
        }
        neutral.path.clear();
        let json = serde_json::to_vec(&neutral)?;
        let src = source.map(|s| s.unwrap_or_default().as_bytes());
        let mut body_hash = crc32fast::Hasher::new();
        body_hash.update(&json);
        if let Some(s) = src {
            body_hash.update(s);
        }
        let src_field = match source {
            None => "-".to_string(),
            Some(None) => "none".to_string(),
            Some(Some(s)) => s.len().to_string(),
        };
        let header = format!(
            "{MAGIC} {:08x} {} {src_field}\n",
            body_hash.finalize(),
            json.len()
        );
        let path = self.file(key);
        let folder = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(folder)?;
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let tmp = folder.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(header.as_bytes())?;
            f.write_all(&json)?;
            if let Some(s) = src {
                f.write_all(s)?;
            }
            drop(f);
            std::fs::rename(&tmp, &path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

fn decode(bytes: &[u8]) -> Option<Stored> {
    let nl = bytes.iter().position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..nl]).ok()?;
    let body = &bytes[nl + 1..];
    let mut parts = header.split(' ');
    if parts.next()? != MAGIC {
        return None;
    }
    let hash = parts.next()?;
    let json_len: usize = parts.next()?.parse().ok()?;
    let src_field = parts.next()?;
    if parts.next().is_some() || json_len > body.len() {
        return None;
    }
    if format!("{:08x}", crc32fast::hash(body)) != hash {
        return None;
    }
    let (json, rest) = body.split_at(json_len);
    let source = match src_field {
        "-" if rest.is_empty() => None,
        "none" if rest.is_empty() => Some(None),
        n => {
            let n: usize = n.parse().ok()?;
            if n != rest.len() {
                return None;
            }
            Some(Some(Arc::from(std::str::from_utf8(rest).ok()?)))
        }
    };
    let report: DocumentReport = serde_json::from_slice(json).ok()?;
    Some(Stored { report, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fsecheck_core::{Finding, Stage};
    use fsecheck_report::Kind;

    fn report(path: &str) -> DocumentReport {
        let mut r = DocumentReport::new(path, Kind::Xml);
        let mut f = Finding::error("xml/not-well-formed", Stage::Xml, "bad");
        f.location.path = path.into();
        r.findings.push(f);
        r.timing_ms.insert("parse".into(), 1.5);
        r.finish();
        r
    }

    #[test]
    fn round_trip_is_path_neutral_and_keys_differ() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), [7; 32]).unwrap();
        let k1 = cache.key().part("doc", b"<a/>").finish();
        let k2 = cache.key().part("doc", b"<b/>").finish();
        assert_ne!(k1, k2);
        let other_run = Cache::open(dir.path(), [8; 32]).unwrap();
        assert_ne!(other_run.key().part("doc", b"<a/>").finish(), k1);
        assert!(cache.get(&k1).is_none());
        cache.put(&k1, &report("x/a.xml"), None);
        let s = cache.get(&k1).unwrap();
        assert_eq!(s.report.path, "");
        assert_eq!(s.report.findings[0].location.path, "");
        assert!(s.report.timing_ms.is_empty());
        assert!(s.source.is_none());
        cache.put(&k2, &report("b.pdf"), Some(Some("<ClinicalDocument/>")));
        assert_eq!(
            cache.get(&k2).unwrap().source.unwrap().as_deref(),
            Some("<ClinicalDocument/>")
        );
        assert_eq!(cache.stats.hits.load(Ordering::Relaxed), 2);
        assert_eq!(cache.stats.misses.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn corrupt_entries_are_misses_and_internal_findings_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), [1; 32]).unwrap();
        let k = cache.key().part("doc", b"x").finish();
        cache.put(&k, &report("a.xml"), None);
        let file = cache.file(&k);
        let good = std::fs::read(&file).unwrap();
        // Truncated, one byte flipped, empty, garbage: all misses.
        for bad in [
            good[..good.len() - 3].to_vec(),
            {
                let mut b = good.clone();
                let n = b.len() - 5;
                b[n] ^= 1;
                b
            },
            vec![],
            b"not a cache entry".to_vec(),
        ] {
            std::fs::write(&file, &bad).unwrap();
            assert!(cache.get(&k).is_none());
        }
        assert_eq!(cache.stats.corrupt.load(Ordering::Relaxed), 4);
        // No temporary files are left behind.
        cache.put(&k, &report("a.xml"), None);
        let left: Vec<_> = std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
            .collect();
        assert!(left.is_empty());

        let mut r = report("p.xml");
        r.findings
            .push(Finding::error("internal/panic", Stage::Internal, "boom"));
        let k3 = cache.key().part("doc", b"y").finish();
        cache.put(&k3, &r, None);
        assert!(cache.get(&k3).is_none());
    }

    #[test]
    fn the_catalog_digest_follows_content() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        std::fs::write(d.join("sub/a.csv"), "1,2").unwrap();
        let a = tree_digest(d).unwrap();
        std::fs::write(d.join(".git/HEAD"), "x").unwrap();
        assert_eq!(tree_digest(d).unwrap(), a, ".git is not content");
        std::fs::write(d.join("sub/a.csv"), "1,3").unwrap();
        assert_ne!(tree_digest(d).unwrap(), a);
    }
}
