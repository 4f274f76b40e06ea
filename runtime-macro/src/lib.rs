//! The derives and the `flags!` macro of component-layer's typed API. Use them through `component_layer`, which
//! re-exports them beside the traits of the same names; the examples are in its documentation.
//!
//! # Design
//!
//! As in wasmtime, a Rust type that stands for a component type implements three traits, and there is one derive
//! for each: `ComponentType` (the type check), `Lift` (guest → host) and `Lower` (host → guest). Three traits,
//! because some types only go one way (`&str` lowers without an owned copy, a borrowed view only lifts); three
//! derives, so that code written for wasmtime's `#[derive(ComponentType, Lift, Lower)]` reads the same here, and a
//! type that only travels one way can derive only what it needs.
//!
//! The container attribute says which component type a Rust type is: `#[component(record)]` on a struct with
//! named fields, `#[component(variant)]` on an enum whose cases have zero or one unnamed field,
//! `#[component(enum)]` on an enum without fields. `#[component(name = "…")]` on a field or case sets its
//! component name; without it the name is the kebab-case of the Rust identifier (`y_coord` → `y-coord`,
//! `RedApple` → `red-apple`). `#[component(crate = path)]` names the runtime crate if it is not
//! `::component_layer`.
//!
//! Generated code is safe Rust that calls the runtime's hidden `__internal` items: a type check that compares
//! names and order (and names the first difference), and per field or case the same `lower_flat`/`store`/
//! `lift_flat`/`load` methods the built-in types implement.

mod bindgen;
mod derive;
mod flags;

use proc_macro::TokenStream;

/// Derives `ComponentType` (the type check) for a record, variant or enum.
#[proc_macro_derive(ComponentType, attributes(component))]
pub fn derive_component_type(input: TokenStream) -> TokenStream {
    derive::expand(input, derive::Trait::ComponentType)
}

/// Derives `Lift` (guest → host) for a record, variant or enum.
#[proc_macro_derive(Lift, attributes(component))]
pub fn derive_lift(input: TokenStream) -> TokenStream {
    derive::expand(input, derive::Trait::Lift)
}

/// Derives `Lower` (host → guest) for a record, variant or enum.
#[proc_macro_derive(Lower, attributes(component))]
pub fn derive_lower(input: TokenStream) -> TokenStream {
    derive::expand(input, derive::Trait::Lower)
}

/// Declares a Rust type for a component `flags` type.
#[proc_macro]
pub fn flags(input: TokenStream) -> TokenStream {
    flags::expand(input)
}

/// Generates Rust bindings for a WIT world (see `component_layer::bindgen!`).
#[proc_macro]
pub fn bindgen(input: TokenStream) -> TokenStream {
    bindgen::expand(input)
}

/// Bindings for every world of every `.wit` file in a directory, for tests (see `bindgen::expand_every_world`).
#[doc(hidden)]
#[proc_macro]
pub fn bindgen_every_world(input: TokenStream) -> TokenStream {
    bindgen::expand_every_world(input)
}
