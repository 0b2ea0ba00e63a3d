//! Stable identities for findings, shared by the GitLab report, SARIF `partialFingerprints` and the
//! baseline: the same finding gets the same fingerprint across runs, machines and working folders.
//!
//! A finding's fingerprint hashes the document's *project path* (relative to the nearest folder
//! upward holding `.git` or `fsecheck.toml`, else to the current folder), the embedded part, the
//! rule id, and the XPath (else the JSON pointer, else the message with fiscal codes masked), plus
//! an occurrence counter for identical keys in one document. Never absolute paths, line numbers or
//! timings.

use crate::redact::mask_fiscal_codes;
use fsecheck_core::Finding;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// Maps input paths to project-relative paths, caching the project root of each folder.
#[derive(Debug, Default)]
pub struct ProjectPaths {
    roots: HashMap<PathBuf, Option<PathBuf>>,
    cwd: Option<PathBuf>,
}

fn is_project_root(dir: &Path) -> bool {
    dir.join(".git").exists() || dir.join("fsecheck.toml").is_file()
}

/// `path` made absolute and lexically normalised (`.` and `..` resolved), symlinks resolved when
/// the file exists.
fn absolute(path: &Path, cwd: Option<&Path>) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let joined = match (path.is_absolute(), cwd) {
        (false, Some(c)) => c.join(path),
        _ => path.to_path_buf(),
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn slashed(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl ProjectPaths {
    pub fn new() -> Self {
        let cwd = std::env::current_dir().ok();
        ProjectPaths {
            roots: HashMap::new(),
            cwd: cwd.map(|c| c.canonicalize().unwrap_or(c)),
        }
    }

    fn root_of(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(r) = self.roots.get(dir) {
            return r.clone();
        }
        let found = dir
            .ancestors()
            .find(|d| is_project_root(d))
            .map(Path::to_path_buf);
        self.roots.insert(dir.to_path_buf(), found.clone());
        found
    }

    /// The path of an input relative to its project root, with `/` separators.
    pub fn relative(&mut self, path: &str) -> String {
        let abs = absolute(Path::new(path), self.cwd.as_deref());
        let dir = abs.parent().unwrap_or(Path::new("/")).to_path_buf();
        let base = self.root_of(&dir).or_else(|| self.cwd.clone());
        match base.as_deref().and_then(|b| abs.strip_prefix(b).ok()) {
            Some(rel) => slashed(rel),
            // Outside any project and outside the current folder: the name is all that is stable.
            None => abs
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

/// What identifies a finding inside its document, line numbers aside.
fn finding_key(f: &Finding) -> String {
    let loc = &f.location;
    let place = loc
        .xpath
        .clone()
        .or_else(|| loc.pointer.clone())
        .unwrap_or_else(|| mask_fiscal_codes(&f.message).into_owned());
    format!(
        "{}\u{0}{}\u{0}{}",
        loc.part.as_deref().unwrap_or(""),
        f.id,
        place
    )
}

/// The fingerprints of a document's findings, in order (hex SHA-256).
pub fn fingerprints(project_path: &str, findings: &[Finding]) -> Vec<String> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let key = finding_key(f);
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            let mut h = Sha256::new();
            h.update(b"fsecheck/1\0");
            h.update(project_path.as_bytes());
            h.update(b"\0");
            h.update(key.as_bytes());
            h.update(format!("\0{}", n).as_bytes());
            let digest = h.finalize();
            digest.iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fsecheck_core::Stage;

    #[test]
    fn fingerprints_ignore_lines_and_count_repeats() {
        let a = Finding::error("xml/x", Stage::Xml, "m").with_xpath("/a[1]");
        let b = a.clone().with_line_col(3, 4);
        let fa = fingerprints("d/a.xml", std::slice::from_ref(&a));
        let fb = fingerprints("d/a.xml", std::slice::from_ref(&b));
        assert_eq!(fa, fb);
        assert_eq!(fa[0].len(), 64);
        let two = fingerprints("d/a.xml", &[a.clone(), a.clone()]);
        assert_ne!(two[0], two[1]);
        assert_eq!(two[0], fa[0]);
        assert_ne!(fingerprints("d/b.xml", &[a])[0], fa[0]);
        // Fiscal codes in messages do not enter the hash in clear, and do not matter.
        let c1 = Finding::error("x/y", Stage::Xml, "cf RSSMRA80A01H501U");
        let c2 = Finding::error("x/y", Stage::Xml, "cf BNCGVN70B02F205X");
        assert_eq!(fingerprints("p", &[c1]), fingerprints("p", &[c2]));
    }

    #[test]
    fn project_paths_are_relative_to_the_project_root() {
        let dir = std::env::temp_dir().join(format!("fsecheck-fp-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("proj/.git")).unwrap();
        std::fs::create_dir_all(dir.join("proj/docs/sub")).unwrap();
        let file = dir.join("proj/docs/sub/a.xml");
        std::fs::write(&file, "<a/>").unwrap();
        let mut pp = ProjectPaths::new();
        assert_eq!(pp.relative(&file.to_string_lossy()), "docs/sub/a.xml");
        let dotted = dir.join("proj/docs/./sub/../sub/a.xml");
        assert_eq!(pp.relative(&dotted.to_string_lossy()), "docs/sub/a.xml");
        // A missing file still gets a normalised path.
        let missing = dir.join("proj/docs/missing.xml");
        assert_eq!(pp.relative(&missing.to_string_lossy()), "docs/missing.xml");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
