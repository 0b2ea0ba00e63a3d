//! Test-only fixtures written for this project: a DER writer, a throw-away PKI (keys derived
//! from fixed seeds, so runs are reproducible), a CMS/PAdES signer, an RFC 3161 token maker and
//! a small PDF writer with incremental updates. Never used by the library.
#![allow(dead_code)]

use p256::ecdsa::signature::hazmat::PrehashSigner;
use sha2::{Digest, Sha256, Sha384};

// ------------------------------------------------------------------------------------------
// DER writer
// ------------------------------------------------------------------------------------------

pub fn tlv(tag: u8, v: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = v.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let b = n.to_be_bytes();
        let skip = b.iter().take_while(|&&x| x == 0).count();
        out.push(0x80 | (b.len() - skip) as u8);
        out.extend_from_slice(&b[skip..]);
    }
    out.extend_from_slice(v);
    out
}
pub fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &items.concat())
}
pub fn set(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &items.concat())
}
pub fn ctx(n: u8, constructed: bool, v: &[u8]) -> Vec<u8> {
    tlv(0x80 | if constructed { 0x20 } else { 0 } | n, v)
}
pub fn oid(s: &str) -> Vec<u8> {
    let p: Vec<u64> = s.split('.').map(|x| x.parse().unwrap()).collect();
    let mut v = vec![(p[0] * 40 + p[1]) as u8];
    for &x in &p[2..] {
        let mut stack = vec![(x & 0x7f) as u8];
        let mut y = x >> 7;
        while y > 0 {
            stack.push((y & 0x7f) as u8 | 0x80);
            y >>= 7;
        }
        stack.reverse();
        v.extend(stack);
    }
    tlv(0x06, &v)
}
pub fn uint(b: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = b.iter().copied().skip_while(|&x| x == 0).collect();
    if b.is_empty() || b[0] & 0x80 != 0 {
        b.insert(0, 0);
    }
    tlv(0x02, &b)
}
pub fn int(n: u64) -> Vec<u8> {
    uint(&n.to_be_bytes())
}
pub fn octets(b: &[u8]) -> Vec<u8> {
    tlv(0x04, b)
}
pub fn bits(b: &[u8]) -> Vec<u8> {
    let mut v = vec![0];
    v.extend_from_slice(b);
    tlv(0x03, &v)
}
pub fn null() -> Vec<u8> {
    vec![0x05, 0]
}
pub fn utc(y: i64, m: u32, d: u32) -> Vec<u8> {
    if (1950..2050).contains(&y) {
        tlv(
            0x17,
            format!("{:02}{m:02}{d:02}000000Z", y % 100).as_bytes(),
        )
    } else {
        tlv(0x18, format!("{y:04}{m:02}{d:02}000000Z").as_bytes())
    }
}
pub fn gentime(s: &str) -> Vec<u8> {
    tlv(0x18, s.as_bytes())
}
pub fn name(cn: &str) -> Vec<u8> {
    seq(&[set(&[seq(&[oid("2.5.4.3"), tlv(0x0c, cn.as_bytes())])])])
}
pub fn alg(o: &str, params: Option<Vec<u8>>) -> Vec<u8> {
    match params {
        Some(p) => seq(&[oid(o), p]),
        None => seq(&[oid(o)]),
    }
}

// ------------------------------------------------------------------------------------------
// Keys
// ------------------------------------------------------------------------------------------

pub enum Key {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>, bool /* PSS */),
}

/// Deterministic byte stream for key generation (test only).
pub struct SeedRng(u64);
impl rsa::rand_core::RngCore for SeedRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for c in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl rsa::rand_core::CryptoRng for SeedRng {}

impl Key {
    pub fn p256(seed: &str) -> Key {
        let s = Sha256::digest(seed.as_bytes());
        Key::P256(p256::ecdsa::SigningKey::from_slice(&s).unwrap())
    }
    pub fn p384(seed: &str) -> Key {
        let s = Sha384::digest(seed.as_bytes());
        Key::P384(p384::ecdsa::SigningKey::from_slice(&s).unwrap())
    }
    pub fn rsa(seed: u64, pss: bool) -> Key {
        let mut rng = SeedRng(seed | 1);
        Key::Rsa(
            Box::new(rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap()),
            pss,
        )
    }
    pub fn spki(&self) -> Vec<u8> {
        use rsa::traits::PublicKeyParts;
        match self {
            Key::P256(k) => seq(&[
                alg("1.2.840.10045.2.1", Some(oid("1.2.840.10045.3.1.7"))),
                bits(k.verifying_key().to_encoded_point(false).as_bytes()),
            ]),
            Key::P384(k) => seq(&[
                alg("1.2.840.10045.2.1", Some(oid("1.3.132.0.34"))),
                bits(k.verifying_key().to_encoded_point(false).as_bytes()),
            ]),
            Key::Rsa(k, _) => seq(&[
                alg("1.2.840.113549.1.1.1", Some(null())),
                bits(&seq(&[
                    uint(&k.n().to_bytes_be()),
                    uint(&k.e().to_bytes_be()),
                ])),
            ]),
        }
    }
    /// The signature AlgorithmIdentifier this key uses.
    pub fn sig_alg(&self) -> Vec<u8> {
        match self {
            Key::P256(_) => alg("1.2.840.10045.4.3.2", None),
            Key::P384(_) => alg("1.2.840.10045.4.3.3", None),
            Key::Rsa(_, false) => alg("1.2.840.113549.1.1.11", Some(null())),
            Key::Rsa(_, true) => alg(
                "1.2.840.113549.1.1.10",
                Some(seq(&[
                    ctx(0, true, &alg("2.16.840.1.101.3.4.2.1", Some(null()))),
                    ctx(
                        1,
                        true,
                        &alg(
                            "1.2.840.113549.1.1.8",
                            Some(alg("2.16.840.1.101.3.4.2.1", Some(null()))),
                        ),
                    ),
                    ctx(2, true, &int(32)),
                ])),
            ),
        }
    }
    /// The CMS digest algorithm OID matching the signature.
    pub fn digest_oid(&self) -> &'static str {
        match self {
            Key::P384(_) => "2.16.840.1.101.3.4.2.2",
            _ => "2.16.840.1.101.3.4.2.1",
        }
    }
    pub fn digest(&self, m: &[u8]) -> Vec<u8> {
        match self {
            Key::P384(_) => Sha384::digest(m).to_vec(),
            _ => Sha256::digest(m).to_vec(),
        }
    }
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Key::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign_prehash(&Sha256::digest(msg)).unwrap();
                s.to_der().as_bytes().to_vec()
            }
            Key::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign_prehash(&Sha384::digest(msg)).unwrap();
                s.to_der().as_bytes().to_vec()
            }
            Key::Rsa(k, false) => k
                .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg))
                .unwrap(),
            Key::Rsa(k, true) => {
                let mut rng = SeedRng(42);
                k.sign_with_rng(
                    &mut rng,
                    rsa::Pss::new_with_salt::<Sha256>(32),
                    &Sha256::digest(msg),
                )
                .unwrap()
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Certificates
// ------------------------------------------------------------------------------------------

pub struct CertSpec<'a> {
    pub cn: &'a str,
    pub serial: u64,
    pub from: (i64, u32, u32),
    pub to: (i64, u32, u32),
    pub ca: bool,
    /// KeyUsage bits as the first byte of the BIT STRING (0x80 digitalSignature, 0x40
    /// nonRepudiation, 0x20 keyEncipherment, 0x04 keyCertSign, 0x02 cRLSign); None = absent.
    pub ku: Option<u8>,
    pub eku: Option<&'a str>,
}

pub struct Issued {
    pub der: Vec<u8>,
    pub name: Vec<u8>,
    pub issuer_name: Vec<u8>,
    pub serial: u64,
    pub key: Key,
}

fn key_id(spki: &[u8]) -> Vec<u8> {
    Sha256::digest(spki)[..20].to_vec()
}

/// Issues a certificate for `key` signed by `issuer` (None = self-signed).
pub fn issue(spec: &CertSpec<'_>, key: Key, issuer: Option<&Issued>) -> Issued {
    let spki = key.spki();
    let subject = name(spec.cn);
    let (iname, ikey) = match issuer {
        Some(i) => (i.name.clone(), &i.key),
        None => (subject.clone(), &key),
    };
    let mut exts = vec![seq(&[oid("2.5.29.14"), octets(&octets(&key_id(&spki)))])];
    exts.push(seq(&[
        oid("2.5.29.35"),
        octets(&seq(&[ctx(0, false, &key_id(&ikey.spki()))])),
    ]));
    if spec.ca {
        exts.push(seq(&[
            oid("2.5.29.19"),
            tlv(0x01, &[0xff]),
            octets(&seq(&[tlv(0x01, &[0xff])])),
        ]));
    }
    if let Some(ku) = spec.ku {
        exts.push(seq(&[
            oid("2.5.29.15"),
            tlv(0x01, &[0xff]),
            octets(&tlv(0x03, &[0x01, ku])),
        ]));
    }
    if let Some(e) = spec.eku {
        exts.push(seq(&[
            oid("2.5.29.37"),
            tlv(0x01, &[0xff]),
            octets(&seq(&[oid(e)])),
        ]));
    }
    let tbs = seq(&[
        ctx(0, true, &int(2)),
        int(spec.serial),
        ikey.sig_alg(),
        iname.clone(),
        seq(&[
            utc(spec.from.0, spec.from.1, spec.from.2),
            utc(spec.to.0, spec.to.1, spec.to.2),
        ]),
        subject.clone(),
        spki,
        ctx(3, true, &seq(&exts)),
    ]);
    let sig = ikey.sign(&tbs);
    let der = seq(&[tbs, ikey.sig_alg(), bits(&sig)]);
    Issued {
        der,
        name: subject,
        issuer_name: iname,
        serial: spec.serial,
        key,
    }
}

pub fn pem(der: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in der.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    let body: Vec<String> = s
        .as_bytes()
        .chunks(64)
        .map(|l| String::from_utf8(l.to_vec()).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        body.join("\n")
    )
}

/// A CRL issued by `ca` revoking `(serial, date)` entries.
pub fn crl(ca: &Issued, revoked: &[(u64, (i64, u32, u32))]) -> Vec<u8> {
    let entries: Vec<Vec<u8>> = revoked
        .iter()
        .map(|(s, d)| seq(&[int(*s), utc(d.0, d.1, d.2)]))
        .collect();
    let mut tbs = vec![
        int(1),
        ca.key.sig_alg(),
        ca.name.clone(),
        utc(2025, 1, 1),
        utc(2026, 1, 1),
    ];
    if !entries.is_empty() {
        tbs.push(seq(&entries));
    }
    let tbs = seq(&tbs);
    let sig = ca.key.sign(&tbs);
    seq(&[tbs, ca.key.sig_alg(), bits(&sig)])
}

// ------------------------------------------------------------------------------------------
// CMS
// ------------------------------------------------------------------------------------------

pub struct SignOpts {
    pub content_type: &'static str,
    pub with_signing_cert_v2: bool,
    pub signing_time: Option<&'static str>,
    pub timestamp: Option<Vec<u8>>,
}

impl Default for SignOpts {
    fn default() -> Self {
        SignOpts {
            content_type: "1.2.840.113549.1.7.1",
            with_signing_cert_v2: true,
            signing_time: None,
            timestamp: None,
        }
    }
}

/// SignedData over `content` (detached unless `econtent`), signed by `signer`, carrying `certs`.
pub fn signed_data(
    signer: &Issued,
    certs: &[&[u8]],
    content: &[u8],
    econtent: Option<&[u8]>,
    o: &SignOpts,
) -> Vec<u8> {
    let md = signer.key.digest(econtent.unwrap_or(content));
    let mut attrs = vec![
        seq(&[oid("1.2.840.113549.1.9.3"), set(&[oid(o.content_type)])]),
        seq(&[oid("1.2.840.113549.1.9.4"), set(&[octets(&md)])]),
    ];
    if let Some(t) = o.signing_time {
        attrs.push(seq(&[oid("1.2.840.113549.1.9.5"), set(&[gentime(t)])]));
    }
    if o.with_signing_cert_v2 {
        let h = Sha256::digest(&signer.der);
        attrs.push(seq(&[
            oid("1.2.840.113549.1.9.16.2.47"),
            set(&[seq(&[seq(&[seq(&[octets(&h)])])])]),
        ]));
    }
    let signed_attrs = set(&attrs);
    let sig = signer.key.sign(&signed_attrs);
    let mut si = vec![
        int(1),
        seq(&[signer.issuer_name.clone(), int(signer.serial)]),
        alg(signer.key.digest_oid(), None),
        ctx(0, true, &attrs.concat()),
        signer.key.sig_alg(),
        octets(&sig),
    ];
    if let Some(tok) = &o.timestamp {
        // Computed over the signature value by the caller: see `timestamp_for_signature`.
        si.push(ctx(
            1,
            true,
            &seq(&[
                oid("1.2.840.113549.1.9.16.2.14"),
                set(std::slice::from_ref(tok)),
            ]),
        ));
    }
    let eci = match econtent {
        Some(e) => seq(&[oid(o.content_type), ctx(0, true, &octets(e))]),
        None => seq(&[oid("1.2.840.113549.1.7.1")]),
    };
    let sd = seq(&[
        int(if econtent.is_some() { 3 } else { 1 }),
        set(&[alg(signer.key.digest_oid(), None)]),
        eci,
        ctx(0, true, &certs.concat()),
        set(&[seq(&si)]),
    ]);
    seq(&[oid("1.2.840.113549.1.7.2"), ctx(0, true, &sd)])
}

/// An RFC 3161 token whose imprint is SHA-256 of `data`, issued by `tsa` at `time`.
pub fn timestamp_token(tsa: &Issued, certs: &[&[u8]], data: &[u8], time: &str) -> Vec<u8> {
    let tst = seq(&[
        int(1),
        oid("1.3.6.1.4.1.99999.1"),
        seq(&[
            alg("2.16.840.1.101.3.4.2.1", None),
            octets(&Sha256::digest(data)),
        ]),
        int(7),
        gentime(time),
    ]);
    let o = SignOpts {
        content_type: "1.2.840.113549.1.9.16.1.4",
        ..SignOpts::default()
    };
    signed_data(tsa, certs, &tst, Some(&tst), &o)
}

/// The signature value (SignerInfo signature) inside a CMS made by `signed_data`.
pub fn signature_value(cms: &[u8]) -> Vec<u8> {
    let sd = fsecheck_pades::cms::parse_signed_data(cms).unwrap();
    sd.signer_infos[0].signature.clone()
}

// ------------------------------------------------------------------------------------------
// PDF writer
// ------------------------------------------------------------------------------------------

pub struct Pdf {
    pub bytes: Vec<u8>,
    pub last_xref: Option<usize>,
    pub size: u32,
    pub root: u32,
}

impl Pdf {
    /// Writes one revision with `objects` (number, body) and the given root.
    pub fn revision(&mut self, objects: &[(u32, Vec<u8>)]) {
        let mut offs = vec![];
        if !self.bytes.ends_with(b"\n") {
            self.bytes.push(b'\n');
        }
        for (n, body) in objects {
            offs.push((*n, self.bytes.len()));
            self.bytes
                .extend_from_slice(format!("{n} 0 obj\n").as_bytes());
            self.bytes.extend_from_slice(body);
            self.bytes.extend_from_slice(b"\nendobj\n");
            self.size = self.size.max(n + 1);
        }
        let xref = self.bytes.len();
        let mut x = String::from("xref\n0 1\n0000000000 65535 f \n");
        offs.sort();
        for (n, o) in &offs {
            x.push_str(&format!("{n} 1\n{o:010} 00000 n \n"));
        }
        let prev = self
            .last_xref
            .map(|p| format!(" /Prev {p}"))
            .unwrap_or_default();
        x.push_str(&format!(
            "trailer\n<< /Size {} /Root {} 0 R{prev} >>\nstartxref\n{xref}\n%%EOF\n",
            self.size, self.root
        ));
        self.bytes.extend_from_slice(x.as_bytes());
        self.last_xref = Some(xref);
    }
}

pub fn stream(dict_extra: &str, data: &[u8]) -> Vec<u8> {
    let mut v = format!("<< {dict_extra} /Length {} >>\nstream\n", data.len()).into_bytes();
    v.extend_from_slice(data);
    v.extend_from_slice(b"\nendstream");
    v
}

pub const CDA: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>Referto di prova</title></ClinicalDocument>\n";

/// How the base document carries its attachments.
pub enum Attach<'a> {
    /// Flat `/Names` entries (key, /F, /UF, content); listed in /AF too.
    Flat(Vec<(&'a str, &'a str, Option<&'a str>, &'a str)>),
    /// One entry at the given name-tree depth (1 = under /Kids[0]).
    Nested(&'a str, usize),
    None,
}

/// Base revision: 1 catalog, 2 pages, 3 page, 4 content, attachments from 10 on.
pub fn base_pdf(attach: &Attach<'_>) -> Pdf {
    let mut pdf = Pdf {
        bytes: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
        last_xref: None,
        size: 5,
        root: 1,
    };
    let mut objs: Vec<(u32, Vec<u8>)> = vec![
        (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec()),
        (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>".to_vec()),
        (4, stream("", b"BT /F1 12 Tf 72 720 Td (Referto) Tj ET")),
    ];
    let mut names = String::new();
    let mut af = String::new();
    let mut n = 10;
    let mut kids_obj = None;
    match attach {
        Attach::Flat(list) => {
            for (key, f, uf, content) in list {
                let uf = uf.map(|u| format!(" /UF ({u})")).unwrap_or_default();
                objs.push((n, format!("<< /Type /Filespec /F ({f}){uf} /AFRelationship /Source /EF << /F {} 0 R >> >>", n + 1).into_bytes()));
                objs.push((
                    n + 1,
                    stream(
                        "/Type /EmbeddedFile /Subtype /application#2Fxml",
                        content.as_bytes(),
                    ),
                ));
                names.push_str(&format!("({key}) {n} 0 R "));
                af.push_str(&format!("{n} 0 R "));
                n += 2;
            }
        }
        Attach::Nested(key, depth) => {
            objs.push((
                n,
                format!(
                    "<< /Type /Filespec /F ({key}) /EF << /F {} 0 R >> >>",
                    n + 1
                )
                .into_bytes(),
            ));
            objs.push((n + 1, stream("/Type /EmbeddedFile", CDA.as_bytes())));
            // Build the chain of /Kids nodes from the leaf up.
            let mut child = format!("<< /Limits [({key}) ({key})] /Names [({key}) {n} 0 R] >>");
            let mut id = 30;
            for _ in 1..*depth {
                objs.push((id, child.clone().into_bytes()));
                child = format!("<< /Limits [({key}) ({key})] /Kids [{id} 0 R] >>");
                id += 1;
            }
            objs.push((id, child.into_bytes()));
            kids_obj = Some(id);
        }
        Attach::None => {}
    }
    let names_entry = match (attach, kids_obj) {
        (Attach::Flat(_), _) => {
            format!(" /Names << /EmbeddedFiles << /Names [{names}] >> >> /AF [{af}]")
        }
        (Attach::Nested(..), Some(k)) => {
            format!(" /Names << /EmbeddedFiles << /Kids [{k} 0 R] >> >>")
        }
        _ => String::new(),
    };
    objs.insert(
        0,
        (
            1,
            format!("<< /Type /Catalog /Pages 2 0 R{names_entry} >>").into_bytes(),
        ),
    );
    pdf.revision(&objs);
    pdf
}

/// The catalog body of `base_pdf` plus extra entries.
pub fn catalog_with(pdf: &Pdf, extra: &str) -> Vec<u8> {
    // Re-read the current catalog with the library and append entries textually.
    let limits = fsecheck_pades::pdf::Limits::default();
    let scan = fsecheck_pades::pdf::scan_revisions(&pdf.bytes, &limits);
    let doc = fsecheck_pades::pdf::Doc::open(&pdf.bytes, scan.revisions.last().unwrap(), &limits)
        .unwrap();
    let start = match doc.xref.get(&1).unwrap() {
        fsecheck_pades::pdf::Entry::InFile(o, _) => *o,
        _ => unreachable!(),
    };
    let text = &pdf.bytes[start..];
    let open = fsecheck_pades::pdf::find(text, b"<<").unwrap();
    let end = fsecheck_pades::pdf::find(text, b"\nendobj").unwrap();
    let body = &text[open..end];
    let inner = &body[2..body.len() - 2];
    let mut v = b"<<".to_vec();
    v.extend_from_slice(inner);
    v.extend_from_slice(format!(" {extra} >>").as_bytes());
    v
}

pub const PLACEHOLDER: usize = 6000;

/// Adds a signature (or document timestamp) in an incremental update and fills it with
/// `make_cms(byte_range_content)`. `sig_extra` goes into the signature dictionary.
pub fn sign_pdf(
    pdf: &mut Pdf,
    field: &str,
    subfilter: &str,
    doc_ts: bool,
    sig_extra: &str,
    make_cms: &dyn Fn(&[u8]) -> Vec<u8>,
) {
    let n = pdf.size.max(40);
    let (fnum, vnum, afnum) = (n, n + 1, n + 2);
    let ty = if doc_ts {
        "/Type /DocTimeStamp"
    } else {
        "/Type /Sig /M (D:20250602093000Z)"
    };
    let sig = format!(
        "<< {ty} /Filter /Adobe.PPKLite /SubFilter /{subfilter} {sig_extra} /ByteRange [0 0000000000 0000000000 0000000000] /Contents <{}> >>",
        "0".repeat(PLACEHOLDER * 2)
    );
    // Existing fields, if any.
    let limits = fsecheck_pades::pdf::Limits::default();
    let scan = fsecheck_pades::pdf::scan_revisions(&pdf.bytes, &limits);
    let doc = fsecheck_pades::pdf::Doc::open(&pdf.bytes, scan.revisions.last().unwrap(), &limits)
        .unwrap();
    let cat = doc.catalog().unwrap();
    let mut fields: Vec<String> = vec![];
    if let Some(af) = doc.resolve_dict(cat.get("AcroForm")) {
        if let Some(a) = af
            .get("Fields")
            .and_then(fsecheck_pades::pdf::Obj::as_array)
        {
            fields = a
                .iter()
                .filter_map(|o| o.as_ref())
                .map(|(r, _)| format!("{r} 0 R"))
                .collect();
        }
    }
    fields.push(format!("{fnum} 0 R"));
    let acro = format!("<< /Fields [{}] /SigFlags 3 >>", fields.join(" "));
    let cat_body = if cat.get("AcroForm").is_some() {
        // Point the existing /AcroForm entry at the new dictionary by rewriting the catalog.
        let s = String::from_utf8_lossy(&catalog_with(pdf, "")).into_owned();
        let i = s.find("/AcroForm").unwrap();
        let j = i + s[i..].find(" R").unwrap() + 2;
        format!("{}/AcroForm {afnum} 0 R{}", &s[..i], &s[j..]).into_bytes()
    } else {
        catalog_with(pdf, &format!("/AcroForm {afnum} 0 R"))
    };
    pdf.revision(&[
        (1, cat_body),
        (afnum, acro.into_bytes()),
        (fnum, format!("<< /FT /Sig /T ({field}) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /F 132 /V {vnum} 0 R >>").into_bytes()),
        (vnum, sig.into_bytes()),
    ]);
    let b = &mut pdf.bytes;
    let br_at = fsecheck_pades::pdf::rfind(b, b"/ByteRange [0 0000000000").unwrap();
    let c_at = fsecheck_pades::pdf::rfind(b, format!("/Contents <{}", "0".repeat(16)).as_bytes())
        .unwrap()
        + 10;
    let gap_end = c_at + 2 + PLACEHOLDER * 2;
    let len = b.len();
    let br = format!(
        "/ByteRange [0 {c_at:010} {gap_end:010} {:010}]",
        len - gap_end
    );
    b[br_at..br_at + br.len()].copy_from_slice(br.as_bytes());
    let mut content = b[..c_at].to_vec();
    content.extend_from_slice(&b[gap_end..]);
    let cms = make_cms(&content);
    assert!(cms.len() <= PLACEHOLDER, "CMS larger than the placeholder");
    let hex: String = cms.iter().map(|x| format!("{x:02x}")).collect();
    b[c_at + 1..c_at + 1 + hex.len()].copy_from_slice(hex.as_bytes());
}

/// Test PKI: root → intermediate → signers; TSA under the root.
pub struct Pki {
    pub root: Issued,
    pub inter: Issued,
    pub tsa: Issued,
}

pub fn pki() -> Pki {
    let root = issue(
        &CertSpec {
            cn: "Test Root",
            serial: 1,
            from: (2020, 1, 1),
            to: (2045, 1, 1),
            ca: true,
            ku: Some(0x06),
            eku: None,
        },
        Key::p256("root"),
        None,
    );
    let inter = issue(
        &CertSpec {
            cn: "Test Intermediate",
            serial: 2,
            from: (2020, 1, 1),
            to: (2040, 1, 1),
            ca: true,
            ku: Some(0x06),
            eku: None,
        },
        Key::p256("intermediate"),
        Some(&root),
    );
    let tsa = issue(
        &CertSpec {
            cn: "Test TSA",
            serial: 3,
            from: (2020, 1, 1),
            to: (2040, 1, 1),
            ca: false,
            ku: Some(0x80),
            eku: Some("1.3.6.1.5.5.7.3.8"),
        },
        Key::p256("tsa"),
        Some(&root),
    );
    Pki { root, inter, tsa }
}

pub fn signer(
    p: &Pki,
    cn: &str,
    serial: u64,
    key: Key,
    from: (i64, u32, u32),
    to: (i64, u32, u32),
    ku: Option<u8>,
) -> Issued {
    issue(
        &CertSpec {
            cn,
            serial,
            from,
            to,
            ca: false,
            ku,
            eku: None,
        },
        key,
        Some(&p.inter),
    )
}

pub fn trust_of(p: &Pki) -> fsecheck_pades::TrustStore {
    let mut t = fsecheck_pades::TrustStore::empty();
    t.add_bytes(pem(&p.root.der).as_bytes(), "test root");
    t
}
