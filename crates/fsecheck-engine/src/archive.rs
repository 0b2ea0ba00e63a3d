//! Zip archives as input. A file whose *content* is a zip archive (`PK\x03\x04`, or the empty
//! archive's `PK\x05\x06`) is expanded into its entries; each entry is an input of its own,
//! reported as `archive.zip!/dir/file.pdf` and checked like a file (sniffed by content).
//!
//! Zip bombs are refused by limits ([`ArchiveLimits`]) checked twice: on the sizes the central
//! directory declares, before anything is inflated (entry count, per-entry size, total size,
//! compression ratio), and while inflating, where the declared size of an entry is a hard cap:
//! an entry that inflates past it is cut off there and reported, so every limit checked on the
//! declared sizes holds for the bytes actually produced. An entry is never held in memory beyond
//! `min(declared size, per-entry limit) + 1` bytes. Violations are findings on the archive or on
//! the entry; the run goes on.
//!
//! The central directory is parsed once per archive and shared by all its entries
//! ([`zip::ZipArchive`] is cheap to clone); entries read the file by absolute offsets, so workers
//! read entries of one archive in parallel without sharing a file cursor.
//!
//! Nested archives (a zip inside a zip) are not expanded: such an entry gets an
//! `input/archive-nested` finding. Sidecars (`X.json`/`X.jwt`) are not looked for inside
//! archives.

use crate::input::Input;
use fsecheck_core::{Finding, Stage};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

/// Is this the start of a zip archive (a local file header, or the end record of an empty one)?
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Limits against zip bombs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Most entries in one archive (directories included).
    pub max_entries: usize,
    /// Largest uncompressed entry (by default the same as `--max-size` for files).
    pub max_entry_size: u64,
    /// Largest sum of the uncompressed sizes of the entries checked from one archive.
    pub max_total_size: u64,
    /// Largest uncompressed/compressed ratio of an entry (for entries above 1 MiB).
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_entries: 100_000,
            max_entry_size: 64 * 1024 * 1024,
            max_total_size: 4 * 1024 * 1024 * 1024,
            max_ratio: 100,
        }
    }
}

/// Entries up to this size are not held to the ratio limit: small files of repeated markup
/// compress very well and are harmless.
pub const RATIO_GRACE: u64 = 1024 * 1024;

/// A reader over a shared open file that reads by absolute offset, so that clones (one per
/// worker) read independently.
#[derive(Debug, Clone)]
struct SharedFile {
    file: Arc<File>,
    len: u64,
    pos: u64,
}

impl SharedFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_at(&*self.file, buf, offset)
        }
        #[cfg(windows)]
        {
            std::os::windows::fs::FileExt::seek_read(&*self.file, buf, offset)
        }
    }
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.len {
            return Ok(0);
        }
        let want = buf
            .len()
            .min((self.len - self.pos).min(usize::MAX as u64) as usize);
        let n = self.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let next = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match next {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the archive",
            )),
        }
    }
}

/// An archive opened once: its central directory, shared by all its entries.
pub struct Archive {
    zip: ZipArchive<SharedFile>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("entries", &self.zip.len())
            .finish()
    }
}

/// One entry of an archive: an input of its own.
#[derive(Debug, Clone)]
pub struct Entry {
    pub archive: Arc<Archive>,
    /// Index in the archive's central directory.
    pub index: usize,
    /// The displayed path: `archive.zip!/dir/file.pdf`.
    pub path: PathBuf,
    /// Uncompressed size, as declared.
    pub size: u64,
    /// Compressed size, as declared (the reader never reads more than this).
    pub compressed: u64,
    pub encrypted: bool,
    pub method: CompressionMethod,
}

fn is_hidden_name(name: &str) -> bool {
    name.split(['/', '\\'])
        .any(|c| c.starts_with('.') && c != "." && c != "..")
}

fn finding(id: &str, message: String, hint: &str) -> Finding {
    Finding::error(id, Stage::Input, message).with_hint(hint)
}

fn problem(path: &Path, f: Finding) -> Input {
    Input::Problem {
        path: path.to_path_buf(),
        finding: Box::new(f),
    }
}

fn zip_error(e: &ZipError) -> Finding {
    match e {
        ZipError::UnsupportedArchive(what) => finding(
            "input/archive-unsupported",
            format!("unsupported zip archive: {what}"),
            "Only plain (unencrypted, single-disk) zip archives with stored or deflated entries \
             are read. Re-create the archive with a standard zip tool.",
        ),
        other => finding(
            "input/archive-corrupt",
            format!("cannot read the zip archive: {other}"),
            "The archive is damaged or truncated. Re-create or re-download it.",
        ),
    }
}

/// Does this file start like a zip archive?
fn file_is_zip(path: &Path) -> bool {
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    is_zip(&head[..n])
}

/// Is this file named as a document (`.xml`, `.pdf`, any case)? Such a file is checked as the
/// document its name says, never expanded (a zip archive so named fails as that document); the
/// others are opened to see whether they are zip archives, whatever their names.
fn named_as_document(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml") || e.eq_ignore_ascii_case("pdf"))
}

/// Replace every file whose content is a zip archive by its entries (or by one input carrying
/// the archive's finding), then sort everything by path again; files named as documents are
/// not looked into (see [`named_as_document`]). Directories inside archives are skipped, and so
/// are hidden entries (a path component starting with '.') unless `hidden`.
pub fn expand_archives(inputs: Vec<Input>, limits: &ArchiveLimits, hidden: bool) -> Vec<Input> {
    use rayon::prelude::*;
    let zips: Vec<bool> = inputs
        .par_iter()
        .map(|i| matches!(i, Input::File(p) if !named_as_document(p) && file_is_zip(p)))
        .collect();
    if !zips.contains(&true) {
        return inputs;
    }
    let mut out = Vec::with_capacity(inputs.len());
    for (input, zip) in inputs.into_iter().zip(zips) {
        match input {
            Input::File(p) if zip => out.extend(expand(&p, limits, hidden)),
            other => out.push(other),
        }
    }
    crate::input::sort_inputs(&mut out);
    out
}

/// The inputs of one archive.
pub fn expand(path: &Path, limits: &ArchiveLimits, hidden: bool) -> Vec<Input> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return vec![crate::input::unreadable(path, &e)],
    };
    let len = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return vec![crate::input::unreadable(path, &e)],
    };
    let reader = SharedFile {
        file: Arc::new(file),
        len,
        pos: 0,
    };
    let zip = match ZipArchive::new(reader) {
        Ok(z) => z,
        Err(e) => return vec![problem(path, zip_error(&e))],
    };
    if zip.len() > limits.max_entries {
        return vec![problem(
            path,
            finding(
                "input/archive-too-many-entries",
                format!(
                    "the archive has {} entries, more than the limit of {}: not expanded",
                    zip.len(),
                    limits.max_entries
                ),
                "A safety limit against zip bombs; raise --archive-max-entries if the archive is \
                 genuine, or split it.",
            ),
        )];
    }
    let mut zip = zip;
    let display = path.to_string_lossy();
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut total: u64 = 0;
    for index in 0..zip.len() {
        let name = zip.name_for_index(index).unwrap_or("?").to_string();
        let f = match zip.by_index_raw(index) {
            Ok(f) => f,
            Err(e) => {
                if name.ends_with('/') || (!hidden && is_hidden_name(&name)) {
                    continue;
                }
                let mut f = zip_error(&e);
                f.message = format!("entry {name}: {}", f.message);
                problems.push(problem(&PathBuf::from(format!("{display}!/{name}")), f));
                continue;
            }
        };
        if f.is_dir() || name.ends_with('/') || (!hidden && is_hidden_name(&name)) {
            continue;
        }
        total = total.saturating_add(f.size());
        entries.push((
            index,
            name,
            f.size(),
            f.compressed_size(),
            f.encrypted(),
            f.compression(),
        ));
    }
    if total > limits.max_total_size {
        return vec![problem(
            path,
            finding(
                "input/archive-too-large",
                format!(
                    "the entries of the archive declare {total} bytes uncompressed, more than the \
                     limit of {}: not expanded",
                    limits.max_total_size
                ),
                "A safety limit against zip bombs; raise --archive-max-total if the archive is \
                 genuine, or split it.",
            ),
        )];
    }
    if entries.is_empty() && problems.is_empty() {
        return vec![Input::Problem {
            path: path.to_path_buf(),
            finding: Box::new(
                Finding::info(
                    "input/archive-empty",
                    Stage::Input,
                    "a zip archive with no file to check (empty, only folders, or only hidden \
                     entries)",
                )
                .with_hint("Hidden entries (names starting with '.') are checked with --hidden."),
            ),
        }];
    }
    let archive = Arc::new(Archive { zip });
    let mut out: Vec<Input> = entries
        .into_iter()
        .map(|(index, name, size, compressed, encrypted, method)| {
            Input::Entry(Box::new(Entry {
                archive: archive.clone(),
                index,
                path: PathBuf::from(format!("{display}!/{name}")),
                size,
                compressed,
                encrypted,
                method,
            }))
        })
        .collect();
    out.extend(problems);
    out
}

/// The bytes of an entry, or the finding that says why they were not read. Never reads more
/// than `min(declared size, limit) + 1` bytes.
pub fn read_entry(entry: &Entry, limits: &ArchiveLimits) -> Result<Vec<u8>, Box<Finding>> {
    if entry.encrypted {
        return Err(Box::new(finding(
            "input/archive-unsupported",
            "the entry is encrypted: not checked".into(),
            "fsecheck reads no passwords; check the file outside the archive.",
        )));
    }
    if !matches!(
        entry.method,
        CompressionMethod::Stored | CompressionMethod::Deflated
    ) {
        return Err(Box::new(finding(
            "input/archive-unsupported",
            format!(
                "the entry uses compression method {:?}: not checked",
                entry.method
            ),
            "Only stored and deflated entries are read. Re-create the archive with a standard \
             zip tool (deflate).",
        )));
    }
    if entry.size > limits.max_entry_size {
        return Err(Box::new(finding(
            "input/archive-entry-too-large",
            format!(
                "the entry declares {} bytes uncompressed, more than the limit of {}: not inflated",
                entry.size, limits.max_entry_size
            ),
            "A safety limit (--max-size) against zip bombs; raise it if the file is genuine.",
        )));
    }
    if entry.size > RATIO_GRACE && entry.size / entry.compressed.max(1) > limits.max_ratio {
        return Err(Box::new(finding(
            "input/archive-ratio",
            format!(
                "the entry declares {} bytes from {} compressed (ratio {}:1), more than the limit \
                 of {}:1: not inflated",
                entry.size,
                entry.compressed,
                entry.size / entry.compressed.max(1),
                limits.max_ratio
            ),
            "A safety limit against zip bombs; raise --archive-max-ratio if the file is genuine.",
        )));
    }
    let mut zip = entry.archive.zip.clone();
    let file = zip
        .by_index(entry.index)
        .map_err(|e| Box::new(zip_error(&e)))?;
    let cap = entry.size.min(limits.max_entry_size);
    let mut bytes = Vec::with_capacity(cap.min(16 * 1024 * 1024) as usize);
    file.take(cap + 1).read_to_end(&mut bytes).map_err(|e| {
        finding(
            "input/archive-corrupt",
            format!("cannot inflate the entry: {e}"),
            "The entry is damaged (bad compressed data or checksum). Re-create the archive.",
        )
    })?;
    if bytes.len() as u64 > cap {
        return Err(Box::new(finding(
            "input/archive-corrupt",
            format!(
                "the entry inflates to more than the {} bytes its header declares: reading \
                 stopped there (forged sizes are how zip bombs get past size checks)",
                entry.size
            ),
            "The archive's sizes do not match its content; re-create it with a standard zip tool.",
        )));
    }
    if (bytes.len() as u64) < entry.size {
        return Err(Box::new(finding(
            "input/archive-corrupt",
            format!(
                "the entry inflates to {} bytes, fewer than the {} its header declares",
                bytes.len(),
                entry.size
            ),
            "The archive is damaged or truncated. Re-create it.",
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip file of `(name, bytes, deflate)` entries written with the zip crate.
    pub(crate) fn write_zip(path: &Path, entries: &[(&str, &[u8], bool)]) {
        let mut w = zip::ZipWriter::new(File::create(path).unwrap());
        for (name, bytes, deflate) in entries {
            let opts = zip::write::SimpleFileOptions::default().compression_method(if *deflate {
                CompressionMethod::Deflated
            } else {
                CompressionMethod::Stored
            });
            if name.ends_with('/') {
                w.add_directory(name.trim_end_matches('/'), opts).unwrap();
            } else {
                w.start_file(*name, opts).unwrap();
                w.write_all(bytes).unwrap();
            }
        }
        w.finish().unwrap();
    }

    fn names(inputs: &[Input], base: &Path) -> Vec<String> {
        inputs
            .iter()
            .map(|i| {
                i.display()
                    .strip_prefix(&*base.to_string_lossy())
                    .unwrap()
                    .trim_start_matches('/')
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn sniffs_zip_by_content() {
        assert!(is_zip(b"PK\x03\x04rest"));
        assert!(is_zip(b"PK\x05\x06"));
        assert!(!is_zip(b"PK\x07\x08"));
        assert!(!is_zip(b"%PDF-1.7"));
        assert!(!is_zip(b"PK"));
    }

    #[test]
    fn expands_entries_sorted_with_files_skipping_dirs_and_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Not named .zip: content decides.
        write_zip(
            &d.join("b.bin"),
            &[
                ("z.xml", b"<a/>", true),
                ("sub/", b"", false),
                ("sub/a.pdf", b"%PDF-1.7", false),
                (".hidden/x.xml", b"<a/>", true),
                ("__MACOSX/._z.xml", b"junk", false),
            ],
        );
        std::fs::write(d.join("a.xml"), "<a/>").unwrap();
        std::fs::write(d.join("c.xml"), "<a/>").unwrap();
        let walked = crate::collect_inputs(&[d.to_path_buf()], Default::default());
        let inputs = expand_archives(walked.clone(), &ArchiveLimits::default(), false);
        assert_eq!(
            names(&inputs, d),
            ["a.xml", "b.bin!/sub/a.pdf", "b.bin!/z.xml", "c.xml"]
        );
        let all = expand_archives(walked, &ArchiveLimits::default(), true);
        assert_eq!(all.len(), 6);
        let Input::Entry(e) = &inputs[2] else {
            panic!("not an entry")
        };
        assert_eq!(
            read_entry(e, &ArchiveLimits::default()).unwrap(),
            b"<a/>".to_vec()
        );
    }

    #[test]
    fn archive_limits_are_findings_on_the_archive() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.zip");
        write_zip(&p, &[("1.xml", b"<a/>", true), ("2.xml", b"<b/>", false)]);
        let id = |inputs: Vec<Input>| match &inputs[..] {
            [Input::Problem { finding, .. }] => finding.id.clone(),
            other => panic!("{other:?}"),
        };
        let few = ArchiveLimits {
            max_entries: 1,
            ..Default::default()
        };
        assert_eq!(
            id(expand(&p, &few, false)),
            "input/archive-too-many-entries"
        );
        let small = ArchiveLimits {
            max_total_size: 7,
            ..Default::default()
        };
        assert_eq!(id(expand(&p, &small, false)), "input/archive-too-large");
        assert_eq!(expand(&p, &ArchiveLimits::default(), false).len(), 2);

        std::fs::write(&p, b"PK\x03\x04 truncated").unwrap();
        assert_eq!(
            id(expand(&p, &ArchiveLimits::default(), false)),
            "input/archive-corrupt"
        );
        write_zip(&p, &[]);
        assert!(is_zip(&std::fs::read(&p).unwrap()));
        assert_eq!(
            id(expand(&p, &ArchiveLimits::default(), false)),
            "input/archive-empty"
        );
    }

    #[test]
    fn entry_limits_declared_and_while_inflating() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.zip");
        let zeros = vec![0u8; 3 * 1024 * 1024];
        write_zip(&p, &[("big.xml", &zeros, true), ("ok.xml", b"<a/>", true)]);
        let inputs = expand(&p, &ArchiveLimits::default(), false);
        let entry = |i: usize| match &inputs[i] {
            Input::Entry(e) => e.clone(),
            other => panic!("{other:?}"),
        };
        let err = |e: &Entry, l: &ArchiveLimits| read_entry(e, l).unwrap_err().id;
        let big = entry(0);
        assert!(big.size / big.compressed > 100);
        assert_eq!(err(&big, &ArchiveLimits::default()), "input/archive-ratio");
        let tight = ArchiveLimits {
            max_entry_size: 1024,
            ..Default::default()
        };
        assert_eq!(err(&big, &tight), "input/archive-entry-too-large");
        let lenient = ArchiveLimits {
            max_ratio: 1_000_000,
            ..Default::default()
        };
        assert_eq!(read_entry(&big, &lenient).unwrap().len(), zeros.len());

        // Sizes that lie: the declared size caps what is inflated.
        let mut forged = big.clone();
        forged.size = 1000;
        assert_eq!(err(&forged, &lenient), "input/archive-corrupt");
        let mut forged = entry(1);
        forged.size = 10;
        assert_eq!(err(&forged, &lenient), "input/archive-corrupt");
    }
}
