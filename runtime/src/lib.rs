//! # component-layer
//!
//! The WebAssembly Component Model for every engine behind [`wasm_runtime_layer`]: load any valid component
//! (nested, composed, WIT-less), link it, and call it with the full synchronous canonical ABI, on wasmi,
//! wasmtime's core engine or any other backend of the layer.
//!
//! ```no_run
//! use component_layer::{Component, Engine, Linker, Store, Value};
//!
//! # fn main() -> component_layer::Result<()> {
//! let engine = Engine::new(wasmi_runtime_layer::Engine::default());
//! # let bytes: Vec<u8> = Vec::new();
//! let component = Component::new(&engine, &bytes)?;
//! let mut store = Store::new(&engine, ());
//! let mut linker = Linker::new();
//! linker.root().func_wrap("host-add", |_ctx, (a, b): (u32, u32)| Ok((a + b,)))?;
//! let instance = linker.instantiate(&mut store, &component)?;
//! let f = instance.get_func("run").expect("export `run`");
//! let mut results = [Value::Bool(false)];
//! f.call(&mut store, &[Value::String("hi".into())], &mut results)?;
//! # Ok(()) }
//! ```
//!
//! The backend is a type parameter: code written once runs on any of them. [`backend`] re-exports the layer's
//! traits, so such code needs no direct dependency on `wasm_runtime_layer`:
//!
//! ```no_run
//! use component_layer::backend::WasmEngine;
//! use component_layer::{Component, Engine, Linker, Store};
//!
//! fn exports<E: WasmEngine>(engine: &Engine<E>, bytes: &[u8]) -> component_layer::Result<Vec<String>> {
//!     let component = Component::new(engine, bytes)?;
//!     let mut store = Store::new(engine, ());
//!     let instance = Linker::new().instantiate(&mut store, &component)?;
//!     Ok(instance.exports().map(|(name, _)| name.to_owned()).collect())
//! }
//!
//! # fn main() -> component_layer::Result<()> {
//! # let bytes: Vec<u8> = Vec::new();
//! exports(&Engine::new(wasmi_runtime_layer::Engine::default()), &bytes)?;
//! exports(&Engine::new(wasmtime_runtime_layer::Engine::default()), &bytes)?;
//! # Ok(()) }
//! ```
//!
//! How the crate is organised, following the pipeline:
//! * [`component`](Component) — validation and translation of the binary into a plan (`component/`);
//! * [`Linker`] and [`Instance`] — resolving imports and running the plan in a [`Store`];
//! * the canonical ABI (`abi/`) — layout, lifting, lowering, strings, handle tables;
//! * [`Func`] and [`TypedFunc`] — calls with dynamic [`Value`]s or Rust types;
//! * [`ResourceType`] and [`ResourceAny`] — resources;
//! * [`Error`] — failures, with the [`Location`] of a value that failed to lift or lower;
//! * [`generic`] — a deterministic, recording host for any component's imports.
//!
//! The runtime bounds its own depth: guest calls nested in host calls (a host function calling back into a
//! component, components calling each other) are counted per store and trap with
//! [`Trap::CallStackExhausted`] past [`Store::set_max_call_depth`] or when the native stack runs low; value
//! types nest at most [`types::MAX_TYPE_DEPTH`] levels; and a panic in a host function unwinds the guest as a
//! trap and is resumed in the caller of [`Func::call`] (see its docs), never aborting the process.
//!
//! Values read and write [WAVE](https://github.com/bytecodealliance/wasm-tools/tree/main/crates/wasm-wave) text
//! through the `wasm-wave` crate (see [`Value`]).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub(crate) mod abi;
mod component;
mod error;
pub(crate) mod func;
pub mod generic;
mod instance;
mod linker;
mod module;
mod resources;
mod store;
pub mod types;
mod values;
mod wave;

pub use abi::StringEncoding;
pub use component::{default_features, Component};
pub use error::{Error, ErrorKind, Location, PathSegment, Result, Trap};
pub use func::nesting::DEFAULT_MAX_CALL_DEPTH;
pub use func::typed::{ComponentParams, ComponentResults, ComponentType, TypedFunc};
pub use func::{Func, HostFn};
pub use instance::{Export, ExportInstance, Instance};
pub use linker::{HostDtor, Linker, LinkerInstance};
pub use module::Module;
pub use resources::{Resource, ResourceAny, ResourceType};
pub use store::{
    AsContext, AsContextMut, RuntimeAccess, RuntimeState, Store, StoreContext, StoreContextMut, StoreInner,
    DEFAULT_MAX_HANDLES,
};
pub use values::{List, Value};
pub use wasm_runtime_layer::Engine;

/// The core-wasm backend interface of [`wasm_runtime_layer`], re-exported so that code generic over the backend
/// (`E: backend::WasmEngine`) needs no direct dependency on it: [`WasmEngine`](backend::WasmEngine) and the
/// traits and types around it (`WasmStore`, `WasmFunc`, `Val`, …).
pub mod backend {
    pub use wasm_runtime_layer::backend::*;
}
pub use wasmparser::WasmFeatures;
