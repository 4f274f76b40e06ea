//! # component-gen
//!
//! Random component-model test cases — types, components that really compute, and values — reproducible from a
//! `u64` seed. Their output is the raw material of the differential fuzzer in `component-harness`.
//!
//! * [`ty`] — the type model (every synchronous value type, named and anonymous) with budgets, WIT rendering and
//!   the canonical-ABI layout;
//! * [`values`] — edge-biased values, and the host-side mirror of the transform guests;
//! * [`guest`] — core wasm of the guests (a logging bump `realloc`, at the edges of memory when asked;
//!   forwarding, transforming, probing, lifting and tracing bodies), emitted with wasm-encoder;
//! * [`encode`] — components around the guests, single or composed;
//! * [`image`] — memory images of values, and their corruptions;
//! * [`world`] — components from WIT worlds with wit-component: wit-smith worlds, their types in the model,
//!   dummy and wasm-smith core modules;
//! * [`resource`] — the resource tier: a guest with its own and a host resource, and a model of the handle
//!   table that predicts every call of a random script;
//! * [`asynchronous`] — the async tier's guests: callback-lifted exports forwarding through async lowers;
//! * [`streams`] — the stream tier's guests: values through streams and futures between two component
//!   instances, in chunks, with cancellation;
//! * [`backpressure`] — the backpressure tier's guests: concurrent calls into a component that admits one task
//!   at a time, with cancellation of a call that waits to start;
//! * [`trace`] — the `realloc` calls the spec makes lowering values into a component (transcoding strings
//!   between encodings), replayed against the guests' allocator;
//! * [`case`] — tiers of cases with their call scripts and expected outcomes.
//!
//! ```
//! use component_gen::{generate_case, Tier};
//! let a = generate_case(42, Tier::Echo);
//! let b = generate_case(42, Tier::Echo);
//! assert_eq!(a.component, b.component);
//! ```

pub mod asynchronous;
pub mod backpressure;
pub mod case;
pub mod coverage;
pub mod encode;
pub mod guest;
pub mod image;
pub mod resource;
pub mod rng;
pub mod standalone;
pub mod streams;
pub mod trace;
pub mod ty;
pub mod values;
pub mod wave;
pub mod world;

pub use case::{Call, Case, CaseConfig, Deviation, Expect, HostBehaviour, HostImport, Tier};

/// Generates the case of `tier` for `seed` with the default configuration.
pub fn generate_case(seed: u64, tier: Tier) -> Case {
    generate_case_with(seed, tier, &CaseConfig::default())
}

/// Generates the case of `tier` for `seed`.
pub fn generate_case_with(seed: u64, tier: Tier, config: &CaseConfig) -> Case {
    let bytes = rng::seeded_bytes(seed ^ (tier as u64).wrapping_mul(0x9e37_79b9), rng::SEED_BYTES);
    let mut u = arbitrary::Unstructured::new(&bytes);
    // Generation only fails when the input runs out, which a 64 KiB stream never does for the default budgets;
    // fall back to a fresh stream rather than panic.
    match case::generate(&mut u, seed, tier, config) {
        Ok(c) => c,
        Err(_) => {
            let bytes = rng::seeded_bytes(seed.rotate_left(17), rng::SEED_BYTES * 4);
            let mut u = arbitrary::Unstructured::new(&bytes);
            case::generate(&mut u, seed, tier, config).unwrap_or_else(|_| {
                case::generate(&mut arbitrary::Unstructured::new(&[]), seed, tier, config)
                    .expect("empty input generates a minimal case")
            })
        }
    }
}

/// What the async tiers' tests share.
#[cfg(test)]
pub(crate) mod async_tests {
    use crate::case::{Case, Tier};

    /// The notes of seeds 0..24 of `tier`, whose components must validate with the async ABI and whose calls must
    /// each expect their argument back; `check` looks at each case too.
    pub fn echo_cases_notes(tier: Tier, check: impl Fn(u64, &Case)) -> String {
        let mut notes = String::new();
        for seed in 0..24 {
            let case = crate::generate_case(seed, tier);
            let mut features = wasmparser::WasmFeatures::default();
            features.insert(wasmparser::WasmFeatures::CM_ASYNC);
            wasmparser::Validator::new_with_features(features)
                .validate_all(&case.component)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", case.wit()));
            for call in &case.calls {
                assert_eq!(call.expect, crate::Expect::Returns(Some(call.args[0].clone())), "seed {seed}");
            }
            check(seed, &case);
            notes.push_str(&case.note);
        }
        notes
    }
}
