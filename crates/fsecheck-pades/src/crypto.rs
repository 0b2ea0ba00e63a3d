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

/// RSAVP1: `sig^e mod n` as a k-byte string, or None if `sig` is not a valid representative.
/// Left-to-right square-and-multiply over the (small, public) exponent: for e = 65537 this is
/// 17 multiplications, where the generic windowed modpow walks all 64 bits of the word.
pub(crate) fn rsa_public(k: &rsa::RsaPublicKey, sig: &[u8]) -> Option<Vec<u8>> {
    use rsa::traits::PublicKeyParts;
    let n = k.n();
    let klen = n.bits().div_ceil(8);
    if sig.len() != klen {
        return None;
    }
    let s = rsa::BigUint::from_bytes_be(sig);
    if &s >= n {
        return None;
    }
    let e = k.e();
    let m = if e.bits() <= 64 {
        let ebytes = e.to_bytes_be();
        let mut r = s.clone();
        let mut first = true;
        for byte in ebytes {
            for bit in (0..8).rev() {
                let set = byte >> bit & 1 == 1;
                if first {
                    if set {
                        first = false;
                    }
                    continue;
                }
                r = (&r * &r) % n;
                if set {
                    r = (&r * &s) % n;
                }
            }
        }
        r
    } else {
        s.modpow(e, n)
    };
    let b = m.to_bytes_be();
    if b.len() > klen {
        return None;
    }
    let mut out = vec![0u8; klen - b.len()];
    out.extend_from_slice(&b);
    Some(out)
}

fn digest_info_prefix(h: Hash, with_null: bool) -> Vec<u8> {
    let (oid_last, len): (u8, u8) = match h {
        Hash::Sha1 => {
            return if with_null {
                vec![
                    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00,
                    0x04, 0x14,
                ]
            } else {
                vec![
                    0x30, 0x1f, 0x30, 0x07, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x04, 0x14,
                ]
            }
        }
        Hash::Sha224 => (4, 28),
        Hash::Sha256 => (1, 32),
        Hash::Sha384 => (2, 48),
        Hash::Sha512 => (3, 64),
    };
    let alg_len: u8 = if with_null { 0x0d } else { 0x0b };
    let mut v = vec![
        0x30,
        alg_len + 4 + len,
        0x30,
        alg_len,
        0x06,
        0x09,
        0x60,
        0x86,
        0x48,
        0x01,
        0x65,
        0x03,
        0x04,
        0x02,
        oid_last,
    ];
    if with_null {
        v.extend_from_slice(&[0x05, 0x00]);
    }
    v.extend_from_slice(&[0x04, len]);
    v
}

/// EMSA-PKCS1-v1_5 (RFC 8017 §9.2): `00 01 FF…FF 00 DigestInfo`, DigestInfo with or without
/// the NULL parameters.
fn pkcs1_v15_matches(em: &[u8], h: Hash, hashed: &[u8]) -> bool {
    [true, false].iter().any(|&with_null| {
        let mut t = digest_info_prefix(h, with_null);
        t.extend_from_slice(hashed);
        if em.len() < t.len() + 11 {
            return false;
        }
        let ps = em.len() - t.len() - 3;
        em[0] == 0
            && em[1] == 1
            && em[2..2 + ps].iter().all(|&b| b == 0xff)
            && em[2 + ps] == 0
            && em[3 + ps..] == t[..]
    })
}

fn mgf1(h: Hash, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut counter: u32 = 0;
    while out.len() < len {
        out.extend_from_slice(&h.digest_parts(&[seed, &counter.to_be_bytes()]));
        counter += 1;
    }
    out.truncate(len);
    out
}

/// EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with MGF1 on the same hash.
fn pss_matches(em_k: &[u8], mod_bits: usize, h: Hash, m_hash: &[u8], s_len: usize) -> bool {
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    // The k-byte RSAVP1 output has one extra leading zero byte when emBits is a multiple of 8.
    let lead = em_k.len() - em_len;
    if em_k[..lead].iter().any(|&b| b != 0) {
        return false;
    }
    let em = &em_k[lead..];
    let h_len = m_hash.len();
    if em_len < h_len + s_len + 2 || em[em_len - 1] != 0xbc {
        return false;
    }
    let db_len = em_len - h_len - 1;
    let (masked_db, hh) = (&em[..db_len], &em[db_len..em_len - 1]);
    let zero_bits = 8 * em_len - em_bits;
    let top_mask: u8 = if zero_bits == 0 {
        0
    } else {
        0xffu8 << (8 - zero_bits)
    };
    if masked_db[0] & top_mask != 0 {
        return false;
    }
    let mut db: Vec<u8> = masked_db
        .iter()
        .zip(mgf1(h, hh, db_len))
        .map(|(a, b)| a ^ b)
        .collect();
    db[0] &= !top_mask;
    let ps_len = db_len - s_len - 1;
    if db[..ps_len].iter().any(|&b| b != 0) || db[ps_len] != 1 {
        return false;
    }
    let salt = &db[ps_len + 1..];
    h.digest_parts(&[&[0u8; 8], m_hash, salt]) == hh
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
            let em = rsa_public(k, sig).ok_or("RSA signature does not verify")?;
            if pkcs1_v15_matches(&em, h, &h.digest(message)) {
                Ok(())
            } else {
                Err("RSA signature does not verify".into())
            }
        }
        (SigKind::RsaPss, PublicKey::Rsa(k)) => {
            let (h, salt) = pss_params(&alg.params)?;
            let em = rsa_public(k, sig).ok_or("RSA-PSS signature does not verify")?;
            use rsa::traits::PublicKeyParts;
            if pss_matches(&em, k.n().bits(), h, &h.digest(message), salt) {
                Ok(())
            } else {
                Err("RSA-PSS signature does not verify".into())
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Differential check of our RSA verification against the `rsa` crate's own.
    #[test]
    fn rsa_verification_agrees_with_the_rsa_crate() {
        use rsa::traits::PublicKeyParts;
        struct R(u64);
        impl rsa::rand_core::RngCore for R {
            fn next_u32(&mut self) -> u32 {
                self.next_u64() as u32
            }
            fn next_u64(&mut self) -> u64 {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0
            }
            fn fill_bytes(&mut self, d: &mut [u8]) {
                for c in d.chunks_mut(8) {
                    let v = self.next_u64().to_le_bytes();
                    c.copy_from_slice(&v[..c.len()]);
                }
            }
            fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
                self.fill_bytes(d);
                Ok(())
            }
        }
        impl rsa::rand_core::CryptoRng for R {}
        let mut rng = R(0x1234_5678_9abc_def1);
        // 1023 bits exercises the PSS emBits % 8 != 7 path too.
        for bits in [1024usize, 1023] {
            let key = rsa::RsaPrivateKey::new(&mut rng, bits).unwrap();
            let public = key.to_public_key();
            for msg in [&b"a"[..], b"signed attributes", &[0u8; 300]] {
                let hashed = Hash::Sha256.digest(msg);
                let sig = key
                    .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed)
                    .unwrap();
                let em = rsa_public(&public, &sig).unwrap();
                assert!(pkcs1_v15_matches(&em, Hash::Sha256, &hashed));
                assert!(!pkcs1_v15_matches(
                    &em,
                    Hash::Sha256,
                    &Hash::Sha256.digest(b"other")
                ));
                for salt in [0usize, 20, 32] {
                    let sig = key
                        .sign_with_rng(
                            &mut rng,
                            rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
                            &hashed,
                        )
                        .unwrap();
                    let em = rsa_public(&public, &sig).unwrap();
                    assert!(
                        pss_matches(&em, public.n().bits(), Hash::Sha256, &hashed, salt),
                        "bits {bits} salt {salt}"
                    );
                    assert!(!pss_matches(
                        &em,
                        public.n().bits(),
                        Hash::Sha256,
                        &Hash::Sha256.digest(b"x"),
                        salt
                    ));
                    let mut bad = sig.clone();
                    bad[5] ^= 1;
                    let ok = rsa_public(&public, &bad).is_some_and(|em| {
                        pss_matches(&em, public.n().bits(), Hash::Sha256, &hashed, salt)
                    });
                    assert!(!ok);
                }
            }
        }
    }
}
