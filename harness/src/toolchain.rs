//! Components real toolchains emit: the 97 components wit-component 0.254's own tests expect it to produce.
//!
//! `corpus/upstream/wit-component/index.tsv` records what wasmtime 48 does with each under the synchronous
//! component model (the async components: with the async ABI validated, wasmtime's default, as the harness
//! configures it): whether it loads, and whether it instantiates when every import is a trapping stub. Every
//! engine must do the same: load the same components, refuse the others with an *unsupported feature* error
//! (never a panic, never another error class), instantiate the same ones, and trap in the start function where
//! wasmtime does.

use std::path::PathBuf;

use crate::engine::{Engine, Failure, Host};

/// One component and wasmtime's recorded behaviour.
#[derive(Debug, Clone)]
pub struct ToolchainCase {
    /// File name, e.g. `adapt-export-default.wat`.
    pub name: String,
    /// Its path.
    pub path: PathBuf,
    /// Whether wasmtime 48's behaviour on it is recorded (`update.sh` adds new components unrecorded).
    pub recorded: bool,
    /// Whether wasmtime 48 loads it (otherwise it needs an unsupported feature).
    pub loads: bool,
    /// Whether instantiation with trapping imports succeeds (`Some(true)`), traps in a start function
    /// (`Some(false)`), or is not attempted (`None`).
    pub instantiates: Option<bool>,
    /// wasmtime's note (the feature a rejected component needs).
    pub note: String,
}

/// The wit-component directory.
pub fn root() -> PathBuf {
    crate::conform::conformance_root().join("wit-component")
}

/// All cases, from `index.tsv`.
pub fn cases() -> anyhow::Result<Vec<ToolchainCase>> {
    let dir = root();
    let index = std::fs::read_to_string(dir.join("index.tsv"))?;
    let mut out = Vec::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        anyhow::ensure!(cols.len() >= 6, "bad index line `{line}`");
        out.push(ToolchainCase {
            name: cols[0].to_owned(),
            path: dir.join("components").join(cols[0]),
            recorded: cols[1] != "unrecorded",
            loads: cols[1] == "loads",
            instantiates: match cols[2] {
                "yes" => Some(true),
                "traps at start" => Some(false),
                _ => None,
            },
            note: cols[5].to_owned(),
        });
    }
    Ok(out)
}

/// Runs one case on one engine: `Ok` if the engine behaves as recorded.
pub fn run_case(case: &ToolchainCase, engine: &mut dyn Engine) -> Result<(), String> {
    let bytes = wat::parse_file(&case.path).map_err(|e| format!("cannot parse {}: {e}", case.path.display()))?;
    engine.reset();
    let component = match (engine.compile(&bytes), case.loads) {
        (Ok(c), true) => c,
        (Err(Failure::Unsupported { .. }), false) => return Ok(()),
        (Ok(_), false) => return Err(format!("loaded, but wasmtime rejects it ({})", case.note)),
        (Err(f), true) => return Err(format!("failed to load: {f}")),
        (Err(f), false) => return Err(format!("expected an unsupported-feature error ({}), got {f}", case.note)),
    };
    match (engine.instantiate(component, &Host::stubs()), case.instantiates) {
        (Ok(_), Some(true)) | (Err(Failure::Trap { .. }), Some(false)) | (_, None) => Ok(()),
        (Ok(_), Some(false)) => Err("instantiated, but wasmtime traps in a start function".into()),
        (Err(f), Some(true)) => Err(format!("failed to instantiate: {f}")),
        (Err(f), Some(false)) => Err(format!("expected a start-function trap, got {f}")),
    }
}
