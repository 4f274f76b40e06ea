//! The implementations under measurement, each set up once as a *rig* that runs one iteration of a call
//! operation on demand: the floor (the raw core calls through `wasm_runtime_layer`), component-layer's dynamic and
//! typed APIs over a backend, and wasmtime's native dynamic and typed APIs.
//!
//! One rig per implementation and form is what lets the same operation be timed on its own (the ns table) and
//! interleaved with its floor (the ratios, see [`super::interleave`]): every rig owns its store, so rounds of
//! different rigs can alternate without sharing anything.

use std::hint::black_box;

use component_layer::{List, Value};
use wasm_runtime_layer::backend::WasmEngine;

use super::{BENCH_WAT, FLOOR_WAT, LOOP_N};

/// An operation that is a call (or a fixed number of them) on an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOp {
    /// `add(u32, u32) -> u32`.
    Add,
    /// Echo of a 16-byte string.
    Echo16,
    /// Echo of a 4 KiB string.
    Echo4K,
    /// A 64 KiB `list<u8>` into the guest.
    ListIn,
    /// A 64 KiB `list<u8>` out of the guest.
    ListOut,
    /// Echo of a record `{u8, u64, string, list<u16>}`.
    Record,
    /// The guest calling a host import [`LOOP_N`] times.
    HostImport,
}

impl CallOp {
    /// Every call operation, in table order.
    pub const ALL: [CallOp; 7] = [
        CallOp::Add,
        CallOp::Echo16,
        CallOp::Echo4K,
        CallOp::ListIn,
        CallOp::ListOut,
        CallOp::Record,
        CallOp::HostImport,
    ];

    /// Its name in the tables (an entry of [`super::OPS`]).
    pub fn name(self) -> &'static str {
        super::OPS[self as usize]
    }

    /// How many of the measured operations one run makes (a host-import run makes [`LOOP_N`] import calls).
    pub fn per_run(self) -> f64 {
        match self {
            CallOp::HostImport => f64::from(LOOP_N),
            _ => 1.0,
        }
    }
}

/// An implementation, ready to run call operations.
pub trait Rig {
    /// Its name in the tables (`floor-wasmi`, `layer-wasmi typed`, `wasmtime dyn`, …).
    fn name(&self) -> &str;
    /// Runs `op` once.
    fn run(&mut self, op: CallOp) -> anyhow::Result<()>;
}

/// A string of `n` ASCII bytes.
pub fn string_of(n: usize) -> String {
    "abcdefghijklmnopqrstuvwxyz0123456789".chars().cycle().take(n).collect()
}

/// The record the record echo passes.
pub fn record_value() -> Value {
    Value::Record(vec![
        ("a".into(), Value::U8(7)),
        ("b".into(), Value::U64(1 << 40)),
        ("c".into(), Value::String(string_of(16))),
        ("d".into(), Value::List(List::U16((0..32).collect()))),
    ])
}

fn i32_of(v: &wasm_runtime_layer::Val) -> anyhow::Result<i32> {
    match v {
        wasm_runtime_layer::Val::I32(x) => Ok(*x),
        other => anyhow::bail!("expected an i32, got {other:?}"),
    }
}

/// The floor: each operation's core calls and memory accesses, made directly through `wasm_runtime_layer`.
pub struct Floor<E: WasmEngine> {
    name: String,
    store: wasm_runtime_layer::Store<(), E>,
    funcs: [wasm_runtime_layer::Func; 8],
    mem: wasm_runtime_layer::Memory,
    strings: [String; 2],
    bytes: Vec<u8>,
    l16: Vec<u8>,
}

/// Indices into [`Floor::funcs`].
const ADD: usize = 0;
const ECHO: usize = 1;
const SUM: usize = 2;
const MAKE: usize = 3;
const RECORD: usize = 4;
const LOOP: usize = 5;
const REALLOC: usize = 6;
const POST: usize = 7;

impl<E: WasmEngine> Floor<E> {
    /// The floor module instantiated on `engine`.
    pub fn new(name: &str, engine: &wasm_runtime_layer::Engine<E>) -> anyhow::Result<Self> {
        use wasm_runtime_layer::{Extern, Func, FuncType, Imports, Instance, Module, Store};
        let mut store = Store::new(engine, ());
        let module = Module::new(engine, &wat::parse_str(FLOOR_WAT)?)?;
        let noop = Func::new(&mut store, FuncType::new([], []), |_, _, _| Ok(()));
        let mut imports = Imports::new();
        imports.define("host", "noop", Extern::Func(noop));
        let inst = Instance::new(&mut store, &module, &imports)?;
        let get = |n: &str| {
            inst.get_export(&store, n).and_then(Extern::into_func).ok_or_else(|| anyhow::anyhow!("no export {n}"))
        };
        let funcs = [
            get("add")?,
            get("echo")?,
            get("sum")?,
            get("make")?,
            get("record")?,
            get("loop")?,
            get("realloc")?,
            get("post")?,
        ];
        let mem = inst.get_export(&store, "memory").and_then(Extern::into_memory).ok_or(anyhow::anyhow!("memory"))?;
        Ok(Floor {
            name: name.into(),
            store,
            funcs,
            mem,
            strings: [string_of(16), string_of(4096)],
            bytes: vec![1; 65536],
            l16: (0..32u16).flat_map(|x| x.to_le_bytes()).collect(),
        })
    }

    fn call(&mut self, f: usize, args: &[wasm_runtime_layer::Val]) -> anyhow::Result<i32> {
        let mut r = [wasm_runtime_layer::Val::I32(0)];
        self.funcs[f].call(&mut self.store, args, &mut r)?;
        i32_of(&r[0])
    }

    fn realloc(&mut self, align: i32, size: i32) -> anyhow::Result<i32> {
        use wasm_runtime_layer::Val;
        self.call(REALLOC, &[Val::I32(0), Val::I32(0), Val::I32(align), Val::I32(size)])
    }

    fn post(&mut self, ret: i32) -> anyhow::Result<()> {
        self.funcs[POST].call(&mut self.store, &[wasm_runtime_layer::Val::I32(ret)], &mut [])?;
        Ok(())
    }

    /// Reads `len` bytes at `at` into a fresh buffer (as a lift into an owned value must).
    fn read(&self, at: i32, len: usize) -> anyhow::Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.mem.read(&self.store, at as usize, &mut buf)?;
        Ok(buf)
    }
}

impl<E: WasmEngine> Rig for Floor<E> {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&mut self, op: CallOp) -> anyhow::Result<()> {
        use wasm_runtime_layer::Val;
        match op {
            CallOp::Add => {
                black_box(self.call(ADD, &[Val::I32(1), Val::I32(2)])?);
            }
            // Strings: realloc, write, call, read the (ptr, len) pair, read and validate the bytes, post-return.
            CallOp::Echo16 | CallOp::Echo4K => {
                let s = usize::from(op == CallOp::Echo4K);
                let n = self.strings[s].len();
                let ptr = self.realloc(1, n as i32)?;
                self.mem.write(&mut self.store, ptr as usize, self.strings[s].as_bytes())?;
                let ret = self.call(ECHO, &[Val::I32(ptr), Val::I32(n as i32)])?;
                black_box(self.read(ret, 8)?);
                black_box(String::from_utf8(self.read(ptr, n)?)?);
                self.post(ret)?;
            }
            CallOp::ListIn => {
                let ptr = self.realloc(1, 65536)?;
                self.mem.write(&mut self.store, ptr as usize, &self.bytes)?;
                let ret = self.call(SUM, &[Val::I32(ptr), Val::I32(65536)])?;
                self.post(ret)?;
            }
            CallOp::ListOut => {
                let ret = self.call(MAKE, &[Val::I32(65536)])?;
                let pair = self.read(ret, 8)?;
                let at = u32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]]);
                black_box(self.read(at as i32, 65536)?);
                self.post(ret)?;
            }
            CallOp::Record => {
                let sp = self.realloc(1, 16)?;
                self.mem.write(&mut self.store, sp as usize, self.strings[0].as_bytes())?;
                let lp = self.realloc(2, 64)?;
                self.mem.write(&mut self.store, lp as usize, &self.l16)?;
                let args = [Val::I32(7), Val::I64(1 << 40), Val::I32(sp), Val::I32(16), Val::I32(lp), Val::I32(32)];
                let ret = self.call(RECORD, &args)?;
                black_box(self.read(ret, 32)?);
                black_box(String::from_utf8(self.read(sp, 16)?)?);
                black_box(self.read(lp, 64)?);
                self.post(ret)?;
            }
            CallOp::HostImport => {
                self.funcs[LOOP].call(&mut self.store, &[Val::I32(LOOP_N as i32)], &mut [])?;
            }
        }
        Ok(())
    }
}

/// The form of an API: dynamic values or Rust types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `Value`s and `Func::call`; the host import is a `func_new`.
    Dyn,
    /// Rust types and `TypedFunc`; the host import is a `func_wrap`.
    Typed,
}

/// component-layer over a backend, in one [`Form`].
pub struct Layer<E: WasmEngine> {
    name: String,
    form: Form,
    store: component_layer::Store<(), E>,
    funcs: [component_layer::Func; 6],
    typed: Typed,
    strings: [Value; 2],
    typed_strings: [(String,); 2],
    list: Value,
    typed_list: (Vec<u8>,),
    record: Value,
    out: [Value; 1],
}

/// The record of the record echo, as a Rust type (component-layer's derive).
#[derive(component_layer::ComponentType, component_layer::Lift, component_layer::Lower, Clone)]
#[component(record)]
struct Rec {
    a: u8,
    b: u64,
    c: String,
    d: Vec<u16>,
}

/// The same record for wasmtime's derive.
#[derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower, Clone)]
#[component(record)]
struct NativeRec {
    a: u8,
    b: u64,
    c: String,
    d: Vec<u16>,
}

fn rec() -> Rec {
    Rec { a: 7, b: 1 << 40, c: string_of(16), d: (0..32).collect() }
}

struct Typed {
    add: component_layer::TypedFunc<(u32, u32), (u32,)>,
    record: component_layer::TypedFunc<(Rec,), (Rec,)>,
    rec: (Rec,),
    echo: component_layer::TypedFunc<(String,), (String,)>,
    sum: component_layer::TypedFunc<(Vec<u8>,), (u32,)>,
    make: component_layer::TypedFunc<(u32,), (Vec<u8>,)>,
    lp: component_layer::TypedFunc<(u32,), ()>,
}

impl<E: WasmEngine> Layer<E> {
    /// The benchmark component instantiated on `engine`, used in `form`.
    pub fn new(name: &str, engine: &component_layer::Engine<E>, form: Form) -> anyhow::Result<Self> {
        use component_layer::{Component, Linker, Store};
        let component = Component::new(engine, &wat::parse_str(BENCH_WAT)?)?;
        let mut linker: Linker<(), E> = Linker::new();
        match form {
            Form::Dyn => linker.root().func_new("host-noop", |_, _, _| Ok(()))?,
            Form::Typed => linker.root().func_wrap("host-noop", |_, (): ()| Ok(()))?,
        }
        let mut store = Store::new(engine, ());
        let inst = linker.instantiate(&mut store, &component)?;
        let get = |n: &str| inst.get_func(n).ok_or_else(|| anyhow::anyhow!("no export {n}"));
        let funcs = [get("add")?, get("echo")?, get("sum")?, get("make")?, get("record")?, get("loop")?];
        let typed = Typed {
            add: funcs[0].typed()?,
            echo: funcs[1].typed()?,
            sum: funcs[2].typed()?,
            make: funcs[3].typed()?,
            lp: funcs[5].typed()?,
            record: funcs[4].typed()?,
            rec: (rec(),),
        };
        let suffix = match form {
            Form::Dyn => "",
            Form::Typed => " typed",
        };
        Ok(Layer {
            name: format!("{name}{suffix}"),
            form,
            store,
            funcs,
            typed,
            strings: [Value::String(string_of(16)), Value::String(string_of(4096))],
            typed_strings: [(string_of(16),), (string_of(4096),)],
            list: Value::List(List::U8(vec![1; 65536])),
            typed_list: (vec![1; 65536],),
            record: record_value(),
            out: [Value::Bool(false)],
        })
    }

    fn run_dyn(&mut self, op: CallOp) -> anyhow::Result<()> {
        let (store, out) = (&mut self.store, &mut self.out);
        match op {
            CallOp::Add => self.funcs[0].call(store, &[Value::U32(1), Value::U32(2)], out)?,
            CallOp::Echo16 => self.funcs[1].call(store, std::slice::from_ref(&self.strings[0]), out)?,
            CallOp::Echo4K => self.funcs[1].call(store, std::slice::from_ref(&self.strings[1]), out)?,
            CallOp::ListIn => self.funcs[2].call(store, std::slice::from_ref(&self.list), out)?,
            CallOp::ListOut => self.funcs[3].call(store, &[Value::U32(65536)], out)?,
            CallOp::Record => self.funcs[4].call(store, std::slice::from_ref(&self.record), out)?,
            CallOp::HostImport => self.funcs[5].call(store, &[Value::U32(LOOP_N)], &mut [])?,
        }
        black_box(&self.out);
        Ok(())
    }

    fn run_typed(&mut self, op: CallOp) -> anyhow::Result<()> {
        let (t, store) = (&self.typed, &mut self.store);
        match op {
            CallOp::Add => {
                black_box(t.add.call(store, (1, 2))?);
            }
            CallOp::Echo16 => {
                black_box(t.echo.call_ref(store, &self.typed_strings[0])?);
            }
            CallOp::Echo4K => {
                black_box(t.echo.call_ref(store, &self.typed_strings[1])?);
            }
            CallOp::ListIn => {
                black_box(t.sum.call_ref(store, &self.typed_list)?);
            }
            CallOp::ListOut => {
                black_box(t.make.call(store, (65536,))?);
            }
            CallOp::Record => {
                black_box(t.record.call_ref(store, &t.rec)?);
            }
            CallOp::HostImport => t.lp.call(store, (LOOP_N,))?,
        }
        Ok(())
    }
}

impl<E: WasmEngine> Rig for Layer<E> {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&mut self, op: CallOp) -> anyhow::Result<()> {
        match self.form {
            Form::Dyn => self.run_dyn(op),
            Form::Typed => self.run_typed(op),
        }
    }
}

/// wasmtime's native component support, in one [`Form`].
pub struct Native {
    name: String,
    form: Form,
    store: wasmtime::Store<()>,
    funcs: [wasmtime::component::Func; 6],
    typed: NativeTyped,
    strings: [wasmtime::component::Val; 2],
    /// Borrowed arguments of the typed functions, whose parameter types name their lifetime: leaked once per rig
    /// (a few KiB per benchmark run).
    raw_strings: [&'static str; 2],
    list: wasmtime::component::Val,
    bytes: &'static [u8],
    record: wasmtime::component::Val,
    out: [wasmtime::component::Val; 1],
}

struct NativeTyped {
    add: wasmtime::component::TypedFunc<(u32, u32), (u32,)>,
    echo: wasmtime::component::TypedFunc<(&'static str,), (String,)>,
    sum: wasmtime::component::TypedFunc<(&'static [u8],), (u32,)>,
    make: wasmtime::component::TypedFunc<(u32,), (Vec<u8>,)>,
    lp: wasmtime::component::TypedFunc<(u32,), ()>,
    record: wasmtime::component::TypedFunc<(&'static NativeRec,), (NativeRec,)>,
    rec: &'static NativeRec,
}

fn wt<T>(r: wasmtime::Result<T>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("{e:?}"))
}

impl Native {
    /// The benchmark component on wasmtime, used in `form`.
    pub fn new(form: Form) -> anyhow::Result<Self> {
        use wasmtime::component::{Component, Linker, Val};
        let engine = crate::engine::wasmtime_engine();
        let component = wt(Component::new(&engine, wat::parse_str(BENCH_WAT)?))?;
        let mut linker: Linker<()> = Linker::new(&engine);
        match form {
            Form::Dyn => wt(linker.root().func_new("host-noop", |_, _, _, _| Ok(())))?,
            Form::Typed => wt(linker.root().func_wrap("host-noop", |_, (): ()| Ok(())))?,
        }
        let mut store = wasmtime::Store::new(&engine, ());
        let inst = wt(linker.instantiate(&mut store, &component))?;
        let mut get = |n: &str| inst.get_func(&mut store, n).ok_or_else(|| anyhow::anyhow!("no export {n}"));
        let funcs = [get("add")?, get("echo")?, get("sum")?, get("make")?, get("record")?, get("loop")?];
        let typed = NativeTyped {
            add: wt(funcs[0].typed(&store))?,
            echo: wt(funcs[1].typed(&store))?,
            sum: wt(funcs[2].typed(&store))?,
            make: wt(funcs[3].typed(&store))?,
            lp: wt(funcs[5].typed(&store))?,
            record: wt(funcs[4].typed(&store))?,
            rec: Box::leak(Box::new(NativeRec { a: 7, b: 1 << 40, c: string_of(16), d: (0..32).collect() })),
        };
        let name = match form {
            Form::Dyn => "wasmtime dyn",
            Form::Typed => "wasmtime typed",
        };
        Ok(Native {
            name: name.into(),
            form,
            store,
            funcs,
            typed,
            strings: [Val::String(string_of(16)), Val::String(string_of(4096))],
            raw_strings: [string_of(16).leak(), string_of(4096).leak()],
            list: Val::List(vec![Val::U8(1); 65536]),
            bytes: vec![1; 65536].leak(),
            record: crate::engine::value::to_val(&record_value()).map_err(anyhow::Error::msg)?,
            out: [Val::Bool(false)],
        })
    }

    fn run_dyn(&mut self, op: CallOp) -> anyhow::Result<()> {
        use wasmtime::component::Val;
        let (store, out) = (&mut self.store, &mut self.out);
        let r = match op {
            CallOp::Add => self.funcs[0].call(&mut *store, &[Val::U32(1), Val::U32(2)], out),
            CallOp::Echo16 => self.funcs[1].call(&mut *store, std::slice::from_ref(&self.strings[0]), out),
            CallOp::Echo4K => self.funcs[1].call(&mut *store, std::slice::from_ref(&self.strings[1]), out),
            CallOp::ListIn => self.funcs[2].call(&mut *store, std::slice::from_ref(&self.list), out),
            CallOp::ListOut => self.funcs[3].call(&mut *store, &[Val::U32(65536)], out),
            CallOp::Record => self.funcs[4].call(&mut *store, std::slice::from_ref(&self.record), out),
            CallOp::HostImport => self.funcs[5].call(&mut *store, &[Val::U32(LOOP_N)], &mut []),
        };
        wt(r)?;
        black_box(&self.out);
        Ok(())
    }

    fn run_typed(&mut self, op: CallOp) -> anyhow::Result<()> {
        let (t, store) = (&self.typed, &mut self.store);
        match op {
            CallOp::Add => {
                black_box(wt(t.add.call(store, (1, 2)))?);
            }
            CallOp::Echo16 | CallOp::Echo4K => {
                let s = self.raw_strings[usize::from(op == CallOp::Echo4K)];
                black_box(wt(t.echo.call(store, (s,)))?);
            }
            CallOp::ListIn => {
                black_box(wt(t.sum.call(store, (self.bytes,)))?);
            }
            CallOp::ListOut => {
                black_box(wt(t.make.call(store, (65536,)))?);
            }
            CallOp::Record => {
                black_box(wt(t.record.call(store, (t.rec,)))?);
            }
            CallOp::HostImport => wt(t.lp.call(store, (LOOP_N,)))?,
        }
        Ok(())
    }
}

impl Rig for Native {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&mut self, op: CallOp) -> anyhow::Result<()> {
        match self.form {
            Form::Dyn => self.run_dyn(op),
            Form::Typed => self.run_typed(op),
        }
    }
}
