//! Modification analysis: what each revision after a signed one changed, object by object,
//! classified as allowed / allowed-with-warning / unknown / disallowed.

use crate::pdf::{Dict, Doc, Obj, Revision};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Class {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "allowed")]
    Allowed,
    #[serde(rename = "allowed-with-warning")]
    AllowedWithWarning,
    #[serde(rename = "unknown")]
    Unknown,
    #[serde(rename = "disallowed")]
    Disallowed,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::None => "none",
            Class::Allowed => "allowed",
            Class::AllowedWithWarning => "allowed-with-warning",
            Class::Unknown => "unknown",
            Class::Disallowed => "disallowed",
        }
    }
}

/// One classified change.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub revision: usize,
    pub object: Option<u32>,
    pub class: Class,
    /// Short category: `dss`, `doc-timestamp`, `signature`, `annotation`, `metadata`,
    /// `embedded-file`, `page-content`, `catalog`, `object`.
    pub what: String,
    pub detail: String,
}

/// DocMDP permission of a certifying signature (1 = no changes, 2 = forms/signing, 3 = + annotations).
pub fn docmdp_permission(doc: &Doc<'_>, sig: &Dict) -> Option<i64> {
    let refs = match sig.get("Reference").map(|o| doc.resolve(o)) {
        Some(Obj::Array(a)) => a,
        _ => return None,
    };
    for r in refs {
        let Some(d) = doc.resolve_dict(Some(&r)) else {
            continue;
        };
        if d.name("TransformMethod") == Some(b"DocMDP") {
            let p = doc
                .resolve_dict(d.get("TransformParams"))
                .and_then(|tp| tp.get("P").and_then(Obj::as_int))
                .unwrap_or(2);
            return Some(p);
        }
    }
    None
}

fn refs_in(o: &Obj, out: &mut Vec<u32>, depth: usize) {
    if depth > 32 {
        return;
    }
    match o {
        Obj::Ref(n, _) => out.push(*n),
        Obj::Array(a) => a.iter().for_each(|x| refs_in(x, out, depth + 1)),
        Obj::Dict(d) => d.0.iter().for_each(|(_, v)| refs_in(v, out, depth + 1)),
        Obj::Stream(s) => s
            .dict
            .0
            .iter()
            .for_each(|(_, v)| refs_in(v, out, depth + 1)),
        _ => {}
    }
}

fn same(prev: &Doc<'_>, a: &Obj, next: &Doc<'_>, b: &Obj) -> bool {
    match (a, b) {
        (Obj::Stream(x), Obj::Stream(y)) => {
            x.dict == y.dict && prev.data.get(x.start..x.end) == next.data.get(y.start..y.end)
        }
        _ => a == b,
    }
}

fn is_annotation(d: &Dict) -> bool {
    d.is_type("Annot")
        || (d.get("Subtype").is_some() && d.get("Rect").is_some() && !d.is_type("XObject"))
}

fn is_sig_field(d: &Dict) -> bool {
    d.name("FT") == Some(b"Sig")
}

/// Classifies the changes made by `revs[from+1..]` relative to the revision `from`.
/// `docmdp` is the strictest DocMDP permission in force (None = no certification).
pub fn analyse(
    data: &[u8],
    revs: &[Revision],
    from: usize,
    docmdp: Option<i64>,
    limits: &crate::pdf::Limits,
) -> Vec<Change> {
    let mut changes = vec![];
    // Each view is opened once: the "next" of one step is the "prev" of the following one.
    let mut carried: Option<Doc<'_>> = None;
    for r in from + 1..revs.len() {
        let prev = match carried.take() {
            Some(d) => Ok(d),
            None => Doc::open_chain(data, revs, r - 1, limits),
        };
        let (prev, next) = match (prev, Doc::open_chain(data, revs, r, limits)) {
            (Ok(p), Ok(n)) => (p, n),
            _ => {
                changes.push(Change {
                    revision: r,
                    object: None,
                    class: Class::Unknown,
                    what: "object".into(),
                    detail: "the revision cannot be read".into(),
                });
                continue;
            }
        };
        classify_revision(&prev, &next, &revs[r], r, docmdp, &mut changes);
        carried = Some(next);
    }
    changes
}

fn classify_revision(
    prev: &Doc<'_>,
    next: &Doc<'_>,
    rev: &Revision,
    r: usize,
    docmdp: Option<i64>,
    out: &mut Vec<Change>,
) {
    let cat_num = next.trailer.get("Root").and_then(Obj::as_ref).map(|x| x.0);
    let info_num = next.trailer.get("Info").and_then(Obj::as_ref).map(|x| x.0);
    let acro_num = next
        .catalog()
        .and_then(|c| c.get("AcroForm").and_then(Obj::as_ref))
        .map(|x| x.0);
    let annots_allowed = docmdp.is_none_or(|p| p >= 3);
    let forms_allowed = docmdp.is_none_or(|p| p >= 2);

    // Changed or new objects of this revision.
    let mut changed: Vec<(u32, Option<Obj>, Obj)> = vec![];
    let mut seen = HashSet::new();
    for &num in &rev.own_objects {
        if !seen.insert(num) {
            continue;
        }
        let old = prev.get(num);
        let Some(new) = next.get(num) else {
            if old.is_some() {
                // Freeing an object of the signed document makes every reference to it null:
                // content can be hidden this way.
                out.push(Change {
                    revision: r,
                    object: Some(num),
                    class: Class::Disallowed,
                    what: "object".into(),
                    detail: format!("object {num}, part of the signed document, was deleted"),
                });
            }
            continue;
        };
        if old.as_ref().is_some_and(|o| same(prev, o, next, &new)) {
            continue;
        }
        // Xref streams describe the revision itself; object streams are containers whose
        // members are listed (and classified) on their own.
        if new
            .as_dict()
            .is_some_and(|d| d.is_type("XRef") || d.is_type("ObjStm"))
        {
            continue;
        }
        changed.push((num, old, new));
    }
    let new_set: HashSet<u32> = changed
        .iter()
        .filter(|c| c.1.is_none())
        .map(|c| c.0)
        .collect();

    // Roots of allowed structures; new objects reachable from them inherit their class.
    let mut owner: HashMap<u32, (Class, &'static str)> = HashMap::new();
    let mut roots: Vec<(u32, Class, &'static str)> = vec![];
    if let Some(dss) = next.catalog().and_then(|c| c.get("DSS").cloned()) {
        let mut v = vec![];
        refs_in(&dss, &mut v, 0);
        if let Some((n, _)) = dss.as_ref() {
            v.push(n);
        }
        roots.extend(v.into_iter().map(|n| (n, Class::Allowed, "dss")));
    }
    // New objects hanging off the form dictionary (default resources such as fonts for
    // signature appearances), but not /Fields: new fields are classified one by one.
    if let Some(af) = next
        .catalog()
        .and_then(|c| next.resolve_dict(c.get("AcroForm")))
    {
        let mut v = vec![];
        for (k, val) in &af.0 {
            if k.as_slice() != b"Fields" {
                refs_in(val, &mut v, 0);
            }
        }
        roots.extend(
            v.into_iter()
                .filter(|n| new_set.contains(n))
                .map(|n| (n, Class::Allowed, "form")),
        );
    }
    for (num, old, new) in &changed {
        let Some(d) = new.as_dict() else { continue };
        if old.is_some() {
            continue;
        }
        if d.is_type("Sig") || d.is_type("DocTimeStamp") || is_sig_field(d) {
            let c = if forms_allowed {
                Class::Allowed
            } else {
                Class::Disallowed
            };
            roots.push((*num, c, "signature"));
        } else if is_annotation(d) {
            let c = if annots_allowed {
                Class::AllowedWithWarning
            } else {
                Class::Disallowed
            };
            roots.push((*num, c, "annotation"));
        }
    }
    for (root, class, what) in roots {
        let mut stack = vec![root];
        let mut guard = 0;
        while let Some(n) = stack.pop() {
            guard += 1;
            if guard > 100_000 {
                break;
            }
            if owner.contains_key(&n) {
                continue;
            }
            if n != root && !new_set.contains(&n) {
                continue;
            }
            owner.insert(n, (class, what));
            if let Some(o) = next.get(n) {
                let mut v = vec![];
                refs_in(&o, &mut v, 0);
                // Do not walk up to the page or parent field.
                if let Some(d) = o.as_dict() {
                    for k in ["P", "Parent"] {
                        if let Some((p, _)) = d.get(k).and_then(Obj::as_ref) {
                            v.retain(|x| *x != p);
                        }
                    }
                }
                stack.extend(v);
            }
        }
    }

    for (num, old, new) in &changed {
        let num = *num;
        let mut push = |class: Class, what: &str, detail: String| {
            out.push(Change {
                revision: r,
                object: Some(num),
                class,
                what: what.into(),
                detail,
            });
        };
        if let Some((class, what)) = owner.get(&num) {
            let detail = match *what {
                "dss" => "validation data (DSS) added or updated".to_string(),
                "form" => "form resources added".to_string(),
                "signature" => {
                    if new.as_dict().is_some_and(|d| d.is_type("DocTimeStamp")) {
                        "document timestamp added".into()
                    } else {
                        "signature added".into()
                    }
                }
                _ => "annotation added".into(),
            };
            let what = if detail == "document timestamp added" {
                "doc-timestamp"
            } else {
                what
            };
            push(*class, what, detail);
            continue;
        }
        let nd = new.as_dict();
        if Some(num) == cat_num {
            let od = old.as_ref().and_then(Obj::as_dict);
            let keys = diff_keys(od, nd);
            let bad: Vec<String> = keys
                .iter()
                .filter(|k| {
                    !matches!(
                        k.as_str(),
                        "DSS" | "AcroForm" | "Extensions" | "Version" | "Metadata" | "Perms"
                    )
                })
                .cloned()
                .collect();
            if bad.is_empty() {
                let c = if keys.iter().any(|k| k == "Perms") {
                    Class::Unknown
                } else {
                    Class::Allowed
                };
                push(
                    c,
                    "catalog",
                    format!("catalog entries updated: {}", keys.join(", ")),
                );
            } else {
                let what = if bad.iter().any(|k| k == "Names" || k == "AF") {
                    "embedded-file"
                } else {
                    "catalog"
                };
                push(
                    Class::Disallowed,
                    what,
                    format!("catalog entries changed after signing: {}", bad.join(", ")),
                );
            }
            continue;
        }
        if Some(num) == info_num || nd.is_some_and(|d| d.is_type("Metadata")) {
            push(
                Class::Allowed,
                "metadata",
                "document information / XMP metadata updated".into(),
            );
            continue;
        }
        if Some(num) == acro_num || (nd.is_some_and(|d| d.get("Fields").is_some()) && old.is_some())
        {
            let keys = diff_keys(old.as_ref().and_then(Obj::as_dict), nd);
            if keys.iter().all(|k| {
                matches!(
                    k.as_str(),
                    "Fields" | "SigFlags" | "DR" | "DA" | "NeedAppearances"
                )
            }) {
                let c = if forms_allowed {
                    Class::Allowed
                } else {
                    Class::Disallowed
                };
                push(c, "signature", "form field list updated".into());
            } else {
                push(
                    Class::Unknown,
                    "form",
                    format!("AcroForm entries changed: {}", keys.join(", ")),
                );
            }
            continue;
        }
        if let (Some(od), Some(d)) = (old.as_ref().and_then(Obj::as_dict), nd) {
            if d.is_type("Page") || od.is_type("Page") {
                let keys = diff_keys(Some(od), Some(d));
                if keys.iter().all(|k| k == "Annots") {
                    // Which annotations were added?
                    let mut added_sig = true;
                    let mut any = false;
                    let old_annots = annots(prev, od);
                    for a in annots(next, d) {
                        if old_annots.contains(&a) {
                            continue;
                        }
                        any = true;
                        let ad = next
                            .get(a)
                            .and_then(|o| o.as_dict().cloned())
                            .unwrap_or_default();
                        if !is_sig_field(&ad) {
                            added_sig = false;
                        }
                    }
                    if !any {
                        push(
                            Class::Disallowed,
                            "annotation",
                            "annotations removed from a page".into(),
                        );
                    } else if added_sig {
                        let c = if forms_allowed {
                            Class::Allowed
                        } else {
                            Class::Disallowed
                        };
                        push(c, "signature", "signature widget added to a page".into());
                    } else {
                        let c = if annots_allowed {
                            Class::AllowedWithWarning
                        } else {
                            Class::Disallowed
                        };
                        push(c, "annotation", "annotation added to a page".into());
                    }
                } else {
                    push(
                        Class::Disallowed,
                        "page-content",
                        format!("page entries changed after signing: {}", keys.join(", ")),
                    );
                }
                continue;
            }
            if d.is_type("Filespec") || d.is_type("EmbeddedFile") || d.get("EF").is_some() {
                push(
                    Class::Disallowed,
                    "embedded-file",
                    "an embedded file was changed".into(),
                );
                continue;
            }
            if is_sig_field(od) {
                // A signature field gaining its value (signing an empty field).
                let keys = diff_keys(Some(od), Some(d));
                if keys
                    .iter()
                    .all(|k| matches!(k.as_str(), "V" | "AP" | "MK" | "F"))
                    && forms_allowed
                {
                    push(Class::Allowed, "signature", "signature field signed".into());
                    continue;
                }
            }
        }
        if let Some(Obj::Stream(s)) = old.as_ref() {
            if s.dict.is_type("EmbeddedFile") {
                push(
                    Class::Disallowed,
                    "embedded-file",
                    "an embedded file's content was replaced".into(),
                );
                continue;
            }
        }
        if new
            .as_dict()
            .is_some_and(|d| d.is_type("EmbeddedFile") || d.is_type("Filespec"))
        {
            push(
                Class::Disallowed,
                "embedded-file",
                "an embedded file was added".into(),
            );
            continue;
        }
        match old {
            Some(_) => push(
                Class::Disallowed,
                "object",
                format!("object {num}, part of the signed document, was redefined"),
            ),
            None => push(
                Class::Unknown,
                "object",
                format!("new object {num} not attached to an allowed structure"),
            ),
        }
    }
}

fn annots(doc: &Doc<'_>, page: &Dict) -> Vec<u32> {
    match page.get("Annots").map(|o| doc.resolve(o)) {
        Some(Obj::Array(a)) => a.iter().filter_map(Obj::as_ref).map(|x| x.0).collect(),
        _ => vec![],
    }
}

fn diff_keys(old: Option<&Dict>, new: Option<&Dict>) -> Vec<String> {
    let empty = Dict::default();
    let old = old.unwrap_or(&empty);
    let new = new.unwrap_or(&empty);
    let mut keys: Vec<String> = vec![];
    for (k, v) in &new.0 {
        if old.0.iter().find(|(k2, _)| k2 == k).map(|x| &x.1) != Some(v) {
            keys.push(String::from_utf8_lossy(k).into_owned());
        }
    }
    for (k, _) in &old.0 {
        if !new.0.iter().any(|(k2, _)| k2 == k) {
            keys.push(String::from_utf8_lossy(k).into_owned());
        }
    }
    keys
}
