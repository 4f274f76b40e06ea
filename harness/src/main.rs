//! `component-harness`: conformance runner and differential fuzzer for component-layer.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use component_harness::{conform, engines};

mod commands;

/// Counts heap allocations, so `bench` can report allocations per typed call.
struct CountingAlloc;

static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; the counter is a relaxed atomic.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: as for `realloc` on `System`.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

pub(crate) fn allocations() -> u64 {
    ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

#[derive(Parser)]
#[command(
    name = "component-harness",
    version,
    about = "Conformance runner and differential fuzzer for component-layer"
)]
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
    /// Benchmarks: ns/op per operation on every engine and the raw layer, with the ratios against the targets.
    Bench(BenchArgs),
    /// Check components (.wasm or .wat, files or directories) across the engines with a generic host: call every
    /// export with seeded arguments and report every divergence.
    Check(CheckArgs),
}

#[derive(clap::Args)]
pub(crate) struct CheckArgs {
    /// Components: .wasm or .wat files, or directories holding them.
    pub(crate) components: Vec<PathBuf>,
    /// Also check this many generated components (seeds from --seed on, all tiers in turn).
    #[arg(long, default_value_t = 0)]
    pub(crate) generated: u64,
    /// The seed of arguments and host results.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Calls per export.
    #[arg(long, default_value_t = 100)]
    pub(crate) calls: u64,
    /// Engines (default: all three).
    #[arg(long = "engine", value_name = "NAME")]
    pub(crate) engines: Vec<String>,
    /// Write the reports as JSON to this file.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// Print only divergences and the summary.
    #[arg(long)]
    pub(crate) quiet: bool,
}

#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    /// A short run (about ten times faster, noisier).
    #[arg(long)]
    pub(crate) quick: bool,
    /// Also write the measurements as JSON to this file.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
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
    /// Calls per generated case: compiling a component on three engines costs far more than a call, so many
    /// calls per component keep the loop fast.
    #[arg(long, default_value_t = 48)]
    pub(crate) calls_per_case: usize,
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
    /// Also fail on divergences attributed to a core backend (one layer engine alone disagrees while
    /// component-layer over the other backend agrees with wasmtime); by default they are reported and written to
    /// `corpus/backends/` but do not fail the run.
    #[arg(long)]
    pub(crate) strict: bool,
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
        Command::Bench(args) => commands::bench(args),
        Command::Check(args) => commands::check(args),
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
