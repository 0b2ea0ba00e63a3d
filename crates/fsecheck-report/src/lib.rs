//! Reports: the per-document record (the JSONL contract, `schemas/report-record.schema.json`),
//! its verdict, the verdict the gateway would give, and the sinks that write records as they come.
//! This crate knows findings, never stage internals.

pub mod baseline;
pub mod csvout;
pub mod fingerprint;
pub mod gateway;
pub mod gitlab;
pub mod html;
pub mod human;
pub mod junit;
pub mod record;
pub mod redact;
pub mod rules;
pub mod sarif;
pub mod sink;
pub mod snippet;

pub use gateway::{GatewayContext, GatewayVerdict};
pub use record::{CdaSummary, DocumentReport, Kind, Verdict, SCHEMA_VERSION};
pub use sink::{FailOn, JsonSink, JsonlSink, Sink, Summary};
