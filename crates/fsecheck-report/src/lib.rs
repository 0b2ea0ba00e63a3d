//! Reports: the per-document record (the JSONL contract, `schemas/report-record.schema.json`),
//! its verdict, the verdict the gateway would give, and the sinks that write records as they come.
//! This crate knows findings, never stage internals.

pub mod gateway;
pub mod human;
pub mod record;
pub mod sink;

pub use gateway::{GatewayContext, GatewayVerdict};
pub use record::{CdaSummary, DocumentReport, Kind, Verdict, SCHEMA_VERSION};
pub use sink::{FailOn, JsonSink, JsonlSink, Sink, Summary};
