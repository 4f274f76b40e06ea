//! `check` on wasmtime's native component support, with a generic host that behaves exactly as
//! [`component_layer::generic`]'s: the same values from the same seeds (it uses the runtime's [`ValueGen`]),
//! handles minted with the same representations, the same engine-neutral log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use component_layer::generic::{mix_seed, name_hash, resource_label, ImportCall, ValueGen};
use component_layer::types::{FuncType, ItemType, ValueType};
use component_layer::{List, Value};
use wasmtime::component::{
    Component, Instance, Linker, LinkerInstance, ResourceAny, ResourceDynamic, ResourceType, Val,
};
use wasmtime::{AsContextMut, Store};

use super::plan::{has_resources, PlannedCall, Slot};
use super::{CallRecord, CheckEngine};
use crate::engines::native::{from_val, to_val};
use crate::engines::Failure;

/// Payloads of the dynamic host resource types (kept clear of small numbers).
const PAYLOAD_BASE: u32 = 0x4000_0000;

#[derive(Default)]
struct HostState {
    seed: u64,
    calls: HashMap<String, u64>,
    next_rep: u32,
    log: Vec<ImportCall>,
    /// The component's imported resource types (abstract), their payload index and name.
    resources: Vec<(component_layer::ResourceType, String)>,
}

#[derive(Clone, Default)]
struct Host(Arc<Mutex<HostState>>);

impl Host {
    fn lock(&self) -> MutexGuard<'_, HostState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn payload(&self, ty: &component_layer::ResourceType) -> Option<u32> {
        self.lock().resources.iter().position(|(r, _)| r == ty).map(|i| PAYLOAD_BASE + i as u32)
    }

    fn next_rep(&self) -> u32 {
        let mut s = self.lock();
        s.next_rep += 1;
        s.next_rep
    }

    /// The name of a host resource type of this host.
    fn name_of(&self, ty: ResourceType) -> Option<String> {
        let s = self.lock();
        s.resources
            .iter()
            .enumerate()
            .find(|(i, _)| ResourceType::host_dynamic(PAYLOAD_BASE + *i as u32) == ty)
            .map(|(_, (_, n))| n.clone())
    }

    fn label(&self, store: impl AsContextMut, r: &ResourceAny) -> String {
        match self.name_of(r.ty()) {
            Some(name) => {
                let rep = ResourceDynamic::try_from_resource_any(*r, store).ok().map(|d| d.rep());
                resource_label(r.owned(), &name, rep)
            }
            None => resource_label(r.owned(), "guest", None),
        }
    }

    fn mint(
        &self,
        mut store: impl AsContextMut,
        ty: &component_layer::ResourceType,
        own: bool,
    ) -> wasmtime::Result<Val> {
        let payload = self.payload(ty).ok_or_else(|| wasmtime::Error::msg(format!("`{ty}` is not a host resource")))?;
        let rep = self.next_rep();
        let d = if own { ResourceDynamic::new_own(rep, payload) } else { ResourceDynamic::new_borrow(rep, payload) };
        Ok(Val::Resource(d.try_into_resource_any(store.as_context_mut())?))
    }

    fn call_seed(&self, name: &str) -> u64 {
        let mut s = self.lock();
        let seed = s.seed;
        let n = s.calls.entry(name.to_owned()).or_insert(0);
        *n += 1;
        mix_seed(seed, &[name_hash(name), *n])
    }
}

/// A wasmtime value as an engine-neutral [`Value`]: resources become their labels.
fn neutral_val(v: &Val, label: &mut dyn FnMut(&ResourceAny) -> String) -> Value {
    let mut boxed = |p: &Option<Box<Val>>| p.as_deref().map(|x| Box::new(neutral_val(x, &mut *label)));
    match v {
        Val::List(xs) => Value::List(List::Values(xs.iter().map(|x| neutral_val(x, &mut *label)).collect())),
        Val::Record(fs) => {
            Value::Record(fs.iter().map(|(n, x)| (Arc::from(n.as_str()), neutral_val(x, &mut *label))).collect())
        }
        Val::Tuple(xs) => Value::Tuple(xs.iter().map(|x| neutral_val(x, &mut *label)).collect()),
        Val::Variant(c, p) => Value::Variant(Arc::from(c.as_str()), boxed(p)),
        Val::Option(p) => Value::Option(boxed(p)),
        Val::Result(Ok(p)) => Value::Result(Ok(boxed(p))),
        Val::Result(Err(p)) => Value::Result(Err(boxed(p))),
        Val::Resource(r) => Value::Enum(Arc::from(label(r).as_str())),
        other => from_val(other).unwrap_or(Value::Bool(false)),
    }
}

/// A value with resource stand-ins (see [`super::plan`]) as a wasmtime value of type `ty`.
fn to_val_with(v: &Value, ty: &ValueType, slot: &mut dyn FnMut(u32) -> Result<Val, String>) -> Result<Val, String> {
    if !has_resources(ty) {
        return to_val(v);
    }
    let mut sub = |v: &Value, t: &ValueType| to_val_with(v, t, &mut *slot);
    let boxed = |p: Option<Val>| p.map(Box::new);
    Ok(match (v, ty) {
        (Value::U32(i), ValueType::Own(_) | ValueType::Borrow(_)) => slot(*i)?,
        (Value::List(l), ValueType::List(t)) => Val::List(l.iter().map(|x| sub(&x, t)).collect::<Result<_, _>>()?),
        (Value::Record(fs), ValueType::Record(ts)) => Val::Record(
            fs.iter()
                .zip(ts.iter())
                .map(|((n, x), (_, t))| Ok((n.to_string(), sub(x, t)?)))
                .collect::<Result<_, String>>()?,
        ),
        (Value::Tuple(xs), ValueType::Tuple(ts)) => {
            Val::Tuple(xs.iter().zip(ts.iter()).map(|(x, t)| sub(x, t)).collect::<Result<_, _>>()?)
        }
        (Value::Variant(c, p), ValueType::Variant(cs)) => {
            let t = cs.iter().find(|(n, _)| n == c).and_then(|(_, t)| t.as_ref());
            let p = match (p, t) {
                (Some(p), Some(t)) => Some(sub(p, t)?),
                (Some(p), None) => Some(to_val(p)?),
                (None, _) => None,
            };
            Val::Variant(c.to_string(), boxed(p))
        }
        (Value::Option(p), ValueType::Option(t)) => Val::Option(boxed(p.as_deref().map(|p| sub(p, t)).transpose()?)),
        (Value::Result(r), ValueType::Result { ok, err }) => {
            let (p, t, is_ok) = match r {
                Ok(p) => (p, ok, true),
                Err(p) => (p, err, false),
            };
            let p = match (p, t) {
                (Some(p), Some(t)) => Some(sub(p, t)?),
                (Some(p), None) => Some(to_val(p)?),
                (None, _) => None,
            };
            Val::Result(if is_ok { Ok(boxed(p)) } else { Err(boxed(p)) })
        }
        (other, _) => to_val(other)?,
    })
}

/// wasmtime's native component support.
pub struct NativeCheck {
    engine: wasmtime::Engine,
    component: Option<(Component, Vec<(String, ItemType)>)>,
    current: Option<(Store<()>, Instance, Host)>,
}

impl NativeCheck {
    /// The reference engine.
    pub fn new() -> Self {
        NativeCheck {
            engine: crate::engines::native::NativeEngine::new().engine().clone(),
            component: None,
            current: None,
        }
    }

    /// Supplies the component's reflected imports (from component-layer), which the generic host follows.
    pub fn set_imports(&mut self, imports: Vec<(String, ItemType)>) {
        if let Some((_, i)) = &mut self.component {
            *i = imports;
        }
    }
}

impl Default for NativeCheck {
    fn default() -> Self {
        Self::new()
    }
}

fn define(
    host: &Host,
    inst: &mut LinkerInstance<'_, ()>,
    parent: Option<&str>,
    items: &[(String, ItemType)],
) -> wasmtime::Result<()> {
    for (name, item) in items {
        match item {
            ItemType::Resource(r) => {
                let payload = {
                    let mut s = host.lock();
                    match s.resources.iter().position(|(x, _)| x == r) {
                        Some(i) => i,
                        None => {
                            s.resources.push((r.clone(), name.clone()));
                            s.resources.len() - 1
                        }
                    }
                };
                let drop_name = format!("[resource-drop]{}", host.lock().resources[payload].1);
                let log = host.clone();
                inst.resource(name, ResourceType::host_dynamic(PAYLOAD_BASE + payload as u32), move |_, rep| {
                    log.lock().log.push(ImportCall {
                        name: drop_name.clone(),
                        args: vec![Value::U32(rep)],
                        result: Ok(None),
                    });
                    Ok(())
                })?;
            }
            ItemType::Instance(inner) => {
                let mut child = inst.instance(name)?;
                define(host, &mut child, Some(name), inner)?;
            }
            ItemType::Func(ty) => {
                let full = match parent {
                    Some(p) => format!("{p}#{name}"),
                    None => name.clone(),
                };
                let (host, ty) = (host.clone(), ty.clone());
                inst.func_new(name, move |mut store, _, args, results| {
                    generic_call(&host, &full, &ty, &mut store, args, results)
                })?;
            }
            ItemType::Module | ItemType::Component | ItemType::Type => {}
        }
    }
    Ok(())
}

fn generic_call(
    host: &Host,
    name: &str,
    ty: &FuncType,
    store: &mut wasmtime::StoreContextMut<'_, ()>,
    args: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let args: Vec<Value> = args.iter().map(|a| neutral_val(a, &mut |r| host.label(&mut *store, r))).collect();
    let seed = host.call_seed(name);
    let Some(rt) = ty.result() else {
        host.lock().log.push(ImportCall { name: name.to_owned(), args, result: Ok(None) });
        return Ok(());
    };
    // Mint handles in generation order, as the runtime's host does, recording each stand-in's label.
    let mut minted: Vec<(component_layer::ResourceType, u32)> = Vec::new();
    let mut source = |r: &component_layer::ResourceType, own: bool| -> component_layer::Result<Value> {
        if !own {
            return Err(component_layer::Error::new(component_layer::ErrorKind::Usage(
                "the generic host cannot return a borrow".into(),
            )));
        }
        minted.push((r.clone(), host.next_rep()));
        Ok(Value::U32(minted.len() as u32 - 1))
    };
    let generated = ValueGen::new(seed).value(rt, &mut source);
    let value = match generated {
        Ok(v) => v,
        Err(e) => {
            let msg = e.to_string();
            host.lock().log.push(ImportCall { name: name.to_owned(), args, result: Err(msg.clone()) });
            return Err(wasmtime::Error::msg(format!("{name}: {msg}")));
        }
    };
    let names: Vec<String> = minted
        .iter()
        .map(|(r, rep)| {
            let name = host.lock().resources.iter().find(|(x, _)| x == r).map(|(_, n)| n.clone()).unwrap_or_default();
            resource_label(true, &name, Some(*rep))
        })
        .collect();
    let logged = super::plan::substitute(
        &value,
        rt,
        &mut |i| names.get(i as usize).cloned().ok_or_else(|| "slot".to_string()),
        &|s| Value::Enum(Arc::from(s.as_str())),
    )
    .map_err(wasmtime::Error::msg)?;
    host.lock().log.push(ImportCall { name: name.to_owned(), args, result: Ok(Some(logged)) });
    let val = to_val_with(&value, rt, &mut |i| {
        let (r, rep) = minted.get(i as usize).ok_or("slot")?;
        let payload = host.payload(r).ok_or("not a host resource")?;
        ResourceDynamic::new_own(*rep, payload)
            .try_into_resource_any(&mut *store)
            .map(Val::Resource)
            .map_err(|e| e.to_string())
    })
    .map_err(wasmtime::Error::msg)?;
    if let Some(slot) = results.first_mut() {
        *slot = val;
    }
    Ok(())
}

fn load_failure(e: wasmtime::Error) -> Failure {
    let msg = format!("{e:?}");
    let feature = msg.contains("feature") || msg.contains("proposal");
    if feature && ["not enabled", "not active", "require", "must be enabled"].iter().any(|w| msg.contains(w)) {
        Failure::Unsupported(msg)
    } else {
        Failure::Invalid(msg)
    }
}

impl CheckEngine for NativeCheck {
    fn name(&self) -> &'static str {
        "wasmtime"
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.current = None;
        let c = Component::new(&self.engine, bytes).map_err(load_failure)?;
        self.component = Some((c, Vec::new()));
        Ok(())
    }

    fn prepare(&mut self, imports: &[(String, ItemType)]) {
        self.set_imports(imports.to_vec());
    }

    fn instantiate(&mut self, seed: u64) -> CallRecord {
        self.current = None;
        let Some((component, imports)) = &self.component else {
            return CallRecord::failed(Failure::Invalid("not loaded".into()));
        };
        let host = Host::default();
        host.lock().seed = seed;
        let mut linker: Linker<()> = Linker::new(&self.engine);
        if let Err(e) = define(&host, &mut linker.root(), None, imports) {
            return CallRecord::failed(Failure::Link(format!("{e:?}")));
        }
        let pre = match linker.instantiate_pre(component) {
            Ok(p) => p,
            Err(e) => return CallRecord::failed(Failure::Link(format!("{e:?}"))),
        };
        let mut store = Store::new(&self.engine, ());
        let outcome = match pre.instantiate(&mut store) {
            Ok(instance) => {
                let imports = std::mem::take(&mut host.lock().log);
                self.current = Some((store, instance, host));
                return CallRecord { outcome: Ok(None), imports };
            }
            Err(e) => Err(Failure::Trap(format!("{e:?}"))),
        };
        let imports = std::mem::take(&mut host.lock().log);
        CallRecord { outcome, imports }
    }

    fn call(&mut self, call: &PlannedCall) -> CallRecord {
        let Some((store, instance, host)) = self.current.as_mut() else {
            return CallRecord::failed(Failure::Trap("no instance".into()));
        };
        let outcome = call_in(store, instance, host, call);
        let imports = std::mem::take(&mut host.lock().log);
        if outcome.is_err() {
            self.current = None;
        }
        CallRecord { outcome, imports }
    }
}

fn func_at(store: &mut Store<()>, instance: &Instance, path: &[String]) -> Result<wasmtime::component::Func, Failure> {
    let missing = || Failure::Link(format!("no export `{}`", path.join("#")));
    let mut index = None;
    for name in path {
        index = Some(instance.get_export_index(&mut *store, index.as_ref(), name).ok_or_else(missing)?);
    }
    let index = index.ok_or_else(missing)?;
    instance.get_func(&mut *store, index).ok_or_else(missing)
}

fn trap(e: wasmtime::Error) -> Failure {
    Failure::Trap(format!("{e:?}"))
}

fn call_in(
    store: &mut Store<()>,
    instance: &Instance,
    host: &Host,
    call: &PlannedCall,
) -> Result<Option<Value>, Failure> {
    let mut made: Vec<Val> = Vec::with_capacity(call.slots.len());
    let mut lent: Vec<ResourceAny> = Vec::new();
    for slot in &call.slots {
        let v = match slot {
            Slot::Host { ty, own } => host.mint(&mut *store, ty, *own).map_err(trap)?,
            Slot::Guest { ctor, args, own } => {
                let f = func_at(store, instance, ctor)?;
                let args = args.iter().map(to_val).collect::<Result<Vec<_>, _>>().map_err(Failure::Trap)?;
                let mut out = [Val::Bool(false)];
                f.call(&mut *store, &args, &mut out).map_err(trap)?;
                if let (false, Val::Resource(r)) = (own, &out[0]) {
                    lent.push(*r);
                }
                out[0].clone()
            }
        };
        made.push(v);
    }
    let args = call
        .args
        .iter()
        .zip(call.ty.params())
        .map(|(v, (_, t))| {
            to_val_with(v, t, &mut |i| made.get(i as usize).cloned().ok_or_else(|| format!("no slot {i}")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::Trap)?;
    let func = func_at(store, instance, &call.path)?;
    let mut results = vec![Val::Bool(false); usize::from(call.ty.result().is_some())];
    func.call(&mut *store, &args, &mut results).map_err(trap)?;
    let result = results.pop();
    let neutral = result.as_ref().map(|v| neutral_val(v, &mut |r| host.label(&mut *store, r)));
    let mut owned = Vec::new();
    if let Some(v) = &result {
        collect_owned(host, v, &mut owned);
    }
    for r in owned.into_iter().chain(lent) {
        r.resource_drop(&mut *store).map_err(trap)?;
    }
    Ok(neutral)
}

fn collect_owned(host: &Host, v: &Val, out: &mut Vec<ResourceAny>) {
    match v {
        Val::Resource(r) if r.owned() && host.name_of(r.ty()).is_none() => out.push(*r),
        Val::List(xs) | Val::Tuple(xs) => xs.iter().for_each(|x| collect_owned(host, x, out)),
        Val::Record(fs) => fs.iter().for_each(|(_, x)| collect_owned(host, x, out)),
        Val::Variant(_, Some(p)) | Val::Option(Some(p)) | Val::Result(Ok(Some(p)) | Err(Some(p))) => {
            collect_owned(host, p, out)
        }
        _ => {}
    }
}
