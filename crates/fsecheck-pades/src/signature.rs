//! Per-signature evaluation: ByteRange, CMS, integrity, certificates, timestamps, level,
//! modifications after signing; and the gateway's own signature check.

use crate::cms::{self, CmsError, SignedData};
use crate::crypto::Hash;
use crate::modif::{self, Class};
use crate::pdf::{Dict, Doc, Obj, Revision};
use crate::report::{IntegrityDetail, SignatureReport};
use crate::trust::{self, DigestCheck};
use crate::x509::{self, Cert};
use crate::Options;
use fsecheck_core::{Finding, Stage};

pub(crate) struct SigField {
    pub name: String,
    pub top_level: bool,
    pub sig_ref: Option<(u32, u16)>,
    /// The resolved `/V` dictionary, if any.
    pub sig: Option<Dict>,
}

/// Signature fields of the AcroForm (whole field tree, bounded), in document order.
pub(crate) fn signature_fields(doc: &Doc<'_>) -> Vec<SigField> {
    let mut out = vec![];
    let Some(cat) = doc.catalog() else { return out };
    let Some(af) = doc.resolve_dict(cat.get("AcroForm")) else {
        return out;
    };
    let fields = match af.get("Fields").map(|o| doc.resolve(o)) {
        Some(Obj::Array(a)) => a,
        _ => return out,
    };
    let mut budget = 10_000usize;
    let mut seen = std::collections::HashSet::new();
    for f in &fields {
        walk_field(doc, f, "", None, 0, true, &mut budget, &mut seen, &mut out);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn walk_field(
    doc: &Doc<'_>,
    f: &Obj,
    prefix: &str,
    inherited_ft: Option<Vec<u8>>,
    depth: usize,
    top: bool,
    budget: &mut usize,
    seen: &mut std::collections::HashSet<u32>,
    out: &mut Vec<SigField>,
) {
    if depth > 16 || *budget == 0 {
        return;
    }
    *budget -= 1;
    if let Some((n, _)) = f.as_ref() {
        if !seen.insert(n) {
            return;
        }
    }
    let Some(d) = doc.resolve_dict(Some(f)) else {
        return;
    };
    let t = d
        .get("T")
        .and_then(Obj::as_str)
        .map(crate::cda::text_string);
    let name = match (&t, prefix.is_empty()) {
        (Some(t), true) => t.clone(),
        (Some(t), false) => format!("{prefix}.{t}"),
        (None, _) => prefix.to_string(),
    };
    let ft = d.name("FT").map(<[u8]>::to_vec).or(inherited_ft);
    if let Some(Obj::Array(kids)) = d.get("Kids").map(|o| doc.resolve(o)) {
        // Kids that are fields (have /T) are walked; pure widgets are not fields.
        let field_kids: Vec<&Obj> = kids
            .iter()
            .filter(|k| {
                doc.resolve_dict(Some(k))
                    .is_some_and(|kd| kd.get("T").is_some())
            })
            .collect();
        if !field_kids.is_empty() {
            for k in field_kids {
                walk_field(
                    doc,
                    k,
                    &name,
                    ft.clone(),
                    depth + 1,
                    false,
                    budget,
                    seen,
                    out,
                );
            }
            return;
        }
    }
    if ft.as_deref() == Some(b"Sig") {
        let v = d.get("V");
        let sig = doc.resolve_dict(v);
        out.push(SigField {
            name,
            top_level: top,
            sig_ref: v.and_then(Obj::as_ref),
            sig,
        });
    }
}

pub(crate) struct Ctx<'a> {
    pub bytes: &'a [u8],
    pub revs: &'a [Revision],
    pub opts: &'a Options,
    pub latest: &'a Doc<'a>,
}

pub(crate) struct Evaluated {
    pub report: SignatureReport,
    pub findings: Vec<Finding>,
    pub signed_revision: Option<usize>,
    /// Signed bytes altered (digest mismatch) or CMS unreadable.
    pub tampered: bool,
    pub is_doc_ts: bool,
    pub ts_valid: bool,
    pub docmdp: Option<i64>,
    /// The gateway's (BouncyCastle) verdict on this field, when it reads exactly the CMS we read.
    pub gw: Option<GwField>,
}

/// Outcome of the gateway's per-field check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GwField {
    /// An exception: the whole check fails.
    Exception,
    Valid,
    Invalid,
}

/// Certificates, CRLs and OCSP responses from the document security store.
fn dss_material(doc: &Doc<'_>) -> (Vec<Cert>, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut certs = vec![];
    let mut crls = vec![];
    let Some(dss) = doc.catalog().and_then(|c| doc.resolve_dict(c.get("DSS"))) else {
        return (certs, crls, vec![]);
    };
    let streams = |key: &str| -> Vec<Vec<u8>> {
        match dss.get(key).map(|o| doc.resolve(o)) {
            Some(Obj::Array(a)) => a
                .iter()
                .filter_map(|o| match doc.resolve(o) {
                    Obj::Stream(s) => doc.stream_data(&s).ok(),
                    _ => None,
                })
                .take(1000)
                .collect(),
            _ => vec![],
        }
    };
    for c in streams("Certs") {
        if let Ok(c) = Cert::parse(&c) {
            certs.push(c);
        }
    }
    crls.extend(streams("CRLs"));
    let ocsps = streams("OCSPs");
    (certs, crls, ocsps)
}

fn parse_pdf_date(s: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(s).ok()?;
    let s = s.strip_prefix("D:").unwrap_or(s);
    let n = |a: usize, b: usize, d: i64| -> Option<i64> {
        match s.get(a..b) {
            Some(x) if !x.is_empty() => x.parse().ok(),
            _ => Some(d),
        }
    };
    let y = n(0, 4, -1)?;
    if y < 0 {
        return None;
    }
    let (mo, d, h, mi, se) = (
        n(4, 6, 1)?,
        n(6, 8, 1)?,
        n(8, 10, 0)?,
        n(10, 12, 0)?,
        n(12, 14, 0)?,
    );
    let mut t = crate::der::days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    if let Some(tz) = s.get(14..) {
        let sign = match tz.chars().next() {
            Some('+') => -1,
            Some('-') => 1,
            _ => 0,
        };
        if sign != 0 {
            let digits: String = tz[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let oh: i64 = digits.get(0..2).and_then(|x| x.parse().ok()).unwrap_or(0);
            let om: i64 = digits.get(2..4).and_then(|x| x.parse().ok()).unwrap_or(0);
            t += sign * (oh * 3600 + om * 60);
        }
    }
    Some(t)
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

pub(crate) fn evaluate(ctx: &Ctx<'_>, field: &SigField) -> Evaluated {
    let bytes = ctx.bytes;
    let mut findings = vec![];
    let fname = field.name.clone();
    let sig = field.sig.clone().unwrap_or_default();
    let subfilter = sig
        .name("SubFilter")
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let is_doc_ts = sig.is_type("DocTimeStamp") || subfilter == "ETSI.RFC3161";
    let mut det = IntegrityDetail {
        byte_range: "ok".into(),
        message_digest: "n/a".into(),
        signature_value: "n/a".into(),
        cms: "ok".into(),
        signing_certificate_v2: "n/a".into(),
    };
    let err = |id: &str, msg: String| {
        Finding::error(id, Stage::Signature, msg).with_detail("field", fname.clone())
    };
    let warn = |id: &str, msg: String| {
        Finding::warning(id, Stage::Signature, msg).with_detail("field", fname.clone())
    };

    // --- ByteRange ---------------------------------------------------------------------
    let contents = sig
        .get("Contents")
        .and_then(Obj::as_str)
        .map(<[u8]>::to_vec);
    let br: Option<[usize; 4]> = match sig.get("ByteRange") {
        Some(Obj::Array(a)) if a.len() == 4 => {
            let v: Vec<i64> = a.iter().filter_map(Obj::as_int).collect();
            if v.len() == 4 && v.iter().all(|&x| x >= 0) {
                Some([v[0] as usize, v[1] as usize, v[2] as usize, v[3] as usize])
            } else {
                None
            }
        }
        _ => None,
    };
    let mut parts: Option<(std::ops::Range<usize>, std::ops::Range<usize>)> = None;
    let mut gap_pure_hex = false;
    match br {
        None => {
            det.byte_range = "malformed".into();
            findings.push(err("sig/byterange-malformed", "The signature's /ByteRange is missing or is not four non-negative integers, so nothing is provably signed.".into()));
        }
        Some([a, b, c, d]) => {
            if a != 0 || b > c {
                det.byte_range = "malformed".into();
                findings.push(err("sig/byterange-malformed", "The signature's /ByteRange does not start at the beginning of the file or its ranges overlap.".into()));
            } else if c.checked_add(d).is_none_or(|e| e > bytes.len()) {
                det.byte_range = "out_of_bounds".into();
                findings.push(err("sig/byterange-out-of-bounds", "The signature's /ByteRange points past the end of the file (the file is truncated or was altered).".into()));
            } else {
                parts = Some((0..b, c..c + d));
                let gap = &bytes[b..c];
                let gap_ok = gap.len() >= 2 && gap[0] == b'<' && gap[gap.len() - 1] == b'>' && {
                    let (dec, info) = crate::pdf::hex_decode(&gap[1..gap.len() - 1]);
                    gap_pure_hex = !info.invalid && !info.whitespace;
                    !info.invalid && contents.as_deref() == Some(dec.as_slice())
                };
                if !gap_ok {
                    det.byte_range = "gap_not_equal_to_contents".into();
                    findings.push(err(
                        "sig/byterange-gap",
                        format!(
                            "The bytes left out of the signature ({} bytes at offset {b}) are not exactly the signature value, so unsigned content could be hidden there.",
                            c - b
                        ),
                    )
                    .with_hint("This is the precondition of a signature-wrapping attack; a correct signer excludes only the /Contents hex string."));
                }
            }
        }
    }

    // --- Coverage and signed revision ---------------------------------------------------
    let end = br.map(|[_, _, c, d]| c.saturating_add(d));
    let signed_revision = end.and_then(|e| {
        ctx.revs
            .iter()
            .position(|r| e >= r.eof_pos + 5 && e <= r.end)
    });
    let coverage = if det.byte_range != "ok" {
        "unclear"
    } else if end == Some(bytes.len()) {
        "entire_file"
    } else if signed_revision.is_some() {
        "entire_revision"
    } else {
        "partial"
    };
    if coverage == "partial" {
        findings.push(err("sig/partial-coverage", "The signature covers only the beginning of the file and does not end at a revision boundary.".into()));
    }

    let signed_parts: Vec<&[u8]> = match &parts {
        Some((p1, p2)) => vec![&bytes[p1.clone()], &bytes[p2.clone()]],
        None => vec![],
    };
    let digest_parts = |h: Hash| h.digest_parts(&signed_parts);

    // DSS material from the latest revision (certificates for path building, CRLs).
    let (dss_certs, dss_crls, dss_ocsps) = dss_material(ctx.latest);

    let mut report = SignatureReport {
        field: fname.clone(),
        kind: if is_doc_ts {
            "doc_timestamp"
        } else {
            "signature"
        }
        .into(),
        signer: None,
        subfilter: subfilter.clone(),
        byte_range: br,
        digest: None,
        integrity: "fail".into(),
        integrity_detail: det.clone(),
        chain_trust: "n/a".into(),
        validity_at_signing_time: "n/a".into(),
        key_usage: "n/a".into(),
        revocation: "not_checked".into(),
        signature_timestamp: "none".into(),
        level: "n/a".into(),
        coverage: coverage.into(),
        signed_revision,
        signing_time: None,
        signing_time_source: "validation_time".into(),
        modification: "n/a".into(),
        changes: vec![],
        etsi_indication: "TOTAL_FAILED/FORMAT_FAILURE".into(),
        top_level_field: field.top_level,
    };
    let docmdp = modif::docmdp_permission(ctx.latest, &sig);
    let mut ev = Evaluated {
        report: report.clone(),
        findings: vec![],
        signed_revision,
        tampered: false,
        is_doc_ts,
        ts_valid: false,
        docmdp,
        gw: None,
    };

    if field.sig.is_none() {
        // Not reached from `analyze` (empty fields are only noted there).
        det.cms = "empty".into();
        report.integrity_detail = det;
        ev.report = report;
        ev.findings = findings;
        return ev;
    }

    // --- CMS -----------------------------------------------------------------------------
    let blob = contents.clone().unwrap_or_default();
    if is_doc_ts {
        let pool: Vec<&Cert> = dss_certs.iter().collect();
        let joined: Vec<u8> = signed_parts.concat();
        let ts = trust::verify_timestamp(&blob, &joined, &ctx.opts.trust, &pool);
        det.cms = if blob.iter().all(|&b| b == 0) {
            "empty".into()
        } else {
            "ok".into()
        };
        let intact = ts.status != "invalid";
        det.message_digest = if intact { "match".into() } else { "n/a".into() };
        det.signature_value = if intact { "valid".into() } else { "n/a".into() };
        report.signer = ts.tsa.clone();
        report.chain_trust = match ts.status {
            "valid" => "pass".into(),
            "untrusted" => format!("fail ({})", ts.problem.clone().unwrap_or_default()),
            _ => "n/a".into(),
        };
        report.validity_at_signing_time = if ts.status == "valid" {
            "pass".into()
        } else {
            report.chain_trust.clone()
        };
        report.key_usage = if ts.status == "valid" {
            "pass".into()
        } else {
            "n/a".into()
        };
        report.level = "n/a (document timestamp)".into();
        report.signing_time = ts.gen_time.map(crate::der::format_time);
        report.signing_time_source = "signature_timestamp".into();
        report.integrity = if intact && det.byte_range == "ok" {
            "pass"
        } else {
            "fail"
        }
        .into();
        report.etsi_indication = match (report.integrity.as_str(), ts.status) {
            ("pass", "valid") => "TOTAL_PASSED".into(),
            ("pass", _) => "INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND".into(),
            _ => "TOTAL_FAILED/HASH_FAILURE".into(),
        };
        if let Some(p) = ts.problem {
            if ts.status == "invalid" {
                ev.tampered = true;
                findings.push(err(
                    "sig/doc-timestamp-invalid",
                    format!("The document timestamp is not valid: {p}."),
                ));
            } else {
                findings.push(err(
                    "sig/doc-timestamp-untrusted",
                    format!("The document timestamp cannot be trusted: {p}."),
                ));
            }
        }
        ev.ts_valid = ts.status == "valid" && report.integrity == "pass";
        report.integrity_detail = det;
        ev.report = report;
        ev.findings = findings;
        return ev;
    }

    let sd: SignedData = match cms::parse_signed_data(&blob) {
        Ok(sd) => sd,
        Err(CmsError::Empty) => {
            det.cms = "empty".into();
            findings.push(err(
                "sig/cms-empty",
                "The signature field contains no signature: its /Contents is empty or all zeros."
                    .into(),
            ));
            report.integrity_detail = det;
            ev.report = report;
            ev.findings = findings;
            return ev;
        }
        Err(CmsError::Parse(e)) => {
            det.cms = "parse_error".into();
            findings.push(err(
                "sig/cms-unreadable",
                format!("The signature value cannot be read as a CMS SignedData structure ({e})."),
            ));
            ev.tampered = true;
            report.integrity_detail = det;
            ev.report = report;
            ev.findings = findings;
            return ev;
        }
    };
    if sd.trailing_garbage > 0 {
        det.cms = "trailing_data".into();
        findings.push(err(
            "sig/contents-trailing-data",
            format!(
                "The signature value is followed by {} non-zero bytes inside /Contents; a signature placeholder may only be padded with zeros.",
                sd.trailing_garbage
            ),
        ));
    }
    if sd.was_ber {
        findings.push(
            Finding::info("sig/cms-ber", Stage::Signature, "The CMS signature uses BER encoding (indefinite lengths); it was normalised to DER to verify it.")
                .with_detail("field", fname.clone()),
        );
    }
    if sd.signer_infos.len() > 1 {
        findings.push(warn(
            "sig/several-signer-infos",
            format!(
                "The CMS carries {} SignerInfos; only the first is checked, as the gateway does.",
                sd.signer_infos.len()
            ),
        ));
    }
    let si = &sd.signer_infos[0];

    // pkcs7.sha1: the encapsulated content is SHA-1 of the ByteRange; the SignerInfo signs it.
    let is_sha1_subfilter = subfilter == "adbe.pkcs7.sha1";
    let mut econtent_ok = true;
    let check = if is_sha1_subfilter {
        let ec = sd.econtent.clone().unwrap_or_default();
        econtent_ok = sd.econtent.is_some() && ec == Hash::Sha1.digest_parts(&signed_parts);
        trust::check_signer(&sd, si, &|h| h.digest(&ec))
    } else {
        if sd.econtent.is_some() {
            findings.push(warn("sig/cms-not-detached", "The CMS signature encapsulates content although the SubFilter says detached; the encapsulated content is ignored.".into()));
        }
        trust::check_signer(&sd, si, &digest_parts)
    };
    // The gateway reads the CMS from the gap; when the gap is exactly our /Contents (pure hex)
    // and the content is the ByteRange (not pkcs7.sha1), its BouncyCastle check sees our facts.
    let gap_pure_hex = gap_pure_hex && det.byte_range == "ok";
    if gap_pure_hex && !is_sha1_subfilter && sig.get("M").is_some() {
        ev.gw = Some(bc_verdict(si, &check));
    }
    report.digest = check.hash.map(|h| h.name().to_string());
    det.message_digest = match (&check.message_digest, econtent_ok) {
        (DigestCheck::Match, true) => "match".into(),
        (DigestCheck::Match, false) | (DigestCheck::Mismatch, _) => "mismatch".into(),
        (DigestCheck::Missing, _) => "missing".into(),
        (DigestCheck::Unsupported(_), _) => "n/a".into(),
    };
    if det.byte_range != "ok" && det.byte_range != "gap_not_equal_to_contents" {
        det.message_digest = "n/a".into();
    }
    det.signature_value = match &check.signature_valid {
        Ok(()) => "valid".into(),
        Err(_) if check.cert.is_none() => "n/a".into(),
        Err(_) => "invalid".into(),
    };
    det.signing_certificate_v2 = match (check.signing_cert_binding, check.signing_cert_v2_present) {
        (Some(false), _) => "mismatch".into(),
        (Some(true), true) => "present".into(),
        (Some(true), false) => "v1".into(),
        (None, _) => "absent".into(),
    };
    let content_type_ok = check.content_type_attr.is_some();
    if det.message_digest == "mismatch" {
        ev.tampered = true;
        findings.push(err("sig/digest-mismatch", "The signed bytes of the PDF do not match the digest recorded in the signature: the document was changed after signing.".into()));
    } else if det.message_digest == "missing" {
        findings.push(err(
            "sig/message-digest-missing",
            "The signature has no messageDigest attribute, so it does not bind the document."
                .into(),
        ));
    }
    if let Err(e) = &check.signature_valid {
        findings.push(err(
            "sig/signature-invalid",
            format!("The cryptographic signature value is not valid: {e}."),
        ));
    }
    if !content_type_ok && si.signed_attrs_der.is_some() {
        findings.push(err(
            "sig/content-type-missing",
            "The signature lacks the content-type signed attribute that CMS requires.".into(),
        ));
    }
    if det.signing_certificate_v2 == "mismatch" {
        findings.push(err("sig/signing-certificate-mismatch", "The signing-certificate attribute names a different certificate than the one that signed.".into()));
    }
    if check.hash == Some(Hash::Sha1) || is_sha1_subfilter {
        findings.push(warn(
            "sig/weak-sha1",
            "The signature uses SHA-1, which current policies no longer accept for new signatures."
                .into(),
        ));
    }
    let integrity = det.byte_range == "ok"
        && det.cms == "ok"
        && det.message_digest == "match"
        && det.signature_value == "valid"
        && content_type_ok
        && det.signing_certificate_v2 != "mismatch";
    report.integrity = if integrity { "pass" } else { "fail" }.into();

    // --- Certificates ------------------------------------------------------------------
    let mut pool: Vec<&Cert> = sd.certs.iter().collect();
    pool.extend(dss_certs.iter());
    let mut sig_ts_time = None;
    if let Some(tsattr) = si.unsigned(cms::OID_SIGNATURE_TIMESTAMP) {
        let token = tsattr.values.first().cloned().unwrap_or_default();
        let ts = trust::verify_timestamp(&token, &si.signature, &ctx.opts.trust, &pool);
        report.signature_timestamp = match ts.status {
            "valid" => "valid".into(),
            s => format!("{s} ({})", ts.problem.clone().unwrap_or_default()),
        };
        if ts.status == "valid" {
            sig_ts_time = ts.gen_time;
            ev.ts_valid = true;
        } else {
            findings.push(warn(
                "sig/timestamp-invalid",
                format!(
                    "The signature timestamp is {}: {}.",
                    ts.status,
                    ts.problem.unwrap_or_default()
                ),
            ));
        }
    }
    let (t, source) = if let Some(t) = sig_ts_time {
        (t, "signature_timestamp")
    } else if let Some(t) = check.signing_time {
        (t, "signing_time_attribute (claimed)")
    } else if let Some(t) = sig.get("M").and_then(Obj::as_str).and_then(parse_pdf_date) {
        (t, "M (claimed)")
    } else {
        (crate::now_secs(ctx.opts), "validation_time")
    };
    report.signing_time = Some(crate::der::format_time(t));
    report.signing_time_source = source.into();

    let mut chain_fail = None;
    let mut validity_fail: Option<String> = None;
    let mut ku_fail = false;
    let mut revoked = false;
    if let Some(cert) = &check.cert {
        report.signer = Some(cert.subject_cn.clone());
        let path = trust::build_path(cert, &pool, &ctx.opts.trust);
        report.chain_trust = if path.trusted {
            "pass".into()
        } else {
            let p = path.problem.clone().unwrap_or_default();
            chain_fail = Some(p.clone());
            if ctx.opts.trust.anchors.is_empty() {
                // Without anchors nothing can be trusted: say so instead of failing every file.
                findings.push(
                    warn(
                        "sig/chain-untrusted",
                        format!(
                            "The signer's certificate could not be checked against a trusted \
                             authority because no trust anchors were given: {p}."
                        ),
                    )
                    .with_hint(
                        "Pass the certification authorities you trust with --trust FILE|DIR.",
                    ),
                );
            } else {
                findings.push(err(
                    "sig/chain-untrusted",
                    format!("The signer's certificate does not chain to a trusted authority: {p}."),
                ));
            }
            "fail (no chain to a trust anchor)".into()
        };
        report.validity_at_signing_time = match trust::validity_at(&path.path, t) {
            Ok(()) => "pass".into(),
            Err(e) => {
                let short = if e.starts_with("expired") {
                    "fail (expired before signing time)"
                } else {
                    "fail (not yet valid at signing time)"
                };
                let claimed = if source.contains("claimed") {
                    " (the signing time is only claimed by the signer)"
                } else {
                    ""
                };
                let why = e.split_once(": ").map(|x| x.1).unwrap_or(&e);
                findings.push(err(
                    "sig/certificate-not-valid-at-signing-time",
                    format!(
                        "The certificate was not valid when the document was signed{claimed}: {why}."
                    ),
                ));
                validity_fail = Some(short.to_string());
                short.into()
            }
        };
        report.key_usage = match cert.key_usage {
            Some(ku) if ku & (x509::KU_DIGITAL_SIGNATURE | x509::KU_NON_REPUDIATION) == 0 => {
                ku_fail = true;
                findings.push(err("sig/key-usage", "The signer's certificate is not allowed to sign documents (key usage has neither digitalSignature nor nonRepudiation).".into()));
                "fail (neither digitalSignature nor nonRepudiation)".into()
            }
            _ => "pass".into(),
        };
        if !cert.unknown_critical.is_empty() {
            findings.push(warn(
                "sig/unknown-critical-extension",
                format!(
                    "The signer's certificate has critical extensions we do not understand ({}).",
                    cert.unknown_critical.join(", ")
                ),
            ));
        }
        let mut crls = sd.crls.clone();
        crls.extend(dss_crls.iter().cloned());
        let mut ocsps = dss_ocsps.clone();
        if let Some(a) = si.attr(cms::OID_ADBE_REVOCATION) {
            let (c, o) = adbe_revocation(a);
            crls.extend(c);
            ocsps.extend(o);
        }
        let (status, note) = trust::revocation_status_full(&path.path, &crls, &ocsps, t);
        report.revocation = match (status, note) {
            ("revoked", Some(n)) => {
                revoked = true;
                findings.push(err("sig/revoked", format!("A certificate in the signer's chain was revoked before the signing time: {n}.")));
                format!("revoked ({n})")
            }
            (s, Some(n)) => format!("{s} ({n})"),
            (s, None) => s.into(),
        };
    } else {
        findings.push(err("sig/signer-certificate-missing", "The signer's certificate is not included in the signature, so the signer cannot be identified.".into()));
    }

    // --- Level (before extensions by later revisions) -----------------------------------
    report.level = match subfilter.as_str() {
        "ETSI.CAdES.detached" => {
            let mut why = vec![];
            if check.content_type_attr.as_deref() != Some(cms::OID_DATA) {
                why.push("content-type is not id-data");
            }
            if det.message_digest == "missing" {
                why.push("no messageDigest");
            }
            if det.signing_certificate_v2 == "absent" {
                why.push("no signing-certificate attribute");
            }
            if check.signing_time.is_some() {
                why.push("signing-time attribute present");
            }
            if why.is_empty() {
                "B-B".into()
            } else {
                findings.push(warn(
                    "sig/not-baseline",
                    format!("The signature is not PAdES baseline: {}.", why.join(", ")),
                ));
                format!("none (not PAdES baseline: {})", why.join(", "))
            }
        }
        "adbe.pkcs7.detached" => {
            findings.push(warn("sig/not-pades", "The signature uses the legacy adbe.pkcs7.detached format, not PAdES baseline (ETSI.CAdES.detached).".into()));
            if ev.ts_valid {
                "none (PKCS#7-T)".into()
            } else {
                "none (PKCS#7-B)".into()
            }
        }
        "adbe.pkcs7.sha1" => {
            findings.push(warn("sig/deprecated-subfilter", "The signature uses the deprecated adbe.pkcs7.sha1 format (SHA-1), not PAdES baseline.".into()));
            "none (PKCS#7, deprecated SHA-1)".into()
        }
        other => {
            findings.push(warn(
                "sig/unknown-subfilter",
                format!("The signature's SubFilter '{other}' is not a PAdES format."),
            ));
            format!("none (SubFilter {other})")
        }
    };

    report.etsi_indication = if !integrity {
        if det.byte_range != "ok" || det.cms != "ok" || !content_type_ok {
            "TOTAL_FAILED/FORMAT_FAILURE"
        } else if det.message_digest != "match" {
            "TOTAL_FAILED/HASH_FAILURE"
        } else {
            "TOTAL_FAILED/SIG_CRYPTO_FAILURE"
        }
    } else if check.cert.is_none() {
        "INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND"
    } else if revoked {
        "INDETERMINATE/REVOKED_NO_POE"
    } else if chain_fail.is_some() {
        "INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND"
    } else if let Some(v) = &validity_fail {
        if v.contains("expired") {
            "INDETERMINATE/OUT_OF_BOUNDS_NO_POE"
        } else {
            "INDETERMINATE/NOT_YET_VALID"
        }
    } else if ku_fail {
        "INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE"
    } else if check.hash == Some(Hash::Sha1) || is_sha1_subfilter {
        "INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    } else {
        "TOTAL_PASSED"
    }
    .into();

    // Signature dictionary spoofing: the dictionary in the signed revision must be the same.
    if let (Some(k), Some((num, _))) = (signed_revision, field.sig_ref) {
        if k + 1 < ctx.revs.len() {
            if let Ok(sdoc) = Doc::open_chain(ctx.bytes, ctx.revs, k, &ctx.opts.limits) {
                let before = sdoc.get(num);
                if before.as_ref().and_then(Obj::as_dict) != Some(&sig) {
                    findings.push(err("sig/dictionary-changed", "The signature dictionary was rewritten after signing (its /M, /Reason or other entries differ from the signed version).".into()));
                }
            }
        }
    }

    report.integrity_detail = det;
    ev.report = report;
    ev.findings = findings;
    let _ = first_word;
    ev
}

/// CRLs and OCSP responses from an adbe-revocationInfoArchival attribute:
/// `SEQUENCE { crl [0] EXPLICIT SEQUENCE OF CRL OPTIONAL, ocsp [1] EXPLICIT SEQUENCE OF
/// OCSPResponse OPTIONAL, … }`.
fn adbe_revocation(a: &cms::Attribute) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut crls, mut ocsps) = (vec![], vec![]);
    let Some(v) = a.values.first() else {
        return (crls, ocsps);
    };
    let Ok(seq) = crate::der::Reader::new(v).read_tag(0x30) else {
        return (crls, ocsps);
    };
    let mut r = seq.children();
    while !r.is_empty() {
        let Ok(item) = r.read() else { break };
        let target = match item.tag {
            0xa0 => &mut crls,
            0xa1 => &mut ocsps,
            _ => continue,
        };
        if let Ok(list) = item.children().read_tag(0x30) {
            let mut lr = list.children();
            while !lr.is_empty() {
                match lr.read() {
                    Ok(c) => target.push(c.raw.to_vec()),
                    Err(_) => break,
                }
            }
        }
    }
    (crls, ocsps)
}

/// Hex digits → bytes, skipping anything that is not a hex digit (odd count: last nibble 0).
fn hex_decode_loose(h: &[u8]) -> Vec<u8> {
    crate::pdf::hex_decode(h).0
}

/// The excluded gaps of different signatures must not overlap (DSS `ByteRangeCollisionCheck`):
/// overlapping gaps mean two signatures claim the same bytes as their value.
pub(crate) fn check_collisions(sigs: &mut [Evaluated]) {
    let gaps: Vec<Option<(usize, usize)>> = sigs
        .iter()
        .map(|s| {
            s.report
                .byte_range
                .filter(|_| s.report.integrity_detail.byte_range == "ok")
                .map(|[_, b, c, _]| (b, c))
        })
        .collect();
    for i in 0..sigs.len() {
        for j in i + 1..sigs.len() {
            let (Some(a), Some(b)) = (gaps[i], gaps[j]) else {
                continue;
            };
            if a.0 < b.1 && b.0 < a.1 {
                let same = a == b;
                let names = format!("'{}' and '{}'", sigs[i].report.field, sigs[j].report.field);
                for k in [i, j] {
                    let f = if same {
                        Finding::warning(
                            "sig/byterange-collision",
                            Stage::Signature,
                            format!(
                                "The signature fields {names} point to the same signature value."
                            ),
                        )
                    } else {
                        sigs[k].report.integrity = "fail".into();
                        sigs[k].report.etsi_indication = "TOTAL_FAILED/FORMAT_FAILURE".into();
                        Finding::error(
                            "sig/byterange-collision",
                            Stage::Signature,
                            format!("The signatures {names} exclude overlapping parts of the file, so their signed ranges cannot both be right."),
                        )
                    };
                    sigs[k]
                        .findings
                        .push(f.with_detail("field", sigs[k].report.field.clone()));
                }
            }
        }
    }
}

/// Upgrades B-B signatures to B-T / B-LT / B-LTA using later revisions.
pub(crate) fn assign_levels(ctx: &Ctx<'_>, sigs: &mut [Evaluated]) {
    if !sigs.iter().any(|s| !s.is_doc_ts && s.report.level == "B-B") {
        return;
    }
    // Revisions whose catalog adds or changes /DSS.
    let mut dss_revs = vec![];
    let mut prev_dss: Option<Obj> = None;
    for r in ctx.revs {
        if let Ok(d) = Doc::open_chain(ctx.bytes, ctx.revs, r.index, &ctx.opts.limits) {
            let cur = d.catalog().and_then(|c| c.get("DSS").map(|o| d.resolve(o)));
            if cur.is_some() && cur != prev_dss {
                dss_revs.push(r.index);
            }
            prev_dss = cur;
        }
    }
    let doc_ts: Vec<usize> = sigs
        .iter()
        .filter(|s| s.is_doc_ts && s.ts_valid)
        .filter_map(|s| s.signed_revision)
        .collect();
    for s in sigs.iter_mut() {
        if s.is_doc_ts || s.report.level != "B-B" {
            continue;
        }
        let Some(k) = s.signed_revision else { continue };
        let t = s.ts_valid || doc_ts.iter().any(|&d| d > k);
        if !t {
            continue;
        }
        s.report.level = "B-T".into();
        let Some(&dss) = dss_revs.iter().find(|&&d| d > k) else {
            continue;
        };
        s.report.level = "B-LT".into();
        if doc_ts.iter().any(|&d| d >= dss) {
            s.report.level = "B-LTA".into();
        }
    }
}

/// Fills the modification verdict of one signature.
pub(crate) fn modification(ctx: &Ctx<'_>, s: &mut Evaluated) {
    if s.tampered {
        s.report.modification = "n/a (signed bytes altered or signature unreadable)".into();
        return;
    }
    if s.report.coverage == "unclear" {
        s.report.modification = "unknown (uncovered bytes inside the revision)".into();
        return;
    }
    let Some(k) = s.signed_revision else {
        s.report.modification = "unknown (the signed revision cannot be determined)".into();
        return;
    };
    let changes = modif::analyse(ctx.bytes, ctx.revs, k, s.docmdp, &ctx.opts.limits);
    let worst = changes.iter().map(|c| c.class).max().unwrap_or(Class::None);
    // One phrase per kind of change (the full list is in `changes`).
    let mut details: Vec<String> = vec![];
    let mut kinds: Vec<&str> = vec![];
    for c in changes.iter().filter(|c| c.class == worst) {
        if !kinds.contains(&c.what.as_str()) {
            kinds.push(&c.what);
            details.push(c.detail.clone());
        }
    }
    s.report.modification = if worst == Class::None {
        "none".into()
    } else {
        format!("{} ({})", worst.as_str(), details.join("; "))
    };
    let field = s.report.field.clone();
    match worst {
        Class::Disallowed => s.findings.push(
            Finding::error(
                "sig/modified-after-signing",
                Stage::Signature,
                format!("The PDF was changed after it was signed in a way a signature does not allow: {}.", details.join("; ")),
            )
            .with_hint("Content added in a later revision is not covered by the signature (incremental saving attack); the gateway does not detect this.")
            .with_detail("field", field),
        ),
        Class::Unknown => s.findings.push(
            Finding::warning(
                "sig/unclassified-change",
                Stage::Signature,
                format!("The PDF was changed after signing in a way we cannot classify: {}.", details.join("; ")),
            )
            .with_detail("field", field),
        ),
        Class::AllowedWithWarning => s.findings.push(
            Finding::warning(
                "sig/annotation-after-signing",
                Stage::Signature,
                format!("Something was added after signing that the signature permits but that was not signed: {}.", details.join("; ")),
            )
            .with_detail("field", field),
        ),
        _ => {}
    }
    s.report.changes = changes;
}

/// BouncyCastle `SignerInformation.verify` semantics on our signer check.
fn bc_verdict(si: &cms::SignerInfo, chk: &trust::SignerCheck) -> GwField {
    let Some(cert) = &chk.cert else {
        return GwField::Exception;
    };
    if si.signed_attrs_der.is_some() {
        if chk.content_type_attr.is_none() || chk.message_digest != DigestCheck::Match {
            // Missing content-type or CMSSignerDigestMismatchException.
            return GwField::Exception;
        }
        if let Some(st) = chk.signing_time {
            if st < cert.not_before || st > cert.not_after {
                return GwField::Exception;
            }
        }
    }
    if chk.signature_valid.is_ok() {
        GwField::Valid
    } else {
        GwField::Invalid
    }
}

/// The gateway's `SignerUtility.validate` on the latest revision: top-level signature fields,
/// CMS from the ByteRange gap, first SignerInfo, BouncyCastle semantics, last field wins, any
/// exception → invalid.
pub(crate) fn gateway_check(
    bytes: &[u8],
    fields: &[SigField],
    facts: &[Option<GwField>],
) -> &'static str {
    if fields.iter().all(|f| f.sig.is_none()) {
        return "unsigned";
    }
    let mut status = false;
    let mut any_top = false;
    // PDFBox only sees top-level fields in acroForm.getFields().
    for (i, f) in fields.iter().enumerate().filter(|(_, f)| f.top_level) {
        any_top = true;
        let verdict = match facts.get(i).copied().flatten() {
            Some(v) => v,
            None => gateway_field(bytes, f),
        };
        match verdict {
            GwField::Exception => return "invalid",
            v => status = v == GwField::Valid,
        }
    }
    if any_top && status {
        "valid"
    } else {
        "invalid"
    }
}

/// One field the gateway's way, from the file bytes (CMS hex-decoded from the ByteRange gap).
fn gateway_field(bytes: &[u8], f: &SigField) -> GwField {
    let Some(sig) = &f.sig else {
        return GwField::Exception;
    };
    if sig.get("M").is_none() {
        return GwField::Exception;
    }
    let br: Vec<i64> = match sig.get("ByteRange") {
        Some(Obj::Array(a)) => a.iter().filter_map(Obj::as_int).collect(),
        _ => return GwField::Exception,
    };
    if br.len() != 4 || br.iter().any(|&x| x < 0) {
        return GwField::Exception;
    }
    let (a, b, c, d) = (
        br[0] as usize,
        br[1] as usize,
        br[2] as usize,
        br[3] as usize,
    );
    let begin = a.saturating_add(b).saturating_add(1);
    if begin > c
        || c > bytes.len()
        || c.saturating_add(d) > bytes.len()
        || a.saturating_add(b) > bytes.len()
    {
        return GwField::Exception;
    }
    let mut gap = &bytes[begin..c];
    if gap.last() == Some(&b'>') {
        gap = &gap[..gap.len() - 1];
    }
    let s = gap
        .iter()
        .position(|x| !x.is_ascii_whitespace())
        .unwrap_or(gap.len());
    let e = gap
        .iter()
        .rposition(|x| !x.is_ascii_whitespace())
        .map(|e| e + 1)
        .unwrap_or(s);
    let trimmed = &gap[s..e.max(s)];
    if !trimmed.iter().all(|x| crate::pdf::hexval(*x).is_some()) {
        return GwField::Exception;
    }
    let cms_bytes = hex_decode_loose(trimmed);
    let sd = match cms::parse_signed_data(&cms_bytes) {
        Ok(sd) => sd,
        Err(_) => return GwField::Exception,
    };
    let Some(si) = sd.signer_infos.first() else {
        return GwField::Exception;
    };
    let signed = [&bytes[a..a + b], &bytes[c..c + d]];
    let chk = trust::check_signer(&sd, si, &|h| h.digest_parts(&signed));
    bc_verdict(si, &chk)
}
