//! # component-harness
//!
//! Runs component-model conformance suites and generated cases on three engines — component-layer over wasmi,
//! component-layer over wasmtime's core engine, and wasmtime's native component support — and compares what they
//! do.
//!
//! * [`engines`] — the engine trait and its three implementations, plus the test host environment;
//! * [`wast`] — the `.wast` runner;
//! * [`expectations`] — the file that lists every skip with its reason;
//! * [`conform`] — the conformance suite as a whole: discovery, reports, the Markdown table;
//! * [`diff`] and [`fuzz`] — differential execution of generated cases, shrinking, regression files;
//! * [`check`] — any user's component across the engines, with a generic host;
//! * [`bench`] — the benchmarks against the raw layer and wasmtime native.

pub mod bench;
pub mod check;
pub mod conform;
pub mod diff;
pub mod engines;
pub mod expectations;
pub mod fuzz;
pub mod toolchain;
pub mod wast;
pub mod wave;
