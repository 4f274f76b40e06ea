//! Guest calls nested inside host calls: the depth bound, the stack check, and panics in host code.
//!
//! Every time the runtime enters core wasm — a lifted export, `realloc`, `post-return`, a resource destructor, a
//! core module's start function — it goes through [`call_core`] (or [`enter`]), and every time the core engine
//! calls back into the runtime — a `canon lower` trampoline, a `resource.*` built-in — it goes through
//! [`host_call`]. A guest call made from inside a host call (a host function calling [`crate::Func::call`], a
//! component calling another through a composition trampoline, a destructor dropping more resources, a
//! component re-entering its own lifted export through a lowered one, which the spec allows because the
//! `entering_set` of such a call is empty) therefore nests Rust frames of the runtime and of the backend
//! between two guest frames, and nothing in the core engine bounds those: wasmi's own recursion limit counts
//! wasm frames on its heap stack, not the native stack a host call consumes.
//!
//! # The depth bound
//!
//! [`call_core`] counts the guest calls in progress in the store (`RuntimeState::depth`) and traps with
//! [`Trap::CallStackExhausted`] instead of entering one more than the store's maximum
//! ([`crate::Store::set_max_call_depth`], default [`DEFAULT_MAX_CALL_DEPTH`]). The count is deterministic: the
//! same component traps at the same depth on every backend and in every build.
//!
//! What one nesting level costs in native stack was measured on x86-64 Linux, as the distance between two
//! consecutive guest entries, for the two ways of nesting: a component re-entering its own lifted export
//! through a lowered one ("self"), and a host function instantiating and calling a component whose import is
//! that host function ("host"):
//!
//! | build                                       | wasmi 2.0 self / host | wasmtime 48 self / host |
//! |---------------------------------------------|-----------------------|-------------------------|
//! | `dev` (this workspace: opt 1, deps opt 2/3) | 6.0 / 8.0 KiB         | 5.0 / 6.9 KiB           |
//! | `release`                                   | 5.4 / 7.2 KiB         | 4.5 / 6.3 KiB           |
//! | opt-level 0 (runtime, wasmi and the caller) | 18.1 / 19.8 KiB       | 16.2 / 17.8 KiB         |
//!
//! So the default bound of 100 levels needs at most ≈ 800 KiB of native stack in a `dev` or `release` build:
//! with the stack check's reserve below, it fits the 2 MiB of a thread spawned by Rust (what `cargo test` runs
//! tests on), and the 8 MiB of a main thread easily. Legitimate compositions nest far less: a level is one
//! component-to-component call in a chain, or one host callback into a guest. (wasmtime's core engine also
//! stops wasm from using more than 512 KiB of stack below its outermost entry, host frames in between
//! included: with these frame sizes it traps with its own "call stack exhausted" after 75 to 116 levels in
//! `dev` and `release` builds, 30 at opt-level 0.)
//!
//! # The stack check
//!
//! Frame sizes depend on the compiler, the optimisation level and the backend, and the embedder may call in
//! from a thread with little stack: at opt-level 0, 100 levels take ≈ 2 MiB. So [`call_core`] also refuses a
//! *nested* guest call (one entered while another is in progress) when less than [`MIN_STACK`] of native
//! stack remains, as reported by [`stacker::remaining_stack`] — the rust-lang crate rustc uses for the same
//! purpose, which reads the stack pointer and (once per thread) the thread's stack bounds from the OS in its own
//! code, so this crate keeps `forbid(unsafe_code)`; a check reads a thread-local and allocates nothing (≈ 50
//! instructions, measured with callgrind). [`MIN_STACK`] covers what can run before the next check: one level's
//! frames (≈ 20 KiB at opt-level 0), lifting or lowering a value of the deepest type wasmparser accepts (100
//! levels of nesting: 64 KiB in `dev` and `release` builds, 330 KiB at opt-level 0), and the core engine's own
//! frames; it equals wasmtime's default `max_wasm_stack`. The outermost call is not checked, so the hot path of
//! a call from the embedder pays nothing for it and an embedder whose thread has less than [`MIN_STACK`] can
//! still call guests that do not nest: like any Rust call, it needs the stack it uses. Where the crate cannot
//! tell the stack bounds, the depth bound alone applies.
//!
//! # Panics in host code
//!
//! A host function, a host destructor or a `Drop` of host data can panic while a guest is running. The panic
//! must not unwind through the core engine's frames. On x86-64, wasmi 2.0's instruction handlers (its
//! `execution_handler!` functions and the tail-call dispatch's `Handler` type) are `extern "sysv64" fn`s, an
//! ABI that cannot unwind: a panic reaching one aborts the process ("panic in a function that cannot unwind")
//! before any `catch_unwind` of the embedder sees it. wasmtime catches a host panic itself and resumes it at its
//! own entry, which then unwinds through the runtime's frames between that entry and the embedder, skipping
//! their cleanup: the store stayed unpoisoned with its instances marked as entered.
//!
//! So [`host_call`] catches the panic at the host-call boundary, parks the payload in the store, and turns it
//! into a trap: the guest unwinds, the runtime's frames clean up, and the store is poisoned as by any trap.
//! [`resume_panic`] re-raises the original payload once the call is back in the embedder's frames: at the end
//! of [`crate::Func::call`], [`crate::TypedFunc::call`], instantiation and [`crate::ResourceAny::resource_drop`].
//! As in wasmtime, a panic under a nested call resumes where that nested call returns, inside the outer host
//! function, so it unwinds every Rust frame between the panic and the embedder's outermost call.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use wasm_runtime_layer::backend::{AsContextMut as _, Val, WasmEngine, WasmFunc, WasmStoreContextMut};

use crate::error::{trap, Error, Result, Trap};
use crate::store::Ctx;
use crate::store::{RuntimeState, StoreInner};

/// The default maximum number of guest calls in progress in one store ([`crate::Store::set_max_call_depth`]).
///
/// One nesting level — a host function calling back into a component, or a component calling another (or
/// itself) through an import — takes 4.5 to 8 KiB of native stack in `dev` and `release` builds on x86-64, with
/// wasmi or wasmtime, and 16 to 20 KiB when everything is built at opt-level 0. 100 levels therefore fit, with
/// room to spare, on a thread with Rust's default 2 MiB stack, far beyond what legitimate compositions nest;
/// where frames are larger or the thread smaller, the runtime's stack check stops nesting before the stack
/// overflows (a nested call needs 512 KiB of stack left).
pub const DEFAULT_MAX_CALL_DEPTH: u32 = 100;

/// The native stack that must remain for the runtime to enter a guest call nested in another.
pub(crate) const MIN_STACK: usize = 512 * 1024;

impl<E: WasmEngine> RuntimeState<E> {
    /// Counts one more guest call in progress, or traps if the depth bound or the stack check refuses it.
    fn enter_guest(&mut self) -> Result<()> {
        let nested_without_stack = self.depth > 0 && stacker::remaining_stack().is_some_and(|left| left < MIN_STACK);
        if self.depth >= self.max_depth || nested_without_stack {
            self.poisoned = true;
            return trap(Trap::CallStackExhausted);
        }
        self.depth += 1;
        Ok(())
    }
}

/// Runs `run`, which enters core wasm, as one nesting level; a failure is turned back into the structured error
/// raised by a trampoline, if any.
pub(crate) fn enter<T: 'static, E: WasmEngine, R>(
    ctx: &mut Ctx<'_, T, E>,
    run: impl FnOnce(&mut Ctx<'_, T, E>) -> anyhow::Result<R>,
) -> Result<R> {
    ctx.data_mut().rt.enter_guest()?;
    let r = run(ctx);
    let rt = &mut ctx.data_mut().rt;
    rt.depth -= 1;
    r.map_err(|e| rt.take_error(e))
}

/// Calls a core function (a lifted export, `realloc`, `post-return`, a destructor) as one nesting level.
pub(crate) fn call_core<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    f: &E::Func,
    args: &[Val<E>],
    results: &mut [Val<E>],
) -> Result<()> {
    enter::<T, E, ()>(ctx, |ctx| f.call::<StoreInner<T, E>>(ctx.as_context_mut(), args, results))
}

/// The boundary of every function the runtime gives the core engine: runs `body` and hands its failure to the
/// engine as a trap. A panic in `body` is caught here, before it reaches the engine's frames, and parked in the
/// store until [`resume_panic`] re-raises it.
pub(crate) fn host_call<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    body: impl FnOnce(&mut Ctx<'_, T, E>) -> Result<()>,
) -> anyhow::Result<()> {
    let outcome = catch_unwind(AssertUnwindSafe(|| body(ctx)));
    let rt = &mut ctx.data_mut().rt;
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(rt.raise(e)),
        Err(payload) => {
            rt.panic = Some(payload);
            Err(rt.raise(Error::trap(Trap::Host("host code panicked".into()))))
        }
    }
}

/// Re-raises a panic that [`host_call`] caught during the call that just returned to the embedder.
pub(crate) fn resume_panic<E: WasmEngine>(rt: &mut RuntimeState<E>) {
    if let Some(payload) = rt.panic.take() {
        resume_unwind(payload);
    }
}
