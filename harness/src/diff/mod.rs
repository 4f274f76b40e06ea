//! The differ: runs every call of a generated case on each engine and compares the outcomes.
//!
//! Outcomes are compared as classes (ok / trap / invalid / link error / unsupported), values with NaN equal to
//! NaN and flags as sets, and so are the arguments each host import received. Where the case knows the right
//! answer ([`Expect`]), every engine is also checked against it, so a divergence names who is wrong. Failures
//! that are not deterministic across engines (stack exhaustion, fuel) discard the case instead of reporting it.

pub mod blame;
pub mod driver;

use component_gen::{Case, Expect};
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Failure, TrapClass};
use driver::{CallOutcome, CaseDriver};

/// A difference found in a case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Divergence {
    /// Index of the call in the case (`None`: loading the component).
    pub call: Option<usize>,
    /// What differed.
    pub what: String,
    /// Engines that disagree with the expected outcome (or with the majority when nothing is expected).
    pub wrong: Vec<String>,
    /// Each engine's outcome, as text.
    pub outcomes: Vec<(String, String)>,
    /// The expected outcome, as text, when the case knows it.
    pub expected: Option<String>,
    /// The outcome of this call that the largest group of engines agreed on (see [`outliers`]); `None` if the
    /// divergence is not in a call's outcome.
    pub agreed: Option<Result<Option<Value>, Failure>>,
    /// Whether the engines also differ in what reached the host during the call (its import calls): then only a
    /// regression that checks the host side (a `.case` file) can show the divergence.
    #[serde(default)]
    pub host_side: bool,
    /// The engines that failed, with their failure: the outcomes above are compared classes, and the engine's own
    /// message (jco's `TypeError: flags have extraneous bits set`) is what tells one known bug from another
    /// ([`crate::fuzz::known_jco`]).
    #[serde(default)]
    pub failures: Vec<(String, Failure)>,
}

/// The result of running a case.
#[derive(Clone, Debug, Default)]
pub struct CaseReport {
    /// Calls compared across all engines.
    pub calls: usize,
    /// Calls on which every engine returned and all agreed: the calls that test values, not just traps.
    pub returned: usize,
    /// Outcome classes per engine: (engine, ok, trap, other).
    pub outcomes: Vec<(String, usize, usize, usize)>,
    /// Differences found.
    pub divergences: Vec<Divergence>,
    /// Why the case was discarded, if it was.
    pub discarded: Option<String>,
    /// Calls on which the reference engine returned what it is known to return instead of the specification's
    /// expectation ([`component_gen::Deviation`]), with the reason: not divergences, but counted.
    pub known_deviations: Vec<(usize, String)>,
}

/// A short description of an outcome.
pub fn describe(o: &Result<Option<Value>, Failure>) -> String {
    match o {
        Ok(Some(v)) => format!("ok {}", crate::wave::to_wave(v)),
        Ok(None) => "ok".into(),
        Err(f) => f.key(),
    }
}

use component_layer::Value;

/// Whether two outcomes are the same: equal values, or failures that agree ([`Failure::agrees_with`]).
pub fn same_outcome(a: &Result<Option<Value>, Failure>, b: &Result<Option<Value>, Failure>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(x), Err(y)) => x.agrees_with(y),
        _ => false,
    }
}

/// Whether every outcome is the same as the next ([`same_outcome`]): how `repro` marks a call as differing, as the
/// differ would (a trap whose class an engine leaves open agrees with a classified one).
pub fn all_same(outcomes: &[&Result<Option<Value>, Failure>]) -> bool {
    outcomes.windows(2).all(|w| same_outcome(w[0], w[1]))
}

fn nondeterministic(f: &Failure) -> bool {
    f.trap_class() == Some(TrapClass::Exhausted)
}

fn class(o: &Result<Option<Value>, Failure>) -> &'static str {
    match o {
        Ok(_) => "ok",
        Err(f) => f.class(),
    }
}

/// Runs `case` on `engines` and compares.
pub fn run_case(case: &Case, engines: &mut [Box<dyn Engine>]) -> CaseReport {
    let mut report = CaseReport {
        outcomes: engines.iter().map(|e| (e.name().to_owned(), 0, 0, 0)).collect(),
        ..CaseReport::default()
    };
    // Load everywhere; a component one engine loads and another refuses is a divergence of its own.
    let names: Vec<String> = engines.iter().map(|e| e.name().to_owned()).collect();
    let mut executors = Vec::with_capacity(engines.len());
    let mut loads: Vec<Result<(), Failure>> = Vec::with_capacity(engines.len());
    for e in engines.iter_mut() {
        match CaseDriver::load(e.as_mut(), case) {
            Ok(d) => {
                executors.push(Some(d));
                loads.push(Ok(()));
            }
            Err(f) => {
                executors.push(None);
                loads.push(Err(f));
            }
        }
    }
    // An engine that is not held to run every component (jco) and says it cannot run this one sits the case out.
    let beyond: Vec<bool> = names
        .iter()
        .zip(&loads)
        .map(|(n, l)| l.as_ref().is_err_and(|f| beyond_engine(n, f)) || (is_jco(n) && host_encoding_shows(case)))
        .collect();
    if beyond.iter().any(|b| *b) {
        let kept = beyond.iter().filter(|b| !**b).count();
        if kept < 2 {
            report.discarded = Some(format!(
                "too few engines can run it: {}",
                loads.iter().find_map(|l| l.as_ref().err()).map(|f| f.to_string()).unwrap_or_default()
            ));
            return report;
        }
        let keep = |i: usize| !beyond[i];
        let names: Vec<String> = names.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, n)| n.clone()).collect();
        let outcomes = std::mem::take(&mut report.outcomes);
        report.outcomes = outcomes.into_iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, o)| o).collect();
        let loads: Vec<_> = loads.into_iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, l)| l).collect();
        let executors: Vec<_> = executors.into_iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, e)| e).collect();
        return compare_loaded(case, report, names, loads, executors);
    }
    compare_loaded(case, report, names, loads, executors)
}

/// Whether failure `f` of engine `name` says the case is beyond what the engine is held to: jco's
/// [`Failure::Unsupported`] (a component no WIT world describes, a value the harness cannot carry to JavaScript, a
/// `.wast` host jco cannot be given). For the other engines an unsupported feature is a result like any other.
pub fn beyond_engine(name: &str, f: &Failure) -> bool {
    matches!(f, Failure::Unsupported { .. }) && is_jco(name)
}

fn is_jco(name: &str) -> bool {
    crate::engine::EngineSpec::parse(name).is_ok_and(|s| s.kind == crate::engine::EngineKind::Jco)
}

/// Whether the case shows the host's own string encoding, which the specification leaves to the implementation:
/// the probe tier records the realloc calls that lower host strings, and a UTF-8 host (ours, wasmtime's) allocates
/// differently from a UTF-16 one (jco's JavaScript strings). jco sits such cases out (corpus/jco/README.md).
fn host_encoding_shows(case: &Case) -> bool {
    case.tier == component_gen::Tier::Probe && case.wit().contains("string")
}

/// Compares the engines that loaded or refused the case (see [`run_case`]).
fn compare_loaded(
    case: &Case,
    mut report: CaseReport,
    names: Vec<String>,
    loads: Vec<Result<(), Failure>>,
    executors: Vec<Option<CaseDriver<'_>>>,
) -> CaseReport {
    if loads.iter().any(|l| l.is_err()) {
        let classes: Vec<&str> = loads.iter().map(|l| l.as_ref().err().map_or("ok", |f| f.class())).collect();
        if classes.iter().any(|c| *c != classes[0]) {
            report.divergences.push(Divergence {
                call: None,
                what: "loading the component".into(),
                wrong: minority(&names, &classes),
                outcomes: names
                    .iter()
                    .zip(&loads)
                    .map(|(e, l)| (e.clone(), l.as_ref().err().map_or("loaded".into(), |f| f.to_string())))
                    .collect(),
                expected: Some("loaded".into()),
                agreed: None,
                host_side: false,
                failures: names
                    .iter()
                    .zip(&loads)
                    .filter_map(|(e, l)| l.as_ref().err().map(|f| (e.clone(), f.clone())))
                    .collect(),
            });
        } else {
            report.discarded = Some(format!(
                "no engine loads it: {}",
                loads[0].as_ref().err().map(|f| f.to_string()).unwrap_or_default()
            ));
        }
        return report;
    }
    let mut executors: Vec<CaseDriver<'_>> = executors.into_iter().flatten().collect();
    for (i, call) in case.calls.iter().enumerate() {
        crate::worker::protocol::emit(&crate::worker::protocol::Event::Call(i));
        let outs: Vec<CallOutcome> = executors.iter_mut().map(|e| e.call(i, call)).collect();
        if let Some(f) = outs.iter().filter_map(|o| o.result.as_ref().err()).find(|f| nondeterministic(f)) {
            report.discarded = Some(format!("call {i}: {f}"));
            return report;
        }
        let beyond = names.iter().zip(&outs).find_map(|(n, o)| o.result.as_ref().err().filter(|f| beyond_engine(n, f)));
        if let Some(f) = beyond {
            report.discarded = Some(format!("call {i}: {f}"));
            return report;
        }
        report.calls += 1;
        for (slot, o) in report.outcomes.iter_mut().zip(&outs) {
            match &o.result {
                Ok(_) => slot.1 += 1,
                Err(f) if f.is_trap() => slot.2 += 1,
                Err(_) => slot.3 += 1,
            }
        }
        let outs = excuse_known_deviation(i, call, &names, outs, &mut report.known_deviations);
        match compare_call(i, call, &names, &outs) {
            Some(d) => report.divergences.push(d),
            None => report.returned += usize::from(outs.iter().all(|o| o.result.is_ok())),
        }
    }
    report
}

/// The outcomes with a known deviation of the reference engine excused: where wasmtime (plain or wrapped by the
/// self-test) misses the specification's expectation but returns exactly what the case says it is known to
/// return instead, its outcome is compared as the expectation, and the call is noted in `known`. Nothing else is
/// excused: component-layer is always held to the specification.
fn excuse_known_deviation(
    i: usize,
    call: &component_gen::Call,
    names: &[String],
    mut outs: Vec<CallOutcome>,
    known: &mut Vec<(usize, String)>,
) -> Vec<CallOutcome> {
    let (Some(dev), Expect::Returns(spec)) = (&call.reference_deviation, &call.expect) else { return outs };
    for (name, o) in names.iter().zip(outs.iter_mut()) {
        let reference =
            crate::engine::EngineSpec::parse(name).is_ok_and(|s| s.kind == crate::engine::EngineKind::Wasmtime);
        if reference && o.result.as_ref().ok() == Some(&dev.returns) && dev.returns != *spec {
            o.result = Ok(spec.clone());
            known.push((i, dev.reason.clone()));
        }
    }
    outs
}

fn compare_call(i: usize, call: &component_gen::Call, names: &[String], outs: &[CallOutcome]) -> Option<Divergence> {
    compare_call_inner(i, call, names, outs).map(|mut d| {
        let best = majority(names, outs, |a, b| same_outcome(&a.result, &b.result));
        d.agreed = outs.get(best).map(|o| o.result.clone());
        d.host_side = outs.iter().any(|o| o.imports != outs[0].imports);
        d.failures = names
            .iter()
            .zip(outs)
            .filter_map(|(e, o)| o.result.as_ref().err().map(|f| (e.clone(), f.clone())))
            .collect();
        d
    })
}

/// The reference engine's name.
pub const REFERENCE: &str = "wasmtime";

fn compare_call_inner(
    i: usize,
    call: &component_gen::Call,
    names: &[String],
    outs: &[CallOutcome],
) -> Option<Divergence> {
    let outcomes = || names.iter().zip(outs).map(|(e, o)| (e.clone(), describe(&o.result))).collect();
    // Results against the expectation.
    let expected_ok = |o: &CallOutcome| match &call.expect {
        Expect::Returns(v) => o.result.as_ref().ok() == Some(v),
        Expect::Trap => o.result.as_ref().is_err_and(Failure::is_trap),
        Expect::Agree => true,
    };
    let wrong: Vec<String> = names.iter().zip(outs).filter(|(_, o)| !expected_ok(o)).map(|(e, _)| e.clone()).collect();
    if !wrong.is_empty() {
        let expected = match &call.expect {
            Expect::Returns(v) => describe(&Ok(v.clone())),
            Expect::Trap => "trap".into(),
            Expect::Agree => unreachable!("agreement has no wrong engines"),
        };
        return Some(Divergence {
            call: Some(i),
            what: format!("result of `{}`", call.export),
            wrong,
            outcomes: outcomes(),
            expected: Some(expected),
            agreed: None,
            host_side: false,
            failures: Vec::new(),
        });
    }
    // Engines against each other (values of successful calls, failure classes and trap classes).
    let same = |a: &CallOutcome, b: &CallOutcome| same_outcome(&a.result, &b.result);
    if outs.iter().any(|o| !same(o, &outs[0])) {
        let classes: Vec<&str> = outs.iter().map(|o| class(&o.result)).collect();
        return Some(Divergence {
            call: Some(i),
            what: format!("result of `{}`", call.export),
            wrong: majority_outliers(names, outs, same),
            outcomes: outcomes(),
            expected: None,
            agreed: None,
            host_side: false,
            failures: Vec::new(),
        })
        .map(|mut d| {
            if d.wrong.is_empty() {
                d.wrong = minority(names, &classes);
            }
            d
        });
    }
    // What the host imports received.
    let log_text = |o: &CallOutcome| crate::check::imports_text(&o.imports);
    if let Some(expected) = &call.expect_import_args {
        let wrong: Vec<String> = names
            .iter()
            .zip(outs)
            .filter(|(_, o)| {
                let got: Vec<&Vec<Value>> = o.imports.iter().map(|c| &c.args).collect();
                o.result.is_ok() && (got.len() != expected.len() || got.iter().zip(expected).any(|(g, x)| *g != x))
            })
            .map(|(e, _)| e.clone())
            .collect();
        if !wrong.is_empty() {
            return Some(Divergence {
                call: Some(i),
                what: format!("arguments received by the host imports of `{}`", call.export),
                wrong,
                outcomes: names.iter().zip(outs).map(|(e, o)| (e.clone(), log_text(o))).collect(),
                expected: Some(format!("{expected:?}")),
                agreed: None,
                host_side: false,
                failures: Vec::new(),
            });
        }
    } else if outs.iter().any(|o| o.imports != outs[0].imports) {
        return Some(Divergence {
            call: Some(i),
            what: format!("host import calls of `{}`", call.export),
            wrong: majority_outliers(names, outs, |a, b| a.imports == b.imports),
            outcomes: names.iter().zip(outs).map(|(e, o)| (e.clone(), log_text(o))).collect(),
            expected: None,
            agreed: None,
            host_side: false,
            failures: Vec::new(),
        });
    }
    None
}

/// The engines outside the largest group of engines that agree with each other (see [`majority`]).
pub fn outliers<T>(names: &[String], items: &[T], same: impl Fn(&T, &T) -> bool) -> Vec<String> {
    let best = majority(names, items, &same);
    names.iter().zip(items).filter(|(_, o)| !same(o, &items[best])).map(|(e, _)| e.clone()).collect()
}

/// The index of an item of the group of agreeing items backed by the most *implementations*. component-layer over
/// wasmi and over wasmtime's core engine are one implementation: when they agree against wasmtime, that is one
/// voice against another, not a majority, and the reference engine (wasmtime) wins the tie — a bug of
/// component-layer shows on both its backends, and without evidence (a case that knows the specification's answer,
/// see [`component_gen::Expect`]) the divergence is component-layer's. Among equally backed groups the reference
/// engine's wins, else the first engine's.
pub fn majority<T>(names: &[String], items: &[T], same: impl Fn(&T, &T) -> bool) -> usize {
    let reference = names.iter().position(|e| e == REFERENCE);
    let implementation = |name: &str| match crate::engine::EngineSpec::parse(name) {
        Ok(spec) if spec.kind.is_layer() => "component-layer".to_owned(),
        _ => name.to_owned(),
    };
    let support = |i: usize| {
        let mut agreeing: Vec<String> =
            names.iter().zip(items).filter(|(_, o)| same(o, &items[i])).map(|(n, _)| implementation(n)).collect();
        agreeing.sort();
        agreeing.dedup();
        agreeing.len()
    };
    (0..items.len()).max_by_key(|&i| (support(i), Some(i) == reference, std::cmp::Reverse(i))).unwrap_or(0)
}

fn majority_outliers(
    names: &[String],
    outs: &[CallOutcome],
    same: impl Fn(&CallOutcome, &CallOutcome) -> bool,
) -> Vec<String> {
    outliers(names, outs, same)
}

fn minority(names: &[String], classes: &[&str]) -> Vec<String> {
    outliers(names, classes, |a, b| a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn outcomes_are_the_same_as_the_differ_has_it() {
        // jco's `not a valid char` before it was classified: an open trap agrees with the others' invalid char.
        let open = Err(Failure::trap_of(TrapClass::Other, "TypeError: something"));
        let char_trap = Err(Failure::trap_of(TrapClass::InvalidChar, "invalid `char` bit pattern"));
        let oob = Err(Failure::trap_of(TrapClass::OutOfBounds, "out of bounds"));
        assert!(all_same(&[&open, &char_trap, &char_trap]));
        assert!(!all_same(&[&oob, &char_trap]));
        assert!(!all_same(&[&Ok(Some(Value::U8(1))), &Ok(Some(Value::U8(2)))]));
        assert!(!all_same(&[&Ok(None), &char_trap]));
    }

    #[test]
    fn component_layer_over_two_backends_is_one_voice() {
        let three = names(&["layer-wasmi", "layer-wasmtime", "wasmtime"]);
        // Both layer engines against wasmtime: component-layer's, unless a case says otherwise.
        assert_eq!(outliers(&three, &[1, 1, 2], |a, b| a == b), names(&["layer-wasmi", "layer-wasmtime"]));
        // One layer engine against the other and wasmtime: that engine.
        assert_eq!(outliers(&three, &[1, 2, 2], |a, b| a == b), names(&["layer-wasmi"]));
        assert_eq!(outliers(&three, &[2, 1, 2], |a, b| a == b), names(&["layer-wasmtime"]));
        // Three different outcomes: wasmtime is the reference.
        assert_eq!(outliers(&three, &[1, 2, 3], |a, b| a == b), names(&["layer-wasmi", "layer-wasmtime"]));
        // A self-test engine that is wrong on purpose is outvoted by the two implementations that agree.
        let faulty = names(&["layer-wasmi!flip-bool", "layer-wasmtime", "wasmtime"]);
        assert_eq!(outliers(&faulty, &[1, 2, 2], |a, b| a == b), names(&["layer-wasmi!flip-bool"]));
    }
}
