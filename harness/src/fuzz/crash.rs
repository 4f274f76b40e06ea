//! A worker that died is a finding: confirm it, shrink it, write it.
//!
//! The supervisor knows the case (seed and tier), the call and the engine the worker was running when it died,
//! and how it died ([`Death`]). It then works with fresh, single-use workers, so the crash can happen again
//! without harm:
//!
//! 1. **confirm**: the case on the crashing engine alone, cut to the call that crashed (as [`super::shrink::only`]
//!    cuts it), then whole; the crash must happen again the same way;
//! 2. **shrink**: the case regenerated from its seed with smaller budgets ([`super::shrink::BUDGETS`]), again cut
//!    to the call that crashed, kept while the engine still dies the same way (a hang, which costs a full time
//!    limit per attempt, is only cut to its call);
//! 3. **write**: the other engines run the shrunk case (in a worker too) and what the largest group of them
//!    agrees each call does becomes the regression's assertions; the header says who died, how, where, and how to
//!    re-run it.
//!
//! A crash of a layer engine is component-layer's unless the panic happened inside the core engine's own code.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::regress::{self, ExpectedCall};
use super::{CaseRef, Finding, FuzzOptions};
use crate::diff::blame::{Blame, Suspect};
use crate::diff::Divergence;
use crate::engine::EngineSpec;
use crate::worker::protocol::{Death, Job, JobResult};
use crate::worker::supervisor::{run_once, DeathReport, PoolConfig, Reply};

/// How an engine crashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crash {
    /// The engine that died.
    pub engine: String,
    /// How.
    pub death: Death,
    /// The line of its stderr that says why (a panic's message, the failed allocation, …).
    pub reason: String,
    /// The operation it died in.
    pub op: String,
    /// The call of the (shrunk) case it died in.
    pub call: Option<usize>,
    /// Whether the crash happened again with the engine alone in a fresh worker.
    pub confirmed: bool,
    /// Whether the worker had found a divergence in this case before it died (it died shrinking it).
    pub while_shrinking: bool,
    /// Other engines that died on the shrunk case too: a runtime bug kills component-layer over every backend.
    #[serde(default)]
    pub also_died: Vec<OtherDeath>,
}

/// Another engine that died on a crash's case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherDeath {
    /// The engine.
    pub engine: String,
    /// How it died, and why (its stderr's reason).
    pub how: String,
}

impl std::fmt::Display for OtherDeath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.engine, self.how)
    }
}

/// Turns the death of a worker fuzzing `case` into a finding.
pub fn investigate(
    case: &CaseRef,
    options: &FuzzOptions,
    pool: &PoolConfig,
    death: &DeathReport,
    found_after: f64,
) -> Finding {
    let start = Instant::now();
    let engine = death.step.as_ref().map(|s| s.engine.clone()).unwrap_or_else(|| "?".into());
    let spec = options.engines.iter().find(|e| e.name() == engine).cloned();
    let mut crash = Crash {
        engine: engine.clone(),
        death: death.death.clone(),
        reason: death.reason(),
        op: death.step.as_ref().map_or_else(|| "?".into(), |s| s.op.clone()),
        call: death.call,
        confirmed: false,
        while_shrinking: death.notes.iter().any(|n| n.starts_with("divergence")),
        also_died: Vec::new(),
    };
    let mut best = *case;
    let mut unwritten = None;
    match &spec {
        None => unwritten = Some(format!("the worker died outside any engine ({})", crash.reason)),
        Some(spec) => {
            let death = crash.death.clone();
            let dies = |r: &CaseRef| dies_alone(pool, r, spec, &death);
            let candidates = [CaseRef { only: crash.call, ..*case }, *case];
            match candidates.iter().find_map(|r| dies(r).map(|d| (*r, d))) {
                None => {
                    unwritten = Some(format!("the crash did not happen again with {engine} alone in a fresh worker"))
                }
                Some((r, d)) => {
                    crash.confirmed = true;
                    best = r;
                    note(&mut crash, &d);
                    // Each attempt on an engine that hangs costs a full time limit: the cut to the call is enough.
                    let budgets = if crash.death == Death::Hang { 0 } else { super::shrink::BUDGETS.len() };
                    for b in 0..budgets {
                        let whole = CaseRef { budget: Some(b), only: None, ..*case };
                        let Some(d) = dies(&whole) else { continue };
                        best = whole;
                        note(&mut crash, &d);
                        let cut = CaseRef { only: d.call, ..whole };
                        if let Some(d) = dies(&cut) {
                            best = cut;
                            note(&mut crash, &d);
                        }
                    }
                }
            }
        }
    }
    let built = best.build();
    let others: Vec<EngineSpec> = options.engines.iter().filter(|e| e.name() != engine).cloned().collect();
    let expected = others_agree(pool, &best, &others, built.calls.len(), &mut crash.also_died);
    let (file, why) = match (&options.regressions, &expected, crash.confirmed) {
        (None, _, _) => (None, None),
        (Some(_), _, false) => (None, unwritten.clone()),
        (Some(_), Err(e), true) => (None, Some(e.clone())),
        (Some(dir), Ok(expected), true) => {
            let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                regress::write_crash(dir, &built, &crash, expected)
            }));
            match written {
                Ok(Ok(f)) => (Some(f), None),
                Ok(Err(e)) => (None, Some(format!("{e:#}"))),
                Err(p) => (None, Some(format!("the regression writer panicked: {}", super::panic_message(&*p)))),
            }
        }
    };
    let names: Vec<String> = options.engines.iter().map(EngineSpec::name).collect();
    let mut outcomes = vec![(engine.clone(), format!("died: {} ({})", crash.death.name(), crash.reason))];
    let dead: Vec<String> = crash.also_died.iter().map(|d| d.engine.clone()).collect();
    outcomes.extend(crash.also_died.iter().map(|d| (d.engine.clone(), format!("died: {}", d.how))));
    if let (Ok(expected), Some(i)) = (&expected, crash.call.filter(|i| *i < built.calls.len())) {
        for o in others.iter().filter(|o| !dead.contains(&o.name())) {
            outcomes.push((o.name(), format!("{:?}", expected[i].outcome)));
        }
    }
    let divergence = Divergence {
        call: crash.call,
        what: format!("crash of {engine} in `{}`", crash.op),
        wrong: std::iter::once(engine.clone()).chain(dead.iter().cloned()).collect(),
        outcomes,
        expected: None,
        agreed: None,
        host_side: false,
        failures: Vec::new(),
    };
    let blame = crash_blame(&crash, &names);
    Finding {
        seed: case.seed,
        tier: case.tier.name().into(),
        shrunk: super::shrink::size(&built),
        divergence,
        crash: Some(crash),
        blame,
        file,
        unwritten: why,
        found_after,
        shrink_secs: start.elapsed().as_secs_f64(),
        known: None,
    }
}

/// Takes where a confirmed death happened into the crash: the call and the operation of the case it died in.
fn note(crash: &mut Crash, d: &DeathReport) {
    crash.call = d.call.or(crash.call);
    if let Some(s) = &d.step {
        crash.op = s.op.clone();
    }
}

/// Runs `case` on `engine` alone in a fresh worker: its death, if it dies the way `death` says.
fn dies_alone(pool: &PoolConfig, case: &CaseRef, engine: &EngineSpec, death: &Death) -> Option<DeathReport> {
    let job = Job::Run { case: *case, engines: vec![engine.clone()] };
    match run_once(pool, &job) {
        Ok(Reply::Died(d)) if d.death == *death => Some(*d),
        _ => None,
    }
}

/// What the largest group of `engines` agrees each call of `case` does, run in a worker. An engine that dies
/// too is left out (and named in `died`, with how) and the rest are asked again.
fn others_agree(
    pool: &PoolConfig,
    case: &CaseRef,
    engines: &[EngineSpec],
    calls: usize,
    died: &mut Vec<OtherDeath>,
) -> Result<Vec<ExpectedCall>, String> {
    let mut engines = engines.to_vec();
    let runs = loop {
        if engines.is_empty() {
            return Err("no other engine survived to say what the calls should do".into());
        }
        let job = Job::Run { case: *case, engines: engines.clone() };
        match run_once(pool, &job) {
            Ok(Reply::Done(JobResult::Run(runs))) => break runs,
            Ok(Reply::Died(d)) => {
                let who = d.step.as_ref().map(|s| s.engine.clone());
                let Some(at) = who.and_then(|w| engines.iter().position(|e| e.name() == w)) else {
                    return Err(format!("the worker died outside any engine ({})", d.reason()));
                };
                let gone = engines.remove(at);
                died.push(OtherDeath { engine: gone.name(), how: format!("{} ({})", d.death.name(), d.reason()) });
            }
            Ok(other) => return Err(format!("unexpected reply {other:?}")),
            Err(e) => return Err(format!("{e:#}")),
        }
    };
    let runs: Vec<(String, Vec<crate::diff::driver::CallOutcome>)> =
        engines.iter().map(EngineSpec::name).zip(runs).filter_map(|(n, r)| r.ok().map(|o| (n, o))).collect();
    (0..calls)
        .map(|i| {
            regress::agreed_call(&runs, i)
                .map(|o| ExpectedCall { outcome: regress::Expected::of(&o.result), imports: o.imports })
                .ok_or_else(|| format!("no other engine ran call {i}"))
        })
        .collect()
}

/// Who a crash is attributed to: a panic located in a core engine's own sources is that backend's; every other
/// crash of a layer engine is component-layer's.
fn crash_blame(crash: &Crash, engines: &[String]) -> Blame {
    let also = crash.also_died.iter().map(|d| d.engine.clone());
    let wrong: Vec<String> = std::iter::once(crash.engine.clone()).chain(also).collect();
    match Blame::suspect(&wrong, engines) {
        Suspect::Reference => Blame::Reference,
        // The jco engine's own failures (its node driver dying or hanging) are traps, not worker deaths: a worker
        // that died running jco died in the harness's Rust code.
        Suspect::Runtime | Suspect::Jco => Blame::Runtime,
        Suspect::Backend(kind) => {
            let backend_source = match kind {
                crate::engine::EngineKind::LayerWasmi => ["/wasmi-", "/wasmi_"],
                _ => ["/wasmtime-", "/cranelift-"],
            };
            if crash.death == Death::Panic && backend_source.iter().any(|p| crash.reason.contains(p)) {
                Blame::Backend {
                    engine: crash.engine.clone(),
                    evidence: Box::new(crate::evidence::Evidence::statement(
                        format!("the panic is inside the core engine: {}", crash.reason),
                        kind.name(),
                    )),
                }
            } else {
                Blame::Runtime
            }
        }
    }
}
