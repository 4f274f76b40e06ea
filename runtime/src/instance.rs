//! Instantiation: running a component's plan in a store.
//!
//! [`instantiate`] resolves every import against the linker and type-checks it, creates the component
//! instances' runtime state (flags and handle tables) in the store, fresh resource types for the resources the
//! component defines, and then walks the plan's initializers in order: each core module is instantiated with
//! its imports wired to earlier core instances' exports, `canon lower` trampolines and `resource.*` built-ins
//! (created on first use), so start functions run in binary order with everything they may call in place.
//! Finally the exports become [`Func`]s, nested [`ExportInstance`]s, resource types and modules.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use wasm_runtime_layer::backend::{
    AsContextMut as _, Extern, Imports, WasmEngine, WasmFunc, WasmInstance, WasmStoreContextMut,
};

use crate::abi::CallOptions;
use crate::component::core_types::flat_func_type;
use crate::component::plan::{
    Builtin, Callee, CoreDef, Export as PlanExport, ImportKind, ImportPath, Initializer, LiftDef, ModuleRef, Options,
    ResourceDef,
};
use crate::component::Component;
use crate::concurrent::builtins;
use crate::concurrent::subtask::lower_async;
use crate::error::{Error, Result, Site};
use crate::func::call::{lower_call, resource_new, resource_rep, LiftedFunc, LowerTrampoline, Target};
use crate::func::nesting::{enter, host_call, resume_panic};
use crate::func::Func;
use crate::linker::{Definition, HostImpl, Linker, LinkerInstance};
use crate::module::Module;
use crate::resources::dtors::resource_drop;
use crate::resources::ResourceType;
use crate::store::{check_not_poisoned, AsContextMut, Ctx, InstanceState};
use crate::types::TypeBuilder;

mod index;
mod pre;

pub use index::{ExportIndex, ExportLookup};
pub use pre::InstancePre;

/// An instantiated component.
#[derive(Clone)]
pub struct Instance {
    exports: Arc<IndexMap<String, Export>>,
    /// For each root export of the plan, its position in `exports` (some are not visible to the host).
    slots: Arc<[Option<u32>]>,
    component: Component,
}

/// An item an instance exports.
#[derive(Clone)]
pub enum Export {
    /// A function.
    Func(Func),
    /// A nested instance (an exported interface).
    Instance(ExportInstance),
    /// A core module.
    Module(Module),
    /// A type; resource types carry their runtime identity.
    Type(Option<ResourceType>),
}

/// An exported instance: a named set of exports.
#[derive(Clone)]
pub struct ExportInstance {
    exports: Arc<IndexMap<String, Export>>,
    /// As [`Instance`]'s.
    slots: Arc<[Option<u32>]>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").field("exports", &self.exports.keys().collect::<Vec<_>>()).finish()
    }
}

impl std::fmt::Debug for ExportInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportInstance").field("exports", &self.exports.keys().collect::<Vec<_>>()).finish()
    }
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Export::Func(x) => x.fmt(f),
            Export::Instance(x) => x.fmt(f),
            Export::Module(_) => f.write_str("Module"),
            Export::Type(t) => write!(f, "Type({t:?})"),
        }
    }
}

impl ExportInstance {
    /// The export `name`.
    pub fn get_export(&self, name: &str) -> Option<&Export> {
        self.exports.get(name)
    }

    /// The function `name`.
    pub fn get_func(&self, name: &str) -> Option<Func> {
        match self.exports.get(name)? {
            Export::Func(f) => Some(f.clone()),
            _ => None,
        }
    }

    /// The nested instance `name`.
    pub fn get_instance(&self, name: &str) -> Option<&ExportInstance> {
        match self.exports.get(name)? {
            Export::Instance(i) => Some(i),
            _ => None,
        }
    }

    /// All exports, in order.
    pub fn exports(&self) -> impl Iterator<Item = (&str, &Export)> {
        self.exports.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl Instance {
    /// The component this is an instance of.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// The root export `name`, or the export at an [`ExportIndex`].
    pub fn get_export(&self, name: impl ExportLookup) -> Option<&Export> {
        name.lookup(self)
    }

    /// The root function `name`, or the function at an [`ExportIndex`].
    pub fn get_func(&self, name: impl ExportLookup) -> Option<Func> {
        match name.lookup(self)? {
            Export::Func(f) => Some(f.clone()),
            _ => None,
        }
    }

    /// The exported instance `name` (e.g. an interface `ns:pkg/iface@1.0.0`).
    pub fn get_instance(&self, name: &str) -> Option<&ExportInstance> {
        match self.exports.get(name)? {
            Export::Instance(i) => Some(i),
            _ => None,
        }
    }

    /// A function found by a path of export names: `["ns:pkg/iface@1.0.0", "f"]`.
    pub fn get_func_by_path(&self, path: &[&str]) -> Option<Func> {
        let (last, prefix) = path.split_last()?;
        let mut map = &self.exports;
        for name in prefix {
            match map.get(*name)? {
                Export::Instance(i) => map = &i.exports,
                _ => return None,
            }
        }
        match map.get(*last)? {
            Export::Func(f) => Some(f.clone()),
            _ => None,
        }
    }

    /// The resource type exported as `name` at the root.
    pub fn get_resource(&self, name: &str) -> Option<ResourceType> {
        match self.exports.get(name)? {
            Export::Type(Some(r)) => Some(r.clone()),
            _ => None,
        }
    }

    /// All root exports, in order.
    pub fn exports(&self) -> impl Iterator<Item = (&str, &Export)> {
        self.exports.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// Resolves and type-checks `component`'s imports against `linker`, once (see [`InstancePre`]).
pub(crate) fn pre<T: 'static, E: WasmEngine>(
    linker: &Linker<T, E>,
    component: &Component,
) -> Result<InstancePre<T, E>> {
    component.modules::<E>()?;
    let plan = &component.plan;

    // Resolve the imports.
    let mut imports: Vec<Option<Definition<T, E>>> = Vec::with_capacity(plan.imports.len());
    for decl in &plan.imports {
        let def = linker.root_ref().get(&decl.name).cloned();
        if def.is_none() && requires(&decl.kind) {
            return Err(Error::link(format!(
                "component imports {} `{}`, but the linker does not define it",
                kind_name(&decl.kind),
                decl.name
            )));
        }
        imports.push(def);
    }

    // Imported resource types; those the component defines are made fresh by each instantiation, and stand in
    // abstractly for the type check (imports cannot refer to them).
    let mut imported = Vec::with_capacity(plan.resources.len());
    let mut resources = Vec::with_capacity(plan.resources.len());
    for (i, r) in plan.resources.iter().enumerate() {
        let ty = match r {
            ResourceDef::Defined { .. } => None,
            ResourceDef::Imported(path) => match def_at(&imports, path) {
                Some(Definition::Resource { ty, .. }) => Some(ty.clone()),
                Some(other) => {
                    return Err(Error::link(format!(
                        "import `{}` must be a resource type, found a {}",
                        plan.path_name(path),
                        other.kind_name()
                    )))
                }
                None => return Err(undefined_resource(plan, &imports, i as u32, path)),
            },
        };
        resources.push(
            ty.clone().unwrap_or_else(|| ResourceType::abstract_(component.id, i as u32, plan.resource_name(i as u32))),
        );
        imported.push(ty);
    }

    // Type-check every import now that resource types are known.
    for (i, decl) in plan.imports.iter().enumerate() {
        if let Some(def) = &imports[i] {
            check_import(plan, &resources, &decl.kind, def, &decl.name)?;
        }
    }

    let mut host_dtors = Vec::new();
    collect_host_dtors(linker.root_ref(), &mut host_dtors);
    Ok(InstancePre::new(component.clone(), imports.into(), imported.into(), host_dtors.into()))
}

/// Runs the plan of a pre-instantiated component in a store.
pub(crate) fn instantiate<T: 'static, E: WasmEngine, S: AsContextMut<Data = T, Engine = E>>(
    pre: &InstancePre<T, E>,
    mut store: S,
) -> Result<Instance> {
    let component = pre.component();
    let modules = component.modules::<E>()?;
    let plan = component.plan.clone();
    let mut sc = store.as_context_mut();
    let ctx = &mut sc.inner;
    check_not_poisoned(&ctx.data_mut().rt)?;
    let imports = pre.imports();
    check_stores(imports, &plan, ctx.data_mut().rt.id)?;

    // Runtime state of the component instances, and resource types.
    let rt = &mut ctx.data_mut().rt;
    let base = rt.instances.len() as u32;
    let store_id = rt.id;
    let resources: Arc<[ResourceType]> = plan
        .resources
        .iter()
        .zip(pre.imported_resources())
        .enumerate()
        .map(|(i, (r, imported))| match (r, imported) {
            (ResourceDef::Defined { instance }, _) => {
                ResourceType::guest(store_id, base + instance, plan.resource_name(i as u32))
            }
            (ResourceDef::Imported(_), Some(ty)) => ty.clone(),
            (ResourceDef::Imported(_), None) => ResourceType::abstract_(component.id, u32::MAX, None),
        })
        .collect();

    for parent in &plan.instance_parents {
        rt.instances.push(InstanceState::new(parent.map(|p| base + p)));
    }
    // Host destructors of imported host resources.
    for (ty, dtor) in pre.host_dtors() {
        ctx.data_mut().dtors.add_host(ty, dtor);
    }

    let mut inst = Instantiator {
        plan: plan.clone(),
        modules,
        imports,
        resources,
        base,
        store_id,
        core_instances: Vec::with_capacity(plan.num_core_instances as usize),
        lowers: vec![None; plan.lowers.len()],
        builtins: HashMap::new(),
    };
    let exports = inst.run_all(ctx);
    // A host function called by a start function may have panicked: the panic goes on in the embedder's frames.
    resume_panic(&mut ctx.data_mut().rt);
    let (exports, slots) = exports?;
    Ok(Instance { exports: Arc::new(exports), slots, component: component.clone() })
}

/// Functions of other component instances must live in the instantiating store (checked per store, since a
/// pre-instantiation is not bound to one).
fn check_stores<T: 'static, E: WasmEngine>(
    imports: &[Option<Definition<T, E>>],
    plan: &crate::component::plan::Plan,
    store_id: u64,
) -> Result<()> {
    fn walk<T: 'static, E: WasmEngine>(
        kind: &ImportKind,
        def: &Definition<T, E>,
        name: &str,
        store: u64,
    ) -> Result<()> {
        match (kind, def) {
            (ImportKind::Func(_), Definition::ComponentFunc(f)) if f.store != store => {
                Err(Error::link(format!("import `{name}`: the function belongs to another store")))
            }
            (ImportKind::Instance(map), Definition::Instance(i)) => map.iter().try_for_each(|(n, k)| match i.get(n) {
                Some(d) => walk(k, d, &format!("{name}#{n}"), store),
                None => Ok(()),
            }),
            _ => Ok(()),
        }
    }
    for (def, decl) in imports.iter().zip(&plan.imports) {
        if let Some(def) = def {
            walk(&decl.kind, def, &decl.name, store_id)?;
        }
    }
    Ok(())
}

/// One level of exports: the visible ones, and where each of the plan's exports is among them.
type ExportLevel = (IndexMap<String, Export>, Arc<[Option<u32>]>);

struct Instantiator<'a, T: 'static, E: WasmEngine> {
    plan: Arc<crate::component::plan::Plan>,
    modules: &'a [E::Module],
    imports: &'a [Option<Definition<T, E>>],
    resources: Arc<[ResourceType]>,
    base: u32,
    store_id: u64,
    core_instances: Vec<E::Instance>,
    lowers: Vec<Option<E::Func>>,
    builtins: HashMap<CoreDef, E::Func>,
}

impl<'a, T: 'static, E: WasmEngine> Instantiator<'a, T, E> {
    /// Runs the plan's initializers in order, then collects the exports.
    fn run_all(&mut self, ctx: &mut Ctx<'_, T, E>) -> Result<ExportLevel> {
        let plan = self.plan.clone();
        for init in &plan.initializers {
            self.run(ctx, init)?;
        }
        self.exports(ctx, &plan.exports, None)
    }

    /// The visible exports of one level (inside exported instance `prefix`, if any), and where each of the plan's
    /// exports ended up among them.
    fn exports(
        &mut self,
        ctx: &mut Ctx<'_, T, E>,
        map: &IndexMap<String, PlanExport>,
        prefix: Option<&str>,
    ) -> Result<ExportLevel> {
        let mut exports = IndexMap::new();
        let mut slots = Vec::with_capacity(map.len());
        for (name, e) in map {
            let full = match prefix {
                Some(p) => format!("{p}#{name}"),
                None => name.clone(),
            };
            let slot = self.export(ctx, e, &full)?.map(|x| exports.insert_full(name.clone(), x).0 as u32);
            slots.push(slot);
        }
        Ok((exports, slots.into()))
    }

    fn run(&mut self, ctx: &mut Ctx<'_, T, E>, init: &Initializer) -> Result<()> {
        match init {
            Initializer::InstantiateModule { module, args, .. } => {
                let module = match module {
                    ModuleRef::Static(i) => self.modules[*i].clone(),
                    ModuleRef::Import(path) => match def_at(self.imports, path) {
                        Some(Definition::Module(m)) => m.backend::<E>()?.clone(),
                        _ => return Err(Error::link("imported module is not defined")),
                    },
                };
                let mut imports = Imports::new();
                for (m, n, def) in args {
                    let ext = self.resolve(ctx, def)?;
                    imports.define(m, n, ext);
                }
                // The start function runs now: instantiating is entering the guest.
                let instance = enter::<T, E, _>(ctx, |ctx| E::Instance::new(ctx.as_context_mut(), &module, &imports))
                    .map_err(|e| e.context("while instantiating a core module"))?;
                self.core_instances.push(instance);
            }
            Initializer::DefineResource { resource, dtor } => {
                let dtor = match dtor {
                    Some(d) => Some(self.func(ctx, d)?),
                    None => None,
                };
                ctx.data_mut().dtors.add_guest(&self.resources[*resource as usize], dtor);
            }
        }
        Ok(())
    }

    /// The backend object a core definition stands for.
    fn resolve(&mut self, ctx: &mut Ctx<'_, T, E>, def: &CoreDef) -> Result<Extern<E>> {
        match def {
            CoreDef::Export { instance, name } => {
                let inst = self
                    .core_instances
                    .get(*instance as usize)
                    .ok_or_else(|| Error::internal("core instance used before it was created"))?;
                inst.get_export(wasm_runtime_layer::backend::AsContext::as_context(ctx), name)
                    .ok_or_else(|| Error::link(format!("core instance has no export `{name}`")))
            }
            CoreDef::Lower(i) => Ok(Extern::Func(self.lower(ctx, *i)?)),
            CoreDef::Builtin(i) => Ok(Extern::Func(self.async_builtin(ctx, *i)?)),
            builtin => Ok(Extern::Func(self.builtin(ctx, builtin)?)),
        }
    }

    fn func(&mut self, ctx: &mut Ctx<'_, T, E>, def: &CoreDef) -> Result<E::Func> {
        match self.resolve(ctx, def)? {
            Extern::Func(f) => Ok(f),
            _ => Err(Error::link("expected a core function")),
        }
    }

    fn options(&mut self, ctx: &mut Ctx<'_, T, E>, o: &Options) -> Result<CallOptions<E>> {
        let memory = match &o.memory {
            Some(d) => match self.resolve(ctx, d)? {
                Extern::Memory(m) => Some(m),
                _ => return Err(Error::link("canonical option `memory` is not a memory")),
            },
            None => None,
        };
        let realloc = o.realloc.as_ref().map(|d| self.func(ctx, d)).transpose()?;
        let post_return = o.post_return.as_ref().map(|d| self.func(ctx, d)).transpose()?;
        let memory_index = memory.as_ref().map(|m| ctx.data_mut().rt.register_memory(m)).transpose()?;
        Ok(CallOptions {
            memory,
            realloc,
            post_return,
            encoding: o.encoding,
            instance: self.base + o.instance,
            memory_index,
        })
    }

    fn lifted(&mut self, ctx: &mut Ctx<'_, T, E>, l: &LiftDef, site: Site) -> Result<LiftedFunc<E>> {
        let opts = self.options(ctx, &l.options)?;
        let host_entry = crate::func::call::instance_chain(&ctx.data_mut().rt, Some(opts.instance));
        let callback = l.options.callback.as_ref().map(|c| self.func(ctx, c)).transpose()?;
        Ok(LiftedFunc {
            site,
            callee: self.func(ctx, &l.core)?,
            opts,
            ty: l.ty,
            plan: self.plan.clone(),
            resources: self.resources.clone(),
            host_entry,
            async_ty: self.plan.types.func(l.ty).def.async_,
            callback,
        })
    }

    /// The trampoline of a `canon lower`, created on first use.
    fn lower(&mut self, ctx: &mut Ctx<'_, T, E>, i: u32) -> Result<E::Func> {
        if let Some(f) = &self.lowers[i as usize] {
            return Ok(f.clone());
        }
        let plan = self.plan.clone();
        let def = &plan.lowers[i as usize];
        let opts = self.options(ctx, &def.options)?;
        let callee = match &def.callee {
            Callee::Import(path) => match def_at(self.imports, path) {
                Some(Definition::Func { f: HostImpl::Dynamic(f), .. }) => Target::Host(f.clone()),
                Some(Definition::Func { f: HostImpl::Typed(f), .. }) => Target::Typed(f.clone()),
                Some(Definition::Func { f: HostImpl::Async(f), .. }) => Target::HostAsync(f.clone()),
                Some(Definition::ComponentFunc(func)) => {
                    if func.store != self.store_id {
                        return Err(Error::link("function from another store"));
                    }
                    Target::Lifted(func.arc::<E>()?)
                }
                _ => return Err(Error::link(format!("function `{}` is not defined", plan.path_name(path)))),
            },
            // Another component of the plan lifts it; it is known by the name the lowering component gives it.
            Callee::Lifted(l) => Target::Lifted(Arc::new(self.lifted(ctx, l, Site::Export(def.name.clone()))?)),
        };
        let tramp = Arc::new(LowerTrampoline {
            site: Site::Import(def.name.clone()),
            opts,
            ty: def.ty,
            plan: plan.clone(),
            resources: self.resources.clone(),
            callee,
        });
        let fe = plan.types.func(def.ty);
        let f = if def.options.async_ {
            let (params, results) = fe.abi.async_lower_core_type(fe.def.result.is_some());
            <E::Func as WasmFunc<E>>::new(
                ctx.as_context_mut(),
                flat_func_type(&params, &results),
                move |mut c: Ctx<'_, T, E>, args, results| {
                    host_call::<T, E>(&mut c, |c| {
                        lower_async::<T, E>(c, &tramp, args, results).map_err(|e| e.in_func(&tramp.site))
                    })
                },
            )
        } else {
            let (params, results) = fe.abi.lower_core_type();
            <E::Func as WasmFunc<E>>::new(
                ctx.as_context_mut(),
                flat_func_type(&params, &results),
                move |mut c: Ctx<'_, T, E>, args, results| {
                    host_call::<T, E>(&mut c, |c| lower_call::<T, E>(c, &tramp, args, results))
                },
            )
        };
        self.lowers[i as usize] = Some(f.clone());
        Ok(f)
    }

    /// An async or error-context built-in, created on first use.
    fn async_builtin(&mut self, ctx: &mut Ctx<'_, T, E>, i: u32) -> Result<E::Func> {
        let key = CoreDef::Builtin(i);
        if let Some(f) = self.builtins.get(&key) {
            return Ok(f.clone());
        }
        let plan = self.plan.clone();
        let def = &plan.builtins[i as usize];
        let inst = self.base + def.instance;
        let opts = match &def.builtin {
            Builtin::TaskReturn { options, .. }
            | Builtin::Read { options, .. }
            | Builtin::Write { options, .. }
            | Builtin::ErrorContextNew { options }
            | Builtin::ErrorContextDebugMessage { options } => self.options(ctx, options)?,
            Builtin::WaitableSetWait { memory, .. } | Builtin::WaitableSetPoll { memory, .. } => {
                let memory = match self.resolve(ctx, memory)? {
                    Extern::Memory(m) => m,
                    _ => return Err(Error::link("canonical option `memory` is not a memory")),
                };
                CallOptions::memory_only(memory, inst)
            }
            _ => CallOptions::none(inst),
        };
        let ty = builtins::core_type(&def.builtin, &plan);
        let b = Arc::new(builtins::BuiltinFunc {
            builtin: def.builtin.clone(),
            inst,
            opts,
            plan: plan.clone(),
            resources: self.resources.clone(),
        });
        let f = <E::Func as WasmFunc<E>>::new(ctx.as_context_mut(), ty, move |mut c: Ctx<'_, T, E>, args, results| {
            host_call::<T, E>(&mut c, |c| builtins::call::<T, E>(c, &b, args, results))
        });
        self.builtins.insert(key, f.clone());
        Ok(f)
    }

    /// A `resource.new`, `resource.rep` or `resource.drop` built-in, created on first use.
    fn builtin(&mut self, ctx: &mut Ctx<'_, T, E>, def: &CoreDef) -> Result<E::Func> {
        if let Some(f) = self.builtins.get(def) {
            return Ok(f.clone());
        }
        use wasm_runtime_layer::backend::Val;
        use wasm_runtime_layer::{FuncType, ValType};
        let (resource, instance) = match def {
            CoreDef::ResourceNew { resource, instance }
            | CoreDef::ResourceRep { resource, instance }
            | CoreDef::ResourceDrop { resource, instance } => (*resource, self.base + instance),
            _ => unreachable!("not a built-in"),
        };
        let rt = self.resources[resource as usize].clone();
        let arg = |args: &[Val<E>]| match args.first() {
            Some(Val::I32(x)) => *x as u32,
            _ => 0,
        };
        let f = match def {
            CoreDef::ResourceNew { .. } => <E::Func as WasmFunc<E>>::new(
                ctx.as_context_mut(),
                FuncType::new([ValType::I32], [ValType::I32]),
                move |mut c: Ctx<'_, T, E>, args, results| {
                    host_call::<T, E>(&mut c, |c| {
                        results[0] = Val::I32(resource_new::<T, E>(c, instance, &rt, arg(args))? as i32);
                        Ok(())
                    })
                },
            ),
            CoreDef::ResourceRep { .. } => <E::Func as WasmFunc<E>>::new(
                ctx.as_context_mut(),
                FuncType::new([ValType::I32], [ValType::I32]),
                move |mut c: Ctx<'_, T, E>, args, results| {
                    host_call::<T, E>(&mut c, |c| {
                        results[0] = Val::I32(resource_rep::<T, E>(c, instance, &rt, arg(args))? as i32);
                        Ok(())
                    })
                },
            ),
            _ => <E::Func as WasmFunc<E>>::new(
                ctx.as_context_mut(),
                FuncType::new([ValType::I32], []),
                move |mut c: Ctx<'_, T, E>, args, _| {
                    host_call::<T, E>(&mut c, |c| resource_drop::<T, E>(c, instance, &rt, arg(args)))
                },
            ),
        };
        self.builtins.insert(def.clone(), f.clone());
        Ok(f)
    }

    /// The export `e`, named `name` (`iface#f` inside exported instances).
    fn export(&mut self, ctx: &mut Ctx<'_, T, E>, e: &PlanExport, name: &str) -> Result<Option<Export>> {
        Ok(Some(match e {
            PlanExport::LiftedFunc(l) => {
                let f = self.lifted(ctx, l, Site::Export(name.into()))?;
                Export::Func(Func::lifted(self.store_id, Arc::new(f)))
            }
            PlanExport::ImportFunc(path, _) => match def_at(self.imports, path) {
                Some(Definition::ComponentFunc(f)) => Export::Func(f.clone()),
                // Re-exporting a host function: callers can call the host function directly.
                _ => return Ok(None),
            },
            PlanExport::Instance(map) => {
                let (out, slots) = self.exports(ctx, map, Some(name))?;
                Export::Instance(ExportInstance { exports: Arc::new(out), slots })
            }
            PlanExport::Module(ModuleRef::Static(i)) => {
                Export::Module(Module::from_backend::<E>(self.modules[*i].clone()))
            }
            PlanExport::Module(ModuleRef::Import(path)) => match def_at(self.imports, path) {
                Some(Definition::Module(m)) => Export::Module(m.clone()),
                _ => return Ok(None),
            },
            PlanExport::Resource(r) => Export::Type(Some(self.resources[*r as usize].clone())),
            PlanExport::Type(_) => Export::Type(None),
            PlanExport::Component => return Ok(None),
        }))
    }
}

/// The definition at an import path.
fn def_at<'a, T: 'static, E: WasmEngine>(
    imports: &'a [Option<Definition<T, E>>],
    path: &ImportPath,
) -> Option<&'a Definition<T, E>> {
    let mut def = imports.get(path.import as usize)?.as_ref()?;
    for name in &path.path {
        match def {
            Definition::Instance(i) => def = i.get(name)?,
            _ => return None,
        }
    }
    Some(def)
}

/// The link error for imported resource `r`, which the linker does not define at `path`: names where the linker
/// defines it instead, if it does so under an import that only refers to it.
fn undefined_resource<T: 'static, E: WasmEngine>(
    plan: &crate::component::plan::Plan,
    imports: &[Option<Definition<T, E>>],
    r: u32,
    path: &ImportPath,
) -> Error {
    let mut elsewhere = Vec::new();
    for (i, decl) in plan.imports.iter().enumerate() {
        alias_paths(&decl.kind, ImportPath { import: i as u32, path: Vec::new() }, r, &mut elsewhere);
    }
    elsewhere.retain(|p| matches!(def_at(imports, p), Some(Definition::Resource { .. })));
    let name = plan.path_name(path);
    match elsewhere.first() {
        None => Error::link(format!("resource type `{name}` is not defined in the linker")),
        Some(p) => Error::link(format!(
            "resource type `{name}` is not defined in the linker; it is defined under `{}`, which the component \
             declares equal to `{name}`: define it under `{name}`",
            plan.path_name(p)
        )),
    }
}

/// The paths of the imports that are aliases (`(eq …)`) of resource `r`.
fn alias_paths(kind: &ImportKind, path: ImportPath, r: u32, out: &mut Vec<ImportPath>) {
    match kind {
        ImportKind::ResourceAlias(x) if *x == r => out.push(path),
        ImportKind::Instance(map) => {
            for (n, k) in map {
                alias_paths(k, path.child(n), r, out);
            }
        }
        _ => {}
    }
}

/// Whether an import must be provided (types need not be; instances only if something in them is needed).
fn requires(kind: &ImportKind) -> bool {
    match kind {
        ImportKind::Type(_) | ImportKind::ResourceAlias(_) => false,
        ImportKind::Instance(map) => map.values().any(requires),
        _ => true,
    }
}

fn kind_name(kind: &ImportKind) -> &'static str {
    match kind {
        ImportKind::Func(_) => "function",
        ImportKind::Instance(_) => "instance",
        ImportKind::Module(_) => "module",
        ImportKind::Resource(_) | ImportKind::ResourceAlias(_) => "resource type",
        ImportKind::Type(_) => "type",
    }
}

fn check_import<T: 'static, E: WasmEngine>(
    plan: &crate::component::plan::Plan,
    resources: &[ResourceType],
    kind: &ImportKind,
    def: &Definition<T, E>,
    name: &str,
) -> Result<()> {
    let fail = |m: std::fmt::Arguments<'_>| Err(Error::link(format!("import `{name}`: {m}")));
    match (kind, def) {
        (ImportKind::Type(_), _) => Ok(()),
        (ImportKind::Func(ty), Definition::Func { check, .. }) => match check {
            Some(check) => {
                let res = |i: u32| resources[i as usize].clone();
                match check(&TypeBuilder { table: &plan.types, resources: &res }.func(*ty)) {
                    Ok(()) => Ok(()),
                    Err(m) => fail(format_args!("{m}")),
                }
            }
            None => Ok(()),
        },
        (ImportKind::Func(ty), Definition::ComponentFunc(f)) => {
            let res = |i: u32| resources[i as usize].clone();
            let want = TypeBuilder { table: &plan.types, resources: &res }.func(*ty);
            let have = f.ty();
            if want != have {
                return fail(format_args!("expected `{want}`, found `{have}`"));
            }
            Ok(())
        }
        (ImportKind::Instance(map), Definition::Instance(inst)) => check_instance(plan, resources, map, inst, name),
        (ImportKind::Module(mt), Definition::Module(m)) => match m.check(mt) {
            Ok(()) => Ok(()),
            Err(m) => fail(format_args!("{m}")),
        },
        (ImportKind::Resource(r) | ImportKind::ResourceAlias(r), Definition::Resource { ty, .. }) => {
            let want = &resources[*r as usize];
            if want == ty {
                return Ok(());
            }
            match &plan.resources[*r as usize] {
                ResourceDef::Imported(path) => fail(format_args!(
                    "the linker defines resource type `{ty}` here, but the component declares it equal to `{}`, \
                     where the linker defines `{want}`",
                    plan.path_name(path)
                )),
                ResourceDef::Defined { .. } => {
                    fail(format_args!("the linker defines resource type `{ty}`, the component expects `{want}`"))
                }
            }
        }
        _ => fail(format_args!("must be a {}, found a {}", kind_name(kind), def.kind_name())),
    }
}

fn check_instance<T: 'static, E: WasmEngine>(
    plan: &crate::component::plan::Plan,
    resources: &[ResourceType],
    map: &IndexMap<String, ImportKind>,
    inst: &LinkerInstance<T, E>,
    name: &str,
) -> Result<()> {
    for (n, k) in map {
        match inst.get(n) {
            Some(d) => check_import(plan, resources, k, d, &format!("{name}#{n}"))?,
            None if requires(k) => {
                return Err(Error::link(format!("instance `{name}` has no {} `{n}`", kind_name(k))));
            }
            None => {}
        }
    }
    Ok(())
}

/// The host destructors of the linker's resource types, which `resource.drop` finds through the store.
fn collect_host_dtors<T: 'static, E: WasmEngine>(
    inst: &LinkerInstance<T, E>,
    out: &mut Vec<(ResourceType, crate::resources::HostDtor<T, E>)>,
) {
    for def in inst.items.values() {
        match def {
            Definition::Resource { ty, dtor: Some(d) } => out.push((ty.clone(), d.clone())),
            Definition::Instance(i) => collect_host_dtors(i, out),
            _ => {}
        }
    }
}
