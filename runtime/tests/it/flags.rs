//! Flags: one `i32` flat; 1, 2 or 4 bytes in memory for up to 8, 16 and 32 labels; label i is bit i
//! (`pack_flags_into_int` / `unpack_flags_from_int`), and bits beyond the labels are ignored when lifting.

use crate::both;
use crate::common::*;
use component_layer::{List, Value};

/// Flag type sizes under test; type `fN` has labels `f0` … `f{N-1}`.
const SIZES: [usize; 6] = [1, 8, 9, 16, 17, 32];

/// Per size N: `lower-fN` (flags → the core i32 as u32), `lift-fN` (u32 → flags), `probe-fN` (a list of flags
/// lowered into memory) and `load-fN(ptr)` (lifts `tuple<fN, u8>` from memory).
fn wat() -> String {
    let mut items = String::new();
    for n in SIZES {
        let labels: Vec<String> = (0..n).map(|i| format!(r#""f{i}""#)).collect();
        items += &format!(
            r#"
            (type $f{n}' (flags {labels}))
            (export $f{n} "f{n}" (type $f{n}'))
            (func (export "lower-f{n}") (param "x" $f{n}) (result u32) (canon lift (core func $i "id32")))
            (func (export "lift-f{n}") (param "x" u32) (result $f{n}) (canon lift (core func $i "id32")))
            (func (export "probe-f{n}") (param "xs" (list $f{n})) (result (tuple u32 u32))
              (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
            (func (export "load-f{n}") (param "ptr" u32) (result (tuple $f{n} u8))
              (canon lift (core func $i "id32") (memory $mem)))
            "#,
            labels = labels.join(" ")
        );
    }
    guest("", &items)
}

/// The labels of a lifted flags value, in the order the runtime returned them.
fn labels_of(v: &Value) -> Vec<String> {
    match v {
        Value::Flags(ls) => ls.iter().map(|l| l.to_string()).collect(),
        other => panic!("expected flags, got {other:?}"),
    }
}

fn names(bits: &[usize]) -> Vec<String> {
    bits.iter().map(|i| format!("f{i}")).collect()
}

fn fl(bits: &[usize]) -> Value {
    Value::Flags(bits.iter().map(|i| format!("f{i}").into()).collect())
}

/// `pack_flags_into_int`: label i sets bit i of the flat i32, whatever order the host lists the labels in.
#[test]
fn flags_lower_flat_bit_order() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for (n, bits, want) in [
            (1, &[][..], 0),
            (1, &[0][..], 1),
            (8, &[7, 0], 0x81),
            (8, &[2], 0b100),
            (9, &[0, 8], 0x101),
            (16, &[15], 0x8000),
            (17, &[16], 0x1_0000),
            (17, &[16, 3, 1], 0x1_000a),
            (32, &[31], 0x8000_0000),
            (32, &(0..32).collect::<Vec<_>>()[..], 0xffff_ffff),
        ] {
            assert_eq!(g.call(&format!("lower-f{n}"), &[fl(bits)]), Value::U32(want), "f{n} {bits:?}");
        }
    });
}

/// `unpack_flags_from_int`: bit i is label i; lifted labels come back in declaration (bit) order.
#[test]
fn flags_lift_flat_bit_order() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for (n, x, want) in [
            (8, 0b101, &[0, 2][..]),
            (8, 0x80, &[7]),
            (9, 0x100, &[8]),
            (16, 0x8001, &[0, 15]),
            (17, 0x1_0002, &[1, 16]),
            (32, 0x8000_0001, &[0, 31]),
            (32, 0, &[]),
        ] {
            let v = g.call(&format!("lift-f{n}"), &[Value::U32(x)]);
            assert_eq!(labels_of(&v), names(want), "f{n} from {x:#x}");
        }
    });
}

/// `unpack_flags_from_int` only looks at the low N bits: higher bits of the i32 are ignored, not a trap.
#[test]
fn flags_lift_ignores_high_bits() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for (n, x, want) in [
            (1, 0xff, vec![0]),
            (1, 0xffff_fffe, vec![]),
            (8, 0xffff_ff00, vec![]),
            (8, 0x1ff, (0..8).collect()),
            (9, 0xffff_ffff, (0..9).collect()),
            (9, 0xffff_fe00, vec![]),
            (16, 0xffff_0000, vec![]),
            (17, 0xfffe_0000, vec![]),
            (17, 0xffff_ffff, (0..17).collect()),
        ] {
            let v = g.call(&format!("lift-f{n}"), &[Value::U32(x)]);
            assert_eq!(labels_of(&v), names(&want), "f{n} from {x:#x}");
        }
    });
}

/// `elem_size_flags` / `alignment_flags`: 1 byte for up to 8 labels, 2 for up to 16, 4 for up to 32 — the
/// realloc size and alignment of a list of flags, and the stored bytes.
#[test]
fn flags_memory_sizes() {
    both!(|engine| {
        let c = component(&engine, &wat());
        for (n, vals, log, want) in [
            (1, vec![fl(&[0]), fl(&[])], [0, 0, 1, 2], vec![1, 0]),
            (8, vec![fl(&[0, 7])], [0, 0, 1, 1], vec![0x81]),
            (9, vec![fl(&[8]), fl(&[0])], [0, 0, 2, 4], vec![0, 1, 1, 0]),
            (16, vec![fl(&[15, 0])], [0, 0, 2, 2], vec![1, 0x80]),
            (17, vec![fl(&[16])], [0, 0, 4, 4], vec![0, 0, 1, 0]),
            (32, vec![fl(&[31]), fl(&[0, 1])], [0, 0, 4, 8], vec![0, 0, 0, 0x80, 3, 0, 0, 0]),
        ] {
            let mut g = Guest::new(&engine, &c);
            let (ptr, len) = pair(g.call(&format!("probe-f{n}"), &[Value::List(List::Values(vals.clone()))]));
            assert_eq!(len as usize, vals.len());
            assert_eq!(g.log(), vec![log], "f{n}");
            assert_eq!(g.peek(ptr, log[3]), want, "f{n}");
        }
    });
}

/// Flags loaded from memory read 1/2/4 bytes (so the following u8 is at offset 1/2/4) and ignore bits beyond
/// the labels.
#[test]
fn flags_load_from_memory() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        for (n, data, want, after) in [
            (1, &[0xfe, 3][..], vec![], 3),
            (1, &[0x01, 4], vec![0], 4),
            (8, &[0xff, 7], (0..8).collect(), 7),
            (9, &[0xff, 0xff, 7, 0], (0..9).collect(), 7),
            (9, &[0x00, 0xfe, 6, 0], vec![], 6),
            (16, &[0x01, 0x80, 5, 0], vec![0, 15], 5),
            (17, &[0, 0, 0xfe, 0xff, 9, 0, 0, 0], vec![], 9),
            (17, &[1, 0, 1, 0, 8, 0, 0, 0], vec![0, 16], 8),
            (32, &[1, 0, 0, 0x80, 6, 0, 0, 0], vec![0, 31], 6),
        ] {
            g.poke(0x200, data);
            let t = tuple(g.call(&format!("load-f{n}"), &[Value::U32(0x200)]));
            assert_eq!(labels_of(&t[0]), names(&want), "f{n} from {data:x?}");
            assert_eq!(t[1], Value::U8(after), "f{n} from {data:x?}");
        }
    });
}

#[test]
fn flags_with_more_than_32_labels_are_invalid() {
    both!(|engine| {
        let labels: Vec<String> = (0..33).map(|i| format!(r#""f{i}""#)).collect();
        let wat = format!("(component (type (flags {})))", labels.join(" "));
        let bytes = wat::parse_str(&wat).expect("the text format accepts 33 labels");
        let err = match component_layer::Component::new(&engine, &bytes) {
            Ok(_) => panic!("a 33-label flags type must be rejected"),
            Err(e) => e,
        };
        assert!(matches!(err.kind(), component_layer::ErrorKind::Invalid { .. }), "{err}");
    });
}
