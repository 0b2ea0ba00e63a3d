//! Trust anchors, certification path building (RFC 5280, bounded), embedded revocation data
//! (CRLs evaluated offline) and RFC 3161 timestamp tokens.

use crate::cms::{self, SignedData, SignerInfo};
use crate::crypto::{self, AlgId, Hash};
use crate::der::{oid_string, parse_time, Reader};
use crate::x509::{self, Cert};
use std::path::Path;

/// The certificates we trust as anchors. No network, no system store: only what is given.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub anchors: Vec<Cert>,
    /// Files or blocks that could not be read, in plain English.
    pub problems: Vec<String>,
}

impl TrustStore {
    pub fn empty() -> Self {
        TrustStore::default()
    }

    /// Loads PEM (any number of CERTIFICATE blocks) or DER files; a directory is read one level
    /// deep (`.pem`, `.crt`, `.cer`, `.der` files). Fails when the path cannot be read or no
    /// certificate was found.
    pub fn from_path(path: &Path) -> Result<TrustStore, String> {
        let mut ts = TrustStore::default();
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    matches!(
                        p.extension()
                            .and_then(|e| e.to_str())
                            .map(|e| e.to_ascii_lowercase())
                            .as_deref(),
                        Some("pem" | "crt" | "cer" | "der")
                    )
                })
                .collect();
            entries.sort();
            for p in entries {
                match std::fs::read(&p) {
                    Ok(b) => ts.add_bytes(&b, &p.display().to_string()),
                    Err(e) => ts.problems.push(format!("{}: {e}", p.display())),
                }
            }
        } else {
            let b = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            ts.add_bytes(&b, &path.display().to_string());
        }
        if ts.anchors.is_empty() {
            return Err(format!("no certificate found in {}", path.display()));
        }
        Ok(ts)
    }

    pub fn add_bytes(&mut self, data: &[u8], label: &str) {
        for c in x509::certs_from_bytes(data) {
            match c {
                Ok(c) => {
                    if !self.anchors.iter().any(|a| a.raw == c.raw) {
                        self.anchors.push(c)
                    }
                }
                Err(e) => self.problems.push(format!("{label}: {e}")),
            }
        }
    }

    pub fn is_anchor(&self, c: &Cert) -> bool {
        self.anchors
            .iter()
            .any(|a| a.raw == c.raw || (a.subject == c.subject && a.spki == c.spki))
    }
}

/// Result of path building: the path from the leaf towards an anchor.
#[derive(Debug, Clone)]
pub struct PathResult {
    pub trusted: bool,
    /// leaf first; ends with the anchor when trusted.
    pub path: Vec<Cert>,
    pub problem: Option<String>,
}

thread_local! {
    /// Memo of certificate-signature checks: (SHA-256 of issuer SPKI + child certificate) → ok.
    /// Pure function of its inputs, so safe to keep across documents; bounded.
    static CERT_SIG_CACHE: std::cell::RefCell<std::collections::HashMap<Vec<u8>, bool>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn issued_by(child: &Cert, issuer: &Cert) -> bool {
    if child.issuer != issuer.subject {
        return false;
    }
    if let (Some(a), Some(s)) = (&child.aki, &issuer.ski) {
        if a != s {
            return false;
        }
    }
    let key = Hash::Sha256.digest_parts(&[&issuer.spki, &child.raw]);
    if let Some(v) = CERT_SIG_CACHE.with(|c| c.borrow().get(&key).copied()) {
        return v;
    }
    let ok = verify_cert_sig(child, issuer);
    CERT_SIG_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 4096 {
            c.clear();
        }
        c.insert(key, ok);
    });
    ok
}

fn verify_cert_sig(child: &Cert, issuer: &Cert) -> bool {
    crypto::verify(
        &issuer.spki,
        &child.sig_alg,
        None,
        &child.tbs,
        &child.signature,
    )
    .is_ok()
}

/// Builds a path from `leaf` to a trust anchor using `pool` (CMS and DSS certificates) as
/// intermediates. Checks signatures, CA basicConstraints, keyCertSign and path length; validity
/// periods are checked separately (at the signing time) by [`validity_at`].
pub fn build_path(leaf: &Cert, pool: &[&Cert], trust: &TrustStore) -> PathResult {
    let mut path = vec![leaf.clone()];
    if trust.is_anchor(leaf) {
        return PathResult {
            trusted: true,
            path,
            problem: None,
        };
    }
    let mut problem = None;
    for _depth in 0..8 {
        let cur = path.last().cloned().unwrap_or_else(|| leaf.clone());
        // Anchors first.
        if let Some(a) = trust.anchors.iter().find(|a| issued_by(&cur, a)) {
            path.push(a.clone());
            return PathResult {
                trusted: true,
                path,
                problem: None,
            };
        }
        let next = pool
            .iter()
            .find(|c| !path.iter().any(|p| p.raw == c.raw) && issued_by(&cur, c));
        match next {
            Some(c) => {
                if !c.is_ca() {
                    problem = Some(format!(
                        "certificate '{}' issues certificates but is not a CA (basicConstraints)",
                        c.subject_cn
                    ));
                    break;
                }
                if let Some(ku) = c.key_usage {
                    if ku & x509::KU_KEY_CERT_SIGN == 0 {
                        problem = Some(format!(
                            "CA certificate '{}' lacks the keyCertSign key usage",
                            c.subject_cn
                        ));
                        break;
                    }
                }
                if let Some((_, Some(pl))) = c.basic_constraints {
                    // Intermediates below this CA (excluding the leaf).
                    if (path.len() - 1) as u32 > pl {
                        problem = Some(format!(
                            "path length constraint of '{}' exceeded",
                            c.subject_cn
                        ));
                        break;
                    }
                }
                path.push((*c).clone());
            }
            None => {
                problem = Some(if cur.is_self_issued() {
                    format!(
                        "the chain ends at '{}', a root that is not a trust anchor",
                        cur.subject_cn
                    )
                } else {
                    format!(
                        "no certificate for the issuer of '{}' was found among the trust anchors or the embedded certificates",
                        cur.subject_cn
                    )
                });
                break;
            }
        }
    }
    PathResult {
        trusted: false,
        path,
        problem: problem.or(Some("certification path too long".into())),
    }
}

/// `Ok(())` when every certificate of `path` is valid at `t`; otherwise which one fails and how.
pub fn validity_at(path: &[Cert], t: i64) -> Result<(), String> {
    for (i, c) in path.iter().enumerate() {
        let who = if i == 0 {
            "signer certificate".to_string()
        } else {
            format!("certificate '{}'", c.subject_cn)
        };
        if t > c.not_after {
            return Err(format!(
                "expired: the {who} expired on {}, before the signing time {}",
                crate::der::format_time(c.not_after),
                crate::der::format_time(t)
            ));
        }
        if t < c.not_before {
            return Err(format!(
                "not yet valid: the {who} is valid only from {}, after the signing time {}",
                crate::der::format_time(c.not_before),
                crate::der::format_time(t)
            ));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Signer-level checks shared by PDF signatures and timestamp tokens
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestCheck {
    Match,
    Mismatch,
    Missing,
    Unsupported(String),
}

#[derive(Debug, Clone)]
pub struct SignerCheck {
    pub hash: Option<Hash>,
    pub message_digest: DigestCheck,
    pub signature_valid: Result<(), String>,
    pub cert: Option<Cert>,
    pub content_type_attr: Option<String>,
    /// Some(true) = an ESS signing-certificate(-v2) attribute binds the signer cert; Some(false) =
    /// present but names another certificate; None = absent.
    pub signing_cert_binding: Option<bool>,
    pub signing_cert_v2_present: bool,
    pub signing_time: Option<i64>,
}

/// Verifies one SignerInfo. `content_digest(h)` returns the digest of the signed content with h.
pub fn check_signer(
    sd: &SignedData,
    si: &SignerInfo,
    content_digest: &dyn Fn(Hash) -> Vec<u8>,
) -> SignerCheck {
    let hash = Hash::from_oid(&si.digest_alg.oid);
    let cert = cms::find_signer_cert(&sd.certs, &si.sid).cloned();
    let mut out = SignerCheck {
        hash,
        message_digest: DigestCheck::Missing,
        signature_valid: Err("not checked".into()),
        cert: cert.clone(),
        content_type_attr: None,
        signing_cert_binding: None,
        signing_cert_v2_present: false,
        signing_time: None,
    };
    let Some(h) = hash else {
        out.message_digest = DigestCheck::Unsupported(si.digest_alg.oid.clone());
        out.signature_valid = Err(format!(
            "unsupported digest algorithm {}",
            si.digest_alg.oid
        ));
        return out;
    };
    let computed = content_digest(h);
    match &si.signed_attrs_der {
        Some(sa) => {
            out.message_digest = match si
                .attr(cms::OID_MESSAGE_DIGEST)
                .and_then(|a| cms::attr_value(a, 0x04))
            {
                Some(v) if v.value == computed.as_slice() => DigestCheck::Match,
                Some(_) => DigestCheck::Mismatch,
                None => DigestCheck::Missing,
            };
            out.content_type_attr = si
                .attr(cms::OID_CONTENT_TYPE)
                .and_then(|a| cms::attr_value(a, 0x06))
                .map(|t| oid_string(t.value));
            out.signing_time = si
                .attr(cms::OID_SIGNING_TIME)
                .and_then(|a| a.values.first())
                .and_then(|v| Reader::new(v).read().ok())
                .and_then(|t| parse_time(&t).ok());
            let v2 = si.attr(cms::OID_SIGNING_CERT_V2);
            let v1 = si.attr(cms::OID_SIGNING_CERT);
            out.signing_cert_v2_present = v2.is_some();
            if let Some(c) = &cert {
                let hashes = match (v2, v1) {
                    (Some(a), _) => cms::ess_cert_hashes(a, true),
                    (None, Some(a)) => cms::ess_cert_hashes(a, false),
                    _ => vec![],
                };
                if v2.is_some() || v1.is_some() {
                    out.signing_cert_binding = Some(hashes.first().is_some_and(|(oid, hv)| {
                        Hash::from_oid(oid).is_some_and(|hh| hh.digest(&c.raw) == *hv)
                    }));
                }
            }
            out.signature_valid = match &cert {
                Some(c) => crypto::verify(&c.spki, &si.sig_alg, Some(h), sa, &si.signature),
                None => Err("the signer's certificate is not in the CMS".into()),
            };
        }
        None => {
            // No signed attributes: the signature is over the content itself; we can only check
            // it by digest for RSA (PKCS#1 carries the digest). Treat as unsupported here.
            out.message_digest = DigestCheck::Missing;
            out.signature_valid =
                Err("SignerInfo without signed attributes is not supported".into());
        }
    }
    out
}

// ------------------------------------------------------------------------------------------
// RFC 3161 timestamp tokens
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct TimestampResult {
    /// "valid", "invalid" or "untrusted".
    pub status: &'static str,
    pub gen_time: Option<i64>,
    pub tsa: Option<String>,
    pub problem: Option<String>,
}

/// Verifies a timestamp token (a ContentInfo with SignedData over TSTInfo) whose message imprint
/// must be the hash of `imprinted`.
pub fn verify_timestamp(
    token: &[u8],
    imprinted: &[u8],
    trust: &TrustStore,
    extra: &[&Cert],
) -> TimestampResult {
    let mut res = TimestampResult {
        status: "invalid",
        gen_time: None,
        tsa: None,
        problem: None,
    };
    let sd = match cms::parse_signed_data(token) {
        Ok(sd) => sd,
        Err(e) => {
            res.problem = Some(format!("the timestamp token cannot be read: {e:?}"));
            return res;
        }
    };
    if sd.econtent_type != cms::OID_TST_INFO {
        res.problem = Some("the timestamp token does not contain TSTInfo".into());
        return res;
    }
    let Some(tst) = sd.econtent.clone() else {
        res.problem = Some("the timestamp token has no content".into());
        return res;
    };
    let parsed = (|| -> Result<(String, Vec<u8>, i64), String> {
        let mut r = Reader::new(&tst);
        let s = r.read_tag(0x30).map_err(|e| e.0)?;
        let mut c = s.children();
        c.read_tag(0x02).map_err(|e| e.0)?;
        c.read_tag(0x06).map_err(|e| e.0)?;
        let mi = c.read_tag(0x30).map_err(|e| e.0)?;
        let mut m = mi.children();
        let alg = AlgId::parse(&m.read_tag(0x30).map_err(|e| e.0)?)?;
        let hv = m.read_tag(0x04).map_err(|e| e.0)?.value.to_vec();
        c.read_tag(0x02).map_err(|e| e.0)?;
        let gt = c.read_tag(0x18).map_err(|e| e.0)?;
        Ok((alg.oid, hv, parse_time(&gt).map_err(|e| e.0)?))
    })();
    let (alg, hv, gen_time) = match parsed {
        Ok(p) => p,
        Err(e) => {
            res.problem = Some(format!("TSTInfo cannot be read: {e}"));
            return res;
        }
    };
    res.gen_time = Some(gen_time);
    match Hash::from_oid(&alg) {
        Some(h) if h.digest(imprinted) == hv => {}
        Some(_) => {
            res.problem =
                Some("the timestamp's message imprint does not match the timestamped data".into());
            return res;
        }
        None => {
            res.problem = Some(format!("unsupported imprint hash {alg}"));
            return res;
        }
    }
    let Some(si) = sd.signer_infos.first() else {
        res.problem = Some("no SignerInfo".into());
        return res;
    };
    let chk = check_signer(&sd, si, &|h| h.digest(&tst));
    res.tsa = chk.cert.as_ref().map(|c| c.subject_cn.clone());
    if chk.message_digest != DigestCheck::Match {
        res.problem = Some("the timestamp's messageDigest does not match its TSTInfo".into());
        return res;
    }
    if let Err(e) = chk.signature_valid {
        res.problem = Some(format!("the timestamp signature is not valid: {e}"));
        return res;
    }
    let cert = match chk.cert {
        Some(c) => c,
        None => {
            res.problem = Some("the TSA certificate is missing".into());
            return res;
        }
    };
    let mut pool: Vec<&Cert> = sd.certs.iter().collect();
    pool.extend_from_slice(extra);
    let p = build_path(&cert, &pool, trust);
    if !p.trusted {
        res.status = "untrusted";
        res.problem = p.problem.map(|x| format!("TSA: {x}"));
        return res;
    }
    if let Err(e) = validity_at(&p.path, gen_time) {
        res.status = "untrusted";
        res.problem = Some(format!("TSA certificate {e}"));
        return res;
    }
    if let Some(eku) = &cert.eku {
        if !eku.iter().any(|o| o == x509::EKU_TIME_STAMPING) {
            res.status = "untrusted";
            res.problem =
                Some("the TSA certificate is not for time-stamping (extended key usage)".into());
            return res;
        }
    }
    res.status = "valid";
    res
}

// ------------------------------------------------------------------------------------------
// CRLs (offline)
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Crl {
    pub issuer: Vec<u8>,
    pub this_update: i64,
    pub revoked: Vec<(Vec<u8>, i64)>,
    pub tbs: Vec<u8>,
    pub sig_alg: AlgId,
    pub signature: Vec<u8>,
}

pub fn parse_crl(data: &[u8]) -> Result<Crl, String> {
    let mut r = Reader::new(data);
    let cl = r.read_tag(0x30).map_err(|e| e.0)?;
    let mut c = cl.children();
    let tbs = c.read_tag(0x30).map_err(|e| e.0)?;
    let sig_alg = AlgId::parse(&c.read_tag(0x30).map_err(|e| e.0)?)?;
    let signature = c
        .read_tag(0x03)
        .map_err(|e| e.0)?
        .value
        .get(1..)
        .unwrap_or(&[])
        .to_vec();
    let mut t = tbs.children();
    t.read_optional(0x02).map_err(|e| e.0)?;
    t.read_tag(0x30).map_err(|e| e.0)?;
    let issuer = t.read_tag(0x30).map_err(|e| e.0)?.raw.to_vec();
    let tu = t.read().map_err(|e| e.0)?;
    let this_update = parse_time(&tu).map_err(|e| e.0)?;
    if matches!(t.peek_tag(), Some(0x17 | 0x18)) {
        t.read().map_err(|e| e.0)?;
    }
    let mut revoked = vec![];
    if t.peek_tag() == Some(0x30) {
        let list = t.read().map_err(|e| e.0)?;
        let mut lr = list.children();
        while !lr.is_empty() {
            let e = lr.read_tag(0x30).map_err(|e| e.0)?;
            let mut er = e.children();
            let serial = er.read_tag(0x02).map_err(|e| e.0)?.value.to_vec();
            let when = parse_time(&er.read().map_err(|e| e.0)?).map_err(|e| e.0)?;
            revoked.push((serial, when));
        }
    }
    Ok(Crl {
        issuer,
        this_update,
        revoked,
        tbs: tbs.raw.to_vec(),
        sig_alg,
        signature,
    })
}

// ------------------------------------------------------------------------------------------
// OCSP responses (offline)
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcspStatus {
    Good,
    Revoked(i64),
    Unknown,
}

#[derive(Debug, Clone)]
pub struct OcspSingle {
    pub hash_alg: String,
    pub name_hash: Vec<u8>,
    pub key_hash: Vec<u8>,
    pub serial: Vec<u8>,
    pub status: OcspStatus,
}

#[derive(Debug, Clone)]
pub struct Ocsp {
    pub tbs: Vec<u8>,
    pub sig_alg: AlgId,
    pub signature: Vec<u8>,
    /// Responder by name (raw Name) or by key hash (SHA-1 of the key bits).
    pub responder_name: Option<Vec<u8>>,
    pub responder_key_hash: Option<Vec<u8>>,
    pub responses: Vec<OcspSingle>,
    pub certs: Vec<Cert>,
}

/// Parses an OCSPResponse (or a bare BasicOCSPResponse).
pub fn parse_ocsp(data: &[u8]) -> Result<Ocsp, String> {
    let e = |x: crate::der::DerError| x.0;
    let top = Reader::new(data).read_tag(0x30).map_err(e)?;
    let mut c = top.children();
    let basic_bytes: Vec<u8> = if c.peek_tag() == Some(0x0a) {
        let status = c.read().map_err(e)?;
        if status.value != [0] {
            return Err("OCSP response status is not successful".into());
        }
        let rb = c.read_tag(0xa0).map_err(e)?;
        let rbs = rb.children().read_tag(0x30).map_err(e)?;
        let mut r = rbs.children();
        r.read_tag(0x06).map_err(e)?;
        r.read_tag(0x04).map_err(e)?.value.to_vec()
    } else {
        top.raw.to_vec()
    };
    let basic = Reader::new(&basic_bytes).read_tag(0x30).map_err(e)?;
    let mut b = basic.children();
    let tbs = b.read_tag(0x30).map_err(e)?;
    let sig_alg = AlgId::parse(&b.read_tag(0x30).map_err(e)?)?;
    let signature = b
        .read_tag(0x03)
        .map_err(e)?
        .value
        .get(1..)
        .unwrap_or(&[])
        .to_vec();
    let mut certs = vec![];
    if let Some(cs) = b.read_optional(0xa0).map_err(e)? {
        let list = cs.children().read_tag(0x30).map_err(e)?;
        let mut lr = list.children();
        while !lr.is_empty() {
            if let Ok(c) = Cert::parse(lr.read().map_err(e)?.raw) {
                certs.push(c);
            }
        }
    }
    let mut t = tbs.children();
    t.read_optional(0xa0).map_err(e)?;
    let rid = t.read().map_err(e)?;
    let (responder_name, responder_key_hash) = match rid.tag {
        0xa1 => (
            Some(rid.children().read_tag(0x30).map_err(e)?.raw.to_vec()),
            None,
        ),
        0xa2 => (
            None,
            Some(rid.children().read_tag(0x04).map_err(e)?.value.to_vec()),
        ),
        _ => return Err("bad OCSP responder id".into()),
    };
    t.read_tag(0x18).map_err(e)?;
    let rs = t.read_tag(0x30).map_err(e)?;
    let mut rr = rs.children();
    let mut responses = vec![];
    while !rr.is_empty() {
        let single = rr.read_tag(0x30).map_err(e)?;
        let mut s = single.children();
        let cid = s.read_tag(0x30).map_err(e)?;
        let mut ci = cid.children();
        let hash_alg = AlgId::parse(&ci.read_tag(0x30).map_err(e)?)?.oid;
        let name_hash = ci.read_tag(0x04).map_err(e)?.value.to_vec();
        let key_hash = ci.read_tag(0x04).map_err(e)?.value.to_vec();
        let serial = ci.read_tag(0x02).map_err(e)?.value.to_vec();
        let st = s.read().map_err(e)?;
        let status = match st.tag {
            0x80 => OcspStatus::Good,
            0xa1 => {
                let when = st.children().read().map_err(e)?;
                OcspStatus::Revoked(parse_time(&when).map_err(e)?)
            }
            _ => OcspStatus::Unknown,
        };
        responses.push(OcspSingle {
            hash_alg,
            name_hash,
            key_hash,
            serial,
            status,
        });
    }
    Ok(Ocsp {
        tbs: tbs.raw.to_vec(),
        sig_alg,
        signature,
        responder_name,
        responder_key_hash,
        responses,
        certs,
    })
}

fn key_bits(spki: &[u8]) -> Vec<u8> {
    (|| -> Option<Vec<u8>> {
        let s = Reader::new(spki).read_tag(0x30).ok()?;
        let mut c = s.children();
        c.read_tag(0x30).ok()?;
        Some(c.read_tag(0x03).ok()?.value.get(1..)?.to_vec())
    })()
    .unwrap_or_default()
}

/// The status an OCSP response gives for `cert` issued by `issuer`, if it covers it and its
/// signature (by the CA or a delegated OCSP signer) verifies.
fn ocsp_status_for(ocsp: &Ocsp, cert: &Cert, issuer: &Cert) -> Option<OcspStatus> {
    let ikey = key_bits(&issuer.spki);
    let single = ocsp.responses.iter().find(|s| {
        Hash::from_oid(&s.hash_alg).is_some_and(|h| {
            cms::strip_zeros(&s.serial) == cms::strip_zeros(&cert.serial)
                && h.digest(&issuer.subject) == s.name_hash
                && h.digest(&ikey) == s.key_hash
        })
    })?;
    let by_issuer = ocsp.responder_name.as_deref() == Some(issuer.subject.as_slice())
        || ocsp.responder_key_hash.as_deref() == Some(Hash::Sha1.digest(&ikey).as_slice());
    let responder_spki = if by_issuer {
        issuer.spki.clone()
    } else {
        let r = ocsp.certs.iter().find(|c| {
            (ocsp.responder_name.as_deref() == Some(c.subject.as_slice())
                || ocsp.responder_key_hash.as_deref()
                    == Some(Hash::Sha1.digest(&key_bits(&c.spki)).as_slice()))
                && issued_by(c, issuer)
                && c.eku
                    .as_ref()
                    .is_some_and(|e| e.iter().any(|o| o == "1.3.6.1.5.5.7.3.9"))
        })?;
        r.spki.clone()
    };
    crypto::verify(
        &responder_spki,
        &ocsp.sig_alg,
        None,
        &ocsp.tbs,
        &ocsp.signature,
    )
    .ok()?;
    Some(single.status.clone())
}

/// Revocation status of the certificates in `path` from the embedded CRLs and OCSP responses.
/// Returns ("good" | "revoked" | "not_checked", note).
pub fn revocation_status_full(
    path: &[Cert],
    crls: &[Vec<u8>],
    ocsps: &[Vec<u8>],
    at: i64,
) -> (&'static str, Option<String>) {
    if path.len() < 2 || (crls.is_empty() && ocsps.is_empty()) {
        return ("not_checked", None);
    }
    let parsed_ocsp: Vec<Ocsp> = ocsps.iter().filter_map(|o| parse_ocsp(o).ok()).collect();
    let (crl_status, crl_note) = revocation_status(path, crls, at);
    if crl_status == "revoked" {
        return (crl_status, crl_note);
    }
    let mut ocsp_covered = 0;
    for w in path.windows(2) {
        for o in &parsed_ocsp {
            match ocsp_status_for(o, &w[0], &w[1]) {
                Some(OcspStatus::Revoked(when)) if when <= at => {
                    return (
                        "revoked",
                        Some(format!(
                            "certificate '{}' was revoked on {} (OCSP)",
                            w[0].subject_cn,
                            crate::der::format_time(when)
                        )),
                    )
                }
                Some(OcspStatus::Good) | Some(OcspStatus::Revoked(_)) => {
                    ocsp_covered += 1;
                    break;
                }
                _ => {}
            }
        }
    }
    match (crl_status, ocsp_covered) {
        ("not_checked", 0) => (
            "not_checked",
            Some("no usable CRL or OCSP response for the path".into()),
        ),
        ("good", _) | (_, 1..) => {
            let note = if ocsp_covered > 0 {
                Some(format!("{ocsp_covered} OCSP response(s) checked"))
            } else {
                crl_note
            };
            ("good", note)
        }
        _ => ("not_checked", None),
    }
}

/// Revocation status of the certificates in `path` from the embedded CRLs.
/// Returns ("good" | "revoked" | "not_checked", note).
pub fn revocation_status(
    path: &[Cert],
    crls: &[Vec<u8>],
    at: i64,
) -> (&'static str, Option<String>) {
    if crls.is_empty() || path.len() < 2 {
        return ("not_checked", None);
    }
    let parsed: Vec<Crl> = crls.iter().filter_map(|c| parse_crl(c).ok()).collect();
    let mut covered = 0;
    for w in path.windows(2) {
        let (cert, issuer) = (&w[0], &w[1]);
        for crl in parsed.iter().filter(|c| c.issuer == issuer.subject) {
            if crypto::verify(&issuer.spki, &crl.sig_alg, None, &crl.tbs, &crl.signature).is_err() {
                continue;
            }
            covered += 1;
            if let Some((_, when)) = crl
                .revoked
                .iter()
                .find(|(s, _)| cms::strip_zeros(s) == cms::strip_zeros(&cert.serial))
            {
                if *when <= at {
                    return (
                        "revoked",
                        Some(format!(
                            "certificate '{}' was revoked on {}",
                            cert.subject_cn,
                            crate::der::format_time(*when)
                        )),
                    );
                }
            }
            break;
        }
    }
    if covered == 0 {
        (
            "not_checked",
            Some("no embedded CRL from a certificate issuer in the path".into()),
        )
    } else if covered < path.len() - 1 {
        (
            "good",
            Some("partially covered by embedded CRLs (OCSP responses are not evaluated)".into()),
        )
    } else {
        ("good", None)
    }
}
