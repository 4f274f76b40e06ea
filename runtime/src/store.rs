//! The store: user data plus the Component Model's runtime state.
//!
//! A [`Store`] wraps a `wasm_runtime_layer` store whose data is [`StoreInner`]: the user's `T` and the
//! [`RuntimeState`] every component instance in the store shares — the per-instance flags and handle tables the
//! canonical ABI checks (`may_enter`, `may_leave`, `handles`), the stack of active tasks (for borrow scopes), the
//! host's own resource table, and the poisoned flag. Host trampolines reach this state through the backend's
//! store context, so nothing needs interior mutability or locking.
//!
//! Guest calls nested inside host calls are counted and bounded per store (see `func::nesting`).
//!
//! After any trap, the store is poisoned and refuses every further call into any of its component instances,
//! as wasmtime does: a trap can leave instances in a state the component cannot recover from, and comparing
//! engines call for call needs the same behaviour everywhere.

use std::sync::atomic::{AtomicU64, Ordering};

use wasm_runtime_layer::backend::{
    AsContext as _, AsContextMut as _, WasmEngine, WasmStore, WasmStoreContext, WasmStoreContextMut,
};
use wasm_runtime_layer::Engine;

use crate::abi::table::HandleTable;
use crate::error::{Error, Result, Trap};
use crate::func::nesting::DEFAULT_MAX_CALL_DEPTH;
use crate::resources::HostTable;

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_id() -> u64 {
    NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed)
}

/// A collection of component instances and the host state `T` they share.
///
/// After any trap the store is poisoned ([`Store::is_poisoned`]) and refuses every further call into any of its
/// component instances, as wasmtime does: a trap can leave instances in a state the component cannot recover
/// from. Errors detected before a call starts (a wrong number of arguments, a value from another store) leave it
/// usable.
pub struct Store<T: 'static, E: WasmEngine> {
    pub(crate) inner: E::Store<StoreInner<T, E>>,
}

/// The data of the underlying `wasm_runtime_layer` store.
pub struct StoreInner<T: 'static, E: WasmEngine> {
    pub(crate) data: T,
    pub(crate) rt: RuntimeState<E>,
    /// The destructors of the store's resource types, guest and host.
    pub(crate) dtors: crate::resources::dtors::Dtors<T, E>,
    /// Async host calls in progress (their futures).
    pub(crate) host_calls: crate::concurrent::host::HostCalls<T, E>,
}

/// The backend store context the runtime works with: the store's data is a [`StoreInner`].
pub(crate) type Ctx<'b, T, E> = <E as WasmEngine>::StoreContextMut<'b, StoreInner<T, E>>;

/// Per-component-instance state the canonical ABI checks.
pub(crate) struct InstanceState {
    /// The enclosing component instance, for `entering_set`.
    pub parent: Option<u32>,
    pub may_enter: bool,
    pub may_leave: bool,
    /// The one handle table of the instance: resources, waitables, waitable sets, error-contexts.
    pub handles: HandleTable,
    /// The `backpressure` counter (`backpressure.inc`/`.dec`).
    pub backpressure: u32,
    /// Whether an async task's core code holds the instance's exclusive lock (`exclusive_thread`).
    pub exclusive: bool,
    /// Async tasks waiting for backpressure or the lock before they start (`num_waiting_to_enter`).
    pub num_waiting_to_enter: u32,
}

impl InstanceState {
    /// A fresh instance's state.
    pub(crate) fn new(parent: Option<u32>) -> Self {
        InstanceState {
            parent,
            may_enter: true,
            may_leave: true,
            handles: HandleTable::default(),
            backpressure: 0,
            exclusive: false,
            num_waiting_to_enter: 0,
        }
    }
}

/// A call in progress into a component instance (a synchronous task).
pub(crate) struct TaskState {
    /// Borrow handles lent to this task that it has not dropped yet.
    pub num_borrows: u32,
    /// The instance the task runs in.
    pub inst: u32,
    /// `context.get`/`context.set` storage.
    pub context: [u32; crate::concurrent::CONTEXT_SLOTS],
}

/// A borrow scope naming an async task rather than an entry of the synchronous task stack.
pub(crate) const ASYNC_SCOPE: u32 = 1 << 31;

/// State shared by all component instances of a store.
#[doc(hidden)]
pub struct RuntimeState<E: WasmEngine> {
    pub(crate) id: u64,
    pub(crate) instances: Vec<InstanceState>,
    pub(crate) tasks: Vec<TaskState>,
    pub(crate) poisoned: bool,
    /// The structured error of a trap raised inside a host trampoline, waiting to be picked up when the core call
    /// that led to it returns (wasmi keeps only the message of host errors).
    pub(crate) pending: Option<Error>,
    pub(crate) host: HostTable,
    /// The maximum number of live handles in the store.
    pub(crate) max_handles: usize,
    pub(crate) live_handles: usize,
    /// Guest calls in progress (see `func::nesting`), and their maximum.
    pub(crate) depth: u32,
    pub(crate) max_depth: u32,
    /// A panic caught at a host-call boundary, waiting to be resumed when the call that led to it returns to the
    /// embedder.
    pub(crate) panic: Option<Box<dyn std::any::Any + Send>>,
    /// The memories of the canonical options resolved in this store, so that a lazily lifted view
    /// ([`crate::WasmStr`], [`crate::WasmList`]) can name its memory by index and read it later.
    pub(crate) memories: Vec<E::Memory>,
    /// Tasks, waitables and streams of the async ABI.
    pub(crate) concurrent: crate::concurrent::ConcurrentState<E>,
}

impl<E: WasmEngine> RuntimeState<E> {
    fn new() -> Self {
        RuntimeState {
            id: next_id(),
            instances: Vec::new(),
            tasks: Vec::new(),
            poisoned: false,
            pending: None,
            host: HostTable::default(),
            max_handles: DEFAULT_MAX_HANDLES,
            live_handles: 0,
            depth: 0,
            max_depth: DEFAULT_MAX_CALL_DEPTH,
            panic: None,
            memories: Vec::new(),
            concurrent: Default::default(),
        }
    }

    /// The borrow count of a borrow scope: a synchronous task, or an async task ([`ASYNC_SCOPE`]).
    pub(crate) fn num_borrows_mut(&mut self, scope: u32) -> Option<&mut u32> {
        if scope & ASYNC_SCOPE != 0 {
            return self.concurrent.tasks.get_mut(scope & !ASYNC_SCOPE).ok().map(|t| &mut t.num_borrows);
        }
        self.tasks.get_mut(scope as usize).map(|t| &mut t.num_borrows)
    }

    /// Adds a memory to the registry of lifted views and returns its index.
    pub(crate) fn register_memory(&mut self, memory: &E::Memory) -> Result<u32> {
        let i = u32::try_from(self.memories.len()).map_err(|_| Error::unsupported("too many memories in a store"))?;
        self.memories.push(memory.clone());
        Ok(i)
    }

    /// Records a trap: the store refuses further entry, and the structured error waits for the core call that
    /// raised it to return.
    pub(crate) fn raise(&mut self, err: Error) -> anyhow::Error {
        self.poisoned = true;
        let msg = err.to_string();
        self.pending = Some(err);
        anyhow::Error::msg(msg)
    }

    /// Turns the error of a failed core call back into the structured error raised by a trampoline, if any.
    pub(crate) fn take_error(&mut self, err: anyhow::Error) -> Error {
        self.poisoned = true;
        match self.pending.take() {
            Some(e) => e,
            None => Error::from_core(err),
        }
    }
}

/// The default limit on live resource handles in a store, as in wasmtime.
pub const DEFAULT_MAX_HANDLES: usize = 100_000;

impl<T: 'static, E: WasmEngine> Store<T, E> {
    /// Creates a store with user data `data`.
    pub fn new(engine: &Engine<E>, data: T) -> Self {
        let backend = engine.clone().into_backend();
        Store {
            inner: <E::Store<StoreInner<T, E>> as WasmStore<_, E>>::new(
                &backend,
                StoreInner { data, rt: RuntimeState::new(), dtors: Default::default(), host_calls: Default::default() },
            ),
        }
    }

    /// The user data.
    pub fn data(&self) -> &T {
        &self.inner.data().data
    }

    /// The user data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data_mut().data
    }

    /// Consumes the store, returning the user data.
    pub fn into_data(self) -> T {
        self.inner.into_data().data
    }

    /// Whether a trap has poisoned this store (no component in it can be entered any more).
    pub fn is_poisoned(&self) -> bool {
        self.inner.data().rt.poisoned
    }

    /// Sets the maximum number of live resource handles across all instances in this store (default
    /// [`DEFAULT_MAX_HANDLES`]). Exceeding it traps.
    pub fn set_max_handles(&mut self, max: usize) {
        self.inner.data_mut().rt.max_handles = max;
    }

    /// Sets the maximum number of guest calls that may be in progress at once in this store (default
    /// [`DEFAULT_MAX_CALL_DEPTH`]): a call from the host counts one, and so does every guest call made while it
    /// runs — a host function calling back into a component, a component calling another through a composed
    /// import, `realloc`, `post-return` and resource destructors. Entering one more traps with
    /// [`Trap::CallStackExhausted`], as does entering a nested guest call with less than 512 KiB of native stack
    /// left, whatever this bound.
    pub fn set_max_call_depth(&mut self, max: u32) {
        self.inner.data_mut().rt.max_depth = max;
    }

    /// The number of resource handles the host holds in this store (handles whose every [`crate::ResourceAny`]
    /// was dropped are reclaimed first).
    pub fn host_handles(&mut self) -> usize {
        let host = &mut self.inner.data_mut().rt.host;
        host.reclaim();
        host.len()
    }

    /// The underlying `wasm_runtime_layer` backend store, e.g. to configure fuel on wasmi.
    pub fn backend_mut(&mut self) -> &mut E::Store<StoreInner<T, E>> {
        &mut self.inner
    }
}

/// A shared borrow of a store, as host functions and accessors see it.
pub struct StoreContext<'a, T: 'static, E: WasmEngine> {
    pub(crate) inner: E::StoreContext<'a, StoreInner<T, E>>,
}

/// An exclusive borrow of a store, as host functions see it.
pub struct StoreContextMut<'a, T: 'static, E: WasmEngine> {
    pub(crate) inner: E::StoreContextMut<'a, StoreInner<T, E>>,
}

impl<T: 'static, E: WasmEngine> StoreContext<'_, T, E> {
    /// The user data.
    pub fn data(&self) -> &T {
        &self.inner.data().data
    }
}

impl<'a, T: 'static, E: WasmEngine> StoreContextMut<'a, T, E> {
    /// The user data.
    pub fn data(&self) -> &T {
        &self.inner.data().data
    }

    /// The user data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data_mut().data
    }

    pub(crate) fn rt(&mut self) -> &mut RuntimeState<E> {
        &mut self.inner.data_mut().rt
    }
}

/// Types that give shared access to a store: [`Store`], [`StoreContext`], [`StoreContextMut`] and references
/// to them.
pub trait AsContext {
    /// The user data type.
    type Data: 'static;
    /// The backend.
    type Engine: WasmEngine;
    /// Borrows the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data, Self::Engine>;
}

/// Types that give exclusive access to a store.
pub trait AsContextMut: AsContext {
    /// Borrows the store mutably.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data, Self::Engine>;
}

impl<T: 'static, E: WasmEngine> AsContext for Store<T, E> {
    type Data = T;
    type Engine = E;
    fn as_context(&self) -> StoreContext<'_, T, E> {
        StoreContext { inner: self.inner.as_context() }
    }
}

impl<T: 'static, E: WasmEngine> AsContextMut for Store<T, E> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T, E> {
        StoreContextMut { inner: self.inner.as_context_mut() }
    }
}

impl<T: 'static, E: WasmEngine> AsContext for StoreContext<'_, T, E> {
    type Data = T;
    type Engine = E;
    fn as_context(&self) -> StoreContext<'_, T, E> {
        StoreContext { inner: self.inner.as_context() }
    }
}

impl<T: 'static, E: WasmEngine> AsContext for StoreContextMut<'_, T, E> {
    type Data = T;
    type Engine = E;
    fn as_context(&self) -> StoreContext<'_, T, E> {
        StoreContext { inner: self.inner.as_context() }
    }
}

impl<T: 'static, E: WasmEngine> AsContextMut for StoreContextMut<'_, T, E> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T, E> {
        StoreContextMut { inner: self.inner.as_context_mut() }
    }
}

impl<C: AsContext> AsContext for &C {
    type Data = C::Data;
    type Engine = C::Engine;
    fn as_context(&self) -> StoreContext<'_, C::Data, C::Engine> {
        (**self).as_context()
    }
}

impl<C: AsContext> AsContext for &mut C {
    type Data = C::Data;
    type Engine = C::Engine;
    fn as_context(&self) -> StoreContext<'_, C::Data, C::Engine> {
        (**self).as_context()
    }
}

impl<C: AsContextMut> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data, C::Engine> {
        (**self).as_context_mut()
    }
}

/// Checks that a handle belongs to this store.
pub(crate) fn check_store<E: WasmEngine>(rt: &RuntimeState<E>, id: u64) -> Result<()> {
    if rt.id != id {
        return Err(Error::usage("object used with a different store than the one it was created in"));
    }
    Ok(())
}

/// Refuses entry into a poisoned store.
pub(crate) fn check_not_poisoned<E: WasmEngine>(rt: &RuntimeState<E>) -> Result<()> {
    if rt.poisoned {
        return Err(Error::trap(Trap::Poisoned));
    }
    Ok(())
}

/// Types with direct access to a store's runtime state ([`Store`] and [`StoreContextMut`]), for borrowing the state
/// of host resources ([`crate::Resource::get`]).
pub trait RuntimeAccess {
    /// The backend.
    type Engine: WasmEngine;
    #[doc(hidden)]
    fn runtime(&self) -> &RuntimeState<Self::Engine>;
    #[doc(hidden)]
    fn runtime_mut(&mut self) -> &mut RuntimeState<Self::Engine>;
}

impl<T: 'static, E: WasmEngine> RuntimeAccess for Store<T, E> {
    type Engine = E;
    fn runtime(&self) -> &RuntimeState<E> {
        &self.inner.data().rt
    }
    fn runtime_mut(&mut self) -> &mut RuntimeState<E> {
        &mut self.inner.data_mut().rt
    }
}

impl<T: 'static, E: WasmEngine> RuntimeAccess for StoreContextMut<'_, T, E> {
    type Engine = E;
    fn runtime(&self) -> &RuntimeState<E> {
        &self.inner.data().rt
    }
    fn runtime_mut(&mut self) -> &mut RuntimeState<E> {
        &mut self.inner.data_mut().rt
    }
}

impl<S: RuntimeAccess> RuntimeAccess for &mut S {
    type Engine = S::Engine;
    fn runtime(&self) -> &RuntimeState<S::Engine> {
        (**self).runtime()
    }
    fn runtime_mut(&mut self) -> &mut RuntimeState<S::Engine> {
        (**self).runtime_mut()
    }
}
