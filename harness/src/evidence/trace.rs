//! A core backend that records everything component-layer asks of it.
//!
//! [`TraceEngine`] wraps any `wasm_runtime_layer` backend and implements the backend traits itself, so
//! component-layer runs over it unchanged (`component_layer::Engine<TraceEngine<wasmi_runtime_layer::Engine>>`)
//! while every core-level interaction is logged as an [`Event`]: the modules compiled, the instances made and
//! what their imports were, the exports looked up, every call into core code with its arguments and results,
//! every call of a host function by core code, and every memory, global and table access the runtime makes.
//!
//! Each object gets a number when it is first seen, so the log names them engine-neutrally; the log can then be
//! replayed on another core engine without component-layer (see [`super::replay`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Result;
use wasm_runtime_layer::backend::{
    AsContext, AsContextMut, Export, Extern, Imports, Ref, Val, WasmEngine, WasmExternRef, WasmFunc, WasmGlobal,
    WasmInstance, WasmMemory, WasmModule, WasmStore, WasmStoreContext, WasmStoreContextMut, WasmTable,
};
use wasm_runtime_layer::{ExportType, ExternType, FuncType, GlobalType, ImportType, MemoryType, TableType};

/// A core value, engine-neutral (floats as bits, references as object numbers).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Raw {
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// `f32`, by its bits.
    F32(u32),
    /// `f64`, by its bits.
    F64(u64),
    /// `v128`.
    V128(u128),
    /// A function reference (the function's number, or null).
    FuncRef(Option<u32>),
    /// An external reference (present or null).
    ExternRef(bool),
}

impl Raw {
    /// Whether two values are the same, counting any two NaNs of a type as the same (core wasm leaves NaN
    /// payloads to the engine).
    pub fn same(&self, other: &Raw) -> bool {
        match (self, other) {
            (Raw::F32(a), Raw::F32(b)) => a == b || (f32::from_bits(*a).is_nan() && f32::from_bits(*b).is_nan()),
            (Raw::F64(a), Raw::F64(b)) => a == b || (f64::from_bits(*a).is_nan() && f64::from_bits(*b).is_nan()),
            (a, b) => a == b,
        }
    }

    /// As `.wast` core constant text (`i32.const 3`).
    pub fn wast(&self) -> String {
        match self {
            Raw::I32(x) => format!("i32.const {x}"),
            Raw::I64(x) => format!("i64.const {x}"),
            Raw::F32(b) => format!("f32.const {}", f32_text(*b)),
            Raw::F64(b) => format!("f64.const {}", f64_text(*b)),
            Raw::V128(x) => format!("v128.const i64x2 {} {}", *x as u64 as i64, (*x >> 64) as u64 as i64),
            Raw::FuncRef(None) => "ref.null func".into(),
            Raw::FuncRef(Some(n)) => format!("(; func #{n} ;) ref.null func"),
            Raw::ExternRef(_) => "ref.null extern".into(),
        }
    }
}

fn f32_text(b: u32) -> String {
    let x = f32::from_bits(b);
    if x.is_nan() {
        format!("{}nan:0x{:x}", if b >> 31 != 0 { "-" } else { "" }, b & 0x7f_ffff)
    } else if x.is_infinite() {
        if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{x:?}")
    }
}

fn f64_text(b: u64) -> String {
    let x = f64::from_bits(b);
    if x.is_nan() {
        format!("{}nan:0x{:x}", if b >> 63 != 0 { "-" } else { "" }, b & 0xf_ffff_ffff_ffff)
    } else if x.is_infinite() {
        if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{x:?}")
    }
}

/// An object of the core engine, by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ext {
    /// A function.
    Func(u32),
    /// A linear memory.
    Memory(u32),
    /// A global.
    Global(u32),
    /// A table.
    Table(u32),
}

/// One thing component-layer did with the core engine.
#[derive(Clone, Debug)]
pub enum Event {
    /// A store was made.
    Store { store: u32 },
    /// A module was compiled.
    Module { module: u32, bytes: Arc<Vec<u8>> },
    /// A host function was made.
    HostFunc { store: u32, func: u32, ty: FuncType },
    /// A memory was made by the host.
    NewMemory { store: u32, memory: u32, ty: MemoryType },
    /// A global was made by the host.
    NewGlobal { store: u32, global: u32, value: Raw, mutable: bool },
    /// A table was made by the host.
    NewTable { store: u32, table: u32, ty: TableType },
    /// A module was instantiated with these imports.
    Instance { store: u32, instance: u32, module: u32, imports: Vec<(String, String, Ext)>, ok: bool },
    /// An export of an instance was looked up (the first time: later lookups give the same number).
    Export { store: u32, instance: u32, name: String, ext: Ext },
    /// A core function was called.
    Call { store: u32, func: u32, args: Vec<Raw> },
    /// The call that began last returned (or trapped).
    Return { results: Result<Vec<Raw>, String> },
    /// Core code called a host function.
    HostEnter { func: u32, args: Vec<Raw> },
    /// The host function that was entered last returned (or failed).
    HostExit { results: Result<Vec<Raw>, String> },
    /// The runtime read memory.
    Read { memory: u32, offset: usize, bytes: Result<Vec<u8>, String> },
    /// The runtime wrote memory.
    Write { memory: u32, offset: usize, bytes: Vec<u8>, ok: bool },
    /// The runtime grew a memory.
    Grow { memory: u32, delta: u32, result: Result<u32, String> },
    /// The runtime asked a memory's size.
    Size { memory: u32, pages: u32 },
    /// The runtime read a global.
    GlobalGet { global: u32, value: Raw },
    /// The runtime wrote a global.
    GlobalSet { global: u32, value: Raw, ok: bool },
    /// The runtime touched a table (size, get, set or grow); not replayed, kept for the record.
    TableOp { table: u32, what: String },
}

/// The log of one traced engine.
#[derive(Default)]
pub struct Log {
    /// The events, in order.
    pub events: Vec<Event>,
    next: u32,
    /// Numbers of exports already looked up: (instance, name) → object.
    exports: HashMap<(u32, String), Ext>,
}

/// A shared log.
#[derive(Clone, Default)]
pub struct Tracer(Arc<Mutex<Log>>);

impl Tracer {
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn next(&self) -> u32 {
        let mut l = self.lock();
        l.next += 1;
        l.next
    }

    fn push(&self, e: Event) {
        self.lock().events.push(e);
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }
}

/// A core backend `E`, traced.
#[derive(Clone)]
pub struct TraceEngine<E> {
    inner: E,
    log: Tracer,
}

impl<E: WasmEngine> TraceEngine<E> {
    /// `inner`, traced into a new log.
    pub fn new(inner: E) -> Self {
        TraceEngine { inner, log: Tracer::default() }
    }

    /// The log.
    pub fn log(&self) -> &Tracer {
        &self.log
    }
}

/// A traced store.
pub struct TStore<T: 'static, E: WasmEngine> {
    inner: E::Store<T>,
    id: u32,
    engine: TraceEngine<E>,
}

/// A traced store context.
pub struct TStoreContext<'a, T: 'static, E: WasmEngine> {
    inner: E::StoreContext<'a, T>,
    store: u32,
    engine: TraceEngine<E>,
}

/// A traced mutable store context.
pub struct TStoreContextMut<'a, T: 'static, E: WasmEngine> {
    inner: E::StoreContextMut<'a, T>,
    store: u32,
    engine: TraceEngine<E>,
}

macro_rules! traced_object {
    ($name:ident, $assoc:ident) => {
        /// A traced object of the inner engine, with its number.
        pub struct $name<E: WasmEngine> {
            inner: E::$assoc,
            id: u32,
            log: Tracer,
        }

        impl<E: WasmEngine> Clone for $name<E> {
            fn clone(&self) -> Self {
                $name { inner: self.inner.clone(), id: self.id, log: self.log.clone() }
            }
        }
    };
}

traced_object!(TFunc, Func);
traced_object!(TGlobal, Global);
traced_object!(TMemory, Memory);
traced_object!(TTable, Table);
traced_object!(TInstance, Instance);
traced_object!(TModule, Module);

/// A traced external reference.
pub struct TExternRef<E: WasmEngine> {
    inner: E::ExternRef,
}

impl<E: WasmEngine> Clone for TExternRef<E> {
    fn clone(&self) -> Self {
        TExternRef { inner: self.inner.clone() }
    }
}

impl<E: WasmEngine + Send + Sync> WasmEngine for TraceEngine<E> {
    type ExternRef = TExternRef<E>;
    type Func = TFunc<E>;
    type Global = TGlobal<E>;
    type Instance = TInstance<E>;
    type Memory = TMemory<E>;
    type Module = TModule<E>;
    type Store<T: 'static> = TStore<T, E>;
    type StoreContext<'a, T: 'static> = TStoreContext<'a, T, E>;
    type StoreContextMut<'a, T: 'static> = TStoreContextMut<'a, T, E>;
    type Table = TTable<E>;
}

fn raw<E: WasmEngine>(v: &Val<E>) -> Raw {
    match v {
        Val::I32(x) => Raw::I32(*x),
        Val::I64(x) => Raw::I64(*x),
        Val::F32(x) => Raw::F32(x.to_bits()),
        Val::F64(x) => Raw::F64(x.to_bits()),
        Val::V128(x) => Raw::V128(*x),
        Val::FuncRef(_) => Raw::FuncRef(None),
        Val::ExternRef(r) => Raw::ExternRef(r.is_some()),
    }
}

fn raw_traced<E: WasmEngine + Send + Sync>(v: &Val<TraceEngine<E>>) -> Raw {
    match v {
        Val::FuncRef(Some(f)) => Raw::FuncRef(Some(f.id)),
        Val::FuncRef(None) => Raw::FuncRef(None),
        Val::ExternRef(r) => Raw::ExternRef(r.is_some()),
        Val::I32(x) => Raw::I32(*x),
        Val::I64(x) => Raw::I64(*x),
        Val::F32(x) => Raw::F32(x.to_bits()),
        Val::F64(x) => Raw::F64(x.to_bits()),
        Val::V128(x) => Raw::V128(*x),
    }
}

fn wrap<E: WasmEngine + Send + Sync>(v: &Val<E>, log: &Tracer) -> Val<TraceEngine<E>> {
    match v {
        Val::I32(x) => Val::I32(*x),
        Val::I64(x) => Val::I64(*x),
        Val::F32(x) => Val::F32(*x),
        Val::F64(x) => Val::F64(*x),
        Val::V128(x) => Val::V128(*x),
        // References that come back from core code are not numbered: nothing here compares them.
        Val::FuncRef(f) => Val::FuncRef(f.clone().map(|inner| TFunc { inner, id: 0, log: log.clone() })),
        Val::ExternRef(r) => Val::ExternRef(r.clone().map(|inner| TExternRef { inner })),
    }
}

fn unwrap<E: WasmEngine + Send + Sync>(v: &Val<TraceEngine<E>>) -> Val<E> {
    match v {
        Val::I32(x) => Val::I32(*x),
        Val::I64(x) => Val::I64(*x),
        Val::F32(x) => Val::F32(*x),
        Val::F64(x) => Val::F64(*x),
        Val::V128(x) => Val::V128(*x),
        Val::FuncRef(f) => Val::FuncRef(f.as_ref().map(|f| f.inner.clone())),
        Val::ExternRef(r) => Val::ExternRef(r.as_ref().map(|r| r.inner.clone())),
    }
}

fn wrap_ref<E: WasmEngine + Send + Sync>(r: &Ref<E>, log: &Tracer) -> Ref<TraceEngine<E>> {
    match r {
        Ref::FuncRef(f) => Ref::FuncRef(f.clone().map(|inner| TFunc { inner, id: 0, log: log.clone() })),
        Ref::ExternRef(e) => Ref::ExternRef(e.clone().map(|inner| TExternRef { inner })),
    }
}

fn unwrap_ref<E: WasmEngine + Send + Sync>(r: &Ref<TraceEngine<E>>) -> Ref<E> {
    match r {
        Ref::FuncRef(f) => Ref::FuncRef(f.as_ref().map(|f| f.inner.clone())),
        Ref::ExternRef(e) => Ref::ExternRef(e.as_ref().map(|e| e.inner.clone())),
    }
}

fn unwrap_extern<E: WasmEngine + Send + Sync>(e: &Extern<TraceEngine<E>>) -> (Extern<E>, Ext) {
    match e {
        Extern::Func(f) => (Extern::Func(f.inner.clone()), Ext::Func(f.id)),
        Extern::Memory(m) => (Extern::Memory(m.inner.clone()), Ext::Memory(m.id)),
        Extern::Global(g) => (Extern::Global(g.inner.clone()), Ext::Global(g.id)),
        Extern::Table(t) => (Extern::Table(t.inner.clone()), Ext::Table(t.id)),
    }
}

fn wrap_extern<E: WasmEngine + Send + Sync>(e: Extern<E>, id: u32, log: &Tracer) -> Extern<TraceEngine<E>> {
    let log = log.clone();
    match e {
        Extern::Func(inner) => Extern::Func(TFunc { inner, id, log }),
        Extern::Memory(inner) => Extern::Memory(TMemory { inner, id, log }),
        Extern::Global(inner) => Extern::Global(TGlobal { inner, id, log }),
        Extern::Table(inner) => Extern::Table(TTable { inner, id, log }),
    }
}

fn ext_of<E: WasmEngine>(e: &Extern<E>, id: u32) -> Ext {
    match e {
        Extern::Func(_) => Ext::Func(id),
        Extern::Memory(_) => Ext::Memory(id),
        Extern::Global(_) => Ext::Global(id),
        Extern::Table(_) => Ext::Table(id),
    }
}

fn ext_id(e: Ext) -> u32 {
    match e {
        Ext::Func(n) | Ext::Memory(n) | Ext::Global(n) | Ext::Table(n) => n,
    }
}

impl<T: 'static, E: WasmEngine + Send + Sync> WasmStore<T, TraceEngine<E>> for TStore<T, E> {
    fn new(engine: &TraceEngine<E>, data: T) -> Self {
        let id = engine.log.next();
        engine.log.push(Event::Store { store: id });
        TStore { inner: <E::Store<T> as WasmStore<T, E>>::new(&engine.inner, data), id, engine: engine.clone() }
    }

    fn engine(&self) -> &TraceEngine<E> {
        &self.engine
    }

    fn data(&self) -> &T {
        self.inner.data()
    }

    fn data_mut(&mut self) -> &mut T {
        self.inner.data_mut()
    }

    fn into_data(self) -> T {
        self.inner.into_data()
    }
}

impl<T: 'static, E: WasmEngine + Send + Sync> AsContext<TraceEngine<E>> for TStore<T, E> {
    type UserState = T;

    fn as_context(&self) -> TStoreContext<'_, T, E> {
        TStoreContext { inner: self.inner.as_context(), store: self.id, engine: self.engine.clone() }
    }
}

impl<T: 'static, E: WasmEngine + Send + Sync> AsContextMut<TraceEngine<E>> for TStore<T, E> {
    fn as_context_mut(&mut self) -> TStoreContextMut<'_, T, E> {
        TStoreContextMut { inner: self.inner.as_context_mut(), store: self.id, engine: self.engine.clone() }
    }
}

impl<'a, T: 'static, E: WasmEngine + Send + Sync> WasmStoreContext<'a, T, TraceEngine<E>> for TStoreContext<'a, T, E> {
    fn engine(&self) -> &TraceEngine<E> {
        &self.engine
    }

    fn data(&self) -> &T {
        self.inner.data()
    }
}

impl<'a, T: 'static, E: WasmEngine + Send + Sync> AsContext<TraceEngine<E>> for TStoreContext<'a, T, E> {
    type UserState = T;

    fn as_context(&self) -> TStoreContext<'_, T, E> {
        TStoreContext { inner: self.inner.as_context(), store: self.store, engine: self.engine.clone() }
    }
}

impl<'a, T: 'static, E: WasmEngine + Send + Sync> WasmStoreContext<'a, T, TraceEngine<E>>
    for TStoreContextMut<'a, T, E>
{
    fn engine(&self) -> &TraceEngine<E> {
        &self.engine
    }

    fn data(&self) -> &T {
        self.inner.data()
    }
}

impl<'a, T: 'static, E: WasmEngine + Send + Sync> WasmStoreContextMut<'a, T, TraceEngine<E>>
    for TStoreContextMut<'a, T, E>
{
    fn data_mut(&mut self) -> &mut T {
        self.inner.data_mut()
    }
}

impl<'a, T: 'static, E: WasmEngine + Send + Sync> AsContext<TraceEngine<E>> for TStoreContextMut<'a, T, E> {
    type UserState = T;

    fn as_context(&self) -> TStoreContext<'_, T, E> {
        TStoreContext { inner: self.inner.as_context(), store: self.store, engine: self.engine.clone() }
    }
}

impl<'a, T: 'static, E: WasmEngine + Send + Sync> AsContextMut<TraceEngine<E>> for TStoreContextMut<'a, T, E> {
    fn as_context_mut(&mut self) -> TStoreContextMut<'_, T, E> {
        TStoreContextMut { inner: self.inner.as_context_mut(), store: self.store, engine: self.engine.clone() }
    }
}

impl<E: WasmEngine + Send + Sync> WasmExternRef<TraceEngine<E>> for TExternRef<E> {
    fn new<T: 'static + Send + Sync>(mut ctx: impl AsContextMut<TraceEngine<E>>, object: T) -> Self {
        TExternRef { inner: E::ExternRef::new(ctx.as_context_mut().inner, object) }
    }

    fn downcast<'a, 's: 'a, T: 'static, S: 'static>(&'a self, store: TStoreContext<'s, S, E>) -> Result<&'a T> {
        self.inner.downcast::<T, S>(store.inner)
    }
}

impl<E: WasmEngine + Send + Sync> WasmFunc<TraceEngine<E>> for TFunc<E> {
    fn new<T: 'static>(
        mut ctx: impl AsContextMut<TraceEngine<E>, UserState = T>,
        ty: FuncType,
        func: impl 'static
            + Send
            + Sync
            + Fn(TStoreContextMut<'_, T, E>, &[Val<TraceEngine<E>>], &mut [Val<TraceEngine<E>>]) -> Result<()>,
    ) -> Self {
        let c = ctx.as_context_mut();
        let (engine, store) = (c.engine.clone(), c.store);
        let id = engine.log.next();
        engine.log.push(Event::HostFunc { store, func: id, ty: ty.clone() });
        let eng = engine.clone();
        let inner = E::Func::new(
            c.inner,
            ty,
            move |ictx: E::StoreContextMut<'_, T>, args: &[Val<E>], results: &mut [Val<E>]| {
                eng.log.push(Event::HostEnter { func: id, args: args.iter().map(raw).collect() });
                let targs: Vec<Val<TraceEngine<E>>> = args.iter().map(|a| wrap(a, &eng.log)).collect();
                let mut tres: Vec<Val<TraceEngine<E>>> = results.iter().map(|r| wrap(r, &eng.log)).collect();
                let tctx = TStoreContextMut { inner: ictx, store, engine: eng.clone() };
                let out = func(tctx, &targs, &mut tres);
                eng.log.push(Event::HostExit {
                    results: match &out {
                        Ok(()) => Ok(tres.iter().map(raw_traced).collect()),
                        Err(e) => Err(format!("{e:#}")),
                    },
                });
                out?;
                for (r, t) in results.iter_mut().zip(&tres) {
                    *r = unwrap(t);
                }
                Ok(())
            },
        );
        TFunc { inner, id, log: engine.log }
    }

    fn ty(&self, ctx: impl AsContext<TraceEngine<E>>) -> FuncType {
        self.inner.ty(ctx.as_context().inner)
    }

    fn call<T>(
        &self,
        mut ctx: impl AsContextMut<TraceEngine<E>>,
        args: &[Val<TraceEngine<E>>],
        results: &mut [Val<TraceEngine<E>>],
    ) -> Result<()> {
        let c = ctx.as_context_mut();
        self.log.push(Event::Call { store: c.store, func: self.id, args: args.iter().map(raw_traced).collect() });
        let iargs: Vec<Val<E>> = args.iter().map(unwrap).collect();
        let mut ires: Vec<Val<E>> = results.iter().map(unwrap).collect();
        let out = self.inner.call::<T>(c.inner, &iargs, &mut ires);
        self.log.push(Event::Return {
            results: match &out {
                Ok(()) => Ok(ires.iter().map(raw).collect()),
                Err(e) => Err(format!("{e:#}")),
            },
        });
        out?;
        for (r, v) in results.iter_mut().zip(&ires) {
            *r = wrap(v, &self.log);
        }
        Ok(())
    }
}

impl<E: WasmEngine + Send + Sync> WasmGlobal<TraceEngine<E>> for TGlobal<E> {
    fn new(mut ctx: impl AsContextMut<TraceEngine<E>>, value: Val<TraceEngine<E>>, mutable: bool) -> Self {
        let c = ctx.as_context_mut();
        let (log, store) = (c.engine.log.clone(), c.store);
        let id = log.next();
        log.push(Event::NewGlobal { store, global: id, value: raw_traced(&value), mutable });
        TGlobal { inner: E::Global::new(c.inner, unwrap(&value), mutable), id, log }
    }

    fn ty(&self, ctx: impl AsContext<TraceEngine<E>>) -> GlobalType {
        self.inner.ty(ctx.as_context().inner)
    }

    fn set(&self, mut ctx: impl AsContextMut<TraceEngine<E>>, new_value: Val<TraceEngine<E>>) -> Result<()> {
        let out = self.inner.set(ctx.as_context_mut().inner, unwrap(&new_value));
        self.log.push(Event::GlobalSet { global: self.id, value: raw_traced(&new_value), ok: out.is_ok() });
        out
    }

    fn get(&self, mut ctx: impl AsContextMut<TraceEngine<E>>) -> Val<TraceEngine<E>> {
        let v = self.inner.get(ctx.as_context_mut().inner);
        self.log.push(Event::GlobalGet { global: self.id, value: raw(&v) });
        wrap(&v, &self.log)
    }
}

impl<E: WasmEngine + Send + Sync> WasmMemory<TraceEngine<E>> for TMemory<E> {
    fn new(mut ctx: impl AsContextMut<TraceEngine<E>>, ty: MemoryType) -> Result<Self> {
        let c = ctx.as_context_mut();
        let (log, store) = (c.engine.log.clone(), c.store);
        let id = log.next();
        log.push(Event::NewMemory { store, memory: id, ty });
        Ok(TMemory { inner: E::Memory::new(c.inner, ty)?, id, log })
    }

    fn ty(&self, ctx: impl AsContext<TraceEngine<E>>) -> MemoryType {
        self.inner.ty(ctx.as_context().inner)
    }

    fn grow(&self, mut ctx: impl AsContextMut<TraceEngine<E>>, additional: u32) -> Result<u32> {
        let out = self.inner.grow(ctx.as_context_mut().inner, additional);
        let result = match &out {
            Ok(p) => Ok(*p),
            Err(e) => Err(format!("{e:#}")),
        };
        self.log.push(Event::Grow { memory: self.id, delta: additional, result });
        out
    }

    fn current_pages(&self, ctx: impl AsContext<TraceEngine<E>>) -> u32 {
        let pages = self.inner.current_pages(ctx.as_context().inner);
        self.log.push(Event::Size { memory: self.id, pages });
        pages
    }

    fn read(&self, ctx: impl AsContext<TraceEngine<E>>, offset: usize, buffer: &mut [u8]) -> Result<()> {
        let out = self.inner.read(ctx.as_context().inner, offset, buffer);
        let bytes = match &out {
            Ok(()) => Ok(buffer.to_vec()),
            Err(e) => Err(format!("{e:#}")),
        };
        self.log.push(Event::Read { memory: self.id, offset, bytes });
        out
    }

    fn write(&self, mut ctx: impl AsContextMut<TraceEngine<E>>, offset: usize, buffer: &[u8]) -> Result<()> {
        let out = self.inner.write(ctx.as_context_mut().inner, offset, buffer);
        self.log.push(Event::Write { memory: self.id, offset, bytes: buffer.to_vec(), ok: out.is_ok() });
        out
    }
}

impl<E: WasmEngine + Send + Sync> WasmTable<TraceEngine<E>> for TTable<E> {
    fn new(mut ctx: impl AsContextMut<TraceEngine<E>>, ty: TableType, init: Ref<TraceEngine<E>>) -> Result<Self> {
        let c = ctx.as_context_mut();
        let (log, store) = (c.engine.log.clone(), c.store);
        let id = log.next();
        log.push(Event::NewTable { store, table: id, ty });
        Ok(TTable { inner: E::Table::new(c.inner, ty, unwrap_ref(&init))?, id, log })
    }

    fn ty(&self, ctx: impl AsContext<TraceEngine<E>>) -> TableType {
        self.inner.ty(ctx.as_context().inner)
    }

    fn size(&self, ctx: impl AsContext<TraceEngine<E>>) -> u32 {
        let n = self.inner.size(ctx.as_context().inner);
        self.log.push(Event::TableOp { table: self.id, what: format!("size = {n}") });
        n
    }

    fn grow(&self, mut ctx: impl AsContextMut<TraceEngine<E>>, delta: u32, init: Ref<TraceEngine<E>>) -> Result<u32> {
        let out = self.inner.grow(ctx.as_context_mut().inner, delta, unwrap_ref(&init));
        self.log.push(Event::TableOp { table: self.id, what: format!("grow {delta} = {:?}", out.as_ref().ok()) });
        out
    }

    fn get(&self, mut ctx: impl AsContextMut<TraceEngine<E>>, index: u32) -> Option<Ref<TraceEngine<E>>> {
        let r = self.inner.get(ctx.as_context_mut().inner, index);
        self.log.push(Event::TableOp { table: self.id, what: format!("get {index}") });
        r.map(|r| wrap_ref(&r, &self.log))
    }

    fn set(&self, mut ctx: impl AsContextMut<TraceEngine<E>>, index: u32, elem: Ref<TraceEngine<E>>) -> Result<()> {
        self.log.push(Event::TableOp { table: self.id, what: format!("set {index}") });
        self.inner.set(ctx.as_context_mut().inner, index, unwrap_ref(&elem))
    }
}

impl<E: WasmEngine + Send + Sync> TInstance<E> {
    /// The traced form of an export of this instance, numbered once per (instance, name).
    fn export(&self, store: u32, name: &str, e: Extern<E>) -> Extern<TraceEngine<E>> {
        let key = (self.id, name.to_owned());
        let known = self.log.lock().exports.get(&key).copied();
        let ext = match known {
            Some(x) => x,
            None => {
                let x = ext_of(&e, self.log.next());
                self.log.lock().exports.insert(key, x);
                self.log.push(Event::Export { store, instance: self.id, name: name.to_owned(), ext: x });
                x
            }
        };
        wrap_extern(e, ext_id(ext), &self.log)
    }
}

impl<E: WasmEngine + Send + Sync> WasmInstance<TraceEngine<E>> for TInstance<E> {
    fn new(
        mut store: impl AsContextMut<TraceEngine<E>>,
        module: &TModule<E>,
        imports: &Imports<TraceEngine<E>>,
    ) -> Result<Self> {
        let c = store.as_context_mut();
        let (log, sid) = (c.engine.log.clone(), c.store);
        let mut inner_imports = Imports::<E>::new();
        let mut recorded = Vec::new();
        for (ns, name, ext) in imports.iter() {
            let (inner, id) = unwrap_extern(ext);
            inner_imports.define(ns, name, inner);
            recorded.push((ns.to_owned(), name.to_owned(), id));
        }
        recorded.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let id = log.next();
        let out = E::Instance::new(c.inner, &module.inner, &inner_imports);
        log.push(Event::Instance { store: sid, instance: id, module: module.id, imports: recorded, ok: out.is_ok() });
        Ok(TInstance { inner: out?, id, log })
    }

    fn exports(&self, store: impl AsContext<TraceEngine<E>>) -> Box<dyn Iterator<Item = Export<TraceEngine<E>>>> {
        let c = store.as_context();
        let sid = c.store;
        let exports: Vec<Export<E>> = self.inner.exports(c.inner).collect();
        let this = self.clone();
        Box::new(exports.into_iter().map(move |e| Export { value: this.export(sid, &e.name, e.value), name: e.name }))
    }

    fn get_export(&self, store: impl AsContext<TraceEngine<E>>, name: &str) -> Option<Extern<TraceEngine<E>>> {
        let c = store.as_context();
        let sid = c.store;
        self.inner.get_export(c.inner, name).map(|e| self.export(sid, name, e))
    }
}

impl<E: WasmEngine + Send + Sync> WasmModule<TraceEngine<E>> for TModule<E> {
    fn new(engine: &TraceEngine<E>, bytes: &[u8]) -> Result<Self> {
        let inner = E::Module::new(&engine.inner, bytes)?;
        let id = engine.log.next();
        engine.log.push(Event::Module { module: id, bytes: Arc::new(bytes.to_vec()) });
        Ok(TModule { inner, id, log: engine.log.clone() })
    }

    fn exports(&self) -> Box<dyn '_ + Iterator<Item = ExportType<'_>>> {
        self.inner.exports()
    }

    fn get_export(&self, name: &str) -> Option<ExternType> {
        self.inner.get_export(name)
    }

    fn imports(&self) -> Box<dyn '_ + Iterator<Item = ImportType<'_>>> {
        self.inner.imports()
    }
}
