//! Conversions between the `wast` crate's component values and [`Value`].

use std::sync::Arc;

use component_layer::{List, Value};
use wast::component::WastVal;
use wast::core::NanPattern;
use wast::WastRet;

/// The value a `WastVal` denotes.
pub fn value(v: &WastVal<'_>) -> Result<Value, String> {
    let boxed = |p: &Option<Box<WastVal<'_>>>| -> Result<Option<Box<Value>>, String> {
        p.as_deref().map(value).transpose().map(|o| o.map(Box::new))
    };
    Ok(match v {
        WastVal::Bool(x) => Value::Bool(*x),
        WastVal::U8(x) => Value::U8(*x),
        WastVal::S8(x) => Value::S8(*x),
        WastVal::U16(x) => Value::U16(*x),
        WastVal::S16(x) => Value::S16(*x),
        WastVal::U32(x) => Value::U32(*x),
        WastVal::S32(x) => Value::S32(*x),
        WastVal::U64(x) => Value::U64(*x),
        WastVal::S64(x) => Value::S64(*x),
        WastVal::F32(x) => Value::F32(f32::from_bits(x.bits)),
        WastVal::F64(x) => Value::F64(f64::from_bits(x.bits)),
        WastVal::Char(c) => Value::Char(*c),
        WastVal::String(s) => Value::String((*s).to_owned()),
        WastVal::List(vs) => Value::List(List::Values(vs.iter().map(value).collect::<Result<_, _>>()?)),
        WastVal::Record(fs) => {
            Value::Record(fs.iter().map(|(n, v)| Ok((Arc::from(*n), value(v)?))).collect::<Result<_, String>>()?)
        }
        WastVal::Tuple(vs) => Value::Tuple(vs.iter().map(value).collect::<Result<_, _>>()?),
        WastVal::Variant(c, p) => Value::Variant(Arc::from(*c), boxed(p)?),
        WastVal::Enum(c) => Value::Enum(Arc::from(*c)),
        WastVal::Option(p) => Value::Option(boxed(p)?),
        WastVal::Result(r) => Value::Result(match r {
            Ok(p) => Ok(boxed(p)?),
            Err(p) => Err(boxed(p)?),
        }),
        WastVal::Flags(fs) => Value::Flags(fs.iter().map(|f| Arc::from(*f)).collect()),
        #[allow(unreachable_patterns)]
        other => return Err(format!("unsupported component value {other:?}")),
    })
}

/// Whether a lifted value matches a core `f32` pattern.
pub fn f32_matches(p: &NanPattern<wast::token::F32>, got: &Value) -> bool {
    match (p, got) {
        (NanPattern::CanonicalNan | NanPattern::ArithmeticNan, Value::F32(g)) => g.is_nan(),
        (NanPattern::Value(e), Value::F32(g)) => *got == Value::F32(f32::from_bits(e.bits)) || g.to_bits() == e.bits,
        _ => false,
    }
}

/// Whether a lifted value matches a core `f64` pattern.
pub fn f64_matches(p: &NanPattern<wast::token::F64>, got: &Value) -> bool {
    match (p, got) {
        (NanPattern::CanonicalNan | NanPattern::ArithmeticNan, Value::F64(g)) => g.is_nan(),
        (NanPattern::Value(e), Value::F64(g)) => *got == Value::F64(f64::from_bits(e.bits)) || g.to_bits() == e.bits,
        _ => false,
    }
}

/// A short description of an expected result.
pub fn describe(r: &WastRet<'_>) -> String {
    match r {
        WastRet::Component(v) => match value(v) {
            Ok(v) => format!("{v:?}"),
            Err(e) => e,
        },
        other => format!("{other:?}"),
    }
}
