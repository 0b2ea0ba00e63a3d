//! Digests and signature-value verification (RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA P-256/P-384),
//! dispatched on algorithm OIDs. Pure RustCrypto.

use crate::der::{oid_string, Reader};
use sha2::Digest;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub fn from_oid(oid: &str) -> Option<Hash> {
        Some(match oid {
            "1.3.14.3.2.26" => Hash::Sha1,
            "2.16.840.1.101.3.4.2.4" => Hash::Sha224,
            "2.16.840.1.101.3.4.2.1" => Hash::Sha256,
            "2.16.840.1.101.3.4.2.2" => Hash::Sha384,
            "2.16.840.1.101.3.4.2.3" => Hash::Sha512,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Hash::Sha1 => "sha1",
            Hash::Sha224 => "sha224",
            Hash::Sha256 => "sha256",
            Hash::Sha384 => "sha384",
            Hash::Sha512 => "sha512",
        }
    }
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_parts(&[data])
    }
    pub fn digest_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        macro_rules! run {
            ($h:ty) => {{
                let mut h = <$h>::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().to_vec()
            }};
        }
        match self {
            Hash::Sha1 => run!(sha1::Sha1),
            Hash::Sha224 => run!(sha2::Sha224),
            Hash::Sha256 => run!(sha2::Sha256),
            Hash::Sha384 => run!(sha2::Sha384),
            Hash::Sha512 => run!(sha2::Sha512),
        }
    }
}

/// An AlgorithmIdentifier: OID and the raw parameters TLV (empty if absent).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlgId {
    pub oid: String,
    pub params: Vec<u8>,
}

impl AlgId {
    pub fn parse(seq: &crate::der::Tlv<'_>) -> Result<AlgId, String> {
        let mut r = seq.children();
        let oid = r.read_tag(0x06).map_err(|e| e.0)?;
        let params = if r.is_empty() {
            vec![]
        } else {
            r.read().map_err(|e| e.0)?.raw.to_vec()
        };
        Ok(AlgId {
            oid: oid_string(oid.value),
            params,
        })
    }
}

/// What a signature algorithm identifier means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigKind {
    RsaPkcs1(Option<Hash>),
    RsaPss,
    Ecdsa(Option<Hash>),
}

pub fn sig_kind(oid: &str) -> Option<SigKind> {
    Some(match oid {
        "1.2.840.113549.1.1.1" => SigKind::RsaPkcs1(None),
        "1.2.840.113549.1.1.5" => SigKind::RsaPkcs1(Some(Hash::Sha1)),
        "1.2.840.113549.1.1.14" => SigKind::RsaPkcs1(Some(Hash::Sha224)),
        "1.2.840.113549.1.1.11" => SigKind::RsaPkcs1(Some(Hash::Sha256)),
        "1.2.840.113549.1.1.12" => SigKind::RsaPkcs1(Some(Hash::Sha384)),
        "1.2.840.113549.1.1.13" => SigKind::RsaPkcs1(Some(Hash::Sha512)),
        "1.2.840.113549.1.1.10" => SigKind::RsaPss,
        "1.2.840.10045.2.1" => SigKind::Ecdsa(None),
        "1.2.840.10045.4.1" => SigKind::Ecdsa(Some(Hash::Sha1)),
        "1.2.840.10045.4.3.1" => SigKind::Ecdsa(Some(Hash::Sha224)),
        "1.2.840.10045.4.3.2" => SigKind::Ecdsa(Some(Hash::Sha256)),
        "1.2.840.10045.4.3.3" => SigKind::Ecdsa(Some(Hash::Sha384)),
        "1.2.840.10045.4.3.4" => SigKind::Ecdsa(Some(Hash::Sha512)),
        _ => return None,
    })
}

/// The hash a signature algorithm uses, falling back to `default` (CMS digestAlgorithm).
pub fn signature_hash(alg: &AlgId, default: Option<Hash>) -> Option<Hash> {
    match sig_kind(&alg.oid)? {
        SigKind::RsaPkcs1(h) | SigKind::Ecdsa(h) => h.or(default),
        SigKind::RsaPss => pss_params(&alg.params).ok().map(|p| p.0),
    }
}

/// (hash, salt length) from RSASSA-PSS-params; defaults per RFC 4055 (SHA-1, 20).
fn pss_params(params: &[u8]) -> Result<(Hash, usize), String> {
    let mut hash = Hash::Sha1;
    let mut mgf_hash = Hash::Sha1;
    let mut salt = 20usize;
    if params.is_empty() {
        return Ok((hash, salt));
    }
    let mut r = Reader::new(params);
    let seq = r.read_tag(0x30).map_err(|e| e.0)?;
    let mut c = seq.children();
    while !c.is_empty() {
        let item = c.read().map_err(|e| e.0)?;
        let mut inner = item.children();
        match item.tag {
            0xa0 => {
                let a = AlgId::parse(&inner.read().map_err(|e| e.0)?)?;
                hash = Hash::from_oid(&a.oid).ok_or("unsupported PSS hash")?;
            }
            0xa1 => {
                let a = AlgId::parse(&inner.read().map_err(|e| e.0)?)?;
                if a.oid != "1.2.840.113549.1.1.8" {
                    return Err("unsupported PSS mask generation function".into());
                }
                let mut pr = Reader::new(&a.params);
                let h = AlgId::parse(&pr.read().map_err(|e| e.0)?)?;
                mgf_hash = Hash::from_oid(&h.oid).ok_or("unsupported MGF1 hash")?;
            }
            0xa2 => {
                let i = inner.read_tag(0x02).map_err(|e| e.0)?;
                if i.value.len() > 4 {
                    return Err("PSS salt length too large".into());
                }
                salt = i.value.iter().fold(0usize, |a, &b| (a << 8) | b as usize);
            }
            _ => {}
        }
    }
    if mgf_hash != hash {
        return Err("PSS with different message and MGF1 hashes is not supported".into());
    }
    Ok((hash, salt))
}

/// Public key parsed from a SubjectPublicKeyInfo.
pub enum PublicKey {
    Rsa(rsa::RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl PublicKey {
    pub fn describe(&self) -> String {
        use rsa::traits::PublicKeyParts;
        match self {
            PublicKey::Rsa(k) => format!("RSA-{}", k.n().bits()),
            PublicKey::P256(_) => "ECDSA P-256".into(),
            PublicKey::P384(_) => "ECDSA P-384".into(),
        }
    }
}

pub fn parse_spki(spki: &[u8]) -> Result<PublicKey, String> {
    let mut r = Reader::new(spki);
    let seq = r.read_tag(0x30).map_err(|e| e.0)?;
    let mut c = seq.children();
    let alg = AlgId::parse(&c.read_tag(0x30).map_err(|e| e.0)?)?;
    let bits = c.read_tag(0x03).map_err(|e| e.0)?;
    let key = bits.value.get(1..).ok_or("empty public key")?;
    match alg.oid.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            let mut kr = Reader::new(key);
            let ks = kr.read_tag(0x30).map_err(|e| e.0)?;
            let mut kc = ks.children();
            let n = kc.read_tag(0x02).map_err(|e| e.0)?;
            let e = kc.read_tag(0x02).map_err(|e| e.0)?;
            let n = rsa::BigUint::from_bytes_be(n.value);
            let e = rsa::BigUint::from_bytes_be(e.value);
            rsa::RsaPublicKey::new_with_max_size(n, e, 8192)
                .map(PublicKey::Rsa)
                .map_err(|e| format!("bad RSA key: {e}"))
        }
        "1.2.840.10045.2.1" => {
            let mut pr = Reader::new(&alg.params);
            let curve = oid_string(pr.read_tag(0x06).map_err(|e| e.0)?.value);
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map(PublicKey::P256)
                    .map_err(|_| "bad P-256 point".to_string()),
                "1.3.132.0.34" => p384::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map(PublicKey::P384)
                    .map_err(|_| "bad P-384 point".to_string()),
                other => Err(format!("unsupported curve {other}")),
            }
        }
        other => Err(format!("unsupported public key algorithm {other}")),
    }
}

/// Verifies `sig` over `message` with the key in `spki` and the algorithm `alg`. `default_hash`
/// is the CMS digestAlgorithm, used when the signature algorithm does not name a hash.
pub fn verify(
    spki: &[u8],
    alg: &AlgId,
    default_hash: Option<Hash>,
    message: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    let key = parse_spki(spki)?;
    verify_with_key(&key, alg, default_hash, message, sig)
}

pub fn verify_with_key(
    key: &PublicKey,
    alg: &AlgId,
    default_hash: Option<Hash>,
    message: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    let kind =
        sig_kind(&alg.oid).ok_or_else(|| format!("unsupported signature algorithm {}", alg.oid))?;
    match (kind, key) {
        (SigKind::RsaPkcs1(h), PublicKey::Rsa(k)) => {
            let h = h.or(default_hash).ok_or("no digest algorithm")?;
            let hashed = h.digest(message);
            let scheme = match h {
                Hash::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                Hash::Sha224 => rsa::Pkcs1v15Sign::new::<sha2::Sha224>(),
                Hash::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                Hash::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                Hash::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
            };
            k.verify(scheme, &hashed, sig)
                .map_err(|_| "RSA signature does not verify".to_string())
        }
        (SigKind::RsaPss, PublicKey::Rsa(k)) => {
            let (h, salt) = pss_params(&alg.params)?;
            let hashed = h.digest(message);
            let scheme = match h {
                Hash::Sha1 => rsa::Pss::new_with_salt::<sha1::Sha1>(salt),
                Hash::Sha224 => rsa::Pss::new_with_salt::<sha2::Sha224>(salt),
                Hash::Sha256 => rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
                Hash::Sha384 => rsa::Pss::new_with_salt::<sha2::Sha384>(salt),
                Hash::Sha512 => rsa::Pss::new_with_salt::<sha2::Sha512>(salt),
            };
            k.verify(scheme, &hashed, sig)
                .map_err(|_| "RSA-PSS signature does not verify".to_string())
        }
        (SigKind::Ecdsa(h), PublicKey::P256(k)) => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let h = h.or(default_hash).ok_or("no digest algorithm")?;
            let s =
                p256::ecdsa::Signature::from_der(sig).map_err(|_| "malformed ECDSA signature")?;
            k.verify_prehash(&h.digest(message), &s)
                .map_err(|_| "ECDSA signature does not verify".to_string())
        }
        (SigKind::Ecdsa(h), PublicKey::P384(k)) => {
            use p384::ecdsa::signature::hazmat::PrehashVerifier;
            let h = h.or(default_hash).ok_or("no digest algorithm")?;
            let s =
                p384::ecdsa::Signature::from_der(sig).map_err(|_| "malformed ECDSA signature")?;
            k.verify_prehash(&h.digest(message), &s)
                .map_err(|_| "ECDSA signature does not verify".to_string())
        }
        _ => Err("signature algorithm does not match the key type".into()),
    }
}
