//! Strings in the three encodings: `load_string_from_range` (lifting, with its length, alignment, bounds and
//! decoding traps) and the `store_string_*` algorithms (lowering a host string, whose source encoding is UTF-8,
//! with their exact `realloc` call sequences).

use crate::both;
use crate::common::*;
use component_layer::{Trap, Value};

/// The latin1+utf16 tag bit on a length: the content is UTF-16.
const TAG: u32 = 1 << 31;

/// `lift-E(ptr, len)` lifts the string `(ptr, len)` in encoding E; `probe-E(s)` lowers `s` in encoding E and
/// returns the `(ptr, tagged_len)` the guest received; `echo-E` is a string identity.
fn wat() -> String {
    let mut items = String::new();
    for (name, enc) in [("utf8", "utf8"), ("utf16", "utf16"), ("latin1", "latin1+utf16")] {
        items += &format!(
            r#"
            (func (export "lift-{name}") (param "ptr" u32) (param "len" u32) (result string)
              (canon lift (core func $i "ret2") (memory $mem) string-encoding={enc}))
            (func (export "probe-{name}") (param "s" string) (result (tuple u32 u32))
              (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc) string-encoding={enc}))
            (func (export "echo-{name}") (param "s" string) (result string)
              (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc) string-encoding={enc}))
            "#
        );
    }
    guest("", &items)
}

/// Lifts `(ptr, len)` as a string in `enc`.
fn lift<E: wasm_runtime_layer::backend::WasmEngine>(g: &mut Guest<E>, enc: &str, ptr: u32, len: u32) -> Value {
    g.call(&format!("lift-{enc}"), &[Value::U32(ptr), Value::U32(len)])
}

/// Lifting `(ptr, len)` in `enc` in a fresh instance with `data` at `ptr` must trap; returns the reason.
fn lift_trap<E: wasm_runtime_layer::backend::WasmEngine>(
    engine: &component_layer::Engine<E>,
    c: &component_layer::Component,
    data: &[u8],
    enc: &str,
    ptr: u32,
    len: u32,
) -> Trap {
    let mut g = Guest::new(engine, c);
    if !data.is_empty() {
        g.poke(ptr, data);
    }
    g.trap(&format!("lift-{enc}"), &[Value::U32(ptr), Value::U32(len)])
}

/// Lowers `x` in `enc` into a fresh instance; returns the realloc log, `(ptr, tagged_len)` and the bytes.
fn probe<E: wasm_runtime_layer::backend::WasmEngine>(
    engine: &component_layer::Engine<E>,
    c: &component_layer::Component,
    enc: &str,
    x: &str,
) -> (Vec<[u32; 4]>, (u32, u32), Vec<u8>) {
    let mut g = Guest::new(engine, c);
    let (ptr, len) = pair(g.call(&format!("probe-{enc}"), &[s(x)]));
    let log = g.log();
    let nbytes = match enc {
        "utf8" => len,
        "utf16" => 2 * len,
        _ if len & TAG != 0 => 2 * (len & !TAG),
        _ => len,
    };
    let bytes = g.peek(ptr, nbytes);
    (log, (ptr, len), bytes)
}

/// utf8: the length is in bytes; any valid UTF-8 lifts.
#[test]
fn utf8_lifts() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        g.poke(0x200, "héllo 😀".as_bytes());
        assert_eq!(lift(&mut g, "utf8", 0x200, 11), s("héllo 😀"));
        assert_eq!(lift(&mut g, "utf8", 0x203, 3), s("llo"));
        assert_eq!(lift(&mut g, "utf8", 0x200, 0), s(""));
    });
}

/// utf16: the length is in 16-bit code units (a surrogate pair is two), little-endian.
#[test]
fn utf16_lifts_length_in_code_units() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        g.poke(0x200, &utf16le("héllo"));
        g.poke(0x220, &utf16le("a😀b"));
        assert_eq!(lift(&mut g, "utf16", 0x200, 5), s("héllo"));
        assert_eq!(lift(&mut g, "utf16", 0x202, 2), s("él"));
        assert_eq!(lift(&mut g, "utf16", 0x220, 4), s("a😀b"));
        assert_eq!(lift(&mut g, "utf16", 0x220, 0), s(""));
    });
}

/// latin1+utf16: without the tag bit 1<<31 the length counts Latin-1 bytes; with it, UTF-16 code units.
#[test]
fn latin1_utf16_lifts_by_tag() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        g.poke(0x200, &[0x68, 0xe9, 0x6c, 0x6c, 0x6f, 0xff, 0x80]);
        g.poke(0x210, &utf16le("a日b"));
        g.poke(0x220, &utf16le("héllo"));
        assert_eq!(lift(&mut g, "latin1", 0x200, 5), s("héllo"));
        assert_eq!(lift(&mut g, "latin1", 0x200, 7), s("héllo\u{ff}\u{80}"));
        assert_eq!(lift(&mut g, "latin1", 0x210, 3 | TAG), s("a日b"));
        assert_eq!(lift(&mut g, "latin1", 0x220, 5 | TAG), s("héllo"));
        // The same bytes without the tag are Latin-1: 'h', NUL, 0xe9, NUL.
        assert_eq!(lift(&mut g, "latin1", 0x220, 4), s("h\0é\0"));
        assert_eq!(lift(&mut g, "latin1", 0x220, TAG), s(""));
        assert_eq!(lift(&mut g, "latin1", 0x220, 0), s(""));
    });
}

/// Invalid UTF-8 (stray continuation, overlong form, encoded surrogate, truncated sequence, > U+10FFFF)
/// traps with `InvalidString`.
#[test]
fn invalid_utf8_traps() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let cases: [&[u8]; 6] =
            [&[0xff], &[0x80], &[0xc0, 0x80], &[0xed, 0xa0, 0x80], &[0x61, 0xe6, 0x97], &[0xf4, 0x90, 0x80, 0x80]];
        for data in cases {
            let t = lift_trap(&engine, &c, data, "utf8", 0x200, data.len() as u32);
            assert_eq!(t, Trap::InvalidString, "utf8 {data:x?}");
        }
    });
}

/// Unpaired surrogates in UTF-16 content (utf16, or latin1+utf16 with the tag) trap with `InvalidString`.
#[test]
fn unpaired_surrogates_trap() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let lone_high: &[u8] = &[0x00, 0xd8, 0x61, 0x00];
        let lone_low: &[u8] = &[0x00, 0xdc];
        let half_pair: &[u8] = &[0x3d, 0xd8, 0x00, 0xde];
        assert_eq!(lift_trap(&engine, &c, lone_high, "utf16", 0x200, 2), Trap::InvalidString);
        assert_eq!(lift_trap(&engine, &c, lone_low, "utf16", 0x200, 1), Trap::InvalidString);
        // Only the first half of a valid pair is inside the string.
        assert_eq!(lift_trap(&engine, &c, half_pair, "utf16", 0x200, 1), Trap::InvalidString);
        assert_eq!(lift_trap(&engine, &c, lone_high, "latin1", 0x200, 2 | TAG), Trap::InvalidString);
        assert_eq!(lift_trap(&engine, &c, lone_low, "latin1", 0x200, 1 | TAG), Trap::InvalidString);
    });
}

/// utf16 and latin1+utf16 strings must be 2-aligned — for latin1+utf16 even when the content is Latin-1, and
/// even when the string is empty — else `Misaligned`; utf8 has no alignment.
#[test]
fn misaligned_utf16_traps() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let data = utf16le("ab");
        assert_eq!(lift_trap(&engine, &c, &data, "utf16", 0x201, 1), Trap::Misaligned);
        assert_eq!(lift_trap(&engine, &c, &[], "utf16", 0x201, 0), Trap::Misaligned);
        assert_eq!(lift_trap(&engine, &c, &data, "latin1", 0x201, 1 | TAG), Trap::Misaligned);
        assert_eq!(lift_trap(&engine, &c, b"ab", "latin1", 0x201, 2), Trap::Misaligned);
        let mut g = Guest::new(&engine, &c);
        g.poke(0x201, b"ab");
        assert_eq!(lift(&mut g, "utf8", 0x201, 2), s("ab"));
    });
}

/// `ptr + byte_length > len(memory)` traps with `OutOfBounds` (computed without 32-bit wrap-around); a string
/// ending exactly at the end of memory, or empty at the end, is fine.
#[test]
fn out_of_bounds_traps() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        g.poke(MEM - 4, &[0x78, 0x00, 0x79, 0x00]);
        assert_eq!(lift(&mut g, "utf8", MEM - 4, 4), s("x\0y\0"));
        assert_eq!(lift(&mut g, "utf16", MEM - 4, 2), s("xy"));
        assert_eq!(lift(&mut g, "latin1", MEM - 4, 2 | TAG), s("xy"));
        assert_eq!(lift(&mut g, "utf8", MEM, 0), s(""));
        assert_eq!(lift(&mut g, "utf16", MEM, 0), s(""));
        for (enc, ptr, len) in [
            ("utf8", MEM - 4, 5),
            ("utf8", MEM + 1, 0),
            ("utf8", 0xffff_ffff, 1),
            ("utf8", 0xffff_fff0, 0x20),
            ("utf16", MEM - 4, 3),
            ("utf16", MEM + 2, 0),
            ("utf16", 0xffff_fffe, 1),
            ("latin1", MEM - 4, 5),
            ("latin1", MEM - 4, 3 | TAG),
            ("latin1", 0xffff_fffe, 4),
        ] {
            let mut g = Guest::new(&engine, &c);
            assert_eq!(
                g.trap(&format!("lift-{enc}"), &[Value::U32(ptr), Value::U32(len)]),
                Trap::OutOfBounds,
                "{enc} ({ptr:#x}, {len:#x})"
            );
        }
    });
}

/// `MAX_STRING_BYTE_LENGTH`: a byte length above 2^28 - 1 traps with `TooLong` (checked first, on the byte
/// length — 2 × code units for UTF-16 — without overflow); exactly 2^28 - 1 bytes passes that check and then
/// fails the bounds check.
#[test]
fn too_long_traps() {
    both!(|engine| {
        let c = component(&engine, &wat());
        for (enc, len, want) in [
            ("utf8", 0x1000_0000, Trap::TooLong),
            ("utf8", 0xffff_ffff, Trap::TooLong),
            ("utf8", 0x0fff_ffff, Trap::OutOfBounds),
            ("utf16", 0x0800_0000, Trap::TooLong),
            ("utf16", 0x8000_0000, Trap::TooLong),
            ("utf16", 0xffff_ffff, Trap::TooLong),
            ("utf16", 0x07ff_ffff, Trap::OutOfBounds),
            ("latin1", 0x1000_0000, Trap::TooLong),
            ("latin1", 0x7fff_ffff, Trap::TooLong),
            ("latin1", 0x0fff_ffff, Trap::OutOfBounds),
            ("latin1", 0x0800_0000 | TAG, Trap::TooLong),
            ("latin1", 0xffff_ffff, Trap::TooLong),
            ("latin1", 0x07ff_ffff | TAG, Trap::OutOfBounds),
        ] {
            let mut g = Guest::new(&engine, &c);
            assert_eq!(g.trap(&format!("lift-{enc}"), &[Value::U32(0), Value::U32(len)]), want, "{enc} len {len:#x}");
        }
    });
}

/// `store_string_copy` (utf8 → utf8): one `realloc(0, 0, 1, n)`, the bytes copied; even for "".
#[test]
fn lower_into_utf8() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (log, pl, b) = probe(&engine, &c, "utf8", "abc");
        assert_eq!((log, pl, b), (vec![[0, 0, 1, 3]], (HEAP, 3), b"abc".to_vec()));
        let (log, pl, b) = probe(&engine, &c, "utf8", "héllo");
        assert_eq!((log, pl, b), (vec![[0, 0, 1, 6]], (HEAP, 6), "héllo".as_bytes().to_vec()));
        let (log, pl, b) = probe(&engine, &c, "utf8", "");
        assert_eq!((log, pl, b), (vec![[0, 0, 1, 0]], (HEAP, 0), vec![]));
    });
}

/// `store_utf8_to_utf16`: `realloc(0, 0, 2, 2n)` for the worst case (n = UTF-8 bytes), then a shrink
/// `realloc(p, 2n, 2, bytes)` when the UTF-16 text is smaller; the length is in code units.
#[test]
fn lower_into_utf16() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (log, pl, b) = probe(&engine, &c, "utf16", "abc");
        assert_eq!((log, pl, b), (vec![[0, 0, 2, 6]], (HEAP, 3), utf16le("abc")));
        let (log, pl, b) = probe(&engine, &c, "utf16", "héllo");
        assert_eq!((log, pl, b), (vec![[0, 0, 2, 12], [HEAP, 12, 2, 10]], (HEAP + 12, 5), utf16le("héllo")));
        let (log, pl, b) = probe(&engine, &c, "utf16", "a日b");
        assert_eq!((log, pl, b), (vec![[0, 0, 2, 10], [HEAP, 10, 2, 6]], (HEAP + 10, 3), utf16le("a日b")));
        let (log, pl, b) = probe(&engine, &c, "utf16", "😀");
        assert_eq!((log, pl, b), (vec![[0, 0, 2, 8], [HEAP, 8, 2, 4]], (HEAP + 8, 2), utf16le("😀")));
        let (log, pl, b) = probe(&engine, &c, "utf16", "");
        assert_eq!((log, pl, b), (vec![[0, 0, 2, 0]], (HEAP, 0), vec![]));
    });
}

/// `store_string_to_latin1_or_utf16`: `realloc(0, 0, 2, n)`; all-Latin-1 text shrinks to its byte count
/// (untagged); at the first char >= U+0100 it grows to `2n`, inflates the bytes written so far, and shrinks to
/// the UTF-16 size, with the tag bit set on the code-unit count.
#[test]
fn lower_into_latin1_utf16() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let (log, pl, b) = probe(&engine, &c, "latin1", "abc");
        assert_eq!((log, pl, b), (vec![[0, 0, 2, 3]], (HEAP, 3), b"abc".to_vec()));
        let (log, pl, b) = probe(&engine, &c, "latin1", "héllo");
        assert_eq!(
            (log, pl, b),
            (vec![[0, 0, 2, 6], [HEAP, 6, 2, 5]], (HEAP + 6, 5), vec![0x68, 0xe9, 0x6c, 0x6c, 0x6f])
        );
        let (log, pl, b) = probe(&engine, &c, "latin1", "\u{ff}");
        assert_eq!((log, pl, b), (vec![[0, 0, 2, 2], [HEAP, 2, 2, 1]], (HEAP + 2, 1), vec![0xff]));
        let (log, pl, b) = probe(&engine, &c, "latin1", "a日b");
        assert_eq!(
            (log, pl, b),
            (vec![[0, 0, 2, 5], [HEAP, 5, 2, 10], [HEAP + 6, 10, 2, 6]], (HEAP + 16, 3 | TAG), utf16le("a日b"))
        );
        // "é" was already written as one Latin-1 byte when '日' shows up, and must be inflated to UTF-16.
        let (log, pl, b) = probe(&engine, &c, "latin1", "é日");
        assert_eq!(
            (log, pl, b),
            (vec![[0, 0, 2, 5], [HEAP, 5, 2, 10], [HEAP + 6, 10, 2, 4]], (HEAP + 16, 2 | TAG), utf16le("é日"))
        );
        let (log, pl, b) = probe(&engine, &c, "latin1", "😀");
        assert_eq!(
            (log, pl, b),
            (vec![[0, 0, 2, 4], [HEAP, 4, 2, 8], [HEAP + 4, 8, 2, 4]], (HEAP + 12, 2 | TAG), utf16le("😀"))
        );
        let (log, pl, b) = probe(&engine, &c, "latin1", "");
        assert_eq!((log, pl, b), (vec![[0, 0, 2, 0]], (HEAP, 0), vec![]));
    });
}

/// Long strings round-trip through every encoding (lowered, then lifted back from the guest's copy).
#[test]
fn long_strings_round_trip() {
    both!(|engine| {
        let c = component(&engine, &wat());
        for x in ["x".repeat(5000), "日本".repeat(1500), format!("{}😀é", "ab".repeat(1000)), "\u{ff}".repeat(3000)]
        {
            for enc in ["utf8", "utf16", "latin1"] {
                let mut g = Guest::new(&engine, &c);
                assert_eq!(g.call(&format!("echo-{enc}"), &[s(&x)]), s(&x), "{enc}");
            }
        }
    });
}

/// The typed API lowers and lifts strings with the same algorithms (same realloc sequence for utf16).
#[test]
fn typed_api_strings() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::new(&engine, &c);
        let probe = g.inst.get_func("probe-utf16").unwrap().typed::<(String,), ((u32, u32),)>().unwrap();
        assert_eq!(probe.call(&mut g.store, ("héllo".to_owned(),)).unwrap(), ((HEAP + 12, 5),));
        assert_eq!(g.log(), vec![[0, 0, 2, 12], [HEAP, 12, 2, 10]]);
        let probe = g.inst.get_func("probe-latin1").unwrap().typed::<(String,), ((u32, u32),)>().unwrap();
        let (ptr, len) = probe.call(&mut g.store, ("a日b".to_owned(),)).unwrap().0;
        assert_eq!(len, 3 | TAG);
        assert_eq!(g.peek(ptr, 6), utf16le("a日b"));
        let lift16 = g.inst.get_func("lift-latin1").unwrap().typed::<(u32, u32), (String,)>().unwrap();
        assert_eq!(lift16.call(&mut g.store, (ptr, len)).unwrap().0, "a日b");
        let lift8 = g.inst.get_func("lift-utf8").unwrap().typed::<(u32, u32), (String,)>().unwrap();
        g.poke(0x200, &[0xc0, 0x80]);
        assert_eq!(lift8.call(&mut g.store, (0x200, 2)).unwrap_err().as_trap(), Some(&Trap::InvalidString));
    });
}
