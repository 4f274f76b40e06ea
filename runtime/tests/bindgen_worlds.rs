//! `bindgen!` over every world of wit-component's test corpus, of WASI 0.2 (vendored in `wit/wasi-0.2`) and of
//! the name-collision worlds in `tests/bindgen-names` (Rust keywords, names bindgen! generates itself, one
//! interface name in several packages and versions).
//!
//! The bindings are generated (and so type-checked) when this test compiles, one module per world, each with a
//! dummy host implementing every import trait. The corpus's worlds are decoded from its components
//! (`corpus/upstream/wit-component/components/*.wat`; the `.wit` files beside them print the root package
//! only). At run time each world also meets a real component — the corpus's own component, or for WASI and the
//! name worlds a dummy module of the world encoded by wit-component — and the bindings link its imports
//! (`add_to_linker`), type-check them (`instantiate_pre`), instantiate it and type-check every export against
//! the component's types, on wasmi and on wasmtime's core engine. Worlds the runtime cannot run yet (the async
//! ABI) would be skipped, each with its reason; the list of skipped worlds is pinned (empty) so that a new skip
//! fails the test.

use std::path::Path;

use component_layer::{Component, Engine, ErrorKind};
use wasm_runtime_layer::backend::WasmEngine;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, PackageId, Resolve};

#[allow(clippy::all)]
mod corpus {
    component_layer::__bindgen_every_world!("../corpus/upstream/wit-component/components");
}

#[allow(clippy::all)]
mod wasi {
    component_layer::__bindgen_every_world!([
        "../wit/wasi-0.2/io",
        "../wit/wasi-0.2/clocks",
        "../wit/wasi-0.2/random",
        "../wit/wasi-0.2/filesystem",
        "../wit/wasi-0.2/sockets",
        "../wit/wasi-0.2/cli",
        "../wit/wasi-0.2/http",
    ]);
}

#[allow(clippy::all)]
mod names {
    component_layer::__bindgen_every_world!("tests/bindgen-names");
}

type Check<E> = fn(&Engine<E>, &Component) -> component_layer::Result<()>;

const WASI: [&str; 7] = ["io", "clocks", "random", "filesystem", "sockets", "cli", "http"];

/// The component of a dummy module of `world` (every export traps).
fn dummy_component<E: WasmEngine>(engine: &Engine<E>, resolve: &Resolve, pkgs: &[PackageId], world: &str) -> Component {
    let world = resolve.select_world(pkgs, Some(world)).unwrap();
    let mut module = wit_component::dummy_module(resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, resolve, world, StringEncoding::UTF8).unwrap();
    let bytes = ComponentEncoder::default().validate(true).module(&module).unwrap().encode().unwrap();
    Component::new_with_features(engine, &bytes, with_implements()).unwrap()
}

/// The runtime's features with `implements` (off by default, as in wasmtime 48).
fn with_implements() -> component_layer::WasmFeatures {
    component_layer::default_features() | component_layer::WasmFeatures::CM_IMPLEMENTS
}

fn corpus_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/upstream/wit-component/components")
}

/// The corpus's components are checked through their exports only (imports stubbed by the linker): checking the
/// imports through `add_to_linker` too monomorphises every host function of ~90 worlds per backend, which took
/// over 15 minutes to compile on two cores. The imports' bindings are still type-checked by the compiler, and
/// their run-time check is done for every WASI world and every name world below.
fn check_corpus<E: WasmEngine>(engine: &Engine<E>) {
    let mut unloadable = Vec::new();
    let mut start_traps = Vec::new();
    for (file, world, check) in corpus::exports_only::<E>() {
        let bytes = wat::parse_file(corpus_dir().join(format!("{file}.wat"))).unwrap();
        let c = match Component::new_with_features(engine, &bytes, with_implements()) {
            Ok(c) => c,
            Err(e)
                if matches!(e.kind(), ErrorKind::Unsupported(_)) || e.to_string().contains("unsupported feature") =>
            {
                unloadable.push(file);
                continue;
            }
            Err(e) => panic!("{file}.wat does not load: {e}"),
        };
        match check(engine, &c) {
            Ok(()) => {}
            // Imports are stubs that trap: a start function that calls one stops instantiation.
            Err(e) if e.to_string().contains("while instantiating a core module") => start_traps.push(file),
            Err(e) => panic!("{file}.wat, world `{world}`: {e}"),
        }
    }
    assert_eq!(unloadable, UNLOADABLE);
    assert_eq!(start_traps, START_CALLS_IMPORT);
}

/// Every WASI world through its imports (`add_to_linker` with the dummy host, `instantiate_pre`) and its
/// exports.
fn check_wasi<E: WasmEngine>(engine: &Engine<E>) {
    let mut resolve = Resolve::default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/wasi-0.2");
    let pkgs: Vec<PackageId> = WASI.iter().map(|p| resolve.push_path(root.join(p)).unwrap().0).collect();
    let worlds = wasi::worlds::<E>();
    assert_eq!(worlds.len(), wasi::exports_only::<E>().len());
    for (pkg, world, check) in worlds {
        let c = dummy_component(engine, &resolve, &pkgs, &format!("{}/{world}", pkg.split('@').next().unwrap()));
        if let Err(e) = check(engine, &c) {
            panic!("{pkg}, world `{world}`: {e}");
        }
    }
}

/// Every name world through its imports and exports.
fn check_names<E: WasmEngine>(engine: &Engine<E>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bindgen-names");
    let checks: Vec<(&str, &str, Check<E>)> =
        names::worlds::<E>().into_iter().chain(names::exports_only::<E>()).collect();
    assert_eq!(checks.len(), 2 * EXPECTED_NAME_WORLDS.len());
    for (file, world, check) in checks {
        let mut resolve = Resolve::default();
        let pkg = resolve.push_file(dir.join(format!("{file}.wit"))).unwrap();
        let c = dummy_component(engine, &resolve, &[pkg], world);
        if let Err(e) = check(engine, &c) {
            panic!("{file}.wit, world `{world}`: {e}");
        }
    }
}

#[test]
fn every_corpus_world_has_bindings() {
    // Every world of the corpus is generated or skipped for a listed reason.
    let skipped: Vec<(&str, &str)> = corpus::SKIPPED.iter().map(|(f, w, _)| (*f, *w)).collect();
    let reasons: Vec<&str> = corpus::SKIPPED.iter().map(|(_, _, r)| *r).collect();
    for r in &reasons {
        assert!(r.contains("does not support yet"), "unexpected reason: {r}");
    }
    let generated = corpus::exports_only::<wasmi_runtime_layer::Engine>().len();
    assert_eq!(generated + skipped.len(), EXPECTED_CORPUS_WORLDS, "skipped: {skipped:#?}");
    assert_eq!(skipped, EXPECTED_SKIPS, "reasons: {reasons:#?}");
}

#[test]
fn every_corpus_world_links_and_instantiates_wasmi() {
    check_corpus(&Engine::new(wasmi_runtime_layer::Engine::default()));
}

#[test]
fn every_corpus_world_links_and_instantiates_wasmtime() {
    check_corpus(&Engine::new(wasmtime_runtime_layer::Engine::default()));
}

#[test]
fn every_wasi_world_has_bindings() {
    assert!(wasi::SKIPPED.is_empty(), "{:#?}", wasi::SKIPPED);
    let names: Vec<String> =
        wasi::exports_only::<wasmi_runtime_layer::Engine>().iter().map(|(p, w, _)| format!("{p} {w}")).collect();
    assert!(names.iter().any(|n| n.starts_with("wasi:cli@0.2.12 command")), "{names:#?}");
    assert!(names.iter().any(|n| n.starts_with("wasi:http@0.2.12 proxy")), "{names:#?}");
}

#[test]
fn every_wasi_world_links_and_instantiates_wasmi() {
    check_wasi(&Engine::new(wasmi_runtime_layer::Engine::default()));
}

#[test]
fn every_wasi_world_links_and_instantiates_wasmtime() {
    check_wasi(&Engine::new(wasmtime_runtime_layer::Engine::default()));
}

#[test]
fn colliding_names_generate_bindings() {
    assert!(names::SKIPPED.is_empty(), "{:#?}", names::SKIPPED);
    let worlds: Vec<(&str, &str)> =
        names::worlds::<wasmi_runtime_layer::Engine>().iter().map(|(f, w, _)| (*f, *w)).collect();
    assert_eq!(worlds, EXPECTED_NAME_WORLDS);
}

#[test]
fn colliding_names_link_and_instantiate_wasmi() {
    check_names(&Engine::new(wasmi_runtime_layer::Engine::default()));
}

#[test]
fn colliding_names_link_and_instantiate_wasmtime() {
    check_names(&Engine::new(wasmtime_runtime_layer::Engine::default()));
}

/// The worlds of `tests/bindgen-names`: (file, world).
const EXPECTED_NAME_WORLDS: &[(&str, &str)] =
    &[("generated", "generated"), ("implements", "implements"), ("keywords", "crate"), ("packages", "packages")];

/// The number of components (one world each) in the corpus.
const EXPECTED_CORPUS_WORLDS: usize = 97;

/// Worlds skipped, with the reason in `corpus::SKIPPED`: none (every world of the corpus, async imports, streams
/// and futures included, has bindings).
const EXPECTED_SKIPS: &[(&str, &str)] = &[];

/// Generated worlds whose component the runtime does not load: stackful lifts or threading built-ins ("needs
/// stack switching"), custom page sizes or exception tags. (The async exports with callbacks load, and their
/// bindings are checked.)
const UNLOADABLE: &[&str] = &[
    "async-builtins",
    "async-export",
    "async-streams-and-futures",
    "custom-page-sizes",
    "link-tag",
    "threading",
    "wasm-init-task",
];

/// Components whose start function calls an import (a trapping stub in this test), so their exports are not
/// reached.
const START_CALLS_IMPORT: &[&str] = &["initialize"];
