//! Component functions: calling them with dynamic [`Value`]s or typed Rust values.

mod access;
pub(crate) mod call;
pub(crate) mod host;
pub(crate) mod nesting;
pub mod typed;

use std::any::Any;
use std::sync::Arc;

use wasm_runtime_layer::backend::WasmEngine;

use crate::error::{Error, Result};
use crate::store::{check_store, AsContextMut};
use crate::types::{FuncType, TypeBuilder};
use crate::values::Value;
use call::LiftedFunc;

pub use access::Access;
pub use call::HostFn;
pub use typed::TypedFunc;

/// A function exported by a component instance.
///
/// `Func` is cheap to clone; it is bound to the store its instance lives in.
#[derive(Clone)]
pub struct Func {
    pub(crate) store: u64,
    pub(crate) inner: Arc<dyn ErasedFunc>,
}

/// The engine-independent view of a lifted function.
pub(crate) trait ErasedFunc: Any + Send + Sync {
    fn ty(&self) -> FuncType;
    fn as_any(&self) -> &dyn Any;
}

impl<E: WasmEngine> ErasedFunc for LiftedFunc<E> {
    fn ty(&self) -> FuncType {
        let res = |i: u32| self.resources[i as usize].clone();
        TypeBuilder { table: &self.plan.types, resources: &res }.func(self.ty)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Func({})", self.ty())
    }
}

impl Func {
    pub(crate) fn lifted<E: WasmEngine>(store: u64, f: Arc<LiftedFunc<E>>) -> Func {
        Func { store, inner: f }
    }

    pub(crate) fn data<E: WasmEngine>(&self) -> Result<&LiftedFunc<E>> {
        self.inner
            .as_any()
            .downcast_ref::<LiftedFunc<E>>()
            .ok_or_else(|| Error::usage("function used with a store of a different engine type"))
    }

    pub(crate) fn arc<E: WasmEngine>(&self) -> Result<Arc<LiftedFunc<E>>> {
        self.data::<E>()?;
        let any: Arc<dyn Any + Send + Sync> = self.inner.clone().into_any_arc();
        any.downcast::<LiftedFunc<E>>().map_err(|_| Error::usage("function of a different engine type"))
    }

    /// The function's type.
    pub fn ty(&self) -> FuncType {
        self.inner.ty()
    }

    /// Calls the function with `params`, writing its result (if any) into `results[0]`.
    ///
    /// `params` must match the parameter types (records field by field in declaration order, variants by case
    /// name); `results` must have one slot per result. A wrong number of arguments or results is reported
    /// before anything runs and leaves the store usable; any failure after the call has started — a trap, or a
    /// value of the wrong type found while lowering — poisons the store, as in wasmtime.
    ///
    /// Calls nest: a host function may call back into a component of its store, and components call each other
    /// through their imports. Once the store's bound on nested guest calls is reached
    /// ([`crate::Store::set_max_call_depth`]), or the native stack is nearly used up, entering one more traps
    /// with [`crate::Trap::CallStackExhausted`] instead of overflowing the stack.
    ///
    /// # Panics
    ///
    /// If a host function (or a host resource destructor) panics while this call runs, the guest is unwound as by
    /// a trap, the store is poisoned, and the panic is resumed here, with its original payload, once the call is
    /// back in the caller's frames: `std::panic::catch_unwind` around this call catches it. (A panic must never
    /// unwind through the core engine's frames: on wasmi it would abort the process.)
    pub fn call<S: AsContextMut>(&self, mut store: S, params: &[Value], results: &mut [Value]) -> Result<()> {
        let f = self.data::<S::Engine>()?;
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), self.store)?;
        check_arity(f, params, results)?;
        let r = call::call_lifted(&mut ctx.inner, f, None, params, None, false, |_, result, _| {
            if let (Some(v), Some(slot)) = (result, results.first_mut()) {
                *slot = v;
            }
            Ok(())
        });
        nesting::resume_panic(ctx.rt());
        r
    }

    /// Calls the function as a future: [`Func::call`] for an executor.
    ///
    /// For an `async` function, the future drives the store's event loop: it runs guest
    /// tasks while any can run, polls the async host functions' futures ([`crate::LinkerInstance::func_new_async`])
    /// with this future's waker, and returns `Poll::Pending` when only those can make progress. It is
    /// executor-agnostic: nothing in it needs a particular runtime. Guest code runs synchronously inside `poll`;
    /// a guest that blocks synchronously (a synchronous lower of an async host function, a synchronous
    /// `waitable-set.wait`, …) blocks the polling thread until the host future it waits for is ready, as in
    /// [`Func::call`].
    ///
    /// A function that is not `async` is called synchronously, as by [`Func::call`]. Errors are those of
    /// [`Func::call`]. Dropping the future before it is ready (a timeout, a `select!`) abandons the call: a task
    /// that had not started yet (it waited for backpressure) is forgotten; one that started runs on in the
    /// store as the spec has it, in later calls' event loops, and its result is discarded when it exits.
    pub async fn call_async<S: AsContextMut>(
        &self,
        mut store: S,
        params: &[Value],
        results: &mut [Value],
    ) -> Result<()> {
        let f = self.data::<S::Engine>()?;
        if !f.async_ty {
            return self.call(store, params, results);
        }
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), self.store)?;
        check_arity(f, params, results)?;
        let r = crate::concurrent::task::call_from_host_async::<_, _, _, Value>(&mut ctx.inner, f, params).await;
        nesting::resume_panic(ctx.rt());
        if let (Some(v), Some(slot)) = (r?, results.first_mut()) {
            *slot = v;
        }
        Ok(())
    }

    /// A typed view of this function, checked once against `P` and `R`.
    pub fn typed<P: typed::ComponentParams, R: typed::ComponentResults>(&self) -> Result<TypedFunc<P, R>> {
        TypedFunc::new(self.clone())
    }
}

/// Checks the number of arguments and result slots of a call, before anything runs.
fn check_arity<E: WasmEngine>(f: &LiftedFunc<E>, params: &[Value], results: &[Value]) -> Result<()> {
    let def = &f.plan.types.func(f.ty).def;
    if params.len() != def.params.len() {
        return Err(Error::usage(format!("expected {} argument(s), got {}", def.params.len(), params.len())));
    }
    let n_results = usize::from(def.result.is_some());
    if results.len() != n_results {
        return Err(Error::usage(format!("expected {n_results} result slot(s), got {}", results.len())));
    }
    Ok(())
}

/// Helper to turn `Arc<dyn ErasedFunc>` into `Arc<dyn Any>`.
trait IntoAnyArc {
    fn into_any_arc(self) -> Arc<dyn Any + Send + Sync>;
}

impl IntoAnyArc for Arc<dyn ErasedFunc> {
    fn into_any_arc(self) -> Arc<dyn Any + Send + Sync> {
        self
    }
}
