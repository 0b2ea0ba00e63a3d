//! Recursive-descent parser for the supported XPath 2.0 subset, producing the executable form
//! directly (prefixes, variables and functions are resolved here, against the static context).

use crate::eval::{Axis, Expr, Func, NameTest, NodeTest, PathStep, Step};
use crate::lexer::{tokenize, Tok, Token};
use crate::value::{Atom, CmpOp};
use crate::{CompileError, StaticContext};
use std::borrow::Cow;

pub(crate) struct Parser<'c> {
    toks: Vec<Token>,
    i: usize,
    ctx: &'c StaticContext,
}

pub(crate) fn parse_expr(src: &str, ctx: &StaticContext) -> Result<Expr, CompileError> {
    let mut p = Parser {
        toks: tokenize(src)?,
        i: 0,
        ctx,
    };
    let e = p.expr()?;
    p.expect_eof()?;
    Ok(crate::eval::optimize(e))
}

/// Parse for a match pattern: same grammar, returns the expression tree that
/// [`crate::pattern`] converts.
pub(crate) fn parse_pattern_expr(src: &str, ctx: &StaticContext) -> Result<Expr, CompileError> {
    let mut p = Parser {
        toks: tokenize(src)?,
        i: 0,
        ctx,
    };
    let e = p.expr()?;
    p.expect_eof()?;
    Ok(e)
}

fn err(pos: usize, code: &'static str, msg: impl Into<String>) -> CompileError {
    CompileError {
        pos,
        code,
        message: msg.into(),
    }
}

const KIND_TESTS: &[&str] = &[
    "node",
    "text",
    "comment",
    "processing-instruction",
    "element",
    "attribute",
    "document-node",
    "schema-element",
    "schema-attribute",
    "item",
    "empty-sequence",
];

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }
    fn peek_at(&self, k: usize) -> &Tok {
        let j = (self.i + k).min(self.toks.len() - 1);
        &self.toks[j].tok
    }
    fn pos(&self) -> usize {
        self.toks[self.i].pos
    }
    fn bump(&mut self) -> Token {
        if self.i < self.toks.len() - 1 {
            // Tokens are never looked at again once consumed: move instead of cloning.
            let pos = self.toks[self.i].pos;
            let t = std::mem::replace(&mut self.toks[self.i], Token { tok: Tok::Eof, pos });
            self.i += 1;
            t
        } else {
            self.toks[self.i].clone()
        }
    }
    fn is_name(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == s)
    }
    fn expect(&mut self, t: Tok, what: &str) -> Result<(), CompileError> {
        if *self.peek() == t {
            self.bump();
            Ok(())
        } else {
            Err(err(
                self.pos(),
                "XPST0003",
                format!("expected {what}, found {}", self.describe()),
            ))
        }
    }
    fn describe(&self) -> String {
        match self.peek() {
            Tok::Eof => "end of expression".into(),
            Tok::Name(n) => format!("'{n}'"),
            Tok::Op(o) => format!("'{o}'"),
            t => format!("{t:?}"),
        }
    }
    fn expect_eof(&mut self) -> Result<(), CompileError> {
        if *self.peek() == Tok::Eof {
            return Ok(());
        }
        let pos = self.pos();
        let msg = match self.peek() {
            Tok::Op(o) => format!("operator '{o}' is not supported"),
            Tok::Star => "operator '*' (multiplication) is not supported".into(),
            Tok::Name(n)
                if matches!(
                    n.as_str(),
                    "div"
                        | "idiv"
                        | "mod"
                        | "eq"
                        | "ne"
                        | "lt"
                        | "le"
                        | "gt"
                        | "ge"
                        | "is"
                        | "to"
                        | "union"
                        | "intersect"
                        | "except"
                        | "instance"
                        | "treat"
                        | "castable"
                        | "cast"
                ) =>
            {
                format!("operator '{n}' is not supported")
            }
            _ => format!("unexpected {}", self.describe()),
        };
        Err(err(pos, "XPST0003", msg))
    }

    // Expr ::= ExprSingle ("," ExprSingle)*
    fn expr(&mut self) -> Result<Expr, CompileError> {
        let first = self.expr_single()?;
        if *self.peek() != Tok::Comma {
            return Ok(first);
        }
        let mut items = vec![first];
        while *self.peek() == Tok::Comma {
            self.bump();
            items.push(self.expr_single()?);
        }
        Ok(Expr::Seq(items))
    }

    fn expr_single(&mut self) -> Result<Expr, CompileError> {
        if let Tok::Name(n) = self.peek() {
            let n = n.clone();
            match (n.as_str(), self.peek_at(1)) {
                ("if", Tok::LParen) => return self.if_expr(),
                ("for" | "some" | "every", Tok::Var(_)) => {
                    return Err(err(
                        self.pos(),
                        "XPST0003",
                        format!("'{n}' expressions are not supported"),
                    ))
                }
                ("typeswitch", Tok::LParen) => {
                    return Err(err(self.pos(), "XPST0003", "'typeswitch' is not supported"))
                }
                _ => {}
            }
        }
        self.or_expr()
    }

    fn if_expr(&mut self) -> Result<Expr, CompileError> {
        self.bump(); // if
        self.expect(Tok::LParen, "'('")?;
        let c = self.expr()?;
        self.expect(Tok::RParen, "')'")?;
        if !self.is_name("then") {
            return Err(err(self.pos(), "XPST0003", "expected 'then'"));
        }
        self.bump();
        let t = self.expr_single()?;
        if !self.is_name("else") {
            return Err(err(self.pos(), "XPST0003", "expected 'else'"));
        }
        self.bump();
        let e = self.expr_single()?;
        Ok(Expr::If(Box::new(c), Box::new(t), Box::new(e)))
    }

    fn or_expr(&mut self) -> Result<Expr, CompileError> {
        let mut l = self.and_expr()?;
        while self.is_name("or") {
            self.bump();
            let r = self.and_expr()?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and_expr(&mut self) -> Result<Expr, CompileError> {
        let mut l = self.comparison()?;
        while self.is_name("and") {
            self.bump();
            let r = self.comparison()?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn comparison(&mut self) -> Result<Expr, CompileError> {
        let l = self.union_expr()?;
        let op = match self.peek() {
            Tok::Eq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            _ => return Ok(l),
        };
        self.bump();
        let r = self.union_expr()?;
        if matches!(
            self.peek(),
            Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge
        ) {
            return Err(err(
                self.pos(),
                "XPST0003",
                "comparisons are not associative",
            ));
        }
        Ok(Expr::Cmp(op, Box::new(l), Box::new(r)))
    }

    fn union_expr(&mut self) -> Result<Expr, CompileError> {
        let first = self.path_expr()?;
        if !(matches!(self.peek(), Tok::Op("|")) || self.is_name("union")) {
            return Ok(first);
        }
        let mut items = vec![first];
        while matches!(self.peek(), Tok::Op("|")) || self.is_name("union") {
            self.bump();
            items.push(self.path_expr()?);
        }
        Ok(Expr::Union(items))
    }

    fn path_expr(&mut self) -> Result<Expr, CompileError> {
        let pos = self.pos();
        match self.peek() {
            Tok::Op("-") | Tok::Op("+") => Err(err(
                pos,
                "XPST0003",
                "unary and arithmetic operators are not supported",
            )),
            Tok::Slash => {
                self.bump();
                if self.starts_step() {
                    let steps = self.relative_path()?;
                    Ok(Expr::Path(Box::new(Expr::Root), steps, false))
                } else {
                    Ok(Expr::Root)
                }
            }
            Tok::DSlash => {
                self.bump();
                let mut steps = vec![PathStep::Axis(Step::desc_or_self())];
                steps.extend(self.relative_path()?);
                Ok(Expr::Path(Box::new(Expr::Root), steps, false))
            }
            _ => {
                let first = self.step_expr()?;
                if !matches!(self.peek(), Tok::Slash | Tok::DSlash) {
                    return Ok(match first {
                        PathStep::Axis(s) => Expr::Step(Box::new(s)),
                        PathStep::Expr(e) => e,
                    });
                }
                let (start, mut steps) = match first {
                    PathStep::Axis(s) => (Expr::Context, vec![PathStep::Axis(s)]),
                    PathStep::Expr(e) => (e, vec![]),
                };
                while matches!(self.peek(), Tok::Slash | Tok::DSlash) {
                    if self.bump().tok == Tok::DSlash {
                        steps.push(PathStep::Axis(Step::desc_or_self()));
                    }
                    steps.push(self.step_expr()?);
                }
                Ok(Expr::Path(Box::new(start), steps, false))
            }
        }
    }

    fn starts_step(&self) -> bool {
        matches!(
            self.peek(),
            Tok::Name(_)
                | Tok::PrefixWildcard(_)
                | Tok::LocalWildcard(_)
                | Tok::Star
                | Tok::At
                | Tok::Dot
                | Tok::DDot
                | Tok::Var(_)
                | Tok::LParen
                | Tok::Str(_)
                | Tok::Int(_)
                | Tok::Num(_)
        ) && !(matches!(self.peek(), Tok::Name(n) if matches!(n.as_str(), "and" | "or" | "then" | "else")))
    }

    fn relative_path(&mut self) -> Result<Vec<PathStep>, CompileError> {
        let mut steps = vec![self.step_expr()?];
        while matches!(self.peek(), Tok::Slash | Tok::DSlash) {
            if self.bump().tok == Tok::DSlash {
                steps.push(PathStep::Axis(Step::desc_or_self()));
            }
            steps.push(self.step_expr()?);
        }
        Ok(steps)
    }

    fn step_expr(&mut self) -> Result<PathStep, CompileError> {
        let pos = self.pos();
        // Primary expressions (filter expressions)
        let is_primary = match self.peek() {
            Tok::Str(_) | Tok::Int(_) | Tok::Num(_) | Tok::Var(_) | Tok::LParen | Tok::Dot => true,
            Tok::Name(n) => {
                *self.peek_at(1) == Tok::LParen && !KIND_TESTS.contains(&n.as_str()) && n != "if"
            }
            _ => false,
        };
        if is_primary {
            let prim = self.primary()?;
            let preds = self.predicates()?;
            return Ok(PathStep::Expr(if preds.is_empty() {
                prim
            } else {
                Expr::Filter(Box::new(prim), preds)
            }));
        }
        let (axis, test) = match self.peek().clone() {
            Tok::DDot => {
                self.bump();
                (Axis::Parent, NodeTest::AnyNode)
            }
            Tok::At => {
                self.bump();
                (Axis::Attribute, self.node_test(true)?)
            }
            Tok::Name(n) if *self.peek_at(1) == Tok::ColonColon => {
                let axis = match n.as_str() {
                    "child" => Axis::Child,
                    "attribute" => Axis::Attribute,
                    "parent" => Axis::Parent,
                    "ancestor" => Axis::Ancestor,
                    "ancestor-or-self" => Axis::AncestorOrSelf,
                    "self" => Axis::SelfNode,
                    "descendant" => Axis::Descendant,
                    "descendant-or-self" => Axis::DescendantOrSelf,
                    "following-sibling" => Axis::FollowingSibling,
                    "preceding-sibling" => Axis::PrecedingSibling,
                    "following" | "preceding" | "namespace" => {
                        return Err(err(pos, "XPST0003", format!("axis '{n}' is not supported")))
                    }
                    _ => return Err(err(pos, "XPST0003", format!("unknown axis '{n}'"))),
                };
                self.bump();
                self.bump();
                (axis, self.node_test(axis == Axis::Attribute)?)
            }
            Tok::Name(_) | Tok::PrefixWildcard(_) | Tok::LocalWildcard(_) | Tok::Star => {
                (Axis::Child, self.node_test(false)?)
            }
            _ => {
                return Err(err(
                    pos,
                    "XPST0003",
                    format!("expected a step, found {}", self.describe()),
                ))
            }
        };
        let preds = self.predicates()?;
        Ok(PathStep::Axis(Step {
            axis,
            test,
            preds,
            streamable: false,
        }))
    }

    fn predicates(&mut self) -> Result<Vec<Expr>, CompileError> {
        let mut preds = Vec::new();
        while *self.peek() == Tok::LBracket {
            self.bump();
            preds.push(self.expr()?);
            self.expect(Tok::RBracket, "']'")?;
        }
        Ok(preds)
    }

    fn resolve_prefix(&self, prefix: &str, pos: usize) -> Result<String, CompileError> {
        self.ctx
            .namespace(prefix)
            .map(|s| s.to_string())
            .ok_or_else(|| {
                err(
                    pos,
                    "XPST0081",
                    format!("namespace prefix '{prefix}' is not declared"),
                )
            })
    }

    fn node_test(&mut self, attribute_axis: bool) -> Result<NodeTest, CompileError> {
        let pos = self.pos();
        let principal_attr = attribute_axis;
        match self.bump().tok {
            Tok::Star => Ok(NodeTest::Name {
                attr: principal_attr,
                test: NameTest::Any,
            }),
            Tok::PrefixWildcard(p) => {
                let ns = self.resolve_prefix(&p, pos)?;
                Ok(NodeTest::Name {
                    attr: principal_attr,
                    test: NameTest::Ns(ns),
                })
            }
            Tok::LocalWildcard(l) => Ok(NodeTest::Name {
                attr: principal_attr,
                test: NameTest::Local(l),
            }),
            Tok::Name(n) => {
                if *self.peek() == Tok::LParen && KIND_TESTS.contains(&n.as_str()) {
                    self.bump();
                    let t = match n.as_str() {
                        "node" => NodeTest::AnyNode,
                        "text" => NodeTest::Text,
                        "comment" => NodeTest::Comment,
                        "element" if *self.peek() == Tok::RParen => NodeTest::AnyElement,
                        _ => {
                            return Err(err(
                                pos,
                                "XPST0003",
                                format!("kind test '{n}()' is not supported"),
                            ))
                        }
                    };
                    self.expect(Tok::RParen, "')'")?;
                    return Ok(t);
                }
                let (ns, local) = match n.split_once(':') {
                    Some((p, l)) => (Some(self.resolve_prefix(p, pos)?), l.to_string()),
                    // No default element namespace: unprefixed names are in no namespace.
                    None => (None, n),
                };
                let id = crate::index::intern(ns.as_deref(), &local);
                Ok(NodeTest::Name {
                    attr: principal_attr,
                    test: NameTest::QName(Box::new((ns, local)), id),
                })
            }
            _ => Err(err(pos, "XPST0003", "expected a node test")),
        }
    }

    fn primary(&mut self) -> Result<Expr, CompileError> {
        let pos = self.pos();
        match self.bump().tok {
            Tok::Str(s) => Ok(Expr::Lit(Atom::Str(Cow::Owned(s)))),
            Tok::Int(i) => Ok(Expr::Lit(Atom::Int(i))),
            Tok::Num(d) => Ok(Expr::Lit(Atom::Double(d))),
            Tok::Dot => Ok(Expr::Context),
            Tok::Var(name) => match self.ctx.variable(&name) {
                Some(slot) => Ok(Expr::Var(slot)),
                None => Err(err(
                    pos,
                    "XPST0008",
                    format!("variable ${name} is not declared"),
                )),
            },
            Tok::LParen => {
                if *self.peek() == Tok::RParen {
                    self.bump();
                    return Ok(Expr::Seq(vec![]));
                }
                let e = self.expr()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::Name(name) => {
                self.expect(Tok::LParen, "'('")?;
                let mut args = Vec::new();
                if *self.peek() != Tok::RParen {
                    args.push(self.expr_single()?);
                    while *self.peek() == Tok::Comma {
                        self.bump();
                        args.push(self.expr_single()?);
                    }
                }
                self.expect(Tok::RParen, "')'")?;
                self.function(&name, args, pos)
            }
            _ => Err(err(pos, "XPST0003", "expected an expression")),
        }
    }

    fn function(&mut self, name: &str, args: Vec<Expr>, pos: usize) -> Result<Expr, CompileError> {
        let local = match name.split_once(':') {
            Some(("fn", l)) => l,
            Some((p, _)) => {
                return Err(err(
                    pos,
                    "XPST0017",
                    format!("function {name}() is not supported (prefix '{p}')"),
                ))
            }
            None => name,
        };
        let n = args.len();
        let (f, min, max) = match local {
            "count" => (Func::Count, 1, 1),
            "not" => (Func::Not, 1, 1),
            "boolean" => (Func::Boolean, 1, 1),
            "true" => (Func::True, 0, 0),
            "false" => (Func::False, 0, 0),
            "exists" => (Func::Exists, 1, 1),
            "empty" => (Func::Empty, 1, 1),
            "string" => (Func::String, 0, 1),
            "number" => (Func::Number, 0, 1),
            "string-length" => (Func::StringLength, 0, 1),
            "normalize-space" => (Func::NormalizeSpace, 0, 1),
            "contains" => (Func::Contains, 2, 2),
            "starts-with" => (Func::StartsWith, 2, 2),
            "ends-with" => (Func::EndsWith, 2, 2),
            "substring-after" => (Func::SubstringAfter, 2, 2),
            "substring-before" => (Func::SubstringBefore, 2, 2),
            "upper-case" => (Func::UpperCase, 1, 1),
            "lower-case" => (Func::LowerCase, 1, 1),
            "concat" => (Func::Concat, 2, usize::MAX),
            "string-join" => (Func::StringJoin, 2, 2),
            "local-name" => (Func::LocalName, 0, 1),
            "name" => (Func::Name, 0, 1),
            "namespace-uri" => (Func::NamespaceUri, 0, 1),
            "matches" => (Func::Matches(None), 2, 3),
            _ => {
                return Err(err(
                    pos,
                    "XPST0017",
                    format!("function {name}#{n} is not supported by fsecheck-xpath"),
                ))
            }
        };
        if n < min || n > max {
            return Err(err(
                pos,
                "XPST0017",
                format!("function {name}() does not take {n} argument(s)"),
            ));
        }
        if let Func::Matches(_) = f {
            // Literal pattern (and flags): translate and compile once, now.
            let flags = match args.get(2) {
                None => Some(String::new()),
                Some(Expr::Lit(Atom::Str(s))) => Some(s.to_string()),
                Some(_) => None,
            };
            if let (Some(Expr::Lit(Atom::Str(p))), Some(flags)) = (args.get(1), flags) {
                let re = crate::regex_xsd::compile_regex(p, &flags)
                    .map_err(|e| err(pos, e.code, format!("in matches(): {}", e.message)))?;
                return Ok(Expr::Call(Func::Matches(Some(Box::new(re))), args));
            }
        }
        Ok(Expr::Call(f, args))
    }
}
