//! Finding the CDA inside one revision of a PDF: embedded files (EmbeddedFiles name tree, `/AF`)
//! and the XFA `datasets` resource, with the gateway's exact lookup rules recorded beside ours.

use crate::pdf::{Dict, Doc, Obj};

/// The gateway's attachment name (`cda.attachment.name`).
pub const GATEWAY_NAME: &str = "cda.xml";

/// One embedded file as listed by the PDF.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// Name-tree key (decoded text), or `None` for files reachable only through `/AF`.
    pub key: Option<String>,
    pub f: Option<String>,
    pub uf: Option<String>,
    /// Where it was found: `EmbeddedFiles`, `EmbeddedFiles/Kids[0]/Names`, `AF`.
    pub via: String,
    /// Depth of the name-tree node holding it (0 = root `/Names`).
    pub depth: usize,
    pub in_af: bool,
    pub af_relationship: Option<String>,
    pub subtype: Option<String>,
    pub filespec: Option<(u32, u16)>,
    pub data: Result<Vec<u8>, String>,
}

impl Attachment {
    /// The gateway (PDFBox 2.0.26 on `main`) matches the name-tree key or `/F`, case-sensitively,
    /// and reads the root `/Names` or the `/Names` of the root's direct `/Kids` only.
    pub fn gateway_match(&self) -> bool {
        self.depth <= 1
            && (self.key.as_deref() == Some(GATEWAY_NAME)
                || self.f.as_deref() == Some(GATEWAY_NAME))
    }
    pub fn display_name(&self) -> String {
        self.uf
            .clone()
            .or_else(|| self.f.clone())
            .or_else(|| self.key.clone())
            .unwrap_or_else(|| "(unnamed)".into())
    }
    pub fn names(&self) -> Vec<&str> {
        [self.key.as_deref(), self.f.as_deref(), self.uf.as_deref()]
            .into_iter()
            .flatten()
            .collect()
    }
    pub fn looks_xml(&self) -> bool {
        self.names()
            .iter()
            .any(|n| n.to_ascii_lowercase().ends_with(".xml"))
            || self.subtype.as_deref().is_some_and(|s| s.contains("xml"))
            || self.data.as_ref().is_ok_and(|d| starts_like_xml(d))
    }
    pub fn is_cda(&self) -> bool {
        self.data.as_ref().is_ok_and(|d| is_clinical_document(d))
    }
    /// `EmbeddedFiles+AF`, `EmbeddedFiles/Kids[0]/Names + AF`, `AF`, …
    pub fn located_via(&self) -> String {
        match (self.in_af, self.via.as_str()) {
            (true, "EmbeddedFiles") => "EmbeddedFiles+AF".into(),
            (true, "AF") => "AF".into(),
            (true, v) => format!("{v} + AF"),
            (false, v) => v.into(),
        }
    }
}

fn starts_like_xml(d: &[u8]) -> bool {
    let d = d.strip_prefix(b"\xef\xbb\xbf").unwrap_or(d);
    d.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// True when the root element of the XML is `ClinicalDocument` (any prefix).
pub fn is_clinical_document(d: &[u8]) -> bool {
    if !starts_like_xml(d) {
        return false;
    }
    // Skip the prolog: declarations, comments, processing instructions.
    let mut i = 0;
    let head = &d[..d.len().min(64 * 1024)];
    while let Some(off) = head[i..].iter().position(|&b| b == b'<') {
        let at = i + off;
        let rest = &head[at..];
        if rest.starts_with(b"<?") || rest.starts_with(b"<!") {
            let close: &[u8] = if rest.starts_with(b"<!--") {
                b"-->"
            } else {
                b">"
            };
            match crate::pdf::find(rest, close) {
                Some(e) => i = at + e + close.len(),
                None => return false,
            }
            continue;
        }
        let name_end = rest[1..]
            .iter()
            .position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
            .map(|p| p + 1)
            .unwrap_or(rest.len());
        let name = &rest[1..name_end];
        let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
        return local == b"ClinicalDocument";
    }
    false
}

/// PDF text string → Rust string (UTF-16BE with BOM, UTF-8 with BOM, else PDFDocEncoding≈Latin-1).
pub fn text_string(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(b"\xfe\xff") {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = b.strip_prefix(b"\xef\xbb\xbf") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    b.iter().map(|&c| c as char).collect()
}

fn filespec_info(doc: &Doc<'_>, fs: &Obj) -> (Dict, Option<(u32, u16)>) {
    let r = fs.as_ref();
    (doc.resolve_dict(Some(fs)).unwrap_or_default(), r)
}

fn embedded_data(doc: &Doc<'_>, fs: &Dict) -> (Result<Vec<u8>, String>, Option<String>) {
    let Some(ef) = doc.resolve_dict(fs.get("EF")) else {
        return (Err("the file specification has no /EF".into()), None);
    };
    let stream_obj = ef.get("F").or_else(|| ef.get("UF")).map(|o| doc.resolve(o));
    match stream_obj {
        Some(Obj::Stream(s)) => {
            let subtype = s
                .dict
                .name("Subtype")
                .map(|n| String::from_utf8_lossy(n).into_owned());
            (doc.stream_data(&s).map_err(|e| e.0), subtype)
        }
        _ => (Err("/EF /F is not a stream".into()), None),
    }
}

/// Lists every embedded file: the whole EmbeddedFiles name tree (bounded) and catalog `/AF`.
pub fn list_attachments(doc: &Doc<'_>) -> (Vec<Attachment>, Vec<String>) {
    let mut out: Vec<Attachment> = vec![];
    let mut problems = vec![];
    let Some(cat) = doc.catalog() else {
        problems.push("the document catalog cannot be read".into());
        return (out, problems);
    };
    let af: Vec<Obj> = match cat.get("AF").map(|o| doc.resolve(o)) {
        Some(Obj::Array(a)) => a,
        _ => vec![],
    };
    let af_refs: Vec<(u32, u16)> = af.iter().filter_map(Obj::as_ref).collect();
    if let Some(names) = doc.resolve_dict(cat.get("Names")) {
        if let Some(root) = doc.resolve_dict(names.get("EmbeddedFiles")) {
            let mut budget = 10_000usize;
            walk_tree(
                doc,
                &root,
                "EmbeddedFiles".into(),
                0,
                &mut budget,
                &mut |key, fs, via, depth| {
                    let (d, r) = filespec_info(doc, fs);
                    let (data, subtype) = embedded_data(doc, &d);
                    out.push(Attachment {
                        key: Some(text_string(key)),
                        f: d.get("F").and_then(Obj::as_str).map(text_string),
                        uf: d.get("UF").and_then(Obj::as_str).map(text_string),
                        via: via.to_string(),
                        depth,
                        in_af: r.is_some_and(|r| af_refs.contains(&r)),
                        af_relationship: d
                            .name("AFRelationship")
                            .map(|n| String::from_utf8_lossy(n).into_owned()),
                        subtype,
                        filespec: r,
                        data,
                    });
                },
            );
            if budget == 0 {
                problems.push(
                    "the EmbeddedFiles name tree is too large or too deep; the rest was not read"
                        .into(),
                );
            }
        }
    }
    // Associated files not in the name tree.
    for a in &af {
        let r = a.as_ref();
        if r.is_some() && out.iter().any(|x| x.filespec == r) {
            continue;
        }
        let d = doc.resolve_dict(Some(a)).unwrap_or_default();
        if d.get("EF").is_none() {
            continue;
        }
        let (data, subtype) = embedded_data(doc, &d);
        out.push(Attachment {
            key: None,
            f: d.get("F").and_then(Obj::as_str).map(text_string),
            uf: d.get("UF").and_then(Obj::as_str).map(text_string),
            via: "AF".into(),
            depth: usize::MAX,
            in_af: true,
            af_relationship: d
                .name("AFRelationship")
                .map(|n| String::from_utf8_lossy(n).into_owned()),
            subtype,
            filespec: r,
            data,
        });
    }
    (out, problems)
}

/// Callback for each name-tree entry: (key, value, path label, depth).
type Visit<'a> = dyn FnMut(&[u8], &Obj, &str, usize) + 'a;

fn walk_tree(
    doc: &Doc<'_>,
    node: &Dict,
    path: String,
    depth: usize,
    budget: &mut usize,
    f: &mut Visit<'_>,
) {
    if depth > 16 || *budget == 0 {
        *budget = 0;
        return;
    }
    if let Some(Obj::Array(names)) = node.get("Names").map(|o| doc.resolve(o)) {
        let via = if depth == 0 {
            path.clone()
        } else {
            format!("{path}/Names")
        };
        for pair in names.chunks(2) {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            if let [k, v] = pair {
                if let Obj::Str(k) = doc.resolve(k) {
                    f(&k, v, &via, depth);
                }
            }
        }
    }
    if let Some(Obj::Array(kids)) = node.get("Kids").map(|o| doc.resolve(o)) {
        for (i, k) in kids.iter().enumerate() {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            if let Some(d) = doc.resolve_dict(Some(k)) {
                walk_tree(doc, &d, format!("{path}/Kids[{i}]"), depth + 1, budget, f);
            }
        }
    }
}

/// The XFA `datasets` resource read exactly as the gateway's RESOURCE mode does (OpenPDF):
/// `Root/Names/XFAResources` must be an indirect reference to a dictionary whose `/Names` array
/// has the string `datasets` first and an indirect reference to a stream second.
/// Returns `None` when the structure is absent, `Some(Err)` when it is present but unusable.
pub fn xfa_datasets(doc: &Doc<'_>) -> Option<Result<Vec<u8>, String>> {
    let cat = doc.catalog()?;
    let names = doc.resolve_dict(cat.get("Names"))?;
    let xr = names.get("XFAResources")?;
    if xr.as_ref().is_none() {
        return Some(Err(
            "/XFAResources is not an indirect reference (the gateway requires one)".into(),
        ));
    }
    let d = doc.resolve_dict(Some(xr))?;
    let arr = match d.get("Names").map(|o| doc.resolve(o)) {
        Some(Obj::Array(a)) if a.len() >= 2 => a,
        _ => {
            return Some(Err(
                "/XFAResources has no /Names array with two items".into()
            ))
        }
    };
    if doc.resolve(&arr[0]).as_str() != Some(b"datasets") {
        return Some(Err("the first /XFAResources name is not 'datasets'".into()));
    }
    if arr[1].as_ref().is_none() {
        return Some(Err(
            "the 'datasets' entry is not an indirect reference".into()
        ));
    }
    match doc.resolve(&arr[1]) {
        Obj::Stream(s) => Some(doc.stream_data(&s).map_err(|e| e.0)),
        _ => Some(Err("the 'datasets' entry is not a stream".into())),
    }
}

/// The first `<ClinicalDocument …>…</ClinicalDocument>` element (unprefixed, as jsoup's lookup
/// by tag name finds it) in a datasets stream, as bytes.
pub fn clinical_document_in(data: &[u8]) -> Option<Vec<u8>> {
    let start = crate::pdf::find_all(data, b"<ClinicalDocument")
        .into_iter()
        .find(|&s| {
            matches!(
                data.get(s + 17),
                Some(b' ' | b'>' | b'\n' | b'\r' | b'\t' | b'/')
            )
        })?;
    let end_tag = b"</ClinicalDocument>";
    let end = crate::pdf::find(&data[start..], end_tag)? + start + end_tag.len();
    Some(data[start..end].to_vec())
}
