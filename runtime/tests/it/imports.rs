//! Host imports (`canon lower` of host functions): root functions defined with `func_new`, `func_new_typed`
//! and `func_wrap`, functions of a nested interface instance, strings and lists crossing in both directions
//! (including transcoding into utf16 / latin1+utf16 guests), and link errors.

use std::sync::{Arc, Mutex};

use crate::both;
use crate::common::*;
use component_layer::types::{FuncType, ValueType};
use component_layer::{Component, ErrorKind, Linker, List, Trap, Value};
use wasm_runtime_layer::backend::WasmEngine;

const IFACE: &str = "ns:pkg/iface@1.0.0";

/// Every export `X` calls import `X` with its own arguments (and a return pointer at 0x40 when the result is
/// two flat values), so values cross guest → host (import params) and host → guest (import results).
/// `shout16` / `shout-latin1` use the `upper` import lowered with utf16 / latin1+utf16.
fn wat() -> String {
    let pre = format!(
        r#"
        (import "upper" (func $upper (param "s" string) (result string)))
        (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
        (import "join" (func $join (param "xs" (list string)) (result string)))
        (import "len" (func $len (param "s" string) (result u32)))
        (import "widen" (func $widen (param "xs" (list u16)) (result (list u32))))
        (import "greet" (func $greet (param "s" string) (result string)))
        (import "{IFACE}" (instance $iface
          (export "echo" (func (param "s" string) (result string)))
          (export "twice" (func (param "x" u64) (result u64)))))
        (alias export $iface "echo" (func $echo))
        (alias export $iface "twice" (func $twice))
        (core func $upper-c (canon lower (func $upper) (memory $mem) (realloc $realloc)))
        (core func $upper16-c (canon lower (func $upper) (memory $mem) (realloc $realloc) string-encoding=utf16))
        (core func $upper-l1-c (canon lower (func $upper) (memory $mem) (realloc $realloc) string-encoding=latin1+utf16))
        (core func $add-c (canon lower (func $add)))
        (core func $join-c (canon lower (func $join) (memory $mem) (realloc $realloc)))
        (core func $len-c (canon lower (func $len) (memory $mem)))
        (core func $widen-c (canon lower (func $widen) (memory $mem) (realloc $realloc)))
        (core func $echo-c (canon lower (func $echo) (memory $mem) (realloc $realloc)))
        (core func $twice-c (canon lower (func $twice)))
        (core func $greet16-c (canon lower (func $greet) (memory $mem) (realloc $realloc) string-encoding=utf16))
        (core func $greet-l1-c (canon lower (func $greet) (memory $mem) (realloc $realloc) string-encoding=latin1+utf16))
        (core instance $host
          (export "upper" (func $upper-c))
          (export "upper16" (func $upper16-c))
          (export "upper-l1" (func $upper-l1-c))
          (export "add" (func $add-c))
          (export "join" (func $join-c))
          (export "len" (func $len-c))
          (export "widen" (func $widen-c))
          (export "echo" (func $echo-c))
          (export "twice" (func $twice-c))
          (export "greet16" (func $greet16-c))
          (export "greet-l1" (func $greet-l1-c)))
        "#
    );
    let core_imports = r#"
        (import "host" "upper" (func $upper (param i32 i32 i32)))
        (import "host" "upper16" (func $upper16 (param i32 i32 i32)))
        (import "host" "upper-l1" (func $upper-l1 (param i32 i32 i32)))
        (import "host" "add" (func $add (param i32 i32) (result i32)))
        (import "host" "join" (func $join (param i32 i32 i32)))
        (import "host" "len" (func $len (param i32 i32) (result i32)))
        (import "host" "widen" (func $widen (param i32 i32 i32)))
        (import "host" "echo" (func $echo (param i32 i32 i32)))
        (import "host" "twice" (func $twice (param i64) (result i64)))
        (import "host" "greet16" (func $greet16 (param i32 i32 i32)))
        (import "host" "greet-l1" (func $greet-l1 (param i32 i32 i32)))
    "#;
    let core = r#"
        (func (export "shout") (param i32 i32) (result i32)
          (call $upper (local.get 0) (local.get 1) (i32.const 0x40)) (i32.const 0x40))
        (func (export "shout16") (param i32 i32) (result i32)
          (call $upper16 (local.get 0) (local.get 1) (i32.const 0x40)) (i32.const 0x40))
        (func (export "shout-latin1") (param i32 i32) (result i32)
          (call $upper-l1 (local.get 0) (local.get 1) (i32.const 0x40)) (i32.const 0x40))
        (func (export "add3") (param i32 i32 i32) (result i32)
          (call $add (call $add (local.get 0) (local.get 1)) (local.get 2)))
        (func (export "join") (param i32 i32) (result i32)
          (call $join (local.get 0) (local.get 1) (i32.const 0x40)) (i32.const 0x40))
        (func (export "len") (param i32 i32) (result i32) (call $len (local.get 0) (local.get 1)))
        (func (export "widen") (param i32 i32) (result i32)
          (call $widen (local.get 0) (local.get 1) (i32.const 0x40)) (i32.const 0x40))
        (func (export "echo") (param i32 i32) (result i32)
          (call $echo (local.get 0) (local.get 1) (i32.const 0x40)) (i32.const 0x40))
        (func (export "twice") (param i64) (result i64) (call $twice (local.get 0)))
        (func (export "greet16") (param i32 i32) (result i32)
          (call $greet16 (local.get 0) (local.get 1) (i32.const 0x40)) (i32.const 0x40))
        (func (export "greet-l1") (param i32 i32) (result i32)
          (call $greet-l1 (local.get 0) (local.get 1) (i32.const 0x40)) (i32.const 0x40))
    "#;
    let items = r#"
        (func (export "shout") (param "s" string) (result string)
          (canon lift (core func $i "shout") (memory $mem) (realloc $realloc)))
        (func (export "shout16") (param "s" string) (result string)
          (canon lift (core func $i "shout16") (memory $mem) (realloc $realloc) string-encoding=utf16))
        (func (export "shout-latin1") (param "s" string) (result string)
          (canon lift (core func $i "shout-latin1") (memory $mem) (realloc $realloc) string-encoding=latin1+utf16))
        (func (export "add3") (param "a" u32) (param "b" u32) (param "c" u32) (result u32)
          (canon lift (core func $i "add3")))
        (func (export "join") (param "xs" (list string)) (result string)
          (canon lift (core func $i "join") (memory $mem) (realloc $realloc)))
        (func (export "len") (param "s" string) (result u32)
          (canon lift (core func $i "len") (memory $mem) (realloc $realloc)))
        (func (export "widen") (param "xs" (list u16)) (result (list u32))
          (canon lift (core func $i "widen") (memory $mem) (realloc $realloc)))
        (func (export "echo") (param "s" string) (result string)
          (canon lift (core func $i "echo") (memory $mem) (realloc $realloc)))
        (func (export "twice") (param "x" u64) (result u64) (canon lift (core func $i "twice")))
        (func (export "greet16") (param "s" string) (result string)
          (canon lift (core func $i "greet16") (memory $mem) (realloc $realloc) string-encoding=utf16))
        (func (export "greet-l1") (param "s" string) (result string)
          (canon lift (core func $i "greet-l1") (memory $mem) (realloc $realloc) string-encoding=latin1+utf16))
    "#;
    guest_with_imports(&pre, core_imports, core, items)
}

type Seen = Arc<Mutex<Vec<Value>>>;

/// Defines every import except those named in `skip` (root names, or `iface.NAME` for the interface's
/// functions, or `iface` for the whole interface); every host function records its first argument in `seen`.
fn host_linker<E: WasmEngine>(skip: &[&str], iface_name: &str) -> (Linker<(), E>, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let mut l = Linker::<(), E>::new();
    let root = l.root();
    if !skip.contains(&"upper") {
        let seen = seen.clone();
        root.func_new("upper", move |_, params, results| {
            seen.lock().unwrap().push(params[0].clone());
            let Value::String(x) = &params[0] else { anyhow::bail!("expected a string") };
            results[0] = Value::String(x.to_uppercase() + "!");
            Ok(())
        })
        .unwrap();
    }
    if !skip.contains(&"add") {
        root.func_wrap("add", |_, (a, b): (u32, u32)| Ok((a.wrapping_add(b),))).unwrap();
    }
    if !skip.contains(&"join") {
        root.func_wrap("join", |_, (xs,): (Vec<String>,)| Ok((xs.join(","),))).unwrap();
    }
    if !skip.contains(&"len") {
        let seen = seen.clone();
        let ty = FuncType::new([("s", ValueType::String)], Some(ValueType::U32));
        root.func_new_typed("len", ty, move |_, params, results| {
            seen.lock().unwrap().push(params[0].clone());
            let Value::String(x) = &params[0] else { anyhow::bail!("expected a string") };
            results[0] = Value::U32(x.len() as u32);
            Ok(())
        })
        .unwrap();
    }
    if !skip.contains(&"widen") {
        let seen = seen.clone();
        root.func_new("widen", move |_, params, results| {
            seen.lock().unwrap().push(params[0].clone());
            let Value::List(xs) = &params[0] else { anyhow::bail!("expected a list") };
            let out: Vec<u32> = xs
                .iter()
                .map(|v| match v {
                    Value::U16(x) => u32::from(x) * 0x1_0001,
                    _ => 0,
                })
                .collect();
            results[0] = Value::List(List::U32(out));
            Ok(())
        })
        .unwrap();
    }
    if !skip.contains(&"greet") {
        let seen = seen.clone();
        root.func_wrap("greet", move |_, (x,): (String,)| {
            seen.lock().unwrap().push(Value::String(x.clone()));
            Ok((format!("hi {x}"),))
        })
        .unwrap();
    }
    if !skip.contains(&"iface") {
        let inst = l.instance(iface_name).unwrap();
        if !skip.contains(&"iface.echo") {
            let seen = seen.clone();
            inst.func_new("echo", move |_, params, results| {
                seen.lock().unwrap().push(params[0].clone());
                results[0] = params[0].clone();
                Ok(())
            })
            .unwrap();
        }
        if !skip.contains(&"iface.twice") {
            inst.func_wrap("twice", |_, (x,): (u64,)| Ok((x.wrapping_mul(2),))).unwrap();
        }
    }
    (l, seen)
}

fn instantiate<E: WasmEngine>(engine: &component_layer::Engine<E>, c: &Component, l: &Linker<(), E>) -> Guest<E> {
    Guest::with_linker(engine, c, l)
}

/// `func_new`: the guest's string argument is lifted for the host, the host's string result is lowered into
/// the guest with `realloc(0, 0, 1, len)`.
#[test]
fn func_new_strings_both_directions() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (l, seen) = host_linker(&[], IFACE);
        let mut g = instantiate(&engine, &c, &l);
        assert_eq!(g.call("shout", &[s("héllo")]), s("HÉLLO!"));
        assert_eq!(*seen.lock().unwrap(), [s("héllo")]);
        assert_eq!(g.log(), vec![[0, 0, 1, 6], [0, 0, 1, 7]]);
        assert_eq!(g.call("shout", &[s("")]), s("!"));
    });
}

/// A host import lowered with `string-encoding=utf16`: the guest's UTF-16 argument is decoded for the host,
/// and the host's result goes through `store_utf8_to_utf16` (worst case, then shrink).
#[test]
fn host_strings_transcoded_into_utf16_guest() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (l, seen) = host_linker(&[], IFACE);
        let mut g = instantiate(&engine, &c, &l);
        assert_eq!(g.call("shout16", &[s("héllo")]), s("HÉLLO!"));
        assert_eq!(*seen.lock().unwrap(), [s("héllo")]);
        // Export param "héllo" (6 UTF-8 bytes) then import result "HÉLLO!" (7 UTF-8 bytes, 6 code units).
        assert_eq!(g.log(), vec![[0, 0, 2, 12], [HEAP, 12, 2, 10], [0, 0, 2, 14], [HEAP + 22, 14, 2, 12]]);
        assert_eq!(g.peek(HEAP + 36, 12), utf16le("HÉLLO!"));
    });
}

/// A host import lowered with `string-encoding=latin1+utf16`: Latin-1 guest text is decoded for the host; the
/// host's result goes through `store_string_to_latin1_or_utf16` (Latin-1 when it fits, tagged UTF-16 when not).
#[test]
fn host_strings_transcoded_into_latin1_guest() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (l, seen) = host_linker(&[], IFACE);
        let mut g = instantiate(&engine, &c, &l);
        assert_eq!(g.call("shout-latin1", &[s("héllo")]), s("HÉLLO!"));
        assert_eq!(g.log(), vec![[0, 0, 2, 6], [HEAP, 6, 2, 5], [0, 0, 2, 7], [HEAP + 12, 7, 2, 6]]);
        assert_eq!(g.peek(HEAP + 20, 6), "HÉLLO!".chars().map(|c| c as u8).collect::<Vec<_>>());
        let mut g = instantiate(&engine, &c, &l);
        assert_eq!(g.call("shout-latin1", &[s("a日")]), s("A日!"));
        assert_eq!(*seen.lock().unwrap(), [s("héllo"), s("a日")]);
    });
}

/// `func_wrap` with `(String,) -> (String,)` behind imports lowered with utf16 and latin1+utf16: the typed
/// host path lifts the guest's encoding and lowers its result with the spec's realloc sequences.
#[test]
fn func_wrap_strings_transcoded() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (l, seen) = host_linker(&[], IFACE);
        let mut g = instantiate(&engine, &c, &l);
        assert_eq!(g.call("greet16", &[s("日")]), s("hi 日"));
        // Param "日" (3 UTF-8 bytes → 1 code unit), then the result "hi 日" (6 bytes → 4 code units).
        assert_eq!(g.log(), vec![[0, 0, 2, 6], [HEAP, 6, 2, 2], [0, 0, 2, 12], [HEAP + 8, 12, 2, 8]]);
        let mut g = instantiate(&engine, &c, &l);
        assert_eq!(g.call("greet-l1", &[s("é")]), s("hi é"));
        // Param "é" (2 bytes → 1 Latin-1 byte), then "hi é" (5 bytes → 4 Latin-1 bytes).
        assert_eq!(g.log(), vec![[0, 0, 2, 2], [HEAP, 2, 2, 1], [0, 0, 2, 5], [HEAP + 4, 5, 2, 4]]);
        assert_eq!(g.peek(HEAP + 10, 4), [b'h', b'i', b' ', 0xe9]);
        let mut g = instantiate(&engine, &c, &l);
        assert_eq!(g.call("greet-l1", &[s("a日")]), s("hi a日"));
        assert_eq!(*seen.lock().unwrap(), [s("日"), s("é"), s("a日")]);
    });
}

/// `func_wrap` with Rust types: scalars, and `list<string>` → `string`.
#[test]
fn func_wrap_typed_host_functions() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (l, _) = host_linker(&[], IFACE);
        let mut g = instantiate(&engine, &c, &l);
        let args = [Value::U32(1), Value::U32(2), Value::U32(39)];
        assert_eq!(g.call("add3", &args), Value::U32(42));
        let xs = Value::List(List::Values(vec![s("a"), s("bé"), s("")]));
        assert_eq!(g.call("join", &[xs]), s("a,bé,"));
        // Export params: the list (3 × 8 bytes) and its strings; then the host's result.
        assert_eq!(g.log(), vec![[0, 0, 4, 24], [0, 0, 1, 1], [0, 0, 1, 3], [0, 0, 1, 0], [0, 0, 1, 6]]);
    });
}

/// `func_new_typed`: a host function with a declared type matching the import.
#[test]
fn func_new_typed_host_function() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (l, seen) = host_linker(&[], IFACE);
        let mut g = instantiate(&engine, &c, &l);
        assert_eq!(g.call("len", &[s("héllo")]), Value::U32(6));
        assert_eq!(*seen.lock().unwrap(), [s("héllo")]);
    });
}

/// Lists cross both ways: the guest's `list<u16>` is lifted for the host, the host's `list<u32>` lowered into
/// the guest with `realloc(0, 0, 4, 4n)`.
#[test]
fn lists_both_directions() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (l, seen) = host_linker(&[], IFACE);
        let mut g = instantiate(&engine, &c, &l);
        let xs = Value::List(List::U16(vec![1, 0xffff, 0]));
        let back = g.call("widen", std::slice::from_ref(&xs));
        assert_eq!(back, Value::List(List::U32(vec![0x1_0001, 0xffff_ffff, 0])));
        assert_eq!(*seen.lock().unwrap(), [xs]);
        assert_eq!(g.log(), vec![[0, 0, 2, 6], [0, 0, 4, 12]]);
        let empty = Value::List(List::U16(vec![]));
        assert_eq!(g.call("widen", &[empty]), Value::List(List::U32(vec![])));
        assert_eq!(g.log()[2..], [[0, 0, 2, 0], [0, 0, 4, 0]]);
    });
}

/// Functions of an imported interface instance come from `linker.instance("ns:pkg/iface@1.0.0")`; a
/// semver-compatible definition (`@1.0.5`) satisfies the `@1.0.0` import.
#[test]
fn nested_instance_imports() {
    both!(|engine| {
        let c = component(&engine, &wat());
        for name in [IFACE, "ns:pkg/iface@1.0.5"] {
            let (l, seen) = host_linker(&[], name);
            let mut g = instantiate(&engine, &c, &l);
            assert_eq!(g.call("echo", &[s("日本")]), s("日本"));
            assert_eq!(*seen.lock().unwrap(), [s("日本")]);
            assert_eq!(g.call("twice", &[Value::U64(1 << 62)]), Value::U64(1 << 63));
        }
    });
}

/// Instantiation fails with `ErrorKind::Link` when an import is missing or defined with the wrong type.
#[test]
fn missing_or_mistyped_imports_are_link_errors() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let link_err = |l: &Linker<(), _>, what: &str| {
            let mut st = store(&engine);
            match l.instantiate(&mut st, &c) {
                Ok(_) => panic!("{what}: instantiation should fail"),
                Err(e) => assert!(matches!(e.kind(), ErrorKind::Link(_)), "{what}: {e} ({:?})", e.kind()),
            }
        };
        let (l, _) = host_linker(&[], IFACE);
        let mut st = store(&engine);
        assert!(l.instantiate(&mut st, &c).is_ok(), "the complete linker works");

        for skip in ["upper", "add", "join", "len", "widen", "greet", "iface", "iface.echo", "iface.twice"] {
            let (l, _) = host_linker(&[skip], IFACE);
            link_err(&l, &format!("missing {skip}"));
        }
        // An incompatible version of the interface.
        let (l, _) = host_linker(&[], "ns:pkg/iface@2.0.0");
        link_err(&l, "iface@2.0.0");
        // func_wrap with the wrong Rust types.
        let (mut l, _) = host_linker(&["add"], IFACE);
        l.root().func_wrap("add", |_, (a, b): (u64, u64)| Ok((a + b,))).unwrap();
        link_err(&l, "add as (u64, u64) -> u64");
        let (mut l, _) = host_linker(&["add"], IFACE);
        l.root().func_wrap("add", |_, (a,): (u32,)| Ok((a,))).unwrap();
        link_err(&l, "add with one param");
        let (mut l, _) = host_linker(&["join"], IFACE);
        l.root().func_wrap("join", |_, (xs,): (Vec<String>,)| Ok((xs.len() as u32,))).unwrap();
        link_err(&l, "join returning u32");
        // func_new_typed with a different declared type.
        let (mut l, _) = host_linker(&["len"], IFACE);
        let ty = FuncType::new([("s", ValueType::String)], Some(ValueType::U64));
        l.root().func_new_typed("len", ty, |_, _, _| Ok(())).unwrap();
        link_err(&l, "len declared -> u64");
        // An instance where a function is expected.
        let (mut l, _) = host_linker(&["add"], IFACE);
        l.instance("add").unwrap().func_wrap("x", |_, (a,): (u32,)| Ok((a,))).unwrap();
        link_err(&l, "add as an instance");
        // The interface's function with the wrong type.
        let (mut l, _) = host_linker(&["iface.twice"], IFACE);
        l.instance(IFACE).unwrap().func_wrap("twice", |_, (x,): (u32,)| Ok((x,))).unwrap();
        link_err(&l, "twice as u32 -> u32");
    });
}

/// A host function that fails makes the guest's call fail with that error (a trap-like error, not a value),
/// and the store is poisoned afterwards.
#[test]
fn host_error_fails_the_call_and_poisons() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (mut l, _) = host_linker(&["add"], IFACE);
        l.root()
            .func_wrap("add", |_, (_a, _b): (u32, u32)| -> anyhow::Result<(u32,)> { anyhow::bail!("nope") })
            .unwrap();
        let mut g = instantiate(&engine, &c, &l);
        let e = g.try_call("add3", &[Value::U32(1), Value::U32(2), Value::U32(3)]).unwrap_err();
        assert!(e.is_trap(), "{e} ({:?})", e.kind());
        assert!(format!("{e:#}").contains("nope"), "{e}");
        assert_eq!(g.trap("len", &[s("x")]), Trap::Poisoned);
    });
}

/// A `func_new` host function returning a value of the wrong type for the import's result fails the call
/// (it is never lowered as something else).
#[test]
fn host_result_of_wrong_type_fails() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (mut l, _) = host_linker(&["upper"], IFACE);
        l.root()
            .func_new("upper", |_, _, results| {
                results[0] = Value::U32(5);
                Ok(())
            })
            .unwrap();
        let mut g = instantiate(&engine, &c, &l);
        assert!(g.try_call("shout", &[s("x")]).is_err());
    });
}
