//! XML layer: decoding, safe parsing, line index and node paths.

pub mod lines;
pub mod path;

pub use lines::LineIndex;
pub use path::node_xpath;
