//! Lists: `store_list_into_range` (one `realloc(0, 0, align(T), n * size(T))`, elements stored at `i * size`)
//! and `load_list_from_range` (byte-length limit, alignment and bounds checks, then element loads).

use crate::both;
use crate::common::*;
use component_layer::{List, Trap, Value};

/// Element types under test: (export suffix, WAT type).
const ELEMS: &[(&str, &str)] = &[
    ("u8", "u8"),
    ("s8", "s8"),
    ("bool", "bool"),
    ("u16", "u16"),
    ("u32", "u32"),
    ("u64", "u64"),
    ("f32", "f32"),
    ("char", "char"),
    ("string", "string"),
    ("rec", "$rec"),
    ("list", "(list u8)"),
];

/// Per element type T: `echo-T` (list identity), `probe-T` (returns the `(ptr, len)` the guest received) and
/// `lift-T(ptr, len)` (lifts a list the host points at). `rec` is `record { a: u8, b: u64, c: u16 }`
/// (a@0, b@8, c@16, size 24, align 8).
fn wat() -> String {
    let mut items = String::from(
        r#"
        (type $rec' (record (field "a" u8) (field "b" u64) (field "c" u16)))
        (export $rec "rec" (type $rec'))
        "#,
    );
    for (name, ty) in ELEMS {
        items += &format!(
            r#"
            (func (export "echo-{name}") (param "xs" (list {ty})) (result (list {ty}))
              (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
            (func (export "probe-{name}") (param "xs" (list {ty})) (result (tuple u32 u32))
              (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
            (func (export "lift-{name}") (param "ptr" u32) (param "len" u32) (result (list {ty}))
              (canon lift (core func $i "ret2") (memory $mem)))
            "#
        );
    }
    guest("", &items)
}

type Eng<E> = component_layer::Engine<E>;

/// Lowers `xs` as `list<T>` into a fresh instance: the realloc log, `(ptr, len)`, and `nbytes` bytes at `ptr`.
fn probe<E: wasm_runtime_layer::backend::WasmEngine>(
    engine: &Eng<E>,
    c: &component_layer::Component,
    elem: &str,
    xs: Value,
    nbytes: u32,
) -> (Vec<[u32; 4]>, (u32, u32), Vec<u8>) {
    let mut g = Guest::new(engine, c);
    let (ptr, len) = pair(g.call(&format!("probe-{elem}"), &[xs]));
    let log = g.log();
    (log, (ptr, len), g.peek(ptr, nbytes))
}

/// Lifting `(ptr, len)` as `list<T>` in a fresh instance (with `data` poked at `at`) must trap.
fn lift_trap<E: wasm_runtime_layer::backend::WasmEngine>(
    engine: &Eng<E>,
    c: &component_layer::Component,
    data: &[u8],
    at: u32,
    elem: &str,
    ptr: u32,
    len: u32,
) -> Trap {
    let mut g = Guest::new(engine, c);
    if !data.is_empty() {
        g.poke(at, data);
    }
    g.trap(&format!("lift-{elem}"), &[Value::U32(ptr), Value::U32(len)])
}

fn list(v: impl Into<List>) -> Value {
    Value::List(v.into())
}

/// `list<u8>`: one `realloc(0, 0, 1, n)`, the bytes verbatim, and the same list back.
#[test]
fn list_u8_round_trip() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let xs = list(vec![1u8, 2, 3, 255]);
        assert_eq!(probe(&engine, &c, "u8", xs.clone(), 4), (vec![[0, 0, 1, 4]], (HEAP, 4), vec![1, 2, 3, 255]));
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("echo-u8", std::slice::from_ref(&xs)), xs);
        let big = list((0..5000u32).map(|i| i as u8).collect::<Vec<u8>>());
        assert_eq!(g.call("echo-u8", std::slice::from_ref(&big)), big);
    });
}

/// Numeric elements are stored little-endian at `i * size`, with the element alignment passed to realloc;
/// s8 is two's complement, bool is 0/1, f32 keeps NaN bits, char is its code point.
#[test]
fn numeric_lists_raw_bytes() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let r = probe(&engine, &c, "u16", list(vec![1u16, 0xffff, 0x1234]), 6);
        assert_eq!(r, (vec![[0, 0, 2, 6]], (HEAP, 3), vec![1, 0, 0xff, 0xff, 0x34, 0x12]));
        let r = probe(&engine, &c, "u64", list(vec![1u64, u64::MAX, 0x0102_0304_0506_0708]), 24);
        let mut want = vec![1, 0, 0, 0, 0, 0, 0, 0];
        want.extend([0xff; 8]);
        want.extend([8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(r, (vec![[0, 0, 8, 24]], (HEAP, 3), want));
        let nan = f32::from_bits(0x7fc0_0001);
        let r = probe(&engine, &c, "f32", list(vec![1.5f32, nan, -0.0]), 12);
        assert_eq!(r, (vec![[0, 0, 4, 12]], (HEAP, 3), le32(&[0x3fc0_0000, 0x7fc0_0001, 0x8000_0000])));
        let r = probe(&engine, &c, "s8", list(vec![-1i8, -128, 127]), 3);
        assert_eq!(r, (vec![[0, 0, 1, 3]], (HEAP, 3), vec![0xff, 0x80, 0x7f]));
        let bools = Value::List(List::Values(vec![Value::Bool(true), Value::Bool(false), Value::Bool(true)]));
        assert_eq!(probe(&engine, &c, "bool", bools, 3), (vec![[0, 0, 1, 3]], (HEAP, 3), vec![1, 0, 1]));
        let chars = Value::List(List::Values(vec![Value::Char('a'), Value::Char('日'), Value::Char('😀')]));
        assert_eq!(
            probe(&engine, &c, "char", chars, 12),
            (vec![[0, 0, 4, 12]], (HEAP, 3), le32(&[0x61, 0x65e5, 0x1_f600]))
        );
    });
}

/// Numeric lists round-trip (lowered, then lifted from the guest's copy), f32 NaN payloads included.
#[test]
fn numeric_lists_round_trip() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for xs in [
            list(vec![0u16, 1, 0xffff]),
            list(vec![0u32, u32::MAX]),
            list(vec![u64::MAX, 0, 1 << 63]),
            list(vec![i8::MIN, -1, 0, i8::MAX]),
        ] {
            let name = match &xs {
                Value::List(List::U16(_)) => "echo-u16",
                Value::List(List::U32(_)) => "echo-u32",
                Value::List(List::U64(_)) => "echo-u64",
                _ => "echo-s8",
            };
            assert_eq!(g.call(name, std::slice::from_ref(&xs)), xs, "{name}");
        }
        let bits = [0x7fc0_0001_u32, 0xffb0_0000, 0x3fc0_0000, 0x8000_0000];
        let back = g.call("echo-f32", &[list(bits.iter().map(|b| f32::from_bits(*b)).collect::<Vec<_>>())]);
        let Value::List(l) = back else { panic!("expected list") };
        assert_eq!(l.iter().map(|v| f32_bits(&v)).collect::<Vec<_>>(), bits);
    });
}

/// Lifted numeric lists come back as the specialised `List` variant of their element type (documented in
/// `values.rs`), not as `List::Values`.
#[test]
fn lifted_numeric_lists_are_specialised() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        assert!(matches!(g.call("echo-u8", &[list(vec![1u8])]), Value::List(List::U8(_))));
        assert!(matches!(g.call("echo-s8", &[list(vec![1i8])]), Value::List(List::S8(_))));
        assert!(matches!(g.call("echo-u16", &[list(vec![1u16])]), Value::List(List::U16(_))));
        assert!(matches!(g.call("echo-u32", &[list(vec![1u32])]), Value::List(List::U32(_))));
        assert!(matches!(g.call("echo-u64", &[list(vec![1u64])]), Value::List(List::U64(_))));
        assert!(matches!(g.call("echo-f32", &[list(vec![1f32])]), Value::List(List::F32(_))));
        // A generic list of numbers is accepted on the way in too.
        let generic = Value::List(List::Values(vec![Value::U16(7), Value::U16(8)]));
        assert_eq!(g.call("echo-u16", &[generic]), list(vec![7u16, 8]));
    });
}

/// Empty lists still call `realloc(0, 0, align(T), 0)` and lift back as empty.
#[test]
fn empty_lists_call_realloc() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let empty = || Value::List(List::Values(vec![]));
        for (elem, align) in [("u8", 1), ("u16", 2), ("u64", 8), ("f32", 4), ("string", 4), ("rec", 8), ("list", 4)] {
            let (log, (_, len), _) = probe(&engine, &c, elem, empty(), 0);
            assert_eq!((log, len), (vec![[0, 0, align, 0]], 0), "list<{elem}>");
            let mut g = Guest::new(&engine, &c);
            let back = g.call(&format!("echo-{elem}"), &[empty()]);
            assert!(matches!(&back, Value::List(l) if l.is_empty()), "list<{elem}>: {back:?}");
        }
    });
}

/// `list<string>`: the element array first (`realloc(0, 0, 4, 8n)`), then each string in order; elements are
/// `(ptr, len)` pairs.
#[test]
fn list_of_strings() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let xs = Value::List(List::Values(vec![s("ab"), s(""), s("日")]));
        let (log, pl, b) = probe(&engine, &c, "string", xs.clone(), 24);
        assert_eq!(log, vec![[0, 0, 4, 24], [0, 0, 1, 2], [0, 0, 1, 0], [0, 0, 1, 3]]);
        assert_eq!(pl, (HEAP, 3));
        assert_eq!(b, le32(&[HEAP + 24, 2, HEAP + 26, 0, HEAP + 26, 3]));
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("echo-string", std::slice::from_ref(&xs)), xs);
    });
}

/// `list<list<u8>>`: the outer array, then each inner list in order (empty ones included).
#[test]
fn list_of_lists() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let xs = Value::List(List::Values(vec![list(vec![1u8]), list(Vec::<u8>::new()), list(vec![2u8, 3])]));
        let (log, pl, b) = probe(&engine, &c, "list", xs.clone(), 24);
        assert_eq!(log, vec![[0, 0, 4, 24], [0, 0, 1, 1], [0, 0, 1, 0], [0, 0, 1, 2]]);
        assert_eq!(pl, (HEAP, 3));
        assert_eq!(b, le32(&[HEAP + 24, 1, HEAP + 25, 0, HEAP + 25, 2]));
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("echo-list", std::slice::from_ref(&xs)), xs);
    });
}

fn rec(a: u8, b: u64, c: u16) -> Value {
    Value::Record(vec![("a".into(), Value::U8(a)), ("b".into(), Value::U64(b)), ("c".into(), Value::U16(c))])
}

/// `list<record { a: u8, b: u64, c: u16 }>`: elements of size 24 at align 8; fields at offsets 0, 8, 16.
#[test]
fn list_of_records() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let xs = Value::List(List::Values(vec![rec(1, u64::MAX, 0x1234), rec(0xff, 2, 3)]));
        let (log, pl, b) = probe(&engine, &c, "rec", xs.clone(), 48);
        assert_eq!((log, pl), (vec![[0, 0, 8, 48]], (HEAP, 2)));
        let fields =
            |e: &[u8]| (e[0], u64::from_le_bytes(e[8..16].try_into().unwrap()), u16::from_le_bytes([e[16], e[17]]));
        assert_eq!(fields(&b[0..24]), (1, u64::MAX, 0x1234));
        assert_eq!(fields(&b[24..48]), (0xff, 2, 3));
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("echo-rec", std::slice::from_ref(&xs)), xs);
    });
}

/// Lists lifted from memory the guest points at: elements read at `ptr + i * size`, with the scalar rules.
#[test]
fn lists_lifted_from_memory() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        g.poke(0x200, &[0x01, 0x00, 0xff, 0xff, 0x02, 0x80]);
        assert_eq!(g.call("lift-u16", &[Value::U32(0x200), Value::U32(3)]), list(vec![1u16, 0xffff, 0x8002]));
        assert_eq!(g.call("lift-s8", &[Value::U32(0x202), Value::U32(4)]), list(vec![-1i8, -1, 2, -128]));
        let bools = g.call("lift-bool", &[Value::U32(0x201), Value::U32(4)]);
        assert_eq!(bools, Value::List(List::Values([false, true, true, true].map(Value::Bool).to_vec())));
        g.poke(0x300, b"hey");
        g.poke(0x280, &le32(&[0x300, 3, 0x301, 2, 0x9999, 0]));
        let strs = g.call("lift-string", &[Value::U32(0x280), Value::U32(3)]);
        assert_eq!(strs, Value::List(List::Values(vec![s("hey"), s("ey"), s("")])));
    });
}

/// `MAX_LIST_BYTE_LENGTH`: `len * size(T) > 2^28 - 1` traps (before alignment and bounds) — computed without
/// 32-bit overflow, so lengths whose byte size wraps to a small number still trap. Never a panic.
#[test]
fn too_long_lists_trap() {
    both!(|engine| {
        let c = component(&engine, &wat());
        // Plainly too long: the spec checks the byte length first, so the reason is `TooLong`.
        for (elem, len) in [("u8", 0x1000_0000), ("u8", 0xffff_ffff), ("u64", 0x0200_0000), ("u16", 0x0800_0000)] {
            assert_eq!(lift_trap(&engine, &c, &[], 0, elem, 0, len), Trap::TooLong, "list<{elem}> len {len:#x}");
        }
        // Byte sizes that wrap around 2^32 (to 0 or a small number): must trap, never succeed or panic.
        for (elem, len) in [
            ("u64", 0x2000_0000),
            ("u32", 0x4000_0000),
            ("u64", 0xffff_ffff),
            ("string", 0x2000_0000),
            ("rec", 0xffff_ffff),
            ("rec", 0x0aaa_aaab),
            ("list", 0xffff_ffff),
        ] {
            let t = lift_trap(&engine, &c, &[], 0, elem, 0, len);
            assert!(matches!(t, Trap::TooLong | Trap::OutOfBounds), "list<{elem}> len {len:#x}: {t:?}");
        }
        // Exactly the limit passes the length check and fails the bounds check.
        assert_eq!(lift_trap(&engine, &c, &[], 0, "u8", 0, 0x0fff_ffff), Trap::OutOfBounds);
    });
}

/// A list pointer must be aligned to its element type (even for an empty list), else `Misaligned`.
#[test]
fn misaligned_lists_trap() {
    both!(|engine| {
        let c = component(&engine, &wat());
        for (elem, ptr, len) in [
            ("u16", 0x201, 1),
            ("u32", 0x202, 1),
            ("u64", 0x204, 1),
            ("f32", 0x201, 1),
            ("char", 0x202, 1),
            ("string", 0x202, 1),
            ("rec", 0x204, 1),
            ("list", 0x206, 1),
            ("u32", 0x202, 0),
            ("u64", 0x201, 0),
        ] {
            assert_eq!(lift_trap(&engine, &c, &[], 0, elem, ptr, len), Trap::Misaligned, "list<{elem}> at {ptr:#x}");
        }
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("lift-u8", &[Value::U32(0x201), Value::U32(2)]), list(vec![0u8, 0]));
    });
}

/// `ptr + len * size > len(memory)` traps with `OutOfBounds` (no wrap-around); a list ending at the end of
/// memory is fine. Elements are checked too: a string element out of bounds, invalid UTF-8 or an invalid
/// char inside a list trap with their own reasons.
#[test]
fn out_of_bounds_lists_trap() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("lift-u32", &[Value::U32(MEM - 4), Value::U32(1)]), list(vec![0u32]));
        assert_eq!(g.call("lift-u8", &[Value::U32(MEM), Value::U32(0)]), list(Vec::<u8>::new()));
        for (elem, ptr, len) in [
            ("u32", MEM - 4, 2),
            ("u8", MEM + 1, 0),
            ("u8", 0xffff_fffc, 8),
            ("u64", 0xffff_fff8, 2),
            ("rec", MEM - 24, 2),
        ] {
            assert_eq!(
                lift_trap(&engine, &c, &[], 0, elem, ptr, len),
                Trap::OutOfBounds,
                "list<{elem}> ({ptr:#x}, {len})"
            );
        }
        let t = lift_trap(&engine, &c, &le32(&[MEM - 1, 2]), 0x200, "string", 0x200, 1);
        assert_eq!(t, Trap::OutOfBounds);
        let mut data = le32(&[0x210, 1]);
        data.extend([0; 8]);
        data.push(0xff);
        assert_eq!(lift_trap(&engine, &c, &data, 0x200, "string", 0x200, 1), Trap::InvalidString);
        assert_eq!(lift_trap(&engine, &c, &le32(&[0x61, 0xd800]), 0x200, "char", 0x200, 2), Trap::InvalidChar);
    });
}

/// The typed API stores and loads lists the same way (one realloc with the element alignment).
#[test]
fn typed_api_lists() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let echo = g.inst.get_func("echo-u16").unwrap().typed::<(Vec<u16>,), (Vec<u16>,)>().unwrap();
        assert_eq!(echo.call(&mut g.store, (vec![1, 0xffff, 3],)).unwrap().0, vec![1, 0xffff, 3]);
        assert_eq!(g.log(), vec![[0, 0, 2, 6]]);
        let echo = g.inst.get_func("echo-string").unwrap().typed::<(Vec<String>,), (Vec<String>,)>().unwrap();
        let xs = vec!["a".to_owned(), "日".to_owned()];
        assert_eq!(echo.call(&mut g.store, (xs.clone(),)).unwrap().0, xs);
        assert_eq!(g.log()[1..], [[0, 0, 4, 16], [0, 0, 1, 1], [0, 0, 1, 3]]);
        let lift = g.inst.get_func("lift-u64").unwrap().typed::<(u32, u32), (Vec<u64>,)>().unwrap();
        assert_eq!(lift.call(&mut g.store, (0x204, 1)).unwrap_err().as_trap(), Some(&Trap::Misaligned));
    });
}
