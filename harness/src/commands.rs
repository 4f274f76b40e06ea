//! The `fuzz`, `repro`, `shrink`, `gen`, `bench` and `check` commands.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use component_gen::{generate_case, CaseConfig, Tier};
use component_harness::diff::exec::{executor, Executor};
use component_harness::diff::run_case;
use component_harness::fuzz::{self, FuzzConfig, Progress};
use component_harness::{conform, engines};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{BenchArgs, CheckArgs, FuzzArgs, GenArgs, ReproArgs, ShrinkArgs};

fn engine_names(given: Vec<String>) -> Vec<String> {
    if given.is_empty() {
        engines::ENGINE_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        given
    }
}

fn tiers(given: &[String]) -> anyhow::Result<Vec<Tier>> {
    if given.is_empty() {
        return Ok(Tier::ALL.to_vec());
    }
    given.iter().map(|t| Tier::from_name(t).ok_or_else(|| anyhow::anyhow!("unknown tier `{t}`"))).collect()
}

struct Bar(Option<ProgressBar>);

impl Progress for Bar {
    fn update(&self, cases: u64, calls: u64, divergences: u64, elapsed: Duration) {
        if let Some(b) = &self.0 {
            b.set_position(elapsed.as_secs());
            let rate = calls as f64 / elapsed.as_secs_f64().max(1e-9);
            b.set_message(format!("{cases} cases, {calls} calls, {rate:.0} execs/s, {divergences} divergences"));
        }
    }

    fn finding(&self, f: &fuzz::Finding) {
        let line = format!(
            "divergence after {:.1}s (shrunk in {:.1}s): seed {} tier {}: {} (wrong: {}){}",
            f.found_after,
            f.shrink_secs,
            f.seed,
            f.tier,
            f.divergence.what,
            f.divergence.wrong.join(", "),
            match (&f.file, &f.unwritten) {
                (Some(p), _) => format!(" -> {p}"),
                (None, Some(why)) => format!(" (no regression file: {why})"),
                (None, None) => String::new(),
            }
        );
        match &self.0 {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }
}

pub fn fuzz(args: FuzzArgs) -> anyhow::Result<ExitCode> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) << 20
    });
    let config = FuzzConfig {
        duration: Duration::from_secs(args.seconds),
        seed,
        jobs: crate::jobs(args.jobs),
        engines: engine_names(args.engines),
        tiers: tiers(&args.tiers)?,
        regressions: (!args.no_write).then(|| args.out.clone()),
        max_cases: None,
        case_config: CaseConfig { calls: Some(args.calls_per_case.max(1)), ..CaseConfig::default() },
    };
    println!(
        "fuzzing {} for {}s from seed {seed} with {} jobs, tiers: {}",
        config.engines.join(", "),
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
        println!(
            "- seed {} ({}): {} — wrong: {}; attributed to {}",
            f.seed,
            f.tier,
            f.divergence.what,
            f.divergence.wrong.join(", "),
            f.blame.describe()
        );
        for (e, o) in &f.divergence.outcomes {
            println!("    {e}: {o}");
        }
    }
    let failing = summary.failing(args.strict);
    let backend = summary.findings.len() - summary.failing(false);
    println!("{} divergences ({backend} attributed to a core backend)", summary.findings.len());
    println!("execs/s: {:.1}", summary.execs_per_sec);
    if let Some(path) = args.json {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)?;
    }
    if failing == 0 && backend > 0 {
        println!("note: only backend divergences were found; they fail the run with --strict");
    }
    Ok(if failing == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn executors(names: &[String]) -> anyhow::Result<Vec<Box<dyn Executor>>> {
    names.iter().map(|n| executor(n).ok_or_else(|| anyhow::anyhow!("unknown engine `{n}`"))).collect()
}

pub fn repro(args: ReproArgs) -> anyhow::Result<ExitCode> {
    let names = engine_names(args.engines);
    if let Ok(seed) = args.target.parse::<u64>() {
        let mut execs = executors(&names)?;
        let mut diverged = false;
        let ts = match &args.tier {
            Some(t) => tiers(std::slice::from_ref(t))?,
            None => Tier::ALL.to_vec(),
        };
        for tier in ts {
            let case = generate_case(seed, tier);
            println!("seed {seed} tier {tier}: {}", case.note);
            print!("{}", case.wit());
            print!("{}", component_gen::coverage::calls_text(&case));
            let report = run_case(&case, &mut execs);
            for d in &report.divergences {
                diverged = true;
                println!("  DIVERGENCE {} (wrong: {})", d.what, d.wrong.join(", "));
                for (e, o) in &d.outcomes {
                    println!("    {e}: {o}");
                }
            }
            if report.divergences.is_empty() {
                println!(
                    "  all {} calls agree{}",
                    report.calls,
                    report.discarded.map(|r| format!(" (discarded: {r})")).unwrap_or_default()
                );
            }
        }
        return Ok(if diverged { ExitCode::FAILURE } else { ExitCode::SUCCESS });
    }
    let files = conform::files_under(&[PathBuf::from(&args.target)]);
    let exp = conform::expectations()?;
    let runs = conform::run_all(&files, &names, &exp, 1, &|_| {})?;
    for r in &runs {
        println!("{} [{}]: {}", r.path, r.engine, if r.passed() { "pass" } else { "FAIL" });
        print!("{}", r.failure_summary());
    }
    Ok(if runs.iter().all(|r| r.passed() || r.skipped.is_some()) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub fn shrink(args: ShrinkArgs) -> anyhow::Result<ExitCode> {
    let tier = Tier::from_name(&args.tier).ok_or_else(|| anyhow::anyhow!("unknown tier `{}`", args.tier))?;
    let mut execs = executors(&engine_names(args.engines))?;
    let case = generate_case(args.seed, tier);
    let report = run_case(&case, &mut execs);
    let Some(d) = report.divergences.first() else {
        println!("seed {} tier {tier}: no divergence in {} calls", args.seed, report.calls);
        return Ok(ExitCode::SUCCESS);
    };
    let shrunk = fuzz::shrink::shrink(&case, d, &mut execs, &CaseConfig::default());
    println!("{}", fuzz::regress::render(&shrunk.case, &shrunk.divergence)?);
    if let Some(dir) = args.out {
        println!("written to {}", fuzz::regress::write(&dir, &shrunk.case, &shrunk.divergence)?);
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
    let names = engine_names(args.engines);
    let mut engines = names
        .iter()
        .map(|n| check::engine(n).ok_or_else(|| anyhow::anyhow!("unknown engine `{n}`")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let files = component_files(&args.components)?;
    let total = files.len() as u64 + args.generated;
    if total == 0 {
        anyhow::bail!("nothing to check: give components or --generated N");
    }
    let config = check::CheckConfig { seed: args.seed, calls: args.calls, ..check::CheckConfig::default() };
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} components {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut reports = Vec::new();
    let mut calls = 0u64;
    let mut divergent = 0u64;
    let exp = conform::expectations()?;
    let engine_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut one =
        |label: String, bytes: Vec<u8>, exp_label: Option<String>, reports: &mut Vec<check::ComponentReport>| {
            bar.set_message(format!("{calls} calls, {divergent} divergent · {label}"));
            let mut report = check::check_component(&label, &bytes, &mut engines, &config, &mut |n| calls += n);
            if let Some(l) = exp_label {
                check::apply_expectations(&mut report, &l, &engine_refs, &exp);
            }
            if report.verdict == check::Verdict::Failed {
                divergent += 1;
            }
            print_report(&bar, &report, args.quiet);
            bar.inc(1);
            reports.push(report);
        };
    for f in &files {
        let bytes = std::fs::read(f)?;
        one(f.display().to_string(), bytes, check::expectation_label(f), &mut reports);
    }
    for k in 0..args.generated {
        let seed = args.seed.wrapping_add(k);
        let tier = Tier::ALL[(k % Tier::ALL.len() as u64) as usize];
        let case = generate_case(seed, tier);
        // Generated components are labelled `generated/<tier>/<seed>` for the expectations file.
        let label = format!("generated/{}/{seed}", tier.name());
        one(format!("generated seed {seed} tier {}", tier.name()), case.component, Some(label), &mut reports);
    }
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
        if d.blame != component_harness::diff::blame::Blame::Runtime {
            out.push_str(&format!("    attributed to {}\n", d.blame.describe()));
        }
    }
    if !out.is_empty() {
        bar.suspend(|| print!("{out}"));
    }
}
