//! Reflection: the types of component functions and values.
//!
//! These are built on demand from a plan's interned types. Equality is structural (names of records, variants,
//! enums and flags included, as the component model's type equality requires), except for resources, which
//! compare by identity: two instantiations of the same component define different resource types.

use std::fmt;
use std::sync::Arc;

use crate::abi::types::{Ty, TypeDef, TypeTable};

pub use crate::resources::ResourceType;

/// The type of a component value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ValueType {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    List(Arc<ValueType>),
    Record(Arc<[(Arc<str>, ValueType)]>),
    Tuple(Arc<[ValueType]>),
    Variant(Arc<[(Arc<str>, Option<ValueType>)]>),
    Enum(Arc<[Arc<str>]>),
    Option(Arc<ValueType>),
    Result { ok: Option<Arc<ValueType>>, err: Option<Arc<ValueType>> },
    Flags(Arc<[Arc<str>]>),
    Own(ResourceType),
    Borrow(ResourceType),
}

/// The type of a component function.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Arc<[(Arc<str>, ValueType)]>,
    result: Option<ValueType>,
}

impl FuncType {
    /// A function type from named parameters and an optional result.
    pub fn new(params: impl IntoIterator<Item = (impl Into<Arc<str>>, ValueType)>, result: Option<ValueType>) -> Self {
        FuncType { params: params.into_iter().map(|(n, t)| (n.into(), t)).collect(), result }
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
        let list = |f: &mut fmt::Formatter<'_>, items: &mut dyn Iterator<Item = String>| -> fmt::Result {
            let v: Vec<String> = items.collect();
            f.write_str(&v.join(", "))
        };
        match self {
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
            ValueType::List(t) => write!(f, "list<{t}>"),
            ValueType::Record(fs) => {
                f.write_str("record { ")?;
                list(f, &mut fs.iter().map(|(n, t)| format!("{n}: {t}")))?;
                f.write_str(" }")
            }
            ValueType::Tuple(ts) => {
                f.write_str("tuple<")?;
                list(f, &mut ts.iter().map(|t| t.to_string()))?;
                f.write_str(">")
            }
            ValueType::Variant(cs) => {
                f.write_str("variant { ")?;
                list(
                    f,
                    &mut cs.iter().map(|(n, t)| match t {
                        Some(t) => format!("{n}({t})"),
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
            ValueType::Option(t) => write!(f, "option<{t}>"),
            ValueType::Result { ok, err } => match (ok, err) {
                (None, None) => f.write_str("result"),
                (Some(o), None) => write!(f, "result<{o}>"),
                (None, Some(e)) => write!(f, "result<_, {e}>"),
                (Some(o), Some(e)) => write!(f, "result<{o}, {e}>"),
            },
            ValueType::Flags(ls) => {
                f.write_str("flags { ")?;
                list(f, &mut ls.iter().map(|c| c.to_string()))?;
                f.write_str(" }")
            }
            ValueType::Own(r) => write!(f, "own<{r}>"),
            ValueType::Borrow(r) => write!(f, "borrow<{r}>"),
        }
    }
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
            },
        }
    }

    pub fn func(&self, idx: u32) -> FuncType {
        let def = &self.table.func(idx).def;
        FuncType {
            params: def.params.iter().map(|(n, t)| (n.clone(), self.value(*t))).collect(),
            result: def.result.map(|t| self.value(t)),
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
    /// A type that is not a resource (nothing needs to be provided for its import).
    Type,
}
