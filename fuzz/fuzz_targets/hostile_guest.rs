//! Hostile guests: the fault tier (memory images with a corrupted site, misbehaving `realloc`s), plus images the
//! fuzzer corrupts further, lifted by every engine.
//!
//! Input: byte 0 holds flags (bit 0: start from the `lift` tier, whose images are valid, instead of `fault`);
//! bytes 1..9 are the seed (little-endian, zero-padded); the remaining bytes, if any, are a stream of image mutations, applied call by call
//! (byte flips, byte stores, and 32-bit stores of edge values such as lengths, pointers and discriminants). A
//! call whose image was mutated has no known answer, so the engines are only compared with each other.
//!
//! The layer executors must never panic (traps and errors are expected), and every engine must agree with
//! wasmtime's native component support: a divergence crashes, as in `differential`.

#![no_main]

use arbitrary::{Result, Unstructured};
use component_gen::{Expect, Tier};
use component_layer::{List, Value};
use component_layer_fuzz::{diff_or_panic, take_byte, take_seed, Origin};
use libfuzzer_sys::fuzz_target;

/// 32-bit values worth storing into an image: small, boundary, and huge lengths, pointers and discriminants.
const EDGES: [u32; 12] = [0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff];

fn mutate(u: &mut Unstructured<'_>, img: &mut [u8]) -> Result<bool> {
    if img.is_empty() || u.is_empty() || !u.arbitrary::<bool>()? {
        return Ok(false);
    }
    let ops = u.int_in_range(1..=4)?;
    for _ in 0..ops {
        let at = u.choose_index(img.len())?;
        match u.int_in_range(0..=2)? {
            0 => img[at] ^= 1 << u.int_in_range(0..=7)?,
            1 => img[at] = u.arbitrary()?,
            _ => {
                let v = *u.choose(&EDGES)?;
                let at = at & !3;
                for (i, b) in v.to_le_bytes().into_iter().enumerate() {
                    if let Some(slot) = img.get_mut(at + i) {
                        *slot = b;
                    }
                }
            }
        }
    }
    Ok(true)
}

fuzz_target!(|data: &[u8]| {
    let (flags, rest) = take_byte(data);
    let (seed, rest) = take_seed(rest);
    let tier = if flags & 1 != 0 { Tier::Lift } else { Tier::Fault };
    let mut case = component_gen::generate_case(seed, tier);
    let mut u = Unstructured::new(rest);
    let mut mutated = false;
    for call in &mut case.calls {
        // The first argument of `l` is the image (`list<u8>`).
        let Some(Value::List(List::U8(img))) = call.args.first_mut() else { continue };
        if mutate(&mut u, img).unwrap_or(false) {
            call.expect = Expect::Agree;
            mutated = true;
        }
    }
    if mutated {
        case.note.push_str(", images mutated by the fuzzer");
    }
    diff_or_panic("hostile_guest", &case, if mutated { Origin::Input } else { Origin::Seed });
});
