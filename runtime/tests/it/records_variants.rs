//! Records, tuples, variants, enums, options and results: memory layout (field offsets, padding, discriminant
//! sizes), discriminant validation, and variant flattening (`flatten_variant`'s `join`, `lower_flat_variant`'s
//! bit casts and `lift_flat_variant`'s coercions).

use std::sync::{Arc, Mutex};

use crate::both;
use crate::common::*;
use component_layer::{List, Trap, Value};

fn labels(n: usize) -> String {
    (0..n).map(|i| format!(r#""c{i}""#)).collect::<Vec<_>>().join(" ")
}

/// Types (exported):
/// * `r1 = record { a: u8, b: u32, c: u16, d: u64, e: u8 }` — a@0 b@4 c@8 d@16 e@24, size 32, align 8;
/// * `r2 = record { a: u8, b: u64, c: f32 }` — flat `[i32, i64, f32]`; a@0 b@8 c@16;
/// * `e3`, `e256`, `e257` — enums with 3, 256 (1-byte discriminant) and 257 (2-byte) cases;
/// * `v1 = variant { a(f32), b(s64) }`, `v2 = variant { a(f64), b(u32) }` — flat `[i32, i64]`;
/// * `v3 = variant { a(u32), b(f32) }` — flat `[i32, i32]`;
/// * `v4 = variant { a(tuple<u32, u32>), b(u64) }` — flat `[i32, i64, i32]`;
/// * `v5 = variant { x, y, z }` — flat `[i32]`; `v6 = variant { a(u8), b(u64) }` — disc@0, payload@8.
fn types() -> String {
    format!(
        r#"
        (type $r1' (record (field "a" u8) (field "b" u32) (field "c" u16) (field "d" u64) (field "e" u8)))
        (export $r1 "r1" (type $r1'))
        (type $r2' (record (field "a" u8) (field "b" u64) (field "c" f32)))
        (export $r2 "r2" (type $r2'))
        (type $e3' (enum "a" "b" "c"))
        (export $e3 "e3" (type $e3'))
        (type $e256' (enum {}))
        (export $e256 "e256" (type $e256'))
        (type $e257' (enum {}))
        (export $e257 "e257" (type $e257'))
        (type $v1' (variant (case "a" f32) (case "b" s64)))
        (export $v1 "v1" (type $v1'))
        (type $v2' (variant (case "a" f64) (case "b" u32)))
        (export $v2 "v2" (type $v2'))
        (type $v3' (variant (case "a" u32) (case "b" f32)))
        (export $v3 "v3" (type $v3'))
        (type $v4' (variant (case "a" (tuple u32 u32)) (case "b" u64)))
        (export $v4 "v4" (type $v4'))
        (type $v5' (variant (case "x") (case "y") (case "z")))
        (export $v5 "v5" (type $v5'))
        (type $v6' (variant (case "a" u8) (case "b" u64)))
        (export $v6 "v6" (type $v6'))
        (type $v7' (variant (case "bo" bool) (case "ch" char) (case "sb" s8) (case "ub" u8) (case "si" s32) (case "wide" u64)))
        (export $v7 "v7" (type $v7'))
        "#,
        labels(256),
        labels(257)
    )
}

fn wat() -> String {
    let core = r#"
        (func (export "echo-r2") (param i32 i64 f32) (result i32)
          (i32.store8 (i32.const 0x40) (local.get 0))
          (i64.store (i32.const 0x48) (local.get 1))
          (f32.store (i32.const 0x50) (local.get 2))
          (i32.const 0x40))
        (func (export "ret-i32-i64") (param i32 i64) (result i32)
          (i32.store (i32.const 0x40) (local.get 0))
          (i64.store (i32.const 0x48) (local.get 1))
          (i32.const 0x40))
        (func (export "ret-i32-i64-i32") (param i32 i64 i32) (result i32)
          (i32.store (i32.const 0x40) (local.get 0))
          (i64.store (i32.const 0x48) (local.get 1))
          (i32.store (i32.const 0x50) (local.get 2))
          (i32.const 0x40))
        (func (export "ret-i32-f32") (param i32 f32) (result i32)
          (i32.store (i32.const 0x40) (local.get 0))
          (f32.store (i32.const 0x44) (local.get 1))
          (i32.const 0x40))
        (func (export "ret3") (param i32 i32 i32) (result i32)
          (i32.store (i32.const 0x40) (local.get 0))
          (i32.store (i32.const 0x44) (local.get 1))
          (i32.store (i32.const 0x48) (local.get 2))
          (i32.const 0x40))
        (func (export "store-b2") (param i32 i32) (result i32)
          (i32.store8 (i32.const 0x40) (local.get 0))
          (i32.store8 (i32.const 0x41) (local.get 1))
          (i32.const 0x40))
    "#;
    let items = format!(
        r#"
        {}
        (func (export "probe-r1") (param "xs" (list $r1)) (result (tuple u32 u32))
          (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
        (func (export "echo-r2") (param "r" $r2) (result $r2) (canon lift (core func $i "echo-r2") (memory $mem)))
        (func (export "load-tuple") (param "ptr" u32) (result (tuple u8 u16 u8 u64))
          (canon lift (core func $i "id32") (memory $mem)))
        (func (export "probe-tuple") (param "xs" (list (tuple u8 u16 u8 u64))) (result (tuple u32 u32))
          (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
        (func (export "lift-e3") (param "x" u32) (result $e3) (canon lift (core func $i "id32")))
        (func (export "lift-e257") (param "x" u32) (result $e257) (canon lift (core func $i "id32")))
        (func (export "lower-e257") (param "x" $e257) (result u32) (canon lift (core func $i "id32")))
        (func (export "load-e3") (param "ptr" u32) (result (tuple $e3 u8)) (canon lift (core func $i "id32") (memory $mem)))
        (func (export "load-e256") (param "ptr" u32) (result (tuple $e256 u8)) (canon lift (core func $i "id32") (memory $mem)))
        (func (export "load-e257") (param "ptr" u32) (result (tuple $e257 u8)) (canon lift (core func $i "id32") (memory $mem)))
        (func (export "probe-e256") (param "xs" (list $e256)) (result (tuple u32 u32))
          (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
        (func (export "probe-e257") (param "xs" (list $e257)) (result (tuple u32 u32))
          (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
        (func (export "lift-v5") (param "x" u32) (result $v5) (canon lift (core func $i "id32")))
        (func (export "lift-res0") (param "x" u32) (result (result)) (canon lift (core func $i "id32")))
        (func (export "load-opt") (param "ptr" u32) (result (option u8)) (canon lift (core func $i "id32") (memory $mem)))
        (func (export "load-res") (param "ptr" u32) (result (result u8 (error u16)))
          (canon lift (core func $i "id32") (memory $mem)))
        (func (export "load-v6") (param "ptr" u32) (result $v6) (canon lift (core func $i "id32") (memory $mem)))
        (func (export "flat-v1") (param "v" $v1) (result (tuple u32 u64)) (canon lift (core func $i "ret-i32-i64") (memory $mem)))
        (func (export "flat-v2") (param "v" $v2) (result (tuple u32 u64)) (canon lift (core func $i "ret-i32-i64") (memory $mem)))
        (func (export "flat-v3") (param "v" $v3) (result (tuple u32 u32)) (canon lift (core func $i "ret2") (memory $mem)))
        (func (export "flat-v4") (param "v" $v4) (result (tuple u32 u64 u32))
          (canon lift (core func $i "ret-i32-i64-i32") (memory $mem)))
        (func (export "flat-v7") (param "v" $v7) (result (tuple u32 u64)) (canon lift (core func $i "ret-i32-i64") (memory $mem)))
        (func (export "flat-optf32") (param "o" (option f32)) (result (tuple u32 u32))
          (canon lift (core func $i "ret-i32-f32") (memory $mem)))
        (func (export "echo-v1") (param "v" $v1) (result $v1) (canon lift (core func $i "ret-i32-i64") (memory $mem)))
        (func (export "echo-v2") (param "v" $v2) (result $v2) (canon lift (core func $i "ret-i32-i64") (memory $mem)))
        (func (export "echo-optf32") (param "o" (option f32)) (result (option f32))
          (canon lift (core func $i "ret-i32-f32") (memory $mem)))
        (func (export "echo-res-both") (param "r" (result u32 (error string))) (result (result u32 (error string)))
          (canon lift (core func $i "ret3") (memory $mem) (realloc $realloc)))
        (func (export "flat-res-both") (param "r" (result u32 (error string))) (result (tuple u32 u32 u32))
          (canon lift (core func $i "ret3") (memory $mem) (realloc $realloc)))
        (func (export "echo-res-ok") (param "r" (result u32)) (result (result u32))
          (canon lift (core func $i "ret2") (memory $mem)))
        (func (export "echo-res-err") (param "r" (result (error u8))) (result (result (error u8)))
          (canon lift (core func $i "store-b2") (memory $mem)))
        (func (export "echo-res-none") (param "r" (result)) (result (result)) (canon lift (core func $i "id32")))
        (func (export "echo-opt-str") (param "o" (option string)) (result (option string))
          (canon lift (core func $i "ret3") (memory $mem) (realloc $realloc)))
        (func (export "probe-v6") (param "xs" (list $v6)) (result (tuple u32 u32))
          (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
        "#,
        types()
    );
    guest(core, &items)
}

fn field(name: &str, v: Value) -> (Arc<str>, Value) {
    (name.into(), v)
}

fn en(label: &str) -> Value {
    Value::Enum(label.into())
}

fn ok(v: Option<Value>) -> Value {
    Value::Result(Ok(v.map(Box::new)))
}

fn err(v: Option<Value>) -> Value {
    Value::Result(Err(v.map(Box::new)))
}

fn list(vs: Vec<Value>) -> Value {
    Value::List(List::Values(vs))
}

/// A fresh instance with `data` at 0x200 whose export `f(0x200)` must trap.
fn load_trap<E: wasm_runtime_layer::backend::WasmEngine>(
    engine: &component_layer::Engine<E>,
    c: &component_layer::Component,
    f: &str,
    data: &[u8],
) -> Trap {
    let mut g = Guest::new(engine, c);
    g.poke(0x200, data);
    g.trap(f, &[Value::U32(0x200)])
}

fn r1() -> Value {
    Value::Record(vec![
        field("a", Value::U8(0x11)),
        field("b", Value::U32(0x2233_4455)),
        field("c", Value::U16(0x6677)),
        field("d", Value::U64(0x8899_aabb_ccdd_eeff)),
        field("e", Value::U8(0x12)),
    ])
}

/// `store_record`: each field at `align_to(offset, align(field))` — a@0 b@4 c@8 d@16 e@24, size 32, align 8.
#[test]
fn record_field_offsets() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let (ptr, len) = pair(g.call("probe-r1", &[list(vec![r1()])]));
        assert_eq!((ptr, len), (HEAP, 1));
        assert_eq!(g.log(), vec![[0, 0, 8, 32]]);
        let b = g.peek(ptr, 32);
        assert_eq!(b[0], 0x11);
        assert_eq!(b[4..8], 0x2233_4455u32.to_le_bytes());
        assert_eq!(b[8..10], 0x6677u16.to_le_bytes());
        assert_eq!(b[16..24], 0x8899_aabb_ccdd_eeffu64.to_le_bytes());
        assert_eq!(b[24], 0x12);
    });
}

/// `store_record` writes only the fields: padding bytes keep whatever `realloc` left there (here 0xde).
#[test]
fn record_padding_untouched() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        g.set_fill(0xde);
        let (ptr, _) = pair(g.call("probe-r1", &[list(vec![r1()])]));
        #[rustfmt::skip]
        let want = [
            0x11, 0xde, 0xde, 0xde, 0x55, 0x44, 0x33, 0x22,
            0x77, 0x66, 0xde, 0xde, 0xde, 0xde, 0xde, 0xde,
            0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
            0x12, 0xde, 0xde, 0xde, 0xde, 0xde, 0xde, 0xde,
        ];
        assert_eq!(g.peek(ptr, 32), want);
    });
}

/// `flatten_record` is the concatenation of the fields' flat types (`[i32, i64, f32]` for r2), and the
/// record lifted back from memory reads a@0 b@8 c@16.
#[test]
fn record_round_trip() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for (a, b, cc) in [(200u8, u64::MAX - 1, -2.5f32), (0, 0, 0.0), (255, 1 << 63, f32::INFINITY)] {
            let r =
                Value::Record(vec![field("a", Value::U8(a)), field("b", Value::U64(b)), field("c", Value::F32(cc))]);
            assert_eq!(g.call("echo-r2", std::slice::from_ref(&r)), r);
        }
    });
}

/// Tuples are records with fields "0", "1", …: `tuple<u8, u16, u8, u64>` has offsets 0, 2, 4, 8, size 16.
#[test]
fn tuple_offsets() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        g.poke(0x200, &[0x11, 0xaa, 0x22, 0x33, 0x44, 0xaa, 0xaa, 0xaa, 1, 2, 3, 4, 5, 6, 7, 8]);
        let t = tuple(g.call("load-tuple", &[Value::U32(0x200)]));
        assert_eq!(t, vec![Value::U8(0x11), Value::U16(0x3322), Value::U8(0x44), Value::U64(0x0807_0605_0403_0201)]);
        let mut g = Guest::new(&engine, &c);
        let v =
            Value::Tuple(vec![Value::U8(0x11), Value::U16(0x3322), Value::U8(0x44), Value::U64(0x0807_0605_0403_0201)]);
        let (ptr, _) = pair(g.call("probe-tuple", &[list(vec![v])]));
        assert_eq!(g.log(), vec![[0, 0, 8, 16]]);
        let b = g.peek(ptr, 16);
        assert_eq!((b[0], &b[2..5], &b[8..16]), (0x11, &[0x22, 0x33, 0x44][..], &[1, 2, 3, 4, 5, 6, 7, 8][..]));
    });
}

/// `discriminant_type`: up to 256 cases use a 1-byte discriminant, 257 cases a 2-byte one (memory size and
/// alignment of the enum, realloc alignment of a list of it).
#[test]
fn enum_discriminant_sizes() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let (ptr, _) = pair(g.call("probe-e256", &[list(vec![en("c255"), en("c0")])]));
        assert_eq!(g.log(), vec![[0, 0, 1, 2]]);
        assert_eq!(g.peek(ptr, 2), [0xff, 0x00]);
        let mut g = Guest::new(&engine, &c);
        let (ptr, _) = pair(g.call("probe-e257", &[list(vec![en("c256"), en("c1")])]));
        assert_eq!(g.log(), vec![[0, 0, 2, 4]]);
        assert_eq!(g.peek(ptr, 4), [0x00, 0x01, 0x01, 0x00]);
        // Loading: the u8 after e256 is at offset 1, after e257 at offset 2.
        g.poke(0x200, &[0xff, 0x07]);
        assert_eq!(tuple(g.call("load-e256", &[Value::U32(0x200)])), vec![en("c255"), Value::U8(7)]);
        g.poke(0x200, &[0x00, 0x01, 0x07, 0x00]);
        assert_eq!(tuple(g.call("load-e256", &[Value::U32(0x200)])), vec![en("c0"), Value::U8(1)]);
        assert_eq!(tuple(g.call("load-e257", &[Value::U32(0x200)])), vec![en("c256"), Value::U8(7)]);
        // Flat, the discriminant is a plain i32.
        assert_eq!(g.call("lower-e257", &[en("c256")]), Value::U32(256));
        assert_eq!(g.call("lift-e257", &[Value::U32(256)]), en("c256"));
        assert_eq!(g.call("lift-e3", &[Value::U32(2)]), en("c"));
    });
}

/// `lift_flat_variant`: `trap_if(case_index >= len(cases))` on the whole i32 (not truncated to the
/// discriminant size), for enums, payload-less variants and `result` → `InvalidDiscriminant`.
#[test]
fn invalid_discriminants_flat() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("lift-v5", &[Value::U32(2)]), Value::Variant("z".into(), None));
        assert_eq!(g.call("lift-res0", &[Value::U32(0)]), ok(None));
        assert_eq!(g.call("lift-res0", &[Value::U32(1)]), err(None));
        for (f, x) in [
            ("lift-e3", 3),
            ("lift-e3", 0x100),
            ("lift-e3", 0xffff_ffff),
            ("lift-e257", 257),
            ("lift-e257", 0x1_0100),
            ("lift-v5", 3),
            ("lift-res0", 2),
            ("lift-res0", 0x8000_0000),
        ] {
            let mut g = Guest::new(&engine, &c);
            assert_eq!(g.trap(f, &[Value::U32(x)]), Trap::InvalidDiscriminant, "{f}({x:#x})");
        }
    });
}

/// `load_variant`: a discriminant >= the number of cases traps with `InvalidDiscriminant` for option, result,
/// variant and enum values in memory; valid ones read the payload at the aligned payload offset.
#[test]
fn invalid_discriminants_in_memory() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        g.poke(0x200, &[1, 5]);
        assert_eq!(g.call("load-opt", &[Value::U32(0x200)]), some(Value::U8(5)));
        g.poke(0x200, &[0, 9]);
        assert_eq!(g.call("load-opt", &[Value::U32(0x200)]), Value::Option(None));
        g.poke(0x200, &[0, 0xaa, 7, 0]);
        assert_eq!(g.call("load-res", &[Value::U32(0x200)]), ok(Some(Value::U8(7))));
        g.poke(0x200, &[1, 0xaa, 0x34, 0x12]);
        assert_eq!(g.call("load-res", &[Value::U32(0x200)]), err(Some(Value::U16(0x1234))));
        g.poke(0x200, &[1, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(g.call("load-v6", &[Value::U32(0x200)]), case("b", Value::U64(0x0102_0304_0506_0708)));
        for (f, data) in [
            ("load-opt", &[2u8, 0][..]),
            ("load-opt", &[0xff, 0]),
            ("load-res", &[2, 0, 0, 0]),
            ("load-v6", &[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("load-e3", &[3, 0]),
            ("load-e257", &[0x01, 0x01, 0, 0]),
            ("load-e257", &[0xff, 0xff, 0, 0]),
        ] {
            assert_eq!(load_trap(&engine, &c, f, data), Trap::InvalidDiscriminant, "{f} {data:x?}");
        }
    });
}

/// `lower_flat_variant`: `variant { a(f32), b(s64) }` joins to `[i32, i64]`; a(1.5) is the f32's *bits*
/// zero-extended (0x3fc00000), not the number 1 or 1.5; s64 -1 is all ones. Unused slots are 0.
#[test]
fn variant_join_lowering() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let t = |v: Value| tuple(v);
        assert_eq!(t(g.call("flat-v1", &[case("a", Value::F32(1.5))])), [Value::U32(0), Value::U64(0x3fc0_0000)]);
        assert_eq!(t(g.call("flat-v1", &[case("a", Value::F32(-0.0))])), [Value::U32(0), Value::U64(0x8000_0000)]);
        let nan = Value::F32(f32::from_bits(0x7fc0_0001));
        assert_eq!(t(g.call("flat-v1", &[case("a", nan)])), [Value::U32(0), Value::U64(0x7fc0_0001)]);
        assert_eq!(t(g.call("flat-v1", &[case("b", Value::S64(-1))])), [Value::U32(1), Value::U64(u64::MAX)]);
        assert_eq!(
            t(g.call("flat-v2", &[case("a", Value::F64(1.0))])),
            [Value::U32(0), Value::U64(0x3ff0_0000_0000_0000)]
        );
        assert_eq!(t(g.call("flat-v2", &[case("b", Value::U32(u32::MAX))])), [Value::U32(1), Value::U64(0xffff_ffff)]);
        // i32 join f32 = i32: the f32 goes as its bits.
        assert_eq!(t(g.call("flat-v3", &[case("b", Value::F32(1.5))])), [Value::U32(1), Value::U32(0x3fc0_0000)]);
        assert_eq!(t(g.call("flat-v3", &[case("a", Value::U32(7))])), [Value::U32(0), Value::U32(7)]);
        let ab = Value::Tuple(vec![Value::U32(1), Value::U32(2)]);
        assert_eq!(t(g.call("flat-v4", &[case("a", ab)])), [Value::U32(0), Value::U64(1), Value::U32(2)]);
        assert_eq!(
            t(g.call("flat-v4", &[case("b", Value::U64(u64::MAX))])),
            [Value::U32(1), Value::U64(u64::MAX), Value::U32(0)]
        );
        // option<f32> needs no join: [i32, f32], the f32 slot is 0.0 for none.
        assert_eq!(t(g.call("flat-optf32", &[some(Value::F32(1.5))])), [Value::U32(1), Value::U32(0x3fc0_0000)]);
        assert_eq!(t(g.call("flat-optf32", &[Value::Option(None)])), [Value::U32(0), Value::U32(0)]);
    });
}

/// Variants and options round-trip: lowered flat with joins, lifted back from memory (disc@0, payload at the
/// max case alignment).
#[test]
fn variant_round_trip() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for v in [case("a", Value::F32(1.5)), case("a", Value::F32(-0.0)), case("b", Value::S64(i64::MIN))] {
            assert_eq!(g.call("echo-v1", std::slice::from_ref(&v)), v);
        }
        for v in [case("a", Value::F64(-1e300)), case("b", Value::U32(u32::MAX))] {
            assert_eq!(g.call("echo-v2", std::slice::from_ref(&v)), v);
        }
        let Value::Variant(_, Some(p)) = g.call("echo-v1", &[case("a", Value::F32(f32::from_bits(0xffb0_0000)))])
        else {
            panic!("expected variant with payload")
        };
        assert_eq!(f32_bits(&p), 0xffb0_0000);
        for v in [some(Value::F32(-2.25)), Value::Option(None)] {
            assert_eq!(g.call("echo-optf32", std::slice::from_ref(&v)), v);
        }
    });
}

/// `result` in all four shapes (ok+err, ok only, err only, neither) round-trips; `result<u32, string>` joins
/// to `[i32, i32, i32]` with the string as (ptr, len) and zero padding for ok.
#[test]
fn results_all_shapes() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for v in [ok(Some(Value::U32(7))), ok(Some(Value::U32(u32::MAX))), err(Some(s("boom"))), err(Some(s("")))] {
            assert_eq!(g.call("echo-res-both", std::slice::from_ref(&v)), v);
        }
        for v in [ok(Some(Value::U32(0xdead_beef))), err(None)] {
            assert_eq!(g.call("echo-res-ok", std::slice::from_ref(&v)), v);
        }
        for v in [ok(None), err(Some(Value::U8(255)))] {
            assert_eq!(g.call("echo-res-err", std::slice::from_ref(&v)), v);
        }
        for v in [ok(None), err(None)] {
            assert_eq!(g.call("echo-res-none", std::slice::from_ref(&v)), v);
        }
        let mut g = Guest::new(&engine, &c);
        let t = tuple(g.call("flat-res-both", &[ok(Some(Value::U32(7)))]));
        assert_eq!(t, [Value::U32(0), Value::U32(7), Value::U32(0)]);
        let t = tuple(g.call("flat-res-both", &[err(Some(s("boom")))]));
        assert_eq!(t, [Value::U32(1), Value::U32(HEAP), Value::U32(4)]);
        assert_eq!(g.log(), vec![[0, 0, 1, 4]]);
    });
}

/// Only the active case is lowered: `option<string>` calls realloc for `some` and not for `none`.
#[test]
fn option_string_allocates_only_for_some() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("echo-opt-str", &[Value::Option(None)]), Value::Option(None));
        assert_eq!(g.log(), Vec::<[u32; 4]>::new());
        assert_eq!(g.call("echo-opt-str", &[some(s("hé"))]), some(s("hé")));
        assert_eq!(g.log(), vec![[0, 0, 1, 3]]);
    });
}

/// `store_variant`: the discriminant at 0, the payload at `align_to(disc_size, max_case_alignment)` (8 for
/// `variant { a(u8), b(u64) }`), element size 16.
#[test]
fn variant_memory_layout() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let (ptr, _) =
            pair(g.call("probe-v6", &[list(vec![case("a", Value::U8(5)), case("b", Value::U64(u64::MAX))])]));
        assert_eq!(g.log(), vec![[0, 0, 8, 32]]);
        let b = g.peek(ptr, 32);
        assert_eq!((b[0], b[8]), (0, 5));
        assert_eq!((b[16], &b[24..32]), (1, &[0xff; 8][..]));
    });
}

/// `store_variant` writes only the discriminant and the active case's payload: the bytes between them and
/// after a smaller payload keep whatever `realloc` left there (here 0xde).
#[test]
fn variant_padding_untouched() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        g.set_fill(0xde);
        let (ptr, _) = pair(g.call("probe-v6", &[list(vec![case("a", Value::U8(5))])]));
        assert_eq!(
            g.peek(ptr, 16),
            [0, 0xde, 0xde, 0xde, 0xde, 0xde, 0xde, 0xde, 5, 0xde, 0xde, 0xde, 0xde, 0xde, 0xde, 0xde]
        );
    });
}

/// The typed API (Rust `Option`, `Result`, tuples) follows the same variant rules: joins when lowering flat,
/// payload offsets when loading, discriminant checks.
#[test]
fn typed_api_variants() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let f = |g: &Guest<_>, n: &str| g.inst.get_func(n).unwrap();
        let flat = f(&g, "flat-optf32").typed::<(Option<f32>,), ((u32, u32),)>().unwrap();
        assert_eq!(flat.call(&mut g.store, (Some(1.5),)).unwrap(), ((1, 0x3fc0_0000),));
        assert_eq!(flat.call(&mut g.store, (None,)).unwrap(), ((0, 0),));
        let echo = f(&g, "echo-optf32").typed::<(Option<f32>,), (Option<f32>,)>().unwrap();
        assert_eq!(echo.call(&mut g.store, (Some(-2.25),)).unwrap(), (Some(-2.25),));
        let flat = f(&g, "flat-res-both").typed::<(Result<u32, String>,), ((u32, u32, u32),)>().unwrap();
        assert_eq!(flat.call(&mut g.store, (Ok(7),)).unwrap(), ((0, 7, 0),));
        assert_eq!(flat.call(&mut g.store, (Err("boom".to_owned()),)).unwrap(), ((1, HEAP, 4),));
        let echo = f(&g, "echo-res-both").typed::<(Result<u32, String>,), (Result<u32, String>,)>().unwrap();
        assert_eq!(echo.call(&mut g.store, (Err("x".to_owned()),)).unwrap(), (Err("x".to_owned()),));
        assert_eq!(echo.call(&mut g.store, (Ok(u32::MAX),)).unwrap(), (Ok(u32::MAX),));
        let load = f(&g, "load-opt").typed::<(u32,), (Option<u8>,)>().unwrap();
        g.poke(0x200, &[1, 0xff]);
        assert_eq!(load.call(&mut g.store, (0x200,)).unwrap(), (Some(0xff),));
        g.poke(0x200, &[2, 0]);
        assert_eq!(load.call(&mut g.store, (0x200,)).unwrap_err().as_trap(), Some(&Trap::InvalidDiscriminant));
    });
}

/// A guest that passes raw core values to host imports taking variants, so the host side lifts them flat.
fn import_wat() -> String {
    let pre = r#"
        (type $v1' (variant (case "a" f32) (case "b" s64)))
        (import "v1" (type $v1 (eq $v1')))
        (type $v2' (variant (case "a" f64) (case "b" u32)))
        (import "v2" (type $v2 (eq $v2')))
        (type $e3' (enum "a" "b" "c"))
        (import "e3" (type $e3 (eq $e3')))
        (type $v3' (variant (case "a" u32) (case "b" f32)))
        (import "v3" (type $v3 (eq $v3')))
        (type $v7' (variant (case "bo" bool) (case "ch" char) (case "sb" s8) (case "ub" u8) (case "si" s32) (case "wide" u64)))
        (import "v7" (type $v7 (eq $v7')))
        (import "take-v3" (func $take-v3 (param "v" $v3)))
        (import "take-v7" (func $take-v7 (param "v" $v7)))
        (core func $take-v3-c (canon lower (func $take-v3)))
        (core func $take-v7-c (canon lower (func $take-v7)))
        (import "take-v1" (func $take-v1 (param "v" $v1)))
        (import "take-v2" (func $take-v2 (param "v" $v2)))
        (import "take-optf32" (func $take-optf32 (param "o" (option f32))))
        (import "take-opt" (func $take-opt (param "o" (option u8))))
        (import "take-e3" (func $take-e3 (param "e" $e3)))
        (core func $take-v1-c (canon lower (func $take-v1)))
        (core func $take-v2-c (canon lower (func $take-v2)))
        (core func $take-optf32-c (canon lower (func $take-optf32)))
        (core func $take-opt-c (canon lower (func $take-opt)))
        (core func $take-e3-c (canon lower (func $take-e3)))
        (core instance $host
          (export "take-v1" (func $take-v1-c))
          (export "take-v2" (func $take-v2-c))
          (export "take-optf32" (func $take-optf32-c))
          (export "take-opt" (func $take-opt-c))
          (export "take-e3" (func $take-e3-c))
          (export "take-v3" (func $take-v3-c))
          (export "take-v7" (func $take-v7-c)))
    "#;
    let core_imports = r#"
        (import "host" "take-v1" (func $take-v1 (param i32 i64)))
        (import "host" "take-v2" (func $take-v2 (param i32 i64)))
        (import "host" "take-optf32" (func $take-optf32 (param i32 f32)))
        (import "host" "take-opt" (func $take-opt (param i32 i32)))
        (import "host" "take-e3" (func $take-e3 (param i32)))
        (import "host" "take-v3" (func $take-v3 (param i32 i32)))
        (import "host" "take-v7" (func $take-v7 (param i32 i64)))
    "#;
    let core = r#"
        (func (export "call-v1") (param i32 i64) (call $take-v1 (local.get 0) (local.get 1)))
        (func (export "call-v2") (param i32 i64) (call $take-v2 (local.get 0) (local.get 1)))
        (func (export "call-optf32") (param i32 i32) (call $take-optf32 (local.get 0) (f32.reinterpret_i32 (local.get 1))))
        (func (export "call-opt") (param i32 i32) (call $take-opt (local.get 0) (local.get 1)))
        (func (export "call-e3") (param i32) (call $take-e3 (local.get 0)))
        (func (export "call-v3") (param i32 i32) (call $take-v3 (local.get 0) (local.get 1)))
        (func (export "call-v7") (param i32 i64) (call $take-v7 (local.get 0) (local.get 1)))
    "#;
    let items = r#"
        (func (export "call-v1") (param "d" u32) (param "payload" u64) (canon lift (core func $i "call-v1")))
        (func (export "call-v2") (param "d" u32) (param "payload" u64) (canon lift (core func $i "call-v2")))
        (func (export "call-optf32") (param "d" u32) (param "bits" u32) (canon lift (core func $i "call-optf32")))
        (func (export "call-opt") (param "d" u32) (param "x" u32) (canon lift (core func $i "call-opt")))
        (func (export "call-e3") (param "d" u32) (canon lift (core func $i "call-e3")))
        (func (export "call-v3") (param "d" u32) (param "payload" u32) (canon lift (core func $i "call-v3")))
        (func (export "call-v7") (param "d" u32) (param "payload" u64) (canon lift (core func $i "call-v7")))
    "#;
    guest_with_imports(pre, core_imports, core, items)
}

/// A linker whose `take-*` functions record what they receive.
fn recording_linker<E: wasm_runtime_layer::backend::WasmEngine>(
) -> (component_layer::Linker<(), E>, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut l = linker::<E>();
    for name in ["take-v1", "take-v2", "take-optf32", "take-opt", "take-e3", "take-v3", "take-v7"] {
        let seen = seen.clone();
        l.root()
            .func_new(name, move |_, params, _| {
                seen.lock().unwrap().push(params[0].clone());
                Ok(())
            })
            .unwrap();
    }
    (l, seen)
}

/// `lift_flat_variant`'s coercions when the host lifts a guest's flat variant: i64 → f32 is
/// `decode_i32_as_float(wrap_i64_to_i32(x))` (high bits ignored), i64 → u32 wraps, i64 → f64 reinterprets;
/// an option's unused f32 slot is ignored.
#[test]
fn variant_join_lifting() {
    both!(|engine| {
        let c = component(&engine, &import_wat());
        let (l, seen) = recording_linker();
        let mut g = Guest::with_linker(&engine, &c, &l);
        let call = |g: &mut Guest<_>, f: &str, d: u32, x: Value| g.call0(f, &[Value::U32(d), x]);
        call(&mut g, "call-v1", 0, Value::U64(0xdead_beef_3fc0_0000));
        call(&mut g, "call-v1", 1, Value::U64(u64::MAX));
        call(&mut g, "call-v2", 0, Value::U64(0x3ff0_0000_0000_0000));
        call(&mut g, "call-v2", 1, Value::U64(0xffff_ffff_0000_0007));
        call(&mut g, "call-optf32", 1, Value::U32(0x3fc0_0000));
        call(&mut g, "call-optf32", 0, Value::U32(0x1234_5678));
        call(&mut g, "call-opt", 1, Value::U32(0x1ff));
        g.call0("call-e3", &[Value::U32(2)]);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                case("a", Value::F32(1.5)),
                case("b", Value::S64(-1)),
                case("a", Value::F64(1.0)),
                case("b", Value::U32(7)),
                some(Value::F32(1.5)),
                Value::Option(None),
                some(Value::U8(0xff)),
                en("c"),
            ]
        );
    });
}

/// `func_wrap` host functions taking Rust `Option`s lift the guest's flat option arguments with the same
/// rules (unused payload slot ignored, u8 payload truncated, bad discriminant trapping).
#[test]
fn typed_host_functions_lift_options() {
    both!(|engine| {
        let c = component(&engine, &import_wat());
        let make = || {
            let seen: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
            let mut l = linker();
            for name in ["take-v1", "take-v2", "take-e3", "take-v3", "take-v7"] {
                l.root().func_new(name, |_, _, _| Ok(())).unwrap();
            }
            let s1 = seen.clone();
            l.root()
                .func_wrap("take-optf32", move |_, (o,): (Option<f32>,)| {
                    s1.lock().unwrap().push(format!("{o:?}"));
                    Ok(())
                })
                .unwrap();
            let s2 = seen.clone();
            l.root()
                .func_wrap("take-opt", move |_, (o,): (Option<u8>,)| {
                    s2.lock().unwrap().push(format!("{o:?}"));
                    Ok(())
                })
                .unwrap();
            (l, seen)
        };
        let (l, seen) = make();
        let mut g = Guest::with_linker(&engine, &c, &l);
        g.call0("call-optf32", &[Value::U32(1), Value::U32(0x3fc0_0000)]);
        g.call0("call-optf32", &[Value::U32(0), Value::U32(0x1234_5678)]);
        g.call0("call-opt", &[Value::U32(1), Value::U32(0x1ff)]);
        assert_eq!(*seen.lock().unwrap(), ["Some(1.5)", "None", "Some(255)"]);
        let (l, seen) = make();
        let mut g = Guest::with_linker(&engine, &c, &l);
        assert_eq!(g.trap("call-opt", &[Value::U32(2), Value::U32(0)]), Trap::InvalidDiscriminant);
        assert!(seen.lock().unwrap().is_empty());
    });
}

/// `lower_flat_variant` with an `i32` payload in an `i64` slot (`v7 = variant { bo(bool), ch(char), sb(s8),
/// ub(u8), si(s32), wide(u64) }`): the payload is the lowered i32 *zero*-extended — s8 -1 is 0xffffffff,
/// not all ones.
#[test]
fn variant_small_payloads_in_wide_slot_lowering() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let mut got = vec![];
        for v in [
            case("bo", Value::Bool(true)),
            case("ch", Value::Char('😀')),
            case("sb", Value::S8(-1)),
            case("sb", Value::S8(-128)),
            case("ub", Value::U8(255)),
            case("si", Value::S32(-1)),
            case("wide", Value::U64(u64::MAX)),
        ] {
            got.push(tuple(g.call("flat-v7", &[v])));
        }
        let want: Vec<Vec<Value>> =
            [(0, 1), (1, 0x1_f600), (2, 0xffff_ffff), (2, 0xffff_ff80), (3, 0xff), (4, 0xffff_ffff), (5, u64::MAX)]
                .iter()
                .map(|(d, p)| vec![Value::U32(*d), Value::U64(*p)])
                .collect();
        assert_eq!(got, want);
    });
}

/// `lift_flat_variant`'s `('i64', 'i32')` coercion: an i32-typed payload in an i64 slot is
/// `wrap_i64_to_i32` first, then lifted as its type — so high bits never make a bool true, a char invalid or
/// a u8/s8 different; and `('i32', 'f32')` reinterprets bits.
#[test]
fn variant_small_payloads_in_wide_slot_lifting() {
    both!(|engine| {
        let c = component(&engine, &import_wat());
        let (l, seen) = recording_linker();
        let mut g = Guest::with_linker(&engine, &c, &l);
        for (d, payload) in [
            (0, 0x1_0000_0000u64),
            (0, 0x1_0000_0002),
            (1, 0x1_0000_0061),
            (1, 0xffff_ffff_0001_f600),
            (2, 0xffff_ffff_ffff_ff80),
            (2, 0x1_0000_007f),
            (3, 0x1_0000_0105),
            (4, 0x7fff_ffff_ffff_ffff),
            (5, u64::MAX),
        ] {
            g.call0("call-v7", &[Value::U32(d), Value::U64(payload)]);
        }
        g.call0("call-v3", &[Value::U32(1), Value::U32(0x3fc0_0000)]);
        g.call0("call-v3", &[Value::U32(0), Value::U32(0xffff_ffff)]);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                case("bo", Value::Bool(false)),
                case("bo", Value::Bool(true)),
                case("ch", Value::Char('a')),
                case("ch", Value::Char('😀')),
                case("sb", Value::S8(-128)),
                case("sb", Value::S8(127)),
                case("ub", Value::U8(5)),
                case("si", Value::S32(-1)),
                case("wide", Value::U64(u64::MAX)),
                case("b", Value::F32(1.5)),
                case("a", Value::U32(u32::MAX)),
            ]
        );
        // After wrapping, a surrogate is still an invalid char.
        let (l, _) = recording_linker();
        let mut g = Guest::with_linker(&engine, &c, &l);
        assert_eq!(g.trap("call-v7", &[Value::U32(1), Value::U64(0x1_0000_d800)]), Trap::InvalidChar);
    });
}

/// Invalid discriminants in a guest's flat arguments to a host import trap with `InvalidDiscriminant` before
/// the host function runs.
#[test]
fn invalid_discriminants_in_import_params() {
    both!(|engine| {
        let c = component(&engine, &import_wat());
        for (f, d) in [("call-opt", 2), ("call-opt", 0x100), ("call-v1", 2), ("call-optf32", 5), ("call-e3", 3)] {
            let (l, seen) = recording_linker();
            let mut g = Guest::with_linker(&engine, &c, &l);
            let args: Vec<Value> = match f {
                "call-e3" => vec![Value::U32(d)],
                "call-v1" => vec![Value::U32(d), Value::U64(0)],
                _ => vec![Value::U32(d), Value::U32(0)],
            };
            assert_eq!(g.trap(f, &args), Trap::InvalidDiscriminant, "{f}({d})");
            assert!(seen.lock().unwrap().is_empty(), "{f}: host function must not run");
        }
    });
}
