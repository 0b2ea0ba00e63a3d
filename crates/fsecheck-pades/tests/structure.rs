//! PDF structure variants the corpus does not have: xref streams (Flate + PNG Up predictor),
//! object streams, hybrid chains with /Prev; the CDA must still be found.

use fsecheck_pades::{analyze, pdf, CdaMode, Options};
use std::io::Write;

const CDA: &str = "<?xml version=\"1.0\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>";

fn zlib(d: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(d).unwrap();
    e.finish().unwrap()
}

/// PNG "Up" predictor encoding of fixed-width rows.
fn png_up(rows: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![];
    let mut prev = vec![0u8; rows[0].len()];
    for r in rows {
        out.push(2);
        out.extend(r.iter().zip(&prev).map(|(a, b)| a.wrapping_sub(*b)));
        prev = r.clone();
    }
    out
}

/// Objects 1 (catalog) and 2 (pages) and 3 (filespec) live in object stream 5; 4 is the
/// embedded file; 6 is the xref stream.
fn xref_stream_pdf() -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let off4 = out.len();
    out.extend_from_slice(
        format!(
            "4 0 obj\n<< /Type /EmbeddedFile /Length {} >>\nstream\n{CDA}\nendstream\nendobj\n",
            CDA.len()
        )
        .as_bytes(),
    );
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(cda.xml) 3 0 R] >> >> >>",
        "<< /Type /Pages /Kids [] /Count 0 >>",
        "<< /Type /Filespec /F (cda.xml) /UF (cda.xml) /EF << /F 4 0 R >> >>",
    ];
    let mut body = String::new();
    let mut head = String::new();
    for (i, o) in objs.iter().enumerate() {
        head.push_str(&format!("{} {} ", i + 1, body.len()));
        body.push_str(o);
        body.push('\n');
    }
    let first = head.len();
    let data = zlib(format!("{head}{body}").as_bytes());
    let off5 = out.len();
    out.extend_from_slice(format!("5 0 obj\n<< /Type /ObjStm /N 3 /First {first} /Filter /FlateDecode /Length {} >>\nstream\n", data.len()).as_bytes());
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let off6 = out.len();
    let row = |t: u8, a: usize, b: u16| -> Vec<u8> {
        vec![t, (a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8]
    };
    let rows = vec![
        row(0, 0, 65535),
        row(2, 5, 0),
        row(2, 5, 1),
        row(2, 5, 2),
        row(1, off4, 0),
        row(1, off5, 0),
        row(1, off6, 0),
    ];
    let x = zlib(&png_up(&rows));
    out.extend_from_slice(
        format!(
            "6 0 obj\n<< /Type /XRef /Size 7 /W [1 2 2] /Root 1 0 R /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 5 >> /Length {} >>\nstream\n",
            x.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&x);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{off6}\n%%EOF\n").as_bytes());
    out
}

#[test]
fn xref_and_object_streams_are_read() {
    let b = xref_stream_pdf();
    let r = analyze(
        &b,
        &Options {
            cda_mode: CdaMode::Attachment,
            ..Options::default()
        },
    );
    assert_eq!(r.parse, "ok", "{:?}", r.findings);
    assert_eq!(r.cda_extraction.result, "ok", "{:?}", r.findings);
    assert_eq!(r.cda.as_ref().unwrap().bytes, CDA.as_bytes());
    assert!(r.gateway.cda_found);
    assert_eq!(r.gateway.signature_check, "unsigned");
    assert_eq!(
        r.gateway.sign_error.as_ref().unwrap().detail,
        "Il pdf non risulta firmato"
    );
}

#[test]
fn an_update_with_a_classic_table_over_an_xref_stream_is_one_more_revision() {
    let mut b = xref_stream_pdf();
    let scan = pdf::scan_revisions(&b, &pdf::Limits::default());
    let prev = scan.revisions[0].xref_offset;
    let off = b.len();
    b.extend_from_slice(b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 /Rotate 90 >>\nendobj\n");
    let x = b.len();
    b.extend_from_slice(format!("xref\n0 1\n0000000000 65535 f \n2 1\n{off:010} 00000 n \ntrailer\n<< /Size 7 /Root 1 0 R /Prev {prev} >>\nstartxref\n{x}\n%%EOF\n").as_bytes());
    let r = analyze(
        &b,
        &Options {
            cda_mode: CdaMode::Attachment,
            ..Options::default()
        },
    );
    assert_eq!(r.revisions.len(), 2);
    assert_eq!(r.cda_extraction.result, "ok");
    let limits = pdf::Limits::default();
    let scan = pdf::scan_revisions(&b, &limits);
    let doc = pdf::Doc::open(&b, &scan.revisions[1], &limits).unwrap();
    let pages = doc.get(2).unwrap();
    assert_eq!(
        pages
            .as_dict()
            .unwrap()
            .get("Rotate")
            .and_then(pdf::Obj::as_int),
        Some(90)
    );
    let old = pdf::Doc::open(&b, &scan.revisions[0], &limits).unwrap();
    assert!(old
        .get(2)
        .unwrap()
        .as_dict()
        .unwrap()
        .get("Rotate")
        .is_none());
}
