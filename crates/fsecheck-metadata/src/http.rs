//! `.http` request files (VS Code REST Client / JetBrains HTTP client), as in the ministry's
//! gateway test kit.
//!
//! Supported: requests separated by `###` lines; `# @name x` / `// @name x`; comment lines before
//! the request line; file variables `@name = value`; `{{name}}` and `{{$dotenv NAME}}`
//! substitution (`.env`, then `.env-sample`, in the file's folder and then each parent folder);
//! headers; `multipart/form-data` bodies whose parts hold inline text or `< ./path` file
//! references (resolved relative to the `.http` file). Unresolvable `{{...}}` (e.g. response
//! references `{{validation.response.body.workflowInstanceId}}`) are left as they are and listed.

use crate::Operation;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One multipart part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartPart {
    pub name: Option<String>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub content: PartContent,
}

/// A part's content: inline text, or a `< path` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartContent {
    Inline(String),
    File(PathBuf),
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpBody {
    None,
    Text(String),
    /// `< path` as the whole body.
    File(PathBuf),
    Multipart(Vec<MultipartPart>),
}

/// One request of a `.http` file, variables substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `# @name` of the request.
    pub name: Option<String>,
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: HttpBody,
    /// 1-based line of the request line.
    pub line: usize,
}

impl HttpRequest {
    /// A header value (case-insensitive name; the first one).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The URL path (`http://host:port/v1/documents` → `/v1/documents`), query removed.
    pub fn path(&self) -> &str {
        let u = self.url.as_str();
        let after_scheme = u.find("://").map(|i| &u[i + 3..]).unwrap_or(u);
        let path = if u.contains("://") {
            after_scheme
                .find('/')
                .map(|i| &after_scheme[i..])
                .unwrap_or("/")
        } else {
            after_scheme
        };
        path.split(['?', '#']).next().unwrap_or(path)
    }

    /// The gateway operation, from method and path. `None` for other requests (status, logs …).
    pub fn operation(&self) -> Option<(Operation, Option<String>)> {
        let path = self.path().trim_end_matches('/');
        let rest = path.strip_prefix("/v1/documents")?;
        let m = self.method.to_ascii_uppercase();
        let seg: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let dec = |s: &str| percent_decode(s);
        match (m.as_str(), seg.as_slice()) {
            ("POST", ["validation"]) => Some((Operation::Validation, None)),
            ("POST", []) | ("POST", ["validate-and-create"]) => {
                Some((Operation::Publication, None))
            }
            ("PUT", ["validate-and-replace", id]) => Some((Operation::Replace, Some(dec(id)))),
            ("PUT", [id, "metadata"]) => Some((Operation::MetadataUpdate, Some(dec(id)))),
            ("PUT", [id]) => Some((Operation::Replace, Some(dec(id)))),
            ("DELETE", [id]) => Some((Operation::Delete, Some(dec(id)))),
            _ => None,
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A gateway request extracted from a `.http` request: what the checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRequest {
    pub name: Option<String>,
    pub operation: Operation,
    /// `{idDoc}` from the URL (replace, update, delete), percent-decoded.
    pub path_id_doc: Option<String>,
    /// The `requestBody` JSON text (multipart part, or the body of the metadata update).
    pub body: Option<String>,
    /// `FSE-JWT-Signature` value.
    pub jwt: Option<String>,
    /// The `file` part: the attached PDF (resolved path).
    pub attachment: Option<PathBuf>,
    pub line: usize,
}

impl GatewayRequest {
    /// The body parsed as JSON (`None` when absent or not JSON; the rules report why).
    pub fn body_json(&self) -> Option<serde_json::Value> {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
    }

    /// Read the attached file (the PDF the pipeline checks and hashes).
    pub fn load_attachment(&self) -> Option<std::io::Result<Vec<u8>>> {
        self.attachment.as_ref().map(std::fs::read)
    }

    /// The [`crate::RequestInput`] for [`crate::check_request`], given the CDA facts and the PDF
    /// bytes the pipeline extracted from [`GatewayRequest::attachment`].
    pub fn to_input<'a>(
        &'a self,
        cda: Option<&'a crate::CdaFacts>,
        pdf: Option<&'a [u8]>,
    ) -> crate::RequestInput<'a> {
        crate::RequestInput {
            operation: self.operation,
            body: self.body.as_deref(),
            jwt: self.jwt.as_deref(),
            path_id_doc: self.path_id_doc.as_deref(),
            cda,
            pdf,
            jwt_public_key_pem: None,
        }
    }
}

/// A parsed `.http` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFile {
    pub path: Option<PathBuf>,
    pub requests: Vec<HttpRequest>,
    /// `{{...}}` references left unresolved (names), deduplicated, in order of appearance.
    pub unresolved: Vec<String>,
    /// The dotenv file used, if any.
    pub dotenv: Option<PathBuf>,
}

impl HttpFile {
    /// The requests addressed to gateway document endpoints, as [`GatewayRequest`]s.
    pub fn gateway_requests(&self) -> Vec<GatewayRequest> {
        self.requests
            .iter()
            .filter_map(|r| {
                let (operation, path_id_doc) = r.operation()?;
                let (body, attachment) = match &r.body {
                    HttpBody::Multipart(parts) => {
                        let body = parts
                            .iter()
                            .find(|p| p.name.as_deref() == Some("requestBody"))
                            .map(|p| match &p.content {
                                PartContent::Inline(t) => t.clone(),
                                PartContent::File(f) => {
                                    std::fs::read_to_string(f).unwrap_or_default()
                                }
                            });
                        let att = parts
                            .iter()
                            .find(|p| p.name.as_deref() == Some("file"))
                            .and_then(|p| match &p.content {
                                PartContent::File(f) => Some(f.clone()),
                                PartContent::Inline(_) => None,
                            });
                        (body, att)
                    }
                    HttpBody::Text(t) => (Some(t.clone()), None),
                    HttpBody::File(f) => (std::fs::read_to_string(f).ok(), None),
                    HttpBody::None => (None, None),
                };
                Some(GatewayRequest {
                    name: r.name.clone(),
                    operation,
                    path_id_doc,
                    body,
                    jwt: r.header("FSE-JWT-Signature").map(str::to_string),
                    attachment,
                    line: r.line,
                })
            })
            .collect()
    }
}

/// Why a `.http` file could not be read.
#[derive(Debug)]
pub enum HttpError {
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl std::error::Error for HttpError {}

/// Find the dotenv file for a `.http` file: `.env` then `.env-sample`, in its folder, then upwards.
pub fn find_dotenv(http_file: &Path) -> Option<PathBuf> {
    let mut dir = http_file.parent();
    while let Some(d) = dir {
        for name in [".env", ".env-sample"] {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        dir = d.parent();
    }
    None
}

/// Parse `NAME=value` lines (comments `#`, optional quotes, optional `export `).
pub fn parse_dotenv(text: &str) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let l = l.strip_prefix("export ").unwrap_or(l);
        if let Some((k, v)) = l.split_once('=') {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            m.insert(k.trim().to_string(), v.to_string());
        }
    }
    m
}

/// Parse a `.http` file from disk (dotenv looked up beside/above it).
pub fn parse_http_file(path: &Path) -> Result<HttpFile, HttpError> {
    let text = std::fs::read_to_string(path).map_err(|e| HttpError::Io(path.to_path_buf(), e))?;
    let dotenv_path = find_dotenv(path);
    let env = match &dotenv_path {
        Some(p) => {
            parse_dotenv(&std::fs::read_to_string(p).map_err(|e| HttpError::Io(p.clone(), e))?)
        }
        None => HashMap::new(),
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut f = parse_http_text(&text, base, &env);
    f.path = Some(path.to_path_buf());
    f.dotenv = dotenv_path;
    Ok(f)
}

struct Subst<'a> {
    vars: HashMap<String, String>,
    env: &'a HashMap<String, String>,
    unresolved: Vec<String>,
}

impl Subst<'_> {
    fn apply(&mut self, s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(j) = after.find("}}") else {
                out.push_str(&rest[i..]);
                return out;
            };
            let expr = after[..j].trim();
            let val = if let Some(name) = expr.strip_prefix("$dotenv") {
                self.env.get(name.trim()).cloned()
            } else {
                self.vars.get(expr).cloned()
            };
            match val {
                Some(v) => out.push_str(&v),
                None => {
                    if !self.unresolved.iter().any(|u| u == expr) {
                        self.unresolved.push(expr.to_string());
                    }
                    out.push_str(&rest[i..i + 2 + j + 2]);
                }
            }
            rest = &after[j + 2..];
        }
        out.push_str(rest);
        out
    }
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

fn is_request_line(l: &str) -> bool {
    let first = l.split_whitespace().next().unwrap_or("");
    METHODS.contains(&first) && l.split_whitespace().nth(1).is_some()
}

fn is_comment(l: &str) -> bool {
    let t = l.trim_start();
    t.starts_with('#') || t.starts_with("//")
}

fn file_variable(l: &str) -> Option<(String, String)> {
    let t = l.trim();
    let rest = t.strip_prefix('@')?;
    let (k, v) = rest.split_once('=')?;
    let k = k.trim();
    if k.is_empty() || k.contains(char::is_whitespace) {
        return None;
    }
    Some((k.to_string(), v.trim().to_string()))
}

fn request_name(l: &str) -> Option<String> {
    let t = l
        .trim_start()
        .trim_start_matches('#')
        .trim_start_matches("//")
        .trim();
    t.strip_prefix("@name")
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
}

/// Parse `.http` text. `base` resolves `< ./path` references; `env` is the dotenv map.
pub fn parse_http_text(text: &str, base: &Path, env: &HashMap<String, String>) -> HttpFile {
    let lines: Vec<&str> = text.lines().collect();
    // File variables are global (defined anywhere outside a body).
    let mut subst = Subst {
        vars: HashMap::new(),
        env,
        unresolved: Vec::new(),
    };
    // Split into blocks on ### lines.
    let mut blocks: Vec<(usize, Vec<&str>)> = vec![(0, Vec::new())];
    for (i, l) in lines.iter().enumerate() {
        if l.trim_start().starts_with("###") {
            blocks.push((i + 1, Vec::new()));
        } else {
            blocks.last_mut().expect("non-empty").1.push(l);
        }
    }
    // First pass: file variables in the pre-request part of each block.
    for (_, b) in &blocks {
        for l in b {
            if is_request_line(l) {
                break;
            }
            if let Some((k, v)) = file_variable(l) {
                subst.vars.insert(k, v);
            }
        }
    }
    let mut requests = Vec::new();
    for (start, b) in &blocks {
        let mut name = None;
        let mut idx = 0;
        while idx < b.len() && !is_request_line(b[idx]) {
            if is_comment(b[idx]) {
                if let Some(n) = request_name(b[idx]) {
                    name = Some(n);
                }
            }
            idx += 1;
        }
        if idx >= b.len() {
            continue;
        }
        let line_no = start + idx + 1;
        let rl = b[idx].trim();
        let method = rl.split_whitespace().next().unwrap_or("").to_string();
        let mut url_raw = rl[method.len()..].trim();
        if let Some(i) = url_raw.rfind(" HTTP/") {
            url_raw = url_raw[..i].trim_end();
        }
        let url = subst.apply(url_raw);
        idx += 1;
        let mut headers = Vec::new();
        while idx < b.len() && !b[idx].trim().is_empty() {
            if !is_comment(b[idx]) {
                if let Some((k, v)) = b[idx].split_once(':') {
                    headers.push((k.trim().to_string(), subst.apply(v.trim())));
                }
            }
            idx += 1;
        }
        // Body: the rest, without trailing blank lines or later "GET ..." lines of the same
        // block (a block without ### between requests is not supported by REST Client either).
        let mut body_lines: Vec<&str> = b[idx.min(b.len())..].to_vec();
        while body_lines.first().is_some_and(|l| l.trim().is_empty()) {
            body_lines.remove(0);
        }
        while body_lines.last().is_some_and(|l| l.trim().is_empty()) {
            body_lines.pop();
        }
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.clone());
        let body = if body_lines.is_empty() {
            HttpBody::None
        } else if let Some(boundary) = content_type.as_deref().and_then(boundary_of) {
            HttpBody::Multipart(parse_multipart(&body_lines, &boundary, base, &mut subst))
        } else if body_lines.len() == 1 && body_lines[0].trim_start().starts_with("< ") {
            HttpBody::File(base.join(subst.apply(body_lines[0].trim_start()[2..].trim())))
        } else {
            HttpBody::Text(subst.apply(&body_lines.join("\n")))
        };
        requests.push(HttpRequest {
            name,
            method,
            url,
            headers,
            body,
            line: line_no,
        });
    }
    HttpFile {
        path: None,
        requests,
        unresolved: subst.unresolved,
        dotenv: None,
    }
}

fn boundary_of(ct: &str) -> Option<String> {
    if !ct.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    ct.split(';').find_map(|p| {
        let p = p.trim();
        p.strip_prefix("boundary=")
            .map(|b| b.trim_matches('"').to_string())
    })
}

fn parse_multipart(
    lines: &[&str],
    boundary: &str,
    base: &Path,
    subst: &mut Subst,
) -> Vec<MultipartPart> {
    let delim = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut cur: Option<Vec<&str>> = None;
    for l in lines {
        let t = l.trim_end();
        if t == delim || t == close {
            if let Some(p) = cur.take() {
                parts.push(parse_part(&p, base, subst));
            }
            if t == delim {
                cur = Some(Vec::new());
            } else {
                break;
            }
        } else if let Some(c) = cur.as_mut() {
            c.push(l);
        }
    }
    if let Some(p) = cur.take() {
        parts.push(parse_part(&p, base, subst));
    }
    parts
}

fn disposition_param(v: &str, key: &str) -> Option<String> {
    v.split(';').find_map(|p| {
        let p = p.trim();
        let (k, val) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| val.trim().trim_matches('"').to_string())
    })
}

fn parse_part(lines: &[&str], base: &Path, subst: &mut Subst) -> MultipartPart {
    let mut i = 0;
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    while i < lines.len() && !lines[i].trim().is_empty() {
        if let Some((k, v)) = lines[i].split_once(':') {
            let v = subst.apply(v.trim());
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = disposition_param(&v, "name");
                filename = disposition_param(&v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(v);
            }
        }
        i += 1;
    }
    let mut body: Vec<&str> = lines[(i + 1).min(lines.len())..].to_vec();
    while body.last().is_some_and(|l| l.trim().is_empty()) {
        body.pop();
    }
    let content = if body.len() == 1 && body[0].trim_start().starts_with("< ") {
        PartContent::File(base.join(subst.apply(body[0].trim_start()[2..].trim())))
    } else {
        PartContent::Inline(subst.apply(&body.join("\n")))
    };
    MultipartPart {
        name,
        filename,
        content_type,
        content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "@idDoc=2.16.840.1.113883.2.9.2.110.4.4^1\n\
### \n\
# @name creation\n\
POST {{$dotenv HOST}}/v1/documents \n\
FSE-JWT-Signature: A.{{$dotenv P}}.C\n\
content-type: multipart/form-data; boundary=XYZ\n\
\n\
--XYZ\n\
Content-Disposition: form-data; name=\"requestBody\";\n\
Content-Type: application/json\n\
\n\
{\"identificativoDoc\": \"{{idDoc}}\"}\n\
\n\
--XYZ\n\
Content-Disposition: form-data; name=\"file\"; filename=\"x.pdf\"\n\
\n\
< ./x.pdf\n\
--XYZ--\n\
\n\
###\n\
GET {{$dotenv HOST}}/v1/status/{{creation.response.body.wii}}\n\
###\n\
PUT http://h/v1/documents/2.16%5E1/metadata\n\
content-type: application/json\n\
\n\
{\"tipoDocumentoLivAlto\": \"REF\"}\n";

    #[test]
    fn parses_requests_multipart_and_variables() {
        let env: HashMap<String, String> = [
            ("HOST".into(), "http://localhost:8010".into()),
            ("P".into(), "PAYLOAD".into()),
        ]
        .into();
        let f = parse_http_text(SAMPLE, Path::new("/base"), &env);
        assert_eq!(f.requests.len(), 3);
        let r = &f.requests[0];
        assert_eq!(r.name.as_deref(), Some("creation"));
        assert_eq!(r.path(), "/v1/documents");
        assert_eq!(r.header("fse-jwt-signature"), Some("A.PAYLOAD.C"));
        assert_eq!(f.unresolved, vec!["creation.response.body.wii".to_string()]);
        let g = f.gateway_requests();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].operation, Operation::Publication);
        assert_eq!(
            g[0].body.as_deref(),
            Some("{\"identificativoDoc\": \"2.16.840.1.113883.2.9.2.110.4.4^1\"}")
        );
        assert_eq!(g[0].attachment.as_deref(), Some(Path::new("/base/./x.pdf")));
        assert_eq!(g[1].operation, Operation::MetadataUpdate);
        assert_eq!(g[1].path_id_doc.as_deref(), Some("2.16^1"));
        assert_eq!(
            g[1].body.as_deref(),
            Some("{\"tipoDocumentoLivAlto\": \"REF\"}")
        );
    }

    #[test]
    fn operations_from_urls() {
        let op = |m: &str, u: &str| {
            HttpRequest {
                name: None,
                method: m.into(),
                url: u.into(),
                headers: vec![],
                body: HttpBody::None,
                line: 1,
            }
            .operation()
        };
        assert_eq!(
            op("POST", "http://h:1/v1/documents/validation"),
            Some((Operation::Validation, None))
        );
        assert_eq!(
            op("POST", "http://h/v1/documents"),
            Some((Operation::Publication, None))
        );
        assert_eq!(
            op("POST", "http://h/v1/documents/validate-and-create"),
            Some((Operation::Publication, None))
        );
        assert_eq!(
            op("PUT", "http://h/v1/documents/a%5Eb"),
            Some((Operation::Replace, Some("a^b".into())))
        );
        assert_eq!(
            op("PUT", "http://h/v1/documents/validate-and-replace/x"),
            Some((Operation::Replace, Some("x".into())))
        );
        assert_eq!(
            op("DELETE", "http://h/v1/documents/x"),
            Some((Operation::Delete, Some("x".into())))
        );
        assert_eq!(op("GET", "http://h/v1/status/x"), None);
        assert_eq!(op("GET", "http://h/v1/documents/x"), None);
    }

    #[test]
    fn dotenv_parsing() {
        let m = parse_dotenv("# c\nA=1\nexport B=\"two\"\n\nC=x=y\n");
        assert_eq!(m["A"], "1");
        assert_eq!(m["B"], "two");
        assert_eq!(m["C"], "x=y");
    }
}
