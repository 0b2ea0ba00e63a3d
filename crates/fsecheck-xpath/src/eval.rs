//! The executable expression tree and its evaluator.

use crate::value::{atom_to_number, compare_atoms, is_xml_ws, Atom, CmpOp, Item, Sequence};
use crate::DynamicError;
use roxmltree::{Node, NodeType};
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Lit(Atom<'static>),
    Var(usize),
    Context,
    Root,
    Step(Box<Step>),
    /// Start, steps, and whether the path can be streamed (see [`streamable`]).
    Path(Box<Expr>, Vec<PathStep>, bool),
    Filter(Box<Expr>, Vec<Expr>),
    Seq(Vec<Expr>),
    Union(Vec<Expr>),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone)]
pub(crate) enum PathStep {
    Axis(Step),
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub axis: Axis,
    pub test: NodeTest,
    pub preds: Vec<Expr>,
    /// Forward axis and no possibly-positional predicate (set by [`optimize`]).
    pub streamable: bool,
}

impl Step {
    pub(crate) fn desc_or_self() -> Step {
        Step {
            axis: Axis::DescendantOrSelf,
            test: NodeTest::AnyNode,
            preds: vec![],
            streamable: false,
        }
    }
    fn is_plain_desc_or_self(&self) -> bool {
        self.axis == Axis::DescendantOrSelf
            && matches!(self.test, NodeTest::AnyNode)
            && self.preds.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Axis {
    Child,
    Attribute,
    Parent,
    Ancestor,
    AncestorOrSelf,
    SelfNode,
    Descendant,
    DescendantOrSelf,
    FollowingSibling,
    PrecedingSibling,
}

impl Axis {
    fn is_reverse(self) -> bool {
        matches!(
            self,
            Axis::Parent | Axis::Ancestor | Axis::AncestorOrSelf | Axis::PrecedingSibling
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) enum NodeTest {
    /// A name test; `attr` is true on the attribute axis (principal node kind attribute).
    Name {
        attr: bool,
        test: NameTest,
    },
    AnyNode,
    AnyElement,
    Text,
    Comment,
}

#[derive(Debug, Clone)]
pub(crate) enum NameTest {
    Any,
    Ns(String),
    Local(String),
    /// Namespace, local name, interned id (see [`crate::index`]).
    QName(Box<(Option<String>, String)>, u32),
}

impl NameTest {
    #[inline]
    pub(crate) fn matches(&self, ns: Option<&str>, local: &str) -> bool {
        match self {
            NameTest::Any => true,
            NameTest::Ns(n) => ns == Some(n.as_str()),
            NameTest::Local(l) => local == l,
            NameTest::QName(q, _) => {
                crate::value::str_eq(local, &q.1)
                    && match (ns, q.0.as_deref()) {
                        (None, None) => true,
                        (Some(a), Some(b)) => crate::value::str_eq(a, b),
                        _ => false,
                    }
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Func {
    Count,
    Not,
    Boolean,
    True,
    False,
    Exists,
    Empty,
    String,
    Number,
    StringLength,
    NormalizeSpace,
    Contains,
    StartsWith,
    EndsWith,
    SubstringAfter,
    SubstringBefore,
    UpperCase,
    LowerCase,
    Concat,
    StringJoin,
    LocalName,
    Name,
    NamespaceUri,
    /// With the compiled regex when pattern and flags are literals.
    Matches(Option<Box<regex::Regex>>),
}

/// Values of the variables in scope, by slot (see [`crate::StaticContext::bind_variable`]).
///
/// A slot holds either a value or the dynamic error its evaluation raised: the error surfaces only
/// if an expression reads the variable, as with Saxon's lazily evaluated variables.
#[derive(Debug, Clone, Default)]
pub struct Variables<'a, 'i> {
    slots: Vec<Option<Result<Sequence<'a, 'i>, DynamicError>>>,
    index: Option<&'a crate::DocIndex>,
}

impl<'a, 'i> Variables<'a, 'i> {
    pub fn new(slot_count: usize) -> Self {
        Variables {
            slots: vec![None; slot_count],
            index: None,
        }
    }

    /// Like [`Variables::new`], with the navigation index of the document being evaluated
    /// (a large speed-up; results are identical with or without it).
    pub fn with_index(slot_count: usize, index: &'a crate::DocIndex) -> Self {
        Variables {
            slots: vec![None; slot_count],
            index: Some(index),
        }
    }

    /// The index, if there is one for `node`'s document.
    #[inline]
    pub(crate) fn index_for(&self, node: Node<'_, '_>) -> Option<&'a crate::DocIndex> {
        self.index.filter(|ix| ix.covers(node))
    }

    pub fn set(&mut self, slot: usize, value: Result<Sequence<'a, 'i>, DynamicError>) {
        if slot >= self.slots.len() {
            self.slots.resize(slot + 1, None);
        }
        self.slots[slot] = Some(value);
    }

    pub fn get(&self, slot: usize) -> Result<&Sequence<'a, 'i>, DynamicError> {
        match self.slots.get(slot) {
            Some(Some(Ok(v))) => Ok(v),
            Some(Some(Err(e))) => Err(e.clone()),
            _ => Err(DynamicError::new(
                "XPDY0002",
                format!("variable slot {slot} has no value"),
            )),
        }
    }
}

// ---------------------------------------------------------------- static rewriting

/// A predicate that can never be numeric, so it never selects by position.
pub(crate) fn pred_is_boolean(e: &Expr) -> bool {
    match e {
        Expr::Cmp(..) | Expr::And(..) | Expr::Or(..) | Expr::Step(_) | Expr::Union(_) => true,
        Expr::Path(_, steps, _) => matches!(steps.last(), Some(PathStep::Axis(_))),
        Expr::Call(f, _) => matches!(
            f,
            Func::Not
                | Func::Boolean
                | Func::True
                | Func::False
                | Func::Exists
                | Func::Empty
                | Func::Contains
                | Func::StartsWith
                | Func::EndsWith
                | Func::Matches(_)
        ),
        _ => false,
    }
}

/// Does `e`, evaluated with an element as context, depend only on that element's expanded
/// name (`local-name()`, `namespace-uri()`, literals and pure functions of them)? Such
/// predicates can be cached per element name.
pub(crate) fn name_only(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) => true,
        Expr::Cmp(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => name_only(a) && name_only(b),
        Expr::Call(Func::LocalName | Func::NamespaceUri, args) => args.is_empty(),
        Expr::Call(
            Func::Contains
            | Func::StartsWith
            | Func::EndsWith
            | Func::SubstringAfter
            | Func::SubstringBefore
            | Func::UpperCase
            | Func::LowerCase
            | Func::Concat
            | Func::Not
            | Func::Boolean
            | Func::True
            | Func::False
            | Func::Matches(_),
            args,
        ) => args.iter().all(name_only),
        Expr::Call(Func::StringLength | Func::NormalizeSpace, args) => {
            !args.is_empty() && args.iter().all(name_only)
        }
        _ => false,
    }
}

fn optimize_step(mut s: Step) -> Step {
    s.preds = s.preds.into_iter().map(optimize).collect();
    s.streamable = matches!(
        s.axis,
        Axis::Child | Axis::Attribute | Axis::SelfNode | Axis::Descendant | Axis::DescendantOrSelf
    ) && s.preds.iter().all(pred_is_boolean);
    s
}

/// `//x` → `descendant::x` when x's predicates cannot be positional; recursive.
pub(crate) fn optimize(e: Expr) -> Expr {
    match e {
        Expr::Path(start, steps, _) => {
            let start = Box::new(optimize(*start));
            let mut out: Vec<PathStep> = Vec::with_capacity(steps.len());
            let mut it = steps.into_iter().peekable();
            while let Some(st) = it.next() {
                match st {
                    PathStep::Axis(s) if s.is_plain_desc_or_self() => {
                        let merge = matches!(
                            it.peek(),
                            Some(PathStep::Axis(n)) if n.axis == Axis::Child && n.preds.iter().all(pred_is_boolean)
                        );
                        if merge {
                            if let Some(PathStep::Axis(n)) = it.next() {
                                out.push(PathStep::Axis(optimize_step(Step {
                                    axis: Axis::Descendant,
                                    ..n
                                })));
                            }
                        } else {
                            out.push(PathStep::Axis(s));
                        }
                    }
                    PathStep::Axis(s) => out.push(PathStep::Axis(optimize_step(s))),
                    PathStep::Expr(x) => out.push(PathStep::Expr(optimize(x))),
                }
            }
            let st = streamable(&start, &out);
            Expr::Path(start, out, st)
        }
        Expr::Step(s) => Expr::Step(Box::new(optimize_step(*s))),
        Expr::Filter(p, preds) => Expr::Filter(
            Box::new(optimize(*p)),
            preds.into_iter().map(optimize).collect(),
        ),
        Expr::Seq(v) => Expr::Seq(v.into_iter().map(optimize).collect()),
        Expr::Union(v) => Expr::Union(v.into_iter().map(optimize).collect()),
        Expr::Or(a, b) => Expr::Or(Box::new(optimize(*a)), Box::new(optimize(*b))),
        Expr::And(a, b) => Expr::And(Box::new(optimize(*a)), Box::new(optimize(*b))),
        Expr::Cmp(op, a, b) => Expr::Cmp(op, Box::new(optimize(*a)), Box::new(optimize(*b))),
        Expr::If(a, b, c) => Expr::If(
            Box::new(optimize(*a)),
            Box::new(optimize(*b)),
            Box::new(optimize(*c)),
        ),
        Expr::Call(f, args) => Expr::Call(f, args.into_iter().map(optimize).collect()),
        other => other,
    }
}

// ---------------------------------------------------------------- evaluation

fn lit<'a>(a: &'a Atom<'static>) -> Atom<'a> {
    match a {
        Atom::Str(s) => Atom::Str(Cow::Borrowed(s.as_ref())),
        Atom::Untyped(s) => Atom::Untyped(Cow::Borrowed(s.as_ref())),
        Atom::Int(i) => Atom::Int(*i),
        Atom::Double(d) => Atom::Double(*d),
        Atom::Bool(b) => Atom::Bool(*b),
    }
}

fn ctx_node<'a, 'i>(ctx: &Item<'a, 'i>, what: &str) -> Result<Node<'a, 'i>, DynamicError> {
    match ctx {
        Item::Node(n) | Item::Attr(n, _) => Ok(*n),
        Item::Atom(_) => Err(DynamicError::new(
            "XPTY0020",
            format!("{what}: the context item is not a node"),
        )),
    }
}

pub(crate) fn ebv(seq: &[Item<'_, '_>]) -> Result<bool, DynamicError> {
    match seq {
        [] => Ok(false),
        [first, ..] if first.is_node() => Ok(true),
        [Item::Atom(a)] => Ok(match a {
            Atom::Bool(b) => *b,
            Atom::Str(s) | Atom::Untyped(s) => !s.is_empty(),
            Atom::Int(i) => *i != 0,
            Atom::Double(d) => *d != 0.0 && !d.is_nan(),
        }),
        _ => Err(DynamicError::new(
            "FORG0006",
            "effective boolean value is not defined for a sequence of two or more items starting with an atomic value",
        )),
    }
}

fn sort_dedup(v: &mut Vec<Item<'_, '_>>) {
    let sorted = v.windows(2).all(|w| w[0].order_key() < w[1].order_key());
    if !sorted {
        v.sort_by_key(|i| i.order_key());
        v.dedup_by_key(|i| i.order_key());
    }
}

#[inline]
fn node_matches(test: &NodeTest, n: Node<'_, '_>) -> bool {
    match test {
        NodeTest::Name { attr: false, test } => {
            n.is_element() && {
                let t = n.tag_name();
                test.matches(t.namespace(), t.name())
            }
        }
        NodeTest::Name { attr: true, .. } => false,
        NodeTest::AnyNode => true,
        NodeTest::AnyElement => n.is_element(),
        NodeTest::Text => n.is_text(),
        NodeTest::Comment => n.is_comment(),
    }
}

#[inline]
fn attr_matches(test: &NodeTest, n: Node<'_, '_>, i: u32) -> bool {
    match test {
        NodeTest::Name { test, .. } => match n.attributes().nth(i as usize) {
            Some(a) => test.matches(a.namespace(), a.name()),
            None => false,
        },
        NodeTest::AnyNode => true,
        _ => false,
    }
}

fn item_matches(test: &NodeTest, it: &Item<'_, '_>) -> bool {
    match it {
        Item::Node(n) => node_matches(test, *n),
        Item::Attr(n, i) => attr_matches(test, *n, *i),
        Item::Atom(_) => false,
    }
}

/// Candidates of `step`'s axis from `ctx` that pass the node test, in axis order.
fn axis_candidates<'a, 'i>(
    step: &Step,
    ctx: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
    out: &mut Vec<Item<'a, 'i>>,
) {
    let test = &step.test;
    if matches!(step.axis, Axis::Child | Axis::Descendant)
        && matches!(
            test,
            NodeTest::Name {
                attr: false,
                test: NameTest::QName(..)
            }
        )
    {
        if let (
            Item::Node(n),
            NodeTest::Name {
                test: NameTest::QName(_, id),
                ..
            },
        ) = (ctx, test)
        {
            if vars.index_for(*n).is_some_and(|ix| ix.knows(*id)) {
                let _ = visit_axis(step, ctx, vars, &mut |c| {
                    out.push(c);
                    Ok(true)
                });
                return;
            }
        }
    }
    let (node, attr) = match ctx {
        Item::Node(n) => (*n, None),
        Item::Attr(n, i) => (*n, Some(*i)),
        Item::Atom(_) => return,
    };
    let push = |n: Node<'a, 'i>, out: &mut Vec<Item<'a, 'i>>| {
        if node_matches(test, n) {
            out.push(Item::Node(n))
        }
    };
    match step.axis {
        Axis::Child => {
            if attr.is_none() {
                for c in node.children() {
                    push(c, out)
                }
            }
        }
        Axis::Attribute => {
            if attr.is_none() && node.is_element() {
                for i in 0..node.attributes().len() as u32 {
                    if attr_matches(test, node, i) {
                        out.push(Item::Attr(node, i))
                    }
                }
            }
        }
        Axis::Parent => {
            if attr.is_some() {
                push(node, out)
            } else if let Some(p) = node.parent() {
                push(p, out)
            }
        }
        Axis::Ancestor | Axis::AncestorOrSelf => {
            if step.axis == Axis::AncestorOrSelf && item_matches(test, ctx) {
                out.push(ctx.clone());
            }
            let start = if attr.is_some() {
                Some(node)
            } else {
                node.parent()
            };
            if let Some(s) = start {
                for a in s.ancestors() {
                    push(a, out)
                }
            }
        }
        Axis::SelfNode => {
            if item_matches(test, ctx) {
                out.push(ctx.clone())
            }
        }
        Axis::Descendant | Axis::DescendantOrSelf => {
            if attr.is_some() {
                if step.axis == Axis::DescendantOrSelf && item_matches(test, ctx) {
                    out.push(ctx.clone())
                }
            } else {
                let skip = usize::from(step.axis == Axis::Descendant);
                for d in node.descendants().skip(skip) {
                    push(d, out)
                }
            }
        }
        Axis::FollowingSibling => {
            if attr.is_none() {
                for s in node.next_siblings().skip(1) {
                    push(s, out)
                }
            }
        }
        Axis::PrecedingSibling => {
            if attr.is_none() {
                for s in node.prev_siblings().skip(1) {
                    push(s, out)
                }
            }
        }
    }
}

/// Keep the items for which each predicate holds; positions are 1-based in the given order.
fn apply_predicates<'a, 'i>(
    preds: &'a [Expr],
    items: &mut Vec<Item<'a, 'i>>,
    vars: &Variables<'a, 'i>,
) -> Result<(), DynamicError> {
    for p in preds {
        let mut kept = Vec::with_capacity(items.len());
        for (k, it) in items.drain(..).enumerate() {
            if pred_holds(p, &it, k + 1, vars)? {
                kept.push(it);
            }
        }
        *items = kept;
    }
    Ok(())
}

fn pred_holds<'a, 'i>(
    p: &'a Expr,
    it: &Item<'a, 'i>,
    pos: usize,
    vars: &Variables<'a, 'i>,
) -> Result<bool, DynamicError> {
    match p {
        Expr::Lit(Atom::Int(n)) => return Ok(*n >= 1 && *n as usize == pos),
        _ if pred_is_boolean(p) => return eval_bool(p, it, vars),
        _ => {}
    }
    let v = eval(p, it, vars)?;
    match v.as_slice() {
        [Item::Atom(Atom::Int(n))] => Ok(*n >= 1 && *n as usize == pos),
        [Item::Atom(Atom::Double(d))] => Ok(*d == pos as f64),
        _ => ebv(&v),
    }
}

/// Evaluate an axis step from one context item, appending the result in document order.
fn apply_step<'a, 'i>(
    step: &'a Step,
    ctx: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
    out: &mut Vec<Item<'a, 'i>>,
) -> Result<(), DynamicError> {
    if step.preds.is_empty() {
        let start = out.len();
        axis_candidates(step, ctx, vars, out);
        if step.axis.is_reverse() {
            out[start..].reverse();
        }
        return Ok(());
    }
    let mut tmp = Vec::new();
    axis_candidates(step, ctx, vars, &mut tmp);
    apply_predicates(&step.preds, &mut tmp, vars)?;
    if step.axis.is_reverse() {
        tmp.reverse();
    }
    out.extend(tmp);
    Ok(())
}

// ---------------------------------------------------------------- streaming

/// Can this path be evaluated node by node, without building intermediate sequences, for
/// uses that only need *distinct* results in any order (count, existence, general comparison)?
/// Forward axes only, no predicate that could be positional, and at most one step that can
/// produce nested nodes (descendant), since two such steps could yield duplicates.
pub(crate) fn streamable(start: &Expr, steps: &[PathStep]) -> bool {
    let single_start = matches!(start, Expr::Context | Expr::Root);
    let mut nesting = 0;
    for st in steps {
        let PathStep::Axis(s) = st else { return false };
        match s.axis {
            Axis::Child | Axis::Attribute | Axis::SelfNode => {}
            Axis::Descendant | Axis::DescendantOrSelf => nesting += 1,
            _ => return false,
        }
        if !s.preds.iter().all(pred_is_boolean) {
            return false;
        }
    }
    nesting == 0 || (nesting == 1 && single_start)
}

/// Visit the candidates of a forward axis that pass the node test; `f` returns `false` to stop.
fn visit_axis<'a, 'i>(
    step: &Step,
    ctx: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
    f: &mut dyn FnMut(Item<'a, 'i>) -> Result<bool, DynamicError>,
) -> Result<bool, DynamicError> {
    let test = &step.test;
    if let (
        Item::Node(node),
        NodeTest::Name {
            attr: false,
            test: NameTest::QName(_, id),
        },
    ) = (ctx, test)
    {
        if let Some(ix) = vars.index_for(*node).filter(|ix| ix.knows(*id)) {
            match step.axis {
                Axis::Child => {
                    for &c in ix.child_elements(*node) {
                        if ix.name_at(c as usize) == *id
                            && !f(Item::Node(crate::index::node_by_id(*node, c)))?
                        {
                            return Ok(false);
                        }
                    }
                    return Ok(true);
                }
                Axis::Descendant => {
                    for d in ix.descendant_range(*node) {
                        if ix.name_at(d) == *id
                            && !f(Item::Node(crate::index::node_by_id(*node, d as u32)))?
                        {
                            return Ok(false);
                        }
                    }
                    return Ok(true);
                }
                _ => {}
            }
        }
    }
    let node = match ctx {
        Item::Node(n) => *n,
        Item::Attr(..) => {
            return match step.axis {
                Axis::SelfNode | Axis::DescendantOrSelf if item_matches(test, ctx) => {
                    f(ctx.clone())
                }
                _ => Ok(true),
            }
        }
        Item::Atom(_) => return Ok(true),
    };
    match step.axis {
        Axis::Child => {
            for c in node.children() {
                if node_matches(test, c) && !f(Item::Node(c))? {
                    return Ok(false);
                }
            }
        }
        Axis::Attribute => {
            if node.is_element() {
                for (i, a) in node.attributes().enumerate() {
                    let ok = match test {
                        NodeTest::Name { test, .. } => test.matches(a.namespace(), a.name()),
                        NodeTest::AnyNode => true,
                        _ => false,
                    };
                    if ok && !f(Item::Attr(node, i as u32))? {
                        return Ok(false);
                    }
                }
            }
        }
        Axis::SelfNode => {
            if node_matches(test, node) {
                return f(Item::Node(node));
            }
        }
        Axis::Descendant | Axis::DescendantOrSelf => {
            let skip = usize::from(step.axis == Axis::Descendant);
            for d in node.descendants().skip(skip) {
                if node_matches(test, d) && !f(Item::Node(d))? {
                    return Ok(false);
                }
            }
        }
        _ => unreachable!("only forward axes are streamed"),
    }
    Ok(true)
}

/// Stream the results of `steps` from `item` into `f` (distinct, not necessarily in document
/// order); returns `false` when `f` asked to stop.
fn stream_steps<'a, 'i>(
    steps: &'a [PathStep],
    item: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
    f: &mut dyn FnMut(Item<'a, 'i>) -> Result<bool, DynamicError>,
) -> Result<bool, DynamicError> {
    let Some((first, rest)) = steps.split_first() else {
        return f(item.clone());
    };
    let PathStep::Axis(step) = first else {
        unreachable!("streamable paths have axis steps only")
    };
    visit_axis(step, item, vars, &mut |c| {
        for p in &step.preds {
            if !eval_bool(p, &c, vars)? {
                return Ok(true);
            }
        }
        stream_steps(rest, &c, vars, f)
    })
}

/// Stream a streamable path or step expression; `None` when `e` is not streamable.
fn stream<'a, 'i>(
    e: &'a Expr,
    ctx: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
    f: &mut dyn FnMut(Item<'a, 'i>) -> Result<bool, DynamicError>,
) -> Option<Result<bool, DynamicError>> {
    match e {
        Expr::Step(s) if s.streamable => {
            if let Err(err) = ctx_node(ctx, "axis step") {
                return Some(Err(err));
            }
            Some(visit_axis(s, ctx, vars, &mut |c| {
                for p in &s.preds {
                    if !eval_bool(p, &c, vars)? {
                        return Ok(true);
                    }
                }
                f(c)
            }))
        }
        Expr::Path(start, steps, true) => Some((|| {
            match &**start {
                Expr::Context => {
                    ctx_node(ctx, "path")?;
                    return stream_steps(steps, ctx, vars, f);
                }
                Expr::Root => {
                    let root = Item::Node(ctx_node(ctx, "'/'")?.document().root());
                    return stream_steps(steps, &root, vars, f);
                }
                _ => {}
            }
            let starts = eval(start, ctx, vars)?;
            for st in &starts {
                if !st.is_node() {
                    return Err(DynamicError::new(
                        "XPTY0019",
                        "a path step was applied to an atomic value",
                    ));
                }
                if !stream_steps(steps, st, vars, f)? {
                    return Ok(false);
                }
            }
            Ok(true)
        })()),
        _ => None,
    }
}

pub(crate) fn eval<'a, 'i>(
    e: &'a Expr,
    ctx: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
) -> Result<Sequence<'a, 'i>, DynamicError> {
    Ok(match e {
        Expr::Lit(a) => vec![Item::Atom(lit(a))],
        Expr::Var(slot) => vars.get(*slot)?.clone(),
        Expr::Context => vec![ctx.clone()],
        Expr::Root => {
            let n = ctx_node(ctx, "'/'")?;
            vec![Item::Node(n.document().root())]
        }
        Expr::Step(s) => {
            ctx_node(ctx, "axis step")?;
            let mut out = Vec::new();
            apply_step(s, ctx, vars, &mut out)?;
            out
        }
        Expr::Path(start, steps, _) => {
            let mut cur = eval(start, ctx, vars)?;
            for st in steps {
                if cur.is_empty() {
                    break;
                }
                if cur.iter().any(|i| !i.is_node()) {
                    return Err(DynamicError::new(
                        "XPTY0019",
                        "a path step was applied to an atomic value",
                    ));
                }
                let mut next = Vec::new();
                match st {
                    PathStep::Axis(s) => {
                        for it in &cur {
                            apply_step(s, it, vars, &mut next)?;
                        }
                        if cur.len() > 1 {
                            sort_dedup(&mut next);
                        }
                    }
                    PathStep::Expr(x) => {
                        for it in &cur {
                            next.extend(eval(x, it, vars)?);
                        }
                        let nodes = next.iter().filter(|i| i.is_node()).count();
                        if nodes == next.len() {
                            if cur.len() > 1 {
                                sort_dedup(&mut next);
                            }
                        } else if nodes != 0 {
                            return Err(DynamicError::new(
                                "XPTY0018",
                                "the last step of a path returned both nodes and atomic values",
                            ));
                        }
                    }
                }
                cur = next;
            }
            cur
        }
        Expr::Filter(p, preds) => {
            let mut v = eval(p, ctx, vars)?;
            apply_predicates(preds, &mut v, vars)?;
            v
        }
        Expr::Seq(items) => {
            let mut out = Vec::new();
            for x in items {
                out.extend(eval(x, ctx, vars)?);
            }
            out
        }
        Expr::Union(items) => {
            let mut out = Vec::new();
            for x in items {
                let v = eval(x, ctx, vars)?;
                if v.iter().any(|i| !i.is_node()) {
                    return Err(DynamicError::new("XPTY0004", "union of non-node values"));
                }
                out.extend(v);
            }
            out.sort_by_key(|i| i.order_key());
            out.dedup_by_key(|i| i.order_key());
            out
        }
        Expr::Or(..) | Expr::And(..) | Expr::Cmp(..) => {
            vec![Item::Atom(Atom::Bool(eval_bool(e, ctx, vars)?))]
        }
        Expr::If(c, t, f) => {
            if eval_bool(c, ctx, vars)? {
                eval(t, ctx, vars)?
            } else {
                eval(f, ctx, vars)?
            }
        }
        Expr::Call(f, args) => vec![Item::Atom(call(f, args, ctx, vars)?)],
    })
}

/// Effective boolean value of `e`, without building sequences where avoidable.
pub(crate) fn eval_bool<'a, 'i>(
    e: &'a Expr,
    ctx: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
) -> Result<bool, DynamicError> {
    match e {
        Expr::Or(a, b) => Ok(eval_bool(a, ctx, vars)? || eval_bool(b, ctx, vars)?),
        Expr::And(a, b) => Ok(eval_bool(a, ctx, vars)? && eval_bool(b, ctx, vars)?),
        Expr::Cmp(op, a, b) if is_single_atom(a) && is_single_atom(b) => {
            // `count(…) = 1` and the like: two atoms, no sequences
            let l = eval_atom(a, ctx, vars)?;
            let r = eval_atom(b, ctx, vars)?;
            compare_atoms(*op, &l, &r)
        }
        Expr::Cmp(op, a, b) => {
            // Stream the left operand when possible: no sequence is built, and the comparison
            // stops at the first pair that holds (as Saxon's existential comparison does).
            let mut right: Option<Vec<Atom<'a>>> = None;
            let mut found = false;
            let streamed = stream(a, ctx, vars, &mut |li| {
                if let Expr::Lit(lit_atom) = &**b {
                    // the common `@code = 'literal'`: no sequence at all
                    if compare_atoms(*op, &li.atomize(), &lit(lit_atom))? {
                        found = true;
                        return Ok(false);
                    }
                    return Ok(true);
                }
                if right.is_none() {
                    right = Some(eval(b, ctx, vars)?.iter().map(|i| i.atomize()).collect());
                }
                let la = li.atomize();
                for rb in right.iter().flatten() {
                    if compare_atoms(*op, &la, rb)? {
                        found = true;
                        return Ok(false);
                    }
                }
                Ok(true)
            });
            if let Some(res) = streamed {
                res?;
                return Ok(found);
            }
            let l = eval(a, ctx, vars)?;
            if l.is_empty() {
                return Ok(false);
            }
            let r = eval(b, ctx, vars)?;
            general_compare(*op, &l, &r)
        }
        Expr::Call(f, args) => match call(f, args, ctx, vars)? {
            Atom::Bool(b) => Ok(b),
            other => ebv(&[Item::Atom(other)]),
        },
        _ => {
            let mut found = false;
            match stream(e, ctx, vars, &mut |_| {
                found = true;
                Ok(false)
            }) {
                Some(res) => {
                    res?;
                    Ok(found)
                }
                None => ebv(&eval(e, ctx, vars)?),
            }
        }
    }
}

fn general_compare(
    op: CmpOp,
    l: &[Item<'_, '_>],
    r: &[Item<'_, '_>],
) -> Result<bool, DynamicError> {
    if l.len() == 1 && r.len() == 1 {
        return compare_atoms(op, &l[0].atomize(), &r[0].atomize());
    }
    let ra: Vec<Atom<'_>> = r.iter().map(|i| i.atomize()).collect();
    for li in l {
        let la = li.atomize();
        for rb in &ra {
            if compare_atoms(op, &la, rb)? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

// ---------------------------------------------------------------- functions

fn too_many(fname: &str) -> DynamicError {
    DynamicError::new(
        "XPTY0004",
        format!("a sequence of more than one item is not allowed as an argument of {fname}()"),
    )
}

/// Atomized optional single argument (`xs:anyAtomicType?`).
fn opt_atom<'a>(v: &[Item<'a, '_>], fname: &str) -> Result<Option<Atom<'a>>, DynamicError> {
    match v {
        [] => Ok(None),
        [x] => Ok(Some(x.atomize())),
        _ => Err(too_many(fname)),
    }
}

/// An `xs:string?` argument: untypedAtomic is cast, other types are type errors.
fn string_arg<'a>(v: &[Item<'a, '_>], fname: &str) -> Result<Cow<'a, str>, DynamicError> {
    match opt_atom(v, fname)? {
        None => Ok(Cow::Borrowed("")),
        Some(Atom::Str(s) | Atom::Untyped(s)) => Ok(s),
        Some(other) => Err(DynamicError::new(
            "XPTY0004",
            format!("{fname}() requires xs:string, got {}", other.type_name()),
        )),
    }
}

/// An optional single node argument (or the context item when there are no arguments).
fn node_arg<'a, 'i>(
    args: &'a [Expr],
    ctx: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
    fname: &str,
) -> Result<Option<Item<'a, 'i>>, DynamicError> {
    let v = match args.first() {
        None => {
            return if ctx.is_node() {
                Ok(Some(ctx.clone()))
            } else {
                Err(DynamicError::new(
                    "XPTY0004",
                    format!("{fname}() requires a node"),
                ))
            }
        }
        Some(a) => eval(a, ctx, vars)?,
    };
    match v.len() {
        0 => Ok(None),
        1 => {
            let it = v
                .into_iter()
                .next()
                .unwrap_or(Item::Atom(Atom::Bool(false)));
            if it.is_node() {
                Ok(Some(it))
            } else {
                Err(DynamicError::new(
                    "XPTY0004",
                    format!("{fname}() requires a node"),
                ))
            }
        }
        _ => Err(too_many(fname)),
    }
}

/// Lexical QName of an element as written in the source (prefix kept).
fn lexical_name<'a>(it: &Item<'a, '_>) -> &'a str {
    match it {
        Item::Node(n) => match n.node_type() {
            NodeType::Element => {
                let text = n.document().input_text();
                let start = n.range().start + 1;
                let rest = &text[start.min(text.len())..];
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                    .unwrap_or(rest.len());
                &rest[..end]
            }
            NodeType::PI => n.pi().map(|p| p.target).unwrap_or(""),
            _ => "",
        },
        Item::Attr(n, i) => match n.attributes().nth(*i as usize) {
            Some(a) => &n.document().input_text()[a.range_qname()],
            None => "",
        },
        Item::Atom(_) => "",
    }
}

fn local_name<'a>(it: &Item<'a, '_>) -> &'a str {
    match it {
        Item::Node(n) => match n.node_type() {
            NodeType::Element => n.tag_name().name(),
            NodeType::PI => n.pi().map(|p| p.target).unwrap_or(""),
            _ => "",
        },
        Item::Attr(n, i) => n
            .attributes()
            .nth(*i as usize)
            .map(|a| a.name())
            .unwrap_or(""),
        Item::Atom(_) => "",
    }
}

fn namespace_uri<'a>(it: &Item<'a, '_>) -> &'a str {
    match it {
        Item::Node(n) if n.is_element() => n.tag_name().namespace().unwrap_or(""),
        Item::Attr(n, i) => n
            .attributes()
            .nth(*i as usize)
            .and_then(|a| a.namespace())
            .unwrap_or(""),
        _ => "",
    }
}

/// Expressions that always yield exactly one atomic value (every supported function does).
fn is_single_atom(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Lit(_) | Expr::Call(..) | Expr::Cmp(..) | Expr::And(..) | Expr::Or(..)
    )
}

/// Evaluate a single-atom expression without building a sequence.
fn eval_atom<'a, 'i>(
    e: &'a Expr,
    ctx: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
) -> Result<Atom<'a>, DynamicError> {
    match e {
        Expr::Lit(a) => Ok(lit(a)),
        Expr::Call(f, args) => call(f, args, ctx, vars),
        _ => Ok(Atom::Bool(eval_bool(e, ctx, vars)?)),
    }
}

/// An `xs:string?` argument, evaluated without a sequence when possible.
fn string_arg_of<'a, 'i>(
    e: &'a Expr,
    ctx: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
    fname: &str,
) -> Result<Cow<'a, str>, DynamicError> {
    if is_single_atom(e) {
        return match eval_atom(e, ctx, vars)? {
            Atom::Str(s) | Atom::Untyped(s) => Ok(s),
            other => Err(DynamicError::new(
                "XPTY0004",
                format!("{fname}() requires xs:string, got {}", other.type_name()),
            )),
        };
    }
    string_arg(&eval(e, ctx, vars)?, fname)
}

fn call<'a, 'i>(
    f: &'a Func,
    args: &'a [Expr],
    ctx: &Item<'a, 'i>,
    vars: &Variables<'a, 'i>,
) -> Result<Atom<'a>, DynamicError> {
    let arg = |k: usize| eval(&args[k], ctx, vars);
    // The context item as an implicit argument (string(), number(), string-length()…).
    let arg_or_ctx = |k: usize| -> Result<Sequence<'a, 'i>, DynamicError> {
        match args.get(k) {
            Some(a) => eval(a, ctx, vars),
            None => Ok(vec![ctx.clone()]),
        }
    };
    Ok(match f {
        Func::Count => {
            let mut n = 0i64;
            match stream(&args[0], ctx, vars, &mut |_| {
                n += 1;
                Ok(true)
            }) {
                Some(res) => {
                    res?;
                    Atom::Int(n)
                }
                None => Atom::Int(arg(0)?.len() as i64),
            }
        }
        Func::Not => Atom::Bool(!eval_bool(&args[0], ctx, vars)?),
        Func::Boolean => Atom::Bool(eval_bool(&args[0], ctx, vars)?),
        Func::True => Atom::Bool(true),
        Func::False => Atom::Bool(false),
        Func::Exists => Atom::Bool(!arg(0)?.is_empty()),
        Func::Empty => Atom::Bool(arg(0)?.is_empty()),
        Func::String => {
            let v = arg_or_ctx(0)?;
            match v.as_slice() {
                [] => Atom::Str(Cow::Borrowed("")),
                [x] => Atom::Str(x.string_value()),
                _ => return Err(too_many("string")),
            }
        }
        Func::Number => {
            let v = arg_or_ctx(0)?;
            Atom::Double(
                opt_atom(&v, "number")?
                    .map(|a| atom_to_number(&a))
                    .unwrap_or(f64::NAN),
            )
        }
        Func::StringLength => {
            let v = arg_or_ctx(0)?;
            let s = if args.is_empty() {
                v.first()
                    .map(|i| i.string_value())
                    .unwrap_or(Cow::Borrowed(""))
            } else {
                string_arg(&v, "string-length")?
            };
            Atom::Int(s.chars().count() as i64)
        }
        Func::NormalizeSpace => {
            let v = arg_or_ctx(0)?;
            let s = if args.is_empty() {
                v.first()
                    .map(|i| i.string_value())
                    .unwrap_or(Cow::Borrowed(""))
            } else {
                string_arg(&v, "normalize-space")?
            };
            let parts: Vec<&str> = s.split(is_xml_ws).filter(|p| !p.is_empty()).collect();
            Atom::Str(Cow::Owned(parts.join(" ")))
        }
        Func::Contains
        | Func::StartsWith
        | Func::EndsWith
        | Func::SubstringAfter
        | Func::SubstringBefore => {
            let name = match f {
                Func::Contains => "contains",
                Func::StartsWith => "starts-with",
                Func::EndsWith => "ends-with",
                Func::SubstringAfter => "substring-after",
                _ => "substring-before",
            };
            let a = string_arg_of(&args[0], ctx, vars, name)?;
            let b = string_arg_of(&args[1], ctx, vars, name)?;
            match f {
                Func::Contains => Atom::Bool(a.contains(b.as_ref())),
                Func::StartsWith => Atom::Bool(a.starts_with(b.as_ref())),
                Func::EndsWith => Atom::Bool(a.ends_with(b.as_ref())),
                Func::SubstringAfter => Atom::Str(match a.find(b.as_ref()) {
                    Some(p) => match a {
                        Cow::Borrowed(s) => Cow::Borrowed(&s[p + b.len()..]),
                        Cow::Owned(s) => Cow::Owned(s[p + b.len()..].to_string()),
                    },
                    None => Cow::Borrowed(""),
                }),
                _ => Atom::Str(match a.find(b.as_ref()) {
                    Some(p) if !b.is_empty() => match a {
                        Cow::Borrowed(s) => Cow::Borrowed(&s[..p]),
                        Cow::Owned(s) => Cow::Owned(s[..p].to_string()),
                    },
                    _ => Cow::Borrowed(""),
                }),
            }
        }
        Func::UpperCase => Atom::Str(Cow::Owned(
            string_arg(&arg(0)?, "upper-case")?.to_uppercase(),
        )),
        Func::LowerCase => Atom::Str(Cow::Owned(
            string_arg(&arg(0)?, "lower-case")?.to_lowercase(),
        )),
        Func::Concat => {
            let mut s = String::new();
            for k in 0..args.len() {
                if let Some(a) = opt_atom(&arg(k)?, "concat")? {
                    s.push_str(&a.to_text());
                }
            }
            Atom::Str(Cow::Owned(s))
        }
        Func::StringJoin => {
            let items = arg(0)?;
            let sep = string_arg(&arg(1)?, "string-join")?;
            let mut s = String::new();
            for (k, it) in items.iter().enumerate() {
                if k > 0 {
                    s.push_str(&sep);
                }
                match it.atomize() {
                    Atom::Str(x) | Atom::Untyped(x) => s.push_str(&x),
                    other => {
                        return Err(DynamicError::new(
                            "XPTY0004",
                            format!(
                                "string-join() requires xs:string items, got {}",
                                other.type_name()
                            ),
                        ))
                    }
                }
            }
            Atom::Str(Cow::Owned(s))
        }
        Func::LocalName => Atom::Str(Cow::Borrowed(
            node_arg(args, ctx, vars, "local-name")?
                .as_ref()
                .map(local_name)
                .unwrap_or(""),
        )),
        Func::Name => Atom::Str(Cow::Borrowed(
            node_arg(args, ctx, vars, "name")?
                .as_ref()
                .map(lexical_name)
                .unwrap_or(""),
        )),
        Func::NamespaceUri => Atom::Str(Cow::Borrowed(
            node_arg(args, ctx, vars, "namespace-uri")?
                .as_ref()
                .map(namespace_uri)
                .unwrap_or(""),
        )),
        Func::Matches(re) => {
            let input = string_arg_of(&args[0], ctx, vars, "matches")?;
            match re {
                Some(re) => Atom::Bool(re.is_match(&input)),
                None => {
                    let pat = string_arg(&arg(1)?, "matches")?;
                    let flags = match args.get(2) {
                        Some(_) => string_arg(&arg(2)?, "matches")?,
                        None => Cow::Borrowed(""),
                    };
                    let re = crate::regex_xsd::compile_regex(&pat, &flags)?;
                    Atom::Bool(re.is_match(&input))
                }
            }
        }
    })
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn expression_nodes_stay_small() {
        // The compiled tree is walked for every document: keep nodes compact for the caches.
        assert!(
            std::mem::size_of::<super::Expr>() <= 48,
            "{}",
            std::mem::size_of::<super::Expr>()
        );
    }
}
