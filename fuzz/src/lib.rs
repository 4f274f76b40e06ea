//! Helpers shared by the cargo-fuzz targets in `fuzz_targets/`.
//!
//! Nothing here reads the conformance data: the targets only generate cases with `component-gen` and run them
//! through the harness's engines and differ.

use std::cell::RefCell;
use std::path::PathBuf;

use component_gen::{Case, Tier};
use component_harness::diff::blame::attribute;
use component_harness::diff::{run_case, CaseReport};
use component_harness::engine::{Engine, EngineKind};
use component_harness::fuzz::CaseRef;

thread_local! {
    /// The engines, created once per process: engine creation (wasmtime's above all) is far more expensive than a
    /// case. libFuzzer runs inputs on one thread, so a thread-local is enough.
    static ENGINES: RefCell<Vec<Box<dyn Engine>>> = RefCell::new(EngineKind::ALL.iter().map(|k| k.open()).collect());
}

/// Runs `f` with the process's engines.
pub fn with_executors<R>(f: impl FnOnce(&mut [Box<dyn Engine>]) -> R) -> R {
    ENGINES.with(|e| f(&mut e.borrow_mut()))
}

/// A seed from the first 8 bytes of `data` (little-endian, zero-padded), and the rest.
pub fn take_seed(data: &[u8]) -> (u64, &[u8]) {
    let n = data.len().min(8);
    let mut b = [0u8; 8];
    b[..n].copy_from_slice(&data[..n]);
    (u64::from_le_bytes(b), &data[n..])
}

/// One byte of `data` (0 if empty), and the rest.
pub fn take_byte(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((b, rest)) => (*b, rest),
        None => (0, data),
    }
}

/// The tier a byte selects (its low 7 bits, modulo the number of tiers).
pub fn tier_of(b: u8) -> Tier {
    Tier::ALL[usize::from(b & 0x7f) % Tier::ALL.len()]
}

/// How a case was made, for the report of a divergence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `component_gen::generate_case(seed, tier)`: reproducible with the harness's `repro`/`shrink` commands.
    Seed,
    /// Generated from the fuzz input's bytes (or changed by the target): reproducible only from the fuzz artifact.
    Input,
}

/// Runs `case` on every engine and panics (so that libFuzzer records a crash) if the engines diverge — the same
/// notion of a finding as the harness's `fuzz` command: an entry in [`CaseReport::divergences`] that is not
/// attributed to a core backend ([`Blame`]; with `COMPONENT_LAYER_FUZZ_STRICT` set, those too). Discarded cases
/// (stack exhaustion, fuel) are not findings.
///
/// With `COMPONENT_LAYER_FUZZ_VERBOSE` set, every case's outcome counts are printed.
///
/// Before panicking, the divergence is shrunk and written as a self-contained `.wast` regression (best effort) to
/// `$COMPONENT_LAYER_FUZZ_REGRESSIONS`, or else `fuzz/artifacts/regressions`.
pub fn diff_or_panic(target: &str, case: &Case, origin: Origin) -> CaseReport {
    with_executors(|execs| {
        let report = run_case(case, execs);
        if std::env::var_os("COMPONENT_LAYER_FUZZ_VERBOSE").is_some() {
            eprintln!(
                "[{target}] seed {} tier {} ({}): {} calls, outcomes (engine, ok, trap, other) {:?}{}",
                case.seed,
                case.tier,
                case.note,
                report.calls,
                report.outcomes,
                report.discarded.as_ref().map(|r| format!(", discarded: {r}")).unwrap_or_default()
            );
        }
        let Some(d) = report.divergences.first() else { return report };
        let engines: Vec<String> = EngineKind::ALL.iter().map(|k| k.name().to_owned()).collect();
        let blame = attribute(case, d, &engines);
        if !blame.fails(std::env::var_os("COMPONENT_LAYER_FUZZ_STRICT").is_some()) {
            // A core backend's bug, not component-layer's (see component_harness::diff::blame): report it once per
            // input but keep fuzzing, as `component-harness fuzz` does without --strict.
            eprintln!(
                "[{target}] backend divergence (not a crash; COMPONENT_LAYER_FUZZ_STRICT=1 makes it one): seed {} tier {}: {} — attributed to {}",
                case.seed,
                case.tier,
                d.what,
                blame.describe()
            );
            return report;
        }
        let mut msg = format!(
            "[{target}] divergence: seed {} tier {}: {} (wrong: {})\n  note: {}\n",
            case.seed,
            case.tier,
            d.what,
            d.wrong.join(", "),
            case.note
        );
        if let Some(x) = &d.expected {
            msg.push_str(&format!("  expected: {x}\n"));
        }
        for (e, o) in &d.outcomes {
            msg.push_str(&format!("  {e}: {o}\n"));
        }
        match origin {
            Origin::Seed => msg.push_str(&format!(
                "  reproduce: cargo run --release -p component-harness -- repro {} --tier {}\n",
                case.seed, case.tier
            )),
            Origin::Input => msg.push_str("  reproduce: only from this fuzz input (cargo +nightly fuzz run <target> <artifact>)\n"),
        }
        msg.push_str(&case.wit());
        if let Some(i) = d.call {
            msg.push_str(&replay(case, i, execs));
        }
        let case_ref = match origin {
            Origin::Seed => Some(CaseRef::default_of(case.seed, case.tier)),
            Origin::Input => None,
        };
        let shrunk = component_harness::fuzz::shrink::shrink(case_ref.as_ref(), case, d, execs);
        match component_harness::fuzz::regress::write(&regressions_dir(), &shrunk.case, &shrunk.divergence, &blame) {
            Ok(file) => msg.push_str(&format!("\n  shrunk regression: {file}\n")),
            Err(e) => msg.push_str(&format!("\n  (could not write the shrunk regression: {e:#})\n")),
        }
        eprintln!("{msg}");
        panic!("[{target}] divergence: {} (wrong: {})", d.what, d.wrong.join(", "));
    })
}

/// Where shrunk regressions of divergences go.
pub fn regressions_dir() -> PathBuf {
    std::env::var_os("COMPONENT_LAYER_FUZZ_REGRESSIONS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/artifacts/regressions")))
}

/// Replays calls `0..=i` of `case` on every engine (the same store discipline as the differ) and describes call
/// `i`'s arguments and each engine's full outcome, failure messages included (the divergence only has classes).
fn replay(case: &Case, i: usize, execs: &mut [Box<dyn Engine>]) -> String {
    let call = &case.calls[i];
    let mut s = format!("\n  call {i}: {}({:?})\n  host returns: {:?}\n", call.export, call.args, call.host_returns);
    for e in execs.iter_mut() {
        let name = e.name().to_owned();
        let mut cut = case.clone();
        cut.calls.truncate(i + 1);
        match component_harness::fuzz::run_on(&cut, e.as_mut()) {
            Err(f) => s.push_str(&format!("  {name}: load failed: {f:?}\n")),
            Ok(outcomes) => {
                if let Some(o) = outcomes.last() {
                    s.push_str(&format!("  {name}: {:?}\n    imports: {:?}\n", o.result, o.imports));
                }
            }
        }
    }
    s
}
