//! Attributing a divergence: is it component-layer's, a core backend's, or the reference's?
//!
//! component-layer runs the same code over every backend: parsing, planning, the canonical ABI, handle tables and
//! the instance rules do not depend on the core engine. So when the three engines `layer-wasmi`,
//! `layer-wasmtime` and `wasmtime` all ran a call and exactly one *layer* engine disagrees while the other agrees
//! with wasmtime, the difference lies below component-layer: in that core engine or its `wasm_runtime_layer`
//! backend (the wasmi 2.0.0 `select` miscompilation, `corpus/backends/`, is the standing example). When only
//! `wasmtime` disagrees, both of our engines agree with each other against the reference: a wasmtime deviation or
//! a bug the layer engines share, to be triaged against the spec. Everything else — both layer engines wrong, or
//! fewer than the three engines compared — is attributed to component-layer.
//!
//! `fuzz` fails on component-layer's and the reference's divergences; backend divergences are reported and
//! written to `corpus/backends/`, and fail the run only with `--strict`.

use serde::Serialize;

use super::Divergence;

/// Who a divergence is attributed to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Blame {
    /// component-layer itself (the default when the evidence does not point elsewhere).
    Runtime,
    /// A core backend: the named layer engine alone disagrees, and component-layer over the other backend
    /// agrees with wasmtime.
    Backend(String),
    /// wasmtime alone disagrees with both layer engines.
    Reference,
}

impl Blame {
    /// Attributes `d`, found comparing `engines`.
    pub fn of(d: &Divergence, engines: &[String]) -> Blame {
        Blame::from_wrong(&d.wrong, engines)
    }

    /// Attributes a divergence in which `wrong` disagree with the reference, found comparing `engines`.
    pub fn from_wrong(wrong: &[String], engines: &[String]) -> Blame {
        let all = ["layer-wasmi", "layer-wasmtime", "wasmtime"].iter().all(|e| engines.iter().any(|x| x == e));
        if !all || wrong.len() != 1 {
            return Blame::Runtime;
        }
        match wrong[0].as_str() {
            e @ ("layer-wasmi" | "layer-wasmtime") => Blame::Backend(e.to_owned()),
            "wasmtime" => Blame::Reference,
            _ => Blame::Runtime,
        }
    }

    /// Whether a run must fail because of it (`strict`: backend divergences too).
    pub fn fails(&self, strict: bool) -> bool {
        strict || !matches!(self, Blame::Backend(_))
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Blame::Runtime => "component-layer".into(),
            Blame::Backend(e) => {
                format!("the core backend of {e} (component-layer over the other backend agrees with wasmtime)")
            }
            Blame::Reference => "wasmtime (both layer engines agree against it: triage against the spec)".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn div(wrong: &[&str]) -> Divergence {
        Divergence {
            call: Some(0),
            what: "result of `f`".into(),
            wrong: wrong.iter().map(|s| s.to_string()).collect(),
            outcomes: Vec::new(),
            expected: None,
            reference: None,
        }
    }

    fn three() -> Vec<String> {
        ["layer-wasmi", "layer-wasmtime", "wasmtime"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn attribution() {
        assert_eq!(Blame::of(&div(&["layer-wasmi"]), &three()), Blame::Backend("layer-wasmi".into()));
        assert_eq!(Blame::of(&div(&["layer-wasmtime"]), &three()), Blame::Backend("layer-wasmtime".into()));
        assert_eq!(Blame::of(&div(&["wasmtime"]), &three()), Blame::Reference);
        assert_eq!(Blame::of(&div(&["layer-wasmi", "layer-wasmtime"]), &three()), Blame::Runtime);
        // Without the other backend there is no evidence that the runtime is not at fault.
        let two = vec!["layer-wasmi".to_string(), "wasmtime".to_string()];
        assert_eq!(Blame::of(&div(&["layer-wasmi"]), &two), Blame::Runtime);
        assert!(!Blame::Backend("layer-wasmi".into()).fails(false));
        assert!(Blame::Backend("layer-wasmi".into()).fails(true));
        assert!(Blame::Runtime.fails(false));
    }
}
