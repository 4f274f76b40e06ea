//! The self-test: engines that are wrong on purpose must be caught.
//!
//! A harness is judged on the day an engine is wrong. For every tier and every [`Fault`] the tier can show, the
//! self-test wraps one engine in the fault ([`crate::engine::fault`]) and runs the main job — workers,
//! supervisor, shrinking, attribution, writing — exactly as `fuzz` does, on the tier's first cases. Each cell of
//! the matrix then holds if:
//!
//! * **detected**: a finding was made;
//! * **blamed right**: its wrong engines are the wrapped engine and only it, and the attribution fits (a
//!   component-layer engine's fault is component-layer's, never a core backend's; wasmtime's is the reference's);
//! * **shrunk**: the finding's case was cut down (reported as calls / argument value nodes);
//! * **written**: a regression file exists, and it **fails on the wrong engine** and **passes on the others**,
//!   each run in a fresh worker (a crashing engine's run is a failure, not the end of the self-test).
//!
//! Whether a tier *can* show a fault is measured, not assumed: the tier's cases are run on the reference engine
//! and the fault is applicable if some call has what it changes (a `bool` in a result for `flip-bool`, a trap for
//! `trap-to-return`, an import call for `drop-import-call`, a return for the crash faults). A cell whose fault is
//! applicable but is not caught fails the self-test.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use std::collections::HashMap;
use std::sync::Arc;

use component_gen::Tier;
use component_layer::types::{FuncType, ItemType, ValueType};
use component_layer::Value;
use serde::Serialize;

use crate::diff::blame::Blame;
use crate::diff::driver::CallOutcome;
use crate::diff::same_outcome;
use crate::engine::fault::{self, Fault, FaultGroup};
use crate::engine::{EngineKind, EngineSpec};
use crate::fuzz::{self, CaseRef, FuzzConfig, FuzzOptions};
use crate::worker::supervisor::{run_once, PoolConfig, Reply};
use crate::worker::{Job, JobResult};

/// The self-test's settings.
#[derive(Clone, Debug)]
pub struct SelftestConfig {
    /// Tiers.
    pub tiers: Vec<Tier>,
    /// Faults.
    pub faults: Vec<Fault>,
    /// The engine the faults are put in.
    pub wrap: EngineKind,
    /// The time limit of each cell's fuzzing.
    pub seconds: u64,
    /// Cells run at once.
    pub jobs: usize,
    /// How workers are started.
    pub pool: PoolConfig,
}

/// Cases of a tier the self-test fuzzes (and looks at for applicability): the first this many seeds.
pub const CASES: u64 = 24;
/// The first seed of every cell.
pub const FIRST_SEED: u64 = 1_000;
/// Calls per case.
pub const CALLS: usize = 16;

/// The tier on which `cargo test` checks a fault: one that shows it on its first seeds.
pub fn representative_tier(fault: Fault) -> Tier {
    match fault {
        Fault::RenumberHandle => Tier::Resource,
        Fault::TrapToReturn => Tier::Fault,
        _ => Tier::Echo,
    }
}

/// The faults named, or all.
pub fn faults(names: &[String]) -> anyhow::Result<Vec<Fault>> {
    if names.is_empty() {
        return Ok(Fault::ALL.to_vec());
    }
    names.iter().map(|n| Fault::from_name(n).ok_or_else(|| anyhow::anyhow!("unknown fault `{n}`"))).collect()
}

/// One cell of the matrix.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    /// The tier.
    pub tier: String,
    /// The fault.
    pub fault: String,
    /// Why the tier cannot show the fault, if it cannot.
    pub not_applicable: Option<String>,
    /// Whether a finding was made.
    pub detected: bool,
    /// Seconds from the start of the cell's fuzzing to the detection.
    pub seconds: Option<f64>,
    /// The shrunk case: calls and argument value nodes.
    pub shrunk: Option<(usize, usize)>,
    /// The regression file, if one was written.
    pub file: Option<String>,
    /// Whether the wrong engines are the wrapped one alone, with a fitting attribution.
    pub blamed_right: bool,
    /// Whether the regression fails on the wrong engine.
    pub fails_on_wrong: bool,
    /// Whether the regression passes on every other engine.
    pub passes_on_others: bool,
    /// What went wrong, if the cell does not hold.
    pub note: String,
}

impl Cell {
    /// Whether the cell holds (or does not apply).
    pub fn holds(&self) -> bool {
        self.not_applicable.is_some()
            || (self.detected
                && self.blamed_right
                && self.shrunk.is_some()
                && self.file.is_some()
                && self.fails_on_wrong
                && self.passes_on_others)
    }

    /// The cell as one line.
    pub fn line(&self) -> String {
        if let Some(why) = &self.not_applicable {
            return format!("n/a  {} × {}: {why}", self.tier, self.fault);
        }
        let yes = |b: bool| if b { "yes" } else { "NO" };
        format!(
            "{} {} × {}: detected {} in {}, shrunk to {}, written {}, blamed right {}, fails on wrong {}, passes on others {}{}",
            if self.holds() { "ok  " } else { "FAIL" },
            self.tier,
            self.fault,
            yes(self.detected),
            self.seconds.map_or("-".into(), |s| format!("{s:.2}s")),
            self.shrunk.map_or("-".into(), |(c, n)| format!("{c} calls/{n} nodes")),
            yes(self.file.is_some()),
            yes(self.blamed_right),
            yes(self.fails_on_wrong),
            yes(self.passes_on_others),
            if self.note.is_empty() { String::new() } else { format!(" — {}", self.note) }
        )
    }
}

/// The matrix.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Matrix {
    /// The engine the faults were put in.
    pub wrapped: String,
    /// Its cells, tier by tier.
    pub cells: Vec<Cell>,
}

impl Matrix {
    /// Cells that hold and apply.
    pub fn holding(&self) -> usize {
        self.cells.iter().filter(|c| c.not_applicable.is_none() && c.holds()).count()
    }

    /// Cells that do not apply.
    pub fn not_applicable(&self) -> usize {
        self.cells.iter().filter(|c| c.not_applicable.is_some()).count()
    }

    /// Cells that should hold and do not.
    pub fn failures(&self) -> usize {
        self.cells.iter().filter(|c| !c.holds()).count()
    }

    /// The matrix in Markdown: a row per tier and fault.
    pub fn table(&self) -> String {
        let mut s = format!(
            "Faults put in `{}`.\n\n| tier | fault | detected | seconds to detection | shrunk (calls/nodes) | written | blamed right | fails on wrong | passes on others |\n|---|---|---|---:|---|---|---|---|---|\n",
            self.wrapped
        );
        for c in &self.cells {
            if c.not_applicable.is_some() {
                s.push_str(&format!("| {} | {} | n/a | | | | | | |\n", c.tier, c.fault));
                continue;
            }
            let yes = |b: bool| if b { "yes" } else { "**no**" };
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                c.tier,
                c.fault,
                yes(c.detected),
                c.seconds.map_or("-".into(), |s| format!("{s:.2}")),
                c.shrunk.map_or("-".into(), |(a, b)| format!("{a}/{b}")),
                yes(c.file.is_some()),
                yes(c.blamed_right),
                yes(c.fails_on_wrong),
                yes(c.passes_on_others),
            ));
        }
        s
    }
}

/// What the plain engines do on a tier's first [`CASES`] seeds: the seeds on which they agree (a seed that shows a
/// real bug of an engine — wasmi's `select`, say — would confound a cell), and their outcomes there.
#[derive(Clone, Debug, Default)]
pub struct TierProbe {
    /// The seeds on which the three plain engines agree call for call.
    pub clean: Vec<u64>,
    /// Per clean seed: the case's calls, their result types, and the reference engine's outcomes.
    outcomes: Vec<(component_gen::Case, Vec<Option<ValueType>>, Vec<CallOutcome>)>,
}

/// Probes a tier (see [`TierProbe`]), each seed in a worker.
pub fn probe(pool: &PoolConfig, tier: Tier) -> anyhow::Result<TierProbe> {
    let mut out = TierProbe::default();
    let plain: Vec<EngineSpec> = EngineKind::ALL.iter().map(|&k| EngineSpec::plain(k)).collect();
    for seed in FIRST_SEED..FIRST_SEED + CASES {
        let case = CaseRef::new(seed, tier, CALLS);
        let runs = match run_once(pool, &Job::Run { case, engines: plain.clone() })? {
            Reply::Done(JobResult::Run(runs)) => runs,
            _ => continue,
        };
        let runs: Vec<Vec<CallOutcome>> = runs.into_iter().filter_map(Result::ok).collect();
        if runs.len() != plain.len() {
            continue;
        }
        let agree = runs.windows(2).all(|w| {
            w[0].len() == w[1].len()
                && w[0].iter().zip(&w[1]).all(|(a, b)| same_outcome(&a.result, &b.result) && a.imports == b.imports)
        });
        if !agree {
            continue;
        }
        let built = case.build();
        let types = result_types(&built.component);
        let tys = built
            .calls
            .iter()
            .map(|c| {
                let path = component_gen::case::export_path(&c.export);
                types.iter().find(|(p, _)| *p == path).and_then(|(_, t)| t.result().cloned())
            })
            .collect();
        out.clean.push(seed);
        out.outcomes.push((built, tys, runs.into_iter().last().unwrap_or_default()));
    }
    Ok(out)
}

/// Runs the self-test; `on_cell` sees each cell when it is done.
pub fn run(config: &SelftestConfig, on_cell: &mut (dyn FnMut(&Cell) + Send)) -> anyhow::Result<Matrix> {
    let work: Vec<(Tier, Fault)> =
        config.tiers.iter().flat_map(|&t| config.faults.iter().map(move |&f| (t, f))).collect();
    let probes: Mutex<HashMap<Tier, Arc<TierProbe>>> = Mutex::new(HashMap::new());
    let next = AtomicUsize::new(0);
    let cells = Mutex::new(vec![None; work.len()]);
    let on_cell = Mutex::new(on_cell);
    let scratch = std::env::temp_dir().join(format!("component-harness-selftest-{}", std::process::id()));
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..config.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(tier, fault)) = work.get(i) else { break };
                let known = probes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&tier).cloned();
                let probed = match known {
                    Some(p) => Ok(p),
                    None => probe(&config.pool, tier).map(Arc::new).inspect(|p| {
                        probes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(tier, p.clone());
                    }),
                };
                let result = probed
                    .and_then(|p| cell(config, tier, fault, &p, &scratch.join(format!("{tier}-{}", fault.name()))));
                match result {
                    Ok(c) => {
                        (on_cell.lock().unwrap_or_else(std::sync::PoisonError::into_inner))(&c);
                        cells.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(c);
                    }
                    Err(e) => {
                        *failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                        break;
                    }
                }
            });
        }
    });
    std::fs::remove_dir_all(&scratch).ok();
    if let Some(e) = failure.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        return Err(e);
    }
    let cells = cells.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner).into_iter().flatten().collect();
    Ok(Matrix { wrapped: config.wrap.name().to_owned(), cells })
}

/// The engines of a cell: the three plain ones (and `wrap` if it is not one of them, i.e. jco), with `wrap`
/// wrapped in `fault`.
fn engines(wrap: EngineKind, fault: Fault) -> Vec<EngineSpec> {
    let mut kinds = EngineKind::ALL.to_vec();
    if !kinds.contains(&wrap) {
        kinds.push(wrap);
    }
    kinds.into_iter().map(|kind| EngineSpec { kind, fault: (kind == wrap).then_some(fault) }).collect()
}

/// Runs one cell, on the clean seeds of its tier's probe.
pub fn cell(
    config: &SelftestConfig,
    tier: Tier,
    fault: Fault,
    probe: &TierProbe,
    dir: &std::path::Path,
) -> anyhow::Result<Cell> {
    let wrapped = EngineSpec { kind: config.wrap, fault: Some(fault) };
    let mut c = Cell {
        tier: tier.name().into(),
        fault: fault.name().into(),
        not_applicable: None,
        detected: false,
        seconds: None,
        shrunk: None,
        file: None,
        blamed_right: false,
        fails_on_wrong: false,
        passes_on_others: false,
        note: String::new(),
    };
    if let Some(why) = not_applicable(probe, fault) {
        c.not_applicable = Some(why);
        return Ok(c);
    }
    std::fs::create_dir_all(dir)?;
    let mut pool = config.pool.clone();
    // An engine that never returns costs a full time limit per attempt, and one that allocates without end fills
    // its worker's cap before it dies: keep both small, so that neither is mistaken for the other under load.
    pool.step_timeout = pool.step_timeout.min(Duration::from_secs(4));
    pool.memory_limit_mb = pool.memory_limit_mb.min(512);
    let fuzz_config = FuzzConfig {
        duration: Duration::from_secs(config.seconds),
        seed: FIRST_SEED,
        jobs: 1,
        tiers: vec![tier],
        max_cases: Some(CASES),
        stop_at_first: true,
        seed_list: Some(probe.clean.clone()),
        options: FuzzOptions {
            engines: engines(config.wrap, fault),
            calls_per_case: CALLS,
            regressions: Some(dir.to_path_buf()),
            known_jco: Default::default(),
        },
        pool: pool.clone(),
    };
    let summary = fuzz::run(&fuzz_config, &Quiet)?;
    let Some(f) = summary.findings.first() else {
        c.note = format!("nothing found in {} cases", summary.tiers.values().map(|t| t.cases).sum::<u64>());
        return Ok(c);
    };
    c.detected = true;
    c.seconds = Some(f.found_after);
    c.shrunk = Some(f.shrunk);
    let right_blame = match config.wrap {
        EngineKind::Wasmtime => matches!(f.blame, Blame::Reference),
        EngineKind::Jco => matches!(f.blame, Blame::Jco),
        _ => matches!(f.blame, Blame::Runtime),
    };
    c.blamed_right = f.divergence.wrong == [wrapped.name()] && right_blame;
    if !c.blamed_right {
        c.note = format!("wrong engines {:?}, attributed to {}", f.divergence.wrong, f.blame.describe());
    }
    match &f.file {
        None => c.note = format!("unwritten: {}", f.unwritten.clone().unwrap_or_default()),
        Some(file) => {
            c.file = Some(file.clone());
            let path = PathBuf::from(file);
            c.fails_on_wrong = !passes(&pool, &path, &wrapped)?;
            c.passes_on_others = true;
            for kind in EngineKind::ALL {
                if !passes(&pool, &path, &EngineSpec::plain(kind))? {
                    c.passes_on_others = false;
                    c.note = format!("the regression fails on {}", kind.name());
                }
            }
            if !c.fails_on_wrong {
                c.note = format!("the regression passes on {}", wrapped.name());
            }
        }
    }
    Ok(c)
}

/// Whether a regression file passes on `engine`, run in a fresh worker (a death is a failure).
fn passes(pool: &PoolConfig, path: &std::path::Path, engine: &EngineSpec) -> anyhow::Result<bool> {
    let label = crate::conform::label_of(path);
    let job = Job::Conform { path: path.to_path_buf(), label, engine: engine.clone() };
    Ok(match run_once(pool, &job)? {
        Reply::Done(JobResult::Conform(run)) => run.passed(),
        _ => false,
    })
}

/// Why the tier cannot show `fault`, if it cannot: none of the calls of its clean cases has what the fault
/// changes.
fn not_applicable(probe: &TierProbe, fault: Fault) -> Option<String> {
    let applicable = probe.outcomes.iter().any(|(case, tys, outcomes)| {
        case.calls.iter().zip(tys).zip(outcomes).any(|((_, ty), o)| applies(fault, o, ty.as_ref()))
    });
    (!applicable).then(|| {
        format!(
            "no call of the {} clean cases of the first {CASES} has what `{}` changes",
            probe.clean.len(),
            fault.name()
        )
    })
}

/// Whether `fault` would change `outcome` (of a call whose result type is `ty`).
pub fn applies(fault: Fault, outcome: &CallOutcome, ty: Option<&component_layer::types::ValueType>) -> bool {
    let answered = || outcome.imports.iter().filter(|c| !c.name.starts_with("[dtor]"));
    match (fault.group(), fault, &outcome.result) {
        // The driver shows resources as tokens; the engine, which the fault wraps, as labels.
        (FaultGroup::Value, _, Ok(Some(v))) => fault::change(fault, &mut as_engine_sees(v), ty),
        (_, Fault::TrapToReturn, Err(f)) => f.is_trap(),
        (_, Fault::ReturnToTrap, Ok(_)) => true,
        (_, Fault::AlterImportArg, _) => {
            answered().next().and_then(|c| c.args.first()).is_some_and(|a| crate::engine::host::alter(&mut a.clone()))
        }
        (_, Fault::DropImportCall, _) => answered().next().is_some(),
        (FaultGroup::Crash, _, Ok(_)) => true,
        _ => false,
    }
}

/// A result as the engine returned it: the driver's resource tokens back as the engine's labels.
fn as_engine_sees(v: &Value) -> Value {
    if let Some(call) = component_gen::case::token_call(v) {
        return Value::Enum(crate::engine::value::holding_label("r", call as u32).into());
    }
    match v {
        Value::List(l) => Value::List(component_layer::List::Values(l.iter().map(|x| as_engine_sees(&x)).collect())),
        Value::Record(fs) => Value::Record(fs.iter().map(|(n, x)| (n.clone(), as_engine_sees(x))).collect()),
        Value::Tuple(xs) => Value::Tuple(xs.iter().map(as_engine_sees).collect()),
        Value::Option(Some(p)) => Value::Option(Some(Box::new(as_engine_sees(p)))),
        Value::Variant(c, Some(p)) => Value::Variant(c.clone(), Some(Box::new(as_engine_sees(p)))),
        Value::Result(Ok(Some(p))) => Value::Result(Ok(Some(Box::new(as_engine_sees(p))))),
        Value::Result(Err(Some(p))) => Value::Result(Err(Some(Box::new(as_engine_sees(p))))),
        other => other.clone(),
    }
}

/// The exported functions' types, by path, as component-layer reflects them.
fn result_types(bytes: &[u8]) -> Vec<(Vec<String>, FuncType)> {
    fn walk(items: &[(String, ItemType)], prefix: &[String], out: &mut Vec<(Vec<String>, FuncType)>) {
        for (name, item) in items {
            let mut path = prefix.to_vec();
            path.push(name.clone());
            match item {
                ItemType::Func(ty) => out.push((path, ty.clone())),
                ItemType::Instance(inner) => walk(inner, &path, out),
                _ => {}
            }
        }
    }
    let reflect = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
    let mut out = Vec::new();
    if let Ok(c) = component_layer::Component::new(&reflect, bytes) {
        walk(&c.exports(), &[], &mut out);
    }
    out
}

struct Quiet;

impl fuzz::Progress for Quiet {
    fn update(&self, _: u64, _: u64, _: u64, _: Duration) {}
    fn finding(&self, _: &fuzz::Finding) {}
}
