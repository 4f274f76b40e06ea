//! Scalars: `bool`, the integer types, floats and `char`, lifted from and lowered to core values (flat) and
//! loaded from memory (CanonicalABI.md "Loading", "Flat Lifting", "Flat Lowering").

use crate::both;
use crate::common::*;
use component_layer::{Trap, Value};

/// Core identities lifted at many types: `X-to-Y` lowers a host `X` to the core value and lifts it back as `Y`.
fn wat() -> String {
    guest(
        r#"
        (func (export "idf32") (param f32) (result f32) (local.get 0))
        (func (export "idf64") (param f64) (result f64) (local.get 0))
        (func (export "f32-bits") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
        (func (export "f64-bits") (param f64) (result i64) (i64.reinterpret_f64 (local.get 0)))
        (func (export "bits-f32") (param i32) (result f32) (f32.reinterpret_i32 (local.get 0)))
        (func (export "bits-f64") (param i64) (result f64) (f64.reinterpret_i64 (local.get 0)))
        (func (export "char-pair") (param i32) (result i32)
          (i32.store (i32.const 0x40) (i32.const 0x61))
          (i32.store (i32.const 0x44) (local.get 0))
          (i32.const 0x40))
        "#,
        r#"
        (func (export "u32-to-bool") (param "x" u32) (result bool) (canon lift (core func $i "id32")))
        (func (export "u32-to-u8") (param "x" u32) (result u8) (canon lift (core func $i "id32")))
        (func (export "u32-to-s8") (param "x" u32) (result s8) (canon lift (core func $i "id32")))
        (func (export "u32-to-u16") (param "x" u32) (result u16) (canon lift (core func $i "id32")))
        (func (export "u32-to-s16") (param "x" u32) (result s16) (canon lift (core func $i "id32")))
        (func (export "u32-to-s32") (param "x" u32) (result s32) (canon lift (core func $i "id32")))
        (func (export "u32-to-char") (param "x" u32) (result char) (canon lift (core func $i "id32")))
        (func (export "u64-to-s64") (param "x" u64) (result s64) (canon lift (core func $i "id64")))
        (func (export "bool-to-u32") (param "x" bool) (result u32) (canon lift (core func $i "id32")))
        (func (export "u8-to-u32") (param "x" u8) (result u32) (canon lift (core func $i "id32")))
        (func (export "s8-to-u32") (param "x" s8) (result u32) (canon lift (core func $i "id32")))
        (func (export "u16-to-u32") (param "x" u16) (result u32) (canon lift (core func $i "id32")))
        (func (export "s16-to-u32") (param "x" s16) (result u32) (canon lift (core func $i "id32")))
        (func (export "s32-to-u32") (param "x" s32) (result u32) (canon lift (core func $i "id32")))
        (func (export "char-to-u32") (param "x" char) (result u32) (canon lift (core func $i "id32")))
        (func (export "s64-to-u64") (param "x" s64) (result u64) (canon lift (core func $i "id64")))
        (func (export "id-u32") (param "x" u32) (result u32) (canon lift (core func $i "id32")))
        (func (export "id-s32") (param "x" s32) (result s32) (canon lift (core func $i "id32")))
        (func (export "id-u64") (param "x" u64) (result u64) (canon lift (core func $i "id64")))
        (func (export "id-s64") (param "x" s64) (result s64) (canon lift (core func $i "id64")))
        (func (export "id-f32") (param "x" f32) (result f32) (canon lift (core func $i "idf32")))
        (func (export "id-f64") (param "x" f64) (result f64) (canon lift (core func $i "idf64")))
        (func (export "f32-bits") (param "x" f32) (result u32) (canon lift (core func $i "f32-bits")))
        (func (export "f64-bits") (param "x" f64) (result u64) (canon lift (core func $i "f64-bits")))
        (func (export "bits-f32") (param "x" u32) (result f32) (canon lift (core func $i "bits-f32")))
        (func (export "bits-f64") (param "x" u64) (result f64) (canon lift (core func $i "bits-f64")))
        (func (export "load-scalars") (param "ptr" u32)
          (result (tuple bool bool bool u8 s8 s16 u16 s32 char))
          (canon lift (core func $i "id32") (memory $mem)))
        (func (export "char-pair") (param "x" u32) (result (tuple char char))
          (canon lift (core func $i "char-pair") (memory $mem)))
        "#,
    )
}

/// `convert_int_to_bool`: a flat `i32` lifts as `bool` by `!= 0`, so 2, 0x80000000 and 0xffffffff are true.
#[test]
fn bool_lifts_as_nonzero() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for (x, want) in [(0, false), (1, true), (2, true), (0x80, true), (0x8000_0000, true), (0xffff_ffff, true)] {
            assert_eq!(g.call("u32-to-bool", &[Value::U32(x)]), Value::Bool(want), "bool from {x:#x}");
        }
    });
}

/// `lift_flat_unsigned` / `lift_flat_signed`: u8/u16 take the low bits of the `i32`, s8/s16 sign-extend them.
#[test]
fn small_ints_truncate_and_sign_extend() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for (x, want) in [(0x1ff, 0xff), (0x100, 0), (0xffff_ff80, 0x80), (0x7f, 0x7f)] {
            assert_eq!(g.call("u32-to-u8", &[Value::U32(x)]), Value::U8(want), "u8 from {x:#x}");
        }
        for (x, want) in [(0x80, -128), (0x17f, 127), (0xffff_ffff, -1), (0x7f, 127), (0x1234_56ff, -1)] {
            assert_eq!(g.call("u32-to-s8", &[Value::U32(x)]), Value::S8(want), "s8 from {x:#x}");
        }
        for (x, want) in [(0x1234_5678, 0x5678), (0xffff_ffff, 0xffff), (0x1_0000, 0)] {
            assert_eq!(g.call("u32-to-u16", &[Value::U32(x)]), Value::U16(want), "u16 from {x:#x}");
        }
        for (x, want) in [(0x8000, -32768), (0x1_ffff, -1), (0x7fff, 32767), (0xabcd_0001, 1)] {
            assert_eq!(g.call("u32-to-s16", &[Value::U32(x)]), Value::S16(want), "s16 from {x:#x}");
        }
    });
}

/// `lower_flat_signed`: negative s8/s16/s32 lower to the two's-complement `i32` (sign-extended to 32 bits);
/// unsigned values and `bool` (0/1) lower unchanged.
#[test]
fn small_ints_lower_sign_extended() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("bool-to-u32", &[Value::Bool(true)]), Value::U32(1));
        assert_eq!(g.call("bool-to-u32", &[Value::Bool(false)]), Value::U32(0));
        assert_eq!(g.call("u8-to-u32", &[Value::U8(255)]), Value::U32(255));
        assert_eq!(g.call("s8-to-u32", &[Value::S8(-1)]), Value::U32(0xffff_ffff));
        assert_eq!(g.call("s8-to-u32", &[Value::S8(-128)]), Value::U32(0xffff_ff80));
        assert_eq!(g.call("s8-to-u32", &[Value::S8(127)]), Value::U32(127));
        assert_eq!(g.call("u16-to-u32", &[Value::U16(0xffff)]), Value::U32(0xffff));
        assert_eq!(g.call("s16-to-u32", &[Value::S16(-2)]), Value::U32(0xffff_fffe));
        assert_eq!(g.call("s16-to-u32", &[Value::S16(i16::MIN)]), Value::U32(0xffff_8000));
        assert_eq!(g.call("s32-to-u32", &[Value::S32(i32::MIN)]), Value::U32(0x8000_0000));
        assert_eq!(g.call("s64-to-u64", &[Value::S64(-1)]), Value::U64(u64::MAX));
        assert_eq!(g.call("char-to-u32", &[Value::Char('\u{10FFFF}')]), Value::U32(0x10_ffff));
        assert_eq!(g.call("char-to-u32", &[Value::Char('日')]), Value::U32(0x65e5));
    });
}

/// 32- and 64-bit integers cross unchanged at their extremes; the same bits lift as signed or unsigned.
#[test]
fn wide_int_extremes() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for x in [0, 1, u32::MAX, 0x8000_0000] {
            assert_eq!(g.call("id-u32", &[Value::U32(x)]), Value::U32(x));
        }
        for x in [i32::MIN, -1, 0, i32::MAX] {
            assert_eq!(g.call("id-s32", &[Value::S32(x)]), Value::S32(x));
        }
        for x in [0, u64::MAX, 1 << 63] {
            assert_eq!(g.call("id-u64", &[Value::U64(x)]), Value::U64(x));
        }
        for x in [i64::MIN, -1, i64::MAX] {
            assert_eq!(g.call("id-s64", &[Value::S64(x)]), Value::S64(x));
        }
        assert_eq!(g.call("u32-to-s32", &[Value::U32(0xffff_ffff)]), Value::S32(-1));
        assert_eq!(g.call("u32-to-s32", &[Value::U32(0x8000_0000)]), Value::S32(i32::MIN));
        assert_eq!(g.call("u64-to-s64", &[Value::U64(u64::MAX)]), Value::S64(-1));
        assert_eq!(g.call("u64-to-s64", &[Value::U64(1 << 63)]), Value::S64(i64::MIN));
    });
}

/// NaN payloads and signs pass through unchanged in both directions (the spec lets a host keep the original
/// NaN instead of canonicalizing on lift and scrambling on lower; this runtime keeps bits, as wasmtime does).
#[test]
fn float_nan_bits_preserved() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for bits in [0x7fc0_0001_u32, 0xffb0_0000, 0x7f80_0001, 0x8000_0000, 0x7f80_0000, 0x3fc0_0000] {
            let f = Value::F32(f32::from_bits(bits));
            assert_eq!(f32_bits(&g.call("id-f32", std::slice::from_ref(&f))), bits, "f32 identity {bits:#x}");
            assert_eq!(g.call("f32-bits", &[f]), Value::U32(bits), "f32 lowered {bits:#x}");
            assert_eq!(f32_bits(&g.call("bits-f32", &[Value::U32(bits)])), bits, "f32 lifted {bits:#x}");
        }
        for bits in [0x7ff8_0000_0000_0001_u64, 0xfff4_0000_0000_0000, 0x7ff0_0000_0000_0001, 0x8000_0000_0000_0000] {
            let f = Value::F64(f64::from_bits(bits));
            assert_eq!(f64_bits(&g.call("id-f64", std::slice::from_ref(&f))), bits, "f64 identity {bits:#x}");
            assert_eq!(g.call("f64-bits", &[f]), Value::U64(bits), "f64 lowered {bits:#x}");
            assert_eq!(f64_bits(&g.call("bits-f64", &[Value::U64(bits)])), bits, "f64 lifted {bits:#x}");
        }
    });
}

/// `convert_i32_to_char`: scalar values up to 0x10FFFF lift, including the neighbours of the surrogate range.
#[test]
fn char_valid_values() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for (x, want) in [(0, '\0'), (0x61, 'a'), (0xd7ff, '\u{d7ff}'), (0xe000, '\u{e000}'), (0x10_ffff, '\u{10ffff}')]
        {
            assert_eq!(g.call("u32-to-char", &[Value::U32(x)]), Value::Char(want), "char from {x:#x}");
        }
    });
}

/// `convert_i32_to_char`: surrogates (0xD800..=0xDFFF) and values >= 0x110000 trap with `InvalidChar`.
#[test]
fn char_invalid_values_trap() {
    both!(|engine| {
        let c = component(&engine, &wat());
        for x in [0xd800, 0xdbff, 0xdc00, 0xdfff, 0x11_0000, 0x8000_0000, 0xffff_ffff] {
            let mut g = Guest::new(&engine, &c);
            assert_eq!(g.trap("u32-to-char", &[Value::U32(x)]), Trap::InvalidChar, "char from {x:#x}");
        }
    });
}

/// `load`: scalars read from memory follow the same rules (bool = byte != 0, s8/s16 sign-extended) at the
/// tuple's field offsets (bool@0,1,2 u8@3 s8@4 s16@6 u16@8 s32@12 char@16).
#[test]
fn scalars_loaded_from_memory() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        #[rustfmt::skip]
        let data = [
            0x00, 0x02, 0x80, 0xff, 0x80, 0xaa, 0x00, 0x80, // bool bool bool u8 s8 pad s16
            0xff, 0xff, 0xaa, 0xaa, 0x00, 0x00, 0x00, 0x80, // u16 pad s32
            0xff, 0xff, 0x10, 0x00,                         // char
        ];
        g.poke(0x200, &data);
        let v = g.call("load-scalars", &[Value::U32(0x200)]);
        assert_eq!(
            tuple(v),
            vec![
                Value::Bool(false),
                Value::Bool(true),
                Value::Bool(true),
                Value::U8(255),
                Value::S8(-128),
                Value::S16(-32768),
                Value::U16(0xffff),
                Value::S32(i32::MIN),
                Value::Char('\u{10ffff}'),
            ]
        );
    });
}

/// `load` of a `char` from memory applies `convert_i32_to_char` too: a surrogate traps with `InvalidChar`.
#[test]
fn char_loaded_from_memory_validated() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        assert_eq!(tuple(g.call("char-pair", &[Value::U32(0x1f600)])), vec![Value::Char('a'), Value::Char('😀')]);
        for x in [0xd800, 0xdfff, 0x11_0000] {
            let mut g = Guest::new(&engine, &c);
            assert_eq!(g.trap("char-pair", &[Value::U32(x)]), Trap::InvalidChar, "char from {x:#x}");
        }
    });
}

/// The typed API applies the same flat lifting rules as the dynamic one (bool != 0, truncation, char checks).
#[test]
fn typed_api_scalar_rules() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let f = |g: &Guest<_>, n: &str| g.inst.get_func(n).unwrap();
        let to_bool = f(&g, "u32-to-bool").typed::<(u32,), (bool,)>().unwrap();
        assert_eq!(to_bool.call(&mut g.store, (0x8000_0000,)).unwrap(), (true,));
        assert_eq!(to_bool.call(&mut g.store, (2,)).unwrap(), (true,));
        assert_eq!(to_bool.call(&mut g.store, (0,)).unwrap(), (false,));
        let to_u8 = f(&g, "u32-to-u8").typed::<(u32,), (u8,)>().unwrap();
        assert_eq!(to_u8.call(&mut g.store, (0x1ff,)).unwrap(), (0xff,));
        let to_s16 = f(&g, "u32-to-s16").typed::<(u32,), (i16,)>().unwrap();
        assert_eq!(to_s16.call(&mut g.store, (0x1_8000,)).unwrap(), (-32768,));
        let id_f32 = f(&g, "id-f32").typed::<(f32,), (f32,)>().unwrap();
        assert_eq!(id_f32.call(&mut g.store, (f32::from_bits(0xffb0_0000),)).unwrap().0.to_bits(), 0xffb0_0000);
        let to_char = f(&g, "u32-to-char").typed::<(u32,), (char,)>().unwrap();
        assert_eq!(to_char.call(&mut g.store, (0x10_ffff,)).unwrap(), ('\u{10ffff}',));
        assert_eq!(to_char.call(&mut g.store, (0xd800,)).unwrap_err().as_trap(), Some(&Trap::InvalidChar));
    });
}

/// `lower_flat_signed` through the typed API: a negative s8/s16/s32 argument reaches the core function as the
/// sign-extended i32 (s8 -1 → 0xffffffff), exactly as with dynamic values.
#[test]
fn typed_api_lowers_small_signed_sign_extended() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let s8_up = g.inst.get_func("s8-to-u32").unwrap().typed::<(i8,), (u32,)>().unwrap();
        let s16_up = g.inst.get_func("s16-to-u32").unwrap().typed::<(i16,), (u32,)>().unwrap();
        let s32_up = g.inst.get_func("s32-to-u32").unwrap().typed::<(i32,), (u32,)>().unwrap();
        let got = (
            s8_up.call(&mut g.store, (-1,)).unwrap().0,
            s8_up.call(&mut g.store, (-128,)).unwrap().0,
            s16_up.call(&mut g.store, (-2,)).unwrap().0,
            s32_up.call(&mut g.store, (-3,)).unwrap().0,
        );
        assert_eq!(got, (0xffff_ffff, 0xffff_ff80, 0xffff_fffe, 0xffff_fffd));
    });
}
