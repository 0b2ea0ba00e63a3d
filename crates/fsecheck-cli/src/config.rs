//! `fsecheck.toml`: given by `--config`, else the nearest one from the current folder upward.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The catalog directory, relative to the config file.
    pub catalog: Option<PathBuf>,
    /// Default `--fail-on`.
    pub fail_on: Option<String>,
    /// Default `--format`.
    pub format: Option<String>,
    /// Default `--jobs`.
    pub jobs: Option<usize>,
    /// Reports written on every run, FORMAT = FILE (relative to the config file); `--output`
    /// replaces them.
    #[serde(default)]
    pub outputs: BTreeMap<String, PathBuf>,
    /// Globs of walked files to skip (matched against the path as walked and its project path).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Per-rule severity overrides: `"sch/W001" = "error"`; `"off"` drops the rule's findings.
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    /// Folder (or PEM file) of trusted certificates for signature checks, relative to the config.
    pub trust_anchors: Option<PathBuf>,
    /// Default `--cache`: the record cache folder, relative to the config.
    pub cache: Option<PathBuf>,
    /// Default `--archive-max-entries`.
    pub archive_max_entries: Option<usize>,
    /// Default `--archive-max-total` (bytes).
    pub archive_max_total: Option<u64>,
    /// Default `--archive-max-ratio`.
    pub archive_max_ratio: Option<u64>,
}

pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Loaded {
    /// The catalog path made absolute against the config file's folder.
    pub fn catalog(&self) -> Option<PathBuf> {
        Some(self.resolve(self.config.catalog.as_ref()?))
    }

    /// A path of the config made absolute against the config file's folder.
    pub fn resolve(&self, c: &Path) -> PathBuf {
        match (&self.path, c.is_absolute()) {
            (Some(p), false) => p.parent().unwrap_or(Path::new(".")).join(c),
            _ => c.to_path_buf(),
        }
    }
}

pub fn load(explicit: Option<&Path>) -> Result<Loaded, String> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => find_upward(),
    };
    let Some(path) = path else {
        return Ok(Loaded {
            config: Config::default(),
            path: None,
        });
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
    let config: Config =
        toml::from_str(&text).map_err(|e| format!("invalid config {}: {e}", path.display()))?;
    Ok(Loaded {
        config,
        path: Some(path),
    })
}

fn find_upward() -> Option<PathBuf> {
    let mut dir = std::env::current_dir().ok()?;
    loop {
        let candidate = dir.join("fsecheck.toml");
        if candidate.is_file() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}
