//! WAVE text for values whose type is not at hand (outcomes in reports). With a type, prefer
//! `component_gen::wave`, which goes through the `wasm-wave` crate; this writer follows the same syntax.

use component_layer::Value;

/// A value in WAVE syntax.
pub fn to_wave(v: &Value) -> String {
    let mut s = String::new();
    write(&mut s, v);
    s
}

fn write(s: &mut String, v: &Value) {
    let list = |s: &mut String, open: &str, close: &str, items: &mut dyn Iterator<Item = Value>| {
        s.push_str(open);
        for (i, x) in items.enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            write(s, &x);
        }
        s.push_str(close);
    };
    match v {
        Value::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Value::S8(x) => s.push_str(&x.to_string()),
        Value::U8(x) => s.push_str(&x.to_string()),
        Value::S16(x) => s.push_str(&x.to_string()),
        Value::U16(x) => s.push_str(&x.to_string()),
        Value::S32(x) => s.push_str(&x.to_string()),
        Value::U32(x) => s.push_str(&x.to_string()),
        Value::S64(x) => s.push_str(&x.to_string()),
        Value::U64(x) => s.push_str(&x.to_string()),
        Value::F32(x) => s.push_str(&float(f64::from(*x), x.is_nan())),
        Value::F64(x) => s.push_str(&float(*x, x.is_nan())),
        Value::Char(c) => s.push_str(&format!("'{}'", c.escape_default())),
        Value::String(t) => s.push_str(&format!("\"{}\"", t.escape_default())),
        Value::List(l) => list(s, "[", "]", &mut l.iter()),
        Value::Tuple(vs) => list(s, "(", ")", &mut vs.iter().cloned()),
        Value::Record(fs) => {
            s.push('{');
            for (i, (n, x)) in fs.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                s.push_str(n);
                s.push_str(": ");
                write(s, x);
            }
            s.push('}');
        }
        Value::Variant(c, p) => {
            s.push_str(c);
            if let Some(p) = p {
                s.push('(');
                write(s, p);
                s.push(')');
            }
        }
        Value::Enum(c) => s.push_str(c),
        Value::Option(None) => s.push_str("none"),
        Value::Option(Some(p)) => {
            s.push_str("some(");
            write(s, p);
            s.push(')');
        }
        Value::Result(r) => {
            let (name, p) = match r {
                Ok(p) => ("ok", p),
                Err(p) => ("err", p),
            };
            s.push_str(name);
            if let Some(p) = p {
                s.push('(');
                write(s, p);
                s.push(')');
            }
        }
        Value::Flags(fs) => {
            s.push('{');
            s.push_str(&fs.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", "));
            s.push('}');
        }
        Value::Resource(r) => s.push_str(&format!("{r:?}")),
    }
}

fn float(x: f64, nan: bool) -> String {
    if nan {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{x:?}")
    }
}
