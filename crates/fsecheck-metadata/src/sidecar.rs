//! Sidecar discovery: for a document `X.pdf` or `X.xml`, the request body `X.json` and/or the
//! token `X.jwt` next to it.

use std::path::{Path, PathBuf};

/// The sidecar files found for a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sidecars {
    /// `X.json`: the `requestBody` JSON.
    pub body: Option<PathBuf>,
    /// `X.jwt`: the `FSE-JWT-Signature` token (whole token, or `Bearer <token>`; surrounding
    /// whitespace is trimmed by [`read_jwt_sidecar`]).
    pub jwt: Option<PathBuf>,
}

impl Sidecars {
    pub fn is_empty(&self) -> bool {
        self.body.is_none() && self.jwt.is_none()
    }
}

/// Look for `X.json` and `X.jwt` beside `doc` (same stem, any document extension).
pub fn discover_sidecars(doc: &Path) -> Sidecars {
    let with = |ext: &str| {
        let p = doc.with_extension(ext);
        (p != doc && p.is_file()).then_some(p)
    };
    Sidecars {
        body: with("json"),
        jwt: with("jwt"),
    }
}

/// Read a `.jwt` sidecar: the token with surrounding whitespace (and a trailing newline) removed.
pub fn read_jwt_sidecar(path: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_json_and_jwt_beside_the_document() {
        let dir = std::env::temp_dir().join(format!("fsecheck-sidecar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pdf = dir.join("DOC.pdf");
        std::fs::write(&pdf, b"%PDF").unwrap();
        assert!(discover_sidecars(&pdf).is_empty());
        std::fs::write(dir.join("DOC.json"), b"{}").unwrap();
        std::fs::write(dir.join("DOC.jwt"), b"  a.b.c\n").unwrap();
        let s = discover_sidecars(&pdf);
        assert_eq!(s.body, Some(dir.join("DOC.json")));
        assert_eq!(s.jwt, Some(dir.join("DOC.jwt")));
        assert_eq!(read_jwt_sidecar(s.jwt.as_ref().unwrap()).unwrap(), "a.b.c");
        // an X.xml finds the same sidecars
        assert_eq!(
            discover_sidecars(&dir.join("DOC.xml")).body,
            Some(dir.join("DOC.json"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
