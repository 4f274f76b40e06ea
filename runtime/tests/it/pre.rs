//! Pre-instantiation and export indices: one `InstancePre` instantiated many times (in one store and in
//! several), missing and mistyped imports reported by `instantiate_pre` before anything runs, and exports
//! looked up by `ExportIndex` (at the root and inside an exported instance), including indices of another
//! component refused.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::both;
use crate::common::*;
use component_layer::{ErrorKind, Linker, Store};

/// `run` calls the host's `add` import; `ns:pkg/math` exports `double`; the start function calls `add` once.
const WAT: &str = r#"(component
  (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
  (core func $add-c (canon lower (func $add)))
  (core instance $host (export "add" (func $add-c)))
  (core module $m
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (func $start (drop (call $add (i32.const 0) (i32.const 0))))
    (start $start)
    (func (export "run") (param i32) (result i32) (call $add (local.get 0) (i32.const 1)))
    (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func $run (param "x" u32) (result u32) (canon lift (core func $i "run")))
  (func $double (param "x" u32) (result u32) (canon lift (core func $i "double")))
  (instance $math (export "double" (func $double)))
  (export "run" (func $run))
  (export "ns:pkg/math" (instance $math)))"#;

fn counting_linker<E: wasm_runtime_layer::backend::WasmEngine>(calls: Arc<AtomicU32>) -> Linker<(), E> {
    let mut linker = Linker::new();
    linker
        .root()
        .func_wrap("add", move |_, (a, b): (u32, u32)| {
            calls.fetch_add(1, Ordering::Relaxed);
            Ok((a + b,))
        })
        .unwrap();
    linker
}

fn empty_linker<E: wasm_runtime_layer::backend::WasmEngine>(_: &component_layer::Engine<E>) -> Linker<(), E> {
    Linker::new()
}

#[test]
fn one_pre_many_instances() {
    both!(|engine| {
        let c = component(&engine, WAT);
        let calls = Arc::new(AtomicU32::new(0));
        let pre = counting_linker(calls.clone()).instantiate_pre(&c).unwrap();
        assert_eq!(calls.load(Ordering::Relaxed), 0, "instantiate_pre runs nothing");
        let mut shared = Store::new(&engine, ());
        for k in 0..4u32 {
            // Alternate between one shared store and fresh ones.
            let mut fresh = Store::new(&engine, ());
            let store = if k % 2 == 0 { &mut shared } else { &mut fresh };
            let inst = pre.instantiate(&mut *store).unwrap();
            let run = inst.get_typed_func::<(u32,), (u32,)>("run").unwrap();
            assert_eq!(run.call(&mut *store, (k,)).unwrap(), (k + 1,));
        }
        // Each instantiation ran the start function (one call) and each `run` one more.
        assert_eq!(calls.load(Ordering::Relaxed), 8);
    });
}

#[test]
fn pre_reports_missing_and_mistyped_imports() {
    both!(|engine| {
        let c = component(&engine, WAT);
        let err = empty_linker(&engine).instantiate_pre(&c).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Link(_)), "{err}");
        assert!(err.to_string().contains("`add`"), "{err}");

        let mut linker = empty_linker(&engine);
        linker.root().func_wrap("add", |_, (a,): (u64,)| Ok((a,))).unwrap();
        let err = linker.instantiate_pre(&c).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Link(_)), "{err}");
        assert!(err.to_string().contains("add"), "{err}");

        let mut linker = empty_linker(&engine);
        linker.instance("add").unwrap();
        let err = linker.instantiate_pre(&c).unwrap_err();
        assert!(err.to_string().contains("must be a function"), "{err}");
    });
}

#[test]
fn pre_is_independent_of_later_linker_changes() {
    both!(|engine| {
        let c = component(&engine, WAT);
        let mut linker = counting_linker(Arc::new(AtomicU32::new(0)));
        let pre = linker.instantiate_pre(&c).unwrap();
        linker.allow_shadowing(true);
        linker.root().func_wrap("add", |_, (a, b): (u32, u32)| Ok((a * 100 + b,))).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = pre.instantiate(&mut store).unwrap();
        let run = inst.get_typed_func::<(u32,), (u32,)>("run").unwrap();
        assert_eq!(run.call(&mut store, (5,)).unwrap(), (6,));
    });
}

#[test]
fn export_indices() {
    both!(|engine| {
        let c = component(&engine, WAT);
        let run_idx = c.get_export_index(None, "run").unwrap();
        let math = c.get_export_index(None, "ns:pkg/math").unwrap();
        let double_idx = c.get_export_index(Some(&math), "double").unwrap();
        assert!(c.get_export_index(None, "missing").is_none());
        assert!(c.get_export_index(Some(&math), "run").is_none());
        assert!(c.get_export_index(Some(&run_idx), "x").is_none(), "a function has no nested exports");

        let pre = counting_linker(Arc::new(AtomicU32::new(0))).instantiate_pre(&c).unwrap();
        for _ in 0..2 {
            let mut store = Store::new(&engine, ());
            let inst = pre.instantiate(&mut store).unwrap();
            let run = inst.get_typed_func::<(u32,), (u32,)>(&run_idx).unwrap();
            assert_eq!(run.call(&mut store, (1,)).unwrap(), (2,));
            let double = inst.get_typed_func::<(u32,), (u32,)>(&double_idx).unwrap();
            assert_eq!(double.call(&mut store, (21,)).unwrap(), (42,));
            assert!(inst.get_func(&math).is_none(), "an instance is not a function");
            assert!(inst.get_export(&math).is_some());
            assert!(inst.get_typed_func::<(u32,), (u64,)>(&double_idx).is_err(), "the type is still checked");
            assert_eq!(inst.get_export_index(Some(&math), "double"), Some(double_idx.clone()));
        }

        // An index of another component (even one with the same exports) finds nothing.
        let other = component(&engine, WAT);
        let pre = counting_linker(Arc::new(AtomicU32::new(0))).instantiate_pre(&other).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = pre.instantiate(&mut store).unwrap();
        assert!(inst.get_func(&run_idx).is_none());
        assert!(inst.get_func(other.get_export_index(None, "run").unwrap()).is_some());
    });
}
