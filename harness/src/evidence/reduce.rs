//! Cutting core-level evidence down to a report an engine's maintainer can act on.
//!
//! From a trace and the call at which two core engines part ([`super::replay::Mismatch`]), this module builds a
//! **script** that needs neither component-layer nor the rest of the trace: the module of the function that was
//! called, stub modules that stand in for its imports (functions answering what the runtime answered, memories,
//! globals and tables of the same types), and the steps the runtime took on that instance up to the call — its
//! calls with their arguments, its writes into the instance's memory. The script is checked on both core
//! engines (the last call must still come out differently), then the module is shrunk with `wasm-shrink` and the
//! steps before the last are dropped where they can be, each time keeping the difference. What is left is
//! rendered as WAT and, where every step is a call of scalars, as a self-contained component `.wast` that
//! asserts what the other engine computes.

use std::collections::HashMap;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_runtime_layer::backend::WasmEngine;
use wasm_runtime_layer::{Engine, Extern, Imports, Instance, Module, Store, Val};

use super::replay::{raw, val, zero};
use super::trace::{Event, Ext, Raw};

/// A standalone reproduction of a core-level difference.
#[derive(Clone, Debug)]
pub struct Script {
    /// The module under test.
    pub main: Vec<u8>,
    /// Stub modules, by import namespace: each exports what the main module imports from that namespace.
    pub stubs: Vec<(String, Vec<u8>)>,
    /// What is done with the instance, in order; the last step is the call whose outcome differs.
    pub steps: Vec<Step>,
}

/// One step of a [`Script`].
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Call the main module's export with these arguments.
    Call { export: String, args: Vec<Raw> },
    /// Write into a memory: the main module's export, or a stub's (`namespace`, `name`).
    Write { memory: MemoryRef, offset: usize, bytes: Vec<u8> },
}

/// A memory a step writes to.
#[derive(Clone, Debug, PartialEq)]
pub enum MemoryRef {
    /// An export of the main module.
    Export(String),
    /// A memory the main module imports (from its stub).
    Import(String, String),
}

/// The outcome of a call step: results, or a trap.
pub type Outcome = Result<Vec<Raw>, ()>;

/// Builds the script for call event `call` of `events`, if it is a call of an instance's export.
pub fn script(events: &[Event], call: usize) -> Option<Script> {
    let Event::Call { func, .. } = events.get(call)? else { return None };
    let instance = exporter(events, *func)?.0;
    build(events, instance, call + 1, Vec::new())
}

/// Builds the script for instance event `at`, whose instantiation comes out differently: its start function
/// calls what it imports from another instance (wit-component's start shims do so), so the script calls those
/// exports of that instance in import order.
pub fn script_for_start(events: &[Event], at: usize) -> Option<Script> {
    let Event::Instance { imports, .. } = events.get(at)? else { return None };
    let mut from: Option<u32> = None;
    let mut tail = Vec::new();
    for (_, _, ext) in imports {
        let Ext::Func(f) = ext else { continue };
        let (instance, export) = exporter(events, *f)?;
        if from.is_some_and(|i| i != instance) {
            return None;
        }
        from = Some(instance);
        tail.push(Step::Call { export, args: Vec::new() });
    }
    build(events, from?, at, tail)
}

/// The instance and export name a function comes from.
fn exporter(events: &[Event], func: u32) -> Option<(u32, String)> {
    events.iter().find_map(|e| match e {
        Event::Export { instance, name, ext: Ext::Func(f), .. } if *f == func => Some((*instance, name.clone())),
        _ => None,
    })
}

/// The script of `instance`: what was done with it from its instantiation to event `end` (exclusive), then
/// `tail`.
fn build(events: &[Event], instance: u32, end: usize, tail: Vec<Step>) -> Option<Script> {
    let (start, module, imports) = events.iter().enumerate().find_map(|(i, e)| match e {
        Event::Instance { instance: n, module, imports, ok: true, .. } if *n == instance => {
            Some((i, *module, imports.clone()))
        }
        _ => None,
    })?;
    let main = events.iter().find_map(|e| match e {
        Event::Module { module: m, bytes } if *m == module => Some(bytes.to_vec()),
        _ => None,
    })?;
    let mut exports: HashMap<Ext, String> = HashMap::new();
    for e in events {
        if let Event::Export { instance: n, name, ext, .. } = e {
            if *n == instance {
                exports.insert(*ext, name.clone());
            }
        }
    }
    let imported: HashMap<u32, (String, String)> = imports
        .iter()
        .map(|(ns, name, ext)| {
            let id = match ext {
                Ext::Func(n) | Ext::Memory(n) | Ext::Global(n) | Ext::Table(n) => *n,
            };
            (id, (ns.clone(), name.clone()))
        })
        .collect();
    let mut steps = Vec::new();
    let mut answers: HashMap<u32, Vec<Raw>> = HashMap::new();
    for (i, e) in events.iter().enumerate().take(end).skip(start) {
        match e {
            Event::Call { func: f, args, .. } => {
                if let Some(export) = exports.get(&Ext::Func(*f)) {
                    steps.push(Step::Call { export: export.clone(), args: args.clone() });
                }
            }
            Event::Write { memory, offset, bytes, ok: true } => {
                let target = match (exports.get(&Ext::Memory(*memory)), imported.get(memory)) {
                    (Some(name), _) => Some(MemoryRef::Export(name.clone())),
                    (None, Some((ns, name))) => Some(MemoryRef::Import(ns.clone(), name.clone())),
                    _ => None,
                };
                if let Some(memory) = target {
                    steps.push(Step::Write { memory, offset: *offset, bytes: bytes.clone() });
                }
            }
            Event::HostEnter { func: f, .. } if imported.contains_key(f) && !answers.contains_key(f) => {
                // What the host answered the first time: the stub answers that, always.
                let exit = events[i + 1..].iter().find_map(|x| match x {
                    Event::HostExit { results: Ok(r) } => Some(r.clone()),
                    _ => None,
                });
                if let Some(r) = exit {
                    answers.insert(*f, r);
                }
            }
            _ => {}
        }
    }
    steps.extend(tail);
    let mut by_id: HashMap<(String, String), u32> = HashMap::new();
    for (id, key) in &imported {
        by_id.insert(key.clone(), *id);
    }
    let answer =
        |ns: &str, name: &str| by_id.get(&(ns.to_owned(), name.to_owned())).and_then(|id| answers.get(id)).cloned();
    let stubs = stub_modules(&main, &answer)?;
    Some(Script { main, stubs, steps })
}

/// Stub modules for the imports of `main`, one per namespace; `answer(ns, name)` is what a function returns.
fn stub_modules(main: &[u8], answer: &dyn Fn(&str, &str) -> Option<Vec<Raw>>) -> Option<Vec<(String, Vec<u8>)>> {
    use wasm_encoder::{
        CodeSection, ConstExpr, ExportKind, ExportSection, Function, FunctionSection, GlobalSection, GlobalType,
        Instruction, MemorySection, TableSection, TypeSection,
    };
    use wasmparser::{Payload, TypeRef};

    let mut types: Vec<wasmparser::FuncType> = Vec::new();
    let mut by_ns: Vec<(String, Vec<(String, TypeRef)>)> = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(main) {
        match payload.ok()? {
            Payload::TypeSection(r) => {
                for rec in r.into_iter() {
                    for sub in rec.ok()?.into_types() {
                        match sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => types.push(f),
                            _ => return None,
                        }
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.ok()?;
                    match by_ns.iter_mut().find(|(ns, _)| ns == imp.module) {
                        Some((_, items)) => items.push((imp.name.to_owned(), imp.ty)),
                        None => by_ns.push((imp.module.to_owned(), vec![(imp.name.to_owned(), imp.ty)])),
                    }
                }
            }
            _ => {}
        }
    }
    let mut re = RoundtripReencoder;
    let mut out = Vec::new();
    for (ns, items) in by_ns {
        let mut module = wasm_encoder::Module::new();
        let (mut ty, mut funcs, mut code) = (TypeSection::new(), FunctionSection::new(), CodeSection::new());
        let (mut mems, mut globals, mut tables, mut exports) =
            (MemorySection::new(), GlobalSection::new(), TableSection::new(), ExportSection::new());
        let (mut nf, mut nm, mut ng, mut nt) = (0u32, 0u32, 0u32, 0u32);
        for (name, tref) in items {
            match tref {
                TypeRef::Func(i) | TypeRef::FuncExact(i) => {
                    let ft = types.get(i as usize)?;
                    let params: Vec<wasm_encoder::ValType> =
                        ft.params().iter().map(|t| re.val_type(*t)).collect::<Result<_, _>>().ok()?;
                    let results: Vec<wasm_encoder::ValType> =
                        ft.results().iter().map(|t| re.val_type(*t)).collect::<Result<_, _>>().ok()?;
                    ty.ty().function(params, results.clone());
                    funcs.function(nf);
                    let mut f = Function::new([]);
                    let given = answer(&ns, &name).unwrap_or_default();
                    for (k, rt) in ft.results().iter().enumerate() {
                        f.instruction(&const_of(given.get(k), *rt)?);
                    }
                    f.instruction(&Instruction::End);
                    code.function(&f);
                    exports.export(&name, ExportKind::Func, nf);
                    nf += 1;
                }
                TypeRef::Memory(m) => {
                    mems.memory(re.memory_type(m).ok()?);
                    exports.export(&name, ExportKind::Memory, nm);
                    nm += 1;
                }
                TypeRef::Global(g) => {
                    let gt: GlobalType = re.global_type(g).ok()?;
                    let init = match g.content_type {
                        wasmparser::ValType::I32 => ConstExpr::i32_const(0),
                        wasmparser::ValType::I64 => ConstExpr::i64_const(0),
                        wasmparser::ValType::F32 => ConstExpr::f32_const(0.0.into()),
                        wasmparser::ValType::F64 => ConstExpr::f64_const(0.0.into()),
                        _ => return None,
                    };
                    globals.global(gt, &init);
                    exports.export(&name, ExportKind::Global, ng);
                    ng += 1;
                }
                TypeRef::Table(t) => {
                    tables.table(re.table_type(t).ok()?);
                    exports.export(&name, ExportKind::Table, nt);
                    nt += 1;
                }
                TypeRef::Tag(_) => return None,
            }
        }
        module.section(&ty).section(&funcs).section(&tables).section(&mems).section(&globals);
        module.section(&exports).section(&code);
        out.push((ns, module.finish()));
    }
    Some(out)
}

fn const_of(v: Option<&Raw>, t: wasmparser::ValType) -> Option<wasm_encoder::Instruction<'static>> {
    use wasm_encoder::Instruction as I;
    Some(match (t, v) {
        (wasmparser::ValType::I32, Some(Raw::I32(x))) => I::I32Const(*x),
        (wasmparser::ValType::I32, _) => I::I32Const(0),
        (wasmparser::ValType::I64, Some(Raw::I64(x))) => I::I64Const(*x),
        (wasmparser::ValType::I64, _) => I::I64Const(0),
        (wasmparser::ValType::F32, Some(Raw::F32(b))) => I::F32Const(f32::from_bits(*b).into()),
        (wasmparser::ValType::F32, _) => I::F32Const(0.0.into()),
        (wasmparser::ValType::F64, Some(Raw::F64(b))) => I::F64Const(f64::from_bits(*b).into()),
        (wasmparser::ValType::F64, _) => I::F64Const(0.0.into()),
        _ => return None,
    })
}

/// Runs the script with `main` on `backend`: each call step's outcome, or `None` if it does not instantiate.
pub fn run<E: WasmEngine>(backend: E, script: &Script, main: &[u8]) -> Option<Vec<Outcome>> {
    let engine = Engine::new(backend);
    let mut store = Store::new(&engine, ());
    let mut imports = Imports::new();
    let mut stub_instances = Vec::new();
    for (ns, bytes) in &script.stubs {
        let m = Module::new(&engine, bytes).ok()?;
        let i = Instance::new(&mut store, &m, &Imports::new()).ok()?;
        for e in i.exports(&store) {
            imports.define(ns, &e.name, e.value);
        }
        stub_instances.push((ns.clone(), i));
    }
    let module = Module::new(&engine, main).ok()?;
    let instance = Instance::new(&mut store, &module, &imports).ok()?;
    let mut outcomes = Vec::new();
    for step in &script.steps {
        match step {
            Step::Call { export, args } => {
                let f = instance.get_export(&store, export)?.into_func()?;
                let ty = f.ty(&store);
                let args: Vec<Val> = args.iter().map(val).collect();
                let mut results: Vec<Val> = ty.results().iter().map(zero).collect();
                let out = f.call(&mut store, &args, &mut results);
                outcomes.push(out.map(|()| results.iter().map(raw).collect()).map_err(|_| ()));
            }
            Step::Write { memory, offset, bytes } => {
                let m = match memory {
                    MemoryRef::Export(name) => instance.get_export(&store, name).and_then(Extern::into_memory),
                    MemoryRef::Import(ns, name) => stub_instances
                        .iter()
                        .find(|(n, _)| n == ns)
                        .and_then(|(_, i)| i.get_export(&store, name))
                        .and_then(Extern::into_memory),
                }?;
                // A write the engine refuses is as it was when recorded: the runtime saw it fail too.
                let _ = m.write(&mut store, *offset, bytes);
            }
        }
    }
    Some(outcomes)
}

/// Whether two outcomes are the same (any NaN equal to any NaN).
pub fn same(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.same(q)),
        (Err(()), Err(())) => true,
        _ => false,
    }
}

/// The two engines' outcomes of the script's last call, if they differ there (and nowhere before).
pub fn differs(script: &Script, main: &[u8]) -> Option<(Outcome, Outcome)> {
    crate::worker::protocol::heartbeat("evidence: run the reduced script on both core engines");
    let a = run(super::wasmi_backend(), script, main)?;
    let b = run(super::wasmtime_backend(), script, main)?;
    let (la, lb) = (a.last()?, b.last()?);
    let before_agree = a.iter().zip(&b).take(a.len().saturating_sub(1)).all(|(x, y)| same(x, y));
    (before_agree && !same(la, lb)).then(|| (la.clone(), lb.clone()))
}

/// Shrinks the script while the difference stays: the steps before the last one by one, then the module with
/// `wasm-shrink` for at most `budget`.
pub fn shrink(mut script: Script, budget: std::time::Duration) -> Script {
    let mut i = 0;
    while i + 1 < script.steps.len() {
        let mut fewer = script.clone();
        fewer.steps.remove(i);
        if differs(&fewer, &fewer.main).is_some() {
            script = fewer;
        } else {
            i += 1;
        }
    }
    let steps = script.clone();
    let deadline = std::time::Instant::now() + budget;
    // Past the deadline every candidate is uninteresting, so the shrinker gives up after its failed attempts.
    let shrunk = wasm_shrink::WasmShrink::default().attempts(2000).seed(0).run(script.main.clone(), |candidate| {
        Ok(std::time::Instant::now() < deadline && differs(&steps, candidate).is_some())
    });
    if let Ok(info) = shrunk {
        script.main = info.output;
    }
    script
}

/// The module as WAT (or a note that it does not print).
pub fn wat(bytes: &[u8]) -> String {
    wasmprinter::print_bytes(bytes).unwrap_or_else(|e| format!("(; does not print: {e} ;)"))
}

/// The script as a self-contained component `.wast` asserting `expected` for the last call (the right engine's
/// outcome) and the agreed outcomes before it, if every step is a call whose parameters and (at most one)
/// result are scalars.
pub fn component_wast(script: &Script, outcomes: &[Outcome]) -> Option<String> {
    let funcs = export_types(&script.main)?;
    let mut s = String::from("(component\n");
    for (k, (ns, bytes)) in script.stubs.iter().enumerate() {
        s.push_str(&format!("  (core module $stub{k}\n{})\n", strip_module(&wat(bytes))));
        s.push_str(&format!("  (core instance $s{k} (instantiate $stub{k}))\n"));
        let _ = ns;
    }
    s.push_str(&format!("  (core module $m\n{})\n", strip_module(&wat(&script.main))));
    let withs: String =
        script.stubs.iter().enumerate().map(|(k, (ns, _))| format!(" (with {} (instance $s{k}))", quote(ns))).collect();
    s.push_str(&format!("  (core instance $i (instantiate $m{withs}))\n"));
    let mut lifted: Vec<String> = Vec::new();
    let mut asserts = String::new();
    for (step, outcome) in script.steps.iter().zip(outcomes) {
        let Step::Call { export, args } = step else { return None };
        let (params, results) = funcs.get(export)?;
        if results.len() > 1 {
            return None;
        }
        if !lifted.contains(export) {
            let ps: String = params
                .iter()
                .enumerate()
                .map(|(i, t)| scalar(*t).map(|s| format!(" (param \"p{i}\" {s})")))
                .collect::<Option<String>>()?;
            let rs = match results.first() {
                Some(t) => format!(" (result {})", scalar(*t)?),
                None => String::new(),
            };
            s.push_str(&format!(
                "  (func (export {}){ps}{rs} (canon lift (core func $i {})))\n",
                quote(export),
                quote(export)
            ));
            lifted.push(export.clone());
        }
        let invoke = format!(
            "(invoke {}{})",
            quote(export),
            args.iter().zip(params).map(|(a, t)| format!(" ({})", component_const(a, *t))).collect::<String>()
        );
        match outcome {
            Ok(r) => match (r.first(), results.first()) {
                (Some(v), Some(t)) => {
                    asserts.push_str(&format!("(assert_return {invoke} ({}))\n", component_const(v, *t)))
                }
                _ => asserts.push_str(&format!("(assert_return {invoke})\n")),
            },
            Err(()) => asserts.push_str(&format!("(assert_trap {invoke} \"\")\n")),
        }
    }
    s.push_str(")\n");
    s.push_str(&asserts);
    Some(s)
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// `(module …)` printed text without its leading `(module` and trailing `)`, for a `(core module $x …)`.
fn strip_module(text: &str) -> String {
    let t = text.trim();
    let inner = t.strip_prefix("(module").and_then(|r| r.strip_suffix(')')).unwrap_or(t);
    let inner = inner.trim_start();
    // Drop the module's own `$id`, if the printer gave it one.
    let inner = match inner.strip_prefix('$') {
        Some(r) => r.trim_start_matches(|c: char| !c.is_whitespace()),
        None => inner,
    };
    // The printer indents the module's fields by two spaces; indent them by four under `(core module`.
    inner
        .lines()
        .map(|l| format!("    {}", l.strip_prefix("  ").unwrap_or(l.trim_start())))
        .collect::<Vec<_>>()
        .join("\n")
}

fn scalar(t: wasmparser::ValType) -> Option<&'static str> {
    Some(match t {
        wasmparser::ValType::I32 => "u32",
        wasmparser::ValType::I64 => "u64",
        wasmparser::ValType::F32 => "f32",
        wasmparser::ValType::F64 => "f64",
        _ => return None,
    })
}

fn component_const(v: &Raw, t: wasmparser::ValType) -> String {
    match (v, t) {
        (Raw::I32(x), _) => format!("u32.const {}", *x as u32),
        (Raw::I64(x), _) => format!("u64.const {}", *x as u64),
        (Raw::F32(_) | Raw::F64(_), _) => v.wast(),
        _ => v.wast(),
    }
}

/// A core function's parameter and result types.
type CoreSig = (Vec<wasmparser::ValType>, Vec<wasmparser::ValType>);

/// The exported functions of a module: name → signature.
fn export_types(main: &[u8]) -> Option<HashMap<String, CoreSig>> {
    use wasmparser::{Payload, TypeRef};
    let mut types: Vec<wasmparser::FuncType> = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut out = HashMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(main) {
        match payload.ok()? {
            Payload::TypeSection(r) => {
                for rec in r.into_iter() {
                    for sub in rec.ok()?.into_types() {
                        if let wasmparser::CompositeInnerType::Func(f) = sub.composite_type.inner {
                            types.push(f);
                        }
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    if let TypeRef::Func(i) | TypeRef::FuncExact(i) = imp.ok()?.ty {
                        funcs.push(i);
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for f in r {
                    funcs.push(f.ok()?);
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.ok()?;
                    if e.kind == wasmparser::ExternalKind::Func {
                        let ty = types.get(*funcs.get(e.index as usize)? as usize)?;
                        out.insert(e.name.to_owned(), (ty.params().to_vec(), ty.results().to_vec()));
                    }
                }
            }
            _ => {}
        }
    }
    Some(out)
}
