//! Content models: particles compiled to deterministic automata (Glushkov construction).
//!
//! Occurrence ranges are unrolled (`x{2,∞}` = `x x x*`, `x{0,2}` = `(x x?)?`), so every state of
//! the automaton is an element position. The Unique Particle Attribution rule of XSD makes the
//! Glushkov automaton deterministic; a model where it does not is refused as a schema error.

/// Index into `Model::elems`.
pub(crate) type ElemId = u32;

#[derive(Debug, Clone)]
pub(crate) enum Term {
    Elem(ElemId),
    Seq(Vec<Particle>),
    Choice(Vec<Particle>),
}

#[derive(Debug, Clone)]
pub(crate) struct Particle {
    pub min: u32,
    /// `None` = unbounded.
    pub max: Option<u32>,
    pub term: Term,
}

/// One state: transitions by element declaration, and whether the content may end here.
#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    pub trans: Vec<(ElemId, u32)>,
    pub accept: bool,
}

/// A deterministic automaton; state 0 is the start.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dfa {
    pub states: Vec<State>,
}

enum Re {
    Eps,
    Sym(u32),
    Cat(Vec<Re>),
    Alt(Vec<Re>),
    Opt(Box<Re>),
    Star(Box<Re>),
}

const MAX_UNROLL: u32 = 64;

fn expand(p: &Particle, labels: &mut Vec<ElemId>) -> Result<Re, String> {
    if p.max == Some(0) {
        return Ok(Re::Eps);
    }
    if p.max.is_some_and(|m| m < p.min) {
        return Err("maxOccurs is smaller than minOccurs".into());
    }
    if p.min > MAX_UNROLL || p.max.is_some_and(|m| m > MAX_UNROLL) {
        return Err(format!(
            "occurrence bounds above {MAX_UNROLL} are not supported"
        ));
    }
    let term = |labels: &mut Vec<ElemId>| -> Result<Re, String> {
        Ok(match &p.term {
            Term::Elem(e) => {
                labels.push(*e);
                Re::Sym(labels.len() as u32 - 1)
            }
            Term::Seq(ps) => Re::Cat(
                ps.iter()
                    .map(|q| expand(q, labels))
                    .collect::<Result<_, _>>()?,
            ),
            Term::Choice(ps) => Re::Alt(
                ps.iter()
                    .map(|q| expand(q, labels))
                    .collect::<Result<_, _>>()?,
            ),
        })
    };
    let mut parts = Vec::new();
    for _ in 0..p.min {
        parts.push(term(labels)?);
    }
    match p.max {
        None => parts.push(Re::Star(Box::new(term(labels)?))),
        Some(max) => {
            // (x (x (x)?)?)? for the optional copies keeps the automaton deterministic.
            let mut tail: Option<Re> = None;
            for _ in p.min..max {
                let t = term(labels)?;
                tail = Some(Re::Opt(Box::new(match tail {
                    None => t,
                    Some(rest) => Re::Cat(vec![t, rest]),
                })));
            }
            // Build order matters only for position numbering, not the language.
            if let Some(t) = tail {
                parts.push(t);
            }
        }
    }
    Ok(match parts.len() {
        0 => Re::Eps,
        1 => parts.pop().unwrap(),
        _ => Re::Cat(parts),
    })
}

struct Info {
    nullable: bool,
    first: Vec<u32>,
    last: Vec<u32>,
}

fn union_into(a: &mut Vec<u32>, b: &[u32]) {
    for &x in b {
        if !a.contains(&x) {
            a.push(x);
        }
    }
}

fn glushkov(re: &Re, follow: &mut [Vec<u32>]) -> Info {
    match re {
        Re::Eps => Info {
            nullable: true,
            first: vec![],
            last: vec![],
        },
        Re::Sym(p) => Info {
            nullable: false,
            first: vec![*p],
            last: vec![*p],
        },
        Re::Opt(r) => {
            let i = glushkov(r, follow);
            Info {
                nullable: true,
                ..i
            }
        }
        Re::Star(r) => {
            let i = glushkov(r, follow);
            for &l in &i.last {
                let f = i.first.clone();
                union_into(&mut follow[l as usize], &f);
            }
            Info {
                nullable: true,
                ..i
            }
        }
        Re::Alt(rs) => {
            let mut out = Info {
                nullable: false,
                first: vec![],
                last: vec![],
            };
            for r in rs {
                let i = glushkov(r, follow);
                out.nullable |= i.nullable;
                union_into(&mut out.first, &i.first);
                union_into(&mut out.last, &i.last);
            }
            if rs.is_empty() {
                // An empty choice matches nothing; XSD says such content is never satisfiable.
                out.nullable = false;
            }
            out
        }
        Re::Cat(rs) => {
            let mut out = Info {
                nullable: true,
                first: vec![],
                last: vec![],
            };
            for r in rs {
                let i = glushkov(r, follow);
                for &l in &out.last {
                    union_into(&mut follow[l as usize], &i.first);
                }
                if out.nullable {
                    union_into(&mut out.first, &i.first);
                }
                if i.nullable {
                    union_into(&mut out.last, &i.last);
                } else {
                    out.last = i.last;
                }
                out.nullable &= i.nullable;
            }
            out
        }
    }
}

fn count_syms(re: &Re) -> usize {
    match re {
        Re::Eps => 0,
        Re::Sym(_) => 1,
        Re::Opt(r) | Re::Star(r) => count_syms(r),
        Re::Cat(rs) | Re::Alt(rs) => rs.iter().map(count_syms).sum(),
    }
}

/// Compiles a particle. `same_name(a, b)` tells whether two declarations have the same
/// expanded name (a clash of two positions is a UPA violation).
pub(crate) fn compile(
    particle: Option<&Particle>,
    same_name: impl Fn(ElemId, ElemId) -> bool,
) -> Result<Dfa, String> {
    let Some(particle) = particle else {
        return Ok(Dfa {
            states: vec![State {
                trans: vec![],
                accept: true,
            }],
        });
    };
    let mut labels = Vec::new();
    let re = expand(particle, &mut labels)?;
    debug_assert_eq!(count_syms(&re), labels.len());
    let mut follow = vec![Vec::new(); labels.len()];
    let info = glushkov(&re, &mut follow);
    let mut states = Vec::with_capacity(labels.len() + 1);
    let mk = |set: &[u32]| -> Result<Vec<(ElemId, u32)>, String> {
        let mut trans: Vec<(ElemId, u32)> = Vec::with_capacity(set.len());
        let mut sorted = set.to_vec();
        sorted.sort_unstable();
        for p in sorted {
            let e = labels[p as usize];
            if trans.iter().any(|&(o, _)| same_name(o, e)) {
                return Err(
                    "content model is not deterministic (Unique Particle Attribution)".into(),
                );
            }
            trans.push((e, p + 1));
        }
        Ok(trans)
    };
    states.push(State {
        trans: mk(&info.first)?,
        accept: info.nullable,
    });
    for (p, f) in follow.iter().enumerate() {
        states.push(State {
            trans: mk(f)?,
            accept: info.last.contains(&(p as u32)),
        });
    }
    Ok(Dfa { states })
}

impl Dfa {
    /// States reachable from `from` (itself included), breadth first.
    pub fn reachable(&self, from: u32) -> Vec<u32> {
        let mut seen = vec![false; self.states.len()];
        let mut out = vec![from];
        seen[from as usize] = true;
        let mut i = 0;
        while i < out.len() {
            for &(_, t) in &self.states[out[i] as usize].trans {
                if !seen[t as usize] {
                    seen[t as usize] = true;
                    out.push(t);
                }
            }
            i += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(e: ElemId, min: u32, max: Option<u32>) -> Particle {
        Particle {
            min,
            max,
            term: Term::Elem(e),
        }
    }

    fn run(d: &Dfa, word: &[ElemId]) -> bool {
        let mut s = 0u32;
        for &w in word {
            match d.states[s as usize].trans.iter().find(|&&(e, _)| e == w) {
                Some(&(_, t)) => s = t,
                None => return false,
            }
        }
        d.states[s as usize].accept
    }

    #[test]
    fn sequence_with_occurrences() {
        // a, b{2,∞}, c?
        let p = Particle {
            min: 1,
            max: Some(1),
            term: Term::Seq(vec![el(0, 1, Some(1)), el(1, 2, None), el(2, 0, Some(1))]),
        };
        let d = compile(Some(&p), |a, b| a == b).unwrap();
        assert!(run(&d, &[0, 1, 1]));
        assert!(run(&d, &[0, 1, 1, 1, 2]));
        assert!(!run(&d, &[0, 1, 2]));
        assert!(!run(&d, &[1, 1]));
        assert!(!run(&d, &[0, 1, 1, 2, 2]));
    }

    #[test]
    fn bounded_optional_copies_stay_deterministic() {
        let p = el(0, 0, Some(3));
        let d = compile(Some(&p), |a, b| a == b).unwrap();
        assert!(run(&d, &[]));
        assert!(run(&d, &[0, 0, 0]));
        assert!(!run(&d, &[0, 0, 0, 0]));
    }

    #[test]
    fn upa_violation_is_refused() {
        // (a | a)
        let p = Particle {
            min: 1,
            max: Some(1),
            term: Term::Choice(vec![el(0, 1, Some(1)), el(0, 1, Some(1))]),
        };
        assert!(compile(Some(&p), |a, b| a == b).is_err());
    }
}
