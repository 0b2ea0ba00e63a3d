//! The terminology stage proper: one pass over the document, then the gateway's steps.

use crate::catalog::{Catalog, CodeSource, ManagedSystem};
use crate::fxhash::{FxHashMap, FxHashSet};
use crate::{is_blocklisted, javaorder, rules, CheckOptions, GATEWAY_MESSAGE};
use fsecheck_core::{Finding, Stage};
use roxmltree::{Document, Node, NodeId};
use std::sync::OnceLock;

/// `CodeSystemChangeEnum`, in the gateway's order: for `observation > code[code=X]`, every `value`
/// descendant of that observation gets `@codeSystem` = the mapped system.
const REMAP: [(&str, &str); 6] = [
    ("89261-2", "2.16.840.1.113883.2.9.10.1.4.3.4.5"),
    ("33999-4", "2.16.840.1.113883.2.9.77.22.11.7"),
    ("75246-9", "2.16.840.1.113883.2.9.77.22.11.15"),
    ("72166-2", "1.3.6.1.4.1.12009.10.1.1356"),
    ("74204-9", "1.3.6.1.4.1.12009.10.1.1694"),
    ("45404-1", "1.3.6.1.4.1.12009.10.1.3342"),
];

/// (system, resolved version): the gateway's `CodeSystemVersionDTO`.
type SystemVersion<'a> = (&'a str, Option<&'a str>);

const BLOCKLIST_MSG: &str = "È stato trovato almeno un dizionario presente in Blocklist: ";
const VERSION_MSG: &str = "È stata trovata almeno una versione non gestita di un dizionario: ";
const CODES_MSG: &str = "Almeno uno dei seguenti vocaboli non è censito: ";
const EMPTY_DB_MSG: &str = "Non è stato trovato alcun dizionario gestito su FSE";

/// One element carrying a code system, as the gateway extracts it (`CDAHelper.getCode`): empty
/// attributes count as absent.
struct Item<'a, 'input> {
    node: Node<'a, 'input>,
    code: Option<&'a str>,
    /// The effective system (after re-mapping).
    system: &'a str,
    /// Set when re-mapped: the `@codeSystem` the element really carries (`None` if it had none).
    remapped_from: Option<Option<&'a str>>,
    version: Option<&'a str>,
    display: Option<&'a str>,
    system_name: Option<&'a str>,
    /// Index of the system in the document's distinct-system table.
    sys: usize,
}

/// A distinct code system of the document, looked up once.
struct SysInfo<'c> {
    managed: Option<&'c ManagedSystem>,
    blocked: bool,
}

fn non_empty(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty())
}

/// Does the element's tag read `name` (ASCII case-insensitive) with no prefix? jsoup's HTML
/// parser lower-cases tag names and keeps prefixes (`cda:code` is not `code`).
pub(crate) fn is_tag(node: Node<'_, '_>, name: &str) -> bool {
    if !node.is_element() || !node.tag_name().name().eq_ignore_ascii_case(name) {
        return false;
    }
    // Unprefixed iff the source reads `<` + local name right at the element's start.
    let text = node.document().input_text();
    let start = node.range().start + 1;
    text.get(start..start + name.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(name))
}

/// Steps 1–2 as a public listing (see [`crate::coded_elements`]).
pub(crate) fn coded<'a, 'input>(doc: &'a Document<'input>) -> Vec<crate::CodedElement<'a, 'input>> {
    extract(doc)
        .into_iter()
        .map(|it| crate::CodedElement {
            node: it.node,
            code: it.code,
            code_system: it.system,
            original_code_system: it.remapped_from,
            code_system_version: it.version,
            display_name: it.display,
        })
        .collect()
}

/// Byte range of the element's start tag (`<code … />` or `<code …>`), from its node range.
pub(crate) fn start_tag_span(node: Node<'_, '_>) -> (usize, usize) {
    let range = node.range();
    let text = node.document().input_text();
    let bytes = &text.as_bytes()[range.start..range.end];
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return (range.start, range.start + i + 1),
            None => {}
        }
    }
    (range.start, range.end)
}

/// The attributes the stage reads, found in one scan of an element's attributes.
#[derive(Default)]
struct Attrs<'a> {
    code: Option<&'a str>,
    code_system: Option<&'a str>,
    version: Option<&'a str>,
    display: Option<&'a str>,
    system_name: Option<&'a str>,
}

/// One pass over the attributes. Names are compared exactly (jsoup, on its HTML parse, would also
/// accept `codesystem` or `CODESYSTEM`; such names are invalid against the CDA schema, and the
/// gateway only runs this stage on schema-valid documents). Unprefixed only; first one wins.
fn scan_attrs<'a>(node: Node<'a, '_>) -> Attrs<'a> {
    let mut a = Attrs::default();
    for at in node.attributes() {
        if at.namespace().is_some() {
            continue;
        }
        let slot = match at.name() {
            "code" => &mut a.code,
            "codeSystem" => &mut a.code_system,
            "displayName" => &mut a.display,
            "codeSystemName" => &mut a.system_name,
            "codeSystemVersion" => &mut a.version,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(at.value());
        }
    }
    a
}

/// Is this `code` element's @code one of the re-mapping codes (jsoup's `[code=X]`: trimmed,
/// case-insensitive)? Returns the index in [`REMAP`].
fn remap_index(code: &str) -> Option<usize> {
    let code = code.trim();
    REMAP.iter().position(|(c, _)| c.eq_ignore_ascii_case(code))
}

/// Step 1: value elements whose code system the gateway rewrites, with the new system.
/// `codes` are the `code` elements whose @code is a re-mapping code, in document order.
fn remap_targets(codes: &[(Node<'_, '_>, usize)]) -> FxHashMap<NodeId, &'static str> {
    // Observations per change, in document order (the order of `document.select`).
    let mut per_change: [Vec<Node<'_, '_>>; 6] = Default::default();
    for &(code, k) in codes {
        if !is_tag(code, "code") {
            continue;
        }
        if let Some(obs) = code.parent().filter(|p| is_tag(*p, "observation")) {
            per_change[k].push(obs);
        }
    }
    let mut map = FxHashMap::default();
    for (k, observations) in per_change.iter().enumerate() {
        for obs in observations {
            // `elem.select("value")`: every descendant named value, at any depth.
            for v in obs.descendants().skip(1).filter(|n| is_tag(*n, "value")) {
                map.insert(v.id(), REMAP[k].1);
            }
        }
    }
    map
}

/// Finds the attribute name `codeSystem` in the source text (names only come from the text).
fn finder() -> &'static memchr::memmem::Finder<'static> {
    static F: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
    F.get_or_init(|| memchr::memmem::Finder::new("codeSystem"))
}

/// Where the text holds a re-mapping code, in text order. Every code has a `-`, so the text is
/// searched for `-` (and `&`, for character references). Also says whether a character reference
/// could spell part of a re-mapping code, which no text search can see.
fn remap_hits(text: &[u8]) -> (Vec<usize>, bool) {
    let mut hits = Vec::new();
    let mut spelled_by_reference = false;
    for p in memchr::memchr2_iter(b'-', b'&', text) {
        if text[p] == b'&' {
            spelled_by_reference = spelled_by_reference || char_ref_in_codes(text, p);
            continue;
        }
        let Some(&after) = text.get(p + 1) else {
            continue;
        };
        if !after.is_ascii_digit() {
            continue;
        }
        for (code, _) in &REMAP {
            let code = code.as_bytes();
            let hyphen = code.iter().position(|&b| b == b'-').unwrap_or(0);
            if code.get(hyphen + 1) != Some(&after) {
                continue;
            }
            if let Some(start) = p.checked_sub(hyphen) {
                if text.get(start..start + code.len()) == Some(code) {
                    hits.push(start);
                    break;
                }
            }
        }
    }
    (hits, spelled_by_reference)
}

/// Is the `&` at `at` a character reference (`&#…;`, `&#x…;`) to a character that can appear in
/// a re-mapping code (a digit or `-`)?
fn char_ref_in_codes(text: &[u8], at: usize) -> bool {
    if text.get(at + 1) != Some(&b'#') {
        return false;
    }
    let rest = &text[at + 2..];
    let (digits, radix) = match rest.first() {
        Some(b'x') => (&rest[1..], 16),
        _ => (rest, 10),
    };
    let end = digits
        .iter()
        .position(|&b| b == b';')
        .unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end])
        .ok()
        .and_then(|d| u32::from_str_radix(d, radix).ok())
        .is_some_and(|c| c == u32::from(b'-') || (0x30..=0x39).contains(&c))
}

/// The last node (in document order, which is node-id order) that starts before `pos`, searching
/// forward from `from`, a node known to start before it. Node starts never decrease with the id.
/// The nodes are stepped through in order: successive hits are close, and a forward scan of the
/// node array is what the memory prefetcher serves best (a binary or galloping search is not).
fn last_node_before(doc: &Document<'_>, from: usize, pos: usize) -> usize {
    let mut at = from;
    while let Some(next) = doc.get_node(NodeId::from(at + 1)) {
        if next.range().start >= pos {
            break;
        }
        at += 1;
    }
    at
}

/// Steps 1 and 2: every element with `@codeSystem` (or re-mapped), in document order.
///
/// The source text is searched for `codeSystem`, for the re-mapping codes and for character
/// references. Each hit is mapped to the element whose start tag can hold it (the last node
/// starting before the hit) by stepping forward through the node array, and only those elements'
/// attributes are read: `codeSystem` hits give the coded elements, re-mapping code hits the
/// candidate `code` elements. Only when a character reference could spell a re-mapping code are
/// all `code` elements read. `extract_full` (tests) is the plain walk, and both must agree.
fn extract<'a, 'input>(doc: &'a Document<'input>) -> Vec<Item<'a, 'input>> {
    let text = doc.input_text().as_bytes();
    let mut nodes: Vec<Node<'a, 'input>> = Vec::new();
    let mut remap_codes: Vec<(Node<'a, 'input>, usize)> = Vec::new();
    let mut at = 0;
    let is_code = |n: &Node<'_, '_>| {
        let name = n.tag_name().name();
        n.is_element() && name.len() == 4 && name.eq_ignore_ascii_case("code")
    };
    let (remaps, spelled_by_reference) = remap_hits(text);
    let mut remaps = remaps.into_iter().peekable();
    let mut system_hits = finder().find_iter(text).peekable();
    loop {
        // Both hit lists are in text order: take the earlier one.
        let (hit, is_remap) = match (system_hits.peek(), remaps.peek()) {
            (Some(&h), Some(&r)) if h < r => (h, false),
            (_, Some(&r)) => (r, true),
            (Some(&h), None) => (h, false),
            (None, None) => break,
        };
        if is_remap {
            remaps.next();
        } else {
            system_hits.next();
        }
        if doc.root().range().start >= hit {
            continue;
        }
        at = last_node_before(doc, at, hit);
        let Some(node) = doc.get_node(NodeId::from(at)).filter(Node::is_element) else {
            continue;
        };
        if !is_remap {
            if nodes.last().is_none_or(|n| n.id() != node.id()) {
                nodes.push(node);
            }
        } else if is_code(&node) && remap_codes.last().is_none_or(|(n, _)| n.id() != node.id()) {
            if let Some(k) = scan_attrs(node).code.and_then(remap_index) {
                remap_codes.push((node, k));
            }
        }
    }
    if spelled_by_reference {
        // A re-mapping code may hide behind character references: read every `code` element.
        remap_codes = doc
            .descendants()
            .filter(is_code)
            .filter_map(|n| Some((n, scan_attrs(n).code.and_then(remap_index)?)))
            .collect();
    }
    let remap = if remap_codes.is_empty() {
        FxHashMap::default()
    } else {
        remap_targets(&remap_codes)
    };
    if !remap.is_empty() {
        nodes.extend(remap.keys().filter_map(|id| doc.get_node(*id)));
        // NodeIds follow document order.
        nodes.sort_by_key(|n| n.id().get_usize());
        nodes.dedup_by_key(|n| n.id());
    }
    let mut items = Vec::with_capacity(nodes.len());
    for node in nodes {
        let a = scan_attrs(node);
        let mapped = if remap.is_empty() {
            None
        } else {
            remap.get(&node.id()).copied()
        };
        match (mapped, a.code_system) {
            (Some(m), given) => push_item(&mut items, node, a, m, Some(given)),
            (None, Some(given)) => push_item(&mut items, node, a, given, None),
            (None, None) => {}
        }
    }
    items
}

/// Steps 1 and 2 over every element, with re-mapping: the reference for [`extract`].
#[cfg(test)]
fn extract_full<'a, 'input>(doc: &'a Document<'input>) -> Vec<Item<'a, 'input>> {
    let mut items = Vec::new();
    let mut remap_codes: Vec<(Node<'a, 'input>, usize)> = Vec::new();
    for node in doc.descendants().filter(Node::is_element) {
        let a = scan_attrs(node);
        if let Some(code) = a.code {
            let name = node.tag_name().name();
            if name.len() == 4 && name.eq_ignore_ascii_case("code") {
                if let Some(k) = remap_index(code) {
                    remap_codes.push((node, k));
                }
            }
        }
        if let Some(system) = a.code_system {
            push_item(&mut items, node, a, system, None);
        }
    }
    if remap_codes.is_empty() {
        return items;
    }
    let remap = remap_targets(&remap_codes);
    if remap.is_empty() {
        return items;
    }
    // Redo the extraction with the re-mapped systems.
    items.clear();
    for node in doc.descendants().filter(Node::is_element) {
        let a = scan_attrs(node);
        match (remap.get(&node.id()).copied(), a.code_system) {
            (Some(m), given) => push_item(&mut items, node, a, m, Some(given)),
            (None, Some(given)) => push_item(&mut items, node, a, given, None),
            (None, None) => {}
        }
    }
    items
}

fn push_item<'a, 'input>(
    items: &mut Vec<Item<'a, 'input>>,
    node: Node<'a, 'input>,
    a: Attrs<'a>,
    system: &'a str,
    remapped_from: Option<Option<&'a str>>,
) {
    // An empty codeSystem is null for the gateway: neither allowed, blocked nor managed,
    // hence dropped as "unknown" without a trace. We do the same.
    if system.is_empty() {
        return;
    }
    items.push(Item {
        node,
        code: non_empty(a.code),
        system,
        remapped_from,
        version: non_empty(a.version),
        display: non_empty(a.display),
        system_name: non_empty(a.system_name),
        sys: 0,
    });
}

fn version_label(system: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{system} v{v}"),
        None => system.to_string(),
    }
}

fn codes_group(system: &str, version: Option<&str>, codes: &[Option<&str>]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for c in codes {
        let c = c.unwrap_or("null");
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    format!(
        "[CodeSystem: {}, Codes: {}]",
        version_label(system, version),
        seen.join(", ")
    )
}

struct Ctx<'c> {
    catalog: &'c Catalog,
}

impl Ctx<'_> {
    fn element_finding(
        &self,
        id: &str,
        message: String,
        hint: String,
        item: &Item<'_, '_>,
        resolved: Option<Option<&str>>,
    ) -> Finding {
        let (s, e) = start_tag_span(item.node);
        let hint = match item.remapped_from {
            Some(orig) => format!(
                "{hint} (the gateway re-maps this value's code system to {} because its observation has one of the six re-mapped codes; the element itself says {})",
                item.system,
                orig.unwrap_or("no codeSystem")
            ),
            None => hint,
        };
        let source = if id == rules::UNKNOWN_CODE || id == rules::MISSING_CODE {
            format!("terminology/{}.csv", item.system)
        } else {
            "mongo-dump/dictionary.json.gzip".to_string()
        };
        let mut f = Finding::error(id, Stage::Terminology, message)
            .with_span(s, e)
            .with_xpath(fsecheck_xml::node_xpath(item.node))
            .with_hint(hint)
            .with_source(source)
            .with_detail("codeSystem", item.system);
        if let Some(c) = item.code {
            f = f.with_detail("code", c);
        }
        if let Some(d) = item.display {
            f = f.with_detail("displayName", d);
        }
        if let Some(n) = item.system_name {
            f = f.with_detail("codeSystemName", n);
        }
        if let Some(v) = item.version {
            f = f.with_detail("codeSystemVersion", v);
        }
        if let Some(orig) = item.remapped_from {
            f = f.with_detail("codeSystem.original", orig.unwrap_or("(none)"));
        }
        if let Some(resolved) = resolved {
            f = f.with_detail("codeSystemVersion.resolved", resolved.unwrap_or("(null)"));
            if let Some(rec) = self
                .catalog
                .systems
                .get(item.system)
                .and_then(|s| s.record(resolved))
            {
                if let Some(d) = &rec.release_date {
                    f = f.with_detail("dictionary.release_date", d.as_str());
                }
            }
        }
        f
    }
}

pub(crate) fn run(catalog: &Catalog, doc: &Document<'_>, opts: &CheckOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    if catalog.record_count == 0 {
        findings.push(
            Finding::error(rules::NO_DICTIONARIES, Stage::Terminology, EMPTY_DB_MSG)
                .with_hint("the catalog lists no managed dictionary; the gateway refuses every document in that state")
                .with_detail(GATEWAY_MESSAGE, EMPTY_DB_MSG),
        );
        return findings;
    }
    let ctx = Ctx { catalog };
    let mut items = extract(doc);
    let mut sysinfo: Vec<SysInfo<'_>> = Vec::new();
    let mut sys_index: FxHashMap<&str, usize> = FxHashMap::default();
    for it in &mut items {
        it.sys = *sys_index.entry(it.system).or_insert_with(|| {
            sysinfo.push(SysInfo {
                managed: catalog.systems.get(it.system),
                blocked: is_blocklisted(it.system),
            });
            sysinfo.len() - 1
        });
    }

    // Step 3: allow-list.
    items.retain(|it| !sysinfo[it.sys].managed.is_some_and(|s| s.whitelist));

    // Step 4: block-list. The gateway throws: nothing after this step runs.
    let mut gateway_decided = false;
    let mut blocked: Vec<&str> = Vec::new();
    for it in &items {
        if sysinfo[it.sys].blocked && !blocked.contains(&it.system) {
            blocked.push(it.system);
        }
    }
    if !blocked.is_empty() {
        let gateway = format!("{BLOCKLIST_MSG}[{}]", blocked.join(", "));
        for it in items.iter().filter(|it| sysinfo[it.sys].blocked) {
            let f = ctx.element_finding(
                rules::BLOCKLISTED_SYSTEM,
                format!("{BLOCKLIST_MSG}[{}]", it.system),
                format!(
                    "code system {} has a dot-component 999 or 9999, which the gateway treats as a placeholder OID and refuses; use the real OID of the coding system",
                    it.system
                ),
                it,
                None,
            );
            findings.push(f);
        }
        attach_gateway_message(&mut findings, gateway);
        if !opts.continue_after_blocking {
            return findings;
        }
        gateway_decided = true;
    }
    if gateway_decided {
        items.retain(|it| !sysinfo[it.sys].blocked);
    }

    // Step 5: systems the gateway does not manage are accepted (and only logged there).
    let mut unknown: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut managed_idx: Vec<usize> = Vec::with_capacity(items.len());
    let mut systems: Vec<&ManagedSystem> = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        match sysinfo[it.sys].managed {
            Some(s) => {
                managed_idx.push(i);
                systems.push(s);
            }
            None => match unknown.iter_mut().find(|(s, _)| *s == it.system) {
                Some((_, v)) => v.push(i),
                None => unknown.push((it.system, vec![i])),
            },
        }
    }
    for (system, idx) in &unknown {
        let first = &items[idx[0]];
        let (s, e) = start_tag_span(first.node);
        let codes = distinct_codes(idx.iter().map(|&i| items[i].code));
        findings.push(
            Finding::info(
                rules::SYSTEM_NOT_MANAGED,
                Stage::Terminology,
                format!("code system {system} is not managed by the gateway: its codes are not checked"),
            )
            .with_span(s, e)
            .with_xpath(fsecheck_xml::node_xpath(first.node))
            .with_hint("the gateway accepts code systems missing from its dictionary collection without checking them (it only logs \"Unknown CodeSystems found during the validation\"); check the OID is the intended one")
            .with_detail("codeSystem", *system)
            .with_detail("occurrences", idx.len().to_string())
            .with_detail("codes", codes.join(", ")),
        );
    }

    // Step 6: a missing version becomes the system's latest version.
    let resolved: Vec<Option<&str>> = managed_idx
        .iter()
        .zip(&systems)
        .map(|(&i, s)| items[i].version.or(s.max_version.as_deref()))
        .collect();

    // The gateway's list order after `sanitizeMissingVersion` (removeAll + addAll): explicit
    // versions first, minus those equal to a sanitized code, then the sanitized codes. A code-less
    // CodeDTO never equals anything, so a sanitized one stays in place and is also appended.
    let list = gateway_list_order(&items, &managed_idx, &resolved);

    // Step 7: explicit versions must be known. The gateway throws: nothing after this step runs.
    let mut invalid: Vec<(&str, Option<&str>)> = Vec::new();
    for &k in &list {
        let key = (items[managed_idx[k]].system, resolved[k]);
        if !systems[k].has_version(key.1) && !invalid.contains(&key) {
            invalid.push(key);
        }
    }
    if !invalid.is_empty() {
        let labels: Vec<String> = invalid.iter().map(|(s, v)| version_label(s, *v)).collect();
        let gateway = format!("{VERSION_MSG}[{}]", labels.join(", "));
        for (k, &i) in managed_idx.iter().enumerate() {
            let it = &items[i];
            if systems[k].has_version(resolved[k]) {
                continue;
            }
            let known: Vec<&str> = systems[k]
                .records
                .iter()
                .map(|r| r.version.as_deref().unwrap_or("(none)"))
                .collect();
            let hint = if systems[k].records.iter().all(|r| r.version.is_none()) {
                format!(
                    "the gateway's dictionary for {} has no version, so any codeSystemVersion is refused; drop the attribute",
                    it.system
                )
            } else {
                format!(
                    "codeSystemVersion must equal a version the gateway knows for {} ({}); drop the attribute to use the latest",
                    it.system,
                    known.join(", ")
                )
            };
            let f = ctx
                .element_finding(
                    rules::UNKNOWN_VERSION,
                    format!("{VERSION_MSG}[{}]", version_label(it.system, resolved[k])),
                    hint,
                    it,
                    Some(resolved[k]),
                )
                .with_detail("known_versions", known.join(", "));
            findings.push(f);
        }
        if !gateway_decided {
            attach_gateway_message(&mut findings, gateway);
        }
        if !opts.continue_after_blocking {
            return findings;
        }
        gateway_decided = true;
    }

    // Step 8: look every code up in its (system, version) dictionary.
    let mut found = vec![true; managed_idx.len()];
    let mut suggestions: Vec<Option<&str>> = vec![None; managed_idx.len()];
    let mut unavailable: Vec<(&str, Vec<usize>, String)> = Vec::new();
    for (k, &i) in managed_idx.iter().enumerate() {
        let it = &items[i];
        if !systems[k].has_version(resolved[k]) {
            // Only reached with continue_after_blocking: already reported as unknown-version.
            continue;
        }
        match systems[k].codes() {
            CodeSource::Loaded(table) => {
                found[k] = it.code.is_some_and(|c| table.contains(c, resolved[k]));
                if !found[k] {
                    suggestions[k] = it.code.and_then(|c| table.dotted_suggestion(c));
                }
            }
            CodeSource::Missing(p) => {
                add_unavailable(&mut unavailable, it.system, k, || {
                    format!(
                        "{} is not in the catalog",
                        crate::catalog::catalog_relative(p)
                    )
                });
            }
            CodeSource::Broken(e) => {
                add_unavailable(&mut unavailable, it.system, k, || e.clone());
            }
        }
    }
    let mut groups: Vec<(SystemVersion<'_>, Vec<Option<&str>>)> = Vec::new();
    // Key index of every element of the gateway's remaining list (duplicates included: they
    // matter for when its HashMap resizes).
    let mut element_keys: Vec<usize> = Vec::new();
    for &k in &list {
        if found[k] {
            continue;
        }
        let it = &items[managed_idx[k]];
        let key = (it.system, resolved[k]);
        match groups.iter().position(|(g, _)| *g == key) {
            Some(g) => {
                groups[g].1.push(it.code);
                element_keys.push(g);
            }
            None => {
                element_keys.push(groups.len());
                groups.push((key, vec![it.code]));
            }
        }
    }
    let first_error = findings.len();
    for (k, &i) in managed_idx.iter().enumerate() {
        if found[k] {
            continue;
        }
        let it = &items[i];
        let message = format!(
            "{CODES_MSG}{}",
            codes_group(it.system, resolved[k], &[it.code])
        );
        let f = match it.code {
            Some(code) => {
                let f = ctx.element_finding(
                    rules::UNKNOWN_CODE,
                    message,
                    match suggestions[k] {
                        Some(s) => format!(
                            "code {code} is not in the gateway's dictionary {}, but {s} is: the dictionary writes this code with its dot",
                            version_label(it.system, resolved[k])
                        ),
                        None => format!(
                            "code {code} is not in the gateway's dictionary {}; use a code from that code system, or the right codeSystem OID for this code",
                            version_label(it.system, resolved[k])
                        ),
                    },
                    it,
                    Some(resolved[k]),
                );
                match suggestions[k] {
                    Some(s) => f.with_detail("suggestion", s),
                    None => f,
                }
            }
            None => ctx.element_finding(
                rules::MISSING_CODE,
                message,
                format!(
                    "the element names the managed code system {} but has no @code (e.g. a nullFlavor); the gateway looks up the missing code and fails, reporting it as \"null\"",
                    it.system
                ),
                it,
                Some(resolved[k]),
            ),
        };
        findings.push(f);
    }
    for (system, ks, reason) in &unavailable {
        let first = &items[managed_idx[ks[0]]];
        let (s, e) = start_tag_span(first.node);
        let codes = distinct_codes(ks.iter().map(|&k| items[managed_idx[k]].code));
        let mut versions: Vec<&str> = Vec::new();
        for &k in ks {
            let v = resolved[k].unwrap_or("(null)");
            if !versions.contains(&v) {
                versions.push(v);
            }
        }
        findings.push(
            Finding::warning(
                rules::DICTIONARY_UNAVAILABLE,
                Stage::Terminology,
                format!(
                    "the dictionary of managed code system {system} is not available: {} code(s) not checked",
                    ks.len()
                ),
            )
            .with_span(s, e)
            .with_xpath(fsecheck_xml::node_xpath(first.node))
            .with_hint("the gateway checks these codes against its dictionary, but the catalog snapshot lacks the code list (LOINC and AIC are not published in the public mirror); the gateway may still refuse them")
            .with_detail("codeSystem", *system)
            .with_detail("occurrences", ks.len().to_string())
            .with_detail("codes", codes.join(", "))
            .with_detail("codeSystemVersion.resolved", versions.join(", "))
            .with_detail("reason", reason.as_str()),
        );
    }
    if !groups.is_empty() && !gateway_decided {
        let hashes: Vec<i32> = groups
            .iter()
            .map(|((s, v), _)| javaorder::system_version_hash(s, *v))
            .collect();
        let parts: Vec<String> = javaorder::grouping_order(&element_keys, &hashes)
            .into_iter()
            .map(|g| {
                let ((s, v), codes) = &groups[g];
                codes_group(s, *v, codes)
            })
            .collect();
        let gateway = format!("{CODES_MSG}{}", parts.join(", "));
        if let Some(f) = findings[first_error..]
            .iter_mut()
            .find(|f| f.severity == fsecheck_core::Severity::Error)
        {
            f.details.insert(GATEWAY_MESSAGE.to_string(), gateway);
        }
    }
    findings
}

/// Distinct codes of the given items, in order.
fn distinct_codes<'a>(codes: impl Iterator<Item = Option<&'a str>>) -> Vec<&'a str> {
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    codes.flatten().filter(|c| seen.insert(*c)).collect()
}

fn add_unavailable<'a>(
    list: &mut Vec<(&'a str, Vec<usize>, String)>,
    system: &'a str,
    k: usize,
    reason: impl FnOnce() -> String,
) {
    match list.iter_mut().find(|(s, _, _)| *s == system) {
        Some((_, v, _)) => v.push(k),
        None => list.push((system, vec![k], reason())),
    }
}

fn attach_gateway_message(findings: &mut [Finding], message: String) {
    if let Some(f) = findings
        .iter_mut()
        .find(|f| f.severity == fsecheck_core::Severity::Error)
    {
        f.details.insert(GATEWAY_MESSAGE.to_string(), message);
    }
}

/// Indexes into `managed_idx` (and `resolved`) in the order of the gateway's code list after
/// `sanitizeMissingVersion`.
fn gateway_list_order(
    items: &[Item<'_, '_>],
    managed_idx: &[usize],
    resolved: &[Option<&str>],
) -> Vec<usize> {
    let sanitized: Vec<usize> = (0..managed_idx.len())
        .filter(|&k| items[managed_idx[k]].version.is_none())
        .collect();
    if sanitized.is_empty() {
        return (0..managed_idx.len()).collect();
    }
    let key = |k: usize| {
        let it = &items[managed_idx[k]];
        it.code.map(|c| (c, it.system, resolved[k]))
    };
    if sanitized.len() == managed_idx.len() {
        // No explicit version: nothing can be removed but the sanitized codes themselves.
        let mut list: Vec<usize> = sanitized
            .iter()
            .copied()
            .filter(|&k| items[managed_idx[k]].code.is_none())
            .collect();
        list.extend(sanitized);
        return list;
    }
    let sanitized_keys: FxHashSet<(&str, &str, Option<&str>)> =
        sanitized.iter().filter_map(|&k| key(k)).collect();
    let mut list = Vec::with_capacity(managed_idx.len() + sanitized.len());
    for k in 0..managed_idx.len() {
        match key(k) {
            // Code-less: never equal to anything, never removed.
            None => list.push(k),
            Some(kk) => {
                if !sanitized_keys.contains(&kk) {
                    list.push(k);
                }
            }
        }
    }
    list.extend(sanitized);
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn signature(items: &[Item<'_, '_>]) -> Vec<(NodeId, String, Option<String>)> {
        items
            .iter()
            .map(|it| {
                (
                    it.node.id(),
                    it.system.to_string(),
                    it.code.map(str::to_string),
                )
            })
            .collect()
    }

    fn same_as_full_walk(text: &str) {
        let doc = Document::parse(text).unwrap();
        assert_eq!(
            signature(&extract(&doc)),
            signature(&extract_full(&doc)),
            "{text}"
        );
    }

    #[test]
    fn prefilter_walk_matches_full_walk_on_tricky_text() {
        same_as_full_walk(
            r#"<!-- codeSystem="1.2" --><r codeSystem="9"><a>text codeSystem here<b code="x" codeSystem="1.2.3"/>codeSystem after</a>
<c codeSystemName="n" codeSystem="2"><d/><e codeSystem="3"/></c><f><![CDATA[codeSystem="4"]]></f>
<g codeSystem=""/><h x="codesystem"/></r>"#,
        );
        same_as_full_walk(r#"<r><a codeSystem="1"/></r>"#);
        // Re-mapping: the code has no codeSystem, the nested PQ value has none either.
        same_as_full_walk(
            r#"<r><observation><code code="33999-4"/><entryRelationship><observation>
<code code="1" codeSystem="2"/><value value="1" unit="mg"/></observation></entryRelationship>
<value code="LA16666-2" codeSystem="2.16.840.1.113883.6.1"/></observation>
<act><code code="72166-2"/><value code="x" codeSystem="y"/></act></r>"#,
        );
        same_as_full_walk(r#"<r/>"#);
        // A re-mapping code spelled with character references (decimal and hex).
        same_as_full_walk(
            r#"<r><observation><code code="&#55;2166-2"/><value code="x" codeSystem="y"/></observation>
<observation><code code="45404&#x2D;1"/><value code="z"/></observation></r>"#,
        );
        // Re-mapping codes in text, in other attributes, and with a `-` at the very end.
        same_as_full_walk(
            r#"<r><observation><code code="1" x="33999-4"/>33999-4<value codeSystem="x" code="y"/></observation>
<observation><code code=" 45404-1 "/><value code="z"/></observation>-</r>"#,
        );
        // Hits in comments, text and end positions; nested elements right after a hit.
        same_as_full_walk(
            r#"<r><!--codeSystem--><a codeSystem="1"><b codeSystem="2"><c/></b>codeSystem</a><?pi codeSystem?><d codeSystem="3"/></r>"#,
        );
    }

    fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                xml_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "xml") {
                out.push(p);
            }
        }
    }

    #[test]
    fn prefilter_walk_matches_full_walk_on_the_corpus() {
        let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        let mut files = Vec::new();
        xml_files(&corpus.join("validator"), &mut files);
        xml_files(&corpus.join("examples"), &mut files);
        assert!(files.len() > 900);
        let mut compared = 0;
        for f in files {
            let Ok(text) = String::from_utf8(std::fs::read(&f).unwrap()) else {
                continue;
            };
            let Ok(doc) = Document::parse(text.trim_start_matches('\u{feff}')) else {
                continue;
            };
            assert_eq!(
                signature(&extract(&doc)),
                signature(&extract_full(&doc)),
                "{}",
                f.display()
            );
            compared += 1;
        }
        assert!(compared > 900);
    }
}
