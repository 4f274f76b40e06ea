//! Arbitrary bytes into `component_layer::Component::new`, on component-layer over wasmi and over wasmtime's core
//! engine, then — when the component loads — instantiation with every import stubbed
//! (`Linker::define_unknown_imports_as_traps`) and a walk over the instance's exports and their types. Must never
//! panic: errors (invalid, unsupported, link errors, traps at instantiation) are all fine.
//!
//! Input: if the first byte is [`MUTATE`], the next 8 bytes are a seed and the next byte a tier; the case's valid
//! component from component-gen is then mutated (bit flips, byte insertions, deletions and overwrites at
//! positions the remaining bytes choose) and that is loaded instead. Any other input is loaded as is.

#![no_main]

use arbitrary::{Result, Unstructured};
use component_layer::{Component, Export, ExportInstance, Instance, Linker, Store};
use component_layer_fuzz::{take_byte, take_seed, tier_of};
use libfuzzer_sys::fuzz_target;
use wasm_runtime_layer::backend::WasmEngine;

/// The marker byte of mutated valid components (component binaries start with `\0asm`).
const MUTATE: u8 = 0xc0;

thread_local! {
    static WASMI: component_layer::Engine<wasmi_runtime_layer::Engine> =
        component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
    static WASMTIME: component_layer::Engine<wasmtime_runtime_layer::Engine> =
        component_layer::Engine::new(wasmtime_runtime_layer::Engine::default());
}

fn mutate(u: &mut Unstructured<'_>, bytes: &mut Vec<u8>) -> Result<()> {
    let ops = u.int_in_range(1..=6)?;
    for _ in 0..ops {
        if bytes.is_empty() {
            break;
        }
        let at = u.choose_index(bytes.len())?;
        match u.int_in_range(0..=3)? {
            0 => bytes[at] ^= 1 << u.int_in_range(0..=7)?,
            1 => bytes[at] = u.arbitrary()?,
            2 => bytes.insert(at, u.arbitrary()?),
            _ => {
                let n = u.int_in_range(1..=4)?.min(bytes.len() - at);
                bytes.drain(at..at + n);
            }
        }
    }
    Ok(())
}

fn walk_instance(i: &ExportInstance, depth: usize) {
    for (_, e) in i.exports() {
        walk(e, depth);
    }
}

fn walk(e: &Export, depth: usize) {
    match e {
        Export::Func(f) => {
            let ty = f.ty();
            std::hint::black_box((ty.params().len(), ty.result().is_some()));
        }
        Export::Instance(i) if depth < 16 => walk_instance(i, depth + 1),
        _ => {}
    }
}

fn load<E: WasmEngine>(engine: &component_layer::Engine<E>, bytes: &[u8]) {
    let Ok(component) = Component::new(engine, bytes) else { return };
    // Reflection on the component itself.
    let exports: Vec<String> = component.export_names().map(str::to_owned).collect();
    for name in &exports {
        std::hint::black_box(component.export_func_type(&[name.as_str()]));
    }
    std::hint::black_box(component.import_names().count());
    let mut linker = Linker::<(), E>::new();
    if linker.define_unknown_imports_as_traps(&component).is_err() {
        return;
    }
    let mut store = Store::new(engine, ());
    let Ok(instance): component_layer::Result<Instance> = linker.instantiate(&mut store, &component) else { return };
    for (_, e) in instance.exports() {
        walk(e, 0);
    }
}

fuzz_target!(|data: &[u8]| {
    let owned;
    let bytes: &[u8] = match data.split_first() {
        Some((&MUTATE, rest)) => {
            let (seed, rest) = take_seed(rest);
            let (tier, rest) = take_byte(rest);
            let mut component = component_gen::generate_case(seed, tier_of(tier)).component;
            let _ = mutate(&mut Unstructured::new(rest), &mut component);
            owned = component;
            &owned
        }
        _ => data,
    };
    WASMI.with(|e| load(e, bytes));
    WASMTIME.with(|e| load(e, bytes));
});
