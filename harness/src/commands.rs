//! The `fuzz`, `repro`, `shrink`, `gen`, `bench`, `check` and `selftest` commands.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use component_gen::{generate_case, Tier};
use component_harness::diff::blame::Blame;
use component_harness::engine::{EngineKind, EngineSpec};
use component_harness::fuzz::{self, CaseRef, FuzzConfig, FuzzOptions, Progress};
use component_harness::worker::supervisor::{run_once, PoolConfig, Reply};
use component_harness::worker::{Job, JobResult};
use component_harness::{conform, selftest};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{BenchArgs, CheckArgs, FuzzArgs, GenArgs, ReproArgs, SelftestArgs, ShrinkArgs};

fn tiers(given: &[String]) -> anyhow::Result<Vec<Tier>> {
    if given.is_empty() {
        return Ok(Tier::ALL.to_vec());
    }
    given.iter().map(|t| Tier::from_name(t).ok_or_else(|| anyhow::anyhow!("unknown tier `{t}`"))).collect()
}

struct Bar(Option<ProgressBar>);

impl Progress for Bar {
    fn update(&self, cases: u64, calls: u64, findings: u64, elapsed: Duration) {
        if let Some(b) = &self.0 {
            b.set_position(elapsed.as_secs());
            let rate = calls as f64 / elapsed.as_secs_f64().max(1e-9);
            b.set_message(format!("{cases} cases, {calls} calls, {rate:.0} execs/s, {findings} findings"));
        }
    }

    fn finding(&self, f: &fuzz::Finding) {
        let line = finding_line(f);
        match &self.0 {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }
}

fn finding_line(f: &fuzz::Finding) -> String {
    if let Some(bug) = &f.known {
        return format!(
            "known jco bug {bug} after {:.1}s: seed {} tier {}: {}",
            f.found_after, f.seed, f.tier, f.divergence.what
        );
    }
    let kind = match &f.crash {
        Some(c) => format!("crash ({}, {})", c.death.name(), c.reason),
        None => "divergence".into(),
    };
    format!(
        "{kind} after {:.1}s (shrunk in {:.1}s to {} calls): seed {} tier {}: {} (wrong: {}){}",
        f.found_after,
        f.shrink_secs,
        f.shrunk.0,
        f.seed,
        f.tier,
        f.divergence.what,
        f.divergence.wrong.join(", "),
        match (&f.file, &f.unwritten) {
            (Some(p), _) => format!(" -> {p}"),
            (None, Some(why)) => format!(" (unwritten: {why})"),
            (None, None) => String::new(),
        }
    )
}

fn pool(timeout: u64, memory_limit_mb: u64) -> anyhow::Result<PoolConfig> {
    let mut pool = PoolConfig::this_binary()?;
    pool.step_timeout = Duration::from_secs(timeout.max(1));
    pool.memory_limit_mb = memory_limit_mb;
    Ok(pool)
}

pub fn fuzz(args: FuzzArgs) -> anyhow::Result<ExitCode> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) << 20
    });
    let engines = EngineSpec::parse_all(&args.engines)?;
    let known_jco = known_jco(args.known_jco.as_deref(), &engines)?;
    let config = FuzzConfig {
        duration: Duration::from_secs(args.seconds),
        seed,
        jobs: crate::jobs(args.jobs),
        tiers: tiers(&args.tiers)?,
        max_cases: None,
        stop_at_first: false,
        seed_list: None,
        options: FuzzOptions {
            engines,
            calls_per_case: args.calls_per_case.max(1),
            regressions: (!args.no_write).then(|| args.out.clone()),
            known_jco,
        },
        pool: pool(args.timeout, args.memory_limit_mb)?,
    };
    println!(
        "fuzzing {} for {}s from seed {seed} with {} workers, tiers: {}",
        config.options.engines.iter().map(EngineSpec::name).collect::<Vec<_>>().join(", "),
        args.seconds,
        config.jobs,
        config.tiers.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
    );
    let bar = (!args.quiet).then(|| {
        let b = ProgressBar::new(args.seconds);
        b.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len}s {msg}").expect("valid template"));
        b
    });
    let progress = Bar(bar);
    let summary = fuzz::run(&config, &progress)?;
    if let Some(b) = &progress.0 {
        b.finish_and_clear();
    }
    println!("{}", summary.table());
    for f in &summary.findings {
        println!("- {}", finding_line(f));
        if f.known.is_some() {
            continue;
        }
        println!("  attributed to {}", f.blame.describe());
        for (e, o) in &f.divergence.outcomes {
            println!("    {e}: {}", o.replace('\n', "\n      "));
        }
    }
    let failing = summary.failing(args.strict);
    let jco = summary.findings.iter().filter(|f| matches!(f.blame, Blame::Jco)).count();
    let backend = summary.findings.len() - summary.failing(false) - jco;
    let crashes = summary.findings.iter().filter(|f| f.crash.is_some()).count();
    println!(
        "{} findings ({crashes} crashes, {backend} attributed to a core backend with evidence, {jco} to jco)",
        summary.findings.len()
    );
    if jco > 0 {
        let known: u64 = summary.known_jco.values().sum();
        println!(
            "jco: {known} known ({}), {} new",
            fuzz::known_jco::tally_text(&summary.known_jco),
            (jco as u64).saturating_sub(known)
        );
    }
    println!(
        "execs/s: {:.1} ({:.1}/s returned values every engine agreed on; the rest trapped or diverged)",
        summary.execs_per_sec, summary.returned_per_sec
    );
    if let Some(path) = args.json {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)?;
    }
    if failing == 0 && backend + jco > 0 {
        println!("note: only backend and jco findings were made; they fail the run with --strict");
    }
    Ok(if failing == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The known jco bugs: the index given, else `corpus/jco/known.txt` if jco is compared and the index is there.
fn known_jco(given: Option<&std::path::Path>, engines: &[EngineSpec]) -> anyhow::Result<fuzz::known_jco::KnownJco> {
    let default = std::path::Path::new("corpus/jco/known.txt");
    let path = match given {
        Some(p) => p,
        None if engines.iter().any(|e| e.kind == EngineKind::Jco) && default.is_file() => default,
        None => return Ok(Default::default()),
    };
    let known = fuzz::known_jco::KnownJco::load(path)?;
    println!("known jco bugs: {} signatures from {}", known.signatures.len(), path.display());
    Ok(known)
}

pub fn repro(args: ReproArgs) -> anyhow::Result<ExitCode> {
    let engines = EngineSpec::parse_all(&args.engines)?;
    let pool = pool(args.timeout, 4096)?;
    if let Ok(seed) = args.target.parse::<u64>() {
        let mut diverged = false;
        let ts = match &args.tier {
            Some(t) => tiers(std::slice::from_ref(t))?,
            None => Tier::ALL.to_vec(),
        };
        for tier in ts {
            let case_ref = CaseRef::new(seed, tier, args.calls_per_case);
            let case = case_ref.build();
            println!("seed {seed} tier {tier}: {}", case.note);
            print!("{}", case.wit());
            print!("{}", component_gen::coverage::calls_text(&case));
            // Each engine in its own worker, so that one that crashes is reported, not fatal.
            let mut runs = Vec::new();
            for e in &engines {
                match run_once(&pool, &Job::Run { case: case_ref, engines: vec![e.clone()] })? {
                    Reply::Done(JobResult::Run(mut r)) => runs.push((e.name(), r.pop())),
                    Reply::Done(other) => anyhow::bail!("unexpected reply {other:?}"),
                    Reply::Died(d) => {
                        diverged = true;
                        println!(
                            "  {} DIED ({}) in call {:?}, `{}`: {}",
                            e.name(),
                            d.death.name(),
                            d.call,
                            d.step.as_ref().map(|s| s.op.clone()).unwrap_or_default(),
                            d.reason()
                        );
                    }
                }
            }
            for i in 0..case.calls.len() {
                let outs: Vec<(String, String)> = runs
                    .iter()
                    .map(|(n, r)| {
                        let o = match r {
                            Some(Ok(o)) => {
                                o.get(i).map_or("-".into(), |o| component_harness::diff::describe(&o.result))
                            }
                            Some(Err(f)) => format!("load: {f}"),
                            None => "-".into(),
                        };
                        (n.clone(), o)
                    })
                    .collect();
                let results: Option<Vec<_>> = runs
                    .iter()
                    .map(|(_, r)| match r {
                        Some(Ok(o)) => o.get(i).map(|o| &o.result),
                        _ => None,
                    })
                    .collect();
                // Outcomes agree as the differ has it; a load failure or a missing outcome only with its like.
                let same = match results {
                    Some(results) => component_harness::diff::all_same(&results),
                    None => outs.windows(2).all(|w| w[0].1 == w[1].1),
                };
                diverged |= !same;
                println!("  call {i} `{}`{}", case.calls[i].export, if same { "" } else { "  DIFFERS" });
                for (n, o) in outs {
                    println!("    {n}: {o}");
                }
            }
        }
        return Ok(if diverged { ExitCode::FAILURE } else { ExitCode::SUCCESS });
    }
    let files = conform::files_under(&[PathBuf::from(&args.target)]);
    let mut failed = false;
    for file in &files {
        for e in &engines {
            let job = Job::Conform { path: file.path.clone(), label: file.label.clone(), engine: e.clone() };
            match run_once(&pool, &job)? {
                Reply::Done(JobResult::Conform(r)) => {
                    let ok = r.passed() || r.skipped.is_some();
                    failed |= !ok;
                    println!(
                        "{} [{}]: {}",
                        r.path,
                        r.engine,
                        if r.skipped.is_some() {
                            "skip"
                        } else if ok {
                            "pass"
                        } else {
                            "FAIL"
                        }
                    );
                    print!("{}", r.failure_summary());
                }
                Reply::Done(other) => anyhow::bail!("unexpected reply {other:?}"),
                Reply::Died(d) => {
                    failed = true;
                    println!("{} [{}]: DIED ({}): {}", file.label, e.name(), d.death.name(), d.reason());
                }
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub fn shrink(args: ShrinkArgs) -> anyhow::Result<ExitCode> {
    let tier = Tier::from_name(&args.tier).ok_or_else(|| anyhow::anyhow!("unknown tier `{}`", args.tier))?;
    let options = FuzzOptions {
        engines: EngineSpec::parse_all(&args.engines)?,
        calls_per_case: args.calls_per_case,
        regressions: args.out.clone(),
        known_jco: Default::default(),
    };
    let case = CaseRef::new(args.seed, tier, args.calls_per_case);
    let result = fuzz::one_case(&case, &options, &pool(args.timeout, 4096)?)?;
    let Some(f) = result.finding else {
        println!("seed {} tier {tier}: no divergence in {} calls", args.seed, result.calls);
        return Ok(ExitCode::SUCCESS);
    };
    println!("{}", finding_line(&f));
    println!("attributed to {}", f.blame.describe());
    for (e, o) in &f.divergence.outcomes {
        println!("  {e}: {o}");
    }
    Ok(ExitCode::FAILURE)
}

pub fn gen(args: GenArgs) -> anyhow::Result<ExitCode> {
    let ts = tiers(&args.tiers)?;
    let mut coverage = component_gen::coverage::Coverage::default();
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)?;
    }
    for seed in args.seed..args.seed + args.count {
        for &tier in &ts {
            let case = generate_case(seed, tier);
            coverage.add(&case);
            if let Some(dir) = &args.out {
                let stem = dir.join(format!("{tier}-{seed}"));
                std::fs::write(stem.with_extension("wasm"), &case.component)?;
                std::fs::write(stem.with_extension("wat"), wasmprinter::print_bytes(&case.component)?)?;
                std::fs::write(stem.with_extension("wit"), case.wit())?;
                std::fs::write(stem.with_extension("values.txt"), component_gen::coverage::calls_text(&case))?;
            }
        }
    }
    print!("{}", coverage.report());
    Ok(ExitCode::SUCCESS)
}

pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    use component_harness::bench;
    let mut config = if args.quick { bench::BenchConfig::quick() } else { bench::BenchConfig::full() };
    config.allocations = Some(crate::allocations);
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run `cargo run --release -p component-harness -- bench` for real figures");
    }
    if !args.load.is_empty() {
        let mut rows = Vec::new();
        for file in component_files(&args.load)? {
            let bytes = std::fs::read(&file)?;
            eprintln!("loading {} ({:.1} MB) …", file.display(), bytes.len() as f64 / 1e6);
            rows.push(bench::load::load(&file.display().to_string(), &bytes, args.rounds)?);
        }
        println!("{}", bench::load::table(&rows));
        if let Some(path) = args.json {
            std::fs::write(&path, serde_json::to_string_pretty(&rows)?)?;
            println!("wrote {}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let ms = bench::run(&config)?;
    println!("{}", bench::table(&ms));
    println!("{}", bench::ratios(&ms));
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&ms)?)?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The `.wasm` and `.wat` files under `paths` (files as given, directories searched recursively), sorted.
fn component_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir)? {
                    let path = entry?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "wasm" || e == "wat") {
                        out.push(path);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    Ok(out)
}

pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    use component_harness::check;
    let engines = EngineSpec::parse_all(&args.engines)?;
    let files = component_files(&args.components)?;
    let total = files.len() as u64 + args.generated;
    if total == 0 {
        anyhow::bail!("nothing to check: give components or --generated N");
    }
    let config = check::CheckConfig { seed: args.seed, calls: args.calls, ..check::CheckConfig::default() };
    let pool = pool(args.timeout, 4096)?;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} components {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let exp = conform::expectations()?;
    let engine_names: Vec<String> = engines.iter().map(EngineSpec::name).collect();
    let engine_refs: Vec<&str> = engine_names.iter().map(String::as_str).collect();
    let scratch = std::env::temp_dir().join(format!("component-harness-check-{}", std::process::id()));
    let mut inputs: Vec<(String, PathBuf, Option<String>)> = Vec::new();
    for f in &files {
        inputs.push((f.display().to_string(), f.clone(), check::expectation_label(f)));
    }
    for k in 0..args.generated {
        let seed = args.seed.wrapping_add(k);
        let tier = Tier::ALL[(k % Tier::ALL.len() as u64) as usize];
        let case = generate_case(seed, tier);
        std::fs::create_dir_all(&scratch)?;
        let path = scratch.join(format!("{}-{seed}.wasm", tier.name()));
        std::fs::write(&path, &case.component)?;
        // Generated components are labelled `generated/<tier>/<seed>` for the expectations file.
        inputs.push((
            format!("generated seed {seed} tier {}", tier.name()),
            path,
            Some(format!("generated/{}/{seed}", tier.name())),
        ));
    }
    let mut reports = Vec::new();
    let mut worker: Option<component_harness::worker::WorkerProcess> = None;
    for (name, path, label) in inputs {
        bar.set_message(name.clone());
        let job =
            Job::Check { path: path.clone(), name: name.clone(), engines: engines.clone(), config: config.clone() };
        let w = match worker.as_mut() {
            Some(w) => w,
            None => worker.insert(component_harness::worker::WorkerProcess::spawn(&pool)?),
        };
        let mut report = match w.run(&job, &mut |_| {}) {
            Reply::Done(JobResult::Check(r)) => *r,
            Reply::Done(other) => anyhow::bail!("unexpected reply {other:?}"),
            Reply::Died(d) => {
                worker = None;
                check::crashed_report(&name, &d, &engine_names)
            }
        };
        if let Some(l) = label {
            check::apply_expectations(&mut report, &l, &engine_refs, &exp);
        }
        print_report(&bar, &report, args.quiet);
        bar.inc(1);
        reports.push(report);
    }
    std::fs::remove_dir_all(&scratch).ok();
    bar.finish_and_clear();
    let line = check::summary_line(&reports);
    println!("{line}");
    if let Some(path) = args.json {
        let json = serde_json::json!({ "reports": reports, "summary": line, "seed": args.seed, "calls": args.calls });
        std::fs::write(&path, serde_json::to_string_pretty(&json)?)?;
    }
    let failed = reports.iter().any(|r| r.verdict == check::Verdict::Failed);
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn print_report(bar: &ProgressBar, r: &component_harness::check::ComponentReport, quiet: bool) {
    use component_harness::check::Verdict;
    let mut out = String::new();
    match &r.verdict {
        Verdict::Skipped(why) => {
            if !quiet {
                out.push_str(&format!("SKIP {} — {why}\n", r.component));
            }
        }
        Verdict::Passed if quiet => {}
        v => {
            let tag = if *v == Verdict::Passed { "PASS" } else { "FAIL" };
            out.push_str(&format!("{tag} {}\n", r.component));
            if !quiet || *v == Verdict::Failed {
                out.push_str(&r.table());
                for n in &r.not_callable {
                    out.push_str(&format!("  not callable: {} — {}\n", n.export, n.reason));
                }
            }
        }
    }
    for d in &r.divergences {
        out.push_str(&format!("  DIVERGENCE in {}\n", d.what));
        if !d.args.is_empty() {
            out.push_str(&format!("    arguments: {}\n", d.args));
        }
        if let Some(reduced) = &d.reduced {
            out.push_str(&format!("    reduced:   {reduced}\n"));
        }
        for (engine, outcome) in &d.outcomes {
            out.push_str(&format!("    {engine}: {}\n", outcome.replace('\n', "\n      ")));
        }
        out.push_str(&format!("    attributed to {}\n", d.blame.describe()));
    }
    if !out.is_empty() {
        bar.suspend(|| print!("{out}"));
    }
}

pub fn selftest(args: SelftestArgs) -> anyhow::Result<ExitCode> {
    let config = selftest::SelftestConfig {
        tiers: tiers(&args.tiers)?,
        faults: selftest::faults(&args.faults)?,
        wrap: EngineSpec::parse(&args.wrap)?.kind,
        seconds: args.seconds,
        jobs: crate::jobs(args.jobs),
        pool: PoolConfig::this_binary()?,
    };
    let matrix = selftest::run(&config, &mut |cell| println!("{}", cell.line()))?;
    println!();
    println!("{}", matrix.table());
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&matrix)?)?;
    }
    let bad = matrix.failures();
    println!(
        "{} cells, {} hold, {} not applicable, {bad} fail",
        matrix.cells.len(),
        matrix.holding(),
        matrix.not_applicable()
    );
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
