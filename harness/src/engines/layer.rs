//! component-layer over a `wasm_runtime_layer` backend.

use component_layer::{Component, ErrorKind, Instance, Linker, Store, Value};
use wasm_runtime_layer::backend::WasmEngine;

use super::{host, ComponentId, Engine, Failure, InstanceId, Session};

/// Our runtime over backend `E`.
pub struct LayerEngine<E: WasmEngine> {
    name: &'static str,
    engine: component_layer::Engine<E>,
}

impl LayerEngine<wasmi_runtime_layer::Engine> {
    /// component-layer over wasmi.
    pub fn wasmi() -> Self {
        LayerEngine {
            name: "layer-wasmi",
            engine: component_layer::Engine::new(wasmi_runtime_layer::Engine::default()),
        }
    }
}

impl LayerEngine<wasmtime_runtime_layer::Engine> {
    /// component-layer over wasmtime's core engine.
    pub fn wasmtime() -> Self {
        LayerEngine {
            name: "layer-wasmtime",
            engine: component_layer::Engine::new(wasmtime_runtime_layer::Engine::default()),
        }
    }
}

impl<E: WasmEngine> Engine for LayerEngine<E>
where
    component_layer::Engine<E>: Send + Sync,
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn session(&self) -> anyhow::Result<Box<dyn Session>> {
        let mut linker = Linker::new();
        // As wasmtime's runner: later registrations may replace earlier ones.
        linker.allow_shadowing(true);
        host::define_layer(&mut linker, &self.engine)?;
        Ok(Box::new(LayerSession {
            engine: self.engine.clone(),
            linker,
            components: Vec::new(),
            instances: Vec::new(),
        }))
    }
}

struct LayerSession<E: WasmEngine> {
    engine: component_layer::Engine<E>,
    linker: Linker<(), E>,
    components: Vec<Component>,
    instances: Vec<Option<(Store<(), E>, Instance)>>,
}

/// Classifies an error of the runtime.
pub fn classify(e: component_layer::Error) -> Failure {
    let msg = e.to_string();
    match e.kind() {
        ErrorKind::Invalid { .. } | ErrorKind::Compile(_) => Failure::Invalid(msg),
        ErrorKind::Unsupported(_) => Failure::Unsupported(msg),
        ErrorKind::Link(_) => Failure::Link(msg),
        _ => Failure::Trap(msg),
    }
}

impl<E: WasmEngine> Session for LayerSession<E> {
    fn compile(&mut self, bytes: &[u8]) -> Result<ComponentId, Failure> {
        let c = Component::new(&self.engine, bytes).map_err(classify)?;
        self.components.push(c);
        Ok(self.components.len() - 1)
    }

    fn instantiate(&mut self, component: ComponentId) -> Result<InstanceId, Failure> {
        let mut store = Store::new(&self.engine, ());
        let instance = self.linker.instantiate(&mut store, &self.components[component]).map_err(classify)?;
        self.instances.push(Some((store, instance)));
        Ok(self.instances.len() - 1)
    }

    fn instantiate_stubbed(&mut self, component: ComponentId) -> Result<InstanceId, Failure> {
        let mut linker = self.linker.clone();
        linker.define_unknown_imports_as_traps(&self.components[component]).map_err(classify)?;
        let mut store = Store::new(&self.engine, ());
        let instance = linker.instantiate(&mut store, &self.components[component]).map_err(classify)?;
        self.instances.push(Some((store, instance)));
        Ok(self.instances.len() - 1)
    }

    fn register(&mut self, instance: InstanceId, name: &str) -> Result<(), Failure> {
        let (_, inst) = self.instances[instance].as_ref().ok_or_else(gone)?;
        let target = self.linker.instance(name).map_err(classify)?;
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

    fn invoke(&mut self, instance: InstanceId, name: &str, args: &[Value]) -> Result<Vec<Value>, Failure> {
        let (store, inst) = self.instances[instance].as_mut().ok_or_else(gone)?;
        let func = inst.get_func(name).ok_or_else(|| Failure::Trap(format!("no function `{name}`")))?;
        let mut results = vec![Value::Bool(false); usize::from(func.ty().result().is_some())];
        func.call(&mut *store, args, &mut results).map_err(classify)?;
        Ok(results)
    }

    fn drop_instance(&mut self, instance: InstanceId) {
        if let Some(slot) = self.instances.get_mut(instance) {
            *slot = None;
        }
    }
}

fn gone() -> Failure {
    Failure::Trap("instance was dropped".into())
}
