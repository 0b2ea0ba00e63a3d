//! Simple types: built-in lexical spaces, facets (restriction chains), lists and unions, and the
//! translation of XSD regular expressions to the `regex` crate.

use regex::Regex;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// A small multiplicative hasher for the schema's maps and enumeration sets (short keys, no
/// flooding concern: the keys come from the schema; instance values only probe).
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.write(&[b]);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type EnumSet = HashSet<Box<str>, BuildHasherDefault<FxHasher>>;
pub(crate) type FxMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;
pub(crate) type FxSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// Index into `Model::simple`.
pub(crate) type SimpleId = u32;

/// The built-in (primitive or derived-by-the-spec) lexical check a simple type rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    AnySimple,
    String,
    NormalizedString,
    Token,
    Language,
    NmToken,
    Name,
    NcName,
    Id,
    IdRef,
    Boolean,
    Decimal,
    Integer,
    NonNegativeInteger,
    PositiveInteger,
    Double,
    Float,
    Base64Binary,
    HexBinary,
    AnyUri,
}

/// Whitespace processing, `whiteSpace` facet values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Ws {
    Preserve,
    Replace,
    Collapse,
}

/// The facets one restriction step adds. Steps of a chain are all checked (they conjoin).
#[derive(Debug, Default)]
pub(crate) struct Facets {
    pub enums: Option<EnumSet>,
    /// Patterns of one step: the value must match at least one (they disjoin). (source, compiled)
    pub patterns: Vec<(Box<str>, Regex)>,
    pub length: Option<usize>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub min_inclusive: Option<f64>,
    pub max_inclusive: Option<f64>,
    pub min_exclusive: Option<f64>,
    pub max_exclusive: Option<f64>,
}

impl Facets {
    pub fn is_empty(&self) -> bool {
        self.enums.is_none()
            && self.patterns.is_empty()
            && self.length.is_none()
            && self.min_length.is_none()
            && self.max_length.is_none()
            && self.min_inclusive.is_none()
            && self.max_inclusive.is_none()
            && self.min_exclusive.is_none()
            && self.max_exclusive.is_none()
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Variety {
    Atomic(Builtin),
    List(SimpleId),
    Union(Vec<SimpleId>),
}

#[derive(Debug, Clone)]
pub(crate) struct SimpleType {
    /// Local name for messages (`ts`, `cs`, `NMTOKEN`), or `anonymous`.
    pub name: Box<str>,
    /// The namespace of a named type, `""` for anonymous ones.
    pub ns: Box<str>,
    /// The type this one restricts (or, for lists and unions, `anySimpleType`).
    pub base: Option<SimpleId>,
    pub variety: Variety,
    pub ws: Ws,
    /// Facet steps from the first restriction of the variety down to this type.
    pub facets: Vec<Arc<Facets>>,
}

/// What a valid value means for ID bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    None,
    Id,
    IdRef,
    IdRefs,
}

pub(crate) fn builtin_ws(b: Builtin) -> Ws {
    match b {
        Builtin::String | Builtin::AnySimple => Ws::Preserve,
        Builtin::NormalizedString => Ws::Replace,
        _ => Ws::Collapse,
    }
}

pub(crate) fn normalize(value: &str, ws: Ws) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    match ws {
        Ws::Preserve => Cow::Borrowed(value),
        Ws::Replace => {
            if value.chars().any(|c| matches!(c, '\t' | '\n' | '\r')) {
                Cow::Owned(
                    value
                        .chars()
                        .map(|c| if is_ws(c) { ' ' } else { c })
                        .collect(),
                )
            } else {
                Cow::Borrowed(value)
            }
        }
        Ws::Collapse => {
            let needs = value.starts_with(is_ws)
                || value.ends_with(is_ws)
                || value.contains(['\t', '\n', '\r'])
                || value.contains("  ");
            if needs {
                Cow::Owned(
                    value
                        .split(is_ws)
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            } else {
                Cow::Borrowed(value)
            }
        }
    }
}

fn is_name_start(c: char) -> bool {
    matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

fn is_name(s: &str) -> bool {
    let mut it = s.chars();
    matches!(it.next(), Some(c) if is_name_start(c)) && it.all(is_name_char)
}

fn is_ncname(s: &str) -> bool {
    is_name(s) && !s.contains(':')
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['+', '-']).unwrap_or(s)
}

fn is_decimal(s: &str) -> bool {
    let s = strip_sign(s);
    match s.split_once('.') {
        None => is_digits(s),
        Some((i, f)) => {
            (i.is_empty() || is_digits(i))
                && (f.is_empty() || is_digits(f))
                && !(i.is_empty() && f.is_empty())
        }
    }
}

fn is_double(s: &str) -> bool {
    if matches!(s, "INF" | "-INF" | "NaN") {
        return true;
    }
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    is_decimal(mantissa) && exp.is_none_or(|e| is_digits(strip_sign(e)))
}

fn is_base64(s: &str) -> bool {
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .collect();
    if !bytes.len().is_multiple_of(4) {
        return false;
    }
    let pad = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    if pad > 2 {
        return false;
    }
    let body = &bytes[..bytes.len() - pad];
    if !body
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
    {
        return false;
    }
    // The last symbol before padding must leave the unused bits zero (canonical base64).
    if let Some(&last) = body.last() {
        let v = match last {
            b'A'..=b'Z' => last - b'A',
            b'a'..=b'z' => last - b'a' + 26,
            b'0'..=b'9' => last - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        if (pad == 1 && v & 0x3 != 0) || (pad == 2 && v & 0xF != 0) {
            return false;
        }
    }
    true
}

fn is_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    (1..=8).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Lexical check of a built-in; `Err` carries what was expected.
pub(crate) fn check_builtin(b: Builtin, v: &str) -> Result<(), &'static str> {
    let ok = match b {
        Builtin::AnySimple | Builtin::String | Builtin::NormalizedString | Builtin::Token => true,
        Builtin::AnyUri => crate::uri::is_any_uri(v),
        Builtin::Language => is_language(v),
        Builtin::NmToken => !v.is_empty() && v.chars().all(is_name_char),
        Builtin::Name => is_name(v),
        Builtin::NcName | Builtin::Id | Builtin::IdRef => is_ncname(v),
        Builtin::Boolean => matches!(v, "true" | "false" | "1" | "0"),
        Builtin::Decimal => is_decimal(v),
        Builtin::Integer => is_digits(strip_sign(v)),
        Builtin::NonNegativeInteger => {
            is_digits(strip_sign(v)) && (!v.starts_with('-') || v[1..].bytes().all(|b| b == b'0'))
        }
        Builtin::PositiveInteger => {
            is_digits(strip_sign(v))
                && !v.starts_with('-')
                && strip_sign(v).bytes().any(|b| b != b'0')
        }
        Builtin::Double | Builtin::Float => is_double(v),
        Builtin::Base64Binary => is_base64(v),
        Builtin::HexBinary => v.len().is_multiple_of(2) && v.bytes().all(|b| b.is_ascii_hexdigit()),
    };
    if ok {
        Ok(())
    } else {
        Err(match b {
            Builtin::Language => "a language tag",
            Builtin::NmToken => "an NMTOKEN",
            Builtin::Name => "an XML Name",
            Builtin::NcName | Builtin::Id | Builtin::IdRef => "an NCName",
            Builtin::Boolean => "a boolean (true, false, 1, 0)",
            Builtin::Decimal => "a decimal number",
            Builtin::Integer | Builtin::NonNegativeInteger | Builtin::PositiveInteger => {
                "an integer"
            }
            Builtin::Double | Builtin::Float => "a floating-point number",
            Builtin::Base64Binary => "base64 data",
            Builtin::HexBinary => "hex data",
            Builtin::AnyUri => "a URI reference",
            _ => "a valid value",
        })
    }
}

/// Numeric value of a lexical form for range facets.
pub(crate) fn numeric(v: &str) -> Option<f64> {
    match v {
        "INF" => Some(f64::INFINITY),
        "-INF" => Some(f64::NEG_INFINITY),
        _ => v.parse::<f64>().ok(),
    }
}

/// Which facet of a step a value violates; messages are built only when reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Violation {
    Enum,
    Pattern,
    Length(usize),
    Range,
}

/// Checks one facet step against an (already normalized) value. `len` is the length the
/// length facets measure (characters, or list items). Allocation-free: union members are
/// tried one after another and most attempts fail.
pub(crate) fn check_facets(
    f: &Facets,
    v: &str,
    len: usize,
    numeric_base: bool,
) -> Result<(), Violation> {
    if let Some(set) = &f.enums {
        if !set.contains(v) {
            return Err(Violation::Enum);
        }
    }
    if !f.patterns.is_empty() && !f.patterns.iter().any(|(src, re)| pattern_match(src, re, v)) {
        return Err(Violation::Pattern);
    }
    if f.length.is_some_and(|n| len != n)
        || f.min_length.is_some_and(|n| len < n)
        || f.max_length.is_some_and(|n| len > n)
    {
        return Err(Violation::Length(len));
    }
    if numeric_base {
        let x = numeric(v).unwrap_or(f64::NAN);
        let bad = f
            .min_inclusive
            .is_some_and(|m| x.partial_cmp(&m).is_none_or(|o| o.is_lt()))
            || f.max_inclusive
                .is_some_and(|m| x.partial_cmp(&m).is_none_or(|o| o.is_gt()))
            || f.min_exclusive
                .is_some_and(|m| x.partial_cmp(&m).is_none_or(|o| o.is_le()))
            || f.max_exclusive
                .is_some_and(|m| x.partial_cmp(&m).is_none_or(|o| o.is_ge()));
        if bad {
            return Err(Violation::Range);
        }
    }
    Ok(())
}

/// Matches a pattern facet. `[^\s]+` (the `cs` type's pattern, checked on nearly every coded
/// attribute) is decided directly: one or more characters, none of them an XML blank.
fn pattern_match(src: &str, re: &Regex, v: &str) -> bool {
    if src == r"[^\s]+" {
        return !v.is_empty() && !v.contains([' ', '\t', '\n', '\r']);
    }
    re.is_match(v)
}

/// The message for a facet violation.
pub(crate) fn describe_violation(f: &Facets, v: Violation) -> String {
    match v {
        Violation::Enum => {
            let set = f.enums.as_ref().expect("enum facet");
            let mut shown: Vec<&str> = set.iter().map(|s| &**s).collect();
            shown.sort_unstable();
            let more = shown.len().saturating_sub(8);
            shown.truncate(8);
            let mut msg = format!("not one of the allowed values: {}", shown.join(", "));
            if more > 0 {
                msg.push_str(&format!(", … ({more} more)"));
            }
            msg
        }
        Violation::Pattern => {
            let src: Vec<&str> = f.patterns.iter().map(|(s, _)| &**s).collect();
            format!("pattern {}", src.join(" | "))
        }
        Violation::Length(len) => {
            let mut want = Vec::new();
            if let Some(n) = f.length {
                want.push(format!("exactly {n}"));
            }
            if let Some(n) = f.min_length {
                want.push(format!("at least {n}"));
            }
            if let Some(n) = f.max_length {
                want.push(format!("at most {n}"));
            }
            format!("length {len}, must be {}", want.join(" and "))
        }
        Violation::Range => {
            let mut want = Vec::new();
            if let Some(n) = f.min_inclusive {
                want.push(format!(">= {n}"));
            }
            if let Some(n) = f.max_inclusive {
                want.push(format!("<= {n}"));
            }
            if let Some(n) = f.min_exclusive {
                want.push(format!("> {n}"));
            }
            if let Some(n) = f.max_exclusive {
                want.push(format!("< {n}"));
            }
            format!("out of range, must be {}", want.join(" and "))
        }
    }
}

/// Translates an XSD 1.0 regular expression (implicitly anchored) into a `regex` crate pattern.
pub(crate) fn translate_regex(xsd: &str) -> Result<String, String> {
    let mut out = String::from(r"\A(?:");
    let mut chars = xsd.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        if c == '\\' {
            let e = chars.next().ok_or("trailing backslash")?;
            let piece: String = match (e, in_class) {
                ('s', false) => r"[ \t\n\r]".into(),
                ('s', true) => r" \t\n\r".into(),
                ('S', _) => r"[^ \t\n\r]".into(),
                ('d', _) => r"\p{Nd}".into(),
                ('D', _) => r"\P{Nd}".into(),
                ('w', _) => r"[^\p{P}\p{Z}\p{C}]".into(),
                ('W', _) => r"[\p{P}\p{Z}\p{C}]".into(),
                ('i', _) => r"[\p{L}_:]".into(),
                ('I', _) => r"[^\p{L}_:]".into(),
                ('c', _) => r"[\p{L}\p{Nd}._:\-\p{Mn}\p{Mc}]".into(),
                ('C', _) => r"[^\p{L}\p{Nd}._:\-\p{Mn}\p{Mc}]".into(),
                ('n', _) => r"\n".into(),
                ('r', _) => r"\r".into(),
                ('t', _) => r"\t".into(),
                ('p' | 'P', _) => {
                    let mut s = format!("\\{e}");
                    if chars.next() != Some('{') {
                        return Err("\\p without {".into());
                    }
                    s.push('{');
                    let mut name = String::new();
                    for c in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                        name.push(c);
                    }
                    if name.starts_with("Is") {
                        return Err(format!("unsupported block escape \\{e}{{{name}}}"));
                    }
                    s.push_str(&name);
                    s.push('}');
                    s
                }
                (
                    '\\' | '|' | '.' | '-' | '^' | '?' | '*' | '+' | '{' | '}' | '(' | ')' | '['
                    | ']',
                    _,
                ) => {
                    format!("\\{e}")
                }
                _ => return Err(format!("unknown escape \\{e}")),
            };
            out.push_str(&piece);
            class_start = false;
            continue;
        }
        if in_class {
            match c {
                ']' if !class_start => {
                    in_class = false;
                    out.push(']');
                }
                '[' => {
                    return Err(
                        "character class subtraction or nested class is not supported".into(),
                    )
                }
                '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                '-' if chars.peek() == Some(&'[') => {
                    return Err("character class subtraction is not supported".into());
                }
                '^' if class_start => out.push('^'),
                '^' => out.push_str(r"\^"),
                _ => out.push(c),
            }
            class_start = false;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                class_start = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
            }
            '.' => out.push_str(r"[^\n\r]"),
            '^' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '(' if chars.peek() == Some(&'?') => return Err("'(?' is not XSD syntax".into()),
            _ => out.push(c),
        }
    }
    if in_class {
        return Err("unterminated character class".into());
    }
    out.push_str(r")\z");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> Regex {
        Regex::new(&translate_regex(p).unwrap()).unwrap()
    }

    #[test]
    fn ts_pattern_is_anchored_as_a_whole() {
        let ts = re(r"[0-9]{1,8}|([0-9]{9,14}|[0-9]{14,14}\.[0-9]+)([+\-][0-9]{1,4})?");
        assert!(ts.is_match("20220330"));
        assert!(ts.is_match("20220330101010+0100"));
        assert!(!ts.is_match("2022-03-30"));
        assert!(!ts.is_match("2022X"));
        assert!(!ts.is_match("X2022"));
    }

    #[test]
    fn class_escapes_follow_xsd() {
        let r = re(r"[^\s]+");
        assert!(r.is_match("abc"));
        assert!(!r.is_match("a c"));
        // XSD \s is only the four XML blanks; a no-break space is not one of them.
        assert!(r.is_match("a\u{A0}c"));
        assert!(re(r"a.c").is_match("abc"));
        assert!(!re(r"a.c").is_match("a\nc"));
        assert!(re(r"a^b$").is_match("a^b$"));
        assert!(translate_regex(r"[a-z-[aeiou]]").is_err());
        assert!(translate_regex(r"\q").is_err());
    }

    #[test]
    fn the_cs_fast_path_agrees_with_the_regex() {
        let src = r"[^\s]+";
        let r = re(src);
        for v in ["", "a", "a b", "a\tb", "\u{A0}", "abc\n", "x", " "] {
            assert_eq!(pattern_match(src, &r, v), r.is_match(v), "{v:?}");
        }
    }

    #[test]
    fn builtins() {
        assert!(check_builtin(Builtin::Boolean, "true").is_ok());
        assert!(check_builtin(Builtin::Boolean, "TRUE").is_err());
        assert!(check_builtin(Builtin::Decimal, "-1.5").is_ok());
        assert!(check_builtin(Builtin::Decimal, ".").is_err());
        assert!(check_builtin(Builtin::Double, "1e5").is_ok());
        assert!(check_builtin(Builtin::Double, "1e").is_err());
        assert!(check_builtin(Builtin::Integer, "+12").is_ok());
        assert!(check_builtin(Builtin::Integer, "1.0").is_err());
        assert!(check_builtin(Builtin::Base64Binary, "QUJD").is_ok());
        assert!(check_builtin(Builtin::Base64Binary, "QUJ").is_err());
        assert!(check_builtin(Builtin::Id, "a1").is_ok());
        assert!(check_builtin(Builtin::Id, "1a").is_err());
        assert!(check_builtin(Builtin::NmToken, "1a").is_ok());
        assert_eq!(normalize("  a \n b ", Ws::Collapse), "a b");
    }
}
