//! wasmtime 48's native component support: the reference engine.

mod generic;
mod streams;

use std::sync::{Arc, Mutex, OnceLock};

use component_gen::case::export_path;
use component_gen::{HostBehaviour, HostImport};
use component_layer::types::ItemType;
use component_layer::Value;
use wasmtime::component::{Component, Instance, Linker, ResourceAny, ResourceDynamic, ResourceType, Type, Val};
use wasmtime::{AsContextMut, Config, Store};

use super::host::{self, Answer, CaseHost, HostFailure, HostFault, SharedState, YieldOnce};
use super::value::{from_val, holding_label, imported_resource, substitute_val, to_val, Holdings};
use super::{CallSpec, ComponentId, Engine, Failure, Host, HostKind, ImportCall, InstanceId, ResourceArg, TrapClass};
use generic::GenericHost;

/// The instance a reentering host function calls back into.
type ReenterSlot = Arc<Mutex<Option<Instance>>>;

/// The harness's wasmtime engine: the default configuration, with component-model async (🔀), its more-async
/// built-ins (🚝) and error-context (📝) validated, as component-layer does (concurrency support stays on, which
/// is what makes wasmtime trap on reentrance). Components that use the async ABI are called with `call_async`
/// (driven by [`block_on`]), the others with `Func::call`. One per process: engines are cheap to share.
pub fn wasmtime_engine() -> wasmtime::Engine {
    static ENGINE: OnceLock<wasmtime::Engine> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            config.wasm_component_model(true);
            config.wasm_component_model_async(true);
            config.wasm_component_model_more_async_builtins(true);
            config.wasm_component_model_error_context(true);
            // The default configuration always builds; if it did not, every wasmtime run would fail anyway.
            wasmtime::Engine::new(&config).unwrap_or_default()
        })
        .clone()
}

/// wasmtime's native component support.
pub struct NativeEngine {
    engine: wasmtime::Engine,
    components: Vec<NativeComponent>,
    instances: Vec<Option<NativeInstance>>,
    wast: Option<Linker<()>>,
    state: SharedState,
    reenter: ReenterSlot,
    case_linker: Option<(Arc<CaseHost>, Option<HostFault>, Linker<()>)>,
}

struct NativeComponent {
    component: Component,
    bytes: Vec<u8>,
    /// Whether the component uses the async ABI: its exports are then called with `call_async`.
    needs_async: bool,
    /// The imports as component-layer reflects them (for the generic host), when first needed.
    reflected: Option<Vec<(String, ItemType)>>,
}

struct NativeInstance {
    store: Store<()>,
    instance: Instance,
    component: ComponentId,
    holdings: Holdings<ResourceAny>,
    generic: Option<GenericHost>,
    case: Option<Arc<CaseHost>>,
}

impl NativeEngine {
    /// The reference engine.
    pub fn new() -> Self {
        NativeEngine {
            engine: wasmtime_engine(),
            components: Vec::new(),
            instances: Vec::new(),
            wast: None,
            state: SharedState::default(),
            reenter: ReenterSlot::default(),
            case_linker: None,
        }
    }

    fn wast_linker(&mut self) -> Result<&mut Linker<()>, Failure> {
        if self.wast.is_none() {
            let mut linker = Linker::new(&self.engine);
            linker.allow_shadowing(true);
            host::define_wast_native(&mut linker, &self.engine)
                .map_err(|e| Failure::link(format!("the .wast environment: {e:?}")))?;
            self.wast = Some(linker);
        }
        self.wast.as_mut().ok_or_else(|| Failure::link("no .wast environment"))
    }

    fn case_linker(&mut self, case: &Arc<CaseHost>, fault: Option<HostFault>) -> Result<Linker<()>, Failure> {
        if let Some((c, f, l)) = &self.case_linker {
            if Arc::ptr_eq(c, case) && *f == fault {
                return Ok(l.clone());
            }
        }
        let mut linker = Linker::new(&self.engine);
        for (ty, name) in &case.resources {
            let (state, dtor) = (self.state.clone(), case.dtor_name(*ty));
            linker
                .root()
                .resource(name, ResourceType::host_dynamic(*ty), move |_, rep| {
                    state.log(ImportCall { name: dtor.clone(), args: vec![Value::U32(rep)], result: Ok(None) });
                    Ok(())
                })
                .map_err(link)?;
        }
        for imp in &case.imports {
            let (imp, state, reenter) = (imp.clone(), self.state.clone(), self.reenter.clone());
            let name = imp.name.clone();
            let defined = match imp.behaviour {
                HostBehaviour::ReadStream | HostBehaviour::ReadFuture => {
                    linker.root().func_new_concurrent(&name, move |accessor, _, args, results| {
                        let (imp, state) = (imp.clone(), state.clone());
                        Box::pin(async move {
                            let (collect, read) = streams::Collect::new();
                            accessor.with(|mut access| match args.first() {
                                Some(Val::Stream(s)) => {
                                    wasmtime::component::StreamReader::<u8>::try_from_stream_any(s.clone())?
                                        .pipe(access.as_context_mut(), collect)
                                }
                                Some(Val::Future(f)) => {
                                    wasmtime::component::FutureReader::<Vec<u8>>::try_from_future_any(f.clone())?
                                        .pipe(access.as_context_mut(), collect)
                                }
                                _ => Err(wasmtime::Error::new(HostFailure(format!(
                                    "`{}` expects a stream or a future",
                                    imp.name
                                )))),
                            })?;
                            let bytes = read.await;
                            streams::answer_read(&imp, &state, fault, bytes, results)
                        })
                    })
                }
                HostBehaviour::WriteStream | HostBehaviour::WriteFuture => {
                    linker.root().func_new_concurrent(&name, move |accessor, _, args, results| {
                        let answer = accessor.with(|mut access| {
                            streams::write(&imp, &state, fault, access.as_context_mut(), args, results)
                        });
                        Box::pin(async move { answer })
                    })
                }
                _ => match case.asynchronous {
                    true => linker.root().func_new_concurrent(&name, move |accessor, _, args, results| {
                        let answer = accessor.with(|mut access| {
                            case_host_fn(&imp, &state, &reenter, fault, access.as_context_mut(), args, results)
                        });
                        let later = imp.behaviour == HostBehaviour::ReturnQueuedLater;
                        Box::pin(async move {
                            if later {
                                YieldOnce::default().await;
                            }
                            answer
                        })
                    }),
                    false => linker.root().func_new(&name, move |store, _, args, results| {
                        case_host_fn(&imp, &state, &reenter, fault, store, args, results)
                    }),
                },
            };
            defined.map_err(link)?;
        }
        self.case_linker = Some((case.clone(), fault, linker.clone()));
        Ok(linker)
    }

    fn live(&mut self, instance: InstanceId) -> Result<&mut NativeInstance, Failure> {
        self.instances
            .get_mut(instance)
            .and_then(Option::as_mut)
            .ok_or_else(|| Failure::trap_of(TrapClass::Other, "the instance was dropped"))
    }

    fn reflected(&mut self, component: ComponentId) -> Result<Vec<(String, ItemType)>, Failure> {
        let c = self.components.get_mut(component).ok_or_else(|| Failure::invalid("no such component"))?;
        if c.reflected.is_none() {
            let reflect = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
            let reflected = component_layer::Component::new(&reflect, &c.bytes)
                .map_err(|e| Failure::unsupported(format!("component-layer cannot reflect on it: {e}")))?;
            c.reflected = Some(reflected.imports());
        }
        Ok(c.reflected.clone().unwrap_or_default())
    }
}

impl Default for NativeEngine {
    fn default() -> Self {
        Self::new()
    }
}

fn link(e: wasmtime::Error) -> Failure {
    Failure::link(format!("{e:?}"))
}

/// Classifies an error of a call or instantiation.
pub fn trap(e: wasmtime::Error) -> Failure {
    let message = format!("{e:?}");
    if let Some(t) = e.downcast_ref::<wasmtime::Trap>() {
        return Failure::trap_of(TrapClass::from_message(&t.to_string()), message);
    }
    if e.chain().any(|c| c.is::<HostFailure>()) {
        return Failure::trap_of(TrapClass::Host, message);
    }
    Failure::trap(message)
}

fn load_failure(e: wasmtime::Error) -> Failure {
    let msg = format!("{e:?}");
    let feature = msg.contains("feature") || msg.contains("proposal");
    if feature && ["not enabled", "not active", "require", "must be enabled"].iter().any(|w| msg.contains(w)) {
        Failure::unsupported(msg)
    } else {
        Failure::invalid(msg)
    }
}

/// A host function of a case host.
fn case_host_fn(
    imp: &HostImport,
    state: &SharedState,
    reenter: &ReenterSlot,
    fault: Option<HostFault>,
    mut store: wasmtime::StoreContextMut<'_, ()>,
    args: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let mut plain = Vec::with_capacity(args.len());
    for a in args {
        plain.push(match a {
            Val::Resource(r) => Value::U32(ResourceDynamic::try_from_resource_any(*r, &mut store)?.rep()),
            v => from_val(v, &mut |_| String::new()).map_err(wasmtime::Error::msg)?,
        });
    }
    let answer =
        state.lock().answer(imp, plain, fault).map_err(|e| wasmtime::Error::new(HostFailure(e.to_string())))?;
    let out = match answer {
        Answer::Reenter(export) => {
            let inst = (*reenter.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
                .ok_or_else(|| wasmtime::Error::new(HostFailure("no instance to reenter".into())))?;
            let path: Vec<String> = export_path(&export).into_iter().map(str::to_owned).collect();
            let func = func_at(&mut store, &inst, &path).map_err(|f| wasmtime::Error::msg(f.to_string()))?;
            let mut res = vec![Val::Bool(false); func.ty(&store).results().len()];
            func.call(&mut store, args, &mut res)?;
            res.pop()
        }
        Answer::Return(out) => match (imp.sig.result.as_ref().and_then(host::host_resource), out) {
            (Some((ty, true)), Some(Value::U32(rep))) => {
                Some(Val::Resource(ResourceDynamic::new_own(rep, ty).try_into_resource_any(&mut store)?))
            }
            (_, v) => v.as_ref().map(to_val).transpose().map_err(wasmtime::Error::msg)?,
        },
    };
    if let (Some(slot), Some(v)) = (results.first_mut(), out) {
        *slot = v;
    }
    Ok(())
}

fn func_at(
    mut store: impl wasmtime::AsContextMut,
    instance: &Instance,
    path: &[String],
) -> Result<wasmtime::component::Func, Failure> {
    let missing = || Failure::link(format!("no export `{}`", path.join("#")));
    let mut index = None;
    for name in path {
        index = Some(instance.get_export_index(&mut store, index.as_ref(), name).ok_or_else(missing)?);
    }
    let index = index.ok_or_else(missing)?;
    instance.get_func(&mut store, index).ok_or_else(missing)
}

/// How long [`block_on`] waits for a future that stays pending with no wake-up (a guest waiting on a host
/// function that never returns): the call fails instead of hanging the harness.
const ASYNC_CALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs one of wasmtime's async entry points (`call_async`, `instantiate_async`: the only way wasmtime 48 calls an
/// async-lifted export or instantiates with concurrent host functions) to completion on this thread: it parks
/// until wasmtime wakes it, up to [`ASYNC_CALL_LIMIT`].
fn block_on<R>(future: impl std::future::Future<Output = wasmtime::Result<R>>) -> wasmtime::Result<R> {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    let deadline = std::time::Instant::now() + ASYNC_CALL_LIMIT;
    loop {
        if let Poll::Ready(r) = future.as_mut().poll(&mut cx) {
            return r;
        }
        let now = std::time::Instant::now();
        if now >= deadline {
            return Err(wasmtime::Error::msg(format!(
                "wasmtime's async call did not finish within {ASYNC_CALL_LIMIT:?} (it waits on a host future that \
                 is never ready)"
            )));
        }
        std::thread::park_timeout(deadline - now);
    }
}

/// Calls `func`, whose only parameter is a host-created `borrow`, through the typed API: wasmtime 48 cannot turn a
/// host borrow into a `ResourceAny` outside a call (`Resource::new_borrow(..).try_into_resource_any` panics with
/// "BUG: no current scope"), so the dynamic `Func::call` cannot take one. Results `u32` and `u64` are supported
/// (what the resource tier uses).
fn borrow_call(
    store: &mut Store<()>,
    func: &wasmtime::component::Func,
    borrow: ResourceDynamic,
) -> Result<Option<Value>, Failure> {
    let ty = func.ty(&*store);
    let unsupported = || Failure::unsupported("a host-made borrow with other parameters or results");
    if ty.params().len() != 1 {
        return Err(unsupported());
    }
    type Param = (ResourceDynamic,);
    let result = ty.results().next();
    match result {
        Some(Type::U32) => {
            let f = func.typed::<Param, (u32,)>(&*store).map_err(trap)?;
            f.call(&mut *store, (borrow,)).map(|(v,)| Some(Value::U32(v))).map_err(trap)
        }
        Some(Type::U64) => {
            let f = func.typed::<Param, (u64,)>(&*store).map_err(trap)?;
            f.call(&mut *store, (borrow,)).map(|(v,)| Some(Value::U64(v))).map_err(trap)
        }
        _ => Err(unsupported()),
    }
}

impl Engine for NativeEngine {
    fn name(&self) -> &str {
        "wasmtime"
    }

    fn compile(&mut self, bytes: &[u8]) -> Result<ComponentId, Failure> {
        let component = Component::new(&self.engine, bytes).map_err(load_failure)?;
        let needs_async = super::uses_async_abi(bytes);
        self.components.push(NativeComponent { component, bytes: bytes.to_vec(), needs_async, reflected: None });
        Ok(self.components.len() - 1)
    }

    fn instantiate(&mut self, component: ComponentId, host: &Host) -> Result<InstanceId, Failure> {
        let c = self.components.get(component).map(|c| (c.component.clone(), c.needs_async));
        let (c, asynchronous) = c.ok_or_else(|| Failure::invalid("no such component"))?;
        let mut generic = None;
        let mut case = None;
        let mut linker = match &host.kind {
            HostKind::None => Linker::new(&self.engine),
            HostKind::Wast => self.wast_linker()?.clone(),
            HostKind::Case(ch) => {
                case = Some(ch.clone());
                self.case_linker(ch, host.fault)?
            }
            HostKind::Generic { seed } => {
                let imports = self.reflected(component)?;
                let mut linker = Linker::new(&self.engine);
                generic = Some(GenericHost::define(*seed, &mut linker.root(), &imports).map_err(link)?);
                linker
            }
        };
        if host.stub_unknown {
            linker.define_unknown_imports_as_traps(&c).map_err(link)?;
        }
        let mut store = Store::new(&self.engine, ());
        self.state.begin_call(&[]);
        let pre = linker.instantiate_pre(&c).map_err(link)?;
        let result = match asynchronous {
            true => block_on(pre.instantiate_async(&mut store)),
            false => pre.instantiate(&mut store),
        };
        if let Some(g) = &generic {
            for call in g.take_log() {
                self.state.log(call);
            }
        }
        let instance = result.map_err(trap)?;
        *self.reenter.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(instance);
        self.instances.push(Some(NativeInstance {
            store,
            instance,
            component,
            holdings: Holdings::default(),
            generic,
            case,
        }));
        Ok(self.instances.len() - 1)
    }

    fn register(&mut self, instance: InstanceId, name: &str) -> Result<(), Failure> {
        let component = self.live(instance)?.component;
        let ty = self.components.get(component).map(|c| c.component.component_type());
        let ty = ty.ok_or_else(|| Failure::invalid("no such component"))?;
        let engine = self.engine.clone();
        let mut items = Vec::new();
        {
            let inst = self.live(instance)?;
            for (export, item) in ty.exports(&engine) {
                match item.ty {
                    wasmtime::component::types::ComponentItem::Module(_) => {
                        if let Some(m) = inst.instance.get_module(&mut inst.store, export) {
                            items.push((export.to_owned(), Some(m), None));
                        }
                    }
                    wasmtime::component::types::ComponentItem::Resource(_) => {
                        if let Some(r) = inst.instance.get_resource(&mut inst.store, export) {
                            items.push((export.to_owned(), None, Some(r)));
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut target = self.wast_linker()?.instance(name).map_err(link)?;
        for (export, module, resource) in items {
            if let Some(m) = module {
                target.module(&export, &m).map_err(link)?;
            }
            if let Some(r) = resource {
                target.resource(&export, r, |_, _| Ok(())).map_err(link)?;
            }
        }
        Ok(())
    }

    fn call(&mut self, instance: InstanceId, call: &CallSpec) -> Result<Option<Value>, Failure> {
        self.state.begin_call(&call.host_returns);
        let reflected = match call.resources.iter().any(|r| matches!(r, ResourceArg::Mint { .. })) {
            true => {
                let c = self.live(instance)?.component;
                self.reflected(c)?
            }
            false => Vec::new(),
        };
        let (reenter, state) = (self.reenter.clone(), self.state.clone());
        let component = self.live(instance)?.component;
        let asynchronous = self.components.get(component).is_some_and(|c| c.needs_async);
        let inst = self.live(instance)?;
        *reenter.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(inst.instance);
        let func = func_at(&mut inst.store, &inst.instance, &call.path)?;
        let params: Vec<Type> = func.ty(&inst.store).params().map(|(_, t)| t).collect();
        // A host-made borrow goes through the typed API (see `borrow_call`).
        if let [ResourceArg::HostRep { ty, rep }] = call.resources.as_slice() {
            if matches!(params.as_slice(), [Type::Borrow(_)]) {
                let outcome = borrow_call(&mut inst.store, &func, ResourceDynamic::new_borrow(*rep, *ty));
                return outcome;
            }
        }
        let mut args = Vec::with_capacity(call.args.len());
        for (v, t) in call.args.iter().zip(&params) {
            let NativeInstance { store, holdings, generic, .. } = &mut *inst;
            let mut slot = |i: u32, own: bool| -> Result<Val, String> {
                match call.resources.get(i as usize).ok_or_else(|| format!("no resource argument {i}"))? {
                    ResourceArg::Held(n) => holdings.take(*n, own).map(Val::Resource),
                    ResourceArg::HostRep { ty, rep } => {
                        if !own {
                            return Err("wasmtime 48 cannot pass a host-made borrow in this position".into());
                        }
                        ResourceDynamic::new_own(*rep, *ty)
                            .try_into_resource_any(&mut *store)
                            .map(Val::Resource)
                            .map_err(|e| e.to_string())
                    }
                    ResourceArg::Mint { import } => {
                        let g = generic.as_ref().ok_or("a minted resource needs the generic host")?;
                        let rt = imported_resource(&reflected, import)
                            .ok_or_else(|| format!("no imported resource type {}", import.join("#")))?;
                        g.mint(&mut *store, &rt, own).map_err(|e| e.to_string())
                    }
                }
            };
            args.push(substitute_val(v, t, &mut slot).map_err(Failure::trap)?);
        }
        let mut results = vec![Val::Bool(false); func.ty(&inst.store).results().len()];
        let outcome = match asynchronous {
            true => block_on(func.call_async(&mut inst.store, &args, &mut results)),
            false => func.call(&mut inst.store, &args, &mut results),
        };
        if let Some(g) = &inst.generic {
            for c in g.take_log() {
                state.log(c);
            }
        }
        outcome.map_err(trap)?;
        let NativeInstance { holdings, generic, case, .. } = inst;
        results
            .pop()
            .map(|v| {
                from_val(&v, &mut |r| {
                    let name = resource_name(r, case.as_deref(), generic.as_ref());
                    holding_label(&name, holdings.number(*r))
                })
            })
            .transpose()
            .map_err(Failure::trap)
    }

    fn drop_resource(&mut self, instance: InstanceId, number: u32) -> Result<(), Failure> {
        let state = self.state.clone();
        state.begin_call(&[]);
        let inst = self.live(instance)?;
        let r = inst.holdings.take(number, true).map_err(Failure::trap)?;
        let outcome = r.resource_drop(&mut inst.store);
        if let Some(g) = &inst.generic {
            for c in g.take_log() {
                state.log(c);
            }
        }
        outcome.map_err(trap)
    }

    fn drop_instance(&mut self, instance: InstanceId) {
        if let Some(slot) = self.instances.get_mut(instance) {
            *slot = None;
        }
    }

    fn take_log(&mut self) -> Vec<ImportCall> {
        self.state.take_log()
    }

    fn reset(&mut self) {
        self.instances.clear();
        self.components.clear();
        self.wast = None;
        self.case_linker = None;
        self.state.take_log();
        *self.reenter.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

/// The name of a resource's type in labels: a case host's or the generic host's name for it, else `guest`.
fn resource_name(r: &ResourceAny, case: Option<&CaseHost>, generic: Option<&GenericHost>) -> String {
    if let Some(case) = case {
        for (ty, name) in &case.resources {
            if r.ty() == ResourceType::host_dynamic(*ty) {
                return name.clone();
            }
        }
    }
    generic.and_then(|g| g.name_of(r.ty())).unwrap_or_else(|| "guest".into())
}
