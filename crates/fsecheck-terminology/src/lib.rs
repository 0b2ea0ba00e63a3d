//! The terminology stage of fsecheck and the FHIR engine-map check, with the semantics of the
//! Ministry of Health's Gateway FSE 2.0 validator (`ValidationSRV.validateVocabularies`,
//! `TerminologySRV`, `CodeSystemUtility`; engine: `ValidationSRV.getStructureObjectID`).
//!
//! ```no_run
//! use fsecheck_terminology::{Engines, Terminology};
//! use std::path::Path;
//! let catalog = Path::new("../shared/catalogs");
//! let terminology = Terminology::load(catalog).unwrap(); // once per process; Send + Sync
//! let engines = Engines::load(catalog).unwrap();
//! let text = std::fs::read_to_string("cda.xml").unwrap();
//! let doc = roxmltree::Document::parse(&text).unwrap();
//! let findings = terminology.check(&doc);
//! if let Some(message) = fsecheck_terminology::gateway_message(&findings) {
//!     println!("gateway would answer /msg/vocabulary: {message}");
//! }
//! if let Some(f) = engines.check_document(&doc) {
//!     println!("{}", f.message);
//! }
//! ```
//!
//! The steps, in the gateway's order (see `docs/GATEWAY.md (terminology section)`):
//! 1. re-mapping of `value` code systems under six observation codes;
//! 2. extraction of every element carrying `@codeSystem`;
//! 3. allow-listed systems dropped;
//! 4. block-listed systems (a dot-component `999` or `9999`) → error, the stage stops;
//! 5. systems the gateway does not manage → accepted (we add one info finding per system);
//! 6. no `codeSystemVersion` → the system's latest version;
//! 7. an explicit version must be a known version of the system → error, the stage stops;
//! 8. every code looked up in its (system, version) dictionary → error for each missing one.

mod catalog;
mod check;
mod engine;
mod error;
mod fxhash;
pub mod javaorder;

pub use catalog::DictionaryRecord;
pub use engine::{first_template_id, EngineMap, Engines};
pub use error::Error;

use fsecheck_core::Finding;
use std::path::Path;

/// Rule ids emitted by this crate.
pub mod rules {
    /// A code system with a dot-component `999` or `9999` (gateway: blocking).
    pub const BLOCKLISTED_SYSTEM: &str = "term/blocklisted-system";
    /// A code system the gateway does not manage: accepted by the gateway (info).
    pub const SYSTEM_NOT_MANAGED: &str = "term/system-not-managed";
    /// An explicit `codeSystemVersion` the dictionary does not know (gateway: blocking).
    pub const UNKNOWN_VERSION: &str = "term/unknown-version";
    /// A code not in its (system, version) dictionary (gateway: blocking).
    pub const UNKNOWN_CODE: &str = "term/unknown-code";
    /// An element with a managed `@codeSystem` but no `@code` (gateway: blocking, "Codes: null").
    pub const MISSING_CODE: &str = "term/missing-code";
    /// A managed system whose code list is not in the catalog: codes cannot be checked (warning).
    pub const DICTIONARY_UNAVAILABLE: &str = "term/dictionary-unavailable";
    /// The catalog has no managed dictionary at all (gateway: blocking).
    pub const NO_DICTIONARIES: &str = "term/no-dictionaries";
    /// The template root has no FHIR structure map in the latest engine (gateway: blocking).
    pub const ENGINE_NO_MAP: &str = "engine/no-fhir-map";
    /// No available engine at all (gateway: blocking).
    pub const ENGINE_NONE: &str = "engine/no-engine";
}

/// How far the stage goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// The gateway stops at the first failing blocking step (block-list, then versions), so a
    /// document fixed for one step may fail the next. With `true` the stage goes on: block-listed
    /// elements are then left out, elements with an unknown version are not looked up, and every
    /// later finding is reported too. [`GATEWAY_MESSAGE`] stays on the first error only: it is
    /// still exactly what the gateway answers. Default `false` (findings = the gateway's).
    pub continue_after_blocking: bool,
}

/// Key in [`Finding::details`] holding the message the gateway would return for the whole
/// document. Set on the first error finding of a [`Terminology::check`] result only.
pub const GATEWAY_MESSAGE: &str = "gateway_message";

/// The managed dictionaries of one catalog. Load once per process and share (`Send + Sync`):
/// the dictionary list is read eagerly, each system's CSV lazily on first use.
pub struct Terminology {
    catalog: catalog::Catalog,
}

impl Terminology {
    /// Reads `<catalog_dir>/mongo-dump/dictionary.json.gzip`; the CSVs under
    /// `<catalog_dir>/terminology/` are read on first use (absent ones are reported per document
    /// as `term/dictionary-unavailable`).
    pub fn load(catalog_dir: &Path) -> Result<Terminology, Error> {
        Ok(Terminology {
            catalog: catalog::load(catalog_dir)?,
        })
    }

    /// Reads every CSV now (for long-running processes or to time loading apart from checking).
    /// Returns, per managed system whose code list cannot be used, the reason.
    pub fn preload(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        for (system, s) in &self.catalog.systems {
            if s.whitelist {
                continue;
            }
            match s.codes() {
                catalog::CodeSource::Loaded(_) => {}
                catalog::CodeSource::Missing(p) => {
                    problems.push((system.clone(), format!("{} is absent", p.display())))
                }
                catalog::CodeSource::Broken(e) => problems.push((system.clone(), e.clone())),
            }
        }
        problems.sort();
        problems
    }

    /// Managed systems, sorted.
    pub fn systems(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.catalog.systems.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// The dictionary records of a managed system (`None` if the gateway does not manage it).
    pub fn records(&self, system: &str) -> Option<&[DictionaryRecord]> {
        self.catalog
            .systems
            .get(system)
            .map(|s| s.records.as_slice())
    }

    /// The version the gateway assumes when `codeSystemVersion` is absent (`None`: null version,
    /// or system not managed).
    pub fn latest_version(&self, system: &str) -> Option<&str> {
        self.catalog.systems.get(system)?.max_version.as_deref()
    }

    /// Is `system` allow-listed (never checked)?
    pub fn is_allow_listed(&self, system: &str) -> bool {
        self.catalog
            .systems
            .get(system)
            .is_some_and(|s| s.whitelist)
    }

    /// Number of codes loaded for `system` (loads its CSV); `None` if the list is unavailable.
    pub fn code_count(&self, system: &str) -> Option<usize> {
        match self.catalog.systems.get(system)?.codes() {
            catalog::CodeSource::Loaded(t) => Some(t.len()),
            _ => None,
        }
    }

    /// Runs the terminology stage on one parsed CDA. Never fails; see the crate docs for the
    /// steps and [`rules`] for the finding ids.
    pub fn check(&self, doc: &roxmltree::Document<'_>) -> Vec<Finding> {
        check::run(&self.catalog, doc, &CheckOptions::default())
    }

    /// [`Terminology::check`] with options; see [`CheckOptions`].
    pub fn check_with(&self, doc: &roxmltree::Document<'_>, opts: &CheckOptions) -> Vec<Finding> {
        check::run(&self.catalog, doc, opts)
    }
}

/// The gateway's message for the whole document, if the terminology stage fails it: the text the
/// validator returns with `VOCABULARY_ERROR` (the dispatcher answers `/msg/vocabulary`, HTTP 400).
/// Reads [`GATEWAY_MESSAGE`] from the first error finding.
pub fn gateway_message(findings: &[Finding]) -> Option<&str> {
    findings
        .iter()
        .filter(|f| f.severity == fsecheck_core::Severity::Error)
        .find_map(|f| f.details.get(GATEWAY_MESSAGE).map(String::as_str))
}

/// An element the gateway's terminology stage extracts (steps 1–2), with the attributes it reads
/// (empty attributes are `None`).
#[derive(Debug, Clone, Copy)]
pub struct CodedElement<'a, 'input> {
    pub node: roxmltree::Node<'a, 'input>,
    pub code: Option<&'a str>,
    /// The system the gateway checks: `@codeSystem`, or the re-mapped one.
    pub code_system: &'a str,
    /// `Some` when re-mapped: the `@codeSystem` the element carries (`None` if it had none).
    pub original_code_system: Option<Option<&'a str>>,
    pub code_system_version: Option<&'a str>,
    pub display_name: Option<&'a str>,
}

/// Every element the gateway's terminology stage would look at, in document order, after the
/// re-mapping of step 1 (elements with an empty `@codeSystem` are left out, as the gateway drops
/// them). Needs no catalog.
pub fn coded_elements<'a, 'input>(
    doc: &'a roxmltree::Document<'input>,
) -> Vec<CodedElement<'a, 'input>> {
    check::coded(doc)
}

/// `is_blocklisted` of the gateway: any dot-separated component equal to `999` or `9999`.
pub fn is_blocklisted(system: &str) -> bool {
    system.contains("999") && system.split('.').any(|c| c == "999" || c == "9999")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocklist_is_per_component() {
        assert!(is_blocklisted("2.16.840.1.113883.9.999"));
        assert!(is_blocklisted("9999.1"));
        assert!(is_blocklisted("1.999.2"));
        assert!(!is_blocklisted("2.16.99"));
        assert!(!is_blocklisted("2.16.840.1.113883.6.99.99.99"));
        assert!(!is_blocklisted("1.99999"));
        assert!(!is_blocklisted(""));
    }

    #[test]
    fn terminology_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Terminology>();
        assert_send_sync::<Engines>();
    }
}
