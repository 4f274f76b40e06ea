//! Benchmarks: the same component operations, side by side in one run, on component-layer over wasmi and over
//! wasmtime's core engine (dynamic `Value` API and `TypedFunc`), on wasmtime's native component support (dynamic
//! `Val` API and `TypedFunc`), and as the raw core calls through `wasm_runtime_layer` that any runtime on the
//! layer must make at least (the "floor").
//!
//! Call operations (one [`rigs::Rig`] per implementation runs them): `add(u32, u32) -> u32`; string echo of 16 B
//! and 4 KiB; `list<u8>` of 64 KiB into the guest (which reads its first and last byte, so transfer dominates)
//! and out of it; a record `{u8, u64, string, list<u16>}` echo; a guest calling a host import (cost per import
//! call; `func_new` for the dynamic forms, `func_wrap` for the typed ones). All implementations of an operation
//! are measured interleaved ([`interleave`]): the ns table is the median per implementation, and each ratio to
//! the floor is the median of per-round ratios, so the VM's drift cancels out. Loading (`Component::new`, with
//! and without instantiation) is timed per implementation, and against compiling the component's core modules
//! interleaved.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Serialize;
use wasm_runtime_layer::backend::WasmEngine;

/// The core functions every benchmark calls, shared by the component ([`BENCH_WAT`]) and the floor module
/// ([`FLOOR_WAT`]) so that both measure exactly the same core code. They call `$noop`, the host import.
macro_rules! bench_funcs {
    () => {
        r#"
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store offset=4 (i32.const 16) (local.get 1))
      (i32.const 16))
    (func (export "sum") (param $p i32) (param $n i32) (result i32)
      (i32.add (i32.load8_u (local.get $p))
               (i32.load8_u (i32.sub (i32.add (local.get $p) (local.get $n)) (i32.const 1)))))
    (func (export "make") (param i32) (result i32)
      (i32.store (i32.const 16) (i32.const 65536))
      (i32.store offset=4 (i32.const 16) (local.get 0))
      (i32.const 16))
    (func (export "record") (param i32 i64 i32 i32 i32 i32) (result i32)
      (i32.store8 (i32.const 32) (local.get 0))
      (i64.store offset=8 (i32.const 32) (local.get 1))
      (i32.store offset=16 (i32.const 32) (local.get 2))
      (i32.store offset=20 (i32.const 32) (local.get 3))
      (i32.store offset=24 (i32.const 32) (local.get 4))
      (i32.store offset=28 (i32.const 32) (local.get 5))
      (i32.const 32))
    (func (export "loop") (param $n i32)
      (block $done (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (call $noop)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))))
"#
    };
}

/// The benchmark component.
pub const BENCH_WAT: &str = concat!(
    r#"(component
  (import "host-noop" (func $noop))
  (core module $libc
    (memory (export "memory") 3)
    (global $bump (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $bump) (i32.shl (memory.size) (i32.const 16)))
        (then (if (i32.eq (memory.grow (i32.shr_u (i32.add (i32.sub (global.get $bump) (i32.shl (memory.size) (i32.const 16))) (i32.const 65535)) (i32.const 16))) (i32.const -1)) (then unreachable))))
      (local.get $p))
    (func (export "reset") (global.set $bump (i32.const 4096))))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $noop (canon lower (func $noop)))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "libc" "reset" (func $reset))
    (import "host" "noop" (func $noop))
"#,
    bench_funcs!(),
    r#"    (func (export "post") (param i32) (call $reset))
    (func (export "post-void") (call $reset)))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "host" (instance (export "noop" (func $noop))))))
  (type $rec' (record (field "a" u8) (field "b" u64) (field "c" string) (field "d" (list u16))))
  (export $rec "rec" (type $rec'))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory $mem) (realloc $realloc) (post-return (func $i "post"))))
  (func (export "sum") (param "l" (list u8)) (result u32)
    (canon lift (core func $i "sum") (memory $mem) (realloc $realloc) (post-return (func $i "post"))))
  (func (export "make") (param "n" u32) (result (list u8))
    (canon lift (core func $i "make") (memory $mem) (realloc $realloc) (post-return (func $i "post"))))
  (func (export "record") (param "r" $rec) (result $rec)
    (canon lift (core func $i "record") (memory $mem) (realloc $realloc) (post-return (func $i "post"))))
  (func (export "loop") (param "n" u32) (canon lift (core func $i "loop")))
)"#
);

/// The core module of the floor measurements: the same functions, with the host import taken directly.
pub const FLOOR_WAT: &str = concat!(
    r#"(module
    (import "host" "noop" (func $noop))
    (memory (export "memory") 3)
    (global $bump (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "post") (param i32) (global.set $bump (i32.const 4096)))
"#,
    bench_funcs!(),
    ")"
);

/// The operations, in table order.
pub const OPS: [&str; 12] = [
    // The call operations, in the order of [`rigs::CallOp`].
    "add(u32,u32)->u32",
    "echo string 16 B",
    "echo string 4 KiB",
    "list<u8> 64 KiB in",
    "list<u8> 64 KiB out",
    "record echo",
    "host import, per call",
    "Component::new + instantiate",
    "Component::new (floor: compile its core modules)",
    "memcpy 64 KiB",
    "wasmparser: validate the component",
    "harness: one exec (a call compared across 3 engines)",
];

/// Index of the memcpy reference in [`OPS`].
const MEMCPY: usize = 9;
/// Index of the validation reference in [`OPS`].
const VALIDATE: usize = 10;
/// Index of the harness's exec in [`OPS`].
const EXEC: usize = 11;

mod interleave;
pub mod load;
pub mod rigs;

/// Host import calls per `loop` call.
const LOOP_N: u32 = 1000;

/// One measurement.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    /// The operation.
    pub op: String,
    /// The implementation (`layer-wasmi`, `layer-wasmi typed`, `floor-wasmi`, `wasmtime dyn`, …).
    pub engine: String,
    /// Median nanoseconds per operation.
    pub ns: f64,
}

/// Benchmark settings.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// Time budget per (operation, implementation).
    pub budget: Duration,
    /// Batches whose median is reported.
    pub batches: usize,
    /// Reads the process's allocation counter, when the binary installs a counting allocator: used to report
    /// allocations per typed scalar call.
    pub allocations: Option<fn() -> u64>,
}

impl BenchConfig {
    /// The full run.
    pub fn full() -> Self {
        BenchConfig { budget: Duration::from_millis(400), batches: 5, allocations: None }
    }

    /// A quick run.
    pub fn quick() -> Self {
        BenchConfig { budget: Duration::from_millis(60), batches: 3, allocations: None }
    }
}

/// Times `f`, returning the median ns per call over `batches` batches.
pub fn time(config: &BenchConfig, mut f: impl FnMut()) -> f64 {
    // Calibrate: iterations for one batch.
    let per_batch = config.budget / config.batches as u32;
    let mut n = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        let e = t.elapsed();
        if e >= per_batch / 4 || n >= 1 << 30 {
            let scale = per_batch.as_secs_f64() / e.as_secs_f64().max(1e-9);
            n = ((n as f64 * scale) as u64).max(1);
            break;
        }
        n *= 4;
    }
    let mut samples: Vec<f64> = (0..config.batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The call operations on every implementation, interleaved ([`interleave::measure`]): each operation's ns per
/// implementation, and per non-floor implementation its ratio to its backend's floor as the pseudo-operation
/// `"<op> / floor (interleaved)"` (whose `ns` field holds the ratio). wasmtime's native APIs are normalised by
/// the floor over wasmtime's core engine, so that they compare with component-layer's over wasmi.
pub fn bench_calls(config: &BenchConfig, out: &mut Vec<Measurement>) -> anyhow::Result<()> {
    use rigs::{Floor, Form, Layer, Native, Rig};
    let wasmi = wasm_runtime_layer::Engine::new(wasmi_runtime_layer::Engine::default());
    let wasmtime = wasm_runtime_layer::Engine::new(wasmtime_runtime_layer::Engine::default());
    let layer_wasmi = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
    let layer_wasmtime = component_layer::Engine::new(wasmtime_runtime_layer::Engine::default());
    let mut rigs: Vec<Box<dyn Rig>> = vec![
        Box::new(Floor::new("floor-wasmi", &wasmi)?),
        Box::new(Layer::new("layer-wasmi", &layer_wasmi, Form::Dyn)?),
        Box::new(Layer::new("layer-wasmi", &layer_wasmi, Form::Typed)?),
        Box::new(Floor::new("floor-wasmtime", &wasmtime)?),
        Box::new(Layer::new("layer-wasmtime", &layer_wasmtime, Form::Dyn)?),
        Box::new(Layer::new("layer-wasmtime", &layer_wasmtime, Form::Typed)?),
        Box::new(Native::new(Form::Dyn)?),
        Box::new(Native::new(Form::Typed)?),
    ];
    let floor_of = [0, 0, 0, 3, 3, 3, 3, 3];
    let rounds = config.batches * 6;
    for op in rigs::CallOp::ALL {
        let m = interleave::measure(&mut rigs, &floor_of, op, config.budget, rounds)?;
        for (engine, ns, ratio) in m.rows {
            out.push(Measurement { op: op.name().into(), engine: engine.clone(), ns });
            if let Some(r) = ratio {
                out.push(Measurement { op: floor_ratio(op.name()), engine, ns: r });
            }
        }
    }
    Ok(())
}

/// The pseudo-operation holding `op`'s interleaved ratio to the floor.
pub fn floor_ratio(op: &str) -> String {
    format!("{op} / floor (interleaved)")
}

/// `Component::new` against compiling the component's core modules on the same backend, interleaved: a first
/// load (`new_uncached`) and a second load of the same bytes while a component of them is alive (`new`, which
/// reuses the plan).
pub fn bench_new_ratio<E: WasmEngine>(
    name: &str,
    layer_engine: wasm_runtime_layer::Engine<E>,
    engine: component_layer::Engine<E>,
    config: &BenchConfig,
    out: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    use wasm_runtime_layer::Module;
    let bytes = wat::parse_str(BENCH_WAT)?;
    let modules = core_modules(&bytes)?;
    let kept = component_layer::Component::new(&engine, &bytes)?;
    let (mut first, mut again) = (Vec::new(), Vec::new());
    for _ in 0..config.batches * 2 {
        let t = Instant::now();
        for m in &modules {
            black_box(Module::new(&layer_engine, m)?);
        }
        let f = t.elapsed().as_secs_f64();
        let t = Instant::now();
        black_box(component_layer::Component::new_uncached(&engine, &bytes, component_layer::default_features())?);
        first.push(t.elapsed().as_secs_f64() / f);
        let t = Instant::now();
        black_box(component_layer::Component::new(&engine, &bytes)?);
        again.push(t.elapsed().as_secs_f64() / f);
    }
    drop(kept);
    for (op, mut ratios) in [(NEW_RATIO, first), (NEW_AGAIN_RATIO, again)] {
        ratios.sort_by(f64::total_cmp);
        out.push(Measurement { op: op.into(), engine: name.into(), ns: ratios[ratios.len() / 2] });
    }
    Ok(())
}

/// The operation name of the interleaved first-load `Component::new` ratio ([`bench_new_ratio`]); `ns` holds a
/// ratio.
pub const NEW_RATIO: &str = "Component::new / compiling its core modules (interleaved)";
/// The same for a second load of the same bytes.
pub const NEW_AGAIN_RATIO: &str = "Component::new again / compiling its core modules (interleaved)";

/// `Component::new` (+ instantiate) on component-layer over backend `E`, named `name`, and allocations per typed
/// scalar call.
pub fn bench_layer<E: WasmEngine>(
    name: &str,
    engine: component_layer::Engine<E>,
    config: &BenchConfig,
    out: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    use component_layer::{Component, Linker, Store};
    let bytes = wat::parse_str(BENCH_WAT)?;
    let mut linker: Linker<(), E> = Linker::new();
    linker.root().func_wrap("host-noop", |_, (): ()| Ok(()))?;
    let mut push = |op: &str, suffix: &str, ns: f64| {
        out.push(Measurement { op: op.into(), engine: format!("{name}{suffix}"), ns })
    };
    if let Some(count) = config.allocations {
        const CALLS: u32 = 1000;
        let component = Component::new(&engine, &bytes)?;
        let mut store = Store::new(&engine, ());
        let inst = linker.instantiate(&mut store, &component)?;
        let add_t =
            inst.get_func("add").ok_or_else(|| anyhow::anyhow!("no export add"))?.typed::<(u32, u32), (u32,)>()?;
        black_box(add_t.call(&mut store, (1, 2))?);
        let before = count();
        for _ in 0..CALLS {
            black_box(add_t.call(&mut store, (1, 2))?);
        }
        push(ALLOCS, " typed", (count() - before) as f64 / f64::from(CALLS));
    }
    push(
        OPS[7],
        "",
        time(config, || {
            let c = Component::new_uncached(&engine, &bytes, component_layer::default_features())
                .expect("the benchmark component loads");
            let mut s = Store::new(&engine, ());
            black_box(linker.instantiate(&mut s, &c).expect("the benchmark component instantiates"));
        }),
    );
    push(
        OPS[8],
        "",
        time(config, || {
            black_box(
                Component::new_uncached(&engine, &bytes, component_layer::default_features())
                    .expect("the benchmark component loads"),
            );
        }),
    );
    Ok(())
}

/// The pseudo-operation that carries allocations per typed `add` call.
pub const ALLOCS: &str = "allocations per typed add call";

/// The core modules embedded in a component binary (at any nesting depth), as byte slices.
fn core_modules(bytes: &[u8]) -> anyhow::Result<Vec<&[u8]>> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::ModuleSection { unchecked_range, .. } = payload? {
            out.push(&bytes[unchecked_range]);
        }
    }
    Ok(out)
}

/// The floor of loading: compiling the component's core modules, and compiling and instantiating one core module
/// with the same functions, through `wasm_runtime_layer`.
pub fn bench_floor<E: WasmEngine>(
    name: &str,
    engine: wasm_runtime_layer::Engine<E>,
    config: &BenchConfig,
    out: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    use wasm_runtime_layer::{Extern, Func, FuncType, Imports, Instance, Module, Store};
    let mut push = |op: &str, ns: f64| out.push(Measurement { op: op.into(), engine: name.into(), ns });
    let wasm = wat::parse_str(FLOOR_WAT)?;
    let component = wat::parse_str(BENCH_WAT)?;
    let modules = core_modules(&component)?;
    push(
        OPS[8],
        time(config, || {
            for m in &modules {
                black_box(Module::new(&engine, m).expect("the benchmark's core modules compile"));
            }
        }),
    );
    push(
        OPS[7],
        time(config, || {
            let m = Module::new(&engine, &wasm).expect("the floor module compiles");
            let mut s = Store::new(&engine, ());
            let noop = Func::new(&mut s, FuncType::new([], []), |_, _, _| Ok(()));
            let mut imports = Imports::new();
            imports.define("host", "noop", Extern::Func(noop));
            black_box(Instance::new(&mut s, &m, &imports).expect("the floor module instantiates"));
        }),
    );
    Ok(())
}

/// wasmtime's native `Component::new` (+ instantiate).
pub fn bench_wasmtime(config: &BenchConfig, out: &mut Vec<Measurement>) -> anyhow::Result<()> {
    use wasmtime::component::{Component, Linker};
    let engine = crate::engine::wasmtime_engine();
    let bytes = wat::parse_str(BENCH_WAT)?;
    let mut linker: Linker<()> = Linker::new(&engine);
    linker.root().func_wrap("host-noop", |_, (): ()| Ok(())).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut push = |op: &str, ns: f64| out.push(Measurement { op: op.into(), engine: "wasmtime dyn".into(), ns });
    push(
        OPS[7],
        time(config, || {
            let c = Component::new(&engine, &bytes).expect("the benchmark component loads");
            let mut s = wasmtime::Store::new(&engine, ());
            black_box(linker.instantiate(&mut s, &c).expect("the benchmark component instantiates"));
        }),
    );
    push(
        OPS[8],
        time(config, || {
            black_box(Component::new(&engine, &bytes).expect("the benchmark component loads"));
        }),
    );
    Ok(())
}

/// Host `memcpy` of 64 KiB, the bandwidth reference.
pub fn bench_memcpy(config: &BenchConfig, out: &mut Vec<Measurement>) {
    let src = vec![1u8; 65536];
    let mut dst = vec![0u8; 65536];
    let ns = time(config, || {
        dst.copy_from_slice(black_box(&src));
        black_box(&dst);
    });
    out.push(Measurement { op: OPS[MEMCPY].into(), engine: "host".into(), ns });
}

/// Validating the benchmark component with wasmparser alone: the part of `Component::new` that no backend
/// shares.
pub fn bench_validate(config: &BenchConfig, out: &mut Vec<Measurement>) -> anyhow::Result<()> {
    let bytes = wat::parse_str(BENCH_WAT)?;
    let ns = time(config, || {
        let mut v = wasmparser::Validator::new_with_features(component_layer::default_features());
        black_box(v.validate_all(&bytes).unwrap());
    });
    out.push(Measurement { op: OPS[VALIDATE].into(), engine: "host".into(), ns });
    Ok(())
}

/// The differential loop's throughput on one thread: generated cases of every tier (seeds 0, 1, … round-robin
/// over the tiers, as `fuzz --jobs 1` makes them), each call run on the three engines and compared. Reported as
/// ns per exec (one call compared across all engines); generation, compilation and instantiation are included,
/// as in `fuzz`.
pub fn bench_execs(config: &BenchConfig, out: &mut Vec<Measurement>) {
    let mut executors: Vec<_> = crate::engine::EngineKind::ALL.iter().map(|k| k.open()).collect();
    let budget = config.budget * (config.batches as u32) * 4;
    let start = Instant::now();
    let (mut calls, mut seed) = (0usize, 0u64);
    while start.elapsed() < budget {
        let tier = component_gen::Tier::ALL[(seed % component_gen::Tier::ALL.len() as u64) as usize];
        let case = component_gen::generate_case(seed / component_gen::Tier::ALL.len() as u64, tier);
        calls += crate::diff::run_case(&case, &mut executors).calls;
        seed += 1;
    }
    if calls > 0 {
        let ns = start.elapsed().as_nanos() as f64 / calls as f64;
        out.push(Measurement { op: OPS[EXEC].into(), engine: "harness".into(), ns });
    }
}

/// Runs everything.
pub fn run(config: &BenchConfig) -> anyhow::Result<Vec<Measurement>> {
    let mut out = Vec::new();
    bench_calls(config, &mut out)?;
    let wasmi = || wasm_runtime_layer::Engine::new(wasmi_runtime_layer::Engine::default());
    let wasmtime = || wasm_runtime_layer::Engine::new(wasmtime_runtime_layer::Engine::default());
    bench_floor("floor-wasmi", wasmi(), config, &mut out)?;
    bench_layer("layer-wasmi", component_layer::Engine::new(wasmi_runtime_layer::Engine::default()), config, &mut out)?;
    bench_floor("floor-wasmtime", wasmtime(), config, &mut out)?;
    let layer_wasmtime = || component_layer::Engine::new(wasmtime_runtime_layer::Engine::default());
    bench_layer("layer-wasmtime", layer_wasmtime(), config, &mut out)?;
    bench_new_ratio(
        "layer-wasmi",
        wasmi(),
        component_layer::Engine::new(wasmi_runtime_layer::Engine::default()),
        config,
        &mut out,
    )?;
    bench_new_ratio("layer-wasmtime", wasmtime(), layer_wasmtime(), config, &mut out)?;
    bench_wasmtime(config, &mut out)?;
    bench_memcpy(config, &mut out);
    bench_validate(config, &mut out)?;
    bench_execs(config, &mut out);
    Ok(out)
}

/// The measurement of `op` on `engine`.
pub fn get(ms: &[Measurement], op: &str, engine: &str) -> Option<f64> {
    ms.iter().find(|m| m.op == op && m.engine == engine).map(|m| m.ns)
}

/// The Markdown table: ns/op per operation and implementation.
pub fn table(ms: &[Measurement]) -> String {
    let engines = [
        "floor-wasmi",
        "layer-wasmi",
        "layer-wasmi typed",
        "floor-wasmtime",
        "layer-wasmtime",
        "layer-wasmtime typed",
        "wasmtime dyn",
        "wasmtime typed",
    ];
    let mut s = format!("| operation (ns/op) | {} |\n|---|{}\n", engines.join(" | "), "---:|".repeat(engines.len()));
    for op in &OPS[..MEMCPY] {
        s.push_str(&format!("| {op} |"));
        for e in engines {
            match get(ms, op, e) {
                Some(ns) => s.push_str(&format!(" {} |", fmt_ns(ns))),
                None => s.push_str(" – |"),
            }
        }
        s.push('\n');
    }
    s.push_str("\n| operation (÷ its floor, interleaved) | layer-wasmi | layer-wasmi typed | layer-wasmtime | layer-wasmtime typed | wasmtime dyn | wasmtime typed |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for op in rigs::CallOp::ALL.map(rigs::CallOp::name) {
        s.push_str(&format!("| {op} |"));
        for e in [
            "layer-wasmi",
            "layer-wasmi typed",
            "layer-wasmtime",
            "layer-wasmtime typed",
            "wasmtime dyn",
            "wasmtime typed",
        ] {
            match get(ms, &floor_ratio(op), e) {
                Some(r) => s.push_str(&format!(" {r:.2} |")),
                None => s.push_str(" – |"),
            }
        }
        s.push('\n');
    }
    if let Some(m) = get(ms, OPS[MEMCPY], "host") {
        s.push_str(&format!("\nmemcpy 64 KiB on the host: {} ns ({:.1} GB/s).", fmt_ns(m), 65536.0 / m));
    }
    s.push_str(" The floor of `Component::new + instantiate` compiles and instantiates one core module with the same functions.");
    if let Some(v) = get(ms, OPS[VALIDATE], "host") {
        s.push_str(&format!(" wasmparser alone validates the benchmark component in {} ns.", fmt_ns(v)));
    }
    if let Some(e) = get(ms, OPS[EXEC], "harness") {
        s.push_str(&format!(
            " The differential loop on one thread: {:.0} execs/s (one exec is a call compared across the three \
             engines; generation, compilation and instantiation included).",
            1e9 / e
        ));
    }
    s.push('\n');
    s
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 100.0 {
        format!("{ns:.0}")
    } else {
        format!("{ns:.1}")
    }
}

/// The ratios against the targets, as Markdown.
pub fn ratios(ms: &[Measurement]) -> String {
    let mut s = String::from("| target | measured | verdict |\n|---|---|---|\n");
    let mut row = |what: String, value: Option<f64>, ok: &dyn Fn(f64) -> bool, unit: &str| match value {
        Some(v) => {
            let shown = if v != 0.0 && v.abs() < 0.1 { format!("{v:.4}") } else { format!("{v:.2}") };
            s.push_str(&format!("| {what} | {shown}{unit} | {} |\n", if ok(v) { "met" } else { "MISSED" }))
        }
        None => s.push_str(&format!("| {what} | – | not measured |\n")),
    };
    for op in rigs::CallOp::ALL.map(rigs::CallOp::name) {
        let ratio = floor_ratio(op);
        for b in ["wasmi", "wasmtime"] {
            for suffix in ["", " typed"] {
                let v = get(ms, &ratio, &format!("layer-{b}{suffix}"));
                row(format!("{op} ≤ 1.3× floor ({b}{suffix}; interleaved)"), v, &|v| v <= 1.3, "×");
            }
        }
        // Against wasmtime's own APIs, each normalised by its floor in the same rounds.
        for (ours, theirs) in [("layer-wasmi", "wasmtime dyn"), ("layer-wasmi typed", "wasmtime typed")] {
            let v = get(ms, &ratio, ours).zip(get(ms, &ratio, theirs)).map(|(l, w)| l / w);
            row(format!("{op}: {ours} ahead of {theirs} (÷ floors)"), v, &|v| v < 1.0, "×");
        }
    }
    for b in ["wasmi", "wasmtime"] {
        let v = get(ms, ALLOCS, &format!("layer-{b} typed"));
        row(format!("typed scalar call allocates nothing ({b})"), v, &|v| v == 0.0, " allocs/call");
        row(
            format!("Component::new ≤ 2× compiling its core modules ({b}; first load; interleaved)"),
            get(ms, NEW_RATIO, &format!("layer-{b}")),
            &|v| v <= 2.0,
            "×",
        );
        row(
            format!("Component::new ≤ 1.10× compiling its core modules ({b}; second load; interleaved)"),
            get(ms, NEW_AGAIN_RATIO, &format!("layer-{b}")),
            &|v| v <= 1.1,
            "×",
        );
    }
    if let Some(memcpy) = get(ms, OPS[MEMCPY], "host") {
        for b in ["layer-wasmi", "layer-wasmtime"] {
            for op in [OPS[3], OPS[4]] {
                let v = get(ms, op, &format!("{b} typed")).map(|ns| memcpy / ns * 100.0);
                row(format!("{op} ({b} typed) ≥ 50% of memcpy bandwidth"), v, &|v| v >= 50.0, "%");
            }
        }
        // What the raw layer itself reaches: `Memory::read` fills an initialised `&mut [u8]`, so every read
        // out of a guest costs a zeroing pass plus the copy.
        for b in ["floor-wasmi", "floor-wasmtime"] {
            for op in [OPS[3], OPS[4]] {
                if let Some(ns) = get(ms, op, b) {
                    s.push_str(&format!(
                        "| (reference) {op} through the raw layer ({b}) | {:.2}% of memcpy | – |\n",
                        memcpy / ns * 100.0
                    ));
                }
            }
        }
    }
    s
}
