//! XSLT 2.0 match patterns (rule contexts): unions of paths of child (`/`) and descendant (`//`)
//! steps with predicates, optionally rooted at `/` or `//`. Matching runs right to left.

use crate::eval::{self, Axis, Expr, NameTest, NodeTest, PathStep, Step};
use crate::value::{Atom, Item};
use crate::{CompileError, DynamicError, StaticContext, Variables};
use roxmltree::{Node, NodeType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// `a/b`: anywhere.
    Relative,
    /// `/a`: the first step's parent is the document node.
    Root,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Child,
    Descendant,
}

#[derive(Debug, Clone)]
struct Alt {
    anchor: Anchor,
    /// `/` alone: matches the document node.
    doc_only: bool,
    /// Left to right; the separator joins a step to the one before it (or to the anchor).
    steps: Vec<(Sep, Step)>,
}

/// A compiled match pattern. Immutable, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    alts: Vec<Alt>,
}

fn perr(msg: impl Into<String>) -> CompileError {
    CompileError {
        pos: 0,
        code: "XTSE0340",
        message: msg.into(),
    }
}

impl Pattern {
    /// Compile an XSLT match pattern (the subset: element steps on the child axis, `//`,
    /// predicates, `|`, leading `/` or `//`).
    pub fn compile(source: &str, ctx: &StaticContext) -> Result<Pattern, CompileError> {
        let e = crate::parser::parse_pattern_expr(source, ctx)?;
        let mut alts = Vec::new();
        match e {
            Expr::Union(items) => {
                for it in items {
                    alts.push(to_alt(it)?);
                }
            }
            other => alts.push(to_alt(other)?),
        }
        Ok(Pattern {
            source: source.to_string(),
            alts,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The expanded names `(namespace, local)` the pattern can match, or `None` when it can
    /// match elements of any name (wildcards). Used to index rules by element name.
    pub fn element_names(&self) -> Option<Vec<(Option<String>, String)>> {
        let mut v = Vec::new();
        for a in &self.alts {
            match a.steps.last() {
                Some((
                    _,
                    Step {
                        test:
                            NodeTest::Name {
                                test: NameTest::QName(q, _),
                                ..
                            },
                        ..
                    },
                )) => v.push((q.0.clone(), q.1.clone())),
                None if a.doc_only => {}
                _ => return None,
            }
        }
        Some(v)
    }

    /// Does `node` match? Predicates are evaluated with `node`'s ancestors as context and may
    /// read `vars` (global variables).
    pub fn matches<'a, 'i>(
        &'a self,
        node: Node<'a, 'i>,
        vars: &Variables<'a, 'i>,
    ) -> Result<bool, DynamicError> {
        self.matches_memo(node, vars, &mut PatternMemo::default())
    }

    /// [`Pattern::matches`] with a cache of ancestor-step predicate results, shared by all the
    /// patterns of one document pass (rule contexts repeat `…/hl7:section[hl7:code[@code='…']]/…`
    /// prefixes, so the same predicates are asked of the same ancestors again and again).
    pub fn matches_memo<'a, 'i>(
        &'a self,
        node: Node<'a, 'i>,
        vars: &Variables<'a, 'i>,
        memo: &mut PatternMemo,
    ) -> Result<bool, DynamicError> {
        for a in &self.alts {
            if a.doc_only {
                if node.node_type() == NodeType::Root {
                    return Ok(true);
                }
                continue;
            }
            if match_from(a, a.steps.len() - 1, node, vars, memo)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn to_alt(e: Expr) -> Result<Alt, CompileError> {
    let (anchor, steps) = match e {
        Expr::Root => {
            return Ok(Alt {
                anchor: Anchor::Root,
                doc_only: true,
                steps: vec![],
            })
        }
        Expr::Step(s) => (Anchor::Relative, vec![PathStep::Axis(*s)]),
        Expr::Path(start, steps, _) => match *start {
            Expr::Root => (Anchor::Root, steps),
            Expr::Context => (Anchor::Relative, steps),
            _ => return Err(perr("a pattern must start with a step, '/' or '//'")),
        },
        _ => return Err(perr("not a supported match pattern")),
    };
    let mut out: Vec<(Sep, Step)> = Vec::new();
    let mut sep = Sep::Child;
    let mut anchor = anchor;
    for st in steps {
        match st {
            PathStep::Axis(s)
                if s.axis == Axis::DescendantOrSelf
                    && matches!(s.test, NodeTest::AnyNode)
                    && s.preds.is_empty() =>
            {
                if sep == Sep::Descendant {
                    return Err(perr("'///' in pattern"));
                }
                sep = Sep::Descendant;
                if out.is_empty() && anchor == Anchor::Root {
                    // `//x`: x anywhere below the document node.
                    anchor = Anchor::Relative;
                }
            }
            PathStep::Axis(s) if s.axis == Axis::Child => {
                if !matches!(
                    s.test,
                    NodeTest::Name { attr: false, .. } | NodeTest::AnyElement
                ) {
                    return Err(perr("only element name tests are supported in patterns"));
                }
                out.push((sep, s));
                sep = Sep::Child;
            }
            PathStep::Axis(s) => {
                return Err(perr(format!(
                    "axis {:?} is not supported in patterns",
                    s.axis
                )))
            }
            PathStep::Expr(_) => {
                return Err(perr(
                    "function calls and filter expressions are not supported in patterns",
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(perr("empty pattern"));
    }
    for (_, s) in out.iter_mut() {
        s.preds = std::mem::take(&mut s.preds)
            .into_iter()
            .map(eval::optimize)
            .collect();
    }
    Ok(Alt {
        anchor,
        doc_only: false,
        steps: out,
    })
}

fn step_matches<'a, 'i>(
    step: &'a Step,
    node: Node<'a, 'i>,
    upto: usize,
    vars: &Variables<'a, 'i>,
    memo: &mut PatternMemo,
) -> Result<bool, DynamicError> {
    let ok = match &step.test {
        NodeTest::Name {
            test: NameTest::QName(_, id),
            ..
        } if vars.index_for(node).is_some_and(|ix| ix.knows(*id)) => {
            vars.index_for(node).is_some_and(|ix| ix.name(node) == *id)
        }
        NodeTest::Name { test, .. } => {
            node.is_element() && {
                let t = node.tag_name();
                test.matches(t.namespace(), t.name())
            }
        }
        NodeTest::AnyElement => node.is_element(),
        _ => false,
    };
    if !ok {
        return Ok(false);
    }
    for (j, p) in step.preds[..upto].iter().enumerate() {
        let item = Item::Node(node);
        if eval::pred_is_boolean(p) {
            // e.g. `*[contains(local-name(), 'Organization')]`: cached per element name
            let name_id = if eval::name_only(p) {
                vars.index_for(node).and_then(|ix| ix.name_id(node))
            } else {
                None
            };
            let holds = match name_id {
                Some(id) => {
                    let key = (p as *const Expr as usize, id);
                    match memo.by_name.get(&key) {
                        Some(b) => *b,
                        None => {
                            let b = eval::eval_bool(p, &item, vars)?;
                            memo.by_name.insert(key, b);
                            b
                        }
                    }
                }
                None => eval::eval_bool(p, &item, vars)?,
            };
            if !holds {
                return Ok(false);
            }
            continue;
        }
        let v = eval::eval(p, &item, vars)?;
        let holds = match v.as_slice() {
            [Item::Atom(Atom::Int(_))] | [Item::Atom(Atom::Double(_))] => {
                let want = match &v[0] {
                    Item::Atom(Atom::Int(n)) => *n as f64,
                    Item::Atom(Atom::Double(d)) => *d,
                    _ => f64::NAN,
                };
                // position among the preceding siblings that pass the test and earlier predicates
                let mut pos = 1usize;
                for s in node.prev_siblings().skip(1) {
                    if step_matches(step, s, j, vars, memo)? {
                        pos += 1;
                    }
                }
                want == pos as f64
            }
            _ => eval::ebv(&v)?,
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Cache of `(step, node) → step matches` for ancestor steps with predicates, valid for one
/// document and one set of global variables.
#[derive(Debug, Default)]
pub struct PatternMemo {
    map: crate::index::FnvMap<(usize, usize), bool>,
    by_name: crate::index::FnvMap<(usize, u32), bool>,
}

fn match_from<'a, 'i>(
    alt: &'a Alt,
    k: usize,
    node: Node<'a, 'i>,
    vars: &Variables<'a, 'i>,
    memo: &mut PatternMemo,
) -> Result<bool, DynamicError> {
    let (sep, step) = &alt.steps[k];
    let ok = if k + 1 < alt.steps.len() && !step.preds.is_empty() {
        let key = (step as *const Step as usize, node.id().get_usize());
        match memo.map.get(&key) {
            Some(b) => *b,
            None => {
                let b = step_matches(step, node, step.preds.len(), vars, memo)?;
                memo.map.insert(key, b);
                b
            }
        }
    } else {
        step_matches(step, node, step.preds.len(), vars, memo)?
    };
    if !ok {
        return Ok(false);
    }
    if k == 0 {
        return Ok(match (alt.anchor, sep) {
            (Anchor::Relative, Sep::Child) => true,
            (Anchor::Relative, Sep::Descendant) => {
                // `//x`: x must be in a tree rooted at a document node
                node.ancestors().any(|a| a.node_type() == NodeType::Root)
            }
            (Anchor::Root, _) => node
                .parent()
                .is_some_and(|p| p.node_type() == NodeType::Root),
        });
    }
    match sep {
        Sep::Child => match node.parent() {
            Some(p) if p.is_element() => match_from(alt, k - 1, p, vars, memo),
            _ => Ok(false),
        },
        Sep::Descendant => {
            for a in node.ancestors().skip(1) {
                if a.is_element() && match_from(alt, k - 1, a, vars, memo)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}
