//! Async tasks: the spec's `Task` for a call of an `async` function, and `canon_lift` for callback-lifted
//! functions.
//!
//! A task is created when an async function is called (by the host, by a synchronous lower, or by an async
//! lower, which makes it a subtask of the caller). It *starts* — its arguments are lowered and its core function
//! called — once backpressure and its instance's exclusive lock allow ([`startable`]). Its core function and
//! each later `callback` call return a packed code ([`process_code`]): `EXIT` ends the task (which must have
//! called `task.return` by then), `YIELD` and `WAIT` park it until the event loop ([`super::event_loop`])
//! delivers the next event ([`resume`]). While its core code runs, a task holds its instance's exclusive lock,
//! so two callback-lifted tasks of one instance never interleave inside core code.
//!
//! `task.return` resolves the task ([`resolve`]): the result goes where the [`Resolver`] says — kept for the
//! host or a synchronous caller, or lowered straight into an async caller's memory for its subtask. A result
//! kept for a typed call ([`crate::TypedFunc`]) is lifted at `task.return` straight into the caller's Rust type
//! by the [`TypedLift`] the call left in its resolver, so no [`Value`] is built for it.

use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;

use smallvec::SmallVec;
use wasm_runtime_layer::backend::{Val, WasmEngine, WasmStoreContextMut};

use super::event_loop::{as_caller, block_on, drive_from_host, Sleep};
use super::subtask::notify_resolved;
use super::{event, Awaited, Current, TaskId, CONTEXT_SLOTS};
use crate::abi::lift::FlatSrc;
use crate::abi::types::Ty;
use crate::abi::{bits_val, val_bits, CallOptions, Cx};
use crate::component::plan::Plan;
use crate::error::{trap, Error, PathSegment, Result, Trap};
use crate::func::call::{entering_set, lower_params, set_may_leave, LiftOne, LiftedFunc, LowerArgs};
use crate::func::nesting::call_core;
use crate::resources::ResourceType;
use crate::store::Ctx;
use crate::store::{check_not_poisoned, RuntimeState, ASYNC_SCOPE};
use crate::values::Value;

/// The spec's `Task.State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskState {
    Initial,
    Started,
    PendingCancel,
    CancelDelivered,
    Resolved,
}

/// What a task waits for between steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Not started: waiting for backpressure or the exclusive lock.
    Start,
    /// Its core code is running (or it is being started).
    Running,
    /// It returned `YIELD`.
    Yielded,
    /// It returned `WAIT` on the waitable set with this handle.
    Waiting(u32),
    /// It returned `EXIT`.
    Exited,
}

/// Where a task's result goes (the spec's `on_resolve`).
pub(crate) enum Resolver<E: WasmEngine> {
    /// Kept in the task as a [`Value`] until the host or a synchronous caller takes it.
    Keep,
    /// Kept in the task as a typed call's Rust value, lifted by this [`TypedLift`] (of the store's `T` and `E`,
    /// type-erased because tasks do not know `T`).
    KeepTyped(Box<dyn Any + Send + Sync>),
    /// Lowered into an async caller's memory; the caller's subtask is notified.
    Subtask(Box<ResultSink<E>>),
}

/// How a result is delivered to an async caller: its lowering options, the function type and the out-pointer.
pub(crate) struct ResultSink<E: WasmEngine> {
    pub waitable: super::WaitableId,
    /// The lowered function's type, in `plan`.
    pub ty: crate::abi::types::FuncIdx,
    pub opts: CallOptions<E>,
    pub plan: Arc<Plan>,
    pub resources: Arc<[ResourceType]>,
    pub retptr: Option<u32>,
}

impl<E: WasmEngine> ResultSink<E> {
    /// The sink of an async lower `t`'s subtask `waitable`, whose result goes to `retptr`.
    pub fn of<T: 'static>(
        t: &crate::func::call::LowerTrampoline<T, E>,
        waitable: super::WaitableId,
        retptr: Option<u32>,
    ) -> Self {
        ResultSink {
            waitable,
            ty: t.ty,
            opts: t.opts.clone(),
            plan: t.plan.clone(),
            resources: t.resources.clone(),
            retptr,
        }
    }
}

/// A result kept for the host or a synchronous caller.
pub(crate) enum Returned {
    /// Lifted as a dynamic value.
    Value(Value),
    /// Lifted into a typed call's Rust type by its [`TypedLift`].
    Typed(TypedResult),
}

/// A typed call's result, type-erased while the task keeps it.
pub(crate) type TypedResult = Box<dyn Any + Send>;

/// A typed call's lifting functions for `task.return`: its result type's `lift_flat` and `load`, monomorphised
/// for the Rust type and boxed as `dyn Any` (which [`LiftOne::from_async_result`] downcasts back).
pub(crate) struct TypedLift<T: 'static, E: WasmEngine> {
    pub lift_flat: LiftFlatFn<T, E>,
    pub load: LoadFn<T, E>,
}

/// `lift_flat` of a typed call's result type.
pub(crate) type LiftFlatFn<T, E> = fn(&mut Cx<'_, '_, T, E>, Ty, &mut FlatSrc<'_>) -> Result<TypedResult>;

/// `load` of a typed call's result type.
pub(crate) type LoadFn<T, E> = fn(&mut Cx<'_, '_, T, E>, Ty, &[u8], usize) -> Result<TypedResult>;

impl<T: 'static, E: WasmEngine> Clone for TypedLift<T, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static, E: WasmEngine> Copy for TypedLift<T, E> {}

/// An async task.
pub(crate) struct AsyncTask<E: WasmEngine> {
    pub func: Arc<LiftedFunc<E>>,
    /// The instance the task runs in.
    pub inst: u32,
    pub state: TaskState,
    pub wait: Wait,
    pub num_borrows: u32,
    pub context: [u32; CONTEXT_SLOTS],
    pub resolver: Resolver<E>,
    /// The result, for [`Resolver::Keep`], once resolved (`Some(None)`: resolved by cancellation or without a
    /// result value).
    pub result: Option<Option<Returned>>,
    /// Whether the result was taken (or is not kept): an exited task is then freed.
    pub result_taken: bool,
    /// The caller's flat arguments of an async-lowered call that could not start when it was made, lifted when
    /// the event loop starts it ([`super::subtask::lift_delayed_args`]).
    pub args: Option<Box<[u64]>>,
}

/// The borrow scope of async task `id`.
pub(crate) fn scope(id: TaskId) -> u32 {
    ASYNC_SCOPE | id
}

/// Creates a task for a call of `func`.
pub(crate) fn new_task<E: WasmEngine>(
    rt: &mut RuntimeState<E>,
    func: Arc<LiftedFunc<E>>,
    resolver: Resolver<E>,
) -> TaskId {
    let inst = func.opts.instance;
    let result_taken = matches!(resolver, Resolver::Subtask(_));
    rt.concurrent.tasks.insert(AsyncTask {
        func,
        inst,
        state: TaskState::Initial,
        wait: Wait::Start,
        num_borrows: 0,
        context: [0; CONTEXT_SLOTS],
        resolver,
        result: None,
        result_taken,
        args: None,
    })
}

/// Whether a task may start now: no backpressure in its instance and the exclusive lock free.
pub(crate) fn startable<E: WasmEngine>(rt: &RuntimeState<E>, inst: u32) -> bool {
    rt.instances.get(inst as usize).is_some_and(|i| i.backpressure == 0 && !i.exclusive)
}

/// A call of an async function from the host or through a synchronous lower: start the task (waiting for
/// backpressure first, if need be), run the event loop until it resolves, and hand its result to `on_resolve`.
pub(crate) fn call_async<T: 'static, E: WasmEngine, A: LowerArgs + ?Sized, X: LiftOne, R>(
    ctx: &mut Ctx<'_, T, E>,
    f: &LiftedFunc<E>,
    caller: Option<u32>,
    params: &A,
    on_resolve: impl FnOnce(&mut Ctx<'_, T, E>, Option<X>, Option<Vec<crate::abi::StrHint>>) -> Result<R>,
) -> Result<R> {
    check_not_poisoned(&ctx.data_mut().rt)?;
    reap_abandoned(&mut ctx.data_mut().rt);
    let r = call_async_inner::<T, E, _>(ctx, f, caller, params, X::resolver::<T, E>());
    let rt = &mut ctx.data_mut().rt;
    match r {
        Ok(result) => {
            let x = result.map(X::from_async_result).transpose()?;
            on_resolve(ctx, x, None)
        }
        Err(e) => {
            rt.poisoned = true;
            Err(e.in_func(&f.site))
        }
    }
}

fn call_async_inner<T: 'static, E: WasmEngine, A: LowerArgs + ?Sized>(
    ctx: &mut Ctx<'_, T, E>,
    f: &LiftedFunc<E>,
    caller: Option<u32>,
    params: &A,
    resolver: Resolver<E>,
) -> Result<Option<Returned>> {
    let id = new_task(&mut ctx.data_mut().rt, Arc::new(f.clone()), resolver);
    let from_host = ctx.data_mut().rt.concurrent.current == Current::None && caller.is_none();
    let wait = |ctx: &mut Ctx<'_, T, E>, awaited| match from_host {
        true => match drive_from_host::<T, E>(ctx, awaited, Sleep::Park)? {
            Poll::Ready(()) => Ok(()),
            Poll::Pending => Err(Error::internal("a parking loop returned pending")),
        },
        false => block_on::<T, E>(ctx, awaited),
    };
    if !startable(&ctx.data_mut().rt, f.opts.instance) {
        ctx.data_mut().rt.instances[f.opts.instance as usize].num_waiting_to_enter += 1;
        let waited = wait(ctx, Awaited::Startable(id));
        ctx.data_mut().rt.instances[f.opts.instance as usize].num_waiting_to_enter -= 1;
        waited?;
    }
    as_caller::<T, E, _>(ctx, Awaited::Resolved(id), |ctx| start::<T, E, _>(ctx, id, params, Entry::Call(caller)))?;
    wait(ctx, Awaited::Resolved(id))?;
    take_result(&mut ctx.data_mut().rt, id)
}

/// A call of an async function from [`crate::Func::call_async`]: as [`call_async`] from the host, but the event
/// loop returns `Poll::Pending` to the caller's executor whenever only host futures can make progress.
pub(crate) async fn call_from_host_async<T: 'static, E: WasmEngine, A: LowerArgs + ?Sized, X: LiftOne>(
    ctx: &mut Ctx<'_, T, E>,
    f: &LiftedFunc<E>,
    params: &A,
) -> Result<Option<X>> {
    check_not_poisoned(&ctx.data_mut().rt)?;
    reap_abandoned(&mut ctx.data_mut().rt);
    let r = async {
        let id = new_task(&mut ctx.data_mut().rt, Arc::new(f.clone()), X::resolver::<T, E>());
        let abandon = Abandon::new(&ctx.data_mut().rt, id);
        let inst = f.opts.instance as usize;
        if !startable(&ctx.data_mut().rt, f.opts.instance) {
            ctx.data_mut().rt.instances[inst].num_waiting_to_enter += 1;
            let waited = drive::<T, E>(ctx, Awaited::Startable(id)).await;
            let waiting = &mut ctx.data_mut().rt.instances[inst].num_waiting_to_enter;
            *waiting = waiting.saturating_sub(1);
            waited?;
        }
        as_caller::<T, E, _>(ctx, Awaited::Resolved(id), |ctx| start::<T, E, _>(ctx, id, params, Entry::Call(None)))?;
        drive::<T, E>(ctx, Awaited::Resolved(id)).await?;
        abandon.disarm();
        take_result(&mut ctx.data_mut().rt, id)?.map(X::from_async_result).transpose()
    }
    .await;
    r.map_err(|e| {
        ctx.data_mut().rt.poisoned = true;
        e.in_func(&f.site)
    })
}

/// Hands a host call's task back to the store when the host drops the call's future before it completes (a
/// timeout, a `select!`): the task is queued in [`ConcurrentState::abandoned`](super::ConcurrentState) and
/// [`reap_abandoned`] lets it go. A future dropped before it ran holds no task; one dropped after an error leaves
/// a poisoned store, which never runs again.
pub(crate) struct Abandon {
    id: TaskId,
    queue: Option<Arc<Mutex<Vec<TaskId>>>>,
}

impl Abandon {
    fn new<E: WasmEngine>(rt: &RuntimeState<E>, id: TaskId) -> Abandon {
        Abandon { id, queue: Some(rt.concurrent.abandoned.clone()) }
    }

    /// The call completed: its task is the call's to take.
    fn disarm(mut self) {
        self.queue = None;
    }
}

impl Drop for Abandon {
    fn drop(&mut self) {
        if let Some(q) = self.queue.take() {
            q.lock().unwrap_or_else(PoisonError::into_inner).push(self.id);
        }
    }
}

/// Lets the tasks of dropped host-call futures go. A task that never started (it waited for backpressure) is
/// removed and no longer counts as waiting to enter its instance; a started one runs on in the store as the
/// spec has it (its instance's other callers may wait for it), and is freed when it exits, as its result has
/// no taker.
pub(crate) fn reap_abandoned<E: WasmEngine>(rt: &mut RuntimeState<E>) {
    let ids = std::mem::take(&mut *rt.concurrent.abandoned.lock().unwrap_or_else(PoisonError::into_inner));
    for id in ids {
        let Ok(task) = rt.concurrent.tasks.get_mut(id) else { continue };
        let inst = task.inst as usize;
        if task.state == TaskState::Initial {
            rt.concurrent.tasks.remove(id);
            if let Some(i) = rt.instances.get_mut(inst) {
                i.num_waiting_to_enter = i.num_waiting_to_enter.saturating_sub(1);
            }
            continue;
        }
        task.result = None;
        task.result_taken = true;
        if task.wait == Wait::Exited {
            rt.concurrent.tasks.remove(id);
        }
    }
}

/// Runs the event loop for the host until `awaited` holds, yielding to the caller's executor while only host
/// futures can make progress.
async fn drive<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, awaited: Awaited) -> Result<()> {
    std::future::poll_fn(|cx| match drive_from_host::<T, E>(ctx, awaited, Sleep::Yield(cx.waker())) {
        Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
        Ok(Poll::Pending) => Poll::Pending,
        Err(e) => Poll::Ready(Err(e)),
    })
    .await
}

/// Takes a kept result out of a resolved task, freeing the task if it has exited.
fn take_result<E: WasmEngine>(rt: &mut RuntimeState<E>, id: TaskId) -> Result<Option<Returned>> {
    let task = rt.concurrent.tasks.get_mut(id)?;
    let result = task.result.take().ok_or_else(|| Error::internal("a resolved task without its result"))?;
    task.result_taken = true;
    if task.wait == Wait::Exited {
        rt.concurrent.tasks.remove(id);
    }
    Ok(result)
}

/// The state a task's core code runs in: entered instances (with their previous `may_enter`), the previous
/// current task.
struct Entered {
    entering: SmallVec<[(u32, bool); 4]>,
    outer: Current,
}

/// How a step of a task's core code is entered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// Called by `caller` (`None`: the host): the `may_enter` rule applies.
    Call(Option<u32>),
    /// Run by the event loop: every frame below is blocked (suspended, in the spec), so `may_enter` does not
    /// apply.
    Loop,
}

/// Enters task `id`'s instance for a step of its core code: the `may_enter` rule, the exclusive lock, and the
/// current task.
fn enter<E: WasmEngine>(rt: &mut RuntimeState<E>, id: TaskId, entry: Entry) -> Result<Entered> {
    let inst = rt.concurrent.tasks.get(id)?.inst;
    let caller = match entry {
        Entry::Call(c) => c,
        Entry::Loop => None,
    };
    let set = entering_set(rt, inst, caller);
    if entry != Entry::Loop && set.iter().any(|&i| rt.instances.get(i as usize).is_none_or(|s| !s.may_enter)) {
        return trap(Trap::CannotEnter);
    }
    let mut entering = SmallVec::new();
    for &i in &set {
        if let Some(s) = rt.instances.get_mut(i as usize) {
            entering.push((i, s.may_enter));
            s.may_enter = false;
        }
    }
    rt.instances[inst as usize].exclusive = true;
    rt.concurrent.tasks.get_mut(id)?.wait = Wait::Running;
    let outer = std::mem::replace(&mut rt.concurrent.current, Current::Async(id));
    Ok(Entered { entering, outer })
}

fn leave<E: WasmEngine>(rt: &mut RuntimeState<E>, entered: Entered) {
    for &(i, before) in &entered.entering {
        if let Some(s) = rt.instances.get_mut(i as usize) {
            s.may_enter = before;
        }
    }
    rt.concurrent.current = entered.outer;
}

/// Starts task `id`: lowers its arguments into the callee and calls the lifted core function (`on_start`).
pub(crate) fn start<T: 'static, E: WasmEngine, A: LowerArgs + ?Sized>(
    ctx: &mut Ctx<'_, T, E>,
    id: TaskId,
    params: &A,
    entry: Entry,
) -> Result<()> {
    let rt = &mut ctx.data_mut().rt;
    let task = rt.concurrent.tasks.get_mut(id)?;
    task.state = TaskState::Started;
    let func = task.func.clone();
    if let Resolver::Subtask(sink) = &task.resolver {
        let w = sink.waitable;
        super::subtask::on_start(rt, w)?;
    }
    let entered = enter(rt, id, entry)?;
    let r = (|| -> Result<SmallVec<[Val<E>; 1]>> {
        let flat = lower_params(ctx, &func, scope(id), params, None)?;
        let abi = &func.plan.types.func(func.ty).abi;
        let args: SmallVec<[Val<E>; 16]> =
            flat.iter().zip(abi.lift_params.iter()).map(|(b, t)| bits_val(*t, *b)).collect();
        let mut results: SmallVec<[Val<E>; 1]> = match func.callback {
            Some(_) => smallvec::smallvec![Val::I32(0)],
            None => abi.lift_results.iter().map(|t| bits_val(*t, 0)).collect(),
        };
        call_core::<T, E>(ctx, &func.callee, &args, &mut results)?;
        Ok(results)
    })();
    let r = match (r, func.callback.is_some()) {
        (Ok(results), true) => Ok(val_bits(&results[0]) as u32),
        (Ok(results), false) => sync_lift_return::<T, E>(ctx, id, &func, &results).map(|()| 0),
        (Err(e), _) => Err(e),
    };
    leave(&mut ctx.data_mut().rt, entered);
    process_code::<T, E>(ctx, id, r.map_err(|e| e.in_func(&func.site))?)
}

/// The end of a synchronous lift of an async function: lifts the core results, resolves the task with them and
/// runs `post-return`, all before the task exits (code `EXIT`, 0).
fn sync_lift_return<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    id: TaskId,
    func: &LiftedFunc<E>,
    results: &[Val<E>],
) -> Result<()> {
    let fe = func.plan.types.func(func.ty);
    let value = match fe.def.result {
        None => None,
        Some(t) => {
            let bits: SmallVec<[u64; 1]> = results.iter().map(val_bits).collect();
            Some(lift_result::<T, E>(ctx, id, func, &func.opts, t, &bits, fe.abi.result_flat.is_some())?)
        }
    };
    resolve::<T, E>(ctx, id, Some(value))?;
    if let Some(post_return) = &func.opts.post_return {
        let inst = func.opts.instance;
        set_may_leave::<T, E>(ctx, inst, false);
        call_core::<T, E>(ctx, post_return, results, &mut []).map_err(|e| e.context("in post-return"))?;
        set_may_leave::<T, E>(ctx, inst, true);
    }
    Ok(())
}

/// Acts on the packed code a callback-lifted task's core code returned (`unpack_callback_result`).
fn process_code<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, id: TaskId, packed: u32) -> Result<()> {
    const EXIT: u32 = 0;
    const YIELD: u32 = 1;
    const WAIT: u32 = 2;
    let rt = &mut ctx.data_mut().rt;
    let inst = rt.concurrent.tasks.get(id)?.inst;
    let wait = match packed & 0xf {
        EXIT => return exit(rt, id),
        YIELD => Wait::Yielded,
        WAIT => {
            let si = packed >> 4;
            rt.instances[inst as usize].handles.waitable_set(si)?.num_waiting += 1;
            Wait::Waiting(si)
        }
        _ => return trap(Trap::Async(super::AsyncTrap::CallbackCode)),
    };
    rt.instances[inst as usize].exclusive = false;
    rt.concurrent.tasks.get_mut(id)?.wait = wait;
    Ok(())
}

/// `EXIT`: the task ends; it must have resolved.
fn exit<E: WasmEngine>(rt: &mut RuntimeState<E>, id: TaskId) -> Result<()> {
    let task = rt.concurrent.tasks.get_mut(id)?;
    let inst = task.inst;
    rt.instances[inst as usize].exclusive = false;
    if task.state != TaskState::Resolved {
        return trap(Trap::Async(super::AsyncTrap::NoResult));
    }
    task.wait = Wait::Exited;
    if task.result_taken {
        rt.concurrent.tasks.remove(id);
    }
    Ok(())
}

/// Whether task `id` is ready to take a step, and the event it would receive.
pub(crate) fn ready<E: WasmEngine>(rt: &RuntimeState<E>, task: &AsyncTask<E>) -> bool {
    let Some(inst) = rt.instances.get(task.inst as usize) else { return false };
    match task.wait {
        Wait::Start => inst.backpressure == 0 && !inst.exclusive && task.args.is_some(),
        Wait::Yielded => !inst.exclusive,
        Wait::Waiting(si) => {
            !inst.exclusive
                && (task.state == TaskState::PendingCancel || super::waitable::set_has_event(rt, task.inst, si))
        }
        Wait::Running | Wait::Exited => false,
    }
}

/// Takes one step of a ready task: starts it, or calls its `callback` with its next event.
pub(crate) fn resume<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, id: TaskId, entry: Entry) -> Result<()> {
    let rt = &mut ctx.data_mut().rt;
    let task = rt.concurrent.tasks.get_mut(id)?;
    let (inst, wait) = (task.inst, task.wait);
    let cancelled = task.state == TaskState::PendingCancel;
    if cancelled {
        task.state = TaskState::CancelDelivered;
    }
    let ev = match wait {
        Wait::Start => {
            let bits = task.args.take().unwrap_or_default();
            rt.instances[inst as usize].num_waiting_to_enter =
                rt.instances[inst as usize].num_waiting_to_enter.saturating_sub(1);
            let params = super::subtask::lift_delayed_args::<T, E>(ctx, id, &bits)?;
            return start::<T, E, _>(ctx, id, &params[..], Entry::Loop);
        }
        Wait::Yielded if cancelled => (event::TASK_CANCELLED, 0, 0),
        Wait::Yielded => (event::NONE, 0, 0),
        Wait::Waiting(si) => {
            let set = rt.instances[inst as usize].handles.waitable_set(si)?;
            set.num_waiting = set.num_waiting.saturating_sub(1);
            match cancelled {
                true => (event::TASK_CANCELLED, 0, 0),
                false => super::waitable::take_set_event(rt, inst, si)?,
            }
        }
        Wait::Running | Wait::Exited => return Err(Error::internal("resuming a task that is not waiting")),
    };
    let func = rt.concurrent.tasks.get(id)?.func.clone();
    let callback = func.callback.clone().ok_or_else(|| Error::internal("a parked task without a callback"))?;
    let entered = enter(rt, id, entry)?;
    let args = [Val::I32(ev.0 as i32), Val::I32(ev.1 as i32), Val::I32(ev.2 as i32)];
    let mut results = [Val::I32(0)];
    let r = call_core::<T, E>(ctx, &callback, &args, &mut results);
    leave(&mut ctx.data_mut().rt, entered);
    r.map_err(|e| e.in_func(&func.site))?;
    process_code::<T, E>(ctx, id, val_bits(&results[0]) as u32)
}

/// Resolves task `id` with `result` (`None`: cancelled), delivering it as its [`Resolver`] says.
pub(crate) fn resolve<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    id: TaskId,
    result: Option<Option<Returned>>,
) -> Result<()> {
    let rt = &mut ctx.data_mut().rt;
    let task = rt.concurrent.tasks.get_mut(id)?;
    if task.state == TaskState::Resolved {
        return trap(Trap::Async(super::AsyncTrap::AlreadyResolved));
    }
    if task.num_borrows > 0 {
        return trap(Trap::BorrowsRemain);
    }
    task.state = TaskState::Resolved;
    let sink = match std::mem::replace(&mut task.resolver, Resolver::Keep) {
        Resolver::Keep | Resolver::KeepTyped(_) => {
            task.result = Some(result.flatten());
            return Ok(());
        }
        Resolver::Subtask(sink) => sink,
    };
    let returned = result.is_some();
    match &result {
        Some(Some(Returned::Value(v))) => deliver::<T, E>(ctx, &sink, v)?,
        Some(Some(Returned::Typed(_))) => return Err(Error::internal("a typed result for an async caller")),
        _ => {}
    }
    notify_resolved(&mut ctx.data_mut().rt, sink.waitable, returned)
}

/// Lowers an async call's result into the caller's memory at its out-pointer (`on_resolve` of an async lower).
fn deliver<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, sink: &ResultSink<E>, v: &Value) -> Result<()> {
    let fe = sink.plan.types.func(sink.ty);
    let (Some(rty), Some(ptr)) = (fe.def.result, sink.retptr) else { return Ok(()) };
    let caller = sink.opts.instance;
    set_may_leave::<T, E>(ctx, caller, false);
    let mut cx = Cx::new(ctx, &sink.opts, &sink.plan.types, &sink.resources);
    let lay = sink.plan.types.layout(rty).clone();
    cx.check_range(ptr, u64::from(lay.size), lay.align)?;
    cx.store_values(&[rty], &[0], std::slice::from_ref(v), ptr, lay.size).map_err(|e| e.at(PathSegment::Result))?;
    set_may_leave::<T, E>(ctx, caller, true);
    Ok(())
}

/// The current async task, or the trap for a built-in that needs one.
pub(crate) fn current_async<E: WasmEngine>(rt: &RuntimeState<E>) -> Result<TaskId> {
    match rt.concurrent.current {
        Current::Async(id) => Ok(id),
        Current::Sync(_) => trap(Trap::Async(super::AsyncTrap::NotAsync)),
        Current::None => trap(Trap::Async(super::AsyncTrap::NoTask)),
    }
}

/// `canon task.return`: lifts the result from the core arguments with the built-in's options and resolves the
/// current task.
pub(crate) fn task_return<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    b: &super::builtins::BuiltinFunc<E>,
    result: Option<crate::abi::types::Ty>,
    args: &[Val<E>],
) -> Result<()> {
    let rt = &mut ctx.data_mut().rt;
    let id = current_async(rt)?;
    let task = rt.concurrent.tasks.get(id)?;
    let func = task.func.clone();
    if !rt.instances[task.inst as usize].may_leave {
        return trap(Trap::CannotLeave);
    }
    let fe = func.plan.types.func(func.ty);
    if fe.def.result != result || func.opts.encoding != b.opts.encoding {
        return trap(Trap::Async(super::AsyncTrap::TaskReturnMismatch));
    }
    let value = match result {
        None => None,
        Some(ty) => {
            let bits: SmallVec<[u64; 16]> = args.iter().map(val_bits).collect();
            let lay = func.plan.types.layout(ty);
            let flat = lay.flat.as_ref().is_some_and(|f| f.len() <= crate::abi::layout::MAX_FLAT_PARAMS);
            Some(lift_result::<T, E>(ctx, id, &func, &b.opts, ty, &bits, flat)?)
        }
    };
    resolve::<T, E>(ctx, id, Some(value))
}

/// Lifts task `id`'s result of type `ty` with `opts` from the core values `bits`: the flat values when `flat`,
/// else a pointer to the value in memory. A typed call's result is lifted by the [`TypedLift`] in its resolver,
/// any other as a [`Value`].
fn lift_result<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    id: TaskId,
    func: &LiftedFunc<E>,
    opts: &CallOptions<E>,
    ty: Ty,
    bits: &[u64],
    flat: bool,
) -> Result<Returned> {
    let typed = match &ctx.data_mut().rt.concurrent.tasks.get(id)?.resolver {
        Resolver::KeepTyped(lift) => Some(
            *lift
                .downcast_ref::<TypedLift<T, E>>()
                .ok_or_else(|| Error::internal("a typed call's lifter of another store type"))?,
        ),
        _ => None,
    };
    let mut cx = Cx::new(ctx, opts, &func.plan.types, &func.resources);
    let lifted = match flat {
        true => {
            let src = &mut FlatSrc::new(bits);
            match typed {
                Some(lift) => (lift.lift_flat)(&mut cx, ty, src).map(Returned::Typed),
                None => cx.lift_flat(ty, src).map(Returned::Value),
            }
        }
        false => (|| {
            let ptr = bits.first().copied().unwrap_or(0) as u32;
            let lay = func.plan.types.layout(ty);
            cx.check_range(ptr, u64::from(lay.size), lay.align)?;
            let buf = cx.read(ptr, lay.size as usize)?;
            cx.view(&buf, ptr);
            match typed {
                Some(lift) => (lift.load)(&mut cx, ty, &buf, 0).map(Returned::Typed),
                None => cx.load(ty, &buf, 0).map(Returned::Value),
            }
        })(),
    };
    lifted.map_err(|e| e.at(PathSegment::Result))
}

/// `canon task.cancel`: resolves the current task, whose cancellation was delivered, without a result.
pub(crate) fn task_cancel<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>) -> Result<()> {
    let rt = &mut ctx.data_mut().rt;
    let id = current_async(rt)?;
    let task = rt.concurrent.tasks.get(id)?;
    if !rt.instances[task.inst as usize].may_leave {
        return trap(Trap::CannotLeave);
    }
    if task.state != TaskState::CancelDelivered {
        return trap(Trap::Async(super::AsyncTrap::CancelNotDelivered));
    }
    resolve::<T, E>(ctx, id, None)
}

/// The context slots of the current task (synchronous or async).
pub(crate) fn context_slots<E: WasmEngine>(rt: &mut RuntimeState<E>) -> Result<&mut [u32; CONTEXT_SLOTS]> {
    match rt.concurrent.current {
        Current::Sync(i) => {
            rt.tasks.get_mut(i as usize).map(|t| &mut t.context).ok_or_else(|| Error::internal("no task"))
        }
        Current::Async(id) => Ok(&mut rt.concurrent.tasks.get_mut(id)?.context),
        Current::None => trap(Trap::Async(super::AsyncTrap::NoTask)),
    }
}

/// The instance of the current task, for built-ins (`current_instance()`), checked against the built-in's.
pub(crate) fn may_leave<E: WasmEngine>(rt: &RuntimeState<E>, inst: u32) -> Result<()> {
    match rt.instances.get(inst as usize) {
        Some(i) if i.may_leave => Ok(()),
        _ => trap(Trap::CannotLeave),
    }
}

/// Requests cancellation of task `id` by instance `caller` (`Task.request_cancellation`): a task that has not
/// started is cancelled at once; a started task waiting in its callback loop gets `TASK_CANCELLED` right away
/// when its instance can be entered, else at its next step.
pub(crate) fn request_cancellation<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    id: TaskId,
    caller: u32,
) -> Result<()> {
    let rt = &mut ctx.data_mut().rt;
    let task = rt.concurrent.tasks.get_mut(id)?;
    let inst = task.inst;
    match task.state {
        TaskState::Initial => {
            task.state = TaskState::CancelDelivered;
            task.args = None;
            let i = &mut rt.instances[inst as usize];
            i.num_waiting_to_enter = i.num_waiting_to_enter.saturating_sub(1);
            resolve::<T, E>(ctx, id, None)?;
            ctx.data_mut().rt.concurrent.tasks.remove(id);
            Ok(())
        }
        TaskState::Started => {
            task.state = TaskState::PendingCancel;
            let parked = matches!(task.wait, Wait::Yielded | Wait::Waiting(_));
            let enterable = !rt.instances[inst as usize].exclusive
                && entering_set(rt, inst, Some(caller))
                    .iter()
                    .all(|&i| rt.instances.get(i as usize).is_some_and(|s| s.may_enter));
            if parked && enterable {
                resume::<T, E>(ctx, id, Entry::Call(Some(caller)))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    use crate::store::AsContextMut;
    use crate::{Component, Engine, Linker, Store, Value};

    /// `run` raises backpressure, calls the async import `wait` and returns its result once it has it, then
    /// lowers backpressure: a second call cannot start while the first waits.
    const WAT: &str = r#"(component
      (import "wait" (func $wait async (result u32)))
      (core module $Mem (memory (export "mem") 1))
      (core instance $mem (instantiate $Mem))
      (core func $wait (canon lower (func $wait) async (memory (core memory $mem "mem"))))
      (core func $task.return (canon task.return (result u32)))
      (core func $inc (canon backpressure.inc))
      (core func $dec (canon backpressure.dec))
      (core func $ws.new (canon waitable-set.new))
      (core func $join (canon waitable.join))
      (core func $subtask.drop (canon subtask.drop))
      (core module $m
        (import "" "mem" (memory 1))
        (import "" "wait" (func $wait (param i32) (result i32)))
        (import "" "task.return" (func $task.return (param i32)))
        (import "" "inc" (func $inc))
        (import "" "dec" (func $dec))
        (import "" "ws.new" (func $ws.new (result i32)))
        (import "" "join" (func $join (param i32 i32)))
        (import "" "subtask.drop" (func $subtask.drop (param i32)))
        (func (export "run") (result i32) (local $st i32) (local $ws i32)
          (call $inc)
          (local.set $st (call $wait (i32.const 16)))
          (if (i32.eq (local.get $st) (i32.const 2)) ;; RETURNED
            (then (call $dec) (call $task.return (i32.load (i32.const 16))) (return (i32.const 0))))
          (local.set $ws (call $ws.new))
          (call $join (i32.shr_u (local.get $st) (i32.const 4)) (local.get $ws))
          (i32.or (i32.const 2) (i32.shl (local.get $ws) (i32.const 4)))) ;; WAIT
        (func (export "cb") (param i32 i32 i32) (result i32)
          (call $subtask.drop (local.get 1))
          (call $dec)
          (call $task.return (i32.load (i32.const 16)))
          (i32.const 0)))
      (core instance $i (instantiate $m (with "" (instance
        (export "mem" (memory $mem "mem"))
        (export "wait" (func $wait))
        (export "task.return" (func $task.return))
        (export "inc" (func $inc))
        (export "dec" (func $dec))
        (export "ws.new" (func $ws.new))
        (export "join" (func $join))
        (export "subtask.drop" (func $subtask.drop))))))
      (func (export "run") async (result u32)
        (canon lift (core func $i "run") async (callback (core func $i "cb")))))"#;

    /// The answer of the first `wait`, which the test gives late.
    #[derive(Default)]
    struct Late {
        value: Option<u32>,
        waker: Option<Waker>,
        calls: u32,
    }

    /// The first call's answer (given late), or 7 at once.
    struct LateAnswer(Option<Arc<Mutex<Late>>>);

    impl Future for LateAnswer {
        type Output = anyhow::Result<Option<Value>>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let Some(late) = &self.0 else { return Poll::Ready(Ok(Some(Value::U32(7)))) };
            let mut late = late.lock().unwrap();
            match late.value {
                Some(v) => Poll::Ready(Ok(Some(Value::U32(v)))),
                None => {
                    late.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }

    fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
        fut.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_dropped_call_future_leaves_no_task_behind() {
        dropped_call_futures(Engine::new(wasmi_runtime_layer::Engine::default()));
        dropped_call_futures(Engine::new(wasmtime_runtime_layer::Engine::default()));
    }

    fn dropped_call_futures<E: wasm_runtime_layer::backend::WasmEngine>(engine: Engine<E>) {
        let c = Component::new(&engine, &wat::parse_str(WAT).unwrap()).unwrap();
        let late: Arc<Mutex<Late>> = Arc::default();
        let mut l = Linker::new();
        let host = late.clone();
        l.root()
            .func_new_async("wait", move |_, _| {
                let mut h = host.lock().unwrap();
                h.calls += 1;
                LateAnswer((h.calls == 1).then(|| host.clone()))
            })
            .unwrap();
        let mut s = Store::new(&engine, ());
        let run = l.instantiate(&mut s, &c).unwrap().get_func("run").unwrap();
        let mut out = [Value::Bool(false)];
        // The first call starts, raises backpressure and waits for the host; its future is dropped.
        {
            let mut first = Box::pin(run.call_async(&mut s, &[], &mut out));
            assert!(poll_once(first.as_mut()).is_pending());
        }
        // The second cannot start (backpressure) and is dropped while it waits to.
        {
            let mut second = Box::pin(run.call_async(&mut s, &[], &mut out));
            assert!(poll_once(second.as_mut()).is_pending());
        }
        assert_eq!(s.as_context_mut().rt().concurrent.tasks.live(), 2);
        // The host answers the first call late. The next call lets the second go, waits for the first (which
        // runs on in the store, lowering backpressure), starts, and the first is freed when it exits.
        late.lock().unwrap().value = Some(5);
        run.call(&mut s, &[], &mut out).unwrap();
        assert_eq!(out[0], Value::U32(7));
        assert!(!s.is_poisoned());
        let mut ctx = s.as_context_mut();
        let rt = ctx.rt();
        assert_eq!(rt.concurrent.tasks.live(), 0, "tasks of dropped futures are freed");
        assert!(rt.instances.iter().all(|i| i.num_waiting_to_enter == 0 && i.backpressure == 0));
    }
}
