//! Reflection: the types of component functions and values.
//!
//! These are built on demand from a plan's interned types. Equality is structural (names of records, variants,
//! enums and flags included, as the component model's type equality requires), except for resources, which
//! compare by identity: two instantiations of the same component define different resource types.
//!
//! A component's value types nest at most [`MAX_TYPE_DEPTH`] levels: deeper ones are refused when the component
//! is loaded. A [`ValueType`] built by the host can be deeper; `Display` and `Debug` show what lies beyond that
//! depth as `…`, so formatting any type is bounded.

use std::fmt;
use std::sync::Arc;

use crate::abi::types::{Ty, TypeDef, TypeTable};

pub use crate::resources::ResourceType;

/// How deep component value types nest at most, counting a primitive as one level: wasmparser's
/// `MAX_WASM_COMPONENT_TYPE_DEPTH`, whose "type nesting is too deep" refuses a deeper type when a component is
/// validated, by this crate as by wasmtime.
pub const MAX_TYPE_DEPTH: usize = 100;

/// The type of a component value.
///
/// `Display` writes it in WIT syntax (`list<option<string>>`, `own<output-stream>`). A `ValueType` is a
/// `wasm_wave::wasm::WasmType`, to read WAVE text as (see [`Value`](crate::Value)).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `bool`.
    Bool,
    /// `s8`.
    S8,
    /// `u8`.
    U8,
    /// `s16`.
    S16,
    /// `u16`.
    U16,
    /// `s32`.
    S32,
    /// `u32`.
    U32,
    /// `s64`.
    S64,
    /// `u64`.
    U64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`.
    Char,
    /// `string`.
    String,
    /// `list<T>`.
    List(Arc<ValueType>),
    /// `record { … }`: the fields in declaration order.
    Record(Arc<[(Arc<str>, ValueType)]>),
    /// `tuple<…>`.
    Tuple(Arc<[ValueType]>),
    /// `variant { … }`: the cases in order, with their payload types.
    Variant(Arc<[(Arc<str>, Option<ValueType>)]>),
    /// `enum { … }`: the cases in order.
    Enum(Arc<[Arc<str>]>),
    /// `option<T>`.
    Option(Arc<ValueType>),
    /// `result<T, E>`, either side possibly absent.
    Result {
        /// The `ok` payload type.
        ok: Option<Arc<ValueType>>,
        /// The `err` payload type.
        err: Option<Arc<ValueType>>,
    },
    /// `flags { … }`: the labels in bit order.
    Flags(Arc<[Arc<str>]>),
    /// `own<R>`.
    Own(ResourceType),
    /// `stream<T>` (`stream` without an element type when `None`).
    Stream(Option<Arc<ValueType>>),
    /// `future<T>` (`future` without a payload type when `None`).
    Future(Option<Arc<ValueType>>),
    /// `error-context`.
    ErrorContext,
    /// `borrow<R>`.
    Borrow(ResourceType),
}

/// The type of a component function.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Arc<[(Arc<str>, ValueType)]>,
    result: Option<ValueType>,
    is_async: bool,
}

impl FuncType {
    /// A (synchronous) function type from named parameters and an optional result.
    pub fn new(params: impl IntoIterator<Item = (impl Into<Arc<str>>, ValueType)>, result: Option<ValueType>) -> Self {
        FuncType { params: params.into_iter().map(|(n, t)| (n.into(), t)).collect(), result, is_async: false }
    }

    /// This type as an `async func` (`true`) or a plain `func`.
    pub fn with_async(mut self, is_async: bool) -> Self {
        self.is_async = is_async;
        self
    }

    /// Whether this is an `async func` type. Its callers may call it with the async ABI; a host can implement it
    /// with a synchronous or an async host function alike.
    pub fn is_async(&self) -> bool {
        self.is_async
    }

    /// The parameters, with their names.
    pub fn params(&self) -> &[(Arc<str>, ValueType)] {
        &self.params
    }

    /// The result type.
    pub fn result(&self) -> Option<&ValueType> {
        self.result.as_ref()
    }

    /// Whether two function types have the same parameter and result types, ignoring parameter names (host
    /// functions have no parameter names to compare).
    pub fn same_signature(&self, other: &FuncType) -> bool {
        self.params.len() == other.params.len()
            && self.params.iter().zip(other.params.iter()).all(|((_, a), (_, b))| a == b)
            && self.result == other.result
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_async {
            f.write_str("async ")?;
        }
        f.write_str("func(")?;
        for (i, (n, t)) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}: {t}")?;
        }
        f.write_str(")")?;
        if let Some(r) = &self.result {
            write!(f, " -> {r}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show(self, 0, f)
    }
}

/// Writes a type in WIT syntax, `depth` levels down.
fn show(ty: &ValueType, depth: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if depth >= MAX_TYPE_DEPTH {
        return f.write_str("…");
    }
    let inner = |t| shown(t, depth + 1);
    let list = |f: &mut fmt::Formatter<'_>, items: &mut dyn Iterator<Item = String>| -> fmt::Result {
        let v: Vec<String> = items.collect();
        f.write_str(&v.join(", "))
    };
    match ty {
        ValueType::Bool => f.write_str("bool"),
        ValueType::S8 => f.write_str("s8"),
        ValueType::U8 => f.write_str("u8"),
        ValueType::S16 => f.write_str("s16"),
        ValueType::U16 => f.write_str("u16"),
        ValueType::S32 => f.write_str("s32"),
        ValueType::U32 => f.write_str("u32"),
        ValueType::S64 => f.write_str("s64"),
        ValueType::U64 => f.write_str("u64"),
        ValueType::F32 => f.write_str("f32"),
        ValueType::F64 => f.write_str("f64"),
        ValueType::Char => f.write_str("char"),
        ValueType::String => f.write_str("string"),
        ValueType::List(t) => write!(f, "list<{}>", inner(t)),
        ValueType::Record(fs) => {
            f.write_str("record { ")?;
            list(f, &mut fs.iter().map(|(n, t)| format!("{n}: {}", inner(t))))?;
            f.write_str(" }")
        }
        ValueType::Tuple(ts) => {
            f.write_str("tuple<")?;
            list(f, &mut ts.iter().map(|t| inner(t).to_string()))?;
            f.write_str(">")
        }
        ValueType::Variant(cs) => {
            f.write_str("variant { ")?;
            list(
                f,
                &mut cs.iter().map(|(n, t)| match t {
                    Some(t) => format!("{n}({})", inner(t)),
                    None => n.to_string(),
                }),
            )?;
            f.write_str(" }")
        }
        ValueType::Enum(cs) => {
            f.write_str("enum { ")?;
            list(f, &mut cs.iter().map(|c| c.to_string()))?;
            f.write_str(" }")
        }
        ValueType::Option(t) => write!(f, "option<{}>", inner(t)),
        ValueType::Result { ok, err } => match (ok, err) {
            (None, None) => f.write_str("result"),
            (Some(o), None) => write!(f, "result<{}>", inner(o)),
            (None, Some(e)) => write!(f, "result<_, {}>", inner(e)),
            (Some(o), Some(e)) => write!(f, "result<{}, {}>", inner(o), inner(e)),
        },
        ValueType::Flags(ls) => {
            f.write_str("flags { ")?;
            list(f, &mut ls.iter().map(|c| c.to_string()))?;
            f.write_str(" }")
        }
        ValueType::Own(r) => write!(f, "own<{r}>"),
        ValueType::Borrow(r) => write!(f, "borrow<{r}>"),
        ValueType::Stream(Some(t)) => write!(f, "stream<{}>", inner(t)),
        ValueType::Stream(None) => f.write_str("stream"),
        ValueType::Future(Some(t)) => write!(f, "future<{}>", inner(t)),
        ValueType::Future(None) => f.write_str("future"),
        ValueType::ErrorContext => f.write_str("error-context"),
    }
}

/// `ty`, `depth` levels down, for `Display`.
fn shown(ty: &ValueType, depth: usize) -> impl fmt::Display + '_ {
    fmt::from_fn(move |f| show(ty, depth, f))
}

/// `Debug` as derived, except that types nested deeper than [`MAX_TYPE_DEPTH`] are shown as `…`.
impl fmt::Debug for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug(self, 0, f)
    }
}

fn debug(ty: &ValueType, depth: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if depth >= MAX_TYPE_DEPTH {
        return f.write_str("…");
    }
    let inner = |t| debugged(t, depth + 1);
    match ty {
        ValueType::List(t) => f.debug_tuple("List").field(&inner(t)).finish(),
        ValueType::Record(fs) => {
            let fields = fmt::from_fn(|f| f.debug_list().entries(fs.iter().map(|(n, t)| (n, inner(t)))).finish());
            f.debug_tuple("Record").field(&fields).finish()
        }
        ValueType::Tuple(ts) => {
            let items = fmt::from_fn(|f| f.debug_list().entries(ts.iter().map(inner)).finish());
            f.debug_tuple("Tuple").field(&items).finish()
        }
        ValueType::Variant(cs) => {
            let cases =
                fmt::from_fn(|f| f.debug_list().entries(cs.iter().map(|(n, t)| (n, t.as_ref().map(inner)))).finish());
            f.debug_tuple("Variant").field(&cases).finish()
        }
        ValueType::Enum(cs) => f.debug_tuple("Enum").field(cs).finish(),
        ValueType::Option(t) => f.debug_tuple("Option").field(&inner(t)).finish(),
        ValueType::Result { ok, err } => f
            .debug_struct("Result")
            .field("ok", &ok.as_deref().map(inner))
            .field("err", &err.as_deref().map(inner))
            .finish(),
        ValueType::Flags(ls) => f.debug_tuple("Flags").field(ls).finish(),
        ValueType::Own(r) => f.debug_tuple("Own").field(r).finish(),
        ValueType::Borrow(r) => f.debug_tuple("Borrow").field(r).finish(),
        ValueType::Stream(t) => f.debug_tuple("Stream").field(&t.as_deref().map(inner)).finish(),
        ValueType::Future(t) => f.debug_tuple("Future").field(&t.as_deref().map(inner)).finish(),
        ValueType::ErrorContext => f.write_str("ErrorContext"),
        ValueType::Bool => f.write_str("Bool"),
        ValueType::S8 => f.write_str("S8"),
        ValueType::U8 => f.write_str("U8"),
        ValueType::S16 => f.write_str("S16"),
        ValueType::U16 => f.write_str("U16"),
        ValueType::S32 => f.write_str("S32"),
        ValueType::U32 => f.write_str("U32"),
        ValueType::S64 => f.write_str("S64"),
        ValueType::U64 => f.write_str("U64"),
        ValueType::F32 => f.write_str("F32"),
        ValueType::F64 => f.write_str("F64"),
        ValueType::Char => f.write_str("Char"),
        ValueType::String => f.write_str("String"),
    }
}

/// `ty`, `depth` levels down, for `Debug`.
fn debugged(ty: &ValueType, depth: usize) -> impl fmt::Debug + '_ {
    fmt::from_fn(move |f| debug(ty, depth, f))
}

/// Builds public types from a plan's interned types, resolving resource indices with `resources`.
pub(crate) struct TypeBuilder<'a> {
    pub table: &'a TypeTable,
    pub resources: &'a dyn Fn(u32) -> ResourceType,
}

impl TypeBuilder<'_> {
    pub fn value(&self, ty: Ty) -> ValueType {
        match ty {
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
            Ty::Own(r) => ValueType::Own((self.resources)(r)),
            Ty::Borrow(r) => ValueType::Borrow((self.resources)(r)),
            Ty::Defined(i) => match self.table.def(i) {
                TypeDef::List(t) => ValueType::List(Arc::new(self.value(*t))),
                TypeDef::Record(fs) => ValueType::Record(fs.iter().map(|(n, t)| (n.clone(), self.value(*t))).collect()),
                TypeDef::Tuple(ts) => ValueType::Tuple(ts.iter().map(|t| self.value(*t)).collect()),
                TypeDef::Variant(cs) => {
                    ValueType::Variant(cs.iter().map(|(n, t)| (n.clone(), t.map(|t| self.value(t)))).collect())
                }
                TypeDef::Enum(cs) => ValueType::Enum(cs.iter().cloned().collect()),
                TypeDef::Option(t) => ValueType::Option(Arc::new(self.value(*t))),
                TypeDef::Result { ok, err } => ValueType::Result {
                    ok: ok.map(|t| Arc::new(self.value(t))),
                    err: err.map(|t| Arc::new(self.value(t))),
                },
                TypeDef::Flags(ls) => ValueType::Flags(ls.iter().cloned().collect()),
                TypeDef::Stream(t) => ValueType::Stream(t.map(|t| Arc::new(self.value(t)))),
                TypeDef::Future(t) => ValueType::Future(t.map(|t| Arc::new(self.value(t)))),
                TypeDef::ErrorContext => ValueType::ErrorContext,
            },
        }
    }

    pub fn func(&self, idx: u32) -> FuncType {
        let def = &self.table.func(idx).def;
        FuncType {
            params: def.params.iter().map(|(n, t)| (n.clone(), self.value(*t))).collect(),
            result: def.result.map(|t| self.value(t)),
            is_async: def.async_,
        }
    }
}

/// The type of an item a component imports or exports, for reflection on a [`crate::Component`].
///
/// Resource types are shown abstractly: each resource of the component (imported or defined) has one
/// [`ResourceType`] that stays the same across the component's imports, exports and function types, so equal
/// types can be matched up (for example a constructor's result with a method's `self` parameter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemType {
    /// A function.
    Func(FuncType),
    /// An instance, with its items by name in order.
    Instance(Vec<(String, ItemType)>),
    /// A resource type. An imported resource declared equal to another (`(eq $r)`) shows the same type.
    Resource(ResourceType),
    /// A core module.
    Module,
    /// A component.
    Component,
    /// A type that is not a resource (nothing needs to be provided for its import), with its definition when it
    /// is a value type (a record, variant, list, …; `None` for function, instance and component types).
    Type(Option<ValueType>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ValueType {
        let opt = ValueType::Option(Arc::new(ValueType::List(Arc::new(ValueType::U8))));
        ValueType::Record(Arc::from([
            (Arc::from("a"), opt),
            (Arc::from("b"), ValueType::Result { ok: Some(Arc::new(ValueType::String)), err: None }),
            (
                Arc::from("c"),
                ValueType::Variant(Arc::from([(Arc::from("x"), None), (Arc::from("y"), Some(ValueType::S64))])),
            ),
            (Arc::from("d"), ValueType::Tuple(Arc::from([ValueType::Char, ValueType::Bool]))),
        ]))
    }

    #[test]
    fn display_is_wit() {
        assert_eq!(
            sample().to_string(),
            "record { a: option<list<u8>>, b: result<string>, c: variant { x, y(s64) }, d: tuple<char, bool> }"
        );
    }

    #[test]
    fn debug_reads_as_derived() {
        let expected = concat!(
            r#"Record([("a", Option(List(U8))), ("b", Result { ok: Some(String), err: None }), "#,
            r#"("c", Variant([("x", None), ("y", Some(S64))])), ("d", Tuple([Char, Bool]))])"#
        );
        assert_eq!(format!("{:?}", sample()), expected);
    }

    #[test]
    fn formatting_stops_at_the_deepest_type() {
        let mut t = ValueType::U8;
        for _ in 0..MAX_TYPE_DEPTH {
            t = ValueType::List(Arc::new(t));
        }
        let (shown, debug) = (t.to_string(), format!("{t:?}"));
        assert_eq!(shown.matches("list<").count(), MAX_TYPE_DEPTH);
        assert!(shown.contains("<…>") && !shown.contains("u8"), "{shown}");
        assert_eq!(debug.matches("List(").count(), MAX_TYPE_DEPTH);
        assert!(debug.contains("(…)") && !debug.contains("U8"), "{debug}");
    }
}
