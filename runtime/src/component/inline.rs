//! Phase 2 of loading: instantiate the component symbolically and flatten it into a [`Plan`].
//!
//! Each component instantiation — the root, and every `instance (instantiate …)` inside it, transitively — is a
//! [`Frame`] on an explicit stack. A frame walks its component's [`LocalInit`]s and keeps its index spaces as
//! *definitions* ([`ItemDef`], [`CoreDef`]) rather than indices: a core function is "export `f` of core instance
//! 3" or "lowered trampoline 7", a component function is "lifted core function X with options Y in component
//! instance 2" or "root import `a:b/c` → `f`". Core instantiations and resource definitions become
//! [`Initializer`]s in binary order, which is the order their start functions must run.
//!
//! Resource identity: wasmparser identifies resources by [`ResourceId`]. A nested component's own ids are the
//! same for every instantiation of it, so each frame maps the ids it sees to the plan's [`ResourceIdx`]: local
//! definitions get a fresh index per frame, imported resources take the index of the argument, and when a child
//! finishes, the fresh ids wasmparser gave the parent's view of the child's instance are mapped to the child's
//! exported resources. Types are converted into the plan's [`TypeTable`] with the frame's map, so alias ids and
//! per-instantiation ids never reach the runtime.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentCoreModuleTypeId, ComponentDefinedType, ComponentEntityType, ComponentFuncTypeId,
    ComponentInstanceTypeId, ComponentValType, ResourceId,
};
use wasmparser::types::{EntityType, Types};
use wasmparser::{ComponentExternalKind, ComponentOuterAliasKind, ExternalKind, PrimitiveValType};

use super::parse::{Item, LocalInit, LocalOptions, Parsed, StaticComponent};
use super::plan::*;
use crate::abi::types::{FuncIdx, FuncTypeDef, ResourceIdx, Ty, TypeDef};
use crate::error::{Error, Result};

/// Limits that keep a hostile component (for example one that instantiates a component argument with itself)
/// from making the planner loop or exhaust memory.
const MAX_INSTANTIATIONS: usize = 10_000;
const MAX_INITIALIZERS: usize = 1_000_000;

#[derive(Clone)]
enum ItemDef {
    Func(FuncDef),
    Instance(InstanceDef),
    Module(ModuleDef),
    Component(ComponentDef),
    Type(TypeRef),
}

#[derive(Clone)]
enum FuncDef {
    Import(ImportPath, FuncIdx),
    Lifted(Arc<LiftDef>),
}

#[derive(Clone)]
enum InstanceDef {
    Import(ImportPath, ComponentInstanceTypeId),
    Items(Arc<IndexMap<String, ItemDef>>),
}

#[derive(Clone)]
enum ModuleDef {
    Static(usize),
    Import(ImportPath, ComponentCoreModuleTypeId),
}

#[derive(Clone)]
struct ComponentDef {
    index: usize,
    closure: Arc<Closure>,
}

#[derive(Clone, Copy)]
enum TypeRef {
    Resource(ResourceIdx),
    /// Any other type, with its definition when it is a value type.
    Other(Option<Ty>),
}

#[derive(Clone)]
enum CoreInstanceDef {
    Instantiated(CoreInstanceIdx),
    Synthetic(Arc<HashMap<String, CoreDef>>),
}

/// The modules and components an inner component can reach with outer aliases, captured where it is defined.
#[derive(Default)]
struct Closure {
    modules: Vec<ModuleDef>,
    components: Vec<ComponentDef>,
    outer: Option<Arc<Closure>>,
}

struct Frame<'a> {
    component: &'a StaticComponent,
    pos: usize,
    args: HashMap<String, ItemDef>,
    closure: Arc<Closure>,
    instance: ComponentInstanceIdx,
    /// For a child frame: the parent's view of the instance it produces.
    instance_ty: Option<ComponentInstanceTypeId>,
    resources: HashMap<ResourceId, ResourceIdx>,
    converted: HashMap<ComponentValKey, Ty>,
    core_funcs: Vec<CoreDef>,
    core_memories: Vec<CoreDef>,
    core_tables: Vec<CoreDef>,
    core_globals: Vec<CoreDef>,
    core_instances: Vec<CoreInstanceDef>,
    modules: Vec<ModuleDef>,
    funcs: Vec<FuncDef>,
    /// The name each function of `funcs` has in this component (for messages).
    func_names: Vec<Arc<str>>,
    instances: Vec<InstanceDef>,
    components: Vec<ComponentDef>,
    exports: IndexMap<String, ItemDef>,
}

/// A hashable key for a wasmparser defined-type id (ids are `Copy` but hash through their index).
type ComponentValKey = wasmparser::component_types::ComponentDefinedTypeId;

impl<'a> Frame<'a> {
    fn new(
        component: &'a StaticComponent,
        args: HashMap<String, ItemDef>,
        closure: Arc<Closure>,
        instance: ComponentInstanceIdx,
        instance_ty: Option<ComponentInstanceTypeId>,
    ) -> Self {
        Frame {
            component,
            pos: 0,
            args,
            closure,
            instance,
            instance_ty,
            resources: HashMap::new(),
            converted: HashMap::new(),
            core_funcs: Vec::new(),
            core_memories: Vec::new(),
            core_tables: Vec::new(),
            core_globals: Vec::new(),
            core_instances: Vec::new(),
            modules: Vec::new(),
            funcs: Vec::new(),
            func_names: Vec::new(),
            instances: Vec::new(),
            components: Vec::new(),
            exports: IndexMap::new(),
        }
    }
}

struct Inliner<'a> {
    parsed: &'a Parsed,
    types: &'a Types,
    plan: Plan,
    /// Resources of root imports: their wasmparser ids are unique, so one map serves every frame.
    import_resources: HashMap<ResourceId, ResourceIdx>,
}

/// Flattens a parsed component into a plan.
pub fn inline(parsed: &Parsed) -> Result<Plan> {
    let root = parsed.components.last().ok_or_else(|| Error::invalid("not a component", 0))?;
    let mut inliner = Inliner { parsed, types: &parsed.types, plan: Plan::default(), import_resources: HashMap::new() };
    inliner.plan.instance_parents.push(None);
    let mut stack = vec![Frame::new(root, HashMap::new(), Arc::new(Closure::default()), 0, None)];
    while let Some(frame) = stack.last_mut() {
        let component = frame.component;
        let Some(init) = component.inits.get(frame.pos) else {
            let Some(done) = stack.pop() else { break };
            match stack.last_mut() {
                Some(parent) => inliner.finish_child(parent, done)?,
                None => inliner.finish_root(done)?,
            }
            continue;
        };
        frame.pos += 1;
        if inliner.plan.initializers.len() > MAX_INITIALIZERS {
            return Err(Error::unsupported("component instantiates too many core instances"));
        }
        if let Some(child) = inliner.step(frame, init)? {
            if inliner.plan.instance_parents.len() > MAX_INSTANTIATIONS {
                return Err(Error::unsupported("component nests too many component instantiations"));
            }
            stack.push(child);
        }
    }
    Ok(inliner.plan)
}

impl<'a> Inliner<'a> {
    /// Runs one definition; returns a child frame when it instantiates a component.
    fn step(&mut self, f: &mut Frame<'a>, init: &'a LocalInit) -> Result<Option<Frame<'a>>> {
        match init {
            LocalInit::Import { name, ty } => self.import(f, name, *ty)?,
            LocalInit::ModuleStatic(idx) => f.modules.push(ModuleDef::Static(*idx)),
            LocalInit::ModuleInstantiate { module, args } => self.instantiate_module(f, *module, args)?,
            LocalInit::ModuleSynthetic(exports) => {
                let mut map = HashMap::new();
                for (name, kind, idx) in exports {
                    map.insert(name.clone(), core_item(f, *kind, *idx)?);
                }
                f.core_instances.push(CoreInstanceDef::Synthetic(Arc::new(map)));
            }
            LocalInit::AliasCoreExport { instance, kind, name } => {
                let def = core_instance_export(&f.core_instances[*instance as usize], name)?;
                match kind {
                    ExternalKind::Func | ExternalKind::FuncExact => f.core_funcs.push(def),
                    ExternalKind::Memory => f.core_memories.push(def),
                    ExternalKind::Table => f.core_tables.push(def),
                    ExternalKind::Global => f.core_globals.push(def),
                    ExternalKind::Tag => return Err(Error::unsupported("exception tags")),
                }
            }
            LocalInit::Lift { ty, core_func, options } => {
                let ty = self.func_type(f, *ty)?;
                let core = f.core_funcs[*core_func as usize].clone();
                let options = self.options(f, options);
                f.funcs.push(FuncDef::Lifted(Arc::new(LiftDef { ty, core, options })));
                f.func_names.push(Arc::from("(lifted function)"));
            }
            LocalInit::Lower { func, options } => {
                let (callee, ty, name) = match &f.funcs[*func as usize] {
                    FuncDef::Import(path, ty) => (Callee::Import(path.clone()), *ty, self.plan.path_name(path).into()),
                    FuncDef::Lifted(l) => (Callee::Lifted(l.clone()), l.ty, f.func_names[*func as usize].clone()),
                };
                let options = self.options(f, options);
                let idx = self.plan.lowers.len() as LowerIdx;
                self.plan.lowers.push(LowerDef { name, ty, callee, options });
                f.core_funcs.push(CoreDef::Lower(idx));
            }
            LocalInit::ResourceNew(id) => {
                let resource = self.resource(f, *id)?;
                f.core_funcs.push(CoreDef::ResourceNew { resource, instance: f.instance });
            }
            LocalInit::ResourceRep(id) => {
                let resource = self.resource(f, *id)?;
                f.core_funcs.push(CoreDef::ResourceRep { resource, instance: f.instance });
            }
            LocalInit::ResourceDrop(id) => {
                let resource = self.resource(f, *id)?;
                f.core_funcs.push(CoreDef::ResourceDrop { resource, instance: f.instance });
            }
            LocalInit::Builtin(b) => {
                let resolved = b.clone().try_map(
                    Ok::<_, Error>,
                    |o| Ok(self.options(f, &o)),
                    |m| Ok(f.core_memories[m as usize].clone()),
                )?;
                let builtin = resolved.try_map(|t| self.val_type(f, t), Ok, Ok)?;
                let idx = self.plan.builtins.len() as BuiltinIdx;
                self.plan.builtins.push(BuiltinDef { builtin, instance: f.instance });
                f.core_funcs.push(CoreDef::Builtin(idx));
            }
            LocalInit::Resource { id, dtor } => {
                let resource = self.plan.resources.len() as ResourceIdx;
                self.plan.resources.push(ResourceDef::Defined { instance: f.instance });
                self.plan.resource_names.push(None);
                f.resources.insert(*id, resource);
                let dtor = dtor.map(|d| f.core_funcs[d as usize].clone());
                self.plan.initializers.push(Initializer::DefineResource { resource, dtor });
            }
            LocalInit::ComponentStatic(index) => {
                let closure = Arc::new(Closure {
                    modules: f.modules.clone(),
                    components: f.components.clone(),
                    outer: Some(f.closure.clone()),
                });
                f.components.push(ComponentDef { index: *index, closure });
            }
            LocalInit::ComponentInstantiate { component, args, ty } => {
                let def = f.components[*component as usize].clone();
                let mut map = HashMap::new();
                for (name, item) in args {
                    map.insert(name.clone(), self.item_def(f, *item)?);
                }
                let instance = self.plan.instance_parents.len() as ComponentInstanceIdx;
                self.plan.instance_parents.push(Some(f.instance));
                let component = &self.parsed.components[def.index];
                return Ok(Some(Frame::new(component, map, def.closure.clone(), instance, Some(*ty))));
            }
            LocalInit::ComponentSynthetic(items) => {
                let mut map = IndexMap::new();
                for (name, item) in items {
                    map.insert(name.clone(), self.item_def(f, *item)?);
                }
                f.instances.push(InstanceDef::Items(Arc::new(map)));
            }
            LocalInit::AliasExport { instance, kind, name } => {
                let def = self.instance_export(&f.instances[*instance as usize], name)?;
                if *kind != ComponentExternalKind::Type {
                    push_item(f, def, name);
                }
            }
            LocalInit::AliasOuter { kind, count, index } => {
                let idx = *index as usize;
                if *count == 0 {
                    match kind {
                        ComponentOuterAliasKind::CoreModule => f.modules.push(f.modules[idx].clone()),
                        _ => f.components.push(f.components[idx].clone()),
                    }
                } else {
                    let mut closure = &f.closure;
                    for _ in 1..*count {
                        closure = closure.outer.as_ref().ok_or_else(|| Error::invalid("bad outer alias", 0))?;
                    }
                    match kind {
                        ComponentOuterAliasKind::CoreModule => f.modules.push(closure.modules[idx].clone()),
                        _ => f.components.push(closure.components[idx].clone()),
                    }
                }
            }
            LocalInit::Export { name, item } => {
                let def = match item {
                    Item::Type(ComponentAnyTypeId::Defined(id)) => {
                        // A type this runtime cannot represent is still exported, without its definition.
                        ItemDef::Type(TypeRef::Other(self.val_type(f, ComponentValType::Type(*id)).ok()))
                    }
                    _ => self.item_def(f, *item)?,
                };
                if let ItemDef::Type(TypeRef::Resource(r)) = def {
                    self.name_resource(r, name);
                }
                f.exports.insert(name.clone(), def.clone());
                if !matches!(item, Item::Type(_)) {
                    push_item(f, def, name);
                }
            }
        }
        Ok(None)
    }

    fn import(&mut self, f: &mut Frame<'a>, name: &str, ty: ComponentEntityType) -> Result<()> {
        let def = if f.instance_ty.is_none() {
            // The root: the host provides this import.
            let import = self.plan.imports.len() as ImportIdx;
            let path = ImportPath { import, path: Vec::new() };
            self.register_import_resources(name, &path, ty);
            let kind = self.import_kind(f, &path, ty)?;
            self.plan.imports.push(ImportDecl { name: name.to_owned(), kind });
            self.import_def(&path, ty)?
        } else {
            let def = f
                .args
                .get(name)
                .cloned()
                .ok_or_else(|| Error::invalid(format!("missing instantiation argument `{name}`"), 0))?;
            self.register(&mut f.resources, ty, &def)?;
            def
        };
        if let ItemDef::Type(TypeRef::Resource(r)) = def {
            self.name_resource(r, name);
        }
        if !matches!(ty, ComponentEntityType::Type { .. }) {
            push_item(f, def, name);
        }
        Ok(())
    }

    /// Names resource `r` after the first import or export that names it.
    fn name_resource(&mut self, r: ResourceIdx, name: &str) {
        if let Some(slot @ None) = self.plan.resource_names.get_mut(r as usize) {
            *slot = Some(Arc::from(name));
        }
    }

    /// Gives every resource found in a root import's type an imported resource index.
    fn register_import_resources(&mut self, name: &str, path: &ImportPath, ty: ComponentEntityType) {
        match ty {
            ComponentEntityType::Type { created: ComponentAnyTypeId::Resource(r), referenced } => {
                // `(eq $r)` re-exports a resource already seen: it is an alias, not a new import.
                if self.import_resources.contains_key(&r.resource()) {
                    return;
                }
                let idx = self.plan.resources.len() as ResourceIdx;
                self.plan.resources.push(ResourceDef::Imported(path.clone()));
                self.plan.resource_names.push(Some(Arc::from(name)));
                self.import_resources.insert(r.resource(), idx);
                if let ComponentAnyTypeId::Resource(r2) = referenced {
                    self.import_resources.insert(r2.resource(), idx);
                }
            }
            ComponentEntityType::Instance(id) => {
                let exports: Vec<_> = self.types[id].exports.iter().map(|(n, i)| (n.clone(), i.ty)).collect();
                for (name, ty) in exports {
                    self.register_import_resources(&name, &path.child(&name), ty);
                }
            }
            _ => {}
        }
    }

    /// What the host must provide for a root import.
    fn import_kind(&mut self, f: &mut Frame<'a>, path: &ImportPath, ty: ComponentEntityType) -> Result<ImportKind> {
        Ok(match ty {
            ComponentEntityType::Func(id) => ImportKind::Func(self.func_type(f, id)?),
            ComponentEntityType::Instance(id) => {
                let mut map = IndexMap::new();
                for (name, item) in self.types[id].exports.iter() {
                    map.insert(name.clone(), self.import_kind(f, &path.child(name), item.ty)?);
                }
                ImportKind::Instance(map)
            }
            ComponentEntityType::Module(id) => ImportKind::Module(Arc::new(self.module_import_type(id)?)),
            ComponentEntityType::Type { created: ComponentAnyTypeId::Resource(r), .. } => {
                let idx = self.import_resource(r.resource())?;
                match &self.plan.resources[idx as usize] {
                    ResourceDef::Imported(p) if p == path => ImportKind::Resource(idx),
                    _ => ImportKind::ResourceAlias(idx),
                }
            }
            ComponentEntityType::Type { created: ComponentAnyTypeId::Defined(id), .. } => {
                // A type this runtime cannot represent is still imported, without its definition.
                ImportKind::Type(self.val_type(f, ComponentValType::Type(id)).ok())
            }
            ComponentEntityType::Type { .. } => ImportKind::Type(None),
            ComponentEntityType::Component(_) => return Err(Error::unsupported("importing a component")),
            ComponentEntityType::Value(_) => return Err(Error::unsupported("value imports")),
        })
    }

    fn module_import_type(&self, id: ComponentCoreModuleTypeId) -> Result<ModuleImportType> {
        let mt = &self.types[id];
        let imports = mt
            .imports
            .iter()
            .map(|((m, n), t)| Ok((m.clone(), n.clone(), self.extern_type(t)?)))
            .collect::<Result<_>>()?;
        let exports = mt.exports.iter().map(|(n, t)| Ok((n.clone(), self.extern_type(t)?))).collect::<Result<_>>()?;
        Ok(ModuleImportType { imports, exports })
    }

    fn extern_type(&self, t: &EntityType) -> Result<wasm_runtime_layer::ExternType> {
        crate::component::core_types::extern_type(self.types, t)
    }

    /// The definition a root import stands for.
    fn import_def(&mut self, path: &ImportPath, ty: ComponentEntityType) -> Result<ItemDef> {
        Ok(match ty {
            ComponentEntityType::Func(_) => {
                // The type was interned by `import_kind`; look it up again from the declaration.
                let ImportKind::Func(idx) = self.import_kind_at(path)? else {
                    return Err(Error::internal("a function import is not a function"));
                };
                ItemDef::Func(FuncDef::Import(path.clone(), idx))
            }
            ComponentEntityType::Instance(id) => ItemDef::Instance(InstanceDef::Import(path.clone(), id)),
            ComponentEntityType::Module(id) => ItemDef::Module(ModuleDef::Import(path.clone(), id)),
            ComponentEntityType::Type { created: ComponentAnyTypeId::Resource(r), .. } => {
                ItemDef::Type(TypeRef::Resource(self.import_resource(r.resource())?))
            }
            ComponentEntityType::Type { .. } => ItemDef::Type(TypeRef::Other(None)),
            ComponentEntityType::Component(_) | ComponentEntityType::Value(_) => {
                return Err(Error::internal("a component or value import was not rejected"))
            }
        })
    }

    /// The plan's resource for an imported resource type, which `import_kind` registered.
    fn import_resource(&self, r: ResourceId) -> Result<ResourceIdx> {
        self.import_resources.get(&r).copied().ok_or_else(|| Error::internal("an imported resource was not registered"))
    }

    fn import_kind_at(&self, path: &ImportPath) -> Result<ImportKind> {
        let unknown = || Error::internal("an import path does not follow the import's instance types");
        let mut kind = &self.plan.imports.get(path.import as usize).ok_or_else(unknown)?.kind;
        for name in &path.path {
            let ImportKind::Instance(map) = kind else { return Err(unknown()) };
            kind = map.get(name.as_str()).ok_or_else(unknown)?;
        }
        Ok(kind.clone())
    }

    /// Maps the resources in `ty` (a type in the frame's view) to the resources of the definition `def`.
    fn register(
        &self,
        map: &mut HashMap<ResourceId, ResourceIdx>,
        ty: ComponentEntityType,
        def: &ItemDef,
    ) -> Result<()> {
        match (ty, def) {
            (ComponentEntityType::Type { created, referenced }, ItemDef::Type(TypeRef::Resource(idx))) => {
                for t in [created, referenced] {
                    if let ComponentAnyTypeId::Resource(r) = t {
                        map.insert(r.resource(), *idx);
                    }
                }
            }
            (ComponentEntityType::Instance(id), ItemDef::Instance(inst)) => {
                for (name, item) in self.types[id].exports.iter() {
                    if item_has_resources(self.types, item.ty) {
                        let sub = self.instance_export(inst, name)?;
                        self.register(map, item.ty, &sub)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn instance_export(&self, inst: &InstanceDef, name: &str) -> Result<ItemDef> {
        match inst {
            InstanceDef::Items(map) => {
                map.get(name).cloned().ok_or_else(|| Error::invalid(format!("instance has no export `{name}`"), 0))
            }
            InstanceDef::Import(path, id) => {
                let item = self.types[*id]
                    .exports
                    .get(name)
                    .ok_or_else(|| Error::invalid(format!("instance has no export `{name}`"), 0))?;
                let path = path.child(name);
                Ok(match item.ty {
                    ComponentEntityType::Func(_) => {
                        let ImportKind::Func(idx) = self.import_kind_at(&path)? else {
                            return Err(Error::internal("a function import is not a function"));
                        };
                        ItemDef::Func(FuncDef::Import(path, idx))
                    }
                    ComponentEntityType::Instance(id) => ItemDef::Instance(InstanceDef::Import(path, id)),
                    ComponentEntityType::Module(id) => ItemDef::Module(ModuleDef::Import(path, id)),
                    ComponentEntityType::Type { created: ComponentAnyTypeId::Resource(r), .. } => {
                        ItemDef::Type(TypeRef::Resource(self.import_resource(r.resource())?))
                    }
                    ComponentEntityType::Type { .. } => ItemDef::Type(TypeRef::Other(None)),
                    ComponentEntityType::Component(_) | ComponentEntityType::Value(_) => {
                        return Err(Error::unsupported("component or value imports"))
                    }
                })
            }
        }
    }

    fn item_def(&self, f: &Frame<'a>, item: Item) -> Result<ItemDef> {
        Ok(match item {
            Item::Func(i) => ItemDef::Func(f.funcs[i as usize].clone()),
            Item::Instance(i) => ItemDef::Instance(f.instances[i as usize].clone()),
            Item::Module(i) => ItemDef::Module(f.modules[i as usize].clone()),
            Item::Component(i) => ItemDef::Component(f.components[i as usize].clone()),
            Item::Type(ComponentAnyTypeId::Resource(r)) => {
                ItemDef::Type(TypeRef::Resource(self.resource(f, r.resource())?))
            }
            Item::Type(_) => ItemDef::Type(TypeRef::Other(None)),
        })
    }

    fn resource(&self, f: &Frame<'a>, id: ResourceId) -> Result<ResourceIdx> {
        f.resources
            .get(&id)
            .or_else(|| self.import_resources.get(&id))
            .copied()
            .ok_or_else(|| Error::invalid("reference to an unknown resource type", 0))
    }

    fn instantiate_module(&mut self, f: &mut Frame<'a>, module: u32, args: &[(String, u32)]) -> Result<()> {
        let module = f.modules[module as usize].clone();
        let (module_ref, imports): (ModuleRef, Vec<(String, String)>) = match &module {
            ModuleDef::Static(i) => (ModuleRef::Static(*i), self.parsed.modules[*i].imports.clone()),
            ModuleDef::Import(path, id) => (
                ModuleRef::Import(path.clone()),
                self.types[*id].imports.keys().map(|(m, n)| (m.clone(), n.clone())).collect(),
            ),
        };
        let by_name: HashMap<&str, u32> = args.iter().map(|(n, i)| (n.as_str(), *i)).collect();
        let mut resolved = Vec::with_capacity(imports.len());
        for (m, n) in imports {
            let inst = by_name
                .get(m.as_str())
                .ok_or_else(|| Error::invalid(format!("missing core instantiation argument `{m}`"), 0))?;
            let def = core_instance_export(&f.core_instances[*inst as usize], &n)?;
            resolved.push((m, n, def));
        }
        let instance = self.plan.num_core_instances;
        self.plan.num_core_instances += 1;
        self.plan.initializers.push(Initializer::InstantiateModule { module: module_ref, args: resolved });
        f.core_instances.push(CoreInstanceDef::Instantiated(instance));
        Ok(())
    }

    fn options(&self, f: &Frame<'a>, o: &LocalOptions) -> Options {
        Options {
            encoding: o.encoding,
            memory: o.memory.map(|m| f.core_memories[m as usize].clone()),
            realloc: o.realloc.map(|r| f.core_funcs[r as usize].clone()),
            post_return: o.post_return.map(|p| f.core_funcs[p as usize].clone()),
            instance: f.instance,
            async_: o.async_,
            callback: o.callback.map(|c| f.core_funcs[c as usize].clone()),
        }
    }

    fn finish_child(&mut self, parent: &mut Frame<'a>, child: Frame<'a>) -> Result<()> {
        let ty = child.instance_ty.ok_or_else(|| Error::internal("a nested component has no instance type"))?;
        let inst = InstanceDef::Items(Arc::new(child.exports));
        self.register(&mut parent.resources, ComponentEntityType::Instance(ty), &ItemDef::Instance(inst.clone()))?;
        parent.instances.push(inst);
        Ok(())
    }

    fn finish_root(&mut self, root: Frame<'a>) -> Result<()> {
        let mut exports = IndexMap::new();
        for (name, def) in root.exports {
            exports.insert(name, self.export(def)?);
        }
        self.plan.exports = exports;
        Ok(())
    }

    fn export(&self, def: ItemDef) -> Result<Export> {
        Ok(match def {
            ItemDef::Func(FuncDef::Lifted(l)) => Export::LiftedFunc(l),
            ItemDef::Func(FuncDef::Import(p, ty)) => Export::ImportFunc(p, ty),
            ItemDef::Instance(InstanceDef::Items(map)) => {
                let mut out = IndexMap::new();
                for (name, d) in map.iter() {
                    out.insert(name.clone(), self.export(d.clone())?);
                }
                Export::Instance(out)
            }
            ItemDef::Instance(inst @ InstanceDef::Import(_, id)) => {
                let mut out = IndexMap::new();
                for name in self.types[id].exports.keys() {
                    out.insert(name.clone(), self.export(self.instance_export(&inst, name)?)?);
                }
                Export::Instance(out)
            }
            ItemDef::Module(ModuleDef::Static(i)) => Export::Module(ModuleRef::Static(i)),
            ItemDef::Module(ModuleDef::Import(p, _)) => Export::Module(ModuleRef::Import(p)),
            ItemDef::Type(TypeRef::Resource(r)) => Export::Resource(r),
            ItemDef::Type(TypeRef::Other(t)) => Export::Type(t),
            ItemDef::Component(_) => Export::Component,
        })
    }

    /// Converts a function type as seen by frame `f`.
    fn func_type(&mut self, f: &mut Frame<'a>, id: ComponentFuncTypeId) -> Result<FuncIdx> {
        let ft = &self.types[id];
        let async_ = ft.async_;
        let mut params = Vec::with_capacity(ft.params.len());
        for (name, t) in ft.params.iter() {
            params.push((Arc::from(name.as_str()), self.val_type(f, *t)?));
        }
        let result = ft.result.map(|t| self.val_type(f, t)).transpose()?;
        self.plan.types.intern_func(FuncTypeDef { params: params.into(), result, async_ })
    }

    fn val_type(&mut self, f: &mut Frame<'a>, t: ComponentValType) -> Result<Ty> {
        match t {
            ComponentValType::Primitive(PrimitiveValType::ErrorContext) => {
                self.plan.types.intern(TypeDef::ErrorContext)
            }
            ComponentValType::Primitive(p) => primitive(p),
            ComponentValType::Type(id) => {
                if let Some(t) = f.converted.get(&id) {
                    return Ok(*t);
                }
                let ty = self.defined_type(f, id)?;
                f.converted.insert(id, ty);
                Ok(ty)
            }
        }
    }

    fn defined_type(
        &mut self,
        f: &mut Frame<'a>,
        id: wasmparser::component_types::ComponentDefinedTypeId,
    ) -> Result<Ty> {
        let types = self.types;
        let def = match &types[id] {
            ComponentDefinedType::Primitive(PrimitiveValType::ErrorContext) => TypeDef::ErrorContext,
            ComponentDefinedType::Primitive(p) => return primitive(*p),
            ComponentDefinedType::Record(r) => {
                let mut fields = Vec::with_capacity(r.fields.len());
                for (name, t) in r.fields.iter() {
                    fields.push((Arc::from(name.as_str()), self.val_type(f, *t)?));
                }
                TypeDef::Record(fields.into())
            }
            ComponentDefinedType::Variant(v) => {
                let mut cases = Vec::with_capacity(v.cases.len());
                for (name, c) in v.cases.iter() {
                    cases.push((Arc::from(name.as_str()), c.ty.map(|t| self.val_type(f, t)).transpose()?));
                }
                TypeDef::Variant(cases.into())
            }
            ComponentDefinedType::List { element, .. } => TypeDef::List(self.val_type(f, *element)?),
            ComponentDefinedType::Tuple(t) => {
                let mut ts = Vec::with_capacity(t.types.len());
                for t in t.types.iter() {
                    ts.push(self.val_type(f, *t)?);
                }
                TypeDef::Tuple(ts.into())
            }
            ComponentDefinedType::Flags(labels) => {
                if labels.is_empty() || labels.len() > 32 {
                    return Err(Error::invalid("flags must have 1 to 32 labels", 0));
                }
                TypeDef::Flags(labels.iter().map(|l| Arc::from(l.as_str())).collect())
            }
            ComponentDefinedType::Enum(labels) => TypeDef::Enum(labels.iter().map(|l| Arc::from(l.as_str())).collect()),
            ComponentDefinedType::Option { ty, .. } => TypeDef::Option(self.val_type(f, *ty)?),
            ComponentDefinedType::Result { ok, err, .. } => TypeDef::Result {
                ok: ok.map(|t| self.val_type(f, t)).transpose()?,
                err: err.map(|t| self.val_type(f, t)).transpose()?,
            },
            ComponentDefinedType::Own(r) => return Ok(Ty::Own(self.resource(f, r.resource())?)),
            ComponentDefinedType::Borrow(r) => return Ok(Ty::Borrow(self.resource(f, r.resource())?)),
            ComponentDefinedType::Map { .. } => return Err(Error::unsupported("map types")),
            ComponentDefinedType::FixedLengthList { .. } => return Err(Error::unsupported("fixed-length lists")),
            ComponentDefinedType::Future { ty, .. } => TypeDef::Future(ty.map(|t| self.val_type(f, t)).transpose()?),
            ComponentDefinedType::Stream { ty, .. } => TypeDef::Stream(ty.map(|t| self.val_type(f, t)).transpose()?),
        };
        self.plan.types.intern(def)
    }
}

fn primitive(p: PrimitiveValType) -> Result<Ty> {
    Ok(match p {
        PrimitiveValType::Bool => Ty::Bool,
        PrimitiveValType::S8 => Ty::S8,
        PrimitiveValType::U8 => Ty::U8,
        PrimitiveValType::S16 => Ty::S16,
        PrimitiveValType::U16 => Ty::U16,
        PrimitiveValType::S32 => Ty::S32,
        PrimitiveValType::U32 => Ty::U32,
        PrimitiveValType::S64 => Ty::S64,
        PrimitiveValType::U64 => Ty::U64,
        PrimitiveValType::F32 => Ty::F32,
        PrimitiveValType::F64 => Ty::F64,
        PrimitiveValType::Char => Ty::Char,
        PrimitiveValType::String => Ty::String,
        PrimitiveValType::ErrorContext => return Err(Error::internal("error-context is interned as a defined type")),
    })
}

/// Whether an entity type can contain resource type exports (only types and instances do).
fn item_has_resources(types: &Types, ty: ComponentEntityType) -> bool {
    match ty {
        ComponentEntityType::Type { created, .. } => matches!(created, ComponentAnyTypeId::Resource(_)),
        ComponentEntityType::Instance(id) => types[id].exports.values().any(|i| item_has_resources(types, i.ty)),
        _ => false,
    }
}

fn push_item(f: &mut Frame<'_>, def: ItemDef, name: &str) {
    match def {
        ItemDef::Func(d) => {
            f.funcs.push(d);
            f.func_names.push(Arc::from(name));
        }
        ItemDef::Instance(d) => f.instances.push(d),
        ItemDef::Module(d) => f.modules.push(d),
        ItemDef::Component(d) => f.components.push(d),
        ItemDef::Type(_) => {}
    }
}

fn core_item(f: &Frame<'_>, kind: ExternalKind, idx: u32) -> Result<CoreDef> {
    let i = idx as usize;
    Ok(match kind {
        ExternalKind::Func | ExternalKind::FuncExact => f.core_funcs[i].clone(),
        ExternalKind::Memory => f.core_memories[i].clone(),
        ExternalKind::Table => f.core_tables[i].clone(),
        ExternalKind::Global => f.core_globals[i].clone(),
        ExternalKind::Tag => return Err(Error::unsupported("exception tags")),
    })
}

fn core_instance_export(inst: &CoreInstanceDef, name: &str) -> Result<CoreDef> {
    match inst {
        CoreInstanceDef::Instantiated(i) => Ok(CoreDef::Export { instance: *i, name: Arc::from(name) }),
        CoreInstanceDef::Synthetic(map) => {
            map.get(name).cloned().ok_or_else(|| Error::invalid(format!("core instance has no export `{name}`"), 0))
        }
    }
}
