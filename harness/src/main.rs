//! `component-harness`: conformance runner and differential fuzzer for component-layer.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};

use clap::{Parser, Subcommand};
use component_harness::conform;

mod commands;
mod run;

/// The global allocator: counts allocations (so `bench` can report allocations per typed call) and, in a
/// worker, refuses to hold more than the worker's memory cap, so that an engine allocating without end fails an
/// allocation (an out-of-memory abort of that worker, which the supervisor reports) instead of exhausting the
/// machine.
struct CappedAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Bytes currently allocated.
static IN_USE: AtomicUsize = AtomicUsize::new(0);
/// The cap in bytes (`usize::MAX`: none).
static CAP: AtomicUsize = AtomicUsize::new(usize::MAX);

impl CappedAlloc {
    /// Reserves `size` bytes under the cap; false if they do not fit.
    fn reserve(size: usize) -> bool {
        let cap = CAP.load(Relaxed);
        let before = IN_USE.fetch_add(size, Relaxed);
        if cap != usize::MAX && before.saturating_add(size) > cap {
            IN_USE.fetch_sub(size, Relaxed);
            return false;
        }
        true
    }
}

// SAFETY: forwards to the system allocator unchanged, or returns null (an allowed answer) when the cap is
// reached; the counters are relaxed atomics.
unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        if !Self::reserve(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            IN_USE.fetch_sub(layout.size(), Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        let grow = new_size.saturating_sub(layout.size());
        if !Self::reserve(grow) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `realloc` on `System`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            IN_USE.fetch_sub(grow, Relaxed);
        } else {
            IN_USE.fetch_sub(layout.size().saturating_sub(new_size), Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: CappedAlloc = CappedAlloc;

pub(crate) fn allocations() -> u64 {
    ALLOCATIONS.load(Relaxed)
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
    /// The self-test: engines that are wrong on purpose, one way each, must be caught, blamed, shrunk and
    /// written, tier by tier.
    Selftest(SelftestArgs),
    /// Run a `wasi:cli/run` component as `wasmtime run` does, on any engine (or on all three with `--compare`),
    /// and exit with its exit status.
    Run(run::RunArgs),
    /// Serve jobs of a supervisor (internal: `fuzz`, `check` and `selftest` start these).
    #[command(hide = true)]
    Worker(WorkerArgs),
}

#[derive(clap::Args)]
pub(crate) struct WorkerArgs {
    /// The memory cap of this worker, in MiB.
    #[arg(long, default_value_t = 4096)]
    pub(crate) memory_limit_mb: u64,
}

#[derive(clap::Args)]
pub(crate) struct SelftestArgs {
    /// Tiers (default: all).
    #[arg(long = "tier", value_name = "TIER")]
    pub(crate) tiers: Vec<String>,
    /// Faults (default: all).
    #[arg(long = "fault", value_name = "FAULT")]
    pub(crate) faults: Vec<String>,
    /// The engine the faults are put in.
    #[arg(long, default_value = "layer-wasmi")]
    pub(crate) wrap: String,
    /// Seconds each cell may fuzz before it counts as not detected.
    #[arg(long, default_value_t = 20)]
    pub(crate) seconds: u64,
    /// Parallel cells.
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// Write the matrix as JSON to this file.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
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
    /// Seconds a worker may spend on one engine operation before it counts as hung.
    #[arg(long, default_value_t = 20)]
    pub(crate) timeout: u64,
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
    /// Instead, time loading these components (`.wasm` files or directories holding them) on every
    /// implementation, next to compiling their core modules.
    #[arg(long, num_args = 1..)]
    pub(crate) load: Vec<PathBuf>,
    /// Rounds per component with --load (each implementation loads it once per round).
    #[arg(long, default_value_t = 5)]
    pub(crate) rounds: usize,
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
    /// The index of known jco bugs (see `harness/src/fuzz/known_jco.rs`): a jco finding that matches one is
    /// counted, not written (default: `corpus/jco/known.txt` when it exists and jco is compared).
    #[arg(long, value_name = "FILE")]
    pub(crate) known_jco: Option<PathBuf>,
    /// Write the summary as JSON to this file.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Also fail on divergences attributed to a core backend (with core-level evidence: see
    /// `harness/src/evidence`); by default they are reported and written to `corpus/backends/` but do not fail
    /// the run.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Seconds a worker may spend on one engine operation before it counts as hung.
    #[arg(long, default_value_t = 10)]
    pub(crate) timeout: u64,
    /// Each worker's memory cap in MiB (an engine that allocates beyond it is a finding).
    #[arg(long, default_value_t = 4096)]
    pub(crate) memory_limit_mb: u64,
}

#[derive(clap::Args)]
pub(crate) struct ReproArgs {
    /// A regression file (`.wast` or `.case`), or a seed.
    pub(crate) target: String,
    /// The tier (for a seed; default: every tier).
    #[arg(long)]
    pub(crate) tier: Option<String>,
    /// Engines (default: all three).
    #[arg(long = "engine", value_name = "NAME")]
    pub(crate) engines: Vec<String>,
    /// Calls per generated case (for a seed: as `fuzz` made it).
    #[arg(long, default_value_t = 48)]
    pub(crate) calls_per_case: usize,
    /// Seconds a worker may spend on one engine operation before it counts as hung.
    #[arg(long, default_value_t = 10)]
    pub(crate) timeout: u64,
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
    /// Calls per generated case (as `fuzz` made it).
    #[arg(long, default_value_t = 48)]
    pub(crate) calls_per_case: usize,
    /// Seconds a worker may spend on one engine operation before it counts as hung.
    #[arg(long, default_value_t = 10)]
    pub(crate) timeout: u64,
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
    /// Engines to run (default: all of layer-wasmi, layer-wasmtime, wasmtime; `<engine>!<fault>` for an engine
    /// that is wrong on purpose).
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
        Command::Selftest(args) => commands::selftest(args),
        Command::Run(args) => run::run(args),
        Command::Worker(args) => {
            CAP.store(usize::try_from(args.memory_limit_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX), Relaxed);
            component_harness::worker::protocol::serve().map(|()| ExitCode::SUCCESS)
        }
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
    let engine_names = component_harness::engine::EngineSpec::parse_all(&args.engines)?;
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
