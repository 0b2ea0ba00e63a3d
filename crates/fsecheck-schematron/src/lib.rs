//! ISO Schematron runner with parity to the FSE 2.0 gateway (ph-schematron → ISO skeleton XSLT
//! → Saxon-HE), on top of the native XPath subset of [`fsecheck_xpath`].
//!
//! ```no_run
//! use fsecheck_schematron::Schematron;
//! let sch = Schematron::from_file("schematron_PSS_v4.0.sch".as_ref()).unwrap();
//! let text = std::fs::read_to_string("cda.xml").unwrap();
//! let doc = roxmltree::Document::parse(&text).unwrap();
//! for f in sch.findings(&doc) {
//!     println!("{} {} {}", f.id, f.location.xpath.as_deref().unwrap_or(""), f.message);
//! }
//! ```
//!
//! Semantics reproduced from the skeleton (see `docs/SCHEMATRON.md`):
//! * every pattern is one traversal of all elements in document order; within a pattern the
//!   **first rule (in file order) whose context matches** an element fires, the others are skipped;
//!   attributes are never visited;
//! * `let`s are evaluated in document order; a later `let` of the same name shadows the earlier
//!   one for the asserts that follow it; pattern- and schema-level `let`s are global, evaluated
//!   with the document node as context; a `let` whose evaluation fails only fails if it is read;
//! * messages: `<name/>` is `name(.)` as written in the instance, `<value-of select>` joins the
//!   items' string values with single spaces; the text is then whitespace-normalised;
//! * a dynamic XPath error aborts the whole validation (like Saxon): [`Schematron::validate`]
//!   returns `Err`, [`Schematron::findings`] one `sch/dynamic-error` finding.

mod load;

pub use load::inside_version;

use fsecheck_core::{Finding, Severity, Stage};
use fsecheck_xpath::{Item, Pattern, Variables, XPath};
use roxmltree::Node;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;

/// A schematron that could not be loaded: bad XML, unsupported construct or an XPath outside
/// the supported subset. `line`/`col` are 1-based positions in the schematron file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

impl std::error::Error for LoadError {}

/// A dynamic XPath error during validation. Saxon aborts the whole validation on these, so
/// there are no partial results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicError {
    /// XPath error code, e.g. `XPTY0004`, `FORG0001`, `FORG0006`.
    pub code: String,
    pub message: String,
    /// `@context` of the rule being processed.
    pub rule_context: String,
    /// The expression that raised the error.
    pub expression: String,
    /// Skeleton-format location of the context node.
    pub location: String,
}

impl fmt::Display for DynamicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (rule context '{}', expression '{}', at {})",
            self.code, self.message, self.rule_context, self.expression, self.location
        )
    }
}

impl std::error::Error for DynamicError {}

/// Failed assert or successful report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    FailedAssert,
    SuccessfulReport,
}

/// One SVRL result (`svrl:failed-assert` or `svrl:successful-report`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvrlResult {
    pub kind: Kind,
    /// Text before the first `|` of the message, trimmed (empty when there is no `|`).
    pub id: String,
    /// The rendered message, whitespace-normalised.
    pub text: String,
    /// Skeleton location: `/*:ClinicalDocument[namespace-uri()='urn:hl7-org:v3'][1]/…`.
    pub location: String,
    /// Byte range of the context element's start tag in the document text.
    pub node_range: Range<usize>,
    /// `fsecheck_xml::node_xpath` form: `/ClinicalDocument[1]/component[1]/…`.
    pub xpath: String,
    /// The rule's `@context`, verbatim.
    pub context: String,
    /// The assert/report `@test`, verbatim.
    pub test: String,
}

#[derive(Debug)]
enum LetValue {
    XPath(XPath),
    /// `<xsl:for-each select=S><xsl:value-of select=V/></xsl:for-each>`: string value of the
    /// temporary tree, i.e. the concatenation over S of V's value-of text.
    ForEach {
        select: XPath,
        value_of: XPath,
    },
}

#[derive(Debug)]
struct Let {
    slot: usize,
    value: LetValue,
}

#[derive(Debug)]
enum MsgPart {
    Text(String),
    /// `<name/>`: `name(.)`.
    Name,
    /// `<name path=…/>`.
    NameOf(XPath),
    ValueOf(XPath),
}

#[derive(Debug)]
struct Check {
    kind: Kind,
    test: XPath,
    message: Vec<MsgPart>,
}

#[derive(Debug)]
enum RuleItem {
    Let(Let),
    Check(Check),
}

#[derive(Debug)]
struct Rule {
    context: String,
    pattern: Pattern,
    items: Vec<RuleItem>,
}

/// Namespace and the candidate rule indexes (file order) for one element name.
type NsRules = (Option<String>, Vec<usize>);

#[derive(Debug)]
struct PatternDef {
    rules: Vec<Rule>,
    /// local name → [(namespace, candidate rule indexes in file order)], wildcard rules merged in.
    by_name: HashMap<String, Vec<NsRules>>,
    /// Rules that can match any element name.
    wildcard: Vec<usize>,
    /// Interned element-name id → index into `lists` (`u32::MAX`: only wildcard rules).
    by_id: Vec<u32>,
    lists: Vec<Vec<usize>>,
}

impl PatternDef {
    fn build_index(&mut self) {
        let mut named: HashMap<(Option<String>, String), Vec<usize>> = HashMap::new();
        for (i, r) in self.rules.iter().enumerate() {
            match r.pattern.element_names() {
                Some(names) => {
                    for n in names {
                        named.entry(n).or_default().push(i);
                    }
                }
                None => self.wildcard.push(i),
            }
        }
        for ((ns, local), mut idx) in named {
            idx.extend(self.wildcard.iter().copied());
            idx.sort_unstable();
            idx.dedup();
            let id = fsecheck_xpath::intern_element_name(ns.as_deref(), &local) as usize;
            if id >= self.by_id.len() {
                self.by_id.resize(id + 1, u32::MAX);
            }
            self.by_id[id] = self.lists.len() as u32;
            self.lists.push(idx.clone());
            self.by_name.entry(local).or_default().push((ns, idx));
        }
    }

    /// Candidate rules through the document index (no string hashing).
    fn candidates_indexed(&self, node: Node<'_, '_>, index: &fsecheck_xpath::DocIndex) -> &[usize] {
        match index.name_id(node) {
            Some(id) => match self.by_id.get(id as usize) {
                Some(&li) if li != u32::MAX => &self.lists[li as usize],
                _ => &self.wildcard,
            },
            None => self.candidates(node),
        }
    }

    fn candidates(&self, node: Node<'_, '_>) -> &[usize] {
        let t = node.tag_name();
        if let Some(v) = self.by_name.get(t.name()) {
            for (ns, idx) in v {
                if ns.as_deref() == t.namespace() {
                    return idx;
                }
            }
        }
        &self.wildcard
    }
}

/// A compiled schematron. Immutable and `Send + Sync`: compile once, share across threads.
#[derive(Debug)]
pub struct Schematron {
    file_name: String,
    title: String,
    version_label: Option<String>,
    globals: Vec<Let>,
    patterns: Vec<PatternDef>,
    slot_count: usize,
    warnings: Vec<String>,
}

impl Schematron {
    /// Load and compile a schematron file.
    pub fn from_file(path: &Path) -> Result<Schematron, LoadError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).map_err(|e| LoadError {
            file: name.clone(),
            line: 0,
            col: 0,
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        load::load(&text, &name)
    }

    /// Compile a schematron from its text; `name` is used as the file name in errors and
    /// findings.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str, name: &str) -> Result<Schematron, LoadError> {
        load::load(text, name)
    }

    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// `<title>`, whitespace-normalised.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The version written inside the file: the `schematron versione: X` comment before the root
    /// element if present, else a trailing version number in the title (`… V 1.2` → `1.2`).
    /// It can disagree with the catalog file name.
    pub fn version_label(&self) -> Option<&str> {
        self.version_label.as_deref()
    }

    /// Oddities tolerated while loading (as the ISO skeleton tolerates them), e.g. stray text
    /// inside a `<rule>`; `file:line:col: message`.
    pub fn load_warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Run the schematron on a parsed document. Results are in skeleton order (pattern by
    /// pattern, elements in document order, checks in rule order).
    pub fn validate(&self, doc: &roxmltree::Document) -> Result<Vec<SvrlResult>, DynamicError> {
        let index = fsecheck_xpath::DocIndex::new(doc);
        let mut vars = Variables::with_index(self.slot_count, &index);
        let root = doc.root();
        for g in &self.globals {
            let v = eval_let(&g.value, root, &vars);
            vars.set(g.slot, v);
        }
        let mut out = Vec::new();
        let mut memo = fsecheck_xpath::PatternMemo::default();
        for p in &self.patterns {
            for node in root.descendants() {
                if !node.is_element() {
                    continue;
                }
                let mut fired = None;
                for &ri in p.candidates_indexed(node, &index) {
                    let rule = &p.rules[ri];
                    let m = rule
                        .pattern
                        .matches_memo(node, &vars, &mut memo)
                        .map_err(|e| dyn_err(e, rule, rule.pattern.source(), node))?;
                    if m {
                        fired = Some(rule);
                        break;
                    }
                }
                if let Some(rule) = fired {
                    self.run_rule(rule, node, &mut vars, &mut out)?;
                }
            }
        }
        Ok(out)
    }

    /// Per-rule timing, for tuning: `(pattern index, rule @context, times fired, time in the
    /// rule body)` plus the total time spent matching contexts. With `per_item`, each let and
    /// check is also timed once more, reported with pattern index `usize::MAX` and its source.
    /// Results are discarded.
    #[doc(hidden)]
    pub fn profile(
        &self,
        doc: &roxmltree::Document,
        per_item: bool,
    ) -> (
        Vec<(usize, String, u32, std::time::Duration)>,
        std::time::Duration,
    ) {
        use std::time::{Duration, Instant};
        let index = fsecheck_xpath::DocIndex::new(doc);
        let mut vars = Variables::with_index(self.slot_count, &index);
        let root = doc.root();
        for g in &self.globals {
            let v = eval_let(&g.value, root, &vars);
            vars.set(g.slot, v);
        }
        let mut prof = Vec::new();
        let mut memo = fsecheck_xpath::PatternMemo::default();
        let mut matching = Duration::ZERO;
        let mut out = Vec::new();
        for (pi, p) in self.patterns.iter().enumerate() {
            let mut stats = vec![(0u32, Duration::ZERO); p.rules.len()];
            for node in root.descendants().filter(|n| n.is_element()) {
                let t = Instant::now();
                let fired = p.candidates(node).iter().copied().find(|&ri| {
                    p.rules[ri]
                        .pattern
                        .matches_memo(node, &vars, &mut memo)
                        .unwrap_or(false)
                });
                matching += t.elapsed();
                if let Some(ri) = fired {
                    let t = Instant::now();
                    if per_item {
                        for item in &p.rules[ri].items {
                            let t = Instant::now();
                            let label = match item {
                                RuleItem::Let(l) => {
                                    let v = eval_let(&l.value, node, &vars);
                                    vars.set(l.slot, v);
                                    "let".to_string()
                                }
                                RuleItem::Check(c) => {
                                    let _ = c.test.evaluate_bool(node, &vars);
                                    c.test.source().chars().take(100).collect()
                                }
                            };
                            prof.push((usize::MAX, label, 1, t.elapsed()));
                        }
                    }
                    let _ = self.run_rule(&p.rules[ri], node, &mut vars, &mut out);
                    stats[ri].0 += 1;
                    stats[ri].1 += t.elapsed();
                }
            }
            for (ri, (n, d)) in stats.into_iter().enumerate() {
                prof.push((pi, p.rules[ri].context.clone(), n, d));
            }
        }
        (prof, matching)
    }

    fn run_rule<'a, 'i>(
        &'a self,
        rule: &'a Rule,
        node: Node<'a, 'i>,
        vars: &mut Variables<'a, 'i>,
        out: &mut Vec<SvrlResult>,
    ) -> Result<(), DynamicError> {
        for item in &rule.items {
            match item {
                RuleItem::Let(l) => {
                    let v = eval_let(&l.value, node, vars);
                    vars.set(l.slot, v);
                }
                RuleItem::Check(c) => {
                    let t = c
                        .test
                        .evaluate_bool(node, vars)
                        .map_err(|e| dyn_err(e, rule, c.test.source(), node))?;
                    let fires = match c.kind {
                        Kind::FailedAssert => !t,
                        Kind::SuccessfulReport => t,
                    };
                    if fires {
                        let text = render(&c.message, node, vars)
                            .map_err(|(e, src)| dyn_err(e, rule, &src, node))?;
                        let id = match text.split_once('|') {
                            Some((id, _)) => id.trim().to_string(),
                            None => String::new(),
                        };
                        out.push(SvrlResult {
                            kind: c.kind,
                            id,
                            text,
                            location: skeleton_location(node),
                            node_range: start_tag_range(node),
                            xpath: fsecheck_xml::node_xpath(node),
                            context: rule.context.clone(),
                            test: c.test.source().to_string(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Run and map to findings: failed assert → error, successful report → warning,
    /// id `sch/<id>` (`sch/unnamed` when empty). A dynamic error gives one
    /// `sch/dynamic-error` finding and nothing else.
    pub fn findings(&self, doc: &roxmltree::Document) -> Vec<Finding> {
        let source = format!("{} ({})", self.file_name, self.title);
        match self.validate(doc) {
            Ok(results) => results
                .into_iter()
                .map(|r| {
                    let id = if r.id.is_empty() {
                        "sch/unnamed".to_string()
                    } else {
                        format!("sch/{}", r.id)
                    };
                    let sev = match r.kind {
                        Kind::FailedAssert => Severity::Error,
                        Kind::SuccessfulReport => Severity::Warning,
                    };
                    Finding::new(id, sev, Stage::Schematron, r.text)
                        .with_span(r.node_range.start, r.node_range.end)
                        .with_xpath(r.xpath)
                        .with_source(source.clone())
                        .with_detail("svrl_location", r.location)
                        .with_detail("test", r.test)
                        .with_detail("context", r.context)
                })
                .collect(),
            Err(e) => vec![Finding::error(
                "sch/dynamic-error",
                Stage::Schematron,
                format!(
                    "schematron validation aborted by a dynamic XPath error {}: {}",
                    e.code, e.message
                ),
            )
            .with_source(source)
            .with_detail("code", e.code)
            .with_detail("rule_context", e.rule_context)
            .with_detail("expression", e.expression)
            .with_detail("svrl_location", e.location)],
        }
    }
}

fn dyn_err(e: fsecheck_xpath::DynamicError, rule: &Rule, expr: &str, node: Node) -> DynamicError {
    DynamicError {
        code: e.code.to_string(),
        message: e.message,
        rule_context: rule.context.clone(),
        expression: expr.to_string(),
        location: skeleton_location(node),
    }
}

fn eval_let<'a, 'i>(
    v: &'a LetValue,
    node: Node<'a, 'i>,
    vars: &Variables<'a, 'i>,
) -> Result<Vec<Item<'a, 'i>>, fsecheck_xpath::DynamicError> {
    match v {
        LetValue::XPath(x) => x.evaluate(node, vars),
        LetValue::ForEach { select, value_of } => {
            let mut s = String::new();
            for it in select.evaluate(node, vars)? {
                if !it.is_node() {
                    return Err(fsecheck_xpath::DynamicError {
                        code: "XTTE1020",
                        message: "xsl:for-each over atomic values inside a let is not supported"
                            .into(),
                    });
                }
                let v = value_of.evaluate_item(&it, vars)?;
                s.push_str(&value_of_text(&v));
            }
            // The value of a variable with content is a temporary document: its typed value is
            // xs:untypedAtomic.
            Ok(vec![Item::Atom(fsecheck_xpath::Atom::Untyped(s.into()))])
        }
    }
}

/// `xsl:value-of`: string values joined with single spaces.
fn value_of_text(v: &[Item<'_, '_>]) -> String {
    let mut s = String::new();
    for (k, it) in v.iter().enumerate() {
        if k > 0 {
            s.push(' ');
        }
        s.push_str(&it.string_value());
    }
    s
}

fn render<'a, 'i>(
    parts: &'a [MsgPart],
    node: Node<'a, 'i>,
    vars: &Variables<'a, 'i>,
) -> Result<String, (fsecheck_xpath::DynamicError, String)> {
    let mut s = String::new();
    for p in parts {
        match p {
            MsgPart::Text(t) => s.push_str(t),
            MsgPart::Name => s.push_str(&element_qname(node)),
            MsgPart::NameOf(x) | MsgPart::ValueOf(x) => {
                let v = x
                    .evaluate(node, vars)
                    .map_err(|e| (e, x.source().to_string()))?;
                if let MsgPart::NameOf(_) = p {
                    // name(path): first node's lexical name
                    if let Some(Item::Node(n)) = v.first() {
                        s.push_str(&element_qname(*n));
                    }
                } else {
                    s.push_str(&value_of_text(&v));
                }
            }
        }
    }
    Ok(normalize_ws(&s))
}

/// Whitespace normalisation as `normalize-space()`: XML whitespace runs → one space, trimmed.
pub fn normalize_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for part in s.split([' ', '\t', '\r', '\n']).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// The element's lexical QName as written in the instance (`name(.)`).
fn element_qname(node: Node<'_, '_>) -> String {
    let text = node.document().input_text();
    let rest = &text[(node.range().start + 1).min(text.len())..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

/// Byte range of an element's start tag (`<a x="1">` or the whole `<a/>`).
fn start_tag_range(node: Node<'_, '_>) -> Range<usize> {
    let r = node.range();
    let text = node.document().input_text();
    let bytes = text.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = r.start;
    while i < r.end {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return r.start..i + 1,
            None => {}
        }
        i += 1;
    }
    r
}

/// The ISO skeleton (XSLT 2) location of an element:
/// `/*:a[namespace-uri()='ns'][1]/*:b[namespace-uri()='ns'][2]`, or `/name[1]` for
/// elements in no namespace. The index counts preceding siblings with the same local name
/// and namespace.
pub fn skeleton_location(node: Node<'_, '_>) -> String {
    let mut chain: Vec<Node> = node.ancestors().filter(|n| n.is_element()).collect();
    chain.reverse();
    if chain.is_empty() {
        return "/".to_string();
    }
    let mut s = String::new();
    for n in chain {
        let t = n.tag_name();
        s.push('/');
        match t.namespace() {
            None | Some("") => s.push_str(&element_qname(n)),
            Some(ns) => {
                s.push_str("*:");
                s.push_str(t.name());
                s.push_str("[namespace-uri()='");
                s.push_str(ns);
                s.push_str("']");
            }
        }
        let idx = 1 + n
            .prev_siblings()
            .skip(1)
            .filter(|p| p.is_element() && p.tag_name() == t)
            .count();
        s.push('[');
        s.push_str(&idx.to_string());
        s.push(']');
    }
    s
}

// Compile-time guarantee: one compiled schematron is shared by all worker threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Schematron>();
};

#[cfg(test)]
mod tests {
    #[test]
    fn schematron_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::Schematron>();
    }
}
