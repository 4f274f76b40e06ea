//! Loading real components: `Component::new` on each implementation for components users build (the
//! toolchains' outputs are megabytes: componentize-py's embeds CPython, componentize-js's a JavaScript engine),
//! next to the floor of compiling their core modules through the layer on the same backend. component-layer is
//! timed twice: a first load (`Component::new_uncached`: validation, translation, compilation) and a second load
//! of the same bytes while a component of them is alive (`Component::new`, which reuses the plan).
//!
//! The implementations take turns per round (as in [`super::interleave`]), and each figure is the median over
//! rounds. Loading is what real embedders pay first, so this is the other half of the runtime's cost besides calls.

use std::hint::black_box;
use std::time::Instant;

/// What loading one component cost.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadRow {
    /// The component's file.
    pub file: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// Its core modules (at any nesting depth).
    pub modules: usize,
    /// Per implementation: median milliseconds, or why it failed.
    pub ms: Vec<(String, Result<f64, String>)>,
}

/// The implementations, in column order.
pub const LOADERS: [&str; 7] = [
    "floor-wasmi (compile core modules)",
    "layer-wasmi",
    "layer-wasmi again",
    "floor-wasmtime (compile core modules)",
    "layer-wasmtime",
    "layer-wasmtime again",
    "wasmtime",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Times `f` once, in milliseconds.
fn once(f: &mut dyn FnMut() -> Result<(), String>) -> Result<f64, String> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed().as_secs_f64() * 1e3)
}

/// Loads `bytes` on every implementation, `rounds` times interleaved.
pub fn load(file: &str, bytes: &[u8], rounds: usize) -> anyhow::Result<LoadRow> {
    let modules = super::core_modules(bytes)?;
    let wasmi = wasm_runtime_layer::Engine::new(wasmi_runtime_layer::Engine::default());
    let wasmtime_core = wasm_runtime_layer::Engine::new(wasmtime_runtime_layer::Engine::default());
    let layer_wasmi = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
    let layer_wasmtime = component_layer::Engine::new(wasmtime_runtime_layer::Engine::default());
    let native = crate::engine::wasmtime_engine();
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let features = component_layer::default_features();
    // Alive for the whole measurement, so that `Component::new` finds their plan.
    let kept = (
        component_layer::Component::new(&layer_wasmi, bytes).ok(),
        component_layer::Component::new(&layer_wasmtime, bytes).ok(),
    );
    let mut loaders: Vec<Box<dyn FnMut() -> Result<(), String>>> = vec![
        Box::new(|| {
            for m in &modules {
                black_box(wasm_runtime_layer::Module::new(&wasmi, m).map_err(|e| err(&e))?);
            }
            Ok(())
        }),
        Box::new(|| {
            black_box(component_layer::Component::new_uncached(&layer_wasmi, bytes, features).map_err(|e| err(&e))?);
            Ok(())
        }),
        Box::new(|| {
            black_box(component_layer::Component::new(&layer_wasmi, bytes).map_err(|e| err(&e))?);
            Ok(())
        }),
        Box::new(|| {
            for m in &modules {
                black_box(wasm_runtime_layer::Module::new(&wasmtime_core, m).map_err(|e| err(&e))?);
            }
            Ok(())
        }),
        Box::new(|| {
            black_box(component_layer::Component::new_uncached(&layer_wasmtime, bytes, features).map_err(|e| err(&e))?);
            Ok(())
        }),
        Box::new(|| {
            black_box(component_layer::Component::new(&layer_wasmtime, bytes).map_err(|e| err(&e))?);
            Ok(())
        }),
        Box::new(|| {
            black_box(wasmtime::component::Component::new(&native, bytes).map_err(|e| format!("{e:?}"))?);
            Ok(())
        }),
    ];
    let mut times: Vec<Result<Vec<f64>, String>> = vec![Ok(Vec::new()); loaders.len()];
    for round in 0..rounds.max(1) {
        let order: Vec<usize> =
            if round % 2 == 0 { (0..loaders.len()).collect() } else { (0..loaders.len()).rev().collect() };
        for i in order {
            if let Ok(ts) = &mut times[i] {
                match once(loaders[i].as_mut()) {
                    Ok(ms) => ts.push(ms),
                    Err(e) => times[i] = Err(e),
                }
            }
        }
    }
    drop(loaders);
    drop(kept);
    let ms = LOADERS.iter().zip(times).map(|(name, t)| ((*name).to_owned(), t.map(median))).collect();
    Ok(LoadRow { file: file.to_owned(), bytes: bytes.len(), modules: modules.len(), ms })
}

/// The Markdown table of [`load`] rows, with component-layer's ratio to its floor on each backend.
pub fn table(rows: &[LoadRow]) -> String {
    let mut s = format!(
        "| component | size | core modules | {} | layer-wasmi ÷ floor | again ÷ floor | layer-wasmtime ÷ floor | again ÷ floor |\n|---|---:|---:|{}---:|---:|---:|---:|\n",
        LOADERS.map(|l| format!("{l} (ms)")).join(" | "),
        "---:|".repeat(LOADERS.len())
    );
    for r in rows {
        s.push_str(&format!("| {} | {:.1} MB | {} |", r.file, r.bytes as f64 / 1e6, r.modules));
        for (_, t) in &r.ms {
            match t {
                Ok(ms) => s.push_str(&format!(" {ms:.1} |")),
                Err(e) => s.push_str(&format!(" failed: {} |", e.lines().next().unwrap_or(""))),
            }
        }
        let ok = |i: usize| r.ms.get(i).and_then(|(_, t)| t.as_ref().ok()).copied();
        for (layer, floor) in [(1, 0), (2, 0), (4, 3), (5, 3)] {
            match ok(layer).zip(ok(floor)) {
                Some((l, f)) => s.push_str(&format!(" {:.2}× |", l / f)),
                None => s.push_str(" – |"),
            }
        }
        s.push('\n');
    }
    s
}
