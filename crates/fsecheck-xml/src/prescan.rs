//! Limits around the parser. Before any tree is built: DOCTYPE is refused (and with it every
//! entity declaration: no billion laughs, no external entities) by a look at the prolog, and the
//! attribute-count limit is enforced on the few start tags long enough to break it (the parser's
//! duplicate check is quadratic in attributes). After parsing (the parser is iterative, so depth
//! cannot hurt it): the nesting-depth limit, so every recursive stage after it stays bounded.

use crate::{Limits, LineIndex};
use fsecheck_core::{Finding, Stage};

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    memchr::memmem::find(&hay[from..], needle).map(|p| from + p)
}

fn at(text: &str, offset: usize, f: Finding) -> Box<Finding> {
    let (line, col) = LineIndex::new(text).line_col(text, offset);
    Box::new(f.with_line_col(line, col).with_span(offset, offset + 1))
}

/// The shortest text one attribute can take in a start tag: whitespace, a name character, `=`
/// and two quotes (` a=""`).
const MIN_ATTRIBUTE_BYTES: usize = 5;

/// Check `text` against the DOCTYPE rule and the attribute limit, before any tree is built.
/// Malformed markup is left for the parser, which reports it with a better message. Nesting
/// depth is checked on the tree ([`check_depth`]): the parser is iterative, so depth cannot hurt
/// it, only the recursive stages after it.
pub fn prescan(text: &str, limits: &Limits) -> Result<(), Box<Finding>> {
    doctype(text)?;
    attributes(text, limits)
}

/// DOCTYPE may only stand in the prolog: look there (declaration, processing instructions,
/// comments, whitespace) and stop at the first element. A DOCTYPE anywhere else is not
/// well-formed, which the parser reports.
fn doctype(text: &str) -> Result<(), Box<Finding>> {
    let b = text.as_bytes();
    let mut i = 0usize;
    while let Some(p) = memchr::memchr(b'<', &b[i.min(b.len())..]).map(|p| p + i) {
        let rest = &b[p + 1..];
        if rest.starts_with(b"!--") {
            match find(b, p + 4, b"-->") {
                Some(e) => i = e + 3,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"?") {
            match find(b, p + 2, b"?>") {
                Some(e) => i = e + 2,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"!DOCTYPE") {
            return Err(at(
                text,
                p,
                doctype_finding(find(b, p, b"<!ENTITY").is_some()),
            ));
        } else {
            return Ok(());
        }
    }
    Ok(())
}

/// The finding for a DOCTYPE declaration (`entities`: the text declares entities).
pub(crate) fn doctype_finding(entities: bool) -> Finding {
    let mut f = Finding::error(
        "xml/doctype",
        Stage::Xml,
        if entities {
            "DOCTYPE declaration with entity declarations refused"
        } else {
            "DOCTYPE declaration refused"
        },
    )
    .with_hint(
        "The gateway's parser forbids DOCTYPE (disallow-doctype-decl) and answers /msg/syntax; \
         entities are never expanded and nothing is fetched. Remove the DOCTYPE.",
    );
    if entities {
        f = f.with_detail("entities", "declared");
    }
    f
}

/// The parser checks each attribute against the element's earlier ones (quadratic in their
/// number), so an element with too many is refused before parsing. A start tag holds no `<`
/// after its first byte, so it lies within the stretch up to the next `<`; only stretches long
/// enough to hold more than the limit are inspected.
fn attributes(text: &str, limits: &Limits) -> Result<(), Box<Finding>> {
    let b = text.as_bytes();
    let long = MIN_ATTRIBUTE_BYTES.saturating_mul(limits.max_attributes.saturating_add(1));
    let mut starts = memchr::memchr_iter(b'<', b).peekable();
    while let Some(p) = starts.next() {
        let next = starts.peek().copied().unwrap_or(b.len());
        if next - p <= long {
            continue;
        }
        let attrs = count_attributes(&b[p..next]);
        if attrs > limits.max_attributes {
            return Err(at(
                text,
                p,
                Finding::error(
                    "xml/too-many-attributes",
                    Stage::Xml,
                    format!(
                        "an element has {attrs} attributes, over the limit of {}",
                        limits.max_attributes
                    ),
                ),
            ));
        }
    }
    Ok(())
}

/// Attributes (namespace declarations included) of the start tag at the beginning of `tag`:
/// `=` outside quoted values, up to the closing `>`. Not a start tag (end tag, comment, CDATA,
/// processing instruction): 0.
fn count_attributes(tag: &[u8]) -> usize {
    if tag.len() < 2 || matches!(tag[1], b'/' | b'!' | b'?') {
        return 0;
    }
    let mut j = 1;
    let mut attrs = 0usize;
    while let Some(k) = memchr::memchr3(b'"', b'\'', b'>', &tag[j..]).map(|k| j + k) {
        attrs += memchr::memchr_iter(b'=', &tag[j..k]).count();
        if tag[k] == b'>' {
            break;
        }
        match memchr::memchr(tag[k], &tag[k + 1..]) {
            Some(e) => j = k + 1 + e + 1,
            None => break,
        }
    }
    attrs
}

/// Refuse a parsed document nested deeper than the limit (the recursive stages after the parser
/// stay bounded). Walks the tree without recursion.
pub fn check_depth(doc: &roxmltree::Document<'_>, limits: &Limits) -> Result<(), Box<Finding>> {
    // Element depth by node id; a parent is always visited before its children.
    let mut depths: Vec<u32> = Vec::new();
    for n in doc.root().descendants() {
        let parent = n.parent().map_or(0, |p| depths[p.id().get_usize()]);
        let depth = parent + u32::from(n.is_element());
        let id = n.id().get_usize();
        if depths.len() <= id {
            depths.resize(id + 1, 0);
        }
        depths[id] = depth;
        if depth as usize > limits.max_depth {
            let text = doc.input_text();
            return Err(at(
                text,
                n.range().start,
                Finding::error(
                    "xml/too-deep",
                    Stage::Xml,
                    format!(
                        "elements are nested deeper than the limit of {}",
                        limits.max_depth
                    ),
                )
                .with_hint("Real CDA documents nest a few dozen levels at most."),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctype_with_entities_is_refused_with_position() {
        let text = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">]>\n<a>&lol;</a>";
        let f = prescan(text, &Limits::default()).unwrap_err();
        assert_eq!(f.id, "xml/doctype");
        assert_eq!(f.location.line, Some(2));
        assert_eq!(
            f.details.get("entities").map(String::as_str),
            Some("declared")
        );
    }

    fn depth(text: &str, limits: &Limits) -> Result<(), Box<Finding>> {
        let doc = roxmltree::Document::parse(text).unwrap();
        check_depth(&doc, limits)
    }

    #[test]
    fn depth_limit() {
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        let f = depth(&deep, &Limits::default()).unwrap_err();
        assert_eq!(f.id, "xml/too-deep");
        // The first element over the limit: the 257th `<a>`.
        assert_eq!(f.location.column, Some(256 * 3 + 1));
        let ok = format!(
            "{}<b x='>' y=\"/>\"/>{}",
            "<a>".repeat(255),
            "</a>".repeat(255)
        );
        depth(&ok, &Limits::default()).unwrap();
        // A 100,000-deep document parses (the parser is iterative) and is then refused.
        let very = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        assert_eq!(
            depth(&very, &Limits::default()).unwrap_err().id,
            "xml/too-deep"
        );
    }

    #[test]
    fn siblings_do_not_add_depth_and_comments_are_skipped() {
        let text = format!(
            "<r>{}<!-- <x><x><x> --><![CDATA[<y>]]></r>",
            "<a></a><b/>".repeat(1000)
        );
        let limits = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        prescan(&text, &limits).unwrap();
        depth(&text, &limits).unwrap();
    }

    #[test]
    fn doctype_only_in_the_prolog_and_after_comments_and_pis() {
        let text = "<?xml version=\"1.0\"?><!-- <!DOCTYPE x> --><?pi x?>\n<!DOCTYPE r><r/>";
        let f = prescan(text, &Limits::default()).unwrap_err();
        assert_eq!(f.id, "xml/doctype");
        assert_eq!(f.location.line, Some(2));
        assert!(!f.details.contains_key("entities"));
        // Inside the root element it is markup the parser refuses, not a prolog DOCTYPE.
        prescan("<r><![CDATA[<!DOCTYPE r>]]></r>", &Limits::default()).unwrap();
    }

    #[test]
    fn attribute_limit() {
        let attrs: String = (0..300).map(|i| format!(" a{i}='v'")).collect();
        let text = format!("<r{attrs}/>");
        assert_eq!(
            prescan(&text, &Limits::default()).unwrap_err().id,
            "xml/too-many-attributes"
        );
        // Exactly at the limit, with `=` and `>` inside quoted values and namespace declarations.
        let attrs: String = (0..255)
            .map(|i| format!(" a{i}='x=y>'"))
            .chain([" xmlns:p=\"u=v\"".to_string()])
            .collect();
        prescan(&format!("<r{attrs}/>"), &Limits::default()).unwrap();
        let attrs: String = (0..257).map(|i| format!(" a{i}=''")).collect();
        let f = prescan(&format!("<x/>\n  <r{attrs}/>"), &Limits::default()).unwrap_err();
        assert_eq!(f.id, "xml/too-many-attributes");
        assert_eq!((f.location.line, f.location.column), (Some(2), Some(3)));
        // Long text between tags is not an element's attributes.
        let text = format!("<r>{}</r>", "a=b ".repeat(10_000));
        prescan(&text, &Limits::default()).unwrap();
    }
}
