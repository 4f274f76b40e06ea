//! Integration tests of the runtime: hand-written components for every canonical-ABI rule, each run on both
//! backends (wasmi and wasmtime's core engine through `wasm_runtime_layer`).

mod alloc;
mod async_host;
mod async_streams;
mod bindgen;
mod common;
mod depth;
mod errors;
mod flags;
mod imports;
mod lists;
mod numerics;
mod pre;
mod realloc_post_return;
mod records_variants;
mod resources;
mod smoke;
mod spec_async;
mod spill;
mod strings;
mod typed;
mod typed_async;
