//! Differential fuzzing of the three engines on generated cases, under libFuzzer.
//!
//! Input: byte 0 selects the tier (low 7 bits modulo the number of tiers, see `Tier::ALL`); bytes 1..9 are the
//! seed (little-endian, zero-padded). The tier comes first so that the short inputs libFuzzer starts with already
//! cover every tier. If byte 0 has its high bit set and more bytes follow the seed, those bytes drive the
//! generator directly (`component_gen::case::generate`), so libFuzzer's mutations steer the types, values and
//! calls; otherwise the case is `component_gen::generate_case(seed, tier)`, exactly what
//! `component-harness fuzz`/`repro` generate for that seed.
//!
//! Crashes only on a real divergence (as `component-harness fuzz` reports one), or on a panic anywhere.

#![no_main]

use component_gen::CaseConfig;
use component_layer_fuzz::{diff_or_panic, take_byte, take_seed, tier_of, Origin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (selector, rest) = take_byte(data);
    let (seed, rest) = take_seed(rest);
    let tier = tier_of(selector);
    if selector & 0x80 != 0 && !rest.is_empty() {
        let mut u = arbitrary::Unstructured::new(rest);
        // Running out of input is not interesting; the seeded mode covers complete cases.
        let Ok(case) = component_gen::case::generate(&mut u, seed, tier, &CaseConfig::default()) else { return };
        diff_or_panic("differential", &case, Origin::Input);
    } else {
        let case = component_gen::generate_case(seed, tier);
        diff_or_panic("differential", &case, Origin::Seed);
    }
});
