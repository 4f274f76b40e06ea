//! The main job: generate cases, run them on every engine, diff, shrink what differs, grow the corpus — without
//! ever losing a finding to an engine that crashes.
//!
//! The run is a supervisor ([`run`]) and worker processes ([`crate::worker`]). Each worker takes seeds
//! `seed, seed + 1, …` from a shared counter; a seed picks a tier (round robin over the selected tiers), and the
//! worker generates the case, runs it on every engine ([`crate::diff`]), and on a divergence shrinks it
//! ([`shrink`]), attributes it ([`crate::diff::blame`]) and writes a regression ([`regress`]) — all in
//! [`process_case`]. Writing never ends a run: any error, even a panic, while shrinking or rendering becomes the
//! finding's `unwritten` reason. A divergence of jco that is a bug already reported ([`known_jco`]) is only counted:
//! the first divergence of a case that is not one is the case's finding.
//!
//! When a worker dies instead (a panic, an abort, a native stack overflow, out of memory, a hang), the supervisor
//! turns the death into a finding ([`crash`]): it knows the seed, the tier, the call and the engine from what the
//! worker announced, confirms the crash with that engine alone in a fresh worker, shrinks the case by crashing
//! fresh workers, writes a regression that asserts what the other engines do, and goes on with the next seed.

pub mod crash;
pub mod jco_report;
pub mod known_jco;
pub mod regress;
pub mod shrink;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use component_gen::{generate_case_with, Case, CaseConfig, Tier};
use serde::{Deserialize, Serialize};

use crate::diff::blame::Blame;
use crate::diff::driver::{CallOutcome, CaseDriver};
use crate::diff::{run_case, Divergence};
use crate::engine::{Engine, EngineSpec, Failure};
use crate::worker::protocol::{self, Event, Job, JobResult};
use crate::worker::supervisor::{PoolConfig, Reply, WorkerProcess};

/// Fuzzing options.
#[derive(Clone, Debug)]
pub struct FuzzConfig {
    /// How long to run.
    pub duration: Duration,
    /// The first seed.
    pub seed: u64,
    /// Worker processes.
    pub jobs: usize,
    /// Tiers to generate.
    pub tiers: Vec<Tier>,
    /// Stop after this many cases (for tests); `None` for time-bounded runs.
    pub max_cases: Option<u64>,
    /// Stop at the first finding (the self-test).
    pub stop_at_first: bool,
    /// Exactly these seeds, in order, instead of `seed, seed + 1, …` (the self-test's seeds on which the plain
    /// engines agree).
    pub seed_list: Option<Vec<u64>>,
    /// What each case runs with.
    pub options: FuzzOptions,
    /// How workers are started and watched.
    pub pool: PoolConfig,
}

/// How each case is run: what a worker needs to know.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FuzzOptions {
    /// Engines to compare.
    pub engines: Vec<EngineSpec>,
    /// Calls per generated case.
    pub calls_per_case: usize,
    /// Where shrunk regressions go (`None`: not written); backend findings go to [`backends_dir`] of it.
    pub regressions: Option<PathBuf>,
    /// The jco bugs already reported: a jco finding that matches one is counted, not shrunk and written.
    #[serde(default)]
    pub known_jco: known_jco::KnownJco,
}

/// A case, as the seed it comes from and how it was cut down: what the supervisor and the workers pass each
/// other instead of the case itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRef {
    /// The seed.
    pub seed: u64,
    /// The tier.
    pub tier: Tier,
    /// Calls in the case as generated (`None`: the tier's default).
    pub calls_per_case: Option<usize>,
    /// A step of [`shrink::BUDGETS`]: the case regenerated with smaller type and value budgets.
    pub budget: Option<usize>,
    /// Only the calls needed to reproduce this call of the script (see [`shrink::only`]).
    pub only: Option<usize>,
}

impl CaseRef {
    /// The case of `seed` and `tier` as generated with `calls_per_case` calls.
    pub fn new(seed: u64, tier: Tier, calls_per_case: usize) -> CaseRef {
        CaseRef { seed, tier, calls_per_case: Some(calls_per_case.max(1)), budget: None, only: None }
    }

    /// The case of `seed` and `tier` as [`component_gen::generate_case`] makes it.
    pub fn default_of(seed: u64, tier: Tier) -> CaseRef {
        CaseRef { seed, tier, calls_per_case: None, budget: None, only: None }
    }

    /// The generation settings.
    pub fn config(&self) -> CaseConfig {
        let mut cfg = CaseConfig { calls: self.calls_per_case, ..CaseConfig::default() };
        if let Some(b) = self.budget {
            shrink::apply_budget(&mut cfg, b);
        }
        cfg
    }

    /// The case.
    pub fn build(&self) -> Case {
        let mut case = generate_case_with(self.seed, self.tier, &self.config());
        if let Some(i) = self.only {
            case.calls = shrink::only(&case, i);
        }
        case
    }
}

/// A finding: a divergence, or an engine that crashed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// The case's seed.
    pub seed: u64,
    /// Its tier.
    pub tier: String,
    /// The divergence (for a crash: the crashing engine against the others).
    pub divergence: Divergence,
    /// How the engine died, if it crashed.
    pub crash: Option<crash::Crash>,
    /// Who it is attributed to ([`Blame`]).
    pub blame: Blame,
    /// The shrunk case: how many calls, and how many value nodes their arguments have.
    pub shrunk: (usize, usize),
    /// The regression file written, if any.
    pub file: Option<String>,
    /// Why no regression file could be written, if none was.
    pub unwritten: Option<String>,
    /// Seconds from the start of the run to the detection (before shrinking).
    pub found_after: f64,
    /// Seconds spent shrinking it.
    pub shrink_secs: f64,
    /// The known jco bug it is ([`known_jco`]): then it is neither shrunk nor written.
    #[serde(default)]
    pub known: Option<String>,
}

/// What one case gave.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CaseResult {
    /// Calls compared across all engines.
    pub calls: usize,
    /// Calls on which every engine returned and all agreed.
    #[serde(default)]
    pub returned: usize,
    /// Per engine: (ok, trap, other) call outcomes.
    pub outcomes: Vec<(String, usize, usize, usize)>,
    /// Why it was discarded, if it was.
    pub discarded: Option<String>,
    /// Calls on which the reference engine deviated from the specification in a known way.
    #[serde(default)]
    pub known_deviations: usize,
    /// Its finding, if it diverged.
    pub finding: Option<Finding>,
}

/// Totals per tier.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TierTotals {
    /// Cases run.
    pub cases: u64,
    /// Calls compared across all engines.
    pub calls: u64,
    /// Calls on which every engine returned and all agreed (the rest trapped somewhere, or diverged).
    pub returned: u64,
    /// Cases discarded (non-deterministic failures).
    pub discarded: u64,
    /// Findings (divergences and crashes).
    pub divergences: u64,
    /// Crashes among them.
    pub crashes: u64,
    /// Calls on which wasmtime deviated from the specification in a known, recorded way (not findings).
    pub known_deviations: u64,
    /// Per engine: (ok, trap, other) call outcomes.
    pub outcomes: BTreeMap<String, (u64, u64, u64)>,
}

/// The result of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FuzzSummary {
    /// Totals per tier.
    pub tiers: BTreeMap<String, TierTotals>,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Calls compared across all engines, per second.
    pub execs_per_sec: f64,
    /// Calls on which every engine returned and all agreed, per second: the execs that test values.
    pub returned_per_sec: f64,
    /// Workers that died (each is a finding) and had to be replaced.
    pub worker_deaths: u64,
    /// jco findings recognised as known bugs, per bug.
    pub known_jco: BTreeMap<String, u64>,
}

/// Where regressions of backend divergences go: `corpus/backends/` beside `corpus/regressions/` (so that a
/// committed one needs an expectation naming the broken backend), or `DIR/backends/` for any other directory.
pub fn backends_dir(regressions: &std::path::Path) -> PathBuf {
    match (regressions.file_name(), regressions.parent()) {
        (Some(n), Some(parent)) if n == "regressions" => parent.join("backends"),
        _ => regressions.join("backends"),
    }
}

impl FuzzSummary {
    /// Findings that fail the run: all but the backends', and with `strict` those too.
    pub fn failing(&self, strict: bool) -> usize {
        self.findings.iter().filter(|f| f.blame.fails(strict)).count()
    }

    /// Total calls compared.
    pub fn calls(&self) -> u64 {
        self.tiers.values().map(|t| t.calls).sum()
    }

    /// Total calls on which every engine returned and all agreed.
    pub fn returned(&self) -> u64 {
        self.tiers.values().map(|t| t.returned).sum()
    }

    /// The summary table in Markdown.
    pub fn table(&self) -> String {
        let engines: Vec<String> = self
            .tiers
            .values()
            .flat_map(|t| t.outcomes.keys().cloned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut s =
            String::from("| tier | cases | calls | returned | discarded | findings | crashes | known deviations |");
        for e in &engines {
            s.push_str(&format!(" {e} ok/trap/other |"));
        }
        s.push_str("\n|---|---:|---:|---:|---:|---:|---:|---:|");
        for _ in &engines {
            s.push_str("---|");
        }
        s.push('\n');
        for (tier, t) in &self.tiers {
            s.push_str(&format!(
                "| {tier} | {} | {} | {} | {} | {} | {} | {} |",
                t.cases, t.calls, t.returned, t.discarded, t.divergences, t.crashes, t.known_deviations
            ));
            for e in &engines {
                let (o, tr, x) = t.outcomes.get(e).copied().unwrap_or_default();
                s.push_str(&format!(" {o}/{tr}/{x} |"));
            }
            s.push('\n');
        }
        s
    }

    fn add(&mut self, tier: Tier, r: &CaseResult) {
        let t = self.tiers.entry(tier.name().to_owned()).or_default();
        t.cases += 1;
        t.calls += r.calls as u64;
        t.returned += r.returned as u64;
        t.discarded += u64::from(r.discarded.is_some());
        t.known_deviations += r.known_deviations as u64;
        if let Some(f) = &r.finding {
            t.divergences += 1;
            t.crashes += u64::from(f.crash.is_some());
        }
        if let Some(known) = r.finding.as_ref().and_then(|f| f.known.as_ref()) {
            *self.known_jco.entry(known.clone()).or_default() += 1;
        }
        for (e, ok, tr, x) in &r.outcomes {
            let o = t.outcomes.entry(e.clone()).or_default();
            o.0 += *ok as u64;
            o.1 += *tr as u64;
            o.2 += *x as u64;
        }
        self.findings.extend(r.finding.clone());
    }
}

/// Progress callbacks: called after each case with the running totals.
pub trait Progress: Sync {
    /// A case finished.
    fn update(&self, cases: u64, calls: u64, findings: u64, elapsed: Duration);
    /// A finding was made (after shrinking).
    fn finding(&self, f: &Finding);
}

/// Runs the fuzzer: `config.jobs` workers under this supervisor.
pub fn run(config: &FuzzConfig, progress: &dyn Progress) -> anyhow::Result<FuzzSummary> {
    anyhow::ensure!(!config.tiers.is_empty(), "no tiers selected");
    anyhow::ensure!(!config.options.engines.is_empty(), "no engines selected");
    let start = Instant::now();
    let next_seed = AtomicU64::new(config.seed);
    let (cases, calls, found) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let stop = AtomicBool::new(false);
    let summary = Mutex::new(FuzzSummary::default());
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..config.jobs.max(1) {
            s.spawn(|| {
                let result = supervise_worker(config, start, &next_seed, &stop, &mut |tier, r: CaseResult| {
                    let n_cases = cases.fetch_add(1, Ordering::Relaxed) + 1;
                    let n_calls = calls.fetch_add(r.calls as u64, Ordering::Relaxed) + r.calls as u64;
                    let n_found = found.fetch_add(u64::from(r.finding.is_some()), Ordering::Relaxed)
                        + u64::from(r.finding.is_some());
                    if let Some(f) = &r.finding {
                        progress.finding(f);
                        if config.stop_at_first {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    progress.update(n_cases, n_calls, n_found, start.elapsed());
                    summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner).add(tier, &r);
                });
                if let Err(e) = result {
                    stop.store(true, Ordering::Relaxed);
                    *failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        return Err(e);
    }
    let mut sum = summary.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    sum.seconds = start.elapsed().as_secs_f64();
    sum.execs_per_sec = sum.calls() as f64 / sum.seconds.max(1e-9);
    sum.returned_per_sec = sum.returned() as f64 / sum.seconds.max(1e-9);
    sum.worker_deaths = sum.findings.iter().filter(|f| f.crash.is_some()).count() as u64;
    Ok(sum)
}

/// One supervisor thread: keeps a worker busy with seeds until time is up, replacing it when it dies.
fn supervise_worker(
    config: &FuzzConfig,
    start: Instant,
    next_seed: &AtomicU64,
    stop: &AtomicBool,
    record: &mut dyn FnMut(Tier, CaseResult),
) -> anyhow::Result<()> {
    let mut worker: Option<WorkerProcess> = None;
    while !stop.load(Ordering::Relaxed) {
        let n = next_seed.fetch_add(1, Ordering::Relaxed).wrapping_sub(config.seed);
        let seed = match &config.seed_list {
            Some(list) => match usize::try_from(n).ok().and_then(|i| list.get(i)) {
                Some(s) => *s,
                None => break,
            },
            None => config.seed.wrapping_add(n),
        };
        if config.max_cases.is_some_and(|m| n >= m) || start.elapsed() >= config.duration {
            stop.store(true, Ordering::Relaxed);
            break;
        }
        let tier = config.tiers[(seed % config.tiers.len() as u64) as usize];
        let case = CaseRef::new(seed, tier, config.options.calls_per_case);
        let mut r = fuzz_in(&mut worker, &case, &config.options, &config.pool)?;
        if let Some(f) = &mut r.finding {
            f.found_after = start.elapsed().as_secs_f64() - f.shrink_secs;
        }
        record(tier, r);
    }
    Ok(())
}

/// Fuzzes `case` in `worker` (started if there is none); a death of the worker is investigated and becomes the
/// case's finding, and the worker is gone.
fn fuzz_in(
    worker: &mut Option<WorkerProcess>,
    case: &CaseRef,
    options: &FuzzOptions,
    pool: &PoolConfig,
) -> anyhow::Result<CaseResult> {
    let w = match worker.as_mut() {
        Some(w) => w,
        None => worker.insert(WorkerProcess::spawn(pool)?),
    };
    let job = Job::Fuzz { case: *case, options: options.clone() };
    match w.run(&job, &mut |_| {}) {
        Reply::Done(JobResult::Fuzz(r)) => Ok(*r),
        Reply::Done(JobResult::Error(e)) => anyhow::bail!("worker error on seed {}: {e}", case.seed),
        Reply::Done(other) => anyhow::bail!("unexpected worker reply on seed {}: {other:?}", case.seed),
        Reply::Died(death) => {
            *worker = None;
            let finding = crash::investigate(case, options, pool, &death, 0.0);
            Ok(CaseResult { finding: Some(finding), ..CaseResult::default() })
        }
    }
}

/// Fuzzes one case in a fresh worker (`shrink`, and anyone who wants one seed handled as `fuzz` would).
pub fn one_case(case: &CaseRef, options: &FuzzOptions, pool: &PoolConfig) -> anyhow::Result<CaseResult> {
    fuzz_in(&mut None, case, options, pool)
}

/// Fuzzes one case (in a worker): runs it and, on a divergence, shrinks, attributes and writes it.
pub fn process_case(case_ref: &CaseRef, options: &FuzzOptions) -> CaseResult {
    let case = case_ref.build();
    let mut engines: Vec<Box<dyn Engine>> = options.engines.iter().map(crate::worker::protocol::watched).collect();
    let report = run_case(&case, &mut engines);
    let mut result = CaseResult {
        calls: report.calls,
        returned: report.returned,
        outcomes: report.outcomes.clone(),
        discarded: report.discarded.clone(),
        known_deviations: report.known_deviations.len(),
        finding: None,
    };
    if report.divergences.is_empty() {
        return result;
    }
    let names: Vec<String> = options.engines.iter().map(EngineSpec::name).collect();
    // Known jco bugs are recognised before shrinking, which is most of a finding's cost, and do not hide a new
    // divergence in a later call of the case.
    let wit = case.wit();
    let known: Vec<Option<String>> =
        report.divergences.iter().map(|d| known_jco_bug(options, &names, d, &wit)).collect();
    let Some(d) = report.divergences.iter().zip(&known).find(|(_, k)| k.is_none()).map(|(d, _)| d) else {
        if let (Some(d), Some(Some(bug))) = (report.divergences.first(), known.first()) {
            protocol::emit(&Event::Note(format!("known jco bug `{bug}` in call {:?}: {}", d.call, d.what)));
            result.finding = Some(Finding {
                seed: case.seed,
                tier: case.tier.name().into(),
                shrunk: shrink::size(&case),
                divergence: d.clone(),
                crash: None,
                blame: Blame::Jco,
                file: None,
                unwritten: None,
                found_after: 0.0,
                shrink_secs: 0.0,
                known: Some(bug.clone()),
            });
        }
        return result;
    };
    protocol::emit(&Event::Note(format!(
        "divergence in call {:?}: {} (wrong: {})",
        d.call,
        d.what,
        d.wrong.join(", ")
    )));
    let shrink_start = Instant::now();
    let shrunk = shrink::shrink(Some(case_ref), &case, d, &mut engines);
    let blame = crate::diff::blame::attribute(&shrunk.case, &shrunk.divergence, &names);
    // Shrinking may bring out a known bug the whole case hid behind another divergence.
    let known = known_jco_bug(options, &names, &shrunk.divergence, &shrunk.case.wit());
    let (file, unwritten) = match known {
        Some(_) => (None, None),
        None => write_guarded(options, &blame, &shrunk.case, &shrunk.divergence),
    };
    result.finding = Some(Finding {
        seed: case.seed,
        tier: case.tier.name().into(),
        shrunk: shrink::size(&shrunk.case),
        divergence: shrunk.divergence,
        crash: None,
        blame,
        file,
        unwritten,
        found_after: 0.0,
        shrink_secs: shrink_start.elapsed().as_secs_f64(),
        known,
    });
    result
}

/// The name of the known jco bug divergence `d` of a case with WIT `wit` shows, if it is jco's ([`known_jco`]).
fn known_jco_bug(options: &FuzzOptions, names: &[String], d: &Divergence, wit: &str) -> Option<String> {
    if Blame::suspect(&d.wrong, names) != crate::diff::blame::Suspect::Jco {
        return None;
    }
    options.known_jco.matching(d, wit).map(|s| s.name.clone())
}

/// Writes the regression of a finding; any error, even a panic, becomes the reason it is unwritten.
pub fn write_guarded(
    options: &FuzzOptions,
    blame: &Blame,
    case: &Case,
    d: &Divergence,
) -> (Option<String>, Option<String>) {
    let Some(dir) = &options.regressions else { return (None, None) };
    let dir = match blame {
        Blame::Backend { .. } => backends_dir(dir),
        Blame::Jco => jco_report::jco_dir(dir),
        _ => dir.clone(),
    };
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let file = regress::write(&dir, case, d, blame)?;
        // A jco finding also gets a report a jco maintainer can act on without the harness.
        if matches!(blame, Blame::Jco) {
            jco_report::write(case, d, &file)?;
        }
        Ok::<_, anyhow::Error>(file)
    }));
    match written {
        Ok(Ok(f)) => (Some(f), None),
        Ok(Err(e)) => (None, Some(format!("{e:#}"))),
        Err(panic) => (None, Some(format!("the regression writer panicked: {}", panic_message(&*panic)))),
    }
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

/// Runs every call of `case` on `engine` and reports each outcome (or the load failure).
pub fn run_on(case: &Case, engine: &mut dyn Engine) -> Result<Vec<CallOutcome>, Failure> {
    let mut d = CaseDriver::load(engine, case)?;
    Ok(case
        .calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            protocol::emit(&Event::Call(i));
            d.call(i, c)
        })
        .collect())
}
