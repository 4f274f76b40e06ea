//! Core-level evidence that a core backend, not component-layer, computes differently.

use component_gen::Case;
use serde::{Deserialize, Serialize};

/// What shows that two core engines compute different results from the same inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// One line: the core call and each backend's result.
    pub summary: String,
}

impl Evidence {
    /// The evidence as lines for a regression's header.
    pub fn report_lines(&self) -> Vec<String> {
        vec![format!("core-level evidence: {}", self.summary)]
    }
}

/// Seeks core-level evidence for a divergence of `case` at `call` between the two layer engines.
pub fn seek(_case: &Case, _call: Option<usize>) -> Option<Evidence> {
    None
}
