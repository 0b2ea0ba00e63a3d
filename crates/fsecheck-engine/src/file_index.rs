//! Unchanged files recognized by their file-system facts, without reading them.
//!
//! A cached run still has to know each document's cache key, a hash of its bytes. Reading and
//! hashing a whole archive again costs more than everything else a cached run does, so, like
//! git's index and make, we remember, per path, the file's facts (device, inode, size,
//! modification and change times, and the same for its `X.json`/`X.jwt` sidecars or their
//! absence) with the key its bytes gave. A later run with the same run fingerprint that finds
//! the same facts uses the remembered key and does not read the file.
//!
//! A write can leave every fact as it was only within one tick of the file system's clock, so
//! an entry is remembered only when the newest time among its facts is at least [`MARGIN`]
//! older than the start of the run that read the file ("racy" files are hashed again next time,
//! as git does). The change time (ctime) cannot be set by users, so `touch -d` to an old date
//! is seen. Clock skew between a network file server and this machine can defeat the rule;
//! `--cache-rehash` turns the index off and hashes every document.
//!
//! Layout: `DIR/v1/index/<run fingerprint>.idx`: a magic line, then records of 64 bytes (path
//! id, facts hash, key: 16 + 16 + 32) and a CRC-32 of the records. A file that does not read
//! back exactly is ignored. Saving merges with what is on disk (entries of this run win), so
//! runs over other folders or other shards with the same options keep their entries.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const MAGIC: &[u8] = b"FSECHECK-INDEX/1\n";
const RECORD: usize = 64;

/// How much older than the run's start a file's newest time must be for its facts to be
/// trusted: more than the coarsest timestamp tick in use (2 s, FAT).
pub const MARGIN: Duration = Duration::from_secs(2);

/// A path, by a hash of its absolute form.
pub type PathId = [u8; 16];

/// The facts of a document and its sidecars, hashed; and the newest time among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub path: PathId,
    hash: [u8; 16],
    /// Newest modification or change time, in nanoseconds since the epoch.
    newest_ns: i128,
}

/// The facts of the regular file at `path` (following symlinks, as reading does) and of its
/// sidecars; `None` when they cannot be had (not a file, no such file, not a Unix system).
/// `listings`, when given, spares looking up sidecars that its folder listing rules out.
pub fn facts_of(path: &Path, listings: Option<&Listings>) -> Option<Facts> {
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
    let absolute = std::path::absolute(path).ok()?;
    let mut h = blake3::Hasher::new();
    let mut newest = i128::MIN;
    add_meta(&mut h, &mut newest, Some(&meta))?;
    // The sidecars `fsecheck_metadata::discover_sidecars` looks for.
    let listing = listings.and_then(|l| l.of(path.parent().unwrap_or(Path::new(""))));
    for ext in ["json", "jwt"] {
        let side = path.with_extension(ext);
        if side == path {
            h.update(b"self");
            continue;
        }
        let ruled_out = match (&listing, side.file_name()) {
            (Some(names), Some(name)) => !names.may_hold(name),
            _ => false,
        };
        let m = if ruled_out {
            None
        } else {
            std::fs::metadata(&side).ok().filter(|m| m.is_file())
        };
        add_meta(&mut h, &mut newest, m.as_ref())?;
    }
    Some(Facts {
        path: path_id(&absolute),
        hash: truncate(h.finalize()),
        newest_ns: newest,
    })
}

/// The names in one folder, ASCII-lowercased, to tell without a lookup that a file is absent.
/// Only folders whose names are all ASCII are listed: on a case-insensitive file system a name
/// matches another in any case (and some non-ASCII letters fold to ASCII ones).
#[derive(Debug)]
pub struct Names(std::collections::HashSet<Box<[u8]>>);

impl Names {
    /// Can the folder hold a file named `name` (in any case)? Yes for a non-ASCII name.
    fn may_hold(&self, name: &std::ffi::OsStr) -> bool {
        let bytes = name.as_encoded_bytes();
        !bytes.is_ascii() || self.0.contains(bytes.to_ascii_lowercase().as_slice())
    }
}

/// Folder listings read once per run, shared by the workers.
#[derive(Debug, Default)]
pub struct Listings(Mutex<HashMap<PathBuf, Option<Arc<Names>>>>);

/// Folders with more names than this are not listed (their files' sidecars are looked up).
const MAX_LISTED: usize = 200_000;

impl Listings {
    /// The listing of `folder`, read on first use; `None` if it cannot be read, is too large, or
    /// holds a non-ASCII name.
    pub fn of(&self, folder: &Path) -> Option<Arc<Names>> {
        if let Some(known) = self.0.lock().ok()?.get(folder) {
            return known.clone();
        }
        let read = (|| {
            let dir = if folder.as_os_str().is_empty() {
                Path::new(".")
            } else {
                folder
            };
            let mut names = std::collections::HashSet::new();
            for e in std::fs::read_dir(dir).ok()? {
                let name = e.ok()?.file_name();
                let bytes = name.as_encoded_bytes();
                if !bytes.is_ascii() || names.len() >= MAX_LISTED {
                    return None;
                }
                names.insert(bytes.to_ascii_lowercase().into_boxed_slice());
            }
            Some(Arc::new(Names(names)))
        })();
        self.0
            .lock()
            .ok()?
            .insert(folder.to_path_buf(), read.clone());
        read
    }
}

fn truncate(h: blake3::Hash) -> [u8; 16] {
    let mut out = [0; 16];
    out.copy_from_slice(&h.as_bytes()[..16]);
    out
}

fn path_id(absolute: &Path) -> PathId {
    truncate(blake3::hash(absolute.as_os_str().as_encoded_bytes()))
}

#[cfg(unix)]
pub(crate) fn add_meta(
    h: &mut blake3::Hasher,
    newest: &mut i128,
    meta: Option<&std::fs::Metadata>,
) -> Option<()> {
    use std::os::unix::fs::MetadataExt as _;
    let Some(m) = meta else {
        h.update(&[0]);
        return Some(());
    };
    let mtime = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
    let ctime = i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec());
    *newest = (*newest).max(mtime).max(ctime);
    h.update(&[1]);
    for v in [m.dev(), m.ino(), m.size()] {
        h.update(&v.to_le_bytes());
    }
    h.update(&mtime.to_le_bytes());
    h.update(&ctime.to_le_bytes());
    Some(())
}

/// Without inode and change time, facts are not trusted: every document is hashed.
#[cfg(not(unix))]
pub(crate) fn add_meta(
    _: &mut blake3::Hasher,
    _: &mut i128,
    _: Option<&std::fs::Metadata>,
) -> Option<()> {
    None
}

pub(crate) fn nanos_since_epoch(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// A digest of a folder's files (`compute`), remembered in `memo` by the facts of every file
/// under `root` (`.git` excluded) and used again while those facts stay the same. The same
/// [`MARGIN`] rule as for documents applies to the newest of those facts.
pub fn remembered_digest(
    root: &Path,
    memo: &Path,
    started: SystemTime,
    compute: impl FnOnce() -> Result<[u8; 32], String>,
) -> Result<[u8; 32], String> {
    const MEMO_MAGIC: &[u8] = b"FSECHECK-TREE/1\n";
    let facts = tree_facts(root);
    if let Some((facts, _)) = facts {
        if let Ok(bytes) = read_used(memo) {
            if let Some(rest) = bytes.strip_prefix(MEMO_MAGIC) {
                if rest.len() == 64 && rest[..32] == facts {
                    let mut digest = [0; 32];
                    digest.copy_from_slice(&rest[32..]);
                    return Ok(digest);
                }
            }
        }
    }
    let digest = compute()?;
    if let Some((facts, newest)) = facts {
        if newest + MARGIN.as_nanos() as i128 <= nanos_since_epoch(started) {
            let mut out = MEMO_MAGIC.to_vec();
            out.extend_from_slice(&facts);
            out.extend_from_slice(&digest);
            // A memo that cannot be written only makes the next run hash the folder again.
            let _ = write_atomically(memo, &[&out]);
        }
    }
    Ok(digest)
}

/// Hash of the relative path and facts of every file under `root` (`.git` excluded), sorted,
/// and the newest time among them; `None` if any cannot be had.
fn tree_facts(root: &Path) -> Option<([u8; 32], i128)> {
    let mut h = blake3::Hasher::new();
    let mut newest = i128::MIN;
    for e in tree_walk(root) {
        let e = e.ok()?;
        let meta = e.metadata().ok()?;
        let rel = e.path().strip_prefix(root).unwrap_or(e.path());
        let name = rel.as_os_str().as_encoded_bytes();
        h.update(&(name.len() as u64).to_le_bytes());
        h.update(name);
        h.update(&[u8::from(meta.is_file())]);
        add_meta(&mut h, &mut newest, Some(&meta))?;
    }
    Some((*h.finalize().as_bytes(), newest))
}

/// Every entry under `root` but `.git`, sorted by name, links followed: the files a catalog
/// digest covers.
pub fn tree_walk(root: &Path) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> {
    walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || e.file_name() != ".git")
}

/// How old a used entry may be before its time is set to now: [`crate::cache::prune`] goes by the last
/// write, so entries in use are kept; once a day at most per entry.
const REFRESH_AFTER: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Mark a file in use (its modification time to now) when it was last marked more than
/// [`REFRESH_AFTER`] ago. Best effort: a read-only cache stays as it is.
pub fn refresh(f: &std::fs::File) {
    let now = SystemTime::now();
    let stale = f
        .metadata()
        .and_then(|m| m.modified())
        .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > REFRESH_AFTER));
    if stale {
        let _ = f.set_modified(now);
    }
}

/// Write `parts` one after another to `file`, through a temporary file in the same folder (named
/// by process and a counter, so concurrent writers of one file never share it) and a rename:
/// readers see the old file or the whole new one, never a part.
pub(crate) fn write_atomically(file: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let folder = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let tmp = folder.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        for part in parts {
            f.write_all(part)?;
        }
        drop(f);
        std::fs::rename(&tmp, file)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Read a whole file and mark it used ([`refresh`]).
fn read_used(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path)?;
    refresh(&f);
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A cache key's 32 bytes (`crate::cache::Key`).
pub type KeyBytes = [u8; 32];

type Entries = HashMap<PathId, ([u8; 16], KeyBytes)>;

/// The index of one run fingerprint: what earlier runs remembered, and what this run learns.
#[derive(Debug)]
pub struct FileIndex {
    file: PathBuf,
    /// The start of this run: facts newer than this minus [`MARGIN`] are not remembered.
    started_ns: i128,
    known: Entries,
    learned: Mutex<Vec<(PathId, [u8; 16], KeyBytes)>>,
    /// Folder listings of this run, for [`facts_of`].
    pub listings: Listings,
}

impl FileIndex {
    /// The index in `file` (empty if absent or unsound), for a run that started at `started`.
    pub fn open(file: PathBuf, started: SystemTime) -> FileIndex {
        let known = read_used(&file)
            .ok()
            .and_then(|b| decode(&b))
            .unwrap_or_default();
        FileIndex {
            file,
            started_ns: nanos_since_epoch(started),
            known,
            learned: Mutex::new(Vec::new()),
            listings: Listings::default(),
        }
    }

    /// The key remembered for a file with these facts.
    pub fn lookup(&self, facts: &Facts) -> Option<KeyBytes> {
        match self.known.get(&facts.path) {
            Some((hash, key)) if *hash == facts.hash => Some(*key),
            _ => None,
        }
    }

    /// Remember that a file with these facts (taken before it was read) has this key, unless
    /// the facts are too recent to be trusted or already known.
    pub fn learn(&self, facts: &Facts, key: KeyBytes) {
        if facts.newest_ns + MARGIN.as_nanos() as i128 > self.started_ns {
            return;
        }
        if self.lookup(facts) == Some(key) {
            return;
        }
        if let Ok(mut l) = self.learned.lock() {
            l.push((facts.path, facts.hash, key));
        }
    }

    /// Write what this run learned, merged into the index on disk now. Nothing is written when
    /// nothing was learned.
    pub fn save(&self) -> std::io::Result<()> {
        let learned = match self.learned.lock() {
            Ok(l) => l.clone(),
            Err(_) => return Ok(()),
        };
        if learned.is_empty() {
            return Ok(());
        }
        let mut entries = std::fs::read(&self.file)
            .ok()
            .and_then(|b| decode(&b))
            .unwrap_or_default();
        for (path, hash, key) in learned {
            entries.insert(path, (hash, key));
        }
        let mut records: Vec<[u8; RECORD]> = entries
            .into_iter()
            .map(|(path, (hash, key))| {
                let mut r = [0; RECORD];
                r[..16].copy_from_slice(&path);
                r[16..32].copy_from_slice(&hash);
                r[32..].copy_from_slice(&key);
                r
            })
            .collect();
        records.sort_unstable();
        let mut out = Vec::with_capacity(MAGIC.len() + records.len() * RECORD + 4);
        out.extend_from_slice(MAGIC);
        for r in &records {
            out.extend_from_slice(r);
        }
        let crc = crc32fast::hash(&out[MAGIC.len()..]);
        out.extend_from_slice(&crc.to_le_bytes());
        write_atomically(&self.file, &[&out])
    }
}

fn decode(bytes: &[u8]) -> Option<Entries> {
    let body = bytes.strip_prefix(MAGIC)?;
    let (records, crc) = body.split_at_checked(body.len().checked_sub(4)?)?;
    if records.len() % RECORD != 0 || crc32fast::hash(records).to_le_bytes() != crc {
        return None;
    }
    let mut entries = HashMap::with_capacity(records.len() / RECORD);
    for r in records.chunks_exact(RECORD) {
        let mut path = [0; 16];
        let mut hash = [0; 16];
        let mut key = [0; 32];
        path.copy_from_slice(&r[..16]);
        hash.copy_from_slice(&r[16..32]);
        key.copy_from_slice(&r[32..]);
        entries.insert(path, (hash, key));
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> KeyBytes {
        [n; 32]
    }

    #[test]
    fn facts_change_with_the_file_and_its_sidecars() {
        let dir = tempfile::tempdir().unwrap();
        let doc = dir.path().join("a.xml");
        std::fs::write(&doc, "<a/>").unwrap();
        let f1 = facts_of(&doc, None).unwrap();
        assert_eq!(facts_of(&doc, None).unwrap(), f1);
        // Same size, new content: the times (or at least the change time) move on; sleep past
        // the coarsest kernel tick so the test does not depend on it.
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&doc, "<b/>").unwrap();
        let f2 = facts_of(&doc, None).unwrap();
        assert_ne!(f2.hash, f1.hash);
        assert_eq!(f2.path, f1.path, "same path, same id");
        // A sidecar appears.
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        assert_ne!(facts_of(&doc, None).unwrap().hash, f2.hash);
        // Relative and absolute spellings of a path are one id.
        let cwd = std::env::current_dir().unwrap();
        if let Ok(rel) = doc.strip_prefix(&cwd) {
            assert_eq!(facts_of(rel, None).unwrap().path, f2.path);
        }
        assert!(
            facts_of(dir.path(), None).is_none(),
            "a folder has no facts"
        );
        // With folder listings: the same facts, sidecar or not, in any case of its name.
        let listed = |doc: &Path| facts_of(doc, Some(&Listings::default())).unwrap();
        assert_eq!(listed(&doc), facts_of(&doc, None).unwrap());
        let other = dir.path().join("b.xml");
        std::fs::write(&other, "<b/>").unwrap();
        assert_eq!(listed(&other), facts_of(&other, None).unwrap());
        std::fs::write(dir.path().join("B.JWT"), "x.y.z").unwrap();
        assert_eq!(listed(&other), facts_of(&other, None).unwrap());
        let names = Listings::default().of(dir.path()).unwrap();
        assert!(names.may_hold(std::ffi::OsStr::new("b.jwt")));
        assert!(!names.may_hold(std::ffi::OsStr::new("c.jwt")));
        assert!(
            names.may_hold(std::ffi::OsStr::new("é.jwt")),
            "non-ASCII names are looked up"
        );
        std::fs::write(dir.path().join("è.xml"), "<c/>").unwrap();
        assert!(
            Listings::default().of(dir.path()).is_none(),
            "a non-ASCII folder is not listed"
        );
        assert!(facts_of(&dir.path().join("missing.xml"), None).is_none());
    }

    #[test]
    fn a_folder_digest_is_remembered_while_its_files_facts_stay() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("catalog");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.csv"), "1,2").unwrap();
        let memo = dir.path().join("memo/x");
        let computed = std::cell::Cell::new(0);
        let digest = |started: SystemTime| {
            remembered_digest(&root, &memo, started, || {
                computed.set(computed.get() + 1);
                Ok([computed.get() as u8; 32])
            })
            .unwrap()
        };
        // Files younger than the margin: computed every time, nothing remembered.
        let now = SystemTime::now();
        assert_eq!(digest(now), [1; 32]);
        assert!(!memo.exists());
        // Old enough (as seen from a later run): remembered, then reused.
        let later = now + Duration::from_secs(10);
        assert_eq!(digest(later), [2; 32]);
        assert_eq!(digest(later), [2; 32]);
        assert_eq!(computed.get(), 2);
        // A changed file, or a new one: computed again.
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(root.join("sub/a.csv"), "1,3").unwrap();
        assert_eq!(digest(later + Duration::from_secs(10)), [3; 32]);
        std::fs::write(root.join("b.csv"), "x").unwrap();
        assert_eq!(digest(later + Duration::from_secs(20)), [4; 32]);
        assert_eq!(digest(later + Duration::from_secs(20)), [4; 32]);
        assert_eq!(computed.get(), 4);
    }

    #[test]
    fn only_old_enough_facts_are_remembered_and_saving_merges() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index/run.idx");
        let old = Facts {
            path: [1; 16],
            hash: [2; 16],
            newest_ns: 0,
        };
        let now = SystemTime::now();
        let racy = Facts {
            path: [3; 16],
            hash: [4; 16],
            newest_ns: nanos_since_epoch(now) - 1_000_000_000,
        };
        let a = FileIndex::open(file.clone(), now);
        assert_eq!(a.lookup(&old), None);
        a.learn(&old, key(9));
        a.learn(&racy, key(8));
        a.save().unwrap();
        let b = FileIndex::open(file.clone(), SystemTime::now());
        assert_eq!(b.lookup(&old), Some(key(9)));
        assert_eq!(
            b.lookup(&racy),
            None,
            "facts younger than the margin are not kept"
        );
        // Other facts for the same path: not the remembered key.
        assert_eq!(
            b.lookup(&Facts {
                hash: [5; 16],
                ..old
            }),
            None
        );
        // A second index learning another path keeps the first one's entries.
        let other = Facts {
            path: [6; 16],
            ..old
        };
        b.learn(&other, key(7));
        b.save().unwrap();
        let c = FileIndex::open(file.clone(), SystemTime::now());
        assert_eq!(c.lookup(&old), Some(key(9)));
        assert_eq!(c.lookup(&other), Some(key(7)));
        // A damaged index is an empty one.
        let mut bytes = std::fs::read(&file).unwrap();
        let n = bytes.len() - 10;
        bytes[n] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        assert_eq!(FileIndex::open(file.clone(), now).lookup(&old), None);
        std::fs::write(&file, b"FSECHECK-INDEX/1\n").unwrap();
        assert_eq!(FileIndex::open(file, now).lookup(&old), None);
    }
}
