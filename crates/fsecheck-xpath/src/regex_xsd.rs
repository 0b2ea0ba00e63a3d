//! XPath 2.0 (XML Schema flavoured) regular expressions translated onto the `regex` crate.
//!
//! Translated faithfully: literals, `.` (any character but `\n` and `\r` unless flag `s`), `^`/`$`
//! anchors (whole string unless flag `m`), groups, alternation, quantifiers including `{m,n}` and
//! reluctant forms, character classes with ranges, negation and **subtraction** (`[a-z-[aeiou]]`),
//! escapes `\n \r \t \\ \| \. \- \^ \? \* \+ \{ \} \( \) \[ \] \$`, the multi-character escapes
//! `\s \S \d \D \w \W` with their XML Schema meaning (`\d` = `\p{Nd}`, `\w` = not punctuation,
//! separator or other), and `\p{..}`/`\P{..}` general categories. Flags `s m i x`.
//!
//! Rejected (error `FORX0002`): back-references, `\i \c \I \C`, `\p{Is…}` block escapes,
//! `(?…)` groups, and anything malformed.

use crate::DynamicError;

fn bad(msg: impl Into<String>) -> DynamicError {
    DynamicError::new("FORX0002", msg)
}

/// Translate an XPath regex with `flags` into `regex` crate syntax (the result is unanchored,
/// like `fn:matches`).
pub fn translate_regex(pattern: &str, flags: &str) -> Result<String, DynamicError> {
    let (mut s, mut m, mut i, mut x) = (false, false, false, false);
    for f in flags.chars() {
        match f {
            's' => s = true,
            'm' => m = true,
            'i' => i = true,
            'x' => x = true,
            other => {
                return Err(DynamicError::new(
                    "FORX0001",
                    format!("invalid regex flag '{other}'"),
                ))
            }
        }
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut t = Translator {
        c: chars,
        i: 0,
        x,
        dot_all: s,
        out: String::new(),
        depth: 0,
    };
    t.regex()?;
    if t.i < t.c.len() {
        return Err(bad(format!("unbalanced ')' in regex '{pattern}'")));
    }
    let mut prefix = String::new();
    if i || m {
        prefix.push_str("(?");
        if i {
            prefix.push('i');
        }
        if m {
            prefix.push('m');
        }
        prefix.push(')');
    }
    Ok(prefix + &t.out)
}

pub(crate) fn compile_regex(pattern: &str, flags: &str) -> Result<regex::Regex, DynamicError> {
    let translated = translate_regex(pattern, flags)?;
    regex::Regex::new(&translated)
        .map_err(|e| bad(format!("regex '{pattern}' cannot be compiled: {e}")))
}

struct Translator {
    c: Vec<char>,
    i: usize,
    x: bool,
    dot_all: bool,
    out: String,
    depth: usize,
}

fn push_literal(out: &mut String, ch: char) {
    if regex_syntax_meta(ch) {
        out.push('\\');
    }
    out.push(ch);
}

fn regex_syntax_meta(ch: char) -> bool {
    matches!(
        ch,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
    )
}

impl Translator {
    fn peek(&mut self) -> Option<char> {
        if self.x {
            while self.i < self.c.len() && matches!(self.c[self.i], ' ' | '\t' | '\n' | '\r') {
                self.i += 1;
            }
        }
        self.c.get(self.i).copied()
    }

    fn regex(&mut self) -> Result<(), DynamicError> {
        self.branch()?;
        while self.peek() == Some('|') {
            self.i += 1;
            self.out.push('|');
            self.branch()?;
        }
        Ok(())
    }

    fn branch(&mut self) -> Result<(), DynamicError> {
        while let Some(ch) = self.peek() {
            if ch == '|' || ch == ')' {
                break;
            }
            self.piece()?;
        }
        Ok(())
    }

    fn piece(&mut self) -> Result<(), DynamicError> {
        self.atom()?;
        // quantifier
        match self.peek() {
            Some(q @ ('?' | '*' | '+')) => {
                self.i += 1;
                self.out.push(q);
            }
            Some('{') => {
                self.i += 1;
                let mut q = String::from("{");
                let mut seen_digit = false;
                let mut seen_comma = false;
                loop {
                    match self.c.get(self.i).copied() {
                        Some(d) if d.is_ascii_digit() => {
                            seen_digit = true;
                            q.push(d)
                        }
                        Some(',') if !seen_comma && seen_digit => {
                            seen_comma = true;
                            q.push(',')
                        }
                        Some('}') if seen_digit => {
                            q.push('}');
                            self.i += 1;
                            break;
                        }
                        _ => return Err(bad("malformed quantifier {m,n}")),
                    }
                    self.i += 1;
                }
                self.out.push_str(&q);
            }
            _ => return Ok(()),
        }
        // reluctant
        if self.peek() == Some('?') {
            self.i += 1;
            self.out.push('?');
        }
        if matches!(self.peek(), Some('?' | '*' | '+' | '{')) {
            return Err(bad("a quantifier cannot follow a quantifier"));
        }
        Ok(())
    }

    fn atom(&mut self) -> Result<(), DynamicError> {
        let ch = self.peek().ok_or_else(|| bad("unexpected end of regex"))?;
        self.i += 1;
        match ch {
            '(' => {
                if self.peek() == Some('?') {
                    return Err(bad("'(?' groups are not XPath 2.0 regex syntax"));
                }
                self.out.push('(');
                self.depth += 1;
                self.regex()?;
                if self.peek() != Some(')') {
                    return Err(bad("missing ')' in regex"));
                }
                self.i += 1;
                self.depth -= 1;
                self.out.push(')');
            }
            '.' => {
                if self.dot_all {
                    self.out.push_str("(?s:.)");
                } else {
                    self.out.push_str("[^\\n\\r]");
                }
            }
            '^' => self.out.push('^'),
            '$' => self.out.push('$'),
            '[' => {
                let cls = self.char_class()?;
                self.out.push_str(&cls);
            }
            '\\' => {
                let e = self.escape(false)?;
                self.out.push_str(&e);
            }
            '?' | '*' | '+' | '{' => return Err(bad(format!("quantifier '{ch}' without an atom"))),
            '}' | ']' => return Err(bad(format!("unescaped '{ch}' in regex"))),
            c => push_literal(&mut self.out, c),
        }
        Ok(())
    }

    /// After a backslash. `in_class`: the result is used inside `[...]`.
    fn escape(&mut self, in_class: bool) -> Result<String, DynamicError> {
        let ch = *self
            .c
            .get(self.i)
            .ok_or_else(|| bad("regex ends with '\\'"))?;
        self.i += 1;
        let s = match ch {
            'n' => "\\n".to_string(),
            'r' => "\\r".to_string(),
            't' => "\\t".to_string(),
            '\\' | '|' | '.' | '-' | '^' | '?' | '*' | '+' | '{' | '}' | '(' | ')' | '[' | ']'
            | '$' => {
                let mut s = String::new();
                push_literal(&mut s, ch);
                s
            }
            's' => wrap(in_class, "\\x20\\t\\n\\r", false),
            'S' => wrap(in_class, "\\x20\\t\\n\\r", true),
            'd' => wrap(in_class, "\\p{Nd}", false),
            'D' => wrap(in_class, "\\p{Nd}", true),
            'w' => wrap(in_class, "\\p{P}\\p{Z}\\p{C}", true),
            'W' => wrap(in_class, "\\p{P}\\p{Z}\\p{C}", false),
            'p' | 'P' => {
                if self.c.get(self.i) != Some(&'{') {
                    return Err(bad("\\p must be followed by {category}"));
                }
                let end = self.c[self.i..]
                    .iter()
                    .position(|&c| c == '}')
                    .ok_or_else(|| bad("unterminated \\p{"))?;
                let name: String = self.c[self.i + 1..self.i + end].iter().collect();
                self.i += end + 1;
                const CATS: &[&str] = &[
                    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl",
                    "No", "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Z", "Zs", "Zl", "Zp",
                    "S", "Sm", "Sc", "Sk", "So", "C", "Cc", "Cf", "Co", "Cn",
                ];
                if !CATS.contains(&name.as_str()) {
                    return Err(bad(format!("\\{ch}{{{name}}} is not supported")));
                }
                format!("\\{ch}{{{name}}}")
            }
            'i' | 'I' | 'c' | 'C' => {
                return Err(bad(format!(
                    "\\{ch} (XML name characters) is not supported"
                )))
            }
            d if d.is_ascii_digit() => return Err(bad("back-references are not supported")),
            other => return Err(bad(format!("invalid escape '\\{other}'"))),
        };
        Ok(s)
    }

    /// Parse after '[' up to and including the matching ']'; returns a `regex` class.
    fn char_class(&mut self) -> Result<String, DynamicError> {
        let mut out = String::from("[");
        if self.c.get(self.i) == Some(&'^') {
            self.i += 1;
            out.push('^');
        }
        let mut first = true;
        loop {
            let ch = *self
                .c
                .get(self.i)
                .ok_or_else(|| bad("unterminated character class"))?;
            match ch {
                ']' if !first => {
                    self.i += 1;
                    break;
                }
                '-' if self.c.get(self.i + 1) == Some(&'[') => {
                    // subtraction: must be last in the class
                    self.i += 2;
                    let sub = self.char_class()?;
                    if self.c.get(self.i) != Some(&']') {
                        return Err(bad("a subtraction must end the character class"));
                    }
                    self.i += 1;
                    if out == "[" || out == "[^" {
                        return Err(bad("empty character class before subtraction"));
                    }
                    out.push_str("--");
                    out.push_str(&sub);
                    out.push(']');
                    return Ok(out);
                }
                '[' => return Err(bad("unescaped '[' in character class")),
                _ => {
                    let lo = self.class_char()?;
                    match lo {
                        ClassAtom::Multi(s) => out.push_str(&s),
                        ClassAtom::Char(lo) => {
                            if self.c.get(self.i) == Some(&'-')
                                && !matches!(self.c.get(self.i + 1), Some(']') | Some('['))
                            {
                                self.i += 1;
                                match self.class_char()? {
                                    ClassAtom::Char(hi) => {
                                        if hi < lo {
                                            return Err(bad("invalid range in character class"));
                                        }
                                        push_literal(&mut out, lo);
                                        out.push('-');
                                        push_literal(&mut out, hi);
                                    }
                                    ClassAtom::Multi(_) => {
                                        return Err(bad("a range cannot end with a class escape"))
                                    }
                                }
                            } else {
                                push_literal(&mut out, lo);
                            }
                        }
                    }
                }
            }
            first = false;
        }
        if out == "[" || out == "[^" {
            return Err(bad("empty character class"));
        }
        out.push(']');
        Ok(out)
    }

    fn class_char(&mut self) -> Result<ClassAtom, DynamicError> {
        let ch = self.c[self.i];
        self.i += 1;
        if ch == '\\' {
            let nxt = *self
                .c
                .get(self.i)
                .ok_or_else(|| bad("regex ends with '\\'"))?;
            return match nxt {
                'n' => {
                    self.i += 1;
                    Ok(ClassAtom::Char('\n'))
                }
                'r' => {
                    self.i += 1;
                    Ok(ClassAtom::Char('\r'))
                }
                't' => {
                    self.i += 1;
                    Ok(ClassAtom::Char('\t'))
                }
                '\\' | '|' | '.' | '-' | '^' | '?' | '*' | '+' | '{' | '}' | '(' | ')' | '['
                | ']' | '$' => {
                    self.i += 1;
                    Ok(ClassAtom::Char(nxt))
                }
                _ => Ok(ClassAtom::Multi(self.escape(true)?)),
            };
        }
        Ok(ClassAtom::Char(ch))
    }
}

enum ClassAtom {
    Char(char),
    Multi(String),
}

/// A set of class items as a standalone class or as a nested class inside `[...]`.
fn wrap(_in_class: bool, items: &str, negated: bool) -> String {
    if negated {
        format!("[^{items}]")
    } else {
        format!("[{items}]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        compile_regex(p, "").unwrap().is_match(s)
    }

    #[test]
    fn unanchored_unless_anchors() {
        assert!(m("[A-Z0-9]{16}", "xxRSSMRA80A01H501Uyy"));
        assert!(!m("^[A-Z0-9]{16}$", "xxRSSMRA80A01H501Uyy"));
        assert!(m("^[A-Z0-9]{16}$", "RSSMRA80A01H501U"));
        assert!(!m("^[A-Z0-9]{16}$", "RSSMRA80A01H501U\n"));
    }

    #[test]
    fn quantifiers_alternation_and_digits() {
        let p = r"^2\.16\.840\.1\.113883\.2\.9\.2\.(10|20|30|200)\.4\.2$";
        assert!(m(p, "2.16.840.1.113883.2.9.2.200.4.2"));
        assert!(!m(p, "2.16.840.1.113883.2.9.2.201.4.2"));
        assert!(m(r"^\d{2,3}\.6\.22$", "120.6.22"));
        assert!(!m(r"^\d{2,3}\.6\.22$", "1.6.22"));
        assert!(!m(r"^\d{2,3}\.6\.22$", "1200.6.22"));
        // \d is Unicode Nd, as in XML Schema
        assert!(m(r"^\d$", "\u{0663}"));
        assert!(!m(r"^\d$", "x"));
        // unescaped dot matches any character but newline
        assert!(m("2.16", "2x16"));
        assert!(!m("2.16", "2\n16"));
    }

    #[test]
    fn class_subtraction_and_escapes() {
        assert!(m("^[a-z-[aeiou]]+$", "bcd"));
        assert!(!m("^[a-z-[aeiou]]+$", "bad"));
        assert!(m(r"^[\d\-]+$", "12-3"));
        assert!(m(r"^\s$", " "));
        assert!(!m(r"^\s$", "\u{A0}"));
        // XSD \w excludes all punctuation, so '_' (Pc) is not a word character
        assert!(m(r"^\w+$", "abc1"));
        assert!(!m(r"^\w$", "_"));
        assert!(!m(r"^\w$", "-"));
        assert!(m(r"^a\$$", "a$"));
        assert!(m("^[&~]+$", "&~"));
    }

    #[test]
    fn flags() {
        assert!(compile_regex("^abc$", "i").unwrap().is_match("ABC"));
        assert!(compile_regex("^b$", "m").unwrap().is_match("a\nb"));
        assert!(!compile_regex("^b$", "").unwrap().is_match("a\nb"));
        assert!(compile_regex("a.b", "s").unwrap().is_match("a\nb"));
        assert!(compile_regex("a b c", "x").unwrap().is_match("abc"));
        assert_eq!(compile_regex("a", "q").unwrap_err().code, "FORX0001");
    }

    #[test]
    fn unsupported_is_an_error() {
        for p in [
            r"(a)\1",
            r"\i",
            r"\p{IsBasicLatin}",
            "(?:a)",
            "a{2",
            "[a",
            "a)",
            "*a",
            "a**",
        ] {
            assert!(compile_regex(p, "").is_err(), "{p} should be rejected");
        }
    }
}
