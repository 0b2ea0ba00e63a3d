//! XML layer: bytes → decoded text → checked prolog and limits → roxmltree document.
//!
//! Everything that can go wrong with untrusted bytes becomes a [`Finding`]; nothing panics.
//! DOCTYPE (and so every entity declaration) is refused before parsing, as the gateway's parser
//! (`disallow-doctype-decl=true`) does, so no entity is ever expanded and nothing is fetched.
//!
//! ```
//! use fsecheck_xml::{prepare, parse, Limits};
//! let prepared = prepare(b"<r xmlns='urn:x'><a/></r>", &Limits::default());
//! assert!(prepared.findings.is_empty());
//! let text = prepared.text.unwrap();
//! let doc = parse(&text, &Limits::default()).unwrap();
//! assert_eq!(doc.root_element().tag_name().name(), "r");
//! ```

pub mod decode;
pub mod lines;
pub mod path;
pub mod prescan;

use fsecheck_core::{Finding, Stage};

pub use decode::{decode, decode_owned, Decoded, Encoding};
pub use lines::LineIndex;
pub use path::node_xpath;

/// Resource limits applied to every document.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: u64,
    /// Deepest accepted element nesting.
    pub max_depth: usize,
    /// Most attributes (namespace declarations included) on one element.
    pub max_attributes: usize,
    /// Most nodes in one document (roxmltree's own guard).
    pub max_nodes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 * 1024 * 1024,
            max_depth: 256,
            max_attributes: 256,
            max_nodes: 4_000_000,
        }
    }
}

/// Result of [`prepare`]: the decoded text when it may be parsed, and the findings so far.
#[derive(Debug, Default)]
pub struct Prepared {
    pub text: Option<String>,
    pub encoding: Option<Encoding>,
    pub findings: Vec<Finding>,
}

/// Decode `bytes`, then check the prolog (DOCTYPE) and the attribute limit without building a
/// tree (nesting depth is checked by [`parse`] on the tree).
/// `text` is `None` when the document must not be parsed; `findings` then says why.
pub fn prepare(bytes: &[u8], limits: &Limits) -> Prepared {
    prepare_owned(bytes.to_vec(), limits)
}

/// [`prepare`] taking ownership: UTF-8 input becomes the text without a copy.
pub fn prepare_owned(bytes: Vec<u8>, limits: &Limits) -> Prepared {
    let mut out = Prepared::default();
    if bytes.len() as u64 > limits.max_bytes {
        out.findings
            .push(size_finding(bytes.len() as u64, limits.max_bytes));
        return out;
    }
    let decoded = match decode_owned(bytes) {
        Ok(d) => d,
        Err(f) => {
            out.findings.push(*f);
            return out;
        }
    };
    out.encoding = Some(decoded.encoding);
    out.findings.extend(decoded.findings);
    if let Err(f) = prescan::prescan(&decoded.text, limits) {
        out.findings.push(*f);
        return out;
    }
    out.text = Some(decoded.text);
    out
}

/// The finding for an input over [`Limits::max_bytes`].
pub fn size_finding(size: u64, max: u64) -> Finding {
    Finding::error(
        "input/too-large",
        Stage::Input,
        format!("file is {size} bytes, over the limit of {max} bytes"),
    )
    .with_hint("Raise the limit with --max-size if this document is legitimate.")
    .with_detail("size", size.to_string())
    .with_detail("limit", max.to_string())
}

/// Parse prepared text. DTDs are refused; a not-well-formed document gives `xml/not-well-formed`
/// with line:col and the offending line; a tree nested deeper than the limit gives `xml/too-deep`.
pub fn parse<'a>(text: &'a str, limits: &Limits) -> Result<roxmltree::Document<'a>, Box<Finding>> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_nodes,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts)
        .map_err(|e| Box::new(parse_error(text, &e)))?;
    prescan::check_depth(&doc, limits)?;
    Ok(doc)
}

fn parse_error(text: &str, e: &roxmltree::Error) -> Finding {
    use roxmltree::Error as E;
    let pos = e.pos();
    let (id, hint) = match e {
        E::NodesLimitReached => (
            "xml/too-many-nodes",
            "The document has more nodes than the configured limit.",
        ),
        E::DtdDetected => (
            "xml/doctype",
            "DOCTYPE declarations are refused, as by the gateway.",
        ),
        E::UnknownNamespace(..) => (
            "xml/unknown-namespace-prefix",
            "A prefix is used without a namespace declaration in scope.",
        ),
        _ => (
            "xml/not-well-formed",
            "The file is not well-formed XML; the gateway answers \
             'Error while executing validation on xsd schema' (/msg/syntax).",
        ),
    };
    let index = LineIndex::new(text);
    let line_text = index.line_text(text, pos.row);
    let mut f = match e {
        // Not in the prolog (the prescan looks there): still the gateway's DOCTYPE refusal.
        E::DtdDetected => prescan::doctype_finding(text.contains("<!ENTITY")),
        _ => Finding::error(id, Stage::Xml, format!("not well-formed: {e}")).with_hint(hint),
    }
    .with_line_col(pos.row, pos.col);
    if !line_text.is_empty() {
        f = f.with_detail("line_text", truncate_chars(line_text, 200));
    }
    f
}

pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_well_formed_reports_position_and_line() {
        let text = "<a>\n  <b></c>\n</a>";
        let f = parse(text, &Limits::default()).unwrap_err();
        assert_eq!(f.id, "xml/not-well-formed");
        assert_eq!(f.location.line, Some(2));
        assert_eq!(
            f.details.get("line_text").map(String::as_str),
            Some("  <b></c>")
        );
    }

    #[test]
    fn oversized_input_is_refused_before_decoding() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        let p = prepare(b"<a>0123456789</a>", &limits);
        assert!(p.text.is_none());
        assert_eq!(p.findings[0].id, "input/too-large");
    }
}
