//! What answers a component's imports: the [`Host`] an instance is created with.
//!
//! * [`HostKind::Wast`] — the synchronous part of wasmtime's `link_component_spectest` environment, which the
//!   upstream `.wast` files expect, defined the same way on every engine (see below), plus the instances that
//!   earlier named components registered;
//! * [`HostKind::Case`] — a generated case's host imports ([`CaseHost`]): each answers as its
//!   [`HostBehaviour`] says, host resource types are dynamic types whose destructors log `[dtor]<name>(rep)`;
//! * [`HostKind::Generic`] — every import answered by one deterministic, recording host seeded by a number
//!   ([`component_layer::generic`] on component-layer, its exact twin on wasmtime): what `check` uses for
//!   components nobody wrote a host for.
//!
//! The behaviours are engine-neutral ([`CaseState::answer`]): every engine's host functions convert their
//! arguments to neutral values (host resources become their representation), ask the case state for the
//! answer and log the call, so every engine sees the same host. [`Host::fault`] lets the self-test's proxies make
//! the host boundary wrong on purpose.
//!
//! The wast environment: root `host-return-two: func() -> u32` (2); instance `host`: `return-three` (3),
//! `nested` → `return-four` (4), `return-hi` ("hi"), the core module `simple-module` (global `g` = 100, func `f` →
//! 101); host resources `resource1` (destructor counts drops and remembers the last rep), `resource1-again` (the
//! same type) and `resource2`, with `[constructor]resource1(rep)`, `[static]resource1.assert(own, rep)`,
//! `[static]resource1.last-drop`, `[static]resource1.drops`, `[method]resource1.simple(self, rep)`,
//! `[method]resource1.take-borrow(self, borrow)` and `[method]resource1.take-own(self, own)`. The async
//! functions of wasmtime's environment are not defined: components that import them need async and are skipped.
//! Where wasmtime's environment panics on a failed assertion, this one returns an error (a trap).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{bail, ensure};
use component_gen::ty::Ty;
use component_gen::{Case, HostBehaviour, HostImport};
use component_layer::types::{FuncType, ValueType};
use component_layer::{Linker, ResourceAny, ResourceType, Value};
use serde::{Deserialize, Serialize};
use wasm_runtime_layer::backend::WasmEngine;

use super::ImportCall;

/// How an instance's imports are answered.
#[derive(Clone, Debug)]
pub struct Host {
    /// Who answers.
    pub kind: HostKind,
    /// Whether imports the host does not define are trapping stubs (`define_unknown_imports_as_traps`) rather
    /// than link errors.
    pub stub_unknown: bool,
    /// A fault at the host boundary, made on purpose by the self-test (only [`HostKind::Case`] hosts have them).
    pub fault: Option<HostFault>,
}

/// Who answers an instance's imports.
#[derive(Clone, Debug)]
pub enum HostKind {
    /// Nothing: every import is a link error (or a trapping stub).
    None,
    /// The `.wast` environment, and the instances registered so far.
    Wast,
    /// A generated case's host.
    Case(Arc<CaseHost>),
    /// The generic recording host with this seed.
    Generic {
        /// The seed of every answer.
        seed: u64,
    },
}

impl Host {
    /// The `.wast` environment.
    pub fn wast() -> Host {
        Host { kind: HostKind::Wast, stub_unknown: false, fault: None }
    }

    /// A generated case's host.
    pub fn case(case: &Case) -> Host {
        Host { kind: HostKind::Case(Arc::new(CaseHost::of(case))), stub_unknown: case.stub_imports, fault: None }
    }

    /// The generic recording host.
    pub fn generic(seed: u64) -> Host {
        Host { kind: HostKind::Generic { seed }, stub_unknown: false, fault: None }
    }

    /// No host; with `stub_unknown`, every import is a trapping stub.
    pub fn stubs() -> Host {
        Host { kind: HostKind::None, stub_unknown: true, fault: None }
    }
}

/// A fault at the host boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HostFault {
    /// The first argument of the first import call of every export call reaches the host altered.
    AlterArgument,
    /// The first import call of every export call never reaches the host: it is not logged, and the guest
    /// receives what the host would have answered.
    DropCall,
}

/// The host of a generated case: its imports with their behaviours, and its host resource types.
#[derive(Clone, Debug)]
pub struct CaseHost {
    /// The imported functions (at the component's root).
    pub imports: Vec<HostImport>,
    /// The host resource types: (the index of the dynamic host type, its import name).
    pub resources: Vec<(u32, String)>,
    /// Whether the imports are `async func`s (the async tier): engines define them as async host functions,
    /// which answer [`HostBehaviour::ReturnQueuedLater`] after yielding once ([`YieldOnce`]).
    pub asynchronous: bool,
}

impl CaseHost {
    /// The host of `case`.
    pub fn of(case: &Case) -> CaseHost {
        let resources = case
            .set
            .resources
            .iter()
            .enumerate()
            .filter(|(_, d)| d.host)
            .map(|(i, d)| (i as u32, d.name.clone()))
            .collect();
        CaseHost { imports: case.imports.clone(), resources, asynchronous: case.tier.uses_async_abi() }
    }

    /// The name of host resource type `ty`.
    pub fn resource_name(&self, ty: u32) -> Option<&str> {
        self.resources.iter().find(|(i, _)| *i == ty).map(|(_, n)| n.as_str())
    }

    /// The name under which the destructor of host resource type `ty` is logged.
    pub fn dtor_name(&self, ty: u32) -> String {
        format!("[dtor]{}", self.resource_name(ty).unwrap_or("?"))
    }
}

/// The host resource type (index, owned) of a host-resource handle type, if `ty` is one.
pub fn host_resource(ty: &Ty) -> Option<(u32, bool)> {
    match ty {
        Ty::Own(r) => Some((*r as u32, true)),
        Ty::Borrow(r) => Some((*r as u32, false)),
        _ => None,
    }
}

/// What a case-host function does.
pub enum Answer {
    /// Return this (a `u32` for an `own` of a host resource type is the representation of a new handle).
    Return(Option<Value>),
    /// Call export `export` of the same instance with the same arguments and return what it returns.
    Reenter(String),
}

/// The mutable state of the case hosts of one engine: the values queued for the current call, the log, and
/// where the current call stands for [`HostFault`]s.
#[derive(Default)]
pub struct CaseState {
    queue: VecDeque<Value>,
    log: Vec<ImportCall>,
    /// Import calls since the current export call began.
    calls_in_this_call: usize,
}

/// The case state shared by an engine and its host functions.
#[derive(Clone, Default)]
pub struct SharedState(Arc<Mutex<CaseState>>);

impl SharedState {
    /// Locks the state. A host function that panicked cannot leave it half-updated in a way that matters (every
    /// call starts with [`SharedState::begin_call`]), so a poisoned lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, CaseState> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Prepares for an export call: its queued return values.
    pub fn begin_call(&self, host_returns: &[Value]) {
        let mut st = self.lock();
        st.queue = host_returns.iter().cloned().collect();
        st.calls_in_this_call = 0;
    }

    /// The calls logged so far, emptying the log.
    pub fn take_log(&self) -> Vec<ImportCall> {
        std::mem::take(&mut self.lock().log)
    }

    /// Logs a call that did not go through [`CaseState::answer`] (a destructor, the generic host).
    pub fn log(&self, call: ImportCall) {
        self.lock().log.push(call);
    }
}

impl CaseState {
    /// Answers a call of `imp` with (neutral) `args`, as its behaviour says, and logs it; `fault` may change
    /// what reaches the host.
    pub fn answer(
        &mut self,
        imp: &HostImport,
        mut args: Vec<Value>,
        fault: Option<HostFault>,
    ) -> anyhow::Result<Answer> {
        let first = self.calls_in_this_call == 0;
        self.calls_in_this_call += 1;
        if first && fault == Some(HostFault::AlterArgument) {
            if let Some(a) = args.first_mut() {
                alter(a);
            }
        }
        let logged = !(first && fault == Some(HostFault::DropCall));
        let name = imp.name.clone();
        let result: anyhow::Result<Answer> = match &imp.behaviour {
            HostBehaviour::ReturnQueued | HostBehaviour::ReturnQueuedLater => {
                Ok(Answer::Return(self.queue.pop_front()))
            }
            // A stream or future import's engine host hands over the values it read (or is to write) as the
            // argument.
            HostBehaviour::EchoFirst
            | HostBehaviour::ReadStream
            | HostBehaviour::WriteStream
            | HostBehaviour::ReadFuture
            | HostBehaviour::WriteFuture => Ok(Answer::Return(args.first().cloned())),
            HostBehaviour::Trap => Err(anyhow::Error::new(HostFailure(format!("host import `{name}` traps")))),
            HostBehaviour::Reenter(export) => Ok(Answer::Reenter(export.clone())),
            HostBehaviour::Hash => match &imp.sig.result {
                None => Ok(Answer::Return(None)),
                Some(ty) => {
                    component_gen::values::hash_answer(&args, ty).map(|v| Answer::Return(Some(v))).ok_or_else(|| {
                        anyhow::Error::new(HostFailure(format!("host import `{name}` cannot hash into {ty:?}")))
                    })
                }
            },
        };
        if logged {
            let logged_result = match &result {
                Ok(Answer::Return(v)) => Ok(v.clone()),
                Ok(Answer::Reenter(e)) => Ok(Some(Value::String(format!("<reenters {e}>")))),
                Err(e) => Err(e.to_string()),
            };
            self.log.push(ImportCall { name, args, result: logged_result });
        }
        result
    }
}

/// Changes a value in a way that keeps its type: the first scalar found is changed.
pub fn alter(v: &mut Value) -> bool {
    match v {
        Value::Bool(b) => *b = !*b,
        Value::S8(x) => *x = x.wrapping_add(1),
        Value::U8(x) => *x = x.wrapping_add(1),
        Value::S16(x) => *x = x.wrapping_add(1),
        Value::U16(x) => *x = x.wrapping_add(1),
        Value::S32(x) => *x = x.wrapping_add(1),
        Value::U32(x) => *x = x.wrapping_add(1),
        Value::S64(x) => *x = x.wrapping_add(1),
        Value::U64(x) => *x = x.wrapping_add(1),
        Value::F32(x) => *x = f32::from_bits(x.to_bits() ^ 1),
        Value::F64(x) => *x = f64::from_bits(x.to_bits() ^ 1),
        Value::Char(c) => *c = if *c == 'a' { 'b' } else { 'a' },
        Value::String(s) => s.push('!'),
        Value::List(l) => {
            let mut items: Vec<Value> = l.iter().collect();
            if items.iter_mut().any(alter) {
                *l = component_layer::List::Values(items);
            } else {
                return false;
            }
        }
        Value::Record(fs) => return fs.iter_mut().any(|(_, x)| alter(x)),
        Value::Tuple(xs) => return xs.iter_mut().any(alter),
        Value::Variant(_, Some(p)) | Value::Option(Some(p)) | Value::Result(Ok(Some(p)) | Err(Some(p))) => {
            return alter(p)
        }
        _ => return false,
    }
    true
}

/// The error a case-host function fails with: engines recognise it to classify the trap as a host failure.
#[derive(Debug)]
pub struct HostFailure(pub String);

impl std::fmt::Display for HostFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostFailure {}

const SIMPLE_MODULE: &str = r#"
    (module
        (global (export "g") i32 i32.const 100)
        (func (export "f") (result i32) i32.const 101)
    )
"#;

/// Marker type of the `resource1` host resource.
pub struct Resource1;
/// Marker type of the `resource2` host resource.
pub struct Resource2;

#[derive(Default)]
struct DropState {
    drops: AtomicU32,
    last_drop: AtomicU32,
}

fn ty(params: &[ValueType], result: Option<ValueType>) -> FuncType {
    FuncType::new(params.iter().enumerate().map(|(i, t)| (format!("p{i}"), t.clone())), result)
}

/// Defines the `.wast` environment in a component-layer linker.
pub fn define_wast_layer<E: WasmEngine>(
    linker: &mut Linker<(), E>,
    engine: &component_layer::Engine<E>,
) -> anyhow::Result<()> {
    linker.root().func_wrap("host-return-two", |_, (): ()| Ok((2u32,)))?;
    let host = linker.instance("host")?;
    host.func_wrap("return-three", |_, (): ()| Ok((3u32,)))?;
    host.instance("nested")?.func_wrap("return-four", |_, (): ()| Ok((4u32,)))?;
    host.func_wrap("return-hi", |_, (): ()| Ok(("hi".to_string(),)))?;
    let module = component_layer::Module::new(engine, &wat::parse_str(SIMPLE_MODULE)?)?;
    host.module("simple-module", &module)?;

    let state = Arc::new(DropState::default());
    let r1 = ResourceType::host::<Resource1>();
    let r2 = ResourceType::host::<Resource2>();
    {
        let state = state.clone();
        host.resource("resource1", r1.clone(), move |_, rep| {
            state.drops.fetch_add(1, SeqCst);
            state.last_drop.store(rep, SeqCst);
            Ok(())
        })?;
    }
    host.resource("resource2", r2, |_, _| Ok(()))?;
    host.resource("resource1-again", r1.clone(), |_, _| bail!("resource1-again should not be destroyed"))?;

    let own = ValueType::Own(r1.clone());
    let borrow = ValueType::Borrow(r1.clone());
    {
        let r1 = r1.clone();
        host.func_new_typed("[constructor]resource1", ty(&[ValueType::U32], Some(own.clone())), move |ctx, p, r| {
            let Value::U32(rep) = p[0] else { bail!("expected u32") };
            r[0] = Value::Resource(ResourceAny::new_own(ctx, r1.clone(), rep)?);
            Ok(())
        })?;
    }
    host.func_new_typed("[static]resource1.assert", ty(&[own.clone(), ValueType::U32], None), |mut ctx, p, _| {
        let (Value::Resource(res), Value::U32(rep)) = (&p[0], &p[1]) else { bail!("bad arguments") };
        ensure!(res.rep(&mut ctx)? == *rep, "resource1.assert: wrong rep");
        Ok(())
    })?;
    {
        let state = state.clone();
        host.func_new_typed("[static]resource1.last-drop", ty(&[], Some(ValueType::U32)), move |_, _, r| {
            r[0] = Value::U32(state.last_drop.load(SeqCst));
            Ok(())
        })?;
    }
    {
        let state = state.clone();
        host.func_new_typed("[static]resource1.drops", ty(&[], Some(ValueType::U32)), move |_, _, r| {
            r[0] = Value::U32(state.drops.load(SeqCst));
            Ok(())
        })?;
    }
    host.func_new_typed("[method]resource1.simple", ty(&[borrow.clone(), ValueType::U32], None), |mut ctx, p, _| {
        let (Value::Resource(res), Value::U32(rep)) = (&p[0], &p[1]) else { bail!("bad arguments") };
        ensure!(!res.owned(), "resource1.simple: expected a borrow");
        ensure!(res.rep(&mut ctx)? == *rep, "resource1.simple: wrong rep");
        Ok(())
    })?;
    host.func_new_typed("[method]resource1.take-borrow", ty(&[borrow.clone(), borrow.clone()], None), |_, p, _| {
        let (Value::Resource(a), Value::Resource(b)) = (&p[0], &p[1]) else { bail!("bad arguments") };
        ensure!(!a.owned() && !b.owned(), "take-borrow: expected borrows");
        Ok(())
    })?;
    host.func_new_typed("[method]resource1.take-own", ty(&[borrow, own], None), |_, p, _| {
        let (Value::Resource(a), Value::Resource(b)) = (&p[0], &p[1]) else { bail!("bad arguments") };
        ensure!(!a.owned() && b.owned(), "take-own: expected a borrow and an own");
        Ok(())
    })?;
    define_wast_async_layer(linker)
}

/// The async host functions of wasmtime's `.wast` environment (`link_component_spectest`): one that returns at
/// once, two that return after yielding once to the executor, and two that never return (the files cancel them).
fn define_wast_async_layer<E: WasmEngine>(linker: &mut Linker<(), E>) -> anyhow::Result<()> {
    linker.root().func_wrap_async("host-echo-u32", |_, (v,): (u32,)| async move { Ok((v,)) })?;
    let host = linker.instance("host")?;
    host.func_wrap_async("return-two-slowly", |_, (): ()| async {
        YieldOnce::default().await;
        Ok((2i32,))
    })?;
    host.func_wrap_async("echo-slowly", |_, (v,): (u32,)| async move {
        YieldOnce::default().await;
        Ok((v,))
    })?;
    host.func_new_async("never-return", |_, _| std::future::pending())?;
    host.func_new_async("[method]resource1.never-return", |_, _| std::future::pending())?;
    Ok(())
}

/// A future that is pending once (waking its task at once) and then ready: a host function that yields to the
/// executor before it returns, as wasmtime's `tokio::task::yield_now` does in its `.wast` environment.
#[derive(Default)]
pub struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// Defines the `.wast` environment in a wasmtime linker.
pub fn define_wast_native(
    linker: &mut wasmtime::component::Linker<()>,
    engine: &wasmtime::Engine,
) -> wasmtime::Result<()> {
    use wasmtime::component::{Resource, ResourceType};
    linker.root().func_wrap("host-return-two", |_, (): ()| Ok((2u32,)))?;
    let mut host = linker.instance("host")?;
    host.func_wrap("return-three", |_, (): ()| Ok((3u32,)))?;
    host.instance("nested")?.func_wrap("return-four", |_, (): ()| Ok((4u32,)))?;
    host.func_wrap("return-hi", |_, (): ()| Ok(("hi".to_string(),)))?;
    let module = wasmtime::Module::new(engine, SIMPLE_MODULE)?;
    host.module("simple-module", &module)?;

    let state = Arc::new(DropState::default());
    {
        let state = state.clone();
        host.resource("resource1", ResourceType::host::<Resource1>(), move |_, rep| {
            state.drops.fetch_add(1, SeqCst);
            state.last_drop.store(rep, SeqCst);
            Ok(())
        })?;
    }
    host.resource("resource2", ResourceType::host::<Resource2>(), |_, _| Ok(()))?;
    host.resource("resource1-again", ResourceType::host::<Resource1>(), |_, _| {
        wasmtime::bail!("resource1-again should not be destroyed")
    })?;
    host.func_wrap("[constructor]resource1", |_, (rep,): (u32,)| Ok((Resource::<Resource1>::new_own(rep),)))?;
    host.func_wrap("[static]resource1.assert", |_, (res, rep): (Resource<Resource1>, u32)| {
        if res.rep() != rep {
            wasmtime::bail!("resource1.assert: wrong rep");
        }
        Ok(())
    })?;
    {
        let state = state.clone();
        host.func_wrap("[static]resource1.last-drop", move |_, (): ()| Ok((state.last_drop.load(SeqCst),)))?;
    }
    host.func_wrap("[static]resource1.drops", move |_, (): ()| Ok((state.drops.load(SeqCst),)))?;
    host.func_wrap("[method]resource1.simple", |_, (res, rep): (Resource<Resource1>, u32)| {
        if res.owned() || res.rep() != rep {
            wasmtime::bail!("resource1.simple: bad resource");
        }
        Ok(())
    })?;
    host.func_wrap("[method]resource1.take-borrow", |_, (a, b): (Resource<Resource1>, Resource<Resource1>)| {
        if a.owned() || b.owned() {
            wasmtime::bail!("take-borrow: expected borrows");
        }
        Ok(())
    })?;
    host.func_wrap("[method]resource1.take-own", |_, (a, b): (Resource<Resource1>, Resource<Resource1>)| {
        if a.owned() || !b.owned() {
            wasmtime::bail!("take-own: expected a borrow and an own");
        }
        Ok(())
    })?;
    define_wast_async_native(linker)
}

/// [`define_wast_async_layer`]'s functions on wasmtime, and its `wasmtime` instance of store knobs
/// (`register_wasmtime`): component-layer has no store-wide table capacity, so a file importing `wasmtime` runs
/// on wasmtime alone.
fn define_wast_async_native(linker: &mut wasmtime::component::Linker<()>) -> wasmtime::Result<()> {
    use wasmtime::component::Resource;
    linker.root().func_wrap_concurrent("host-echo-u32", |_, (v,): (u32,)| Box::pin(async move { Ok((v,)) }))?;
    let mut host = linker.instance("host")?;
    host.func_wrap_concurrent("return-two-slowly", |_, (): ()| {
        Box::pin(async {
            YieldOnce::default().await;
            Ok((2i32,))
        })
    })?;
    host.func_wrap_concurrent("echo-slowly", |_, (v,): (u32,)| {
        Box::pin(async move {
            YieldOnce::default().await;
            Ok((v,))
        })
    })?;
    host.func_wrap_concurrent("never-return", |_, (): ()| Box::pin(std::future::pending::<wasmtime::Result<()>>()))?;
    host.func_wrap_concurrent("[method]resource1.never-return", |_, (_,): (Resource<Resource1>,)| {
        Box::pin(std::future::pending::<wasmtime::Result<()>>())
    })?;
    let mut knobs = linker.instance("wasmtime")?;
    knobs.func_wrap("set-max-table-capacity", |mut store, (max,): (u32,)| {
        let table = store.concurrent_resource_table().ok_or_else(|| wasmtime::Error::msg("no concurrent table"))?;
        table.set_max_capacity(usize::try_from(max)?);
        Ok(())
    })?;
    Ok(())
}
