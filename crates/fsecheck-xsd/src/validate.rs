//! Instance validation over a roxmltree document.

use crate::automaton::ElemId;
use crate::ids;
use crate::model::*;
use crate::simple::*;
use fsecheck_core::{Finding, Stage};
use roxmltree::{Attribute, Node};
use std::borrow::Cow;

/// Why a value is outside a simple type; turned into text only when reported.
pub(crate) enum Fail<'m> {
    Lexical(&'static str),
    Facet(&'m Facets, Violation),
    Item(Box<(String, Fail<'m>)>),
    Union(&'m [SimpleId]),
}

impl Model {
    /// Validates a lexical value against a simple type. `Ok` gives the value's ID role and the
    /// whitespace rule that applied; `Err` says what was violated.
    pub(crate) fn check_simple(&self, id: SimpleId, raw: &str) -> Result<(IdKind, Ws), Fail<'_>> {
        let t = &self.simple[id as usize];
        match &t.variety {
            Variety::Atomic(b) => {
                let v = normalize(raw, t.ws);
                check_builtin(*b, &v).map_err(Fail::Lexical)?;
                let numeric_base = matches!(
                    b,
                    Builtin::Decimal
                        | Builtin::Integer
                        | Builtin::NonNegativeInteger
                        | Builtin::PositiveInteger
                        | Builtin::Double
                        | Builtin::Float
                );
                for f in &t.facets {
                    let len =
                        if f.length.is_some() || f.min_length.is_some() || f.max_length.is_some() {
                            v.chars().count()
                        } else {
                            0
                        };
                    check_facets(f, &v, len, numeric_base).map_err(|e| Fail::Facet(f, e))?;
                }
                let kind = match b {
                    Builtin::Id => IdKind::Id,
                    Builtin::IdRef => IdKind::IdRef,
                    _ => IdKind::None,
                };
                Ok((kind, t.ws))
            }
            Variety::List(item) => {
                let v = normalize(raw, Ws::Collapse);
                let mut n = 0;
                let mut kind = IdKind::None;
                for tok in v.split(' ').filter(|s| !s.is_empty()) {
                    n += 1;
                    let (k, _) = self
                        .check_simple(*item, tok)
                        .map_err(|e| Fail::Item(Box::new((tok.to_string(), e))))?;
                    if k == IdKind::IdRef {
                        kind = IdKind::IdRefs;
                    }
                }
                for f in &t.facets {
                    check_facets(f, &v, n, false).map_err(|e| Fail::Facet(f, e))?;
                }
                Ok((kind, Ws::Collapse))
            }
            Variety::Union(members) => {
                let Some((kind, ws)) = members.iter().find_map(|&m| self.check_simple(m, raw).ok())
                else {
                    return Err(Fail::Union(members));
                };
                if !t.facets.is_empty() {
                    let v = normalize(raw, ws);
                    for f in &t.facets {
                        check_facets(f, &v, v.chars().count(), false)
                            .map_err(|e| Fail::Facet(f, e))?;
                    }
                }
                Ok((kind, ws))
            }
        }
    }

    pub(crate) fn describe(&self, fail: &Fail) -> String {
        match fail {
            Fail::Lexical(what) => format!("not {what}"),
            Fail::Facet(f, v) => describe_violation(f, *v),
            Fail::Item(b) => format!("item '{}': {}", b.0, self.describe(&b.1)),
            Fail::Union(members) => {
                let names: Vec<String> = members
                    .iter()
                    .take(6)
                    .map(|&m| self.type_name(TypeRef::Simple(m)))
                    .collect();
                let more = if members.len() > 6 { ", …" } else { "" };
                format!(
                    "not valid for any member of the union ({}{more})",
                    names.join(", ")
                )
            }
        }
    }
}

/// String equality that rejects most unequal names without a `memcmp` call (length and first
/// byte first); element and attribute names are short and often of equal length.
#[inline]
fn name_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

struct IdRefUse<'a, 'i> {
    value: String,
    node: Node<'a, 'i>,
    /// The attribute holding the reference; `None` for a simple-typed element's content.
    attr: Option<Attribute<'a, 'i>>,
}

pub(crate) struct Validator<'m, 'a, 'i> {
    pub model: &'m Model,
    pub source: &'m str,
    pub findings: Vec<Finding>,
    ids: FxSet<String>,
    idrefs: Vec<IdRefUse<'a, 'i>>,
    depth: u32,
}

/// Nesting depth beyond which elements are not validated (a finding says so): validation recurses,
/// and roxmltree sets no depth limit of its own. Real CDA documents stay far below (≈ 40).
pub(crate) const MAX_DEPTH: u32 = 256;

fn show_name(node: Node, ns: &str, local: &str) -> String {
    let parent_ns = node.tag_name().namespace().unwrap_or("");
    if ns == parent_ns {
        local.to_string()
    } else if ns.is_empty() {
        format!("{{}}{local}")
    } else {
        format!("{{{ns}}}{local}")
    }
}

impl<'m, 'a, 'i> Validator<'m, 'a, 'i> {
    pub fn new(model: &'m Model, source: &'m str) -> Self {
        Validator {
            model,
            source,
            findings: Vec::new(),
            ids: FxSet::default(),
            idrefs: Vec::new(),
            depth: 0,
        }
    }

    fn report(
        &mut self,
        id: &str,
        node: Node,
        span: std::ops::Range<usize>,
        msg: String,
    ) -> &mut Finding {
        let f = Finding::error(id, Stage::Xsd, msg)
            .with_span(span.start, span.end)
            .with_xpath(fsecheck_xml::node_xpath(node))
            .with_source(self.source.to_string());
        self.findings.push(f);
        self.findings.last_mut().expect("pushed")
    }

    pub fn run(&mut self, doc: &'a roxmltree::Document<'i>) {
        let root = doc.root_element();
        let ns = root.tag_name().namespace().unwrap_or("");
        let local = root.tag_name().name();
        match self
            .model
            .global_elems
            .get(&(Box::from(ns), Box::from(local)))
        {
            Some(&e) => {
                let ty = self.model.elem(e).ty;
                self.element(root, ty);
            }
            None => {
                let mut roots: Vec<String> = self
                    .model
                    .global_elems
                    .keys()
                    .filter(|(n, _)| &**n == "urn:hl7-org:v3")
                    .map(|(_, l)| l.to_string())
                    .collect();
                roots.sort();
                let msg = format!(
                    "no global declaration for the root element {}; expected one of: {}",
                    if ns.is_empty() {
                        local.to_string()
                    } else {
                        format!("{{{ns}}}{local}")
                    },
                    roots.join(", ")
                );
                self.report(ids::UNKNOWN_ROOT, root, root.range(), msg);
            }
        }
        let refs = std::mem::take(&mut self.idrefs);
        for r in refs {
            if !self.ids.contains(&r.value) {
                let (what, span) = match r.attr {
                    Some(a) => (format!("attribute '{}'", a.name()), a.range_value()),
                    None => (
                        format!("element '{}'", r.node.tag_name().name()),
                        r.node.range(),
                    ),
                };
                let msg = format!(
                    "value '{}' of {what} refers to no ID in the document",
                    r.value
                );
                self.report(ids::IDREF, r.node, span, msg)
                    .details
                    .insert("value".into(), r.value);
            }
        }
    }

    /// Resolves `xsi:type`, if any, against the declared type. `None`: reported, skip the element.
    fn effective_type(&mut self, node: Node<'a, 'i>, declared: TypeRef) -> Option<TypeRef> {
        let Some(attr) = node
            .attributes()
            .find(|a| a.namespace() == Some(XSI_NS) && a.name() == "type")
        else {
            return Some(declared);
        };
        let raw = attr
            .value()
            .trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
        let (prefix, local) = match raw.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, raw),
        };
        let span = attr.range_value();
        let ns = match node.lookup_namespace_uri(prefix) {
            Some(ns) => ns,
            None if prefix.is_some() => {
                let msg = format!(
                    "xsi:type '{raw}': prefix '{}' is not declared",
                    prefix.unwrap_or("")
                );
                self.report(ids::XSI_TYPE, node, span, msg);
                return None;
            }
            None => "",
        };
        let Some(&t) = self.model.types.get(&(Box::from(ns), Box::from(local))) else {
            let msg = format!("xsi:type '{raw}': no type {{{ns}}}{local} in the schema");
            self.report(ids::XSI_TYPE, node, span, msg);
            return None;
        };
        if declared != TypeRef::Any && !self.model.derives_from(t, declared) {
            let msg = format!(
                "xsi:type '{raw}' is not derived from the declared type {}",
                self.model.type_name(declared)
            );
            self.report(ids::XSI_TYPE, node, span, msg);
            return None;
        }
        Some(t)
    }

    fn element(&mut self, node: Node<'a, 'i>, declared: TypeRef) {
        if self.depth >= MAX_DEPTH {
            let msg = format!("element nesting deeper than {MAX_DEPTH} levels is not validated");
            self.report(ids::TOO_DEEP, node, node.range(), msg);
            return;
        }
        self.depth += 1;
        self.element_inner(node, declared);
        self.depth -= 1;
    }

    fn element_inner(&mut self, node: Node<'a, 'i>, declared: TypeRef) {
        let Some(ty) = self.effective_type(node, declared) else {
            return;
        };
        if let Some(nil) = node
            .attributes()
            .find(|a| a.namespace() == Some(XSI_NS) && a.name() == "nil")
        {
            let msg = format!(
                "element '{}' is not nillable; xsi:nil is not allowed",
                node.tag_name().name()
            );
            self.report(ids::XSI_NIL, node, nil.range(), msg);
        }
        match ty {
            TypeRef::Any => self.lax(node),
            TypeRef::Simple(s) => self.simple_element(node, s),
            TypeRef::Complex(c) => self.complex_element(node, c),
        }
    }

    /// `xs:anyType`: attributes and content are not constrained; children with a global
    /// declaration are validated against it.
    fn lax(&mut self, node: Node<'a, 'i>) {
        if node.ancestors().count() > MAX_DEPTH as usize {
            return;
        }
        for c in node.children().filter(|c| c.is_element()) {
            let key = (
                Box::from(c.tag_name().namespace().unwrap_or("")),
                Box::from(c.tag_name().name()),
            );
            match self.model.global_elems.get(&key) {
                Some(&e) => self.element(c, self.model.elem(e).ty),
                None => self.lax(c),
            }
        }
    }

    fn other_attrs_not_allowed(&mut self, node: Node<'a, 'i>) {
        for a in node.attributes() {
            if a.namespace() == Some(XSI_NS) && is_xsi_known(a.name()) {
                continue;
            }
            let msg = format!(
                "attribute '{}' is not allowed on element '{}' (simple type: no attributes)",
                a.name(),
                node.tag_name().name()
            );
            self.report(ids::UNKNOWN_ATTRIBUTE, node, a.range(), msg);
        }
    }

    fn simple_element(&mut self, node: Node<'a, 'i>, s: SimpleId) {
        self.other_attrs_not_allowed(node);
        let mut text = String::new();
        for c in node.children() {
            if c.is_element() {
                let msg = format!(
                    "element '{}' has a simple type and cannot contain elements; found: {}",
                    node.tag_name().name(),
                    c.tag_name().name()
                );
                self.report(ids::UNEXPECTED_ELEMENT, c, c.range(), msg);
                return;
            }
            if let Some(t) = c.text() {
                if c.is_text() {
                    text.push_str(t);
                }
            }
        }
        match self.model.check_simple(s, &text) {
            Ok((kind, ws)) => self.note_id(node, None, kind, &text, ws),
            Err(e) => {
                let e = self.model.describe(&e);
                let msg = format!(
                    "value '{}' of element '{}' does not match type {} ({e})",
                    text,
                    node.tag_name().name(),
                    self.model.type_name(TypeRef::Simple(s))
                );
                self.report(ids::ELEMENT_VALUE, node, node.range(), msg);
            }
        }
    }

    fn note_id(
        &mut self,
        node: Node<'a, 'i>,
        attr: Option<Attribute<'a, 'i>>,
        kind: IdKind,
        raw: &str,
        ws: Ws,
    ) {
        if kind == IdKind::None {
            return;
        }
        let v: Cow<str> = normalize(raw, ws);
        match kind {
            IdKind::Id => {
                if !self.ids.insert(v.to_string()) {
                    let span = attr.map_or(node.range(), |a| a.range_value());
                    let msg = format!("ID value '{v}' is not unique in the document");
                    self.report(ids::DUPLICATE_ID, node, span, msg)
                        .details
                        .insert("value".into(), v.to_string());
                }
            }
            IdKind::IdRef | IdKind::IdRefs => {
                for tok in v.split(' ').filter(|s| !s.is_empty()) {
                    self.idrefs.push(IdRefUse {
                        value: tok.to_string(),
                        node,
                        attr,
                    });
                }
            }
            IdKind::None => {}
        }
    }

    fn attributes(&mut self, node: Node<'a, 'i>, c: u32) {
        let ct = &self.model.complex[c as usize];
        for a in node.attributes() {
            let ns = a.namespace().unwrap_or("");
            if ns == XSI_NS && is_xsi_known(a.name()) {
                continue;
            }
            let Some(u) = ct
                .attrs
                .iter()
                .find(|u| name_eq(&u.name, a.name()) && name_eq(&u.ns, ns))
            else {
                let mut allowed: Vec<&str> = ct.attrs.iter().map(|u| &*u.name).collect();
                allowed.sort_unstable();
                let name = if ns.is_empty() {
                    a.name().to_string()
                } else {
                    format!("{{{ns}}}{}", a.name())
                };
                let msg = format!(
                    "attribute '{name}' is not allowed on element '{}'; expected one of: {}",
                    node.tag_name().name(),
                    if allowed.is_empty() {
                        "(no attributes)".to_string()
                    } else {
                        allowed.join(", ")
                    }
                );
                self.report(ids::UNKNOWN_ATTRIBUTE, node, a.range(), msg)
                    .details
                    .insert("attribute".into(), name);
                continue;
            };
            match self.model.check_simple(u.ty, a.value()) {
                Ok((kind, ws)) => {
                    if let Some(fixed) = &u.fixed {
                        let v = normalize(a.value(), ws);
                        if *v != **fixed {
                            let msg = format!(
                                "value '{}' of attribute '{}' must be the fixed value '{fixed}'",
                                a.value(),
                                a.name()
                            );
                            let f = self.report(ids::ATTRIBUTE_VALUE, node, a.range_value(), msg);
                            f.details.insert("attribute".into(), a.name().to_string());
                            f.details.insert("value".into(), a.value().to_string());
                            continue;
                        }
                    }
                    self.note_id(node, Some(a), kind, a.value(), ws);
                }
                Err(e) => {
                    let e = self.model.describe(&e);
                    let msg = format!(
                        "value '{}' of attribute '{}' does not match type {} ({e})",
                        a.value(),
                        a.name(),
                        self.model.type_name(TypeRef::Simple(u.ty))
                    );
                    let f = self.report(ids::ATTRIBUTE_VALUE, node, a.range_value(), msg);
                    f.details.insert("attribute".into(), a.name().to_string());
                    f.details.insert("value".into(), a.value().to_string());
                }
            }
        }
        let ct = &self.model.complex[c as usize];
        for u in ct.attrs.iter().filter(|u| u.required) {
            let present = node
                .attributes()
                .any(|a| a.name() == &*u.name && a.namespace().unwrap_or("") == &*u.ns);
            if !present {
                let msg = format!(
                    "element '{}' lacks the required attribute '{}'",
                    node.tag_name().name(),
                    u.name
                );
                self.report(ids::MISSING_ATTRIBUTE, node, node.range(), msg)
                    .details
                    .insert("attribute".into(), u.name.to_string());
            }
        }
    }

    fn expected(&self, node: Node, c: u32, state: u32) -> String {
        let st = &self.model.complex[c as usize].dfa.states[state as usize];
        let mut names: Vec<String> = Vec::new();
        for &(e, _) in &st.trans {
            let d = self.model.elem(e);
            let n = show_name(node, &d.ns, &d.name);
            if !names.contains(&n) {
                names.push(n);
            }
        }
        if names.is_empty() {
            "(no more elements)".into()
        } else {
            names.join(", ")
        }
    }

    fn step(&self, c: u32, state: u32, ns: &str, local: &str) -> Option<(ElemId, u32)> {
        let st = &self.model.complex[c as usize].dfa.states[state as usize];
        st.trans.iter().copied().find(|&(e, _)| {
            let d = self.model.elem(e);
            name_eq(&d.name, local) && name_eq(&d.ns, ns)
        })
    }

    fn complex_element(&mut self, node: Node<'a, 'i>, c: u32) {
        let model = self.model;
        let ct = &model.complex[c as usize];
        if ct.is_abstract {
            let msg = format!(
                "type {} of element '{}' is abstract; use xsi:type with a concrete derived type",
                ct.name,
                node.tag_name().name()
            );
            self.report(ids::ABSTRACT_TYPE, node, node.range(), msg);
            return;
        }
        self.attributes(node, c);
        let mut state = 0u32;
        let mut broken = false;
        let mut text_reported = false;
        for child in node.children() {
            if child.is_text() {
                let t = child.text().unwrap_or("");
                // Empty content admits no character children at all, not even whitespace
                // (cvc-complex-type.2.1); element-only content admits whitespace.
                let empty = ct.empty && !ct.mixed;
                if !ct.mixed && !text_reported && (empty || !is_blank(t)) {
                    text_reported = true;
                    let what = if empty {
                        "empty content"
                    } else {
                        "element-only content"
                    };
                    let msg = format!(
                        "element '{}' has {what}; text is not allowed: '{}'",
                        node.tag_name().name(),
                        t.trim().chars().take(40).collect::<String>()
                    );
                    self.report(ids::TEXT_NOT_ALLOWED, node, child.range(), msg);
                }
                continue;
            }
            if !child.is_element() {
                continue;
            }
            let ns = child.tag_name().namespace().unwrap_or("");
            let local = child.tag_name().name();
            if let Some((e, t)) = self.step(c, state, ns, local) {
                state = t;
                self.element(child, model.elem(e).ty);
                continue;
            }
            // Unexpected: report, then resynchronise.
            let expected = self.expected(node, c, state);
            let found = show_name(node, ns, local);
            broken = true;
            let forward = ct
                .dfa
                .reachable(state)
                .into_iter()
                .find_map(|s| self.step(c, s, ns, local));
            let (id, msg) = if forward.is_some() {
                (ids::MISSING_ELEMENT, format!("missing element before '{found}': expected one of: {expected}; found: {found}"))
            } else {
                (
                    ids::UNEXPECTED_ELEMENT,
                    format!("unexpected element: expected one of: {expected}; found: {found}"),
                )
            };
            let f = self.report(id, child, child.range(), msg);
            f.details.insert("found".into(), found);
            f.details.insert("expected".into(), expected);
            if let Some((e, t)) = forward {
                state = t;
                self.element(child, model.elem(e).ty);
            } else if let Some((e, _)) =
                (0..ct.dfa.states.len() as u32).find_map(|s| self.step(c, s, ns, local))
            {
                // Known in this content model but out of order: validate it, keep the state.
                self.element(child, model.elem(e).ty);
            }
        }
        if !broken && !ct.dfa.states[state as usize].accept {
            let expected = self.expected(node, c, state);
            let msg = format!(
                "element '{}' is incomplete: expected one of: {expected}; found: end of element",
                node.tag_name().name()
            );
            self.report(ids::MISSING_ELEMENT, node, node.range(), msg)
                .details
                .insert("expected".into(), expected);
        }
    }
}

fn is_xsi_known(name: &str) -> bool {
    matches!(
        name,
        "type" | "nil" | "schemaLocation" | "noNamespaceSchemaLocation"
    )
}
