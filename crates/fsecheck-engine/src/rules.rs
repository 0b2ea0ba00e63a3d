//! The rule registry of the whole pipeline: the report crate's core rules plus the rules stages
//! keep in their own tables, registered once at start-up (the report crate depends on no stage).

use fsecheck_core::{Severity, Stage};
use fsecheck_report::rules::{register, RuleDoc};

/// Register every stage's own rule table with the report registry. Call once, early.
pub fn register_rules() {
    let rules = fsecheck_metadata::gateway::ALL_RULES
        .iter()
        .map(|m| RuleDoc {
            id: m.id,
            stage: Stage::Metadata,
            severity: if m.gateway.is_some() {
                Severity::Error
            } else {
                Severity::Warning
            },
            summary: m.summary,
        })
        .collect();
    register(rules);
}
