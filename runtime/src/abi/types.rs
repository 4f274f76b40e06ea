//! The interned interface types a component plan refers to, each with its canonical-ABI layout.
//!
//! Types are converted from wasmparser's component types once, when a component is loaded, and interned
//! structurally: two `(list u8)` definitions anywhere in a component (or its nested components) become the same
//! [`Ty`]. Alias identities, which wasmparser keeps, never reach the runtime. Resources are the one nominal part:
//! `own`/`borrow` refer to a [`ResourceIdx`], the plan's numbering of the resource types the component defines or
//! imports; each instance maps those to runtime [`crate::ResourceType`]s.
//!
//! Every entry carries its [`Layout`] (size, alignment, flattening) and the offsets a lift or lower needs, and
//! every function type its [`FuncAbi`], so that a call never computes a layout.

use std::collections::HashMap;
use std::sync::Arc;

use super::layout::{self, FlatType, Layout, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::error::{Error, Result};

/// Index of a defined (compound) type in a [`TypeTable`].
pub type TypeIdx = u32;
/// Index of a resource type in a component plan.
pub type ResourceIdx = u32;
/// Index of a function type in a [`TypeTable`].
pub type FuncIdx = u32;

/// An interface value type: a primitive, or an index into the table.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Ty {
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
    Defined(TypeIdx),
    Own(ResourceIdx),
    Borrow(ResourceIdx),
}

/// A compound type definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum TypeDef {
    List(Ty),
    Record(Box<[(Arc<str>, Ty)]>),
    Tuple(Box<[Ty]>),
    Variant(Box<[(Arc<str>, Option<Ty>)]>),
    Enum(Box<[Arc<str>]>),
    Option(Ty),
    Result {
        ok: Option<Ty>,
        err: Option<Ty>,
    },
    Flags(Box<[Arc<str>]>),
    /// `stream<T>`: a handle to the readable end of a stream.
    Stream(Option<Ty>),
    /// `future<T>`: a handle to the readable end of a future.
    Future(Option<Ty>),
    /// `error-context`: a handle (a primitive type in WIT, interned here with the other handle types).
    ErrorContext,
}

/// A defined type with its precomputed layout.
#[derive(Debug)]
pub struct TypeEntry {
    /// The definition.
    pub def: TypeDef,
    /// Size, alignment and flattening.
    pub layout: Layout,
    /// Field offsets for records and tuples; for variants, enums, options and results a single entry: the
    /// payload offset (after the discriminant).
    pub offsets: Box<[u32]>,
    /// Whether values of this type contain a `borrow` anywhere.
    pub contains_borrow: bool,
}

/// A function type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncTypeDef {
    /// Parameter names and types.
    pub params: Box<[(Arc<str>, Ty)]>,
    /// The result type, if any.
    pub result: Option<Ty>,
    /// `async func`.
    pub async_: bool,
}

/// How a function's parameters and result cross the canonical ABI (`flatten_functype`), precomputed.
#[derive(Debug)]
pub struct FuncAbi {
    /// The flat core parameter types, or `None` when the parameters are spilled to memory as a tuple
    /// (more than 16 flat values); then the core function takes one `i32` pointer.
    pub params_flat: Option<Vec<FlatType>>,
    /// Layout of the parameter tuple in memory (used when spilled) and each parameter's offset.
    pub params_tuple: Layout,
    /// Offsets of the parameters within the tuple.
    pub params_offsets: Box<[u32]>,
    /// The flat result types when the result fits in [`MAX_FLAT_RESULTS`] core values; `None` when the result
    /// goes through memory (a returned pointer when lifting, a return-pointer argument when lowering).
    pub result_flat: Option<Vec<FlatType>>,
    /// Layout of the result in memory (used when it does not fit flat).
    pub result_layout: Option<Layout>,
    /// Whether any parameter contains a borrow.
    pub params_contain_borrow: bool,
    /// The core parameter types of a `canon lift` (precomputed: a call must not allocate).
    pub lift_params: Box<[FlatType]>,
    /// The core result types of a `canon lift`.
    pub lift_results: Box<[FlatType]>,
}

impl FuncAbi {
    /// The core signature of a `canon lift` of this function: (params, results).
    pub fn lift_core_type(&self) -> (Vec<FlatType>, Vec<FlatType>) {
        let params = self.params_flat.clone().unwrap_or_else(|| vec![FlatType::I32]);
        let results = self.result_flat.clone().unwrap_or_else(|| vec![FlatType::I32]);
        (params, results)
    }

    /// The core signature of an async `canon lower` (`flatten_functype` with `async`): at most
    /// `MAX_FLAT_ASYNC_PARAMS` flat parameters (else one pointer), an out-pointer if there is a result, and the
    /// `i32` status.
    pub fn async_lower_core_type(&self, has_result: bool) -> (Vec<FlatType>, Vec<FlatType>) {
        let mut params = match &self.params_flat {
            Some(p) if p.len() <= crate::concurrent::subtask::MAX_FLAT_ASYNC_PARAMS => p.clone(),
            _ => vec![FlatType::I32],
        };
        if has_result {
            params.push(FlatType::I32);
        }
        (params, vec![FlatType::I32])
    }

    /// The core signature of a `canon lower` of this function: (params, results).
    pub fn lower_core_type(&self) -> (Vec<FlatType>, Vec<FlatType>) {
        let mut params = self.params_flat.clone().unwrap_or_else(|| vec![FlatType::I32]);
        let results = match &self.result_flat {
            Some(r) => r.clone(),
            None => {
                params.push(FlatType::I32);
                Vec::new()
            }
        };
        (params, results)
    }
}

/// A function type with its ABI.
#[derive(Debug)]
pub struct FuncEntry {
    /// The definition.
    pub def: FuncTypeDef,
    /// The parameter types alone.
    pub param_tys: Box<[Ty]>,
    /// The parameters as one tuple type (interned with the function), so that the typed API lowers and lifts a
    /// Rust tuple of arguments as a tuple value: the flattening and the spilled layout are the same.
    pub params_ty: Ty,
    /// The precomputed flattening.
    pub abi: FuncAbi,
}

/// The interned types of one component plan.
#[derive(Debug, Default)]
pub struct TypeTable {
    types: Vec<TypeEntry>,
    type_map: HashMap<TypeDef, TypeIdx>,
    funcs: Vec<FuncEntry>,
    func_map: HashMap<FuncTypeDef, FuncIdx>,
}

static BOOL_LAYOUT: std::sync::LazyLock<[Layout; 6]> = std::sync::LazyLock::new(|| {
    [
        Layout::scalar(1, FlatType::I32),
        Layout::scalar(2, FlatType::I32),
        Layout::scalar(4, FlatType::I32),
        Layout::scalar(8, FlatType::I64),
        Layout::scalar(4, FlatType::F32),
        Layout::scalar(8, FlatType::F64),
    ]
});
static STRING_LAYOUT: std::sync::LazyLock<Layout> = std::sync::LazyLock::new(|| Layout {
    size: 8,
    align: 4,
    flat: Some(smallvec::SmallVec::from_slice(&[FlatType::I32, FlatType::I32])),
});

impl TypeTable {
    /// The entry of a defined type.
    pub fn entry(&self, idx: TypeIdx) -> &TypeEntry {
        &self.types[idx as usize]
    }

    /// The definition of a defined type.
    pub fn def(&self, idx: TypeIdx) -> &TypeDef {
        &self.types[idx as usize].def
    }

    /// The function type entry.
    pub fn func(&self, idx: FuncIdx) -> &FuncEntry {
        &self.funcs[idx as usize]
    }

    /// The layout of any type.
    pub fn layout(&self, ty: Ty) -> &Layout {
        let scalars = &*BOOL_LAYOUT;
        match ty {
            Ty::Bool | Ty::S8 | Ty::U8 => &scalars[0],
            Ty::S16 | Ty::U16 => &scalars[1],
            Ty::S32 | Ty::U32 | Ty::Char | Ty::Own(_) | Ty::Borrow(_) => &scalars[2],
            Ty::S64 | Ty::U64 => &scalars[3],
            Ty::F32 => &scalars[4],
            Ty::F64 => &scalars[5],
            Ty::String => &STRING_LAYOUT,
            Ty::Defined(i) => &self.types[i as usize].layout,
        }
    }

    /// Whether values of this type contain a borrow.
    pub fn contains_borrow(&self, ty: Ty) -> bool {
        match ty {
            Ty::Borrow(_) => true,
            Ty::Defined(i) => self.types[i as usize].contains_borrow,
            _ => false,
        }
    }

    /// Interns a defined type, computing its layout. Fails if its size does not fit in 32 bits.
    pub fn intern(&mut self, def: TypeDef) -> Result<Ty> {
        if let Some(&i) = self.type_map.get(&def) {
            return Ok(Ty::Defined(i));
        }
        let too_big = || Error::unsupported("a value type whose size exceeds 4 GiB");
        let (layout, offsets, contains_borrow) = match &def {
            TypeDef::List(elem) => (STRING_LAYOUT.clone(), Box::default(), self.contains_borrow(*elem)),
            TypeDef::Record(fields) => {
                let (lay, offs) = layout::record(fields.iter().map(|(_, t)| self.layout(*t))).ok_or_else(too_big)?;
                (lay, offs.into(), fields.iter().any(|(_, t)| self.contains_borrow(*t)))
            }
            TypeDef::Tuple(types) => {
                let (lay, offs) = layout::record(types.iter().map(|t| self.layout(*t))).ok_or_else(too_big)?;
                (lay, offs.into(), types.iter().any(|t| self.contains_borrow(*t)))
            }
            TypeDef::Variant(cases) => {
                let (lay, off) =
                    layout::variant(cases.iter().map(|(_, t)| t.map(|t| self.layout(t)))).ok_or_else(too_big)?;
                let cb = cases.iter().any(|(_, t)| t.is_some_and(|t| self.contains_borrow(t)));
                (lay, Box::from([off]), cb)
            }
            TypeDef::Enum(cases) => {
                let (lay, off) = layout::variant(cases.iter().map(|_| None)).ok_or_else(too_big)?;
                (lay, Box::from([off]), false)
            }
            TypeDef::Option(t) => {
                let (lay, off) = layout::variant([None, Some(self.layout(*t))]).ok_or_else(too_big)?;
                (lay, Box::from([off]), self.contains_borrow(*t))
            }
            TypeDef::Result { ok, err } => {
                let (lay, off) =
                    layout::variant([ok.map(|t| self.layout(t)), err.map(|t| self.layout(t))]).ok_or_else(too_big)?;
                let cb = ok.is_some_and(|t| self.contains_borrow(t)) || err.is_some_and(|t| self.contains_borrow(t));
                (lay, Box::from([off]), cb)
            }
            TypeDef::Flags(labels) => {
                let size = layout::flags_size(labels.len());
                (Layout { size, align: size, flat: Some(smallvec::smallvec![FlatType::I32]) }, Box::default(), false)
            }
            // Handles: an `i32` index into the instance's table.
            TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext => {
                (BOOL_LAYOUT[2].clone(), Box::default(), false)
            }
        };
        let idx = TypeIdx::try_from(self.types.len()).map_err(|_| too_big())?;
        self.types.push(TypeEntry { def: def.clone(), layout, offsets, contains_borrow });
        self.type_map.insert(def, idx);
        Ok(Ty::Defined(idx))
    }

    /// Interns a function type, computing its ABI.
    pub fn intern_func(&mut self, def: FuncTypeDef) -> Result<FuncIdx> {
        if let Some(&i) = self.func_map.get(&def) {
            return Ok(i);
        }
        let too_big = || Error::unsupported("a parameter list whose size exceeds 4 GiB");
        let (params_tuple, offsets) =
            layout::record(def.params.iter().map(|(_, t)| self.layout(*t))).ok_or_else(too_big)?;
        let params_flat = params_tuple.flat.as_ref().map(|f| f.to_vec());
        let (result_flat, result_layout) = match def.result {
            None => (Some(Vec::new()), None),
            Some(t) => {
                let lay = self.layout(t).clone();
                match &lay.flat {
                    Some(f) if f.len() <= MAX_FLAT_RESULTS => (Some(f.to_vec()), Some(lay)),
                    _ => (None, Some(lay)),
                }
            }
        };
        debug_assert!(params_flat.as_ref().is_none_or(|f| f.len() <= MAX_FLAT_PARAMS));
        let mut abi = FuncAbi {
            params_flat,
            params_tuple,
            params_offsets: offsets.into(),
            result_flat,
            result_layout,
            params_contain_borrow: def.params.iter().any(|(_, t)| self.contains_borrow(*t)),
            lift_params: Box::default(),
            lift_results: Box::default(),
        };
        let (lp, lr) = abi.lift_core_type();
        abi.lift_params = lp.into();
        abi.lift_results = lr.into();
        let param_tys: Box<[Ty]> = def.params.iter().map(|(_, t)| *t).collect();
        let params_ty = self.intern(TypeDef::Tuple(param_tys.clone()))?;
        let idx = FuncIdx::try_from(self.funcs.len()).map_err(|_| too_big())?;
        self.funcs.push(FuncEntry { def: def.clone(), param_tys, params_ty, abi });
        self.func_map.insert(def, idx);
        Ok(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_structural() {
        let mut t = TypeTable::default();
        let a = t.intern(TypeDef::List(Ty::U8)).unwrap();
        let b = t.intern(TypeDef::List(Ty::U8)).unwrap();
        let c = t.intern(TypeDef::List(Ty::U16)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn function_abi_spills_params_and_results() {
        let mut t = TypeTable::default();
        let params: Box<[_]> = (0..17).map(|i| (Arc::from(format!("p{i}")), Ty::U32)).collect();
        let f = t.intern_func(FuncTypeDef { params, result: Some(Ty::String), async_: false }).unwrap();
        let abi = &t.func(f).abi;
        assert!(abi.params_flat.is_none());
        assert_eq!(abi.params_tuple.size, 68);
        assert!(abi.result_flat.is_none());
        assert_eq!(abi.lift_core_type(), (vec![FlatType::I32], vec![FlatType::I32]));
        assert_eq!(abi.lower_core_type(), (vec![FlatType::I32, FlatType::I32], vec![]));
    }

    #[test]
    fn record_offsets_are_precomputed() {
        let mut t = TypeTable::default();
        let l16 = t.intern(TypeDef::List(Ty::U16)).unwrap();
        let r = t
            .intern(TypeDef::Record(Box::new([
                ("a".into(), Ty::U8),
                ("b".into(), Ty::U64),
                ("c".into(), Ty::String),
                ("d".into(), l16),
            ])))
            .unwrap();
        let Ty::Defined(i) = r else { unreachable!() };
        let e = t.entry(i);
        assert_eq!(&*e.offsets, &[0, 8, 16, 24]);
        assert_eq!((e.layout.size, e.layout.align), (32, 8));
        assert_eq!(e.layout.flat.as_ref().unwrap().len(), 6);
    }
}
