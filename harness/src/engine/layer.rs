//! component-layer over a `wasm_runtime_layer` backend.

use std::sync::{Arc, Mutex, OnceLock};

use component_gen::case::export_path;
use component_gen::{HostBehaviour, HostImport};
use component_layer::generic::GenericImports;
use component_layer::{Component, ErrorKind, Instance, Linker, ResourceAny, ResourceType, Store, Trap, Value};
use wasm_runtime_layer::backend::WasmEngine;

use super::host::{self, Answer, CaseHost, HostFailure, HostFault, SharedState, YieldOnce};
use super::value::{holding_label, imported_resource, substitute, Holdings};
use super::{CallSpec, ComponentId, Engine, Failure, Host, HostKind, ImportCall, InstanceId, ResourceArg, TrapClass};

/// The instance a reentering host function calls back into.
type ReenterSlot = Arc<Mutex<Option<Instance>>>;

/// A linker made for a case host with a host fault: reused while the same host instantiates again.
type CaseLinker<E> = (Arc<CaseHost>, Option<HostFault>, Linker<(), E>);

/// Our runtime over backend `E`.
pub struct LayerEngine<E: WasmEngine> {
    name: &'static str,
    engine: component_layer::Engine<E>,
    components: Vec<Component>,
    instances: Vec<Option<LayerInstance<E>>>,
    /// The `.wast` environment with the instances registered so far (made when first needed).
    wast: Option<Linker<(), E>>,
    /// The case hosts' queue and log.
    state: SharedState,
    reenter: ReenterSlot,
    /// The linker of the last case host, with the fault it was made with.
    case_linker: Option<CaseLinker<E>>,
}

struct LayerInstance<E: WasmEngine> {
    store: Store<(), E>,
    instance: Instance,
    component: ComponentId,
    holdings: Holdings<ResourceAny>,
    generic: Option<GenericImports>,
    case: Option<Arc<CaseHost>>,
}

impl LayerEngine<wasmi_runtime_layer::Engine> {
    /// component-layer over wasmi (one core engine per process, shared: creating one is not free).
    pub fn wasmi() -> Self {
        static BACKEND: OnceLock<wasmi_runtime_layer::Engine> = OnceLock::new();
        Self::new("layer-wasmi", BACKEND.get_or_init(wasmi_runtime_layer::Engine::default).clone())
    }
}

impl LayerEngine<wasmtime_runtime_layer::Engine> {
    /// component-layer over wasmtime's core engine (one per process, shared: creating one costs milliseconds).
    pub fn wasmtime() -> Self {
        static BACKEND: OnceLock<wasmtime_runtime_layer::Engine> = OnceLock::new();
        Self::new("layer-wasmtime", BACKEND.get_or_init(wasmtime_runtime_layer::Engine::default).clone())
    }
}

impl<E: WasmEngine> LayerEngine<E> {
    /// component-layer over any backend, named `name`.
    pub fn over(name: &'static str, backend: E) -> Self {
        Self::new(name, backend)
    }

    fn new(name: &'static str, backend: E) -> Self {
        LayerEngine {
            name,
            engine: component_layer::Engine::new(backend),
            components: Vec::new(),
            instances: Vec::new(),
            wast: None,
            state: SharedState::default(),
            reenter: ReenterSlot::default(),
            case_linker: None,
        }
    }

    fn wast_linker(&mut self) -> Result<&mut Linker<(), E>, Failure> {
        if self.wast.is_none() {
            let mut linker = Linker::new();
            // As wasmtime's runner: later registrations may replace earlier ones.
            linker.allow_shadowing(true);
            host::define_wast_layer(&mut linker, &self.engine)
                .map_err(|e| Failure::link(format!("the .wast environment: {e:#}")))?;
            self.wast = Some(linker);
        }
        self.wast.as_mut().ok_or_else(|| Failure::link("no .wast environment"))
    }

    fn case_linker(&mut self, case: &Arc<CaseHost>, fault: Option<HostFault>) -> Result<Linker<(), E>, Failure> {
        if let Some((c, f, l)) = &self.case_linker {
            if Arc::ptr_eq(c, case) && *f == fault {
                return Ok(l.clone());
            }
        }
        let mut linker = Linker::new();
        for (ty, name) in &case.resources {
            let (state, dtor) = (self.state.clone(), case.dtor_name(*ty));
            linker
                .root()
                .resource(name, ResourceType::host_dynamic(*ty), move |_, rep| {
                    state.log(ImportCall { name: dtor.clone(), args: vec![Value::U32(rep)], result: Ok(None) });
                    Ok(())
                })
                .map_err(classify)?;
        }
        for imp in &case.imports {
            let (imp, state, reenter) = (imp.clone(), self.state.clone(), self.reenter.clone());
            let name = imp.name.clone();
            let defined = match imp.behaviour {
                HostBehaviour::ReadStream | HostBehaviour::ReadFuture => {
                    linker.root().func_new_async(&name, move |ctx, args| read_channel(&imp, &state, fault, ctx, args))
                }
                HostBehaviour::WriteStream | HostBehaviour::WriteFuture => {
                    linker.root().func_new_async(&name, move |ctx, args| {
                        let answer = write_channel(&imp, &state, fault, ctx, args);
                        async move { answer }
                    })
                }
                _ => match case.asynchronous {
                    true => linker.root().func_new_async(&name, move |ctx, args| {
                        let mut out = [Value::Bool(false)];
                        let answer = case_host_fn(&imp, &state, &reenter, fault, ctx, args, &mut out)
                            .map(|()| imp.sig.result.as_ref().map(|_| out[0].clone()));
                        let later = imp.behaviour == HostBehaviour::ReturnQueuedLater;
                        async move {
                            if later {
                                YieldOnce::default().await;
                            }
                            answer
                        }
                    }),
                    false => linker.root().func_new(&name, move |ctx, args, results| {
                        case_host_fn(&imp, &state, &reenter, fault, ctx, args, results)
                    }),
                },
            };
            defined.map_err(classify)?;
        }
        self.case_linker = Some((case.clone(), fault, linker.clone()));
        Ok(linker)
    }

    fn live(&mut self, instance: InstanceId) -> Result<&mut LayerInstance<E>, Failure> {
        self.instances
            .get_mut(instance)
            .and_then(Option::as_mut)
            .ok_or_else(|| Failure::trap_of(TrapClass::Other, "the instance was dropped"))
    }
}

/// A host end that a reading import takes.
enum ChannelReader {
    Stream(component_layer::StreamReader),
    Future(component_layer::FutureReader),
}

/// A [`HostBehaviour::ReadStream`] or [`HostBehaviour::ReadFuture`] import: takes the stream's (or future's)
/// readable end now; its future reads the stream to its end (or awaits the future's `list<u8>`; the event loop
/// that polls it runs the guest that writes) and answers with the bytes read.
fn read_channel<E: WasmEngine>(
    imp: &HostImport,
    state: &SharedState,
    fault: Option<HostFault>,
    ctx: component_layer::StoreContextMut<'_, (), E>,
    args: &[Value],
) -> impl std::future::Future<Output = anyhow::Result<Option<Value>>> + Send + 'static {
    let reader: anyhow::Result<ChannelReader> = match args.first() {
        Some(Value::Stream(s)) => {
            component_layer::StreamReader::new(ctx, s.clone()).map(ChannelReader::Stream).map_err(Into::into)
        }
        Some(Value::Future(f)) => {
            component_layer::FutureReader::new(ctx, f.clone()).map(ChannelReader::Future).map_err(Into::into)
        }
        _ => Err(anyhow::Error::new(HostFailure(format!("`{}` expects a stream or a future", imp.name)))),
    };
    let (imp, state) = (imp.clone(), state.clone());
    async move {
        let mut bytes = Vec::new();
        match reader? {
            ChannelReader::Stream(mut reader) => {
                while let Some(values) = reader.next_batch().await {
                    for v in values {
                        match v {
                            Value::U8(b) => bytes.push(b),
                            v => return Err(anyhow::Error::new(HostFailure(format!("a stream<u8> carried {v:?}")))),
                        }
                    }
                }
            }
            ChannelReader::Future(reader) => match reader.into_value().await {
                Some(Value::List(component_layer::List::U8(b))) => bytes = b,
                v => return Err(anyhow::Error::new(HostFailure(format!("a future<list<u8>> carried {v:?}")))),
            },
        }
        match state.lock().answer(&imp, vec![Value::List(component_layer::List::U8(bytes))], fault)? {
            Answer::Return(v) => Ok(v),
            Answer::Reenter(_) => Err(anyhow::Error::new(HostFailure("a stream import cannot reenter".into()))),
        }
    }
}

/// A [`HostBehaviour::WriteStream`] or [`HostBehaviour::WriteFuture`] import: a new stream (or future) whose
/// host end is written with the answer (its argument) and closed before the call returns.
fn write_channel<E: WasmEngine>(
    imp: &HostImport,
    state: &SharedState,
    fault: Option<HostFault>,
    ctx: component_layer::StoreContextMut<'_, (), E>,
    args: &[Value],
) -> anyhow::Result<Option<Value>> {
    let values = match state.lock().answer(imp, args.to_vec(), fault)? {
        Answer::Return(Some(Value::List(l))) => l,
        other => {
            let what = match other {
                Answer::Return(v) => format!("{v:?}"),
                Answer::Reenter(e) => format!("a reentry of {e}"),
            };
            return Err(anyhow::Error::new(HostFailure(format!("`{}` cannot stream {what}", imp.name))));
        }
    };
    if imp.behaviour == HostBehaviour::WriteFuture {
        let (writer, future) = component_layer::FutureWriter::new(ctx);
        writer.write(Value::List(values))?;
        return Ok(Some(Value::Future(future)));
    }
    let (writer, stream) = component_layer::StreamWriter::new(ctx);
    writer.write(values.iter())?;
    writer.close();
    Ok(Some(Value::Stream(stream)))
}

/// A host function of a case host.
fn case_host_fn<E: WasmEngine>(
    imp: &HostImport,
    state: &SharedState,
    reenter: &ReenterSlot,
    fault: Option<HostFault>,
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
    let answer = state.lock().answer(imp, plain, fault)?;
    let out = match answer {
        Answer::Return(v) => v,
        Answer::Reenter(export) => {
            let inst = reenter.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            let func = inst
                .and_then(|i| i.get_func_by_path(&export_path(&export)))
                .ok_or_else(|| HostFailure(format!("no export `{export}` to reenter")))?;
            let mut res = vec![Value::Bool(false); usize::from(func.ty().result().is_some())];
            func.call(&mut ctx, args, &mut res)?;
            res.pop()
        }
    };
    if let (Some(slot), Some(v)) = (results.first_mut(), out) {
        *slot = match (imp.sig.result.as_ref().and_then(host::host_resource), v) {
            (Some((ty, true)), Value::U32(rep)) => {
                Value::Resource(ResourceAny::new_own(&mut ctx, ResourceType::host_dynamic(ty), rep)?)
            }
            (_, v) => v,
        };
    }
    Ok(())
}

/// Classifies an error of the runtime.
pub fn classify(e: component_layer::Error) -> Failure {
    let msg = e.to_string();
    match e.kind() {
        ErrorKind::Invalid { .. } | ErrorKind::Compile(_) => Failure::invalid(msg),
        ErrorKind::Unsupported(_) => Failure::unsupported(msg),
        ErrorKind::Link(_) => Failure::link(msg),
        ErrorKind::Trap(t) => Failure::trap_of(trap_class(t), msg),
        ErrorKind::Host(inner) => Failure::trap_of(host_error_class(inner), msg),
        _ => Failure::trap(msg),
    }
}

/// The class of an error a host function returned: a trap of a nested call keeps its class.
fn host_error_class(e: &anyhow::Error) -> TrapClass {
    if let Some(inner) = e.downcast_ref::<component_layer::Error>() {
        if let ErrorKind::Trap(t) = inner.kind() {
            return trap_class(t);
        }
    }
    TrapClass::Host
}

/// The class of one of the runtime's traps.
pub fn trap_class(t: &Trap) -> TrapClass {
    match t {
        Trap::Core(m) => TrapClass::from_message(m),
        Trap::Poisoned | Trap::CannotEnter => TrapClass::CannotEnter,
        Trap::CannotLeave => TrapClass::CannotLeave,
        Trap::OutOfBounds | Trap::TooLong | Trap::ReallocOutOfBounds => TrapClass::OutOfBounds,
        Trap::Misaligned | Trap::ReallocMisaligned => TrapClass::Misaligned,
        Trap::InvalidDiscriminant => TrapClass::InvalidDiscriminant,
        Trap::InvalidChar => TrapClass::InvalidChar,
        Trap::InvalidString => TrapClass::InvalidString,
        Trap::UnknownHandle
        | Trap::HandleType
        | Trap::HandleLent
        | Trap::BorrowsRemain
        | Trap::TableFull
        | Trap::ResourceGone => TrapClass::Resource,
        Trap::Host(_) => TrapClass::Host,
        // The async ABI's reasons are the implementation's words, and wasmtime's differ: no class to hold.
        Trap::Async(_) | Trap::CannotBlockSync | Trap::Deadlock | Trap::NeedsStackSwitching => TrapClass::Other,
        other => TrapClass::from_message(&other.to_string()),
    }
}

impl<E: WasmEngine> Engine for LayerEngine<E>
where
    component_layer::Engine<E>: Send,
    Store<(), E>: Send,
    Linker<(), E>: Send,
{
    fn name(&self) -> &str {
        self.name
    }

    fn compile(&mut self, bytes: &[u8]) -> Result<ComponentId, Failure> {
        let c = Component::new(&self.engine, bytes).map_err(classify)?;
        self.components.push(c);
        Ok(self.components.len() - 1)
    }

    fn instantiate(&mut self, component: ComponentId, host: &Host) -> Result<InstanceId, Failure> {
        let c = self.components.get(component).cloned().ok_or_else(|| Failure::invalid("no such component"))?;
        let mut generic = None;
        let mut case = None;
        let mut linker = match &host.kind {
            HostKind::None => Linker::new(),
            HostKind::Wast => self.wast_linker()?.clone(),
            HostKind::Case(ch) => {
                case = Some(ch.clone());
                self.case_linker(ch, host.fault)?
            }
            HostKind::Generic { seed } => {
                let mut linker = Linker::new();
                generic = Some(linker.define_generic_imports(&c, *seed).map_err(classify)?);
                linker
            }
        };
        if host.stub_unknown {
            linker.define_unknown_imports_as_traps(&c).map_err(classify)?;
        }
        let mut store = Store::new(&self.engine, ());
        self.state.begin_call(&[]);
        let result = linker.instantiate(&mut store, &c);
        if let Some(g) = &generic {
            for call in g.take_calls() {
                self.state.log(call);
            }
        }
        let instance = result.map_err(classify)?;
        *self.reenter.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(instance.clone());
        self.instances.push(Some(LayerInstance {
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
        let inst = self.live(instance)?.instance.clone();
        let target = self.wast_linker()?.instance(name).map_err(classify)?;
        for (export, item) in inst.exports() {
            let r = match item {
                component_layer::Export::Module(m) => target.module(export, m),
                component_layer::Export::Type(Some(rt)) => target.resource_type(export, rt.clone()),
                _ => Ok(()),
            };
            r.map_err(classify)?;
        }
        Ok(())
    }

    fn call(&mut self, instance: InstanceId, call: &CallSpec) -> Result<Option<Value>, Failure> {
        self.state.begin_call(&call.host_returns);
        let reenter = self.reenter.clone();
        let components = &self.components;
        let inst = self
            .instances
            .get_mut(instance)
            .and_then(Option::as_mut)
            .ok_or_else(|| Failure::trap_of(TrapClass::Other, "the instance was dropped"))?;
        *reenter.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(inst.instance.clone());
        let path: Vec<&str> = call.path.iter().map(String::as_str).collect();
        let func = inst
            .instance
            .get_func_by_path(&path)
            .ok_or_else(|| Failure::link(format!("no export `{}`", call.path.join("#"))))?;
        let ty = func.ty();
        let imports = components.get(inst.component).map(Component::imports).unwrap_or_default();
        let mut args = Vec::with_capacity(call.args.len());
        for (v, (_, t)) in call.args.iter().zip(ty.params()) {
            let LayerInstance { store, holdings, generic, .. } = &mut *inst;
            let mut slot = |i: u32, own: bool| -> Result<ResourceAny, String> {
                match call.resources.get(i as usize).ok_or_else(|| format!("no resource argument {i}"))? {
                    ResourceArg::Held(n) => holdings.take(*n, own),
                    ResourceArg::HostRep { ty, rep } => {
                        let rt = ResourceType::host_dynamic(*ty);
                        let r = if own {
                            ResourceAny::new_own(&mut *store, rt, *rep)
                        } else {
                            ResourceAny::new_borrow(&mut *store, rt, *rep)
                        };
                        r.map_err(|e| e.to_string())
                    }
                    ResourceArg::Mint { import } => {
                        let g = generic.as_ref().ok_or("a minted resource needs the generic host")?;
                        let rt = imported_resource(&imports, import)
                            .ok_or_else(|| format!("no imported resource type {}", import.join("#")))?;
                        g.mint(&mut *store, &rt, own).map_err(|e| e.to_string())
                    }
                }
            };
            args.push(substitute(v, t, &mut slot, &Value::Resource).map_err(Failure::trap)?);
        }
        let mut results = vec![Value::Bool(false); usize::from(ty.result().is_some())];
        let outcome = func.call(&mut inst.store, &args, &mut results);
        if let Some(g) = &inst.generic {
            for c in g.take_calls() {
                self.state.log(c);
            }
        }
        outcome.map_err(classify)?;
        let LayerInstance { store, holdings, generic, case, .. } = inst;
        Ok(results.pop().map(|v| {
            component_layer::generic::neutral(&v, &mut |r| {
                let name = resource_name(r, case.as_deref(), generic.as_ref(), &mut *store);
                holding_label(&name, holdings.number(r.clone()))
            })
        }))
    }

    fn drop_resource(&mut self, instance: InstanceId, number: u32) -> Result<(), Failure> {
        let state = self.state.clone();
        state.begin_call(&[]);
        let inst = self.live(instance)?;
        let r = inst.holdings.take(number, true).map_err(Failure::trap)?;
        let outcome = r.resource_drop(&mut inst.store);
        if let Some(g) = &inst.generic {
            for c in g.take_calls() {
                state.log(c);
            }
        }
        outcome.map_err(classify)
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
fn resource_name<E: WasmEngine>(
    r: &ResourceAny,
    case: Option<&CaseHost>,
    generic: Option<&GenericImports>,
    store: &mut Store<(), E>,
) -> String {
    if let Some(case) = case {
        for (ty, name) in &case.resources {
            if *r.ty() == ResourceType::host_dynamic(*ty) {
                return name.clone();
            }
        }
    }
    if let Some(g) = generic {
        let label = g.label(&mut *store, r);
        if let Some(name) = label.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map(|(n, _)| n) {
            return name.to_owned();
        }
    }
    "guest".into()
}
