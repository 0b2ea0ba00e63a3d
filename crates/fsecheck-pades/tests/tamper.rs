//! Property tests (seeded, reproducible): tampering with signed PDFs must never leave a signature
//! reported as intact, and random or broken input must never panic.

use fsecheck_pades::{analyze, pdf, Options, PdfReport, TrustStore};
use std::path::PathBuf;

fn shared() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    assert!(
        p.join("pades/manifest.jsonl").is_file(),
        "shared test data missing at {}",
        p.display()
    );
    p
}

fn options() -> Options {
    let trust =
        TrustStore::from_path(&shared().join("pades/pki/root-ca.pem")).expect("root-ca.pem");
    Options {
        trust,
        ..Options::default()
    }
}

/// Seeds are fixed for CI; `PADES_SEED=<n>` shifts them all for longer local runs, and
/// `PADES_ROUNDS=<n>` multiplies the random-input rounds.
fn seed(base: u64) -> u64 {
    base ^ std::env::var("PADES_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn rounds() -> usize {
    std::env::var("PADES_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SIGNED: &[&str] = &[
    "pades/01_pades_bb_rsa.pdf",
    "pades/02_pades_bb_ecdsa.pdf",
    "pades/03_pades_bt_rsa.pdf",
    "pades/04_pades_blt_rsa.pdf",
    "pades/08_two_signatures.pdf",
    "pades/25_cda_resource_mode.pdf",
    "corpus/gateway-tests/files/pdf/LAB.pdf",
];

fn load(rel: &str) -> Vec<u8> {
    std::fs::read(shared().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn covers(br: &[usize; 4], pos: usize) -> bool {
    (br[0]..br[0] + br[1]).contains(&pos) || (br[2]..br[2] + br[3]).contains(&pos)
}

/// Every signature still reported intact must not cover `pos`.
fn assert_no_intact_signature_covers(rep: &PdfReport, pos: usize, ctx: &str) {
    for s in &rep.signatures {
        if s.integrity == "pass" {
            let br = s.byte_range.expect("an intact signature has a ByteRange");
            assert!(
                !covers(&br, pos),
                "{ctx}: signature {} still intact although byte {pos} in its range changed",
                s.field
            );
        }
    }
}

#[test]
fn flipping_a_signed_byte_breaks_the_signature() {
    let opts = options();
    let mut rng = Rng(seed(0x5eed_0001));
    let mut runs = 0;
    for rel in SIGNED {
        let base = load(rel);
        let rep = analyze(&base, &opts);
        let ranges: Vec<[usize; 4]> = rep
            .signatures
            .iter()
            .filter(|s| s.integrity == "pass")
            .filter_map(|s| s.byte_range)
            .collect();
        assert!(
            !ranges.is_empty(),
            "{rel}: base file must have an intact signature"
        );
        for _ in 0..60 {
            let br = ranges[rng.below(ranges.len())];
            let pos = if rng.below(2) == 0 {
                rng.below(br[1])
            } else {
                br[2] + rng.below(br[3])
            };
            let mut t = base.clone();
            t[pos] ^= 1 + rng.below(255) as u8;
            let r = analyze(&t, &opts);
            assert_no_intact_signature_covers(&r, pos, &format!("{rel} flip@{pos}"));
            runs += 1;
        }
    }
    assert!(runs >= 400);
}

/// Offsets inside the decoded CMS of the bytes that must be protected: the SignerInfo's signature
/// value and signed attributes. Returned as positions of hex digits in the file.
fn protected_hex_positions(file: &[u8], br: &[usize; 4]) -> Vec<usize> {
    let gap = &file[br[1] + 1..br[2] - 1];
    let blob: Vec<u8> = gap
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect();
    let sd = fsecheck_pades::cms::parse_signed_data(&blob).expect("base CMS parses");
    let si = &sd.signer_infos[0];
    let mut out = vec![];
    let mut mark = |needle: &[u8]| {
        if let Some(off) = pdf::find(&blob, needle) {
            for i in off..off + needle.len() {
                out.push(br[1] + 1 + 2 * i);
                out.push(br[1] + 2 + 2 * i);
            }
        }
    };
    mark(&si.signature);
    if let Some(sa) = &si.signed_attrs_der {
        mark(&sa[1..]);
    }
    // Zero padding after the CMS.
    let used = fsecheck_pades::der::ber_element_len(&blob, 0).unwrap();
    for i in used..blob.len() {
        out.push(br[1] + 1 + 2 * i);
    }
    out
}

#[test]
fn changing_the_signature_value_or_padding_breaks_the_signature() {
    let opts = options();
    let mut rng = Rng(seed(0x5eed_0002));
    for rel in SIGNED {
        let base = load(rel);
        let rep = analyze(&base, &opts);
        for s in rep
            .signatures
            .iter()
            .filter(|s| s.integrity == "pass" && s.kind == "signature")
        {
            let br = s.byte_range.unwrap();
            let positions = protected_hex_positions(&base, &br);
            assert!(!positions.is_empty());
            for _ in 0..25 {
                let pos = positions[rng.below(positions.len())];
                let mut t = base.clone();
                let old = pdf::hexval(t[pos]).unwrap();
                let new = (old + 1 + rng.below(15) as u8) % 16;
                t[pos] = b"0123456789abcdef"[new as usize];
                let r = analyze(&t, &opts);
                let same = r
                    .signatures
                    .iter()
                    .find(|x| x.field == s.field)
                    .expect("field still there");
                assert_eq!(
                    same.integrity, "fail",
                    "{rel}: hex digit at {pos} changed in {} but the signature is intact",
                    s.field
                );
            }
        }
    }
}

/// Appends an incremental update redefining object `num` with `body`.
fn append_update(file: &[u8], num: u32, body: &str) -> Vec<u8> {
    let limits = pdf::Limits::default();
    let scan = pdf::scan_revisions(file, &limits);
    let last = scan.revisions.last().expect("a revision");
    let doc = pdf::Doc::open(file, last, &limits).unwrap();
    let size = doc.xref.keys().max().copied().unwrap_or(0) + 1;
    let root = doc
        .trailer
        .get("Root")
        .and_then(pdf::Obj::as_ref)
        .unwrap()
        .0;
    let mut out = file.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let off = out.len();
    out.extend_from_slice(format!("{num} 0 obj\n{body}\nendobj\n").as_bytes());
    let xref = out.len();
    out.extend_from_slice(
        format!(
            "xref\n0 1\n0000000000 65535 f \n{num} 1\n{off:010} 00000 n \ntrailer\n<< /Size {} /Root {root} 0 R /Prev {} >>\nstartxref\n{xref}\n%%EOF\n",
            size.max(num + 1),
            last.xref_offset
        )
        .as_bytes(),
    );
    out
}

#[test]
fn redefining_a_signed_object_in_a_later_revision_is_never_accepted() {
    let opts = options();
    let mut rng = Rng(seed(0x5eed_0003));
    let mut runs = 0;
    for rel in [
        "pades/01_pades_bb_rsa.pdf",
        "pades/02_pades_bb_ecdsa.pdf",
        "pades/27_cda_nametree_kids.pdf",
    ] {
        let base = load(rel);
        let limits = pdf::Limits::default();
        let scan = pdf::scan_revisions(&base, &limits);
        let doc = pdf::Doc::open(&base, scan.revisions.last().unwrap(), &limits).unwrap();
        let info = doc
            .trailer
            .get("Info")
            .and_then(pdf::Obj::as_ref)
            .map(|r| r.0);
        let mut nums: Vec<u32> = doc
            .xref
            .iter()
            .filter(|(_, e)| !matches!(e, pdf::Entry::Free))
            .map(|(n, _)| *n)
            .filter(|n| Some(*n) != info)
            .collect();
        nums.sort();
        for _ in 0..25 {
            let num = nums[rng.below(nums.len())];
            let body = [
                "<< /Foo 1 >>",
                "[ 1 2 3 ]",
                "<< /Type /Page /Contents 9999 0 R >>",
                "(hidden text)",
            ][rng.below(4)];
            let t = append_update(&base, num, body);
            let r = analyze(&t, &opts);
            let first = r.modification.split_whitespace().next().unwrap_or("");
            assert!(
                first == "disallowed"
                    || first == "unknown"
                    || r.signatures.iter().all(|s| s.integrity == "fail")
                    || r.signatures.is_empty(),
                "{rel}: object {num} redefined as {body} but modification = {}",
                r.modification
            );
            assert_ne!(r.ades.verdict, "pass", "{rel}: object {num} redefined");
            runs += 1;
        }
    }
    assert_eq!(runs, 75);
}

#[test]
fn replacing_the_cda_after_signing_is_caught() {
    let opts = options();
    let base = load("pades/01_pades_bb_rsa.pdf");
    let limits = pdf::Limits::default();
    let scan = pdf::scan_revisions(&base, &limits);
    let doc = pdf::Doc::open(&base, scan.revisions.last().unwrap(), &limits).unwrap();
    // The embedded file stream behind cda.xml.
    let (atts, _) = fsecheck_pades::cda::list_attachments(&doc);
    let fs = atts[0].filespec.unwrap().0;
    let fsd = doc.get(fs).unwrap();
    let ef = fsd
        .as_dict()
        .unwrap()
        .get("EF")
        .unwrap()
        .as_dict()
        .unwrap()
        .get("F")
        .unwrap()
        .as_ref()
        .unwrap()
        .0;
    let fake = "<?xml version=\"1.0\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>forged</title></ClinicalDocument>";
    let t = append_update(
        &base,
        ef,
        &format!(
            "<< /Type /EmbeddedFile /Length {} >>\nstream\n{fake}\nendstream",
            fake.len()
        ),
    );
    let r = analyze(&t, &opts);
    assert_eq!(r.cda_extraction.result, "ok_but_unsigned");
    // What we hand on is the signed CDA, not the forged one.
    let handed = r.cda.as_ref().expect("signed CDA");
    assert!(!String::from_utf8_lossy(&handed.bytes).contains("forged"));
    assert_eq!(
        Some(&handed.sha256),
        r.cda_extraction.signed_revision_sha256.as_ref()
    );
    assert!(
        r.modification.starts_with("disallowed"),
        "{}",
        r.modification
    );
    assert_eq!(r.ades.verdict, "fail");
    assert!(r
        .findings
        .iter()
        .any(|f| f.id == "pdf/cda-changed-after-signing"));
    // The gateway itself would accept it: that is the point of the ades lens.
    assert_eq!(r.gateway.signature_check, "valid");
    assert_eq!(r.signatures[0].integrity, "pass");
    assert_eq!(r.signatures[0].coverage, "entire_revision");
}

#[test]
fn random_and_broken_input_never_panics() {
    let opts = options();
    let mut rng = Rng(seed(0x5eed_0004));
    // Pure noise after a PDF header.
    for _ in 0..200 {
        let n = rng.below(4096);
        let mut b = b"%PDF-1.7\n".to_vec();
        b.extend((0..n).map(|_| rng.next() as u8));
        let r = analyze(&b, &opts);
        assert_eq!(r.parse, "fail");
        assert!(r.findings.iter().any(|f| f.id == "pdf/unreadable"));
    }
    // Noise sprinkled with PDF keywords.
    let words: &[&[u8]] = &[
        b"obj",
        b"endobj",
        b"<<",
        b">>",
        b"[",
        b"]",
        b"xref\n",
        b"trailer",
        b"startxref\n",
        b"%%EOF\n",
        b"stream\n",
        b"endstream",
        b"/Root 1 0 R",
        b"0 ",
        b"1 0 R ",
        b"(",
        b")",
        b"<",
        b">",
    ];
    for _ in 0..300 {
        let mut b = b"%PDF-1.7\n".to_vec();
        for _ in 0..rng.below(200) {
            if rng.below(3) == 0 {
                b.extend((0..rng.below(8)).map(|_| rng.next() as u8));
            } else {
                b.extend_from_slice(words[rng.below(words.len())]);
            }
        }
        let _ = analyze(&b, &opts);
    }
    // Mutations and truncations of real files anywhere (structure included).
    for rel in SIGNED {
        let base = load(rel);
        for _ in 0..40 * rounds() {
            let mut t = base.clone();
            for _ in 0..1 + rng.below(8) {
                let p = rng.below(t.len());
                t[p] = rng.next() as u8;
            }
            let _ = analyze(&t, &opts);
            let cut = rng.below(base.len());
            let r = analyze(&base[..cut], &opts);
            for s in r.signatures.iter().filter(|s| s.integrity == "pass") {
                let br = s.byte_range.unwrap();
                assert!(
                    br[2] + br[3] <= cut,
                    "{rel} cut at {cut}: intact signature beyond the end"
                );
            }
        }
    }
}

#[test]
fn limits_turn_bombs_and_deep_nesting_into_findings() {
    use std::io::Write;
    let mut opts = options();
    // Deeply nested arrays in the catalog.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let pdf = minimal_pdf(
        &format!("<< /Type /Catalog /Pages 2 0 R /X {deep} >>"),
        None,
    );
    let r = analyze(&pdf, &opts);
    assert_eq!(r.parse, "fail");
    // A decompression bomb as the embedded cda.xml: 8 MiB of zeros.
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![0u8; 8 << 20]).unwrap();
    let bomb = enc.finish().unwrap();
    opts.limits.max_inflate_ratio = 100;
    let cat = "<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [ (cda.xml) 3 0 R ] >> >> >>";
    let pdf = minimal_pdf(cat, Some(&bomb));
    let r = analyze(&pdf, &opts);
    assert_eq!(r.parse, "ok");
    assert_eq!(r.cda_extraction.result, "fail");
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "pdf/cda-unreadable")
        .expect("finding");
    assert!(f.message.contains("limit"), "{}", f.message);
}

/// A tiny one-revision PDF: object 1 = catalog text, 2 = pages, 3 = filespec, 4 = embedded stream.
fn minimal_pdf(catalog: &str, embedded: Option<&[u8]>) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offs = vec![];
    let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offs.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, catalog.as_bytes());
    obj(&mut out, b"<< /Type /Pages /Kids [] /Count 0 >>");
    if let Some(e) = embedded {
        obj(
            &mut out,
            b"<< /Type /Filespec /F (cda.xml) /EF << /F 4 0 R >> >>",
        );
        let mut s = format!(
            "<< /Type /EmbeddedFile /Filter /FlateDecode /Length {} >>\nstream\n",
            e.len()
        )
        .into_bytes();
        s.extend_from_slice(e);
        s.extend_from_slice(b"\nendstream");
        obj(&mut out, &s);
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offs.len() + 1).as_bytes());
    for o in &offs {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offs.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn deleting_a_signed_object_in_a_later_revision_is_disallowed() {
    let opts = options();
    let base = load("pades/01_pades_bb_rsa.pdf");
    let limits = pdf::Limits::default();
    let scan = pdf::scan_revisions(&base, &limits);
    let last = scan.revisions.last().unwrap();
    let doc = pdf::Doc::open(&base, last, &limits).unwrap();
    let root = doc
        .trailer
        .get("Root")
        .and_then(pdf::Obj::as_ref)
        .unwrap()
        .0;
    // Free the page content stream (object of the signed revision).
    let cat = doc.catalog().unwrap();
    let pages = doc.resolve_dict(cat.get("Pages")).unwrap();
    let page = doc
        .resolve_dict(
            pages
                .get("Kids")
                .and_then(pdf::Obj::as_array)
                .unwrap()
                .first(),
        )
        .unwrap();
    let content = page.get("Contents").and_then(pdf::Obj::as_ref).unwrap().0;
    let mut t = base.clone();
    let x = t.len();
    t.extend_from_slice(
        format!(
            "xref\n0 1\n0000000000 65535 f \n{content} 1\n0000000000 00001 f \ntrailer\n<< /Size {} /Root {root} 0 R /Prev {} >>\nstartxref\n{x}\n%%EOF\n",
            doc.xref.len() + 1,
            last.xref_offset
        )
        .as_bytes(),
    );
    let r = analyze(&t, &opts);
    assert!(
        r.modification.starts_with("disallowed"),
        "{}",
        r.modification
    );
    assert!(r.modification.contains("deleted"), "{}", r.modification);
    assert_eq!(r.ades.verdict, "fail");
}

#[test]
fn pathological_marker_floods_stay_bounded() {
    let opts = options();
    for unit in [
        &b"%%EOF\n"[..],
        b"startxref\n9\n%%EOF\n",
        b"1 0 obj ",
        b" obj",
    ] {
        let mut b = b"%PDF-1.7\n".to_vec();
        while b.len() < 4 << 20 {
            b.extend_from_slice(unit);
        }
        let t = std::time::Instant::now();
        let r = analyze(&b, &opts);
        assert_eq!(r.parse, "fail");
        assert!(
            t.elapsed().as_secs() < 20,
            "{:?} took {:?}",
            String::from_utf8_lossy(unit),
            t.elapsed()
        );
    }
}

#[test]
fn asn1_parsers_never_panic_on_mutated_cms() {
    use fsecheck_pades::{cms, der, trust, x509};
    let mut rng = Rng(seed(0x5eed_0005));
    // Real CMS blobs: RSA with a timestamp token (03), the ministry's BER CMS (LAB).
    let mut blobs = vec![];
    for rel in [
        "pades/03_pades_bt_rsa.pdf",
        "pades/04_pades_blt_rsa.pdf",
        "corpus/gateway-tests/files/pdf/LAB.pdf",
    ] {
        let b = load(rel);
        let r = analyze(&b, &options());
        let br = r.signatures[0].byte_range.unwrap();
        let (blob, _) = pdf::hex_decode(&b[br[1] + 1..br[2] - 1]);
        blobs.push(blob);
    }
    for _ in 0..300 * rounds() {
        let base = &blobs[rng.below(blobs.len())];
        let len = der::ber_element_len(base, 0).unwrap();
        let mut t = base[..len].to_vec();
        for _ in 0..1 + rng.below(6) {
            let p = rng.below(t.len());
            t[p] = rng.next() as u8;
        }
        if rng.below(4) == 0 {
            t.truncate(rng.below(t.len()));
        }
        let _ = der::ber_to_der(&t);
        let _ = cms::parse_signed_data(&t);
        let _ = x509::Cert::parse(&t);
        let _ = trust::parse_crl(&t);
        let _ = trust::parse_ocsp(&t);
        let _ = trust::verify_timestamp(&t, b"data", &options().trust, &[]);
        // Sub-structures: every TLV offset as a start.
        let start = rng.below(t.len().max(1));
        if start < t.len() {
            let _ = x509::Cert::parse(&t[start..]);
            let _ = trust::parse_ocsp(&t[start..]);
            let _ = der::ber_to_der(&t[start..]);
        }
    }
}
