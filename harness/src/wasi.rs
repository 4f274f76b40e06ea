//! WASI programs on the three engines: run a `wasi:cli/run` component as `wasmtime run` does, and compare runs.
//!
//! This is a focused module rather than one more [`crate::engine::Host`]: the engine abstraction moves
//! engine-neutral values through generic hosts call by call, while a WASI program is one `run` whose
//! observable behaviour is its standard streams, its exit status and what it did to a directory. So a run is
//! described by a [`RunSpec`] (arguments, environment, stdin, preopened directories, and a fixed clock and
//! random seed when it must be reproducible) and gives a [`RunOutput`]; [`compare`] runs the same spec on every
//! engine, each on a fresh copy of the directories, and reports what differs, file tree included.
//!
//! component-layer's engines use `component-layer-wasi`; `wasmtime` uses `wasmtime-wasi` 48's p2 host with the
//! same clocks and random sources (adapted to its traits below).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use component_layer_wasi as lwasi;
use wasm_runtime_layer::backend::WasmEngine;

/// An engine that can run WASI programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WasiEngine {
    /// component-layer over wasmi.
    LayerWasmi,
    /// component-layer over wasmtime's core engine.
    LayerWasmtime,
    /// wasmtime 48 with wasmtime-wasi.
    Wasmtime,
}

impl WasiEngine {
    /// Every engine, the reference last.
    pub const ALL: [WasiEngine; 3] = [WasiEngine::LayerWasmi, WasiEngine::LayerWasmtime, WasiEngine::Wasmtime];

    /// The engine's name, as the other commands spell it.
    pub fn name(self) -> &'static str {
        match self {
            WasiEngine::LayerWasmi => "layer-wasmi",
            WasiEngine::LayerWasmtime => "layer-wasmtime",
            WasiEngine::Wasmtime => "wasmtime",
        }
    }

    /// The engine of a name.
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| anyhow!("unknown engine `{name}` (layer-wasmi, layer-wasmtime or wasmtime)"))
    }
}

/// A fixed wall clock and random seed, for runs that must be the same everywhere.
#[derive(Clone, Copy, Debug)]
pub struct Determinism {
    /// What the wall clock reads.
    pub wall: Duration,
    /// The seed of both random sources (and of the insecure seed).
    pub seed: u64,
}

impl Default for Determinism {
    fn default() -> Self {
        // 2024-01-01T00:00:00Z and an arbitrary seed.
        Determinism { wall: Duration::from_secs(1_704_067_200), seed: 0x5eed }
    }
}

/// Everything a run of a WASI program gets from its host.
#[derive(Clone, Debug, Default)]
pub struct RunSpec {
    /// Arguments, the program's name first.
    pub args: Vec<String>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Add the host's environment.
    pub inherit_env: bool,
    /// Stdin's bytes; `None` inherits the host's stdin (and stdout and stderr are inherited too, unless
    /// `capture`).
    pub stdin: Option<Vec<u8>>,
    /// Capture stdout and stderr (otherwise they are the host's).
    pub capture: bool,
    /// Preopened directories: host path, guest path (read and write).
    pub dirs: Vec<(PathBuf, String)>,
    /// Fixed clocks and random seed.
    pub determinism: Option<Determinism>,
    /// Call this export instead of `wasi:cli/run` (a library component), as `wasmtime run --invoke` does.
    pub invoke: Option<Invocation>,
}

/// One export to call with WASI provided, instead of `wasi:cli/run`: its path (a root function, or an exported
/// instance and its function) and its arguments, typed against the component.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// `["f"]` for a root function, `["ns:pkg/iface", "f"]` for a function of an exported instance.
    pub path: Vec<String>,
    /// The arguments.
    pub params: Vec<component_layer::Value>,
}

impl Invocation {
    /// Parses `call`, `name(args in WAVE)` as `wasmtime run --invoke` takes it, against the export types of the
    /// component `bytes`. `name` is a root function `f` or `iface#f` (component-layer's spelling of a function of
    /// an exported instance, e.g. `local:demo/api#add`); a trailing `option` argument may be left out.
    pub fn parse(bytes: &[u8], call: &str) -> anyhow::Result<Invocation> {
        let open = call.find('(').ok_or_else(|| anyhow!("--invoke {call:?}: expected `name(args...)`"))?;
        let (name, args) = call.split_at(open);
        let path: Vec<String> = match name.trim().rsplit_once('#') {
            Some((iface, f)) => vec![iface.to_owned(), f.to_owned()],
            None => vec![name.trim().to_owned()],
        };
        let func_name = path.last().map(String::as_str).unwrap_or_default();
        let engine = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
        let component = component_layer::Component::new(&engine, bytes)?;
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let ty = component
            .export_func_type(&refs)
            .ok_or_else(|| anyhow!("--invoke: the component exports no function `{}`", path.join("#")))?;
        // WAVE's call syntax names the function by a plain label; the interface part was split off above.
        let text = format!("{func_name}{args}");
        let parsed = wasm_wave::untyped::UntypedFuncCall::parse(&text)
            .map_err(|e| anyhow!("--invoke {call:?}: {}", wave_error(&text, &e)))?;
        let params = parsed
            .to_wasm_params::<component_layer::Value>(ty.params().iter().map(|(_, t)| t))
            .map_err(|e| anyhow!("--invoke {call:?}: {}", wave_error(&text, &e)))?;
        Ok(Invocation { path, params })
    }
}

/// A WAVE parse error with the text it points at.
fn wave_error(text: &str, e: &wasm_wave::parser::ParserError) -> String {
    match text.get(e.span()) {
        Some(at) if !at.is_empty() => format!("{e} (at `{at}`)"),
        _ => e.to_string(),
    }
}

/// Load, instantiate and run times.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    /// `Component::new` (compile every core module).
    pub load: Duration,
    /// Linking and instantiation.
    pub instantiate: Duration,
    /// The call of `run`.
    pub run: Duration,
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutput {
    /// The exit status (0 or 1 from `run`'s result, or the guest's `exit` status); `None` if it trapped.
    pub exit_code: Option<i32>,
    /// The trap or failure, if any (not compared across engines: the texts differ).
    pub trap: Option<String>,
    /// Captured stdout.
    pub stdout: Vec<u8>,
    /// Captured stderr.
    pub stderr: Vec<u8>,
    /// With [`RunSpec::invoke`]: the call's result in WAVE (empty for a function without one); `None` if it
    /// trapped or exited.
    pub result: Option<String>,
}

impl RunOutput {
    /// The process exit status, as `wasmtime run` gives it: the guest's, or 1 after a trap.
    pub fn process_code(&self) -> i32 {
        self.exit_code.unwrap_or(1)
    }
}

/// Native stack for a run's thread: a main thread's 8 MiB, as `wasmtime run` has. Every corpus program, the
/// 18 MB CPython ones included, runs in 2 MiB on all three engines.
const RUN_STACK: usize = 8 << 20;

/// Runs `bytes` on `engine` with `spec`, on a thread of its own with [`RUN_STACK`] of native stack.
pub fn run(engine: WasiEngine, bytes: &[u8], spec: &RunSpec) -> anyhow::Result<(RunOutput, Timings)> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(RUN_STACK)
            .spawn_scoped(s, || run_here(engine, bytes, spec))?
            .join()
            .map_err(|_| anyhow!("{}: the run panicked", engine.name()))?
    })
}

fn run_here(engine: WasiEngine, bytes: &[u8], spec: &RunSpec) -> anyhow::Result<(RunOutput, Timings)> {
    match engine {
        WasiEngine::LayerWasmi => run_layer(wasmi_runtime_layer::Engine::default(), bytes, spec),
        WasiEngine::LayerWasmtime => run_layer(wasmtime_runtime_layer::Engine::default(), bytes, spec),
        WasiEngine::Wasmtime => run_wasmtime(bytes, spec),
    }
}

fn run_layer<E: WasmEngine>(backend: E, bytes: &[u8], spec: &RunSpec) -> anyhow::Result<(RunOutput, Timings)> {
    let engine = component_layer::Engine::new(backend);
    let mut t = Timings::default();
    let start = Instant::now();
    let component = component_layer::Component::new(&engine, bytes)?;
    t.load = start.elapsed();

    let stdout = lwasi::CaptureBuffer::with_limit(64 << 20);
    let stderr = lwasi::CaptureBuffer::with_limit(64 << 20);
    let mut b = lwasi::WasiCtxBuilder::new();
    b.args(spec.args.iter().cloned());
    if spec.inherit_env {
        b.inherit_env();
    }
    for (k, v) in &spec.env {
        b.env(k, v);
    }
    match &spec.stdin {
        Some(bytes) => b.stdin_bytes(bytes.clone()),
        None => b.inherit_stdin(),
    };
    if spec.capture {
        b.stdout_capture(stdout.clone()).stderr_capture(stderr.clone());
    } else {
        b.inherit_stdout().inherit_stderr();
    }
    for (host, guest) in &spec.dirs {
        b.preopened_dir(host, guest, lwasi::DirPerms::ReadWrite)
            .with_context(|| format!("preopening {}", host.display()))?;
    }
    if let Some(d) = spec.determinism {
        b.deterministic(d.wall, d.seed);
    }

    let start = Instant::now();
    let mut linker = component_layer::Linker::<lwasi::WasiCtx, E>::new();
    lwasi::add_to_linker(&mut linker)?;
    let mut store = component_layer::Store::new(&engine, b.build());
    let instance = linker.instantiate(&mut store, &component)?;
    t.instantiate = start.elapsed();

    let start = Instant::now();
    let (exit_code, trap, result) = match &spec.invoke {
        None => match lwasi::call_run(&mut store, &instance) {
            Ok(outcome) => (Some(outcome.code()), None, None),
            Err(e) => (None, Some(format!("{e}")), None),
        },
        Some(inv) => {
            let path: Vec<&str> = inv.path.iter().map(String::as_str).collect();
            let func = instance
                .get_func_by_path(&path)
                .ok_or_else(|| anyhow!("the component exports no function `{}`", inv.path.join("#")))?;
            let mut results = vec![component_layer::Value::Bool(false); usize::from(func.ty().result().is_some())];
            match func.call(&mut store, &inv.params, &mut results) {
                Ok(()) => (Some(0), None, Some(wave_results(&results)?)),
                Err(e) => match lwasi::exit_code(&e) {
                    Some(code) => (Some(code), None, None),
                    None => (None, Some(format!("{e}")), None),
                },
            }
        }
    };
    t.run = start.elapsed();
    Ok((RunOutput { exit_code, trap, stdout: stdout.contents(), stderr: stderr.contents(), result }, t))
}

/// The results of a call in WAVE, as `wasmtime run --invoke` prints them (nothing for no result).
fn wave_results(results: &[component_layer::Value]) -> anyhow::Result<String> {
    let texts = results.iter().map(wasm_wave::to_string).collect::<Result<Vec<_>, _>>()?;
    Ok(texts.join(", "))
}

/// The seeded generator of component-layer-wasi, as wasmtime-wasi's `Rng`. wasmtime-wasi makes random bytes
/// one `u8` sample at a time, and rand samples a `u8` as the low byte of `next_u32`; so `next_u32` is one step
/// of the generator (its low bits), which gives the bytes [`lwasi::SeededRandom`] gives (one step per byte).
struct SeededRng(lwasi::SeededRandom);

impl rand_core::TryRng for SeededRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(lwasi::RandomSource::next_u64(&mut self.0) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(lwasi::RandomSource::next_u64(&mut self.0))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        lwasi::RandomSource::fill_bytes(&mut self.0, dst);
        Ok(())
    }
}

struct FixedWall(Duration);

impl wasmtime_wasi::HostWallClock for FixedWall {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

struct FixedMonotonic;

impl wasmtime_wasi::HostMonotonicClock for FixedMonotonic {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

struct WtState {
    ctx: wasmtime_wasi::WasiCtx,
    table: wasmtime_wasi::ResourceTable,
}

impl wasmtime_wasi::WasiView for WtState {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }
}

fn run_wasmtime(bytes: &[u8], spec: &RunSpec) -> anyhow::Result<(RunOutput, Timings)> {
    use wasmtime::component::{Component, Linker};
    use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

    let engine = crate::engine::wasmtime_engine();
    let mut t = Timings::default();
    let start = Instant::now();
    let component = Component::new(&engine, bytes).map_err(|e| anyhow!("{e:#}"))?;
    t.load = start.elapsed();

    let stdout = MemoryOutputPipe::new(64 << 20);
    let stderr = MemoryOutputPipe::new(64 << 20);
    let mut b = wasmtime_wasi::WasiCtxBuilder::new();
    b.args(&spec.args);
    if spec.inherit_env {
        b.inherit_env();
    }
    for (k, v) in &spec.env {
        b.env(k, v);
    }
    match &spec.stdin {
        Some(bytes) => b.stdin(MemoryInputPipe::new(bytes.clone())),
        None => b.inherit_stdin(),
    };
    if spec.capture {
        b.stdout(stdout.clone()).stderr(stderr.clone());
    } else {
        b.inherit_stdout().inherit_stderr();
    }
    for (host, guest) in &spec.dirs {
        b.preopened_dir(host, guest, wasmtime_wasi::FsPerms::ReadWrite).map_err(|e| anyhow!("{e:#}"))?;
    }
    if let Some(d) = spec.determinism {
        b.wall_clock(FixedWall(d.wall))
            .monotonic_clock(FixedMonotonic)
            .secure_random(SeededRng(lwasi::SeededRandom::new(d.seed)))
            .insecure_random(SeededRng(lwasi::SeededRandom::new(d.seed ^ 0x5555_5555_5555_5555)))
            .insecure_random_seed((u128::from(d.seed) << 64) | u128::from(!d.seed));
    }

    let start = Instant::now();
    let mut linker = Linker::<WtState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| anyhow!("{e:#}"))?;
    let mut store =
        wasmtime::Store::new(&engine, WtState { ctx: b.build(), table: wasmtime_wasi::ResourceTable::new() });
    let instance = linker.instantiate(&mut store, &component).map_err(|e| anyhow!("{e:#}"))?;
    if let Some(inv) = &spec.invoke {
        t.instantiate = start.elapsed();
        return invoke_wasmtime(&mut store, &instance, inv, t, stdout, stderr);
    }
    let ty = component.component_type();
    let run_name = ty
        .exports(&engine)
        .map(|(n, _)| n.to_owned())
        .find(|n| n.starts_with("wasi:cli/run@0.2."))
        .ok_or_else(|| anyhow!("the component exports no `wasi:cli/run@0.2.x`"))?;
    let iface =
        instance.get_export_index(&mut store, None, &run_name).ok_or_else(|| anyhow!("no export `{run_name}`"))?;
    let func = instance
        .get_export_index(&mut store, Some(&iface), "run")
        .ok_or_else(|| anyhow!("`{run_name}` exports no `run`"))?;
    let run = instance.get_typed_func::<(), (Result<(), ()>,)>(&mut store, &func).map_err(|e| anyhow!("{e:#}"))?;
    t.instantiate = start.elapsed();

    let start = Instant::now();
    let result = run.call(&mut store, ());
    t.run = start.elapsed();
    let (exit_code, trap) = match result {
        Ok((Ok(()),)) => (Some(0), None),
        Ok((Err(()),)) => (Some(1), None),
        Err(e) => match wasmtime_exit(&e) {
            Some(code) => (Some(code), None),
            None => (None, Some(format!("{e:#}"))),
        },
    };
    let (stdout, stderr) = (stdout.contents().to_vec(), stderr.contents().to_vec());
    Ok((RunOutput { exit_code, trap, stdout, stderr, result: None }, t))
}

/// The guest's exit status if `e` is wasmtime-wasi's `exit` rather than a trap.
fn wasmtime_exit(e: &wasmtime::Error) -> Option<i32> {
    e.downcast_ref::<wasmtime_wasi::I32Exit>().map(|exit| exit.0)
}

/// [`RunSpec::invoke`] on wasmtime: the arguments go through the harness's value conversion.
fn invoke_wasmtime(
    store: &mut wasmtime::Store<WtState>,
    instance: &wasmtime::component::Instance,
    inv: &Invocation,
    mut t: Timings,
    stdout: wasmtime_wasi::p2::pipe::MemoryOutputPipe,
    stderr: wasmtime_wasi::p2::pipe::MemoryOutputPipe,
) -> anyhow::Result<(RunOutput, Timings)> {
    use crate::engine::value::{from_plain_val, to_val};
    let missing = || anyhow!("the component exports no function `{}`", inv.path.join("#"));
    let mut parent = None;
    for name in &inv.path {
        parent = Some(instance.get_export_index(&mut *store, parent.as_ref(), name).ok_or_else(missing)?);
    }
    let func = parent.and_then(|idx| instance.get_func(&mut *store, idx)).ok_or_else(missing)?;
    let params = inv.params.iter().map(to_val).collect::<Result<Vec<_>, _>>().map_err(|e| anyhow!(e))?;
    let mut results = vec![wasmtime::component::Val::Bool(false); func.ty(&*store).results().len()];
    let start = Instant::now();
    let outcome = func.call(&mut *store, &params, &mut results);
    t.run = start.elapsed();
    let (exit_code, trap, result) = match outcome {
        Ok(()) => {
            let values = results.iter().map(from_plain_val).collect::<Result<Vec<_>, _>>().map_err(|e| anyhow!(e))?;
            (Some(0), None, Some(wave_results(&values)?))
        }
        Err(e) => match wasmtime_exit(&e) {
            Some(code) => (Some(code), None, None),
            None => (None, Some(format!("{e:#}")), None),
        },
    };
    let (stdout, stderr) = (stdout.contents().to_vec(), stderr.contents().to_vec());
    Ok((RunOutput { exit_code, trap, stdout, stderr, result }, t))
}

/// A directory's files and directories: relative path → file contents (`None` for a directory).
pub type FileTree = BTreeMap<String, Option<Vec<u8>>>;

/// Reads the tree under `root` (symlinks are recorded as `-> target`).
pub fn file_tree(root: &Path) -> anyhow::Result<FileTree> {
    fn walk(root: &Path, dir: &Path, out: &mut FileTree) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let rel = path.strip_prefix(root)?.to_string_lossy().replace('\\', "/");
            let ft = entry.file_type()?;
            if ft.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out)?;
            } else if ft.is_symlink() {
                out.insert(rel, Some(format!("-> {}", std::fs::read_link(&path)?.display()).into_bytes()));
            } else {
                out.insert(rel, Some(std::fs::read(&path)?));
            }
        }
        Ok(())
    }
    let mut out = FileTree::new();
    walk(root, root, &mut out)?;
    Ok(out)
}

/// Copies the tree under `from` into `to` (created).
pub fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A fresh, empty scratch directory under the system's temporary directory.
pub fn scratch_dir(label: &str) -> anyhow::Result<PathBuf> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("component-harness-wasi-{}-{n}-{label}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// One engine's run in a comparison: the output, the file tree of each preopen afterwards, and the times.
#[derive(Debug)]
pub struct EngineRun {
    /// The engine.
    pub engine: WasiEngine,
    /// What the run printed and returned (or why it could not run).
    pub output: Result<RunOutput, String>,
    /// The trees of the preopened directories afterwards, in the order of `spec.dirs`.
    pub trees: Vec<FileTree>,
    /// Load, instantiate and run times.
    pub timings: Timings,
}

/// Runs `bytes` with `spec` (which must capture) on each engine of `engines`, each on fresh copies of the
/// preopened directories.
pub fn run_all(engines: &[WasiEngine], bytes: &[u8], spec: &RunSpec) -> anyhow::Result<Vec<EngineRun>> {
    let mut runs = Vec::new();
    for &engine in engines {
        let mut spec = spec.clone();
        spec.capture = true;
        if spec.stdin.is_none() {
            spec.stdin = Some(Vec::new());
        }
        let mut copies = Vec::new();
        for (host, guest) in &mut spec.dirs {
            let copy = scratch_dir(engine.name())?;
            copy_tree(host, &copy)?;
            *host = copy.clone();
            copies.push((copy, guest.clone()));
        }
        let (output, timings) = match run(engine, bytes, &spec) {
            Ok((o, t)) => (Ok(o), t),
            Err(e) => (Err(format!("{e:#}")), Timings::default()),
        };
        let mut trees = Vec::new();
        for (copy, _) in &copies {
            trees.push(file_tree(copy)?);
            let _ = std::fs::remove_dir_all(copy);
        }
        runs.push(EngineRun { engine, output, trees, timings });
    }
    Ok(runs)
}

/// The differences between the runs, against the first: stdout, stderr, exit status, whether it trapped, and
/// the file trees. Empty if they all agree.
pub fn divergences(runs: &[EngineRun]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(first) = runs.first() else { return out };
    for other in &runs[1..] {
        let (a, b) = (first.engine.name(), other.engine.name());
        match (&first.output, &other.output) {
            (Ok(x), Ok(y)) => {
                if x.exit_code != y.exit_code || x.trap.is_some() != y.trap.is_some() {
                    out.push(format!(
                        "exit: {a} {:?}{}, {b} {:?}{}",
                        x.exit_code,
                        x.trap.as_deref().map(|t| format!(" (trap: {t})")).unwrap_or_default(),
                        y.exit_code,
                        y.trap.as_deref().map(|t| format!(" (trap: {t})")).unwrap_or_default()
                    ));
                }
                if x.result != y.result {
                    out.push(format!("result: {a} {:?}, {b} {:?}", x.result, y.result));
                }
                for (what, p, q) in [("stdout", &x.stdout, &y.stdout), ("stderr", &x.stderr, &y.stderr)] {
                    if p != q {
                        out.push(format!(
                            "{what}: {a}\n{}\n--- {b}\n{}",
                            String::from_utf8_lossy(p),
                            String::from_utf8_lossy(q)
                        ));
                    }
                }
            }
            (x, y) if x.is_err() || y.is_err() => out.push(format!("could not run: {a} {x:?}, {b} {y:?}")),
            _ => {}
        }
        if first.trees != other.trees {
            out.push(format!("file tree: {a} {:?}\n{b} {:?}", tree_summary(&first.trees), tree_summary(&other.trees)));
        }
    }
    out
}

fn tree_summary(trees: &[FileTree]) -> Vec<Vec<String>> {
    trees
        .iter()
        .map(|t| {
            t.iter()
                .map(|(k, v)| match v {
                    None => format!("{k}/"),
                    Some(b) => format!("{k} ({} bytes)", b.len()),
                })
                .collect()
        })
        .collect()
}

/// Checks that no run failed to run at all.
pub fn all_ran(runs: &[EngineRun]) -> anyhow::Result<()> {
    for r in runs {
        if let Err(e) = &r.output {
            bail!("{}: {e}", r.engine.name());
        }
    }
    Ok(())
}
