//! Values between the harness and jco's JavaScript, in JSON, directed by the component's types.
//!
//! jco 1.35's generated bindings take and give JavaScript values; the driver (`harness/js/driver.mjs`) carries
//! them as JSON and tags only what JSON cannot say (BigInt `{"$b":"…"}`, NaN/±∞/−0 `{"$f":…}`, typed arrays
//! `{"$ta":"Uint8Array","v":[…]}`, numbers that are not safe integers as their shortest text `{"$f":"1.5"}` (parsed
//! here correctly rounded: serde_json's float parsing may be an ulp off), resource objects `{"$r":id}` / `{"$h":rep,"t":Class}`, `undefined` as
//! `null`). Everything else follows jco's mapping of component types, read from its generated code:
//!
//! | component type | JavaScript |
//! |---|---|
//! | `bool`, `s8`…`u32`, `f32`, `f64` | boolean, number |
//! | `s64`, `u64` | BigInt |
//! | `char`, `string` | string (a char is one code point) |
//! | `list<T>` | array; a list of a number type is a typed array (`Uint8Array`, …, `BigInt64Array`) |
//! | `record` | object, fields in lowerCamelCase |
//! | `tuple` | array |
//! | `flags` | object of booleans, flags in lowerCamelCase |
//! | `variant` | `{tag, val}` with the case's name as written |
//! | `enum` | the case's name as written |
//! | `option<T>` | `T` or `undefined`; when `T` can itself be `undefined` (an option), `{tag:'some',val}` / `{tag:'none'}` |
//! | `result<T, E>` | `{tag:'ok',val}` / `{tag:'err',val}`; as an export's whole result: returned / thrown |
//! | `own`, `borrow` | objects |

use component_layer::types::ValueType;
use component_layer::{List, Value};
use serde_json::{json, Map, Value as Json};

/// What stands at a resource position: given the stand-in (a harness value or a JSON value), whether the
/// position is an `own`, its JSON or harness value.
pub type ToJsResource<'a> = dyn FnMut(&Value, &ValueType) -> Result<Json, String> + 'a;
/// The harness value of a resource object at a resource position of type `ty`.
pub type FromJsResource<'a> = dyn FnMut(&Json, &ValueType) -> Result<Value, String> + 'a;

/// jco's lowerCamelCase of a WIT name (`a-b-c` → `aBC`, `HTTP-body` → `httpBody`).
pub fn lower_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, word) in name.split('-').enumerate() {
        let word = word.to_ascii_lowercase();
        if i == 0 {
            out.push_str(&word);
        } else {
            let mut cs = word.chars();
            if let Some(c) = cs.next() {
                out.push(c.to_ascii_uppercase());
                out.extend(cs);
            }
        }
    }
    out
}

/// jco's UpperCamelCase of a WIT name (resource classes: `my-res` → `MyRes`).
pub fn upper_camel(name: &str) -> String {
    let lower = lower_camel(name);
    let mut cs = lower.chars();
    match cs.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + cs.as_str(),
        None => lower,
    }
}

fn float_js(x: f64) -> Json {
    if x.is_nan() {
        json!({"$f": "nan"})
    } else if x == f64::INFINITY {
        json!({"$f": "inf"})
    } else if x == f64::NEG_INFINITY {
        json!({"$f": "-inf"})
    } else if x == 0.0 && x.is_sign_negative() {
        json!({"$f": "-0"})
    } else {
        json!(x)
    }
}

fn float_of(j: &Json) -> Result<f64, String> {
    match j {
        Json::Number(n) => n.as_f64().ok_or_else(|| format!("not a float: {n}")),
        Json::Object(o) => match o.get("$f").and_then(Json::as_str) {
            Some("nan") => Ok(f64::NAN),
            Some("inf") => Ok(f64::INFINITY),
            Some("-inf") => Ok(f64::NEG_INFINITY),
            Some("-0") => Ok(-0.0),
            Some(text) => text.parse().map_err(|e| format!("not a float: {j} ({e})")),
            None => Err(format!("not a float: {j}")),
        },
        _ => Err(format!("not a float: {j}")),
    }
}

/// The typed array jco uses for a list of `ty`, if it uses one.
fn typed_array(ty: &ValueType) -> Option<&'static str> {
    Some(match ty {
        ValueType::U8 => "Uint8Array",
        ValueType::S8 => "Int8Array",
        ValueType::U16 => "Uint16Array",
        ValueType::S16 => "Int16Array",
        ValueType::U32 => "Uint32Array",
        ValueType::S32 => "Int32Array",
        ValueType::U64 => "BigUint64Array",
        ValueType::S64 => "BigInt64Array",
        ValueType::F32 => "Float32Array",
        ValueType::F64 => "Float64Array",
        _ => return None,
    })
}

/// Whether jco may represent a value of `ty` by `undefined` (so an option of it needs the tagged form).
fn may_be_undefined(ty: &ValueType) -> bool {
    matches!(ty, ValueType::Option(_))
}

fn mismatch(v: &Value, ty: &ValueType) -> String {
    format!("a {} value where the type is {ty:?}", v.kind_name())
}

/// A harness value of type `ty` as jco's JavaScript, in JSON; resource positions go through `res`.
pub fn to_js(v: &Value, ty: &ValueType, res: &mut ToJsResource<'_>) -> Result<Json, String> {
    Ok(match (v, ty) {
        (Value::Bool(x), ValueType::Bool) => json!(x),
        (Value::S8(x), ValueType::S8) => json!(x),
        (Value::U8(x), ValueType::U8) => json!(x),
        (Value::S16(x), ValueType::S16) => json!(x),
        (Value::U16(x), ValueType::U16) => json!(x),
        (Value::S32(x), ValueType::S32) => json!(x),
        (Value::U32(x), ValueType::U32) => json!(x),
        (Value::S64(x), ValueType::S64) => json!({"$b": x.to_string()}),
        (Value::U64(x), ValueType::U64) => json!({"$b": x.to_string()}),
        (Value::F32(x), ValueType::F32) => float_js(f64::from(*x)),
        (Value::F64(x), ValueType::F64) => float_js(*x),
        (Value::Char(c), ValueType::Char) => json!(c.to_string()),
        (Value::String(s), ValueType::String) => json!(s),
        (Value::List(l), ValueType::List(t)) => {
            let items = l.iter().map(|x| to_js(&x, t, res)).collect::<Result<Vec<_>, _>>()?;
            match typed_array(t) {
                Some(class) => json!({"$ta": class, "v": items}),
                None => Json::Array(items),
            }
        }
        (Value::Record(fs), ValueType::Record(ts)) => {
            let mut o = Map::new();
            for ((_, x), (n, t)) in fs.iter().zip(ts.iter()) {
                o.insert(lower_camel(n), to_js(x, t, res)?);
            }
            Json::Object(o)
        }
        (Value::Tuple(xs), ValueType::Tuple(ts)) => {
            Json::Array(xs.iter().zip(ts.iter()).map(|(x, t)| to_js(x, t, res)).collect::<Result<_, _>>()?)
        }
        (Value::Variant(c, p), ValueType::Variant(cs)) => {
            let t = cs.iter().find(|(n, _)| n == c).ok_or_else(|| format!("no case `{c}`"))?.1.as_ref();
            tagged(c, p.as_deref(), t, res)?
        }
        (Value::Enum(c), ValueType::Enum(_)) => json!(c.to_string()),
        (Value::Flags(set), ValueType::Flags(names)) => {
            let mut o = Map::new();
            for n in names.iter() {
                o.insert(lower_camel(n), json!(set.iter().any(|s| s == n)));
            }
            Json::Object(o)
        }
        (Value::Option(p), ValueType::Option(t)) => match (p, may_be_undefined(t)) {
            (None, false) => Json::Null,
            (Some(x), false) => to_js(x, t, res)?,
            (None, true) => json!({"tag": "none"}),
            (Some(x), true) => json!({"tag": "some", "val": to_js(x, t, res)?}),
        },
        (Value::Result(r), ValueType::Result { ok, err }) => match r {
            Ok(p) => tagged("ok", p.as_deref(), ok.as_deref(), res)?,
            Err(p) => tagged("err", p.as_deref(), err.as_deref(), res)?,
        },
        (_, ValueType::Own(_) | ValueType::Borrow(_)) => res(v, ty)?,
        (v, ty) => return Err(mismatch(v, ty)),
    })
}

fn tagged(tag: &str, p: Option<&Value>, t: Option<&ValueType>, res: &mut ToJsResource<'_>) -> Result<Json, String> {
    Ok(match (p, t) {
        (Some(p), Some(t)) => json!({"tag": tag, "val": to_js(p, t, res)?}),
        _ => json!({"tag": tag}),
    })
}

fn int_of(j: &Json) -> Result<i128, String> {
    match j {
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Ok(i128::from(u))
            } else {
                Err(format!("not an integer: {n}"))
            }
        }
        Json::Object(o) => o
            .get("$b")
            .and_then(Json::as_str)
            .and_then(|s| s.parse::<i128>().ok())
            .ok_or_else(|| format!("not an integer: {j}")),
        _ => Err(format!("not an integer: {j}")),
    }
}

fn int<T: TryFrom<i128>>(j: &Json) -> Result<T, String> {
    let i = int_of(j)?;
    T::try_from(i).map_err(|_| format!("{i} is out of range"))
}

fn tag_of(j: &Json) -> Result<(&str, Option<&Json>), String> {
    let o = j.as_object().ok_or_else(|| format!("expected {{tag, val}}, got {j}"))?;
    let tag = o.get("tag").and_then(Json::as_str).ok_or_else(|| format!("no tag in {j}"))?;
    Ok((tag, o.get("val").filter(|v| !v.is_null())))
}

fn payload(
    val: Option<&Json>,
    t: Option<&ValueType>,
    res: &mut FromJsResource<'_>,
) -> Result<Option<Box<Value>>, String> {
    match t {
        Some(t) => Ok(Some(Box::new(from_js(val.unwrap_or(&Json::Null), t, res)?))),
        None => Ok(None),
    }
}

/// A value jco gave (in JSON) as a harness value of type `ty`; resource objects go through `res`.
pub fn from_js(j: &Json, ty: &ValueType, res: &mut FromJsResource<'_>) -> Result<Value, String> {
    let bad = || format!("expected a {ty:?}, got {j}");
    Ok(match ty {
        ValueType::Bool => Value::Bool(j.as_bool().ok_or_else(bad)?),
        ValueType::S8 => Value::S8(int(j)?),
        ValueType::U8 => Value::U8(int(j)?),
        ValueType::S16 => Value::S16(int(j)?),
        ValueType::U16 => Value::U16(int(j)?),
        ValueType::S32 => Value::S32(int(j)?),
        ValueType::U32 => Value::U32(int(j)?),
        ValueType::S64 => Value::S64(int(j)?),
        ValueType::U64 => Value::U64(int(j)?),
        ValueType::F32 => Value::F32(float_of(j)? as f32),
        ValueType::F64 => Value::F64(float_of(j)?),
        ValueType::Char => {
            let s = j.as_str().ok_or_else(bad)?;
            let mut cs = s.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => Value::Char(c),
                _ => return Err(format!("a char must be one code point, got {j}")),
            }
        }
        ValueType::String => Value::String(j.as_str().ok_or_else(bad)?.into()),
        ValueType::List(t) => {
            // The driver gives typed arrays as arrays; the tagged form is this module's own (symmetric).
            let items = j.as_array().or_else(|| j.get("v").and_then(Json::as_array)).ok_or_else(bad)?;
            Value::List(List::Values(items.iter().map(|x| from_js(x, t, res)).collect::<Result<_, _>>()?))
        }
        ValueType::Record(ts) => {
            let o = j.as_object().ok_or_else(bad)?;
            let mut fs = Vec::with_capacity(ts.len());
            for (n, t) in ts.iter() {
                let x = o.get(&lower_camel(n)).unwrap_or(&Json::Null);
                fs.push((n.clone(), from_js(x, t, res)?));
            }
            Value::Record(fs)
        }
        ValueType::Tuple(ts) => {
            let xs = j.as_array().ok_or_else(bad)?;
            if xs.len() != ts.len() {
                return Err(bad());
            }
            Value::Tuple(xs.iter().zip(ts.iter()).map(|(x, t)| from_js(x, t, res)).collect::<Result<_, _>>()?)
        }
        ValueType::Variant(cs) => {
            let (tag, val) = tag_of(j)?;
            let (name, t) = cs.iter().find(|(n, _)| &**n == tag).ok_or_else(|| format!("no case `{tag}`"))?;
            Value::Variant(name.clone(), payload(val, t.as_ref(), res)?)
        }
        ValueType::Enum(cs) => {
            let s = j.as_str().ok_or_else(bad)?;
            Value::Enum(cs.iter().find(|c| &***c == s).cloned().ok_or_else(|| format!("no enum case `{s}`"))?)
        }
        ValueType::Flags(names) => {
            let o = j.as_object().ok_or_else(bad)?;
            let set = names
                .iter()
                .filter(|n| o.get(&lower_camel(n)).and_then(Json::as_bool).unwrap_or(false))
                .cloned()
                .collect();
            Value::Flags(set)
        }
        ValueType::Option(t) if may_be_undefined(t) => match j {
            Json::Null => Value::Option(None),
            _ => match tag_of(j)? {
                ("none", _) => Value::Option(None),
                ("some", val) => Value::Option(payload(val, Some(t), res)?),
                (tag, _) => return Err(format!("no option case `{tag}`")),
            },
        },
        ValueType::Option(t) => match j {
            Json::Null => Value::Option(None),
            x => Value::Option(Some(Box::new(from_js(x, t, res)?))),
        },
        ValueType::Result { ok, err } => match tag_of(j)? {
            ("ok", val) => Value::Result(Ok(payload(val, ok.as_deref(), res)?)),
            ("err", val) => Value::Result(Err(payload(val, err.as_deref(), res)?)),
            (tag, _) => return Err(format!("no result case `{tag}`")),
        },
        ValueType::Own(_) | ValueType::Borrow(_) => res(j, ty)?,
        other => return Err(format!("the jco engine does not carry {other:?} values")),
    })
}

/// The arguments for jco's function of a whole result `result<T, E>`: jco returns `T` and throws `E`. A value
/// returned is `ok`; `thrown` is the payload of a thrown error.
pub fn whole_result(
    returned: Option<&Json>,
    thrown: Option<&Json>,
    ty: &ValueType,
    res: &mut FromJsResource<'_>,
) -> Result<Value, String> {
    let ValueType::Result { ok, err } = ty else { return Err(format!("not a result type: {ty:?}")) };
    Ok(match thrown {
        Some(p) => Value::Result(Err(payload(Some(p), err.as_deref(), res)?)),
        None => Value::Result(Ok(payload(returned, ok.as_deref(), res)?)),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn no_res(_: &Value, _: &ValueType) -> Result<Json, String> {
        Err("no resources".into())
    }

    fn no_res_back(_: &Json, _: &ValueType) -> Result<Value, String> {
        Err("no resources".into())
    }

    fn round_trip(v: Value, ty: ValueType) -> Json {
        let j = to_js(&v, &ty, &mut no_res).expect("to js");
        let back = from_js(&j, &ty, &mut no_res_back).expect("from js");
        assert_eq!(back, v, "{j}");
        j
    }

    #[test]
    fn names_are_camel_cased_as_jco_does() {
        assert_eq!(lower_camel("a-b-c"), "aBC");
        assert_eq!(lower_camel("first-field"), "firstField");
        assert_eq!(lower_camel("HTTP-body"), "httpBody");
        assert_eq!(upper_camel("my-res"), "MyRes");
    }

    #[test]
    fn scalars_and_their_edges() {
        assert_eq!(round_trip(Value::U64(u64::MAX), ValueType::U64), json!({"$b": "18446744073709551615"}));
        assert_eq!(round_trip(Value::S64(i64::MIN), ValueType::S64), json!({"$b": "-9223372036854775808"}));
        assert_eq!(round_trip(Value::F64(-0.0), ValueType::F64), json!({"$f": "-0"}));
        assert_eq!(round_trip(Value::F32(f32::INFINITY), ValueType::F32), json!({"$f": "inf"}));
        assert_eq!(round_trip(Value::F32(1.5), ValueType::F32), json!(1.5));
        assert_eq!(round_trip(Value::Char('\u{10ffff}'), ValueType::Char), json!("\u{10ffff}"));
        let nan = from_js(&json!({"$f": "nan"}), &ValueType::F32, &mut no_res_back).expect("nan");
        assert!(matches!(nan, Value::F32(x) if x.is_nan()));
    }

    #[test]
    fn compounds_follow_jcos_conventions() {
        let rec = ValueType::Record(vec![(Arc::from("first-field"), ValueType::U8)].into());
        let j = round_trip(Value::Record(vec![(Arc::from("first-field"), Value::U8(3))]), rec);
        assert_eq!(j, json!({"firstField": 3}));
        let list = ValueType::List(ValueType::U16.into());
        let j = round_trip(Value::List(List::Values(vec![Value::U16(1), Value::U16(2)])), list);
        assert_eq!(j, json!({"$ta": "Uint16Array", "v": [1, 2]}));
        let opt = ValueType::Option(ValueType::Option(ValueType::Bool.into()).into());
        let j = round_trip(Value::Option(Some(Box::new(Value::Option(None)))), opt.clone());
        assert_eq!(j, json!({"tag": "some", "val": null}));
        assert_eq!(round_trip(Value::Option(None), opt), json!({"tag": "none"}));
        let flags = ValueType::Flags(vec![Arc::from("a-b"), Arc::from("c")].into());
        let j = round_trip(Value::Flags(vec![Arc::from("c")]), flags);
        assert_eq!(j, json!({"aB": false, "c": true}));
        let res = ValueType::Result { ok: None, err: Some(ValueType::String.into()) };
        let j = round_trip(Value::Result(Err(Some(Box::new(Value::String("x".into()))))), res);
        assert_eq!(j, json!({"tag": "err", "val": "x"}));
    }
}
