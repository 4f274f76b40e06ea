//! Host functions: the `canon lower` trampolines of functions defined with [`crate::LinkerInstance::func_new`]
//! (dynamic [`Value`]s, [`dynamic`]) and [`crate::LinkerInstance::func_wrap`] (Rust types, [`typed`]).
//!
//! Both are [`super::call::lower_call`] specialised to a host callee: the `may_leave` check, the arguments lifted
//! from the caller's flat values (or its spilled parameter tuple) — lending borrowed handles for the duration of
//! the call —, the host function, then its result lowered into the caller (flat, or through the return pointer),
//! and the lent handles returned. One lifting and lowering context serves the whole call, and for a scalar
//! signature nothing is allocated: the core values are read from and written to the backend's argument and result
//! slices, a dynamic function's arguments and result live on the stack. The typed form lifts straight into `P`
//! and lowers straight from `R`, without going through [`Value`]; its types were checked once, when the
//! component was instantiated. Failures are located at the import ([`super::call::lower_call`] adds it) with the
//! path to the value.

use std::sync::Arc;

use wasm_runtime_layer::backend::{AsContextMut as _, Val, WasmEngine, WasmStoreContextMut};

use smallvec::SmallVec;

use super::call::{check_may_leave, host_error, lift_lowered_args, set_may_leave, HostFn, LowerTrampoline};
use super::typed::{ComponentParams, ComponentResults, Lift, Lower};
use crate::abi::lift::FlatSrc;
use crate::abi::lower::FlatBuf;
use crate::abi::{bits_val, CoreArgs, Cx};
use crate::error::{Error, PathSegment, Result};
use crate::store::Ctx;
use crate::store::StoreContextMut;
use crate::values::{drop_iteratively, Value};

/// What a dynamic host function finds in its result slot: an empty tuple, which is not a value of any type
/// (a `tuple` has at least one element), so that a result the host never wrote is told apart from every value
/// it could write correctly. It costs nothing to make or to drop.
fn unset_result() -> Value {
    Value::Tuple(Vec::new())
}

fn is_unset(v: &Value) -> bool {
    matches!(v, Value::Tuple(vs) if vs.is_empty())
}

/// The body of a dynamic host function's trampoline.
pub(crate) fn dynamic<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    h: &HostFn<T, E>,
    args: &[Val<E>],
    results: &mut [Val<E>],
) -> Result<()> {
    check_may_leave(&ctx.data_mut().rt, t.opts.instance)?;
    let types = &t.plan.types;
    let fe = types.func(t.ty);
    let abi = &fe.abi;
    let bits = CoreArgs::new(args)?;
    let mut cx = Cx::new(ctx, &t.opts, types, &t.resources);
    let mut params: SmallVec<[Value; 4]> = SmallVec::new();
    let mut result = [unset_result()];
    let result = &mut result[..usize::from(fe.def.result.is_some())];
    let r = lift_lowered_args(&mut cx, fe, abi.params_flat.as_ref().map(Vec::len), &bits, &mut params)
        .and_then(|()| {
            h(StoreContextMut { inner: cx.call_out().as_context_mut() }, &params, result).map_err(host_error)
        })
        .and_then(|()| match (fe.def.result, result.first()) {
            (None, _) => Ok(()),
            (Some(_), Some(v)) if is_unset(v) => {
                Err(Error::usage("the host function did not set its result").at(PathSegment::Result))
            }
            (Some(ty), Some(v)) => deliver_value(&mut cx, t, &bits, ty, v, results),
            (Some(_), None) => Err(Error::internal("a function with a result produced none")),
        });
    if r.is_err() {
        // The host's result may be nested deeper than its type (which is why lowering failed).
        result.iter_mut().for_each(|v| drop_iteratively(std::mem::replace(v, unset_result())));
    }
    if !cx.lenders.is_empty() || !cx.host_borrows.is_empty() {
        cx.release_lenders();
    }
    r
}

/// Lowers a dynamic host function's result `v` of type `ty` into the caller, with `may_leave` cleared.
fn deliver_value<T: 'static, E: WasmEngine>(
    cx: &mut Cx<'_, '_, T, E>,
    t: &LowerTrampoline<T, E>,
    bits: &[u64],
    ty: crate::abi::types::Ty,
    v: &Value,
    results: &mut [Val<E>],
) -> Result<()> {
    let abi = &t.plan.types.func(t.ty).abi;
    let caller = t.opts.instance;
    set_may_leave::<T, E>(cx.store, caller, false);
    let delivered = match &abi.result_flat {
        Some(flat) => (|| {
            let mut out = FlatBuf::new();
            cx.lower_flat(ty, v, &mut out)?;
            for ((slot, b), ft) in results.iter_mut().zip(&out).zip(flat) {
                *slot = bits_val(*ft, *b);
            }
            Ok(())
        })(),
        None => (|| {
            let ptr = bits.last().copied().unwrap_or(0) as u32;
            let lay = abi.result_layout.as_ref().ok_or_else(|| Error::internal("a result without a layout"))?;
            cx.check_range(ptr, u64::from(lay.size), lay.align)?;
            cx.store_values(&[ty], &[0], std::slice::from_ref(v), ptr, lay.size)
        })(),
    };
    delivered.map_err(|e| e.at(PathSegment::Result))?;
    set_may_leave::<T, E>(cx.store, caller, true);
    Ok(())
}

/// The body of a typed host function's trampoline, with `P`, `R` and the closure erased.
pub(crate) type TypedHostFn<T, E> =
    Arc<dyn Fn(&mut Ctx<'_, T, E>, &LowerTrampoline<T, E>, &[Val<E>], &mut [Val<E>]) -> Result<()> + Send + Sync>;

/// Wraps `f` as the body of a typed trampoline.
pub(crate) fn typed<T, E, P, R, F>(f: F) -> TypedHostFn<T, E>
where
    T: 'static,
    E: WasmEngine,
    P: ComponentParams + Lift + 'static,
    R: ComponentResults + 'static,
    R::One: Lower,
    F: Fn(StoreContextMut<'_, T, E>, P) -> anyhow::Result<R> + Send + Sync + 'static,
{
    Arc::new(move |ctx, t, args, results| call::<T, E, P, R, F>(ctx, t, args, results, &f))
}

fn call<T, E, P, R, F>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    args: &[Val<E>],
    results: &mut [Val<E>],
    f: &F,
) -> Result<()>
where
    T: 'static,
    E: WasmEngine,
    P: Lift,
    R: ComponentResults,
    R::One: Lower,
    F: Fn(StoreContextMut<'_, T, E>, P) -> anyhow::Result<R>,
{
    check_may_leave(&ctx.data_mut().rt, t.opts.instance)?;
    let types = &t.plan.types;
    let fe = types.func(t.ty);
    let abi = &fe.abi;
    let bits = CoreArgs::new(args)?;

    // Lift the arguments from the caller.
    let mut cx = Cx::new(ctx, &t.opts, types, &t.resources);
    let lifted = match &abi.params_flat {
        Some(flat) => P::lift_flat(&mut cx, fe.params_ty, &mut FlatSrc::new(&bits[..flat.len().min(bits.len())])),
        None => (|| {
            let ptr = bits.first().copied().unwrap_or(0) as u32;
            let lay = &abi.params_tuple;
            cx.check_range(ptr, u64::from(lay.size), lay.align)?;
            let buf = cx.read(ptr, lay.size as usize)?;
            cx.view(&buf, ptr);
            P::load(&mut cx, fe.params_ty, &buf, 0)
        })(),
    };
    let lifted = lifted.map_err(Error::element_as_arg);
    let lenders = std::mem::take(&mut cx.lenders);
    let host_borrows = std::mem::take(&mut cx.host_borrows);
    drop(cx);
    let release = |ctx: &mut Ctx<'_, T, E>| {
        // Nothing was lent for arguments without borrows: skip building a context.
        if lenders.is_empty() && host_borrows.is_empty() {
            return;
        }
        let mut cx = Cx::new(ctx, &t.opts, types, &t.resources);
        cx.lenders = lenders;
        cx.host_borrows = host_borrows;
        cx.release_lenders();
    };
    let params = match lifted {
        Ok(p) => p,
        Err(e) => {
            release(ctx);
            return Err(e);
        }
    };

    let out = f(StoreContextMut { inner: ctx.as_context_mut() }, params).map_err(host_error);
    let delivered = out.and_then(|r| deliver::<T, E, R>(ctx, t, &bits, r, results));
    release(ctx);
    delivered
}

/// Lowers the host's result into the caller: flat into the core results, or through the return pointer (the
/// last core argument).
fn deliver<T: 'static, E: WasmEngine, R>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    bits: &[u64],
    r: R,
    results: &mut [Val<E>],
) -> Result<()>
where
    R: ComponentResults,
    R::One: Lower,
{
    let types = &t.plan.types;
    let fe = types.func(t.ty);
    let abi = &fe.abi;
    let Some(ty) = fe.def.result else { return Ok(()) };
    let v = r.into_one().ok_or_else(|| Error::internal("a function with a result produced none"))?;
    let caller = t.opts.instance;
    set_may_leave::<T, E>(ctx, caller, false);
    let mut cx = Cx::new(ctx, &t.opts, types, &t.resources);
    let delivered = match &abi.result_flat {
        Some(flat) => (|| {
            let mut out = FlatBuf::new();
            v.lower_flat(&mut cx, ty, &mut out)?;
            for ((slot, b), ft) in results.iter_mut().zip(&out).zip(flat) {
                *slot = bits_val(*ft, *b);
            }
            Ok(())
        })(),
        None => (|| {
            let ptr = bits.last().copied().unwrap_or(0) as u32;
            let lay = abi.result_layout.as_ref().ok_or_else(|| Error::internal("a result without a layout"))?;
            cx.check_range(ptr, u64::from(lay.size), lay.align)?;
            // Start from the memory as it is, so padding bytes keep their contents.
            let mut buf = cx.read(ptr, lay.size as usize)?;
            v.store(&mut cx, ty, &mut buf, 0)?;
            cx.write(ptr, &buf)
        })(),
    };
    delivered.map_err(|e| e.at(PathSegment::Result))?;
    set_may_leave::<T, E>(ctx, caller, true);
    Ok(())
}
