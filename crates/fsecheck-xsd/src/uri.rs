//! `xs:anyURI` lexical check. XSD 1.0 defines it as: after the XLink §5.4 escaping (controls,
//! non-ASCII, space and the characters `< > " { } | \ ^` and backquote are taken as escaped), a legal
//! URI reference by RFC 2396 as
//! amended by RFC 2732 — what Xerces (the gateway's JAXP validator) checks. The parser follows
//! the RFC 3986 grammar (the same structure) with RFC 2396/2732's allowances: `[` `]` in query
//! and fragment, an empty port. libxml2 2.9 parses by RFC 3986 and refuses those two
//! (`libxml2-uri-rfc3986` in docs/XSD.md).

fn unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn sub_delim(c: u8) -> bool {
    matches!(
        c,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn at(&self, k: usize) -> u8 {
        self.s.get(self.i + k).copied().unwrap_or(0)
    }

    fn pct(&self) -> bool {
        self.at(0) == b'%' && self.at(1).is_ascii_hexdigit() && self.at(2).is_ascii_hexdigit()
    }

    /// Advances over one unreserved / pct-encoded / sub-delim character (plus `extra`).
    fn unit(&mut self, extra: &[u8]) -> bool {
        let c = self.at(0);
        if self.pct() {
            self.i += 3;
            true
        } else if c != 0 && (unreserved(c) || sub_delim(c) || extra.contains(&c)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn is_pchar(&self) -> bool {
        let c = self.at(0);
        self.pct() || (c != 0 && (unreserved(c) || sub_delim(c) || c == b':' || c == b'@'))
    }

    /// A segment; `forbid` stops it (`:` in path-noscheme); `empty` allows zero characters.
    fn segment(&mut self, forbid: u8, empty: bool) -> bool {
        if !self.is_pchar() {
            return empty;
        }
        while self.is_pchar() && self.at(0) != forbid {
            if !self.unit(b":@") {
                break;
            }
        }
        true
    }

    fn path_abempty(&mut self) -> bool {
        while self.at(0) == b'/' {
            self.i += 1;
            if !self.segment(0, true) {
                return false;
            }
        }
        true
    }

    fn path_absolute(&mut self) -> bool {
        self.i += 1; // the '/'
        if self.segment(0, false) {
            return self.path_abempty();
        }
        true
    }

    fn authority(&mut self) -> bool {
        let start = self.i;
        while self.unit(b":") {}
        if self.at(0) == b'@' {
            self.i += 1;
        } else {
            self.i = start;
        }
        if self.at(0) == b'[' {
            while self.at(0) != b']' && self.at(0) != 0 {
                self.i += 1;
            }
            if self.at(0) != b']' {
                return false;
            }
            self.i += 1;
        } else {
            while self.unit(b"") {}
        }
        if self.at(0) == b':' {
            // port = *DIGIT: an empty port is allowed (libxml2 wrongly refuses it).
            self.i += 1;
            while self.at(0).is_ascii_digit() {
                self.i += 1;
            }
        }
        true
    }

    /// Optional `?query` and `#fragment` (`[` `]` admitted in both, RFC 2732), then the end.
    fn query_fragment_end(&mut self) -> bool {
        if self.at(0) == b'?' {
            self.i += 1;
            while self.is_pchar() || matches!(self.at(0), b'/' | b'?' | b'[' | b']') {
                if !self.unit(b":@/?[]") {
                    break;
                }
            }
        }
        if self.at(0) == b'#' {
            self.i += 1;
            while self.is_pchar() || matches!(self.at(0), b'/' | b'?' | b'[' | b']') {
                if !self.unit(b":@/?[]") {
                    break;
                }
            }
        }
        self.i == self.s.len()
    }

    fn absolute(&mut self) -> bool {
        if !self.at(0).is_ascii_alphabetic() {
            return false;
        }
        while self.at(0).is_ascii_alphanumeric() || matches!(self.at(0), b'+' | b'-' | b'.') {
            self.i += 1;
        }
        if self.at(0) != b':' {
            return false;
        }
        self.i += 1;
        self.hier_part(0) && self.query_fragment_end()
    }

    fn relative(&mut self) -> bool {
        self.hier_part(b':') && self.query_fragment_end()
    }

    /// `hier-part` of a URI (`first_forbid` 0: path-rootless) or `relative-part` of a relative
    /// reference (`first_forbid` ':': path-noscheme, no colon in the first segment).
    fn hier_part(&mut self, first_forbid: u8) -> bool {
        if self.at(0) == b'/' && self.at(1) == b'/' {
            self.i += 2;
            self.authority() && self.path_abempty()
        } else if self.at(0) == b'/' {
            self.path_absolute()
        } else if self.is_pchar() {
            self.segment(first_forbid, false) && self.path_abempty()
        } else {
            true
        }
    }
}

/// Whether a (whitespace-collapsed) value is a valid `xs:anyURI`.
pub(crate) fn is_any_uri(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    let escaped: Vec<u8> = v
        .bytes()
        .map(|b| {
            if !(32..127).contains(&b)
                || matches!(
                    b,
                    b' ' | b'<' | b'>' | b'"' | b'{' | b'}' | b'|' | b'\\' | b'^' | b'`' | b'\''
                )
            {
                b'_'
            } else {
                b
            }
        })
        .collect();
    P { s: &escaped, i: 0 }.absolute() || P { s: &escaped, i: 0 }.relative()
}

#[cfg(test)]
mod tests {
    use super::is_any_uri;

    #[test]
    fn uri_references() {
        for ok in [
            "",
            "#",
            "#x y",
            "mailto:a@b",
            "tel:+39 06 1234",
            "http://[::1]/",
            "http://a/%20b",
            "^x",
            "a/b?c#d",
            "urn:oid:1.2.3",
            "../x.xsd",
            "http://h:80/p",
        ] {
            assert!(is_any_uri(ok), "{ok}");
        }
        for ok in ["http://h:/p", "?a[b]", "#[x]"] {
            assert!(is_any_uri(ok), "{ok}");
        }
        for bad in ["%zz", "::", "[x]", "a%2", "a/[b]"] {
            assert!(!is_any_uri(bad), "{bad}");
        }
    }
}
