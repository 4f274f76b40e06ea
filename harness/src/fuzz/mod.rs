//! The main job: generate cases, run them on every engine, diff, shrink divergences, grow the corpus.
//!
//! Workers (one per job) take seeds `seed, seed + 1, …` in turn; each seed picks a tier (round robin over the
//! selected tiers) and generates a case; the case runs on every engine through [`crate::diff`]. Compiled
//! components are not shared between workers, but each worker keeps its executors, so a case costs one compile
//! per engine and then many calls. A divergence is shrunk ([`shrink`]) and written to
//! `corpus/regressions/` ([`regress`]).

pub mod regress;
pub mod shrink;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use component_gen::{generate_case_with, CaseConfig, Tier};
use serde::Serialize;

use crate::diff::blame::Blame;
use crate::diff::exec::{executor, Executor};
use crate::diff::{run_case, Divergence};

/// Fuzzing options.
#[derive(Clone, Debug)]
pub struct FuzzConfig {
    /// How long to run.
    pub duration: Duration,
    /// The first seed.
    pub seed: u64,
    /// Worker threads.
    pub jobs: usize,
    /// Engines to compare.
    pub engines: Vec<String>,
    /// Tiers to generate.
    pub tiers: Vec<Tier>,
    /// Where shrunk regressions go (`None`: not written).
    pub regressions: Option<PathBuf>,
    /// Stop after this many cases (for tests); `None` for time-bounded runs.
    pub max_cases: Option<u64>,
    /// Generation limits.
    pub case_config: CaseConfig,
}

/// A divergence found, after shrinking.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The case's seed.
    pub seed: u64,
    /// Its tier.
    pub tier: String,
    /// The divergence.
    pub divergence: Divergence,
    /// Who it is attributed to ([`Blame`]).
    pub blame: Blame,
    /// The regression file written, if any.
    pub file: Option<String>,
    /// Why no regression file could be written, if none was.
    pub unwritten: Option<String>,
    /// Seconds from the start of the run to the divergence's detection (before shrinking).
    pub found_after: f64,
    /// Seconds spent shrinking it.
    pub shrink_secs: f64,
}

/// Totals per tier.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TierTotals {
    /// Cases run.
    pub cases: u64,
    /// Calls compared across all engines.
    pub calls: u64,
    /// Cases discarded (non-deterministic failures).
    pub discarded: u64,
    /// Divergences found.
    pub divergences: u64,
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
    /// Findings that fail the run: component-layer's and the reference's, and with `strict` the backends' too.
    pub fn failing(&self, strict: bool) -> usize {
        self.findings.iter().filter(|f| f.blame.fails(strict)).count()
    }

    /// Total calls compared.
    pub fn calls(&self) -> u64 {
        self.tiers.values().map(|t| t.calls).sum()
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
        let mut s = String::from("| tier | cases | calls | discarded | divergences |");
        for e in &engines {
            s.push_str(&format!(" {e} ok/trap/other |"));
        }
        s.push_str("\n|---|---:|---:|---:|---:|");
        for _ in &engines {
            s.push_str("---|");
        }
        s.push('\n');
        for (tier, t) in &self.tiers {
            s.push_str(&format!("| {tier} | {} | {} | {} | {} |", t.cases, t.calls, t.discarded, t.divergences));
            for e in &engines {
                let (o, tr, x) = t.outcomes.get(e).copied().unwrap_or_default();
                s.push_str(&format!(" {o}/{tr}/{x} |"));
            }
            s.push('\n');
        }
        s
    }
}

/// Progress callbacks: called after each case with the running totals.
pub trait Progress: Sync {
    /// A case finished.
    fn update(&self, cases: u64, calls: u64, divergences: u64, elapsed: Duration);
    /// A divergence was found (after shrinking).
    fn finding(&self, f: &Finding);
}

/// Runs the fuzzer.
pub fn run(config: &FuzzConfig, progress: &dyn Progress) -> anyhow::Result<FuzzSummary> {
    for e in &config.engines {
        anyhow::ensure!(executor(e).is_some(), "unknown engine `{e}`");
    }
    anyhow::ensure!(!config.tiers.is_empty(), "no tiers selected");
    let start = Instant::now();
    let next_seed = AtomicU64::new(config.seed);
    let (cases, calls, divs) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let stop = AtomicBool::new(false);
    let summary = Mutex::new(FuzzSummary::default());
    std::thread::scope(|s| {
        for _ in 0..config.jobs.max(1) {
            s.spawn(|| {
                let mut executors: Vec<Box<dyn Executor>> =
                    config.engines.iter().map(|e| executor(e).expect("checked above")).collect();
                while !stop.load(Ordering::Relaxed) {
                    let seed = next_seed.fetch_add(1, Ordering::Relaxed);
                    if config.max_cases.is_some_and(|m| seed - config.seed >= m) || start.elapsed() >= config.duration {
                        stop.store(true, Ordering::Relaxed);
                        break;
                    }
                    let tier = config.tiers[(seed % config.tiers.len() as u64) as usize];
                    let case = generate_case_with(seed, tier, &config.case_config);
                    let report = run_case(&case, &mut executors);
                    let mut findings = Vec::new();
                    if let Some(d) = report.divergences.first() {
                        let found_after = start.elapsed().as_secs_f64();
                        let shrink_start = Instant::now();
                        let shrunk = shrink::shrink(&case, d, &mut executors, &config.case_config);
                        let blame = Blame::of(&shrunk.divergence, &config.engines);
                        let written = config.regressions.as_ref().map(|dir| {
                            let dir = if matches!(blame, Blame::Backend(_)) { backends_dir(dir) } else { dir.clone() };
                            regress::write(&dir, &shrunk.case, &shrunk.divergence)
                        });
                        let (file, unwritten) = match written {
                            Some(Ok(f)) => (Some(f), None),
                            Some(Err(e)) => (None, Some(format!("{e:#}"))),
                            None => (None, None),
                        };
                        let f = Finding {
                            seed,
                            tier: tier.name().into(),
                            divergence: shrunk.divergence,
                            blame,
                            file,
                            unwritten,
                            found_after,
                            shrink_secs: shrink_start.elapsed().as_secs_f64(),
                        };
                        progress.finding(&f);
                        findings.push(f);
                    }
                    let n_cases = cases.fetch_add(1, Ordering::Relaxed) + 1;
                    let n_calls = calls.fetch_add(report.calls as u64, Ordering::Relaxed) + report.calls as u64;
                    let n_divs = divs.fetch_add(findings.len() as u64, Ordering::Relaxed) + findings.len() as u64;
                    progress.update(n_cases, n_calls, n_divs, start.elapsed());
                    let mut sum = summary.lock().expect("summary lock");
                    let t = sum.tiers.entry(tier.name().to_owned()).or_default();
                    t.cases += 1;
                    t.calls += report.calls as u64;
                    t.discarded += u64::from(report.discarded.is_some());
                    t.divergences += findings.len() as u64;
                    for (e, ok, tr, x) in &report.outcomes {
                        let o = t.outcomes.entry(e.clone()).or_default();
                        o.0 += *ok as u64;
                        o.1 += *tr as u64;
                        o.2 += *x as u64;
                    }
                    sum.findings.extend(findings);
                }
            });
        }
    });
    let mut sum = summary.into_inner().expect("threads joined");
    sum.seconds = start.elapsed().as_secs_f64();
    sum.execs_per_sec = sum.calls() as f64 / sum.seconds.max(1e-9);
    Ok(sum)
}
