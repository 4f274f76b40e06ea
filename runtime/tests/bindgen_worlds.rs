//! `bindgen!` over every world of wit-component's test corpus and of WASI 0.2 (vendored in `wit/wasi-0.2`).
//!
//! The bindings are generated (and so type-checked) when this test compiles, one module per world, each with a
//! dummy host implementing every import trait. The corpus's worlds are decoded from its components
//! (`corpus/upstream/wit-component/components/*.wat`; the `.wit` files beside them print the root package
//! only). At run time each world also meets a real component — the corpus's own component, or for WASI a dummy
//! module of the world encoded by wit-component — and the bindings link its imports (`add_to_linker`),
//! type-check them (`instantiate_pre`), instantiate it and type-check every export against the component's
//! types. That runs on wasmi only: the bindings are generic over the backend, and each backend would
//! monomorphise every host function of every world again (`it::bindgen` runs bindings on both). Worlds the runtime cannot run yet (the async ABI) are skipped, each with its reason, and the list of
//! skipped worlds is pinned so that a new skip fails the test.

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

type Check<E> = fn(&Engine<E>, &Component) -> component_layer::Result<()>;

const WASI: [&str; 7] = ["io", "clocks", "random", "filesystem", "sockets", "cli", "http"];

/// The component of a dummy module of `world` (every export traps).
fn dummy_component<E: WasmEngine>(engine: &Engine<E>, resolve: &Resolve, pkgs: &[PackageId], world: &str) -> Component {
    let world = resolve.select_world(pkgs, Some(world)).unwrap();
    let mut module = wit_component::dummy_module(resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, resolve, world, StringEncoding::UTF8).unwrap();
    let bytes = ComponentEncoder::default().validate(true).module(&module).unwrap().encode().unwrap();
    Component::new(engine, &bytes).unwrap()
}

fn corpus_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/upstream/wit-component/components")
}

/// The corpus's components are checked through their exports only (imports stubbed by the linker): checking the
/// imports through `add_to_linker` too would monomorphise every host function of ~90 worlds and make this test
/// slow to compile. The imports' bindings are still type-checked by the compiler, and their run-time check is
/// done for WASI's largest worlds below.
fn check_corpus<E: WasmEngine>(engine: &Engine<E>) {
    let mut unloadable = Vec::new();
    let mut start_traps = Vec::new();
    for (file, world, check) in corpus::exports_only::<E>() {
        let bytes = wat::parse_file(corpus_dir().join(format!("{file}.wat"))).unwrap();
        let c = match Component::new(engine, &bytes) {
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

/// Every WASI world through its exports; `wasi:cli/command` (whose imports are all of WASI but HTTP) and
/// `wasi:http/proxy` also through their imports (`add_to_linker`, `instantiate_pre`) — the others' imports
/// are subsets of these two, and checking them all would monomorphise the same host functions again.
fn check_wasi<E: WasmEngine>(engine: &Engine<E>) {
    let mut resolve = Resolve::default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/wasi-0.2");
    let pkgs: Vec<PackageId> = WASI.iter().map(|p| resolve.push_path(root.join(p)).unwrap().0).collect();
    let full: [(&str, &str, Check<E>); 2] = [
        ("wasi:cli@0.2.12", "command", wasi::wasi_cli_0_2_12_command::check::<E>),
        ("wasi:http@0.2.12", "proxy", wasi::wasi_http_0_2_12_proxy::check::<E>),
    ];
    for (pkg, world, check) in wasi::exports_only::<E>().into_iter().chain(full) {
        let c = dummy_component(engine, &resolve, &pkgs, &format!("{}/{world}", pkg.split('@').next().unwrap()));
        if let Err(e) = check(engine, &c) {
            panic!("{pkg}, world `{world}`: {e}");
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

/// The number of components (one world each) in the corpus.
const EXPECTED_CORPUS_WORLDS: usize = 97;

/// Worlds skipped, with the reason in `corpus::SKIPPED` (the async ABI, and `implements`).
const EXPECTED_SKIPS: &[(&str, &str)] = &[
    ("async-builtins", "root"),
    ("async-export-with-callback", "root"),
    ("async-export", "root"),
    ("async-import", "root"),
    ("async-streams-and-futures", "root"),
    ("async-task-return-param-string", "root"),
    ("implements", "root"),
    ("link-lib-with-async-export", "root"),
    ("threading", "root"),
    ("wasm-init-task", "root"),
];

/// Generated worlds whose component the runtime does not load: synchronous WIT, but code that uses custom page
/// sizes or exception tags.
const UNLOADABLE: &[&str] = &["custom-page-sizes", "link-tag"];

/// Components whose start function calls an import (a trapping stub in this test), so their exports are not
/// reached.
const START_CALLS_IMPORT: &[&str] = &["initialize"];
