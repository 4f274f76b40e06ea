//! Writing a finding as a regression case that fails on the wrong engine and passes on the others.
//!
//! Two formats, chosen by what the finding needs:
//!
//! * **`.wast`** — the upstream suites' format, runnable by any component `.wast` runner: a comment header
//!   (seed, tier, what diverged, each engine's outcome, who is blamed and why, the WIT and the calls in WAVE),
//!   the case's component wrapped with stand-in components that play its host (see
//!   [`component_gen::standalone`]), and one assertion per call in order — a fresh instance after each trap, as
//!   the fuzzer's drivers run them. Where the specification fixes a trap's class, the assertion's message names
//!   it.
//! * **`.case`** — for findings a `.wast` cannot show: what reached the host imports (their arguments, dropped
//!   calls), hosts a stand-in cannot play (hashing or reentering imports, trapping stubs), and scripts in which
//!   the host keeps a resource across calls. It is JSON: the header lines, the WIT, the component as WAT, the
//!   case (host imports with their behaviours, calls with their arguments), and per call the expected outcome
//!   and the host calls it must make. The conformance runner runs it through the same driver as the fuzzer.
//!
//! Expected outcomes are the case's own where it knows them (its model of the specification), else what the
//! largest group of the plain engines agrees on. Rendering handles any value any engine returned, including a
//! wrong one: those appear in comments only.

use std::path::{Path, PathBuf};

use component_gen::ty::Ty;
use component_gen::wave::to_wave;
use component_gen::{Case, Expect};
use component_layer::Value;
use serde::{Deserialize, Serialize};

use super::crash::Crash;
use crate::diff::blame::Blame;
use crate::diff::driver::CallOutcome;
use crate::diff::{same_outcome, Divergence};
use crate::engine::{EngineKind, Failure, ImportCall, TrapClass};

/// What a call of a regression must do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expected {
    /// Return this.
    Returns(Option<Value>),
    /// Trap (of this class, where the specification fixes it).
    Traps(TrapClass),
}

impl Expected {
    /// The expectation an outcome makes.
    pub fn of(outcome: &Result<Option<Value>, Failure>) -> Expected {
        match outcome {
            Ok(v) => Expected::Returns(v.clone()),
            Err(f) => Expected::Traps(f.trap_class().unwrap_or(TrapClass::Other)),
        }
    }

    /// Whether an outcome meets it.
    pub fn met_by(&self, outcome: &Result<Option<Value>, Failure>) -> bool {
        match (self, outcome) {
            (Expected::Returns(v), Ok(w)) => v == w,
            (Expected::Traps(c), Err(f)) => f.trap_class().is_some_and(|k| k.agrees_with(*c)),
            _ => false,
        }
    }

    fn describe(&self) -> String {
        crate::diff::describe(&match self {
            Expected::Returns(v) => Ok(v.clone()),
            Expected::Traps(c) => Err(Failure::trap_of(*c, "")),
        })
    }
}

/// One call of a `.case` file: what it must do, and the host calls it must make.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExpectedCall {
    /// The outcome.
    pub outcome: Expected,
    /// The calls that must reach the host, in order.
    pub imports: Vec<ImportCall>,
}

/// A `.case` regression file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseFile {
    /// What it is: the header, line by line.
    pub about: Vec<String>,
    /// The component as WAT.
    pub component: String,
    /// The case (its `component` field is empty: the WAT above is the component).
    pub case: Case,
    /// Per call of the case: what it must do.
    pub expect: Vec<ExpectedCall>,
}

impl CaseFile {
    /// Reads a `.case` file.
    pub fn load(path: &Path) -> anyhow::Result<CaseFile> {
        let text = std::fs::read_to_string(path)?;
        let mut file: CaseFile = serde_json::from_str(&text)?;
        file.case.component = wat::parse_str(&file.component)?;
        anyhow::ensure!(file.expect.len() == file.case.calls.len(), "one expectation per call is needed");
        Ok(file)
    }

    /// Runs it on an engine: the failures, one line each (empty if it passes).
    pub fn run(&self, engine: &mut dyn crate::engine::Engine) -> Vec<String> {
        self.run_calls(engine).into_iter().flatten().collect()
    }

    /// Runs it on an engine: per call, why it failed (`None` if it did what it must).
    pub fn run_calls(&self, engine: &mut dyn crate::engine::Engine) -> Vec<Option<String>> {
        let outcomes = match super::run_on(&self.case, engine) {
            Ok(o) => o,
            Err(f) => return vec![Some(format!("load: {f}"))],
        };
        outcomes
            .iter()
            .zip(&self.expect)
            .enumerate()
            .map(|(i, (got, want))| {
                let export = &self.case.calls[i].export;
                if !want.outcome.met_by(&got.result) {
                    Some(format!(
                        "call {i} (`{export}`): expected {}, got {}",
                        want.outcome.describe(),
                        crate::diff::describe(&got.result)
                    ))
                } else if got.imports != want.imports {
                    Some(format!(
                        "call {i} (`{export}`): expected host calls [{}], got [{}]",
                        crate::check::imports_text(&want.imports),
                        crate::check::imports_text(&got.imports)
                    ))
                } else {
                    None
                }
            })
            .collect()
    }
}

/// Writes the regression of divergence `d` of `case`, attributed to `blame`; returns its path.
pub fn write(dir: &Path, case: &Case, d: &Divergence, blame: &Blame) -> anyhow::Result<String> {
    let (text, ext) = render(case, d, blame)?;
    save(dir, case, &d.what, ext, &text)
}

/// Writes the regression of a crash; `expected` is what the other engines agree each call does.
pub fn write_crash(dir: &Path, case: &Case, crash: &Crash, expected: &[ExpectedCall]) -> anyhow::Result<String> {
    let mut about = header_common(case);
    about.push(format!("crashed: {} died ({}) in `{}`", crash.engine, crash.death.name(), crash.op));
    about.push(format!("  how: {}", crash.reason));
    for other in &crash.also_died {
        about.push(format!("  also died: {other}"));
    }
    about.push(format!(
        "  repro: cargo run --release -p component-harness -- repro {} --tier {} --engine {}",
        case.seed, case.tier, crash.engine
    ));
    about.push("  (the assertions are what the other engines do)".into());
    let (text, ext) = render_with(case, about, expected, false)?;
    save(dir, case, &format!("crash {}", crash.death.name()), ext, &text)
}

fn save(dir: &Path, case: &Case, what: &str, ext: &str, text: &str) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir)?;
    let slug: String = what.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let slug = slug.split('-').filter(|s| !s.is_empty()).take(4).collect::<Vec<_>>().join("-");
    let mut path: PathBuf = dir.join(format!("{}-{}-{slug}.{ext}", case.tier, case.seed));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("{}-{}-{slug}-{n}.{ext}", case.tier, case.seed));
    }
    std::fs::write(&path, text)?;
    Ok(path.display().to_string())
}

/// The regression's text and its file extension (`wast` or `case`).
pub fn render(case: &Case, d: &Divergence, blame: &Blame) -> anyhow::Result<(String, &'static str)> {
    anyhow::ensure!(!case.calls.is_empty(), "case has no call");
    let expected = expectations(case, d)?;
    let mut about = header_common(case);
    let at = d.call.filter(|_| case.calls.len() > 1).map(|i| format!(" (call {i})")).unwrap_or_default();
    about.push(format!("diverged: {}{at}", d.what));
    if let Some(e) = &d.expected {
        about.push(format!("expected: {e}"));
    }
    for (engine, outcome) in &d.outcomes {
        let wrong = if d.wrong.contains(engine) { "  <- wrong" } else { "" };
        about.push(format!("  {engine}: {}{wrong}", outcome.replace('\n', "\n      ")));
    }
    about.push(format!("attributed to {}", blame.describe()));
    if let Blame::Backend { evidence, .. } = blame {
        about.extend(evidence.report_lines());
    }
    about.push(format!("repro: cargo run --release -p component-harness -- repro {} --tier {}", case.seed, case.tier));
    let host_side = d.host_side;
    let (mut text, ext) = render_with(case, about, &expected, host_side)?;
    if let (Blame::Backend { evidence, .. }, "wast") = (blame, ext) {
        if let Some(repro) = &evidence.repro {
            text.push_str("\n;; The core-level reproduction: the reduced core module, its import stubs and the steps taken on it,\n");
            text.push_str(";; lifted as they are. The assertions are the other core engine's outcomes.\n");
            text.push_str(repro);
        }
    }
    Ok((text, ext))
}

/// The file for `case` with `about` as its header and `expected` per call: a `.wast` where one can show it,
/// else a `.case`.
fn render_with(
    case: &Case,
    mut about: Vec<String>,
    expected: &[ExpectedCall],
    host_side: bool,
) -> anyhow::Result<(String, &'static str)> {
    about.extend(case.wit().lines().map(str::to_owned));
    if case.set.resources.iter().any(|r| r.host) {
        about.push("(handle arguments are given as the rep the host makes the handle with)".into());
    }
    for (i, call) in case.calls.iter().enumerate() {
        let sig = case.exports.iter().find(|(n, _)| *n == call.export).map(|(_, s)| s);
        let as_rep = |t: &Ty| if matches!(t, Ty::Own(_) | Ty::Borrow(_)) { Ty::U32 } else { t.clone() };
        let args: Vec<String> = match sig {
            Some(sig) => {
                call.args.iter().zip(&sig.params).map(|(v, (_, t))| to_wave(&case.set, &as_rep(t), v)).collect()
            }
            None => call.args.iter().map(crate::wave::to_wave).collect(),
        };
        let n = if case.calls.len() > 1 { format!(" {i}") } else { String::new() };
        let what = if call.about.is_empty() { String::new() } else { format!("  ({})", call.about) };
        about.push(format!("call{n}: {}({}){what}", call.export, args.join(", ")));
    }
    let standalone = if host_side {
        Err("the divergence is in what reached the host".to_owned())
    } else {
        component_gen::standalone::wrap_case(case)
    };
    match standalone {
        Ok(component) => {
            let mut s = String::new();
            s.push_str(";; Regression found by `component-harness`.\n");
            for line in &about {
                s.push_str(&format!(";; {line}\n"));
            }
            s.push('\n');
            let outcomes: Vec<Expected> = expected.iter().map(|e| e.outcome.clone()).collect();
            s.push_str(&directives(case, &component_text(&component), &outcomes));
            Ok((s, "wast"))
        }
        Err(why) => {
            about.insert(0, "Regression found by `component-harness`, as a `.case` file:".into());
            about.insert(1, format!("  ({why}; a .wast cannot show it)"));
            let mut bare = case.clone();
            bare.component = Vec::new();
            let file =
                CaseFile { about, component: component_text(&case.component), case: bare, expect: expected.to_vec() };
            Ok((serde_json::to_string_pretty(&file)?, "case"))
        }
    }
}

/// The header lines every regression starts with.
fn header_common(case: &Case) -> Vec<String> {
    let mut about = vec![format!("seed {} tier {}", case.seed, case.tier)];
    if !case.note.is_empty() {
        about.push(format!("case: {}", case.note));
    }
    about
}

/// Each call's expected outcome and host calls: the case's expectation where it has one, else what the largest
/// group of the plain engines agrees on (for the diverging call, the outcome recorded in `d`).
fn expectations(case: &Case, d: &Divergence) -> anyhow::Result<Vec<ExpectedCall>> {
    let runs = plain_runs(case)?;
    let mut out = Vec::with_capacity(case.calls.len());
    for (i, call) in case.calls.iter().enumerate() {
        let agreed = agreed_call(&runs, i);
        let outcome = match &call.expect {
            Expect::Returns(v) => Expected::Returns(v.clone()),
            Expect::Trap => match agreed.as_ref().map(|a| &a.result) {
                Some(Err(f)) => Expected::Traps(f.trap_class().unwrap_or(TrapClass::Other)),
                _ => Expected::Traps(TrapClass::Other),
            },
            Expect::Agree => match (&d.agreed, d.call == Some(i), &agreed) {
                (Some(o), true, _) => Expected::of(o),
                (_, _, Some(a)) => Expected::of(&a.result),
                _ => anyhow::bail!("call {i}: no engine ran it"),
            },
        };
        let imports = agreed.map(|a| a.imports).unwrap_or_default();
        out.push(ExpectedCall { outcome, imports });
    }
    Ok(out)
}

/// The case run on the three plain engines.
fn plain_runs(case: &Case) -> anyhow::Result<Vec<(String, Vec<CallOutcome>)>> {
    let mut runs = Vec::new();
    for kind in EngineKind::ALL {
        let mut engine = crate::worker::protocol::watched(&crate::engine::EngineSpec::plain(kind));
        if let Ok(outcomes) = super::run_on(case, engine.as_mut()) {
            runs.push((kind.name().to_owned(), outcomes));
        }
    }
    anyhow::ensure!(!runs.is_empty(), "no engine loads the case");
    Ok(runs)
}

/// What the largest group of engines agreed call `i` did (outcome and host calls).
pub fn agreed_call(runs: &[(String, Vec<CallOutcome>)], i: usize) -> Option<CallOutcome> {
    let names: Vec<String> = runs.iter().filter(|(_, o)| o.len() > i).map(|(n, _)| n.clone()).collect();
    let outs: Vec<&CallOutcome> = runs.iter().filter_map(|(_, o)| o.get(i)).collect();
    if outs.is_empty() {
        return None;
    }
    let best =
        crate::diff::majority(&names, &outs, |a, b| same_outcome(&a.result, &b.result) && a.imports == b.imports);
    outs.get(best).map(|o| (*o).clone())
}

/// The directives: the component and the calls' assertions, in order. A call that traps poisons the runner's
/// instance (as a trap does the fuzzer's store), so the calls after a trap run on a fresh instance — as the
/// fuzzer's drivers run them: the component is a named definition then, instantiated anew after each trap.
fn directives(case: &Case, component: &str, expected: &[Expected]) -> String {
    let traps = |e: &Expected| matches!(e, Expected::Traps(_));
    let mut s = String::new();
    let reinstantiate = expected.iter().rev().skip(1).any(traps);
    if reinstantiate {
        s.push_str(&definition(component, "$case"));
        s.push_str("\n(component instance $i0 $case)\n");
    } else {
        s.push_str(component);
        s.push('\n');
    }
    let mut instances = 1;
    for (i, (call, outcome)) in case.calls.iter().zip(expected).enumerate() {
        let invoke = format!(
            "(invoke \"{}\"{})",
            call.export,
            call.args.iter().map(|a| format!(" ({})", wast_value(a))).collect::<String>()
        );
        match outcome {
            Expected::Returns(Some(v)) => s.push_str(&format!("(assert_return {invoke} ({}))\n", wast_value(v))),
            Expected::Returns(None) => s.push_str(&format!("(assert_return {invoke})\n")),
            Expected::Traps(class) => {
                s.push_str(&format!("(assert_trap {invoke} \"{}\")\n", class.wast_message()));
                if i + 1 < case.calls.len() {
                    s.push_str(&format!("(component instance $i{instances} $case)\n"));
                    instances += 1;
                }
            }
        }
    }
    s
}

/// A `(component …)` directive's text as a named `(component definition $id …)`.
fn definition(component: &str, id: &str) -> String {
    let rest = component.strip_prefix("(component").unwrap_or(component);
    // Drop the component's own identifier, if the printer gave it one.
    let trimmed = rest.trim_start();
    let rest = match trimmed.strip_prefix('$') {
        Some(after) => after.trim_start_matches(|c: char| !c.is_whitespace() && c != '(' && c != ')'),
        None => rest,
    };
    format!("(component definition {id}{}{rest}", if rest.starts_with(char::is_whitespace) { "" } else { " " })
}

/// The component as WAT, if it prints and parses back to the same binary validity; otherwise as a binary
/// module literal.
fn component_text(bytes: &[u8]) -> String {
    if let Ok(text) = wasmprinter::print_bytes(bytes) {
        if wat::parse_str(&text).is_ok() {
            return text;
        }
    }
    let mut s = String::from("(component binary \"");
    for b in bytes {
        s.push_str(&format!("\\{b:02x}"));
    }
    s.push_str("\")");
    s
}

/// A value in `.wast` constant syntax (without the outer parentheses).
pub fn wast_value(v: &Value) -> String {
    let paren = |v: &Value| format!("({})", wast_value(v));
    match v {
        Value::Bool(b) => format!("bool.const {b}"),
        Value::S8(x) => format!("s8.const {x}"),
        Value::U8(x) => format!("u8.const {x}"),
        Value::S16(x) => format!("s16.const {x}"),
        Value::U16(x) => format!("u16.const {x}"),
        Value::S32(x) => format!("s32.const {x}"),
        Value::U32(x) => format!("u32.const {x}"),
        Value::S64(x) => format!("s64.const {x}"),
        Value::U64(x) => format!("u64.const {x}"),
        Value::F32(x) => format!("f32.const {}", float32(*x)),
        Value::F64(x) => format!("f64.const {}", float64(*x)),
        Value::Char(c) => format!("char.const {}", wast_string(&c.to_string())),
        Value::String(s) => format!("str.const {}", wast_string(s)),
        Value::List(l) => format!("list.const{}", l.iter().map(|e| format!(" {}", paren(&e))).collect::<String>()),
        Value::Tuple(vs) => format!("tuple.const{}", vs.iter().map(|e| format!(" {}", paren(e))).collect::<String>()),
        Value::Record(fs) => format!(
            "record.const{}",
            fs.iter().map(|(n, v)| format!(" (field {} {})", wast_string(n), wast_value(v))).collect::<String>()
        ),
        Value::Variant(c, p) => match p {
            Some(p) => format!("variant.const {} {}", wast_string(c), paren(p)),
            None => format!("variant.const {}", wast_string(c)),
        },
        Value::Enum(c) => format!("enum.const {}", wast_string(c)),
        Value::Option(None) => "option.none".into(),
        Value::Option(Some(p)) => format!("option.some {}", paren(p)),
        Value::Result(Ok(p)) => {
            format!("result.ok{}", p.as_ref().map(|p| format!(" {}", paren(p))).unwrap_or_default())
        }
        Value::Result(Err(p)) => {
            format!("result.err{}", p.as_ref().map(|p| format!(" {}", paren(p))).unwrap_or_default())
        }
        Value::Flags(fs) => {
            format!("flags.const{}", fs.iter().map(|f| format!(" {}", wast_string(f))).collect::<String>())
        }
        Value::Resource(_) => "resource.unsupported".into(),
        Value::Stream(_) | Value::Future(_) | Value::ErrorContext(_) => format!("{}.unsupported", v.kind_name()),
    }
}

fn wast_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn float32(x: f32) -> String {
    let bits = x.to_bits();
    let sign = if bits >> 31 != 0 { "-" } else { "" };
    if x.is_nan() {
        format!("{sign}nan:0x{:x}", bits & 0x7f_ffff)
    } else if x.is_infinite() {
        format!("{sign}inf")
    } else {
        format!("{x:?}")
    }
}

fn float64(x: f64) -> String {
    let bits = x.to_bits();
    let sign = if bits >> 63 != 0 { "-" } else { "" };
    if x.is_nan() {
        format!("{sign}nan:0x{:x}", bits & 0xf_ffff_ffff_ffff)
    } else if x.is_infinite() {
        format!("{sign}inf")
    } else {
        format!("{x:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use component_gen::{generate_case, Tier};

    /// A divergence at the last call of `case` that asks nothing of the reference engine.
    fn divergence(case: &Case) -> Divergence {
        Divergence {
            call: Some(case.calls.len() - 1),
            what: "result of `test`".into(),
            wrong: Vec::new(),
            outcomes: Vec::new(),
            expected: None,
            agreed: None,
            host_side: false,
            failures: Vec::new(),
        }
    }

    /// The exports that carry the guest resource `r` across the host boundary.
    const HELD: [&str; 3] = ["make-r", "take-r", "peek-r"];

    /// The first resource case whose script passes handles to exports, traps before its end, does not reenter
    /// and does not hold `r`: it exercises the driver and the fresh instances.
    fn rich_resource_case() -> Case {
        let driven = ["adopt-h", "lend-h"];
        (0..2000)
            .map(|seed| generate_case(seed, Tier::Resource))
            .find(|c| {
                let n = c.calls.len();
                c.calls.iter().all(|k| k.export != component_gen::resource::REENTER_EXPORT)
                    && c.calls.iter().all(|k| !HELD.contains(&k.export.as_str()))
                    && c.calls.iter().any(|k| driven.contains(&k.export.as_str()))
                    && c.calls[..n - 1].iter().any(|k| k.expect == Expect::Trap)
            })
            .expect("a seed below 2000 has such a script")
    }

    #[test]
    fn a_resource_script_renders_as_instances_and_assertions() {
        let case = rich_resource_case();
        let (text, ext) = render(&case, &divergence(&case), &Blame::Runtime).unwrap();
        assert_eq!(ext, "wast");
        let traps = case.calls[..case.calls.len() - 1].iter().filter(|c| c.expect == Expect::Trap).count();
        assert!(text.contains("(component definition $case"));
        assert_eq!(text.matches("(component instance $i").count(), 1 + traps);
        assert_eq!(text.matches("(assert_").count(), case.calls.len());
        let buf = wast::parser::ParseBuffer::new(&text).unwrap();
        let ast: wast::Wast<'_> = wast::parser::parse(&buf).unwrap();
        assert_eq!(ast.directives.len(), 2 + traps + case.calls.len());
    }

    #[test]
    fn a_rendered_resource_script_passes_on_every_engine() {
        let case = rich_resource_case();
        let (text, _) = render(&case, &divergence(&case), &Blame::Runtime).unwrap();
        for kind in EngineKind::ALL {
            let mut engine = kind.open();
            let run = crate::wast::run_file("resource.wast", &text, engine.as_mut(), &Default::default());
            assert!(run.passed(), "{}: {}\n{text}", kind.name(), run.failure_summary());
            assert_eq!(run.counts(), (run.directives.len(), 0, 0));
        }
    }

    /// A script a `.wast` cannot play becomes a `.case` file, which every engine passes.
    fn case_file_passes_everywhere(case: &Case) {
        let (text, ext) = render(case, &divergence(case), &Blame::Runtime).unwrap();
        assert_eq!(ext, "case");
        let dir = std::env::temp_dir().join(format!("harness-case-{}-{}", std::process::id(), case.seed));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.case");
        std::fs::write(&path, &text).unwrap();
        let file = CaseFile::load(&path).unwrap();
        for kind in EngineKind::ALL {
            let failures = file.run(kind.open().as_mut());
            assert!(failures.is_empty(), "{}: {failures:?}", kind.name());
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_reentering_script_is_written_as_a_case_file() {
        let case = (0..500)
            .map(|seed| generate_case(seed, Tier::Resource))
            .find(|c| c.calls.iter().any(|k| k.export == component_gen::resource::REENTER_EXPORT))
            .expect("a seed below 500 reenters");
        case_file_passes_everywhere(&case);
    }

    #[test]
    fn a_host_held_guest_resource_is_written_as_a_case_file() {
        let case = (0..500)
            .map(|seed| generate_case(seed, Tier::Resource))
            .find(|c| {
                c.calls.iter().all(|k| k.export != component_gen::resource::REENTER_EXPORT)
                    && c.calls.iter().any(|k| HELD.contains(&k.export.as_str()))
            })
            .expect("a seed below 500 holds `r`");
        case_file_passes_everywhere(&case);
    }

    #[test]
    fn wast_values_parse_back() {
        let v = Value::Record(vec![
            ("a".into(), Value::F32(f32::from_bits(0xffc0_0001))),
            ("b".into(), Value::List(component_layer::List::U8(vec![1, 2]))),
            ("c".into(), Value::String("q\"\\\u{1}é".into())),
            ("d".into(), Value::Result(Err(None))),
        ]);
        let text = format!("invoke \"f\" ({})", wast_value(&v));
        let buf = wast::parser::ParseBuffer::new(&text).unwrap();
        let inv: wast::WastInvoke<'_> = wast::parser::parse(&buf).unwrap();
        let wast::WastArg::Component(w) = &inv.args[0] else { panic!("component value expected") };
        assert_eq!(crate::wast::values::value(w).unwrap(), v);
    }
}
