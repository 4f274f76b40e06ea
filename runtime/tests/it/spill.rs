//! Flattening limits (`MAX_FLAT_PARAMS = 16`, `MAX_FLAT_RESULTS = 1`): parameters beyond 16 flat values go
//! through memory as one tuple (allocated with `realloc(0, 0, align, size)` when lifting, read from the
//! caller's pointer when lowering); results beyond one flat value are returned through a pointer (lift) or
//! written to a caller-supplied return pointer (lower). Pointers are checked for alignment and bounds.

use std::sync::{Arc, Mutex};

use crate::both;
use crate::common::*;
use component_layer::{Trap, Value};

fn params(n: usize, ty: &str) -> String {
    (0..n).map(|i| format!(r#"(param "p{i}" {ty})"#)).collect::<Vec<_>>().join(" ")
}

fn wat() -> String {
    let core = format!(
        r#"
        (func (export "spill16") (param {i32x16}) (result i32)
          {stores}
          (call $ret2 (i32.const 0x400) (i32.const 16)))
        (func (export "ret-list17") (param i32) (result i32) (call $ret2 (local.get 0) (i32.const 17)))
        "#,
        i32x16 = vec!["i32"; 16].join(" "),
        stores = (0..16)
            .map(|i| format!("(i32.store (i32.const {}) (local.get {i}))", 0x400 + 4 * i))
            .collect::<Vec<_>>()
            .join(" "),
    );
    let items = format!(
        r#"
        (func (export "spill16") {p16} (result (list u32)) (canon lift (core func $i "spill16") (memory $mem)))
        (func (export "spill17") {p17} (result (list u32))
          (canon lift (core func $i "ret-list17") (memory $mem) (realloc $realloc)))
        (func (export "mixed17") (param "a" u8) {p16u64} (result u32)
          (canon lift (core func $i "id32") (memory $mem) (realloc $realloc)))
        (func (export "strings8") {s8} (result (list u32))
          (canon lift (core func $i "spill16") (memory $mem) (realloc $realloc)))
        (func (export "strings9") {s9} (result u32)
          (canon lift (core func $i "id32") (memory $mem) (realloc $realloc)))
        (func (export "ret-pair-at") (param "ptr" u32) (result (tuple u32 u64))
          (canon lift (core func $i "id32") (memory $mem)))
        (func (export "ret-string-at") (param "ptr" u32) (result string)
          (canon lift (core func $i "id32") (memory $mem)))
        "#,
        p16 = params(16, "u32"),
        p17 = params(17, "u32"),
        p16u64 = params(16, "u64"),
        s8 = params(8, "string"),
        s9 = params(9, "string"),
    );
    guest(&core, &items)
}

/// 16 flat parameters are passed directly (no realloc), in order.
#[test]
fn sixteen_flat_params_stay_flat() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let args: Vec<Value> = (0..16).map(|i| Value::U32(i * 1000 + 1)).collect();
        assert_eq!(u32s(&g.call("spill16", &args)), (0..16).map(|i| i * 1000 + 1).collect::<Vec<_>>());
        assert_eq!(g.log(), Vec::<[u32; 4]>::new());
    });
}

/// 17 × u32 go through memory: one `realloc(0, 0, 4, 68)` for the tuple, the core function gets its pointer.
#[test]
fn seventeen_params_spill_to_memory() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let args: Vec<Value> = (0..17).map(|i| Value::U32(0xa0 + i)).collect();
        assert_eq!(u32s(&g.call("spill17", &args)), (0..17).map(|i| 0xa0 + i).collect::<Vec<_>>());
        assert_eq!(g.log(), vec![[0, 0, 4, 68]]);
    });
}

/// The spilled tuple uses the tuple layout: `(u8, u64 × 16)` is 136 bytes at align 8, u8@0, u64s from 8.
#[test]
fn spilled_tuple_layout() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let mut args = vec![Value::U8(0xab)];
        args.extend((1..=16u64).map(|i| Value::U64(i * 0x0101_0101_0101_0101)));
        let Value::U32(ptr) = g.call("mixed17", &args) else { panic!("expected u32") };
        assert_eq!((ptr, g.log()), (HEAP, vec![[0, 0, 8, 136]]));
        let b = g.peek(ptr, 136);
        assert_eq!(b[0], 0xab);
        for i in 1..=16u64 {
            let at = 8 * i as usize;
            assert_eq!(u64::from_le_bytes(b[at..at + 8].try_into().unwrap()), i * 0x0101_0101_0101_0101, "field {i}");
        }
    });
}

/// 8 strings are 16 flat values (each string realloc'd, passed as ptr/len pairs); 9 strings spill: the tuple
/// is allocated first (`realloc(0, 0, 4, 72)`), then each string in parameter order.
#[test]
fn string_params_spill_at_nine() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let strs: Vec<String> = (1..=9).map(|n| "x".repeat(n)).collect();
        let mut g = Guest::new(&engine, &c);
        let flat = u32s(&g.call("strings8", &strs[..8].iter().map(|x| s(x)).collect::<Vec<_>>()));
        let log8: Vec<[u32; 4]> = (1..=8).map(|n| [0, 0, 1, n]).collect();
        assert_eq!(g.log(), log8);
        let mut want = vec![];
        let mut at = HEAP;
        for n in 1..=8 {
            want.extend([at, n]);
            at += n;
        }
        assert_eq!(flat, want);

        let mut g = Guest::new(&engine, &c);
        let Value::U32(ptr) = g.call("strings9", &strs.iter().map(|x| s(x)).collect::<Vec<_>>()) else {
            panic!("expected u32")
        };
        let mut log9 = vec![[0, 0, 4, 72]];
        log9.extend((1..=9).map(|n| [0, 0, 1, n]));
        assert_eq!((ptr, g.log()), (HEAP, log9));
        let mut want = vec![];
        let mut at = HEAP + 72;
        for n in 1..=9 {
            want.extend([at, n]);
            at += n;
        }
        assert_eq!(g.peek(ptr, 72), le32(&want));
    });
}

/// `lift_flat_values` with more than one flat result: the core function returns a pointer to the result,
/// which must be aligned (`Misaligned`) and in bounds (`OutOfBounds`, no wrap-around).
#[test]
fn results_through_pointer() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        g.poke(0x200, &[7, 0, 0, 0, 0xaa, 0xaa, 0xaa, 0xaa, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            tuple(g.call("ret-pair-at", &[Value::U32(0x200)])),
            [Value::U32(7), Value::U64(0x0807_0605_0403_0201)]
        );
        assert_eq!(tuple(g.call("ret-pair-at", &[Value::U32(MEM - 16)])), [Value::U32(0), Value::U64(0)]);
        g.poke(0x300, &le32(&[0x200, 1]));
        assert_eq!(g.call("ret-string-at", &[Value::U32(0x300)]), s("\u{7}"));
        for (f, ptr, want) in [
            ("ret-pair-at", 0x204, Trap::Misaligned),
            ("ret-pair-at", 0x201, Trap::Misaligned),
            ("ret-pair-at", MEM - 8, Trap::OutOfBounds),
            ("ret-pair-at", MEM, Trap::OutOfBounds),
            ("ret-pair-at", 0xffff_fff8, Trap::OutOfBounds),
            ("ret-string-at", 0x302, Trap::Misaligned),
            ("ret-string-at", MEM - 4, Trap::OutOfBounds),
        ] {
            let mut g = Guest::new(&engine, &c);
            assert_eq!(g.trap(f, &[Value::U32(ptr)]), want, "{f}({ptr:#x})");
        }
    });
}

/// A guest calling host imports: `get-pair` returns `tuple<u32, string>` (two flat results → the guest passes
/// a return pointer), `take17` takes 17 u32 (→ the guest passes a pointer to the tuple), `take16` takes 16
/// (flat) and `take-strs9` 9 strings (through a pointer).
fn import_wat() -> String {
    let pre = format!(
        r#"
        (import "get-pair" (func $get-pair (result (tuple u32 string))))
        (import "take17" (func $take17 {p17}))
        (import "take16" (func $take16 {p16}))
        (import "take-strs9" (func $take-strs9 {s9}))
        (core func $get-pair-c (canon lower (func $get-pair) (memory $mem) (realloc $realloc)))
        (core func $take17-c (canon lower (func $take17) (memory $mem)))
        (core func $take16-c (canon lower (func $take16)))
        (core func $take-strs9-c (canon lower (func $take-strs9) (memory $mem)))
        (core instance $host
          (export "get-pair" (func $get-pair-c))
          (export "take17" (func $take17-c))
          (export "take16" (func $take16-c))
          (export "take-strs9" (func $take-strs9-c)))
        "#,
        p17 = params(17, "u32"),
        p16 = params(16, "u32"),
        s9 = params(9, "string"),
    );
    let core_imports = format!(
        r#"
        (import "host" "get-pair" (func $get-pair (param i32)))
        (import "host" "take17" (func $take17 (param i32)))
        (import "host" "take16" (func $take16 (param {i32x16})))
        (import "host" "take-strs9" (func $take-strs9 (param i32)))
        "#,
        i32x16 = vec!["i32"; 16].join(" ")
    );
    let core = format!(
        r#"
        (func (export "call-pair-at") (param i32) (result i32) (call $get-pair (local.get 0)) (local.get 0))
        (func (export "call17-at") (param i32) (call $take17 (local.get 0)))
        (func (export "call16") (call $take16 {args16}))
        (func (export "call-strs9-at") (param i32) (call $take-strs9 (local.get 0)))
        "#,
        args16 = (0..16).map(|i| format!("(i32.const {})", 100 + i)).collect::<Vec<_>>().join(" ")
    );
    let items = r#"
        (func (export "call-pair-at") (param "rp" u32) (result (tuple u32 string))
          (canon lift (core func $i "call-pair-at") (memory $mem)))
        (func (export "call17-at") (param "ptr" u32) (canon lift (core func $i "call17-at")))
        (func (export "call16") (canon lift (core func $i "call16")))
        (func (export "call-strs9-at") (param "ptr" u32) (canon lift (core func $i "call-strs9-at")))
    "#;
    guest_with_imports(&pre, &core_imports, &core, items)
}

type Seen = Arc<Mutex<Vec<Vec<Value>>>>;

fn host_linker<E: wasm_runtime_layer::backend::WasmEngine>() -> (component_layer::Linker<(), E>, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let mut l = linker::<E>();
    l.root()
        .func_new("get-pair", |_, _, results| {
            results[0] = Value::Tuple(vec![Value::U32(7), s("hé")]);
            Ok(())
        })
        .unwrap();
    for name in ["take17", "take16", "take-strs9"] {
        let seen = seen.clone();
        l.root()
            .func_new(name, move |_, params, _| {
                seen.lock().unwrap().push(params.to_vec());
                Ok(())
            })
            .unwrap();
    }
    (l, seen)
}

/// Lowering a two-flat result into the caller: the host's `(7, "hé")` is stored at the guest's return pointer
/// (u32@0, string@4), the string allocated with `realloc(0, 0, 1, 3)`.
#[test]
fn import_result_through_return_pointer() {
    both!(|engine| {
        let c = component(&engine, &import_wat());
        let (l, _) = host_linker();
        let mut g = Guest::with_linker(&engine, &c, &l);
        assert_eq!(tuple(g.call("call-pair-at", &[Value::U32(0x40)])), [Value::U32(7), s("hé")]);
        assert_eq!(g.log(), vec![[0, 0, 1, 3]]);
        assert_eq!(g.peek(0x40, 12), le32(&[7, HEAP, 3]));
        // The tuple may end exactly at the end of memory.
        assert_eq!(tuple(g.call("call-pair-at", &[Value::U32(MEM - 12)])), [Value::U32(7), s("hé")]);
    });
}

/// `lower_flat_values` with an out-param: a misaligned return pointer traps with `Misaligned`, one whose
/// tuple does not fit in memory with `OutOfBounds` (no wrap-around).
#[test]
fn bad_import_return_pointer_traps() {
    both!(|engine| {
        let c = component(&engine, &import_wat());
        for (rp, want) in [
            (0x42, Trap::Misaligned),
            (0x41, Trap::Misaligned),
            (MEM - 8, Trap::OutOfBounds),
            (MEM, Trap::OutOfBounds),
            (0xffff_fffc, Trap::OutOfBounds),
        ] {
            let (l, _) = host_linker();
            let mut g = Guest::with_linker(&engine, &c, &l);
            assert_eq!(g.trap("call-pair-at", &[Value::U32(rp)]), want, "retptr {rp:#x}");
        }
    });
}

/// A guest passing 17 params to a host import passes a pointer to the tuple; 16 stay flat.
#[test]
fn import_params_spill_at_seventeen() {
    both!(|engine| {
        let c = component(&engine, &import_wat());
        let (l, seen) = host_linker();
        let mut g = Guest::with_linker(&engine, &c, &l);
        g.call0("call16", &[]);
        let want16: Vec<Value> = (0..16).map(|i| Value::U32(100 + i)).collect();
        let vals: Vec<u32> = (0..17).map(|i| i * i + 1).collect();
        g.poke(0x400, &le32(&vals));
        g.call0("call17-at", &[Value::U32(0x400)]);
        // A tuple ending exactly at the end of memory is fine.
        g.call0("call17-at", &[Value::U32(MEM - 68)]);
        let want17: Vec<Value> = vals.iter().map(|v| Value::U32(*v)).collect();
        assert_eq!(*seen.lock().unwrap(), vec![want16, want17, vec![Value::U32(0); 17]]);
    });
}

/// `lift_flat_values` for an import's spilled params: the pointer must be aligned and in bounds.
#[test]
fn bad_import_param_pointer_traps() {
    both!(|engine| {
        let c = component(&engine, &import_wat());
        for (ptr, want) in [(0x402, Trap::Misaligned), (MEM - 64, Trap::OutOfBounds), (0xffff_fff0, Trap::OutOfBounds)]
        {
            let (l, seen) = host_linker();
            let mut g = Guest::with_linker(&engine, &c, &l);
            assert_eq!(g.trap("call17-at", &[Value::U32(ptr)]), want, "ptr {ptr:#x}");
            assert!(seen.lock().unwrap().is_empty());
        }
    });
}

/// Spilled string params of an import are lifted from the tuple of (ptr, len) pairs in the caller's memory.
#[test]
fn import_string_params_through_pointer() {
    both!(|engine| {
        let c = component(&engine, &import_wat());
        let (l, seen) = host_linker();
        let mut g = Guest::with_linker(&engine, &c, &l);
        g.poke(0x600, b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        let pairs: Vec<u32> = (0..9).flat_map(|i| [0x600 + i * 5, i]).collect();
        g.poke(0x500, &le32(&pairs));
        g.call0("call-strs9-at", &[Value::U32(0x500)]);
        let text = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let want: Vec<Value> = (0..9usize).map(|i| s(&text[i * 5..i * 5 + i])).collect();
        assert_eq!(*seen.lock().unwrap(), vec![want]);
    });
}
