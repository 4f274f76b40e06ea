//! Streams and futures: the spec's `SharedStreamImpl` / `SharedFutureImpl`, their readable and writable ends
//! (`CopyEnd`s, which are waitables), guest buffers, and the `stream.*` / `future.*` built-ins.
//!
//! A copy is a rendezvous. The first end to call `read` or `write` leaves its buffer *pending* in the shared
//! state; the other end's matching call copies `min(remaining, remaining)` elements straight from one guest
//! memory into the other, and both ends get a `COMPLETED` event. The pending end's buffer stays pending until
//! its event is delivered (`reclaim_buffer`), so several copies of the other end can fill it meanwhile, as the
//! spec allows. Dropping one end notifies a pending copy of the other with `DROPPED`; cancelling a pending copy
//! notifies it with `CANCELLED`.
//!
//! Elements of number types are copied as bytes; other element types are lifted from the source memory and
//! lowered into the destination (strings and lists through the destination's `realloc`, owned handles moved
//! between the two instances' tables).

use std::sync::Arc;

use wasm_runtime_layer::backend::{WasmEngine, WasmStoreContextMut};

use super::builtins::BuiltinFunc;
use super::task::may_leave;
use super::waitable::{leave_set, take_event, wait_for_event, Pending, Waitable, WaitableKind};
use super::{event, AsyncTrap, SharedId, WaitableId, BLOCKED};
use crate::abi::layout::MAX_BYTE_LENGTH;
use crate::abi::table::Element;
use crate::abi::types::{Ty, TypeDef};
use crate::abi::{CallOptions, Cx};
use crate::component::plan::{CopyKind, Plan};
use crate::error::{trap, Error, Result, Trap};
use crate::resources::ResourceType;
use crate::store::Ctx;
use crate::store::RuntimeState;

/// The spec's `CopyResult`.
pub(crate) mod result {
    pub const COMPLETED: u32 = 0;
    pub const DROPPED: u32 = 1;
    pub const CANCELLED: u32 = 2;
}

/// The spec's `CopyState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CopyState {
    Idle,
    Copying,
    Cancelling,
    Done,
}

/// The state two ends share.
pub(crate) struct Shared {
    pub kind: CopyKind,
    pub dropped: bool,
    /// The end whose copy waits for the other end.
    pub pending: Option<WaitableId>,
    /// The host's end, when the other end is the host's ([`super::host_stream`]).
    pub host: Option<super::host_stream::HostEnd>,
}

/// An end of a stream or future (`ReadableStreamEnd`, `WritableFutureEnd`, …).
pub(crate) struct End {
    pub shared: SharedId,
    pub readable: bool,
    pub state: CopyState,
    /// The buffer of the copy in progress.
    pub buffer: Option<u32>,
    /// Elements copied by the copy in progress.
    pub progress: u32,
}

/// A guest buffer (`BufferGuestImpl`): `length` elements at `ptr` in the memory of `opts`.
pub(crate) struct GuestBuffer<E: WasmEngine> {
    pub opts: CallOptions<E>,
    pub plan: Arc<Plan>,
    pub resources: Arc<[ResourceType]>,
    pub elem: Option<Ty>,
    pub ptr: u32,
    pub length: u32,
    pub progress: u32,
}

impl<E: WasmEngine> GuestBuffer<E> {
    fn remain(&self) -> u32 {
        self.length - self.progress
    }
}

/// The element type of a stream or future type.
fn elem_of(plan: &Plan, ty: Ty) -> Option<Ty> {
    match ty {
        Ty::Defined(i) => match plan.types.def(i) {
            TypeDef::Stream(t) | TypeDef::Future(t) => *t,
            _ => None,
        },
        _ => None,
    }
}

/// `none_or_number_type`.
fn none_or_number(t: Option<Ty>) -> bool {
    matches!(
        t,
        None | Some(Ty::U8 | Ty::U16 | Ty::U32 | Ty::U64 | Ty::S8 | Ty::S16 | Ty::S32 | Ty::S64 | Ty::F32 | Ty::F64)
    )
}

fn end_mut<E: WasmEngine>(rt: &mut RuntimeState<E>, w: WaitableId) -> Result<&mut End> {
    match &mut rt.concurrent.waitables.get_mut(w)?.kind {
        WaitableKind::End(e) => Ok(e),
        WaitableKind::Subtask(_) => trap(Trap::HandleType),
    }
}

/// The end at handle `i` of `inst`, checked to be of the built-in's kind and direction.
fn end_at<E: WasmEngine>(
    rt: &mut RuntimeState<E>,
    inst: u32,
    i: u32,
    kind: CopyKind,
    readable: bool,
) -> Result<WaitableId> {
    let w = rt.instances[inst as usize].handles.waitable(i)?;
    let shared = {
        let e = end_mut(rt, w)?;
        if e.readable != readable {
            return trap(Trap::HandleType);
        }
        e.shared
    };
    if rt.concurrent.shared.get(shared)?.kind != kind {
        return trap(Trap::HandleType);
    }
    Ok(w)
}

/// `canon stream.new` / `canon future.new`: both ends in the instance's table; returns `ri | wi << 32`.
pub(crate) fn new<E: WasmEngine>(rt: &mut RuntimeState<E>, inst: u32, kind: CopyKind) -> Result<u64> {
    may_leave(rt, inst)?;
    let shared = rt.concurrent.shared.insert(Shared { kind, dropped: false, pending: None, host: None });
    let ri = add_end(rt, inst, shared, true)?;
    let wi = add_end(rt, inst, shared, false)?;
    Ok(u64::from(ri) | (u64::from(wi) << 32))
}

/// Adds an end of `shared` to `inst`'s table.
pub(crate) fn add_end<E: WasmEngine>(
    rt: &mut RuntimeState<E>,
    inst: u32,
    shared: SharedId,
    readable: bool,
) -> Result<u32> {
    let end = End { shared, readable, state: CopyState::Idle, buffer: None, progress: 0 };
    let w = rt.concurrent.waitables.insert(Waitable {
        inst,
        handle: 0,
        wset: None,
        pending: None,
        has_sync_waiter: false,
        kind: WaitableKind::End(end),
    });
    let h = rt.instances[inst as usize].handles.add_element(Element::Waitable(w))?;
    rt.concurrent.waitables.get_mut(w)?.handle = h;
    Ok(h)
}

/// `canon {stream,future}.{read,write}`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn copy<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    b: &BuiltinFunc<E>,
    kind: CopyKind,
    ty: Ty,
    async_: bool,
    readable: bool,
    i: u32,
    ptr: u32,
    n: u32,
) -> Result<u32> {
    let inst = b.inst;
    let rt = &mut ctx.data_mut().rt;
    may_leave(rt, inst)?;
    let w = end_at(rt, inst, i, kind, readable)?;
    let in_set = rt.concurrent.waitables.get(w)?.wset.is_some();
    if end_mut(rt, w)?.state != CopyState::Idle {
        return trap(Trap::Async(AsyncTrap::CopyNotIdle));
    }
    if in_set && !async_ {
        return trap(Trap::Async(AsyncTrap::SyncInWaitableSet));
    }
    let elem = elem_of(&b.plan, ty);
    let buffer = new_buffer::<T, E>(ctx, b, elem, ptr, n)?;
    let rt = &mut ctx.data_mut().rt;
    let buffer = rt.concurrent.buffers.insert(buffer);
    let end = end_mut(rt, w)?;
    end.state = CopyState::Copying;
    end.buffer = Some(buffer);
    end.progress = 0;
    rendezvous::<T, E>(ctx, w, inst, kind, readable, elem)?;
    finish::<T, E>(ctx, w, async_)
}

/// The end of a copy or cancel on end `w`: its event's payload, waiting for it in a synchronous call; an async
/// call without one returns `BLOCKED`.
fn finish<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, w: WaitableId, async_: bool) -> Result<u32> {
    if ctx.data_mut().rt.concurrent.waitables.get(w)?.pending.is_none() {
        if async_ {
            return Ok(BLOCKED);
        }
        wait_for_event::<T, E>(ctx, w)?;
    }
    let (_, _, payload) = take_event(&mut ctx.data_mut().rt, w)?;
    Ok(payload)
}

/// `BufferGuestImpl.__init__`: the length limit, alignment and bounds.
fn new_buffer<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    b: &BuiltinFunc<E>,
    elem: Option<Ty>,
    ptr: u32,
    length: u32,
) -> Result<GuestBuffer<E>> {
    if u64::from(length) > MAX_BYTE_LENGTH {
        return trap(Trap::Async(AsyncTrap::CopyTooLong));
    }
    if let (Some(t), true) = (elem, length > 0) {
        let lay = b.plan.types.layout(t).clone();
        let mut cx = Cx::new(ctx, &b.opts, &b.plan.types, &b.resources);
        cx.check_range(ptr, u64::from(length) * u64::from(lay.size), lay.align)?;
    }
    Ok(GuestBuffer {
        opts: b.opts.clone(),
        plan: b.plan.clone(),
        resources: b.resources.clone(),
        elem,
        ptr,
        length,
        progress: 0,
    })
}

/// The shared state's `read` / `write`: meets a pending copy of the other end, or becomes the pending one.
fn rendezvous<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    w: WaitableId,
    inst: u32,
    kind: CopyKind,
    readable: bool,
    elem: Option<Ty>,
) -> Result<()> {
    let rt = &mut ctx.data_mut().rt;
    let shared_id = end_mut(rt, w)?.shared;
    let shared = rt.concurrent.shared.get_mut(shared_id)?;
    if shared.host.is_some() {
        // The other end is the host's: serve the copy from (or into) its channel now, or wait for the host.
        shared.pending = Some(w);
        if !super::host_stream::service::<T, E>(ctx, shared_id, None)? {
            ctx.data_mut().rt.concurrent.host_waits.push(shared_id);
        }
        return Ok(());
    }
    if shared.dropped && !(kind == CopyKind::Future && readable) {
        return notify(rt, w, result::DROPPED, false);
    }
    let Some(other) = shared.pending else {
        shared.pending = Some(w);
        return Ok(());
    };
    if rt.concurrent.waitables.get(other)?.inst == inst && !none_or_number(elem) {
        return trap(Trap::Async(AsyncTrap::IntraInstanceCopy));
    }
    let (mine, theirs) = (buffer_of(rt, w)?, buffer_of(rt, other)?);
    let (their_remain, my_remain, mine_zero, theirs_zero) = {
        let b = &rt.concurrent.buffers;
        let (m, t) = (b.get(mine)?, b.get(theirs)?);
        (t.remain(), m.remain(), m.length == 0, t.length == 0)
    };
    if kind == CopyKind::Future {
        let (src, dst) = if readable { (theirs, mine) } else { (mine, theirs) };
        transfer::<T, E>(ctx, src, dst, 1)?;
        let rt = &mut ctx.data_mut().rt;
        set_progress(rt, w, other, 1)?;
        rt.concurrent.shared.get_mut(shared_id)?.pending = None;
        notify(rt, other, result::COMPLETED, false)?;
        return notify(rt, w, result::COMPLETED, false);
    }
    if their_remain > 0 {
        if my_remain > 0 {
            let n = my_remain.min(their_remain);
            let (src, dst) = if readable { (theirs, mine) } else { (mine, theirs) };
            transfer::<T, E>(ctx, src, dst, n)?;
            set_progress(&mut ctx.data_mut().rt, w, other, n)?;
            notify(&mut ctx.data_mut().rt, other, result::COMPLETED, true)?;
        }
        return notify(&mut ctx.data_mut().rt, w, result::COMPLETED, false);
    }
    if !readable && mine_zero && theirs_zero {
        return notify(rt, w, result::COMPLETED, false);
    }
    rt.concurrent.shared.get_mut(shared_id)?.pending = None;
    notify(rt, other, result::COMPLETED, false)?;
    rt.concurrent.shared.get_mut(shared_id)?.pending = Some(w);
    Ok(())
}

pub(crate) fn buffer_of<E: WasmEngine>(rt: &mut RuntimeState<E>, w: WaitableId) -> Result<u32> {
    end_mut(rt, w)?.buffer.ok_or_else(|| Error::internal("a copying end without its buffer"))
}

/// Counts `n` more elements copied by both ends.
fn set_progress<E: WasmEngine>(rt: &mut RuntimeState<E>, a: WaitableId, b: WaitableId, n: u32) -> Result<()> {
    advance(rt, &[a, b], n)
}

/// Counts `n` more elements copied by `ends`.
pub(crate) fn advance<E: WasmEngine>(rt: &mut RuntimeState<E>, ends: &[WaitableId], n: u32) -> Result<()> {
    for &w in ends {
        let buffer = buffer_of(rt, w)?;
        rt.concurrent.buffers.get_mut(buffer)?.progress += n;
        end_mut(rt, w)?.progress += n;
    }
    Ok(())
}

/// Gives end `w` a pending copy event; with `reclaim`, delivering it ends the end's pending copy.
pub(crate) fn notify<E: WasmEngine>(rt: &mut RuntimeState<E>, w: WaitableId, result: u32, reclaim: bool) -> Result<()> {
    rt.concurrent.waitables.get_mut(w)?.pending = Some(Pending::Copy { result, reclaim });
    Ok(())
}

/// Copies `n` elements from buffer `src` to buffer `dst`, at their current positions.
fn transfer<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, src: u32, dst: u32, n: u32) -> Result<()> {
    let rt = &mut ctx.data_mut().rt;
    let (s, d) = (rt.concurrent.buffers.get(src)?, rt.concurrent.buffers.get(dst)?);
    let Some(elem) = s.elem else { return Ok(()) };
    let (s_opts, s_plan, s_res) = (s.opts.clone(), s.plan.clone(), s.resources.clone());
    let (d_opts, d_plan, d_res) = (d.opts.clone(), d.plan.clone(), d.resources.clone());
    let size = s_plan.types.layout(elem).size;
    let s_ptr = s.ptr + s.progress * size;
    let d_ptr = d.ptr + d.progress * size;
    let bytes = (n * size) as usize;
    let data = Cx::new(ctx, &s_opts, &s_plan.types, &s_res).read(s_ptr, bytes)?;
    if none_or_number(Some(elem)) {
        return Cx::new(ctx, &d_opts, &d_plan.types, &d_res).write(d_ptr, &data);
    }
    let mut values = Vec::with_capacity(n as usize);
    {
        let mut cx = Cx::new(ctx, &s_opts, &s_plan.types, &s_res);
        cx.view(&data, s_ptr);
        for k in 0..n {
            values.push(cx.load(elem, &data, (k * size) as usize)?);
        }
    }
    let mut cx = Cx::new(ctx, &d_opts, &d_plan.types, &d_res);
    for (k, v) in values.iter().enumerate() {
        cx.store_values(&[elem], &[0], std::slice::from_ref(v), d_ptr + k as u32 * size, size)?;
    }
    Ok(())
}

/// Delivers a copy event: the end becomes idle (or done), and the event's payload is built.
pub(crate) fn copy_event<E: WasmEngine>(
    rt: &mut RuntimeState<E>,
    w: WaitableId,
    result: u32,
    reclaim: bool,
) -> Result<(u32, u32, u32)> {
    let handle = rt.concurrent.waitables.get(w)?.handle;
    let end = end_mut(rt, w)?;
    let (shared, readable, progress, buffer) = (end.shared, end.readable, end.progress, end.buffer.take());
    let kind = rt.concurrent.shared.get(shared)?.kind;
    let done = result == result::DROPPED || (kind == CopyKind::Future && result == result::COMPLETED);
    let end = end_mut(rt, w)?;
    end.state = if done { CopyState::Done } else { CopyState::Idle };
    end.progress = 0;
    // `reclaim_buffer`: the end's buffer stops being the pending one once its event is delivered.
    let s = rt.concurrent.shared.get_mut(shared)?;
    if s.pending == Some(w) {
        debug_assert!(reclaim, "only a reclaiming event is delivered to the pending end");
        s.pending = None;
    }
    if let Some(b) = buffer {
        rt.concurrent.buffers.remove(b);
    }
    Ok(match (kind, readable) {
        (CopyKind::Stream, true) => (event::STREAM_READ, handle, result | (progress << 4)),
        (CopyKind::Stream, false) => (event::STREAM_WRITE, handle, result | (progress << 4)),
        (CopyKind::Future, true) => (event::FUTURE_READ, handle, result),
        (CopyKind::Future, false) => (event::FUTURE_WRITE, handle, result),
    })
}

/// `canon {stream,future}.cancel-{read,write}`.
pub(crate) fn cancel<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    inst: u32,
    kind: CopyKind,
    readable: bool,
    async_: bool,
    i: u32,
) -> Result<u32> {
    let rt = &mut ctx.data_mut().rt;
    may_leave(rt, inst)?;
    let w = end_at(rt, inst, i, kind, readable)?;
    let waitable = rt.concurrent.waitables.get(w)?;
    let (in_set, sync_waiter) = (waitable.wset.is_some(), waitable.has_sync_waiter);
    let end = end_mut(rt, w)?;
    if end.state != CopyState::Copying || sync_waiter {
        return trap(Trap::Async(AsyncTrap::NothingToCancel));
    }
    if in_set && !async_ {
        return trap(Trap::Async(AsyncTrap::SyncInWaitableSet));
    }
    end.state = CopyState::Cancelling;
    let shared = end.shared;
    if rt.concurrent.waitables.get(w)?.pending.is_none() {
        let s = rt.concurrent.shared.get_mut(shared)?;
        if let Some(p) = s.pending.take() {
            notify(rt, p, result::CANCELLED, false)?;
        }
    }
    finish::<T, E>(ctx, w, async_)
}

/// `canon {stream,future}.drop-{readable,writable}`.
pub(crate) fn drop_end<E: WasmEngine>(
    rt: &mut RuntimeState<E>,
    inst: u32,
    kind: CopyKind,
    readable: bool,
    i: u32,
) -> Result<()> {
    may_leave(rt, inst)?;
    let w = end_at(rt, inst, i, kind, readable)?;
    let end = end_mut(rt, w)?;
    if matches!(end.state, CopyState::Copying | CopyState::Cancelling) {
        return trap(Trap::Async(AsyncTrap::DropBusy));
    }
    if kind == CopyKind::Future && !readable && end.state != CopyState::Done {
        return trap(Trap::Async(AsyncTrap::FutureNotWritten));
    }
    let shared = end.shared;
    drop_shared(rt, shared)?;
    leave_set(rt, w)?;
    rt.instances[inst as usize].handles.remove_element(i)?;
    rt.concurrent.waitables.remove(w);
    Ok(())
}

/// `SharedStreamImpl.drop`: a pending copy of the other end learns that this end is gone; the second drop frees
/// the shared state.
fn drop_shared<E: WasmEngine>(rt: &mut RuntimeState<E>, shared: SharedId) -> Result<()> {
    let s = rt.concurrent.shared.get_mut(shared)?;
    if let Some(host) = s.host.take() {
        // The host's end learns it from the channel; the store forgets the stream.
        super::host_stream::guest_dropped(&host);
        rt.concurrent.shared.remove(shared);
        return Ok(());
    }
    if s.dropped {
        rt.concurrent.shared.remove(shared);
        return Ok(());
    }
    s.dropped = true;
    if let Some(p) = s.pending.take() {
        notify(rt, p, result::DROPPED, false)?;
    }
    Ok(())
}
