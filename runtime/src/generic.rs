//! A generic host: every import of a component answered by one deterministic, recording host.
//!
//! To run a component nobody wrote a host for — to check it, fuzz it, or compare engines on it — every import
//! needs a definition. [`Linker::define_generic_imports`] defines them all from the component's own types:
//!
//! * each imported **function** (at the root or inside an imported instance, WASI interfaces included) records
//!   its name and lifted arguments, and returns a value of its result type drawn from a seeded generator
//!   ([`ValueGen`]); the values depend only on the seed, the function's name and how often it was called, so two
//!   engines running the same calls see the same host;
//! * each imported **resource type** becomes a fresh host type; the host mints handles with increasing
//!   representations (1, 2, …) when a result needs an `own`, and records every drop that reaches it;
//! * what the host cannot answer — a result that must be a `borrow` — fails the call (a trap in the guest),
//!   the same way every time.
//!
//! The log ([`GenericImports::take_calls`]) holds engine-neutral values: every resource is replaced by a label
//! such as `own<output-stream>#3` (as a [`Value::Enum`]), so logs from different stores and engines compare
//! equal exactly when the host saw the same thing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use wasm_runtime_layer::backend::WasmEngine;

use crate::component::plan::ImportKind;
use crate::error::{Error, Result};
use crate::linker::{Definition, Linker, LinkerInstance};
use crate::resources::{ResourceAny, ResourceType};
use crate::store::{AsContextMut, StoreContextMut};
use crate::types::{FuncType, TypeBuilder, ValueType, MAX_TYPE_DEPTH};
use crate::values::{List, Value};
use crate::Component;

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same values on every platform.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `1/n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// Mixes a seed with further inputs into a new seed.
pub fn mix_seed(seed: u64, parts: &[u64]) -> u64 {
    let mut r = SplitMix64(seed);
    let mut acc = r.next();
    for &p in parts {
        r.0 ^= p.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        acc ^= r.next();
    }
    acc
}

/// The FNV-1a hash of a name, for seeding per function.
pub fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Characters at the edges of the encodings: NUL, the ASCII/Latin-1/BMP limits, around the surrogates, the
/// replacement character and the first and last supplementary characters.
const EDGE_CHARS: [char; 12] = [
    '\0',
    'a',
    '\u{7f}',
    '\u{80}',
    '\u{ff}',
    '\u{100}',
    '\u{7ff}',
    '\u{d7ff}',
    '\u{e000}',
    '\u{fffd}',
    '\u{10000}',
    '\u{10ffff}',
];

/// Seeded, edge-biased values of any component value type.
///
/// About a third of numbers are edge values (zero, one, the extremes, NaN and infinities, negative zero), strings
/// mix ASCII with characters at encoding boundaries, and lists and strings are short (a budget bounds the total
/// size of one value, so nested lists stay small).
///
/// ```
/// use component_layer::generic::ValueGen;
/// use component_layer::types::ValueType;
///
/// let ty = ValueType::List(ValueType::String.into());
/// let mut no_resources = |_: &component_layer::ResourceType, _: bool| unreachable!();
/// let a = ValueGen::new(7).value(&ty, &mut no_resources).unwrap();
/// let b = ValueGen::new(7).value(&ty, &mut no_resources).unwrap();
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Debug)]
pub struct ValueGen {
    rng: SplitMix64,
    budget: u32,
}

/// Supplies a resource handle for an `own` (`true`) or `borrow` (`false`) of a resource type.
pub type ResourceSource<'a> = dyn FnMut(&ResourceType, bool) -> Result<Value> + 'a;

impl ValueGen {
    /// The generator for `seed`.
    pub fn new(seed: u64) -> Self {
        ValueGen { rng: SplitMix64(seed), budget: 64 }
    }

    /// A value of type `ty`; resource handles come from `resource`. Fails for a type nested deeper than
    /// [`MAX_TYPE_DEPTH`], which no component has.
    pub fn value(&mut self, ty: &ValueType, resource: &mut ResourceSource<'_>) -> Result<Value> {
        self.value_at(ty, resource, 0)
    }

    fn value_at(&mut self, ty: &ValueType, resource: &mut ResourceSource<'_>, depth: usize) -> Result<Value> {
        if depth >= MAX_TYPE_DEPTH {
            return Err(Error::usage(format!("a value type nested deeper than {MAX_TYPE_DEPTH} levels")));
        }
        let depth = depth + 1;
        self.budget = self.budget.saturating_sub(1);
        let edge = self.rng.one_in(3);
        Ok(match ty {
            ValueType::Bool => Value::Bool(self.rng.next() & 1 == 1),
            ValueType::S8 => Value::S8(self.int(edge, &[0, 1, -1, i8::MIN as i64, i8::MAX as i64]) as i8),
            ValueType::U8 => Value::U8(self.int(edge, &[0, 1, u8::MAX as i64]) as u8),
            ValueType::S16 => Value::S16(self.int(edge, &[0, 1, -1, i16::MIN as i64, i16::MAX as i64]) as i16),
            ValueType::U16 => Value::U16(self.int(edge, &[0, 1, u16::MAX as i64]) as u16),
            ValueType::S32 => Value::S32(self.int(edge, &[0, 1, -1, i32::MIN as i64, i32::MAX as i64]) as i32),
            ValueType::U32 => Value::U32(self.int(edge, &[0, 1, u32::MAX as i64]) as u32),
            ValueType::S64 => Value::S64(self.int(edge, &[0, 1, -1, i64::MIN, i64::MAX])),
            ValueType::U64 => Value::U64(self.int(edge, &[0, 1, -1]) as u64),
            ValueType::F32 => {
                Value::F32(if edge { self.edge_float() as f32 } else { f32::from_bits(self.rng.next() as u32) })
            }
            ValueType::F64 => Value::F64(if edge { self.edge_float() } else { f64::from_bits(self.rng.next()) }),
            ValueType::Char => Value::Char(self.char(edge)),
            ValueType::String => Value::String(self.string(edge)),
            ValueType::List(elem) => {
                let n = self.len(edge);
                let items = (0..n).map(|_| self.value_at(elem, resource, depth)).collect::<Result<Vec<_>>>()?;
                Value::List(List::Values(items))
            }
            ValueType::Record(fields) => Value::Record(
                fields
                    .iter()
                    .map(|(n, t)| Ok((n.clone(), self.value_at(t, resource, depth)?)))
                    .collect::<Result<_>>()?,
            ),
            ValueType::Tuple(ts) => {
                Value::Tuple(ts.iter().map(|t| self.value_at(t, resource, depth)).collect::<Result<_>>()?)
            }
            ValueType::Variant(cases) => {
                let (name, payload) = &cases[self.rng.below(cases.len() as u64) as usize];
                let payload = payload.as_ref().map(|t| self.value_at(t, resource, depth)).transpose()?.map(Box::new);
                Value::Variant(name.clone(), payload)
            }
            ValueType::Enum(cases) => Value::Enum(cases[self.rng.below(cases.len() as u64) as usize].clone()),
            ValueType::Option(t) => match self.rng.one_in(3) || self.budget == 0 {
                true => Value::Option(None),
                false => Value::Option(Some(Box::new(self.value_at(t, resource, depth)?))),
            },
            ValueType::Result { ok, err } => {
                let (is_ok, payload) = if self.rng.one_in(3) { (false, err) } else { (true, ok) };
                let payload = payload.as_deref().map(|t| self.value_at(t, resource, depth)).transpose()?.map(Box::new);
                Value::Result(if is_ok { Ok(payload) } else { Err(payload) })
            }
            ValueType::Flags(labels) => {
                let pick = match (edge, self.rng.below(2)) {
                    (true, 0) => 0,
                    (true, _) => u64::MAX,
                    (false, _) => self.rng.next(),
                };
                Value::Flags(
                    labels
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| pick >> (i % 64) & 1 == 1)
                        .map(|(_, l)| l.clone())
                        .collect(),
                )
            }
            ValueType::Own(r) => resource(r, true)?,
            ValueType::Borrow(r) => resource(r, false)?,
            ValueType::Stream(_) | ValueType::Future(_) | ValueType::ErrorContext => {
                return Err(Error::unsupported(format!("host values of type `{ty}`")))
            }
        })
    }

    fn int(&mut self, edge: bool, edges: &[i64]) -> i64 {
        if edge {
            edges[self.rng.below(edges.len() as u64) as usize]
        } else if self.rng.one_in(2) {
            // Small numbers are the common case in real interfaces.
            self.rng.below(200) as i64 - 50
        } else {
            self.rng.next() as i64
        }
    }

    fn edge_float(&mut self) -> f64 {
        const EDGES: [f64; 9] = [0.0, -0.0, 1.5, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e-310, f64::MAX, -1.0];
        EDGES[self.rng.below(EDGES.len() as u64) as usize]
    }

    fn char(&mut self, edge: bool) -> char {
        if edge {
            return EDGE_CHARS[self.rng.below(EDGE_CHARS.len() as u64) as usize];
        }
        if self.rng.below(4) != 0 {
            return char::from(b' ' + self.rng.below(95) as u8);
        }
        loop {
            if let Some(c) = char::from_u32(self.rng.below(0x11_0000) as u32) {
                return c;
            }
        }
    }

    fn string(&mut self, edge: bool) -> String {
        let n = if edge && self.rng.one_in(2) { 0 } else { self.len(false) * 2 };
        (0..n)
            .map(|_| {
                let edge = self.rng.one_in(4);
                self.char(edge)
            })
            .collect()
    }

    fn len(&mut self, edge: bool) -> usize {
        if edge || self.budget < 4 {
            return 0;
        }
        let n = self.rng.below(6) as u32;
        let n = n.min(self.budget / 4);
        self.budget -= n;
        n as usize
    }
}

/// Replaces every resource in `v` by its label (as a [`Value::Enum`]), making the value engine-neutral. What is
/// nested deeper than [`MAX_TYPE_DEPTH`] (only a value built by the host can be) becomes `Value::Enum("…")`.
pub fn neutral(v: &Value, label: &mut dyn FnMut(&ResourceAny) -> String) -> Value {
    neutral_at(v, label, 0)
}

fn neutral_at(v: &Value, label: &mut dyn FnMut(&ResourceAny) -> String, depth: usize) -> Value {
    if depth >= MAX_TYPE_DEPTH {
        return Value::Enum("…".into());
    }
    let depth = depth + 1;
    let mut boxed = |p: &Option<Box<Value>>| p.as_deref().map(|x| Box::new(neutral_at(x, &mut *label, depth)));
    match v {
        Value::List(List::Values(items)) => {
            Value::List(List::Values(items.iter().map(|x| neutral_at(x, &mut *label, depth)).collect()))
        }
        Value::Record(fs) => {
            Value::Record(fs.iter().map(|(n, x)| (n.clone(), neutral_at(x, &mut *label, depth))).collect())
        }
        Value::Tuple(xs) => Value::Tuple(xs.iter().map(|x| neutral_at(x, &mut *label, depth)).collect()),
        Value::Variant(c, p) => Value::Variant(c.clone(), boxed(p)),
        Value::Option(p) => Value::Option(boxed(p)),
        Value::Result(Ok(p)) => Value::Result(Ok(boxed(p))),
        Value::Result(Err(p)) => Value::Result(Err(boxed(p))),
        Value::Resource(r) => Value::Enum(label(r).into()),
        other => other.clone(),
    }
}

/// The label of a resource handle in logs: `own<name>#rep` or `borrow<name>#rep`.
pub fn resource_label(own: bool, name: &str, rep: Option<u32>) -> String {
    let kind = if own { "own" } else { "borrow" };
    match rep {
        Some(rep) => format!("{kind}<{name}>#{rep}"),
        None => format!("{kind}<{name}>"),
    }
}

/// One call that reached the generic host: an import function, or the destructor of an imported resource
/// (named `[resource-drop]<name>`, with the representation as its argument).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ImportCall {
    /// The import's full name: `func`, or `interface#func` for functions of imported instances.
    pub name: String,
    /// The lifted arguments, engine-neutral (see [`neutral`]).
    pub args: Vec<Value>,
    /// The result the host returned (engine-neutral), or why it failed the call.
    pub result: std::result::Result<Option<Value>, String>,
}

#[derive(Default)]
struct GenericState {
    seed: u64,
    calls: HashMap<String, u64>,
    next_rep: u32,
    log: Vec<ImportCall>,
    /// Host resource type → its import name.
    names: HashMap<ResourceType, String>,
    /// The component's resource index → the host type that answers it.
    by_index: HashMap<u32, ResourceType>,
    component: u64,
}

/// The state of a generic host defined by [`Linker::define_generic_imports`]: its call log and its minted
/// handles. Clones share the state.
#[derive(Clone, Default)]
pub struct GenericImports {
    state: Arc<Mutex<GenericState>>,
}

impl std::fmt::Debug for GenericImports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("GenericImports").field("seed", &s.seed).field("calls", &s.log.len()).finish()
    }
}

impl GenericImports {
    fn lock(&self) -> MutexGuard<'_, GenericState> {
        // A poisoned lock only means another thread panicked while logging; the log is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The calls so far, leaving them in the log.
    pub fn calls(&self) -> Vec<ImportCall> {
        self.lock().log.clone()
    }

    /// The calls so far, emptying the log.
    pub fn take_calls(&self) -> Vec<ImportCall> {
        std::mem::take(&mut self.lock().log)
    }

    /// The host type that answers a resource type of the component (as shown by [`Component::imports`]), if the
    /// component imports it.
    pub fn host_type(&self, ty: &ResourceType) -> Option<ResourceType> {
        let s = self.lock();
        match ty.abstract_index() {
            Some((component, index)) if component == s.component => s.by_index.get(&index).cloned(),
            _ => s.names.contains_key(ty).then(|| ty.clone()),
        }
    }

    /// Mints a handle of a host resource type of this host (by the component's type or the host type), with the
    /// next representation, as the host does for results.
    pub fn mint<S: AsContextMut>(&self, store: S, ty: &ResourceType, own: bool) -> Result<ResourceAny> {
        let host = self.host_type(ty).ok_or_else(|| Error::usage(format!("`{ty}` is not a generic host resource")))?;
        let rep = self.next_rep();
        if own {
            ResourceAny::new_own(store, host, rep)
        } else {
            ResourceAny::new_borrow(store, host, rep)
        }
    }

    /// The label of a handle (see [`resource_label`]): host resources show their representation.
    pub fn label<S: AsContextMut>(&self, store: S, r: &ResourceAny) -> String {
        let name = self.lock().names.get(r.ty()).cloned();
        match name {
            Some(name) => resource_label(r.owned(), &name, r.rep(store).ok()),
            None => resource_label(r.owned(), "guest", None),
        }
    }

    fn next_rep(&self) -> u32 {
        let mut s = self.lock();
        s.next_rep += 1;
        s.next_rep
    }

    fn push(&self, call: ImportCall) {
        self.lock().log.push(call);
    }

    /// The seed for the `n`th call of `name`, counting it.
    fn call_seed(&self, name: &str) -> u64 {
        let mut s = self.lock();
        let seed = s.seed;
        let n = s.calls.entry(name.to_owned()).or_insert(0);
        *n += 1;
        mix_seed(seed, &[name_hash(name), *n])
    }
}

impl<T: 'static, E: WasmEngine> Linker<T, E> {
    /// Defines every import of `component` that this linker does not define yet with the generic host (see the
    /// [module docs](crate::generic)), seeded by `seed`. Returns the host's log and state.
    pub fn define_generic_imports(&mut self, component: &Component, seed: u64) -> Result<GenericImports> {
        let host = GenericImports::default();
        {
            let mut s = host.lock();
            s.seed = seed;
            s.component = component.id;
        }
        // Resource types first: function signatures refer to them.
        for decl in &component.plan.imports {
            define_resources(&host, self.root(), &decl.name, &decl.kind)?;
        }
        let by_index = host.lock().by_index.clone();
        let id = component.id;
        let plan = &component.plan;
        let res = move |i: u32| {
            by_index.get(&i).cloned().unwrap_or_else(|| ResourceType::abstract_(id, i, plan.resource_name(i)))
        };
        let types = TypeBuilder { table: &component.plan.types, resources: &res };
        for decl in &component.plan.imports {
            define_funcs(&host, &types, self.root(), None, &decl.name, &decl.kind)?;
        }
        Ok(host)
    }
}

/// Fresh numbers for generic host resource types (kept away from numbers hosts pick and from the stubs').
static GENERIC_RESOURCES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(3 << 30);

fn define_resources<T: 'static, E: WasmEngine>(
    host: &GenericImports,
    inst: &mut LinkerInstance<T, E>,
    name: &str,
    kind: &ImportKind,
) -> Result<()> {
    match kind {
        ImportKind::Resource(idx) => {
            let ty = match inst.get(name) {
                Some(Definition::Resource { ty, .. }) => ty.clone(),
                Some(_) => return Ok(()),
                None => {
                    let ty = ResourceType::host_dynamic(
                        GENERIC_RESOURCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                    );
                    let log = host.clone();
                    let drop_name = format!("[resource-drop]{name}");
                    inst.resource(name, ty.clone(), move |_, rep| {
                        log.push(ImportCall { name: drop_name.clone(), args: vec![Value::U32(rep)], result: Ok(None) });
                        Ok(())
                    })?;
                    ty
                }
            };
            let mut s = host.lock();
            s.names.insert(ty.clone(), name.to_owned());
            s.by_index.insert(*idx, ty);
        }
        ImportKind::Instance(items) => {
            if matches!(inst.get(name), None | Some(Definition::Instance(_))) {
                let child = inst.instance(name)?;
                for (n, k) in items {
                    define_resources(host, child, n, k)?;
                }
            }
        }
        // Aliases are answered by the type they alias, defined under its own name.
        ImportKind::ResourceAlias(_) | ImportKind::Func(_) | ImportKind::Module(_) | ImportKind::Type(_) => {}
    }
    Ok(())
}

fn define_funcs<T: 'static, E: WasmEngine>(
    host: &GenericImports,
    types: &TypeBuilder<'_>,
    inst: &mut LinkerInstance<T, E>,
    parent: Option<&str>,
    name: &str,
    kind: &ImportKind,
) -> Result<()> {
    match kind {
        ImportKind::Func(f) if inst.get(name).is_none() => {
            let full = match parent {
                Some(p) => format!("{p}#{name}"),
                None => name.to_owned(),
            };
            let ty = types.func(*f);
            let host = host.clone();
            inst.func_new(name, move |ctx, args, results| generic_call(&host, &full, &ty, ctx, args, results))?;
        }
        ImportKind::Instance(items) => {
            if matches!(inst.get(name), None | Some(Definition::Instance(_))) {
                let child = inst.instance(name)?;
                for (n, k) in items {
                    define_funcs(host, types, child, Some(name), n, k)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The body of every generic import function.
fn generic_call<T: 'static, E: WasmEngine>(
    host: &GenericImports,
    name: &str,
    ty: &FuncType,
    mut ctx: StoreContextMut<'_, T, E>,
    args: &[Value],
    results: &mut [Value],
) -> anyhow::Result<()> {
    let args: Vec<Value> = args.iter().map(|a| neutral(a, &mut |r| host.label(&mut ctx, r))).collect();
    let seed = host.call_seed(name);
    let result = match ty.result() {
        None => Ok(None),
        Some(rt) => {
            let mut minted = |r: &ResourceType, own: bool| -> Result<Value> {
                if !own {
                    return Err(Error::usage("the generic host cannot return a borrow"));
                }
                Ok(Value::Resource(host.mint(&mut ctx, r, true)?))
            };
            ValueGen::new(seed).value(rt, &mut minted).map(Some)
        }
    };
    match result {
        Ok(value) => {
            let logged = value.as_ref().map(|v| neutral(v, &mut |r| host.label(&mut ctx, r)));
            host.push(ImportCall { name: name.to_owned(), args, result: Ok(logged) });
            if let (Some(v), Some(slot)) = (value, results.first_mut()) {
                *slot = v;
            }
            Ok(())
        }
        Err(e) => {
            let msg = e.to_string();
            host.push(ImportCall { name: name.to_owned(), args, result: Err(msg.clone()) });
            Err(anyhow::anyhow!("{name}: {msg}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &ResourceType, _: bool) -> Result<Value> {
        Err(Error::usage("no resources"))
    }

    #[test]
    fn values_are_reproducible_and_well_typed() {
        let ty = ValueType::Record(
            [
                ("a".into(), ValueType::List(ValueType::Char.into())),
                ("b".into(), ValueType::Option(ValueType::F64.into())),
                ("c".into(), ValueType::Flags(["x".into(), "y".into()].into_iter().collect())),
            ]
            .into_iter()
            .collect(),
        );
        for seed in 0..200 {
            let a = ValueGen::new(seed).value(&ty, &mut none).unwrap();
            let b = ValueGen::new(seed).value(&ty, &mut none).unwrap();
            assert_eq!(a, b);
            let Value::Record(fs) = a else { panic!("not a record") };
            assert_eq!(fs.len(), 3);
        }
    }

    #[test]
    fn edges_appear() {
        let mut saw_max = false;
        let mut saw_empty = false;
        for seed in 0..300 {
            if let Value::U32(u32::MAX) = ValueGen::new(seed).value(&ValueType::U32, &mut none).unwrap() {
                saw_max = true;
            }
            if let Value::String(s) = ValueGen::new(seed).value(&ValueType::String, &mut none).unwrap() {
                saw_empty |= s.is_empty();
            }
        }
        assert!(saw_max && saw_empty);
    }

    #[test]
    fn budget_bounds_nested_lists() {
        let ty = ValueType::List(ValueType::List(ValueType::List(ValueType::U8.into()).into()).into());
        for seed in 0..100 {
            let v = ValueGen::new(seed).value(&ty, &mut none).unwrap();
            fn count(v: &Value) -> usize {
                match v {
                    Value::List(l) => 1 + l.iter().map(|x| count(&x)).sum::<usize>(),
                    _ => 1,
                }
            }
            assert!(count(&v) <= 80, "seed {seed}: {} values", count(&v));
        }
    }

    #[test]
    fn types_deeper_than_any_component_type_are_refused() {
        let mut ty = ValueType::U8;
        for _ in 1..MAX_TYPE_DEPTH {
            ty = ValueType::Tuple(Arc::from([ty]));
        }
        assert!(ValueGen::new(1).value(&ty, &mut none).is_ok());
        let deeper = ValueType::Tuple(Arc::from([ty]));
        assert!(ValueGen::new(1).value(&deeper, &mut none).is_err());
    }

    #[test]
    fn neutral_values_stop_below_the_deepest_type() {
        let mut v = Value::U8(1);
        for _ in 0..MAX_TYPE_DEPTH {
            v = Value::Tuple(vec![v]);
        }
        let mut n = neutral(&v, &mut |_| unreachable!("no resources"));
        for _ in 0..MAX_TYPE_DEPTH {
            n = match n {
                Value::Tuple(mut vs) => vs.pop().expect("one field"),
                other => panic!("expected a tuple, got {other:?}"),
            };
        }
        assert_eq!(n, Value::Enum("…".into()));
    }

    #[test]
    fn borrow_results_are_refused() {
        let r = ResourceType::host_dynamic(1);
        let mut src = |_: &ResourceType, own: bool| -> Result<Value> {
            if own {
                Ok(Value::U32(0))
            } else {
                Err(Error::usage("borrow"))
            }
        };
        assert!(ValueGen::new(0).value(&ValueType::Borrow(r.clone()), &mut src).is_err());
        assert!(ValueGen::new(0).value(&ValueType::Own(r), &mut src).is_ok());
    }
}
