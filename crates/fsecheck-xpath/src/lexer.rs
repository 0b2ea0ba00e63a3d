//! XPath 2.0 tokens (the whole lexical grammar, so unsupported constructs are recognised and
//! rejected by the parser with a precise position).

use crate::CompileError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// NCName or QName (`a`, `hl7:a`), also keywords (`and`, `if`…).
    Name(String),
    /// `prefix:*`
    PrefixWildcard(String),
    /// `*:local`
    LocalWildcard(String),
    Star,
    Str(String),
    Int(i64),
    /// Decimal or double literal (text kept for messages).
    Num(f64),
    Var(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Slash,
    DSlash,
    At,
    Dot,
    DDot,
    ColonColon,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `<<`, `>>`, `+`, `-`, `|`, `?`, `:=`… kept as text.
    Op(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{B7}')
}

fn err(pos: usize, msg: impl Into<String>) -> CompileError {
    CompileError {
        pos,
        code: "XPST0003",
        message: msg.into(),
    }
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, CompileError> {
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let n = chars.len();
    let at = |i: usize| chars.get(i).map(|c| c.1);
    let pos_of = |i: usize| chars.get(i).map(|c| c.0).unwrap_or(src.len());
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let (pos, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // comments (: … :), nestable
        if c == '(' && at(i + 1) == Some(':') {
            let mut depth = 1;
            i += 2;
            while i < n && depth > 0 {
                if at(i) == Some('(') && at(i + 1) == Some(':') {
                    depth += 1;
                    i += 2;
                } else if at(i) == Some(':') && at(i + 1) == Some(')') {
                    depth -= 1;
                    i += 2;
                } else {
                    i += 1;
                }
            }
            if depth > 0 {
                return Err(err(pos, "unterminated comment"));
            }
            continue;
        }
        let simple = |t: Tok, len: usize, out: &mut Vec<Token>| {
            out.push(Token { tok: t, pos });
            len
        };
        let adv = match c {
            '(' => simple(Tok::LParen, 1, &mut out),
            ')' => simple(Tok::RParen, 1, &mut out),
            '[' => simple(Tok::LBracket, 1, &mut out),
            ']' => simple(Tok::RBracket, 1, &mut out),
            ',' => simple(Tok::Comma, 1, &mut out),
            '@' => simple(Tok::At, 1, &mut out),
            '=' => simple(Tok::Eq, 1, &mut out),
            '|' => {
                if at(i + 1) == Some('|') {
                    simple(Tok::Op("||"), 2, &mut out)
                } else {
                    simple(Tok::Op("|"), 1, &mut out)
                }
            }
            '+' => simple(Tok::Op("+"), 1, &mut out),
            '-' => simple(Tok::Op("-"), 1, &mut out),
            '?' => simple(Tok::Op("?"), 1, &mut out),
            '!' => {
                if at(i + 1) == Some('=') {
                    simple(Tok::Ne, 2, &mut out)
                } else {
                    simple(Tok::Op("!"), 1, &mut out)
                }
            }
            '<' => match at(i + 1) {
                Some('=') => simple(Tok::Le, 2, &mut out),
                Some('<') => simple(Tok::Op("<<"), 2, &mut out),
                _ => simple(Tok::Lt, 1, &mut out),
            },
            '>' => match at(i + 1) {
                Some('=') => simple(Tok::Ge, 2, &mut out),
                Some('>') => simple(Tok::Op(">>"), 2, &mut out),
                _ => simple(Tok::Gt, 1, &mut out),
            },
            '/' => {
                if at(i + 1) == Some('/') {
                    simple(Tok::DSlash, 2, &mut out)
                } else {
                    simple(Tok::Slash, 1, &mut out)
                }
            }
            ':' => {
                if at(i + 1) == Some(':') {
                    simple(Tok::ColonColon, 2, &mut out)
                } else if at(i + 1) == Some('=') {
                    simple(Tok::Op(":="), 2, &mut out)
                } else {
                    return Err(err(pos, "unexpected ':'"));
                }
            }
            '*' => {
                if at(i + 1) == Some(':') && at(i + 2).is_some_and(is_name_start) {
                    let mut j = i + 2;
                    while j < n && is_name_char(chars[j].1) {
                        j += 1;
                    }
                    let local = src[pos_of(i + 2)..pos_of(j)].to_string();
                    out.push(Token {
                        tok: Tok::LocalWildcard(local),
                        pos,
                    });
                    j - i
                } else {
                    simple(Tok::Star, 1, &mut out)
                }
            }
            '.' => {
                if at(i + 1) == Some('.') {
                    simple(Tok::DDot, 2, &mut out)
                } else if at(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                    lex_number(src, &chars, i, &mut out)?
                } else {
                    simple(Tok::Dot, 1, &mut out)
                }
            }
            '"' | '\'' => {
                // string literal, quote doubled to escape
                let q = c;
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match at(j) {
                        None => return Err(err(pos, "unterminated string literal")),
                        Some(d) if d == q => {
                            if at(j + 1) == Some(q) {
                                s.push(q);
                                j += 2;
                            } else {
                                j += 1;
                                break;
                            }
                        }
                        Some(d) => {
                            s.push(d);
                            j += 1;
                        }
                    }
                }
                out.push(Token {
                    tok: Tok::Str(s),
                    pos,
                });
                j - i
            }
            '$' => {
                let mut j = i + 1;
                while j < n && chars[j].1.is_whitespace() {
                    j += 1;
                }
                let start = j;
                if !at(j).is_some_and(is_name_start) {
                    return Err(err(pos, "expected a variable name after '$'"));
                }
                while j < n && (is_name_char(chars[j].1) || chars[j].1 == ':') {
                    j += 1;
                }
                out.push(Token {
                    tok: Tok::Var(src[pos_of(start)..pos_of(j)].to_string()),
                    pos,
                });
                j - i
            }
            d if d.is_ascii_digit() => lex_number(src, &chars, i, &mut out)?,
            d if is_name_start(d) => {
                let mut j = i;
                while j < n && is_name_char(chars[j].1) {
                    j += 1;
                }
                // QName or prefix:*
                if at(j) == Some(':') && at(j + 1) != Some(':') {
                    if at(j + 1) == Some('*') {
                        let prefix = src[pos..pos_of(j)].to_string();
                        out.push(Token {
                            tok: Tok::PrefixWildcard(prefix),
                            pos,
                        });
                        j += 2;
                        i = j;
                        continue;
                    } else if at(j + 1).is_some_and(is_name_start) {
                        j += 1;
                        while j < n && is_name_char(chars[j].1) {
                            j += 1;
                        }
                    }
                }
                out.push(Token {
                    tok: Tok::Name(src[pos..pos_of(j)].to_string()),
                    pos,
                });
                j - i
            }
            other => return Err(err(pos, format!("unexpected character '{other}'"))),
        };
        i += adv;
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: src.len(),
    });
    Ok(out)
}

fn lex_number(
    src: &str,
    chars: &[(usize, char)],
    start: usize,
    out: &mut Vec<Token>,
) -> Result<usize, CompileError> {
    let n = chars.len();
    let at = |i: usize| chars.get(i).map(|c| c.1);
    let pos_of = |i: usize| chars.get(i).map(|c| c.0).unwrap_or(src.len());
    let mut j = start;
    let mut is_int = true;
    while j < n && chars[j].1.is_ascii_digit() {
        j += 1;
    }
    if at(j) == Some('.') && at(j + 1) != Some('.') {
        is_int = false;
        j += 1;
        while j < n && chars[j].1.is_ascii_digit() {
            j += 1;
        }
    }
    if matches!(at(j), Some('e' | 'E')) {
        let mut k = j + 1;
        if matches!(at(k), Some('+' | '-')) {
            k += 1;
        }
        if at(k).is_some_and(|d| d.is_ascii_digit()) {
            is_int = false;
            j = k;
            while j < n && chars[j].1.is_ascii_digit() {
                j += 1;
            }
        }
    }
    if at(j).is_some_and(is_name_start) {
        return Err(err(pos_of(j), "a number must not be followed by a name"));
    }
    let text = &src[pos_of(start)..pos_of(j)];
    let pos = pos_of(start);
    let tok = if is_int {
        match text.parse::<i64>() {
            Ok(v) => Tok::Int(v),
            Err(_) => return Err(err(pos, format!("integer literal {text} out of range"))),
        }
    } else {
        Tok::Num(
            text.parse::<f64>()
                .map_err(|_| err(pos, "bad numeric literal"))?,
        )
    };
    out.push(Token { tok, pos });
    Ok(j - start)
}
