//! Compile-once caches for rule sets the catalog names (schematrons): each is compiled the first
//! time a document needs it, exactly once per process, and shared by all workers. A file that does
//! not compile is remembered as a configuration error.

use fsecheck_catalog::Catalog;
use fsecheck_schematron::Schematron;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

type Slot = Arc<OnceLock<Result<Arc<Schematron>, String>>>;

/// Schematrons by catalog file name.
#[derive(Default)]
pub struct SchematronCache {
    slots: Mutex<HashMap<String, Slot>>,
    errors: Mutex<Vec<String>>,
}

impl SchematronCache {
    /// The compiled schematron `name` of the catalog (compiling it on first use).
    pub fn get(&self, catalog: &Catalog, name: &str) -> Result<Arc<Schematron>, String> {
        let slot = {
            let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(name.to_string()).or_default().clone()
        };
        slot.get_or_init(|| {
            let compiled = catalog
                .schematrons
                .iter()
                .find(|e| e.name == name)
                .ok_or_else(|| format!("{name}: not in the catalog"))
                .and_then(|e| catalog.schematron_text(e).map_err(|e| e.to_string()))
                .and_then(|(path, text)| {
                    Schematron::from_str(&text, &path.to_string_lossy())
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = &compiled {
                self.errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(e.clone());
            }
            compiled
        })
        .clone()
    }

    /// Configuration errors met so far (schematrons that did not compile).
    pub fn errors(&self) -> Vec<String> {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Compile a `--schematron` override up front: a broken file stops the run (exit 2).
pub fn compile_override(path: &Path) -> Result<Arc<Schematron>, String> {
    Schematron::from_file(path)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}
