//! Calls a scalar export in a loop, dynamically and typed, on both backends, beside the raw core call through
//! `wasm_runtime_layer` (the floor): a target for profilers (`perf record cargo run --release -p component-layer
//! --example hot_call`). `hot_call N MODE` runs only one loop (MODE: `wasmi-floor`, `wasmi-dyn`, `wasmi-typed`,
//! `wasmtime-floor`, …), so that instruction counts per call can be taken with
//! `valgrind --tool=callgrind` at two values of N (their difference divided by the difference of N is the cost of
//! one call, setup excluded). The `host-…` modes (`wasmi-host-floor`, `wasmi-host-dyn`, `wasmi-host-typed`, and
//! `hostadd-…` for an import with two parameters and a result) make the guest call a host import N times: the
//! floor takes a `wasm_runtime_layer` host function, `dyn` a `func_new` and `typed` a `func_wrap`. With
//! `load FILE [N [wasmtime]]` it loads a component N times (first loads, on wasmi unless told) instead, to
//! profile `Component::new`, `load-floor FILE [N [wasmtime]]` compiles its core modules N times, and
//! `load-validate FILE [N]` only validates the component with wasmparser N times (the part of a first load that
//! no runtime using wasmparser's validator can skip). The `listout-…` modes (`wasmi-listout-floor`,
//! `wasmi-listout-dyn`, `wasmi-listout-typed`, the same with `wasmtime`) take a 64 KiB `list<u8>` out of the
//! guest N times: the floor calls the core function, reads the `(ptr, len)` it returns and then the bytes, each
//! in one read.

use component_layer::{Component, Linker, Store, Value};
use wasm_runtime_layer::backend::WasmEngine;

const WAT: &str = r#"(component
  (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))"#;

/// The guest of the host-import modes: `loop(n)` calls the import `noop` (or `add`, with `add` in its name) `n`
/// times, from the core module [`HOST_CORE`].
const HOST_WAT: &str = r#"(component
  (import "noop" (func $noop))
  (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
  (core func $noop (canon lower (func $noop)))
  (core func $add (canon lower (func $add)))
  (core module $m
    (import "host" "noop" (func $noop))
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (func (export "loop") (param $n i32)
      (block $done (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (call $noop)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))))
    (func (export "loop-add") (param $n i32) (local $acc i32)
      (block $done (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $add (local.get $acc) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))))
  (core instance $i (instantiate $m (with "host" (instance (export "noop" (func $noop)) (export "add" (func $add))))))
  (func (export "loop") (param "n" u32) (canon lift (core func $i "loop")))
  (func (export "loop-add") (param "n" u32) (canon lift (core func $i "loop-add"))))"#;

/// The core module of [`HOST_WAT`], for the floor.
const HOST_CORE: &str = r#"(module
    (import "host" "noop" (func $noop))
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (func (export "loop") (param $n i32)
      (block $done (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (call $noop)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))))
    (func (export "loop-add") (param $n i32) (local $acc i32)
      (block $done (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $add (local.get $acc) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))))"#;

/// The guest of the `listout` modes: `make(n)` returns a `list<u8>` of `n` bytes at 1024 (its return area at 16).
const LIST_WAT: &str = r#"(component
  (core module $m
    (memory (export "memory") 2)
    (func (export "make") (param $n i32) (result i32)
      (i32.store (i32.const 16) (i32.const 1024))
      (i32.store (i32.const 20) (local.get $n))
      (i32.const 16))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "make") (param "n" u32) (result (list u8))
    (canon lift (core func $i "make") (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))"#;

/// Bytes per `listout` call.
const LIST_BYTES: u32 = 64 * 1024;

fn usage(e: impl std::fmt::Display) -> component_layer::Error {
    component_layer::Error::new(component_layer::ErrorKind::Usage(e.to_string()))
}

/// `n` calls of a host import from the guest: `what` is `host-floor`, `host-dyn`, `host-typed` or the same with
/// `hostadd`.
fn host<E: WasmEngine>(name: &str, engine: E, n: u32, what: &str) -> component_layer::Result<()> {
    let (kind, form) = what.split_once('-').unwrap_or((what, "dyn"));
    let export = if kind == "hostadd" { "loop-add" } else { "loop" };
    let start;
    if form == "floor" {
        use wasm_runtime_layer::{Extern, Func, FuncType, Imports, Instance, Module, Store, Val, ValType};
        let engine = wasm_runtime_layer::Engine::new(engine);
        let module = Module::new(&engine, &wat::parse_str(HOST_CORE).map_err(usage)?).map_err(usage)?;
        let mut store = Store::new(&engine, ());
        let noop = Func::new(&mut store, FuncType::new([], []), |_, _, _| Ok(()));
        let add = Func::new(&mut store, FuncType::new([ValType::I32, ValType::I32], [ValType::I32]), |_, a, r| {
            if let ([Val::I32(a), Val::I32(b)], [r]) = (a, r) {
                *r = Val::I32(a.wrapping_add(*b));
            }
            Ok(())
        });
        let mut imports = Imports::new();
        imports.define("host", "noop", Extern::Func(noop));
        imports.define("host", "add", Extern::Func(add));
        let instance = Instance::new(&mut store, &module, &imports).map_err(usage)?;
        let f = instance.get_export(&store, export).and_then(Extern::into_func).ok_or_else(|| usage("no loop"))?;
        start = std::time::Instant::now();
        f.call(&mut store, &[Val::I32(n as i32)], &mut []).map_err(usage)?;
    } else {
        let engine = component_layer::Engine::new(engine);
        let component = Component::new(&engine, &wat::parse_str(HOST_WAT).map_err(usage)?)?;
        let mut linker = Linker::new();
        if form == "typed" {
            linker.root().func_wrap("noop", |_, (): ()| Ok(()))?;
            linker.root().func_wrap("add", |_, (a, b): (u32, u32)| Ok((a.wrapping_add(b),)))?;
        } else {
            linker.root().func_new("noop", |_, _, _| Ok(()))?;
            linker.root().func_new("add", |_, args, results| {
                if let ([Value::U32(a), Value::U32(b)], [r]) = (args, results) {
                    *r = Value::U32(a.wrapping_add(*b));
                }
                Ok(())
            })?;
        }
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component)?;
        let f = instance.get_func(export).ok_or_else(|| usage("no loop"))?;
        start = std::time::Instant::now();
        f.call(&mut store, &[Value::U32(n)], &mut [])?;
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(n.max(1));
    println!("{name}: {what} {ns:.1} ns/import call");
    Ok(())
}

/// `n` calls taking a 64 KiB `list<u8>` out of the guest: `form` is `floor`, `dyn` or `typed`.
fn list_out<E: WasmEngine>(name: &str, engine: E, n: u32, form: &str) -> component_layer::Result<()> {
    let bytes = wat::parse_str(LIST_WAT).map_err(usage)?;
    let mut total = 0usize;
    let start;
    if form == "floor" {
        use wasm_runtime_layer::{Extern, Imports, Instance, Module, Store, Val};
        let engine = wasm_runtime_layer::Engine::new(engine);
        let core = wasmparser::Parser::new(0)
            .parse_all(&bytes)
            .find_map(|p| match p {
                Ok(wasmparser::Payload::ModuleSection { unchecked_range, .. }) => bytes.get(unchecked_range),
                _ => None,
            })
            .ok_or_else(|| usage("no core module"))?;
        let module = Module::new(&engine, core).map_err(usage)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &Imports::new()).map_err(usage)?;
        let make = instance.get_export(&store, "make").and_then(Extern::into_func).ok_or_else(|| usage("no make"))?;
        let memory =
            instance.get_export(&store, "memory").and_then(Extern::into_memory).ok_or_else(|| usage("no memory"))?;
        start = std::time::Instant::now();
        let mut out = [Val::I32(0)];
        for _ in 0..n {
            make.call(&mut store, &[Val::I32(LIST_BYTES as i32)], &mut out).map_err(usage)?;
            let Val::I32(ret) = out[0] else { return Err(usage("make returned no i32")) };
            let mut pair = [0u8; 8];
            memory.read(&store, ret as usize, &mut pair).map_err(usage)?;
            let ptr = u32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]]);
            let len = u32::from_le_bytes([pair[4], pair[5], pair[6], pair[7]]);
            let mut list = vec![0u8; len as usize];
            memory.read(&store, ptr as usize, &mut list).map_err(usage)?;
            total += list.len();
        }
    } else {
        let engine = component_layer::Engine::new(engine);
        let component = Component::new(&engine, &bytes)?;
        let mut store = Store::new(&engine, ());
        let instance = Linker::new().instantiate(&mut store, &component)?;
        let make = instance.get_func("make").ok_or_else(|| usage("no make"))?;
        start = std::time::Instant::now();
        if form == "typed" {
            let typed = make.typed::<(u32,), (Vec<u8>,)>()?;
            for _ in 0..n {
                total += typed.call(&mut store, (LIST_BYTES,))?.0.len();
            }
        } else {
            let mut out = [Value::Bool(false)];
            for _ in 0..n {
                make.call(&mut store, &[Value::U32(LIST_BYTES)], &mut out)?;
                if let Value::List(l) = &out[0] {
                    total += l.len();
                }
            }
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(n.max(1));
    println!("{name}: listout-{form} {ns:.1} ns/call ({total} bytes)");
    Ok(())
}

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

/// Loads a component file `n` times on `backend` as a first load (`Component::new_uncached`), or, with `floor`,
/// compiles its core modules `n` times through `wasm_runtime_layer` (what loading costs at least).
fn load<E: WasmEngine>(engine: E, path: &str, n: u32, mode: &str) -> component_layer::Result<()> {
    let bytes = std::fs::read(path).map_err(usage)?;
    let bytes = wat::parse_bytes(&bytes).map_err(usage)?;
    let start = std::time::Instant::now();
    if mode == "load-validate" {
        for _ in 0..n {
            wasmparser::Validator::new_with_features(component_layer::default_features())
                .validate_all(&bytes)
                .map_err(usage)?;
        }
    } else if mode == "load-floor" {
        let engine = wasm_runtime_layer::Engine::new(engine);
        let mut modules = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
            if let wasmparser::Payload::ModuleSection { unchecked_range, .. } = payload.map_err(usage)? {
                modules.push(bytes.get(unchecked_range).ok_or_else(|| usage("module out of bounds"))?);
            }
        }
        for _ in 0..n {
            for m in &modules {
                wasm_runtime_layer::Module::new(&engine, m).map_err(usage)?;
            }
        }
    } else {
        let engine = component_layer::Engine::new(engine);
        for _ in 0..n {
            Component::new_uncached(&engine, &bytes, component_layer::default_features())?;
        }
    }
    let what = match mode {
        "load-floor" => "compiling the core modules",
        "load-validate" => "validating the component (wasmparser)",
        _ => "Component::new (first load)",
    };
    println!("{what}: {:.1} us", start.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    Ok(())
}

fn main() -> component_layer::Result<()> {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if let Some(mode @ ("load" | "load-floor" | "load-validate")) = first.as_deref() {
        let path = args.next().unwrap_or_default();
        let n = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
        return match args.next().as_deref() {
            Some("wasmtime") => load(wasmtime_runtime_layer::Engine::default(), &path, n, mode),
            _ => load(wasmi_runtime_layer::Engine::default(), &path, n, mode),
        };
    }
    let n: u32 = first.and_then(|s| s.parse().ok()).unwrap_or(2_000_000);
    let mode = args.next().unwrap_or_else(|| "all".into());
    let (backend, what) = mode.split_once('-').unwrap_or((mode.as_str(), "all"));
    if let Some(form) = what.strip_prefix("listout-") {
        return match backend {
            "wasmtime" => list_out("wasmtime", wasmtime_runtime_layer::Engine::default(), n, form),
            _ => list_out("wasmi", wasmi_runtime_layer::Engine::default(), n, form),
        };
    }
    if what.starts_with("host") {
        return match backend {
            "wasmtime" => host("wasmtime", wasmtime_runtime_layer::Engine::default(), n, what),
            _ => host("wasmi", wasmi_runtime_layer::Engine::default(), n, what),
        };
    }
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
