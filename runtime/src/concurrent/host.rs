//! Async host functions ([`crate::LinkerInstance::func_new_async`], [`crate::LinkerInstance::func_wrap_async`]):
//! host calls that finish later, as a Rust [`Future`].
//!
//! **The store and the future.** A host closure runs synchronously when the guest calls it, with the store
//! ([`crate::StoreContextMut`]) and the lifted arguments, and returns a `Send + 'static` future that produces
//! the result. The future cannot borrow the store: the store is busy running guests while the future is
//! pending, and this crate has no `unsafe` to hand out a second access to it (wasmtime's `Accessor` does that).
//! What the future needs from the store, the closure takes before it returns the future (a stream or future
//! argument becomes a [`crate::StreamReader`] or [`crate::FutureReader`] there, which the future reads with
//! `next_batch` or `into_value`); what the future must hand back, it hands back as its result (or through state
//! the host shares with it, like an `Arc<Mutex<…>>` in the store's data).
//!
//! **Calling one.** The future is polled once when the call is made. Ready at once, the call is an ordinary
//! call: an async lower returns `RETURNED`. Otherwise an async lower returns `STARTED` with a subtask handle: the
//! future becomes a *host call* of the store, which every event loop ([`super::event_loop`]) polls with its
//! [`std::task::Waker`] before it runs the next task; when the future is ready, its result is lowered into the
//! caller's memory and the subtask resolves (`RETURNED`, a `SUBTASK` event). `subtask.cancel` drops the future
//! (`CANCELLED_BEFORE_RETURNED`). A synchronous lower of an async host function blocks its caller: the event loop
//! runs nested on top of the caller's frame until the future is ready (see [`super::event_loop`] for what that
//! loop does while only host futures can make progress).
//!
//! Handles the guest lends to the call (borrowed arguments) stay lent until the subtask's resolution is
//! delivered, as for any subtask. An error from the future traps the guest that waits for it (it fails the call
//! that drives the event loop).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use smallvec::SmallVec;
use wasm_runtime_layer::backend::{AsContextMut as _, Val, WasmEngine, WasmStoreContextMut};

use super::event_loop::block_on;
use super::subtask::{notify_resolved, release, state, Subtask, MAX_FLAT_ASYNC_PARAMS};
use super::task::{may_leave, ResultSink};
use super::waitable::{i32_result, Waitable, WaitableKind};
use super::{Awaited, Slab, WaitableId};
use crate::abi::lift::FlatSrc;
use crate::abi::lower::FlatBuf;
use crate::abi::table::Element;
use crate::abi::types::Ty;
use crate::abi::{bits_val, CallOptions, CoreArgs, Cx};
use crate::component::plan::Plan;
use crate::error::{Error, PathSegment, Result};
use crate::func::call::{host_error, lift_lowered_args, set_may_leave, LowerTrampoline};
use crate::func::typed::{ComponentResults, Lift, Lower};
use crate::resources::{ResourceAny, ResourceType};
use crate::store::{Ctx, StoreContextMut};
use crate::values::Value;

/// Where a host call's result is lowered.
pub(crate) enum Dest<'a> {
    /// As flat core values (a synchronous lower whose result fits).
    Flat(&'a mut FlatBuf),
    /// Into memory at this address.
    Memory(u32),
}

/// Lowers a finished host call's result (of the given type) with a caller's options.
pub(crate) type Lowerer<T, E> = Box<dyn FnOnce(&mut Cx<'_, '_, T, E>, Ty, Dest<'_>) -> Result<()> + Send>;

/// A pending host call: the future of its result.
pub(crate) type HostFuture<T, E> = Pin<Box<dyn Future<Output = anyhow::Result<Lowerer<T, E>>> + Send>>;

/// A started async host call: its future, and the handles lent for it.
pub(crate) struct Started<T: 'static, E: WasmEngine> {
    future: HostFuture<T, E>,
    lenders: Vec<(u32, u32)>,
    host_borrows: Vec<ResourceAny>,
}

/// An async host function, erased: lifts its arguments from the caller's core arguments (`flat` of them flat,
/// else through the pointer) and starts the host's future.
pub(crate) type AsyncHostFn<T, E> = Arc<
    dyn Fn(&mut Ctx<'_, T, E>, &LowerTrampoline<T, E>, Option<usize>, &[u64]) -> Result<Started<T, E>> + Send + Sync,
>;

/// A host call in progress in a store.
pub(crate) struct HostCall<T: 'static, E: WasmEngine> {
    /// The future, until it is ready.
    future: Option<HostFuture<T, E>>,
    /// The caller's subtask.
    waitable: WaitableId,
    /// The function's type (in `sink.plan` or the trampoline's plan).
    ty: crate::abi::types::FuncIdx,
    /// Where the result goes: an async caller's memory, or (`None`) kept in [`HostCall::result`] for the
    /// synchronous caller blocked on it.
    sink: Option<ResultSink<E>>,
    result: Option<Lowerer<T, E>>,
}

/// The host calls in progress in a store.
pub(crate) struct HostCalls<T: 'static, E: WasmEngine> {
    calls: Slab<HostCall<T, E>>,
    /// How many of them have a pending future.
    pending: u32,
}

impl<T: 'static, E: WasmEngine> Default for HostCalls<T, E> {
    fn default() -> Self {
        HostCalls { calls: Slab::default(), pending: 0 }
    }
}

impl<T: 'static, E: WasmEngine> HostCalls<T, E> {
    /// Whether a host future is pending.
    pub(crate) fn any_pending(&self) -> bool {
        self.pending > 0
    }

    fn insert(&mut self, call: HostCall<T, E>) -> u32 {
        self.pending += u32::from(call.future.is_some());
        self.calls.insert(call)
    }

    fn remove(&mut self, id: u32) -> Option<HostCall<T, E>> {
        let call = self.calls.remove(id)?;
        self.pending = self.pending.saturating_sub(u32::from(call.future.is_some()));
        Some(call)
    }
}

/// A [`Lowerer`] from a closure (which gives the closure its signature).
fn lowerer<T: 'static, E: WasmEngine, F>(f: F) -> Lowerer<T, E>
where
    F: FnOnce(&mut Cx<'_, '_, T, E>, Ty, Dest<'_>) -> Result<()> + Send + 'static,
{
    Box::new(f)
}

/// The async host function of a dynamic closure.
pub(crate) fn dynamic<T, E, F, Fut>(f: F) -> AsyncHostFn<T, E>
where
    T: 'static,
    E: WasmEngine,
    F: Fn(StoreContextMut<'_, T, E>, &[Value]) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Option<Value>>> + Send + 'static,
{
    Arc::new(move |ctx, t, flat, bits| {
        let fe = t.plan.types.func(t.ty);
        let mut params: SmallVec<[Value; 4]> = SmallVec::new();
        let mut cx = Cx::new(ctx, &t.opts, &t.plan.types, &t.resources);
        let lifted = lift_lowered_args(&mut cx, fe, flat, bits, &mut params);
        let (lenders, host_borrows) = (std::mem::take(&mut cx.lenders), std::mem::take(&mut cx.host_borrows));
        drop(cx);
        if let Err(e) = lifted {
            release(&mut ctx.data_mut().rt, lenders, host_borrows);
            return Err(e);
        }
        let fut = f(StoreContextMut { inner: ctx.as_context_mut() }, &params);
        let future: HostFuture<T, E> = Box::pin(async move {
            let v = fut.await?;
            Ok(lowerer::<T, E, _>(move |cx, ty, dest| {
                let v = v.ok_or_else(|| Error::usage("the host function did not set its result"))?;
                match dest {
                    Dest::Flat(out) => cx.lower_flat(ty, &v, out),
                    Dest::Memory(ptr) => {
                        let lay = cx.types.layout(ty).clone();
                        cx.check_range(ptr, u64::from(lay.size), lay.align)?;
                        cx.store_values(&[ty], &[0], std::slice::from_ref(&v), ptr, lay.size)
                    }
                }
            }))
        });
        Ok(Started { future, lenders, host_borrows })
    })
}

/// The async host function of a typed closure.
pub(crate) fn typed<T, E, P, R, F, Fut>(f: F) -> AsyncHostFn<T, E>
where
    T: 'static,
    E: WasmEngine,
    P: Lift + 'static,
    R: ComponentResults + Send + 'static,
    R::One: Lower,
    F: Fn(StoreContextMut<'_, T, E>, P) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<R>> + Send + 'static,
{
    Arc::new(move |ctx, t, flat, bits| {
        let fe = t.plan.types.func(t.ty);
        let mut cx = Cx::new(ctx, &t.opts, &t.plan.types, &t.resources);
        let lifted = match flat {
            Some(n) => P::lift_flat(&mut cx, fe.params_ty, &mut FlatSrc::new(&bits[..n.min(bits.len())])),
            None => (|| {
                let ptr = bits.first().copied().unwrap_or(0) as u32;
                let lay = &fe.abi.params_tuple;
                cx.check_range(ptr, u64::from(lay.size), lay.align)?;
                let buf = cx.read(ptr, lay.size as usize)?;
                cx.view(&buf, ptr);
                P::load(&mut cx, fe.params_ty, &buf, 0)
            })(),
        };
        let lifted = lifted.map_err(Error::element_as_arg);
        let (lenders, host_borrows) = (std::mem::take(&mut cx.lenders), std::mem::take(&mut cx.host_borrows));
        drop(cx);
        let params = match lifted {
            Ok(p) => p,
            Err(e) => {
                release(&mut ctx.data_mut().rt, lenders, host_borrows);
                return Err(e);
            }
        };
        let fut = f(StoreContextMut { inner: ctx.as_context_mut() }, params);
        let future: HostFuture<T, E> = Box::pin(async move {
            let r = fut.await?;
            Ok(lowerer::<T, E, _>(move |cx, ty, dest| {
                let v = r.into_one().ok_or_else(|| Error::internal("a function with a result produced none"))?;
                match dest {
                    Dest::Flat(out) => v.lower_flat(cx, ty, out),
                    Dest::Memory(ptr) => {
                        let lay = cx.types.layout(ty).clone();
                        cx.check_range(ptr, u64::from(lay.size), lay.align)?;
                        // Start from the memory as it is, so padding bytes keep their contents.
                        let mut buf = cx.read(ptr, lay.size as usize)?;
                        v.store(cx, ty, &mut buf, 0)?;
                        cx.write(ptr, &buf)
                    }
                }
            }))
        });
        Ok(Started { future, lenders, host_borrows })
    })
}

/// Polls a future once without a waker that matters: every loop polls pending host calls again, with its own
/// waker, before it sleeps.
fn poll_now<T: 'static, E: WasmEngine>(future: &mut HostFuture<T, E>) -> Poll<anyhow::Result<Lowerer<T, E>>> {
    future.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

/// Lowers a result into memory with `opts`, `may_leave` cleared while it runs.
fn lower_into_memory<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    (opts, plan, resources): (&CallOptions<E>, &Plan, &[ResourceType]),
    ty: crate::abi::types::FuncIdx,
    retptr: Option<u32>,
    lower: Lowerer<T, E>,
) -> Result<()> {
    let (Some(rty), Some(ptr)) = (plan.types.func(ty).def.result, retptr) else { return Ok(()) };
    set_may_leave::<T, E>(ctx, opts.instance, false);
    let mut cx = Cx::new(ctx, opts, &plan.types, resources);
    lower(&mut cx, rty, Dest::Memory(ptr)).map_err(|e| e.at(PathSegment::Result))?;
    set_may_leave::<T, E>(ctx, opts.instance, true);
    Ok(())
}

/// A new subtask for a host call (handle 0 until the caller gets one).
fn host_subtask(inst: u32, lenders: Vec<(u32, u32)>, host_borrows: Vec<ResourceAny>) -> Waitable {
    Waitable {
        inst,
        handle: 0,
        wset: None,
        pending: None,
        has_sync_waiter: false,
        kind: WaitableKind::Subtask(Subtask {
            state: state::STARTED,
            task: None,
            host: true,
            delivered: false,
            cancellation_requested: false,
            lenders,
            host_borrows,
        }),
    }
}

/// The body of an async-lowered trampoline whose callee is an async host function. Returns the packed status.
pub(crate) fn lower_async<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    h: &AsyncHostFn<T, E>,
    args: &[Val<E>],
    results: &mut [Val<E>],
) -> Result<()> {
    let caller = t.opts.instance;
    may_leave(&ctx.data_mut().rt, caller)?;
    let fe = t.plan.types.func(t.ty);
    let bits = CoreArgs::new(args)?;
    let retptr = fe.def.result.map(|_| bits.last().copied().unwrap_or(0) as u32);
    let flat = fe.abi.params_flat.as_ref().map(Vec::len).filter(|&n| n <= MAX_FLAT_ASYNC_PARAMS);
    let Started { mut future, lenders, host_borrows } = h(ctx, t, flat, &bits)?;
    let status = match poll_now(&mut future) {
        Poll::Ready(r) => {
            let opts = (&t.opts, &*t.plan, &*t.resources);
            let r = r.map_err(host_error).and_then(|lower| lower_into_memory(ctx, opts, t.ty, retptr, lower));
            release(&mut ctx.data_mut().rt, lenders, host_borrows);
            r?;
            state::RETURNED
        }
        Poll::Pending => {
            let rt = &mut ctx.data_mut().rt;
            let w = rt.concurrent.waitables.insert(host_subtask(caller, lenders, host_borrows));
            let handle = match rt.instances[caller as usize].handles.add_element(Element::Waitable(w)) {
                Ok(h) => h,
                Err(e) => {
                    rt.concurrent.waitables.remove(w);
                    return Err(e);
                }
            };
            rt.concurrent.waitables.get_mut(w)?.handle = handle;
            let sink = Some(ResultSink::of(t, w, retptr));
            let call = HostCall { future: Some(future), waitable: w, ty: t.ty, sink, result: None };
            let id = ctx.data_mut().host_calls.insert(call);
            subtask_host_id(&mut ctx.data_mut().rt, w, id)?;
            state::STARTED | (handle << 4)
        }
    };
    i32_result(results, status);
    Ok(())
}

/// Records the host call of subtask `w`.
fn subtask_host_id<E: WasmEngine>(rt: &mut crate::store::RuntimeState<E>, w: WaitableId, id: u32) -> Result<()> {
    match &mut rt.concurrent.waitables.get_mut(w)?.kind {
        WaitableKind::Subtask(s) => {
            s.task = Some(id);
            Ok(())
        }
        WaitableKind::End(_) => Err(Error::internal("a host call's waitable is not a subtask")),
    }
}

/// The body of a synchronous trampoline whose callee is an async host function: the caller blocks until the
/// future is ready. Its failures are located at the import by the caller.
pub(crate) fn lower_sync<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    h: &AsyncHostFn<T, E>,
    args: &[Val<E>],
    results: &mut [Val<E>],
) -> Result<()> {
    let caller = t.opts.instance;
    may_leave(&ctx.data_mut().rt, caller)?;
    let fe = t.plan.types.func(t.ty);
    let bits = CoreArgs::new(args)?;
    let flat = fe.abi.params_flat.as_ref().map(Vec::len);
    let Started { mut future, lenders, host_borrows } = h(ctx, t, flat, &bits)?;
    let r = match poll_now(&mut future) {
        Poll::Ready(r) => r.map_err(host_error),
        Poll::Pending => block(ctx, t, future),
    };
    let r = r.and_then(|lower| deliver_sync(ctx, t, &bits, lower, results));
    release(&mut ctx.data_mut().rt, lenders, host_borrows);
    r
}

/// Blocks the calling frame until a host future is ready (its subtask, named by no handle, resolves).
fn block<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    future: HostFuture<T, E>,
) -> Result<Lowerer<T, E>> {
    let rt = &mut ctx.data_mut().rt;
    let w = rt.concurrent.waitables.insert(host_subtask(t.opts.instance, Vec::new(), Vec::new()));
    let call = HostCall { future: Some(future), waitable: w, ty: t.ty, sink: None, result: None };
    let id = ctx.data_mut().host_calls.insert(call);
    let r = subtask_host_id(&mut ctx.data_mut().rt, w, id).and_then(|()| block_on::<T, E>(ctx, Awaited::Returned(w)));
    let call = ctx.data_mut().host_calls.remove(id);
    ctx.data_mut().rt.concurrent.waitables.remove(w);
    r?;
    call.and_then(|c| c.result).ok_or_else(|| Error::internal("a finished host call without its result"))
}

/// Lowers a blocked synchronous caller's result: flat into the core results, or through the return pointer.
fn deliver_sync<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    bits: &[u64],
    lower: Lowerer<T, E>,
    results: &mut [Val<E>],
) -> Result<()> {
    let types = &t.plan.types;
    let fe = types.func(t.ty);
    let Some(ty) = fe.def.result else { return Ok(()) };
    let caller = t.opts.instance;
    set_may_leave::<T, E>(ctx, caller, false);
    let mut cx = Cx::new(ctx, &t.opts, types, &t.resources);
    let delivered = match &fe.abi.result_flat {
        Some(flat) => {
            let mut out = FlatBuf::new();
            lower(&mut cx, ty, Dest::Flat(&mut out)).map(|()| {
                for ((slot, b), ft) in results.iter_mut().zip(&out).zip(flat) {
                    *slot = bits_val(*ft, *b);
                }
            })
        }
        None => lower(&mut cx, ty, Dest::Memory(bits.last().copied().unwrap_or(0) as u32)),
    };
    delivered.map_err(|e| e.at(PathSegment::Result))?;
    set_may_leave::<T, E>(ctx, caller, true);
    Ok(())
}

/// Polls every pending host call with `waker`; a ready one delivers its result and resolves its subtask.
/// Returns whether one did.
pub(crate) fn poll_host_calls<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, waker: &Waker) -> Result<bool> {
    let mut progressed = false;
    let n = ctx.data_mut().host_calls.calls.capacity();
    for id in 0..n {
        let calls = &mut ctx.data_mut().host_calls;
        let Ok(call) = calls.calls.get_mut(id) else { continue };
        let Some(future) = call.future.as_mut() else { continue };
        let Poll::Ready(r) = future.as_mut().poll(&mut Context::from_waker(waker)) else { continue };
        call.future = None;
        calls.pending = calls.pending.saturating_sub(1);
        progressed = true;
        finish(ctx, id, r)?;
    }
    Ok(progressed)
}

/// A host call's future is ready: its result goes to the caller, and its subtask resolves.
fn finish<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, id: u32, r: anyhow::Result<Lowerer<T, E>>) -> Result<()> {
    let lower = match r {
        Ok(l) => l,
        Err(e) => {
            ctx.data_mut().host_calls.remove(id);
            return Err(host_error(e));
        }
    };
    let calls = &mut ctx.data_mut().host_calls;
    let call = calls.calls.get_mut(id)?;
    let w = call.waitable;
    match call.sink.is_some() {
        false => call.result = Some(lower),
        true => {
            let call = calls.remove(id).ok_or_else(|| Error::internal("a host call vanished"))?;
            let sink = call.sink.ok_or_else(|| Error::internal("a host call without its sink"))?;
            let opts = (&sink.opts, &*sink.plan, &*sink.resources);
            lower_into_memory(ctx, opts, call.ty, sink.retptr, lower)?;
        }
    }
    notify_resolved(&mut ctx.data_mut().rt, w, true)
}

/// `subtask.cancel` of a host call: its future is dropped, and its subtask resolves as cancelled.
pub(crate) fn cancel<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, w: WaitableId, id: u32) -> Result<()> {
    // Dropping the future runs host code: it must not see the call still registered.
    let call = ctx.data_mut().host_calls.remove(id);
    drop(call);
    notify_resolved(&mut ctx.data_mut().rt, w, false)
}
