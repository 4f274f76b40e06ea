//! Running a generated case's calls on one engine.
//!
//! An [`Executor`] compiles a case's component once, defines its host imports (which record the arguments they
//! receive and answer as the case says), and runs calls. Store discipline: an instance is reused while calls
//! succeed (every export's post-return resets the guest heap), and a fresh store and instance are made after any
//! failure — wasmtime poisons a store after a trap, and so does component-layer, so comparing engines call for
//! call needs the same discipline everywhere.
//!
//! Exports are looked up by path (`iface#f` is function `f` of the exported instance `iface`, see
//! [`component_gen::case::export_path`]). Cases with [`Case::stub_imports`] get every import the case does not
//! define as a trapping stub (`define_unknown_imports_as_traps`).
//!
//! Host resources of a case ([`component_gen::ty::ResourceDecl::host`]) are defined as dynamic host resource
//! types (payload = the resource's index in the case's type set) on every engine, with a destructor that logs a
//! host call `[dtor]<name>(rep)`, so destruction is compared like any import call. Handles cross the host
//! boundary as reps (see [`HostBehaviour`]): host imports see a resource argument as its rep, a `u32` answered
//! for an `own<R>` result becomes a new owning handle, and an export argument of type `own<R>`/`borrow<R>` given
//! as a `u32` becomes a new host handle with that rep. [`HostBehaviour::Reenter`] calls back into the current
//! instance, which each executor keeps in a slot shared with its host functions.
//!
//! Resources an export returns (an `own` of a guest resource) are kept by the index of the call that returned
//! them, until the instance ends, and passed to later calls where [`Call::held`] says so (moved out of the keep
//! for an `own` parameter, lent for a `borrow`). Handle values differ between engines, so a resource result is
//! reported as [`resource_token`] of the call that first returned that same resource (compared by identity
//! with what the executor still holds): engines that behave alike report equal tokens. A call of
//! [`HOST_DROP`] drops the held resource it names (`resource_drop`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use component_gen::case::{export_path, resource_token, HOST_DROP};
use component_gen::guest::Sig;
use component_gen::ty::Ty;
use component_gen::{Call, Case, HostBehaviour, HostImport};
use component_layer::Value;
use wasm_runtime_layer::backend::WasmEngine;

use crate::engines::layer::classify;
use crate::engines::native::{from_val, to_val};
use crate::engines::Failure;

/// What one call did.
#[derive(Clone, Debug, PartialEq)]
pub struct CallOutcome {
    /// The result, or the failure.
    pub result: Result<Option<Value>, Failure>,
    /// Host imports called, with the arguments they received.
    pub imports: Vec<(String, Vec<Value>)>,
}

/// Runs calls of one component on one engine.
pub trait Executor {
    /// The engine's name.
    fn name(&self) -> &'static str;
    /// Compiles the case's component and defines its host imports (and stubs for the others if the case asks
    /// for them).
    fn load(&mut self, case: &Case) -> Result<(), Failure>;
    /// Runs `call` as call `index` of its case's script: calls its export (a name or a `#`-separated path) with
    /// its arguments (and the resources earlier calls returned, see [`Call::held`]); its `host_returns` feed
    /// host imports that return queued values.
    fn call(&mut self, index: usize, call: &Call) -> CallOutcome;
}

/// The resources a call's results gave the host, by the index of the call (cleared with the instance).
struct Keep<R> {
    held: Vec<(usize, R)>,
}

impl<R: Clone + PartialEq> Keep<R> {
    fn new() -> Self {
        Keep { held: Vec::new() }
    }

    /// The resource `held` refers to: taken out of the keep if it is moved (`own`), else a copy.
    fn take(&mut self, held: component_gen::case::Held, moved: bool) -> Result<R, Failure> {
        let pos = self.held.iter().position(|(k, _)| *k == held.call).ok_or_else(|| {
            Failure::Unsupported(format!("argument {}: the host holds no resource from call {}", held.arg, held.call))
        })?;
        Ok(if moved { self.held.remove(pos).1 } else { self.held[pos].1.clone() })
    }

    /// Keeps resource `r` returned by call `index`, and its token: the call that first returned it, if the host
    /// still holds it, else `index`.
    fn keep(&mut self, index: usize, r: R) -> Value {
        if let Some((k, _)) = self.held.iter().find(|(_, x)| *x == r) {
            return resource_token(*k);
        }
        self.held.push((index, r));
        resource_token(index)
    }
}

/// Whether parameter `arg` of export `export` is an `own` (moved) rather than a `borrow`.
fn moved(exports: &[(String, Sig)], export: &str, arg: usize) -> bool {
    exports
        .iter()
        .find(|(n, _)| n == export)
        .and_then(|(_, sig)| sig.params.get(arg))
        .is_some_and(|(_, t)| matches!(t, Ty::Own(_)))
}

/// The state host imports share with the executor: the queue of values to return and the log of calls.
#[derive(Default)]
struct HostState {
    queue: VecDeque<Value>,
    log: Vec<(String, Vec<Value>)>,
}

impl HostState {
    /// Locks the shared state. A host function that panicked cannot leave it half-updated in a way that matters
    /// (every call starts with [`HostState::begin`]), so a poisoned lock is simply taken over.
    fn lock(state: &Mutex<HostState>) -> std::sync::MutexGuard<'_, HostState> {
        state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Prepares the host for `call`: its queued return values and an empty log.
    fn begin(state: &Mutex<HostState>, call: &Call) {
        let mut st = HostState::lock(state);
        st.queue = call.host_returns.iter().cloned().collect();
        st.log.clear();
    }

    /// The host calls logged since [`HostState::begin`].
    fn take_log(state: &Mutex<HostState>) -> Vec<(String, Vec<Value>)> {
        std::mem::take(&mut HostState::lock(state).log)
    }

    /// Answers a call of host import `imp` as its behaviour says.
    fn answer(&mut self, imp: &HostImport, args: &[Value]) -> anyhow::Result<Option<Value>> {
        let name = &imp.name;
        self.log.push((name.clone(), args.to_vec()));
        match &imp.behaviour {
            HostBehaviour::ReturnQueued => Ok(self.queue.pop_front()),
            HostBehaviour::EchoFirst => Ok(args.first().cloned()),
            HostBehaviour::Trap => anyhow::bail!("host import `{name}` traps"),
            HostBehaviour::Reenter(_) => anyhow::bail!("host import `{name}` reenters through its executor"),
            HostBehaviour::Hash => match &imp.sig.result {
                None => Ok(None),
                Some(ty) => component_gen::values::hash_answer(args, ty)
                    .map(Some)
                    .ok_or_else(|| anyhow::anyhow!("host import `{name}` cannot hash into a non-scalar result")),
            },
        }
    }
}

/// The resource a host-resource handle of type `ty` refers to: its index in the case's type set.
fn host_resource(ty: &Ty) -> Option<(usize, bool)> {
    match ty {
        Ty::Own(r) => Some((*r, true)),
        Ty::Borrow(r) => Some((*r, false)),
        _ => None,
    }
}

/// The host-resource parameters of export `export` of a case: (parameter position, resource, owned).
fn resource_params(exports: &[(String, Sig)], export: &str) -> Vec<(usize, usize, bool)> {
    exports
        .iter()
        .find(|(n, _)| n == export)
        .map(|(_, sig)| {
            sig.params.iter().enumerate().filter_map(|(i, (_, t))| host_resource(t).map(|(r, o)| (i, r, o))).collect()
        })
        .unwrap_or_default()
}

/// The name of host resource `r`'s destructor in the import log.
fn dtor_name(case: &Case, r: usize) -> String {
    format!("[dtor]{}", case.set.resources[r].name)
}

/// The executor of an engine by name.
pub fn executor(name: &str) -> Option<Box<dyn Executor>> {
    match name {
        "layer-wasmi" => Some(Box::new(LayerExecutor::new(
            "layer-wasmi",
            component_layer::Engine::new(wasmi_runtime_layer::Engine::default()),
        ))),
        "layer-wasmtime" => Some(Box::new(LayerExecutor::new(
            "layer-wasmtime",
            component_layer::Engine::new(wasmtime_runtime_layer::Engine::default()),
        ))),
        "wasmtime" => Some(Box::new(NativeExecutor::new())),
        _ => None,
    }
}

/// component-layer over a backend.
pub struct LayerExecutor<E: WasmEngine> {
    name: &'static str,
    engine: component_layer::Engine<E>,
    component: Option<component_layer::Component>,
    linker: component_layer::Linker<(), E>,
    state: Arc<Mutex<HostState>>,
    current: Option<(component_layer::Store<(), E>, component_layer::Instance)>,
    /// The current instance, for host functions that reenter it.
    instance: Arc<Mutex<Option<component_layer::Instance>>>,
    /// The case's exports (for their host-resource parameters).
    exports: Vec<(String, Sig)>,
    /// Resources returned by calls of the current instance.
    keep: Keep<component_layer::ResourceAny>,
}

impl<E: WasmEngine> LayerExecutor<E> {
    /// An executor over `engine`.
    pub fn new(name: &'static str, engine: component_layer::Engine<E>) -> Self {
        LayerExecutor {
            name,
            engine,
            component: None,
            linker: component_layer::Linker::new(),
            state: Arc::default(),
            current: None,
            instance: Arc::default(),
            exports: Vec::new(),
            keep: Keep::new(),
        }
    }
}

/// A host function of a component-layer executor.
fn layer_host_fn<E: WasmEngine>(
    imp: &HostImport,
    state: &Arc<Mutex<HostState>>,
    instance: &Arc<Mutex<Option<component_layer::Instance>>>,
    mut ctx: component_layer::StoreContextMut<'_, (), E>,
    args: &[Value],
    results: &mut [Value],
) -> anyhow::Result<()> {
    let mut plain = Vec::with_capacity(args.len());
    for a in args {
        plain.push(match a {
            Value::Resource(r) => Value::U32(r.rep(&mut ctx)?),
            v => v.clone(),
        });
    }
    let out = if let HostBehaviour::Reenter(export) = &imp.behaviour {
        HostState::lock(state).log.push((imp.name.clone(), plain));
        let inst = instance.lock().expect("instance lock").clone();
        let func = inst
            .and_then(|i| i.get_func_by_path(&export_path(export)))
            .ok_or_else(|| anyhow::anyhow!("no export `{export}` to reenter"))?;
        let mut res = vec![Value::Bool(false); usize::from(func.ty().result().is_some())];
        func.call(&mut ctx, args, &mut res)?;
        res.pop()
    } else {
        HostState::lock(state).answer(imp, &plain)?
    };
    if let (Some(slot), Some(v)) = (results.first_mut(), out) {
        *slot = match (imp.sig.result.as_ref().and_then(host_resource), v) {
            (Some((r, true)), Value::U32(rep)) => Value::Resource(component_layer::ResourceAny::new_own(
                &mut ctx,
                component_layer::ResourceType::host_dynamic(r as u32),
                rep,
            )?),
            (_, v) => v,
        };
    }
    Ok(())
}

impl<E: WasmEngine> Executor for LayerExecutor<E> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn load(&mut self, case: &Case) -> Result<(), Failure> {
        self.current = None;
        self.component = None;
        let component = component_layer::Component::new(&self.engine, &case.component).map_err(classify)?;
        self.linker = component_layer::Linker::new();
        self.exports = case.exports.clone();
        for (r, decl) in case.set.resources.iter().enumerate().filter(|(_, d)| d.host) {
            let (state, name) = (self.state.clone(), dtor_name(case, r));
            let ty = component_layer::ResourceType::host_dynamic(r as u32);
            self.linker
                .root()
                .resource(&decl.name, ty, move |_, rep| {
                    HostState::lock(&state).log.push((name.clone(), vec![Value::U32(rep)]));
                    Ok(())
                })
                .map_err(classify)?;
        }
        for imp in &case.imports {
            let (imp, state, instance) = (imp.clone(), self.state.clone(), self.instance.clone());
            self.linker
                .root()
                .func_new(&imp.name.clone(), move |ctx, args, results| {
                    layer_host_fn(&imp, &state, &instance, ctx, args, results)
                })
                .map_err(classify)?;
        }
        if case.stub_imports {
            self.linker.define_unknown_imports_as_traps(&component).map_err(classify)?;
        }
        self.component = Some(component);
        Ok(())
    }

    fn call(&mut self, index: usize, call: &Call) -> CallOutcome {
        HostState::begin(&self.state, call);
        let result = self.call_inner(index, call);
        if result.is_err() {
            self.current = None;
        }
        CallOutcome { result, imports: HostState::take_log(&self.state) }
    }
}

impl<E: WasmEngine> LayerExecutor<E> {
    fn call_inner(&mut self, index: usize, call: &Call) -> Result<Option<Value>, Failure> {
        let export = call.export.as_str();
        if self.current.is_none() {
            self.keep = Keep::new();
            let component = self.component.as_ref().ok_or_else(|| Failure::Invalid("no component".into()))?;
            let mut store = component_layer::Store::new(&self.engine, ());
            let instance = self.linker.instantiate(&mut store, component).map_err(classify)?;
            *self.instance.lock().expect("instance lock") = Some(instance.clone());
            self.current = Some((store, instance));
        }
        let (store, instance) = self.current.as_mut().expect("instantiated above");
        if export == HOST_DROP {
            let held = call.held.first().ok_or_else(|| Failure::Unsupported("a host drop names no resource".into()))?;
            self.keep.take(*held, true)?.resource_drop(&mut *store).map_err(classify)?;
            return Ok(None);
        }
        let func = instance
            .get_func_by_path(&export_path(export))
            .ok_or_else(|| Failure::Link(format!("no export `{export}`")))?;
        let n = usize::from(func.ty().result().is_some());
        let mut results = vec![Value::Bool(false); n];
        let mut args = call.args.clone();
        for h in &call.held {
            let r = self.keep.take(*h, moved(&self.exports, export, h.arg))?;
            if let Some(a) = args.get_mut(h.arg) {
                *a = Value::Resource(r);
            }
        }
        for (i, r, own) in resource_params(&self.exports, export) {
            if let Some(Value::U32(rep)) = args.get(i) {
                let ty = component_layer::ResourceType::host_dynamic(r as u32);
                let handle = if own {
                    component_layer::ResourceAny::new_own(&mut *store, ty, *rep)
                } else {
                    component_layer::ResourceAny::new_borrow(&mut *store, ty, *rep)
                };
                args[i] = Value::Resource(handle.map_err(classify)?);
            }
        }
        func.call(&mut *store, &args, &mut results).map_err(classify)?;
        Ok(results.pop().map(|v| match v {
            Value::Resource(r) => self.keep.keep(index, r),
            v => v,
        }))
    }
}

/// wasmtime's native component support.
pub struct NativeExecutor {
    engine: wasmtime::Engine,
    component: Option<wasmtime::component::Component>,
    linker: wasmtime::component::Linker<()>,
    state: Arc<Mutex<HostState>>,
    current: Option<(wasmtime::Store<()>, wasmtime::component::Instance)>,
    /// The current instance, for host functions that reenter it.
    instance: Arc<Mutex<Option<wasmtime::component::Instance>>>,
    /// The case's exports (for their host-resource parameters).
    exports: Vec<(String, Sig)>,
    /// Resources returned by calls of the current instance.
    keep: Keep<wasmtime::component::ResourceAny>,
}

impl NativeExecutor {
    /// An executor with the harness's wasmtime configuration.
    pub fn new() -> Self {
        let engine = crate::engines::native::NativeEngine::new().engine().clone();
        let linker = wasmtime::component::Linker::new(&engine);
        NativeExecutor {
            engine,
            component: None,
            linker,
            state: Arc::default(),
            current: None,
            instance: Arc::default(),
            exports: Vec::new(),
            keep: Keep::new(),
        }
    }
}

/// Calls the export at `path` of `instance` (wasmtime).
fn native_call(
    mut store: impl wasmtime::AsContextMut,
    instance: &wasmtime::component::Instance,
    export: &str,
    args: &[wasmtime::component::Val],
) -> wasmtime::Result<Option<wasmtime::component::Val>> {
    let mut index = None;
    for name in export_path(export) {
        index = Some(
            instance
                .get_export_index(&mut store, index.as_ref(), name)
                .ok_or_else(|| wasmtime::format_err!("no export `{export}`"))?,
        );
    }
    let index = index.ok_or_else(|| wasmtime::format_err!("empty export path"))?;
    let func = instance.get_func(&mut store, index).ok_or_else(|| wasmtime::format_err!("no export `{export}`"))?;
    let mut results = vec![wasmtime::component::Val::Bool(false); func.ty(&store).results().len()];
    func.call(&mut store, args, &mut results)?;
    Ok(results.pop())
}

/// Calls an export whose only parameter is a host-created `borrow<R>`, through the typed API: wasmtime 48 cannot
/// turn a host borrow into a `ResourceAny` outside a call (`Resource::new_borrow(..).try_into_resource_any`
/// panics with "BUG: no current scope"), so the dynamic `Func::call` cannot take one. Results `u32` and `u64`
/// are supported (what the resource tier uses).
fn borrow_call(
    store: &mut wasmtime::Store<()>,
    func: &wasmtime::component::Func,
    exports: &[(String, Sig)],
    export: &str,
    borrow: wasmtime::component::ResourceDynamic,
) -> Result<Option<Value>, Failure> {
    let sig = &exports.iter().find(|(n, _)| n == export).ok_or_else(|| Failure::Link(format!("no `{export}`")))?.1;
    let trap = |e: wasmtime::Error| Failure::Trap(format!("{e:?}"));
    let unsupported = || Failure::Unsupported(format!("`{export}`: a host borrow with other parameters or results"));
    if sig.params.len() != 1 {
        return Err(unsupported());
    }
    type Param = (wasmtime::component::ResourceDynamic,);
    match sig.result {
        Some(Ty::U32) => {
            let f = func.typed::<Param, (u32,)>(&*store).map_err(trap)?;
            f.call(&mut *store, (borrow,)).map(|(v,)| Some(Value::U32(v))).map_err(trap)
        }
        Some(Ty::U64) => {
            let f = func.typed::<Param, (u64,)>(&*store).map_err(trap)?;
            f.call(&mut *store, (borrow,)).map(|(v,)| Some(Value::U64(v))).map_err(trap)
        }
        _ => Err(unsupported()),
    }
}

/// A host function of the wasmtime executor.
fn native_host_fn(
    imp: &HostImport,
    state: &Arc<Mutex<HostState>>,
    instance: &Arc<Mutex<Option<wasmtime::component::Instance>>>,
    mut store: wasmtime::StoreContextMut<'_, ()>,
    args: &[wasmtime::component::Val],
    results: &mut [wasmtime::component::Val],
) -> wasmtime::Result<()> {
    use wasmtime::component::{ResourceDynamic, Val};
    let mut plain = Vec::with_capacity(args.len());
    for a in args {
        plain.push(match a {
            Val::Resource(r) => Value::U32(ResourceDynamic::try_from_resource_any(*r, &mut store)?.rep()),
            v => from_val(v).map_err(wasmtime::Error::msg)?,
        });
    }
    let out = if let HostBehaviour::Reenter(export) = &imp.behaviour {
        HostState::lock(state).log.push((imp.name.clone(), plain));
        let inst = (*instance.lock().expect("instance lock"))
            .ok_or_else(|| wasmtime::format_err!("no instance to reenter"))?;
        native_call(&mut store, &inst, export, args)?
    } else {
        let out = HostState::lock(state).answer(imp, &plain).map_err(|e| wasmtime::Error::msg(e.to_string()))?;
        match (imp.sig.result.as_ref().and_then(host_resource), out) {
            (Some((r, true)), Some(Value::U32(rep))) => {
                Some(Val::Resource(ResourceDynamic::new_own(rep, r as u32).try_into_resource_any(&mut store)?))
            }
            (_, v) => v.as_ref().map(to_val).transpose().map_err(wasmtime::Error::msg)?,
        }
    };
    if let (Some(slot), Some(v)) = (results.first_mut(), out) {
        *slot = v;
    }
    Ok(())
}

impl Default for NativeExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl Executor for NativeExecutor {
    fn name(&self) -> &'static str {
        "wasmtime"
    }

    fn load(&mut self, case: &Case) -> Result<(), Failure> {
        self.current = None;
        self.component = None;
        let c = wasmtime::component::Component::new(&self.engine, &case.component)
            .map_err(|e| Failure::Invalid(format!("{e:?}")))?;
        self.linker = wasmtime::component::Linker::new(&self.engine);
        self.exports = case.exports.clone();
        for (r, decl) in case.set.resources.iter().enumerate().filter(|(_, d)| d.host) {
            let (state, name) = (self.state.clone(), dtor_name(case, r));
            let ty = wasmtime::component::ResourceType::host_dynamic(r as u32);
            self.linker
                .root()
                .resource(&decl.name, ty, move |_, rep| {
                    HostState::lock(&state).log.push((name.clone(), vec![Value::U32(rep)]));
                    Ok(())
                })
                .map_err(|e| Failure::Link(format!("{e:?}")))?;
        }
        for imp in &case.imports {
            let (imp, state, instance) = (imp.clone(), self.state.clone(), self.instance.clone());
            self.linker
                .root()
                .func_new(&imp.name.clone(), move |store, _, args, results| {
                    native_host_fn(&imp, &state, &instance, store, args, results)
                })
                .map_err(|e| Failure::Link(format!("{e:?}")))?;
        }
        if case.stub_imports {
            self.linker.define_unknown_imports_as_traps(&c).map_err(|e| Failure::Link(format!("{e:?}")))?;
        }
        self.component = Some(c);
        Ok(())
    }

    fn call(&mut self, index: usize, call: &Call) -> CallOutcome {
        HostState::begin(&self.state, call);
        let result = self.call_inner(index, call);
        if result.is_err() {
            self.current = None;
        }
        CallOutcome { result, imports: HostState::take_log(&self.state) }
    }
}

impl NativeExecutor {
    fn call_inner(&mut self, at: usize, call: &Call) -> Result<Option<Value>, Failure> {
        let export = call.export.as_str();
        if self.current.is_none() {
            self.keep = Keep::new();
            let component = self.component.as_ref().ok_or_else(|| Failure::Invalid("no component".into()))?;
            let mut store = wasmtime::Store::new(&self.engine, ());
            let instance = self.linker.instantiate(&mut store, component).map_err(|e| {
                if e.downcast_ref::<wasmtime::Trap>().is_some() {
                    Failure::Trap(format!("{e:?}"))
                } else {
                    Failure::Link(format!("{e:?}"))
                }
            })?;
            *self.instance.lock().expect("instance lock") = Some(instance);
            self.current = Some((store, instance));
        }
        let (store, instance) = self.current.as_mut().expect("instantiated above");
        if export == HOST_DROP {
            let held = call.held.first().ok_or_else(|| Failure::Unsupported("a host drop names no resource".into()))?;
            let r = self.keep.take(*held, true)?;
            r.resource_drop(&mut *store).map_err(|e| Failure::Trap(format!("{e:?}")))?;
            return Ok(None);
        }
        let mut index = None;
        for name in export_path(export) {
            index = Some(
                instance
                    .get_export_index(&mut *store, index.as_ref(), name)
                    .ok_or_else(|| Failure::Link(format!("no export `{export}`")))?,
            );
        }
        let index = index.ok_or_else(|| Failure::Link("empty export path".into()))?;
        let func =
            instance.get_func(&mut *store, index).ok_or_else(|| Failure::Link(format!("no export `{export}`")))?;
        let mut args = call.args.iter().map(to_val).collect::<Result<Vec<_>, _>>().map_err(Failure::Trap)?;
        for h in &call.held {
            let r = self.keep.take(*h, moved(&self.exports, export, h.arg))?;
            if let Some(a) = args.get_mut(h.arg) {
                *a = wasmtime::component::Val::Resource(r);
            }
        }
        for (i, r, own) in resource_params(&self.exports, export) {
            if let Some(wasmtime::component::Val::U32(rep)) = args.get(i) {
                use wasmtime::component::ResourceDynamic;
                if !own {
                    return borrow_call(
                        store,
                        &func,
                        &self.exports,
                        export,
                        ResourceDynamic::new_borrow(*rep, r as u32),
                    );
                }
                let any = ResourceDynamic::new_own(*rep, r as u32)
                    .try_into_resource_any(&mut *store)
                    .map_err(|e| Failure::Trap(format!("{e:?}")))?;
                args[i] = wasmtime::component::Val::Resource(any);
            }
        }
        let mut results = vec![wasmtime::component::Val::Bool(false); func.ty(&*store).results().len()];
        func.call(&mut *store, &args, &mut results).map_err(|e| Failure::Trap(format!("{e:?}")))?;
        match results.first() {
            Some(wasmtime::component::Val::Resource(r)) => Ok(Some(self.keep.keep(at, *r))),
            v => v.map(from_val).transpose().map_err(Failure::Trap),
        }
    }
}
