//! The generic recording host on wasmtime: it behaves exactly as [`component_layer::generic`]'s does on
//! component-layer — the same values from the same seeds (it uses the runtime's [`ValueGen`]), handles minted
//! with the same representations, the same engine-neutral log — following the imports component-layer
//! reflects from the same bytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use component_layer::generic::{mix_seed, name_hash, resource_label, ImportCall, ValueGen};
use component_layer::types::{FuncType, ItemType, ValueType};
use component_layer::Value;
use wasmtime::component::{LinkerInstance, ResourceAny, ResourceDynamic, ResourceType, Val};
use wasmtime::AsContextMut;

use crate::engine::host::HostFailure;
use crate::engine::value::{from_val, has_resources, substitute, to_val};

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

/// The generic host of one wasmtime instance. Clones share the state.
#[derive(Clone, Default)]
pub struct GenericHost(Arc<Mutex<HostState>>);

impl GenericHost {
    /// A host for `seed` that defines every import in `imports` (as component-layer reflects them) in `root`.
    pub fn define(
        seed: u64,
        root: &mut LinkerInstance<'_, ()>,
        imports: &[(String, ItemType)],
    ) -> wasmtime::Result<Self> {
        let host = GenericHost::default();
        host.lock().seed = seed;
        define(&host, root, None, imports)?;
        Ok(host)
    }

    /// The calls logged so far, emptying the log.
    pub fn take_log(&self) -> Vec<ImportCall> {
        std::mem::take(&mut self.lock().log)
    }

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
    pub fn name_of(&self, ty: ResourceType) -> Option<String> {
        let s = self.lock();
        s.resources
            .iter()
            .enumerate()
            .find(|(i, _)| ResourceType::host_dynamic(PAYLOAD_BASE + *i as u32) == ty)
            .map(|(_, (_, n))| n.clone())
    }

    /// A resource as the log shows it: `own<name>#rep` for this host's types, `own<guest>` otherwise.
    pub fn label(&self, store: impl AsContextMut, r: &ResourceAny) -> String {
        match self.name_of(r.ty()) {
            Some(name) => {
                let rep = ResourceDynamic::try_from_resource_any(*r, store).ok().map(|d| d.rep());
                resource_label(r.owned(), &name, rep)
            }
            None => resource_label(r.owned(), "guest", None),
        }
    }

    /// A new handle of the host resource type that answers the component's `ty`, with the next representation.
    pub fn mint(
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

/// A value with resource stand-ins as a wasmtime value of component-layer type `ty`.
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

fn define(
    host: &GenericHost,
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
                if ty.is_async() {
                    // wasmtime 48 takes an `async func` import only from a concurrent host function; this one
                    // answers at once, as the runtime's generic host does.
                    inst.func_new_concurrent(name, move |accessor, _, args, results| {
                        let answer = accessor.with(|mut access| {
                            generic_call(&host, &full, &ty, &mut access.as_context_mut(), args, results)
                        });
                        Box::pin(std::future::ready(answer))
                    })?;
                } else {
                    inst.func_new(name, move |mut store, _, args, results| {
                        generic_call(&host, &full, &ty, &mut store, args, results)
                    })?;
                }
            }
            ItemType::Module | ItemType::Component | ItemType::Type(_) => {}
        }
    }
    Ok(())
}

fn generic_call(
    host: &GenericHost,
    name: &str,
    ty: &FuncType,
    store: &mut wasmtime::StoreContextMut<'_, ()>,
    args: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let args: Vec<Value> = args
        .iter()
        .map(|a| from_val(a, &mut |r| host.label(&mut *store, r)))
        .collect::<Result<_, _>>()
        .map_err(wasmtime::Error::msg)?;
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
            return Err(wasmtime::Error::new(HostFailure(format!("{name}: {msg}"))));
        }
    };
    let names: Vec<String> = minted
        .iter()
        .map(|(r, rep)| {
            let name = host.lock().resources.iter().find(|(x, _)| x == r).map(|(_, n)| n.clone()).unwrap_or_default();
            resource_label(true, &name, Some(*rep))
        })
        .collect();
    let logged =
        substitute(&value, rt, &mut |i, _| names.get(i as usize).cloned().ok_or_else(|| "slot".to_string()), &|s| {
            Value::Enum(Arc::from(s.as_str()))
        })
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
