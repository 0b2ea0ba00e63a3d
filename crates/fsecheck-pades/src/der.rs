//! A minimal, bounded ASN.1 reader: DER TLVs, plus a BER→DER normaliser for the indefinite-length
//! and constructed-string encodings that BouncyCastle-style CMS blobs use.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerError(pub String);

pub type Result<T> = std::result::Result<T, DerError>;

fn err<T>(m: impl Into<String>) -> Result<T> {
    Err(DerError(m.into()))
}

pub const MAX_DEPTH: usize = 48;

/// One TLV. `tag` is the identifier octet (low-tag-number form only).
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    /// The content octets.
    pub value: &'a [u8],
    /// The whole encoding, header included.
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    pub fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }
    /// Reader over the children of a constructed value.
    pub fn children(&self) -> Reader<'a> {
        Reader::new(self.value)
    }
    pub fn expect(self, tag: u8) -> Result<Tlv<'a>> {
        if self.tag == tag {
            Ok(self)
        } else {
            err(format!(
                "expected tag 0x{tag:02x}, found 0x{:02x}",
                self.tag
            ))
        }
    }
}

#[derive(Debug, Clone)]
pub struct Reader<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
    pub fn peek_tag(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }
    /// Reads one DER TLV (definite length only).
    pub fn read(&mut self) -> Result<Tlv<'a>> {
        let (tlv, used) = read_der(&self.data[self.pos..])?;
        self.pos += used;
        Ok(tlv)
    }
    pub fn read_tag(&mut self, tag: u8) -> Result<Tlv<'a>> {
        self.read()?.expect(tag)
    }
    /// Reads the next TLV if it has `tag`.
    pub fn read_optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>> {
        if self.peek_tag() == Some(tag) {
            Ok(Some(self.read()?))
        } else {
            Ok(None)
        }
    }
}

fn read_header(data: &[u8]) -> Result<(u8, Option<usize>, usize)> {
    let tag = *data
        .first()
        .ok_or_else(|| DerError("unexpected end of data".into()))?;
    if tag & 0x1f == 0x1f {
        return err("high tag numbers are not supported");
    }
    let l0 = *data
        .get(1)
        .ok_or_else(|| DerError("truncated length".into()))?;
    if l0 < 0x80 {
        return Ok((tag, Some(l0 as usize), 2));
    }
    if l0 == 0x80 {
        return Ok((tag, None, 2));
    }
    let n = (l0 & 0x7f) as usize;
    if n > 4 {
        return err("length too large");
    }
    let bytes = data
        .get(2..2 + n)
        .ok_or_else(|| DerError("truncated length".into()))?;
    let len = bytes.iter().fold(0usize, |a, &b| (a << 8) | b as usize);
    Ok((tag, Some(len), 2 + n))
}

fn read_der(data: &[u8]) -> Result<(Tlv<'_>, usize)> {
    let (tag, len, hl) = read_header(data)?;
    let len = match len {
        Some(l) => l,
        None => return err("indefinite length in DER"),
    };
    let end = hl
        .checked_add(len)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| DerError("length runs past the end of the data".into()))?;
    Ok((
        Tlv {
            tag,
            value: &data[hl..end],
            raw: &data[..end],
        },
        end,
    ))
}

/// Length in bytes of the first BER element of `data` (indefinite lengths followed), or an error.
pub fn ber_element_len(data: &[u8], depth: usize) -> Result<usize> {
    if depth > MAX_DEPTH {
        return err("ASN.1 nesting too deep");
    }
    let (tag, len, hl) = read_header(data)?;
    match len {
        Some(l) => hl
            .checked_add(l)
            .filter(|&e| e <= data.len())
            .ok_or_else(|| DerError("length runs past the end of the data".into())),
        None => {
            if tag & 0x20 == 0 {
                return err("indefinite length on a primitive value");
            }
            let mut pos = hl;
            loop {
                if data.get(pos..pos + 2) == Some(&[0, 0]) {
                    return Ok(pos + 2);
                }
                if pos >= data.len() {
                    return err("missing end-of-contents");
                }
                pos += ber_element_len(&data[pos..], depth + 1)?;
            }
        }
    }
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

pub fn encode_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    push_len(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

/// Re-encodes the first BER element of `data` with definite lengths everywhere and constructed
/// OCTET/BIT strings flattened. Elements that were already definite-length and contain no
/// indefinite parts are copied byte for byte (so signed attributes keep their exact encoding).
/// Returns the encoding and the number of input bytes consumed.
pub fn ber_to_der(data: &[u8]) -> Result<(Vec<u8>, usize)> {
    normalise(data, 0)
}

fn normalise(data: &[u8], depth: usize) -> Result<(Vec<u8>, usize)> {
    if depth > MAX_DEPTH {
        return err("ASN.1 nesting too deep");
    }
    let (tag, len, hl) = read_header(data)?;
    let total = ber_element_len(data, depth)?;
    let constructed = tag & 0x20 != 0;
    if !constructed {
        return Ok((data[..total].to_vec(), total));
    }
    let content_end = if len.is_some() { total } else { total - 2 };
    // Fast path: a definite-length element with no indefinite encodings inside is kept as is.
    if len.is_some() && !contains_indefinite(&data[hl..content_end], depth + 1)? {
        return Ok((data[..total].to_vec(), total));
    }
    let mut children = Vec::new();
    let mut pos = hl;
    while pos < content_end {
        let (c, used) = normalise(&data[pos..content_end], depth + 1)?;
        children.push(c);
        pos += used;
    }
    // Constructed OCTET STRING (0x24) → primitive concatenation.
    if tag == 0x24 {
        let mut v = Vec::new();
        for c in &children {
            let (t, _) = read_der(c)?;
            v.extend_from_slice(t.value);
        }
        return Ok((encode_tlv(0x04, &v), total));
    }
    let body: Vec<u8> = children.concat();
    Ok((encode_tlv(tag, &body), total))
}

fn contains_indefinite(data: &[u8], depth: usize) -> Result<bool> {
    if depth > MAX_DEPTH {
        return err("ASN.1 nesting too deep");
    }
    let mut pos = 0;
    while pos < data.len() {
        let (tag, len, hl) = read_header(&data[pos..])?;
        let l = match len {
            None => return Ok(true),
            Some(l) => l,
        };
        if tag == 0x24 {
            return Ok(true);
        }
        let end = pos
            .checked_add(hl + l)
            .filter(|&e| e <= data.len())
            .ok_or_else(|| DerError("length runs past the end of the data".into()))?;
        if tag & 0x20 != 0 && contains_indefinite(&data[pos + hl..end], depth + 1)? {
            return Ok(true);
        }
        pos = end;
    }
    Ok(false)
}

/// Dotted string of an OBJECT IDENTIFIER's content octets.
pub fn oid_string(v: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for &b in v {
        acc = (acc << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let (a, b2) = if acc < 40 {
                    (0, acc)
                } else if acc < 80 {
                    (1, acc - 40)
                } else {
                    (2, acc - 80)
                };
                parts.push(a);
                parts.push(b2);
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
        if acc > (u64::MAX >> 8) {
            break;
        }
    }
    parts
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// Parses UTCTime (0x17) or GeneralizedTime (0x18) to seconds since the Unix epoch.
pub fn parse_time(t: &Tlv<'_>) -> Result<i64> {
    let s = std::str::from_utf8(t.value).map_err(|_| DerError("time is not ASCII".into()))?;
    let s = s.trim_end_matches('Z');
    let (year, rest) = match t.tag {
        0x17 => {
            let y: i64 = s
                .get(0..2)
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| DerError("bad UTCTime".into()))?;
            (if y >= 50 { 1900 + y } else { 2000 + y }, &s[2..])
        }
        0x18 => {
            let y: i64 = s
                .get(0..4)
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| DerError("bad GeneralizedTime".into()))?;
            (y, &s[4..])
        }
        _ => return err("not a time value"),
    };
    let num = |r: &str, i: usize| -> Option<i64> { r.get(i..i + 2)?.parse().ok() };
    let mo = num(rest, 0).ok_or_else(|| DerError("bad time".into()))?;
    let d = num(rest, 2).ok_or_else(|| DerError("bad time".into()))?;
    let h = num(rest, 4).ok_or_else(|| DerError("bad time".into()))?;
    let mi = num(rest, 6).unwrap_or(0);
    let se = num(rest, 8).unwrap_or(0);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return err("time out of range");
    }
    Ok(days_from_civil(year, mo, d) * 86400 + h * 3600 + mi * 60 + se)
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// ISO 8601 UTC text for seconds since the epoch.
pub fn format_time(t: i64) -> String {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_lengths_are_normalised() {
        // SEQUENCE (indef) { INTEGER 5, OCTET STRING constructed (indef) { "ab", "c" } }
        let ber = [
            0x30, 0x80, 0x02, 0x01, 0x05, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0,
            0, 0, 0,
        ];
        let (der, used) = ber_to_der(&ber).unwrap();
        assert_eq!(used, ber.len());
        assert_eq!(
            der,
            vec![0x30, 0x08, 0x02, 0x01, 0x05, 0x04, 0x03, b'a', b'b', b'c']
        );
    }

    #[test]
    fn truncated_input_is_an_error() {
        assert!(ber_to_der(&[0x30, 0x80, 0x02, 0x01]).is_err());
        assert!(ber_to_der(&[0x30, 0x05, 0x02]).is_err());
        assert!(ber_to_der(&[]).is_err());
    }

    #[test]
    fn oid_and_time() {
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]),
            "1.2.840.113549.1.7.2"
        );
        let t = Tlv {
            tag: 0x17,
            value: b"250602093000Z",
            raw: b"",
        };
        assert_eq!(format_time(parse_time(&t).unwrap()), "2025-06-02T09:30:00Z");
        let g = Tlv {
            tag: 0x18,
            value: b"20491231235959Z",
            raw: b"",
        };
        assert_eq!(format_time(parse_time(&g).unwrap()), "2049-12-31T23:59:59Z");
    }
}
