//! The jco engine's trials (part of `tests/conformance.rs`), named `jco/…`:
//!
//! * `jco/values::echo-and-lift` — generated echo and lift cases on jco and wasmtime: jco must return exactly what
//!   the cases expect and wasmtime returns, import logs included, and real values must come back (a run in which
//!   jco returns nothing tests nothing);
//! * `jco/wast::<file>` — a few `.wast` files on jco, every directive not skipped by a rule run and passing;
//! * `jco/wast::every-file` — every conformance file on jco: passing, or skipped by a rule with its reason;
//! * `jco/structure::resource-functions` — exported resources' constructors, methods and statics are found and
//!   called on jco (structure-tier cases; no link error);
//! * `jco/values::long-multibyte-strings` — strings of 3- and 4-byte characters longer than one pipe read cross
//!   to the driver and back intact (a character split between two reads once came out as U+FFFDs);
//! * `jco/selftest::flip-bool` — a jco that flips every bool it returns (`jco!flip-bool`) is the one engine wrong,
//!   and a jco-only divergence is jco's finding; plain jco is not wrong on the same cases.
//!
//! Without Node or the pinned jco (`bash toolchains/setup.sh --js`) the trials are listed as ignored, with the
//! reason printed; with `CI` set (CI installs both) they fail instead.

use component_gen::{generate_case, Tier};
use component_harness::conform;
use component_harness::diff::blame::Blame;
use component_harness::diff::run_case;
use component_harness::engine::jco::JcoEngine;
use component_harness::engine::{EngineKind, EngineSpec};
use libtest_mimic::{Failed, Trial};

/// `.wast` files jco passes (values returned and asserted; no host). `borrows.wast` and `realloc.wast` name their
/// instances (which the jco engine registers without linking anything to them), `realloc.wast` has a directive
/// skipped on jco (a finding), and `core-modules.wast` imports a core module it does not instantiate (which jco
/// transpiles: only instantiating one is refused before transpiling).
const WAST_FILES: &[&str] = &[
    "corpus/backends/wasmi-select-eqz-of-local.wast",
    "wasmtime-misc/component-model/enum_discriminant.wast",
    "component-model/resources/borrows.wast",
    "component-model/values/realloc.wast",
    "component-model/validation/core-modules.wast",
];

/// The jco trials; `None` in place of each when jco cannot run here (ignored, with the reason printed).
pub fn trials(exp: std::sync::Arc<component_harness::expectations::Expectations>) -> Vec<Trial> {
    let unavailable = JcoEngine::available().err();
    if let Some(why) = &unavailable {
        if std::env::var_os("CI").is_some() {
            let why = why.clone();
            return vec![Trial::test("jco/available", move || Err(Failed::from(why)))];
        }
        eprintln!("the jco trials are ignored: {why}");
    }
    let ignored = unavailable.is_some();
    let mut out = vec![
        Trial::test("jco/values::echo-and-lift", values).with_ignored_flag(ignored),
        Trial::test("jco/values::long-multibyte-strings", long_strings).with_ignored_flag(ignored),
        Trial::test("jco/selftest::flip-bool", selftest).with_ignored_flag(ignored),
        Trial::test("jco/structure::resource-functions", resource_functions).with_ignored_flag(ignored),
    ];
    let every = exp.clone();
    out.push(Trial::test("jco/wast::every-file", move || every_file(&every)).with_ignored_flag(ignored));
    for &file in WAST_FILES {
        let exp = exp.clone();
        out.push(Trial::test(format!("jco/wast::{file}"), move || wast(file, &exp)).with_ignored_flag(ignored));
    }
    out
}

fn engines(jco: &str) -> Vec<Box<dyn component_harness::engine::Engine>> {
    [jco, "wasmtime", "layer-wasmi"].iter().filter_map(|n| EngineSpec::parse(n).ok()).map(|s| s.open()).collect()
}

fn values() -> Result<(), Failed> {
    let mut execs = engines("jco");
    let (mut failures, mut returned) = (Vec::new(), 0);
    for tier in [Tier::Echo, Tier::Lift] {
        for seed in 0..6 {
            let mut case = generate_case(seed, tier);
            case.calls.truncate(8);
            let report = run_case(&case, &mut execs);
            if report.discarded.is_some() {
                continue;
            }
            // jco's own column: calls it returned a value from.
            returned += report.outcomes.iter().find(|o| o.0 == "jco").map_or(0, |o| o.1);
            for d in report.divergences {
                failures.push(format!(
                    "{tier} seed {seed}: {} (wrong: {}) {:?}",
                    d.what,
                    d.wrong.join(", "),
                    d.outcomes
                ));
            }
        }
    }
    if returned < 20 {
        failures.push(format!("jco returned from only {returned} calls"));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failed::from(failures.join("\n")))
    }
}

/// `echo(s: string) -> string`, lifted with `string-encoding=utf16` (so jco transcodes both ways too).
const ECHO_UTF16: &str = r#"(component
  (core module $m
    (memory (export "mem") 4)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (if (i32.and (i32.ne (local.get 0) (i32.const 0)) (i32.le_u (local.get 3) (local.get 1)))
        (then (return (local.get 0))))
      (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "echo") (param i32 i32) (result i32)
      (global.set $next (i32.const 1024))
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      string-encoding=utf16)))"#;

/// Long strings of multi-byte characters through the driver's pipe, at every offset modulo their width: each
/// JSON line is longer than one read, so some character always straddles two reads.
fn long_strings() -> Result<(), Failed> {
    use component_harness::engine::{CallSpec, Host};
    let bytes = wat::parse_str(ECHO_UTF16).map_err(|e| Failed::from(e.to_string()))?;
    let mut jco = EngineSpec::plain(EngineKind::Jco).open();
    let fail = |e: component_harness::engine::Failure| Failed::from(format!("{e:?}"));
    let c = jco.compile(&bytes).map_err(fail)?;
    let i = jco.instantiate(c, &Host::wast()).map_err(fail)?;
    for (pad, ch) in [(0, '\u{a7a0}'), (1, '\u{a7a0}'), (2, '\u{a7a0}'), (1, '\u{1e8d3}'), (3, '\u{1e8d3}')] {
        let s: String = "a".repeat(pad) + &std::iter::repeat_n(ch, 30_000).collect::<String>();
        let v = component_layer::Value::String(s.as_str().into());
        let got = jco.call(i, &CallSpec::root("echo", vec![v.clone()])).map_err(fail)?;
        if got.as_ref() != Some(&v) {
            let got = match &got {
                Some(component_layer::Value::String(g)) => g.chars().filter(|c| *c != ch).take(8).collect(),
                other => format!("{other:?}"),
            };
            return Err(Failed::from(format!("{pad} + 30000 × {ch:?} came back changed: {got:?}")));
        }
    }
    Ok(())
}

/// The driver calls an exported resource's `[constructor]`, `[method]` and `[static]` functions (a class, its
/// objects and its statics in jco's output): on structure-tier cases, no such call may fail to find its function.
fn resource_functions() -> Result<(), Failed> {
    let mut execs = engines("jco");
    let (mut failures, mut called) = (Vec::new(), 0);
    for seed in 0..12 {
        let mut case = generate_case(seed, Tier::Structure);
        case.calls.truncate(16);
        called += case.calls.iter().filter(|c| c.export.contains("]")).count();
        let report = run_case(&case, &mut execs);
        for d in report.divergences {
            let jco = d.outcomes.iter().find(|(n, _)| n == "jco").map(|(_, o)| o.as_str()).unwrap_or_default();
            if jco.starts_with("link") {
                failures.push(format!("structure seed {seed}: {} on jco: {jco}", d.what));
            }
        }
    }
    if called == 0 {
        failures.push("no case called a resource function".into());
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failed::from(failures.join("\n")))
    }
}

fn selftest() -> Result<(), Failed> {
    let names: Vec<String> = ["jco!flip-bool", "wasmtime", "layer-wasmi"].map(str::to_owned).to_vec();
    let mut faulty = engines("jco!flip-bool");
    let mut plain = engines("jco");
    for seed in 0..20 {
        let mut case = generate_case(seed, Tier::Echo);
        case.calls.truncate(8);
        if !run_case(&case, &mut plain).divergences.is_empty() {
            continue;
        }
        let report = run_case(&case, &mut faulty);
        let Some(d) = report.divergences.first() else { continue };
        if d.wrong != ["jco!flip-bool"] {
            return Err(Failed::from(format!("seed {seed}: wrong engines {:?}, not jco!flip-bool", d.wrong)));
        }
        let blame = Blame::without_evidence(&d.wrong, &names);
        return match blame {
            Blame::Jco => Ok(()),
            other => Err(Failed::from(format!("seed {seed}: attributed to {}", other.describe()))),
        };
    }
    Err(Failed::from("no echo case in seeds 0..20 showed the flipped bool"))
}

/// Every conformance file on jco: each directive either passes or is skipped by a rule that says why, so a file
/// whose rules change for the other engines (a whole-file skip turned into per-directive rules, say) cannot leave
/// jco uncovered unnoticed.
fn every_file(exp: &component_harness::expectations::Expectations) -> Result<(), Failed> {
    let mut engine = EngineSpec::plain(EngineKind::Jco).open();
    let mut failures = Vec::new();
    let mut passed = 0;
    for file in conform::default_files() {
        let run = conform::run_one_on(&file, engine.as_mut(), exp);
        if run.skipped.is_some() {
            continue;
        }
        if run.passed() {
            passed += usize::from(run.counts().0 > 0);
        } else {
            failures.push(format!("{}:\n{}", file.label, run.failure_summary()));
        }
    }
    if passed < 50 {
        failures.push(format!("only {passed} files passed on jco"));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failed::from(failures.join("\n")))
    }
}

fn wast(file: &str, exp: &component_harness::expectations::Expectations) -> Result<(), Failed> {
    let found = conform::default_files().into_iter().find(|f| f.label == file);
    let file = found.ok_or_else(|| Failed::from(format!("{file} is not in the conformance corpus")))?;
    let run = conform::run_one(&file, &EngineSpec::plain(EngineKind::Jco), exp);
    if !run.passed() {
        return Err(Failed::from(run.failure_summary()));
    }
    let (passed, _, _) = run.counts();
    if passed == 0 {
        return Err(Failed::from("no directive ran"));
    }
    Ok(())
}
