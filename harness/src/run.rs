//! `component-harness run`: a WASI command on one engine, or compared across all three; with `--invoke`, one
//! export of a library component, with WASI provided, its result printed in WAVE (as `wasmtime run --invoke`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context as _};
use component_harness::wasi::{self, Determinism, RunSpec, WasiEngine};

#[derive(clap::Args)]
pub(crate) struct RunArgs {
    /// The engine: layer-wasmi, layer-wasmtime or wasmtime.
    #[arg(long, default_value = "layer-wasmi")]
    engine: String,
    /// Preopen the host directory HOST as GUEST (read and write).
    #[arg(long = "dir", value_name = "HOST::GUEST")]
    dirs: Vec<String>,
    /// Set an environment variable.
    #[arg(long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// Pass the host's environment on.
    #[arg(long)]
    inherit_env: bool,
    /// Run on all three engines (on fresh copies of the directories, with captured stdio, a fixed clock and
    /// random seed) and report any difference in stdout, stderr, exit status or the resulting file trees.
    #[arg(long)]
    compare: bool,
    /// A fixed wall clock, a monotonic clock that only moves when the guest waits, and seeded random sources.
    #[arg(long)]
    deterministic: bool,
    /// Read stdin from this file (with --compare; otherwise stdin is inherited unless this is given).
    #[arg(long)]
    stdin: Option<PathBuf>,
    /// Call this export instead of `wasi:cli/run`: `name(args in WAVE)`, `name` being a root function `f` or
    /// `iface#f` (e.g. `'local:demo/api#add(1, 2)'`); prints the result in WAVE.
    #[arg(long, value_name = "CALL")]
    invoke: Option<String>,
    /// Print load, instantiate and run times to stderr.
    #[arg(long)]
    time: bool,
    /// The component (.wasm or .wat).
    component: PathBuf,
    /// Arguments for the program (its name is the component's file name).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub(crate) fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let bytes = wat::parse_file(&a.component).with_context(|| format!("reading {}", a.component.display()))?;
    let name = a.component.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut spec = RunSpec { args: vec![name], inherit_env: a.inherit_env, ..RunSpec::default() };
    spec.args.extend(a.args);
    for kv in &a.env {
        let (k, v) = kv.split_once('=').ok_or_else(|| anyhow!("--env {kv}: expected K=V"))?;
        spec.env.push((k.to_owned(), v.to_owned()));
    }
    for d in &a.dirs {
        let (host, guest) = d.split_once("::").ok_or_else(|| anyhow!("--dir {d}: expected HOST::GUEST"))?;
        spec.dirs.push((PathBuf::from(host), guest.to_owned()));
    }
    if let Some(path) = &a.stdin {
        spec.stdin = Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
    }
    if let Some(call) = &a.invoke {
        spec.invoke = Some(wasi::Invocation::parse(&bytes, call)?);
    }
    if a.deterministic || a.compare {
        spec.determinism = Some(Determinism::default());
    }
    if a.compare {
        return compare(&bytes, &spec, a.time);
    }
    let engine = WasiEngine::parse(&a.engine)?;
    let (out, t) = wasi::run(engine, &bytes, &spec)?;
    if a.time {
        eprintln!("{}: load {:?}, instantiate {:?}, run {:?}", engine.name(), t.load, t.instantiate, t.run);
    }
    if let Some(trap) = &out.trap {
        eprintln!("error: {trap}");
    }
    print_result(&out);
    Ok(ExitCode::from(out.process_code().clamp(0, 255) as u8))
}

fn compare(bytes: &[u8], spec: &RunSpec, time: bool) -> anyhow::Result<ExitCode> {
    let runs = wasi::run_all(&WasiEngine::ALL, bytes, spec)?;
    if time {
        for r in &runs {
            let t = r.timings;
            eprintln!("{}: load {:?}, instantiate {:?}, run {:?}", r.engine.name(), t.load, t.instantiate, t.run);
        }
    }
    wasi::all_ran(&runs)?;
    let diffs = wasi::divergences(&runs);
    let reference = runs.last().and_then(|r| r.output.as_ref().ok()).ok_or_else(|| anyhow!("no run"))?;
    if diffs.is_empty() {
        print!("{}", String::from_utf8_lossy(&reference.stdout));
        eprint!("{}", String::from_utf8_lossy(&reference.stderr));
        print_result(reference);
        eprintln!(
            "identical on {} (exit {})",
            runs.iter().map(|r| r.engine.name()).collect::<Vec<_>>().join(", "),
            reference.process_code()
        );
        return Ok(ExitCode::from(reference.process_code().clamp(0, 255) as u8));
    }
    for d in &diffs {
        eprintln!("divergence: {d}");
    }
    Ok(ExitCode::from(3))
}

/// An invoked export's result, on a line of its own (nothing for a function without one).
fn print_result(out: &wasi::RunOutput) {
    if let Some(result) = out.result.as_deref().filter(|r| !r.is_empty()) {
        println!("{result}");
    }
}
