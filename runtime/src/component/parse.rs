//! Phase 1 of loading: validate the binary and record, per (nested) component, the list of definitions it makes.
//!
//! The binary is validated by wasmparser with the component-model feature set this runtime implements: the
//! synchronous model plus the callback (stackless) form of the async ABI and error-context. While validating,
//! every definition that adds to an index space becomes one [`LocalInit`], in binary order, carrying only local
//! indices and wasmparser type ids (resolved with the validator's view of *that* component, which is only
//! available while it is being parsed). Nested modules are recorded by byte range and compiled later; nested
//! components become [`StaticComponent`]s of their own. Phase 2 ([`super::inline`]) instantiates these lists
//! symbolically.
//!
//! A component that fails validation only because it uses a feature outside that set (threads, GC ABI, maps,
//! fixed-length lists, custom page sizes, …) is reported as [`crate::ErrorKind::Unsupported`] rather than
//! invalid: it is validated a second time with every feature on to tell the two apart. Stackful async lifts
//! (`async` without `callback`) and the threading built-ins validate (their features are on, so that they are
//! not mistaken for invalid components) and are then refused here as "needs stack switching": a core call of
//! `wasm_runtime_layer` cannot be suspended and resumed, which both need.

use std::ops::Range;

use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentEntityType, ComponentFuncTypeId, ComponentInstanceTypeId, ComponentValType, ResourceId,
};
use wasmparser::types::Types;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind, ExternalKind,
    Parser, Payload, ValidPayload, Validator, WasmFeatures,
};

use crate::error::{Error, Result};

/// The core and component-model features a component may use: the component model with its async ABI (🔀,
/// the more-async built-ins 🚝, error-context 📝), plus the core features both backends of `wasm_runtime_layer`
/// support. Stackful lifts (🚟) and threading (🧵) validate too, so that they are reported as needing stack
/// switching rather than as invalid.
pub fn default_features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::COMPONENT_MODEL
        | WasmFeatures::CM_ASYNC
        | WasmFeatures::CM_MORE_ASYNC_BUILTINS
        | WasmFeatures::CM_ERROR_CONTEXT
        | WasmFeatures::CM_ASYNC_STACKFUL
        | WasmFeatures::CM_THREADING
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::EXTENDED_CONST
}

/// Index of a nested (or the root) component in [`Parsed::components`].
pub type StaticComponentIdx = usize;
/// Index of a core module in [`Parsed::modules`].
pub type StaticModuleIdx = usize;

/// A core module found in the binary.
pub struct StaticModule {
    /// Its bytes, as a range of the component binary.
    pub range: Range<usize>,
    /// Its imports in order: (module, name).
    pub imports: Vec<(String, String)>,
}

/// One definition in a component, in binary order.
#[derive(Debug)]
pub enum LocalInit {
    /// `import`: adds to the index space of its kind.
    Import { name: String, ty: ComponentEntityType },
    /// A nested core module: adds a core module.
    ModuleStatic(StaticModuleIdx),
    /// `core instance (instantiate m (with "name" (instance i))*)`: adds a core instance.
    ModuleInstantiate { module: u32, args: Vec<(String, u32)> },
    /// `core instance (export "name" (func f))*`: adds a core instance that is only a name map.
    ModuleSynthetic(Vec<(String, ExternalKind, u32)>),
    /// `alias core export i "name" (kind)`: adds to the core space of that kind.
    AliasCoreExport { instance: u32, kind: ExternalKind, name: String },
    /// `canon lift`: adds a component function.
    Lift { ty: ComponentFuncTypeId, core_func: u32, options: LocalOptions },
    /// `canon lower`: adds a core function.
    Lower { func: u32, options: LocalOptions },
    /// `canon resource.new`: adds a core function.
    ResourceNew(ResourceId),
    /// `canon resource.rep`: adds a core function.
    ResourceRep(ResourceId),
    /// `canon resource.drop`: adds a core function.
    ResourceDrop(ResourceId),
    /// An async or error-context built-in (`task.return`, `waitable-set.wait`, `stream.read`, …): adds a core
    /// function.
    Builtin(LocalBuiltin),
    /// A resource type defined here (`(type (resource (rep i32) (dtor f)?))`).
    Resource { id: ResourceId, dtor: Option<u32> },
    /// A nested component definition: adds a component.
    ComponentStatic(StaticComponentIdx),
    /// `instance (instantiate c (with …)*)`: adds a component instance.
    ComponentInstantiate { component: u32, args: Vec<(String, Item)>, ty: ComponentInstanceTypeId },
    /// `instance (export …)*`: adds a component instance that is only a name map.
    ComponentSynthetic(Vec<(String, Item)>),
    /// `alias export i "name" (kind)`: adds to the space of that kind.
    AliasExport { instance: u32, kind: ComponentExternalKind, name: String },
    /// `alias outer n i (core module)` / `(component)`: adds a module or component.
    AliasOuter { kind: ComponentOuterAliasKind, count: u32, index: u32 },
    /// `export`: adds to the space of its kind.
    Export { name: String, item: Item },
}

/// A reference to an item in one of a component's index spaces. Types are resolved to wasmparser ids right
/// away, since type index spaces are not tracked by the inliner.
#[derive(Debug, Clone, Copy)]
pub enum Item {
    Func(u32),
    Instance(u32),
    Module(u32),
    Component(u32),
    Type(ComponentAnyTypeId),
}

/// Canonical options with local indices.
#[derive(Debug, Default, Clone)]
pub struct LocalOptions {
    pub encoding: crate::abi::StringEncoding,
    pub memory: Option<u32>,
    pub realloc: Option<u32>,
    pub post_return: Option<u32>,
    pub async_: bool,
    pub callback: Option<u32>,
}

/// A built-in with its types as wasmparser value types, its options and memories as local indices.
pub type LocalBuiltin = crate::component::plan::Builtin<ComponentValType, LocalOptions, u32>;

/// A component's definitions.
#[derive(Default)]
pub struct StaticComponent {
    pub inits: Vec<LocalInit>,
}

/// The result of phase 1.
pub struct Parsed {
    /// All components; the root is the last.
    pub components: Vec<StaticComponent>,
    /// All core modules in the binary.
    pub modules: Vec<StaticModule>,
    /// The validator's types, resolving every id.
    pub types: Types,
}

enum Frame {
    Component(StaticComponent),
    Module { range: Range<usize> },
}

/// Validates `bytes` and records every component's definitions.
///
/// wasmparser 0.254 panics on some inputs instead of refusing them: instance and component types nested more
/// than 127 deep overflow the 7 bits its `TypeInfo` keeps for the nesting depth, which only value types are
/// checked against (`MAX_WASM_COMPONENT_TYPE_DEPTH`, 100). wasmtime 48 panics the same way. A panic while
/// validating (nothing but the validator's own state is touched, and dropped) is caught and reported as an
/// invalid component, so loading fails with an error on every input.
pub fn parse(bytes: &[u8], features: WasmFeatures) -> Result<Parsed> {
    let validated = std::panic::catch_unwind(|| match parse_with(bytes, features) {
        Ok(p) => Ok(p),
        Err(e) => Err(classify(bytes, features, e)),
    });
    validated.unwrap_or_else(|payload| Err(Error::invalid(validator_panic(payload.as_ref()), 0)))
}

fn validator_panic(payload: &(dyn std::any::Any + Send)) -> String {
    let detail = match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(s), _) => s,
        (_, Some(s)) => s.as_str(),
        _ => "no message",
    };
    if detail.contains("depth") {
        return format!("type nesting is too deep (the validator failed: {detail})");
    }
    format!("the validator failed: {detail}")
}

/// A validation failure that goes away with every feature enabled is an unsupported feature, not an invalid
/// component.
fn classify(bytes: &[u8], features: WasmFeatures, err: PErr) -> Error {
    if err.unsupported {
        return Error::unsupported(format!("{} (at offset {:#x})", err.message, err.offset));
    }
    if !bytes.starts_with(b"\0asm") || !is_component(bytes) {
        return Error::invalid(err.message, err.offset);
    }
    let all = WasmFeatures::all();
    if features != all && Validator::new_with_features(all).validate_all(bytes).is_ok() {
        return Error::unsupported(format!("{} (at offset {:#x})", err.message, err.offset));
    }
    Error::invalid(err.message, err.offset)
}

/// A parse failure: a validation error, or a construct the runtime does not support.
struct PErr {
    message: String,
    offset: usize,
    unsupported: bool,
}

impl From<wasmparser::BinaryReaderError> for PErr {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        PErr { message: e.message().to_owned(), offset: e.offset(), unsupported: false }
    }
}

impl PErr {
    fn new(message: impl Into<String>, offset: usize, unsupported: bool) -> Self {
        PErr { message: message.into(), offset, unsupported }
    }
}

fn is_component(bytes: &[u8]) -> bool {
    wasmparser::Parser::is_component(bytes)
}

fn parse_with(bytes: &[u8], features: WasmFeatures) -> std::result::Result<Parsed, PErr> {
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    parser.set_features(features);
    let mut stack: Vec<Frame> = Vec::new();
    let mut components = Vec::new();
    let mut modules = Vec::new();
    let mut root_types = None;

    for payload in parser.parse_all(bytes) {
        let payload = payload?;
        match validator.payload(&payload)? {
            // Function bodies are validated by the backend: `wasm_runtime_layer`'s `Module::new` promises a
            // "parsed and validated" module, and validating every body twice made `Component::new` on wasmi (which
            // compiles lazily) cost several times its core compilation. Everything else — module structure, types,
            // the component itself — is validated here.
            ValidPayload::Func(..) => {}
            ValidPayload::End(types) => match stack.pop() {
                Some(Frame::Module { range }) => {
                    let imports = types
                        .as_ref()
                        .core_imports()
                        .map(|it| it.map(|(m, n, _)| (m.to_owned(), n.to_owned())).collect())
                        .unwrap_or_default();
                    let idx = modules.len();
                    modules.push(StaticModule { range, imports });
                    if let Some(Frame::Component(c)) = stack.last_mut() {
                        c.inits.push(LocalInit::ModuleStatic(idx));
                    }
                }
                Some(Frame::Component(c)) => {
                    let idx = components.len();
                    components.push(c);
                    match stack.last_mut() {
                        Some(Frame::Component(parent)) => parent.inits.push(LocalInit::ComponentStatic(idx)),
                        Some(Frame::Module { .. }) => unreachable!("modules cannot contain components"),
                        None => root_types = Some(types),
                    }
                }
                None => root_types = Some(types),
            },
            ValidPayload::Ok | ValidPayload::Parser(_) => {}
        }
        record(&payload, &validator, &mut stack)?;
    }
    let types = root_types.ok_or_else(|| PErr::new("not a component", 0, false))?;
    if components.is_empty() {
        return Err(PErr::new("expected a component, found a core module", 0, false));
    }
    Ok(Parsed { components, modules, types })
}

/// Records the definitions a (validated) payload makes in the current component.
fn record(payload: &Payload<'_>, validator: &Validator, stack: &mut Vec<Frame>) -> std::result::Result<(), PErr> {
    match payload {
        Payload::Version { encoding: wasmparser::Encoding::Component, .. } => {
            stack.push(Frame::Component(StaticComponent::default()));
            return Ok(());
        }
        Payload::ModuleSection { unchecked_range, .. } => {
            stack.push(Frame::Module { range: unchecked_range.clone() });
            return Ok(());
        }
        _ => {}
    }
    let Some(Frame::Component(comp)) = stack.last_mut() else { return Ok(()) };
    let types = validator.types(0).expect("a component is being validated");
    let inits = &mut comp.inits;
    match payload {
        Payload::ComponentImportSection(s) => {
            for import in s.clone() {
                let import = import?;
                let item = types.component_item_for_import(import.name.name).expect("validated import has a type");
                inits.push(LocalInit::Import { name: import.name.name.to_owned(), ty: item.ty });
            }
        }
        Payload::InstanceSection(s) => {
            for inst in s.clone() {
                inits.push(match inst? {
                    wasmparser::Instance::Instantiate { module_index, args } => LocalInit::ModuleInstantiate {
                        module: module_index,
                        args: args.iter().map(|a| (a.name.to_owned(), a.index)).collect(),
                    },
                    wasmparser::Instance::FromExports(exports) => LocalInit::ModuleSynthetic(
                        exports.iter().map(|e| (e.name.to_owned(), e.kind, e.index)).collect(),
                    ),
                });
            }
        }
        Payload::ComponentTypeSection(s) => {
            // Only resource definitions matter to the runtime. Every type adds one index, so the section's types
            // are the last `count` ones; the definitions themselves (for the destructors, which only the binary
            // has) are read again only when one of them is a resource.
            let first = types.component_type_count() - s.count();
            let is_resource =
                |i: u32| matches!(types.component_any_type_at(first + i), ComponentAnyTypeId::Resource(_));
            if !(0..s.count()).any(is_resource) {
                return Ok(());
            }
            for (i, def) in s.clone().into_iter().enumerate() {
                if let wasmparser::ComponentType::Resource { dtor, .. } = def? {
                    let ComponentAnyTypeId::Resource(r) = types.component_any_type_at(first + i as u32) else {
                        return Err(PErr::new("internal: a resource definition without a resource type", 0, false));
                    };
                    inits.push(LocalInit::Resource { id: r.resource(), dtor });
                }
            }
        }
        Payload::ComponentCanonicalSection(s) => {
            for canon in s.clone() {
                inits.push(canonical(canon?, &types)?);
            }
        }
        Payload::ComponentInstanceSection(s) => {
            let first = types.component_instance_count() - s.count();
            for (i, inst) in s.clone().into_iter().enumerate() {
                inits.push(match inst? {
                    wasmparser::ComponentInstance::Instantiate { component_index, args } => {
                        LocalInit::ComponentInstantiate {
                            component: component_index,
                            args: args.iter().map(|a| (a.name.to_owned(), item(a.kind, a.index, &types))).collect(),
                            ty: types.component_instance_at(first + i as u32),
                        }
                    }
                    wasmparser::ComponentInstance::FromExports(exports) => LocalInit::ComponentSynthetic(
                        exports.iter().map(|e| (e.name.name.to_owned(), item(e.kind, e.index, &types))).collect(),
                    ),
                });
            }
        }
        Payload::ComponentAliasSection(s) => {
            for alias in s.clone() {
                match alias? {
                    ComponentAlias::InstanceExport { kind, instance_index, name } => {
                        inits.push(LocalInit::AliasExport { instance: instance_index, kind, name: name.to_owned() })
                    }
                    ComponentAlias::CoreInstanceExport { kind, instance_index, name } => {
                        inits.push(LocalInit::AliasCoreExport { instance: instance_index, kind, name: name.to_owned() })
                    }
                    ComponentAlias::Outer { kind, count, index } => match kind {
                        ComponentOuterAliasKind::CoreModule | ComponentOuterAliasKind::Component => {
                            inits.push(LocalInit::AliasOuter { kind, count, index })
                        }
                        // Types are resolved through wasmparser ids; outer type aliases need no runtime work.
                        ComponentOuterAliasKind::CoreType | ComponentOuterAliasKind::Type => {}
                    },
                }
            }
        }
        Payload::ComponentExportSection(s) => {
            // Each exported type appended one type index, in order.
            let mut n_types = 0;
            for export in s.clone() {
                n_types += u32::from(export?.kind == ComponentExternalKind::Type);
            }
            let mut next_type = types.component_type_count() - n_types;
            for export in s.clone() {
                let export = export?;
                let item = match export.kind {
                    ComponentExternalKind::Type => {
                        next_type += 1;
                        Item::Type(types.component_any_type_at(next_type - 1))
                    }
                    kind => item(kind, export.index, &types),
                };
                inits.push(LocalInit::Export { name: export.name.name.to_owned(), item });
            }
        }
        Payload::ComponentStartSection { range, .. } => {
            return Err(PErr::new("component start functions", range.start, true));
        }
        _ => {}
    }
    Ok(())
}

fn item(kind: ComponentExternalKind, index: u32, types: &wasmparser::types::TypesRef<'_>) -> Item {
    match kind {
        ComponentExternalKind::Func => Item::Func(index),
        ComponentExternalKind::Instance => Item::Instance(index),
        ComponentExternalKind::Module => Item::Module(index),
        ComponentExternalKind::Component => Item::Component(index),
        ComponentExternalKind::Type => Item::Type(types.component_any_type_at(index)),
        // Values need the `cm_values` feature, which the validator rejects before we get here.
        ComponentExternalKind::Value => unreachable!("value items are rejected by validation"),
    }
}

fn canonical(
    canon: CanonicalFunction,
    types: &wasmparser::types::TypesRef<'_>,
) -> std::result::Result<LocalInit, PErr> {
    use crate::component::plan::{Builtin, CopyKind};
    let resource = |idx: u32| match types.component_any_type_at(idx) {
        ComponentAnyTypeId::Resource(r) => r.resource(),
        _ => unreachable!("validated resource built-in names a resource"),
    };
    let value_type = |idx: u32| match types.component_any_type_at(idx) {
        ComponentAnyTypeId::Defined(d) => Ok(ComponentValType::Type(d)),
        _ => Err(PErr::new("a stream or future built-in names a type that is not a value type", 0, false)),
    };
    let (stream, future) = (CopyKind::Stream, CopyKind::Future);
    let builtin = match canon {
        CanonicalFunction::Lift { core_func_index, type_index, options } => {
            let ComponentAnyTypeId::Func(ty) = types.component_any_type_at(type_index) else {
                unreachable!("validated lift has a function type")
            };
            let options = local_options(&options);
            if options.async_ && options.callback.is_none() {
                return Err(needs_stack_switching("an `async` lift without a `callback` (a stackful lift)"));
            }
            return Ok(LocalInit::Lift { ty, core_func: core_func_index, options });
        }
        CanonicalFunction::Lower { func_index, options } => {
            return Ok(LocalInit::Lower { func: func_index, options: local_options(&options) })
        }
        CanonicalFunction::ResourceNew { resource: r } => return Ok(LocalInit::ResourceNew(resource(r))),
        CanonicalFunction::ResourceRep { resource: r } => return Ok(LocalInit::ResourceRep(resource(r))),
        CanonicalFunction::ResourceDrop { resource: r } => return Ok(LocalInit::ResourceDrop(resource(r))),
        CanonicalFunction::TaskReturn { result, options } => {
            let result = match result {
                None => None,
                Some(wasmparser::ComponentValType::Primitive(p)) => Some(ComponentValType::Primitive(p)),
                Some(wasmparser::ComponentValType::Type(i)) => Some(value_type(i)?),
            };
            Builtin::TaskReturn { result, options: local_options(&options) }
        }
        CanonicalFunction::TaskCancel => Builtin::TaskCancel,
        CanonicalFunction::ContextGet { ty, slot } => {
            context_type(ty)?;
            Builtin::ContextGet(slot)
        }
        CanonicalFunction::ContextSet { ty, slot } => {
            context_type(ty)?;
            Builtin::ContextSet(slot)
        }
        CanonicalFunction::BackpressureInc => Builtin::BackpressureInc,
        CanonicalFunction::BackpressureDec => Builtin::BackpressureDec,
        CanonicalFunction::ThreadYield { cancellable } => Builtin::ThreadYield { cancellable },
        CanonicalFunction::WaitableSetNew => Builtin::WaitableSetNew,
        CanonicalFunction::WaitableSetWait { cancellable, memory } => Builtin::WaitableSetWait { cancellable, memory },
        CanonicalFunction::WaitableSetPoll { cancellable, memory } => Builtin::WaitableSetPoll { cancellable, memory },
        CanonicalFunction::WaitableSetDrop => Builtin::WaitableSetDrop,
        CanonicalFunction::WaitableJoin => Builtin::WaitableJoin,
        CanonicalFunction::SubtaskDrop => Builtin::SubtaskDrop,
        CanonicalFunction::SubtaskCancel { async_ } => Builtin::SubtaskCancel { async_ },
        CanonicalFunction::StreamNew { ty } => Builtin::New { kind: stream, ty: value_type(ty)? },
        CanonicalFunction::StreamRead { ty, options } => {
            Builtin::Read { kind: stream, ty: value_type(ty)?, options: local_options(&options) }
        }
        CanonicalFunction::StreamWrite { ty, options } => {
            Builtin::Write { kind: stream, ty: value_type(ty)?, options: local_options(&options) }
        }
        CanonicalFunction::StreamCancelRead { ty, async_ } => {
            Builtin::CancelRead { kind: stream, ty: value_type(ty)?, async_ }
        }
        CanonicalFunction::StreamCancelWrite { ty, async_ } => {
            Builtin::CancelWrite { kind: stream, ty: value_type(ty)?, async_ }
        }
        CanonicalFunction::StreamDropReadable { ty } => Builtin::DropReadable { kind: stream, ty: value_type(ty)? },
        CanonicalFunction::StreamDropWritable { ty } => Builtin::DropWritable { kind: stream, ty: value_type(ty)? },
        CanonicalFunction::FutureNew { ty } => Builtin::New { kind: future, ty: value_type(ty)? },
        CanonicalFunction::FutureRead { ty, options } => {
            Builtin::Read { kind: future, ty: value_type(ty)?, options: local_options(&options) }
        }
        CanonicalFunction::FutureWrite { ty, options } => {
            Builtin::Write { kind: future, ty: value_type(ty)?, options: local_options(&options) }
        }
        CanonicalFunction::FutureCancelRead { ty, async_ } => {
            Builtin::CancelRead { kind: future, ty: value_type(ty)?, async_ }
        }
        CanonicalFunction::FutureCancelWrite { ty, async_ } => {
            Builtin::CancelWrite { kind: future, ty: value_type(ty)?, async_ }
        }
        CanonicalFunction::FutureDropReadable { ty } => Builtin::DropReadable { kind: future, ty: value_type(ty)? },
        CanonicalFunction::FutureDropWritable { ty } => Builtin::DropWritable { kind: future, ty: value_type(ty)? },
        CanonicalFunction::ErrorContextNew { options } => Builtin::ErrorContextNew { options: local_options(&options) },
        CanonicalFunction::ErrorContextDebugMessage { options } => {
            Builtin::ErrorContextDebugMessage { options: local_options(&options) }
        }
        CanonicalFunction::ErrorContextDrop => Builtin::ErrorContextDrop,
        // The threading built-ins (🧵) create, suspend and resume threads: they need stack switching.
        other => return Err(needs_stack_switching(&format!("the threading built-in {}", builtin_name(&other)))),
    };
    Ok(LocalInit::Builtin(builtin))
}

/// The refusal of a construct that needs a core call to be suspended and resumed later.
fn needs_stack_switching(what: &str) -> PErr {
    PErr::new(format!("needs stack switching: {what}"), 0, true)
}

/// `context.get`/`context.set` on `i64` slots belong to 64-bit memories, which the options do not support.
fn context_type(ty: wasmparser::ValType) -> std::result::Result<(), PErr> {
    match ty {
        wasmparser::ValType::I32 => Ok(()),
        _ => Err(PErr::new("`context.get`/`context.set` of a type other than i32", 0, true)),
    }
}

/// The text-format name of a threading built-in, for messages.
fn builtin_name(canon: &CanonicalFunction) -> &'static str {
    match canon {
        CanonicalFunction::ThreadSpawnRef { .. } => "`thread.spawn-ref`",
        CanonicalFunction::ThreadSpawnIndirect { .. } => "`thread.spawn-indirect`",
        CanonicalFunction::ThreadAvailableParallelism => "`thread.available-parallelism`",
        CanonicalFunction::ThreadIndex => "`thread.index`",
        CanonicalFunction::ThreadNewIndirect { .. } => "`thread.new-indirect`",
        CanonicalFunction::ThreadResumeLater => "`thread.resume-later`",
        CanonicalFunction::ThreadSuspend { .. } => "`thread.suspend`",
        CanonicalFunction::ThreadSuspendThenResume { .. } => "`thread.suspend-then-resume`",
        CanonicalFunction::ThreadYieldThenResume { .. } => "`thread.yield-then-resume`",
        _ => "`thread.*`",
    }
}

fn local_options(options: &[CanonicalOption]) -> LocalOptions {
    use crate::abi::StringEncoding;
    let mut o = LocalOptions::default();
    for opt in options {
        match *opt {
            CanonicalOption::UTF8 => o.encoding = StringEncoding::Utf8,
            CanonicalOption::UTF16 => o.encoding = StringEncoding::Utf16,
            CanonicalOption::CompactUTF16 => o.encoding = StringEncoding::Latin1Utf16,
            CanonicalOption::Memory(m) => o.memory = Some(m),
            CanonicalOption::Realloc(r) => o.realloc = Some(r),
            CanonicalOption::PostReturn(p) => o.post_return = Some(p),
            CanonicalOption::Async => o.async_ = true,
            CanonicalOption::Callback(c) => o.callback = Some(c),
            // Rejected by validation without the GC feature.
            CanonicalOption::CoreType(_) | CanonicalOption::Gc => {}
        }
    }
    o
}
