//! # component-layer
//!
//! The WebAssembly Component Model for every engine behind [`wasm_runtime_layer`]: load any valid component
//! (nested, composed, WIT-less), link it, and call it with the full synchronous canonical ABI, on wasmi,
//! wasmtime's core engine or any other backend of the layer. The API follows wasmtime's `component` module, so
//! code written for one reads the same on the other.
//!
//! This page is a tour, from loading a component to generated bindings. Every example runs as a test. The
//! components are written in WAT and turned into binaries with the `wat` crate; a real host reads a `.wasm`
//! file a toolchain built.
//!
//! ## 1. Load a component and call it
//!
//! An [`Engine`] wraps a backend's engine; a [`Component`] is validated and translated once per engine; a
//! [`Store`] holds instances and the host's data (`T`, here `()`); a [`Linker`] supplies the imports (none here).
//! [`Func::call`] takes and returns dynamic [`Value`]s, checked against the function's type on every call.
//!
//! ```
//! use component_layer::{Component, Engine, Linker, Store, Value};
//!
//! # fn main() -> component_layer::Result<()> {
//! let engine = Engine::new(wasmi_runtime_layer::Engine::default());
//! let bytes = wat::parse_str(r#"(component
//!   (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
//!   (core instance $i (instantiate $m))
//!   (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))"#)
//! .unwrap();
//! let component = Component::new(&engine, &bytes)?;
//!
//! let mut store = Store::new(&engine, ());
//! let instance = Linker::new().instantiate(&mut store, &component)?;
//! let add = instance.get_func("add").expect("an export `add`");
//! let mut results = [Value::U32(0)];
//! add.call(&mut store, &[Value::U32(2), Value::U32(3)], &mut results)?;
//! assert_eq!(results, [Value::U32(5)]);
//! # Ok(()) }
//! ```
//!
//! ## 2. Typed calls
//!
//! [`Func::typed`] (or [`Instance::get_typed_func`]) checks the type once and gives a [`TypedFunc`], whose calls
//! lower Rust values straight into the guest and lift its results straight back: no [`Value`] tree, and no
//! allocation for scalars. Parameters are a tuple, results `()` or a 1-tuple. The table of Rust types for each
//! WIT type is at [`TypedFunc`]; records, variants and enums derive theirs ([`macro@ComponentType`]), flags
//! declare theirs ([`flags!`]).
//!
//! ```
//! # use component_layer::{Component, Engine, Linker, Store};
//! # fn main() -> component_layer::Result<()> {
//! # let engine = Engine::new(wasmi_runtime_layer::Engine::default());
//! # let bytes = wat::parse_str(r#"(component
//! #   (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
//! #   (core instance $i (instantiate $m))
//! #   (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))"#)
//! # .unwrap();
//! # let component = Component::new(&engine, &bytes)?;
//! # let mut store = Store::new(&engine, ());
//! # let instance = Linker::new().instantiate(&mut store, &component)?;
//! let add = instance.get_typed_func::<(u32, u32), (u32,)>("add")?;
//! assert_eq!(add.call(&mut store, (2, 3))?, (5,));
//!
//! // The types are checked here, once: `add` takes no strings.
//! assert!(instance.get_typed_func::<(&str,), (u32,)>("add").is_err());
//! # Ok(()) }
//! ```
//!
//! ## 3. Host functions
//!
//! A component's imports are defined in the [`Linker`], by name: [`LinkerInstance::func_wrap`] for a Rust
//! closure with typed parameters (checked against the import once, at instantiation), [`LinkerInstance::func_new`]
//! for a dynamic one. Interface imports (`wasi:cli/environment@0.2.0`) are nested instances
//! ([`Linker::instance`]). A host function gets the [`StoreContextMut`] of the call, and through it the store's
//! data.
//!
//! ```
//! use component_layer::{Component, Engine, Linker, Store};
//!
//! # fn main() -> component_layer::Result<()> {
//! let engine = Engine::new(wasmi_runtime_layer::Engine::default());
//! // `run(x)` is `double(x) + 1`, with `double` imported from the host.
//! let bytes = wat::parse_str(r#"(component
//!   (import "double" (func $double (param "x" u32) (result u32)))
//!   (core func $double-core (canon lower (func $double)))
//!   (core module $m
//!     (import "host" "double" (func $double (param i32) (result i32)))
//!     (func (export "run") (param i32) (result i32) (i32.add (call $double (local.get 0)) (i32.const 1))))
//!   (core instance $i (instantiate $m (with "host" (instance (export "double" (func $double-core))))))
//!   (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run"))))"#)
//! .unwrap();
//! let component = Component::new(&engine, &bytes)?;
//!
//! // The store's data counts the host calls.
//! let mut linker = Linker::<u32, _>::new();
//! linker.root().func_wrap("double", |mut cx, (x,): (u32,)| {
//!     *cx.data_mut() += 1;
//!     Ok((x * 2,))
//! })?;
//!
//! let mut store = Store::new(&engine, 0);
//! let instance = linker.instantiate(&mut store, &component)?;
//! let run = instance.get_typed_func::<(u32,), (u32,)>("run")?;
//! assert_eq!(run.call(&mut store, (20,))?, (41,));
//! assert_eq!(*store.data(), 1);
//! # Ok(()) }
//! ```
//!
//! ## 4. Resources
//!
//! A resource the host implements is a Rust type whose values live in the store: [`Resource::new`] moves a
//! value in and gives a handle, which host functions take and return as `own<R>` or `borrow<R>`.
//! [`LinkerInstance::resource_typed`] defines the type, with the destructor that receives the value when the
//! component drops its last owning handle. Resources a component implements are [`ResourceAny`] on the host's
//! side.
//!
//! ```
//! use component_layer::{Component, Engine, Linker, Resource, Store};
//!
//! struct Counter {
//!     value: u32,
//! }
//!
//! # fn main() -> component_layer::Result<()> {
//! let engine = Engine::new(wasmi_runtime_layer::Engine::default());
//! // `run()` makes a counter starting at 5, reads it, and drops it.
//! let bytes = wat::parse_str(r#"(component
//!   (import "counter" (type $counter (sub resource)))
//!   (import "[constructor]counter" (func $new (param "start" u32) (result (own $counter))))
//!   (import "[method]counter.get" (func $get (param "self" (borrow $counter)) (result u32)))
//!   (core func $new-core (canon lower (func $new)))
//!   (core func $get-core (canon lower (func $get)))
//!   (core func $drop (canon resource.drop $counter))
//!   (core module $m
//!     (import "host" "new" (func $new (param i32) (result i32)))
//!     (import "host" "get" (func $get (param i32) (result i32)))
//!     (import "host" "drop" (func $drop (param i32)))
//!     (func (export "run") (result i32) (local $h i32) (local $v i32)
//!       (local.set $h (call $new (i32.const 5)))
//!       (local.set $v (call $get (local.get $h)))
//!       (call $drop (local.get $h))
//!       (local.get $v)))
//!   (core instance $i (instantiate $m (with "host" (instance
//!     (export "new" (func $new-core)) (export "get" (func $get-core)) (export "drop" (func $drop))))))
//!   (func (export "run") (result u32) (canon lift (core func $i "run"))))"#)
//! .unwrap();
//! let component = Component::new(&engine, &bytes)?;
//!
//! // The store's data records the values of dropped counters.
//! let mut linker = Linker::<Vec<u32>, _>::new();
//! let root = linker.root();
//! root.resource_typed::<Counter>("counter", |mut cx, counter| {
//!     cx.data_mut().push(counter.value);
//!     Ok(())
//! })?;
//! root.func_wrap("[constructor]counter", |cx, (start,): (u32,)| Ok((Resource::new(cx, Counter { value: start })?,)))?;
//! root.func_wrap("[method]counter.get", |cx, (this,): (Resource<Counter>,)| Ok((this.get(&cx)?.value,)))?;
//!
//! let mut store = Store::new(&engine, Vec::new());
//! let instance = linker.instantiate(&mut store, &component)?;
//! let run = instance.get_typed_func::<(), (u32,)>("run")?;
//! assert_eq!(run.call(&mut store, ())?, (5,));
//! assert_eq!(*store.data(), [5]);
//! # Ok(()) }
//! ```
//!
//! ## 5. Bindings from WIT
//!
//! Writing names and tuples by hand stops scaling at the first real interface. [`bindgen!`] reads the WIT
//! of a world and generates what the steps above wrote by hand: Rust types for the WIT types, a `Host` trait
//! per imported interface with an `add_to_linker` that defines its functions, and a struct for the world with
//! typed methods for its exports. Its documentation has a complete example.
//!
//! ## 6. Instantiate once, run many times
//!
//! [`Linker::instantiate`] resolves and type-checks every import each time. [`Linker::instantiate_pre`] does that
//! once and gives an [`InstancePre`], whose [`InstancePre::instantiate`] only runs the component's
//! instantiation; [`Component::get_export_index`] finds an export once, so that each instance's lookup is an
//! index, not a string comparison. (`bindgen!`'s `instantiate_pre` does both.)
//!
//! ```
//! use component_layer::{Component, Engine, Linker, Store};
//!
//! # fn main() -> component_layer::Result<()> {
//! # let engine = Engine::new(wasmi_runtime_layer::Engine::default());
//! # let bytes = wat::parse_str(r#"(component
//! #   (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
//! #   (core instance $i (instantiate $m))
//! #   (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))"#)
//! # .unwrap();
//! let component = Component::new(&engine, &bytes)?;
//! let pre = Linker::new().instantiate_pre(&component)?;
//! let add = component.get_export_index(None, "add").expect("an export `add`");
//! for i in 0..3 {
//!     // A fresh store (and instance) per request, as a server would.
//!     let mut store = Store::new(&engine, ());
//!     let instance = pre.instantiate(&mut store)?;
//!     let add = instance.get_typed_func::<(u32, u32), (u32,)>(&add)?;
//!     assert_eq!(add.call(&mut store, (i, 10))?, (i + 10,));
//! }
//! # Ok(()) }
//! ```
//!
//! ## 7. Any backend
//!
//! The backend is a type parameter: code written once runs on any of them. [`backend`] re-exports the layer's
//! traits, so such code needs no direct dependency on `wasm_runtime_layer`.
//!
//! ```
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
//! let bytes = wat::parse_str(r#"(component
//!   (core module $m (func (export "f")))
//!   (core instance $i (instantiate $m))
//!   (func (export "f") (canon lift (core func $i "f"))))"#)
//! .unwrap();
//! let on_wasmi = exports(&Engine::new(wasmi_runtime_layer::Engine::default()), &bytes)?;
//! let on_wasmtime = exports(&Engine::new(wasmtime_runtime_layer::Engine::default()), &bytes)?;
//! assert_eq!(on_wasmi, ["f"]);
//! assert_eq!(on_wasmi, on_wasmtime);
//! # Ok(()) }
//! ```
//!
//! ## Where things are
//!
//! The crate follows the pipeline:
//! * [`component`](Component) — validation and translation of the binary into a plan (`component/`);
//! * [`Linker`] and [`Instance`] — resolving imports and running the plan in a [`Store`];
//! * the canonical ABI (`abi/`) — layout, lifting, lowering, strings, handle tables;
//! * [`Func`] and [`TypedFunc`] — calls with dynamic [`Value`]s or Rust types;
//! * [`ResourceType`], [`Resource`] and [`ResourceAny`] — resources;
//! * [`bindgen!`] and the derives — Rust bindings from WIT, and [`Access`] for host functions that need the store;
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
pub use concurrent::host_stream::{FutureReader, FutureWriter, StreamReader, StreamWriter};
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
/// The host below implements the imported interface `docs:calc/log` through the generated `Host` trait and
/// calls the world's export through the generated `Calc` struct. The WIT is given inline; `path: "wit"` reads it
/// from files instead.
///
/// ```
/// use component_layer::{Component, Engine, Linker, Store};
///
/// component_layer::bindgen!({
///     inline: r#"
///         package docs:calc;
///
///         interface log {
///             enum level { info, warn }
///             record point { x: s32, y: s32 }
///             note: func(level: level, p: point);
///         }
///
///         world calc {
///             import log;
///             use log.{point};
///             /// |x| + |y|, noting the point (a warning if x < 0).
///             export manhattan: func(p: point) -> u32;
///         }
///     "#,
///     additional_derives: [PartialEq],
/// });
///
/// use docs::calc::log::{Level, Point};
///
/// /// The host: the notes the guest took.
/// #[derive(Default)]
/// struct Notes(Vec<(Level, Point)>);
///
/// impl docs::calc::log::Host for Notes {
///     fn note(&mut self, level: Level, p: Point) {
///         self.0.push((level, p));
///     }
/// }
///
/// // A guest of world `calc`, as a toolchain would build it.
/// const GUEST: &str = r#"(component
///   (import "docs:calc/log" (instance $log
///     (type $level' (enum "info" "warn"))
///     (export "level" (type $level (eq $level')))
///     (type $point' (record (field "x" s32) (field "y" s32)))
///     (export "point" (type $point (eq $point')))
///     (export "note" (func (param "level" $level) (param "p" $point)))))
///   (alias export $log "note" (func $note))
///   (alias export $log "point" (type $point))
///   (core func $note-core (canon lower (func $note)))
///   (core module $m
///     (import "log" "note" (func $note (param i32 i32 i32)))
///     (func $abs (param i32) (result i32)
///       (select (i32.sub (i32.const 0) (local.get 0)) (local.get 0) (i32.lt_s (local.get 0) (i32.const 0))))
///     (func (export "manhattan") (param $x i32) (param $y i32) (result i32)
///       (call $note (i32.lt_s (local.get $x) (i32.const 0)) (local.get $x) (local.get $y))
///       (i32.add (call $abs (local.get $x)) (call $abs (local.get $y)))))
///   (core instance $i (instantiate $m (with "log" (instance (export "note" (func $note-core))))))
///   (func (export "manhattan") (param "p" $point) (result u32) (canon lift (core func $i "manhattan"))))"#;
///
/// # fn main() -> component_layer::Result<()> {
/// let engine = Engine::new(wasmi_runtime_layer::Engine::default());
/// let component = Component::new(&engine, &wat::parse_str(GUEST).unwrap())?;
///
/// let mut linker = Linker::new();
/// // Every import of the world, implemented by the host that the closure finds in the store's data.
/// Calc::add_to_linker(&mut linker, |notes: &mut Notes| notes)?;
/// // Imports resolved and checked, exports found: once per component.
/// let pre = Calc::instantiate_pre(&component, &linker)?;
///
/// let mut store = Store::new(&engine, Notes::default());
/// let calc = pre.instantiate(&mut store)?;
/// assert_eq!(calc.call_manhattan(&mut store, &Point { x: -3, y: 4 })?, 7);
/// assert_eq!(store.data().0, [(Level::Warn, Point { x: -3, y: 4 })]);
/// # Ok(()) }
/// ```
///
/// # What it generates
///
/// For a world `my-world`:
/// * each named WIT type as a Rust type: records and variants with `#[derive(ComponentType, Lift, Lower,
///   Clone, Debug)]` (no `Clone` if they hold a host resource), enums also `Copy, PartialEq, Eq, Hash`, flags
///   with [`flags!`], aliases as `type`; every name written out with `#[component(name = "...")]`;
/// * per imported interface `ns:pkg/iface` a module `ns::pkg::iface` with its types, a `Host` trait (one method
///   per function, `&mut self` first), a `HostFoo` trait per resource `foo` (constructor `new`, methods with
///   `self_: HostResource<Foo>`, statics, and `drop`), an uninhabited marker `Foo` for
///   [`HostResource<Foo>`](HostResource), `impl Host for &mut T` where `T: Host` (likewise each `HostFoo`), and
///   `add_to_linker(linker, get)` defining them all with typed host functions (`add_to_linker_instance(inst,
///   get)` defines them in a given linker instance); root-level imports go in a `MyWorldImports` trait;
/// * per exported interface a module `exports::ns::pkg::iface` with a `Guest` struct: `call_f` per function
///   (strings, lists and compound arguments by reference), a `GuestFoo` view per resource (`guest.foo()
///   .call_constructor(..)`, `.call_method(..)`; guest resources are [`ResourceAny`]), and `GuestIndices`;
/// * the world's struct `MyWorld` with `instantiate(store, component, linker)`, `instantiate_pre(component,
///   linker)` → `MyWorldPre` (imports checked once, exports found once by [`ExportIndex`]), `new(store,
///   instance)`, `add_to_linker(linker, get)`, `call_f` per root export and an accessor per exported interface
///   (`ns_pkg_iface()`).
///
/// An interface imported or exported under several names (a component's `implements`: `import primary:
/// ns:pkg/store; import backup: ns:pkg/store;`) is generated once; the world's `add_to_linker` defines it under
/// each name, and the world's struct has an accessor per exported name.
///
/// WIT names are made Rust names without collisions: keywords become raw identifiers (`r#type`; `self_` for
/// the few that cannot), a WIT type named like a generated item gets a trailing `_` (`Host_`), a method named
/// like a generated one gets one too (a resource method `new` beside the constructor is `new_`), and the
/// generated code names everything by path, so WIT types named `Result`, `Vec` or `T` shadow nothing.
///
/// # Options
///
/// * `path: "wit"` or `["wit/a", "wit/b"]` — WIT files or directories, pushed in order, relative to
///   `CARGO_MANIFEST_DIR`; `inline: "package a:b; ..."` — WIT in the macro (with or instead of `path`).
/// * `world: "a:b/my-world"` — optional if there is only one world.
/// * `with: { "key": path, ... }` — bindings that exist elsewhere, as in wasmtime. A key names an imported
///   interface (`"a:b/iface"`, with or without `@version`), a package (`"a:b"`) or a namespace (`"a"`), whose
///   interfaces' modules are then `path::iface` or `path::pkg::iface` — typically another `bindgen!`'s module;
///   or a type or host resource of an interface (`"a:b/iface.ty"`, also written `"a:b/iface/ty"`), which is
///   then `path` (a type deriving the same traits, or any `'static` type for a resource:
///   `HostResource<path>`). Paths are resolved where `bindgen!` is invoked. Every key must name something.
///   A reused interface's host is bound by that module's `Implementation<T, E>`, the trait every generated
///   interface module has for everything its `add_to_linker` requires (`Host`, `HostFoo`, and the
///   `…WithStore<T, E>` traits of functions that reach the store).
/// * `imports: { default: FLAGS, "key": FLAGS, ... }` — how host functions are generated; FLAGS are `trappable`
///   (the method returns `component_layer::Result<T>`; an `Err` traps) and `store` (the method moves to a
///   `HostWithStore<T, E>` trait — `HostFooWithStore<T, E>` for a resource — and takes a
///   [`component_layer::Access`](Access) instead of `&mut self`: the store of the call, with `get()` for the
///   host and `data_mut()` for the whole store data), joined by `|`. A key names an imported function
///   (`"a:b/iface.f"`, `"a:b/iface.[method]r.m"`, `"a:b/iface.[drop]r"`, a root function by its name) or every
///   function of an interface (`"a:b/iface"`); the most specific key applies. Every key must name something.
/// * `trappable_imports: true` — the same as `imports: { default: trappable }`.
/// * `additional_derives: [PartialEq, Eq, Hash]` — for records, variants and enums.
/// * `skip_mut_forwarding_impls: true` — no `impl Host for &mut T`.
///
/// An `async func` export gets `call_*`, which runs the store's event loop until the task returns, and
/// `call_*_async`, a future that yields to the executor while only host futures can make progress. An
/// `async func` import's host method returns a [`BoxFuture<R>`](BoxFuture) (`R` is
/// `component_layer::Result<T>` when trappable): the method runs with the host (or, with `store`, the
/// [`Access`]) borrowed, and the future it returns owns what it needs, as the guest goes on while it is pending
/// (it is defined with [`LinkerInstance::func_wrap_async`]; `subtask.cancel` drops it).
///
/// `stream<T>`, `future<T>` and `error-context` are [`StreamAny`], [`FutureAny`] and [`ErrorContextAny`]
/// (readable ends of any element type, made and read with [`StreamWriter`], [`StreamReader`], [`FutureWriter`]
/// and [`FutureReader`]). A host method that reads a stream or future it is passed takes the `store` flag: it makes
/// its reader from the [`Access`] (`StreamReader::new(&mut host, s)`) and reads it, without the store, in the future
/// it returns ([`StreamReader::next_batch`], [`FutureReader::into_value`]).
///
/// What the runtime cannot run (maps, fixed-length lists) and wasmtime options without a meaning here (`async`, `tracing`, `ownership`,
/// `trappable_error_type`, ...) are compile errors that say so, as are errors in the WIT and keys that name
/// nothing. A host on both backends is `examples/bindgen.rs`.
pub use component_layer_macro::bindgen;

#[doc(hidden)]
pub use component_layer_macro::bindgen_every_world as __bindgen_every_world;
pub use func::{Access, Func, HostFn};

/// The future that a `bindgen!` host method of an `async func` import returns: it owns what it needs, since it
/// runs after the method has given back its borrow of the host and the store, while the guest goes on.
pub type BoxFuture<R> = std::pin::Pin<Box<dyn std::future::Future<Output = R> + Send + 'static>>;
pub use instance::{Export, ExportIndex, ExportInstance, ExportLookup, Instance, InstancePre};
pub use linker::{Linker, LinkerInstance};
pub use module::Module;
pub use resources::{HostDtor, Resource, ResourceAny, ResourceType};
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
