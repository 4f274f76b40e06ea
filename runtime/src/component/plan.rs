//! The executable plan of a component: what instantiation does, as a flat list.
//!
//! Nested components are gone (inlined by [`super::inline`]); what remains is a list of [`Initializer`]s run in
//! order by `Instance::new` — core module instantiations with fully resolved import wiring, and resource
//! definitions — plus the trampolines (`canon lower`, `resource.*`) those instantiations import, the lifted
//! exports, and the imports the host must provide. Everything refers to core items by dataflow
//! ([`CoreDef`]) rather than index, and to types through the plan's interned [`TypeTable`].

use std::sync::Arc;

use indexmap::IndexMap;

use crate::abi::types::{FuncIdx, ResourceIdx, Ty, TypeTable};
use crate::abi::StringEncoding;

/// A runtime core instance, numbered in instantiation order.
pub type CoreInstanceIdx = u32;
/// A runtime component instance within one instantiation of the plan (0 is the root).
pub type ComponentInstanceIdx = u32;
/// A lowered-function trampoline.
pub type LowerIdx = u32;
/// A root import.
pub type ImportIdx = u32;

/// Where a core item comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CoreDef {
    /// The export `name` of a core instance created earlier.
    Export { instance: CoreInstanceIdx, name: Arc<str> },
    /// A `canon lower` trampoline.
    Lower(LowerIdx),
    /// `canon resource.new` for a resource, in a component instance.
    ResourceNew { resource: ResourceIdx, instance: ComponentInstanceIdx },
    /// `canon resource.rep`.
    ResourceRep { resource: ResourceIdx, instance: ComponentInstanceIdx },
    /// `canon resource.drop`.
    ResourceDrop { resource: ResourceIdx, instance: ComponentInstanceIdx },
}

/// A path into the root imports: import `import`, then export names of nested instances.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImportPath {
    /// The root import.
    pub import: ImportIdx,
    /// Names of nested instance exports.
    pub path: Vec<String>,
}

impl ImportPath {
    pub(crate) fn child(&self, name: &str) -> ImportPath {
        let mut path = self.path.clone();
        path.push(name.to_owned());
        ImportPath { import: self.import, path }
    }
}

/// Canonical options with their definitions resolved.
#[derive(Clone, Debug)]
pub struct Options {
    /// The string encoding.
    pub encoding: StringEncoding,
    /// `memory`.
    pub memory: Option<CoreDef>,
    /// `realloc`.
    pub realloc: Option<CoreDef>,
    /// `post-return`.
    pub post_return: Option<CoreDef>,
    /// The component instance that owns these options (and whose handle table and flags they use).
    pub instance: ComponentInstanceIdx,
}

/// A `canon lift`.
#[derive(Debug)]
pub struct LiftDef {
    /// The component function type.
    pub ty: FuncIdx,
    /// The core function lifted.
    pub core: CoreDef,
    /// Its options.
    pub options: Options,
}

/// What a `canon lower` calls.
#[derive(Clone, Debug)]
pub enum Callee {
    /// A function the host provides.
    Import(ImportPath),
    /// A function lifted by a component instance of this plan (composition).
    Lifted(Arc<LiftDef>),
}

/// A `canon lower`.
#[derive(Debug)]
pub struct LowerDef {
    /// How errors name the function: the root import's path, or the name the lowering component knows it by.
    pub name: Arc<str>,
    /// The component function type.
    pub ty: FuncIdx,
    /// What is called.
    pub callee: Callee,
    /// The lowering options (of the calling instance).
    pub options: Options,
}

/// How a core module to instantiate is found.
#[derive(Clone, Debug)]
pub enum ModuleRef {
    /// A module in the component binary.
    Static(usize),
    /// A module the host provides.
    Import(ImportPath),
}

/// One step of instantiation.
#[derive(Debug)]
pub enum Initializer {
    /// Instantiate a core module; `args` are its imports in declaration order, each as (module, name, def).
    InstantiateModule { module: ModuleRef, args: Vec<(String, String, CoreDef)> },
    /// A resource type defined by a component instance; its destructor is resolved at this point.
    DefineResource { resource: ResourceIdx, dtor: Option<CoreDef> },
}

/// Where a resource type comes from.
#[derive(Clone, Debug)]
pub enum ResourceDef {
    /// Defined by a component instance of this plan; each instantiation makes a fresh type.
    Defined { instance: ComponentInstanceIdx },
    /// Supplied by the host through an import.
    Imported(ImportPath),
}

/// An exported item.
#[derive(Clone, Debug)]
pub enum Export {
    /// A lifted function.
    LiftedFunc(Arc<LiftDef>),
    /// A re-exported import function.
    ImportFunc(ImportPath, FuncIdx),
    /// An instance.
    Instance(IndexMap<String, Export>),
    /// A core module.
    Module(ModuleRef),
    /// A resource type.
    Resource(ResourceIdx),
    /// A type that is not a resource, with its definition when it is a value type.
    Type(Option<Ty>),
    /// A component (not instantiable from the host; kept so names are visible).
    Component,
}

/// What the host must provide for an import.
#[derive(Clone, Debug)]
pub enum ImportKind {
    /// A function of this type.
    Func(FuncIdx),
    /// An instance with these exports.
    Instance(IndexMap<String, ImportKind>),
    /// A core module whose exports cover these imports: (module, name, expected type).
    Module(Arc<ModuleImportType>),
    /// A resource type.
    Resource(ResourceIdx),
    /// A resource type declared equal to another (`(eq $r)`): it need not be provided, but if it is, it must be
    /// that type.
    ResourceAlias(ResourceIdx),
    /// A non-resource type, with its definition when it is a value type: nothing needs to be provided.
    Type(Option<Ty>),
}

/// The type of an imported core module, as far as the component uses it.
#[derive(Clone, Debug)]
pub struct ModuleImportType {
    /// Imports the module declares (module, name, type).
    pub imports: Vec<(String, String, wasm_runtime_layer::ExternType)>,
    /// Exports the component expects (name, type).
    pub exports: Vec<(String, wasm_runtime_layer::ExternType)>,
}

/// A root import.
#[derive(Clone, Debug)]
pub struct ImportDecl {
    /// Its name.
    pub name: String,
    /// What it must be.
    pub kind: ImportKind,
}

/// The whole plan.
#[derive(Debug, Default)]
pub struct Plan {
    /// Interned types.
    pub types: TypeTable,
    /// Instantiation steps in order.
    pub initializers: Vec<Initializer>,
    /// Lowered-function trampolines.
    pub lowers: Vec<LowerDef>,
    /// Resource types.
    pub resources: Vec<ResourceDef>,
    /// The name each resource type is known by (the import or export that first names it), for messages and
    /// reflection.
    pub resource_names: Vec<Option<Arc<str>>>,
    /// The parent of each component instance (the root's is `None`).
    pub instance_parents: Vec<Option<ComponentInstanceIdx>>,
    /// The number of core instances created.
    pub num_core_instances: u32,
    /// Root imports.
    pub imports: Vec<ImportDecl>,
    /// Root exports.
    pub exports: IndexMap<String, Export>,
}

impl Plan {
    /// An import path as messages show it: `wasi:io/streams@0.2.0#output-stream`.
    pub fn path_name(&self, path: &ImportPath) -> String {
        let mut s = self.imports[path.import as usize].name.clone();
        for p in &path.path {
            s.push('#');
            s.push_str(p);
        }
        s
    }

    /// The name of resource type `r`, if an import or export names it.
    pub fn resource_name(&self, r: ResourceIdx) -> Option<Arc<str>> {
        self.resource_names.get(r as usize).cloned().flatten()
    }
}
