//! The generators' models of the specification, held against wasmtime 48 through the harness's own engine layer
//! (the `wasmtime` engine and the fuzzer's [`CaseDriver`]), so that no test keeps an executor of its own:
//!
//! * `model/resource::wasmtime` — resource cases predict every result, trap and host call exactly (handle
//!   tables, borrow scopes, destructors, host-held resources and the corruptions the tier puts in);
//! * `model/compose-traces::wasmtime` — compose "trace cases" predict the callee's exact realloc trace from
//!   `definitions.py`; wasmtime returns exactly that, or exactly the recorded deviation where it has one, and
//!   the deviation differs from the specification only in the documented alignment.

use component_gen::{generate_case, generate_case_with, CaseConfig, Expect, Tier};
use component_harness::diff::driver::{CallOutcome, CaseDriver};
use component_harness::engine::EngineKind;
use component_layer::Value;

/// What each call's host imports received, as the cases predict it: the arguments of each import call.
fn import_args(o: &CallOutcome) -> Vec<Vec<Value>> {
    o.imports.iter().map(|c| c.args.clone()).collect()
}

/// Resource cases on wasmtime do exactly what the tier's model predicts, and the tier covers what it claims.
pub fn resource_cases(seeds: u64) -> Result<String, String> {
    let mut engine = EngineKind::Wasmtime.open();
    let (mut calls, mut traps) = (0u32, 0u32);
    let mut faults = std::collections::BTreeMap::<&str, u32>::new();
    let mut held_ops = std::collections::BTreeMap::<&str, u32>::from([
        ("make-r", 0),
        ("take-r", 0),
        ("peek-r", 0),
        (component_gen::case::HOST_DROP, 0),
    ]);
    let mut held_args = 0;
    for seed in 0..seeds {
        let case = generate_case(seed, Tier::Resource);
        for f in component_gen::resource::FAULTS {
            *faults.entry(f).or_default() += u32::from(case.note.contains(f));
        }
        let mut driver =
            CaseDriver::load(engine.as_mut(), &case).map_err(|e| format!("resource seed {seed}: load: {e}"))?;
        for (i, call) in case.calls.iter().enumerate() {
            let out = driver.call(i, call);
            let at = format!("resource seed {seed} call {i} {}({:?})", call.export, call.args);
            match &call.expect {
                Expect::Returns(v) if out.result.as_ref().ok() != Some(v) => {
                    return Err(format!("{at}: expected {v:?}, got {:?}", out.result))
                }
                Expect::Returns(_) => {}
                Expect::Trap if out.result.is_ok() => {
                    return Err(format!("{at}: expected a trap, got {:?}", out.result))
                }
                Expect::Trap => traps += 1,
                Expect::Agree => return Err(format!("{at}: resource calls have exact expectations")),
            }
            if let Some(expected) = &call.expect_import_args {
                let got = import_args(&out);
                if &got != expected {
                    return Err(format!("{at}: host calls {got:?}, expected {expected:?}"));
                }
            }
            calls += 1;
            if let Some(n) = held_ops.get_mut(call.export.as_str()) {
                *n += 1;
            }
            held_args += call.held.len();
        }
    }
    if calls <= 500 || traps <= 50 {
        return Err(format!("too little ran: {calls} calls, {traps} traps"));
    }
    if faults.values().any(|n| *n == 0) {
        return Err(format!("every fault kind must occur: {faults:?}"));
    }
    if held_ops.values().any(|n| *n <= 10) || held_args <= 20 {
        return Err(format!("host-held `r` too rare: {held_ops:?}, {held_args} passed"));
    }
    Ok(format!("{calls} calls, {traps} traps"))
}

/// The words of a `list<u32>` value.
fn words(v: &Value) -> Result<Vec<u32>, String> {
    match v {
        Value::List(l) => {
            l.iter().map(|w| if let Value::U32(w) = w { Ok(w) } else { Err(format!("{w:?} is no u32")) }).collect()
        }
        other => Err(format!("{other:?} is no list")),
    }
}

/// A trace call's spec expectation and wasmtime 48's known deviation differ in nothing but the alignment of the
/// Latin-1 shrinks of `store_probably_utf16_to_latin1_or_utf16` in the caller's log (`[p, 2n, 1, n]` right after
/// `[0, 0, 2, 2n]`, which wasmtime makes `[p, 2n, 2, n]`), of a function from `latin1+utf16` to `latin1+utf16`.
fn check_deviation_shape(case: &component_gen::Case, call: &component_gen::Call, at: &str) -> Result<(), String> {
    let deviation = call.reference_deviation.as_ref().ok_or(format!("{at}: no deviation"))?;
    if deviation.reason != component_gen::trace::WASMTIME_48_DEVIATION {
        return Err(format!("{at}: deviation for another reason: {}", deviation.reason));
    }
    let (Expect::Returns(Some(Value::Tuple(spec))), Some(Value::Tuple(wasmtime))) = (&call.expect, &deviation.returns)
    else {
        return Err(format!("{at}: trace results are triples"));
    };
    if spec.len() != 3 || wasmtime.len() != 3 || spec[..2] != wasmtime[..2] {
        return Err(format!("{at}: the result and the callee's log must be the spec's"));
    }
    let (spec, wasmtime) = (words(&spec[2])?, words(&wasmtime[2])?);
    if spec.len() != wasmtime.len() {
        return Err(format!("{at}: the caller's logs must have as many entries"));
    }
    let differ: Vec<usize> = (0..spec.len()).filter(|&i| spec[i] != wasmtime[i]).collect();
    if differ.is_empty() {
        return Err(format!("{at}: a deviation that is none"));
    }
    for i in differ {
        if i < 6 || i + 2 > spec.len() || i % 4 != 2 || spec[i] != 1 || wasmtime[i] != 2 {
            return Err(format!("{at}: word {i} is no alignment 1 → 2"));
        }
        let entry = &spec[i - 2..i + 2];
        if entry[1] != 2 * entry[3] {
            return Err(format!("{at}: entry {entry:?} does not shrink 2n bytes to n"));
        }
        if spec[i - 6..i - 2] != [0, 0, 2, entry[1]] {
            return Err(format!("{at}: entry {entry:?} does not follow a UTF-16 allocation"));
        }
    }
    let k = call.export.strip_prefix('e').ok_or(format!("{at}: trace exports are e{{k}}"))?;
    if !case.note.contains(&format!("e{k} latin1+utf16->latin1+utf16")) {
        return Err(format!("{at}: not a latin1+utf16 pair: {}", case.note));
    }
    Ok(())
}

/// Compose trace cases on wasmtime 48: a call returns exactly its spec expectation where it has no
/// `reference_deviation`, and exactly the deviation where it has one. Runs every case with a deviation, and the
/// first trace cases of each configuration as controls.
pub fn compose_traces(seeds: u64) -> Result<String, String> {
    const CONTROLS: usize = 10;
    let mut engine = EngineKind::Wasmtime.open();
    let fuzz = CaseConfig { calls: Some(48), ..CaseConfig::default() };
    let mut summary = Vec::new();
    for (name, config) in [("default", CaseConfig::default()), ("48 calls", fuzz)] {
        let (mut traces, mut deviating_seeds, mut deviating_calls, mut run) = (0, Vec::new(), 0, 0);
        for seed in 0..seeds {
            let case = generate_case_with(seed, Tier::Compose, &config);
            let deviating = case.calls.iter().filter(|c| c.reference_deviation.is_some()).count();
            if !case.note.contains("; trace [") {
                if deviating != 0 {
                    return Err(format!("{name} compose seed {seed}: forwarding cases expect no trace"));
                }
                continue;
            }
            traces += 1;
            if deviating > 0 {
                deviating_seeds.push(seed);
                deviating_calls += deviating;
            } else if traces > CONTROLS {
                continue;
            }
            run += 1;
            let mut driver =
                CaseDriver::load(engine.as_mut(), &case).map_err(|e| format!("{name} compose seed {seed}: {e}"))?;
            for (i, call) in case.calls.iter().enumerate() {
                let at = format!("{name} compose seed {seed} call {i} ({})", call.export);
                let Expect::Returns(spec) = &call.expect else {
                    return Err(format!("{at}: trace calls expect values"));
                };
                let want = match &call.reference_deviation {
                    Some(d) => {
                        check_deviation_shape(&case, call, &at)?;
                        &d.returns
                    }
                    None => spec,
                };
                let out = driver.call(i, call);
                if out.result.as_ref().ok() != Some(want) {
                    return Err(format!("{at}: expected {want:?}, got {:?}", out.result));
                }
                if Some(&import_args(&out)) != call.expect_import_args.as_ref() {
                    return Err(format!("{at}: host calls {:?}", import_args(&out)));
                }
            }
        }
        if deviating_seeds.is_empty() || deviating_calls <= deviating_seeds.len() || run <= CONTROLS {
            return Err(format!(
                "{name}: {deviating_calls} deviating calls in seeds {deviating_seeds:?} of {traces} trace cases, {run} run"
            ));
        }
        summary.push(format!("{name}: {run} cases run, {deviating_calls} deviating calls"));
    }
    Ok(summary.join("; "))
}
