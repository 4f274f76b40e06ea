//! Values as WAVE text (the WebAssembly Value Encoding), through the `wasm-wave` crate.

use std::borrow::Cow;
use std::sync::Arc;

use component_layer::{List, Value};
use wasm_wave::value::{Type, Value as Wave};
use wasm_wave::wasm::{WasmTypeKind, WasmValue};

use crate::ty::{Def, Ty, TypeSet};

/// The WAVE type of a generated type (`None` for resources, which WAVE cannot write).
pub fn wave_type(set: &TypeSet, ty: &Ty) -> Option<Type> {
    Some(match ty {
        Ty::Bool => Type::BOOL,
        Ty::S8 => Type::S8,
        Ty::U8 => Type::U8,
        Ty::S16 => Type::S16,
        Ty::U16 => Type::U16,
        Ty::S32 => Type::S32,
        Ty::U32 => Type::U32,
        Ty::S64 => Type::S64,
        Ty::U64 => Type::U64,
        Ty::F32 => Type::F32,
        Ty::F64 => Type::F64,
        Ty::Char => Type::CHAR,
        Ty::String => Type::STRING,
        Ty::List(t) => Type::list(wave_type(set, t)?),
        Ty::Tuple(ts) => Type::tuple(ts.iter().map(|t| wave_type(set, t)).collect::<Option<Vec<_>>>()?)?,
        Ty::Option(t) => Type::option(wave_type(set, t)?),
        Ty::Result(o, e) => Type::result(
            match o {
                Some(t) => Some(wave_type(set, t)?),
                None => None,
            },
            match e {
                Some(t) => Some(wave_type(set, t)?),
                None => None,
            },
        ),
        Ty::Named(i) => match &set.defs.get(*i)?.1 {
            Def::Record(fs) => Type::record(
                fs.iter().map(|(n, t)| Some((n.clone(), wave_type(set, t)?))).collect::<Option<Vec<_>>>()?,
            )?,
            Def::Variant(cs) => Type::variant(
                cs.iter()
                    .map(|(n, t)| match t {
                        Some(t) => Some((n.clone(), Some(wave_type(set, t)?))),
                        None => Some((n.clone(), None)),
                    })
                    .collect::<Option<Vec<_>>>()?,
            )?,
            Def::Enum(cs) => Type::enum_ty(cs.iter().cloned())?,
            Def::Flags(ls) => Type::flags(ls.iter().cloned())?,
            Def::Alias(t) => wave_type(set, t)?,
        },
        Ty::Own(_) | Ty::Borrow(_) => return None,
    })
}

/// A value in WAVE form (`None` for a value that is not of the type, or that WAVE cannot write).
pub fn to_wave_value(set: &TypeSet, ty: &Ty, v: &Value) -> Option<Wave> {
    set.well_formed_ty(ty).ok()?;
    wave_value(set, ty, v)
}

/// [`to_wave_value`] of a well-formed type.
fn wave_value(set: &TypeSet, ty: &Ty, v: &Value) -> Option<Wave> {
    let wty = wave_type(set, ty)?;
    Some(match (set.resolve(ty), v) {
        (Ty::Bool, Value::Bool(x)) => Wave::make_bool(*x),
        (Ty::S8, Value::S8(x)) => Wave::make_s8(*x),
        (Ty::U8, Value::U8(x)) => Wave::make_u8(*x),
        (Ty::S16, Value::S16(x)) => Wave::make_s16(*x),
        (Ty::U16, Value::U16(x)) => Wave::make_u16(*x),
        (Ty::S32, Value::S32(x)) => Wave::make_s32(*x),
        (Ty::U32, Value::U32(x)) => Wave::make_u32(*x),
        (Ty::S64, Value::S64(x)) => Wave::make_s64(*x),
        (Ty::U64, Value::U64(x)) => Wave::make_u64(*x),
        (Ty::F32, Value::F32(x)) => Wave::make_f32(*x),
        (Ty::F64, Value::F64(x)) => Wave::make_f64(*x),
        (Ty::Char, Value::Char(x)) => Wave::make_char(*x),
        (Ty::String, Value::String(s)) => Wave::make_string(Cow::Borrowed(s)),
        (Ty::List(t), Value::List(l)) => {
            Wave::make_list(&wty, l.iter().map(|e| wave_value(set, t, &e)).collect::<Option<Vec<_>>>()?).ok()?
        }
        (Ty::Tuple(ts), Value::Tuple(vs)) => {
            Wave::make_tuple(&wty, ts.iter().zip(vs).map(|(t, v)| wave_value(set, t, v)).collect::<Option<Vec<_>>>()?)
                .ok()?
        }
        (Ty::Option(t), Value::Option(p)) => {
            Wave::make_option(&wty, p.as_deref().map(|p| wave_value(set, t, p)).map_or(Some(None), |x| x.map(Some))?)
                .ok()?
        }
        (Ty::Result(ok, err), Value::Result(r)) => {
            let conv = |t: &Option<Box<Ty>>, p: &Option<Box<Value>>| -> Option<Option<Wave>> {
                match (t, p) {
                    (Some(t), Some(p)) => Some(Some(wave_value(set, t, p)?)),
                    _ => Some(None),
                }
            };
            let r = match r {
                Ok(p) => Ok(conv(ok, p)?),
                Err(p) => Err(conv(err, p)?),
            };
            Wave::make_result(&wty, r).ok()?
        }
        (Ty::Named(i), v) => match (&set.defs.get(*i)?.1, v) {
            (Def::Record(fs), Value::Record(vs)) => Wave::make_record(
                &wty,
                fs.iter()
                    .zip(vs)
                    .map(|((n, t), (_, v))| Some((n.as_str(), wave_value(set, t, v)?)))
                    .collect::<Option<Vec<_>>>()?,
            )
            .ok()?,
            (Def::Variant(cs), Value::Variant(name, p)) => {
                let t = cs.iter().find(|(n, _)| **n == **name)?.1.as_ref();
                let payload = match (t, p) {
                    (Some(t), Some(p)) => Some(wave_value(set, t, p)?),
                    _ => None,
                };
                Wave::make_variant(&wty, name, payload).ok()?
            }
            (Def::Enum(_), Value::Enum(name)) => Wave::make_enum(&wty, name).ok()?,
            (Def::Flags(_), Value::Flags(fs)) => Wave::make_flags(&wty, fs.iter().map(|f| &**f)).ok()?,
            _ => return None,
        },
        _ => return None,
    })
}

/// A value as WAVE text; a value WAVE cannot write (a handle) or that is not of the type (a wrong engine's) in
/// its debug form, bounded ([`crate::values::describe`]).
pub fn to_wave(set: &TypeSet, ty: &Ty, v: &Value) -> String {
    to_wave_value(set, ty, v).and_then(|w| wasm_wave::to_string(&w).ok()).unwrap_or_else(|| crate::values::describe(v))
}

/// Parses WAVE text as a value of `ty`.
pub fn from_wave(set: &TypeSet, ty: &Ty, text: &str) -> Result<Value, String> {
    set.well_formed_ty(ty)?;
    let wty = wave_type(set, ty).ok_or("resources have no WAVE form")?;
    let w: Wave = wasm_wave::from_str(&wty, text).map_err(|e| e.to_string())?;
    Ok(from_wave_value(&w))
}

fn from_wave_value(w: &Wave) -> Value {
    match w.kind() {
        WasmTypeKind::Bool => Value::Bool(w.unwrap_bool()),
        WasmTypeKind::S8 => Value::S8(w.unwrap_s8()),
        WasmTypeKind::U8 => Value::U8(w.unwrap_u8()),
        WasmTypeKind::S16 => Value::S16(w.unwrap_s16()),
        WasmTypeKind::U16 => Value::U16(w.unwrap_u16()),
        WasmTypeKind::S32 => Value::S32(w.unwrap_s32()),
        WasmTypeKind::U32 => Value::U32(w.unwrap_u32()),
        WasmTypeKind::S64 => Value::S64(w.unwrap_s64()),
        WasmTypeKind::U64 => Value::U64(w.unwrap_u64()),
        WasmTypeKind::F32 => Value::F32(w.unwrap_f32()),
        WasmTypeKind::F64 => Value::F64(w.unwrap_f64()),
        WasmTypeKind::Char => Value::Char(w.unwrap_char()),
        WasmTypeKind::String => Value::String(w.unwrap_string().into_owned()),
        WasmTypeKind::List => Value::List(List::Values(w.unwrap_list().map(|v| from_wave_value(&v)).collect())),
        WasmTypeKind::Record => {
            Value::Record(w.unwrap_record().map(|(n, v)| (Arc::from(&*n), from_wave_value(&v))).collect())
        }
        WasmTypeKind::Tuple => Value::Tuple(w.unwrap_tuple().map(|v| from_wave_value(&v)).collect()),
        WasmTypeKind::Variant => {
            let (n, p) = w.unwrap_variant();
            Value::Variant(Arc::from(&*n), p.map(|p| Box::new(from_wave_value(&p))))
        }
        WasmTypeKind::Enum => Value::Enum(Arc::from(&*w.unwrap_enum())),
        WasmTypeKind::Option => Value::Option(w.unwrap_option().map(|p| Box::new(from_wave_value(&p)))),
        WasmTypeKind::Result => Value::Result(match w.unwrap_result() {
            Ok(p) => Ok(p.map(|p| Box::new(from_wave_value(&p)))),
            Err(p) => Err(p.map(|p| Box::new(from_wave_value(&p)))),
        }),
        WasmTypeKind::Flags => Value::Flags(w.unwrap_flags().map(|f| Arc::from(&*f)).collect()),
        _ => Value::Bool(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
