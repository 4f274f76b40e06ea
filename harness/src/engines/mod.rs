//! The engines under test: one trait, three implementations.
//!
//! * `layer-wasmi` — component-layer over `wasmi_runtime_layer`;
//! * `layer-wasmtime` — component-layer over `wasmtime_runtime_layer` (wasmtime's core engine only);
//! * `wasmtime` — wasmtime 48's native component support, the reference.
//!
//! A [`Session`] is the state of one `.wast` run: a linker with the test host environment ([`host`]) plus the
//! components and instances created so far. Every instance gets its own store, as in wasmtime's runner, so a
//! trap in one cannot poison another. Values cross the trait as [`component_layer::Value`]; failures are
//! classified into [`Failure`] classes, whose messages are kept for reports but never compared.

pub mod host;
pub mod layer;
pub mod native;

use component_layer::Value;
use serde::Serialize;

/// The class of a failure. Messages differ between implementations; only classes are compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "class", content = "message", rename_all = "kebab-case")]
pub enum Failure {
    /// The component failed validation (or did not parse).
    Invalid(String),
    /// The component needs a feature the engine does not support.
    Unsupported(String),
    /// Instantiation failed to resolve or type-check an import.
    Link(String),
    /// A trap, at instantiation (start function) or during a call.
    Trap(String),
}

impl Failure {
    /// The class name.
    pub fn class(&self) -> &'static str {
        match self {
            Failure::Invalid(_) => "invalid",
            Failure::Unsupported(_) => "unsupported",
            Failure::Link(_) => "link error",
            Failure::Trap(_) => "trap",
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            Failure::Invalid(m) | Failure::Unsupported(m) | Failure::Link(m) | Failure::Trap(m) => m,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.class(), self.message().lines().next().unwrap_or(""))
    }
}

/// Handle to a compiled component in a session.
pub type ComponentId = usize;
/// Handle to an instance (with its own store) in a session.
pub type InstanceId = usize;

/// An engine under test.
pub trait Engine: Send + Sync {
    /// The engine's name (`layer-wasmi`, `layer-wasmtime`, `wasmtime`).
    fn name(&self) -> &'static str;
    /// A fresh session with the test host environment.
    fn session(&self) -> anyhow::Result<Box<dyn Session>>;
}

/// The state of one run over an engine.
pub trait Session {
    /// Validates and compiles a component.
    fn compile(&mut self, bytes: &[u8]) -> Result<ComponentId, Failure>;
    /// Instantiates a component in a new store.
    fn instantiate(&mut self, component: ComponentId) -> Result<InstanceId, Failure>;
    /// Instantiates a component in a new store, with every import the host environment lacks defined as a stub
    /// that traps when called.
    fn instantiate_stubbed(&mut self, component: ComponentId) -> Result<InstanceId, Failure>;
    /// Makes an instance's exported modules and resource types importable as instance `name` (wasmtime's
    /// implicit registration of named components).
    fn register(&mut self, instance: InstanceId, name: &str) -> Result<(), Failure>;
    /// Calls the root function `name` of an instance.
    fn invoke(&mut self, instance: InstanceId, name: &str, args: &[Value]) -> Result<Vec<Value>, Failure>;
    /// Drops an instance and its store (the runner keeps only the current one alive, as wasmtime's does).
    fn drop_instance(&mut self, instance: InstanceId);
}

/// All engine names, in report order.
pub const ENGINE_NAMES: [&str; 3] = ["layer-wasmi", "layer-wasmtime", "wasmtime"];

/// The engine with this name.
pub fn by_name(name: &str) -> Option<Box<dyn Engine>> {
    match name {
        "layer-wasmi" => Some(Box::new(layer::LayerEngine::wasmi())),
        "layer-wasmtime" => Some(Box::new(layer::LayerEngine::wasmtime())),
        "wasmtime" => Some(Box::new(native::NativeEngine::new())),
        _ => None,
    }
}
