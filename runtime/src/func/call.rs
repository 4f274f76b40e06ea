//! Crossing the component boundary: `canon lift` (entering a component) and `canon lower` (leaving one).
//!
//! [`call_lifted`] is the spec's `Store.lift` + `canon_lift` for a synchronous function: the `may_enter`
//! check over the `entering_set`, a new task (the borrow scope), lowering the arguments into the callee (with
//! `may_leave` cleared, so `realloc` cannot call out), the core call, lifting the result, the `task.return`
//! borrow check, delivering the result to the caller, and `post-return`.
//!
//! [`lower_call`] is the body of every `canon lower` trampoline: the `may_leave` check, lifting the arguments
//! from the caller's memory (lending borrowed handles), calling the callee — a host function, or a function
//! lifted by another component instance, which is how composition works without generated adapter modules — and
//! lowering the result back into the caller's memory. When the callee is a component, string-encoding hints
//! flow through so the callee's `realloc` calls follow the spec's transcoding algorithms.
//!
//! The `resource.new` and `resource.rep` built-ins live here too; `resource.drop`, which runs destructors, is in
//! [`crate::resources::dtors`].

use std::sync::Arc;

use smallvec::SmallVec;
use wasm_runtime_layer::backend::{Val, WasmEngine, WasmStoreContextMut};

use super::host::TypedHostFn;
use super::nesting::call_core;
use crate::abi::lift::FlatSrc;
use crate::abi::lower::{add_handle, FlatBuf};
use crate::abi::types::{FuncEntry, FuncIdx, Ty};
use crate::abi::{bits_val, val_bits, CallOptions, CoreArgs, Cx, StrHint};
use crate::component::plan::Plan;
use crate::concurrent::task::{Resolver, Returned};
use crate::concurrent::{Current, CONTEXT_SLOTS};
use crate::error::{trap, Error, ErrorKind, PathSegment, Result, Site, Trap};
use crate::resources::handle::Handle;
use crate::resources::ResourceType;
use crate::store::{check_not_poisoned, Ctx, RuntimeState, StoreContextMut, TaskState};
use crate::values::Value;

/// A host function: values in, values out, as wasmtime's `func_new`.
pub type HostFn<T, E> =
    Arc<dyn Fn(StoreContextMut<'_, T, E>, &[Value], &mut [Value]) -> anyhow::Result<()> + Send + Sync>;

/// A function lifted by a component instance, with its options resolved.
pub(crate) struct LiftedFunc<E: WasmEngine> {
    /// How errors name it: the export (or, for a function another component of the plan lifted, the import it
    /// satisfies).
    pub site: Site,
    pub callee: E::Func,
    pub opts: CallOptions<E>,
    pub ty: FuncIdx,
    pub plan: Arc<Plan>,
    pub resources: Arc<[ResourceType]>,
    /// The instances a call from the host enters: the callee's instance and its ancestors (computed once, at
    /// instantiation, since the host is outside every instance).
    pub host_entry: SmallVec<[u32; 4]>,
    /// Whether the function type is `async` (calls go through [`crate::concurrent`]).
    pub async_ty: bool,
    /// The `callback` of an async lift (`None` for a synchronous lift).
    pub callback: Option<E::Func>,
}

impl<E: WasmEngine> Clone for LiftedFunc<E> {
    fn clone(&self) -> Self {
        LiftedFunc {
            site: self.site.clone(),
            callee: self.callee.clone(),
            opts: self.opts.clone(),
            ty: self.ty,
            plan: self.plan.clone(),
            resources: self.resources.clone(),
            host_entry: self.host_entry.clone(),
            async_ty: self.async_ty,
            callback: self.callback.clone(),
        }
    }
}

/// What a lowered import calls.
pub(crate) enum Target<T: 'static, E: WasmEngine> {
    Host(HostFn<T, E>),
    /// A host function with Rust parameter and result types ([`super::host`]).
    Typed(TypedHostFn<T, E>),
    /// An async host function ([`crate::concurrent::host`]).
    HostAsync(crate::concurrent::host::AsyncHostFn<T, E>),
    Lifted(Arc<LiftedFunc<E>>),
}

/// A `canon lower` trampoline's data.
pub(crate) struct LowerTrampoline<T: 'static, E: WasmEngine> {
    /// The import, as errors name it.
    pub site: Site,
    pub opts: CallOptions<E>,
    pub ty: FuncIdx,
    pub plan: Arc<Plan>,
    pub resources: Arc<[ResourceType]>,
    pub callee: Target<T, E>,
}

/// The spec's `entering_set(caller)`: the callee and its ancestors, minus the caller and its ancestors.
/// An instance and its ancestors.
pub(crate) fn instance_chain<E: WasmEngine>(rt: &RuntimeState<E>, mut i: Option<u32>) -> SmallVec<[u32; 4]> {
    let mut v: SmallVec<[u32; 4]> = SmallVec::new();
    while let Some(x) = i {
        v.push(x);
        i = rt.instances.get(x as usize).and_then(|s| s.parent);
    }
    v
}

pub(crate) fn entering_set<E: WasmEngine>(
    rt: &RuntimeState<E>,
    callee: u32,
    caller: Option<u32>,
) -> SmallVec<[u32; 4]> {
    let callee_chain = instance_chain(rt, Some(callee));
    let caller_chain = instance_chain(rt, caller);
    callee_chain.into_iter().filter(|i| !caller_chain.contains(i)).collect()
}

/// The spec's `trap_if(not inst.may_leave)`: a lowered import (or a built-in) called while instance `inst` may not
/// leave — from its `realloc`, its `post-return` or a resource destructor — traps.
pub(crate) fn check_may_leave<E: WasmEngine>(rt: &RuntimeState<E>, inst: u32) -> Result<()> {
    if rt.instances.get(inst as usize).is_some_and(|i| i.may_leave) {
        Ok(())
    } else {
        trap(Trap::CannotLeave)
    }
}

pub(crate) fn set_may_leave<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, inst: u32, value: bool) {
    if let Some(i) = ctx.data_mut().rt.instances.get_mut(inst as usize) {
        i.may_leave = value;
    }
}

/// Arguments that can be lowered: dynamic [`Value`]s or typed Rust values.
pub(crate) trait LowerArgs {
    /// Lowers the arguments flat.
    fn lower_args<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        fe: &FuncEntry,
        out: &mut FlatBuf,
    ) -> Result<()>;
    /// Stores the arguments as the spilled parameter tuple at the start of `buf`.
    fn store_args<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        fe: &FuncEntry,
        buf: &mut [u8],
    ) -> Result<()>;
}

impl LowerArgs for [Value] {
    fn lower_args<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        fe: &FuncEntry,
        out: &mut FlatBuf,
    ) -> Result<()> {
        for (i, (t, v)) in fe.param_tys.iter().zip(self).enumerate() {
            cx.lower_flat(*t, v, out).map_err(|e| e.at(PathSegment::Arg(i as u32)))?;
        }
        Ok(())
    }
    fn store_args<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        fe: &FuncEntry,
        buf: &mut [u8],
    ) -> Result<()> {
        for (i, ((t, v), o)) in fe.param_tys.iter().zip(self).zip(fe.abi.params_offsets.iter()).enumerate() {
            cx.store(*t, v, buf, *o as usize).map_err(|e| e.at(PathSegment::Arg(i as u32)))?;
        }
        Ok(())
    }
}

/// A result that can be lifted: a dynamic [`Value`] or a typed Rust value.
pub(crate) trait LiftOne: Sized {
    fn lift_one<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self>;
    fn load_one<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self>;
    /// Where `task.return` puts the result of an async function called for this result type.
    fn resolver<T: 'static, E: WasmEngine>() -> Resolver<E>;
    /// The result of an async function, as `task.return` lifted it by [`LiftOne::resolver`].
    fn from_async_result(r: Returned) -> Result<Self>;
}

impl LiftOne for Value {
    fn lift_one<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        cx.lift_flat(ty, src)
    }
    fn load_one<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        cx.load(ty, buf, off)
    }
    fn resolver<T: 'static, E: WasmEngine>() -> Resolver<E> {
        Resolver::Keep
    }
    fn from_async_result(r: Returned) -> Result<Self> {
        match r {
            Returned::Value(v) => Ok(v),
            Returned::Typed(_) => Err(Error::internal("a dynamic call's result lifted into a Rust type")),
        }
    }
}

/// Calls a lifted function. `on_resolve` receives the lifted result (and string hints, when `want_hints`)
/// before `post-return` runs, as the spec orders it.
pub(crate) fn call_lifted<T: 'static, E: WasmEngine, A: LowerArgs + ?Sized, X: LiftOne, R>(
    ctx: &mut Ctx<'_, T, E>,
    f: &LiftedFunc<E>,
    caller: Option<u32>,
    params: &A,
    hints: Option<Vec<StrHint>>,
    want_hints: bool,
    on_resolve: impl FnOnce(&mut Ctx<'_, T, E>, Option<X>, Option<Vec<StrHint>>) -> Result<R>,
) -> Result<R> {
    if f.async_ty {
        return crate::concurrent::task::call_async(ctx, f, caller, params, on_resolve);
    }
    let rt = &mut ctx.data_mut().rt;
    check_not_poisoned(rt)?;
    let computed;
    let entering: &[u32] = match caller {
        None => &f.host_entry,
        Some(_) => {
            computed = entering_set(rt, f.opts.instance, caller);
            &computed
        }
    };
    if entering.iter().any(|&i| rt.instances.get(i as usize).is_none_or(|s| !s.may_enter)) {
        rt.poisoned = true;
        return trap(Trap::CannotEnter);
    }
    for &i in entering {
        rt.instances[i as usize].may_enter = false;
    }
    rt.tasks.push(TaskState { num_borrows: 0, inst: f.opts.instance, context: [0; CONTEXT_SLOTS] });
    let task = (rt.tasks.len() - 1) as u32;
    let outer = std::mem::replace(&mut rt.concurrent.current, Current::Sync(task));

    let r = call_lifted_in_task(ctx, f, task, params, hints, want_hints, on_resolve);

    let rt = &mut ctx.data_mut().rt;
    rt.concurrent.current = outer;
    rt.tasks.truncate(task as usize);
    for &i in entering {
        rt.instances[i as usize].may_enter = true;
    }
    if r.is_err() {
        rt.poisoned = true;
    }
    r
}

/// Lowers a call's arguments into the callee (`lower_flat_values`, which clears `may_leave` while it runs), with
/// borrows lent to `scope`.
pub(crate) fn lower_params<T: 'static, E: WasmEngine, A: LowerArgs + ?Sized>(
    ctx: &mut Ctx<'_, T, E>,
    f: &LiftedFunc<E>,
    scope: u32,
    params: &A,
    hints: Option<Vec<StrHint>>,
) -> Result<FlatBuf> {
    let types = &f.plan.types;
    let fe = types.func(f.ty);
    let inst = f.opts.instance;
    set_may_leave::<T, E>(ctx, inst, false);
    let mut flat = FlatBuf::new();
    let mut cx = Cx::new(ctx, &f.opts, types, &f.resources);
    cx.task = Some(scope);
    cx.hints = hints;
    match &fe.abi.params_flat {
        Some(_) => params.lower_args(&mut cx, fe, &mut flat)?,
        None => {
            let lay = &fe.abi.params_tuple;
            let ptr = cx.alloc(lay.align, lay.size)?;
            let mut buf = cx.read(ptr, lay.size as usize)?;
            params.store_args(&mut cx, fe, &mut buf)?;
            cx.write(ptr, &buf)?;
            flat.push(u64::from(ptr));
        }
    }
    drop(cx);
    set_may_leave::<T, E>(ctx, inst, true);
    Ok(flat)
}

fn call_lifted_in_task<T: 'static, E: WasmEngine, A: LowerArgs + ?Sized, X: LiftOne, R>(
    ctx: &mut Ctx<'_, T, E>,
    f: &LiftedFunc<E>,
    task: u32,
    params: &A,
    hints: Option<Vec<StrHint>>,
    want_hints: bool,
    on_resolve: impl FnOnce(&mut Ctx<'_, T, E>, Option<X>, Option<Vec<StrHint>>) -> Result<R>,
) -> Result<R> {
    let types = &f.plan.types;
    let fe = types.func(f.ty);
    let abi = &fe.abi;
    let inst = f.opts.instance;
    let located = |e: Error| e.in_func(&f.site);

    let flat = lower_params(ctx, f, task, params, hints).map_err(located)?;

    // The core call.
    let mut args: SmallVec<[Val<E>; 16]> = SmallVec::new();
    for (b, t) in flat.iter().zip(abi.lift_params.iter()) {
        args.push(bits_val(*t, *b));
    }
    // A lifted function returns at most one core value (MAX_FLAT_RESULTS = 1; larger results go through memory).
    let mut results: SmallVec<[Val<E>; 1]> = SmallVec::new();
    for t in abi.lift_results.iter() {
        results.push(bits_val(*t, 0));
    }
    call_core::<T, E>(ctx, &f.callee, &args, &mut results).map_err(located)?;
    let result_bits: [u64; 1] = [results.first().map_or(0, val_bits)];
    let result_bits = &result_bits[..results.len().min(1)];

    // Lift the result.
    let mut result_hints = None;
    let result = match fe.def.result {
        None => None,
        Some(t) => {
            let mut cx = Cx::new(ctx, &f.opts, types, &f.resources);
            if want_hints {
                cx.hints = Some(Vec::new());
            }
            let v = match &abi.result_flat {
                Some(_) => X::lift_one(&mut cx, t, &mut FlatSrc::new(result_bits)),
                None => (|| {
                    let ptr = result_bits.first().copied().unwrap_or(0) as u32;
                    let lay = abi.result_layout.as_ref().ok_or_else(|| Error::internal("a result without a layout"))?;
                    cx.check_range(ptr, u64::from(lay.size), lay.align)?;
                    let buf = cx.read(ptr, lay.size as usize)?;
                    cx.view(&buf, ptr);
                    X::load_one(&mut cx, t, &buf, 0)
                })(),
            };
            let v = v.map_err(|e| e.at(PathSegment::Result).in_func(&f.site))?;
            result_hints = cx.hints.take();
            Some(v)
        }
    };

    // `task.return`: every borrow lent to this call must have been dropped.
    if ctx.data_mut().rt.tasks.get(task as usize).is_some_and(|t| t.num_borrows > 0) {
        return Err(located(Error::trap(Trap::BorrowsRemain)));
    }

    // Errors of `on_resolve` are the caller's: it delivers the result.
    let r = on_resolve(ctx, result, result_hints)?;

    if let Some(post_return) = &f.opts.post_return {
        set_may_leave::<T, E>(ctx, inst, false);
        call_core::<T, E>(ctx, post_return, &results, &mut []).map_err(|e| located(e.context("in post-return")))?;
        set_may_leave::<T, E>(ctx, inst, true);
    }
    Ok(r)
}

/// Converts a host function's error: errors of this crate pass through (a trap in a nested call stays that
/// trap), anything else is a host error.
pub(crate) fn host_error(e: anyhow::Error) -> Error {
    match e.downcast::<Error>() {
        Ok(e) => e,
        Err(e) => Error::new(ErrorKind::Host(e)),
    }
}

/// The body of a `canon lower` trampoline. Its failures are located at the import.
pub(crate) fn lower_call<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    args: &[Val<E>],
    results: &mut [Val<E>],
) -> Result<()> {
    let r = match &t.callee {
        Target::Host(h) => super::host::dynamic(ctx, t, h, args, results),
        Target::Typed(h) => h(ctx, t, args, results),
        Target::HostAsync(h) => crate::concurrent::host::lower_sync(ctx, t, h, args, results),
        Target::Lifted(f) => lower_call_lifted(ctx, t, f, args, results),
    };
    r.map_err(|e| e.in_func(&t.site))
}

/// A lowered import satisfied by a function another component instance lifted: the arguments are lifted from
/// the caller (recording string hints) and lowered into the callee by [`call_lifted`], whose result is lowered
/// back into the caller.
fn lower_call_lifted<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    f: &LiftedFunc<E>,
    args: &[Val<E>],
    results: &mut [Val<E>],
) -> Result<()> {
    let caller = t.opts.instance;
    check_may_leave(&ctx.data_mut().rt, caller)?;
    let types = &t.plan.types;
    let fe = types.func(t.ty);
    let abi = &fe.abi;
    let bits = CoreArgs::new(args)?;

    // Lift the arguments from the caller.
    let mut params: SmallVec<[Value; 4]> = SmallVec::new();
    let mut cx = Cx::new(ctx, &t.opts, types, &t.resources);
    cx.hints = Some(Vec::new());
    let flat = abi.params_flat.as_ref().map(Vec::len);
    let lifted = lift_lowered_args(&mut cx, fe, flat, &bits, &mut params);
    let lenders = std::mem::take(&mut cx.lenders);
    let host_borrows = std::mem::take(&mut cx.host_borrows);
    let hints = cx.hints.take();
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
    if let Err(e) = lifted {
        release(ctx);
        return Err(e);
    }
    let retptr = match abi.result_flat {
        Some(_) => None,
        None => Some(bits.last().copied().unwrap_or(0) as u32),
    };

    // Deliver the result into the caller (`on_resolve` → `lower_flat_values` with the out-param).
    let deliver = |ctx: &mut Ctx<'_, T, E>, result: Option<Value>, hints: Option<Vec<StrHint>>| -> Result<()> {
        let Some(ty) = fe.def.result else { return Ok(()) };
        let v = result.ok_or_else(|| Error::internal("a function with a result produced none"))?;
        set_may_leave::<T, E>(ctx, caller, false);
        let mut cx = Cx::new(ctx, &t.opts, types, &t.resources);
        cx.hints = hints;
        let delivered = match retptr {
            None => (|| {
                let mut out = FlatBuf::new();
                cx.lower_flat(ty, &v, &mut out)?;
                let flat = abi.result_flat.as_ref().ok_or_else(|| Error::internal("a flat result without types"))?;
                for ((slot, b), ft) in results.iter_mut().zip(&out).zip(flat) {
                    *slot = bits_val(*ft, *b);
                }
                Ok(())
            })(),
            Some(ptr) => (|| {
                let lay = abi.result_layout.as_ref().ok_or_else(|| Error::internal("a result without a layout"))?;
                cx.check_range(ptr, u64::from(lay.size), lay.align)?;
                cx.store_values(&[ty], &[0], std::slice::from_ref(&v), ptr, lay.size)
            })(),
        };
        delivered.map_err(|e| e.at(PathSegment::Result))?;
        set_may_leave::<T, E>(ctx, caller, true);
        Ok(())
    };

    let r = call_lifted(ctx, f, Some(caller), &params[..], hints, true, deliver);
    release(ctx);
    r
}

/// Lifts a lowered call's arguments from the caller into `params`: `flat` of them from the core arguments
/// `bits` when they are passed flat (`Some(count)`), else from the parameter tuple the first core argument points
/// at. Shared by the synchronous import trampoline and async lowers (whose flat limit is lower).
pub(crate) fn lift_lowered_args<T: 'static, E: WasmEngine>(
    cx: &mut Cx<'_, '_, T, E>,
    fe: &FuncEntry,
    flat: Option<usize>,
    bits: &[u64],
    params: &mut SmallVec<[Value; 4]>,
) -> Result<()> {
    let arg = |i: usize| move |e: Error| e.at(PathSegment::Arg(i as u32));
    match flat {
        Some(n) => {
            let mut src = FlatSrc::new(&bits[..n.min(bits.len())]);
            for (i, (_, ty)) in fe.def.params.iter().enumerate() {
                params.push(cx.lift_flat(*ty, &mut src).map_err(arg(i))?);
            }
        }
        None => {
            let ptr = bits.first().copied().unwrap_or(0) as u32;
            let lay = &fe.abi.params_tuple;
            cx.check_range(ptr, u64::from(lay.size), lay.align)?;
            let buf = cx.read(ptr, lay.size as usize)?;
            cx.view(&buf, ptr);
            for (i, ((_, ty), o)) in fe.def.params.iter().zip(fe.abi.params_offsets.iter()).enumerate() {
                params.push(cx.load(*ty, &buf, *o as usize).map_err(arg(i))?);
            }
        }
    }
    Ok(())
}

/// `canon resource.new`.
pub(crate) fn resource_new<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    inst: u32,
    rt: &ResourceType,
    rep: u32,
) -> Result<u32> {
    let state = &mut ctx.data_mut().rt;
    check_may_leave(state, inst)?;
    add_handle(state, inst, Handle { rt: rt.clone(), rep, own: true, borrow_scope: None, num_lends: 0 })
}

/// `canon resource.rep`.
pub(crate) fn resource_rep<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    inst: u32,
    rt: &ResourceType,
    i: u32,
) -> Result<u32> {
    let state = &mut ctx.data_mut().rt;
    let h = state.instances[inst as usize].handles.get(i)?;
    if h.rt != *rt {
        return trap(Trap::HandleType);
    }
    Ok(h.rep)
}
