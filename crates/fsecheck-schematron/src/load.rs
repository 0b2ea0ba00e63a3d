//! Reading a schematron file into the compiled form. Every construct outside the supported
//! subset is a [`LoadError`] with a file position.

use crate::{
    Check, Kind, Let, LetValue, LoadError, MsgPart, PatternDef, Rule, RuleItem, Schematron,
};
use fsecheck_xpath::{CompileError, Pattern, StaticContext, XPath};
use roxmltree::{Document, Node, NodeType};
use std::collections::HashMap;

const ISO: &str = "http://purl.oclc.org/dsdl/schematron";
const XSL: &str = "http://www.w3.org/1999/XSL/Transform";

struct Loader<'d, 'i> {
    doc: &'d Document<'i>,
    name: String,
    ctx: StaticContext,
    warnings: std::cell::RefCell<Vec<String>>,
}

pub(crate) fn load(text: &str, name: &str) -> Result<Schematron, LoadError> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..Default::default()
    };
    let doc = Document::parse_with_options(text, opts).map_err(|e| {
        let p = e.pos();
        LoadError {
            file: name.to_string(),
            line: p.row,
            col: p.col,
            message: e.to_string(),
        }
    })?;
    let mut l = Loader {
        doc: &doc,
        name: name.to_string(),
        ctx: StaticContext::new(),
        warnings: Default::default(),
    };
    l.schema()
}

fn is_iso(n: Node, local: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(ISO) && n.tag_name().name() == local
}

impl Loader<'_, '_> {
    fn err_at(&self, pos: usize, msg: impl Into<String>) -> LoadError {
        let p = self.doc.text_pos_at(pos);
        LoadError {
            file: self.name.clone(),
            line: p.row,
            col: p.col,
            message: msg.into(),
        }
    }

    fn warn(&self, n: Node, msg: &str) {
        let p = self.doc.text_pos_at(n.range().start);
        self.warnings
            .borrow_mut()
            .push(format!("{}:{}:{}: {msg}", self.name, p.row, p.col));
    }

    fn err(&self, n: Node, msg: impl Into<String>) -> LoadError {
        self.err_at(n.range().start, msg)
    }

    fn attr_pos(&self, n: Node, attr: &str) -> usize {
        n.attributes()
            .find(|a| a.name() == attr && a.namespace().is_none())
            .map(|a| a.range_value().start)
            .unwrap_or(n.range().start)
    }

    fn xpath_err(&self, n: Node, attr: &str, e: CompileError) -> LoadError {
        // The offset is into the attribute value (after entity expansion: close enough).
        let start = self.attr_pos(n, attr);
        let value = n.attribute(attr).unwrap_or("");
        self.err_at(
            start + e.pos.min(value.len()),
            format!("{} in {attr}=\"{value}\": {e}", n.tag_name().name()),
        )
    }

    fn required<'n>(&self, n: Node<'n, '_>, attr: &str) -> Result<&'n str, LoadError> {
        n.attribute(attr).ok_or_else(|| {
            self.err(
                n,
                format!("<{}> requires the {attr} attribute", n.tag_name().name()),
            )
        })
    }

    fn compile(&self, n: Node, attr: &str, src: &str) -> Result<XPath, LoadError> {
        XPath::compile(src, &self.ctx).map_err(|e| self.xpath_err(n, attr, e))
    }

    fn reject_attrs(&self, n: Node, allowed: &[&str]) -> Result<(), LoadError> {
        for a in n.attributes() {
            if a.namespace().is_none() && !allowed.contains(&a.name()) {
                return Err(self.err_at(
                    a.range().start,
                    format!(
                        "attribute {} on <{}> is not supported",
                        a.name(),
                        n.tag_name().name()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn schema(&mut self) -> Result<Schematron, LoadError> {
        let root = self.doc.root_element();
        if !is_iso(root, "schema") {
            return Err(self.err(root, "the root element is not an ISO Schematron <schema>"));
        }
        if let Some(qb) = root.attribute("queryBinding") {
            if !matches!(qb, "xslt2" | "xpath2" | "xslt3") {
                return Err(self.err(
                    root,
                    format!("queryBinding '{qb}' is not supported (xslt2 expected)"),
                ));
            }
        }
        self.reject_attrs(
            root,
            &[
                "queryBinding",
                "schemaVersion",
                "defaultPhase",
                "id",
                "see",
                "icon",
                "fpi",
            ],
        )?;
        // Namespaces first: <ns> applies to the whole schema.
        for c in root.children().filter(|c| is_iso(*c, "ns")) {
            let prefix = self.required(c, "prefix")?;
            let uri = self.required(c, "uri")?;
            self.ctx.add_namespace(prefix, uri);
        }
        let mut title = String::new();
        // First pass: schema- and pattern-level lets are global variables (XSLT top-level
        // xsl:variable), visible to every rule wherever they are declared; bind them all first,
        // in document order.
        let mut globals = Vec::new();
        for c in root.children().filter(|c| c.is_element()) {
            if is_iso(c, "let") {
                globals.push(self.let_(c)?);
            } else if is_iso(c, "pattern") {
                for l in c.children().filter(|x| is_iso(*x, "let")) {
                    globals.push(self.let_(l)?);
                }
            }
        }
        let mut patterns = Vec::new();
        for c in root.children() {
            match c.node_type() {
                NodeType::Element => {}
                NodeType::Text if c.text().unwrap_or("").trim().is_empty() => continue,
                NodeType::Comment | NodeType::PI => continue,
                _ => {
                    // The ISO skeleton ignores stray text here (schematron_Lettera_VACC_v1.4 has a
                    // stray '>' in a rule); keep a load warning instead of failing.
                    self.warn(c, "stray text in <schema> ignored");
                    continue;
                }
            }
            if c.tag_name().namespace() != Some(ISO) {
                return Err(self.err(
                    c,
                    format!("element {:?} is not supported in <schema>", c.tag_name()),
                ));
            }
            match c.tag_name().name() {
                "ns" => {}
                "title" => title = crate::normalize_ws(&text_content(c)),
                "p" => {}
                "let" => {} // compiled in the first pass
                "pattern" => patterns.push(self.pattern(c)?),
                other => {
                    return Err(self.err(
                        c,
                        format!("<{other}> is not supported by fsecheck-schematron"),
                    ))
                }
            }
        }
        if patterns.is_empty() {
            return Err(self.err(root, "the schema has no <pattern>"));
        }
        let version_label = version_label(self.doc, &title);
        Ok(Schematron {
            file_name: self.name.clone(),
            title,
            version_label,
            globals,
            patterns,
            slot_count: self.ctx.slot_count(),
            warnings: self.warnings.take(),
        })
    }

    fn let_(&mut self, n: Node) -> Result<Let, LoadError> {
        self.reject_attrs(n, &["name", "value"])?;
        let name = self.required(n, "name")?;
        let value = match n.attribute("value") {
            Some(v) => {
                if n.children().any(|c| c.is_element()) {
                    return Err(self.err(n, "<let> with both @value and content"));
                }
                LetValue::XPath(self.compile(n, "value", v)?)
            }
            None => self.xslt_let(n)?,
        };
        // Bind after compiling the value: the value cannot see its own variable.
        let slot = self.ctx.bind_variable(name);
        Ok(Let { slot, value })
    }

    /// The one XSLT idiom the catalogs use inside `<let>`:
    /// `<xsl:for-each select=S><xsl:value-of select=V/></xsl:for-each>`.
    fn xslt_let(&self, n: Node) -> Result<LetValue, LoadError> {
        let elems: Vec<Node> = n.children().filter(|c| c.is_element()).collect();
        if n.children()
            .any(|c| c.is_text() && !c.text().unwrap_or("").trim().is_empty())
        {
            return Err(self.err(n, "<let> with text content is not supported"));
        }
        let [fe] = elems.as_slice() else {
            return Err(self.err(n, "<let> needs @value or exactly one xsl:for-each"));
        };
        if fe.tag_name().namespace() != Some(XSL) || fe.tag_name().name() != "for-each" {
            return Err(self.err(
                *fe,
                "only <xsl:for-each><xsl:value-of/></xsl:for-each> is supported inside <let>",
            ));
        }
        self.reject_attrs(*fe, &["select"])?;
        let select = self.compile(*fe, "select", self.required(*fe, "select")?)?;
        let inner: Vec<Node> = fe.children().filter(|c| c.is_element()).collect();
        if fe
            .children()
            .any(|c| c.is_text() && !c.text().unwrap_or("").trim().is_empty())
        {
            return Err(self.err(*fe, "text inside xsl:for-each is not supported"));
        }
        let [vo] = inner.as_slice() else {
            return Err(self.err(*fe, "xsl:for-each must contain exactly one xsl:value-of"));
        };
        if vo.tag_name().namespace() != Some(XSL) || vo.tag_name().name() != "value-of" {
            return Err(self.err(*vo, "only xsl:value-of is supported inside xsl:for-each"));
        }
        self.reject_attrs(*vo, &["select"])?;
        if vo.has_children() {
            return Err(self.err(*vo, "xsl:value-of with content is not supported"));
        }
        let value_of = self.compile(*vo, "select", self.required(*vo, "select")?)?;
        Ok(LetValue::ForEach { select, value_of })
    }

    fn pattern(&mut self, p: Node) -> Result<PatternDef, LoadError> {
        self.reject_attrs(p, &["id", "see", "icon", "fpi"])?;
        let mut rules = Vec::new();
        for c in p.children() {
            match c.node_type() {
                NodeType::Element => {}
                NodeType::Text if c.text().unwrap_or("").trim().is_empty() => continue,
                NodeType::Comment | NodeType::PI => continue,
                _ => {
                    // The ISO skeleton ignores stray text here (schematron_Lettera_VACC_v1.4 has a
                    // stray '>' in a rule); keep a load warning instead of failing.
                    self.warn(c, "stray text in <pattern> ignored");
                    continue;
                }
            }
            if c.tag_name().namespace() != Some(ISO) {
                return Err(self.err(c, "foreign element in <pattern> is not supported"));
            }
            match c.tag_name().name() {
                "let" => {} // already bound as a global
                "title" | "p" => {}
                "rule" => rules.push(self.rule(c)?),
                other => {
                    return Err(self.err(c, format!("<{other}> in <pattern> is not supported")))
                }
            }
        }
        let mut def = PatternDef {
            rules,
            by_name: HashMap::new(),
            wildcard: Vec::new(),
            by_id: Vec::new(),
            lists: Vec::new(),
        };
        def.build_index();
        Ok(def)
    }

    fn rule(&mut self, r: Node) -> Result<Rule, LoadError> {
        self.reject_attrs(r, &["context", "id", "role", "flag", "see", "icon", "fpi"])?;
        let context = self.required(r, "context")?;
        let pattern =
            Pattern::compile(context, &self.ctx).map_err(|e| self.xpath_err(r, "context", e))?;
        // Rule-level lets are scoped to this rule; slots stay unique schema-wide.
        let saved = self.ctx.clone();
        let mut items = Vec::new();
        let result = (|| {
            for c in r.children() {
                match c.node_type() {
                    NodeType::Element => {}
                    NodeType::Text if c.text().unwrap_or("").trim().is_empty() => continue,
                    NodeType::Comment | NodeType::PI => continue,
                    _ => {
                        // The ISO skeleton ignores stray text here (schematron_Lettera_VACC_v1.4 has a
                        // stray '>' in a rule); keep a load warning instead of failing.
                        self.warn(c, "stray text in <rule> ignored");
                        continue;
                    }
                }
                if c.tag_name().namespace() != Some(ISO) {
                    return Err(self.err(c, "foreign element in <rule> is not supported"));
                }
                match c.tag_name().name() {
                    "let" => items.push(RuleItem::Let(self.let_(c)?)),
                    "assert" => items.push(RuleItem::Check(self.check(c, Kind::FailedAssert)?)),
                    "report" => items.push(RuleItem::Check(self.check(c, Kind::SuccessfulReport)?)),
                    "title" | "p" => {}
                    other => {
                        return Err(self.err(c, format!("<{other}> in <rule> is not supported")))
                    }
                }
            }
            Ok(())
        })();
        let next = self.ctx.slot_count();
        self.ctx = saved;
        self.ctx.set_next_slot(next);
        result?;
        Ok(Rule {
            context: context.to_string(),
            pattern,
            items,
        })
    }

    fn check(&self, c: Node, kind: Kind) -> Result<Check, LoadError> {
        self.reject_attrs(
            c,
            &[
                "test",
                "id",
                "role",
                "flag",
                "see",
                "icon",
                "fpi",
                "subject",
                "diagnostics",
                "properties",
            ],
        )?;
        for a in ["diagnostics", "properties", "subject"] {
            if c.attribute(a).is_some() {
                return Err(self.err(c, format!("@{a} on assert/report is not supported")));
            }
        }
        let test_src = self.required(c, "test")?;
        let test = self.compile(c, "test", test_src)?;
        let mut message = Vec::new();
        self.message_parts(c, &mut message)?;
        Ok(Check {
            kind,
            test,
            message,
        })
    }

    fn message_parts(&self, n: Node, out: &mut Vec<MsgPart>) -> Result<(), LoadError> {
        for c in n.children() {
            match c.node_type() {
                NodeType::Text => out.push(MsgPart::Text(c.text().unwrap_or("").to_string())),
                NodeType::Comment | NodeType::PI => {}
                NodeType::Element => {
                    if c.tag_name().namespace() != Some(ISO) {
                        return Err(self.err(c, "foreign element in a message is not supported"));
                    }
                    match c.tag_name().name() {
                        "name" => match c.attribute("path") {
                            None => out.push(MsgPart::Name),
                            Some(p) => out.push(MsgPart::NameOf(self.compile(c, "path", p)?)),
                        },
                        "value-of" => {
                            let s = self.required(c, "select")?;
                            out.push(MsgPart::ValueOf(self.compile(c, "select", s)?));
                        }
                        "emph" | "dir" | "span" => self.message_parts(c, out)?,
                        other => {
                            return Err(
                                self.err(c, format!("<{other}> in a message is not supported"))
                            )
                        }
                    }
                }
                NodeType::Root => {}
            }
        }
        Ok(())
    }
}

fn text_content(n: Node) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

/// The version label and the title written inside a schematron file, read exactly as the loader
/// reads them (for listings that do not compile the file). `None`s when the text is not XML.
pub fn inside_version(text: &str) -> (Option<String>, Option<String>) {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let Ok(doc) = Document::parse_with_options(text, opts) else {
        return (None, None);
    };
    let title = doc
        .root_element()
        .children()
        .find(|c| is_iso(*c, "title"))
        .map(|c| crate::normalize_ws(&text_content(c)));
    (
        version_label(&doc, title.as_deref().unwrap_or("")),
        title.filter(|t| !t.is_empty()),
    )
}

/// `schematron versione: X` in a comment before the root element; else a version number at the
/// end of the title (`… V 1.2`, `… 1.1`).
fn version_label(doc: &Document, title: &str) -> Option<String> {
    for c in doc.root().children() {
        if c.is_element() {
            break;
        }
        if c.is_comment() {
            let t = c.text().unwrap_or("");
            if let Some(i) = t.to_ascii_lowercase().find("versione") {
                let rest = t[i + "versione".len()..].trim_start_matches([':', ' ', '\t']);
                let v: String = rest
                    .chars()
                    .take_while(|ch| {
                        ch.is_ascii_alphanumeric() || *ch == '.' || *ch == '-' || *ch == '_'
                    })
                    .collect();
                if !v.is_empty() {
                    return Some(v);
                }
            }
        }
    }
    let last = title.split_whitespace().last()?;
    let last = last.trim_start_matches(['v', 'V']);
    if !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit() || c == '.')
        && last.chars().next()?.is_ascii_digit()
    {
        Some(last.to_string())
    } else {
        None
    }
}
