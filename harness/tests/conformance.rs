//! The conformance suites as libtest-mimic trials: one per (file, engine), named
//! `component-model/values/strings.wast::layer-wasmi`. Files skipped by `corpus/expectations.txt` are reported
//! as ignored trials. The components wit-component emits are trials too, named
//! `wit-component/<name>.wat::<engine>`: each must load, be refused, instantiate or trap as wasmtime 48 does.
//! Generated cases are trials too, `generated/<tier>::seeds-0-<n>`: every call on every engine must match the
//! case's expected outcome and the other engines (the quick form of `component-harness fuzz`).
//! `component-harness check` runs as trials too: `check/wit-component/<name>.wat` for every loadable
//! wit-component file and `check/generated/<tier>::seeds-0-<n>` (`CHECK_SEEDS`, default 4), each with
//! `CHECK_CALLS` calls per export (default 5) on all three engines; any divergence not in the expectations fails.
//! The generators' models of the specification are held against wasmtime as `model/…` trials (see `model/`).
//! jco, the opt-in fourth engine, has its own `jco/…` trials (see `jco/`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use component_gen::{generate_case, Tier};
use component_harness::diff::run_case;
use component_harness::engine::fault::Fault;
use component_harness::engine::{EngineKind, EngineSpec, ENGINE_NAMES};
use component_harness::{check, conform, selftest, toolchain};
use libtest_mimic::{Arguments, Failed, Trial};

mod jco;
mod model;

fn main() {
    let args = Arguments::from_args();
    let exp = Arc::new(conform::expectations().expect("corpus/expectations.txt parses"));
    let engines: Vec<EngineSpec> = EngineKind::ALL.iter().map(|&k| EngineSpec::plain(k)).collect();
    let mut trials = Vec::new();
    for file in conform::default_files() {
        for engine in &engines {
            let name = format!("{}::{}", file.label, engine.name());
            let skipped = exp.file_skip(&file.label, &engine.name()).is_some();
            let (file, engine, exp) = (file.clone(), engine.clone(), exp.clone());
            trials.push(
                Trial::test(name, move || {
                    let run = conform::run_one(&file, &engine, &exp);
                    if run.passed() {
                        Ok(())
                    } else {
                        Err(Failed::from(run.failure_summary()))
                    }
                })
                .with_ignored_flag(skipped),
            );
        }
    }
    for case in toolchain::cases().expect("wit-component/index.tsv is readable") {
        for engine in &engines {
            let label = format!("wit-component/{}", case.name);
            let skipped = exp.file_skip(&label, &engine.name()).is_some() || !case.recorded;
            let (case, engine) = (case.clone(), engine.clone());
            trials.push(
                Trial::test(format!("{label}::{}", engine.name()), move || {
                    toolchain::run_case(&case, engine.open().as_mut()).map_err(Failed::from)
                })
                .with_ignored_flag(skipped),
            );
        }
    }
    trials.extend(jco::trials(exp.clone()));
    let seeds: u64 = std::env::var("GENERATED_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    for tier in Tier::ALL {
        trials.push(Trial::test(format!("generated/{tier}::seeds-0-{seeds}"), move || {
            let mut execs: Vec<_> = EngineKind::ALL.iter().map(|k| k.open()).collect();
            let (mut failures, mut calls, mut discarded) = (Vec::new(), 0, 0);
            for seed in 0..seeds {
                let case = generate_case(seed, tier);
                let report = run_case(&case, &mut execs);
                calls += report.calls;
                discarded += usize::from(report.discarded.is_some());
                for d in report.divergences {
                    failures.push(format!("seed {seed}: {} (wrong: {}) {:?}", d.what, d.wrong.join(", "), d.outcomes));
                }
            }
            // A tier that runs nothing tests nothing.
            if calls == 0 || discarded as u64 == seeds {
                failures.push(format!("no call ran ({discarded} of {seeds} cases discarded)"));
            }
            if failures.is_empty() {
                Ok(())
            } else {
                Err(Failed::from(failures.join("\n")))
            }
        }));
    }
    // The generators' models of the specification, held against wasmtime.
    let model_seeds = |default: u64| std::env::var("MODEL_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(default);
    let (resource_seeds, trace_seeds) = (model_seeds(60), model_seeds(1_000));
    trials.push(Trial::test(format!("model/resource::wasmtime::seeds-0-{resource_seeds}"), move || {
        model::resource_cases(resource_seeds).map(|_| ()).map_err(Failed::from)
    }));
    trials.push(Trial::test(format!("model/compose-traces::wasmtime::seeds-0-{trace_seeds}"), move || {
        model::compose_traces(trace_seeds).map(|_| ()).map_err(Failed::from)
    }));
    let calls: u64 = std::env::var("CHECK_CALLS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let config = check::CheckConfig { calls, ..check::CheckConfig::default() };
    let check_engines = || check::engines(&EngineKind::ALL.map(EngineSpec::plain));
    let verdict = |r: &check::ComponentReport| -> Result<(), Failed> {
        if r.verdict != check::Verdict::Failed {
            return Ok(());
        }
        let lines: Vec<String> = r
            .divergences
            .iter()
            .map(|d| format!("{}: {} {:?}", d.what, d.reduced.as_ref().unwrap_or(&d.args), d.outcomes))
            .collect();
        Err(Failed::from(format!("{}: {}", r.component, lines.join("\n"))))
    };
    for case in toolchain::cases().expect("wit-component/index.tsv is readable").into_iter().filter(|c| c.loads) {
        let label = format!("wit-component/components/{}", case.name);
        let (config, exp) = (config.clone(), exp.clone());
        let trial = format!("check/wit-component/{}", case.name);
        trials.push(Trial::test(trial.clone(), move || {
            let bytes = std::fs::read(&case.path).map_err(|e| Failed::from(e.to_string()))?;
            let mut report = check::check_component(&label, &bytes, &mut check_engines(), &config, &mut |_| {});
            check::apply_expectations(&mut report, &format!("wit-component/{}", case.name), &ENGINE_NAMES, &exp);
            // A component that is not really checked passes only where the expectations file says why.
            if let check::Verdict::Skipped(why) = &report.verdict {
                if exp.file_skip(&trial, "").is_none() && !why.starts_with("expected divergence") {
                    return Err(Failed::from(format!(
                        "skipped ({why}), and corpus/expectations.txt has no `skip {trial}` rule saying why"
                    )));
                }
            }
            verdict(&report)
        }));
    }
    let check_seeds: u64 = std::env::var("CHECK_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(4);
    // The host-stream tier's imports take and return streams, which `check`'s generic host does not serve (it
    // skips such components; the tier's host is the case host, in `generated/host-stream`).
    for tier in Tier::ALL.into_iter().filter(|t| *t != Tier::HostStream) {
        let config = config.clone();
        trials.push(Trial::test(format!("check/generated/{tier}::seeds-0-{check_seeds}"), move || {
            let mut engines = check_engines();
            let mut checked = 0;
            for seed in 0..check_seeds {
                let case = generate_case(seed, tier);
                let report = check::check_component(
                    &format!("seed {seed}"),
                    &case.component,
                    &mut engines,
                    &config,
                    &mut |_| {},
                );
                verdict(&report)?;
                checked += usize::from(report.verdict == check::Verdict::Passed);
            }
            if checked == 0 {
                return Err(Failed::from("every generated component was skipped: nothing was checked"));
            }
            Ok(())
        }));
    }
    {
        let config = config.clone();
        trials.push(Trial::test("check/generated/host-stream::skipped-with-reason", move || {
            let case = generate_case(0, Tier::HostStream);
            let report = check::check_component("seed 0", &case.component, &mut check_engines(), &config, &mut |_| {});
            match &report.verdict {
                check::Verdict::Skipped(why) if why.contains("passes a stream") => Ok(()),
                other => Err(Failed::from(format!("expected a skip for the stream import, got {other:?}"))),
            }
        }));
    }
    // The self-test: each fault on a tier that shows it, through the real workers (this package's binary).
    let pool = component_harness::worker::PoolConfig {
        exe: env!("CARGO_BIN_EXE_component-harness").into(),
        memory_limit_mb: 2048,
        step_timeout: std::time::Duration::from_secs(20),
    };
    let probes: Arc<Mutex<HashMap<Tier, Arc<selftest::TierProbe>>>> = Arc::default();
    // Every fault on layer-wasmi; and the async and stream tiers' value paths with a component-layer engine and
    // with wasmtime wrong on purpose.
    let mut cells: Vec<(Tier, Fault, EngineKind)> =
        Fault::ALL.into_iter().map(|f| (selftest::representative_tier(f), f, EngineKind::LayerWasmi)).collect();
    cells.push((Tier::Async, Fault::AlterImportArg, EngineKind::LayerWasmi));
    cells.push((Tier::Async, Fault::SwapFields, EngineKind::Wasmtime));
    // The stream tier: values that crossed a stream between two components, wrong in wasmtime and in a
    // component-layer engine; and an engine that hangs in the middle of a stream copy.
    cells.push((Tier::Stream, Fault::ShortenList, EngineKind::Wasmtime));
    cells.push((Tier::Stream, Fault::FloatLowBit, EngineKind::LayerWasmtime));
    cells.push((Tier::Stream, Fault::EndlessLoop, EngineKind::LayerWasmi));
    // The backpressure tier: slices that came back from concurrent, backpressure-serialized calls, wrong in a
    // component-layer engine.
    cells.push((Tier::Backpressure, Fault::ShortenList, EngineKind::LayerWasmtime));
    // The host-stream tier: bytes that crossed a stream between a guest and each engine's host, wrong in
    // wasmtime; and an argument altered on its way into a host stream import of a component-layer engine.
    cells.push((Tier::HostStream, Fault::ShortenList, EngineKind::Wasmtime));
    cells.push((Tier::HostStream, Fault::AlterImportArg, EngineKind::LayerWasmi));
    for (tier, fault, wrap) in cells {
        let (pool, probes) = (pool.clone(), probes.clone());
        let name = match wrap {
            EngineKind::LayerWasmi => format!("selftest/{tier}::{}", fault.name()),
            other => format!("selftest/{tier}::{}!{}", other.name(), fault.name()),
        };
        trials.push(Trial::test(name, move || {
            let config = selftest::SelftestConfig {
                tiers: vec![tier],
                faults: vec![fault],
                wrap,
                seconds: 60,
                jobs: 1,
                pool: pool.clone(),
            };
            // One probe per tier, shared by the trials of that tier (the lock is held while probing).
            let probe = {
                let mut known = probes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match known.get(&tier) {
                    Some(p) => p.clone(),
                    None => {
                        let p = Arc::new(selftest::probe(&pool, tier).map_err(|e| Failed::from(format!("{e:#}")))?);
                        known.insert(tier, p.clone());
                        p
                    }
                }
            };
            let dir =
                std::env::temp_dir().join(format!("selftest-trial-{}-{tier}-{}", std::process::id(), fault.name()));
            let cell = selftest::cell(&config, tier, fault, &probe, &dir).map_err(|e| Failed::from(format!("{e:#}")));
            std::fs::remove_dir_all(&dir).ok();
            let cell = cell?;
            if cell.not_applicable.is_some() || !cell.holds() {
                return Err(Failed::from(cell.line()));
            }
            Ok(())
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}
