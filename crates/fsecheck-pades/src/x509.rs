//! X.509 certificates: only the fields path validation and PAdES need, read with our DER reader.

use crate::crypto::AlgId;
use crate::der::{oid_string, parse_time, Reader};

pub const KU_DIGITAL_SIGNATURE: u16 = 1 << 0;
pub const KU_NON_REPUDIATION: u16 = 1 << 1;
pub const KU_KEY_CERT_SIGN: u16 = 1 << 5;
pub const KU_CRL_SIGN: u16 = 1 << 6;
pub const EKU_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";

#[derive(Debug, Clone)]
pub struct Cert {
    pub raw: Vec<u8>,
    pub tbs: Vec<u8>,
    pub sig_alg: AlgId,
    pub signature: Vec<u8>,
    pub serial: Vec<u8>,
    /// Raw DER of the issuer Name.
    pub issuer: Vec<u8>,
    /// Raw DER of the subject Name.
    pub subject: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    pub spki: Vec<u8>,
    /// Bit i = KeyUsage bit i (0 = digitalSignature), if the extension is present.
    pub key_usage: Option<u16>,
    /// basicConstraints: (cA, pathLenConstraint), if present.
    pub basic_constraints: Option<(bool, Option<u32>)>,
    pub ski: Option<Vec<u8>>,
    pub aki: Option<Vec<u8>>,
    pub eku: Option<Vec<String>>,
    pub unknown_critical: Vec<String>,
    pub subject_cn: String,
}

impl Cert {
    pub fn parse(data: &[u8]) -> Result<Cert, String> {
        let mut r = Reader::new(data);
        let cert = r.read_tag(0x30).map_err(|e| e.0)?;
        let mut c = cert.children();
        let tbs = c.read_tag(0x30).map_err(|e| e.0)?;
        let sig_alg = AlgId::parse(&c.read_tag(0x30).map_err(|e| e.0)?)?;
        let sig = c.read_tag(0x03).map_err(|e| e.0)?;
        let signature = sig.value.get(1..).ok_or("empty signature")?.to_vec();
        let mut t = tbs.children();
        t.read_optional(0xa0).map_err(|e| e.0)?; // version
        let serial = t.read_tag(0x02).map_err(|e| e.0)?.value.to_vec();
        t.read_tag(0x30).map_err(|e| e.0)?; // signature alg (inner)
        let issuer = t.read_tag(0x30).map_err(|e| e.0)?.raw.to_vec();
        let validity = t.read_tag(0x30).map_err(|e| e.0)?;
        let mut v = validity.children();
        let nb = v.read().map_err(|e| e.0)?;
        let na = v.read().map_err(|e| e.0)?;
        let not_before = parse_time(&nb).map_err(|e| e.0)?;
        let not_after = parse_time(&na).map_err(|e| e.0)?;
        let subject_t = t.read_tag(0x30).map_err(|e| e.0)?;
        let subject = subject_t.raw.to_vec();
        let spki = t.read_tag(0x30).map_err(|e| e.0)?.raw.to_vec();
        let mut out = Cert {
            raw: cert.raw.to_vec(),
            tbs: tbs.raw.to_vec(),
            sig_alg,
            signature,
            serial,
            issuer,
            subject,
            not_before,
            not_after,
            spki,
            key_usage: None,
            basic_constraints: None,
            ski: None,
            aki: None,
            eku: None,
            unknown_critical: vec![],
            subject_cn: name_cn(subject_t.raw).unwrap_or_default(),
        };
        while !t.is_empty() {
            let item = t.read().map_err(|e| e.0)?;
            if item.tag != 0xa3 {
                continue;
            }
            let exts = item.children().read_tag(0x30).map_err(|e| e.0)?;
            let mut er = exts.children();
            while !er.is_empty() {
                let ext = er.read_tag(0x30).map_err(|e| e.0)?;
                let mut x = ext.children();
                let oid = oid_string(x.read_tag(0x06).map_err(|e| e.0)?.value);
                let critical = match x.read_optional(0x01).map_err(|e| e.0)? {
                    Some(b) => b.value.first().copied().unwrap_or(0) != 0,
                    None => false,
                };
                let val = x.read_tag(0x04).map_err(|e| e.0)?.value;
                let mut vr = Reader::new(val);
                match oid.as_str() {
                    "2.5.29.15" => {
                        let bs = vr.read_tag(0x03).map_err(|e| e.0)?;
                        let bytes = bs.value.get(1..).unwrap_or(&[]);
                        let mut ku = 0u16;
                        for (i, b) in bytes.iter().take(2).enumerate() {
                            for bit in 0..8 {
                                if b & (0x80 >> bit) != 0 {
                                    ku |= 1 << (i * 8 + bit);
                                }
                            }
                        }
                        out.key_usage = Some(ku);
                    }
                    "2.5.29.19" => {
                        let s = vr.read_tag(0x30).map_err(|e| e.0)?;
                        let mut sr = s.children();
                        let ca = match sr.read_optional(0x01).map_err(|e| e.0)? {
                            Some(b) => b.value.first().copied().unwrap_or(0) != 0,
                            None => false,
                        };
                        let pl = match sr.read_optional(0x02).map_err(|e| e.0)? {
                            Some(i) if i.value.len() <= 4 => {
                                Some(i.value.iter().fold(0u32, |a, &b| (a << 8) | b as u32))
                            }
                            _ => None,
                        };
                        out.basic_constraints = Some((ca, pl));
                    }
                    "2.5.29.14" => {
                        out.ski = Some(vr.read_tag(0x04).map_err(|e| e.0)?.value.to_vec());
                    }
                    "2.5.29.35" => {
                        let s = vr.read_tag(0x30).map_err(|e| e.0)?;
                        let mut sr = s.children();
                        if let Some(k) = sr.read_optional(0x80).map_err(|e| e.0)? {
                            out.aki = Some(k.value.to_vec());
                        }
                    }
                    "2.5.29.37" => {
                        let s = vr.read_tag(0x30).map_err(|e| e.0)?;
                        let mut sr = s.children();
                        let mut list = vec![];
                        while !sr.is_empty() {
                            list.push(oid_string(sr.read_tag(0x06).map_err(|e| e.0)?.value));
                        }
                        out.eku = Some(list);
                    }
                    // Understood well enough not to block: policies, names, CRL DP, AIA, qcStatements…
                    "2.5.29.32"
                    | "2.5.29.17"
                    | "2.5.29.18"
                    | "2.5.29.31"
                    | "1.3.6.1.5.5.7.1.1"
                    | "1.3.6.1.5.5.7.1.3"
                    | "2.5.29.16"
                    | "2.5.29.46"
                    | "1.3.6.1.5.5.7.48.1.5" => {}
                    _ if critical => out.unknown_critical.push(oid),
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    pub fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    pub fn is_ca(&self) -> bool {
        matches!(self.basic_constraints, Some((true, _)))
    }
}

/// First commonName (2.5.4.3) in a Name, as text.
pub fn name_cn(name: &[u8]) -> Option<String> {
    let mut r = Reader::new(name);
    let seq = r.read_tag(0x30).ok()?;
    let mut rdns = seq.children();
    while !rdns.is_empty() {
        let set = rdns.read().ok()?;
        let mut atvs = set.children();
        while !atvs.is_empty() {
            let atv = atvs.read().ok()?;
            let mut a = atv.children();
            let oid = a.read_tag(0x06).ok()?;
            let val = a.read().ok()?;
            if oid_string(oid.value) == "2.5.4.3" {
                return Some(String::from_utf8_lossy(val.value).into_owned());
            }
        }
    }
    None
}

/// Certificates from PEM text (every `CERTIFICATE` block) or a single DER blob.
pub fn certs_from_bytes(data: &[u8]) -> Vec<Result<Cert, String>> {
    let text = String::from_utf8_lossy(data);
    if text.contains("-----BEGIN") {
        let mut out = vec![];
        let mut rest: &str = &text;
        while let Some(b) = rest.find("-----BEGIN CERTIFICATE-----") {
            let after = &rest[b + 27..];
            let e = match after.find("-----END CERTIFICATE-----") {
                Some(e) => e,
                None => {
                    out.push(Err("unterminated PEM block".into()));
                    break;
                }
            };
            out.push(base64_decode(&after[..e]).and_then(|d| Cert::parse(&d)));
            rest = &after[e..];
        }
        out
    } else {
        vec![Cert::parse(data)]
    }
}

pub fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return Err("invalid base64".into()),
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}
