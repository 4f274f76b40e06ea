//! Reproducible randomness: every case is a pure function of a `u64` seed.
//!
//! Generators take an [`arbitrary::Unstructured`] (so coverage-guided fuzzers can drive them with their own
//! input); [`seeded_bytes`] turns a seed into the byte stream that feeds it, with SplitMix64 — the same bytes on
//! every machine.

/// `n` bytes from SplitMix64 seeded with `seed`.
pub fn seeded_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(n);
    out
}

/// The number of bytes a seed expands to: generous enough that generation never runs dry in practice.
pub const SEED_BYTES: usize = 1 << 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_distinct() {
        assert_eq!(seeded_bytes(7, 100), seeded_bytes(7, 100));
        assert_ne!(seeded_bytes(7, 100), seeded_bytes(8, 100));
        // Known value: the stream must not change across versions, or saved seeds stop reproducing.
        assert_eq!(&seeded_bytes(0, 8), &0xe220_a839_7b1d_cdafu64.to_le_bytes());
    }
}
