//! Finding the catalog: `--catalog DIR`, else `FSECHECK_CATALOG`, else `catalog` in the config
//! file, else a clear error telling the user how to get one.

use std::fmt;
use std::path::{Path, PathBuf};

pub const ENV_VAR: &str = "FSECHECK_CATALOG";

/// Where the catalog path came from (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    Config,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "--catalog",
            Origin::Env => ENV_VAR,
            Origin::Config => "`catalog` in the config file",
        })
    }
}

#[derive(Debug)]
pub enum DiscoverError {
    NotConfigured,
    Missing { path: PathBuf, origin: Origin },
}

const HOW_TO_GET: &str = "fsecheck needs the gateway's rules: a checkout of the public repository \
ministero-salute/it-fse-catalogs (git clone https://github.com/ministero-salute/it-fse-catalogs). \
Pass it with --catalog DIR, set FSECHECK_CATALOG=DIR, or write `catalog = \"DIR\"` in fsecheck.toml.";

impl fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoverError::NotConfigured => write!(f, "no catalog given. {HOW_TO_GET}"),
            DiscoverError::Missing { path, origin } => write!(
                f,
                "the catalog {} (from {origin}) is not a directory. {HOW_TO_GET}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for DiscoverError {}

/// Resolve the catalog directory. `config` is the value from the config file, already made
/// absolute against the config file's folder.
pub fn discover(
    flag: Option<&Path>,
    config: Option<&Path>,
) -> Result<(PathBuf, Origin), DiscoverError> {
    let env = std::env::var_os(ENV_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let (path, origin) = if let Some(p) = flag {
        (p.to_path_buf(), Origin::Flag)
    } else if let Some(p) = env {
        (p, Origin::Env)
    } else if let Some(p) = config {
        (p.to_path_buf(), Origin::Config)
    } else {
        return Err(DiscoverError::NotConfigured);
    };
    if path.is_dir() {
        Ok((path, origin))
    } else {
        Err(DiscoverError::Missing { path, origin })
    }
}
