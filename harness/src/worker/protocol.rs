//! What the supervisor and its workers say to each other, and the worker's side.
//!
//! The supervisor writes one [`Job`] per line (JSON) to a worker's stdin; the worker answers with [`Event`]s,
//! one per line on stdout: a [`Step`] before every engine operation, and when the job is done its [`JobResult`].
//! A worker takes jobs until its stdin closes. Anything else a worker prints goes to stderr, which the supervisor
//! keeps the end of for the report of a death.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use component_layer::Value;
use serde::{Deserialize, Serialize};

use crate::check::{CheckConfig, ComponentReport};
use crate::diff::driver::CallOutcome;
use crate::engine::{CallSpec, ComponentId, Engine, EngineSpec, Failure, Host, ImportCall, InstanceId};
use crate::fuzz::{CaseRef, CaseResult, FuzzOptions};
use crate::wast::FileRun;

/// A job for a worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Job {
    /// Fuzz one case: run it on the engines and, on a divergence, shrink, attribute and write it.
    Fuzz {
        /// The case.
        case: CaseRef,
        /// How.
        options: FuzzOptions,
    },
    /// Run a case's calls on engines and report what each did (for isolating and shrinking a crash, and for
    /// the reference outcomes of its regression).
    Run {
        /// The case.
        case: CaseRef,
        /// The engines.
        engines: Vec<EngineSpec>,
    },
    /// Run a `.wast` file on one engine.
    Conform {
        /// The file.
        path: PathBuf,
        /// Its label (for the expectations).
        label: String,
        /// The engine.
        engine: EngineSpec,
    },
    /// Check one component on engines.
    Check {
        /// The component (`.wasm` or `.wat`).
        path: PathBuf,
        /// Its name in reports.
        name: String,
        /// The engines.
        engines: Vec<EngineSpec>,
        /// The check's settings.
        config: CheckConfig,
    },
}

/// What a finished job produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum JobResult {
    /// A fuzzed case.
    Fuzz(Box<CaseResult>),
    /// Each engine's outcome of each call of a case (an engine that failed to load has its failure instead).
    Run(Vec<Result<Vec<CallOutcome>, Failure>>),
    /// A `.wast` file's run.
    Conform(Box<FileRun>),
    /// A checked component.
    Check(Box<ComponentReport>),
    /// The job could not be done (bad input), with why.
    Error(String),
}

/// An engine operation a worker is about to do: the last one announced is where a dead worker died.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The engine.
    pub engine: String,
    /// The operation: `compile`, `instantiate`, `call <export>`, `drop resource`, ….
    pub op: String,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.op, self.engine)
    }
}

/// A line a worker writes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Event {
    /// About to do an engine operation.
    Step(Step),
    /// A note for the supervisor that must survive the worker (e.g. a divergence found before shrinking it).
    Note(String),
    /// About to run call `n` of the case's script (on every engine in turn).
    Call(usize),
    /// The job is done.
    Done(Box<JobResult>),
}

/// How a worker died.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Death {
    /// A Rust panic that reached the top of the worker.
    Panic,
    /// `abort()` (SIGABRT) for another reason than the two below.
    Abort,
    /// A native stack overflow.
    StackOverflow,
    /// An allocation the memory cap (or the system) refused.
    OutOfMemory,
    /// No step announced within the time limit: killed by the supervisor.
    Hang,
    /// Killed by another signal.
    Signal(i32),
    /// Exited with a code without finishing its job.
    Exit(i32),
}

impl Death {
    /// The class's name in reports and file names.
    pub fn name(&self) -> String {
        match self {
            Death::Panic => "panic".into(),
            Death::Abort => "abort".into(),
            Death::StackOverflow => "stack-overflow".into(),
            Death::OutOfMemory => "out-of-memory".into(),
            Death::Hang => "hang".into(),
            Death::Signal(s) => format!("signal-{s}"),
            Death::Exit(c) => format!("exit-{c}"),
        }
    }

    /// Reads how a process died from its exit status and the end of its stderr.
    pub fn classify(status: std::process::ExitStatus, stderr: &str, killed_for_hang: bool) -> Death {
        use std::os::unix::process::ExitStatusExt;
        if killed_for_hang {
            return Death::Hang;
        }
        if stderr.contains("has overflowed its stack") {
            return Death::StackOverflow;
        }
        if stderr.contains("memory allocation of") && stderr.contains("failed") {
            return Death::OutOfMemory;
        }
        match (status.code(), status.signal()) {
            (_, Some(6)) => Death::Abort,
            (_, Some(9)) => Death::OutOfMemory,
            (_, Some(s)) => Death::Signal(s),
            (Some(101), _) if stderr.contains("panicked at") => Death::Panic,
            (Some(c), _) => Death::Exit(c),
            (None, None) => Death::Exit(-1),
        }
    }
}

/// Where the worker writes its events (set in [`serve`]); `None` in any other process.
static EVENTS: Mutex<Option<std::io::Stdout>> = Mutex::new(None);

/// Writes an event, if this process is a worker.
pub fn emit(event: &Event) {
    let mut guard = EVENTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(out) = guard.as_mut() {
        if let Ok(line) = serde_json::to_string(event) {
            // A supervisor that went away ends the worker at its next read; nothing to do about a write error.
            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        }
    }
}

/// Announces a step of the harness's own work (shrinking, seeking evidence, rendering) that may take a while, so
/// that the supervisor does not take a long job for a hang.
pub fn heartbeat(op: &str) {
    emit(&Event::Step(Step { engine: "harness".into(), op: op.into() }));
}

/// Whether this process is a worker (announcing its steps).
pub fn in_worker() -> bool {
    EVENTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_some()
}

/// The worker's main loop: reads jobs from stdin until it closes, does each, writes its events to stdout.
pub fn serve() -> anyhow::Result<()> {
    *EVENTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(std::io::stdout());
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let result = match serde_json::from_str::<Job>(&line) {
            Ok(job) => run_job(job),
            Err(e) => JobResult::Error(format!("bad job: {e}")),
        };
        emit(&Event::Done(Box::new(result)));
    }
    Ok(())
}

/// Does one job, in this process.
pub fn run_job(job: Job) -> JobResult {
    match job {
        Job::Fuzz { case, options } => JobResult::Fuzz(Box::new(crate::fuzz::process_case(&case, &options))),
        Job::Run { case, engines } => {
            let case = case.build();
            JobResult::Run(engines.iter().map(|e| crate::fuzz::run_on(&case, &mut *watched(e))).collect())
        }
        Job::Conform { path, label, engine } => {
            let exp = match crate::conform::expectations() {
                Ok(e) => e,
                Err(e) => return JobResult::Error(format!("expectations: {e:#}")),
            };
            let file = crate::conform::SuiteFile { label, path };
            JobResult::Conform(Box::new(crate::conform::run_one_on(&file, &mut *watched(&engine), &exp)))
        }
        Job::Check { path, name, engines, config } => {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => return JobResult::Error(format!("cannot read {}: {e}", path.display())),
            };
            let mut engines: Vec<_> = engines.iter().map(|e| crate::check::CheckEngine::new(watched(e))).collect();
            JobResult::Check(Box::new(crate::check::check_component(&name, &bytes, &mut engines, &config, &mut |_| {})))
        }
    }
}

/// A fresh engine for `spec`, announcing its steps when this process is a worker.
pub fn watched(spec: &EngineSpec) -> Box<dyn Engine> {
    let inner = spec.open();
    if in_worker() {
        Box::new(Watched { inner })
    } else {
        inner
    }
}

/// An engine that announces every operation before doing it.
struct Watched {
    inner: Box<dyn Engine>,
}

impl Watched {
    fn step(&self, op: impl Into<String>) {
        emit(&Event::Step(Step { engine: self.inner.name().to_owned(), op: op.into() }));
    }
}

impl Engine for Watched {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn compile(&mut self, bytes: &[u8]) -> Result<ComponentId, Failure> {
        self.step("compile");
        self.inner.compile(bytes)
    }

    fn instantiate(&mut self, component: ComponentId, host: &Host) -> Result<InstanceId, Failure> {
        self.step("instantiate");
        self.inner.instantiate(component, host)
    }

    fn register(&mut self, instance: InstanceId, name: &str) -> Result<(), Failure> {
        self.step("register");
        self.inner.register(instance, name)
    }

    fn call(&mut self, instance: InstanceId, call: &CallSpec) -> Result<Option<Value>, Failure> {
        self.step(format!("call {}", call.path.join("#")));
        self.inner.call(instance, call)
    }

    fn drop_resource(&mut self, instance: InstanceId, number: u32) -> Result<(), Failure> {
        self.step(format!("drop resource #{number}"));
        self.inner.drop_resource(instance, number)
    }

    fn drop_instance(&mut self, instance: InstanceId) {
        self.inner.drop_instance(instance)
    }

    fn take_log(&mut self) -> Vec<ImportCall> {
        self.inner.take_log()
    }

    fn reset(&mut self) {
        self.inner.reset()
    }
}
