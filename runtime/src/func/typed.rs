//! Typed calls: Rust values lowered and lifted directly, without going through [`Value`](crate::Value). The
//! model and the table of Rust types are documented on [`TypedFunc`], which rustdoc shows (this module is
//! private).

mod async_values;
mod builtins;
mod host_resource;
pub(crate) mod internal;
mod resources;
mod views;

use std::marker::PhantomData;

use wasm_runtime_layer::backend::WasmEngine;

use super::call::{self, LiftOne, LowerArgs};
use super::Func;
use crate::abi::lift::FlatSrc;
use crate::abi::lower::FlatBuf;
use crate::abi::types::{FuncEntry, Ty};
use crate::abi::Cx;
use crate::concurrent::task::{Resolver, Returned, TypedLift, TypedResult};
use crate::error::{Error, PathSegment, Result};
use crate::store::{check_store, AsContextMut};
use crate::types::ValueType;

pub use host_resource::HostResource;
pub use views::{WasmList, WasmListElement, WasmStr};

/// A Rust type that stands for a component value type.
///
/// Implemented by the built-in types of the [table at `TypedFunc`](TypedFunc), by types with
/// `#[derive(ComponentType)]` and by [`crate::flags!`] types. [`Lift`] and [`Lower`] say how values of the type
/// cross the canonical ABI.
pub trait ComponentType {
    /// Checks that `ty` is this Rust type's component type. The error names the mismatch: the field, case or
    /// label whose name, position or type differs, and where it is nested.
    fn typecheck(ty: &ValueType) -> Result<()>;

    /// Whether this is `()`, which stands for an absent payload in `Result`.
    #[doc(hidden)]
    const IS_UNIT: bool = false;
}

/// A Rust type whose values can be lowered into a component (arguments of typed calls, results of host
/// functions).
///
/// The methods are hidden: they are the canonical ABI's `lower_flat` and `store` against the plan's type `ty`,
/// which [`ComponentType::typecheck`] has already accepted. Derived code calls them for each field or payload.
pub trait Lower: ComponentType {
    /// `lower_flat`: appends the flat core values (as bits) of `self` to `out`.
    #[doc(hidden)]
    fn lower_flat<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, ty: Ty, out: &mut FlatBuf)
        -> Result<()>;

    /// `store`: writes `self` at `off` in `buf`, a host image of guest memory the caller writes back in one copy.
    #[doc(hidden)]
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()>;

    /// `store_list_into_range`: one allocation, the elements built in a host buffer, one write (numbers override
    /// it with a bulk conversion).
    #[doc(hidden)]
    fn store_list<T: 'static, E: WasmEngine>(items: &[Self], cx: &mut Cx<'_, '_, T, E>, elem: Ty) -> Result<(u32, u32)>
    where
        Self: Sized,
    {
        let lay = cx.types.layout(elem);
        let (size, align) = (lay.size, lay.align);
        let len = u32::try_from(items.len()).map_err(|_| Error::trap(crate::Trap::TooLong))?;
        let bytes = u32::try_from(u64::from(len) * u64::from(size)).map_err(|_| Error::trap(crate::Trap::TooLong))?;
        let ptr = cx.alloc(align, bytes)?;
        // Start from the memory as it is, so padding bytes keep their contents (the spec writes fields only).
        let mut buf = cx.read(ptr, bytes as usize)?;
        for (k, item) in items.iter().enumerate() {
            item.store(cx, elem, &mut buf, k * size as usize).map_err(|e| e.at(PathSegment::Index(k as u32)))?;
        }
        cx.write(ptr, &buf)?;
        Ok((ptr, len))
    }
}

/// A Rust type whose values can be lifted out of a component (results of typed calls, arguments of host
/// functions).
///
/// The methods are hidden: they are the canonical ABI's `lift_flat` and `load` against the plan's type `ty`.
pub trait Lift: ComponentType + Sized {
    /// `lift_flat`: reads the value from flat core values (as bits).
    #[doc(hidden)]
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self>;

    /// `load`: reads the value at `off` in `buf`, a host copy of guest memory.
    #[doc(hidden)]
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self>;

    /// `load_list_from_range`: checks the whole range, reads it once and decodes the elements (numbers override
    /// it with a bulk conversion).
    #[doc(hidden)]
    fn load_list<T: 'static, E: WasmEngine>(
        cx: &mut Cx<'_, '_, T, E>,
        elem: Ty,
        ptr: u32,
        len: u32,
    ) -> Result<Vec<Self>> {
        let lay = cx.types.layout(elem);
        let (size, align) = (lay.size, lay.align);
        let byte_len = u64::from(len) * u64::from(size);
        if byte_len > crate::abi::layout::MAX_BYTE_LENGTH {
            return Err(Error::trap(crate::Trap::TooLong).at_offset(ptr));
        }
        cx.check_range(ptr, byte_len, align)?;
        let buf = cx.read(ptr, byte_len as usize)?;
        let outer = cx.view(&buf, ptr);
        let items = (0..len as usize)
            .map(|k| Self::load(cx, elem, &buf, k * size as usize).map_err(|e| e.at(PathSegment::Index(k as u32))))
            .collect();
        cx.view_restore(outer);
        items
    }
}

/// A tuple of parameter types: `()`, `(A,)`, `(A, B)`, … (up to 12). A typed call lowers it as one tuple value;
/// a typed host function lifts it.
pub trait ComponentParams: Sized {
    /// Checks the parameter types, in order (parameter names are not compared).
    fn typecheck(params: &[ValueType]) -> Result<()>;
}

/// The results of a typed function: `()` for none, `(T,)` for one.
pub trait ComponentResults: Sized {
    /// The single result's Rust type (`()` when there is none).
    type One: ComponentType;
    /// Checks the result type.
    fn typecheck(result: Option<&ValueType>) -> Result<()>;
    /// Wraps the lifted result.
    fn wrap(v: Option<Self::One>) -> Result<Self>;
    /// The single result, for host functions.
    fn into_one(self) -> Option<Self::One>;
}

impl ComponentResults for () {
    type One = ();
    fn typecheck(result: Option<&ValueType>) -> Result<()> {
        match result {
            None => Ok(()),
            Some(t) => {
                Err(Error::usage(format!("type mismatch: Rust type expects no result, the function returns `{t}`")))
            }
        }
    }
    fn wrap(_: Option<()>) -> Result<Self> {
        Ok(())
    }
    fn into_one(self) -> Option<()> {
        None
    }
}

impl<C: ComponentType> ComponentResults for (C,) {
    type One = C;
    fn typecheck(result: Option<&ValueType>) -> Result<()> {
        match result {
            Some(t) => C::typecheck(t).map_err(|e| e.context("in the result")),
            None => Err(Error::usage("type mismatch: Rust type expects a result, the function has none")),
        }
    }
    fn wrap(v: Option<C>) -> Result<Self> {
        v.map(|v| (v,)).ok_or_else(|| Error::usage("missing result"))
    }
    fn into_one(self) -> Option<C> {
        Some(self.0)
    }
}

/// A typed function: Rust values lowered and lifted directly, without going through [`Value`](crate::Value).
///
/// Three traits describe how a Rust type crosses the canonical ABI, as in wasmtime:
///
/// * [`ComponentType`] — which component type the Rust type stands for ([`ComponentType::typecheck`]);
/// * [`Lower`] — how a value is lowered into core values and guest memory (host → guest);
/// * [`Lift`] — how a value is lifted out of them (guest → host).
///
/// Built-in types implement them as the table shows; records, variants and enums of your own derive them with
/// `#[derive(ComponentType, Lift, Lower)]` ([`macro@crate::ComponentType`]), and flags are declared with
/// [`crate::flags!`]. A derived type implements exactly the traits the built-in ones do: there is no sealed
/// second tier, and the hidden items derived code calls (`component_layer::__internal`) are public.
///
/// | Component type              | Rust type                                              |
/// |-----------------------------|--------------------------------------------------------|
/// | `bool`, `char`              | `bool`, `char`                                         |
/// | `s8` … `u64`, `f32`, `f64`  | `i8` … `u64`, `f32`, `f64`                             |
/// | `string`                    | `String`, `Box<str>`; `&str` and `str` to lower only; [`WasmStr`] to lift lazily |
/// | `list<T>`                   | `Vec<T>`, `Box<[T]>`; `&[T]` and `[T]` to lower only; [`WasmList<T>`] (numbers, `bool`, `char`) to lift lazily |
/// | `tuple<A, B, …>`            | `(A, B, …)` (up to 12)                                 |
/// | `option<T>`                 | `Option<T>`                                            |
/// | `result`, `result<T, E>`    | `Result<(), ()>`, `Result<T, E>` (`()` for an absent payload) |
/// | `own<R>`, `borrow<R>`       | [`Resource<R>`](crate::Resource) of a host type `R`, or [`ResourceAny`](crate::ResourceAny) |
/// | `record`, `variant`, `enum` | a type with `#[derive(ComponentType, Lift, Lower)]`    |
/// | `flags`                     | a type declared with [`crate::flags!`]                 |
/// | `stream<T>`, `future<T>`    | [`StreamAny`](crate::StreamAny), [`FutureAny`](crate::FutureAny) (readable ends, of any element type) |
/// | `error-context`             | [`ErrorContextAny`](crate::ErrorContextAny)            |
///
/// `&T`, `Box<T>` and `Arc<T>` stand for whatever `T` stands for.
///
/// [`TypedFunc<P, R>`] checks the function's type against `P` (a tuple of parameter types) and `R` (`()` or a
/// 1-tuple of the result type) once, when it is created; each call then lowers the Rust values straight into
/// core values and memory. For scalar signatures a call allocates nothing. Lists of numbers are copied in bulk.
/// Host functions defined with [`crate::LinkerInstance::func_wrap`] are the mirror image: checked once at
/// instantiation, their arguments lifted straight into `P` and their result lowered straight from `R`.
///
/// `async` functions are called the same way ([`TypedFunc::call`] runs the store's event loop until the task
/// resolves; [`TypedFunc::call_async`] yields to the executor meanwhile): `task.return` lifts the result straight
/// into `R`. That is why a typed call's result type must be `Send + 'static`, as every type of the table is when
/// its parameters are: the store keeps the result until the call takes it.
///
/// ```
/// # use component_layer::*;
/// # fn main() -> Result<()> {
/// # let engine = Engine::new(wasmi_runtime_layer::Engine::default());
/// # let component = Component::new(&engine, &wat::parse_str(r#"(component
/// #   (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
/// #   (core instance $i (instantiate $m))
/// #   (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))"#)
/// # .unwrap())?;
/// # let mut store = Store::new(&engine, ());
/// # let instance = Linker::new().instantiate(&mut store, &component)?;
/// # let func = instance.get_func("add").unwrap();
/// let add = func.typed::<(u32, u32), (u32,)>()?;
/// let (sum,) = add.call(&mut store, (1, 2))?;
/// assert_eq!(sum, 3);
/// // Checked once, at `typed`: the result is a `u32`, not a `u64`.
/// assert!(func.typed::<(u32, u32), (u64,)>().is_err());
/// # Ok(()) }
/// ```
///
/// A `TypedFunc` is a function whose parameter and result types were checked against `P` and `R` once.
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        TypedFunc { func: self.func.clone(), _marker: PhantomData }
    }
}

impl<P, R> std::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Typed{:?}", self.func)
    }
}

impl<P: ComponentParams, R: ComponentResults> TypedFunc<P, R> {
    pub(crate) fn new(func: Func) -> Result<Self> {
        let ty = func.ty();
        let params: Vec<ValueType> = ty.params().iter().map(|(_, t)| t.clone()).collect();
        P::typecheck(&params)?;
        R::typecheck(ty.result())?;
        Ok(TypedFunc { func, _marker: PhantomData })
    }

    /// A typed view of `func` without the type check, for generated bindings that checked the same signature
    /// with other lifetimes (`&'static str` for `&'a str`) once, when they looked the function up. A wrong
    /// signature is not unsafe: lowering and lifting check each value against the function's type.
    #[doc(hidden)]
    pub fn new_unchecked(func: Func) -> Self {
        TypedFunc { func, _marker: PhantomData }
    }

    /// The underlying dynamic function.
    pub fn func(&self) -> &Func {
        &self.func
    }
}

impl<P, R> TypedFunc<P, R>
where
    P: ComponentParams + Lower,
    R: ComponentResults,
    R::One: Lift + Send + 'static,
{
    /// Calls the function. Nesting and panics in host functions are handled as by [`Func::call`].
    pub fn call<S: AsContextMut>(&self, store: S, params: P) -> Result<R> {
        self.call_ref(store, &params)
    }

    /// Calls the function with borrowed arguments (lowering only reads them), so large arguments can be passed
    /// again without cloning.
    pub fn call_ref<S: AsContextMut>(&self, mut store: S, params: &P) -> Result<R> {
        let f = self.func.data::<S::Engine>()?;
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), self.func.store)?;
        let one =
            call::call_lifted(&mut ctx.inner, f, None, &TypedArgs(params), None, false, |_, r: Option<R::One>, _| {
                Ok(r)
            });
        super::nesting::resume_panic(ctx.rt());
        R::wrap(one?)
    }

    /// Calls the function as a future, as [`Func::call_async`] does.
    ///
    /// An `async` function's result is lifted straight into `R` when the callee calls `task.return`, as a
    /// synchronous function's is when it returns.
    pub async fn call_async<S: AsContextMut>(&self, mut store: S, params: P) -> Result<R> {
        let f = self.func.data::<S::Engine>()?;
        if !f.async_ty {
            return self.call_ref(store, &params);
        }
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), self.func.store)?;
        let r =
            crate::concurrent::task::call_from_host_async::<_, _, _, R::One>(&mut ctx.inner, f, &TypedArgs(&params))
                .await;
        super::nesting::resume_panic(ctx.rt());
        R::wrap(r?)
    }
}

/// Typed parameters, lowered as the function's parameter tuple.
struct TypedArgs<'a, P>(&'a P);

impl<P: Lower> LowerArgs for TypedArgs<'_, P> {
    fn lower_args<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        fe: &FuncEntry,
        out: &mut FlatBuf,
    ) -> Result<()> {
        self.0.lower_flat(cx, fe.params_ty, out).map_err(Error::element_as_arg)
    }
    fn store_args<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        fe: &FuncEntry,
        buf: &mut [u8],
    ) -> Result<()> {
        self.0.store(cx, fe.params_ty, buf, 0).map_err(Error::element_as_arg)
    }
}

impl<C: Lift + Send + 'static> LiftOne for C {
    fn lift_one<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        C::lift_flat(cx, ty, src)
    }
    fn load_one<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        C::load(cx, ty, buf, off)
    }
    fn resolver<T: 'static, E: WasmEngine>() -> Resolver<E> {
        Resolver::KeepTyped(Box::new(TypedLift::<T, E> {
            lift_flat: lift_flat_any::<C, T, E>,
            load: load_any::<C, T, E>,
        }))
    }
    fn from_async_result(r: Returned) -> Result<Self> {
        match r {
            Returned::Typed(b) => b
                .downcast::<C>()
                .map(|c| *c)
                .map_err(|_| Error::internal("an async result lifted into another Rust type")),
            Returned::Value(_) => Err(Error::internal("a typed call's result lifted as a dynamic value")),
        }
    }
}

/// [`Lift::lift_flat`] into a box, for [`TypedLift`].
fn lift_flat_any<C: Lift + Send + 'static, T: 'static, E: WasmEngine>(
    cx: &mut Cx<'_, '_, T, E>,
    ty: Ty,
    src: &mut FlatSrc<'_>,
) -> Result<TypedResult> {
    Ok(Box::new(C::lift_flat(cx, ty, src)?))
}

/// [`Lift::load`] into a box, for [`TypedLift`].
fn load_any<C: Lift + Send + 'static, T: 'static, E: WasmEngine>(
    cx: &mut Cx<'_, '_, T, E>,
    ty: Ty,
    buf: &[u8],
    off: usize,
) -> Result<TypedResult> {
    Ok(Box::new(C::load(cx, ty, buf, off)?))
}
