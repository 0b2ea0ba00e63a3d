//! Loading a schema set: reading `CDA.xsd` and what it includes or imports (by bare file name
//! inside the set directory, as the gateway's resolver does), then compiling the components.

use crate::automaton::{self, ElemId, Particle, Term};
use crate::model::*;
use crate::simple::*;
use crate::SchemaError;
use regex::Regex;
use roxmltree::{Document, Node, NodeId};
use std::path::Path;
use std::sync::Arc;

/// One schema document as used in one target namespace (a chameleon include of a document
/// without `targetNamespace` takes the includer's).
struct Inst {
    file: usize,
    tns: Box<str>,
    chameleon: bool,
    qualified_elems: bool,
    qualified_attrs: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Simple,
    Complex,
    Element,
    Group,
    AttrGroup,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Progress {
    Reserved,
    Busy,
    Done,
}

struct Loader<'a, 'i> {
    files: &'a [(String, String)],
    docs: &'a [Option<Document<'i>>],
    insts: Vec<Inst>,
    defs: FxMap<(Kind, QName), (usize, NodeId)>,
    model: Model,
    simple_ids: FxMap<QName, SimpleId>,
    simple_busy: FxSet<QName>,
    complex_ids: FxMap<QName, u32>,
    complex_state: Vec<Progress>,
    complex_src: Vec<(usize, NodeId)>,
    /// Particles of compiled complex types (needed by extensions).
    particles: Vec<Option<Particle>>,
    builtins: FxMap<&'static str, SimpleId>,
    /// Compiled patterns by XSD source (chameleon copies share them).
    regexes: FxMap<String, Regex>,
}

fn err(
    files: &[(String, String)],
    docs: &[Option<Document>],
    file: usize,
    node: Option<Node>,
    msg: impl Into<String>,
) -> SchemaError {
    let (line, col) = match (node, &docs[file]) {
        (Some(n), Some(d)) => {
            let p = d.text_pos_at(n.range().start);
            (p.row, p.col)
        }
        _ => (0, 0),
    };
    SchemaError {
        file: files[file].0.clone(),
        line,
        col,
        message: msg.into(),
    }
}

fn bare_name(loc: &str) -> &str {
    loc.rsplit(['/', '\\']).next().unwrap_or(loc)
}

fn is_xs(n: &Node, name: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(XS_NS) && n.tag_name().name() == name
}

fn xs_children<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children()
        .filter(|c| c.is_element() && !is_xs(c, "annotation"))
}

pub(crate) fn load_model(dir: &Path) -> Result<Model, SchemaError> {
    let root_file = "CDA.xsd";
    let mut files: Vec<(String, String)> = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| SchemaError {
        file: dir.display().to_string(),
        line: 0,
        col: 0,
        message: format!("cannot read schema directory: {e}"),
    })?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".xsd") {
            let text = std::fs::read_to_string(e.path()).map_err(|x| SchemaError {
                file: name.clone(),
                line: 0,
                col: 0,
                message: format!("cannot read: {x}"),
            })?;
            files.push((name, text));
        }
    }
    files.sort();
    let Some(root) = files.iter().position(|(n, _)| n == root_file) else {
        return Err(SchemaError {
            file: dir.join(root_file).display().to_string(),
            line: 0,
            col: 0,
            message: "root schema CDA.xsd not found".into(),
        });
    };
    // Parse only the documents reachable from CDA.xsd.
    let mut needed = vec![false; files.len()];
    let mut docs: Vec<Option<Document>> = Vec::new();
    docs.resize_with(files.len(), || None);
    let mut queue = vec![root];
    needed[root] = true;
    while let Some(f) = queue.pop() {
        let opts = roxmltree::ParsingOptions {
            allow_dtd: false,
            ..Default::default()
        };
        let doc = Document::parse_with_options(&files[f].1, opts).map_err(|e| {
            let p = e.pos();
            SchemaError {
                file: files[f].0.clone(),
                line: p.row,
                col: p.col,
                message: e.to_string(),
            }
        })?;
        for c in doc.root_element().children() {
            if is_xs(&c, "include") || is_xs(&c, "import") || is_xs(&c, "redefine") {
                let loc = c.attribute("schemaLocation").ok_or_else(|| SchemaError {
                    file: files[f].0.clone(),
                    line: 0,
                    col: 0,
                    message: "include/import without schemaLocation".into(),
                })?;
                let name = bare_name(loc);
                let Some(g) = files.iter().position(|(n, _)| n == name) else {
                    let p = doc.text_pos_at(c.range().start);
                    return Err(SchemaError {
                        file: files[f].0.clone(),
                        line: p.row,
                        col: p.col,
                        message: format!("schema document '{name}' not found in the set directory"),
                    });
                };
                if !needed[g] {
                    needed[g] = true;
                    queue.push(g);
                }
            }
        }
        docs[f] = Some(doc);
    }
    let mut l = Loader {
        files: &files,
        docs: &docs,
        insts: Vec::new(),
        defs: FxMap::default(),
        model: Model::default(),
        simple_ids: FxMap::default(),
        simple_busy: FxSet::default(),
        complex_ids: FxMap::default(),
        complex_state: Vec::new(),
        complex_src: Vec::new(),
        particles: Vec::new(),
        builtins: FxMap::default(),
        regexes: FxMap::default(),
    };
    l.register_builtins();
    l.discover(root)?;
    l.collect()?;
    l.compile_all()?;
    Ok(l.model)
}

impl<'a, 'i> Loader<'a, 'i> {
    fn doc(&self, file: usize) -> &'a Document<'i> {
        self.docs[file].as_ref().expect("parsed")
    }

    fn error(&self, inst: usize, node: Node, msg: impl Into<String>) -> SchemaError {
        err(
            self.files,
            self.docs,
            self.insts[inst].file,
            Some(node),
            msg,
        )
    }

    fn register_builtins(&mut self) {
        use Builtin::*;
        // (name, base, variety builtin)
        let atomic: &[(&'static str, Option<&'static str>, Builtin)] = &[
            ("anySimpleType", None, AnySimple),
            ("string", Some("anySimpleType"), String),
            ("normalizedString", Some("string"), NormalizedString),
            ("token", Some("normalizedString"), Token),
            ("language", Some("token"), Language),
            ("NMTOKEN", Some("token"), NmToken),
            ("Name", Some("token"), Name),
            ("NCName", Some("Name"), NcName),
            ("ID", Some("NCName"), Id),
            ("IDREF", Some("NCName"), IdRef),
            ("boolean", Some("anySimpleType"), Boolean),
            ("decimal", Some("anySimpleType"), Decimal),
            ("integer", Some("decimal"), Integer),
            ("nonNegativeInteger", Some("integer"), NonNegativeInteger),
            (
                "positiveInteger",
                Some("nonNegativeInteger"),
                PositiveInteger,
            ),
            ("double", Some("anySimpleType"), Double),
            ("float", Some("anySimpleType"), Float),
            ("base64Binary", Some("anySimpleType"), Base64Binary),
            ("hexBinary", Some("anySimpleType"), HexBinary),
            ("anyURI", Some("anySimpleType"), AnyUri),
        ];
        for &(name, base, b) in atomic {
            let base = base.map(|n| self.builtins[n]);
            let id = self.push_simple(SimpleType {
                name: name.into(),
                ns: XS_NS.into(),
                base,
                variety: Variety::Atomic(b),
                ws: builtin_ws(b),
                facets: Vec::new(),
            });
            self.builtins.insert(name, id);
        }
        for (name, item) in [("NMTOKENS", "NMTOKEN"), ("IDREFS", "IDREF")] {
            let facets = vec![Arc::new(Facets {
                min_length: Some(1),
                ..Default::default()
            })];
            let id = self.push_simple(SimpleType {
                name: name.into(),
                ns: XS_NS.into(),
                base: Some(self.builtins["anySimpleType"]),
                variety: Variety::List(self.builtins[item]),
                ws: Ws::Collapse,
                facets,
            });
            self.builtins.insert(name, id);
        }
        for (&name, &id) in &self.builtins {
            self.model
                .types
                .insert((XS_NS.into(), name.into()), TypeRef::Simple(id));
        }
    }

    fn push_simple(&mut self, t: SimpleType) -> SimpleId {
        self.model.simple.push(t);
        self.model.simple.len() as SimpleId - 1
    }

    fn discover(&mut self, root: usize) -> Result<(), SchemaError> {
        let mut seen: FxSet<(usize, Box<str>)> = FxSet::default();
        let tns: Box<str> = self
            .doc(root)
            .root_element()
            .attribute("targetNamespace")
            .unwrap_or("")
            .into();
        let mut queue = vec![(root, tns, false)];
        while let Some((file, tns, chameleon)) = queue.pop() {
            if !seen.insert((file, tns.clone())) {
                continue;
            }
            let schema = self.doc(file).root_element();
            if !is_xs(&schema, "schema") {
                return Err(err(
                    self.files,
                    self.docs,
                    file,
                    Some(schema),
                    "root element is not xs:schema",
                ));
            }
            for a in schema.attributes().filter(|a| a.namespace().is_none()) {
                let supported = match a.name() {
                    "targetNamespace" | "version" | "id" => true,
                    "elementFormDefault" | "attributeFormDefault" => {
                        matches!(a.value(), "qualified" | "unqualified")
                    }
                    _ => false,
                };
                if !supported {
                    return Err(err(
                        self.files,
                        self.docs,
                        file,
                        Some(schema),
                        format!(
                            "unsupported xs:schema attribute {}=\"{}\"",
                            a.name(),
                            a.value()
                        ),
                    ));
                }
            }
            let inst = self.insts.len();
            self.insts.push(Inst {
                file,
                tns: tns.clone(),
                chameleon,
                qualified_elems: schema.attribute("elementFormDefault") == Some("qualified"),
                qualified_attrs: schema.attribute("attributeFormDefault") == Some("qualified"),
            });
            for c in schema.children().filter(|c| c.is_element()) {
                let is_inc = is_xs(&c, "include");
                let is_imp = is_xs(&c, "import");
                if is_xs(&c, "redefine") {
                    return Err(self.error(inst, c, "xs:redefine is not supported"));
                }
                if !is_inc && !is_imp {
                    continue;
                }
                let name = bare_name(c.attribute("schemaLocation").unwrap_or_default());
                let g = self
                    .files
                    .iter()
                    .position(|(n, _)| n == name)
                    .expect("discovered");
                let their: Option<&str> = self.doc(g).root_element().attribute("targetNamespace");
                if is_inc {
                    match their {
                        None => queue.push((g, tns.clone(), true)),
                        Some(t) if *t == *tns => queue.push((g, tns.clone(), false)),
                        Some(t) => {
                            return Err(self.error(
                                inst,
                                c,
                                format!(
                                    "included '{name}' has targetNamespace '{t}', expected '{tns}'"
                                ),
                            ))
                        }
                    }
                } else {
                    let want = c.attribute("namespace").unwrap_or("");
                    if their.unwrap_or("") != want {
                        return Err(self.error(
                            inst,
                            c,
                            format!(
                                "imported '{name}' has targetNamespace '{}', expected '{want}'",
                                their.unwrap_or("")
                            ),
                        ));
                    }
                    queue.push((g, want.into(), false));
                }
            }
        }
        Ok(())
    }

    fn collect(&mut self) -> Result<(), SchemaError> {
        for inst in 0..self.insts.len() {
            let schema = self.doc(self.insts[inst].file).root_element();
            for c in xs_children(schema) {
                let kind = match c.tag_name().name() {
                    "include" | "import" => continue,
                    "simpleType" => Kind::Simple,
                    "complexType" => Kind::Complex,
                    "element" => Kind::Element,
                    "group" => Kind::Group,
                    "attributeGroup" => Kind::AttrGroup,
                    other => {
                        return Err(self.error(
                            inst,
                            c,
                            format!("unsupported top-level xs:{other}"),
                        ))
                    }
                };
                let Some(name) = c.attribute("name") else {
                    return Err(self.error(inst, c, "global component without a name"));
                };
                let key = (kind, (self.insts[inst].tns.clone(), Box::from(name)));
                if let Some(&(other, _)) = self.defs.get(&key) {
                    if other != inst {
                        return Err(self.error(inst, c, format!("'{name}' is defined twice")));
                    }
                }
                self.defs.insert(key, (inst, c.id()));
            }
        }
        Ok(())
    }

    fn node(&self, inst: usize, id: NodeId) -> Node<'a, 'i> {
        self.doc(self.insts[inst].file).get_node(id).expect("node")
    }

    /// Resolves a QName-valued attribute of a schema element.
    fn qname(&self, inst: usize, n: Node, value: &str) -> Result<QName, SchemaError> {
        let (prefix, local) = match value.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, value),
        };
        let ns = match n.lookup_namespace_uri(prefix) {
            Some(ns) => ns,
            None if prefix.is_some() => {
                return Err(self.error(inst, n, format!("undeclared prefix in '{value}'")));
            }
            None => "",
        };
        let ns = if ns.is_empty() && self.insts[inst].chameleon {
            &*self.insts[inst].tns
        } else {
            ns
        };
        Ok((ns.into(), local.into()))
    }

    fn compile_all(&mut self) -> Result<(), SchemaError> {
        let mut defs: Vec<((Kind, QName), (usize, NodeId))> =
            self.defs.iter().map(|(k, v)| (k.clone(), *v)).collect();
        defs.sort_by(|a, b| a.0 .1.cmp(&b.0 .1));
        let simple = defs.iter().filter(|d| d.0 .0 == Kind::Simple).count();
        let complex = defs.iter().filter(|d| d.0 .0 == Kind::Complex).count();
        self.simple_ids.reserve(simple);
        self.model.types.reserve(simple + complex);
        self.complex_ids.reserve(complex);
        for ((kind, q), (inst, id)) in defs {
            let n = self.node(inst, id);
            match kind {
                Kind::Simple => {
                    self.simple_named(&q, inst, n)?;
                }
                Kind::Complex => {
                    let c = self.complex_named(&q);
                    self.complex_body(c)?;
                }
                Kind::Element => {
                    self.global_elem(&q, inst, n)?;
                }
                Kind::Group | Kind::AttrGroup => {}
            }
        }
        // Named types were compiled above, anonymous ones where they were declared; groups and
        // attribute groups are compiled where they are referenced (unreferenced ones are not).
        debug_assert!(self.complex_state.iter().all(|&p| p == Progress::Done));
        Ok(())
    }

    fn lookup(&self, kind: Kind, q: &QName) -> Option<(usize, NodeId)> {
        self.defs.get(&(kind, q.clone())).copied()
    }

    fn resolve_type(&mut self, inst: usize, n: Node, value: &str) -> Result<TypeRef, SchemaError> {
        let q = self.qname(inst, n, value)?;
        if &*q.0 == XS_NS {
            if &*q.1 == "anyType" {
                return Ok(TypeRef::Any);
            }
            return match self.builtins.get(&*q.1) {
                Some(&id) => Ok(TypeRef::Simple(id)),
                None => Err(self.error(inst, n, format!("unsupported built-in type xs:{}", q.1))),
            };
        }
        if let Some((i, id)) = self.lookup(Kind::Simple, &q) {
            let def = self.node(i, id);
            return Ok(TypeRef::Simple(self.simple_named(&q, i, def)?));
        }
        if self.lookup(Kind::Complex, &q).is_some() {
            return Ok(TypeRef::Complex(self.complex_named(&q)));
        }
        Err(self.error(inst, n, format!("type '{{{}}}{}' not found", q.0, q.1)))
    }

    fn resolve_simple(
        &mut self,
        inst: usize,
        n: Node,
        value: &str,
    ) -> Result<SimpleId, SchemaError> {
        match self.resolve_type(inst, n, value)? {
            TypeRef::Simple(s) => Ok(s),
            _ => Err(self.error(inst, n, format!("'{value}' is not a simple type"))),
        }
    }

    // ---------------------------------------------------------------- simple types

    fn simple_named(&mut self, q: &QName, inst: usize, n: Node) -> Result<SimpleId, SchemaError> {
        if let Some(&id) = self.simple_ids.get(q) {
            return Ok(id);
        }
        if !self.simple_busy.insert(q.clone()) {
            return Err(self.error(
                inst,
                n,
                format!("circular definition of simple type '{}'", q.1),
            ));
        }
        let id = self.simple_def(inst, n, q.1.clone(), q.0.clone())?;
        self.simple_busy.remove(q);
        self.simple_ids.insert(q.clone(), id);
        self.model.types.insert(q.clone(), TypeRef::Simple(id));
        Ok(id)
    }

    fn simple_def(
        &mut self,
        inst: usize,
        n: Node,
        name: Box<str>,
        ns: Box<str>,
    ) -> Result<SimpleId, SchemaError> {
        for a in n.attributes() {
            if !matches!(a.name(), "name" | "id") && a.namespace().is_none() {
                return Err(self.error(
                    inst,
                    n,
                    format!("unsupported attribute '{}' on xs:simpleType", a.name()),
                ));
            }
        }
        let mut kids = xs_children(n);
        let Some(d) = kids.next() else {
            return Err(self.error(inst, n, "empty xs:simpleType"));
        };
        if kids.next().is_some() {
            return Err(self.error(inst, n, "xs:simpleType with more than one derivation"));
        }
        let any_simple = self.builtins["anySimpleType"];
        let t = match d.tag_name().name() {
            "restriction" => {
                let mut facet_nodes = Vec::new();
                let mut base = match d.attribute("base") {
                    Some(b) => Some(self.resolve_simple(inst, d, b)?),
                    None => None,
                };
                for c in xs_children(d) {
                    if is_xs(&c, "simpleType") {
                        if base.is_some() {
                            return Err(self.error(
                                inst,
                                c,
                                "restriction with both base and an anonymous type",
                            ));
                        }
                        base = Some(self.simple_def(inst, c, "anonymous".into(), "".into())?);
                    } else {
                        facet_nodes.push(c);
                    }
                }
                let Some(base) = base else {
                    return Err(self.error(inst, d, "restriction without a base type"));
                };
                let bt = self.model.simple[base as usize].clone();
                let mut ws = bt.ws;
                let mut f = Facets::default();
                let numeric_enum_forbidden = matches!(
                    bt.variety,
                    Variety::Atomic(
                        Builtin::Boolean
                            | Builtin::Decimal
                            | Builtin::Integer
                            | Builtin::NonNegativeInteger
                            | Builtin::PositiveInteger
                            | Builtin::Double
                            | Builtin::Float
                            | Builtin::Base64Binary
                            | Builtin::HexBinary
                    )
                );
                for c in facet_nodes {
                    let v = c
                        .attribute("value")
                        .ok_or_else(|| self.error(inst, c, "facet without a value"))?;
                    let num = |s: &Self| {
                        numeric(v).ok_or_else(|| {
                            s.error(inst, c, format!("bad numeric facet value '{v}'"))
                        })
                    };
                    let int = |s: &Self| {
                        v.trim()
                            .parse::<usize>()
                            .map_err(|_| s.error(inst, c, format!("bad length '{v}'")))
                    };
                    match c.tag_name().name() {
                        "enumeration" => {
                            if numeric_enum_forbidden {
                                return Err(self.error(
                                    inst,
                                    c,
                                    "enumeration on a non-string type is not supported",
                                ));
                            }
                            f.enums
                                .get_or_insert_with(EnumSet::default)
                                .insert(normalize(v, ws).into());
                        }
                        "pattern" => {
                            let re = match self.regexes.get(v) {
                                Some(re) => re.clone(),
                                None => {
                                    let rust = translate_regex(v).map_err(|e| {
                                        self.error(inst, c, format!("pattern '{v}': {e}"))
                                    })?;
                                    let re = Regex::new(&rust).map_err(|e| {
                                        self.error(inst, c, format!("pattern '{v}': {e}"))
                                    })?;
                                    self.regexes.insert(v.to_string(), re.clone());
                                    re
                                }
                            };
                            f.patterns.push((v.into(), re));
                        }
                        "length" => f.length = Some(int(self)?),
                        "minLength" => f.min_length = Some(int(self)?),
                        "maxLength" => f.max_length = Some(int(self)?),
                        "minInclusive" => f.min_inclusive = Some(num(self)?),
                        "maxInclusive" => f.max_inclusive = Some(num(self)?),
                        "minExclusive" => f.min_exclusive = Some(num(self)?),
                        "maxExclusive" => f.max_exclusive = Some(num(self)?),
                        "whiteSpace" => {
                            ws = match v {
                                "preserve" => Ws::Preserve,
                                "replace" => Ws::Replace,
                                "collapse" => Ws::Collapse,
                                _ => {
                                    return Err(self.error(
                                        inst,
                                        c,
                                        format!("bad whiteSpace '{v}'"),
                                    ))
                                }
                            }
                            .max(bt.ws);
                        }
                        other => {
                            return Err(self.error(
                                inst,
                                c,
                                format!("unsupported facet xs:{other}"),
                            ))
                        }
                    }
                }
                let mut facets = bt.facets.clone();
                if !f.is_empty() {
                    facets.push(Arc::new(f));
                }
                SimpleType {
                    name,
                    ns,
                    base: Some(base),
                    variety: bt.variety.clone(),
                    ws,
                    facets,
                }
            }
            "list" => {
                let item = match d.attribute("itemType") {
                    Some(t) => self.resolve_simple(inst, d, t)?,
                    None => match xs_children(d).find(|c| is_xs(c, "simpleType")) {
                        Some(c) => self.simple_def(inst, c, "anonymous".into(), "".into())?,
                        None => return Err(self.error(inst, d, "list without an item type")),
                    },
                };
                SimpleType {
                    name,
                    ns,
                    base: Some(any_simple),
                    variety: Variety::List(item),
                    ws: Ws::Collapse,
                    facets: vec![],
                }
            }
            "union" => {
                let mut members = Vec::new();
                if let Some(m) = d.attribute("memberTypes") {
                    for t in m.split_whitespace() {
                        members.push(self.resolve_simple(inst, d, t)?);
                    }
                }
                for c in xs_children(d) {
                    if !is_xs(&c, "simpleType") {
                        return Err(self.error(inst, c, "unexpected child of xs:union"));
                    }
                    members.push(self.simple_def(inst, c, "anonymous".into(), "".into())?);
                }
                if members.is_empty() {
                    return Err(self.error(inst, d, "union without member types"));
                }
                SimpleType {
                    name,
                    ns,
                    base: Some(any_simple),
                    variety: Variety::Union(members),
                    ws: Ws::Preserve,
                    facets: vec![],
                }
            }
            other => {
                return Err(self.error(inst, d, format!("unsupported xs:{other} in xs:simpleType")))
            }
        };
        Ok(self.push_simple(t))
    }

    // ---------------------------------------------------------------- complex types

    fn complex_named(&mut self, q: &QName) -> u32 {
        if let Some(&id) = self.complex_ids.get(q) {
            return id;
        }
        let (inst, node) = self.lookup(Kind::Complex, q).expect("checked");
        let id = self.reserve_complex(q.1.clone(), q.0.clone(), inst, node);
        self.complex_ids.insert(q.clone(), id);
        self.model.types.insert(q.clone(), TypeRef::Complex(id));
        id
    }

    fn reserve_complex(&mut self, name: Box<str>, ns: Box<str>, inst: usize, node: NodeId) -> u32 {
        self.model.complex.push(ComplexType {
            name,
            ns,
            is_abstract: false,
            base: None,
            mixed: false,
            empty: true,
            dfa: Default::default(),
            attrs: vec![],
        });
        self.complex_state.push(Progress::Reserved);
        self.complex_src.push((inst, node));
        self.particles.push(None);
        self.model.complex.len() as u32 - 1
    }

    fn complex_body(&mut self, id: u32) -> Result<(), SchemaError> {
        let (inst, nid) = self.complex_src[id as usize];
        let n = self.node(inst, nid);
        match self.complex_state[id as usize] {
            Progress::Done => return Ok(()),
            Progress::Busy => return Err(self.error(inst, n, "circular type derivation")),
            Progress::Reserved => {}
        }
        self.complex_state[id as usize] = Progress::Busy;
        for a in n.attributes() {
            if !matches!(a.name(), "name" | "id" | "abstract" | "mixed") && a.namespace().is_none()
            {
                return Err(self.error(
                    inst,
                    n,
                    format!("unsupported attribute '{}' on xs:complexType", a.name()),
                ));
            }
        }
        let is_abstract = matches!(n.attribute("abstract"), Some("true" | "1"));
        let mut mixed = matches!(n.attribute("mixed"), Some("true" | "1"));
        let mut base: Option<TypeRef> = None;
        let particle: Option<Particle>;
        let mut attrs: Vec<AttrUse>;
        let kids: Vec<Node> = xs_children(n).collect();
        if let Some(cc) = kids.first().filter(|c| is_xs(c, "complexContent")) {
            if kids.len() > 1 {
                return Err(self.error(
                    inst,
                    kids[1],
                    "unexpected content after xs:complexContent",
                ));
            }
            if let Some(m) = cc.attribute("mixed") {
                mixed = matches!(m, "true" | "1");
            }
            let mut dk = xs_children(*cc);
            let d = dk
                .next()
                .ok_or_else(|| self.error(inst, *cc, "empty xs:complexContent"))?;
            let is_ext = is_xs(&d, "extension");
            if !is_ext && !is_xs(&d, "restriction") {
                return Err(self.error(inst, d, "expected xs:extension or xs:restriction"));
            }
            let b = d
                .attribute("base")
                .ok_or_else(|| self.error(inst, d, "derivation without base"))?;
            let bref = self.resolve_type(inst, d, b)?;
            let (base_particle, base_attrs, base_mixed) = match bref {
                TypeRef::Complex(bc) => {
                    self.complex_body(bc)?;
                    let bt = &self.model.complex[bc as usize];
                    (
                        self.particles[bc as usize].clone(),
                        bt.attrs.clone(),
                        bt.mixed,
                    )
                }
                TypeRef::Any if !is_ext => (None, vec![], false),
                _ => {
                    return Err(self.error(
                        inst,
                        d,
                        format!("complexContent base '{b}' must be a complex type"),
                    ))
                }
            };
            base = Some(bref);
            let (own, own_attrs) = self.content_and_attrs(inst, d)?;
            if is_ext {
                particle = match (base_particle, own) {
                    (None, p) => p,
                    (Some(bp), None) => {
                        mixed = base_mixed;
                        Some(bp)
                    }
                    (Some(bp), Some(p)) => Some(Particle {
                        min: 1,
                        max: Some(1),
                        term: Term::Seq(vec![bp, p]),
                    }),
                };
                attrs = base_attrs;
                for a in own_attrs {
                    merge_attr(&mut attrs, a);
                }
            } else {
                particle = own;
                attrs = base_attrs;
                for a in own_attrs {
                    merge_attr(&mut attrs, a);
                }
            }
        } else {
            if kids.iter().any(|c| is_xs(c, "simpleContent")) {
                return Err(self.error(inst, n, "xs:simpleContent is not supported"));
            }
            let (own, own_attrs) = self.content_and_attrs(inst, n)?;
            particle = own;
            attrs = Vec::new();
            for a in own_attrs {
                merge_attr(&mut attrs, a);
            }
        }
        attrs.retain(|a| !a.prohibited);
        let elems = &self.model.elems;
        let dfa = automaton::compile(particle.as_ref(), |a, b| {
            let (x, y) = (&elems[a as usize], &elems[b as usize]);
            x.name == y.name && x.ns == y.ns
        })
        .map_err(|e| self.error(inst, n, e))?;
        let empty = dfa.states.len() == 1 && dfa.states[0].trans.is_empty();
        let t = &mut self.model.complex[id as usize];
        t.is_abstract = is_abstract;
        t.base = base;
        t.mixed = mixed;
        t.empty = empty;
        t.dfa = dfa;
        t.attrs = attrs;
        self.particles[id as usize] = particle;
        self.complex_state[id as usize] = Progress::Done;
        Ok(())
    }

    /// The particle and attribute uses directly inside a complexType, extension or restriction.
    fn content_and_attrs(
        &mut self,
        inst: usize,
        n: Node,
    ) -> Result<(Option<Particle>, Vec<AttrUse>), SchemaError> {
        let mut particle = None;
        let mut attrs = Vec::new();
        for c in xs_children(n) {
            match c.tag_name().name() {
                "sequence" | "choice" | "group" => {
                    if particle.is_some() {
                        return Err(self.error(inst, c, "more than one model group"));
                    }
                    particle = Some(self.particle(inst, c)?);
                }
                "attribute" => attrs.push(self.attribute(inst, c)?),
                "attributeGroup" => self.attr_group(inst, c, &mut attrs, 0)?,
                other => return Err(self.error(inst, c, format!("unsupported xs:{other}"))),
            }
        }
        Ok((particle, attrs))
    }

    fn occurs(&self, inst: usize, n: Node) -> Result<(u32, Option<u32>), SchemaError> {
        let min = match n.attribute("minOccurs") {
            None => 1,
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| self.error(inst, n, format!("bad minOccurs '{v}'")))?,
        };
        let max = match n.attribute("maxOccurs") {
            None => Some(1),
            Some("unbounded") => None,
            Some(v) => Some(
                v.trim()
                    .parse()
                    .map_err(|_| self.error(inst, n, format!("bad maxOccurs '{v}'")))?,
            ),
        };
        Ok((min, max))
    }

    fn particle(&mut self, inst: usize, n: Node) -> Result<Particle, SchemaError> {
        let (min, max) = self.occurs(inst, n)?;
        let term = match n.tag_name().name() {
            "sequence" | "choice" => {
                let mut ps = Vec::new();
                for c in xs_children(n) {
                    ps.push(self.particle(inst, c)?);
                }
                if n.tag_name().name() == "sequence" {
                    Term::Seq(ps)
                } else {
                    Term::Choice(ps)
                }
            }
            "group" => {
                let r = n
                    .attribute("ref")
                    .ok_or_else(|| self.error(inst, n, "local xs:group without ref"))?;
                let q = self.qname(inst, n, r)?;
                let (gi, gid) = self
                    .lookup(Kind::Group, &q)
                    .ok_or_else(|| self.error(inst, n, format!("group '{r}' not found")))?;
                let g = self.node(gi, gid);
                let mut kids = xs_children(g);
                let body = kids
                    .next()
                    .ok_or_else(|| self.error(gi, g, "empty xs:group"))?;
                if !is_xs(&body, "sequence") && !is_xs(&body, "choice") {
                    return Err(self.error(gi, body, "unsupported group content"));
                }
                if body.attribute("minOccurs").is_some() || body.attribute("maxOccurs").is_some() {
                    return Err(self.error(
                        gi,
                        body,
                        "occurrence attributes on a group's model group",
                    ));
                }
                self.particle(gi, body)?.term
            }
            "element" => Term::Elem(self.local_elem(inst, n)?),
            other => return Err(self.error(inst, n, format!("unsupported particle xs:{other}"))),
        };
        Ok(Particle { min, max, term })
    }

    fn check_elem_attrs(&self, inst: usize, n: Node) -> Result<(), SchemaError> {
        for a in n.attributes() {
            if a.namespace().is_some() {
                continue;
            }
            match (a.name(), a.value()) {
                ("name" | "type" | "ref" | "minOccurs" | "maxOccurs" | "form" | "id", _) => {}
                ("nillable" | "abstract", "false") => {}
                (other, _) => {
                    return Err(self.error(
                        inst,
                        n,
                        format!("unsupported attribute '{other}' on xs:element"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn elem_type(&mut self, inst: usize, n: Node) -> Result<TypeRef, SchemaError> {
        if let Some(t) = n.attribute("type") {
            return self.resolve_type(inst, n, t);
        }
        if let Some(c) = xs_children(n).next() {
            if is_xs(&c, "complexType") {
                let id = self.reserve_complex("anonymous".into(), "".into(), inst, c.id());
                self.complex_body(id)?;
                return Ok(TypeRef::Complex(id));
            }
            if is_xs(&c, "simpleType") {
                return Ok(TypeRef::Simple(self.simple_def(
                    inst,
                    c,
                    "anonymous".into(),
                    "".into(),
                )?));
            }
            return Err(self.error(
                inst,
                c,
                format!("unsupported xs:{} in xs:element", c.tag_name().name()),
            ));
        }
        Ok(TypeRef::Any)
    }

    fn push_elem(&mut self, d: ElemDecl) -> ElemId {
        self.model.elems.push(d);
        self.model.elems.len() as ElemId - 1
    }

    fn local_elem(&mut self, inst: usize, n: Node) -> Result<ElemId, SchemaError> {
        self.check_elem_attrs(inst, n)?;
        if let Some(r) = n.attribute("ref") {
            let q = self.qname(inst, n, r)?;
            let (gi, gid) = self
                .lookup(Kind::Element, &q)
                .ok_or_else(|| self.error(inst, n, format!("element '{r}' not found")))?;
            let g = self.node(gi, gid);
            return self.global_elem(&q, gi, g);
        }
        let name = n
            .attribute("name")
            .ok_or_else(|| self.error(inst, n, "xs:element without name or ref"))?;
        let qualified = match n.attribute("form") {
            Some(f) => f == "qualified",
            None => self.insts[inst].qualified_elems,
        };
        let ns: Box<str> = if qualified {
            self.insts[inst].tns.clone()
        } else {
            "".into()
        };
        // The type is resolved first: a recursive type only reserves an id here.
        let ty = self.elem_type(inst, n)?;
        Ok(self.push_elem(ElemDecl {
            ns,
            name: name.into(),
            ty,
        }))
    }

    fn global_elem(&mut self, q: &QName, inst: usize, n: Node) -> Result<ElemId, SchemaError> {
        if let Some(&id) = self.model.global_elems.get(q) {
            return Ok(id);
        }
        self.check_elem_attrs(inst, n)?;
        // Reserve first so that recursive references find it.
        let id = self.push_elem(ElemDecl {
            ns: q.0.clone(),
            name: q.1.clone(),
            ty: TypeRef::Any,
        });
        self.model.global_elems.insert(q.clone(), id);
        let ty = self.elem_type(inst, n)?;
        self.model.elems[id as usize].ty = ty;
        Ok(id)
    }

    fn attribute(&mut self, inst: usize, n: Node) -> Result<AttrUse, SchemaError> {
        for a in n.attributes() {
            if !matches!(
                a.name(),
                "name" | "type" | "use" | "fixed" | "default" | "form" | "id"
            ) && a.namespace().is_none()
            {
                return Err(self.error(
                    inst,
                    n,
                    format!("unsupported attribute '{}' on xs:attribute", a.name()),
                ));
            }
        }
        let name = n.attribute("name").ok_or_else(|| {
            self.error(
                inst,
                n,
                "xs:attribute without a name (ref is not supported)",
            )
        })?;
        let ty = match n.attribute("type") {
            Some(t) => self.resolve_simple(inst, n, t)?,
            None => match xs_children(n).find(|c| is_xs(c, "simpleType")) {
                Some(c) => self.simple_def(inst, c, "anonymous".into(), "".into())?,
                None => self.builtins["anySimpleType"],
            },
        };
        let qualified = match n.attribute("form") {
            Some(f) => f == "qualified",
            None => self.insts[inst].qualified_attrs,
        };
        let use_ = n.attribute("use").unwrap_or("optional");
        if !matches!(use_, "optional" | "required" | "prohibited") {
            return Err(self.error(inst, n, format!("bad use '{use_}'")));
        }
        let fixed = match n.attribute("fixed") {
            Some(f) => Some(normalize(f, self.model.simple[ty as usize].ws).into()),
            None => None,
        };
        Ok(AttrUse {
            ns: if qualified {
                self.insts[inst].tns.clone()
            } else {
                "".into()
            },
            name: name.into(),
            ty,
            required: use_ == "required",
            prohibited: use_ == "prohibited",
            fixed,
        })
    }

    fn attr_group(
        &mut self,
        inst: usize,
        n: Node,
        out: &mut Vec<AttrUse>,
        depth: u32,
    ) -> Result<(), SchemaError> {
        if depth > 32 {
            return Err(self.error(inst, n, "attribute groups nested too deeply (circular?)"));
        }
        let r = n
            .attribute("ref")
            .ok_or_else(|| self.error(inst, n, "local xs:attributeGroup without ref"))?;
        let q = self.qname(inst, n, r)?;
        let (gi, gid) = self
            .lookup(Kind::AttrGroup, &q)
            .ok_or_else(|| self.error(inst, n, format!("attribute group '{r}' not found")))?;
        let g = self.node(gi, gid);
        for c in xs_children(g) {
            match c.tag_name().name() {
                "attribute" => {
                    let a = self.attribute(gi, c)?;
                    merge_attr(out, a);
                }
                "attributeGroup" => self.attr_group(gi, c, out, depth + 1)?,
                other => {
                    return Err(self.error(
                        gi,
                        c,
                        format!("unsupported xs:{other} in xs:attributeGroup"),
                    ))
                }
            }
        }
        Ok(())
    }
}

fn merge_attr(attrs: &mut Vec<AttrUse>, a: AttrUse) {
    match attrs.iter_mut().find(|x| x.name == a.name && x.ns == a.ns) {
        Some(x) => *x = a,
        None => attrs.push(a),
    }
}
