//! Calls a scalar export in a loop, dynamically and typed, on both backends: a target for profilers
//! (`perf record cargo run --release -p component-layer --example hot_call`). With `load FILE [N]` it loads a
//! component N times on wasmi instead, to profile `Component::new`.

use component_layer::{Component, Linker, Store, Value};
use wasm_runtime_layer::backend::WasmEngine;

const WAT: &str = r#"(component
  (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))"#;

fn run<E: WasmEngine>(name: &str, engine: component_layer::Engine<E>, n: u32) -> component_layer::Result<()> {
    let bytes = wat::parse_str(WAT)
        .map_err(|e| component_layer::Error::new(component_layer::ErrorKind::Usage(e.to_string())))?;
    let component = Component::new(&engine, &bytes)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new().instantiate(&mut store, &component)?;
    let add = instance.get_func("add").expect("export `add`");
    let typed = add.typed::<(u32, u32), (u32,)>()?;
    let start = std::time::Instant::now();
    let mut sum = 0u32;
    for i in 0..n {
        sum = sum.wrapping_add(typed.call(&mut store, (i, 1))?.0);
    }
    let typed_ns = start.elapsed().as_nanos() as f64 / f64::from(n);
    let start = std::time::Instant::now();
    let mut out = [Value::U32(0)];
    for i in 0..n {
        add.call(&mut store, &[Value::U32(i), Value::U32(1)], &mut out)?;
    }
    let dyn_ns = start.elapsed().as_nanos() as f64 / f64::from(n);
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
    run("wasmi", component_layer::Engine::new(wasmi_runtime_layer::Engine::default()), n)?;
    run("wasmtime", component_layer::Engine::new(wasmtime_runtime_layer::Engine::default()), n)?;
    Ok(())
}
