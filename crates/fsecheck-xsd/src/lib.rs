//! XSD 1.0 subset validator for the CDA R2 schema sets of the FSE 2.0 gateway.
//!
//! A [`SchemaSet`] is compiled once from a set directory of the catalog (`CDA.xsd` plus what it
//! includes and imports, resolved **by bare file name inside the directory**, as the gateway's
//! resolver does) and then validates any number of parsed documents, from any number of threads.
//! It covers exactly the XSD features the catalog sets use (see `docs/XSD.md`); a schema using
//! anything else fails to load with a [`SchemaError`] instead of being half-understood.
//!
//! ```no_run
//! use fsecheck_xsd::{SchemaSet, find_schema_dir};
//! let catalog = std::path::Path::new("../shared/catalogs/schema");
//! let dir = find_schema_dir(catalog, "POCD_MT000040UV02").expect("known set");
//! let set = SchemaSet::load(&dir).expect("schema compiles");
//! let text = std::fs::read_to_string("cda.xml").unwrap();
//! let doc = roxmltree::Document::parse(&text).unwrap();
//! for f in set.validate(&doc) {
//!     println!("{} {} at {:?}", f.id, f.message, f.location.xpath);
//! }
//! ```

mod automaton;
mod load;
mod model;
mod simple;
mod uri;
mod validate;

use fsecheck_core::{Finding, Stage};
use std::fmt;
use std::path::{Path, PathBuf};

/// Stable finding ids of the XSD stage.
pub mod ids {
    /// An element the content model does not allow at that place.
    pub const UNEXPECTED_ELEMENT: &str = "xsd/unexpected-element";
    /// A required element is missing (at the end of the content, or before the element found).
    pub const MISSING_ELEMENT: &str = "xsd/missing-element";
    /// An attribute value outside its simple type (enumeration, pattern, lexical form, fixed).
    pub const ATTRIBUTE_VALUE: &str = "xsd/attribute-value";
    /// An attribute the element's type does not declare.
    pub const UNKNOWN_ATTRIBUTE: &str = "xsd/unknown-attribute";
    /// A required attribute is absent.
    pub const MISSING_ATTRIBUTE: &str = "xsd/missing-attribute";
    /// The text of a simple-typed element is outside its type.
    pub const ELEMENT_VALUE: &str = "xsd/element-value";
    /// `xsi:type` cannot be resolved or is not derived from the declared type.
    pub const XSI_TYPE: &str = "xsd/xsi-type";
    /// `xsi:nil` on an element that is not nillable.
    pub const XSI_NIL: &str = "xsd/xsi-nil";
    /// The element's (declared or `xsi:type`) type is abstract.
    pub const ABSTRACT_TYPE: &str = "xsd/abstract-type";
    /// Two `xs:ID` attributes with the same value.
    pub const DUPLICATE_ID: &str = "xsd/duplicate-id";
    /// An `xs:IDREF(S)` value that names no ID of the document.
    pub const IDREF: &str = "xsd/idref";
    /// The root element has no global declaration.
    pub const UNKNOWN_ROOT: &str = "xsd/unknown-root";
    /// Non-whitespace text inside element-only (or empty) content.
    pub const TEXT_NOT_ALLOWED: &str = "xsd/text-not-allowed";
    /// Elements nested deeper than 256 levels are not validated (libxml2 refuses such
    /// documents while parsing: "Excessive depth in document: 256").
    pub const TOO_DEEP: &str = "xsd/too-deep";
    /// No schema set for the document's `typeId/@extension` (the gateway's message).
    pub const SCHEMA_NOT_FOUND: &str = "xsd/schema-not-found";
}

/// A schema set that cannot be compiled: a configuration error, not a document finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// The schema file (bare name inside the set directory), or the directory.
    pub file: String,
    /// 1-based; 0 when unknown.
    pub line: u32,
    /// 1-based; 0 when unknown.
    pub col: u32,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

impl std::error::Error for SchemaError {}

/// A compiled schema set (e.g. `POCD_MT000040UV02`): immutable, `Send + Sync`, cheap to share.
#[derive(Debug)]
pub struct SchemaSet {
    name: String,
    model: model::Model,
}

impl SchemaSet {
    /// Compiles `dir/CDA.xsd` and every schema document it includes or imports (found by bare
    /// file name in `dir`). Chameleon includes (documents without `targetNamespace`) take the
    /// includer's namespace, as XSD prescribes.
    pub fn load(dir: &Path) -> Result<SchemaSet, SchemaError> {
        let model = load::load_model(dir)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        Ok(SchemaSet { name, model })
    }

    /// The set's directory name, e.g. `POCD_MT000040UV02`; also the `source` of its findings.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Validates a parsed document and returns every error found (empty = valid). Findings carry
    /// the stage `xsd`, an id from [`ids`], the byte span of the element (or of the attribute
    /// value), the element's path (`fsecheck_xml::node_xpath`) and the set name as `source`.
    pub fn validate(&self, doc: &roxmltree::Document) -> Vec<Finding> {
        let mut v = validate::Validator::new(&self.model, &self.name);
        v.run(doc);
        v.findings
    }
}

/// The set directory for a `typeId/@extension` inside the catalog's `schema/` directory, if the
/// catalog has one (a directory of that exact name holding a `CDA.xsd`).
pub fn find_schema_dir(schema_root: &Path, type_id_extension: &str) -> Option<PathBuf> {
    let ok = !type_id_extension.is_empty()
        && !type_id_extension.contains(['/', '\\'])
        && type_id_extension != "."
        && type_id_extension != "..";
    if !ok {
        return None;
    }
    let dir = schema_root.join(type_id_extension);
    dir.join("CDA.xsd").is_file().then_some(dir)
}

/// The `typeId/@extension` of a CDA document, used to choose the schema set.
pub fn type_id_extension<'a>(doc: &'a roxmltree::Document) -> Option<&'a str> {
    doc.root_element()
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "typeId")
        .and_then(|t| t.attribute("extension"))
}

/// The gateway's finding for a `typeId/@extension` with no schema set:
/// `Schema with version X not found on database.`
pub fn schema_not_found(type_id_extension: &str) -> Finding {
    Finding::error(
        ids::SCHEMA_NOT_FOUND,
        Stage::Xsd,
        format!("Schema with version {type_id_extension} not found on database."),
    )
    .with_detail("typeIdExtension", type_id_extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn schema_set_is_send_and_sync() {
        assert_send_sync::<SchemaSet>();
    }

    #[test]
    fn not_found_message_is_the_gateway_one() {
        let f = schema_not_found("1.3");
        assert_eq!(f.id, "xsd/schema-not-found");
        assert_eq!(f.message, "Schema with version 1.3 not found on database.");
    }
}
