//! Codice fiscale check as the gateway does it (`CfUtility.validaCF`, `UtilitySRV.isValidCf`).
//!
//! 16 characters: uppercased; first six must be letters; the other positions may hold letters or
//! digits anywhere (so **omocodia** — digits replaced by L M N P Q R S T U V — passes); no check of
//! the date or comune structure; the check character is the sum of the odd-position and
//! even-position tables mod 26, as a letter. With `allow_special` (the gateway property
//! `validation.allow-special-fiscal-code`, off in the repo), an 11-digit partita IVA (Luhn-like)
//! and `ENI`/`STP` + 13 digits are accepted too.

/// Outcome of `CfUtility.validaCF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfOutcome {
    Invalid,
    Ok16,
    CheckDigit16,
    Ok11,
    CheckDigit11,
    EniOk,
    StpOk,
}

fn odd_value(c: char) -> Option<u32> {
    Some(match c {
        '0' | 'A' => 1,
        '1' | 'B' => 0,
        '2' | 'C' => 5,
        '3' | 'D' => 7,
        '4' | 'E' => 9,
        '5' | 'F' => 13,
        '6' | 'G' => 15,
        '7' | 'H' => 17,
        '8' | 'I' => 19,
        '9' | 'J' => 21,
        'K' => 2,
        'L' => 4,
        'M' => 18,
        'N' => 20,
        'O' => 11,
        'P' => 3,
        'Q' => 6,
        'R' => 8,
        'S' => 12,
        'T' => 14,
        'U' => 16,
        'V' => 10,
        'W' => 22,
        'X' => 25,
        'Y' => 24,
        'Z' => 23,
        _ => return None,
    })
}

fn even_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        'A'..='Z' => Some(c as u32 - 'A' as u32),
        _ => None,
    }
}

/// The expected check character of the first 15 characters (uppercase ASCII), if computable.
pub fn check_char(first15: &str) -> Option<char> {
    let chars: Vec<char> = first15.chars().collect();
    if chars.len() != 15 {
        return None;
    }
    let mut sum = 0;
    for (i, c) in chars.iter().enumerate() {
        // 1-based odd positions are 0-based even indices
        sum += if i % 2 == 0 {
            odd_value(*c)?
        } else {
            even_value(*c)?
        };
    }
    char::from_u32('A' as u32 + sum % 26)
}

/// Java `Long.parseLong` acceptance (optional sign, ASCII digits, fits in i64).
fn java_parse_long(s: &str) -> bool {
    s.parse::<i64>().is_ok() && !s.is_empty()
}

fn valida_cf16(cf: &str) -> CfOutcome {
    let chars: Vec<char> = cf.chars().collect();
    if chars.len() != 16 {
        return CfOutcome::Invalid;
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[3..].iter().collect();
    if head == "ENI" && java_parse_long(&tail) {
        return CfOutcome::EniOk;
    }
    // (the Java code reassigns the variable before the STP test, so an ENI-prefixed value that
    // is not numeric never reaches it; for any other prefix the test is the same)
    if head == "STP" && java_parse_long(&tail) {
        return CfOutcome::StpOk;
    }
    if !chars[..6].iter().all(|c| c.is_alphabetic()) {
        return CfOutcome::Invalid;
    }
    let first15: String = chars[..15].iter().collect();
    match check_char(&first15) {
        None => CfOutcome::Invalid,
        Some(c) if c == chars[15] => CfOutcome::Ok16,
        Some(_) => CfOutcome::CheckDigit16,
    }
}

fn valida_cf11(cf: &str) -> CfOutcome {
    let d: Vec<u32> = match cf
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<Vec<_>>>()
    {
        Some(d) if d.len() == 11 && cf.is_ascii() => d,
        _ => return CfOutcome::Invalid,
    };
    let mut s = 0;
    for i in (0..=9).step_by(2) {
        s += d[i];
    }
    for i in (1..=9).step_by(2) {
        let mut c = 2 * d[i];
        if c > 9 {
            c -= 9;
        }
        s += c;
    }
    if (10 - s % 10) % 10 == d[10] {
        CfOutcome::Ok11
    } else {
        CfOutcome::CheckDigit11
    }
}

/// `CfUtility.validaCF`: uppercase, a 17-character value is cut to 16, then by length.
pub fn valida_cf(input: &str) -> CfOutcome {
    if input.is_empty() {
        return CfOutcome::Invalid;
    }
    let mut cf = input.to_uppercase();
    if cf.chars().count() == 17 {
        cf = cf.chars().take(16).collect();
    }
    match cf.chars().count() {
        16 => valida_cf16(&cf),
        11 => valida_cf11(&cf),
        _ => CfOutcome::Invalid,
    }
}

/// `UtilitySRV.isValidCf`.
pub fn is_valid_cf(cf: &str, allow_special: bool) -> bool {
    if allow_special {
        matches!(
            valida_cf(cf),
            CfOutcome::Ok16 | CfOutcome::Ok11 | CfOutcome::EniOk | CfOutcome::StpOk
        )
    } else {
        cf.chars().count() == 16 && valida_cf(cf) == CfOutcome::Ok16
    }
}

/// The MEF OID: an id `CF^^^&<MEF OID>&ISO` must carry a valid codice fiscale.
pub const OID_MEF: &str = "2.16.840.1.113883.2.9.4.3.2";

/// `JwtSRV.isValidOid`, used on `sub` and `person_id`: split on `^^^`; a single chunk must be a
/// valid CF; otherwise the CF is checked only when the second `&`-part of chunk 1 is the MEF OID.
/// (Java `split` drops trailing empty strings; an empty input gives one empty chunk.)
pub fn is_valid_oid(value: Option<&str>, allow_special: bool) -> bool {
    let Some(v) = value else {
        return false;
    };
    let chunks = java_split(v, "^^^");
    match chunks.len() {
        0 => false,
        1 => is_valid_cf(&chunks[0], allow_special),
        _ => {
            let info = java_split(&chunks[1], "&");
            if info.len() > 1 && info[1] == OID_MEF {
                is_valid_cf(&chunks[0], allow_special)
            } else {
                true
            }
        }
    }
}

/// Java `String.split(literal)` semantics: trailing empty strings removed; an input that is
/// entirely separators gives an empty array; an empty input gives `[""]`.
pub fn java_split(s: &str, sep: &str) -> Vec<String> {
    if s.is_empty() {
        return vec![String::new()];
    }
    let mut parts: Vec<String> = s.split(sep).map(str::to_string).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_codes() {
        // Well-known published example
        assert_eq!(valida_cf("RSSMRA85T10A562S"), CfOutcome::Ok16);
        // Lowercase is uppercased first
        assert_eq!(valida_cf("rssmra85t10a562s"), CfOutcome::Ok16);
        // The official test-kit patients
        assert!(is_valid_cf("GTWGWY82B42G920M", false));
        assert!(is_valid_cf("TSTSMN63A01F205H", false));
        assert!(is_valid_cf("SSSMNN75B01F257L", false));
    }

    #[test]
    fn wrong_check_char_and_structure() {
        assert_eq!(valida_cf("RSSMRA85T10A562T"), CfOutcome::CheckDigit16);
        assert_eq!(valida_cf("RSSMR185T10A562S"), CfOutcome::Invalid);
        assert_eq!(valida_cf("RSSMRA85T10A56?S"), CfOutcome::Invalid);
        assert!(!is_valid_cf("RSSMRA85T10A562", false));
        assert!(!is_valid_cf("", false));
    }

    #[test]
    fn omocodia_passes() {
        // 2 -> N in the comune code, check char recomputed: RSSMRA85T10A56NH
        assert_eq!(check_char("RSSMRA85T10A56N"), Some('H'));
        assert!(is_valid_cf("RSSMRA85T10A56NH", false));
        // All seven omocodic positions substituted: RSSMRAURTMLARNNS
        let first15 = "RSSMRAURTMLARNN";
        let c = check_char(first15).unwrap();
        assert!(is_valid_cf(&format!("{first15}{c}"), false));
        // ... and a wrong check char still fails
        let wrong = if c == 'A' { 'B' } else { 'A' };
        assert!(!is_valid_cf(&format!("{first15}{wrong}"), false));
    }

    #[test]
    fn special_codes_only_with_the_switch() {
        assert_eq!(valida_cf("ENI1234567890123"), CfOutcome::EniOk);
        assert_eq!(valida_cf("STP1234567890123"), CfOutcome::StpOk);
        assert!(!is_valid_cf("ENI1234567890123", false));
        assert!(is_valid_cf("ENI1234567890123", true));
        // partita IVA with a valid check digit
        assert_eq!(valida_cf("12345678903"), CfOutcome::Ok11);
        assert_eq!(valida_cf("12345678901"), CfOutcome::CheckDigit11);
        assert!(is_valid_cf("12345678903", true));
        assert!(!is_valid_cf("12345678903", false));
    }

    #[test]
    fn seventeen_chars_are_cut_only_when_special_allowed() {
        assert_eq!(valida_cf("RSSMRA85T10A562SX"), CfOutcome::Ok16);
        assert!(!is_valid_cf("RSSMRA85T10A562SX", false));
    }

    #[test]
    fn oid_rules() {
        let mef = format!("RSSMRA85T10A562S^^^&{OID_MEF}&ISO");
        assert!(is_valid_oid(Some(&mef), false));
        let bad_mef = format!("RSSMRA85T10A562T^^^&{OID_MEF}&ISO");
        assert!(!is_valid_oid(Some(&bad_mef), false));
        // Another OID: accepted without a CF check
        assert!(is_valid_oid(Some("whatever^^^&1.2.3&ISO"), false));
        // HTML-escaped '&amp;': the second part is "amp;2.16...", not the MEF OID -> unchecked
        let escaped = format!("RSSMRA85T10A562T^^^&amp;{OID_MEF}&amp;ISO");
        assert!(is_valid_oid(Some(&escaped), false));
        // A bare value must be a CF
        assert!(is_valid_oid(Some("RSSMRA85T10A562S"), false));
        assert!(!is_valid_oid(Some("RSSMRA85T10A562T"), false));
        assert!(!is_valid_oid(None, false));
    }

    #[test]
    fn java_split_semantics() {
        assert_eq!(java_split("a^b^", "^"), vec!["a", "b"]);
        assert_eq!(java_split("", "^"), vec![""]);
        assert!(java_split("^^", "^").is_empty());
        assert_eq!(java_split("^a", "^"), vec!["", "a"]);
    }
}
