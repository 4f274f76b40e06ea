//! The event loop: runs ready tasks with ordinary core calls until what its caller waits for has happened.
//!
//! Two drivers share it. [`drive_from_host`] is the host's call of an async function (the spec's `Store.tick`
//! repeated): any ready task runs. [`block_on`] is a core frame that blocks (a synchronous `waitable-set.wait`, a
//! synchronous call of an async function, a synchronous stream or future operation): the loop runs nested on top
//! of that frame, which stays on the native stack. Every frame below it waits on the one above, so the spec
//! would have suspended them all and left their instances: the nested loop enters instances regardless of the
//! frames below (`may_enter` is about synchronous reentrance, which suspended frames do not count for), but
//! respects the exclusive lock of a callback-lifted task whose core code is among them. What may run depends on
//! the innermost *synchronous* task below, as in the spec: then only tasks of its instance (and the loop traps
//! with [`Trap::CannotBlockSync`] if none can go on); otherwise any.
//!
//! **Host futures.** Pending async host calls ([`super::host`]) are polled before every step, so that guests
//! spinning on `thread.yield` cannot starve them. When no task is ready but a host future is pending, the loop
//! waits for it as its [`Sleep`] says: a loop run for [`crate::Func::call_async`] returns `Poll::Pending` (the
//! future's waker is the caller's); every other loop — a synchronous [`crate::Func::call`], and every loop nested
//! on a blocked core frame, which cannot return without unwinding the guest — *parks the thread*
//! ([`std::thread::park`]) until a host future wakes it. It does not spin: a future that is never woken blocks
//! that call forever, and a future that needs the calling thread to make progress (a single-threaded executor's
//! timer, say) deadlocks it; such futures need [`crate::Func::call_async`] and guests that do not block
//! synchronously on them.
//!
//! Nesting is bounded ([`super::MAX_LOOP_DEPTH`]). A loop that can make no progress classifies why (see the
//! module docs of [`super`]): [`Trap::NeedsStackSwitching`] when the spec would resume a frame below this one or
//! enter an instance such a frame occupies, [`Trap::Deadlock`] otherwise.

use std::sync::Arc;
use std::task::{Poll, Wake, Waker};

use wasm_runtime_layer::backend::{WasmEngine, WasmStoreContextMut};

use super::host::poll_host_calls;
use super::host_stream::poll_host_ends;
use super::task::{ready, resume, Entry, TaskState, Wait};
use super::{Awaited, Current, TaskId, MAX_LOOP_DEPTH};
use crate::error::{trap, Result, Trap};
use crate::store::Ctx;
use crate::store::RuntimeState;

/// How many steps a nested loop takes while a blocked frame below it could go on, before it gives up.
const MAX_STEPS_PAST_OUTER: u32 = 10_000;

/// Which tasks a loop may run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Tasks of instances that may be entered from the host.
    Any,
    /// Tasks of this instance only (a synchronous task is blocked).
    Instance(u32),
}

/// How a loop waits when only host futures can make progress.
#[derive(Clone, Copy)]
pub(crate) enum Sleep<'w> {
    /// Park the thread until a host future wakes it.
    Park,
    /// Return `Poll::Pending`, with the futures registered to wake this waker.
    Yield(&'w Waker),
}

/// Wakes a parked thread.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs the loop for the host until `awaited` holds; with [`Sleep::Yield`], `Poll::Pending` when only host
/// futures can make progress.
pub(crate) fn drive_from_host<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    awaited: Awaited,
    sleep: Sleep<'_>,
) -> Result<Poll<()>> {
    run::<T, E>(ctx, awaited, Scope::Any, Driver::Host, sleep)
}

/// Who runs a loop.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Driver {
    /// The host, with no core frame blocked below.
    Host,
    /// A blocked core frame.
    Frame,
}

/// Blocks the current frame until `awaited` holds, running the loop nested on top of it.
pub(crate) fn block_on<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, awaited: Awaited) -> Result<()> {
    let rt = &mut ctx.data_mut().rt;
    if satisfied(rt, awaited) {
        return Ok(());
    }
    // Core code running outside any task (a start function) cannot block.
    if rt.concurrent.current == Current::None {
        return trap(Trap::CannotBlockSync);
    }
    // Every frame below a blocked one waits on the frame above it, so all of them are blocked: the spec would
    // have suspended them. The innermost synchronous task among them decides, as its `canon_lift` loop would:
    // only tasks of its instance may run.
    let scope = match rt.tasks.last() {
        Some(t) => Scope::Instance(t.inst),
        None => Scope::Any,
    };
    match run::<T, E>(ctx, awaited, scope, Driver::Frame, Sleep::Park)? {
        Poll::Ready(()) => Ok(()),
        Poll::Pending => Err(crate::Error::internal("a parking loop returned pending")),
    }
}

fn run<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    awaited: Awaited,
    scope: Scope,
    driver: Driver,
    sleep: Sleep<'_>,
) -> Result<Poll<()>> {
    let rt = &mut ctx.data_mut().rt;
    if rt.concurrent.loops >= MAX_LOOP_DEPTH {
        return trap(Trap::CallStackExhausted);
    }
    rt.concurrent.loops += 1;
    rt.concurrent.blocked.push(awaited);
    let r = run_until::<T, E>(ctx, awaited, scope, driver, sleep);
    let rt = &mut ctx.data_mut().rt;
    rt.concurrent.blocked.pop();
    rt.concurrent.loops -= 1;
    r
}

/// Runs `call`, which starts a task (or delivers it a cancellation) for a caller frame that waits for `awaited`
/// meanwhile. The callee's core code runs above the caller's frame on the native stack; if it blocks and the
/// loop nested on it gets stuck while `awaited` holds, the spec would have suspended the callee and gone on in
/// the caller — so the failure is [`Trap::NeedsStackSwitching`], not a deadlock.
pub(crate) fn as_caller<T: 'static, E: WasmEngine, R>(
    ctx: &mut Ctx<'_, T, E>,
    awaited: Awaited,
    call: impl FnOnce(&mut Ctx<'_, T, E>) -> Result<R>,
) -> Result<R> {
    ctx.data_mut().rt.concurrent.blocked.push(awaited);
    let r = call(ctx);
    ctx.data_mut().rt.concurrent.blocked.pop();
    r
}

fn run_until<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    awaited: Awaited,
    scope: Scope,
    driver: Driver,
    sleep: Sleep<'_>,
) -> Result<Poll<()>> {
    let (mut steps_past_outer, mut yields) = (0, 0);
    let mut parker: Option<Waker> = None;
    loop {
        let mut waiting_for_host = host_pending::<T, E>(ctx);
        if waiting_for_host {
            let waker = match sleep {
                Sleep::Yield(w) => w,
                Sleep::Park => parker.get_or_insert_with(|| Waker::from(Arc::new(Unpark(std::thread::current())))),
            };
            let calls = poll_host_calls::<T, E>(ctx, waker)?;
            if poll_host_ends::<T, E>(ctx, waker)? || calls {
                // The host made progress: a task yielding meanwhile was not (only) waiting for a frame below.
                yields = 0;
            }
            waiting_for_host = host_pending::<T, E>(ctx);
        }
        let rt = &mut ctx.data_mut().rt;
        if satisfied(rt, awaited) {
            return Ok(Poll::Ready(()));
        }
        // A frame below could go on (the spec would resume it sooner or later) while this loop only keeps other
        // tasks busy, typically yielding: past a bound, this is the livelock of a frame that cannot be suspended.
        if outer_could_go_on(rt) {
            steps_past_outer += 1;
            if steps_past_outer > MAX_STEPS_PAST_OUTER {
                return trap(Trap::NeedsStackSwitching);
            }
        }
        match next_ready(rt, scope) {
            Some(id) => {
                // A blocked frame whose loop only ever resumes yielding tasks most likely waits for a frame below
                // it, which the spec would resume in between: give up rather than spin forever.
                let yielded = rt.concurrent.tasks.get(id).is_ok_and(|t| t.wait == Wait::Yielded);
                yields = if yielded { yields + 1 } else { 0 };
                if driver == Driver::Frame && yields > MAX_STEPS_PAST_OUTER {
                    return trap(Trap::NeedsStackSwitching);
                }
                resume::<T, E>(ctx, id, Entry::Loop)?
            }
            None if waiting_for_host => match sleep {
                Sleep::Park => std::thread::park(),
                Sleep::Yield(_) => return Ok(Poll::Pending),
            },
            None => return Err(stuck(rt, scope)),
        }
    }
}

/// Whether the host may still make progress: a host future is pending, or a guest copy waits for a host end.
fn host_pending<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>) -> bool {
    let inner = ctx.data_mut();
    inner.host_calls.any_pending() || !inner.rt.concurrent.host_waits.is_empty()
}

/// Whether what a frame waits for has happened.
pub(crate) fn satisfied<E: WasmEngine>(rt: &RuntimeState<E>, awaited: Awaited) -> bool {
    match awaited {
        Awaited::Resolved(id) => rt.concurrent.tasks.get(id).is_ok_and(|t| t.state == TaskState::Resolved),
        Awaited::Startable(id) => rt
            .concurrent
            .tasks
            .get(id)
            .is_ok_and(|t| rt.instances.get(t.inst as usize).is_some_and(|i| i.backpressure == 0 && !i.exclusive)),
        Awaited::Event(w) => rt.concurrent.waitables.get(w).is_ok_and(|w| w.pending.is_some()),
        Awaited::SetEvent(inst, si) => super::waitable::set_has_event(rt, inst, si),
        Awaited::HostReadable(s) => super::host_stream::readable(rt, s),
        Awaited::Returned(w) => rt.concurrent.waitables.get(w).is_ok_and(|w| match &w.kind {
            super::waitable::WaitableKind::Subtask(s) => s.resolved(),
            super::waitable::WaitableKind::End(_) => false,
        }),
        Awaited::CalleeBlocks => true,
    }
}

/// The next ready task in `scope`, taking turns from where the last search stopped.
fn next_ready<E: WasmEngine>(rt: &mut RuntimeState<E>, scope: Scope) -> Option<TaskId> {
    let n = rt.concurrent.tasks.capacity();
    for k in 0..n {
        let id = (rt.concurrent.next + k) % n;
        let Ok(task) = rt.concurrent.tasks.get(id) else { continue };
        let in_scope = match scope {
            Scope::Instance(i) => task.inst == i,
            Scope::Any => true,
        };
        if in_scope && ready(rt, task) {
            rt.concurrent.next = id + 1;
            return Some(id);
        }
    }
    None
}

/// Whether what a frame below the innermost blocked one waits for has happened.
fn outer_could_go_on<E: WasmEngine>(rt: &RuntimeState<E>) -> bool {
    let blocked = &rt.concurrent.blocked;
    blocked[..blocked.len().saturating_sub(1)].iter().any(|a| satisfied(rt, *a))
}

/// Why a loop in `scope` cannot go on.
fn stuck<E: WasmEngine>(rt: &mut RuntimeState<E>, scope: Scope) -> crate::Error {
    if outer_could_go_on(rt) {
        return crate::Error::trap(Trap::NeedsStackSwitching);
    }
    match scope {
        Scope::Instance(_) => crate::Error::trap(Trap::CannotBlockSync),
        Scope::Any => crate::Error::trap(Trap::Deadlock),
    }
}
