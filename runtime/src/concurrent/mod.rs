//! The Component Model's async ABI (🔀) in its callback (stackless) form, on any core engine.
//!
//! `wasm_runtime_layer` can only make ordinary, synchronous core calls: it cannot suspend a core call and resume
//! it later. The callback ABI needs no suspension: a callback-lifted task returns to the event loop after every
//! step with a code (`EXIT`, `YIELD`, or `WAIT` on a waitable set), and the loop calls its `callback` with the
//! next event. So this module keeps, per store, the spec's state as data —
//!
//! * **tasks** ([`task`]): one per call of an async-typed function, with its `context` slots, its state
//!   (`STARTED` … `RESOLVED`), what it waits for, and where its result goes (the host, a synchronous caller, or
//!   an async caller's subtask);
//! * **waitables** ([`waitable`]): subtasks ([`subtask`]) and the ends of streams and futures ([`copy`]), each
//!   with its pending event, joined to at most one **waitable set**;
//! * **handles**: every waitable, waitable set and error-context a guest sees is an index in its component
//!   instance's one handle table ([`crate::abi::table`]), shared with resources, as the spec's
//!   `ComponentInstance.handles`;
//! * per instance ([`crate::store::InstanceState`]): the `backpressure` counter, the exclusive lock a
//!   callback-lifted task holds while its core code runs, and the tasks waiting to enter;
//!
//! — and drives it with a loop ([`event_loop`]) of ordinary core calls.
//!
//! **Blocking in a frame.** Some built-ins block the core frame that calls them (a synchronous
//! `waitable-set.wait`, a synchronous stream or future operation, a synchronous call of an async function that
//! has not returned yet). The spec suspends that frame's thread; here the loop runs *nested* on top of the
//! blocked frame, bounded in depth, until what the frame waits for happens. Work done this way is nested last-in
//! first-out on the native stack, which is exactly what a guest's shadow stack allows. When the loop can make no
//! progress, the failure is classified: if what an *outer* blocked frame waits for has happened (the spec would
//! resume that frame first), or a *caller* below could go on (an async lower or async `subtask.cancel`, to which
//! the spec returns as soon as its callee blocks; a synchronous caller whose callee already returned), or a ready
//! task's instance is entered by a frame below, this runtime traps with
//! [`crate::Trap::NeedsStackSwitching`]; otherwise the program is deadlocked as the spec defines it
//! ([`crate::Trap::Deadlock`]), or a synchronous task blocked with nothing of its own instance to run
//! ([`crate::Trap::CannotBlockSync`]).
//!
//! **Out of scope**, refused when a component is loaded: stackful lifts (`async` without `callback`) and the
//! threading built-ins (🧵), which need a resumable core call.
//!
//! The synchronous call path does not go through this module: a call of a synchronous function from the host
//! or another component costs what it cost before async existed, plus saving and restoring which task is
//! current (for `context.get`/`context.set`, which synchronous tasks may use too).

pub(crate) mod builtins;
pub(crate) mod copy;
pub(crate) mod event_loop;
pub(crate) mod host;
pub(crate) mod host_stream;
mod slab;
pub(crate) mod subtask;
pub(crate) mod task;
pub(crate) mod values;
pub(crate) mod waitable;

use std::fmt;
use std::sync::Arc;

use wasm_runtime_layer::backend::WasmEngine;

pub(crate) use slab::Slab;
use task::AsyncTask;
pub(crate) use waitable::{Waitable, WaitableSet};

/// A task in the store's task slab.
pub(crate) type TaskId = u32;
/// A waitable (subtask, stream end, future end) in the store's waitable slab.
pub type WaitableId = u32;
/// The shared state of a stream or future in the store's slab.
pub(crate) type SharedId = u32;

/// The spec's `EventCode`.
pub(crate) mod event {
    pub const NONE: u32 = 0;
    pub const SUBTASK: u32 = 1;
    pub const STREAM_READ: u32 = 2;
    pub const STREAM_WRITE: u32 = 3;
    pub const FUTURE_READ: u32 = 4;
    pub const FUTURE_WRITE: u32 = 5;
    pub const TASK_CANCELLED: u32 = 6;
}

/// The spec's `BLOCKED` result of an async built-in.
pub(crate) const BLOCKED: u32 = 0xffff_ffff;

/// The number of `context.get`/`context.set` slots of a task.
pub(crate) const CONTEXT_SLOTS: usize = 2;

/// How deep the event loop may run nested on top of blocked frames.
pub(crate) const MAX_LOOP_DEPTH: u32 = 32;

/// An error-context: the spec's `ErrorContext`, a handle-table element owned by one instance.
#[derive(Debug, Clone)]
pub struct ErrorContext {
    /// The debug message (this runtime keeps the guest's message as given).
    pub debug_message: Arc<str>,
}

/// Which task the running core code belongs to (`current_task()` in the spec).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Current {
    /// No task: the host, or a core start function during instantiation.
    #[default]
    None,
    /// A synchronous task: its index in the store's stack of synchronous tasks.
    Sync(u32),
    /// An async task.
    Async(TaskId),
}

/// What a frame below the running code waits for (data, so that an inner loop can tell whether an outer frame
/// could go on): a frame blocked in a nested event loop, or a caller whose callee task is running above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Awaited {
    /// The task has resolved (returned or been cancelled).
    Resolved(TaskId),
    /// The task may start (backpressure and the exclusive lock allow it).
    Startable(TaskId),
    /// The waitable has a pending event.
    Event(WaitableId),
    /// The waitable set (instance, handle) has a pending event.
    SetEvent(u32, u32),
    /// The host's end of the stream or future has values to read, or the guest's end is gone.
    HostReadable(SharedId),
    /// The subtask has resolved (a synchronous caller of an async host function waits for this: its subtask has
    /// no handle, so it gets no event).
    Returned(WaitableId),
    /// An async caller (`canon lower … async`, or an async `subtask.cancel`) of the task running above it: the
    /// spec returns to it as soon as that task blocks, so it could always go on.
    CalleeBlocks,
}

/// The async ABI's state in a store.
pub(crate) struct ConcurrentState<E: WasmEngine> {
    pub tasks: Slab<AsyncTask<E>>,
    pub waitables: Slab<Waitable>,
    pub shared: Slab<copy::Shared>,
    pub buffers: Slab<copy::GuestBuffer<E>>,
    /// Readable ends lifted out of a table and not lowered yet (see [`values`]).
    pub in_flight: Vec<SharedId>,
    /// Streams and futures whose guest end's copy waits for the host's end ([`host_stream`]).
    pub host_waits: Vec<SharedId>,
    pub current: Current,
    /// Frames below the running code that wait for something, outermost first: frames blocked in nested event
    /// loops, and callers of the async tasks running above them ([`event_loop::as_caller`]).
    pub blocked: Vec<Awaited>,
    /// Tasks whose [`crate::Func::call_async`] future the host dropped before it completed ([`task::Abandon`]),
    /// reaped by the next call or loop ([`task::reap_abandoned`]).
    pub abandoned: Arc<std::sync::Mutex<Vec<TaskId>>>,
    /// How many event loops run nested (bounded by [`MAX_LOOP_DEPTH`]).
    pub loops: u32,
    /// Where the next search for a ready task starts, so that ready tasks take turns.
    pub next: u32,
}

impl<E: WasmEngine> Default for ConcurrentState<E> {
    fn default() -> Self {
        ConcurrentState {
            tasks: Slab::default(),
            waitables: Slab::default(),
            shared: Slab::default(),
            buffers: Slab::default(),
            in_flight: Vec::new(),
            host_waits: Vec::new(),
            current: Current::None,
            blocked: Vec::new(),
            abandoned: Arc::default(),
            loops: 0,
            next: 0,
        }
    }
}

/// Why an async built-in or the event loop trapped, where the spec gives a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AsyncTrap {
    /// `task.return` (or `task.cancel`) after the task already resolved.
    AlreadyResolved,
    /// `task.return` or `task.cancel` in a task of a function lifted without `async`.
    NotAsync,
    /// `task.return`'s result type or options differ from the lifted function's.
    TaskReturnMismatch,
    /// A callback-lifted task exited without calling `task.return`.
    NoResult,
    /// `task.cancel` without a delivered cancellation.
    CancelNotDelivered,
    /// A callback returned a code other than `EXIT`, `YIELD` or `WAIT`.
    CallbackCode,
    /// A built-in with no current task (during instantiation).
    NoTask,
    /// A waitable in a waitable set was used synchronously.
    SyncInWaitableSet,
    /// A waitable set was dropped while a task waits on it.
    SetHasWaiters,
    /// A waitable set was dropped while waitables are joined to it.
    SetNotEmpty,
    /// A subtask was dropped before its resolution was delivered.
    SubtaskNotResolved,
    /// `subtask.cancel` after the subtask's resolution was delivered.
    SubtaskDelivered,
    /// `subtask.cancel` twice.
    CancelTwice,
    /// `backpressure.inc` past 2^16 − 1.
    BackpressureOverflow,
    /// `backpressure.dec` below 0.
    BackpressureUnderflow,
    /// A stream or future end used while a copy is in progress (or after it is done).
    CopyNotIdle,
    /// A stream or future end of another element type.
    CopyType,
    /// A stream or future end dropped while a copy is in progress.
    DropBusy,
    /// A future's writable end dropped before a value was written.
    FutureNotWritten,
    /// A stream copy of more than 2^28 − 1 elements.
    CopyTooLong,
    /// Both ends of a copy of a non-numeric element type are in the same instance.
    IntraInstanceCopy,
    /// `cancel-read`/`cancel-write` without a copy in progress.
    NothingToCancel,
    /// A stream or future end lifted while it is copying or in a waitable set.
    LiftBusy,
}

impl fmt::Display for AsyncTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AsyncTrap::AlreadyResolved => "task already resolved: `task.return` or `task.cancel` called twice",
            AsyncTrap::NotAsync => "`task.return` or `task.cancel` in a function lifted without `async`",
            AsyncTrap::TaskReturnMismatch => "`task.return` type or options do not match the lifted function's",
            AsyncTrap::NoResult => "async-lifted export failed to produce a result",
            AsyncTrap::CancelNotDelivered => "`task.cancel` without a delivered cancellation",
            AsyncTrap::CallbackCode => "unsupported callback code",
            AsyncTrap::NoTask => "async built-in called outside any task",
            AsyncTrap::SyncInWaitableSet => "waitable cannot be used synchronously while added to a waitable set",
            AsyncTrap::SetHasWaiters => "cannot drop waitable set with waiters",
            AsyncTrap::SetNotEmpty => "cannot drop waitable set with members",
            AsyncTrap::SubtaskNotResolved => "cannot drop a subtask which has not yet resolved",
            AsyncTrap::SubtaskDelivered => "`subtask.cancel` called after terminal status delivered",
            AsyncTrap::CancelTwice => "`subtask.cancel` called twice",
            AsyncTrap::BackpressureOverflow => "backpressure counter overflow",
            AsyncTrap::BackpressureUnderflow => "backpressure counter underflow",
            AsyncTrap::CopyNotIdle => "cannot have concurrent operations active on a future/stream",
            AsyncTrap::CopyType => "stream or future end of another type",
            AsyncTrap::DropBusy => "cannot drop busy stream or future",
            AsyncTrap::FutureNotWritten => "cannot drop future write end without first writing a value",
            AsyncTrap::CopyTooLong => "stream read/write count too large",
            AsyncTrap::IntraInstanceCopy => {
                "cannot read from and write to intra-component future/stream with non-numeric payload"
            }
            AsyncTrap::NothingToCancel => "no copy in progress to cancel",
            AsyncTrap::LiftBusy => "cannot lift stream or future while it is busy or in a waitable set",
        })
    }
}
