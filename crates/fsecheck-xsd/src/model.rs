//! The compiled, immutable schema model.

use crate::automaton::{Dfa, ElemId};
use crate::simple::FxMap;
use crate::simple::{SimpleId, SimpleType};

pub(crate) const XS_NS: &str = "http://www.w3.org/2001/XMLSchema";
pub(crate) const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// A type a declaration or `xsi:type` can point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeRef {
    Simple(SimpleId),
    Complex(u32),
    /// `xs:anyType`: any attributes, any content (children validated laxly).
    Any,
}

#[derive(Debug, Clone)]
pub(crate) struct ElemDecl {
    /// Namespace, `""` for none.
    pub ns: Box<str>,
    pub name: Box<str>,
    pub ty: TypeRef,
}

#[derive(Debug, Clone)]
pub(crate) struct AttrUse {
    pub ns: Box<str>,
    pub name: Box<str>,
    pub ty: SimpleId,
    pub required: bool,
    pub prohibited: bool,
    pub fixed: Option<Box<str>>,
}

#[derive(Debug, Clone)]
pub(crate) struct ComplexType {
    pub name: Box<str>,
    /// The namespace of a named type, `""` for anonymous ones.
    pub ns: Box<str>,
    pub is_abstract: bool,
    /// `None` only for types derived directly from `xs:anyType`.
    pub base: Option<TypeRef>,
    pub mixed: bool,
    /// No element particle at all (`empty` content type, or mixed with no elements).
    pub empty: bool,
    pub dfa: Dfa,
    /// Effective attribute uses, prohibited ones removed.
    pub attrs: Vec<AttrUse>,
}

pub(crate) type QName = (Box<str>, Box<str>);

#[derive(Debug, Default)]
pub(crate) struct Model {
    pub simple: Vec<SimpleType>,
    pub complex: Vec<ComplexType>,
    pub elems: Vec<ElemDecl>,
    pub global_elems: FxMap<QName, ElemId>,
    /// Named simple and complex types, for `xsi:type`.
    pub types: FxMap<QName, TypeRef>,
}

impl Model {
    pub fn elem(&self, id: ElemId) -> &ElemDecl {
        &self.elems[id as usize]
    }

    pub fn type_name(&self, t: TypeRef) -> String {
        let (ns, name) = match t {
            TypeRef::Simple(s) => (&self.simple[s as usize].ns, &self.simple[s as usize].name),
            TypeRef::Complex(c) => (&self.complex[c as usize].ns, &self.complex[c as usize].name),
            TypeRef::Any => return "xs:anyType".into(),
        };
        match &**ns {
            "" | "urn:hl7-org:v3" => name.to_string(),
            XS_NS => format!("xs:{name}"),
            other => format!("{{{other}}}{name}"),
        }
    }

    pub fn base_of(&self, t: TypeRef) -> Option<TypeRef> {
        match t {
            TypeRef::Simple(s) => Some(match self.simple[s as usize].base {
                Some(b) => TypeRef::Simple(b),
                None => TypeRef::Any,
            }),
            TypeRef::Complex(c) => Some(self.complex[c as usize].base.unwrap_or(TypeRef::Any)),
            TypeRef::Any => None,
        }
    }

    /// Whether `t` is `base` or derived from it (by any chain of extensions and restrictions).
    pub fn derives_from(&self, mut t: TypeRef, base: TypeRef) -> bool {
        loop {
            if t == base {
                return true;
            }
            match self.base_of(t) {
                Some(b) => t = b,
                None => return false,
            }
        }
    }
}
