//! One cheap pass over the text before any tree is built: refuses DOCTYPE (and with it every
//! entity declaration: no billion laughs, no external entities) and enforces the nesting-depth and
//! attribute-count limits, so the tree and every recursive stage after it stay bounded.

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

/// Check `text` against the DOCTYPE rule and `limits`. Malformed markup is left for the parser,
/// which reports it with a better message.
pub fn prescan(text: &str, limits: &Limits) -> Result<(), Box<Finding>> {
    let b = text.as_bytes();
    let mut i = 0usize;
    let mut depth = 0usize;
    while let Some(p) = memchr::memchr(b'<', &b[i.min(b.len())..]).map(|p| p + i) {
        let rest = &b[p + 1..];
        if rest.starts_with(b"!--") {
            match find(b, p + 4, b"-->") {
                Some(e) => i = e + 3,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"![CDATA[") {
            match find(b, p + 9, b"]]>") {
                Some(e) => i = e + 3,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"!DOCTYPE") {
            let entities = find(b, p, b"<!ENTITY").is_some();
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
                "The gateway's parser forbids DOCTYPE (disallow-doctype-decl) and answers \
                 /msg/syntax; entities are never expanded and nothing is fetched. Remove the \
                 DOCTYPE.",
            );
            if entities {
                f = f.with_detail("entities", "declared");
            }
            return Err(at(text, p, f));
        } else if rest.starts_with(b"?") {
            match find(b, p + 2, b"?>") {
                Some(e) => i = e + 2,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"!") {
            match find(b, p + 2, b">") {
                Some(e) => i = e + 1,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"/") {
            depth = depth.saturating_sub(1);
            match find(b, p + 2, b">") {
                Some(e) => i = e + 1,
                None => return Ok(()),
            }
        } else {
            // A start tag: jump between quotes and '>' (vectorised), honouring quoted values;
            // '=' outside quotes counts attributes, a '<' outside quotes means broken markup.
            let mut j = p + 1;
            let mut attrs = 0usize;
            let mut closed = false;
            loop {
                let Some(k) = memchr::memchr3(b'"', b'\'', b'>', &b[j..]).map(|k| j + k) else {
                    j = b.len();
                    break;
                };
                let seg = &b[j..k];
                if memchr::memchr(b'<', seg).is_some() {
                    j = k;
                    break;
                }
                attrs += memchr::memchr_iter(b'=', seg).count();
                if b[k] == b'>' {
                    j = k;
                    closed = true;
                    break;
                }
                // Skip the quoted value.
                match memchr::memchr(b[k], &b[k + 1..]) {
                    Some(e) => j = k + 1 + e + 1,
                    None => {
                        j = b.len();
                        break;
                    }
                }
            }
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
            if !closed {
                return Ok(());
            }
            if b[j - 1] != b'/' {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(at(
                        text,
                        p,
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
            i = j + 1;
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

    #[test]
    fn depth_limit() {
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        assert_eq!(
            prescan(&deep, &Limits::default()).unwrap_err().id,
            "xml/too-deep"
        );
        let ok = format!(
            "{}<b x='>' y=\"/>\"/>{}",
            "<a>".repeat(200),
            "</a>".repeat(200)
        );
        prescan(&ok, &Limits::default()).unwrap();
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
    }

    #[test]
    fn attribute_limit() {
        let attrs: String = (0..300).map(|i| format!(" a{i}='v'")).collect();
        let text = format!("<r{attrs}/>");
        assert_eq!(
            prescan(&text, &Limits::default()).unwrap_err().id,
            "xml/too-many-attributes"
        );
    }
}
