//! Documents made by our own test signer (tests/common) with a throw-away PKI generated here:
//! algorithms, certificate checks, levels, revocation, CDA naming rules, DocMDP, tampering.

mod common;
use common::*;
use fsecheck_pades::{analyze, CdaMode, Options, PdfReport};

fn opts(p: &Pki) -> Options {
    Options {
        trust: trust_of(p),
        cda_mode: CdaMode::Attachment,
        ..Options::default()
    }
}

fn cda_pdf() -> Pdf {
    base_pdf(&Attach::Flat(vec![(
        "cda.xml",
        "cda.xml",
        Some("cda.xml"),
        CDA,
    )]))
}

/// Signs `pdf` as PAdES B-B (`ETSI.CAdES.detached`) with `s`, carrying signer + intermediate.
fn sign_bb(pdf: &mut Pdf, p: &Pki, s: &Issued, field: &str) {
    let inter = p.inter.der.clone();
    sign_pdf(pdf, field, "ETSI.CAdES.detached", false, "", &|content| {
        signed_data(s, &[&s.der, &inter], content, None, &SignOpts::default())
    });
}

fn sig0(r: &PdfReport) -> &fsecheck_pades::SignatureReport {
    r.signatures.first().expect("a signature")
}

fn assert_all_good(r: &PdfReport, level: &str) {
    let s = sig0(r);
    assert_eq!(s.integrity, "pass", "{:#?}", r.findings);
    assert_eq!(s.chain_trust, "pass", "{:#?}", r.findings);
    assert_eq!(s.validity_at_signing_time, "pass");
    assert_eq!(s.key_usage, "pass");
    assert_eq!(s.level, level);
}

#[test]
fn every_supported_algorithm_verifies() {
    let p = pki();
    let keys = [
        ("p256", Key::p256("s1"), "ECDSA"),
        ("p384", Key::p384("s2"), "ECDSA"),
        ("rsa", Key::rsa(11, false), "RSA"),
        ("pss", Key::rsa(12, true), "PSS"),
    ];
    for (i, (label, key, _)) in keys.into_iter().enumerate() {
        let s = signer(
            &p,
            label,
            100 + i as u64,
            key,
            (2024, 1, 1),
            (2030, 1, 1),
            Some(0xc0),
        );
        let mut pdf = cda_pdf();
        sign_bb(&mut pdf, &p, &s, "Firma1");
        let r = analyze(&pdf.bytes, &opts(&p));
        assert_all_good(&r, "B-B");
        assert_eq!(r.gateway.signature_check, "valid");
        assert_eq!(sig0(&r).coverage, "entire_file");
        assert_eq!(sig0(&r).signer.as_deref(), Some(label));
        assert_eq!(r.cda_extraction.result, "ok");
        assert_eq!(r.ades.verdict, "pass", "{label}: {:?}", r.ades.reasons);
        assert_eq!(r.modification, "none");
    }
}

#[test]
fn certificate_checks_fail_each_in_its_own_way() {
    let p = pki();
    // (from, to, ku, field checked, expected first word)
    type Date = (i64, u32, u32);
    let cases: [(Date, Date, Option<u8>, &str); 4] = [
        (
            (2020, 1, 1),
            (2021, 1, 1),
            Some(0x80),
            "validity_at_signing_time",
        ),
        (
            (2030, 1, 1),
            (2035, 1, 1),
            Some(0x80),
            "validity_at_signing_time",
        ),
        ((2024, 1, 1), (2030, 1, 1), Some(0x20), "key_usage"),
        ((2024, 1, 1), (2030, 1, 1), Some(0x40), "none"),
    ];
    for (i, (from, to, ku, field)) in cases.into_iter().enumerate() {
        let s = signer(
            &p,
            "signer",
            200 + i as u64,
            Key::p256(&format!("k{i}")),
            from,
            to,
            ku,
        );
        let mut pdf = cda_pdf();
        sign_bb(&mut pdf, &p, &s, "Firma1");
        let r = analyze(&pdf.bytes, &opts(&p));
        let sg = sig0(&r);
        assert_eq!(sg.integrity, "pass");
        assert_eq!(sg.chain_trust, "pass");
        // The gateway checks none of this.
        assert_eq!(r.gateway.signature_check, "valid");
        match field {
            "validity_at_signing_time" => {
                assert!(
                    sg.validity_at_signing_time.starts_with("fail"),
                    "{}",
                    sg.validity_at_signing_time
                );
                assert_eq!(sg.signing_time_source, "M (claimed)");
                assert_eq!(r.ades.verdict, "fail");
            }
            "key_usage" => {
                assert!(sg.key_usage.starts_with("fail"));
                assert_eq!(r.ades.verdict, "fail");
            }
            _ => {
                // nonRepudiation alone is enough.
                assert_eq!(sg.key_usage, "pass");
                assert_eq!(r.ades.verdict, "pass");
            }
        }
    }
    // Untrusted: nothing in the trust store.
    let s = signer(
        &p,
        "signer",
        300,
        Key::p256("u"),
        (2024, 1, 1),
        (2030, 1, 1),
        Some(0x80),
    );
    let mut pdf = cda_pdf();
    sign_bb(&mut pdf, &p, &s, "Firma1");
    let r = analyze(&pdf.bytes, &Options::default());
    assert!(sig0(&r).chain_trust.starts_with("fail"));
    assert_eq!(sig0(&r).integrity, "pass");
}

#[test]
fn timestamps_dss_and_document_timestamps_raise_the_level() {
    let p = pki();
    // Signer expired before the claimed /M, but the signature timestamp proves an earlier time.
    let s = signer(
        &p,
        "signer",
        400,
        Key::p256("lt"),
        (2024, 1, 1),
        (2025, 3, 1),
        Some(0x80),
    );
    let mut pdf = cda_pdf();
    let inter = p.inter.der.clone();
    let tsa_der = p.tsa.der.clone();
    sign_pdf(
        &mut pdf,
        "Firma1",
        "ETSI.CAdES.detached",
        false,
        "",
        &|content| {
            let first = signed_data(&s, &[&s.der, &inter], content, None, &SignOpts::default());
            let tok = timestamp_token(
                &p.tsa,
                &[&tsa_der],
                &signature_value(&first),
                "20250201120000Z",
            );
            signed_data(
                &s,
                &[&s.der, &inter],
                content,
                None,
                &SignOpts {
                    timestamp: Some(tok),
                    ..SignOpts::default()
                },
            )
        },
    );
    let r = analyze(&pdf.bytes, &opts(&p));
    assert_all_good(&r, "B-T");
    assert_eq!(r.gateway.signature_check, "valid");
    assert_eq!(sig0(&r).signature_timestamp, "valid");
    assert_eq!(sig0(&r).signing_time_source, "signature_timestamp");
    assert_eq!(
        sig0(&r).signing_time.as_deref(),
        Some("2025-02-01T12:00:00Z")
    );

    // DSS with the chain and a CRL that does not list the signer → B-LT, revocation good.
    let crl_der = crl(&p.inter, &[(999, (2025, 1, 1))]);
    let dss_objs = vec![
        (60, stream("", &s.der)),
        (61, stream("", &p.inter.der)),
        (62, stream("", &crl_der)),
        (
            63,
            b"<< /Type /DSS /Certs [60 0 R 61 0 R] /CRLs [62 0 R] >>".to_vec(),
        ),
    ];
    let mut objs = dss_objs.clone();
    objs.push((1, catalog_with(&pdf, "/DSS 63 0 R")));
    pdf.revision(&objs);
    let r = analyze(&pdf.bytes, &opts(&p));
    assert_all_good(&r, "B-LT");
    assert_eq!(sig0(&r).coverage, "entire_revision");
    assert!(r.modification.starts_with("allowed"), "{}", r.modification);
    assert_eq!(sig0(&r).revocation.split_whitespace().next(), Some("good"));

    // Document timestamp after the DSS → B-LTA; the timestamp itself is reported too.
    let tsa2 = p.tsa.der.clone();
    sign_pdf(&mut pdf, "DocTS", "ETSI.RFC3161", true, "", &|content| {
        timestamp_token(&p.tsa, &[&tsa2], content, "20250601120000Z")
    });
    let r = analyze(&pdf.bytes, &opts(&p));
    assert_eq!(r.signatures.len(), 2);
    assert_all_good(&r, "B-LTA");
    let ts = &r.signatures[1];
    assert_eq!(ts.kind, "doc_timestamp");
    assert_eq!(ts.integrity, "pass");
    assert_eq!(ts.chain_trust, "pass");
    assert_eq!(ts.coverage, "entire_file");
    assert!(r.modification.starts_with("allowed"), "{}", r.modification);
    assert_eq!(r.ades.verdict, "pass", "{:?}", r.ades.reasons);
    // BouncyCastle, handed the ByteRange as content, finds the TSTInfo digest instead: the
    // gateway's check rejects a document timestamp field (last field wins).
    assert_eq!(r.gateway.signature_check, "invalid");
}

#[test]
fn a_crl_revoking_the_signer_is_reported() {
    let p = pki();
    let s = signer(
        &p,
        "signer",
        500,
        Key::p256("rv"),
        (2024, 1, 1),
        (2030, 1, 1),
        Some(0x80),
    );
    let mut pdf = cda_pdf();
    sign_bb(&mut pdf, &p, &s, "Firma1");
    let crl_der = crl(&p.inter, &[(500, (2025, 1, 1))]);
    pdf.revision(&[
        (60, stream("", &crl_der)),
        (61, b"<< /Type /DSS /CRLs [60 0 R] >>".to_vec()),
        (1, catalog_with(&pdf, "/DSS 61 0 R")),
    ]);
    let r = analyze(&pdf.bytes, &opts(&p));
    assert!(
        sig0(&r).revocation.starts_with("revoked"),
        "{}",
        sig0(&r).revocation
    );
    assert!(r.findings.iter().any(|f| f.id == "sig/revoked"));
    assert_eq!(r.ades.verdict, "fail");
}

#[test]
fn cda_naming_rules_follow_the_gateway() {
    let p = pki();
    let s = signer(
        &p,
        "signer",
        600,
        Key::p256("cda"),
        (2024, 1, 1),
        (2030, 1, 1),
        Some(0x80),
    );
    let other = "<?xml version=\"1.0\"?><metadati/>";
    // (attachments, our result, gateway finds it?)
    let cases: Vec<(Attach, &str, bool)> = vec![
        (
            Attach::Flat(vec![("CDA.xml", "CDA.xml", None, CDA)]),
            "near_miss",
            false,
        ),
        (
            Attach::Flat(vec![("cda2.xml", "cda2.xml", None, CDA)]),
            "near_miss",
            false,
        ),
        (
            Attach::Flat(vec![("referto.xml", "referto.xml", Some("cda.xml"), CDA)]),
            "near_miss",
            false,
        ),
        (Attach::Flat(vec![("x", "cda.xml", None, CDA)]), "ok", true),
        (
            Attach::Flat(vec![
                ("a.xml", "a.xml", None, CDA),
                ("b.xml", "b.xml", None, CDA),
            ]),
            "ambiguous",
            false,
        ),
        (
            Attach::Flat(vec![
                ("cda.xml", "cda.xml", None, CDA),
                ("meta.xml", "meta.xml", None, other),
            ]),
            "ok_with_warning",
            true,
        ),
        (
            Attach::Flat(vec![("meta.xml", "meta.xml", None, other)]),
            "none",
            false,
        ),
        (Attach::Nested("cda.xml", 1), "ok", true),
        (Attach::Nested("cda.xml", 2), "near_miss", false),
        (Attach::None, "none", false),
    ];
    for (i, (att, result, gw)) in cases.into_iter().enumerate() {
        let mut pdf = base_pdf(&att);
        sign_bb(&mut pdf, &p, &s, "Firma1");
        let r = analyze(&pdf.bytes, &opts(&p));
        assert_eq!(
            r.cda_extraction.result, result,
            "case {i}: {:?}",
            r.findings
        );
        assert_eq!(r.gateway.cda_found, gw, "case {i}");
        if !gw {
            assert_eq!(
                r.gateway.cda_error.as_ref().unwrap().type_,
                "/msg/cda-element"
            );
        }
        if result == "near_miss" {
            assert!(
                r.findings.iter().any(|f| f.id == "pdf/cda-near-miss"),
                "case {i}"
            );
            assert!(
                r.cda.is_some(),
                "case {i}: the near miss is still handed on"
            );
        }
        assert_eq!(sig0(&r).integrity, "pass");
    }
}

#[test]
fn docmdp_no_changes_turns_an_annotation_into_a_disallowed_change() {
    let p = pki();
    let s = signer(
        &p,
        "signer",
        700,
        Key::p256("mdp"),
        (2024, 1, 1),
        (2030, 1, 1),
        Some(0x80),
    );
    for (extra, expected) in [
        ("", "allowed-with-warning"),
        ("/Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P 1 /V /1.2 >> >>]", "disallowed"),
    ] {
        let mut pdf = cda_pdf();
        let inter = p.inter.der.clone();
        sign_pdf(&mut pdf, "Firma1", "ETSI.CAdES.detached", false, extra, &|content| {
            signed_data(&s, &[&s.der, &inter], content, None, &SignOpts::default())
        });
        pdf.revision(&[
            (70, b"<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (nota) >>".to_vec()),
            (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> /Annots [70 0 R] >>".to_vec()),
        ]);
        let r = analyze(&pdf.bytes, &opts(&p));
        assert_eq!(r.modification.split_whitespace().next(), Some(expected), "{}", r.modification);
        assert_eq!(sig0(&r).integrity, "pass");
    }
}

#[test]
fn legacy_subfilters_and_sha1() {
    let p = pki();
    let s = signer(
        &p,
        "signer",
        800,
        Key::rsa(21, false),
        (2024, 1, 1),
        (2030, 1, 1),
        Some(0x80),
    );
    // adbe.pkcs7.detached with a signing-time attribute.
    let mut pdf = cda_pdf();
    let inter = p.inter.der.clone();
    sign_pdf(
        &mut pdf,
        "Firma1",
        "adbe.pkcs7.detached",
        false,
        "",
        &|content| {
            signed_data(
                &s,
                &[&s.der, &inter],
                content,
                None,
                &SignOpts {
                    signing_time: Some("20250602093000Z"),
                    ..SignOpts::default()
                },
            )
        },
    );
    let r = analyze(&pdf.bytes, &opts(&p));
    assert_eq!(sig0(&r).integrity, "pass");
    assert_eq!(sig0(&r).level, "none (PKCS#7-B)");
    assert_eq!(
        sig0(&r).signing_time_source,
        "signing_time_attribute (claimed)"
    );
    assert_eq!(r.ades.verdict, "warn");
    // A CAdES signature carrying signing-time is not baseline B-B.
    let mut pdf = cda_pdf();
    sign_pdf(
        &mut pdf,
        "Firma1",
        "ETSI.CAdES.detached",
        false,
        "",
        &|content| {
            signed_data(
                &s,
                &[&s.der, &inter],
                content,
                None,
                &SignOpts {
                    signing_time: Some("20250602093000Z"),
                    ..SignOpts::default()
                },
            )
        },
    );
    let r = analyze(&pdf.bytes, &opts(&p));
    assert!(
        sig0(&r).level.starts_with("none (not PAdES baseline"),
        "{}",
        sig0(&r).level
    );
}

#[test]
fn random_tampering_of_our_own_signed_file_is_always_caught() {
    let p = pki();
    let s = signer(
        &p,
        "signer",
        900,
        Key::p256("tamper"),
        (2024, 1, 1),
        (2030, 1, 1),
        Some(0x80),
    );
    let mut pdf = cda_pdf();
    sign_bb(&mut pdf, &p, &s, "Firma1");
    let o = opts(&p);
    let base = analyze(&pdf.bytes, &o);
    let br = sig0(&base).byte_range.unwrap();
    let mut x: u64 = 0x1234_5678;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let pos = if x % 2 == 0 {
            (x as usize / 2) % br[1]
        } else {
            br[2] + (x as usize / 2) % br[3]
        };
        let mut t = pdf.bytes.clone();
        t[pos] ^= 1 + (x >> 40) as u8 % 255;
        let r = analyze(&t, &o);
        for sg in r.signatures.iter().filter(|s| s.integrity == "pass") {
            let b = sg.byte_range.unwrap();
            assert!(
                !((b[0]..b[0] + b[1]).contains(&pos) || (b[2]..b[2] + b[3]).contains(&pos)),
                "flip at {pos} not caught"
            );
        }
    }
}

#[test]
fn an_empty_signature_field_is_noted_but_breaks_only_the_gateway_check() {
    let p = pki();
    let s = signer(
        &p,
        "signer",
        1000,
        Key::p256("empty"),
        (2024, 1, 1),
        (2030, 1, 1),
        Some(0x80),
    );
    let mut pdf = cda_pdf();
    let cat = catalog_with(&pdf, "/AcroForm 81 0 R");
    pdf.revision(&[
        (
            80,
            b"<< /FT /Sig /T (Vuota) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] >>".to_vec(),
        ),
        (81, b"<< /Fields [80 0 R] >>".to_vec()),
        (1, cat),
    ]);
    sign_bb(&mut pdf, &p, &s, "Firma1");
    let r = analyze(&pdf.bytes, &opts(&p));
    assert_eq!(r.signatures.len(), 1);
    assert_all_good(&r, "B-B");
    assert!(r.findings.iter().any(|f| f.id == "sig/empty-field"));
    assert_eq!(r.ades.verdict, "pass", "{:?}", r.ades.reasons);
    assert!(r.gateway.signed);
    // PDFBox throws on the empty top-level field: the gateway rejects the document.
    assert_eq!(r.gateway.signature_check, "invalid");
}

#[test]
fn two_fields_sharing_one_signature_value_are_flagged() {
    let p = pki();
    let s = signer(
        &p,
        "signer",
        1100,
        Key::p256("dup"),
        (2024, 1, 1),
        (2030, 1, 1),
        Some(0x80),
    );
    let mut pdf = cda_pdf();
    let first_new = pdf.size.max(40);
    sign_bb(&mut pdf, &p, &s, "Firma1");
    let (field, value, acro) = (first_new, first_new + 1, first_new + 2);
    pdf.revision(&[
        (
            90,
            format!("<< /FT /Sig /T (Copia) /V {value} 0 R >>").into_bytes(),
        ),
        (
            acro,
            format!("<< /Fields [{field} 0 R 90 0 R] /SigFlags 3 >>").into_bytes(),
        ),
    ]);
    let r = analyze(&pdf.bytes, &opts(&p));
    assert_eq!(r.signatures.len(), 2);
    assert!(
        r.findings.iter().any(|f| f.id == "sig/byterange-collision"),
        "{:?}",
        r.findings
    );
    assert_eq!(r.ades.verdict, "warn", "{:?}", r.ades.reasons);
    assert!(r.modification.starts_with("allowed"), "{}", r.modification);
}

#[test]
fn an_unsigned_signature_field_alone_differs_between_gateway_variants() {
    let mut pdf = cda_pdf();
    let cat = catalog_with(&pdf, "/AcroForm 81 0 R");
    pdf.revision(&[
        (
            80,
            b"<< /FT /Sig /T (Vuota) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] >>".to_vec(),
        ),
        (81, b"<< /Fields [80 0 R] >>".to_vec()),
        (1, cat),
    ]);
    let main = analyze(&pdf.bytes, &Options::default());
    assert!(!main.gateway.signed);
    assert_eq!(
        main.gateway.sign_error.as_ref().unwrap().detail,
        "Il pdf non risulta firmato"
    );
    let release = analyze(
        &pdf.bytes,
        &Options {
            gateway: fsecheck_pades::GatewayVariant::Release,
            ..Options::default()
        },
    );
    assert!(release.gateway.signed);
    assert_eq!(release.gateway.signature_check, "invalid");
    assert_eq!(
        release.gateway.sign_error.as_ref().unwrap().detail,
        "La firma del pdf non risulta valida"
    );
    // Either way there is no signature for us.
    assert!(main.signatures.is_empty() && release.signatures.is_empty());
    assert!(main.findings.iter().any(|f| f.id == "sig/unsigned"));
}
