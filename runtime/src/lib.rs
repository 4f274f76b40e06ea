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
//! * `generic` (cargo feature `generic-host`) — a deterministic, recording host for any component's imports.
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
pub(crate) mod concurrent;
mod error;
pub(crate) mod func;
#[cfg(feature = "generic-host")]
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
pub use concurrent::values::{ErrorContextAny, FutureAny, StreamAny};
pub use concurrent::AsyncTrap;
pub use error::{Error, ErrorKind, Location, PathSegment, Result, Trap};
pub use func::nesting::DEFAULT_MAX_CALL_DEPTH;
pub use func::typed::{
    ComponentParams, ComponentResults, ComponentType, HostResource, Lift, Lower, TypedFunc, WasmList, WasmListElement,
    WasmStr,
};

/// Derives [`trait@ComponentType`], [`trait@Lift`] or [`trait@Lower`] for a Rust type that stands for a component
/// `record`, `variant` or `enum`.
///
/// The container attribute names the kind: `#[component(record)]` on a struct with named fields,
/// `#[component(variant)]` on an enum whose cases carry zero or one unnamed field, `#[component(enum)]` on an enum
/// without fields. A field's or case's component name is the kebab-case of its Rust name (`y_coord` →
/// `y-coord`, `RedApple` → `red-apple`) unless `#[component(name = "...")]` gives it. (wasmtime keeps the Rust
/// identifier as it is when no name is given; its `bindgen!` writes every name out.) `#[component(crate =
/// path)]` names this crate if it is not `::component_layer`.
///
/// The type check runs once, when a [`TypedFunc`] is created or a host function is linked: names and order of
/// the fields or cases must match the component's type, and the error names the first difference.
///
/// ```
/// use component_layer::{Component, ComponentType, Lift, Linker, Lower, Store};
///
/// #[derive(ComponentType, Lift, Lower, Debug, PartialEq)]
/// #[component(record)]
/// struct Point {
///     x: u32,
///     #[component(name = "y-coord")]
///     y: f64,
/// }
///
/// #[derive(ComponentType, Lift, Lower, Debug, PartialEq)]
/// #[component(enum)]
/// enum Color {
///     Red,
///     DarkGreen, // "dark-green"
/// }
///
/// # fn main() -> component_layer::Result<()> {
/// let engine = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
/// let wat = r#"(component
///   (core module $m
///     (memory (export "mem") 1)
///     (func (export "nudge") (param i32 f64) (result i32)
///       (i32.store (i32.const 0) (i32.add (local.get 0) (i32.const 1)))
///       (f64.store (i32.const 8) (local.get 1))
///       (i32.const 0))
///     (func (export "id") (param i32) (result i32) (local.get 0)))
///   (core instance $i (instantiate $m))
///   (alias core export $i "mem" (core memory $mem))
///   (type $point' (record (field "x" u32) (field "y-coord" f64)))
///   (export $point "point" (type $point'))
///   (type $color' (enum "red" "dark-green"))
///   (export $color "color" (type $color'))
///   (func (export "nudge") (param "p" $point) (result $point)
///     (canon lift (core func $i "nudge") (memory $mem)))
///   (func (export "same") (param "c" $color) (result $color) (canon lift (core func $i "id"))))"#;
/// let component = Component::new(&engine, &wat::parse_str(wat).unwrap())?;
/// let mut store = Store::new(&engine, ());
/// let instance = Linker::new().instantiate(&mut store, &component)?;
///
/// let nudge = instance.get_func("nudge").unwrap().typed::<(Point,), (Point,)>()?;
/// let (p,) = nudge.call(&mut store, (Point { x: 1, y: 2.5 },))?;
/// assert_eq!(p, Point { x: 2, y: 2.5 });
///
/// let same = instance.get_func("same").unwrap().typed::<(Color,), (Color,)>()?;
/// assert_eq!(same.call(&mut store, (Color::DarkGreen,))?, (Color::DarkGreen,));
///
/// // The names and order are checked once, here: `Point` is not an enum.
/// let err = instance.get_func("same").unwrap().typed::<(Point,), (Point,)>().unwrap_err();
/// assert!(err.to_string().contains("Rust type `Point` expects a record"), "{err}");
/// # Ok(()) }
/// ```
pub use component_layer_macro::ComponentType;

/// Derives [`trait@Lift`] (guest → host) for a `record`, `variant` or `enum`; the attributes and an example are
/// at [`macro@ComponentType`].
pub use component_layer_macro::Lift;

/// Derives [`trait@Lower`] (host → guest) for a `record`, `variant` or `enum`; the attributes and an example are
/// at [`macro@ComponentType`].
pub use component_layer_macro::Lower;

/// Declares a Rust type for a component `flags` type, as wasmtime's `flags!`.
///
/// Each `const` is one flag, in declaration order (the first in the lowest bit); its component name is the
/// kebab-case of the constant's name (`WRITE_ALL` → `write-all`) unless `#[component(name = "...")]` gives it.
/// The type is a copyable bit set with a constant per flag, `empty`, `all`, `contains`, `intersects`, `bits`,
/// `from_bits_truncate`, the bit operators (`|`, `&`, `^`, `!`, and their assignments) and `Debug`; it implements
/// [`trait@ComponentType`], [`trait@Lift`] and [`trait@Lower`]. It is `pub` unless a visibility is written
/// before its name. At most 32 flags.
///
/// ```
/// use component_layer::{Component, Linker, Store};
///
/// component_layer::flags! {
///     Perms {
///         #[component(name = "read")]
///         const READ;
///         const WRITE;
///         const EXEC_ALL; // "exec-all"
///     }
/// }
///
/// # fn main() -> component_layer::Result<()> {
/// let rw = Perms::READ | Perms::WRITE;
/// assert!(rw.contains(Perms::READ) && !rw.contains(Perms::EXEC_ALL));
/// assert_eq!(!rw, Perms::EXEC_ALL);
/// assert_eq!(format!("{rw:?}"), "Perms(READ | WRITE)");
///
/// let engine = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
/// let wat = r#"(component
///   (core module $m (func (export "toggle-write") (param i32) (result i32) (i32.xor (local.get 0) (i32.const 2))))
///   (core instance $i (instantiate $m))
///   (type $perms' (flags "read" "write" "exec-all"))
///   (export $perms "perms" (type $perms'))
///   (func (export "toggle-write") (param "p" $perms) (result $perms) (canon lift (core func $i "toggle-write"))))"#;
/// let component = Component::new(&engine, &wat::parse_str(wat).unwrap())?;
/// let mut store = Store::new(&engine, ());
/// let instance = Linker::new().instantiate(&mut store, &component)?;
/// let toggle = instance.get_func("toggle-write").unwrap().typed::<(Perms,), (Perms,)>()?;
/// assert_eq!(toggle.call(&mut store, (rw,))?, (Perms::READ,));
/// # Ok(()) }
/// ```
pub use component_layer_macro::flags;

/// Generates Rust bindings for a WIT world, as wasmtime's `bindgen!`.
///
/// ```text
/// component_layer::bindgen!({
///     path: "wit",                  // or ["wit/a", "wit/b"], pushed in order; relative to CARGO_MANIFEST_DIR
///     inline: "package a:b; ...",   // WIT in the macro (with or instead of `path`)
///     world: "a:b/my-world",        // optional if there is only one world
///     with: { "a:b/iface": crate::elsewhere::iface },  // reuse the bindings of an imported interface
///     trappable_imports: true,      // host methods return `component_layer::Result<T>` (an `Err` traps)
///     additional_derives: [PartialEq, Eq, Hash],      // for records, variants and enums
/// });
/// ```
///
/// What it generates, for a world `my-world`:
/// * each named WIT type as a Rust type: records and variants with `#[derive(ComponentType, Lift, Lower,
///   Clone, Debug)]` (no `Clone` if they hold a host resource), enums also `Copy, PartialEq, Eq, Hash`, flags
///   with [`flags!`], aliases as `type`; every name written out with `#[component(name = "...")]`;
/// * per imported interface `ns:pkg/iface` a module `ns::pkg::iface` with its types, a `Host` trait (one method
///   per function, `&mut self` first), a `HostFoo` trait per resource `foo` (constructor `new`, methods with
///   `self_: HostResource<Foo>`, statics, and `drop`), an uninhabited marker `Foo` for
///   [`HostResource<Foo>`](HostResource), and `add_to_linker(linker, get)` defining them all with typed host
///   functions; root-level imports go in a `MyWorldImports` trait;
/// * per exported interface a module `exports::ns::pkg::iface` with a `Guest` struct: `call_f` per function
///   (strings, lists and compound arguments by reference), a `GuestFoo` view per resource (`guest.foo()
///   .call_constructor(..)`, `.call_method(..)`; guest resources are [`ResourceAny`]), and `GuestIndices`;
/// * the world's struct `MyWorld` with `instantiate(store, component, linker)`, `instantiate_pre(component,
///   linker)` → `MyWorldPre` (imports checked once, exports found once by [`ExportIndex`]), `new(store,
///   instance)`, `add_to_linker(linker, get)`, `call_f` per root export and an accessor per exported interface
///   (`ns_pkg_iface()`).
///
/// Features the runtime cannot run yet (async functions, `future`, `stream`, `error-context`, maps,
/// fixed-length lists) and wasmtime options without a meaning here (`async`, `tracing`, `ownership`,
/// `trappable_error_type`, ...) are compile errors that say so, as are errors in the WIT. An example host is
/// `examples/bindgen.rs`.
pub use component_layer_macro::bindgen;

#[doc(hidden)]
pub use component_layer_macro::bindgen_every_world as __bindgen_every_world;
pub use func::{Func, HostFn};
pub use instance::{Export, ExportIndex, ExportInstance, ExportLookup, Instance, InstancePre};
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

/// What code generated by `#[derive(ComponentType, Lift, Lower)]` and [`flags!`] refers to: the lift/lower
/// context, the plan's interface types, the flat buffers, and the record, variant and flags steps. Public so that
/// derived code (and hand-written implementations) can name it; not a stable API.
#[doc(hidden)]
pub mod __internal {
    pub use crate::abi::lift::FlatSrc;
    pub use crate::abi::lower::FlatBuf;
    pub use crate::abi::types::Ty as InterfaceType;
    pub use crate::abi::Cx as LiftLowerContext;
    pub use crate::func::typed::internal::*;
    pub use anyhow;
    pub use wasm_runtime_layer::backend::WasmEngine;
}
