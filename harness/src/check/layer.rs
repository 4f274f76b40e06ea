//! `check` on component-layer (over any backend): the runtime's own generic host
//! ([`component_layer::Linker::define_generic_imports`]).

use component_layer::generic::GenericImports;
use component_layer::{Component, Instance, Linker, ResourceAny, Store, Value};
use wasm_runtime_layer::backend::WasmEngine;

use super::plan::{import_resources, substitute, PlannedCall, Slot};
use super::{CallRecord, CheckEngine};
use crate::engines::layer::classify;
use crate::engines::Failure;

/// component-layer over backend `E`.
pub struct LayerCheck<E: WasmEngine> {
    name: &'static str,
    engine: component_layer::Engine<E>,
    component: Option<Component>,
    current: Option<(Store<(), E>, Instance, GenericImports)>,
    /// Imported resource types as the plan names them (reflected on another `Component` of the same bytes)
    /// and as this engine's component does, in the same order: plans name the former, the host knows the
    /// latter.
    resources: Vec<(component_layer::ResourceType, component_layer::ResourceType)>,
}

impl<E: WasmEngine> LayerCheck<E> {
    /// The engine named `name` over `engine`.
    pub fn new(name: &'static str, engine: component_layer::Engine<E>) -> Self {
        LayerCheck { name, engine, component: None, current: None, resources: Vec::new() }
    }
}

impl<E: WasmEngine> CheckEngine for LayerCheck<E> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.current = None;
        self.component = Some(Component::new(&self.engine, bytes).map_err(classify)?);
        Ok(())
    }

    fn prepare(&mut self, imports: &[(String, component_layer::types::ItemType)]) {
        let (mut theirs, mut ours) = (Vec::new(), Vec::new());
        import_resources(imports, &mut theirs);
        if let Some(c) = &self.component {
            import_resources(&c.imports(), &mut ours);
        }
        self.resources = theirs.into_iter().zip(ours).collect();
    }

    fn instantiate(&mut self, seed: u64) -> CallRecord {
        self.current = None;
        let Some(component) = &self.component else { return CallRecord::failed(Failure::Invalid("not loaded".into())) };
        let mut linker = Linker::new();
        let host = match linker.define_generic_imports(component, seed) {
            Ok(h) => h,
            Err(e) => return CallRecord::failed(classify(e)),
        };
        let mut store = Store::new(&self.engine, ());
        let outcome = match linker.instantiate(&mut store, component) {
            Ok(instance) => {
                let imports = host.take_calls();
                self.current = Some((store, instance, host));
                return CallRecord { outcome: Ok(None), imports };
            }
            Err(e) => Err(classify(e)),
        };
        CallRecord { outcome, imports: host.take_calls() }
    }

    fn call(&mut self, call: &PlannedCall) -> CallRecord {
        let Some((store, instance, host)) = self.current.as_mut() else {
            return CallRecord::failed(Failure::Trap("no instance".into()));
        };
        let outcome = call_in(store, instance, host, &self.resources, call);
        let imports = host.take_calls();
        if outcome.is_err() {
            self.current = None;
        }
        CallRecord { outcome, imports }
    }
}

fn func_at(instance: &Instance, path: &[String]) -> Result<component_layer::Func, Failure> {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    instance.get_func_by_path(&path).ok_or_else(|| Failure::Link(format!("no export `{}`", path.join("#"))))
}

fn call_in<E: WasmEngine>(
    store: &mut Store<(), E>,
    instance: &Instance,
    host: &GenericImports,
    resources: &[(component_layer::ResourceType, component_layer::ResourceType)],
    call: &PlannedCall,
) -> Result<Option<Value>, Failure> {
    // Materialise the resources the call needs.
    let mut made: Vec<ResourceAny> = Vec::with_capacity(call.slots.len());
    let mut lent: Vec<ResourceAny> = Vec::new();
    for slot in &call.slots {
        let r = match slot {
            Slot::Host { ty, own } => {
                let ty = resources.iter().find(|(theirs, _)| theirs == ty).map_or(ty, |(_, ours)| ours);
                host.mint(&mut *store, ty, *own).map_err(classify)?
            }
            Slot::Guest { ctor, args, own } => {
                let f = func_at(instance, ctor)?;
                let mut out = [Value::Bool(false)];
                f.call(&mut *store, args, &mut out).map_err(classify)?;
                let Value::Resource(r) = &out[0] else {
                    return Err(Failure::Trap("constructor returned no resource".into()));
                };
                if !own {
                    lent.push(r.clone());
                }
                r.clone()
            }
        };
        made.push(r);
    }
    let mut slot = |i: u32| made.get(i as usize).cloned().ok_or_else(|| format!("no slot {i}"));
    let args = call
        .args
        .iter()
        .zip(call.ty.params())
        .map(|(v, (_, t))| substitute(v, t, &mut slot, &Value::Resource))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::Trap)?;
    let func = func_at(instance, &call.path)?;
    let mut results = vec![Value::Bool(false); usize::from(func.ty().result().is_some())];
    func.call(&mut *store, &args, &mut results).map_err(classify)?;
    let result = results.pop();
    let neutral = result.as_ref().map(|v| component_layer::generic::neutral(v, &mut |r| host.label(&mut *store, r)));
    // Resources the component gave us (and the ones we lent it) go back: their destructors run, and any imports
    // those call are part of this call's record.
    let mut owned = Vec::new();
    if let Some(v) = &result {
        collect_owned(v, &mut owned);
    }
    for r in owned.into_iter().chain(lent) {
        r.resource_drop(&mut *store).map_err(classify)?;
    }
    Ok(neutral)
}

/// The owned guest resources in a value (host resources stay with the host).
fn collect_owned(v: &Value, out: &mut Vec<ResourceAny>) {
    match v {
        Value::Resource(r) if r.owned() && !r.ty().is_host() => out.push(r.clone()),
        Value::List(l) => l.iter().for_each(|x| collect_owned(&x, out)),
        Value::Record(fs) => fs.iter().for_each(|(_, x)| collect_owned(x, out)),
        Value::Tuple(xs) => xs.iter().for_each(|x| collect_owned(x, out)),
        Value::Variant(_, Some(p)) | Value::Option(Some(p)) | Value::Result(Ok(Some(p)) | Err(Some(p))) => {
            collect_owned(p, out)
        }
        _ => {}
    }
}
