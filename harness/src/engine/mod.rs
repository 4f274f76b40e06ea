//! The engines under test, behind one abstraction that every command uses: `conform` (`.wast`), `fuzz`,
//! `check`, `selftest`, `repro` and the tests.
//!
//! * `layer-wasmi` — component-layer over `wasmi_runtime_layer`;
//! * `layer-wasmtime` — component-layer over `wasmtime_runtime_layer` (wasmtime's core engine only);
//! * `wasmtime` — wasmtime 48's native component support, the reference;
//! * `jco` — jco 1.35 in Node ([`jco`]), an independent implementation; opt-in (`--engine jco`): the commands'
//!   default engine set ([`EngineKind::ALL`]) stays the three Rust engines, so that no default run needs Node.
//!
//! An [`Engine`] compiles components, instantiates them — each instance in its own store, so a trap in one
//! cannot poison another — with a [`Host`], calls their exports and drops the resources it holds. Everything
//! that crosses the trait is engine-neutral data: values are [`component_layer::Value`]s in which resources are
//! replaced by labels, failures are [`Failure`]s with a [`TrapClass`], and what host imports received is an
//! [`ImportCall`] log. So the same driver runs a case on any engine, a proxy can wrap any engine
//! ([`fault`], the self-test's engines that are wrong on purpose), and an engine can live in another process.
//!
//! **Resources.** A resource an export returns stays with the engine, which labels it in the result:
//! `own<NAME>#N` where NAME is the host resource type's name and N its representation for resources of host
//! types, and `own<guest>#N` for the component's own resources, where N numbers the resources the instance has
//! given the host in order of first appearance (the same resource returned again gets the same number). Engines
//! that behave alike therefore return equal labels. Arguments refer to resources through [`ResourceArg`]s: a
//! resource position in an argument value holds `u32` *i*, and `resources[i]` says where the handle comes from.
//!
//! Engines are named `<kind>` or, for the self-test, `<kind>!<fault>` (see [`fault::Fault`]).

pub mod failure;
pub mod fault;
pub mod host;
pub mod jco;
pub mod layer;
mod native;
pub mod value;

use component_layer::Value;
use serde::{Deserialize, Serialize};

pub use component_layer::generic::ImportCall;
pub use failure::{Failure, TrapClass};
pub use host::{CaseHost, Host, HostKind};
pub use layer::LayerEngine;
pub use native::wasmtime_engine;

/// Handle to a compiled component in an engine.
pub type ComponentId = usize;
/// Handle to an instance (with its own store) in an engine.
pub type InstanceId = usize;

/// Where the resource at a resource position of an argument comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceArg {
    /// A resource the instance gave the host earlier, by the number in its label (`own<…>#N`): moved for an
    /// `own` parameter, lent for a `borrow`.
    Held(u32),
    /// A new handle of host resource type `ty` (an index into [`CaseHost::resources`]) with representation `rep`:
    /// an `own` or a `borrow` as the parameter's type says.
    HostRep {
        /// The host resource type.
        ty: u32,
        /// The representation.
        rep: u32,
    },
    /// A handle minted by the generic host for the imported resource type at `import` (the path of names from
    /// the component's imports to the resource type, e.g. `["wasi:io/streams@0.2.0", "output-stream"]`).
    Mint {
        /// The path of the imported resource type.
        import: Vec<String>,
    },
}

/// One call of an export.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallSpec {
    /// The export's path: a root function's name, or the names of exported instances and then the function's.
    pub path: Vec<String>,
    /// The arguments; resource positions hold `u32` indices into `resources`.
    pub args: Vec<Value>,
    /// Where the resources of the arguments come from.
    pub resources: Vec<ResourceArg>,
    /// The values host imports with [`component_gen::HostBehaviour::ReturnQueued`] return during this call.
    pub host_returns: Vec<Value>,
}

impl CallSpec {
    /// A call of the root function `name` with plain arguments.
    pub fn root(name: &str, args: Vec<Value>) -> CallSpec {
        CallSpec { path: vec![name.to_owned()], args, ..CallSpec::default() }
    }
}

/// An engine under test.
pub trait Engine: Send {
    /// Its name (`layer-wasmi`, `wasmtime`, `layer-wasmi!flip-bool`, …).
    fn name(&self) -> &str;
    /// Validates and compiles a component.
    fn compile(&mut self, bytes: &[u8]) -> Result<ComponentId, Failure>;
    /// Instantiates a component in a new store with `host` answering its imports.
    fn instantiate(&mut self, component: ComponentId, host: &Host) -> Result<InstanceId, Failure>;
    /// Makes an instance's exported core modules and resource types importable as instance `name` by later
    /// instantiations with [`HostKind::Wast`] (wasmtime's implicit registration of named components).
    fn register(&mut self, instance: InstanceId, name: &str) -> Result<(), Failure>;
    /// Calls an export of an instance. A failed call leaves the instance unusable (its store is poisoned).
    fn call(&mut self, instance: InstanceId, call: &CallSpec) -> Result<Option<Value>, Failure>;
    /// Drops a resource the instance gave the host (by its number): an own's destructor runs.
    fn drop_resource(&mut self, instance: InstanceId, number: u32) -> Result<(), Failure>;
    /// Drops an instance and its store.
    fn drop_instance(&mut self, instance: InstanceId);
    /// The calls that reached the host since the last time, in order (imports and host resource destructors).
    fn take_log(&mut self) -> Vec<ImportCall>;
    /// Forgets every component and instance (and registration), to start a new run with the same engine.
    fn reset(&mut self);
}

/// The implementations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EngineKind {
    /// component-layer over wasmi.
    LayerWasmi,
    /// component-layer over wasmtime's core engine.
    LayerWasmtime,
    /// wasmtime's native component support.
    Wasmtime,
    /// jco (JavaScript, in a Node driver process).
    Jco,
}

impl EngineKind {
    /// The default engines, in report order: those every command runs when none is named. jco is not among them
    /// (it needs Node and the toolchain; name it with `--engine jco`).
    pub const ALL: [EngineKind; 3] = [EngineKind::LayerWasmi, EngineKind::LayerWasmtime, EngineKind::Wasmtime];

    /// Every kind there is.
    pub const KNOWN: [EngineKind; 4] =
        [EngineKind::LayerWasmi, EngineKind::LayerWasmtime, EngineKind::Wasmtime, EngineKind::Jco];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::LayerWasmi => "layer-wasmi",
            EngineKind::LayerWasmtime => "layer-wasmtime",
            EngineKind::Wasmtime => "wasmtime",
            EngineKind::Jco => "jco",
        }
    }

    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<EngineKind> {
        EngineKind::KNOWN.into_iter().find(|k| k.name() == name)
    }

    /// Whether it is component-layer (over some backend).
    pub fn is_layer(self) -> bool {
        matches!(self, EngineKind::LayerWasmi | EngineKind::LayerWasmtime)
    }

    /// A fresh engine of this kind.
    pub fn open(self) -> Box<dyn Engine> {
        match self {
            EngineKind::LayerWasmi => Box::new(layer::LayerEngine::wasmi()),
            EngineKind::LayerWasmtime => Box::new(layer::LayerEngine::wasmtime()),
            EngineKind::Wasmtime => Box::new(native::NativeEngine::new()),
            EngineKind::Jco => Box::new(jco::JcoEngine::new()),
        }
    }
}

/// An engine as named on the command line: a kind, and for the self-test a fault it is wrapped in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EngineSpec {
    /// The implementation.
    pub kind: EngineKind,
    /// The fault it is wrong with on purpose, if any.
    pub fault: Option<fault::Fault>,
}

impl EngineSpec {
    /// Parses `<kind>` or `<kind>!<fault>`.
    pub fn parse(name: &str) -> anyhow::Result<EngineSpec> {
        let (kind, fault) = match name.split_once('!') {
            Some((k, f)) => (k, Some(f)),
            None => (name, None),
        };
        let kind = EngineKind::from_name(kind).ok_or_else(|| {
            anyhow::anyhow!("unknown engine `{kind}` (known: {})", EngineKind::KNOWN.map(EngineKind::name).join(", "))
        })?;
        let fault = fault
            .map(|f| fault::Fault::from_name(f).ok_or_else(|| anyhow::anyhow!("unknown fault `{f}`")))
            .transpose()?;
        Ok(EngineSpec { kind, fault })
    }

    /// The engines named, or all three if none is. A named engine that cannot run here (jco without Node or
    /// its toolchain) is an error with the reason: a command must not quietly run without it.
    pub fn parse_all(names: &[String]) -> anyhow::Result<Vec<EngineSpec>> {
        if names.is_empty() {
            return Ok(EngineKind::ALL.iter().map(|&kind| EngineSpec { kind, fault: None }).collect());
        }
        let specs: Vec<EngineSpec> = names.iter().map(|n| EngineSpec::parse(n)).collect::<anyhow::Result<_>>()?;
        if specs.iter().any(|s| s.kind == EngineKind::Jco) {
            jco::JcoEngine::available().map_err(|why| anyhow::anyhow!("engine `jco`: {why}"))?;
        }
        Ok(specs)
    }

    /// A plain engine of `kind`.
    pub fn plain(kind: EngineKind) -> EngineSpec {
        EngineSpec { kind, fault: None }
    }

    /// Its name.
    pub fn name(&self) -> String {
        match &self.fault {
            Some(f) => format!("{}!{}", self.kind.name(), f.name()),
            None => self.kind.name().to_owned(),
        }
    }

    /// A fresh engine.
    pub fn open(&self) -> Box<dyn Engine> {
        let inner = self.kind.open();
        match &self.fault {
            Some(f) => Box::new(fault::FaultyEngine::new(inner, *f, self.name())),
            None => inner,
        }
    }
}

impl std::fmt::Display for EngineSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// The names of the three plain engines, in report order.
pub const ENGINE_NAMES: [&str; 3] = ["layer-wasmi", "layer-wasmtime", "wasmtime"];

/// Whether a component (valid with the harness's features) uses the async ABI (🔀): it does not validate
/// without the async features. wasmtime then needs `call_async`; jco would need JSPI.
pub fn uses_async_abi(bytes: &[u8]) -> bool {
    use wasmparser::WasmFeatures as F;
    let asynchronous =
        F::CM_ASYNC | F::CM_ASYNC_STACKFUL | F::CM_MORE_ASYNC_BUILTINS | F::CM_THREADING | F::CM_ERROR_CONTEXT;
    wasmparser::Validator::new_with_features(F::all().difference(asynchronous)).validate_all(bytes).is_err()
}
