//! Attributing a divergence: is it component-layer's, a core backend's, or the reference's?
//!
//! The engines outside the largest group that agrees are the wrong ones ([`super::outliers`]); this module says
//! whose bug that is.
//!
//! * One component-layer engine alone is wrong. component-layer runs the same code over every backend, so the
//!   difference *may* lie below it, in that core engine — but a runtime bug whose symptom shows on one backend
//!   only is just as possible. So a core backend is blamed only with evidence ([`crate::evidence`]): the core
//!   calls component-layer made are recorded on both backends and replayed on each core engine without
//!   component-layer, and the two core engines are shown to compute different results from the same inputs. The
//!   evidence (the core module, reduced; the call; each backend's result) goes with the finding. Without it, the
//!   divergence is component-layer's. The evidence runs the case on both backends itself, so it is sought even
//!   when the other layer engine was not among those compared (`--engine jco --engine wasmtime --engine
//!   layer-wasmi`).
//! * wasmtime alone is wrong: both of our engines agree against the reference. That is a wasmtime deviation or a
//!   bug both layer engines share; it fails the run until it is triaged against the specification.
//! * Anything else (both layer engines wrong, a crash of a layer engine) is component-layer's.
//!
//! * jco alone is wrong, with wasmtime and at least one layer engine agreeing against it: jco's finding. jco is
//!   an implementation independent of both ours and wasmtime's, so agreement of the others is the evidence.
//!
//! Only backend and jco findings leave a run green (unless `--strict`): they are not ours to fix, and are written
//! to `corpus/backends/` and `corpus/jco/` as reports an upstream maintainer can act on.

use component_gen::Case;
use serde::{Deserialize, Serialize};

use super::Divergence;
use crate::engine::{EngineKind, EngineSpec};

/// Who a divergence is attributed to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Blame {
    /// component-layer itself (the default when the evidence does not point elsewhere).
    Runtime,
    /// The core backend of a layer engine, shown by replaying the core calls on both core engines.
    Backend {
        /// The layer engine whose backend is wrong.
        engine: String,
        /// The core-level evidence.
        evidence: Box<crate::evidence::Evidence>,
    },
    /// wasmtime alone disagrees with both layer engines.
    Reference,
    /// jco alone disagrees with wasmtime and component-layer.
    Jco,
}

impl Blame {
    /// Whether a run must fail because of it (`strict`: backend findings too).
    pub fn fails(&self, strict: bool) -> bool {
        strict || !matches!(self, Blame::Backend { .. } | Blame::Jco)
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Blame::Runtime => "component-layer".into(),
            Blame::Backend { engine, evidence } => {
                format!("the core backend of {engine}: {}", evidence.summary)
            }
            Blame::Reference => "wasmtime (both layer engines agree against it: triage against the spec)".into(),
            Blame::Jco => {
                format!("jco {} (wasmtime and component-layer agree against it)", crate::engine::jco::JCO_VERSION)
            }
        }
    }

    /// The attribution a divergence in which `wrong` are the wrong engines, found comparing `engines`, has before
    /// any core-level evidence is looked at; [`Suspect::Backend`] says evidence should be sought.
    pub fn suspect(wrong: &[String], engines: &[String]) -> Suspect {
        let kinds: Vec<Option<EngineKind>> =
            engines.iter().map(|e| EngineSpec::parse(e).ok().filter(|s| s.fault.is_none()).map(|s| s.kind)).collect();
        let has = |k: EngineKind| kinds.contains(&Some(k));
        let [w] = wrong else { return Suspect::Runtime };
        let kind = EngineSpec::parse(w).map(|s| s.kind).ok();
        // The other implementations must have run, plainly, and agreed: the reference and one of ours at least.
        let others = has(EngineKind::Wasmtime) && (has(EngineKind::LayerWasmi) || has(EngineKind::LayerWasmtime));
        match kind {
            Some(EngineKind::Jco) if others => Suspect::Jco,
            Some(EngineKind::Wasmtime) => Suspect::Reference,
            // The evidence runs the case on component-layer over both core backends itself and compares them at the
            // core level, so the other layer engine need not be among those compared: with jco, wasmtime and
            // layer-wasmi alone, a wasmi miscompilation is still wasmi's, with evidence.
            Some(k @ (EngineKind::LayerWasmi | EngineKind::LayerWasmtime))
                if EngineSpec::parse(w).is_ok_and(|s| s.fault.is_none()) =>
            {
                Suspect::Backend(k)
            }
            _ => Suspect::Runtime,
        }
    }
}

impl Blame {
    /// The attribution where no core-level evidence is sought: a layer engine's divergence is component-layer's.
    pub fn without_evidence(wrong: &[String], engines: &[String]) -> Blame {
        match Blame::suspect(wrong, engines) {
            Suspect::Reference => Blame::Reference,
            Suspect::Jco => Blame::Jco,
            _ => Blame::Runtime,
        }
    }
}

/// What a divergence looks like before evidence is sought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suspect {
    /// component-layer.
    Runtime,
    /// The core backend of this layer engine, if the evidence shows it.
    Backend(EngineKind),
    /// wasmtime.
    Reference,
    /// jco.
    Jco,
}

/// Attributes divergence `d` of `case`, found comparing `engines`: seeks core-level evidence where one layer
/// engine alone is wrong.
pub fn attribute(case: &Case, d: &Divergence, engines: &[String]) -> Blame {
    match Blame::suspect(&d.wrong, engines) {
        Suspect::Runtime => Blame::Runtime,
        Suspect::Reference => Blame::Reference,
        Suspect::Jco => Blame::Jco,
        Suspect::Backend(kind) => match crate::evidence::seek(case, d.call, kind) {
            Some(evidence) => Blame::Backend { engine: kind.name().to_owned(), evidence: Box::new(evidence) },
            None => Blame::Runtime,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn suspects() {
        let three = names(&["layer-wasmi", "layer-wasmtime", "wasmtime"]);
        assert_eq!(Blame::suspect(&names(&["layer-wasmi"]), &three), Suspect::Backend(EngineKind::LayerWasmi));
        assert_eq!(Blame::suspect(&names(&["layer-wasmtime"]), &three), Suspect::Backend(EngineKind::LayerWasmtime));
        assert_eq!(Blame::suspect(&names(&["wasmtime"]), &three), Suspect::Reference);
        assert_eq!(Blame::suspect(&names(&["layer-wasmi", "layer-wasmtime"]), &three), Suspect::Runtime);
        // The evidence compares the core backends itself: the other layer engine need not have run.
        let without_other = names(&["jco", "wasmtime", "layer-wasmi"]);
        assert_eq!(Blame::suspect(&names(&["layer-wasmi"]), &without_other), Suspect::Backend(EngineKind::LayerWasmi));
        // A self-test engine that is wrong on purpose is never a backend's fault.
        let faulty = names(&["layer-wasmi!flip-bool", "layer-wasmtime", "wasmtime"]);
        assert_eq!(Blame::suspect(&names(&["layer-wasmi!flip-bool"]), &faulty), Suspect::Runtime);
        let faulty = names(&["layer-wasmi", "layer-wasmtime", "wasmtime!flip-bool"]);
        assert_eq!(Blame::suspect(&names(&["wasmtime!flip-bool"]), &faulty), Suspect::Reference);
        assert!(Blame::Runtime.fails(false) && Blame::Reference.fails(false));
        // jco alone against the reference and one of ours is jco's; a self-test jco is wrong on purpose.
        let four = names(&["jco", "wasmtime", "layer-wasmi"]);
        assert_eq!(Blame::suspect(&names(&["jco"]), &four), Suspect::Jco);
        assert_eq!(Blame::suspect(&names(&["jco"]), &names(&["jco", "wasmtime"])), Suspect::Runtime);
        assert_eq!(Blame::suspect(&names(&["wasmtime"]), &four), Suspect::Reference);
        let faulty = names(&["jco!flip-bool", "wasmtime", "layer-wasmi"]);
        assert_eq!(Blame::suspect(&names(&["jco!flip-bool"]), &faulty), Suspect::Jco);
        assert!(!Blame::Jco.fails(false) && Blame::Jco.fails(true));
    }
}
