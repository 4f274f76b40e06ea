//! The one value model of the harness and its conversions.
//!
//! Values cross the [`super::Engine`] trait as [`component_layer::Value`]. This module converts them to and
//! from wasmtime's [`Val`], substitutes the resources of arguments (a resource position holds `u32` *i*, an index
//! into the call's [`super::ResourceArg`]s) guided by the parameter types — component-layer's [`ValueType`] or
//! wasmtime's [`Type`] — and keeps the resources an instance gives the host ([`Holdings`]), which results show as
//! engine-neutral labels.

use std::sync::Arc;

use component_layer::types::ValueType;
use component_layer::{List, Value};
use wasmtime::component::{Type, Val};

/// Converts a harness value to wasmtime's (no resources).
pub fn to_val(v: &Value) -> Result<Val, String> {
    Ok(match v {
        Value::Bool(x) => Val::Bool(*x),
        Value::S8(x) => Val::S8(*x),
        Value::U8(x) => Val::U8(*x),
        Value::S16(x) => Val::S16(*x),
        Value::U16(x) => Val::U16(*x),
        Value::S32(x) => Val::S32(*x),
        Value::U32(x) => Val::U32(*x),
        Value::S64(x) => Val::S64(*x),
        Value::U64(x) => Val::U64(*x),
        Value::F32(x) => Val::Float32(*x),
        Value::F64(x) => Val::Float64(*x),
        Value::Char(x) => Val::Char(*x),
        Value::String(s) => Val::String(s.clone()),
        Value::List(l) => Val::List(l.iter().map(|v| to_val(&v)).collect::<Result<_, _>>()?),
        Value::Record(fs) => {
            Val::Record(fs.iter().map(|(n, v)| Ok((n.to_string(), to_val(v)?))).collect::<Result<_, String>>()?)
        }
        Value::Tuple(vs) => Val::Tuple(vs.iter().map(to_val).collect::<Result<_, _>>()?),
        Value::Variant(c, p) => Val::Variant(c.to_string(), boxed_val(p)?),
        Value::Enum(c) => Val::Enum(c.to_string()),
        Value::Option(p) => Val::Option(boxed_val(p)?),
        Value::Result(r) => Val::Result(match r {
            Ok(p) => Ok(boxed_val(p)?),
            Err(p) => Err(boxed_val(p)?),
        }),
        Value::Flags(fs) => Val::Flags(fs.iter().map(|f| f.to_string()).collect()),
        Value::Resource(_) => return Err("a resource cannot cross to another engine".into()),
        Value::Stream(_) | Value::Future(_) | Value::ErrorContext(_) => {
            return Err(format!("a {} cannot cross to another engine", v.kind_name()))
        }
    })
}

fn boxed_val(p: &Option<Box<Value>>) -> Result<Option<Box<Val>>, String> {
    Ok(p.as_deref().map(to_val).transpose()?.map(Box::new))
}

/// Converts wasmtime's value to the harness's; resources become what `label` makes of them.
pub fn from_val(v: &Val, label: &mut dyn FnMut(&wasmtime::component::ResourceAny) -> String) -> Result<Value, String> {
    let mut boxed = |p: &Option<Box<Val>>| -> Result<Option<Box<Value>>, String> {
        Ok(match p.as_deref() {
            Some(x) => Some(Box::new(from_val(x, &mut *label)?)),
            None => None,
        })
    };
    Ok(match v {
        Val::Bool(x) => Value::Bool(*x),
        Val::S8(x) => Value::S8(*x),
        Val::U8(x) => Value::U8(*x),
        Val::S16(x) => Value::S16(*x),
        Val::U16(x) => Value::U16(*x),
        Val::S32(x) => Value::S32(*x),
        Val::U32(x) => Value::U32(*x),
        Val::S64(x) => Value::S64(*x),
        Val::U64(x) => Value::U64(*x),
        Val::Float32(x) => Value::F32(*x),
        Val::Float64(x) => Value::F64(*x),
        Val::Char(x) => Value::Char(*x),
        Val::String(s) => Value::String(s.clone()),
        Val::List(vs) => {
            Value::List(List::Values(vs.iter().map(|x| from_val(x, &mut *label)).collect::<Result<_, _>>()?))
        }
        Val::Record(fs) => Value::Record(
            fs.iter()
                .map(|(n, x)| Ok((Arc::from(n.as_str()), from_val(x, &mut *label)?)))
                .collect::<Result<_, String>>()?,
        ),
        Val::Tuple(vs) => Value::Tuple(vs.iter().map(|x| from_val(x, &mut *label)).collect::<Result<_, _>>()?),
        Val::Variant(c, p) => Value::Variant(Arc::from(c.as_str()), boxed(p)?),
        Val::Enum(c) => Value::Enum(Arc::from(c.as_str())),
        Val::Option(p) => Value::Option(boxed(p)?),
        Val::Result(Ok(p)) => Value::Result(Ok(boxed(p)?)),
        Val::Result(Err(p)) => Value::Result(Err(boxed(p)?)),
        Val::Flags(fs) => Value::Flags(fs.iter().map(|f| Arc::from(f.as_str())).collect()),
        Val::Resource(r) => Value::Enum(Arc::from(label(r).as_str())),
        other => return Err(format!("unsupported value {other:?}")),
    })
}

/// Converts wasmtime's value to the harness's, failing on resources.
pub fn from_plain_val(v: &Val) -> Result<Value, String> {
    from_val(v, &mut |_| "<resource>".into())
}

/// Whether a type mentions a resource.
pub fn has_resources(ty: &ValueType) -> bool {
    mentions(ty, &|t| matches!(t, ValueType::Own(_) | ValueType::Borrow(_)))
}

/// Whether a type mentions a stream, a future or an error-context, which the generic hosts cannot make or serve.
pub fn has_async_values(ty: &ValueType) -> bool {
    mentions(ty, &|t| matches!(t, ValueType::Stream(_) | ValueType::Future(_) | ValueType::ErrorContext))
}

/// Whether `ty` is, or contains in its lists, options, records, tuples, variants or results, a type `leaf` picks.
fn mentions(ty: &ValueType, leaf: &dyn Fn(&ValueType) -> bool) -> bool {
    leaf(ty)
        || match ty {
            ValueType::List(t) | ValueType::Option(t) => mentions(t, leaf),
            ValueType::Record(fs) => fs.iter().any(|(_, t)| mentions(t, leaf)),
            ValueType::Tuple(ts) => ts.iter().any(|t| mentions(t, leaf)),
            ValueType::Variant(cs) => cs.iter().any(|(_, t)| t.as_ref().is_some_and(|t| mentions(t, leaf))),
            ValueType::Result { ok, err } => {
                ok.as_deref().is_some_and(|t| mentions(t, leaf)) || err.as_deref().is_some_and(|t| mentions(t, leaf))
            }
            _ => false,
        }
}

/// A resource position's stand-in: `slot(index, own)` gives what goes there.
pub type Slot<'a, R> = dyn FnMut(u32, bool) -> Result<R, String> + 'a;

/// Replaces the stand-ins of resource positions in `v` (of component-layer type `ty`) with `wrap(slot(i, own))`.
pub fn substitute<R>(
    v: &Value,
    ty: &ValueType,
    slot: &mut Slot<'_, R>,
    wrap: &dyn Fn(R) -> Value,
) -> Result<Value, String> {
    if !has_resources(ty) {
        return Ok(v.clone());
    }
    let mut sub = |v: &Value, t: &ValueType| substitute(v, t, &mut *slot, wrap);
    Ok(match (v, ty) {
        (Value::U32(i), ValueType::Own(_)) => wrap(slot(*i, true)?),
        (Value::U32(i), ValueType::Borrow(_)) => wrap(slot(*i, false)?),
        (Value::List(l), ValueType::List(t)) => {
            Value::List(List::Values(l.iter().map(|x| sub(&x, t)).collect::<Result<_, _>>()?))
        }
        (Value::Record(fs), ValueType::Record(ts)) => Value::Record(
            fs.iter()
                .zip(ts.iter())
                .map(|((n, x), (_, t))| Ok((n.clone(), sub(x, t)?)))
                .collect::<Result<_, String>>()?,
        ),
        (Value::Tuple(xs), ValueType::Tuple(ts)) => {
            Value::Tuple(xs.iter().zip(ts.iter()).map(|(x, t)| sub(x, t)).collect::<Result<_, _>>()?)
        }
        (Value::Variant(c, p), ValueType::Variant(cs)) => {
            let t = cs.iter().find(|(n, _)| n == c).and_then(|(_, t)| t.as_ref());
            let p = match (p, t) {
                (Some(p), Some(t)) => Some(Box::new(sub(p, t)?)),
                (p, _) => p.clone(),
            };
            Value::Variant(c.clone(), p)
        }
        (Value::Option(Some(p)), ValueType::Option(t)) => Value::Option(Some(Box::new(sub(p, t)?))),
        (Value::Result(r), ValueType::Result { ok, err }) => {
            let (p, t, is_ok) = match r {
                Ok(p) => (p, ok, true),
                Err(p) => (p, err, false),
            };
            let p = match (p, t) {
                (Some(p), Some(t)) => Some(Box::new(sub(p, t)?)),
                (p, _) => p.clone(),
            };
            Value::Result(if is_ok { Ok(p) } else { Err(p) })
        }
        (other, _) => other.clone(),
    })
}

/// As [`substitute`], into a wasmtime value of wasmtime type `ty`.
pub fn substitute_val(v: &Value, ty: &Type, slot: &mut Slot<'_, Val>) -> Result<Val, String> {
    let boxed = |p: Option<Val>| p.map(Box::new);
    Ok(match (v, ty) {
        (Value::U32(i), Type::Own(_)) => slot(*i, true)?,
        (Value::U32(i), Type::Borrow(_)) => slot(*i, false)?,
        (Value::List(l), Type::List(t)) => {
            let t = t.ty();
            Val::List(l.iter().map(|x| substitute_val(&x, &t, &mut *slot)).collect::<Result<_, _>>()?)
        }
        (Value::Record(fs), Type::Record(r)) => Val::Record(
            fs.iter()
                .zip(r.fields())
                .map(|((n, x), f)| Ok((n.to_string(), substitute_val(x, &f.ty, &mut *slot)?)))
                .collect::<Result<_, String>>()?,
        ),
        (Value::Tuple(xs), Type::Tuple(t)) => Val::Tuple(
            xs.iter().zip(t.types()).map(|(x, t)| substitute_val(x, &t, &mut *slot)).collect::<Result<_, _>>()?,
        ),
        (Value::Variant(c, p), Type::Variant(vt)) => {
            let t = vt.cases().find(|k| k.name == &**c).and_then(|k| k.ty);
            let p = match (p, t) {
                (Some(p), Some(t)) => Some(substitute_val(p, &t, &mut *slot)?),
                (Some(p), None) => Some(to_val(p)?),
                (None, _) => None,
            };
            Val::Variant(c.to_string(), boxed(p))
        }
        (Value::Option(Some(p)), Type::Option(t)) => Val::Option(Some(Box::new(substitute_val(p, &t.ty(), slot)?))),
        (Value::Result(r), Type::Result(rt)) => {
            let (p, t, is_ok) = match r {
                Ok(p) => (p, rt.ok(), true),
                Err(p) => (p, rt.err(), false),
            };
            let p = match (p, t) {
                (Some(p), Some(t)) => Some(substitute_val(p, &t, &mut *slot)?),
                (Some(p), None) => Some(to_val(p)?),
                (None, _) => None,
            };
            Val::Result(if is_ok { Ok(boxed(p)) } else { Err(boxed(p)) })
        }
        (other, _) => to_val(other)?,
    })
}

/// The imported resource type at `path` (names from the component's imports, as component-layer reflects them,
/// down to the type).
pub fn imported_resource(
    items: &[(String, component_layer::types::ItemType)],
    path: &[String],
) -> Option<component_layer::ResourceType> {
    use component_layer::types::ItemType;
    let (first, rest) = path.split_first()?;
    match (items.iter().find(|(n, _)| n == first).map(|(_, i)| i), rest.is_empty()) {
        (Some(ItemType::Resource(r)), true) => Some(r.clone()),
        (Some(ItemType::Instance(inner)), false) => imported_resource(inner, rest),
        _ => None,
    }
}

/// The resources an instance gave the host, numbered in order of first appearance: results show them as
/// `own<NAME>#N`, arguments refer to them by N.
pub struct Holdings<R> {
    held: Vec<(u32, R)>,
    next: u32,
}

impl<R> Default for Holdings<R> {
    fn default() -> Self {
        Holdings { held: Vec::new(), next: 0 }
    }
}

impl<R: Clone + PartialEq> Holdings<R> {
    /// The number of `r`: the one it already has if the host still holds it, else the next one.
    pub fn number(&mut self, r: R) -> u32 {
        if let Some((n, _)) = self.held.iter().find(|(_, x)| *x == r) {
            return *n;
        }
        let n = self.next;
        self.next += 1;
        self.held.push((n, r));
        n
    }

    /// Resource `n`: taken out if it is moved (`own`), else a copy (lent).
    pub fn take(&mut self, n: u32, moved: bool) -> Result<R, String> {
        let pos =
            self.held.iter().position(|(k, _)| *k == n).ok_or_else(|| format!("the host holds no resource #{n}"))?;
        Ok(if moved { self.held.remove(pos).1 } else { self.held[pos].1.clone() })
    }
}

/// The label of a resource the host holds: `own<NAME>#N`.
pub fn holding_label(name: &str, n: u32) -> String {
    format!("own<{name}>#{n}")
}

/// The number in a holding label, if `v` is one.
pub fn label_number(v: &Value) -> Option<u32> {
    match v {
        Value::Enum(s) => s.strip_prefix("own<")?.rsplit_once(">#")?.1.parse().ok(),
        _ => None,
    }
}

/// Every holding label in `v`, in order.
pub fn labels_in(v: &Value, out: &mut Vec<u32>) {
    match v {
        Value::Enum(_) => out.extend(label_number(v)),
        Value::List(l) => l.iter().for_each(|x| labels_in(&x, out)),
        Value::Record(fs) => fs.iter().for_each(|(_, x)| labels_in(x, out)),
        Value::Tuple(xs) => xs.iter().for_each(|x| labels_in(x, out)),
        Value::Variant(_, Some(p)) | Value::Option(Some(p)) | Value::Result(Ok(Some(p)) | Err(Some(p))) => {
            labels_in(p, out)
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdings_number_in_order_of_first_appearance() {
        let mut h = Holdings::default();
        assert_eq!(h.number("a"), 0);
        assert_eq!(h.number("b"), 1);
        assert_eq!(h.number("a"), 0);
        assert_eq!(h.take(0, true), Ok("a"));
        assert!(h.take(0, false).is_err());
        assert_eq!(h.number("a"), 2);
        assert_eq!(label_number(&Value::Enum(holding_label("guest", 7).into())), Some(7));
        assert_eq!(label_number(&Value::Enum("own<x>".into())), None);
    }
}
