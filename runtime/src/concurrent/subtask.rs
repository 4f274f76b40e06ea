//! Async lowering: `canon lower … async` and the subtasks it creates (the spec's `Subtask`), with
//! `subtask.drop` and `subtask.cancel`.
//!
//! An async-lowered call lifts its arguments from the caller (at most `MAX_FLAT_ASYNC_PARAMS` flat values, else a
//! pointer to them) and calls the callee. A host function or a synchronous callee runs to completion and the call
//! returns `RETURNED`. An async callee becomes a task: if it resolves (calls `task.return`) before it first
//! blocks, the call also returns `RETURNED`; otherwise the caller gets a subtask handle packed with its state
//! (`STARTING` if backpressure kept the callee from starting, else `STARTED`), and the callee's result is
//! lowered into the caller's memory at the out-pointer when it resolves, which the caller learns as a
//! `SUBTASK` event. Handles the caller lent for the call stay lent until that event is delivered.
//!
//! Arguments are lifted when the callee starts (the spec's `on_start`), which is at the call unless
//! backpressure, or another task waiting to enter, delays it: a `STARTING` subtask keeps the caller's flat
//! arguments, and the event loop lifts them from the caller's memory and handle table when it starts the
//! callee. Until then the caller still owns the handles it passes and lends nothing; a subtask cancelled before
//! it started lifts nothing at all.

use std::sync::Arc;

use smallvec::SmallVec;
use wasm_runtime_layer::backend::{AsContextMut as _, Val, WasmEngine, WasmStoreContextMut};

use super::event_loop::{as_caller, satisfied};
use super::task::{may_leave, new_task, request_cancellation, start, startable, Entry, Resolver, ResultSink};
use super::waitable::{i32_result, leave_set, take_event, wait_for_event, Pending, Waitable, WaitableKind};
use super::{AsyncTrap, Awaited, TaskId, WaitableId, BLOCKED};
use crate::abi::table::Element;
use crate::abi::types::FuncIdx;
use crate::abi::{val_bits, CallOptions, Cx};
use crate::component::plan::Plan;
use crate::error::{trap, Error, PathSegment, Result, Trap};
use crate::func::call::{call_lifted, host_error, lift_lowered_args, LiftedFunc, LowerTrampoline, Target};
use crate::resources::{ResourceAny, ResourceType};
use crate::store::Ctx;
use crate::store::{RuntimeState, StoreContextMut};
use crate::values::Value;

/// `MAX_FLAT_ASYNC_PARAMS`.
pub(crate) const MAX_FLAT_ASYNC_PARAMS: usize = 4;

/// The spec's `Subtask.State`.
pub(crate) mod state {
    pub const STARTING: u32 = 0;
    pub const STARTED: u32 = 1;
    pub const RETURNED: u32 = 2;
    pub const CANCELLED_BEFORE_STARTED: u32 = 3;
    pub const CANCELLED_BEFORE_RETURNED: u32 = 4;
}

/// The spec's `Subtask`.
pub(crate) struct Subtask {
    pub state: u32,
    /// The callee's task (with `host`: its host call, [`super::host`]).
    pub task: Option<TaskId>,
    /// Whether the callee is an async host function.
    pub host: bool,
    /// Whether its resolution was delivered to the caller.
    pub delivered: bool,
    pub cancellation_requested: bool,
    /// Handles (instance, index) the caller lent for the call.
    pub lenders: Vec<(u32, u32)>,
    /// Host-table entries made for those borrows.
    pub host_borrows: Vec<ResourceAny>,
}

impl Subtask {
    /// Whether the callee returned or was cancelled.
    pub fn resolved(&self) -> bool {
        self.state >= state::RETURNED
    }
}

fn subtask_mut<E: WasmEngine>(rt: &mut RuntimeState<E>, w: WaitableId) -> Result<&mut Subtask> {
    match &mut rt.concurrent.waitables.get_mut(w)?.kind {
        WaitableKind::Subtask(s) => Ok(s),
        WaitableKind::End(_) => trap(Trap::HandleType),
    }
}

/// Records progress on a subtask: an event once the caller holds a handle to it.
fn progress<E: WasmEngine>(rt: &mut RuntimeState<E>, w: WaitableId) -> Result<()> {
    let waitable = rt.concurrent.waitables.get_mut(w)?;
    if waitable.handle != 0 {
        waitable.pending = Some(Pending::Subtask);
    }
    Ok(())
}

/// The callee started (`on_start`).
pub(crate) fn on_start<E: WasmEngine>(rt: &mut RuntimeState<E>, w: WaitableId) -> Result<()> {
    subtask_mut(rt, w)?.state = state::STARTED;
    progress(rt, w)
}

/// The callee resolved (`on_resolve`): returned, or was cancelled.
pub(crate) fn notify_resolved<E: WasmEngine>(rt: &mut RuntimeState<E>, w: WaitableId, returned: bool) -> Result<()> {
    let s = subtask_mut(rt, w)?;
    s.state = match (returned, s.state) {
        (true, _) => state::RETURNED,
        (false, state::STARTING) => state::CANCELLED_BEFORE_STARTED,
        (false, _) => state::CANCELLED_BEFORE_RETURNED,
    };
    progress(rt, w)
}

/// `Subtask.deliver_resolve`: returns the handles lent for the call.
pub(crate) fn deliver_resolve<E: WasmEngine>(rt: &mut RuntimeState<E>, w: WaitableId) -> Result<()> {
    let s = subtask_mut(rt, w)?;
    s.delivered = true;
    let lenders = std::mem::take(&mut s.lenders);
    let borrows = std::mem::take(&mut s.host_borrows);
    release(rt, lenders, borrows);
    Ok(())
}

/// Returns the handles lent for a call and frees the host-table entries made for its borrows.
pub(crate) fn release<E: WasmEngine>(rt: &mut RuntimeState<E>, lenders: Vec<(u32, u32)>, borrows: Vec<ResourceAny>) {
    for (inst, h) in lenders {
        if let Some(Ok(h)) = rt.instances.get_mut(inst as usize).map(|i| i.handles.get_mut(h)) {
            h.num_lends = h.num_lends.saturating_sub(1);
        }
    }
    for b in borrows {
        rt.host.remove(&b);
    }
}

/// The body of an async-lowered trampoline (`canon_lower` with `async`). Returns the packed status.
pub(crate) fn lower_async<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    args: &[Val<E>],
    results: &mut [Val<E>],
) -> Result<()> {
    if let Target::HostAsync(h) = &t.callee {
        return super::host::lower_async(ctx, t, h, args, results);
    }
    let caller = t.opts.instance;
    may_leave(&ctx.data_mut().rt, caller)?;
    let fe = t.plan.types.func(t.ty);
    let bits: SmallVec<[u64; 8]> = args.iter().map(val_bits).collect();
    let retptr = fe.def.result.map(|_| bits.last().copied().unwrap_or(0) as u32);
    let status = match &t.callee {
        Target::Lifted(f) if f.async_ty => start_subtask::<T, E>(ctx, t, f, &bits, retptr)?,
        _ => {
            let lifted = lift_args(ctx, (&t.opts, &t.plan, &t.resources), t.ty, &bits)?;
            let r = call_to_completion::<T, E>(ctx, t, lifted.params)
                .and_then(|v| deliver_now::<T, E>(ctx, t, retptr, v.as_ref()));
            release(&mut ctx.data_mut().rt, lifted.lenders, lifted.host_borrows);
            r?;
            state::RETURNED
        }
    };
    i32_result(results, status);
    Ok(())
}

/// An async lower's arguments, lifted from the caller, with the handles they lent.
struct LiftedArgs {
    params: Vec<Value>,
    lenders: Vec<(u32, u32)>,
    host_borrows: Vec<ResourceAny>,
}

/// The caller's side of an async lower: its options, plan and resources.
type CallerSide<'a, E> = (&'a CallOptions<E>, &'a Arc<Plan>, &'a Arc<[ResourceType]>);

/// Lifts an async lower's arguments (`lift_flat_values` with `MAX_FLAT_ASYNC_PARAMS`): flat when they fit, else
/// from the pointer. A failed lift returns what it lent.
fn lift_args<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    (opts, plan, resources): CallerSide<'_, E>,
    ty: FuncIdx,
    bits: &[u64],
) -> Result<LiftedArgs> {
    let fe = plan.types.func(ty);
    let flat = fe.abi.params_flat.as_ref().map(Vec::len).filter(|&n| n <= MAX_FLAT_ASYNC_PARAMS);
    let mut cx = Cx::new(ctx, opts, &plan.types, resources);
    let mut params = SmallVec::new();
    let lifted = lift_lowered_args(&mut cx, fe, flat, bits, &mut params);
    let (lenders, host_borrows) = (std::mem::take(&mut cx.lenders), std::mem::take(&mut cx.host_borrows));
    drop(cx);
    match lifted {
        Ok(()) => Ok(LiftedArgs { params: params.into_vec(), lenders, host_borrows }),
        Err(e) => {
            release(&mut ctx.data_mut().rt, lenders, host_borrows);
            Err(e)
        }
    }
}

/// Lifts the arguments of task `id`, an async-lowered call whose start was delayed, as the event loop starts it:
/// from its caller's flat arguments `bits`, with the caller's options kept in the task's [`ResultSink`]. The
/// handles they lend are the subtask's from now on.
pub(crate) fn lift_delayed_args<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    id: TaskId,
    bits: &[u64],
) -> Result<Vec<Value>> {
    let rt = &mut ctx.data_mut().rt;
    let Resolver::Subtask(sink) = &rt.concurrent.tasks.get(id)?.resolver else {
        return Err(Error::internal("delayed arguments of a task without a caller"));
    };
    let (w, ty, opts, plan, resources) =
        (sink.waitable, sink.ty, sink.opts.clone(), sink.plan.clone(), sink.resources.clone());
    let lifted = lift_args(ctx, (&opts, &plan, &resources), ty, bits)?;
    let s = subtask_mut(&mut ctx.data_mut().rt, w)?;
    s.lenders = lifted.lenders;
    s.host_borrows = lifted.host_borrows;
    Ok(lifted.params)
}

/// Calls a host function or a synchronous callee for an async lower.
fn call_to_completion<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    params: Vec<Value>,
) -> Result<Option<Value>> {
    let has_result = t.plan.types.func(t.ty).def.result.is_some();
    match &t.callee {
        Target::Host(h) => {
            let mut res: SmallVec<[Value; 1]> = SmallVec::new();
            if has_result {
                res.push(Value::Bool(false));
            }
            h(StoreContextMut { inner: ctx.as_context_mut() }, &params, &mut res).map_err(host_error)?;
            Ok(res.pop())
        }
        Target::Lifted(f) => {
            call_lifted(ctx, f, Some(t.opts.instance), &params[..], None, false, |_, r: Option<Value>, _| Ok(r))
        }
        Target::Typed(_) => Err(Error::unsupported("an async lower of a typed host function (use `func_new`)")),
        Target::HostAsync(_) => Err(Error::internal("an async host function called to completion")),
    }
}

/// Lowers a result into the caller's memory at the out-pointer.
fn deliver_now<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    retptr: Option<u32>,
    v: Option<&Value>,
) -> Result<()> {
    let fe = t.plan.types.func(t.ty);
    let (Some(ty), Some(ptr), Some(v)) = (fe.def.result, retptr, v) else { return Ok(()) };
    let mut cx = Cx::new(ctx, &t.opts, &t.plan.types, &t.resources);
    let lay = t.plan.types.layout(ty).clone();
    cx.check_range(ptr, u64::from(lay.size), lay.align)?;
    cx.store_values(&[ty], &[0], std::slice::from_ref(v), ptr, lay.size).map_err(|e| e.at(PathSegment::Result))
}

/// Starts the callee's task for an async call; returns the status the caller sees. A callee that cannot start
/// yet keeps the caller's flat arguments `bits` until it can ([`lift_delayed_args`]).
fn start_subtask<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    t: &LowerTrampoline<T, E>,
    f: &Arc<LiftedFunc<E>>,
    bits: &[u64],
    retptr: Option<u32>,
) -> Result<u32> {
    let (caller, callee) = (t.opts.instance, f.opts.instance);
    let rt = &ctx.data_mut().rt;
    let now = startable(rt, callee) && rt.instances[callee as usize].num_waiting_to_enter == 0;
    let (params, lenders, host_borrows) = match now {
        true => {
            let a = lift_args(ctx, (&t.opts, &t.plan, &t.resources), t.ty, bits)?;
            (Some(a.params), a.lenders, a.host_borrows)
        }
        false => (None, Vec::new(), Vec::new()),
    };
    let rt = &mut ctx.data_mut().rt;
    let w = rt.concurrent.waitables.insert(Waitable {
        inst: caller,
        handle: 0,
        wset: None,
        pending: None,
        has_sync_waiter: false,
        kind: WaitableKind::Subtask(Subtask {
            state: state::STARTING,
            task: None,
            host: false,
            delivered: false,
            cancellation_requested: false,
            lenders,
            host_borrows,
        }),
    });
    let id = new_task(rt, f.clone(), Resolver::Subtask(Box::new(ResultSink::of(t, w, retptr))));
    subtask_mut(rt, w)?.task = Some(id);
    match params {
        Some(params) => as_caller::<T, E, _>(ctx, Awaited::CalleeBlocks, |ctx| {
            start::<T, E, _>(ctx, id, &params[..], Entry::Call(Some(caller)))
        })?,
        None => {
            rt.concurrent.tasks.get_mut(id)?.args = Some(bits.into());
            rt.instances[callee as usize].num_waiting_to_enter += 1;
        }
    }
    let rt = &mut ctx.data_mut().rt;
    let s = subtask_mut(rt, w)?;
    if s.resolved() {
        deliver_resolve(rt, w)?;
        rt.concurrent.waitables.remove(w);
        return Ok(state::RETURNED);
    }
    let status = s.state;
    let handle = rt.instances[caller as usize].handles.add_element(Element::Waitable(w))?;
    rt.concurrent.waitables.get_mut(w)?.handle = handle;
    Ok(status | (handle << 4))
}

/// `canon subtask.drop`.
pub(crate) fn subtask_drop<E: WasmEngine>(rt: &mut RuntimeState<E>, inst: u32, i: u32) -> Result<()> {
    may_leave(rt, inst)?;
    let w = rt.instances[inst as usize].handles.waitable(i)?;
    if !subtask_mut(rt, w)?.delivered {
        return trap(Trap::Async(AsyncTrap::SubtaskNotResolved));
    }
    leave_set(rt, w)?;
    rt.instances[inst as usize].handles.remove_element(i)?;
    rt.concurrent.waitables.remove(w);
    Ok(())
}

/// `canon subtask.cancel`.
pub(crate) fn subtask_cancel<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    inst: u32,
    async_: bool,
    i: u32,
) -> Result<u32> {
    let rt = &mut ctx.data_mut().rt;
    may_leave(rt, inst)?;
    let w = rt.instances[inst as usize].handles.waitable(i)?;
    let in_set = rt.concurrent.waitables.get(w)?.wset.is_some();
    let s = subtask_mut(rt, w)?;
    if s.delivered {
        return trap(Trap::Async(AsyncTrap::SubtaskDelivered));
    }
    if s.cancellation_requested {
        return trap(Trap::Async(AsyncTrap::CancelTwice));
    }
    if in_set && !async_ {
        return trap(Trap::Async(AsyncTrap::SyncInWaitableSet));
    }
    if !s.resolved() && s.host {
        s.cancellation_requested = true;
        let id = s.task.ok_or_else(|| Error::internal("a host subtask without its call"))?;
        super::host::cancel::<T, E>(ctx, w, id)?;
    } else if !s.resolved() {
        s.cancellation_requested = true;
        let task = s.task.ok_or_else(|| Error::internal("a subtask without its task"))?;
        let awaited = if async_ { Awaited::CalleeBlocks } else { Awaited::Returned(w) };
        as_caller::<T, E, _>(ctx, awaited, |ctx| request_cancellation::<T, E>(ctx, task, inst))?;
        let rt = &mut ctx.data_mut().rt;
        if !subtask_mut(rt, w)?.resolved() {
            if async_ {
                return Ok(BLOCKED);
            }
            wait_for_event::<T, E>(ctx, w)?;
        }
    }
    let rt = &mut ctx.data_mut().rt;
    if !satisfied(rt, Awaited::Event(w)) {
        progress(rt, w)?;
    }
    let (_, _, state) = take_event(rt, w)?;
    Ok(state)
}
