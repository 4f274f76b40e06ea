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

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use component_gen::case::export_path;
use component_gen::{Case, HostBehaviour, HostImport};
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
    /// Calls an export (a name or a `#`-separated path); `host_returns` feeds host imports that return queued
    /// values.
    fn call(&mut self, export: &str, args: &[Value], host_returns: &[Value]) -> CallOutcome;
}

/// The state host imports share with the executor: the queue of values to return and the log of calls.
#[derive(Default)]
struct HostState {
    queue: VecDeque<Value>,
    log: Vec<(String, Vec<Value>)>,
}

impl HostState {
    /// Answers a call of host import `imp` as its behaviour says.
    fn answer(&mut self, imp: &HostImport, args: &[Value]) -> anyhow::Result<Option<Value>> {
        let name = &imp.name;
        self.log.push((name.clone(), args.to_vec()));
        match &imp.behaviour {
            HostBehaviour::ReturnQueued => Ok(self.queue.pop_front()),
            HostBehaviour::EchoFirst => Ok(args.first().cloned()),
            HostBehaviour::Trap => anyhow::bail!("host import `{name}` traps"),
            HostBehaviour::Hash => match &imp.sig.result {
                None => Ok(None),
                Some(ty) => component_gen::values::hash_answer(args, ty)
                    .map(Some)
                    .ok_or_else(|| anyhow::anyhow!("host import `{name}` cannot hash into a non-scalar result")),
            },
        }
    }
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
        }
    }
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
        for imp in &case.imports {
            let (imp, state) = (imp.clone(), self.state.clone());
            self.linker
                .root()
                .func_new(&imp.name.clone(), move |_, args, results| {
                    let out = state.lock().expect("host state lock").answer(&imp, args)?;
                    if let (Some(slot), Some(v)) = (results.first_mut(), out) {
                        *slot = v;
                    }
                    Ok(())
                })
                .map_err(classify)?;
        }
        if case.stub_imports {
            self.linker.define_unknown_imports_as_traps(&component).map_err(classify)?;
        }
        self.component = Some(component);
        Ok(())
    }

    fn call(&mut self, export: &str, args: &[Value], host_returns: &[Value]) -> CallOutcome {
        {
            let mut st = self.state.lock().expect("host state lock");
            st.queue = host_returns.iter().cloned().collect();
            st.log.clear();
        }
        let result = self.call_inner(export, args);
        if result.is_err() {
            self.current = None;
        }
        CallOutcome { result, imports: std::mem::take(&mut self.state.lock().expect("host state lock").log) }
    }
}

impl<E: WasmEngine> LayerExecutor<E> {
    fn call_inner(&mut self, export: &str, args: &[Value]) -> Result<Option<Value>, Failure> {
        if self.current.is_none() {
            let component = self.component.as_ref().ok_or_else(|| Failure::Invalid("no component".into()))?;
            let mut store = component_layer::Store::new(&self.engine, ());
            let instance = self.linker.instantiate(&mut store, component).map_err(classify)?;
            self.current = Some((store, instance));
        }
        let (store, instance) = self.current.as_mut().expect("instantiated above");
        let func = instance
            .get_func_by_path(&export_path(export))
            .ok_or_else(|| Failure::Link(format!("no export `{export}`")))?;
        let n = usize::from(func.ty().result().is_some());
        let mut results = vec![Value::Bool(false); n];
        func.call(&mut *store, args, &mut results).map_err(classify)?;
        Ok(results.pop())
    }
}

/// wasmtime's native component support.
pub struct NativeExecutor {
    engine: wasmtime::Engine,
    component: Option<wasmtime::component::Component>,
    linker: wasmtime::component::Linker<()>,
    state: Arc<Mutex<HostState>>,
    current: Option<(wasmtime::Store<()>, wasmtime::component::Instance)>,
}

impl NativeExecutor {
    /// An executor with the harness's wasmtime configuration.
    pub fn new() -> Self {
        let engine = crate::engines::native::NativeEngine::new().engine().clone();
        let linker = wasmtime::component::Linker::new(&engine);
        NativeExecutor { engine, component: None, linker, state: Arc::default(), current: None }
    }
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
        for imp in &case.imports {
            let (imp, state) = (imp.clone(), self.state.clone());
            self.linker
                .root()
                .func_new(&imp.name.clone(), move |_, _, args, results| {
                    let args =
                        args.iter().map(from_val).collect::<Result<Vec<_>, _>>().map_err(wasmtime::Error::msg)?;
                    let out = state
                        .lock()
                        .expect("host state lock")
                        .answer(&imp, &args)
                        .map_err(|e| wasmtime::Error::msg(e.to_string()))?;
                    if let (Some(slot), Some(v)) = (results.first_mut(), out) {
                        *slot = to_val(&v).map_err(wasmtime::Error::msg)?;
                    }
                    Ok(())
                })
                .map_err(|e| Failure::Link(format!("{e:?}")))?;
        }
        if case.stub_imports {
            self.linker.define_unknown_imports_as_traps(&c).map_err(|e| Failure::Link(format!("{e:?}")))?;
        }
        self.component = Some(c);
        Ok(())
    }

    fn call(&mut self, export: &str, args: &[Value], host_returns: &[Value]) -> CallOutcome {
        {
            let mut st = self.state.lock().expect("host state lock");
            st.queue = host_returns.iter().cloned().collect();
            st.log.clear();
        }
        let result = self.call_inner(export, args);
        if result.is_err() {
            self.current = None;
        }
        CallOutcome { result, imports: std::mem::take(&mut self.state.lock().expect("host state lock").log) }
    }
}

impl NativeExecutor {
    fn call_inner(&mut self, export: &str, args: &[Value]) -> Result<Option<Value>, Failure> {
        if self.current.is_none() {
            let component = self.component.as_ref().ok_or_else(|| Failure::Invalid("no component".into()))?;
            let mut store = wasmtime::Store::new(&self.engine, ());
            let instance = self.linker.instantiate(&mut store, component).map_err(|e| {
                if e.downcast_ref::<wasmtime::Trap>().is_some() {
                    Failure::Trap(format!("{e:?}"))
                } else {
                    Failure::Link(format!("{e:?}"))
                }
            })?;
            self.current = Some((store, instance));
        }
        let (store, instance) = self.current.as_mut().expect("instantiated above");
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
        let args = args.iter().map(to_val).collect::<Result<Vec<_>, _>>().map_err(Failure::Trap)?;
        let mut results = vec![wasmtime::component::Val::Bool(false); func.ty(&*store).results().len()];
        func.call(&mut *store, &args, &mut results).map_err(|e| Failure::Trap(format!("{e:?}")))?;
        results.first().map(from_val).transpose().map_err(Failure::Trap)
    }
}
