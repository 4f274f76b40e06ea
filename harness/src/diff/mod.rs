//! The differ: runs every call of a generated case on each engine and compares the outcomes.
//!
//! Outcomes are compared as classes (ok / trap / invalid / link error / unsupported), values with NaN equal to
//! NaN and flags as sets, and so are the arguments each host import received. Where the case knows the right
//! answer ([`Expect`]), every engine is also checked against it, so a divergence names who is wrong. Failures
//! that are not deterministic across engines (stack exhaustion, fuel) discard the case instead of reporting it.

pub mod blame;
pub mod exec;

use component_gen::{Case, Expect};
use serde::Serialize;

use crate::engines::Failure;
use exec::{CallOutcome, Executor};

/// A difference found in a case.
#[derive(Clone, Debug, Serialize)]
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
    /// The reference engine's (wasmtime's) outcome of this call: `Some(Ok(v))` if it returned `v`,
    /// `Some(Err(()))` if it failed, `None` if it did not run.
    #[serde(skip)]
    pub reference: Option<Result<Option<Value>, ()>>,
}

/// The result of running a case.
#[derive(Clone, Debug, Default)]
pub struct CaseReport {
    /// Calls compared across all engines.
    pub calls: usize,
    /// Outcome classes per engine: (engine, ok, trap, other).
    pub outcomes: Vec<(String, usize, usize, usize)>,
    /// Differences found.
    pub divergences: Vec<Divergence>,
    /// Why the case was discarded, if it was.
    pub discarded: Option<String>,
}

/// A short description of an outcome.
pub fn describe(o: &Result<Option<Value>, Failure>) -> String {
    match o {
        Ok(Some(v)) => format!("ok {}", crate::wave::to_wave(v)),
        Ok(None) => "ok".into(),
        Err(f) => f.class().to_owned(),
    }
}

use component_layer::Value;

fn nondeterministic(f: &Failure) -> bool {
    let m = f.message();
    m.contains("call stack exhausted")
        || m.contains("stack overflow")
        || m.contains("out of fuel")
        || m.contains("all fuel consumed")
}

fn class(o: &Result<Option<Value>, Failure>) -> &'static str {
    match o {
        Ok(_) => "ok",
        Err(f) => f.class(),
    }
}

/// Runs `case` on `executors` and compares.
pub fn run_case(case: &Case, executors: &mut [Box<dyn Executor>]) -> CaseReport {
    let mut report = CaseReport {
        outcomes: executors.iter().map(|e| (e.name().to_owned(), 0, 0, 0)).collect(),
        ..CaseReport::default()
    };
    // Load everywhere; a component one engine loads and another refuses is a divergence of its own.
    let loads: Vec<Result<(), Failure>> = executors.iter_mut().map(|e| e.load(case)).collect();
    if loads.iter().any(|l| l.is_err()) {
        let classes: Vec<&str> = loads.iter().map(|l| l.as_ref().err().map_or("ok", |f| f.class())).collect();
        if classes.iter().any(|c| *c != classes[0]) {
            report.divergences.push(Divergence {
                call: None,
                what: "loading the component".into(),
                wrong: minority(executors, &classes),
                outcomes: executors
                    .iter()
                    .zip(&loads)
                    .map(|(e, l)| (e.name().to_owned(), l.as_ref().err().map_or("loaded".into(), |f| f.to_string())))
                    .collect(),
                expected: Some("loaded".into()),
                reference: None,
            });
        } else {
            report.discarded = Some(format!(
                "no engine loads it: {}",
                loads[0].as_ref().err().map(|f| f.to_string()).unwrap_or_default()
            ));
        }
        return report;
    }
    for (i, call) in case.calls.iter().enumerate() {
        let outs: Vec<CallOutcome> = executors.iter_mut().map(|e| e.call(i, call)).collect();
        if let Some(f) = outs.iter().filter_map(|o| o.result.as_ref().err()).find(|f| nondeterministic(f)) {
            report.discarded = Some(format!("call {i}: {f}"));
            return report;
        }
        report.calls += 1;
        for (slot, o) in report.outcomes.iter_mut().zip(&outs) {
            match &o.result {
                Ok(_) => slot.1 += 1,
                Err(Failure::Trap(_)) => slot.2 += 1,
                Err(_) => slot.3 += 1,
            }
        }
        if let Some(d) = compare_call(i, call, executors, &outs) {
            report.divergences.push(d);
        }
    }
    report
}

fn compare_call(
    i: usize,
    call: &component_gen::Call,
    executors: &[Box<dyn Executor>],
    outs: &[CallOutcome],
) -> Option<Divergence> {
    compare_call_inner(i, call, executors, outs).map(|mut d| {
        d.reference = executors
            .iter()
            .zip(outs)
            .find(|(e, _)| e.name() == "wasmtime")
            .map(|(_, o)| o.result.clone().map_err(|_| ()));
        d
    })
}

fn compare_call_inner(
    i: usize,
    call: &component_gen::Call,
    executors: &[Box<dyn Executor>],
    outs: &[CallOutcome],
) -> Option<Divergence> {
    let outcomes = || executors.iter().zip(outs).map(|(e, o)| (e.name().to_owned(), describe(&o.result))).collect();
    // Results against the expectation.
    let expected_ok = |o: &CallOutcome| match &call.expect {
        Expect::Returns(v) => o.result.as_ref().ok() == Some(v),
        Expect::Trap => matches!(o.result, Err(Failure::Trap(_))),
        Expect::Agree => true,
    };
    let wrong: Vec<String> =
        executors.iter().zip(outs).filter(|(_, o)| !expected_ok(o)).map(|(e, _)| e.name().to_owned()).collect();
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
            reference: None,
        });
    }
    // Engines against each other (classes, and values of successful calls).
    let same = |a: &CallOutcome, b: &CallOutcome| match (&a.result, &b.result) {
        (Ok(x), Ok(y)) => x == y,
        (x, y) => class(x) == class(y),
    };
    if outs.iter().any(|o| !same(o, &outs[0])) {
        let classes: Vec<&str> = outs.iter().map(|o| class(&o.result)).collect();
        return Some(Divergence {
            call: Some(i),
            what: format!("result of `{}`", call.export),
            wrong: majority_outliers(executors, outs, same),
            outcomes: outcomes(),
            expected: None,
            reference: None,
        })
        .map(|mut d| {
            if d.wrong.is_empty() {
                d.wrong = minority(executors, &classes);
            }
            d
        });
    }
    // What the host imports received.
    if let Some(expected) = &call.expect_import_args {
        for (e, o) in executors.iter().zip(outs) {
            if o.result.is_ok() {
                let got: Vec<&Vec<Value>> = o.imports.iter().map(|(_, a)| a).collect();
                if got.len() != expected.len() || got.iter().zip(expected).any(|(g, x)| *g != x) {
                    return Some(Divergence {
                        call: Some(i),
                        what: format!("arguments received by the host imports of `{}`", call.export),
                        wrong: vec![e.name().to_owned()],
                        outcomes: executors
                            .iter()
                            .zip(outs)
                            .map(|(e, o)| (e.name().to_owned(), format!("{:?}", o.imports)))
                            .collect(),
                        expected: Some(format!("{expected:?}")),
                        reference: None,
                    });
                }
            }
        }
    } else if outs.iter().any(|o| o.imports != outs[0].imports) {
        return Some(Divergence {
            call: Some(i),
            what: format!("host import calls of `{}`", call.export),
            wrong: majority_outliers(executors, outs, |a, b| a.imports == b.imports),
            outcomes: executors
                .iter()
                .zip(outs)
                .map(|(e, o)| (e.name().to_owned(), format!("{:?}", o.imports)))
                .collect(),
            expected: None,
            reference: None,
        });
    }
    None
}

/// Engines whose outcome differs from the reference engine (`wasmtime`) when it is present, else from the first.
fn majority_outliers(
    executors: &[Box<dyn Executor>],
    outs: &[CallOutcome],
    same: impl Fn(&CallOutcome, &CallOutcome) -> bool,
) -> Vec<String> {
    let reference = executors.iter().position(|e| e.name() == "wasmtime").unwrap_or(0);
    executors.iter().zip(outs).filter(|(_, o)| !same(o, &outs[reference])).map(|(e, _)| e.name().to_owned()).collect()
}

fn minority(executors: &[Box<dyn Executor>], classes: &[&str]) -> Vec<String> {
    let reference = executors.iter().position(|e| e.name() == "wasmtime").unwrap_or(0);
    executors.iter().zip(classes).filter(|(_, c)| **c != classes[reference]).map(|(e, _)| e.name().to_owned()).collect()
}
