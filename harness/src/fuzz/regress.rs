//! Writing a shrunk divergence as a `.wast` regression case.
//!
//! The file carries a comment header (seed, tier, what diverged, each engine's outcome, the WIT and the
//! arguments in WAVE) and assertions that encode the expected outcome — the case's own expectation, or the
//! reference engine's when the case only asks the engines to agree — so `cargo test` runs it on every engine
//! from then on. Cases with host imports are wrapped with stand-in components (see
//! `component_gen::standalone`) so the file needs no special host.

use std::path::{Path, PathBuf};

use component_gen::wave::to_wave;
use component_gen::{Case, Expect};
use component_layer::Value;

use crate::diff::Divergence;

/// Writes the regression file for `case` (one call) and returns its path.
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

/// The regression file's text.
pub fn render(case: &Case, d: &Divergence) -> anyhow::Result<String> {
    let call = case.calls.first().ok_or_else(|| anyhow::anyhow!("case has no call"))?;
    let sig = &case.exports.iter().find(|(n, _)| *n == call.export).ok_or_else(|| anyhow::anyhow!("unknown export"))?.1;
    let component = component_gen::standalone::wrap(case, call).map_err(anyhow::Error::msg)?;
    let mut s = String::new();
    s.push_str(";; Regression found by `component-harness fuzz`.\n");
    s.push_str(&format!(
        ";; seed {} tier {} — repro: cargo run --release -p component-harness -- repro {} --tier {}\n",
        case.seed, case.tier, case.seed, case.tier
    ));
    if !case.note.is_empty() {
        s.push_str(&format!(";; case: {}\n", case.note));
    }
    s.push_str(&format!(";; diverged: {}\n", d.what));
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
    let args: Vec<String> = call.args.iter().zip(&sig.params).map(|(v, (_, t))| to_wave(&case.set, t, v)).collect();
    s.push_str(&format!(";; call: {}({})\n\n", call.export, args.join(", ")));
    s.push_str(&component_text(&component));
    s.push('\n');
    let invoke = format!(
        "(invoke \"{}\"{})",
        call.export,
        call.args.iter().map(|a| format!(" ({})", wast_value(a))).collect::<String>()
    );
    let expected = match &call.expect {
        Expect::Returns(v) => Some(v.clone()),
        Expect::Trap => None,
        // Nothing expected in advance: the reference engine's outcome (wasmtime follows the spec here).
        Expect::Agree => reference_outcome(d)?,
    };
    match expected {
        Some(Some(v)) => s.push_str(&format!("(assert_return {invoke} ({}))\n", wast_value(&v))),
        Some(None) => s.push_str(&format!("(assert_return {invoke})\n")),
        None => s.push_str(&format!("(assert_trap {invoke} \"\")\n")),
    }
    Ok(s)
}

/// For cases that only compare engines: the reference engine's outcome, if it returned (`Some`) or trapped
/// (`None`).
fn reference_outcome(d: &Divergence) -> anyhow::Result<Option<Option<Value>>> {
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
