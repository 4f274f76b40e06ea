//! Calls a scalar export in a loop, dynamically and typed, on both backends, beside the raw core call through
//! `wasm_runtime_layer` (the floor): a target for profilers (`perf record cargo run --release -p component-layer
//! --example hot_call`). `hot_call N MODE` runs only one loop (MODE: `wasmi-floor`, `wasmi-dyn`, `wasmi-typed`,
//! `wasmtime-floor`, …), so that instruction counts per call can be taken with
//! `valgrind --tool=callgrind` at two values of N (their difference divided by the difference of N is the cost of
//! one call, setup excluded). With `load FILE [N]` it loads a component N times on wasmi instead, to profile
//! `Component::new`.

use component_layer::{Component, Linker, Store, Value};
use wasm_runtime_layer::backend::WasmEngine;

const WAT: &str = r#"(component
  (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))"#;

/// The same core function, called directly through `wasm_runtime_layer`.
fn floor<E: WasmEngine>(name: &str, engine: wasm_runtime_layer::Engine<E>, n: u32) -> component_layer::Result<()> {
    use wasm_runtime_layer::{Extern, Imports, Instance, Module, Store, Val};
    let usage = |e: String| component_layer::Error::new(component_layer::ErrorKind::Usage(e));
    let bytes = wat::parse_str(
        r#"(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#,
    )
    .map_err(|e| usage(e.to_string()))?;
    let module = Module::new(&engine, &bytes).map_err(|e| usage(e.to_string()))?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &Imports::new()).map_err(|e| usage(e.to_string()))?;
    let add = instance.get_export(&store, "add").and_then(Extern::into_func).expect("export `add`");
    let start = std::time::Instant::now();
    let mut out = [Val::I32(0)];
    let mut sum = 0u32;
    for i in 0..n {
        add.call(&mut store, &[Val::I32(i as i32), Val::I32(1)], &mut out).map_err(|e| usage(e.to_string()))?;
        if let Val::I32(x) = out[0] {
            sum = sum.wrapping_add(x as u32);
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(n.max(1));
    println!("{name}: floor {ns:.1} ns/call (checksum {sum})");
    Ok(())
}

fn run<E: WasmEngine>(
    name: &str,
    engine: component_layer::Engine<E>,
    n: u32,
    mode: &str,
) -> component_layer::Result<()> {
    let bytes = wat::parse_str(WAT)
        .map_err(|e| component_layer::Error::new(component_layer::ErrorKind::Usage(e.to_string())))?;
    let component = Component::new(&engine, &bytes)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new().instantiate(&mut store, &component)?;
    let add = instance.get_func("add").expect("export `add`");
    let typed = add.typed::<(u32, u32), (u32,)>()?;
    let (typed_n, dyn_n) = match mode {
        "typed" => (n, 0),
        "dyn" => (0, n),
        _ => (n, n),
    };
    let start = std::time::Instant::now();
    let mut sum = 0u32;
    for i in 0..typed_n {
        sum = sum.wrapping_add(typed.call(&mut store, (i, 1))?.0);
    }
    let typed_ns = start.elapsed().as_nanos() as f64 / f64::from(typed_n.max(1));
    let start = std::time::Instant::now();
    let mut out = [Value::U32(0)];
    for i in 0..dyn_n {
        add.call(&mut store, &[Value::U32(i), Value::U32(1)], &mut out)?;
    }
    let dyn_ns = start.elapsed().as_nanos() as f64 / f64::from(dyn_n.max(1));
    println!("{name}: typed {typed_ns:.1} ns/call, dynamic {dyn_ns:.1} ns/call (checksum {sum})");
    Ok(())
}

/// Loads a component file `n` times on wasmi (for profiling `Component::new`).
fn load(path: &str, n: u32) -> component_layer::Result<()> {
    let bytes = std::fs::read(path)
        .map_err(|e| component_layer::Error::new(component_layer::ErrorKind::Usage(e.to_string())))?;
    let bytes = wat::parse_bytes(&bytes)
        .map_err(|e| component_layer::Error::new(component_layer::ErrorKind::Usage(e.to_string())))?;
    let engine = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
    let start = std::time::Instant::now();
    for _ in 0..n {
        Component::new(&engine, &bytes)?;
    }
    println!("Component::new: {:.1} us", start.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    Ok(())
}

fn main() -> component_layer::Result<()> {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("load") {
        let path = args.next().unwrap_or_default();
        let n = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
        return load(&path, n);
    }
    let n: u32 = first.and_then(|s| s.parse().ok()).unwrap_or(2_000_000);
    let mode = args.next().unwrap_or_else(|| "all".into());
    let (backend, what) = mode.split_once('-').unwrap_or((mode.as_str(), "all"));
    if matches!(backend, "all" | "wasmi") {
        if matches!(what, "all" | "floor") {
            floor("wasmi", wasm_runtime_layer::Engine::new(wasmi_runtime_layer::Engine::default()), n)?;
        }
        if what != "floor" {
            run("wasmi", component_layer::Engine::new(wasmi_runtime_layer::Engine::default()), n, what)?;
        }
    }
    if matches!(backend, "all" | "wasmtime") {
        if matches!(what, "all" | "floor") {
            floor("wasmtime", wasm_runtime_layer::Engine::new(wasmtime_runtime_layer::Engine::default()), n)?;
        }
        if what != "floor" {
            run("wasmtime", component_layer::Engine::new(wasmtime_runtime_layer::Engine::default()), n, what)?;
        }
    }
    Ok(())
}
