//! Writing a shrunk divergence as a `.wast` regression case.
//!
//! The file carries a comment header (seed, tier, what diverged, each engine's outcome, the WIT and the
//! arguments in WAVE) and assertions that encode the expected outcome — the case's own expectation, or the
//! reference engine's when the case only asks the engines to agree — so `cargo test` runs it on every engine
//! from then on. Cases with host imports are wrapped with stand-in components (see
//! `component_gen::standalone`) so the file needs no special host. A case with several calls (the resource
//! tier's scripts, whose handles carry over from call to call) becomes one instance and an assertion per call in
//! order, with a fresh instance after each trap, as the fuzzer's executors run it. A script in which the host
//! keeps a resource the case defines (the resource tier's `make-r`, `take-r`, `peek-r`, host drops) cannot be
//! written so: it is refused with the reason, and the finding says it is unwritten.

use std::path::{Path, PathBuf};

use component_gen::ty::Ty;
use component_gen::wave::to_wave;
use component_gen::{Case, Expect};
use component_layer::Value;

use crate::diff::Divergence;

/// Writes the regression file for `case` (all its calls) and returns its path.
pub fn write(dir: &Path, case: &Case, d: &Divergence) -> anyhow::Result<String> {
    let text = render(case, d)?;
    std::fs::create_dir_all(dir)?;
    let slug: String = d.what.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let slug = slug.split('-').filter(|s| !s.is_empty()).take(4).collect::<Vec<_>>().join("-");
    let mut path: PathBuf = dir.join(format!("{}-{}-{slug}.wast", case.tier, case.seed));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("{}-{}-{slug}-{n}.wast", case.tier, case.seed));
    }
    std::fs::write(&path, text)?;
    Ok(path.display().to_string())
}

/// The regression file's text: the wrapped component, then every call of the case in order as an assertion.
pub fn render(case: &Case, d: &Divergence) -> anyhow::Result<String> {
    anyhow::ensure!(!case.calls.is_empty(), "case has no call");
    let component = component_gen::standalone::wrap_case(case).map_err(anyhow::Error::msg)?;
    let expected = expectations(case, d)?;
    let mut s = header(case, d)?;
    s.push_str(&directives(case, &component_text(&component), &expected));
    Ok(s)
}

/// The comment header: seed, tier, what diverged, each engine's outcome, the WIT and the calls in WAVE.
fn header(case: &Case, d: &Divergence) -> anyhow::Result<String> {
    let mut s = String::new();
    s.push_str(";; Regression found by `component-harness fuzz`.\n");
    s.push_str(&format!(
        ";; seed {} tier {} — repro: cargo run --release -p component-harness -- repro {} --tier {}\n",
        case.seed, case.tier, case.seed, case.tier
    ));
    if !case.note.is_empty() {
        s.push_str(&format!(";; case: {}\n", case.note));
    }
    let at = d.call.filter(|_| case.calls.len() > 1).map(|i| format!(" (call {i})")).unwrap_or_default();
    s.push_str(&format!(";; diverged: {}{at}\n", d.what));
    if let Some(e) = &d.expected {
        s.push_str(&format!(";; expected: {e}\n"));
    }
    for (engine, outcome) in &d.outcomes {
        let wrong = if d.wrong.contains(engine) { "  <- wrong" } else { "" };
        s.push_str(&format!(";;   {engine}: {outcome}{wrong}\n"));
    }
    for line in case.wit().lines() {
        s.push_str(&format!(";; {line}\n"));
    }
    if case.set.resources.iter().any(|r| r.host) {
        s.push_str(";; (handle arguments are given as the rep the host makes the handle with)\n");
    }
    for (i, call) in case.calls.iter().enumerate() {
        let sig =
            &case.exports.iter().find(|(n, _)| *n == call.export).ok_or_else(|| anyhow::anyhow!("unknown export"))?.1;
        let as_rep = |t: &Ty| if matches!(t, Ty::Own(_) | Ty::Borrow(_)) { Ty::U32 } else { t.clone() };
        let args: Vec<String> =
            call.args.iter().zip(&sig.params).map(|(v, (_, t))| to_wave(&case.set, &as_rep(t), v)).collect();
        let n = if case.calls.len() > 1 { format!(" {i}") } else { String::new() };
        s.push_str(&format!(";; call{n}: {}({})\n", call.export, args.join(", ")));
    }
    s.push('\n');
    Ok(s)
}

/// What each call must do: `Some(result)` to return, `None` to trap.
type Outcome = Option<Option<Value>>;

/// Each call's expected outcome: the case's expectation, or, where the case only asks the engines to agree, the
/// reference engine's outcome (from the divergence for the diverging call, else from running the case on it).
fn expectations(case: &Case, d: &Divergence) -> anyhow::Result<Vec<Outcome>> {
    let mut reference: Option<Vec<Outcome>> = None;
    let mut out = Vec::with_capacity(case.calls.len());
    for (i, call) in case.calls.iter().enumerate() {
        out.push(match &call.expect {
            Expect::Returns(v) => Some(v.clone()),
            Expect::Trap => None,
            // Nothing expected in advance: the reference engine's outcome (wasmtime follows the spec here).
            Expect::Agree if d.call == Some(i) => reference_outcome(d)?,
            Expect::Agree => {
                if reference.is_none() {
                    reference = Some(reference_run(case)?);
                }
                reference.as_ref().and_then(|r| r.get(i).cloned()).flatten()
            }
        });
    }
    Ok(out)
}

/// The reference engine's outcome of every call of the case, run as the fuzzer runs it.
fn reference_run(case: &Case) -> anyhow::Result<Vec<Outcome>> {
    let mut exec = crate::diff::exec::executor("wasmtime").ok_or_else(|| anyhow::anyhow!("no reference engine"))?;
    exec.load(case).map_err(|f| anyhow::anyhow!("the reference engine does not load the case: {f}"))?;
    Ok(case.calls.iter().enumerate().map(|(i, c)| exec.call(i, c).result.ok()).collect())
}

/// The directives: the component and the calls' assertions, in order. A call that traps poisons the runner's
/// instance (as a trap does the fuzzer's store), so the calls after a trap run on a fresh instance — as the
/// fuzzer's executors run them: the component is a named definition then, instantiated anew after each trap.
fn directives(case: &Case, component: &str, expected: &[Outcome]) -> String {
    let mut s = String::new();
    let reinstantiate = expected.iter().rev().skip(1).any(Option::is_none);
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
            Some(Some(v)) => s.push_str(&format!("(assert_return {invoke} ({}))\n", wast_value(v))),
            Some(None) => s.push_str(&format!("(assert_return {invoke})\n")),
            None => {
                s.push_str(&format!("(assert_trap {invoke} \"\")\n"));
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

/// For cases that only compare engines: the reference engine's outcome, if it returned (`Some`) or trapped
/// (`None`).
fn reference_outcome(d: &Divergence) -> anyhow::Result<Outcome> {
    match &d.reference {
        Some(Ok(v)) => Ok(Some(v.clone())),
        Some(Err(())) => Ok(None),
        None => anyhow::bail!("the reference engine did not run this case"),
    }
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
            reference: None,
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
        let text = render(&case, &divergence(&case)).unwrap();
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
        let text = render(&case, &divergence(&case)).unwrap();
        for name in crate::engines::ENGINE_NAMES {
            let engine = crate::engines::by_name(name).unwrap();
            let run = crate::wast::run_file("resource.wast", &text, engine.as_ref(), &Default::default());
            assert!(run.passed(), "{name}: {}\n{text}", run.failure_summary());
            assert_eq!(run.counts(), (run.directives.len(), 0, 0));
        }
    }

    #[test]
    fn a_reentering_call_makes_the_case_unwritable() {
        let case = (0..500)
            .map(|seed| generate_case(seed, Tier::Resource))
            .find(|c| c.calls.iter().any(|k| k.export == component_gen::resource::REENTER_EXPORT))
            .expect("a seed below 500 reenters");
        let e = render(&case, &divergence(&case)).unwrap_err().to_string();
        assert!(e.contains("reaches import `reenter-host`, which reenters the case's export `rep-r`"), "{e}");
    }

    #[test]
    fn a_host_held_guest_resource_makes_the_case_unwritable() {
        let case = (0..500)
            .map(|seed| generate_case(seed, Tier::Resource))
            .find(|c| {
                c.calls.iter().all(|k| k.export != component_gen::resource::REENTER_EXPORT)
                    && c.calls.iter().any(|k| HELD.contains(&k.export.as_str()))
            })
            .expect("a seed below 500 holds `r`");
        let e = render(&case, &divergence(&case)).unwrap_err().to_string();
        let (i, call) = case.calls.iter().enumerate().find(|(_, k)| HELD.contains(&k.export.as_str())).unwrap();
        assert!(e.starts_with(&format!("call {i} (`{}`) passes a resource the case defines", call.export)), "{e}");
        assert!(e.contains("cannot hold a resource result"), "{e}");
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
