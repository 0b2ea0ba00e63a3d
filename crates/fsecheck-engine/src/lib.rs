//! The pipeline every input goes through, and the runner that checks many inputs in parallel and
//! hands their reports on in path order, each as soon as it and all before it are done.
//!
//! ```text
//! input → sniff → [pdf] → xml (decode, prescan, parse) → cda header → catalog selection
//!       → xsd / schematron (same tree) → terminology → engine map → verdicts → sinks
//! ```

pub mod archive;
pub mod cache;
pub mod compiled;
pub mod file_index;
pub mod input;
pub mod pipeline;
pub mod requests;
pub mod rules;
pub mod runner;
pub mod shard;
pub mod sniff;

pub use archive::{expand_archives, ArchiveLimits};
pub use cache::{Cache, CacheOptions};
pub use input::{collect_inputs, Input, WalkOptions};
pub use pipeline::{Engine, EngineOptions, Stages};
pub use requests::Metadata;
pub use runner::{run_ordered, CheckFn};
pub use shard::Shard;
pub use sniff::{sniff, Sniffed};
