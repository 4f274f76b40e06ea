//! Waitables and waitable sets: the spec's `Waitable` (a subtask, or an end of a stream or future, with at most
//! one pending event) and `WaitableSet` (what a task waits on), with the `waitable-set.*` and `waitable.join`
//! built-ins.
//!
//! A waitable's state lives in the store's slab; the handle table of its instance names it
//! ([`crate::abi::table::Element::Waitable`]). A waitable set is itself a handle-table element, holding the ids
//! of its members. An event is *pending* on a waitable until it is delivered; delivering it
//! ([`take_event`]) is what makes its effects visible — a subtask's resolution releases the caller's lent
//! handles, a copy's completion makes its end idle again.

use wasm_runtime_layer::backend::{Val, WasmEngine, WasmStoreContextMut};

use super::builtins::{store_u32s, BuiltinFunc};
use super::copy::End;
use super::event_loop::block_on;
use super::subtask::Subtask;
use super::task::{current_async, may_leave, TaskState};
use super::{event, AsyncTrap, Awaited, Current, WaitableId};
use crate::abi::table::Element;
use crate::error::{trap, Error, Result, Trap};
use crate::store::Ctx;
use crate::store::RuntimeState;

/// The spec's `Waitable`.
pub(crate) struct Waitable {
    /// The instance whose table names it.
    pub inst: u32,
    /// Its handle there (0 while it has none: a subtask is named only once its call blocks).
    pub handle: u32,
    /// The waitable set it is joined to (a handle in the same table).
    pub wset: Option<u32>,
    /// Its pending event, if any.
    pub pending: Option<Pending>,
    /// Whether a frame waits on it synchronously.
    pub has_sync_waiter: bool,
    pub kind: WaitableKind,
}

/// A pending event, turned into the spec's event tuple when delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    /// A subtask made progress (started or resolved).
    Subtask,
    /// A copy finished with this `CopyResult`; with `reclaim`, delivering it ends the end's pending copy.
    Copy { result: u32, reclaim: bool },
}

/// What kind of waitable.
pub(crate) enum WaitableKind {
    Subtask(Subtask),
    End(End),
}

/// The spec's `WaitableSet`.
#[derive(Debug, Default)]
pub struct WaitableSet {
    /// Its members.
    pub elems: Vec<WaitableId>,
    /// Tasks waiting on it.
    pub num_waiting: u32,
}

/// Whether the waitable set `si` of instance `inst` has a member with a pending event.
pub(crate) fn set_has_event<E: WasmEngine>(rt: &RuntimeState<E>, inst: u32, si: u32) -> bool {
    let Some(i) = rt.instances.get(inst as usize) else { return false };
    match i.handles.element(si) {
        Ok(Element::WaitableSet(s)) => {
            s.elems.iter().any(|w| rt.concurrent.waitables.get(*w).is_ok_and(|w| w.pending.is_some()))
        }
        _ => false,
    }
}

/// Delivers the pending event of one member of set `si` (`WaitableSet.get_pending_event`).
pub(crate) fn take_set_event<E: WasmEngine>(rt: &mut RuntimeState<E>, inst: u32, si: u32) -> Result<(u32, u32, u32)> {
    let set = rt.instances[inst as usize].handles.waitable_set(si)?;
    let w = set.elems.iter().copied().find(|w| rt.concurrent.waitables.get(*w).is_ok_and(|w| w.pending.is_some()));
    match w {
        Some(w) => take_event(rt, w),
        None => Err(Error::internal("no pending event in the waitable set")),
    }
}

/// Delivers waitable `w`'s pending event (`Waitable.get_pending_event`).
pub(crate) fn take_event<E: WasmEngine>(rt: &mut RuntimeState<E>, w: WaitableId) -> Result<(u32, u32, u32)> {
    let waitable = rt.concurrent.waitables.get_mut(w)?;
    let pending = waitable.pending.take().ok_or_else(|| Error::internal("no pending event"))?;
    let handle = waitable.handle;
    match (pending, &mut waitable.kind) {
        (Pending::Subtask, WaitableKind::Subtask(s)) => {
            let state = s.state;
            if s.resolved() && !s.delivered {
                super::subtask::deliver_resolve(rt, w)?;
            }
            Ok((event::SUBTASK, handle, state))
        }
        (Pending::Copy { result, reclaim }, WaitableKind::End(_)) => super::copy::copy_event(rt, w, result, reclaim),
        _ => Err(Error::internal("an event of the wrong kind")),
    }
}

/// Removes `w` from its waitable set, if any (`Waitable.join(None)`).
pub(crate) fn leave_set<E: WasmEngine>(rt: &mut RuntimeState<E>, w: WaitableId) -> Result<()> {
    let waitable = rt.concurrent.waitables.get_mut(w)?;
    let (inst, old) = (waitable.inst, waitable.wset.take());
    if let Some(si) = old {
        if let Ok(set) = rt.instances[inst as usize].handles.waitable_set(si) {
            set.elems.retain(|x| *x != w);
        }
    }
    Ok(())
}

/// `canon waitable-set.new`.
pub(crate) fn waitable_set_new<E: WasmEngine>(rt: &mut RuntimeState<E>, inst: u32) -> Result<u32> {
    may_leave(rt, inst)?;
    rt.instances[inst as usize].handles.add_element(Element::WaitableSet(WaitableSet::default()))
}

/// `canon waitable-set.wait`: blocks until a member of the set has an event, and stores it at `ptr`.
pub(crate) fn waitable_set_wait<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    b: &BuiltinFunc<E>,
    cancellable: bool,
    si: u32,
    ptr: u32,
) -> Result<u32> {
    let inst = b.inst;
    let rt = &mut ctx.data_mut().rt;
    may_leave(rt, inst)?;
    rt.instances[inst as usize].handles.waitable_set(si)?.num_waiting += 1;
    let ev = if cancellable && take_pending_cancel(rt)? {
        Ok((event::TASK_CANCELLED, 0, 0))
    } else {
        block_on::<T, E>(ctx, Awaited::SetEvent(inst, si))
            .and_then(|()| take_set_event(&mut ctx.data_mut().rt, inst, si))
    };
    let rt = &mut ctx.data_mut().rt;
    if let Ok(set) = rt.instances[inst as usize].handles.waitable_set(si) {
        set.num_waiting = set.num_waiting.saturating_sub(1);
    }
    deliver_event::<T, E>(ctx, b, ev?, ptr)
}

/// `canon waitable-set.poll`: the pending event of a member of the set, or `NONE`, without blocking.
pub(crate) fn waitable_set_poll<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    b: &BuiltinFunc<E>,
    cancellable: bool,
    si: u32,
    ptr: u32,
) -> Result<u32> {
    let inst = b.inst;
    let rt = &mut ctx.data_mut().rt;
    may_leave(rt, inst)?;
    rt.instances[inst as usize].handles.waitable_set(si)?;
    let ev = if cancellable && take_pending_cancel(rt)? {
        (event::TASK_CANCELLED, 0, 0)
    } else if set_has_event(rt, inst, si) {
        take_set_event(rt, inst, si)?
    } else {
        (event::NONE, 0, 0)
    };
    deliver_event::<T, E>(ctx, b, ev, ptr)
}

/// Delivers a cancellation pending on the current task (`Task.deliver_pending_cancel`).
fn take_pending_cancel<E: WasmEngine>(rt: &mut RuntimeState<E>) -> Result<bool> {
    if !matches!(rt.concurrent.current, Current::Async(_)) {
        return Ok(false);
    }
    let task = rt.concurrent.tasks.get_mut(current_async(rt)?)?;
    if task.state == TaskState::PendingCancel {
        task.state = TaskState::CancelDelivered;
        return Ok(true);
    }
    Ok(false)
}

/// `unpack_event`: stores the event's payload at `ptr` and returns its code.
fn deliver_event<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    b: &BuiltinFunc<E>,
    (code, p1, p2): (u32, u32, u32),
    ptr: u32,
) -> Result<u32> {
    store_u32s::<T, E>(ctx, &b.opts, ptr, &[p1, p2])?;
    Ok(code)
}

/// `canon waitable-set.drop`.
pub(crate) fn waitable_set_drop<E: WasmEngine>(rt: &mut RuntimeState<E>, inst: u32, si: u32) -> Result<()> {
    may_leave(rt, inst)?;
    let set = rt.instances[inst as usize].handles.waitable_set(si)?;
    if !set.elems.is_empty() {
        return trap(Trap::Async(AsyncTrap::SetNotEmpty));
    }
    if set.num_waiting > 0 {
        return trap(Trap::Async(AsyncTrap::SetHasWaiters));
    }
    rt.instances[inst as usize].handles.remove_element(si)?;
    Ok(())
}

/// `canon waitable.join`: moves waitable `wi` into set `si` (0: out of any set).
pub(crate) fn waitable_join<E: WasmEngine>(rt: &mut RuntimeState<E>, inst: u32, wi: u32, si: u32) -> Result<()> {
    may_leave(rt, inst)?;
    let w = rt.instances[inst as usize].handles.waitable(wi)?;
    if rt.concurrent.waitables.get(w)?.has_sync_waiter {
        return trap(Trap::Async(AsyncTrap::SyncInWaitableSet));
    }
    if si != 0 {
        rt.instances[inst as usize].handles.waitable_set(si)?;
    }
    leave_set(rt, w)?;
    if si != 0 {
        rt.instances[inst as usize].handles.waitable_set(si)?.elems.push(w);
        rt.concurrent.waitables.get_mut(w)?.wset = Some(si);
    }
    Ok(())
}

/// Blocks the current frame until waitable `w` has an event (`Waitable.wait_for_pending_event`).
pub(crate) fn wait_for_event<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, w: WaitableId) -> Result<()> {
    ctx.data_mut().rt.concurrent.waitables.get_mut(w)?.has_sync_waiter = true;
    let r = block_on::<T, E>(ctx, Awaited::Event(w));
    if let Ok(waitable) = ctx.data_mut().rt.concurrent.waitables.get_mut(w) {
        waitable.has_sync_waiter = false;
    }
    r
}

/// The core result of a built-in that returns an `i32`.
pub(crate) fn i32_result<E: WasmEngine>(results: &mut [Val<E>], v: u32) {
    if let Some(r) = results.first_mut() {
        *r = Val::I32(v as i32);
    }
}
