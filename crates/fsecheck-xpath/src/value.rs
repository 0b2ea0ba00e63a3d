//! Items, atomic values, atomization, casts and number formatting.

use crate::DynamicError;
use roxmltree::{Node, NodeType};
use std::borrow::Cow;
use std::cmp::Ordering;

/// An atomic value. Strings borrow from the document or the compiled expression when they can.
#[derive(Debug, Clone, PartialEq)]
pub enum Atom<'a> {
    /// `xs:untypedAtomic`: the typed value of attributes and elements of an untyped document.
    Untyped(Cow<'a, str>),
    Str(Cow<'a, str>),
    Int(i64),
    Double(f64),
    Bool(bool),
}

/// One item of a sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a, 'i> {
    /// Element, document, text, comment or processing-instruction node.
    Node(Node<'a, 'i>),
    /// Attribute: owner element and index in its attribute list.
    Attr(Node<'a, 'i>, u32),
    Atom(Atom<'a>),
}

pub type Sequence<'a, 'i> = Vec<Item<'a, 'i>>;

impl<'a, 'i> Item<'a, 'i> {
    pub fn is_node(&self) -> bool {
        !matches!(self, Item::Atom(_))
    }

    /// Document-order key (nodes only).
    pub(crate) fn order_key(&self) -> (usize, u32) {
        match self {
            Item::Node(n) => (n.id().get_usize(), 0),
            Item::Attr(n, i) => (n.id().get_usize(), i + 1),
            Item::Atom(_) => (usize::MAX, u32::MAX),
        }
    }

    /// The string value (`fn:string`) of the item.
    pub fn string_value(&self) -> Cow<'a, str> {
        match self {
            Item::Node(n) => node_string_value(*n),
            Item::Attr(n, i) => Cow::Borrowed(attr_value(*n, *i)),
            Item::Atom(a) => a.to_text(),
        }
    }

    /// Typed value of the item (nodes of an untyped document give `xs:untypedAtomic`).
    pub fn atomize(&self) -> Atom<'a> {
        match self {
            Item::Node(n) => Atom::Untyped(node_string_value(*n)),
            Item::Attr(n, i) => Atom::Untyped(Cow::Borrowed(attr_value(*n, *i))),
            Item::Atom(a) => a.clone(),
        }
    }
}

pub(crate) fn attr_value<'a>(n: Node<'a, '_>, i: u32) -> &'a str {
    n.attributes()
        .nth(i as usize)
        .map(|a| a.value())
        .unwrap_or("")
}

/// String value of a node: for elements and the document, the concatenation of all descendant
/// text nodes (borrowed when there is just one).
pub(crate) fn node_string_value<'a>(n: Node<'a, '_>) -> Cow<'a, str> {
    match n.node_type() {
        NodeType::Text | NodeType::Comment => Cow::Borrowed(n.text().unwrap_or("")),
        NodeType::PI => Cow::Borrowed(n.pi().and_then(|p| p.value).unwrap_or("")),
        NodeType::Element | NodeType::Root => {
            let mut first: Option<&'a str> = None;
            let mut owned: Option<String> = None;
            for d in n.descendants() {
                if d.is_text() {
                    let t = d.text().unwrap_or("");
                    if let Some(o) = owned.as_mut() {
                        o.push_str(t);
                    } else if let Some(f) = first {
                        let mut s = String::with_capacity(f.len() + t.len());
                        s.push_str(f);
                        s.push_str(t);
                        owned = Some(s);
                    } else {
                        first = Some(t);
                    }
                }
            }
            match owned {
                Some(s) => Cow::Owned(s),
                None => Cow::Borrowed(first.unwrap_or("")),
            }
        }
    }
}

impl<'a> Atom<'a> {
    /// Cast to `xs:string` (numbers formatted the XPath 2.0 way).
    pub fn to_text(&self) -> Cow<'a, str> {
        match self {
            Atom::Untyped(s) | Atom::Str(s) => s.clone(),
            Atom::Int(i) => Cow::Owned(i.to_string()),
            Atom::Double(d) => Cow::Owned(format_double(*d)),
            Atom::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Atom::Untyped(_) => "xs:untypedAtomic",
            Atom::Str(_) => "xs:string",
            Atom::Int(_) => "xs:integer",
            Atom::Double(_) => "xs:double",
            Atom::Bool(_) => "xs:boolean",
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(self, Atom::Int(_) | Atom::Double(_))
    }

    fn as_f64(&self) -> f64 {
        match self {
            Atom::Int(i) => *i as f64,
            Atom::Double(d) => *d,
            _ => f64::NAN,
        }
    }
}

/// String equality without a `memcmp` call for the short strings compared everywhere here
/// (names, codes, OIDs): lengths first, then the bytes from the end (OIDs share prefixes).
#[inline]
pub(crate) fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 32 {
        return a == b;
    }
    a.iter().rev().zip(b.iter().rev()).all(|(x, y)| x == y)
}

/// XML Schema whitespace: space, tab, CR, LF.
pub(crate) fn is_xml_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Cast a lexical form to `xs:double` following XML Schema rules (surrounding whitespace
/// collapsed; `INF`, `-INF`, `NaN`; optional sign; mantissa with optional `.`; optional exponent).
/// `None` when the lexical form is invalid.
pub fn parse_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(is_xml_ws);
    match t {
        "INF" => return Some(f64::INFINITY),
        "-INF" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let mut ed = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            ed += 1;
        }
        if ed == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    t.parse::<f64>().ok()
}

/// `fn:number` on an atomic value: NaN when the cast fails.
pub(crate) fn atom_to_number(a: &Atom<'_>) -> f64 {
    match a {
        Atom::Untyped(s) | Atom::Str(s) => parse_double(s).unwrap_or(f64::NAN),
        Atom::Int(i) => *i as f64,
        Atom::Double(d) => *d,
        Atom::Bool(b) => {
            if *b {
                1.0
            } else {
                0.0
            }
        }
    }
}

/// Format an `xs:double` as XPath 2.0 `fn:string` does: `1`, `1.5`, `-0`, `NaN`, `INF`,
/// and scientific notation (`1.0E6`, `1.5E-7`) outside `[1e-6, 1e6)`.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "INF".into() } else { "-INF".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let a = d.abs();
    if (1e-6..1e6).contains(&a) {
        // Shortest round-trip representation, never in exponent form for this range.
        let s = format!("{}", d);
        if let Some(stripped) = s.strip_suffix(".0") {
            stripped.to_string()
        } else {
            s
        }
    } else {
        // Shortest round-trip digits in scientific form: mantissa with at least one decimal.
        let s = format!("{:e}", d); // e.g. "1e6", "1.5e-7"
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

/// Comparison operators of general comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn test(self, o: Option<Ordering>) -> bool {
        match o {
            None => self == CmpOp::Ne, // NaN: only != holds
            Some(o) => match self {
                CmpOp::Eq => o == Ordering::Equal,
                CmpOp::Ne => o != Ordering::Equal,
                CmpOp::Lt => o == Ordering::Less,
                CmpOp::Le => o != Ordering::Greater,
                CmpOp::Gt => o == Ordering::Greater,
                CmpOp::Ge => o != Ordering::Less,
            },
        }
    }
}

fn cast_untyped_to_double(s: &str) -> Result<f64, DynamicError> {
    parse_double(s).ok_or_else(|| {
        DynamicError::new(
            "FORG0001",
            format!("cannot convert untypedAtomic '{s}' to xs:double in a general comparison"),
        )
    })
}

fn cast_untyped_to_bool(s: &str) -> Result<bool, DynamicError> {
    match s.trim_matches(is_xml_ws) {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(DynamicError::new(
            "FORG0001",
            format!("cannot convert untypedAtomic '{s}' to xs:boolean"),
        )),
    }
}

/// One pair of a general comparison, XPath 2.0 rules (no backwards-compatibility mode).
pub(crate) fn compare_atoms(op: CmpOp, a: &Atom<'_>, b: &Atom<'_>) -> Result<bool, DynamicError> {
    use Atom::*;
    let ord = match (a, b) {
        (Untyped(x) | Str(x), Untyped(y) | Str(y)) => {
            match op {
                // equality needs no ordering (and rejects different lengths at once)
                CmpOp::Eq => return Ok(str_eq(x, y)),
                CmpOp::Ne => return Ok(!str_eq(x, y)),
                _ => Some(x.as_ref().cmp(y.as_ref())),
            }
        }
        (Untyped(x), n) if n.is_numeric() => cast_untyped_to_double(x)?.partial_cmp(&n.as_f64()),
        (n, Untyped(y)) if n.is_numeric() => n.as_f64().partial_cmp(&cast_untyped_to_double(y)?),
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (x, y) if x.is_numeric() && y.is_numeric() => x.as_f64().partial_cmp(&y.as_f64()),
        (Untyped(x), Bool(y)) => Some(cast_untyped_to_bool(x)?.cmp(y)),
        (Bool(x), Untyped(y)) => Some(x.cmp(&cast_untyped_to_bool(y)?)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        _ => {
            return Err(DynamicError::new(
                "XPTY0004",
                format!(
                    "cannot compare {} with {} using '{}'",
                    a.type_name(),
                    b.type_name(),
                    op.symbol()
                ),
            ))
        }
    };
    Ok(op.test(ord))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_format_like_xpath2() {
        assert_eq!(format_double(1.0), "1");
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(-2.0), "-2");
        assert_eq!(format_double(0.0), "0");
        assert_eq!(format_double(-0.0), "-0");
        assert_eq!(format_double(f64::NAN), "NaN");
        assert_eq!(format_double(f64::INFINITY), "INF");
        assert_eq!(format_double(f64::NEG_INFINITY), "-INF");
        assert_eq!(format_double(1e6), "1.0E6");
        assert_eq!(format_double(123456789.0), "1.23456789E8");
        assert_eq!(format_double(1.5e-7), "1.5E-7");
        assert_eq!(format_double(999999.0), "999999");
        assert_eq!(format_double(0.000001), "0.000001");
        assert_eq!(format_double(0.1), "0.1");
    }

    #[test]
    fn double_lexical_forms_follow_xsd() {
        assert_eq!(parse_double(" 12 "), Some(12.0));
        assert_eq!(parse_double("+1"), Some(1.0));
        assert_eq!(parse_double(".5"), Some(0.5));
        assert_eq!(parse_double("5."), Some(5.0));
        assert_eq!(parse_double("1e3"), Some(1000.0));
        assert_eq!(parse_double("-INF"), Some(f64::NEG_INFINITY));
        assert!(parse_double("NaN").unwrap().is_nan());
        assert_eq!(parse_double("inf"), None);
        assert_eq!(parse_double("infinity"), None);
        assert_eq!(parse_double("nan"), None);
        assert_eq!(parse_double("1,5"), None);
        assert_eq!(parse_double(""), None);
        assert_eq!(parse_double("."), None);
        assert_eq!(parse_double("1e"), None);
        assert_eq!(parse_double("0x10"), None);
    }
}
