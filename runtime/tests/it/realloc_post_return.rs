//! `realloc` and `post-return` (`canon_lift`, `store_*_into_range`), leaving a component while it may not
//! (`may_leave`), and the store refusing calls after a trap.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::both;
use crate::common::*;
use component_layer::{ErrorKind, List, Trap, Value};

/// Post-return functions append what they receive to a log at 0x600 (`post-log` returns it). `post-str`
/// also clobbers the result area and the string bytes, which must not matter: results are lifted before
/// post-return runs.
fn wat() -> String {
    let core = r#"
        (global $npost (mut i32) (i32.const 0))
        (func $log-post (param i32)
          (i32.store (i32.add (i32.const 0x600) (i32.shl (global.get $npost) (i32.const 2))) (local.get 0))
          (global.set $npost (i32.add (global.get $npost) (i32.const 1))))
        (data (i32.const 0x300) "hello")
        (func (export "get-str") (result i32)
          (i32.store (i32.const 0x40) (i32.const 0x300))
          (i32.store (i32.const 0x44) (i32.const 5))
          (i32.const 0x40))
        (func (export "post-str") (param i32)
          (call $log-post (local.get 0))
          (i32.store (local.get 0) (i32.const -1))
          (i32.store offset=4 (local.get 0) (i32.const -1))
          (i32.store (i32.const 0x300) (i32.const 0)))
        (func (export "get42") (result i32) (i32.const 42))
        (func (export "post42") (param i32) (call $log-post (local.get 0)))
        (func (export "get-u64") (result i64) (i64.const 0x100000002))
        (func (export "post-u64") (param i64)
          (call $log-post (i32.wrap_i64 (local.get 0)))
          (call $log-post (i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const 32)))))
        (func (export "noop"))
        (func (export "post-noop") (call $log-post (i32.const 0xaaaa)))
        (func (export "post-log") (result i32) (call $ret2 (i32.const 0x600) (global.get $npost)))
        (func (export "len") (param i32 i32) (result i32) (local.get 1))
        (func (export "boom") (unreachable))
    "#;
    let p17 = (0..17).map(|i| format!(r#"(param "p{i}" u32)"#)).collect::<Vec<_>>().join(" ");
    let items = format!(
        r#"
        (func (export "get-str") (result string)
          (canon lift (core func $i "get-str") (memory $mem) (post-return (func $i "post-str"))))
        (func (export "get42") (result u32) (canon lift (core func $i "get42") (post-return (func $i "post42"))))
        (func (export "get-u64") (result u64) (canon lift (core func $i "get-u64") (post-return (func $i "post-u64"))))
        (func (export "noop") (canon lift (core func $i "noop") (post-return (func $i "post-noop"))))
        (func (export "post-log") (result (list u32)) (canon lift (core func $i "post-log") (memory $mem)))
        (func (export "take-u32s") (param "xs" (list u32)) (result u32)
          (canon lift (core func $i "len") (memory $mem) (realloc $realloc)))
        (func (export "take-u8s") (param "xs" (list u8)) (result u32)
          (canon lift (core func $i "len") (memory $mem) (realloc $realloc)))
        (func (export "take-utf8") (param "s" string) (result u32)
          (canon lift (core func $i "len") (memory $mem) (realloc $realloc)))
        (func (export "take-utf16") (param "s" string) (result u32)
          (canon lift (core func $i "len") (memory $mem) (realloc $realloc) string-encoding=utf16))
        (func (export "take-latin1") (param "s" string) (result u32)
          (canon lift (core func $i "len") (memory $mem) (realloc $realloc) string-encoding=latin1+utf16))
        (func (export "take-strs") (param "xs" (list string)) (result u32)
          (canon lift (core func $i "len") (memory $mem) (realloc $realloc)))
        (func (export "take17") {p17} (result u32)
          (canon lift (core func $i "id32") (memory $mem) (realloc $realloc)))
        (func (export "boom") (canon lift (core func $i "boom")))
        (func (export "to-char") (param "x" u32) (result char) (canon lift (core func $i "id32")))
        "#
    );
    guest(core, &items)
}

/// `canon_lift`: the result is lifted first, then post-return runs once with the core results (here the
/// result pointer); its clobbering of the result memory is not seen by the caller.
#[test]
fn post_return_runs_once_after_lifting() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("get-str", &[]), s("hello"));
        assert_eq!(u32s(&g.call("post-log", &[])), [0x40]);
        g.poke(0x300, b"hello");
        assert_eq!(g.call("get-str", &[]), s("hello"));
        assert_eq!(u32s(&g.call("post-log", &[])), [0x40, 0x40]);
    });
}

/// post-return receives exactly the core results: an i32, an i64, or nothing.
#[test]
fn post_return_receives_core_results() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("get42", &[]), Value::U32(42));
        assert_eq!(g.call("get-u64", &[]), Value::U64(0x1_0000_0002));
        g.call0("noop", &[]);
        assert_eq!(u32s(&g.call("post-log", &[])), [42, 2, 1, 0xaaaa]);
    });
}

/// The typed API runs post-return too, once per call.
#[test]
fn typed_api_runs_post_return() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let get = g.inst.get_func("get42").unwrap().typed::<(), (u32,)>().unwrap();
        assert_eq!(get.call(&mut g.store, ()).unwrap(), (42,));
        assert_eq!(get.call(&mut g.store, ()).unwrap(), (42,));
        let get = g.inst.get_func("get-str").unwrap().typed::<(), (String,)>().unwrap();
        assert_eq!(get.call(&mut g.store, ()).unwrap().0, "hello");
        assert_eq!(u32s(&g.call("post-log", &[])), [42, 42, 0x40]);
    });
}

/// `store_list_into_range` / `store_string_*` / `lower_flat_values`: a pointer returned by `realloc` that is
/// misaligned for the allocation's alignment, or whose block does not fit in memory (no wrap-around), traps
/// (`ReallocMisaligned` / `ReallocOutOfBounds`, alignment checked first) — also for empty lists. A block ending
/// exactly at the end of memory is fine.
#[test]
fn bad_realloc_results_trap() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let u32s_arg = |n: u32| Value::List((0..n).collect::<Vec<u32>>().into());
        let u17: Vec<Value> = (0..17).map(Value::U32).collect();
        let (mis, oob) = (Trap::ReallocMisaligned, Trap::ReallocOutOfBounds);
        let cases: Vec<(u32, &str, Vec<Value>, Trap)> = vec![
            (HEAP + 2, "take-u32s", vec![u32s_arg(1)], mis.clone()),
            (HEAP + 1, "take-u32s", vec![u32s_arg(0)], mis.clone()),
            (MEM - 4, "take-u32s", vec![u32s_arg(2)], oob.clone()),
            (0xffff_fffc, "take-u32s", vec![u32s_arg(2)], oob.clone()),
            (MEM + 4, "take-u8s", vec![list_u8(&[])], oob.clone()),
            (MEM - 1, "take-utf8", vec![s("ab")], oob.clone()),
            (0xffff_ffff, "take-utf8", vec![s("ab")], oob.clone()),
            (HEAP + 1, "take-utf16", vec![s("ab")], mis.clone()),
            (MEM - 2, "take-utf16", vec![s("ab")], oob.clone()),
            (HEAP + 1, "take-latin1", vec![s("ab")], mis.clone()),
            (HEAP + 2, "take17", u17.clone(), mis),
            (MEM - 64, "take17", u17.clone(), oob),
        ];
        let mut wrong = vec![];
        for (ptr, f, args, want) in cases {
            let mut g = Guest::new(&engine, &c);
            g.force_realloc(ptr);
            let got = g.try_call(f, &args).map_err(|e| e.as_trap().cloned());
            if got != Err(Some(want.clone())) {
                wrong.push(format!("{f} with realloc -> {ptr:#x}: {got:?}, expected {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "bad realloc results:\n{}", wrong.join("\n"));
        // Exactly fitting blocks are fine.
        for (ptr, f, args, want) in [
            (MEM - 2, "take-utf8", vec![s("ab")], 2),
            (MEM - 4, "take-utf16", vec![s("ab")], 2),
            (MEM, "take-u8s", vec![list_u8(&[])], 0),
            (MEM - 8, "take-u32s", vec![u32s_arg(2)], 2),
            (MEM - 68, "take17", u17.clone(), MEM - 68),
        ] {
            let mut g = Guest::new(&engine, &c);
            g.force_realloc(ptr);
            assert_eq!(g.call(f, &args), Value::U32(want), "{f} with realloc -> {ptr:#x}");
        }
    });
}

/// The grow and shrink `realloc` calls of the transcoding algorithms (`store_utf8_to_utf16`,
/// `store_string_to_latin1_or_utf16`) and the per-element calls of a list are checked like the first one: a
/// misaligned result traps with `ReallocMisaligned`, an out-of-bounds one with `ReallocOutOfBounds`.
#[test]
fn bad_realloc_in_later_calls_trap() {
    both!(|engine| {
        let c = component(&engine, &wat());
        // (export, argument, realloc call number to corrupt, pointer it returns). Sequences:
        // utf16 "héllo": #0 (0,0,2,12), #1 shrink to 10; latin1 "a日b": #0 (0,0,2,5), #1 grow to 10,
        // #2 shrink to 6; latin1 "héllo": #0 (0,0,2,6), #1 shrink to 5; list<string>: #0 the array, #1 "ab".
        let cases = [
            ("take-utf16", s("héllo"), 1, HEAP + 1),
            ("take-utf16", s("héllo"), 1, MEM - 8),
            ("take-latin1", s("a日b"), 1, HEAP + 1),
            ("take-latin1", s("a日b"), 1, MEM - 8),
            ("take-latin1", s("a日b"), 2, HEAP + 1),
            ("take-latin1", s("a日b"), 2, MEM - 4),
            ("take-latin1", s("héllo"), 1, HEAP + 1),
            ("take-latin1", s("héllo"), 1, MEM - 4),
            ("take-strs", Value::List(List::Values(vec![s("ab")])), 1, MEM - 1),
        ];
        let mut wrong = vec![];
        for (f, arg, call, ptr) in cases {
            let mut g = Guest::new(&engine, &c);
            g.force_realloc_from(call, ptr);
            let got = g.try_call(f, std::slice::from_ref(&arg)).map_err(|e| e.as_trap().cloned());
            // Every step here allocates with alignment 2 (strings in UTF-16 or Latin-1+UTF-16) or 1, and the odd
            // pointers are the misaligned ones.
            let want =
                if ptr % 2 == 1 && f != "take-strs" { Trap::ReallocMisaligned } else { Trap::ReallocOutOfBounds };
            if got != Err(Some(want.clone())) {
                wrong.push(format!("{f}({arg:?}) with realloc #{call} -> {ptr:#x}: {got:?}, expected {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "bad realloc results:\n{}", wrong.join("\n"));
        // The same steps returning fitting blocks succeed (the code-unit count reaches the core function).
        for (f, arg, call, ptr, want) in [
            ("take-utf16", s("héllo"), 1, MEM - 10, 5),
            ("take-latin1", s("a日b"), 2, MEM - 6, 3 | 1 << 31),
            ("take-latin1", s("héllo"), 1, MEM - 6, 5),
        ] {
            let mut g = Guest::new(&engine, &c);
            g.force_realloc_from(call, ptr);
            assert_eq!(g.call(f, &[arg]), Value::U32(want), "{f} with realloc #{call} -> {ptr:#x}");
        }
    });
}

/// A component that calls the host import `ping` from its `realloc`, from a post-return function, and
/// (allowed) from an ordinary export.
const LEAVE_WAT: &str = r#"
(component
  (import "ping" (func $ping))
  (core func $ping-c (canon lower (func $ping)))
  (core instance $host (export "ping" (func $ping-c)))
  (core module $m
    (import "host" "ping" (func $ping))
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (call $ping) (i32.const 0x100))
    (func (export "len") (param i32 i32) (result i32) (local.get 1))
    (func (export "get42") (result i32) (i32.const 42))
    (func (export "post42") (param i32) (call $ping))
    (func (export "call-ping") (call $ping)))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func (export "take-str") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory $i "mem") (realloc (func $i "realloc"))))
  (func (export "get42") (result u32) (canon lift (core func $i "get42") (post-return (func $i "post42"))))
  (func (export "call-ping") (canon lift (core func $i "call-ping")))
)"#;

fn ping_linker<E: wasm_runtime_layer::backend::WasmEngine>() -> (component_layer::Linker<(), E>, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    let mut l = linker::<E>();
    let n2 = n.clone();
    l.root()
        .func_new("ping", move |_, _, _| {
            n2.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    (l, n)
}

/// `may_leave` is cleared while `realloc` and post-return run: calling an import from them traps with
/// `CannotLeave`, and the host function is not entered.
#[test]
fn imports_from_realloc_or_post_return_cannot_leave() {
    both!(|engine| {
        let c = component(&engine, LEAVE_WAT);
        let (l, n) = ping_linker();
        let mut g = Guest::with_linker(&engine, &c, &l);
        g.call0("call-ping", &[]);
        assert_eq!(n.load(Ordering::SeqCst), 1);

        let (l, n) = ping_linker();
        let mut g = Guest::with_linker(&engine, &c, &l);
        assert_eq!(g.trap("take-str", &[s("x")]), Trap::CannotLeave);
        assert_eq!(n.load(Ordering::SeqCst), 0);

        let (l, n) = ping_linker();
        let mut g = Guest::with_linker(&engine, &c, &l);
        assert_eq!(g.trap("get42", &[]), Trap::CannotLeave);
        assert_eq!(n.load(Ordering::SeqCst), 0);
    });
}

/// After any trap (a core trap or a canonical-ABI trap), the store refuses to enter any component instance
/// again (`Poisoned`) — the trapping one and others in the same store; a new store works.
#[test]
fn trap_poisons_the_store() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut st = store(&engine);
        let l = linker();
        let a = l.instantiate(&mut st, &c).unwrap();
        let b = l.instantiate(&mut st, &c).unwrap();
        let mut r = [Value::Bool(false)];
        a.get_func("get42").unwrap().call(&mut st, &[], &mut r).unwrap();
        let e = a.get_func("boom").unwrap().call(&mut st, &[], &mut []).unwrap_err();
        assert!(matches!(e.as_trap(), Some(Trap::Core(_))), "{e}");
        assert!(st.is_poisoned());
        for (inst, f, args) in [
            (&a, "get42", vec![]),
            (&a, "boom", vec![]),
            (&b, "get42", vec![]),
            (&b, "to-char", vec![Value::U32(0x61)]),
        ] {
            let mut res = vec![Value::Bool(false); usize::from(f != "boom")];
            let e = inst.get_func(f).unwrap().call(&mut st, &args, &mut res).unwrap_err();
            assert_eq!(e.as_trap(), Some(&Trap::Poisoned), "{f}: {e}");
        }

        // A canonical-ABI trap poisons too.
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.trap("to-char", &[Value::U32(0xd800)]), Trap::InvalidChar);
        assert_eq!(g.trap("to-char", &[Value::U32(0x61)]), Trap::Poisoned);
        assert_eq!(g.trap("get42", &[]), Trap::Poisoned);

        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("to-char", &[Value::U32(0x61)]), Value::Char('a'));
    });
}

/// Wrong argument or result counts are usage errors, reported before anything runs: not traps, and the store
/// stays usable.
#[test]
fn usage_errors_do_not_poison() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let f = g.inst.get_func("to-char").unwrap();
        let e = f.call(&mut g.store, &[], &mut [Value::Bool(false)]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Usage(_)), "{e}");
        let e = f.call(&mut g.store, &[Value::U32(1), Value::U32(2)], &mut [Value::Bool(false)]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Usage(_)), "{e}");
        let e = f.call(&mut g.store, &[Value::U32(0x61)], &mut []).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Usage(_)), "{e}");
        assert!(!g.store.is_poisoned());
        assert_eq!(g.call("to-char", &[Value::U32(0x61)]), Value::Char('a'));
        assert_eq!(u32s(&g.call("post-log", &[])), Vec::<u32>::new());
    });
}
