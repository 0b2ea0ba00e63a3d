//! The location form used in findings: `/ClinicalDocument[1]/component[1]/structuredBody[1]`.

use roxmltree::Node;

/// Path of an element as local names, each step with its 1-based index among the preceding
/// siblings of the same expanded name (namespace + local name). Attributes are not elements:
/// pass their owner element. Non-element nodes get the path of their parent element.
pub fn node_xpath(node: Node<'_, '_>) -> String {
    let mut steps: Vec<(&str, usize)> = Vec::new();
    let mut cur = Some(node);
    while let Some(n) = cur {
        if n.is_element() {
            let name = n.tag_name();
            let index = 1 + n
                .prev_siblings()
                .skip(1)
                .filter(|s| s.is_element() && s.tag_name() == name)
                .count();
            steps.push((name.name(), index));
        }
        cur = n.parent();
    }
    let mut out = String::with_capacity(steps.len() * 16);
    for (name, index) in steps.iter().rev() {
        out.push('/');
        out.push_str(name);
        out.push('[');
        out.push_str(&index.to_string());
        out.push(']');
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_count_same_named_siblings_only() {
        let doc = roxmltree::Document::parse(
            r#"<r xmlns="urn:hl7-org:v3"><a/><b/><a><c/><c x="1"/></a></r>"#,
        )
        .unwrap();
        let c2 = doc
            .descendants()
            .find(|n| n.has_tag_name("c") && n.attribute("x").is_some())
            .unwrap();
        assert_eq!(node_xpath(c2), "/r[1]/a[2]/c[2]");
        assert_eq!(node_xpath(doc.root()), "/");
    }
}
