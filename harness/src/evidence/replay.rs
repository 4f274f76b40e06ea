//! Replaying a trace on a core engine, without component-layer.
//!
//! The events a [`super::trace::TraceEngine`] recorded are done again on a plain core engine: the same modules
//! compiled and instantiated with the same wiring, every call of the runtime into core code made with the same
//! arguments, every host function answered with the results recorded for it (and with the memory writes and
//! nested calls the runtime made inside it), every memory read and size the runtime saw compared with what the
//! engine has now. The first difference — a call that returns something else, a host function called with other
//! arguments, memory that reads differently — is where the two core engines part: from the same inputs, they
//! compute different things.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use wasm_runtime_layer::backend::WasmEngine;
use wasm_runtime_layer::{
    AsContextMut, Engine, Extern, Func, Imports, Instance, Memory, Module, Store, StoreContextMut, Val, ValType,
};

use super::trace::{Event, Ext, Raw};

/// Where a replay parted from its trace.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// The event at which it did.
    pub at: usize,
    /// What differed.
    pub what: String,
    /// The core call it happened in (or whose effect was seen): the index of its [`Event::Call`].
    pub call: Option<usize>,
    /// Whether it is a difference between the engines (`false`: the replay could not follow the trace at all,
    /// which proves nothing).
    pub engines_differ: bool,
}

/// How a replay ended.
pub enum Replayed {
    /// Every event happened again as recorded.
    Faithful,
    /// It stopped where asked, with the engine's state then.
    Stopped(Snapshot),
}

/// The state of the objects an instance uses, at some point of a replay.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Memories by object number: their bytes.
    pub memories: HashMap<u32, Vec<u8>>,
    /// Globals by object number: their values.
    pub globals: HashMap<u32, Raw>,
}

struct State {
    events: Arc<Vec<Event>>,
    pos: usize,
    objects: HashMap<u32, Extern>,
    modules: HashMap<u32, Module>,
    instances: HashMap<u32, Instance>,
    mismatch: Option<Mismatch>,
    /// The calls in progress (their event indices), innermost last.
    calls: Vec<usize>,
    /// The call that returned last.
    last_call: Option<usize>,
    /// The event being done.
    current: usize,
}

#[derive(Clone)]
struct Shared(Arc<Mutex<State>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn event(&self) -> Option<(usize, Event)> {
        let s = self.lock();
        s.events.get(s.pos).map(|e| (s.pos, e.clone()))
    }

    /// Moves past the event at the cursor, which is now the one being done.
    fn advance(&self) {
        let mut s = self.lock();
        s.current = s.pos;
        s.pos += 1;
    }

    /// Records a mismatch at the event being done; always an error, to unwind the replay.
    fn mismatch(&self, what: String, engines_differ: bool) -> anyhow::Error {
        let mut s = self.lock();
        let call = s.calls.last().copied().or(s.last_call);
        if s.mismatch.is_none() {
            s.mismatch = Some(Mismatch { at: s.current, what: what.clone(), call, engines_differ });
        }
        anyhow::anyhow!("replay mismatch: {what}")
    }

    fn object(&self, id: u32) -> anyhow::Result<Extern> {
        self.lock().objects.get(&id).cloned().ok_or_else(|| anyhow::anyhow!("unknown object #{id}"))
    }

    fn memory(&self, id: u32) -> anyhow::Result<Memory> {
        self.object(id)?.into_memory().ok_or_else(|| anyhow::anyhow!("#{id} is not a memory"))
    }
}

/// A core value as recorded (references as numbers or null).
pub fn raw(v: &Val) -> Raw {
    match v {
        Val::I32(x) => Raw::I32(*x),
        Val::I64(x) => Raw::I64(*x),
        Val::F32(x) => Raw::F32(x.to_bits()),
        Val::F64(x) => Raw::F64(x.to_bits()),
        Val::V128(x) => Raw::V128(*x),
        Val::FuncRef(f) => Raw::FuncRef(f.as_ref().map(|_| 0)),
        Val::ExternRef(r) => Raw::ExternRef(r.is_some()),
    }
}

/// A value for a recorded one (references as null: the runtime passes none).
pub fn val(r: &Raw) -> Val {
    match r {
        Raw::I32(x) => Val::I32(*x),
        Raw::I64(x) => Val::I64(*x),
        Raw::F32(b) => Val::F32(f32::from_bits(*b)),
        Raw::F64(b) => Val::F64(f64::from_bits(*b)),
        Raw::V128(x) => Val::V128(*x),
        Raw::FuncRef(_) => Val::FuncRef(None),
        Raw::ExternRef(_) => Val::ExternRef(None),
    }
}

/// A zero of a type, for result slots.
pub fn zero(t: &ValType) -> Val {
    match t {
        ValType::I32 => Val::I32(0),
        ValType::I64 => Val::I64(0),
        ValType::F32 => Val::F32(0.0),
        ValType::F64 => Val::F64(0.0),
        ValType::V128 => Val::V128(0),
        ValType::FuncRef => Val::FuncRef(None),
        ValType::ExternRef => Val::ExternRef(None),
    }
}

fn same(a: &[Raw], b: &[Raw]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
}

/// A call's results as text.
pub fn results_text(r: &Result<Vec<Raw>, String>) -> String {
    match r {
        Ok(v) => format!("({})", v.iter().map(Raw::wast).collect::<Vec<_>>().join(") (")),
        Err(e) => format!("trap ({})", e.lines().next().unwrap_or("")),
    }
}

/// Replays `events` on `backend`; with `stop_at` (the index of a top-level [`Event::Call`]), stops just before
/// that event and returns the state of `watch` (memories and globals by number) then.
pub fn replay<E: WasmEngine>(
    backend: E,
    events: Arc<Vec<Event>>,
    stop_at: Option<usize>,
    watch: &[Ext],
) -> Result<Replayed, Mismatch> {
    let engine = Engine::new(backend);
    let shared = Shared(Arc::new(Mutex::new(State {
        events,
        pos: 0,
        objects: HashMap::new(),
        modules: HashMap::new(),
        instances: HashMap::new(),
        mismatch: None,
        calls: Vec::new(),
        last_call: None,
        current: 0,
    })));
    let mut stores: HashMap<u32, Store<(), E>> = HashMap::new();
    let mut object_store: HashMap<u32, u32> = HashMap::new();
    let mut current = 0u32;
    let fail = |shared: &Shared| {
        let s = shared.lock();
        s.mismatch.clone().unwrap_or(Mismatch {
            at: s.pos,
            what: "the replay stopped".into(),
            call: None,
            engines_differ: false,
        })
    };
    while let Some((at, event)) = shared.event() {
        if stop_at == Some(at) {
            let store = stores.get_mut(&current).ok_or_else(|| fail(&shared))?;
            return Ok(Replayed::Stopped(snapshot(&shared, store, watch)));
        }
        let store_of = |e: &Event, object_store: &HashMap<u32, u32>| -> Option<u32> {
            match e {
                Event::Store { store }
                | Event::HostFunc { store, .. }
                | Event::NewMemory { store, .. }
                | Event::NewGlobal { store, .. }
                | Event::NewTable { store, .. }
                | Event::Instance { store, .. }
                | Event::Export { store, .. }
                | Event::Call { store, .. } => Some(*store),
                Event::Read { memory, .. }
                | Event::Write { memory, .. }
                | Event::Grow { memory, .. }
                | Event::Size { memory, .. } => object_store.get(memory).copied(),
                Event::GlobalGet { global, .. } | Event::GlobalSet { global, .. } => object_store.get(global).copied(),
                _ => None,
            }
        };
        match &event {
            Event::Store { store } => {
                stores.insert(*store, Store::new(&engine, ()));
                current = *store;
                shared.advance();
                continue;
            }
            Event::Module { module, bytes } => {
                let m = Module::new(&engine, bytes)
                    .map_err(|e| shared_mismatch(&shared, format!("module #{module} does not compile: {e}")))?;
                shared.lock().modules.insert(*module, m);
                shared.advance();
                continue;
            }
            _ => {}
        }
        let sid = store_of(&event, &object_store).unwrap_or(current);
        current = sid;
        let store = stores.get_mut(&sid).ok_or_else(|| fail(&shared))?;
        match &event {
            Event::HostFunc { func, .. }
            | Event::NewMemory { memory: func, .. }
            | Event::NewGlobal { global: func, .. }
            | Event::NewTable { table: func, .. } => {
                object_store.insert(*func, sid);
            }
            Event::Export { ext, .. } => {
                let id = match ext {
                    Ext::Func(n) | Ext::Memory(n) | Ext::Global(n) | Ext::Table(n) => *n,
                };
                object_store.insert(id, sid);
            }
            _ => {}
        }
        if step(&shared, store.as_context_mut(), false).is_err() {
            return Err(fail(&shared));
        }
    }
    let mismatch = shared.lock().mismatch.clone();
    match mismatch {
        Some(m) => Err(m),
        None => Ok(Replayed::Faithful),
    }
}

fn shared_mismatch(shared: &Shared, what: String) -> Mismatch {
    let _ = shared.mismatch(what, false);
    shared.lock().mismatch.clone().unwrap_or(Mismatch { at: 0, what: String::new(), call: None, engines_differ: false })
}

/// The state of `watch` now.
fn snapshot<E: WasmEngine>(shared: &Shared, store: &mut Store<(), E>, watch: &[Ext]) -> Snapshot {
    let mut snap = Snapshot::default();
    for ext in watch {
        match ext {
            Ext::Memory(n) => {
                if let Ok(m) = shared.memory(*n) {
                    let len = m.current_pages(&*store) as usize * 65536;
                    let mut bytes = vec![0u8; len];
                    if m.read(&*store, 0, &mut bytes).is_ok() {
                        snap.memories.insert(*n, bytes);
                    }
                }
            }
            Ext::Global(n) => {
                if let Some(g) = shared.object(*n).ok().and_then(Extern::into_global) {
                    snap.globals.insert(*n, raw(&g.get(&mut *store)));
                }
            }
            Ext::Func(_) | Ext::Table(_) => {}
        }
    }
    snap
}

/// What one step of the replay ended with.
enum Stepped {
    /// The event was done.
    Done,
    /// The host function being replayed returns (or fails) now.
    Exit(Result<Vec<Raw>, String>),
}

/// Does the event at the cursor with `ctx`.
fn step<E: WasmEngine>(shared: &Shared, mut ctx: StoreContextMut<'_, (), E>, in_host: bool) -> anyhow::Result<Stepped> {
    let Some((at, event)) = shared.event() else { return Err(shared.mismatch("the trace ended early".into(), false)) };
    shared.advance();
    match event {
        Event::HostExit { results } if in_host => return Ok(Stepped::Exit(results)),
        Event::HostFunc { func, ty, .. } => {
            let host = shared.clone();
            let f = Func::new(&mut ctx, ty, move |ctx, args, results| replay_host(&host, func, ctx, args, results));
            shared.lock().objects.insert(func, Extern::Func(f));
        }
        Event::NewMemory { memory, ty, .. } => {
            let m = Memory::new(&mut ctx, ty).map_err(|e| shared.mismatch(format!("memory: {e}"), false))?;
            shared.lock().objects.insert(memory, Extern::Memory(m));
        }
        Event::NewGlobal { global, value, mutable, .. } => {
            let g = wasm_runtime_layer::Global::new(&mut ctx, val(&value), mutable);
            shared.lock().objects.insert(global, Extern::Global(g));
        }
        Event::NewTable { table, ty, .. } => {
            let init = wasm_runtime_layer::Ref::FuncRef(None);
            let t = wasm_runtime_layer::Table::new(&mut ctx, ty, init)
                .map_err(|e| shared.mismatch(format!("table: {e}"), false))?;
            shared.lock().objects.insert(table, Extern::Table(t));
        }
        Event::Instance { instance, module, imports, ok, .. } => {
            let mut defs = Imports::new();
            for (ns, name, ext) in &imports {
                let id = match ext {
                    Ext::Func(n) | Ext::Memory(n) | Ext::Global(n) | Ext::Table(n) => *n,
                };
                defs.define(ns, name, shared.object(id)?);
            }
            let m = shared.lock().modules.get(&module).cloned().ok_or_else(|| anyhow::anyhow!("no module"))?;
            match (Instance::new(&mut ctx, &m, &defs), ok) {
                (Ok(i), true) => {
                    shared.lock().instances.insert(instance, i);
                }
                (Err(_), false) => {}
                (Ok(_), false) => {
                    return Err(shared
                        .mismatch(format!("instance #{instance} of module #{module} instantiates, but did not"), true))
                }
                (Err(e), true) => {
                    return Err(shared.mismatch(format!("instance #{instance} of module #{module} fails: {e}"), true))
                }
            }
        }
        Event::Export { instance, name, ext, .. } => {
            let inst = shared.lock().instances.get(&instance).cloned().ok_or_else(|| anyhow::anyhow!("no instance"))?;
            let e =
                inst.get_export(&ctx, &name).ok_or_else(|| shared.mismatch(format!("no export `{name}`"), false))?;
            let id = match ext {
                Ext::Func(n) | Ext::Memory(n) | Ext::Global(n) | Ext::Table(n) => n,
            };
            shared.lock().objects.insert(id, e);
        }
        Event::Call { func, args, .. } => call(shared, ctx, at, func, &args)?,
        Event::Read { memory, offset, bytes } => {
            let m = shared.memory(memory)?;
            let want = bytes.as_ref().map(Vec::len).unwrap_or(0);
            let mut buf = vec![0u8; want];
            let got = m.read(&ctx, offset, &mut buf);
            match (got, &bytes) {
                (Ok(()), Ok(b)) if buf == *b => {}
                (Err(_), Err(_)) => {}
                (Ok(()), Ok(b)) => {
                    let first = buf.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
                    return Err(shared.mismatch(
                        format!(
                            "memory #{memory} at {:#x} reads {:02x?}, recorded {:02x?}",
                            offset + first,
                            &buf[first..(first + 8).min(buf.len())],
                            &b[first..(first + 8).min(b.len())]
                        ),
                        true,
                    ));
                }
                (got, _) => {
                    return Err(shared.mismatch(format!("memory #{memory} read at {offset:#x}: {}", got.is_ok()), true))
                }
            }
        }
        Event::Write { memory, offset, bytes, ok } => {
            let m = shared.memory(memory)?;
            if m.write(&mut ctx, offset, &bytes).is_ok() != ok {
                return Err(shared.mismatch(format!("memory #{memory} write at {offset:#x}"), true));
            }
        }
        Event::Grow { memory, delta, result } => {
            let m = shared.memory(memory)?;
            let got = m.grow(&mut ctx, delta).map_err(|e| e.to_string());
            if got.as_ref().ok() != result.as_ref().ok() {
                return Err(
                    shared.mismatch(format!("memory #{memory} grow by {delta}: {got:?}, recorded {result:?}"), true)
                );
            }
        }
        Event::Size { memory, pages } => {
            let m = shared.memory(memory)?;
            let now = m.current_pages(&ctx);
            if now != pages {
                return Err(shared.mismatch(format!("memory #{memory} has {now} pages, recorded {pages}"), true));
            }
        }
        Event::GlobalGet { global, value } => {
            let g = shared.object(global)?.into_global().ok_or_else(|| anyhow::anyhow!("not a global"))?;
            let now = raw(&g.get(&mut ctx));
            if !now.same(&value) {
                return Err(
                    shared.mismatch(format!("global #{global} is {}, recorded {}", now.wast(), value.wast()), true)
                );
            }
        }
        Event::GlobalSet { global, value, .. } => {
            let g = shared.object(global)?.into_global().ok_or_else(|| anyhow::anyhow!("not a global"))?;
            let _ = g.set(&mut ctx, val(&value));
        }
        Event::TableOp { .. } => {}
        other => return Err(shared.mismatch(format!("out of step at {other:?}"), false)),
    }
    Ok(Stepped::Done)
}

/// Replays call event `at` of `func` with `args`, and checks its [`Event::Return`].
fn call<E: WasmEngine>(
    shared: &Shared,
    mut ctx: StoreContextMut<'_, (), E>,
    at: usize,
    func: u32,
    args: &[Raw],
) -> anyhow::Result<()> {
    let f = shared.object(func)?.into_func().ok_or_else(|| anyhow::anyhow!("#{func} is not a function"))?;
    let ty = f.ty(&ctx);
    let args: Vec<Val> = args.iter().map(val).collect();
    let mut results: Vec<Val> = ty.results().iter().map(zero).collect();
    shared.lock().calls.push(at);
    let out = f.call(&mut ctx, &args, &mut results);
    {
        let mut s = shared.lock();
        s.calls.pop();
        s.last_call = Some(at);
        if s.mismatch.is_some() {
            drop(s);
            return Err(anyhow::anyhow!("replay mismatch below"));
        }
    }
    let got: Result<Vec<Raw>, String> = match &out {
        Ok(()) => Ok(results.iter().map(raw).collect()),
        Err(e) => Err(format!("{e:#}")),
    };
    let Some((_, Event::Return { results: recorded })) = shared.event() else {
        return Err(shared.mismatch("a call without its return in the trace".into(), false));
    };
    let agree = match (&got, &recorded) {
        (Ok(a), Ok(b)) => same(a, b),
        (Err(_), Err(_)) => true,
        _ => false,
    };
    if !agree {
        {
            let mut s = shared.lock();
            s.current = s.pos;
            s.calls.push(at);
        }
        let e = shared
            .mismatch(format!("the call returns {}, recorded {}", results_text(&got), results_text(&recorded)), true);
        shared.lock().calls.pop();
        return Err(e);
    }
    shared.advance();
    Ok(())
}

/// A host function of the replay: checks it is entered as recorded, does what the runtime did inside it, and
/// returns what it returned.
fn replay_host<E: WasmEngine>(
    shared: &Shared,
    func: u32,
    mut ctx: StoreContextMut<'_, (), E>,
    args: &[Val],
    results: &mut [Val],
) -> anyhow::Result<()> {
    let got: Vec<Raw> = args.iter().map(raw).collect();
    {
        let mut s = shared.lock();
        s.current = s.pos;
    }
    match shared.event() {
        Some((_, Event::HostEnter { func: f, args: recorded })) if f == func && same(&got, &recorded) => {}
        Some((_, Event::HostEnter { func: f, args: recorded })) if f == func => {
            let show = |v: &[Raw]| v.iter().map(Raw::wast).collect::<Vec<_>>().join(", ");
            return Err(shared.mismatch(
                format!("host function #{func} is called with ({}), recorded ({})", show(&got), show(&recorded)),
                true,
            ));
        }
        Some((_, other)) => {
            return Err(shared.mismatch(format!("host function #{func} is called where the trace has {other:?}"), true))
        }
        None => return Err(shared.mismatch("the trace ended early".into(), false)),
    }
    shared.advance();
    loop {
        match step(shared, ctx.as_context_mut(), true)? {
            Stepped::Done => {}
            Stepped::Exit(Ok(vals)) => {
                for (slot, v) in results.iter_mut().zip(&vals) {
                    *slot = val(v);
                }
                return Ok(());
            }
            Stepped::Exit(Err(e)) => return Err(anyhow::anyhow!("{e}")),
        }
    }
}
