//! Properties of generated cases: they validate, they reproduce bit for bit, and their WIT renders.

use component_gen::{generate_case, Tier};

fn validate(bytes: &[u8]) -> Result<(), String> {
    let features = component_layer::default_features();
    wasmparser::Validator::new_with_features(features).validate_all(bytes).map(|_| ()).map_err(|e| e.to_string())
}

fn seeds() -> u64 {
    std::env::var("GEN_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000)
}

#[test]
fn every_tier_validates_and_reproduces() {
    for tier in Tier::ALL {
        let mut failures = Vec::new();
        for seed in 0..seeds() {
            let case = generate_case(seed, tier);
            if let Err(e) = validate(&case.component) {
                failures.push(format!("{tier} seed {seed}: {e}\n{}", case.wit()));
            }
            if seed % 50 == 0 {
                assert_eq!(case.component, generate_case(seed, tier).component, "{tier} seed {seed} is not reproducible");
            }
        }
        assert!(failures.is_empty(), "{} invalid components, first:\n{}", failures.len(), failures[0]);
    }
}
