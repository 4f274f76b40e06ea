//! Values as WAVE text (the WebAssembly Value Encoding), through the `wasm-wave` crate.
//!
//! component-layer's [`Value`] is a `wasm_wave::wasm::WasmValue` and its [`ValueType`] a `WasmType`, so values are
//! written and read by the library itself; what stays here is the bridge from the generators' type model: a
//! value is written only once [`values::check`] has found it of its [`Ty`], and text is read as the
//! [`ValueType`] a `Ty` stands for.

use std::sync::Arc;

use component_layer::types::ValueType;
use component_layer::Value;

use crate::ty::{Def, Ty, TypeSet};
use crate::values;

/// The component-layer type of a generated type, to read WAVE text as (`None` for a type with resources, which
/// WAVE cannot read, or one that is not the set's).
pub fn value_type(set: &TypeSet, ty: &Ty) -> Option<ValueType> {
    let inner = |t: &Ty| value_type(set, t).map(Arc::new);
    // An absent payload stays absent; a payload without a type fails.
    let payload = |t: Option<&Ty>| match t {
        None => Some(None),
        Some(t) => value_type(set, t).map(Some),
    };
    Some(match ty {
        Ty::Bool => ValueType::Bool,
        Ty::S8 => ValueType::S8,
        Ty::U8 => ValueType::U8,
        Ty::S16 => ValueType::S16,
        Ty::U16 => ValueType::U16,
        Ty::S32 => ValueType::S32,
        Ty::U32 => ValueType::U32,
        Ty::S64 => ValueType::S64,
        Ty::U64 => ValueType::U64,
        Ty::F32 => ValueType::F32,
        Ty::F64 => ValueType::F64,
        Ty::Char => ValueType::Char,
        Ty::String => ValueType::String,
        Ty::List(t) => ValueType::List(inner(t)?),
        Ty::Tuple(ts) => ValueType::Tuple(ts.iter().map(|t| value_type(set, t)).collect::<Option<_>>()?),
        Ty::Option(t) => ValueType::Option(inner(t)?),
        Ty::Result(ok, err) => {
            ValueType::Result { ok: payload(ok.as_deref())?.map(Arc::new), err: payload(err.as_deref())?.map(Arc::new) }
        }
        Ty::Named(i) => match &set.defs.get(*i)?.1 {
            Def::Record(fs) => ValueType::Record(
                fs.iter().map(|(n, t)| Some((Arc::from(n.as_str()), value_type(set, t)?))).collect::<Option<_>>()?,
            ),
            Def::Variant(cs) => ValueType::Variant(
                cs.iter().map(|(n, t)| Some((Arc::from(n.as_str()), payload(t.as_ref())?))).collect::<Option<_>>()?,
            ),
            Def::Enum(cs) => ValueType::Enum(cs.iter().map(|c| Arc::from(c.as_str())).collect()),
            Def::Flags(ls) => ValueType::Flags(ls.iter().map(|l| Arc::from(l.as_str())).collect()),
            Def::Alias(t) => value_type(set, t)?,
        },
        Ty::Own(_) | Ty::Borrow(_) => return None,
    })
}

/// A value of `ty` as WAVE text. A handle is written as component-layer writes one (`own(N)`, its host-table
/// index; a resource's `u32` rep as the number); a value that is not of the type (a wrong engine's) in its debug
/// form, bounded ([`values::describe`]).
pub fn to_wave(set: &TypeSet, ty: &Ty, v: &Value) -> String {
    match values::check(set, ty, v) {
        Ok(()) => wasm_wave::to_string(v).unwrap_or_else(|_| values::describe(v)),
        Err(_) => values::describe(v),
    }
}

/// Parses WAVE text as a value of `ty`.
pub fn from_wave(set: &TypeSet, ty: &Ty, text: &str) -> Result<Value, String> {
    set.well_formed_ty(ty)?;
    let vt = value_type(set, ty).ok_or("resources have no WAVE form")?;
    wasm_wave::from_str(&vt, text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use component_layer::List;

    #[test]
    fn wave_round_trip() {
        let mut set = TypeSet::default();
        set.defs.push(("r".into(), Def::Record(vec![("a".into(), Ty::U8), ("b".into(), Ty::String)])));
        let ty = Ty::List(Box::new(Ty::Named(0)));
        let v = Value::List(List::Values(vec![Value::Record(vec![
            ("a".into(), Value::U8(7)),
            ("b".into(), Value::String("hé\"".into())),
        ])]));
        let text = to_wave(&set, &ty, &v);
        assert_eq!(text, r#"[{a: 7, b: "hé\""}]"#);
        assert_eq!(from_wave(&set, &ty, &text).unwrap(), v);
    }

    #[test]
    fn a_value_of_another_type_is_described() {
        let set = TypeSet::default();
        assert_eq!(to_wave(&set, &Ty::U8, &Value::String("x".into())), r#"String("x")"#);
        assert!(from_wave(&set, &Ty::Own(0), "own(0)").is_err());
    }
}
