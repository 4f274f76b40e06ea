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
/// An async or error-context built-in ([`Plan::builtins`]).
pub type BuiltinIdx = u32;

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
    /// An async or error-context built-in.
    Builtin(BuiltinIdx),
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
    /// `async`: an async lift (with `callback`) or an async lower.
    pub async_: bool,
    /// `callback`, of an async lift.
    pub callback: Option<CoreDef>,
}

/// Whether a copy built-in works on a stream or a future.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CopyKind {
    /// `stream<T>`.
    Stream,
    /// `future<T>`.
    Future,
}

/// An async (🔀) or error-context (📝) built-in, generic over how it names a type (`T`), canonical options
/// (`O`) and a memory (`M`): loading records it with local indices, the plan with resolved definitions.
#[derive(Clone, Debug)]
pub enum Builtin<T, O, M> {
    /// `task.return`, with the result type it lifts.
    TaskReturn { result: Option<T>, options: O },
    /// `task.cancel`.
    TaskCancel,
    /// `context.get i32 slot`.
    ContextGet(u32),
    /// `context.set i32 slot`.
    ContextSet(u32),
    /// `backpressure.inc`.
    BackpressureInc,
    /// `backpressure.dec`.
    BackpressureDec,
    /// `thread.yield`.
    ThreadYield { cancellable: bool },
    /// `waitable-set.new`.
    WaitableSetNew,
    /// `waitable-set.wait`.
    WaitableSetWait { cancellable: bool, memory: M },
    /// `waitable-set.poll`.
    WaitableSetPoll { cancellable: bool, memory: M },
    /// `waitable-set.drop`.
    WaitableSetDrop,
    /// `waitable.join`.
    WaitableJoin,
    /// `subtask.drop`.
    SubtaskDrop,
    /// `subtask.cancel`.
    SubtaskCancel { async_: bool },
    /// `stream.new` / `future.new` of the stream or future type `ty`.
    New { kind: CopyKind, ty: T },
    /// `stream.read` / `future.read`.
    Read { kind: CopyKind, ty: T, options: O },
    /// `stream.write` / `future.write`.
    Write { kind: CopyKind, ty: T, options: O },
    /// `stream.cancel-read` / `future.cancel-read`.
    CancelRead { kind: CopyKind, ty: T, async_: bool },
    /// `stream.cancel-write` / `future.cancel-write`.
    CancelWrite { kind: CopyKind, ty: T, async_: bool },
    /// `stream.drop-readable` / `future.drop-readable`.
    DropReadable { kind: CopyKind, ty: T },
    /// `stream.drop-writable` / `future.drop-writable`.
    DropWritable { kind: CopyKind, ty: T },
    /// `error-context.new`.
    ErrorContextNew { options: O },
    /// `error-context.debug-message`.
    ErrorContextDebugMessage { options: O },
    /// `error-context.drop`.
    ErrorContextDrop,
}

impl<T, O, M> Builtin<T, O, M> {
    /// The same built-in with its types, options and memory converted.
    pub fn try_map<T2, O2, M2, Err>(
        self,
        mut ty: impl FnMut(T) -> std::result::Result<T2, Err>,
        mut opts: impl FnMut(O) -> std::result::Result<O2, Err>,
        mem: impl FnOnce(M) -> std::result::Result<M2, Err>,
    ) -> std::result::Result<Builtin<T2, O2, M2>, Err> {
        use Builtin::*;
        Ok(match self {
            TaskReturn { result, options } => {
                TaskReturn { result: result.map(&mut ty).transpose()?, options: opts(options)? }
            }
            TaskCancel => TaskCancel,
            ContextGet(i) => ContextGet(i),
            ContextSet(i) => ContextSet(i),
            BackpressureInc => BackpressureInc,
            BackpressureDec => BackpressureDec,
            ThreadYield { cancellable } => ThreadYield { cancellable },
            WaitableSetNew => WaitableSetNew,
            WaitableSetWait { cancellable, memory } => WaitableSetWait { cancellable, memory: mem(memory)? },
            WaitableSetPoll { cancellable, memory } => WaitableSetPoll { cancellable, memory: mem(memory)? },
            WaitableSetDrop => WaitableSetDrop,
            WaitableJoin => WaitableJoin,
            SubtaskDrop => SubtaskDrop,
            SubtaskCancel { async_ } => SubtaskCancel { async_ },
            New { kind, ty: t } => New { kind, ty: ty(t)? },
            Read { kind, ty: t, options } => Read { kind, ty: ty(t)?, options: opts(options)? },
            Write { kind, ty: t, options } => Write { kind, ty: ty(t)?, options: opts(options)? },
            CancelRead { kind, ty: t, async_ } => CancelRead { kind, ty: ty(t)?, async_ },
            CancelWrite { kind, ty: t, async_ } => CancelWrite { kind, ty: ty(t)?, async_ },
            DropReadable { kind, ty: t } => DropReadable { kind, ty: ty(t)? },
            DropWritable { kind, ty: t } => DropWritable { kind, ty: ty(t)? },
            ErrorContextNew { options } => ErrorContextNew { options: opts(options)? },
            ErrorContextDebugMessage { options } => ErrorContextDebugMessage { options: opts(options)? },
            ErrorContextDrop => ErrorContextDrop,
        })
    }
}

/// A built-in of the plan, in the component instance whose core code imports it.
#[derive(Debug)]
pub struct BuiltinDef {
    /// What it does.
    pub builtin: Builtin<Ty, Options, CoreDef>,
    /// The component instance it acts for (`current_instance()` in the spec).
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
    /// Async and error-context built-ins.
    pub builtins: Vec<BuiltinDef>,
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
