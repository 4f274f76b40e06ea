//! wasmtime 48's native component support: the reference engine.

use std::sync::Arc;

use component_layer::{List, Value};
use wasmtime::component::{types::ComponentItem, Component, Instance, Linker, Val};
use wasmtime::{Config, Store};

use super::{host, ComponentId, Engine, Failure, InstanceId, Session};

/// wasmtime with the component model (synchronous and asynchronous parts on, as by default).
pub struct NativeEngine {
    engine: wasmtime::Engine,
}

impl NativeEngine {
    /// A wasmtime engine with the synchronous component model: the default configuration with component-model
    /// async off (concurrency support stays on, which is what makes wasmtime trap on reentrance).
    pub fn new() -> Self {
        let mut config = Config::new();
        config.wasm_component_model_async(false);
        Self::with_config(config)
    }

    /// A wasmtime engine with a given configuration (component model always on).
    pub fn with_config(mut config: Config) -> Self {
        config.wasm_component_model(true);
        NativeEngine { engine: wasmtime::Engine::new(&config).expect("valid wasmtime configuration") }
    }

    /// The underlying engine.
    pub fn engine(&self) -> &wasmtime::Engine {
        &self.engine
    }
}

impl Default for NativeEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine for NativeEngine {
    fn name(&self) -> &'static str {
        "wasmtime"
    }

    fn session(&self) -> anyhow::Result<Box<dyn Session>> {
        let mut linker = Linker::new(&self.engine);
        linker.allow_shadowing(true);
        host::define_wasmtime(&mut linker, &self.engine).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(Box::new(NativeSession {
            engine: self.engine.clone(),
            linker,
            components: Vec::new(),
            instances: Vec::new(),
        }))
    }
}

struct NativeSession {
    engine: wasmtime::Engine,
    linker: Linker<()>,
    components: Vec<Component>,
    instances: Vec<Option<(Store<()>, Instance, Component)>>,
}

fn is_trap(e: &wasmtime::Error) -> bool {
    e.downcast_ref::<wasmtime::Trap>().is_some() || e.chain().any(|c| c.to_string().contains("wasm trap"))
}

impl Session for NativeSession {
    fn compile(&mut self, bytes: &[u8]) -> Result<ComponentId, Failure> {
        let c = Component::new(&self.engine, bytes).map_err(|e| {
            let msg = format!("{e:?}");
            let feature = msg.contains("feature") || msg.contains("proposal");
            if feature
                && (msg.contains("not enabled")
                    || msg.contains("not active")
                    || msg.contains("require")
                    || msg.contains("must be enabled"))
            {
                Failure::Unsupported(msg)
            } else {
                Failure::Invalid(msg)
            }
        })?;
        self.components.push(c);
        Ok(self.components.len() - 1)
    }

    fn instantiate(&mut self, component: ComponentId) -> Result<InstanceId, Failure> {
        let mut store = Store::new(&self.engine, ());
        let c = self.components[component].clone();
        match self.linker.instantiate(&mut store, &c) {
            Ok(i) => {
                self.instances.push(Some((store, i, c)));
                Ok(self.instances.len() - 1)
            }
            Err(e) if is_trap(&e) => Err(Failure::Trap(format!("{e:?}"))),
            Err(e) => Err(Failure::Link(format!("{e:?}"))),
        }
    }

    fn instantiate_stubbed(&mut self, component: ComponentId) -> Result<InstanceId, Failure> {
        let mut linker = self.linker.clone();
        let c = self.components[component].clone();
        linker.define_unknown_imports_as_traps(&c).map_err(|e| Failure::Link(format!("{e:?}")))?;
        let mut store = Store::new(&self.engine, ());
        match linker.instantiate(&mut store, &c) {
            Ok(i) => {
                self.instances.push(Some((store, i, c)));
                Ok(self.instances.len() - 1)
            }
            Err(e) if is_trap(&e) => Err(Failure::Trap(format!("{e:?}"))),
            Err(e) => Err(Failure::Link(format!("{e:?}"))),
        }
    }

    fn register(&mut self, instance: InstanceId, name: &str) -> Result<(), Failure> {
        let (store, inst, component) = self.instances[instance].as_mut().ok_or_else(gone)?;
        let ty = component.component_type();
        let mut linker = self.linker.instance(name).map_err(|e| Failure::Link(format!("{e:?}")))?;
        for (export, item) in ty.exports(&self.engine) {
            let r = match item.ty {
                ComponentItem::Module(_) => match inst.get_module(&mut *store, export) {
                    Some(m) => linker.module(export, &m),
                    None => Ok(()),
                },
                ComponentItem::Resource(_) => match inst.get_resource(&mut *store, export) {
                    Some(r) => linker.resource(export, r, |_, _| Ok(())),
                    None => Ok(()),
                },
                _ => Ok(()),
            };
            r.map_err(|e| Failure::Link(format!("{e:?}")))?;
        }
        Ok(())
    }

    fn invoke(&mut self, instance: InstanceId, name: &str, args: &[Value]) -> Result<Vec<Value>, Failure> {
        let (store, inst, _) = self.instances[instance].as_mut().ok_or_else(gone)?;
        let func = inst.get_func(&mut *store, name).ok_or_else(|| Failure::Trap(format!("no function `{name}`")))?;
        let args = args.iter().map(to_val).collect::<Result<Vec<_>, _>>().map_err(Failure::Trap)?;
        let mut results = vec![Val::Bool(false); func.ty(&*store).results().len()];
        func.call(&mut *store, &args, &mut results).map_err(|e| Failure::Trap(format!("{e:?}")))?;
        results.iter().map(from_val).collect::<Result<Vec<_>, _>>().map_err(Failure::Trap)
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

/// Converts a harness value to wasmtime's.
pub fn to_val(v: &Value) -> Result<Val, String> {
    Ok(match v {
        Value::Bool(x) => Val::Bool(*x),
        Value::S8(x) => Val::S8(*x),
        Value::U8(x) => Val::U8(*x),
        Value::S16(x) => Val::S16(*x),
        Value::U16(x) => Val::U16(*x),
        Value::S32(x) => Val::S32(*x),
        Value::U32(x) => Val::U32(*x),
        Value::S64(x) => Val::S64(*x),
        Value::U64(x) => Val::U64(*x),
        Value::F32(x) => Val::Float32(*x),
        Value::F64(x) => Val::Float64(*x),
        Value::Char(x) => Val::Char(*x),
        Value::String(s) => Val::String(s.clone()),
        Value::List(l) => Val::List(l.iter().map(|v| to_val(&v)).collect::<Result<_, _>>()?),
        Value::Record(fs) => {
            Val::Record(fs.iter().map(|(n, v)| Ok((n.to_string(), to_val(v)?))).collect::<Result<_, String>>()?)
        }
        Value::Tuple(vs) => Val::Tuple(vs.iter().map(to_val).collect::<Result<_, _>>()?),
        Value::Variant(c, p) => Val::Variant(c.to_string(), p.as_deref().map(to_val).transpose()?.map(Box::new)),
        Value::Enum(c) => Val::Enum(c.to_string()),
        Value::Option(p) => Val::Option(p.as_deref().map(to_val).transpose()?.map(Box::new)),
        Value::Result(r) => Val::Result(match r {
            Ok(p) => Ok(p.as_deref().map(to_val).transpose()?.map(Box::new)),
            Err(p) => Err(p.as_deref().map(to_val).transpose()?.map(Box::new)),
        }),
        Value::Flags(fs) => Val::Flags(fs.iter().map(|f| f.to_string()).collect()),
        Value::Resource(_) => return Err("resources cannot cross this engine boundary".into()),
    })
}

/// Converts wasmtime's value to the harness's.
pub fn from_val(v: &Val) -> Result<Value, String> {
    let boxed = |p: &Option<Box<Val>>| -> Result<Option<Box<Value>>, String> {
        p.as_deref().map(from_val).transpose().map(|o| o.map(Box::new))
    };
    Ok(match v {
        Val::Bool(x) => Value::Bool(*x),
        Val::S8(x) => Value::S8(*x),
        Val::U8(x) => Value::U8(*x),
        Val::S16(x) => Value::S16(*x),
        Val::U16(x) => Value::U16(*x),
        Val::S32(x) => Value::S32(*x),
        Val::U32(x) => Value::U32(*x),
        Val::S64(x) => Value::S64(*x),
        Val::U64(x) => Value::U64(*x),
        Val::Float32(x) => Value::F32(*x),
        Val::Float64(x) => Value::F64(*x),
        Val::Char(x) => Value::Char(*x),
        Val::String(s) => Value::String(s.clone()),
        Val::List(vs) => Value::List(List::Values(vs.iter().map(from_val).collect::<Result<_, _>>()?)),
        Val::Record(fs) => Value::Record(
            fs.iter().map(|(n, v)| Ok((Arc::from(n.as_str()), from_val(v)?))).collect::<Result<_, String>>()?,
        ),
        Val::Tuple(vs) => Value::Tuple(vs.iter().map(from_val).collect::<Result<_, _>>()?),
        Val::Variant(c, p) => Value::Variant(Arc::from(c.as_str()), boxed(p)?),
        Val::Enum(c) => Value::Enum(Arc::from(c.as_str())),
        Val::Option(p) => Value::Option(boxed(p)?),
        Val::Result(r) => Value::Result(match r {
            Ok(p) => Ok(boxed(p)?),
            Err(p) => Err(boxed(p)?),
        }),
        Val::Flags(fs) => Value::Flags(fs.iter().map(|f| Arc::from(f.as_str())).collect()),
        other => return Err(format!("unsupported value {other:?}")),
    })
}
