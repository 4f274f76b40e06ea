//! `component-harness`: conformance runner and differential fuzzer for component-layer.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use component_harness::{conform, engines};

#[derive(Parser)]
#[command(name = "component-harness", version, about = "Conformance runner and differential fuzzer for component-layer")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the .wast conformance suites on the engines and report per file, per suite and overall.
    Conform(ConformArgs),
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
        Command::Conform(args) => conform_cmd(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn jobs(n: Option<usize>) -> usize {
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
