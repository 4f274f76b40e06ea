//! `component-harness`: conformance runner and differential fuzzer for component-layer.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use component_harness::{conform, engines};

mod commands;

#[derive(Parser)]
#[command(name = "component-harness", version, about = "Conformance runner and differential fuzzer for component-layer")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Differential fuzzing: generate cases, run them on every engine, shrink and record divergences.
    Fuzz(FuzzArgs),
    /// Run the .wast conformance suites on the engines and report per file, per suite and overall.
    Conform(ConformArgs),
    /// Re-run a regression file, or the case(s) of a seed, and show every engine's outcome per call.
    Repro(ReproArgs),
    /// Generate the case of a seed, and shrink its first divergence into a regression case.
    Shrink(ShrinkArgs),
    /// Write generated cases (.wasm, .wat, .wit, values) to a directory, with a coverage summary.
    Gen(GenArgs),
}

#[derive(clap::Args)]
pub(crate) struct FuzzArgs {
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 60)]
    pub(crate) seconds: u64,
    /// The first seed (default: from the clock).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// Engines to compare (default: all three).
    #[arg(long = "engine", value_name = "NAME")]
    pub(crate) engines: Vec<String>,
    /// Tiers to generate (default: all).
    #[arg(long = "tier", value_name = "TIER")]
    pub(crate) tiers: Vec<String>,
    /// Where shrunk regressions are written.
    #[arg(long, default_value = "corpus/regressions")]
    pub(crate) out: PathBuf,
    /// Do not write regression files.
    #[arg(long)]
    pub(crate) no_write: bool,
    /// Write the summary as JSON to this file.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
}

#[derive(clap::Args)]
pub(crate) struct ReproArgs {
    /// A regression `.wast` file, or a seed.
    pub(crate) target: String,
    /// The tier (for a seed; default: every tier).
    #[arg(long)]
    pub(crate) tier: Option<String>,
    /// Engines (default: all three).
    #[arg(long = "engine", value_name = "NAME")]
    pub(crate) engines: Vec<String>,
}

#[derive(clap::Args)]
pub(crate) struct ShrinkArgs {
    /// The seed.
    pub(crate) seed: u64,
    /// The tier.
    #[arg(long)]
    pub(crate) tier: String,
    /// Engines (default: all three).
    #[arg(long = "engine", value_name = "NAME")]
    pub(crate) engines: Vec<String>,
    /// Also write the regression file to this directory.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub(crate) struct GenArgs {
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// How many seeds.
    #[arg(long, default_value_t = 10)]
    pub(crate) count: u64,
    /// Tiers (default: all).
    #[arg(long = "tier", value_name = "TIER")]
    pub(crate) tiers: Vec<String>,
    /// Output directory (default: only print the coverage summary).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ConformArgs {
    /// Engines to run (default: all of layer-wasmi, layer-wasmtime, wasmtime).
    #[arg(long = "engine", value_name = "NAME")]
    engines: Vec<String>,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
    /// Parallel jobs (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Files or directories to run (default: the upstream suites and corpus/).
    paths: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fuzz(args) => commands::fuzz(args),
        Command::Conform(args) => conform_cmd(args),
        Command::Repro(args) => commands::repro(args),
        Command::Shrink(args) => commands::shrink(args),
        Command::Gen(args) => commands::gen(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

pub(crate) fn jobs(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn conform_cmd(args: ConformArgs) -> anyhow::Result<ExitCode> {
    let engine_names: Vec<String> = if args.engines.is_empty() {
        engines::ENGINE_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        args.engines
    };
    let files = if args.paths.is_empty() { conform::default_files() } else { conform::files_under(&args.paths) };
    let exp = conform::expectations()?;
    let text = args.format == "text";
    let progress = |run: &component_harness::wast::FileRun| {
        if !text {
            return;
        }
        let (p, f, s) = run.counts();
        match (&run.skipped, run.passed()) {
            (Some(reason), _) => println!("SKIP {} [{}] — {reason}", run.path, run.engine),
            (None, true) => println!("PASS {} [{}] ({p} passed, {s} skipped)", run.path, run.engine),
            (None, false) => {
                println!("FAIL {} [{}] ({p} passed, {f} failed, {s} skipped)", run.path, run.engine);
                print!("{}", run.failure_summary());
            }
        }
    };
    let runs = conform::run_all(&files, &engine_names, &exp, jobs(args.jobs), &progress)?;
    let failed = runs.iter().any(|r| r.skipped.is_none() && !r.passed());
    if text {
        println!();
        print!("{}", conform::markdown_table(&runs));
        println!();
        println!("{}", conform::summary_line(&runs));
    } else {
        let json = serde_json::json!({
            "runs": runs,
            "table": conform::tally(&runs),
            "summary": conform::summary_line(&runs),
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
