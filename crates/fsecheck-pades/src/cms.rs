//! CMS SignedData (RFC 5652) as PAdES uses it: parsed from the hex-decoded `/Contents`, BER
//! accepted (normalised to DER first), trailing zero padding ignored.

use crate::crypto::AlgId;
use crate::der::{ber_element_len, ber_to_der, oid_string, Reader, Tlv};
use crate::x509::Cert;

pub const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
pub const OID_DATA: &str = "1.2.840.113549.1.7.1";
pub const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
pub const OID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
pub const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
pub const OID_SIGNING_TIME: &str = "1.2.840.113549.1.9.5";
pub const OID_SIGNING_CERT: &str = "1.2.840.113549.1.9.16.2.12";
pub const OID_SIGNING_CERT_V2: &str = "1.2.840.113549.1.9.16.2.47";
pub const OID_SIGNATURE_TIMESTAMP: &str = "1.2.840.113549.1.9.16.2.14";
pub const OID_ADBE_REVOCATION: &str = "1.2.840.113583.1.1.8";

#[derive(Debug, Clone)]
pub enum Sid {
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    SubjectKeyId(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub oid: String,
    /// Raw DER of each value in the SET.
    pub values: Vec<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct SignerInfo {
    pub sid: Sid,
    pub digest_alg: AlgId,
    /// The signed attributes re-tagged as `SET OF` (0x31): the exact bytes that were signed.
    pub signed_attrs_der: Option<Vec<u8>>,
    pub signed_attrs: Vec<Attribute>,
    pub sig_alg: AlgId,
    pub signature: Vec<u8>,
    pub unsigned_attrs: Vec<Attribute>,
}

impl SignerInfo {
    pub fn attr(&self, oid: &str) -> Option<&Attribute> {
        self.signed_attrs.iter().find(|a| a.oid == oid)
    }
    pub fn unsigned(&self, oid: &str) -> Option<&Attribute> {
        self.unsigned_attrs.iter().find(|a| a.oid == oid)
    }
}

#[derive(Debug, Clone)]
pub struct SignedData {
    pub econtent_type: String,
    pub econtent: Option<Vec<u8>>,
    pub certs: Vec<Cert>,
    /// Raw CRLs (and other revocation choices) from the `crls` field.
    pub crls: Vec<Vec<u8>>,
    pub signer_infos: Vec<SignerInfo>,
    /// True when the input used BER (indefinite lengths / constructed strings).
    pub was_ber: bool,
    /// Bytes after the ContentInfo that are not zero padding.
    pub trailing_garbage: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmsError {
    /// No bytes, or only zero bytes (an unfilled placeholder).
    Empty,
    Parse(String),
}

fn pe<E: std::fmt::Display>(e: E) -> CmsError {
    CmsError::Parse(e.to_string())
}

impl From<crate::der::DerError> for CmsError {
    fn from(e: crate::der::DerError) -> Self {
        CmsError::Parse(e.0)
    }
}

/// Parses a ContentInfo holding SignedData.
pub fn parse_signed_data(blob: &[u8]) -> Result<SignedData, CmsError> {
    if blob.iter().all(|&b| b == 0) {
        return Err(CmsError::Empty);
    }
    let len = ber_element_len(blob, 0)?;
    let trailing_garbage = blob[len..].iter().filter(|&&b| b != 0).count();
    let (der, _) = ber_to_der(&blob[..len])?;
    let was_ber = der.as_slice() != &blob[..len];
    let mut r = Reader::new(&der);
    let ci = r.read_tag(0x30)?;
    let mut c = ci.children();
    let ct = oid_string(c.read_tag(0x06)?.value);
    if ct != OID_SIGNED_DATA {
        return Err(CmsError::Parse(format!(
            "content type {ct} is not SignedData"
        )));
    }
    let wrapped = c.read_tag(0xa0)?;
    let sd = wrapped.children().read_tag(0x30)?;
    let mut s = sd.children();
    s.read_tag(0x02)?; // version
    s.read_tag(0x31)?; // digestAlgorithms
    let eci = s.read_tag(0x30)?;
    let mut e = eci.children();
    let econtent_type = oid_string(e.read_tag(0x06)?.value);
    let econtent = match e.read_optional(0xa0)? {
        Some(w) => Some(w.children().read_tag(0x04)?.value.to_vec()),
        None => None,
    };
    let mut certs = vec![];
    if let Some(cs) = s.read_optional(0xa0)? {
        let mut cr = cs.children();
        while !cr.is_empty() {
            let t = cr.read()?;
            if t.tag == 0x30 {
                // Unparseable extra certificates are skipped; the signer's absence is reported later.
                if let Ok(cert) = Cert::parse(t.raw) {
                    certs.push(cert);
                }
            }
        }
    }
    let mut crls = vec![];
    if let Some(cl) = s.read_optional(0xa1)? {
        let mut cr = cl.children();
        while !cr.is_empty() {
            crls.push(cr.read()?.raw.to_vec());
        }
    }
    let sis = s.read_tag(0x31)?;
    let mut sr = sis.children();
    let mut signer_infos = vec![];
    while !sr.is_empty() {
        signer_infos.push(parse_signer_info(&sr.read_tag(0x30)?)?);
    }
    if signer_infos.is_empty() {
        return Err(CmsError::Parse("SignedData has no SignerInfo".into()));
    }
    Ok(SignedData {
        econtent_type,
        econtent,
        certs,
        crls,
        signer_infos,
        was_ber,
        trailing_garbage,
    })
}

fn parse_attrs(t: &Tlv<'_>) -> Result<Vec<Attribute>, CmsError> {
    let mut out = vec![];
    let mut r = t.children();
    while !r.is_empty() {
        let a = r.read_tag(0x30)?;
        let mut ar = a.children();
        let oid = oid_string(ar.read_tag(0x06)?.value);
        let set = ar.read_tag(0x31)?;
        let mut vr = set.children();
        let mut values = vec![];
        while !vr.is_empty() {
            values.push(vr.read()?.raw.to_vec());
        }
        out.push(Attribute { oid, values });
    }
    Ok(out)
}

fn parse_signer_info(t: &Tlv<'_>) -> Result<SignerInfo, CmsError> {
    let mut r = t.children();
    r.read_tag(0x02)?;
    let sid_t = r.read()?;
    let sid = match sid_t.tag {
        0x30 => {
            let mut sc = sid_t.children();
            let issuer = sc.read_tag(0x30)?.raw.to_vec();
            let serial = sc.read_tag(0x02)?.value.to_vec();
            Sid::IssuerSerial { issuer, serial }
        }
        0x80 => Sid::SubjectKeyId(sid_t.value.to_vec()),
        other => {
            return Err(CmsError::Parse(format!(
                "unknown SignerIdentifier tag 0x{other:02x}"
            )))
        }
    };
    let digest_alg = AlgId::parse(&r.read_tag(0x30)?).map_err(pe)?;
    let (signed_attrs_der, signed_attrs) = match r.read_optional(0xa0)? {
        Some(sa) => {
            let mut raw = sa.raw.to_vec();
            raw[0] = 0x31;
            (Some(raw), parse_attrs(&sa)?)
        }
        None => (None, vec![]),
    };
    let sig_alg = AlgId::parse(&r.read_tag(0x30)?).map_err(pe)?;
    let signature = r.read_tag(0x04)?.value.to_vec();
    let unsigned_attrs = match r.read_optional(0xa1)? {
        Some(ua) => parse_attrs(&ua)?,
        None => vec![],
    };
    Ok(SignerInfo {
        sid,
        digest_alg,
        signed_attrs_der,
        signed_attrs,
        sig_alg,
        signature,
        unsigned_attrs,
    })
}

/// Finds the certificate a SignerInfo names.
pub fn find_signer_cert<'c>(certs: &'c [Cert], sid: &Sid) -> Option<&'c Cert> {
    certs.iter().find(|c| match sid {
        Sid::IssuerSerial { issuer, serial } => {
            &c.issuer == issuer && strip_zeros(&c.serial) == strip_zeros(serial)
        }
        Sid::SubjectKeyId(k) => c.ski.as_deref() == Some(k.as_slice()),
    })
}

pub fn strip_zeros(v: &[u8]) -> &[u8] {
    let n = v.iter().take_while(|&&b| b == 0).count();
    &v[n.min(v.len().saturating_sub(1))..]
}

/// The first value of an attribute as a DER TLV with the given tag.
pub fn attr_value<'a>(a: &'a Attribute, tag: u8) -> Option<Tlv<'a>> {
    let v = a.values.first()?;
    Reader::new(v).read_tag(tag).ok()
}

/// ESSCertID(v2) hashes listed in a signing-certificate(-v2) attribute: (hash OID, hash).
pub fn ess_cert_hashes(a: &Attribute, v2: bool) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let Some(v) = a.values.first() else {
        return out;
    };
    let Ok(sc) = Reader::new(v).read_tag(0x30) else {
        return out;
    };
    let mut r = sc.children();
    let Ok(certs) = r.read_tag(0x30) else {
        return out;
    };
    let mut cr = certs.children();
    while !cr.is_empty() {
        let Ok(id) = cr.read_tag(0x30) else { break };
        let mut ir = id.children();
        let mut oid = if v2 {
            "2.16.840.1.101.3.4.2.1".to_string()
        } else {
            "1.3.14.3.2.26".to_string()
        };
        if v2 && ir.peek_tag() == Some(0x30) {
            if let Ok(a) = ir.read().map_err(|e| e.0).and_then(|t| AlgId::parse(&t)) {
                oid = a.oid;
            }
        }
        if let Ok(h) = ir.read_tag(0x04) {
            out.push((oid, h.value.to_vec()));
        }
    }
    out
}
