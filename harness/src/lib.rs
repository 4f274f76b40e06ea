//! # component-harness
//!
//! Runs component-model conformance suites and generated cases on three engines — component-layer over wasmi,
//! component-layer over wasmtime's core engine, and wasmtime's native component support — and compares what they
//! do.
//!
//! * [`engine`] — the one engine abstraction every command uses: its three implementations, the hosts, the
//!   value model, and the engines that are wrong on purpose;
//! * [`worker`] — crash-safe execution: jobs in worker processes under a supervisor;
//! * [`wast`] — the `.wast` runner;
//! * [`expectations`] — the file that lists every skip with its reason;
//! * [`conform`] — the conformance suite as a whole: discovery, reports, the Markdown table;
//! * [`diff`] and [`fuzz`] — differential execution of generated cases, attribution, shrinking, regression
//!   files; [`evidence`] — core-level evidence that a core backend is wrong;
//! * [`check`] — any user's component across the engines, with a generic host;
//! * [`selftest`] — engines that are wrong on purpose, which the harness must catch;
//! * [`bench`] — the benchmarks against the raw layer and wasmtime native.

pub mod bench;
pub mod check;
pub mod conform;
pub mod diff;
pub mod engine;
pub mod evidence;
pub mod expectations;
pub mod fuzz;
pub mod selftest;
pub mod toolchain;
pub mod wasi;
pub mod wast;
pub mod wave;
pub mod worker;
