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
                assert_eq!(
                    case.component,
                    generate_case(seed, tier).component,
                    "{tier} seed {seed} is not reproducible"
                );
            }
        }
        assert!(failures.is_empty(), "{} invalid components, first:\n{}", failures.len(), failures[0]);
    }
}

#[test]
fn structure_cases_call_every_export_they_can() {
    let (mut fallbacks, mut calls, mut nested) = (0, 0, 0);
    let n = seeds().min(500);
    for seed in 0..n {
        let case = generate_case(seed, Tier::Structure);
        assert!(case.stub_imports, "structure seed {seed} must stub its imports");
        assert!(case.wit_source.is_some());
        fallbacks += u64::from(case.note.contains("fallback"));
        for call in &case.calls {
            assert_eq!(call.expect, component_gen::Expect::Trap, "structure seed {seed}: dummy bodies trap");
            let sig = &case.exports.iter().find(|(n, _)| *n == call.export).expect("calls name exports").1;
            assert_eq!(call.args.len(), sig.params.len());
            assert!(
                !sig.params.iter().any(|(_, t)| case.set.contains_resource(t)),
                "structure seed {seed}: no handles yet"
            );
            nested += u64::from(component_gen::case::export_path(&call.export).len() > 1);
        }
        calls += case.calls.len() as u64;
        // Every export that can be called is called at least once.
        for (name, sig) in &case.exports {
            if !sig.params.iter().any(|(_, t)| case.set.contains_resource(t)) {
                assert!(
                    case.calls.iter().any(|c| c.export == *name),
                    "structure seed {seed}: `{name}` is never called"
                );
            }
        }
    }
    assert!(fallbacks * 20 < n, "{fallbacks} of {n} structure cases fell back to the trivial world");
    assert!(calls > n && nested > 0, "structure cases make {calls} calls, {nested} into exported interfaces");
}

#[test]
fn compute_cases_answer_their_imports_with_hashes() {
    for seed in 0..seeds().min(500) {
        let case = generate_case(seed, Tier::Compute);
        assert!(!case.stub_imports);
        assert!((1..=4).contains(&case.exports.len()) && case.imports.len() <= 3);
        assert!(!case.note.contains("failed"), "compute seed {seed}: {}", case.note);
        for imp in &case.imports {
            assert_eq!(imp.behaviour, component_gen::HostBehaviour::Hash);
        }
        for call in &case.calls {
            assert_eq!(call.expect, component_gen::Expect::Agree);
        }
    }
}
