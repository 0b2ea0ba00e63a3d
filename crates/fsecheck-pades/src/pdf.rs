//! A small, bounded PDF object layer written for verification, not rendering.
//!
//! It knows exactly what the verifier needs: the lexer and object parser (ISO 32000-1 §7.2–7.3),
//! indirect objects and streams, classic xref tables and xref streams (with object streams), and the
//! FlateDecode/ASCIIHex filters with PNG predictors. Every entry point is bounded by [`Limits`] and
//! returns errors as values: untrusted input never panics.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Resource limits applied while reading an untrusted PDF.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Limits {
    /// Largest number of xref entries accepted over all sections of a file.
    pub max_objects: usize,
    /// Deepest nesting of arrays/dictionaries (and of reference chains).
    pub max_depth: usize,
    /// Largest decoded stream, in bytes.
    pub max_stream_size: usize,
    /// Largest decoded/encoded ratio of a compressed stream (above 1 MiB of output).
    pub max_inflate_ratio: usize,
    /// Largest number of revisions (`%%EOF` markers) looked at.
    pub max_revisions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_objects: 500_000,
            max_depth: 64,
            max_stream_size: 64 * 1024 * 1024,
            max_inflate_ratio: 1_000,
            max_revisions: 256,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfError(pub String);

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T> = std::result::Result<T, PdfError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(PdfError(msg.into()))
}

/// A PDF object. Streams keep the byte offsets of their (still encoded) data in the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Obj {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Str(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Obj>),
    Dict(Dict),
    Ref(u32, u16),
    Stream(Stream),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict(pub Vec<(Vec<u8>, Obj)>);

impl Dict {
    pub fn get(&self, key: &str) -> Option<&Obj> {
        self.0
            .iter()
            .find(|(k, _)| k.as_slice() == key.as_bytes())
            .map(|(_, v)| v)
    }
    pub fn name(&self, key: &str) -> Option<&[u8]> {
        match self.get(key) {
            Some(Obj::Name(n)) => Some(n),
            _ => None,
        }
    }
    pub fn is_type(&self, ty: &str) -> bool {
        self.name("Type") == Some(ty.as_bytes())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub dict: Dict,
    /// Offset of the first data byte in the file.
    pub start: usize,
    /// Offset one past the last data byte.
    pub end: usize,
}

impl Obj {
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Obj::Dict(d) => Some(d),
            Obj::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Obj::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Obj]> {
        match self {
            Obj::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Obj::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_ref(&self) -> Option<(u32, u16)> {
        match self {
            Obj::Ref(n, g) => Some((*n, *g)),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer / parser
// ---------------------------------------------------------------------------------------------

pub fn is_ws(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(b: u8) -> bool {
    !is_ws(b) && !is_delim(b)
}

pub struct Parser<'a> {
    pub data: &'a [u8],
    pub pos: usize,
    max_depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(data: &'a [u8], pos: usize, max_depth: usize) -> Self {
        Parser {
            data,
            pos: pos.min(data.len()),
            max_depth,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    pub fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_ws(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Reads a keyword/number token (regular characters) without interpreting it.
    pub fn token(&mut self) -> &'a [u8] {
        self.skip_ws();
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_regular(b) {
                self.pos += 1;
            } else {
                break;
            }
        }
        &self.data[start..self.pos]
    }

    pub fn expect_keyword(&mut self, kw: &str) -> Result<()> {
        let t = self.token();
        if t == kw.as_bytes() {
            Ok(())
        } else {
            err(format!(
                "expected '{kw}' at byte {}, found '{}'",
                self.pos,
                String::from_utf8_lossy(&t[..t.len().min(20)])
            ))
        }
    }

    pub fn parse_uint(&mut self) -> Result<u64> {
        let t = self.token();
        parse_u64(t).ok_or_else(|| PdfError(format!("expected an integer at byte {}", self.pos)))
    }

    pub fn parse_object(&mut self, depth: usize) -> Result<Obj> {
        if depth > self.max_depth {
            return err("objects nested too deeply");
        }
        self.skip_ws();
        let b = match self.peek() {
            Some(b) => b,
            None => return err("unexpected end of data while reading an object"),
        };
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Obj::Name(self.parse_name()))
            }
            b'(' => {
                self.pos += 1;
                Ok(Obj::Str(self.parse_literal()?))
            }
            b'<' => {
                if self.data.get(self.pos + 1) == Some(&b'<') {
                    self.pos += 2;
                    Ok(Obj::Dict(self.parse_dict_body(depth)?))
                } else {
                    self.pos += 1;
                    Ok(Obj::Str(self.parse_hex()?))
                }
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        None => return err("unterminated array"),
                        _ => items.push(self.parse_object(depth + 1)?),
                    }
                }
                Ok(Obj::Array(items))
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.parse_number_or_ref(),
            _ if is_regular(b) => {
                let t = self.token();
                match t {
                    b"true" => Ok(Obj::Bool(true)),
                    b"false" => Ok(Obj::Bool(false)),
                    b"null" => Ok(Obj::Null),
                    _ => err(format!(
                        "unexpected keyword '{}' at byte {}",
                        String::from_utf8_lossy(&t[..t.len().min(20)]),
                        self.pos
                    )),
                }
            }
            _ => err(format!("unexpected byte 0x{b:02x} at offset {}", self.pos)),
        }
    }

    fn parse_dict_body(&mut self, depth: usize) -> Result<Dict> {
        let mut entries = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'>') => {
                    if self.data.get(self.pos + 1) == Some(&b'>') {
                        self.pos += 2;
                        return Ok(Dict(entries));
                    }
                    return err(format!("malformed dictionary end at byte {}", self.pos));
                }
                Some(b'/') => {
                    self.pos += 1;
                    let key = self.parse_name();
                    let value = self.parse_object(depth + 1)?;
                    // A later duplicate key replaces the earlier one.
                    if let Some(slot) = entries.iter_mut().find(|(k, _)| *k == key) {
                        slot.1 = value;
                    } else {
                        entries.push((key, value));
                    }
                }
                None => return err("unterminated dictionary"),
                Some(_) => return err(format!("dictionary key expected at byte {}", self.pos)),
            }
        }
    }

    fn parse_name(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            if !is_regular(b) {
                break;
            }
            if b == b'#' {
                let h = self.data.get(self.pos + 1).and_then(|c| hexval(*c));
                let l = self.data.get(self.pos + 2).and_then(|c| hexval(*c));
                if let (Some(h), Some(l)) = (h, l) {
                    out.push(h * 16 + l);
                    self.pos += 3;
                    continue;
                }
            }
            out.push(b);
            self.pos += 1;
        }
        out
    }

    fn parse_literal(&mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut nest = 1usize;
        loop {
            let b = match self.peek() {
                Some(b) => b,
                None => return err("unterminated string"),
            };
            self.pos += 1;
            match b {
                b'(' => {
                    nest += 1;
                    out.push(b);
                }
                b')' => {
                    nest -= 1;
                    if nest == 0 {
                        return Ok(out);
                    }
                    out.push(b);
                }
                b'\\' => {
                    let c = match self.peek() {
                        Some(c) => c,
                        None => return err("unterminated string"),
                    };
                    self.pos += 1;
                    match c {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = (c - b'0') as u32;
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + (d - b'0') as u32;
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        other => out.push(other),
                    }
                }
                b'\r' => {
                    // End-of-line in a literal string is read as a single LF.
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
        }
    }

    fn parse_hex(&mut self) -> Result<Vec<u8>> {
        let rest = &self.data[self.pos..];
        let Some(end) = memchr::memchr(b'>', rest) else {
            return err("unterminated hex string");
        };
        let (out, info) = hex_decode(&rest[..end]);
        if info.invalid {
            return err(format!(
                "invalid hex digit in the string at byte {}",
                self.pos
            ));
        }
        self.pos += end + 1;
        Ok(out)
    }

    fn parse_number_or_ref(&mut self) -> Result<Obj> {
        let start = self.pos;
        let t = self.token();
        if let Some(n) = parse_i64(t) {
            // Look ahead for "gen R".
            let save = self.pos;
            if n >= 0 {
                let t2 = self.token();
                if let Some(g) = parse_u64(t2) {
                    let t3 = self.token();
                    if t3 == b"R" && n <= u32::MAX as i64 && g <= u16::MAX as u64 {
                        return Ok(Obj::Ref(n as u32, g as u16));
                    }
                }
            }
            self.pos = save;
            return Ok(Obj::Int(n));
        }
        let s = std::str::from_utf8(t).unwrap_or("");
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Obj::Real(f)),
            _ => {
                // PDF writers sometimes emit "--1" or "1.2.3"; treat as 0 like most readers.
                if t.is_empty() {
                    err(format!("malformed number at byte {start}"))
                } else {
                    Ok(Obj::Real(0.0))
                }
            }
        }
    }
}

const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    // White space is skipped.
    t[0] = 0xfe;
    t[9] = 0xfe;
    t[10] = 0xfe;
    t[12] = 0xfe;
    t[13] = 0xfe;
    t[32] = 0xfe;
    t
};

/// What [`hex_decode`] met besides hex digits.
#[derive(Debug, Clone, Copy, Default)]
pub struct HexInfo {
    /// A byte that is neither a hex digit nor white space.
    pub invalid: bool,
    /// White space between digits.
    pub whitespace: bool,
}

/// Decodes hex digits (white space skipped; an odd final digit is padded with 0, as PDF
/// says). Invalid bytes are skipped and reported.
pub fn hex_decode(s: &[u8]) -> (Vec<u8>, HexInfo) {
    let mut out = Vec::with_capacity(s.len() / 2 + 1);
    let mut info = HexInfo::default();
    let mut hi: Option<u8> = None;
    for &b in s {
        let v = HEX[b as usize];
        if v >= 0xfe {
            if v == 0xfe {
                info.whitespace = true;
            } else {
                info.invalid = true;
            }
            continue;
        }
        match hi.take() {
            None => hi = Some(v),
            Some(x) => out.push(x << 4 | v),
        }
    }
    if let Some(x) = hi {
        out.push(x << 4);
    }
    (out, info)
}

pub fn hexval(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

pub fn parse_u64(t: &[u8]) -> Option<u64> {
    if t.is_empty() || t.len() > 19 || !t.iter().all(|b| b.is_ascii_digit()) {
        return None;
    }
    std::str::from_utf8(t).ok()?.parse().ok()
}

fn parse_i64(t: &[u8]) -> Option<i64> {
    let (neg, digits) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let v = parse_u64(digits)? as i64;
    Some(if neg { -v } else { v })
}

// ---------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------

fn inflate(data: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    use std::io::Read;
    let cap = limits.max_stream_size.min(
        data.len()
            .saturating_mul(limits.max_inflate_ratio)
            .max(1 << 20),
    );
    let mut out = Vec::new();
    let dec = flate2::read::ZlibDecoder::new(data);
    let mut take = dec.take(cap as u64 + 1);
    match take.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) => {
            // Many writers produce streams with a bad Adler-32 or missing end: keep what inflated.
            if out.is_empty() {
                // Try raw deflate (no zlib header).
                let mut raw = Vec::new();
                let dec = flate2::read::DeflateDecoder::new(data);
                if dec.take(cap as u64 + 1).read_to_end(&mut raw).is_err() || raw.is_empty() {
                    return err(format!("FlateDecode failed: {e}"));
                }
                out = raw;
            }
        }
    }
    if out.len() > cap {
        return err(format!(
            "decoded stream exceeds the limit ({cap} bytes; compression ratio or size too high)"
        ));
    }
    Ok(out)
}

fn png_unpredict(data: &[u8], parms: Option<&Dict>) -> Result<Vec<u8>> {
    let predictor = parms
        .and_then(|p| p.get("Predictor"))
        .and_then(Obj::as_int)
        .unwrap_or(1);
    if predictor < 10 {
        if predictor == 2 {
            return err("TIFF predictor not supported");
        }
        return Ok(data.to_vec());
    }
    let colors = parms
        .and_then(|p| p.get("Colors"))
        .and_then(Obj::as_int)
        .unwrap_or(1)
        .clamp(1, 32) as usize;
    let bpc = parms
        .and_then(|p| p.get("BitsPerComponent"))
        .and_then(Obj::as_int)
        .unwrap_or(8)
        .clamp(1, 16) as usize;
    let columns = parms
        .and_then(|p| p.get("Columns"))
        .and_then(Obj::as_int)
        .unwrap_or(1)
        .clamp(1, 1 << 20) as usize;
    let bpp = (colors * bpc).div_ceil(8).max(1);
    // A row longer than the data cannot be complete; do not allocate for it.
    let row_len = (colors * bpc * columns).div_ceil(8).min(data.len().max(1));
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row_len];
    for chunk in data.chunks(row_len + 1) {
        if chunk.len() < 2 {
            break;
        }
        let ft = chunk[0];
        let mut row = chunk[1..].to_vec();
        row.resize(row_len, 0);
        for i in 0..row_len {
            let left = if i >= bpp { row[i - bpp] } else { 0 };
            let up = prev[i];
            let ul = if i >= bpp { prev[i - bpp] } else { 0 };
            row[i] = match ft {
                0 => row[i],
                1 => row[i].wrapping_add(left),
                2 => row[i].wrapping_add(up),
                3 => row[i].wrapping_add(((left as u16 + up as u16) / 2) as u8),
                4 => {
                    let p = left as i16 + up as i16 - ul as i16;
                    let (pa, pb, pc) = (
                        (p - left as i16).abs(),
                        (p - up as i16).abs(),
                        (p - ul as i16).abs(),
                    );
                    let pred = if pa <= pb && pa <= pc {
                        left
                    } else if pb <= pc {
                        up
                    } else {
                        ul
                    };
                    row[i].wrapping_add(pred)
                }
                _ => return err(format!("unknown PNG predictor type {ft}")),
            };
        }
        out.extend_from_slice(&row);
        prev = row;
    }
    Ok(out)
}

fn ascii_hex(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut hi = None;
    for &b in data {
        if b == b'>' {
            break;
        }
        if let Some(v) = hexval(b) {
            match hi.take() {
                None => hi = Some(v),
                Some(h) => out.push(h << 4 | v),
            }
        }
    }
    if let Some(h) = hi {
        out.push(h << 4);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Cross-reference data and revisions
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Free,
    /// Byte offset of `N G obj`, generation.
    InFile(usize, u16),
    /// Object stream number, index inside it.
    InStream(u32, u32),
}

/// One xref section (classic table or xref stream) with the trailer that goes with it.
#[derive(Debug, Clone)]
pub struct Section {
    pub offset: usize,
    pub entries: Vec<(u32, Entry)>,
    pub trailer: Dict,
    pub is_stream: bool,
}

/// Parses the xref section at `offset` (classic table or xref stream). Entries of a hybrid
/// file's `/XRefStm` are appended.
pub fn parse_section(data: &[u8], offset: usize, limits: &Limits) -> Result<Section> {
    if offset >= data.len() {
        return err(format!("xref offset {offset} is outside the file"));
    }
    let mut p = Parser::new(data, offset, limits.max_depth);
    p.skip_ws();
    if data[p.pos..].starts_with(b"xref") {
        p.pos += 4;
        let mut entries = Vec::new();
        loop {
            p.skip_ws();
            if data[p.pos..].starts_with(b"trailer") {
                p.pos += 7;
                break;
            }
            let start = p.parse_uint()?;
            let count = p.parse_uint()?;
            if count as usize > limits.max_objects
                || entries.len() + count as usize > limits.max_objects
            {
                return err("too many xref entries");
            }
            for i in 0..count {
                let off = p.parse_uint()?;
                let gen = p.parse_uint()?;
                let kind = p.token();
                let num = start + i;
                if num > u32::MAX as u64 {
                    return err("object number out of range");
                }
                let e = match kind {
                    b"n" => Entry::InFile(off as usize, gen.min(65535) as u16),
                    b"f" => Entry::Free,
                    _ => return err(format!("bad xref entry type at byte {}", p.pos)),
                };
                entries.push((num as u32, e));
            }
        }
        let trailer = match p.parse_object(0)? {
            Obj::Dict(d) => d,
            _ => return err("trailer is not a dictionary"),
        };
        let mut sec = Section {
            offset,
            entries,
            trailer,
            is_stream: false,
        };
        if let Some(xs) = sec.trailer.get("XRefStm").and_then(Obj::as_int) {
            if xs >= 0 {
                if let Ok(s2) = parse_xref_stream(data, xs as usize, limits) {
                    // Classic entries take precedence over the hybrid stream.
                    let known: HashSet<u32> = sec.entries.iter().map(|e| e.0).collect();
                    sec.entries
                        .extend(s2.entries.into_iter().filter(|e| !known.contains(&e.0)));
                }
            }
        }
        Ok(sec)
    } else {
        parse_xref_stream(data, offset, limits)
    }
}

fn parse_xref_stream(data: &[u8], offset: usize, limits: &Limits) -> Result<Section> {
    let (_, _, obj) = parse_indirect_at(data, offset, limits, None)?;
    let s = match obj {
        Obj::Stream(s) if s.dict.is_type("XRef") => s,
        _ => return err(format!("no xref table or xref stream at offset {offset}")),
    };
    let raw = decode_stream(data, &s, limits)?;
    let w: Vec<usize> = s
        .dict
        .get("W")
        .and_then(Obj::as_array)
        .map(|a| {
            a.iter()
                .map(|o| o.as_int().unwrap_or(-1).clamp(-1, 8) as usize)
                .collect()
        })
        .unwrap_or_default();
    if w.len() != 3 || w.iter().any(|&x| x > 8) {
        return err("xref stream has a bad /W");
    }
    let size = s.dict.get("Size").and_then(Obj::as_int).unwrap_or(0).max(0) as u64;
    let index: Vec<u64> = match s.dict.get("Index").and_then(Obj::as_array) {
        Some(a) => a
            .iter()
            .map(|o| o.as_int().unwrap_or(0).max(0) as u64)
            .collect(),
        None => vec![0, size],
    };
    let rec = w[0] + w[1] + w[2];
    if rec == 0 {
        return err("xref stream has a zero record width");
    }
    let mut entries = Vec::new();
    let mut pos = 0usize;
    for pair in index.chunks(2) {
        if pair.len() < 2 {
            break;
        }
        let (start, count) = (pair[0], pair[1]);
        if entries.len() as u64 + count > limits.max_objects as u64 {
            return err("too many xref entries");
        }
        for i in 0..count {
            if pos + rec > raw.len() {
                break;
            }
            let field = |from: usize, len: usize| -> u64 {
                raw[from..from + len]
                    .iter()
                    .fold(0u64, |a, &b| (a << 8) | b as u64)
            };
            let t = if w[0] == 0 { 1 } else { field(pos, w[0]) };
            let f2 = field(pos + w[0], w[1]);
            let f3 = field(pos + w[0] + w[1], w[2]);
            pos += rec;
            let num = start + i;
            if num > u32::MAX as u64 {
                return err("object number out of range");
            }
            let e = match t {
                0 => Entry::Free,
                1 => Entry::InFile(f2 as usize, f3.min(65535) as u16),
                2 => Entry::InStream(
                    f2.min(u32::MAX as u64) as u32,
                    f3.min(u32::MAX as u64) as u32,
                ),
                _ => continue,
            };
            entries.push((num as u32, e));
        }
    }
    Ok(Section {
        offset,
        entries,
        trailer: s.dict.clone(),
        is_stream: true,
    })
}

/// Parses `N G obj <object> [stream…endstream] endobj` at `offset`. `length_of` resolves an
/// indirect `/Length`.
pub fn parse_indirect_at(
    data: &[u8],
    offset: usize,
    limits: &Limits,
    length_of: Option<&dyn Fn(u32) -> Option<i64>>,
) -> Result<(u32, u16, Obj)> {
    let mut p = Parser::new(data, offset, limits.max_depth);
    let num = p.parse_uint()?;
    let gen = p.parse_uint()?;
    p.expect_keyword("obj")?;
    let obj = p.parse_object(0)?;
    let num = u32::try_from(num).map_err(|_| PdfError("object number out of range".into()))?;
    let gen = u16::try_from(gen).map_err(|_| PdfError("generation out of range".into()))?;
    if let Obj::Dict(d) = obj {
        let save = p.pos;
        let t = p.token();
        if t == b"stream" {
            let mut start = p.pos;
            if data.get(start) == Some(&b'\r') {
                start += 1;
            }
            if data.get(start) == Some(&b'\n') {
                start += 1;
            }
            let declared = match d.get("Length") {
                Some(Obj::Int(n)) => Some(*n),
                Some(Obj::Ref(rn, _)) => length_of.and_then(|f| f(*rn)),
                _ => None,
            };
            let mut end = None;
            if let Some(n) = declared {
                if n >= 0 {
                    let e = start.saturating_add(n as usize);
                    if e <= data.len() {
                        let mut q = Parser::new(data, e, 1);
                        if q.token() == b"endstream" {
                            end = Some(e);
                        }
                    }
                }
            }
            let end = match end {
                Some(e) => e,
                None => {
                    // Fall back to searching for the keyword.
                    match find(&data[start..], b"endstream") {
                        Some(i) => {
                            let mut e = start + i;
                            if e > start && data[e - 1] == b'\n' {
                                e -= 1;
                                if e > start && data[e - 1] == b'\r' {
                                    e -= 1;
                                }
                            } else if e > start && data[e - 1] == b'\r' {
                                e -= 1;
                            }
                            e
                        }
                        None => return err(format!("stream of object {num} has no end")),
                    }
                }
            };
            if end - start > limits.max_stream_size {
                return err(format!("stream of object {num} exceeds the size limit"));
            }
            return Ok((
                num,
                gen,
                Obj::Stream(Stream {
                    dict: d,
                    start,
                    end,
                }),
            ));
        }
        let _ = save;
        return Ok((num, gen, Obj::Dict(d)));
    }
    Ok((num, gen, obj))
}

pub fn decode_stream(data: &[u8], s: &Stream, limits: &Limits) -> Result<Vec<u8>> {
    let raw = data
        .get(s.start..s.end)
        .ok_or_else(|| PdfError("stream data outside the file".into()))?;
    let filters: Vec<Vec<u8>> = match s.dict.get("Filter") {
        None => vec![],
        Some(Obj::Name(n)) => vec![n.clone()],
        Some(Obj::Array(a)) => a
            .iter()
            .filter_map(|o| o.as_name().map(<[u8]>::to_vec))
            .collect(),
        Some(_) => return err("bad /Filter"),
    };
    let parms: Vec<Option<&Dict>> = match s.dict.get("DecodeParms") {
        Some(Obj::Dict(d)) => vec![Some(d)],
        Some(Obj::Array(a)) => a.iter().map(Obj::as_dict).collect(),
        _ => vec![],
    };
    let mut cur = raw.to_vec();
    for (i, f) in filters.iter().enumerate() {
        let parm = parms.get(i).copied().flatten();
        cur = match f.as_slice() {
            b"FlateDecode" | b"Fl" => png_unpredict(&inflate(&cur, limits)?, parm)?,
            b"ASCIIHexDecode" | b"AHx" => ascii_hex(&cur),
            other => {
                return err(format!(
                    "unsupported stream filter /{}",
                    String::from_utf8_lossy(other)
                ))
            }
        };
        if cur.len() > limits.max_stream_size {
            return err("decoded stream exceeds the size limit");
        }
    }
    Ok(cur)
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(hay, needle)
}

pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::rfind(hay, needle)
}

pub fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() {
        return vec![];
    }
    memchr::memmem::find_iter(hay, needle).collect()
}

/// One revision of the file: everything up to and including one `%%EOF` marker.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Revision {
    pub index: usize,
    /// Offset of the xref section named by this revision's `startxref`.
    pub xref_offset: usize,
    /// Offset one past `%%EOF` plus its end-of-line.
    pub end: usize,
    /// Offset of the `%` of `%%EOF`.
    pub eof_pos: usize,
    /// Object numbers written by this revision's own xref section(s).
    #[serde(skip)]
    pub own_objects: Vec<u32>,
    /// This revision's own xref entries, parsed once and reused by every view.
    #[serde(skip)]
    pub entries: Rc<Vec<(u32, Entry)>>,
    #[serde(skip)]
    pub trailer: Dict,
}

#[derive(Debug, Clone)]
pub struct Scan {
    pub revisions: Vec<Revision>,
    /// Problems met while scanning, in plain English.
    pub problems: Vec<String>,
    /// Bytes after the last `%%EOF` that are not whitespace.
    pub trailing_bytes: usize,
}

/// Finds every revision: each `%%EOF` preceded by a `startxref` whose offset leads to an xref
/// section. Broken markers are reported in `problems` and skipped.
pub fn scan_revisions(data: &[u8], limits: &Limits) -> Scan {
    let mut revisions: Vec<Revision> = Vec::new();
    let mut problems = Vec::new();
    let mut prev_end = 0usize;
    let mut total_entries = 0usize;
    let mut markers = 0usize;
    for eof in memchr::memmem::find_iter(data, b"%%EOF") {
        markers += 1;
        if markers > limits.max_revisions.saturating_mul(16) {
            problems.push("too many %%EOF markers; the rest of the file was not read".into());
            break;
        }
        if revisions.len() >= limits.max_revisions {
            problems.push(format!(
                "more than {} revisions; the rest was not read",
                limits.max_revisions
            ));
            break;
        }
        let mut end = eof + 5;
        if data.get(end) == Some(&b'\r') {
            end += 1;
        }
        if data.get(end) == Some(&b'\n') {
            end += 1;
        }
        // `startxref <offset>` sits right before `%%EOF`; look back a bounded distance only.
        let from = prev_end.min(eof).max(eof.saturating_sub(1024));
        let window = &data[from..eof];
        let sx = match rfind(window, b"startxref") {
            Some(i) => from + i,
            None => {
                // Probably "%%EOF" inside a stream or a string.
                continue;
            }
        };
        let mut p = Parser::new(data, sx + 9, 4);
        let off = match p.parse_uint() {
            Ok(o) => o as usize,
            Err(_) => {
                problems.push(format!(
                    "startxref at byte {sx} is not followed by an offset"
                ));
                continue;
            }
        };
        if off == 0 {
            // Linearized files end their first-page section with a dummy `startxref 0`.
            continue;
        }
        match parse_section(data, off, limits) {
            Ok(sec) => {
                total_entries += sec.entries.len();
                if total_entries > limits.max_objects {
                    problems.push("too many xref entries in the file".into());
                    break;
                }
                revisions.push(Revision {
                    index: revisions.len(),
                    xref_offset: off,
                    end,
                    eof_pos: eof,
                    own_objects: sec.entries.iter().map(|e| e.0).collect(),
                    entries: Rc::new(sec.entries),
                    trailer: sec.trailer,
                });
                prev_end = end;
            }
            Err(e) => {
                problems.push(format!(
                    "the revision ending at byte {} points to an unreadable xref section: {e}",
                    eof
                ));
            }
        }
    }
    let trailing_bytes = match revisions.last() {
        Some(r) => data[r.end.min(data.len())..]
            .iter()
            .filter(|b| !is_ws(**b))
            .count(),
        None => 0,
    };
    Scan {
        revisions,
        problems,
        trailing_bytes,
    }
}

/// Counts objects that a lenient reader could still recover by scanning for `N G obj`.
pub fn count_recoverable_objects(data: &[u8], limits: &Limits) -> usize {
    let mut n = 0;
    for (seen, pos) in memchr::memmem::find_iter(data, b" obj").enumerate() {
        if seen > 1_000_000 {
            break;
        }
        // Walk back over "N G".
        let mut i = pos;
        let mut groups = 0;
        while groups < 2 && i > 0 {
            let mut j = i;
            while j > 0 && data[j - 1].is_ascii_digit() {
                j -= 1;
            }
            if j == i {
                break;
            }
            groups += 1;
            i = j;
            if groups < 2 {
                if i == 0 || data[i - 1] != b' ' {
                    break;
                }
                i -= 1;
            }
        }
        if groups == 2 && parse_indirect_at(data, i, limits, None).is_ok() {
            n += 1;
            // Enough to tell "partially recoverable" from "nothing"; bounded work on huge files.
            if n >= limits.max_objects.min(10_000) {
                break;
            }
        }
    }
    n
}

/// Objects of a decoded object stream.
type ObjStm = Rc<Vec<(u32, Obj)>>;

/// A view of the document as of one revision: the merged xref chain starting at that revision.
pub struct Doc<'a> {
    pub data: &'a [u8],
    pub xref: HashMap<u32, Entry>,
    pub trailer: Dict,
    pub limits: &'a Limits,
    objstm: RefCell<HashMap<u32, ObjStm>>,
    objects: RefCell<HashMap<u32, Obj>>,
    streams: RefCell<HashMap<(usize, usize), Vec<u8>>>,
}

impl<'a> Doc<'a> {
    /// Opens the view of revision `rev` (its xref section and every `/Prev` behind it), reading
    /// only the bytes up to the revision's end.
    pub fn open(data: &'a [u8], rev: &Revision, limits: &'a Limits) -> Result<Doc<'a>> {
        Self::open_chain(data, std::slice::from_ref(rev), 0, limits)
    }

    /// Like [`Doc::open`] for `revs[idx]`, reusing the xref sections already parsed by
    /// [`scan_revisions`] for every revision of the chain (each section is parsed once per file).
    pub fn open_chain(
        data: &'a [u8],
        revs: &[Revision],
        idx: usize,
        limits: &'a Limits,
    ) -> Result<Doc<'a>> {
        let rev = revs
            .get(idx)
            .ok_or_else(|| PdfError("no such revision".into()))?;
        let data = &data[..rev.end.min(data.len())];
        let mut xref: HashMap<u32, Entry> = HashMap::new();
        let mut trailer: Option<Dict> = None;
        let mut next = Some(rev.xref_offset);
        let mut seen = HashSet::new();
        while let Some(off) = next {
            if !seen.insert(off) || seen.len() > limits.max_revisions {
                return err("the xref /Prev chain loops or is too long");
            }
            let known = revs
                .iter()
                .find(|r| r.xref_offset == off && r.end <= data.len());
            let parsed;
            let (entries, sec_trailer): (&[(u32, Entry)], &Dict) = match known {
                Some(r) => (&r.entries, &r.trailer),
                None => {
                    parsed = parse_section(data, off, limits)?;
                    (&parsed.entries, &parsed.trailer)
                }
            };
            for (n, e) in entries {
                xref.entry(*n).or_insert(*e);
            }
            if xref.len() > limits.max_objects {
                return err("too many objects");
            }
            let sec_trailer = sec_trailer.clone();
            next = match sec_trailer.get("Prev") {
                Some(Obj::Int(p)) if *p >= 0 => Some(*p as usize),
                Some(Obj::Real(p)) if *p >= 0.0 => Some(*p as usize),
                _ => None,
            };
            if trailer.is_none() {
                trailer = Some(sec_trailer);
            }
        }
        Ok(Doc {
            data,
            xref,
            trailer: trailer.unwrap_or_default(),
            limits,
            objstm: RefCell::new(HashMap::new()),
            objects: RefCell::new(HashMap::new()),
            streams: RefCell::new(HashMap::new()),
        })
    }

    fn length_of(&self, num: u32) -> Option<i64> {
        match self.xref.get(&num) {
            Some(Entry::InFile(off, _)) => parse_indirect_at(self.data, *off, self.limits, None)
                .ok()
                .and_then(|(_, _, o)| o.as_int()),
            _ => None,
        }
    }

    /// The object `num`, or `None` if it is free, missing or unreadable.
    pub fn get(&self, num: u32) -> Option<Obj> {
        if let Some(o) = self.objects.borrow().get(&num) {
            return Some(o.clone());
        }
        let o = self.get_checked(num).ok().flatten()?;
        let mut cache = self.objects.borrow_mut();
        if cache.len() < 4096 {
            cache.insert(num, o.clone());
        }
        Some(o)
    }

    pub fn get_checked(&self, num: u32) -> Result<Option<Obj>> {
        match self.xref.get(&num) {
            None | Some(Entry::Free) => Ok(None),
            Some(Entry::InFile(off, _)) => {
                let f = |n: u32| self.length_of(n);
                let (n, _, o) = parse_indirect_at(self.data, *off, self.limits, Some(&f))?;
                if n != num {
                    return err(format!("xref for object {num} points to object {n}"));
                }
                Ok(Some(o))
            }
            Some(Entry::InStream(stm, idx)) => {
                let objs = self.object_stream(*stm)?;
                Ok(objs
                    .iter()
                    .find(|(n, _)| *n == num)
                    .or_else(|| objs.get(*idx as usize))
                    .filter(|(n, _)| *n == num)
                    .map(|(_, o)| o.clone()))
            }
        }
    }

    fn object_stream(&self, stm: u32) -> Result<Rc<Vec<(u32, Obj)>>> {
        if let Some(v) = self.objstm.borrow().get(&stm) {
            return Ok(v.clone());
        }
        let s = match self.xref.get(&stm) {
            Some(Entry::InFile(off, _)) => {
                let f = |n: u32| self.length_of(n);
                match parse_indirect_at(self.data, *off, self.limits, Some(&f))? {
                    (_, _, Obj::Stream(s)) => s,
                    _ => return err(format!("object stream {stm} is not a stream")),
                }
            }
            _ => return err(format!("object stream {stm} not found")),
        };
        let raw = decode_stream(self.data, &s, self.limits)?;
        let n = s.dict.get("N").and_then(Obj::as_int).unwrap_or(0).max(0) as usize;
        let first = s
            .dict
            .get("First")
            .and_then(Obj::as_int)
            .unwrap_or(0)
            .max(0) as usize;
        if n > self.limits.max_objects {
            return err("object stream declares too many objects");
        }
        let mut p = Parser::new(&raw, 0, self.limits.max_depth);
        let mut heads = Vec::new();
        for _ in 0..n {
            let num = p.parse_uint()?;
            let off = p.parse_uint()?;
            heads.push((num.min(u32::MAX as u64) as u32, off as usize));
        }
        let mut out = Vec::new();
        for (num, off) in heads {
            let mut q = Parser::new(&raw, first.saturating_add(off), self.limits.max_depth);
            if let Ok(o) = q.parse_object(0) {
                out.push((num, o));
            }
        }
        let rc = Rc::new(out);
        self.objstm.borrow_mut().insert(stm, rc.clone());
        Ok(rc)
    }

    /// Follows references (bounded) to a direct object.
    pub fn resolve(&self, o: &Obj) -> Obj {
        let mut cur = o.clone();
        for _ in 0..self.limits.max_depth {
            match cur {
                Obj::Ref(n, _) => cur = self.get(n).unwrap_or(Obj::Null),
                other => return other,
            }
        }
        Obj::Null
    }

    pub fn resolve_dict(&self, o: Option<&Obj>) -> Option<Dict> {
        match o.map(|o| self.resolve(o)) {
            Some(Obj::Dict(d)) => Some(d),
            Some(Obj::Stream(s)) => Some(s.dict),
            _ => None,
        }
    }

    pub fn catalog(&self) -> Option<Dict> {
        self.resolve_dict(self.trailer.get("Root"))
    }

    /// Decoded stream data (memoised per view: attachments are read by several checks).
    pub fn stream_data(&self, s: &Stream) -> Result<Vec<u8>> {
        if let Some(d) = self.streams.borrow().get(&(s.start, s.end)) {
            return Ok(d.clone());
        }
        let d = decode_stream(self.data, s, self.limits)?;
        let mut cache = self.streams.borrow_mut();
        if cache.len() < 256 {
            cache.insert((s.start, s.end), d.clone());
        }
        Ok(d)
    }
}
