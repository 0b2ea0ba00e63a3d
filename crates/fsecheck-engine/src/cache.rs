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
//! A document's key needs its bytes; a file the file index ([`crate::file_index`]) knows
//! unchanged by its file-system facts is not read for it.
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

use crate::file_index::FileIndex;
use fsecheck_catalog::Catalog;
use fsecheck_report::DocumentReport;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

/// Bumped whenever the entry format or the key material changes.
pub const FORMAT: u32 = 2;
const MAGIC: &str = "FSECHECK-CACHE/2";
/// Stands for the document's path while a record is rendered for storage (no path and no
/// message can hold a NUL).
const PATH_MARK: &str = "\u{0}fsecheck:path\u{0}";
/// [`PATH_MARK`] as `serde_json` writes it.
const PATH_MARK_JSON: &[u8] = br#""\u0000fsecheck:path\u0000""#;
/// How every stored record's JSON ends: the timings, cleared.
const TIMING_TAIL: &[u8] = br#","timing_ms":{}}"#;

/// A 32-byte cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub [u8; 32]);

impl Key {
    pub fn hex(&self) -> String {
        blake3::Hash::from(self.0).to_hex().to_string()
    }
}

/// What a hit gives back: the stored record, read on demand ([`Stored::record`]).
#[derive(Debug)]
pub struct Stored {
    /// What a summary reads of the record (findings cut down to id, severity and stage).
    summary: DocumentReport,
    /// The record's JSON, path-neutral.
    json: Vec<u8>,
    /// Offsets in `json` of the empty path strings' contents (between their quotes) that stand
    /// for the document's path; `None` when they could not be told apart at storage.
    paths: Option<Vec<usize>>,
    /// The checked text, when it was stored: `Some(None)` = stored as absent.
    pub source: Option<Option<Arc<str>>>,
    /// [`CacheOptions::summary_only`].
    summary_only: bool,
}

impl Stored {
    pub fn kind(&self) -> fsecheck_report::Kind {
        self.summary.kind
    }

    /// The record of the document at `path`, with `timing_ms` = `{"cache": cache_ms}` and, when
    /// the stored JSON can be rendered for this path, that JSON in [`DocumentReport::rendered`].
    /// With [`CacheOptions::summary_only`], the record's findings are cut down (and the JSON is
    /// required). `None` if the stored record does not read back.
    pub fn record(self, path: &str, cache_ms: f64) -> Option<DocumentReport> {
        let rendered = self
            .paths
            .as_ref()
            .and_then(|p| render(&self.json, p, path, cache_ms));
        let mut r = if self.summary_only {
            rendered.as_ref()?;
            self.summary
        } else if let Some(json) = &rendered {
            serde_json::from_str(std::str::from_utf8(json).ok()?).ok()?
        } else {
            // No places for the path: findings without a path get the document's.
            let mut r: DocumentReport =
                serde_json::from_str(std::str::from_utf8(&self.json).ok()?).ok()?;
            for f in &mut r.findings {
                if f.location.path.is_empty() {
                    f.location.path = path.to_string();
                }
            }
            r
        };
        r.path = path.to_string();
        r.timing_ms = [("cache".to_string(), cache_ms)].into();
        r.rendered = rendered;
        Some(r)
    }
}

/// The JSON `serde_json` writes for the stored record (`json`, path-neutral) with `path` at the
/// offsets `paths` and `timing_ms` = `{"cache": cache_ms}`.
fn render(json: &[u8], paths: &[usize], path: &str, cache_ms: f64) -> Option<Box<[u8]>> {
    let quoted = serde_json::to_vec(path).ok()?;
    let escaped = &quoted[1..quoted.len() - 1];
    let body = json.strip_suffix(b"{}}")?;
    let mut out = Vec::with_capacity(json.len() + paths.len() * escaped.len() + 24);
    let mut last = 0;
    for &at in paths {
        out.extend_from_slice(body.get(last..at)?);
        out.extend_from_slice(escaped);
        last = at;
    }
    out.extend_from_slice(body.get(last..)?);
    out.extend_from_slice(br#"{"cache":"#);
    out.extend_from_slice(&serde_json::to_vec(&cache_ms).ok()?);
    out.extend_from_slice(b"}}");
    Some(out.into_boxed_slice())
}

/// Counters of one run.
#[derive(Debug, Default)]
pub struct Stats {
    pub hits: AtomicU64,
    /// Hits whose key came from the file index (the document was not read).
    pub unchanged: AtomicU64,
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
    /// Keys of unchanged files by their file-system facts; `None` with `--cache-rehash`.
    index: Option<FileIndex>,
    summary_only: bool,
}

/// How a run uses its cache folder.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheOptions {
    /// Read and hash every document, even those the file index knows unchanged.
    pub rehash: bool,
    /// Hits carry their JSON ([`DocumentReport::rendered`]) and a record whose findings are cut
    /// down to id, severity and stage (no messages, hints, locations, details): enough for a
    /// run's summary and the audit. For runs whose outputs write the rendered JSON or read no
    /// finding text; it spares parsing every stored record.
    pub summary_only: bool,
}

/// Hash of everything of a run that can change a record, except the document itself.
///
/// With `cache_dir`, the digest of the catalog's files is remembered there by their file-system
/// facts ([`crate::file_index::remembered_digest`]), so an unchanged catalog is not read again.
pub fn run_fingerprint(
    catalog: Option<&Catalog>,
    options: &crate::EngineOptions,
    cache_dir: Option<(&Path, SystemTime)>,
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
        let digest = match cache_dir {
            Some((dir, started)) => {
                let root = std::path::absolute(&c.root).unwrap_or_else(|_| c.root.clone());
                let name = blake3::hash(root.as_os_str().as_encoded_bytes()).to_hex();
                let memo = dir
                    .join(format!("v{FORMAT}"))
                    .join("catalog")
                    .join(&name[..32]);
                crate::file_index::remembered_digest(&c.root, &memo, started, || {
                    tree_digest(&c.root)
                })?
            }
            None => tree_digest(&c.root)?,
        };
        field("catalog-content", &digest);
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

/// What [`prune`] removed and kept (files, bytes).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub removed: u64,
    pub removed_bytes: u64,
    pub kept: u64,
    pub kept_bytes: u64,
}

/// Temporary files of writes still in progress are left alone this long.
const TMP_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Trim the cache folder `dir` (as given to `--cache`): remove the entries, file indexes and
/// catalog memos last used before `cutoff` (reading marks them used, at most once a day; a
/// document whose entry went is checked once more and stored again), the folders of other cache formats (`vN`), and temporary files left
/// by interrupted runs. Only files inside `dir/vN` folders are touched; links are not followed.
/// With `dry_run`, nothing is removed and the counts say what would be.
pub fn prune(dir: &Path, cutoff: SystemTime, dry_run: bool) -> std::io::Result<Pruned> {
    let mut pruned = Pruned::default();
    let tmp_cutoff = SystemTime::now()
        .checked_sub(TMP_GRACE)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    for top in std::fs::read_dir(dir)? {
        let top = top?;
        let name = top.file_name();
        let Some(version) = name
            .to_str()
            .and_then(|n| n.strip_prefix('v'))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if !top.file_type()?.is_dir() {
            continue;
        }
        for e in walkdir::WalkDir::new(top.path()).contents_first(true) {
            let e = e.map_err(std::io::Error::other)?;
            let meta = e.metadata().map_err(std::io::Error::other)?;
            if e.file_type().is_dir() {
                // Empty folders of another format go too.
                if version != FORMAT && !dry_run {
                    let _ = std::fs::remove_dir(e.path());
                }
                continue;
            }
            let written = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let temporary = e.file_name().to_string_lossy().starts_with(".tmp");
            let stale = version != FORMAT
                || if temporary {
                    written < tmp_cutoff
                } else {
                    written < cutoff
                };
            if stale {
                if !dry_run {
                    std::fs::remove_file(e.path())?;
                }
                pruned.removed += 1;
                pruned.removed_bytes += meta.len();
            } else {
                pruned.kept += 1;
                pruned.kept_bytes += meta.len();
            }
        }
    }
    Ok(pruned)
}

/// Hash of the relative paths, sizes and content of every file under `root` (`.git` excluded),
/// in a stable order.
pub fn tree_digest(root: &Path) -> Result<[u8; 32], String> {
    let mut h = blake3::Hasher::new();
    for e in crate::file_index::tree_walk(root) {
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
        Self::open_with(dir, run, CacheOptions::default(), SystemTime::now())
    }

    /// [`Cache::open`] with options, for a run that started at `started` (files whose facts are
    /// younger than that, minus [`crate::file_index::MARGIN`], are not remembered unchanged).
    pub fn open_with(
        dir: &Path,
        run: [u8; 32],
        options: CacheOptions,
        started: SystemTime,
    ) -> Result<Cache, String> {
        let dir = dir.join(format!("v{FORMAT}"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("--cache {}: cannot create: {e}", dir.display()))?;
        let index = (!options.rehash).then(|| {
            let name = format!("{}.idx", blake3::Hash::from(run).to_hex());
            FileIndex::open(dir.join("index").join(name), started)
        });
        Ok(Cache {
            dir,
            run,
            stats: Stats::default(),
            index,
            summary_only: options.summary_only,
        })
    }

    /// The file index, unless `--cache-rehash`.
    pub fn index(&self) -> Option<&FileIndex> {
        self.index.as_ref()
    }

    /// Write what the file index learned in this run (see [`FileIndex::save`]).
    pub fn save_index(&self) -> std::io::Result<()> {
        self.index.as_ref().map_or(Ok(()), FileIndex::save)
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
        let bytes = match read_entry(&self.file(key)) {
            Ok(b) => b,
            Err(_) => {
                self.stats.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        match decode(&bytes, self.summary_only) {
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

    /// [`Cache::get`] for a key remembered by the file index: a hit is counted, an absent or
    /// unsound entry is not a miss yet (the document is then read and looked up by its bytes).
    pub fn get_remembered(&self, key: &Key) -> Option<Stored> {
        let stored = decode(&read_entry(&self.file(key)).ok()?, self.summary_only)?;
        self.stats.hits.fetch_add(1, Ordering::Relaxed);
        self.stats.unchanged.fetch_add(1, Ordering::Relaxed);
        Some(stored)
    }

    /// A hit of [`Cache::get_remembered`] that turned into a miss after all (the checked text
    /// was needed and could not be had).
    pub fn count_remembered_miss(&self) {
        self.stats.hits.fetch_sub(1, Ordering::Relaxed);
        self.stats.unchanged.fetch_sub(1, Ordering::Relaxed);
    }

    /// Count a lookup that turned into a miss after all (a stored PDF without its text).
    pub fn count_miss_after_hit(&self) {
        self.stats.hits.fetch_sub(1, Ordering::Relaxed);
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Store `report` under `key`: path-neutral, written atomically. `source`: the checked text
    /// to store with it (`None`: not stored; `Some(None)`: stored as absent). Errors are counted
    /// and otherwise ignored: a cache that cannot be written only makes the next run slower.
    /// Returns whether the entry was stored.
    pub fn put(&self, key: &Key, report: &DocumentReport, source: Option<Option<&str>>) -> bool {
        if report
            .findings
            .iter()
            .any(|f| f.id.starts_with("internal/"))
        {
            return false;
        }
        if self.write(key, report, source).is_err() {
            self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn write(
        &self,
        key: &Key,
        report: &DocumentReport,
        source: Option<Option<&str>>,
    ) -> std::io::Result<()> {
        let (json, paths) = neutral_json(report)?;
        let summary = serde_json::to_vec(&SummaryView::of(report))?;
        let paths_field = match &paths {
            None => "-".to_string(),
            Some(p) if p.is_empty() => "0".to_string(),
            Some(p) => p.iter().map(usize::to_string).collect::<Vec<_>>().join(","),
        };
        let src = source.map(|s| s.unwrap_or_default().as_bytes());
        let mut body_hash = crc32fast::Hasher::new();
        body_hash.update(paths_field.as_bytes());
        body_hash.update(&summary);
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
            "{MAGIC} {:08x} {} {} {src_field} {paths_field}\n",
            body_hash.finalize(),
            summary.len(),
            json.len()
        );
        let mut parts: Vec<&[u8]> = vec![header.as_bytes(), &summary, &json];
        parts.extend(src);
        crate::file_index::write_atomically(&self.file(key), &parts)
    }
}

/// The record's JSON, path-neutral (its path, and its findings' paths equal to it, empty;
/// no timings), and the offsets of those empty paths' contents when they could all be told apart
/// (always, unless a path string is not the record's and still reads like the mark).
fn neutral_json(report: &DocumentReport) -> std::io::Result<(Vec<u8>, Option<Vec<usize>>)> {
    let mut neutral = report.clone();
    neutral.source = None;
    neutral.rendered = None;
    neutral.timing_ms.clear();
    let mut marked = 1;
    for f in &mut neutral.findings {
        if f.location.path == report.path {
            f.location.path = PATH_MARK.into();
            marked += 1;
        }
    }
    neutral.path = PATH_MARK.into();
    let with_marks = serde_json::to_vec(&neutral)?;
    let mut json = Vec::with_capacity(with_marks.len());
    let mut paths = Vec::with_capacity(marked);
    let mut last = 0;
    for at in memchr::memmem::find_iter(&with_marks, PATH_MARK_JSON) {
        json.extend_from_slice(&with_marks[last..at]);
        json.push(b'"');
        paths.push(json.len());
        json.push(b'"');
        last = at + PATH_MARK_JSON.len();
    }
    json.extend_from_slice(&with_marks[last..]);
    let sound = paths.len() == marked && json.ends_with(TIMING_TAIL);
    Ok((json, sound.then_some(paths)))
}

/// What [`CacheOptions::summary_only`] reads of a stored record, stored beside it: the record
/// with its findings cut down to id, severity and stage.
#[derive(serde::Serialize, serde::Deserialize)]
struct SummaryView {
    kind: fsecheck_report::Kind,
    size: u64,
    doc_type: Option<String>,
    schematron: Option<String>,
    schema_set: Option<String>,
    verdict: fsecheck_report::Verdict,
    gateway: Option<fsecheck_report::GatewayVerdict>,
    cda: Option<fsecheck_report::CdaSummary>,
    findings: Vec<FindingView>,
    signatures: Vec<serde_json::Value>,
    pdf: Option<serde_json::Value>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct FindingView {
    id: String,
    severity: fsecheck_core::Severity,
    stage: fsecheck_core::Stage,
}

impl SummaryView {
    fn of(r: &DocumentReport) -> SummaryView {
        SummaryView {
            kind: r.kind,
            size: r.size,
            doc_type: r.doc_type.clone(),
            schematron: r.schematron.clone(),
            schema_set: r.schema_set.clone(),
            verdict: r.verdict,
            gateway: r.gateway.clone(),
            cda: r.cda.clone(),
            findings: r
                .findings
                .iter()
                .map(|f| FindingView {
                    id: f.id.clone(),
                    severity: f.severity,
                    stage: f.stage,
                })
                .collect(),
            signatures: r.signatures.clone(),
            pdf: r.pdf.clone(),
        }
    }

    fn report(self) -> DocumentReport {
        let mut r = DocumentReport::new(String::new(), self.kind);
        r.size = self.size;
        r.doc_type = self.doc_type;
        r.schematron = self.schematron;
        r.schema_set = self.schema_set;
        r.verdict = self.verdict;
        r.gateway = self.gateway;
        r.cda = self.cda;
        r.findings = self
            .findings
            .into_iter()
            .map(|f| fsecheck_core::Finding::new(f.id, f.severity, f.stage, String::new()))
            .collect();
        r.signatures = self.signatures;
        r.pdf = self.pdf;
        r
    }
}

/// Read an entry: as `std::fs::read`, without asking the file's size first and without the
/// last read that finds the end, when the header tells the length (two system calls fewer per
/// entry; a cached run reads one entry per document).
fn read_entry(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path)?;
    crate::file_index::refresh(&f);
    let mut buf = vec![0; 32 * 1024];
    let mut len = 0;
    let mut expected: Option<usize> = None;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match f.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        len += n;
        if expected.is_none() {
            expected = entry_length(&buf[..len]);
        }
        if expected.is_some_and(|e| len >= e) {
            break;
        }
    }
    buf.truncate(len);
    Ok(buf)
}

/// The whole length of an entry, from its header line (when it reads as one).
fn entry_length(head: &[u8]) -> Option<usize> {
    let nl = head.iter().position(|&b| b == b'\n')?;
    let mut parts = std::str::from_utf8(&head[..nl]).ok()?.split(' ');
    if parts.next()? != MAGIC {
        return None;
    }
    parts.next()?;
    let summary: usize = parts.next()?.parse().ok()?;
    let json: usize = parts.next()?.parse().ok()?;
    let source: usize = match parts.next()? {
        "-" | "none" => 0,
        n => n.parse().ok()?,
    };
    (nl + 1)
        .checked_add(summary)?
        .checked_add(json)?
        .checked_add(source)
}

fn decode(bytes: &[u8], summary_only: bool) -> Option<Stored> {
    let nl = bytes.iter().position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..nl]).ok()?;
    let body = &bytes[nl + 1..];
    let mut parts = header.split(' ');
    if parts.next()? != MAGIC {
        return None;
    }
    let hash = parts.next()?;
    let summary_len: usize = parts.next()?.parse().ok()?;
    let json_len: usize = parts.next()?.parse().ok()?;
    let src_field = parts.next()?;
    let paths_field = parts.next()?;
    if parts.next().is_some() || summary_len.checked_add(json_len)? > body.len() {
        return None;
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(paths_field.as_bytes());
    crc.update(body);
    if format!("{:08x}", crc.finalize()) != hash {
        return None;
    }
    let (summary, body) = body.split_at(summary_len);
    let (json, rest) = body.split_at(json_len);
    let paths = match paths_field {
        "-" => None,
        "0" => Some(Vec::new()),
        list => Some(
            list.split(',')
                .map(|n| n.parse().ok())
                .collect::<Option<Vec<usize>>>()?,
        ),
    };
    // Offsets that do not sit between two quotes, in order, are damage.
    if let Some(paths) = &paths {
        let mut prev = 0;
        for &at in paths {
            if at < prev.max(1) || json.get(at - 1) != Some(&b'"') || json.get(at) != Some(&b'"') {
                return None;
            }
            prev = at + 1;
        }
        if !json.ends_with(TIMING_TAIL) {
            return None;
        }
    }
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
    Some(Stored {
        summary: serde_json::from_slice::<SummaryView>(summary)
            .ok()?
            .report(),
        json: json.to_vec(),
        summary_only: summary_only && paths.is_some(),
        paths,
        source,
    })
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
        // Stored path-neutral, without timings.
        let neutral: DocumentReport = serde_json::from_slice(&s.json).unwrap();
        assert_eq!(neutral.path, "");
        assert!(neutral.findings[0].location.path.is_empty());
        assert!(neutral.timing_ms.is_empty());
        assert!(s.source.is_none());
        let r = s.record("y/a.xml", 2.0).unwrap();
        assert_eq!(r.path, "y/a.xml");
        assert_eq!(r.findings[0].location.path, "y/a.xml");
        assert_eq!(r.timing_ms, [("cache".to_string(), 2.0)].into());
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

    /// A record with findings at the document's path, at a sidecar's path and at none, and text
    /// that needs escaping.
    fn rich_report(path: &str) -> DocumentReport {
        let mut r = report(path);
        let mut side = Finding::warning("meta/x", Stage::Metadata, "sidecar \"quoted\" è");
        side.location.path = "other/side.json".into();
        side.details.insert("k".into(), "v\n\u{1}".into());
        r.findings.push(side);
        r.findings
            .push(Finding::info("term/y", Stage::Terminology, "no path"));
        r.doc_type = Some("LDO".into());
        r.pdf = Some(serde_json::json!({"gateway": {"signature_check": "valid"}}));
        r.finish();
        r
    }

    #[test]
    fn stored_json_renders_as_serde_writes_the_record_for_any_path() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), [3; 32]).unwrap();
        let k = cache.key().part("doc", b"<a/>").finish();
        assert!(cache.put(&k, &rich_report("first/a.xml"), None));
        for path in ["x/a.xml", "dir with \"quotes\"/è\\b.xml"] {
            let r = cache.get(&k).unwrap().record(path, 0.25).unwrap();
            let mut expected = rich_report(path);
            expected.timing_ms = [("cache".to_string(), 0.25)].into();
            let rendered = r.rendered.clone().unwrap();
            assert_eq!(
                std::str::from_utf8(&rendered).unwrap(),
                serde_json::to_string(&expected).unwrap()
            );
            // The record read back is the original too (a finding without a path keeps none).
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                serde_json::to_string(&expected).unwrap()
            );
        }
    }

    #[test]
    fn summary_only_records_keep_what_summaries_and_audits_read() {
        let dir = tempfile::tempdir().unwrap();
        let run = [4; 32];
        let full = Cache::open(dir.path(), run).unwrap();
        let k = full.key().part("doc", b"<a/>").finish();
        let original = rich_report("a.xml");
        full.put(&k, &original, None);
        let options = CacheOptions {
            summary_only: true,
            ..Default::default()
        };
        let thin = Cache::open_with(dir.path(), run, options, SystemTime::now()).unwrap();
        let stored = thin.get(&k).unwrap();
        assert!(stored.summary_only);
        let r = stored.record("a.xml", 0.5).unwrap();
        assert!(r.rendered.is_some());
        assert_eq!(r.verdict, original.verdict);
        assert_eq!(r.doc_type, original.doc_type);
        assert_eq!(r.pdf, original.pdf);
        let ids: Vec<_> = r
            .findings
            .iter()
            .map(|f| (&f.id, f.severity, f.stage))
            .collect();
        let want: Vec<_> = original
            .findings
            .iter()
            .map(|f| (&f.id, f.severity, f.stage))
            .collect();
        assert_eq!(ids, want);
        assert!(r.findings.iter().all(|f| f.message.is_empty()));
        let mut summary = fsecheck_report::Summary::default();
        summary.add(&r);
        let mut expected = fsecheck_report::Summary::default();
        expected.add(&original);
        assert_eq!(
            serde_json::to_value(&summary).unwrap(),
            serde_json::to_value(&expected).unwrap()
        );
        // Without summary-only, the same entry reads back whole.
        let whole = full.get(&k).unwrap().record("a.xml", 0.5).unwrap();
        assert_eq!(whole.findings[1].message, original.findings[1].message);
    }

    #[test]
    fn entries_are_read_to_their_declared_length() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), [5; 32]).unwrap();
        let k = cache.key().part("doc", b"x").finish();
        // Large enough to need more than one read.
        let mut r = rich_report("a.xml");
        r.findings[0].message = "m".repeat(100_000);
        cache.put(&k, &r, Some(Some(&"s".repeat(50_000))));
        let file = cache.file(&k);
        let bytes = read_entry(&file).unwrap();
        assert_eq!(bytes, std::fs::read(&file).unwrap());
        assert_eq!(entry_length(&bytes), Some(bytes.len()));
        let r = cache.get(&k).unwrap().record("a.xml", 1.0).unwrap();
        assert_eq!(r.findings[0].message.len(), 100_000);
    }

    #[test]
    fn prune_removes_old_entries_other_formats_and_stale_temporaries_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let cache = Cache::open(d, [6; 32]).unwrap();
        let keys: Vec<Key> = (0..4u8)
            .map(|i| cache.key().part("doc", &[i]).finish())
            .collect();
        for k in &keys {
            cache.put(k, &report("a.xml"), None);
        }
        let old = SystemTime::now() - std::time::Duration::from_secs(40 * 86_400);
        let age = |p: &Path| {
            std::fs::File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(old)
                .unwrap()
        };
        age(&cache.file(&keys[0]));
        age(&cache.file(&keys[1]));
        // An old entry that is read is marked used, and kept.
        age(&cache.file(&keys[3]));
        assert!(cache.get(&keys[3]).is_some());
        let used = std::fs::metadata(cache.file(&keys[3]))
            .unwrap()
            .modified()
            .unwrap();
        assert!(used > SystemTime::now() - std::time::Duration::from_secs(3600));
        // A fresh temporary (a write in progress) stays; an old one goes.
        let fresh_tmp = cache.file(&keys[2]).with_file_name(".tmp-1-1");
        let old_tmp = cache.file(&keys[2]).with_file_name(".tmp-1-2");
        std::fs::write(&fresh_tmp, b"x").unwrap();
        std::fs::write(&old_tmp, b"x").unwrap();
        age(&old_tmp);
        // Another format's folder goes whole; what is not a cache folder stays.
        std::fs::create_dir_all(d.join("v1/ab")).unwrap();
        std::fs::write(d.join("v1/ab/x.rec"), b"old format").unwrap();
        std::fs::write(d.join("notes.txt"), b"mine").unwrap();
        let cutoff = SystemTime::now() - std::time::Duration::from_secs(30 * 86_400);
        let dry = prune(d, cutoff, true).unwrap();
        assert_eq!((dry.removed, dry.kept), (4, 3));
        assert!(cache.file(&keys[0]).exists(), "a dry run removes nothing");
        let done = prune(d, cutoff, false).unwrap();
        assert_eq!(done, dry);
        assert!(cache.get(&keys[0]).is_none());
        assert!(cache.get(&keys[1]).is_none());
        assert!(cache.get(&keys[2]).is_some() && cache.get(&keys[3]).is_some());
        assert!(fresh_tmp.exists() && !old_tmp.exists());
        assert!(!d.join("v1").exists());
        assert!(d.join("notes.txt").exists());
        // Everything (cutoff in the future).
        let all = prune(
            d,
            SystemTime::now() + std::time::Duration::from_secs(60),
            false,
        )
        .unwrap();
        assert_eq!(all.kept, 1, "only the fresh temporary is left");
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
