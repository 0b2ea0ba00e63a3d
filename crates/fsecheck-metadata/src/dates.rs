//! A small emulation of `java.text.SimpleDateFormat.parse(String)` for the numeric patterns the
//! gateway uses (`yyyyMMddHHmmss`, `yyyyMMdd`, `yyyy-MM-dd'T'HH:mm:ssXXX`, ...).
//!
//! What is reproduced (JDK `SimpleDateFormat.subParse`):
//! - `parse(String)` only fails when nothing could be parsed: **trailing text is ignored**;
//! - spaces/tabs before a field are skipped;
//! - a numeric field followed directly by another field ("abutting") reads at most `count`
//!   characters *counted from before the skipped blanks*; the last field of a run reads greedily;
//! - numbers are DecimalFormat integers: optional `-`, then ASCII digits;
//! - lenient mode accepts any numbers (the calendar rolls over: `20221301999999` is fine);
//!   non-lenient mode checks each field's range (month 1–12, day in month, 0–23, 0–59, 0–59).
//! - `X` (ISO 8601 zone: `Z` or `±hh`, `±hhmm`, `±hh:mm` by count) and `Z` (RFC 822 `±hhmm`).
//!
//! Not reproduced: non-ASCII digits, `GMT+hh:mm` general time zones, two-digit-year windows.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Field(char, usize),
    Lit(String),
}

fn compile(pattern: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut lit = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                lit.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(Tok::Lit(lit));
        } else if c.is_ascii_alphabetic() {
            let mut n = 0;
            while i < chars.len() && chars[i] == c {
                n += 1;
                i += 1;
            }
            out.push(Tok::Field(c, n));
        } else {
            out.push(Tok::Lit(c.to_string()));
            i += 1;
        }
    }
    out
}

/// Parse a DecimalFormat integer (`-`? digits) in `text[pos..end]`. Returns (value, new pos).
fn parse_number(text: &[char], pos: usize, end: usize) -> Option<(i64, usize)> {
    let mut p = pos;
    let neg = p < end && text[p] == '-';
    if neg {
        p += 1;
    }
    let start = p;
    let mut v: i64 = 0;
    while p < end && text[p].is_ascii_digit() {
        v = v
            .saturating_mul(10)
            .saturating_add(i64::from(text[p] as u8 - b'0'));
        p += 1;
    }
    if p == start {
        return None;
    }
    Some((if neg { -v } else { v }, p))
}

fn parse_zone(text: &[char], pos: usize, letter: char, count: usize) -> Option<usize> {
    let c = *text.get(pos)?;
    if letter == 'X' && c == 'Z' {
        return Some(pos + 1);
    }
    if c != '+' && c != '-' {
        return None;
    }
    let digits = |p: usize, n: usize| -> bool {
        (p..p + n).all(|i| text.get(i).is_some_and(|c| c.is_ascii_digit()))
    };
    let p = pos + 1;
    match (letter, count) {
        ('X', 1) => digits(p, 2).then_some(p + 2),
        ('X', 2) => digits(p, 4).then_some(p + 4),
        ('X', _) => {
            (digits(p, 2) && text.get(p + 2) == Some(&':') && digits(p + 3, 2)).then_some(p + 5)
        }
        _ => digits(p, 4).then_some(p + 4),
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap {
                29
            } else {
                28
            }
        }
    }
}

/// `new SimpleDateFormat(pattern)` (lenient by default in Java) `.setLenient(lenient)` `.parse(text)`:
/// does it return a date rather than throw?
pub fn java_parses(pattern: &str, text: &str, lenient: bool) -> bool {
    let toks = compile(pattern);
    let text: Vec<char> = text.chars().collect();
    let mut pos = 0usize;
    let (mut y, mut mo, mut d, mut h, mut mi, mut s) = (None, None, None, None, None, None);
    for (i, tok) in toks.iter().enumerate() {
        match tok {
            Tok::Lit(l) => {
                for lc in l.chars() {
                    if text.get(pos) != Some(&lc) {
                        return false;
                    }
                    pos += 1;
                }
            }
            Tok::Field(c, count) => {
                let start = pos;
                while pos < text.len() && (text[pos] == ' ' || text[pos] == '\t') {
                    pos += 1;
                }
                if pos >= text.len() {
                    return false;
                }
                if *c == 'X' || *c == 'Z' {
                    match parse_zone(&text, pos, *c, *count) {
                        Some(p) => pos = p,
                        None => return false,
                    }
                    continue;
                }
                let obey = matches!(toks.get(i + 1), Some(Tok::Field(..)));
                let end = if obey {
                    if start + count > text.len() {
                        return false;
                    }
                    start + count
                } else {
                    text.len()
                };
                let Some((v, p)) = parse_number(&text, pos, end) else {
                    return false;
                };
                pos = p;
                let slot = match c {
                    'y' => &mut y,
                    'M' => &mut mo,
                    'd' => &mut d,
                    'H' => &mut h,
                    'm' => &mut mi,
                    's' => &mut s,
                    _ => return false,
                };
                *slot = Some(v);
            }
        }
    }
    if lenient {
        return true;
    }
    let year = y.unwrap_or(1970);
    let month = mo.unwrap_or(1);
    if year < 1 || !(1..=12).contains(&month) {
        return false;
    }
    let day_ok = d.is_none_or(|d| (1..=days_in_month(year, month)).contains(&d));
    day_ok
        && h.is_none_or(|v| (0..=23).contains(&v))
        && mi.is_none_or(|v| (0..=59).contains(&v))
        && s.is_none_or(|v| (0..=59).contains(&v))
}

/// The gateway's check of `dataInizioPrestazione`/`dataFinePrestazione`:
/// lenient `SimpleDateFormat("yyyyMMddHHmmss").parse`.
pub fn gateway_accepts_prestazione(text: &str) -> bool {
    java_parses("yyyyMMddHHmmss", text, true)
}

/// Our strict check: exactly 14 ASCII digits forming a real date and time.
/// (The gateway's later `DateUtility.isValidDateFormat` drops values failing a strict check
/// from the INI DocumentEntry.)
pub fn strict_prestazione(text: &str) -> bool {
    text.len() == 14
        && text.bytes().all(|b| b.is_ascii_digit())
        && java_parses("yyyyMMddHHmmss", text, false)
}

/// The patterns `DateUtility.convertDateCda` tries on the CDA `effectiveTime`, non-lenient.
pub const CDA_EFFECTIVE_TIME_PATTERNS: &[&str] = &[
    "yyyy-MM-dd'T'HH:mm:ssXXX",
    "yyyy-MM-dd'T'HH:mm:ss'Z'",
    "yyyy-MM-dd'T'HH:mm:ss",
    "yyyyMMddHHmmssX",
    "yyyyMMddHHmmssZ",
    "yyyyMMddHHmmss",
    "yyyyMMdd",
];

/// Would `DateUtility.convertDateCda` parse this CDA `effectiveTime/@value`?
pub fn gateway_accepts_cda_effective_time(text: &str) -> bool {
    CDA_EFFECTIVE_TIME_PATTERNS
        .iter()
        .any(|p| java_parses(p, text, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_prestazione_matches_the_reference_examples() {
        assert!(gateway_accepts_prestazione("20240101120000"));
        // month 13, hour 99: lenient calendar rolls over
        assert!(gateway_accepts_prestazione("20221301999999"));
        // trailing garbage ignored by parse(String)
        assert!(gateway_accepts_prestazione("20240101120000garbage"));
        // 8-digit dates fail: HH cannot be read
        assert!(!gateway_accepts_prestazione("20240101"));
        assert!(!gateway_accepts_prestazione(""));
        assert!(!gateway_accepts_prestazione("2024-01-01T12:00:00"));
        assert!(!gateway_accepts_prestazione("abcd0101120000"));
    }

    #[test]
    fn strict_prestazione_rejects_rollover_and_garbage() {
        assert!(strict_prestazione("20240229235959"));
        assert!(!strict_prestazione("20230229235959"));
        assert!(!strict_prestazione("20221301999999"));
        assert!(!strict_prestazione("20240101120000garbage"));
        assert!(!strict_prestazione("2024010112000"));
    }

    #[test]
    fn cda_effective_time_matches_the_reference_examples() {
        assert!(gateway_accepts_cda_effective_time("20240101"));
        assert!(gateway_accepts_cda_effective_time("20220325110000+0100"));
        assert!(gateway_accepts_cda_effective_time("20220325110000"));
        assert!(gateway_accepts_cda_effective_time(
            "2022-03-25T11:00:00+01:00"
        ));
        // minute precision fails every pattern (verified with Java, reference §6)
        assert!(!gateway_accepts_cda_effective_time("202401011200+0100"));
        assert!(!gateway_accepts_cda_effective_time("2024"));
    }
}
