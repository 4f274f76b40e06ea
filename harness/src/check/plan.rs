//! Planning calls into a component nobody wrote a host for: which exports can be called, with which arguments,
//! and where the resources they need come from.
//!
//! Arguments are generated once, engine-neutrally, as [`Value`]s in which every resource position holds a
//! stand-in `u32`: an index into the call's [`Slot`]s. Each engine then materialises the slots in its own store —
//! a handle minted by the generic host for an imported resource type, or the result of one of the component's
//! own constructors for a resource it defines — and substitutes them, guided by the parameter types.

use std::sync::Arc;

use component_layer::generic::{mix_seed, name_hash, ValueGen};
use component_layer::types::{FuncType, ItemType, ValueType};
use component_layer::{List, ResourceType, Value};
use serde::{Deserialize, Serialize};

use crate::engine::value::{has_resources, substitute};

/// Where the resource of one argument position comes from.
#[derive(Clone, Debug)]
pub enum Slot {
    /// A handle of an imported resource type (at `import`, its path in the imports), minted by the generic host.
    Host { ty: ResourceType, import: Vec<String>, own: bool },
    /// A resource the component defines: the result of calling its constructor `ctor` with `args`.
    Guest { ctor: Vec<String>, args: Vec<Value>, own: bool },
}

/// One call: an export and its arguments (with resource stand-ins).
#[derive(Clone, Debug)]
pub struct PlannedCall {
    /// The export path (`["iface", "func"]` for nested exports).
    pub path: Vec<String>,
    /// The function's type (resources abstract).
    pub ty: FuncType,
    /// The arguments; resource positions hold stand-ins indexing `slots`.
    pub args: Vec<Value>,
    /// The resources the call needs.
    pub slots: Vec<Slot>,
}

impl PlannedCall {
    /// The export path as text (`iface#func`).
    pub fn name(&self) -> String {
        self.path.join("#")
    }
}

/// An exported function and whether it can be called.
#[derive(Clone, Debug)]
pub struct ExportFunc {
    /// Its path.
    pub path: Vec<String>,
    /// Its type.
    pub ty: FuncType,
}

/// Why an export cannot be called, if it cannot.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NotCallable {
    /// The export.
    pub export: String,
    /// Why.
    pub reason: String,
}

/// What a component offers to call.
#[derive(Clone, Debug)]
pub struct Surface {
    /// The functions that can be called.
    pub funcs: Vec<ExportFunc>,
    /// The ones that cannot, with the reason.
    pub not_callable: Vec<NotCallable>,
    /// Resource types the component imports (the generic host answers them), with their paths in the imports.
    pub imported: Vec<(ResourceType, Vec<String>)>,
    /// Constructors of the resources the component defines: resource type → constructor path.
    pub ctors: Vec<(ResourceType, Vec<String>, FuncType)>,
}

/// Flattens the export tree into functions with their paths.
fn export_funcs(items: &[(String, ItemType)], prefix: &[String], out: &mut Vec<ExportFunc>) {
    for (name, item) in items {
        let mut path = prefix.to_vec();
        path.push(name.clone());
        match item {
            ItemType::Func(ty) => out.push(ExportFunc { path, ty: ty.clone() }),
            ItemType::Instance(inner) => export_funcs(inner, &path, out),
            _ => {}
        }
    }
}

/// The first imported function (by its path) whose type passes a stream, a future or an error-context.
pub fn unserved_import(items: &[(String, ItemType)], prefix: &[String]) -> Option<String> {
    items.iter().find_map(|(name, item)| {
        let mut path = prefix.to_vec();
        path.push(name.clone());
        match item {
            ItemType::Func(ty) => {
                let mut types = ty.params().iter().map(|(_, t)| t).chain(ty.result());
                types.any(crate::engine::value::has_async_values).then(|| path.join("#"))
            }
            ItemType::Instance(inner) => unserved_import(inner, &path),
            _ => None,
        }
    })
}

/// The imported resource types with their paths (names from the imports down to the type), first path first.
fn import_resources(items: &[(String, ItemType)], prefix: &[String], out: &mut Vec<(ResourceType, Vec<String>)>) {
    for (name, item) in items {
        let mut path = prefix.to_vec();
        path.push(name.clone());
        match item {
            ItemType::Resource(r) if !out.iter().any(|(x, _)| x == r) => out.push((r.clone(), path)),
            ItemType::Instance(inner) => import_resources(inner, &path, out),
            _ => {}
        }
    }
}

/// Whether `ty` holds a `borrow` of one of `imported`.
fn borrows_imported(ty: &ValueType, imported: &[(ResourceType, Vec<String>)]) -> bool {
    let b = |t: &ValueType| borrows_imported(t, imported);
    match ty {
        ValueType::Borrow(r) => imported.iter().any(|(x, _)| x == r),
        ValueType::List(t) | ValueType::Option(t) => b(t),
        ValueType::Record(fs) => fs.iter().any(|(_, t)| b(t)),
        ValueType::Tuple(ts) => ts.iter().any(b),
        ValueType::Variant(cs) => cs.iter().any(|(_, t)| t.as_ref().is_some_and(b)),
        ValueType::Result { ok, err } => ok.as_deref().is_some_and(b) || err.as_deref().is_some_and(b),
        _ => false,
    }
}

fn resources_in(ty: &ValueType, out: &mut Vec<ResourceType>) {
    match ty {
        ValueType::Own(r) | ValueType::Borrow(r) => out.push(r.clone()),
        ValueType::List(t) | ValueType::Option(t) => resources_in(t, out),
        ValueType::Record(fs) => fs.iter().for_each(|(_, t)| resources_in(t, out)),
        ValueType::Tuple(ts) => ts.iter().for_each(|t| resources_in(t, out)),
        ValueType::Variant(cs) => cs.iter().filter_map(|(_, t)| t.as_ref()).for_each(|t| resources_in(t, out)),
        ValueType::Result { ok, err } => {
            ok.iter().chain(err.iter()).for_each(|t| resources_in(t, out));
        }
        _ => {}
    }
}

impl Surface {
    /// The callable surface of a component, from its reflected imports and exports.
    pub fn of(imports: &[(String, ItemType)], exports: &[(String, ItemType)]) -> Surface {
        let mut all = Vec::new();
        export_funcs(exports, &[], &mut all);
        let mut imported = Vec::new();
        import_resources(imports, &[], &mut imported);
        // Constructors: exported functions named `[constructor]r` whose parameters need no resources.
        let ctors: Vec<(ResourceType, Vec<String>, FuncType)> = all
            .iter()
            .filter(|f| f.path.last().is_some_and(|n| n.starts_with("[constructor]")))
            .filter(|f| !f.ty.params().iter().any(|(_, t)| has_resources(t)))
            .filter_map(|f| match f.ty.result() {
                Some(ValueType::Own(r)) => Some((r.clone(), f.path.clone(), f.ty.clone())),
                _ => None,
            })
            .collect();
        let mut funcs = Vec::new();
        let mut not_callable = Vec::new();
        for f in all {
            let mut needed = Vec::new();
            for (_, t) in f.ty.params() {
                resources_in(t, &mut needed);
            }
            let missing = needed
                .iter()
                .find(|r| !imported.iter().any(|(x, _)| x == *r) && !ctors.iter().any(|(c, _, _)| c == *r));
            match missing {
                Some(r) => not_callable.push(NotCallable {
                    export: f.path.join("#"),
                    reason: format!("needs a `{r}` and the component exports no constructor for it"),
                }),
                // wasmtime 48 panics ("BUG: no current scope") when the host turns a borrow it made into a
                // `ResourceAny` outside a call, which its dynamic `Func::call` needs.
                None if f.ty.params().iter().any(|(_, t)| borrows_imported(t, &imported)) => {
                    not_callable.push(NotCallable {
                        export: f.path.join("#"),
                        reason: "needs a host-made borrow, which wasmtime 48's dynamic API cannot pass".into(),
                    })
                }
                None => funcs.push(f),
            }
        }
        Surface { funcs, not_callable, imported, ctors }
    }

    /// The `n`th call of `func`, with arguments drawn from `seed`.
    pub fn plan(&self, func: &ExportFunc, seed: u64, n: u64) -> PlannedCall {
        let seed = mix_seed(seed, &[name_hash(&func.path.join("#")), n]);
        let mut gen = ValueGen::new(seed);
        let mut slots = Vec::new();
        let mut args = Vec::new();
        for (_, ty) in func.ty.params() {
            let mut source = |r: &ResourceType, own: bool| -> component_layer::Result<Value> {
                let slot = if let Some((_, import)) = self.imported.iter().find(|(x, _)| x == r) {
                    Slot::Host { ty: r.clone(), import: import.clone(), own }
                } else {
                    let (_, ctor, cty) = self.ctors.iter().find(|(c, _, _)| c == r).ok_or_else(|| {
                        component_layer::Error::new(component_layer::ErrorKind::Usage(format!(
                            "no constructor for `{r}`"
                        )))
                    })?;
                    let mut none = |_: &ResourceType, _: bool| {
                        Err(component_layer::Error::new(component_layer::ErrorKind::Usage(
                            "constructor needs resources".into(),
                        )))
                    };
                    let mut cgen = ValueGen::new(mix_seed(seed, &[slots.len() as u64, 7]));
                    let cargs = cty.params().iter().map(|(_, t)| cgen.value(t, &mut none)).collect::<Result<_, _>>()?;
                    Slot::Guest { ctor: ctor.clone(), args: cargs, own }
                };
                slots.push(slot);
                Ok(Value::U32(slots.len() as u32 - 1))
            };
            // Generation cannot fail: constructors need no resources and every resource has a source.
            args.push(gen.value(ty, &mut source).unwrap_or(Value::Bool(false)));
        }
        PlannedCall { path: func.path.clone(), ty: func.ty.clone(), args, slots }
    }
}

/// Smaller variants of `v` (of type `ty`), simplest first, for reducing a divergence. Resource stand-ins are
/// kept as they are.
pub fn shrink_value(v: &Value, ty: &ValueType) -> Vec<Value> {
    let mut out = Vec::new();
    match (v, ty) {
        (Value::Bool(true), _) => out.push(Value::Bool(false)),
        (Value::S8(x), _) if *x != 0 => out.extend([Value::S8(0), Value::S8(x / 2)]),
        (Value::U8(x), _) if *x != 0 => out.extend([Value::U8(0), Value::U8(x / 2)]),
        (Value::S16(x), _) if *x != 0 => out.extend([Value::S16(0), Value::S16(x / 2)]),
        (Value::U16(x), _) if *x != 0 => out.extend([Value::U16(0), Value::U16(x / 2)]),
        (Value::S32(x), _) if *x != 0 => out.extend([Value::S32(0), Value::S32(x / 2)]),
        (Value::U32(x), ValueType::U32) if *x != 0 => out.extend([Value::U32(0), Value::U32(x / 2)]),
        (Value::S64(x), _) if *x != 0 => out.extend([Value::S64(0), Value::S64(x / 2)]),
        (Value::U64(x), _) if *x != 0 => out.extend([Value::U64(0), Value::U64(x / 2)]),
        (Value::F32(x), _) if x.to_bits() != 0 => out.push(Value::F32(0.0)),
        (Value::F64(x), _) if x.to_bits() != 0 => out.push(Value::F64(0.0)),
        (Value::Char(c), _) if *c != 'a' => out.push(Value::Char('a')),
        (Value::String(s), _) if !s.is_empty() => {
            let chars: Vec<char> = s.chars().collect();
            out.push(Value::String(String::new()));
            out.push(Value::String(chars[..chars.len() / 2].iter().collect()));
            out.push(Value::String(chars[chars.len() / 2..].iter().collect()));
            if chars.len() > 1 {
                out.push(Value::String(chars[1..].iter().collect()));
            }
        }
        (Value::List(l), ValueType::List(t)) if !l.is_empty() => {
            let items = l.clone().into_values();
            let n = items.len();
            out.push(Value::List(List::Values(Vec::new())));
            out.push(Value::List(List::Values(items[..n / 2].to_vec())));
            out.push(Value::List(List::Values(items[n / 2..].to_vec())));
            for i in 0..n.min(8) {
                let mut fewer = items.clone();
                fewer.remove(i);
                out.push(Value::List(List::Values(fewer)));
            }
            for i in 0..n.min(8) {
                for smaller in shrink_value(&items[i], t) {
                    let mut next = items.clone();
                    next[i] = smaller;
                    out.push(Value::List(List::Values(next)));
                }
            }
        }
        (Value::Record(fs), ValueType::Record(ts)) => {
            for (i, ((_, x), (_, t))) in fs.iter().zip(ts.iter()).enumerate() {
                for smaller in shrink_value(x, t) {
                    let mut next = fs.clone();
                    next[i].1 = smaller;
                    out.push(Value::Record(next));
                }
            }
        }
        (Value::Tuple(xs), ValueType::Tuple(ts)) => {
            for (i, (x, t)) in xs.iter().zip(ts.iter()).enumerate() {
                for smaller in shrink_value(x, t) {
                    let mut next = xs.clone();
                    next[i] = smaller;
                    out.push(Value::Tuple(next));
                }
            }
        }
        (Value::Variant(c, Some(p)), ValueType::Variant(cs)) => {
            if let Some((_, Some(t))) = cs.iter().find(|(n, _)| n == c) {
                out.extend(shrink_value(p, t).into_iter().map(|x| Value::Variant(c.clone(), Some(Box::new(x)))));
            }
        }
        (Value::Option(Some(p)), ValueType::Option(t)) => {
            if !has_resources(t) {
                out.push(Value::Option(None));
            }
            out.extend(shrink_value(p, t).into_iter().map(|x| Value::Option(Some(Box::new(x)))));
        }
        (Value::Result(Ok(Some(p))), ValueType::Result { ok: Some(t), .. }) => {
            out.extend(shrink_value(p, t).into_iter().map(|x| Value::Result(Ok(Some(Box::new(x))))));
        }
        (Value::Result(Err(Some(p))), ValueType::Result { err: Some(t), .. }) => {
            out.extend(shrink_value(p, t).into_iter().map(|x| Value::Result(Err(Some(Box::new(x))))));
        }
        (Value::Flags(fs), _) if !fs.is_empty() => {
            out.push(Value::Flags(Vec::new()));
            for i in 0..fs.len() {
                let mut fewer = fs.clone();
                fewer.remove(i);
                out.push(Value::Flags(fewer));
            }
        }
        _ => {}
    }
    out
}

/// The arguments as WAVE text, with resource stand-ins shown as where they come from.
pub fn render_args(call: &PlannedCall) -> String {
    let mut describe = |i: u32, _: bool| -> Result<String, String> {
        Ok(match call.slots.get(i as usize) {
            Some(Slot::Host { ty, own, .. }) => format!("{}<{ty}> from the host", if *own { "own" } else { "borrow" }),
            Some(Slot::Guest { ctor, args, own }) => format!(
                "{} of {}({})",
                if *own { "own" } else { "borrow" },
                ctor.join("#"),
                args.iter().map(crate::wave::to_wave).collect::<Vec<_>>().join(", ")
            ),
            None => "?".into(),
        })
    };
    let wrap = |s: String| Value::Enum(Arc::from(format!("<{s}>")));
    let parts: Vec<String> = call
        .args
        .iter()
        .zip(call.ty.params())
        .map(|(v, (n, t))| {
            let v = substitute(v, t, &mut describe, &wrap).unwrap_or_else(|_| v.clone());
            format!("{n}: {}", crate::wave::to_wave(&v))
        })
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinking_terminates_and_keeps_types() {
        let ty = ValueType::List(Arc::new(ValueType::String));
        let mut v = Value::List(List::Values(vec![Value::String("héllo".into()), Value::String("x".into())]));
        let mut steps = 0;
        while let Some(next) = shrink_value(&v, &ty).into_iter().next() {
            v = next;
            steps += 1;
            assert!(steps < 100);
        }
        assert_eq!(v, Value::List(List::Values(Vec::new())));
    }

    #[test]
    fn stand_ins_are_substituted_by_type() {
        let r = ResourceType::host_dynamic(9);
        let ty = ValueType::Tuple(Arc::from([ValueType::U32, ValueType::Own(r)]));
        let v = Value::Tuple(vec![Value::U32(0), Value::U32(0)]);
        let out = substitute(&v, &ty, &mut |i, _| Ok(format!("slot{i}")), &|s| Value::String(s)).unwrap();
        assert_eq!(out, Value::Tuple(vec![Value::U32(0), Value::String("slot0".into())]));
    }
}
