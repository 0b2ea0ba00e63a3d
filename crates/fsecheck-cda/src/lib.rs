//! The CDA R2 layer: the header model read from a parsed document, and the registry of the FSE 2.0
//! document types the catalog knows.

pub mod header;
pub mod registry;

pub use header::{
    extract_info, header, Code, ExtractInfo, Header, Ii, Participant, RelatedDocument, HL7_NS,
};
pub use registry::{DocType, DOC_TYPES};
