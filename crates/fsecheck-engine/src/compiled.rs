//! Compile-once caches for rule sets the catalog names (schematrons, CDA schema sets): each is
//! compiled the first time a document needs it, exactly once per process, and shared by all
//! workers. A one-document run therefore pays only for what that document uses. A file that does
//! not compile is remembered as a configuration error (the CLI exits 2 after the run).

use fsecheck_catalog::Catalog;
use fsecheck_schematron::Schematron;
use fsecheck_xsd::SchemaSet;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

type Slot<T> = Arc<OnceLock<Result<Arc<T>, String>>>;

/// Compiled values by name, each built once on first use; build errors are kept.
pub struct OnceCache<T> {
    slots: Mutex<HashMap<String, Slot<T>>>,
    errors: Mutex<Vec<String>>,
}

impl<T> Default for OnceCache<T> {
    fn default() -> Self {
        OnceCache {
            slots: Mutex::default(),
            errors: Mutex::default(),
        }
    }
}

impl<T> OnceCache<T> {
    /// The value named `name`, built by `build` the first time anyone asks (other workers asking
    /// meanwhile wait for that one build).
    pub fn get_or_build(
        &self,
        name: &str,
        build: impl FnOnce() -> Result<T, String>,
    ) -> Result<Arc<T>, String> {
        let slot = {
            let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(name.to_string()).or_default().clone()
        };
        slot.get_or_init(|| {
            let built = build().map(Arc::new);
            if let Err(e) = &built {
                self.errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(e.clone());
            }
            built
        })
        .clone()
    }

    /// Has `name` been built (or failed to build) already?
    pub fn is_built(&self, name: &str) -> bool {
        let map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        map.get(name).is_some_and(|slot| slot.get().is_some())
    }

    /// Configuration errors met so far (values that did not build).
    pub fn errors(&self) -> Vec<String> {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Schematrons by catalog file name.
#[derive(Default)]
pub struct SchematronCache(OnceCache<Schematron>);

impl SchematronCache {
    /// The compiled schematron `name` of the catalog (compiling it on first use).
    pub fn get(&self, catalog: &Catalog, name: &str) -> Result<Arc<Schematron>, String> {
        self.0.get_or_build(name, || {
            catalog
                .schematrons
                .iter()
                .find(|e| e.name == name)
                .ok_or_else(|| format!("{name}: not in the catalog"))
                .and_then(|e| catalog.schematron_text(e).map_err(|e| e.to_string()))
                .and_then(|(path, text)| {
                    Schematron::from_str(&text, &path.to_string_lossy()).map_err(|e| e.to_string())
                })
        })
    }

    /// Configuration errors met so far (schematrons that did not compile).
    pub fn errors(&self) -> Vec<String> {
        self.0.errors()
    }
}

/// The catalog's CDA schema sets by `typeId/@extension`.
#[derive(Default)]
pub struct SchemaSetCache(OnceCache<SchemaSet>);

impl SchemaSetCache {
    /// The compiled schema set for `extension` (compiling it on first use); `None` when the
    /// catalog has no set for it.
    pub fn get(
        &self,
        catalog: &Catalog,
        extension: &str,
    ) -> Option<Result<Arc<SchemaSet>, String>> {
        let set = catalog.schema_set(extension)?;
        Some(self.0.get_or_build(&set.type_id_extension, || {
            SchemaSet::load(&set.dir)
                .map_err(|e| format!("catalog schema set {}: {e}", set.type_id_extension))
        }))
    }

    /// Is the set for `extension` compiled (or known broken) already? `true` when the catalog
    /// has no set for it (nothing to compile).
    pub fn is_built(&self, catalog: &Catalog, extension: &str) -> bool {
        catalog
            .schema_set(extension)
            .is_none_or(|set| self.0.is_built(&set.type_id_extension))
    }

    /// Configuration errors met so far (schema sets that did not compile).
    pub fn errors(&self) -> Vec<String> {
        self.0.errors()
    }
}

/// Compile a `--schematron` override up front: a broken file stops the run (exit 2).
pub fn compile_override(path: &Path) -> Result<Arc<Schematron>, String> {
    Schematron::from_file(path)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}
