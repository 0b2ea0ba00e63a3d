//! Inputs beyond plain files: zip archives (entries as inputs, zip-bomb limits), the record cache
//! (`--cache`) and sharding (`--shard I/N`).

mod common;

use common::*;
use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn os<S: AsRef<OsStr> + ?Sized>(s: &S) -> OsString {
    s.as_ref().to_os_string()
}

/// `fsecheck check --catalog CATALOG --format jsonl ARGS...`
fn check_jsonl(args: &[OsString]) -> std::process::Output {
    check_with_catalog(&catalog(), "jsonl", args)
}

fn check_with_catalog(catalog: &Path, format: &str, args: &[OsString]) -> std::process::Output {
    let mut all = vec![
        os("check"),
        os("--catalog"),
        os(catalog),
        os("--format"),
        os(format),
    ];
    all.extend(args.iter().cloned());
    fsecheck().args(&all).output().expect("run fsecheck")
}

fn ids(r: &serde_json::Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn by_path<'a>(recs: &'a [serde_json::Value], suffix: &str) -> &'a serde_json::Value {
    recs.iter()
        .find(|r| r["path"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| {
            let paths: Vec<&str> = recs.iter().map(|r| r["path"].as_str().unwrap()).collect();
            panic!("no record for {suffix} in {paths:?}")
        })
}

/// A record with its path, the paths of its findings and its timings removed: what must not
/// depend on where the document was found nor on the cache.
fn neutral(r: &serde_json::Value) -> serde_json::Value {
    let mut r = r.clone();
    let m = r.as_object_mut().unwrap();
    m.remove("timing_ms");
    m.remove("path");
    for f in m["findings"].as_array_mut().unwrap() {
        f["location"].as_object_mut().unwrap().remove("path");
    }
    r
}

/// JSONL output without `timing_ms`, as text.
fn without_timing(stdout: &[u8]) -> String {
    records(stdout)
        .into_iter()
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("timing_ms");
            r.to_string() + "\n"
        })
        .collect()
}

// ---- a small zip writer, so that tests can forge what the zip crate would refuse to write ----

struct RawEntry {
    name: String,
    /// 0 stored, 8 deflate, anything else as given.
    method: u16,
    flags: u16,
    crc: u32,
    /// The data as stored (compressed for method 8).
    data: Vec<u8>,
    /// The uncompressed size written in the headers.
    declared_size: u32,
}

impl RawEntry {
    fn stored(name: &str, bytes: &[u8]) -> RawEntry {
        RawEntry {
            name: name.into(),
            method: 0,
            flags: 0,
            crc: crc32(bytes),
            data: bytes.to_vec(),
            declared_size: bytes.len() as u32,
        }
    }

    fn deflated(name: &str, bytes: &[u8]) -> RawEntry {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        RawEntry {
            name: name.into(),
            method: 8,
            flags: 0,
            crc: crc32(bytes),
            data: e.finish().unwrap(),
            declared_size: bytes.len() as u32,
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn write_zip(path: &Path, entries: &[RawEntry]) {
    let mut out: Vec<u8> = Vec::new();
    let mut central: Vec<u8> = Vec::new();
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for e in entries {
        let offset = out.len() as u32;
        le32(&mut out, 0x0403_4b50);
        le16(&mut out, 20);
        le16(&mut out, e.flags);
        le16(&mut out, e.method);
        le32(&mut out, 0); // time, date
        le32(&mut out, e.crc);
        le32(&mut out, e.data.len() as u32);
        le32(&mut out, e.declared_size);
        le16(&mut out, e.name.len() as u16);
        le16(&mut out, 0);
        out.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(&e.data);

        le32(&mut central, 0x0201_4b50);
        le16(&mut central, 0x031E); // made by: unix, 3.0
        le16(&mut central, 20);
        le16(&mut central, e.flags);
        le16(&mut central, e.method);
        le32(&mut central, 0);
        le32(&mut central, e.crc);
        le32(&mut central, e.data.len() as u32);
        le32(&mut central, e.declared_size);
        le16(&mut central, e.name.len() as u16);
        le16(&mut central, 0); // extra
        le16(&mut central, 0); // comment
        le16(&mut central, 0); // disk
        le16(&mut central, 0); // internal attributes
        le32(
            &mut central,
            if e.name.ends_with('/') {
                0o040755 << 16
            } else {
                0o100644 << 16
            },
        );
        le32(&mut central, offset);
        central.extend_from_slice(e.name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    le32(&mut out, 0x0605_4b50);
    le16(&mut out, 0);
    le16(&mut out, 0);
    le16(&mut out, entries.len() as u16);
    le16(&mut out, entries.len() as u16);
    le32(&mut out, central.len() as u32);
    le32(&mut out, cd_offset);
    le16(&mut out, 0);
    std::fs::write(path, out).unwrap();
}

/// A raw deflate stream of `mib` MiB of zeros, built from one independently decodable
/// (full-flushed) block of 1 MiB repeated, then an empty final block: about 1 KiB per MiB.
fn zeros_deflated(mib: usize) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let input = vec![0u8; 1024 * 1024];
    let mut block = Vec::with_capacity(64 * 1024);
    c.compress_vec(&input, &mut block, flate2::FlushCompress::Full)
        .unwrap();
    assert_eq!(c.total_in(), input.len() as u64);
    let mut out = Vec::with_capacity(block.len() * mib + 8);
    for _ in 0..mib {
        out.extend_from_slice(&block);
    }
    // Final stored block of length 0.
    out.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    out
}

fn pdf_example() -> PathBuf {
    shared().join("corpus/gateway-tests/files/pdf/LDO.pdf")
}

fn xml_example() -> PathBuf {
    shared().join("corpus/examples/LDO.xml")
}

#[test]
fn zip_entries_are_inputs_checked_like_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let xml = std::fs::read(xml_example()).unwrap();
    let pdf = std::fs::read(pdf_example()).unwrap();
    let inner = d.join("inner.zip");
    write_zip(&inner, &[RawEntry::stored("x.xml", b"<a/>")]);
    // Named .dat: the content makes it an archive.
    write_zip(
        &d.join("batch.dat"),
        &[
            RawEntry::deflated("docs/LDO.xml", &xml),
            RawEntry::stored("docs/", b""),
            RawEntry::deflated("docs/LDO.pdf", &pdf),
            RawEntry::stored("notes.txt", b"just some notes"),
            RawEntry::stored(".hidden.xml", b"<a/>"),
            RawEntry::stored("inner.zip", &std::fs::read(&inner).unwrap()),
            RawEntry::stored("empty.xml", b""),
        ],
    );
    std::fs::remove_file(&inner).unwrap();
    std::fs::copy(xml_example(), d.join("a.xml")).unwrap();
    std::fs::copy(pdf_example(), d.join("z.pdf")).unwrap();

    let out = check_jsonl(&[os(d)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out.stdout);
    let schema = RecordSchema::load();
    for r in &recs {
        schema.check(r);
    }
    let base = d.to_string_lossy().into_owned();
    let paths: Vec<String> = recs
        .iter()
        .map(|r| {
            r["path"]
                .as_str()
                .unwrap()
                .strip_prefix(&base)
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        paths,
        [
            "/a.xml",
            "/batch.dat!/docs/LDO.pdf",
            "/batch.dat!/docs/LDO.xml",
            "/batch.dat!/empty.xml",
            "/batch.dat!/inner.zip",
            "/batch.dat!/notes.txt",
            "/z.pdf",
        ],
        "sorted with the other files, each once, no folders, no hidden entries"
    );
    // Entries are checked exactly as the same files outside the archive.
    let entry_xml = by_path(&recs, "batch.dat!/docs/LDO.xml");
    assert_eq!(entry_xml["kind"], "xml");
    assert_eq!(entry_xml["doc_type"], "LDO");
    assert_eq!(neutral(entry_xml), neutral(by_path(&recs, "/a.xml")));
    let entry_pdf = by_path(&recs, "batch.dat!/docs/LDO.pdf");
    assert_eq!(entry_pdf["kind"], "pdf");
    assert_eq!(neutral(entry_pdf), neutral(by_path(&recs, "/z.pdf")));
    for f in entry_pdf["findings"].as_array().unwrap() {
        assert_eq!(
            f["location"]["path"].as_str().unwrap(),
            entry_pdf["path"].as_str().unwrap()
        );
    }
    assert_eq!(
        ids(by_path(&recs, "!/notes.txt")),
        ["input/unsupported-format"]
    );
    assert_eq!(ids(by_path(&recs, "!/empty.xml")), ["input/empty"]);
    let nested = by_path(&recs, "!/inner.zip");
    assert_eq!(ids(nested), ["input/archive-nested"]);
    assert_eq!(nested["gateway"]["status"], 415);

    // --hidden takes the hidden entry; --exclude applies to entries' displayed paths.
    let out = check_jsonl(&[os("--hidden"), os("--exclude"), os("**/docs/*.pdf"), os(d)]);
    let recs = records(&out.stdout);
    assert!(recs
        .iter()
        .any(|r| r["path"].as_str().unwrap().ends_with("!/.hidden.xml")));
    assert!(!recs
        .iter()
        .any(|r| r["path"].as_str().unwrap().ends_with("!/docs/LDO.pdf")));
    assert_eq!(recs.len(), 7);
    // An archive named on the command line is expanded too; excluding the archive skips it.
    let archive = d.join("batch.dat");
    assert_eq!(records(&check_jsonl(&[os(&archive)]).stdout).len(), 5);
    let out = check_jsonl(&[os("--exclude"), os("**/*.dat"), os(d)]);
    assert_eq!(records(&out.stdout).len(), 2);
}

#[test]
fn zip_bombs_and_broken_archives_are_findings_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gib_of_zeros = zeros_deflated(1024);
    assert!(gib_of_zeros.len() < 2 * 1024 * 1024);
    // 1 GiB of zeros, declared honestly: refused from the central directory.
    write_zip(
        &d.join("bomb-declared.zip"),
        &[RawEntry {
            name: "zeros.xml".into(),
            method: 8,
            flags: 0,
            crc: 0,
            data: gib_of_zeros.clone(),
            declared_size: 1 << 30,
        }],
    );
    // The same, declared as 1000 bytes: caught while inflating, after 1001 bytes.
    write_zip(
        &d.join("bomb-forged.zip"),
        &[
            RawEntry {
                name: "zeros.xml".into(),
                method: 8,
                flags: 0,
                crc: 0,
                data: gib_of_zeros,
                declared_size: 1000,
            },
            RawEntry::stored("fine.xml", b"<a/>"),
        ],
    );
    // 8 MiB of zeros in about 8 KiB: the ratio limit.
    write_zip(
        &d.join("ratio.zip"),
        &[RawEntry {
            name: "zeros.xml".into(),
            method: 8,
            flags: 0,
            crc: 0,
            data: zeros_deflated(8),
            declared_size: 8 * 1024 * 1024,
        }],
    );
    let many: Vec<RawEntry> = (0..50)
        .map(|i| RawEntry::stored(&format!("{i}.xml"), b"<a/>"))
        .collect();
    write_zip(&d.join("many.zip"), &many);
    std::fs::write(
        d.join("garbage.zip"),
        b"PK\x03\x04 this is not really an archive",
    )
    .unwrap();
    let good = d.join("good.zip");
    write_zip(
        &good,
        &[RawEntry::deflated(
            "LDO.xml",
            &std::fs::read(xml_example()).unwrap(),
        )],
    );
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(d.join("truncated.zip"), &bytes[..bytes.len() / 2]).unwrap();
    let mut flipped = bytes.clone();
    flipped[30 + "LDO.xml".len() + 100] ^= 0x55;
    std::fs::write(d.join("flipped.zip"), &flipped).unwrap();
    let mut encrypted = RawEntry::stored("secret.xml", b"<a/>");
    encrypted.flags = 1;
    let mut bzip2 = RawEntry::stored("bz.xml", b"<a/>");
    bzip2.method = 12;
    write_zip(&d.join("odd.zip"), &[encrypted, bzip2]);
    std::fs::write(d.join("after.xml"), b"<ok/>").unwrap();

    // Limited virtual memory: inflating the bomb into memory would abort the process.
    let mut cmd = std::process::Command::new("sh");
    cmd.env_remove("FSECHECK_CATALOG")
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg("ulimit -v 1500000 && exec \"$@\"");
    cmd.arg("sh").arg(env!("CARGO_BIN_EXE_fsecheck")).args([
        os("check"),
        os("--catalog"),
        os(&catalog()),
        os("--format"),
        os("jsonl"),
        os("--archive-max-entries"),
        os("20"),
        os("--jobs"),
        os("2"),
        os(d),
    ]);
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out.stdout);
    let schema = RecordSchema::load();
    for r in &recs {
        schema.check(r);
        assert!(!ids(r).iter().any(|i| i.starts_with("internal/")), "{r}");
    }
    let expect = [
        (
            "bomb-declared.zip!/zeros.xml",
            "input/archive-entry-too-large",
        ),
        ("bomb-forged.zip!/zeros.xml", "input/archive-corrupt"),
        ("ratio.zip!/zeros.xml", "input/archive-ratio"),
        ("/many.zip", "input/archive-too-many-entries"),
        ("/garbage.zip", "input/archive-corrupt"),
        ("/truncated.zip", "input/archive-corrupt"),
        ("flipped.zip!/LDO.xml", "input/archive-corrupt"),
        ("odd.zip!/secret.xml", "input/archive-unsupported"),
        ("odd.zip!/bz.xml", "input/archive-unsupported"),
    ];
    for (path, id) in expect {
        let r = by_path(&recs, path);
        assert_eq!(ids(r), [id], "{path}: {r}");
        assert_eq!(r["verdict"], "fail");
    }
    let forged = by_path(&recs, "bomb-forged.zip!/zeros.xml");
    assert!(
        forged["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("1000 bytes"),
        "{forged}"
    );
    // The other inputs were checked normally.
    assert_eq!(by_path(&recs, "bomb-forged.zip!/fine.xml")["kind"], "xml");
    assert_eq!(by_path(&recs, "good.zip!/LDO.xml")["doc_type"], "LDO");
    assert_eq!(by_path(&recs, "/after.xml")["kind"], "xml");
    assert_eq!(recs.len(), expect.len() + 3);

    // Raising the limits lets the same archives through.
    let out = check_jsonl(&[
        os("--archive-max-ratio"),
        os("100000"),
        os(&d.join("ratio.zip")),
        os(&d.join("many.zip")),
    ]);
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 51);
    assert!(!ids(by_path(&recs, "ratio.zip!/zeros.xml")).contains(&"input/archive-ratio".into()));
    let out = check_jsonl(&[os("--archive-max-total"), os("100"), os(&good)]);
    assert_eq!(ids(&records(&out.stdout)[0]), ["input/archive-too-large"]);
}

/// `check --format jsonl --cache CACHE EXTRA... DOCS`.
fn cached_run(cache: &Path, docs: &Path, extra: &[OsString]) -> std::process::Output {
    let mut a = vec![os("--cache"), os(cache)];
    a.extend(extra.iter().cloned());
    a.push(os(docs));
    check_jsonl(&a)
}

/// A folder with XML, PDF, a sidecar pair and an archive, for the cache tests.
fn cache_corpus(d: &Path) {
    std::fs::copy(xml_example(), d.join("LDO.xml")).unwrap();
    std::fs::copy(shared().join("corpus/examples/PSS.xml"), d.join("PSS.xml")).unwrap();
    std::fs::copy(pdf_example(), d.join("LDO.pdf")).unwrap();
    std::fs::copy(shared().join("corpus/examples/VPS.xml"), d.join("DOC.xml")).unwrap();
    std::fs::write(
        d.join("DOC.json"),
        r#"{"tipoDocumentoLivAlto":"XYZ","identificativoDoc":"2.16.840.1.113883.2.9.2.120.4.4^ABC"}"#,
    )
    .unwrap();
    write_zip(
        &d.join("batch.zip"),
        &[RawEntry::deflated(
            "RSA.xml",
            &std::fs::read(shared().join("corpus/examples/RSA.xml")).unwrap(),
        )],
    );
    std::fs::write(d.join("broken.xml"), b"<ClinicalDocument").unwrap();
}

/// Paths (file names) of the records that came from the cache.
fn hits(recs: &[serde_json::Value]) -> BTreeSet<String> {
    recs.iter()
        .filter(|r| {
            let t = r["timing_ms"].as_object().unwrap();
            t.len() == 1 && t.contains_key("cache")
        })
        .map(|r| {
            let p = r["path"].as_str().unwrap();
            p.rsplit(['/', '!']).next().unwrap().to_string()
        })
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn cached_runs_give_identical_records_and_miss_on_any_change() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    cache_corpus(&docs);
    let cache = dir.path().join("cache");
    let run = |extra: &[OsString]| cached_run(&cache, &docs, extra);
    let plain = check_jsonl(&[os(&docs)]);
    let first = run(&[]);
    assert_eq!(first.status.code(), plain.status.code());
    let recs = records(&first.stdout);
    assert!(hits(&recs).is_empty());
    let second = run(&[]);
    assert_eq!(second.status.code(), first.status.code());
    let cached = records(&second.stdout);
    // XML, PDF, the sidecar's document and the archive entry are cached; the sidecar record
    // itself is not (it depends on the files beside it).
    let cacheable = set(&[
        "LDO.xml",
        "PSS.xml",
        "LDO.pdf",
        "DOC.xml",
        "RSA.xml",
        "broken.xml",
    ]);
    assert_eq!(hits(&cached), cacheable);
    assert_eq!(
        without_timing(&second.stdout),
        without_timing(&first.stdout)
    );
    assert_eq!(without_timing(&first.stdout), without_timing(&plain.stdout));

    // One changed byte: that document misses, the others hit.
    let mut bytes = std::fs::read(docs.join("PSS.xml")).unwrap();
    let at = bytes.len() - 2;
    bytes[at] = b' ';
    std::fs::write(docs.join("PSS.xml"), &bytes).unwrap();
    let changed = records(&run(&[]).stdout);
    let mut rest = cacheable.clone();
    rest.remove("PSS.xml");
    assert_eq!(hits(&changed), rest);
    // A changed sidecar: its document misses.
    std::fs::write(docs.join("DOC.json"), r#"{"tipoDocumentoLivAlto":"WOR"}"#).unwrap();
    let out = run(&[]);
    let mut rest = cacheable.clone();
    rest.remove("DOC.xml");
    assert_eq!(hits(&records(&out.stdout)), rest);
    assert_eq!(
        without_timing(&out.stdout),
        without_timing(&check_jsonl(&[os(&docs)]).stdout),
        "the record of the changed sidecar is the fresh one"
    );

    // An option that changes records: everything misses, then hits again.
    let main = [os("--gateway-release"), os("main")];
    assert!(hits(&records(&run(&main).stdout)).is_empty());
    assert_eq!(hits(&records(&run(&main).stdout)), cacheable);
    // So do the limits.
    let limits = [os("--max-size"), os("50000000")];
    assert!(hits(&records(&run(&limits).stdout)).is_empty());

    // A changed catalog (one dictionary line less): everything misses.
    let cat = dir.path().join("catalog");
    copy_tree(&catalog(), &cat);
    let mut a = vec![os("--cache"), os(&cache), os(&docs)];
    assert_eq!(
        hits(&records(&check_with_catalog(&cat, "jsonl", &a).stdout)),
        cacheable
    );
    let csv = find_file(&cat.join("terminology"), "csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let fewer: String = text
        .lines()
        .take(text.lines().count() - 1)
        .map(|l| l.to_string() + "\n")
        .collect();
    std::fs::write(&csv, fewer).unwrap();
    assert!(hits(&records(&check_with_catalog(&cat, "jsonl", &a).stdout)).is_empty());

    // Damaged entries are misses; the output stays the same.
    let mut damaged = 0;
    for e in walk(&cache) {
        if e.extension().is_some_and(|x| x == "rec") {
            let mut b = std::fs::read(&e).unwrap();
            let n = b.len() / 2;
            b[n] ^= 0x20;
            std::fs::write(&e, b).unwrap();
            damaged += 1;
        }
    }
    assert!(damaged > 0);
    a = vec![os("--cache"), os(&cache), os(&docs)];
    let out = check_with_catalog(&cat, "jsonl", &a);
    assert!(hits(&records(&out.stdout)).is_empty());
    assert_eq!(
        without_timing(&out.stdout),
        without_timing(&check_with_catalog(&cat, "jsonl", &[os(&docs)]).stdout)
    );
}

/// The cache's line on standard error: (records reused, of them known unchanged without
/// reading, checked).
fn cache_line(stderr: &[u8]) -> (u64, u64, u64) {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .find(|l| l.starts_with("cache: "))
        .unwrap_or_else(|| panic!("no cache line in {text}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

#[test]
fn unchanged_files_are_known_by_their_facts_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    cache_corpus(&docs);
    // Facts younger than the margin (2 s) are never trusted; let the corpus age past it.
    std::thread::sleep(std::time::Duration::from_millis(2300));
    let cache = dir.path().join("cache");
    let run = |extra: &[OsString]| cached_run(&cache, &docs, extra);
    let first = run(&[]);
    // Six cacheable records (the zip entry is read from its archive, not known by facts).
    assert_eq!(cache_line(&first.stderr), (0, 0, 6));
    let second = run(&[]);
    assert_eq!(cache_line(&second.stderr), (6, 5, 0));
    assert_eq!(
        without_timing(&second.stdout),
        without_timing(&first.stdout)
    );
    // A changed document (same size) and a changed sidecar (same size) are read again.
    let mut bytes = std::fs::read(docs.join("PSS.xml")).unwrap();
    let at = bytes.len() - 2;
    bytes[at] = b' ';
    std::fs::write(docs.join("PSS.xml"), &bytes).unwrap();
    let side = std::fs::read_to_string(docs.join("DOC.json")).unwrap();
    std::fs::write(docs.join("DOC.json"), side.replace("XYZ", "WOR")).unwrap();
    let third = run(&[]);
    assert_eq!(cache_line(&third.stderr), (4, 3, 2));
    let cached = hits(&records(&third.stdout));
    assert!(!cached.contains("PSS.xml") && !cached.contains("DOC.xml"));
    assert_eq!(
        without_timing(&third.stdout),
        without_timing(&check_jsonl(&[os(&docs)]).stdout)
    );
    // --cache-rehash reads every document: all hit by content, none known by facts.
    assert_eq!(cache_line(&run(&[os("--cache-rehash")]).stderr), (6, 0, 0));
    // Other options, another index: every document is read once more, then known.
    let main = [os("--gateway-release"), os("main")];
    assert_eq!(cache_line(&run(&main).stderr), (0, 0, 6));
    assert_eq!(cache_line(&run(&main).stderr).1, 3);
    // --quiet keeps standard error silent.
    assert!(run(&[os("--quiet")]).stderr.is_empty());
}

#[test]
fn cache_prune_removes_what_is_old_and_the_next_run_stores_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    cache_corpus(&docs);
    let cache = dir.path().join("cache");
    let first = cached_run(&cache, &docs, &[]);
    let entries: Vec<PathBuf> = walk(&cache)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "rec"))
        .collect();
    assert_eq!(entries.len(), 6);
    // Two entries written 40 days ago.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 86_400);
    for e in &entries[..2] {
        std::fs::File::options()
            .write(true)
            .open(e)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let prune = |extra: &[&str]| {
        let mut a = vec![os("cache"), os("prune"), os("--cache"), os(&cache)];
        a.extend(extra.iter().map(os));
        fsecheck().args(&a).output().unwrap()
    };
    let dry = prune(&["--dry-run"]);
    assert_eq!(dry.status.code(), Some(0));
    let text = String::from_utf8_lossy(&dry.stdout).to_string();
    assert!(text.contains("2 file(s) would be removed"), "{text}");
    let done = prune(&[]);
    assert!(String::from_utf8_lossy(&done.stdout).contains("2 file(s) removed"));
    assert_eq!(
        walk(&cache)
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "rec"))
            .count(),
        4
    );
    // The next run checks those two again, reuses the rest, and gives the same records.
    let next = cached_run(&cache, &docs, &[]);
    assert_eq!(hits(&records(&next.stdout)).len(), 4);
    assert_eq!(without_timing(&next.stdout), without_timing(&first.stdout));
    // --older-than 0 empties it.
    assert!(String::from_utf8_lossy(&prune(&["--older-than", "0"]).stdout).contains("0 kept"));
    // No cache folder: a usage error.
    let none = fsecheck()
        .args(["cache", "prune"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
}

#[test]
fn a_zip_archive_named_as_a_document_is_not_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let entry = RawEntry::deflated("RSA.xml", &std::fs::read(xml_example()).unwrap());
    write_zip(&d.join("archive.xml"), std::slice::from_ref(&entry));
    write_zip(&d.join("archive.bin"), &[entry]);
    let recs = records(&check_jsonl(&[os(d)]).stdout);
    let paths: Vec<&str> = recs.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths[0].ends_with("archive.bin!/RSA.xml"), "{paths:?}");
    assert!(paths[1].ends_with("archive.xml"), "{paths:?}");
    assert_eq!(recs[1]["verdict"], "fail");
}

#[test]
fn cached_runs_keep_snippets_and_redaction() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    cache_corpus(&docs);
    let cache = dir.path().join("cache");
    let summary_free = |o: &std::process::Output| -> String {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.contains("docs/s"))
            .map(|l| l.to_string() + "\n")
            .collect()
    };
    let sarif = dir.path().join("r.sarif");
    let with = |cached: bool| {
        let mut a = vec![os("--output"), os(&format!("sarif={}", sarif.display()))];
        if cached {
            a.extend([os("--cache"), os(&cache)]);
        }
        a.push(os(&docs));
        let out = check_with_catalog(&catalog(), "human", &a);
        (summary_free(&out), std::fs::read_to_string(&sarif).unwrap())
    };
    let plain = with(false);
    // Warm the cache with a JSONL run (no text kept), then human + SARIF twice.
    check_jsonl(&[os("--cache"), os(&cache), os(&docs)]);
    let first = with(true);
    let second = with(true);
    assert!(plain.0.contains("LDO.pdf"), "{}", plain.0);
    assert_eq!(first, plain);
    assert_eq!(second, plain);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn find_file(dir: &Path, ext: &str) -> PathBuf {
    walk(dir)
        .into_iter()
        .find(|p| {
            p.extension().is_some_and(|x| x == ext) && std::fs::metadata(p).unwrap().len() > 100
        })
        .unwrap()
}

#[test]
fn shards_partition_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let entries: Vec<RawEntry> = (0..12)
        .map(|i| RawEntry::stored(&format!("e{i:02}.xml"), format!("<a n='{i}'/>").as_bytes()))
        .collect();
    write_zip(&d.join("batch.zip"), &entries);
    // Relative paths, so that which input falls in which shard does not depend on the temporary
    // folder's name.
    copy_tree(&shared().join("corpus/examples"), &d.join("examples"));
    let check_jsonl = |args: &[OsString]| {
        let mut all = vec![
            os("check"),
            os("--catalog"),
            os(&catalog()),
            os("--format"),
            os("jsonl"),
        ];
        all.extend(args.iter().cloned());
        fsecheck().current_dir(d).args(&all).output().unwrap()
    };
    let (examples, d) = (Path::new("examples"), Path::new("batch.zip"));
    let whole = check_jsonl(&[os(examples), os(d)]);
    let all: Vec<String> = records(&whole.stdout)
        .iter()
        .map(|r| r.to_string())
        .collect();
    let n = 3;
    let mut union: Vec<(String, usize)> = Vec::new();
    for i in 1..=n {
        let out = check_jsonl(&[os("--shard"), os(&format!("{i}/{n}")), os(&examples), os(d)]);
        let recs = records(&out.stdout);
        assert!(!recs.is_empty(), "shard {i} is empty");
        assert!(recs.len() < all.len(), "shard {i} holds everything");
        union.extend(recs.iter().map(|r| (r.to_string(), i)));
    }
    // Records are equal apart from timings; compare their paths and neutral content.
    let key = |s: &str| -> (String, String) {
        let v: serde_json::Value = serde_json::from_str(s).unwrap();
        (
            v["path"].as_str().unwrap().to_string(),
            neutral(&v).to_string(),
        )
    };
    let mut got: Vec<(String, String)> = union.iter().map(|(s, _)| key(s)).collect();
    got.sort();
    let mut want: Vec<(String, String)> = all.iter().map(|s| key(s)).collect();
    want.sort();
    assert_eq!(got, want, "each input in exactly one shard");
    // Archive entries spread over shards.
    let entry_shards: BTreeSet<usize> = union
        .iter()
        .filter(|(s, _)| s.contains("batch.zip!/"))
        .map(|(_, i)| *i)
        .collect();
    assert!(entry_shards.len() > 1, "{entry_shards:?}");

    for bad in ["0/3", "4/3", "1/0", "x", "2"] {
        let out = check_jsonl(&[os("--shard"), os(bad), os(d)]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("1 ≤ I ≤ N"), "{bad}: {err}");
    }
}
