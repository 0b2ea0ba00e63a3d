//! Run-level filters from the config and flags: exclude globs on walked inputs, per-rule severity
//! overrides, and the progress bar.

use fsecheck_core::Severity;
use fsecheck_engine::Input;
use fsecheck_report::fingerprint::ProjectPaths;
use fsecheck_report::DocumentReport;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

/// `exclude` globs: a walked file whose path (as walked, or project-relative) matches is skipped.
/// Paths named on the command line are always checked.
pub struct Excludes {
    set: GlobSet,
    named: HashSet<PathBuf>,
    empty: bool,
}

impl Excludes {
    pub fn new(globs: &[String], named: &[PathBuf]) -> Result<Excludes, String> {
        let mut b = GlobSetBuilder::new();
        for g in globs {
            b.add(Glob::new(g).map_err(|e| format!("exclude glob '{g}': {e}"))?);
        }
        Ok(Excludes {
            set: b.build().map_err(|e| e.to_string())?,
            named: named.iter().cloned().collect(),
            empty: globs.is_empty(),
        })
    }

    /// Drop the excluded inputs.
    pub fn filter(&self, inputs: Vec<Input>) -> Vec<Input> {
        if self.empty {
            return inputs;
        }
        let mut paths = ProjectPaths::new();
        inputs
            .into_iter()
            .filter(|i| {
                let p = i.path();
                if self.named.contains(p) {
                    return true;
                }
                let shown = p.to_string_lossy();
                !(self.set.is_match(shown.as_ref()) || self.set.is_match(paths.relative(&shown)))
            })
            .collect()
    }
}

/// Per-rule severity overrides (`[severity]` in fsecheck.toml); `None` drops the findings.
#[derive(Default)]
pub struct Overrides(BTreeMap<String, Option<Severity>>);

impl Overrides {
    pub fn parse(map: &BTreeMap<String, String>) -> Result<Overrides, String> {
        let mut out = BTreeMap::new();
        for (id, s) in map {
            let sev = match s.as_str() {
                "error" => Some(Severity::Error),
                "warning" => Some(Severity::Warning),
                "info" => Some(Severity::Info),
                "off" => None,
                other => {
                    return Err(format!(
                        "config: severity of '{id}' is '{other}', not error, warning, info or off"
                    ))
                }
            };
            out.insert(id.clone(), sev);
        }
        Ok(Overrides(out))
    }

    /// Apply to a report and recompute its verdict (the gateway verdict is the gateway's own and
    /// is left alone).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn apply(&self, r: &mut DocumentReport) {
        if self.0.is_empty() || r.findings.is_empty() {
            return;
        }
        let mut changed = false;
        r.findings.retain_mut(|f| match self.0.get(&f.id) {
            Some(Some(s)) => {
                changed |= f.severity != *s;
                f.severity = *s;
                true
            }
            Some(None) => {
                changed = true;
                false
            }
            None => true,
        });
        if changed {
            r.finish();
        }
    }
}

/// A progress bar on standard error, only when it is a terminal and not hidden by flags.
pub fn progress(len: usize, hidden: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if hidden || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} documents, eta {eta}")
    {
        pb.set_style(style);
    }
    pb
}

#[cfg(test)]
mod tests {
    use super::*;
    use fsecheck_core::{Finding, Stage};
    use fsecheck_report::{Kind, Verdict};

    #[test]
    fn overrides_change_and_drop() {
        let mut m = BTreeMap::new();
        m.insert("sch/W001".to_string(), "error".to_string());
        m.insert("x/off".to_string(), "off".to_string());
        let o = Overrides::parse(&m).unwrap();
        let mut r = DocumentReport::new("a", Kind::Xml);
        r.findings
            .push(Finding::warning("sch/W001", Stage::Schematron, "w"));
        r.findings.push(Finding::error("x/off", Stage::Xml, "e"));
        r.finish();
        o.apply(&mut r);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].severity, Severity::Error);
        assert_eq!(r.verdict, Verdict::Fail);
        m.insert("y".into(), "fatal".into());
        assert!(Overrides::parse(&m).is_err());
    }

    #[test]
    fn excludes_skip_walked_files_but_not_named_ones() {
        let named = PathBuf::from("/x/drafts/keep.xml");
        let e = Excludes::new(&["**/drafts/**".to_string()], std::slice::from_ref(&named)).unwrap();
        let inputs = vec![
            Input::File(PathBuf::from("/x/drafts/a.xml")),
            Input::File(PathBuf::from("/x/final/a.xml")),
            Input::File(named.clone()),
        ];
        let kept: Vec<PathBuf> = e
            .filter(inputs)
            .iter()
            .map(|i| i.path().to_path_buf())
            .collect();
        assert_eq!(kept, vec![PathBuf::from("/x/final/a.xml"), named]);
        assert!(Excludes::new(&["a[".to_string()], &[]).is_err());
    }
}
