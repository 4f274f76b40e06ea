//! # component-layer
//!
//! The WebAssembly Component Model for every engine behind [`wasm_runtime_layer`]: load any valid component
//! (nested, composed, WIT-less), link it, and call it with the full synchronous canonical ABI, on wasmi,
//! wasmtime's core engine or any other backend of the layer.
//!
//! ```no_run
//! use component_layer::{Component, Linker, Store, Value};
//!
//! # fn main() -> component_layer::Result<()> {
//! let engine = wasm_runtime_layer::Engine::new(wasmi_runtime_layer::Engine::default());
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
//! How the crate is organised, following the pipeline:
//! * [`component`](Component) — validation and translation of the binary into a plan (`component/`);
//! * [`Linker`] and [`Instance`] — resolving imports and running the plan in a [`Store`];
//! * the canonical ABI (`abi/`) — layout, lifting, lowering, strings, handle tables;
//! * [`Func`] and [`TypedFunc`] — calls with dynamic [`Value`]s or Rust types;
//! * [`ResourceType`] and [`ResourceAny`] — resources;
//! * [`generic`] — a deterministic, recording host for any component's imports.
//!
//! The runtime bounds its own depth: guest calls nested in host calls (a host function calling back into a
//! component, components calling each other) are counted per store and trap with
//! [`Trap::CallStackExhausted`] past [`Store::set_max_call_depth`] or when the native stack runs low; value
//! types nest at most [`types::MAX_TYPE_DEPTH`] levels; and a panic in a host function unwinds the guest as a
//! trap and is resumed in the caller of [`Func::call`] (see its docs), never aborting the process.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

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

pub use abi::StringEncoding;
pub use component::{default_features, Component};
pub use error::{Error, ErrorKind, Result, Trap};
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
pub use wasmparser::WasmFeatures;
