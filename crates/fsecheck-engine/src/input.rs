//! Turning the command line's paths into the list of inputs: files found recursively, sorted,
//! each once; anything that cannot be walked becomes an input of its own with a finding.

use fsecheck_core::{Finding, Stage};
use std::path::{Path, PathBuf};

/// One input: a file to check, an entry of a zip archive, or a path that could not be walked
/// (or an archive that could not be expanded) and carries its finding.
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    Problem {
        path: PathBuf,
        finding: Box<Finding>,
    },
    /// An entry of a zip archive, displayed as `archive.zip!/dir/file.pdf`.
    Entry(Box<crate::archive::Entry>),
}

impl Input {
    /// The displayed path (for an archive entry, `archive.zip!/name`).
    pub fn path(&self) -> &Path {
        match self {
            Input::File(p) | Input::Problem { path: p, .. } => p,
            Input::Entry(e) => &e.path,
        }
    }

    pub fn display(&self) -> String {
        self.path().to_string_lossy().into_owned()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct WalkOptions {
    /// Include dot-files and dot-directories found while walking (named ones are always taken).
    pub hidden: bool,
    /// Follow symbolic links (loops become findings).
    pub follow_links: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            hidden: false,
            follow_links: true,
        }
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .is_some_and(|s| s.starts_with('.') && s != "." && s != "..")
}

fn problem(path: PathBuf, id: &str, message: String, hint: &str) -> Input {
    Input::Problem {
        path,
        finding: Box::new(Finding::error(id, Stage::Input, message).with_hint(hint)),
    }
}

/// Expand `paths` into inputs, sorted by path, duplicates removed.
pub fn collect_inputs(paths: &[PathBuf], opts: WalkOptions) -> Vec<Input> {
    let mut out = Vec::new();
    for p in paths {
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) => {
                let (id, hint) = match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        ("input/not-found", "Check the path; nothing exists there.")
                    }
                    std::io::ErrorKind::PermissionDenied => (
                        "input/permission-denied",
                        "fsecheck may not read this path.",
                    ),
                    _ => ("input/unreadable", "The path could not be inspected."),
                };
                // A dangling or looping symlink: say which.
                let msg = if std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
                {
                    format!("broken or looping symbolic link: {e}")
                } else {
                    format!("cannot access: {e}")
                };
                out.push(problem(p.clone(), id, msg, hint));
                continue;
            }
        };
        if !meta.is_dir() {
            out.push(Input::File(p.clone()));
            continue;
        }
        let walker = walkdir::WalkDir::new(p)
            .follow_links(opts.follow_links)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || opts.hidden || !is_hidden(e.file_name()));
        for entry in walker {
            match entry {
                Ok(e) => {
                    if e.file_type().is_file() {
                        out.push(Input::File(e.into_path()));
                    } else if e.path_is_symlink() && !opts.follow_links {
                        continue;
                    }
                }
                Err(e) => {
                    let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| p.clone());
                    if let Some(anc) = e.loop_ancestor() {
                        out.push(problem(
                            path,
                            "input/symlink-loop",
                            format!("symbolic link loop back to {}", anc.display()),
                            "The link points at one of its own parent folders; it was not followed.",
                        ));
                    } else {
                        let denied = e
                            .io_error()
                            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied);
                        out.push(problem(
                            path,
                            if denied {
                                "input/permission-denied"
                            } else {
                                "input/unreadable"
                            },
                            format!("cannot walk: {e}"),
                            "This part of the tree could not be read; the rest was checked.",
                        ));
                    }
                }
            }
        }
    }
    sort_inputs(&mut out);
    out
}

/// Sort by path and drop paths given twice. Archive entries are never dropped: the zip library
/// already keeps one entry per name, and two names that differ only in spelling (`a//b`, `a/b`)
/// are two entries.
pub(crate) fn sort_inputs(inputs: &mut Vec<Input>) {
    inputs.sort_by(|a, b| a.path().cmp(b.path()));
    inputs.dedup_by(|a, b| {
        !matches!(a, Input::Entry(_)) && !matches!(b, Input::Entry(_)) && a.path() == b.path()
    });
}

/// An input for a file that could not be opened.
pub(crate) fn unreadable(path: &Path, e: &std::io::Error) -> Input {
    let id = if e.kind() == std::io::ErrorKind::PermissionDenied {
        "input/permission-denied"
    } else {
        "input/unreadable"
    };
    problem(
        path.to_path_buf(),
        id,
        format!("cannot read the file: {e}"),
        "The file vanished, is not readable, or is not a regular file.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_skips_hidden_and_reports_missing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sub/.git")).unwrap();
        std::fs::write(d.join("b.xml"), "<a/>").unwrap();
        std::fs::write(d.join("sub/a.xml"), "<a/>").unwrap();
        std::fs::write(d.join(".hidden.xml"), "<a/>").unwrap();
        std::fs::write(d.join("sub/.git/x"), "x").unwrap();
        let missing = d.join("nope.xml");
        let inputs = collect_inputs(
            &[d.to_path_buf(), missing.clone(), d.join("b.xml")],
            WalkOptions::default(),
        );
        let names: Vec<String> = inputs
            .iter()
            .map(|i| {
                i.path()
                    .strip_prefix(d)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["b.xml", "nope.xml", "sub/a.xml"]);
        assert!(
            matches!(&inputs[1], Input::Problem { finding, .. } if finding.id == "input/not-found")
        );

        let all = collect_inputs(
            &[d.to_path_buf()],
            WalkOptions {
                hidden: true,
                ..Default::default()
            },
        );
        assert_eq!(all.len(), 4);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_findings() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("x")).unwrap();
        std::os::unix::fs::symlink(d, d.join("x/loop")).unwrap();
        std::fs::write(d.join("x/f.xml"), "<a/>").unwrap();
        let inputs = collect_inputs(&[d.to_path_buf()], WalkOptions::default());
        assert!(inputs.iter().any(
            |i| matches!(i, Input::Problem { finding, .. } if finding.id == "input/symlink-loop")
        ));
        assert!(inputs.iter().any(|i| i.path().ends_with("x/f.xml")));
    }
}
