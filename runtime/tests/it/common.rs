//! Helpers: engines for both backends, and a macro that runs a test body on each.

use component_layer::{Component, Engine, Linker, Store};
use wasm_runtime_layer::backend::WasmEngine;

/// Runs `$body` once per backend with `$e` bound to that backend's `Engine`.
#[macro_export]
macro_rules! both {
    (|$engine:ident| $body:block) => {{
        {
            let $engine = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
            $body
        }
        {
            let $engine = component_layer::Engine::new(wasmtime_runtime_layer::Engine::default());
            $body
        }
    }};
}

/// Compiles WAT text into a component.
pub fn component<E: WasmEngine>(engine: &Engine<E>, wat: &str) -> Component {
    let bytes = wat::parse_str(wat).expect("valid WAT");
    Component::new(engine, &bytes).expect("component loads")
}

/// A store with unit data.
pub fn store<E: WasmEngine>(engine: &Engine<E>) -> Store<(), E> {
    Store::new(engine, ())
}

/// An empty linker.
pub fn linker<E: WasmEngine>() -> Linker<(), E> {
    Linker::new()
}
