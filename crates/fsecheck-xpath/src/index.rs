//! A compact per-document index for fast navigation: interned element names, element children as
//! contiguous id lists, and subtree extents (descendants of a node are a contiguous id range).
//!
//! roxmltree navigation is pointer chasing through 72-byte node records, text nodes included;
//! the FSE rules mostly walk `hl7:a/hl7:b[hl7:c[@x='…']]` over element children, where integer
//! compares over a dense array are an order of magnitude cheaper.

use roxmltree::{Document, Node, NodeId};
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

/// Not an element.
pub(crate) const NOT_ELEMENT: u32 = u32::MAX;
/// An element whose name no compiled expression mentions.
pub(crate) const UNKNOWN_NAME: u32 = u32::MAX - 1;

/// FNV-1a: a fast hasher for the small keys of the per-document caches.
#[derive(Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 ^= n as u64;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }
}

pub(crate) type FnvMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

#[derive(Default)]
struct Interner {
    by_local: HashMap<String, Vec<(Option<String>, u32)>>,
    next: u32,
}

fn interner() -> &'static RwLock<Interner> {
    static I: OnceLock<RwLock<Interner>> = OnceLock::new();
    I.get_or_init(Default::default)
}

/// Process-wide id of an expanded element name, as used by compiled name tests and
/// [`DocIndex::name_id`].
pub fn intern_element_name(ns: Option<&str>, local: &str) -> u32 {
    intern(ns, local)
}

pub(crate) fn intern(ns: Option<&str>, local: &str) -> u32 {
    if let Ok(r) = interner().read() {
        if let Some(v) = r.by_local.get(local) {
            if let Some((_, id)) = v.iter().find(|(n, _)| n.as_deref() == ns) {
                return *id;
            }
        }
    }
    let mut w = interner().write().unwrap_or_else(|e| e.into_inner());
    let next = w.next;
    let v = w.by_local.entry(local.to_string()).or_default();
    if let Some((_, id)) = v.iter().find(|(n, _)| n.as_deref() == ns) {
        return *id;
    }
    v.push((ns.map(str::to_string), next));
    w.next += 1;
    next
}

/// Navigation index of one parsed document. Build it once per document with
/// [`DocIndex::new`] and pass it to [`crate::Variables::with_index`]; it is only used for nodes of
/// that same document.
#[derive(Debug, Clone)]
pub struct DocIndex {
    doc_addr: usize,
    /// Names interned when the index was built: ids at or above this were interned later
    /// (by expressions compiled after the index) and are not in `names`.
    known: u32,
    names: Vec<u32>,
    child_start: Vec<u32>,
    children: Vec<u32>,
    subtree_end: Vec<u32>,
}

impl DocIndex {
    pub fn new(doc: &Document) -> DocIndex {
        // Sized from the text (a node per `<` at most, plus text nodes): no counting pass.
        let estimate = doc.input_text().len() / 16 + 16;
        let mut names: Vec<u32> = Vec::with_capacity(estimate);
        let mut child_start = Vec::with_capacity(estimate + 1);
        let mut children = Vec::with_capacity(estimate / 2);
        // Filled when a subtree closes; still open at the end: the end of the document.
        let mut subtree_end: Vec<u32> = Vec::with_capacity(estimate);
        let mut stack: Vec<u32> = Vec::with_capacity(32);
        let known;
        {
            let guard = interner().read().unwrap_or_else(|e| e.into_inner());
            known = guard.next;
            let mut cache: FnvMap<(usize, &str), u32> = FnvMap::default();
            for node in doc.descendants() {
                let id = node.id().get_usize() as u32;
                // Node ids are assigned in document order, the order `descendants` walks.
                debug_assert_eq!(id as usize, names.len());
                names.push(NOT_ELEMENT);
                subtree_end.push(u32::MAX);
                // close the subtrees this node is not part of
                let parent = node.parent().map(|p| p.id().get_usize() as u32);
                while let Some(&top) = stack.last() {
                    if Some(top) == parent {
                        break;
                    }
                    subtree_end[top as usize] = id;
                    stack.pop();
                }
                stack.push(id);
                if node.is_element() {
                    let t = node.tag_name();
                    // Cache by (namespace storage address, local name): the global interner is
                    // consulted once per distinct name of the document.
                    let key = (
                        t.namespace().map(|n| n.as_ptr() as usize).unwrap_or(0),
                        t.name(),
                    );
                    names[id as usize] = *cache.entry(key).or_insert_with(|| {
                        guard
                            .by_local
                            .get(t.name())
                            .and_then(|v| v.iter().find(|(ns, _)| ns.as_deref() == t.namespace()))
                            .map(|(_, i)| *i)
                            .unwrap_or(UNKNOWN_NAME)
                    });
                }
                child_start.push(children.len() as u32);
                for c in node.children() {
                    if c.is_element() {
                        children.push(c.id().get_usize() as u32);
                    }
                }
            }
        }
        child_start.push(children.len() as u32);
        let n = names.len() as u32;
        for end in subtree_end.iter_mut().filter(|e| **e == u32::MAX) {
            *end = n;
        }
        DocIndex {
            doc_addr: doc as *const Document as usize,
            known,
            names,
            child_start,
            children,
            subtree_end,
        }
    }

    /// Interned id of an element's expanded name (see [`intern_element_name`]); `None` for
    /// non-elements, nodes of another document, and names no compiled expression mentions.
    pub fn name_id(&self, node: Node<'_, '_>) -> Option<u32> {
        if !self.covers(node) {
            return None;
        }
        match self.name(node) {
            NOT_ELEMENT | UNKNOWN_NAME => None,
            id if !self.knows(id) => None,
            id => Some(id),
        }
    }

    /// Can name test `id` be answered by this index?
    #[inline]
    pub(crate) fn knows(&self, id: u32) -> bool {
        id < self.known
    }

    /// Is this index the one of `node`'s document?
    #[inline]
    pub(crate) fn covers(&self, node: Node<'_, '_>) -> bool {
        node.document() as *const Document as usize == self.doc_addr
    }

    #[inline]
    pub(crate) fn name(&self, node: Node<'_, '_>) -> u32 {
        self.names[node.id().get_usize()]
    }

    #[inline]
    pub(crate) fn child_elements(&self, node: Node<'_, '_>) -> &[u32] {
        let i = node.id().get_usize();
        &self.children[self.child_start[i] as usize..self.child_start[i + 1] as usize]
    }

    /// Ids of the strict descendants of `node` (all node kinds).
    #[inline]
    pub(crate) fn descendant_range(&self, node: Node<'_, '_>) -> std::ops::Range<usize> {
        let i = node.id().get_usize();
        i + 1..self.subtree_end[i] as usize
    }

    #[inline]
    pub(crate) fn name_at(&self, id: usize) -> u32 {
        self.names[id]
    }
}

#[inline]
pub(crate) fn node_by_id<'a, 'i>(like: Node<'a, 'i>, id: u32) -> Node<'a, 'i> {
    like.document().get_node(NodeId::new(id)).unwrap_or(like)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_the_tree() {
        let ns = "urn:t";
        let a = intern(Some(ns), "a");
        let b = intern(Some(ns), "b");
        let doc = Document::parse(r#"<a xmlns="urn:t"><b/> text <a><b/><c/></a><!--x--><b/></a>"#)
            .unwrap();
        let ix = DocIndex::new(&doc);
        let root = doc.root_element();
        assert!(ix.covers(root));
        assert_eq!(ix.name(root), a);
        let kids: Vec<u32> = ix
            .child_elements(root)
            .iter()
            .map(|&i| ix.name_at(i as usize))
            .collect();
        assert_eq!(kids, [b, a, b]);
        let all: Vec<usize> = ix.descendant_range(root).collect();
        assert_eq!(all.len(), root.descendants().count() - 1);
        let inner = root.children().find(|c| c.has_tag_name("a")).unwrap();
        assert_eq!(ix.descendant_range(inner).len(), 2);
        let c = doc.descendants().find(|n| n.has_tag_name("c")).unwrap();
        assert!(ix.name(c) != a && ix.name(c) != b);
        // a name interned after the index was built is not answered by it
        let late = intern(Some(ns), "late-name-for-index-test");
        assert!(!ix.knows(late));
        let other = Document::parse("<a/>").unwrap();
        assert!(!ix.covers(other.root_element()));
    }
}
