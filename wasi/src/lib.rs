//! A WASI 0.2 host for component-layer, on every engine behind `wasm_runtime_layer`.
//!
//! WASI 0.2 is synchronous, and so is this host: a guest's blocking call blocks the host thread. It implements
//! every interface of `wasi:cli/imports` — `wasi:cli` (environment, exit, stdio, terminals), `wasi:io` (error,
//! poll, streams), `wasi:clocks`, `wasi:random`, `wasi:filesystem` over real directories through `cap-std`, and
//! `wasi:sockets`, which links but answers `not-supported` — on the typed API through `bindgen!` (the WIT is the
//! vendored WASI 0.2.12 in the workspace's `wit/wasi-0.2`). Definitions are made at version 0.2.12; the linker's
//! semver-aware lookup gives them to components that import any 0.2.x (`wasi:cli/environment@0.2.0`, …).
//!
//! Everything a guest can observe is injectable so that a run can be repeated byte for byte, on any engine:
//! arguments, environment, stdin, captured stdout and stderr, the clocks and the random sources
//! ([`WasiCtxBuilder::deterministic`]).
//!
//! A `wasi:cli/run` command (here `tests/guests/hello.wat`, a hand-written one; real ones come from
//! componentize-py, componentize-js or cargo-component), run as `wasmtime run` would, with its stdout captured:
//!
//! ```
//! use component_layer::{Component, Engine, Linker, Store};
//! use component_layer_wasi::{CaptureBuffer, RunOutcome, WasiCtx, WasiView};
//!
//! /// The store's data: the WASI context, and whatever else the embedder keeps.
//! struct State {
//!     wasi: WasiCtx,
//! }
//!
//! impl WasiView for State {
//!     fn ctx(&mut self) -> &mut WasiCtx {
//!         &mut self.wasi
//!     }
//! }
//!
//! # fn main() -> anyhow::Result<()> {
//! let engine = Engine::new(wasmi_runtime_layer::Engine::default());
//! let bytes = wat::parse_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/guests/hello.wat"))?;
//! let component = Component::new(&engine, &bytes)?;
//!
//! let mut linker = Linker::<State, wasmi_runtime_layer::Engine>::new();
//! component_layer_wasi::add_to_linker(&mut linker)?;
//!
//! let stdout = CaptureBuffer::new();
//! let wasi = WasiCtx::builder().arg("hello").env("K", "V").stdout_capture(stdout.clone()).build();
//! let mut store = Store::new(&engine, State { wasi });
//! let instance = linker.instantiate(&mut store, &component)?;
//!
//! let outcome = component_layer_wasi::call_run(&mut store, &instance)?;
//! assert_eq!(outcome, RunOutcome::Exit(0));
//! assert_eq!(stdout.contents(), b"hello from a guest\n");
//! # Ok(()) }
//! ```
//!
//! A guest's `exit` ends the call that is running with an error whose [`exit_code`] is the guest's status, so a
//! caller can tell an exit from a trap.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cli;
mod clocks;
mod ctx;
mod filesystem;
mod io;
mod sockets;
mod table;

use component_layer::{AsContextMut, Error, ErrorKind, Export, Instance, Linker};
use wasm_runtime_layer::backend::WasmEngine;

pub use clocks::MAX_RANDOM_BYTES;
pub use ctx::{
    CaptureBuffer, DirPerms, FixedWallClock, MonotonicClock, OsRandom, RandomSource, SeededRandom,
    SystemMonotonicClock, SystemWallClock, VirtualMonotonicClock, WallClock, WasiCtx, WasiCtxBuilder,
};
pub use io::{MAX_READ, WRITE_BUDGET};
pub use table::MAX_ENTRIES;

/// The bindings `bindgen!` generates for `wasi:cli/imports@0.2.12`, which the host implements on [`WasiCtx`].
#[allow(missing_docs)]
pub mod bindings {
    component_layer::bindgen!({
        path: [
            "../wit/wasi-0.2/io",
            "../wit/wasi-0.2/clocks",
            "../wit/wasi-0.2/random",
            "../wit/wasi-0.2/filesystem",
            "../wit/wasi-0.2/sockets",
            "../wit/wasi-0.2/cli",
        ],
        world: "wasi:cli/imports",
        trappable_imports: true,
    });
}

/// Store data that holds a [`WasiCtx`].
pub trait WasiView: 'static {
    /// The WASI context.
    fn ctx(&mut self) -> &mut WasiCtx;
}

impl WasiView for WasiCtx {
    fn ctx(&mut self) -> &mut WasiCtx {
        self
    }
}

/// Defines every interface of `wasi:cli/imports@0.2.12` in `linker`, implemented by the [`WasiCtx`] of the
/// store's data. Components importing any `0.2.x` version link against these definitions.
pub fn add_to_linker<T: WasiView, E: WasmEngine>(linker: &mut Linker<T, E>) -> component_layer::Result<()> {
    bindings::Imports::add_to_linker(linker, |t: &mut T| t.ctx())
}

/// The guest called `wasi:cli/exit.exit` (or `exit-with-code`) with this status: the run ended, it did not trap.
/// Host functions return it as the error that unwinds the guest; find it again with [`exit_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl std::fmt::Display for I32Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exited with status {}", self.0)
    }
}

impl std::error::Error for I32Exit {}

impl From<I32Exit> for Error {
    fn from(e: I32Exit) -> Self {
        Error::new(ErrorKind::Host(anyhow::Error::new(e)))
    }
}

/// The exit status if `err` is a guest's `exit` rather than a failure.
pub fn exit_code(err: &Error) -> Option<i32> {
    match err.kind() {
        ErrorKind::Host(e) => e.downcast_ref::<I32Exit>().map(|e| e.0),
        _ => None,
    }
}

/// How a `wasi:cli/run` component's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// `run` returned `ok` (status 0) or `err` (status 1), or the guest called `exit` with this status.
    Exit(i32),
}

impl RunOutcome {
    /// The process exit status, as `wasmtime run` would give it.
    pub fn code(self) -> i32 {
        match self {
            RunOutcome::Exit(c) => c,
        }
    }
}

/// The name of the `wasi:cli/run@0.2.x` instance `instance` exports, if any.
pub fn run_export(instance: &Instance) -> Option<String> {
    instance
        .exports()
        .map(|(name, _)| name)
        .find(|name| name.strip_prefix("wasi:cli/run@0.2.").is_some_and(|rest| !rest.is_empty()))
        .map(str::to_owned)
}

/// Calls `run` of the `wasi:cli/run@0.2.x` export of `instance`: its result, or the guest's `exit` status, as
/// a [`RunOutcome`]; a trap or any other failure is the error.
pub fn call_run<S: AsContextMut>(mut store: S, instance: &Instance) -> component_layer::Result<RunOutcome> {
    let name = run_export(instance)
        .ok_or_else(|| Error::new(ErrorKind::Usage("the component exports no `wasi:cli/run@0.2.x`".into())))?;
    let func = match instance.get_export(name.as_str()) {
        Some(Export::Instance(i)) => i.get_func("run"),
        _ => None,
    }
    .ok_or_else(|| Error::new(ErrorKind::Usage(format!("`{name}` exports no function `run`"))))?;
    let run = func.typed::<(), (Result<(), ()>,)>()?;
    match run.call(&mut store, ()) {
        Ok((Ok(()),)) => Ok(RunOutcome::Exit(0)),
        Ok((Err(()),)) => Ok(RunOutcome::Exit(1)),
        Err(e) => exit_code(&e).map(RunOutcome::Exit).ok_or(e),
    }
}
