//! A native XPath 2.0 **subset** over [`roxmltree`], built for the FSE 2.0 schematrons.
//!
//! The subset is exactly what the catalog and gateway-validator schematrons use, plus a few cheap
//! functions; anything else is a [`CompileError`] with a byte position — never a silent `false`.
//!
//! Semantics follow XPath 2.0 without backwards-compatibility mode (what Saxon-HE runs for the
//! ISO skeleton with `queryBinding="xslt2"`):
//! * general comparisons are existential, with `xs:untypedAtomic` (attribute and element values)
//!   cast to `xs:double` against numbers and compared as **strings** against strings or other
//!   untyped values; an untyped value that is not a valid double raises `FORG0001`;
//! * effective boolean value raises `FORG0006` on a sequence of several atomic values;
//! * `string()`, `number()`, `name()`… on more than one item raise `XPTY0004`;
//! * unprefixed element names mean *no namespace* (there is no default element namespace).
//!
//! ```
//! use fsecheck_xpath::{StaticContext, XPath, Variables};
//! let mut sc = StaticContext::new();
//! sc.add_namespace("hl7", "urn:hl7-org:v3");
//! let xp = XPath::compile("count(hl7:a[@v = 1]) = 2", &sc).unwrap();
//! let doc = roxmltree::Document::parse(
//!     r#"<r xmlns="urn:hl7-org:v3"><a v="1"/><a v="1.0"/><a v="2"/></r>"#).unwrap();
//! let vars = Variables::new(sc.slot_count());
//! assert!(xp.evaluate_bool(doc.root_element(), &vars).unwrap());
//! ```

mod eval;
mod index;
mod lexer;
mod parser;
mod pattern;
mod regex_xsd;
mod value;

pub use eval::Variables;
pub use index::{intern_element_name, DocIndex};
pub use pattern::{Pattern, PatternMemo};
pub use regex_xsd::translate_regex;
pub use value::{format_double, Atom, Item, Sequence};

use std::collections::HashMap;
use std::fmt;

/// A static (compile-time) error: syntax, unknown function or prefix, construct outside the
/// subset. `pos` is a byte offset into the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub pos: usize,
    /// XPath error code when there is one (`XPST0003`, `XPST0017`, `XPST0081`, `XPST0008`…).
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}: {}", self.code, self.pos, self.message)
    }
}

impl std::error::Error for CompileError {}

/// A dynamic (evaluation-time) error. Saxon aborts the whole transformation on these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicError {
    /// `FORG0001`, `FORG0006`, `XPTY0004`, `XPTY0018`, `XPTY0019`, `FORX0001`, `FORX0002`…
    pub code: &'static str,
    pub message: String,
}

impl DynamicError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        DynamicError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for DynamicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for DynamicError {}

/// In-scope namespaces and variables for compiling expressions.
///
/// Variables are bound to numbered *slots*: [`StaticContext::bind_variable`] always allocates a new
/// slot, so a later binding of the same name shadows the earlier one for expressions compiled
/// afterwards (XSLT 2.0 local variable semantics), while already compiled expressions keep theirs.
#[derive(Debug, Clone, Default)]
pub struct StaticContext {
    namespaces: HashMap<String, String>,
    vars: Vec<(String, usize)>,
    next_slot: usize,
}

impl StaticContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declare `prefix` → `uri` (the schematron's `<ns>`).
    pub fn add_namespace(&mut self, prefix: &str, uri: &str) {
        self.namespaces.insert(prefix.to_string(), uri.to_string());
    }

    pub fn namespace(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some("http://www.w3.org/XML/1998/namespace");
        }
        self.namespaces.get(prefix).map(|s| s.as_str())
    }

    /// Bind `name` (without `$`) to a fresh slot and return the slot.
    pub fn bind_variable(&mut self, name: &str) -> usize {
        let slot = self.next_slot;
        self.next_slot += 1;
        self.vars.push((name.to_string(), slot));
        slot
    }

    /// The slot `$name` currently refers to (the latest binding).
    pub fn variable(&self, name: &str) -> Option<usize> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, s)| *s)
    }

    /// Number of slots allocated so far: size a [`Variables`] with at least this many.
    pub fn slot_count(&self) -> usize {
        self.next_slot
    }

    /// Make this context allocate slots from `next` on (used when scopes are cloned and the
    /// slot space must stay unique across them).
    pub fn set_next_slot(&mut self, next: usize) {
        self.next_slot = self.next_slot.max(next);
    }
}

/// A compiled XPath expression. Immutable, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct XPath {
    source: String,
    expr: eval::Expr,
}

impl XPath {
    /// Compile `source` against `ctx`. Anything outside the supported subset is an error.
    pub fn compile(source: &str, ctx: &StaticContext) -> Result<XPath, CompileError> {
        let expr = parser::parse_expr(source, ctx)?;
        Ok(XPath {
            source: source.to_string(),
            expr,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluate with `node` as the context item.
    pub fn evaluate<'a, 'i>(
        &'a self,
        node: roxmltree::Node<'a, 'i>,
        vars: &Variables<'a, 'i>,
    ) -> Result<Sequence<'a, 'i>, DynamicError> {
        eval::eval(&self.expr, &Item::Node(node), vars)
    }

    /// Evaluate with an arbitrary context item.
    pub fn evaluate_item<'a, 'i>(
        &'a self,
        item: &Item<'a, 'i>,
        vars: &Variables<'a, 'i>,
    ) -> Result<Sequence<'a, 'i>, DynamicError> {
        eval::eval(&self.expr, item, vars)
    }

    /// Effective boolean value of the result (`FORG0006` on several atomic values).
    pub fn evaluate_bool<'a, 'i>(
        &'a self,
        node: roxmltree::Node<'a, 'i>,
        vars: &Variables<'a, 'i>,
    ) -> Result<bool, DynamicError> {
        eval::eval_bool(&self.expr, &Item::Node(node), vars)
    }
}

// Compile-time guarantee: compiled expressions and patterns are shared across threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<XPath>();
    assert_send_sync::<Pattern>();
};

#[cfg(test)]
mod send_sync {
    #[test]
    fn compiled_forms_are_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::XPath>();
        check::<super::Pattern>();
    }
}
